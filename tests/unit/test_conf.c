/* test_conf.c — the configuration reader (src/conf.c). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <fcntl.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "conf.h"
#include "util.h"

static char tmpdir[64];
static char errbuf[8192];   /* stderr of the last captured call */
static int nfile;

/* Writes text to a new file in tmpdir with mode; returns its malloc'ed path. */
static char *
write_file(const char *text, mode_t mode)
{
	char *path = malloc(128);
	FILE *fp;

	assert_non_null(path);
	snprintf(path, 128, "%s/f%d.conf", tmpdir, ++nfile);
	fp = fopen(path, "w");
	assert_non_null(fp);
	fputs(text, fp);
	assert_int_equal(fclose(fp), 0);
	assert_int_equal(chmod(path, mode), 0);
	return path;
}

/* stderr into errbuf around a call. */
static int saved_fd = -1;
static char errpath[128];

static void
capture_begin(void)
{
	int fd;

	snprintf(errpath, sizeof errpath, "%s/stderr", tmpdir);
	fflush(stderr);
	saved_fd = dup(2);
	fd = open(errpath, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(saved_fd >= 0 && fd >= 0);
	dup2(fd, 2);
	close(fd);
}

static void
capture_end(void)
{
	FILE *fp;
	size_t n;

	fflush(stderr);
	dup2(saved_fd, 2);
	close(saved_fd);
	fp = fopen(errpath, "r");
	assert_non_null(fp);
	n = fread(errbuf, 1, sizeof errbuf - 1, fp);
	errbuf[n] = '\0';
	fclose(fp);
}

/* conf_load of text (mode 0600), stderr captured; *path_out gets the path. */
static int
load_text(const char *text, struct conf **c, char **path_out)
{
	char *path = write_file(text, 0600);
	int r;

	capture_begin();
	r = conf_load(path, c);
	capture_end();
	if (path_out)
		*path_out = path;
	else
		free(path);
	return r;
}

static char *
show(const struct conf *c)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *fp = open_memstream(&buf, &len);

	assert_non_null(fp);
	conf_show(c, fp);
	fclose(fp);
	return buf;
}

static char *
get(const struct conf *c, const char *key)
{
	char *v = NULL;

	assert_int_equal(conf_get(c, key, &v), DL_OK);
	assert_non_null(v);
	return v;
}

static void
assert_get(const struct conf *c, const char *key, const char *want)
{
	char *v = get(c, key);

	if (strcmp(v, want) != 0)
		fail_msg("conf_get(%s) = '%s', want '%s'", key, v, want);
	free(v);
}

/* A minimal valid source, to append to test texts. */
#define SRC "[source s]\nfiles = /x/*.log\ndownloader = d\nsuccess = ok\n"

/* ------------------------------------------------------------- errors */

struct err_case {
	const char *text;
	int line;
	const char *msg;
};

