/*
 * prefilter.c — required-literal prefilter over blocks of lines.  See
 * prefilter.h.
 */
#include "prefilter.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

/* The scan's implementations (see scan()). */
enum pf_kind { PF_K_C, PF_K_SSE2, PF_K_AVX2 };

struct prefilter {
	size_t n;
	char *lit[PF_MAX_LITS];
	size_t len[PF_MAX_LITS];
	size_t i1[PF_MAX_LITS], i2[PF_MAX_LITS]; /* pick_bytes */
	size_t reach;              /* the longest literal */
	enum pf_kind kind;
	/* The literals as given, one per pattern (pf_which): in[i] holds a
	 * searched literal at off[i]. */
	size_t nin;
	char *in[PF_MAX_LITS];
	size_t in_len[PF_MAX_LITS], off[PF_MAX_LITS];
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
 * The scan: one pass over the bytes that finds the first place where one of
 * the literals starts and counts the '\n' before it, so that a block is read
 * once, not once for the literals and again for the lines.  Candidates are
 * the places where two bytes of a literal (pick_bytes) both match, W places
 * at a time as bit masks; each is then compared whole.
 *
 * Written once (PF_SCAN) over two primitives: SET(c), the byte c in every
 * lane, and MASK(p, v): bit k set when p[k] is v's byte, for k < W.  Three
 * widths: 32 (AVX2, on x86-64 CPUs that have it), 16 (SSE2, every x86-64)
 * and 16 in plain C (everywhere else).
 */

/* memcmp(a, b, n) == 0 for the short texts compared here, inline: most
 * differ in their first 8 bytes. */
static int
same(const char *a, const char *b, size_t n)
{
	uint64_t x, y;

	for (; n >= 8; a += 8, b += 8, n -= 8) {
		memcpy(&x, a, 8);
		memcpy(&y, b, 8);
		if (x != y)
			return 0;
	}
	for (; n > 0; a++, b++, n--)
		if (*a != *b)
			return 0;
	return 1;
}

/*
 * The first literal of pf starting at p (p < end), or -1.  A call to
 * memcmp, not same(): inlined into the scan loops, same() cost them their
 * registers (the dry run of the bench log took 30% longer).
 */
static int
lit_at(const struct prefilter *pf, const char *p, const char *end)
{
	size_t j;

	for (j = 0; j < pf->n; j++)
		if (pf->len[j] <= (size_t)(end - p) && p[0] == pf->lit[j][0] &&
		    memcmp(p, pf->lit[j], pf->len[j]) == 0)
			return (int)j;
	return -1;
}

/* NOLINTBEGIN(bugprone-macro-parentheses) */
/*
 * The chunks at p while none holds a candidate (SET_MC sets mc): their
 * '\n' counted, the masks of the first one that does left in mn and mc;
 * to tail when too little is left.  No call inside, so that all stays in
 * registers.
 */
#define PF_SKIP(W, MN, SET_MC)						\
	for (;;) {							\
		mn = MN;						\
		SET_MC;							\
		if (mc != 0)						\
			break;						\
		count += (size_t)__builtin_popcount(mn);		\
		p += (W);						\
		if ((size_t)(end - p) < room)				\
			goto tail;					\
	}

/*
 * scan: the first place in [p, end) where a literal of pf starts, or NULL;
 * *nl = the '\n' in [p, that place) (or [p, end)).  With no literals
 * (pf->n == 0) it only counts.
 * pf->reach, the longest literal (at least 1), keeps every load in [p, end).
 */
#define PF_SCAN(SFX, W, ATTR, VT, SET, MASK)				\
ATTR static const char *							\
scan##SFX(const struct prefilter *pf, const char *p, const char *end,	\
    size_t *nl)								\
{									\
	size_t count = 0, j, room = (W) - 1 + pf->reach;		\
	size_t i1 = pf->i1[0], i2 = pf->i2[0];				\
	uint32_t mn, mc;						\
	VT vn = SET('\n'), v1[PF_MAX_LITS], v2[PF_MAX_LITS], c1, c2;	\
	int k;								\
									\
	for (j = 0; j < pf->n; j++) {					\
		v1[j] = SET(pf->lit[j][pf->i1[j]]);			\
		v2[j] = SET(pf->lit[j][pf->i2[j]]);			\
	}								\
	c1 = c2 = vn;		/* unused without literals */	\
	if (pf->n > 0) {						\
		c1 = v1[0];						\
		c2 = v2[0];						\
	}								\
	if ((size_t)(end - p) < room)					\
		goto tail;						\
	for (;;) {							\
		if (pf->n == 1) {	/* the usual case */		\
			PF_SKIP(W, MASK(p, vn),				\
			    mc = MASK(p + i1, c1) & MASK(p + i2, c2))	\
		} else {						\
			PF_SKIP(W, MASK(p, vn),				\
			    for (mc = 0, j = 0; j < pf->n; j++)		\
				mc |= MASK(p + pf->i1[j], v1[j]) &	\
				    MASK(p + pf->i2[j], v2[j]))		\
		}							\
		for (; mc != 0; mc &= mc - 1) {				\
			k = __builtin_ctz(mc);				\
			if (lit_at(pf, p + k, end) >= 0) {		\
				mn &= ((uint32_t)1 << k) - 1;		\
				*nl = count + (size_t)__builtin_popcount(mn); \
				return p + k;				\
			}						\
		}							\
		count += (size_t)__builtin_popcount(mn);		\
		p += (W);						\
		if ((size_t)(end - p) < room)				\
			goto tail;					\
	}								\
tail:									\
	for (; p < end; p++) {						\
		if (pf->n > 0 && lit_at(pf, p, end) >= 0)		\
			break;						\
		count += *p == '\n';					\
	}								\
	*nl = count;							\
	return p < end ? p : NULL;					\
}
/* NOLINTEND(bugprone-macro-parentheses) */

