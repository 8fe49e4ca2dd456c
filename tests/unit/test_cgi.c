/*
 * test_cgi.c — the API's request parsing (cgi_parse) and its JSON bodies:
 * routes, methods, parameters, hostile inputs.  Table-driven.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cgi.h"
#include "query.h"
#include "util.h"

#define S "/api/monitoring/status"
#define H "/api/monitoring/history"

struct tcase {
	const char *name;
	const char *method, *path_info, *request_uri, *script_name, *query;
	int status;               /* expected http_status */
	enum cgi_route route;     /* when 200 */
	long hours, limit, days;  /* when 200 (all three checked: defaults too) */
	const char *downloader;   /* when 200 */
	const char *allow;        /* when 405 */
	const char *error_has;    /* when not 200: a part of the error text */
};

/* 200 cases; a 0 in hours/limit/days means "the default" */
#define OK_STATUS(n, q, h) { n, "GET", S, NULL, NULL, q, 200, CGI_STATUS, h, 0, 0, "", NULL, NULL }
#define OK_HIST(n, q, l, d) { n, "GET", H, NULL, NULL, q, 200, CGI_HISTORY, 0, l, 0, d, NULL, NULL }
#define OK_CLEAR(n, q, d) { n, "DELETE", H, NULL, NULL, q, 200, CGI_CLEAR, 0, 0, d, "", NULL, NULL }
#define BAD(n, m, p, q, err) { n, m, p, NULL, NULL, q, 400, CGI_UNKNOWN, 0, 0, 0, NULL, NULL, err }

