/*
 * test_opens.c — open attempts (src/opens.c): the rule, table-driven, and
 * the dlmon_open table against a real database file.
 *
 * A case is a sequence of events on one file's set: S (start), R (result),
 * T (a later line's time, or the scan's clock).  Times are "HH:MM" offsets
 * from an arbitrary midnight T0.  Each event lists the failures it must
 * produce ("dl/user@HH:MM", user "-" for none, in order) and, for a result,
 * the user it ends up with (inherited or its own) and whether it closed an
 * open attempt.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "opens.h"
#include "store.h"
#include "util.h"

#define T0 ((time_t)1763510400)
#define MAXEV 8
#define MAXF 4

static time_t
at(const char *hhmm)
{
	int h = 0, m = 0;

	if (sscanf(hhmm, "%d:%d", &h, &m) != 2)
		fail_msg("bad time in table: %s", hhmm);
	return T0 + (time_t)h * 3600 + (time_t)m * 60;
}

struct ev {
	char op;                   /* 'S', 'R', 'T'; 0 ends the list */
	const char *dl, *user;     /* user NULL: none */
	const char *t;
	const char *fails[MAXF];   /* failures produced, in order */
	const char *got_user;      /* R: the result's user afterwards ("-" none) */
	int closed;                /* R: closed an open attempt */
};

struct ocase {
	const char *name;
	struct ev ev[MAXEV];
	size_t left;               /* open attempts at the end */
};

static const struct ocase cases[] = {
	{ "start then success: closed, no failure", {
	  { 'S', "fastdl", "bob", "10:00", {NULL}, NULL, 0 },
	  { 'R', "fastdl", "bob", "10:05", {NULL}, "bob", 1 },
	  { 'T', NULL, NULL, "20:00", {NULL}, NULL, 0 } }, 0 },
	{ "start then failure closes it too", {
	  { 'S', "fastdl", "bob", "10:00", {NULL}, NULL, 0 },
	  { 'R', "fastdl", "bob", "10:30", {NULL}, "bob", 1 } }, 0 },
	{ "nothing for 2 h: not yet at exactly 2 h, failure after", {
	  { 'S', "fastdl", "bob", "10:00", {NULL}, NULL, 0 },
	  { 'T', NULL, NULL, "12:00", {NULL}, NULL, 0 },
	  { 'T', NULL, NULL, "12:01", {"fastdl/bob@10:00"}, NULL, 0 },
	  { 'T', NULL, NULL, "13:00", {NULL}, NULL, 0 } }, 0 },
	{ "a result exactly 2 h after the start still closes it", {
	  { 'S', "fastdl", "bob", "10:00", {NULL}, NULL, 0 },
	  { 'T', NULL, NULL, "12:00", {NULL}, NULL, 0 },
	  { 'R', "fastdl", "bob", "12:00", {NULL}, "bob", 1 } }, 0 },
	{ "a new start of the same downloader and user: the first fails", {
	  { 'S', "fastdl", "bob", "10:00", {NULL}, NULL, 0 },
	  { 'S', "fastdl", "bob", "10:30", {"fastdl/bob@10:00"}, NULL, 0 },
	  { 'R', "fastdl", "bob", "10:40", {NULL}, "bob", 1 } }, 0 },
	{ "the same start read again changes nothing", {
	  { 'S', "fastdl", "bob", "10:00", {NULL}, NULL, 0 },
	  { 'S', "fastdl", "bob", "10:00", {NULL}, NULL, 0 } }, 1 },
	{ "an older start (file read again) is ignored", {
	  { 'S', "fastdl", "bob", "10:00", {NULL}, NULL, 0 },
	  { 'S', "fastdl", "bob", "09:00", {NULL}, NULL, 0 },
	  { 'T', NULL, NULL, "12:30", {"fastdl/bob@10:00"}, NULL, 0 } }, 0 },
	{ "an older result does not close a newer start", {
	  { 'S', "fastdl", "bob", "10:00", {NULL}, NULL, 0 },
	  { 'R', "fastdl", "bob", "09:59", {NULL}, "bob", 0 } }, 1 },
	{ "other users and downloaders stay open side by side", {
	  { 'S', "fastdl", "bob", "10:00", {NULL}, NULL, 0 },
	  { 'S', "fastdl", "amy", "10:01", {NULL}, NULL, 0 },
	  { 'S', "imginn", "bob", "10:02", {NULL}, NULL, 0 },
	  { 'R', "fastdl", "amy", "10:10", {NULL}, "amy", 1 },
	  { 'R', "toolzu", "bob", "10:10", {NULL}, "bob", 0 },
	  { 'T', NULL, NULL, "12:03",
	    {"fastdl/bob@10:00", "imginn/bob@10:02"}, NULL, 0 } }, 0 },
	{ "a result without user takes the user of the open attempt", {
	  { 'S', "fastdl", "bob", "10:00", {NULL}, NULL, 0 },
	  { 'R', "fastdl", NULL, "10:05", {NULL}, "bob", 1 },
	  { 'T', NULL, NULL, "23:00", {NULL}, NULL, 0 } }, 0 },
	{ "... of the latest open attempt of its downloader", {
	  { 'S', "fastdl", "bob", "10:00", {NULL}, NULL, 0 },
	  { 'S', "fastdl", "amy", "10:01", {NULL}, NULL, 0 },
	  { 'S', "imginn", "zed", "10:02", {NULL}, NULL, 0 },
	  { 'R', "fastdl", NULL, "10:05", {NULL}, "amy", 1 },
	  { 'R', "fastdl", NULL, "10:06", {NULL}, "bob", 1 } }, 1 },
	{ "a result without user and nothing open keeps no user", {
	  { 'S', "imginn", "bob", "10:00", {NULL}, NULL, 0 },
	  { 'R', "fastdl", NULL, "10:05", {NULL}, "-", 0 } }, 1 },
	{ "a start without user is closed by any result of its downloader", {
	  { 'S', "fastdl", NULL, "10:00", {NULL}, NULL, 0 },
	  { 'R', "fastdl", "bob", "10:05", {NULL}, "bob", 1 } }, 0 },
	{ "an exact user wins over a start without user", {
	  { 'S', "fastdl", NULL, "10:00", {NULL}, NULL, 0 },
	  { 'S', "fastdl", "bob", "10:01", {NULL}, NULL, 0 },
	  { 'R', "fastdl", "bob", "10:05", {NULL}, "bob", 1 },
	  { 'T', NULL, NULL, "12:01", {"fastdl/-@10:00"}, NULL, 0 } }, 0 },
	{ "expiry happens in start order", {
	  { 'S', "b", "u", "10:05", {NULL}, NULL, 0 },
	  { 'S', "a", "u", "10:00", {NULL}, NULL, 0 },
	  { 'S', "c", "u", "11:00", {NULL}, NULL, 0 },
	  { 'T', NULL, NULL, "12:10", {"b/u@10:05", "a/u@10:00"}, NULL, 0 } }, 1 },
};

