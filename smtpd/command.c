/*
 * NAME		command - SMTP command handlers
 * DESCRIPTION	HELO, EHLO, MAIL, RCPT, RSET, NOOP, QUIT, VRFY, HELP here;
 *		DATA and BDAT in data.c.  Paths are parsed leniently as
 *		Postfix does ("MAIL FROM: <a@b>", and, unless
 *		strict_rfc821_envelopes, an address without angle brackets),
 *		but strictly bounded: no control characters, no NUL, no
 *		8-bit address without SMTPUTF8.  Replies carry RFC 3463
 *		enhanced status codes.
 * SECURITY	Addresses are at most SMTPD_ADDR_MAX bytes, parameters are
 *		bounded and decoded (xtext) with checks.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dns/dns.h"
#include "mail/addr.h"
#include "mail/mail_conf.h"
#include "mail/qfile.h"
#include "util/log.h"
#include "util/mem.h"
#include "util/strutil.h"
#include "smtpd.h"
#include "smtpd_int.h"

/* smtpd_reverse_name - the PTR query name of an address */
static int
smtpd_reverse_name(const char *addr, char *out, size_t len)
{
	unsigned char b[16];
	size_t n = 0;
	int i;

	if (inet_pton(AF_INET, addr, b) == 1)
		return snprintf(out, len, "%u.%u.%u.%u.in-addr.arpa", b[3],
		    b[2], b[1], b[0]) < (int)len ? 0 : -1;
	if (inet_pton(AF_INET6, addr, b) != 1 || len < 74)
		return -1;
	for (i = 15; i >= 0; i--)
		n += (size_t)snprintf(out + n, len - n, "%x.%x.", b[i] & 0xf,
		    b[i] >> 4);
	snprintf(out + n, len - n, "ip6.arpa");
	return 0;
}

/*
 * smtpd_peer_dns - the client's name through DNS: the PTR name is the
 * "reverse name"; it becomes the client name only if that name's
 * addresses include the client (forward confirmation), as Postfix does.
 */
void
smtpd_peer_dns(struct smtpd_state *st)
{
	struct dns_rr *ptr = NULL, *addrs = NULL, *rr;
	struct buf why = BUF_INIT;
	char qname[128], text[64];
	int r;

	if (dns_init(&why) < 0 || smtpd_reverse_name(st->client_addr, qname,
	    sizeof(qname)) < 0) {
		st->name_status = st->reverse_name_status = SMTPD_PEER_TEMP;
		goto out;
	}
	r = dns_lookup(qname, DNS_T_PTR, &ptr, &why);
	if (r != DNS_OK || ptr == NULL || !str_domain_valid(ptr->name)) {
		st->name_status = st->reverse_name_status = r == DNS_RETRY ?
		    SMTPD_PEER_TEMP : SMTPD_PEER_PERM;
		goto out;
	}
	strlcpy_trunc(st->reverse_name, ptr->name, sizeof(st->reverse_name));
	st->reverse_name_status = SMTPD_PEER_OK;
	r = dns_lookup_addr(ptr->name, DNS_PROTO_V4 | DNS_PROTO_V6,
	    DNS_PREF_ANY, &addrs, &why);
	if (r != DNS_OK) {
		st->name_status = r == DNS_RETRY ? SMTPD_PEER_TEMP :
		    SMTPD_PEER_PERM;
		goto out;
	}
	for (rr = addrs; rr; rr = rr->next) {
		if (dns_rr_addr_str(rr, text, sizeof(text)) == 0 &&
		    strcmp(text, st->client_addr) == 0) {
			strlcpy_trunc(st->client_name, ptr->name,
			    sizeof(st->client_name));
			st->name_status = SMTPD_PEER_OK;
			goto out;
		}
	}
	st->name_status = SMTPD_PEER_PERM;
out:
	dns_rr_free(ptr);
	dns_rr_free(addrs);
	buf_free(&why);
}

/* smtpd_keyword_discarded - is an EHLO keyword listed for discard? */
static int
smtpd_keyword_discarded(const char *kw)
{
	const char *list = smtpd_cfg.smtpd_discard_ehlo_keywords;
	size_t kl = strlen(kw);

	while (list && *list) {
		size_t n;

		list += strspn(list, SEPARATORS);
		n = strcspn(list, SEPARATORS);
		if (n == kl && strncasecmp(list, kw, n) == 0)
			return 1;
		list += n;
	}
	return 0;
}

