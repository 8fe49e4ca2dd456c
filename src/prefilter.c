/*
 * prefilter.c — required-literal prefilter over blocks of lines.  See
 * prefilter.h.
 */
#include "prefilter.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

struct prefilter {
	size_t n;
	char *lit[PF_MAX_LITS];
	size_t len[PF_MAX_LITS];
	size_t i1[PF_MAX_LITS], i2[PF_MAX_LITS]; /* pick_bytes */
	int wide;                  /* the 32-byte loops run here */
};

/* The two bytes of lit a search tests first: its first and last bytes
 * that are not spaces (spaces abound in logs), else its ends. */
static void
pick_bytes(const char *lit, size_t len, size_t *i1, size_t *i2)
{
	size_t a = 0, b = len - 1;

	while (a < b && lit[a] == ' ')
		a++;
	while (b > a && lit[b] == ' ')
		b--;
	if (a == b) {
		a = 0;
		b = len - 1;
	}
	*i1 = a;
	*i2 = b;
}

/*
 * The two scanning loops, written once for a vector width W with the
 * compilers' vector extension (portable to every target gcc and clang
 * know): SSE2-sized (16) everywhere, and AVX2-sized (32) on x86-64 when the
 * CPU has it.
 *
 * find: the first occurrence of lit (len >= 2, n >= len) in buf[0, n), or
 * NULL: memmem's answer.  Candidates are the places where two bytes of lit
 * (pick_bytes) both match, tested W at a time, then compared whole; several
 * times faster than glibc's memmem, whose per-byte work was the cost of a
 * prefiltered parse.
 *
 * count: the '\n' bytes of buf[0, len); per-lane counters are folded before
 * they can overflow.
 */
/* ATTR is a function attribute, which parentheses would break. */
/* NOLINTBEGIN(bugprone-macro-parentheses) */
#define PF_LOOPS(SFX, W, ATTR)							\
typedef uint8_t pf_b##SFX __attribute__((vector_size(W)));			\
typedef uint64_t pf_q##SFX __attribute__((vector_size(W)));			\
									\
