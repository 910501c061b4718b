/*
 * NAME		bounce_log - per-message delivery status logs and the
 *		requests that maintain them
 * DESCRIPTION	The bounce daemon keeps one log per message in bounce/
 *		(hard failures), defer/ (delays) and trace/ (success notices),
 *		named by queue ID.  Each entry is a block of "name=value" lines
 *		ended by an empty line: recipient, orig_rcpt, notify, offset,
 *		status (X.Y.Z), action, reason, relay, time.  showq reads the
 *		defer logs to show why mail waits.
 *
 *		qmgr talks to the bounce service with the request frames
 *		built here (protocol "bounce"): append (add an entry to the
 *		log of the service addressed: private/bounce, private/defer
 *		or private/trace), flush (send a delivery status notification
 *		from that log to the sender and remove the log), warn (send a
 *		delay warning from the defer log).
 */
#ifndef MAIL_BOUNCE_LOG_H
#define MAIL_BOUNCE_LOG_H

#include <stddef.h>

#include "util/buf.h"

#define BOUNCE_PROTO		"bounce"
#define BOUNCE_LOG_MAX		(16 * 1024 * 1024)
#define BOUNCE_ENTRIES_MAX	100000

struct bounce_ent {
	char	*recipient;
	char	*orig_rcpt;
	int	 notify;
	long	 offset;
	char	*status;
	char	*action;
	char	*reason;
	char	*relay;
	long	 when;
};

struct bounce_log {
	struct bounce_ent *v;
	size_t	 n;
};

void	 bounce_ent_format(struct buf *, const struct bounce_ent *);
int	 bounce_log_parse(const char *, size_t, struct bounce_log *,
	    struct buf *);
int	 bounce_log_read(const char *, const char *, struct bounce_log *,
	    struct buf *);
void	 bounce_log_free(struct bounce_log *);

void	 bounce_append_frame(struct buf *, const char *,
	    const struct bounce_ent *);
void	 bounce_flush_frame(struct buf *, const char *, const char *,
	    const char *, const char *, int);
int	 bounce_reply_ok(int, const char *, size_t, const char *,
	    struct buf *);
void	 bounce_warn_frame(struct buf *, const char *, const char *,
	    const char *, const char *, int);

#endif
