/* lock.c — see lock.h. */
#include "lock.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "util.h"

int
lock_acquire(const char *path, int *fd)
{
	int d;

	*fd = -1;
	d = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (d == -1) {
		msg_err("%s: cannot open lock file: %s", path, strerror(errno));
		return DL_EFAIL;
	}
	if (flock(d, LOCK_EX | LOCK_NB) == -1) {
		int e = errno;
		close(d);
		if (e == EWOULDBLOCK) {
			msg_err("%s: another dlmon-scan is running", path);
			return DL_EBUSY;
		}
		msg_err("%s: cannot lock: %s", path, strerror(e));
		return DL_EFAIL;
	}
	*fd = d;
	return DL_OK;
}

void
lock_release(int fd)
{
	if (fd >= 0)
		close(fd);
}
