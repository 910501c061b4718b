/*
 * NAME		tls - TLS in the SMTP/LMTP client: policy, STARTTLS, wrapper
 * DESCRIPTION	smtp_tls_init() (before the chroot) builds the client TLS
 *		context (CA file, the optional client certificate) and opens
 *		smtp_tls_policy_maps.  The CA directory (smtp_tls_CApath) is
 *		read lazily by OpenSSL, so it must exist inside the chroot.
 *
 *		smtp_tls_policy() decides the policy of one destination: the
 *		table entry for the next hop exactly as qmgr names it
 *		("example.com", "[mx.example.com]:587"), else the main.cf
 *		level (smtp_tls_security_level; lmtp_* as LMTP).  Levels:
 *
 *		none	 no TLS (with smtp_tls_note_starttls_offer, log that
 *			 a server offered it);
 *		may	 STARTTLS when offered; a refused STARTTLS goes on in
 *			 plaintext, and a failed handshake closes the
 *			 connection and tries the same address again at once
 *			 without TLS (as Postfix does);
 *		encrypt	 TLS required with the mandatory protocols and
 *			 ciphers; no STARTTLS offered: 4.7.4 deferral;
 *		verify	 encrypt, and the certificate chain must verify against
 *			 the CA file/directory and a name in
 *			 smtp_tls_verify_cert_match (default: the MX host
 *			 name) must match;
 *		secure	 as verify, with smtp_tls_secure_cert_match (default:
 *			 the next-hop domain and its subdomains): MX names
 *			 from DNS are not trusted.
 *
 *		fingerprint
 *			 encrypt, and the server certificate's fingerprint or
 *			 its public key fingerprint (smtp_tls_fingerprint_digest)
 *			 must be one of smtp_tls_fingerprint_cert_match (or
 *			 the policy's match=A|B); chain and names are not
 *			 checked: the pinned fingerprint is the trust.
 *
 *		dane and dane-only are not implemented: they defer the mail
 *		(4.7.5) rather than pretend.
 *
 *		Policy attributes in the table: match=name:name (a name,
 *		"hostname", "nexthop", "dot-nexthop" or ".domain"; at level
 *		fingerprint, fingerprints separated by "|"), protocols=,
 *		ciphers=, exclude=, servername=.
 *		smtp_tls_servername (and servername=) chooses the SNI name:
 *		empty (none), "hostname" (the MX host), "nexthop" or a
 *		literal name.
 *
 *		The handshake summary is logged at smtp_tls_loglevel >= 1,
 *		prefixed with the queue ID: "QUEUEID: Verified TLS connection
 *		established to host[addr]:25: TLSv1.3 with cipher ...".
 * SECURITY	After the server's 220 to STARTTLS, anything it sent in the
 *		same packet is thrown away before the handshake.  Policy
 *		values from tables are parsed with bounds (lib/tls).
 * SEE ALSO	doc/tls.md, doc/smtp.md
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/x509.h>

#include "dict/dict.h"
#include "mail/mail_conf.h"
#include "tls/tls.h"
#include "util/log.h"
#include "util/mem.h"
#include "util/strutil.h"
#include "smtp.h"

static struct tls_ctx *smtp_tls_ctx;
static struct maps *smtp_tls_maps;
static int smtp_tls_default_level;
static char smtp_tls_init_error[512];	/* why TLS is unusable, or "" */

#define SMTP_TLS_PARAM(n)	(smtp_cfg.lmtp ? "lmtp_" n : "smtp_" n)

/* smtp_tls_init - context and policy table (before the jail) */
void
smtp_tls_init(void)
{
	struct tls_ctx_opts o;
	struct buf why = BUF_INIT;
	const char *lev = smtp_cfg.tls_security_level;

	smtp_tls_default_level = *lev ? tls_level_parse(lev) : TLS_LEV_NONE;
	if (smtp_tls_default_level == -1) {
		log_warn("%s: unknown level \"%s\"",
		    SMTP_TLS_PARAM("tls_security_level"), lev);
		snprintf(smtp_tls_init_error, sizeof(smtp_tls_init_error),
		    "bad %s", SMTP_TLS_PARAM("tls_security_level"));
	}
	if (*smtp_cfg.tls_policy_maps)
		smtp_tls_maps = maps_open(SMTP_TLS_PARAM("tls_policy_maps"),
		    smtp_cfg.tls_policy_maps, DICT_FLAG_FOLD_FIX);
	/* No TLS anywhere: no context either. */
	if (smtp_tls_default_level == TLS_LEV_NONE && smtp_tls_maps == NULL &&
	    !smtp_cfg.tls_wrappermode)
		return;
	tls_ctx_opts_init(&o, 0);
	o.loglevel = smtp_cfg.tls_loglevel;
	/* Per connection, the level's own settings replace these. */
	o.protocols = smtp_cfg.tls_protocols;
	o.grade = smtp_cfg.tls_ciphers;
	o.exclude = smtp_cfg.tls_exclude_ciphers;
	o.cert_file = smtp_cfg.tls_cert_file;
	o.key_file = smtp_cfg.tls_key_file;
	o.CAfile = smtp_cfg.tls_CAfile;
	o.CApath = smtp_cfg.tls_CApath;
	o.fpt_digest = smtp_cfg.tls_fingerprint_digest;
	if ((smtp_tls_ctx = tls_ctx_new(&o, &why)) == NULL) {
		log_warn("TLS not available: %s", buf_str(&why));
		snprintf(smtp_tls_init_error, sizeof(smtp_tls_init_error),
		    "TLS not available: %s", buf_str(&why));
	}
	buf_free(&why);
}

