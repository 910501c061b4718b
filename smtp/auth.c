/*
 * NAME		auth - SMTP AUTH in the SMTP/LMTP client (smtp_sasl_*)
 * DESCRIPTION	With smtp_sasl_auth_enable = yes (lmtp_sasl_auth_enable for
 *		LMTP) the client logs in to servers that offer AUTH, as
 *		Postfix's smtp(8) does.
 *
 *		Credentials ("user:password") come from
 *		smtp_sasl_password_maps.  The keys, first match wins:
 *
 *		  1. with smtp_sender_dependent_authentication = yes and a
 *		     non-null sender: the sender address as an address
 *		     table key (user+ext@domain, user@domain, the bare user
 *		     for a local domain, @domain: lib/dict/addr_find);
 *		  2. the host name of the server being talked to (an MX
 *		     host's name, or the host of "[host]"; the address for
 *		     "[address]"; not for an LMTP UNIX-domain socket);
 *		  3. the next hop exactly as written in the request or in
 *		     the fallback relay list: "[mail.example]:587",
 *		     "example.com", "inet:host:24" ...
 *
 *		No credentials: the mail goes without AUTH.  A value
 *		without ':' is a user name with an empty password.
 *
 *		smtp_ehlo_auth() keeps the mechanisms of the server's "AUTH"
 *		line (or the old "AUTH=" form when no "AUTH" line came),
 *		less those smtp_sasl_mechanism_filter does not list; when
 *		the filter leaves none, the server is treated as one
 *		without AUTH (with a warning).  smtp_auth() runs the
 *		exchange after the EHLO handshake: Cyrus SASL chooses a
 *		mechanism within smtp_sasl_security_options (with TLS:
 *		smtp_sasl_tls_security_options), "AUTH mech [initial
 *		response]" goes out ("=" for an empty one), each 334
 *		challenge gets the mechanism's answer, and a 2XX reply ends
 *		it.  A session that logged in is not logged in again when
 *		it is reused.
 *
 *		Failures, as Postfix: a reply other than 2XX defers the
 *		mail ("SASL authentication failed; server X said: 535
 *		...", the reply's status with class 4) and the next server
 *		address is tried; with smtp_sasl_auth_soft_bounce = no a
 *		5XX reply bounces it.  No usable mechanism, a malformed
 *		challenge or a mechanism error defers with 4.7.0 ("SASL
 *		authentication failed; cannot authenticate to server X:
 *		no mechanism available"); the exchange is cancelled with
 *		"*" when it was under way.
 *
 *		With sender-dependent authentication the connection cache
 *		key carries the SASL user name found for the sender, so a
 *		session logged in for one identity never carries mail that
 *		needs another (smtp_auth_sender()).
 * SECURITY	Passwords are read from the table, handed to Cyrus, wiped
 *		from memory with the session's SASL state and never logged.
 *		Challenges are single-line 334 replies, strictly base64
 *		(sasl_client.c); at most SMTP_AUTH_STEPS_MAX of them.
 * PARAMETERS	smtp_sasl_auth_enable (no), smtp_sasl_password_maps
 *		(empty), smtp_sasl_security_options (noplaintext,
 *		noanonymous), smtp_sasl_tls_security_options
 *		($smtp_sasl_security_options), smtp_sasl_mechanism_filter
 *		(empty), smtp_sasl_auth_soft_bounce (yes),
 *		smtp_sender_dependent_authentication (no); lmtp_* for LMTP.
 * SEE ALSO	lib/sasl/sasl_client.c, doc/smtp-auth.md
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "dict/addr_find.h"
#include "dict/dict.h"
#include "dict/match.h"
#include "sasl/sasl_client.h"
#include "util/argv.h"
#include "util/base64.h"
#include "util/log.h"
#include "util/mem.h"
#include "util/strutil.h"
#include "smtp.h"

static struct maps *smtp_auth_maps;
static struct match_list *smtp_auth_filter;
static int smtp_auth_flags;		/* plaintext session */
static int smtp_auth_tls_flags;		/* TLS session */

/* smtp_auth_param - a parameter's name in this protocol */
static const char *
smtp_auth_param(const char *suffix)
{
	static char name[64];

	snprintf(name, sizeof(name), "%s_%s", smtp_cfg.lmtp ? "lmtp" : "smtp",
	    suffix);
	return name;
}

