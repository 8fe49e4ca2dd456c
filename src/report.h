/*
 * report.h — the dashboard page (`dlmon report --html FILE`): one
 * self-contained static HTML file (inline CSS, inline SVG charts, no script,
 * no external resource), so that it renders offline from any folder a web
 * server or a browser can read.
 *
 * Per downloader with attempts: its state under the alert rule (OK, or
 * FAILING with the streak's length and first failure, and what became of
 * its alert in dlmon_alerts), last success, last attempt, success rates
 * over the last 24 hours and 7 days, files downloaded, and a chart of the
 * attempts per calendar day (successes and failures) over the last 7 days;
 * then the 20 latest failures.  Everything is as of `now` (--now): later
 * attempts are left out.  Every value read from the database is
 * HTML-escaped, after invalid UTF-8 is replaced and control characters
 * removed: usernames and errors come from the internet.
 *
 * Error convention: see util.h.  Database errors name the database
 * (DL_EFAIL, DL_EBUSY); a file that cannot be written names FILE (DL_EFAIL).
 */
#ifndef DLMON_REPORT_H
#define DLMON_REPORT_H

#include <time.h>

#include "conf.h"
#include "store.h"
#include "util.h"

/* How many of the latest failures the page lists. */
#define REPORT_FAILURES 20

/*
 * report_html: append the page for st at now to out.  c gives display names
 * and the rule's parameters (apply the settings rows first: settings.h).
 * st may be read-only; a database without dlmon's tables is reported from
 * download_monitor alone.
 */
int report_html(const struct conf *c, struct store *st, time_t now, struct strbuf *out);

/*
 * report_html_write: report_html into path, atomically: written to a
 * temporary file in the same folder, flushed to disk, made mode 0644 and
 * renamed over path.  On failure path is untouched and no temporary file is
 * left.
 */
int report_html_write(const struct conf *c, struct store *st, time_t now, const char *path);

#endif
