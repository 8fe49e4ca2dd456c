/*
 * test_prefilter.c — src/prefilter.c: the scan (each implementation this
 * CPU runs) against memmem and a byte loop, the walk over
 * a block against a line-by-line reference, the shared literal, and the
 * parser's answers with and without its prefilter, which must be the same
 * for every line of every log (the prefilter only ever skips work).
 *
 * prefilter.c is included, not linked, to reach each implementation.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "prefilter.c"

#include "conf.h"
#include "parse.h"
#include "util.h"

/* A deterministic generator (the tests must not depend on the run). */
static uint64_t rng_state;

static uint32_t
rnd(void)
{
	rng_state = rng_state * 6364136223846793005ULL + 1442695040888963407ULL;
	return (uint32_t)(rng_state >> 33);
}

static const char *const frags[] = {
	"Download", "Downloaded ", " INFO Downloaded ", " ERROR Download failed for ",
	"Downloa", "ownload", "D", "d", "\n", "\r\n", " ", "x", "\t", "é", "\xff",
	"ERROR", "INFO", "failed for chunk", "2025-01-06 00:00:10,123 [tiktok]",
	"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "DDDDDDDDdddddddd",
};
#define NFRAGS (sizeof frags / sizeof frags[0])

/* Fills buf with n bytes of fragments (and a random byte now and then). */
static void
gen(char *buf, size_t n)
{
	size_t i = 0, k, fl;

	while (i < n) {
		if (rnd() % 8 == 0) {
			buf[i++] = (char)(rnd() & 0xff);
			continue;
		}
		k = rnd() % NFRAGS;
		fl = strlen(frags[k]);
		if (fl > n - i)
			fl = n - i;
		memcpy(buf + i, frags[k], fl);
		i += fl;
	}
}

static const char *const lits[] = {
	"Download", " INFO Downloaded ", " ERROR Download failed for ", "dd", "Dd",
	"  ", "aaaa", "\xff\xff", "ownload", "x\ty", "é",
};
#define NLITS (sizeof lits / sizeof lits[0])

/* The scans this CPU runs (all are tested where they run). */
static size_t
kinds(enum pf_kind *k)
{
	size_t n = 0;

	k[n++] = PF_K_C;
#ifdef PF_X86
	k[n++] = PF_K_SSE2;
	if (best_kind() == PF_K_AVX2)
		k[n++] = PF_K_AVX2;
#endif
	return n;
}

/*
 * Every scan of pf over a copy of buf[0, n) in a buffer of exactly n bytes
 * (so that the sanitizers see a read past it) against memmem and a byte
 * loop: the first literal and the '\n' before it.
 */
static void
check_scan(struct prefilter *pf, const char *buf, size_t n)
{
	enum pf_kind k[3];
	char *b = malloc(n ? n : 1);
	const char *want = NULL, *q, *got;
	size_t i, nk, nl, wnl = 0;

	assert_non_null(b);
	memcpy(b, buf, n);
	for (i = 0; i < pf->n; i++) {
		q = memmem(b, n, pf->lit[i], pf->len[i]);
		if (q != NULL && (want == NULL || q < want))
			want = q;
	}
	for (q = b; q < (want ? want : b + n); q++)
		wnl += *q == '\n';
	nk = kinds(k);
	for (i = 0; i < nk; i++) {
		pf->kind = k[i];
		got = scan(pf, b, b + n, &nl);
		assert_ptr_equal(got, want);
		assert_int_equal(nl, wnl);
	}
	free(b);
}

static struct prefilter *
pf_of(const char *const *l, size_t n)
{
	size_t lens[PF_MAX_LITS], i;
	struct prefilter *pf;
	int err;

	for (i = 0; i < n; i++)
		lens[i] = strlen(l[i]);
	pf = prefilter_new(l, lens, n, &err);
	assert_non_null(pf);
	return pf;
}

static void
test_scan(void **state)
{
	static char buf[4096];
	static const char *const sets[][3] = {
		{ " INFO Downloaded ", " ERROR Download failed for ", NULL },
		{ "ddd", "aaaa", "aé" },
		{ "x\tx", " \xff\xff", "\n\nD" },
	};
	struct prefilter *pf[NLITS + 3];
	size_t round, l, n, at, npf = 0, k;

	(void)state;
	for (l = 0; l < NLITS; l++)
		if (strlen(lits[l]) >= PF_LIT_MIN)
			pf[npf++] = pf_of(&lits[l], 1);
	for (l = 0; l < 3; l++) {
		for (k = 0; k < 3 && sets[l][k]; k++)
			;
		pf[npf++] = pf_of(sets[l], k);
	}
	rng_state = 1;
	for (round = 0; round < 3000; round++) {
		n = rnd() % sizeof buf;
		gen(buf, n);
		for (l = 0; l < npf; l++) {
			check_scan(pf[l], buf, n);
			/* from every offset near the ends too */
			at = n ? rnd() % n : 0;
			check_scan(pf[l], buf + at, n - at);
			check_scan(pf[l], buf, at);
		}
	}
	for (l = 0; l < npf; l++)
		prefilter_free(pf[l]);
}