/* smtpd_helo - HELO and EHLO */
static int
smtpd_helo(struct smtpd_state *st, char *arg, int esmtp)
{
	struct buf r = BUF_INIT;
	const char *mechs;

	if (esmtp)
		st->n_ehlo++;
	else
		st->n_helo++;
	st->last_cmd = esmtp ? "EHLO" : "HELO";
	arg = str_trim(arg);
	if (*arg == 0 || strlen(arg) > 255) {
		smtpd_reply(st, "501 Syntax: %s hostname", esmtp ? "EHLO" :
		    "HELO");
		return smtpd_error(st);
	}
	if (!smtpd_cfg.smtpd_delay_reject &&
	    smtpd_check_helo(st, arg) != SMTPD_CHECK_OK)
		return smtpd_check_failed(st);
	smtpd_reset(st);
	free(st->helo_name);
	st->helo_name = xstrdup(arg);
	st->esmtp = esmtp;
	st->pipelining = esmtp;
	if (!esmtp) {
		smtpd_reply(st, "250 %s", mail_cfg.myhostname);
		return 0;
	}
	buf_printf(&r, "250 %s", mail_cfg.myhostname);
#define KW(name, ...) do { \
	if (!smtpd_keyword_discarded(name)) { \
		buf_putc(&r, '\n'); \
		buf_printf(&r, __VA_ARGS__); \
	} \
} while (0)
	KW("PIPELINING", "PIPELINING");
	if (mail_cfg.message_size_limit > 0)
		KW("SIZE", "SIZE %ld", mail_cfg.message_size_limit);
	else
		KW("SIZE", "SIZE");
	if (!smtpd_cfg.disable_vrfy_command)
		KW("VRFY", "VRFY");
	KW("ENHANCEDSTATUSCODES", "ENHANCEDSTATUSCODES");
	KW("8BITMIME", "8BITMIME");
	KW("DSN", "DSN");
	if (smtpd_cfg.smtputf8_enable)
		KW("SMTPUTF8", "SMTPUTF8");
	KW("CHUNKING", "CHUNKING");
	if (smtpd_tls_offer(st))
		KW("STARTTLS", "STARTTLS");
	if ((mechs = smtpd_sasl_ehlo_mechs(st)) != NULL) {
		KW("AUTH", "AUTH %s", mechs);
		if (smtpd_cfg.broken_sasl_auth_clients)
			KW("AUTH", "AUTH=%s", mechs);
	}
#undef KW
	smtpd_reply(st, "%s", r.p);
	buf_free(&r);
	return 0;
}

/*
 * smtpd_protocol - the protocol name for Received:, logs and policy
 * requests (RFC 3848): ESMTP after EHLO, "S" inside TLS, "A" once
 * logged in.  Derived from the session, never stored.
 */
const char *
smtpd_protocol(const struct smtpd_state *st)
{
	static const char *const names[] = {
		"SMTP", "SMTPA", "SMTPS", "SMTPSA",
		"ESMTP", "ESMTPA", "ESMTPS", "ESMTPSA",
	};

	return names[(st->esmtp ? 4 : 0) | (st->tls_active ? 2 : 0) |
	    (st->sasl_username != NULL ? 1 : 0)];
}

/*
 * smtpd_path - parse "<address>" (or a bare address) at p.  Stores the
 * address in internal form and points *rest at what follows.  Returns 0,
 * or -1 with a reply text in why.
 */
