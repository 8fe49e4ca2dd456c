#!/bin/bash
# A dry run predicts exactly what the real run then does.  At each --now of
# each case: a dry run, then a real run with the same --now on the same
# database and logs; the attempt lines the dry run printed are the rows the
# real run inserted (id order, same rendering), the alerts it printed are the
# pushes the receiver got (title and text), and the two summaries agree
# (files, lines, attempts, already known, alerts, rows pruned).  Every dry
# run leaves the database and the logs byte-identical.
. "$(dirname "$0")/lib.sh"
need_scan

T=$'\t'
start_receiver
mkdir -p "$W/db"
DB="$W/db/db.sqlite"

# The rows a real run inserted, the ones it pruned in the same run included:
# a trigger copies every insert into e2e_added (dlmon leaves tables it does
# not know alone; the dry run's private copy fires it too, and is thrown away).
AUDIT_DDL="CREATE TABLE e2e_added (id INTEGER PRIMARY KEY, downloader TEXT,
    username TEXT, timestamp TEXT, success INTEGER, file_count INTEGER,
    error_message TEXT);
CREATE TRIGGER e2e_added_log AFTER INSERT ON download_monitor BEGIN
    INSERT INTO e2e_added VALUES (NEW.id, NEW.downloader, NEW.username,
        NEW.timestamp, NEW.success, NEW.file_count, NEW.error_message);
END;"

# A row as show_attempt prints an attempt (NULL prints as empty).
ROW="downloader || char(9) || ifnull(username, '') || char(9) || timestamp
    || char(9) || success || char(9) || ifnull(file_count, '') || char(9)
    || ifnull(error_message, '')"

