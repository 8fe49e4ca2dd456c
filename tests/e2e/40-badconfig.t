#!/bin/bash
# Configuration and usage errors: exit 2, a message naming FILE:LINE (or the
# path and mode of a secret file), and nothing done (no database created).
. "$(dirname "$0")/lib.sh"
need_scan

API_URL=http://127.0.0.1:9/1/messages.json
head -n 2 "$DATA/scenario2.log" >"$LOGDIR/media.log"   # one success: nothing to send
write_config "$W/good.conf"

# line_of FILE ERE: the number of the first line matching ERE
line_of() { grep -nE -- "$2" "$1" | head -n 1 | cut -d: -f1; }

# bad_case NAME EXPECTED-STDERR-ERE: run on $W/NAME/dlmon.conf, expect exit 2
bad_case() {
	local name=$1 ere=$2 dir="$W/$1"
	run_scan_raw -c "$dir/dlmon.conf" --now '2025-11-19 12:00:30'
	is "$SCAN_RC" 2 "$name: exit 2" || scan_diag
	[ -n "${SHOW_ERR:-}" ] && diag "$SCAN_ERR"
	like "$SCAN_ERR" "$ere" "$name: stderr names the place"
	is "$(ls -A "$dir/db" 2>/dev/null)" "" "$name: no database created"
}

# new_case NAME: a copy of the good configuration with its own database
new_case() {
	mkdir -p "$W/$1"
	sed "s|^path = .*|path = $W/$1/db/db.sqlite|" "$W/good.conf" >"$W/$1/dlmon.conf"
	mkdir -p "$W/$1/db"
	echo "$W/$1/dlmon.conf"
}

# insert_after FILE ERE TEXT: insert TEXT as a line after the first line matching ERE
insert_after() {
	local n
	n=$(line_of "$1" "$2")
	sed -i "${n}a\\
$3" "$1"
}

# The good configuration works (so the failures below are the bad lines).
f=$(new_case good)
run_scan_raw -c "$f" --now '2025-11-19 12:00:30'
is "$SCAN_RC" 0 "the good configuration runs" || scan_diag
ok "the good configuration creates its database" test -f "$W/good/db/db.sqlite"

f=$(new_case unknown-key)
insert_after "$f" '^\[monitoring\]' 'failure_windows_hours = 3'
bad_case unknown-key "dlmon\.conf:$(line_of "$f" '^failure_windows_hours'):.*failure_windows_hours"

f=$(new_case bad-number)
sed -i 's/^min_consecutive_failures = .*/min_consecutive_failures = two/' "$f"
bad_case bad-number "dlmon\.conf:$(line_of "$f" '^min_consecutive_failures'):"

f=$(new_case bad-range)
sed -i 's/^retention_days = .*/retention_days = -5/' "$f"
bad_case bad-range "dlmon\.conf:$(line_of "$f" '^retention_days'):"

f=$(new_case unknown-section)
printf '\n[sauce media]\nfiles = /tmp/x.log\n' >>"$f"
n=$(line_of "$f" '^\[sauce media\]')
bad_case unknown-section "dlmon\.conf:($n|$((n + 1))):"

f=$(new_case long-line)
printf 'success = ^(?<ts>\\S+ \\S+) \\[(?<downloader>\\w+)\\] INFO %s(?<user>\\S+)\n' "$(printf 'x%.0s' $(seq 1 200))" >>"$f"
n=$(line_of "$f" 'INFO xxxx')
ok "long-line: the line is over 199 bytes" test "$(sed -n "${n}p" "$f" | wc -c)" -gt 200
bad_case long-line "dlmon\.conf:$n:"

f=$(new_case bad-pattern)
printf 'failure = ^(?<ts>\\S+ \\S+) \\[(?<downloader>\\w+)\\] (?<user>\\w+ unclosed\n' >>"$f"
bad_case bad-pattern "dlmon\.conf:$(line_of "$f" 'unclosed'):.*([Pp]arenthes|[Cc]ompil|PCRE|pcre)"

f=$(new_case token-twice)
insert_after "$f" '^token_file' "token = $PO_TOKEN"
a=$(line_of "$f" '^token ='); b=$(line_of "$f" '^token_file')
bad_case token-twice "dlmon\.conf:($a|$b):"
lacks "$SCAN_ERR" "$PO_TOKEN" "token-twice: the token is not printed"

f=$(new_case repeated-section)
printf '\n[database]\nbusy_timeout_ms = 100\n' >>"$f"
n=$(line_of "$f" '^busy_timeout_ms = 100')
bad_case repeated-section "dlmon\.conf:($((n - 1))|$n):"

f=$(new_case token-mode)
cp "$W/pushover.token" "$W/token-mode/token"
chmod 644 "$W/token-mode/token"
sed -i "s|^token_file = .*|token_file = $W/token-mode/token|" "$f"
bad_case token-mode "token-mode/token.*(0644|644|-rw-r--r--)|(0644|644|-rw-r--r--).*token-mode/token"

f=$(new_case missing-secret)
sed -i "s|^user_file = .*|user_file = $W/missing-secret/nonexistent|" "$f"
bad_case missing-secret "missing-secret/nonexistent"

# Usage errors.
f=$(new_case usage)
run_scan_raw -c "$f" --bogus-flag
is "$SCAN_RC" 2 "unknown flag: exit 2"
like "$SCAN_ERR" 'bogus-flag|usage' "unknown flag: message"
run_scan_raw -c "$f" --now 'yesterday'
is "$SCAN_RC" 2 "--now yesterday: exit 2"
like "$SCAN_ERR" 'yesterday' "--now yesterday: names the value"
run_scan_raw -c "$f" --now '2025-13-45 99:00:00'
is "$SCAN_RC" 2 "--now with impossible date: exit 2"
run_scan_raw -c "$f" extra-argument
is "$SCAN_RC" 2 "stray argument: exit 2"
run_scan_raw -c "$W/usage/no-such.conf" --now '2025-11-19 12:00:30'
is "$SCAN_RC" 2 "missing configuration file: exit 2"
like "$SCAN_ERR" 'no-such\.conf' "missing configuration file: named"
is "$(ls -A "$W/usage/db")" "" "usage errors create no database"

done_testing
