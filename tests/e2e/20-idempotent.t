#!/bin/bash
# The same attempts read twice are stored once: a re-run reads nothing new;
# with the saved positions deleted, the re-read lines are recognised by their
# identity (downloader, username, timestamp, success, error_message).
. "$(dirname "$0")/lib.sh"
need_scan

start_receiver
write_config
cp "$DATA/scenario2.log" "$LOGDIR/media.log"
sed s/fastdl/imginn/ "$DATA/scenario3.log" >"$LOGDIR/other.log"

run_scan --now '2025-11-19 16:00:30'
is "$SCAN_RC" 0 "first run exits 0" || scan_diag
like "$(summary_line)" '^dlmon-scan: 2 files, 12 new lines, 8 attempts \(0 already known\)' "first summary: 2 files, 12 new lines, 8 attempts"
rows=$(sql 'SELECT count(*) FROM download_monitor')
maxid=$(sql 'SELECT max(id) FROM download_monitor')
is "$rows" 8 "8 rows"
reqs=$(recv_count)
is "$reqs" 2 "two alerts (fastdl, toolzu; imginn succeeds)"
npos=$(sql 'SELECT count(*) FROM dlmon_files')
isnt "$npos" 0 "positions saved"

run_scan --now '2025-11-19 16:15:30'
is "$SCAN_RC" 0 "second run exits 0" || scan_diag
like "$(summary_line)" ' 0 new lines, 0 attempts ' "second summary: 0 new lines, 0 attempts"
is "$(sql 'SELECT count(*) FROM download_monitor')" "$rows" "row count unchanged"
is "$(sql 'SELECT max(id) FROM download_monitor')" "$maxid" "max(id) unchanged"

sql 'DELETE FROM dlmon_files'
run_scan --now '2025-11-19 16:30:30'
is "$SCAN_RC" 0 "run after deleting the positions exits 0" || scan_diag
like "$(summary_line)" ' 12 new lines, 8 attempts \(8 already known\)' "summary: all 8 attempts already known"
is "$(sql 'SELECT count(*) FROM download_monitor')" "$rows" "row count still unchanged"
is "$(sql 'SELECT max(id) FROM download_monitor')" "$maxid" "max(id) still unchanged"
is "$(sql 'SELECT count(*) FROM dlmon_files')" "$npos" "positions saved again"
is "$(recv_count)" "$reqs" "no new request"

# A copy of a log (a rotated file kept by hand) adds nothing either.
cp "$LOGDIR/media.log" "$LOGDIR/media-copy.log"
run_scan --now '2025-11-19 16:45:30'
is "$SCAN_RC" 0 "run with a copied file exits 0" || scan_diag
is "$(sql 'SELECT count(*) FROM download_monitor')" "$rows" "copied file adds no row"

# -q: nothing at all on success (cron mails any output).
echo "$(head -n 2 "$DATA/scenario2.log" | tail -n 1 | sed 's/06:00:00/16:50:00/')" >>"$LOGDIR/media.log"
run_scan -q --now '2025-11-19 17:00:30'
is "$SCAN_RC" 0 "-q run with a new success exits 0" || scan_diag
is "$SCAN_OUT$SCAN_ERR" "" "-q prints nothing"
is "$(sql 'SELECT count(*) FROM download_monitor')" "$((rows + 1))" "-q run recorded the new success"

done_testing
