/*
 * NAME		aipc - asynchronous request/reply calls on the event loop
 * DESCRIPTION	For event-driven clients (qmgr): connect to a service,
 *		check its hello, send one request frame, wait for one reply
 *		frame, then call back exactly once, with the reply body or an
 *		error text.  Every call has a deadline.
 */
#ifndef MAIL_AIPC_H
#define MAIL_AIPC_H

#include <stddef.h>

#include "util/buf.h"

typedef void (*aipc_fn)(void *, int, const char *, size_t, const char *);

struct aipc;

struct aipc *aipc_call(const char *, const char *, const struct buf *, int,
	    aipc_fn, void *, struct buf *);
void	 aipc_cancel(struct aipc *);

#endif
