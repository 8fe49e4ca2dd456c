/*
 * testpat.h — `dlmon test-patterns`: run log files through the sources'
 * patterns and tell what each pattern matched and what it missed, in the
 * manner of fail2ban-regex.  Touches no database and no saved position.
 *
 * Error convention: see util.h.
 */
#ifndef DLMON_TESTPAT_H
#define DLMON_TESTPAT_H

#include <stddef.h>
#include <stdio.h>

#include "conf.h"

#define TESTPAT_MAX_EXAMPLES 5     /* bad-timestamp and match-limit lines shown */
#define TESTPAT_MAX_WORDS 50       /* unmatched lines with failure words shown (-v) */

struct testpat;

/*
 * testpat_new: a run over the patterns of every source of c, or only of
 * [source NAME] when source is not NULL (an unknown name is an error naming
 * it: DL_ECONF).  Compiles the patterns at once, so a bad one is reported as
 * CONF:LINE before any file is read.  verbose: list unmatched lines that
 * hold failure words.  c must outlive the result; NULL on failure, *err set.
 */
struct testpat *testpat_new(const struct conf *c, const char *source, int verbose,
    int *err);
void testpat_free(struct testpat *tp);

/*
 * testpat_file: read path (plain, or gzip when it ends in ".gz" or starts
 * with the gzip magic) line by line with the scanner's reader and limits,
 * through every selected source.  A line is numbered from 1; a last line
 * without its line end is not read (as in dlmon-scan) and is mentioned.
 * DL_EFAIL when the file cannot be read (reported); counts are kept.
 */
int testpat_file(struct testpat *tp, const char *path);

/*
 * testpat_report: write the report to out.  Returns the number of lines
 * that matched a success, failure or start pattern of some source (lines
 * skipped for a bad timestamp or the match limit not counted).
 */
unsigned long long testpat_report(const struct testpat *tp, FILE *out);

/*
 * testpat_run: the whole command: new, every file, report to stdout, free.
 * DL_OK when some line matched and every file was read; DL_EFAIL when no
 * line matched or a file could not be read; DL_ECONF for usage and
 * configuration errors (no FILE, unknown source, bad pattern).
 */
int testpat_run(const struct conf *c, const char *source, char *const *files,
    size_t nfiles, int verbose);

#endif
