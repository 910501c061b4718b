/*
 * NAME		sasl - SMTP AUTH in the SMTP server (RFC 4954)
 * DESCRIPTION	With smtpd_sasl_auth_enable = yes, EHLO announces "AUTH
 *		mech..." (and "AUTH=mech..." for broken_sasl_auth_clients)
 *		with the mechanisms of the backend chosen by smtpd_sasl_type
 *		(lib/sasl: cyrus or dovecot), filtered by
 *		smtpd_sasl_security_options, or by
 *		smtpd_sasl_tls_security_options once the session is
 *		encrypted.  With smtpd_tls_auth_only = yes AUTH exists only
 *		after STARTTLS.  Clients in smtpd_sasl_exceptions_networks
 *		are not told about AUTH (they may still use it, as with
 *		Postfix).  Sessions from "sendmail -bs" never get AUTH.
 *
 *		The AUTH command: "AUTH mechanism [initial-response]", where
 *		"=" is an empty initial response.  Challenges go out as
 *		"334 base64", each client response is one line of at most
 *		smtpd_sasl_response_limit bytes, "*" cancels.  Replies are
 *		Postfix's: 235 2.7.0 on success; 535 5.7.8 "Error:
 *		authentication failed: reason"; 454 4.7.0 "Temporary
 *		authentication failure: reason" when the backend cannot
 *		answer; 503 5.5.1 for AUTH when not enabled, twice, or in a
 *		mail transaction; 501 for syntax, bad base64 and a cancelled
 *		exchange; 500 5.5.6 for an over-long response.  Every
 *		failure counts as an error (smtpd_error_sleep_time,
 *		smtpd_hard_error_limit) and is logged as Postfix logs it,
 *		"warning: name[addr]: SASL PLAIN authentication failed:
 *		reason", so fail2ban's postfix filter finds it.
 *
 *		Authentication lasts for the session: RSET and a second
 *		EHLO keep it; smtpd_sasl_reset() ends it (STARTTLS, end of
 *		session).  Once authenticated, the protocol name gets an
 *		"A" (ESMTPA, ESMTPSA: smtpd_protocol()), the "QUEUEID:
 *		client=" line gets
 *		sasl_method, sasl_username (and sasl_sender) and so does the
 *		queue file; MAIL FROM's AUTH= parameter is recorded as
 *		sasl_sender, for an authenticated session only (RFC 4954
 *		section 5; otherwise it is ignored).
 * SECURITY	The mechanism name is checked (RFC 4422 syntax), base64 is
 *		decoded strictly with a bound, responses are bounded by
 *		smtpd_sasl_response_limit, the user name a backend returns
 *		is cleaned of control characters before it is logged or
 *		recorded.
 * PARAMETERS	smtpd_sasl_auth_enable (no), smtpd_sasl_type (cyrus),
 *		smtpd_sasl_path (smtpd), smtpd_sasl_security_options
 *		(noanonymous), smtpd_sasl_tls_security_options
 *		($smtpd_sasl_security_options), smtpd_sasl_local_domain,
 *		smtpd_sasl_authenticated_header (no), broken_sasl_auth_clients
 *		(no), smtpd_sasl_exceptions_networks, smtpd_sasl_response_limit
 *		(12288), smtpd_sasl_service (smtp), cyrus_sasl_config_path,
 *		smtpd_tls_auth_only (no).
 * DIAGNOSTICS	"SASL X authentication failed: reason", "SASL X
 *		authentication aborted" (warnings, with the client); fatal
 *		errors for a bad backend or security option at start-up.
 * SEE ALSO	lib/sasl/xsasl.h, doc/sasl.md, doc/smtpd.md
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "dict/match.h"
#include "mail/mail_conf.h"
#include "sasl/xsasl.h"
#include "tls/tls.h"
#include "server/server.h"
#include "util/base64.h"
#include "util/log.h"
#include "util/mem.h"
#include "util/strutil.h"
#include "smtpd.h"
#include "smtpd_int.h"

static int sasl_ready;			/* backend initialized */
static int sasl_sec_plain;		/* smtpd_sasl_security_options */
static int sasl_sec_tls;		/* smtpd_sasl_tls_security_options */
static struct match_list *sasl_exceptions;

/* smtpd_sasl_done - release the process state (at exit) */
static void
smtpd_sasl_done(void)
{
	xsasl_server_done();
	match_list_free(sasl_exceptions);
	sasl_exceptions = NULL;
	sasl_ready = 0;
}

/*
 * smtpd_sasl_init - before the chroot: check the security options and
 * initialize the backend (Cyrus reads its configuration and loads its
 * plugins now).  A configuration error is fatal, as in Postfix.
 */
