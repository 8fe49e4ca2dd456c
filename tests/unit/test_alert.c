/*
 * test_alert.c — notification texts (alert.c): the seed's example byte for
 * byte, left-out lines, duration/ago boundaries, sanitising tables (bytes in
 * → bytes out), limits.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alert.h"

#define NOW ((time_t)1763560800)
#define H 3600
#define M 60
#define FFFD "\xEF\xBF\xBD"
#define SIREN "\xF0\x9F\x9A\xA8"
#define ELL "\xE2\x80\xA6"

/* Code points in a UTF-8 string (counts lead bytes). */
static size_t
cps(const char *s)
{
	size_t n = 0;

	for (; *s; s++)
		if (((unsigned char)*s & 0xC0) != 0x80)
			n++;
	return n;
}

/*
 * An independent strict UTF-8 check (shortest form, no surrogates, <=
 * U+10FFFF) with no control characters except "\n" when allowed.
 */
static int
valid_text(const char *str, int nl_ok)
{
	const unsigned char *s = (const unsigned char *)str;

	while (*s) {
		unsigned long cp;
		int n, i;

		if (*s < 0x80) {
			if ((*s < 0x20 && !(nl_ok && *s == '\n')) || *s == 0x7F)
				return 0;
			s++;
			continue;
		}
		if ((*s & 0xE0) == 0xC0) { n = 1; cp = *s & 0x1F; }
		else if ((*s & 0xF0) == 0xE0) { n = 2; cp = *s & 0x0F; }
		else if ((*s & 0xF8) == 0xF0) { n = 3; cp = *s & 0x07; }
		else return 0;
		for (i = 1; i <= n; i++) {
			if ((s[i] & 0xC0) != 0x80)
				return 0;
			cp = (cp << 6) | (s[i] & 0x3F);
		}
		if ((n == 1 && cp < 0x80) || (n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) ||
		    (cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF || (cp >= 0x80 && cp <= 0x9F))
			return 0;
		s += n + 1;
	}
	return 1;
}

/* --- compose --- */

struct compose_case {
	const char *name;
	const char *display;
	int have_success;
	long long success_ago;          /* seconds before NOW */
	long long fail_ago[4];          /* seconds before NOW, oldest first; 0 ends */
	const char *user, *error;
	const char *title, *message;
};

static const struct compose_case compose_cases[] = {
	{ "the seed's example", "FastDL", 1, 6 * H, {3 * H + 10 * M, 2 * H, 30 * M, 0},
	  "evalongoria", "Cloudflare challenge",
	  SIREN " FastDL Failing",
	  "Downloader has been failing for 3+ hours\n"
	  "Username: evalongoria\n"
	  "Consecutive Failures: 3\n"
	  "Last Success: 6 hours ago\n"
	  "Latest Error: \"Cloudflare challenge\"\n"
	  "Check logs for details." },
	{ "no user, no error, never succeeded", "Toolzu", 0, 0, {3 * H, 1, 0},
	  NULL, NULL,
	  SIREN " Toolzu Failing",
	  "Downloader has been failing for 3+ hours\n"
	  "Consecutive Failures: 2\n"
	  "Last Success: never\n"
	  "Check logs for details." },
	{ "empty user and error are unknown too", "TikTok", 1, 50 * H, {59 * M + 59, 0},
	  "", "",
	  SIREN " TikTok Failing",
	  "Downloader has been failing for 59+ minutes\n"
	  "Consecutive Failures: 1\n"
	  "Last Success: 2 days ago\n"
	  "Check logs for details." },
	{ "only control characters: unknown", "Forums", 1, 90, {60, 0},
	  "\x1b[0m", "\r\n\t",
	  SIREN " Forums Failing",
	  "Downloader has been failing for 1+ minute\n"
	  "Consecutive Failures: 1\n"
	  "Last Success: 1 minute ago\n"
	  "Check logs for details." },
	{ "newlines and colours in fields are removed", "Snap\nchat", 1, H, {H, 0},
	  "bad\nuser", "\x1b[31mERROR:\x1b[0m line1\r\nline2",
	  SIREN " Snapchat Failing",
	  "Downloader has been failing for 1+ hour\n"
	  "Username: baduser\n"
	  "Consecutive Failures: 1\n"
	  "Last Success: 1 hour ago\n"
	  "Latest Error: \"ERROR: line1line2\"\n"
	  "Check logs for details." },
	{ "invalid UTF-8 in the error is replaced", "Coppermine", 1, 47 * H + 59 * M, {2 * H, 0},
	  "caf\xc3\xa9", "bad \xff byte",
	  SIREN " Coppermine Failing",
	  "Downloader has been failing for 2+ hours\n"
	  "Username: caf\xc3\xa9\n"
	  "Consecutive Failures: 1\n"
	  "Last Success: 47 hours ago\n"
	  "Latest Error: \"bad " FFFD " byte\"\n"
	  "Check logs for details." },
};

static void
test_compose_failing(void **state)
{
	size_t i, j;

	(void)state;
	for (i = 0; i < sizeof compose_cases / sizeof compose_cases[0]; i++) {
		const struct compose_case *c = &compose_cases[i];
		struct ev_failure f[4];
		struct ev_history h;
		struct alert_msg m;
		size_t n = 0;

		memset(&h, 0, sizeof h);
		for (j = 0; j < 4 && c->fail_ago[j] != 0; j++, n++) {
			f[j].id = (long long)j + 1;
			f[j].ts = NOW - c->fail_ago[j];
			f[j].alert_sent = 0;
		}
		h.have_success = c->have_success;
		h.success_id = 7;
		h.success_ts = NOW - c->success_ago;
		h.fail = f;
		h.nfail = n;
		h.last_user = c->user;
		h.last_error = c->error;
		alert_compose_failing(c->display, &h, NOW, &m);
		if (strcmp(m.title, c->title) != 0)
			fail_msg("%s: title\n[%s]\nwant\n[%s]", c->name, m.title, c->title);
		if (strcmp(m.message, c->message) != 0)
			fail_msg("%s: message\n[%s]\nwant\n[%s]", c->name, m.message, c->message);
		if (m.timestamp != f[n - 1].ts)
			fail_msg("%s: timestamp is not the latest failure's", c->name);
	}
}

/* An empty streak (a test message): duration 0, timestamp now. */
static void
test_compose_empty_streak(void **state)
{
	struct ev_history h;
	struct alert_msg m;

	(void)state;
	memset(&h, 0, sizeof h);
	alert_compose_failing("FastDL", &h, NOW, &m);
	assert_string_equal(m.message,
	    "Downloader has been failing for 0+ minutes\n"
	    "Consecutive Failures: 0\n"
	    "Last Success: never\n"
	    "Check logs for details.");
	assert_int_equal(m.timestamp, NOW);
}

static char *
repeat(const char *unit, size_t times)
{
	size_t ul = strlen(unit), i;
	char *s = malloc(ul * times + 1);

	assert_non_null(s);
	for (i = 0; i < times; i++)
		memcpy(s + i * ul, unit, ul);
	s[ul * times] = '\0';
	return s;
}

/* Over-long fields: the message stays within the limit and keeps its end. */
static void
test_compose_limits(void **state)
{
	static const char *units[] = { "x", SIREN, "\xc3\xa9", "\x01y" };
	struct ev_failure f = { 1, NOW - 4 * H, 0 };
	struct ev_history h;
	struct alert_msg m;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof units / sizeof units[0]; i++) {
		char *err = repeat(units[i], 2000), *user = repeat(units[i], 2000);
		char *disp = repeat(units[i], 2000);
		const char *tail = "Check logs for details.";
		const char *e;

		memset(&h, 0, sizeof h);
		h.fail = &f;
		h.nfail = 1;
		h.last_user = user;
		h.last_error = err;
		alert_compose_failing(disp, &h, NOW, &m);
		assert_true(cps(m.message) <= ALERT_MESSAGE_MAX);
		assert_true(cps(m.title) <= ALERT_TITLE_MAX);
		assert_true(strlen(m.message) > strlen(tail));
		assert_string_equal(m.message + strlen(m.message) - strlen(tail), tail);
		assert_true(valid_text(m.message, 1));
		assert_true(valid_text(m.title, 0));
		/* the error is cut to 500 code points, marked with "…" */
		e = strstr(m.message, "Latest Error: \"");
		assert_non_null(e);
		e += strlen("Latest Error: \"");
		assert_non_null(strstr(e, ELL "\"\nCheck logs"));
		assert_int_equal(cps(e) - cps(strstr(e, "\"\nCheck logs")), 500);
		assert_non_null(strstr(m.message, "Username: "));
		free(err);
		free(user);
		free(disp);
	}
}

