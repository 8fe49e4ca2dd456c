# tests/e2e/lib.sh — shared helpers for the end-to-end tests (sourced).
#
# Each test gets a fresh work directory $W (removed on exit), TZ=UTC, a TAP
# counter (ok / is / like / unlike / diag / done_testing), a Pushover
# stand-in (start_receiver / recv_*), a configuration writer (write_config),
# run_scan (stdout, stderr and exit status of bin/dlmon-scan) and sql.

set -u

TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
SCAN="$TOP/bin/dlmon-scan"
RECEIVER="$TOP/tests/helpers/receiver.py"
DATA="$TOP/tests/data"

export TZ=UTC
export LC_ALL=C.UTF-8
unset DLMON_CONFIG
# write_config's knobs come from the test, never from the caller's environment
unset ${!CFG_@}

# Credentials used everywhere (30 characters, [A-Za-z0-9]).
PO_USER=uQiRzpo4DXghDmr9QzzfQu27cmVRsG
PO_TOKEN=azGDORePK8gMaC0QOYAMyEEuzJnyUi

W=$(mktemp -d "${TMPDIR:-/tmp}/dlmon-e2e.XXXXXX")
CONF="$W/dlmon.conf"
DB="$W/db.sqlite"
LOGDIR="$W/logs"
mkdir -p "$LOGDIR"

RECV_PID=
_T_N=0
_T_FAIL=0
# TAP goes to the test's stdout as it was when this file was sourced, so that
# `ok DESC cmd >/dev/null` silences cmd and not the "ok N" line.
exec {_TAP_FD}>&1

_lib_cleanup() {
	stop_receiver
	# a background scan a test left behind (only ours: by pid)
	if [ -n "${BG_PID:-}" ]; then kill "$BG_PID" 2>/dev/null; wait "$BG_PID" 2>/dev/null; fi
	if [ "${KEEP_WORKDIR:-0}" = 1 ]; then
		echo "# work directory kept: $W" >&2
	else
		rm -rf "$W"
	fi
}
trap _lib_cleanup EXIT

# --- TAP -------------------------------------------------------------------

diag() {
	local line
	printf '%s\n' "$@" | while IFS= read -r line; do printf '# %s\n' "$line"; done >&"$_TAP_FD"
}

# _t_result PASS(0/1) DESC
_t_result() {
	_T_N=$((_T_N + 1))
	if [ "$1" = 0 ]; then
		printf 'ok %d - %s\n' "$_T_N" "$2" >&"$_TAP_FD"
	else
		printf 'not ok %d - %s\n' "$_T_N" "$2" >&"$_TAP_FD"
		_T_FAIL=$((_T_FAIL + 1))
	fi
}

# ok DESC CMD [ARGS...]: passes when CMD exits 0.
ok() {
	local desc=$1; shift
	if "$@"; then _t_result 0 "$desc"; else _t_result 1 "$desc"; fi
}

# is GOT EXPECTED DESC
is() {
	if [ "$1" == "$2" ]; then
		_t_result 0 "$3"
	else
		_t_result 1 "$3"
		diag "     got: '$1'" "expected: '$2'"
	fi
}

# isnt GOT UNEXPECTED DESC
isnt() {
	if [ "$1" != "$2" ]; then
		_t_result 0 "$3"
	else
		_t_result 1 "$3"
		diag "     got: '$1'" "expected anything else"
	fi
}

# like GOT ERE DESC (grep -E over the whole text, any line may match)
like() {
	if printf '%s\n' "$1" | grep -Eq -- "$2"; then
		_t_result 0 "$3"
	else
		_t_result 1 "$3"
		diag "     got: '$1'" "expected to match: /$2/"
	fi
}

# unlike GOT ERE DESC
unlike() {
	if printf '%s\n' "$1" | grep -Eq -- "$2"; then
		_t_result 1 "$3"
		diag "     got: '$1'" "expected not to match: /$2/"
	else
		_t_result 0 "$3"
	fi
}

# contains GOT FIXED-STRING DESC
contains() {
	case "$1" in
	*"$2"*) _t_result 0 "$3" ;;
	*) _t_result 1 "$3"; diag "     got: '$1'" "expected to contain: '$2'" ;;
	esac
}

