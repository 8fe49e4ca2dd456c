#!/bin/bash
# Open attempts (`start` pattern, SPEC "Ingestion"): a start closed by a
# result of the same downloader and user leaves no failure; a start without
# a result within 2 hours (judged by later lines of the file, else by the
# scan's --now) or before the next start of the same downloader and user
# becomes the failure "no result logged (process died?)" with the start's
# user and time, once; open attempts survive between runs and rotations; a
# result without user takes the user of the open attempt.
. "$(dirname "$0")/lib.sh"
need_scan

T=$'\t'
ERR='no result logged (process died?)'
TS='^(?<ts>\d{4}-\d\d-\d\d \d\d:\d\d:\d\d)\S* \[(?<downloader>\w+)\]'
CFG_PO_ENABLED=false CFG_EXTRA="start = $TS INFO Starting download for (?<user>\S+)
success = $TS INFO Finished, (?<count>\d+) new files?" write_config

start_line() { printf '%s [%s] INFO Starting download for %s\n' "$1" "$2" "$3"; }
finish_line() { printf '%s [%s] INFO Finished, %s new files\n' "$1" "$2" "$3"; }
# rows DOWNLOADER: "user|timestamp|success|file_count|error" per attempt, in time order
rows() {
	sql "SELECT username, timestamp, success, file_count, error_message FROM download_monitor
	     WHERE downloader = '$1' ORDER BY timestamp, id"
}
opens() { sql "SELECT downloader, username, started FROM dlmon_open ORDER BY ts, downloader"; }

D=2025-11-19
{ start_line "$D 10:00:00" fastdl bob; success_line "$D 10:05:00" fastdl bob 3; } >"$LOGDIR/a.log"
start_line "$D 08:00:00" imginn amy >"$LOGDIR/b.log"
{ start_line "$D 09:00:00" toolzu carl; start_line "$D 09:30:00" toolzu carl
  success_line "$D 09:40:00" toolzu carl 1; } >"$LOGDIR/c.log"
{ start_line "$D 09:50:00" tiktok dana; finish_line "$D 09:55:00" tiktok 2; } >"$LOGDIR/d.log"

# --- run 1, at exactly 2 hours after imginn's start ---------------------------
run_scan --now "$D 10:00:00"
is "$SCAN_RC" 0 "run 1 exits 0" || scan_diag
is "$(rows fastdl)" "bob|${D}T10:05:00|1|3|" "start then success: the success only, no failure"
is "$(rows toolzu)" "carl|${D}T09:00:00|0|0|$ERR
carl|${D}T09:40:00|1|1|" "start then a new start: the first is a failure (its user and time)"
is "$(rows tiktok)" "dana|${D}T09:55:00|1|2|" "a result without user takes the open attempt's user"
is "$(rows imginn)" "" "imginn: nothing yet at exactly 2 hours"
is "$(opens)" "imginn|amy|${D}T08:00:00" "imginn's start is kept open in dlmon_open"
like "$(summary_line)" ' 8 new lines, 4 attempts \(0 already known\)' "summary: 3 results and the derived failure"

# --- a dry run past the limit shows the failure and writes nothing ------------
run_scan --dry-run --now "$D 10:00:01"
is "$SCAN_RC" 0 "dry run exits 0" || scan_diag
contains "$SCAN_OUT" "imginn${T}amy${T}${D}T08:00:00${T}0${T}0${T}$ERR" "dry run prints the failure it would record"
is "$(rows imginn)" "" "dry run recorded nothing"
is "$(opens)" "imginn|amy|${D}T08:00:00" "dry run kept the open attempt"

# --- run 2, one second past the limit, nothing new read -----------------------
run_scan --now "$D 10:00:01"
is "$SCAN_RC" 0 "run 2 exits 0" || scan_diag
like "$(summary_line)" ' 0 new lines, 1 attempt \(0 already known\)' "run 2: no line read, one attempt"
is "$(rows imginn)" "amy|${D}T08:00:00|0|0|$ERR" "start then nothing for 2 hours: the failure, at the scan after the limit"
is "$(opens)" "" "no open attempt left"