void
smtpd_sasl_init(void)
{
	struct buf why = BUF_INIT;
	const char *tls_opts;

	if (!smtpd_cfg.smtpd_sasl_auth_enable || srv.standalone || sasl_ready)
		return;
	if (xsasl_security_parse(smtpd_cfg.smtpd_sasl_security_options,
	    &sasl_sec_plain, &why) < 0)
		log_fatal("smtpd_sasl_security_options: %s", buf_str(&why));
	tls_opts = smtpd_cfg.smtpd_sasl_tls_security_options;
	if (xsasl_security_parse(tls_opts, &sasl_sec_tls, &why) < 0)
		log_fatal("smtpd_sasl_tls_security_options: %s", buf_str(&why));
	if (xsasl_server_init(smtpd_cfg.smtpd_sasl_type ?
	    smtpd_cfg.smtpd_sasl_type : "cyrus", smtpd_cfg.smtpd_sasl_path,
	    smtpd_cfg.cyrus_sasl_config_path, &why) < 0)
		log_fatal("SASL server initialization: %s", buf_str(&why));
	if (smtpd_cfg.smtpd_sasl_exceptions_networks &&
	    *smtpd_cfg.smtpd_sasl_exceptions_networks)
		sasl_exceptions = match_list_new(
		    "smtpd_sasl_exceptions_networks",
		    smtpd_cfg.smtpd_sasl_exceptions_networks);
	sasl_ready = 1;
	atexit(smtpd_sasl_done);
	buf_free(&why);
}

/*
 * smtpd_sasl_active - does this session have AUTH at all?  Not for
 * "sendmail -bs", and with smtpd_tls_auth_only (which the TLS level
 * "encrypt" implies, as in Postfix) only once TLS is on.
 */
static int
smtpd_sasl_active(const struct smtpd_state *st)
{
	return sasl_ready && !st->standalone &&
	    ((!smtpd_cfg.smtpd_tls_auth_only &&
	    smtpd_tls_level < TLS_LEV_ENCRYPT) || st->tls_active);
}

/* smtpd_sasl_server - the session's backend server, made on first use */
static struct xsasl_server *
smtpd_sasl_server(struct smtpd_state *st, struct buf *why)
{
	struct xsasl_server_args a;

	if (st->sasl_server)
		return st->sasl_server;
	memset(&a, 0, sizeof(a));
	a.service = smtpd_cfg.smtpd_sasl_service;
	a.server_name = mail_cfg.myhostname;
	a.realm = smtpd_cfg.smtpd_sasl_local_domain &&
	    *smtpd_cfg.smtpd_sasl_local_domain ?
	    smtpd_cfg.smtpd_sasl_local_domain : NULL;
	a.client_addr = strcmp(st->client_addr, "unknown") ? st->client_addr :
	    "";
	a.client_port = st->client_port;
	a.server_addr = strcmp(st->server_addr, "unknown") ? st->server_addr :
	    "";
	a.server_port = st->server_port;
	a.security = st->tls_active ? sasl_sec_tls : sasl_sec_plain;
	a.tls_active = st->tls_active;
	a.timeout = (int)smtpd_cfg.smtpd_timeout;
	st->sasl_server = xsasl_server_create(&a, why);
	return st->sasl_server;
}

/* smtpd_sasl_exception - a client not to tell about AUTH? */
static int
smtpd_sasl_exception(struct smtpd_state *st)
{
	struct buf why = BUF_INIT;
	int r;

	if (sasl_exceptions == NULL)
		return 0;
	r = match_list_host(sasl_exceptions, st->client_name, st->client_addr,
	    &why);
	if (r < 0)
		log_warn("smtpd_sasl_exceptions_networks: %s", buf_str(&why));
	buf_free(&why);
	return r != 0;		/* on a table error, do not announce */
}

/*
 * smtpd_sasl_ehlo_mechs - the mechanisms EHLO announces, or NULL when
 * it announces no AUTH (not enabled, not yet (TLS), an exception, or
 * the backend is unavailable: AUTH then answers 454).
 */
const char *
smtpd_sasl_ehlo_mechs(struct smtpd_state *st)
{
	struct buf why = BUF_INIT;
	struct xsasl_server *xs;

	if (!smtpd_sasl_active(st) || smtpd_sasl_exception(st))
		return NULL;
	xs = smtpd_sasl_server(st, &why);
	if (xs == NULL)
		log_warn("%s: SASL: AUTH not offered: %s", st->namaddr,
		    buf_str(&why));
	buf_free(&why);
	return xs ? xsasl_server_mechs(xs) : NULL;
}