/*
 * smtp_auth_init - tables, options and the SASL library, before the
 * chroot.  Bad settings are fatal, as in Postfix.
 */
void
smtp_auth_init(void)
{
	struct buf why = BUF_INIT;

	if (!smtp_cfg.sasl_enable)
		return;
	if (*smtp_cfg.sasl_passwd_maps == 0)
		log_fatal("specify a password table via the `%s' "
		    "configuration parameter",
		    smtp_auth_param("sasl_password_maps"));
	if (xsasl_security_parse(smtp_cfg.sasl_sec_opts, &smtp_auth_flags,
	    &why) < 0)
		log_fatal("%s: %s", smtp_auth_param("sasl_security_options"),
		    buf_str(&why));
	buf_reset(&why);
	if (xsasl_security_parse(smtp_cfg.sasl_tls_sec_opts,
	    &smtp_auth_tls_flags, &why) < 0)
		log_fatal("%s: %s",
		    smtp_auth_param("sasl_tls_security_options"),
		    buf_str(&why));
	buf_reset(&why);
	if (sasl_clnt_init("postern", &why) < 0)
		log_fatal("%s", buf_str(&why));
	addr_find_init();
	smtp_auth_maps = maps_open(smtp_auth_param("sasl_password_maps"),
	    smtp_cfg.sasl_passwd_maps, DICT_FLAG_FOLD_FIX);
	if (*smtp_cfg.sasl_mech_filter)
		smtp_auth_filter = match_list_new(
		    smtp_auth_param("sasl_mechanism_filter"),
		    smtp_cfg.sasl_mech_filter);
	buf_free(&why);
}

/* smtp_auth_end - release everything (process exit) */
void
smtp_auth_end(void)
{
	if (smtp_auth_maps) {
		maps_free(smtp_auth_maps);
		smtp_auth_maps = NULL;
	}
	match_list_free(smtp_auth_filter);
	smtp_auth_filter = NULL;
	sasl_clnt_done();
}

/* smtp_auth_on - is client AUTH enabled? */
int
smtp_auth_on(void)
{
	return smtp_auth_maps != NULL;
}

/*
 * smtp_auth_mechs - the mechanism names in the arguments of an AUTH
 * keyword (len bytes at p), upper-cased, space-separated, into out.
 * Words that are not mechanism names are skipped, duplicates dropped, at
 * most SASL_CLNT_MECHS_MAX kept.  Returns the number kept.
 */
int
smtp_auth_mechs(const char *p, size_t len, struct buf *out)
{
	char word[SASL_CLNT_MECH_MAX + 1];
	size_t i = 0, n, k;
	int count = 0;

	buf_reset(out);
	while (i < len) {
		while (i < len && (p[i] == ' ' || p[i] == '\t'))
			i++;
		for (n = 0; i + n < len && p[i + n] != ' ' &&
		    p[i + n] != '\t'; n++)
			;
		if (n > 0 && n <= SASL_CLNT_MECH_MAX &&
		    count < SASL_CLNT_MECHS_MAX) {
			for (k = 0; k < n; k++)
				word[k] = (char)toupper((unsigned char)p[i + k]);
			word[n] = 0;
			if (xsasl_mech_valid(word, n) &&
			    !smtp_keyword_listed(buf_str(out), word)) {
				if (out->len)
					buf_putc(out, ' ');
				buf_puts(out, word);
				count++;
			}
		}
		i += n;
	}
	return count;
}

/* smtp_auth_filtered - the mechanisms the filter allows */
static void
smtp_auth_filtered(const char *mechs, struct buf *out)
{
	struct argv *v = argv_split(mechs, " ");
	struct buf why = BUF_INIT;
	size_t i;
	int m;

	buf_reset(out);
	for (i = 0; i < v->n; i++) {
		m = smtp_auth_filter ? match_list_domain(smtp_auth_filter,
		    v->v[i], &why) : 1;
		if (m < 0) {
			log_warn("%s: %s", smtp_auth_param(
			    "sasl_mechanism_filter"), buf_str(&why));
			buf_reset(&why);
		}
		if (m <= 0)
			continue;
		if (out->len)
			buf_putc(out, ' ');
		buf_puts(out, v->v[i]);
	}
	argv_free(v);
	buf_free(&why);
}

/*
 * smtp_ehlo_auth - note the server's AUTH mechanisms from its EHLO reply
 * (filtered), or take SMTP_F_AUTH away when none is left.
 */
