/*
 * preview.c — --dry-run's record of attempts.  See preview.h.
 *
 * Timestamps are kept and compared as the text the store holds (dlt_format),
 * because the store's queries compare that text: two instants of a DST
 * overlap that print alike are one identity there, and so here.
 */
#include "preview.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

#define PV_OUTBUF (64 * 1024)

/* An attempt kept for the evaluation, owning copies of its texts. */
struct pv_row {
	struct attempt a;
	unsigned long long seq;    /* order of recording = order of ids */
	char ts[DLT_BUFSZ];
	char text[];               /* downloader, user, error */
};

/* One downloader's evaluable tail: its latest success and the failures
 * after it, by (timestamp text, seq) — what store_history_load reads. */
struct pv_dl {
	char *name;
	size_t len;
	struct pv_row *succ;
	size_t succ_cap;           /* bytes allocated for succ */
	struct pv_row **fail;
	size_t head, nfail, cap;   /* live entries: fail[head .. nfail) */
	/* A recovery push counts every failure since its streak began, even
	 * those a later success superseded: failures from floor on are kept. */
	char floor[DLT_BUFSZ];
	int has_floor;
	struct pv_row **extra;
	size_t nextra, cap_extra;
	/* Repeats (seen()): the identity hashes of its attempts so far, the
	 * last nlast of them at last_ts, the greatest timestamp text; or, once
	 * in_set, none: they are in the preview's set. */
	uint64_t *hist;
	size_t nhist, cap_hist, nlast;
	char last_ts[DLT_BUFSZ];
	int in_set;
};

struct preview {
	struct store *st;
	FILE *out;
	char upto[DLT_BUFSZ];      /* evaluable: timestamp text < upto (now + 1 s) */
	char cut[DLT_BUFSZ];       /* pruned: timestamp text < cut */
	char latest[DLT_BUFSZ];    /* the database's greatest timestamp text */
	int have_latest;
	struct dlt_memo memo;
	uint64_t *set;             /* identity hashes (0 = empty slot) */
	size_t set_cap, set_n;
	struct pv_dl *dls;
	size_t ndls, last_dl;
	unsigned long long seq;
	long long new_old;         /* recorded attempts older than cut */
	char buf[PV_OUTBUF];
	size_t buf_len;
	int out_err;
};

/* --- identity hashes -------------------------------------------------- */

#define H_MUL 0x9e3779b97f4a7c15ULL

static uint64_t
mix(uint64_t h)
{
	h ^= h >> 30;
	h *= 0xbf58476d1ce4e5b9ULL;
	h ^= h >> 27;
	h *= 0x94d049bb133111ebULL;
	h ^= h >> 31;
	return h;
}

/* A field: its length (or a NULL marker) then its bytes, 8 at a time, each
 * word folded in by one multiply (mix() runs once, at the end); the last
 * word of a field of 8 bytes or more is its last 8 bytes, overlapping. */
static uint64_t
hash_field(uint64_t h, const char *s, size_t n)
{
	uint64_t w;
	size_t i;

	h = (h ^ (s == NULL ? UINT64_MAX : (uint64_t)n)) * H_MUL;
	h ^= h >> 32;
	if (s == NULL || n == 0)
		return h;
	if (n < 8) {
		for (w = 0, i = 0; i < n; i++)
			w |= (uint64_t)(unsigned char)s[i] << (8 * i);
		h = (h ^ w) * H_MUL;
		return h ^ (h >> 32);
	}
	for (i = 0; i + 8 < n; i += 8) {
		memcpy(&w, s + i, 8);
		h = (h ^ w) * H_MUL;
		h ^= h >> 32;
	}
	memcpy(&w, s + n - 8, 8);
	h = (h ^ w) * H_MUL;
	return h ^ (h >> 32);
}

