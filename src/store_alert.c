/*
 * store_alert.c — alert bookkeeping (dlmon_alerts).  See store.h.
 *
 * Each call commits on its own (st_begin_own): an alert must be on disk
 * before the notifier is called, and its delivery recorded right after.
 */
#include "store.h"
#include "store_int.h"
#include "util.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

static const char *const kind_name[] = {
	[SA_FAILING] = "failing", [SA_RECOVERED] = "recovered", [SA_SILENT] = "silent",
};

/* store_alert_state: see store.h; a dropped alert counts as none. */
int
store_alert_state(struct store *st, enum store_alert_kind kind, const char *dl,
    const char *streak, struct ev_alert_state *as, unsigned long long *notifier_hash)
{
	sqlite3_stmt *s;
	int err = DL_OK, rc;

	memset(as, 0, sizeof *as);
	*notifier_hash = 0;
	if (!st->has_dlmon)
		return DL_OK;
	if ((s = st_stmt(st, S_ALERT_STATE, &err)) == NULL)
		return err;
	sqlite3_bind_text(s, 1, dl, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, streak, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 3, kind_name[kind], -1, SQLITE_STATIC);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		const char *state = (const char *)sqlite3_column_text(s, 0);
		const char *sent = (const char *)sqlite3_column_text(s, 1);
		if (state && strcmp(state, "pending") == 0)
			as->status = EV_AS_PENDING;
		else if (state && strcmp(state, "sent") == 0) {
			as->status = EV_AS_SENT;
			if (sent == NULL || dlt_parse_db(sent, &as->sent_at) != 0)
				as->sent_at = 0;
		} else if (state && strcmp(state, "held") == 0) {
			as->status = EV_AS_HELD;
			*notifier_hash = (unsigned long long)sqlite3_column_int64(s, 2);
		}
	} else if (rc != SQLITE_DONE)
		err = st_fail(st, rc);
	st_done(s);
	return err;
}

/* store_alert_pending: see store.h.  Commits before returning, so the
 * alert is on disk before the notifier is called. */
int
store_alert_pending(struct store *st, enum store_alert_kind kind, const char *dl,
    const char *streak, time_t first_fail, size_t nfail, time_t now,
    const struct alert_msg *m, long long *id)
{
	char created[DLT_BUFSZ];
	sqlite3_stmt *s = NULL;
	int err, rc;

	*id = 0;
	if ((err = st_begin_own(st, "store_alert_pending")) != DL_OK)
		return err;
	if ((s = st_stmt(st, S_ALERT_PENDING, &err)) == NULL)
		goto out;
	dlt_format(now, created);
	sqlite3_bind_text(s, 1, dl, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, kind_name[kind], -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 3, streak, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 4, (sqlite3_int64)first_fail);
	sqlite3_bind_int64(s, 5, (sqlite3_int64)nfail);
	sqlite3_bind_text(s, 6, created, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 7, m->title, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 8, m->message, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW)
		*id = sqlite3_column_int64(s, 0);
	if (rc != SQLITE_DONE) {
		err = st_fail(st, rc);
		goto out;
	}
	st_done(s);
	s = NULL;
	err = store_commit(st);
out:
	st_done(s);
	if (err != DL_OK) {
		store_rollback(st);
		*id = 0;
	}
	return err;
}

/* store_alert_sent: see store.h (one transaction for both tables). */
int
store_alert_sent(struct store *st, long long id, time_t now,
    const struct ev_failure *fail, size_t nfail)
{
	char sent[DLT_BUFSZ];
	sqlite3_stmt *s = NULL;
	size_t i;
	int err, rc;

	if ((err = st_begin_own(st, "store_alert_sent")) != DL_OK)
		return err;
	if ((s = st_stmt(st, S_ALERT_SENT, &err)) == NULL)
		goto out;
	dlt_format(now, sent);
	sqlite3_bind_int64(s, 1, id);
	sqlite3_bind_text(s, 2, sent, -1, SQLITE_STATIC);
	rc = sqlite3_step(s);
	st_done(s);
	s = NULL;
	if (rc != SQLITE_DONE) {
		err = st_fail(st, rc);
		goto out;
	}
	if (nfail > 0 && (s = st_stmt(st, S_MARK_SENT, &err)) == NULL)
		goto out;
	for (i = 0; i < nfail; i++) {
		sqlite3_bind_int64(s, 1, fail[i].id);
		rc = sqlite3_step(s);
		sqlite3_reset(s);
		if (rc != SQLITE_DONE) {
			err = st_fail(st, rc);
			goto out;
		}
	}
	st_done(s);
	s = NULL;
	err = store_commit(st);
out:
	st_done(s);
	if (err != DL_OK)
		store_rollback(st);
	return err;
}

