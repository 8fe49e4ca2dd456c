/*
 * fuzz_cgi.c — libFuzzer harness for the HTTP API's request parser
 * (cgi_parse).  The input is split at NUL bytes into up to five fields:
 * QUERY_STRING, REQUEST_URI, PATH_INFO, REQUEST_METHOD, SCRIPT_NAME (a
 * missing field is absent, NULL).  Checks the documented invariants of the
 * result: a known status, route only on 200, values in their ranges,
 * a NUL-terminated error and downloader.
 */
#include <stdlib.h>
#include <string.h>

#include "cgi.h"
#include "fuzz.h"
#include "query.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf = malloc(size + 1), *f[5] = { NULL, NULL, NULL, NULL, NULL };
	struct cgi_request req;
	size_t i, n = 0;

	if (buf == NULL)
		return 0;
	memcpy(buf, data, size);
	buf[size] = '\0';
	f[n++] = buf;
	for (i = 0; i < size && n < 5; i++)
		if (buf[i] == '\0')
			f[n++] = buf + i + 1;
	cgi_parse(f[3], f[2], f[1], f[4], f[0], &req);
	switch (req.http_status) {
	case 200:
		if (req.route == CGI_UNKNOWN)
			abort();
		if (req.route == CGI_STATUS && (req.hours < 1 || req.hours > 87600))
			abort();
		if (req.route == CGI_HISTORY
		    && (req.limit < 1 || req.limit > QUERY_MAX_LIMIT))
			abort();
		if (req.route == CGI_CLEAR && (req.days < 0 || req.days > 3650))
			abort();
		if (memchr(req.downloader, '\0', sizeof req.downloader) == NULL)
			abort();
		break;
	case 400: case 404: case 405:
		if (req.route != CGI_UNKNOWN || memchr(req.error, '\0', sizeof req.error) == NULL)
			abort();
		if (req.http_status == 405 && req.allow == NULL)
			abort();
		break;
	default:
		abort();
	}
	cgi_reason(req.http_status);
	free(buf);
	return 0;
}
