/*
 * parse.c — log lines to download attempts with a source's PCRE2 patterns.
 * See parse.h for the contract and SPEC "Configuration file" / "Ingestion".
 *
 * Matching order: a line is tried against the success patterns, then the
 * failure patterns, then the start patterns, in configuration order; the
 * first match wins.  Success goes first because downloaders commonly log a
 * final "done" line that also mentions earlier retried errors, and a line
 * reporting a result is more specific than a generic error pattern.  Lines no
 * result/start pattern matches are tried against the `timestamp` pattern.
 *
 * Speed: every pattern is compiled once, JIT-compiled when available, and
 * matched with one reused match_data, so a line costs no allocation.  There
 * is no cross-pattern literal prefilter: PCRE2 already skips ahead with its
 * own first/required code unit searches (memchr), and extracting literals
 * that all patterns share from arbitrary regexes is not worth the risk of a
 * prefilter that rejects a line a pattern would match.  Timestamps are parsed
 * through a one-entry cache, since consecutive lines mostly carry the same
 * second.
 */
#define PCRE2_CODE_UNIT_WIDTH 8

#include "parse.h"

#include <errno.h>
#include <limits.h>
#include <pcre2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "literal.h"
#include "prefilter.h"
#include "util.h"

#define MATCH_LIMIT 1000000u       /* bounds catastrophic backtracking */
#define DEPTH_LIMIT 100000u        /* bounds nested backtracking (interpreter) */
#define JIT_STACK_MIN (32 * 1024)
#define JIT_STACK_MAX (1024 * 1024)
#define TS_MAX 128                 /* longest ts text parse_time accepts, + NUL */
#define DEFAULT_TIME_FORMAT "%Y-%m-%d %H:%M:%S"

enum { G_TS, G_DL, G_USER, G_COUNT, G_ERROR, G_N };
static const char *const group_names[G_N] = {
	"ts", "downloader", "user", "count", "error"
};

struct pat {
	pcre2_code *code;          /* NULL when absent */
	int jit;                   /* JIT-compiled: pcre2_jit_match may be used */
	int line;                  /* configuration line, for messages */
	int grp[G_N];              /* group numbers, -1 when the group is absent */
	char lit[PARSE_LIT_MAX];     /* required literal (literal.h), lit_len 0: none */
	size_t lit_len;
};

/*
 * Memo of one local hour: glibc's mktime() stats /etc/localtime on every
 * call when TZ is unset, which made it the main cost of a scan.  Within an
 * hour whose start and end are exactly 3600 s apart no offset change
 * happens, so its times are the hour's epoch plus minutes and seconds.
 */
struct hour_memo {
	int valid;
	int year, mon, mday, hour;
	time_t base;
};

struct parser {
	const struct conf_source *cs;
	const char *conf_path;
	const char *time_format;
	int ts_ref_free;           /* format has year and date: ref is irrelevant */

	struct pat *pats;          /* success, failure, start, in this order */
	size_t npats, nsuccess, nfailure;
	struct pat ts;             /* the `timestamp` pattern (code NULL if none) */

	pcre2_match_context *mctx;
	pcre2_jit_stack *jstack;
	pcre2_match_data *md;      /* one for all patterns, sized for the largest */

	char fixed_dl[PARSE_NAME_MAX];
	size_t fixed_dl_len;       /* 0: the source names no downloader */
	char dl[PARSE_NAME_MAX];   /* lower-cased (?<downloader>) of the last line */

	int last_pat;              /* index in pats of the last line's match, -1 none */
	int warned_nodl;           /* "no downloader" is said once per parser */
	int warned_tsline;         /* so is a `timestamp` line that does not parse */

	/* One-entry ts cache: the text strptime consumed and its result;
	 * tc_minute: a canonical text (ts_canonical) in an hour the memo
	 * vouches for, so that the other seconds of its minute are tc_val
	 * plus the difference of seconds. */
	char tc_text[TS_MAX];
	size_t tc_len;
	time_t tc_ref, tc_val;
	int tc_valid, tc_minute;
	struct hour_memo hmemo;

