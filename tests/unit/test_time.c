/*
 * test_time.c — the timestamp fast paths: parse_time's canonical
 * "%Y-%m-%d %H:%M:%S" / "%Y-%m-%dT%H:%M:%S" path (parse.c) and
 * dlt_format_memo (util.c).  Both must agree exactly with the slow path they
 * short-cut, so every case is compared with that slow path (strptime +
 * mktime, dlt_format) rather than with written-down answers: edge tables,
 * then seeded random inputs, in several time zones.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "conf.h"
#include "parse.h"
#include "util.h"

static const char FMT_SP[] = "%Y-%m-%d %H:%M:%S";
static const char FMT_T[] = "%Y-%m-%dT%H:%M:%S";

/* xorshift64: seeded, so a failure is reproducible. */
static uint64_t rng = 0x9e3779b97f4a7c15u;

static uint64_t
rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

/* Uniform-enough integer in [lo, hi]. */
static long long
rnd_in(long long lo, long long hi)
{
	return lo + (long long)(rnd() % (uint64_t)(hi - lo + 1));
}

static char *saved_tz;
static int tz_saved;

static void
set_tz(const char *zone)
{
	if (!tz_saved) {
		const char *old = getenv("TZ");

		saved_tz = old ? strdup(old) : NULL;
		tz_saved = 1;
	}
	setenv("TZ", zone, 1);
	tzset();
}

static void
restore_tz(void)
{
	if (!tz_saved)
		return;
	if (saved_tz)
		setenv("TZ", saved_tz, 1);
	else
		unsetenv("TZ");
	tzset();
	free(saved_tz);
	saved_tz = NULL;
	tz_saved = 0;
}

