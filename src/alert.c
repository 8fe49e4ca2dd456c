/*
 * alert.c — notification texts (see alert.h).  Pure: no I/O, no clock, no
 * globals, no allocation; nothing here can fail.
 */
#include "alert.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define UTF8_REPLACEMENT 0xFFFDu
#define ELLIPSIS "\xE2\x80\xA6"          /* U+2026 "…" */
#define ELLIPSIS_LEN 3

/* Field limits (code points): SPEC bounds the whole message, these keep one
 * field from crowding out the rest ("Check logs for details." must survive). */
#define ALERT_USER_MAX 100
#define ALERT_ERROR_MAX 500
#define ALERT_DISPLAY_MAX 100

/* --- UTF-8 --- */

/*
 * Decode one code point from s[0..len) (len >= 1).  Invalid input yields
 * U+FFFD for each maximal subpart (Unicode's recommended practice): a bad
 * lead byte alone, or a valid prefix of a sequence cut short.  Overlongs,
 * surrogates and values above U+10FFFF are excluded by the second-byte
 * ranges below.  Returns the bytes consumed (>= 1).
 */
static size_t
utf8_decode(const unsigned char *s, size_t len, unsigned *cp)
{
	unsigned c = s[0], lo = 0x80, hi = 0xBF, v;
	size_t need, i;

	if (c < 0x80) {
		*cp = c;
		return 1;
	}
	if (c >= 0xC2 && c <= 0xDF) {
		need = 1;
		v = c & 0x1F;
	} else if (c >= 0xE0 && c <= 0xEF) {
		need = 2;
		v = c & 0x0F;
		if (c == 0xE0)
			lo = 0xA0;             /* overlong */
		else if (c == 0xED)
			hi = 0x9F;             /* surrogates */
	} else if (c >= 0xF0 && c <= 0xF4) {
		need = 3;
		v = c & 0x07;
		if (c == 0xF0)
			lo = 0x90;             /* overlong */
		else if (c == 0xF4)
			hi = 0x8F;             /* above U+10FFFF */
	} else {
		*cp = UTF8_REPLACEMENT;
		return 1;
	}
	for (i = 1; i <= need; i++) {
		unsigned b;

		if (i >= len)
			goto bad;
		b = s[i];
		if (b < lo || b > hi)
			goto bad;
		lo = 0x80;
		hi = 0xBF;
		v = (v << 6) | (b & 0x3F);
	}
	*cp = v;
	return need + 1;
bad:
	*cp = UTF8_REPLACEMENT;
	return i;
}

static size_t
utf8_len(unsigned cp)
{
	return cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
}