/* smtp_tls_free - at exit (valgrind) */
void
smtp_tls_free(void)
{
	tls_ctx_free(smtp_tls_ctx);
	smtp_tls_ctx = NULL;
	if (smtp_tls_maps)
		maps_free(smtp_tls_maps);
	smtp_tls_maps = NULL;
}

/* smtp_tls_policy_free - release a policy */
void
smtp_tls_policy_free(struct smtp_tls_pol *pol)
{
	free(pol->servername);
	free(pol->protocols);
	free(pol->grade);
	free(pol->exclude);
	free(pol->match);
	free(pol->key);
	memset(pol, 0, sizeof(*pol));
}

/*
 * smtp_tls_match_sep - what separates a policy's match list: "|" between
 * fingerprints (which hold colons), ":" between names
 */
static const char *
smtp_tls_match_sep(int level)
{
	return level == TLS_LEV_FPRINT ? "|" : ":";
}

/*
 * smtp_tls_match_join - a main.cf list ("a, b", or "a:b" for names) as
 * one string joined by the level's separator; NULL when empty
 */
static char *
smtp_tls_match_join(const char *list, int level)
{
	const char *sep = smtp_tls_match_sep(level);
	struct argv *v = argv_split(list, level == TLS_LEV_FPRINT ?
	    SEPARATORS "|" : SEPARATORS ":");
	struct buf b = BUF_INIT;
	size_t i;

	for (i = 0; i < v->n && i < TLS_LIST_MAX; i++) {
		if (i)
			buf_puts(&b, sep);
		buf_puts(&b, v->v[i]);
	}
	argv_free(v);
	if (b.len == 0) {
		buf_free(&b);
		return NULL;
	}
	return buf_steal(&b);
}

/*
 * smtp_tls_policy - the TLS policy for destination dest (qmgr's next hop,
 * or a fallback relay) whose host part is host.  0, or -1 with e (the
 * mail is deferred).
 */
int
smtp_tls_policy(const char *dest, const char *host, struct smtp_tls_pol *pol,
    struct smtp_err *e)
{
	struct tls_policy tp;
	struct buf value = BUF_INIT, why = BUF_INIT, key = BUF_INIT;
	char *lkey = xstrdup(dest);
	int r = DICT_NOTFOUND, mandatory, rc = -1;