static const struct tcase cases[] = {
	/* routes and their parameters */
	OK_STATUS("status default", NULL, 24),
	OK_STATUS("status empty query", "", 24),
	OK_STATUS("status hours=24", "hours=24", 24),
	OK_STATUS("status hours=1 (lowest)", "hours=1", 1),
	OK_STATUS("status hours=87600 (highest)", "hours=87600", 87600),
	OK_STATUS("status leading zeros", "hours=007", 7),
	OK_STATUS("status percent-encoded digits", "hours=%34%38", 48),
	OK_STATUS("status percent-encoded key", "h%6Furs=12", 12),
	OK_STATUS("status unknown params ignored", "foo=bar&hours=6&x", 6),
	OK_STATUS("status other routes' params ignored", "limit=abc&days=-1&hours=2", 2),
	OK_STATUS("status empty pieces", "&&hours=3&", 3),
	OK_STATUS("status unknown param given twice", "a=1&a=2", 24),
	OK_HIST("history default", NULL, 100, ""),
	OK_HIST("history seed example", "downloader=fastdl&limit=100", 100, "fastdl"),
	OK_HIST("history lower-cased", "downloader=FastDL", 100, "fastdl"),
	OK_HIST("history all allowed characters", "downloader=a-Z_0.9", 100, "a-z_0.9"),
	OK_HIST("history 64-byte name",
	    "downloader=aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", 100,
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"),
	OK_HIST("history limit=1", "limit=1", 1, ""),
	OK_HIST("history limit at the cap", "limit=10000", QUERY_MAX_LIMIT, ""),
	OK_HIST("history limit capped", "limit=50000", QUERY_MAX_LIMIT, ""),
	OK_HIST("history limit LONG_MAX capped", "limit=9223372036854775807", QUERY_MAX_LIMIT, ""),
	OK_HIST("history hours ignored", "hours=abc&limit=5", 5, ""),
	OK_CLEAR("clear default", NULL, 30),
	OK_CLEAR("clear days=30", "days=30", 30),
	OK_CLEAR("clear days=0", "days=0", 0),
	OK_CLEAR("clear days=3650", "days=3650", 3650),
	OK_CLEAR("clear GET params ignored", "limit=x&downloader=%27&days=7", 7),

	/* how the path is found */
	{ "REQUEST_URI when PATH_INFO empty", "GET", "", S "?hours=5", NULL, "hours=5",
	    200, CGI_STATUS, 5, 0, 0, "", NULL, NULL },
	{ "REQUEST_URI when PATH_INFO absent", "GET", NULL, H, NULL, NULL,
	    200, CGI_HISTORY, 0, 100, 0, "", NULL, NULL },
	{ "REQUEST_URI with fragment", "GET", NULL, S "#x", NULL, NULL,
	    200, CGI_STATUS, 24, 0, 0, "", NULL, NULL },
	{ "REQUEST_URI percent-encoded", "GET", NULL, "/api/monitoring/%73tatus", NULL, NULL,
	    200, CGI_STATUS, 24, 0, 0, "", NULL, NULL },
	{ "REQUEST_URI under the script name", "GET", NULL, "/cgi-bin/dlmon-api.cgi" S "?hours=2",
	    "/cgi-bin/dlmon-api.cgi", "hours=2", 200, CGI_STATUS, 2, 0, 0, "", NULL, NULL },
	{ "PATH_INFO under the script name", "GET", "/cgi-bin/dlmon-api.cgi" H, NULL,
	    "/cgi-bin/dlmon-api.cgi", NULL, 200, CGI_HISTORY, 0, 100, 0, "", NULL, NULL },
	{ "PATH_INFO wins over REQUEST_URI", "GET", S, "/elsewhere", NULL, NULL,
	    200, CGI_STATUS, 24, 0, 0, "", NULL, NULL },
	{ "SCRIPT_NAME + PATH_INFO (lighttpd alias /api)", "GET", "/monitoring/status",
	    "/api/monitoring/status?hours=3", "/api", "hours=3", 200, CGI_STATUS, 3, 0, 0, "", NULL, NULL },
	{ "SCRIPT_NAME + PATH_INFO, history", "DELETE", "/history", NULL, "/api/monitoring", NULL,
	    200, CGI_CLEAR, 0, 0, 30, "", NULL, NULL },
	{ "SCRIPT_NAME + PATH_INFO, unknown", "GET", "/monitoring/statu", NULL, "/api", NULL,
	    404, CGI_UNKNOWN, 0, 0, 0, NULL, NULL, "not found" },
	{ "no SCRIPT_NAME prefixing of REQUEST_URI", "GET", NULL, "/monitoring/status", "/api", NULL,
	    404, CGI_UNKNOWN, 0, 0, 0, NULL, NULL, "not found" },
	{ "script name equal to the path", "GET", NULL, S, S, NULL,
	    200, CGI_STATUS, 24, 0, 0, "", NULL, NULL },

	/* 404 */
	{ "no path at all", "GET", NULL, NULL, NULL, NULL, 404, CGI_UNKNOWN, 0, 0, 0, NULL, NULL, "not found" },
	{ "unknown path", "GET", "/api/monitoring/clear", NULL, NULL, NULL, 404, CGI_UNKNOWN, 0, 0, 0, NULL, NULL, "not found" },
	{ "trailing slash", "GET", S "/", NULL, NULL, NULL, 404, CGI_UNKNOWN, 0, 0, 0, NULL, NULL, "not found" },
	{ "prefix only", "GET", "/api/monitoring", NULL, NULL, NULL, 404, CGI_UNKNOWN, 0, 0, 0, NULL, NULL, "not found" },
	{ "longer path", "GET", S "x", NULL, NULL, NULL, 404, CGI_UNKNOWN, 0, 0, 0, NULL, NULL, "not found" },
	{ "case matters", "GET", "/API/monitoring/status", NULL, NULL, NULL, 404, CGI_UNKNOWN, 0, 0, 0, NULL, NULL, "not found" },
	{ "NUL in the path", "GET", NULL, S "%00", NULL, NULL, 404, CGI_UNKNOWN, 0, 0, 0, NULL, NULL, "not found" },
	{ "dot segments not resolved", "GET", NULL, "/api/x/../monitoring/status", NULL, NULL,
	    404, CGI_UNKNOWN, 0, 0, 0, NULL, NULL, "not found" },
	{ "another script's prefix", "GET", "/other.cgi" S, NULL, "/cgi-bin/dlmon-api.cgi", NULL,
	    404, CGI_UNKNOWN, 0, 0, 0, NULL, NULL, "not found" },
	{ "404 before 405", "POST", "/nope", NULL, NULL, NULL, 404, CGI_UNKNOWN, 0, 0, 0, NULL, NULL, "not found" },
	{ "bad escape in the path", "GET", NULL, "/api/monitoring/%zztatus", NULL, NULL,
	    400, CGI_UNKNOWN, 0, 0, 0, NULL, NULL, "percent-escape in the path" },

	/* 405 */
	{ "POST status", "POST", S, NULL, NULL, NULL, 405, CGI_UNKNOWN, 0, 0, 0, NULL, "GET", "not allowed" },
	{ "DELETE status", "DELETE", S, NULL, NULL, NULL, 405, CGI_UNKNOWN, 0, 0, 0, NULL, "GET", "not allowed" },
	{ "HEAD status refused", "HEAD", S, NULL, NULL, NULL, 405, CGI_UNKNOWN, 0, 0, 0, NULL, "GET", "not allowed" },
	{ "PUT history", "PUT", H, NULL, NULL, NULL, 405, CGI_UNKNOWN, 0, 0, 0, NULL, "GET, DELETE", "not allowed" },
	{ "lower-case get", "get", H, NULL, NULL, NULL, 405, CGI_UNKNOWN, 0, 0, 0, NULL, "GET, DELETE", "not allowed" },
	{ "no method", NULL, S, NULL, NULL, NULL, 405, CGI_UNKNOWN, 0, 0, 0, NULL, "GET", "not allowed" },
	{ "405 before 400", "POST", S, NULL, NULL, "hours=x", 405, CGI_UNKNOWN, 0, 0, 0, NULL, "GET", "not allowed" },

	/* 400: numbers */
	BAD("hours empty", "GET", S, "hours=", "hours:"),
	BAD("hours without =", "GET", S, "hours", "hours:"),
	BAD("hours zero", "GET", S, "hours=0", "hours:"),
	BAD("hours too large", "GET", S, "hours=87601", "hours:"),
	BAD("hours negative", "GET", S, "hours=-1", "hours:"),
	BAD("hours plus sign", "GET", S, "hours=%2B5", "hours:"),
	BAD("hours exponent", "GET", S, "hours=1e3", "hours:"),
	BAD("hours leading space", "GET", S, "hours=%205", "hours:"),
	BAD("hours plus as space", "GET", S, "hours=+5", "hours:"),
	BAD("hours trailing junk", "GET", S, "hours=5abc", "hours:"),
	BAD("hours decimal", "GET", S, "hours=2.5", "hours:"),
	BAD("hours hex", "GET", S, "hours=0x10", "hours:"),
	BAD("hours overflow", "GET", S, "hours=99999999999999999999", "hours:"),
	BAD("hours 2^64", "GET", S, "hours=18446744073709551616", "hours:"),
	BAD("hours NUL", "GET", S, "hours=5%00", "hours:"),
	BAD("hours quote", "GET", S, "hours=5'", "hours:"),
	BAD("hours given twice", "GET", S, "hours=5&hours=6", "hours: given more than once"),
	BAD("hours twice, once encoded", "GET", S, "hours=5&%68ours=5", "more than once"),
	BAD("limit zero", "GET", H, "limit=0", "limit:"),
	BAD("limit negative", "GET", H, "limit=-5", "limit:"),
	BAD("limit overflow", "GET", H, "limit=99999999999999999999", "limit:"),
	BAD("limit LONG_MAX+1", "GET", H, "limit=9223372036854775808", "limit:"),
	BAD("limit empty", "GET", H, "limit=", "limit:"),
	BAD("limit twice", "GET", H, "limit=1&limit=2", "limit: given more than once"),
	BAD("days negative", "DELETE", H, "days=-1", "days:"),
	BAD("days too large", "DELETE", H, "days=3651", "days:"),
	BAD("days empty", "DELETE", H, "days=", "days:"),
	BAD("days exponent", "DELETE", H, "days=3e1", "days:"),

	/* 400: downloader */
	BAD("downloader empty", "GET", H, "downloader=", "downloader:"),
	BAD("downloader 65 bytes", "GET", H,
	    "downloader=aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "downloader:"),
	BAD("downloader SQL injection", "GET", H,
	    "downloader=%27%3B%20DROP%20TABLE%20download_monitor%3B%20--", "downloader:"),
	BAD("downloader SQL injection raw", "GET", H,
	    "downloader='; DROP TABLE download_monitor; --", "downloader:"),
	BAD("downloader double quote", "GET", H, "downloader=fast%22dl", "downloader:"),
	BAD("downloader single quote", "GET", H, "downloader=fast'dl", "downloader:"),
	BAD("downloader semicolon", "GET", H, "downloader=fast;dl", "downloader:"),
	BAD("downloader backslash", "GET", H, "downloader=fast%5Cdl", "downloader:"),
	BAD("downloader space", "GET", H, "downloader=fast+dl", "downloader:"),
	BAD("downloader NUL", "GET", H, "downloader=fast%00dl", "downloader:"),
	BAD("downloader slash", "GET", H, "downloader=..%2Fetc", "downloader:"),
	BAD("downloader UTF-8", "GET", H, "downloader=f%C3%A4st", "downloader:"),
	BAD("downloader percent wildcard", "GET", H, "downloader=%25", "downloader:"),
	BAD("downloader twice", "GET", H, "downloader=a&downloader=b", "more than once"),

	/* 400: escapes */
	BAD("bad escape %zz", "GET", S, "hours=%zz", "percent-escape"),
	BAD("truncated escape %4", "GET", S, "hours=%4", "percent-escape"),
	BAD("lone percent", "GET", S, "hours=%", "percent-escape"),
	BAD("bad escape in an unknown key", "GET", S, "x%g1=1&hours=2", "percent-escape"),
	BAD("bad escape in an unknown value", "GET", H, "x=%%", "percent-escape"),
};

static void
test_table(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		const struct tcase *t = &cases[i];
		struct cgi_request r;

		cgi_parse(t->method, t->path_info, t->request_uri, t->script_name, t->query, &r);
		if (r.http_status != t->status) {
			print_error("case '%s': status %d, expected %d (%s)\n", t->name,
			    r.http_status, t->status, r.error);
			fail();
		}
		if (t->status == 200) {
			assert_int_equal(r.route, t->route);
			assert_string_equal(r.error, "");
			assert_null(r.allow);
			assert_int_equal(r.hours, t->hours ? t->hours : CGI_DEFAULT_HOURS);
			assert_int_equal(r.limit, t->limit ? t->limit : CGI_DEFAULT_LIMIT);
			assert_int_equal(r.days, t->route == CGI_CLEAR ? t->days : CGI_DEFAULT_DAYS);
			assert_string_equal(r.downloader, t->downloader);
			continue;
		}
		assert_int_equal(r.route, CGI_UNKNOWN);
		if (strstr(r.error, t->error_has) == NULL) {
			print_error("case '%s': error '%s' lacks '%s'\n", t->name, r.error,
			    t->error_has);
			fail();
		}
		if (t->allow)
			assert_string_equal(r.allow, t->allow);
		else
			assert_null(r.allow);
	}
}

/* Error texts never echo the request back. */
static void
test_no_echo(void **state)
{
	static const char *const q[] = { "hours=<script>", "downloader=%3Cscript%3E",
	    "limit=<script>" };
	size_t i;

	(void)state;
	for (i = 0; i < 3; i++) {
		struct cgi_request r;
		cgi_parse("GET", i == 0 ? S : H, NULL, NULL, q[i], &r);
		assert_int_equal(r.http_status, 400);
		assert_null(strstr(r.error, "script"));
	}
}

/* A 100 KB query string: parsed to the end, nothing overflows. */
static void
test_huge_query(void **state)
{
	size_t n = 100 * 1024, i;
	char *q = malloc(n + 64);
	struct cgi_request r;

	(void)state;
	assert_non_null(q);
	/* a huge unknown parameter, then the real one */
	memcpy(q, "junk=", 5);
	for (i = 5; i < n; i++)
		q[i] = (char)('a' + i % 26);
	strcpy(q + n, "&hours=7");
	cgi_parse("GET", S, NULL, NULL, q, &r);
	assert_int_equal(r.http_status, 200);
	assert_int_equal(r.hours, 7);

	/* a huge value of a known parameter */
	memcpy(q, "downloader=", 11);
	for (i = 11; i < n; i++)
		q[i] = 'a';
	q[n] = '\0';
	cgi_parse("GET", H, NULL, NULL, q, &r);
	assert_int_equal(r.http_status, 400);
	assert_non_null(strstr(r.error, "downloader:"));

	/* a huge number made of digits */
	memcpy(q, "hours=", 6);
	for (i = 6; i < n; i++)
		q[i] = '0';
	q[n - 1] = '5';
	cgi_parse("GET", S, NULL, NULL, q, &r);
	assert_int_equal(r.http_status, 400);

	/* a bad escape at the very end of a huge value is still seen */
	memcpy(q, "junk=", 5);
	for (i = 5; i < n; i++)
		q[i] = 'b';
	strcpy(q + n - 2, "%z");
	cgi_parse("GET", S, NULL, NULL, q, &r);
	assert_int_equal(r.http_status, 400);

	/* a huge path */
	q[0] = '/';
	for (i = 1; i < n; i++)
		q[i] = 'p';
	q[n] = '\0';
	cgi_parse("GET", NULL, q, NULL, NULL, &r);
	assert_int_equal(r.http_status, 404);
	free(q);
}

static void
test_reason(void **state)
{
	static const struct { int code; const char *text; } t[] = {
		{ 200, "OK" }, { 400, "Bad Request" }, { 403, "Forbidden" },
		{ 404, "Not Found" }, { 405, "Method Not Allowed" },
		{ 500, "Internal Server Error" }, { 503, "Service Unavailable" },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof t / sizeof t[0]; i++)
		assert_string_equal(cgi_reason(t[i].code), t[i].text);
}

static void
test_json_bodies(void **state)
{
	static const struct { const char *in, *out; } t[] = {
		{ "deleting is disabled ([api] allow_delete = false)",
		  "{\"success\":false,\"error\":\"deleting is disabled ([api] allow_delete = false)\"}" },
		{ "quote \" backslash \\ tab \t nl \n",
		  "{\"success\":false,\"error\":\"quote \\\" backslash \\\\ tab \\t nl \\n\"}" },
		{ "ctl \x01 </script>",
		  "{\"success\":false,\"error\":\"ctl \\u0001 </script>\"}" },
		{ "", "{\"success\":false,\"error\":\"\"}" },
	};
	struct strbuf sb = { 0 };
	size_t i;

	(void)state;
	for (i = 0; i < sizeof t / sizeof t[0]; i++) {
		sb_reset(&sb);
		assert_int_equal(cgi_error_json(t[i].in, &sb), DL_OK);
		assert_string_equal(sb.buf, t[i].out);
	}
	sb_free(&sb);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_no_echo),
		cmocka_unit_test(test_huge_query),
		cmocka_unit_test(test_reason),
		cmocka_unit_test(test_json_bodies),
	};

	msg_init("test_cgi");
	return cmocka_run_group_tests(tests, NULL, NULL);
}
