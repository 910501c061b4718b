/*
 * NAME		deliver - one delivery request: hosts, sessions, results
 * DESCRIPTION	smtp_deliver() takes a request from qmgr and leaves one
 *		result per recipient.  It opens the queue file and looks at
 *		the content once (8-bit bytes anywhere: BODY=8BITMIME; UTF-8
 *		in the header or the envelope: SMTPUTF8), then tries:
 *
 *		1. the cached session, when it goes to the same next hop
 *		   (after RSET - pipelined in front of MAIL FROM when the
 *		   server offers PIPELINING; if RSET fails, or the server
 *		   closed the session, it is dropped silently, before any
 *		   message data was sent);
 *		2. the next hop: for a domain its MX hosts in order of
 *		   preference (equal preferences in random order), or the
 *		   domain's own addresses when it has no MX record; for
 *		   "[host]" that host's addresses.  At most
 *		   smtp_mx_address_limit addresses from MX lookups, and at
 *		   most smtp_mx_session_limit sessions that got through the
 *		   handshake;
 *		3. the hosts of smtp_fallback_relay, in order.
 *
 *		A recipient that was accepted or refused with a 5XX reply is
 *		final and logged at once; one that got a temporary failure
 *		(a 4XX reply, a connection that failed or broke, a DNS
 *		failure) goes on to the next host, and when there is none
 *		its last reason is logged as deferred.  "Host or domain name
 *		not found" and the like are bounces unless a later host
 *		does better.  MX hosts that name this host ($myhostname)
 *		and every host of lower preference are dropped: a mail loop
 *		otherwise.  A domain with a null MX record (RFC 7505) does
 *		not accept mail (5.1.10).
 * SECURITY	The next hop and addresses come from qmgr and the queue
 *		file: checked before they become a connection or a command.
 * SEE ALSO	session.c, proto.c, doc/smtp.md
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "mail/mail_conf.h"
#include "mail/qfile.h"
#include "mail/queue.h"
#include "util/argv.h"
#include "util/log.h"
#include "util/mem.h"
#include "util/strutil.h"
#include "smtp.h"

/* What one request has done so far. */
struct smtp_ctx {
	struct smtp_msg *msg;
	const char *key;		/* the next hop, for the cache */
	int	 sessions;		/* handshakes completed */
	int	 fallback;		/* trying fallback relays */
};

/* smtp_err_init - an empty error */
static void
smtp_err_init(struct smtp_err *e)
{
	memset(e, 0, sizeof(*e));
	buf_init(&e->why);
}

/*
 * smtp_scan - read the content once: 8-bit bytes anywhere, UTF-8 in the
 * header.  Returns 0 or -1.
 */
static int
smtp_scan(struct smtp_msg *msg, struct buf *why)
{
	struct qfile_content qc;
	struct buf line = BUF_INIT;
	int rc, in_header = 1;

	if (qfile_content_open_at(&qc, msg->fd, msg->req->data_offset,
	    why) < 0)
		return -1;
	while ((rc = qfile_content_line(&qc, &line, NULL)) == 1) {
		if (line.len == 0)
			in_header = 0;
		if (!smtp_has_8bit(line.p, line.len))
			continue;
		msg->eightbit = 1;
		if (in_header && smtp_has_utf8(line.p, line.len))
			msg->utf8 = 1;
		if (!in_header)
			break;
	}
	qfile_content_close(&qc);
	buf_free(&line);
	if (rc < 0) {
		buf_sets(why, "cannot read message content");
		return -1;
	}
	return 0;
}

/* smtp_sockaddr - fill a socket address from a DNS address record */
static void
smtp_sockaddr(const struct dns_rr *r, int port, struct smtp_addr *a)
{
	memset(&a->sa, 0, sizeof(a->sa));
	if (r->family == AF_INET) {
		struct sockaddr_in *in = (struct sockaddr_in *)&a->sa;

		in->sin_family = AF_INET;
		in->sin_port = htons((uint16_t)port);
		memcpy(&in->sin_addr, r->addr, 4);
		a->salen = sizeof(*in);
	} else {
		struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&a->sa;

		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons((uint16_t)port);
		memcpy(&in6->sin6_addr, r->addr, 16);
		a->salen = sizeof(*in6);
	}
}

