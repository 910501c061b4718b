/*
 * NAME		policy - SMTPD policy delegation (check_policy_service)
 * DESCRIPTION	Postfix's policy protocol (SMTPD_POLICY_README): the server
 *		sends "name=value" lines, starting with
 *		request=smtpd_access_policy and ending with an empty line; the
 *		policy server answers "action=..." (any access(5) action) and
 *		an empty line.  Other answer attributes are ignored.  One
 *		connection per policy server is kept open between requests
 *		(and sessions) for smtpd_policy_service_max_idle, at most
 *		smtpd_policy_service_max_ttl, and at most
 *		smtpd_policy_service_request_limit requests (0: no limit).
 *		Every connect, write and read is limited by
 *		smtpd_policy_service_timeout; a failed request is tried
 *		smtpd_policy_service_try_limit times, waiting
 *		smtpd_policy_service_retry_delay between tries, and then
 *		smtpd_policy_service_default_action is used ("451 4.3.5
 *		Server configuration problem").
 *
 *		Endpoints: inet:host:port (an IP address or "localhost"; no
 *		DNS lookup is made), unix:path (relative to the queue
 *		directory, e.g. unix:private/policyd-spf), a path with a "/",
 *		or a bare NAME meaning private/NAME.  Postfix 3.0's per-server
 *		settings work too: { inet:127.0.0.1:9998, timeout=10s,
 *		default_action=DUNNO, max_idle=.., max_ttl=.., try_limit=..,
 *		retry_delay=.., request_limit=.., policy_context=.. }.
 * SECURITY	The policy server is trusted as much as an access table,
 *		but its answer is still bounded: lines of at most 4096
 *		bytes, at most 100 lines, an "action" of at most CK_REPLY_MAX
 *		bytes; anything else is a failed request.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "tls/tls.h"
#include "util/events.h"
#include "util/htable.h"
#include "util/log.h"
#include "util/mem.h"
#include "util/sock.h"
#include "util/stream.h"
#include "util/strutil.h"
#include "check.h"

#define POLICY_LINE_MAX		4096
#define POLICY_LINES_MAX	100

struct ck_policy {
	char	*spec;			/* as written, for logs */
	char	*kind;			/* "inet" or "unix" */
	char	*addr;			/* host:port or path */
	long	 timeout;
	long	 max_idle;
	long	 max_ttl;
	long	 request_limit;
	long	 try_limit;
	long	 retry_delay;
	char	*default_action;
	char	*context;
	struct stream *s;		/* open connection, or NULL */
	int64_t	 opened;		/* ms, monotonic */
	int64_t	 used;
	long	 requests;
};

static struct htable *ck_policies;
static unsigned ck_instance_seq;

static int ck_policy_exchange(struct ck_policy *, const struct buf *,
	    struct buf *, struct buf *);

int (*ck_policy_hook)(struct ck_policy *, const struct buf *, struct buf *,
    struct buf *) = ck_policy_exchange;

/*
 * ck_policy_endpoint - "inet:host:port", "unix:path", "host:port",
 * "path/with/slash" or "NAME" into kind ("inet", "unix") and address.
 */
int
ck_policy_endpoint(const char *in, struct buf *kind, struct buf *addr,
    struct buf *why)
{
	const char *colon;

