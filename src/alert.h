/*
 * alert.h — the texts of notifications, exactly as SPEC and the seed show
 * them.  Pure: no I/O, no clock.
 *
 * Error convention: see util.h.
 */
#ifndef DLMON_ALERT_H
#define DLMON_ALERT_H

#include <stddef.h>
#include <time.h>

#include "eval.h"

#define ALERT_TITLE_MAX 250        /* characters (code points) */
#define ALERT_MESSAGE_MAX 1024

struct alert_msg {
	char title[ALERT_TITLE_MAX * 4 + 1];     /* UTF-8, NUL-terminated */
	char message[ALERT_MESSAGE_MAX * 4 + 1];
	time_t timestamp;                        /* Pushover's timestamp field */
};

/*
 * alert_compose_failing: "🚨 <display> Failing" and the seed's message:
 *   Downloader has been failing for N+ hours   (from the first failure to now)
 *   Username: <latest failure's user>           (left out when unknown)
 *   Consecutive Failures: <streak length>
 *   Last Success: N minutes/hours/days ago | never
 *   Latest Error: "<latest failure's error>"   (left out when unknown)
 *   Check logs for details.
 * timestamp = latest failure's time.  Sanitised and limited (alert_sanitize).
 */
void alert_compose_failing(const char *display, const struct ev_history *h,
    time_t now, struct alert_msg *m);

/*
 * alert_compose_recovered: "✅ <display> Recovered" with how long it was down
 * (first failure to the success that ended it) and how many failures.
 */
void alert_compose_recovered(const char *display, time_t first_fail, time_t recovered_at,
    size_t nfail, time_t now, struct alert_msg *m);

/*
 * alert_compose_silent: "⏸ <display> Silent": no attempt at all since
 * last_attempt (expect_every_hours); timestamp = last_attempt.
 */
void alert_compose_silent(const char *display, time_t last_attempt, time_t now,
    struct alert_msg *m);

/* alert_compose_test: "🔔 dlmon test", naming host (`dlmon test-alert`). */
void alert_compose_test(const char *host, time_t now, struct alert_msg *m);

/*
 * alert_duration: "3+ hours", "1+ hour", "12+ minutes", "1+ minute" for the
 * whole hours (or minutes, below an hour) in secs.
 * alert_ago: "N minutes ago" below an hour, "N hours ago" below 48 hours,
 * else "N days ago" (singular for 1).
 */
void alert_duration(long long secs, char *buf, size_t size);
void alert_ago(long long secs, char *buf, size_t size);

/*
 * alert_sanitize: copy src (len bytes) into dst (size bytes, NUL-terminated):
 * invalid UTF-8 replaced by U+FFFD, control characters removed (except "\n"
 * when keep_newlines), at most max_chars code points ("…" marks a cut).
 */
void alert_sanitize(char *dst, size_t size, const char *src, size_t len,
    size_t max_chars, int keep_newlines);

#endif
