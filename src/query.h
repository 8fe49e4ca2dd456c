/*
 * query.h — what people and web clients ask: status, history, clear.  JSON
 * bodies are built by SQLite's JSON functions with exactly the seed's shapes;
 * tables are aligned text for terminals.
 *
 * Error convention: see util.h.  Database errors are reported naming the
 * database (DL_EFAIL, DL_EBUSY).
 */
#ifndef DLMON_QUERY_H
#define DLMON_QUERY_H

#include <stdio.h>
#include <time.h>

#include "conf.h"
#include "store.h"
#include "util.h"

/* Largest values accepted for hours, limit and days (anything larger is a
 * usage error, not a silent cap, on the command line; the API caps limit). */
#define QUERY_MAX_HOURS 87600      /* ten years */
#define QUERY_MAX_LIMIT 10000
#define QUERY_MAX_DAYS 3650

/*
 * query_status: downloaders with at least one attempt in the `hours` before
 * now, by name; counts over those hours, last_success/last_attempt all-time.
 * JSON: {"success":true,"downloaders":[...],"window_hours":H} into out.
 */
int query_status_json(struct store *st, time_t now, long hours, struct strbuf *out);
int query_status_table(struct store *st, time_t now, long hours, FILE *fp);

/*
 * query_history: newest first (timestamp, then id), optionally one
 * downloader (NULL: all), at most limit rows.
 * JSON: {"success":true,"history":[...]} into out.
 */
int query_history_json(struct store *st, const char *dl, long limit, struct strbuf *out);
int query_history_table(struct store *st, const char *dl, long limit, FILE *fp);

/*
 * query_clear: delete attempts older than `days` before now, in one
 * transaction; *deleted counts them.
 */
int query_clear(struct store *st, time_t now, long days, long long *deleted);

/* query_clear_json: the seed's clear body {"success":true,"deleted":N,"days":D}
 * into out, built by SQLite's json_object on st's handle. */
int query_clear_json(struct store *st, long long deleted, long days, struct strbuf *out);

/*
 * query_config_set: in one BEGIN IMMEDIATE transaction, create the settings
 * row "monitoring" as '{}' when missing and set path to the JSON literal
 * json in it with json_set (see conf_set_check).  The new row is applied
 * to c with conf_overlay_json before the commit: a row the reader would
 * refuse is rolled back (DL_ECONF).  On success c reflects the row.
 */
int query_config_set(struct store *st, struct conf *c, const char *path, const char *json);

/*
 * query_sql: the text of one of the queries above (static, constant), for
 * the tests that check their plans with EXPLAIN QUERY PLAN.  NULL for an
 * unknown id.
 */
enum query_sql_id {
	QS_STATUS_JSON, QS_STATUS_ROWS, QS_HISTORY_JSON, QS_HISTORY_JSON_DL,
	QS_HISTORY_ROWS, QS_HISTORY_ROWS_DL, QS_COUNT
};
const char *query_sql(enum query_sql_id id);

#endif
