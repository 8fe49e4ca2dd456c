#!/bin/bash
# The rotation matrix, end to end: the globs match only the live files and
# dlmon-scan finds the rotated ones itself.  Every case checks the exact rows
# in download_monitor and, since dedup by identity would hide a line read
# twice, also the run's "(N already known)" counter: a re-read is a failure
# even when it adds no row.  logrotate itself rotates where it is installed.
. "$(dirname "$0")/lib.sh"
need_scan

# L N: a success line of user uN at 2025-11-19 08:00 + N minutes, N files.
L() {
	local t
	t=$(date -u -d "@$((1763539200 + $1 * 60))" '+%Y-%m-%d %H:%M:%S')
	success_line "$t" fastdl "u$1" "$1"
}
# Ls N... : the lines of L for each N
Ls() { local n; for n in "$@"; do L "$n"; done; }
# exp N... : the rows the lines of Ls N... must give, in the order of rows()
exp() {
	local n
	for n in "$@"; do
		printf 'fastdl|u%s|%s|1|%s|\n' "$n" \
			"$(date -u -d "@$((1763539200 + n * 60))" '+%Y-%m-%dT%H:%M:%S')" "$n"
	done | sort
}
rows() {
	sql "SELECT downloader, username, timestamp, success, file_count, ifnull(error_message, '')
	     FROM download_monitor" | sort
}

NOW='2025-11-20 12:00:00'
# scan DESC ATTEMPTS: one run; it must exit 0, find ATTEMPTS attempts, none known.
scan() {
	run_scan --now "$NOW"
	is "$SCAN_RC" 0 "$1: exit 0" || scan_diag
	like "$(summary_line)" " $2 attempts? \\(0 already known\\)" "$1: $2 new attempts, nothing read twice" ||
		scan_diag
}
# check DESC N...: the table holds exactly the rows of lines N...
check() { is "$(rows)" "$(exp "${@:2}")" "$1: exact rows"; }

# fresh [GLOBS]: empty log folder and database; the source reads GLOBS
# (default: the live files $LOGDIR/*.log).
fresh() {
	rm -rf "$LOGDIR" "$DB" "$DB"-* "$W"/lr.*
	mkdir -p "$LOGDIR"
	CFG_PO_ENABLED=false write_config
	if [ -n "${1:-}" ]; then
		sed -i "s|^files = .*|files = $1|" "$CONF"
	fi
}

# rotate OPTIONS...: logrotate -f on $LOGDIR/media.log with these directives
# (or the same by hand when logrotate is not installed).
rotate() {
	local opt
	if command -v logrotate >/dev/null || [ -x /usr/sbin/logrotate ]; then
		{
			echo "$LOGDIR/media.log {"
			echo "  rotate 5"
			echo "  missingok"
			for opt in "$@"; do echo "  $opt"; done
			echo "}"
		} >"$W/lr.conf"
		PATH=$PATH:/usr/sbin logrotate -f -s "$W/lr.state" "$W/lr.conf" ||
			diag "logrotate failed"
		return 0
	fi
	local compress=0 copy=0 date=0 i
	for opt in "$@"; do
		case $opt in compress) compress=1 ;; copytruncate) copy=1 ;; dateext) date=1 ;; esac
	done
	local to="$LOGDIR/media.log.1"
	if [ "$date" = 1 ]; then
		to="$LOGDIR/media.log-$(date +%Y%m%d)"
	else
		for i in 4 3 2 1; do
			[ -e "$LOGDIR/media.log.$i.gz" ] && mv "$LOGDIR/media.log.$i.gz" "$LOGDIR/media.log.$((i + 1)).gz"
			[ -e "$LOGDIR/media.log.$i" ] && mv "$LOGDIR/media.log.$i" "$LOGDIR/media.log.$((i + 1))"
		done
	fi
	if [ "$copy" = 1 ]; then
		cp -p "$LOGDIR/media.log" "$to"
		: >"$LOGDIR/media.log"
	else
		mv "$LOGDIR/media.log" "$to"
		: >"$LOGDIR/media.log"
	fi
	[ "$compress" = 1 ] && gzip "$to"
	return 0
}

M="$LOGDIR/media.log"

# --- rename and create, unread lines left in media.log.1 -------------------------
fresh
Ls 1 2 >"$M"
scan "rename: first run" 2
Ls 3 4 >>"$M"
rotate create
ok "rename: media.log.1 exists" test -f "$M.1"
Ls 5 >>"$M"
scan "rename: tail of media.log.1 and the new file" 3
check "rename" 1 2 3 4 5
Ls 6 >>"$M"
scan "rename: next run continues the new file" 1
check "rename, next run" 1 2 3 4 5 6
# a second rotation: media.log.1 becomes .2, the live file goes to .1
Ls 7 >>"$M"
rotate create
Ls 8 >>"$M"
scan "rename twice: tail of the new media.log.1" 2
check "rename twice" 1 2 3 4 5 6 7 8

