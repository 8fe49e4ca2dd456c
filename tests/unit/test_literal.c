/*
 * test_literal.c — unit tests of src/literal.c: the required literal of a
 * PCRE2 pattern.  Table-driven; the table is also checked against PCRE2
 * itself (every line a pattern matches must contain its literal), over
 * probe lines built from the patterns and over random patterns.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "literal.h"

/* The benchmark's source (scripts/bench). */
#define BPFX "^(?<ts>\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d)\\S* \\[(?<downloader>\\w+)\\]"
#define BOK "\\ INFO Downloaded (?<count>\\d+) files? for (?<user>\\S+)"
#define BFAIL "\\ ERROR Download failed for (?<user>\\S+): (?<error>.*)"

struct lcase {
	const char *pat;
	const char *want;          /* "": no literal */
	const char *sample;        /* a line the pattern matches, NULL: none */
};

static const struct lcase cases[] = {
	/* the benchmark: prefix + pattern, as parse.c compiles them */
	{ BPFX BOK, "] INFO Downloaded ",
	  "2025-11-19 09:05:00 [fastdl] INFO Downloaded 12 files for bob" },
	{ BPFX BFAIL, "] ERROR Download failed for ",
	  "2025-11-19 09:00:00,123 [fastdl] ERROR Download failed for bob: 429" },
	{ BOK, " INFO Downloaded ", " INFO Downloaded 1 file for x" },
	{ BFAIL, " ERROR Download failed for ", " ERROR Download failed for x: y" },
	{ BPFX, " [", "2025-11-19 09:05:00 [fastdl]" },
	/* quantifiers take their byte out of the run */
	{ "ab+c", "a", "abbc" },
	{ "ab?c", "a", "ac" },
	{ "ab*c", "a", "ac" },
	{ "ab{2}c", "a", "abbc" },
	{ "ab{2,}cde", "cde", "abbbcde" },
	{ "abc{1,3}", "ab", "abccc" },
	{ "abc{,3}", "ab", "abc{,3}" },     /* literal text to PCRE2 10.42 */
	{ "abc{ 1 }", "ab", "abc{ 1 }" },
	{ "abcd{2}", "abc", "abcdd" },
	{ "abc+?d", "ab", "abccd" },
	{ "abc*+d", "ab", "abd" },
	{ "ab++c", "a", "abbc" },
	{ "a\\.+b", "a", "a..b" },
	{ "a{", "", "a{" },
	{ "abc{x}", "", "abc{x}" },
	{ "+abc", "", NULL },
	{ "a**", "", NULL },
	/* alternation and options */
	{ "x|abc", "", "x" },
	{ "(?=a)|bcde", "", "a" },
	{ "(?:a|b)cdef", "cdef", "bcdef" },
	{ "(a|b)+cde", "cde", "abacde" },
	{ "(?|a|b)cdef", "cdef", "bcdef" },
	{ "(?i)abc", "", "ABC" },
	{ "abc(?i)def", "", "abcDEF" },
	{ "(?i:abc)defg", "defg", "ABCdefg" },
	{ "(?:(?i)ab)cde", "cde", "ABcde" },
	{ "(?-i)abc", "", "abc" },
	{ "(?x)a b c", "", "abc" },
	{ "(?x: a # ) \n)abc", "", "aabc" },
	{ "(?:(?x) # ) \n)abc", "", "abc" },
	{ "(?:a(?ix)b)cde", "", "abcde" },
	{ "(*UTF)abc", "", "abc" },
	{ "(*CR)abc", "", "abc" },
	{ "abc(*ACCEPT)def", "", "abc" },
	{ "(?:(*ACCEPT))abcd", "", "x" },
	{ "abc(?R)?", "", "abc" },
	/* escapes */
	{ "\\Qabc\\E", "", "abc" },
	{ "\\x41bcd", "", "Abcd" },
	{ "\\x{41}bcd", "", "Abcd" },
	{ "\\o{101}bcd", "", "Abcd" },
	{ "\\cAbcd", "", "\001bcd" },
	{ "\\1abc", "", NULL },
	{ "(a)\\1bcd", "", "aabcd" },
	{ "(a)\\g1bcd", "", "aabcd" },
	{ "(?<n>a)\\k<n>bcd", "", "aabcd" },
	{ "\\d+abc", "abc", "12abc" },
	{ "\\[abc\\]", "[abc]", "[abc]" },
	{ "\\(abc\\)", "(abc)", "(abc)" },
	{ "a\\|bcd", "a|bcd", "a|bcd" },
	{ "a\\.b\\.c", "a.b.c", "a.b.c" },
	{ "foo\\ bar", "foo bar", "foo bar" },
	{ "abc\\\\def", "abc\\def", "abc\\def" },
	{ "abc\\", "", NULL },
	{ "abc\\Kdef", "abc", "abcdef" },
	{ "abc\\ndef", "abc", "abc\ndef" },
	{ "\\babcd\\b", "abcd", "x abcd y" },
	{ "\\p{L}abcd", "abcd", "xabcd" },
	{ "\\pLabcd", "abcd", "xabcd" },
	{ "\\p{Lu}+abc", "abc", "XYabc" },
	{ "\\Nabc", "abc", "xabc" },
	{ "\\N{2}abc", "", "xyabc" },
	{ "^\\s*ERROR:", "ERROR:", "  ERROR: x" },
	{ "\\d\\d:\\d\\d:\\d\\d", ":", "12:34:56" },
	/* classes */
	{ "[abc]defg", "defg", "bdefg" },
	{ "[]x]yzw", "yzw", "]yzw" },
	{ "[^]]yzw", "yzw", "ayzw" },
	{ "[a\\]b]cde", "cde", "]cde" },
	{ "[(]abc", "abc", "(abc" },
	{ "[)|]abc", "abc", ")abc" },
	{ "[[:alpha:]]+xyz", "xyz", "abxyz" },
	{ "[[:^digit:]]xyz", "xyz", "axyz" },
	{ "[[:<:]]abc", "", "abc" },
	{ "[a[:b]cde", "", "bcde" },
	{ "[\\E]a]bcd", "", "abcd" },         /* \E first: the ']' is a member */
	{ "[\\c]abc]", "", "\035" },           /* \c] is one character */
	{ "ERROR [", "", NULL },
	{ "[[:alpha:]", "", NULL },
	/* groups */
	{ "(abc", "", NULL },
	{ "abc)", "", NULL },
	{ "(?", "", NULL },
	{ "a(?=bc)bcd", "bcd", "abcd" },
	{ "abc(?=x)", "abc", "abcx" },
	{ "(?<=x)abc", "abc", "xabc" },
	{ "(?<!x)abc", "abc", "yabc" },
	{ "abc(?!d)", "abc", "abce" },
	{ "(?>a+)bcd", "bcd", "aabcd" },
	{ "(?<year>\\d{4})-(?<m>\\d\\d)", "-", "2025-11" },
	{ "(?P<n>a)(?P=n)bcd", "bcd", "aabcd" },
	{ "ab(?1)?(c)def", "def", "abcdef" },
	{ "(x)?(?(1)a|b)cde", "cde", "bcde" },
	{ "(?C\")xyz(\")", "", "q" },          /* a callout string holds ")xyz(" */
	{ "(?:\\Q)xyz(\\E|q)", "", "q" },
	{ "(\\((x\\)))abcd", "abcd", "(x)abcd" },
	/* comments */
	{ "(?#comment)abcd", "abcd", "abcd" },
	{ "ab(?#c)cd", "ab", "abcd" },
	{ "xa(?#c)*b", "", "xb" },            /* the * repeats the a */
	{ "((?#[)abc)x]yz", "x]yz", "abcx]yz" },
	{ "(a(?#\\)bcd)efg", "efg", "abcdefg" },
	/* anchors, dots, other bytes */
	{ ".*abc", "abc", "xxabc" },
	{ "^abc$", "abc", "abc" },
	{ "abc.def", "abc", "abcXdef" },
	{ "hello, world", "hello, world", "hello, world" },
	{ "a}b]c", "a}b]c", "a}b]c" },
	{ "#not a comment", "#not a comment", "#not a comment" },
	{ "", "", "" },
	/* bytes >= 0x80 */
	{ "\xc3\xa9+abc", "", "\xc3\xa9\xc3\xa9" "abc" },
	{ "x\xc3\xa9yz", "", "x\xc3\xa9yz" },
	{ "[\xc3\xa9]abcd", "abcd", "\xc3\xa9" "abcd" },
	{ "(\xc3\xa9)+abcd", "abcd", "\xc3\xa9\xc3\xa9" "abcd" },
	{ "abc\\\xc3\xa9", "", "abc\xc3\xa9" },
};

