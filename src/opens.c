/*
 * opens.c — open attempts: the rule (pure) and the dlmon_open table.
 * See opens.h.
 *
 * A file rarely has more than a handful of open attempts (one per downloader
 * and user being fetched), so the set is a plain array scanned linearly; the
 * earliest start is kept aside so that the per-line expiry test costs one
 * comparison.
 */
#include "opens.h"

#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

struct opens {
	struct open_attempt *a;
	size_t n, cap;
	time_t oldest;             /* min ts over a[], valid when n > 0 */
	int dirty;
};

struct opens *
opens_new(void)
{
	struct opens *o = calloc(1, sizeof *o);

	if (o == NULL)
		msg_err("out of memory");
	return o;
}

static void
oa_free(struct open_attempt *oa)
{
	free(oa->downloader);
	free(oa->user);
}

void
opens_clear(struct opens *o)
{
	size_t i;

	for (i = 0; i < o->n; i++)
		oa_free(&o->a[i]);
	o->n = 0;
	o->dirty = 0;
}

void
opens_free(struct opens *o)
{
	if (o == NULL)
		return;
	opens_clear(o);
	free(o->a);
	free(o);
}

size_t
opens_count(const struct opens *o)
{
	return o->n;
}

const struct open_attempt *
opens_at(const struct opens *o, size_t i)
{
	return i < o->n ? &o->a[i] : NULL;
}

int
opens_dirty(const struct opens *o)
{
	return o->dirty;
}

void
opens_mark_saved(struct opens *o)
{
	o->dirty = 0;
}

static void
recompute_oldest(struct opens *o)
{
	size_t i;

	for (i = 0; i < o->n; i++)
		if (i == 0 || o->a[i].ts < o->oldest)
			o->oldest = o->a[i].ts;
}

/* Removes entry i, keeping the order (start order matters for expiry). */
static void
remove_at(struct opens *o, size_t i)
{
	oa_free(&o->a[i]);
	memmove(&o->a[i], &o->a[i + 1], (o->n - i - 1) * sizeof o->a[0]);
	o->n--;
	o->dirty = 1;
	recompute_oldest(o);
}

/* Appends a copy of (dl, user, ts); DL_ENOMEM reported. */
static int
add(struct opens *o, const char *dl, size_t dl_len, const char *user,
    size_t user_len, time_t ts)
{
	struct open_attempt oa;

	if (o->n == o->cap) {
		size_t cap = o->cap ? o->cap * 2 : 8;
		struct open_attempt *na = realloc(o->a, cap * sizeof *na);

		if (na == NULL)
			goto nomem;
		o->a = na;
		o->cap = cap;
	}
	memset(&oa, 0, sizeof oa);
	oa.downloader = malloc(dl_len + 1);
	if (oa.downloader == NULL)
		goto nomem;
	memcpy(oa.downloader, dl, dl_len);
	oa.downloader[dl_len] = '\0';
	oa.downloader_len = dl_len;
	if (user != NULL) {
		/* +1: a zero-length user stays distinct from "none". */
		oa.user = malloc(user_len + 1);
		if (oa.user == NULL) {
			free(oa.downloader);
			goto nomem;
		}
		memcpy(oa.user, user, user_len);
		oa.user[user_len] = '\0';
		oa.user_len = user_len;
	}
	oa.ts = ts;
	o->a[o->n++] = oa;
	if (o->n == 1 || ts < o->oldest)
		o->oldest = ts;
	o->dirty = 1;
	return DL_OK;
nomem:
	msg_err("out of memory (open attempts)");
	return DL_ENOMEM;
}

static int
same_dl(const struct open_attempt *oa, const char *dl, size_t len)
{
	return oa->downloader_len == len && memcmp(oa->downloader, dl, len) == 0;
}

/* Users equal, NULLs equal. */
static int
same_user(const struct open_attempt *oa, const char *user, size_t len)
{
	if (oa->user == NULL || user == NULL)
		return oa->user == NULL && user == NULL;
	return oa->user_len == len && memcmp(oa->user, user, len) == 0;
}

/* The failure an open attempt becomes, handed to fn. */
static int
fail_one(const struct open_attempt *oa, opens_fail_fn fn, void *ctx)
{
	struct attempt f;

	memset(&f, 0, sizeof f);
	f.downloader = oa->downloader;
	f.downloader_len = oa->downloader_len;
	f.user = oa->user;
	f.user_len = oa->user_len;
	f.ts = oa->ts;
	f.success = 0;
	f.error = OPENS_ERROR;
	f.error_len = sizeof OPENS_ERROR - 1;
	return fn(ctx, &f);
}

