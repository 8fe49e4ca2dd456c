/* test_store.c — the database layer (src/store.c) against real files. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <ftw.h>
#include <sys/stat.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "store.h"
#include "util.h"

/* The seed's schema as the seed prints it: what sqlite_master must hold. */
static const char seed_table[] =
	"CREATE TABLE download_monitor (\n"
	"    id INTEGER PRIMARY KEY AUTOINCREMENT,\n"
	"    downloader TEXT NOT NULL,\n"
	"    username TEXT,\n"
	"    timestamp TEXT NOT NULL,\n"
	"    success INTEGER NOT NULL,\n"
	"    file_count INTEGER DEFAULT 0,\n"
	"    error_message TEXT,\n"
	"    alert_sent INTEGER DEFAULT 0,\n"
	"    created_at TEXT DEFAULT CURRENT_TIMESTAMP\n"
	")";
static const char *const seed_indexes[][2] = {
	{ "idx_download_monitor_downloader",
	  "CREATE INDEX idx_download_monitor_downloader ON download_monitor(downloader)" },
	{ "idx_download_monitor_timestamp",
	  "CREATE INDEX idx_download_monitor_timestamp ON download_monitor(timestamp)" },
	{ "idx_download_monitor_success",
	  "CREATE INDEX idx_download_monitor_success ON download_monitor(success)" },
};

struct fx {
	char dir[64];
	char db[128];
};

static int
rm_entry(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb; (void)flag; (void)ftw;
	return remove(p);
}

static int
setup(void **state)
{
	struct fx *f = calloc(1, sizeof *f);
	assert_non_null(f);
	strcpy(f->dir, "/tmp/test_store.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->db, sizeof f->db, "%s/m.db", f->dir);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *f = *state;
	nftw(f->dir, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
	free(f);
	return 0;
}

static time_t
T(const char *s)
{
	time_t t;
	assert_int_equal(dlt_parse_now(s, &t), 0);
	return t;
}

/* Runs sql on a separate connection (the "application"). */
static void
app_exec(const char *path, const char *sql)
{
	sqlite3 *db;
	char *err = NULL;
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	sqlite3_busy_timeout(db, 2000);
	if (sqlite3_exec(db, sql, NULL, NULL, &err) != SQLITE_OK)
		fail_msg("app_exec: %s", err);
	sqlite3_close(db);
}

/* The first column of the first row of sql as text (malloc'ed), or NULL. */
static char *
q_text(sqlite3 *db, const char *sql, const char *arg)
{
	sqlite3_stmt *s;
	char *r = NULL;
	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &s, NULL), SQLITE_OK);
	if (arg)
		sqlite3_bind_text(s, 1, arg, -1, SQLITE_STATIC);
	if (sqlite3_step(s) == SQLITE_ROW && sqlite3_column_text(s, 0))
		r = strdup((const char *)sqlite3_column_text(s, 0));
	sqlite3_finalize(s);
	return r;
}

static long long
q_int(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *s;
	long long r = -1;
	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &s, NULL), SQLITE_OK);
	if (sqlite3_step(s) == SQLITE_ROW)
		r = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	return r;
}

static void
check_seed_schema(sqlite3 *db)
{
	const char *q = "SELECT sql FROM sqlite_master WHERE name = ?1";
	char *sql;
	size_t i;

	sql = q_text(db, q, "download_monitor");
	assert_non_null(sql);
	assert_string_equal(sql, seed_table);
	free(sql);
	for (i = 0; i < 3; i++) {
		sql = q_text(db, q, seed_indexes[i][0]);
		assert_non_null(sql);
		assert_string_equal(sql, seed_indexes[i][1]);
		free(sql);
	}
	sql = q_text(db, q, "settings");
	assert_non_null(sql);
	assert_string_equal(sql, "CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT)");
	free(sql);
}

static struct attempt
att(const char *dl, const char *user, time_t ts, int ok, const char *err)
{
	struct attempt a;
	memset(&a, 0, sizeof a);
	a.downloader = dl;
	a.downloader_len = strlen(dl);
	a.user = user;
	a.user_len = user ? strlen(user) : 0;
	a.ts = ts;
	a.success = ok;
	a.file_count = ok ? 3 : 0;
	a.error = err;
	a.error_len = err ? strlen(err) : 0;
	return a;
}

static int
add(struct store *st, struct attempt a)
{
	int added = -1;
	assert_int_equal(store_attempt_add(st, &a, &added), DL_OK);
	return added;
}

static void
test_fresh_schema(void **state)
{
	struct fx *f = *state;
	struct store *st = NULL;
	char *mode, *v = NULL;

	assert_int_equal(store_open(f->db, STORE_RW, 1000, &st), DL_OK);
	check_seed_schema(store_db(st));
	mode = q_text(store_db(st), "PRAGMA journal_mode", NULL);
	assert_string_equal(mode, "wal");
	free(mode);
	assert_int_equal(q_int(store_db(st),
	    "SELECT value FROM dlmon_meta WHERE key = 'schema_version'"), 1);
	assert_string_equal(store_path(st), f->db);
	assert_int_equal(store_setting_get(st, "monitoring", &v), DL_OK);
	assert_null(v);
	store_close(st);

	/* reopening changes nothing and keeps WAL */
	app_exec(f->db, "INSERT INTO settings VALUES ('monitoring', '{\"enabled\": false}')");
	assert_int_equal(store_open(f->db, STORE_RW, 1000, &st), DL_OK);
	check_seed_schema(store_db(st));
	assert_int_equal(store_setting_get(st, "monitoring", &v), DL_OK);
	assert_string_equal(v, "{\"enabled\": false}");
	free(v);
	store_close(st);
	store_close(NULL);
}

