#!/bin/bash
# One instance at a time: while a scan is stuck in a hanging notification, a
# second scan exits 75 at once and writes nothing.
. "$(dirname "$0")/lib.sh"
need_scan

start_receiver
# The first scan must still hang when the second one (under memcheck, slow to
# start on a loaded machine) reaches the lock.
timeout=5; [ "${DLMON_VALGRIND:-}" = 1 ] && timeout=20
CFG_TIMEOUT=$timeout write_config
head -n 6 "$DATA/scenario2.log" >"$LOGDIR/media.log"
recv_mode hang

"$SCAN" -c "$CONF" --now '2025-11-19 12:00:30' >"$W/bg.out" 2>"$W/bg.err" </dev/null &
BG_PID=$!
for i in $(seq 1 100); do
	[ "$(recv_count)" -ge 1 ] && break
	sleep 0.05
done
is "$(recv_count)" 1 "the first scan is waiting in its notification"

rows=$(sql 'SELECT count(*) FROM download_monitor')
is "$rows" 3 "the first scan has recorded its 3 attempts"
pos=$(sql 'SELECT * FROM dlmon_files')
sed -n 7,8p "$DATA/scenario2.log" >>"$LOGDIR/media.log"   # a new failure at 15:00

run_scan --now '2025-11-19 15:00:30'
is "$SCAN_RC" 75 "the second scan exits 75" || scan_diag
# (memcheck alone takes about a second to start)
limit=2; [ "${DLMON_VALGRIND:-}" = 1 ] && limit=8
ok "it exits at once (took $SCAN_SECS s, limit $limit)" awk -v s="$SCAN_SECS" -v l="$limit" 'BEGIN { exit !(s < l) }'
is "$(sql 'SELECT count(*) FROM download_monitor')" "$rows" "it recorded nothing"
is "$(sql 'SELECT * FROM dlmon_files')" "$pos" "it moved no position"
is "$(recv_count)" 1 "it sent nothing"

wait "$BG_PID"
bg_rc=$?
BG_PID=
is "$bg_rc" 1 "the first scan times out and exits 1"
is "$(sql "SELECT state FROM dlmon_alerts")" pending "its alert stays pending"
is "$(sql 'SELECT count(*) FROM download_monitor')" "$rows" "the line appended meanwhile was not read by the first scan"

# Afterwards a normal run catches up.
recv_mode 200
run_scan --now '2025-11-19 15:00:30'
is "$SCAN_RC" 0 "the next run exits 0" || scan_diag
is "$(sql 'SELECT count(*) FROM download_monitor')" 4 "and reads the new failure"
is "$(sql "SELECT state FROM dlmon_alerts")" sent "and delivers the pending alert"

done_testing
