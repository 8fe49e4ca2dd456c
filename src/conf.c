/*
 * conf.c — the configuration: built-in defaults < INI file < the database's
 * settings rows.  See conf.h and dlmon.conf(5).  This file holds the key
 * tables, their values, conf_dl_add and conf_free; conf_ini.c the INI
 * reader and its key handlers; conf_load.c conf_load and its checks;
 * conf_json.c the settings-row overlays; conf_show.c the lookups,
 * conf_show, conf_get and conf_set_check.
 *
 * Every scalar key is described once, in a table (conf_gkeys for the fixed
 * sections, conf_dkeys for [downloader NAME]); the INI handler, the JSON overlay,
 * conf_show and conf_get all go through it, so they cannot drift apart.
 *
 * libinih is fed through our own reader (conf_reader, in conf_ini.c): it
 * counts lines (the handler gets none), refuses lines inih would silently
 * cut, refuses indented lines (inih would glue them to the previous value),
 * and sees section headers, so that empty and repeated sections are noticed
 * too.
 */
#include "conf.h"
#include "conf_int.h"
#include "util.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define G(f) offsetof(struct conf, f)
const struct kdef conf_gkeys[] = {
	{ "monitoring", "enabled", KT_BOOL, G(mon.enabled), 0, 0, 0, "enabled", "true" },
	{ "monitoring", "failure_window_hours", KT_DOUBLE, G(mon.failure_window_hours),
	  0, 8760, 1, "failure_window_hours", "3" },
	{ "monitoring", "min_consecutive_failures", KT_INT, G(mon.min_consecutive_failures),
	  1, 1000, 0, "min_consecutive_failures", "2" },
	{ "monitoring", "retention_days", KT_INT, G(mon.retention_days),
	  1, 36500, 0, "retention_days", "30" },
	{ "monitoring", "max_alert_age_hours", KT_DOUBLE, G(mon.max_alert_age_hours),
	  0, 87600, 1, "max_alert_age_hours", "24" },
	{ "monitoring", "notify_recovery", KT_BOOL, G(mon.notify_recovery), 0, 0, 0,
	  "notify_recovery", "true" },
	{ "monitoring", "repeat_hours", KT_DOUBLE, G(mon.repeat_hours), 0, 8760, 0,
	  "repeat_hours", "0" },
	{ "database", "path", KT_PATH, G(db.path), 0, 0, 0, NULL,
	  "/opt/media-downloader/database/media_downloader.db" },
	{ "database", "busy_timeout_ms", KT_INT, G(db.busy_timeout_ms), 0, 600000, 0, NULL,
	  "10000" },
	{ "pushover", "enabled", KT_BOOL, G(po.enabled), 0, 0, 0, "pushover.enabled", "true" },
	{ "pushover", "priority", KT_INT, G(po.priority), -2, 2, 0, "pushover.priority", "1" },
	{ "pushover", "retry", KT_INT, G(po.retry), 30, 10800, 0, NULL, "60" },
	{ "pushover", "expire", KT_INT, G(po.expire), 30, 10800, 0, NULL, "3600" },
	{ "pushover", "user", KT_SECRET, G(po.user), 0, 0, 0, NULL, NULL },
	{ "pushover", "user_file", KT_OPTPATH, G(po.user_file), 0, 0, 0, NULL, NULL },
	{ "pushover", "token", KT_SECRET, G(po.token), 0, 0, 0, NULL, NULL },
	{ "pushover", "token_file", KT_OPTPATH, G(po.token_file), 0, 0, 0, NULL, NULL },
	{ "pushover", "api_url", KT_URL, G(po.api_url), 0, 0, 0, NULL,
	  "https://api.pushover.net/1/messages.json" },
	{ "pushover", "ca_file", KT_OPTPATH, G(po.ca_file), 0, 0, 0, NULL, NULL },
	{ "pushover", "sound", KT_OPTSTR, G(po.sound), 0, 0, 0, NULL, NULL },
	{ "pushover", "device", KT_OPTSTR, G(po.device), 0, 0, 0, NULL, NULL },
	{ "pushover", "timeout_seconds", KT_INT, G(po.timeout_seconds), 1, 300, 0, NULL, "15" },
	{ "api", "allow_delete", KT_BOOL, G(api.allow_delete), 0, 0, 0, NULL, "false" },
};
#undef G
_Static_assert(sizeof conf_gkeys / sizeof conf_gkeys[0] == CONF_NGKEYS, "CONF_NGKEYS");