static void
test_compose_recovered(void **state)
{
	struct alert_msg m;

	(void)state;
	alert_compose_recovered("FastDL", NOW - 5 * H, NOW - 15 * M - 59, 4, NOW, &m);
	assert_string_equal(m.title, "\xE2\x9C\x85 FastDL Recovered");
	assert_string_equal(m.message,
	    "Downloader is working again after being down for 4+ hours\n"
	    "Consecutive Failures: 4\n"
	    "Recovered: 15 minutes ago");
	assert_int_equal(m.timestamp, NOW - 15 * M - 59);

	alert_compose_recovered("Image\x1b[1mInn", NOW - 30 * M, NOW - 10, 1, NOW, &m);
	assert_string_equal(m.title, "\xE2\x9C\x85 ImageInn Recovered");
	assert_string_equal(m.message,
	    "Downloader is working again after being down for 29+ minutes\n"
	    "Consecutive Failures: 1\n"
	    "Recovered: 0 minutes ago");
}

static void
test_compose_silent(void **state)
{
	struct alert_msg m;

	(void)state;
	alert_compose_silent("TikTok", NOW - 7 * H - 5 * M, NOW, &m);
	assert_string_equal(m.title, "\xE2\x8F\xB8 TikTok Silent");
	assert_string_equal(m.message,
	    "No download attempt logged for 7+ hours\n"
	    "Last Attempt: 7 hours ago\n"
	    "Check that the downloader is still running.");
	assert_int_equal(m.timestamp, NOW - 7 * H - 5 * M);
}

