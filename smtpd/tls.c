/*
 * NAME		tls - STARTTLS, wrapper mode and TLS levels in smtpd(8)
 * DESCRIPTION	smtpd_tls_init() runs before the chroot: it works out the
 *		security level (smtpd_tls_security_level, else the legacy
 *		smtpd_enforce_tls / smtpd_use_tls), builds the TLS context
 *		with the mandatory settings at "encrypt" and the
 *		opportunistic ones at "may", loads keys, certificates and CA
 *		files, creates or rotates the shared session ticket key file
 *		in $data_directory and opens tls_server_sni_maps.  A key or
 *		certificate that does not load is a warning: TLS is then
 *		"not available due to local problem" (STARTTLS is not
 *		offered and answers 454; at level encrypt MAIL is refused
 *		with 454 too), never a crash.
 *
 *		STARTTLS (RFC 3207): "220 2.0.0 Ready to start TLS", then the
 *		handshake within smtpd_starttls_timeout.  Plaintext the
 *		client sent after the STARTTLS line (already buffered) is
 *		thrown away and logged: it must never be read as a command
 *		of the TLS session.  After the handshake the session starts
 *		over: HELO/EHLO and any transaction are forgotten.  With
 *		smtpd_tls_wrappermode the handshake comes first, before the
 *		greeting (port 465).
 * SECURITY	Keys are read as root before the jail; the ticket key file
 *		is root's, mode 0600.  SNI names are checked in lib/tls.
 * PARAMETERS	smtpd_tls_* and tls_server_sni_maps; see smtpd/params.c
 *		and doc/tls.md.
 * DIAGNOSTICS	"Anonymous TLS connection established from name[addr]:
 *		TLSv1.3 with cipher ..." at smtpd_tls_loglevel >= 1;
 *		"SSL_accept error from name[addr]: reason"; warnings for
 *		unusable keys and settings.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <openssl/ssl.h>

#include "dict/dict.h"
#include "mail/mail_conf.h"
#include "server/server.h"
#include "tls/tls.h"
#include "util/log.h"
#include "util/mem.h"
#include "smtpd.h"
#include "smtpd_int.h"

int	smtpd_tls_level = TLS_LEV_NONE;
static struct tls_ctx *smtpd_tls_ctx;	/* NULL: no usable TLS */
static struct maps *smtpd_sni_maps;

#define SMTPD_TLS_TICKET_FILE	"smtpd_tls_ticket.key"

/*
 * smtpd_sni_lookup - tls_server_sni_maps: the name, then its parent
 * domains as ".example.com"; DICT_FOUND/NOTFOUND/ERROR
 */
static int
smtpd_sni_lookup(const char *name, struct buf *value, struct buf *why)
{
	const char *p;
	int r;

	if ((r = maps_find(smtpd_sni_maps, name, value, why)) != DICT_NOTFOUND)
		return r;
	for (p = strchr(name, '.'); p && p[1]; p = strchr(p + 1, '.')) {
		if ((r = maps_find(smtpd_sni_maps, p, value, why)) !=
		    DICT_NOTFOUND)
			return r;
	}
	return DICT_NOTFOUND;
}

/* smtpd_tls_tickets - the shared ticket key (before the jail) */
static void
smtpd_tls_tickets(void)
{
	struct buf why = BUF_INIT;
	char *path;

	if (smtpd_cfg.smtpd_tls_session_cache_timeout <= 0) {
		/* Resumption off: no tickets at all. */
		SSL_CTX_set_options(tls_ctx_ssl_ctx(smtpd_tls_ctx),
		    SSL_OP_NO_TICKET);
		SSL_CTX_set_num_tickets(tls_ctx_ssl_ctx(smtpd_tls_ctx), 0);
		return;
	}
	if (mkdir(mail_cfg.data_directory, 0700) < 0 && errno != EEXIST) {
		log_warn("mkdir %s: %m -- TLS sessions resume only with the "
		    "same smtpd process", mail_cfg.data_directory);
		return;
	}
	path = xasprintf("%s/%s", mail_cfg.data_directory,
	    SMTPD_TLS_TICKET_FILE);
	if (tls_ticket_keys_update(path,
	    smtpd_cfg.smtpd_tls_session_cache_timeout, &why) < 0 ||
	    tls_ticket_keys_load(path, &why) < 0 ||
	    tls_ctx_enable_tickets(smtpd_tls_ctx, &why) < 0)
		log_warn("TLS session tickets: %s -- TLS sessions resume only "
		    "with the same smtpd process", buf_str(&why));
	free(path);
	buf_free(&why);
}

