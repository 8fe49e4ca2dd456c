/*
 * store.h — the SQLite database: the seed's download_monitor and settings
 * tables (adopted in place when they exist) and dlmon's own dlmon_* tables.
 * The store owns its sqlite3 handle and every prepared statement.
 *
 * Error convention: see util.h.  SQLITE_BUSY past busy_timeout_ms is
 * DL_EBUSY; SQLITE_FULL, read-only, corrupt or not-a-database is DL_EFAIL
 * with a message naming the database path.  Statements are only ever
 * prepared, never built from strings.
 */
#ifndef DLMON_STORE_H
#define DLMON_STORE_H

#include <sqlite3.h>
#include <stddef.h>
#include <time.h>

#include "alert.h"
#include "eval.h"
#include "parse.h"
#include "source.h"
#include "util.h"

enum store_mode {
	STORE_RW = 0,      /* create or adopt, WAL, schema upgraded */
	STORE_RO,          /* read-only (queries); missing database is an error */
	STORE_DRYRUN       /* a private temporary copy of the database (or an empty
	                      one when it does not exist); the file is opened
	                      read-only and never written */
};

struct store;

/*
 * store_open: open path in mode with busy_timeout_ms.  In STORE_RW, creates
 * the file if missing, switches to WAL (retrying while busy, within the
 * timeout), creates download_monitor (exactly the seed's DDL), its three
 * indexes, settings and the dlmon_* tables if missing, and adds dlmon's
 * indexes.  *out is owned by the caller (store_close).
 */
int store_open(const char *path, enum store_mode mode, int busy_timeout_ms,
    struct store **out);
void store_close(struct store *st);
sqlite3 *store_db(struct store *st);
const char *store_path(const struct store *st);

/*
 * store_prepare: prepare sql (constant text; every value is bound by the
 * caller) on st's connection into *stmt, owned by the caller
 * (sqlite3_finalize) — for the queries that are not the store's own.
 * store_fail: report SQLite result rc on st ("PATH: why") and map it to a
 * DL_E* code (busy past the timeout: DL_EBUSY).
 */
int store_prepare(struct store *st, const char *sql, sqlite3_stmt **stmt);
int store_fail(struct store *st, int rc);

/* Transactions: store_begin is BEGIN IMMEDIATE (DL_EBUSY when busy). */
int store_begin(struct store *st);
int store_commit(struct store *st);
void store_rollback(struct store *st);

/* settings row value (malloc'ed, *value NULL when the row is absent). */
int store_setting_get(struct store *st, const char *key, char **value);

/* --- positions (dlmon_files), written inside the caller's transaction --- */
int store_pos_get(struct store *st, const char *key, struct src_pos *pos);
int store_pos_put(struct store *st, const char *source, const char *key,
    const struct src_pos *pos);
int store_pos_delete(struct store *st, const char *key);
/* the keys saved for source (malloc'ed array of malloc'ed strings) */
int store_pos_keys(struct store *st, const char *source, char ***keys, size_t *n);
void store_keys_free(char **keys, size_t n);

/*
 * store_attempt_add: insert a unless an attempt with the same identity
 * (downloader, username, timestamp, success, error_message; NULLs equal) is
 * stored; *added tells which.  Inside the caller's transaction.
 */
int store_attempt_add(struct store *st, const struct attempt *a, int *added);

/*
 * store_attempt_known: *known = 1 when an attempt with a's identity is
 * stored (ts is a->ts as dlt_format writes it).  Reads only.
 */
int store_attempt_known(struct store *st, const struct attempt *a, const char *ts,
    int *known);

/* store_attempt_latest: the greatest stored timestamp text into buf, or
 * *have = 0 when no attempt is stored. */
int store_attempt_latest(struct store *st, char buf[DLT_BUFSZ], int *have);

/* --- evaluation --- */

/* every downloader with at least one attempt (sorted, lower-case) */
int store_downloaders(struct store *st, char ***ids, size_t *n);

/*
 * store_history_load: fill h for downloader dl with attempts at or before
 * now: latest success and the failures after it (ordered by timestamp, id).
 * h's arrays and strings are owned by st until the next call or
 * store_history_clear.
 */
int store_history_load(struct store *st, const char *dl, time_t now, struct ev_history *h);
void store_history_clear(struct store *st);

/* --- alert bookkeeping (dlmon_alerts); each call commits on its own --- */
enum store_alert_kind { SA_FAILING = 0, SA_RECOVERED, SA_SILENT };

/* state of the alert of kind for (dl, streak key) (EV_AS_NONE if none);
 * *notifier_hash is the hash recorded when it was held (0 otherwise). */
int store_alert_state(struct store *st, enum store_alert_kind kind, const char *dl,
    const char *streak, struct ev_alert_state *as, unsigned long long *notifier_hash);

/*
 * store_alert_pending: record (or refresh) the alert of kind for (dl, streak)
 * as pending, with its texts, before it is sent; *id is its row.
 */
int store_alert_pending(struct store *st, enum store_alert_kind kind, const char *dl,
    const char *streak, time_t first_fail, size_t nfail, time_t now,
    const struct alert_msg *m, long long *id);

/*
 * store_alert_sent: mark alert id delivered at now and, in the same
 * transaction, set alert_sent = 1 on the failures fail[0..nfail) (the streak
 * up to that moment).
 */
int store_alert_sent(struct store *st, long long id, time_t now,
    const struct ev_failure *fail, size_t nfail);

/* store_alert_failed: not delivered: stays pending, or held (with the
 * notifier hash) after a 4xx; why (no secrets) kept for `dlmon status`. */
int store_alert_failed(struct store *st, long long id, int held,
    unsigned long long notifier_hash, const char *why);

/* store_alert_drop_stale: pending/held alerts of kind of dl whose streak key
 * is not `streak` are dropped (their streak or silence ended); *dropped
 * counts them. */
int store_alert_drop_stale(struct store *st, enum store_alert_kind kind, const char *dl,
    const char *streak, int *dropped);

/*
 * store_recovery_due: the latest delivered "failing" alert of dl for a streak
 * other than `streak` that has no recovery alert yet: its streak key, first
 * failure time and failure count (the failures from its first one up to
 * ended_at, the success that ended it; at least the count it alerted with).
 * *found = 0 when none.
 */
int store_recovery_due(struct store *st, const char *dl, const char *streak,
    time_t ended_at, int *found, char prev_streak[EV_STREAK_KEY_MAX], time_t *first_fail, size_t *nfail);

/*
 * store_recovery_floors: for each downloader with a delivered failing alert
 * whose recovery push is not delivered, the earliest timestamp text the
 * failure count of that recovery (store_recovery_due) may include: a flat
 * array of 2 * *n malloc'ed strings (downloader, timestamp, ...); free with
 * store_keys_free(v, 2 * n).
 */
int store_recovery_floors(struct store *st, char ***v, size_t *n);

/* --- pruning --- */
/* delete attempts with timestamp before cutoff; *deleted counts them.
 * With count_only, nothing is deleted. */
int store_prune(struct store *st, time_t cutoff, int count_only, long long *deleted);

#endif
