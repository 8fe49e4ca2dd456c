/* cgi.c — see cgi.h.  cgi_parse only reads the strings it is given; the
 * JSON helpers at the end use a private in-memory SQLite database. */
#include "cgi.h"

#include <limits.h>
#include <stdio.h>
#include <string.h>

#include <sqlite3.h>

#include "query.h"

static const char path_status[] = "/api/monitoring/status";
static const char path_history[] = "/api/monitoring/history";

/* Decoded values longer than this are refused whatever the parameter:
 * the longest valid one is a 64-byte downloader name. */
#define VAL_MAX CGI_DOWNLOADER_MAX
#define KEY_MAX 16
#define PATH_MAX_LEN 256

enum { P_HOURS = 0, P_LIMIT, P_DOWNLOADER, P_DAYS, NPARAMS };
static const char *const param_name[NPARAMS] = { "hours", "limit", "downloader", "days" };

struct param {
	int seen;
	size_t len;              /* decoded length (may exceed the buffer) */
	char val[VAL_MAX + 1];   /* the first VAL_MAX bytes, NUL-terminated */
};

static void
set_error(struct cgi_request *req, int status, const char *allow, const char *text)
{
	req->route = CGI_UNKNOWN;
	req->http_status = status;
	req->allow = allow;
	snprintf(req->error, sizeof req->error, "%s", text);
}

static int
hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/*
 * Percent-decode s[0..n) into out (outsz bytes, always NUL-terminated when
 * outsz > 0, truncated when short); *outlen gets the full decoded length.
 * plus_space: '+' means ' ' (query strings, not paths).  Every escape is
 * checked even past the buffer's end.  Returns 0, or -1 on a bad escape.
 */
static int
pct_decode(const char *s, size_t n, int plus_space, char *out, size_t outsz, size_t *outlen)
{
	size_t i, o = 0;

	for (i = 0; i < n; i++) {
		int c = (unsigned char)s[i];
		if (c == '%') {
			int hi, lo;
			if (i + 2 >= n)
				return -1;
			hi = hexval((unsigned char)s[i + 1]);
			lo = hexval((unsigned char)s[i + 2]);
			if (hi < 0 || lo < 0)
				return -1;
			c = hi * 16 + lo;
			i += 2;
		} else if (c == '+' && plus_space) {
			c = ' ';
		}
		if (o + 1 < outsz)
			out[o] = (char)c;
		o++;
	}
	if (outsz > 0)
		out[o < outsz ? o : outsz - 1] = '\0';
	*outlen = o;
	return 0;
}

/* Is pre[0..pl) followed by p[0..n) exactly the route path r? */
static int
path_is(const char *r, size_t rl, const char *pre, size_t pl, const char *p, size_t n)
{
	return pl + n == rl && memcmp(r, pre, pl) == 0 && memcmp(r + pl, p, n) == 0;
}

/*
 * The route of a decoded path p[0..n).  The path may start with the
 * script's own name ("/cgi-bin/dlmon-api.cgi/api/monitoring/status"), which
 * is skipped; with after_script (p is PATH_INFO), the script's name may also
 * be the route's first part: a server that maps "/api" to the program passes
 * SCRIPT_NAME "/api" and PATH_INFO "/monitoring/status".
 */
static enum cgi_route
path_route(const char *p, size_t n, const char *script_name, int after_script)
{
	size_t sl;
	const char *q = p;
	size_t qn = n;

	if (script_name == NULL)
		script_name = "";
	sl = strlen(script_name);
	/* a bare "/" script name would skip nothing useful */
	if (sl > 1 && sl < n && p[sl] == '/' && memcmp(p, script_name, sl) == 0) {
		q = p + sl;
		qn = n - sl;
	}
	if (path_is(path_status, sizeof path_status - 1, "", 0, p, n) ||
	    path_is(path_status, sizeof path_status - 1, "", 0, q, qn) ||
	    (after_script && path_is(path_status, sizeof path_status - 1, script_name, sl, p, n)))
		return CGI_STATUS;
	if (path_is(path_history, sizeof path_history - 1, "", 0, p, n) ||
	    path_is(path_history, sizeof path_history - 1, "", 0, q, qn) ||
	    (after_script && path_is(path_history, sizeof path_history - 1, script_name, sl, p, n)))
		return CGI_HISTORY;
	return CGI_UNKNOWN;
}

/* Find the route; 0, or -1 with req filled with the 400/404. */
static int
find_route(const char *path_info, const char *request_uri, const char *script_name,
    enum cgi_route *route, struct cgi_request *req)
{
	char buf[PATH_MAX_LEN + 1];
	size_t n;