run_scan --now "$D 12:00:00"
is "$SCAN_RC" 0 "run 3 exits 0" || scan_diag
is "$(sql "SELECT count(*) FROM download_monitor WHERE error_message = '$ERR'")" 2 "each failure recorded once"

# --- an open attempt across two runs -------------------------------------------
start_line "$D 12:10:00" snapchat eve >"$LOGDIR/e.log"
run_scan --now "$D 12:15:00"
is "$(opens)" "snapchat|eve|${D}T12:10:00" "snapchat's start open after the run"
finish_line "$D 13:20:00" snapchat 4 >>"$LOGDIR/e.log"
run_scan --now "$D 13:30:00"
is "$SCAN_RC" 0 "run with the result exits 0" || scan_diag
is "$(rows snapchat)" "eve|${D}T13:20:00|1|4|" "closed by the next run's result (which takes its user)"
run_scan --now "$D 18:00:00"
is "$(rows snapchat)" "eve|${D}T13:20:00|1|4|" "and never becomes a failure"
is "$(opens)" "" "nothing open"

# --- across a rotation: closed by a line in the rotated tail, and in the new file
start_line "$D 18:00:00" forums finn >"$LOGDIR/f.log"
start_line "$D 18:01:00" forums gina >>"$LOGDIR/f.log"
run_scan --now "$D 18:05:00"
is "$(opens | grep -c forums)" 2 "two forums starts open"
success_line "$D 18:10:00" forums finn 5 >>"$LOGDIR/f.log"     # unread when rotated
mv "$LOGDIR/f.log" "$LOGDIR/f.log.1"
success_line "$D 18:20:00" forums gina 6 >"$LOGDIR/f.log"
run_scan --now "$D 18:30:00"
is "$SCAN_RC" 0 "run after the rotation exits 0" || scan_diag
is "$(rows forums)" "finn|${D}T18:10:00|1|5|
gina|${D}T18:20:00|1|6|" "both closed: one by the rotated file's tail, one by the new file"
run_scan --now "$D 23:00:00"
is "$(sql "SELECT count(*) FROM download_monitor WHERE downloader = 'forums' AND success = 0")" 0 "no forums failure later"

# --- judged against the time of later lines: rotated, then a line 2.5 h later
start_line "$D 19:00:00" coppermine gus >"$LOGDIR/g.log"
run_scan --now "$D 19:05:00"
mv "$LOGDIR/g.log" "$LOGDIR/g.log.1"
success_line "$D 21:30:00" coppermine hal 1 >"$LOGDIR/g.log"
success_line "$D 21:31:00" coppermine gus 2 >>"$LOGDIR/g.log"
# the scan's clock alone would not fail it yet (20:00 < 21:00): the line's time does
run_scan --now "$D 20:00:00"
is "$SCAN_RC" 0 "run with later lines exits 0" || scan_diag
is "$(rows coppermine)" "gus|${D}T19:00:00|0|0|$ERR
hal|${D}T21:30:00|1|1|
gus|${D}T21:31:00|1|2|" "a line 2.5 h after the start fails it; the late success is a success of its own"
is "$(opens)" "" "nothing open"

# --- positions lost: everything is re-derived, nothing duplicated ------------------
before=$(sql 'SELECT count(*), max(id) FROM download_monitor')
sql 'DELETE FROM dlmon_files'
run_scan --now "$D 23:30:00"
is "$SCAN_RC" 0 "re-reading every file exits 0" || scan_diag
is "$(sql 'SELECT count(*), max(id) FROM download_monitor')" "$before" "re-derived failures are known rows: no duplicate"
is "$(opens)" "" "nothing left open"

done_testing
