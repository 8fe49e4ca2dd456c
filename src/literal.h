/*
 * literal.h — the byte string every match of a PCRE2 pattern must contain,
 * for a prefilter: a line without it (memmem over a big buffer) cannot
 * match, so PCRE2 need not be called for it.
 *
 * A wrong literal would silently lose log lines, so the extraction is
 * conservative: it reads only the top level of the pattern, and gives up
 * (no literal) on anything whose extent or meaning it is not sure of:
 * alternation at the top level, option settings there, extended mode
 * anywhere, verbs, callouts, \Q...\E, and escapes it does not know.
 *
 * Error convention: see util.h (this function cannot fail; "none" is 0).
 */
#ifndef DLMON_LITERAL_H
#define DLMON_LITERAL_H

#include <stddef.h>

/*
 * lit_required: the longest byte string every match of PCRE2 pattern pat
 * (len bytes, compiled without CASELESS/EXTENDED/DOTALL/MULTILINE options) must
 * contain, written to out (at most outsz bytes, not NUL-terminated).  Returns its
 * length, 0 when none is known with certainty.  When the string is longer
 * than outsz, its first outsz bytes are written (they are required too).
 * Pure: reads pat, writes only out; pat need not be NUL-terminated.
 */
size_t lit_required(const char *pat, size_t len, char *out, size_t outsz);

#endif
