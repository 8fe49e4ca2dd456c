/*
 * notify.c — Pushover delivery over libcurl.  See notify.h.
 *
 * Secrets (token, user key) exist only in the notifier and in the request
 * body, which is wiped after use.  Everything taken from the server's answer
 * is redacted (both secrets, raw and URL-escaped, become "***") before it can
 * reach a message, in case a proxy or a test endpoint echoes the request.
 * Pushover's JSON answer is read with SQLite's JSON functions (SPEC: no
 * hand-written JSON), through a private in-memory database.
 */
#include "notify.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>
#include <sqlite3.h>

#include "util.h"

#ifndef DLMON_VERSION
#define DLMON_VERSION "dev"
#endif

#define NOTIFY_BODY_MAX (16 * 1024)   /* response bytes kept; the rest is discarded */
#define NOTIFY_EXCERPT_MAX 200        /* characters of a non-JSON answer quoted */
#define NOTIFY_CONNECT_MAX 10L        /* connect timeout cap, seconds */

struct notifier {
	CURL *curl;
	sqlite3 *json;                 /* :memory:, only for json_* functions */
	char *api_url;                 /* as configured: used for the request */
	char *shown_url;               /* without userinfo, query, fragment: for messages */
	char *token, *user;            /* secrets */
	char *token_esc, *user_esc;    /* their URL-escaped forms, for redaction */
	char *sound, *device;          /* NULL when unset */
	int priority, retry, expire;
	long timeout;
	struct strbuf resp;            /* the answer, at most NOTIFY_BODY_MAX bytes */
	char errbuf[CURL_ERROR_SIZE];
};

static int curl_ready;

/* Wipes a secret-bearing buffer in a way the compiler may not drop. */
static void
wipe(void *p, size_t len)
{
	if (p != NULL && len > 0)
		explicit_bzero(p, len);
}

static void
free_secret(char *s)
{
	if (s != NULL)
		wipe(s, strlen(s));
	free(s);
}

/* Pushover keys are 30 characters of [A-Za-z0-9]. */
static int
looks_like_key(const char *s)
{
	size_t i;

	for (i = 0; s[i] != '\0'; i++)
		if (!isalnum((unsigned char)s[i]) || i >= 30)
			return 0;
	return i == 30;
}

/*
 * The api_url with userinfo, query and fragment removed (malloc'ed), or NULL
 * when curl cannot parse it.
 */
static char *
display_url(const char *url)
{
	CURLU *u = curl_url();
	char *s = NULL, *out = NULL;

	if (u == NULL)
		return NULL;
	if (curl_url_set(u, CURLUPART_URL, url, CURLU_NON_SUPPORT_SCHEME) != CURLUE_OK)
		goto out;
	curl_url_set(u, CURLUPART_USER, NULL, 0);
	curl_url_set(u, CURLUPART_PASSWORD, NULL, 0);
	curl_url_set(u, CURLUPART_OPTIONS, NULL, 0);
	curl_url_set(u, CURLUPART_QUERY, NULL, 0);
	curl_url_set(u, CURLUPART_FRAGMENT, NULL, 0);
	if (curl_url_get(u, CURLUPART_URL, &s, 0) != CURLUE_OK)
		goto out;
	out = strdup(s);
out:
	curl_free(s);
	curl_url_cleanup(u);
	return out;
}

static size_t
on_body(char *data, size_t size, size_t nmemb, void *arg)
{
	struct notifier *n = arg;
	size_t len = size * nmemb, room;

	/* Keep a bounded prefix; accept (and drop) the rest so curl does not fail. */
	room = n->resp.len < NOTIFY_BODY_MAX ? NOTIFY_BODY_MAX - n->resp.len : 0;
	if (room > 0 && sb_append(&n->resp, data, len < room ? len : room) != DL_OK)
		return 0;
	return len;
}

