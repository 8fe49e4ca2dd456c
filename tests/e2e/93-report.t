#!/usr/bin/env bash
# 93-report.t — `dlmon report --html FILE`, the dashboard page, on a fixed
# database (the seed's DDL, rows written with sqlite3, hostile text and
# invalid UTF-8 among them) and a fixed clock: the numbers and states of
# each card, the chart's days, the latest failures, escaping, --now, the
# atomic write (mode 0644, no partial or temporary file on failure), a
# database dlmon never touched; then the page rendered by headless Chromium
# (skipped when chromium is not installed).
#
# KEEP_WORKDIR=1 keeps $W (the page, and Chromium's screenshot shot.png).

source "$(dirname "$0")/lib.sh"

DLMON="$TOP/bin/dlmon"
[ -x "$DLMON" ] || skip_all "bin/dlmon is not built (run make)"
need_scan

NOW='2025-11-19 13:00:00'     # a Wednesday; the chart shows Thu 13 .. Wed 19

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

# card ID: the <section> of downloader ID's card in $PAGE
card() {
	printf '%s\n' "$PAGE" | awk -v head="id=\"dl-$1\">" '
		index($0, "<section class=\"card") == 1 && index($0, head) { on = 1 }
		on { print }
		on && $0 == "</section>" { exit }'
}

# row ID SUCCESS TIMESTAMP USER ERROR FILES: one INSERT (USER, ERROR as SQL)
row() {
	printf "INSERT INTO download_monitor (downloader, username, timestamp, success, file_count, error_message) VALUES ('%s', %s, '%s', %s, %s, %s);\n" \
		"$1" "$4" "$3" "$2" "${6:-0}" "$5"
}

# The rows.  fastdl fails at 09:00 and 10:00 (alerted by a scan at 10:30);
# imginn at 11:00 and 12:00 (its alert stays pending: Pushover answers 500);
# toolzu is failing but disabled in the file; forums failed 25 times on
# 11-15 (failing, too old to alert); tiktok has one failure (not failing);
# a hostile downloader name succeeds once.  Rows after NOW must not count.
make_rows() {
	{
		echo "BEGIN;"
		row fastdl 1 2025-11-17T10:00:00 "'alice'" NULL 5
		row fastdl 1 2025-11-18T20:00:00 "'alice'" NULL 3
		row fastdl 0 2025-11-19T09:00:00 "'<script>alert(1)</script>'" \
			"'Cloudflare \"challenge\" & <b>bold</b> ''x'''"
		row fastdl 0 2025-11-19T10:00:00 "'evalongoria'" \
			"'bad utf8 ' || CAST(X'FFFE41' AS TEXT) || ' end'"
		row fastdl 1 2025-11-19T14:00:00 "'alice'" NULL 7
		row fastdl 0 2025-11-19T15:00:00 "'alice'" "'future error'"
		row imginn 1 2025-11-10T12:00:00 "'bob'" NULL 2
		row imginn 0 2025-11-19T11:00:00 "'\"''&'" "'<script>alert(2)</script>'"
		row imginn 0 2025-11-19T12:00:00.250 "'bob'" NULL
		row toolzu 0 2025-11-19T08:00:00 "'carol'" "'HTTP 403'"
		row toolzu 0 2025-11-19T08:30:00 "'carol'" "'HTTP 403'"
		row tiktok 1 2025-11-12T23:00:00 "'dave'" NULL 1
		row tiktok 1 2025-11-13T01:00:00 "'dave'" NULL 1
		row tiktok 1 2025-11-19T06:00:00 "'dave'" NULL 4
		row tiktok 0 2025-11-19T12:30:00 "'dave'" "'timeout'"
		local m
		for m in $(seq 10 34); do
			row forums 0 "2025-11-15T10:$m:00" "'erin'" "'thread gone $m'"
		done
		row 'evil<img src=x onerror=alert(3)>' 1 2025-11-19T07:00:00 NULL NULL 1
		echo "COMMIT;"
	} | sql
}

start_receiver
CFG_EXTRA='[downloader toolzu]
enabled = false' write_config
sqlite3 "$DB" "$SEED_DDL"
make_rows

# Scan at 10:30: fastdl's alert is delivered.  Scan at NOW with Pushover
# failing: imginn's alert stays pending (exit 1).  No log file exists.
run_scan --now '2025-11-19 10:30:00'
is "$SCAN_RC" 0 "scan at 10:30 sends fastdl's alert" || scan_diag
is "$(recv_count)" 1 "one push at 10:30"
recv_mode 500
run_scan --now "$NOW"
is "$SCAN_RC" 1 "scan at 13:00: imginn's alert is not delivered" || scan_diag
sum_before=$(md5sum <"$DB")

