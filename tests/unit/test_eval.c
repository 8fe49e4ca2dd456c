/*
 * test_eval.c — the alert rule (eval.c), table-driven: the seed's scenarios,
 * window and age boundaries, thresholds, alert state, repeats.
 *
 * Times are written "HH:MM" or "HH:MM:SS" on one day (hours may pass 23 for
 * the next day), as offsets from an arbitrary midnight T0.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "eval.h"

#define T0 ((time_t)1763510400)    /* some midnight; the rule only uses differences */
#define SUCCESS_ID 42LL
#define MAXF 16

static time_t
at(const char *hhmm)
{
	int h = 0, m = 0, s = 0;

	if (sscanf(hhmm, "%d:%d:%d", &h, &m, &s) < 2)
		fail_msg("bad time in table: %s", hhmm);
	return T0 + (time_t)h * 3600 + (time_t)m * 60 + s;
}

struct ev_case {
	const char *name;
	const char *success;            /* latest success, NULL = none */
	const char *fails[MAXF];        /* the streak, NULL-terminated */
	int flagged[MAXF];              /* alert_sent per failure */
	enum ev_alert_status st;
	const char *sent_at;            /* as->sent_at, NULL = 0 */
	struct ev_params p;
	const char *now;
	int failing, alert, alerted;
	size_t trigger;                 /* checked when failing */
	size_t nvisible;                /* failures at or before now (0: all) */
};

/* {window, min, max_age, repeat} */
#define SEED {3, 2, 24, 0}

