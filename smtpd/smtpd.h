/*
 * NAME		smtpd.h - SMTP server private interface
 * DESCRIPTION	struct smtpd_state is one SMTP session.  The protocol
 *		engine (session.c, command.c, data.c) calls the access
 *		checks (check.c) at each stage; a check returns SMTPD_CHECK_OK
 *		or fills st->check_reply with a complete reply ("554 5.7.1
 *		<x@y>: Relay access denied") and returns SMTPD_CHECK_REJECT
 *		(or _DEFER for a 4xx that is a temporary condition, _DISCARD,
 *		_HOLD: see below).
 */
#ifndef SMTPD_SMTPD_H
#define SMTPD_SMTPD_H

#include <stdint.h>

#include "mail/cleanup_clnt.h"
#include "mail/conf.h"
#include "mail/submit.h"
#include "util/argv.h"
#include "util/buf.h"
#include "util/stream.h"

struct smtpd_cfg {
	char	*smtpd_banner;
	long	 smtpd_timeout;
	int	 smtpd_recipient_limit;
	int	 smtpd_hard_error_limit;
	int	 smtpd_soft_error_limit;
	int	 smtpd_junk_command_limit;
	long	 smtpd_error_sleep_time;
	int	 line_length_limit;
	int	 disable_vrfy_command;
	char	*smtpd_forbid_bare_newline;
	int	 smtputf8_enable;
	int	 smtpd_helo_required;
	int	 strict_rfc821_envelopes;
	char	*smtpd_discard_ehlo_keywords;
	int	 smtpd_peername_lookup;
	/* Per-client limits through anvil(8) (anvil.c). */
	int	 smtpd_client_connection_count_limit;
	int	 smtpd_client_connection_rate_limit;
	int	 smtpd_client_message_rate_limit;
	int	 smtpd_client_recipient_rate_limit;
	int	 smtpd_client_auth_rate_limit;
	char	*smtpd_client_event_limit_exceptions;
	/* Restrictions (check.c). */
	char	*smtpd_client_restrictions;
	char	*smtpd_helo_restrictions;
	char	*smtpd_sender_restrictions;
	char	*smtpd_relay_restrictions;
	char	*smtpd_recipient_restrictions;
	char	*smtpd_data_restrictions;
	char	*smtpd_end_of_data_restrictions;
	int	 smtpd_delay_reject;
	char	*mynetworks;
	char	*mynetworks_style;
	char	*relay_domains;
	char	*local_recipient_maps;
	int	 smtpd_reject_unlisted_recipient;
	int	 smtpd_reject_unlisted_sender;
	char	*unknown_local_recipient_reject_code;
	char	*unknown_virtual_alias_reject_code;
	char	*unknown_virtual_mailbox_reject_code;
	char	*unknown_address_reject_code;
	char	*unknown_client_reject_code;
	char	*unknown_hostname_reject_code;
	char	*unknown_helo_hostname_tld_reject_code;
	char	*unknown_relay_recipient_reject_code;
	char	*unverified_recipient_reject_code;
	char	*non_fqdn_reject_code;
	char	*invalid_hostname_reject_code;
	char	*relay_domains_reject_code;
	char	*access_map_reject_code;
	char	*access_map_defer_code;
	char	*reject_code;
	char	*defer_code;
	char	*maps_rbl_reject_code;
	char	*default_rbl_reply;
	long	 smtpd_policy_service_timeout;
	long	 smtpd_policy_service_max_idle;
	char	*smtpd_policy_service_default_action;
	char	*parent_domain_matches_subdomains;
	long	 smtpd_policy_service_request_limit;
	/* More restriction parameters (check.c, policy.c). */
	char	*smtpd_restriction_classes;
	char	*smtpd_null_access_lookup_key;
	char	*smtpd_policy_service_policy_context;
	long	 smtpd_policy_service_max_ttl;
	int	 smtpd_policy_service_try_limit;
	long	 smtpd_policy_service_retry_delay;
	char	*reject_tempfail_action;
	char	*unknown_address_tempfail_action;
	char	*unknown_helo_hostname_tempfail_action;
	char	*multi_recipient_bounce_reject_code;
	int	 show_user_unknown_table_name;
	int	 smtpd_relay_before_recipient_restrictions;
	long	 queue_minfree;
	int	 soft_bounce;
	/* SMTP AUTH (sasl.c). */
	int	 smtpd_sasl_auth_enable;
	char	*smtpd_sasl_type;
	char	*smtpd_sasl_path;
	char	*smtpd_sasl_security_options;
	char	*smtpd_sasl_tls_security_options;
	char	*smtpd_sasl_local_domain;
	int	 smtpd_sasl_authenticated_header;
	int	 broken_sasl_auth_clients;
	char	*smtpd_sasl_exceptions_networks;
	int	 smtpd_sasl_response_limit;
	char	*smtpd_sasl_service;
	char	*smtpd_sender_login_maps;
	char	*relay_clientcerts;
	char	*cyrus_sasl_config_path;
	/* TLS (tls.c). */
	char	*smtpd_tls_security_level;
	int	 smtpd_use_tls;
	int	 smtpd_enforce_tls;
	char	*smtpd_tls_cert_file;
	char	*smtpd_tls_key_file;
	char	*smtpd_tls_eccert_file;
	char	*smtpd_tls_eckey_file;
	char	*smtpd_tls_chain_files;
	char	*smtpd_tls_CAfile;
	char	*smtpd_tls_CApath;
	int	 smtpd_tls_ask_ccert;
	int	 smtpd_tls_req_ccert;
	char	*smtpd_tls_protocols;
	char	*smtpd_tls_mandatory_protocols;
	char	*smtpd_tls_ciphers;
	char	*smtpd_tls_mandatory_ciphers;
	char	*smtpd_tls_exclude_ciphers;
	char	*smtpd_tls_mandatory_exclude_ciphers;
	char	*smtpd_tls_dh1024_param_file;
	int	 smtpd_tls_auth_only;	/* read by the AUTH code */
	int	 smtpd_tls_received_header;
	int	 smtpd_tls_loglevel;
	long	 smtpd_tls_session_cache_timeout;
	int	 smtpd_tls_wrappermode;
	long	 smtpd_starttls_timeout;
	char	*smtpd_tls_fingerprint_digest;
	char	*tls_server_sni_maps;
};

