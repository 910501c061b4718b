/*
 * NAME		qdump - show a queue file in human-readable form (postcat)
 * DESCRIPTION	qdump_stream() reads queue file records from a stream and
 *		prints them as Postfix's postcat does: markers "*** ENVELOPE
 *		RECORDS name ***", "*** MESSAGE CONTENTS name ***", "***
 *		HEADER EXTRACTED name ***" and "*** MESSAGE FILE END name
 *		***", envelope records as "label: value", message lines as
 *		they are.  The flags select envelope, header and body output,
 *		record offsets and decimal record types.  Files from the
 *		maildrop queue (no size record) are shown the same way.
 *
 *		Output accumulates in q->out; when it grows past
 *		QDUMP_FLUSH_AT and q->flush is set, q->flush(q) is called to
 *		write it out (and reset it).  q->warn, when set, receives
 *		complaints that do not stop the dump.
 */
#ifndef MAIL_QDUMP_H
#define MAIL_QDUMP_H

#include "util/buf.h"
#include "util/stream.h"

#define QDUMP_ENV	(1 << 0)	/* -e: envelope records */
#define QDUMP_HEADER	(1 << 1)	/* -h: message header */
#define QDUMP_BODY	(1 << 2)	/* -b: message body */
#define QDUMP_OFFSET	(1 << 3)	/* -o: record offsets */
#define QDUMP_DECIMAL	(1 << 4)	/* -d: decimal record types */
#define QDUMP_VERBOSE	(1 << 5)	/* -v: label text records */
#define QDUMP_RAW	(1 << 6)	/* -r: read on after the end record */

#define QDUMP_TEXT	(QDUMP_HEADER | QDUMP_BODY)
#define QDUMP_ALL	(QDUMP_ENV | QDUMP_TEXT)

#define QDUMP_FLUSH_AT	65536

struct qdump {
	int	 flags;
	const char *name;		/* shown in the markers */
	struct buf out;
	void	(*flush)(struct qdump *);
	void	(*warn)(struct qdump *, const char *);
	void	*ctx;
};

int	 qdump_stream(struct qdump *, struct stream *, struct buf *);
int	 qdump_is_header(const char *, size_t);

#endif