static size_t
naive_count(const char *b, size_t n)
{
	size_t i, c = 0;

	for (i = 0; i < n; i++)
		c += b[i] == '\n';
	return c;
}

static void
test_count(void **state)
{
	static char buf[20000];
	struct prefilter none;
	size_t round, n, at;

	(void)state;
	memset(&none, 0, sizeof none);
	none.reach = 1;
	rng_state = 2;
	for (round = 0; round < 2000; round++) {
		n = rnd() % sizeof buf;
		gen(buf, n);
		at = n ? rnd() % n : 0;
		assert_int_equal(pf_count_lines(buf + at, n - at), naive_count(buf + at, n - at));
		check_scan(&none, buf + at, n - at);
	}
	memset(buf, '\n', sizeof buf);
	assert_int_equal(pf_count_lines(buf, sizeof buf), sizeof buf);
	check_scan(&none, buf, sizeof buf);
}

/*
 * Walks a block with a prefilter of literals l and checks it against a
 * reading line by line: the lines returned are exactly those holding one of
 * the literals searched (l, or the substring they share), in order, CR
 * stripped, and the lines passed add up to all of them.
 */
static void
check_walk(const char *const *l, size_t nl, char *buf, size_t n)
{
	const char *ls[16], *line, *p, *e, *nlp;
	size_t lens[16], i, len, total = 0, want_len, ng = nl;
	unsigned long passed, sum = 0;
	struct prefilter *pf;
	struct pf_cursor cur;
	unsigned want;
	int err, hold;

	for (i = 0; i < nl; i++) {
		ls[i] = l[i];
		lens[i] = strlen(l[i]);
	}
	if (n == 0 || buf[n - 1] != '\n')
		buf[n++] = '\n';
	pf = prefilter_new(ls, lens, nl, &err);
	assert_int_equal(err, DL_OK);
	assert_non_null(pf);
	for (i = 0; i < pf->n; i++) {
		ls[i] = pf->lit[i];
		lens[i] = pf->len[i];
	}
	nl = pf->n;
	pf_start(pf, &cur, buf, n);
	for (p = buf, e = buf + n; p < e; p = nlp + 1) {
		nlp = memchr(p, '\n', (size_t)(e - p));
		total++;
		for (hold = 0, i = 0; i < nl && !hold; i++)
			hold = memmem(p, (size_t)(nlp - p), ls[i], lens[i]) != NULL;
		if (!hold)
			continue;
		assert_int_equal(pf_next(pf, &cur, &line, &len, &passed), 1);
		sum += passed;
		want_len = (size_t)(nlp - p);
		if (want_len > 0 && p[want_len - 1] == '\r')
			want_len--;
		assert_ptr_equal(line, p);
		assert_int_equal(len, want_len);
		assert_int_equal(sum, total);
		/* pf_may against memmem, each given literal in the line */
		for (want = 0, i = 0; i < ng; i++)
			if (memmem(line, len, l[i], strlen(l[i])) != NULL)
				want |= 1U << i;
		assert_int_equal(pf_may(pf, &cur, line, len), want);
	}
	assert_int_equal(pf_next(pf, &cur, &line, &len, &passed), 0);
	assert_int_equal(sum + passed, total);
	prefilter_free(pf);
}

static void
test_walk(void **state)
{
	static char buf[8193];
	static const char *const sets[][3] = {
		{ " INFO Downloaded ", " ERROR Download failed for ", NULL },
		{ "Download", NULL, NULL },
		{ "ddd", "aaaa", "aé" },
		{ "x\tx", " \xff\xff", NULL },
	};
	size_t round, s, k, n;

	(void)state;
	rng_state = 3;
	for (round = 0; round < 1500; round++)
		for (s = 0; s < sizeof sets / sizeof sets[0]; s++) {
			for (k = 0; k < 3 && sets[s][k]; k++)
				;
			n = rnd() % (sizeof buf - 1);
			gen(buf, n);
			check_walk(sets[s], k, buf, n);
		}
}

