/*
 * testpat.c — `dlmon test-patterns`.  See testpat.h.
 *
 * Each file is read once, with source.h's reader (so lines, limits, CRLF and
 * gzip are exactly what dlmon-scan sees), and every line goes through every
 * selected source's parser with a parse state of its own per file and
 * source, as a scan would.  Nothing is stored: the counts are all there is.
 */
#define PCRE2_CODE_UNIT_WIDTH 8

#include "testpat.h"

#include <errno.h>
#include <inttypes.h>
#include <pcre2.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "parse.h"
#include "prefilter.h"
#include "source.h"
#include "util.h"

#define SHOW_MAX 160               /* bytes of a log line shown */
#define LINE_PAD 64                /* zeroed bytes after each line copy */

/*
 * Words that suggest a failure report a pattern may be missing.  Byte mode
 * and ASCII only, so invalid UTF-8 in a line cannot make it fail.
 */
static const char words_re[] =
    "(?i)\\b(?:fail(?:ed|ure|s|ing)?|errors?|exceptions?|denied|forbidden|"
    "unauthori[sz]ed|timed? ?out|refused|unable|cannot|"
    "too many requests|login required|401|403|404|429)\\b";

/* Successes and failures of one downloader. */
struct tp_dl {
	char name[PARSE_NAME_MAX];
	size_t len;
	unsigned long ok, fail;
};

/* Per-downloader counts, kept sorted by name. */
struct tp_dls {
	struct tp_dl *v;
	size_t n, cap;
};

struct tp_pat {
	const struct conf_pattern *cp;
	const char *kind;          /* "success", "failure", "start" */
	unsigned long matched;     /* lines, skipped ones not counted */
	unsigned long bad_ts;      /* matched, but the ts did not parse */
	unsigned long nodl;        /* matched, but no downloader name */
	struct tp_dls dls;
};

/* Up to max example lines ("  FILE:LINE: text\n") out of n seen. */
struct tp_ex {
	struct strbuf text;
	unsigned long n;
	unsigned long max;
};

struct tp_src {
	const struct conf_source *cs;
	struct parser *p;
	struct tp_pat *pats;       /* success, failure, start: parser order */
	size_t npats;
	unsigned long long matched, unmatched, ts_lines;
	struct tp_dls dls;
	time_t first, last;        /* range of the attempts' times */
	int have_time;
	struct tp_ex bad_ts, limit, words;
};

struct testpat {
	const struct conf *c;
	struct tp_src *srcs;
	size_t nsrcs;
	int verbose;
	pcre2_code *words;
	pcre2_match_data *md;
	struct strbuf files;       /* "  FILE: N lines\n" per file read */
	unsigned long nfiles, long_lines;
	unsigned long long lines;
	struct parse_state *st;    /* one per source, for the file being read */
	char *lb;                  /* the current line, followed by LINE_PAD zeros */
	size_t lb_cap;
};

/* Appends text (len bytes) with control bytes shown as '?', cut at SHOW_MAX. */
static int
sb_show(struct strbuf *sb, const char *s, size_t len)
{
	char buf[SHOW_MAX + 4];
	size_t i, n = len > SHOW_MAX ? SHOW_MAX : len;

	/* Do not cut a UTF-8 sequence in two. */
	if (n < len)
		while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
			n--;
	for (i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)s[i];
		buf[i] = (ch < 0x20 || ch == 0x7f) ? '?' : (char)ch;
	}
	if (n < len) {
		memcpy(buf + n, "...", 3);
		n += 3;
	}
	return sb_append(sb, buf, n);
}

/* Counts one more example, keeping its text while below the maximum. */
static int
ex_add(struct tp_ex *ex, const char *where, unsigned long long lineno,
    const char *line, size_t len)
{
	int err;

	if (ex->n++ >= ex->max)
		return DL_OK;
	if ((err = sb_printf(&ex->text, "    %s:%llu: ", where, lineno)) != DL_OK ||
	    (err = sb_show(&ex->text, line, len)) != DL_OK)
		return err;
	return sb_puts(&ex->text, "\n");
}