# fresh_state: no logs, the application's database (seed DDL) with the
# audit trigger, the configuration from the caller's CFG_* variables.
fresh_state() {
	rm -f "$DB" "$DB"-* "$DB.lock" "$LOGDIR"/* "$W"/fed.*
	sql "$SEED_DDL" "$AUDIT_DDL"
	CFG_DB=$DB write_config
}

# What a dry run must not change: the database file and its -wal (SQLite may
# create an empty -wal and -shm on opening, see 21-dryrun.t), the logs.
state_hash() {
	(cd "$W/db" && for f in db.sqlite db.sqlite-wal; do [ -s "$f" ] && sha256sum "$f"; done)
	(cd "$LOGDIR" && sha256sum -- * 2>/dev/null)
}

# alert_blocks: the "alert: TITLE" lines of stdin and their indented text.
alert_blocks() {
	awk '/^alert: / { p = 1; print; next } p && /^  / { print; next } { p = 0 }'
}

# pushes_since N: the requests after the N-th, as show_alert prints them
# (python only when there are some: its start-up is most of this test's time).
pushes_since() {
	[ "$(recv_count)" -gt "$1" ] || return 0
	python3 - "$RECV_LOG" "$1" <<'EOF'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1], encoding="utf-8") if l.strip()]
for r in rows[int(sys.argv[2]):]:
    print("alert: " + r["form"].get("title", ""))
    lines = r["form"].get("message", "").split("\n")
    if lines[-1] == "":
        lines.pop()
    for l in lines:
        print("  " + l)
EOF
}

# The dry run's summary worded as the real run's.
as_real() { sed -e 's/^dlmon-scan: dry run: /dlmon-scan: /' -e 's/ would be / /g'; }

# equiv NOW LABEL: dry run then real run at NOW, compared.  Knobs:
# EQUIV_PO=off (pushover disabled: the real run's -v "not sent" lines stand
# for its pushes).
# Leaves D_OUT, D_ATT, D_ALERTS, D_SUM (dry run) and R_SUM (real run).
equiv() {
	local now=$1 l=$2 h0 last req0 cut r_alerts
	h0=$(state_hash)
	run_scan --dry-run --now "$now"
	is "$SCAN_RC" 0 "$l: dry run exits 0" || scan_diag
	is "$(state_hash)" "$h0" "$l: dry run leaves database and logs byte-identical"
	D_OUT=$SCAN_OUT
	D_ATT=$(printf '%s\n' "$SCAN_OUT" | grep -F "$T")
	D_ALERTS=$(printf '%s\n' "$SCAN_OUT" | alert_blocks)
	D_SUM=$(summary_line | as_real)
	cut=$(printf '%s\n' "$SCAN_OUT" | sed -n 's/^prune: .* older than //p')

	last=$(sql 'SELECT ifnull(max(id), 0) FROM e2e_added')
	req0=$(recv_count)
	if [ "${EQUIV_PO:-on}" = off ]; then
		run_scan -v --now "$now"
	else
		run_scan --now "$now"
	fi
	R_SUM=$(summary_line)
	is "$SCAN_RC" 0 "$l: real run exits 0" || scan_diag
	is "$(sql "SELECT $ROW FROM e2e_added WHERE id > $last ORDER BY id")" "$D_ATT" \
		"$l: attempts printed = rows inserted"
	is "$(sql "SELECT $ROW FROM download_monitor WHERE id > $last ORDER BY id")" \
		"$(sql "SELECT $ROW FROM e2e_added WHERE id > $last AND timestamp >= '$cut' ORDER BY id")" \
		"$l: the inserted rows not older than the cutoff ($cut) are all there"
	if [ "${EQUIV_PO:-on}" = off ]; then
		is "$(recv_count)" "$req0" "$l: pushover disabled: no request"
		r_alerts=$(printf '%s\n' "$SCAN_ERR" |
		    sed -n 's/^dlmon-scan: [^ ]*: \(.*\) (not sent: pushover is disabled)$/alert: \1/p')
		is "$(printf '%s\n' "$D_ALERTS" | grep '^alert: ')" "$r_alerts" \
			"$l: alerts printed = alerts the real run did not send (titles)"
		is "$(printf '%s\n' "$D_ALERTS" | grep -c '^  (pushover is disabled: it would not be sent)$')" \
			"$(printf '%s\n' "$D_ALERTS" | grep -c '^alert: ')" \
			"$l: each one says it would not be sent"
	else
		is "$(pushes_since "$req0")" "$D_ALERTS" "$l: alerts printed = pushes sent"
	fi
	is "$R_SUM" "$D_SUM" "$l: summary (attempts, known, alerts, pruned)"
}

# append LINE...: lines at the end of the log
append() { printf '%s\n' "$@" >>"$LOGDIR/media.log"; }
S() { success_line "$@"; }
F() { failure_line "$@"; }

# --- a. scenario 2 as a cron at several --now points ----------------------------
fresh_state
for now in '2025-11-19 05:00:30' '2025-11-19 06:00:30' '2025-11-19 09:00:30' \
    '2025-11-19 11:00:30' '2025-11-19 12:00:30' '2025-11-19 12:15:30' \
    '2025-11-19 15:00:30' '2025-11-20 02:00:30'; do
	feed_until "$DATA/scenario2.log" "$LOGDIR/media.log" "$now"
	equiv "$now" "a ${now:11:5}"
	[ "${now:11:5}" = 12:00 ] && A_ALERT=$D_ALERTS
done
contains "$A_ALERT" "alert: 🚨 FastDL Failing" "a: the 12:00:30 scan alerts"
is "$(recv_count)" 1 "a: one push in all"

# the whole log at once: a failure later than now is read too
fresh_state
cp "$DATA/scenario2.log" "$LOGDIR/media.log"
equiv '2025-11-19 12:00:30' "a all-at-once"
like "$D_SUM" ' 4 attempts .* 1 alert sent' "a all-at-once: 4 attempts, one alert"
equiv '2025-11-19 15:00:30' "a all-at-once, later"

# --- b. an out-of-order log, 3 downloaders ----------------------------------------
fresh_state
req_b=$(recv_count)
append \
	"$(S '2025-11-19 10:00:00' fastdl ann 3)" \
	"$(F '2025-11-19 09:00:00' fastdl ann 'Timeout')" \
	"$(F '2025-11-19 10:30:00' imginn bob 'HTTP 403')" \
	"$(F '2025-11-19 10:00:00' toolzu cat 'Rate limited')" \
	"$(S '2025-11-19 09:30:00' toolzu cat 2)" \
	"$(F '2025-11-19 11:00:00' fastdl ann 'Timeout')" \
	"$(S '2025-11-19 11:00:00' fastdl ann 1)" \
	"$(S '2025-11-19 11:30:00' imginn bob 4)" \
	"$(F '2025-11-19 11:30:00' imginn bob 'HTTP 403')" \
	"$(F '2025-11-19 12:00:00' imginn bob 'HTTP 403')" \
	"$(F '2025-11-19 11:45:00' imginn bob 'HTTP 429')" \
	"$(S '2025-11-19 08:00:00' imginn bob 9)"
# fastdl: a failure older than the success before it; a failure then a
# success at one time (the failure is not in the streak).  toolzu: a success
# older than the failure before it.  imginn: a success then a failure at one
# time (the failure is), one back in time, an old success: 3 failures.
equiv '2025-11-19 12:30:30' "b 1"
contains "$D_ALERTS" "alert: 🚨 ImgInn Failing" "b 1: imginn alerts"
contains "$D_ALERTS" "Consecutive Failures: 3" "b 1: with the 3 failures after its 11:30 success"
append \
	"$(F '2025-11-19 13:00:00' toolzu cat 'Rate limited')" \
	"$(S '2025-11-19 11:40:00' imginn bob 1)" \
	"$(F '2025-11-19 13:30:00' fastdl ann 'Timeout')" \
	"$(S '2025-11-19 13:30:00' fastdl ann 2)" \
	"$(F '2025-11-19 13:30:00' fastdl ann 'Login required')" \
	"$(F '2025-11-19 13:45:00' fastdl ann 'Login required')"
# a late imginn success inside its alerted streak starts a new one; fastdl:
# failure, success, failure at one time
equiv '2025-11-19 14:00:30' "b 2"
append \
	"$(S '2025-11-19 12:00:00' fastdl ann 5)" \
	"$(S '2025-11-19 17:00:00' toolzu cat 1)" \
	"$(F '2025-11-19 16:00:00' toolzu cat 'Rate limited')"
equiv '2025-11-19 18:00:30' "b 3"
isnt "$(recv_count)" "$req_b" "b: the case sent pushes"

# --- c. duplicates --------------------------------------------------------------
fresh_state
append \
	"$(S '2025-11-19 06:00:00' fastdl eva 5)" \
	"$(F '2025-11-19 09:00:00' fastdl eva 'Cloudflare challenge')" \
	"$(F '2025-11-19 09:00:00' fastdl eva 'Cloudflare challenge')" \
	"$(S '2025-11-19 06:00:00' fastdl eva 7)" \
	"$(S '2025-11-19 06:00:00' fastdl zed 5)" \
	"$(F '2025-11-19 07:00:00' imginn eva 'HTTP 403')" \
	"$(S '2025-11-19 08:00:00' imginn eva 1)" \
	"$(F '2025-11-19 07:00:00' imginn eva 'HTTP 403')"
# twice the same line; the same attempt with another count; another user;
# a repeat of a failure the dry run does not store (superseded at 08:00)
equiv '2025-11-19 09:30:30' "c 1"
like "$D_SUM" ' 8 attempts \(3 already known\)' "c 1: 3 of 8 already known"
append \
	"$(S '2025-11-19 06:00:00' fastdl eva 5)" \
	"$(F '2025-11-19 09:00:00' fastdl eva 'Cloudflare challenge')" \
	"$(F '2025-11-19 07:00:00' imginn eva 'HTTP 403')" \
	"$(F '2025-11-19 12:00:00' fastdl eva 'Cloudflare challenge')" \
	"$(F '2025-11-19 12:00:00' fastdl eva 'Cloudflare challenge')" \
	"$(F '2025-11-19 09:00:00' fastdl eva 'Cloudflare challenge.')"
# rows in the database (the latest time, earlier ones), one new twice, one
# differing by a character
equiv '2025-11-19 12:00:30' "c 2"
like "$D_SUM" ' 6 attempts \(4 already known\)' "c 2: 4 of 6 already known"
contains "$D_ALERTS" "alert: 🚨 FastDL Failing" "c 2: fastdl alerts"
cp "$LOGDIR/media.log" "$W/media.copy"
cat "$W/media.copy" >>"$LOGDIR/media.log"
equiv '2025-11-19 12:30:30' "c 3 (the whole log again)"
like "$D_SUM" ' 14 attempts \(14 already known\)' "c 3: all known"

# --- c'. repeats in time order and out of it (preview.c, seen()) -----------------
fresh_state
append \
	"$(S '2025-11-19 06:00:00' fastdl ann 1)" \
	"$(S '2025-11-19 06:00:00' fastdl bob 1)" \
	"$(S '2025-11-19 06:00:00' fastdl ann 1)" \
	"$(F '2025-11-19 07:00:00' fastdl ann 'Timeout')" \
	"$(S '2025-11-19 07:00:00' imginn ann 1)" \
	"$(S '2025-11-19 06:00:00' fastdl bob 1)" \
	"$(S '2025-11-19 05:00:00' fastdl cat 2)" \
	"$(F '2025-11-19 07:00:00' fastdl ann 'Timeout')" \
	"$(S '2025-11-19 08:00:00' imginn ann 1)" \
	"$(S '2025-11-19 07:00:00' imginn ann 1)"
# a repeat at the latest time; the first attempt back in time repeats one
# from before it, the next is new, and then a repeat of the latest; imginn
# keeps its order until its own step back
equiv '2025-11-19 09:00:30' "c' 1"
like "$D_SUM" ' 10 attempts \(4 already known\)' "c' 1: 4 of 10 already known"
for i in $(seq 70); do S '2025-11-19 10:00:00' toolzu "u$i" 1; done >>"$LOGDIR/media.log"
append \
	"$(S '2025-11-19 10:00:00' toolzu u1 1)" \
	"$(S '2025-11-19 10:00:00' toolzu u70 1)" \
	"$(S '2025-11-19 10:00:00' toolzu u71 1)"
# more attempts at one time than are compared one by one (a log without
# timestamps gives them all the file's time)
equiv '2025-11-19 10:30:30' "c' 2"
like "$D_SUM" ' 73 attempts \(2 already known\)' "c' 2: 2 of 73 already known"

# --- d. retention ---------------------------------------------------------------
CFG_RETENTION=1 fresh_state
append \
	"$(S '2025-11-18 06:00:00' fastdl eva 1)" \
	"$(F '2025-11-18 07:00:00' fastdl eva 'Timeout')" \
	"$(S '2025-11-18 05:00:00' imginn bob 2)" \
	"$(F '2025-11-18 09:00:00' toolzu cat 'HTTP 500')" \
	"$(F '2025-11-18 10:00:00' toolzu cat 'HTTP 500')" \
	"$(S '2025-11-19 08:00:00' fastdl eva 3)" \
	"$(F '2025-11-19 10:00:00' fastdl eva 'Timeout')" \
	"$(F '2025-11-19 11:00:00' fastdl eva 'Timeout')"
# older than the cutoff: fastdl's two superseded by its 11-19 success (not
# stored by the dry run), imginn's only success and toolzu's failures
# without a success (stored, then pruned)
equiv '2025-11-19 11:30:30' "d 1"
like "$D_SUM" ', 5 rows pruned$' "d 1: 5 rows pruned"
append \
	"$(S '2025-11-18 06:00:00' fastdl eva 1)" \
	"$(F '2025-11-19 12:00:00' fastdl eva 'Timeout')" \
	"$(S '2025-11-20 09:00:00' imginn bob 2)" \
	"$(F '2025-11-19 09:00:00' imginn bob 'HTTP 403')" \
	"$(F '2025-11-20 11:30:00' toolzu cat 'HTTP 500')" \
	"$(F '2025-11-20 12:00:00' toolzu cat 'HTTP 500')"
# a pruned row's line again (new again, pruned again); an old failure in
# fastdl's current streak; an old imginn failure its new success supersedes
equiv '2025-11-20 12:00:30' "d 2"
like "$D_SUM" ', 6 rows pruned$' "d 2: 6 rows pruned"
equiv '2025-11-21 12:00:30' "d 3"

# --- e. attempts later than --now ------------------------------------------------
fresh_state
append \
	"$(S '2025-11-19 06:00:00' fastdl eva 5)" \
	"$(F '2025-11-19 09:00:00' fastdl eva 'Cloudflare challenge')" \
	"$(F '2025-11-19 10:00:30' fastdl eva 'Cloudflare challenge')" \
	"$(F '2025-11-19 10:00:31' imginn bob 'HTTP 403')" \
	"$(F '2025-11-19 12:00:00' imginn bob 'HTTP 403')" \
	"$(S '2025-11-19 10:30:00' fastdl eva 2)" \
	"$(S '2025-11-19 09:30:00' imginn bob 1)"
# a failure at now exactly (evaluated), one a second later, a later success
# that does not end fastdl's streak yet
equiv '2025-11-19 10:00:30' "e 1"
like "$D_SUM" ' 7 attempts .* 1 alert sent \(fastdl\)' "e 1: all 7 recorded, fastdl alerts"
equiv '2025-11-19 12:00:30' "e 2"
like "$D_SUM" ' 0 attempts .* 1 alert sent \(imginn\)' "e 2: the stored later attempts alert"

# --- f. recovery and silence pushes -----------------------------------------------
CFG_RECOVERY=true CFG_EXTRA='[downloader tiktok]
expect_every_hours = 6' fresh_state
append \
	"$(S '2025-11-19 06:00:00' fastdl eva 5)" \
	"$(S '2025-11-19 06:00:00' tiktok alice 2)" \
	"$(S '2025-11-19 08:00:00' tiktok alice 1)"
equiv '2025-11-19 08:00:30' "f 1"
append \
	"$(F '2025-11-19 09:00:00' fastdl eva 'Cloudflare challenge')" \
	"$(F '2025-11-19 12:00:00' fastdl eva 'Cloudflare challenge')"
equiv '2025-11-19 12:00:30' "f 2"
equiv '2025-11-19 14:15:30' "f 3"
contains "$D_ALERTS" "alert: ⏸ TikTok Silent" "f 3: the silence push"
append \
	"$(F '2025-11-19 15:00:00' fastdl eva 'Cloudflare challenge')" \
	"$(S '2025-11-19 16:00:00' fastdl eva 3)" \
	"$(S '2025-11-19 16:00:00' tiktok alice 4)"
# The recovery's "Consecutive Failures" counts the streak's failures in
# download_monitor between its first failure and the success (S_RECOVERY_DUE,
# src/store.c), not only what store_history_load reads: the 15:00 failure,
# superseded by the 16:00 success of the same run, must be in the dry run's
# copy too (it said 2 where the real run sent 3 before it kept them).
equiv '2025-11-19 16:00:30' "f 4 (failure and recovery in one run)"
contains "$D_ALERTS" "alert: ✅ FastDL Recovered" "f 4: the recovery push"
equiv '2025-11-19 22:30:30' "f 5"
contains "$D_ALERTS" "alert: ⏸ TikTok Silent" "f 5: a new silence after 16:00"

# the recovery's failures read by earlier runs
CFG_RECOVERY=true fresh_state
cp "$DATA/scenario2.log" "$W/f.script"
S '2025-11-19 16:00:00' fastdl eva 3 >>"$W/f.script"
for now in '2025-11-19 12:00:30' '2025-11-19 15:00:30' '2025-11-19 16:00:30'; do
	feed_until "$W/f.script" "$LOGDIR/media.log" "$now"
	equiv "$now" "f recovery ${now:11:5}"
done
contains "$D_ALERTS" "Consecutive Failures: 3" "f recovery 16:00: 3 failures"

# --- g. pushover disabled ---------------------------------------------------------
CFG_PO_ENABLED=false fresh_state
for now in '2025-11-19 09:00:30' '2025-11-19 12:00:30' '2025-11-19 13:00:30'; do
	feed_until "$DATA/scenario2.log" "$LOGDIR/media.log" "$now"
	EQUIV_PO=off equiv "$now" "g ${now:11:5}"
	[ "${now:11:5}" = 12:00 ] && G_ALERT=$D_ALERTS
done
is "$(printf '%s\n' "$G_ALERT" | grep -v '^  (pushover is disabled')" "$A_ALERT" \
	"g 12:00: the text shown is the one an enabled run sends"
contains "$D_ALERTS" "alert: 🚨 FastDL Failing" "g 13:00: shown again (nothing was recorded)"

done_testing