/* smtp_mx_hosts - MX hosts to use, or -1 with a reason */
static int
smtp_mx_hosts(const struct smtp_dest *d, struct dns_rr **hosts,
    struct smtp_err *e)
{
	struct buf why = BUF_INIT;
	struct dns_rr *mx = NULL, *r, **pp;
	unsigned cut = 0;
	int st, found_self = 0;

	*hosts = NULL;
	st = dns_lookup_mx(d->host, &mx, &why);
	if (st == DNS_RETRY || st == DNS_INVAL) {
		smtp_err_set(e, st == DNS_RETRY ? DEL_STAT_DEFER :
		    DEL_STAT_BOUNCE, 0, st == DNS_RETRY ? "4.4.3" : "5.4.4",
		    "Host or domain name not found. %s", buf_str(&why));
		e->hop = st == DNS_RETRY;
		buf_free(&why);
		return -1;
	}
	buf_free(&why);
	if (st == DNS_NOTFOUND)
		return 0;
	if (dns_rr_null_mx(mx)) {
		dns_rr_free(mx);
		smtp_err_set(e, DEL_STAT_BOUNCE, 1, "5.1.10", "Domain %s does "
		    "not accept mail (nullMX)", d->host);
		return -1;
	}
	/* This host and everything it prefers less: a loop otherwise. */
	for (r = mx; r; r = r->next) {
		if (strcasecmp(r->name, mail_cfg.myhostname) == 0) {
			cut = r->pref;
			found_self = 1;
			break;
		}
	}
	for (pp = &mx; (r = *pp) != NULL;) {
		if ((found_self && r->pref >= cut) || r->name[0] == 0) {
			*pp = r->next;
			r->next = NULL;
			dns_rr_free(r);
		} else {
			pp = &r->next;
		}
	}
	if (mx == NULL) {
		smtp_err_set(e, DEL_STAT_BOUNCE, 1, "5.4.6", "mail for %s "
		    "loops back to myself", d->host);
		return -1;
	}
	*hosts = mx;
	return 0;
}

/*
 * smtp_addr_list - the addresses to try for a destination, in order.
 * Returns 0 with a list (free() it), or -1 with the reason in e.
 */
static int
smtp_addr_list(const struct smtp_dest *d, struct smtp_addr **out,
    size_t *count, struct smtp_err *e)
{
	struct dns_rr *hosts = NULL, *h, *addrs, *a, *lit;
	struct buf why = BUF_INIT;
	struct smtp_addr *v = NULL;
	size_t n = 0, cap = 0, limit = 0;
	unsigned best = 0;
	int st, retry = 0, mx = d->mx;

	*out = NULL;
	*count = 0;
	if (d->local) {
		v = xcalloc(1, sizeof(*v));
		strlcpy_trunc(v->host, mail_cfg.myhostname, sizeof(v->host));
		strlcpy_trunc(v->addr, d->host, sizeof(v->addr));
		v->local = 1;
		v->best = 1;
		*out = v;
		*count = 1;
		return 0;
	}
	/* An address needs no MX lookup, bracketed or not. */
	if (mx && dns_addr_literal(d->host, &lit) == 0) {
		dns_rr_free(lit);
		mx = 0;
	}
	if (mx) {
		if (smtp_mx_hosts(d, &hosts, e) < 0)
			return -1;
		if (smtp_cfg.mx_address_limit > 0)
			limit = (size_t)smtp_cfg.mx_address_limit;
	}
	if (hosts == NULL) {
		/* No MX: the domain itself (pref 0), or the [host]. */
		hosts = xcalloc(1, sizeof(*hosts));
		hosts->type = DNS_T_MX;
		strlcpy_trunc(hosts->name, d->host, sizeof(hosts->name));
	}
	best = hosts->pref;
	for (h = hosts; h && (limit == 0 || n < limit); h = h->next) {
		st = dns_lookup_addr(h->name, smtp_cfg.protos,
		    smtp_cfg.addr_pref, &addrs, &why);
		if (st != DNS_OK) {
			retry |= st == DNS_RETRY;
			continue;
		}
		for (a = addrs; a && (limit == 0 || n < limit); a = a->next) {
			if (n == cap) {
				cap = cap ? cap * 2 : 8;
				v = xreallocarray(v, cap, sizeof(*v));
			}
			memset(&v[n], 0, sizeof(v[n]));
			strlcpy_trunc(v[n].host, h->name, sizeof(v[n].host));
			if (dns_rr_addr_str(a, v[n].addr,
			    sizeof(v[n].addr)) < 0)
				continue;
			v[n].port = d->port;
			v[n].best = h->pref == best;
			smtp_sockaddr(a, d->port, &v[n]);
			n++;
		}
		dns_rr_free(addrs);
	}
	dns_rr_free(hosts);
	if (n == 0) {
		if (retry)
			smtp_err_set(e, DEL_STAT_DEFER, 0, "4.4.3", "Host or "
			    "domain name not found. %s", buf_str(&why));
		else
			smtp_err_set(e, DEL_STAT_BOUNCE, 0, "5.4.4", "Host or "
			    "domain name not found. %s", buf_str(&why));
		e->hop = retry;
		buf_free(&why);
		free(v);
		return -1;
	}
	buf_free(&why);
	*out = v;
	*count = n;
	return 0;
}

