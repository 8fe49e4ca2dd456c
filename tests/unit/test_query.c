/*
 * test_query.c — the plans of the queries on download_monitor (query.c and
 * store.c), read with EXPLAIN QUERY PLAN on a database made by store_open:
 * none may scan the whole table, and the ones that must stay fast on
 * millions of rows use the index meant for them.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "query.h"
#include "store.h"
#include "store_int.h"
#include "util.h"

struct fx {
	char dir[64];
	char db[128];
	struct store *st;
};

static int
setup(void **state)
{
	struct fx *f = calloc(1, sizeof *f);

	assert_non_null(f);
	strcpy(f->dir, "/tmp/test_query.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->db, sizeof f->db, "%s/db.sqlite", f->dir);
	assert_int_equal(store_open(f->db, STORE_RW, 1000, &f->st), DL_OK);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *f = *state;
	char p[160];

	store_close(f->st);
	snprintf(p, sizeof p, "%s-wal", f->db);
	unlink(p);
	snprintf(p, sizeof p, "%s-shm", f->db);
	unlink(p);
	unlink(f->db);
	rmdir(f->dir);
	free(f);
	return 0;
}

/* The plan's detail lines, one per line (malloc'ed). */
static char *
plan(struct store *st, const char *sql)
{
	struct strbuf sb = { 0 }, q = { 0 };
	sqlite3_stmt *s = NULL;

	assert_non_null(sql);
	assert_int_equal(sb_printf(&q, "EXPLAIN QUERY PLAN %s", sql), DL_OK);
	assert_int_equal(sqlite3_prepare_v2(store_db(st), q.buf, -1, &s, NULL), SQLITE_OK);
	while (sqlite3_step(s) == SQLITE_ROW)
		assert_int_equal(sb_printf(&sb, "%s\n", (const char *)sqlite3_column_text(s, 3)),
		    DL_OK);
	sqlite3_finalize(s);
	sb_free(&q);
	assert_non_null(sb.buf);
	return sb.buf;
}

/* No line scans download_monitor (or, with alias_d, query.c's alias d of
 * it; store.c names a recursive CTE d) without an index. */
static void
assert_no_table_scan(const char *name, const char *p, int alias_d)
{
	const char *line = p;

	while (*line) {
		size_t len = strcspn(line, "\n");
		int bad = (strncmp(line, "SCAN download_monitor", 21) == 0 ||
		    (alias_d && (strncmp(line, "SCAN d ", 7) == 0 ||
		    strncmp(line, "SCAN d\n", 7) == 0))) &&
		    memmem(line, len, " INDEX ", 7) == NULL;
		if (bad)
			fail_msg("%s: full table scan: %.*s\nplan:\n%s", name, (int)len, line, p);
		line += len + (line[len] == '\n');
	}
}

static void
assert_has(const char *name, const char *p, const char *want)
{
	if (strstr(p, want) == NULL)
		fail_msg("%s: plan lacks \"%s\"\nplan:\n%s", name, want, p);
}

static void
assert_lacks(const char *name, const char *p, const char *bad)
{
	if (strstr(p, bad) != NULL)
		fail_msg("%s: plan has \"%s\"\nplan:\n%s", name, bad, p);
}

/* status: the window is a range of the timestamp index (not a walk of a
 * whole index for the GROUP BY); last_success/last_attempt are probes. */
static void
test_status_plans(void **state)
{
	struct fx *f = *state;
	enum query_sql_id ids[] = { QS_STATUS_JSON, QS_STATUS_ROWS };
	size_t i;

	for (i = 0; i < 2; i++) {
		char *p = plan(f->st, query_sql(ids[i]));
		assert_no_table_scan("status", p, 1);
		assert_lacks("status", p, "SCAN download_monitor");
		assert_has("status", p,
		    "SEARCH download_monitor USING INDEX idx_download_monitor_timestamp (timestamp>?)");
		assert_has("status", p, "dlmon_idx_dm_identity (downloader=? AND success=?)");
		assert_has("status", p, "dlmon_idx_dm_last (downloader=?)");
		free(p);
	}
}

/* history: newest first straight off an index, stopping at the limit: no
 * sort of every row. */
static void
test_history_plans(void **state)
{
	struct fx *f = *state;
	enum query_sql_id all[] = { QS_HISTORY_JSON, QS_HISTORY_ROWS };
	enum query_sql_id one[] = { QS_HISTORY_JSON_DL, QS_HISTORY_ROWS_DL };
	size_t i;

	for (i = 0; i < 2; i++) {
		char *p = plan(f->st, query_sql(all[i]));
		assert_no_table_scan("history", p, 1);
		assert_has("history", p, "download_monitor USING INDEX idx_download_monitor_timestamp");
		assert_lacks("history", p, "TEMP B-TREE");
		free(p);
		p = plan(f->st, query_sql(one[i]));
		assert_no_table_scan("history --downloader", p, 1);
		assert_has("history --downloader", p, "dlmon_idx_dm_last (downloader=?)");
		assert_lacks("history --downloader", p, "TEMP B-TREE");
		free(p);
	}
	assert_null(query_sql(QS_COUNT));
}

/* Every store statement that reads download_monitor searches an index. */
static void
test_store_plans(void **state)
{
	struct fx *f = *state;
	int id, n = 0;
	char *p;

	for (id = 0; id < S_COUNT; id++) {
		const char *sql = st_sql((enum stmt_id)id);
		char name[32];

		assert_non_null(sql);
		/* S_ATTEMPT_INSERT writes one row and reads nothing: no plan */
		if (strstr(sql, "download_monitor") == NULL || id == S_ATTEMPT_INSERT)
			continue;
		snprintf(name, sizeof name, "store statement %d", id);
		p = plan(f->st, sql);
		assert_no_table_scan(name, p, 0);
		assert_lacks(name, p, "SCAN download_monitor");
		free(p);
		n++;
	}
	assert_true(n >= 6);
	p = plan(f->st, st_sql(S_PRUNE));
	assert_has("prune", p, "idx_download_monitor_timestamp (timestamp<?)");
	free(p);
	p = plan(f->st, st_sql(S_ATTEMPT_ADD));
	assert_has("attempt identity", p, "(downloader=? AND success=? AND timestamp=? AND username=?)");
	free(p);
}

/* The checker itself: a query without a usable index is caught. */
static void
test_checker_catches_scan(void **state)
{
	struct fx *f = *state;
	char *p = plan(f->st, "SELECT * FROM download_monitor WHERE file_count = 3");

	assert_has("checker", p, "SCAN download_monitor");
	assert_null(memmem(p, strlen(p), " INDEX ", 7));
	free(p);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_status_plans, setup, teardown),
		cmocka_unit_test_setup_teardown(test_history_plans, setup, teardown),
		cmocka_unit_test_setup_teardown(test_store_plans, setup, teardown),
		cmocka_unit_test_setup_teardown(test_checker_catches_scan, setup, teardown),
	};

	msg_init("test_query");
	return cmocka_run_group_tests(tests, NULL, NULL);
}
