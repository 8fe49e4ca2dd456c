/*
 * eval.h — SPEC's alert rule, as a pure function: no I/O, no clock.
 *
 * For one downloader at time `now`: its streak is the run of failures after
 * its latest success (identified by that success's id, or "none"); it is
 * failing when for some failure f of the streak, the streak's failures with
 * timestamps in [f - window, f] number at least min_failures.  Alerts are
 * about the present: only the current streak can alert, once (unless
 * repeat_hours), and not when its latest failure is older than max_age.
 *
 * Error convention: see util.h (these functions cannot fail).
 */
#ifndef DLMON_EVAL_H
#define DLMON_EVAL_H

#include <stddef.h>
#include <time.h>

struct ev_failure {
	long long id;
	time_t ts;
	int alert_sent;            /* alert_sent column: set by the app or an earlier run */
};

/* What the store knows of one downloader, attempts later than now excluded. */
struct ev_history {
	int have_success;
	long long success_id;      /* latest success, by (timestamp, id) */
	time_t success_ts;
	const struct ev_failure *fail; /* the streak, ordered by (timestamp, id) */
	size_t nfail;
	const char *last_user;     /* latest failure's username, NULL if unknown */
	const char *last_error;    /* latest failure's error, NULL if unknown */
};

struct ev_params {
	double window_hours;
	int min_failures;
	double max_age_hours;
	double repeat_hours;       /* 0: once per streak */
};

/* dlmon_alerts' knowledge of the current streak's "failing" alert. */
enum ev_alert_status { EV_AS_NONE = 0, EV_AS_PENDING, EV_AS_SENT, EV_AS_HELD };

struct ev_alert_state {
	enum ev_alert_status status;
	time_t sent_at;            /* last delivery (EV_AS_SENT) */
};

#define EV_STREAK_KEY_MAX 32

struct ev_decision {
	int failing;               /* the rule holds for the current streak */
	int alert;                 /* deliver now (new, retry of pending, or repeat) */
	int alerted;               /* the streak has alerted already (and no repeat due) */
	char streak_key[EV_STREAK_KEY_MAX]; /* "none" or the success's id */
	size_t trigger;            /* index in fail[] of the first f whose window holds */
	time_t first_fail_ts;      /* streak's first failure (0 if no streak) */
	time_t last_fail_ts;
};

/* ev_streak_key: the key identifying h's current streak ("none" or the id). */
void ev_streak_key(const struct ev_history *h, char key[EV_STREAK_KEY_MAX]);

/*
 * ev_evaluate: decide for h at now under p, given the alert state of the
 * current streak (as may be NULL = none).  Fills *d; returns d->alert.
 */
int ev_evaluate(const struct ev_history *h, const struct ev_alert_state *as,
    const struct ev_params *p, time_t now, struct ev_decision *d);

#endif