	memset(pol, 0, sizeof(*pol));
	tls_policy_init(&tp);
	pol->nexthop = host;
	if (smtp_tls_init_error[0] && smtp_tls_default_level == -1) {
		smtp_err_set(e, DEL_STAT_DEFER, 0, "4.7.5", "TLS policy: %s",
		    smtp_tls_init_error);
		goto out;
	}
	tp.level = smtp_tls_default_level;
	if (smtp_tls_maps) {
		str_lower(lkey);
		r = maps_find(smtp_tls_maps, lkey, &value, &why);
		if (r == DICT_ERROR) {
			log_warn("%s: %s lookup error for %s: %s", "TLS policy",
			    SMTP_TLS_PARAM("tls_policy_maps"), lkey,
			    buf_str(&why));
			smtp_err_set(e, DEL_STAT_DEFER, 0, "4.3.0", "TLS policy "
			    "lookup error for %s", dest);
			goto out;
		}
		if (r == DICT_FOUND && tls_policy_parse(value.p, &tp,
		    &why) < 0) {
			log_warn("%s: invalid TLS policy for %s: \"%.200s\": %s",
			    SMTP_TLS_PARAM("tls_policy_maps"), lkey, value.p,
			    buf_str(&why));
			smtp_err_set(e, DEL_STAT_DEFER, 0, "4.7.5", "invalid "
			    "TLS policy for %s", dest);
			goto out;
		}
	}
	if (tp.level == TLS_LEV_UNSUPPORTED) {
		smtp_err_set(e, DEL_STAT_DEFER, 0, "4.7.5", "TLS policy for %s: "
		    "security level not supported by this client (dane and "
		    "dane-only are not implemented)", dest);
		goto out;
	}
	if (smtp_cfg.tls_wrappermode && tp.level < TLS_LEV_ENCRYPT)
		tp.level = TLS_LEV_ENCRYPT;
	pol->level = tp.level;
	mandatory = tp.level >= TLS_LEV_ENCRYPT;
	pol->protocols = xstrdup(tp.protocols ? tp.protocols : mandatory ?
	    smtp_cfg.tls_mandatory_protocols : smtp_cfg.tls_protocols);
	pol->grade = xstrdup(tp.ciphers ? tp.ciphers : mandatory ?
	    smtp_cfg.tls_mandatory_ciphers : smtp_cfg.tls_ciphers);
	pol->exclude = xstrdup(tp.exclude ? tp.exclude : mandatory ?
	    smtp_cfg.tls_mandatory_exclude_ciphers :
	    smtp_cfg.tls_exclude_ciphers);
	if (tp.servername)
		pol->servername = xstrdup(tp.servername);
	else if (*smtp_cfg.tls_servername)
		pol->servername = xstrdup(smtp_cfg.tls_servername);
	if (tp.match.n > 0) {
		size_t i;

		for (i = 0; i < tp.match.n; i++) {
			if (i)
				buf_puts(&key, smtp_tls_match_sep(tp.level));
			buf_puts(&key, tp.match.v[i]);
		}
		pol->match = xstrdup(buf_str(&key));
		buf_reset(&key);
	} else if (tp.level == TLS_LEV_VERIFY) {
		pol->match = smtp_tls_match_join(smtp_cfg.tls_verify_cert_match,
		    tp.level);
	} else if (tp.level == TLS_LEV_SECURE) {
		pol->match = smtp_tls_match_join(smtp_cfg.tls_secure_cert_match,
		    tp.level);
	} else if (tp.level == TLS_LEV_FPRINT) {
		pol->match = smtp_tls_match_join(
		    smtp_cfg.tls_fingerprint_cert_match, tp.level);
	}
	if (tp.level == TLS_LEV_FPRINT && pol->match == NULL) {
		log_warn("%s: TLS policy fingerprint without fingerprints: "
		    "set %s or match=", dest,
		    SMTP_TLS_PARAM("tls_fingerprint_cert_match"));
		smtp_err_set(e, DEL_STAT_DEFER, 0, "4.7.5", "TLS policy for %s: "
		    "level fingerprint with no fingerprint to match", dest);
		goto out;
	}
	if (pol->level > TLS_LEV_NONE && smtp_tls_ctx == NULL) {
		smtp_err_set(e, DEL_STAT_DEFER, 0, "4.7.5", "TLS is required, "
		    "but our TLS engine is unavailable");
		log_warn("%s: TLS policy for %s needs TLS: %s", dest,
		    tls_level_name(pol->level), smtp_tls_init_error);
		goto out;
	}
	buf_printf(&key, "%s|%s|%s|%s|%s|%s", tls_level_name(pol->level),
	    pol->protocols, pol->grade, pol->exclude, pol->servername ?
	    pol->servername : "", pol->match ? pol->match : "");
	pol->key = xstrdup(buf_str(&key));
	rc = 0;
out:
	if (rc < 0)
		smtp_tls_policy_free(pol);
	tls_policy_free(&tp);
	buf_free(&value);
	buf_free(&why);
	buf_free(&key);
	free(lkey);
	return rc;
}

/* smtp_tls_is_addr - an IP address (no SNI for those) */
static int
smtp_tls_is_addr(const char *s)
{
	unsigned char b[16];

	return inet_pton(AF_INET, s, b) == 1 || inet_pton(AF_INET6, s, b) == 1;
}

/*
 * smtp_tls_names - expand the match list for this host (names: levels
 * verify and secure)
 */
static void
smtp_tls_names(const struct smtp_tls_pol *pol, const struct smtp_addr *a,
    struct argv *out)
{
	struct argv *v;
	size_t i;

