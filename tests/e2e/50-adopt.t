#!/bin/bash
# A database made by the original application is adopted in place: its rows,
# ids and schema are kept, the application can keep inserting, and its
# alert_sent = 1 marks count as "this streak has alerted".
. "$(dirname "$0")/lib.sh"
need_scan

start_receiver
write_config

# make_app_db FLAG: the seed's DDL and rows as the application writes them;
# FLAG is alert_sent of its 09:00 failure.
make_app_db() {
	rm -f "$DB" "$DB"-* "$DB.lock"
	sql "$SEED_DDL
INSERT INTO download_monitor (downloader, username, timestamp, success, file_count, error_message, alert_sent)
  VALUES ('fastdl', 'evalongoria', '2025-11-19T06:00:00.123456', 1, 5, NULL, 0);
INSERT INTO download_monitor (downloader, username, timestamp, success, file_count, error_message, alert_sent)
  VALUES ('fastdl', 'evalongoria', '2025-11-19T09:00:00.654321', 0, 0, 'Cloudflare challenge', $1);
INSERT INTO download_monitor (downloader, username, timestamp, success, file_count, error_message)
  VALUES ('snapchat', 'someone', '2025-11-19T07:30:00.5', 1, 2, NULL);"
}

# The log holds only what the application did not record: the 12:00 failure
# and an imginn success.
{
	failure_line '2025-11-19 12:00:00' fastdl evalongoria 'Cloudflare challenge'
	success_line '2025-11-19 12:05:00' imginn evalongoria 1
} >"$LOGDIR/media.log"

make_app_db 1
schema_before=$(sql "SELECT type, name, sql FROM sqlite_master WHERE tbl_name = 'download_monitor' AND name NOT LIKE 'sqlite_%' AND (type = 'table' OR name LIKE 'idx_download_monitor_%') ORDER BY name")
rows_before=$(sql 'SELECT * FROM download_monitor ORDER BY id')

run_scan --now '2025-11-19 12:15:30'
is "$SCAN_RC" 0 "scan on the application's database exits 0" || scan_diag
is "$(sql 'SELECT * FROM download_monitor WHERE id <= 3 ORDER BY id')" "$rows_before" "the application's rows are kept as they were (ids too)"
is "$(sql "SELECT type, name, sql FROM sqlite_master WHERE tbl_name = 'download_monitor' AND name NOT LIKE 'sqlite_%' AND (type = 'table' OR name LIKE 'idx_download_monitor_%') ORDER BY name")" \
	"$schema_before" "the table's DDL and the seed's indexes are unchanged"
is "$(sql "SELECT downloader, username, timestamp, success, file_count, ifnull(error_message,'NULL') FROM download_monitor WHERE id > 3 ORDER BY id")" \
"fastdl|evalongoria|2025-11-19T12:00:00|0|0|Cloudflare challenge
imginn|evalongoria|2025-11-19T12:05:00|1|1|NULL" "the new attempts are added after them"
is "$(sql 'SELECT count(*) FROM settings')" 0 "settings table exists (empty)"
is "$(recv_count)" 0 "a streak the application already alerted on does not alert again"

# The application keeps writing, duplicates included (no UNIQUE constraint).
sql "INSERT INTO download_monitor (downloader, username, timestamp, success, file_count, error_message, alert_sent)
     VALUES ('fastdl', 'evalongoria', '2025-11-19T12:00:00', 0, 0, 'Cloudflare challenge', 0)" 2>"$W/ins.err"
is "$?:$(cat "$W/ins.err")" "0:" "an application-style INSERT (same identity) still works"
is "$(sql 'SELECT count(*) FROM download_monitor')" 6 "6 rows"
sql "SELECT downloader, count(*) AS total, SUM(success) AS successful FROM download_monitor
     WHERE timestamp > '2025-11-18' GROUP BY downloader" >"$W/q.out" 2>&1
is "$(cat "$W/q.out")" "fastdl|4|1
imginn|1|1
snapchat|1|1" "the seed's status query still works"

run_scan --now '2025-11-19 12:30:30'
is "$SCAN_RC" 0 "a later scan exits 0" || scan_diag
is "$(recv_count)" 0 "still no alert"
is "$(sql 'SELECT count(*) FROM download_monitor')" 6 "the scan does not touch the application's duplicate"

# Control: the same history without the application's mark alerts once.
make_app_db 0
run_scan --now '2025-11-19 12:15:30'
is "$SCAN_RC" 0 "control: scan exits 0" || scan_diag
is "$(recv_count)" 1 "control: without alert_sent = 1 the streak alerts"
if [ "$(recv_count)" -ge 1 ]; then
	is "$(recv_get -1 'r["form"].get("message")')" "Downloader has been failing for 3+ hours
Username: evalongoria
Consecutive Failures: 2
Last Success: 6 hours ago
Latest Error: \"Cloudflare challenge\"
Check logs for details." "control: message built from the application's rows too"
else
	_t_result 1 "control: message (no request)"
fi
is "$(sql 'SELECT id, alert_sent FROM download_monitor WHERE success = 0 ORDER BY id')" "2|1
4|1" "control: both failures (application's and the log's) marked alert_sent"

done_testing
