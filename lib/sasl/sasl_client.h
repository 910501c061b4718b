/*
 * NAME		sasl_client - SASL client side over Cyrus SASL
 * DESCRIPTION	What smtp(8) and lmtp(8) need to log in to a server that
 *		offers SMTP AUTH (RFC 4954): the Cyrus library set up once
 *		(before the chroot, so its plugins load), one SASL
 *		conversation per connection with the user name and password
 *		given by the caller, security properties in Postfix's
 *		syntax, and strict base64 for challenges and responses.
 * SEE ALSO	sasl_client.c, smtp/auth.c, doc/smtp-auth.md
 */
#ifndef SASL_SASL_CLIENT_H
#define SASL_SASL_CLIENT_H

#include <stddef.h>

#include "sasl/xsasl.h"
#include "util/buf.h"

#define SASL_CLNT_MECH_MAX	20	/* RFC 4422: mechanism name */
#define SASL_CLNT_MECHS_MAX	32	/* mechanisms kept from a server */
#define SASL_CLNT_DATA_MAX	8192	/* decoded challenge or response */

/* Results of sasl_clnt_first() and sasl_clnt_next(). */
#define SASL_CLNT_OK		0	/* a response to send */
#define SASL_CLNT_FAIL		(-1)	/* why says why */

struct sasl_clnt;

int	 sasl_clnt_init(const char *, struct buf *);
void	 sasl_clnt_done(void);
struct sasl_clnt *sasl_clnt_new(const char *, const char *, int,
	    const char *, const char *, struct buf *);
int	 sasl_clnt_first(struct sasl_clnt *, const char *, const char **,
	    int *, struct buf *, struct buf *);
int	 sasl_clnt_next(struct sasl_clnt *, const char *, size_t,
	    struct buf *, struct buf *);
void	 sasl_clnt_free(struct sasl_clnt *);


#endif