static void
test_walk_lengths(void **state)
{
	static char buf[8193];
	static const char *const set[] = { " INFO Downloaded ", " ERROR Download failed for " };
	size_t round, n, k;

	(void)state;
	rng_state = 4;
	for (round = 0; round < 3000; round++) {
		n = rnd() % (sizeof buf - 1);
		gen(buf, n);
		check_walk(set, 2, buf, n);
	}
	/* more occurrences in one line than the walk keeps (PF_OCC_MAX) */
	for (round = 0; round < 4; round++) {
		n = 0;
		for (k = 0; k < PF_OCC_MAX + 2 * round; k++)
			n += (size_t)sprintf(buf + n, "Download%s", round % 2 ? "\r\n" : " ");
		n += (size_t)sprintf(buf + n, "%s\nx ERROR Download failed for y\n",
		    round < 2 ? " INFO Downloaded " : "");
		check_walk(set, 2, buf, n);
	}
}

/*
 * pf_which against memmem: for sets of literals (shared or not), on lines
 * of fragments, each bit says whether the line holds that literal.
 */
static void
test_which(void **state)
{
	static char buf[300];
	static const char *const sets[][4] = {
		{ " INFO Downloaded ", " ERROR Download failed for ", NULL },
		{ "Download", " INFO Downloaded ", "Downloaded ", "ownload" },
		{ "ddd", "aaaa", "aé", NULL },
		{ "x\tx", " \xff\xff", "\xff\xffx", NULL },
		{ "DDDDdddd", "DDDDddddD", "dDDDDdddd", NULL },
	};
	struct prefilter *pf;
	size_t round, s, k, n, i;
	unsigned want;

	(void)state;
	rng_state = 6;
	for (s = 0; s < sizeof sets / sizeof sets[0]; s++) {
		for (k = 0; k < 4 && sets[s][k]; k++)
			;
		pf = pf_of(sets[s], k);
		for (round = 0; round < 20000; round++) {
			n = rnd() % sizeof buf;
			gen(buf, n);
			for (want = 0, i = 0; i < k; i++)
				if (memmem(buf, n, sets[s][i], strlen(sets[s][i])) != NULL)
					want |= 1U << i;
			assert_int_equal(pf_which(pf, buf, n), want);
		}
		prefilter_free(pf);
	}
}

/* Literals sharing a substring of PF_SHARED_MIN bytes or more are searched
 * as that one substring. */
static void
test_shared(void **state)
{
	static const struct {
		const char *l[3];
		const char *want[3];   /* the literals searched */
	} t[] = {
		{ { " INFO Downloaded ", " ERROR Download failed for " }, { " Download" } },
		{ { "abcdef", "xabcdefy" }, { "abcdef" } },
		{ { "abcde", "xabcdey" }, { "abcde", "xabcdey" } },   /* too short */
		{ { "same literal", "same literal" }, { "same literal" } },
		{ { "one", "two", "three" }, { "one", "two", "three" } },
		{ { "Downloaded 3", "was Downloaded", "Downloaded!" }, { "Downloaded" } },
		{ { "only" }, { "only" } },
	};
	const char *ls[3];
	size_t lens[3], i, k, n;
	struct prefilter *pf;
	int err;

	(void)state;
	for (i = 0; i < sizeof t / sizeof t[0]; i++) {
		for (n = 0; n < 3 && t[i].l[n]; n++) {
			ls[n] = t[i].l[n];
			lens[n] = strlen(ls[n]);
		}
		pf = prefilter_new(ls, lens, n, &err);
		assert_non_null(pf);
		for (k = 0; k < 3 && t[i].want[k]; k++) {
			assert_true(k < pf->n);
			assert_int_equal(pf->len[k], strlen(t[i].want[k]));
			assert_memory_equal(pf->lit[k], t[i].want[k], pf->len[k]);
		}
		assert_int_equal(pf->n, k);
		prefilter_free(pf);
	}
	/* a pattern without a literal, or with one of 2 bytes: no prefilter */
	ls[0] = "abc";
	lens[0] = 3;
	ls[1] = "";
	lens[1] = 0;
	assert_null(prefilter_new(ls, lens, 2, &err));
	assert_int_equal(err, DL_OK);
	ls[1] = "ab";
	lens[1] = 2;
	assert_null(prefilter_new(ls, lens, 2, &err));
	assert_int_equal(err, DL_OK);
	assert_null(prefilter_new(ls, lens, 0, &err));
	assert_int_equal(err, DL_OK);
}

