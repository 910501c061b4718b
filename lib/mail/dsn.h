/*
 * NAME		dsn - delivery status notifications (RFC 3464, RFC 6522)
 * DESCRIPTION	dsn_compose() writes the text of a notice about one
 *		message: a multipart/report with a human-readable part, a
 *		message/delivery-status part and the original message (whole
 *		or headers only).  The caller gathers the per-recipient
 *		results (from a bounce, defer or trace log), the facts about
 *		the message and a reader for its content; the composer decides
 *		which recipients the notice reports (DSN NOTIFY), what part of
 *		the message it returns (DSN RET, size limit) and makes every
 *		line it writes 7-bit and bounded.  It does no I/O of its own,
 *		so the bounce daemon sends the result to cleanup and the unit
 *		tests compare it with golden files.
 */
#ifndef MAIL_DSN_H
#define MAIL_DSN_H

#include <stddef.h>

#include "util/buf.h"

/* What the notice reports. */
#define DSN_KIND_FAILURE	1	/* non-delivery */
#define DSN_KIND_DELAY		2	/* delay warning */
#define DSN_KIND_SUCCESS	3	/* delivery report */

/* Notice flags. */
#define DSN_FLAG_EXPIRED	(1 << 0)	/* queue lifetime over */
#define DSN_FLAG_ALL		(1 << 1)	/* every rcpt, any NOTIFY */
#define DSN_FLAG_PMCOPY		(1 << 2)	/* postmaster copy */
#define DSN_FLAG_2BOUNCE	(1 << 3)	/* undeliverable bounce */

#define DSN_STATUS_MAX		16	/* longest status accepted */
#define DSN_REASON_MAX		4096	/* longest reason shown */
#define DSN_ADDR_MAX		4096	/* longest address shown */
#define DSN_HEADERS_MAX		(1024 * 1024)	/* returned headers */
#define DSN_LINE_MAX		78	/* fold generated lines here */

struct dsn_rcpt {
	const char *addr;	/* final recipient */
	const char *orig;	/* original recipient, "" or NULL */
	int	 notify;	/* DSN_NOTIFY_* bits, 0 if none */
	const char *status;	/* X.Y.Z */
	const char *action;	/* failed, delayed, delivered, ... */
	const char *reason;	/* free text, may hold an SMTP reply */
	const char *relay;	/* host[addr]:port, or "" */
	long	 when;		/* time of the attempt, 0 unknown */
};

/*
 * The original message is read one line at a time (without line end)
 * through orig_line: 1 a line, 0 the end, -1 an error (the notice then
 * says that the message is not available).  NULL: not available at all.
 */
struct dsn_notice {
	int	 kind;		/* DSN_KIND_* */
	int	 flags;		/* DSN_FLAG_* */
	const char *queue_id;	/* of the original message */
	const char *notice_id;	/* of the notice (Message-Id), or NULL */
	const char *hostname;	/* $myhostname */
	const char *from;	/* From: address (MAILER-DAEMON@host) */
	const char *to;		/* notice recipient */
	const char *sender;	/* original envelope sender */
	const char *envid;	/* DSN ENVID, "" or NULL */
	int	 ret;		/* DSN_RET_*, 0 if none */
	long	 now;		/* Date: */
	long	 arrival;	/* of the original, 0 unknown */
	long	 msg_size;	/* content bytes, -1 unknown */
	long	 size_limit;	/* $bounce_size_limit */
	long	 lifetime;	/* $maximal_queue_lifetime, seconds */
	long	 warn_time;	/* $delay_warning_time, seconds */
	const struct dsn_rcpt *rcpts;
	size_t	 nrcpt;
	int	(*orig_line)(void *, struct buf *);
	void	*orig_ctx;
};

int	 dsn_wanted(int, int, int);
size_t	 dsn_count(const struct dsn_notice *);
size_t	 dsn_compose(const struct dsn_notice *, struct buf *);
int	 dsn_status_valid(const char *);
int	 dsn_action_valid(const char *);
void	 dsn_date(struct buf *, long);
void	 dsn_duration(struct buf *, long);

#endif
