/* conf_load.c — conf_load: runs inih over the file, checks the sources, reads the secret files. */
#include "conf.h"
#include "conf_int.h"
#include "util.h"

#include <ctype.h>
#include <errno.h>
#include <ini.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/*
 * A file holding a secret must not be readable by group or others.  The
 * message names the path and its mode rather than a line.
 */
void
conf_check_private_fd(struct load *ld, int fd, const char *path)
{
	struct stat st;

	if (fstat(fd, &st) != 0) {
		conf_fail(ld, "%s: %s", path, strerror(errno));
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
			conf_fail(ld, "[source %s]: no files = key", s->name);
		} else if (s->nsuccess == 0 && s->nfailure == 0) {
			conf_fail(ld, "[source %s]: no success = or failure = pattern", s->name);
		} else if (s->downloader == NULL && !has_dl_group(s->prefix.text)) {
			for (k = 0; k < 3 && !ld->err; k++) {
				for (j = 0; j < ns[k] && !ld->err; j++) {
					if (has_dl_group(lists[k][j].text))
						continue;
					ld->line = lists[k][j].line;
					conf_fail(ld, "%s: pattern has no (?<downloader>...) group and "
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
		conf_fail(ld, "%s: %s: %s", fk->key, path, strerror(errno));
		goto out;
	}
	conf_check_private_fd(ld, fileno(fp), path);
	if (ld->err)
		goto out;
	n = getline(&line, &cap, fp);
	if (n < 0 && ferror(fp)) {
		conf_fail(ld, "%s: %s: %s", fk->key, path, strerror(errno));
		goto out;
	}
	b = e = NULL;
	if (n > 0) {
		b = line + strspn(line, " \t\r\n");
		for (e = b + strlen(b); e > b && isspace((unsigned char)e[-1]); e--)
			;
	}
	if (e == b) {
		conf_fail(ld, "%s: %s: empty (the secret goes on its first line)", fk->key, path);
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
	r = ini_parse_stream(conf_reader, &ld, conf_on_key, &ld);
	if (r > 0 && (!ld.err || r < ld.err_line) && ld.err != DL_ENOMEM) {
		/* inih's own complaint: a line that is neither [section] nor key = value */
		sb_reset(&ld.msg);
		ld.err = 0;
		ld.line = r;
		conf_fail(&ld, "syntax error (expected [section], key = value or a ; comment)");
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
