/*
 * store.c — the SQLite database: opening, schema, positions, attempts,
 * history and pruning.  See store.h; alert bookkeeping is store_alert.c.
 *
 * Every statement is a constant of the table below, prepared once (lazily,
 * on first use) and finalized in store_close.  Statements are reset right
 * after use so that no read transaction stays open: the downloader
 * application may be writing to the same file.
 */
#include "store.h"
#include "store_int.h"
#include "util.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#define STORE_SCHEMA_VERSION 1

/* The seed's DDL, byte for byte: a database made by the application holds
 * the same text in sqlite_master, and tools comparing it must not differ. */
static const char *const seed_ddl[][3] = {
	{ "table", "download_monitor",
	  "CREATE TABLE download_monitor (\n"
	  "    id INTEGER PRIMARY KEY AUTOINCREMENT,\n"
	  "    downloader TEXT NOT NULL,\n"
	  "    username TEXT,\n"
	  "    timestamp TEXT NOT NULL,\n"
	  "    success INTEGER NOT NULL,\n"
	  "    file_count INTEGER DEFAULT 0,\n"
	  "    error_message TEXT,\n"
	  "    alert_sent INTEGER DEFAULT 0,\n"
	  "    created_at TEXT DEFAULT CURRENT_TIMESTAMP\n"
	  ")" },
	{ "index", "idx_download_monitor_downloader",
	  "CREATE INDEX idx_download_monitor_downloader ON download_monitor(downloader)" },
	{ "index", "idx_download_monitor_timestamp",
	  "CREATE INDEX idx_download_monitor_timestamp ON download_monitor(timestamp)" },
	{ "index", "idx_download_monitor_success",
	  "CREATE INDEX idx_download_monitor_success ON download_monitor(success)" },
	{ "table", "settings",
	  "CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT)" },
};

/* dlmon's own objects: IF NOT EXISTS is fine, nobody else compares them. */
static const char dlmon_ddl[] =
	"CREATE TABLE IF NOT EXISTS dlmon_meta (key TEXT PRIMARY KEY, value TEXT);\n"
	"CREATE TABLE IF NOT EXISTS dlmon_files (\n"
	"    key TEXT PRIMARY KEY, source TEXT NOT NULL, dev INTEGER, ino INTEGER,\n"
	"    fp_len INTEGER, fp_hash INTEGER, offset INTEGER, cur_time INTEGER,\n"
	"    lineno INTEGER, updated_at TEXT);\n"
	"CREATE TABLE IF NOT EXISTS dlmon_alerts (\n"
	"    id INTEGER PRIMARY KEY, downloader TEXT NOT NULL,\n"
	"    kind TEXT NOT NULL CHECK(kind IN ('failing','recovered','silent')),\n"
	"    streak TEXT NOT NULL,\n"
	"    state TEXT NOT NULL CHECK(state IN ('pending','sent','held','dropped')),\n"
	"    first_fail INTEGER, nfail INTEGER, created_at TEXT, sent_at TEXT,\n"
	"    tries INTEGER DEFAULT 0, last_error TEXT, notifier_hash INTEGER,\n"
	"    title TEXT, message TEXT, UNIQUE(downloader, kind, streak));\n"
	"CREATE INDEX IF NOT EXISTS dlmon_idx_files_source ON dlmon_files(source, key);\n"
	/* latest success, the failures after it, and the attempt identity
	 * (dedup: downloader, success, timestamp and username are all
	 * equalities; username matters when a log without times gives many
	 * attempts the same timestamp).  It replaces dlmon_idx_dm_streak,
	 * which lacked username. */
	"DROP INDEX IF EXISTS dlmon_idx_dm_streak;\n"
	"CREATE INDEX IF NOT EXISTS dlmon_idx_dm_identity\n"
	"    ON download_monitor(downloader, success, timestamp, username);\n"
	/* a downloader's last attempt (dlmon status) and its history, newest
	 * first, without walking all its rows */
	"CREATE INDEX IF NOT EXISTS dlmon_idx_dm_last\n"
	"    ON download_monitor(downloader, timestamp);\n"
	"INSERT OR IGNORE INTO dlmon_meta (key, value) VALUES ('schema_version', '1');\n";

