/*
 * NAME		xsasl - SMTP AUTH server side: one interface, two backends
 * DESCRIPTION	smtpd(8) authenticates clients through this interface; the
 *		work is done by a backend chosen with smtpd_sasl_type:
 *
 *		cyrus	  Cyrus SASL (libsasl2), configured by an application
 *			  file <smtpd_sasl_path>.conf (xsasl_cyrus.c)
 *		dovecot	  Dovecot's authentication server, through its auth
 *			  client protocol on the UNIX socket smtpd_sasl_path
 *			  (xsasl_dovecot.c)
 *
 *		xsasl_server_init() is called once per process, before the
 *		chroot (Cyrus loads its plugins and reads its configuration
 *		then).  A session creates one server with
 *		xsasl_server_create(), lists its mechanisms (already filtered
 *		by the security options), and runs exchanges:
 *		xsasl_server_start() with the mechanism and the decoded
 *		initial response (if any), then xsasl_server_next() with each
 *		decoded client response.  Each returns
 *
 *		XSASL_CONTINUE	reply holds the next (raw) challenge
 *		XSASL_OK	authenticated: xsasl_server_username()
 *		XSASL_FAIL	reply holds the reason ("authentication
 *				failure")
 *		XSASL_TEMP	the backend is unavailable or misbehaved;
 *				reply holds the reason
 *
 *		Base64 is the caller's business (util/base64.h): the
 *		backends see and produce raw bytes.
 * SEE ALSO	doc/sasl.md, smtpd/sasl.c
 */
#ifndef SASL_XSASL_H
#define SASL_XSASL_H

#include <stddef.h>

#include "util/buf.h"

#define XSASL_OK	0
#define XSASL_CONTINUE	1
#define XSASL_FAIL	2
#define XSASL_TEMP	3

/* smtpd_sasl_security_options bits (Postfix's names). */
#define XSASL_SEC_NOPLAINTEXT	(1 << 0)
#define XSASL_SEC_NOACTIVE	(1 << 1)
#define XSASL_SEC_NODICTIONARY	(1 << 2)
#define XSASL_SEC_NOANONYMOUS	(1 << 3)
#define XSASL_SEC_FORWARD_SECRECY (1 << 4)
#define XSASL_SEC_MUTUAL_AUTH	(1 << 5)

#define XSASL_MECH_MAX		20	/* RFC 4422 sasl-mech length */
#define XSASL_DATA_MAX		65536	/* one decoded challenge/response */

struct xsasl_server_args {
	const char *service;		/* smtpd_sasl_service, "smtp" */
	const char *server_name;	/* $myhostname */
	const char *realm;		/* smtpd_sasl_local_domain, or NULL */
	const char *client_addr;	/* text form, or "" when unknown */
	const char *client_port;
	const char *server_addr;
	const char *server_port;
	int	 security;		/* XSASL_SEC_* */
	int	 tls_active;		/* the session is encrypted */
	int	 timeout;		/* seconds, for backend I/O */
};

struct xsasl_server;

int	 xsasl_security_parse(const char *, int *, struct buf *);
int	 xsasl_mech_valid(const char *, size_t);

int	 xsasl_server_init(const char *, const char *, const char *,
	    struct buf *);
void	 xsasl_server_done(void);
struct xsasl_server *xsasl_server_create(const struct xsasl_server_args *,
	    struct buf *);
void	 xsasl_server_free(struct xsasl_server *);
const char *xsasl_server_mechs(const struct xsasl_server *);
int	 xsasl_server_start(struct xsasl_server *, const char *,
	    const void *, size_t, int, struct buf *);
int	 xsasl_server_next(struct xsasl_server *, const void *, size_t,
	    struct buf *);
const char *xsasl_server_username(const struct xsasl_server *);

#endif