static size_t
utf8_put(char *dst, unsigned cp)
{
	unsigned char *d = (unsigned char *)dst;

	switch (utf8_len(cp)) {
	case 1:
		d[0] = (unsigned char)cp;
		return 1;
	case 2:
		d[0] = (unsigned char)(0xC0 | (cp >> 6));
		d[1] = (unsigned char)(0x80 | (cp & 0x3F));
		return 2;
	case 3:
		d[0] = (unsigned char)(0xE0 | (cp >> 12));
		d[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
		d[2] = (unsigned char)(0x80 | (cp & 0x3F));
		return 3;
	default:
		d[0] = (unsigned char)(0xF0 | (cp >> 18));
		d[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3F));
		d[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
		d[3] = (unsigned char)(0x80 | (cp & 0x3F));
		return 4;
	}
}

/*
 * The next code point of src that survives sanitising, from *pos on; -1 at
 * the end.  Removed: C0 controls (NUL included) except "\n" when
 * keep_newlines, DEL, C1 controls, and whole ANSI CSI sequences
 * ("ESC [ params final", the colour codes tools like yt-dlp write into
 * logs), which would otherwise leave "[31m" litter behind.
 */
static long
next_kept(const unsigned char *s, size_t len, size_t *pos, int keep_newlines)
{
	unsigned cp;

	while (*pos < len) {
		*pos += utf8_decode(s + *pos, len - *pos, &cp);
		if (cp == 0x1B && *pos < len && s[*pos] == '[') {
			(*pos)++;
			while (*pos < len && s[*pos] >= 0x20 && s[*pos] < 0x40)
				(*pos)++;
			if (*pos < len && s[*pos] >= 0x40 && s[*pos] <= 0x7E)
				(*pos)++;
			continue;
		}
		if (cp == '\n' && keep_newlines)
			return (long)cp;
		if (cp < 0x20 || (cp >= 0x7F && cp <= 0x9F))
			continue;
		return (long)cp;
	}
	return -1;
}

/*
 * alert_sanitize — see alert.h.  The text is cut when it has more than
 * max_chars code points or does not fit in size bytes; a cut text ends with
 * "…", which counts as one of the max_chars (in a buffer too small for the
 * "…" itself, below 4 bytes, the cut is unmarked).  Code points are never
 * split.  size 0 writes nothing; a NULL src counts as empty.
 */
void
alert_sanitize(char *dst, size_t size, const char *src, size_t len,
    size_t max_chars, int keep_newlines)
{
	const unsigned char *s = (const unsigned char *)src;
	size_t pos = 0, nchars = 0, nbytes = 0, out = 0, kept = 0;
	size_t room_chars = max_chars, room_bytes;
	long cp;
	int cut, mark;

	if (size == 0)
		return;
	if (src == NULL)
		len = 0;
	room_bytes = size - 1;
	while ((cp = next_kept(s, len, &pos, keep_newlines)) >= 0) {
		nchars++;
		nbytes += utf8_len((unsigned)cp);
	}
	cut = nchars > max_chars || nbytes > room_bytes;
	mark = cut && max_chars > 0 && room_bytes >= ELLIPSIS_LEN;
	if (mark) {
		room_chars--;
		room_bytes -= ELLIPSIS_LEN;
	}

	pos = 0;
	while ((cp = next_kept(s, len, &pos, keep_newlines)) >= 0) {
		size_t clen = utf8_len((unsigned)cp);

		if (kept >= room_chars || out + clen > room_bytes)
			break;
		utf8_put(dst + out, (unsigned)cp);
		out += clen;
		kept++;
	}
	if (mark) {
		memcpy(dst + out, ELLIPSIS, ELLIPSIS_LEN);
		out += ELLIPSIS_LEN;
	}
	dst[out] = '\0';
}

/* --- durations --- */

static const char *
plural(long long n)
{
	return n == 1 ? "" : "s";
}

/* alert_duration — see alert.h; negative counts as 0 ("0+ minutes"). */
void
alert_duration(long long secs, char *buf, size_t size)
{
	long long n;

	if (secs < 0)
		secs = 0;
	if (secs >= 3600) {
		n = secs / 3600;
		snprintf(buf, size, "%lld+ hour%s", n, plural(n));
	} else {
		n = secs / 60;
		snprintf(buf, size, "%lld+ minute%s", n, plural(n));
	}
}

/* alert_ago — see alert.h; whole units, rounded down, singular for 1;
 * negative counts as 0 ("0 minutes ago"). */
void
alert_ago(long long secs, char *buf, size_t size)
{
	long long n;

	if (secs < 0)
		secs = 0;
	if (secs < 3600) {
		n = secs / 60;
		snprintf(buf, size, "%lld minute%s ago", n, plural(n));
	} else if (secs < 48 * 3600) {
		n = secs / 3600;
		snprintf(buf, size, "%lld hour%s ago", n, plural(n));
	} else {
		n = secs / 86400;
		snprintf(buf, size, "%lld day%s ago", n, plural(n));
	}
}

/* --- composing --- */

/* Bounded append; the buffers below are sized so that it never cuts (and a
 * cut would only shorten the text: alert_sanitize repairs a split code point). */
static void put(char *buf, size_t size, size_t *len, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void
put(char *buf, size_t size, size_t *len, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (*len + 1 >= size)
		return;
	va_start(ap, fmt);
	n = vsnprintf(buf + *len, size - *len, fmt, ap);
	va_end(ap);
	if (n > 0)
		*len += (size_t)n < size - *len ? (size_t)n : size - *len - 1;
}

static void
sanitize_field(char *dst, size_t size, const char *src, size_t max_chars)
{
	alert_sanitize(dst, size, src, src ? strlen(src) : 0, max_chars, 0);
}

/* "<emoji> <display> <what>" limited to ALERT_TITLE_MAX. */
static void
compose_title(struct alert_msg *m, const char *emoji, const char *display,
    const char *what)
{
	char disp[ALERT_DISPLAY_MAX * 4 + 1], raw[sizeof m->title];
	size_t len = 0;

	sanitize_field(disp, sizeof disp, display ? display : "Downloader",
	    ALERT_DISPLAY_MAX);
	put(raw, sizeof raw, &len, "%s %s", emoji, disp);
	put(raw, sizeof raw, &len, " %s", what);
	sanitize_field(m->title, sizeof m->title, raw, ALERT_TITLE_MAX);
}

/*
 * alert_compose_failing — see alert.h.  The user (<= 100 code points) and
 * the error (<= 500) are sanitised without line breaks before they enter the
 * template, so the whole message stays under ALERT_MESSAGE_MAX and always
 * ends with "Check logs for details.".  A field that is empty after
 * sanitising counts as unknown.  With an empty streak (a test message) the
 * duration is 0 and the timestamp is now.
 */
void
alert_compose_failing(const char *display, const struct ev_history *h,
    time_t now, struct alert_msg *m)
{
	char user[ALERT_USER_MAX * 4 + 1], err[ALERT_ERROR_MAX * 4 + 1];
	char dur[48], ago[48], raw[sizeof m->message];
	time_t first = now;
	size_t len = 0;

	memset(m, 0, sizeof *m);
	m->timestamp = now;
	if (h->nfail > 0 && h->fail != NULL) {
		first = h->fail[0].ts;
		m->timestamp = h->fail[h->nfail - 1].ts;
	}
	compose_title(m, "\xF0\x9F\x9A\xA8", display, "Failing");   /* 🚨 */

	sanitize_field(user, sizeof user, h->last_user, ALERT_USER_MAX);
	sanitize_field(err, sizeof err, h->last_error, ALERT_ERROR_MAX);
	alert_duration((long long)now - (long long)first, dur, sizeof dur);
	if (h->have_success)
		alert_ago((long long)now - (long long)h->success_ts, ago, sizeof ago);
	else
		snprintf(ago, sizeof ago, "never");

	put(raw, sizeof raw, &len, "Downloader has been failing for %s\n", dur);
	if (user[0] != '\0')
		put(raw, sizeof raw, &len, "Username: %s\n", user);
	put(raw, sizeof raw, &len, "Consecutive Failures: %zu\n", h->nfail);
	put(raw, sizeof raw, &len, "Last Success: %s\n", ago);
	if (err[0] != '\0')
		put(raw, sizeof raw, &len, "Latest Error: \"%s\"\n", err);
	put(raw, sizeof raw, &len, "Check logs for details.");
	alert_sanitize(m->message, sizeof m->message, raw, len, ALERT_MESSAGE_MAX, 1);
}

/*
 * alert_compose_recovered — see alert.h.  The text:
 *   ✅ FastDL Recovered
 *   Downloader is working again after being down for 3+ hours
 *   Consecutive Failures: 4
 *   Recovered: 15 minutes ago
 * "down for" runs from the first failure to the success that ended the
 * streak; timestamp = recovered_at.
 */
void
alert_compose_recovered(const char *display, time_t first_fail, time_t recovered_at,
    size_t nfail, time_t now, struct alert_msg *m)
{
	char dur[48], ago[48], raw[512];
	size_t len = 0;

	memset(m, 0, sizeof *m);
	m->timestamp = recovered_at;
	compose_title(m, "\xE2\x9C\x85", display, "Recovered");     /* ✅ */

	alert_duration((long long)recovered_at - (long long)first_fail, dur, sizeof dur);
	alert_ago((long long)now - (long long)recovered_at, ago, sizeof ago);
	put(raw, sizeof raw, &len, "Downloader is working again after being down for %s\n",
	    dur);
	put(raw, sizeof raw, &len, "Consecutive Failures: %zu\n", nfail);
	put(raw, sizeof raw, &len, "Recovered: %s", ago);
	alert_sanitize(m->message, sizeof m->message, raw, len, ALERT_MESSAGE_MAX, 1);
}

/*
 * alert_compose_silent — see alert.h.  The text:
 *   ⏸ FastDL Silent
 *   No download attempt logged for 7+ hours
 *   Last Attempt: 7 hours ago
 *   Check that the downloader is still running.
 * timestamp = the last attempt.
 */
void
alert_compose_silent(const char *display, time_t last_attempt, time_t now,
    struct alert_msg *m)
{
	char dur[48], ago[48], raw[512];
	size_t len = 0;

	memset(m, 0, sizeof *m);
	m->timestamp = last_attempt;
	compose_title(m, "\xE2\x8F\xB8", display, "Silent");     /* ⏸ */
	alert_duration((long long)now - (long long)last_attempt, dur, sizeof dur);
	alert_ago((long long)now - (long long)last_attempt, ago, sizeof ago);
	put(raw, sizeof raw, &len, "No download attempt logged for %s\n", dur);
	put(raw, sizeof raw, &len, "Last Attempt: %s\n", ago);
	put(raw, sizeof raw, &len, "Check that the downloader is still running.");
	alert_sanitize(m->message, sizeof m->message, raw, len, ALERT_MESSAGE_MAX, 1);
}

/*
 * alert_compose_test — see alert.h.  The text:
 *   🔔 dlmon test
 *   Test notification from dlmon on HOST.
 *   Alerts about failing downloaders will arrive like this one.
 */
void
alert_compose_test(const char *host, time_t now, struct alert_msg *m)
{
	char raw[512];
	size_t len = 0;

	memset(m, 0, sizeof *m);
	m->timestamp = now;
	compose_title(m, "\xF0\x9F\x94\x94", "dlmon", "test");     /* 🔔 */
	put(raw, sizeof raw, &len, "Test notification from dlmon on %s.\n", host);
	put(raw, sizeof raw, &len, "Alerts about failing downloaders will arrive like this one.");
	alert_sanitize(m->message, sizeof m->message, raw, len, ALERT_MESSAGE_MAX, 1);
}