	if (path_info && *path_info) {
		/* servers decode PATH_INFO themselves */
		*route = path_route(path_info, strlen(path_info), script_name, 1);
	} else if (request_uri && *request_uri) {
		if (pct_decode(request_uri, strcspn(request_uri, "?#"), 0, buf, sizeof buf, &n) != 0) {
			set_error(req, 400, NULL, "bad percent-escape in the path");
			return -1;
		}
		/* a path that did not fit the buffer matches no route */
		*route = n < sizeof buf ? path_route(buf, n, script_name, 0) : CGI_UNKNOWN;
	} else {
		*route = CGI_UNKNOWN;
	}
	if (*route == CGI_UNKNOWN) {
		set_error(req, 404, NULL, "not found: the API answers /api/monitoring/status "
		    "and /api/monitoring/history");
		return -1;
	}
	return 0;
}

/* Apply the method to the path's route; 0, or -1 with the 405 filled in. */
static int
check_method(const char *method, enum cgi_route *route, struct cgi_request *req)
{
	int get = method && strcmp(method, "GET") == 0;
	int del = method && strcmp(method, "DELETE") == 0;

	if (*route == CGI_STATUS && get)
		return 0;
	if (*route == CGI_HISTORY && (get || del)) {
		if (del)
			*route = CGI_CLEAR;
		return 0;
	}
	if (*route == CGI_STATUS)
		set_error(req, 405, "GET", "method not allowed (allowed: GET)");
	else
		set_error(req, 405, "GET, DELETE", "method not allowed (allowed: GET, DELETE)");
	return -1;
}

/* Does the route take parameter i? */
static int
route_takes(enum cgi_route route, int i)
{
	switch (route) {
	case CGI_STATUS: return i == P_HOURS;
	case CGI_HISTORY: return i == P_LIMIT || i == P_DOWNLOADER;
	case CGI_CLEAR: return i == P_DAYS;
	default: return 0;
	}
}

/*
 * Split the query string on '&' and keep the route's parameters in p[].
 * 0, or -1 with the 400 filled in (bad escape, parameter given twice).
 */
static int
collect_params(const char *query, enum cgi_route route, struct param p[NPARAMS],
    struct cgi_request *req)
{
	const char *s = query ? query : "";

	while (*s) {
		size_t n = strcspn(s, "&"), kn, klen, vlen;
		const char *eq = memchr(s, '=', n);
		char key[KEY_MAX + 1], val[VAL_MAX + 1];
		int i;

		kn = eq ? (size_t)(eq - s) : n;
		if (pct_decode(s, kn, 1, key, sizeof key, &klen) != 0 ||
		    (eq && pct_decode(eq + 1, n - kn - 1, 1, val, sizeof val, &vlen) != 0)) {
			set_error(req, 400, NULL, "bad percent-escape in the query string");
			return -1;
		}
		if (!eq) {
			val[0] = '\0';
			vlen = 0;
		}
		for (i = 0; i < NPARAMS; i++) {
			if (!route_takes(route, i) || klen != strlen(param_name[i]) ||
			    strcmp(key, param_name[i]) != 0)
				continue;
			if (p[i].seen) {
				char msg[CGI_ERROR_MAX];
				snprintf(msg, sizeof msg, "%s: given more than once", param_name[i]);
				set_error(req, 400, NULL, msg);
				return -1;
			}
			p[i].seen = 1;
			p[i].len = vlen;
			memcpy(p[i].val, val, sizeof val);
		}
		s += n;
		if (*s == '&')
			s++;
	}
	return 0;
}

/* Plain decimal digits in [min, max]; 0 or -1. */
static int
number(const struct param *p, long min, long max, long *out)
{
	unsigned long long v = 0;
	size_t i;

	if (p->len == 0 || p->len > VAL_MAX)
		return -1;
	for (i = 0; i < p->len; i++) {
		unsigned char c = (unsigned char)p->val[i];
		if (c < '0' || c > '9')
			return -1;
		/* checked before multiplying: no wrap-around */
		if (v > ((unsigned long long)max - (c - '0')) / 10)
			return -1;
		v = v * 10 + (c - '0');
	}
	if (v < (unsigned long long)min)
		return -1;
	*out = (long)v;
	return 0;
}

static int
bad_param(struct cgi_request *req, const char *text)
{
	set_error(req, 400, NULL, text);
	return -1;
}

