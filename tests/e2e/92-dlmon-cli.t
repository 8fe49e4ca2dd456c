#!/usr/bin/env bash
# 92-dlmon-cli.t — dlmon's tables and JSON against golden files
# (tests/e2e/golden/dlmon-*), on a fixed database written with sqlite3 (the
# seed's DDL and known rows) and a fixed clock (--now): status, history,
# clear, config show/get/set; status's window semantics; usage errors.
#
# GOLDEN_UPDATE=1 rewrites the golden files from this run's output (then
# read the diff before committing it: the files are the contract).

source "$(dirname "$0")/lib.sh"

DLMON="$TOP/bin/dlmon"
GOLDEN="$TOP/tests/e2e/golden"
[ -x "$DLMON" ] || skip_all "bin/dlmon is not built (run make)"
command -v sqlite3 >/dev/null || skip_all "sqlite3 command not found"
command -v python3 >/dev/null || skip_all "python3 not found"

NOW='2025-11-19 12:00:00'

# dl ARGS...: bin/dlmon -c $CONF --now $NOW ARGS; sets RC, OUT, ERR.
# DLMON_VALGRIND=1 runs it under memcheck (exit 99 on an error or a leak).
dl() {
	local -a pre=()
	if [ "${DLMON_VALGRIND:-}" = 1 ]; then
		pre=(valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite)
	fi
	"${pre[@]}" "$DLMON" -c "$CONF" --now "$NOW" "$@" >"$W/dl.out" 2>"$W/dl.err" </dev/null
	RC=$?
	OUT=$(cat "$W/dl.out")
	ERR=$(cat "$W/dl.err")
	[ "$RC" != 99 ] || diag "valgrind reported errors:" "$ERR"
}

# golden NAME DESC: $OUT (the work directory written as @W@) against
# tests/e2e/golden/NAME, compared with diff -u.
golden() {
	local got="$W/got.$1"
	printf '%s\n' "$OUT" | sed -e "s|$W|@W@|g" >"$got"
	if [ "${GOLDEN_UPDATE:-0}" = 1 ]; then
		cp "$got" "$GOLDEN/$1"
	fi
	if diff -u "$GOLDEN/$1" "$got" >"$W/diff" 2>&1; then
		_t_result 0 "$2"
	else
		_t_result 1 "$2"
		diag "$(cat "$W/diff")"
	fi
}

# jget EXPR: a python expression over j (the JSON in $OUT)
jget() { printf '%s' "$OUT" | python3 -c 'import json, sys; j = json.load(sys.stdin); v = eval(sys.argv[1]); print(v if isinstance(v, str) else json.dumps(v))' "$1"; }

# --- the fixed database ----------------------------------------------------------
# Clock 2025-11-19 12:00:00 UTC; the default window is 24 h (since 11-18 12:00).
make_db() {
	rm -f "$1"
	sqlite3 "$1" "$SEED_DDL"
	sqlite3 "$1" <<'EOF'
BEGIN;
CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT);
INSERT INTO download_monitor (id, downloader, username, timestamp, success, file_count, error_message, alert_sent) VALUES
 -- fastdl: the seed's example (10 attempts in 24 h, 8 ok, 2 failed, 45 files)
 (1,  'fastdl', 'evalongoria', '2025-11-19T11:00:00', 0, 0, 'Cloudflare challenge', 1),
 (2,  'fastdl', 'evalongoria', '2025-11-19T10:00:00', 0, 0, 'Timeout "read" <b>', 0),
 (3,  'fastdl', 'evalongoria', '2025-11-19T09:00:00', 1, 5, NULL, 0),
 (4,  'fastdl', 'evalongoria', '2025-11-19T08:00:00', 1, 5, NULL, 0),
 (5,  'fastdl', 'evalongoria', '2025-11-19T07:00:00', 1, 5, NULL, 0),
 (6,  'fastdl', 'evalongoria', '2025-11-19T06:00:00', 1, 5, NULL, 0),
 (7,  'fastdl', 'evalongoria', '2025-11-19T05:00:00', 1, 5, NULL, 0),
 (8,  'fastdl', 'evalongoria', '2025-11-19T04:00:00', 1, 5, NULL, 0),
 (9,  'fastdl', 'evalongoria', '2025-11-19T03:00:00', 1, 5, NULL, 0),
 -- written by the original application, with fractions of a second
 (10, 'fastdl', NULL, '2025-11-18T13:00:00.123456', 1, 10, NULL, 0),
 -- outside the window: counts nothing, changes no all-time field
 (11, 'fastdl', 'evalongoria', '2025-11-18T06:00:00', 1, 1, NULL, 0),
 -- toolzu: failing in the window, its last success 3 days ago (all-time)
 (12, 'toolzu', 'bob', '2025-11-19T09:30:00', 0, 0, 'Rate limited', 0),
 (13, 'toolzu', 'bob', '2025-11-16T12:00:00', 1, 2, NULL, 0),
 -- imginn: all good; two attempts at the same second (newest first by id)
 (14, 'imginn', 'ann', '2025-11-19T07:00:00', 1, 2, NULL, 0),
 (15, 'imginn', 'ann', '2025-11-19T07:00:00', 1, 3, NULL, 0),
 -- tiktok: never succeeded (last_success null), no username
 (16, 'tiktok', NULL, '2025-11-19T08:00:00', 0, 0, 'HTTP 403', 0),
 -- snapchat: only 40 days ago (not in status 24 h; cleared by --days 30)
 (17, 'snapchat', 'old', '2025-10-10T10:00:00', 0, 0, 'ancient', 1);