static const struct ev_case cases[] = {
	/* --- the seed's scenarios --- */
	{ "scenario 1: failure then success, nothing at 12:15", "12:00", {NULL}, {0},
	  EV_AS_NONE, NULL, SEED, "12:15", 0, 0, 0, 0, 0 },
	{ "scenario 2: one failure at 09:15, no alert", NULL, {"09:00"}, {0},
	  EV_AS_NONE, NULL, SEED, "09:15", 0, 0, 0, 0, 0 },
	{ "scenario 2: 12:00 failure, alert at 12:00 (both ends included)", NULL,
	  {"09:00", "12:00"}, {0}, EV_AS_NONE, NULL, SEED, "12:00", 1, 1, 0, 1, 0 },
	{ "scenario 2: 15:15 after sending, no second alert", NULL,
	  {"09:00", "12:00", "15:00"}, {0}, EV_AS_SENT, "12:00", SEED, "15:15", 1, 0, 1, 1, 0 },
	{ "scenario 2: 15:15, sent flags from the earlier run", NULL,
	  {"09:00", "12:00", "15:00"}, {1, 1, 0}, EV_AS_NONE, NULL, SEED, "15:15", 1, 0, 1, 1, 0 },
	{ "scenario 3: toolzu fails twice, alert", NULL, {"09:00", "12:00"}, {0},
	  EV_AS_NONE, NULL, SEED, "12:15", 1, 1, 0, 1, 0 },
	{ "scenario 3: fastdl succeeds, nothing", "12:00", {NULL}, {0},
	  EV_AS_NONE, NULL, SEED, "12:15", 0, 0, 0, 0, 0 },
	{ "a success earlier, then two failures in the window", "08:00",
	  {"09:00", "10:00"}, {0}, EV_AS_NONE, NULL, SEED, "10:15", 1, 1, 0, 1, 0 },

	/* --- window boundaries --- */
	{ "gap exactly W", NULL, {"09:00:00", "12:00:00"}, {0}, EV_AS_NONE, NULL, SEED,
	  "12:00:00", 1, 1, 0, 1, 0 },
	{ "gap W + 1 s", NULL, {"09:00:00", "12:00:01"}, {0}, EV_AS_NONE, NULL, SEED,
	  "12:05", 0, 0, 0, 0, 0 },
	{ "gap W + 1 s, then a third failure closes it", NULL,
	  {"09:00:00", "12:00:01", "13:00"}, {0}, EV_AS_NONE, NULL, SEED, "13:05", 1, 1, 0, 2, 0 },
	{ "same timestamp twice: the first already sees the second", NULL,
	  {"09:00", "09:00"}, {0}, EV_AS_NONE, NULL, SEED, "09:05", 1, 1, 0, 0, 0 },
	{ "fractional window 0.5 h, gap 30 min", NULL, {"09:00", "09:30"}, {0}, EV_AS_NONE,
	  NULL, {0.5, 2, 24, 0}, "09:31", 1, 1, 0, 1, 0 },
	{ "fractional window 0.5 h, gap 30 min 1 s", NULL, {"09:00", "09:30:01"}, {0},
	  EV_AS_NONE, NULL, {0.5, 2, 24, 0}, "09:31", 0, 0, 0, 0, 0 },
	{ "fractional window 1.4 s rounds to 1 s", NULL, {"09:00:00", "09:00:01"}, {0},
	  EV_AS_NONE, NULL, {1.4 / 3600, 2, 24, 0}, "09:01", 1, 1, 0, 1, 0 },
	{ "fractional window 1.6 s rounds to 2 s", NULL, {"09:00:00", "09:00:02"}, {0},
	  EV_AS_NONE, NULL, {1.6 / 3600, 2, 24, 0}, "09:01", 1, 1, 0, 1, 0 },
	{ "fractional window 1.4 s, gap 2 s", NULL, {"09:00:00", "09:00:02"}, {0},
	  EV_AS_NONE, NULL, {1.4 / 3600, 2, 24, 0}, "09:01", 0, 0, 0, 0, 0 },

	/* --- thresholds --- */
	{ "min 1: one failure is enough", NULL, {"09:00"}, {0}, EV_AS_NONE, NULL,
	  {3, 1, 24, 0}, "09:05", 1, 1, 0, 0, 0 },
	{ "min 0 counts as 1", NULL, {"09:00"}, {0}, EV_AS_NONE, NULL,
	  {3, 0, 24, 0}, "09:05", 1, 1, 0, 0, 0 },
	{ "min 2: one failure is not", NULL, {"09:00"}, {0}, EV_AS_NONE, NULL,
	  {3, 2, 24, 0}, "09:05", 0, 0, 0, 0, 0 },
	{ "min 5: four in the window are not", NULL,
	  {"00:00", "04:00", "08:00", "08:30", "09:00", "10:00"}, {0}, EV_AS_NONE, NULL,
	  {3, 5, 24, 0}, "10:05", 0, 0, 0, 0, 0 },
	{ "min 5: the fifth in [08:00, 11:00] triggers", NULL,
	  {"00:00", "04:00", "08:00", "08:30", "09:00", "10:00", "11:00"}, {0}, EV_AS_NONE,
	  NULL, {3, 5, 24, 0}, "11:05", 1, 1, 0, 6, 0 },

	/* --- streaks longer than the window --- */
	{ "every 4 h with window 3: never failing", NULL,
	  {"00:00", "04:00", "08:00", "12:00", "16:00", "20:00", "24:00", "28:00", "32:00",
	   "36:00", "40:00", "44:00"}, {0}, EV_AS_NONE, NULL, SEED, "44:05", 0, 0, 0, 0, 0 },
	{ "every 1 h with window 3: failing at the second", NULL,
	  {"00:00", "01:00", "02:00", "03:00", "04:00", "05:00"}, {0}, EV_AS_NONE, NULL,
	  SEED, "05:05", 1, 1, 0, 1, 0 },
	{ "old window holds, latest failure fresh: alert", NULL,
	  {"00:00", "01:00", "20:00"}, {0}, EV_AS_NONE, NULL, SEED, "20:05", 1, 1, 0, 1, 0 },

	/* --- alert state --- */
	{ "app's alert_sent on an older failure: alerted", NULL,
	  {"09:00", "12:00", "15:00"}, {1, 0, 0}, EV_AS_NONE, NULL, SEED, "15:15", 1, 0, 1, 1, 0 },
	{ "alert_sent but the rule no longer holds: alerted, no alert", NULL,
	  {"09:00"}, {1}, EV_AS_NONE, NULL, SEED, "09:15", 0, 0, 1, 0, 0 },
	{ "pending: retried", NULL, {"09:00", "10:00"}, {0}, EV_AS_PENDING, NULL, SEED,
	  "10:15", 1, 1, 0, 1, 0 },
	{ "held: treated as pending", NULL, {"09:00", "10:00"}, {0}, EV_AS_HELD, NULL, SEED,
	  "10:15", 1, 1, 0, 1, 0 },
	{ "pending but stale: not retried", NULL, {"09:00", "10:00"}, {0}, EV_AS_PENDING,
	  NULL, SEED, "34:00:01", 1, 0, 0, 1, 0 },

	/* --- repeat_hours --- */
	{ "repeat 6 h: due 6 h after sent_at", NULL,
	  {"09:00", "10:00", "11:00", "12:00", "13:00", "14:00", "15:00", "16:00", "17:00",
	   "18:00"}, {0}, EV_AS_SENT, "12:00", {3, 2, 24, 6}, "18:00", 1, 1, 0, 1, 0 },
	{ "repeat 6 h: not due 1 s before", NULL,
	  {"09:00", "10:00", "11:00", "12:00", "13:00", "14:00", "15:00", "16:00", "17:00"},
	  {0}, EV_AS_SENT, "12:00", {3, 2, 24, 6}, "17:59:59", 1, 0, 1, 1, 0 },
	{ "repeat 6 h, app's flag: timed from the flagged failure", NULL,
	  {"09:00", "10:00", "11:00", "12:00", "13:00", "14:00", "15:00"},
	  {0, 1, 0}, EV_AS_NONE, NULL, {3, 2, 24, 6}, "16:00", 1, 1, 0, 1, 0 },
	{ "repeat 6 h, app's flag: not due before", NULL,
	  {"09:00", "10:00", "11:00", "12:00", "13:00", "14:00", "15:00"},
	  {0, 1, 0}, EV_AS_NONE, NULL, {3, 2, 24, 6}, "15:59:59", 1, 0, 1, 1, 0 },
	{ "repeat 6 h: the later of sent_at and flags counts", NULL,
	  {"09:00", "10:00", "11:00", "12:00", "13:00", "14:00", "15:00"},
	  {0, 0, 0, 0, 1}, EV_AS_SENT, "10:00", {3, 2, 24, 6}, "16:30", 1, 0, 1, 1, 0 },
	{ "repeat 6 h, SENT without a time: timed from the latest failure", NULL,
	  {"09:00", "10:00", "11:00", "12:00", "13:00", "14:00", "15:00"},
	  {0}, EV_AS_SENT, NULL, {3, 2, 24, 6}, "20:59:59", 1, 0, 1, 1, 0 },
	{ "repeat 6 h, SENT without a time: due 6 h after the latest failure", NULL,
	  {"09:00", "10:00", "11:00", "12:00", "13:00", "14:00", "15:00"},
	  {0}, EV_AS_SENT, NULL, {3, 2, 24, 6}, "21:00", 1, 1, 0, 1, 0 },
	{ "repeat 6 h but the streak is stale: nothing", NULL, {"09:00", "10:00"}, {0, 1},
	  EV_AS_NONE, NULL, {3, 2, 2, 6}, "20:00", 1, 0, 1, 1, 0 },
	{ "repeat 0: never again", NULL, {"09:00", "10:00"}, {0}, EV_AS_SENT, "10:00",
	  {3, 2, 0, 0}, "99:00", 1, 0, 1, 1, 0 },

	/* --- max_alert_age_hours --- */
	{ "latest failure exactly max_age old: alert", NULL, {"09:00", "10:00"}, {0},
	  EV_AS_NONE, NULL, SEED, "34:00", 1, 1, 0, 1, 0 },
	{ "latest failure max_age + 1 s old: no alert", NULL, {"09:00", "10:00"}, {0},
	  EV_AS_NONE, NULL, SEED, "34:00:01", 1, 0, 0, 1, 0 },
	{ "max_age 0: no limit", NULL, {"09:00", "10:00"}, {0}, EV_AS_NONE, NULL,
	  {3, 2, 0, 0}, "999:00", 1, 1, 0, 1, 0 },
	{ "fractional max_age 0.25 h, at the limit", NULL, {"09:00", "10:00"}, {0},
	  EV_AS_NONE, NULL, {3, 2, 0.25, 0}, "10:15:00", 1, 1, 0, 1, 0 },
	{ "fractional max_age 0.25 h, past it", NULL, {"09:00", "10:00"}, {0}, EV_AS_NONE, NULL,
	  {3, 2, 0.25, 0}, "10:15:01", 1, 0, 0, 1, 0 },

	/* --- precondition: failures later than now are ignored --- */
	{ "a failure after now does not count", NULL, {"09:00", "12:00"}, {0}, EV_AS_NONE,
	  NULL, SEED, "11:00", 0, 0, 0, 0, 1 },
	{ "all failures after now", NULL, {"12:00", "12:30"}, {0}, EV_AS_NONE,
	  NULL, SEED, "11:00", 0, 0, 0, 0, (size_t)-1 },
};

