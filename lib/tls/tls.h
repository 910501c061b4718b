/*
 * NAME		tls - TLS for the SMTP server and client (OpenSSL)
 * DESCRIPTION	The parts both daemons share, and no daemon logic:
 *
 *		- parsers for Postfix's protocol lists ("!SSLv3, !TLSv1",
 *		  ">=TLSv1.2"), cipher grades with their exclusions, security
 *		  levels and client policy table entries (tls_parse.c);
 *		- decoding of tls_server_sni_maps values (tls_b64.c);
 *		- SSL_CTX set-up: protocols, ciphers, groups, keys and
 *		  certificate chains, CA files, SNI and session tickets
 *		  (tls_ctx.c, tls_ticket.c);
 *		- TLS beneath a struct stream: handshake, read, write and
 *		  shutdown on a non-blocking socket with the stream's time
 *		  limit (tls_stream.c);
 *		- the description of a finished handshake for the log and
 *		  the Received: header, with its trust level (tls_sess.c).
 * SEE ALSO	doc/tls.md
 */
#ifndef TLS_TLS_H
#define TLS_TLS_H

#include <stddef.h>
#include <stdint.h>

#include "util/argv.h"
#include "util/buf.h"
#include "util/stream.h"

/* Security levels (smtpd: none, may, encrypt; smtp: all). */
#define TLS_LEV_NONE		0
#define TLS_LEV_MAY		1
#define TLS_LEV_ENCRYPT		2
#define TLS_LEV_FPRINT		3	/* a pinned certificate or key */
#define TLS_LEV_VERIFY		4
#define TLS_LEV_SECURE		5
#define TLS_LEV_UNSUPPORTED	(-2)	/* dane, dane-only */

int	 tls_level_parse(const char *);
const char *tls_level_name(int);

/* Protocol versions as a bit set. */
#define TLS_P_SSLv2	(1 << 0)
#define TLS_P_SSLv3	(1 << 1)
#define TLS_P_TLSv1	(1 << 2)
#define TLS_P_TLSv1_1	(1 << 3)
#define TLS_P_TLSv1_2	(1 << 4)
#define TLS_P_TLSv1_3	(1 << 5)
#define TLS_P_ALL	0x3f
#define TLS_P_USABLE	(TLS_P_TLSv1 | TLS_P_TLSv1_1 | TLS_P_TLSv1_2 | \
			 TLS_P_TLSv1_3)

#define TLS_LIST_MAX	64		/* names in a protocol/cipher list */
#define TLS_NAME_MAX	64		/* bytes in one such name */

struct tls_protos {
	unsigned mask;			/* TLS_P_* enabled */
	int	 min;			/* OpenSSL version, e.g. TLS1_2_VERSION */
	int	 max;
	long	 no_ops;		/* SSL_OP_NO_* for holes in the range */
};

int	 tls_protos_parse(const char *, struct tls_protos *, struct buf *);
int	 tls_ssl_options_parse(const char *, uint64_t *, struct buf *);

/* Cipher grades. */
#define TLS_GRADE_HIGH		0
#define TLS_GRADE_MEDIUM	1
#define TLS_GRADE_LOW		2
#define TLS_GRADE_EXPORT	3
#define TLS_GRADE_NULL		4

struct tls_grades {			/* tls_*_cipherlist */
	const char *list[5];
};

int	 tls_grade_parse(const char *);
int	 tls_cipherlist(const struct tls_grades *, const char *, const char *,
	    struct buf *, struct buf *);

/* A client policy table entry (smtp_tls_policy_maps). */
struct tls_policy {
	int	 level;
	struct argv match;		/* match=a:b:c */
	char	*protocols;		/* NULL: the main.cf default */
	char	*ciphers;
	char	*exclude;
	char	*servername;
};

void	 tls_policy_init(struct tls_policy *);
void	 tls_policy_free(struct tls_policy *);
int	 tls_policy_parse(const char *, struct tls_policy *, struct buf *);

/* base64 (tls_server_sni_maps values from postmap -F). */
#define TLS_B64_MAX	(1024 * 1024)
int	 tls_sni_value(const char *, size_t, struct buf *, struct buf *);