# --- the page ----------------------------------------------------------------------
dl report --html "$W/out.html"
is "$RC" 0 "report exits 0" || diag "$ERR"
is "$ERR" "" "report prints nothing on stderr"
is "$OUT" "" "report prints nothing on stdout"
is "$(stat -c %a "$W/out.html")" 644 "the page is mode 0644"
is "$(md5sum <"$DB")" "$sum_before" "the database is not changed"
PAGE=$(cat "$W/out.html")

is "$(head -n 1 "$W/out.html")" '<!DOCTYPE html>' "starts with the doctype"
is "$(tail -n 1 "$W/out.html")" '</html>' "ends with </html>"
ok "the page is valid UTF-8" python3 -c 'import sys; open(sys.argv[1], "rb").read().decode("utf-8")' "$W/out.html"
like "$PAGE" "Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\"" \
	"a policy forbids any script or external resource"
unlike "$PAGE" '<(script|img|iframe|link|object)' "no script, image, frame or link element"
unlike "$PAGE" '(src|href)="(https?:|//)' "no external resource"
contains "$PAGE" '&lt;script&gt;alert(1)&lt;/script&gt;' "a hostile username is escaped"
contains "$PAGE" '&lt;script&gt;alert(2)&lt;/script&gt;' "a hostile error is escaped"
contains "$PAGE" '<td class="user">&quot;&#39;&amp;</td>' "quotes and ampersand escaped"
contains "$PAGE" 'Cloudflare &quot;challenge&quot; &amp; &lt;b&gt;bold&lt;/b&gt; &#39;x&#39;' \
	"an error with every special character, escaped"
contains "$PAGE" "bad utf8 ��A end" "invalid UTF-8 shown as U+FFFD"
contains "$PAGE" 'evil&lt;img src=x onerror=alert(3)&gt;' "a hostile downloader name is escaped"
lacks "$PAGE" 'future error' "failures after --now are left out"
contains "$PAGE" '<time class="now">2025-11-19 13:00:00 UTC</time>' "generated at --now"
contains "$PAGE" '<p class="summary bad">3 of 6 downloaders failing: <a href="#dl-fastdl">FastDL</a>, <a href="#dl-forums">Forums</a>, <a href="#dl-imginn">ImgInn</a></p>' \
	"the summary names the failing downloaders"
is "$(printf '%s\n' "$PAGE" | grep -c '^<section class="card')" 6 "one card per downloader"

C=$(card fastdl)
contains "$C" '<section class="card bad" id="dl-fastdl">' "fastdl: red card"
contains "$C" '<h2>FastDL <span class="id">fastdl</span></h2>' "fastdl: display name"
contains "$C" '<span class="badge bad">FAILING</span> <span class="streak">2 consecutive failures</span> since 2025-11-19 09:00:00 <span class="ago">(4+ hours)</span>' \
	"fastdl: failing, streak and since when"
contains "$C" '<p class="alert">Alert sent at 2025-11-19 10:30:00</p>' "fastdl: alert sent, when"
contains "$C" '<dd class="last-success">2025-11-18 20:00:00 <span class="ago">(17 hours ago)</span>' \
	"fastdl: last success (the one after --now left out)"
contains "$C" '<dd class="last-attempt">2025-11-19 10:00:00 <span class="ago">(3 hours ago)</span>' \
	"fastdl: last attempt"
contains "$C" '<dd class="rate-24h">33.3 % <span class="ago">(1 of 3)</span>' "fastdl: 24 h rate"
contains "$C" '<dd class="rate-7d">50.0 % <span class="ago">(2 of 4)</span>' "fastdl: 7-day rate"
contains "$C" '<dd class="files">3 <span class="ago">(24 h)</span> · 8 <span class="ago">(7 days)</span>' \
	"fastdl: files downloaded"
contains "$C" '<title>2025-11-17: 1 successful, 0 failed</title>' "fastdl: chart, Monday"
contains "$C" '<title>2025-11-19: 0 successful, 2 failed</title>' "fastdl: chart, today (no future rows)"
is "$(printf '%s\n' "$C" | grep -o '<text class="day"[^>]*>[^<]*' | sed 's/.*>//' | paste -sd,)" \
	'Thu 13,Fri 14,Sat 15,Sun 16,Mon 17,Tue 18,Wed 19' "fastdl: chart, 7 days to today"
contains "$C" '<span class="user">evalongoria</span>' "fastdl: latest failure's user"

