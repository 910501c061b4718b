/*
 * NAME		anvil_clnt - the anvil protocol and its client
 * DESCRIPTION	See anvil_clnt.h.  Frames (doc/ipc.md):
 *
 *		request: request=connect|disconnect|message|recipient|auth|
 *			 lookup, ident=service:address
 *		reply:	 status (0 or -1), then with status 0: count and rate
 *			 (connect), rate (message, recipient, auth), count,
 *			 rate, mail, rcpt and auth (lookup)
 *
 *		The socket is private/anvil relative to the working
 *		directory when that is the queue directory (a chrooted or
 *		queue-rooted daemon), else under queue_directory.  Each
 *		wait is bounded by ipc_timeout, at most ANVIL_CLNT_TIMEOUT
 *		seconds: a slow anvil must not stall an SMTP session.
 * SECURITY	Both parsers are strict (lib/mail/ipc): unknown requests,
 *		a missing or unexpected attribute, an ident that is empty,
 *		longer than ANVIL_IDENT_MAX or not printable, a negative
 *		count, and a reply that lacks what its request needs are
 *		refused.
 * SEE ALSO	anvil(8), smtpd/anvil.c, doc/anvil.md
 */
#include <string.h>
#include <sys/stat.h>

#include "util/log.h"
#include "util/mem.h"
#include "anvil_clnt.h"
#include "ipc.h"
#include "mail_conf.h"

#define ANVIL_CLNT_TIMEOUT	10	/* seconds, at most */

static const char *const anvil_names[ANVIL_REQ_COUNT] = {
	"connect", "disconnect", "message", "recipient", "auth", "lookup",
};

static struct stream *anvil_stream;
static char *anvil_path;

/* anvil_req_name - the protocol name of a request */
const char *
anvil_req_name(int req)
{
	return req >= 0 && req < ANVIL_REQ_COUNT ? anvil_names[req] :
	    "unknown";
}

/* anvil_ident_valid - non-empty, bounded, printable, no white space */
int
anvil_ident_valid(const char *p, size_t len)
{
	size_t i;

	if (len == 0 || len > ANVIL_IDENT_MAX)
		return 0;
	for (i = 0; i < len; i++)
		if ((unsigned char)p[i] <= ' ' || (unsigned char)p[i] >= 0x7f)
			return 0;
	return 1;
}

/* anvil_request_build - a request frame into frame */
void
anvil_request_build(struct buf *frame, int req, const char *ident)
{
	ipc_begin(frame);
	ipc_put_str(frame, "request", anvil_req_name(req));
	ipc_put_str(frame, "ident", ident);
	ipc_end(frame);
}

/*
 * anvil_request_parse - decode a request body: the ANVIL_REQ_* number and
 * the ident.  0, or -1 with a reason.
 */
int
anvil_request_parse(const char *body, size_t len, int *req,
    struct buf *ident, struct buf *why)
{
	struct buf name = BUF_INIT;
	struct ipc_want want[] = {
		IPC_WANT_STR("request", &name, 16),
		IPC_WANT_STR("ident", ident, ANVIL_IDENT_MAX),
		IPC_WANT_END
	};
	int i, ret = -1;

	buf_reset(why);
	buf_reset(ident);
	if (ipc_scan(body, len, want, why) < 0)
		goto out;
	for (i = 0; i < ANVIL_REQ_COUNT; i++)
		if (strcmp(buf_str(&name), anvil_names[i]) == 0)
			break;
	if (i == ANVIL_REQ_COUNT) {
		buf_printf(why, "unknown request \"%.16s\"", buf_str(&name));
		goto out;
	}
	if (!anvil_ident_valid(ident->p ? ident->p : "", ident->len)) {
		buf_sets(why, "bad ident");
		goto out;
	}
	*req = i;
	ret = 0;
out:
	buf_free(&name);
	return ret;
}

/* anvil_reply_build - the reply to request req; c may be NULL on FAIL */
void
anvil_reply_build(struct buf *frame, int req, int status,
    const struct anvil_counts *c)
{
	ipc_begin(frame);
	ipc_put_int(frame, "status", status);
	if (status == ANVIL_STAT_OK && c) {
		switch (req) {
		case ANVIL_REQ_CONNECT:
			ipc_put_int(frame, "count", c->count);
			ipc_put_int(frame, "rate", c->rate);
			break;
		case ANVIL_REQ_MESSAGE:
			ipc_put_int(frame, "rate", c->mail);
			break;
		case ANVIL_REQ_RECIPIENT:
			ipc_put_int(frame, "rate", c->rcpt);
			break;
		case ANVIL_REQ_AUTH:
			ipc_put_int(frame, "rate", c->auth);
			break;
		case ANVIL_REQ_LOOKUP:
			ipc_put_int(frame, "count", c->count);
			ipc_put_int(frame, "rate", c->rate);
			ipc_put_int(frame, "mail", c->mail);
			ipc_put_int(frame, "rcpt", c->rcpt);
			ipc_put_int(frame, "auth", c->auth);
			break;
		}
	}
	ipc_end(frame);
}