/* Sets the options that stay the same for every request. */
static int
setup_handle(struct notifier *n, const struct conf *c)
{
	CURL *h = n->curl;
	long conn = n->timeout < NOTIFY_CONNECT_MAX ? n->timeout : NOTIFY_CONNECT_MAX;
	int bad = 0;

	bad |= curl_easy_setopt(h, CURLOPT_URL, n->api_url) != CURLE_OK;
	bad |= curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https") != CURLE_OK;
	bad |= curl_easy_setopt(h, CURLOPT_REDIR_PROTOCOLS_STR, "https") != CURLE_OK;
	bad |= curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L) != CURLE_OK;
	bad |= curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L) != CURLE_OK;
	bad |= curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L) != CURLE_OK;
	if (c->po.ca_file != NULL && c->po.ca_file[0] != '\0')
		bad |= curl_easy_setopt(h, CURLOPT_CAINFO, c->po.ca_file) != CURLE_OK;
	bad |= curl_easy_setopt(h, CURLOPT_TIMEOUT, n->timeout) != CURLE_OK;
	bad |= curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, conn) != CURLE_OK;
	bad |= curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L) != CURLE_OK;
	bad |= curl_easy_setopt(h, CURLOPT_USERAGENT, "dlmon/" DLMON_VERSION) != CURLE_OK;
	bad |= curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body) != CURLE_OK;
	bad |= curl_easy_setopt(h, CURLOPT_WRITEDATA, n) != CURLE_OK;
	bad |= curl_easy_setopt(h, CURLOPT_ERRORBUFFER, n->errbuf) != CURLE_OK;
	bad |= curl_easy_setopt(h, CURLOPT_POST, 1L) != CURLE_OK;
	if (bad) {
		msg_err("pushover: %s: libcurl refused an option (too old a libcurl?)",
		    n->shown_url);
		return DL_EFAIL;
	}
	return DL_OK;
}

static int
has_scheme(const char *url, const char *scheme)
{
	return strncasecmp(url, scheme, strlen(scheme)) == 0;
}

/*
 * notify_pushover_new: see notify.h.  Calls curl_global_init once per
 * process; notify_free does not undo it (other notifiers may live on, and
 * curl_global_cleanup at exit gains nothing).  po.enabled is the caller's
 * business: this builds a notifier whenever the settings are complete.
 */
struct notifier *
notify_pushover_new(const struct conf *c, int *err)
{
	struct notifier *n = NULL;
	const char *url = c->po.api_url;
	int rc = DL_ENOMEM;

	if (c->po.token == NULL || c->po.token[0] == '\0') {
		msg_err("pushover: no application token (set token_file = … or token = … in [pushover])");
		rc = DL_ECONF;
		goto out;
	}
	if (c->po.user == NULL || c->po.user[0] == '\0') {
		msg_err("pushover: no user key (set user_file = … or user = … in [pushover])");
		rc = DL_ECONF;
		goto out;
	}
	if (url == NULL || (!has_scheme(url, "https://") && !has_scheme(url, "http://"))) {
		/* Shown without a password it might carry, when curl can parse it. */
		char *shown = url ? display_url(url) : NULL;
		msg_err("pushover: api_url '%s': must start with https:// (or http:// for tests and proxies)",
		    shown ? shown : url ? url : "");
		free(shown);
		rc = DL_ECONF;
		goto out;
	}
	if (!looks_like_key(c->po.token))
		msg_warn("pushover: the application token does not look like a Pushover key (30 letters and digits)");
	if (!looks_like_key(c->po.user))
		msg_warn("pushover: the user key does not look like a Pushover key (30 letters and digits)");

	if (!curl_ready) {
		if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
			msg_err("pushover: libcurl could not be initialised");
			rc = DL_EFAIL;
			goto out;
		}
		curl_ready = 1;
	}
	/* From here on, every goto out before setup_handle is out of memory. */
	rc = DL_ENOMEM;
	if ((n = calloc(1, sizeof *n)) == NULL)
		goto out;
	n->priority = c->po.priority;
	n->retry = c->po.retry;
	n->expire = c->po.expire;
	n->timeout = c->po.timeout_seconds > 0 ? c->po.timeout_seconds : 15;
	if ((n->api_url = strdup(url)) == NULL ||
	    (n->token = strdup(c->po.token)) == NULL ||
	    (n->user = strdup(c->po.user)) == NULL)
		goto out;
	if (c->po.sound && c->po.sound[0] && (n->sound = strdup(c->po.sound)) == NULL)
		goto out;
	if (c->po.device && c->po.device[0] && (n->device = strdup(c->po.device)) == NULL)
		goto out;
	if ((n->shown_url = display_url(url)) == NULL) {
		msg_err("pushover: api_url '%s': not a valid URL", url);
		rc = DL_ECONF;
		goto out;
	}
	if ((n->curl = curl_easy_init()) == NULL)
		goto out;
	if ((n->token_esc = curl_easy_escape(n->curl, n->token, 0)) == NULL ||
	    (n->user_esc = curl_easy_escape(n->curl, n->user, 0)) == NULL)
		goto out;
	if (sqlite3_open_v2(":memory:", &n->json, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK)
		goto out;
	rc = setup_handle(n, c);
out:
	if (rc == DL_ENOMEM)
		msg_err("pushover: out of memory");
	if (rc != DL_OK) {
		notify_free(n);
		n = NULL;
	}
	if (err != NULL)
		*err = rc;
	return n;
}

