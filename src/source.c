/*
 * source.c — log files: globbing and rotation-aware planning.  See source.h
 * for the contracts; rotated files are found in source_find.c, read in
 * source_read.c.
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
#include "source_int.h"

#include <errno.h>
#include <glob.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "util.h"

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

/*
 * Plans the rotated files of key: the unread tail of its predecessor pred
 * (read up to s), then the files rotated away after it, whole, oldest first.
 */
static int
plan_rotated(struct src_plan *plan, const char *key, const struct finfo *pred,
    const struct src_pos *s, const struct finfo *newer, size_t nnewer)
{
	struct src_pos p;
	size_t i;
	int rc = DL_OK;

	if (src_has_unread(pred, s->offset))
		rc = plan_add(plan, key, pred, s->offset, s, 1);
	for (i = 0; rc == DL_OK && i < nnewer; i++) {
		if (!src_has_unread(&newer[i], 0))
			continue;
		msg_verbose("%s: %s was rotated away since the last run", key, newer[i].path);
		identity(&newer[i], 0, 0, &p);
		rc = plan_add(plan, key, &newer[i], 0, &p, 1);
	}
	return rc;
}

/* Plans live file f (head read) whose saved position is s. */
static int
plan_live(struct src_plan *plan, const struct conf_source *cs, struct finfo *f,
    const struct src_pos *s, int first_run)
{
	struct finfo pred, *newer = NULL;
	struct src_pos p;
	uint64_t start = 0;
	size_t nnewer = 0;
	int same, found = 0, rc;

	if (!s->known) {
		if (cs->start_at_end && first_run && src_last_line_end(f, &start) != DL_OK) {
			msg_err("%s: %s", f->path, strerror(errno));
			return DL_EFAIL;
		}
		identity(f, start, 0, &p);
		rc = plan_add(plan, f->path, f, start, &p, 0);
		if (rc == DL_OK)
			plan->items[plan->nitems - 1].fresh = 1;
		return rc;
	}
	same = (uint64_t)f->st.st_dev == s->dev && (uint64_t)f->st.st_ino == s->ino;
	/* A device renumbered (reboot, remount) keeps inode and full head. */
	if (!same && (uint64_t)f->st.st_ino == s->ino && s->fp_len == SRC_FP_MAX)
		same = 1;
	if (same && src_fp_match(f, s) && src_long_enough(f, s->offset)) {
		if (!src_has_unread(f, s->offset))
			return DL_OK;
		identity(f, s->offset, s->cur_time, &p);
		p.lineno = s->lineno;
		return plan_add(plan, f->path, f, s->offset, &p, 0);
	}
	/* Rotated, truncated, or another file under the same name. */
	memset(&pred, 0, sizeof pred);
	rc = src_find_pred(f->path, s, &f->st, &pred, &found, &newer, &nnewer);
	if (rc != DL_OK)
		return rc;
	if (found) {
		msg_verbose("%s: rotated; previous file is %s", f->path, pred.path);
		rc = plan_rotated(plan, f->path, &pred, s, newer, nnewer);
		free(pred.path);
		src_finfo_free(newer, nnewer);
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
	struct finfo f, *newer = NULL;
	size_t nnewer = 0, n;
	int found = 0, rc = DL_OK;

	memset(&f, 0, sizeof f);
	if (!k->s.known || k->live)
		return DL_OK;
	if (k->taken)
		return plan_gone(plan, k->key);
	if (k->rotated) {
		f.path = (char *)k->key;
		f.gz = src_has_suffix(k->key, ".gz");
		if (src_finfo_head(&f) == DL_OK && (uint64_t)f.st.st_dev == k->s.dev &&
		    (uint64_t)f.st.st_ino == k->s.ino && src_fp_match(&f, &k->s) &&
		    src_long_enough(&f, k->s.offset) && src_has_unread(&f, k->s.offset))
			rc = plan_add(plan, k->key, &f, k->s.offset, &k->s, 1);
		return rc;
	}
	if (!k->orphan)
		return DL_OK;
	rc = src_find_pred(k->key, &k->s, NULL, &f, &found, &newer, &nnewer);
	if (rc != DL_OK)
		return rc;
	n = plan->nitems;
	if (found)
		rc = plan_rotated(plan, k->key, &f, &k->s, newer, nnewer);
	if (rc == DL_OK && plan->nitems == n)
		rc = plan_gone(plan, k->key);
	free(f.path);
	src_finfo_free(newer, nnewer);
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
		    o->ino != (uint64_t)f->st.st_ino || !src_fp_match(f, o) || !src_long_enough(f, o->offset))
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
		if (j > 0 && strcmp(v[i], v[j - 1]) == 0)   /* no NULL: ENOMEM left above */
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
		if (strncmp(path, f[i].path, len) == 0 && src_is_rot_suffix(path + len))
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
			/* gone since the glob, or a dangling link: normal with
			 * rotation; anything else (a symlink loop) deserves a word */
			if (errno == ENOENT)
				msg_verbose("%s: %s", paths[i], strerror(errno));
			else
				msg_warn("%s: %s, skipped", paths[i], strerror(errno));
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
		f[nf].gz = src_has_suffix(paths[i], ".gz");
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
		if (src_finfo_head(&f[i]) != DL_OK) {
			msg_err("%s: %s", f[i].path, src_why(errno));
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
