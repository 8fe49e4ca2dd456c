/*
 * monitor.h — the evaluation-and-notification stage: for every enabled
 * downloader, load its history, apply the rule (eval.h), record alerts as
 * pending, deliver them (notify.h), mark them sent.
 *
 * Error convention: see util.h.  An undelivered alert is reported and counted
 * (stats->undelivered); it stays pending and the function still returns
 * DL_OK; store failures return their code.
 */
#ifndef DLMON_MONITOR_H
#define DLMON_MONITOR_H

#include <stdio.h>
#include <time.h>

#include "conf.h"
#include "notify.h"
#include "store.h"

struct monitor_stats {
	unsigned long sent;
	unsigned long undelivered; /* of which held (refused, waiting for new settings): */
	unsigned long held;
	unsigned long dropped;
	char sent_names[256];      /* "toolzu, fastdl" for the summary line */
};

/*
 * monitor_params: the rule's parameters for downloader id under c (its
 * [downloader] overrides applied): one place, so that the dashboard and the
 * scan judge a downloader alike.
 */
void monitor_params(const struct conf *c, const char *id, struct ev_params *p);

/*
 * monitor_run: evaluate at now.  n is NULL when Pushover is disabled: the
 * rule is evaluated (alerts named with -v) but nothing is recorded or sent.
 * With show not NULL (dry-run) each alert is printed to it (title and text)
 * instead of being sent; the store is then a private copy.
 */
int monitor_run(const struct conf *c, struct store *st, struct notifier *n,
    FILE *show, time_t now, struct monitor_stats *stats);

#endif
