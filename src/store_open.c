/* store_open.c — opening, schema and closing the database.  See store.h. */
#include "store.h"
#include "store_int.h"
#include "util.h"

#include <errno.h>
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
