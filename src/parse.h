/*
 * parse.h — turning log lines into download attempts with a source's PCRE2
 * patterns.  Pure: no I/O, no clock; the caller passes the reference times.
 *
 * Error convention: see util.h.
 */
#ifndef DLMON_PARSE_H
#define DLMON_PARSE_H

#include <stddef.h>
#include <time.h>

#include "conf.h"

#define PARSE_MAX_LINE (1024 * 1024)   /* longer lines are not matched */
#define PARSE_NAME_MAX 64              /* longest downloader name kept */
#define PARSE_LIT_MAX 64               /* longest required literal kept */

/*
 * One attempt derived from one line.  Text fields point into the line given
 * to parse_line (or into the parser's own buffers) and are valid until the
 * next parse_line call on the same parser; lengths are byte counts, the text
 * is not NUL-terminated and may hold any bytes (invalid UTF-8, NUL).
 */
struct attempt {
	const char *downloader;    /* lower-case, never NULL */
	size_t downloader_len;
	const char *user;          /* NULL when unknown */
	size_t user_len;
	time_t ts;
	int success;               /* 1 success, 0 failure */
	long long file_count;      /* success: count group or 0; failure: 0 */
	const char *error;         /* failure: error group or whole line; NULL on success */
	size_t error_len;
};

/* Per-file state carried between lines and between runs. */
struct parse_state {
	time_t cur_time;           /* the file's current time (latest ts read), 0 = unknown */
	time_t mtime;              /* the file's modification time, fallback for cur_time */
};

enum parse_result {
	PARSE_NONE = 0,            /* the line reports no attempt */
	PARSE_ATTEMPT,             /* *out holds an attempt */
	PARSE_SKIPPED              /* a result line that was skipped (warning given):
	                              bad ts, match limit hit */
};

/* Which kind of pattern matched, for test-patterns statistics. */
enum parse_kind { PK_NONE = 0, PK_SUCCESS, PK_FAILURE, PK_START, PK_TIMESTAMP };

struct parser;

/*
 * parser_new: compile the patterns of source cs (prefix applied, JIT when
 * available, match and depth limits set) into a new parser owned by the
 * caller.  A pattern that does not compile is reported as
 * "<conf file>:<line>: <pcre2 message> at offset N" and returns NULL with
 * *err = DL_ECONF.  cs must outlive the parser.
 */
struct parser *parser_new(const struct conf *c, const struct conf_source *cs, int *err);
void parser_free(struct parser *p);

/*
 * parse_line: match one line (without its line end; CR already stripped) of
 * file `where` (used only in warnings: "FILE:LINENO").  Updates st->cur_time
 * from any ts group or the timestamp pattern.  Returns a parse_result; with
 * PARSE_ATTEMPT, *out is filled.  *kind (may be NULL) tells which pattern
 * matched.  Never fails: bad input yields PARSE_NONE or PARSE_SKIPPED.
 * A `start` line is no attempt: it returns PARSE_NONE with *kind PK_START,
 * and *out holds the start — downloader, user, ts, success 0, no error — for
 * the caller's open attempts (opens.h); out->downloader is NULL when the line
 * gave no downloader name (warned once).
 */
enum parse_result parse_line(struct parser *p, struct parse_state *st,
    const char *line, size_t len, const char *where, unsigned long lineno,
    struct attempt *out, enum parse_kind *kind);

/*
 * parse_candidate: parse_line, trying only the patterns of bit mask may:
 * those whose required literal (literal.h) the line holds, as pf_may
 * (prefilter.h) tells for a line the parser's prefilter let through; the
 * others cannot match it.  The answers are parse_line's but for one: a
 * pattern that would hit the match limit on a line without its literal (a
 * warning and PARSE_SKIPPED from parse_line) is not run there.  What the
 * ingest stage calls: it saves a PCRE2 run for most lines it reads.
 */
enum parse_result parse_candidate(struct parser *p, struct parse_state *st,
    const char *line, size_t len, unsigned may, const char *where,
    unsigned long lineno, struct attempt *out, enum parse_kind *kind);

/*
 * parse_last_pattern: which success/failure/start pattern matched the line
 * of the last parse_line call, for test-patterns: its index counting the
 * source's success patterns, then failure, then start, in configuration
 * order; -1 when none matched (or only the timestamp pattern did).
 */
int parse_last_pattern(const struct parser *p);

/*
 * parser_prefilter: the prefilter (prefilter.h) of p's patterns, or NULL
 * when every line must be matched: some pattern has no required literal,
 * or the source has a `timestamp` pattern (which may match any line).
 * Owned by p.  Lines it skips would have given PARSE_NONE, PK_NONE and
 * changed nothing in the parse state.
 */
struct prefilter;
const struct prefilter *parser_prefilter(const struct parser *p);

/*
 * parser_literal: the required literal (literal.h) of p's pattern i, in
 * parser order (success, failure, start): its length (0: none known) and,
 * in *lit, its bytes (owned by p; not NUL-terminated).
 */
size_t parser_literal(const struct parser *p, size_t i, const char **lit);

/*
 * parse_time: parse text (len bytes) with strptime format fmt; the whole text
 * must be consumed except trailing fractional seconds (",123", ".123456").
 * When fmt has no year, the year is taken from ref so that the result is not
 * more than a day after ref.  Returns 0 and *out, or -1.
 */
int parse_time(const char *text, size_t len, const char *fmt, time_t ref, time_t *out);

#endif