	struct prefilter *pf;      /* NULL: every line is matched */
};

/* Does strptime format fmt contain one of the conversions in convs? */
static int
fmt_has(const char *fmt, const char *convs)
{
	const char *f;

	for (f = fmt; *f != '\0'; f++) {
		if (*f != '%')
			continue;
		f++;
		if (*f == 'E' || *f == 'O')
			f++;
		if (*f == '\0')
			break;
		if (*f != '%' && strchr(convs, *f) != NULL)
			return 1;
	}
	return 0;
}

/* Conversions that set the year, and those that set the calendar day. */
static const char year_convs[] = "YyGgCFDcsx";
static const char date_convs[] = "demjbBhFDcsx";

/* Empty, or [.,][0-9]+: trailing fractional seconds, which are ignored. */
static int
is_frac_tail(const char *s, size_t n)
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

/* "%s" alone: epoch seconds, without the round trip through struct tm. */
static int
parse_epoch(const char *buf, size_t len, time_t *out, size_t *used)
{
	long long v = 0;
	size_t i = 0;

	for (; i < len && buf[i] >= '0' && buf[i] <= '9'; i++) {
		if (v > (LLONG_MAX - 9) / 10)
			return -1;
		v = v * 10 + (buf[i] - '0');
	}
	if (i == 0 || !is_frac_tail(buf + i, len - i))
		return -1;
	*out = (time_t)v;
	*used = i;
	return 0;
}

static int
local_mktime(const struct tm *tm, time_t *out)
{
	struct tm tmp = *tm;
	time_t t;

	tmp.tm_isdst = -1;
	errno = 0;
	t = mktime(&tmp);
	if (t == (time_t)-1 && errno != 0)
		return -1;
	*out = t;
	return 0;
}

/* mktime(tm) with tm_isdst = -1, through the hour memo hm (may be NULL). */
static int
tm_to_time(const struct tm *tm, struct hour_memo *hm, time_t *out)
{
	int plain = tm->tm_min >= 0 && tm->tm_min <= 59 &&
	    tm->tm_sec >= 0 && tm->tm_sec <= 60 &&
	    tm->tm_hour >= 0 && tm->tm_hour <= 23;
	struct tm h;
	time_t t, b0, b1;

	if (hm && hm->valid && plain && hm->year == tm->tm_year &&
	    hm->mon == tm->tm_mon && hm->mday == tm->tm_mday &&
	    hm->hour == tm->tm_hour) {
		*out = hm->base + tm->tm_min * 60 + tm->tm_sec;
		return 0;
	}
	if (local_mktime(tm, &t) < 0)
		return -1;
	*out = t;
	if (hm == NULL || !plain)
		return 0;
	h = *tm;
	h.tm_min = h.tm_sec = 0;
	if (local_mktime(&h, &b0) < 0)
		return 0;
	h.tm_hour++;
	if (local_mktime(&h, &b1) < 0)
		return 0;
	if (b1 - b0 == 3600 && b0 + tm->tm_min * 60 + tm->tm_sec == t) {
		hm->valid = 1;
		hm->year = tm->tm_year;
		hm->mon = tm->tm_mon;
		hm->mday = tm->tm_mday;
		hm->hour = tm->tm_hour;
		hm->base = b0;
	} else {
		hm->valid = 0;
	}
	return 0;
}

/* The value of two ASCII digits. */
static int
two_digits(const char *s)
{
	return (s[0] - '0') * 10 + (s[1] - '0');
}

/*
 * The common formats "%Y-%m-%d %H:%M:%S" and "%Y-%m-%dT%H:%M:%S" without
 * strptime, which with its day_of_the_week showed in profiles.  Returns 1
 * and sets tm's year, month, day, hour, minute and second when fmt is one
 * of them and text starts with exactly "dddd-dd-dd?dd:dd:dd" whose fields
 * lie where glibc's strptime takes them (%Y 0..9999, %m 1..12, %d 1..31,
 * %H 0..23, %M 0..59, %S 0..61; no check of the day against the month).
 * strptime then reads the same 19 bytes into the same fields; what it sets
 * besides, tm_wday and tm_yday, mktime ignores.  Returns 0, tm untouched,
 * for anything else (one-digit fields, spaces strptime skips, values out of
 * range): the caller's strptime decides.
 */
