/*
 * source_read.c — reading complete lines of a planned file from a saved
 * position, plain or gzip.  See source.h for the contracts.
 */
#include "source_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "parse.h"   /* PARSE_MAX_LINE */
#include "util.h"

#define SRC_BUF_INIT (256 * 1024)
#define SRC_MIN_READ (64 * 1024)
/* A line is known to be over-long once this many bytes hold no '\n' (the
 * extra byte allows a trailing '\r' on a line of exactly PARSE_MAX_LINE). */
#define SRC_KEEP (PARSE_MAX_LINE + 2)
#define SRC_BUF_MAX (SRC_KEEP + SRC_MIN_READ)

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
		/* PCRE2's JIT may read a few bytes past a line's end: keep
		 * every byte of the buffer defined (valgrind-clean) */
		memset(nb + r->cap, 0, ncap - r->cap);
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
	    (r->buf = calloc(1, SRC_BUF_INIT)) == NULL) {
		msg_err("%s: out of memory", item->path);
		goto out;
	}
	r->cap = SRC_BUF_INIT;
	r->ipos = item->pos;
	r->rotated = item->rotated;
	r->off = item->start;
	r->fd = src_open_regular(item->path, &st);
	if (r->fd < 0) {
		msg_err("%s: %s", item->path, src_why(errno));
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
		g = src_gz_read_full(r->gz, r->head, sizeof r->head);
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

/* src_next_block: see source.h. */
int
src_next_block(struct src_reader *r, const char **block, size_t *len)
{
	size_t lim;
	char *nl;
	int rc;

	if (r->stale)
		return 0;
	for (;;) {
		if (r->skipping)
			return SRC_LINE;
		/* A block is at most PARSE_MAX_LINE bytes long, so none of its
		 * lines can be over-long. */
		lim = r->end - r->beg < PARSE_MAX_LINE ? r->end : r->beg + PARSE_MAX_LINE;
		nl = lim > r->scan ? memrchr(r->buf + r->scan, '\n', lim - r->scan) : NULL;
		if (nl != NULL) {
			*block = r->buf + r->beg;
			*len = (size_t)(nl - *block) + 1;
			head_extend(r, *block, *len);
			r->off += *len;
			r->beg = r->scan = r->beg + *len;
			return 1;
		}
		if (lim < r->end)
			return SRC_LINE;   /* no line end in the first PARSE_MAX_LINE bytes */
		r->scan = r->end;
		if (r->end - r->beg >= SRC_KEEP)
			return SRC_LINE;
		if (r->eof)
			return 0;
		if ((rc = fill(r)) < 0)
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