static void
test_adopt(void **state)
{
	struct fx *f = *state;
	struct store *st = NULL;
	struct ev_history h;
	char ddl[1024];

	snprintf(ddl, sizeof ddl, "%s;\n%s;\n%s;\n%s;\n"
	    "CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT);\n",
	    seed_table, seed_indexes[0][1], seed_indexes[1][1], seed_indexes[2][1]);
	app_exec(f->db, ddl);
	app_exec(f->db,
	    "INSERT INTO download_monitor (downloader, username, timestamp, success,"
	    " file_count, error_message, alert_sent) VALUES"
	    " ('fastdl', 'eva', '2025-11-19T09:00:00.123456', 1, 5, NULL, 0),"
	    " ('fastdl', 'eva', '2025-11-19T10:00:00.5', 0, 0, 'Cloudflare', 0);");
	assert_int_equal(store_open(f->db, STORE_RW, 1000, &st), DL_OK);
	check_seed_schema(store_db(st));
	assert_int_equal(q_int(store_db(st), "SELECT count(*) FROM download_monitor"), 2);
	/* the application's rows (with fractions) are read by their first 19 chars */
	assert_int_equal(store_history_load(st, "fastdl", T("2025-11-19 12:00:00"), &h), DL_OK);
	assert_true(h.have_success);
	assert_int_equal(h.success_id, 1);
	assert_int_equal(h.success_ts, T("2025-11-19 09:00:00"));
	assert_int_equal(h.nfail, 1);
	assert_int_equal(h.fail[0].id, 2);
	assert_int_equal(h.fail[0].ts, T("2025-11-19 10:00:00"));
	assert_string_equal(h.last_error, "Cloudflare");
	/* the application keeps inserting while dlmon has it open */
	app_exec(f->db,
	    "INSERT INTO download_monitor (downloader, username, timestamp, success,"
	    " file_count, error_message, alert_sent)"
	    " VALUES ('fastdl', 'eva', '2025-11-19T10:00:00.5', 0, 0, 'Cloudflare', 0)");
	assert_int_equal(q_int(store_db(st), "SELECT count(*) FROM download_monitor"), 3);
	store_close(st);
}

static void
test_dedup(void **state)
{
	struct fx *f = *state;
	struct store *st = NULL;
	time_t t = T("2025-11-19 09:00:00");
	static const char bin[] = "bad \xff\xfe bytes\0and NUL";
	struct attempt a;
	sqlite3_stmt *s;

	assert_int_equal(store_open(f->db, STORE_RW, 1000, &st), DL_OK);
	assert_int_equal(store_begin(st), DL_OK);
	assert_int_equal(add(st, att("fastdl", "eva", t, 0, "Cloudflare")), 1);
	assert_int_equal(add(st, att("fastdl", "eva", t, 0, "Cloudflare")), 0);
	assert_int_equal(add(st, att("fastdl", NULL, t, 0, "Cloudflare")), 1);
	assert_int_equal(add(st, att("fastdl", NULL, t, 0, "Cloudflare")), 0);
	assert_int_equal(add(st, att("fastdl", NULL, t, 0, NULL)), 1);
	assert_int_equal(add(st, att("fastdl", NULL, t, 0, NULL)), 0);
	assert_int_equal(add(st, att("fastdl", "eva", t, 0, "Rate limited")), 1);
	assert_int_equal(add(st, att("fastdl", "eva", t, 1, NULL)), 1);
	assert_int_equal(add(st, att("toolzu", "eva", t, 0, "Cloudflare")), 1);
	assert_int_equal(add(st, att("fastdl", "eva", t + 1, 0, "Cloudflare")), 1);
	/* arbitrary bytes are stored by length, and deduplicated by them */
	a = att("fastdl", "eva", t, 0, NULL);
	a.error = bin;
	a.error_len = sizeof bin - 1;
	assert_int_equal(add(st, a), 1);
	assert_int_equal(add(st, a), 0);
	a.error_len = 8;
	assert_int_equal(add(st, a), 1);
	assert_int_equal(store_commit(st), DL_OK);
	assert_int_equal(q_int(store_db(st), "SELECT count(*) FROM download_monitor"), 9);
	assert_int_equal(q_int(store_db(st), "SELECT count(*) FROM download_monitor"
	    " WHERE timestamp = '2025-11-19T09:00:00' AND alert_sent = 0"), 8);
	assert_int_equal(sqlite3_prepare_v2(store_db(st), "SELECT error_message FROM"
	    " download_monitor WHERE length(CAST(error_message AS BLOB)) = ?1", -1, &s,
	    NULL), SQLITE_OK);
	sqlite3_bind_int(s, 1, (int)sizeof bin - 1);
	assert_int_equal(sqlite3_step(s), SQLITE_ROW);
	assert_memory_equal(sqlite3_column_blob(s, 0), bin, sizeof bin - 1);
	sqlite3_finalize(s);
	store_close(st);
}

