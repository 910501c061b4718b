/*
 * NAME		smtp.h - private interfaces of the SMTP/LMTP client
 * DESCRIPTION	Settings (filled from the smtp_* or the lmtp_* table), the
 *		reply parser, the text encoders, next-hop parsing, sessions
 *		and their cache, the mail transaction and the delivery
 *		driver.  See doc/smtp.md.
 */
#ifndef SMTP_SMTP_H
#define SMTP_SMTP_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "dict/dict.h"
#include "dns/dns.h"
#include "mail/conf.h"
#include "mail/deliver.h"
#include "util/buf.h"
#include "util/stream.h"

struct smtp_cfg {
	long	 connect_timeout;
	long	 helo_timeout;
	long	 mail_timeout;
	long	 rcpt_timeout;
	long	 data_init_timeout;
	long	 data_xfer_timeout;
	long	 data_done_timeout;
	long	 rset_timeout;
	long	 quit_timeout;
	char	*helo_name;
	int	 skip_5xx_greeting;
	int	 skip_quit_response;
	int	 never_send_ehlo;
	int	 mx_address_limit;
	int	 mx_session_limit;
	int	 line_length_limit;
	char	*fallback_relay;
	int	 cache_on_demand;
	char	*cache_destinations;
	long	 cache_time_limit;
	long	 reuse_time_limit;
	int	 reuse_count_limit;
	char	*discard_keywords;
	char	*address_preference;
	char	*tcp_port;
	char	*inet_protocols;
	char	*generic_maps;
	int	 sasl_enable;
	char	*sasl_passwd_maps;
	char	*sasl_sec_opts;
	char	*sasl_tls_sec_opts;
	char	*sasl_mech_filter;
	int	 sasl_soft_bounce;
	int	 sender_auth;
	/* TLS (tls.c). */
	char	*tls_security_level;
	char	*tls_CAfile;
	char	*tls_CApath;
	char	*tls_cert_file;
	char	*tls_key_file;
	char	*tls_protocols;
	char	*tls_mandatory_protocols;
	char	*tls_ciphers;
	char	*tls_mandatory_ciphers;
	char	*tls_exclude_ciphers;
	char	*tls_mandatory_exclude_ciphers;
	int	 tls_loglevel;
	int	 tls_note_starttls_offer;
	char	*tls_servername;
	char	*tls_verify_cert_match;
	char	*tls_secure_cert_match;
	char	*tls_fingerprint_cert_match;
	char	*tls_policy_maps;
	int	 tls_wrappermode;
	long	 starttls_timeout;
	char	*tls_fingerprint_digest;

	/* Derived, not parameters. */
	int	 lmtp;			/* invoked as "lmtp" */
	const char *proto;		/* "SMTP" or "LMTP" */
	int	 protos;		/* DNS_PROTO_* */
	int	 addr_pref;		/* DNS_PREF_* */
	int	 port;			/* default TCP port */
};

extern struct smtp_cfg smtp_cfg;
extern const struct param smtp_params[];
extern const struct param lmtp_params[];

/* reply.c: server replies. */
#define SMTP_LINE_MAX		2048	/* reply line bytes kept */
#define SMTP_REPLY_LINES_MAX	1000	/* lines in one reply */
#define SMTP_REPLY_TEXT_MAX	8192	/* reply text kept */
#define SMTP_REPLY_BYTES_MAX	(1024 * 1024)	/* one reply, read */

struct smtp_reply {
	int	 code;			/* 200-599 once complete */
	char	 dsn[16];		/* X.Y.Z, class matches the code */
	struct buf text;		/* lines, '\n' between, printable */
	size_t	 nlines;
	int	 done;
};

#define SMTP_REPLY_OK		0
#define SMTP_REPLY_IOERR	(-1)	/* see stream_error() */
#define SMTP_REPLY_BAD		(-2)	/* malformed */

void	 smtp_reply_init(struct smtp_reply *);
void	 smtp_reply_reset(struct smtp_reply *);
void	 smtp_reply_free(struct smtp_reply *);
int	 smtp_reply_line(struct smtp_reply *, const char *, size_t,
	    struct buf *);
int	 smtp_reply_read(struct stream *, struct smtp_reply *,
	    struct buf *);
void	 smtp_reply_show(const struct smtp_reply *, struct buf *);

