/*
 * prefilter.h — skipping, over whole buffers, the lines no pattern can
 * match.  Each pattern has a required literal (literal.h): a line holding
 * none of them cannot match any pattern, so it is never given to PCRE2.
 * Lines are found around literal hits, by one pass over the buffer that
 * also counts the lines, instead of one by one, which is where the time of
 * a parse goes when most lines are noise.
 *
 * Error convention: see util.h.
 */
#ifndef DLMON_PREFILTER_H
#define DLMON_PREFILTER_H

#include <stddef.h>

#define PF_MAX_LITS 16
#define PF_LIT_MIN 3      /* shorter literals are on too many lines to skip work */

struct prefilter;

/*
 * prefilter_new: a prefilter for n patterns with the given required
 * literals (lits[i], lens[i] bytes; copied).  NULL, with *err = DL_OK, when
 * some pattern has no literal of PF_LIT_MIN bytes or more, or n is 0 or
 * greater than PF_MAX_LITS: every line must then be matched.  NULL with
 * *err = DL_ENOMEM when out of memory.
 */
struct prefilter *prefilter_new(const char *const *lits, const size_t *lens, size_t n,
    int *err);
void prefilter_free(struct prefilter *pf);

/* prefilter_literal: the k-th literal pf searches (its bytes in *lit, owned
 * by pf): its length, 0 when k is past the last. */
size_t prefilter_literal(const struct prefilter *pf, size_t k, const char **lit);

#define PF_OCC_MAX 8       /* occurrences of literals kept for one line */

/* A walk over a block of complete lines (each ending in '\n'). */
struct pf_cursor {
	const char *p, *end;       /* the lines not yet passed */
	/* The search for the line's further literals went on to the next
	 * line that holds one (have_next): next (NULL: none) after next_nl
	 * '\n' from p. */
	int have_next;
	const char *next;
	size_t next_nl;
	/* Where literals start in the line last returned: all of them when
	 * occ_all, else only the first nocc. */
	const char *occ[PF_OCC_MAX];
	size_t nocc;
	int occ_all;
};

/*
 * pf_start / pf_next: walk buf[0, len), which must end with '\n'.  With pf
 * NULL every line is returned.  pf_next returns 1 with the next line that
 * may match (*line, *len without its '\n'; a '\r' before it is stripped)
 * and *passed = the lines passed to reach it, itself included; 0 at the end
 * of the block, with *passed = the lines left after the last one returned.
 */
void pf_start(const struct prefilter *pf, struct pf_cursor *c, const char *buf, size_t len);
int pf_next(const struct prefilter *pf, struct pf_cursor *c, const char **line,
    size_t *len, unsigned long *passed);

/*
 * pf_which: which of the literals given to prefilter_new line[0, len) holds:
 * bit i for lits[i].  A pattern whose literal a line does not hold cannot
 * match it.
 */
unsigned pf_which(const struct prefilter *pf, const char *line, size_t len);

/*
 * pf_may: pf_which of the line pf_next last returned (line, len), from the
 * places its walk found literals at (a few compares), or by searching the
 * line when there were more than PF_OCC_MAX.  With pf NULL, every bit.
 */
unsigned pf_may(const struct prefilter *pf, const struct pf_cursor *c,
    const char *line, size_t len);

/* pf_count_lines: the '\n' bytes in buf[0, len). */
size_t pf_count_lines(const char *buf, size_t len);

#endif
