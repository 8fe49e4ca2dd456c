#!/bin/bash
# The Pushover endpoint over TLS: a server with a self-signed certificate is
# refused (not delivered, the alert stays pending, the error names the TLS
# failure); the same server is accepted with ca_file (so the refusal is about
# the certificate, not the server); a server that accepts the connection and
# never answers ends the run within timeout_seconds plus a little.  No
# secret appears in any output or database row.
. "$(dirname "$0")/lib.sh"
need_scan
command -v openssl >/dev/null || skip_all "openssl not found"

# tls_server MODE: serves HTTPS (MODE=answer: 200 like Pushover) or accepts
# TCP connections and never says a word (MODE=silent).  Sets TLS_PID and
# TLS_PORT; each accepted connection appends a line to $W/tls.log.
tls_server() {
	rm -f "$W/tls.port"
	python3 - "$1" "$W" <<'PY' {_TAP_FD}>&- >"$W/tls.out" 2>&1 &
import os, socket, ssl, sys, threading, time
mode, w = sys.argv[1], sys.argv[2]
srv = socket.socket()
srv.bind(("127.0.0.1", 0))
srv.listen(8)
with open(os.path.join(w, "tls.port.tmp"), "w") as fh:
    fh.write(str(srv.getsockname()[1]))
os.rename(os.path.join(w, "tls.port.tmp"), os.path.join(w, "tls.port"))
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(os.path.join(w, "cert.pem"), os.path.join(w, "key.pem"))
def log(what):
    with open(os.path.join(w, "tls.log"), "a") as fh:
        fh.write(what + "\n")
def serve(conn):
    if mode == "silent":
        log("connected")
        time.sleep(120)
        return
    try:
        s = ctx.wrap_socket(conn, server_side=True)
    except (ssl.SSLError, OSError) as e:
        log("handshake failed: %s" % e)
        return
    data = b""
    while b"\r\n\r\n" not in data:
        data += s.recv(4096)
    head, _, body = data.partition(b"\r\n\r\n")
    n = [int(l.split(b":")[1]) for l in head.split(b"\r\n") if l.lower().startswith(b"content-length")]
    while n and len(body) < n[0]:
        body += s.recv(4096)
    log("delivered")
    msg = b'{"status":1,"request":"0f8d3c4e-8f2a-4d0a-9a43-2c1c9b6d5e7f"}'
    s.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\nConnection: close\r\n\r\n" % len(msg) + msg)
    s.close()
while True:
    c, _ = srv.accept()
    threading.Thread(target=serve, args=(c,), daemon=True).start()
PY
	TLS_PID=$!
	for _ in $(seq 1 100); do [ -s "$W/tls.port" ] && break; sleep 0.05; done
	TLS_PORT=$(cat "$W/tls.port")
	: >>"$W/tls.log"
}
stop_tls() { kill "$TLS_PID" 2>/dev/null; wait "$TLS_PID" 2>/dev/null; TLS_PID=; }
trap 'stop_tls; _lib_cleanup' EXIT

no_secrets() { # TEXT WHAT
	lacks "$1" "$PO_TOKEN" "$2: no token"
	lacks "$1" "$PO_USER" "$2: no user key"
}
alert_state() { sql "SELECT state FROM dlmon_alerts WHERE downloader = 'fastdl' AND kind = 'failing'"; }

openssl req -x509 -newkey rsa:2048 -nodes -keyout "$W/key.pem" -out "$W/cert.pem" -days 2 \
	-subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 >/dev/null 2>&1
ok "a self-signed certificate for 127.0.0.1" test -s "$W/cert.pem"
head -n 6 "$DATA/scenario2.log" >"$LOGDIR/media.log"   # a failing streak at 12:00

# --- self-signed: refused ---
tls_server answer
API_URL="https://127.0.0.1:$TLS_PORT/1/messages.json" CFG_TIMEOUT=5 write_config
run_scan --now '2025-11-19 12:00:30'
is "$SCAN_RC" 1 "self-signed: exit 1 (not delivered)" || scan_diag
like "$SCAN_ERR" '[Pp]ushover' "self-signed: the error names pushover"
like "$SCAN_ERR" '(SSL|TLS|certificate)' "self-signed: the error names the TLS failure"
is "$(alert_state)" pending "self-signed: the alert stays pending"
is "$(grep -c delivered "$W/tls.log")" 0 "self-signed: nothing was delivered"
like "$(cat "$W/tls.log")" 'handshake failed' "self-signed: the server saw the handshake fail"
no_secrets "$SCAN_OUT$SCAN_ERR" "self-signed: output"
no_secrets "$(sqlite3 "$DB" .dump)" "self-signed: database"

# --- the same server with ca_file: delivered (the pending alert is retried) ---
API_URL="https://127.0.0.1:$TLS_PORT/1/messages.json" CFG_TIMEOUT=5 \
	CFG_PO_EXTRA="ca_file = $W/cert.pem" write_config
run_scan --now '2025-11-19 12:15:30'
is "$SCAN_RC" 0 "ca_file: exit 0" || scan_diag
is "$(grep -c delivered "$W/tls.log")" 1 "ca_file: delivered once"
is "$(alert_state)" sent "ca_file: the alert is sent"
stop_tls

# --- a server that never answers: bounded by timeout_seconds ---
rm -f "$DB" "$DB-wal" "$DB-shm"
: >"$W/tls.log"
tls_server silent
API_URL="https://127.0.0.1:$TLS_PORT/1/messages.json" CFG_TIMEOUT=3 write_config
run_scan --now '2025-11-19 12:00:30'
is "$SCAN_RC" 1 "silent: exit 1 (not delivered)" || scan_diag
is "$(grep -c connected "$W/tls.log")" 1 "silent: one connection made"
limit=6; [ "${DLMON_VALGRIND:-}" = 1 ] && limit=20
ok "silent: the run ends within timeout_seconds (3) plus a little (took $SCAN_SECS s, limit $limit)" \
	awk -v s="$SCAN_SECS" -v l="$limit" 'BEGIN { exit !(s >= 2.9 && s < l) }'
like "$SCAN_ERR" '[Tt]ime(d)? ?out|timeout_seconds' "silent: the error says it timed out"
is "$(alert_state)" pending "silent: the alert stays pending"
no_secrets "$SCAN_OUT$SCAN_ERR" "silent: output"
no_secrets "$(sqlite3 "$DB" .dump)" "silent: database"
stop_tls

done_testing
