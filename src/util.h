/*
 * util.h — messages, time and small helpers shared by every stage.
 *
 * Error convention (the same in every module of dlmon):
 *   Functions that can fail return an int: 0 (DL_OK) on success, or a negative
 *   DL_E* code.  The failure has already been reported on stderr, once, by the
 *   function that knew the context (file, line, value), through msg_err().
 *   Callers only propagate the code; only a program's main() maps it to an exit
 *   status (dl_exit_status) and exits.  Functions returning pointers return
 *   NULL on failure, with the same reporting rule.  Every *_free() accepts NULL.
 */
#ifndef DLMON_UTIL_H
#define DLMON_UTIL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

enum dl_err {
	DL_OK = 0,
	DL_EFAIL = -1,   /* something was not done; the run goes on (exit 1) */
	DL_ECONF = -2,   /* usage or configuration error; nothing done (exit 2) */
	DL_EBUSY = -3,   /* lock held or database busy; try later (exit 75) */
	DL_ENOMEM = -4   /* out of memory (exit 1) */
};

/* Exit statuses from SPEC. */
enum { EXIT_OK = 0, EXIT_FAIL = 1, EXIT_USAGE = 2, EXIT_TEMPFAIL = 75 };

/* Map a DL_E* code to the documented exit status. */
int dl_exit_status(int err);

/*
 * Messages.  msg_init() sets the program name used as prefix
 * ("dlmon-scan: <what>: <why>").  Verbosity: -1 quiet, 0 normal, 1+ verbose.
 * msg_err and msg_warn always print (stderr); msg_info prints unless quiet
 * (stdout); msg_verbose only when verbose (stderr).
 */
void msg_init(const char *progname);
void msg_set_verbosity(int level);
int msg_verbosity(void);
const char *msg_progname(void);
void msg_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void msg_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void msg_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void msg_verbose(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/*
 * Time.  Stored timestamps are local time "YYYY-MM-DDTHH:MM:SS"; arithmetic is
 * on epoch seconds through mktime(tm_isdst = -1).
 *
 * dlt_format: writes the 19-character local-time form into buf (>= 20 bytes).
 * dlt_parse_db: parses a stored timestamp ("YYYY-MM-DDTHH:MM:SS", also with a
 *   space instead of 'T'; anything after the 19th character is ignored).
 *   Returns 0, or -1 when the text is not such a timestamp.
 * dlt_parse_now: parses the --now argument 'YYYY-MM-DD HH:MM:SS' (or with 'T').
 */
#define DLT_BUFSZ 20
void dlt_format(time_t t, char buf[DLT_BUFSZ]);
int dlt_parse_db(const char *s, time_t *out);
int dlt_parse_now(const char *s, time_t *out);

/*
 * dlt_format_memo: dlt_format(t, buf), reusing the previous call's work when
 * t falls in the same UTC minute: a scan formats runs of nearby times, and
 * localtime_r + strftime per call showed in profiles.  The memo holds the
 * text of the minute's first second; it is used only when that minute has
 * one UTC offset, a whole number of minutes, so that local seconds are the
 * UTC ones.  Other minutes (zones with odd offsets such as Monrovia's
 * -0:44:30 before 1972, offset changes inside the minute, leap-second
 * "right/" zones, years not printed in four digits) go through dlt_format
 * each time.  The caller owns the memo
 * (one per thread; nothing is allocated); zero it before first use and again
 * after changing TZ.
 */
struct dlt_memo {
	int valid;                 /* 0: empty */
	time_t m0;                 /* the minute [m0, m0 + 60), m0 % 60 == 0 */
	char text[DLT_BUFSZ];      /* dlt_format(m0) */
};
void dlt_format_memo(struct dlt_memo *m, time_t t, char buf[DLT_BUFSZ]);

/* 64-bit FNV-1a over a buffer, continuing from h (start with DL_FNV_INIT). */
#define DL_FNV_INIT UINT64_C(0xcbf29ce484222325)
uint64_t dl_fnv1a(uint64_t h, const void *buf, size_t len);

/* strdup that returns NULL for NULL; reports nothing (callers report ENOMEM). */
char *dl_strdup(const char *s);

/*
 * Growable byte buffer, always NUL-terminated.  sb_* return 0 or DL_ENOMEM.
 * sb_free releases the memory and resets the buffer; it accepts NULL.
 */
struct strbuf {
	char *buf;
	size_t len, cap;
};
int sb_append(struct strbuf *sb, const char *s, size_t len);
int sb_puts(struct strbuf *sb, const char *s);
int sb_printf(struct strbuf *sb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void sb_reset(struct strbuf *sb);
void sb_free(struct strbuf *sb);

#endif