/* text.c: encoders and content checks. */
void	 smtp_xtext(const char *, size_t, struct buf *);
void	 smtp_data_line(const char *, size_t, size_t, struct buf *);
int	 smtp_has_8bit(const char *, size_t);
int	 smtp_has_utf8(const char *, size_t);
int	 smtp_addr_ok(const char *);
int	 smtp_keyword_listed(const char *, const char *);

/* nexthop.c: destinations. */
#define SMTP_HOST_MAX		1024

struct smtp_dest {
	char	 host[SMTP_HOST_MAX];	/* name, address or path */
	int	 port;
	int	 mx;			/* look up MX records */
	int	 local;			/* host is a socket path */
};

int	 smtp_port_parse(const char *, int *);
int	 smtp_dest_parse(const char *, int, int, struct smtp_dest *,
	    struct buf *);

/* session.c: connections, handshake, cache. */
#define SMTP_F_ESMTP		(1 << 0)
#define SMTP_F_PIPELINING	(1 << 1)
#define SMTP_F_SIZE		(1 << 2)
#define SMTP_F_8BITMIME		(1 << 3)
#define SMTP_F_DSN		(1 << 4)
#define SMTP_F_SMTPUTF8		(1 << 5)
#define SMTP_F_ENHANCED		(1 << 6)
#define SMTP_F_STARTTLS		(1 << 7)
#define SMTP_F_AUTH		(1 << 8)

struct smtp_addr {
	char	 host[DNS_NAME_MAX + 1];
	char	 addr[SMTP_HOST_MAX];	/* numeric address or path */
	int	 port;
	int	 local;			/* UNIX socket */
	int	 best;			/* among the best MX hosts */
	struct sockaddr_storage sa;
	socklen_t salen;
};

struct smtp_sess {
	struct stream *s;
	char	 namaddr[DNS_NAME_MAX + SMTP_HOST_MAX + 4]; /* host[addr] */
	char	 relay[DNS_NAME_MAX + SMTP_HOST_MAX + 12];  /* ...:port */
	int	 features;
	long	 size_max;		/* SIZE, 0 if none */
	int	 best;
	char	*key;			/* cache key: the next hop */
	unsigned uses;			/* transactions started */
	int	 rset;			/* reused: RSET leads the next group */
	int64_t	 born_ms;
	int64_t	 idle_ms;
	struct tls_sess *tls;		/* NULL: plaintext */
	int	 tls_active;		/* TLS is on (STARTTLS or wrapper) */
	char	*tls_key;		/* the TLS policy it was opened with */
	char	*sasl_mechs;		/* AUTH mechanisms offered, or NULL */
	char	*sasl_user;		/* logged in as, or NULL */
};

/* The outcome of a step that failed before or outside a transaction. */
struct smtp_err {
	int	 status;		/* DEL_STAT_DEFER, _BOUNCE */
	int	 final;			/* do not try other hosts */
	int	 hop;			/* the host failed */
	char	 dsn[16];
	struct buf why;
	char	 relay[DNS_NAME_MAX + SMTP_HOST_MAX + 12];  /* or "" */
	int	 tls_retry_plain;	/* "may": handshake failed, retry plain */
};

/* tls.c: the TLS policy of a destination, STARTTLS, wrapper mode. */
struct tls_sess;
struct smtp_tls_pol {
	int	 level;			/* TLS_LEV_* */
	const char *nexthop;		/* the destination's host name */
	char	*servername;		/* SNI, or NULL */
	char	*protocols, *grade, *exclude;
	char	*match;			/* names to match, ':' separated */
	char	*key;			/* identity, for connection reuse */
};

/* One connection attempt. */
struct smtp_conn {
	const struct smtp_tls_pol *pol;
	const char *queue_id;
	int	 no_tls;		/* plaintext retry at level may */
};

void	 smtp_tls_init(void);
void	 smtp_tls_free(void);
int	 smtp_tls_policy(const char *, const char *, struct smtp_tls_pol *,
	    struct smtp_err *);
void	 smtp_tls_policy_free(struct smtp_tls_pol *);
int	 smtp_tls_wrapper(struct smtp_sess *, const struct smtp_addr *,
	    const struct smtp_conn *, struct smtp_err *);
int	 smtp_tls_starttls(struct smtp_sess *, const struct smtp_addr *,
	    const struct smtp_conn *, struct smtp_err *);

void	 smtp_err_set(struct smtp_err *, int, int, const char *,
	    const char *, ...) __attribute__((format(printf, 5, 6)));
