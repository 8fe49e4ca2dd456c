#!/bin/bash
# Crash safety: dlmon-scan ingests a large generated log (300 000 lines, one
# result line in five) and is killed with SIGKILL at random moments while
# the log grows (appended chunks, one rename rotation half-way); then one run
# finishes.  The rows must equal the generated truth exactly (count and a
# checksum of the sorted dump), and the saved positions must be consistent:
# offset = file size and the saved line count = the file's line count (a
# stretch read twice would count its lines twice, even though dedup by
# identity would hide its rows: every line has its own identity here).
. "$(dirname "$0")/lib.sh"
need_scan

CFG_PO_ENABLED=false write_config
M="$LOGDIR/media.log"
GEN="$W/gen.py"
TRUTH="$W/truth"
: >"$TRUTH"

# gen.py FIRST COUNT TRUTH: lines FIRST..FIRST+COUNT-1 on stdout; the rows
# their result lines must give are appended to TRUTH.  Line i: second i after
# 2025-11-01 00:00:00; every fifth line a success or a failure of user u<i>,
# the others noise; some successes carry milliseconds.
cat >"$GEN" <<'EOF'
import sys, time
first, count, truth = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
base = 1761955200  # 2025-11-01 00:00:00 UTC
out, rows = [], []
for i in range(first, first + count):
    t = time.gmtime(base + i)
    ts = time.strftime("%Y-%m-%d %H:%M:%S", t)
    iso = time.strftime("%Y-%m-%dT%H:%M:%S", t)
    k = i % 10
    if k == 0:
        out.append("%s,%03d [fastdl] INFO Downloaded %d files for u%d\n" % (ts, i % 1000, i % 7, i))
        rows.append("fastdl|u%d|%s|1|%d|" % (i, iso, i % 7))
    elif k == 5:
        out.append("%s [toolzu] ERROR Download failed for u%d: HTTP %d\n" % (ts, i, 400 + i % 100))
        rows.append("toolzu|u%d|%s|0|0|HTTP %d" % (i, iso, 400 + i % 100))
    else:
        out.append("%s [fastdl] DEBUG fetching page %d of the feed, cursor=%x\n" % (ts, i, i * 2654435761 % 2**32))
sys.stdout.write("".join(out))
with open(truth, "a") as f:
    f.write("".join(r + "\n" for r in rows))
EOF

N0=300000
python3 "$GEN" 0 "$N0" "$TRUTH" >"$M"
next=$N0
diag "generated $(wc -l <"$M") lines, $(wc -l <"$TRUTH") result lines, $(stat -c %s "$M") bytes"

# The kills: each starts a scan and kills it after a random delay of 0 to
# $maxd ms; between kills the log grows by a chunk of lines, and once it is
# rotated.  A batch takes long on a loaded machine: when two kills in a row
# committed nothing, the delays may grow by half, so that kills also land
# between commits (the offsets seen are reported).  At most 30 kills, and
# none started after 40 s, to keep the test short.
KILLS=30
RANDOM=4242              # reproducible delays
maxd=300 stuck=0 killed=0 finished=0 bad= offsets=
t0=$(date +%s)
for k in $(seq 1 "$KILLS"); do
	if [ $(($(date +%s) - t0)) -ge 40 ]; then KILLS=$((k - 1)); break; fi
	before=$(sql "SELECT ifnull(sum(offset), 0) FROM dlmon_files" 2>/dev/null)
	"$SCAN" -c "$CONF" --now '2025-11-05 00:00:00' >"$W/k.out" 2>"$W/k.err" </dev/null &
	pid=$!
	d=$(((RANDOM * 32768 + RANDOM) % (maxd + 1)))
	sleep "$((d / 1000)).$(printf '%03d' $((d % 1000)))"
	if kill -KILL "$pid" 2>/dev/null; then killed=$((killed + 1)); fi
	wait "$pid" 2>/dev/null
	rc=$?
	if [ "$rc" != 137 ]; then
		finished=$((finished + 1))
		# a run that ended before its kill must have been a clean one
		if [ "$rc" != 0 ] || ! grep -q ' (0 already known)' "$W/k.out"; then
			bad="$bad run $k: exit $rc: $(cat "$W/k.out" "$W/k.err")"
		fi
	fi
	after=$(sql "SELECT ifnull(sum(offset), 0) FROM dlmon_files" 2>/dev/null)
	offsets="$offsets $after"
	if [ "$after" = "$before" ] && [ "$rc" = 137 ]; then stuck=$((stuck + 1)); else stuck=0; fi
	if [ "$stuck" -ge 2 ]; then maxd=$((maxd * 3 / 2)); stuck=0; fi
	if [ "$k" = 12 ]; then
		mv "$M" "$M.1"
		: >"$M"
	fi
	python3 "$GEN" "$next" 997 "$TRUTH" >>"$M"
	next=$((next + 997))
done
diag "summed offsets after each kill:$offsets (last delay range 0-$maxd ms)"
diag "$KILLS scans started, $killed killed, $finished ended by themselves, in $(($(date +%s) - t0)) s"
is "$bad" "" "the scans that ended before their kill were clean"
# How many kills land mid-run depends on the machine's speed (a scan that
# only reads the last 997 lines may finish first): require a few, not most.
ok "several scans were killed mid-way ($killed of $KILLS)" test "$killed" -ge 3

NO_VALGRIND=1 run_scan --now '2025-11-05 00:00:00'
is "$SCAN_RC" 0 "the final run exits 0" || scan_diag
like "$(summary_line)" ' \(0 already known\)' "the final run reads nothing twice"
diag "final run: $(summary_line) in ${SCAN_SECS}s"
NO_VALGRIND=1 run_scan --now '2025-11-05 00:00:00'
like "$(summary_line)" ' 0 new lines, 0 attempts ' "a further run reads nothing"

is "$(sql 'PRAGMA integrity_check')" ok "the database is intact"
sql "SELECT downloader, username, timestamp, success, file_count, ifnull(error_message, '')
     FROM download_monitor" | sort >"$W/got"
sort "$TRUTH" >"$W/want"
is "$(wc -l <"$W/got")" "$(wc -l <"$W/want")" "row count = result lines generated ($(wc -l <"$W/want"))"
is "$(md5sum <"$W/got")" "$(md5sum <"$W/want")" "the sorted rows equal the generated truth"
if ! cmp -s "$W/got" "$W/want"; then diag "$(diff "$W/want" "$W/got" | head -n 10)"; fi
is "$(sql 'SELECT count(*) FROM (SELECT 1 FROM download_monitor
       GROUP BY downloader, username, timestamp, success, error_message HAVING count(*) > 1)')" 0 \
	"no duplicate identity"
is "$(sql "SELECT offset || ' ' || lineno FROM dlmon_files WHERE key = '$M'")" \
	"$(stat -c %s "$M") $(wc -l <"$M")" "live file: offset = size, saved line count = its lines"
is "$(sql 'SELECT count(*) FROM dlmon_files')" 1 "one position (the rotated file is not a key)"

done_testing
