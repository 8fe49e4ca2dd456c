/*
 * conf.h — the configuration: built-in defaults < INI file < the database's
 * settings row "monitoring" (see SPEC "Configuration file").
 *
 * Error convention: see util.h.  conf_load reports problems as
 * "<file>:<line>: <what>" and returns DL_ECONF; nothing else is done then.
 */
#ifndef DLMON_CONF_H
#define DLMON_CONF_H

#include <stddef.h>
#include <stdio.h>

#define CONF_DEFAULT_PATH "/etc/dlmon/dlmon.conf"
#define CONF_MAX_LINE 199          /* libinih's limit: longer lines are refused */

/* Where an effective value came from, for `dlmon config show` and -v. */
enum conf_origin { ORIGIN_DEFAULT = 0, ORIGIN_FILE, ORIGIN_DATABASE };

struct conf_pattern {
	char *text;                /* the PCRE2 source as written (prefix not applied) */
	int line;                  /* line in the configuration file */
};

struct conf_source {
	char *name;                /* [source NAME] */
	int line;                  /* line of the section header */
	char **files;              /* globs, in order; the key may repeat */
	size_t nfiles;
	int start_at_end;          /* start_at = end */
	char *time_format;         /* default "%Y-%m-%d %H:%M:%S" */
	struct conf_pattern timestamp; /* text NULL when absent */
	struct conf_pattern prefix;    /* text NULL when absent */
	char *downloader;          /* fixed name or NULL */
	struct conf_pattern *success, *failure, *start;
	size_t nsuccess, nfailure, nstart;
};

struct conf_downloader {
	char *id;                  /* lower-case name as stored in download_monitor */
	int line;                  /* section line, 0 when created by the settings row */
	int enabled;               /* default 1 */
	char *name;                /* display name; NULL: known name or the id */
	double failure_window_hours;   /* < 0: use [monitoring] */
	int min_consecutive_failures;  /* < 0: use [monitoring] */
	double expect_every_hours;     /* 0 = off */
};

struct conf {
	char *path;                /* the file read */

	struct {
		int enabled;                   /* 1 */
		double failure_window_hours;   /* 3 */
		int min_consecutive_failures;  /* 2 */
		int retention_days;            /* 30 */
		double max_alert_age_hours;    /* 24 */
		int notify_recovery;           /* 1 */
		double repeat_hours;           /* 0 */
	} mon;

	struct {
		char *path;        /* /opt/media-downloader/database/media_downloader.db */
		int busy_timeout_ms;           /* 10000 */
	} db;

	struct {
		int enabled;                   /* 1 */
		int priority;                  /* 1, -2..2 */
		int retry, expire;             /* 60, 3600 (priority 2 only) */
		char *user, *token;            /* secrets, read from *_file or the file */
		char *user_file, *token_file;
		char *api_url;                 /* https://api.pushover.net/1/messages.json */
		char *ca_file, *sound, *device;/* NULL when empty */
		int timeout_seconds;           /* 15 */
	} po;

	struct {
		int allow_delete;              /* 0 */
	} api;

	struct conf_source *sources;
	size_t nsources;
	struct conf_downloader *dls;
	size_t ndls;
};

/*
 * conf_path: the configuration file every program reads: given (-c FILE)
 * when not NULL, else $DLMON_CONFIG when set and not empty, else
 * CONF_DEFAULT_PATH.  The result is given, the environment's or static.
 */
const char *conf_path(const char *given);

/*
 * conf_load: read and validate the INI file at path into a new conf (*out,
 * owned by the caller, free with conf_free).  Lines of CONF_MAX_LINE bytes or
 * more, unknown sections or keys, bad values, repeated single keys or
 * sections, token with token_file, and files holding secrets readable by
 * group/others are errors naming file and line (or path and mode).  Reads the
 * *_file secrets.  Returns DL_OK or DL_ECONF (or DL_ENOMEM).
 */
int conf_load(const char *path, struct conf **out);

/*
 * conf_load_flags: conf_load with flags.  CONF_NO_SECRETS keeps the *_file
 * paths but does not open them: for the programs that never notify (dlmon's
 * queries, dlmon-api.cgi), which run as users that must not read secrets.
 */
#define CONF_NO_SECRETS 1u
int conf_load_flags(const char *path, unsigned flags, struct conf **out);

/*
 * conf_overlay_json: apply the settings row "monitoring" (the seed's JSON,
 * text json) over c.  Keys are [monitoring] names; "pushover.enabled",
 * "pushover.priority" map to [pushover]; "downloaders.X" to [downloader X]
 * enabled (creating the downloader entry if needed).  Unknown keys are
 * ignored with a verbose note.  JSON is parsed with SQLite's JSON functions.
 * A bad value is an error naming "settings row 'monitoring'" and the key:
 * DL_ECONF.  Records ORIGIN_DATABASE for every key it sets and, with -v,
 * names each file value it overrides.
 */
int conf_overlay_json(struct conf *c, const char *json);

/*
 * conf_overlay_pushover_json: the settings row "pushover": user_key and
 * api_token supply credentials the file lacks.  DL_OK or DL_ECONF.
 */
int conf_overlay_pushover_json(struct conf *c, const char *json);

/* Lookups that apply per-downloader overrides; id is lower-case. */
const struct conf_downloader *conf_downloader(const struct conf *c, const char *id);
int conf_downloader_enabled(const struct conf *c, const char *id);
double conf_window_hours(const struct conf *c, const char *id);
int conf_min_failures(const struct conf *c, const char *id);

/*
 * conf_display_name: the display name for alerts: [downloader X] name, else
 * the known name (FastDL, ImgInn, Toolzu, Instagram, Snapchat, TikTok,
 * Forums, Coppermine), else the id itself.  Never NULL.
 */
const char *conf_display_name(const struct conf *c, const char *id);

/*
 * conf_notifier_hash: a hash of the notifier's settings (api_url, priority,
 * sound, device and credentials), so that an alert held after a 4xx is
 * retried once they change.  It is a one-way 64-bit value, never a secret.
 */
unsigned long long conf_notifier_hash(const struct conf *c);

/*
 * conf_show: write every effective setting as "section.key = value   # origin"
 * lines into fp (secrets shown as "(set)"/"(unset)"), origin being "default",
 * "FILE:LINE" or "database (settings.monitoring)".
 * conf_get: the effective value of "section.key" (or seed-style keys such as
 * "failure_window_hours", "downloaders.fastdl") into a malloc'ed string.
 */
void conf_show(const struct conf *c, FILE *fp);
int conf_get(const struct conf *c, const char *key, char **value);

/*
 * conf_set_check: validate `dlmon config set KEY VALUE` exactly as the file
 * reader would, and say what to write into the settings row "monitoring":
 * *path is its JSON path ("$.failure_window_hours", "$.pushover.priority",
 * "$.downloaders.fastdl") and *json the value as a JSON literal (booleans
 * true/false, numbers as numbers); both malloc'ed, owned by the caller.
 * KEY is a row name ("failure_window_hours", "pushover.priority",
 * "downloaders.X") or its file spelling ("monitoring.failure_window_hours",
 * "downloader.X.enabled").  An unknown key, a key only the file can hold
 * (database.path, sources, ...) or a bad value is reported naming it:
 * DL_ECONF (nothing returned).  DL_ENOMEM otherwise possible.
 */
int conf_set_check(const char *key, const char *value, char **path, char **json);

void conf_free(struct conf *c);

#endif
