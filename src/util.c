/* util.c — messages, time, hashing, buffers.  See util.h. */
#include "util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *progname = "dlmon";
static int verbosity;

int
dl_exit_status(int err)
{
	switch (err) {
	case DL_OK:    return EXIT_OK;
	case DL_ECONF: return EXIT_USAGE;
	case DL_EBUSY: return EXIT_TEMPFAIL;
	default:       return EXIT_FAIL;
	}
}

void msg_init(const char *name) { progname = name; }
void msg_set_verbosity(int level) { verbosity = level; }
int msg_verbosity(void) { return verbosity; }
const char *msg_progname(void) { return progname; }

static void vmsg(FILE *fp, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));

static void
vmsg(FILE *fp, const char *fmt, va_list ap)
{
	fprintf(fp, "%s: ", progname);
	vfprintf(fp, fmt, ap);
	fputc('\n', fp);
	fflush(fp);
}

void
msg_err(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vmsg(stderr, fmt, ap);
	va_end(ap);
}

void
msg_warn(const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "%s: warning: ", progname);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

void
msg_info(const char *fmt, ...)
{
	va_list ap;
	if (verbosity < 0)
		return;
	va_start(ap, fmt);
	vmsg(stdout, fmt, ap);
	va_end(ap);
}

void
msg_verbose(const char *fmt, ...)
{
	va_list ap;
	if (verbosity < 1)
		return;
	va_start(ap, fmt);
	vmsg(stderr, fmt, ap);
	va_end(ap);
}

void
dlt_format(time_t t, char buf[DLT_BUFSZ])
{
	struct tm tm;
	if (localtime_r(&t, &tm) == NULL ||
	    strftime(buf, DLT_BUFSZ, "%Y-%m-%dT%H:%M:%S", &tm) == 0)
		snprintf(buf, DLT_BUFSZ, "0000-00-00T00:00:00");
}

/* time_t is a signed integer type of 32 or 64 bits on our targets. */
#define DLT_TIME_MAX ((time_t)(sizeof(time_t) == 8 ? INT64_MAX : INT32_MAX))

/*
 * Fills m for the UTC minute holding t; -1 when that minute cannot be
 * memoised.  Both ends of the minute are checked: the same tm_gmtoff at m0
 * and m0 + 59 means no offset change in between (tzdata has no two changes
 * a minute apart), and an offset of whole minutes puts m0 at local second 0.
 * The second-field checks also catch the "right/" zones, whose localtime
 * counts leap seconds that tm_gmtoff does not show.
 */
static int
memo_fill(struct dlt_memo *m, time_t t)
{
	struct tm a, b;
	time_t m0, last;
	int sec;

	m->valid = 0;
	/* Far beyond any year localtime_r can express; keeps m0 from overflowing. */
	if (t > DLT_TIME_MAX - 60 || t < -DLT_TIME_MAX + 60)
		return -1;
	sec = (int)(t % 60);
	if (sec < 0)
		sec += 60;
	m0 = t - sec;
	last = m0 + 59;
	if (localtime_r(&m0, &a) == NULL || localtime_r(&last, &b) == NULL ||
	    a.tm_gmtoff != b.tm_gmtoff || a.tm_gmtoff % 60 != 0 ||
	    a.tm_sec != 0 || b.tm_sec != 59 || a.tm_min != b.tm_min)
		return -1;
	/* Years outside 1000..9999 do not print as four digits: not memoised. */
	if (strftime(m->text, DLT_BUFSZ, "%Y-%m-%dT%H:%M:%S", &a) != 19)
		return -1;
	m->m0 = m0;
	m->valid = 1;
	return 0;
}

/* dlt_format_memo: see util.h. */
void
dlt_format_memo(struct dlt_memo *m, time_t t, char buf[DLT_BUFSZ])
{
	int sec;

	if ((!m->valid || t < m->m0 || t > m->m0 + 59) && memo_fill(m, t) < 0) {
		dlt_format(t, buf);
		return;
	}
	sec = (int)(t - m->m0);
	memcpy(buf, m->text, DLT_BUFSZ);
	buf[17] = (char)('0' + sec / 10);
	buf[18] = (char)('0' + sec % 10);
}

