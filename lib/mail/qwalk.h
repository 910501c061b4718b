/*
 * NAME		qwalk - walk a queue directory and its hash subdirectories
 * DESCRIPTION	qwalk() lists one queue (a path relative to the queue
 *		directory), in name order, and calls fn for every entry that
 *		is not a one-character subdirectory; with QWALK_RECURSE it
 *		descends into one-character subdirectories (the hash levels),
 *		at most QWALK_DEPTH_MAX deep, and calls dir_done (when set)
 *		after each.  Symbolic links are never followed.
 *
 *		qwalk_file_ok() is the test every reader applies before it
 *		trusts a queue file: a regular file with one link, complete
 *		(owner execute bit set).
 */
#ifndef MAIL_QWALK_H
#define MAIL_QWALK_H

#include <sys/stat.h>

#include "util/buf.h"

#define QWALK_RECURSE		(1 << 0)
#define QWALK_DEPTH_MAX		4
#define QWALK_NAMES_MAX		1000000		/* per directory */

typedef int (*qwalk_fn)(const char *, const char *, const struct stat *,
	    int, void *);

int	 qwalk(const char *, int, qwalk_fn, qwalk_fn, void *, struct buf *);
int	 qwalk_file_ok(const char *, const struct stat *, struct buf *);

#endif
