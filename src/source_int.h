/*
 * source_int.h — what the parts of the source module share: planning
 * (source.c), examining files and finding rotated ones (source_find.c),
 * reading (source_read.c).  Private to them; the API is source.h.
 *
 * Error convention: see util.h.  Functions returning DL_EFAIL leave errno set
 * and report nothing: the caller knows the context.
 */
#ifndef DLMON_SOURCE_INT_H
#define DLMON_SOURCE_INT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <zlib.h>

#include "source.h"

/* What planning knows of one physical file. */
struct finfo {
	char *path;
	struct stat st;
	int gz;
	unsigned char head[SRC_FP_MAX];
	size_t head_len;
};

/* Frees the paths of n finfo and the array; accepts NULL. */
void src_finfo_free(struct finfo *f, size_t n);

/* 1 when s ends with suf. */
int src_has_suffix(const char *s, const char *suf);
/* 1 when s is a rotation suffix (see the rules in source.c). */
int src_is_rot_suffix(const char *s);
/* Opens a regular file without blocking on a FIFO: the fd, or -1 with errno
 * set (EINVAL: not a regular file); fills *st. */
int src_open_regular(const char *path, struct stat *st);
/* strerror(err), or "not a regular file" for src_open_regular's EINVAL. */
const char *src_why(int err);
/* Reads up to want bytes from gz: the count, or -1. */
long src_gz_read_full(gzFile gz, void *buf, size_t want);
/* Reads f's head (first SRC_FP_MAX uncompressed bytes), refreshing f->st. */
int src_finfo_head(struct finfo *f);
/* Does f's head start with the bytes fingerprinted in s? */
int src_fp_match(const struct finfo *f, const struct src_pos *s);
/* Might f hold bytes after offset?  (gzip: trusted only when ISIZE says no) */
int src_has_unread(const struct finfo *f, uint64_t offset);
/* Is f at least offset bytes long, as far as can be told cheaply? */
int src_long_enough(const struct finfo *f, uint64_t offset);
/* The offset just after the last newline of f (start_at = end). */
int src_last_line_end(const struct finfo *f, uint64_t *out);

/*
 * src_find_pred: among the rotated siblings of live path key (same folder,
 * name = key's name + a rotation suffix), the predecessor holding saved
 * position s: the same device and inode with a matching head, else a copy
 * (plain or gzip) with a matching head, newest first.  not_st (may be NULL)
 * is the live file itself, never a candidate.  With *found = 1, *out is the
 * predecessor (head read) and *newer the *nnewer rotated siblings modified
 * after it, oldest first (heads read): files rotated away since the last
 * run, never seen live.  The caller frees out->path and *newer
 * (src_finfo_free).  DL_OK or DL_ENOMEM; unreadable candidates are warned
 * about and skipped.
 */
int src_find_pred(const char *key, const struct src_pos *s, const struct stat *not_st,
    struct finfo *out, int *found, struct finfo **newer, size_t *nnewer);

#endif