/* --- durations --- */

struct span_case {
	long long secs;
	const char *duration, *ago;
};

static const struct span_case span_cases[] = {
	{ -5, "0+ minutes", "0 minutes ago" },
	{ 0, "0+ minutes", "0 minutes ago" },
	{ 59, "0+ minutes", "0 minutes ago" },
	{ 60, "1+ minute", "1 minute ago" },
	{ 119, "1+ minute", "1 minute ago" },
	{ 120, "2+ minutes", "2 minutes ago" },
	{ 3599, "59+ minutes", "59 minutes ago" },
	{ 3600, "1+ hour", "1 hour ago" },
	{ 7199, "1+ hour", "1 hour ago" },
	{ 7200, "2+ hours", "2 hours ago" },
	{ 86400, "24+ hours", "24 hours ago" },
	{ 47 * H + 59 * M, "47+ hours", "47 hours ago" },
	{ 48 * H - 1, "47+ hours", "47 hours ago" },
	{ 48 * H, "48+ hours", "2 days ago" },
	{ 72 * H - 1, "71+ hours", "2 days ago" },
	{ 72 * H, "72+ hours", "3 days ago" },
	{ 400LL * 86400, "9600+ hours", "400 days ago" },
};

static void
test_spans(void **state)
{
	char buf[64];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof span_cases / sizeof span_cases[0]; i++) {
		const struct span_case *c = &span_cases[i];

		alert_duration(c->secs, buf, sizeof buf);
		if (strcmp(buf, c->duration) != 0)
			fail_msg("duration(%lld) = \"%s\", want \"%s\"", c->secs, buf, c->duration);
		alert_ago(c->secs, buf, sizeof buf);
		if (strcmp(buf, c->ago) != 0)
			fail_msg("ago(%lld) = \"%s\", want \"%s\"", c->secs, buf, c->ago);
	}
	/* a small buffer is cut, never overrun */
	memset(buf, 'Z', sizeof buf);
	alert_ago(3 * 86400, buf, 5);
	assert_string_equal(buf, "3 da");
	assert_int_equal(buf[5], 'Z');
}

