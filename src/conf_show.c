/*
 * conf_show.c — reading the effective configuration: per-downloader
 * lookups, the notifier hash, conf_show and conf_get, and conf_set_check
 * (the validation behind `dlmon config set`).  See conf.h.
 */
#include "conf.h"
#include "conf_int.h"
#include "util.h"

#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const char *const known_names[] = {
	"FastDL", "ImgInn", "Toolzu", "Instagram", "Snapchat", "TikTok", "Forums", "Coppermine",
};

/* Origin of a value as conf_show prints it. */
static void
conf_origin_text(const struct conf *c, const struct kstate *ks, struct strbuf *sb)
{
	switch (ks->origin) {
	case ORIGIN_DEFAULT:
		sb_puts(sb, "default");
		break;
	case ORIGIN_FILE:
		sb_printf(sb, "%s:%d", c->path, ks->file_line);
		break;
	case ORIGIN_DATABASE:
		sb_printf(sb, "database (settings.%s)", ks->row ? ks->row : "monitoring");
		if (ks->file_line > 0)
			sb_printf(sb, ", overrides %s:%d", c->path, ks->file_line);
		break;
	}
}

/* --------------------------------------------------------------- lookups */

/* conf_downloader: the [downloader id] entry, or NULL. */
const struct conf_downloader *
conf_downloader(const struct conf *c, const char *id)
{
	size_t i;

	for (i = 0; c != NULL && id != NULL && i < c->ndls; i++)
		if (strcasecmp(c->dls[i].id, id) == 0)
			return &c->dls[i];
	return NULL;
}

/* conf_downloader_enabled: 1 unless [downloader id] enabled is false. */
int
conf_downloader_enabled(const struct conf *c, const char *id)
{
	const struct conf_downloader *dl = conf_downloader(c, id);

	return dl ? dl->enabled : 1;
}

/* conf_window_hours: the downloader's override, else [monitoring]. */
double
conf_window_hours(const struct conf *c, const char *id)
{
	const struct conf_downloader *dl = conf_downloader(c, id);

	return dl && dl->failure_window_hours > 0 ? dl->failure_window_hours
	                                          : c->mon.failure_window_hours;
}

/* conf_min_failures: the downloader's override, else [monitoring]. */
int
conf_min_failures(const struct conf *c, const char *id)
{
	const struct conf_downloader *dl = conf_downloader(c, id);

	return dl && dl->min_consecutive_failures > 0 ? dl->min_consecutive_failures
	                                              : c->mon.min_consecutive_failures;
}

/* conf_display_name: see conf.h. */
const char *
conf_display_name(const struct conf *c, const char *id)
{
	const struct conf_downloader *dl = conf_downloader(c, id);
	size_t i;

	if (dl != NULL && dl->name != NULL)
		return dl->name;
	for (i = 0; id != NULL && i < sizeof known_names / sizeof known_names[0]; i++)
		if (strcasecmp(known_names[i], id) == 0)
			return known_names[i];
	return id ? id : "";
}

static uint64_t
hash_str(uint64_t h, const char *s)
{
	/* the NUL keeps ("ab","c") apart from ("a","bc") */
	return s ? dl_fnv1a(h, s, strlen(s) + 1) : dl_fnv1a(h, "", 0);
}

/*
 * conf_notifier_hash: see conf.h.  Covers everything that can turn a 4xx
 * into a success: URL, CA file, priority with retry/expire, sound, device,
 * and the credentials.
 */
unsigned long long
conf_notifier_hash(const struct conf *c)
{
	uint64_t h = DL_FNV_INIT;
	int nums[3] = { c->po.priority, c->po.retry, c->po.expire };

	h = hash_str(h, c->po.api_url);
	h = hash_str(h, c->po.ca_file);
	h = dl_fnv1a(h, nums, sizeof nums);
	h = hash_str(h, c->po.sound);
	h = hash_str(h, c->po.device);
	h = hash_str(h, c->po.user);
	h = hash_str(h, c->po.token);
	return (unsigned long long)h;
}

/* ------------------------------------------------------ show and get */

/* A downloader key's effective value and origin (inherited overrides). */
static int
dl_value(const struct conf_priv *p, size_t i, const struct kdef *k, struct strbuf *val,
    struct strbuf *org)
{
	const struct conf *c = &p->pub;
	const struct conf_downloader *dl = &c->dls[i];
	const struct kstate *ks = &p->d[i][k - conf_dkeys];
	int r = DL_OK;

