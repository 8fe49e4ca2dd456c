/*
 * dlmon-api.cgi — the seed's HTTP API as a CGI program (RFC 3875), for any
 * web server.  One request per process: read the CGI environment, decide
 * (cgi.c), load the configuration, ask the database (query.c), write one
 * response.  Access control is the web server's.  Messages on stderr go to
 * the web server's error log; the client only ever sees the JSON body.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cgi.h"
#include "conf.h"
#include "query.h"
#include "store.h"
#include "util.h"

#ifndef DLMON_VERSION
#define DLMON_VERSION "dev"
#endif

/* Seconds a client is told to wait when the database stays busy. */
#define RETRY_AFTER 5

static const char fallback_body[] = "{\"success\":false,\"error\":\"internal error\"}";

struct reply {
	int status;
	const char *allow;         /* Allow header (405), static */
	int retry_after;           /* Retry-After header when > 0 */
	struct strbuf body;        /* without the final newline */
};

static void
usage(FILE *fp)
{
	fprintf(fp,
	    "usage: dlmon-api.cgi [-c FILE]\n"
	    "A CGI program: run by a web server, it answers\n"
	    "  GET    /api/monitoring/status?hours=H\n"
	    "  GET    /api/monitoring/history?downloader=D&limit=N\n"
	    "  DELETE /api/monitoring/history?days=D   (only with [api] allow_delete = true)\n"
	    "The configuration is -c FILE, else $DLMON_CONFIG, else " CONF_DEFAULT_PATH ".\n"
	    "Under a web server (GATEWAY_INTERFACE set) the command line is ignored:\n"
	    "set DLMON_CONFIG in the server's configuration instead.\n"
	    "See dlmon-api.cgi(1).\n");
}

/* Replace the body with an error body; a failure to build it is a 500. */
static void
reply_error(struct reply *r, int status, const char *text)
{
	r->status = status;
	sb_reset(&r->body);
	if (cgi_error_json(text, &r->body) != DL_OK) {
		r->status = 500;
		sb_reset(&r->body);
		sb_puts(&r->body, fallback_body);
	}
}

/* Database trouble (missing, busy, corrupt, unwritable) is a 503; the
 * details went to the error log from the function that knew them. */
static void
reply_db_error(struct reply *r, int err, const char *dbpath)
{
	struct strbuf msg = { 0 };

	if (err == DL_EBUSY) {
		r->retry_after = RETRY_AFTER;
		reply_error(r, 503, "database busy, try again later");
		return;
	}
	if (err == DL_ENOMEM) {
		reply_error(r, 500, "out of memory");
		return;
	}
	if (sb_printf(&msg, "database unavailable: %s (details in the web server's error log)",
	    dbpath) != DL_OK)
		reply_error(r, 500, "out of memory");
	else
		reply_error(r, 503, msg.buf);
	sb_free(&msg);
}

/* Answer a valid request (req->http_status 200) from the configuration. */
static void
answer(const struct cgi_request *req, const char *config, struct reply *r)
{
	struct conf *c = NULL;
	struct store *st = NULL;
	long long deleted = 0;
	int err;

	if (conf_load_flags(config, CONF_NO_SECRETS, &c) != DL_OK) {
		/* the file's name and line are in the error log, not the body */
		reply_error(r, 503, "configuration error (details in the web server's error log)");
		goto out;
	}
	if (req->route == CGI_CLEAR && !c->api.allow_delete) {
		reply_error(r, 403, "deleting is disabled ([api] allow_delete = false)");
		goto out;
	}
	if (req->route == CGI_CLEAR) {
		/* STORE_RW would create a missing database: refuse that here */
		if (access(c->db.path, F_OK) != 0) {
			msg_err("%s: no such database", c->db.path);
			reply_db_error(r, DL_EFAIL, c->db.path);
			goto out;
		}
		if ((err = store_open(c->db.path, STORE_RW, c->db.busy_timeout_ms, &st)) != DL_OK ||
		    (err = query_clear(st, time(NULL), req->days, &deleted)) != DL_OK) {
			reply_db_error(r, err, c->db.path);
			goto out;
		}
		err = query_clear_json(st, deleted, req->days, &r->body);
	} else {
		if ((err = store_open(c->db.path, STORE_RO, c->db.busy_timeout_ms, &st)) != DL_OK) {
			reply_db_error(r, err, c->db.path);
			goto out;
		}
		if (req->route == CGI_STATUS)
			err = query_status_json(st, time(NULL), req->hours, &r->body);
		else
			err = query_history_json(st, req->downloader[0] ? req->downloader : NULL,
			    req->limit, &r->body);
		if (err != DL_OK) {
			reply_db_error(r, err, c->db.path);
			goto out;
		}
	}
	if (err != DL_OK)
		reply_error(r, 500, "internal error");
	else
		r->status = 200;
out:
	store_close(st);
	conf_free(c);
}

/* Write the CGI response on stdout; 0, or -1 when it could not be written. */
static int
send_reply(const struct reply *r)
{
	const char *body = r->body.buf ? r->body.buf : fallback_body;

	printf("Status: %d %s\n", r->status, cgi_reason(r->status));
	printf("Content-Type: application/json\n");
	printf("Cache-Control: no-store\n");
	if (r->allow)
		printf("Allow: %s\n", r->allow);
	if (r->retry_after > 0)
		printf("Retry-After: %d\n", r->retry_after);
	printf("\n%s\n", body);
	return fflush(stdout) == 0 && !ferror(stdout) ? 0 : -1;
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 }
	};
	struct reply r = { 500, NULL, 0, { 0 } };
	struct cgi_request req;
	const char *config = NULL;
	int ch, rc;

	msg_init("dlmon-api.cgi");
	/*
	 * Under a web server the command line is not ours: RFC 3875 lets a
	 * server pass a query string without '=' as arguments, so a client
	 * could otherwise pick the configuration ("?-c+/other.conf").
	 */
	if (getenv("GATEWAY_INTERFACE") == NULL) {
		while ((ch = getopt_long(argc, argv, "c:hV", opts, NULL)) != -1) {
			switch (ch) {
			case 'c': config = optarg; break;
			case 'h': usage(stdout); return EXIT_OK;
			case 'V': printf("dlmon-api.cgi %s\n", DLMON_VERSION); return EXIT_OK;
			default: usage(stderr); return EXIT_USAGE;
			}
		}
		if (optind < argc) {
			msg_err("unexpected argument '%s'", argv[optind]);
			usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (getenv("REQUEST_METHOD") == NULL) {
		msg_err("REQUEST_METHOD is not set: this is a CGI program, run by a web server");
		usage(stderr);
		return EXIT_USAGE;
	}
	config = conf_path(config);

	cgi_parse(getenv("REQUEST_METHOD"), getenv("PATH_INFO"), getenv("REQUEST_URI"),
	    getenv("SCRIPT_NAME"), getenv("QUERY_STRING"), &req);
	if (req.http_status != 200) {
		reply_error(&r, req.http_status, req.error);
		r.allow = req.allow;
	} else {
		answer(&req, config, &r);
	}
	rc = send_reply(&r);
	sb_free(&r.body);
	/* the status is in the response; the exit code only says whether it left */
	return rc == 0 ? EXIT_OK : EXIT_FAIL;
}