static const char *const stmt_sql[S_COUNT] = {
	[S_BEGIN] = "BEGIN IMMEDIATE",
	[S_COMMIT] = "COMMIT",
	[S_ROLLBACK] = "ROLLBACK",
	[S_EXISTS] = "SELECT 1 FROM sqlite_master WHERE type = ?1 AND name = ?2",
	[S_VERSION] = "SELECT value FROM dlmon_meta WHERE key = 'schema_version'",
	[S_SETTING_GET] = "SELECT value FROM settings WHERE key = ?1",
	[S_POS_GET] = "SELECT dev, ino, fp_len, fp_hash, offset, cur_time, lineno"
	    " FROM dlmon_files WHERE key = ?1",
	[S_POS_PUT] = "INSERT INTO dlmon_files (key, source, dev, ino, fp_len, fp_hash,"
	    " offset, cur_time, lineno, updated_at)"
	    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9,"
	    " strftime('%Y-%m-%dT%H:%M:%S', 'now', 'localtime'))"
	    " ON CONFLICT(key) DO UPDATE SET source = excluded.source,"
	    " dev = excluded.dev, ino = excluded.ino, fp_len = excluded.fp_len,"
	    " fp_hash = excluded.fp_hash, offset = excluded.offset,"
	    " cur_time = excluded.cur_time, lineno = excluded.lineno,"
	    " updated_at = excluded.updated_at",
	[S_POS_DELETE] = "DELETE FROM dlmon_files WHERE key = ?1",
	[S_POS_KEYS] = "SELECT key FROM dlmon_files WHERE source = ?1 ORDER BY key",
	/*
	 * store_attempt_add is a probe then a one-row INSERT ... VALUES, not
	 * one INSERT ... SELECT ... WHERE NOT EXISTS: SQLite gives a
	 * multi-row INSERT a statement journal, which cost more than the
	 * insert itself (see README "Performance").
	 */
	[S_ATTEMPT_ADD] = "SELECT 1 FROM download_monitor WHERE downloader = ?1"
	    " AND timestamp = ?3 AND username IS ?2 AND success = ?4"
	    " AND error_message IS ?6 LIMIT 1",
	[S_ATTEMPT_INSERT] = "INSERT INTO download_monitor (downloader, username,"
	    " timestamp, success, file_count, error_message, alert_sent)"
	    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, 0)",
	/* a skip scan: one index probe per distinct downloader */
	[S_DOWNLOADERS] = "WITH RECURSIVE d(x) AS ("
	    " SELECT min(downloader) FROM download_monitor"
	    " UNION ALL SELECT (SELECT min(downloader) FROM download_monitor"
	    " WHERE downloader > x) FROM d WHERE x IS NOT NULL)"
	    " SELECT x FROM d WHERE x IS NOT NULL",
	/* ?2 is now + 1 s formatted: "< ?2" keeps rows with fractions of now's second */
	[S_LAST_SUCCESS] = "SELECT id, timestamp FROM download_monitor"
	    " WHERE downloader = ?1 AND success = 1 AND timestamp < ?2"
	    " ORDER BY timestamp DESC, id DESC",
	[S_FAILURES] = "SELECT id, timestamp, alert_sent, username, error_message"
	    " FROM download_monitor WHERE downloader = ?1 AND success = 0"
	    " AND (timestamp, id) > (?3, ?4) AND timestamp < ?2"
	    " ORDER BY timestamp, id",
	[S_ALERT_STATE] = "SELECT state, sent_at, notifier_hash FROM dlmon_alerts"
	    " WHERE downloader = ?1 AND kind = ?3 AND streak = ?2",
	/* an existing row (pending, held, or sent when the caller repeats) is
	 * made pending again with fresh texts */
	[S_ALERT_PENDING] = "INSERT INTO dlmon_alerts (downloader, kind, streak, state,"
	    " first_fail, nfail, created_at, tries, title, message)"
	    " VALUES (?1, ?2, ?3, 'pending', ?4, ?5, ?6, 1, ?7, ?8)"
	    " ON CONFLICT(downloader, kind, streak) DO UPDATE SET state = 'pending',"
	    " first_fail = excluded.first_fail, nfail = excluded.nfail,"
	    " title = excluded.title, message = excluded.message, tries = tries + 1"
	    " RETURNING id",
	[S_ALERT_SENT] = "UPDATE dlmon_alerts SET state = 'sent', sent_at = ?2,"
	    " last_error = NULL WHERE id = ?1",
	[S_MARK_SENT] = "UPDATE download_monitor SET alert_sent = 1 WHERE id = ?1",
	[S_ALERT_FAILED] = "UPDATE dlmon_alerts SET"
	    " state = CASE WHEN ?2 THEN 'held' ELSE 'pending' END,"
	    " notifier_hash = CASE WHEN ?2 THEN ?3 ELSE notifier_hash END,"
	    " last_error = ?4 WHERE id = ?1",
	[S_ALERT_DROP] = "UPDATE dlmon_alerts SET state = 'dropped'"
	    " WHERE downloader = ?1 AND kind = ?3"
	    " AND state IN ('pending', 'held') AND streak <> ?2",
	/* the latest delivered failing alert of an ended streak; sent_at stays
	 * set when a repeat is pending, so that one still counts as delivered */
	/* the count is the whole streak: failures read after the alert went
	 * out belong to it too (the alert row knows only those before) */
	[S_RECOVERY_DUE] = "SELECT a.streak, a.first_fail, max(a.nfail,"
	    " (SELECT count(*) FROM download_monitor d WHERE d.downloader = a.downloader"
	    " AND d.success = 0 AND d.timestamp >= strftime('%Y-%m-%dT%H:%M:%S',"
	    " a.first_fail, 'unixepoch', 'localtime') AND d.timestamp < ?3)),"
	    " (SELECT r.state FROM dlmon_alerts r WHERE r.downloader = a.downloader"
	    " AND r.kind = 'recovered' AND r.streak = a.streak)"
	    " FROM dlmon_alerts a WHERE a.downloader = ?1 AND a.kind = 'failing'"
	    " AND a.sent_at IS NOT NULL AND a.streak <> ?2"
	    " ORDER BY a.sent_at DESC, a.id DESC LIMIT 1",
	[S_PRUNE] = "DELETE FROM download_monitor WHERE timestamp < ?1",
	[S_PRUNE_COUNT] = "SELECT count(*) FROM download_monitor WHERE timestamp < ?1",
};

