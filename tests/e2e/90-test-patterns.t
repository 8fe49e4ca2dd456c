#!/bin/bash
# dlmon test-patterns: the report (golden files), --source, -v, the
# timestamp / match-limit / no-downloader counts, gzip, exit statuses, and
# that it touches no database.
. "$(dirname "$0")/lib.sh"
need_scan

DLMON="$TOP/bin/dlmon"
GOLD="$TOP/tests/e2e/golden"
EX="$TOP/etc/examples"

# tp ARGS...: bin/dlmon ARGS (from $W/logs, so FILE:LINE names are short);
# sets TP_RC, TP_OUT, TP_ERR.  DLMON_VALGRIND=1 runs it under memcheck.
tp() {
	local -a pre=()
	if [ "${DLMON_VALGRIND:-}" = 1 ]; then
		pre=(valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite)
	fi
	(cd "$LOGDIR" && "${pre[@]}" "$DLMON" "$@" >"$W/tp.out" 2>"$W/tp.err" </dev/null)
	TP_RC=$?
	TP_OUT=$(cat "$W/tp.out")
	TP_ERR=$(cat "$W/tp.err")
	[ "$TP_RC" = 99 ] && diag "valgrind reported errors:" "$TP_ERR"
	return 0
}

# golden NAME DESC: stdout of the last tp equals $GOLD/NAME (diff -u shown)
golden() {
	if diff -u "$GOLD/$1" "$W/tp.out" >"$W/diff" 2>&1; then
		_t_result 0 "$2"
	else
		_t_result 1 "$2"
		diag "$(cat "$W/diff")"
	fi
}

