/*
 * NAME		conn - buffered client connections for event-driven daemons
 * DESCRIPTION	Multi-client daemons (cleanup, trivial-rewrite) keep one
 *		struct srv_conn per client: bytes read are appended to `in'
 *		and the daemon's input callback parses whatever is complete;
 *		replies are queued with srv_conn_write() and sent as the socket
 *		allows.  A connection idle longer than its timeout is closed.
 */
#ifndef SERVER_CONN_H
#define SERVER_CONN_H

#include <stddef.h>

#include "util/buf.h"

struct srv_conn;

typedef void (*srv_conn_fn)(struct srv_conn *);

struct srv_conn {
	int	 fd;
	struct buf in;
	size_t	 in_max;	/* input buffered beyond this closes */
	struct buf out;
	size_t	 out_off;
	int	 eof;		/* peer closed its side */
	int	 closing;	/* close once out is sent */
	int	 paused;	/* do not read for now */
	int	 timeout;	/* seconds without progress */
	int	 in_callback;
	int	 dead;
	srv_conn_fn on_input;	/* new input (or eof) */
	srv_conn_fn on_close;	/* about to be freed */
	void	*ctx;
};

struct srv_conn *srv_conn_new(int, size_t, int, srv_conn_fn, srv_conn_fn,
	    void *);
void	 srv_conn_write(struct srv_conn *, const void *, size_t);
void	 srv_conn_close(struct srv_conn *);
void	 srv_conn_pause(struct srv_conn *, int);

#endif
