/*
 * report.c — the dashboard page.  See report.h.
 *
 * The page is built in memory and written in one go, so a database error
 * leaves no file behind and a reader never sees half a page.  The state of
 * each downloader comes from the same functions a scan uses
 * (store_history_load, store_alert_state, ev_evaluate), so the page cannot
 * disagree with what dlmon-scan decides.  Stored timestamps are local time
 * "YYYY-MM-DDTHH:MM:SS", so their first 10 characters are the local day the
 * chart counts in; the rows are bounded by "< now + 1 s" (as the store does)
 * so that rows written with fractions of a second at now are kept.
 */
#include "report.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "alert.h"
#include "eval.h"
#include "monitor.h"

#ifndef DLMON_VERSION
#define DLMON_VERSION "dev"
#endif

#define NDAYS 7
#define TEXT_MAX 300     /* code points shown of one value: errors may be 1 MiB lines */

/* Per downloader: last success and last attempt (all-time up to now: the
 * max() probes of dlmon_idx_dm_identity / dlmon_idx_dm_last), then the 24-hour
 * and 7-day counts from one range search of (downloader, timestamp). */
static const char stats_sql[] =
    "SELECT"
    " (SELECT substr(max(timestamp), 1, 19) FROM download_monitor"
    "   WHERE downloader = ?1 AND success = 1 AND timestamp < ?2),"
    " (SELECT substr(max(timestamp), 1, 19) FROM download_monitor"
    "   WHERE downloader = ?1 AND timestamp < ?2),"
    " count(*) FILTER (WHERE timestamp >= ?3),"
    " count(*) FILTER (WHERE timestamp >= ?3 AND success = 1),"
    " coalesce(sum(file_count) FILTER (WHERE timestamp >= ?3), 0),"
    " count(*), count(*) FILTER (WHERE success = 1), coalesce(sum(file_count), 0)"
    " FROM download_monitor WHERE downloader = ?1 AND timestamp >= ?4 AND timestamp < ?2";

static const char days_sql[] =
    "SELECT substr(timestamp, 1, 10), count(*) FILTER (WHERE success = 1),"
    " count(*) FILTER (WHERE success = 0)"
    " FROM download_monitor WHERE downloader = ?1 AND timestamp >= ?2 AND timestamp < ?3"
    " GROUP BY 1";

/* The latest failures of one downloader; merged across downloaders in C, so
 * that each query is a short backwards walk of (downloader, success,
 * timestamp) however rare failures are. */
static const char fails_sql[] =
    "SELECT substr(timestamp, 1, 19), id, username, error_message, alert_sent"
    " FROM download_monitor WHERE downloader = ?1 AND success = 0 AND timestamp < ?2"
    " ORDER BY timestamp DESC, id DESC LIMIT ?3";

/* A growing page with a sticky error: the many small appends are checked
 * once, at the end. */
struct page {
	struct strbuf sb;
	int err;
};

struct fail_row {
	char ts[DLT_BUFSZ + 4];
	long long id;
	char *dl, *user, *error;
	int alert_sent;
};

struct report {
	const struct conf *c;
	struct store *st;
	time_t now;
	sqlite3_stmt *stats, *days, *fails;
	char upto[DLT_BUFSZ], since24[DLT_BUFSZ], since7[DLT_BUFSZ], day0[DLT_BUFSZ];
	char daykey[NDAYS][16];        /* "YYYY-MM-DD" */
	char daylabel[NDAYS][16];      /* "Thu 13" */
	struct fail_row *rows;
	size_t nrows, cap;
	struct page cards;             /* the downloaders' cards */
	struct page links;             /* links to the failing ones, for the summary */
	int ndl, nfailing;
};