static int
smtpd_path(struct smtpd_state *st, const char *p, struct buf *addr,
    const char **rest, int *eight_bit, struct buf *why)
{
	static const struct addr_limits lim = {SMTPD_ADDR_MAX + 2, 1,
	    SMTPD_ADDR_MAX};
	const char *start, *end;
	struct buf raw = BUF_INIT;
	int quoted = 0, r = -1;
	size_t i;

	while (*p == ' ')
		p++;
	if (*p == '<') {
		start = ++p;
		for (end = p; *end; end++) {
			if (*end == '\\' && end[1])
				end++;
			else if (*end == '"')
				quoted = !quoted;
			else if (*end == '>' && !quoted)
				break;
		}
		if (*end != '>') {
			buf_sets(why, "501 5.1.7 Bad address syntax");
			goto out;
		}
		*rest = end + 1;
	} else {
		if (smtpd_cfg.strict_rfc821_envelopes) {
			buf_sets(why, "501 5.5.4 Syntax error in parameters: "
			    "address must be in angle brackets");
			goto out;
		}
		start = p;
		end = p + strcspn(p, " ");
		*rest = end;
	}
	if ((size_t)(end - start) > SMTPD_ADDR_MAX) {
		buf_sets(why, "501 5.1.7 Bad address syntax: address too long");
		goto out;
	}
	*eight_bit = 0;
	quoted = 0;
	for (i = 0; start + i < end; i++) {
		unsigned char c = (unsigned char)start[i];

		if (c == '"')
			quoted = !quoted;
		if (c < 0x20 || c == 0x7f || (!quoted && (c == ' ' ||
		    c == '<' || c == '>' || c == '(' || c == ')' ||
		    c == ','))) {
			buf_sets(why, "501 5.1.7 Bad address syntax");
			goto out;
		}
		if (c >= 0x80)
			*eight_bit = 1;
	}
	buf_set(&raw, start, (size_t)(end - start));
	if (raw.len == 0) {
		buf_reset(addr);
		r = 0;
		goto out;
	}
	if (addr_parse_one(raw.p, raw.len, &lim, addr, why) < 0 ||
	    addr->len == 0) {
		buf_reset(why);
		buf_sets(why, "501 5.1.7 Bad address syntax");
		goto out;
	}
	r = 0;
out:
	(void)st;
	buf_free(&raw);
	return r;
}

/* smtpd_verb_arg - "FROM:" / "TO:" prefix check; returns the rest */
static const char *
smtpd_verb_arg(const char *arg, const char *prefix)
{
	size_t n = strlen(prefix);

	while (*arg == ' ')
		arg++;
	if (strncasecmp(arg, prefix, n) != 0)
		return NULL;
	return arg + n;
}

/* smtpd_mail - MAIL FROM */
static int
smtpd_mail(struct smtpd_state *st, char *arg)
{
	struct buf addr = BUF_INIT, why = BUF_INIT, val = BUF_INIT;
	const char *p, *rest;
	char *params, *tok;
	long size = 0;
	int eight_bit, utf8 = 0, ret = 0, r = 0, auth_seen = 0;
	char *envid = NULL, *auth = NULL;

	st->n_mail++;
	st->last_cmd = "MAIL";
	if (smtpd_cfg.smtpd_helo_required && st->helo_name == NULL) {
		smtpd_reply(st, "503 5.5.1 Error: send HELO/EHLO first");
		goto error;
	}
	if (smtpd_tls_required(st))
		goto error;
	if (st->sender != NULL) {
		smtpd_reply(st, "503 5.5.1 Error: nested MAIL command");
		goto error;
	}
	if ((p = smtpd_verb_arg(arg, "FROM:")) == NULL) {
		smtpd_reply(st, "501 5.5.4 Syntax: MAIL FROM:<address>");
		goto error;
	}
	if (smtpd_path(st, p, &addr, &rest, &eight_bit, &why) < 0) {
		smtpd_reply(st, "%s", why.p);
		goto error;
	}
	params = xstrdup(rest);
	for (char *cp = params; (tok = str_token(&cp, " ")) != NULL;) {
		if (strncasecmp(tok, "SIZE=", 5) == 0) {
			if (parse_long(tok + 5, &size) < 0 || size < 0) {
				smtpd_reply(st, "501 5.5.4 Bad message size "
				    "syntax");
				goto bad_param;
			}
		} else if (strncasecmp(tok, "BODY=", 5) == 0) {
			if (strcasecmp(tok + 5, "8BITMIME") == 0)
				st->body_8bit = 1;
			else if (strcasecmp(tok + 5, "7BIT") != 0) {
				smtpd_reply(st, "501 5.5.4 Unsupported BODY "
				    "parameter");
				goto bad_param;
			}
		} else if (strcasecmp(tok, "SMTPUTF8") == 0 &&
		    smtpd_cfg.smtputf8_enable) {
			utf8 = 1;
		} else if (strncasecmp(tok, "RET=", 4) == 0) {
			if (strcasecmp(tok + 4, "FULL") == 0)
				ret = DSN_RET_FULL;
			else if (strcasecmp(tok + 4, "HDRS") == 0)
				ret = DSN_RET_HDRS;
			else {
				smtpd_reply(st, "501 5.5.4 Bad RET parameter "
				    "syntax");
				goto bad_param;
			}
		} else if (strncasecmp(tok, "ENVID=", 6) == 0) {
			if (smtpd_xtext_decode(tok + 6, &val) < 0 ||
			    val.len > 100 || envid) {
				smtpd_reply(st, "501 5.5.4 Bad ENVID parameter "
				    "syntax");
				goto bad_param;
			}
			envid = xstrdup(val.p);
		} else if (strncasecmp(tok, "AUTH=", 5) == 0) {
			/* Recorded only for an authenticated client. */
			if (smtpd_sasl_mail_opt(st, tok + 5, &auth_seen,
			    &auth) < 0)
				goto bad_param;
		} else {
			smtpd_reply(st, "555 5.5.4 Unsupported option: %s",
			    tok);
			goto bad_param;
		}
	}
	free(params);
	if (eight_bit && !utf8) {
		smtpd_reply(st, "553 5.6.7 Must declare SMTPUTF8 to send "
		    "unicode address");
		goto error;
	}
	if (mail_cfg.message_size_limit > 0 &&
	    size > mail_cfg.message_size_limit) {
		smtpd_reply(st, "552 5.3.4 Message size exceeds fixed limit");
		goto error;
	}
	/* Per-client message rate (anvil.c): 450. */
	if (smtpd_anvil_mail(st))
		goto error;
	if (smtpd_check_size(st, size) != SMTPD_CHECK_OK ||
	    (!smtpd_cfg.smtpd_delay_reject &&
	    smtpd_check_mail(st, addr.p ? addr.p : "") != SMTPD_CHECK_OK)) {
		r = smtpd_check_failed(st);
		goto out;
	}
	st->sender = xstrdup(buf_str(&addr));
	st->size_declared = size;
	st->smtputf8 = utf8;
	st->dsn_ret = ret;
	st->dsn_envid = envid;
	envid = NULL;
	st->sasl_sender = auth;
	auth = NULL;
	st->ok_mail++;
	smtpd_reply(st, "250 2.1.0 Ok");
	goto out;
bad_param:
	free(params);
error:
	r = smtpd_error(st);
out:
	free(envid);
	free(auth);
	buf_free(&addr);
	buf_free(&why);
	buf_free(&val);
	return r;
}