extern struct smtpd_cfg smtpd_cfg;
extern const struct param smtpd_params[];

/* Where in the session a check runs (Postfix's names, for logs). */
#define SMTPD_STAGE_CONNECT	"CONNECT"
#define SMTPD_STAGE_HELO	"HELO"
#define SMTPD_STAGE_MAIL	"MAIL"
#define SMTPD_STAGE_RCPT	"RCPT"
#define SMTPD_STAGE_DATA	"DATA"
#define SMTPD_STAGE_EOD		"END-OF-MESSAGE"
#define SMTPD_STAGE_VRFY	"VRFY"

/* Check results. */
#define SMTPD_CHECK_OK		0	/* go on */
#define SMTPD_CHECK_REJECT	1	/* st->check_reply holds the reply */
#define SMTPD_CHECK_DISCARD	2	/* accept, then throw away */

#define SMTPD_ADDR_MAX		1024	/* longest address in a command */

/* Name lookup status of client_name and reverse_name (check.c). */
#define SMTPD_PEER_OK		0	/* found, or not known: see below */
#define SMTPD_PEER_TEMP		4	/* lookup failed temporarily */
#define SMTPD_PEER_PERM		5	/* no name, or it did not verify */

/*
 * The access checks' own session and transaction state; check.c owns it.
 * The engine zeroes it with the session, and calls smtpd_check_reset()
 * when a mail transaction ends (RSET, HELO, end of DATA, QUIT).
 */
struct smtpd_check_state {
	int	 dip_client;		/* defer_if_permit raised by a stage */
	int	 dip_helo;
	int	 dip_sender;
	char	 dip_reply[512];	/* the reply it will give */
	char	 instance[64];		/* policy "instance" of a transaction */
	char	 filter[256];		/* FILTER transport:nexthop, or "" */
	char	 redirect[SMTPD_ADDR_MAX + 1];	/* REDIRECT address, or "" */
	int	 rcpt_count;		/* recipients the checks have seen */
};

struct smtpd_state {
	struct stream *s;
	int	 standalone;		/* sendmail -bs */

	/* Client. */
	char	 client_addr[64];	/* text form of the IP address */
	char	 client_port[8];
	char	 client_name[256];	/* verified name, or "unknown" */
	char	 reverse_name[256];	/* unverified PTR name, or "unknown" */
	int	 client_family;		/* AF_INET, AF_INET6, AF_UNIX */
	char	 namaddr[400];		/* "name[addr]" for logs */

	/* Session. */
	char	*helo_name;		/* NULL until HELO/EHLO */
	int	 esmtp;
	int	 pipelining;		/* client used EHLO: may pipeline */
	int	 error_count;
	int	 junk_count;
	int	 bare_lf;		/* DATA had a bare LF */
	struct buf check_reply;		/* reply text of a failed check */
	int	 delayed_reject;	/* smtpd_delay_reject kept one */

	/* Per-command counters for the disconnect log line. */
	int	 n_helo, n_ehlo, n_mail, n_rcpt, n_data, n_bdat, n_rset,
		 n_noop, n_vrfy, n_quit, n_unknown, n_commands;
	int	 ok_mail, ok_rcpt, ok_data, ok_bdat, ok_vrfy;
	int	 n_starttls, ok_starttls;
	int	 n_errors_total;
	int	 n_auth, ok_auth;
	const char *last_cmd;		/* for "lost connection after X" */
	int	 connect_reject;	/* client refused at connect */

	/* For the access checks (check.c); the engine fills them. */
	int	 name_status;		/* SMTPD_PEER_* of client_name */
	int	 reverse_name_status;	/* SMTPD_PEER_* of reverse_name */
	char	 server_addr[64];	/* local end of the connection */
	char	 server_port[8];
	int	 ill_pipelining;	/* the engine saw illegal pipelining */
	struct smtpd_check_state chk;