/* parse.c's rule for what may follow the timestamp: "" or [.,][0-9]+. */
static int
frac_tail(const char *s, size_t n)
{
	size_t i;

	if (n == 0)
		return 1;
	if (n < 2 || (s[0] != '.' && s[0] != ','))
		return 0;
	for (i = 1; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return 0;
	return 1;
}

/*
 * The slow path, written out: strptime into a zeroed tm (day 1), the
 * fractional tail, mktime with tm_isdst = -1.  Only for formats with year
 * and date, where parse_time needs no reference time.
 */
static int
slow_parse(const char *text, size_t len, const char *fmt, time_t *out)
{
	char buf[128];
	struct tm tm;
	const char *end;
	time_t t;

	if (len >= sizeof buf)
		return -1;
	memcpy(buf, text, len);
	buf[len] = '\0';
	memset(&tm, 0, sizeof tm);
	tm.tm_mday = 1;
	end = strptime(buf, fmt, &tm);
	if (end == NULL || !frac_tail(end, len - (size_t)(end - buf)))
		return -1;
	tm.tm_isdst = -1;
	errno = 0;
	t = mktime(&tm);
	if (t == (time_t)-1 && errno != 0)
		return -1;
	*out = t;
	return 0;
}

/*
 * glibc's mktime starts from the offset of its previous result, which
 * decides an ambiguous local time (the hour repeated in autumn).  Both paths
 * are run after the same priming call, once from summer and once from
 * winter, so they must agree on both answers.
 */
static void
prime_mktime(int summer)
{
	struct tm tm;

	memset(&tm, 0, sizeof tm);
	tm.tm_year = 125;
	tm.tm_mon = summer ? 6 : 0;
	tm.tm_mday = 15;
	tm.tm_hour = 12;
	tm.tm_isdst = -1;
	(void)mktime(&tm);
}

/* parse_time (fast path when it applies) against slow_parse; returns rc. */
static int
check_same(const char *text, size_t len, const char *fmt, const char *zone)
{
	int summer, rc = 0;

	for (summer = 0; summer < 2; summer++) {
		time_t want = 0, got = 0;
		int wrc, grc;

		prime_mktime(summer);
		wrc = slow_parse(text, len, fmt, &want);
		prime_mktime(summer);
		grc = parse_time(text, len, fmt, 0, &got);
		if (grc != wrc || (grc == 0 && got != want))
			fail_msg("%s, '%.*s' with '%s': parse_time rc %d t %lld, "
			    "strptime+mktime rc %d t %lld", zone, (int)len, text,
			    fmt, grc, (long long)got, wrc, (long long)want);
		rc = grc;
	}
	return rc;
}

/*
 * The field ranges the fast path assumes are glibc's (time/strptime_l.c:
 * %Y 0..9999, %m 1..12, %d 1..31, %H 0..23, %M 0..59, %S 0..61): every
 * two-digit value of each field, and every year, is put to strptime itself.
 */
static void
test_strptime_ranges(void **state)
{
	static const struct {
		int off, width, lo, hi;
	} fields[] = {
		{ 0, 4, 0, 9999 }, { 5, 2, 1, 12 }, { 8, 2, 1, 31 },
		{ 11, 2, 0, 23 }, { 14, 2, 0, 59 }, { 17, 2, 0, 61 },
	};
	size_t f;
	int v, max;

	(void)state;
	for (f = 0; f < sizeof fields / sizeof fields[0]; f++) {
		max = fields[f].width == 4 ? 9999 : 99;
		for (v = 0; v <= max; v++) {
			char text[32], num[8];
			struct tm tm;
			const char *end;
			int ok;

			strcpy(text, "2024-06-15 12:30:30");
			snprintf(num, sizeof num, "%0*d", fields[f].width, v);
			memcpy(text + fields[f].off, num, (size_t)fields[f].width);
			memset(&tm, 0, sizeof tm);
			end = strptime(text, FMT_SP, &tm);
			ok = end != NULL && end == text + 19;
			if (ok != (v >= fields[f].lo && v <= fields[f].hi))
				fail_msg("strptime '%s': %s, range %d..%d", text,
				    ok ? "accepted" : "refused", fields[f].lo,
				    fields[f].hi);
		}
	}
}

/*
 * Edge inputs; rc is what both paths give (checked, so the table also
 * documents strptime's leniency).  Written with ' '; each is also run with
 * 'T' in place of that space against the 'T' format, and crosswise.
 */
static const struct {
	const char *text;
	int rc;
} edges[] = {
	{ "2025-11-19 09:00:00", 0 },
	{ "1970-01-01 00:00:00", 0 },
	{ "1969-12-31 23:59:59", 0 },
	{ "0000-01-01 00:00:00", 0 },
	{ "0999-06-01 12:00:00", 0 },
	{ "9999-12-31 23:59:59", 0 },
	{ "2038-01-19 03:14:08", 0 },
	/* each field at and beyond its limits */
	{ "2025-00-10 12:00:00", -1 },
	{ "2025-01-10 12:00:00", 0 },
	{ "2025-12-10 12:00:00", 0 },
	{ "2025-13-10 12:00:00", -1 },
	{ "2025-19-10 12:00:00", -1 },
	{ "2025-20-10 12:00:00", -1 },
	{ "2025-99-10 12:00:00", -1 },
	{ "2025-05-00 12:00:00", -1 },
	{ "2025-05-01 12:00:00", 0 },
	{ "2025-05-31 12:00:00", 0 },
	{ "2025-05-32 12:00:00", -1 },
	{ "2025-05-39 12:00:00", -1 },
	{ "2025-05-40 12:00:00", -1 },
	{ "2025-05-10 00:00:00", 0 },
	{ "2025-05-10 23:00:00", 0 },
	{ "2025-05-10 24:00:00", -1 },
	{ "2025-05-10 29:00:00", -1 },
	{ "2025-05-10 30:00:00", -1 },
	{ "2025-05-10 12:59:00", 0 },
	{ "2025-05-10 12:60:00", -1 },
	{ "2025-05-10 12:99:00", -1 },
	{ "2025-05-10 12:00:59", 0 },
	{ "2025-05-10 12:00:60", 0 },
	{ "2025-05-10 12:00:61", 0 },
	{ "2025-05-10 12:00:62", -1 },
	{ "2025-05-10 12:00:69", -1 },
	{ "2025-05-10 12:00:70", -1 },
	{ "2025-05-10 12:00:99", -1 },
	{ "2025-05-10 24:00:00", -1 },
	{ "2025-12-31 23:59:60", 0 },
	{ "2025-12-31 23:59:61", 0 },
	/* the calendar is not checked: mktime normalises */
	{ "2024-02-29 12:00:00", 0 },
	{ "2025-02-29 12:00:00", 0 },
	{ "2000-02-29 12:00:00", 0 },
	{ "1900-02-29 12:00:00", 0 },
	{ "2025-02-30 12:00:00", 0 },
	{ "2025-04-31 12:00:00", 0 },
	/* tails */
	{ "2025-11-19 09:00:00.123", 0 },
	{ "2025-11-19 09:00:00,5", 0 },
	{ "2025-11-19 09:00:00.", -1 },
	{ "2025-11-19 09:00:00,", -1 },
	{ "2025-11-19 09:00:00x", -1 },
	{ "2025-11-19 09:00:00 ", -1 },
	{ "2025-11-19 09:00:00.12a", -1 },
	{ "2025-11-19 09:00:001", -1 },
	{ "2025-11-19 09:00:00.1234567890123456789012345678901234567890", 0 },
	/* shorter, or not the canonical shape: strptime decides */
	{ "2025-11-19 09:00:0", 0 },
	{ "2025-11-19 09:00:", -1 },
	{ "2025-11-19 09:00", -1 },
	{ "2025-11-19", -1 },
	{ "", -1 },
	{ "2025-1-19 09:00:00", 0 },
	{ "2025-11-19 9:00:00", 0 },
	{ "2025-11-19  09:00:00", 0 },
	{ "2025-11-19\t09:00:00", 0 },
	{ " 2025-11-19 09:00:00", 0 },
	{ "2025-11-19 09:00: 0", 0 },
	{ "25-11-19 09:00:00", 0 },
	{ "20251-11-19 09:00:00", -1 },
	{ "2025-1a-19 09:00:00", -1 },
	{ "2025-11-19 09:0a:00", -1 },
	{ "2025-11-19 09:00:0a", -1 },
	{ "+025-11-19 09:00:00", -1 },
	{ "2025/11/19 09:00:00", -1 },
	{ "2025-11-19_09:00:00", -1 },
	{ "2025-11-19 09-00-00", -1 },
	{ "\xff\xfe\xfd\xfc-11-19 09:00:00", -1 },
	/* daylight saving: gaps and overlaps (Berlin, New York) */
	{ "2025-03-30 01:59:59", 0 },
	{ "2025-03-30 02:00:00", 0 },
	{ "2025-03-30 02:30:00", 0 },
	{ "2025-03-30 03:00:00", 0 },
	{ "2025-10-26 01:59:59", 0 },
	{ "2025-10-26 02:00:00", 0 },
	{ "2025-10-26 02:30:00", 0 },
	{ "2025-10-26 02:59:59", 0 },
	{ "2025-10-26 03:00:00", 0 },
	{ "2025-03-09 02:30:00", 0 },
	{ "2025-11-02 01:30:00", 0 },
};

static const char *const parse_zones[] = {
	"UTC", "Europe/Berlin", "America/New_York"
};

static void
test_parse_edges(void **state)
{
	size_t z, i;
	int rc;

	(void)state;
	for (z = 0; z < sizeof parse_zones / sizeof parse_zones[0]; z++) {
		set_tz(parse_zones[z]);
		for (i = 0; i < sizeof edges / sizeof edges[0]; i++) {
			char t[128];
			size_t len = strlen(edges[i].text);

			rc = check_same(edges[i].text, len, FMT_SP, parse_zones[z]);
			if (rc != edges[i].rc)
				fail_msg("'%s': rc %d, table says %d", edges[i].text,
				    rc, edges[i].rc);
			/* Crosswise: against the 'T' format, a literal 'T'. */
			check_same(edges[i].text, len, FMT_T, parse_zones[z]);
			memcpy(t, edges[i].text, len + 1);
			if (len > 10 && t[10] == ' ') {
				t[10] = 'T';
				rc = check_same(t, len, FMT_T, parse_zones[z]);
				if (rc != edges[i].rc)
					fail_msg("'%s': rc %d, table says %d", t, rc,
					    edges[i].rc);
				/* 'T' against the space format: strptime fails. */
				check_same(t, len, FMT_SP, parse_zones[z]);
			}
		}
		/* Only len bytes count, and a NUL inside the text fails. */
		check_same("2025-11-19 09:00:00garbage", 19, FMT_SP, parse_zones[z]);
		check_same("2025-11-19 09:00:00.5x", 21, FMT_SP, parse_zones[z]);
		assert_int_equal(check_same("2025-11-19 09:00:00\0.5", 22, FMT_SP,
		    parse_zones[z]), -1);
		assert_int_equal(check_same("2025-11-19\0" "09:00:00", 19, FMT_SP,
		    parse_zones[z]), -1);
	}
	restore_tz();
}

/*
 * ~10,000 random canonical-shaped strings per zone: half with every digit
 * random (mostly out of range: the fallback), half with in-range fields
 * (the fast path), some with a wrong separator, each with a random tail.
 */
static void
test_parse_random(void **state)
{
	static const char *const tails[] = {
		"", "", "", ".123", ",5", ".", ",", "x", " ", "7", ".9z", ",000001"
	};
	static const char *const zones[] = { "UTC", "Europe/Berlin" };
	size_t z;
	int i, k;

	(void)state;
	for (z = 0; z < sizeof zones / sizeof zones[0]; z++) {
		set_tz(zones[z]);
		for (i = 0; i < 10000; i++) {
			char text[64];
			int n, tsep = (int)(rnd() & 1);
			const char *fmt = tsep ? FMT_T : FMT_SP;

			if (i % 2 == 0) {
				strcpy(text, "dddd-dd-dd?dd:dd:dd");
				for (k = 0; k < 19; k++)
					if (text[k] == 'd')
						text[k] = (char)('0' + rnd() % 10);
			} else {
				/* Mostly years near now, where DST rules apply. */
				int y = (int)(rnd() % 8 ? rnd_in(1965, 2040) :
				    rnd_in(0, 9999));

				snprintf(text, sizeof text,
				    "%04d-%02d-%02d?%02d:%02d:%02d", y,
				    (int)rnd_in(1, 12), (int)rnd_in(1, 31),
				    (int)rnd_in(0, 23), (int)rnd_in(0, 59),
				    (int)rnd_in(0, 61));
			}
			text[10] = tsep ? 'T' : ' ';
			if (rnd() % 16 == 0)
				text[10] = tsep ? ' ' : 'T';
			n = snprintf(text + 19, sizeof text - 19, "%s",
			    tails[rnd() % (sizeof tails / sizeof tails[0])]);
			check_same(text, 19 + (size_t)n, fmt, zones[z]);
		}
		/* Every 17th second of 00:00-04:00 on Berlin's 2025 change days. */
		for (i = 0; i < 4 * 3600; i += 17) {
			char text[32];
			int d;

			for (d = 0; d < 2; d++) {
				snprintf(text, sizeof text, "%s %02d:%02d:%02d",
				    d ? "2025-10-26" : "2025-03-30", i / 3600,
				    i / 60 % 60, i % 60);
				check_same(text, 19, FMT_SP, zones[z]);
				text[10] = 'T';
				check_same(text, 19, FMT_T, zones[z]);
			}
		}
	}
	restore_tz();
}

/*
 * A parser's timestamps (its one-entry cache, the same-minute short cut of
 * ts_parse and the hour memo behind them) against slow_parse, over runs of
 * lines: seconds stepping by 0..90 (often within one minute), fractional
 * tails, steps back, a byte changed now and then, across the offset
 * changes of zones with whole-hour, half-hour and no DST.  A local time
 * that two offsets share (the hour repeated in autumn) has no one answer:
 * it is compared only when slow_parse gives one from summer and winter.
 */
static void
test_parse_lines(void **state)
{
	static const struct {
		const char *zone, *start;
	} runs[] = {
		{ "UTC", "2025-01-06 00:00:00" },
		{ "Europe/Berlin", "2025-03-30 00:30:00" },
		{ "Europe/Berlin", "2025-10-26 00:30:00" },
		{ "America/New_York", "2025-11-02 00:00:00" },
		{ "Australia/Lord_Howe", "2025-04-06 00:00:00" },
		{ "Australia/Lord_Howe", "2025-10-05 01:00:00" },
		{ "Asia/Kathmandu", "1985-12-31 23:00:00" },
	};
	static const char *const tails[] = { "", "", "", ",123", ".5", ",", "x" };
	static struct conf c = { .path = (char *)"test.conf" };
	struct conf_source cs;
	struct conf_pattern ps;
	struct parser *p;
	struct parse_state st;
	struct attempt a;
	enum parse_result r;
	enum parse_kind k;
	size_t i;
	long n, compared = 0;
	int err;

	(void)state;
	memset(&cs, 0, sizeof cs);
	cs.name = (char *)"t";
	cs.downloader = (char *)"d";
	cs.time_format = (char *)FMT_SP;
	ps.text = (char *)"^(?<ts>[^|]*)\\|ok$";
	ps.line = 1;
	cs.success = &ps;
	cs.nsuccess = 1;
	for (i = 0; i < sizeof runs / sizeof runs[0]; i++) {
		struct tm tm;
		time_t t;

		set_tz(runs[i].zone);
		assert_non_null(p = parser_new(&c, &cs, &err));
		memset(&st, 0, sizeof st);
		memset(&tm, 0, sizeof tm);
		assert_non_null(strptime(runs[i].start, FMT_SP, &tm));
		tm.tm_isdst = -1;
		t = mktime(&tm);
		for (n = 0; n < 20000; n++) {
			char line[96], text[64];
			time_t w0, w1, got;
			int len, tl, wr0, wr1;

			t += rnd() % 4 == 0 ? (time_t)rnd_in(0, 90) : (time_t)rnd_in(0, 3);
			if (rnd() % 64 == 0)
				t -= (time_t)rnd_in(1, 4000);
			localtime_r(&t, &tm);
			tl = (int)strftime(text, sizeof text, "%Y-%m-%d %H:%M:%S", &tm);
			if (rnd() % 50 == 0)       /* any byte: a month 9x, a colon lost */
				text[rnd() % 19] = (char)rnd_in(' ', '~');
			if (rnd() % 50 == 0)       /* seconds 60..99 */
				text[17] = (char)rnd_in('6', '9');
			tl += snprintf(text + tl, sizeof text - (size_t)tl, "%s",
			    tails[rnd() % (sizeof tails / sizeof tails[0])]);
			len = snprintf(line, sizeof line, "%s|ok", text);
			r = parse_line(p, &st, line, (size_t)len, "t", (unsigned long)n, &a, &k);
			prime_mktime(1);
			wr1 = slow_parse(text, (size_t)tl, FMT_SP, &w1);
			prime_mktime(0);
			wr0 = slow_parse(text, (size_t)tl, FMT_SP, &w0);
			if (wr0 != wr1 || (wr0 == 0 && w0 != w1))
				continue;  /* ambiguous */
			got = r == PARSE_ATTEMPT ? a.ts : 0;
			if ((r == PARSE_ATTEMPT) != (wr0 == 0) || (wr0 == 0 && got != w0))
				fail_msg("%s, '%s' (line %ld): parser %s %lld, slow path %s %lld",
				    runs[i].zone, text, n, r == PARSE_ATTEMPT ? "ok" : "no",
				    (long long)got, wr0 == 0 ? "ok" : "no", (long long)w0);
			compared++;
		}
		parser_free(p);
	}
	assert_true(compared > 100000);
	restore_tz();
}

/* dlt_format_memo against dlt_format for one time; counts comparisons. */
static long n_compared;

static void
check_fmt(struct dlt_memo *m, time_t t, const char *zone)
{
	char want[DLT_BUFSZ], got[DLT_BUFSZ];

	dlt_format(t, want);
	memset(got, 'x', sizeof got);
	dlt_format_memo(m, t, got);
	n_compared++;
	if (memcmp(want, got, strlen(want) + 1) != 0)
		fail_msg("%s, t %lld: dlt_format_memo '%.*s', dlt_format '%s'",
		    zone, (long long)t, DLT_BUFSZ, got, want);
}

/* The first second at or after lo (< hi) with another UTC offset than lo's. */
static time_t
next_change(time_t lo, time_t hi)
{
	struct tm a, b;
	time_t mid;

	localtime_r(&lo, &a);
	localtime_r(&hi, &b);
	if (a.tm_gmtoff == b.tm_gmtoff)
		return (time_t)-1;
	while (hi - lo > 1) {
		mid = lo + (hi - lo) / 2;
		localtime_r(&mid, &b);
		if (b.tm_gmtoff == a.tm_gmtoff)
			lo = mid;
		else
			hi = mid;
	}
	return hi;
}

/*
 * Each zone over a span of years: every offset change found (by stepping a
 * day, then bisecting) is walked second by second forwards and backwards;
 * then sequential runs with small random steps, runs stepping backwards,
 * and random jumps.  Monrovia's -0:44:30 (until 1972-01-07) cannot be
 * memoised; Lord Howe shifts by 30 minutes; the "right/" zone counts leap
 * seconds (1972-06-30 23:59:60 is in the span).
 */
static void
test_format_memo(void **state)
{
	static const struct {
		const char *zone;
		int y0, y1;                /* years walked, inclusive */
	} zones[] = {
		{ "UTC", 2024, 2025 },
		{ "Europe/Berlin", 2024, 2026 },
		{ "America/New_York", 2024, 2025 },
		{ "Australia/Lord_Howe", 2024, 2025 },
		{ "Africa/Monrovia", 1971, 1972 },
		{ "Asia/Kathmandu", 1985, 1986 },
		{ "right/Europe/Berlin", 1972, 1972 },
	};
	static const long long odd[] = {
		0, -1, 59, 60, -59, -60, -61,
		-62135596800LL,            /* 0001-01-01 UTC */
		-30610224000LL,            /* 1000-01-01 */
		-30610224001LL,            /* 0999: three-digit year */
		253402300799LL,            /* 9999-12-31T23:59:59 */
		253402300800LL,            /* 10000: five digits */
		INT64_MAX, INT64_MAX - 59, INT64_MIN, INT64_MIN + 60,
		(long long)INT32_MAX, (long long)INT32_MIN,
	};
	size_t z, i;
	long long before;

	(void)state;
	n_compared = 0;
	for (z = 0; z < sizeof zones / sizeof zones[0]; z++) {
		struct dlt_memo m;
		struct tm tm;
		time_t lo, hi, t, c;
		int step;
		char path[128];

		snprintf(path, sizeof path, "/usr/share/zoneinfo/%s", zones[z].zone);
		if (access(path, R_OK) != 0) {
			/* tzdata without "right/" zones: nothing to compare. */
			if (strncmp(zones[z].zone, "right/", 6) == 0)
				continue;
			fail_msg("no zone file %s", path);
		}
		set_tz(zones[z].zone);
		memset(&m, 0, sizeof m);
		memset(&tm, 0, sizeof tm);
		tm.tm_year = zones[z].y0 - 1900;
		tm.tm_mday = 1;
		tm.tm_isdst = -1;
		lo = mktime(&tm);
		tm.tm_year = zones[z].y1 + 1 - 1900;
		hi = mktime(&tm);
		before = n_compared;

		/* Offset changes: every second within 3 minutes either side. */
		for (t = lo; t < hi; t += 86400) {
			c = next_change(t, t + 86400);
			if (c == (time_t)-1)
				continue;
			for (step = -180; step <= 180; step++)
				check_fmt(&m, c + step, zones[z].zone);
			for (step = 180; step >= -180; step--)
				check_fmt(&m, c + step, zones[z].zone);
		}
		/* Sequential runs, forwards with small steps, then backwards. */
		for (i = 0; i < 12; i++) {
			int k;

			t = (time_t)rnd_in(lo, hi);
			for (k = 0; k < 800; k++) {
				t += (time_t)rnd_in(0, 5);
				check_fmt(&m, t, zones[z].zone);
			}
			for (k = 0; k < 400; k++) {
				t -= (time_t)rnd_in(1, 7);
				check_fmt(&m, t, zones[z].zone);
			}
		}
		/* Jumps anywhere in the span, and to just after the last time. */
		for (i = 0; i < 2000; i++) {
			t = (time_t)rnd_in(lo, hi);
			check_fmt(&m, t, zones[z].zone);
			check_fmt(&m, t + (time_t)rnd_in(-70, 70), zones[z].zone);
		}
		for (i = 0; i < sizeof odd / sizeof odd[0]; i++) {
			check_fmt(&m, (time_t)odd[i], zones[z].zone);
			check_fmt(&m, (time_t)odd[i], zones[z].zone);
		}
		if (n_compared - before < 10000)
			fail_msg("%s: only %ld comparisons", zones[z].zone,
			    (long)(n_compared - before));
	}
	restore_tz();
	if (n_compared < 100000)
		fail_msg("only %ld comparisons", n_compared);
}

/* A zeroed memo is empty; a memo filled in one zone is zeroed for the next. */
static void
test_format_memo_basic(void **state)
{
	static const struct {
		const char *zone, *want;
		long long t;
	} cases[] = {
		{ "UTC", "2025-11-19T09:00:00", 1763542800LL },
		{ "UTC", "2025-11-19T09:00:59", 1763542859LL },
		{ "UTC", "2025-11-19T09:01:00", 1763542860LL },
		{ "UTC", "1969-12-31T23:59:59", -1 },
		{ "Europe/Berlin", "2025-11-19T10:00:00", 1763542800LL },
		{ "Europe/Berlin", "2025-10-26T02:59:59", 1761440399LL },
		{ "Europe/Berlin", "2025-10-26T02:00:00", 1761440400LL },
		{ "Africa/Monrovia", "1971-06-01T11:15:30", 44625600LL },
		{ "Africa/Monrovia", "1971-06-01T11:15:31", 44625601LL },
	};
	struct dlt_memo m;
	const char *zone = NULL;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char buf[DLT_BUFSZ];

		if (zone == NULL || strcmp(zone, cases[i].zone) != 0) {
			zone = cases[i].zone;
			set_tz(zone);
			memset(&m, 0, sizeof m);
		}
		dlt_format_memo(&m, (time_t)cases[i].t, buf);
		if (strcmp(buf, cases[i].want) != 0)
			fail_msg("%s %lld: got %s, want %s", zone, cases[i].t, buf,
			    cases[i].want);
	}
	restore_tz();
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_strptime_ranges),
		cmocka_unit_test(test_parse_edges),
		cmocka_unit_test(test_parse_random),
		cmocka_unit_test(test_parse_lines),
		cmocka_unit_test(test_format_memo_basic),
		cmocka_unit_test(test_format_memo),
	};

	msg_init("test_time");
	msg_set_verbosity(-1);     /* the out-of-range texts are warned of */
	return cmocka_run_group_tests(tests, NULL, NULL);
}
