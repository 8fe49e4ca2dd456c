#!/bin/bash
# Local time, daylight-saving changes and out-of-order lines (README "Time"),
# in TZ=Europe/Berlin:
#  - stored timestamps are the log's local text; windows are computed on
#    epoch seconds (mktime, tm_isdst = -1), so a DST change makes no false
#    alert and hides no real one;
#  - the repeated hour of the fall-back day is ambiguous in local text: mktime
#    picks one offset; both "02:30" lines keep their text, and a re-scan
#    across the change stores nothing twice;
#  - a line with a time that does not exist (the spring-forward gap) is
#    stored as mktime normalises it (one hour later);
#  - out-of-order lines are stored, and a failure read late cannot start a
#    new streak (no second push).
. "$(dirname "$0")/lib.sh"
need_scan
export TZ=Europe/Berlin

start_receiver
M="$LOGDIR/media.log"
fresh() {
	rm -rf "$LOGDIR" "$DB" "$DB"-*
	mkdir -p "$LOGDIR"
	: >"$RECV_LOG"
	write_config
}
pushes() { recv_count; }
rows() {
	sql "SELECT downloader, username, timestamp, success FROM download_monitor ORDER BY id"
}

# --- fall back (2025-10-26 03:00 CEST -> 02:00 CET): local text gaps shorter than real ones ---
# 01:59 CEST is 23:59 UTC, 03:10 CET is 02:10 UTC: 2 h 11 min apart, though
# the texts are 1 h 11 min apart.  Window 2 h, 2 failures: no alert.
CFG_WINDOW=2 fresh
{
	success_line '2025-10-26 00:30:00' fastdl anna 1
	failure_line '2025-10-26 01:59:00' fastdl anna 'HTTP 500'
	failure_line '2025-10-26 03:10:00' fastdl anna 'HTTP 500'
} >"$M"
run_scan --now '2025-10-26 03:15:00'
is "$SCAN_RC" 0 "fall back: exit 0" || scan_diag
is "$(pushes)" 0 "fall back: failures 2 h 11 min apart (texts 1 h 11 min apart) do not alert in a 2 h window"
# a third failure 50 real minutes after the second: that pair alerts
failure_line '2025-10-26 04:00:00' fastdl anna 'HTTP 500' >>"$M"
run_scan --now '2025-10-26 04:05:00'
is "$(pushes)" 1 "fall back: the next failure within 2 h alerts, once"
contains "$(recv_get -1 'r["form"]["message"]')" "Consecutive Failures: 3" "fall back: the streak has 3 failures"
# "failing for N+ hours" counts real hours: 01:59 CEST to 04:05 CET is 3 h 6 min
contains "$(recv_get -1 'r["form"]["message"]')" "failing for 3+ hours" "fall back: failing for 3+ hours (real hours, not 2 by the texts)"

# --- the repeated hour: the same local text twice ---------------------------------------------
CFG_WINDOW=3 fresh
{
	failure_line '2025-10-26 02:30:00' imginn bob 'first 02:30 (CEST)'
	failure_line '2025-10-26 02:45:00' imginn bob 'first 02:45 (CEST)'
	failure_line '2025-10-26 02:30:00' imginn bob 'second 02:30 (CET)'
} >"$M"
run_scan --now '2025-10-26 02:59:00'
is "$SCAN_RC" 0 "repeated hour: exit 0" || scan_diag
is "$(sql "SELECT timestamp || ' ' || error_message FROM download_monitor ORDER BY id")" \
"2025-10-26T02:30:00 first 02:30 (CEST)
2025-10-26T02:45:00 first 02:45 (CEST)
2025-10-26T02:30:00 second 02:30 (CET)" "repeated hour: three rows, each keeping its local text"
# the same lines read again after the change (positions forgotten): all known
sql 'DELETE FROM dlmon_files'
run_scan --now '2025-10-26 05:00:00'
like "$(summary_line)" ' 3 attempts \(3 already known\)' "repeated hour: re-read after the change, nothing stored twice"
is "$(sql 'SELECT count(*) FROM download_monitor')" 3 "repeated hour: still three rows"

