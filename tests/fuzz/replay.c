/*
 * replay.c — a main() for the fuzz harnesses without libFuzzer, so that the
 * seed corpora and every input that once crashed (tests/fuzz/corpus/NAME/)
 * are replayed by `make check` with the ordinary compiler (and, with
 * SANITIZE=1 or VALGRIND=1, under the sanitizers or memcheck).
 *
 * Usage: fuzz_NAME-replay FILE|DIR...  Each regular file is one input.
 * Exit 0 when every input ran (a crash aborts the process), 1 when an
 * argument cannot be read: an empty or missing corpus must not pass silently.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz.h"

/* The harness may define it; replay calls it when it does. */
int LLVMFuzzerInitialize(int *argc, char ***argv) __attribute__((weak));

/* Run one file through the harness.  Returns 0, or -1 after a message. */
static int
run_file(const char *path)
{
	FILE *fp = fopen(path, "rb");
	uint8_t *buf = NULL;
	long n;
	int ret = -1;

	if (fp == NULL) {
		fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
		goto out;
	}
	if (fseek(fp, 0, SEEK_END) != 0 || (n = ftell(fp)) < 0 || fseek(fp, 0, SEEK_SET) != 0) {
		fprintf(stderr, "replay: %s: cannot size\n", path);
		goto out;
	}
	/* exactly n bytes (at least 1 for malloc), so overreads are caught */
	if ((buf = malloc(n > 0 ? (size_t)n : 1)) == NULL
	    || (n > 0 && fread(buf, 1, (size_t)n, fp) != (size_t)n)) {
		fprintf(stderr, "replay: %s: cannot read\n", path);
		goto out;
	}
	LLVMFuzzerTestOneInput(buf, (size_t)n);
	ret = 0;
out:
	free(buf);
	if (fp != NULL)
		fclose(fp);
	return ret;
}

/* Run every regular file of dir (not recursive).  Counts into *n. */
static int
run_dir(const char *dir, unsigned *n)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char path[4096];
	int ret = 0;

	if (d == NULL) {
		fprintf(stderr, "replay: %s: %s\n", dir, strerror(errno));
		return -1;
	}
	while ((e = readdir(d)) != NULL) {
		struct stat st;

		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
		if (stat(path, &st) != 0 || !S_ISREG(st.st_mode))
			continue;
		if (run_file(path) != 0)
			ret = -1;
		else
			(*n)++;
	}
	closedir(d);
	return ret;
}

int
main(int argc, char **argv)
{
	unsigned n = 0;
	int i, ret = 0;

	if (LLVMFuzzerInitialize != NULL)
		LLVMFuzzerInitialize(&argc, &argv);
	for (i = 1; i < argc; i++) {
		struct stat st;

		if (stat(argv[i], &st) == 0 && S_ISDIR(st.st_mode))
			ret |= run_dir(argv[i], &n) != 0;
		else if (run_file(argv[i]) == 0)
			n++;
		else
			ret = 1;
	}
	if (n == 0) {
		fprintf(stderr, "replay: no inputs\n");
		ret = 1;
	}
	printf("%s: %u inputs replayed\n", argv[0], n);
	return ret;
}