static const struct err_case err_cases[] = {
	{ "[monitoring]\nenabled = true\n[bogus]\n", 3, "unknown section [bogus]" },
	{ "[monitoring]\n\nfoo = 1\n", 3, "unknown key 'foo' in [monitoring]" },
	{ "[api]\n[api]\n", 2, "section [api] repeated (first at line 1)" },
	{ "[api]\nallow_delete = no\n[monitoring]\n[api]\n", 4,
	  "section [api] repeated (first at line 1)" },
	{ "[monitoring]\nretention_days = 3\nretention_days = 4\n", 3,
	  "retention_days: repeated (already set at line 2)" },
	{ "[monitoring]\nenabled = maybe\n", 2,
	  "enabled: bad value 'maybe' (expected true or false)" },
	{ "[monitoring]\nfailure_window_hours = 0\n", 2,
	  "failure_window_hours: bad value '0' (expected a number above 0, at most 8760)" },
	{ "[monitoring]\nfailure_window_hours = 3h\n", 2, "failure_window_hours: bad value '3h'" },
	{ "[monitoring]\nmin_consecutive_failures = 0\n", 2,
	  "min_consecutive_failures: bad value '0' (expected an integer from 1 to 1000)" },
	{ "[monitoring]\nretention_days = 0\n", 2, "retention_days: bad value '0'" },
	{ "[monitoring]\nretention_days = 2.5\n", 2, "retention_days: bad value '2.5'" },
	{ "[monitoring]\nrepeat_hours = -1\n", 2, "repeat_hours: bad value '-1'" },
	{ "[database]\nbusy_timeout_ms = 600001\n", 2,
	  "busy_timeout_ms: bad value '600001' (expected an integer from 0 to 600000)" },
	{ "[database]\npath =\n", 2, "path: bad value ''" },
	{ "[pushover]\npriority = 3\n", 2,
	  "priority: bad value '3' (expected an integer from -2 to 2)" },
	{ "[pushover]\ntimeout_seconds = 0\n", 2,
	  "timeout_seconds: bad value '0' (expected an integer from 1 to 300)" },
	{ "[pushover]\napi_url = ftp://x/\n", 2, "api_url: bad value 'ftp://x/'" },
	{ "[pushover]\ntoken_file = /nonexistent/t\ntoken = abc\n", 3,
	  "token and token_file are both set (line 2); keep one" },
	{ "[pushover]\nuser = abc\nuser_file = /nonexistent/u\n", 3,
	  "user_file and user are both set (line 2); keep one" },
	{ "enabled = true\n", 1, "enabled: key outside any section" },
	{ "[monitoring]\njunk line\n", 2, "syntax error" },
	{ "[monitoring\nenabled = true\n", 1, "syntax error" },
	{ "[monitoring x]\n", 1, "section [monitoring] takes no name" },
	{ "[source]\n", 1, "section [source] needs a name" },
	{ SRC "[source s]\n", 5, "section [source s] repeated (first at line 1)" },
	{ "[downloader FastDL]\n[downloader fastdl]\n", 2,
	  "section [downloader fastdl] repeated (first at line 1)" },
	{ "[downloader x]\nenable = true\n", 2, "unknown key 'enable' in [downloader x]" },
	{ "[downloader x]\nmin_consecutive_failures = 0\n", 2,
	  "min_consecutive_failures: bad value '0'" },
	{ "[downloader x]\nname = A\nname = B\n", 3, "name: repeated (already set at line 2)" },
	{ SRC "start_at = middle\n", 5,
	  "start_at: bad value 'middle' (expected beginning or end)" },
	{ SRC "prefix = a\nprefix = b\n", 6, "prefix: repeated (already set at line 5)" },
	{ SRC "downloader = e\n", 5, "downloader: repeated (already set at line 3)" },
	{ SRC "colour = red\n", 5, "unknown key 'colour' in [source s]" },
	{ SRC "failure =\n", 5, "failure: empty pattern" },
	{ "[api]\n[source a]\nsuccess = ok\ndownloader = d\n", 2, "[source a]: no files = key" },
	{ "[source a]\nfiles = /x\ndownloader = d\nstart = go\n", 1,
	  "[source a]: no success = or failure = pattern" },
	{ "[source a]\nfiles = /x\nsuccess = (?<downloader>\\w+) ok\nfailure = bad\n", 4,
	  "failure: pattern has no (?<downloader>...) group and [source a] has no downloader = key" },
	{ SRC "success = a\n  continued\n", 6, "indented line: continuation lines are not supported" },
};

static void
test_errors(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof err_cases / sizeof err_cases[0]; i++) {
		struct conf *c = (struct conf *)1;
		char *path, want[512];
		int r = load_text(err_cases[i].text, &c, &path);

		snprintf(want, sizeof want, "%s:%d: %s", path, err_cases[i].line, err_cases[i].msg);
		if (r != DL_ECONF || c != NULL || strstr(errbuf, want) == NULL)
			fail_msg("case %zu: r=%d, stderr '%s', want '%s'", i, r, errbuf, want);
		/* reported once: a single line */
		assert_ptr_equal(strchr(errbuf, '\n'), errbuf + strlen(errbuf) - 1);
		free(path);
	}
}

static void
test_missing_file(void **state)
{
	struct conf *c = NULL;
	char path[128];

	(void)state;
	snprintf(path, sizeof path, "%s/nonexistent.conf", tmpdir);
	capture_begin();
	assert_int_equal(conf_load(path, &c), DL_ECONF);
	capture_end();
	assert_null(c);
	assert_non_null(strstr(errbuf, path));
}

/* ------------------------------------------------------- line lengths */

static char *
line_of(size_t len, const char *key)
{
	char *s = malloc(len + 2);
	size_t k = strlen(key);

	assert_non_null(s);
	memcpy(s, key, k);
	memset(s + k, 'a', len - k);
	s[len] = '\n';
	s[len + 1] = '\0';
	return s;
}