static void
test_positions(void **state)
{
	struct fx *f = *state;
	struct store *st = NULL;
	struct src_pos p = { .known = 1, .dev = UINT64_C(0xfd01),
		.ino = UINT64_C(0xffffffffffff1234), .fp_len = 1024,
		.fp_hash = UINT64_C(0xcbf29ce484222325), .offset = UINT64_C(5000000000),
		.cur_time = 1763542800, .lineno = 77 };
	struct src_pos g;
	char **keys = NULL;
	size_t n = 0;

	assert_int_equal(store_open(f->db, STORE_RW, 1000, &st), DL_OK);
	assert_int_equal(store_pos_get(st, "/var/log/a.log", &g), DL_OK);
	assert_int_equal(g.known, 0);

	assert_int_equal(store_begin(st), DL_OK);
	assert_int_equal(store_pos_put(st, "media", "/var/log/b.log", &p), DL_OK);
	assert_int_equal(store_pos_put(st, "media", "/var/log/a.log", &p), DL_OK);
	assert_int_equal(store_pos_put(st, "other", "/var/log/c.log", &p), DL_OK);
	p.offset = 42;
	assert_int_equal(store_pos_put(st, "media", "/var/log/a.log", &p), DL_OK);
	assert_int_equal(store_commit(st), DL_OK);

	assert_int_equal(store_pos_get(st, "/var/log/a.log", &g), DL_OK);
	assert_int_equal(g.known, 1);
	assert_true(g.dev == p.dev && g.ino == p.ino && g.fp_hash == p.fp_hash);
	assert_int_equal(g.fp_len, 1024);
	assert_int_equal(g.offset, 42);
	assert_int_equal(g.cur_time, p.cur_time);
	assert_int_equal(g.lineno, 77);
	assert_int_equal(store_pos_get(st, "/var/log/b.log", &g), DL_OK);
	assert_int_equal(g.offset, UINT64_C(5000000000));

	assert_int_equal(store_pos_keys(st, "media", &keys, &n), DL_OK);
	assert_int_equal(n, 2);
	assert_string_equal(keys[0], "/var/log/a.log");
	assert_string_equal(keys[1], "/var/log/b.log");
	store_keys_free(keys, n);

	/* a rolled-back transaction leaves nothing */
	assert_int_equal(store_begin(st), DL_OK);
	assert_int_equal(store_pos_put(st, "media", "/var/log/d.log", &p), DL_OK);
	assert_int_equal(store_pos_delete(st, "/var/log/a.log"), DL_OK);
	assert_int_equal(add(st, att("fastdl", "eva", 1763542800, 0, "x")), 1);
	store_rollback(st);
	assert_int_equal(store_pos_get(st, "/var/log/d.log", &g), DL_OK);
	assert_int_equal(g.known, 0);
	assert_int_equal(store_pos_get(st, "/var/log/a.log", &g), DL_OK);
	assert_int_equal(g.known, 1);
	assert_int_equal(q_int(store_db(st), "SELECT count(*) FROM download_monitor"), 0);

	assert_int_equal(store_begin(st), DL_OK);
	assert_int_equal(store_pos_delete(st, "/var/log/a.log"), DL_OK);
	assert_int_equal(store_commit(st), DL_OK);
	assert_int_equal(store_pos_keys(st, "media", &keys, &n), DL_OK);
	assert_int_equal(n, 1);
	assert_string_equal(keys[0], "/var/log/b.log");
	store_keys_free(keys, n);
	assert_int_equal(store_pos_keys(st, "none", &keys, &n), DL_OK);
	assert_int_equal(n, 0);
	store_keys_free(keys, n);
	store_close(st);
}

/* History rows, inserted in this order (ids 1..); text timestamps as stored. */
static const struct hrow {
	const char *dl, *user, *ts;
	int ok;
	const char *err;
	int alert_sent;
} hist_rows[] = {
	{ "fastdl", "a", "2025-11-19T08:00:00", 1, NULL, 0 },        /* 1: tie, lower id than 4 */
	{ "fastdl", "a", "2025-11-19T07:00:00", 0, "e1", 0 },        /* 2: before success 4 */
	{ "fastdl", "b", "2025-11-19T08:00:00", 0, "e2", 0 },        /* 3: same ts as 4, lower id */
	{ "fastdl", "a", "2025-11-19T08:00:00", 1, NULL, 0 },        /* 4: latest success */
	{ "fastdl", "c", "2025-11-19T08:00:00", 0, "e3", 1 },        /* 5: tie, higher id: in */
	{ "fastdl", "d", "2025-11-19T10:00:00", 0, "e5", 0 },        /* 6 */
	{ "fastdl", "e", "2025-11-19T08:00:00", 0, "e4", 0 },        /* 7: read late, tie: after 5 */
	{ "fastdl", "f", "garbage", 0, "bad", 0 },                   /* 8: skipped */
	{ "fastdl", NULL, "2025-11-19T11:00:00.250", 0, NULL, 0 },   /* 9: fraction, in */
	{ "fastdl", "g", "2025-11-19T13:00:00", 0, "future", 0 },    /* 10: after now */
	{ "fastdl", "h", "2025-11-19T14:00:00", 1, NULL, 0 },        /* 11: success after now */
	{ "toolzu", "x", "2025-11-19T09:00:00", 0, "rate", 0 },      /* 12 */
	{ "imginn", "x", "2025-11-19T09:00:00", 1, NULL, 0 },        /* 13 */
};