/* Deterministic pseudo-random numbers (xorshift32). */
static uint32_t
rnd(uint32_t *st)
{
	*st ^= *st << 13;
	*st ^= *st >> 17;
	*st ^= *st << 5;
	return *st;
}

/* Compiled as parse.c does; NULL when PCRE2 refuses the pattern. */
static pcre2_code *
compile(const char *pat, size_t len)
{
	uint32_t opts = 0;
	size_t i, eo;
	int ec;

	for (i = 0; i < len; i++)
		if ((unsigned char)pat[i] >= 0x80)
			opts = PCRE2_UTF | PCRE2_MATCH_INVALID_UTF;
	return pcre2_compile((PCRE2_SPTR)pat, len, opts, &ec, &eo, NULL);
}

/* 1 when re matches line (errors such as the match limit count as no). */
static int
matches(pcre2_code *re, pcre2_match_context *mc, const char *line, size_t len)
{
	pcre2_match_data *md = pcre2_match_data_create_from_pattern(re, NULL);
	int rc;

	assert_non_null(md);
	rc = pcre2_match(re, (PCRE2_SPTR)line, len, 0, 0, md, mc);
	pcre2_match_data_free(md);
	return rc >= 0;
}

static int
contains(const char *line, size_t len, const char *lit, size_t llen)
{
	return llen == 0 || memmem(line, len, lit, llen) != NULL;
}

