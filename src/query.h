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

#endif
