/*
 * NAME		mbox - open and lock a UNIX mailbox file for appending
 * DESCRIPTION	The order is: open, check, dot-lock, kernel locks.  An
 *		existing file is opened with O_NOFOLLOW and O_NONBLOCK (a FIFO
 *		cannot block us) and then compared with lstat() of the path;
 *		a missing file is created with O_EXCL, so that nothing that
 *		appears between the two steps is followed.  Locks are tried
 *		without blocking every 100 ms for MBOX_LOCK_TRIES seconds, so
 *		that a mail reader holding the mailbox delays delivery instead
 *		of hanging it.  Devices (/dev/null) are not locked.
 * SECURITY	Callers that open a mailbox with root privileges (a spool
 *		directory the user cannot write) pass the recipient's ids:
 *		a created file is given to the recipient, and an existing file
 *		that belongs to anyone else is refused.
 * SEE ALSO	local(8), doc/local.md
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "util/files.h"
#include "util/mem.h"
#include "util/strutil.h"
#include "mbox.h"

/*
 * mbox_lock_mask - parse a mailbox_delivery_lock value ("fcntl, dotlock")
 * into MBOX_LOCK_* bits.  Returns 0, or -1 with a reason for an unknown
 * lock name.
 */
int
mbox_lock_mask(const char *list, int *mask, struct buf *why)
{
	char *copy = xstrdup(list ? list : ""), *cp = copy, *tok;
	int r = 0;

	*mask = 0;
	while ((tok = str_token(&cp, SEPARATORS)) != NULL) {
		if (strcmp(tok, "dotlock") == 0)
			*mask |= MBOX_LOCK_DOTLOCK;
		else if (strcmp(tok, "fcntl") == 0)
			*mask |= MBOX_LOCK_FCNTL;
		else if (strcmp(tok, "flock") == 0)
			*mask |= MBOX_LOCK_FLOCK;
		else {
			buf_printf(why, "unknown mailbox lock method: %s",
			    tok);
			r = -1;
			break;
		}
	}
	free(copy);
	return r;
}

/*
 * mbox_kernel_lock - one kind of kernel lock, tried without blocking
 * every 100 ms for MBOX_LOCK_TRIES seconds
 */
static int
mbox_kernel_lock(int fd, int kind)
{
	struct timespec ts = {0, 100 * 1000 * 1000};
	int i;

	for (i = 0; i < MBOX_LOCK_TRIES * 10; i++) {
		int r = kind == MBOX_LOCK_FCNTL ?
		    file_fcntl_lock(fd, LOCK_EXCL | LOCK_NOWAIT) :
		    file_flock(fd, LOCK_EXCL | LOCK_NOWAIT);

		if (r == 0)
			return 0;
		if (errno != EAGAIN && errno != EACCES &&
		    errno != EWOULDBLOCK)
			return -1;
		if (i + 1 < MBOX_LOCK_TRIES * 10)
			(void)nanosleep(&ts, NULL);
	}
	errno = EAGAIN;
	return -1;
}

/* mbox_open_file - open or create the file; fd or -1 with errno */
static int
mbox_open_file(const char *path, int *created)
{
	int flags = O_WRONLY | O_APPEND | O_NOFOLLOW | O_NONBLOCK |
	    O_NOCTTY | O_CLOEXEC;
	int fd, i;

	*created = 0;
	for (i = 0; i < 3; i++) {
		if ((fd = open(path, flags)) >= 0)
			return fd;
		if (errno != ENOENT)
			return -1;
		if ((fd = open(path, flags | O_CREAT | O_EXCL, 0600)) >= 0) {
			*created = 1;
			return fd;
		}
		if (errno != EEXIST)
			return -1;
	}
	return -1;
}

/*
 * mbox_open - open path for appending with the locks in flags (MBOX_LOCK_*
 * and MBOX_DOTLOCK_MAY_FAIL).  owner is the required owner of an existing
 * regular file ((uid_t)-1: anyone); when chown_new is set a new file is
 * given to owner:group.  Returns 0, or -1 with a reason and *err set to
 * an errno value.
 */