static int
ts_canonical(const char *text, size_t len, const char *fmt, struct tm *tm)
{
	static const char shape[] = "dddd-dd-dd?dd:dd:dd";
	int v[6], i, k;
	char sep;

	if (strncmp(fmt, "%Y-%m-%d", 8) != 0 || (fmt[8] != ' ' && fmt[8] != 'T') ||
	    strcmp(fmt + 9, "%H:%M:%S") != 0 || len < 19)
		return 0;
	sep = fmt[8];
	for (i = 0; i < 19; i++) {
		if (shape[i] == 'd') {
			if (text[i] < '0' || text[i] > '9')
				return 0;
		} else if (text[i] != (shape[i] == '?' ? sep : shape[i]))
			return 0;
	}
	v[0] = two_digits(text) * 100 + two_digits(text + 2);
	for (k = 1, i = 5; k < 6; k++, i += 3)
		v[k] = two_digits(text + i);
	if (v[1] < 1 || v[1] > 12 || v[2] < 1 || v[2] > 31 || v[3] > 23 ||
	    v[4] > 59 || v[5] > 61)
		return 0;
	tm->tm_year = v[0] - 1900;
	tm->tm_mon = v[1] - 1;
	tm->tm_mday = v[2];
	tm->tm_hour = v[3];
	tm->tm_min = v[4];
	tm->tm_sec = v[5];
	return 1;
}

/*
 * parse_time with the number of bytes strptime consumed (*used), which the
 * ts cache keys on, and an optional hour memo.  fmt_has() runs only on the
 * strptime path: the canonical formats have both year and date.
 */
static int
time_parse(const char *text, size_t len, const char *fmt, time_t ref,
    struct hour_memo *hm, time_t *out, size_t *used, int *minute)
{
	char buf[TS_MAX];
	struct tm tm, rt;
	const char *end;
	int has_year = 1, has_date = 1;
	size_t n;
	time_t t;

	*minute = 0;
	if (len >= sizeof buf)
		return -1;
	memset(&tm, 0, sizeof tm);
	if (ts_canonical(text, len, fmt, &tm)) {
		n = 19;
		*minute = 1;
	} else {
		memcpy(buf, text, len);
		buf[len] = '\0';
		if (strcmp(fmt, "%s") == 0)
			return parse_epoch(buf, len, out, used);

		has_year = fmt_has(fmt, year_convs);
		has_date = fmt_has(fmt, date_convs);
		tm.tm_mday = 1;    /* "%Y-%m" means the first of the month */
		if (!has_year || !has_date) {
			if (localtime_r(&ref, &rt) == NULL)
				return -1;
			tm.tm_year = rt.tm_year;
			if (!has_date) {
				/* A time-only format: the day is the reference's. */
				tm.tm_mon = rt.tm_mon;
				tm.tm_mday = rt.tm_mday;
			}
		}
		end = strptime(buf, fmt, &tm);
		if (end == NULL)
			return -1;
		n = (size_t)(end - buf);
	}
	/*
	 * buf holds a copy of text: a NUL inside text stops strptime early
	 * and fails the tail test.
	 */
	if (!is_frac_tail(text + n, len - n))
		return -1;
	if (tm_to_time(&tm, hm, &t) < 0)
		return -1;
	/* every second of the minute is hm->base + minutes and seconds */
	*minute = *minute && tm.tm_sec <= 59 && hm != NULL && hm->valid &&
	    hm->year == tm.tm_year && hm->mon == tm.tm_mon &&
	    hm->mday == tm.tm_mday && hm->hour == tm.tm_hour;
	if (!has_year && t > ref + 86400) {
		/* "Dec 31" read in early January belongs to last year. */
		tm.tm_year--;
		if (tm_to_time(&tm, NULL, &t) < 0)
			return -1;
	}
	*out = t;
	*used = n;
	return 0;
}

