/*
 * opens.h — open attempts (SPEC "Ingestion", `start` patterns): a start line
 * opens an attempt of (downloader, user) at its time; a success or failure of
 * the same downloader and user closes it; a start left without a result
 * before the next start of the same downloader and user, or for more than
 * OPENS_LIMIT seconds, becomes a failure with the error OPENS_ERROR, the
 * start's user and the start's time.
 *
 * Two halves:
 *   struct opens     the open attempts of one file (its position key), in
 *                    memory, with the rule; pure (no I/O, no clock).
 *   struct opens_db  the table dlmon_open that keeps them between runs; its
 *                    writes run inside the caller's transaction, the one that
 *                    also saves the file's rows and position, so a kill at any
 *                    instant neither loses an open attempt nor derives its
 *                    failure twice (the failure's identity — downloader, user,
 *                    start time, 0, OPENS_ERROR — also makes a re-derived one
 *                    a known row).
 *
 * Matching rules (beyond SPEC, decided here):
 *   - users compare byte for byte; a start without user is closed by any
 *     result of its downloader (nothing says the user differs);
 *   - a result without user closes, and takes the user of, the latest open
 *     attempt of its downloader;
 *   - only a result or start at or after the open attempt's time concerns
 *     it: an older line (out of order, or a file read again) is left alone,
 *     and a start equal to the open one (same time) is the same start.
 *   - "within 2 hours" includes the limit: a result exactly OPENS_LIMIT
 *     seconds after the start still closes it.
 *
 * Error convention: see util.h.
 */
#ifndef DLMON_OPENS_H
#define DLMON_OPENS_H

#include <stddef.h>
#include <time.h>

#include "parse.h"
#include "store.h"

#define OPENS_LIMIT (2 * 3600)
#define OPENS_ERROR "no result logged (process died?)"

/* One open attempt; the texts are owned by its struct opens. */
struct open_attempt {
	char *downloader;          /* lower-case, NUL-terminated */
	size_t downloader_len;
	char *user;                /* NULL when the start named none; may hold any bytes */
	size_t user_len;
	time_t ts;
};

/*
 * Called with each open attempt that becomes a failure (a->success 0,
 * a->error OPENS_ERROR; the texts are valid during the call only).  A
 * non-zero return stops the operation and is returned by it; the open attempt
 * is then kept.
 */
typedef int (*opens_fail_fn)(void *ctx, const struct attempt *a);

struct opens;

/* opens_new: an empty set, owned by the caller (opens_free accepts NULL). */
struct opens *opens_new(void);
void opens_free(struct opens *o);

/* opens_clear: forget every open attempt (before loading another file's). */
void opens_clear(struct opens *o);

/* Number of open attempts, and the i-th (0 <= i < count), for saving and tests. */
size_t opens_count(const struct opens *o);
const struct open_attempt *opens_at(const struct opens *o, size_t i);

/* opens_dirty: changed since the last opens_clear / opens_mark_saved. */
int opens_dirty(const struct opens *o);
void opens_mark_saved(struct opens *o);

/*
 * opens_start: start line s (downloader, user, ts) opens an attempt.  An open
 * attempt of the same downloader and user that is older becomes a failure
 * (fn) and is replaced; one with the same time is this start (nothing
 * changes); a newer one stays and s is ignored.  DL_ENOMEM (reported) or
 * fn's code.
 */
int opens_start(struct opens *o, const struct attempt *s, opens_fail_fn fn, void *ctx);

/*
 * opens_match: the open attempt that result r (downloader, user — NULL when
 * the line named none — and ts) closes, or NULL.  The pointer is valid until
 * the next call that changes o; the caller may borrow its user for r before
 * passing it to opens_close.
 */
const struct open_attempt *opens_match(const struct opens *o, const struct attempt *r);

/* opens_close: remove m (from opens_match on o). */
void opens_close(struct opens *o, const struct open_attempt *m);

/*
 * opens_expire: every open attempt started more than OPENS_LIMIT seconds
 * before t becomes a failure (fn, in start order) and is removed.  Returns
 * DL_OK or fn's code.
 */
int opens_expire(struct opens *o, time_t t, opens_fail_fn fn, void *ctx);

/* --- persistence (table dlmon_open) --- */

struct opens_db;

/*
 * opens_db_new: create dlmon_open if missing (in st's database, which st
 * keeps owning) and prepare the statements; *out is owned by the caller and
 * must be freed (opens_db_free) before st is closed.  DL_EBUSY / DL_EFAIL as
 * the store reports them.
 */
int opens_db_new(struct store *st, struct opens_db **out);
void opens_db_free(struct opens_db *od);

/* opens_db_load: replace o's content by the open attempts saved for key. */
int opens_db_load(struct opens_db *od, const char *key, struct opens *o);

/*
 * opens_db_save: make the rows saved for key equal o's open attempts (when
 * o is dirty) and mark o saved.  Inside the caller's transaction.
 */
int opens_db_save(struct opens_db *od, const char *key, struct opens *o);

/*
 * opens_db_expire: every saved open attempt (of any file) started more than
 * OPENS_LIMIT seconds before now becomes a failure (fn) and its row is
 * deleted.  Inside the caller's transaction; *n counts them.
 */
int opens_db_expire(struct opens_db *od, time_t now, opens_fail_fn fn, void *ctx,
    unsigned long *n);

#endif