/* smtp_use - run a transaction on a ready session, then keep or close it */
static void
smtp_use(struct smtp_ctx *ctx, struct smtp_sess *ss)
{
	struct smtp_msg *msg = ctx->msg;
	int rc;

	ctx->sessions++;
	msg->conn_us = time_epoch_us();
	if ((rc = smtp_xfer(ss, msg)) < 0) {
		/* -2: a cached session that failed its RSET; not counted. */
		if (rc == -2) {
			ctx->sessions--;
			msg->conn_us = 0;
		}
		smtp_sess_free(ss);
		return;
	}
	/* Recipients left over go to the next host: this one is done. */
	if (msg->todo == 0)
		smtp_cache_put(ss);
	else
		smtp_sess_quit(ss);
}

/*
 * smtp_reuse - deliver over a cached session to this destination with
 * the same TLS policy, if there is one
 */
static void
smtp_reuse(struct smtp_ctx *ctx, const struct smtp_tls_pol *pol)
{
	struct smtp_sess *ss = smtp_cache_take(ctx->key, pol->key);

	if (ss == NULL)
		return;
	if (ss->features & SMTP_F_PIPELINING) {
		/* RSET goes in front of MAIL FROM. */
		ss->rset = 1;
		smtp_use(ctx, ss);
	} else if (smtp_sess_rset(ss) == 0) {
		smtp_use(ctx, ss);
	} else if (stream_error(ss->s)) {
		smtp_sess_free(ss);
	} else {
		smtp_sess_quit(ss);
	}
}

/*
 * smtp_try_dest - deliver what is left through one destination; name
 * is the next hop as written (the key of the TLS policy and of the SASL
 * password table).  pol is the destination's TLS policy when the caller
 * has it already, else NULL.
 */
static void
smtp_try_dest(struct smtp_ctx *ctx, const char *name,
    const struct smtp_dest *d, const struct smtp_tls_pol *pol)
{
	struct smtp_msg *msg = ctx->msg;
	struct smtp_addr *addrs;
	struct smtp_sess *ss;
	struct smtp_tls_pol own;
	struct smtp_conn ci;
	struct smtp_err e;
	size_t n, i;

	smtp_err_init(&e);
	memset(&own, 0, sizeof(own));
	if (pol == NULL) {
		if (smtp_tls_policy(name, d->host, &own, &e) < 0) {
			smtp_msg_fail(msg, &e, NULL);
			buf_free(&e.why);
			return;
		}
		pol = &own;
	}
	memset(&ci, 0, sizeof(ci));
	ci.pol = pol;
	ci.queue_id = msg->req->queue_id;
	if (smtp_addr_list(d, &addrs, &n, &e) < 0) {
		smtp_msg_fail(msg, &e, NULL);
		buf_free(&e.why);
		smtp_tls_policy_free(&own);
		return;
	}
	for (i = 0; i < n && msg->todo > 0 && !msg->abandoned; i++) {
		if (!ctx->fallback && smtp_cfg.mx_session_limit > 0 &&
		    ctx->sessions >= smtp_cfg.mx_session_limit)
			break;
		ci.no_tls = 0;
		if (smtp_sess_open(&addrs[i], &ci, &ss, &e) < 0) {
			if (!e.tls_retry_plain) {
				smtp_msg_fail(msg, &e, NULL);
				continue;
			}
			/* "may": the handshake failed; again, in plaintext. */
			log_info("%s: %s; trying %s again without TLS",
			    msg->req->queue_id, buf_str(&e.why),
			    addrs[i].addr);
			ci.no_tls = 1;
			if (smtp_sess_open(&addrs[i], &ci, &ss, &e) < 0) {
				smtp_msg_fail(msg, &e, NULL);
				continue;
			}
		}
		if (smtp_auth(ss, msg, name, &addrs[i], &e) < 0) {
			smtp_msg_fail(msg, &e, e.final ? ss : NULL);
			if (stream_error(ss->s))
				smtp_sess_free(ss);
			else
				smtp_sess_quit(ss);
			continue;
		}
		ss->key = xstrdup(ctx->key);
		smtp_use(ctx, ss);
	}
	free(addrs);
	buf_free(&e.why);
	smtp_tls_policy_free(&own);
}

