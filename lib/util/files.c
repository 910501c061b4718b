/*
 * NAME		files - file helpers: whole reads and writes, locks, dirs
 * DESCRIPTION	file_replace() writes a temporary file beside the target,
 *		fsyncs it and renames it into place, so readers see the old
 *		or the new file, never a mix.  Locks: file_flock() uses
 *		flock(2), which belongs to the open file and so is released
 *		when the holder dies; file_fcntl_lock() uses POSIX record
 *		locks, which mailbox readers expect.  Dot-locks follow the
 *		traditional "mailbox.lock" protocol with stale lock removal.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "files.h"
#include "log.h"
#include "mem.h"

/* write_all - write everything; 0 ok, -1 error */
int
write_all(int fd, const void *p, size_t n)
{
	const char *cp = p;
	ssize_t r;

	while (n > 0) {
		if ((r = write(fd, cp, n)) < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		cp += r;
		n -= (size_t)r;
	}
	return 0;
}

/* pwrite_all - positional write of everything */
int
pwrite_all(int fd, const void *p, size_t n, off_t off)
{
	const char *cp = p;
	ssize_t r;

	while (n > 0) {
		if ((r = pwrite(fd, cp, n, off)) < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		cp += r;
		n -= (size_t)r;
		off += r;
	}
	return 0;
}

/* read_fd_all - read to EOF, at most max bytes (else EFBIG) */
int
read_fd_all(int fd, struct buf *out, size_t max)
{
	ssize_t r;

	buf_reset(out);
	for (;;) {
		buf_reserve(out, 8192);
		r = read(fd, out->p + out->len, out->cap - out->len - 1);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (r == 0)
			break;
		out->len += (size_t)r;
		if (out->len > max) {
			errno = EFBIG;
			return -1;
		}
	}
	out->p[out->len] = 0;
	return 0;
}

/* file_read - read a whole file of at most max bytes */
int
file_read(const char *path, struct buf *out, size_t max)
{
	int fd, r, saved;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return -1;
	r = read_fd_all(fd, out, max);
	saved = errno;
	close(fd);
	errno = saved;
	return r;
}

/* file_replace - atomically replace path with the given content */
int
file_replace(const char *path, const void *p, size_t n, mode_t mode)
{
	char *tmp = xasprintf("%s.tmp.%ld", path, (long)getpid());
	int fd, saved;

	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
	    mode)) < 0)
		goto bad;
	if (write_all(fd, p, n) < 0 || fsync(fd) < 0) {
		saved = errno;
		close(fd);
		errno = saved;
		goto bad;
	}
	if (close(fd) < 0 || rename(tmp, path) < 0)
		goto bad;
	free(tmp);
	return 0;
bad:
	saved = errno;
	(void)unlink(tmp);
	free(tmp);
	errno = saved;
	return -1;
}

/* file_flock - flock(2) with LOCK_* flags from files.h */
int
file_flock(int fd, int how)
{
	int op = (how & LOCK_SHARED) ? LOCK_SH : LOCK_EX;

	if (how & LOCK_NOWAIT)
		op |= LOCK_NB;
	while (flock(fd, op) < 0) {
		if (errno != EINTR)
			return -1;
	}
	return 0;
}

/* file_funlock - release a flock(2) lock */
int
file_funlock(int fd)
{
	return flock(fd, LOCK_UN);
}

/* file_fcntl_lock - POSIX whole-file lock with LOCK_* flags */
int
file_fcntl_lock(int fd, int how)
{
	struct flock fl;

	memset(&fl, 0, sizeof(fl));
	fl.l_type = (how & LOCK_SHARED) ? F_RDLCK : F_WRLCK;
	fl.l_whence = SEEK_SET;
	while (fcntl(fd, (how & LOCK_NOWAIT) ? F_SETLK : F_SETLKW, &fl) < 0) {
		if (errno != EINTR)
			return -1;
	}
	return 0;
}

/*
 * dotlock_acquire - create "path.lock" exclusively, trying every 100 ms
 * for up to tries seconds (at least once); a lock older than 500 seconds
 * is stale and removed, as mail readers expect.  On failure errno is
 * EAGAIN when the lock exists, else the error of the create.
 */
int
dotlock_acquire(const char *path, int tries, char *why, size_t whylen)
{
	char *lock = xasprintf("%s.lock", path);
	struct timespec ts = {0, 100 * 1000 * 1000};
	struct stat st;
	int fd, i, saved, attempts = tries > 0 ? tries * 10 : 1;

	for (i = 0; i < attempts; i++) {
		fd = open(lock, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
		if (fd >= 0) {
			close(fd);
			free(lock);
			return 0;
		}
		if (errno != EEXIST) {
			saved = errno;
			snprintf(why, whylen, "create lock file %s: %s", lock,
			    strerror(saved));
			free(lock);
			errno = saved;
			return -1;
		}
		if (stat(lock, &st) == 0 && time(NULL) - st.st_mtime > 500) {
			(void)unlink(lock);
			continue;
		}
		if (i + 1 < attempts)
			(void)nanosleep(&ts, NULL);
	}
	snprintf(why, whylen, "unable to lock %s: lock file exists", path);
	free(lock);
	errno = EAGAIN;
	return -1;
}

/* dotlock_release - remove "path.lock" */
void
dotlock_release(const char *path)
{
	char *lock = xasprintf("%s.lock", path);

	(void)unlink(lock);
	free(lock);
}

/* dir_fsync - fsync a directory, so that names created in it persist */
int
dir_fsync(const char *dir)
{
	int fd, r, saved;

	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		return -1;
	r = fsync(fd);
	saved = errno;
	close(fd);
	errno = saved;
	return r;
}

/* mkdir_p - create a directory and its parents */
int
mkdir_p(const char *path, mode_t mode)
{
	char *copy = xstrdup(path), *p;
	int r = 0;

	for (p = copy + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = 0;
		if (mkdir(copy, 0755) < 0 && errno != EEXIST)
			r = -1;
		*p = '/';
		if (r < 0)
			break;
	}
	if (r == 0 && mkdir(copy, mode) < 0 && errno != EEXIST)
		r = -1;
	free(copy);
	return r;
}