/*
 * anvil_reply_parse - decode the reply to request req.  A message,
 * recipient or auth reply's "rate" goes to c->mail, c->rcpt or c->auth.
 * 0, or -1 with a reason.
 */
int
anvil_reply_parse(const char *body, size_t len, int req, int *status,
    struct anvil_counts *c, struct buf *why)
{
	int64_t st = 1, v[5] = { -1, -1, -1, -1, -1 };
	struct ipc_want want[] = {
		IPC_WANT_INT("status", &st),
		IPC_WANT_OINT("count", &v[0]),
		IPC_WANT_OINT("rate", &v[1]),
		IPC_WANT_OINT("mail", &v[2]),
		IPC_WANT_OINT("rcpt", &v[3]),
		IPC_WANT_OINT("auth", &v[4]),
		IPC_WANT_END
	};
	/* The attributes each request's OK reply has, and no others. */
	static const int need[ANVIL_REQ_COUNT] = {
		[ANVIL_REQ_CONNECT] = 1 | 2,
		[ANVIL_REQ_DISCONNECT] = 0,
		[ANVIL_REQ_MESSAGE] = 2,
		[ANVIL_REQ_RECIPIENT] = 2,
		[ANVIL_REQ_AUTH] = 2,
		[ANVIL_REQ_LOOKUP] = 1 | 2 | 4 | 8 | 16,
	};
	int i, have = 0;

	buf_reset(why);
	memset(c, 0, sizeof(*c));
	if (req < 0 || req >= ANVIL_REQ_COUNT) {
		buf_sets(why, "unknown request");
		return -1;
	}
	if (ipc_scan(body, len, want, why) < 0)
		return -1;
	for (i = 0; i < 5; i++) {
		if (!want[i + 1].seen)
			continue;
		have |= 1 << i;
		if (v[i] < 0 || v[i] > 0x7fffffff) {
			buf_printf(why, "bad %s value", want[i + 1].name);
			return -1;
		}
	}
	if (st != ANVIL_STAT_OK && st != ANVIL_STAT_FAIL) {
		buf_printf(why, "unknown status %lld", (long long)st);
		return -1;
	}
	if ((st == ANVIL_STAT_OK && have != need[req]) ||
	    (st == ANVIL_STAT_FAIL && have != 0)) {
		buf_printf(why, "unexpected attributes in %s reply",
		    anvil_names[req]);
		return -1;
	}
	*status = (int)st;
	if (st != ANVIL_STAT_OK)
		return 0;
	c->count = have & 1 ? (long)v[0] : 0;
	if (req == ANVIL_REQ_MESSAGE)
		c->mail = (long)v[1];
	else if (req == ANVIL_REQ_RECIPIENT)
		c->rcpt = (long)v[1];
	else if (req == ANVIL_REQ_AUTH)
		c->auth = (long)v[1];
	else
		c->rate = have & 2 ? (long)v[1] : 0;
	if (req == ANVIL_REQ_LOOKUP) {
		c->mail = (long)v[2];
		c->rcpt = (long)v[3];
		c->auth = (long)v[4];
	}
	return 0;
}

/* anvil_clnt_path - where the socket is (see above) */
static const char *
anvil_clnt_path(void)
{
	struct stat here, queue;
	const char *qdir = mail_cfg.queue_directory;

	if (anvil_path != NULL)
		return anvil_path;
	if (qdir == NULL || *qdir != '/' || stat(".", &here) < 0 ||
	    stat(qdir, &queue) < 0 || (here.st_dev == queue.st_dev &&
	    here.st_ino == queue.st_ino))
		anvil_path = xstrdup(ANVIL_SERVICE);
	else
		anvil_path = xasprintf("%s/%s", qdir, ANVIL_SERVICE);
	return anvil_path;
}

/* anvil_clnt_close - drop the connection (anvil forgets its counts) */
void
anvil_clnt_close(void)
{
	if (anvil_stream)
		stream_close(anvil_stream);
	anvil_stream = NULL;
}

/* anvil_clnt_timeout - seconds for connect and each read and write */
static int
anvil_clnt_timeout(void)
{
	return mail_cfg.ipc_timeout > 0 && mail_cfg.ipc_timeout <
	    ANVIL_CLNT_TIMEOUT ? (int)mail_cfg.ipc_timeout :
	    ANVIL_CLNT_TIMEOUT;
}