int	 smtp_sess_open(const struct smtp_addr *, const struct smtp_conn *,
	    struct smtp_sess **, struct smtp_err *);
int	 smtp_sess_rset(struct smtp_sess *);
void	 smtp_sess_quit(struct smtp_sess *);
void	 smtp_sess_free(struct smtp_sess *);
void	 smtp_sess_lost(struct smtp_sess *, const char *,
	    struct smtp_err *);
int	 smtp_ehlo_features(const struct smtp_reply *, const char *,
	    long *);
struct smtp_sess *smtp_cache_take(const char *, const char *);
int	 smtp_ehlo(struct smtp_sess *, struct smtp_err *);
int	 smtp_command(struct smtp_sess *, long, const char *);
void	 smtp_reply_error(struct smtp_sess *, const struct smtp_reply *,
	    const char *, struct smtp_err *);
void	 smtp_cache_put(struct smtp_sess *);
long	 smtp_cache_tick(void);
void	 smtp_cache_flush(void);

/* proto.c: one mail transaction. */
#define SMTP_R_TODO		0	/* no final result yet */
#define SMTP_R_DONE		1

struct smtp_msg {
	const struct deliver_req *req;
	struct deliver_result *res;
	unsigned char *state;		/* SMTP_R_* per recipient */
	unsigned char *accepted;	/* RCPT accepted, this transaction */
	size_t	 todo;
	int	 fd;			/* queue file */
	int	 eightbit;		/* content has 8-bit bytes */
	int	 utf8;			/* needs SMTPUTF8 */
	int64_t	 conn_us;		/* session ready ("delays") */
	int	 abandoned;		/* qmgr went away: try no more */
	char	*sender;		/* after smtp_generic_maps, or NULL */
	char	**rcpt;			/* after smtp_generic_maps, or NULL */
	char	*sasl_cred;		/* sender's "user:password", or NULL */
};

/* The envelope addresses as they are sent. */
#define SMTP_SENDER(m)	((m)->sender ? (m)->sender : (m)->req->sender)
#define SMTP_RCPT(m, i)	((m)->rcpt ? (m)->rcpt[i] : (m)->req->rcpts[i].addr)

int	 smtp_xfer(struct smtp_sess *, struct smtp_msg *);
void	 smtp_rcpt_final(struct smtp_msg *, size_t,
	    const struct smtp_sess *, int, const char *, const char *);
void	 smtp_rcpt_soft(struct smtp_msg *, size_t, const char *,
	    const struct smtp_err *);
void	 smtp_msg_fail(struct smtp_msg *, const struct smtp_err *,
	    const struct smtp_sess *);

/* generic.c: smtp_generic_maps. */
struct smtp_hdr {
	int	 in_headers;		/* still in the primary headers */
	struct buf hdr;			/* the pending logical header */
};

void	 smtp_generic_init(void);
int	 smtp_generic_on(void);
int	 smtp_generic_addr(const char *, struct buf *, struct buf *);
void	 smtp_hdr_init(struct smtp_hdr *);
void	 smtp_hdr_free(struct smtp_hdr *);
int	 smtp_hdr_line(struct smtp_hdr *, const char *, size_t, size_t,
	    struct buf *, struct buf *);
int	 smtp_hdr_end(struct smtp_hdr *, size_t, struct buf *, struct buf *);

/* auth.c: SMTP AUTH (smtp_sasl_*). */
#define SMTP_AUTH_STEPS_MAX	32	/* 334 challenges in one AUTH */
#define SMTP_AUTH_LINE_MAX	12288	/* AUTH command and responses */

void	 smtp_auth_init(void);
void	 smtp_auth_end(void);
int	 smtp_auth_on(void);
void	 smtp_ehlo_auth(const struct smtp_reply *, const char *,
	    struct smtp_sess *);
int	 smtp_auth_mechs(const char *, size_t, struct buf *);
int	 smtp_auth_lookup(struct maps *, int, const char *, const char *,
	    const char *, struct buf *, struct buf *);
int	 smtp_auth_sender(struct smtp_msg *, struct buf *);
int	 smtp_auth(struct smtp_sess *, struct smtp_msg *, const char *,
	    const struct smtp_addr *, struct smtp_err *);
int	 smtp_auth_challenge(const struct smtp_reply *, const char **,
	    size_t *);

/* deliver.c: one delivery request. */
void	 smtp_deliver(const struct deliver_req *, struct deliver_result *);

#endif
