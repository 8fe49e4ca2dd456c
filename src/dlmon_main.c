/*
 * dlmon — what a person asks by hand: status, history, clear, config.
 * main() only parses flags, runs the command and maps results to exit codes.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <ctype.h>
#include <time.h>
#include <unistd.h>

#include "conf.h"
#include "query.h"
#include "store.h"
#include "util.h"

#ifndef DLMON_VERSION
#define DLMON_VERSION "dev"
#endif

static void
usage(FILE *fp)
{
	fprintf(fp,
	    "usage: dlmon [-c FILE] [--now 'YYYY-MM-DD HH:MM:SS'] COMMAND ...\n"
	    "  status  [--hours N] [--json]                  downloaders' health\n"
	    "  history [--downloader D] [--limit N] [--json] recent attempts, newest first\n"
	    "  clear   --days N [--json]                     delete attempts older than N days\n"
	    "  config  [show | get KEY]                      effective settings and their origin\n"
	    "See dlmon(1).\n");
}

/* Strict decimal in [min, max]; names the flag and value when bad. */
static int
parse_long(const char *flag, const char *s, long min, long max, long *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end != '\0' || v < min || v > max) {
		msg_err("%s: bad value '%s' (expected a whole number from %ld to %ld)",
		    flag, s, min, max);
		return DL_ECONF;
	}
	*out = v;
	return DL_OK;
}

struct args {
	const char *config, *downloader;
	long hours, limit, days;
	int json, have_days;
	time_t now;
};

/* The settings rows take part in `config`, as they do in every scan. */
static int
overlay_settings(struct conf *c, struct store *st)
{
	char *json = NULL;
	int err;

	if ((err = store_setting_get(st, "monitoring", &json)) == DL_OK && json)
		err = conf_overlay_json(c, json);
	free(json);
	return err;
}

static int
cmd_config(struct conf *c, int argc, char **argv)
{
	struct store *st = NULL;
	char *val = NULL;
	int err;

	/* A missing database simply has no settings row. */
	if (access(c->db.path, F_OK) == 0) {
		if ((err = store_open(c->db.path, STORE_RO, c->db.busy_timeout_ms, &st)) != DL_OK ||
		    (err = overlay_settings(c, st)) != DL_OK)
			goto out;
	}
	if (argc == 0 || strcmp(argv[0], "show") == 0) {
		if (argc > 1) {
			msg_err("config show: unexpected argument '%s'", argv[1]);
			err = DL_ECONF;
			goto out;
		}
		conf_show(c, stdout);
		err = DL_OK;
	} else if (strcmp(argv[0], "get") == 0 && argc == 2) {
		if ((err = conf_get(c, argv[1], &val)) == DL_OK)
			printf("%s\n", val);
	} else {
		msg_err("config: unknown or incomplete command '%s' (expected show or get KEY)", argv[0]);
		err = DL_ECONF;
	}
out:
	free(val);
	store_close(st);
	return err;
}

static int
run(const struct args *a, const char *cmd, int argc, char **argv)
{
	struct conf *c = NULL;
	struct store *st = NULL;
	struct strbuf out = { 0 };
	long long deleted = 0;
	int err;

	/* No command here sends anything: the secrets stay unread. */
	if ((err = conf_load_flags(a->config, CONF_NO_SECRETS, &c)) != DL_OK)
		goto out;
	if (strcmp(cmd, "config") == 0) {
		err = cmd_config(c, argc, argv);
		goto out;
	}
	if (argc > 0) {
		msg_err("%s: unexpected argument '%s'", cmd, argv[0]);
		err = DL_ECONF;
		goto out;
	}
	if (strcmp(cmd, "status") == 0 || strcmp(cmd, "history") == 0) {
		if ((err = store_open(c->db.path, STORE_RO, c->db.busy_timeout_ms, &st)) != DL_OK)
			goto out;
		if (strcmp(cmd, "status") == 0)
			err = a->json ? query_status_json(st, a->now, a->hours, &out)
			    : query_status_table(st, a->now, a->hours, stdout);
		else
			err = a->json ? query_history_json(st, a->downloader, a->limit, &out)
			    : query_history_table(st, a->downloader, a->limit, stdout);
	} else if (strcmp(cmd, "clear") == 0) {
		if (!a->have_days) {
			msg_err("clear: --days N is required");
			err = DL_ECONF;
			goto out;
		}
		if ((err = store_open(c->db.path, STORE_RW, c->db.busy_timeout_ms, &st)) != DL_OK ||
		    (err = query_clear(st, a->now, a->days, &deleted)) != DL_OK)
			goto out;
		if (a->json)
			sb_printf(&out, "{\"success\":true,\"deleted\":%lld,\"days\":%ld}",
			    deleted, a->days);
		else
			printf("deleted %lld attempt%s older than %ld day%s\n", deleted,
			    deleted == 1 ? "" : "s", a->days, a->days == 1 ? "" : "s");
	} else {
		msg_err("unknown command '%s'", cmd);
		usage(stderr);
		err = DL_ECONF;
	}
	if (err == DL_OK && out.len)
		printf("%s\n", out.buf);
out:
	sb_free(&out);
	store_close(st);
	conf_free(c);
	return err;
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "json", no_argument, NULL, 'j' },
		{ "hours", required_argument, NULL, 'H' },
		{ "downloader", required_argument, NULL, 'd' },
		{ "limit", required_argument, NULL, 'l' },
		{ "days", required_argument, NULL, 'D' },
		{ "now", required_argument, NULL, 'N' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 }
	};
	struct args a = { NULL, NULL, 24, 100, 0, 0, 0, 0 };
	int ch, err = DL_OK, verbose = 0, quiet = 0;

	msg_init("dlmon");
	a.now = time(NULL);
	while (err == DL_OK && (ch = getopt_long(argc, argv, "c:vqhV", opts, NULL)) != -1) {
		switch (ch) {
		case 'c': a.config = optarg; break;
		case 'j': a.json = 1; break;
		case 'H': err = parse_long("--hours", optarg, 1, QUERY_MAX_HOURS, &a.hours); break;
		case 'l': err = parse_long("--limit", optarg, 1, QUERY_MAX_LIMIT, &a.limit); break;
		case 'D':
			err = parse_long("--days", optarg, 0, QUERY_MAX_DAYS, &a.days);
			a.have_days = 1;
			break;
		case 'd': {
			/* names are stored lower-case */
			char *p;
			for (p = optarg; *p; p++)
				*p = (char)tolower((unsigned char)*p);
			a.downloader = optarg;
			break;
		}
		case 'N':
			if (dlt_parse_now(optarg, &a.now) != 0) {
				msg_err("--now: bad time '%s' (expected 'YYYY-MM-DD HH:MM:SS')", optarg);
				err = DL_ECONF;
			}
			break;
		case 'v': verbose++; break;
		case 'q': quiet = 1; break;
		case 'h': usage(stdout); return EXIT_OK;
		case 'V': printf("dlmon %s\n", DLMON_VERSION); return EXIT_OK;
		default: usage(stderr); return EXIT_USAGE;
		}
	}
	if (err != DL_OK)
		return dl_exit_status(err);
	if (optind >= argc) {
		usage(stderr);
		return EXIT_USAGE;
	}
	msg_set_verbosity(quiet ? -1 : verbose);
	if (a.config == NULL)
		a.config = getenv("DLMON_CONFIG");
	if (a.config == NULL || *a.config == '\0')
		a.config = CONF_DEFAULT_PATH;
	err = run(&a, argv[optind], argc - optind - 1, argv + optind + 1);
	return dl_exit_status(err);
}
