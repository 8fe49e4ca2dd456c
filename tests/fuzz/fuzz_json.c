/*
 * fuzz_json.c — libFuzzer harness for the settings rows: the input is the
 * text of the settings row 'monitoring' (or, when it starts with 'P', of the
 * row 'pushover' after that byte), applied with conf_overlay_json /
 * conf_overlay_pushover_json over a configuration loaded from a small fixed
 * file (a fresh one per input, since an overlay changes it), then shown.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf.h"
#include "fuzz.h"
#include "util.h"

static const char base[] =
    "[monitoring]\nfailure_window_hours = 5\n[pushover]\npriority = 0\n"
    "[downloader fastdl]\nname = Fast DL\nmin_consecutive_failures = 4\n";
static char path[64];

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char tmp[] = "/tmp/dlmon-fuzz-json.XXXXXX";
	int fd;

	(void)argc;
	(void)argv;
	msg_init("fuzz_json");
	if ((fd = mkstemp(tmp)) < 0 || write(fd, base, sizeof base - 1) != (ssize_t)(sizeof base - 1))
		abort();
	/* nothing left behind: the file is read through /proc/self/fd */
	unlink(tmp);
	snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct conf *c = NULL;
	char *json;
	FILE *null;

	if (path[0] == '\0')
		LLVMFuzzerInitialize(NULL, NULL);
	/* the row's text as SQLite hands it over: NUL-terminated, may hold NULs */
	if ((json = malloc(size + 1)) == NULL)
		return 0;
	memcpy(json, data, size);
	json[size] = '\0';
	if (conf_load_flags(path, CONF_NO_SECRETS, &c) != DL_OK)
		abort();
	if (size > 0 && json[0] == 'P')
		conf_overlay_pushover_json(c, json + 1);
	else
		conf_overlay_json(c, json);
	if ((null = fopen("/dev/null", "w")) != NULL) {
		conf_show(c, null);
		fclose(null);
	}
	conf_display_name(c, "fastdl");
	conf_window_hours(c, "fastdl");
	conf_min_failures(c, "imginn");
	conf_notifier_hash(c);
	conf_free(c);
	free(json);
	return 0;
}
