/*
 * NAME		xsasl_impl - what an xsasl backend provides
 * DESCRIPTION	One table per backend (xsasl_cyrus.c, xsasl_dovecot.c);
 *		xsasl_server.c picks one by smtpd_sasl_type and checks the
 *		mechanism of each exchange against the announced list.  The
 *		Dovecot protocol line parser is exported for its unit tests
 *		and fuzz target.
 */
#ifndef SASL_XSASL_IMPL_H
#define SASL_XSASL_IMPL_H

#include <stddef.h>

#include "util/buf.h"
#include "xsasl.h"

struct xsasl_backend {
	const char *type;
	/* process: path is smtpd_sasl_path, conf cyrus_sasl_config_path */
	int	(*init)(const char *, const char *, struct buf *);
	void	(*done)(void);
	/* session: mechs gets the space-separated, filtered list */
	void	*(*create)(const struct xsasl_server_args *, struct buf *,
		    struct buf *);
	void	(*free)(void *);
	int	(*start)(void *, const char *, const void *, size_t, int,
		    struct buf *);
	int	(*next)(void *, const void *, size_t, struct buf *);
	const char *(*username)(void *);
};

extern const struct xsasl_backend xsasl_cyrus_backend;
extern const struct xsasl_backend xsasl_dovecot_backend;

/* Dovecot auth protocol: one received line, split at TABs, unescaped. */
#define XSASL_DOVECOT_LINE_MAX	20480	/* bytes without the LF */
#define XSASL_DOVECOT_ARGS_MAX	64	/* fields after the command */

struct xsasl_dovecot_line {
	char	*cmd;			/* "VERSION", "MECH", "OK", ... */
	char	*argv[XSASL_DOVECOT_ARGS_MAX];
	size_t	 argc;
};

int	 xsasl_dovecot_parse(char *, size_t, struct xsasl_dovecot_line *,
	    struct buf *);
const char *xsasl_dovecot_param(const struct xsasl_dovecot_line *, size_t,
	    const char *);
int	 xsasl_dovecot_mech_ok(const struct xsasl_dovecot_line *, int);

#endif