/* smtpd_tls_init - level, context, keys, tickets, SNI (before the jail) */
void
smtpd_tls_init(void)
{
	struct tls_ctx_opts o;
	struct buf why = BUF_INIT;
	const char *lev = smtpd_cfg.smtpd_tls_security_level;
	int mandatory;

	if (*lev) {
		smtpd_tls_level = tls_level_parse(lev);
		if (smtpd_tls_level != TLS_LEV_NONE &&
		    smtpd_tls_level != TLS_LEV_MAY &&
		    smtpd_tls_level != TLS_LEV_ENCRYPT)
			log_fatal("smtpd_tls_security_level: bad or unsupported "
			    "level \"%s\" (use none, may or encrypt)", lev);
	} else if (smtpd_cfg.smtpd_enforce_tls) {
		smtpd_tls_level = TLS_LEV_ENCRYPT;
	} else if (smtpd_cfg.smtpd_use_tls) {
		smtpd_tls_level = TLS_LEV_MAY;
	}
	/* sendmail -bs talks on a pipe: no TLS there. */
	if (srv.standalone) {
		smtpd_tls_level = TLS_LEV_NONE;
		return;
	}
	if (smtpd_tls_level == TLS_LEV_NONE && !smtpd_cfg.smtpd_tls_wrappermode)
		return;
	mandatory = smtpd_tls_level == TLS_LEV_ENCRYPT;
	tls_ctx_opts_init(&o, 1);
	o.loglevel = smtpd_cfg.smtpd_tls_loglevel;
	o.protocols = mandatory ? smtpd_cfg.smtpd_tls_mandatory_protocols :
	    smtpd_cfg.smtpd_tls_protocols;
	o.grade = mandatory ? smtpd_cfg.smtpd_tls_mandatory_ciphers :
	    smtpd_cfg.smtpd_tls_ciphers;
	o.exclude = mandatory ? smtpd_cfg.smtpd_tls_mandatory_exclude_ciphers :
	    smtpd_cfg.smtpd_tls_exclude_ciphers;
	o.cert_file = smtpd_cfg.smtpd_tls_cert_file;
	o.key_file = smtpd_cfg.smtpd_tls_key_file;
	o.eccert_file = smtpd_cfg.smtpd_tls_eccert_file;
	o.eckey_file = smtpd_cfg.smtpd_tls_eckey_file;
	o.chain_files = smtpd_cfg.smtpd_tls_chain_files;
	o.CAfile = smtpd_cfg.smtpd_tls_CAfile;
	o.CApath = smtpd_cfg.smtpd_tls_CApath;
	o.dh_file = smtpd_cfg.smtpd_tls_dh1024_param_file;
	o.ask_ccert = smtpd_cfg.smtpd_tls_ask_ccert ||
	    (smtpd_cfg.smtpd_tls_req_ccert && mandatory);
	o.session_timeout = smtpd_cfg.smtpd_tls_session_cache_timeout;
	o.fpt_digest = smtpd_cfg.smtpd_tls_fingerprint_digest;
	if ((smtpd_tls_ctx = tls_ctx_new(&o, &why)) == NULL) {
		log_warn("TLS not available: %s", buf_str(&why));
		tls_log_errors("smtpd TLS init");
		buf_free(&why);
		return;
	}
	if (!tls_ctx_has_cert(smtpd_tls_ctx)) {
		log_warn("TLS not available: no server certificate (set "
		    "smtpd_tls_cert_file, smtpd_tls_eccert_file or "
		    "smtpd_tls_chain_files)");
		tls_ctx_free(smtpd_tls_ctx);
		smtpd_tls_ctx = NULL;
		buf_free(&why);
		return;
	}
	smtpd_tls_tickets();
	if (*smtpd_cfg.tls_server_sni_maps) {
		smtpd_sni_maps = maps_open("tls_server_sni_maps",
		    smtpd_cfg.tls_server_sni_maps, DICT_FLAG_FOLD_FIX);
		tls_ctx_set_sni(smtpd_tls_ctx, smtpd_sni_lookup);
	}
	buf_free(&why);
}

