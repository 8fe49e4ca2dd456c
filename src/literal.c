/*
 * literal.c — the required literal of a PCRE2 pattern (see literal.h).
 * Pure: no allocation, no globals.
 *
 * The top level of the pattern is read as a sequence of atoms; runs of
 * unquantified single literal bytes are kept, any other atom ends the run.
 * Groups and classes are skipped whole, so their end must be found exactly
 * where PCRE2 finds it: a construct that could hide a ')' or ']' from this
 * scan, or show it one PCRE2 does not see, makes it give up.  Ending a run
 * early is always safe; a byte joins a run only when it is certain.
 */
#include "literal.h"

#include <stdint.h>
#include <string.h>

#define GIVEUP SIZE_MAX		/* a helper's "not sure": no literal at all */
#define BRACE_MAX 20		/* longest "{...}" still read as a quantifier */

/* Escapes that are one non-literal atom of exactly two bytes. */
#define ATOM_ESCAPES "dDwWsShHvVRNbBAZzGKXCntrfea"
/* What may follow "(?" in a group other than a letter or digit. */
#define GROUP_OPENERS ":|>=!<'(&+-^*"

/* What the atom before a quantifier was. */
enum prev { PREV_NONE, PREV_LIT, PREV_ATOM };

/* What a '(' opens. */
enum paren { PAREN_GROUP, PAREN_COMMENT, PAREN_OPTS, PAREN_BAD };

/* A run of literals: pattern bytes [start, end) standing for n bytes. */
struct run {
	size_t start, end, n;
};

struct scan {
	const char *p;
	size_t len;
	struct run cur, best;
	size_t last;		/* where the current run's last literal starts */
	enum prev prev;
};

