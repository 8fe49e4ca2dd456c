/*
 * ingest.c — sources → parser → store.  See ingest.h.
 *
 * Crash safety rests on one rule: the rows derived from a stretch of a file
 * and the position just after that stretch are committed in the same
 * transaction.  Big reads are cut into batches, each ending on a line
 * boundary with its own position, so a first run over months of logs does not
 * hold one huge transaction and a kill loses at most the batch in flight
 * (which the next run reads again).
 */
#include "ingest.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "opens.h"
#include "parse.h"
#include "prefilter.h"
#include "preview.h"
#include "source.h"
#include "util.h"

/* Commit after this many new lines or attempts, whichever comes first. */
#define BATCH_LINES 200000
#define BATCH_ATTEMPTS 20000

struct ingest {
	const struct conf *c;
	struct parser **parsers;   /* one per source, same order */
	/* the current run: */
	struct store *st;
	struct preview *pv;        /* --dry-run: records go there */
	struct ingest_stats *stats;
	time_t now;
	struct opens *opens;       /* open attempts of the file being read */
	struct opens_db *od;
};

static int
lookup_pos(void *ctx, const char *key, struct src_pos *pos)
{
	struct ingest *in = ctx;
	return store_pos_get(in->st, key, pos);
}

/* Save where r stands (with the parser's state and the file's open
 * attempts) under item's key. */
static int
save_position(struct ingest *in, const struct conf_source *cs, const struct src_item *item,
    struct src_reader *r, const struct parse_state *ps, uint64_t lineno)
{
	struct src_pos pos;
	int err;

	if ((err = opens_db_save(in->od, item->key, in->opens)) != DL_OK)
		return err;
	src_position(r, &pos);
	pos.cur_time = ps->cur_time;
	pos.lineno = lineno;
	return store_pos_put(in->st, cs->name, item->key, &pos);
}

/* Records one derived attempt (also an opens_fail_fn for open attempts
 * that became failures). */
static int
record_attempt(void *ctx, const struct attempt *a)
{
	struct ingest *in = ctx;
	int added, err;

	in->stats->attempts++;
	err = in->pv ? preview_add(in->pv, a, &added) : store_attempt_add(in->st, a, &added);
	if (err != DL_OK)
		return err;
	if (!added)
		in->stats->known++;
	return DL_OK;
}

/*
 * One parsed line against the file's open attempts: those older than the
 * line's time by the limit fail first (a result 2 h late does not close
 * them), then a start opens one, or a result closes one (and takes its user
 * when it has none) before being recorded.
 */
static int
handle_line(struct ingest *in, const struct parse_state *ps, enum parse_result pr,
    enum parse_kind kind, struct attempt *a)
{
	const struct open_attempt *m;
	int err;

	if (ps->cur_time != 0 &&
	    (err = opens_expire(in->opens, ps->cur_time, record_attempt, in)) != DL_OK)
		return err;
	if (pr == PARSE_NONE && kind == PK_START && a->downloader != NULL)
		return opens_start(in->opens, a, record_attempt, in);
	if (pr != PARSE_ATTEMPT)
		return DL_OK;
	m = opens_match(in->opens, a);
	if (m != NULL && a->user == NULL) {
		a->user = m->user;
		a->user_len = m->user_len;
	}
	if ((err = record_attempt(in, a)) != DL_OK)
		return err;
	opens_close(in->opens, m);
	return DL_OK;
}

/* Where the reading of one plan item stands. */
struct item_run {
	const struct src_item *item;
	struct parser *p;
	struct parse_state ps;
	uint64_t lineno;
	unsigned long batch_lines, batch_attempts;
};

/* One line given to the parser (the prefilter passed it, or there is none),
 * trying the patterns of may (pf_may). */
static int
one_line(struct ingest *in, struct item_run *ir, const char *line, size_t len,
    unsigned may, int truncated)
{
	enum parse_result pr;
	enum parse_kind kind;
	struct attempt a;

	if (truncated) {
		msg_warn("%s:%" PRIu64 ": line longer than %d bytes; not matched",
		    ir->item->path, ir->lineno, PARSE_MAX_LINE);
		return DL_OK;
	}
	pr = parse_candidate(ir->p, &ir->ps, line, len, may, ir->item->path,
	    (unsigned long)ir->lineno, &a, &kind);
	if (pr == PARSE_SKIPPED) {
		in->stats->skipped++;
		return DL_OK;
	}
	if (pr == PARSE_ATTEMPT)
		ir->batch_attempts++;
	return handle_line(in, &ir->ps, pr, kind, &a);
}