/* Like assert_int_equal, but names the table row that broke. */
static void
check(const char *name, const char *what, long long got, long long want)
{
	if (got != want)
		fail_msg("%s: %s = %lld, want %lld", name, what, got, want);
}

static size_t
count_fails(const struct ev_case *c)
{
	size_t n = 0;

	while (n < MAXF && c->fails[n] != NULL)
		n++;
	return n;
}

static void
test_table(void **state)
{
	size_t i, j;

	(void)state;
	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		const struct ev_case *c = &cases[i];
		struct ev_failure f[MAXF];
		struct ev_history h;
		struct ev_alert_state as;
		struct ev_decision d;
		char want_key[EV_STREAK_KEY_MAX];
		size_t n = count_fails(c), vis;
		int rc;

		memset(&h, 0, sizeof h);
		for (j = 0; j < n; j++) {
			f[j].id = 100 + (long long)j;
			f[j].ts = at(c->fails[j]);
			f[j].alert_sent = c->flagged[j];
		}
		if (c->success != NULL) {
			h.have_success = 1;
			h.success_id = SUCCESS_ID;
			h.success_ts = at(c->success);
		}
		h.fail = n ? f : NULL;
		h.nfail = n;
		as.status = c->st;
		as.sent_at = c->sent_at ? at(c->sent_at) : 0;

		memset(&d, 0x5a, sizeof d);
		rc = ev_evaluate(&h, &as, &c->p, at(c->now), &d);
		vis = c->nvisible == (size_t)-1 ? 0 : c->nvisible ? c->nvisible : n;
		snprintf(want_key, sizeof want_key, c->success ? "42" : "none");
		check(c->name, "return", rc, d.alert);
		check(c->name, "failing", d.failing, c->failing);
		check(c->name, "alert", d.alert, c->alert);
		check(c->name, "alerted", d.alerted, c->alerted);
		if (c->failing)
			check(c->name, "trigger", (long long)d.trigger, (long long)c->trigger);
		check(c->name, "first_fail_ts", d.first_fail_ts, vis ? f[0].ts : 0);
		check(c->name, "last_fail_ts", d.last_fail_ts, vis ? f[vis - 1].ts : 0);
		if (strcmp(d.streak_key, want_key) != 0)
			fail_msg("%s: streak_key \"%s\", want \"%s\"", c->name, d.streak_key,
			    want_key);
	}
}

