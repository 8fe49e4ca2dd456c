#!/bin/bash
# --dry-run prints what a run would record, send and prune, and changes
# nothing: database bytes, positions, alert rows; no HTTP request; no file.
. "$(dirname "$0")/lib.sh"
need_scan

T=$'\t'
start_receiver
mkdir -p "$W/db"
DB="$W/db/db.sqlite"
CFG_DB=$DB write_config
head -n 2 "$DATA/scenario2.log" >"$LOGDIR/media.log"     # 06:00 success

run_scan --now '2025-11-19 06:00:30'
is "$SCAN_RC" 0 "real run exits 0" || scan_diag
is "$(sql 'SELECT count(*) FROM download_monitor')" 1 "one row recorded"

# Two failures arrive: enough for an alert.
sed -n 3,6p "$DATA/scenario2.log" >>"$LOGDIR/media.log"
pos_before=$(sql 'SELECT * FROM dlmon_files')
alerts_before=$(sql 'SELECT * FROM dlmon_alerts')
rows_before=$(sql 'SELECT * FROM download_monitor')
# The database file and its -wal as they were.  (Opening a WAL database,
# even read-only, makes SQLite create an empty -wal and its -shm index when
# they are missing: no data, so allowed; anything else is a change.)
hashes() { (cd "$W/db" && for f in db.sqlite db.sqlite-wal; do [ -s "$f" ] && sha256sum "$f"; done); }
others() { ls -A "$W/db" | grep -vxE 'db\.sqlite-(wal|shm)'; }
h_before=$(hashes)
ls_before=$(others)

run_scan --dry-run --now '2025-11-19 12:00:30'
h_after=$(hashes)
is "$SCAN_RC" 0 "dry run exits 0" || scan_diag
is "$h_after" "$h_before" "database byte-identical (db and -wal)"
is "$(others)" "$ls_before" "no file created next to the database (but SQLite's -wal/-shm)"
is "$(recv_count)" 0 "no HTTP request"
is "$(printf '%s\n' "$SCAN_OUT" | grep -F "$T")" \
"fastdl${T}evalongoria${T}2025-11-19T09:00:00${T}0${T}0${T}Cloudflare challenge
fastdl${T}evalongoria${T}2025-11-19T12:00:00${T}0${T}0${T}Cloudflare challenge" \
	"the two attempts it would record, tab-separated"
is "$(printf '%s\n' "$SCAN_OUT" | grep -A6 '^alert: ')" \
"alert: 🚨 FastDL Failing
  Downloader has been failing for 3+ hours
  Username: evalongoria
  Consecutive Failures: 2
  Last Success: 6 hours ago
  Latest Error: \"Cloudflare challenge\"
  Check logs for details." "the alert it would send, full text"
like "$SCAN_OUT" '^prune: 0 rows older than 2025-10-20[T ]12:00:30$' "the prune line"
like "$(summary_line)" '4 new lines, 2 attempts' "summary counts what would be read"
is "$(sql 'SELECT * FROM dlmon_files')" "$pos_before" "positions unchanged"
is "$(sql 'SELECT * FROM dlmon_alerts')" "$alerts_before" "alert rows unchanged"
is "$(sql 'SELECT * FROM download_monitor')" "$rows_before" "download_monitor unchanged"

# Output that cannot be written (a full disk) is an error: exit 1, said.
"$SCAN" -c "$CONF" --dry-run --now '2025-11-19 12:00:30' >/dev/full 2>"$W/full.err" </dev/null
is "$?" 1 "dry run to a full disk exits 1"
like "$(cat "$W/full.err")" 'standard output: No space left on device' "and says why"

# -q hides only the summary.
run_scan --dry-run -q --now '2025-11-19 12:00:30'
is "$SCAN_RC" 0 "dry run -q exits 0"
is "$(summary_line)" "" "-q: no summary"
is "$(printf '%s\n' "$SCAN_OUT" | grep -c -F "$T")" 2 "-q: attempt lines still shown"

# The real run afterwards does what the dry run announced.
run_scan --now '2025-11-19 12:00:30'
is "$SCAN_RC" 0 "real run exits 0" || scan_diag
is "$(recv_count)" 1 "the real run sends the alert"

# A missing database counts as empty and is not created.
mkdir -p "$W/nodb"
CFG_DB="$W/nodb/db.sqlite" write_config "$W/nodb.conf"
run_scan_raw -c "$W/nodb.conf" --dry-run --now '2025-11-19 12:00:30'
is "$SCAN_RC" 0 "dry run without a database exits 0" || scan_diag
is "$(ls -A "$W/nodb")" "" "no database (or any file) created"
is "$(printf '%s\n' "$SCAN_OUT" | grep -c -F "$T")" 3 "it shows all three attempts"
is "$(printf '%s\n' "$SCAN_OUT" | grep -F "$T" | head -n 1)" \
	"fastdl${T}evalongoria${T}2025-11-19T06:00:00${T}1${T}5${T}" "a success line: count 5, empty error"
contains "$SCAN_OUT" "alert: 🚨 FastDL Failing" "it shows the alert"
is "$(recv_count)" 1 "still no request from a dry run"

# A tab, a CR or a NUL inside a field would break the one-line,
# tab-separated format: each is shown as a space.
failure_line '2025-11-19 12:05:00' fastdl 'eva' $'a\tb\rc' >>"$LOGDIR/media.log"
printf '2025-11-19 12:06:00 [fastdl] ERROR Download failed for eva: x\0y\n' >>"$LOGDIR/media.log"
run_scan_raw -c "$W/nodb.conf" --dry-run --now '2025-11-19 12:10:00'
is "$(printf '%s\n' "$SCAN_OUT" | grep -E "${T}2025-11-19T12:0[56]")" \
"fastdl${T}eva${T}2025-11-19T12:05:00${T}0${T}0${T}a b c
fastdl${T}eva${T}2025-11-19T12:06:00${T}0${T}0${T}x y" "tab, CR and NUL in a field shown as spaces"

done_testing
