#!/bin/bash
# Delivery failures: 5xx, 429 and a timeout leave the alert pending and the
# next run retries it (exactly one successful push); a 4xx holds the alert
# until the notifier's settings change.  No secret is ever printed or stored.
. "$(dirname "$0")/lib.sh"
need_scan

start_receiver
head -n 6 "$DATA/scenario2.log" >"$LOGDIR/media.log"   # success 06:00, failures 09:00 12:00

no_secrets() { # TEXT WHAT
	lacks "$1" "$PO_TOKEN" "$2: no token"
	lacks "$1" "$PO_USER" "$2: no user key"
}

alert_state() { sql "SELECT state FROM dlmon_alerts WHERE downloader = 'fastdl' AND kind = 'failing'"; }
flagged() { sql "SELECT ifnull(sum(alert_sent), 0) FROM download_monitor"; }

# retry_case MODE STDERR-ERE: a delivery that fails with MODE, then succeeds.
retry_case() {
	local mode=$1 ere=$2 base
	mkdir -p "$W/$mode"
	DB="$W/$mode/db.sqlite"
	CFG_DB=$DB CFG_TIMEOUT=2 write_config
	recv_mode "$mode"
	base=$(recv_count)
	run_scan --now '2025-11-19 12:00:30'
	is "$SCAN_RC" 1 "$mode: run exits 1 (alert not delivered)" || scan_diag
	like "$SCAN_ERR" '[Pp]ushover' "$mode: stderr names pushover"
	like "$SCAN_ERR" "$ere" "$mode: stderr gives the cause"
	no_secrets "$SCAN_OUT$SCAN_ERR" "$mode: output"
	is "$(( $(recv_count) - base ))" 1 "$mode: one attempt made"
	is "$(alert_state)" pending "$mode: alert stays pending"
	is "$(flagged)" 0 "$mode: no row marked alert_sent"
	if [ "$mode" = hang ]; then
		# memcheck on a loaded machine adds seconds of its own
		local limit=10
		[ "${DLMON_VALGRIND:-}" = 1 ] && limit=40
		ok "hang: the run ends within $limit s (took $SCAN_SECS s)" awk -v s="$SCAN_SECS" -v l="$limit" 'BEGIN { exit !(s < l) }'
	fi

	recv_mode 200
	base=$(recv_count)
	run_scan --now '2025-11-19 12:15:30'
	is "$SCAN_RC" 0 "$mode: next run exits 0" || scan_diag
	is "$(( $(recv_count) - base ))" 1 "$mode: the next run delivers exactly once"
	is "$(recv_get -1 'r["form"].get("title")')" "🚨 FastDL Failing" "$mode: the retried alert"
	is "$(alert_state)" sent "$mode: state sent"
	is "$(flagged)" 2 "$mode: both failures marked alert_sent"
	like "$(summary_line)" '1 alert sent \(fastdl\)' "$mode: summary of the retry"

	base=$(recv_count)
	run_scan --now '2025-11-19 12:30:30'
	is "$SCAN_RC" 0 "$mode: a further run exits 0"
	is "$(( $(recv_count) - base ))" 0 "$mode: a further run sends nothing"
	no_secrets "$(sqlite3 "$DB" .dump)" "$mode: database"
}

retry_case 500 '500'
retry_case 429 '429'
retry_case hang '[Tt]ime(d)? ?out'

# 400: held until the notifier's settings change.
mkdir -p "$W/400"
DB="$W/400/db.sqlite"
CFG_DB=$DB write_config
recv_mode 400
base=$(recv_count)
run_scan --now '2025-11-19 12:00:30'
is "$SCAN_RC" 1 "400: run exits 1" || scan_diag
contains "$SCAN_ERR" "user identifier is not a valid" "400: Pushover's error is reported"
no_secrets "$SCAN_OUT$SCAN_ERR" "400: output"
is "$(( $(recv_count) - base ))" 1 "400: one attempt"
is "$(alert_state)" held "400: alert held"
is "$(flagged)" 0 "400: no row marked alert_sent"

recv_mode 200
base=$(recv_count)
run_scan --now '2025-11-19 12:15:30'
ok "400: next run with unchanged settings ends normally (exit $SCAN_RC)" test "$SCAN_RC" = 0 -o "$SCAN_RC" = 1
is "$(( $(recv_count) - base ))" 0 "400: unchanged settings: nothing sent"
is "$(alert_state)" held "400: still held"

CFG_DB=$DB CFG_PO_EXTRA='priority = 0' write_config
base=$(recv_count)
run_scan --now '2025-11-19 12:30:30'
is "$SCAN_RC" 0 "400: after a settings change the run exits 0" || scan_diag
is "$(( $(recv_count) - base ))" 1 "400: the held alert is retried once"
is "$(recv_get -1 'r["form"].get("priority")')" 0 "400: with the new priority"
is "$(alert_state)" sent "400: state sent"
is "$(flagged)" 2 "400: failures marked alert_sent"
no_secrets "$(sqlite3 "$DB" .dump)" "400: database"

# -v tells more, but still no secret.
recv_mode 500
failure_line '2025-11-19 12:40:00' fastdl evalongoria 'Cloudflare challenge' >>"$LOGDIR/media.log"
run_scan -v --now '2025-11-19 13:00:30'
ok "-v run ends normally (exit $SCAN_RC)" test "$SCAN_RC" = 0 -o "$SCAN_RC" = 1
no_secrets "$SCAN_OUT$SCAN_ERR" "-v output"

done_testing
