/* store_rows.c — settings, positions, attempts, history and pruning. */
#include "store.h"
#include "store_int.h"
#include "util.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

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

/*
 * st_collect: see store_int.h.  A row with a NULL column is left out (so
 * that every entry of a key list is a string).
 */
int
st_collect(struct store *st, sqlite3_stmt *s, int ncols, char ***out, size_t *n)
{
	char **v = NULL, **nv;
	size_t len = 0, cap = 0;
	int err = DL_OK, rc, i;

	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		if (len + (size_t)ncols > cap) {
			cap = cap ? cap * 2 : 16 * (size_t)ncols;
			if ((nv = realloc(v, cap * sizeof *v)) == NULL) {
				err = st_nomem(st);
				goto out;
			}
			v = nv;
		}
		for (i = 0; i < ncols; i++)
			if ((err = col_dup(st, s, i, &v[len + (size_t)i])) != DL_OK ||
			    v[len + (size_t)i] == NULL)
				break;
		if (i == ncols) {
			len += (size_t)ncols;
			continue;
		}
		while (i-- > 0)    /* the row's columns taken before the NULL */
			free(v[len + (size_t)i]);
		if (err != DL_OK)
			goto out;
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
	*n = len / (size_t)ncols;
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
	return st_collect(st, s, 1, keys, n);
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

/* store_attempt_known: see store.h. */
int
store_attempt_known(struct store *st, const struct attempt *a, const char *ts, int *known)
{
	sqlite3_stmt *find;
	int err = DL_OK, rc;

	*known = 0;
	if (!st->has_dm)
		return DL_OK;
	if ((find = st_stmt(st, S_ATTEMPT_ADD, &err)) == NULL)
		return err;
	bind_attempt(find, a, ts);
	rc = sqlite3_step(find);
	if (rc == SQLITE_ROW)
		*known = 1;
	else if (rc != SQLITE_DONE)
		err = st_fail(st, rc);
	st_done(find);
	return err;
}

/* store_attempt_add: see store.h.  Text fields are bound by length, as bytes. */
int
store_attempt_add(struct store *st, const struct attempt *a, int *added)
{
	char ts[DLT_BUFSZ];
	sqlite3_stmt *ins;
	int err, rc, known;

	*added = 0;
	dlt_format(a->ts, ts);
	if ((err = store_attempt_known(st, a, ts, &known)) != DL_OK || known)
		return err;
	if ((ins = st_stmt(st, S_ATTEMPT_INSERT, &err)) == NULL)
		return err;
	bind_attempt(ins, a, ts);
	rc = sqlite3_step(ins);
	if (rc == SQLITE_DONE)
		*added = 1;
	else
		err = st_fail(st, rc);
	st_done(ins);
	return err;
}

/* store_attempt_latest: see store.h. */
int
store_attempt_latest(struct store *st, char buf[DLT_BUFSZ], int *have)
{
	sqlite3_stmt *s;
	const char *t;
	int err = DL_OK, rc;

	*have = 0;
	if (!st->has_dm)
		return DL_OK;
	if ((s = st_stmt(st, S_ATTEMPT_LATEST, &err)) == NULL)
		return err;
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		t = (const char *)sqlite3_column_text(s, 0);
		if (t != NULL) {
			snprintf(buf, DLT_BUFSZ, "%s", t);
			*have = 1;
		}
	} else
		err = st_fail(st, rc);
	st_done(s);
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
	return st_collect(st, s, 1, ids, n);
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
