/*
 * NAME		qspare - spare queue files, reused instead of unlinked
 * DESCRIPTION	When a message is finished, qmgr moves its queue file into
 *		spare/ (qspare_put) instead of removing it, as long as
 *		spare/ holds fewer than spare_queue_file_limit files.
 *		cleanup takes a spare for a new message (qspare_take) and
 *		writes over it in place; the file gets a new queue ID from
 *		the time and its inode, as a new file would, or the ID the
 *		message already has from maildrop/ (qspare_take_named).  No inode and
 *		no data block is freed and allocated again per message,
 *		which on ext4 is a large part of the kernel's work per
 *		message.  qspare_sweep() removes spares unused for a while.
 * SECURITY	A spare still holds a finished message's bytes; spare/ is
 *		mode 0700 like every queue, and spares are swept.  A taker
 *		locks the file and checks that it is still the file in
 *		spare/ before it changes anything, then spoils the first
 *		record and clears the ready bit before the file appears in
 *		incoming/, so neither a racing cleanup nor a crash can
 *		bring the old message back.
 */
#ifndef MAIL_QSPARE_H
#define MAIL_QSPARE_H

#include <sys/time.h>
#include <sys/types.h>
#include <time.h>

#include "util/buf.h"

#define Q_SPARE		"spare"

int	 qspare_take(const char *, char *, struct buf *, struct timeval *,
	    mode_t, off_t *);
int	 qspare_take_named(const char *, const char *, struct buf *, mode_t,
	    off_t *);
int	 qspare_put(const char *, const char *);
void	 qspare_sweep(time_t);

#endif