# --- spring forward (2025-03-30 02:00 CET -> 03:00 CEST): local text gaps longer than real ones ---
# 01:30 CET is 00:30 UTC, 03:20 CEST is 01:20 UTC: 50 minutes apart, though
# the texts are 1 h 50 min apart.  Window 1 h, 2 failures: a real alert.
CFG_WINDOW=1 fresh
{
	success_line '2025-03-30 00:00:00' toolzu carl 2
	failure_line '2025-03-30 01:30:00' toolzu carl 'HTTP 429'
	failure_line '2025-03-30 03:20:00' toolzu carl 'HTTP 429'
} >"$M"
run_scan --now '2025-03-30 03:25:00'
is "$SCAN_RC" 0 "spring forward: exit 0" || scan_diag
is "$(pushes)" 1 "spring forward: failures 50 real minutes apart (texts 1 h 50 min) alert in a 1 h window"
# 00:50 CET and 03:05 CEST: 1 h 15 min apart: no alert
CFG_WINDOW=1 fresh
{
	failure_line '2025-03-30 00:50:00' toolzu dora 'HTTP 429'
	failure_line '2025-03-30 03:05:00' toolzu dora 'HTTP 429'
} >"$M"
run_scan --now '2025-03-30 03:10:00'
is "$(pushes)" 0 "spring forward: failures 1 h 15 min apart do not alert in a 1 h window"
# a time inside the gap does not exist: mktime makes it one hour later
failure_line '2025-03-30 02:30:00' toolzu erik 'in the gap' >>"$M"
run_scan --now '2025-03-30 04:00:00'
is "$(sql "SELECT timestamp FROM download_monitor WHERE username = 'erik'")" "2025-03-30T03:30:00" \
	"spring forward: a nonexistent 02:30 is stored as 03:30 CEST"

# --- out-of-order lines: a failure read late cannot start a new streak --------------------------
CFG_WINDOW=3 fresh
{
	success_line '2025-11-19 08:00:00' fastdl fay 3
	failure_line '2025-11-19 09:00:00' fastdl fay 'Cloudflare challenge'
	failure_line '2025-11-19 10:00:00' fastdl fay 'Cloudflare challenge'
} >"$M"
run_scan --now '2025-11-19 10:05:00'
is "$(pushes)" 1 "out of order: the streak after the 08:00 success alerts once"
# late lines: a failure inside the alerted streak, and two failures before
# the success (an ended streak)
{
	failure_line '2025-11-19 09:30:00' fastdl fay 'late, inside the streak'
	failure_line '2025-11-19 07:00:00' fastdl fay 'late, before the success'
	failure_line '2025-11-19 07:30:00' fastdl fay 'late, before the success'
} >>"$M"
run_scan --now '2025-11-19 10:20:00'
is "$SCAN_RC" 0 "out of order: exit 0" || scan_diag
like "$(summary_line)" ' 3 attempts \(0 already known\)' "out of order: the late lines are read"
is "$(sql "SELECT count(*) FROM download_monitor WHERE error_message LIKE 'late%'")" 3 "out of order: the late lines are stored"
is "$(pushes)" 1 "out of order: no second push (late failures start no new streak)"
# a later failure in the same streak: still the same streak, no push
failure_line '2025-11-19 10:30:00' fastdl fay 'Cloudflare challenge' >>"$M"
run_scan --now '2025-11-19 10:35:00'
is "$(pushes)" 1 "out of order: a further failure of the alerted streak sends nothing"
# a new success, then failures: a new streak, one push
{
	success_line '2025-11-19 11:00:00' fastdl fay 1
	failure_line '2025-11-19 12:00:00' fastdl fay 'HTTP 403'
	failure_line '2025-11-19 13:00:00' fastdl fay 'HTTP 403'
} >>"$M"
run_scan --now '2025-11-19 13:05:00'
is "$(pushes)" 2 "out of order: a new streak after a new success alerts"
# a failure read late, dated between that success and the new streak: same streak
failure_line '2025-11-19 11:30:00' fastdl fay 'late, in the new streak' >>"$M"
run_scan --now '2025-11-19 13:20:00'
is "$(pushes)" 2 "out of order: a late failure of the alerted streak sends nothing"

done_testing