C=$(card imginn)
contains "$C" '<span class="streak">2 consecutive failures</span> since 2025-11-19 11:00:00' "imginn: failing"
contains "$C" '<p class="alert">Alert pending: not delivered yet, retried at the next scan</p>' \
	"imginn: alert pending"
contains "$C" '<dd class="last-success">2025-11-10 12:00:00 <span class="ago">(9 days ago)</span>' \
	"imginn: last success older than the week"
contains "$C" '<dd class="rate-7d">0.0 % <span class="ago">(0 of 2)</span>' "imginn: 7-day rate"
contains "$C" '<dd class="last-attempt">2025-11-19 12:00:00 <span class="ago">(1 hour ago)</span>' \
	"imginn: a timestamp with fractions, at --now's hour"
contains "$C" '<span class="error">(no error text)</span>' "imginn: a failure without error text"

C=$(card toolzu)
contains "$C" '<section class="card off"' "toolzu: grey card"
contains "$C" '<span class="badge off">NOT MONITORED</span> disabled in the configuration' \
	"toolzu: disabled in the file"

C=$(card forums)
contains "$C" '<span class="streak">25 consecutive failures</span>' "forums: streak length"
contains "$C" 'No alert: the latest failure is older than max_alert_age_hours (24 h)' \
	"forums: too old to alert"
contains "$C" '<dd class="last-success">never</dd>' "forums: never succeeded"

C=$(card tiktok)
contains "$C" '<section class="card warn"' "tiktok: amber card"
contains "$C" '<span class="badge warn">OK</span> <span class="streak">1 failure</span> since the last success (failing takes 2 within 3 h)' \
	"tiktok: one failure, not failing"
contains "$C" '<dd class="rate-24h">50.0 % <span class="ago">(1 of 2)</span>' "tiktok: 24 h rate"
contains "$C" '<dd class="rate-7d">75.0 % <span class="ago">(3 of 4)</span>' \
	"tiktok: 7-day rate is the last 168 hours"
contains "$C" '<title>2025-11-13: 1 successful, 0 failed</title>' "tiktok: the chart's first day starts at midnight"
lacks "$C" '<p class="alert">' "tiktok: no alert line"

# The latest failures: 20 of 32, newest first, across downloaders.
T=$(printf '%s\n' "$PAGE" | sed -n '/<table class="failures">/,/<\/table>/p' | grep '^<tr><td')
is "$(printf '%s\n' "$T" | wc -l)" 20 "20 latest failures"
like "$(printf '%s\n' "$T" | head -n 1)" '^<tr><td class="time">2025-11-19 12:30:00</td><td class="dl">TikTok</td><td class="user">dave</td><td class="error">timeout</td>' \
	"newest failure first"
is "$(printf '%s\n' "$T" | sed 's/<td class="time">\([^<]*\).*/\1/; s/<tr>//' | sort -r | paste -sd,)" \
	"$(printf '%s\n' "$T" | sed 's/<td class="time">\([^<]*\).*/\1/; s/<tr>//' | paste -sd,)" "in time order"
like "$(printf '%s\n' "$T" | tail -n 1)" '2025-11-15 10:22:00.*thread gone 22' "the 20th is the 13th newest of forums"
like "$(printf '%s\n' "$T" | grep '10:00:00' | head -n 1)" '<td class="sent">yes</td>' \
	"a failure the alert covered is marked"

# --- writing ---------------------------------------------------------------------------
ino=$(stat -c %i "$W/out.html")
chmod 600 "$W/out.html"
(umask 077; dl report --html "$W/out.html"; [ "$RC" = 0 ])
ok "a second report replaces the page" [ "$?" = 0 ]
isnt "$(stat -c %i "$W/out.html")" "$ino" "by a rename (a new file)"
is "$(stat -c %a "$W/out.html")" 644 "mode 0644 whatever the umask"
is "$(find "$W" -maxdepth 1 -name 'out.html.*' | wc -l)" 0 "no temporary file left"

mkdir "$W/isdir"
dl report --html "$W/isdir"
is "$RC" 1 "a directory in the way: exit 1"
contains "$ERR" "dlmon: $W/isdir: " "the error names the path"
is "$(find "$W" -maxdepth 1 -name 'isdir.*' | wc -l)" 0 "no temporary file left after a failed rename"

dl report --html "$W/nodir/out.html"
is "$RC" 1 "a missing folder: exit 1"
contains "$ERR" "$W/nodir/out.html" "the error names the path"

