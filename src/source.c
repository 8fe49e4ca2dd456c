/*
 * source.c — log files: globbing, rotation-aware planning, line reading.
 * See source.h for the contracts.
 *
 * Rules decided here (documented for README/man):
 *  - Rotated names: NAME is a rotated name of live file L when NAME = L +
 *    SUFFIX, SUFFIX starting with '.', '-' or '_' and made of tokens separated
 *    by those characters, each token all digits or one of "old", "bak", "gz"
 *    ("gz" last only): X.log.1, X.log.2.gz, X.log-20251119, X.log.old.
 *    A path matched by a glob is not live when another matched path is its
 *    live name (whatever positions are saved: simple and deterministic).
 *    Predecessors are searched among the same rotated names in L's folder.
 *  - Two matched paths naming the same file (symlink, hard link) are read
 *    once, under the first path in sort order.
 *  - A predecessor is the rotated file with the saved device and inode whose
 *    head still matches the fingerprint, else (fingerprint of at least one
 *    byte only) the newest rotated file whose head matches, plain or gzip.
 *  - start_at = end applies to files found when the source has no saved
 *    position at all (its first run); files appearing later are new content
 *    and are read from their beginning.
 *  - A saved key whose file still exists but is now a rotated name of a live
 *    file has its unread tail read (same device, inode and head), before the
 *    live files; a key no longer matched by the globs is left alone.  A key
 *    goes to plan->gone once its file has disappeared and no rotated file
 *    holds unread bytes, or when its file is found live under another name
 *    the globs match (renamed: the new name continues from the position).
 */
#include "source.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "parse.h"   /* PARSE_MAX_LINE */
#include "util.h"

#define SRC_BUF_INIT (256 * 1024)
#define SRC_MIN_READ (64 * 1024)
/* A line is known to be over-long once this many bytes hold no '\n' (the
 * extra byte allows a trailing '\r' on a line of exactly PARSE_MAX_LINE). */
#define SRC_KEEP (PARSE_MAX_LINE + 2)
#define SRC_BUF_MAX (SRC_KEEP + SRC_MIN_READ)

/* What planning knows of one physical file. */
struct finfo {
	char *path;
	struct stat st;
	int gz;
	unsigned char head[SRC_FP_MAX];
	size_t head_len;
};

static int
has_suffix(const char *s, const char *suf)
{
	size_t n = strlen(s), m = strlen(suf);
	return n >= m && strcmp(s + n - m, suf) == 0;
}

/* 1 when s is a rotation suffix (see the rules at the top of this file). */
static int
is_rot_suffix(const char *s)
{
	size_t tok;

	if (*s != '.' && *s != '-' && *s != '_')
		return 0;
	while (*s == '.' || *s == '-' || *s == '_') {
		s++;
		tok = strcspn(s, ".-_");
		if (tok == 0)
			return 0;
		if (strspn(s, "0123456789") < tok &&
		    !(tok == 3 && (strncmp(s, "old", 3) == 0 || strncmp(s, "bak", 3) == 0)) &&
		    !(tok == 2 && strncmp(s, "gz", 2) == 0 && s[2] == '\0'))
			return 0;
		s += tok;
	}
	return *s == '\0';
}

/*
 * Opens path for reading without ever blocking on a FIFO; returns the fd, or
 * -1 with errno set (EINVAL: not a regular file).
 */
static int
open_regular(const char *path, struct stat *st)
{
	int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);

	if (fd < 0)
		return -1;
	if (fstat(fd, st) != 0) {
		close(fd);
		return -1;
	}
	if (!S_ISREG(st->st_mode)) {
		close(fd);
		errno = EINVAL;
		return -1;
	}
	return fd;
}

static const char *
why(int err)
{
	return err == EINVAL ? "not a regular file" : strerror(err);
}

/* Reads up to want bytes from the start of gz; returns the count or -1. */
static long
gz_read_full(gzFile gz, void *buf, size_t want)
{
	size_t got = 0;
	int n;

	while (got < want) {
		n = gzread(gz, (char *)buf + got, (unsigned)(want - got));
		if (n < 0)
			return -1;
		if (n == 0)
			break;
		got += (size_t)n;
	}
	return (long)got;
}

/*
 * Reads the head (first SRC_FP_MAX uncompressed bytes) of f->path into f,
 * refreshing f->st.  Returns DL_OK or DL_EFAIL (errno kept, not reported).
 */