/* Adds one attempt of downloader name to d (sorted insert). */
static int
dls_add(struct tp_dls *d, const char *name, size_t len, int success)
{
	size_t i, n = len > PARSE_NAME_MAX ? PARSE_NAME_MAX : len;
	struct tp_dl *nv;
	int cmp = 1;

	for (i = 0; i < d->n; i++) {
		size_t m = d->v[i].len < n ? d->v[i].len : n;
		cmp = memcmp(d->v[i].name, name, m);
		if (cmp == 0)
			cmp = d->v[i].len < n ? -1 : d->v[i].len > n ? 1 : 0;
		if (cmp >= 0)
			break;
	}
	if (i == d->n || cmp != 0) {
		if (d->n == d->cap) {
			size_t ncap = d->cap ? d->cap * 2 : 4;
			nv = realloc(d->v, ncap * sizeof *nv);
			if (nv == NULL)
				return DL_ENOMEM;
			d->v = nv;
			d->cap = ncap;
		}
		memmove(d->v + i + 1, d->v + i, (d->n - i) * sizeof *d->v);
		memset(&d->v[i], 0, sizeof d->v[i]);
		memcpy(d->v[i].name, name, n);
		d->v[i].len = n;
		d->n++;
	}
	if (success)
		d->v[i].ok++;
	else
		d->v[i].fail++;
	return DL_OK;
}

static void
src_clear(struct tp_src *s)
{
	size_t i;

	parser_free(s->p);
	for (i = 0; s->pats && i < s->npats; i++)
		free(s->pats[i].dls.v);
	free(s->pats);
	free(s->dls.v);
	sb_free(&s->bad_ts.text);
	sb_free(&s->limit.text);
	sb_free(&s->words.text);
}

/* Compiles source cs into s (zeroed by the caller). */
static int
src_init(struct tp_src *s, const struct conf *c, const struct conf_source *cs)
{
	size_t i;
	int err = DL_OK;

	s->cs = cs;
	s->bad_ts.max = TESTPAT_MAX_EXAMPLES;
	s->limit.max = TESTPAT_MAX_EXAMPLES;
	s->words.max = TESTPAT_MAX_WORDS;
	s->p = parser_new(c, cs, &err);
	if (s->p == NULL)
		return err;
	s->npats = cs->nsuccess + cs->nfailure + cs->nstart;
	s->pats = calloc(s->npats ? s->npats : 1, sizeof *s->pats);
	if (s->pats == NULL) {
		msg_err("[source %s]: out of memory", cs->name);
		return DL_ENOMEM;
	}
	for (i = 0; i < s->npats; i++) {
		struct tp_pat *tp = &s->pats[i];
		if (i < cs->nsuccess) {
			tp->cp = &cs->success[i];
			tp->kind = "success";
		} else if (i < cs->nsuccess + cs->nfailure) {
			tp->cp = &cs->failure[i - cs->nsuccess];
			tp->kind = "failure";
		} else {
			tp->cp = &cs->start[i - cs->nsuccess - cs->nfailure];
			tp->kind = "start";
		}
	}
	return DL_OK;
}

/*
 * testpat_new: see testpat.h.  Owns the parsers, the failure-word pattern
 * and every count; borrows c.
 */
struct testpat *
testpat_new(const struct conf *c, const char *source, int verbose, int *err)
{
	struct testpat *tp = NULL;
	size_t i, k;
	int rc = DL_ENOMEM, ec;
	PCRE2_SIZE eo;

	tp = calloc(1, sizeof *tp);
	if (tp == NULL)
		goto out;
	tp->c = c;
	tp->verbose = verbose;
	tp->srcs = calloc(c->nsources ? c->nsources : 1, sizeof *tp->srcs);
	tp->st = calloc(c->nsources ? c->nsources : 1, sizeof *tp->st);
	if (tp->srcs == NULL || tp->st == NULL)
		goto out;
	for (i = 0, k = 0; i < c->nsources; i++) {
		if (source && strcmp(c->sources[i].name, source) != 0)
			continue;
		rc = src_init(&tp->srcs[k], c, &c->sources[i]);
		tp->nsrcs = ++k;
		if (rc != DL_OK)
			goto out;
	}
	if (tp->nsrcs == 0) {
		if (source)
			msg_err("--source %s: %s has no [source %s]", source, c->path, source);
		else
			msg_err("%s: no [source NAME] section: no patterns to test", c->path);
		rc = DL_ECONF;
		goto out;
	}
	rc = DL_ENOMEM;
	tp->words = pcre2_compile((PCRE2_SPTR)words_re, PCRE2_ZERO_TERMINATED, 0,
	    &ec, &eo, NULL);
	if (tp->words == NULL)
		goto out;
	tp->md = pcre2_match_data_create_from_pattern(tp->words, NULL);
	if (tp->md == NULL)
		goto out;
	rc = DL_OK;
out:
	if (rc != DL_OK) {
		if (rc == DL_ENOMEM)
			msg_err("test-patterns: out of memory");
		testpat_free(tp);
		tp = NULL;
	}
	if (err)
		*err = rc;
	return tp;
}

