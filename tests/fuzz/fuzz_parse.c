/*
 * fuzz_parse.c — libFuzzer harness for line matching and timestamp parsing
 * (src/parse.c): the input is a log file's bytes, split into lines the way
 * source.c hands them over, matched by two parsers built from fixed sources
 * (the README's prefix style, and a yt-dlp style with a timestamp pattern
 * and a fixed downloader).  Then parse_time on the input: when it holds a
 * TAB, the bytes before it are the strptime format (a user setting), the
 * rest the text; else the text is tried with a few fixed formats.
 */
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "fuzz.h"
#include "parse.h"
#include "util.h"

static struct conf_pattern pat(const char *text, int line)
{
	struct conf_pattern p = { (char *)text, line };
	return p;
}

static struct conf fconf = { .path = (char *)"fuzz.conf" };
static struct conf_source src_a, src_b;
static struct conf_pattern a_succ[1], a_fail[2], b_fail[1], b_start[1];
static struct parser *pa, *pb;

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	int err;

	(void)argc;
	(void)argv;
	msg_init("fuzz_parse");
	src_a.name = (char *)"media";
	src_a.time_format = (char *)"%Y-%m-%d %H:%M:%S";
	src_a.prefix = pat("^(?<ts>\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d)\\S* \\[(?<downloader>\\w+)\\]", 2);
	a_succ[0] = pat("\\ INFO Downloaded (?<count>\\d+) files? for (?<user>\\S+)", 3);
	a_fail[0] = pat("\\ ERROR Download failed for (?<user>\\S+): (?<error>.*)", 4);
	a_fail[1] = pat("\\ ERROR (?<error>.*)", 5);
	src_a.success = a_succ;
	src_a.nsuccess = 1;
	src_a.failure = a_fail;
	src_a.nfailure = 2;

	src_b.name = (char *)"tiktok";
	src_b.time_format = (char *)"%b %d %H:%M:%S";
	src_b.downloader = (char *)"tiktok";
	src_b.timestamp = pat("^\\[(?<ts>\\w{3} \\d\\d \\d\\d:\\d\\d:\\d\\d)\\]", 7);
	b_fail[0] = pat("^ERROR: \\[TikTok\\] (?<user>\\d+): (?<error>.*)", 8);
	b_start[0] = pat("^\\[download\\] Downloading (?<user>\\S+)", 9);
	src_b.failure = b_fail;
	src_b.nfailure = 1;
	src_b.start = b_start;
	src_b.nstart = 1;

	if ((pa = parser_new(&fconf, &src_a, &err)) == NULL
	    || (pb = parser_new(&fconf, &src_b, &err)) == NULL)
		abort();
	return 0;
}

/* Touch every byte of an attempt's fields, so that ASan checks the spans. */
static unsigned
sum(const char *s, size_t n)
{
	unsigned h = 0;
	size_t i;

	for (i = 0; s != NULL && i < n; i++)
		h += (unsigned char)s[i];
	return h;
}

static void
lines(struct parser *p, const char *data, size_t size)
{
	struct parse_state st = { 0, 1763550000 };   /* 2025-11-19 11:00 UTC */
	struct attempt a;
	enum parse_kind kind;
	const char *q = data, *end = data + size;
	unsigned long no = 0;
	volatile unsigned sink = 0;

	while (q < end) {
		const char *nl = memchr(q, '\n', (size_t)(end - q));
		size_t len;

		if (nl == NULL)
			break;       /* a last line without newline waits, as in source.c */
		len = (size_t)(nl - q);
		if (len > 0 && q[len - 1] == '\r')
			len--;
		if (parse_line(p, &st, q, len, "fuzz.log", ++no, &a, &kind) == PARSE_ATTEMPT) {
			if (a.downloader == NULL || a.downloader_len == 0)
				abort();
			sink += sum(a.downloader, a.downloader_len) + sum(a.user, a.user_len)
			    + sum(a.error, a.error_len);
		}
		q = nl + 1;
	}
	(void)sink;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const fmts[] = {
		"%Y-%m-%d %H:%M:%S", "%b %d %H:%M:%S", "%Y-%m-%dT%H:%M:%S", "%H:%M:%S",
		"%d/%b/%Y:%H:%M:%S %z", "%s",
	};
	const char *text = (const char *)data;
	const char *tab = memchr(text, '\t', size);
	time_t t;
	size_t i;

	if (pa == NULL)
		LLVMFuzzerInitialize(NULL, NULL);
	lines(pa, text, size);
	lines(pb, text, size);
	if (tab != NULL && (size_t)(tab - text) < 64) {
		char fmt[64];
		size_t fl = (size_t)(tab - text);

		memcpy(fmt, text, fl);
		fmt[fl] = '\0';
		parse_time(tab + 1, size - fl - 1, fmt, 1763550000, &t);
		parse_time(tab + 1, size - fl - 1, fmt, 0, &t);
	} else {
		for (i = 0; i < sizeof fmts / sizeof fmts[0]; i++)
			parse_time(text, size, fmts[i], 1763550000, &t);
	}
	return 0;
}