static void
test_table(void **state)
{
	char out[256];
	size_t i, n, wl;

	(void)state;
	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		const struct lcase *tc = &cases[i];

		n = lit_required(tc->pat, strlen(tc->pat), out, sizeof out);
		wl = strlen(tc->want);
		if (n != wl || memcmp(out, tc->want, wl) != 0)
			fail_msg("'%s': got '%.*s' (%zu), want '%s'", tc->pat,
			    (int)n, out, n, tc->want);
	}
}

static void
test_outsz(void **state)
{
	static const char pat[] = "^\\d+ \\[abcdefgh\\] x";
	char out[8];

	(void)state;
	memset(out, '*', sizeof out);
	assert_int_equal(lit_required(pat, strlen(pat), out, 4), 4);
	assert_memory_equal(out, " [ab****", 8);
	assert_int_equal(lit_required(pat, strlen(pat), out, 0), 0);
	assert_int_equal(lit_required(pat, strlen(pat), NULL, 0), 0);
	assert_int_equal(lit_required(NULL, 0, out, sizeof out), 0);
	/* len, not a NUL, ends the pattern; a NUL inside is a literal byte */
	assert_int_equal(lit_required("abc|", 3, out, sizeof out), 3);
	assert_int_equal(lit_required("a\0b+", 4, out, sizeof out), 2);
	assert_memory_equal(out, "a\0", 2);
}

/* Probe lines: appended to a fixed pool, each at most PROBE_MAX bytes. */
#define PROBE_MAX 128
#define NPROBES 512
struct probes {
	char line[NPROBES][PROBE_MAX];
	size_t len[NPROBES];
	size_t n;
};

static void
probe_add(struct probes *pr, const char *s, size_t len)
{
	if (pr->n == NPROBES || len > PROBE_MAX)
		return;
	memcpy(pr->line[pr->n], s, len);
	pr->len[pr->n++] = len;
}

