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

#include "parse.h"
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
	FILE *show;
	struct ingest_stats *stats;
};

static int
lookup_pos(void *ctx, const char *key, struct src_pos *pos)
{
	struct ingest *in = ctx;
	return store_pos_get(in->st, key, pos);
}

/* Tab-separated fields of one attempt; tabs and line ends inside a field
 * would break the format, so they are shown as spaces. */
static void
show_field(FILE *fp, const char *s, size_t len)
{
	size_t i;
	for (i = 0; s != NULL && i < len; i++) {
		char ch = s[i];
		fputc(ch == '\t' || ch == '\n' || ch == '\r' || ch == '\0' ? ' ' : ch, fp);
	}
}

static void
show_attempt(FILE *fp, const struct attempt *a)
{
	char ts[DLT_BUFSZ];

	dlt_format(a->ts, ts);
	show_field(fp, a->downloader, a->downloader_len);
	fputc('\t', fp);
	show_field(fp, a->user, a->user_len);
	fprintf(fp, "\t%s\t%d\t%lld\t", ts, a->success, a->file_count);
	show_field(fp, a->error, a->error_len);
	fputc('\n', fp);
}

/* Save where r stands (with the parser's state) under item's key. */
static int
save_position(struct ingest *in, const struct conf_source *cs, const struct src_item *item,
    struct src_reader *r, const struct parse_state *ps, uint64_t lineno)
{
	struct src_pos pos;

	src_position(r, &pos);
	pos.cur_time = ps->cur_time;
	pos.lineno = lineno;
	return store_pos_put(in->st, cs->name, item->key, &pos);
}

/*
 * Read one plan item to its end.  An unreadable file is counted and skipped;
 * a store failure aborts (after rollback) with its code.
 */
static int
ingest_item(struct ingest *in, const struct conf_source *cs, struct parser *p,
    const struct src_item *item)
{
	struct src_reader *r;
	struct parse_state ps;
	struct attempt a;
	const char *line;
	size_t len;
	uint64_t lineno = item->pos.lineno;
	unsigned long batch_lines = 0, batch_attempts = 0;
	int truncated, rc, added, in_tx = 0, err = DL_OK;

	r = src_open(item);
	if (r == NULL) {
		in->stats->errors++;
		return DL_OK;
	}
	in->stats->files++;
	ps.cur_time = item->pos.cur_time;
	ps.mtime = item->mtime;

	if ((err = store_begin(in->st)) != DL_OK)
		goto out;
	in_tx = 1;
	while ((rc = src_next_line(r, &line, &len, &truncated)) == 1) {
		enum parse_result pr;

		lineno++;
		in->stats->lines++;
		batch_lines++;
		if (truncated)
			msg_warn("%s:%" PRIu64 ": line longer than %d bytes; not matched",
			    item->path, lineno, PARSE_MAX_LINE);
		else {
			pr = parse_line(p, &ps, line, len, item->path, (unsigned long)lineno, &a, NULL);
			if (pr == PARSE_SKIPPED)
				in->stats->skipped++;
			else if (pr == PARSE_ATTEMPT) {
				in->stats->attempts++;
				batch_attempts++;
				if ((err = store_attempt_add(in->st, &a, &added)) != DL_OK)
					goto out;
				if (!added)
					in->stats->known++;
				else if (in->show)
					show_attempt(in->show, &a);
			}
		}
		if (batch_lines >= BATCH_LINES || batch_attempts >= BATCH_ATTEMPTS) {
			if ((err = save_position(in, cs, item, r, &ps, lineno)) != DL_OK ||
			    (err = store_commit(in->st)) != DL_OK)
				goto out;
			in_tx = 0;
			batch_lines = batch_attempts = 0;
			if ((err = store_begin(in->st)) != DL_OK)
				goto out;
			in_tx = 1;
		}
	}
	if (rc < 0)
		in->stats->errors++;   /* reported by src_next_line; keep what was read */
	if ((err = save_position(in, cs, item, r, &ps, lineno)) != DL_OK ||
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
	if (in == NULL || (in->parsers = calloc(c->nsources + 1, sizeof *in->parsers)) == NULL) {
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

int
ingest_run(struct ingest *in, struct store *st, FILE *show, struct ingest_stats *stats)
{
	size_t i;
	int err = DL_OK;

	memset(stats, 0, sizeof *stats);
	in->st = st;
	in->show = show;
	in->stats = stats;
	/* A busy or failing store stops the stage; what committed stays. */
	for (i = 0; i < in->c->nsources; i++)
		if ((err = ingest_source(in, &in->c->sources[i], in->parsers[i])) != DL_OK)
			break;
	in->st = NULL;
	in->stats = NULL;
	return err;
}
