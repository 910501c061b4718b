/*
 * NAME		rec - typed, length-prefixed records
 * DESCRIPTION	The unit of queue files and of the cleanup stream: one type
 *		byte, the payload length as a little-endian base-128 varint,
 *		then the payload.  doc/queue-format.md tables the types.
 */
#ifndef MAIL_REC_H
#define MAIL_REC_H

#include <stddef.h>

#include "util/buf.h"
#include "util/stream.h"

#define REC_VERSION	'V'	/* "POSTERN 1"; first record */
#define REC_SIZE	'C'	/* fixed-width sizes and offsets */
#define REC_TIME	'T'	/* arrival "sec usec" */
#define REC_ATTR	'A'	/* "name=value" */
#define REC_FROM	'S'	/* envelope sender, may be empty */
#define REC_ORCP	'O'	/* original recipient of the next R */
#define REC_NOTIFY	'N'	/* DSN NOTIFY bits of the next R */
#define REC_RCPT	'R'	/* recipient to deliver */
#define REC_DONE	'D'	/* recipient done (R changed in place) */
#define REC_WARN	'W'	/* fixed-width delay warning time */
#define REC_MESG	'M'	/* start of message content */
#define REC_NORM	'L'	/* content line, without line end */
#define REC_CONT	'P'	/* partial content line, continued */
#define REC_XTRA	'X'	/* end of content, extracted info follows */
#define REC_END		'E'	/* end of file */

#define REC_LEN_MAX	(1024 * 1024)	/* hard cap for any record */
#define REC_SIZE_FMT	"%15ld %15ld %15ld %15ld %15ld"
#define REC_SIZE_LEN	79
#define REC_WARN_FMT	"%15ld"
#define REC_WARN_LEN	15
#define REC_VERSION_TEXT "POSTERN 1"

void	 rec_put(struct buf *, int, const void *, size_t);
void	 rec_puts(struct buf *, int, const char *);
void	 rec_printf(struct buf *, int, const char *, ...)
	    __attribute__((format(printf, 3, 4)));
int	 rec_decode(const char *, size_t, size_t, int *, const char **,
	    size_t *);
int	 rec_read(struct stream *, int *, struct buf *, size_t);
int	 rec_type_valid(int);
size_t	 rec_header_len(size_t);
const char *rec_type_name(int);

#endif