static uint64_t
identity(const struct attempt *a, const char *ts)
{
	uint64_t h = 0x6a09e667f3bcc908ULL ^ (uint64_t)(a->success != 0);

	h = hash_field(h, a->downloader, a->downloader_len);
	h = hash_field(h, a->user, a->user_len);
	h = hash_field(h, ts, strlen(ts));
	h = hash_field(h, a->error, a->error_len);
	h = mix(h);
	return h ? h : 1;
}

/*
 * The set of identity hashes, for the downloaders whose attempts came out
 * of time order (see pv_dl): open addressing, linear probing from a place
 * chosen by h, nothing ever removed.
 */
static size_t
set_find(const struct preview *pv, uint64_t h)
{
	size_t mask = pv->set_cap - 1, j = (size_t)(h >> 32) & mask;

	while (pv->set[j] != 0 && pv->set[j] != h)
		j = (j + 1) & mask;
	return j;
}

static int
set_grow(struct preview *pv, size_t want)
{
	uint64_t *old = pv->set;
	size_t ocap = pv->set_cap, cap = ocap ? ocap : 16384, i;

	while (want * 2 > cap)
		cap *= 2;
	if (cap == ocap)
		return DL_OK;
	if ((pv->set = calloc(cap, sizeof *pv->set)) == NULL) {
		pv->set = old;
		return DL_ENOMEM;
	}
	pv->set_cap = cap;
	for (i = 0; i < ocap; i++)
		if (old[i] != 0)
			pv->set[set_find(pv, old[i])] = old[i];
	free(old);
	return DL_OK;
}

/* Adds h; *was = 1 when it was there already. */
static int
set_add(struct preview *pv, uint64_t h, int *was)
{
	size_t j;
	int err;

	*was = 0;
	if ((err = set_grow(pv, pv->set_n + 1)) != DL_OK)
		return err;
	j = set_find(pv, h);
	if (pv->set[j] == h) {
		*was = 1;
		return DL_OK;
	}
	pv->set[j] = h;
	pv->set_n++;
	return DL_OK;
}

/* Attempts of one downloader at one time compared one by one, at most. */
#define PV_SAME_MAX 64

/*
 * Was the identity h (timestamp text ts) of downloader d seen before in
 * this run?  Records it if not.  While d's attempts come in time order
 * (logs mostly do), an attempt later than every earlier one of d cannot
 * equal any of them, and one at the same time can only equal those at that
 * time, the last of d's history: no set, no random access into memory that
 * grows with the run.  The first attempt earlier than that turns d over to
 * the set, with its history.
 */
static int
seen(struct preview *pv, struct pv_dl *d, const char *ts, uint64_t h, int *was)
{
	uint64_t *nh;
	size_t i, ncap;
	int c, dup, err;

	*was = 0;
	if (d->in_set)
		return set_add(pv, h, was);
	c = d->nhist == 0 ? 1 : strcmp(ts, d->last_ts);
	if (c == 0 && d->nlast >= PV_SAME_MAX) {
		c = -1;            /* e.g. a log without timestamps: all at one */
	} else if (c == 0) {
		for (i = d->nhist - d->nlast; i < d->nhist; i++)
			if (d->hist[i] == h) {
				*was = 1;
				return DL_OK;
			}
	}
	if (c < 0) {
		if ((err = set_grow(pv, pv->set_n + d->nhist + 1)) != DL_OK)
			return err;
		for (i = 0; i < d->nhist; i++)
			if ((err = set_add(pv, d->hist[i], &dup)) != DL_OK)
				return err;
		free(d->hist);
		d->hist = NULL;
		d->nhist = d->cap_hist = 0;
		d->in_set = 1;
		return set_add(pv, h, was);
	}
	if (d->nhist == d->cap_hist) {
		ncap = d->cap_hist ? d->cap_hist * 2 : 256;
		if ((nh = realloc(d->hist, ncap * sizeof *nh)) == NULL)
			return DL_ENOMEM;
		d->hist = nh;
		d->cap_hist = ncap;
	}
	d->hist[d->nhist++] = h;
	if (c > 0) {
		memcpy(d->last_ts, ts, DLT_BUFSZ);
		d->nlast = 1;
	} else {
		d->nlast++;
	}
	return DL_OK;
}

