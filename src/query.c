/* query.c — see query.h. */
#include "query.h"

#include <stdlib.h>
#include <string.h>

/*
 * Timestamps are shown by their first 19 characters: rows the original
 * application wrote may carry fractions of a second.
 *
 * Plans (checked by tests/unit/test_query.c with EXPLAIN QUERY PLAN): the
 * window is a range search of idx_download_monitor_timestamp, "+downloader"
 * keeping the planner from walking a whole downloader index for the GROUP
 * BY's order instead; last_success and last_attempt are max() probes of
 * dlmon_idx_dm_identity and dlmon_idx_dm_last.  History walks the timestamp
 * index (or dlmon_idx_dm_last for one downloader) backwards and stops at
 * the limit: each index ends with the rowid, which is the "id DESC".
 */
#define STATUS_SQL \
    "WITH w AS (" \
    "  SELECT downloader, count(*) AS total, sum(success = 1) AS ok," \
    "         sum(success = 0) AS bad, coalesce(sum(file_count), 0) AS files" \
    "  FROM download_monitor WHERE timestamp >= ?1 GROUP BY +downloader)," \
    " r AS (" \
    "  SELECT w.*, round(100.0 * ok / total, 1) AS rate," \
    "   (SELECT substr(max(timestamp), 1, 19) FROM download_monitor d" \
    "     WHERE d.downloader = w.downloader AND d.success = 1) AS last_success," \
    "   (SELECT substr(max(timestamp), 1, 19) FROM download_monitor d" \
    "     WHERE d.downloader = w.downloader) AS last_attempt" \
    "  FROM w ORDER BY downloader)"

static const char status_json_sql[] = STATUS_SQL
    " SELECT json_object('success', json('true'), 'downloaders',"
    "  (SELECT json_group_array(json_object("
    "    'downloader', downloader, 'total_attempts', total, 'successful', ok,"
    "    'failed', bad, 'total_files', files, 'success_rate', rate,"
    "    'last_success', last_success, 'last_attempt', last_attempt)) FROM r),"
    "  'window_hours', ?2)";

static const char status_rows_sql[] = STATUS_SQL
    " SELECT downloader, total, ok, bad, files, printf('%.1f', rate),"
    "  last_success, last_attempt FROM r";

#define HISTORY_JSON_SQL(where) \
    "SELECT json_object('success', json('true'), 'history'," \
    " (SELECT json_group_array(json_object(" \
    "   'id', id, 'downloader', downloader, 'username', username," \
    "   'timestamp', substr(timestamp, 1, 19)," \
    "   'success', json(CASE WHEN success THEN 'true' ELSE 'false' END)," \
    "   'file_count', file_count, 'error_message', error_message," \
    "   'alert_sent', json(CASE WHEN alert_sent THEN 'true' ELSE 'false' END)))" \
    "  FROM (SELECT * FROM download_monitor " where \
    "        ORDER BY timestamp DESC, id DESC LIMIT ?2)))"

#define HISTORY_ROWS_SQL(where) \
    "SELECT id, downloader, coalesce(username, ''), substr(timestamp, 1, 19)," \
    " CASE WHEN success THEN 'ok' ELSE 'FAILED' END, coalesce(file_count, 0)," \
    " CASE WHEN alert_sent THEN 'yes' ELSE '' END, coalesce(error_message, '')" \
    " FROM download_monitor " where " ORDER BY timestamp DESC, id DESC LIMIT ?2"

/* Separate statements with and without the downloader: "?1 IS NULL OR
 * downloader = ?1" would keep the planner off the downloader's index. */
static const char *const history_json_sql[2] = {
	HISTORY_JSON_SQL(""), HISTORY_JSON_SQL("WHERE downloader = ?1")
};
static const char *const history_rows_sql[2] = {
	HISTORY_ROWS_SQL(""), HISTORY_ROWS_SQL("WHERE downloader = ?1")
};

/* Run a statement that yields one text value (a JSON document) into out. */
static int
one_json(struct store *st, sqlite3_stmt *stmt, struct strbuf *out)
{
	int rc = sqlite3_step(stmt);

	if (rc != SQLITE_ROW)
		return store_fail(st, rc);
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
	char since[DLT_BUFSZ];
	int err;

	dlt_format(now - (time_t)hours * 3600, since);
	if ((err = store_prepare(st, status_json_sql, &stmt)) != DL_OK)
		goto out;
	sqlite3_bind_text(stmt, 1, since, -1, SQLITE_STATIC);
	sqlite3_bind_int64(stmt, 2, hours);
	err = one_json(st, stmt, out);
out:
	sqlite3_finalize(stmt);
	return err;
}

/* Print rows of text columns as an aligned table; right-aligns columns whose
 * flag in numeric[] is set.  Two passes: widths first.  Lines carry no
 * trailing blanks (an empty last column). */
static int
print_table(struct store *st, sqlite3_stmt *stmt, const char *const *head,
    const int *numeric, int ncol, FILE *fp)
{
	size_t width[16] = { 0 };
	struct strbuf line = { 0 };
	int i, rc, pass, nrows = 0, err = DL_OK;

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
			sb_reset(&line);
			for (i = 0; i < ncol && err == DL_OK; i++) {
				const char *v = (const char *)sqlite3_column_text(stmt, i);
				size_t len = v ? strlen(v) : 0;
				if (pass == 0) {
					if (len > width[i])
						width[i] = len;
				} else if (i + 1 == ncol) {
					err = sb_puts(&line, v ? v : "");
				} else {
					err = sb_printf(&line, numeric[i] ? "%*s  " : "%-*s  ",
					    (int)width[i], v ? v : "-");
				}
			}
			if (err != DL_OK) {
				msg_err("out of memory");
				goto out;
			}
			if (pass == 1) {
				while (line.len > 0 && line.buf[line.len - 1] == ' ')
					line.buf[--line.len] = '\0';
				fprintf(fp, "%s\n", line.buf ? line.buf : "");
				nrows++;
			}
		}
		if (rc != SQLITE_DONE) {
			err = store_fail(st, rc);
			goto out;
		}
	}
	if (nrows == 0)
		fprintf(fp, "(no attempts)\n");
