/*
 * NAME		notice - send a delivery status notification through cleanup
 * DESCRIPTION	notice_send() composes a notice (lib/mail/dsn.h) and queues
 *		it with the cleanup service as a new message from env_from to
 *		`to'.  If cleanup refuses the notice as too large, it is sent
 *		again with the original message's headers only.  Used by the
 *		bounce daemon and by pickup (for local submissions that cleanup
 *		refuses).
 */
#ifndef MAIL_NOTICE_H
#define MAIL_NOTICE_H

#include "util/buf.h"
#include "dsn.h"
#include "qid.h"

#define NOTICE_REC_CHUNK	4096	/* longest content record sent */

int	 notice_send(struct dsn_notice *, const char *, const char *,
	    const char *, void (*)(void *), char *, int *, struct buf *);

#endif