/* A finished handshake. */
#define TLS_TRUST_ANON		0	/* no peer certificate */
#define TLS_TRUST_UNTRUSTED	1	/* chain not verified */
#define TLS_TRUST_TRUSTED	2	/* chain verified, name not */
#define TLS_TRUST_VERIFIED	3	/* chain and name */

/* "AB:CD:...": three characters per byte of the longest digest. */
#define TLS_FPT_MAX	(64 * 3)

struct tls_sess {
	void	*ssl;			/* SSL * */
	int	 server;
	int	 loglevel;
	char	 protocol[16];
	char	 cipher[64];
	int	 bits, alg_bits;
	char	 kex[64];		/* "X25519", "secp384r1", "" */
	char	 sig[96];		/* "RSA-PSS (2048 bits)" or "" */
	char	 digest[32];		/* "SHA256" or "" */
	int	 peer_cert;		/* the peer sent one */
	int	 chain_ok;		/* it verified against our CAs */
	int	 name_ok;		/* and matched a wanted name */
	long	 verify_err;		/* X509_V_* of the chain */
	char	 peer_cn[256];		/* printable, or "" */
	char	 issuer_cn[256];
	char	 peer_fpt[TLS_FPT_MAX];	/* digest of the certificate */
	char	 peer_pkey_fpt[TLS_FPT_MAX];	/* of its public key */
	int	 reused;		/* session resumed */
	int	 trust;			/* TLS_TRUST_* */
};

/* Context settings, from main.cf. */
struct tls_ctx_opts {
	int	 server;
	int	 loglevel;
	const char *protocols;		/* tls_protos_parse() syntax */
	const char *grade;		/* high, medium, ... */
	const char *exclude;
	const struct tls_grades *grades;
	int	 preempt;		/* tls_preempt_cipherlist */
	const char *groups;		/* tls_eecdh_auto_curves */
	const char *cert_file, *key_file;
	const char *eccert_file, *eckey_file;
	const char *chain_files;
	const char *CAfile, *CApath;
	const char *dh_file;
	int	 ask_ccert;		/* server: request a client cert */
	long	 session_timeout;	/* seconds */
	const char *fpt_digest;		/* sha256, sha1, md5 */
	const char *ssl_options;	/* tls_ssl_options */
};

struct tls_ctx;

void	 tls_lib_init(void);
void	 tls_log_errors(const char *);
void	 tls_ctx_opts_init(struct tls_ctx_opts *, int);
struct tls_ctx *tls_ctx_new(const struct tls_ctx_opts *, struct buf *);
void	 tls_ctx_free(struct tls_ctx *);
int	 tls_ctx_has_cert(const struct tls_ctx *);
void	*tls_ctx_ssl_ctx(const struct tls_ctx *);
int	 tls_ctx_load_chain_pem(void *, const char *, size_t, const char *,
	    struct buf *);

/* SNI: servername -> a context with that name's key and chain. */
typedef int (*tls_sni_lookup_fn)(const char *, struct buf *, struct buf *);
void	 tls_ctx_set_sni(struct tls_ctx *, tls_sni_lookup_fn);

/* Session tickets shared between processes (tls_ticket.c). */
int	 tls_ticket_keys_update(const char *, long, struct buf *);
int	 tls_ticket_keys_load(const char *, struct buf *);
int	 tls_ctx_enable_tickets(struct tls_ctx *, struct buf *);

/* Per connection (tls_stream.c, tls_sess.c). */
struct tls_conn_opts {
	const char *servername;		/* client: SNI, or NULL */
	const char *protocols;		/* client: override, or NULL */
	const char *grade;
	const char *exclude;
	int	 no_anon;		/* client: exclude aNULL */
	const struct argv *match;	/* client: names to verify, or NULL */
	const char *peer;		/* "name[addr]:port" for logs */
};

struct tls_sess *tls_stream_start(struct tls_ctx *, struct stream *,
	    const struct tls_conn_opts *, struct buf *);
void	 tls_stream_stop(struct stream *, int);
int	 tls_stream_pending(const struct stream *);
void	 tls_sess_free(struct tls_sess *);
const char *tls_trust_name(int);
void	 tls_fpt_hex(const unsigned char *, size_t, char *, size_t);
void	 tls_sess_summary(const struct tls_sess *, struct buf *);
void	 tls_sess_peer(const struct tls_sess *, struct buf *);
void	 tls_sess_received(const struct tls_sess *, int, struct buf *);

#endif