/* Appends "&name=<escaped value>" (no '&' for the first field). */
static int
add_field(struct notifier *n, struct strbuf *sb, const char *name, const char *value)
{
	char *esc = curl_easy_escape(n->curl, value, 0);
	int rc;

	if (esc == NULL)
		return DL_ENOMEM;
	rc = sb_printf(sb, "%s%s=%s", sb->len ? "&" : "", name, esc);
	wipe(esc, strlen(esc));
	curl_free(esc);
	return rc;
}

static int
build_body(struct notifier *n, const struct alert_msg *m, struct strbuf *sb)
{
	char num[32];
	int rc = DL_OK;

	rc |= add_field(n, sb, "token", n->token);
	rc |= add_field(n, sb, "user", n->user);
	rc |= add_field(n, sb, "title", m->title);
	rc |= add_field(n, sb, "message", m->message);
	snprintf(num, sizeof num, "%lld", (long long)m->timestamp);
	rc |= add_field(n, sb, "timestamp", num);
	snprintf(num, sizeof num, "%d", n->priority);
	rc |= add_field(n, sb, "priority", num);
	if (n->priority == 2) {
		snprintf(num, sizeof num, "%d", n->retry);
		rc |= add_field(n, sb, "retry", num);
		snprintf(num, sizeof num, "%d", n->expire);
		rc |= add_field(n, sb, "expire", num);
	}
	if (n->sound != NULL)
		rc |= add_field(n, sb, "sound", n->sound);
	if (n->device != NULL)
		rc |= add_field(n, sb, "device", n->device);
	return rc != DL_OK ? DL_ENOMEM : DL_OK;
}

/*
 * Copies s into out with every occurrence of the secrets replaced by "***"
 * and control characters turned into spaces, so that nothing the server
 * said can leak a key or break the one-line message.
 */
static int
redact(const struct notifier *n, const char *s, struct strbuf *out)
{
	const char *sec[4] = { n->token, n->user, n->token_esc, n->user_esc };
	size_t i;
	int rc = DL_OK;

	sb_reset(out);
	while (*s != '\0' && rc == DL_OK) {
		size_t hit = 0;
		for (i = 0; i < 4 && hit == 0; i++)
			if (sec[i][0] != '\0' && strncmp(s, sec[i], strlen(sec[i])) == 0)
				hit = strlen(sec[i]);
		if (hit > 0) {
			rc = sb_puts(out, "***");
			s += hit;
		} else {
			char ch = ((unsigned char)*s < 0x20 || *s == 0x7f) ? ' ' : *s;
			rc = sb_append(out, &ch, 1);
			s++;
		}
	}
	return rc;
}