	if (pol->match == NULL || pol->level == TLS_LEV_FPRINT)
		return;
	v = argv_split(pol->match, ":");
	for (i = 0; i < v->n; i++) {
		if (strcasecmp(v->v[i], "hostname") == 0)
			argv_add(out, a->host);
		else if (strcasecmp(v->v[i], "nexthop") == 0)
			argv_add(out, pol->nexthop);
		else if (strcasecmp(v->v[i], "dot-nexthop") == 0)
			argv_addf(out, ".%s", pol->nexthop);
		else
			argv_add(out, v->v[i]);
	}
	argv_free(v);
}

/*
 * smtp_tls_fpt_match - level fingerprint: is the certificate's or its
 * public key's fingerprint in the match list?  (Case does not matter.)
 */
static int
smtp_tls_fpt_match(const struct smtp_tls_pol *pol, const struct tls_sess *ts)
{
	struct argv *v;
	size_t i;
	int found = 0;

	if (pol->match == NULL || !ts->peer_cert)
		return 0;
	v = argv_split(pol->match, "|");
	for (i = 0; i < v->n && !found; i++)
		found = (ts->peer_fpt[0] && strcasecmp(v->v[i],
		    ts->peer_fpt) == 0) || (ts->peer_pkey_fpt[0] &&
		    strcasecmp(v->v[i], ts->peer_pkey_fpt) == 0);
	argv_free(v);
	return found;
}

/*
 * smtp_tls_handshake - TLS on the session's stream, then the level's
 * checks.  0, or -1 with e.
 */
static int
smtp_tls_handshake(struct smtp_sess *ss, const struct smtp_addr *a,
    const struct smtp_conn *ci, struct smtp_err *e)
{
	const struct smtp_tls_pol *pol = ci->pol;
	struct tls_conn_opts co;
	struct argv names;
	struct buf why = BUF_INIT, sum = BUF_INIT;
	const char *qid = ci->queue_id && *ci->queue_id ? ci->queue_id : NULL;
	const char *sni = NULL;
	struct tls_sess *ts;
	int rc = -1;

	argv_init(&names);
	smtp_tls_names(pol, a, &names);
	if (pol->servername) {
		if (strcasecmp(pol->servername, "hostname") == 0)
			sni = a->host;
		else if (strcasecmp(pol->servername, "nexthop") == 0)
			sni = pol->nexthop;
		else
			sni = pol->servername;
		if (smtp_tls_is_addr(sni))
			sni = NULL;
	}
	memset(&co, 0, sizeof(co));
	co.servername = sni;
	co.protocols = pol->protocols;
	co.grade = pol->grade;
	co.exclude = pol->exclude;
	co.no_anon = pol->level >= TLS_LEV_FPRINT;
	co.match = &names;
	co.peer = ss->relay;
	ss->s->timeout = (int)smtp_cfg.starttls_timeout;
	ts = tls_stream_start(smtp_tls_ctx, ss->s, &co, &why);
	if (ts == NULL) {
		if (smtp_cfg.tls_loglevel >= 1 || pol->level >= TLS_LEV_ENCRYPT)
			log_info("%s%sSSL_connect error to %s: %s", qid ? qid :
			    "", qid ? ": " : "", ss->relay, buf_str(&why));
		smtp_err_set(e, DEL_STAT_DEFER, 0, "4.7.5", "Cannot start TLS: "
		    "handshake failure with %s: %s", ss->namaddr,
		    buf_str(&why));
		/* The connection is in no state for SMTP: just close it. */
		ss->s->flags |= STREAM_ERR;
		e->tls_retry_plain = pol->level == TLS_LEV_MAY;
		goto out;
	}
	ss->tls = ts;
	ss->tls_active = 1;
	if (pol->level == TLS_LEV_FPRINT && smtp_tls_fpt_match(pol, ts))
		ts->trust = TLS_TRUST_VERIFIED;
	if (smtp_cfg.tls_loglevel >= 1) {
		tls_sess_summary(ts, &sum);
		log_info("%s%s%s TLS connection established to %s: %s%s",
		    qid ? qid : "", qid ? ": " : "", tls_trust_name(ts->trust),
		    ss->relay, buf_str(&sum), ts->reused ?
		    " (session reused)" : "");
		if (ts->peer_cert && smtp_cfg.tls_loglevel >= 2) {
			buf_reset(&sum);
			tls_sess_peer(ts, &sum);
			log_info("%s: %s", ss->relay, buf_str(&sum));
		}
	}
	if (pol->level >= TLS_LEV_FPRINT && ts->trust != TLS_TRUST_VERIFIED) {
		const char *reason;

		if (!ts->peer_cert) {
			reason = "no certificate";
		} else if (pol->level == TLS_LEV_FPRINT) {
			reason = "fingerprint mismatch";
		} else if (!ts->chain_ok) {
			reason = X509_verify_cert_error_string(ts->verify_err);
		} else {
			reason = "certificate name does not match";
		}
		log_info("%s%sserver certificate verification failed for %s: "
		    "subject_CN=%s, issuer_CN=%s: %s", qid ? qid : "",
		    qid ? ": " : "", ss->relay, ts->peer_cn[0] ? ts->peer_cn :
		    "(none)", ts->issuer_cn[0] ? ts->issuer_cn : "(none)",
		    reason);
		smtp_err_set(e, DEL_STAT_DEFER, 0, "4.7.5", "Server "
		    "certificate not %s", ts->chain_ok ||
		    pol->level == TLS_LEV_FPRINT ? "verified" : "trusted");
		goto out;
	}
	rc = 0;
out:
	ss->s->timeout = (int)smtp_cfg.helo_timeout;
	argv_clear(&names);
	buf_free(&why);
	buf_free(&sum);
	return rc;
}

