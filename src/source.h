/*
 * source.h — log files: finding them (globs plus rotated predecessors),
 * recognising them across rotation, and reading complete lines from a saved
 * position.  Knows nothing of the database: positions come in and go out as
 * struct src_pos.
 *
 * Error convention: see util.h.  A file that cannot be read is reported
 * ("PATH: why") and returned as DL_EFAIL; the caller goes on with other files.
 */
#ifndef DLMON_SOURCE_H
#define DLMON_SOURCE_H

#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "conf.h"

#define SRC_FP_MAX 1024   /* bytes of the file's head that make its fingerprint */

/*
 * A saved position for a live path: which file it was (device, inode, and
 * fingerprint: FNV-1a of its first fp_len bytes) and how far it was read
 * (offset: bytes of complete lines consumed, in the uncompressed stream).
 */
struct src_pos {
	int known;                 /* 0: no saved position for this path */
	uint64_t dev, ino;
	uint32_t fp_len;
	uint64_t fp_hash;
	uint64_t offset;
	time_t cur_time;           /* parse_state.cur_time when saved */
	uint64_t lineno;           /* complete lines before offset (for FILE:LINE
	                              messages); kept by the caller, copied along */
};

/*
 * One read to do: a byte range of one physical file, in order.  For a live
 * path the plan may hold first the unread tail of its rotated predecessor
 * (renamed, copied, possibly gzip-compressed), then the live file itself.
 * key is the live path under which the position is saved.
 */
struct src_item {
	char *key;                 /* live path (position key) */
	char *path;                /* file to read (live or rotated) */
	int gz;                    /* path is gzip-compressed */
	uint64_t start;            /* first byte to read (uncompressed offset) */
	struct src_pos pos;        /* identity to save with the offset while reading */
	int rotated;               /* 1: a predecessor's tail; 0: the live file */
	int fresh;                 /* 1: no position is saved under key yet */
	time_t mtime;
};

struct src_plan {
	struct src_item *items;
	size_t nitems;
	char **gone;               /* keys whose file has disappeared (positions to delete) */
	size_t ngone;
};

/*
 * Callback giving the saved position of a live path (pos->known = 0 when
 * none); returns DL_OK or an error code that aborts planning.
 */
typedef int (*src_pos_lookup)(void *ctx, const char *key, struct src_pos *pos);

/*
 * src_plan_build: expand the globs of cs (and the keys saved for this source,
 * listed in saved_keys, so that a deleted or rotated live file is noticed),
 * skip rotated names that a glob also matched, and decide for each live file
 * what to read: continue, rotated tail + new file, truncated (copytruncate:
 * tail of the copy + from 0), inode reused (from 0).  A source whose globs
 * match nothing is a warning.  The plan is owned by the caller (src_plan_free).
 * DL_EFAIL: some file could not be examined (reported); the plan is still
 * complete for every other file and should be used.
 */
int src_plan_build(const struct conf_source *cs, char *const *saved_keys, size_t nsaved,
    src_pos_lookup lookup, void *ctx, struct src_plan *plan);
void src_plan_free(struct src_plan *plan);

struct src_reader;

/*
 * src_open: open item for reading from item->start.  Returns NULL on failure
 * (reported).  src_next_line: next complete line (without "\n", and without a
 * trailing "\r"), valid until the next call; returns 1 with a line, 0 at the
 * end (an incomplete last line is left unread), or DL_EFAIL.  Lines longer
 * than PARSE_MAX_LINE are returned truncated to that length with *truncated
 * set (the rest of the line is skipped).  src_offset: uncompressed offset just
 * after the last returned line.  src_position: the position to save now
 * (identity of the file being read and src_offset), fingerprint refreshed.
 */
struct src_reader *src_open(const struct src_item *item);
int src_next_line(struct src_reader *r, const char **line, size_t *len, int *truncated);

/*
 * src_next_block: every complete line now buffered, as one block
 * [*block, *block + *len) ending with '\n', consumed by the call (valid
 * until the next call), so that a parser can walk many lines at once.
 * Returns 1 with a block, 0 at the end (as src_next_line), DL_EFAIL, or
 * SRC_LINE when the next line may be longer than PARSE_MAX_LINE: take that
 * one with src_next_line.  No line in a block is longer than PARSE_MAX_LINE.
 */
#define SRC_LINE 2
int src_next_block(struct src_reader *r, const char **block, size_t *len);
uint64_t src_offset(const struct src_reader *r);
void src_position(const struct src_reader *r, struct src_pos *pos);
void src_close(struct src_reader *r);

#endif