/* s with byte k dropped (op 0), doubled (1), case-flipped (2), or 'x' (3). */
static void
probe_mutate(struct probes *pr, const char *s, size_t len, uint32_t *st)
{
	char buf[PROBE_MAX + 1];
	size_t k;
	int op = (int)(rnd(st) % 4);

	if (len == 0 || len >= PROBE_MAX)
		return;
	k = rnd(st) % len;
	memcpy(buf, s, k);
	switch (op) {
	case 0:
		memcpy(buf + k, s + k + 1, len - k - 1);
		probe_add(pr, buf, len - 1);
		return;
	case 1:
		buf[k] = s[k];
		memcpy(buf + k + 1, s + k, len - k);
		probe_add(pr, buf, len + 1);
		return;
	default:
		memcpy(buf + k, s + k, len - k);
		if (op == 3)
			buf[k] = 'x';
		else if (buf[k] >= 'a' && buf[k] <= 'z')
			buf[k] = (char)(buf[k] - 'a' + 'A');
		else if (buf[k] >= 'A' && buf[k] <= 'Z')
			buf[k] = (char)(buf[k] - 'A' + 'a');
		probe_add(pr, buf, len);
	}
}

/*
 * Probes for one pattern: its literal with a byte missing at either end,
 * the pattern text without its metacharacters (the literal pieces joined),
 * the pieces alone, and mutations of its sample line.
 */
static void
probes_for(struct probes *pr, const struct lcase *tc, uint32_t *st)
{
	char text[PROBE_MAX];
	size_t i, n = 0, wl = strlen(tc->want), pl = strlen(tc->pat), start = 0;
	int k;

	if (wl > 0) {
		probe_add(pr, tc->want + 1, wl - 1);
		probe_add(pr, tc->want, wl - 1);
	}
	for (i = 0; i <= pl && n < sizeof text; i++) {
		if (i < pl && strchr("\\^$.|?*+()[]{}", tc->pat[i]) == NULL) {
			text[n++] = tc->pat[i];
			continue;
		}
		if (i > start)
			probe_add(pr, tc->pat + start, i - start);
		start = i + 1;
	}
	probe_add(pr, text, n);
	for (k = 0; k < 20 && tc->sample != NULL; k++)
		probe_mutate(pr, tc->sample, strlen(tc->sample), st);
	for (k = 0; k < 6; k++)
		probe_mutate(pr, text, n, st);
}

/*
 * Every line PCRE2 matches contains the literal: over every table sample
 * (each must match its own pattern) and each pattern's own probes.
 */
static void
test_differential(void **state)
{
	struct probes *pr = calloc(1, sizeof *pr);
	pcre2_match_context *mc = pcre2_match_context_create(NULL);
	uint32_t st = 2463534242u;
	size_t i, j, nsamples, ncompiled = 0, nmatched = 0;

	(void)state;
	assert_non_null(pr);
	assert_non_null(mc);
	pcre2_set_match_limit(mc, 100000);
	for (i = 0; i < sizeof cases / sizeof cases[0]; i++)
		if (cases[i].sample != NULL)
			probe_add(pr, cases[i].sample, strlen(cases[i].sample));
	nsamples = pr->n;
	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		const struct lcase *tc = &cases[i];
		pcre2_code *re = compile(tc->pat, strlen(tc->pat));
		size_t wl = strlen(tc->want);

		if (re == NULL) {
			if (tc->sample != NULL)
				fail_msg("'%s' does not compile", tc->pat);
			continue;
		}
		ncompiled++;
		if (tc->sample == NULL)
			fail_msg("'%s' compiles: give it a sample", tc->pat);
		if (!matches(re, mc, tc->sample, strlen(tc->sample)))
			fail_msg("'%s' does not match its sample '%s'", tc->pat,
			    tc->sample);
		pr->n = nsamples;
		probes_for(pr, tc, &st);
		for (j = 0; j < pr->n; j++) {
			if (!matches(re, mc, pr->line[j], pr->len[j]))
				continue;
			nmatched++;
			if (!contains(pr->line[j], pr->len[j], tc->want, wl))
				fail_msg("'%s' matches '%.*s', which lacks '%s'",
				    tc->pat, (int)pr->len[j], pr->line[j], tc->want);
		}
		pcre2_code_free(re);
	}
	/* the check is not vacuous: most patterns met several matching lines */
	assert_true(ncompiled >= 100);
	assert_true(nmatched >= 4 * ncompiled);
	pcre2_match_context_free(mc);
	free(pr);
}

