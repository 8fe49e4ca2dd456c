#!/bin/bash
# Faults the real world brings, end to end: a database held by another
# process past busy_timeout_ms, a full disk during the commit, a database that
# is unwritable, corrupt or not a database, and hostile log folders (10,000
# files, a file that becomes unreadable, a directory or a FIFO named like a
# log, a symlink loop).  Each: the documented exit status, a clear error,
# nothing half-written, nothing lost (the next good run catches up), and no
# secret in any output or database row.
. "$(dirname "$0")/lib.sh"
need_scan

CFG_PO_ENABLED=true write_config   # pushover on: the secrets are loaded in every run
head -n 6 "$DATA/scenario2.log" >"$LOGDIR/media.log"
NOW='2025-11-19 08:00:00'          # before the failures: no alert is due

no_secrets() { # TEXT WHAT
	lacks "$1" "$PO_TOKEN" "$2: no token"
	lacks "$1" "$PO_USER" "$2: no user key"
}
# state: rows and positions, to compare before and after a failed run
state() { sql 'SELECT count(*) FROM download_monitor; SELECT * FROM dlmon_files ORDER BY 1'; }

run_scan --now "$NOW"
is "$SCAN_RC" 0 "a first run sets up the database" || scan_diag
base_rows=$(sql 'SELECT count(*) FROM download_monitor')
is "$base_rows" 3 "it recorded the 3 attempts of the log"

# --- busy: another process holds BEGIN IMMEDIATE past busy_timeout_ms (2000) ---
# holder DB SECONDS: takes the write lock, says so in $W/held, keeps it until
# $W/release exists or SECONDS pass.
holder() {
	rm -f "$W/held" "$W/release"
	python3 - "$1" "$2" "$W" <<'PY' &
import os, sqlite3, sys, time
db, secs, w = sys.argv[1], float(sys.argv[2]), sys.argv[3]
c = sqlite3.connect(db, isolation_level=None)
c.execute("BEGIN IMMEDIATE")
c.execute("UPDATE download_monitor SET file_count = file_count WHERE 0")
open(os.path.join(w, "held"), "w").close()
end = time.time() + secs
while time.time() < end and not os.path.exists(os.path.join(w, "release")):
    time.sleep(0.05)
c.execute("ROLLBACK")
PY
	HOLDER_PID=$!
	for _ in $(seq 1 100); do [ -e "$W/held" ] && break; sleep 0.05; done
}
sed -n 7,8p "$DATA/scenario2.log" >>"$LOGDIR/media.log"
before=$(state)
holder "$DB" 60
ok "another process holds the write lock" test -e "$W/held"
run_scan --now "$NOW"
is "$SCAN_RC" 75 "busy: exit 75" || scan_diag
like "$SCAN_ERR" 'busy' "busy: the error says the database is busy"
no_secrets "$SCAN_OUT$SCAN_ERR" "busy: output"
limit=8; [ "${DLMON_VALGRIND:-}" = 1 ] && limit=30
ok "busy: gives up after about busy_timeout_ms (took $SCAN_SECS s)" \
	awk -v s="$SCAN_SECS" -v l="$limit" 'BEGIN { exit !(s >= 1.9 && s < l) }'
touch "$W/release"; wait "$HOLDER_PID"
is "$(state)" "$before" "busy: no row and no position written"
run_scan --now "$NOW"
is "$SCAN_RC" 0 "busy: the next run succeeds" || scan_diag
is "$(sql 'SELECT count(*) FROM download_monitor')" 4 "busy: it catches up (the failure appended meanwhile)"
isnt "$(state)" "$before" "busy: the next run moved the position"

# --- disk full during the commit (a 1 MB tmpfs; grown afterwards) ---
FULL=$W/full
mkdir -p "$FULL" "$W/biglogs"
if mount -t tmpfs -o size=1m,mode=755 tmpfs "$FULL" 2>/dev/null; then
	trap 'umount "$FULL" 2>/dev/null; _lib_cleanup' EXIT
	FDB=$FULL/db.sqlite
	CFG_DB=$FDB CFG_EXTRA="[source big]
