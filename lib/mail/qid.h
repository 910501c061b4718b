/*
 * NAME		qid - queue IDs
 * DESCRIPTION	Long queue IDs (the default) sort by arrival time: six
 *		base-51 digits of seconds, four of microseconds, 'z', then the
 *		inode number of the queue file in base 51.  Short IDs are
 *		Postfix's classic five hex digits of microseconds followed by
 *		the inode number in hex.  The inode makes an ID unique while
 *		its file exists.
 */
#ifndef MAIL_QID_H
#define MAIL_QID_H

#include <stddef.h>
#include <sys/types.h>
#include <sys/time.h>

#define QID_MAX		32	/* longest ID plus NUL, with room */

void	 qid_make(char *, const struct timeval *, ino_t, int);
int	 qid_valid(const char *, size_t);
int	 qid_hash_char(const char *, int);
int	 qid_time(const char *, long *);

#endif