	buf_reset(kind);
	buf_reset(addr);
	if (*in == 0) {
		buf_sets(why, "empty policy server name");
		return -1;
	}
	if (str_caseprefix(in, "inet:")) {
		buf_sets(kind, "inet");
		buf_sets(addr, in + 5);
	} else if (str_caseprefix(in, "unix:") ||
	    str_caseprefix(in, "local:")) {
		buf_sets(kind, "unix");
		buf_sets(addr, strchr(in, ':') + 1);
	} else if (strchr(in, '/')) {
		buf_sets(kind, "unix");
		buf_sets(addr, in);
	} else if (strchr(in, ':')) {
		buf_sets(kind, "inet");
		buf_sets(addr, in);
	} else {
		buf_sets(kind, "unix");
		buf_printf(addr, "private/%s", in);
	}
	if (addr->len == 0) {
		buf_printf(why, "bad policy server name \"%s\"", in);
		return -1;
	}
	if (strcmp(kind->p, "inet") == 0) {
		long port;

		colon = strrchr(addr->p, ':');
		if (colon == NULL || colon == addr->p ||
		    parse_long(colon + 1, &port) < 0 || port < 1 ||
		    port > 65535) {
			buf_printf(why, "bad policy server address \"%s\" "
			    "(need inet:host:port)", in);
			return -1;
		}
	}
	return 0;
}

/* ck_policy_setting - one "name=value" of a braced policy spec */
static int
ck_policy_setting(struct ck_policy *p, const char *nv)
{
	char *copy = xstrdup(nv), *eq = strchr(copy, '='), *name, *val;
	long *lp = NULL;
	int r = -1, unit = 0;

	if (eq == NULL)
		goto out;
	*eq = 0;
	name = str_trim(copy);
	val = str_trim(eq + 1);
	if (strcmp(name, "timeout") == 0)
		lp = &p->timeout, unit = 's';
	else if (strcmp(name, "max_idle") == 0)
		lp = &p->max_idle, unit = 's';
	else if (strcmp(name, "max_ttl") == 0)
		lp = &p->max_ttl, unit = 's';
	else if (strcmp(name, "retry_delay") == 0)
		lp = &p->retry_delay, unit = 's';
	else if (strcmp(name, "request_limit") == 0)
		lp = &p->request_limit;
	else if (strcmp(name, "try_limit") == 0)
		lp = &p->try_limit;
	if (lp) {
		r = unit ? parse_time(val, unit, lp) : parse_long(val, lp);
		if (r == 0 && *lp < 0)
			r = -1;
	} else if (strcmp(name, "default_action") == 0 && *val) {
		free(p->default_action);
		p->default_action = xstrdup(val);
		r = 0;
	} else if (strcmp(name, "policy_context") == 0) {
		free(p->context);
		p->context = xstrdup(val);
		r = 0;
	}
out:
	free(copy);
	return r;
}

/* ck_policy_free - close and release one client */
static void
ck_policy_free(void *v)
{
	struct ck_policy *p = v;

	if (p->s)
		stream_close(p->s);
	free(p->spec);
	free(p->kind);
	free(p->addr);
	free(p->default_action);
	free(p->context);
	free(p);
}

/* ck_policy_close_all - drop every client (tests, reload) */
void
ck_policy_close_all(void)
{
	if (ck_policies)
		htable_free(ck_policies, ck_policy_free);
	ck_policies = NULL;
}

/*
 * ck_policy_get - the client for a check_policy_service argument (one
 * per distinct argument, made once); NULL if the argument is bad.
 */
