/*
 * store.c — the store's statements, their helpers and transactions.  See
 * store.h; opening and the schema are store_open.c, the rows store_rows.c,
 * alert bookkeeping store_alert.c.
 *
 * Every statement is a constant of the table below, prepared once (lazily,
 * on first use) and finalized in store_close.  Statements are reset right
 * after use so that no read transaction stays open: the downloader
 * application may be writing to the same file.
 */
#include "store.h"
#include "store_int.h"
#include "util.h"

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
	/* one probe of the seed's timestamp index */
	[S_ATTEMPT_LATEST] = "SELECT max(timestamp) FROM download_monitor",
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
	/* what S_RECOVERY_DUE may count: from the first failure of any
	 * delivered failing alert whose recovery is not delivered yet */
	[S_RECOVERY_FLOORS] = "SELECT a.downloader, strftime('%Y-%m-%dT%H:%M:%S',"
	    " min(a.first_fail), 'unixepoch', 'localtime') FROM dlmon_alerts a"
	    " WHERE a.kind = 'failing' AND a.sent_at IS NOT NULL AND NOT EXISTS"
	    " (SELECT 1 FROM dlmon_alerts r WHERE r.downloader = a.downloader"
	    " AND r.kind = 'recovered' AND r.streak = a.streak AND r.state <> 'pending')"
	    " GROUP BY a.downloader ORDER BY a.downloader",
	[S_PRUNE] = "DELETE FROM download_monitor WHERE timestamp < ?1",
	[S_PRUNE_COUNT] = "SELECT count(*) FROM download_monitor WHERE timestamp < ?1",
};

/* st_nomem: see store_int.h. */
int
st_nomem(struct store *st)
{
	msg_err("%s: out of memory", st->path);
	return DL_ENOMEM;
}

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

/* store_fail: see store.h. */
int
store_fail(struct store *st, int rc)
{
	return st_fail(st, rc);
}

/* store_prepare: see store.h. */
int
store_prepare(struct store *st, const char *sql, sqlite3_stmt **stmt)
{
	int rc = sqlite3_prepare_v2(st->db, sql, -1, stmt, NULL);

	return rc == SQLITE_OK ? DL_OK : st_fail(st, rc);
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
