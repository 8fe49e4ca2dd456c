/*
 * eval.c — SPEC's alert rule (see eval.h).  Pure: no I/O, no clock, no
 * globals; nothing here can fail.
 */
#include "eval.h"

#include <stdio.h>
#include <string.h>

/*
 * Hours (possibly fractional, e.g. 0.5) to whole seconds, rounded to the
 * nearest second.  Negative or NaN means "nothing" (0); absurdly large values
 * are clamped so the arithmetic on time_t cannot overflow.
 */
static long long
hours_to_secs(double hours)
{
	double s;

	if (!(hours > 0))
		return 0;
	s = hours * 3600.0;
	if (s > 1e15)
		return (long long)1e15;
	/* rounding by hand: llround would need libm, which nothing else links */
	return (long long)(s + 0.5);
}

/* ev_streak_key — see eval.h.  The key is written into the caller's array;
 * a NULL h (no history at all) is "none". */
void
ev_streak_key(const struct ev_history *h, char key[EV_STREAK_KEY_MAX])
{
	if (h == NULL || !h->have_success)
		snprintf(key, EV_STREAK_KEY_MAX, "none");
	else
		snprintf(key, EV_STREAK_KEY_MAX, "%lld", h->success_id);
}

/*
 * Number of leading failures of the streak at or before now.  The caller
 * should not pass later ones (SPEC: "attempts later than --now are not
 * evaluated"); they sit at the end of the (ts, id) order, so cutting them off
 * here keeps a violated precondition from raising a false alert.
 */
static size_t
streak_len(const struct ev_history *h, time_t now)
{
	size_t n = h->nfail;

	if (h->fail == NULL)
		return 0;
	while (n > 0 && h->fail[n - 1].ts > now)
		n--;
	return n;
}

/*
 * First index i such that the failures with ts in [fail[i].ts - w,
 * fail[i].ts] number at least min; -1 if none.  Two pointers over the
 * (ts, id) order: lo is the first failure inside the window, hi the last one
 * sharing fail[i]'s timestamp (those count too: both ends are included).
 * Each pointer only moves forward, so this is O(n).
 */
static long long
first_trigger(const struct ev_failure *fail, size_t n, long long w, long long min)
{
	size_t i, lo = 0, hi = 0;

	for (i = 0; i < n; i++) {
		long long from = (long long)fail[i].ts - w;

		while (lo < i && (long long)fail[lo].ts < from)
			lo++;
		if (hi < i)
			hi = i;
		while (hi + 1 < n && fail[hi + 1].ts == fail[i].ts)
			hi++;
		if ((long long)(hi - lo + 1) >= min)
			return (long long)i;
	}
	return -1;
}

/*
 * When the streak's last alert went out, for repeat_hours.  dlmon's own
 * record (as->sent_at) is exact.  A flag written by the original application
 * carries no time; it sits on the failure that triggered that alert (and the
 * application alerted as it logged it), so the latest flagged failure's ts
 * stands in for the send time.  The latest of both wins.  With nothing known
 * (SENT but sent_at 0, no flag) the latest failure is used, which delays a
 * reminder rather than sending one early.
 */
static time_t
last_sent_at(const struct ev_failure *fail, size_t n, const struct ev_alert_state *as)
{
	time_t t = 0;
	size_t i;

	if (as != NULL && as->status == EV_AS_SENT && as->sent_at > 0)
		t = as->sent_at;
	for (i = 0; i < n; i++)
		if (fail[i].alert_sent && fail[i].ts > t)
			t = fail[i].ts;
	if (t == 0 && n > 0)
		t = fail[n - 1].ts;
	return t;
}

/*
 * ev_evaluate — see eval.h.  Details of the contract:
 *  - the window and ages are rounded to whole seconds; min_failures below 1
 *    counts as 1;
 *  - max_age_hours <= 0 means no age limit; the age limit applies to every
 *    alert, first or repeated (alerts are about the present);
 *  - EV_AS_PENDING and EV_AS_HELD are both "not yet delivered": alert is 1
 *    whenever the rule holds.  Whether a held alert may be retried (notifier
 *    settings changed) is the caller's decision;
 *  - alerted: a failure of the streak carries alert_sent, or as says SENT.
 *    An alerted streak alerts again only when repeat_hours > 0, it is still
 *    failing and fresh, and repeat_hours have passed since the last send
 *    (see last_sent_at); then alert = 1 and alerted = 0;
 *  - failures later than now (a violated precondition) are ignored.
 * d->trigger is 0 and d->failing 0 when no window holds.
 */
int
ev_evaluate(const struct ev_history *h, const struct ev_alert_state *as,
    const struct ev_params *p, time_t now, struct ev_decision *d)
{
	long long w, min, trig;
	size_t n, i;
	int sent = 0, fresh;

	memset(d, 0, sizeof *d);
	ev_streak_key(h, d->streak_key);
	n = streak_len(h, now);
	if (n == 0)
		goto out;
	d->first_fail_ts = h->fail[0].ts;
	d->last_fail_ts = h->fail[n - 1].ts;

	w = hours_to_secs(p->window_hours);
	min = p->min_failures < 1 ? 1 : p->min_failures;
	trig = first_trigger(h->fail, n, w, min);
	if (trig >= 0) {
		d->failing = 1;
		d->trigger = (size_t)trig;
	}

	fresh = p->max_age_hours <= 0 ||
	    (long long)d->last_fail_ts >= (long long)now - hours_to_secs(p->max_age_hours);

	if (as != NULL && as->status == EV_AS_SENT)
		sent = 1;
	for (i = 0; i < n && !sent; i++)
		if (h->fail[i].alert_sent)
			sent = 1;

	if (!sent) {
		d->alert = d->failing && fresh;
		goto out;
	}
	d->alerted = 1;
	if (p->repeat_hours > 0 && d->failing && fresh &&
	    (long long)now - (long long)last_sent_at(h->fail, n, as) >=
	    hours_to_secs(p->repeat_hours)) {
		d->alert = 1;
		d->alerted = 0;
	}
out:
	return d->alert;
}