	/*
	 * SMTP AUTH (sasl.c).  Session state: RSET and EHLO keep it;
	 * smtpd_sasl_reset() forgets it (after STARTTLS, at the end).
	 */
	struct xsasl_server *sasl_server;	/* NULL until first needed */
	char	*sasl_method;		/* NULL: not authenticated */
	char	*sasl_username;

	/* Transaction. */
	char	*sender;		/* NULL: no MAIL yet; "" is <> */
	long	 size_declared;		/* SIZE=, 0 if none */
	int	 body_8bit;		/* BODY=8BITMIME */
	int	 smtputf8;		/* SMTPUTF8 on MAIL */
	int	 dsn_ret;		/* RET=, DSN_RET_* or 0 */
	char	*dsn_envid;		/* ENVID=, decoded, or NULL */
	char	*recipient;		/* the one being checked (RCPT) */
	char	*sasl_sender;		/* MAIL FROM AUTH=, when authenticated */
	struct argv rcpts;		/* accepted recipients */
	struct argv rcpt_params;	/* "notify\torcpt" per recipient */
	int	 discard;		/* a check said DISCARD */
	int	 hold;			/* a check said HOLD */
	struct argv prepend;		/* headers checks asked to add */
	char	 queue_id[40];
	struct cleanup_clnt *cleanup;	/* daemon mode */
	struct submit *sub;		/* stand-alone mode */
	struct buf bdat_line;		/* BDAT: partial line between chunks */
	int	 size_exceeded;
	long	 msg_size;
	int	 bdat_active;		/* inside a BDAT transfer */
	int	 bdat_failed;

	/* TLS (tls.c). */
	struct tls_sess *tls;		/* NULL: plaintext */
	int	 tls_active;		/* 1 once the handshake is done */
};

/* session.c */
void	 smtpd_session(struct stream *, int);
void	 smtpd_reply(struct smtpd_state *, const char *, ...)
	    __attribute__((format(printf, 2, 3)));
void	 smtpd_flush(struct smtpd_state *);
void	 smtpd_reset(struct smtpd_state *);
int	 smtpd_input_pending(struct smtpd_state *);

/* check.c: access restrictions (Postfix smtpd_*_restrictions). */
void	 smtpd_check_init(void);
int	 smtpd_check_client(struct smtpd_state *);
int	 smtpd_check_helo(struct smtpd_state *, const char *);
int	 smtpd_check_mail(struct smtpd_state *, const char *);
int	 smtpd_check_rcpt(struct smtpd_state *, const char *);
int	 smtpd_check_vrfy(struct smtpd_state *, const char *);
int	 smtpd_check_data(struct smtpd_state *);
int	 smtpd_check_eod(struct smtpd_state *);
int	 smtpd_check_size(struct smtpd_state *, long);
int	 smtpd_is_mynetworks(struct smtpd_state *);
void	 smtpd_check_reset(struct smtpd_state *);

/* sasl.c: SMTP AUTH (RFC 4954). */
struct xsasl_server;
void	 smtpd_sasl_init(void);
const char *smtpd_sasl_ehlo_mechs(struct smtpd_state *);
int	 smtpd_sasl_auth(struct smtpd_state *, char *);
int	 smtpd_sasl_mail_opt(struct smtpd_state *, const char *, int *,
	    char **);
void	 smtpd_sasl_reset(struct smtpd_state *);
const char *smtpd_protocol(const struct smtpd_state *);
int	 smtpd_sasl_parse_auth(char *, char **, char **);
void	 smtpd_sasl_received(struct smtpd_state *, struct buf *);
/* anvil.c: per-client limits through anvil(8). */
void	 smtpd_anvil_init(void);
int	 smtpd_anvil_connect(struct smtpd_state *);
void	 smtpd_anvil_disconnect(struct smtpd_state *);
int	 smtpd_anvil_mail(struct smtpd_state *);
int	 smtpd_anvil_rcpt(struct smtpd_state *);
int	 smtpd_anvil_auth(struct smtpd_state *);
/* tls.c: STARTTLS, wrapper mode, TLS levels. */
struct tls_sess;
extern int smtpd_tls_level;		/* TLS_LEV_* in effect */
void	 smtpd_tls_init(void);
int	 smtpd_tls_offer(const struct smtpd_state *);
int	 smtpd_tls_starttls(struct smtpd_state *, const char *);
int	 smtpd_tls_wrapper(struct smtpd_state *);
int	 smtpd_tls_required(struct smtpd_state *);
void	 smtpd_tls_received(const struct smtpd_state *, struct buf *);
void	 smtpd_tls_end(struct smtpd_state *);
void	 smtpd_tls_free(void);

/* mynetworks.c: the mynetworks default from mynetworks_style. */
struct conf;
void	 smtpd_mynetworks_default(struct conf *);

#endif
