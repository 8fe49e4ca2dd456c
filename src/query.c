/* query.c — see query.h. */
#include "query.h"

#include <string.h>

/*
 * Timestamps are shown by their first 19 characters: rows the original
 * application wrote may carry fractions of a second.
 */
static const char status_sql[] =
    "WITH w AS ("
    "  SELECT downloader, count(*) AS total, sum(success = 1) AS ok,"
    "         sum(success = 0) AS bad, coalesce(sum(file_count), 0) AS files"
    "  FROM download_monitor WHERE timestamp >= ?1 GROUP BY downloader),"
    " r AS ("
    "  SELECT w.*, round(100.0 * ok / total, 1) AS rate,"
    "   (SELECT substr(max(timestamp), 1, 19) FROM download_monitor d"
    "     WHERE d.downloader = w.downloader AND d.success = 1) AS last_success,"
    "   (SELECT substr(max(timestamp), 1, 19) FROM download_monitor d"
    "     WHERE d.downloader = w.downloader) AS last_attempt"
    "  FROM w ORDER BY downloader)";

static const char status_json_sql[] =
    " SELECT json_object('success', json('true'), 'downloaders',"
    "  (SELECT json_group_array(json_object("
    "    'downloader', downloader, 'total_attempts', total, 'successful', ok,"
    "    'failed', bad, 'total_files', files, 'success_rate', rate,"
    "    'last_success', last_success, 'last_attempt', last_attempt)) FROM r),"
    "  'window_hours', ?2)";

static const char status_rows_sql[] =
    " SELECT downloader, total, ok, bad, files, printf('%.1f', rate),"
    "  last_success, last_attempt FROM r";

static const char history_json_sql[] =
    "SELECT json_object('success', json('true'), 'history',"
    " (SELECT json_group_array(json_object("
    "   'id', id, 'downloader', downloader, 'username', username,"
    "   'timestamp', substr(timestamp, 1, 19),"
    "   'success', json(CASE WHEN success THEN 'true' ELSE 'false' END),"
    "   'file_count', file_count, 'error_message', error_message,"
    "   'alert_sent', json(CASE WHEN alert_sent THEN 'true' ELSE 'false' END)))"
    "  FROM (SELECT * FROM download_monitor"
    "        WHERE ?1 IS NULL OR downloader = ?1"
    "        ORDER BY timestamp DESC, id DESC LIMIT ?2)))";

static const char history_rows_sql[] =
    "SELECT id, downloader, coalesce(username, ''), substr(timestamp, 1, 19),"
    " CASE WHEN success THEN 'ok' ELSE 'FAILED' END, coalesce(file_count, 0),"
    " CASE WHEN alert_sent THEN 'yes' ELSE '' END, coalesce(error_message, '')"
    " FROM download_monitor WHERE ?1 IS NULL OR downloader = ?1"
    " ORDER BY timestamp DESC, id DESC LIMIT ?2";

static int
prepare(struct store *st, const char *sql, sqlite3_stmt **stmt)
{
	sqlite3 *db = store_db(st);

	if (sqlite3_prepare_v2(db, sql, -1, stmt, NULL) != SQLITE_OK) {
		msg_err("%s: %s", store_path(st), sqlite3_errmsg(db));
		return sqlite3_errcode(db) == SQLITE_BUSY ? DL_EBUSY : DL_EFAIL;
	}
	return DL_OK;
}

static int
step_error(struct store *st, int rc)
{
	msg_err("%s: %s", store_path(st), sqlite3_errmsg(store_db(st)));
	return rc == SQLITE_BUSY || rc == SQLITE_LOCKED ? DL_EBUSY : DL_EFAIL;
}

/* Run a statement that yields one text value (a JSON document) into out. */
static int
one_json(struct store *st, sqlite3_stmt *stmt, struct strbuf *out)
{
	int rc = sqlite3_step(stmt);

	if (rc != SQLITE_ROW)
		return step_error(st, rc);
	if (sb_append(out, (const char *)sqlite3_column_text(stmt, 0),
	    (size_t)sqlite3_column_bytes(stmt, 0)) != DL_OK) {
		msg_err("out of memory");
		return DL_ENOMEM;
	}
	return DL_OK;
}

int
query_status_json(struct store *st, time_t now, long hours, struct strbuf *out)
{
	sqlite3_stmt *stmt = NULL;
	struct strbuf sql = { 0 };
	char since[DLT_BUFSZ];
	int err;

	dlt_format(now - (time_t)hours * 3600, since);
	if (sb_puts(&sql, status_sql) != DL_OK || sb_puts(&sql, status_json_sql) != DL_OK) {
		err = DL_ENOMEM;
		goto out;
	}
	if ((err = prepare(st, sql.buf, &stmt)) != DL_OK)
		goto out;
	sqlite3_bind_text(stmt, 1, since, -1, SQLITE_STATIC);
	sqlite3_bind_int64(stmt, 2, hours);
	err = one_json(st, stmt, out);
out:
	sqlite3_finalize(stmt);
	sb_free(&sql);
	return err;
}