	if (strcmp(k->key, "failure_window_hours") == 0 && dl->failure_window_hours <= 0) {
		r = sb_printf(val, "%g", c->mon.failure_window_hours);
		if (org)
			sb_puts(org, "from monitoring.failure_window_hours");
	} else if (strcmp(k->key, "min_consecutive_failures") == 0 &&
	    dl->min_consecutive_failures <= 0) {
		r = sb_printf(val, "%d", c->mon.min_consecutive_failures);
		if (org)
			sb_puts(org, "from monitoring.min_consecutive_failures");
	} else if (strcmp(k->key, "name") == 0 && dl->name == NULL) {
		r = sb_puts(val, conf_display_name(c, dl->id));
		if (org)
			sb_puts(org, "default");
	} else {
		r = conf_kget(k, dl, val);
		if (org)
			conf_origin_text(c, ks, org);
	}
	return r;
}

/* A source's lines for conf_show: single keys with their origin, lists item by item. */
static void
src_show(const struct conf *c, const struct conf_source *s, const struct src_lines *sl,
    FILE *fp)
{
	static const char *const kn[3] = { "success", "failure", "start" };
	const struct conf_pattern *lists[3] = { s->success, s->failure, s->start };
	size_t ns[3] = { s->nsuccess, s->nfailure, s->nstart };
	size_t i, k;

	fprintf(fp, "source.%s.files =", s->name);
	for (i = 0; i < s->nfiles; i++)
		fprintf(fp, " %s", s->files[i]);
	fprintf(fp, "   # %s:%d\n", c->path, sl->files);
	if (sl->start_at)
		fprintf(fp, "source.%s.start_at = %s   # %s:%d\n", s->name,
		    s->start_at_end ? "end" : "beginning", c->path, sl->start_at);
	else
		fprintf(fp, "source.%s.start_at = %s   # default\n", s->name,
		    s->start_at_end ? "end" : "beginning");
	if (sl->time_format)
		fprintf(fp, "source.%s.time_format = %s   # %s:%d\n", s->name, s->time_format,
		    c->path, sl->time_format);
	else
		fprintf(fp, "source.%s.time_format = %s   # default\n", s->name, s->time_format);
	if (s->downloader)
		fprintf(fp, "source.%s.downloader = %s   # %s:%d\n", s->name, s->downloader,
		    c->path, sl->downloader);
	else
		fprintf(fp, "source.%s.downloader =   # from the (?<downloader>...) group\n",
		    s->name);
	if (s->timestamp.text)
		fprintf(fp, "source.%s.timestamp = %s   # %s:%d\n", s->name, s->timestamp.text,
		    c->path, s->timestamp.line);
	if (s->prefix.text)
		fprintf(fp, "source.%s.prefix = %s   # %s:%d\n", s->name, s->prefix.text,
		    c->path, s->prefix.line);
	for (k = 0; k < 3; k++)
		for (i = 0; i < ns[k]; i++)
			fprintf(fp, "source.%s.%s = %s   # %s:%d\n", s->name, kn[k],
			    lists[k][i].text, c->path, lists[k][i].line);
}

/* conf_show: see conf.h.  Secrets appear only as "(set)"/"(unset)". */
void
conf_show(const struct conf *c, FILE *fp)
{
	const struct conf_priv *p = CPRIV(c);
	struct strbuf val = { 0 }, org = { 0 };
	size_t i, j;

	for (i = 0; i < CONF_NGKEYS; i++) {
		sb_reset(&val);
		sb_reset(&org);
		conf_kget(&conf_gkeys[i], c, &val);
		conf_origin_text(c, &p->g[i], &org);
		fprintf(fp, "%s.%s = %s   # %s\n", conf_gkeys[i].sect, conf_gkeys[i].key,
		    val.buf ? val.buf : "", org.buf ? org.buf : "");
	}
	for (i = 0; i < c->nsources; i++)
		src_show(c, &c->sources[i], &p->s[i], fp);
	for (i = 0; i < c->ndls; i++) {
		for (j = 0; j < CONF_NDKEYS; j++) {
			sb_reset(&val);
			sb_reset(&org);
			dl_value(p, i, &conf_dkeys[j], &val, &org);
			fprintf(fp, "downloader.%s.%s = %s   # %s\n", c->dls[i].id, conf_dkeys[j].key,
			    val.buf ? val.buf : "", org.buf ? org.buf : "");
		}
	}
	sb_free(&val);
	sb_free(&org);
}

/*
 * conf_get: see conf.h.  Keys: "section.key" of the fixed sections, the
 * settings row's names ("failure_window_hours", "pushover.priority",
 * "downloaders.X"), "downloader.X.key" and "source.NAME.key" (lists joined
 * by newlines, files by spaces).  An unknown key is reported: DL_ECONF.
 */