/* --- sanitising --- */

struct san_case {
	const char *name;
	const char *in;
	size_t len;                     /* 0: strlen(in) */
	size_t max_chars;
	int keep_nl;
	size_t size;                    /* 0: the whole test buffer */
	const char *out;
};

#define BIG 100

static const struct san_case san_cases[] = {
	{ "plain", "abc", 0, BIG, 0, 0, "abc" },
	{ "empty", "", 0, BIG, 0, 0, "" },
	{ "C0 and DEL removed", "a\tb\rc\x01" "d\x7f" "e\x1f", 0, BIG, 0, 0, "abcde" },
	{ "NUL removed", "a\0b", 3, BIG, 0, 0, "ab" },
	{ "newline removed", "a\nb\n", 0, BIG, 0, 0, "ab" },
	{ "newline kept", "a\nb\n", 0, BIG, 1, 0, "a\nb\n" },
	{ "CR removed even with newlines", "a\r\nb", 0, BIG, 1, 0, "a\nb" },
	{ "CSI colour sequences", "\x1b[1;31mred\x1b[0m!", 0, BIG, 0, 0, "red!" },
	{ "CSI with intermediate", "a\x1b[?25hb", 0, BIG, 0, 0, "ab" },
	{ "lone ESC", "a\x1b" "b", 0, BIG, 0, 0, "ab" },
	{ "ESC [ cut short", "a\x1b[12", 0, BIG, 0, 0, "a" },
	{ "C1 controls removed", "a\xc2\x85" "b\xc2\x9b" "c\xc2\x80", 0, BIG, 0, 0, "abc" },
	{ "U+00A0 kept", "a\xc2\xa0" "b", 0, BIG, 0, 0, "a\xc2\xa0" "b" },
	{ "2-byte kept", "caf\xc3\xa9", 0, BIG, 0, 0, "caf\xc3\xa9" },
	{ "3-byte kept", "\xe2\x82\xac", 0, BIG, 0, 0, "\xe2\x82\xac" },
	{ "4-byte emoji kept", SIREN "!", 0, BIG, 0, 0, SIREN "!" },
	{ "U+10FFFF kept", "\xf4\x8f\xbf\xbf", 0, BIG, 0, 0, "\xf4\x8f\xbf\xbf" },
	{ "U+FFFD kept", FFFD, 0, BIG, 0, 0, FFFD },
	{ "lone continuation", "a\x80" "b", 0, BIG, 0, 0, "a" FFFD "b" },
	{ "0xFF", "\xff", 0, BIG, 0, 0, FFFD },
	{ "0xF5 lead", "\xf5\x80", 0, BIG, 0, 0, FFFD FFFD },
	{ "overlong 2-byte C0 AF", "\xc0\xaf", 0, BIG, 0, 0, FFFD FFFD },
	{ "overlong 3-byte", "\xe0\x80\xaf", 0, BIG, 0, 0, FFFD FFFD FFFD },
	{ "overlong 4-byte", "\xf0\x80\x80\xaf", 0, BIG, 0, 0, FFFD FFFD FFFD FFFD },
	{ "surrogate", "\xed\xa0\x80", 0, BIG, 0, 0, FFFD FFFD FFFD },
	{ "above U+10FFFF", "\xf4\x90\x80\x80", 0, BIG, 0, 0, FFFD FFFD FFFD FFFD },
	{ "truncated 3-byte at the end", "a\xe2\x82", 0, BIG, 0, 0, "a" FFFD },
	{ "truncated 3-byte before ASCII", "\xe2\x82" "a", 0, BIG, 0, 0, FFFD "a" },
	{ "truncated 4-byte before ASCII", "\xf0\x9f\x9a" "x", 0, BIG, 0, 0, FFFD "x" },
	{ "truncated sequence before a lead", "\xe2\xe2\x82\xac", 0, BIG, 0, 0,
	  FFFD "\xe2\x82\xac" },
	{ "len stops inside a code point", SIREN, 2, BIG, 0, 0, FFFD },
	{ "at the limit: not cut", "abcdef", 0, 6, 0, 0, "abcdef" },
	{ "one over: cut with …", "abcdef", 0, 5, 0, 0, "abcd" ELL },
	{ "cut at 4", "abcdef", 0, 4, 0, 0, "abc" ELL },
	{ "cut at 1", "abcdef", 0, 1, 0, 0, ELL },
	{ "max 0", "abcdef", 0, 0, 0, 0, "" },
	{ "removed chars do not count", "\x1b[0ma\x01" "b", 0, 2, 0, 0, "ab" },
	{ "emoji cut whole", SIREN SIREN SIREN, 0, 2, 0, 0, SIREN ELL },
	{ "byte limit: cut with …", "abcdef", 0, BIG, 0, 6, "ab" ELL },
	{ "byte limit: exact fit", "abcde", 0, BIG, 0, 6, "abcde" },
	{ "byte limit never splits a code point", SIREN SIREN, 0, BIG, 0, 8, SIREN ELL },
	{ "byte limit: only … fits", SIREN SIREN, 0, BIG, 0, 4, ELL },
	{ "byte limit: not even …", "abcdef", 0, BIG, 0, 3, "ab" },
	{ "size 1", "abc", 0, BIG, 0, 1, "" },
};

