/*
 * test_source.c — log sources: planning across rotation and line reading.
 * Each test works in its own mkdtemp directory; an in-test array stands in
 * for the dlmon_files table.  After every returned line the position is
 * saved, as ingest does in its transactions, so resuming is exercised too.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "parse.h"
#include "prefilter.h"
#include "source.h"
#include "util.h"

#define MAXPOS 16

/* Read with src_next_block (as ingest does), walking each block's lines
 * with pf_next; the whole suite runs once per mode.  Positions are then
 * saved after each block, not each line. */
static int by_blocks;

/* The positions table of the database. */
struct db {
	char *key[MAXPOS];
	struct src_pos pos[MAXPOS];
	size_t n;
};

struct fx {
	char dir[64];
	struct db db;
	struct strbuf out;     /* lines read, each followed by "\n" ("~T" if truncated) */
	struct strbuf gone;    /* keys reported gone, relative to dir, each + "\n" */
	size_t nitems;         /* items of the last plan */
	int rc;                /* src_plan_build's return */
};

static int
db_lookup(void *ctx, const char *key, struct src_pos *pos)
{
	struct db *db = ctx;
	size_t i;

	memset(pos, 0, sizeof *pos);
	for (i = 0; i < db->n; i++)
		if (strcmp(db->key[i], key) == 0)
			*pos = db->pos[i];
	return DL_OK;
}

static void
db_put(struct db *db, const char *key, const struct src_pos *pos)
{
	size_t i;

	for (i = 0; i < db->n; i++)
		if (strcmp(db->key[i], key) == 0)
			break;
	if (i == db->n) {
		assert_true(db->n < MAXPOS);
		db->key[db->n++] = strdup(key);
	}
	db->pos[i] = *pos;
}

static void
db_del(struct db *db, const char *key)
{
	size_t i;

	for (i = 0; i < db->n; i++)
		if (strcmp(db->key[i], key) == 0) {
			free(db->key[i]);
			db->key[i] = db->key[--db->n];
			db->pos[i] = db->pos[db->n];
			return;
		}
}