out:
	sb_free(&line);
	return err;
}

int
query_status_table(struct store *st, time_t now, long hours, FILE *fp)
{
	static const char *const head[] = { "DOWNLOADER", "ATTEMPTS", "OK", "FAILED",
	    "FILES", "RATE%", "LAST SUCCESS", "LAST ATTEMPT" };
	static const int numeric[] = { 0, 1, 1, 1, 1, 1, 0, 0 };
	sqlite3_stmt *stmt = NULL;
	char since[DLT_BUFSZ];
	int err;

	dlt_format(now - (time_t)hours * 3600, since);
	if ((err = store_prepare(st, status_rows_sql, &stmt)) != DL_OK)
		goto out;
	sqlite3_bind_text(stmt, 1, since, -1, SQLITE_STATIC);
	fprintf(fp, "Downloaders with attempts in the last %ld hour%s (since %s):\n",
	    hours, hours == 1 ? "" : "s", since);
	err = print_table(st, stmt, head, numeric, 8, fp);
out:
	sqlite3_finalize(stmt);
	return err;
}

static void
bind_history(sqlite3_stmt *stmt, const char *dl, long limit)
{
	if (dl)
		sqlite3_bind_text(stmt, 1, dl, -1, SQLITE_STATIC);
	sqlite3_bind_int64(stmt, 2, limit);
}

int
query_history_json(struct store *st, const char *dl, long limit, struct strbuf *out)
{
	sqlite3_stmt *stmt = NULL;
	int err;

	if ((err = store_prepare(st, history_json_sql[dl != NULL], &stmt)) != DL_OK)
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

	if ((err = store_prepare(st, history_rows_sql[dl != NULL], &stmt)) != DL_OK)
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

/* query_clear_json: see query.h. */
int
query_clear_json(struct store *st, long long deleted, long days, struct strbuf *out)
{
	sqlite3_stmt *stmt = NULL;
	int err;

	if ((err = store_prepare(st, "SELECT json_object('success', json('true'),"
	    " 'deleted', ?1, 'days', ?2)", &stmt)) != DL_OK)
		return err;
	sqlite3_bind_int64(stmt, 1, deleted);
	sqlite3_bind_int64(stmt, 2, days);
	err = one_json(st, stmt, out);
	sqlite3_finalize(stmt);
	return err;
}

static const char setting_set_sql[] =
    "UPDATE settings SET value = json_set(coalesce(value, '{}'), ?1, json(?2))"
    " WHERE key = 'monitoring'";

/* Runs one statement of query_config_set; text, when not NULL, receives the
 * first column of its row (malloc'ed). */
static int
set_step(struct store *st, const char *sql, const char *path, const char *json,
    char **text)
{
	sqlite3_stmt *stmt = NULL;
	const unsigned char *v;
	int err, rc;

	if ((err = store_prepare(st, sql, &stmt)) != DL_OK)
		return err;
	if (path)
		sqlite3_bind_text(stmt, 1, path, -1, SQLITE_STATIC);
	if (json)
		sqlite3_bind_text(stmt, 2, json, -1, SQLITE_STATIC);
	rc = sqlite3_step(stmt);
	if (text != NULL && rc == SQLITE_ROW) {
		v = sqlite3_column_text(stmt, 0);
		if ((*text = strdup(v ? (const char *)v : "{}")) == NULL) {
			msg_err("out of memory");
			err = DL_ENOMEM;
			goto out;
		}
		rc = SQLITE_DONE;
	}
	if (rc != SQLITE_DONE)
		err = store_fail(st, rc);
out:
	sqlite3_finalize(stmt);
	return err;
}

/* query_config_set: see query.h. */
int
query_config_set(struct store *st, struct conf *c, const char *path, const char *json)
{
	char *row = NULL;
	int err;

	if ((err = store_begin(st)) != DL_OK)
		return err;
	if ((err = set_step(st, "INSERT INTO settings (key, value) VALUES ('monitoring', '{}')"
	    " ON CONFLICT(key) DO NOTHING", NULL, NULL, NULL)) != DL_OK ||
	    (err = set_step(st, setting_set_sql, path, json, NULL)) != DL_OK ||
	    (err = set_step(st, "SELECT value FROM settings WHERE key = 'monitoring'",
	    NULL, NULL, &row)) != DL_OK)
		goto out;
	/* inside the transaction: a refused row is rolled back, never seen */
	if ((err = conf_overlay_json(c, row)) != DL_OK)
		goto out;
	err = store_commit(st);
out:
	if (err != DL_OK)
		store_rollback(st);
	free(row);
	return err;
}

/* query_sql: see query.h. */
const char *
query_sql(enum query_sql_id id)
{
	switch (id) {
	case QS_STATUS_JSON:
		return status_json_sql;
	case QS_STATUS_ROWS:
		return status_rows_sql;
	case QS_HISTORY_JSON:
		return history_json_sql[0];
	case QS_HISTORY_JSON_DL:
		return history_json_sql[1];
	case QS_HISTORY_ROWS:
		return history_rows_sql[0];
	case QS_HISTORY_ROWS_DL:
		return history_rows_sql[1];
	default:
		return NULL;
	}
}