static void
test_sanitize_table(void **state)
{
	char buf[256];
	size_t i, k;

	(void)state;
	for (i = 0; i < sizeof san_cases / sizeof san_cases[0]; i++) {
		const struct san_case *c = &san_cases[i];
		size_t len = c->len ? c->len : strlen(c->in);
		size_t size = c->size ? c->size : sizeof buf;

		memset(buf, 0xAA, sizeof buf);
		alert_sanitize(buf, size, c->in, len, c->max_chars, c->keep_nl);
		if (strcmp(buf, c->out) != 0)
			fail_msg("%s: got [%s], want [%s]", c->name, buf, c->out);
		for (k = size; k < sizeof buf; k++)
			if ((unsigned char)buf[k] != 0xAA)
				fail_msg("%s: wrote past size at %zu", c->name, k);
	}
}

/* size 0 writes nothing; NULL src is empty. */
static void
test_sanitize_edges(void **state)
{
	char buf[8];

	(void)state;
	memset(buf, 'Q', sizeof buf);
	alert_sanitize(buf, 0, "abc", 3, 10, 0);
	assert_int_equal(buf[0], 'Q');
	alert_sanitize(buf, sizeof buf, NULL, 5, 10, 0);
	assert_string_equal(buf, "");
}

/*
 * Property check on pseudo-random bytes (fixed seed): the output is always
 * strict UTF-8 without controls, within both limits, and sanitising it again
 * changes nothing.
 */
static void
test_sanitize_random(void **state)
{
	unsigned long x = 12345;
	char in[64], out[200], again[200];
	int round;

	(void)state;
	for (round = 0; round < 20000; round++) {
		size_t len = (size_t)(round % 64), i, max = (size_t)(round % 40);
		size_t size = 1 + (size_t)(round % 150);

		for (i = 0; i < len; i++) {
			x = x * 6364136223846793005UL + 1442695040888963407UL;
			/* bias towards interesting bytes */
			in[i] = (char)((x >> 33) % 3 == 0 ? 0x80 + (x >> 40) % 0x80 : (x >> 40));
		}
		alert_sanitize(out, size, in, len, max, round & 1);
		assert_true(strlen(out) < size);
		assert_true(cps(out) <= max);
		if (!valid_text(out, round & 1))
			fail_msg("round %d: invalid output", round);
		alert_sanitize(again, sizeof again, out, strlen(out), max, round & 1);
		assert_string_equal(again, out);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_compose_failing),
		cmocka_unit_test(test_compose_empty_streak),
		cmocka_unit_test(test_compose_limits),
		cmocka_unit_test(test_compose_recovered),
		cmocka_unit_test(test_compose_silent),
		cmocka_unit_test(test_spans),
		cmocka_unit_test(test_sanitize_table),
		cmocka_unit_test(test_sanitize_edges),
		cmocka_unit_test(test_sanitize_random),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