/* testpat_free: releases everything; accepts NULL. */
void
testpat_free(struct testpat *tp)
{
	size_t i;

	if (tp == NULL)
		return;
	for (i = 0; tp->srcs && i < tp->nsrcs; i++)
		src_clear(&tp->srcs[i]);
	free(tp->srcs);
	free(tp->st);
	free(tp->lb);
	pcre2_match_data_free(tp->md);
	pcre2_code_free(tp->words);
	sb_free(&tp->files);
	free(tp);
}

/* One line through one source. */
static int
src_line(struct testpat *tp, struct tp_src *s, struct parse_state *st,
    const char *path, unsigned long long lineno, const char *line, size_t len)
{
	enum parse_kind kind = PK_NONE;
	enum parse_result res;
	struct attempt a;
	struct tp_pat *pt;
	int idx, err;

	res = parse_line(s->p, st, line, len, path, (unsigned long)lineno, &a, &kind);
	idx = parse_last_pattern(s->p);
	if (kind == PK_TIMESTAMP)
		s->ts_lines++;
	if (res == PARSE_SKIPPED && idx < 0)
		return ex_add(&s->limit, path, lineno, line, len);
	if (idx < 0 || (size_t)idx >= s->npats) {
		s->unmatched++;
		if (tp->verbose && pcre2_match(tp->words, (PCRE2_SPTR)line, len, 0, 0,
		    tp->md, NULL) >= 0)
			return ex_add(&s->words, path, lineno, line, len);
		return DL_OK;
	}
	pt = &s->pats[idx];
	if (res == PARSE_SKIPPED) {
		pt->bad_ts++;
		return ex_add(&s->bad_ts, path, lineno, line, len);
	}
	pt->matched++;
	s->matched++;
	if (res != PARSE_ATTEMPT) {
		if (kind != PK_START)
			pt->nodl++;
		return DL_OK;
	}
	if ((err = dls_add(&pt->dls, a.downloader, a.downloader_len, a.success)) != DL_OK ||
	    (err = dls_add(&s->dls, a.downloader, a.downloader_len, a.success)) != DL_OK)
		return err;
	if (!s->have_time || a.ts < s->first)
		s->first = a.ts;
	if (!s->have_time || a.ts > s->last)
		s->last = a.ts;
	s->have_time = 1;
	return DL_OK;
}

/*
 * Copies a line into tp->lb, followed by zeros: PCRE2's JIT may read a few
 * bytes past the subject's end (vectorised searches, harmless), and the
 * reader's buffer is uninitialised there, which valgrind reports.
 */
static const char *
line_copy(struct testpat *tp, const char *line, size_t len)
{
	char *nb;

	if (tp->lb == NULL || len + LINE_PAD > tp->lb_cap) {
		nb = realloc(tp->lb, len + LINE_PAD);
		if (nb == NULL)
			return NULL;
		tp->lb = nb;
		tp->lb_cap = len + LINE_PAD;
	}
	memcpy(tp->lb, line, len);
	memset(tp->lb + len, 0, LINE_PAD);
	return tp->lb;
}

/* Gzip by name, or by its magic bytes for a compressed file renamed. */
static int
is_gzip(const char *path)
{
	size_t n = strlen(path);
	unsigned char m[2];
	FILE *fp;
	int gz = 0;

	if (n > 3 && strcmp(path + n - 3, ".gz") == 0)
		return 1;
	fp = fopen(path, "rb");
	if (fp == NULL)
		return 0;              /* src_open reports why */
	if (fread(m, 1, 2, fp) == 2 && m[0] == 0x1f && m[1] == 0x8b)
		gz = 1;
	fclose(fp);
	return gz;
}