static int
finfo_head(struct finfo *f)
{
	gzFile gz;
	ssize_t n;
	long g;
	int fd, e;

	fd = open_regular(f->path, &f->st);
	if (fd < 0)
		return DL_EFAIL;
	if (!f->gz) {
		do
			n = pread(fd, f->head, sizeof f->head, 0);
		while (n < 0 && errno == EINTR);
		e = errno;
		close(fd);
		errno = e;
		if (n < 0)
			return DL_EFAIL;
		f->head_len = (size_t)n;
		return DL_OK;
	}
	gz = gzdopen(fd, "rb");
	if (gz == NULL) {
		close(fd);
		errno = ENOMEM;
		return DL_EFAIL;
	}
	g = gz_read_full(gz, f->head, sizeof f->head);
	gzclose(gz);
	if (g < 0) {
		errno = EIO;
		return DL_EFAIL;
	}
	f->head_len = (size_t)g;
	return DL_OK;
}

/* Does f's head start with the bytes fingerprinted in s? */
static int
fp_match(const struct finfo *f, const struct src_pos *s)
{
	return s->fp_len <= f->head_len &&
	    dl_fnv1a(DL_FNV_INIT, f->head, s->fp_len) == s->fp_hash;
}

/*
 * Uncompressed size hint of a gzip file: its trailer's ISIZE (size mod 2^32,
 * exact for the single-member files logrotate writes).  -1 when unreadable.
 */
