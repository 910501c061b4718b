/*
 * NAME		anvil - smtpd's per-client limits through anvil(8)
 * DESCRIPTION	As Postfix's smtpd, for clients that are not listed in
 *		smtpd_client_event_limit_exceptions (default
 *		${smtpd_client_connection_limit_exceptions:$mynetworks}: the
 *		local networks are exempt) and not for "sendmail -bs":
 *
 *		at connect	anvil counts the connection; more than
 *				smtpd_client_connection_count_limit (50)
 *				open at once, or more than
 *				smtpd_client_connection_rate_limit (0: no
 *				limit) in anvil_rate_time_unit, gets
 *				"421 4.7.0 host Error: too many connections
 *				from addr" instead of the greeting
 *		MAIL FROM	over smtpd_client_message_rate_limit: "450
 *				4.7.1 Error: too much mail from addr"
 *		RCPT TO		over smtpd_client_recipient_rate_limit: "452
 *				4.7.1 Error: too many recipients from addr"
 *		AUTH		over smtpd_client_auth_rate_limit: "450 4.7.1
 *				Error: too many AUTH commands from addr"
 *				(smtpd_anvil_auth(), for the AUTH command)
 *
 *		Each refusal logs a warning in Postfix's words
 *		("Connection rate limit exceeded: 3 from unknown[127.0.0.1]
 *		for service smtp", "Connection concurrency limit exceeded",
 *		"Message delivery request rate limit exceeded", "Recipient
 *		address rate limit exceeded", "AUTH command rate limit
 *		exceeded").  Events are counted only while their limit is
 *		not zero, and anvil is asked at all only when some limit is
 *		set.  When anvil cannot be reached the client is not limited
 *		and a warning is logged (fail open, as Postfix).  A refused
 *		command counts as an error (smtpd_hard_error_limit).
 *
 *		smtpd serves one client per process, so the state of the
 *		session's anvil registration is kept here.
 * SECURITY	The client address and service name are the ident; anvil's
 *		replies are parsed strictly (lib/mail/anvil_clnt.c).
 * SEE ALSO	anvil(8), doc/anvil.md, doc/smtpd.md
 */
#include <string.h>

#include "dict/match.h"
#include "mail/anvil_clnt.h"
#include "mail/mail_conf.h"
#include "server/server.h"
#include "util/log.h"
#include "smtpd.h"
#include "smtpd_int.h"

static struct match_list *smtpd_anvil_exceptions;
static int smtpd_anvil_on;		/* some limit is set */
static int smtpd_anvil_connected;	/* this session told anvil */

/* smtpd_anvil_init - the exception list (before the jail) */
void
smtpd_anvil_init(void)
{
	smtpd_anvil_on = smtpd_cfg.smtpd_client_connection_count_limit > 0 ||
	    smtpd_cfg.smtpd_client_connection_rate_limit > 0 ||
	    smtpd_cfg.smtpd_client_message_rate_limit > 0 ||
	    smtpd_cfg.smtpd_client_recipient_rate_limit > 0 ||
	    smtpd_cfg.smtpd_client_auth_rate_limit > 0;
	if (smtpd_anvil_on &&
	    *smtpd_cfg.smtpd_client_event_limit_exceptions)
		smtpd_anvil_exceptions = match_list_new(
		    "smtpd_client_event_limit_exceptions",
		    smtpd_cfg.smtpd_client_event_limit_exceptions);
}

/* smtpd_anvil_service - the service part of the ident */
static const char *
smtpd_anvil_service(void)
{
	return srv.service && *srv.service ? srv.service : "smtp";
}

/* smtpd_anvil_applies - is this client subject to the limits? */
static int
smtpd_anvil_applies(struct smtpd_state *st)
{
	struct buf why = BUF_INIT;
	int m = 0;

	if (!smtpd_anvil_on || st->standalone)
		return 0;
	if (smtpd_anvil_exceptions) {
		m = match_list_host(smtpd_anvil_exceptions, st->client_name,
		    st->client_addr, &why);
		/* A table that fails: limits apply, as for a non-match. */
		if (m < 0)
			log_warn("smtpd_client_event_limit_exceptions: %s",
			    buf_str(&why));
	}
	buf_free(&why);
	return m <= 0;
}

/*
 * smtpd_anvil_connect - count the connection.  0 to go on, -1 when the
 * client is over a connection limit (the 421 reply is sent).
 */