/*
 * parse_time: see parse.h.  The text is copied into a bounded local buffer
 * (longer texts fail) because strptime needs a NUL-terminated string.
 */
int
parse_time(const char *text, size_t len, const char *fmt, time_t ref, time_t *out)
{
	size_t used;
	int minute;

	if (text == NULL || fmt == NULL || out == NULL)
		return -1;
	return time_parse(text, len, fmt, ref, NULL, out, &used, &minute);
}

/* The ASCII lower case, independent of the locale. */
static void
lower_copy(char *dst, const char *src, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		char ch = src[i];
		dst[i] = (ch >= 'A' && ch <= 'Z') ? (char)(ch - 'A' + 'a') : ch;
	}
}

/* Does the pattern hold non-ASCII bytes (literals that need UTF mode)? */
static int
has_non_ascii(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if ((unsigned char)s[i] >= 0x80)
			return 1;
	return 0;
}

/*
 * Compile prefix (may be NULL) + cp into pt.  Reports a compile error as
 * CONF:LINE and returns DL_ECONF; DL_ENOMEM is left to the caller to report.
 *
 * UTF handling: a pattern made of ASCII only is compiled in byte mode, where
 * it matches UTF-8 text just as well and also matches straight through
 * invalid UTF-8, so captured user/error texts stay byte-exact.  A pattern
 * with non-ASCII bytes (e.g. "[äö]" or "é+") needs UTF mode to be right; it
 * gets PCRE2_UTF | PCRE2_MATCH_INVALID_UTF, with which invalid sequences in
 * a line never match anything but are never an error either.
 */
static int
pat_compile(struct parser *p, struct pat *pt, const struct conf_pattern *prefix,
    const struct conf_pattern *cp, int jit_ok, uint32_t *maxcap)
{
	size_t plen = (prefix && prefix->text) ? strlen(prefix->text) : 0;
	size_t tlen = strlen(cp->text);
	char *src = NULL;
	int ec, rc = DL_ENOMEM, g;
	PCRE2_SIZE eo;
	uint32_t opts = 0, cap = 0;

	src = malloc(plen + tlen + 1);
	if (src == NULL)
		goto out;
	if (plen)
		memcpy(src, prefix->text, plen);
	memcpy(src + plen, cp->text, tlen + 1);
	if (has_non_ascii(src, plen + tlen))
		opts = PCRE2_UTF | PCRE2_MATCH_INVALID_UTF;

	pt->line = cp->line;
	pt->lit_len = lit_required(src, plen + tlen, pt->lit, sizeof pt->lit);
	pt->code = pcre2_compile((PCRE2_SPTR)src, plen + tlen, opts, &ec, &eo, NULL);
	if (pt->code == NULL) {
		PCRE2_UCHAR msg[256];
		int line = cp->line;

		if (pcre2_get_error_message(ec, msg, sizeof msg) < 0)
			snprintf((char *)msg, sizeof msg, "error %d", ec);
		/* Name the line the offending byte came from. */
		if (eo < plen)
			line = prefix->line;
		else
			eo -= plen;
		msg_err("%s:%d: pattern does not compile: %s at offset %zu",
		    p->conf_path, line, (const char *)msg, (size_t)eo);
		rc = DL_ECONF;
		goto out;
	}
	/* Without JIT (or if it fails) the interpreter is used, silently. */
	if (jit_ok && pcre2_jit_compile(pt->code, PCRE2_JIT_COMPLETE) == 0)
		pt->jit = 1;
	for (g = 0; g < G_N; g++) {
		int n = pcre2_substring_number_from_name(pt->code,
		    (PCRE2_SPTR)group_names[g]);
		pt->grp[g] = n > 0 ? n : -1;
	}
	if (pcre2_pattern_info(pt->code, PCRE2_INFO_CAPTURECOUNT, &cap) == 0 &&
	    cap > *maxcap)
		*maxcap = cap;
	rc = DL_OK;
out:
	free(src);
	return rc;
}

