/*
 * NAME		anvil_clnt - the anvil protocol and its client
 * DESCRIPTION	anvil(8) keeps per-client connection counts and event
 *		rates for every smtpd process (private/anvil, protocol
 *		"anvil", doc/ipc.md, doc/anvil.md).  A request is request
 *		(one of the ANVIL_REQ_* names, Postfix's) and ident
 *		("service:client_address"); the reply is status
 *		(ANVIL_STAT_OK or ANVIL_STAT_FAIL) and, when OK, what the
 *		request asks for: count and rate (connect), rate (message,
 *		recipient, auth), count, rate, mail, rcpt and auth (lookup),
 *		nothing more (disconnect).
 *
 *		The builders and strict parsers of both directions live here,
 *		so that the daemon and the client share one definition.  The
 *		anvil_clnt_*() calls are the client: one connection per
 *		process, kept open (anvil forgets the connections a client
 *		counted when that client's connection closes), opened anew
 *		once when a kept one fails.  Every call returns ANVIL_STAT_OK
 *		or ANVIL_STAT_FAIL (anvil unreachable or refusing): callers
 *		then do not limit.
 */
#ifndef MAIL_ANVIL_CLNT_H
#define MAIL_ANVIL_CLNT_H

#include <stddef.h>

#include "util/buf.h"

#define ANVIL_PROTO		"anvil"
#define ANVIL_SERVICE		"private/anvil"

#define ANVIL_IDENT_MAX		512	/* "service:address" */
#define ANVIL_REQ_FRAME_MAX	(ANVIL_IDENT_MAX + 128)

#define ANVIL_STAT_OK		0
#define ANVIL_STAT_FAIL		(-1)

/* Requests, as Postfix names them. */
#define ANVIL_REQ_CONNECT	0
#define ANVIL_REQ_DISCONNECT	1
#define ANVIL_REQ_MESSAGE	2
#define ANVIL_REQ_RECIPIENT	3
#define ANVIL_REQ_AUTH		4
#define ANVIL_REQ_LOOKUP	5
#define ANVIL_REQ_COUNT		6

/* What a reply carries (all zero unless the request gives them). */
struct anvil_counts {
	long	 count;			/* simultaneous connections */
	long	 rate;			/* connections per time unit */
	long	 mail;			/* MAIL FROM per time unit */
	long	 rcpt;			/* RCPT TO per time unit */
	long	 auth;			/* AUTH per time unit */
};

const char *anvil_req_name(int);
int	 anvil_ident_valid(const char *, size_t);
void	 anvil_request_build(struct buf *, int, const char *);
int	 anvil_request_parse(const char *, size_t, int *, struct buf *,
	    struct buf *);
void	 anvil_reply_build(struct buf *, int, int,
	    const struct anvil_counts *);
int	 anvil_reply_parse(const char *, size_t, int, int *,
	    struct anvil_counts *, struct buf *);

int	 anvil_clnt_call(int, const char *, const char *,
	    struct anvil_counts *, struct buf *);
int	 anvil_clnt_connect(const char *, const char *, long *, long *);
int	 anvil_clnt_disconnect(const char *, const char *);
int	 anvil_clnt_mail(const char *, const char *, long *);
int	 anvil_clnt_rcpt(const char *, const char *, long *);
int	 anvil_clnt_auth(const char *, const char *, long *);
int	 anvil_clnt_lookup(const char *, const char *, struct anvil_counts *);
void	 anvil_clnt_close(void);

#endif