/* smtp_finish - log the recipients without a final result yet */
static void
smtp_finish(struct smtp_msg *msg)
{
	const struct deliver_req *req = msg->req;
	struct deliver_result *res;
	int64_t now = time_epoch_us();
	size_t i;

	for (i = 0; i < req->nrcpt; i++) {
		if (msg->state[i] != SMTP_R_TODO)
			continue;
		res = &msg->res[i];
		deliver_log(req, i, res->relay.len ? buf_str(&res->relay) :
		    "none", msg->conn_us ? msg->conn_us : now, now, res->dsn,
		    res->status == DEL_STAT_BOUNCE ? "bounced" : "deferred",
		    buf_str(&res->reason));
		msg->state[i] = SMTP_R_DONE;
	}
}

/* smtp_fail_all - one soft failure for every recipient still to do */
static void
smtp_fail_all(struct smtp_msg *msg, int status, const char *dsn,
    const char *reason)
{
	struct smtp_err e;

	smtp_err_init(&e);
	smtp_err_set(&e, status, 0, dsn, "%s", reason);
	smtp_msg_fail(msg, &e, NULL);
	buf_free(&e.why);
}

/* smtp_check_addrs - bounce addresses that cannot go on the wire */
static void
smtp_check_addrs(struct smtp_msg *msg)
{
	const struct deliver_req *req = msg->req;
	size_t i;

	if (!smtp_addr_ok(req->sender)) {
		for (i = 0; i < req->nrcpt; i++)
			smtp_rcpt_final(msg, i, NULL, DEL_STAT_BOUNCE, "5.1.7",
			    "bad sender address syntax");
		return;
	}
	if (smtp_has_8bit(req->sender, strlen(req->sender)))
		msg->utf8 = 1;
	for (i = 0; i < req->nrcpt; i++) {
		if (!smtp_addr_ok(req->rcpts[i].addr))
			smtp_rcpt_final(msg, i, NULL, DEL_STAT_BOUNCE, "5.1.3",
			    "bad recipient address syntax");
		else if (smtp_has_8bit(req->rcpts[i].addr,
		    strlen(req->rcpts[i].addr)))
			msg->utf8 = 1;
	}
}

/*
 * smtp_map_addrs - the envelope addresses as they are sent: through
 * smtp_generic_maps when set (without it, nothing is copied and the
 * request's addresses are sent).  0, or -1 when a table failed (every
 * recipient is deferred).
 */
static int
smtp_map_addrs(struct smtp_msg *msg)
{
	const struct deliver_req *req = msg->req;
	struct buf out = BUF_INIT, why = BUF_INIT;
	size_t i;
	int r = 0;

	if (!smtp_generic_on())
		return 0;
	msg->rcpt = xcalloc(req->nrcpt + 1, sizeof(char *));
	if (smtp_generic_addr(req->sender, &out, &why) < 0)
		r = -1;
	msg->sender = xstrdup(buf_str(&out));
	for (i = 0; i < req->nrcpt; i++) {
		if (r == 0 && smtp_generic_addr(req->rcpts[i].addr, &out,
		    &why) < 0)
			r = -1;
		msg->rcpt[i] = xstrdup(r == 0 ? buf_str(&out) :
		    req->rcpts[i].addr);
	}
	if (r < 0) {
		log_warn("%s: %s lookup problem: %s", req->queue_id,
		    smtp_cfg.lmtp ? "lmtp_generic_maps" : "smtp_generic_maps",
		    buf_str(&why));
		smtp_fail_all(msg, DEL_STAT_DEFER, "4.3.0", "address mapping "
		    "table lookup failure");
	}
	buf_free(&out);
	buf_free(&why);
	return r;
}

