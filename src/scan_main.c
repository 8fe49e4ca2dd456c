/*
 * dlmon-scan — the periodic job: ingest → evaluate → notify → prune.
 * main() only parses flags, runs the stages and maps results to exit codes.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "conf.h"
#include "ingest.h"
#include "lock.h"
#include "monitor.h"
#include "notify.h"
#include "preview.h"
#include "settings.h"
#include "store.h"
#include "util.h"

#ifndef DLMON_VERSION
#define DLMON_VERSION "dev"
#endif

static void
usage(FILE *fp)
{
	fprintf(fp,
	    "usage: dlmon-scan [-c FILE] [-n|--dry-run] [-v|--verbose] [-q|--quiet]\n"
	    "                  [--now 'YYYY-MM-DD HH:MM:SS']\n"
	    "Reads the downloaders' logs from where it stopped, records the attempts,\n"
	    "alerts once per failure streak and prunes old rows.  See dlmon-scan(1).\n");
}

/* The one-line summary; in --dry-run it says what would have happened. */
static void
print_summary(FILE *fp, int dry, const struct ingest_stats *is,
    const struct monitor_stats *ms, long long pruned)
{
	fprintf(fp, "%s: %s%lu file%s, %llu new line%s, %lu attempt%s (%lu already known), "
	    "%lu alert%s %s%s%s%s, %lld row%s %spruned\n",
	    msg_progname(), dry ? "dry run: " : "",
	    is->files, is->files == 1 ? "" : "s",
	    is->lines, is->lines == 1 ? "" : "s",
	    is->attempts, is->attempts == 1 ? "" : "s", is->known,
	    ms->sent, ms->sent == 1 ? "" : "s", dry ? "would be sent" : "sent",
	    ms->sent ? " (" : "", ms->sent_names, ms->sent ? ")" : "",
	    pruned, pruned == 1 ? "" : "s", dry ? "would be " : "");
	if (ms->undelivered > ms->held)
		fprintf(fp, "%s: %lu alert%s not delivered (pending: the next run retries)\n",
		    msg_progname(), ms->undelivered - ms->held,
		    ms->undelivered - ms->held == 1 ? "" : "s");
	if (ms->held)
		fprintf(fp, "%s: %lu alert%s refused by the notifier (held until its settings "
		    "change)\n", msg_progname(), ms->held, ms->held == 1 ? "" : "s");
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "dry-run", no_argument, NULL, 'n' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "now", required_argument, NULL, 'N' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 }
	};
	const char *path = NULL;
	struct conf *c = NULL;
	struct ingest *in = NULL;
	struct store *st = NULL;
	struct notifier *n = NULL;
	struct preview *pv = NULL;
	struct ingest_stats is;
	struct monitor_stats ms;
	char *lockpath = NULL, cut[DLT_BUFSZ];
	long long pruned = 0, unstored = 0;
	int ch, dry = 0, verbose = 0, quiet = 0, lockfd = -1, err;
	time_t now = time(NULL), cutoff;
	FILE *show;

	msg_init("dlmon-scan");
	memset(&is, 0, sizeof is);
	memset(&ms, 0, sizeof ms);
	while ((ch = getopt_long(argc, argv, "c:nvqhV", opts, NULL)) != -1) {
		switch (ch) {
		case 'c': path = optarg; break;
		case 'n': dry = 1; break;
		case 'v': verbose++; break;
		case 'q': quiet = 1; break;
		case 'N':
			if (dlt_parse_now(optarg, &now) != 0) {
				msg_err("--now: bad time '%s' (expected 'YYYY-MM-DD HH:MM:SS')", optarg);
				return EXIT_USAGE;
			}
			break;
		case 'h': usage(stdout); return EXIT_OK;
		case 'V': printf("dlmon-scan %s\n", DLMON_VERSION); return EXIT_OK;
		default: usage(stderr); return EXIT_USAGE;
		}
	}
	if (optind < argc) {
		msg_err("unexpected argument '%s'", argv[optind]);
		usage(stderr);
		return EXIT_USAGE;
	}
	msg_set_verbosity(quiet ? -1 : verbose);
	path = conf_path(path);
	show = dry ? stdout : NULL;

	if ((err = conf_load(path, &c)) != DL_OK)
		goto out;
	if ((in = ingest_new(c, &err)) == NULL)
		goto out;
	if (!dry) {
		if (asprintf(&lockpath, "%s.lock", c->db.path) < 0) {
			lockpath = NULL;
			msg_err("out of memory");
			err = DL_ENOMEM;
			goto out;
		}
		if ((err = lock_acquire(lockpath, &lockfd)) != DL_OK)
			goto out;
	}
	if ((err = store_open(c->db.path, dry ? STORE_DRYRUN : STORE_RW,
	    c->db.busy_timeout_ms, &st)) != DL_OK)
		goto out;
	if ((err = settings_apply(c, st)) != DL_OK)
		goto out;
	if (c->po.enabled && (n = notify_pushover_new(c, &err)) == NULL)
		goto out;

	cutoff = now - (time_t)c->mon.retention_days * 86400;
	if (dry && (pv = preview_new(st, show, now, cutoff, c->mon.notify_recovery,
	    &err)) == NULL)
		goto out;
	if ((err = ingest_run(in, st, now, pv, &is)) != DL_OK)
		goto out;
	if (pv && (err = preview_finish(pv, &unstored)) != DL_OK)
		goto out;
	if ((err = monitor_run(c, st, n, show, now, &ms)) != DL_OK)
		goto out;
	if ((err = store_prune(st, cutoff, 0, &pruned)) != DL_OK)
		goto out;
	pruned += unstored;
	if (dry) {
		dlt_format(cutoff, cut);
		printf("prune: %lld row%s older than %s\n", pruned, pruned == 1 ? "" : "s", cut);
	}
	if (!quiet)
		print_summary(stdout, dry, &is, &ms, pruned);
	if (is.errors || ms.undelivered)
		err = DL_EFAIL;
out:
	notify_free(n);
	preview_free(pv);
	store_close(st);
	lock_release(lockfd);
	free(lockpath);
	ingest_free(in);
	conf_free(c);
	return dl_exit_status(err);
}