/* smtpd_tls_free - at exit: free the context (valgrind) */
void
smtpd_tls_free(void)
{
	tls_ctx_free(smtpd_tls_ctx);
	smtpd_tls_ctx = NULL;
	if (smtpd_sni_maps)
		maps_free(smtpd_sni_maps);
	smtpd_sni_maps = NULL;
}

/* smtpd_tls_offer - announce STARTTLS in the EHLO reply? */
int
smtpd_tls_offer(const struct smtpd_state *st)
{
	return !st->standalone && !st->tls_active &&
	    smtpd_tls_level >= TLS_LEV_MAY && smtpd_tls_ctx != NULL;
}

/*
 * smtpd_tls_handshake - TLS on the client stream; 0, or -1 (logged) when
 * the session cannot go on
 */
static int
smtpd_tls_handshake(struct smtpd_state *st)
{
	struct tls_conn_opts co;
	struct buf why = BUF_INIT, sum = BUF_INIT;
	struct tls_sess *ts;

	memset(&co, 0, sizeof(co));
	co.peer = st->namaddr;
	st->s->timeout = (int)smtpd_cfg.smtpd_starttls_timeout;
	ts = tls_stream_start(smtpd_tls_ctx, st->s, &co, &why);
	st->s->timeout = (int)smtpd_cfg.smtpd_timeout;
	if (ts == NULL) {
		log_info("SSL_accept error from %s: %s", st->namaddr,
		    buf_str(&why));
		buf_free(&why);
		return -1;
	}
	st->tls = ts;
	st->tls_active = 1;
	if (smtpd_cfg.smtpd_tls_loglevel >= 1) {
		tls_sess_summary(ts, &sum);
		log_info("%s TLS connection established from %s: %s%s",
		    tls_trust_name(ts->trust), st->namaddr, buf_str(&sum),
		    ts->reused ? " (session reused)" : "");
		if (ts->peer_cert && smtpd_cfg.smtpd_tls_loglevel >= 2) {
			buf_reset(&sum);
			tls_sess_peer(ts, &sum);
			log_info("%s: %s", st->namaddr, buf_str(&sum));
		}
	}
	buf_free(&sum);
	buf_free(&why);
	if (smtpd_cfg.smtpd_tls_req_ccert && smtpd_tls_level ==
	    TLS_LEV_ENCRYPT && ts->trust < TLS_TRUST_TRUSTED) {
		log_info("%s: reject: client certificate %s from %s",
		    "NOQUEUE", ts->peer_cert ? "not trusted" : "missing",
		    st->namaddr);
		smtpd_reply(st, "421 4.7.1 %s Error: a trusted client "
		    "certificate is required", mail_cfg.myhostname);
		return -1;
	}
	return 0;
}

/*
 * smtpd_tls_starttls - the STARTTLS command.  Returns 0 to go on, -1 to
 * end the session.
 */