/* The prefilter of p's patterns, if each has a required literal. */
static int
parser_prefilter_new(struct parser *p)
{
	const char *lits[PF_MAX_LITS];
	size_t lens[PF_MAX_LITS], i;
	int err;

	if (p->npats == 0 || p->npats > PF_MAX_LITS)
		return DL_OK;
	for (i = 0; i < p->npats; i++) {
		lits[i] = p->pats[i].lit;
		lens[i] = p->pats[i].lit_len;
	}
	p->pf = prefilter_new(lits, lens, p->npats, &err);
	return err;
}

/*
 * parser_new: see parse.h.  Owns its compiled patterns, match context, JIT
 * stack and match data; borrows c->path and cs (which must outlive it).
 */
struct parser *
parser_new(const struct conf *c, const struct conf_source *cs, int *err)
{
	struct parser *p = NULL;
	int rc = DL_ENOMEM, jit_ok = 0;
	uint32_t jit_cfg = 0, maxcap = 0;
	size_t i, k;

	p = calloc(1, sizeof *p);
	if (p == NULL)
		goto out;
	p->cs = cs;
	p->last_pat = -1;
	p->conf_path = (c && c->path) ? c->path : "(configuration)";
	p->time_format = (cs->time_format && *cs->time_format)
	    ? cs->time_format : DEFAULT_TIME_FORMAT;
	p->ts_ref_free = fmt_has(p->time_format, year_convs) &&
	    fmt_has(p->time_format, date_convs);
	if (cs->downloader && *cs->downloader) {
		p->fixed_dl_len = strlen(cs->downloader);
		if (p->fixed_dl_len > PARSE_NAME_MAX)
			p->fixed_dl_len = PARSE_NAME_MAX;
		lower_copy(p->fixed_dl, cs->downloader, p->fixed_dl_len);
	}
	if (pcre2_config(PCRE2_CONFIG_JIT, &jit_cfg) == 0 && jit_cfg)
		jit_ok = 1;

	p->nsuccess = cs->nsuccess;
	p->nfailure = cs->nfailure;
	p->npats = cs->nsuccess + cs->nfailure + cs->nstart;
	p->pats = calloc(p->npats ? p->npats : 1, sizeof *p->pats);
	if (p->pats == NULL)
		goto out;
	for (i = 0, k = 0; i < p->npats; i++) {
		const struct conf_pattern *cp =
		    i < cs->nsuccess ? &cs->success[i] :
		    i < cs->nsuccess + cs->nfailure ? &cs->failure[i - cs->nsuccess] :
		    &cs->start[i - cs->nsuccess - cs->nfailure];

		rc = pat_compile(p, &p->pats[k++], &cs->prefix, cp, jit_ok, &maxcap);
		if (rc != DL_OK)
			goto out;
	}
	if (cs->timestamp.text) {
		rc = pat_compile(p, &p->ts, NULL, &cs->timestamp, jit_ok, &maxcap);
		if (rc != DL_OK)
			goto out;
		if (p->ts.grp[G_TS] < 0) {
			msg_err("%s:%d: timestamp pattern has no (?<ts>...) group",
			    p->conf_path, cs->timestamp.line);
			rc = DL_ECONF;
			goto out;
		}
	}

	/* Only lines some pattern may match need matching, unless a
	 * `timestamp` pattern must see every line. */
	if (p->ts.code == NULL && (rc = parser_prefilter_new(p)) != DL_OK)
		goto out;
	rc = DL_ENOMEM;
	p->mctx = pcre2_match_context_create(NULL);
	if (p->mctx == NULL)
		goto out;
	pcre2_set_match_limit(p->mctx, MATCH_LIMIT);
	pcre2_set_depth_limit(p->mctx, DEPTH_LIMIT);
	if (jit_ok) {
		/* Larger than the 32K default, so long lines do not fail early. */
		p->jstack = pcre2_jit_stack_create(JIT_STACK_MIN, JIT_STACK_MAX, NULL);
		if (p->jstack)
			pcre2_jit_stack_assign(p->mctx, NULL, p->jstack);
	}
	p->md = pcre2_match_data_create(maxcap + 1, NULL);
	if (p->md == NULL)
		goto out;
	rc = DL_OK;
out:
	if (rc != DL_OK) {
		if (rc == DL_ENOMEM)
			msg_err("[source %s]: out of memory compiling its patterns",
			    cs->name ? cs->name : "?");
		parser_free(p);
		p = NULL;
	}
	if (err)
		*err = rc;
	return p;
}