struct ck_policy *
ck_policy_get(const char *spec)
{
	struct ck_policy *p;
	struct buf kind = BUF_INIT, addr = BUF_INIT, why = BUF_INIT;
	char *copy, *cp, *tok, err[64] = "";
	int first = 1, bad = 0;

	if (ck_policies == NULL)
		ck_policies = htable_create(4);
	if ((p = htable_find(ck_policies, spec)) != NULL)
		return p;
	p = xcalloc(1, sizeof(*p));
	p->spec = xstrdup(spec);
	p->timeout = smtpd_cfg.smtpd_policy_service_timeout > 0 ?
	    smtpd_cfg.smtpd_policy_service_timeout : 100;
	p->max_idle = smtpd_cfg.smtpd_policy_service_max_idle > 0 ?
	    smtpd_cfg.smtpd_policy_service_max_idle : 300;
	p->max_ttl = smtpd_cfg.smtpd_policy_service_max_ttl > 0 ?
	    smtpd_cfg.smtpd_policy_service_max_ttl : 1000;
	p->request_limit = smtpd_cfg.smtpd_policy_service_request_limit;
	p->try_limit = smtpd_cfg.smtpd_policy_service_try_limit > 0 ?
	    smtpd_cfg.smtpd_policy_service_try_limit : 2;
	p->retry_delay = smtpd_cfg.smtpd_policy_service_retry_delay > 0 ?
	    smtpd_cfg.smtpd_policy_service_retry_delay : 1;
	p->default_action = xstrdup(smtpd_cfg.
	    smtpd_policy_service_default_action && *smtpd_cfg.
	    smtpd_policy_service_default_action ? smtpd_cfg.
	    smtpd_policy_service_default_action :
	    "451 4.3.5 Server configuration problem");
	p->context = xstrdup(smtpd_cfg.smtpd_policy_service_policy_context ?
	    smtpd_cfg.smtpd_policy_service_policy_context : "");

	cp = copy = xstrdup(spec);
	/* "{ endpoint, name=value, ... }" as one word: drop the braces. */
	if (*str_trim(copy) == '{' && copy[strlen(copy) - 1] == '}') {
		copy[strlen(copy) - 1] = 0;
		cp = str_trim(copy) + 1;
	}
	while ((tok = str_token_braced(&cp, ", \t\r\n", err, sizeof(err)))) {
		if (first) {
			if (ck_policy_endpoint(tok, &kind, &addr, &why) < 0)
				bad = 1;
			first = 0;
		} else if (ck_policy_setting(p, tok) < 0) {
			buf_printf(&why, "bad setting \"%s\"", tok);
			bad = 1;
		}
	}
	if (first || err[0])
		bad = 1;
	free(copy);
	if (bad) {
		log_warn("check_policy_service %s: %s", spec, why.len ?
		    buf_str(&why) : "syntax error");
		ck_policy_free(p);
		p = NULL;
	} else {
		p->kind = buf_steal(&kind);
		p->addr = buf_steal(&addr);
		htable_enter(ck_policies, spec, p);
	}
	buf_free(&kind);
	buf_free(&addr);
	buf_free(&why);
	return p;
}

/* ck_attr - one "name=value" request line; CR and LF become spaces */
static void
ck_attr(struct buf *out, const char *name, const char *value)
{
	const char *v;

	buf_printf(out, "%s=", name);
	for (v = value ? value : ""; *v; v++)
		buf_putc(out, *v == '\r' || *v == '\n' ? ' ' : *v);
	buf_putc(out, '\n');
}

