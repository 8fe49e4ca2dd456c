/*
 * conf.c — the configuration: built-in defaults < INI file < the database's
 * settings rows.  See conf.h and dlmon.conf(5).  This file holds the key
 * tables, the INI loader and conf_free; conf_json.c the settings-row
 * overlays; conf_show.c the lookups, conf_show, conf_get and conf_set_check.
 *
 * Every scalar key is described once, in a table (conf_gkeys for the fixed
 * sections, conf_dkeys for [downloader NAME]); the INI handler, the JSON overlay,
 * conf_show and conf_get all go through it, so they cannot drift apart.
 *
 * libinih is fed through our own reader (conf_reader): it counts lines (the
 * handler gets none), refuses lines inih would silently cut, refuses
 * indented lines (inih would glue them to the previous value), and sees
 * section headers, so that empty and repeated sections are noticed too.
 */
#include "conf.h"
#include "conf_int.h"
#include "util.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <ini.h>
#include <math.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

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

static const char *const sections[] = { "monitoring", "database", "pushover", "api" };
#define NSECTIONS (sizeof sections / sizeof sections[0])

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

static int
src_add(struct conf_priv *p, const char *name, int line)
{
	struct conf *c = &p->pub;
	struct conf_source *srcs, *s;
	struct src_lines *sl;

	srcs = realloc(c->sources, (c->nsources + 1) * sizeof *srcs);
	if (srcs == NULL)
		return DL_ENOMEM;
	c->sources = srcs;
	sl = realloc(p->s, (c->nsources + 1) * sizeof *sl);
	if (sl == NULL)
		return DL_ENOMEM;
	p->s = sl;
	s = &srcs[c->nsources];
	memset(s, 0, sizeof *s);
	memset(&sl[c->nsources], 0, sizeof *sl);
	s->line = line;
	s->name = strdup(name);
	s->time_format = strdup("%Y-%m-%d %H:%M:%S");
	if (s->name == NULL || s->time_format == NULL) {
		free(s->name);
		free(s->time_format);
		return DL_ENOMEM;
	}
	c->nsources++;
	return DL_OK;
}

static int
pat_add(struct conf_pattern **v, size_t *n, const char *text, int line)
{
	struct conf_pattern *nv = realloc(*v, (*n + 1) * sizeof **v);

	if (nv == NULL)
		return DL_ENOMEM;
	*v = nv;
	if ((nv[*n].text = strdup(text)) == NULL)
		return DL_ENOMEM;
	nv[*n].line = line;
	(*n)++;
	return DL_OK;
}

/* Appends the space-separated globs of v, resolved against dir. */
static int
files_add(struct conf_source *s, const char *v, const char *dir)
{
	const char *p = v;

	while (*p) {
		size_t len = strcspn(p, " \t");
		char **nf, *g;

		if (len == 0) {
			p++;
			continue;
		}
		nf = realloc(s->files, (s->nfiles + 1) * sizeof *nf);
		if (nf == NULL)
			return DL_ENOMEM;
		s->files = nf;
		if (*p != '/' && dir != NULL) {
			size_t n = strlen(dir) + len + 2;
			if ((g = malloc(n)) != NULL)
				snprintf(g, n, "%s/%.*s", dir, (int)len, p);
		} else {
			g = strndup(p, len);
		}
		if (g == NULL)
			return DL_ENOMEM;
		s->files[s->nfiles++] = g;
		p += len;
	}
	return DL_OK;
}

/* ------------------------------------------------------------ the loader */

enum sect_kind { S_NONE, S_GLOBAL, S_SOURCE, S_DOWNLOADER };

