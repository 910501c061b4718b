/*
 * NAME		smtp - SMTP and LMTP delivery agent
 * SYNOPSIS	smtp [generic daemon options]
 *		lmtp [generic daemon options]
 * DESCRIPTION	smtp(8) delivers mail to other hosts with SMTP, as Postfix's
 *		smtp(8) does; invoked as "lmtp" (the same program under
 *		another name) it is the LMTP client.  qmgr(8) sends one
 *		request per message and next hop over the delivery protocol;
 *		the agent looks up the next hop's MX hosts and addresses,
 *		connects, speaks ESMTP (PIPELINING, SIZE, 8BITMIME, DSN,
 *		SMTPUTF8) and answers with one status per recipient.  It
 *		logs one line per recipient in Postfix's format
 *		("to=<...>, relay=host[addr]:port, delay=..., delays=...,
 *		dsn=..., status=sent (250 2.0.0 Ok ...)").  A connection
 *		stays open for a short while after a delivery and carries
 *		the next request for the same next hop.  See doc/smtp.md.
 * SECURITY	Started by master(8) as mail_owner, normally chrooted to
 *		queue_directory.  The resolver configuration is read once,
 *		after the chroot: a chrooted agent uses the queue
 *		directory's etc/resolv.conf.  Nothing a server sends is
 *		trusted: replies are parsed with bounds, and every wait has
 *		a time limit.
 * PARAMETERS	smtp_connect_timeout (30s), smtp_helo_timeout (300s),
 *		smtp_mail_timeout (300s), smtp_rcpt_timeout (300s),
 *		smtp_data_init_timeout (120s), smtp_data_xfer_timeout
 *		(180s), smtp_data_done_timeout (600s), smtp_rset_timeout
 *		(20s), smtp_quit_timeout (300s), smtp_helo_name
 *		($myhostname), smtp_skip_5xx_greeting (yes),
 *		smtp_skip_quit_response (yes), smtp_never_send_ehlo (no),
 *		smtp_mx_address_limit (5), smtp_mx_session_limit (2),
 *		smtp_line_length_limit (998), smtp_fallback_relay
 *		($fallback_relay), smtp_connection_cache_on_demand (yes),
 *		smtp_connection_cache_destinations (empty),
 *		smtp_connection_cache_time_limit (2s),
 *		smtp_connection_reuse_time_limit (300s),
 *		smtp_connection_reuse_count_limit (0),
 *		smtp_discard_ehlo_keywords (empty), smtp_address_preference
 *		(any), smtp_tcp_port (smtp), inet_protocols (all); as lmtp
 *		the lmtp_* names (lmtp_lhlo_name, lmtp_lhlo_timeout,
 *		lmtp_connect_timeout 0s, lmtp_tcp_port 24, ...).  Also
 *		myhostname.  TLS: smtp_tls_* and smtp_starttls_timeout
 *		(lmtp_tls_*), see smtp/tls.c and doc/tls.md.
 * DIAGNOSTICS	Delivery log lines; warnings for bad requests, unreadable
 *		queue files, bad next hops and servers that greet with our
 *		own name.  A bad inet_protocols, address preference or TCP
 *		port is fatal.  Exit status 0, or 1 on a fatal error.
 * SEE ALSO	qmgr(8), master(8), doc/smtp.md, doc/dns.md
 */
#include <stdlib.h>
#include <string.h>

#include "mail/deliver.h"
#include "mail/mail_conf.h"
#include "server/server.h"
#include "util/log.h"
#include "smtp.h"

/* smtp_post_jail - the resolver (inside the jail) and derived settings */
static void
smtp_post_jail(void)
{
	struct buf why = BUF_INIT;
	const char *p = smtp_cfg.lmtp ? "lmtp" : "smtp";

	if (dns_protocols(smtp_cfg.inet_protocols, &smtp_cfg.protos, &why) < 0)
		log_fatal("%s", buf_str(&why));
	if (dns_address_pref(smtp_cfg.address_preference, &smtp_cfg.addr_pref,
	    &why) < 0)
		log_fatal("%s_address_preference: %s", p, buf_str(&why));
	if (smtp_port_parse(smtp_cfg.tcp_port, &smtp_cfg.port) < 0)
		log_fatal("bad %s_tcp_port: %s", p, smtp_cfg.tcp_port);
	if (dns_init(&why) < 0)
		log_warn("%s -- DNS lookups will fail", buf_str(&why));
	buf_free(&why);
}

/* smtp_pre_jail - tables, the SASL library, TLS keys and CAs */
static void
smtp_pre_jail(void)
{
	smtp_generic_init();
	smtp_auth_init();
	smtp_tls_init();
}

/* smtp_serve - one delivery request */
static void
smtp_serve(struct stream *s)
{
	deliver_serve(s, smtp_deliver);
}

/* main - one program, two protocols: the name decides */
int
main(int argc, char **argv)
{
	static struct srv_hooks h = {
		.cfg = &smtp_cfg,
		.pre_jail = smtp_pre_jail,
		.post_jail = smtp_post_jail,
		.serve = smtp_serve,
		.idle_tick = smtp_cache_tick,
	};
	const char *name = strrchr(argv[0], '/');
	int rc;

	name = name ? name + 1 : argv[0];
	smtp_cfg.lmtp = strcmp(name, "lmtp") == 0;
	smtp_cfg.proto = smtp_cfg.lmtp ? "LMTP" : "SMTP";
	h.params = smtp_cfg.lmtp ? lmtp_params : smtp_params;
	rc = srv_single_main(argc, argv, &h);
	smtp_cache_flush();
	smtp_auth_end();
	smtp_tls_free();
	dns_end();
	return rc;
}