int
smtpd_tls_starttls(struct smtpd_state *st, const char *arg)
{
	size_t junk;

	st->n_starttls++;
	st->last_cmd = "STARTTLS";
	while (*arg == ' ')
		arg++;
	if (*arg) {
		smtpd_reply(st, "501 5.5.4 Syntax: STARTTLS");
		return smtpd_error(st);
	}
	if (st->tls_active) {
		smtpd_reply(st, "554 5.5.1 Error: TLS already active");
		return smtpd_error(st);
	}
	/* Not offered here (level none, sendmail -bs): Postfix's reply. */
	if (st->standalone || smtpd_tls_level < TLS_LEV_MAY) {
		smtpd_reply(st, "502 5.5.1 Error: command not implemented");
		return smtpd_error(st);
	}
	if (smtpd_tls_ctx == NULL) {
		smtpd_reply(st, "454 4.7.0 TLS not available due to local "
		    "problem");
		return smtpd_error(st);
	}
	smtpd_reply(st, "220 2.0.0 Ready to start TLS");
	smtpd_flush(st);
	if (stream_error(st->s))
		return -1;
	/*
	 * Whatever the client sent after STARTTLS without waiting for our
	 * 220 was sent in the clear: it must not become a command inside
	 * TLS (CVE-2011-0411 and its kin).
	 */
	if ((junk = stream_avail(st->s)) > 0) {
		log_info("%s: discarding %zu bytes of plaintext pipelined "
		    "after STARTTLS", st->namaddr, junk);
		st->s->in_off = st->s->in.len;
	}
	if (smtpd_tls_handshake(st) < 0)
		return -1;
	st->ok_starttls++;
	/* RFC 3207 4.2: forget what the client said before. */
	smtpd_reset(st);
	free(st->helo_name);
	st->helo_name = NULL;
	st->esmtp = 0;
	st->pipelining = 0;
	smtpd_sasl_reset(st);
	return 0;
}

/*
 * smtpd_tls_wrapper - smtpd_tls_wrappermode: TLS before the greeting.
 * Returns 0, or -1 (logged) to close the connection.
 */
int
smtpd_tls_wrapper(struct smtpd_state *st)
{
	if (smtpd_tls_ctx == NULL) {
		log_warn("%s: TLS wrapper mode: TLS not available due to "
		    "local problem", st->namaddr);
		return -1;
	}
	return smtpd_tls_handshake(st);
}

/*
 * smtpd_tls_required - at level encrypt, refuse a command that may not
 * come before STARTTLS (command.c says which).  Returns 1 after queuing
 * the refusal, else 0.
 */
int
smtpd_tls_required(struct smtpd_state *st)
{
	const char *r;

	if (smtpd_tls_level < TLS_LEV_ENCRYPT || st->tls_active ||
	    st->standalone)
		return 0;
	r = smtpd_tls_ctx != NULL ? "530 5.7.0 Must issue a STARTTLS command "
	    "first" : "454 4.7.0 TLS not available due to local problem";
	log_info("NOQUEUE: reject: %s from %s: %s; proto=%s helo=<%s>",
	    st->last_cmd, st->namaddr, r, smtpd_protocol(st), st->helo_name ?
	    st->helo_name : "");
	smtpd_reply(st, "%s", r);
	return 1;
}

/*
 * smtpd_tls_received - the TLS comment of the Received: header
 * (smtpd_tls_received_header), appended to h with a leading newline
 */
void
smtpd_tls_received(const struct smtpd_state *st, struct buf *h)
{
	if (!st->tls_active || !smtpd_cfg.smtpd_tls_received_header)
		return;
	buf_puts(h, "\n\t");
	tls_sess_received(st->tls, smtpd_cfg.smtpd_tls_ask_ccert ||
	    (smtpd_cfg.smtpd_tls_req_ccert &&
	    smtpd_tls_level == TLS_LEV_ENCRYPT), h);
}

/* smtpd_tls_end - close_notify and free the session */
void
smtpd_tls_end(struct smtpd_state *st)
{
	if (st->tls == NULL)
		return;
	tls_stream_stop(st->s, 1);
	st->tls = NULL;
	st->tls_active = 0;
}
