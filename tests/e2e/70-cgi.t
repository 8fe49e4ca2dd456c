#!/usr/bin/env bash
# 70-cgi.t — dlmon-api.cgi behind a real lighttpd (mod_cgi), queried with
# curl: status, history (filter, limit cap), DELETE refused then allowed,
# 400 / 404 / 405 / 503, headers.  Bodies are compared with the golden files
# in tests/e2e/golden/cgi-*.json, pretty-printed keeping the field order.
#
# Clock: the CGI has no --now (and no test-only clock hook), so the rows are
# written relative to the real time, and the golden files hold placeholders
# (@T-1h@, @W@ ...) that are replaced by the values this run wrote.

source "$(dirname "$0")/lib.sh"

CGI="$TOP/bin/dlmon-api.cgi"
GOLDEN="$TOP/tests/e2e/golden"
[ -x "$CGI" ] || skip_all "bin/dlmon-api.cgi is not built (run make)"
command -v lighttpd >/dev/null || skip_all "lighttpd not installed (apt-get install lighttpd)"
command -v curl >/dev/null || skip_all "curl not installed"
command -v sqlite3 >/dev/null || skip_all "sqlite3 command not found"
command -v python3 >/dev/null || skip_all "python3 not found"

HTTPD_PID=
stop_httpd() {
	if [ -n "$HTTPD_PID" ]; then
		kill "$HTTPD_PID" 2>/dev/null
		wait "$HTTPD_PID" 2>/dev/null
		HTTPD_PID=
	fi
}
trap 'stop_httpd; _lib_cleanup' EXIT

# --- the database: the seed's DDL and known rows, relative to now ----------

# ts N h|d: the stored form of N hours/days before now
NOW_S=$(date +%s)
ts() {
	local unit=3600
	[ "$2" = d ] && unit=86400
	date -d "@$((NOW_S - $1 * unit))" +%Y-%m-%dT%H:%M:%S
}
# subst: replace the golden files' placeholders with this run's values
subst() {
	sed -e "s|@T-1h@|$(ts 1 h)|g" -e "s|@T-2h@|$(ts 2 h)|g" \
	    -e "s|@T-3h@|$(ts 3 h)|g" -e "s|@T-4h@|$(ts 4 h)|g" \
	    -e "s|@T-5h@|$(ts 5 h)|g" -e "s|@T-30h@|$(ts 30 h)|g" \
	    -e "s|@T-10d@|$(ts 10 d)|g" -e "s|@T-40d@|$(ts 40 d)|g" \
	    -e "s|@W@|$W|g"
}

make_db() {
	local db=$1 i
	rm -f "$db"
	sqlite3 "$db" "$SEED_DDL"
	{
		echo "BEGIN;"
		# fastdl: the seed's example — 10 attempts in 24 h, 8 ok, 2 failed, 45 files
		echo "INSERT INTO download_monitor (downloader, username, timestamp, success, file_count, error_message, alert_sent) VALUES"
		echo " ('fastdl', 'evalongoria', '$(ts 1 h)', 0, 0, 'Cloudflare challenge', 1),"
		echo " ('fastdl', 'evalongoria', '$(ts 2 h)', 0, 0, 'Cloudflare \"challenge\" <b>', 0),"
		for i in 3 4 5 6 7 8 9; do
			echo " ('fastdl', 'evalongoria', '$(ts "$i" h)', 1, 5, NULL, 0),"
		done
		# a row the original application wrote with fractions of a second
		echo " ('fastdl', NULL, '$(ts 10 h).123456', 1, 10, NULL, 0),"
		# older than 24 h: all-time fields only
		echo " ('fastdl', 'evalongoria', '$(ts 30 h)', 1, 1, NULL, 0),"
		echo " ('toolzu', 'bob', '$(ts 3 h)', 0, 0, 'Rate limited', 0),"
		echo " ('imginn', 'old', '$(ts 40 d)', 0, 0, 'ancient', 1),"
		echo " ('imginn', 'old', '$(ts 10 d)', 1, 2, NULL, 0);"
		echo "COMMIT;"
	} | sqlite3 "$db"
}

# config ALLOW_DELETE [DB]: the configuration the CGI reads (DLMON_CONFIG)
config() {
	CFG_PO_ENABLED=false CFG_DB=${2:-$DB} \
	CFG_EXTRA=$'\n[api]\nallow_delete = '"$1" write_config "$CONF"
}

make_db "$DB"
config false

# --- lighttpd -----------------------------------------------------------------

mkdir -p "$W/www"
CGI_RUN=$CGI
if [ "${DLMON_VALGRIND:-}" = 1 ]; then
	# mod_cgi runs a program: a wrapper puts it under memcheck, logs per process
	CGI_RUN="$W/api-valgrind.cgi"
	printf '#!/bin/sh\nexec valgrind -q --leak-check=full --errors-for-leak-kinds=definite --log-file=%s/vg.%%p %s "$@"\n' \
		"$W" "$CGI" >"$CGI_RUN"
	chmod 755 "$CGI_RUN"
