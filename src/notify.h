/*
 * notify.h — delivering a notification through Pushover (libcurl).
 *
 * Error convention: see util.h.  notify_send reports its own failures, naming
 * the endpoint (never the token or user key) and the cause.
 */
#ifndef DLMON_NOTIFY_H
#define DLMON_NOTIFY_H

#include "alert.h"
#include "conf.h"

enum notify_result {
	NOTIFY_SENT = 0,           /* 2xx: delivered */
	NOTIFY_RETRY,              /* network error, TLS failure, timeout, 5xx, 429: try next run */
	NOTIFY_REJECTED            /* other 4xx: hold until the settings change */
};

struct notifier;

/*
 * notify_pushover_new: a notifier for c's [pushover] settings; owns its CURL
 * handle.  Missing credentials are a configuration error (NULL, *err =
 * DL_ECONF).  https URLs are always verified (ca_file added when set);
 * timeout_seconds bounds the whole request.
 */
struct notifier *notify_pushover_new(const struct conf *c, int *err);

/*
 * notify_send: POST m form-encoded (token, user, title, message, timestamp,
 * priority [, retry, expire], [sound], [device]) to api_url.  Returns a
 * notify_result; a short reason (no secrets) is written into why.
 */
enum notify_result notify_send(struct notifier *n, const struct alert_msg *m,
    char *why, size_t whylen);

void notify_free(struct notifier *n);

#endif