/* ck_policy_encode - the request for this check */
void
ck_policy_encode(struct ck_ctx *c, const char *context, struct buf *out)
{
	struct smtpd_state *st = c->st;
	char num[32];
	const struct tls_sess *tls;

	if (st->chk.instance[0] == 0) {
		struct timeval tv;

		gettimeofday(&tv, NULL);
		snprintf(st->chk.instance, sizeof(st->chk.instance),
		    "%x.%lx.%lx.%x", (unsigned)getpid(),
		    (unsigned long)tv.tv_sec, (unsigned long)tv.tv_usec,
		    ck_instance_seq++);
	}
	buf_reset(out);
	ck_attr(out, "request", "smtpd_access_policy");
	ck_attr(out, "protocol_state", c->where);
	ck_attr(out, "protocol_name", smtpd_protocol(st));
	ck_attr(out, "helo_name", st->helo_name);
	ck_attr(out, "queue_id", st->queue_id);
	ck_attr(out, "sender", st->sender);
	ck_attr(out, "recipient", st->recipient);
	snprintf(num, sizeof(num), "%zu", st->rcpts.n);
	ck_attr(out, "recipient_count", num);
	ck_attr(out, "client_address", st->client_addr);
	ck_attr(out, "client_name", st->client_name);
	ck_attr(out, "reverse_client_name", st->reverse_name);
	ck_attr(out, "instance", st->chk.instance);
	ck_attr(out, "sasl_method", st->sasl_method);
	ck_attr(out, "sasl_username", st->sasl_username);
	ck_attr(out, "sasl_sender", st->sasl_sender);
	snprintf(num, sizeof(num), "%ld", strcmp(c->where,
	    "END-OF-MESSAGE") == 0 ? st->msg_size : st->size_declared);
	ck_attr(out, "size", num);
	/*
	 * TLS, as Postfix fills it: subject and issuer of a client
	 * certificate that verified, the certificate and public key
	 * fingerprints of any client certificate
	 * (smtpd_tls_fingerprint_digest).
	 */
	tls = st->tls_active ? st->tls : NULL;
	ck_attr(out, "ccert_subject", tls && tls->peer_cert &&
	    tls->chain_ok ? tls->peer_cn : "");
	ck_attr(out, "ccert_issuer", tls && tls->peer_cert &&
	    tls->chain_ok ? tls->issuer_cn : "");
	ck_attr(out, "ccert_fingerprint", tls && tls->peer_cert ?
	    tls->peer_fpt : "");
	ck_attr(out, "ccert_pubkey_fingerprint", tls && tls->peer_cert ?
	    tls->peer_pkey_fpt : "");
	ck_attr(out, "encryption_protocol", tls ? tls->protocol : "");
	ck_attr(out, "encryption_cipher", tls ? tls->cipher : "");
	snprintf(num, sizeof(num), "%d", tls ? tls->bits : 0);
	ck_attr(out, "encryption_keysize", num);
	ck_attr(out, "etrn_domain", "");
	ck_attr(out, "stress", "");
	ck_attr(out, "client_port", st->client_port);
	ck_attr(out, "policy_context", context);
	ck_attr(out, "server_address", st->server_addr);
	ck_attr(out, "server_port", st->server_port);
	buf_putc(out, '\n');
}

/*
 * ck_policy_parse - a complete answer: "name=value" lines ending with an
 * empty line and nothing after it.  Fills action; unknown attributes are
 * ignored.  Returns 0, or -1 with a reason.
 */
int
ck_policy_parse(const char *p, size_t len, struct buf *action,
    struct buf *why)
{
	size_t off = 0, lines = 0;
	int have = 0;

	buf_reset(action);
	for (;;) {
		const char *line = p + off, *nl, *eq;
		size_t ll;

		if (off >= len) {
			buf_sets(why, "answer does not end with an empty line");
			return -1;
		}
		nl = memchr(line, '\n', len - off);
		if (nl == NULL) {
			buf_sets(why, "answer does not end with an empty line");
			return -1;
		}
		ll = (size_t)(nl - line);
		off += ll + 1;
		if (ll > 0 && line[ll - 1] == '\r')
			ll--;
		if (ll > POLICY_LINE_MAX) {
			buf_sets(why, "answer line too long");
			return -1;
		}
		if (ll == 0)
			break;
		if (++lines > POLICY_LINES_MAX) {
			buf_sets(why, "too many lines in answer");
			return -1;
		}
		if (memchr(line, 0, ll)) {
			buf_sets(why, "NUL byte in answer");
			return -1;
		}
		eq = memchr(line, '=', ll);
		if (eq == NULL || eq == line) {
			buf_sets(why, "malformed answer line (no name=value)");
			return -1;
		}
		if ((size_t)(eq - line) == 6 && memcmp(line, "action", 6) ==
		    0) {
			size_t vl = ll - 7;

			if (have) {
				buf_sets(why, "more than one action in answer");
				return -1;
			}
			if (vl > CK_REPLY_MAX) {
				buf_sets(why, "action too long");
				return -1;
			}
			buf_set(action, eq + 1, vl);
			have = 1;
		}
	}
	if (off != len) {
		buf_sets(why, "data after the end of the answer");
		return -1;
	}
	if (!have) {
		buf_sets(why, "answer has no action");
		return -1;
	}
	if (str_trim(action->p)[0] == 0) {
		buf_sets(why, "answer has an empty action");
		return -1;
	}
	return 0;
}