/* --- output ----------------------------------------------------------- */

static void
out_flush(struct preview *pv)
{
	if (pv->buf_len > 0 && fwrite(pv->buf, 1, pv->buf_len, pv->out) != pv->buf_len)
		pv->out_err = 1;
	pv->buf_len = 0;
}

/* Does s[0, n) hold a tab, a line end or a NUL?  Eight bytes at a time:
 * a word with no byte below 14 has none (any byte below 14 sends the word
 * to the byte loop); output is mostly clean text. */
#define PV_ONES UINT64_C(0x0101010101010101)

static int
has_ctl(const char *s, size_t n)
{
	uint64_t w;
	size_t i = 0, k;

	for (; i < n; i += 8) {
		if (n - i >= 8) {
			memcpy(&w, s + i, 8);
			if (((w - PV_ONES * 14) & ~w & PV_ONES * 0x80) == 0)
				continue;
		}
		for (k = i; k < n && k < i + 8; k++)
			if (s[k] == '\t' || s[k] == '\n' || s[k] == '\r' || s[k] == '\0')
				return 1;
	}
	return 0;
}

/* Copies a field to d with tabs, line ends and NULs as spaces (they would
 * break the one-line, tab-separated format); returns the end. */
static char *
put_field(char *d, const char *s, size_t n)
{
	size_t i;

	if (n == 0)
		return d;
	memcpy(d, s, n);
	if (has_ctl(s, n))
		for (i = 0; i < n; i++)
			if (d[i] == '\t' || d[i] == '\n' || d[i] == '\r' || d[i] == '\0')
				d[i] = ' ';
	return d + n;
}

/* Appends n bytes, cleaned as put_field does with clean. */
static void
out_put(struct preview *pv, const char *s, size_t n, int clean)
{
	size_t k;

	while (n > 0) {
		if (pv->buf_len == PV_OUTBUF)
			out_flush(pv);
		k = PV_OUTBUF - pv->buf_len;
		if (k > n)
			k = n;
		if (clean)
			put_field(pv->buf + pv->buf_len, s, k);
		else
			memcpy(pv->buf + pv->buf_len, s, k);
		pv->buf_len += k;
		s += k;
		n -= k;
	}
}

/* Decimal digits of v at the end of buf[0, 24): the first one. */
static char *
fmt_ll(char *end, long long v)
{
	unsigned long long u = v < 0 ? 0ULL - (unsigned long long)v : (unsigned long long)v;

	do
		*--end = (char)('0' + u % 10);
	while ((u /= 10) != 0);
	if (v < 0)
		*--end = '-';
	return end;
}

/* downloader, username, timestamp, success, file_count, error (formatted
 * by hand, straight into the buffer when the line fits: printf's machinery
 * cost more than the rest of a line's output) */
static void
show_attempt(struct preview *pv, const struct attempt *a, const char *ts)
{
	size_t ul = a->user ? a->user_len : 0, el = a->error ? a->error_len : 0;
	size_t tl = strlen(ts), need = a->downloader_len + ul + tl + el + 32;
	char num[24], *d, *n;

	n = fmt_ll(num + sizeof num, a->file_count);
	if (need > PV_OUTBUF - pv->buf_len)
		out_flush(pv);
	if (need > PV_OUTBUF) {    /* a long line: piece by piece */
		out_put(pv, a->downloader, a->downloader_len, 1);
		out_put(pv, "\t", 1, 0);
		out_put(pv, a->user, ul, 1);
		out_put(pv, "\t", 1, 0);
		out_put(pv, ts, tl, 0);
		out_put(pv, a->success ? "\t1\t" : "\t0\t", 3, 0);
		out_put(pv, n, (size_t)(num + sizeof num - n), 0);
		out_put(pv, "\t", 1, 0);
		out_put(pv, a->error, el, 1);
		out_put(pv, "\n", 1, 0);
		return;
	}
	d = pv->buf + pv->buf_len;
	d = put_field(d, a->downloader, a->downloader_len);
	*d++ = '\t';
	d = put_field(d, a->user, ul);
	*d++ = '\t';
	memcpy(d, ts, tl);
	d += tl;
	memcpy(d, a->success ? "\t1\t" : "\t0\t", 3);
	d += 3;
	memcpy(d, n, (size_t)(num + sizeof num - n));
	d += num + sizeof num - n;
	*d++ = '\t';
	d = put_field(d, a->error, el);
	*d++ = '\n';
	pv->buf_len = (size_t)(d - pv->buf);
}