struct sink {
	char got[MAXF * 4][80];
	size_t n;
	int refuse;                /* return this from the callback */
};

static int
collect(void *ctx, const struct attempt *a)
{
	struct sink *k = ctx;
	long off = (long)(a->ts - T0) / 60;

	if (k->refuse)
		return k->refuse;
	assert_int_equal(a->success, 0);
	assert_int_equal(a->file_count, 0);
	assert_int_equal(a->error_len, strlen(OPENS_ERROR));
	assert_memory_equal(a->error, OPENS_ERROR, a->error_len);
	assert_true(k->n < sizeof k->got / sizeof k->got[0]);
	snprintf(k->got[k->n++], sizeof k->got[0], "%.*s/%.*s@%02ld:%02ld",
	    (int)a->downloader_len, a->downloader,
	    a->user ? (int)a->user_len : 1, a->user ? a->user : "-",
	    off / 60, off % 60);
	return 0;
}

static void
mk(struct attempt *a, const struct ev *e)
{
	memset(a, 0, sizeof *a);
	a->downloader = e->dl;
	a->downloader_len = e->dl ? strlen(e->dl) : 0;
	a->user = e->user;
	a->user_len = e->user ? strlen(e->user) : 0;
	a->ts = at(e->t);
	a->success = 1;
}

