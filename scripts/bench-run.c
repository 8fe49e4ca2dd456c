/*
 * bench-run — run one command and report what it cost, for scripts/bench.
 *
 *   bench-run [-i STDIN] [-o STDOUT] [-r REPORT] -- COMMAND [ARG...]
 *
 * Writes one line "wall_s user_s sys_s maxrss_kib rchar exit_status" to
 * REPORT (default: stderr), so the command's own output stays untouched.  A C program rather than
 * Python's os.wait4: a child forked from a 15 MB interpreter reports that
 * interpreter's resident size as its peak, which would hide dlmon's own.
 * rchar (bytes the command passed through read(2) and friends) is read from
 * /proc/PID/io while the child is a zombie (waitid WNOWAIT), before reaping.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static long long
read_rchar(pid_t pid)
{
	char path[64], line[256];
	long long v = -1;
	FILE *fp;

	snprintf(path, sizeof path, "/proc/%d/io", (int)pid);
	fp = fopen(path, "r");
	if (fp == NULL)
		return -1;
	while (fgets(line, sizeof line, fp) != NULL)
		if (sscanf(line, "rchar: %lld", &v) == 1)
			break;
	fclose(fp);
	return v;
}

static int
redirect(const char *path, int fd, int flags)
{
	int f = open(path, flags, 0644);

	if (f < 0 || dup2(f, fd) < 0)
		return -1;
	close(f);
	return 0;
}

int
main(int argc, char **argv)
{
	const char *in = NULL, *out = NULL, *report = NULL;
	struct timespec t0, t1;
	struct rusage ru;
	siginfo_t si;
	long long rchar;
	pid_t pid;
	int i, status;
	FILE *rep;

	for (i = 1; i < argc && strcmp(argv[i], "--") != 0; i++) {
		if (strcmp(argv[i], "-i") == 0 && i + 1 < argc)
			in = argv[++i];
		else if (strcmp(argv[i], "-o") == 0 && i + 1 < argc)
			out = argv[++i];
		else if (strcmp(argv[i], "-r") == 0 && i + 1 < argc)
			report = argv[++i];
		else {
			fprintf(stderr, "usage: bench-run [-i IN] [-o OUT] [-r REPORT] -- CMD [ARG...]\n");
			return 2;
		}
	}
	if (i + 1 >= argc) {
		fprintf(stderr, "usage: bench-run [-i IN] [-o OUT] [-r REPORT] -- CMD [ARG...]\n");
		return 2;
	}
	rep = report ? fopen(report, "w") : stderr;
	if (rep == NULL) {
		perror(report);
		return 2;
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	pid = fork();
	if (pid < 0) {
		perror("bench-run: fork");
		return 2;
	}
	if (pid == 0) {
		if ((in && redirect(in, 0, O_RDONLY) < 0) ||
		    (out && redirect(out, 1, O_WRONLY | O_CREAT | O_TRUNC) < 0)) {
			perror("bench-run: redirect");
			_exit(127);
		}
		execvp(argv[i + 1], argv + i + 1);
		perror(argv[i + 1]);
		_exit(127);
	}
	while (waitid(P_PID, (id_t)pid, &si, WEXITED | WNOWAIT) < 0 && errno == EINTR)
		;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	rchar = read_rchar(pid);
	while (wait4(pid, &status, 0, &ru) < 0 && errno == EINTR)
		;
	fprintf(rep, "%.6f %.6f %.6f %ld %lld %d\n",
	    (double)(t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9,
	    ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6,
	    ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6,
	    ru.ru_maxrss, rchar,
	    WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
	if (rep != stderr)
		fclose(rep);
	return 0;
}