/* Validate the route's parameters into req; 0 or -1 (400). */
static int
validate(enum cgi_route route, const struct param p[NPARAMS], struct cgi_request *req)
{
	char msg[CGI_ERROR_MAX];
	size_t i;

	if (route == CGI_STATUS && p[P_HOURS].seen &&
	    number(&p[P_HOURS], 1, QUERY_MAX_HOURS, &req->hours) != 0) {
		snprintf(msg, sizeof msg, "hours: expected a whole number from 1 to %d",
		    QUERY_MAX_HOURS);
		return bad_param(req, msg);
	}
	if (route == CGI_CLEAR && p[P_DAYS].seen &&
	    number(&p[P_DAYS], 0, QUERY_MAX_DAYS, &req->days) != 0) {
		snprintf(msg, sizeof msg, "days: expected a whole number from 0 to %d",
		    QUERY_MAX_DAYS);
		return bad_param(req, msg);
	}
	if (route != CGI_HISTORY)
		return 0;
	if (p[P_LIMIT].seen) {
		/* any 63-bit count is a fine request for "everything": capped */
		if (number(&p[P_LIMIT], 1, LONG_MAX, &req->limit) != 0)
			return bad_param(req, "limit: expected a whole number of at least 1");
		if (req->limit > QUERY_MAX_LIMIT)
			req->limit = QUERY_MAX_LIMIT;
	}
	if (p[P_DOWNLOADER].seen) {
		const struct param *d = &p[P_DOWNLOADER];
		if (d->len == 0 || d->len > CGI_DOWNLOADER_MAX)
			goto bad_dl;
		for (i = 0; i < d->len; i++) {
			unsigned char c = (unsigned char)d->val[i];
			if (c >= 'A' && c <= 'Z')
				c = (unsigned char)(c - 'A' + 'a');
			else if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
			    c == '_' || c == '.' || c == '-'))
				goto bad_dl;
			req->downloader[i] = (char)c;
		}
		req->downloader[d->len] = '\0';
	}
	return 0;
bad_dl:
	req->downloader[0] = '\0';
	snprintf(msg, sizeof msg, "downloader: expected 1 to %d characters of "
	    "A-Z a-z 0-9 _ . -", CGI_DOWNLOADER_MAX);
	return bad_param(req, msg);
}

void
cgi_parse(const char *method, const char *path_info, const char *request_uri,
    const char *script_name, const char *query, struct cgi_request *req)
{
	struct param p[NPARAMS];
	enum cgi_route route;

	memset(req, 0, sizeof *req);
	memset(p, 0, sizeof p);
	req->hours = CGI_DEFAULT_HOURS;
	req->limit = CGI_DEFAULT_LIMIT;
	req->days = CGI_DEFAULT_DAYS;
	if (find_route(path_info, request_uri, script_name, &route, req) != 0 ||
	    check_method(method, &route, req) != 0 ||
	    collect_params(query, route, p, req) != 0 ||
	    validate(route, p, req) != 0)
		return;
	req->route = route;
	req->http_status = 200;
}

const char *
cgi_reason(int http_status)
{
	switch (http_status) {
	case 200: return "OK";
	case 400: return "Bad Request";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 500: return "Internal Server Error";
	case 503: return "Service Unavailable";
	default: return "Error";
	}
}

/*
 * cgi_error_json: see cgi.h.  A private in-memory connection per call: the
 * API answers one request per process.
 */
int
cgi_error_json(const char *text, struct strbuf *out)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *stmt = NULL;
	int err = DL_EFAIL;

	if (sqlite3_open_v2(":memory:", &db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(db, "SELECT json_object('success', json('false'), 'error', ?1)",
	    -1, &stmt, NULL) != SQLITE_OK) {
		msg_err("in-memory database: %s", db ? sqlite3_errmsg(db) : "out of memory");
		goto out;
	}
	sqlite3_bind_text(stmt, 1, text ? text : "", -1, SQLITE_STATIC);
	if (sqlite3_step(stmt) != SQLITE_ROW || sqlite3_column_text(stmt, 0) == NULL) {
		msg_err("in-memory database: %s", sqlite3_errmsg(db));
		goto out;
	}
	if (sb_append(out, (const char *)sqlite3_column_text(stmt, 0),
	    (size_t)sqlite3_column_bytes(stmt, 0)) != DL_OK) {
		msg_err("out of memory");
		err = DL_ENOMEM;
		goto out;
	}
	err = DL_OK;
out:
	sqlite3_finalize(stmt);
	sqlite3_close(db);
	return err;
}

