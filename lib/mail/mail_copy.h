/*
 * NAME		mail_copy - write a queued message to a file or a command
 * DESCRIPTION	mail_copy() reads the content of a queue file (from the
 *		offset of its M record, as a delivery request gives it) and
 *		writes it to a descriptor, one line per content line, with
 *		the envelope information that final delivery adds in front:
 *		a "From sender date" line, Return-Path:, X-Original-To: and
 *		Delivered-To:.  In mbox format, lines that start with "From "
 *		are quoted as ">From " and a blank line ends the message.  A
 *		size limit makes the copy fail with EFBIG before the output
 *		grows beyond it.
 */
#ifndef MAIL_MAIL_COPY_H
#define MAIL_MAIL_COPY_H

#include <sys/types.h>
#include <time.h>

#include "util/buf.h"

#define MAIL_COPY_FROM		(1 << 0)	/* "From sender date" line */
#define MAIL_COPY_QUOTE		(1 << 1)	/* "From " -> ">From " */
#define MAIL_COPY_RETURN_PATH	(1 << 2)	/* Return-Path: <sender> */
#define MAIL_COPY_DELIVERED	(1 << 3)	/* Delivered-To: address */
#define MAIL_COPY_ORIG_RCPT	(1 << 4)	/* X-Original-To: address */
#define MAIL_COPY_BLANK		(1 << 5)	/* blank line at the end */
#define MAIL_COPY_MBOX		(MAIL_COPY_FROM | MAIL_COPY_QUOTE | \
				 MAIL_COPY_RETURN_PATH | MAIL_COPY_DELIVERED | \
				 MAIL_COPY_ORIG_RCPT | MAIL_COPY_BLANK)

#define MAIL_COPY_STAT_OK	0
#define MAIL_COPY_STAT_READ	1	/* queue file unreadable or corrupt */
#define MAIL_COPY_STAT_WRITE	2	/* output failed; see *err */

#define MAIL_COPY_DAEMON	"MAILER-DAEMON"	/* From line for <> */

struct mail_copy_src {
	int	 fd;			/* the queue file */
	long	 data_offset;		/* of its M record */
	const char *sender;		/* envelope sender, "" for <> */
	const char *delivered;		/* Delivered-To value, or NULL */
	const char *orig_rcpt;		/* X-Original-To value, or NULL */
	time_t	 now;			/* From line date; 0: the clock */
};

int	 mail_copy(const struct mail_copy_src *, int, int, off_t, off_t *,
	    struct buf *, int *);
void	 mail_copy_from_line(struct buf *, const char *, time_t);

#endif