/* st_fail: see store_int.h. */
int
st_fail(struct store *st, int rc)
{
	switch (rc & 0xff) {
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		msg_err("%s: database is busy (held by another process for more than %d ms)",
		    st->path, st->busy_ms);
		return DL_EBUSY;
	case SQLITE_FULL:
		msg_err("%s: database or disk is full", st->path);
		return DL_EFAIL;
	case SQLITE_NOMEM:
		msg_err("%s: out of memory", st->path);
		return DL_ENOMEM;
	default:
		msg_err("%s: %s", st->path,
		    st->db ? sqlite3_errmsg(st->db) : sqlite3_errstr(rc));
		return DL_EFAIL;
	}
}

static int
st_nomem(struct store *st)
{
	msg_err("%s: out of memory", st->path);
	return DL_ENOMEM;
}

/* st_sql: see store_int.h. */
const char *
st_sql(enum stmt_id id)
{
	return (unsigned)id < S_COUNT ? stmt_sql[id] : NULL;
}

/* st_stmt: see store_int.h; prepared persistent, finalized in store_close. */
sqlite3_stmt *
st_stmt(struct store *st, enum stmt_id id, int *err)
{
	int rc;

	if (st->stmt[id] == NULL) {
		rc = sqlite3_prepare_v3(st->db, stmt_sql[id], -1,
		    SQLITE_PREPARE_PERSISTENT, &st->stmt[id], NULL);
		if (rc != SQLITE_OK) {
			*err = st_fail(st, rc);
			return NULL;
		}
	}
	return st->stmt[id];
}

/* st_done: see store_int.h. */
void
st_done(sqlite3_stmt *s)
{
	if (s) {
		sqlite3_reset(s);
		sqlite3_clear_bindings(s);
	}
}

/* Runs a statement that returns no rows. */
static int
st_run(struct store *st, enum stmt_id id)
{
	int err = DL_OK, rc;
	sqlite3_stmt *s = st_stmt(st, id, &err);

	if (s == NULL)
		return err;
	rc = sqlite3_step(s);
	if (rc != SQLITE_DONE)
		err = st_fail(st, rc);
	sqlite3_reset(s);
	return err;
}

/* Runs constant SQL holding one or more statements (schema, pragmas). */
static int
st_exec(struct store *st, const char *sql)
{
	sqlite3_stmt *s = NULL;
	const char *tail = sql;
	int err = DL_OK, rc;

	while (*tail) {
		rc = sqlite3_prepare_v2(st->db, tail, -1, &s, &tail);
		if (rc != SQLITE_OK) {
			err = st_fail(st, rc);
			goto out;
		}
		if (s == NULL)          /* only whitespace left */
			break;
		while ((rc = sqlite3_step(s)) == SQLITE_ROW)
			;
		if (rc != SQLITE_DONE) {
			err = st_fail(st, rc);
			goto out;
		}
		sqlite3_finalize(s);
		s = NULL;
	}
out:
	sqlite3_finalize(s);
	return err;
}

static int
st_exists(struct store *st, const char *type, const char *name, int *exists)
{
	int err = DL_OK, rc;
	sqlite3_stmt *s = st_stmt(st, S_EXISTS, &err);

	*exists = 0;
	if (s == NULL)
		return err;
	sqlite3_bind_text(s, 1, type, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, name, -1, SQLITE_STATIC);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		*exists = 1;
	else if (rc == SQLITE_DONE)
		*exists = 0;
	else
		err = st_fail(st, rc);
	st_done(s);
	return err;
}

static long long
mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * Switching to WAL needs the database to itself for a moment; the
 * application may be reading, so retry within the busy timeout.  SQLite's
 * own busy handler is off meanwhile so that the total stays bounded.
 */