/* parser_free: releases everything the parser owns; accepts NULL. */
void
parser_free(struct parser *p)
{
	size_t i;

	if (p == NULL)
		return;
	if (p->pats)
		for (i = 0; i < p->npats; i++)
			pcre2_code_free(p->pats[i].code);
	free(p->pats);
	pcre2_code_free(p->ts.code);
	pcre2_match_data_free(p->md);
	pcre2_match_context_free(p->mctx);
	pcre2_jit_stack_free(p->jstack);
	prefilter_free(p->pf);
	free(p);
}

static int
pat_match(struct parser *p, const struct pat *pt, const char *line, size_t len)
{
	if (pt->jit)
		return pcre2_jit_match(pt->code, (PCRE2_SPTR)line, len, 0, 0,
		    p->md, p->mctx);
	return pcre2_match(pt->code, (PCRE2_SPTR)line, len, 0, 0, p->md, p->mctx);
}

/* Group g of the last match (rc its return value): 1 and its text if set. */
static int
group(const struct parser *p, const struct pat *pt, int rc, int g,
    const char *line, const char **text, size_t *len)
{
	PCRE2_SIZE *ov = pcre2_get_ovector_pointer(p->md);
	int n = pt->grp[g];

	if (n < 0 || n >= rc || ov[2 * n] == PCRE2_UNSET)
		return 0;
	*text = line + ov[2 * n];
	*len = ov[2 * n + 1] - ov[2 * n];
	return 1;
}

/* Reports a failed pcre2 match; the caller skips the line. */
static void
warn_match(int rc, const char *where, unsigned long lineno)
{
	PCRE2_UCHAR msg[128];

	if (rc == PCRE2_ERROR_MATCHLIMIT || rc == PCRE2_ERROR_DEPTHLIMIT ||
	    rc == PCRE2_ERROR_HEAPLIMIT || rc == PCRE2_ERROR_JIT_STACKLIMIT) {
		msg_warn("%s:%lu: pattern hit the match limit; line skipped",
		    where, lineno);
		return;
	}
	if (pcre2_get_error_message(rc, msg, sizeof msg) < 0)
		snprintf((char *)msg, sizeof msg, "error %d", rc);
	msg_warn("%s:%lu: pattern match failed: %s; line skipped", where, lineno,
	    (const char *)msg);
}

/* Parses a ts text through the one-entry cache; ref as for parse_time. */
static int
ts_parse(struct parser *p, const char *text, size_t len, time_t ref, time_t *out)
{
	size_t used;

	/*
	 * Same consumed text, followed only by other fractional seconds: the
	 * same instant (strptime stops before '.' or ',' either way).
	 */
	if (p->tc_valid && len >= p->tc_len &&
	    (p->ts_ref_free || ref == p->tc_ref) &&
	    memcmp(text, p->tc_text, p->tc_len) == 0 &&
	    is_frac_tail(text + p->tc_len, len - p->tc_len)) {
		*out = p->tc_val;
		return 0;
	}
	/* Another second of the same minute: "YYYY-MM-DD?HH:MM:" alike. */
	if (p->tc_valid && p->tc_minute && len >= 19 &&
	    memcmp(text, p->tc_text, 17) == 0 &&
	    text[17] >= '0' && text[17] <= '5' && text[18] >= '0' && text[18] <= '9' &&
	    is_frac_tail(text + 19, len - 19)) {
		*out = p->tc_val + (two_digits(text + 17) - two_digits(p->tc_text + 17));
		p->tc_text[17] = text[17];
		p->tc_text[18] = text[18];
		p->tc_val = *out;
		return 0;
	}
	if (time_parse(text, len, p->time_format, ref, &p->hmemo, out, &used,
	    &p->tc_minute) < 0) {
		p->tc_valid = 0;
		return -1;
	}
	memcpy(p->tc_text, text, used);
	p->tc_len = used;
	p->tc_ref = ref;
	p->tc_val = *out;
	p->tc_valid = 1;
	return 0;
}

