#!/bin/bash
# Rows older than retention_days before --now are deleted (counted in the
# summary); newer rows are kept.
. "$(dirname "$0")/lib.sh"
need_scan

CFG_PO_ENABLED=false write_config
{
	success_line '2025-10-01 06:00:00' fastdl old1 1
	failure_line '2025-10-20 11:59:59' fastdl old2 'Cloudflare challenge'
	success_line '2025-10-20 12:00:01' fastdl mid 2
	success_line '2025-11-18 06:00:00' fastdl new 3
} >"$LOGDIR/media.log"

# A row the application wrote long ago (with a fraction) goes too.
run_scan --now '2025-10-01 06:00:30'
is "$SCAN_RC" 0 "a first run (at the time of the oldest line) exits 0" || scan_diag
sql "INSERT INTO download_monitor (downloader, username, timestamp, success, file_count)
     VALUES ('snapchat', 'app', '2025-09-30T23:00:00.250000', 1, 1)"
sql "INSERT INTO download_monitor (downloader, username, timestamp, success, file_count)
     VALUES ('snapchat', 'app2', '2025-11-01T10:00:00.250000', 1, 1)"

# Dry run first: it says what it would prune and prunes nothing.
run_scan --dry-run --now '2025-11-19 12:00:00'
is "$SCAN_RC" 0 "dry run exits 0" || scan_diag
like "$SCAN_OUT" '^prune: 3 rows older than 2025-10-20[T ]12:00:00$' "dry run: prune: 3 rows older than the cutoff"
like "$(summary_line)" '3 rows would be pruned' "dry run summary"
is "$(sql 'SELECT count(*) FROM download_monitor')" 6 "dry run deleted nothing"

run_scan --now '2025-11-19 12:00:00'
is "$SCAN_RC" 0 "run exits 0" || scan_diag
like "$(summary_line)" ', 3 rows pruned$' "summary: 3 rows pruned"
is "$(sql 'SELECT username FROM download_monitor ORDER BY timestamp')" "mid
app2
new" "rows older than 30 days are gone, newer kept"

# The old lines are not read again: positions hold (same --now: same cutoff).
run_scan --now '2025-11-19 12:00:00'
is "$SCAN_RC" 0 "next run exits 0" || scan_diag
like "$(summary_line)" ', 0 rows pruned$' "summary: 0 rows pruned"
is "$(sql 'SELECT count(*) FROM download_monitor')" 3 "pruned rows do not come back"

# A day later the 2025-10-20 12:00:01 row has aged out too.
run_scan --now '2025-11-20 12:00:00'
is "$SCAN_RC" 0 "a day later: exit 0" || scan_diag
like "$(summary_line)" ', 1 row pruned$' "summary: 1 row pruned"
is "$(sql 'SELECT username FROM download_monitor ORDER BY timestamp')" "app2
new" "only the newer rows remain"

# retention_days from the file is what counts.
CFG_RETENTION=10 CFG_PO_ENABLED=false write_config
run_scan --now '2025-11-20 12:00:00'
is "$SCAN_RC" 0 "retention_days = 10: exit 0" || scan_diag
like "$(summary_line)" ', 1 row pruned$' "retention_days = 10: 1 row pruned"
is "$(sql 'SELECT username FROM download_monitor')" "new" "only the row within 10 days remains"

done_testing