static void
test_line_length(void **state)
{
	static const struct { size_t len; int ok; } cases[] = {
		{ 198, 1 }, { 199, 0 }, { 250, 0 }, { 197, 1 },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char *line = line_of(cases[i].len, "success = ");
		char text[1024], *path, want[256];
		struct conf *c = NULL;
		int r;

		snprintf(text, sizeof text, "[source s]\nfiles = /x\ndownloader = d\n%s", line);
		r = load_text(text, &c, &path);
		if (cases[i].ok) {
			assert_int_equal(r, DL_OK);
			assert_int_equal(c->sources[0].nsuccess, 1);
			/* never shortened */
			assert_int_equal(strlen(c->sources[0].success[0].text),
			    cases[i].len - strlen("success = "));
			assert_int_equal(c->sources[0].success[0].line, 4);
		} else {
			assert_int_equal(r, DL_ECONF);
			assert_null(c);
			snprintf(want, sizeof want,
			    "%s:4: line too long (%zu bytes, at most 198); write long patterns with prefix =",
			    path, cases[i].len);
			if (strstr(errbuf, want) == NULL)
				fail_msg("stderr '%s', want '%s'", errbuf, want);
		}
		conf_free(c);
		free(line);
		free(path);
	}
}

/* ------------------------------------------------ comments and patterns */

static void
test_inline_comments(void **state)
{
	static const struct { const char *value, *text; } cases[] = {
		{ "foo ; a comment", "foo" },
		{ "foo \\; bar", "foo \\; bar" },
		{ "a\\;b", "a\\;b" },
		{ "a;b", "a;b" },
		{ "x = y", "x = y" },
		{ "(?<ts>\\d+:\\d+) #x", "(?<ts>\\d+:\\d+) #x" },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char text[512];
		struct conf *c = NULL;

		snprintf(text, sizeof text,
		    "; comment\n# comment\n[source s]   ; header comment\n"
		    "  ; indented comment\nfiles = /x\ndownloader = d\nfailure = %s\n",
		    cases[i].value);
		assert_int_equal(load_text(text, &c, NULL), DL_OK);
		assert_string_equal(c->sources[0].failure[0].text, cases[i].text);
		conf_free(c);
	}
}

static void
test_repeated_patterns(void **state)
{
	struct conf *c = NULL;
	const struct conf_source *s;
	char *path;

	(void)state;
	assert_int_equal(load_text(
	    "[source media]\n"
	    "files = /a/*.log b/*.log\n"
	    "success = one\n"
	    "failure = bad\n"
	    "success = two\n"
	    "files = /c.log\n"
	    "\n"
	    "success = three\n"
	    "start = go\n"
	    "prefix = ^(?<ts>\\S+ \\S+) \\[(?<downloader>\\w+)\\] \n"
	    "start_at = end\n"
	    "time_format = %d/%m/%Y %H:%M\n"
	    "timestamp = ^(?<ts>\\S+)\n",
	    &c, &path), DL_OK);
	s = &c->sources[0];
	assert_string_equal(s->name, "media");
	assert_int_equal(s->line, 1);
	assert_int_equal(s->nsuccess, 3);
	assert_string_equal(s->success[0].text, "one");
	assert_int_equal(s->success[0].line, 3);
	assert_string_equal(s->success[1].text, "two");
	assert_int_equal(s->success[1].line, 5);
	assert_string_equal(s->success[2].text, "three");
	assert_int_equal(s->success[2].line, 8);
	assert_int_equal(s->nfailure, 1);
	assert_int_equal(s->failure[0].line, 4);
	assert_int_equal(s->nstart, 1);
	assert_int_equal(s->nfiles, 3);
	assert_string_equal(s->files[0], "/a/*.log");
	{
		char want[256];
		snprintf(want, sizeof want, "%s/b/*.log", tmpdir);
		assert_string_equal(s->files[1], want);
	}
	assert_string_equal(s->files[2], "/c.log");
	assert_null(s->downloader);
	assert_int_equal(s->prefix.line, 10);
	assert_string_equal(s->prefix.text, "^(?<ts>\\S+ \\S+) \\[(?<downloader>\\w+)\\]");
	assert_int_equal(s->start_at_end, 1);
	assert_string_equal(s->time_format, "%d/%m/%Y %H:%M");
	assert_string_equal(s->timestamp.text, "^(?<ts>\\S+)");
	assert_int_equal(s->timestamp.line, 13);
	conf_free(c);
	free(path);
}

/* ----------------------------------------------------------- defaults */