fi

start_httpd() {
	local i port
	for i in 1 2 3 4 5; do
		port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
		sed -e "s|@DIR@|$W|g" -e "s|@PORT@|$port|g" -e "s|@CGI@|$CGI_RUN|g" \
		    -e "s|@CONFIG@|$CONF|g" "$TOP/tests/helpers/lighttpd.conf.in" >"$W/lighttpd.conf"
		lighttpd -D -f "$W/lighttpd.conf" >"$W/lighttpd.out" 2>&1 &
		HTTPD_PID=$!
		for _ in $(seq 1 50); do
			if curl -s -o /dev/null "http://127.0.0.1:$port/"; then
				BASE="http://127.0.0.1:$port"
				return 0
			fi
			kill -0 "$HTTPD_PID" 2>/dev/null || break
			sleep 0.1
		done
		stop_httpd      # the port was taken meanwhile: another one
	done
	echo "Bail out! lighttpd did not start: $(cat "$W/lighttpd.out" "$W/lighttpd-error.log" 2>/dev/null)"
	exit 1
}
start_httpd

# req METHOD PATH [CURL ARGS...]: sets CODE, HDR (headers), BODY
req() {
	local m=$1 p=$2
	shift 2
	CODE=$(curl -s -X "$m" -D "$W/hdr" -o "$W/body" -w '%{http_code}' "$@" "$BASE$p")
	HDR=$(tr -d '\r' <"$W/hdr")
	BODY=$(cat "$W/body")
}

# pretty: JSON on stdin, indented, field order and number forms kept
pretty() { python3 -c 'import json, sys; print(json.dumps(json.load(sys.stdin), indent=2, ensure_ascii=False))'; }

# golden NAME DESC: the last body against tests/e2e/golden/NAME.json
golden() {
	local got want
	got=$(printf '%s' "$BODY" | pretty 2>&1)
	want=$(subst <"$GOLDEN/$1.json" | pretty 2>&1)
	if [ "$got" == "$want" ]; then
		_t_result 0 "$2"
	else
		_t_result 1 "$2"
		diag "$(diff -u <(printf '%s\n' "$want") <(printf '%s\n' "$got"))"
	fi
}

header() { printf '%s\n' "$HDR" | grep -i "^$1:" | head -n 1 | sed 's/^[^:]*: *//'; }

# --- status -------------------------------------------------------------------

req GET '/api/monitoring/status?hours=24'
is "$CODE" 200 "status: 200"
is "$(header Content-Type)" application/json "status: Content-Type application/json"
is "$(header Cache-Control)" no-store "status: Cache-Control no-store"
golden cgi-status-24 "status?hours=24: the seed's fields, order and types"
contains "$BODY" '"success_rate":80.0' "status: success_rate with one decimal, as SQLite wrote it"
contains "$BODY" '"last_success":null' "status: absent last_success is null"

req GET '/api/monitoring/status'
golden cgi-status-24 "status without hours: 24 by default"

req GET '/api/monitoring/status?hours=1000'
golden cgi-status-1000 "status?hours=1000: older downloaders appear"

# --- history --------------------------------------------------------------------

req GET '/api/monitoring/history?downloader=fastdl&limit=3'
is "$CODE" 200 "history: 200"
golden cgi-history-fastdl-3 "history?downloader=fastdl&limit=3: newest first, booleans, escapes"

req GET '/api/monitoring/history?downloader=TOOLZU'
golden cgi-history-toolzu "history: downloader is lower-cased"

req GET '/api/monitoring/history?downloader=fastdl&limit=100'
is "$(printf '%s' "$BODY" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["history"]))')" 11 \
	"history?downloader=fastdl&limit=100: all 11 fastdl rows"
contains "$BODY" "\"timestamp\":\"$(ts 10 h)\"," "history: fractions of a second cut off"

req GET '/api/monitoring/history?limit=99999999'
is "$CODE" 200 "history: a limit beyond the cap is capped, not refused"
is "$(printf '%s' "$BODY" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["history"]))')" 14 \
	"history: all 14 rows"

req GET '/api/monitoring/%68istory?limit=1'
is "$CODE" 200 "percent-encoded path: routed"

# --- limit capping on a big table -----------------------------------------------

BIG="$W/big.sqlite"
sqlite3 "$BIG" "$SEED_DDL
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 10050)
INSERT INTO download_monitor (downloader, username, timestamp, success, file_count)
SELECT 'fastdl', 'u' || i, printf('2025-01-01T00:00:%02d', i % 60), 1, 1 FROM n;"
config false "$BIG"
req GET '/api/monitoring/history?limit=20000'
is "$(printf '%s' "$BODY" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["history"]))')" 10000 \
	"history: limit capped at 10000 rows"
config false

# --- bad requests ----------------------------------------------------------------