ATTR static const char *							\
find##SFX(const char *lit, size_t len, size_t i1, size_t i2,		\
    const char *buf, size_t n)							\
{									\
	pf_b##SFX c1, c2, x1, x2, m;						\
	pf_q##SFX w;								\
	uint64_t any;								\
	size_t i, k;								\
									\
	memset(&c1, (unsigned char)lit[i1], sizeof c1);			\
	memset(&c2, (unsigned char)lit[i2], sizeof c2);			\
	/* i + W - 1 + len <= n: every lane's candidate fits in buf */	\
	for (i = 0; i + ((W) - 1) + len <= n; i += (W)) {				\
		memcpy(&x1, buf + i + i1, sizeof x1);				\
		memcpy(&x2, buf + i + i2, sizeof x2);				\
		m = (pf_b##SFX)(x1 == c1) & (pf_b##SFX)(x2 == c2);		\
		memcpy(&w, &m, sizeof w);					\
		for (any = 0, k = 0; k < (W) / 8; k++)				\
			any |= w[k];						\
		if (any == 0)							\
			continue;						\
		for (k = 0; k < (W); k++)						\
			if (m[k] && memcmp(buf + i + k, lit, len) == 0)	\
				return buf + i + k;				\
	}									\
	return memmem(buf + i, n - i, lit, len);				\
}									\
									\
ATTR static size_t								\
count##SFX(const char *buf, size_t len)					\
{									\
	pf_b##SFX nl, x, acc;							\
	size_t i = 0, total = 0, lim;						\
	int k;									\
									\
	memset(&nl, '\n', sizeof nl);						\
	while (len - i >= (W)) {							\
		memset(&acc, 0, sizeof acc);					\
		lim = len - i >= (size_t)(W) * 255 ? i + (size_t)(W) * 255 :	\
		    i + ((len - i) & ~(size_t)((W) - 1));				\
		for (; i < lim; i += (W)) {					\
			memcpy(&x, buf + i, sizeof x);				\
			acc -= (pf_b##SFX)(x == nl);				\
		}								\
		for (k = 0; k < (W); k++)						\
			total += acc[k];					\
	}									\
	for (; i < len; i++)							\
		total += buf[i] == '\n';					\
	return total;								\
}

/* NOLINTEND(bugprone-macro-parentheses) */

PF_LOOPS(16, 16, )
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define PF_AVX2 1
PF_LOOPS(32, 32, __attribute__((target("avx2"))))
#endif

/* Does the CPU run the 32-byte loops? */
static int
wide(void)
{
#ifdef PF_AVX2
	return __builtin_cpu_supports("avx2");
#else
	return 0;
#endif
}

static const char *
pf_find(const struct prefilter *pf, size_t j, const char *buf, size_t n)
{
	if (pf->len[j] < 2 || n < pf->len[j])
		return memmem(buf, n, pf->lit[j], pf->len[j]);
#ifdef PF_AVX2
	if (pf->wide)
		return find32(pf->lit[j], pf->len[j], pf->i1[j], pf->i2[j], buf, n);
#endif
	return find16(pf->lit[j], pf->len[j], pf->i1[j], pf->i2[j], buf, n);
}

/* pf_count_lines: see prefilter.h. */
size_t
pf_count_lines(const char *buf, size_t len)
{
#ifdef PF_AVX2
	if (wide())
		return count32(buf, len);
#endif
	return count16(buf, len);
}

static size_t
count_lines(const struct prefilter *pf, const char *buf, size_t len)
{
#ifdef PF_AVX2
	if (pf->wide)
		return count32(buf, len);
#endif
	(void)pf;
	return count16(buf, len);
}

/* Shared substrings shorter than this are not worth one scan for all. */
#define PF_SHARED_MIN 6

/*
 * The longest substring of every literal (one scan for all patterns instead
 * of one per pattern, e.g. "Download" of " INFO Downloaded " and " ERROR
 * Download failed for "), written to pf as its only literal; 0 if shorter
 * than PF_SHARED_MIN.  A substring of a required literal is required too.
 */
static int
shared_literal(struct prefilter *pf)
{
	size_t s = 0, i, k, at;
	char *lit;

	for (i = 1; i < pf->n; i++)
		if (pf->len[i] < pf->len[s])
			s = i;
	for (k = pf->len[s]; k >= PF_SHARED_MIN; k--)
		for (at = 0; at + k <= pf->len[s]; at++) {
			for (i = 0; i < pf->n; i++)
				if (memmem(pf->lit[i], pf->len[i], pf->lit[s] + at, k) == NULL)
					break;
			if (i < pf->n)
				continue;
			if ((lit = malloc(k)) == NULL)
				return DL_ENOMEM;
			memcpy(lit, pf->lit[s] + at, k);
			for (i = 0; i < pf->n; i++)
				free(pf->lit[i]);
			pf->lit[0] = lit;
			pf->len[0] = k;
			pf->n = 1;
			return DL_OK;
		}
	return DL_OK;
}

/* prefilter_new: see prefilter.h.  Equal literals are searched once. */
struct prefilter *
prefilter_new(const char *const *lits, const size_t *lens, size_t n, int *err)
{
	struct prefilter *pf;
	size_t i, j;

	*err = DL_OK;
	if (n == 0 || n > PF_MAX_LITS)
		return NULL;
	for (i = 0; i < n; i++)
		if (lens[i] < PF_LIT_MIN)
			return NULL;
	if ((pf = calloc(1, sizeof *pf)) == NULL)
		goto nomem;
	for (i = 0; i < n; i++) {
		for (j = 0; j < pf->n; j++)
			if (pf->len[j] == lens[i] && memcmp(pf->lit[j], lits[i], lens[i]) == 0)
				break;
		if (j < pf->n)
			continue;
		if ((pf->lit[pf->n] = malloc(lens[i])) == NULL)
			goto nomem;
		memcpy(pf->lit[pf->n], lits[i], lens[i]);
		pf->len[pf->n++] = lens[i];
	}
	if (pf->n > 1 && shared_literal(pf) != DL_OK)
		goto nomem;
	for (i = 0; i < pf->n; i++)
		pick_bytes(pf->lit[i], pf->len[i], &pf->i1[i], &pf->i2[i]);
	pf->wide = wide();
	return pf;
nomem:
	prefilter_free(pf);
	*err = DL_ENOMEM;
	return NULL;
}

/* prefilter_literal: see prefilter.h. */
size_t
prefilter_literal(const struct prefilter *pf, size_t k, const char **lit)
{
	*lit = "";
	if (pf == NULL || k >= pf->n)
		return 0;
	*lit = pf->lit[k];
	return pf->len[k];
}

/* prefilter_free: accepts NULL. */
void
prefilter_free(struct prefilter *pf)
{
	size_t i;

	if (pf == NULL)
		return;
	for (i = 0; i < pf->n; i++)
		free(pf->lit[i]);
	free(pf);
}

/* pf_start: see prefilter.h. */
void
pf_start(const struct prefilter *pf, struct pf_cursor *c, const char *buf, size_t len)
{
	size_t i;

	c->p = buf;
	c->end = buf + len;
	for (i = 0; pf != NULL && i < pf->n; i++)
		c->hit[i] = pf_find(pf, i, buf, len);
}

static void
give_line(struct pf_cursor *c, const char *from, const char **line, size_t *len)
{
	const char *nl = memchr(from, '\n', (size_t)(c->end - from));
	size_t n;

	if (nl == NULL)              /* not a block of complete lines: end it */
		nl = c->end;
	n = (size_t)(nl - c->p);
	if (n > 0 && c->p[n - 1] == '\r')
		n--;
	*line = c->p;
	*len = n;
	c->p = nl < c->end ? nl + 1 : nl;
}

/* pf_next: see prefilter.h. */
int
pf_next(const struct prefilter *pf, struct pf_cursor *c, const char **line,
    size_t *len, unsigned long *passed)
{
	const char *best = NULL, *ls;
	size_t i;

	*passed = 0;
	if (c->p >= c->end)
		return 0;
	if (pf == NULL) {
		give_line(c, c->p, line, len);
		*passed = 1;
		return 1;
	}
	for (i = 0; i < pf->n; i++) {
		if (c->hit[i] != NULL && c->hit[i] < c->p)
			c->hit[i] = pf_find(pf, i, c->p, (size_t)(c->end - c->p));
		if (c->hit[i] != NULL && (best == NULL || c->hit[i] < best))
			best = c->hit[i];
	}
	if (best == NULL) {
		*passed = (unsigned long)count_lines(pf, c->p, (size_t)(c->end - c->p));
		c->p = c->end;
		return 0;
	}
	ls = memrchr(c->p, '\n', (size_t)(best - c->p));
	ls = ls != NULL ? ls + 1 : c->p;
	*passed = (unsigned long)count_lines(pf, c->p, (size_t)(ls - c->p)) + 1;
	c->p = ls;
	give_line(c, best, line, len);
	return 1;
}