int
conf_get(const struct conf *c, const char *key, char **value)
{
	const struct conf_priv *p = CPRIV(c);
	struct strbuf sb = { 0 };
	const char *dot = strchr(key, '.'), *last = strrchr(key, '.');
	int r = DL_ECONF;
	size_t i;

	*value = NULL;
	for (i = 0; i < CONF_NGKEYS; i++) {
		size_t sl = strlen(conf_gkeys[i].sect);
		if ((dot && strncmp(key, conf_gkeys[i].sect, sl) == 0 && key[sl] == '.' &&
		    strcmp(key + sl + 1, conf_gkeys[i].key) == 0) ||
		    (conf_gkeys[i].json && strcmp(key, conf_gkeys[i].json) == 0)) {
			r = conf_kget(&conf_gkeys[i], c, &sb);
			goto out;
		}
	}
	if (strncmp(key, "downloaders.", 12) == 0 && key[12] != '\0') {
		r = sb_puts(&sb, conf_downloader_enabled(c, key + 12) ? "true" : "false");
		goto out;
	}
	if (strncmp(key, "downloader.", 11) == 0 && last > key + 11) {
		const struct kdef *k = conf_dkey_find(last + 1);
		for (i = 0; k != NULL && i < c->ndls; i++) {
			if (strlen(c->dls[i].id) == (size_t)(last - key - 11) &&
			    strncasecmp(c->dls[i].id, key + 11, (size_t)(last - key - 11)) == 0) {
				r = dl_value(p, i, k, &sb, NULL);
				goto out;
			}
		}
		/* a downloader without a section has the defaults */
		if (k != NULL) {
			struct conf_downloader d0 = { .enabled = 1 };
			if (strcmp(k->key, "name") == 0) {
				char *id = strndup(key + 11, (size_t)(last - key - 11));
				r = id ? sb_puts(&sb, conf_display_name(c, id)) : DL_ENOMEM;
				free(id);
			} else if (strcmp(k->key, "failure_window_hours") == 0) {
				r = sb_printf(&sb, "%g", c->mon.failure_window_hours);
			} else if (strcmp(k->key, "min_consecutive_failures") == 0) {
				r = sb_printf(&sb, "%d", c->mon.min_consecutive_failures);
			} else {
				r = conf_kget(k, &d0, &sb);
			}
			goto out;
		}
	}
	if (strncmp(key, "source.", 7) == 0 && last > key + 7) {
		size_t nl = (size_t)(last - key - 7);
		const char *kn = last + 1;
		for (i = 0; i < c->nsources; i++) {
			const struct conf_source *s = &c->sources[i];
			const struct conf_pattern *list = NULL;
			size_t n = 0, j;

			if (strlen(s->name) != nl || strncmp(s->name, key + 7, nl) != 0)
				continue;
			r = DL_OK;
			if (strcmp(kn, "files") == 0)
				for (j = 0; j < s->nfiles && r == DL_OK; j++)
					r = sb_printf(&sb, "%s%s", j ? " " : "", s->files[j]);
			else if (strcmp(kn, "start_at") == 0)
				r = sb_puts(&sb, s->start_at_end ? "end" : "beginning");
			else if (strcmp(kn, "time_format") == 0)
				r = sb_puts(&sb, s->time_format);
			else if (strcmp(kn, "downloader") == 0)
				r = sb_puts(&sb, s->downloader ? s->downloader : "");
			else if (strcmp(kn, "timestamp") == 0)
				r = sb_puts(&sb, s->timestamp.text ? s->timestamp.text : "");
			else if (strcmp(kn, "prefix") == 0)
				r = sb_puts(&sb, s->prefix.text ? s->prefix.text : "");
			else if (strcmp(kn, "success") == 0)
				list = s->success, n = s->nsuccess;
			else if (strcmp(kn, "failure") == 0)
				list = s->failure, n = s->nfailure;
			else if (strcmp(kn, "start") == 0)
				list = s->start, n = s->nstart;
			else
				r = DL_ECONF;
			for (j = 0; j < n && r == DL_OK; j++)
				r = sb_printf(&sb, "%s%s", j ? "\n" : "", list[j].text);
			goto out;
		}
	}
out:
	if (r == DL_OK) {
		*value = sb.buf ? sb.buf : strdup("");
		if (*value == NULL)
			r = DL_ENOMEM;
		sb.buf = NULL;
	} else if (r == DL_ECONF) {
		msg_err("unknown setting '%s'", key);
	} else {
		msg_err("out of memory");
	}
	sb_free(&sb);
	return r;
}


/* ------------------------------------------------------------------- set */

/* A downloader id the row can hold as a plain JSON path member. */
static int
set_id_ok(const char *id, size_t len)
{
	size_t i;

	if (len == 0)
		return 0;
	for (i = 0; i < len; i++)
		if (!isalnum((unsigned char)id[i]) && id[i] != '_' && id[i] != '-')
			return 0;
	return 1;
}