/* --- the evaluable tails ---------------------------------------------- */

static struct pv_dl *
dl_get(struct preview *pv, const char *name, size_t len)
{
	struct pv_dl *d, *nd;
	size_t i;

	if (pv->ndls > 0) {
		d = &pv->dls[pv->last_dl];
		if (d->len == len && memcmp(d->name, name, len) == 0)
			return d;
	}
	for (i = 0; i < pv->ndls; i++) {
		d = &pv->dls[i];
		if (d->len == len && memcmp(d->name, name, len) == 0) {
			pv->last_dl = i;
			return d;
		}
	}
	nd = realloc(pv->dls, (pv->ndls + 1) * sizeof *nd);
	if (nd == NULL)
		return NULL;
	pv->dls = nd;
	d = &pv->dls[pv->ndls];
	memset(d, 0, sizeof *d);
	if ((d->name = malloc(len ? len : 1)) == NULL)
		return NULL;
	memcpy(d->name, name, len);
	d->len = len;
	pv->last_dl = pv->ndls++;
	return d;
}

static size_t
row_size(const struct attempt *a)
{
	return sizeof(struct pv_row) + a->downloader_len + (a->user ? a->user_len : 0) +
	    (a->error ? a->error_len : 0) + 1;
}

/* Copies a into r (of row_size(a) bytes at least). */
static void
row_fill(struct pv_row *r, const struct attempt *a, const char *ts, unsigned long long seq)
{
	char *p = r->text;

	r->a = *a;
	r->seq = seq;
	memcpy(r->ts, ts, DLT_BUFSZ);
	memcpy(p, a->downloader, a->downloader_len);
	r->a.downloader = p;
	p += a->downloader_len;
	if (a->user) {
		memcpy(p, a->user, a->user_len);
		r->a.user = p;
		p += a->user_len;
	}
	if (a->error) {
		memcpy(p, a->error, a->error_len);
		r->a.error = p;
	}
}

/* A failure no longer in the streak: kept for a recovery's count (see
 * has_floor), else dropped. */
static int
superseded(struct pv_dl *d, struct pv_row *r)
{
	struct pv_row **nx;
	size_t ncap;

	if (!d->has_floor || strcmp(r->ts, d->floor) < 0) {
		free(r);
		return DL_OK;
	}
	if (d->nextra == d->cap_extra) {
		ncap = d->cap_extra ? d->cap_extra * 2 : 16;
		if ((nx = realloc(d->extra, ncap * sizeof(struct pv_row *))) == NULL) {
			free(r);
			return DL_ENOMEM;
		}
		d->extra = nx;
		d->cap_extra = ncap;
	}
	d->extra[d->nextra++] = r;
	return DL_OK;
}

/* A success at or after the kept one replaces it (in place when it fits:
 * most attempts are successes), and with it every kept failure at or
 * before its time (those were recorded earlier). */
static int
tail_success(struct pv_dl *d, const struct attempt *a, const char *ts, unsigned long long seq)
{
	size_t need = row_size(a);
	struct pv_row *r;
	int err;

	if (d->succ != NULL && strcmp(ts, d->succ->ts) < 0)
		return DL_OK;
	if (d->succ == NULL || need > d->succ_cap) {
		if ((r = malloc(need)) == NULL)
			return DL_ENOMEM;
		free(d->succ);
		d->succ = r;
		d->succ_cap = need;
	}
	row_fill(d->succ, a, ts, seq);
	while (d->head < d->nfail && strcmp(d->fail[d->head]->ts, ts) <= 0)
		if ((err = superseded(d, d->fail[d->head++])) != DL_OK)
			return err;
	return DL_OK;
}

