/*
 * ingest.h — the ingestion stage: every source's files, from their saved
 * positions, through the parser into the store.  Rows and the position they
 * came from commit in one transaction (batched), so a run killed at any
 * instant loses and duplicates nothing.
 *
 * Error convention: see util.h.  An unreadable file is reported, counted in
 * stats->errors and skipped (the run goes on); DL_EBUSY / store failures
 * abort the stage after rolling back.
 */
#ifndef DLMON_INGEST_H
#define DLMON_INGEST_H

#include <stdio.h>
#include <time.h>

#include "conf.h"
#include "store.h"

struct ingest_stats {
	unsigned long files;       /* files read (live and rotated) */
	unsigned long long lines;  /* new complete lines read */
	unsigned long attempts;    /* attempts derived */
	unsigned long known;       /* of which already stored */
	unsigned long skipped;     /* result lines skipped with a warning */
	unsigned long errors;      /* files that could not be read */
};

struct ingest;

/*
 * ingest_new: compile every source's patterns of c (which must outlive the
 * result), before anything is read or opened, so that a configuration error
 * leaves nothing done.  NULL on failure with *err set (DL_ECONF for a
 * pattern that does not compile, reported as FILE:LINE).
 */
struct ingest *ingest_new(const struct conf *c, int *err);
void ingest_free(struct ingest *in);

/*
 * ingest_run: ingest every source into st.  With pv (--dry-run, st being
 * a private copy), attempts are recorded through the preview (preview.h),
 * which prints them and stores only what the evaluation reads; the caller
 * finishes it.  now is the scan's clock (--now): at the end, open attempts
 * (opens.h) of any file started more than 2 hours before it become failures.
 */
struct preview;
int ingest_run(struct ingest *in, struct store *st, time_t now, struct preview *pv,
    struct ingest_stats *stats);

#endif