static int
st_wal(struct store *st)
{
	long long deadline = mono_ms() + st->busy_ms;
	struct timespec pause = { 0, 20 * 1000000L };
	sqlite3_stmt *s = NULL;
	int err = DL_OK, rc;

	sqlite3_busy_timeout(st->db, 0);
	rc = sqlite3_prepare_v2(st->db, "PRAGMA journal_mode=WAL", -1, &s, NULL);
	if (rc != SQLITE_OK) {
		err = st_fail(st, rc);
		goto out;
	}
	for (;;) {
		rc = sqlite3_step(s);
		if (rc == SQLITE_ROW) {
			const char *mode = (const char *)sqlite3_column_text(s, 0);
			if (mode == NULL || strcmp(mode, "wal") != 0)
				msg_warn("%s: journal mode stays %s (WAL refused)",
				    st->path, mode ? mode : "unknown");
			break;
		}
		sqlite3_reset(s);
		if ((rc & 0xff) != SQLITE_BUSY && (rc & 0xff) != SQLITE_LOCKED) {
			err = st_fail(st, rc);
			goto out;
		}
		if (mono_ms() >= deadline) {
			err = st_fail(st, SQLITE_BUSY);
			goto out;
		}
		nanosleep(&pause, NULL);
	}
out:
	sqlite3_finalize(s);
	sqlite3_busy_timeout(st->db, st->busy_ms);
	return err;
}

/* Creates what is missing, in one transaction. */
static int
st_schema(struct store *st)
{
	size_t i;
	int err, exists, version;
	sqlite3_stmt *s;

	if ((err = store_begin(st)) != DL_OK)
		return err;
	for (i = 0; i < sizeof seed_ddl / sizeof seed_ddl[0]; i++) {
		if ((err = st_exists(st, seed_ddl[i][0], seed_ddl[i][1], &exists)) != DL_OK)
			goto out;
		/* checked first: "IF NOT EXISTS" would be stored in sqlite_master */
		if (!exists && (err = st_exec(st, seed_ddl[i][2])) != DL_OK)
			goto out;
	}
	if ((err = st_exec(st, dlmon_ddl)) != DL_OK)
		goto out;
	if ((s = st_stmt(st, S_VERSION, &err)) == NULL)
		goto out;
	version = sqlite3_step(s) == SQLITE_ROW ? sqlite3_column_int(s, 0) : 0;
	st_done(s);
	if (version > STORE_SCHEMA_VERSION) {
		msg_err("%s: database schema version %d is newer than this dlmon's (%d)",
		    st->path, version, STORE_SCHEMA_VERSION);
		err = DL_EFAIL;
		goto out;
	}
	err = store_commit(st);
	st->has_dm = st->has_settings = st->has_dlmon = 1;
out:
	if (err != DL_OK)
		store_rollback(st);
	return err;
}

/* Read-only: which tables are there (the application's database may not
 * have dlmon's yet); this also makes a non-database fail at open. */
static int
st_probe(struct store *st)
{
	int err;

	if ((err = st_exists(st, "table", "download_monitor", &st->has_dm)) != DL_OK ||
	    (err = st_exists(st, "table", "settings", &st->has_settings)) != DL_OK ||
	    (err = st_exists(st, "table", "dlmon_alerts", &st->has_dlmon)) != DL_OK)
		return err;
	return DL_OK;
}