/* A failure after the kept success joins the streak, in (ts, seq) order. */
static int
tail_failure(struct pv_dl *d, const struct attempt *a, const char *ts, unsigned long long seq)
{
	struct pv_row **nf, *r;
	size_t i, ncap;

	if (d->succ != NULL && strcmp(ts, d->succ->ts) < 0) {
		if (!d->has_floor || strcmp(ts, d->floor) < 0)
			return DL_OK;
		if ((r = malloc(row_size(a))) == NULL)
			return DL_ENOMEM;
		row_fill(r, a, ts, seq);
		return superseded(d, r);
	}
	if (d->head > 0 && d->head * 2 >= d->nfail) {
		memmove(d->fail, d->fail + d->head, (d->nfail - d->head) * sizeof(struct pv_row *));
		d->nfail -= d->head;
		d->head = 0;
	}
	if (d->nfail == d->cap) {
		ncap = d->cap ? d->cap * 2 : 64;
		if ((nf = realloc(d->fail, ncap * sizeof(struct pv_row *))) == NULL)
			return DL_ENOMEM;
		d->fail = nf;
		d->cap = ncap;
	}
	if ((r = malloc(row_size(a))) == NULL)
		return DL_ENOMEM;
	row_fill(r, a, ts, seq);
	/* Logs are mostly in order: search from the end. */
	for (i = d->nfail; i > d->head && strcmp(d->fail[i - 1]->ts, ts) > 0; i--)
		;
	memmove(d->fail + i + 1, d->fail + i, (d->nfail - i) * sizeof(struct pv_row *));
	d->fail[i] = r;
	d->nfail++;
	return DL_OK;
}

/* Keeps a (recorded as seq, of downloader d) if the evaluation may read it. */
static int
tail_add(struct preview *pv, struct pv_dl *d, const struct attempt *a, const char *ts)
{
	if (strcmp(ts, pv->upto) >= 0)
		return DL_OK;      /* later than now: never evaluated */
	return a->success ? tail_success(d, a, ts, pv->seq) : tail_failure(d, a, ts, pv->seq);
}

/* --- the API ---------------------------------------------------------- */

/* preview_new: see preview.h. */
struct preview *
preview_new(struct store *st, FILE *out, time_t now, time_t cutoff, int recovery,
    int *err)
{
	struct preview *pv = calloc(1, sizeof *pv);
	struct pv_dl *d;
	char **fl = NULL;
	size_t nfl = 0, i;

	*err = DL_ENOMEM;
	if (pv == NULL) {
		msg_err("out of memory");
		return NULL;
	}
	pv->st = st;
	pv->out = out;
	dlt_format(now + 1, pv->upto);
	dlt_format(cutoff, pv->cut);
	if ((*err = store_attempt_latest(st, pv->latest, &pv->have_latest)) != DL_OK ||
	    (recovery && (*err = store_recovery_floors(st, &fl, &nfl)) != DL_OK))
		goto fail;
	for (i = 0; i < nfl; i++) {
		if ((d = dl_get(pv, fl[2 * i], strlen(fl[2 * i]))) == NULL) {
			msg_err("out of memory");
			*err = DL_ENOMEM;
			goto fail;
		}
		snprintf(d->floor, sizeof d->floor, "%s", fl[2 * i + 1]);
		d->has_floor = 1;
	}
	store_keys_free(fl, 2 * nfl);
	return pv;
fail:
	store_keys_free(fl, 2 * nfl);
	preview_free(pv);
	return NULL;
}

