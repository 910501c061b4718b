/*
 * NAME		tls_int.h - lib/tls internals
 */
#ifndef TLS_TLS_INT_H
#define TLS_TLS_INT_H

#include <openssl/ssl.h>

#include "tls.h"

struct tls_sni_ent {
	char	*name;			/* lower case */
	SSL_CTX *ctx;			/* NULL: not in the table */
};

struct tls_ctx {
	SSL_CTX	*ctx;
	int	 server;
	int	 loglevel;
	int	 has_cert;
	const struct tls_grades *grades;
	struct buf ciphers;		/* the context's cipher string */
	char	*fpt_digest;
	tls_sni_lookup_fn sni_lookup;
	struct tls_sni_ent *sni;
	int	 sni_n;
};

void	 tls_err_text(struct buf *, const char *);
void	 tls_sess_describe(struct tls_ctx *, struct tls_sess *,
	    const struct argv *);

#endif