/* Print rows of text columns as an aligned table; right-aligns columns whose
 * flag in numeric[] is set.  Two passes: widths first. */
static int
print_table(struct store *st, sqlite3_stmt *stmt, const char *const *head,
    const int *numeric, int ncol, FILE *fp)
{
	size_t width[16] = { 0 };
	int i, rc, pass, nrows = 0;

	for (i = 0; i < ncol; i++)
		width[i] = strlen(head[i]);
	for (pass = 0; pass < 2; pass++) {
		if (pass == 1) {
			for (i = 0; i + 1 < ncol; i++)
				fprintf(fp, numeric[i] ? "%*s  " : "%-*s  ", (int)width[i], head[i]);
			fprintf(fp, "%s\n", head[ncol - 1]);
		}
		sqlite3_reset(stmt);
		while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
			for (i = 0; i < ncol; i++) {
				const char *v = (const char *)sqlite3_column_text(stmt, i);
				size_t len = v ? strlen(v) : 0;
				if (pass == 0) {
					if (len > width[i])
						width[i] = len;
					continue;
				}
				if (i + 1 == ncol)
					fprintf(fp, "%s\n", v ? v : "");
				else
					fprintf(fp, numeric[i] ? "%*s  " : "%-*s  ",
					    (int)width[i], v ? v : "-");
			}
			nrows += pass;
		}
		if (rc != SQLITE_DONE)
			return step_error(st, rc);
	}
	if (nrows == 0)
		fprintf(fp, "(no attempts)\n");
	return DL_OK;
}

int
query_status_table(struct store *st, time_t now, long hours, FILE *fp)
{
	static const char *const head[] = { "DOWNLOADER", "ATTEMPTS", "OK", "FAILED",
	    "FILES", "RATE%", "LAST SUCCESS", "LAST ATTEMPT" };
	static const int numeric[] = { 0, 1, 1, 1, 1, 1, 0, 0 };
	sqlite3_stmt *stmt = NULL;
	struct strbuf sql = { 0 };
	char since[DLT_BUFSZ];
	int err;

	dlt_format(now - (time_t)hours * 3600, since);
	if (sb_puts(&sql, status_sql) != DL_OK || sb_puts(&sql, status_rows_sql) != DL_OK) {
		err = DL_ENOMEM;
		goto out;
	}
	if ((err = prepare(st, sql.buf, &stmt)) != DL_OK)
		goto out;
	sqlite3_bind_text(stmt, 1, since, -1, SQLITE_STATIC);
	fprintf(fp, "Downloaders with attempts in the last %ld hour%s (since %s):\n",
	    hours, hours == 1 ? "" : "s", since);
	err = print_table(st, stmt, head, numeric, 8, fp);
out:
	sqlite3_finalize(stmt);
	sb_free(&sql);
	return err;
}

static void
bind_history(sqlite3_stmt *stmt, const char *dl, long limit)
{
	if (dl)
		sqlite3_bind_text(stmt, 1, dl, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(stmt, 1);
	sqlite3_bind_int64(stmt, 2, limit);
}

int
query_history_json(struct store *st, const char *dl, long limit, struct strbuf *out)
{
	sqlite3_stmt *stmt = NULL;
	int err;

	if ((err = prepare(st, history_json_sql, &stmt)) != DL_OK)
		return err;
	bind_history(stmt, dl, limit);
	err = one_json(st, stmt, out);
	sqlite3_finalize(stmt);
	return err;
}

int
query_history_table(struct store *st, const char *dl, long limit, FILE *fp)
{
	static const char *const head[] = { "ID", "DOWNLOADER", "USERNAME", "TIMESTAMP",
	    "RESULT", "FILES", "ALERTED", "ERROR" };
	static const int numeric[] = { 1, 0, 0, 0, 0, 1, 0, 0 };
	sqlite3_stmt *stmt = NULL;
	int err;

	if ((err = prepare(st, history_rows_sql, &stmt)) != DL_OK)
		return err;
	bind_history(stmt, dl, limit);
	err = print_table(st, stmt, head, numeric, 8, fp);
	sqlite3_finalize(stmt);
	return err;
}

int
query_clear(struct store *st, time_t now, long days, long long *deleted)
{
	return store_prune(st, now - (time_t)days * 86400, 0, deleted);
}