static long long
gz_isize(const char *path)
{
	unsigned char b[4];
	struct stat st;
	int fd = open_regular(path, &st);
	ssize_t n = -1;

	if (fd < 0)
		return -1;
	if (st.st_size >= 18)
		n = pread(fd, b, 4, st.st_size - 4);
	close(fd);
	if (n != 4)
		return -1;
	return (long long)((uint32_t)b[0] | (uint32_t)b[1] << 8 |
	    (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24);
}

/* Might f hold bytes after offset?  (gzip: trusted only when ISIZE says no) */
static int
has_unread(const struct finfo *f, uint64_t offset)
{
	long long isz;

	if (!f->gz)
		return (uint64_t)f->st.st_size > offset;
	isz = gz_isize(f->path);
	return isz < 0 || (uint32_t)isz != (uint32_t)offset;
}

/* Is f at least offset bytes long, as far as can be told cheaply? */
static int
long_enough(const struct finfo *f, uint64_t offset)
{
	return f->gz || (uint64_t)f->st.st_size >= offset;
}

/* Offset just after the last '\n' of f (start_at = end). */
static int
last_line_end(const struct finfo *f, uint64_t *out)
{
	char buf[65536];
	uint64_t pos, total = 0, last = 0;
	ssize_t n;
	gzFile gz;
	char *p;
	int fd, rc = DL_EFAIL;
	struct stat st;

	fd = open_regular(f->path, &st);
	if (fd < 0)
		return DL_EFAIL;
	if (f->gz) {
		gz = gzdopen(fd, "rb");
		if (gz == NULL) {
			close(fd);
			return DL_EFAIL;
		}
		while ((n = gzread(gz, buf, sizeof buf)) > 0) {
			p = memrchr(buf, '\n', (size_t)n);
			if (p != NULL)
				last = total + (uint64_t)(p - buf) + 1;
			total += (uint64_t)n;
		}
		gzclose(gz);
		if (n < 0)
			return DL_EFAIL;
		*out = last;
		return DL_OK;
	}
	pos = (uint64_t)st.st_size;
	*out = 0;
	while (pos > 0) {
		size_t want = pos < sizeof buf ? (size_t)pos : sizeof buf;
		n = pread(fd, buf, want, (off_t)(pos - want));
		if (n != (ssize_t)want)
			goto out;
		p = memrchr(buf, '\n', want);
		if (p != NULL) {
			*out = pos - want + (uint64_t)(p - buf) + 1;
			break;
		}
		pos -= want;
	}
	rc = DL_OK;
out:
	close(fd);
	return rc;
}

/* ---- plan building ---- */

static int
plan_add(struct src_plan *plan, const char *key, const struct finfo *f, uint64_t start,
    const struct src_pos *pos, int rotated)
{
	struct src_item *it;
	size_t n = plan->nitems;

	/* the capacity is implicit: grown to the next power of two when full */
	if (n == 0 || (n & (n - 1)) == 0) {
		it = realloc(plan->items, (n ? n * 2 : 1) * sizeof *it);
		if (it == NULL)
			return DL_ENOMEM;
		plan->items = it;
	}
	it = &plan->items[plan->nitems];
	memset(it, 0, sizeof *it);
	it->key = strdup(key);
	it->path = strdup(f->path);
	if (it->key == NULL || it->path == NULL) {
		free(it->key);
		free(it->path);
		return DL_ENOMEM;
	}
	it->gz = f->gz;
	it->start = start;
	it->pos = *pos;
	it->rotated = rotated;
	it->mtime = f->st.st_mtime;
	plan->nitems++;
	return DL_OK;
}

static int
plan_gone(struct src_plan *plan, const char *key)
{
	char **g = realloc(plan->gone, (plan->ngone + 1) * sizeof *g);

	if (g == NULL)
		return DL_ENOMEM;
	plan->gone = g;
	g[plan->ngone] = strdup(key);
	if (g[plan->ngone] == NULL)
		return DL_ENOMEM;
	plan->ngone++;
	return DL_OK;
}

/* The position describing f read up to offset. */
static void
identity(const struct finfo *f, uint64_t offset, time_t cur_time, struct src_pos *p)
{
	memset(p, 0, sizeof *p);
	p->known = 1;
	p->dev = (uint64_t)f->st.st_dev;
	p->ino = (uint64_t)f->st.st_ino;
	p->fp_len = (uint32_t)f->head_len;
	p->fp_hash = dl_fnv1a(DL_FNV_INIT, f->head, f->head_len);
	p->offset = offset;
	p->cur_time = cur_time;
}

static int
cand_cmp(const void *a, const void *b)
{
	const struct finfo *x = a, *y = b;

	if (x->st.st_mtime != y->st.st_mtime)
		return x->st.st_mtime > y->st.st_mtime ? -1 : 1;
	return strcmp(x->path, y->path);
}

/*
 * Looks for the predecessor of live path key among its rotated siblings: the
 * file holding the saved position s.  not_st (may be NULL) is the live file
 * itself, never a candidate.  *out (caller frees path) is set with found = 1.
 */
static int
find_pred(const char *key, const struct src_pos *s, const struct stat *not_st,
    struct finfo *out, int *found)
{
	const char *slash = strrchr(key, '/');
	const char *base = slash ? slash + 1 : key;
	size_t blen = strlen(base), dlen = slash ? (size_t)(slash - key) + 1 : 0;
	struct finfo *c = NULL;
	size_t nc = 0, i;
	char *dir = NULL;
	struct dirent *de;
	DIR *d = NULL;
	int rc = DL_ENOMEM, pass;

	*found = 0;
	dir = slash ? strndup(key, dlen) : strdup(".");
	if (dir == NULL)
		goto out;
	d = opendir(dir);
	rc = DL_OK;
	if (d == NULL)
		goto out;
	while ((de = readdir(d)) != NULL) {
		struct finfo f;
		struct finfo *nc2;
		if (strncmp(de->d_name, base, blen) != 0 || !is_rot_suffix(de->d_name + blen))
			continue;
		memset(&f, 0, sizeof f);
		if (asprintf(&f.path, "%.*s%s", (int)dlen, key, de->d_name) < 0) {
			rc = DL_ENOMEM;
			goto out;
		}
		if (stat(f.path, &f.st) != 0 || !S_ISREG(f.st.st_mode) ||
		    (not_st && f.st.st_dev == not_st->st_dev && f.st.st_ino == not_st->st_ino)) {
			free(f.path);
			continue;
		}
		f.gz = has_suffix(f.path, ".gz");
		nc2 = realloc(c, (nc + 1) * sizeof *c);
		if (nc2 == NULL) {
			free(f.path);
			rc = DL_ENOMEM;
			goto out;
		}
		c = nc2;
		c[nc++] = f;
	}
	if (nc > 0)
		qsort(c, nc, sizeof *c, cand_cmp);
	/* pass 0: same file renamed; pass 1: a copy or compressed copy */
	for (pass = 0; pass < 2 && !*found; pass++) {
		for (i = 0; i < nc; i++) {
			int same = (uint64_t)c[i].st.st_dev == s->dev && (uint64_t)c[i].st.st_ino == s->ino;
			if (pass == 0 ? !same : (same || s->fp_len == 0))
				continue;
			if (!long_enough(&c[i], s->offset))
				continue;
			if (finfo_head(&c[i]) != DL_OK) {
				msg_warn("%s: %s (looking for the rotated file of %s)",
				    c[i].path, strerror(errno), key);
				continue;
			}
			if (!fp_match(&c[i], s))
				continue;
			*out = c[i];
			c[i].path = NULL;
			*found = 1;
			break;
		}
	}
out:
	for (i = 0; i < nc; i++)
		free(c[i].path);
	free(c);
	free(dir);
	if (d != NULL)
		closedir(d);
	return rc;
}

/* Plans live file f (head read) whose saved position is s. */
static int
plan_live(struct src_plan *plan, const struct conf_source *cs, struct finfo *f,
    const struct src_pos *s, int first_run)
{
	struct finfo pred;
	struct src_pos p;
	uint64_t start = 0;
	int same, found = 0, rc;

	if (!s->known) {
		if (cs->start_at_end && first_run && last_line_end(f, &start) != DL_OK) {
			msg_err("%s: %s", f->path, strerror(errno));
			return DL_EFAIL;
		}
		identity(f, start, 0, &p);
		return plan_add(plan, f->path, f, start, &p, 0);
	}
	same = (uint64_t)f->st.st_dev == s->dev && (uint64_t)f->st.st_ino == s->ino;
	/* A device renumbered (reboot, remount) keeps inode and full head. */
	if (!same && (uint64_t)f->st.st_ino == s->ino && s->fp_len == SRC_FP_MAX)
		same = 1;
	if (same && fp_match(f, s) && long_enough(f, s->offset)) {
		if (!has_unread(f, s->offset))
			return DL_OK;
		identity(f, s->offset, s->cur_time, &p);
		p.lineno = s->lineno;
		return plan_add(plan, f->path, f, s->offset, &p, 0);
	}
	/* Rotated, truncated, or another file under the same name. */
	memset(&pred, 0, sizeof pred);
	rc = find_pred(f->path, s, &f->st, &pred, &found);
	if (rc != DL_OK)
		return rc;
	if (found) {
		msg_verbose("%s: rotated; previous file is %s", f->path, pred.path);
		if (has_unread(&pred, s->offset))
			rc = plan_add(plan, f->path, &pred, s->offset, s, 1);
		free(pred.path);
		if (rc != DL_OK)
			return rc;
	} else {
		msg_warn("%s: %s, and its previous file (read up to byte %llu) was not "
		    "found among its rotated files: lines written to it after that "
		    "were not read", f->path, same ? "truncated or rewritten" : "replaced",
		    (unsigned long long)s->offset);
	}
	identity(f, 0, 0, &p);
	return plan_add(plan, f->path, f, 0, &p, 0);
}

/* A saved key that is not a live path now. */
struct saved {
	const char *key;
	struct src_pos s;
	int live;          /* a live path: planned by plan_live */
	int rotated;       /* exists, matched, but is now a rotated name */
	int orphan;        /* its file no longer exists */
	int taken;         /* its file was found live under another name */
};

/*
 * Plans saved key k that is not live now: a rotated name still being the
 * same file has its unread tail read; a vanished file has its tail read from
 * its rotated file, or its key is gone.  Anything else is left alone.
 */
static int
plan_saved(struct src_plan *plan, const struct saved *k)
{
	struct finfo f;
	int found = 0, rc = DL_OK;

	memset(&f, 0, sizeof f);
	if (!k->s.known || k->live)
		return DL_OK;
	if (k->taken)
		return plan_gone(plan, k->key);
	if (k->rotated) {
		f.path = (char *)k->key;
		f.gz = has_suffix(k->key, ".gz");
		if (finfo_head(&f) == DL_OK && (uint64_t)f.st.st_dev == k->s.dev &&
		    (uint64_t)f.st.st_ino == k->s.ino && fp_match(&f, &k->s) &&
		    long_enough(&f, k->s.offset) && has_unread(&f, k->s.offset))
			rc = plan_add(plan, k->key, &f, k->s.offset, &k->s, 1);
		return rc;
	}
	if (!k->orphan)
		return DL_OK;
	rc = find_pred(k->key, &k->s, NULL, &f, &found);
	if (rc != DL_OK)
		return rc;
	if (found && has_unread(&f, k->s.offset))
		rc = plan_add(plan, k->key, &f, k->s.offset, &k->s, 1);
	else
		rc = plan_gone(plan, k->key);
	free(f.path);
	return rc;
}

/*
 * A live file f without a position of its own may be a vanished key's file
 * renamed to a name the globs also match: it then continues from that
 * position (and the old key is gone).
 */
static void
adopt(const struct finfo *f, struct saved *sv, size_t nsaved, struct src_pos *s)
{
	size_t i;

	for (i = 0; i < nsaved; i++) {
		const struct src_pos *o = &sv[i].s;
		if (!sv[i].orphan || sv[i].taken || o->dev != (uint64_t)f->st.st_dev ||
		    o->ino != (uint64_t)f->st.st_ino || !fp_match(f, o) || !long_enough(f, o->offset))
			continue;
		msg_verbose("%s: renamed from %s", f->path, sv[i].key);
		sv[i].taken = 1;
		*s = *o;
		return;
	}
}

static int
str_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Expands every glob of cs into a sorted array of distinct paths. */
static int
expand(const struct conf_source *cs, char ***out, size_t *nout)
{
	char **v = NULL, **nv;
	size_t n = 0, i, j;
	glob_t g;
	int rc = DL_OK, grc;

	for (i = 0; i < cs->nfiles; i++) {
		memset(&g, 0, sizeof g);
		grc = glob(cs->files[i], GLOB_NOSORT, NULL, &g);
		if (grc == GLOB_NOSPACE) {
			rc = DL_ENOMEM;
		} else if (grc == GLOB_ABORTED) {
			msg_warn("source %s: %s: read error while expanding", cs->name, cs->files[i]);
		} else if (grc == 0 && g.gl_pathc > 0) {
			nv = realloc(v, (n + g.gl_pathc) * sizeof *v);
			if (nv == NULL)
				rc = DL_ENOMEM;
			else
				v = nv;
			for (j = 0; rc == DL_OK && j < g.gl_pathc; j++)
				if ((v[n++] = strdup(g.gl_pathv[j])) == NULL)
					rc = DL_ENOMEM;
		}
		globfree(&g);
		if (rc != DL_OK)
			goto out;
	}
	if (n > 0)
		qsort(v, n, sizeof *v, str_cmp);
	for (i = j = 0; i < n; i++) {
		if (j > 0 && v[i] != NULL && strcmp(v[i], v[j - 1]) == 0)
			free(v[i]);
		else
			v[j++] = v[i];
	}
	n = j;
out:
	*out = v;
	*nout = n;
	return rc;
}

/* 1 when path is a rotated name of another matched regular file. */
static int
is_rotated_of_live(const struct finfo *f, size_t nf, const char *path)
{
	size_t i, len;

	for (i = 0; i < nf; i++) {
		len = strlen(f[i].path);
		if (strncmp(path, f[i].path, len) == 0 && is_rot_suffix(path + len))
			return 1;
	}
	return 0;
}

/*
 * src_plan_build: see source.h.  Returns DL_OK; DL_EFAIL when some live file
 * could not be examined (reported) — the plan then still holds every other
 * file and must be used and freed as usual; DL_ENOMEM or the lookup's error
 * with an empty plan.  Items of one key are consecutive and in reading order.
 */
int
src_plan_build(const struct conf_source *cs, char *const *saved_keys, size_t nsaved,
    src_pos_lookup lookup, void *ctx, struct src_plan *plan)
{
	struct finfo *f = NULL;
	struct saved *sv = NULL;
	char **paths = NULL;
	size_t np = 0, nf = 0, i, j;
	struct src_pos s;
	struct strbuf sb = { 0 };
	int rc, failed = 0;

	memset(plan, 0, sizeof *plan);
	rc = expand(cs, &paths, &np);
	if (rc != DL_OK)
		goto out;
	f = calloc(np ? np : 1, sizeof *f);
	if (f == NULL) {
		rc = DL_ENOMEM;
		goto out;
	}
	for (i = 0; i < np; i++) {
		struct stat st;
		if (stat(paths[i], &st) != 0) {
			msg_verbose("%s: %s", paths[i], strerror(errno));
			continue;
		}
		if (!S_ISREG(st.st_mode)) {
			msg_warn("%s: not a regular file, skipped", paths[i]);
			continue;
		}
		for (j = 0; j < nf; j++)
			if (f[j].st.st_dev == st.st_dev && f[j].st.st_ino == st.st_ino)
				break;
		if (j < nf) {
			msg_verbose("%s: same file as %s, read once", paths[i], f[j].path);
			continue;
		}
		f[nf].path = paths[i];
		f[nf].st = st;
		f[nf].gz = has_suffix(paths[i], ".gz");
		nf++;
	}
	if (nf == 0 && nsaved == 0) {
		for (i = 0; i < cs->nfiles; i++)
			if (sb_printf(&sb, "%s%s", i ? " " : "", cs->files[i]) != DL_OK)
				break;
		msg_warn("source %s: no file matches %s", cs->name, sb.buf ? sb.buf : "");
	}
	sv = calloc(nsaved ? nsaved : 1, sizeof *sv);
	if (sv == NULL) {
		rc = DL_ENOMEM;
		goto out;
	}
	for (i = 0; i < nsaved; i++) {
		struct stat st;
		sv[i].key = saved_keys[i];
		for (j = 0; j < nf; j++)
			if (strcmp(saved_keys[i], f[j].path) == 0)
				break;
		if (j < nf && !is_rotated_of_live(f, nf, f[j].path)) {
			sv[i].live = 1;
			continue;
		}
		sv[i].rotated = j < nf;
		rc = lookup(ctx, saved_keys[i], &sv[i].s);
		if (rc != DL_OK)
			goto out;
		sv[i].orphan = !sv[i].rotated && stat(saved_keys[i], &st) != 0 &&
		    (errno == ENOENT || errno == ENOTDIR);
	}
	/* tails of former live files now rotated come before the live files */
	for (i = 0; i < nsaved; i++) {
		rc = sv[i].rotated ? plan_saved(plan, &sv[i]) : DL_OK;
		if (rc != DL_OK)
			goto out;
	}
	for (i = 0; i < nf; i++) {
		if (is_rotated_of_live(f, nf, f[i].path)) {
			msg_verbose("%s: rotated name of a live file, not read as live", f[i].path);
			continue;
		}
		if (finfo_head(&f[i]) != DL_OK) {
			msg_err("%s: %s", f[i].path, why(errno));
			failed = 1;
			continue;
		}
		memset(&s, 0, sizeof s);
		rc = lookup(ctx, f[i].path, &s);
		if (rc != DL_OK)
			goto out;
		if (!s.known)
			adopt(&f[i], sv, nsaved, &s);
		rc = plan_live(plan, cs, &f[i], &s, nsaved == 0);
		if (rc == DL_EFAIL) {
			failed = 1;
			rc = DL_OK;
		}
		if (rc != DL_OK)
			goto out;
	}
	for (i = 0; i < nsaved; i++) {
		rc = sv[i].rotated ? DL_OK : plan_saved(plan, &sv[i]);
		if (rc != DL_OK)
			goto out;
	}
	rc = failed ? DL_EFAIL : DL_OK;
out:
	if (rc == DL_ENOMEM)
		msg_err("out of memory");
	if (rc != DL_OK && rc != DL_EFAIL)
		src_plan_free(plan);
	for (i = 0; i < np; i++)
		free(paths[i]);
	free(paths);
	free(f);
	free(sv);
	sb_free(&sb);
	return rc;
}

/* src_plan_free: frees what the plan owns and empties it; accepts NULL. */
void
src_plan_free(struct src_plan *plan)
{
	size_t i;

	if (plan == NULL)
		return;
	for (i = 0; i < plan->nitems; i++) {
		free(plan->items[i].key);
		free(plan->items[i].path);
	}
	free(plan->items);
	for (i = 0; i < plan->ngone; i++)
		free(plan->gone[i]);
	free(plan->gone);
	memset(plan, 0, sizeof *plan);
}

/* ---- reading ---- */

/*
 * The reader keeps unconsumed bytes in buf[beg, end); off is the stream
 * offset of buf[beg], i.e. just after the last returned line, so that a
 * position saved at any moment resumes exactly there.  It reads to EOF as
 * the file is then (a log may grow while it is read); bytes of an incomplete
 * last line are read but never consumed.
 */
struct src_reader {
	char *path;
	int fd;
	gzFile gz;
	int rotated;
	int stale;                 /* file changed since planning: read nothing */
	int eof;
	int skipping;              /* inside an over-long line */
	struct src_pos ipos;       /* item->pos */
	uint64_t dev, ino;
	char *buf;
	size_t cap, beg, end, scan;
	uint64_t off;
	uint64_t skipped;          /* bytes of the over-long line dropped */
	unsigned char head[SRC_FP_MAX];
	size_t head_len;
};

/* Reads more bytes after buf[end); 1 read, 0 end of file, DL_EFAIL. */
static int
fill(struct src_reader *r)
{
	size_t want, ncap;
	ssize_t n;
	char *nb;
	int e;

	if (r->beg > 0) {
		memmove(r->buf, r->buf + r->beg, r->end - r->beg);
		r->end -= r->beg;
		r->scan -= r->beg;
		r->beg = 0;
	}
	if (r->cap - r->end < SRC_MIN_READ && r->cap < SRC_BUF_MAX) {
		ncap = r->cap * 2 < SRC_BUF_MAX ? r->cap * 2 : SRC_BUF_MAX;
		nb = realloc(r->buf, ncap);
		if (nb == NULL) {
			msg_err("%s: out of memory", r->path);
			return DL_EFAIL;
		}
		r->buf = nb;
		r->cap = ncap;
	}
	want = r->cap - r->end;
	if (r->gz != NULL) {
		n = gzread(r->gz, r->buf + r->end, (unsigned)want);
		if (n < 0) {
			msg_err("%s: %s", r->path, gzerror(r->gz, &e));
			return DL_EFAIL;
		}
	} else {
		do
			n = read(r->fd, r->buf + r->end, want);
		while (n < 0 && errno == EINTR);
		if (n < 0) {
			msg_err("%s: %s", r->path, strerror(errno));
			return DL_EFAIL;
		}
	}
	if (n == 0) {
		r->eof = 1;
		return 0;
	}
	r->end += (size_t)n;
	return 1;
}

/* Drops the first `start` bytes of a gzip stream, after the head read. */
static int
gz_skip(struct src_reader *r, uint64_t start)
{
	uint64_t done = r->head_len;
	int n;

	if (start <= r->head_len) {
		memcpy(r->buf, r->head + start, r->head_len - (size_t)start);
		r->end = r->head_len - (size_t)start;
		return DL_OK;
	}
	while (done < start) {
		uint64_t left = start - done;
		n = gzread(r->gz, r->buf, (unsigned)(left < r->cap ? left : r->cap));
		if (n < 0) {
			msg_err("%s: %s", r->path, gzerror(r->gz, &n));
			return DL_EFAIL;
		}
		if (n == 0) {
			r->eof = 1;   /* shorter than the position: nothing to read */
			break;
		}
		done += (uint64_t)n;
	}
	return DL_OK;
}

/*
 * src_open: a reader of item->path from item->start, owned by the caller
 * (src_close).  NULL when the file cannot be opened (reported).  A file that
 * is no longer the one planned yields no line and keeps item->pos.
 */
struct src_reader *
src_open(const struct src_item *item)
{
	struct src_reader *r = calloc(1, sizeof *r);
	struct stat st;
	ssize_t n;
	long g;
	int ok = 0;

	if (r != NULL)
		r->fd = -1;
	if (r == NULL || (r->path = strdup(item->path)) == NULL ||
	    (r->buf = malloc(SRC_BUF_INIT)) == NULL) {
		msg_err("%s: out of memory", item->path);
		goto out;
	}
	r->cap = SRC_BUF_INIT;
	r->ipos = item->pos;
	r->rotated = item->rotated;
	r->off = item->start;
	r->fd = open_regular(item->path, &st);
	if (r->fd < 0) {
		msg_err("%s: %s", item->path, why(errno));
		goto out;
	}
	r->dev = (uint64_t)st.st_dev;
	r->ino = (uint64_t)st.st_ino;
	if (item->gz) {
		r->gz = gzdopen(r->fd, "rb");
		if (r->gz == NULL) {
			msg_err("%s: cannot open gzip stream", item->path);
			goto out;
		}
		r->fd = -1;
		gzbuffer(r->gz, 128 * 1024);
		g = gz_read_full(r->gz, r->head, sizeof r->head);
		if (g < 0) {
			msg_err("%s: not a readable gzip file", item->path);
			goto out;
		}
		r->head_len = (size_t)g;
	} else {
		do
			n = pread(r->fd, r->head, sizeof r->head, 0);
		while (n < 0 && errno == EINTR);
		if (n < 0 || lseek(r->fd, (off_t)item->start, SEEK_SET) < 0) {
			msg_err("%s: %s", item->path, strerror(errno));
			goto out;
		}
		r->head_len = (size_t)n;
	}
	/* The file must still be the one planned (a rotation may have happened
	 * in between); if not, read nothing and keep the planned position, so
	 * that the next run sorts it out. */
	if (item->pos.known &&
	    ((!item->gz && !item->rotated && (r->dev != item->pos.dev || r->ino != item->pos.ino)) ||
	     r->head_len < item->pos.fp_len ||
	     dl_fnv1a(DL_FNV_INIT, r->head, item->pos.fp_len) != item->pos.fp_hash)) {
		msg_verbose("%s: changed since planning, left for the next run", item->path);
		r->stale = 1;
		r->eof = 1;
	} else if (item->gz && gz_skip(r, item->start) != DL_OK) {
		goto out;
	}
	ok = 1;
out:
	if (!ok) {
		src_close(r);
		return NULL;
	}
	return r;
}

/* Extends the cached head with the consumed bytes [off, off + n) at p. */
static void
head_extend(struct src_reader *r, const char *p, uint64_t n)
{
	uint64_t from = r->head_len, to = r->off + n;

	if (from >= SRC_FP_MAX || r->off > from || to <= from)
		return;
	if (to > SRC_FP_MAX)
		to = SRC_FP_MAX;
	memcpy(r->head + from, p + (from - r->off), (size_t)(to - from));
	r->head_len = (size_t)to;
}

/*
 * src_next_line: the next complete line, pointing into the reader's buffer
 * (valid until the next call).  1 with a line, 0 at the end, DL_EFAIL on a
 * read error (reported).  Memory stays below PARSE_MAX_LINE + 64 KiB.
 */
int
src_next_line(struct src_reader *r, const char **line, size_t *len, int *truncated)
{
	char *nl;
	size_t n;
	int rc;

	if (r->stale)
		return 0;
	for (;;) {
		nl = memchr(r->buf + r->scan, '\n', r->end - r->scan);
		if (nl != NULL) {
			n = (size_t)(nl - (r->buf + r->beg));
			*line = r->buf + r->beg;
			*truncated = r->skipping;
			if (!r->skipping && n > 0 && (*line)[n - 1] == '\r')
				n--;
			if (n > PARSE_MAX_LINE) {
				n = PARSE_MAX_LINE;
				*truncated = 1;
			}
			*len = n;
			n = (size_t)(nl - (r->buf + r->beg)) + 1;
			head_extend(r, *line, n);
			r->off += n + r->skipped;
			r->beg = r->scan = n + r->beg;
			r->skipping = 0;
			r->skipped = 0;
			return 1;
		}
		r->scan = r->end;
		/* Over-long line: keep its first PARSE_MAX_LINE bytes, drop the
		 * rest as it comes, so memory stays bounded. */
		if (r->skipping || r->end - r->beg >= SRC_KEEP) {
			r->skipping = 1;
			r->skipped += r->end - (r->beg + PARSE_MAX_LINE);
			r->end = r->scan = r->beg + PARSE_MAX_LINE;
		}
		if (r->eof)
			return 0;
		rc = fill(r);
		if (rc < 0)
			return rc;
	}
}

/* src_offset: uncompressed offset just after the last returned line. */
uint64_t
src_offset(const struct src_reader *r)
{
	return r->off;
}

/*
 * src_position: the position to save under item->key now.  Live file: its
 * device, inode and head (up to SRC_FP_MAX bytes seen so far); rotated tail:
 * the planned identity.  cur_time is item->pos.cur_time, for the caller to
 * overwrite.
 */
void
src_position(const struct src_reader *r, struct src_pos *pos)
{
	*pos = r->ipos;
	pos->known = 1;
	pos->offset = r->off;
	/* A rotated tail is saved under the live key with the identity of the
	 * file planned, until the live file itself is read. */
	if (!r->rotated && !r->stale) {
		pos->dev = r->dev;
		pos->ino = r->ino;
		pos->fp_len = (uint32_t)r->head_len;
		pos->fp_hash = dl_fnv1a(DL_FNV_INIT, r->head, r->head_len);
	}
}

/* src_close: closes the file and frees the reader; accepts NULL. */
void
src_close(struct src_reader *r)
{
	if (r == NULL)
		return;
	if (r->gz != NULL)
		gzclose(r->gz);
	else if (r->fd >= 0)
		close(r->fd);
	free(r->buf);
	free(r->path);
	free(r);
}