struct load {
	struct conf_priv *p;
	const char *path;        /* the configuration file, for messages */
	char *dir;               /* its folder, NULL when it is the cwd */
	FILE *fp;
	int line;                /* line last handed to inih */
	enum sect_kind kind;
	const char *gsect;       /* S_GLOBAL: section name */
	size_t idx;              /* S_SOURCE / S_DOWNLOADER: index */
	int seen[NSECTIONS];     /* header line of each fixed section */
	int err, err_line;       /* first error, reported after the parse */
	struct strbuf msg;
	char *buf;               /* getline buffer */
	size_t bufcap;
};

static void fail(struct load *ld, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Records the first error, at the current line: "FILE:LINE: ...". */
static void
fail(struct load *ld, const char *fmt, ...)
{
	va_list ap;
	char *t = NULL;
	int n;

	if (ld->err)
		return;
	ld->err = DL_ECONF;
	ld->err_line = ld->line;
	va_start(ap, fmt);
	n = vasprintf(&t, fmt, ap);
	va_end(ap);
	if (n < 0 || sb_printf(&ld->msg, "%s:%d: %s", ld->path, ld->line, t) != DL_OK)
		ld->err = DL_ENOMEM;
	if (n >= 0)
		free(t);
}

/* A section header seen by the reader: check it and make it current. */
static void
open_section(struct load *ld, const char *text, size_t len)
{
	char *t = strndup(text, len), *word, *name;
	size_t i;

	if (t == NULL) {
		ld->err = DL_ENOMEM;
		return;
	}
	word = t + strspn(t, " \t");
	name = word + strcspn(word, " \t");
	if (*name) {
		*name++ = '\0';
		name += strspn(name, " \t");
		for (i = strlen(name); i > 0 && (name[i - 1] == ' ' || name[i - 1] == '\t'); i--)
			name[i - 1] = '\0';
	}
	ld->kind = S_NONE;
	for (i = 0; i < NSECTIONS; i++)
		if (strcmp(word, sections[i]) == 0)
			break;
	if (i < NSECTIONS) {
		if (*name)
			fail(ld, "section [%s] takes no name", word);
		else if (ld->seen[i])
			fail(ld, "section [%s] repeated (first at line %d)", word, ld->seen[i]);
		ld->seen[i] = ld->line;
		ld->kind = S_GLOBAL;
		ld->gsect = sections[i];
	} else if (strcmp(word, "source") == 0 || strcmp(word, "downloader") == 0) {
		int is_src = word[0] == 's';
		struct conf *c = &ld->p->pub;
		size_t n = is_src ? c->nsources : c->ndls;

		if (*name == '\0') {
			fail(ld, "section [%s] needs a name: [%s NAME]", word, word);
			goto out;
		}
		for (i = 0; i < n; i++) {
			if (is_src ? strcmp(c->sources[i].name, name) == 0
			           : strcasecmp(c->dls[i].id, name) == 0) {
				fail(ld, "section [%s %s] repeated (first at line %d)", word, name,
				    is_src ? c->sources[i].line : c->dls[i].line);
				goto out;
			}
		}
		if (is_src) {
			if (src_add(ld->p, name, ld->line) != DL_OK)
				ld->err = DL_ENOMEM;
		} else {
			struct conf_downloader *dl;
			if (conf_dl_add(ld->p, name, ld->line, &dl) != DL_OK)
				ld->err = DL_ENOMEM;
		}
		ld->kind = is_src ? S_SOURCE : S_DOWNLOADER;
		ld->idx = n;
	} else {
		fail(ld, "unknown section [%s]", word);
	}
out:
	free(t);
}

/*
 * The ini_reader: one line per call, like fgets, but a line inih would cut
 * (CONF_MAX_LINE bytes or more), an indented line (inih would make it a
 * continuation) or a NUL byte is an error, and the parse stops at the first
 * error of any kind by returning NULL (end of input).
 */
static char *
conf_reader(char *str, int num, void *stream)
{
	struct load *ld = stream;
	ssize_t n;
	size_t len, limit;
	const char *s;

	if (ld->err)
		return NULL;
	n = getline(&ld->buf, &ld->bufcap, ld->fp);
	if (n < 0) {
		if (ferror(ld->fp)) {
			ld->line++;
			fail(ld, "read error: %s", strerror(errno));
		}
		return NULL;
	}
	ld->line++;
	len = (size_t)n;
	if (len > 0 && ld->buf[len - 1] == '\n')
		len--;
	limit = CONF_MAX_LINE;
	if (num > 1 && (size_t)num - 1 < limit)
		limit = (size_t)num - 1;
	if (len >= limit) {
		fail(ld, "line too long (%zu bytes, at most %zu); write long patterns with prefix =",
		    len, limit - 1);
		return NULL;
	}
	if (memchr(ld->buf, '\0', len) != NULL) {
		fail(ld, "NUL byte in line");
		return NULL;
	}
	memcpy(str, ld->buf, (size_t)n);
	str[n] = '\0';

	s = ld->buf;
	if (ld->line == 1 && strncmp(s, "\xEF\xBB\xBF", 3) == 0)
		s += 3;
	if (*s == ' ' || *s == '\t') {
		const char *t = s + strspn(s, " \t\r\n");
		if (*t != '\0' && *t != ';' && *t != '#') {
			fail(ld, "indented line: continuation lines are not supported "
			    "(remove the indentation; repeat the key for another pattern)");
			return NULL;
		}
	} else if (*s == '[') {
		const char *e = memchr(s, ']', len - (size_t)(s - ld->buf));
		if (e != NULL)   /* else inih reports the syntax error */
			open_section(ld, s + 1, (size_t)(e - s - 1));
	}
	return ld->err ? NULL : str;
}

/*
 * A file holding a secret must not be readable by group or others.  The
 * message names the path and its mode rather than a line.
 */
static void
check_private_fd(struct load *ld, int fd, const char *path)
{
	struct stat st;

	if (fstat(fd, &st) != 0) {
		fail(ld, "%s: %s", path, strerror(errno));
		return;
	}
	if ((st.st_mode & (S_IRGRP | S_IROTH)) == 0 || ld->err)
		return;
	ld->err = DL_ECONF;
	ld->err_line = ld->line;
	if (sb_printf(&ld->msg, "%s: holds a secret but is readable by group/others "
	    "(mode %04o); chmod 600 %s", path, (unsigned)(st.st_mode & 07777), path) != DL_OK)
		ld->err = DL_ENOMEM;
}

static void
global_key(struct load *ld, const char *name, const char *value)
{
	struct conf_priv *p = ld->p;
	const struct kdef *k = conf_gkey_find(ld->gsect, name);
	struct kstate *ks;
	char ex[80];
	int r;

	if (k == NULL) {
		fail(ld, "unknown key '%s' in [%s]", name, ld->gsect);
		return;
	}
	ks = &p->g[k - conf_gkeys];
	if (ks->origin == ORIGIN_FILE) {
		fail(ld, "%s: repeated (already set at line %d)", name, ks->file_line);
		return;
	}
	if (strcmp(ld->gsect, "pushover") == 0 && *value &&
	    (strncmp(name, "user", 4) == 0 || strncmp(name, "token", 5) == 0)) {
		/* user and user_file (token and token_file) exclude each other */
		char other[16];
		const struct kdef *ok;

		snprintf(other, sizeof other, "%s%s", name[0] == 'u' ? "user" : "token",
		    strchr(name, '_') ? "" : "_file");
		ok = conf_gkey_find("pushover", other);
		if (ok != NULL && *FIELD(&p->pub, ok, char *) != NULL) {
			fail(ld, "%s and %s are both set (line %d); keep one", name, other,
			    p->g[ok - conf_gkeys].file_line);
			return;
		}
		if (k->type == KT_SECRET) {
			check_private_fd(ld, fileno(ld->fp), ld->path);
			if (ld->err)
				return;
		}
	}
	r = conf_kset(k, &p->pub, value, ld->dir);
	if (r == DL_ENOMEM) {
		ld->err = DL_ENOMEM;
		return;
	}
	if (r != 0) {
		conf_kexpect(k, ex, sizeof ex);
		fail(ld, "%s: bad value '%s' (expected %s)", name, value, ex);
		return;
	}
	ks->origin = ORIGIN_FILE;
	ks->file_line = ld->line;
}

static void
downloader_key(struct load *ld, const char *name, const char *value)
{
	struct conf_priv *p = ld->p;
	const struct kdef *k = conf_dkey_find(name);
	struct kstate *ks;
	char ex[80];
	int r;

	if (k == NULL) {
		fail(ld, "unknown key '%s' in [downloader %s]", name, p->pub.dls[ld->idx].id);
		return;
	}
	ks = &p->d[ld->idx][k - conf_dkeys];
	if (ks->origin == ORIGIN_FILE) {
		fail(ld, "%s: repeated (already set at line %d)", name, ks->file_line);
		return;
	}
	r = conf_kset(k, &p->pub.dls[ld->idx], value, NULL);
	if (r == DL_ENOMEM) {
		ld->err = DL_ENOMEM;
		return;
	}
	if (r != 0) {
		conf_kexpect(k, ex, sizeof ex);
		fail(ld, "%s: bad value '%s' (expected %s)", name, value, ex);
		return;
	}
	ks->origin = ORIGIN_FILE;
	ks->file_line = ld->line;
}

/* Single-valued source keys must not repeat. */
static int
src_once(struct load *ld, const char *name, int *line)
{
	if (*line) {
		fail(ld, "%s: repeated (already set at line %d)", name, *line);
		return -1;
	}
	*line = ld->line;
	return 0;
}

static void
source_key(struct load *ld, const char *name, const char *value)
{
	struct conf_source *s = &ld->p->pub.sources[ld->idx];
	struct src_lines *sl = &ld->p->s[ld->idx];
	int r = DL_OK;

	if (strcmp(name, "success") == 0 || strcmp(name, "failure") == 0 ||
	    strcmp(name, "start") == 0 || strcmp(name, "timestamp") == 0 ||
	    strcmp(name, "prefix") == 0) {
		if (*value == '\0') {
			fail(ld, "%s: empty pattern", name);
			return;
		}
	}
	if (strcmp(name, "files") == 0) {
		if (*value == '\0') {
			fail(ld, "files: bad value '' (expected one or more globs)");
			return;
		}
		if (sl->files == 0)
			sl->files = ld->line;
		r = files_add(s, value, ld->dir);
	} else if (strcmp(name, "success") == 0) {
		r = pat_add(&s->success, &s->nsuccess, value, ld->line);
	} else if (strcmp(name, "failure") == 0) {
		r = pat_add(&s->failure, &s->nfailure, value, ld->line);
	} else if (strcmp(name, "start") == 0) {
		r = pat_add(&s->start, &s->nstart, value, ld->line);
	} else if (strcmp(name, "timestamp") == 0 || strcmp(name, "prefix") == 0) {
		struct conf_pattern *cp = name[0] == 't' ? &s->timestamp : &s->prefix;
		if (src_once(ld, name, &cp->line) != 0)
			return;
		if ((cp->text = strdup(value)) == NULL)
			r = DL_ENOMEM;
	} else if (strcmp(name, "start_at") == 0) {
		if (src_once(ld, name, &sl->start_at) != 0)
			return;
		if (strcmp(value, "beginning") == 0)
			s->start_at_end = 0;
		else if (strcmp(value, "end") == 0)
			s->start_at_end = 1;
		else
			fail(ld, "start_at: bad value '%s' (expected beginning or end)", value);
	} else if (strcmp(name, "time_format") == 0) {
		if (src_once(ld, name, &sl->time_format) != 0)
			return;
		if (*value == '\0') {
			fail(ld, "time_format: bad value '' (expected a strptime format)");
			return;
		}
		free(s->time_format);
		if ((s->time_format = strdup(value)) == NULL)
			r = DL_ENOMEM;
	} else if (strcmp(name, "downloader") == 0) {
		if (src_once(ld, name, &sl->downloader) != 0)
			return;
		if (*value == '\0' || value[strcspn(value, " \t")] != '\0') {
			fail(ld, "downloader: bad value '%s' (expected a name without spaces)", value);
			return;
		}
		if ((s->downloader = conf_lower_dup(value)) == NULL)
			r = DL_ENOMEM;
	} else {
		fail(ld, "unknown key '%s' in [source %s]", name, s->name);
	}
	if (r != DL_OK)
		ld->err = DL_ENOMEM;
}

static int
on_key(void *user, const char *section, const char *name, const char *value)
{
	struct load *ld = user;

	(void)section;   /* ours, from the reader, also knows empty sections */
	if (ld->err)
		return 0;
	switch (ld->kind) {
	case S_NONE:
		fail(ld, "%s: key outside any section", name);
		break;
	case S_GLOBAL:
		global_key(ld, name, value);
		break;
	case S_SOURCE:
		source_key(ld, name, value);
		break;
	case S_DOWNLOADER:
		downloader_key(ld, name, value);
		break;
	}
	return ld->err == 0;
}

static int
has_dl_group(const char *pat)
{
	return pat != NULL && (strstr(pat, "(?<downloader>") || strstr(pat, "(?P<downloader>") ||
	    strstr(pat, "(?'downloader'"));
}

/* After the parse: what only the whole section can tell. */
static void
check_sources(struct load *ld)
{
	struct conf *c = &ld->p->pub;
	size_t i, j, k;

	for (i = 0; i < c->nsources && !ld->err; i++) {
		struct conf_source *s = &c->sources[i];
		struct conf_pattern *lists[3] = { s->success, s->failure, s->start };
		size_t ns[3] = { s->nsuccess, s->nfailure, s->nstart };
		static const char *const kn[3] = { "success", "failure", "start" };

		ld->line = s->line;
		if (s->nfiles == 0) {
			fail(ld, "[source %s]: no files = key", s->name);
		} else if (s->nsuccess == 0 && s->nfailure == 0) {
			fail(ld, "[source %s]: no success = or failure = pattern", s->name);
		} else if (s->downloader == NULL && !has_dl_group(s->prefix.text)) {
			for (k = 0; k < 3 && !ld->err; k++) {
				for (j = 0; j < ns[k] && !ld->err; j++) {
					if (has_dl_group(lists[k][j].text))
						continue;
					ld->line = lists[k][j].line;
					fail(ld, "%s: pattern has no (?<downloader>...) group and "
					    "[source %s] has no downloader = key", kn[k], s->name);
				}
			}
		}
	}
}

/* Reads the first line of a *_file secret, trimmed; it must be private. */
static void
read_secret(struct load *ld, const struct kdef *fk, const struct kdef *sk)
{
	struct conf_priv *p = ld->p;
	const char *path = *FIELD(&p->pub, fk, char *);
	char *line = NULL, *b, *e;
	size_t cap = 0;
	FILE *fp = NULL;
	ssize_t n;

	if (path == NULL)
		return;
	ld->line = p->g[fk - conf_gkeys].file_line;
	if ((fp = fopen(path, "r")) == NULL) {
		fail(ld, "%s: %s: %s", fk->key, path, strerror(errno));
		goto out;
	}
	check_private_fd(ld, fileno(fp), path);
	if (ld->err)
		goto out;
	n = getline(&line, &cap, fp);
	if (n < 0 && ferror(fp)) {
		fail(ld, "%s: %s: %s", fk->key, path, strerror(errno));
		goto out;
	}
	b = e = NULL;
	if (n > 0) {
		b = line + strspn(line, " \t\r\n");
		for (e = b + strlen(b); e > b && isspace((unsigned char)e[-1]); e--)
			;
	}
	if (e == b) {
		fail(ld, "%s: %s: empty (the secret goes on its first line)", fk->key, path);
		goto out;
	}
	*e = '\0';
	if ((*FIELD(&p->pub, sk, char *) = strdup(b)) == NULL) {
		ld->err = DL_ENOMEM;
		goto out;
	}
	p->g[sk - conf_gkeys].origin = ORIGIN_FILE;
	p->g[sk - conf_gkeys].file_line = ld->line;
out:
	if (line != NULL) {
		explicit_bzero(line, cap);
		free(line);
	}
	if (fp != NULL)
		fclose(fp);
}

static struct conf_priv *
conf_new(void)
{
	struct conf_priv *p = calloc(1, sizeof *p);
	size_t i;

	if (p == NULL)
		return NULL;
	for (i = 0; i < CONF_NGKEYS; i++) {
		if (conf_gkeys[i].def != NULL && conf_kset(&conf_gkeys[i], &p->pub, conf_gkeys[i].def, NULL) != 0) {
			conf_free(&p->pub);
			return NULL;
		}
	}
	return p;
}

/*
 * conf_load: see conf.h.  The file is read once through conf_reader; the
 * first error of any kind (ours or inih's syntax error) is reported, alone.
 */
int
conf_load(const char *path, struct conf **out)
{
	return conf_load_flags(path, 0, out);
}

int
conf_load_flags(const char *path, unsigned flags, struct conf **out)
{
	struct load ld;
	const char *slash;
	int r, ret = DL_OK;

	*out = NULL;
	memset(&ld, 0, sizeof ld);
	ld.path = path;
	if ((ld.p = conf_new()) == NULL || (ld.p->pub.path = strdup(path)) == NULL) {
		ret = DL_ENOMEM;
		goto out;
	}
	slash = strrchr(path, '/');
	if (slash != NULL && (ld.dir = strndup(path, slash == path ? 1 : (size_t)(slash - path))) == NULL) {
		ret = DL_ENOMEM;
		goto out;
	}
	if ((ld.fp = fopen(path, "r")) == NULL) {
		msg_err("%s: %s", path, strerror(errno));
		ret = DL_ECONF;
		goto out;
	}
	r = ini_parse_stream(conf_reader, &ld, on_key, &ld);
	if (r > 0 && (!ld.err || r < ld.err_line) && ld.err != DL_ENOMEM) {
		/* inih's own complaint: a line that is neither [section] nor key = value */
		sb_reset(&ld.msg);
		ld.err = 0;
		ld.line = r;
		fail(&ld, "syntax error (expected [section], key = value or a ; comment)");
	} else if (r < 0 && !ld.err) {
		ld.err = DL_ENOMEM;
	}
	if (!ld.err)
		check_sources(&ld);
	if (!ld.err && !(flags & CONF_NO_SECRETS)) {
		read_secret(&ld, conf_gkey_find("pushover", "user_file"), conf_gkey_find("pushover", "user"));
		read_secret(&ld, conf_gkey_find("pushover", "token_file"), conf_gkey_find("pushover", "token"));
	}
	if (ld.err == DL_ENOMEM) {
		msg_err("%s: out of memory", path);
		ret = DL_ENOMEM;
		goto out;
	}
	if (ld.err) {
		msg_err("%s", ld.msg.buf);
		ret = DL_ECONF;
		goto out;
	}
	msg_verbose("%s: %zu sources, %zu downloader sections", path,
	    ld.p->pub.nsources, ld.p->pub.ndls);
	*out = &ld.p->pub;
	ld.p = NULL;
out:
	if (ld.fp != NULL)
		fclose(ld.fp);
	if (ld.p != NULL)
		conf_free(&ld.p->pub);
	free(ld.dir);
	free(ld.buf);
	sb_free(&ld.msg);
	return ret;
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
