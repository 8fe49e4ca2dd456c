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
#include "notify.h"
#include "query.h"
#include "report.h"
#include "settings.h"
#include "store.h"
#include "testpat.h"
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
	    "  config  [show | get KEY | set KEY VALUE]      settings, their origin; set one\n"
	    "  test-patterns [--source NAME] [-v] FILE...    what each pattern matches in FILEs\n"
	    "  test-alert                                    one test push through Pushover\n"
	    "  report  --html FILE                           write the dashboard page\n"
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
	const char *source;        /* test-patterns --source NAME */
	const char *html;          /* report --html FILE */
	long hours, limit, days;
	int json, have_days;
	time_t now;
};

/*
 * config set: validated by the key table, written with json_set, and only
 * committed when the whole new row reads back (query_config_set).  The old
 * row is not overlaid first: a bad value already in it can be fixed this way.
 */
static int
config_set(struct conf *c, const char *key, const char *value)
{
	struct store *st = NULL;
	char *path = NULL, *json = NULL, *val = NULL;
	int err;

	if ((err = conf_set_check(key, value, &path, &json)) != DL_OK)
		goto out;
	if ((err = store_open(c->db.path, STORE_RW, c->db.busy_timeout_ms, &st)) != DL_OK ||
	    (err = query_config_set(st, c, path, json)) != DL_OK)
		goto out;
	if ((err = conf_get(c, key, &val)) == DL_OK && msg_verbosity() >= 0)
		printf("%s = %s   # database (settings.monitoring)\n", key, val);
out:
	free(val);
	free(path);
	free(json);
	store_close(st);
	return err;
}

static int
cmd_config(struct conf *c, int argc, char **argv)
{
	struct store *st = NULL;
	char *val = NULL;
	int err;

	if (argc > 0 && strcmp(argv[0], "set") == 0) {
		if (argc != 3) {
			msg_err("config set: expected KEY VALUE");
			return DL_ECONF;
		}
		return config_set(c, argv[1], argv[2]);
	}
	/* A missing database simply has no settings row. */
	if (access(c->db.path, F_OK) == 0) {
		if ((err = store_open(c->db.path, STORE_RO, c->db.busy_timeout_ms, &st)) != DL_OK ||
		    (err = settings_apply(c, st)) != DL_OK)
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
		msg_err("config: unknown or incomplete command '%s' "
		    "(expected show, get KEY or set KEY VALUE)", argv[0]);
		err = DL_ECONF;
	}
out:
	free(val);
	store_close(st);
	return err;
}

/*
 * test-alert: one test message through every enabled notifier (Pushover),
 * with the settings rows applied as a scan would: this is how a user checks
 * the token, the user key and the phone before trusting the silence.
 */
static int
cmd_test_alert(const struct args *a)
{
	struct conf *c = NULL;
	struct store *st = NULL;
	struct notifier *n = NULL;
	struct alert_msg m;
	char host[256] = "this machine", why[256];
	int err;

	if ((err = conf_load(a->config, &c)) != DL_OK)
		goto out;
	if (access(c->db.path, F_OK) == 0 &&
	    ((err = store_open(c->db.path, STORE_RO, c->db.busy_timeout_ms, &st)) != DL_OK ||
	    (err = settings_apply(c, st)) != DL_OK))
		goto out;
	if (!c->po.enabled) {
		msg_err("no notifier is enabled ([pushover] enabled = false)");
		err = DL_ECONF;
		goto out;
	}
	if ((n = notify_pushover_new(c, &err)) == NULL)
		goto out;
	if (gethostname(host, sizeof host - 1) != 0)
		snprintf(host, sizeof host, "this machine");
	alert_compose_test(host, a->now, &m);
	if (notify_send(n, &m, why, sizeof why) != NOTIFY_SENT) {
		err = DL_EFAIL;       /* reported by notify_send */
		goto out;
	}
	msg_info("test alert delivered through pushover");
out:
	notify_free(n);
	store_close(st);
	conf_free(c);
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

	if (strcmp(cmd, "test-alert") == 0) {
		if (argc > 0) {
			msg_err("test-alert: unexpected argument '%s'", argv[0]);
			return DL_ECONF;
		}
		return cmd_test_alert(a);
	}
	/* No other command sends anything: the secrets stay unread. */
	if ((err = conf_load_flags(a->config, CONF_NO_SECRETS, &c)) != DL_OK)
		goto out;
	if (strcmp(cmd, "config") == 0) {
		err = cmd_config(c, argc, argv);
		goto out;
	}
	if (strcmp(cmd, "test-patterns") == 0) {
		err = testpat_run(c, a->source, argv, (size_t)argc, msg_verbosity() > 0);
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
	} else if (strcmp(cmd, "report") == 0) {
		/* the settings rows decide enabled downloaders and windows, as in a scan */
		if (a->html == NULL) {
			msg_err("report: --html FILE is required");
			err = DL_ECONF;
			goto out;
		}
		if ((err = store_open(c->db.path, STORE_RO, c->db.busy_timeout_ms, &st)) == DL_OK &&
		    (err = settings_apply(c, st)) == DL_OK)
			err = report_html_write(c, st, a->now, a->html);
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
			err = query_clear_json(st, deleted, a->days, &out);
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
		{ "source", required_argument, NULL, 'S' },
		{ "html", required_argument, NULL, 'O' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 }
	};
	struct args a = { NULL, NULL, NULL, NULL, 24, 100, 0, 0, 0, 0 };
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
		case 'S': a.source = optarg; break;
		case 'O': a.html = optarg; break;
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
	a.config = conf_path(a.config);
	err = run(&a, argv[optind], argc - optind - 1, argv + optind + 1);
	return dl_exit_status(err);
}