static void
test_defaults(void **state)
{
	struct conf *c = NULL;
	char *out;

	(void)state;
	assert_int_equal(load_text("; nothing\n[api]\n" SRC, &c, NULL), DL_OK);
	assert_int_equal(c->mon.enabled, 1);
	assert_true(c->mon.failure_window_hours == 3.0);
	assert_int_equal(c->mon.min_consecutive_failures, 2);
	assert_int_equal(c->mon.retention_days, 30);
	assert_true(c->mon.max_alert_age_hours == 24.0);
	assert_int_equal(c->mon.notify_recovery, 1);
	assert_true(c->mon.repeat_hours == 0.0);
	assert_string_equal(c->db.path, "/opt/media-downloader/database/media_downloader.db");
	assert_int_equal(c->db.busy_timeout_ms, 10000);
	assert_int_equal(c->po.enabled, 1);
	assert_int_equal(c->po.priority, 1);
	assert_int_equal(c->po.retry, 60);
	assert_int_equal(c->po.expire, 3600);
	assert_string_equal(c->po.api_url, "https://api.pushover.net/1/messages.json");
	assert_int_equal(c->po.timeout_seconds, 15);
	assert_null(c->po.user);
	assert_null(c->po.token);
	assert_null(c->po.ca_file);
	assert_null(c->po.sound);
	assert_null(c->po.device);
	assert_int_equal(c->api.allow_delete, 0);
	assert_int_equal(c->nsources, 1);
	assert_string_equal(c->sources[0].time_format, "%Y-%m-%d %H:%M:%S");
	assert_int_equal(c->sources[0].start_at_end, 0);
	assert_string_equal(c->sources[0].downloader, "d");
	assert_int_equal(c->ndls, 0);
	out = show(c);
	assert_non_null(strstr(out, "monitoring.failure_window_hours = 3   # default\n"));
	assert_non_null(strstr(out, "pushover.token = (unset)   # default\n"));
	free(out);
	conf_free(c);
}

static void
test_values(void **state)
{
	struct conf *c = NULL;
	char *path, *out, want[256];

	(void)state;
	assert_int_equal(load_text(
	    "[monitoring]\n"
	    "enabled = off\n"
	    "failure_window_hours = 1.5\n"
	    "min_consecutive_failures = 4\n"
	    "notify_recovery = NO\n"
	    "repeat_hours = 12\n"
	    "[database]\n"
	    "path = db/x.db\n"
	    "busy_timeout_ms = 0\n"
	    "[pushover]\n"
	    "priority = -2\n"
	    "sound = siren\n"
	    "device =\n"
	    "[api]\n"
	    "allow_delete = yes\n"
	    "[downloader TikTok]\n"
	    "enabled = false\n"
	    "[downloader forums]\n"
	    "name = The Forums\n"
	    "failure_window_hours = 6\n"
	    "min_consecutive_failures = 5\n"
	    "expect_every_hours = 48\n", &c, &path), DL_OK);
	assert_int_equal(c->mon.enabled, 0);
	assert_true(c->mon.failure_window_hours == 1.5);
	assert_int_equal(c->mon.min_consecutive_failures, 4);
	assert_int_equal(c->mon.notify_recovery, 0);
	assert_true(c->mon.repeat_hours == 12.0);
	snprintf(want, sizeof want, "%s/db/x.db", tmpdir);
	assert_string_equal(c->db.path, want);
	assert_int_equal(c->db.busy_timeout_ms, 0);
	assert_int_equal(c->po.priority, -2);
	assert_string_equal(c->po.sound, "siren");
	assert_null(c->po.device);
	assert_int_equal(c->api.allow_delete, 1);
	assert_int_equal(c->ndls, 2);
	assert_string_equal(c->dls[0].id, "tiktok");
	assert_int_equal(c->dls[0].line, 16);
	assert_int_equal(conf_downloader_enabled(c, "tiktok"), 0);
	assert_int_equal(conf_downloader_enabled(c, "fastdl"), 1);
	assert_true(conf_window_hours(c, "tiktok") == 1.5);
	assert_true(conf_window_hours(c, "forums") == 6.0);
	assert_int_equal(conf_min_failures(c, "tiktok"), 4);
	assert_int_equal(conf_min_failures(c, "forums"), 5);
	assert_true(conf_downloader(c, "forums")->expect_every_hours == 48.0);
	assert_null(conf_downloader(c, "fastdl"));
	assert_string_equal(conf_display_name(c, "forums"), "The Forums");
	assert_string_equal(conf_display_name(c, "tiktok"), "TikTok");
	assert_string_equal(conf_display_name(c, "fastdl"), "FastDL");
	assert_string_equal(conf_display_name(c, "coppermine"), "Coppermine");
	assert_string_equal(conf_display_name(c, "mystery"), "mystery");
	out = show(c);
	snprintf(want, sizeof want, "monitoring.failure_window_hours = 1.5   # %s:3\n", path);
	assert_non_null(strstr(out, want));
	snprintf(want, sizeof want, "downloader.tiktok.enabled = false   # %s:17\n", path);
	assert_non_null(strstr(out, want));
	assert_non_null(strstr(out,
	    "downloader.tiktok.failure_window_hours = 1.5   # from monitoring.failure_window_hours\n"));
	free(out);
	conf_free(c);
	free(path);
}

