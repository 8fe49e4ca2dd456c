/*
 * cgi.h — the HTTP API's request parsing, kept pure (no I/O, no allocation)
 * so that it can be unit-tested and fuzzed on its own, and its two small
 * JSON bodies.  dlmon-api.cgi
 * (api_main.c) feeds it the CGI environment and answers what it decided.
 *
 * Routes (SPEC "dlmon-api.cgi"):
 *   GET    /api/monitoring/status?hours=H               H 1..87600, default 24
 *   GET    /api/monitoring/history?downloader=D&limit=N N >= 1, default 100,
 *                                                       capped at QUERY_MAX_LIMIT
 *   DELETE /api/monitoring/history?days=D               D 0..3650, default 30
 *
 * Decisions:
 *   - Order of checks: unknown path (404), then method (405, with Allow),
 *     then parameters (400).
 *   - HEAD is refused with 405 like any other method: the API is for
 *     programs that GET, and answering HEAD would only run the query to throw
 *     its body away.
 *   - A parameter of the route given twice is a 400 (no guessing which one
 *     was meant); unknown parameters, and parameters of another route, are
 *     ignored.
 *   - Numbers are plain decimal digits only: no sign, space, exponent or
 *     empty value.  A value that does not fit 64 bits is a 400 for every
 *     parameter; a limit above QUERY_MAX_LIMIT is capped, not refused.
 *   - downloader: 1..64 bytes of [A-Za-z0-9_.-], lower-cased.
 *   - A bad percent-escape anywhere in the query string or path is a 400.
 *   - Error texts name the parameter and what is expected; they never echo
 *     the request's bytes back.
 */
#ifndef DLMON_CGI_H
#define DLMON_CGI_H

#include <stddef.h>

#include "util.h"

#define CGI_DEFAULT_HOURS 24
#define CGI_DEFAULT_LIMIT 100
#define CGI_DEFAULT_DAYS 30
#define CGI_DOWNLOADER_MAX 64
#define CGI_ERROR_MAX 160

enum cgi_route {
	CGI_UNKNOWN = 0,
	CGI_STATUS,           /* GET status */
	CGI_HISTORY,          /* GET history */
	CGI_CLEAR             /* DELETE history */
};

struct cgi_request {
	enum cgi_route route;  /* CGI_UNKNOWN whenever http_status != 200 */
	int http_status;       /* 200: answer the route; else 400, 404 or 405 */
	const char *allow;     /* 405 only: the Allow header value (static) */
	char error[CGI_ERROR_MAX]; /* why, when http_status != 200 */
	long hours;            /* CGI_STATUS */
	long limit;            /* CGI_HISTORY */
	char downloader[CGI_DOWNLOADER_MAX + 1]; /* CGI_HISTORY; "" = all */
	long days;             /* CGI_CLEAR */
};

/*
 * cgi_parse: decide what the request asks.  method is REQUEST_METHOD;
 * path_info is PATH_INFO (already decoded by the server); request_uri is
 * REQUEST_URI (raw: its path is percent-decoded here, its query ignored);
 * script_name is SCRIPT_NAME; query is QUERY_STRING.  Any of them may be
 * NULL (= absent).  The path is PATH_INFO when it is non-empty, else the
 * path of REQUEST_URI; either may still start with SCRIPT_NAME
 * ("/cgi-bin/dlmon-api.cgi/api/monitoring/status"), which is then skipped.
 * Fills *req completely; the result is in req->http_status.  Never fails,
 * reports nothing: a bad request is a result, not an error.
 */
void cgi_parse(const char *method, const char *path_info, const char *request_uri,
    const char *script_name, const char *query, struct cgi_request *req);

/* The HTTP reason phrase for the statuses the API answers ("OK", ...). */
const char *cgi_reason(int http_status);

/*
 * cgi_error_json: the error body {"success":false,"error":text}, built (and
 * escaped) by SQLite's json_object on a private in-memory database — no file
 * is touched, so it works when the database is the trouble.  Appended to
 * out.  DL_OK, DL_ENOMEM or DL_EFAIL (reported).  The other bodies are the
 * queries' (query.h).
 */
int cgi_error_json(const char *text, struct strbuf *out);

#endif
