/*
 * fuzz_conf.c — libFuzzer harness for the configuration reader: the input is
 * written to a private temporary file (mode 0600, unlinked at once and read
 * as /proc/self/fd/N, so nothing is left behind) and read with conf_load
 * (inih plus our validation).  A configuration that loads is then used the
 * way the programs use it: conf_show, conf_get, and a parser for each source
 * (its patterns compiled).  Secrets are not read (CONF_NO_SECRETS): an input
 * naming a FIFO or a device as user_file would otherwise block the fuzzer,
 * and reading arbitrary files is not what is under test here.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "conf.h"
#include "fuzz.h"
#include "parse.h"
#include "util.h"

/* in memory when possible: ftruncate on a disk costs milliseconds per input */
static char path[64];
static int fd = -1;

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	msg_init("fuzz_conf");
	snprintf(path, sizeof path, "%s/dlmon-fuzz-conf.XXXXXX",
	    access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp");
	if ((fd = mkstemp(path)) < 0)
		abort();
	/* nothing left behind: the file is read through /proc/self/fd */
	unlink(path);
	snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const keys[] = {
		"monitoring.failure_window_hours", "database.path", "pushover.api_url",
		"failure_window_hours", "downloaders.fastdl", "pushover.user",
	};
	struct conf *c = NULL;
	FILE *null;
	size_t i;

	if (fd < 0)
		LLVMFuzzerInitialize(NULL, NULL);
	if (ftruncate(fd, 0) != 0 || pwrite(fd, data, size, 0) != (ssize_t)size)
		abort();
	if (conf_load_flags(path, CONF_NO_SECRETS, &c) != DL_OK)
		return 0;
	if ((null = fopen("/dev/null", "w")) != NULL) {
		conf_show(c, null);
		fclose(null);
	}
	for (i = 0; i < sizeof keys / sizeof keys[0]; i++) {
		char *v = NULL;

		conf_get(c, keys[i], &v);
		free(v);
	}
	for (i = 0; i < c->nsources; i++) {
		int err;

		parser_free(parser_new(c, &c->sources[i], &err));
	}
	conf_free(c);
	return 0;
}
