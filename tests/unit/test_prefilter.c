/*
 * test_prefilter.c — the required-literal prefilter of parse.c must never
 * reject a line its pattern matches.  Each case is a pattern written so that
 * a careless literal extraction would take a wrong literal (an optional
 * character, an escape that is a character, a case-insensitive or
 * alternative part), and a line that matches only because of that feature;
 * plus lines that must still be rejected, so the filter is also seen to
 * leave non-matching lines alone.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "parse.h"
#include "util.h"

struct fcase {
	const char *failure;       /* the pattern (a failure pattern) */
	const char *line;
	int match;                 /* 1: the line is a failure attempt */
};

static const struct fcase cases[] = {
	/* a quantifier that allows zero takes the character before it away */
	{ "a*bcdefg", "bcdefg", 1 },
	{ "colou?r shade", "color shade", 1 },
	{ "xy{0}zwvut", "xzwvut", 1 },
	{ "ab{2,}cdefg", "abbbcdefg", 1 },
	{ "abcd\\.?efgh", "abcdefgh", 1 },
	{ "files? for (?<user>\\S+)", "1 file for bob", 1 },
	{ "abcd+efgh", "abcddddefgh", 1 },
	/* escapes that are characters, not classes */
	{ "\\x41BCDEF", "ABCDEF", 1 },
	{ "\\101BCDEF", "ABCDEF", 1 },
	{ "\\cAbcdefg", "\001bcdefg", 1 },
	{ "\\tabcdef", "\tabcdef", 1 },
	{ "\\QA+B?\\E tail", "A+B? tail", 1 },
	/* case, alternation, verbs, comments */
	{ "(?i)HELLO WORLD", "hello world", 1 },
	{ "(?i:HELLO) WORLD", "hello WORLD", 1 },
	{ "foofoo|barbaz", "barbaz", 1 },
	{ "(?:abc(*ACCEPT))?zzzzz", "abc", 1 },
	{ "(?#comment ( )literal", "literal", 1 },
	/* classes, with ']' and POSIX names inside */
	{ "[[:alpha:]]]wxyz", "a]wxyz", 1 },
	{ "[]a]bcdefg", "]bcdefg", 1 },
	{ "(a|(b))cdefgh", "bcdefgh", 1 },
	/* \K and lookarounds still need the text to be there */
	{ "abcd\\Kefgh", "abcdefgh", 1 },
	{ "(?=abcd)abcdefgh", "abcdefgh", 1 },
	/* the filter rejects what cannot match, and matches what can */
	{ "\\ ERROR Download failed for (?<user>\\S+): (?<error>.*)",
	  "x ERROR Download failed for chunk 3 of 12", 0 },
	{ "\\ ERROR Download failed for (?<user>\\S+): (?<error>.*)",
	  "x ERROR Download failed for bob: gone", 1 },
	{ "\\ ERROR Download failed for (?<user>\\S+): (?<error>.*)",
	  "x WARNING Download failed for bob: gone", 0 },
	{ "a*bcdefg", "bcdef", 0 },
	{ "zzzz", "zzz\0zzzz", 1 },        /* the line's bytes after a NUL count */
};

static void
test_cases(void **state)
{
	struct conf c = { .path = (char *)"test.conf" };
	size_t i;

	(void)state;
	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		const struct fcase *tc = &cases[i];
		struct conf_pattern fp = { (char *)tc->failure, 8 };
		struct conf_source cs;
		struct parse_state ps = { 1000, 1000 };
		struct attempt a;
		struct parser *p;
		enum parse_result r;
		size_t len = strlen(tc->line);
		int err;

		if (strcmp(tc->failure, "zzzz") == 0)
			len = 8;
		memset(&cs, 0, sizeof cs);
		cs.name = (char *)"t";
		cs.downloader = (char *)"dl";
		cs.failure = &fp;
		cs.nfailure = 1;
		p = parser_new(&c, &cs, &err);
		if (p == NULL)
			fail_msg("case %zu: /%s/ does not compile", i, tc->failure);
		r = parse_line(p, &ps, tc->line, len, "f", 1, &a, NULL);
		if ((r == PARSE_ATTEMPT) != tc->match)
			fail_msg("case %zu: /%s/ on '%s': %s, expected %s", i,
			    tc->failure, tc->line, r == PARSE_ATTEMPT ? "match" : "no match",
			    tc->match ? "match" : "no match");
		parser_free(p);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cases),
	};

	msg_init("test_prefilter");
	return cmocka_run_group_tests(tests, NULL, NULL);
}