/* smtpd_notify - parse NOTIFY=; DSN_NOTIFY_* bits or -1 */
static int
smtpd_notify(const char *v)
{
	char *copy = xstrdup(v), *cp = copy, *tok;
	int bits = 0;

	while ((tok = str_token(&cp, ",")) != NULL) {
		if (strcasecmp(tok, "NEVER") == 0)
			bits |= DSN_NOTIFY_NEVER;
		else if (strcasecmp(tok, "SUCCESS") == 0)
			bits |= DSN_NOTIFY_SUCCESS;
		else if (strcasecmp(tok, "FAILURE") == 0)
			bits |= DSN_NOTIFY_FAILURE;
		else if (strcasecmp(tok, "DELAY") == 0)
			bits |= DSN_NOTIFY_DELAY;
		else
			bits = -1;
		if (bits < 0)
			break;
	}
	free(copy);
	if (bits == 0 || (bits > 0 && (bits & DSN_NOTIFY_NEVER) &&
	    (bits & ~DSN_NOTIFY_NEVER)))
		return -1;
	return bits;
}

/* smtpd_rcpt - RCPT TO */
static int
smtpd_rcpt(struct smtpd_state *st, char *arg)
{
	struct buf addr = BUF_INIT, why = BUF_INIT, val = BUF_INIT;
	struct buf orcpt = BUF_INIT;
	const char *p, *rest;
	char *params, *tok;
	int eight_bit, notify = 0, r = 0, check;

	st->n_rcpt++;
	st->last_cmd = "RCPT";
	if (st->sender == NULL) {
		smtpd_reply(st, "503 5.5.1 Error: need MAIL command");
		goto error;
	}
	if (st->rcpts.n >= (size_t)smtpd_cfg.smtpd_recipient_limit) {
		smtpd_reply(st, "452 4.5.3 Error: too many recipients");
		goto error;
	}
	if ((p = smtpd_verb_arg(arg, "TO:")) == NULL) {
		smtpd_reply(st, "501 5.5.4 Syntax: RCPT TO:<address>");
		goto error;
	}
	if (smtpd_path(st, p, &addr, &rest, &eight_bit, &why) < 0) {
		smtpd_reply(st, "%s", why.p);
		goto error;
	}
	if (addr.len == 0) {
		smtpd_reply(st, "501 5.1.3 Bad recipient address syntax");
		goto error;
	}
	if (eight_bit && !st->smtputf8) {
		smtpd_reply(st, "553 5.6.7 Must declare SMTPUTF8 to send "
		    "unicode address");
		goto error;
	}
	params = xstrdup(rest);
	for (char *cp = params; (tok = str_token(&cp, " ")) != NULL;) {
		if (strncasecmp(tok, "NOTIFY=", 7) == 0) {
			if ((notify = smtpd_notify(tok + 7)) < 0) {
				smtpd_reply(st, "501 5.5.4 Bad NOTIFY parameter "
				    "syntax");
				free(params);
				goto error;
			}
		} else if (strncasecmp(tok, "ORCPT=", 6) == 0) {
			const char *semi = strchr(tok + 6, ';');

			if (semi == NULL || strncasecmp(tok + 6, "rfc822;",
			    7) != 0 || smtpd_xtext_decode(semi + 1, &val) < 0 ||
			    val.len == 0 || val.len > SMTPD_ADDR_MAX ||
			    orcpt.len) {
				smtpd_reply(st, "501 5.5.4 Bad ORCPT parameter "
				    "syntax");
				free(params);
				goto error;
			}
			buf_set(&orcpt, val.p, val.len);
		} else {
			smtpd_reply(st, "555 5.5.4 Unsupported option: %s",
			    tok);
			free(params);
			goto error;
		}
	}
	free(params);
	/* Per-client recipient rate (anvil.c): 452. */
	if (smtpd_anvil_rcpt(st))
		goto error;
	free(st->recipient);
	st->recipient = xstrdup(addr.p);
	check = smtpd_check_rcpt(st, addr.p);
	if (check == SMTPD_CHECK_REJECT) {
		r = smtpd_check_failed(st);
		goto out;
	}
	if (check == SMTPD_CHECK_DISCARD)
		st->discard = 1;
	argv_add(&st->rcpts, addr.p);
	argv_addf(&st->rcpt_params, "%d\t%s", notify, buf_str(&orcpt));
	st->ok_rcpt++;
	smtpd_reply(st, "250 2.1.5 Ok");
	goto out;
error:
	r = smtpd_error(st);
out:
	buf_free(&addr);
	buf_free(&why);
	buf_free(&val);
	buf_free(&orcpt);
	return r;
}