/* ck_policy_connect - open the connection; -1 with a reason */
static int
ck_policy_connect(struct ck_policy *p, struct buf *why)
{
	int fd;

	if ((fd = sock_endpoint_connect(p->kind, p->addr, (int)p->timeout,
	    why)) < 0)
		return -1;
	p->s = stream_open(fd, (int)p->timeout);
	p->opened = time_mono_ms();
	p->requests = 0;
	return 0;
}

/* ck_policy_disconnect - forget the connection */
static void
ck_policy_disconnect(struct ck_policy *p)
{
	if (p->s)
		stream_close(p->s);
	p->s = NULL;
}

/*
 * ck_policy_exchange - send the request and read the answer (through
 * the empty line) into answer, over the cached connection or a new one.
 */
static int
ck_policy_exchange(struct ck_policy *p, const struct buf *req,
    struct buf *answer, struct buf *why)
{
	struct buf line = BUF_INIT;
	long attempt;
	int ok = 0;

	for (attempt = 1; attempt <= p->try_limit && !ok; attempt++) {
		int64_t now = time_mono_ms();
		int lines = 0, toolong;

		buf_reset(why);
		if (p->s && (now - p->used > p->max_idle * 1000 ||
		    now - p->opened > p->max_ttl * 1000 ||
		    (p->request_limit > 0 && p->requests >=
		    p->request_limit)))
			ck_policy_disconnect(p);
		if (p->s == NULL && ck_policy_connect(p, why) < 0)
			goto retry;
		stream_write(p->s, req->p, req->len);
		if (stream_flush(p->s) < 0) {
			buf_printf(why, "write: %s", stream_strerror(p->s));
			goto fail;
		}
		buf_reset(answer);
		for (;;) {
			if (stream_gets(p->s, &line, POLICY_LINE_MAX + 2,
			    &toolong) < 0) {
				buf_printf(why, "read: %s", stream_error(p->s) ?
				    stream_strerror(p->s) :
				    "connection closed");
				goto fail;
			}
			if (toolong || ++lines > POLICY_LINES_MAX + 1) {
				buf_sets(why, "answer too long");
				goto fail;
			}
			buf_put(answer, line.p, line.len);
			buf_putc(answer, '\n');
			if (line.len == 0 || (line.len == 1 &&
			    line.p[0] == '\r'))
				break;
		}
		p->requests++;
		p->used = time_mono_ms();
		ok = 1;
		break;
fail:
		ck_policy_disconnect(p);
retry:
		log_warn("problem talking to server %s: %s", p->spec,
		    buf_str(why));
		if (attempt < p->try_limit && p->retry_delay > 0)
			sleep((unsigned)p->retry_delay);
	}
	buf_free(&line);
	return ok ? 0 : -1;
}

/*
 * ck_policy_check - ask the policy server about this request and carry
 * out its action (for the thing called name of the given class).  When
 * the server fails or answers badly, the default action applies.
 */
int
ck_policy_check(struct ck_ctx *c, struct ck_policy *p, const char *name,
    const char *class)
{
	struct buf req = BUF_INIT, answer = BUF_INIT, action = BUF_INIT;
	struct buf why = BUF_INIT;
	int status;

	if (p == NULL)
		return ck_server_error(c, NULL);
	ck_policy_encode(c, p->context, &req);
	if (ck_policy_hook(p, &req, &answer, &why) < 0 ||
	    ck_policy_parse(answer.p ? answer.p : "", answer.len, &action,
	    &why) < 0) {
		if (answer.len)
			log_warn("policy server %s: %s", p->spec,
			    buf_str(&why));
		buf_sets(&action, p->default_action);
	}
	status = ck_table_result(c, p->spec, str_trim(action.p), p->spec,
	    name, class);
	buf_free(&req);
	buf_free(&answer);
	buf_free(&action);
	buf_free(&why);
	return status;
}