files = $W/biglogs/*.log" write_config
	# the big source uses the media source's patterns
	sed -n '/^\[source media\]/,$p' "$CONF" | sed -n '/^success\|^failure\|^time_format/p' >>"$CONF"
	run_scan --now "$NOW"
	is "$SCAN_RC" 0 "full: a first run on the small disk" || scan_diag
	# 20,000 distinct attempts (megabytes of rows and index) do not fit in 1 MB
	awk 'BEGIN { for (i = 0; i < 20000; i++)
		printf "2025-11-19 07:%02d:%02d [bigdl] INFO Downloaded 1 file for a_rather_long_user_name_%05d\n",
			int(i / 60) % 60, i % 60, i }' \
		>"$W/biglogs/big.log"
	echo "$(at $(( $(epoch "$NOW") - 60 ))) [imginn] INFO Downloaded 1 file for small" >>"$LOGDIR/media.log"
	run_scan --now "$NOW"
	is "$SCAN_RC" 1 "full: exit 1" || scan_diag
	like "$SCAN_ERR" 'full' "full: the error says the database or disk is full"
	no_secrets "$SCAN_OUT$SCAN_ERR" "full: output"
	is "$(SQL_DB=$FDB sql "SELECT count(*) FROM download_monitor WHERE downloader = 'bigdl'")" 0 \
		"full: rolled back: no row of the big log"
	# (a file seen for the first time may be registered at offset 0)
	is "$(SQL_DB=$FDB sql "SELECT ifnull(max(offset), 0) FROM dlmon_files WHERE source = 'big'")" 0 \
		"full: rolled back: no read position for the big log"
	no_secrets "$(sqlite3 "$FDB" .dump)" "full: database"
	# room again: the next run catches up with everything
	mount -o remount,size=64m "$FULL"
	run_scan --now "$NOW"
	is "$SCAN_RC" 0 "full: with room again the next run succeeds" || scan_diag
	is "$(SQL_DB=$FDB sql "SELECT count(*) FROM download_monitor WHERE downloader = 'bigdl'")" 20000 \
		"full: and records all 20,000 attempts"
	is "$(SQL_DB=$FDB sql "SELECT count(*) FROM download_monitor WHERE username = 'small'")" 1 \
		"full: and the small source's new line"
	umount "$FULL"
	trap _lib_cleanup EXIT
else
	diag "cannot mount a tmpfs (not root?): disk-full case skipped"
fi
rm -rf "$W/biglogs"
write_config

# --- the database is not writable (run as nobody; root writes anyway) ---
# as_nobody: a dlmon-scan that runs as nobody (memcheck inside, if asked).
as_nobody() {
	local vg=
	[ "${DLMON_VALGRIND:-}" = 1 ] && vg='valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite'
	printf '#!/bin/sh\nexec setpriv --reuid=nobody --regid=nogroup --clear-groups %s %q "$@"\n' \
		"$vg" "$TOP/bin/dlmon-scan" >"$W/as-nobody"
	chmod 755 "$W/as-nobody"
}
if command -v setpriv >/dev/null && [ "$(id -u)" = 0 ]; then
	as_nobody
	chmod 755 "$W"
	chown nobody "$W/pushover.user" "$W/pushover.token"
	mkdir -p "$W/ro"
	sql 'PRAGMA wal_checkpoint(TRUNCATE)' >/dev/null
	cp "$DB" "$W/ro/db.sqlite"
	chown -R nobody "$W/ro"
	chmod 444 "$W/ro/db.sqlite"
	CFG_DB=$W/ro/db.sqlite write_config
	chown nobody "$W/pushover.user" "$W/pushover.token"
	echo "$(at $(( $(epoch "$NOW") - 30 ))) [imginn] INFO Downloaded 1 file for ro" >>"$LOGDIR/media.log"
	before=$(SQL_DB=$W/ro/db.sqlite state)
	SCAN=$W/as-nobody NO_VALGRIND=1 run_scan --now "$NOW"
	is "$SCAN_RC" 1 "unwritable: exit 1" || scan_diag
	like "$SCAN_ERR" "ro/db.sqlite: .*(not writable|readonly|read-only)" "unwritable: the error names the database and says why"
	no_secrets "$SCAN_OUT$SCAN_ERR" "unwritable: output"
	is "$(SQL_DB=$W/ro/db.sqlite state)" "$before" "unwritable: nothing written"
	chown root "$W/pushover.user" "$W/pushover.token"
	chmod 700 "$W"
else
	diag "not root or no setpriv: unwritable-database case skipped"
fi

# --- a corrupt database, and a file that is not a database ---
CORRUPT=$W/corrupt.sqlite
sql 'PRAGMA wal_checkpoint(TRUNCATE)' >/dev/null
cp "$DB" "$CORRUPT"
size=$(stat -c %s "$CORRUPT")
# every page after the first (the header stays valid) overwritten with garbage
awk -v n=$((size - 4096)) 'BEGIN { srand(7); for (i = 0; i < n; i++) printf "%c", 65 + int(rand() * 26) }' |
	dd of="$CORRUPT" bs=4096 seek=1 conv=notrunc status=none
CFG_DB=$CORRUPT write_config
run_scan --now "$NOW"
is "$SCAN_RC" 1 "corrupt: exit 1" || scan_diag
like "$SCAN_ERR" "corrupt.sqlite: .*(malformed|corrupt)" "corrupt: the error names the database and says it is malformed"
no_secrets "$SCAN_OUT$SCAN_ERR" "corrupt: output"

NOTDB=$W/notdb.sqlite
head -c 8192 "$DATA/scenario2.log" >"$NOTDB"; cat "$DATA/scenario2.log" "$DATA/scenario2.log" >>"$NOTDB"
cp "$NOTDB" "$W/notdb.orig"
CFG_DB=$NOTDB write_config
run_scan --now "$NOW"
is "$SCAN_RC" 1 "not a database: exit 1" || scan_diag
like "$SCAN_ERR" "notdb.sqlite: .*not a database" "not a database: the error names the file and says so"
no_secrets "$SCAN_OUT$SCAN_ERR" "not a database: output"
ok "not a database: the file is left as it was" cmp -s "$NOTDB" "$W/notdb.orig"
write_config
no_secrets "$(sqlite3 "$DB" .dump)" "database after the faults"

# --- hostile log folders ---
# 10,000 files in the folder, one of them a log
FOLDER=$W/many
mkdir -p "$FOLDER"
(cd "$FOLDER" && seq -f 'f%05g.log' 1 10000 | xargs touch)
failure_line '2025-11-19 07:00:00' manydl bob 'boom' >"$FOLDER/f05000.log"
CFG_EXTRA="[source many]
files = $FOLDER/*.log
$(grep -E '^(success|failure) = ' "$CONF")" write_config
run_scan --now "$NOW"
is "$SCAN_RC" 0 "10,000 files: exit 0" || scan_diag
like "$(summary_line)" '10001 files' "10,000 files: all of them (and media.log) are looked at"
is "$(sql "SELECT count(*) FROM download_monitor WHERE downloader = 'manydl'")" 1 "10,000 files: the attempt in one of them is recorded"
# generous: catches a pathological cost (quadratic, a sleep per file), not a
# slow machine (ASan on a loaded one takes 15 s)
limit=60; [ "${DLMON_VALGRIND:-}" = 1 ] && limit=600
ok "10,000 files: in reasonable time (took $SCAN_SECS s)" awk -v s="$SCAN_SECS" -v l="$limit" 'BEGIN { exit !(s < l) }'
rm -rf "$FOLDER"
write_config

# a directory and a FIFO named like logs, and a symlink loop in the glob
mkdir "$LOGDIR/dir.log"
mkfifo "$LOGDIR/fifo.log"
ln -s loop2.log "$LOGDIR/loop1.log"
ln -s loop1.log "$LOGDIR/loop2.log"
ln -s . "$LOGDIR/self"
echo "$(at $(( $(epoch "$NOW") - 20 ))) [imginn] INFO Downloaded 2 files for odd" >>"$LOGDIR/media.log"
rows=$(sql 'SELECT count(*) FROM download_monitor')
run_scan --now "$NOW"
ok "directory, FIFO, symlink loop: the run ends (exit $SCAN_RC, not stuck on the FIFO)" test "$SCAN_RC" = 0 -o "$SCAN_RC" = 1
like "$SCAN_ERR" 'dir\.log' "the directory is named in a message"
like "$SCAN_ERR" 'fifo\.log' "the FIFO is named in a message"
like "$SCAN_ERR" 'loop1\.log' "the symlink loop is named in a message"
is "$(sql 'SELECT count(*) FROM download_monitor')" $((rows + 1)) "the real log is still read"
no_secrets "$SCAN_OUT$SCAN_ERR" "odd files: output"
rm -rf "$LOGDIR/dir.log" "$LOGDIR/fifo.log" "$LOGDIR/loop1.log" "$LOGDIR/loop2.log" "$LOGDIR/self"

# a file that becomes unreadable (as nobody: root reads anything)
if command -v setpriv >/dev/null && [ "$(id -u)" = 0 ]; then
	as_nobody
	chmod 755 "$W"
	chown -R nobody "$W"
	SCAN=$W/as-nobody NO_VALGRIND=1 run_scan --now "$NOW"
	is "$SCAN_RC" 0 "unreadable: a run as nobody first reads everything" || scan_diag
	echo "$(at $(( $(epoch "$NOW") - 10 ))) [imginn] INFO Downloaded 3 files for later" >>"$LOGDIR/media.log"
	failure_line '2025-11-19 07:10:00' otherdl carol 'x' >"$LOGDIR/other.log"
	chmod 000 "$LOGDIR/media.log"
	before=$(sql "SELECT * FROM dlmon_files WHERE key LIKE '%media.log'")
	rows=$(sql 'SELECT count(*) FROM download_monitor')
	SCAN=$W/as-nobody NO_VALGRIND=1 run_scan --now "$NOW"
	is "$SCAN_RC" 1 "unreadable: exit 1" || scan_diag
	like "$SCAN_ERR" 'media\.log.*(Permission denied|unreadable)' "unreadable: the error names the file and the cause"
	is "$(sql "SELECT * FROM dlmon_files WHERE key LIKE '%media.log'")" "$before" "unreadable: its position is kept"
	is "$(sql 'SELECT count(*) FROM download_monitor')" $((rows + 1)) "unreadable: the other log is still read"
	no_secrets "$SCAN_OUT$SCAN_ERR" "unreadable: output"
	chmod 644 "$LOGDIR/media.log"
	SCAN=$W/as-nobody NO_VALGRIND=1 run_scan --now "$NOW"
	is "$SCAN_RC" 0 "unreadable: readable again, the next run succeeds" || scan_diag
	is "$(sql "SELECT count(*) FROM download_monitor WHERE username = 'later'")" 1 "unreadable: and catches up with the line it missed"
	chown -R root "$W"
else
	diag "not root or no setpriv: unreadable-file case skipped"
fi
no_secrets "$(sqlite3 "$DB" .dump)" "database at the end"

done_testing