static int
setup(void **state)
{
	struct fx *f = calloc(1, sizeof *f);

	assert_non_null(f);
	strcpy(f->dir, "/tmp/test_source.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *f = *state;
	char cmd[128];
	size_t i;

	snprintf(cmd, sizeof cmd, "rm -rf '%s'", f->dir);
	assert_int_equal(system(cmd), 0);
	for (i = 0; i < f->db.n; i++)
		free(f->db.key[i]);
	sb_free(&f->out);
	sb_free(&f->gone);
	free(f);
	return 0;
}

static char *
pth(struct fx *f, const char *name)
{
	static char buf[4][256];
	static int k;

	k = (k + 1) % 4;
	snprintf(buf[k], sizeof buf[k], "%s/%s", f->dir, name);
	return buf[k];
}

static void
put(struct fx *f, const char *name, const char *mode, const void *data, size_t len)
{
	FILE *fp = fopen(pth(f, name), mode);

	assert_non_null(fp);
	assert_int_equal(fwrite(data, 1, len, fp), len);
	assert_int_equal(fclose(fp), 0);
}

static void
wr(struct fx *f, const char *name, const char *s)   { put(f, name, "w", s, strlen(s)); }
static void
app(struct fx *f, const char *name, const char *s)  { put(f, name, "a", s, strlen(s)); }

static void
gzput(struct fx *f, const char *name, const char *s)
{
	gzFile gz = gzopen(pth(f, name), "wb");

	assert_non_null(gz);
	assert_int_equal(gzwrite(gz, s, (unsigned)strlen(s)), (int)strlen(s));
	assert_int_equal(gzclose(gz), Z_OK);
}

/*
 * One ingest pass over the globs (space-separated names relative to dir):
 * plan, read every item saving the position after each line and at the end
 * of each item, forget gone keys.  At most `limit` lines are read (0: all),
 * as if the run were killed there.
 */
static void
scan_opts(struct fx *f, const char *globs, int at_end, unsigned limit)
{
	char *files[4], *copy = strdup(globs), *tok, *save = NULL;
	struct conf_source cs;
	struct src_plan plan;
	char *keys[MAXPOS];
	size_t i, nfiles = 0;
	unsigned nlines = 0;

	memset(&cs, 0, sizeof cs);
	for (tok = strtok_r(copy, " ", &save); tok; tok = strtok_r(NULL, " ", &save))
		files[nfiles++] = strdup(pth(f, tok));
	cs.name = "t";
	cs.files = files;
	cs.nfiles = nfiles;
	cs.start_at_end = at_end;
	for (i = 0; i < f->db.n; i++)
		keys[i] = f->db.key[i];
	sb_reset(&f->out);
	sb_reset(&f->gone);
	f->rc = src_plan_build(&cs, keys, f->db.n, db_lookup, &f->db, &plan);
	f->nitems = plan.nitems;
	for (i = 0; i < plan.nitems && (!limit || nlines < limit); i++) {
		struct src_reader *r = src_open(&plan.items[i]);
		struct src_pos pos;
		const char *line;
		size_t len;
		int tr, rc = 0;
		uint64_t lineno;

		assert_non_null(r);
		assert_int_equal(src_offset(r), plan.items[i].start);
		lineno = plan.items[i].pos.lineno;
		while (by_blocks && !limit) {
			const char *block;
			size_t blen;
			struct pf_cursor cur;
			unsigned long passed;

			rc = src_next_block(r, &block, &blen);
			if (rc == SRC_LINE) {
				if ((rc = src_next_line(r, &line, &len, &tr)) != 1)
					break;
				assert_true(len <= PARSE_MAX_LINE);
				sb_append(&f->out, line, len);
				sb_puts(&f->out, tr ? "~T\n" : "\n");
				lineno++;
			} else if (rc == 1) {
				assert_int_equal(block[blen - 1], '\n');
				assert_true(blen <= PARSE_MAX_LINE);
				pf_start(NULL, &cur, block, blen);
				while (pf_next(NULL, &cur, &line, &len, &passed)) {
					assert_int_equal(passed, 1);
					sb_append(&f->out, line, len);
					sb_puts(&f->out, "\n");
					lineno++;
				}
				assert_int_equal(passed, 0);
			} else
				break;
			src_position(r, &pos);
			pos.lineno = lineno;
			db_put(&f->db, plan.items[i].key, &pos);
		}
		while (!(by_blocks && !limit) &&
		    (!limit || nlines < limit) && (rc = src_next_line(r, &line, &len, &tr)) == 1) {
			assert_true(len <= PARSE_MAX_LINE);
			sb_append(&f->out, line, len);
			sb_puts(&f->out, tr ? "~T\n" : "\n");
			src_position(r, &pos);
			pos.lineno = ++lineno;
			db_put(&f->db, plan.items[i].key, &pos);
			nlines++;
		}
		if (!limit || nlines < limit)
			assert_int_equal(rc, 0);
		src_position(r, &pos);
		assert_int_equal(pos.offset, src_offset(r));
		pos.lineno = lineno;
		db_put(&f->db, plan.items[i].key, &pos);
		src_close(r);
	}
	for (i = 0; i < plan.ngone; i++) {
		sb_printf(&f->gone, "%s\n", plan.gone[i] + strlen(f->dir) + 1);
		db_del(&f->db, plan.gone[i]);
	}
	src_plan_free(&plan);
	for (i = 0; i < nfiles; i++)
		free(files[i]);
	free(copy);
}

static void
scan(struct fx *f, const char *globs) { scan_opts(f, globs, 0, 0); }

#define OUT(f) ((f)->out.buf ? (f)->out.buf : "")
#define GONE(f) ((f)->gone.buf ? (f)->gone.buf : "")

/* Table of simple append/read sequences on one file: each step writes
 * (w) or appends (a) text, then a scan must return exactly `want`. */
struct step { char op; const char *text; const char *want; };
static const struct {
	const char *name;
	struct step steps[5];
} seqs[] = {
	{ "read all, then nothing new", { { 'w', "a\nb\n", "a\nb\n" }, { 'a', "", "" } } },
	{ "append and continue", { { 'w', "a\n", "a\n" }, { 'a', "b\nc\n", "b\nc\n" }, { 'a', "", "" } } },
	{ "incomplete last line waits", { { 'w', "a\nb", "a\n" }, { 'a', "", "" },
	    { 'a', "c\nd", "bc\n" }, { 'a', "\n", "d\n" }, { 'a', "", "" } } },
	{ "CRLF stripped, one CR only", { { 'w', "a\r\nb\r\r\nc\rd\n", "a\nb\r\nc\rd\n" } } },
	{ "first line empty", { { 'w', "\nb\n", "\nb\n" }, { 'a', "\n", "\n" } } },
	{ "empty file, then content", { { 'w', "", "" }, { 'a', "", "" }, { 'a', "x\n", "x\n" } } },
	{ "truncated and regrown past the offset", { { 'w', "header\nx\n", "header\nx\n" },
	    { 'w', "header\nyyyyyyyyyyyyyy\n", "header\nyyyyyyyyyyyyyy\n" }, { 'a', "", "" } } },
	{ "same inode, other content, same size", { { 'w', "abc\n", "abc\n" },
	    { 'w', "xyz\n", "xyz\n" }, { 'a', "", "" } } },
	{ "truncated to empty, then written", { { 'w', "abc\ndef\n", "abc\ndef\n" },
	    { 'w', "", "" }, { 'a', "g\n", "g\n" } } },
};

static void
test_sequences(void **state)
{
	struct fx *f = *state;
	size_t i, j;

	for (i = 0; i < sizeof seqs / sizeof *seqs; i++) {
		const struct step *s = seqs[i].steps;
		for (j = 0; j < 5 && s[j].op; j++) {
			if (s[j].op == 'w')
				wr(f, "X.log", s[j].text);
			else
				app(f, "X.log", s[j].text);
			scan(f, "X.log");
			if (strcmp(OUT(f), s[j].want) != 0)
				fail_msg("%s, step %zu: got \"%s\", want \"%s\"", seqs[i].name, j,
				    OUT(f), s[j].want);
			assert_int_equal(f->rc, DL_OK);
		}
		/* A run with nothing new plans nothing to read. */
		scan(f, "X.log");
		assert_int_equal(f->nitems, 0);
		unlink(pth(f, "X.log"));
		scan(f, "X.log");
		assert_string_equal(GONE(f), "X.log\n");
		assert_int_equal(f->db.n, 0);
	}
}

/* Killed after every line: each run resumes exactly after the last one. */
static void
test_resume_each_line(void **state)
{
	struct fx *f = *state;
	struct strbuf all = { 0 };
	int i;

	wr(f, "X.log", "1\n22\n\n333\r\n4444\npartial");
	for (i = 0; i < 8; i++) {
		scan_opts(f, "X.log", 0, 1);
		sb_puts(&all, OUT(f));
	}
	assert_string_equal(all.buf, "1\n22\n\n333\n4444\n");
	assert_int_equal(f->db.pos[0].lineno, 5);
	sb_free(&all);
}

static void
test_nul_and_long_line(void **state)
{
	struct fx *f = *state;
	size_t big = 3 * 1024 * 1024;
	char *buf = malloc(big + 1);
	size_t i;

	assert_non_null(buf);
	put(f, "X.log", "w", "a\0b\n", 4);
	scan(f, "X.log");
	assert_int_equal(f->out.len, 4);
	assert_memory_equal(f->out.buf, "a\0b\n", 4);

	for (i = 0; i < big; i++)
		buf[i] = (char)('a' + i % 26);
	put(f, "X.log", "a", buf, big);
	/* the long line is incomplete: nothing yet */
	scan(f, "X.log");
	assert_int_equal(f->out.len, 0);
	buf[0] = '\n';
	put(f, "X.log", "a", buf, 1);
	app(f, "X.log", "next\n");
	scan(f, "X.log");
	assert_int_equal(f->out.len, PARSE_MAX_LINE + 3 + 5);
	assert_int_equal(f->out.buf[0], 'a');
	assert_memory_equal(f->out.buf + 1, buf + 1, PARSE_MAX_LINE - 1);
	assert_memory_equal(f->out.buf + PARSE_MAX_LINE, "~T\nnext\n", 8);
	scan(f, "X.log");
	assert_int_equal(f->out.len, 0);
	free(buf);
}

/* Line of exactly PARSE_MAX_LINE bytes plus CR LF: not truncated. */
static void
test_max_line_crlf(void **state)
{
	struct fx *f = *state;
	char *buf = malloc(PARSE_MAX_LINE + 2);

	assert_non_null(buf);
	memset(buf, 'x', PARSE_MAX_LINE);
	memcpy(buf + PARSE_MAX_LINE, "\r\n", 2);
	put(f, "X.log", "w", buf, PARSE_MAX_LINE + 2);
	app(f, "X.log", "y\n");
	scan(f, "X.log");
	assert_int_equal(f->out.len, PARSE_MAX_LINE + 1 + 2);
	assert_memory_equal(f->out.buf + PARSE_MAX_LINE, "\ny\n", 3);
	free(buf);
}

static void
test_rename_and_create(void **state)
{
	struct fx *f = *state;

	wr(f, "X.log", "1\n2\n");
	scan(f, "X.log");
	assert_string_equal(OUT(f), "1\n2\n");
	app(f, "X.log", "3\n");
	assert_int_equal(rename(pth(f, "X.log"), pth(f, "X.log.1")), 0);
	app(f, "X.log.1", "4\n");      /* the writer still held it open */
	wr(f, "X.log", "5\n");
	wr(f, "X.log.2", "1\n2\nold\n");   /* an older rotation: not the predecessor */
	scan(f, "X.log");
	assert_string_equal(OUT(f), "3\n4\n5\n");
	scan(f, "X.log");
	assert_string_equal(OUT(f), "");
	assert_int_equal(f->nitems, 0);
}

/* Killed in the middle of the rotated tail, then between tail and new file. */
static void
test_rename_killed(void **state)
{
	struct fx *f = *state;
	struct strbuf all = { 0 };
	int i;

	wr(f, "X.log", "1\n");
	scan(f, "X.log");
	app(f, "X.log", "2\n3\n");
	assert_int_equal(rename(pth(f, "X.log"), pth(f, "X.log.1")), 0);
	wr(f, "X.log", "4\n5\n");
	for (i = 0; i < 6; i++) {
		scan_opts(f, "X.log", 0, 1);
		sb_puts(&all, OUT(f));
	}
	assert_string_equal(all.buf, "2\n3\n4\n5\n");
	assert_int_equal(f->db.pos[0].lineno, 2);   /* lines of the new file */
	sb_free(&all);
}

static void
test_rotated_gz(void **state)
{
	struct fx *f = *state;

	wr(f, "X.log", "1\n2\n");
	scan(f, "X.log");
	app(f, "X.log", "3\n");
	gzput(f, "X.log.1.gz", "1\n2\n3\n");
	unlink(pth(f, "X.log"));
	wr(f, "X.log", "4\n");
	scan(f, "X.log");
	assert_string_equal(OUT(f), "3\n4\n");
	scan(f, "X.log");
	assert_string_equal(OUT(f), "");
}

/* Live file gone, its rotated (gzip) file holds unread lines: read, then gone. */
static void
test_gone_after_tail(void **state)
{
	struct fx *f = *state;

	wr(f, "X.log", "1\n");
	wr(f, "Y.log", "y\n");
	scan(f, "*.log");
	assert_string_equal(OUT(f), "1\ny\n");
	app(f, "X.log", "2\n");
	gzput(f, "X.log.1.gz", "1\n2\n");
	unlink(pth(f, "X.log"));
	scan(f, "*.log");
	assert_string_equal(OUT(f), "2\n");
	assert_string_equal(GONE(f), "");
	scan(f, "*.log");
	assert_string_equal(OUT(f), "");
	assert_string_equal(GONE(f), "X.log\n");
	assert_int_equal(f->db.n, 1);
}

static void
test_copytruncate(void **state)
{
	struct fx *f = *state;

	wr(f, "X.log", "1\n2\n");
	scan(f, "X.log");
	app(f, "X.log", "3\n");
	wr(f, "X.log.1", "1\n2\n3\n");       /* the copy */
	assert_int_equal(truncate(pth(f, "X.log"), 0), 0);
	app(f, "X.log", "4\n");
	scan(f, "X.log");
	assert_string_equal(OUT(f), "3\n4\n");
	scan(f, "X.log");
	assert_string_equal(OUT(f), "");
	/* copytruncate again, the new content now longer than the old offset */
	app(f, "X.log", "5\n");
	wr(f, "X.log.1", "4\n5\n");
	wr(f, "X.log", "666666\n777777\n");
	scan(f, "X.log");
	assert_string_equal(OUT(f), "5\n666666\n777777\n");
}

static void
test_identical_heads(void **state)
{
	struct fx *f = *state;

	wr(f, "A.log", "same\nA\n");
	wr(f, "B.log", "same\nB\n");
	scan(f, "*.log");
	assert_string_equal(OUT(f), "same\nA\nsame\nB\n");
	app(f, "B.log", "B2\n");
	scan(f, "*.log");
	assert_string_equal(OUT(f), "B2\n");
	assert_int_equal(f->db.n, 2);
}

static void
test_glob_matches_rotated(void **state)
{
	struct fx *f = *state;

	wr(f, "X.log", "a\n");
	wr(f, "X.log.1", "old\n");
	wr(f, "X.log-20251119.gz", "junk");
	wr(f, "X.logger", "other\n");   /* not a rotated name: its own file */
	scan(f, "X.log*");
	assert_string_equal(OUT(f), "a\nother\n");
	/* two globs matching the same file read it once */
	scan(f, "X.log X.lo?");
	assert_string_equal(OUT(f), "");
	assert_string_equal(GONE(f), "");   /* X.logger still exists: kept */
	assert_int_equal(f->db.n, 2);
}

/* The glob also matches rotated names, and the rotation is seen before the
 * new live file exists: the renamed file is followed, never read twice. */
static void
test_renamed_into_glob(void **state)
{
	struct fx *f = *state;

	wr(f, "X.log", "1\n");
	scan(f, "X.log*");
	app(f, "X.log", "2\n");
	assert_int_equal(rename(pth(f, "X.log"), pth(f, "X.log.1")), 0);
	scan(f, "X.log*");
	assert_string_equal(OUT(f), "2\n");
	assert_string_equal(GONE(f), "X.log\n");
	app(f, "X.log.1", "3\n");
	wr(f, "X.log", "4\n");
	scan(f, "X.log*");
	assert_string_equal(OUT(f), "3\n4\n");
	scan(f, "X.log*");
	assert_string_equal(OUT(f), "");
	assert_int_equal(f->nitems, 0);
	assert_int_equal(rename(pth(f, "X.log.1"), pth(f, "X.log.2")), 0);
	scan(f, "X.log*");
	assert_string_equal(OUT(f), "");
	assert_string_equal(GONE(f), "X.log.1\n");
}

static void
test_deleted(void **state)
{
	struct fx *f = *state;

	wr(f, "A.log", "a\n");
	wr(f, "B.log", "b\n");
	scan(f, "*.log");
	assert_int_equal(f->db.n, 2);
	unlink(pth(f, "A.log"));
	scan(f, "*.log");
	assert_string_equal(GONE(f), "A.log\n");
	assert_int_equal(f->db.n, 1);
	assert_string_equal(f->db.key[0], pth(f, "B.log"));
}

/* Runs scan with stderr captured into err (at most errlen - 1 bytes). */
static void
scan_capture(struct fx *f, const char *globs, char *err, size_t errlen)
{
	FILE *tmp = tmpfile();
	int saved = dup(2);
	size_t n;

	assert_non_null(tmp);
	fflush(stderr);
	dup2(fileno(tmp), 2);
	scan(f, globs);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	rewind(tmp);
	n = fread(err, 1, errlen - 1, tmp);
	err[n] = '\0';
	fclose(tmp);
}

static void
test_dir_and_fifo(void **state)
{
	struct fx *f = *state;
	char err[1024];

	assert_int_equal(mkdir(pth(f, "D.log"), 0700), 0);
	assert_int_equal(mkfifo(pth(f, "F.log"), 0600), 0);
	wr(f, "R.log", "r\n");
	scan_capture(f, "*.log", err, sizeof err);
	assert_string_equal(OUT(f), "r\n");
	assert_non_null(strstr(err, "D.log: not a regular file"));
	assert_non_null(strstr(err, "F.log: not a regular file"));
	/* a FIFO named like a rotated file is never opened either */
	assert_int_equal(mkfifo(pth(f, "R.log.1"), 0600), 0);
	wr(f, "R.log.new", "x\n");
	assert_int_equal(rename(pth(f, "R.log.new"), pth(f, "R.log")), 0);
	scan_capture(f, "R.log", err, sizeof err);
	assert_string_equal(OUT(f), "x\n");
	assert_non_null(strstr(err, "R.log: replaced"));
}

static void
test_no_match(void **state)
{
	struct fx *f = *state;
	char err[1024];

	scan_capture(f, "*.log", err, sizeof err);
	assert_int_equal(f->rc, DL_OK);
	assert_int_equal(f->nitems, 0);
	assert_non_null(strstr(err, "source t: no file matches"));
}

static void
test_start_at_end(void **state)
{
	struct fx *f = *state;

	wr(f, "A.log", "a\nb\npart");
	wr(f, "E.log", "");
	scan_opts(f, "*.log", 1, 0);
	assert_string_equal(OUT(f), "");
	app(f, "A.log", "ial\nc\n");
	app(f, "E.log", "e\n");
	wr(f, "B.log", "new\n");    /* appears later: read from its beginning */
	scan_opts(f, "*.log", 1, 0);
	assert_string_equal(OUT(f), "partial\nc\nnew\ne\n");
}

/* Position identity: refreshed fingerprint grows with the file. */
static void
test_fingerprint_grows(void **state)
{
	struct fx *f = *state;
	char big[3000];

	wr(f, "X.log", "ab\n");
	scan(f, "X.log");
	assert_int_equal(f->db.pos[0].fp_len, 3);
	memset(big, 'z', sizeof big - 2);
	big[sizeof big - 2] = '\n';
	big[sizeof big - 1] = '\0';
	app(f, "X.log", big);
	scan(f, "X.log");
	assert_int_equal(f->db.pos[0].fp_len, SRC_FP_MAX);
	assert_int_equal(f->db.pos[0].offset, 3 + sizeof big - 1);
	/* a different 1 KiB head at the same inode is another file */
	big[5] = 'Q';
	put(f, "X.log", "r+", big, 10);
	scan(f, "X.log");
	assert_int_equal(f->out.len, 3 + sizeof big - 1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_sequences, setup, teardown),
		cmocka_unit_test_setup_teardown(test_resume_each_line, setup, teardown),
		cmocka_unit_test_setup_teardown(test_nul_and_long_line, setup, teardown),
		cmocka_unit_test_setup_teardown(test_max_line_crlf, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rename_and_create, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rename_killed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rotated_gz, setup, teardown),
		cmocka_unit_test_setup_teardown(test_gone_after_tail, setup, teardown),
		cmocka_unit_test_setup_teardown(test_copytruncate, setup, teardown),
		cmocka_unit_test_setup_teardown(test_identical_heads, setup, teardown),
		cmocka_unit_test_setup_teardown(test_glob_matches_rotated, setup, teardown),
		cmocka_unit_test_setup_teardown(test_renamed_into_glob, setup, teardown),
		cmocka_unit_test_setup_teardown(test_deleted, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dir_and_fifo, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_match, setup, teardown),
		cmocka_unit_test_setup_teardown(test_start_at_end, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fingerprint_grows, setup, teardown),
	};

	int failed;

	msg_init("test_source");
	failed = cmocka_run_group_tests_name("lines", tests, NULL, NULL);
	by_blocks = 1;
	return failed + cmocka_run_group_tests_name("blocks", tests, NULL, NULL);
}