/*
 * anvil_clnt_call - one request and its reply.  ANVIL_STAT_OK with the
 * counts, or ANVIL_STAT_FAIL with a reason (no answer, or anvil said
 * FAIL).
 */
int
anvil_clnt_call(int req, const char *service, const char *addr,
    struct anvil_counts *c, struct buf *why)
{
	struct buf frame = BUF_INIT, reply = BUF_INIT, err = BUF_INIT,
	    ident = BUF_INIT;
	int attempt, status = ANVIL_STAT_FAIL, answered = 0;

	memset(c, 0, sizeof(*c));
	buf_printf(&ident, "%s:%s", service, addr);
	if (!anvil_ident_valid(ident.p, ident.len)) {
		buf_printf(why, "bad client ident \"%.64s\"", buf_str(&ident));
		goto out;
	}
	anvil_request_build(&frame, req, buf_str(&ident));
	/* A kept connection that fails gets one more try on a new one. */
	for (attempt = 0; attempt < 2 && !answered; attempt++) {
		int reused = anvil_stream != NULL;

		buf_reset(&err);
		if (!reused && (anvil_stream = ipc_connect(anvil_clnt_path(),
		    ANVIL_PROTO, anvil_clnt_timeout(), &err)) == NULL)
			break;
		anvil_stream->timeout = anvil_clnt_timeout();
		if (ipc_call(anvil_stream, &frame, &reply, &err) == 0) {
			answered = 1;
			if (anvil_reply_parse(reply.p, reply.len, req, &status,
			    c, &err) < 0) {
				status = ANVIL_STAT_FAIL;
				buf_puts(&err, " (malformed reply)");
				anvil_clnt_close();
			} else if (status != ANVIL_STAT_OK) {
				buf_sets(&err, "request refused");
			}
			break;
		}
		anvil_clnt_close();
		if (!reused)
			break;
	}
	if (status != ANVIL_STAT_OK) {
		buf_reset(why);
		buf_printf(why, "%s %s: %s", answered ? "anvil" :
		    "no answer from anvil:", anvil_req_name(req),
		    buf_str(&err));
	}
out:
	buf_free(&frame);
	buf_free(&reply);
	buf_free(&err);
	buf_free(&ident);
	return status;
}

/* anvil_clnt_do - a call whose failure is logged (callers fail open) */
static int
anvil_clnt_do(int req, const char *service, const char *addr,
    struct anvil_counts *c)
{
	struct buf why = BUF_INIT;
	int st = anvil_clnt_call(req, service, addr, c, &why);

	if (st != ANVIL_STAT_OK)
		log_warn("%s", buf_str(&why));
	buf_free(&why);
	return st;
}

/* anvil_clnt_connect - a new connection: count and rate */
int
anvil_clnt_connect(const char *service, const char *addr, long *count,
    long *rate)
{
	struct anvil_counts c;
	int st = anvil_clnt_do(ANVIL_REQ_CONNECT, service, addr, &c);

	*count = c.count;
	*rate = c.rate;
	return st;
}

/* anvil_clnt_disconnect - a connection ended */
int
anvil_clnt_disconnect(const char *service, const char *addr)
{
	struct anvil_counts c;

	return anvil_clnt_do(ANVIL_REQ_DISCONNECT, service, addr, &c);
}

/* anvil_clnt_mail - a MAIL FROM: the message rate */
int
anvil_clnt_mail(const char *service, const char *addr, long *rate)
{
	struct anvil_counts c;
	int st = anvil_clnt_do(ANVIL_REQ_MESSAGE, service, addr, &c);

	*rate = c.mail;
	return st;
}

/* anvil_clnt_rcpt - a RCPT TO: the recipient rate */
int
anvil_clnt_rcpt(const char *service, const char *addr, long *rate)
{
	struct anvil_counts c;
	int st = anvil_clnt_do(ANVIL_REQ_RECIPIENT, service, addr, &c);

	*rate = c.rcpt;
	return st;
}

/* anvil_clnt_auth - an AUTH command: the AUTH rate */
int
anvil_clnt_auth(const char *service, const char *addr, long *rate)
{
	struct anvil_counts c;
	int st = anvil_clnt_do(ANVIL_REQ_AUTH, service, addr, &c);

	*rate = c.auth;
	return st;
}

/* anvil_clnt_lookup - everything anvil knows about a client */
int
anvil_clnt_lookup(const char *service, const char *addr,
    struct anvil_counts *c)
{
	return anvil_clnt_do(ANVIL_REQ_LOOKUP, service, addr, c);
}