/* smtpd_vrfy - VRFY (off unless disable_vrfy_command = no) */
static int
smtpd_vrfy(struct smtpd_state *st, char *arg)
{
	struct buf addr = BUF_INIT, why = BUF_INIT;
	const char *rest;
	int eight_bit, r = 0;

	st->n_vrfy++;
	st->last_cmd = "VRFY";
	if (smtpd_cfg.disable_vrfy_command) {
		smtpd_reply(st, "502 5.5.1 VRFY command is disabled");
		r = smtpd_error(st);
		goto out;
	}
	if (smtpd_tls_required(st)) {
		r = smtpd_error(st);
		goto out;
	}
	if (smtpd_path(st, str_trim(arg), &addr, &rest, &eight_bit,
	    &why) < 0 || addr.len == 0) {
		smtpd_reply(st, "501 5.5.4 Syntax: VRFY address");
		r = smtpd_error(st);
		goto out;
	}
	if (smtpd_check_vrfy(st, addr.p) != SMTPD_CHECK_OK) {
		r = smtpd_check_failed(st);
		goto out;
	}
	st->ok_vrfy++;
	smtpd_reply(st, "252 2.0.0 %s", addr.p);
out:
	buf_free(&addr);
	buf_free(&why);
	return r;
}

struct smtpd_cmd {
	const char *name;
	int	 junk;		/* counts against smtpd_junk_command_limit */
	int	 pre_tls;	/* allowed before STARTTLS at level encrypt */
};

/*
 * At TLS level encrypt only HELO, EHLO, STARTTLS, NOOP and QUIT work
 * before STARTTLS, as in Postfix; every other command gets 530.  MAIL
 * and VRFY make that check themselves, after counting the command for
 * the disconnect line.
 */