# lacks GOT FIXED-STRING DESC
lacks() {
	case "$1" in
	*"$2"*) _t_result 1 "$3"; diag "     got: '$1'" "expected not to contain: '$2'" ;;
	*) _t_result 0 "$3" ;;
	esac
}

# done_testing: the plan at the end; the test's exit status says whether all passed.
done_testing() {
	printf '1..%d\n' "$_T_N" >&"$_TAP_FD"
	[ "$_T_FAIL" = 0 ] || exit 1
	exit 0
}

# skip_all REASON
skip_all() {
	printf '1..0 # SKIP %s\n' "$1" >&"$_TAP_FD"
	exit 0
}

# --- the Pushover stand-in --------------------------------------------------

# start_receiver: binds 127.0.0.1:0; sets RECV_PORT, RECV_LOG, RECV_MODE, API_URL.
start_receiver() {
	RECV_LOG="$W/receiver.log"
	RECV_MODE="$W/receiver.mode"
	local pf="$W/receiver.port" i
	echo 200 >"$RECV_MODE"
	: >"$RECV_LOG"
	rm -f "$pf"
	python3 "$RECEIVER" --port-file "$pf" --log "$RECV_LOG" --mode-file "$RECV_MODE" \
		>"$W/receiver.out" 2>&1 {_TAP_FD}>&- &
	RECV_PID=$!
	for i in $(seq 1 100); do
		[ -s "$pf" ] && break
		sleep 0.05
	done
	if [ ! -s "$pf" ]; then
		echo "Bail out! receiver did not start: $(cat "$W/receiver.out")"
		exit 1
	fi
	RECV_PORT=$(cat "$pf")
	API_URL="http://127.0.0.1:$RECV_PORT/1/messages.json"
}

stop_receiver() {
	if [ -n "${RECV_PID:-}" ]; then
		kill "$RECV_PID" 2>/dev/null
		wait "$RECV_PID" 2>/dev/null
		RECV_PID=
	fi
}

# recv_mode 200|400|429|500|hang
recv_mode() { echo "$1" >"$RECV_MODE"; }

# recv_count: the number of requests received so far
recv_count() { wc -l <"$RECV_LOG" | tr -d ' '; }

# recv_get N EXPR: a field of the N-th request (1-based; -1 is the last),
# EXPR being a python expression over r, e.g. 'r["form"]["title"]'.
recv_get() {
	python3 - "$RECV_LOG" "$1" "$2" <<'EOF'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1], encoding="utf-8") if l.strip()]
n = int(sys.argv[2])
r = rows[n - 1] if n > 0 else rows[n]
v = eval(sys.argv[3], {"r": r})
sys.stdout.write(v if isinstance(v, str) else json.dumps(v))
EOF
}

# --- configuration ------------------------------------------------------------

# write_secrets: the credential files, mode 0600.
write_secrets() {
	(umask 077; printf '%s\n' "$PO_USER" >"$W/pushover.user"; printf '%s\n' "$PO_TOKEN" >"$W/pushover.token")
	chmod 600 "$W/pushover.user" "$W/pushover.token"
}