/* --- the parser with and without its prefilter ------------------------- */

struct src_def {
	const char *name;
	const char *prefix, *success, *failure, *start;
	int want_pf;               /* a prefilter is expected */
};

#define BP "^(?<ts>\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d)\\S* \\[(?<downloader>\\w+)\\]"

static const struct src_def defs[] = {
	{ "bench", BP, "\\ INFO Downloaded (?<count>\\d+) files? for (?<user>\\S+)",
	  "\\ ERROR Download failed for (?<user>\\S+): (?<error>.*)", NULL, 1 },
	{ "start", BP, " INFO Downloaded (?<count>\\d+) files?",
	  " ERROR (?<error>.*)", " INFO Fetching page \\d+ for (?<user>\\S+)", 1 },
	{ "optional s", NULL, "(?<downloader>\\w+) Downloaded files? for (?<user>\\w+)",
	  "(?<downloader>\\w+) ERROR Download failed: (?<error>.*)$", NULL, 1 },
	{ "alternation: no literal", NULL, "(?<downloader>\\w+) (?:Downloaded|Saved) (?<count>\\d+)",
	  "(?<downloader>\\w+) ERROR(?<error>.*)", NULL, 0 },
	{ "caseless: no literal", NULL, "(?i)(?<downloader>\\w+) downloaded",
	  "(?<downloader>\\w+) ERROR(?<error>.*)", NULL, 0 },
};

static const char *const words[] = {
	"2025-01-06 00:00:10,123 ", "2025-01-06 00:00:11 ", "[tiktok]", "[fastdl]", " INFO",
	" ERROR", " Downloaded ", " Download failed for ", "3 ", "12 ", "files ", "file ",
	"for ", "bob", "alice.1", ": ", "HTTP 429", "chunk 3 of 12", "\r", "\t", "\xff", " ",
	"tiktok Downloaded files for bob", "fastdl ERROR Download failed: x",
	"fastdl DOWNLOADED", "Saved 3", " INFO Fetching page 7 for carol", "é",
};
#define NWORDS (sizeof words / sizeof words[0])

static const char *const templates[] = {
	"2025-01-06 00:00:10,123 [tiktok] INFO Downloaded 3 files for bob",
	"2025-01-06 00:00:11 [fastdl] ERROR Download failed for alice.1: HTTP 429",
	"2025-01-06 00:00:12 [fastdl] ERROR Download failed for chunk 3 of 12",
	"2025-01-06 00:00:13 [fastdl] INFO Fetching page 7 for carol",
	"2025-01-06 00:00:14 [imginn] INFO Downloaded 1 file",
	"tiktok Downloaded files for bob",
	"fastdl ERROR Download failed: x",
	"fastdl DOWNLOADED 3",
	"2025-01-06 00:00:15 [x] DEBUG nothing here",
};
#define NTEMPLATES (sizeof templates / sizeof templates[0])

/*
 * A log of nlines lines: templates of lines the test sources match, some
 * mutated (a byte dropped, changed, or a word inserted), some plain words.
 */
static size_t
gen_log(char *buf, size_t cap, size_t nlines)
{
	char line[256];
	const char *w;
	size_t n = 0, i, k, len, at, wl;

	for (i = 0; i < nlines; i++) {
		if (rnd() % 5 == 0) {
			k = rnd() % NWORDS;
			snprintf(line, sizeof line, "%s", words[k]);
		} else
			snprintf(line, sizeof line, "%s", templates[rnd() % NTEMPLATES]);
		len = strlen(line);
		for (k = rnd() % 3; k > 0 && len > 0; k--) {
			at = rnd() % len;
			switch (rnd() % 3) {
			case 0:
				memmove(line + at, line + at + 1, len - at);
				len--;
				break;
			case 1:
				line[at] = (char)(rnd() % 2 ? ' ' + rnd() % 95 : rnd() & 0xff);
				if (line[at] == '\n' || line[at] == '\0')
					line[at] = '\r';
				break;
			default:
				w = words[rnd() % NWORDS];
				wl = strlen(w);
				if (len + wl < sizeof line - 1) {
					memmove(line + at + wl, line + at, len - at + 1);
					memcpy(line + at, w, wl);
					len += wl;
				}
			}
		}
		if (n + len + 1 > cap)
			break;
		memcpy(buf + n, line, len);
		n += len;
		buf[n++] = '\n';
	}
	return n;
}