/* The key of the table that KEY names (row or file spelling), or NULL. */
static const struct kdef *
set_gkey(const char *key)
{
	size_t i, sl;

	for (i = 0; i < CONF_NGKEYS; i++) {
		const struct kdef *k = &conf_gkeys[i];
		sl = strlen(k->sect);
		if ((k->json && strcmp(key, k->json) == 0) ||
		    (strncmp(key, k->sect, sl) == 0 && key[sl] == '.' &&
		    strcmp(key + sl + 1, k->key) == 0))
			return k;
	}
	return NULL;
}

/*
 * The value as a JSON literal.  Numbers are printed back from what the
 * reader parsed ("06" becomes 6), with the shortest form that reads back
 * as the same double.
 */
static int
set_literal(const struct kdef *k, const void *base, char **json)
{
	struct strbuf sb = { 0 };
	double d;
	int r;

	switch (k->type) {
	case KT_BOOL:
		r = sb_puts(&sb, *FIELD(base, k, const int) ? "true" : "false");
		break;
	case KT_INT:
		r = sb_printf(&sb, "%d", *FIELD(base, k, const int));
		break;
	default:
		d = *FIELD(base, k, const double);
		r = sb_printf(&sb, "%.15g", d);
		if (r == DL_OK && strtod(sb.buf, NULL) != d) {
			sb_reset(&sb);
			r = sb_printf(&sb, "%.17g", d);
		}
		break;
	}
	if (r != DL_OK) {
		sb_free(&sb);
		return DL_ENOMEM;
	}
	*json = sb.buf;
	return DL_OK;
}

/* conf_set_check: see conf.h.  Only keys of the table that carry a row
 * name, and downloaders' enabled flags, can be set. */
int
conf_set_check(const char *key, const char *value, char **path, char **json)
{
	struct conf scratch;
	struct conf_downloader dscratch;
	const struct kdef *k;
	const char *id = NULL;
	void *base;
	size_t idlen = 0;
	char ex[80], *p = NULL, *lid, *q;
	int r;

	*path = *json = NULL;
	memset(&scratch, 0, sizeof scratch);
	memset(&dscratch, 0, sizeof dscratch);
	if (strncmp(key, "downloaders.", 12) == 0) {
		id = key + 12;
		idlen = strlen(id);
	} else if (strncmp(key, "downloader.", 11) == 0 && strrchr(key, '.') > key + 11 &&
	    strcmp(strrchr(key, '.'), ".enabled") == 0) {
		id = key + 11;
		idlen = (size_t)(strrchr(key, '.') - id);
	}
	if (id != NULL) {
		if (!set_id_ok(id, idlen)) {
			msg_err("config set: %s: bad downloader name (expected letters, digits, "
			    "'_' or '-')", key);
			return DL_ECONF;
		}
		k = &conf_dkeys[DK_ENABLED];
		base = &dscratch;
	} else if ((k = set_gkey(key)) != NULL && k->json != NULL) {
		base = &scratch;
	} else if (k != NULL || strncmp(key, "source.", 7) == 0 ||
	    strncmp(key, "downloader.", 11) == 0) {
		msg_err("config set: %s can only be set in the configuration file "
		    "(the settings row 'monitoring' does not hold it)", key);
		return DL_ECONF;
	} else {
		msg_err("config set: unknown setting '%s'", key);
		return DL_ECONF;
	}
	/* kset only stores numbers and booleans here: nothing to free */
	r = conf_kset(k, base, value, NULL);
	if (r == DL_ENOMEM)
		goto nomem;
	if (r != 0) {
		conf_kexpect(k, ex, sizeof ex);
		msg_err("config set: %s: bad value '%s' (expected %s)", key, value, ex);
		return DL_ECONF;
	}
	if (id != NULL) {
		if ((lid = strndup(id, idlen)) == NULL)
			goto nomem;
		for (q = lid; *q; q++)
			*q = (char)tolower((unsigned char)*q);
		r = asprintf(&p, "$.downloaders.%s", lid);
		free(lid);
	} else {
		r = asprintf(&p, "$.%s", k->json);
	}
	if (r < 0)
		goto nomem;
	if (set_literal(k, base, json) != DL_OK) {
		free(p);
		goto nomem;
	}
	*path = p;
	return DL_OK;
nomem:
	msg_err("out of memory");
	return DL_ENOMEM;
}

/* conf_path: see conf.h. */
const char *
conf_path(const char *given)
{
	const char *env;

	if (given != NULL)
		return given;
	env = getenv("DLMON_CONFIG");
	return env != NULL && *env != '\0' ? env : CONF_DEFAULT_PATH;
}