/*
 * smtp_tls_wrapper - smtp_tls_wrappermode: TLS right after connecting.
 * 0 (also when not in wrapper mode), or -1 with e.
 */
int
smtp_tls_wrapper(struct smtp_sess *ss, const struct smtp_addr *a,
    const struct smtp_conn *ci, struct smtp_err *e)
{
	if (!smtp_cfg.tls_wrappermode || ci->pol->level == TLS_LEV_NONE)
		return 0;
	return smtp_tls_handshake(ss, a, ci, e);
}

/*
 * smtp_tls_starttls - after EHLO: STARTTLS as the level wants, then EHLO
 * again.  0 (TLS, or plaintext where allowed), or -1 with e.
 */
int
smtp_tls_starttls(struct smtp_sess *ss, const struct smtp_addr *a,
    const struct smtp_conn *ci, struct smtp_err *e)
{
	const struct smtp_tls_pol *pol = ci->pol;
	struct smtp_reply r;
	struct buf why = BUF_INIT, text = BUF_INIT;
	int st, rc = -1;

	if (ss->tls_active)
		return 0;
	if (pol->level == TLS_LEV_NONE) {
		if (smtp_cfg.tls_note_starttls_offer &&
		    (ss->features & SMTP_F_STARTTLS))
			log_info("%s%sHost offered STARTTLS: [%s]",
			    ci->queue_id ? ci->queue_id : "",
			    ci->queue_id ? ": " : "", a->host);
		return 0;
	}
	if (!(ss->features & SMTP_F_STARTTLS)) {
		if (pol->level == TLS_LEV_MAY)
			return 0;
		smtp_err_set(e, DEL_STAT_DEFER, 0, "4.7.4", "TLS is required, "
		    "but was not offered by host %s", ss->namaddr);
		return -1;
	}
	smtp_reply_init(&r);
	if (smtp_command(ss, smtp_cfg.helo_timeout, "STARTTLS") < 0 ||
	    (st = smtp_reply_read(ss->s, &r, &why)) == SMTP_REPLY_IOERR) {
		smtp_sess_lost(ss, "sending STARTTLS", e);
		goto out;
	}
	if (st == SMTP_REPLY_BAD) {
		smtp_err_set(e, DEL_STAT_DEFER, 0, "4.4.2", "host %s sent a "
		    "malformed reply (%s) in reply to STARTTLS", ss->namaddr,
		    buf_str(&why));
		goto out;
	}
	if (r.code != 220) {
		smtp_reply_show(&r, &text);
		if (pol->level == TLS_LEV_MAY) {
			/* Opportunistic: go on without TLS. */
			rc = 0;
			goto out;
		}
		smtp_err_set(e, DEL_STAT_DEFER, 0, "4.7.4", "TLS is required, "
		    "but host %s refused to start TLS: %s", ss->namaddr,
		    buf_str(&text));
		goto out;
	}
	/* Bytes that came with the 220 were not protected: drop them. */
	if (stream_avail(ss->s) > 0) {
		log_info("%s: discarding %zu bytes sent by %s after its reply "
		    "to STARTTLS", ci->queue_id ? ci->queue_id : "NOQUEUE",
		    stream_avail(ss->s), ss->relay);
		ss->s->in_off = ss->s->in.len;
	}
	if (smtp_tls_handshake(ss, a, ci, e) < 0)
		goto out;
	rc = smtp_ehlo(ss, e);
out:
	smtp_reply_free(&r);
	buf_free(&why);
	buf_free(&text);
	return rc;
}