/* store_alert_failed: see store.h. */
int
store_alert_failed(struct store *st, long long id, int held,
    unsigned long long notifier_hash, const char *why)
{
	sqlite3_stmt *s = NULL;
	int err, rc;

	if ((err = st_begin_own(st, "store_alert_failed")) != DL_OK)
		return err;
	if ((s = st_stmt(st, S_ALERT_FAILED, &err)) == NULL)
		goto out;
	sqlite3_bind_int64(s, 1, id);
	sqlite3_bind_int(s, 2, held ? 1 : 0);
	sqlite3_bind_int64(s, 3, (sqlite3_int64)notifier_hash);
	if (why)
		sqlite3_bind_text(s, 4, why, -1, SQLITE_STATIC);
	rc = sqlite3_step(s);
	st_done(s);
	s = NULL;
	if (rc != SQLITE_DONE) {
		err = st_fail(st, rc);
		goto out;
	}
	err = store_commit(st);
out:
	st_done(s);
	if (err != DL_OK)
		store_rollback(st);
	return err;
}

/* store_alert_drop_stale: see store.h. */
int
store_alert_drop_stale(struct store *st, enum store_alert_kind kind, const char *dl,
    const char *streak, int *dropped)
{
	sqlite3_stmt *s = NULL;
	int err, rc;

	*dropped = 0;
	if ((err = st_begin_own(st, "store_alert_drop_stale")) != DL_OK)
		return err;
	if ((s = st_stmt(st, S_ALERT_DROP, &err)) == NULL)
		goto out;
	sqlite3_bind_text(s, 1, dl, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, streak, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 3, kind_name[kind], -1, SQLITE_STATIC);
	rc = sqlite3_step(s);
	st_done(s);
	s = NULL;
	if (rc != SQLITE_DONE) {
		err = st_fail(st, rc);
		goto out;
	}
	*dropped = sqlite3_changes(st->db);
	err = store_commit(st);
out:
	st_done(s);
	if (err != DL_OK) {
		store_rollback(st);
		*dropped = 0;
	}
	return err;
}

/*
 * store_recovery_due: see store.h.  Only the latest delivered alert is
 * considered: an older streak that never got its recovery push stays
 * silent rather than announcing a recovery from long ago.  A recovery that
 * is pending (not delivered yet) is still due; one sent, held or dropped is
 * not.
 */
int
store_recovery_due(struct store *st, const char *dl, const char *streak,
    time_t ended_at, int *found, char prev_streak[EV_STREAK_KEY_MAX], time_t *first_fail,
    size_t *nfail)
{
	char ended[DLT_BUFSZ];
	sqlite3_stmt *s;
	int err = DL_OK, rc;

	*found = 0;
	prev_streak[0] = '\0';
	*first_fail = 0;
	*nfail = 0;
	if (!st->has_dlmon)
		return DL_OK;
	if ((s = st_stmt(st, S_RECOVERY_DUE, &err)) == NULL)
		return err;
	sqlite3_bind_text(s, 1, dl, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, streak, -1, SQLITE_STATIC);
	dlt_format(ended_at, ended);
	sqlite3_bind_text(s, 3, ended, -1, SQLITE_STATIC);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		const char *key = (const char *)sqlite3_column_text(s, 0);
		const char *rstate = (const char *)sqlite3_column_text(s, 3);
		if (key && (rstate == NULL || strcmp(rstate, "pending") == 0)) {
			*found = 1;
			snprintf(prev_streak, EV_STREAK_KEY_MAX, "%s", key);
			*first_fail = (time_t)sqlite3_column_int64(s, 1);
			*nfail = (size_t)sqlite3_column_int64(s, 2);
		}
	} else if (rc != SQLITE_DONE)
		err = st_fail(st, rc);
	st_done(s);
	return err;
}

/* store_recovery_floors: see store.h. */
int
store_recovery_floors(struct store *st, char ***v, size_t *n)
{
	sqlite3_stmt *s;
	int err = DL_OK;

	*v = NULL;
	*n = 0;
	if (!st->has_dlmon)
		return DL_OK;
	if ((s = st_stmt(st, S_RECOVERY_FLOORS, &err)) == NULL)
		return err;
	return st_collect(st, s, 2, v, n);
}
