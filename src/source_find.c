/*
 * source_find.c — examining files and finding a live file's rotated
 * predecessor.  See source_int.h for the contracts and source.c for the
 * rules.
 */
#include "source_int.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util.h"

int
src_has_suffix(const char *s, const char *suf)
{
	size_t n = strlen(s), m = strlen(suf);
	return n >= m && strcmp(s + n - m, suf) == 0;
}

/* 1 when s is a rotation suffix (see the rules at the top of this file). */
int
src_is_rot_suffix(const char *s)
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
int
src_open_regular(const char *path, struct stat *st)
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

const char *
src_why(int err)
{
	return err == EINVAL ? "not a regular file" : strerror(err);
}

/* Reads up to want bytes from the start of gz; returns the count or -1. */
long
src_gz_read_full(gzFile gz, void *buf, size_t want)
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
int
src_finfo_head(struct finfo *f)
{
	gzFile gz;
	ssize_t n;
	long g;
	int fd, e;

	fd = src_open_regular(f->path, &f->st);
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
	g = src_gz_read_full(gz, f->head, sizeof f->head);
	gzclose(gz);
	if (g < 0) {
		errno = EIO;
		return DL_EFAIL;
	}
	f->head_len = (size_t)g;
	return DL_OK;
}

/* Does f's head start with the bytes fingerprinted in s? */
int
src_fp_match(const struct finfo *f, const struct src_pos *s)
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
	int fd = src_open_regular(path, &st);
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
int
src_has_unread(const struct finfo *f, uint64_t offset)
{
	long long isz;

	if (!f->gz)
		return (uint64_t)f->st.st_size > offset;
	isz = gz_isize(f->path);
	return isz < 0 || (uint32_t)isz != (uint32_t)offset;
}

/* Is f at least offset bytes long, as far as can be told cheaply? */
int
src_long_enough(const struct finfo *f, uint64_t offset)
{
	return f->gz || (uint64_t)f->st.st_size >= offset;
}

/* Offset just after the last '\n' of f (start_at = end). */
int
src_last_line_end(const struct finfo *f, uint64_t *out)
{
	char buf[65536];
	uint64_t pos, total = 0, last = 0;
	ssize_t n;
	gzFile gz;
	char *p;
	int fd, rc = DL_EFAIL;
	struct stat st;

	fd = src_open_regular(f->path, &st);
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

/* Is a modified after b (nanoseconds: rotations happen within a second)? */
static int
newer_than(const struct stat *a, const struct stat *b)
{
	if (a->st_mtim.tv_sec != b->st_mtim.tv_sec)
		return a->st_mtim.tv_sec > b->st_mtim.tv_sec;
	return a->st_mtim.tv_nsec > b->st_mtim.tv_nsec;
}

/* Newest first; equal times by name, for a stable order. */
static int
cand_cmp(const void *a, const void *b)
{
	const struct finfo *x = a, *y = b;

	if (newer_than(&x->st, &y->st))
		return -1;
	if (newer_than(&y->st, &x->st))
		return 1;
	return strcmp(x->path, y->path);
}

/* src_finfo_free: see source_int.h. */
void
src_finfo_free(struct finfo *f, size_t n)
{
	size_t i;

	for (i = 0; f != NULL && i < n; i++)
		free(f[i].path);
	free(f);
}

/*
 * Moves the candidates c[0, k) (newest first) modified after the
 * predecessor p into *newer, oldest first: the files that were rotated away
 * after it and never seen live.  A candidate whose head matches s is a copy
 * of the file already known (an older rotation touched later), not one of
 * them; with an empty fingerprint nothing can be told apart and none is
 * taken.  Unreadable ones are warned about and left.
 */
static void
take_newer(const char *key, const struct src_pos *s, struct finfo *c, size_t k,
    const struct finfo *p, struct finfo *newer, size_t *nnewer)
{
	size_t i;

	for (i = k; i-- > 0;) {
		if (c[i].path == NULL || !newer_than(&c[i].st, &p->st) ||
		    (c[i].st.st_dev == p->st.st_dev && c[i].st.st_ino == p->st.st_ino))
			continue;
		if (src_finfo_head(&c[i]) != DL_OK) {
			msg_warn("%s: %s (a rotated file of %s; not read)", c[i].path,
			    strerror(errno), key);
			continue;
		}
		if (src_fp_match(&c[i], s))
			continue;
		newer[(*nnewer)++] = c[i];
		c[i].path = NULL;
	}
}

/* src_find_pred: see source_int.h. */
int
src_find_pred(const char *key, const struct src_pos *s, const struct stat *not_st,
    struct finfo *out, int *found, struct finfo **newer, size_t *nnewer)
{
	const char *slash = strrchr(key, '/');
	const char *base = slash ? slash + 1 : key;
	size_t blen = strlen(base), dlen = slash ? (size_t)(slash - key) + 1 : 0;
	struct finfo *c = NULL;
	size_t nc = 0, i = 0;
	char *dir = NULL;
	struct dirent *de;
	DIR *d = NULL;
	int rc = DL_ENOMEM, pass;

	*found = 0;
	*newer = NULL;
	*nnewer = 0;
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
		if (strncmp(de->d_name, base, blen) != 0 || !src_is_rot_suffix(de->d_name + blen))
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
		f.gz = src_has_suffix(f.path, ".gz");
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
			if (!src_long_enough(&c[i], s->offset))
				continue;
			if (src_finfo_head(&c[i]) != DL_OK) {
				msg_warn("%s: %s (looking for the rotated file of %s)",
				    c[i].path, strerror(errno), key);
				continue;
			}
			if (!src_fp_match(&c[i], s))
				continue;
			*out = c[i];
			c[i].path = NULL;
			*found = 1;
			break;
		}
	}
	if (*found && i > 0) {
		*newer = calloc(i, sizeof **newer);
		if (*newer == NULL) {
			free(out->path);
			out->path = NULL;
			*found = 0;
			rc = DL_ENOMEM;
			goto out;
		}
		take_newer(key, s, c, i, out, *newer, nnewer);
	}
out:
	src_finfo_free(c, nc);
	free(dir);
	if (d != NULL)
		closedir(d);
	return rc;
}