static void
test_rule_table(void **state)
{
	size_t c, i, j;

	(void)state;
	for (c = 0; c < sizeof cases / sizeof cases[0]; c++) {
		const struct ocase *tc = &cases[c];
		struct opens *o = opens_new();

		assert_non_null(o);
		for (i = 0; i < MAXEV && tc->ev[i].op; i++) {
			const struct ev *e = &tc->ev[i];
			struct sink k;
			struct attempt a;
			const struct open_attempt *m;

			memset(&k, 0, sizeof k);
			mk(&a, e);
			if (e->op == 'T') {
				assert_int_equal(opens_expire(o, a.ts, collect, &k), DL_OK);
			} else {
				/* as the ingest does: a line's time expires first */
				assert_int_equal(opens_expire(o, a.ts, collect, &k), DL_OK);
				if (e->op == 'S') {
					assert_int_equal(opens_start(o, &a, collect, &k), DL_OK);
				} else {
					m = opens_match(o, &a);
					if ((m != NULL) != e->closed)
						fail_msg("%s: event %zu: closed %d, want %d",
						    tc->name, i, m != NULL, e->closed);
					if (m && a.user == NULL) {
						a.user = m->user;
						a.user_len = m->user_len;
					}
					if (strcmp(e->got_user, "-") == 0 ? a.user != NULL :
					    (a.user == NULL || a.user_len != strlen(e->got_user) ||
					    memcmp(a.user, e->got_user, a.user_len) != 0))
						fail_msg("%s: event %zu: user '%.*s', want '%s'",
						    tc->name, i, a.user ? (int)a.user_len : 1,
						    a.user ? a.user : "-", e->got_user);
					opens_close(o, m);
				}
			}
			for (j = 0; j < MAXF && e->fails[j]; j++)
				if (j >= k.n || strcmp(k.got[j], e->fails[j]) != 0)
					fail_msg("%s: event %zu: failure %zu is '%s', want '%s'",
					    tc->name, i, j, j < k.n ? k.got[j] : "(none)",
					    e->fails[j]);
			if (k.n != j)
				fail_msg("%s: event %zu: %zu failures, want %zu (first extra: %s)",
				    tc->name, i, k.n, j, k.got[j]);
		}
		if (opens_count(o) != tc->left)
			fail_msg("%s: %zu left open, want %zu", tc->name, opens_count(o),
			    tc->left);
		opens_free(o);
	}
	opens_free(NULL);
}

/* A callback error keeps the open attempt (nothing lost when a write fails). */
static void
test_callback_error_keeps(void **state)
{
	static const struct ev s = { 'S', "fastdl", "bob", "10:00", {NULL}, NULL, 0 };
	static const struct ev s2 = { 'S', "fastdl", "bob", "11:00", {NULL}, NULL, 0 };
	struct opens *o = opens_new();
	struct sink k;
	struct attempt a;

	(void)state;
	memset(&k, 0, sizeof k);
	mk(&a, &s);
	assert_int_equal(opens_start(o, &a, collect, &k), DL_OK);
	k.refuse = DL_EBUSY;
	assert_int_equal(opens_expire(o, at("13:00"), collect, &k), DL_EBUSY);
	assert_int_equal(opens_count(o), 1);
	mk(&a, &s2);
	assert_int_equal(opens_start(o, &a, collect, &k), DL_EBUSY);
	assert_int_equal(opens_count(o), 1);
	assert_int_equal(opens_at(o, 0)->ts, at("10:00"));
	opens_free(o);
}

/* --- dlmon_open ------------------------------------------------------------ */