static void
insert_history(struct store *st)
{
	sqlite3_stmt *s;
	size_t i;

	assert_int_equal(sqlite3_prepare_v2(store_db(st),
	    "INSERT INTO download_monitor (downloader, username, timestamp, success,"
	    " error_message, alert_sent) VALUES (?1, ?2, ?3, ?4, ?5, ?6)", -1, &s, NULL),
	    SQLITE_OK);
	for (i = 0; i < sizeof hist_rows / sizeof hist_rows[0]; i++) {
		const struct hrow *r = &hist_rows[i];
		sqlite3_bind_text(s, 1, r->dl, -1, SQLITE_STATIC);
		sqlite3_bind_text(s, 2, r->user, -1, SQLITE_STATIC);
		sqlite3_bind_text(s, 3, r->ts, -1, SQLITE_STATIC);
		sqlite3_bind_int(s, 4, r->ok);
		sqlite3_bind_text(s, 5, r->err, -1, SQLITE_STATIC);
		sqlite3_bind_int(s, 6, r->alert_sent);
		assert_int_equal(sqlite3_step(s), SQLITE_DONE);
		sqlite3_reset(s);
	}
	sqlite3_finalize(s);
}

static void
test_history(void **state)
{
	struct fx *f = *state;
	struct store *st = NULL;
	struct ev_history h;
	static const struct {
		const char *now;
		long long success_id;        /* 0: none */
		size_t nfail;
		long long ids[5];
		const char *last_user, *last_error;
	} cases[] = {
		{ "2025-11-19 12:00:00", 4, 4, { 5, 7, 6, 9 }, NULL, NULL },
		{ "2025-11-19 11:00:00", 4, 4, { 5, 7, 6, 9 }, NULL, NULL },
		{ "2025-11-19 10:59:59", 4, 3, { 5, 7, 6 }, "d", "e5" },
		{ "2025-11-19 08:00:00", 4, 2, { 5, 7 }, "e", "e4" },
		{ "2025-11-19 07:59:59", 0, 1, { 2 }, "a", "e1" },
		{ "2025-11-19 13:30:00", 4, 5, { 5, 7, 6, 9, 10 }, "g", "future" },
		{ "2025-11-19 15:00:00", 11, 0, { 0 }, NULL, NULL },
		{ "2025-11-19 05:00:00", 0, 0, { 0 }, NULL, NULL },
	};
	char **ids = NULL;
	size_t i, j, n = 0;

	assert_int_equal(store_open(f->db, STORE_RW, 1000, &st), DL_OK);
	insert_history(st);
	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		assert_int_equal(store_history_load(st, "fastdl", T(cases[i].now), &h), DL_OK);
		assert_int_equal(h.have_success, cases[i].success_id != 0);
		assert_int_equal(h.success_id, cases[i].success_id);
		assert_int_equal(h.nfail, cases[i].nfail);
		for (j = 0; j < h.nfail; j++)
			assert_int_equal(h.fail[j].id, cases[i].ids[j]);
		if (cases[i].last_user)
			assert_string_equal(h.last_user, cases[i].last_user);
		else
			assert_null(h.last_user);
		if (cases[i].last_error)
			assert_string_equal(h.last_error, cases[i].last_error);
		else
			assert_null(h.last_error);
	}
	assert_int_equal(store_history_load(st, "fastdl", T("2025-11-19 12:00:00"), &h), DL_OK);
	assert_int_equal(h.success_ts, T("2025-11-19 08:00:00"));
	assert_int_equal(h.fail[0].alert_sent, 1);
	assert_int_equal(h.fail[1].alert_sent, 0);
	assert_int_equal(h.fail[1].ts, T("2025-11-19 08:00:00"));
	assert_int_equal(h.fail[3].ts, T("2025-11-19 11:00:00"));
	store_history_clear(st);

	assert_int_equal(store_history_load(st, "toolzu", T("2025-11-19 12:00:00"), &h), DL_OK);
	assert_int_equal(h.have_success, 0);
	assert_int_equal(h.nfail, 1);
	assert_string_equal(h.last_error, "rate");
	assert_int_equal(store_history_load(st, "nobody", T("2025-11-19 12:00:00"), &h), DL_OK);
	assert_int_equal(h.nfail, 0);
	assert_int_equal(h.have_success, 0);

	assert_int_equal(store_downloaders(st, &ids, &n), DL_OK);
	assert_int_equal(n, 3);
	assert_string_equal(ids[0], "fastdl");
	assert_string_equal(ids[1], "imginn");
	assert_string_equal(ids[2], "toolzu");
	store_keys_free(ids, n);
	store_close(st);
}

static void
msg(struct alert_msg *m, const char *title)
{
	memset(m, 0, sizeof *m);
	snprintf(m->title, sizeof m->title, "%s", title);
	snprintf(m->message, sizeof m->message, "Consecutive Failures: 3");
}

static void
expect_state(struct store *st, const char *dl, const char *streak,
    enum ev_alert_status want, unsigned long long want_hash)
{
	struct ev_alert_state as;
	unsigned long long hash = 99;
	assert_int_equal(store_alert_state(st, SA_FAILING, dl, streak, &as, &hash), DL_OK);
	assert_int_equal(as.status, want);
	assert_true(hash == want_hash);
}