static void
count_lines(struct ingest *in, struct item_run *ir, unsigned long n)
{
	ir->lineno += n;
	ir->batch_lines += n;
	in->stats->lines += n;
}

/*
 * The lines of one block (src_next_block) or, when the reader says so, of
 * one possibly over-long line.  The prefilter walks a block without
 * returning the lines no pattern can match; they are only counted.
 * Returns the reader's 1 / 0 / DL_EFAIL; *err is a store failure.
 */
static int
next_lines(struct ingest *in, struct item_run *ir, struct src_reader *r, int *err)
{
	const struct prefilter *pf = parser_prefilter(ir->p);
	struct pf_cursor cur;
	const char *block, *line;
	size_t blen, len;
	unsigned long passed;
	int rc, truncated;

	rc = src_next_block(r, &block, &blen);
	if (rc == SRC_LINE) {
		if ((rc = src_next_line(r, &line, &len, &truncated)) != 1)
			return rc;
		count_lines(in, ir, 1);
		*err = one_line(in, ir, line, len, ~0U, truncated);
		return 1;
	}
	if (rc != 1)
		return rc;
	pf_start(pf, &cur, block, blen);
	while (pf_next(pf, &cur, &line, &len, &passed)) {
		count_lines(in, ir, passed);
		if ((*err = one_line(in, ir, line, len, pf_may(pf, &cur, line, len), 0)) != DL_OK)
			return 1;
	}
	count_lines(in, ir, passed);
	return 1;
}

/*
 * Read one plan item to its end.  An unreadable file is counted and skipped;
 * a store failure aborts (after rollback) with its code.  Batches end on
 * block boundaries: the position saved is where the reader stands.
 */
static int
ingest_item(struct ingest *in, const struct conf_source *cs, struct parser *p,
    const struct src_item *item)
{
	struct src_reader *r;
	struct item_run ir;
	int rc, in_tx = 0, err = DL_OK;

	r = src_open(item);
	if (r == NULL) {
		in->stats->errors++;
		return DL_OK;
	}
	memset(&ir, 0, sizeof ir);
	ir.item = item;
	ir.p = p;
	ir.lineno = item->pos.lineno;
	in->stats->files++;
	ir.ps.cur_time = item->pos.cur_time;
	ir.ps.mtime = item->mtime;
	/* No other file's open attempts may be saved under this key (the
	 * first save_position below comes before they are loaded). */
	opens_clear(in->opens);

	/* A new file's identity is committed before its first batch: a first
	 * run killed before that batch commits, then a rotation, must still
	 * find the file under its rotated name. */
	if (item->fresh) {
		if ((err = store_begin(in->st)) != DL_OK)
			goto out;
		in_tx = 1;
		if ((err = save_position(in, cs, item, r, &ir.ps, ir.lineno)) != DL_OK ||
		    (err = store_commit(in->st)) != DL_OK)
			goto out;
		in_tx = 0;
	}
	if ((err = store_begin(in->st)) != DL_OK)
		goto out;
	in_tx = 1;
	/* A rotated tail and its live file share the key, hence the opens. */
	if ((err = opens_db_load(in->od, item->key, in->opens)) != DL_OK)
		goto out;
	while ((rc = next_lines(in, &ir, r, &err)) == 1 && err == DL_OK) {
		if (ir.batch_lines < BATCH_LINES && ir.batch_attempts < BATCH_ATTEMPTS)
			continue;
		if ((err = save_position(in, cs, item, r, &ir.ps, ir.lineno)) != DL_OK ||
		    (err = store_commit(in->st)) != DL_OK)
			goto out;
		in_tx = 0;
		ir.batch_lines = ir.batch_attempts = 0;
		if ((err = store_begin(in->st)) != DL_OK)
			goto out;
		in_tx = 1;
	}
	if (err != DL_OK)
		goto out;
	if (rc < 0)
		in->stats->errors++;   /* reported by the reader; keep what was read */
	if ((err = save_position(in, cs, item, r, &ir.ps, ir.lineno)) != DL_OK ||
	    (err = store_commit(in->st)) != DL_OK)
		goto out;
	in_tx = 0;
out:
	if (in_tx)
		store_rollback(in->st);
	src_close(r);
	return err;
}