/* smtp_fallback - try the fallback relays in order */
static void
smtp_fallback(struct smtp_ctx *ctx)
{
	struct argv *relays;
	struct smtp_dest d;
	struct buf why = BUF_INIT;
	size_t i;

	if (*smtp_cfg.fallback_relay == 0)
		return;
	relays = argv_split(smtp_cfg.fallback_relay, SEPARATORS);
	ctx->fallback = 1;
	for (i = 0; i < relays->n && ctx->msg->todo > 0 &&
	    !ctx->msg->abandoned; i++) {
		buf_reset(&why);
		if (smtp_dest_parse(relays->v[i], smtp_cfg.lmtp, smtp_cfg.port,
		    &d, &why) < 0) {
			log_warn("%s_fallback_relay: %s", smtp_cfg.lmtp ?
			    "lmtp" : "smtp", buf_str(&why));
			continue;
		}
		smtp_try_dest(ctx, relays->v[i], &d, NULL);
	}
	argv_free(relays);
	buf_free(&why);
}

/* smtp_deliver - handle one delivery request */
void
smtp_deliver(const struct deliver_req *req, struct deliver_result *res)
{
	struct smtp_msg msg;
	struct smtp_ctx ctx;
	struct smtp_dest dest;
	struct smtp_tls_pol pol;
	struct smtp_err terr;
	struct buf why = BUF_INIT, path = BUF_INIT, key = BUF_INIT;

	memset(&msg, 0, sizeof(msg));
	msg.req = req;
	msg.res = res;
	msg.todo = req->nrcpt;
	msg.state = xcalloc(req->nrcpt, 1);
	msg.accepted = xcalloc(req->nrcpt, 1);
	memset(&ctx, 0, sizeof(ctx));
	ctx.msg = &msg;
	ctx.key = req->nexthop;

	queue_path(&path, req->queue_name, req->queue_id);
	if ((msg.fd = open(path.p, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) < 0) {
		buf_printf(&why, "cannot open queue file: %s",
		    strerror(errno));
	} else if (smtp_scan(&msg, &why) < 0) {
		close(msg.fd);
		msg.fd = -1;
	}
	if (msg.fd < 0) {
		log_warn("%s: %s", req->queue_id, buf_str(&why));
		smtp_fail_all(&msg, DEL_STAT_DEFER, "4.3.0", buf_str(&why));
		goto done;
	}
	smtp_check_addrs(&msg);
	if (msg.todo == 0 || smtp_map_addrs(&msg) < 0)
		goto done;
	/* A session logged in for one sender identity is for it alone. */
	if (smtp_auth_sender(&msg, &key) < 0) {
		smtp_fail_all(&msg, DEL_STAT_DEFER, "4.3.0", "SASL password "
		    "table lookup failure");
		goto done;
	}
	if (key.len) {
		buf_reset(&why);
		buf_printf(&why, "%s%s", req->nexthop, buf_str(&key));
		buf_sets(&key, buf_str(&why));
		ctx.key = buf_str(&key);
	}
	buf_reset(&why);
	if (smtp_dest_parse(req->nexthop, smtp_cfg.lmtp, smtp_cfg.port, &dest,
	    &why) < 0) {
		log_warn("%s: %s", req->queue_id, buf_str(&why));
		smtp_fail_all(&msg, DEL_STAT_DEFER, "4.3.5", buf_str(&why));
		goto done;
	}

	/*
	 * The destination's TLS policy, looked up once per message: a
	 * cached session only if it has the same policy, new ones with it.
	 */
	smtp_err_init(&terr);
	if (smtp_tls_policy(req->nexthop, dest.host, &pol, &terr) < 0) {
		smtp_msg_fail(&msg, &terr, NULL);
	} else {
		smtp_reuse(&ctx, &pol);
		/* Recipients the cached session did not settle. */
		if (msg.todo > 0)
			smtp_try_dest(&ctx, req->nexthop, &dest, &pol);
	}
	smtp_tls_policy_free(&pol);
	buf_free(&terr.why);
	if (msg.todo > 0 && !msg.abandoned)
		smtp_fallback(&ctx);

done:
	smtp_finish(&msg);
	if (msg.fd >= 0)
		close(msg.fd);
	free(msg.state);
	free(msg.accepted);
	free(msg.sender);
	if (msg.sasl_cred) {
		explicit_bzero(msg.sasl_cred, strlen(msg.sasl_cred));
		free(msg.sasl_cred);
	}
	if (msg.rcpt) {
		size_t i;

		for (i = 0; i < req->nrcpt; i++)
			free(msg.rcpt[i]);
		free(msg.rcpt);
	}
	buf_free(&why);
	buf_free(&path);
	buf_free(&key);
}