/* opens_start: see opens.h. */
int
opens_start(struct opens *o, const struct attempt *s, opens_fail_fn fn, void *ctx)
{
	size_t i;
	int err;

	for (i = 0; i < o->n; i++) {
		struct open_attempt *oa = &o->a[i];

		if (!same_dl(oa, s->downloader, s->downloader_len) ||
		    !same_user(oa, s->user, s->user_len))
			continue;
		if (oa->ts >= s->ts)
			return DL_OK;      /* this start again, or an older line */
		/* The next start came before any result: the first one died. */
		if ((err = fail_one(oa, fn, ctx)) != DL_OK)
			return err;
		remove_at(o, i);
		break;
	}
	return add(o, s->downloader, s->downloader_len, s->user, s->user_len, s->ts);
}

/* opens_match: see opens.h. */
const struct open_attempt *
opens_match(const struct opens *o, const struct attempt *r)
{
	const struct open_attempt *exact = NULL, *anyuser = NULL, *latest = NULL;
	size_t i;

	for (i = 0; i < o->n; i++) {
		const struct open_attempt *oa = &o->a[i];

		if (oa->ts > r->ts || !same_dl(oa, r->downloader, r->downloader_len))
			continue;
		if (latest == NULL || oa->ts >= latest->ts)
			latest = oa;
		if (r->user != NULL && same_user(oa, r->user, r->user_len))
			exact = oa;
		else if (oa->user == NULL && (anyuser == NULL || oa->ts >= anyuser->ts))
			anyuser = oa;
	}
	if (r->user == NULL)
		return latest;
	return exact ? exact : anyuser;
}

/* opens_close: see opens.h. */
void
opens_close(struct opens *o, const struct open_attempt *m)
{
	if (m != NULL && m >= o->a && m < o->a + o->n)
		remove_at(o, (size_t)(m - o->a));
}

/* opens_expire: see opens.h. */
int
opens_expire(struct opens *o, time_t t, opens_fail_fn fn, void *ctx)
{
	size_t i = 0;
	int err;

	if (o->n == 0 || t - o->oldest <= OPENS_LIMIT)
		return DL_OK;
	while (i < o->n) {
		if (t - o->a[i].ts <= OPENS_LIMIT) {
			i++;
			continue;
		}
		if ((err = fail_one(&o->a[i], fn, ctx)) != DL_OK)
			return err;
		remove_at(o, i);
	}
	return DL_OK;
}

/* --- the table dlmon_open ------------------------------------------------ */

enum { OD_DDL_TABLE, OD_DDL_INDEX, OD_LOAD, OD_DELETE, OD_INSERT, OD_EXPIRED,
	OD_DELETE_EXPIRED, OD_N };

/*
 * ts (epoch seconds) is what the rule uses, exactly, whatever the time zone
 * does; started is the same instant in the stored timestamp form, for a
 * person reading the table.
 */
static const char *const od_sql[OD_N] = {
	[OD_DDL_TABLE] = "CREATE TABLE IF NOT EXISTS dlmon_open (\n"
	    "    key TEXT NOT NULL,\n"
	    "    downloader TEXT NOT NULL,\n"
	    "    username TEXT,\n"
	    "    ts INTEGER NOT NULL,\n"
	    "    started TEXT NOT NULL\n"
	    ")",
	[OD_DDL_INDEX] = "CREATE INDEX IF NOT EXISTS dlmon_idx_open_key ON dlmon_open(key)",
	[OD_LOAD] = "SELECT downloader, username, ts FROM dlmon_open WHERE key = ?1"
	    " ORDER BY ts, rowid",
	[OD_DELETE] = "DELETE FROM dlmon_open WHERE key = ?1",
	[OD_INSERT] = "INSERT INTO dlmon_open (key, downloader, username, ts, started)"
	    " VALUES (?1, ?2, ?3, ?4, ?5)",
	[OD_EXPIRED] = "SELECT downloader, username, ts FROM dlmon_open WHERE ts < ?1"
	    " ORDER BY ts, rowid",
	[OD_DELETE_EXPIRED] = "DELETE FROM dlmon_open WHERE ts < ?1",
};

struct opens_db {
	struct store *st;          /* borrowed */
	sqlite3_stmt *stmt[OD_N];
};