static time_t
ref_time(const struct parse_state *st)
{
	return st->cur_time ? st->cur_time : st->mtime;
}

/*
 * The time of a matched result/start line: its ts group, else the
 * `timestamp` pattern's ts on the same line (the line's own time beats the
 * file's previous one), else the file's current time.  A ts read updates
 * st->cur_time.  Returns -1 (warning given) when a ts does not parse.  Clobbers
 * the match data: call it after the other groups have been read.
 */
static int
line_time(struct parser *p, struct parse_state *st, const char *ts_text,
    size_t ts_len, const char *line, size_t len, const char *where,
    unsigned long lineno, time_t *out)
{
	int rc;

	if (ts_text == NULL && p->ts.code) {
		rc = pat_match(p, &p->ts, line, len);
		if (rc > 0 && !group(p, &p->ts, rc, G_TS, line, &ts_text, &ts_len))
			ts_text = NULL;
	}
	/* An empty ts group counts as absent. */
	if (ts_text == NULL || ts_len == 0) {
		*out = ref_time(st);
		return 0;
	}
	if (ts_parse(p, ts_text, ts_len, ref_time(st), out) < 0) {
		msg_warn("%s:%lu: timestamp '%.*s' does not match time_format "
		    "'%s'; line skipped", where, lineno,
		    (int)(ts_len > 80 ? 80 : ts_len), ts_text, p->time_format);
		return -1;
	}
	st->cur_time = *out;
	return 0;
}

/* A line only the `timestamp` pattern may match: update the current time. */
static enum parse_kind
timestamp_line(struct parser *p, struct parse_state *st, const char *line,
    size_t len, const char *where, unsigned long lineno)
{
	const char *t;
	size_t tl;
	time_t ts;
	int rc;

	if (p->ts.code == NULL)
		return PK_NONE;
	rc = pat_match(p, &p->ts, line, len);
	if (rc == PCRE2_ERROR_NOMATCH)
		return PK_NONE;
	if (rc < 0) {
		warn_match(rc, where, lineno);
		return PK_NONE;
	}
	if (!group(p, &p->ts, rc, G_TS, line, &t, &tl) || tl == 0)
		return PK_NONE;
	if (ts_parse(p, t, tl, ref_time(st), &ts) < 0) {
		/* Every line may reach here: say it once, not per line. */
		if (!p->warned_tsline)
			msg_warn("%s:%lu: timestamp '%.*s' does not match "
			    "time_format '%s'; such lines do not set the time "
			    "(said once)", where, lineno, (int)(tl > 80 ? 80 : tl),
			    t, p->time_format);
		p->warned_tsline = 1;
		return PK_NONE;
	}
	st->cur_time = ts;
	return PK_TIMESTAMP;
}

/* Digits only (at most 18, so no overflow), else 0. */
static long long
parse_count(const char *s, size_t n)
{
	long long v = 0;
	size_t i;

	if (n == 0 || n > 18)
		return 0;
	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return 0;
		v = v * 10 + (s[i] - '0');
	}
	return v;
}

/*
 * parse_candidate: see parse.h.  Text in *out points into line, or into the
 * parser's downloader buffer; valid until the next call.
 */
enum parse_result
parse_candidate(struct parser *p, struct parse_state *st, const char *line,
    size_t len, unsigned may, const char *where, unsigned long lineno,
    struct attempt *out, enum parse_kind *kind)
{
	enum parse_kind k = PK_NONE;
	enum parse_result res = PARSE_NONE;
	const struct pat *pt = NULL;
	struct attempt a;
	const char *t = NULL, *ts_text = NULL;
	size_t i, tl = 0, ts_len = 0;
	int rc = PCRE2_ERROR_NOMATCH;

