#!/bin/bash
# The settings row 'monitoring' (the seed's JSON) overrides the file on the
# next run, through the seed's documented json_set commands.
. "$(dirname "$0")/lib.sh"
need_scan

start_receiver
write_config
head -n 6 "$DATA/scenario2.log" >"$W/upto12.log"   # success 06:00, failures 09:00 12:00

# fresh_db: a database created by a first scan with nothing to read, then
# the seed's settings row, then UPDATE (the argument) applied to it.
fresh_db() {
	rm -f "$DB" "$DB"-* "$DB.lock" "$LOGDIR/media.log"
	: >"$LOGDIR/media.log"
	run_scan --now '2025-11-19 05:00:30'
	[ "$SCAN_RC" = 0 ] || { scan_diag; return 1; }
	sql "INSERT INTO settings (key, value) VALUES ('monitoring', '$SEED_MONITORING')"
	[ -z "${1:-}" ] || sql "UPDATE settings SET value = $1 WHERE key = 'monitoring'"
	cp "$W/upto12.log" "$LOGDIR/media.log"
}

# case_alerts UPDATE-EXPR DESC EXPECTED-REQUESTS
case_alerts() {
	local base
	fresh_db "$1"
	base=$(recv_count)
	run_scan --now '2025-11-19 12:00:30'
	is "$SCAN_RC" 0 "$2: exit 0" || scan_diag
	is "$(( $(recv_count) - base ))" "$3" "$2: $3 request(s)"
	is "$(sql 'SELECT count(*) FROM download_monitor')" 3 "$2: attempts recorded"
}

case_alerts "" "seed row as is" 1
case_alerts "json_set(value, '\$.min_consecutive_failures', 5)" "min_consecutive_failures = 5" 0
case_alerts "json_set(value, '\$.downloaders.fastdl', json('false'))" "downloaders.fastdl = false" 0
case_alerts "json_set(value, '\$.failure_window_hours', 2)" "failure_window_hours = 2 (09:00 and 12:00 are 3 h apart)" 0
case_alerts "json_set(value, '\$.enabled', json('false'))" "enabled = false" 0
case_alerts "json_set(value, '\$.pushover.enabled', json('false'))" "pushover.enabled = false" 0
case_alerts "json_set(value, '\$.downloaders.fastdl', json('true'), '\$.failure_window_hours', 6)" "window 6, fastdl true" 1

# The row's priority is used.
fresh_db "json_set(value, '\$.pushover.priority', 0)"
run_scan --now '2025-11-19 12:00:30'
is "$SCAN_RC" 0 "pushover.priority = 0: exit 0" || scan_diag
is "$(recv_get -1 'r["form"].get("priority")')" 0 "pushover.priority = 0 is sent"

# A bad value: exit 2 naming the row and the key, nothing done.
fresh_db "json_set(value, '\$.failure_window_hours', 'abc')"
rows=$(sql 'SELECT count(*) FROM download_monitor')
pos=$(sql 'SELECT * FROM dlmon_files')
base=$(recv_count)
run_scan --now '2025-11-19 12:00:30'
is "$SCAN_RC" 2 "bad failure_window_hours: exit 2" || scan_diag
like "$SCAN_ERR" "settings" "the message names the settings table"
like "$SCAN_ERR" "monitoring" "the message names the row"
like "$SCAN_ERR" "failure_window_hours" "the message names the key"
is "$(sql 'SELECT count(*) FROM download_monitor')" "$rows" "nothing recorded"
is "$(sql 'SELECT * FROM dlmon_files')" "$pos" "no position moved"
is "$(( $(recv_count) - base ))" 0 "nothing sent"

done_testing