/* as == NULL means no alert state: same as EV_AS_NONE. */
static void
test_null_state(void **state)
{
	struct ev_failure f[2] = { {1, T0, 0}, {2, T0 + 60, 0} };
	struct ev_history h = { 0, 0, 0, f, 2, NULL, NULL };
	struct ev_params p = SEED;
	struct ev_decision d;

	(void)state;
	assert_int_equal(ev_evaluate(&h, NULL, &p, T0 + 120, &d), 1);
	assert_int_equal(d.failing, 1);
	assert_int_equal(d.alerted, 0);
	f[0].alert_sent = 1;
	assert_int_equal(ev_evaluate(&h, NULL, &p, T0 + 120, &d), 0);
	assert_int_equal(d.alerted, 1);
}

static void
test_streak_key(void **state)
{
	struct ev_history h;
	char key[EV_STREAK_KEY_MAX];

	(void)state;
	memset(&h, 0, sizeof h);
	ev_streak_key(&h, key);
	assert_string_equal(key, "none");
	h.have_success = 1;
	h.success_id = 9007199254740993LL;
	ev_streak_key(&h, key);
	assert_string_equal(key, "9007199254740993");
	h.success_id = 0;
	ev_streak_key(&h, key);
	assert_string_equal(key, "0");
}

/*
 * A long streak: the sweep must stay linear and exact.  Failures every 4 h
 * never hold with window 3; one extra failure 3 h after the last one does,
 * and it must be found as the trigger.
 */
static void
test_long_streak(void **state)
{
	const size_t n = 200000;
	struct ev_failure *f = calloc(n + 1, sizeof *f);
	struct ev_history h;
	struct ev_params p = {3, 2, 0, 0};
	struct ev_decision d;
	size_t i;

	(void)state;
	assert_non_null(f);
	for (i = 0; i < n; i++) {
		f[i].id = (long long)i;
		f[i].ts = T0 + (time_t)i * 4 * 3600;
	}
	memset(&h, 0, sizeof h);
	h.fail = f;
	h.nfail = n;
	ev_evaluate(&h, NULL, &p, f[n - 1].ts, &d);
	assert_int_equal(d.failing, 0);

	f[n].id = (long long)n;
	f[n].ts = f[n - 1].ts + 3 * 3600;
	h.nfail = n + 1;
	ev_evaluate(&h, NULL, &p, f[n].ts, &d);
	assert_int_equal(d.failing, 1);
	assert_int_equal(d.alert, 1);
	assert_int_equal(d.trigger, n);
	free(f);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_null_state),
		cmocka_unit_test(test_streak_key),
		cmocka_unit_test(test_long_streak),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