/* Dry run: a private temporary copy of path (or an empty database). */
static int
st_open_copy(struct store *st)
{
	sqlite3 *src = NULL;
	sqlite3_backup *bk = NULL;
	struct stat sb;
	int err = DL_OK, rc;

	/* "": an on-disk temporary database, deleted by SQLite at close */
	rc = sqlite3_open_v2("", &st->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL);
	if (rc != SQLITE_OK) {
		err = st_fail(st, rc);
		goto out;
	}
	if (stat(st->path, &sb) != 0) {
		if (errno == ENOENT)
			goto out;
		msg_err("%s: %s", st->path, strerror(errno));
		err = DL_EFAIL;
		goto out;
	}
	rc = sqlite3_open_v2(st->path, &src, SQLITE_OPEN_READONLY, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_busy_timeout(src, st->busy_ms);
	/* reading the schema first makes a bad file fail with the source's
	 * own message (not a database, malformed, ...) */
	if (rc == SQLITE_OK)
		rc = sqlite3_exec(src, "SELECT count(*) FROM sqlite_master", NULL, NULL, NULL);
	if (rc != SQLITE_OK) {
		if ((rc & 0xff) == SQLITE_BUSY || (rc & 0xff) == SQLITE_LOCKED)
			err = st_fail(st, rc);
		else {
			msg_err("%s: %s", st->path,
			    src ? sqlite3_errmsg(src) : sqlite3_errstr(rc));
			err = DL_EFAIL;
		}
		goto out;
	}
	bk = sqlite3_backup_init(st->db, "main", src, "main");
	if (bk == NULL) {
		err = st_fail(st, sqlite3_errcode(st->db));
		goto out;
	}
	rc = sqlite3_backup_step(bk, -1);
	if (rc != SQLITE_DONE) {
		if ((rc & 0xff) == SQLITE_BUSY || (rc & 0xff) == SQLITE_LOCKED)
			err = st_fail(st, rc);
		else {
			msg_err("%s: %s", st->path, sqlite3_errstr(rc));
			err = DL_EFAIL;
		}
	}
out:
	sqlite3_backup_finish(bk);
	sqlite3_close(src);
	return err;
}

/*
 * store_open: see store.h.  On failure *out is NULL and the cause has been
 * reported ("PATH: why").
 */
int
store_open(const char *path, enum store_mode mode, int busy_timeout_ms,
    struct store **out)
{
	struct store *st;
	struct stat sb;
	int err = DL_OK, rc;

	*out = NULL;
	st = calloc(1, sizeof *st);
	if (st == NULL || (st->path = strdup(path)) == NULL) {
		msg_err("%s: out of memory", path);
		free(st);
		return DL_ENOMEM;
	}
	st->mode = mode;
	st->busy_ms = busy_timeout_ms > 0 ? busy_timeout_ms : 0;

	switch (mode) {
	case STORE_RW:
		rc = sqlite3_open_v2(path, &st->db,
		    SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL);
		break;
	case STORE_RO:
		if (stat(path, &sb) != 0) {
			msg_err("%s: %s", path, strerror(errno));
			err = DL_EFAIL;
			goto out;
		}
		rc = sqlite3_open_v2(path, &st->db, SQLITE_OPEN_READONLY, NULL);
		break;
	default:
		if ((err = st_open_copy(st)) != DL_OK)
			goto out;
		rc = SQLITE_OK;
		break;
	}
	if (rc != SQLITE_OK) {
		err = st_fail(st, rc);
		goto out;
	}
	sqlite3_extended_result_codes(st->db, 1);
	sqlite3_busy_timeout(st->db, st->busy_ms);

	if (mode == STORE_RO) {
		err = st_probe(st);
		goto out;
	}
	if (mode == STORE_RW) {
		/* an unwritable file is opened read-only without complaint */
		if (sqlite3_db_readonly(st->db, "main") == 1) {
			msg_err("%s: database is not writable", path);
			err = DL_EFAIL;
			goto out;
		}
		if ((err = st_wal(st)) != DL_OK ||
		    (err = st_exec(st, "PRAGMA synchronous=NORMAL")) != DL_OK)
			goto out;
	} else if ((err = st_exec(st, "PRAGMA journal_mode=MEMORY")) != DL_OK ||
	    (err = st_exec(st, "PRAGMA synchronous=OFF")) != DL_OK) {
		/* the copy keeps the source's WAL flag; a temporary database
		 * cannot use WAL.  It is thrown away at close: no journal file,
		 * no fsync (ROLLBACK still works with the journal in memory). */
		goto out;
	}
	/* Temporary files (sorts, statement journals) in memory: a statement
	 * journal in a file costs a write(2) per page it saves. */
	if ((err = st_exec(st, "PRAGMA temp_store=MEMORY")) != DL_OK)
		goto out;
	err = st_schema(st);
out:
	if (err != DL_OK) {
		store_close(st);
		return err;
	}
	*out = st;
	return DL_OK;
}

/* store_close: finalizes every statement and closes; accepts NULL. */
void
store_close(struct store *st)
{
	size_t i;

	if (st == NULL)
		return;
	if (st->db)             /* a transaction left open is not committed */
		store_rollback(st);
	for (i = 0; i < S_COUNT; i++)
		sqlite3_finalize(st->stmt[i]);
	sqlite3_close(st->db);
	free(st->fail);
	sb_free(&st->user);
	sb_free(&st->error);
	free(st->path);
	free(st);
}

/* The handle, owned by st (for read-only reports by other modules). */
sqlite3 *
store_db(struct store *st)
{
	return st->db;
}

/* The database path as given to store_open (also in dry-run). */
const char *
store_path(const struct store *st)
{
	return st->path;
}

/* store_begin: BEGIN IMMEDIATE, waiting up to the busy timeout. */
int
store_begin(struct store *st)
{
	return st_run(st, S_BEGIN);
}

/* store_commit: on failure the transaction is rolled back (nothing half-done). */
int
store_commit(struct store *st)
{
	int err = st_run(st, S_COMMIT);

	if (err != DL_OK)
		store_rollback(st);
	return err;
}

/* store_rollback: no-op outside a transaction; cannot fail usefully. */
void
store_rollback(struct store *st)
{
	sqlite3_stmt *s;
	int err;

	if (sqlite3_get_autocommit(st->db))
		return;
	if ((s = st_stmt(st, S_ROLLBACK, &err)) == NULL)
		return;
	sqlite3_step(s);
	sqlite3_reset(s);
}

/* Alert bookkeeping and pruning commit on their own: being called inside
 * the caller's transaction would defer the commit past the notification. */
int
st_begin_own(struct store *st, const char *what)
{
	if (!sqlite3_get_autocommit(st->db)) {
		msg_err("%s: internal error: %s inside a transaction", st->path, what);
		return DL_EFAIL;
	}
	return store_begin(st);
}

/* Duplicates column i as a NUL-terminated string (NULL stays NULL). */
static int
col_dup(struct store *st, sqlite3_stmt *s, int i, char **out)
{
	const unsigned char *t = sqlite3_column_text(s, i);
	size_t n = (size_t)sqlite3_column_bytes(s, i);

	*out = NULL;
	if (t == NULL)
		return DL_OK;
	if ((*out = malloc(n + 1)) == NULL)
		return st_nomem(st);
	memcpy(*out, t, n);
	(*out)[n] = '\0';
	return DL_OK;
}

/* store_setting_get: *value malloc'ed (caller frees), NULL when absent. */
int
store_setting_get(struct store *st, const char *key, char **value)
{
	sqlite3_stmt *s;
	int err = DL_OK, rc;

	*value = NULL;
	if (!st->has_settings)
		return DL_OK;
	if ((s = st_stmt(st, S_SETTING_GET, &err)) == NULL)
		return err;
	sqlite3_bind_text(s, 1, key, -1, SQLITE_STATIC);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		err = col_dup(st, s, 0, value);
	else if (rc != SQLITE_DONE)
		err = st_fail(st, rc);
	st_done(s);
	return err;
}

/* store_pos_get: pos->known = 0 when nothing is saved under key. */
int
store_pos_get(struct store *st, const char *key, struct src_pos *pos)
{
	sqlite3_stmt *s;
	int err = DL_OK, rc;

	memset(pos, 0, sizeof *pos);
	if (!st->has_dlmon)
		return DL_OK;
	if ((s = st_stmt(st, S_POS_GET, &err)) == NULL)
		return err;
	sqlite3_bind_text(s, 1, key, -1, SQLITE_STATIC);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		/* uint64 values are kept as their int64 bit pattern */
		pos->known = 1;
		pos->dev = (uint64_t)sqlite3_column_int64(s, 0);
		pos->ino = (uint64_t)sqlite3_column_int64(s, 1);
		pos->fp_len = (uint32_t)sqlite3_column_int64(s, 2);
		pos->fp_hash = (uint64_t)sqlite3_column_int64(s, 3);
		pos->offset = (uint64_t)sqlite3_column_int64(s, 4);
		pos->cur_time = (time_t)sqlite3_column_int64(s, 5);
		pos->lineno = (uint64_t)sqlite3_column_int64(s, 6);
	} else if (rc != SQLITE_DONE)
		err = st_fail(st, rc);
	st_done(s);
	return err;
}

