/*
 * NAME		mbox - open and lock a UNIX mailbox file for appending
 * DESCRIPTION	mbox_open() opens (or creates, mode 0600) a mailbox file for
 *		appending and takes the locks named in mailbox_delivery_lock
 *		(dotlock, fcntl, flock).  It refuses symbolic links, files
 *		with more than one hard link, files replaced while being
 *		opened and (when an owner is given) files owned by someone
 *		else.  A character device such as /dev/null is accepted and
 *		not locked.  The size at open time is kept, so that a failed
 *		delivery can be cut off again with mbox_truncate().
 *		mbox_close() releases the locks; a dot-lock is removed with
 *		the caller's current privileges, so call it with the same
 *		effective ids as mbox_open().
 */
#ifndef MAIL_MBOX_H
#define MAIL_MBOX_H

#include <sys/types.h>

#include "util/buf.h"

#define MBOX_LOCK_DOTLOCK	(1 << 0)
#define MBOX_LOCK_FCNTL		(1 << 1)
#define MBOX_LOCK_FLOCK		(1 << 2)
#define MBOX_DOTLOCK_MAY_FAIL	(1 << 8)	/* no dot-lock: go on */
#define MBOX_REGULAR_ONLY	(1 << 9)	/* never open a device */

#define MBOX_LOCK_TRIES		20		/* seconds to wait for a lock */

struct mbox {
	int	 fd;
	char	*path;
	int	 locks;			/* MBOX_LOCK_* held */
	int	 regular;		/* a regular file (else a device) */
	off_t	 size;			/* size when opened */
};

int	 mbox_lock_mask(const char *, int *, struct buf *);
int	 mbox_open(struct mbox *, const char *, int, uid_t, gid_t, int,
	    struct buf *, int *);
int	 mbox_truncate(struct mbox *);
void	 mbox_close(struct mbox *);

#endif