/* Appends at most NOTIFY_EXCERPT_MAX bytes of s, "..." marking a cut. */
static int
excerpt(struct strbuf *sb, const char *s)
{
	size_t len = strlen(s);
	int rc;

	if (len <= NOTIFY_EXCERPT_MAX)
		return sb_append(sb, s, len);
	/* Cut on a UTF-8 character boundary. */
	len = NOTIFY_EXCERPT_MAX;
	while (len > 0 && ((unsigned char)s[len] & 0xC0) == 0x80)
		len--;
	rc = sb_append(sb, s, len);
	return rc == DL_OK ? sb_puts(sb, "...") : rc;
}

/*
 * Reads Pushover's answer (already redacted).  *status: the "status" member
 * (-1 when absent or not JSON); errors: its "errors" joined by "; ", else the
 * non-JSON answer itself, either way bounded (excerpt).  Returns 0, or DL_ENOMEM.
 */
static int
read_answer(struct notifier *n, const char *body, int *status, struct strbuf *errors)
{
	static const char q[] =
	    "SELECT json_valid(?1),"
	    " CASE WHEN json_valid(?1) THEN json_type(?1, '$.status') END,"
	    " CASE WHEN json_valid(?1) THEN json_extract(?1, '$.status') END";
	static const char qerr[] =
	    "SELECT group_concat(CAST(value AS TEXT), '; ') FROM json_each(?1, '$.errors')";
	sqlite3_stmt *st = NULL;
	int rc = DL_OK, valid = 0;

	*status = -1;
	sb_reset(errors);
	if (sqlite3_prepare_v2(n->json, q, -1, &st, NULL) != SQLITE_OK ||
	    sqlite3_bind_text(st, 1, body, -1, SQLITE_STATIC) != SQLITE_OK)
		goto out;
	if (sqlite3_step(st) == SQLITE_ROW) {
		const unsigned char *type = sqlite3_column_text(st, 1);
		valid = sqlite3_column_int(st, 0);
		if (type != NULL && (strcmp((const char *)type, "integer") == 0 ||
		    strcmp((const char *)type, "real") == 0))
			*status = sqlite3_column_int(st, 2);
		else if (type != NULL)
			*status = 0;   /* present but not a number: not a success */
	}
	sqlite3_finalize(st);
	st = NULL;
	if (valid) {
		const unsigned char *e;
		if (sqlite3_prepare_v2(n->json, qerr, -1, &st, NULL) != SQLITE_OK ||
		    sqlite3_bind_text(st, 1, body, -1, SQLITE_STATIC) != SQLITE_OK)
			goto out;
		if (sqlite3_step(st) == SQLITE_ROW && (e = sqlite3_column_text(st, 0)) != NULL)
			rc = excerpt(errors, (const char *)e);
	} else {
		rc = excerpt(errors, body);
	}
out:
	sqlite3_finalize(st);
	return rc;
}

static int
is_tls_error(CURLcode cc)
{
	switch (cc) {
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_CIPHER:
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_SSL_ENGINE_NOTFOUND:
	case CURLE_SSL_ENGINE_SETFAILED:
	case CURLE_SSL_ENGINE_INITFAILED:
	case CURLE_SSL_CRL_BADFILE:
	case CURLE_SSL_ISSUER_ERROR:
	case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
	case CURLE_SSL_INVALIDCERTSTATUS:
	case CURLE_SSL_SHUTDOWN_FAILED:
	case CURLE_SSL_CLIENTCERT:
		return 1;
	default:
		return 0;
	}
}

/* The reason for a transport failure, from curl's code and error buffer. */
static void
transport_reason(const struct notifier *n, CURLcode cc, struct strbuf *why)
{
	const char *text = n->errbuf[0] ? n->errbuf : curl_easy_strerror(cc);

	if (cc == CURLE_OPERATION_TIMEDOUT)
		sb_printf(why, "no answer within %ld seconds (timeout_seconds): %s",
		    n->timeout, text);
	else if (is_tls_error(cc))
		sb_printf(why, "TLS failure: %s", text);
	else
		sb_printf(why, "%s", text);
}

/*
 * notify_send: see notify.h.  One POST; the result classifies what the
 * caller should do with the alert.  Every non-delivery is reported here once
 * ("pushover: <url>: <reason>"); why gets the same reason ("sent" on success).
 */