req GET '/api/monitoring/status?hours=abc'
is "$CODE" 400 "status?hours=abc: 400"
golden cgi-400-hours "400 body: the error names the parameter"

for q in 'hours=0' 'hours=-1' 'hours=87601' 'hours=1e3' 'hours=%205' 'hours=5abc' \
	'hours=99999999999999999999' 'hours=' 'hours=5&hours=6' 'hours=%zz'; do
	req GET "/api/monitoring/status?$q"
	is "$CODE" 400 "status?$q: 400"
	contains "$BODY" '"success":false' "status?$q: the API's own error body"
done
# lighttpd refuses an encoded NUL itself (the unit test covers the program)
req GET '/api/monitoring/status?hours=5%00'
is "$CODE" 400 "status?hours=5%00: 400"

for q in 'limit=0' 'limit=-5' 'limit=1.5' 'downloader=' 'downloader=a%22b' \
	'downloader=%3Cscript%3E' 'downloader=fast%2Fdl' 'downloader=a&downloader=b'; do
	req GET "/api/monitoring/history?$q"
	is "$CODE" 400 "history?$q: 400"
done

req GET '/api/monitoring/history' --get --data-urlencode "downloader='; DROP TABLE download_monitor; --"
is "$CODE" 400 "history: SQL in downloader is a 400"
golden cgi-400-downloader "400 body names the parameter"
is "$(sql 'SELECT count(*) FROM download_monitor')" 14 "the table is still there, untouched"

req GET "/api/monitoring/history?downloader=$(head -c 70000 /dev/zero | tr '\0' a)"
like "$CODE" '^(400|414|431)$' "a 70 KB parameter is refused"

# --- 404, 405 ----------------------------------------------------------------------

req GET '/api/monitoring/nope'
is "$CODE" 404 "unknown path: 404"
golden cgi-404 "404 body"
req GET '/api'
is "$CODE" 404 "/api alone: 404"

req POST '/api/monitoring/status' -d ''
is "$CODE" 405 "POST status: 405"
is "$(header Allow)" GET "POST status: Allow: GET"
golden cgi-405-status "405 body"

req PUT '/api/monitoring/history' -d ''
is "$CODE" 405 "PUT history: 405"
is "$(header Allow)" "GET, DELETE" "PUT history: Allow: GET, DELETE"

req DELETE '/api/monitoring/status?days=1'
is "$CODE" 405 "DELETE status: 405"

# --- DELETE -------------------------------------------------------------------------

req DELETE '/api/monitoring/history?days=30'
is "$CODE" 403 "DELETE while allow_delete = false: 403"
golden cgi-403 "403 body"
is "$(sql 'SELECT count(*) FROM download_monitor')" 14 "nothing deleted"

config true
req DELETE '/api/monitoring/history?days=abc'
is "$CODE" 400 "DELETE days=abc: 400"

req DELETE '/api/monitoring/history?days=30'
is "$CODE" 200 "DELETE with allow_delete = true: 200"
golden cgi-clear-30 "clear body {success, deleted, days}"
is "$(sql "SELECT count(*) FROM download_monitor")" 13 "the 40-day-old row is gone"
is "$(sql "SELECT count(*) FROM download_monitor WHERE timestamp < '$(ts 30 d)'")" 0 \
	"no row older than 30 days left"

req DELETE '/api/monitoring/history'
is "$CODE" 200 "DELETE without days: 30 by default"
contains "$BODY" '"deleted":0,"days":30' "nothing more to delete"

# --- 503: database trouble, configuration trouble ----------------------------------

config true "$W/missing.sqlite"
req GET '/api/monitoring/status'
is "$CODE" 503 "missing database: 503"
golden cgi-503-missing "503 body names the database"
req DELETE '/api/monitoring/history?days=30'
is "$CODE" 503 "DELETE on a missing database: 503"
ok "the missing database was not created" test ! -e "$W/missing.sqlite"

head -c 8192 /dev/urandom >"$W/corrupt.sqlite"
config false "$W/corrupt.sqlite"
req GET '/api/monitoring/history'
is "$CODE" 503 "corrupt database: 503"
contains "$BODY" '"success":false' "corrupt database: error body"

printf 'not a configuration\n' >"$CONF"
req GET '/api/monitoring/status'
is "$CODE" 503 "bad configuration: 503"
lacks "$BODY" "$CONF" "the body does not name the configuration file"
contains "$(cat "$W/lighttpd-cgi.log")" "dlmon-api.cgi: $CONF:1: " "the error log says what is wrong, and where"

# --- memcheck (DLMON_VALGRIND=1) ----------------------------------------------------

if [ "${DLMON_VALGRIND:-}" = 1 ]; then
	stop_httpd
	isnt "$(ls "$W" | grep -c '^vg\.')" 0 "valgrind: the requests ran under memcheck"
	is "$(cat "$W"/vg.* 2>/dev/null)" "" "valgrind: no errors and no definite leaks in any request"
fi

done_testing
