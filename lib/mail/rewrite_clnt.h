/*
 * NAME		rewrite_clnt - address rewriting and resolving client
 * DESCRIPTION	Talks to the trivial-rewrite service (private/rewrite) over
 *		one cached connection.  rewrite_addr() returns the canonical
 *		form of an address ("local" or "remote" rule context).
 *		resolve_addr() returns the delivery transport, next hop and
 *		recipient for an address, with flags for "bounce" (an unknown
 *		address class) and "defer" (a table could not be read).
 */
#ifndef MAIL_REWRITE_CLNT_H
#define MAIL_REWRITE_CLNT_H

#include "util/buf.h"

#define REWRITE_PROTO		"rewrite"

#define RESOLVE_FLAG_FAIL	(1 << 0)	/* bounce: see nexthop text */
#define RESOLVE_FLAG_ERROR	(1 << 1)	/* defer: lookup failed */
#define RESOLVE_FLAG_ROUTED	(1 << 2)	/* user@a@b or bang path */
#define RESOLVE_FLAG_RELOCATED	(1 << 3)	/* relocated_maps: with FAIL,
						 * nexthop "5.1.6 text" */
#define RESOLVE_CLASS_LOCAL	(1 << 8)
#define RESOLVE_CLASS_ALIAS	(1 << 9)
#define RESOLVE_CLASS_VIRTUAL	(1 << 10)
#define RESOLVE_CLASS_RELAY	(1 << 11)
#define RESOLVE_CLASS_DEFAULT	(1 << 12)

struct resolve_reply {
	struct buf transport;
	struct buf nexthop;
	struct buf recipient;
	int	 flags;
};

void	 resolve_reply_init(struct resolve_reply *);
void	 resolve_reply_free(struct resolve_reply *);
int	 rewrite_addr(const char *, const char *, struct buf *, struct buf *);
int	 resolve_addr(const char *, const char *, struct resolve_reply *,
	    struct buf *);
void	 rewrite_clnt_close(void);

#endif