static void
test_alerts(void **state)
{
	struct fx *f = *state;
	struct store *st = NULL;
	struct ev_history h;
	struct ev_alert_state as;
	struct alert_msg m;
	unsigned long long hash;
	long long id = 0, id2 = 0, id3 = 0;
	time_t now = T("2025-11-19 12:00:00"), ff = 0;
	char prev[EV_STREAK_KEY_MAX];
	size_t nf = 0;
	int found = -1, dropped = -1;
	char *s;

	assert_int_equal(store_open(f->db, STORE_RW, 1000, &st), DL_OK);
	insert_history(st);
	expect_state(st, "fastdl", "4", EV_AS_NONE, 0);

	/* pending before sending; recorded on disk */
	msg(&m, "🚨 FastDL Failing");
	assert_int_equal(store_alert_pending(st, SA_FAILING, "fastdl", "4",
	    T("2025-11-19 08:00:00"), 3, now, &m, &id), DL_OK);
	assert_true(id > 0);
	expect_state(st, "fastdl", "4", EV_AS_PENDING, 0);
	s = q_text(store_db(st), "SELECT title FROM dlmon_alerts WHERE kind = ?1", "failing");
	assert_string_equal(s, "🚨 FastDL Failing");
	free(s);

	/* not delivered: stays pending; then held with the notifier hash */
	assert_int_equal(store_alert_failed(st, id, 0, 0, "timeout"), DL_OK);
	expect_state(st, "fastdl", "4", EV_AS_PENDING, 0);
	assert_int_equal(store_alert_failed(st, id, 1, 0xfeedfacecafebeefULL, "HTTP 400"), DL_OK);
	expect_state(st, "fastdl", "4", EV_AS_HELD, 0xfeedfacecafebeefULL);
	s = q_text(store_db(st), "SELECT last_error FROM dlmon_alerts WHERE kind = ?1", "failing");
	assert_string_equal(s, "HTTP 400");
	free(s);

	/* retried: the same row, refreshed */
	msg(&m, "🚨 FastDL Failing again");
	assert_int_equal(store_alert_pending(st, SA_FAILING, "fastdl", "4",
	    T("2025-11-19 08:00:00"), 4, now, &m, &id2), DL_OK);
	assert_int_equal(id2, id);
	expect_state(st, "fastdl", "4", EV_AS_PENDING, 0);
	assert_int_equal(q_int(store_db(st), "SELECT tries FROM dlmon_alerts"), 2);
	assert_int_equal(q_int(store_db(st), "SELECT nfail FROM dlmon_alerts"), 4);

	/* delivered: alert_sent = 1 on exactly the given failures */
	assert_int_equal(store_history_load(st, "fastdl", now, &h), DL_OK);
	assert_int_equal(h.nfail, 4);
	assert_int_equal(store_alert_sent(st, id, now, h.fail, 3), DL_OK);
	assert_int_equal(store_alert_state(st, SA_FAILING, "fastdl", "4", &as, &hash), DL_OK);
	assert_int_equal(as.status, EV_AS_SENT);
	assert_int_equal(as.sent_at, now);
	assert_true(hash == 0);
	s = q_text(store_db(st), "SELECT group_concat(id) FROM (SELECT id FROM"
	    " download_monitor WHERE alert_sent = 1 ORDER BY id)", NULL);
	assert_string_equal(s, "5,6,7");
	free(s);

	/* drop_stale leaves the sent alert alone, drops pending/held of other streaks */
	msg(&m, "🚨 FastDL Failing old");
	assert_int_equal(store_alert_pending(st, SA_FAILING, "fastdl", "1", 0, 2, now, &m,
	    &id3), DL_OK);
	assert_int_equal(store_alert_pending(st, SA_FAILING, "toolzu", "none", 0, 2, now, &m,
	    &id2), DL_OK);
	assert_int_equal(store_alert_drop_stale(st, SA_FAILING, "fastdl", "4", &dropped), DL_OK);
	assert_int_equal(dropped, 1);
	expect_state(st, "fastdl", "1", EV_AS_NONE, 0);
	expect_state(st, "fastdl", "4", EV_AS_SENT, 0);
	expect_state(st, "toolzu", "none", EV_AS_PENDING, 0);
	assert_int_equal(store_alert_drop_stale(st, SA_FAILING, "fastdl", "4", &dropped), DL_OK);
	assert_int_equal(dropped, 0);

	/* recovery: due once streak 4 has ended, until a recovery is delivered */
	assert_int_equal(store_recovery_due(st, "fastdl", "4", 0, &found, prev, &ff, &nf), DL_OK);
	assert_int_equal(found, 0);
	assert_int_equal(store_recovery_due(st, "fastdl", "11", 0, &found, prev, &ff, &nf), DL_OK);
	assert_int_equal(found, 1);
	assert_string_equal(prev, "4");
	assert_int_equal(ff, T("2025-11-19 08:00:00"));
	assert_int_equal(nf, 4);
	msg(&m, "✅ FastDL Recovered");
	assert_int_equal(store_alert_pending(st, SA_RECOVERED, "fastdl", "4", ff, nf, now, &m,
	    &id2), DL_OK);
	assert_int_equal(store_recovery_due(st, "fastdl", "11", 0, &found, prev, &ff, &nf), DL_OK);
	assert_int_equal(found, 1);  /* not delivered yet */
	assert_int_equal(store_alert_sent(st, id2, now, NULL, 0), DL_OK);
	assert_int_equal(store_recovery_due(st, "fastdl", "11", 0, &found, prev, &ff, &nf), DL_OK);
	assert_int_equal(found, 0);
	/* the failing alert's state is not confused with the recovery's */
	expect_state(st, "fastdl", "4", EV_AS_SENT, 0);

	/* a repeat makes the sent alert pending again */
	assert_int_equal(store_alert_pending(st, SA_FAILING, "fastdl", "4", 0, 5, now + 7200,
	    &m, &id2), DL_OK);
	assert_int_equal(id2, id);
	expect_state(st, "fastdl", "4", EV_AS_PENDING, 0);

	/* bookkeeping refuses to run inside the caller's transaction */
	assert_int_equal(store_begin(st), DL_OK);
	assert_int_equal(store_alert_failed(st, id, 0, 0, "x"), DL_EFAIL);
	store_rollback(st);
	store_close(st);
}