void
smtp_ehlo_auth(const struct smtp_reply *r, const char *discard,
    struct smtp_sess *ss)
{
	const char *p = r->text.p ? r->text.p : "", *end, *nl;
	struct buf line = BUF_INIT, old = BUF_INIT, list = BUF_INIT,
	    kept = BUF_INIT;
	size_t len;
	int have = 0, have_old = 0;

	free(ss->sasl_mechs);
	ss->sasl_mechs = NULL;
	if (!(ss->features & SMTP_F_AUTH) || !smtp_auth_on() ||
	    smtp_keyword_listed(discard, "AUTH"))
		return;
	end = p + r->text.len;
	/* The first line is the server's name, not an extension. */
	if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
		nl = end;
	for (p = nl; p < end; p = nl) {
		p++;
		if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
			nl = end;
		len = (size_t)(nl - p);
		if (len < 4 + 4 || strncasecmp(p + 4, "AUTH", 4) != 0)
			continue;
		if (len > 8 && p[8] == ' ' && !have) {
			smtp_auth_mechs(p + 9, len - 9, &line);
			have = 1;
		} else if (len > 8 && p[8] == '=' && !have_old) {
			smtp_auth_mechs(p + 9, len - 9, &old);
			have_old = 1;
		}
	}
	buf_set(&list, have ? line.p : old.p, have ? line.len : old.len);
	smtp_auth_filtered(buf_str(&list), &kept);
	if (kept.len == 0) {
		log_warn("%s offered no supported AUTH mechanisms: '%s'",
		    ss->namaddr, buf_str(&list));
		ss->features &= ~SMTP_F_AUTH;
	} else {
		ss->sasl_mechs = buf_steal(&kept);
	}
	buf_free(&line);
	buf_free(&old);
	buf_free(&list);
	buf_free(&kept);
}

/*
 * smtp_auth_lookup - credentials for a session, in Postfix's key order
 * (see above): the sender when sender_dep is set (NULL or "" skips it),
 * the server's host name (NULL skips it), the next hop.  Returns
 * DICT_FOUND with the value, DICT_NOTFOUND, or DICT_ERROR with a reason.
 */
int
smtp_auth_lookup(struct maps *m, int sender_dep, const char *sender,
    const char *host, const char *dest, struct buf *value, struct buf *why)
{
	struct addr_found f = ADDR_FOUND_INIT;
	int r = DICT_NOTFOUND;

	if (m == NULL)
		return DICT_NOTFOUND;
	if (sender_dep && sender && *sender) {
		r = addr_find(m, sender, ADDR_FIND_BARE_USER, value, &f, why);
		addr_found_free(&f);
		if (r != DICT_NOTFOUND)
			return r;
	}
	if (host && *host && (r = maps_find(m, host, value, why)) !=
	    DICT_NOTFOUND)
		return r;
	if (dest && *dest)
		r = maps_find(m, dest, value, why);
	return r;
}

/* smtp_auth_wipe - forget a buffer that held a password */
static void
smtp_auth_wipe(struct buf *b)
{
	if (b->p)
		explicit_bzero(b->p, b->cap);
	buf_free(b);
}

/*
 * smtp_auth_sender - with sender-dependent authentication, find the
 * sender's credentials once per request (kept in msg->sasl_cred) and
 * give the suffix that the connection cache key needs ("" or
 * "\nsasl=user").  Returns 0, or -1 when the table cannot answer.
 */
int
smtp_auth_sender(struct smtp_msg *msg, struct buf *suffix)
{
	struct buf value = BUF_INIT, why = BUF_INIT;
	const char *sender = msg->req->sender;
	size_t ulen;
	int r;

	buf_reset(suffix);
	if (!smtp_auth_on() || !smtp_cfg.sender_auth || *sender == 0)
		return 0;
	r = smtp_auth_lookup(smtp_auth_maps, 1, sender, NULL, NULL, &value,
	    &why);
	if (r == DICT_ERROR) {
		log_warn("%s: %s lookup error for %s: %s", msg->req->queue_id,
		    smtp_auth_param("sasl_password_maps"), sender,
		    buf_str(&why));
		smtp_auth_wipe(&value);
		buf_free(&why);
		return -1;
	}
	if (r == DICT_FOUND) {
		msg->sasl_cred = xstrdup(buf_str(&value));
		ulen = strcspn(msg->sasl_cred, ":");
		buf_printf(suffix, "\nsasl=%.*s", (int)ulen, msg->sasl_cred);
	}
	smtp_auth_wipe(&value);
	buf_free(&why);
	return 0;
}

