#!/bin/bash
# Seed scenario 3 (multiple downloaders): fastdl succeeds at 09:00 and 12:00,
# toolzu fails at both ("Rate limited") -> one alert, for toolzu only.
. "$(dirname "$0")/lib.sh"
need_scan

start_receiver
write_config
cron_replay "$DATA/scenario3.log" '2025-11-19 08:00:30' '2025-11-19 14:00:30'

is "$(replay_bad_rc)" "" "every scan exits 0"
is "$(recv_count)" 1 "exactly one request"
is "$(replay_report)" "2025-11-19 12:00:30 rc=0 req=1" "sent by the 12:00:30 scan"
if [ "$(recv_count)" -ge 1 ]; then
	is "$(recv_get 1 'r["form"].get("title")')" "🚨 Toolzu Failing" "title names Toolzu"
	is "$(recv_get 1 'r["form"].get("message")')" "Downloader has been failing for 3+ hours
Username: evalongoria
Consecutive Failures: 2
Last Success: never
Latest Error: \"Rate limited\"
Check logs for details." "message (toolzu never succeeded)"
	is "$(recv_get 1 'r["form"].get("timestamp")')" "$(epoch '2025-11-19 12:00:00')" "timestamp = the 12:00 failure (fraction dropped)"
else
	for i in 1 2 3; do _t_result 1 "request fields (no request)"; done
fi
like "${REPLAY_SUMMARY[16]}" '1 alert sent \(toolzu\)' "summary of the 12:00:30 scan: 1 alert sent (toolzu)"
is "$(sql "SELECT downloader, count(*), sum(success), sum(file_count), sum(alert_sent) FROM download_monitor GROUP BY downloader ORDER BY 1")" \
"fastdl|2|2|5|0
toolzu|2|0|0|2" "rows per downloader"
is "$(sql "SELECT DISTINCT timestamp FROM download_monitor ORDER BY 1")" \
"2025-11-19T09:00:00
2025-11-19T12:00:00" "timestamps stored without fractions"

done_testing
