/*
 * NAME		maildir - deliver a message into a Maildir, exactly once
 * DESCRIPTION	maildir_name() builds the file name of a delivery from facts
 *		that do not change when the delivery is tried again: the
 *		message arrival time, the queue ID and the queue file offset
 *		of the recipient ("<sec>.Q<queueid>R<offset>.<host>").
 *		maildir_deliver() creates the Maildir (tmp, new, cur) when it
 *		is missing, writes the message to tmp/<name>, fsyncs it and
 *		renames it into new/.  When new/<name> already exists, or
 *		(check_cur) a file in cur/ is named <name> or <name>:<info>,
 *		an earlier attempt delivered the message and died before it
 *		could report: nothing is written again.
 */
#ifndef MAIL_MAILDIR_H
#define MAIL_MAILDIR_H

#include <sys/types.h>

#include "util/buf.h"
#include "mail_copy.h"

#define MAILDIR_DELIVERED	0	/* written now */
#define MAILDIR_ALREADY		1	/* an earlier attempt wrote it */
#define MAILDIR_FAILED		(-1)	/* see *err (0: queue file error) */

void	 maildir_name(struct buf *, long, const char *, long, const char *);
int	 maildir_make(const char *, struct buf *, int *);
int	 maildir_seen(const char *, const char *, int);
int	 maildir_deliver(const char *, const char *,
	    const struct mail_copy_src *, int, off_t, int, struct buf *,
	    int *);

#endif