/* testpat_file: see testpat.h. */
int
testpat_file(struct testpat *tp, const char *path)
{
	struct src_reader *r = NULL;
	struct src_item item;
	struct stat sb;
	const char *line;
	size_t len, i;
	unsigned long long lineno = 0;
	int rc = 0, truncated, err = DL_EFAIL;

	memset(&item, 0, sizeof item);
	item.key = item.path = (char *)path;
	if (stat(path, &sb) != 0) {
		msg_err("%s: %s", path, strerror(errno));
		goto out;
	}
	item.mtime = sb.st_mtime;
	item.gz = is_gzip(path);
	if ((r = src_open(&item)) == NULL)
		goto out;
	for (i = 0; i < tp->nsrcs; i++) {
		tp->st[i].cur_time = 0;
		tp->st[i].mtime = sb.st_mtime;
	}
	err = DL_OK;
	while (err == DL_OK && (rc = src_next_line(r, &line, &len, &truncated)) == 1) {
		lineno++;
		if (truncated) {
			msg_warn("%s:%llu: line longer than %d bytes; not matched",
			    path, lineno, PARSE_MAX_LINE);
			tp->long_lines++;
			continue;
		}
		if ((line = line_copy(tp, line, len)) == NULL) {
			err = DL_ENOMEM;
			break;
		}
		for (i = 0; err == DL_OK && i < tp->nsrcs; i++)
			err = src_line(tp, &tp->srcs[i], &tp->st[i], path, lineno, line, len);
	}
	if (err == DL_ENOMEM)
		msg_err("%s: out of memory", path);
	else if (rc < 0)
		err = DL_EFAIL;        /* reported by the reader */
	if (!item.gz && S_ISREG(sb.st_mode) && src_offset(r) < (uint64_t)sb.st_size)
		msg_warn("%s:%llu: last line has no line end; not read (dlmon-scan "
		    "reads it once it is complete)", path, lineno + 1);
	tp->nfiles++;
	tp->lines += lineno;
	if (sb_printf(&tp->files, "  %s: %llu line%s\n", path, lineno,
	    lineno == 1 ? "" : "s") != DL_OK && err == DL_OK) {
		msg_err("%s: out of memory", path);
		err = DL_ENOMEM;
	}
out:
	src_close(r);
	return err;
}

static const char *
plural(unsigned long long n, const char *one, const char *many)
{
	return n == 1 ? one : many;
}

/* "name 3 successes, 1 failure" per downloader, separated by "; ". */
static void
dls_print(const struct tp_dls *d, FILE *out)
{
	struct strbuf name = { 0 };
	size_t i;

	for (i = 0; i < d->n; i++) {
		const struct tp_dl *x = &d->v[i];
		sb_reset(&name);
		if (sb_show(&name, x->name, x->len) != DL_OK)
			break;
		fprintf(out, "%s%s", i ? "; " : "", name.buf ? name.buf : "");
		if (x->ok)
			fprintf(out, " %lu %s", x->ok, plural(x->ok, "success", "successes"));
		if (x->ok && x->fail)
			fputc(',', out);
		if (x->fail)
			fprintf(out, " %lu %s", x->fail, plural(x->fail, "failure", "failures"));
	}
	sb_free(&name);
}

/* One pattern: kind, configuration line, text, counts. */
static void
pat_print(const struct tp_pat *pt, FILE *out)
{
	fprintf(out, "  %-9s line %-4d %lu %s matched", pt->kind, pt->cp->line,
	    pt->matched, plural(pt->matched, "line", "lines"));
	if (pt->bad_ts)
		fprintf(out, ", %lu skipped (timestamp did not parse)", pt->bad_ts);
	if (pt->nodl)
		fprintf(out, ", %lu without a downloader name (ignored)", pt->nodl);
	fprintf(out, "\n    %s\n", pt->cp->text);
	if (pt->dls.n) {
		fputs("    attempts: ", out);
		dls_print(&pt->dls, out);
		fputc('\n', out);
	}
}

static void
ex_print(const struct tp_ex *ex, const char *what, FILE *out)
{
	fprintf(out, "  %s: %lu %s\n", what, ex->n, plural(ex->n, "line", "lines"));
	if (ex->text.len)
		fputs(ex->text.buf, out);
	if (ex->n > ex->max)
		fprintf(out, "    ... and %lu more\n", ex->n - ex->max);
}

/* A literal in double quotes, with C escapes for what would not show. */
static void
lit_print(const char *lit, size_t len, FILE *out)
{
	size_t i;

	fputc('"', out);
	for (i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)lit[i];
		if (ch == '"' || ch == '\\')
			fprintf(out, "\\%c", ch);
		else if (ch < 0x20 || ch >= 0x7f)
			fprintf(out, "\\x%02x", ch);
		else
			fputc(ch, out);
	}
	fputc('"', out);
}

/*
 * Whether the prefilter (prefilter.h) skips lines for this source, and
 * why not: patterns without a usable literal match every line, which a
 * user can often change.
 */