struct fx {
	char dir[64];
	char db[128];
	struct store *st;
	struct opens_db *od;
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
	strcpy(f->dir, "/tmp/test_opens.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->db, sizeof f->db, "%s/db.sqlite", f->dir);
	assert_int_equal(store_open(f->db, STORE_RW, 1000, &f->st), DL_OK);
	assert_int_equal(opens_db_new(f->st, &f->od), DL_OK);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *f = *state;

	opens_db_free(f->od);
	store_close(f->st);
	nftw(f->dir, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
	free(f);
	return 0;
}

static int
count_rows(struct fx *f, const char *key)
{
	sqlite3_stmt *s;
	int n;

	assert_int_equal(sqlite3_prepare_v2(store_db(f->st),
	    "SELECT count(*) FROM dlmon_open WHERE key = ?1", -1, &s, NULL), SQLITE_OK);
	sqlite3_bind_text(s, 1, key, -1, SQLITE_STATIC);
	assert_int_equal(sqlite3_step(s), SQLITE_ROW);
	n = sqlite3_column_int(s, 0);
	sqlite3_finalize(s);
	return n;
}

/* Saved, loaded back byte for byte (a user with a NUL and invalid UTF-8),
 * per key; a second opens_db_new on the same database is harmless. */
static void
test_db_roundtrip(void **state)
{
	static const char odd[] = { 'a', '\0', (char)0xff, 'z' };
	struct fx *f = *state;
	struct opens *o = opens_new(), *back = opens_new();
	struct opens_db *od2 = NULL;
	struct attempt a;
	struct sink k;
	const struct open_attempt *x;

	memset(&k, 0, sizeof k);
	memset(&a, 0, sizeof a);
	a.downloader = "fastdl";
	a.downloader_len = 6;
	a.user = odd;
	a.user_len = sizeof odd;
	a.ts = at("10:00");
	assert_int_equal(opens_start(o, &a, collect, &k), DL_OK);
	a.user = NULL;
	a.user_len = 0;
	a.ts = at("10:30");
	assert_int_equal(opens_start(o, &a, collect, &k), DL_OK);

	assert_int_equal(store_begin(f->st), DL_OK);
	assert_int_equal(opens_db_save(f->od, "/logs/a.log", o), DL_OK);
	assert_int_equal(store_commit(f->st), DL_OK);
	assert_false(opens_dirty(o));
	assert_int_equal(count_rows(f, "/logs/a.log"), 2);

	assert_int_equal(opens_db_new(f->st, &od2), DL_OK);
	assert_int_equal(opens_db_load(od2, "/logs/a.log", back), DL_OK);
	assert_int_equal(opens_count(back), 2);
	assert_false(opens_dirty(back));
	x = opens_at(back, 0);
	assert_string_equal(x->downloader, "fastdl");
	assert_int_equal(x->user_len, sizeof odd);
	assert_memory_equal(x->user, odd, sizeof odd);
	assert_int_equal(x->ts, at("10:00"));
	x = opens_at(back, 1);
	assert_null(x->user);
	assert_int_equal(x->ts, at("10:30"));
	assert_int_equal(opens_db_load(od2, "/logs/other.log", back), DL_OK);
	assert_int_equal(opens_count(back), 0);

	/* Closing one and saving rewrites the key's rows. */
	a.downloader = "fastdl";
	a.user = "bob";
	a.user_len = 3;
	a.ts = at("10:40");
	opens_close(o, opens_match(o, &a));    /* the start without user */
	assert_true(opens_dirty(o));
	assert_int_equal(store_begin(f->st), DL_OK);
	assert_int_equal(opens_db_save(f->od, "/logs/a.log", o), DL_OK);
	assert_int_equal(store_commit(f->st), DL_OK);
	assert_int_equal(count_rows(f, "/logs/a.log"), 1);

	/* A rolled-back save leaves the saved rows as they were. */
	opens_clear(o);
	a.ts = at("11:00");
	assert_int_equal(opens_start(o, &a, collect, &k), DL_OK);
	assert_int_equal(store_begin(f->st), DL_OK);
	assert_int_equal(opens_db_save(f->od, "/logs/a.log", o), DL_OK);
	store_rollback(f->st);
	assert_int_equal(opens_db_load(f->od, "/logs/a.log", back), DL_OK);
	assert_int_equal(opens_count(back), 1);
	assert_memory_equal(opens_at(back, 0)->user, odd, sizeof odd);
	assert_int_equal(k.n, 0);

	opens_db_free(od2);
	opens_free(o);
	opens_free(back);
}

/* The scan's clock fails the saved open attempts of every key, once. */
static void
test_db_expire(void **state)
{
	struct fx *f = *state;
	struct opens *o = opens_new();
	struct attempt a;
	struct sink k;
	unsigned long n = 99;

	memset(&k, 0, sizeof k);
	memset(&a, 0, sizeof a);
	a.downloader = "tiktok";
	a.downloader_len = 6;
	a.user = "amy";
	a.user_len = 3;
	a.ts = at("10:00");
	assert_int_equal(store_begin(f->st), DL_OK);
	assert_int_equal(opens_start(o, &a, collect, &k), DL_OK);
	assert_int_equal(opens_db_save(f->od, "/l/1.log", o), DL_OK);
	opens_clear(o);
	a.user = "bob";
	a.ts = at("11:00");
	assert_int_equal(opens_start(o, &a, collect, &k), DL_OK);
	assert_int_equal(opens_db_save(f->od, "/l/2.log", o), DL_OK);
	assert_int_equal(store_commit(f->st), DL_OK);

	assert_int_equal(store_begin(f->st), DL_OK);
	assert_int_equal(opens_db_expire(f->od, at("12:00"), collect, &k, &n), DL_OK);
	assert_int_equal(n, 0);
	assert_int_equal(opens_db_expire(f->od, at("12:00") + 1, collect, &k, &n), DL_OK);
	assert_int_equal(store_commit(f->st), DL_OK);
	assert_int_equal(n, 1);
	assert_int_equal(k.n, 1);
	assert_string_equal(k.got[0], "tiktok/amy@10:00");
	assert_int_equal(count_rows(f, "/l/1.log"), 0);
	assert_int_equal(count_rows(f, "/l/2.log"), 1);

	assert_int_equal(store_begin(f->st), DL_OK);
	assert_int_equal(opens_db_expire(f->od, at("12:00") + 1, collect, &k, &n), DL_OK);
	assert_int_equal(store_commit(f->st), DL_OK);
	assert_int_equal(n, 0);
	assert_int_equal(k.n, 1);
	opens_free(o);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rule_table),
		cmocka_unit_test(test_callback_error_keeps),
		cmocka_unit_test_setup_teardown(test_db_roundtrip, setup, teardown),
		cmocka_unit_test_setup_teardown(test_db_expire, setup, teardown),
	};

	msg_init("test_opens");
	return cmocka_run_group_tests(tests, NULL, NULL);
}