COMMIT;
EOF
}

CFG_PO_ENABLED=false write_config
make_db "$DB"

# --- status ------------------------------------------------------------------------

dl status
is "$RC" 0 "status: exit 0"
golden dlmon-status.txt "status: aligned table"

dl status --json
is "$RC" 0 "status --json: exit 0"
golden dlmon-status.json "status --json: the seed's body"
contains "$OUT" '"success_rate":80.0' "status --json: 80.0, one decimal"
contains "$OUT" '"success_rate":100.0' "status --json: 100.0, one decimal"
contains "$OUT" '"success_rate":0.0' "status --json: 0.0, one decimal"
is "$(jget '[d["downloader"] for d in j["downloaders"]]')" '["fastdl", "imginn", "tiktok", "toolzu"]' \
	"status: downloaders with attempts in the last 24 h, by name (not snapchat)"
is "$(jget '[(k, type(v).__name__) for k, v in j["downloaders"][3].items()]')" \
	'[["downloader", "str"], ["total_attempts", "int"], ["successful", "int"], ["failed", "int"], ["total_files", "int"], ["success_rate", "float"], ["last_success", "str"], ["last_attempt", "str"]]' \
	"status --json: field names, order and types"
is "$(jget '[list(j.keys()), j["success"], j["window_hours"]]')" '[["success", "downloaders", "window_hours"], true, 24]' \
	"status --json: envelope"
is "$(jget 'j["downloaders"][3]["last_success"]')" 2025-11-16T12:00:00 \
	"status: last_success is all-time (toolzu's is outside the window)"
is "$(jget 'j["downloaders"][0]["total_attempts"]')" 10 "status: counts cover only the window (fastdl 10, not 11)"
is "$(jget 'j["downloaders"][2]["last_success"]')" null "status: a downloader that never succeeded: null"

dl status --hours 1000 --json
golden dlmon-status-1000.json "status --hours 1000 --json: older downloaders appear"
is "$(jget 'j["window_hours"]')" 1000 "status --hours 1000: window_hours 1000"

dl status --hours 2
is "$(printf '%s\n' "$OUT" | awk 'NR > 2 { print $1 }' | tr '\n' ' ')" "fastdl " \
	"status --hours 2: only fastdl (11:00, 10:00)"

# --- history -----------------------------------------------------------------------

dl history
is "$RC" 0 "history: exit 0"
golden dlmon-history.txt "history: aligned table, newest first (timestamp, then id)"

dl history --json --downloader fastdl --limit 3
is "$RC" 0 "history --json: exit 0"
golden dlmon-history-fastdl-3.json "history --json --downloader fastdl --limit 3: the seed's body"
is "$(jget '[(k, type(v).__name__) for k, v in j["history"][0].items()]')" \
	'[["id", "int"], ["downloader", "str"], ["username", "str"], ["timestamp", "str"], ["success", "bool"], ["file_count", "int"], ["error_message", "str"], ["alert_sent", "bool"]]' \
	"history --json: field names, order and types"
is "$(jget '[h["id"] for h in j["history"]]')" '[1, 2, 3]' "history --json: newest three"

dl history --json --downloader IMGINN
is "$(jget '[h["id"] for h in j["history"]]')" '[15, 14]' "history: same second, higher id first; name lower-cased"

dl history --json --downloader fastdl --limit 100
is "$(jget '[h["timestamp"] for h in j["history"]][-2]')" 2025-11-18T13:00:00 \
	"history: fractions of a second cut off"

# --- clear (on a copy) ----------------------------------------------------------------

cp "$DB" "$W/clear.sqlite"
CFG_PO_ENABLED=false CFG_DB="$W/clear.sqlite" write_config "$W/clear.conf"
CONF="$W/clear.conf" dl clear --days 30 --json
is "$RC" 0 "clear --days 30 --json: exit 0"
golden dlmon-clear-30.json "clear --days 30 --json: the seed's body"
is "$(SQL_DB="$W/clear.sqlite" sql "SELECT group_concat(id) FROM download_monitor WHERE downloader = 'snapchat'")" "" \
	"clear: the 40-day-old row is gone"
is "$(SQL_DB="$W/clear.sqlite" sql 'SELECT count(*) FROM download_monitor')" 16 "clear: the others stay"
CONF="$W/clear.conf" dl clear --days 1
is "$OUT" "deleted 2 attempts older than 1 day" "clear --days 1: table form counts (fastdl 11-18 06:00, toolzu 11-16)"