/*
 * smtp_auth_challenge - the base64 text of a 334 reply: one line, "334"
 * alone or "334 " and text.  Returns 0 with the text, -1 if malformed.
 */
int
smtp_auth_challenge(const struct smtp_reply *r, const char **p, size_t *len)
{
	const char *t = r->text.p ? r->text.p : "";

	if (r->code != 334 || r->nlines != 1 || r->text.len < 3 ||
	    memcmp(t, "334", 3) != 0)
		return -1;
	if (r->text.len == 3) {
		*p = t + 3;
		*len = 0;
		return 0;
	}
	if (t[3] != ' ')
		return -1;
	*p = t + 4;
	*len = r->text.len - 4;
	return 0;
}

/* smtp_auth_send - one line of the exchange; 0 or -1 */
static int
smtp_auth_send(struct smtp_sess *ss, const char *a, const char *b)
{
	ss->s->timeout = (int)smtp_cfg.helo_timeout;
	stream_puts(ss->s, a);
	if (b)
		stream_puts(ss->s, b);
	stream_write(ss->s, "\r\n", 2);
	return stream_flush(ss->s);
}

/* smtp_auth_cannot - "cannot authenticate" (4.7.0) */
static void
smtp_auth_cannot(struct smtp_sess *ss, struct smtp_err *e, const char *why)
{
	smtp_err_set(e, DEL_STAT_DEFER, 0, "4.7.0", "SASL authentication "
	    "failed; cannot authenticate to server %s: %s", ss->namaddr, why);
}

/*
 * smtp_auth_cancel - abort an exchange under way with "*" (RFC 4954);
 * the server's answer is read and dropped.
 */
static void
smtp_auth_cancel(struct smtp_sess *ss, struct smtp_reply *r)
{
	struct buf why = BUF_INIT;

	if (smtp_auth_send(ss, "*", NULL) == 0)
		(void)smtp_reply_read(ss->s, r, &why);
	buf_free(&why);
}

/* smtp_auth_said - the server refused: "server X said: ..." */
static void
smtp_auth_said(struct smtp_sess *ss, const struct smtp_reply *r,
    struct smtp_err *e)
{
	struct buf text = BUF_INIT;
	char dsn[sizeof(r->dsn)];

	smtp_reply_show(r, &text);
	memcpy(dsn, r->dsn, sizeof(dsn));
	if (r->code / 100 == 5 && !smtp_cfg.sasl_soft_bounce) {
		smtp_err_set(e, DEL_STAT_BOUNCE, 1, dsn, "SASL authentication "
		    "failed; server %s said: %s", ss->namaddr,
		    buf_str(&text));
	} else {
		dsn[0] = '4';
		smtp_err_set(e, DEL_STAT_DEFER, 0, dsn, "SASL authentication "
		    "failed; server %s said: %s", ss->namaddr,
		    buf_str(&text));
	}
	buf_free(&text);
}

/*
 * smtp_exchange - the AUTH command and its challenges.  Returns 0 when
 * the server accepted, -1 with e set.
 */
