/*
 * fuzz_prefilter.c — libFuzzer harness for the literal prefilter: the input
 * is a pattern (up to the first '\n'; a TAB in it splits off a second one)
 * and then a log.  The patterns become a source's success and failure
 * patterns; when they compile, the log is parsed twice — every line through
 * parse_line, and only the lines the parser's prefilter (literal.h,
 * prefilter.h) lets through, through parse_candidate, which runs only the
 * patterns whose literal the line holds — and the two readings must say
 * the same of every line.  A difference means the required literal of some
 * pattern was wrong: it aborts.  One difference is by design: a pattern is
 * never run on a line without its literal, so where it would hit the match
 * limit (PARSE_SKIPPED, e.g. "(.*)*x") it no longer does; such a line ends
 * the comparison (or is left out, when it holds no literal at all).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "fuzz.h"
#include "parse.h"
#include "prefilter.h"
#include "util.h"

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	msg_init("fuzz_prefilter");
	msg_set_verbosity(-1);     /* compile errors and warnings are expected */
	return 0;
}

static void
note(struct strbuf *sb, unsigned long lineno, enum parse_result r, enum parse_kind k,
    const struct attempt *a, const struct parse_state *st)
{
	if (r == PARSE_NONE && k == PK_NONE)
		return;
	sb_printf(sb, "%lu r%d k%d t%lld", lineno, (int)r, (int)k, (long long)st->cur_time);
	if (r == PARSE_ATTEMPT) {
		sb_append(sb, a->downloader, a->downloader_len);
		sb_puts(sb, "|");
		if (a->user)
			sb_append(sb, a->user, a->user_len);
		sb_printf(sb, "|%lld|%d|%lld|", (long long)a->ts, a->success, a->file_count);
		if (a->error)
			sb_append(sb, a->error, a->error_len);
	}
	sb_puts(sb, "\n");
}

/* Does line hold one of the literals pf searches? */
static int
holds_literal(const struct prefilter *pf, const char *line, size_t len)
{
	const char *lit;
	size_t k, n;

	for (k = 0; (n = prefilter_literal(pf, k, &lit)) > 0; k++)
		if (memmem(line, len, lit, n) != NULL)
			return 1;
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct conf c = { .path = (char *)"fuzz.conf" };
	const char *d = (const char *)data, *nl, *tab, *q, *e, *line;
	char *p1 = NULL, *p2 = NULL, *log = NULL;
	struct conf_pattern ps, pf;
	struct conf_source cs;
	struct parser *p = NULL;
	struct parse_state s1 = { 0, 1763550000 }, s2 = { 0, 1763550000 };
	struct strbuf a = { 0 }, b = { 0 };
	struct pf_cursor cur;
	struct attempt at;
	enum parse_result r;
	enum parse_kind k;
	unsigned long lineno, passed;
	size_t n, len;
	int err;

	nl = memchr(d, '\n', size);
	if (nl == NULL || memchr(d, '\0', (size_t)(nl - d)) != NULL)
		return 0;
	tab = memchr(d, '\t', (size_t)(nl - d));
	p1 = strndup(d, (size_t)((tab ? tab : nl) - d));
	p2 = strndup(tab ? tab + 1 : "(?<error>\\d{4}-\\d\\d) failed", tab ? (size_t)(nl - tab - 1) : 30);
	/* the log, ending with a line end as the reader's blocks do, with
	 * defined bytes after it as in the reader's buffer (PCRE2's JIT may
	 * read a few bytes past a subject's end) */
	n = size - (size_t)(nl + 1 - d);
	log = calloc(1, n + 1 + 64);
	if (p1 == NULL || p2 == NULL || log == NULL)
		goto out;
	memcpy(log, nl + 1, n);
	if (n == 0 || log[n - 1] != '\n')
		log[n++] = '\n';

	memset(&cs, 0, sizeof cs);
	cs.name = (char *)"fuzz";
	cs.downloader = (char *)"fuzz";
	cs.time_format = (char *)"%Y-%m-%d %H:%M:%S";
	ps.text = p1;
	ps.line = 1;
	pf.text = p2;
	pf.line = 2;
	cs.success = &ps;
	cs.nsuccess = 1;
	cs.failure = &pf;
	cs.nfailure = 1;
	if ((p = parser_new(&c, &cs, &err)) == NULL)
		goto out;

	for (lineno = 0, q = log, e = log + n; q < e; q = nl + 1) {
		nl = memchr(q, '\n', (size_t)(e - q));
		len = (size_t)(nl - q);
		if (len > 0 && q[len - 1] == '\r')
			len--;
		r = parse_line(p, &s1, q, len, "f", ++lineno, &at, &k);
		if (r == PARSE_SKIPPED && parser_prefilter(p) != NULL &&
		    !holds_literal(parser_prefilter(p), q, len))
			continue;          /* the match limit, on a line never examined */
		if (r == PARSE_SKIPPED && parser_prefilter(p) != NULL &&
		    pf_which(parser_prefilter(p), q, len) != 3U)
			goto out;          /* perhaps the match limit of a pattern not
			                    * run there: no longer comparable */
		note(&a, lineno, r, k, &at, &s1);
	}
	pf_start(parser_prefilter(p), &cur, log, n);
	for (lineno = 0; pf_next(parser_prefilter(p), &cur, &line, &len, &passed); ) {
		lineno += passed;
		r = parse_candidate(p, &s2, line, len,
		    pf_may(parser_prefilter(p), &cur, line, len), "f", lineno, &at, &k);
		note(&b, lineno, r, k, &at, &s2);
	}
	if (lineno + passed != pf_count_lines(log, n) ||
	    strcmp(a.buf ? a.buf : "", b.buf ? b.buf : "") != 0) {
		fprintf(stderr, "fuzz_prefilter: the prefilter changed the result of "
		    "patterns '%s' / '%s'\n", p1, p2);
		abort();
	}
out:
	parser_free(p);
	sb_free(&a);
	sb_free(&b);
	free(p1);
	free(p2);
	free(log);
	return 0;
}