static inline char
set_c(char c)
{
	return c;
}

static inline uint32_t
mask_c(const char *p, char c)
{
	uint32_t m = 0;
	int k;

	for (k = 0; k < 16; k++)
		m |= (uint32_t)(p[k] == c) << k;
	return m;
}
PF_SCAN(_c, 16, , char, set_c, mask_c)

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>
#define PF_X86 1

static inline __m128i
set_sse2(char c)
{
	return _mm_set1_epi8(c);
}

static inline uint32_t
mask_sse2(const char *p, __m128i v)
{
	__m128i x = _mm_loadu_si128((const __m128i *)(const void *)p);

	return (uint32_t)_mm_movemask_epi8(_mm_cmpeq_epi8(x, v));
}
PF_SCAN(_sse2, 16, , __m128i, set_sse2, mask_sse2)

#define PF_AVX2_ATTR __attribute__((target("avx2,popcnt,lzcnt,bmi")))

PF_AVX2_ATTR static inline __m256i
set_avx2(char c)
{
	return _mm256_set1_epi8(c);
}

PF_AVX2_ATTR static inline uint32_t
mask_avx2(const char *p, __m256i v)
{
	__m256i x = _mm256_loadu_si256((const __m256i *)(const void *)p);

	return (uint32_t)_mm256_movemask_epi8(_mm256_cmpeq_epi8(x, v));
}
PF_SCAN(_avx2, 32, PF_AVX2_ATTR, __m256i, set_avx2, mask_avx2)
#endif

/* The widest scan this CPU runs. */
static enum pf_kind
best_kind(void)
{
#ifdef PF_X86
	if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("popcnt") &&
	    __builtin_cpu_supports("bmi"))
		return PF_K_AVX2;
	return PF_K_SSE2;
#else
	return PF_K_C;
#endif
}

static const char *
scan(const struct prefilter *pf, const char *p, const char *end, size_t *nl)
{
	switch (pf->kind) {
#ifdef PF_X86
	case PF_K_AVX2:
		return scan_avx2(pf, p, end, nl);
	case PF_K_SSE2:
		return scan_sse2(pf, p, end, nl);
#endif
	default:
		return scan_c(pf, p, end, nl);
	}
}

/* pf_count_lines: see prefilter.h. */
size_t
pf_count_lines(const char *buf, size_t len)
{
	struct prefilter none;
	size_t nl;

	memset(&none, 0, sizeof none);
	none.reach = 1;            /* the loads of '\n' masks stay in buf */
	none.kind = best_kind();
	(void)scan(&none, buf, buf + len, &nl);
	return nl;
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
	for (i = 0; i < n; i++) {
		if ((pf->in[i] = malloc(lens[i])) == NULL)
			goto nomem;
		memcpy(pf->in[i], lits[i], lens[i]);
		pf->in_len[i] = lens[i];
		pf->nin++;
		/* each holds one searched literal: itself, or the shared one */
		for (j = 0; j < pf->n; j++) {
			const char *at = memmem(lits[i], lens[i], pf->lit[j], pf->len[j]);

			if (at != NULL) {
				pf->off[i] = (size_t)(at - lits[i]);
				break;
			}
		}
	}
	for (i = 0; i < pf->n; i++) {
		pick_bytes(pf->lit[i], pf->len[i], &pf->i1[i], &pf->i2[i]);
		if (pf->len[i] > pf->reach)
			pf->reach = pf->len[i];
	}
	pf->kind = best_kind();
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
	for (i = 0; i < pf->nin; i++)
		free(pf->in[i]);
	free(pf);
}

