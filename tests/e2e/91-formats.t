#!/bin/bash
# Real log formats: each example configuration in etc/examples/ (as shipped,
# only its files = line pointed at the sample) ingests its sample log from
# tests/data/formats/ into exactly the expected rows, and a second run adds
# nothing.
. "$(dirname "$0")/lib.sh"
need_scan

NOW='2025-11-19 16:00:00'
ROWS="SELECT downloader, ifnull(username,'NULL'), timestamp, success, file_count,
             ifnull(error_message,'NULL') FROM download_monitor ORDER BY timestamp, id"

# format_case EXAMPLE SAMPLE: configuration $W/EXAMPLE.conf (database
# $W/EXAMPLE.db, logs in $W/EXAMPLE/) and one scan; sets DB for sql.
format_case() {
	local ex=$1 sample=$2 dir="$W/$1"
	mkdir -p "$dir"
	cp "$DATA/formats/$sample" "$dir/"
	DB="$W/$ex.db"
	CONF="$W/$ex.conf"
	{
		printf '[database]\npath = %s\n\n[pushover]\nenabled = false\n\n' "$DB"
		sed "s|^files = .*|files = $dir/*.log|" "$TOP/etc/examples/$ex.conf"
	} >"$CONF"
	run_scan --now "$NOW"
	is "$SCAN_RC" 0 "$ex: scan exits 0" || scan_diag
	is "$SCAN_ERR" "" "$ex: nothing on stderr"
}

# again EXAMPLE: a second scan reads nothing new and adds no row
again() {
	local before
	before=$(sql 'SELECT count(*) FROM download_monitor')
	run_scan --now "$NOW"
	is "$SCAN_RC" 0 "$1: second scan exits 0"
	is "$(sql 'SELECT count(*) FROM download_monitor')" "$before" "$1: second scan adds no row"
}

# (a) the media-downloader's Python logging: [logger] is the downloader,
# ",123" fractions ignored, [Snapchat] stored lower-case, tracebacks and
# DEBUG retries are not attempts.
format_case media-downloader media-downloader.log
is "$(sql "$ROWS")" \
"fastdl|evalongoria|2025-11-19T09:00:41|1|5|NULL
fastdl|natgeo|2025-11-19T09:03:45|0|0|Cloudflare challenge
imginn|nasa|2025-11-19T09:05:18|1|0|NULL
toolzu|bbcnews|2025-11-19T09:10:12|0|0|HTTP 429 Too Many Requests
toolzu|evalongoria|2025-11-19T09:12:31|0|0|Read timed out. (read timeout=30)
snapchat|djkhaled|2025-11-19T09:15:44|1|1|NULL
snapchat|kimkardashian|2025-11-19T09:20:31|0|0|Timeout 30000ms exceeded.
fastdl|natgeo|2025-11-19T12:00:39|1|12|NULL
toolzu|bbcnews|2025-11-19T12:10:09|0|0|HTTP 429 Too Many Requests" \
	"media-downloader: exact rows"
again media-downloader

# (b) yt-dlp for TikTok: no timestamps; the wrapper's "=== DATE TIME ..."
# line sets the time of the lines after it; a video's ERROR has no user.
format_case ytdlp-tiktok tiktok.log
is "$(sql "$ROWS")" \
"tiktok|NULL|2025-11-19T09:00:01|0|0|7301111111111: Unable to extract webpage video data
tiktok|charlidamelio|2025-11-19T09:00:01|1|0|NULL
tiktok|khaby.lame|2025-11-19T09:00:09|0|0|Unable to extract secondary user ID
tiktok|khaby.lame|2025-11-19T15:00:01|0|0|Unable to extract secondary user ID
tiktok|charlidamelio|2025-11-19T15:00:06|1|0|NULL" \
	"ytdlp-tiktok: exact rows"
again ytdlp-tiktok

# (c) instaloader through ts(1): every post line is a success of its
# profile; query errors, "Login required." and fatal errors are failures.
format_case instaloader instaloader.log
is "$(sql "$ROWS")" \
"instagram|natgeo|2025-11-19T09:00:04|1|0|NULL
instagram|natgeo|2025-11-19T09:00:06|1|0|NULL
instagram|natgeo|2025-11-19T09:00:07|1|0|NULL
instagram|NULL|2025-11-19T09:00:11|0|0|429 Too Many Requests
instagram|nasa|2025-11-19T09:10:25|1|0|NULL
instagram|nasa|2025-11-19T09:10:27|1|0|NULL
instagram|NULL|2025-11-19T12:00:03|0|0|401 Unauthorized
instagram|NULL|2025-11-19T12:00:04|0|0|Login required
instagram|NULL|2025-11-19T15:00:03|0|0|429 Too Many Requests
instagram|NULL|2025-11-19T15:00:33|0|0|429 Too Many Requests
instagram|NULL|2025-11-19T15:01:03|0|0|Login: Checkpoint required. Point your browser to https://www.instagram.com/challenge/ - follow the instructions, then retry." \
	"instaloader: exact rows"
again instaloader

# (d) gallery-dl style scrapers (Coppermine, forums): [name] is the
# downloader; [downloader.http] retries and gallery-dl's summary are not.
format_case gallery-dl gallery-dl.log
is "$(sql "$ROWS")" \
"coppermine|evalongoria|2025-11-19T09:30:14|1|3|NULL
coppermine|natgeo|2025-11-19T09:31:08|0|0|HttpError: '503 Service Unavailable' for 'https://photos.example.com/albums/userpics/10001/wl_0231.jpg'
forums|evalongoria|2025-11-19T09:45:07|1|2|NULL
forums|bbcnews|2025-11-19T09:46:02|0|0|Login failed: \"You must be logged-in to do that.\" (cookies expired?)
coppermine|natgeo|2025-11-19T12:30:19|1|1|NULL
forums|bbcnews|2025-11-19T12:45:02|0|0|HttpError: '403 Forbidden' for 'https://forum.example.net/showthread.php?t=5512&page=41'" \
	"gallery-dl: exact rows"
again gallery-dl

# The examples obey the configuration file's rules as shipped: no line of
# 199 bytes or more, and each loads on its own (every other section defaulted).
for f in "$TOP"/etc/examples/*.conf; do
	is "$(LC_ALL=C awk 'length($0) >= 199 { print FILENAME ":" FNR }' "$f")" "" "$(basename "$f"): every line below 199 bytes"
	"$TOP/bin/dlmon" -c "$f" config get database.path >/dev/null 2>"$W/cfg.err"
	is "$?:$(cat "$W/cfg.err")" "0:" "$(basename "$f"): loads as shipped"
done

done_testing