#define D(f) offsetof(struct conf_downloader, f)
const struct kdef conf_dkeys[] = {
	{ "downloader", "enabled", KT_BOOL, D(enabled), 0, 0, 0, NULL, "true" },
	{ "downloader", "name", KT_OPTSTR, D(name), 0, 0, 0, NULL, NULL },
	{ "downloader", "failure_window_hours", KT_DOUBLE, D(failure_window_hours),
	  0, 8760, 1, NULL, NULL },
	{ "downloader", "min_consecutive_failures", KT_INT, D(min_consecutive_failures),
	  1, 1000, 0, NULL, NULL },
	{ "downloader", "expect_every_hours", KT_DOUBLE, D(expect_every_hours), 0, 8760, 0,
	  NULL, "0" },
};
#undef D
_Static_assert(sizeof conf_dkeys / sizeof conf_dkeys[0] == CONF_NDKEYS, "CONF_NDKEYS");

/* ---------------------------------------------------------------- values */

static int
parse_bool(const char *v, int *out)
{
	static const char *const t[] = { "true", "yes", "on", "1" };
	static const char *const f[] = { "false", "no", "off", "0" };
	size_t i;

	for (i = 0; i < sizeof t / sizeof t[0]; i++) {
		if (strcasecmp(v, t[i]) == 0) {
			*out = 1;
			return 0;
		}
		if (strcasecmp(v, f[i]) == 0) {
			*out = 0;
			return 0;
		}
	}
	return -1;
}

static int
in_range(const struct kdef *k, double x)
{
	if (k->min_excl ? x <= k->min : x < k->min)
		return 0;
	return x <= k->max;
}

/* What a key accepts, for "bad value" messages. */
void
conf_kexpect(const struct kdef *k, char *buf, size_t sz)
{
	switch (k->type) {
	case KT_BOOL:
		snprintf(buf, sz, "true or false");
		break;
	case KT_INT:
		snprintf(buf, sz, "an integer from %g to %g", k->min, k->max);
		break;
	case KT_DOUBLE:
		if (k->min_excl)
			snprintf(buf, sz, "a number above %g, at most %g", k->min, k->max);
		else
			snprintf(buf, sz, "a number from %g to %g", k->min, k->max);
		break;
	case KT_URL:
		snprintf(buf, sz, "an http:// or https:// URL");
		break;
	case KT_OPTSTR:
	case KT_OPTPATH:
		snprintf(buf, sz, "text or nothing");
		break;
	default:
		snprintf(buf, sz, "a non-empty value");
		break;
	}
}

/*
 * conf_kset: parse text v for key k into the field of base.  dir, when not NULL,
 * is the folder relative paths are resolved against.  Returns 0, -1 for a
 * bad value (nothing changed, nothing reported) or DL_ENOMEM.
 */
int
conf_kset(const struct kdef *k, void *base, const char *v, const char *dir)
{
	char *end, *s = NULL;
	double d;
	long l;
	int b;

	switch (k->type) {
	case KT_BOOL:
		if (parse_bool(v, &b) != 0)
			return -1;
		*FIELD(base, k, int) = b;
		return 0;
	case KT_INT:
		errno = 0;
		l = strtol(v, &end, 10);
		if (*v == '\0' || *end != '\0' || errno != 0 || !in_range(k, (double)l))
			return -1;
		*FIELD(base, k, int) = (int)l;
		return 0;
	case KT_DOUBLE:
		errno = 0;
		d = strtod(v, &end);
		if (*v == '\0' || *end != '\0' || errno != 0 || !isfinite(d) || !in_range(k, d))
			return -1;
		*FIELD(base, k, double) = d;
		return 0;
	case KT_URL:
		if (strncmp(v, "https://", 8) != 0 && strncmp(v, "http://", 7) != 0)
			return -1;
		break;
	case KT_STR:
	case KT_PATH:
		if (*v == '\0')
			return -1;
		break;
	case KT_OPTSTR:
	case KT_OPTPATH:
	case KT_SECRET:
		break;
	}
	if (*v != '\0') {
		if ((k->type == KT_PATH || k->type == KT_OPTPATH) && dir != NULL && *v != '/') {
			size_t n = strlen(dir) + strlen(v) + 2;
			if ((s = malloc(n)) != NULL)
				snprintf(s, n, "%s/%s", dir, v);
		} else {
			s = strdup(v);
		}
		if (s == NULL)
			return DL_ENOMEM;
	}
	free(*FIELD(base, k, char *));
	*FIELD(base, k, char *) = s;
	return 0;
}