# --- the same, media.log.1 compressed before the next run (no delaycompress) -------
fresh
Ls 1 2 >"$M"
scan "gzip: first run" 2
Ls 3 4 >>"$M"
rotate create compress
ok "gzip: media.log.1.gz exists" test -f "$M.1.gz"
ok "gzip: no plain media.log.1 left" test ! -e "$M.1"
Ls 5 >>"$M"
scan "gzip: unread tail read from media.log.1.gz" 3
check "gzip" 1 2 3 4 5
scan "gzip: run with nothing new" 0
# rotated and compressed twice between runs: the tail of .2.gz, then all of
# .1.gz (never live at a run), then the new file
Ls 6 >>"$M"
rotate create compress
Ls 7 >>"$M"
rotate create compress
Ls 8 >>"$M"
ok "gzip twice: media.log.2.gz exists" test -f "$M.2.gz"
scan "gzip twice: the tail of .2.gz, all of .1.gz, the new file" 3
check "gzip twice" 1 2 3 4 5 6 7 8
scan "gzip twice: nothing new" 0

# --- dateext names ------------------------------------------------------------------
fresh
Ls 1 >"$M"
scan "dateext: first run" 1
Ls 2 >>"$M"
rotate create compress dateext 'dateformat -%Y%m%d'
ok "dateext: media.log-YYYYMMDD.gz exists" compgen -G "$M-2*.gz" >/dev/null
Ls 3 >>"$M"
scan "dateext: tail of media.log-DATE.gz" 2
check "dateext" 1 2 3

# --- copytruncate ---------------------------------------------------------------------
fresh
Ls 1 2 >"$M"
scan "copytruncate: first run" 2
Ls 3 4 >>"$M"
rotate copytruncate
is "$(stat -c %s "$M")" 0 "copytruncate: live file truncated in place"
Ls 5 >>"$M"
scan "copytruncate: tail of the copy, then the live file from 0" 3
check "copytruncate" 1 2 3 4 5
# regrown past the old offset before the next run
Ls 6 >>"$M"
scan "copytruncate regrown: setup run" 1
rm "$M.1"                # read; logrotate would keep a plain .1 beside .1.gz
Ls 7 >>"$M"
rotate copytruncate compress
Ls 8 9 10 11 12 13 14 15 >>"$M"
scan "copytruncate regrown past the offset: tail of the .gz copy, live from 0" 9
check "copytruncate regrown" 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15

# --- plain truncation (no copy kept) ---------------------------------------------------
fresh
Ls 1 2 3 >"$M"
scan "truncation: first run" 3
: >"$M"
Ls 4 >>"$M"
scan "truncation: new content read from 0" 1
check "truncation" 1 2 3 4
# truncated and rewritten longer than before
Ls 5 6 7 8 >>"$M"
scan "truncation: setup" 4
ino=$(stat -c %i "$M")
Ls 10 11 12 13 14 15 16 17 >"$M"
is "$(stat -c %i "$M")" "$ino" "truncation: same inode"
scan "truncation: rewritten past the offset, read from 0" 8
check "truncation, rewritten" 1 2 3 4 5 6 7 8 10 11 12 13 14 15 16 17

# --- inode reused by a file with other content --------------------------------------------
fresh
Ls 1 2 >"$M"
Ls 20 >"$LOGDIR/other.log"
scan "inode reuse: first run" 3
ino=$(stat -c %i "$M")
rm "$M"
# the freed inode goes to the next file created in the same folder, on most
# file systems; try a few times, then say whether it happened
for i in 1 2 3 4 5 6 7 8; do
	Ls 30 31 32 33 >"$M.new"
	[ "$(stat -c %i "$M.new")" = "$ino" ] && break
	rm "$M.new"
	: >"$W/filler.$i"
done
[ -e "$M.new" ] || Ls 30 31 32 33 >"$M.new"
mv "$M.new" "$M"
reused=no
[ "$(stat -c %i "$M")" = "$ino" ] && reused=yes
diag "inode reused by the new media.log: $reused"
scan "inode reuse: the new file is read from 0" 4
check "inode reuse" 1 2 20 30 31 32 33
# the same, forced: other content written into the same inode, longer than before
Ls 40 41 42 43 44 45 46 47 48 49 >"$M"
scan "same inode, other content: read from 0" 10
check "same inode, other content" 1 2 20 30 31 32 33 40 41 42 43 44 45 46 47 48 49