static void pg_printf(struct page *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
pg_printf(struct page *p, const char *fmt, ...)
{
	char small[512], *big;
	va_list ap;
	int n;

	if (p->err != DL_OK)
		return;
	va_start(ap, fmt);
	n = vsnprintf(small, sizeof small, fmt, ap);
	va_end(ap);
	if (n < 0) {
		p->err = DL_EFAIL;
		return;
	}
	if ((size_t)n < sizeof small) {
		p->err = sb_append(&p->sb, small, (size_t)n);
		return;
	}
	if ((big = malloc((size_t)n + 1)) == NULL) {
		p->err = DL_ENOMEM;
		return;
	}
	va_start(ap, fmt);
	vsnprintf(big, (size_t)n + 1, fmt, ap);
	va_end(ap);
	p->err = sb_append(&p->sb, big, (size_t)n);
	free(big);
}

static void
pg_puts(struct page *p, const char *s)
{
	if (p->err == DL_OK)
		p->err = sb_puts(&p->sb, s);
}

/*
 * Text from the database into the page: invalid UTF-8 replaced, control
 * characters removed, at most max_chars code points, then the five
 * characters that matter in HTML text and attribute values escaped.  NULL
 * writes `none`.
 */
static void
pg_text(struct page *p, const char *s, size_t max_chars, const char *none)
{
	char clean[TEXT_MAX * 4 + 8];
	const char *q, *rep;
	size_t start = 0, i;

	if (s == NULL) {
		pg_puts(p, none);
		return;
	}
	alert_sanitize(clean, sizeof clean, s, strlen(s),
	    max_chars < TEXT_MAX ? max_chars : TEXT_MAX, 0);
	for (i = 0, q = clean; q[i] != '\0'; i++) {
		switch (q[i]) {
		case '&': rep = "&amp;"; break;
		case '<': rep = "&lt;"; break;
		case '>': rep = "&gt;"; break;
		case '"': rep = "&quot;"; break;
		case '\'': rep = "&#39;"; break;
		default: continue;
		}
		if (p->err == DL_OK && i > start)
			p->err = sb_append(&p->sb, q + start, i - start);
		pg_puts(p, rep);
		start = i + 1;
	}
	if (p->err == DL_OK && i > start)
		p->err = sb_append(&p->sb, q + start, i - start);
}

/* A stored timestamp shown with a space for its 'T', and how long ago. */
static void
pg_time(struct page *p, const char *ts, time_t now)
{
	char shown[DLT_BUFSZ], ago[64];
	time_t t;

	if (ts == NULL) {
		pg_puts(p, "never");
		return;
	}
	snprintf(shown, sizeof shown, "%s", ts);
	if (strlen(shown) > 10 && shown[10] == 'T')
		shown[10] = ' ';
	pg_text(p, shown, DLT_BUFSZ, "");
	if (dlt_parse_db(ts, &t) == 0) {
		alert_ago((long long)now - (long long)t, ago, sizeof ago);
		pg_printf(p, " <span class=\"ago\">(%s)</span>", ago);
	}
}

static const char *
col_text(sqlite3_stmt *s, int i)
{
	return (const char *)sqlite3_column_text(s, i);
}

/* The bounds of the queries and the chart's 7 local days (today last).
 * Days are stepped at noon, so that a daylight-saving change cannot skip
 * or repeat one. */
static void
report_bounds(struct report *r)
{
	static const char *const wday[] = { "Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat" };
	struct tm base, tm;
	int i;

	dlt_format(r->now + 1, r->upto);
	dlt_format(r->now - 24 * 3600, r->since24);
	dlt_format(r->now - 7 * 24 * 3600, r->since7);
	localtime_r(&r->now, &base);
	for (i = 0; i < NDAYS; i++) {
		time_t t;
		tm = base;
		tm.tm_mday -= NDAYS - 1 - i;
		tm.tm_hour = 12;
		tm.tm_min = tm.tm_sec = 0;
		tm.tm_isdst = -1;
		t = mktime(&tm);
		localtime_r(&t, &tm);
		strftime(r->daykey[i], sizeof r->daykey[i], "%Y-%m-%d", &tm);
		snprintf(r->daylabel[i], sizeof r->daylabel[i], "%s %d",
		    wday[tm.tm_wday % 7], tm.tm_mday);
	}
	snprintf(r->day0, sizeof r->day0, "%.10sT00:00:00", r->daykey[0]);
}

/* Attempts per chart day: ok[i] successes and bad[i] failures. */
static int
load_days(struct report *r, const char *id, long long ok[NDAYS], long long bad[NDAYS])
{
	int rc, i;

	memset(ok, 0, NDAYS * sizeof *ok);
	memset(bad, 0, NDAYS * sizeof *bad);
	sqlite3_reset(r->days);
	sqlite3_bind_text(r->days, 1, id, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(r->days, 2, r->day0, -1, SQLITE_STATIC);
	sqlite3_bind_text(r->days, 3, r->upto, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(r->days)) == SQLITE_ROW) {
		const char *day = col_text(r->days, 0);
		for (i = 0; day != NULL && i < NDAYS; i++)
			if (strcmp(day, r->daykey[i]) == 0) {
				ok[i] = sqlite3_column_int64(r->days, 1);
				bad[i] = sqlite3_column_int64(r->days, 2);
			}
	}
	sqlite3_reset(r->days);
	return rc == SQLITE_DONE ? DL_OK : store_fail(r->st, rc);
}

/*
 * The chart: one stacked bar per day (successes below, failures above),
 * scaled to the downloader's busiest day, its total over it, the day under
 * it, and a <title> a browser shows on hover.
 */
static void
render_chart(struct report *r, struct page *p, const long long ok[NDAYS],
    const long long bad[NDAYS])
{
	const double top = 18, base = 112, slot = 50, barw = 30;
	long long max = 0;
	int i;

	for (i = 0; i < NDAYS; i++)
		if (ok[i] + bad[i] > max)
			max = ok[i] + bad[i];
	pg_puts(p, "<svg class=\"chart\" viewBox=\"0 0 350 134\" role=\"img\" "
	    "aria-label=\"Attempts per day over the last 7 days\">\n");
	pg_printf(p, "<line class=\"axis\" x1=\"4\" y1=\"%.0f\" x2=\"346\" y2=\"%.0f\"/>\n",
	    base, base);
	if (max == 0)
		pg_puts(p, "<text class=\"none\" x=\"175\" y=\"66\">no attempts in these 7 days</text>\n");
	for (i = 0; i < NDAYS; i++) {
		double x = i * slot + (slot - barw) / 2, cx = i * slot + slot / 2;
		double hok = 0, hbad = 0;
		if (max > 0) {
			hok = (base - top) * (double)ok[i] / (double)max;
			hbad = (base - top) * (double)bad[i] / (double)max;
			/* a day with attempts is never invisible */
			if (ok[i] > 0 && hok < 2)
				hok = 2;
			if (bad[i] > 0 && hbad < 2)
				hbad = 2;
		}
		pg_printf(p, "<g><title>%s: %lld successful, %lld failed</title>",
		    r->daykey[i], ok[i], bad[i]);
		if (ok[i] > 0)
			pg_printf(p, "<rect class=\"ok\" x=\"%.1f\" y=\"%.1f\" width=\"%.0f\" "
			    "height=\"%.1f\"/>", x, base - hok, barw, hok);
		if (bad[i] > 0)
			pg_printf(p, "<rect class=\"bad\" x=\"%.1f\" y=\"%.1f\" width=\"%.0f\" "
			    "height=\"%.1f\"/>", x, base - hok - hbad, barw, hbad);
		if (ok[i] + bad[i] > 0)
			pg_printf(p, "<text class=\"n\" x=\"%.1f\" y=\"%.1f\">%lld</text>",
			    cx, base - hok - hbad - 4, ok[i] + bad[i]);
		pg_printf(p, "<text class=\"day\" x=\"%.1f\" y=\"128\">%s</text></g>\n",
		    cx, r->daylabel[i]);
	}
	pg_puts(p, "</svg>\n");
}

/* "66.7 %" with "(2 of 3)", or a dash without attempts. */
static void
render_rate(struct page *p, const char *cls, long long ok, long long total)
{
	if (total == 0)
		pg_printf(p, "<dd class=\"%s\">– <span class=\"ago\">(no attempts)</span></dd>\n", cls);
	else
		pg_printf(p, "<dd class=\"%s\">%.1f %% <span class=\"ago\">(%lld of %lld)</span></dd>\n",
		    cls, 100.0 * (double)ok / (double)total, ok, total);
}

/* Last success/attempt, rates and files of downloader id. */
static int
render_stats(struct report *r, struct page *p, const char *id)
{
	sqlite3_stmt *s = r->stats;
	int rc;

	sqlite3_reset(s);
	sqlite3_bind_text(s, 1, id, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(s, 2, r->upto, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 3, r->since24, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 4, r->since7, -1, SQLITE_STATIC);
	if ((rc = sqlite3_step(s)) != SQLITE_ROW)
		return store_fail(r->st, rc);
	pg_puts(p, "<dl class=\"stats\">\n<dt>Last success</dt><dd class=\"last-success\">");
	pg_time(p, col_text(s, 0), r->now);
	pg_puts(p, "</dd>\n<dt>Last attempt</dt><dd class=\"last-attempt\">");
	pg_time(p, col_text(s, 1), r->now);
	pg_puts(p, "</dd>\n<dt>Success, 24 h</dt>");
	render_rate(p, "rate-24h", sqlite3_column_int64(s, 3), sqlite3_column_int64(s, 2));
	pg_puts(p, "<dt>Success, 7 days</dt>");
	render_rate(p, "rate-7d", sqlite3_column_int64(s, 6), sqlite3_column_int64(s, 5));
	pg_printf(p, "<dt>Files</dt><dd class=\"files\">%lld "
	    "<span class=\"ago\">(24 h)</span> · %lld <span class=\"ago\">(7 days)</span></dd>\n</dl>\n",
	    sqlite3_column_int64(s, 4), sqlite3_column_int64(s, 7));
	sqlite3_reset(s);
	return DL_OK;
}

/* What became of the failing streak's alert, in dlmon_alerts' words. */
static void
render_alert(struct report *r, struct page *p, const struct ev_decision *d,
    const struct ev_alert_state *as)
{
	char when[DLT_BUFSZ];

	pg_puts(p, "<p class=\"alert\">");
	if (as->status == EV_AS_SENT) {
		pg_puts(p, "Alert sent");
		if (as->sent_at > 0) {
			dlt_format(as->sent_at, when);
			when[10] = ' ';
			pg_printf(p, " at %s", when);
		}
		if (d->alert)
			pg_puts(p, "; a reminder is due");
	} else if (as->status == EV_AS_PENDING)
		pg_puts(p, "Alert pending: not delivered yet, retried at the next scan");
	else if (as->status == EV_AS_HELD)
		pg_puts(p, "Alert held: Pushover refused it; it is retried once the "
		    "notifier settings change");
	else if (d->alerted)
		pg_puts(p, "Alerted already (alert_sent is set on its failures)");
	else if (d->alert && !r->c->po.enabled)
		pg_puts(p, "No alert: Pushover is disabled");
	else if (d->alert)
		pg_puts(p, "Alert due: the next scan sends it");
	else
		pg_printf(p, "No alert: the latest failure is older than "
		    "max_alert_age_hours (%g h)", r->c->mon.max_alert_age_hours);
	pg_puts(p, "</p>\n");
}

/* The state line(s) of a card; returns its CSS class (ok, warn, bad, off). */
static const char *
render_state(struct report *r, struct page *p, const char *id, const struct ev_history *h,
    const struct ev_decision *d, const struct ev_alert_state *as)
{
	const char *cls = "ok";
	char since[DLT_BUFSZ], dur[64];
	int monitored = r->c->mon.enabled && conf_downloader_enabled(r->c, id);

	if (!monitored) {
		cls = "off";
		pg_printf(p, "<p class=\"state\"><span class=\"badge off\">NOT MONITORED</span> %s</p>\n",
		    r->c->mon.enabled ? "disabled in the configuration" : "monitoring is disabled");
	} else if (d->failing) {
		cls = "bad";
		if (r->nfailing++ > 0)
			pg_puts(&r->links, ", ");
		pg_puts(&r->links, "<a href=\"#dl-");
		pg_text(&r->links, id, 64, "");
		pg_puts(&r->links, "\">");
		pg_text(&r->links, conf_display_name(r->c, id), 64, "");
		pg_puts(&r->links, "</a>");
		dlt_format(d->first_fail_ts, since);
		since[10] = ' ';
		alert_duration((long long)r->now - (long long)d->first_fail_ts, dur, sizeof dur);
		pg_printf(p, "<p class=\"state\"><span class=\"badge bad\">FAILING</span> "
		    "<span class=\"streak\">%zu consecutive failure%s</span> since %s "
		    "<span class=\"ago\">(%s)</span></p>\n",
		    h->nfail, h->nfail == 1 ? "" : "s", since, dur);
	} else if (h->nfail > 0) {
		cls = "warn";
		pg_printf(p, "<p class=\"state\"><span class=\"badge warn\">OK</span> "
		    "<span class=\"streak\">%zu failure%s</span> since the last success "
		    "(failing takes %d within %g h)</p>\n", h->nfail, h->nfail == 1 ? "" : "s",
		    conf_min_failures(r->c, id), conf_window_hours(r->c, id));
	} else
		pg_puts(p, "<p class=\"state\"><span class=\"badge ok\">OK</span> "
		    "no failure since the last success</p>\n");
	if (monitored && d->failing)
		render_alert(r, p, d, as);
	if (h->nfail > 0) {
		pg_puts(p, "<p class=\"latest\">Latest failure");
		if (h->last_user) {
			pg_puts(p, " (<span class=\"user\">");
			pg_text(p, h->last_user, 64, "");
			pg_puts(p, "</span>)");
		}
		pg_puts(p, ": <span class=\"error\">");
		pg_text(p, h->last_error, 200, "(no error text)");
		pg_puts(p, "</span></p>\n");
	}
	return cls;
}

/* Keep downloader id's latest failures for the table (merged later). */
static int
collect_failures(struct report *r, const char *id)
{
	int rc, err = DL_OK;

	sqlite3_reset(r->fails);
	sqlite3_bind_text(r->fails, 1, id, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(r->fails, 2, r->upto, -1, SQLITE_STATIC);
	sqlite3_bind_int(r->fails, 3, REPORT_FAILURES);
	while ((rc = sqlite3_step(r->fails)) == SQLITE_ROW) {
		struct fail_row *f;
		if (r->nrows == r->cap) {
			size_t cap = r->cap ? r->cap * 2 : 64;
			struct fail_row *nr = realloc(r->rows, cap * sizeof *nr);
			if (nr == NULL) {
				err = DL_ENOMEM;
				goto out;
			}
			r->rows = nr;
			r->cap = cap;
		}
		f = &r->rows[r->nrows];
		memset(f, 0, sizeof *f);
		snprintf(f->ts, sizeof f->ts, "%s", col_text(r->fails, 0) ? col_text(r->fails, 0) : "");
		f->id = sqlite3_column_int64(r->fails, 1);
		f->alert_sent = sqlite3_column_int(r->fails, 4);
		f->dl = strdup(id);
		f->user = dl_strdup(col_text(r->fails, 2));
		f->error = dl_strdup(col_text(r->fails, 3));
		r->nrows++;
		if (f->dl == NULL || (col_text(r->fails, 2) && f->user == NULL) ||
		    (col_text(r->fails, 3) && f->error == NULL)) {
			err = DL_ENOMEM;
			goto out;
		}
	}
	if (rc != SQLITE_DONE)
		err = store_fail(r->st, rc);
out:
	if (err == DL_ENOMEM)
		msg_err("out of memory");
	sqlite3_reset(r->fails);
	return err;
}


/* One downloader's card, into r->cards: its body is built first, since the
 * card's class (its colour) depends on the state found on the way. */
static int
render_card(struct report *r, const char *id)
{
	struct page body = { { 0 }, DL_OK }, *p = &r->cards;
	struct ev_history h;
	struct ev_alert_state as;
	struct ev_params prm;
	struct ev_decision d;
	unsigned long long held_hash;
	long long ok[NDAYS], bad[NDAYS];
	char key[EV_STREAK_KEY_MAX];
	const char *cls;
	int err;

	if ((err = store_history_load(r->st, id, r->now, &h)) != DL_OK)
		goto out;
	ev_streak_key(&h, key);
	if ((err = store_alert_state(r->st, SA_FAILING, id, key, &as, &held_hash)) != DL_OK)
		goto out;
	monitor_params(r->c, id, &prm);
	ev_evaluate(&h, &as, &prm, r->now, &d);

	cls = render_state(r, &body, id, &h, &d, &as);
	if ((err = render_stats(r, &body, id)) != DL_OK ||
	    (err = load_days(r, id, ok, bad)) != DL_OK ||
	    (err = collect_failures(r, id)) != DL_OK)
		goto out;
	render_chart(r, &body, ok, bad);
	pg_puts(&body, "<p class=\"legend\"><span class=\"key ok\"></span>successful"
	    "<span class=\"key bad\"></span>failed &nbsp;<span class=\"ago\">attempts per day"
	    "</span></p>\n");

	pg_printf(p, "<section class=\"card %s\" id=\"dl-", cls);
	pg_text(p, id, 64, "");
	pg_puts(p, "\">\n<h2>");
	pg_text(p, conf_display_name(r->c, id), 64, "");
	pg_puts(p, " <span class=\"id\">");
	pg_text(p, id, 64, "");
	pg_puts(p, "</span></h2>\n");
	if (body.err == DL_OK && body.sb.len > 0 && p->err == DL_OK)
		p->err = sb_append(&p->sb, body.sb.buf, body.sb.len);
	if (body.err != DL_OK && p->err == DL_OK)
		p->err = body.err;
	pg_puts(p, "</section>\n");
	r->ndl++;
out:
	sb_free(&body.sb);
	return err;
}

/* Newest first: timestamp, then id (as `dlmon history`). */
static int
cmp_fail(const void *a, const void *b)
{
	const struct fail_row *x = a, *y = b;
	int c = strcmp(y->ts, x->ts);

	if (c != 0)
		return c;
	return (y->id > x->id) - (y->id < x->id);
}

static void
render_failures(struct report *r, struct page *p)
{
	size_t i, n = r->nrows < REPORT_FAILURES ? r->nrows : REPORT_FAILURES;

	if (r->nrows > 1)
		qsort(r->rows, r->nrows, sizeof *r->rows, cmp_fail);
	pg_printf(p, "<h2>Latest failures</h2>\n");
	if (n == 0) {
		pg_puts(p, "<p class=\"empty\">No failure recorded.</p>\n");
		return;
	}
	pg_puts(p, "<div class=\"wide\"><table class=\"failures\">\n<thead><tr><th>Time</th><th>Downloader</th>"
	    "<th>User</th><th>Error</th><th>Alerted</th></tr></thead>\n<tbody>\n");
	for (i = 0; i < n; i++) {
		const struct fail_row *f = &r->rows[i];
		char ts[DLT_BUFSZ + 4];
		snprintf(ts, sizeof ts, "%s", f->ts);
		if (strlen(ts) > 10 && ts[10] == 'T')
			ts[10] = ' ';
		pg_puts(p, "<tr><td class=\"time\">");
		pg_text(p, ts, DLT_BUFSZ, "");
		pg_puts(p, "</td><td class=\"dl\">");
		pg_text(p, conf_display_name(r->c, f->dl), 64, "");
		pg_puts(p, "</td><td class=\"user\">");
		pg_text(p, f->user, 64, "–");
		pg_puts(p, "</td><td class=\"error\">");
		pg_text(p, f->error, TEXT_MAX, "–");
		pg_printf(p, "</td><td class=\"sent\">%s</td></tr>\n", f->alert_sent ? "yes" : "");
	}
	pg_puts(p, "</tbody>\n</table></div>\n");
}

static const char page_css[] =
    ":root{--ok:#2e7d32;--bad:#c62828;--warn:#a86400;--off:#6b7177;--fg:#1d2125;"
    "--muted:#5f6b76;--bg:#f3f5f7;--card:#fff;--line:#d8dee4}\n"
    "*{box-sizing:border-box}\n"
    "body{margin:0;font:15px/1.45 system-ui,-apple-system,\"Segoe UI\",Roboto,"
    "\"DejaVu Sans\",sans-serif;color:var(--fg);background:var(--bg)}\n"
    "header,main{max-width:1240px;margin:0 auto;padding:12px 24px}\n"
    "h1{font-size:24px;margin:8px 0 4px}h1 span{font-weight:400;color:var(--muted)}\n"
    "main>h2{font-size:19px;margin:28px 0 10px}\n"
    ".summary{font-size:17px;margin:4px 0}.summary.bad{color:var(--bad);font-weight:600}\n"
    ".summary a{color:inherit}.generated{color:var(--muted);margin:0}\n"
    ".cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(min(360px,100%),1fr));gap:16px}\n"
    ".card{background:var(--card);border:1px solid var(--line);border-top:5px solid var(--ok);"
    "border-radius:8px;padding:12px 16px;min-width:0}\n"
    ".card.bad{border-top-color:var(--bad)}.card.warn{border-top-color:var(--warn)}"
    ".card.off{border-top-color:var(--off)}\n"
    ".card h2{font-size:18px;margin:0 0 6px;overflow-wrap:anywhere}"
    ".id{font-weight:400;font-size:13px;color:var(--muted)}\n"
    ".badge{display:inline-block;padding:1px 8px;border-radius:10px;color:#fff;font-size:12px;"
    "font-weight:700;letter-spacing:.04em;margin-right:4px}\n"
    ".badge.ok{background:var(--ok)}.badge.bad{background:var(--bad)}"
    ".badge.warn{background:var(--warn)}.badge.off{background:var(--off)}\n"
    ".state,.alert,.latest{margin:4px 0}.alert{font-weight:600}\n"
    ".latest{color:var(--muted);font-size:13px;overflow-wrap:anywhere}\n"
    ".stats{display:grid;grid-template-columns:max-content 1fr;gap:2px 12px;margin:10px 0;"
    "font-size:13.5px}\n"
    ".stats dt{color:var(--muted)}.stats dd{margin:0}.stats .ago{white-space:nowrap}"
    ".ago{color:var(--muted);font-size:12px}\n"
    ".chart{width:100%;height:auto;display:block;margin-top:4px}\n"
    ".chart rect.ok{fill:var(--ok)}.chart rect.bad{fill:var(--bad)}"
    ".chart .axis{stroke:var(--line)}\n"
    ".chart text{font-size:11px;fill:var(--muted);text-anchor:middle}.chart text.n{fill:var(--fg)}\n"
    ".legend{font-size:12px;color:var(--muted);margin:2px 0 0}\n"
    ".key{display:inline-block;width:10px;height:10px;border-radius:2px;margin:0 4px 0 10px}"
    ".key.ok{background:var(--ok)}.key.bad{background:var(--bad)}\n"
    "table.failures{width:100%;border-collapse:collapse;background:var(--card);"
    "border:1px solid var(--line);font-size:14px}\n"
    "th,td{text-align:left;padding:6px 10px;border-bottom:1px solid var(--line);vertical-align:top}\n"
    "th{background:#eef1f4}td.time{white-space:nowrap}td.error{overflow-wrap:anywhere;width:50%}\n"
    ".wide{overflow-x:auto}.empty{color:var(--muted)}\n";

/* Everything around the cards: head, summary, the failures, the end. */
static void
render_page(struct report *r, struct page *p)
{
	char gen[DLT_BUFSZ], zone[16] = "";
	struct tm tm;

	dlt_format(r->now, gen);
	gen[10] = ' ';
	if (localtime_r(&r->now, &tm) != NULL)
		strftime(zone, sizeof zone, " %Z", &tm);
	/* No script may run even if a value escaped escaping: the policy
	 * allows the inline style and nothing else. */
	pg_printf(p, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
	    "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
	    "style-src 'unsafe-inline'\">\n"
	    "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
	    "<meta name=\"generator\" content=\"dlmon %s\">\n"
	    "<title>dlmon — downloaders</title>\n<style>\n%s</style>\n</head>\n<body>\n"
	    "<header>\n<h1>dlmon <span>downloaders</span></h1>\n", DLMON_VERSION, page_css);
	if (r->ndl == 0)
		pg_puts(p, "<p class=\"summary\">No attempts recorded yet.</p>\n");
	else if (r->nfailing == 0)
		pg_printf(p, "<p class=\"summary\">%s %d downloader%s OK.</p>\n",
		    r->ndl == 1 ? "The" : "All", r->ndl, r->ndl == 1 ? "" : "s");
	else {
		pg_printf(p, "<p class=\"summary bad\">%d of %d downloader%s failing: ",
		    r->nfailing, r->ndl, r->ndl == 1 ? "" : "s");
		if (r->links.err == DL_OK && r->links.sb.len > 0)
			pg_puts(p, r->links.sb.buf);
		pg_puts(p, "</p>\n");
	}
	if (!r->c->mon.enabled)
		pg_puts(p, "<p class=\"summary bad\">Monitoring is disabled: nothing alerts.</p>\n");
	pg_printf(p, "<p class=\"generated\">Generated <time class=\"now\">%s%s</time> "
	    "by dlmon %s</p>\n</header>\n<main>\n<div class=\"cards\">\n", gen, zone, DLMON_VERSION);
	if (r->cards.err == DL_OK && r->cards.sb.len > 0)
		pg_puts(p, r->cards.sb.buf);
	pg_puts(p, "</div>\n");
	render_failures(r, p);
	pg_puts(p, "</main>\n</body>\n</html>\n");
}

/* report_html: see report.h. */
int
report_html(const struct conf *c, struct store *st, time_t now, struct strbuf *out)
{
	struct report r;
	struct page p = { { 0 }, DL_OK };
	char **ids = NULL;
	size_t nids = 0, i;
	int err;

	memset(&r, 0, sizeof r);
	r.c = c;
	r.st = st;
	r.now = now;
	report_bounds(&r);
	if ((err = store_downloaders(st, &ids, &nids)) != DL_OK)
		goto out;
	/* A database without download_monitor has no downloader: no query. */
	if (nids > 0 &&
	    ((err = store_prepare(st, stats_sql, &r.stats)) != DL_OK ||
	    (err = store_prepare(st, days_sql, &r.days)) != DL_OK ||
	    (err = store_prepare(st, fails_sql, &r.fails)) != DL_OK))
		goto out;
	for (i = 0; i < nids; i++)
		if ((err = render_card(&r, ids[i])) != DL_OK)
			goto out;
	render_page(&r, &p);
	if ((err = r.cards.err) == DL_OK && (err = r.links.err) == DL_OK &&
	    (err = p.err) == DL_OK)
		err = sb_append(out, p.sb.buf, p.sb.len);
	if (err != DL_OK)
		msg_err("the dashboard page: out of memory");
out:
	for (i = 0; i < r.nrows; i++) {
		free(r.rows[i].dl);
		free(r.rows[i].user);
		free(r.rows[i].error);
	}
	free(r.rows);
	sqlite3_finalize(r.stats);
	sqlite3_finalize(r.days);
	sqlite3_finalize(r.fails);
	store_history_clear(st);
	store_keys_free(ids, nids);
	sb_free(&r.cards.sb);
	sb_free(&r.links.sb);
	sb_free(&p.sb);
	return err;
}

/* Write len bytes of data to path through a temporary file in its folder
 * and a rename, so that a reader sees the old page or the new one. */
static int
write_atomic(const char *path, const char *data, size_t len)
{
	char *tmp = NULL;
	size_t off = 0;
	int fd = -1, err = DL_EFAIL, saved = 0;

	if ((tmp = malloc(strlen(path) + 8)) == NULL) {
		msg_err("%s: out of memory", path);
		return DL_ENOMEM;
	}
	sprintf(tmp, "%s.XXXXXX", path);
	if ((fd = mkstemp(tmp)) < 0) {
		msg_err("%s: cannot create a temporary file next to it: %s", path, strerror(errno));
		free(tmp);
		return DL_EFAIL;
	}
	/* 0644 whatever the umask: the page is for the web server to read */
	if (fchmod(fd, 0644) != 0) {
		saved = errno;
		goto out;
	}
	while (off < len) {
		ssize_t n = write(fd, data + off, len - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			saved = errno;
			goto out;
		}
		off += (size_t)n;
	}
	if (fsync(fd) != 0) {
		saved = errno;
		goto out;
	}
	if (close(fd) != 0) {
		saved = errno;
		fd = -1;           /* close(2) is not retried, even when it failed */
		goto out;
	}
	fd = -1;
	if (rename(tmp, path) != 0) {
		saved = errno;
		goto out;
	}
	err = DL_OK;
out:
	if (fd >= 0)
		close(fd);
	if (err != DL_OK) {
		msg_err("%s: %s", path, strerror(saved));
		unlink(tmp);
	}
	free(tmp);
	return err;
}

/* report_html_write: see report.h. */
int
report_html_write(const struct conf *c, struct store *st, time_t now, const char *path)
{
	struct strbuf page = { 0 };
	int err;

	if ((err = report_html(c, st, now, &page)) == DL_OK)
		err = write_atomic(path, page.buf ? page.buf : "", page.len);
	sb_free(&page);
	return err;
}