/* store_pos_put: insert or replace the position of key (of source). */
int
store_pos_put(struct store *st, const char *source, const char *key,
    const struct src_pos *pos)
{
	sqlite3_stmt *s;
	int err = DL_OK, rc;

	if ((s = st_stmt(st, S_POS_PUT, &err)) == NULL)
		return err;
	sqlite3_bind_text(s, 1, key, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, source, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 3, (sqlite3_int64)pos->dev);
	sqlite3_bind_int64(s, 4, (sqlite3_int64)pos->ino);
	sqlite3_bind_int64(s, 5, (sqlite3_int64)pos->fp_len);
	sqlite3_bind_int64(s, 6, (sqlite3_int64)pos->fp_hash);
	sqlite3_bind_int64(s, 7, (sqlite3_int64)pos->offset);
	sqlite3_bind_int64(s, 8, (sqlite3_int64)pos->cur_time);
	sqlite3_bind_int64(s, 9, (sqlite3_int64)pos->lineno);
	rc = sqlite3_step(s);
	if (rc != SQLITE_DONE)
		err = st_fail(st, rc);
	st_done(s);
	return err;
}

/* store_pos_delete: forget key (no error when absent). */
int
store_pos_delete(struct store *st, const char *key)
{
	sqlite3_stmt *s;
	int err = DL_OK, rc;

	if ((s = st_stmt(st, S_POS_DELETE, &err)) == NULL)
		return err;
	sqlite3_bind_text(s, 1, key, -1, SQLITE_STATIC);
	rc = sqlite3_step(s);
	if (rc != SQLITE_DONE)
		err = st_fail(st, rc);
	st_done(s);
	return err;
}