/* Reports rc ("DB: dlmon_open: why") and maps it to a DL_E* code. */
static int
od_fail(struct opens_db *od, int rc)
{
	sqlite3 *db = store_db(od->st);

	msg_err("%s: dlmon_open: %s", store_path(od->st),
	    db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
	return (rc & 0xff) == SQLITE_BUSY || (rc & 0xff) == SQLITE_LOCKED
	    ? DL_EBUSY : DL_EFAIL;
}

/* Steps a statement that returns no row, then resets it. */
static int
od_run(struct opens_db *od, sqlite3_stmt *s)
{
	int rc = sqlite3_step(s);

	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	return rc == SQLITE_DONE ? DL_OK : od_fail(od, rc);
}

/* opens_db_new: see opens.h.  The DDL is prepared and run like any statement. */
int
opens_db_new(struct store *st, struct opens_db **out)
{
	struct opens_db *od;
	sqlite3 *db = store_db(st);
	int i, rc, err = DL_OK;

	*out = NULL;
	od = calloc(1, sizeof *od);
	if (od == NULL) {
		msg_err("out of memory");
		return DL_ENOMEM;
	}
	od->st = st;
	/* The table must exist before the other statements can be prepared. */
	for (i = 0; i < OD_N; i++) {
		rc = sqlite3_prepare_v2(db, od_sql[i], -1, &od->stmt[i], NULL);
		if (rc != SQLITE_OK) {
			err = od_fail(od, rc);
			goto out;
		}
		if (i <= OD_DDL_INDEX && (err = od_run(od, od->stmt[i])) != DL_OK)
			goto out;
	}
out:
	if (err != DL_OK)
		opens_db_free(od);
	else
		*out = od;
	return err;
}

void
opens_db_free(struct opens_db *od)
{
	int i;

	if (od == NULL)
		return;
	for (i = 0; i < OD_N; i++)
		sqlite3_finalize(od->stmt[i]);
	free(od);
}

/* Reads one (downloader, username, ts) row into a failure-to-be or an open. */
static void
od_row(sqlite3_stmt *s, struct open_attempt *oa)
{
	oa->downloader = (char *)sqlite3_column_text(s, 0);
	oa->downloader_len = (size_t)sqlite3_column_bytes(s, 0);
	oa->user = sqlite3_column_type(s, 1) == SQLITE_NULL ? NULL
	    : (char *)sqlite3_column_text(s, 1);
	oa->user_len = oa->user ? (size_t)sqlite3_column_bytes(s, 1) : 0;
	oa->ts = (time_t)sqlite3_column_int64(s, 2);
}

/* opens_db_load: see opens.h. */
int
opens_db_load(struct opens_db *od, const char *key, struct opens *o)
{
	sqlite3_stmt *s = od->stmt[OD_LOAD];
	struct open_attempt oa;
	int rc, err = DL_OK;

	opens_clear(o);
	sqlite3_bind_text(s, 1, key, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		od_row(s, &oa);
		if (oa.downloader == NULL)
			continue;          /* NOT NULL: only a hand-edited row */
		if ((err = add(o, oa.downloader, oa.downloader_len, oa.user,
		    oa.user_len, oa.ts)) != DL_OK)
			goto out;
	}
	if (rc != SQLITE_DONE)
		err = od_fail(od, rc);
out:
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	if (err == DL_OK)
		o->dirty = 0;
	return err;
}

/* opens_db_save: see opens.h. */
int
opens_db_save(struct opens_db *od, const char *key, struct opens *o)
{
	sqlite3_stmt *s = od->stmt[OD_INSERT];
	char started[DLT_BUFSZ];
	size_t i;
	int err;

	if (!o->dirty)
		return DL_OK;
	sqlite3_bind_text(od->stmt[OD_DELETE], 1, key, -1, SQLITE_STATIC);
	if ((err = od_run(od, od->stmt[OD_DELETE])) != DL_OK)
		return err;
	for (i = 0; i < o->n; i++) {
		const struct open_attempt *oa = &o->a[i];

		dlt_format(oa->ts, started);
		sqlite3_bind_text(s, 1, key, -1, SQLITE_STATIC);
		sqlite3_bind_text(s, 2, oa->downloader, (int)oa->downloader_len,
		    SQLITE_STATIC);
		if (oa->user)
			sqlite3_bind_text(s, 3, oa->user, (int)oa->user_len, SQLITE_STATIC);
		sqlite3_bind_int64(s, 4, (sqlite3_int64)oa->ts);
		sqlite3_bind_text(s, 5, started, -1, SQLITE_STATIC);
		if ((err = od_run(od, s)) != DL_OK)
			return err;
	}
	o->dirty = 0;
	return DL_OK;
}

/* opens_db_expire: see opens.h. */
int
opens_db_expire(struct opens_db *od, time_t now, opens_fail_fn fn, void *ctx,
    unsigned long *n)
{
	sqlite3_stmt *s = od->stmt[OD_EXPIRED];
	struct open_attempt oa;
	sqlite3_int64 cut = (sqlite3_int64)now - OPENS_LIMIT;
	int rc, err = DL_OK;

	*n = 0;
	sqlite3_bind_int64(s, 1, cut);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		od_row(s, &oa);
		if (oa.downloader == NULL)
			continue;
		if ((err = fail_one(&oa, fn, ctx)) != DL_OK)
			goto out;
		(*n)++;
	}
	if (rc != SQLITE_DONE) {
		err = od_fail(od, rc);
		goto out;
	}
	sqlite3_reset(s);
	sqlite3_bind_int64(od->stmt[OD_DELETE_EXPIRED], 1, cut);
	err = od_run(od, od->stmt[OD_DELETE_EXPIRED]);
out:
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	return err;
}