/*
 * got plus the given literals (pf->in) that line[0, len) holds around the
 * searched literal starting at line[at]: every occurrence of in[i] holds
 * one of a searched literal at off[i] in it, so trying each occurrence of
 * the searched literals finds them all.
 */
static inline unsigned
given_at(const struct prefilter *pf, const char *line, size_t len, size_t at,
    unsigned got)
{
	size_t i;

	for (i = 0; i < pf->nin; i++)
		if (!(got >> i & 1) && at >= pf->off[i] &&
		    at - pf->off[i] + pf->in_len[i] <= len &&
		    same(line + at - pf->off[i], pf->in[i], pf->in_len[i]))
			got |= 1U << i;
	return got;
}

/* pf_which: see prefilter.h. */
unsigned
pf_which(const struct prefilter *pf, const char *line, size_t len)
{
	const char *q, *o;
	unsigned all = (1U << pf->nin) - 1, got = 0;
	size_t nl;

	for (q = line; got != all && (o = scan(pf, q, line + len, &nl)) != NULL; q = o + 1)
		got = given_at(pf, line, len, (size_t)(o - line), got);
	return got;
}

/* pf_may: see prefilter.h. */
unsigned
pf_may(const struct prefilter *pf, const struct pf_cursor *c, const char *line,
    size_t len)
{
	unsigned all, got = 0;
	size_t k;

	if (pf == NULL)
		return ~0U;
	if (!c->occ_all)
		return pf_which(pf, line, len);
	all = (1U << pf->nin) - 1;
	for (k = 0; k < c->nocc && got != all; k++)
		if (c->occ[k] >= line)
			got = given_at(pf, line, len, (size_t)(c->occ[k] - line), got);
	return got;
}

/* pf_start: see prefilter.h. */
void
pf_start(const struct prefilter *pf, struct pf_cursor *c, const char *buf, size_t len)
{
	(void)pf;
	memset(c, 0, sizeof *c);
	c->p = buf;
	c->end = buf + len;
}

/* The line of c from c->p on that holds from; c->p moves past it. */
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

/*
 * The literals after hit in its line, into c->occ; the search goes on to
 * the next line holding one, which the next pf_next then starts from.
 */
static void
more_in_line(const struct prefilter *pf, struct pf_cursor *c, const char *hit)
{
	const char *nx;
	size_t nl;

	c->occ[0] = hit;
	c->nocc = 1;
	c->occ_all = 0;
	c->have_next = 0;
	for (;;) {
		nx = scan(pf, hit + 1, c->end, &nl);
		if (nx != NULL && nl == 0) {      /* another in the same line */
			if (c->nocc == PF_OCC_MAX)
				return;
			c->occ[c->nocc++] = hit = nx;
			continue;
		}
		c->occ_all = 1;
		if (nl == 0)                      /* the line ends the block */
			return;
		c->have_next = 1;
		c->next = nx;
		c->next_nl = nl - 1;              /* less the line's own '\n' */
		return;
	}
}

/* pf_next: see prefilter.h. */
int
pf_next(const struct prefilter *pf, struct pf_cursor *c, const char **line,
    size_t *len, unsigned long *passed)
{
	const char *hit, *ls;
	size_t nl;

	*passed = 0;
	if (c->p >= c->end)
		return 0;
	if (pf == NULL) {
		give_line(c, c->p, line, len);
		*passed = 1;
		return 1;
	}
	if (c->have_next) {
		hit = c->next;
		nl = c->next_nl;
		c->have_next = 0;
	} else {
		hit = scan(pf, c->p, c->end, &nl);
	}
	if (hit == NULL) {
		*passed = (unsigned long)nl;
		c->p = c->end;
		return 0;
	}
	*passed = (unsigned long)nl + 1;
	if (nl > 0) {              /* the line starts after the last of them */
		ls = memrchr(c->p, '\n', (size_t)(hit - c->p));
		c->p = ls + 1;
	}
	give_line(c, hit, line, len);
	more_in_line(pf, c, hit);
	return 1;
}