	p->last_pat = -1;
	if (where == NULL)
		where = "-";
	if (line == NULL)
		line = "";
	if (len > PARSE_MAX_LINE) {
		msg_verbose("%s:%lu: line longer than %d bytes not matched",
		    where, lineno, PARSE_MAX_LINE);
		goto out;
	}
	for (i = 0; i < p->npats; i++) {
		if (i < CHAR_BIT * sizeof may && !(may >> i & 1))
			continue;
		rc = pat_match(p, &p->pats[i], line, len);
		if (rc != PCRE2_ERROR_NOMATCH)
			break;
	}
	if (rc < 0 && rc != PCRE2_ERROR_NOMATCH) {
		warn_match(rc, where, lineno);
		res = PARSE_SKIPPED;
		goto out;
	}
	if (i == p->npats) {
		k = timestamp_line(p, st, line, len, where, lineno);
		goto out;
	}
	pt = &p->pats[i];
	p->last_pat = (int)i;
	k = i < p->nsuccess ? PK_SUCCESS :
	    i < p->nsuccess + p->nfailure ? PK_FAILURE : PK_START;

	memset(&a, 0, sizeof a);
	a.success = k == PK_SUCCESS;
	if (group(p, pt, rc, G_TS, line, &t, &tl)) {
		ts_text = t;
		ts_len = tl;
	}
	if (group(p, pt, rc, G_DL, line, &t, &tl) && tl > 0) {
		if (tl > PARSE_NAME_MAX)
			tl = PARSE_NAME_MAX;
		lower_copy(p->dl, t, tl);
		a.downloader = p->dl;
		a.downloader_len = tl;
	} else if (p->fixed_dl_len > 0) {
		a.downloader = p->fixed_dl;
		a.downloader_len = p->fixed_dl_len;
	}
	if (group(p, pt, rc, G_USER, line, &t, &tl) && tl > 0) {
		a.user = t;
		a.user_len = tl;
	}
	if (a.success) {
		if (group(p, pt, rc, G_COUNT, line, &t, &tl))
			a.file_count = parse_count(t, tl);
	} else if (k == PK_START) {
		/* A start reports no result: no error text (see parse.h). */
	} else if (group(p, pt, rc, G_ERROR, line, &t, &tl) && tl > 0) {
		a.error = t;
		a.error_len = tl;
	} else {
		a.error = line;
		a.error_len = len;
	}

	/* Last: it may run the timestamp pattern over the match data. */
	if (line_time(p, st, ts_text, ts_len, line, len, where, lineno, &a.ts) < 0) {
		res = PARSE_SKIPPED;
		goto out;
	}
	if (a.downloader == NULL) {
		if (!p->warned_nodl)
			msg_warn("%s:%lu: a pattern of [source %s] (%s:%d) matched "
			    "but gave no downloader name (no (?<downloader>...) "
			    "group and no 'downloader' key); such lines are "
			    "ignored (said once)", where, lineno,
			    p->cs->name ? p->cs->name : "?", p->conf_path,
			    pt->line);
		p->warned_nodl = 1;
		if (out)
			out->downloader = NULL;
		goto out;
	}
	if (out)
		*out = a;
	/* A start is no attempt of its own: the caller tracks it (opens.h). */
	res = k == PK_START ? PARSE_NONE : PARSE_ATTEMPT;
out:
	if (kind)
		*kind = k;
	return res;
}

/* parse_line: see parse.h. */
enum parse_result
parse_line(struct parser *p, struct parse_state *st, const char *line,
    size_t len, const char *where, unsigned long lineno, struct attempt *out,
    enum parse_kind *kind)
{
	return parse_candidate(p, st, line, len, ~0U, where, lineno, out, kind);
}

/* parse_last_pattern: see parse.h. */
int
parse_last_pattern(const struct parser *p)
{
	return p ? p->last_pat : -1;
}

/* parser_prefilter: see parse.h. */
const struct prefilter *
parser_prefilter(const struct parser *p)
{
	return p ? p->pf : NULL;
}

/* parser_literal: see parse.h. */
size_t
parser_literal(const struct parser *p, size_t i, const char **lit)
{
	*lit = "";
	if (p == NULL || i >= p->npats)
		return 0;
	*lit = p->pats[i].lit;
	return p->pats[i].lit_len;
}
