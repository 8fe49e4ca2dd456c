#!/bin/bash
# Seed scenario 2 (persistent failure) replayed as a 15-minute cron:
# success 06:00, failures 09:00, 12:00, 15:00 -> one alert, at the first scan
# after the 12:00 failure is read, and never again for that streak.
. "$(dirname "$0")/lib.sh"
need_scan

start_receiver
write_config
cron_replay "$DATA/scenario2.log" '2025-11-19 05:00:30' '2025-11-19 16:00:30'

is "${#REPLAY_NOW[@]}" 45 "45 scans from 05:00:30 to 16:00:30"
is "$(replay_bad_rc)" "" "every scan exits 0"
is "$(recv_count)" 1 "exactly one request overall"
is "$(replay_report)" "2025-11-19 12:00:30 rc=0 req=1" "the request was made by the 12:00:30 scan"

if [ "$(recv_count)" -ge 1 ]; then
	is "$(recv_get 1 'r["method"]')" POST "POST"
	is "$(recv_get 1 'r["path"]')" /1/messages.json "path of api_url"
	is "$(recv_get 1 'r["query"]')" "" "nothing in the URL query"
	like "$(recv_get 1 'r["headers"].get("Content-Type","")')" '^application/x-www-form-urlencoded' "form-encoded body"
	is "$(recv_get 1 'r["form"].get("title")')" "🚨 FastDL Failing" "title"
	is "$(recv_get 1 'r["form"].get("message")')" "Downloader has been failing for 3+ hours
Username: evalongoria
Consecutive Failures: 2
Last Success: 6 hours ago
Latest Error: \"Cloudflare challenge\"
Check logs for details." "message text"
	is "$(recv_get 1 'r["form"].get("timestamp")')" "$(epoch '2025-11-19 12:00:00')" "timestamp = the 12:00 failure"
	is "$(recv_get 1 'r["form"].get("token")')" "$PO_TOKEN" "token from token_file"
	is "$(recv_get 1 'r["form"].get("user")')" "$PO_USER" "user from user_file"
	is "$(recv_get 1 'r["form"].get("priority")')" 1 "default priority 1"
else
	for i in 1 2 3 4 5 6 7 8 9 10; do _t_result 1 "request fields (no request)"; done
fi

is "$(sql 'SELECT count(*) FROM download_monitor')" 4 "4 rows"
is "$(sql "SELECT downloader, username, timestamp, success, file_count, ifnull(error_message,'NULL'), alert_sent
           FROM download_monitor ORDER BY timestamp, id")" \
"fastdl|evalongoria|2025-11-19T06:00:00|1|5|NULL|0
fastdl|evalongoria|2025-11-19T09:00:00|0|0|Cloudflare challenge|1
fastdl|evalongoria|2025-11-19T12:00:00|0|0|Cloudflare challenge|1
fastdl|evalongoria|2025-11-19T15:00:00|0|0|Cloudflare challenge|0" \
	"rows; the failures up to 12:00 have alert_sent = 1"
is "$(sql "SELECT downloader, kind, state FROM dlmon_alerts")" "fastdl|failing|sent" "one alert, sent"
like "${REPLAY_SUMMARY[28]}" '1 alert sent \(fastdl\)' "the 12:00:30 summary names the alert"
like "${REPLAY_SUMMARY[44]}" '0 alerts sent' "the last summary sends nothing"

done_testing