if [ "$(id -u)" != 0 ]; then
	mkdir "$W/ro" && chmod 555 "$W/ro"
	dl report --html "$W/ro/out.html"
	is "$RC" 1 "an unwritable folder: exit 1"
	contains "$ERR" "$W/ro/out.html" "the error names the path"
	is "$(ls -A "$W/ro" | wc -l)" 0 "nothing written in it"
	chmod 755 "$W/ro"
else
	# root writes anywhere: a file in the way of the folder instead
	: >"$W/afile"
	dl report --html "$W/afile/out.html"
	is "$RC" 1 "a file where the folder should be: exit 1"
	contains "$ERR" "$W/afile/out.html" "the error names the path"
fi

dl report
is "$RC" 2 "report without --html: exit 2"
contains "$ERR" "--html FILE is required" "says what is missing"

CFG_DB="$W/missing.db" write_config "$W/missing.conf"
"$DLMON" -c "$W/missing.conf" --now "$NOW" report --html "$W/m.html" >"$W/m.out" 2>"$W/m.err"
is "$?" 1 "a missing database: exit 1"
contains "$(cat "$W/m.err")" "$W/missing.db" "the error names the database"
ok "no page written" [ ! -e "$W/m.html" ]
ok "no database created" [ ! -e "$W/missing.db" ]

# A database only the original application wrote (no dlmon_* tables).
sqlite3 "$W/seed.db" "$SEED_DDL"
SQL_DB="$W/seed.db" sql "INSERT INTO download_monitor (downloader, username, timestamp, success, error_message, alert_sent) VALUES ('snapchat', 'frank', '2025-11-19T11:00:00.123456', 0, 'boom', 1), ('snapchat', 'frank', '2025-11-19T12:00:00', 0, 'boom', 1);"
CFG_DB="$W/seed.db" write_config "$W/seed.conf"
"$DLMON" -c "$W/seed.conf" --now "$NOW" report --html "$W/seed.html" 2>"$W/seed.err"
is "$?" 0 "a database dlmon never opened: exit 0" || diag "$(cat "$W/seed.err")"
SEEDPAGE=$(cat "$W/seed.html" 2>/dev/null)
contains "$SEEDPAGE" 'Alerted already (alert_sent is set on its failures)' \
	"the original application's alert_sent counts"
contains "$SEEDPAGE" '<h2>Snapchat <span class="id">snapchat</span></h2>' "its downloader's card"
is "$(sqlite3 "$W/seed.db" "SELECT count(*) FROM sqlite_master WHERE name LIKE 'dlmon%'")" 0 \
	"no dlmon table created"

# An empty database: a page that says so.
sqlite3 "$W/empty.db" "$SEED_DDL"
CFG_DB="$W/empty.db" write_config "$W/empty.conf"
"$DLMON" -c "$W/empty.conf" --now "$NOW" report --html "$W/empty.html" 2>/dev/null
is "$?" 0 "an empty database: exit 0"
contains "$(cat "$W/empty.html")" 'No attempts recorded yet.' "the page says so"
contains "$(cat "$W/empty.html")" 'No failure recorded.' "and has no failures table"

# --- rendered by a browser ---------------------------------------------------------------
CHROMIUM=$(command -v chromium || command -v chromium-browser || true)
if [ -z "$CHROMIUM" ]; then
	printf 'ok %d # skip chromium is not installed\n' $((_T_N + 1)) >&"$_TAP_FD"
	_T_N=$((_T_N + 1))
else
	chrome() {
		timeout 120 "$CHROMIUM" --headless --no-sandbox --disable-gpu --disable-quic \
			--no-first-run --disable-background-networking --disable-component-update \
			--disable-sync --user-data-dir="$W/chrome" "$@" "file://$W/out.html" 2>>"$W/chrome.err"
	}
	chrome --dump-dom >"$W/dom.html"
	DOM=$(cat "$W/dom.html")
	is "$(printf '%s\n' "$DOM" | grep -c '<section class="card')" 6 "rendered: six cards in the DOM" ||
		diag "$(tail -n 5 "$W/chrome.err")"
	unlike "$DOM" '<script' "rendered: no script element"
	contains "$DOM" '&lt;script&gt;alert(1)&lt;/script&gt;' "rendered: the hostile name is text"
	is "$(printf '%s\n' "$DOM" | grep -c '<svg class="chart"')" 6 "rendered: one chart per card"
	chrome --screenshot="$W/shot.png" --window-size=1280,1600 >/dev/null
	ok "rendered: a screenshot" [ -s "$W/shot.png" ]
	is "$(head -c 8 "$W/shot.png" | od -An -c | tr -d ' ')" '211PNG\r\n032\n' "rendered: a PNG"
fi

done_testing