static void
test_prune(void **state)
{
	struct fx *f = *state;
	struct store *st = NULL;
	long long n = -1;

	assert_int_equal(store_open(f->db, STORE_RW, 1000, &st), DL_OK);
	insert_history(st);
	/* rows before 09:00: ids 1-5 and 7; "garbage" sorts after digits and stays */
	assert_int_equal(store_prune(st, T("2025-11-19 09:00:00"), 1, &n), DL_OK);
	assert_int_equal(n, 6);
	assert_int_equal(q_int(store_db(st), "SELECT count(*) FROM download_monitor"), 13);
	assert_int_equal(store_prune(st, T("2025-11-19 09:00:00"), 0, &n), DL_OK);
	assert_int_equal(n, 6);
	assert_int_equal(q_int(store_db(st), "SELECT count(*) FROM download_monitor"), 7);
	assert_int_equal(q_int(store_db(st), "SELECT min(id) FROM download_monitor"), 6);
	assert_int_equal(store_prune(st, T("2025-11-19 09:00:00"), 0, &n), DL_OK);
	assert_int_equal(n, 0);
	store_close(st);
}

static uint64_t
file_hash(const char *path)
{
	FILE *fp = fopen(path, "rb");
	unsigned char buf[4096];
	uint64_t h = DL_FNV_INIT;
	size_t k;

	assert_non_null(fp);
	while ((k = fread(buf, 1, sizeof buf, fp)) > 0)
		h = dl_fnv1a(h, buf, k);
	fclose(fp);
	return h;
}

/* Every kind of write, on a dry-run store. */
static void
write_everything(struct store *st)
{
	struct src_pos p = { .known = 1, .dev = 1, .ino = 2, .fp_len = 3, .fp_hash = 4,
		.offset = 5, .cur_time = 6, .lineno = 7 };
	struct alert_msg m;
	struct ev_history h;
	long long id = 0, n = 0;
	int added = 0, dropped = 0;
	struct attempt a = att("fastdl", "eva", T("2025-11-19 11:30:00"), 0, "dry");

	assert_int_equal(store_begin(st), DL_OK);
	assert_int_equal(store_attempt_add(st, &a, &added), DL_OK);
	assert_int_equal(added, 1);
	assert_int_equal(store_pos_put(st, "media", "/x.log", &p), DL_OK);
	assert_int_equal(store_commit(st), DL_OK);
	assert_int_equal(store_history_load(st, "fastdl", T("2025-11-19 12:00:00"), &h), DL_OK);
	assert_true(h.nfail >= 1);
	msg(&m, "t");
	assert_int_equal(store_alert_pending(st, SA_FAILING, "fastdl", "x", 0, 1,
	    T("2025-11-19 12:00:00"), &m, &id), DL_OK);
	assert_int_equal(store_alert_sent(st, id, T("2025-11-19 12:00:00"), h.fail, h.nfail),
	    DL_OK);
	assert_int_equal(store_alert_drop_stale(st, SA_FAILING, "fastdl", "y", &dropped), DL_OK);
	assert_int_equal(store_prune(st, T("2025-11-20 00:00:00"), 0, &n), DL_OK);
	assert_true(n >= 1);
}

static void
test_dryrun(void **state)
{
	struct fx *f = *state;
	struct store *st = NULL;
	uint64_t before;
	sqlite3 *app;

	/* missing file: an empty private database, nothing created */
	assert_int_equal(store_open(f->db, STORE_DRYRUN, 1000, &st), DL_OK);
	check_seed_schema(store_db(st));
	write_everything(st);
	store_close(st);
	assert_int_equal(access(f->db, F_OK), -1);

	/* existing WAL database: copied, the file's bytes untouched */
	assert_int_equal(store_open(f->db, STORE_RW, 1000, &st), DL_OK);
	insert_history(st);
	store_close(st);
	before = file_hash(f->db);
	assert_int_equal(store_open(f->db, STORE_DRYRUN, 1000, &st), DL_OK);
	assert_int_equal(q_int(store_db(st), "SELECT count(*) FROM download_monitor"), 13);
	write_everything(st);
	/* pruned all but the row whose timestamp is "garbage" */
	assert_int_equal(q_int(store_db(st), "SELECT count(*) FROM download_monitor"), 1);
	store_close(st);
	assert_true(file_hash(f->db) == before);

	/* the real file still holds its rows */
	assert_int_equal(store_open(f->db, STORE_RO, 1000, &st), DL_OK);
	assert_int_equal(q_int(store_db(st), "SELECT count(*) FROM download_monitor"), 13);
	assert_int_equal(q_int(store_db(st), "SELECT count(*) FROM dlmon_alerts"), 0);
	store_close(st);

	/* the application has a row in its -wal only: the copy sees it */
	assert_int_equal(sqlite3_open(f->db, &app), SQLITE_OK);
	assert_int_equal(sqlite3_exec(app, "PRAGMA wal_autocheckpoint = 0;"
	    "INSERT INTO download_monitor (downloader, timestamp, success)"
	    " VALUES ('fastdl', '2025-11-19T11:45:00', 0)", NULL, NULL, NULL), SQLITE_OK);
	before = file_hash(f->db);
	assert_int_equal(store_open(f->db, STORE_DRYRUN, 1000, &st), DL_OK);
	assert_int_equal(q_int(store_db(st), "SELECT count(*) FROM download_monitor"), 14);
	write_everything(st);
	store_close(st);
	assert_true(file_hash(f->db) == before);
	sqlite3_close(app);
}