/* Parses exactly "YYYY-MM-DD?HH:MM:SS" where ? is sep1 or sep2. */
static int
parse_19(const char *s, char sep1, char sep2, time_t *out)
{
	static const char shape[] = "dddd-dd-dd?dd:dd:dd";
	struct tm tm;
	int i;

	for (i = 0; i < 19; i++) {
		char c = s[i];
		if (shape[i] == 'd') {
			if (c < '0' || c > '9')
				return -1;
		} else if (shape[i] == '?') {
			if (c != sep1 && c != sep2)
				return -1;
		} else if (c != shape[i])
			return -1;
	}
	memset(&tm, 0, sizeof tm);
	tm.tm_year = (s[0] - '0') * 1000 + (s[1] - '0') * 100 + (s[2] - '0') * 10 + (s[3] - '0') - 1900;
	tm.tm_mon = (s[5] - '0') * 10 + (s[6] - '0') - 1;
	tm.tm_mday = (s[8] - '0') * 10 + (s[9] - '0');
	tm.tm_hour = (s[11] - '0') * 10 + (s[12] - '0');
	tm.tm_min = (s[14] - '0') * 10 + (s[15] - '0');
	tm.tm_sec = (s[17] - '0') * 10 + (s[18] - '0');
	if (tm.tm_mon > 11 || tm.tm_mday < 1 || tm.tm_mday > 31 ||
	    tm.tm_hour > 23 || tm.tm_min > 59 || tm.tm_sec > 60)
		return -1;
	tm.tm_isdst = -1;
	errno = 0;
	*out = mktime(&tm);
	if (*out == (time_t)-1 && errno != 0)
		return -1;
	return 0;
}

int
dlt_parse_db(const char *s, time_t *out)
{
	if (s == NULL || strnlen(s, 19) < 19)
		return -1;
	return parse_19(s, 'T', ' ', out);
}

int
dlt_parse_now(const char *s, time_t *out)
{
	if (s == NULL || strlen(s) != 19)
		return -1;
	return parse_19(s, ' ', 'T', out);
}

uint64_t
dl_fnv1a(uint64_t h, const void *buf, size_t len)
{
	const unsigned char *p = buf;
	while (len--) {
		h ^= *p++;
		h *= UINT64_C(0x100000001b3);
	}
	return h;
}

char *
dl_strdup(const char *s)
{
	return s ? strdup(s) : NULL;
}

static int
sb_grow(struct strbuf *sb, size_t need)
{
	size_t cap;
	char *p;

	if (sb->len + need + 1 <= sb->cap)
		return DL_OK;
	cap = sb->cap ? sb->cap : 64;
	while (cap < sb->len + need + 1)
		cap *= 2;
	p = realloc(sb->buf, cap);
	if (p == NULL)
		return DL_ENOMEM;
	sb->buf = p;
	sb->cap = cap;
	return DL_OK;
}

int
sb_append(struct strbuf *sb, const char *s, size_t len)
{
	if (sb_grow(sb, len) != DL_OK)
		return DL_ENOMEM;
	memcpy(sb->buf + sb->len, s, len);
	sb->len += len;
	sb->buf[sb->len] = '\0';
	return DL_OK;
}

int
sb_puts(struct strbuf *sb, const char *s)
{
	return sb_append(sb, s, strlen(s));
}

int
sb_printf(struct strbuf *sb, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0 || sb_grow(sb, (size_t)n) != DL_OK)
		return DL_ENOMEM;
	va_start(ap, fmt);
	vsnprintf(sb->buf + sb->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	sb->len += (size_t)n;
	return DL_OK;
}

void
sb_reset(struct strbuf *sb)
{
	sb->len = 0;
	if (sb->buf)
		sb->buf[0] = '\0';
}

void
sb_free(struct strbuf *sb)
{
	if (sb == NULL)
		return;
	free(sb->buf);
	sb->buf = NULL;
	sb->len = sb->cap = 0;
}