/* ASCII only: no locale may turn bytes >= 0x80 into letters. */
static int
is_alpha(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static int
is_alnum(unsigned char c)
{
	return is_alpha(c) || (c >= '0' && c <= '9');
}

/*
 * A backslash inside a group or class: the index after the escape.  Two
 * bytes, except where PCRE2 reads on in a way that can take in a ')' or
 * ']': \Q quotes up to \E, \c takes any next byte ("\c]" is a character),
 * and \E at the start of a class moves the first member ("[\E]a]").
 */
static size_t
skip_escape_in(const char *p, size_t len, size_t i)
{
	if (i + 1 >= len || p[i + 1] == 'Q' || p[i + 1] == 'E' || p[i + 1] == 'c')
		return GIVEUP;
	return i + 2;
}

/*
 * "[:name:]" or "[:^name:]" at p[i] inside a class.  PCRE2's other readings
 * of "[:", "[." and "[=" (errors, or a literal '[') are not copied: give up.
 */
static size_t
skip_posix(const char *p, size_t len, size_t i)
{
	size_t j = i + 2, name;

	if (p[i + 1] != ':')
		return GIVEUP;
	if (j < len && p[j] == '^')
		j++;
	for (name = j; j < len && is_alpha((unsigned char)p[j]); j++)
		;
	if (j == name || j + 1 >= len || p[j] != ':' || p[j + 1] != ']')
		return GIVEUP;
	return j + 2;
}

/*
 * A class from its '[' at p[i]: the index after its ']'.  A ']' right
 * after "[" or "[^" is a member, not the end.
 */
static size_t
skip_class(const char *p, size_t len, size_t i)
{
	i++;
	if (i < len && p[i] == '^')
		i++;
	if (i < len && p[i] == ']')
		i++;
	while (i < len && p[i] != ']') {
		if (p[i] == '\\')
			i = skip_escape_in(p, len, i);
		else if (p[i] == '[' && i + 1 < len &&
		    (p[i + 1] == ':' || p[i + 1] == '.' || p[i + 1] == '='))
			i = skip_posix(p, len, i);
		else
			i++;
		if (i == GIVEUP)
			return GIVEUP;
	}
	return i < len ? i + 1 : GIVEUP;
}

/*
 * What the '(' at p[i] opens.  PAREN_BAD: verbs ("(*ACCEPT)" ends a match
 * early, "(*UTF)" and the like change how the pattern reads), callouts
 * (their string may hold parentheses), extended classes "(?[", "(?" forms
 * not known here, and option settings with x anywhere (extended mode makes
 * '#' start a comment to the end of the line, parentheses and all).
 * PAREN_OPTS: an option setting like "(?i)" (or "(?R)", alike to this
 * scan); inside a group it lasts to the group's end, at the top level it
 * changes the literals after it.
 */
static enum paren
paren_kind(const char *p, size_t len, size_t i)
{
	size_t j;
	unsigned char c;

	if (i + 1 < len && p[i + 1] == '*')
		return PAREN_BAD;
	if (i + 1 >= len || p[i + 1] != '?')
		return PAREN_GROUP;
	if (i + 2 >= len)
		return PAREN_BAD;
	c = (unsigned char)p[i + 2];
	if (c == '#')
		return PAREN_COMMENT;
	if (c == 'C' || (!is_alnum(c) &&
	    memchr(GROUP_OPENERS, c, sizeof GROUP_OPENERS - 1) == NULL))
		return PAREN_BAD;
	for (j = i + 2; j < len && (is_alpha((unsigned char)p[j]) ||
	    p[j] == '-' || p[j] == '^'); j++)
		if (p[j] == 'x')
			return PAREN_BAD;
	if (j > i + 2 && j < len && p[j] == ')')
		return PAREN_OPTS;
	return PAREN_GROUP;
}

/* A "(?#...)" comment from its '(' at p[i]: PCRE2 ends it at the next ')',
 * escaped or not. */
static size_t
skip_comment(const char *p, size_t len, size_t i)
{
	const char *e = memchr(p + i, ')', len - i);

	return e == NULL ? GIVEUP : (size_t)(e - p) + 1;
}

/*
 * A group from its '(' at p[i] (a PAREN_GROUP): the index after its ')'.
 * Inside, only what moves its end matters: nested groups, comments, classes
 * and escapes.  A byte >= 0x80 there is harmless: no ASCII byte of the
 * syntax hides in UTF-8.
 */
static size_t
skip_group(const char *p, size_t len, size_t i)
{
	size_t depth = 0;

	while (i < len) {
		if (p[i] == '\\')
			i = skip_escape_in(p, len, i);
		else if (p[i] == '[')
			i = skip_class(p, len, i);
		else if (p[i] == ')') {
			if (--depth == 0)
				return i + 1;
			i++;
		} else if (p[i] != '(')
			i++;
		else {
			switch (paren_kind(p, len, i)) {
			case PAREN_BAD:
				return GIVEUP;
			case PAREN_COMMENT:
				i = skip_comment(p, len, i);
				break;
			default:
				depth++;
				i++;
			}
		}
		if (i == GIVEUP)
			return GIVEUP;
	}
	return GIVEUP;
}

/*
 * "{...}" at p[i] as a quantifier: digits, commas and spaces up to '}'.
 * PCRE2 10.42 reads "{,3}" or "{ 1 }" as literal text and 10.43 as a
 * quantifier; dropping them is safe either way.  Other braces may be text
 * or not depending on the version: give up.
 */
static size_t
skip_brace(const char *p, size_t len, size_t i)
{
	size_t j;

	for (j = i + 1; j < len && j - i <= BRACE_MAX; j++) {
		if (p[j] == '}')
			return j + 1;
		if ((p[j] < '0' || p[j] > '9') && p[j] != ',' && p[j] != ' ')
			return GIVEUP;
	}
	return GIVEUP;
}

/*
 * A backslash at the top level: the index after the escape; *lit is set
 * when it is its one literal byte p[i + 1] (an ASCII non-alphanumeric).
 * Back references, \g, \k, \x, \o, \c, \N{...}, \Q, \E and escapes not
 * known here give up: they may be literals, or longer than they look.
 */
static size_t
escape_top(const char *p, size_t len, size_t i, int *lit)
{
	const char *e;
	unsigned char c;

	*lit = 0;
	if (i + 1 >= len || (unsigned char)p[i + 1] >= 0x80)
		return GIVEUP;
	c = (unsigned char)p[i + 1];
	if (!is_alnum(c)) {
		*lit = 1;
		return i + 2;
	}
	if (c == 'p' || c == 'P') {
		if (i + 2 < len && p[i + 2] == '{') {
			e = memchr(p + i + 2, '}', len - i - 2);
			return e == NULL ? GIVEUP : (size_t)(e - p) + 1;
		}
		return i + 2 < len && is_alpha((unsigned char)p[i + 2]) ? i + 3 : GIVEUP;
	}
	if (c == 'N' && i + 2 < len && p[i + 2] == '{')
		return GIVEUP;
	if (memchr(ATOM_ESCAPES, c, sizeof ATOM_ESCAPES - 1) == NULL)
		return GIVEUP;
	return i + 2;
}

/* The current run is over; keep it if it is the longest so far. */
static void
run_end(struct scan *s)
{
	if (s->cur.n > s->best.n)
		s->best = s->cur;
	s->cur.n = 0;
}

/* The literal at pattern bytes [at, next) joins the current run. */
static void
run_add(struct scan *s, size_t at, size_t next)
{
	if (s->cur.n == 0)
		s->cur.start = at;
	s->cur.end = next;
	s->cur.n++;
	s->last = at;
	s->prev = PREV_LIT;
}

/* A non-literal atom: ends the run; a quantifier after it is skipped. */
static void
run_atom(struct scan *s)
{
	run_end(s);
	s->prev = PREV_ATOM;
}

/*
 * A quantifier whose body ends before p[next]: after a literal, that byte
 * leaves the run, which ends there ("ab+c" matches "abbc").  Returns the
 * index after its lazy or possessive suffix, or GIVEUP when nothing before
 * it can be quantified as far as this scan knows.
 */
static size_t
quantify(struct scan *s, size_t next)
{
	if (s->prev == PREV_NONE)
		return GIVEUP;
	if (s->prev == PREV_LIT) {
		s->cur.end = s->last;
		s->cur.n--;
	}
	run_end(s);
	s->prev = PREV_NONE;
	if (next < s->len && (s->p[next] == '?' || s->p[next] == '+'))
		next++;
	return next;
}

/*
 * A '(' at the top level.  A comment is transparent to PCRE2 ("a(?#c)*"
 * repeats the a); rather than follow that, it ends the run and a quantifier
 * right after it gives up.
 */
static size_t
paren_top(struct scan *s, size_t i)
{
	switch (paren_kind(s->p, s->len, i)) {
	case PAREN_GROUP:
		run_atom(s);
		return skip_group(s->p, s->len, i);
	case PAREN_COMMENT:
		run_end(s);
		s->prev = PREV_NONE;
		return skip_comment(s->p, s->len, i);
	default:
		return GIVEUP;
	}
}

/* One atom of the top level at p[i]: the index after it, or GIVEUP. */
static size_t
step(struct scan *s, size_t i)
{
	unsigned char c = (unsigned char)s->p[i];
	size_t next;
	int lit;

	switch (c) {
	case '|':	/* the runs need not be in every branch */
	case ')':
		return GIVEUP;
	case '?':
	case '*':
	case '+':
		return quantify(s, i + 1);
	case '{':
		next = skip_brace(s->p, s->len, i);
		return next == GIVEUP ? GIVEUP : quantify(s, next);
	case '(':
		return paren_top(s, i);
	case '[':
		run_atom(s);
		return skip_class(s->p, s->len, i);
	case '.':
	case '^':
	case '$':
		run_atom(s);
		return i + 1;
	case '\\':
		next = escape_top(s->p, s->len, i, &lit);
		if (next != GIVEUP && lit)
			run_add(s, i, next);
		else if (next != GIVEUP)
			run_atom(s);
		return next;
	default:
		/* in UTF mode a quantifier after it takes the whole character */
		if (c >= 0x80)
			return GIVEUP;
		run_add(s, i, i + 1);
		return i + 1;
	}
}

/*
 * lit_required: see literal.h.  The longest run is kept as a span of the
 * pattern, holding only plain bytes and "\" + punctuation, and copied out
 * without the backslashes at the end.
 */
size_t
lit_required(const char *pat, size_t len, char *out, size_t outsz)
{
	struct scan s;
	size_t i = 0, n = 0;

	memset(&s, 0, sizeof s);
	s.p = pat;
	s.len = len;
	while (i < len) {
		i = step(&s, i);
		if (i == GIVEUP)
			return 0;
	}
	run_end(&s);
	for (i = s.best.start; i < s.best.end && n < outsz; i++) {
		if (pat[i] == '\\')
			i++;
		out[n++] = pat[i];
	}
	return n;
}