int
smtpd_anvil_connect(struct smtpd_state *st)
{
	long count, rate;

	smtpd_anvil_connected = 0;
	if (!smtpd_anvil_applies(st))
		return 0;
	if (anvil_clnt_connect(smtpd_anvil_service(), st->client_addr, &count,
	    &rate) != ANVIL_STAT_OK)
		return 0;
	smtpd_anvil_connected = 1;
	if (smtpd_cfg.smtpd_client_connection_count_limit > 0 &&
	    count > smtpd_cfg.smtpd_client_connection_count_limit) {
		log_warn("Connection concurrency limit exceeded: %ld from %s "
		    "for service %s", count, st->namaddr,
		    smtpd_anvil_service());
		smtpd_reply(st, "421 4.7.0 %s Error: too many connections "
		    "from %s", mail_cfg.myhostname, st->client_addr);
		return -1;
	}
	if (smtpd_cfg.smtpd_client_connection_rate_limit > 0 &&
	    rate > smtpd_cfg.smtpd_client_connection_rate_limit) {
		log_warn("Connection rate limit exceeded: %ld from %s for "
		    "service %s", rate, st->namaddr, smtpd_anvil_service());
		smtpd_reply(st, "421 4.7.0 %s Error: too many connections "
		    "from %s", mail_cfg.myhostname, st->client_addr);
		return -1;
	}
	return 0;
}

/* smtpd_anvil_disconnect - the session is over */
void
smtpd_anvil_disconnect(struct smtpd_state *st)
{
	if (!smtpd_anvil_connected)
		return;
	smtpd_anvil_connected = 0;
	(void)anvil_clnt_disconnect(smtpd_anvil_service(), st->client_addr);
}

/*
 * smtpd_anvil_mail - count a MAIL FROM.  0 to go on, 1 when the client
 * is over smtpd_client_message_rate_limit (the 450 reply is sent).
 */
int
smtpd_anvil_mail(struct smtpd_state *st)
{
	long rate;

	if (smtpd_cfg.smtpd_client_message_rate_limit <= 0 ||
	    !smtpd_anvil_applies(st) ||
	    anvil_clnt_mail(smtpd_anvil_service(), st->client_addr,
	    &rate) != ANVIL_STAT_OK ||
	    rate <= smtpd_cfg.smtpd_client_message_rate_limit)
		return 0;
	smtpd_reply(st, "450 4.7.1 Error: too much mail from %s",
	    st->client_addr);
	log_warn("Message delivery request rate limit exceeded: %ld from %s "
	    "for service %s", rate, st->namaddr, smtpd_anvil_service());
	return 1;
}

/*
 * smtpd_anvil_rcpt - count a RCPT TO.  0 to go on, 1 when the client is
 * over smtpd_client_recipient_rate_limit (the 452 reply is sent).
 */
int
smtpd_anvil_rcpt(struct smtpd_state *st)
{
	long rate;

	if (smtpd_cfg.smtpd_client_recipient_rate_limit <= 0 ||
	    !smtpd_anvil_applies(st) ||
	    anvil_clnt_rcpt(smtpd_anvil_service(), st->client_addr,
	    &rate) != ANVIL_STAT_OK ||
	    rate <= smtpd_cfg.smtpd_client_recipient_rate_limit)
		return 0;
	smtpd_reply(st, "452 4.7.1 Error: too many recipients from %s",
	    st->client_addr);
	log_warn("Recipient address rate limit exceeded: %ld from %s for "
	    "service %s", rate, st->namaddr, smtpd_anvil_service());
	return 1;
}

/*
 * smtpd_anvil_auth - count an AUTH command.  0 to go on, 1 when the
 * client is over smtpd_client_auth_rate_limit: the "450 4.7.1 Error: too
 * many AUTH commands from addr" reply is sent and logged; the caller
 * counts an error (smtpd_error()) and does not run the AUTH exchange.
 */
int
smtpd_anvil_auth(struct smtpd_state *st)
{
	long rate;

	if (smtpd_cfg.smtpd_client_auth_rate_limit <= 0 ||
	    !smtpd_anvil_applies(st) ||
	    anvil_clnt_auth(smtpd_anvil_service(), st->client_addr,
	    &rate) != ANVIL_STAT_OK ||
	    rate <= smtpd_cfg.smtpd_client_auth_rate_limit)
		return 0;
	log_warn("AUTH command rate limit exceeded: %ld from %s for service "
	    "%s", rate, st->namaddr, smtpd_anvil_service());
	smtpd_reply(st, "450 4.7.1 Error: too many AUTH commands from %s",
	    st->client_addr);
	return 1;
}