/* preview_free: accepts NULL; drops what was not finished. */
void
preview_free(struct preview *pv)
{
	size_t i, j;

	if (pv == NULL)
		return;
	for (i = 0; i < pv->ndls; i++) {
		for (j = pv->dls[i].head; j < pv->dls[i].nfail; j++)
			free(pv->dls[i].fail[j]);
		free(pv->dls[i].fail);
		for (j = 0; j < pv->dls[i].nextra; j++)
			free(pv->dls[i].extra[j]);
		free(pv->dls[i].extra);
		free(pv->dls[i].succ);
		free(pv->dls[i].name);
		free(pv->dls[i].hist);
	}
	free(pv->dls);
	free(pv->set);
	free(pv);
}

/* preview_add: see preview.h. */
int
preview_add(struct preview *pv, const struct attempt *a, int *added)
{
	char ts[DLT_BUFSZ];
	struct pv_dl *d;
	int was, err;

	*added = 0;
	dlt_format_memo(&pv->memo, a->ts, ts);
	if ((d = dl_get(pv, a->downloader, a->downloader_len)) == NULL ||
	    seen(pv, d, ts, identity(a, ts), &was) != DL_OK) {
		msg_err("out of memory");
		return DL_ENOMEM;
	}
	if (was)
		return DL_OK;
	/* Only the database's latest attempts can equal a new one's time. */
	if (pv->have_latest && strcmp(ts, pv->latest) <= 0) {
		if ((err = store_attempt_known(pv->st, a, ts, &was)) != DL_OK)
			return err;
		if (was)
			return DL_OK;
	}
	*added = 1;
	pv->seq++;
	if (strcmp(ts, pv->cut) < 0)
		pv->new_old++;
	show_attempt(pv, a, ts);
	if ((err = tail_add(pv, d, a, ts)) != DL_OK)
		msg_err("out of memory");
	return err;
}

static int
by_seq(const void *x, const void *y)
{
	const struct pv_row *a = *(const struct pv_row *const *)x;
	const struct pv_row *b = *(const struct pv_row *const *)y;

	return a->seq < b->seq ? -1 : a->seq > b->seq;
}

/* preview_finish: see preview.h. */
int
preview_finish(struct preview *pv, long long *unstored_pruned)
{
	struct pv_row **rows = NULL;
	size_t n = 0, i, j;
	long long kept_old = 0;
	int err = DL_OK, added, in_tx = 0;

	*unstored_pruned = 0;
	out_flush(pv);
	if (fflush(pv->out) != 0 || pv->out_err || ferror(pv->out)) {
		msg_err("standard output: %s", strerror(errno ? errno : EIO));
		return DL_EFAIL;
	}
	for (i = 0; i < pv->ndls; i++)
		n += (pv->dls[i].succ != NULL) + pv->dls[i].nfail - pv->dls[i].head +
		    pv->dls[i].nextra;
	if (n == 0)
		goto done;
	if ((rows = malloc(n * sizeof(struct pv_row *))) == NULL) {
		msg_err("out of memory");
		err = DL_ENOMEM;
		goto out;
	}
	for (i = 0, n = 0; i < pv->ndls; i++) {
		if (pv->dls[i].succ)
			rows[n++] = pv->dls[i].succ;
		for (j = pv->dls[i].head; j < pv->dls[i].nfail; j++)
			rows[n++] = pv->dls[i].fail[j];
		for (j = 0; j < pv->dls[i].nextra; j++)
			rows[n++] = pv->dls[i].extra[j];
	}
	qsort(rows, n, sizeof(struct pv_row *), by_seq);
	if ((err = store_begin(pv->st)) != DL_OK)
		goto out;
	in_tx = 1;
	for (i = 0; i < n; i++) {
		if ((err = store_attempt_add(pv->st, &rows[i]->a, &added)) != DL_OK)
			goto out;
		if (strcmp(rows[i]->ts, pv->cut) < 0)
			kept_old++;
	}
	if ((err = store_commit(pv->st)) != DL_OK)
		goto out;
	in_tx = 0;
done:
	*unstored_pruned = pv->new_old - kept_old;
out:
	if (in_tx)
		store_rollback(pv->st);
	free(rows);
	return err;
}