# --- config -----------------------------------------------------------------------

cp "$DB" "$W/cfg.sqlite"
CFG_PO_ENABLED=false CFG_DB="$W/cfg.sqlite" write_config "$W/cfg.conf"
CONF_SAVE=$CONF
CONF="$W/cfg.conf"

: >"$W/set.log"
for kv in "failure_window_hours 6" "min_consecutive_failures 05" "enabled no" \
	"pushover.priority -- -1" "downloaders.FastDL false" "downloader.toolzu.enabled off" \
	"monitoring.repeat_hours 1.5"; do
	# shellcheck disable=SC2086
	dl config set $kv
	printf '$ dlmon config set %s\nexit %s\n%s%s\n' "$kv" "$RC" "$OUT" "${ERR:+$'\n'$ERR}" >>"$W/set.log"
done
OUT=$(cat "$W/set.log"; echo "row: $(SQL_DB="$W/cfg.sqlite" sql "SELECT value FROM settings WHERE key = 'monitoring'")")
golden dlmon-config-set.txt "config set: accepted keys, values stored as JSON numbers and booleans"
is "$(SQL_DB="$W/cfg.sqlite" sql "SELECT json_type(value, '\$.enabled') || ' ' || json_type(value, '\$.downloaders.fastdl') || ' ' || json_type(value, '\$.failure_window_hours') || ' ' || json_type(value, '\$.repeat_hours') FROM settings WHERE key = 'monitoring'")" \
	"false false integer real" "config set: stored as JSON false / integer / real"

dl config show
is "$RC" 0 "config show: exit 0"
golden dlmon-config-show.txt "config show: every setting with its origin (default, file:line, database)"

: >"$W/get.log"
for k in failure_window_hours monitoring.failure_window_hours min_consecutive_failures enabled \
	pushover.priority downloaders.fastdl downloaders.toolzu downloaders.imginn \
	downloader.fastdl.enabled retention_days database.busy_timeout_ms pushover.user \
	source.media.files; do
	dl config get "$k"
	printf '%s = %s (exit %s)\n' "$k" "$OUT" "$RC" >>"$W/get.log"
done
OUT=$(cat "$W/get.log")
golden dlmon-config-get.txt "config get: values after config set (database origin)"

# refused: exit 2, naming the key; the row is unchanged
ROW_BEFORE=$(SQL_DB="$W/cfg.sqlite" sql "SELECT value FROM settings WHERE key = 'monitoring'")
: >"$W/bad.log"
while IFS='|' read -r key val; do
	dl config set "$key" "$val"
	printf '%s %s -> exit %s: %s\n' "$key" "$val" "$RC" "$ERR" >>"$W/bad.log"
	is "$RC" 2 "config set $key '$val': exit 2"
	contains "$ERR" "$key" "config set $key '$val': the message names the key"
done <<'EOF'
nonsense|1
failure_window_hours|0
failure_window_hours|abc
min_consecutive_failures|1.5
pushover.priority|3
enabled|maybe
downloaders.fastdl|1x
downloaders.a.b|true
database.path|/tmp/x.db
pushover.retry|60
source.media.files|/tmp/*.log
downloader.fastdl.name|Fast
EOF
OUT=$(cat "$W/bad.log")
golden dlmon-config-set-bad.txt "config set: refused keys and values, with messages"
is "$(SQL_DB="$W/cfg.sqlite" sql "SELECT value FROM settings WHERE key = 'monitoring'")" "$ROW_BEFORE" \
	"config set: refused values leave the row unchanged"

# a database without the row: created as '{}' then set
sqlite3 "$W/cfg.sqlite" "DELETE FROM settings"
dl config set pushover.enabled false
is "$RC" 0 "config set without a row: exit 0"
is "$(SQL_DB="$W/cfg.sqlite" sql "SELECT value FROM settings WHERE key = 'monitoring'")" \
	'{"pushover":{"enabled":false}}' "config set without a row: created with json_set"
dl config set retention_days 3 -q
is "$RC:$OUT" "0:" "config set -q: nothing printed"
CONF=$CONF_SAVE

# --- usage errors -------------------------------------------------------------------

for args in "status --hours 0" "status --hours abc" "status --hours 87601" "status --hours -1" \
	"history --limit 0" "history --limit 10001" "clear" "clear --days x" "bogus" \
	"config frob" "config get" "config set enabled" "status extra"; do
	# shellcheck disable=SC2086
	dl $args
	is "$RC" 2 "dlmon $args: exit 2"
done
dl bogus
contains "$ERR" "unknown command 'bogus'" "unknown command: named"
dl history --limit 0
contains "$ERR" "--limit" "--limit 0: names the flag"
dl clear
contains "$ERR" "--days" "clear without --days: names the flag"
is "$(sql 'SELECT count(*) FROM download_monitor')" 17 "usage errors: nothing deleted"

done_testing