/* Pieces of random patterns: literals, metacharacters, traps. */
static const char *const pieces[] = {
	"a", "b", "c", "ab", "bc", "A", "\\.", ".", " ", "#", "]", "}", ",",
	"\n", "+", "?", "*", "{2}", "{0}", "{1,2}", "{,2}", "+?", "*+", "{",
	"(", ")", "(?:", "(?i)", "(?i:", "(?#x)", "(?#(", "|", "[ab]", "[^a]",
	"[]a]", "[\\]]", "[(]", "[)]", "[[:alpha:]]", "\\d", "\\w", "\\s", "^",
	"$", "\\b", "\\K", "(?=", "(?!a)", "(?<=a)", "(?>", "(?|", "\\Q", "\\E",
	"(?x)", "(?x:", "\\(", "\\)", "\\n", "(*ACCEPT)", "\\1", "(?1)", "(a)",
	"\\x61", "\\c", "\\e", "\\p{L}", "\\N",
};
#define NPIECES (sizeof pieces / sizeof pieces[0])

/* Random lines over the bytes the pieces match, and the literal's bytes. */
static size_t
random_line(char *buf, size_t max, const char *lit, size_t ll, uint32_t *st)
{
	static const char alpha[] = "abcAB. #]},\n()x1";
	size_t n = rnd(st) % max, i;

	for (i = 0; i < n; i++)
		buf[i] = alpha[rnd(st) % (sizeof alpha - 1)];
	if (ll > 0 && ll < max && rnd(st) % 2 == 0) {
		i = rnd(st) % (max - ll);
		if (i > n)
			i = n;
		memcpy(buf + i, lit, ll);
		if (i + ll > n)
			n = i + ll;
		/* a near miss: one byte of the literal changed */
		if (rnd(st) % 2 == 0)
			buf[i + rnd(st) % ll] = alpha[rnd(st) % (sizeof alpha - 1)];
	}
	return n;
}

/*
 * Random patterns made of the pieces, each against random lines: whenever
 * PCRE2 matches, the literal is in the line.
 */
static void
test_random(void **state)
{
	pcre2_match_context *mc = pcre2_match_context_create(NULL);
	uint32_t st = 88172645u;
	char pat[128], lit[128], line[24];
	size_t plen, llen, n, withlit = 0, nmatched = 0;
	int t, k, np;

	(void)state;
	assert_non_null(mc);
	pcre2_set_match_limit(mc, 10000);
	for (t = 0; t < 3000; t++) {
		pcre2_code *re;

		plen = 0;
		np = 1 + (int)(rnd(&st) % 8);
		for (k = 0; k < np; k++) {
			const char *pc = pieces[rnd(&st) % NPIECES];

			memcpy(pat + plen, pc, strlen(pc));
			plen += strlen(pc);
		}
		llen = lit_required(pat, plen, lit, sizeof lit);
		re = compile(pat, plen);
		if (re == NULL)
			continue;
		withlit += llen > 0;
		for (k = 0; k < 40; k++) {
			n = random_line(line, sizeof line, lit, llen, &st);
			if (!matches(re, mc, line, n))
				continue;
			nmatched++;
			if (!contains(line, n, lit, llen))
				fail_msg("'%.*s' matches '%.*s', which lacks '%.*s'",
				    (int)plen, pat, (int)n, line, (int)llen, lit);
		}
		pcre2_code_free(re);
	}
	assert_true(withlit >= 300);
	assert_true(nmatched >= 3000);
	pcre2_match_context_free(mc);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_outsz),
		cmocka_unit_test(test_differential),
		cmocka_unit_test(test_random),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
