/*
 * lock.h — the single-instance lock of dlmon-scan: an flock(2) on a lock file
 * beside the database, released by the kernel when the process dies, so a
 * killed run never leaves a stale lock behind.
 *
 * Error convention: see util.h.
 */
#ifndef DLMON_LOCK_H
#define DLMON_LOCK_H

/*
 * lock_acquire: open (creating, mode 0600) path and take an exclusive
 * non-blocking lock; *fd receives the descriptor (owned by the caller,
 * lock_release).  DL_EBUSY when another process holds it, DL_EFAIL when the
 * file cannot be opened (reported).
 */
int lock_acquire(const char *path, int *fd);
void lock_release(int fd);

#endif