static int
smtp_exchange(struct smtp_sess *ss, struct sasl_clnt *c, struct smtp_err *e,
    const char **mech)
{
	struct smtp_reply r;
	struct buf resp = BUF_INIT, why = BUF_INIT, cmd = BUF_INIT;
	const char *chal;
	size_t clen;
	int has_init, steps = 0, st, rc = -1;

	smtp_reply_init(&r);
	if (sasl_clnt_first(c, ss->sasl_mechs, mech, &has_init, &resp,
	    &why) != SASL_CLNT_OK) {
		smtp_auth_cannot(ss, e, buf_str(&why));
		goto out;
	}
	buf_printf(&cmd, "AUTH %s", *mech);
	if (has_init)
		buf_printf(&cmd, " %s", resp.len ? buf_str(&resp) : "=");
	if (cmd.len > SMTP_AUTH_LINE_MAX) {
		smtp_auth_cannot(ss, e, "initial response is too long");
		goto out;
	}
	if (smtp_auth_send(ss, buf_str(&cmd), NULL) < 0)
		goto lost;
	for (;;) {
		ss->s->timeout = (int)smtp_cfg.helo_timeout;
		if ((st = smtp_reply_read(ss->s, &r, &why)) ==
		    SMTP_REPLY_IOERR)
			goto lost;
		if (st == SMTP_REPLY_BAD) {
			smtp_err_set(e, DEL_STAT_DEFER, 0, "4.4.2", "host %s "
			    "sent a malformed reply (%s) in reply to AUTH",
			    ss->namaddr, buf_str(&why));
			e->hop = 1;
			goto out;
		}
		if (r.code / 100 == 2) {
			rc = 0;
			goto out;
		}
		if (r.code != 334) {
			smtp_auth_said(ss, &r, e);
			goto out;
		}
		if (++steps > SMTP_AUTH_STEPS_MAX) {
			smtp_auth_cancel(ss, &r);
			smtp_auth_cannot(ss, e, "too many SASL challenges");
			goto out;
		}
		buf_reset(&why);
		if (smtp_auth_challenge(&r, &chal, &clen) < 0) {
			smtp_auth_cancel(ss, &r);
			smtp_auth_cannot(ss, e, "malformed SASL challenge from "
			    "server");
			goto out;
		}
		if (sasl_clnt_next(c, chal, clen, &resp, &why) !=
		    SASL_CLNT_OK) {
			smtp_auth_cancel(ss, &r);
			smtp_auth_cannot(ss, e, buf_str(&why));
			goto out;
		}
		if (smtp_auth_send(ss, buf_str(&resp), NULL) < 0)
			goto lost;
	}
lost:
	smtp_sess_lost(ss, "performing the AUTH handshake", e);
out:
	smtp_reply_free(&r);
	smtp_auth_wipe(&resp);
	smtp_auth_wipe(&cmd);
	buf_free(&why);
	return rc;
}

/*
 * smtp_auth - log in after the EHLO handshake when the server offers
 * AUTH and credentials exist for it.  dest is the next hop as written
 * (the request's, or a fallback relay's).  Returns 0 (logged in, or no
 * AUTH needed), or -1 with the reason in e (the session should be
 * closed).
 */
int
smtp_auth(struct smtp_sess *ss, struct smtp_msg *msg, const char *dest,
    const struct smtp_addr *a, struct smtp_err *e)
{
	struct buf value = BUF_INIT, why = BUF_INIT;
	struct sasl_clnt *c = NULL;
	const char *mech = NULL;
	char *pass;
	int r, rc = -1;

	if (!smtp_auth_on() || !(ss->features & SMTP_F_AUTH) ||
	    ss->sasl_mechs == NULL || ss->sasl_user != NULL)
		return 0;
	if (msg->sasl_cred) {
		buf_sets(&value, msg->sasl_cred);
		r = DICT_FOUND;
	} else {
		r = smtp_auth_lookup(smtp_auth_maps, 0, NULL,
		    a->local ? NULL : a->host, dest, &value, &why);
	}
	if (r == DICT_NOTFOUND) {
		rc = 0;
		goto out;
	}
	if (r == DICT_ERROR) {
		log_warn("%s: %s lookup error: %s", msg->req->queue_id,
		    smtp_auth_param("sasl_password_maps"), buf_str(&why));
		smtp_err_set(e, DEL_STAT_DEFER, 0, "4.3.0", "SASL password "
		    "table lookup failure");
		goto out;
	}
	if ((pass = strchr(buf_str(&value), ':')) != NULL)
		*pass++ = 0;
	else
		pass = "";
	c = sasl_clnt_new("smtp", a->local ? "localhost" : a->host,
	    ss->tls_active ? smtp_auth_tls_flags : smtp_auth_flags,
	    buf_str(&value), pass, &why);
	if (c == NULL) {
		smtp_auth_cannot(ss, e, buf_str(&why));
		goto out;
	}
	if (smtp_exchange(ss, c, e, &mech) < 0)
		goto out;
	ss->sasl_user = xstrdup(buf_str(&value));
	log_info("%s: %s: sasl_method=%s, sasl_username=%s",
	    msg->req->queue_id, ss->relay, mech, ss->sasl_user);
	rc = 0;
out:
	if (rc < 0 && !e->relay[0])
		strlcpy_trunc(e->relay, ss->relay, sizeof(e->relay));
	sasl_clnt_free(c);
	smtp_auth_wipe(&value);
	buf_free(&why);
	return rc;
}