/* Collects column 0 of every row of s into a malloc'ed string array. */
static int
collect_strings(struct store *st, sqlite3_stmt *s, char ***out, size_t *n)
{
	char **v = NULL, **nv;
	size_t len = 0, cap = 0;
	int err = DL_OK, rc;

	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		if (len == cap) {
			cap = cap ? cap * 2 : 16;
			if ((nv = realloc(v, cap * sizeof *v)) == NULL) {
				err = st_nomem(st);
				goto out;
			}
			v = nv;
		}
		if ((err = col_dup(st, s, 0, &v[len])) != DL_OK)
			goto out;
		if (v[len] != NULL)
			len++;
	}
	if (rc != SQLITE_DONE)
		err = st_fail(st, rc);
out:
	st_done(s);
	if (err != DL_OK) {
		store_keys_free(v, len);
		v = NULL;
		len = 0;
	}
	*out = v;
	*n = len;
	return err;
}

/* store_pos_keys: keys of source, sorted; free with store_keys_free. */
int
store_pos_keys(struct store *st, const char *source, char ***keys, size_t *n)
{
	sqlite3_stmt *s;
	int err = DL_OK;

	*keys = NULL;
	*n = 0;
	if (!st->has_dlmon)
		return DL_OK;
	if ((s = st_stmt(st, S_POS_KEYS, &err)) == NULL)
		return err;
	sqlite3_bind_text(s, 1, source, -1, SQLITE_STATIC);
	return collect_strings(st, s, keys, n);
}

/* store_keys_free: frees an array from store_pos_keys/store_downloaders. */
void
store_keys_free(char **keys, size_t n)
{
	size_t i;

	if (keys == NULL)
		return;
	for (i = 0; i < n; i++)
		free(keys[i]);
	free(keys);
}

/* Binds the identity and fields of a (ts formatted) to s, as bytes. */
static void
bind_attempt(sqlite3_stmt *s, const struct attempt *a, const char *ts)
{
	sqlite3_bind_text(s, 1, a->downloader, (int)a->downloader_len, SQLITE_STATIC);
	if (a->user)
		sqlite3_bind_text(s, 2, a->user, (int)a->user_len, SQLITE_STATIC);
	sqlite3_bind_text(s, 3, ts, -1, SQLITE_STATIC);
	sqlite3_bind_int(s, 4, a->success ? 1 : 0);
	sqlite3_bind_int64(s, 5, a->file_count);
	if (a->error)
		sqlite3_bind_text(s, 6, a->error, (int)a->error_len, SQLITE_STATIC);
}

/* store_attempt_add: see store.h.  Text fields are bound by length, as bytes. */
int
store_attempt_add(struct store *st, const struct attempt *a, int *added)
{
	char ts[DLT_BUFSZ];
	sqlite3_stmt *find, *ins = NULL;
	int err = DL_OK, rc;

	*added = 0;
	if ((find = st_stmt(st, S_ATTEMPT_ADD, &err)) == NULL ||
	    (ins = st_stmt(st, S_ATTEMPT_INSERT, &err)) == NULL)
		return err;
	dlt_format(a->ts, ts);
	bind_attempt(find, a, ts);
	rc = sqlite3_step(find);
	if (rc == SQLITE_ROW)
		goto out;                  /* already stored */
	if (rc != SQLITE_DONE) {
		err = st_fail(st, rc);
		goto out;
	}
	bind_attempt(ins, a, ts);
	rc = sqlite3_step(ins);
	if (rc == SQLITE_DONE)
		*added = 1;
	else
		err = st_fail(st, rc);
out:
	st_done(find);
	st_done(ins);
	return err;
}

/* store_downloaders: distinct names, sorted; free with store_keys_free. */
int
store_downloaders(struct store *st, char ***ids, size_t *n)
{
	sqlite3_stmt *s;
	int err = DL_OK;

	*ids = NULL;
	*n = 0;
	if (!st->has_dm)
		return DL_OK;
	if ((s = st_stmt(st, S_DOWNLOADERS, &err)) == NULL)
		return err;
	return collect_strings(st, s, ids, n);
}

/* store_history_clear: releases what store_history_load returned. */
void
store_history_clear(struct store *st)
{
	free(st->fail);
	st->fail = NULL;
	st->fail_cap = 0;
	sb_free(&st->user);
	sb_free(&st->error);
}

/* Keeps column i of s in sb; *isnull tells a NULL column. */
static int
keep_text(sqlite3_stmt *s, int i, struct strbuf *sb, int *isnull)
{
	const char *t = (const char *)sqlite3_column_text(s, i);

	sb_reset(sb);
	*isnull = t == NULL;
	if (t == NULL)
		return DL_OK;
	return sb_append(sb, t, (size_t)sqlite3_column_bytes(s, i));
}

