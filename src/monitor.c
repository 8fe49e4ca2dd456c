/*
 * monitor.c — evaluation and notification.  See monitor.h.
 *
 * The order of the steps for one alert is what makes delivery at-least-once
 * and nothing more: the alert is committed as pending, then sent, then marked
 * sent together with alert_sent on the streak's rows.  A crash between send
 * and mark repeats that one push on the next run; nothing else can repeat.
 */
#include "monitor.h"

#include <stdlib.h>
#include <string.h>

#include "eval.h"
#include "util.h"

struct run {
	const struct conf *c;
	struct store *st;
	struct notifier *n;
	FILE *show;
	time_t now;
	struct monitor_stats *stats;
	unsigned long long nhash;
};

static void
note_sent(struct monitor_stats *s, const char *id)
{
	size_t len = strlen(s->sent_names);

	if (strstr(s->sent_names, id) != NULL)
		return;
	snprintf(s->sent_names + len, sizeof s->sent_names - len, "%s%s",
	    len ? ", " : "", id);
}

/* Print an alert the way --dry-run shows it. */
static void
show_alert(FILE *fp, const struct alert_msg *m)
{
	const char *p = m->message, *nl;

	fprintf(fp, "alert: %s\n", m->title);
	while (*p) {
		nl = strchr(p, '\n');
		if (nl == NULL)
			nl = p + strlen(p);
		fprintf(fp, "  %.*s\n", (int)(nl - p), p);
		p = *nl ? nl + 1 : nl;
	}
}

/*
 * Record m as pending, deliver it, record the outcome.  Returns DL_OK when
 * the bookkeeping worked (delivered or not), else the store's error.
 */
static int
deliver(struct run *r, enum store_alert_kind kind, const char *id, const char *streak,
    time_t first_fail, size_t nfail, const struct ev_failure *mark,
    const struct alert_msg *m)
{
	enum notify_result res;
	char why[256] = "";
	long long aid;
	int err;

	if (r->n == NULL) {
		if (r->show) {
			show_alert(r->show, m);
			fprintf(r->show, "  (pushover is disabled: it would not be sent)\n");
		} else
			msg_verbose("%s: %s (not sent: pushover is disabled)", id, m->title);
		return DL_OK;
	}
	err = store_alert_pending(r->st, kind, id, streak, first_fail,
	    nfail, r->now, m, &aid);
	if (err != DL_OK)
		return err;
	if (r->show) {
		show_alert(r->show, m);
		res = NOTIFY_SENT;
	} else
		res = notify_send(r->n, m, why, sizeof why);
	if (res == NOTIFY_SENT) {
		err = store_alert_sent(r->st, aid, r->now, mark, mark ? nfail : 0);
		if (err != DL_OK)
			return err;
		r->stats->sent++;
		note_sent(r->stats, id);
		return DL_OK;
	}
	r->stats->undelivered++;
	if (res == NOTIFY_REJECTED)
		r->stats->held++;
	return store_alert_failed(r->st, aid, res == NOTIFY_REJECTED, r->nhash, why);
}

static int
check_recovery(struct run *r, const char *id, const char *streak, const struct ev_history *h)
{
	char prev[EV_STREAK_KEY_MAX];
	struct alert_msg m;
	time_t first_fail;
	size_t nfail;
	int found, err;

	if (!h->have_success)
		return DL_OK;
	err = store_recovery_due(r->st, id, streak, h->success_ts, &found, prev, &first_fail, &nfail);
	if (err != DL_OK || !found)
		return err;
	alert_compose_recovered(conf_display_name(r->c, id), first_fail, h->success_ts,
	    nfail, r->now, &m);
	return deliver(r, SA_RECOVERED, id, prev, first_fail, nfail, NULL, &m);
}

/*
 * expect_every_hours: a downloader with no attempt at all for that long is
 * silent — its cron job or container may be dead, which no failure line will
 * ever tell.  One push per silence: the silence is identified by the time of
 * the last attempt before it, so a new attempt ends it and a later silence
 * is a new one.
 */