/*
 * smtpd_sasl_parse_auth - split the AUTH argument: a mechanism (RFC
 * 4422 syntax, folded to upper case in place) and an optional initial
 * response (NULL when absent).  Returns 0, or -1 for a syntax error.
 */
int
smtpd_sasl_parse_auth(char *arg, char **mech, char **resp)
{
	char *cp = arg, *m, *r, *p;

	*mech = *resp = NULL;
	if ((m = str_token(&cp, " ")) == NULL)
		return -1;
	r = str_token(&cp, " ");
	if (str_token(&cp, " ") != NULL)
		return -1;
	if (!xsasl_mech_valid(m, strlen(m)))
		return -1;
	for (p = m; *p; p++)
		if (*p >= 'a' && *p <= 'z')
			*p = (char)(*p - 'a' + 'A');
	*mech = m;
	*resp = r;
	return 0;
}

/* smtpd_sasl_clean - a copy without control characters (logs, queue) */
static char *
smtpd_sasl_clean(const char *s, size_t max)
{
	char *copy = xstrndup(s, strnlen(s, max));
	char *p;

	for (p = copy; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = '?';
	return copy;
}

/*
 * smtpd_sasl_reset - forget authentication and the backend connection
 * (after STARTTLS, and at the end of the session).
 */
void
smtpd_sasl_reset(struct smtpd_state *st)
{
	xsasl_server_free(st->sasl_server);
	st->sasl_server = NULL;
	free(st->sasl_method);
	st->sasl_method = NULL;
	free(st->sasl_username);
	st->sasl_username = NULL;
	free(st->sasl_sender);
	st->sasl_sender = NULL;
}

/* smtpd_sasl_failed - log and answer a failed exchange */
static int
smtpd_sasl_failed(struct smtpd_state *st, const char *mech, int status,
    const char *reason)
{
	char *clean = smtpd_sasl_clean(reason && *reason ? reason :
	    "authentication failure", 200);

	log_warn("%s: SASL %s authentication failed: %s", st->namaddr, mech,
	    clean);
	if (status == XSASL_TEMP)
		smtpd_reply(st, "454 4.7.0 Temporary authentication failure: %s",
		    clean);
	else
		smtpd_reply(st, "535 5.7.8 Error: authentication failed: %s",
		    clean);
	free(clean);
	return smtpd_error(st);
}

/*
 * smtpd_sasl_exchange - run the exchange for mech from the initial
 * response (or none).  Returns 0 to go on, -1 to end the session.
 */
static int
smtpd_sasl_exchange(struct smtpd_state *st, struct xsasl_server *xs,
    const char *mech, const char *init)
{
	struct buf data = BUF_INIT, reply = BUF_INIT, b64 = BUF_INIT;
	struct buf line = BUF_INIT;
	const char *name;
	int status, r = 0, rl;

	if (init && strcmp(init, "=") != 0 && base64_decode(init,
	    strlen(init), XSASL_DATA_MAX, &data) < 0) {
		smtpd_reply(st, "501 5.5.2 Invalid base64 data in initial "
		    "response");
		r = smtpd_error(st);
		goto out;
	}
	status = xsasl_server_start(xs, mech, data.p, data.len, init != NULL,
	    &reply);
	while (status == XSASL_CONTINUE) {
		buf_reset(&b64);
		base64_encode(reply.p, reply.len, &b64);
		smtpd_reply(st, "334 %s", buf_str(&b64));
		/* The CR of CRLF is part of what stream_gets() counts. */
		rl = smtpd_read_line(st, &line,
		    (size_t)smtpd_cfg.smtpd_sasl_response_limit + 1);
		if (rl < 0) {
			r = -1;
			goto out;
		}
		if (rl == 1) {
			smtpd_reply(st, "500 5.5.6 SASL response limit "
			    "exceeded");
			r = smtpd_error(st);
			goto out;
		}
		if (rl == 2) {
			log_info("bare <LF> received from %s", st->namaddr);
			smtpd_reply(st, "521 5.5.2 %s Error: bare <LF> "
			    "received", mail_cfg.myhostname);
			r = -1;
			goto out;
		}
		if (line.len == 1 && line.p[0] == '*') {
			log_warn("%s: SASL %s authentication aborted",
			    st->namaddr, mech);
			smtpd_reply(st, "501 5.7.0 Authentication aborted");
			r = smtpd_error(st);
			goto out;
		}
		if (base64_decode(line.p, line.len, XSASL_DATA_MAX, &data) < 0) {
			smtpd_reply(st, "501 5.5.2 Invalid base64 data in "
			    "continued response");
			r = smtpd_error(st);
			goto out;
		}
		status = xsasl_server_next(xs, data.p, data.len, &reply);
	}
	if (status == XSASL_OK &&
	    ((name = xsasl_server_username(xs)) == NULL || *name == 0)) {
		buf_sets(&reply, "authentication server returned no user name");
		status = XSASL_TEMP;
	}
	if (status != XSASL_OK) {
		r = smtpd_sasl_failed(st, mech, status, buf_str(&reply));
		goto out;
	}
	st->sasl_username = smtpd_sasl_clean(name, 256);
	st->sasl_method = xstrdup(mech);
	st->ok_auth++;
	smtpd_reply(st, "235 2.7.0 Authentication successful");
out:
	buf_free(&data);
	buf_free(&reply);
	buf_free(&b64);
	buf_free(&line);
	return r;
}

/* smtpd_sasl_auth - the AUTH command */
int
smtpd_sasl_auth(struct smtpd_state *st, char *arg)
{
	struct buf why = BUF_INIT;
	struct xsasl_server *xs;
	char *mech, *init;
	int r;

	st->n_auth++;
	st->last_cmd = "AUTH";
	if (smtpd_cfg.smtpd_helo_required && st->helo_name == NULL) {
		smtpd_reply(st, "503 5.5.1 Error: send HELO/EHLO first");
		return smtpd_error(st);
	}
	if (!smtpd_sasl_active(st)) {
		smtpd_reply(st, "503 5.5.1 Error: authentication not enabled");
		return smtpd_error(st);
	}
	if (st->sender != NULL) {
		smtpd_reply(st, "503 5.5.1 Error: MAIL transaction in progress");
		return smtpd_error(st);
	}
	if (st->sasl_username != NULL) {
		smtpd_reply(st, "503 5.5.1 Error: already authenticated");
		return smtpd_error(st);
	}
	if (smtpd_sasl_parse_auth(arg, &mech, &init) < 0 || (init &&
	    strlen(init) > (size_t)smtpd_cfg.smtpd_sasl_response_limit)) {
		smtpd_reply(st, "501 5.5.4 Syntax: AUTH mechanism");
		return smtpd_error(st);
	}
	/* smtpd_client_auth_rate_limit, before the backend is involved. */
	if (smtpd_anvil_auth(st) != 0) {
		buf_free(&why);
		return smtpd_error(st);
	}
	if ((xs = smtpd_sasl_server(st, &why)) == NULL) {
		r = smtpd_sasl_failed(st, mech, XSASL_TEMP, buf_str(&why));
		buf_free(&why);
		return r;
	}
	buf_free(&why);
	return smtpd_sasl_exchange(st, xs, mech, init);
}

/*
 * smtpd_sasl_mail_opt - MAIL FROM AUTH=value (xtext); *seen counts the
 * AUTH= parameters of the command.  For an authenticated session *out
 * gets the decoded address (nothing for "<>"); otherwise the parameter
 * is checked and ignored (RFC 4954 section 5).  Returns 0, or -1 after
 * queueing a 501 or 503 reply.
 */
int
smtpd_sasl_mail_opt(struct smtpd_state *st, const char *value, int *seen,
    char **out)
{
	struct buf dec = BUF_INIT;
	size_t i;

	if ((*seen)++ > 0) {
		smtpd_reply(st, "503 5.5.4 Error: multiple AUTH= options");
		return -1;
	}
	if (strlen(value) > 3 * (SMTPD_ADDR_MAX + 2) ||
	    smtpd_xtext_decode(value, &dec) < 0 || dec.len == 0 ||
	    dec.len > SMTPD_ADDR_MAX + 2)
		goto bad;
	for (i = 0; i < dec.len; i++)
		if ((unsigned char)dec.p[i] < 0x20 || dec.p[i] == 0x7f)
			goto bad;
	if (st->sasl_username != NULL && strcmp(dec.p, "<>") != 0)
		*out = buf_steal(&dec);
	buf_free(&dec);
	return 0;
bad:
	buf_free(&dec);
	smtpd_reply(st, "501 5.5.4 Bad AUTH parameter syntax");
	return -1;
}

/*
 * smtpd_sasl_received - the Received: header line Postfix adds for an
 * authenticated client with smtpd_sasl_authenticated_header = yes:
 * "\n\t(Authenticated sender: name)" (comment characters escaped).
 */
void
smtpd_sasl_received(struct smtpd_state *st, struct buf *h)
{
	const char *p;

	if (!smtpd_cfg.smtpd_sasl_authenticated_header ||
	    st->sasl_username == NULL)
		return;
	buf_puts(h, "\n\t(Authenticated sender: ");
	for (p = st->sasl_username; *p; p++) {
		if (*p == '(' || *p == ')' || *p == '\\')
			buf_putc(h, '\\');
		buf_putc(h, *p);
	}
	buf_putc(h, ')');
}
