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

/*
 * ingest_run: ingest every source of c into st.  When show is not NULL,
 * each newly recorded attempt is printed to it as one tab-separated line
 * (downloader, username, timestamp, success, file_count, error) — used by
 * --dry-run, whose store is a private copy.
 */
int ingest_run(const struct conf *c, struct store *st, FILE *show, struct ingest_stats *stats);

#endif