cp "$DATA"/formats/*.log "$LOGDIR/"

# The media-downloader example with -v: every pattern, its attempts per
# downloader, and the unmatched lines that look like failures.
tp -c "$EX/media-downloader.conf" test-patterns -v media-downloader.log
is "$TP_RC" 0 "media -v: exit 0"
golden testpat-media-v.txt "media -v: report as expected"

# Without -v the failure-word lines are not listed.
tp -c "$EX/media-downloader.conf" test-patterns media-downloader.log
is "$TP_RC" 0 "media: exit 0"
lacks "$TP_OUT" "failure words" "media: no failure-word list without -v"
is "$(diff <(grep -v -e 'failure words' -e '^    media-downloader.log:' "$GOLD/testpat-media-v.txt") "$W/tp.out")" "" \
	"media: the rest of the report is the same"

# yt-dlp: the timestamp pattern's count, lines without ts take its time.
tp -c "$EX/ytdlp-tiktok.conf" test-patterns tiktok.log
is "$TP_RC" 0 "tiktok: exit 0"
golden testpat-tiktok.txt "tiktok: report as expected"

# A gzip-compressed copy (by name, and renamed without .gz) reads the same.
gzip -c "$LOGDIR/tiktok.log" >"$LOGDIR/tiktok.log.1.gz"
cp "$LOGDIR/tiktok.log.1.gz" "$LOGDIR/tiktok-compressed"
for f in tiktok.log.1.gz tiktok-compressed; do
	tp -c "$EX/ytdlp-tiktok.conf" test-patterns "$f"
	is "$TP_RC" 0 "gzip $f: exit 0"
	is "$(sed "s|$f|tiktok.log|" "$W/tp.out")" "$(cat "$GOLD/testpat-tiktok.txt")" "gzip $f: same report"
done

# Two sources in one configuration: both report unless --source picks one.
cat "$EX/media-downloader.conf" "$EX/gallery-dl.conf" >"$W/two.conf"
tp -c "$W/two.conf" test-patterns gallery-dl.log media-downloader.log
is "$TP_RC" 0 "two sources: exit 0"
like "$TP_OUT" '^2 files, 43 lines$' "two sources: files and lines counted"
contains "$TP_OUT" "[source media]" "two sources: media reported"
contains "$TP_OUT" "[source gallery]" "two sources: gallery reported"
contains "$TP_OUT" "  attempts: coppermine 2 successes, 1 failure; forums 1 success, 2 failures" \
	"two sources: gallery's attempts from its own file only"
contains "$TP_OUT" "  attempts: fastdl 2 successes, 1 failure; imginn 1 success; snapchat 1 success, 1 failure; toolzu 3 failures" \
	"two sources: media's attempts from its own file only"
like "$TP_OUT" '^result: 24 lines matched a pattern$' "two sources: 18 + 6 matched lines"
tp -c "$W/two.conf" test-patterns --source gallery gallery-dl.log media-downloader.log
is "$TP_RC" 0 "--source gallery: exit 0"
contains "$TP_OUT" "[source gallery]" "--source gallery: gallery reported"
lacks "$TP_OUT" "[source media]" "--source gallery: media not reported"
tp -c "$W/two.conf" test-patterns --source nosuch gallery-dl.log
is "$TP_RC" 2 "--source unknown: exit 2"
contains "$TP_ERR" "nosuch" "--source unknown: named"

# Nothing matched: exit 1.
tp -c "$EX/instaloader.conf" test-patterns gallery-dl.log
is "$TP_RC" 1 "no match: exit 1"
like "$TP_OUT" '^result: no line matched any pattern$' "no match: said"

# Usage and file errors.
tp -c "$EX/instaloader.conf" test-patterns
is "$TP_RC" 2 "no FILE: exit 2"
like "$TP_ERR" 'no FILE' "no FILE: said"
tp -c "$EX/instaloader.conf" test-patterns instaloader.log missing.log
is "$TP_RC" 1 "missing file: exit 1 (the others are still reported)"
like "$TP_ERR" '^dlmon: missing\.log: No such file' "missing file: named"
like "$TP_OUT" '  attempts: instagram 5 successes, 6 failures' "missing file: the readable one reported"

# Bad timestamps, the match limit, no downloader name, the -v cap of 50,
# a last line without a line end; and no database is created.
cat >"$W/edge.conf" <<EOF2
[database]
path = $W/never.db

[source edge]
files = $LOGDIR/edge.log
success = ^(?<ts>\S+ \S+) OK (?<user>\w+) \[(?<downloader>\w+)\]
failure = ^(?<ts>\S+ \S+) FAIL (?<user>\w+)(?: \[(?<downloader>\w+)\])?
failure = ^(a+)+(?<downloader>x)?\$
EOF2
{
	echo '2025-11-19 09:00:00 OK alice [fastdl]'
	echo '2025-13-45 09:00:00 OK bob [fastdl]'
	echo 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaab'
	echo '2025-11-19 09:00:01 FAIL carol'
	for i in $(seq 1 60); do echo "2025-11-19 09:01:00 something failed $i"; done
	printf '2025-11-19 09:02:00 OK dave [fastdl]'
} >"$LOGDIR/edge.log"
tp -c "$W/edge.conf" test-patterns -v edge.log
is "$TP_RC" 0 "edge: exit 0"
contains "$TP_OUT" "  success   line 6    1 line matched, 1 skipped (timestamp did not parse)" "edge: bad ts counted on its pattern"
contains "$TP_OUT" "  timestamp did not parse: 1 line
    edge.log:2: 2025-13-45 09:00:00 OK bob [fastdl]" "edge: bad ts line shown with FILE:LINE"
contains "$TP_OUT" "  skipped by the match limit: 1 line
    edge.log:3: aaaa" "edge: match-limit line shown with FILE:LINE"
contains "$TP_OUT" "  failure   line 7    1 line matched, 1 without a downloader name (ignored)" "edge: no downloader name counted"
contains "$TP_OUT" "  unmatched lines with failure words: 60 lines" "edge: 60 failure-word lines counted"
is "$(grep -c '^    edge.log:[0-9]*: 2025-11-19 09:01:00 something failed' "$W/tp.out")" 50 "edge: 50 of them shown"
contains "$TP_OUT" "    ... and 10 more" "edge: the rest counted"
contains "$TP_ERR" "edge.log:65: last line has no line end" "edge: unterminated last line mentioned"
ok "edge: no database created" test ! -e "$W/never.db"
contains "$TP_OUT" "  prefilter: off (failure line 8 has no literal text of 3 bytes or more that every match holds)" \
	"edge: the pattern that turns the prefilter off is named"

# A pattern that does not compile: exit 2, naming CONF:LINE.
sed 's/^failure = \(.*\) FAIL .*/failure = \1 FAIL (?<user>\\w+ (?<downloader>x)/' "$W/edge.conf" >"$W/bad.conf"
tp -c "$W/bad.conf" test-patterns edge.log
is "$TP_RC" 2 "bad pattern: exit 2"
like "$TP_ERR" "bad\.conf:7: pattern does not compile" "bad pattern: CONF:LINE"
is "$TP_OUT" "" "bad pattern: no report"

done_testing
