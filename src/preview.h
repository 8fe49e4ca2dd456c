/*
 * preview.h — what --dry-run does with the attempts a run would record:
 * print each one, tell the ones already known, and keep only those the
 * evaluation can see, so that the alerts it prints come from the one
 * evaluation a real run uses (monitor.h, over the dry-run's private copy of
 * the database) without storing every attempt first.
 *
 * What the evaluation of a downloader reads (store_history_load) is its
 * latest success at or before now and the failures after it, and for a
 * recovery push the failures since its streak began; an attempt that none
 * of these can read (a later success of the same run superseded it) is
 * printed and counted but not stored.  Duplicates are told as the store
 * tells them: the same identity (downloader, username, timestamp text,
 * success, error; NULL and empty differ) earlier in the run, or in the
 * database (probed only when the database holds attempts that recent).
 * Within the run, identities are compared by a 64-bit hash: a collision
 * (about one in 10^9 for a run of 300,000 attempts) would show one attempt
 * too few; nothing is written either way.
 *
 * Error convention: see util.h.
 */
#ifndef DLMON_PREVIEW_H
#define DLMON_PREVIEW_H

#include <stdio.h>
#include <time.h>

#include "parse.h"
#include "store.h"

struct preview;

/*
 * preview_new: a preview printing to out, evaluating at now, pruning before
 * cutoff, over st (the dry-run's private copy, which must outlive it).
 * With recovery (notify_recovery), failures a recovery push may still count
 * (store_recovery_floors) are kept too, superseded or not.  NULL on
 * failure, *err set (reported).
 */
struct preview *preview_new(struct store *st, FILE *out, time_t now, time_t cutoff,
    int recovery, int *err);
void preview_free(struct preview *pv);

/*
 * preview_add: one attempt a run would record (the ingest stage's only way
 * of recording in --dry-run).  *added is 0 when it is already known.
 */
int preview_add(struct preview *pv, const struct attempt *a, int *added);

/*
 * preview_finish: print what is buffered and store the kept attempts in
 * the private copy, in the order they came (inside a transaction of its
 * own).  DL_EFAIL (reported) when the output could not be written.  *unstored_pruned: the attempts printed but not stored that a real
 * run would then prune (older than cutoff), for the prune count.
 */
int preview_finish(struct preview *pv, long long *unstored_pruned);

#endif
