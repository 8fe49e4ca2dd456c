/*
 * store_int.h — store's private declarations, shared by store.c,
 * store_open.c, store_rows.c and store_alert.c only (not part of the store
 * API: see store.h).
 */
#ifndef DLMON_STORE_INT_H
#define DLMON_STORE_INT_H

#include <sqlite3.h>
#include <stddef.h>

#include "store.h"
#include "util.h"

/* the prepared statements; their SQL is stmt_sql[] in store.c */
enum stmt_id {
	S_BEGIN, S_COMMIT, S_ROLLBACK, S_EXISTS, S_VERSION,
	S_SETTING_GET,
	S_POS_GET, S_POS_PUT, S_POS_DELETE, S_POS_KEYS,
	S_ATTEMPT_ADD, S_ATTEMPT_INSERT, S_ATTEMPT_LATEST, S_RECOVERY_FLOORS, S_DOWNLOADERS, S_LAST_SUCCESS, S_FAILURES,
	S_ALERT_STATE, S_ALERT_PENDING, S_ALERT_SENT, S_MARK_SENT, S_ALERT_FAILED,
	S_ALERT_DROP, S_RECOVERY_DUE,
	S_PRUNE, S_PRUNE_COUNT,
	S_COUNT
};

/* the store owns the handle, the statements and the history buffers */
struct store {
	sqlite3 *db;
	char *path;
	enum store_mode mode;
	int busy_ms;
	int has_dm, has_settings, has_dlmon;  /* tables present (RO may lack them) */
	sqlite3_stmt *stmt[S_COUNT];
	/* store_history_load's results */
	struct ev_failure *fail;
	size_t fail_cap;
	struct strbuf user, error;
};

/* st_sql: the text of statement id (constant), for the tests that check
 * the plans with EXPLAIN QUERY PLAN; NULL when id is out of range. */
const char *st_sql(enum stmt_id id);

/* st_fail: reports rc as "PATH: why" and maps it to a DL_E* code. */
int st_fail(struct store *st, int rc);
/*
 * Steps s to its end (and resets it), collecting ncols text columns of each
 * row as malloc'ed strings into a flat array (*n rows, ncols entries each;
 * free with store_keys_free(*out, *n * ncols)).  Rows with a NULL column
 * are left out.
 */
int st_collect(struct store *st, sqlite3_stmt *s, int ncols, char ***out, size_t *n);
/* Reports "out of memory" for st's database; returns DL_ENOMEM. */
int st_nomem(struct store *st);

/* st_stmt: the prepared statement id (prepared on first use, owned by st),
 * or NULL with *err set (reported). */
sqlite3_stmt *st_stmt(struct store *st, enum stmt_id id, int *err);

/* st_done: reset and clear the bindings of s (NULL is fine), so that no
 * read transaction stays open. */
void st_done(sqlite3_stmt *s);

/* st_begin_own: BEGIN IMMEDIATE for the calls that commit on their own;
 * an error (reported, naming what) when a transaction is already open. */
int st_begin_own(struct store *st, const char *what);

#endif
