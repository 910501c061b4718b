/*
 * NAME		cleanup_clnt - submit a message to the cleanup service
 * DESCRIPTION	A client (pickup, smtpd, local for forwarding, bounce for
 *		notices) connects to public/cleanup, states the source and
 *		flags, gets the queue ID, streams queue file records (envelope,
 *		M, content, X, extracted, E) and gets a final status.  Nothing
 *		is queued unless the final status is CLEANUP_STAT_OK, and then
 *		the queue file is on disk (fsynced).
 */
#ifndef MAIL_CLEANUP_CLNT_H
#define MAIL_CLEANUP_CLNT_H

#include <stddef.h>

#include "util/argv.h"
#include "util/buf.h"
#include "util/stream.h"
#include "qid.h"

#define CLEANUP_PROTO		"cleanup"

/* Request flags. */
#define CLEANUP_FLAG_EXTRACT	(1 << 0)	/* recipients from headers */
#define CLEANUP_FLAG_LOCAL	(1 << 1)	/* local submission */
#define CLEANUP_FLAG_HOLD	(1 << 2)	/* put in the hold queue */
#define CLEANUP_FLAG_MAP_OK	(1 << 3)	/* apply address maps */
#define CLEANUP_FLAG_NOTICE	(1 << 4)	/* a bounce or notice */
#define CLEANUP_FLAG_MASK	0x1f

/* Final status bits. */
#define CLEANUP_STAT_OK		0
#define CLEANUP_STAT_BAD	(1 << 0)	/* protocol or internal error */
#define CLEANUP_STAT_WRITE	(1 << 1)	/* queue file write error */
#define CLEANUP_STAT_SIZE	(1 << 2)	/* message too large */
#define CLEANUP_STAT_CONT	(1 << 3)	/* content rejected */
#define CLEANUP_STAT_HOPS	(1 << 4)	/* too many hops */
#define CLEANUP_STAT_RCPT	(1 << 5)	/* no recipients */
#define CLEANUP_STAT_DEFER	(1 << 6)	/* try again later */
#define CLEANUP_STAT_TEMP	(CLEANUP_STAT_BAD | CLEANUP_STAT_WRITE | \
				 CLEANUP_STAT_DEFER)

struct cleanup_req {
	const char *source;		/* pickup, smtpd, local, bounce, ... */
	int	 flags;
	const char *queue_id;		/* pickup: keep the maildrop ID */
	long	 uid;			/* submitting user, -1 if unknown */
	const struct argv *attrs;	/* "name=value" to record */
};

struct cleanup_clnt {
	struct stream *s;
	char	 queue_id[QID_MAX];
	struct buf recs;
	struct buf in;		/* pipelined replies */
	int	 replies;
};

struct cleanup_clnt *cleanup_open(const struct cleanup_req *, int *,
	    struct buf *);
struct cleanup_clnt *cleanup_open_pipelined(const struct cleanup_req *,
	    struct buf *);
int	 cleanup_pipelined_reply(struct cleanup_clnt *, int *, struct buf *);
void	 cleanup_rec(struct cleanup_clnt *, int, const void *, size_t);
void	 cleanup_recs(struct cleanup_clnt *, int, const char *);
int	 cleanup_finish(struct cleanup_clnt *, struct buf *);
void	 cleanup_abort(struct cleanup_clnt *);
const char *cleanup_stat_text(int);
const char *cleanup_stat_dsn(int);
int	 cleanup_stat_smtp(int);

#endif