/* The latest success at or before now (by timestamp, then id). */
static int
load_success(struct store *st, const char *dl, const char *upto,
    struct ev_history *h, char succ_ts[DLT_BUFSZ + 64])
{
	sqlite3_stmt *s;
	int err = DL_OK, rc;

	if ((s = st_stmt(st, S_LAST_SUCCESS, &err)) == NULL)
		return err;
	sqlite3_bind_text(s, 1, dl, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, upto, -1, SQLITE_STATIC);
	/* normally one row; rows whose timestamp does not parse are passed */
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		const char *t = (const char *)sqlite3_column_text(s, 1);
		time_t ts;
		if (t == NULL || dlt_parse_db(t, &ts) != 0)
			continue;
		h->have_success = 1;
		h->success_id = sqlite3_column_int64(s, 0);
		h->success_ts = ts;
		snprintf(succ_ts, DLT_BUFSZ + 64, "%s", t);
		break;
	}
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		err = st_fail(st, rc);
	st_done(s);
	return err;
}

/*
 * store_history_load: see store.h.  A success row's text is compared as
 * stored (its fractions included) so that the failures after it are exactly
 * those ordered after it by (timestamp, id).
 */
int
store_history_load(struct store *st, const char *dl, time_t now, struct ev_history *h)
{
	char upto[DLT_BUFSZ], succ_ts[DLT_BUFSZ + 64] = "";
	sqlite3_stmt *s = NULL;
	size_t n = 0;
	int err = DL_OK, rc, unull = 1, enull = 1;

	memset(h, 0, sizeof *h);
	sb_reset(&st->user);
	sb_reset(&st->error);
	if (!st->has_dm)
		return DL_OK;
	dlt_format(now + 1, upto);
	if ((err = load_success(st, dl, upto, h, succ_ts)) != DL_OK)
		return err;
	if ((s = st_stmt(st, S_FAILURES, &err)) == NULL)
		return err;
	sqlite3_bind_text(s, 1, dl, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, upto, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 3, succ_ts, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 4, h->have_success ? h->success_id : 0);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		const char *t = (const char *)sqlite3_column_text(s, 1);
		time_t ts;
		if (t == NULL || dlt_parse_db(t, &ts) != 0)
			continue;
		if (n == st->fail_cap) {
			size_t cap = st->fail_cap ? st->fail_cap * 2 : 64;
			struct ev_failure *nf = realloc(st->fail, cap * sizeof *nf);
			if (nf == NULL) {
				err = st_nomem(st);
				goto out;
			}
			st->fail = nf;
			st->fail_cap = cap;
		}
		st->fail[n].id = sqlite3_column_int64(s, 0);
		st->fail[n].ts = ts;
		st->fail[n].alert_sent = sqlite3_column_int(s, 2) != 0;
		n++;
		if (keep_text(s, 3, &st->user, &unull) != DL_OK ||
		    keep_text(s, 4, &st->error, &enull) != DL_OK) {
			err = st_nomem(st);
			goto out;
		}
	}
	if (rc != SQLITE_DONE) {
		err = st_fail(st, rc);
		goto out;
	}
	h->fail = st->fail;
	h->nfail = n;
	if (n > 0) {
		h->last_user = unull ? NULL : st->user.buf;
		h->last_error = enull ? NULL : st->error.buf;
	}
out:
	st_done(s);
	return err;
}

/* store_prune: see store.h; its own transaction. */
int
store_prune(struct store *st, time_t cutoff, int count_only, long long *deleted)
{
	char ts[DLT_BUFSZ];
	sqlite3_stmt *s = NULL;
	int err, rc;

	*deleted = 0;
	if ((err = st_begin_own(st, "store_prune")) != DL_OK)
		return err;
	if ((s = st_stmt(st, count_only ? S_PRUNE_COUNT : S_PRUNE, &err)) == NULL)
		goto out;
	dlt_format(cutoff, ts);
	sqlite3_bind_text(s, 1, ts, -1, SQLITE_STATIC);
	rc = sqlite3_step(s);
	if (count_only && rc == SQLITE_ROW) {
		*deleted = sqlite3_column_int64(s, 0);
		rc = SQLITE_DONE;
	} else if (rc == SQLITE_DONE)
		*deleted = sqlite3_changes64(st->db);
	st_done(s);
	s = NULL;
	if (rc != SQLITE_DONE) {
		err = st_fail(st, rc);
		goto out;
	}
	err = store_commit(st);
out:
	st_done(s);
	if (err != DL_OK) {
		store_rollback(st);
		*deleted = 0;
	}
	return err;
}