static int
check_silence(struct run *r, const char *id, const struct ev_history *h)
{
	const struct conf_downloader *d = conf_downloader(r->c, id);
	struct ev_alert_state as;
	struct alert_msg m;
	unsigned long long held_hash = 0;
	char key[DLT_BUFSZ];
	time_t last;
	int err, dropped = 0;

	if (d == NULL || d->expect_every_hours <= 0)
		return DL_OK;
	if (h->nfail > 0)
		last = h->fail[h->nfail - 1].ts;
	else if (h->have_success)
		last = h->success_ts;
	else
		return DL_OK;
	dlt_format(last, key);
	if ((err = store_alert_drop_stale(r->st, SA_SILENT, id, key, &dropped)) != DL_OK)
		return err;
	r->stats->dropped += (unsigned long)dropped;
	if ((double)(r->now - last) < d->expect_every_hours * 3600.0)
		return DL_OK;
	if ((err = store_alert_state(r->st, SA_SILENT, id, key, &as, &held_hash)) != DL_OK)
		return err;
	if (as.status == EV_AS_SENT ||
	    (as.status == EV_AS_HELD && held_hash == r->nhash))
		return DL_OK;
	alert_compose_silent(conf_display_name(r->c, id), last, r->now, &m);
	return deliver(r, SA_SILENT, id, key, last, 0, NULL, &m);
}

static int
check_downloader(struct run *r, const char *id)
{
	struct ev_history h;
	struct ev_alert_state as;
	struct ev_params p;
	struct ev_decision d;
	struct alert_msg m;
	unsigned long long held_hash = 0;
	char key[EV_STREAK_KEY_MAX];
	int err, dropped = 0;

	if ((err = store_history_load(r->st, id, r->now, &h)) != DL_OK)
		return err;
	ev_streak_key(&h, key);
	/* Alerts are about the present: a pending alert whose streak ended is
	 * dropped, never delivered late. */
	if ((err = store_alert_drop_stale(r->st, SA_FAILING, id, key, &dropped)) != DL_OK)
		return err;
	r->stats->dropped += (unsigned long)dropped;
	if (r->c->mon.notify_recovery &&
	    (err = check_recovery(r, id, key, &h)) != DL_OK)
		return err;
	if ((err = check_silence(r, id, &h)) != DL_OK)
		return err;
	if (h.nfail == 0)
		return DL_OK;

	if ((err = store_alert_state(r->st, SA_FAILING, id, key, &as, &held_hash)) != DL_OK)
		return err;
	monitor_params(r->c, id, &p);
	ev_evaluate(&h, &as, &p, r->now, &d);
	msg_verbose("%s: streak %s: %zu failure%s, %s%s", id, key, h.nfail,
	    h.nfail == 1 ? "" : "s", d.failing ? "failing" : "not failing",
	    d.alerted ? ", alerted already" : "");
	if (!d.alert)
		return DL_OK;
	if (as.status == EV_AS_HELD && held_hash == r->nhash) {
		msg_verbose("%s: alert held after a refusal; waiting for new "
		    "notifier settings", id);
		return DL_OK;
	}
	alert_compose_failing(conf_display_name(r->c, id), &h, r->now, &m);
	return deliver(r, SA_FAILING, id, key, d.first_fail_ts, h.nfail, h.fail, &m);
}

void
monitor_params(const struct conf *c, const char *id, struct ev_params *p)
{
	p->window_hours = conf_window_hours(c, id);
	p->min_failures = conf_min_failures(c, id);
	p->max_age_hours = c->mon.max_alert_age_hours;
	p->repeat_hours = c->mon.repeat_hours;
}

int
monitor_run(const struct conf *c, struct store *st, struct notifier *n,
    FILE *show, time_t now, struct monitor_stats *stats)
{
	struct run r = { c, st, n, show, now, stats, conf_notifier_hash(c) };
	char **ids = NULL;
	size_t nids = 0, i;
	int err;

	memset(stats, 0, sizeof *stats);
	if (!c->mon.enabled) {
		msg_verbose("monitoring is disabled: nothing evaluated");
		return DL_OK;
	}
	if ((err = store_downloaders(st, &ids, &nids)) != DL_OK)
		return err;
	for (i = 0; i < nids; i++) {
		if (!conf_downloader_enabled(c, ids[i]))
			continue;
		if ((err = check_downloader(&r, ids[i])) != DL_OK)
			break;
	}
	store_history_clear(st);
	store_keys_free(ids, nids);
	return err;
}