int
mbox_open(struct mbox *mb, const char *path, int flags, uid_t owner,
    gid_t group, int chown_new, struct buf *why, int *err)
{
	struct stat fst, lst;
	char lwhy[512];
	int created, saved;

	memset(mb, 0, sizeof(*mb));
	mb->fd = -1;
	mb->path = xstrdup(path);
	*err = 0;
	/* Not even opened: a device may act on open. */
	if ((flags & MBOX_REGULAR_ONLY) && lstat(path, &lst) == 0 &&
	    !S_ISREG(lst.st_mode) && !S_ISLNK(lst.st_mode)) {
		*err = EPERM;
		buf_printf(why, "file %s is not a regular file", path);
		goto bad;
	}
	if ((mb->fd = mbox_open_file(path, &created)) < 0) {
		*err = errno;
		if (errno == ELOOP)
			buf_printf(why, "cannot open file %s: it is a symbolic "
			    "link", path);
		else
			buf_printf(why, "cannot open file %s: %s", path,
			    strerror(errno));
		goto bad;
	}
	if (fstat(mb->fd, &fst) < 0 || lstat(path, &lst) < 0) {
		*err = errno;
		buf_printf(why, "cannot examine file %s: %s", path,
		    strerror(errno));
		goto bad;
	}
	if (fst.st_dev != lst.st_dev || fst.st_ino != lst.st_ino) {
		*err = EPERM;
		buf_printf(why, "file %s was replaced while being opened",
		    path);
		goto bad;
	}
	if (S_ISREG(fst.st_mode)) {
		mb->regular = 1;
		if (fst.st_nlink != 1) {
			*err = EPERM;
			buf_printf(why, "file %s has %lu hard links", path,
			    (unsigned long)fst.st_nlink);
			goto bad;
		}
		if (created && chown_new && fchown(mb->fd, owner, group) < 0) {
			*err = errno;
			buf_printf(why, "cannot change ownership of %s: %s",
			    path, strerror(errno));
			(void)unlink(path);
			goto bad;
		}
		if (!created && owner != (uid_t)-1 && fst.st_uid != owner) {
			*err = EPERM;
			buf_printf(why, "file %s has wrong owner (uid %lu)",
			    path, (unsigned long)fst.st_uid);
			goto bad;
		}
	} else if (!S_ISCHR(fst.st_mode) || (flags & MBOX_REGULAR_ONLY)) {
		*err = EPERM;
		buf_printf(why, "file %s is not a regular file", path);
		goto bad;
	}
	if (fcntl(mb->fd, F_SETFL, fcntl(mb->fd, F_GETFL) & ~O_NONBLOCK) < 0) {
		*err = errno;
		buf_printf(why, "cannot set file %s to blocking mode: %s", path,
		    strerror(errno));
		goto bad;
	}
	if (mb->regular) {
		if ((flags & MBOX_LOCK_DOTLOCK) && dotlock_acquire(path,
		    MBOX_LOCK_TRIES, lwhy, sizeof(lwhy)) == 0) {
			mb->locks |= MBOX_LOCK_DOTLOCK;
		} else if (flags & MBOX_LOCK_DOTLOCK) {
			saved = errno;
			/* A lock that exists is never ignored. */
			if (!(flags & MBOX_DOTLOCK_MAY_FAIL) ||
			    saved == EAGAIN || saved == EEXIST) {
				buf_printf(why, "unable to lock for exclusive "
				    "access: %s", lwhy);
				*err = saved ? saved : EAGAIN;
				goto bad;
			}
		}
		if ((flags & MBOX_LOCK_FCNTL) &&
		    mbox_kernel_lock(mb->fd, MBOX_LOCK_FCNTL) < 0) {
			*err = errno;
			buf_printf(why, "unable to lock for exclusive access: "
			    "fcntl %s: %s", path, strerror(errno));
			goto bad;
		}
		if ((flags & MBOX_LOCK_FLOCK) &&
		    mbox_kernel_lock(mb->fd, MBOX_LOCK_FLOCK) < 0) {
			*err = errno;
			buf_printf(why, "unable to lock for exclusive access: "
			    "flock %s: %s", path, strerror(errno));
			goto bad;
		}
		mb->locks |= flags & (MBOX_LOCK_FCNTL | MBOX_LOCK_FLOCK);
		if ((mb->size = lseek(mb->fd, 0, SEEK_END)) < 0) {
			*err = errno;
			buf_printf(why, "cannot seek file %s: %s", path,
			    strerror(errno));
			goto bad;
		}
	}
	return 0;
bad:
	mbox_close(mb);
	return -1;
}

/*
 * mbox_truncate - cut the file back to its size at open time (after a
 * failed delivery); 0 or -1.
 */
int
mbox_truncate(struct mbox *mb)
{
	if (mb->fd < 0 || !mb->regular)
		return 0;
	return ftruncate(mb->fd, mb->size);
}

/* mbox_close - release the locks and close; harmless when not open */
void
mbox_close(struct mbox *mb)
{
	if (mb->fd >= 0)
		(void)close(mb->fd);	/* releases fcntl and flock locks */
	if (mb->path && (mb->locks & MBOX_LOCK_DOTLOCK))
		dotlock_release(mb->path);
	free(mb->path);
	memset(mb, 0, sizeof(*mb));
	mb->fd = -1;
}
