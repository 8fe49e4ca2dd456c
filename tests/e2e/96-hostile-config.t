#!/bin/bash
# Hostile configuration files: 10,000 sections, a 1 MB value, a NUL byte, and
# patterns with catastrophic backtracking.  Each is either accepted and run in
# reasonable time, or refused with exit 2 and an error naming file and line;
# the process never crashes, hangs, or prints a secret.
. "$(dirname "$0")/lib.sh"
need_scan

CFG_PO_ENABLED=false write_config
cp "$CONF" "$W/base.conf"
NOW='2025-11-19 08:00:00'
limit_mul=1; [ "${DLMON_VALGRIND:-}" = 1 ] && limit_mul=10
within() { # SECONDS DESC
	local l=$(( $1 * limit_mul ))
	ok "$2 (took $SCAN_SECS s, limit $l)" awk -v s="$SCAN_SECS" -v l="$l" 'BEGIN { exit !(s < l) }'
}
failure_line '2025-11-19 07:00:00' fastdl bob 'x' >"$LOGDIR/media.log"

# 10,000 [downloader] sections: accepted
{ cat "$W/base.conf"; for i in $(seq 1 10000); do printf '[downloader d%d]\nname = D %d\nfailure_window_hours = 4\n' "$i" "$i"; done; } >"$CONF"
run_scan --now "$NOW"
is "$SCAN_RC" 0 "10,000 sections: accepted, exit 0" || scan_diag
within 60 "10,000 sections: in reasonable time"
is "$(sql 'SELECT count(*) FROM download_monitor')" 1 "10,000 sections: the log is read"

# the same section 10,000 times: refused at the second one
{ cat "$W/base.conf"; for i in $(seq 1 10000); do printf '[downloader same]\nname = D\n'; done; } >"$CONF"
line=$(grep -n '^\[downloader same\]' "$CONF" | sed -n 2p | cut -d: -f1)
run_scan --now "$NOW"
is "$SCAN_RC" 2 "a repeated section: exit 2" || scan_diag
like "$SCAN_ERR" "dlmon.conf:$line: .*repeated" "a repeated section: the error names file and line"

# a 1 MB value
{ cat "$W/base.conf"; printf '[downloader big]\nname = '; head -c 1048576 /dev/zero | tr '\0' a; echo; } >"$CONF"
line=$(wc -l <"$CONF")
run_scan --now "$NOW"
is "$SCAN_RC" 2 "a 1 MB value: exit 2" || scan_diag
like "$SCAN_ERR" "dlmon.conf:$line: line too long" "a 1 MB value: the error names file and line"
ok "a 1 MB value: the message does not echo it" test "${#SCAN_ERR}" -lt 1000

# a 1 MB line without a newline at the end of the file
{ cat "$W/base.conf"; printf '; '; head -c 1048576 /dev/zero | tr '\0' b; } >"$CONF"
run_scan --now "$NOW"
is "$SCAN_RC" 2 "a 1 MB last line without newline: exit 2" || scan_diag
like "$SCAN_ERR" "dlmon.conf:[0-9]+: line too long" "a 1 MB last line: the error names the line"

# NUL bytes: in a value, in a section name, in a comment
for where in value section comment; do
	case $where in
	value) { printf '[monitoring]\nfailure_window_hours = 3\0 ; 9\n'; sed 1,2d "$W/base.conf"; } ;;
	section) { printf '[monitoring]\n[data\0base]\n'; sed 1,1d "$W/base.conf"; } ;;
	comment) { printf '; a comment \0 with a NUL\n'; cat "$W/base.conf"; } ;;
	esac >"$CONF"
	line=$(tr '\0' '@' <"$CONF" | grep -n '@' | head -n 1 | cut -d: -f1)
	run_scan --now "$NOW"
	is "$SCAN_RC" 2 "a NUL byte in a $where: exit 2" || scan_diag
	like "$SCAN_ERR" "dlmon.conf:$line: NUL byte" "a NUL byte in a $where: the error names file and line"
done

# catastrophic backtracking: the match limit stops it, the line is skipped
# with a warning, and the other lines are still read
CFG_PO_ENABLED=false CFG_EXTRA="[source evil]
files = $W/evil/*.log
downloader = evildl
failure = ^(a|aa)+\$
success = ^(\\w+\\s?)*\$
start = ^((a+)+)+b\$" write_config
mkdir -p "$W/evil"
{
	head -c 5000 /dev/zero | tr '\0' a; echo '!'
	head -c 3000 /dev/zero | tr '\0' x; echo ' x x x !'
	head -c 40 /dev/zero | tr '\0' a; echo c
	echo aaaa
} >"$W/evil/e.log"
run_scan --now "$NOW"
is "$SCAN_RC" 0 "backtracking: exit 0" || scan_diag
within 10 "backtracking: bounded by the match limit"
like "$SCAN_ERR" 'e\.log:[0-9]+: pattern hit the match limit; line skipped' "backtracking: a warning names file and line"
is "$(sql "SELECT count(*) FROM download_monitor WHERE downloader = 'evildl'")" 1 "backtracking: the matching line is recorded"

done_testing