static void
prefilter_print(const struct tp_src *s, FILE *out)
{
	const struct prefilter *pf = parser_prefilter(s->p);
	const char *lit;
	size_t i, len;

	fputs("  prefilter: ", out);
	if (pf != NULL) {
		fputs("only lines holding ", out);
		for (i = 0; (len = prefilter_literal(pf, i, &lit)) > 0; i++) {
			fputs(i ? " or " : "", out);
			lit_print(lit, len, out);
		}
		fputs(" are matched\n", out);
		return;
	}
	if (s->cs->timestamp.text) {
		fputs("off (the timestamp pattern must see every line)\n", out);
		return;
	}
	for (i = 0; i < s->npats; i++)
		if (parser_literal(s->p, i, &lit) < PF_LIT_MIN)
			break;
	if (i < s->npats)
		fprintf(out, "off (%s line %d has no literal text of %d bytes or more "
		    "that every match holds)\n", s->pats[i].kind, s->pats[i].cp->line,
		    PF_LIT_MIN);
	else
		fputs("off\n", out);
}

static void
src_print(const struct testpat *tp, const struct tp_src *s, FILE *out)
{
	const struct conf_source *cs = s->cs;
	char t0[DLT_BUFSZ], t1[DLT_BUFSZ];
	size_t i;

	fprintf(out, "\n[source %s] (line %d), time_format %s\n", cs->name, cs->line,
	    cs->time_format && *cs->time_format ? cs->time_format : "%Y-%m-%d %H:%M:%S");
	if (cs->downloader)
		fprintf(out, "  downloader = %s\n", cs->downloader);
	if (cs->prefix.text)
		fprintf(out, "  prefix    line %d\n    %s\n", cs->prefix.line, cs->prefix.text);
	if (cs->timestamp.text)
		fprintf(out, "  timestamp line %-4d %llu %s matched\n    %s\n",
		    cs->timestamp.line, s->ts_lines, plural(s->ts_lines, "line", "lines"),
		    cs->timestamp.text);
	for (i = 0; i < s->npats; i++)
		pat_print(&s->pats[i], out);
	prefilter_print(s, out);
	fprintf(out, "  lines: %llu matched a pattern, %llu did not\n", s->matched,
	    s->unmatched);
	fputs("  attempts: ", out);
	if (s->dls.n == 0)
		fputs("none\n", out);
	else {
		dlt_format(s->first, t0);
		dlt_format(s->last, t1);
		dls_print(&s->dls, out);
		fprintf(out, "\n  times: %s to %s\n", t0, t1);
	}
	ex_print(&s->bad_ts, "timestamp did not parse", out);
	ex_print(&s->limit, "skipped by the match limit", out);
	if (tp->verbose)
		ex_print(&s->words, "unmatched lines with failure words", out);
}

/* testpat_report: see testpat.h. */
unsigned long long
testpat_report(const struct testpat *tp, FILE *out)
{
	unsigned long long matched = 0;
	size_t i;

	fprintf(out, "%lu %s, %llu %s\n", tp->nfiles, plural(tp->nfiles, "file", "files"),
	    tp->lines, plural(tp->lines, "line", "lines"));
	if (tp->files.len)
		fputs(tp->files.buf, out);
	if (tp->long_lines)
		fprintf(out, "  %lu %s longer than %d bytes not matched\n", tp->long_lines,
		    plural(tp->long_lines, "line", "lines"), PARSE_MAX_LINE);
	for (i = 0; i < tp->nsrcs; i++) {
		src_print(tp, &tp->srcs[i], out);
		matched += tp->srcs[i].matched;
	}
	if (matched)
		fprintf(out, "\nresult: %llu %s matched a pattern\n", matched,
		    plural(matched, "line", "lines"));
	else
		fputs("\nresult: no line matched any pattern\n", out);
	return matched;
}

/* testpat_run: see testpat.h. */
int
testpat_run(const struct conf *c, const char *source, char *const *files,
    size_t nfiles, int verbose)
{
	struct testpat *tp = NULL;
	size_t i;
	int err, ferr = DL_OK;

	if (nfiles == 0) {
		msg_err("test-patterns: no FILE given (usage: dlmon test-patterns "
		    "[--source NAME] FILE...)");
		return DL_ECONF;
	}
	if ((tp = testpat_new(c, source, verbose, &err)) == NULL)
		goto out;
	for (i = 0; i < nfiles; i++) {
		err = testpat_file(tp, files[i]);
		if (err == DL_ENOMEM)
			goto out;
		if (err != DL_OK)
			ferr = err;
	}
	err = testpat_report(tp, stdout) > 0 ? ferr : DL_EFAIL;
	fflush(stdout);
out:
	testpat_free(tp);
	return err;
}
