#!/bin/bash
# Odd input, end to end: lines over 1 MiB, NUL bytes, invalid UTF-8 in
# usernames and errors (stored byte-exact: checked with hex()), CRLF line
# ends, a last line completed by a later run (read once), Python tracebacks
# between result lines, a pattern hitting the PCRE2 match limit (warning
# naming FILE:LINE, exit 0, the other lines recorded), and lines without a
# ts group taking the file's current time (latest time read earlier in the
# same file, across runs, else the file's modification time).
. "$(dirname "$0")/lib.sh"
need_scan

# A third failure pattern that backtracks catastrophically on "xxx...xz y"
# (the y is there, so PCRE2's required-character check does not save it);
# and a source without ts groups: its time comes from a timestamp pattern or
# from the file's modification time.
CFG_PO_ENABLED=false CFG_EXTRA='failure = ^(?<ts>\d{4}-\d\d-\d\d \d\d:\d\d:\d\d) \[(?<downloader>\w+)\] WARN (?:x+x+)+y
[source plain]
files = '"$LOGDIR"'/*.txt
downloader = imginn
timestamp = ^== (?<ts>\d{4}-\d\d-\d\d \d\d:\d\d:\d\d) ==$
success = ^OK (?<user>\S+)$
failure = ^FAIL (?<user>\S+) (?<error>.*)$' write_config

M="$LOGDIR/media.log"
P="$LOGDIR/plain.txt"
NOW='2025-11-20 12:00:00'
rows() {
	sql "SELECT downloader, hex(username), timestamp, success, file_count, hex(error_message)
	     FROM download_monitor ORDER BY timestamp, downloader, username"
}
hex() { printf '%s' "$1" | od -An -tx1 | tr -d ' \n' | tr a-f A-F; }
# row DL USER TS SUCCESS COUNT ERROR: the expected rows() line
row() { printf '%s|%s|%s|%s|%s|%s\n' "$1" "$(hex "$2")" "$3" "$4" "$5" "$(hex "$6")"; }

# --- media.log: every odd kind of line, then a good line after each ------------------------
{
	success_line '2025-11-19 08:00:00' fastdl u01 1
	# over 1 MiB: a failure line whose error is 1.5 MiB long, not matched
	printf '2025-11-19 08:01:00 [fastdl] ERROR Download failed for big: '
	head -c 1572864 /dev/zero | tr '\0' 'e'
	printf '\n'
	success_line '2025-11-19 08:02:00' fastdl u02 2
	# NUL bytes in the error; invalid UTF-8 in a username and in an error
	printf '2025-11-19 08:03:00 [fastdl] ERROR Download failed for u03: bad\0byte\n'
	printf '2025-11-19 08:04:00 [fastdl] INFO Downloaded 4 files for us\xff\xfeer\n'
	printf '2025-11-19 08:05:00 [fastdl] ERROR Download failed for u05: caf\xe9 \xc3\x28 closed\n'
	# CRLF
	printf '2025-11-19 08:06:00 [fastdl] ERROR Download failed for u06: timeout\r\n'
	printf '2025-11-19 08:07:00 [fastdl] INFO Downloaded 7 files for u07\r\n'
	# a Python traceback between result lines
	cat <<'EOF'
Traceback (most recent call last):
  File "/opt/media-downloader/modules/fastdl.py", line 212, in download
    raise DownloadError("ERROR Download failed for nobody: not a result line")
modules.fastdl.DownloadError: ERROR Download failed for nobody: not a result line
EOF
	success_line '2025-11-19 08:08:00' fastdl u08 8
	# the match limit (line 14)
	printf '2025-11-19 08:09:00 [fastdl] WARN %sz y\n' "$(head -c 40 /dev/zero | tr '\0' x)"
	success_line '2025-11-19 08:10:00' fastdl u10 10
	# a last line without its newline
	printf '2025-11-19 08:11:00 [fastdl] INFO Downloaded 11 files for u1'
} >"$M"
ok "the long line is over 1 MiB" test "$(sed -n 2p "$M" | wc -c)" -gt 1048576

touch -d '2025-11-19 07:00:00' "$P.tmp"
printf 'OK first\n== 2025-11-19 09:00:00 ==\nOK second\nFAIL third disk full\n' >"$P"
touch -d '2025-11-19 07:30:00' "$P"

run_scan --now "$NOW"
is "$SCAN_RC" 0 "odd input: the run exits 0" || scan_diag
like "$SCAN_ERR" "media\\.log:2: line longer than 1048576 bytes" "the over-long line is named in a warning"
like "$SCAN_ERR" "media\\.log:14: pattern hit the match limit; line skipped" "the match-limit line is named in a warning (FILE:LINE)"
like "$(summary_line)" ' 12 attempts \(0 already known\)' "12 attempts, nothing read twice"
want="$(
	row fastdl u01 2025-11-19T08:00:00 1 1 ''
	row fastdl u02 2025-11-19T08:02:00 1 2 ''
	echo "fastdl|$(hex u03)|2025-11-19T08:03:00|0|0|$(hex bad)00$(hex byte)"   # bash strings hold no NUL
	row fastdl $'us\xff\xfeer' 2025-11-19T08:04:00 1 4 ''
	row fastdl u05 2025-11-19T08:05:00 0 0 $'caf\xe9 \xc3\x28 closed'
	row fastdl u06 2025-11-19T08:06:00 0 0 timeout
	row fastdl u07 2025-11-19T08:07:00 1 7 ''
	row fastdl u08 2025-11-19T08:08:00 1 8 ''
	row fastdl u10 2025-11-19T08:10:00 1 10 ''
)"
is "$(rows | grep '^fastdl')" "$want" "media.log: exact rows, byte-exact texts, CR stripped, the bad lines skipped"
is "$(sql "SELECT hex(error_message) FROM download_monitor WHERE username = 'u03'")" \
	"$(hex 'bad')00$(hex 'byte')" "the NUL byte is stored (hex)"
is "$(sql "SELECT hex(username) FROM download_monitor WHERE file_count = 4")" 7573FFFE6572 \
	"the invalid UTF-8 username is stored as read (hex)"
want="$(
	row imginn first 2025-11-19T07:30:00 1 0 ''
	row imginn second 2025-11-19T09:00:00 1 0 ''
	row imginn third 2025-11-19T09:00:00 0 0 'disk full'
)"
is "$(rows | grep '^imginn')" "$want" "no ts: the file's mtime first, then the latest time read"

# --- the next run: the last line completed; ts-less lines continue the saved time --------------
printf '1\n' >>"$M"
success_line '2025-11-19 08:12:00' fastdl u12 12 >>"$M"
printf 'OK fourth\n' >>"$P"
touch -d '2025-11-19 23:00:00' "$P"     # the mtime is only the fallback
run_scan --now "$NOW"
is "$SCAN_RC" 0 "second run exits 0" || scan_diag
like "$(summary_line)" ' 3 attempts \(0 already known\)' "second run: the completed line, u12, fourth; nothing twice"
is "$(sql "SELECT count(*) || ' ' || max(timestamp) FROM download_monitor WHERE username = 'u11'")" \
	"1 2025-11-19T08:11:00" "the line completed later is read once, whole"
is "$(sql "SELECT timestamp FROM download_monitor WHERE username = 'fourth'")" "2025-11-19T09:00:00" \
	"a ts-less line in a later run takes the time read in the earlier run"
run_scan --now "$NOW"
like "$(summary_line)" ' 0 new lines, 0 attempts ' "third run: nothing new"
is "$(sql 'SELECT count(*) FROM download_monitor')" 15 "15 rows in all"
is "$(sql "SELECT offset FROM dlmon_files WHERE key = '$M'")" "$(stat -c %s "$M")" "media.log read to its end"

done_testing