static void
test_busy(void **state)
{
	struct fx *f = *state;
	struct store *st = NULL;
	sqlite3 *other;
	struct timespec a, b;
	long long ms;

	assert_int_equal(store_open(f->db, STORE_RW, 200, &st), DL_OK);
	assert_int_equal(sqlite3_open(f->db, &other), SQLITE_OK);
	assert_int_equal(sqlite3_exec(other, "BEGIN IMMEDIATE", NULL, NULL, NULL), SQLITE_OK);
	clock_gettime(CLOCK_MONOTONIC, &a);
	assert_int_equal(store_begin(st), DL_EBUSY);
	clock_gettime(CLOCK_MONOTONIC, &b);
	ms = (b.tv_sec - a.tv_sec) * 1000LL + (b.tv_nsec - a.tv_nsec) / 1000000;
	assert_true(ms >= 150 && ms < 2000);
	/* the other process is done: the store works again */
	sqlite3_exec(other, "COMMIT", NULL, NULL, NULL);
	assert_int_equal(store_begin(st), DL_OK);
	assert_int_equal(store_commit(st), DL_OK);
	sqlite3_close(other);
	store_close(st);
}

static void
test_bad_files(void **state)
{
	struct fx *f = *state;
	struct store *st = NULL;
	FILE *fp;
	size_t i;

	/* missing database in read-only mode */
	assert_int_equal(store_open(f->db, STORE_RO, 200, &st), DL_EFAIL);
	assert_null(st);
	assert_int_equal(access(f->db, F_OK), -1);

	fp = fopen(f->db, "wb");
	assert_non_null(fp);
	for (i = 0; i < 200; i++)
		fputs("this is not a database, just some text\n", fp);
	fclose(fp);
	assert_int_equal(store_open(f->db, STORE_RW, 200, &st), DL_EFAIL);
	assert_null(st);
	assert_int_equal(store_open(f->db, STORE_RO, 200, &st), DL_EFAIL);
	assert_null(st);
	assert_int_equal(store_open(f->db, STORE_DRYRUN, 200, &st), DL_EFAIL);
	assert_null(st);
}

/* The application's database, read-only: nothing created, dlmon's tables
 * absent read as empty. */
static void
test_readonly(void **state)
{
	struct fx *f = *state;
	struct store *st = NULL;
	struct ev_history h;
	struct ev_alert_state as;
	struct src_pos p;
	unsigned long long hash;
	char ddl[1024], **keys = NULL;
	size_t n = 9;
	long long id = 0;
	struct alert_msg m;

	snprintf(ddl, sizeof ddl, "%s;\n"
	    "INSERT INTO download_monitor (downloader, timestamp, success)"
	    " VALUES ('fastdl', '2025-11-19T09:00:00', 0);", seed_table);
	app_exec(f->db, ddl);
	assert_int_equal(store_open(f->db, STORE_RO, 500, &st), DL_OK);
	assert_int_equal(store_history_load(st, "fastdl", T("2025-11-19 12:00:00"), &h), DL_OK);
	assert_int_equal(h.nfail, 1);
	assert_int_equal(store_alert_state(st, SA_FAILING, "fastdl", "none", &as, &hash), DL_OK);
	assert_int_equal(as.status, EV_AS_NONE);
	assert_int_equal(store_pos_get(st, "/x", &p), DL_OK);
	assert_int_equal(p.known, 0);
	assert_int_equal(store_pos_keys(st, "media", &keys, &n), DL_OK);
	assert_int_equal(n, 0);
	store_keys_free(keys, n);
	/* writing is refused, reported, not crashed */
	msg(&m, "t");
	assert_int_equal(store_alert_pending(st, SA_FAILING, "fastdl", "none", 0, 1, 0, &m,
	    &id), DL_EFAIL);
	store_close(st);
	assert_int_equal(store_open(f->db, STORE_RW, 500, &st), DL_OK);
	store_close(st);
	/* only the RW open created dlmon's tables */
	app_exec(f->db, "SELECT count(*) FROM dlmon_alerts");
}

/* SQLITE_FULL is DL_EFAIL, and the failed transaction leaves nothing. */
static void
test_full(void **state)
{
	struct fx *f = *state;
	struct store *st = NULL;
	static char big[3000];
	struct attempt a;
	long long before;
	int added, err = DL_OK, i;

	memset(big, 'x', sizeof big);
	assert_int_equal(store_open(f->db, STORE_RW, 500, &st), DL_OK);
	before = q_int(store_db(st), "PRAGMA page_count");
	/* a disk that is full after a few more pages */
	assert_true(q_int(store_db(st), "PRAGMA max_page_count = 1") >= before);
	assert_int_equal(q_int(store_db(st), "PRAGMA max_page_count"), before);
	assert_int_equal(store_begin(st), DL_OK);
	a = att("fastdl", "eva", 1763542800, 0, NULL);
	a.error = big;
	a.error_len = sizeof big;
	for (i = 0; i < 100 && err == DL_OK; i++) {
		a.ts++;
		err = store_attempt_add(st, &a, &added);
	}
	assert_int_equal(err, DL_EFAIL);
	store_rollback(st);
	assert_int_equal(q_int(store_db(st), "SELECT count(*) FROM download_monitor"), 0);
	store_close(st);
}

