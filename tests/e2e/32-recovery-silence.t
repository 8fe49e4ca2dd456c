#!/bin/bash
# Beyond the seed: one "✅ Recovered" push when an alerted streak ends
# (notify_recovery), one "⏸ Silent" push per silence (expect_every_hours).
. "$(dirname "$0")/lib.sh"
need_scan

start_receiver

# --- recovery: scenario 2, then a success at 16:00 ------------------------
cp "$DATA/scenario2.log" "$W/recovery.script"
success_line '2025-11-19 16:00:00' fastdl evalongoria 3 >>"$W/recovery.script"
failure_line '2025-11-19 19:00:00' fastdl evalongoria 'Cloudflare challenge' >>"$W/recovery.script"
CFG_RECOVERY=true write_config
cron_replay "$W/recovery.script" '2025-11-19 11:45:30' '2025-11-19 19:30:30'
is "$(replay_bad_rc)" "" "every scan exits 0"
is "$(replay_report)" "2025-11-19 12:00:30 rc=0 req=1
2025-11-19 16:00:30 rc=0 req=1" "the failing alert at 12:00:30, the recovery at 16:00:30, nothing else"
is "$(recv_get 2 'r["form"].get("title")')" "✅ FastDL Recovered" "recovery title"
is "$(recv_get 2 'r["form"].get("message")')" "Downloader is working again after being down for 7+ hours
Consecutive Failures: 3
Recovered: 0 minutes ago" "recovery text: down from 09:00 to 16:00, 3 failures"
is "$(recv_get 2 'r["form"].get("timestamp")')" "$(epoch '2025-11-19 16:00:00')" "recovery timestamp = the success"
is "$(sql "SELECT kind, state FROM dlmon_alerts ORDER BY id")" "failing|sent
recovered|sent" "alert rows"

# a recovery is not announced for a streak that never alerted
rm -f "$DB" "$DB"-* "$LOGDIR"/* "$W"/fed.*; : >"$RECV_LOG"
cp "$DATA/scenario1.log" "$W/s1.script"
CFG_RECOVERY=true write_config
cron_replay "$W/s1.script" '2025-11-19 08:45:30' '2025-11-19 13:00:30'
is "$(recv_count)" 0 "scenario 1 with notify_recovery: no push at all"

# --- silence ----------------------------------------------------------------
rm -f "$DB" "$DB"-* "$LOGDIR"/* "$W"/fed.*; : >"$RECV_LOG"
{
	success_line '2025-11-19 06:00:00' tiktok alice 2
	success_line '2025-11-19 08:00:00' tiktok alice 1
	success_line '2025-11-19 16:00:00' tiktok alice 4
} >"$W/silence.script"
CFG_EXTRA='[downloader tiktok]
expect_every_hours = 6' write_config
cron_replay "$W/silence.script" '2025-11-19 05:45:30' '2025-11-19 16:15:30' 1800
is "$(replay_bad_rc)" "" "every scan exits 0"
is "$(replay_report)" "2025-11-19 14:15:30 rc=0 req=1" "one silence push, at the first scan 6 h after 08:00"
is "$(recv_get 1 'r["form"].get("title")')" "⏸ TikTok Silent" "silence title"
is "$(recv_get 1 'r["form"].get("message")')" "No download attempt logged for 6+ hours
Last Attempt: 6 hours ago
Check that the downloader is still running." "silence text"
# a new silence after the 16:00 attempt is a new one
run_scan --now '2025-11-19 22:30:00'
is "$SCAN_RC" 0 "later scan exits 0"
is "$(recv_count)" 2 "the next silence (after 16:00) alerts once more"
run_scan --now '2025-11-19 23:30:00'
is "$(recv_count)" 2 "and only once"

# pending silence dropped when the downloader comes back before delivery
rm -f "$DB" "$DB"-* "$LOGDIR"/* "$W"/fed.*; : >"$RECV_LOG"
success_line '2025-11-19 06:00:00' tiktok alice 2 >"$LOGDIR/media.log"
recv_mode 500
run_scan --now '2025-11-19 13:00:00'
is "$SCAN_RC" 1 "silence push not delivered: exit 1"
is "$(sql "SELECT kind, state FROM dlmon_alerts")" "silent|pending" "pending"
success_line '2025-11-19 13:10:00' tiktok alice 1 >>"$LOGDIR/media.log"
recv_mode 200
before=$(recv_count)
run_scan --now '2025-11-19 13:15:00'
is "$SCAN_RC" 0 "downloader back: exit 0"
is "$(( $(recv_count) - before ))" 0 "the ended silence is not announced late"
is "$(sql "SELECT kind, state FROM dlmon_alerts")" "silent|dropped" "dropped"

done_testing
