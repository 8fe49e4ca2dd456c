/* conf_ini.c — the INI reader for conf_load: lines, section headers and the key handlers. */
#include "conf.h"
#include "conf_int.h"
#include "util.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const char *const sections[] = { "monitoring", "database", "pushover", "api" };
#define NSECTIONS (sizeof sections / sizeof sections[0])
_Static_assert(NSECTIONS == CONF_NSECTIONS, "CONF_NSECTIONS");

/* ------------------------------------------------------- growing arrays */

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

/* Records the first error, at the current line: "FILE:LINE: ...". */
void
conf_fail(struct load *ld, const char *fmt, ...)
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
			conf_fail(ld, "section [%s] takes no name", word);
		else if (ld->seen[i])
			conf_fail(ld, "section [%s] repeated (first at line %d)", word, ld->seen[i]);
		ld->seen[i] = ld->line;
		ld->kind = S_GLOBAL;
		ld->gsect = sections[i];
	} else if (strcmp(word, "source") == 0 || strcmp(word, "downloader") == 0) {
		int is_src = word[0] == 's';
		struct conf *c = &ld->p->pub;
		size_t n = is_src ? c->nsources : c->ndls;

		if (*name == '\0') {
			conf_fail(ld, "section [%s] needs a name: [%s NAME]", word, word);
			goto out;
		}
		for (i = 0; i < n; i++) {
			if (is_src ? strcmp(c->sources[i].name, name) == 0
			           : strcasecmp(c->dls[i].id, name) == 0) {
				conf_fail(ld, "section [%s %s] repeated (first at line %d)", word, name,
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
		conf_fail(ld, "unknown section [%s]", word);
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
char *
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
			conf_fail(ld, "read error: %s", strerror(errno));
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
		conf_fail(ld, "line too long (%zu bytes, at most %zu); write long patterns with prefix =",
		    len, limit - 1);
		return NULL;
	}
	if (memchr(ld->buf, '\0', len) != NULL) {
		conf_fail(ld, "NUL byte in line");
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
			conf_fail(ld, "indented line: continuation lines are not supported "
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

static void
global_key(struct load *ld, const char *name, const char *value)
{
	struct conf_priv *p = ld->p;
	const struct kdef *k = conf_gkey_find(ld->gsect, name);
	struct kstate *ks;
	char ex[80];
	int r;

	if (k == NULL) {
		conf_fail(ld, "unknown key '%s' in [%s]", name, ld->gsect);
		return;
	}
	ks = &p->g[k - conf_gkeys];
	if (ks->origin == ORIGIN_FILE) {
		conf_fail(ld, "%s: repeated (already set at line %d)", name, ks->file_line);
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
			conf_fail(ld, "%s and %s are both set (line %d); keep one", name, other,
			    p->g[ok - conf_gkeys].file_line);
			return;
		}
		if (k->type == KT_SECRET) {
			conf_check_private_fd(ld, fileno(ld->fp), ld->path);
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
		conf_fail(ld, "%s: bad value '%s' (expected %s)", name, value, ex);
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
		conf_fail(ld, "unknown key '%s' in [downloader %s]", name, p->pub.dls[ld->idx].id);
		return;
	}
	ks = &p->d[ld->idx][k - conf_dkeys];
	if (ks->origin == ORIGIN_FILE) {
		conf_fail(ld, "%s: repeated (already set at line %d)", name, ks->file_line);
		return;
	}
	r = conf_kset(k, &p->pub.dls[ld->idx], value, NULL);
	if (r == DL_ENOMEM) {
		ld->err = DL_ENOMEM;
		return;
	}
	if (r != 0) {
		conf_kexpect(k, ex, sizeof ex);
		conf_fail(ld, "%s: bad value '%s' (expected %s)", name, value, ex);
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
		conf_fail(ld, "%s: repeated (already set at line %d)", name, *line);
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
			conf_fail(ld, "%s: empty pattern", name);
			return;
		}
	}
	if (strcmp(name, "files") == 0) {
		if (*value == '\0') {
			conf_fail(ld, "files: bad value '' (expected one or more globs)");
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
			conf_fail(ld, "start_at: bad value '%s' (expected beginning or end)", value);
	} else if (strcmp(name, "time_format") == 0) {
		if (src_once(ld, name, &sl->time_format) != 0)
			return;
		if (*value == '\0') {
			conf_fail(ld, "time_format: bad value '' (expected a strptime format)");
			return;
		}
		free(s->time_format);
		if ((s->time_format = strdup(value)) == NULL)
			r = DL_ENOMEM;
	} else if (strcmp(name, "downloader") == 0) {
		if (src_once(ld, name, &sl->downloader) != 0)
			return;
		if (*value == '\0' || value[strcspn(value, " \t")] != '\0') {
			conf_fail(ld, "downloader: bad value '%s' (expected a name without spaces)", value);
			return;
		}
		if ((s->downloader = conf_lower_dup(value)) == NULL)
			r = DL_ENOMEM;
	} else {
		conf_fail(ld, "unknown key '%s' in [source %s]", name, s->name);
	}
	if (r != DL_OK)
		ld->err = DL_ENOMEM;
}

int
conf_on_key(void *user, const char *section, const char *name, const char *value)
{
	struct load *ld = user;

	(void)section;   /* ours, from the reader, also knows empty sections */
	if (ld->err)
		return 0;
	switch (ld->kind) {
	case S_NONE:
		conf_fail(ld, "%s: key outside any section", name);
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