/* Forget the positions of files that are gone for good. */
static int
forget_gone(struct ingest *in, const struct src_plan *plan)
{
	size_t i;
	int err;

	if (plan->ngone == 0)
		return DL_OK;
	if ((err = store_begin(in->st)) != DL_OK)
		return err;
	for (i = 0; i < plan->ngone; i++) {
		msg_verbose("%s: gone; position forgotten", plan->gone[i]);
		if ((err = store_pos_delete(in->st, plan->gone[i])) != DL_OK) {
			store_rollback(in->st);
			return err;
		}
	}
	return store_commit(in->st);
}

static int
ingest_source(struct ingest *in, const struct conf_source *cs, struct parser *p)
{
	struct src_plan plan;
	char **keys = NULL;
	size_t nkeys = 0, i;
	int err;

	memset(&plan, 0, sizeof plan);
	if ((err = store_pos_keys(in->st, cs->name, &keys, &nkeys)) != DL_OK)
		goto out;
	/* DL_EFAIL: some file could not be examined (reported); the plan still
	 * holds every other file, so they are read and the run exits 1. */
	err = src_plan_build(cs, keys, nkeys, lookup_pos, in, &plan);
	if (err == DL_EFAIL)
		in->stats->errors++;
	else if (err != DL_OK)
		goto out;
	for (i = 0; i < plan.nitems; i++)
		if ((err = ingest_item(in, cs, p, &plan.items[i])) != DL_OK)
			goto out;
	err = forget_gone(in, &plan);
out:
	src_plan_free(&plan);
	store_keys_free(keys, nkeys);
	return err;
}

struct ingest *
ingest_new(const struct conf *c, int *err)
{
	struct ingest *in;
	size_t i;

	*err = DL_OK;
	in = calloc(1, sizeof *in);
	if (in == NULL || (in->parsers = calloc(c->nsources + 1, sizeof(struct parser *))) == NULL) {
		msg_err("out of memory");
		*err = DL_ENOMEM;
		goto fail;
	}
	in->c = c;
	for (i = 0; i < c->nsources; i++)
		if ((in->parsers[i] = parser_new(c, &c->sources[i], err)) == NULL)
			goto fail;
	return in;
fail:
	ingest_free(in);
	return NULL;
}

void
ingest_free(struct ingest *in)
{
	size_t i;

	if (in == NULL)
		return;
	for (i = 0; in->parsers != NULL && i < in->c->nsources; i++)
		parser_free(in->parsers[i]);
	free(in->parsers);
	free(in);
}

/*
 * Open attempts of every file (read this run or not) that the scan's clock
 * has left without a result for longer than the limit fail, in one
 * transaction with the deletion of their rows.
 */
static int
expire_opens(struct ingest *in)
{
	unsigned long n;
	int err;

	if ((err = store_begin(in->st)) != DL_OK)
		return err;
	if ((err = opens_db_expire(in->od, in->now, record_attempt, in, &n)) != DL_OK) {
		store_rollback(in->st);
		return err;
	}
	if (n)
		msg_verbose("%lu open attempt%s without a result for 2 hours: failures",
		    n, n == 1 ? "" : "s");
	return store_commit(in->st);
}

int
ingest_run(struct ingest *in, struct store *st, time_t now, struct preview *pv,
    struct ingest_stats *stats)
{
	size_t i;
	int err = DL_OK;

	memset(stats, 0, sizeof *stats);
	in->st = st;
	in->pv = pv;
	in->stats = stats;
	in->now = now;
	if ((in->opens = opens_new()) == NULL) {
		err = DL_ENOMEM;
		goto out;
	}
	if ((err = opens_db_new(st, &in->od)) != DL_OK)
		goto out;
	/* A busy or failing store stops the stage; what committed stays. */
	for (i = 0; i < in->c->nsources; i++)
		if ((err = ingest_source(in, &in->c->sources[i], in->parsers[i])) != DL_OK)
			goto out;
	err = expire_opens(in);
out:
	opens_db_free(in->od);
	opens_free(in->opens);
	in->od = NULL;
	in->opens = NULL;
	in->st = NULL;
	in->stats = NULL;
	return err;
}
