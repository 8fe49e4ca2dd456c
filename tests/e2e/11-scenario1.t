#!/bin/bash
# Seed scenario 1 (temporary failure): failure 09:00, success 12:00 (5 files)
# -> no alert at any 15-minute scan.
. "$(dirname "$0")/lib.sh"
need_scan

start_receiver
write_config
cron_replay "$DATA/scenario1.log" '2025-11-19 08:00:30' '2025-11-19 16:00:30'

is "$(replay_bad_rc)" "" "every scan exits 0"
is "$(recv_count)" 0 "no request at any scan"
is "$(sql "SELECT downloader, username, timestamp, success, file_count, ifnull(error_message,'NULL'), alert_sent
           FROM download_monitor ORDER BY timestamp, id")" \
"fastdl|evalongoria|2025-11-19T09:00:00|0|0|Cloudflare challenge|0
fastdl|evalongoria|2025-11-19T12:00:00|1|5|NULL|0" "2 rows, nothing marked alerted"
is "$(sql 'SELECT count(*) FROM dlmon_alerts')" 0 "no alert recorded"

# Control: the same failure repeated at 10:00 (two within the window, before
# the recovery) does alert, so the quiet result above is the rule at work.
: >"$LOGDIR/media.log"; rm -f "$W/fed.media.log" "$DB" "$DB"-* "$DB.lock"
cat "$DATA/scenario1.log" >"$W/control.log"
failure_line '2025-11-19 10:00:00' fastdl evalongoria 'Cloudflare challenge' >>"$W/control.log"
sort -s -k1,2 "$W/control.log" -o "$W/control.log"
cron_replay "$W/control.log" '2025-11-19 08:00:30' '2025-11-19 13:00:30'
is "$(replay_report)" "2025-11-19 10:00:30 rc=0 req=1" "control: two failures within 3 hours alert at 10:00:30"

done_testing