/* Switching to WAL while the application reads: retried, then DL_EBUSY. */
static void
test_wal_busy(void **state)
{
	struct fx *f = *state;
	struct store *st = NULL;
	sqlite3 *app;
	char *mode;

	app_exec(f->db, "CREATE TABLE t (x); INSERT INTO t VALUES (1);");
	assert_int_equal(sqlite3_open(f->db, &app), SQLITE_OK);
	assert_int_equal(sqlite3_exec(app, "BEGIN; SELECT * FROM t;", NULL, NULL, NULL),
	    SQLITE_OK);
	assert_int_equal(store_open(f->db, STORE_RW, 200, &st), DL_EBUSY);
	assert_null(st);
	sqlite3_exec(app, "COMMIT", NULL, NULL, NULL);
	sqlite3_close(app);
	assert_int_equal(store_open(f->db, STORE_RW, 200, &st), DL_OK);
	mode = q_text(store_db(st), "PRAGMA journal_mode", NULL);
	assert_string_equal(mode, "wal");
	free(mode);
	store_close(st);
}

/* A file the user may not write (meaningless as root: skipped). */
static void
test_unwritable(void **state)
{
	struct fx *f = *state;
	struct store *st = NULL;

	if (geteuid() == 0)
		skip();
	assert_int_equal(store_open(f->db, STORE_RW, 200, &st), DL_OK);
	store_close(st);
	assert_int_equal(chmod(f->db, 0444), 0);
	assert_int_equal(store_open(f->db, STORE_RW, 200, &st), DL_EFAIL);
	assert_null(st);
	assert_int_equal(store_open(f->db, STORE_RO, 200, &st), DL_OK);
	store_close(st);
}

/* No statement the store prepared may scan a table: run them all, then
 * ask the planner about each one the connection holds. */
static void
test_query_plans(void **state)
{
	struct fx *f = *state;
	struct store *st = NULL;
	sqlite3_stmt *s, *q;
	int checked = 0;

	assert_int_equal(store_open(f->db, STORE_DRYRUN, 1000, &st), DL_OK);
	insert_history(st);
	write_everything(st);
	{
		struct ev_history h;
		struct ev_alert_state as;
		unsigned long long hash;
		char **v, prev[EV_STREAK_KEY_MAX], *val;
		size_t n;
		int found;
		time_t ff;
		long long c;
		struct src_pos p;
		assert_int_equal(store_history_load(st, "fastdl", T("2025-11-19 12:00:00"), &h), 0);
		assert_int_equal(store_downloaders(st, &v, &n), 0);
		store_keys_free(v, n);
		assert_int_equal(store_pos_keys(st, "media", &v, &n), 0);
		store_keys_free(v, n);
		assert_int_equal(store_begin(st), 0);
		assert_int_equal(store_pos_delete(st, "/x.log"), 0);
		assert_int_equal(store_commit(st), 0);
		assert_int_equal(store_pos_get(st, "/x.log", &p), 0);
		assert_int_equal(store_alert_state(st, SA_FAILING, "fastdl", "x", &as, &hash), 0);
		assert_int_equal(store_alert_failed(st, 1, 1, 1, "x"), 0);
		assert_int_equal(store_recovery_due(st, "fastdl", "y", 0, &found, prev, &ff, &n), 0);
		assert_int_equal(store_prune(st, 0, 1, &c), 0);
		assert_int_equal(store_setting_get(st, "monitoring", &val), 0);
		free(val);
	}
	for (s = sqlite3_next_stmt(store_db(st), NULL); s; s = sqlite3_next_stmt(store_db(st), s)) {
		char sql[4096];
		snprintf(sql, sizeof sql, "EXPLAIN QUERY PLAN %s", sqlite3_sql(s));
		assert_int_equal(sqlite3_prepare_v2(store_db(st), sql, -1, &q, NULL), SQLITE_OK);
		while (sqlite3_step(q) == SQLITE_ROW) {
			const char *d = (const char *)sqlite3_column_text(q, 3);
			/* "SCAN d" is the recursive CTE's own queue; sqlite_master
			 * is only read at open */
			if (strncmp(d, "SCAN ", 5) == 0 && strcmp(d, "SCAN d") != 0 &&
			    strcmp(d, "SCAN sqlite_master") != 0 &&
			    strcmp(d, "SCAN CONSTANT ROW") != 0)
				fail_msg("table scan: %s\n  in: %s", d, sqlite3_sql(s));
		}
		sqlite3_finalize(q);
		checked++;
	}
	assert_true(checked >= 20);
	store_close(st);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_fresh_schema, setup, teardown),
		cmocka_unit_test_setup_teardown(test_adopt, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dedup, setup, teardown),
		cmocka_unit_test_setup_teardown(test_positions, setup, teardown),
		cmocka_unit_test_setup_teardown(test_history, setup, teardown),
		cmocka_unit_test_setup_teardown(test_alerts, setup, teardown),
		cmocka_unit_test_setup_teardown(test_prune, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dryrun, setup, teardown),
		cmocka_unit_test_setup_teardown(test_busy, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_files, setup, teardown),
		cmocka_unit_test_setup_teardown(test_query_plans, setup, teardown),
		cmocka_unit_test_setup_teardown(test_readonly, setup, teardown),
		cmocka_unit_test_setup_teardown(test_full, setup, teardown),
		cmocka_unit_test_setup_teardown(test_wal_busy, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unwritable, setup, teardown),
	};
	msg_init("test_store");
	return cmocka_run_group_tests(tests, NULL, NULL);
}