/* ------------------------------------------------------------ secrets */

static void
test_secret_files(void **state)
{
	static const struct { const char *content; mode_t mode; int ok; const char *msg; } cases[] = {
		/* accepted: msg is the token read */
		{ "  uQiRzpo4DXghDmr9QzzfQu27cmVRsG \nsecond line\n", 0600, 1,
		  "uQiRzpo4DXghDmr9QzzfQu27cmVRsG" },
		{ "aQiRzpo4DXghDmr9QzzfQu27cmVRsG", 0400, 1, "aQiRzpo4DXghDmr9QzzfQu27cmVRsG" },
		{ "aQiRzpo4DXghDmr9QzzfQu27cmVRsG\n", 0644, 0,
		  "holds a secret but is readable by group/others (mode 0644); chmod 600 " },
		{ "aQiRzpo4DXghDmr9QzzfQu27cmVRsG\n", 0640, 0,
		  "holds a secret but is readable by group/others (mode 0640)" },
		{ "", 0600, 0, "empty" },
		{ "  \n", 0600, 0, "empty" },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char *sec = write_file(cases[i].content, cases[i].mode);
		char text[512], want[512];
		struct conf *c = NULL;
		int r;

		snprintf(text, sizeof text, "[pushover]\ntoken_file = %s\n", sec);
		r = load_text(text, &c, NULL);
		if (cases[i].ok) {
			assert_int_equal(r, DL_OK);
			assert_string_equal(c->po.token, cases[i].msg);
			assert_string_equal(c->po.token_file, sec);
		} else {
			assert_int_equal(r, DL_ECONF);
			snprintf(want, sizeof want, "%s: %s", sec, cases[i].msg);
			if (strstr(errbuf, want) == NULL)
				fail_msg("case %zu: stderr '%s', want '%s'", i, errbuf, want);
			/* the secret never appears in a message */
			assert_null(strstr(errbuf, "Rzpo4DXgh"));
		}
		conf_free(c);
		free(sec);
	}
}

static void
test_secret_file_missing(void **state)
{
	struct conf *c = NULL;
	char *path, want[512];

	(void)state;
	assert_int_equal(load_text("[pushover]\nenabled = true\nuser_file = /nonexistent/u\n",
	    &c, &path), DL_ECONF);
	snprintf(want, sizeof want, "%s:3: user_file: /nonexistent/u: No such file or directory",
	    path);
	if (strstr(errbuf, want) == NULL)
		fail_msg("stderr '%s', want '%s'", errbuf, want);
	assert_null(c);
	free(path);
}

static void
test_secret_in_config(void **state)
{
	static const char text[] = "[pushover]\nuser = uSecretUserKey1234567890abcd\n"
	    "token = aSecretToken1234567890abcdefg\n";
	struct conf *c = NULL;
	char *path = write_file(text, 0644), want[512], *out;

	(void)state;
	capture_begin();
	assert_int_equal(conf_load(path, &c), DL_ECONF);
	capture_end();
	snprintf(want, sizeof want,
	    "%s: holds a secret but is readable by group/others (mode 0644); chmod 600 %s\n",
	    path, path);
	assert_non_null(strstr(errbuf, want));
	assert_null(strstr(errbuf, "Secret"));
	assert_int_equal(chmod(path, 0600), 0);
	capture_begin();
	assert_int_equal(conf_load(path, &c), DL_OK);
	capture_end();
	assert_string_equal(c->po.user, "uSecretUserKey1234567890abcd");
	assert_string_equal(c->po.token, "aSecretToken1234567890abcdefg");
	out = show(c);
	assert_null(strstr(out, "Secret"));
	assert_non_null(strstr(out, "pushover.token = (set)"));
	assert_non_null(strstr(out, "pushover.user = (set)"));
	free(out);
	out = get(c, "pushover.token");
	assert_string_equal(out, "(set)");
	free(out);
	conf_free(c);

	/* empty secret keys are "unset", and need no private file */
	assert_int_equal(chmod(path, 0644), 0);
	free(path);
	path = write_file("[pushover]\nuser =\ntoken =\n", 0644);
	capture_begin();
	assert_int_equal(conf_load(path, &c), DL_OK);
	capture_end();
	assert_null(c->po.user);
	conf_free(c);
	free(path);
}

/* ------------------------------------------------------- JSON overlays */

static const char seed_json[] =
    "{\n\"enabled\": true,\n\"failure_window_hours\": 3,\n\"min_consecutive_failures\": 2,\n"
    "\"pushover\": {\n\"enabled\": true,\n\"priority\": 1\n},\n\"downloaders\": {\n"
    "\"fastdl\": true,\n\"imginn\": true,\n\"toolzu\": true,\n\"instagram\": true,\n"
    "\"snapchat\": true,\n\"tiktok\": true,\n\"forums\": true\n}\n}";