/* The value of key k in base as text (secrets as "(set)"/"(unset)"). */
int
conf_kget(const struct kdef *k, const void *base, struct strbuf *sb)
{
	const char *s;

	switch (k->type) {
	case KT_BOOL:
		return sb_puts(sb, *FIELD(base, k, const int) ? "true" : "false");
	case KT_INT:
		return sb_printf(sb, "%d", *FIELD(base, k, const int));
	case KT_DOUBLE:
		return sb_printf(sb, "%g", *FIELD(base, k, const double));
	case KT_SECRET:
		return sb_puts(sb, *FIELD(base, k, char *const) ? "(set)" : "(unset)");
	default:
		s = *FIELD(base, k, char *const);
		return sb_puts(sb, s ? s : "");
	}
}

const struct kdef *
conf_gkey_find(const char *sect, const char *key)
{
	size_t i;

	for (i = 0; i < CONF_NGKEYS; i++)
		if (strcmp(conf_gkeys[i].sect, sect) == 0 && strcmp(conf_gkeys[i].key, key) == 0)
			return &conf_gkeys[i];
	return NULL;
}

const struct kdef *
conf_dkey_find(const char *key)
{
	size_t i;

	for (i = 0; i < CONF_NDKEYS; i++)
		if (strcmp(conf_dkeys[i].key, key) == 0)
			return &conf_dkeys[i];
	return NULL;
}

char *
conf_lower_dup(const char *s)
{
	char *d = strdup(s), *p;

	if (d != NULL)
		for (p = d; *p; p++)
			*p = (char)tolower((unsigned char)*p);
	return d;
}

/* ------------------------------------------------------- growing arrays */

int
conf_dl_add(struct conf_priv *p, const char *id, int line, struct conf_downloader **out)
{
	struct conf *c = &p->pub;
	struct conf_downloader *dls, *dl;
	struct kstate (*d)[CONF_NDKEYS];
	size_t i;

	dls = realloc(c->dls, (c->ndls + 1) * sizeof *dls);
	if (dls == NULL)
		return DL_ENOMEM;
	c->dls = dls;
	d = realloc(p->d, (c->ndls + 1) * sizeof *d);
	if (d == NULL)
		return DL_ENOMEM;
	p->d = d;
	dl = &dls[c->ndls];
	memset(dl, 0, sizeof *dl);
	memset(&d[c->ndls], 0, sizeof d[c->ndls]);
	dl->failure_window_hours = -1;
	dl->min_consecutive_failures = -1;
	dl->line = line;
	for (i = 0; i < CONF_NDKEYS; i++)
		if (conf_dkeys[i].def != NULL && conf_kset(&conf_dkeys[i], dl, conf_dkeys[i].def, NULL) != 0)
			return DL_ENOMEM;
	if ((dl->id = conf_lower_dup(id)) == NULL) {
		free(dl->name);
		return DL_ENOMEM;
	}
	c->ndls++;
	*out = dl;
	return DL_OK;
}

/* --------------------------------------------------------------- freeing */

static void
free_secret(char *s)
{
	if (s != NULL) {
		explicit_bzero(s, strlen(s));
		free(s);
	}
}

static void
free_patterns(struct conf_pattern *v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(v[i].text);
	free(v);
}

/* conf_free: releases c (from conf_load) and wipes the secrets; NULL is fine. */
void
conf_free(struct conf *c)
{
	struct conf_priv *p = PRIV(c);
	size_t i, j;

	if (c == NULL)
		return;
	free(c->path);
	for (i = 0; i < CONF_NGKEYS; i++) {
		if (conf_gkeys[i].type == KT_SECRET)
			free_secret(*FIELD(c, &conf_gkeys[i], char *));
		else if (conf_gkeys[i].type >= KT_STR)
			free(*FIELD(c, &conf_gkeys[i], char *));
	}
	for (i = 0; i < c->nsources; i++) {
		struct conf_source *s = &c->sources[i];
		free(s->name);
		for (j = 0; j < s->nfiles; j++)
			free(s->files[j]);
		free(s->files);
		free(s->time_format);
		free(s->timestamp.text);
		free(s->prefix.text);
		free(s->downloader);
		free_patterns(s->success, s->nsuccess);
		free_patterns(s->failure, s->nfailure);
		free_patterns(s->start, s->nstart);
	}
	free(c->sources);
	for (i = 0; i < c->ndls; i++) {
		free(c->dls[i].id);
		free(c->dls[i].name);
	}
	free(c->dls);
	free(p->d);
	free(p->s);
	free(p);
}