# --- empty files ------------------------------------------------------------------------------
fresh
: >"$M"
: >"$LOGDIR/empty.log"
scan "empty: first run" 0
is "$(sql 'SELECT count(*) FROM download_monitor')" 0 "empty: no rows"
Ls 1 >>"$M"
scan "empty: lines written to a file that was empty" 1
check "empty, then written" 1
# rotated (logrotate: ifempty) and a new file written
rotate create
Ls 2 3 >>"$M"
scan "empty: after rotation" 2
check "empty, rotated" 1 2 3
# written and rotated (renamed) while it was empty at the last run
Ls 4 >"$LOGDIR/empty.log"
mv "$LOGDIR/empty.log" "$LOGDIR/empty.log.1"
: >"$LOGDIR/empty.log"
scan "empty at the last run, then written and renamed: its lines read" 1
check "empty, written, rotated" 1 2 3 4

# --- a first line that is only "\n" -------------------------------------------------------------
fresh
{ printf '\n'; Ls 1 2; } >"$M"
scan "blank first line: first run" 2
Ls 3 >>"$M"
rotate create
{ printf '\n'; Ls 4; } >>"$M"
scan "blank first line: rotated, new file also starts with \\n" 2
check "blank first line, rename" 1 2 3 4
Ls 5 >>"$M"
rotate copytruncate
{ printf '\n'; Ls 6; } >>"$M"
scan "blank first line: copytruncate" 2
check "blank first line, copytruncate" 1 2 3 4 5 6
# files that are nothing but "\n" at the first look, then written and rotated
fresh
printf '\n' >"$M"
printf '\n' >"$LOGDIR/other.log"
scan "only a newline: first run" 0
Ls 1 >>"$M"
Ls 11 >>"$LOGDIR/other.log"
rotate create compress
{ printf '\n'; Ls 2 3; } >>"$M"
scan "only a newline, then rotated and compressed" 4
check "only a newline" 1 2 3 11

# --- two files with identical first lines ------------------------------------------------------------
fresh
HDR='=== media-downloader 2.4 started ==='
{ echo "$HDR"; Ls 1 2; } >"$M"
{ echo "$HDR"; Ls 11 12; } >"$LOGDIR/other.log"
scan "identical first lines: first run reads both" 4
Ls 3 >>"$M"
rotate create compress
{ echo "$HDR"; Ls 4; } >>"$M"
Ls 13 >>"$LOGDIR/other.log"
scan "identical first lines: one rotated, the other appended" 3
check "identical first lines" 1 2 3 4 11 12 13
# identical content: a copy of a file is another file (read, all known)
cp "$LOGDIR/other.log" "$LOGDIR/copy.log"
run_scan --now "$NOW"
like "$(summary_line)" ' 3 attempts \(3 already known\)' "a copied file is read and stored once"
check "identical copy" 1 2 3 4 11 12 13

# --- a glob matching both the live and the rotated names ---------------------------------------------
fresh "$LOGDIR/media.log*"
Ls 1 2 >"$M"
Ls 90 >"$M.5"            # an old rotated file from before dlmon: history, not read
scan "glob live+rotated: first run reads only the live file" 2
Ls 3 >>"$M"
rotate create
Ls 4 >>"$M"
scan "glob live+rotated: rename" 2
rotate create compress
Ls 5 >>"$M"
scan "glob live+rotated: compressed" 1
Ls 6 >>"$M"
rotate copytruncate
Ls 7 >>"$M"
scan "glob live+rotated: copytruncate" 2
scan "glob live+rotated: nothing new" 0
check "glob live+rotated" 1 2 3 4 5 6 7
is "$(sql 'SELECT key FROM dlmon_files')" "$M" "glob live+rotated: one position, the live file's"

# --- a file deleted between runs ----------------------------------------------------------------------
fresh
Ls 1 >"$M"
Ls 2 >"$LOGDIR/gone.log"
scan "deleted: first run" 2
is "$(sql 'SELECT count(*) FROM dlmon_files')" 2 "deleted: two positions"
rm "$LOGDIR/gone.log"
scan "deleted: run after the delete" 0
is "$(sql 'SELECT key FROM dlmon_files')" "$M" "deleted: its position row is removed"
check "deleted" 1 2
# deleted after a rotation left unread lines: the tail is read, then forgotten
Ls 3 >"$LOGDIR/gone.log"
scan "deleted with tail: setup" 1
Ls 4 >>"$LOGDIR/gone.log"
mv "$LOGDIR/gone.log" "$LOGDIR/gone.log.1"
scan "deleted with tail: the tail of gone.log.1 is read" 1
check "deleted with tail" 1 2 3 4
rm "$LOGDIR/gone.log.1"
scan "deleted with tail: next run" 0
is "$(sql 'SELECT key FROM dlmon_files')" "$M" "deleted with tail: position removed once nothing is left"

done_testing