static const struct smtpd_cmd smtpd_cmds[] = {
	{"HELO", 0, 1}, {"EHLO", 0, 1}, {"MAIL", 0, 1}, {"RCPT", 0, 0},
	{"DATA", 0, 0}, {"BDAT", 0, 0}, {"RSET", 1, 0}, {"NOOP", 1, 1},
	{"QUIT", 0, 1}, {"VRFY", 1, 1}, {"HELP", 1, 0}, {"STARTTLS", 0, 1},
	{"AUTH", 0, 0}, {NULL, 0, 0},
};

/*
 * smtpd_command - dispatch one command line (without CRLF).  Returns 0
 * to go on, -1 to end the session.
 */
int
smtpd_command(struct smtpd_state *st, char *line)
{
	const struct smtpd_cmd *c;
	char *arg = line + strcspn(line, " ");
	size_t vlen = (size_t)(arg - line);

	if (*arg)
		*arg++ = 0;
	for (c = smtpd_cmds; c->name; c++)
		if (vlen == strlen(c->name) && strcasecmp(line, c->name) == 0)
			break;
	if (c->name == NULL) {
		st->n_unknown++;
		st->last_cmd = "UNKNOWN";
		log_info("%s: unknown command \"%.20s\" from %s",
		    st->queue_id[0] ? st->queue_id : "NOQUEUE", line,
		    st->namaddr);
		smtpd_reply(st, "502 5.5.2 Error: command not recognized");
		return smtpd_error(st);
	}
	if (c->junk && ++st->junk_count > smtpd_cfg.smtpd_junk_command_limit) {
		if (smtpd_error(st) < 0)
			return -1;
	}
	if (st->connect_reject && strcmp(c->name, "QUIT") != 0) {
		st->last_cmd = c->name;
		smtpd_reply(st, "503 5.7.0 Error: access denied for %s",
		    st->namaddr);
		return smtpd_error(st);
	}
	if (st->bdat_active && strcasecmp(c->name, "BDAT") != 0 &&
	    strcasecmp(c->name, "QUIT") != 0 &&
	    strcasecmp(c->name, "RSET") != 0 &&
	    strcasecmp(c->name, "NOOP") != 0) {
		st->last_cmd = c->name;
		smtpd_reply(st, "503 5.5.1 Error: %s during BDAT transfer",
		    c->name);
		return smtpd_error(st);
	}
	if (!c->pre_tls) {
		st->last_cmd = c->name;
		if (smtpd_tls_required(st))
			return smtpd_error(st);
	}
	if (strcmp(c->name, "HELO") == 0)
		return smtpd_helo(st, arg, 0);
	if (strcmp(c->name, "EHLO") == 0)
		return smtpd_helo(st, arg, 1);
	if (strcmp(c->name, "MAIL") == 0)
		return smtpd_mail(st, arg);
	if (strcmp(c->name, "RCPT") == 0)
		return smtpd_rcpt(st, arg);
	if (strcmp(c->name, "DATA") == 0)
		return smtpd_data(st);
	if (strcmp(c->name, "BDAT") == 0)
		return smtpd_bdat(st, arg);
	if (strcmp(c->name, "VRFY") == 0)
		return smtpd_vrfy(st, arg);
	if (strcmp(c->name, "STARTTLS") == 0)
		return smtpd_tls_starttls(st, arg);
	if (strcmp(c->name, "AUTH") == 0)
		return smtpd_sasl_auth(st, arg);
	if (strcmp(c->name, "RSET") == 0) {
		st->n_rset++;
		st->last_cmd = "RSET";
		smtpd_reset(st);
		smtpd_reply(st, "250 2.0.0 Ok");
		return 0;
	}
	if (strcmp(c->name, "NOOP") == 0) {
		st->n_noop++;
		st->last_cmd = "NOOP";
		smtpd_reply(st, "250 2.0.0 Ok");
		return 0;
	}
	if (strcmp(c->name, "HELP") == 0) {
		st->last_cmd = "HELP";
		smtpd_reply(st, "214 2.0.0 Commands: EHLO HELO AUTH MAIL RCPT "
		    "DATA BDAT RSET NOOP QUIT%s", smtpd_tls_offer(st) ?
		    " STARTTLS" : "");
		return 0;
	}
	/* QUIT */
	st->n_quit++;
	st->last_cmd = "QUIT";
	smtpd_reply(st, "221 2.0.0 Bye");
	return -1;
}