/* What SQLite's json_set makes of the seed's row (as the seed's UPDATEs do). */
static char *
json_set_sql(const char *path, const char *value_sql)
{
	sqlite3 *db;
	sqlite3_stmt *st;
	char sql[256], *out;

	assert_int_equal(sqlite3_open(":memory:", &db), SQLITE_OK);
	snprintf(sql, sizeof sql, "SELECT json_set(?1, '%s', %s)", path, value_sql);
	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
	sqlite3_bind_text(st, 1, seed_json, -1, SQLITE_STATIC);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	out = strdup((const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	sqlite3_close(db);
	assert_non_null(out);
	return out;
}

static const char file_for_json[] =
    "[monitoring]\nenabled = false\nfailure_window_hours = 5\n"
    "[pushover]\npriority = 0\n[downloader fastdl]\nname = Fast DL\n";

static void
test_overlay_seed(void **state)
{
	static const char *const ids[] = {
		"fastdl", "imginn", "toolzu", "instagram", "snapchat", "tiktok", "forums",
	};
	struct conf *c = NULL;
	char *path, *out, want[512];
	size_t i;

	(void)state;
	assert_int_equal(load_text(file_for_json, &c, &path), DL_OK);
	assert_true(c->mon.failure_window_hours == 5.0);
	msg_set_verbosity(1);
	capture_begin();
	assert_int_equal(conf_overlay_json(c, seed_json), DL_OK);
	capture_end();
	msg_set_verbosity(0);
	snprintf(want, sizeof want,
	    "settings row 'monitoring' overrides %s:3 failure_window_hours = 5 with 3", path);
	assert_non_null(strstr(errbuf, want));
	snprintf(want, sizeof want, "settings row 'monitoring' overrides %s:2 enabled = false with true",
	    path);
	assert_non_null(strstr(errbuf, want));
	snprintf(want, sizeof want,
	    "settings row 'monitoring' overrides %s:5 pushover.priority = 0 with 1", path);
	assert_non_null(strstr(errbuf, want));
	assert_int_equal(c->mon.enabled, 1);
	assert_true(c->mon.failure_window_hours == 3.0);
	assert_int_equal(c->mon.min_consecutive_failures, 2);
	assert_int_equal(c->po.enabled, 1);
	assert_int_equal(c->po.priority, 1);
	assert_int_equal(c->ndls, 7);
	for (i = 0; i < sizeof ids / sizeof ids[0]; i++) {
		const struct conf_downloader *d = conf_downloader(c, ids[i]);
		assert_non_null(d);
		assert_int_equal(d->enabled, 1);
		assert_int_equal(d->line, i == 0 ? 6 : 0);
	}
	assert_string_equal(conf_display_name(c, "fastdl"), "Fast DL");
	out = show(c);
	snprintf(want, sizeof want, "monitoring.failure_window_hours = 3   # database "
	    "(settings.monitoring), overrides %s:3\n", path);
	assert_non_null(strstr(out, want));
	assert_non_null(strstr(out, "monitoring.min_consecutive_failures = 2   # database "
	    "(settings.monitoring)\n"));
	assert_non_null(strstr(out, "downloader.imginn.enabled = true   # database "
	    "(settings.monitoring)\n"));
	free(out);
	conf_free(c);
	free(path);
}

static void
test_overlay_json_set(void **state)
{
	static const struct {
		const char *path, *value;
		const char *key, *want;
	} cases[] = {
		{ "$.failure_window_hours", "6", "failure_window_hours", "6" },
		{ "$.failure_window_hours", "1.5", "monitoring.failure_window_hours", "1.5" },
		{ "$.min_consecutive_failures", "5", "min_consecutive_failures", "5" },
		{ "$.downloaders.fastdl", "false", "downloaders.fastdl", "false" },
		{ "$.downloaders.fastdl", "json('false')", "downloaders.fastdl", "false" },
		{ "$.downloaders.newone", "json('false')", "downloaders.newone", "false" },
		{ "$.downloaders.FastDL", "0", "downloader.fastdl.enabled", "false" },
		{ "$.enabled", "json('false')", "enabled", "false" },
		{ "$.pushover.priority", "2", "pushover.priority", "2" },
		{ "$.pushover.enabled", "0", "pushover.enabled", "false" },
		{ "$.retention_days", "7", "monitoring.retention_days", "7" },
		{ "$.max_alert_age_hours", "48", "max_alert_age_hours", "48" },
		{ "$.notify_recovery", "json('false')", "notify_recovery", "false" },
		{ "$.repeat_hours", "6", "repeat_hours", "6" },
		{ "$.unknown_key", "1", "failure_window_hours", "3" },
		{ "$.pushover.sound", "'siren'", "pushover.sound", "" },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char *json = json_set_sql(cases[i].path, cases[i].value);
		struct conf *c = NULL;

		assert_int_equal(load_text(SRC, &c, NULL), DL_OK);
		capture_begin();
		assert_int_equal(conf_overlay_json(c, json), DL_OK);
		capture_end();
		assert_get(c, cases[i].key, cases[i].want);
		conf_free(c);
		free(json);
	}
}

static void
test_overlay_bad(void **state)
{
	static const struct { const char *json, *msg; } cases[] = {
		{ "{", "settings row 'monitoring': not valid JSON" },
		{ "", "settings row 'monitoring': not valid JSON" },
		{ "[1, 2]", "settings row 'monitoring': not a JSON object" },
		{ "3", "settings row 'monitoring': not a JSON object" },
		{ "{\"failure_window_hours\": \"three\"}",
		  "settings row 'monitoring': failure_window_hours: bad value 'three' (expected a number" },
		{ "{\"failure_window_hours\": 0}",
		  "settings row 'monitoring': failure_window_hours: bad value '0'" },
		{ "{\"min_consecutive_failures\": 2.5}",
		  "settings row 'monitoring': min_consecutive_failures: bad value '2.5'" },
		{ "{\"enabled\": \"yes\"}", "settings row 'monitoring': enabled: bad value 'yes'" },
		{ "{\"enabled\": 2}", "settings row 'monitoring': enabled: bad value '2'" },
		{ "{\"pushover\": {\"priority\": 5}}",
		  "settings row 'monitoring': pushover.priority: bad value '5' (expected an integer from -2 to 2)" },
		{ "{\"pushover\": true}", "settings row 'monitoring': pushover: bad value" },
		{ "{\"downloaders\": {\"fastdl\": \"off\"}}",
		  "settings row 'monitoring': downloaders.fastdl: bad value 'off'" },
		{ "{\"downloaders\": [1]}", "settings row 'monitoring': downloaders: bad value" },
		{ "{\"downloaders\": {\"\": true}}", "settings row 'monitoring': downloaders.'': bad name" },
		{ "{\"retention_days\": {\"a\": 1}}",
		  "settings row 'monitoring': retention_days: bad value 'object'" },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct conf *c = NULL;
		int r;

		assert_int_equal(load_text(SRC, &c, NULL), DL_OK);
		capture_begin();
		r = conf_overlay_json(c, cases[i].json);
		capture_end();
		if (r != DL_ECONF || strstr(errbuf, cases[i].msg) == NULL)
			fail_msg("case %zu: r=%d stderr '%s', want '%s'", i, r, errbuf, cases[i].msg);
		conf_free(c);
	}
}

static void
test_overlay_pushover(void **state)
{
	static const char row[] =
	    "{\"enabled\": true, \"user_key\": \"uRowUser\", \"api_token\": \"aRowToken\"}";
	struct conf *c = NULL;
	char *sec = write_file("aFileToken\n", 0600), text[256], *out;

	(void)state;
	/* the row supplies what the file lacks */
	assert_int_equal(load_text(SRC, &c, NULL), DL_OK);
	assert_int_equal(conf_overlay_pushover_json(c, row), DL_OK);
	assert_string_equal(c->po.user, "uRowUser");
	assert_string_equal(c->po.token, "aRowToken");
	out = show(c);
	assert_null(strstr(out, "Row"));
	assert_non_null(strstr(out, "pushover.user = (set)   # database (settings.pushover)\n"));
	free(out);
	conf_free(c);

	/* but never overrides the file's */
	snprintf(text, sizeof text, SRC "[pushover]\ntoken_file = %s\n", sec);
	assert_int_equal(load_text(text, &c, NULL), DL_OK);
	assert_int_equal(conf_overlay_pushover_json(c, row), DL_OK);
	assert_string_equal(c->po.token, "aFileToken");
	assert_string_equal(c->po.user, "uRowUser");
	conf_free(c);

	/* bad rows, without echoing a secret */
	assert_int_equal(load_text(SRC, &c, NULL), DL_OK);
	capture_begin();
	assert_int_equal(conf_overlay_pushover_json(c, "{\"user_key\": 12345}"), DL_ECONF);
	assert_int_equal(conf_overlay_pushover_json(c, "{nope"), DL_ECONF);
	capture_end();
	assert_non_null(strstr(errbuf, "settings row 'pushover': user_key: bad value of type integer"));
	assert_non_null(strstr(errbuf, "settings row 'pushover': not valid JSON"));
	assert_null(strstr(errbuf, "12345"));
	assert_null(c->po.user);
	conf_free(c);
	free(sec);
}

/* ----------------------------------------------------- get and hashes */

static void
test_get(void **state)
{
	static const struct { const char *key, *want; } cases[] = {
		{ "failure_window_hours", "2" },
		{ "monitoring.failure_window_hours", "2" },
		{ "enabled", "true" },
		{ "monitoring.enabled", "true" },
		{ "pushover.priority", "-1" },
		{ "pushover.enabled", "true" },
		{ "pushover.api_url", "https://api.pushover.net/1/messages.json" },
		{ "database.busy_timeout_ms", "10000" },
		{ "api.allow_delete", "false" },
		{ "downloaders.fastdl", "false" },
		{ "downloaders.FastDL", "false" },
		{ "downloaders.toolzu", "true" },
		{ "downloader.fastdl.enabled", "false" },
		{ "downloader.fastdl.name", "FastDL" },
		{ "downloader.fastdl.failure_window_hours", "2" },
		{ "downloader.toolzu.name", "Toolzu" },
		{ "downloader.toolzu.min_consecutive_failures", "2" },
		{ "source.media.success", "ok (?<count>\\d+)\nfine" },
		{ "source.media.files", "/var/log/a.log /var/log/b.log" },
		{ "source.media.downloader", "fastdl" },
		{ "source.media.start_at", "beginning" },
		{ "source.media.prefix", "" },
	};
	struct conf *c = NULL;
	char *v = NULL;
	size_t i;

	(void)state;
	assert_int_equal(load_text(
	    "[monitoring]\nfailure_window_hours = 2\n[pushover]\npriority = -1\n"
	    "[source media]\nfiles = /var/log/a.log   /var/log/b.log\ndownloader = FastDL\n"
	    "success = ok (?<count>\\d+)\nsuccess = fine\n"
	    "[downloader fastdl]\nenabled = 0\n", &c, NULL), DL_OK);
	for (i = 0; i < sizeof cases / sizeof cases[0]; i++)
		assert_get(c, cases[i].key, cases[i].want);
	capture_begin();
	assert_int_equal(conf_get(c, "nosuch", &v), DL_ECONF);
	assert_int_equal(conf_get(c, "monitoring.nosuch", &v), DL_ECONF);
	assert_int_equal(conf_get(c, "source.other.files", &v), DL_ECONF);
	capture_end();
	assert_null(v);
	assert_non_null(strstr(errbuf, "unknown setting 'nosuch'"));
	conf_free(c);
}

static void
test_notifier_hash(void **state)
{
	struct conf *a = NULL, *b = NULL;
	unsigned long long h;

	(void)state;
	assert_int_equal(load_text("[pushover]\ntoken = t1\nuser = u1\n", &a, NULL), DL_OK);
	assert_int_equal(load_text("[pushover]\ntoken = t1\nuser = u1\n", &b, NULL), DL_OK);
	h = conf_notifier_hash(a);
	assert_true(h == conf_notifier_hash(b));
	free(a->po.token);
	a->po.token = strdup("t2");
	assert_true(h != conf_notifier_hash(a));
	b->po.priority = 2;
	assert_true(h != conf_notifier_hash(b));
	b->po.priority = 1;
	assert_true(h == conf_notifier_hash(b));
	free(b->po.sound);
	b->po.sound = strdup("siren");
	assert_true(h != conf_notifier_hash(b));
	conf_free(a);
	conf_free(b);
	conf_free(NULL);
}

static int
group_setup(void **state)
{
	(void)state;
	snprintf(tmpdir, sizeof tmpdir, "/tmp/test_conf.XXXXXX");
	if (mkdtemp(tmpdir) == NULL)
		return -1;
	msg_init("test_conf");
	return 0;
}

static int
group_teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
	return system(cmd) == 0 ? 0 : -1;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_missing_file),
		cmocka_unit_test(test_line_length),
		cmocka_unit_test(test_inline_comments),
		cmocka_unit_test(test_repeated_patterns),
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_values),
		cmocka_unit_test(test_secret_files),
		cmocka_unit_test(test_secret_file_missing),
		cmocka_unit_test(test_secret_in_config),
		cmocka_unit_test(test_overlay_seed),
		cmocka_unit_test(test_overlay_json_set),
		cmocka_unit_test(test_overlay_bad),
		cmocka_unit_test(test_overlay_pushover),
		cmocka_unit_test(test_get),
		cmocka_unit_test(test_notifier_hash),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