enum notify_result
notify_send(struct notifier *n, const struct alert_msg *m, char *why, size_t whylen)
{
	struct strbuf body = { 0 }, reason = { 0 }, clean = { 0 }, raw = { 0 }, errors = { 0 };
	enum notify_result res = NOTIFY_RETRY;
	CURLcode cc;
	long code = 0;
	int status;

	n->errbuf[0] = '\0';
	sb_reset(&n->resp);
	if (build_body(n, m, &body) != DL_OK) {
		sb_puts(&reason, "out of memory");
		goto out;
	}
	if (curl_easy_setopt(n->curl, CURLOPT_POSTFIELDS, body.buf) != CURLE_OK ||
	    curl_easy_setopt(n->curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)body.len) != CURLE_OK) {
		sb_puts(&reason, "libcurl refused the request body");
		goto out;
	}
	cc = curl_easy_perform(n->curl);
	/* The body holds the secrets: it must not outlive the request. */
	curl_easy_setopt(n->curl, CURLOPT_POSTFIELDS, NULL);
	if (cc != CURLE_OK) {
		transport_reason(n, cc, &raw);
		redact(n, raw.buf ? raw.buf : "", &reason);
		goto out;
	}
	curl_easy_getinfo(n->curl, CURLINFO_RESPONSE_CODE, &code);
	/* Redacted before and after decoding: JSON escapes could spell a secret. */
	if (redact(n, n->resp.buf ? n->resp.buf : "", &clean) != DL_OK ||
	    read_answer(n, clean.buf ? clean.buf : "", &status, &raw) != DL_OK ||
	    redact(n, raw.buf ? raw.buf : "", &errors) != DL_OK) {
		sb_puts(&reason, "out of memory");
		goto out;
	}
	if (code >= 200 && code < 300) {
		if (status == -1 || status == 1) {
			res = NOTIFY_SENT;
			sb_puts(&reason, "sent");
		} else {
			res = NOTIFY_REJECTED;
			sb_printf(&reason, "HTTP %ld but status %d%s%s", code, status,
			    errors.len ? ": " : "", errors.len ? errors.buf : "");
		}
	} else if (code == 429 || code >= 500 || code < 200) {
		res = NOTIFY_RETRY;
		sb_printf(&reason, "HTTP %ld%s%s%s", code,
		    code == 429 ? " (rate limited)" : "",
		    errors.len ? ": " : "", errors.len ? errors.buf : "");
	} else {
		/* 3xx too: redirects are not followed, so the api_url is wrong. */
		res = NOTIFY_REJECTED;
		sb_printf(&reason, "HTTP %ld%s%s%s", code,
		    code < 400 ? " (redirects are not followed; check api_url)" : "",
		    errors.len ? ": " : "", errors.len ? errors.buf : "");
	}
out:
	if (res != NOTIFY_SENT)
		msg_err("pushover: %s: %s", n->shown_url,
		    reason.buf ? reason.buf : "out of memory");
	if (why != NULL && whylen > 0)
		snprintf(why, whylen, "%s", reason.buf ? reason.buf : "out of memory");
	wipe(body.buf, body.cap);
	sb_free(&body);
	sb_free(&reason);
	sb_free(&clean);
	sb_free(&raw);
	sb_free(&errors);
	wipe(n->resp.buf, n->resp.cap);
	return res;
}

/* notify_free: releases the handle and wipes the secrets; accepts NULL. */
void
notify_free(struct notifier *n)
{
	if (n == NULL)
		return;
	if (n->curl != NULL)
		curl_easy_cleanup(n->curl);
	sqlite3_close(n->json);
	free(n->api_url);
	free(n->shown_url);
	free_secret(n->token);
	free_secret(n->user);
	if (n->token_esc != NULL)
		wipe(n->token_esc, strlen(n->token_esc));
	if (n->user_esc != NULL)
		wipe(n->user_esc, strlen(n->user_esc));
	curl_free(n->token_esc);
	curl_free(n->user_esc);
	free(n->sound);
	free(n->device);
	wipe(n->resp.buf, n->resp.cap);
	sb_free(&n->resp);
	free(n);
}