/* What parse_line said of one line, as text, for comparing two readings. */
static void
note(struct strbuf *sb, unsigned long lineno, enum parse_result r, enum parse_kind k,
    const struct attempt *a, const struct parse_state *st)
{
	sb_printf(sb, "%lu r%d k%d t%lld", lineno, (int)r, (int)k, (long long)st->cur_time);
	if (r == PARSE_ATTEMPT || k == PK_START) {
		sb_printf(sb, " %.*s|", (int)(a->downloader ? a->downloader_len : 0),
		    a->downloader ? a->downloader : "");
		if (a->user)
			sb_append(sb, a->user, a->user_len);
		sb_printf(sb, "|%lld|%d|%lld|", (long long)a->ts, a->success, a->file_count);
		if (a->error)
			sb_append(sb, a->error, a->error_len);
	}
	sb_puts(sb, "\n");
}

static void
test_parser_same(void **state)
{
	static struct conf c = { .path = (char *)"test.conf" };
	static char log[1 << 16];
	struct conf_pattern ps, pf_, pst;
	struct conf_source cs;
	struct parser *p;
	struct parse_state st1, st2;
	struct strbuf a, b;
	struct attempt at;
	struct pf_cursor cur;
	const char *line, *q, *e, *nl;
	enum parse_result r;
	enum parse_kind k;
	size_t d, round, n, len, seen;
	unsigned long lineno, passed;
	int err;

	(void)state;
	memset(&a, 0, sizeof a);
	memset(&b, 0, sizeof b);
	rng_state = 5;
	for (d = 0; d < sizeof defs / sizeof defs[0]; d++) {
		memset(&cs, 0, sizeof cs);
		cs.name = (char *)defs[d].name;
		cs.time_format = (char *)"%Y-%m-%d %H:%M:%S";
		cs.downloader = (char *)"fixed";
		cs.prefix.text = (char *)defs[d].prefix;
		ps.text = (char *)defs[d].success;
		ps.line = 1;
		pf_.text = (char *)defs[d].failure;
		pf_.line = 2;
		pst.text = (char *)defs[d].start;
		pst.line = 3;
		cs.success = &ps;
		cs.nsuccess = 1;
		cs.failure = &pf_;
		cs.nfailure = 1;
		cs.start = &pst;
		cs.nstart = defs[d].start ? 1 : 0;
		p = parser_new(&c, &cs, &err);
		assert_non_null(p);
		assert_int_equal(parser_prefilter(p) != NULL, defs[d].want_pf);
		seen = 0;
		for (round = 0; round < 200; round++) {
			n = gen_log(log, sizeof log, 1 + rnd() % 400);
			sb_reset(&a);
			sb_reset(&b);
			memset(&st1, 0, sizeof st1);
			memset(&st2, 0, sizeof st2);
			/* every line */
			for (lineno = 0, q = log, e = log + n; q < e; q = nl + 1) {
				nl = memchr(q, '\n', (size_t)(e - q));
				len = (size_t)(nl - q);
				if (len > 0 && q[len - 1] == '\r')
					len--;
				lineno++;
				r = parse_line(p, &st1, q, len, "t", lineno, &at, &k);
				if (r != PARSE_NONE || k != PK_NONE)
					note(&a, lineno, r, k, &at, &st1);
			}
			/* the lines the prefilter lets through */
			pf_start(parser_prefilter(p), &cur, log, n);
			for (lineno = 0; pf_next(parser_prefilter(p), &cur, &line, &len, &passed); ) {
				lineno += passed;
				r = parse_candidate(p, &st2, line, len,
				    pf_may(parser_prefilter(p), &cur, line, len), "t", lineno, &at, &k);
				if (r != PARSE_NONE || k != PK_NONE)
					note(&b, lineno, r, k, &at, &st2);
			}
			assert_int_equal(lineno + passed, (unsigned long)pf_count_lines(log, n));
			assert_string_equal(a.buf ? a.buf : "", b.buf ? b.buf : "");
			for (q = a.buf; q && (q = strchr(q, '\n')) != NULL; q++)
				seen++;
		}
		/* the logs do hold lines each pattern matches */
		assert_true(seen > 1000);
		parser_free(p);
	}
	sb_free(&a);
	sb_free(&b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_scan),
		cmocka_unit_test(test_count),
		cmocka_unit_test(test_walk),
		cmocka_unit_test(test_walk_lengths),
		cmocka_unit_test(test_shared),
		cmocka_unit_test(test_which),
		cmocka_unit_test(test_parser_same),
	};

	msg_init("test_prefilter");
	msg_set_verbosity(-1);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