# write_config [FILE]: the standard configuration, tuned by variables:
#   CFG_WINDOW CFG_MIN CFG_RETENTION CFG_MAXAGE CFG_RECOVERY CFG_PO_ENABLED
#   CFG_TIMEOUT CFG_DB CFG_PO_EXTRA (lines added to [pushover])
#   CFG_EXTRA (text added at the end, e.g. [downloader X] sections)
# The pushover section needs API_URL (start_receiver) unless CFG_PO_ENABLED=false.
write_config() {
	local f=${1:-$CONF}
	write_secrets
	cat >"$f" <<EOF
[monitoring]
failure_window_hours = ${CFG_WINDOW:-3}
min_consecutive_failures = ${CFG_MIN:-2}
retention_days = ${CFG_RETENTION:-30}
max_alert_age_hours = ${CFG_MAXAGE:-24}
notify_recovery = ${CFG_RECOVERY:-false}

[database]
path = ${CFG_DB:-$DB}
busy_timeout_ms = 2000

[pushover]
enabled = ${CFG_PO_ENABLED:-true}
user_file = $W/pushover.user
token_file = $W/pushover.token
api_url = ${API_URL:-http://127.0.0.1:9/1/messages.json}
timeout_seconds = ${CFG_TIMEOUT:-3}
${CFG_PO_EXTRA:-}

[source media]
files = $LOGDIR/*.log
time_format = %Y-%m-%d %H:%M:%S
success = ^(?<ts>\d{4}-\d\d-\d\d \d\d:\d\d:\d\d)\S* \[(?<downloader>\w+)\] INFO Downloaded (?<count>\d+) files? for (?<user>\S+)
failure = ^(?<ts>\d{4}-\d\d-\d\d \d\d:\d\d:\d\d)\S* \[(?<downloader>\w+)\] ERROR Download failed for (?<user>\S+): (?<error>.*)
${CFG_EXTRA:-}
EOF
}

# --- log lines ------------------------------------------------------------------

# success_line 'YYYY-MM-DD HH:MM:SS' DOWNLOADER USER COUNT
success_line() {
	local files=files
	[ "$4" = 1 ] && files=file
	printf '%s [%s] INFO Downloaded %s %s for %s\n' "$1" "$2" "$4" "$files" "$3"
}

# failure_line 'YYYY-MM-DD HH:MM:SS' DOWNLOADER USER ERROR
failure_line() {
	printf '%s [%s] ERROR Download failed for %s: %s\n' "$1" "$2" "$3" "$4"
}

# noise_line 'YYYY-MM-DD HH:MM:SS' DOWNLOADER TEXT: a line no pattern matches
noise_line() {
	printf '%s [%s] DEBUG %s\n' "$1" "$2" "$3"
}

# feed_until SCRIPT LOG NOW: append to LOG the lines of SCRIPT (a file of log
# lines in time order) whose first 19 characters are <= NOW and that were not
# appended yet (the count is kept in $W/fed.BASENAME, outside the log folder:
# dlmon takes files named after a live log for its rotated versions).
feed_until() {
	local script=$1 log=$2 now=$3 done_n=0 n=0 line fed
	fed="$W/fed.$(basename "$log")"
	[ -f "$fed" ] && done_n=$(cat "$fed")
	FED_NEW=0
	while IFS= read -r line; do
		n=$((n + 1))
		[ "$n" -le "$done_n" ] && continue
		[[ "${line:0:19}" > "$now" ]] && { n=$((n - 1)); break; }
		printf '%s\n' "$line" >>"$log"
		FED_NEW=$((FED_NEW + 1))
	done <"$script"
	echo "$n" >"$fed"
}

# --- running the scanner ------------------------------------------------------------

# run_scan ARGS...: bin/dlmon-scan -c $CONF ARGS; sets SCAN_RC, SCAN_OUT,
# SCAN_ERR, SCAN_SECS (wall time, seconds).  DLMON_VALGRIND=1 runs it under
# memcheck (exit 99 on a memory error or a definite leak).
run_scan() { run_scan_raw -c "$CONF" "$@"; }

run_scan_raw() {
	local t0 t1
	local -a pre=()
	if [ "${DLMON_VALGRIND:-}" = 1 ] && [ "${NO_VALGRIND:-}" != 1 ]; then
		pre=(valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite)
	fi
	t0=$(date +%s.%N)
	"${pre[@]}" "$SCAN" "$@" >"$W/scan.out" 2>"$W/scan.err" </dev/null
	SCAN_RC=$?
	t1=$(date +%s.%N)
	SCAN_OUT=$(cat "$W/scan.out")
	SCAN_ERR=$(cat "$W/scan.err")
	SCAN_SECS=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }')
	if [ "$SCAN_RC" = 99 ]; then diag "valgrind reported errors:" "$SCAN_ERR"; fi
	return 0
}

# scan_diag: show the last run (for a failing test)
scan_diag() { diag "exit $SCAN_RC" "stdout: $SCAN_OUT" "stderr: $SCAN_ERR"; }

# summary_line: the "dlmon-scan: ..." summary line of the last run's stdout
summary_line() { printf '%s\n' "$SCAN_OUT" | grep -E '^dlmon-scan: ' | tail -n 1; }

# sql STATEMENTS: sqlite3 on the test database (separator '|', no headers)
sql() { sqlite3 -batch -cmd '.timeout 5000' "${SQL_DB:-$DB}" "$@"; }

# epoch 'YYYY-MM-DD HH:MM:SS' (in $TZ)
epoch() { date -d "$1" +%s; }

# at EPOCH: 'YYYY-MM-DD HH:MM:SS' (in $TZ)
at() { date -d "@$1" '+%Y-%m-%d %H:%M:%S'; }

# need_scan: skip the whole test when the program is not built
need_scan() {
	[ -x "$SCAN" ] || skip_all "bin/dlmon-scan is not built (run make)"
	command -v sqlite3 >/dev/null || skip_all "sqlite3 command not found"
	command -v python3 >/dev/null || skip_all "python3 not found"
}

# The seed's database DDL, exactly as the original application writes it.
SEED_DDL="CREATE TABLE download_monitor (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    downloader TEXT NOT NULL,
    username TEXT,
    timestamp TEXT NOT NULL,
    success INTEGER NOT NULL,
    file_count INTEGER DEFAULT 0,
    error_message TEXT,
    alert_sent INTEGER DEFAULT 0,
    created_at TEXT DEFAULT CURRENT_TIMESTAMP
);
CREATE INDEX idx_download_monitor_downloader ON download_monitor(downloader);
CREATE INDEX idx_download_monitor_timestamp ON download_monitor(timestamp);
CREATE INDEX idx_download_monitor_success ON download_monitor(success);"

# The seed's settings row "monitoring".
SEED_MONITORING='{"enabled": true, "failure_window_hours": 3, "min_consecutive_failures": 2, "pushover": {"enabled": true, "priority": 1}, "downloaders": {"fastdl": true, "imginn": true, "toolzu": true, "instagram": true, "snapchat": true, "tiktok": true, "forums": true}}'

# cron_replay SCRIPT START END [STEP]: replay a day as a 15-minute cron would:
# for each --now from START to END every STEP seconds (900), append the lines
# of SCRIPT up to now to $LOGDIR/media.log, then run the scan.  Fills
# REPLAY_NOW, REPLAY_RC, REPLAY_REQ (requests received during that scan),
# REPLAY_SUMMARY (summary line) and REPLAY_OUT (stdout + stderr), indexed from 0.
# Under DLMON_VALGRIND=1 only the first and last scans and those with new
# lines run under memcheck (the others repeat them; memcheck costs seconds).
cron_replay() {
	local script=$1 t end step=${4:-900} i=0 before
	t=$(epoch "$2"); end=$(epoch "$3")
	REPLAY_NOW=(); REPLAY_RC=(); REPLAY_REQ=(); REPLAY_SUMMARY=(); REPLAY_OUT=()
	while [ "$t" -le "$end" ]; do
		local now
		now=$(at "$t")
		feed_until "$script" "$LOGDIR/media.log" "$now"
		before=$(recv_count)
		local nv=1
		if [ "$FED_NEW" != 0 ] || [ "$i" = 0 ] || [ $((t + step)) -gt "$end" ]; then nv=0; fi
		NO_VALGRIND=$nv run_scan --now "$now"
		REPLAY_NOW[i]=$now
		REPLAY_RC[i]=$SCAN_RC
		REPLAY_REQ[i]=$(( $(recv_count) - before ))
		REPLAY_SUMMARY[i]=$(summary_line)
		REPLAY_OUT[i]="$SCAN_OUT"$'\n'"$SCAN_ERR"
		i=$((i + 1))
		t=$((t + step))
	done
}

# replay_report: "NOW rc=RC req=N" per scan that did not exit 0 or made a request
replay_report() {
	local i
	for i in "${!REPLAY_NOW[@]}"; do
		if [ "${REPLAY_RC[i]}" != 0 ] || [ "${REPLAY_REQ[i]}" != 0 ]; then
			echo "${REPLAY_NOW[i]} rc=${REPLAY_RC[i]} req=${REPLAY_REQ[i]}"
		fi
	done
}

# replay_bad_rc: the scans that exited non-zero, with their output
replay_bad_rc() {
	local i
	for i in "${!REPLAY_NOW[@]}"; do
		[ "${REPLAY_RC[i]}" = 0 ] || echo "${REPLAY_NOW[i]} rc=${REPLAY_RC[i]}: ${REPLAY_OUT[i]}"
	done
}
