/*
 * NAME		deliver - the queue manager's delivery request protocol
 * DESCRIPTION	Request attributes (doc/ipc.md): queue_name, queue_id,
 *		data_offset, data_size, nexthop, sender, envid, ret, flags,
 *		arrival, active, dispatch (epoch microseconds), and parallel
 *		lists rcpt, orcpt, notify, offset.  Reply: parallel lists
 *		status, dsn, reason, relay, one element per recipient.
 * SECURITY	Agents check every list for equal length, bounded counts
 *		and sane numbers; a queue ID must be valid before it becomes a
 *		path.
 */
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include "util/log.h"
#include "util/mem.h"
#include "util/strutil.h"
#include "deliver.h"
#include "ipc.h"
#include "qid.h"
#include "queue.h"

/* time_epoch_us - wall clock in microseconds */
int64_t
time_epoch_us(void)
{
	struct timeval tv;

	gettimeofday(&tv, NULL);
	return (int64_t)tv.tv_sec * 1000000 + tv.tv_usec;
}

/* deliver_req_encode - build the request frame */
void
deliver_req_encode(const struct deliver_req *r, struct buf *f)
{
	size_t i;
	char num[32];

	ipc_begin(f);
	ipc_put_str(f, "queue_name", r->queue_name);
	ipc_put_str(f, "queue_id", r->queue_id);
	ipc_put_int(f, "data_offset", r->data_offset);
	ipc_put_int(f, "data_size", r->data_size);
	ipc_put_str(f, "nexthop", r->nexthop);
	ipc_put_str(f, "sender", r->sender);
	ipc_put_str(f, "envid", r->envid ? r->envid : "");
	ipc_put_int(f, "ret", r->ret);
	ipc_put_int(f, "flags", r->flags);
	ipc_put_int(f, "arrival", r->arrival_us);
	ipc_put_int(f, "active", r->active_us);
	ipc_put_int(f, "dispatch", r->dispatch_us);
	for (i = 0; i < r->nrcpt; i++) {
		ipc_put_str(f, "rcpt", r->rcpts[i].addr);
		ipc_put_str(f, "orcpt", r->rcpts[i].orig ? r->rcpts[i].orig :
		    "");
		snprintf(num, sizeof(num), "%d", r->rcpts[i].notify);
		ipc_put_str(f, "notify", num);
		snprintf(num, sizeof(num), "%ld", r->rcpts[i].offset);
		ipc_put_str(f, "offset", num);
	}
	ipc_end(f);
}

/* deliver_req_free - release a decoded request */
void
deliver_req_free(struct deliver_req *r)
{
	size_t i;

	free(r->queue_name);
	free(r->queue_id);
	free(r->nexthop);
	free(r->sender);
	free(r->envid);
	for (i = 0; i < r->nrcpt; i++) {
		free(r->rcpts[i].addr);
		free(r->rcpts[i].orig);
	}
	free(r->rcpts);
	memset(r, 0, sizeof(*r));
}

/* deliver_req_decode - strict decode of a request frame body */
int
deliver_req_decode(const char *body, size_t len, struct deliver_req *r,
    struct buf *why)
{
	struct buf qname = BUF_INIT, qid = BUF_INIT, nexthop = BUF_INIT;
	struct buf sender = BUF_INIT, envid = BUF_INIT;
	struct argv rcpt, orcpt, notify, offset;
	int64_t data_offset, data_size, ret, flags, arrival, active, dispatch;
	struct ipc_want want[] = {
		IPC_WANT_STR("queue_name", &qname, 32),
		IPC_WANT_STR("queue_id", &qid, QID_MAX),
		IPC_WANT_INT("data_offset", &data_offset),
		IPC_WANT_INT("data_size", &data_size),
		IPC_WANT_STR("nexthop", &nexthop, 1024),
		IPC_WANT_STR("sender", &sender, 4096),
		IPC_WANT_STR("envid", &envid, 1024),
		IPC_WANT_INT("ret", &ret),
		IPC_WANT_INT("flags", &flags),
		IPC_WANT_INT("arrival", &arrival),
		IPC_WANT_INT("active", &active),
		IPC_WANT_INT("dispatch", &dispatch),
		IPC_WANT_LIST("rcpt", &rcpt, 4096, DELIVER_RCPT_MAX),
		IPC_WANT_LIST("orcpt", &orcpt, 4096, DELIVER_RCPT_MAX),
		IPC_WANT_LIST("notify", &notify, 8, DELIVER_RCPT_MAX),
		IPC_WANT_LIST("offset", &offset, 24, DELIVER_RCPT_MAX),
		IPC_WANT_END
	};
	int rc = -1;
	size_t i;

	memset(r, 0, sizeof(*r));
	r->client_fd = -1;
	argv_init(&rcpt);
	argv_init(&orcpt);
	argv_init(&notify);
	argv_init(&offset);
	if (ipc_scan(body, len, want, why) < 0)
		goto out;
	if (!queue_name_valid(buf_str(&qname)) ||
	    !qid_valid(qid.p, qid.len)) {
		buf_sets(why, "bad queue name or queue ID");
		goto out;
	}
	if (rcpt.n == 0 || orcpt.n != rcpt.n || notify.n != rcpt.n ||
	    offset.n != rcpt.n) {
		buf_sets(why, "bad recipient lists");
		goto out;
	}
	if (data_offset < 0 || data_size < 0) {
		buf_sets(why, "bad data offset or size");
		goto out;
	}
	r->rcpts = xcalloc(rcpt.n, sizeof(*r->rcpts));
	for (i = 0; i < rcpt.n; i++) {
		long n, o;

		if (parse_long(notify.v[i], &n) < 0 || n < 0 || n > 15 ||
		    parse_long(offset.v[i], &o) < 0 || o < 0 ||
		    rcpt.v[i][0] == 0) {
			buf_sets(why, "bad recipient attributes");
			r->nrcpt = i;
			deliver_req_free(r);
			goto out;
		}
		r->rcpts[i].addr = xstrdup(rcpt.v[i]);
		r->rcpts[i].orig = xstrdup(orcpt.v[i]);
		r->rcpts[i].notify = (int)n;
		r->rcpts[i].offset = o;
	}
	r->nrcpt = rcpt.n;
	r->queue_name = buf_steal(&qname);
	r->queue_id = buf_steal(&qid);
	r->nexthop = buf_steal(&nexthop);
	r->sender = buf_steal(&sender);
	r->envid = buf_steal(&envid);
	r->data_offset = data_offset;
	r->data_size = data_size;
	r->ret = (int)ret;
	r->flags = (int)flags;
	r->arrival_us = arrival;
	r->active_us = active;
	r->dispatch_us = dispatch;
	r->start_us = time_epoch_us();
	rc = 0;
out:
	buf_free(&qname);
	buf_free(&qid);
	buf_free(&nexthop);
	buf_free(&sender);
	buf_free(&envid);
	argv_clear(&rcpt);
	argv_clear(&orcpt);
	argv_clear(&notify);
	argv_clear(&offset);
	return rc;
}

/* deliver_req_read - agent side: say hello and read one request */
int
deliver_req_read(struct stream *s, struct deliver_req *r, struct buf *why)
{
	struct buf f = BUF_INIT;
	int rc;

	ipc_hello(&f, DELIVER_PROTO, 1);
	if (ipc_send(s, &f) < 0) {
		buf_printf(why, "write: %s", stream_strerror(s));
		buf_free(&f);
		return -1;
	}
	if ((rc = ipc_read(s, &f, IPC_FRAME_MAX)) < 0) {
		buf_printf(why, "read request: %s", rc == -2 ?
		    "request too long" : stream_strerror(s));
		buf_free(&f);
		return -1;
	}
	rc = deliver_req_decode(f.p, f.len, r, why);
	if (rc == 0)
		r->client_fd = s->fd;
	buf_free(&f);
	return rc;
}

/*
 * deliver_client_gone - has the requester (qmgr) hung up?  A delivery
 * agent asks just before the point of no return (the final dot of SMTP
 * DATA, say): a requester that is gone cannot record the delivery, so
 * the message would be delivered again by its successor.  Abandoning it
 * there keeps a killed qmgr from causing duplicates.
 */
int
deliver_client_gone(const struct deliver_req *r)
{
	struct pollfd pfd;

	if (r->client_fd < 0)
		return 0;
	pfd.fd = r->client_fd;
	pfd.events = POLLRDHUP;
	pfd.revents = 0;
	if (poll(&pfd, 1, 0) <= 0)
		return 0;
	return (pfd.revents & (POLLRDHUP | POLLHUP | POLLERR)) != 0;
}

/* deliver_results_new - one result per recipient, all "deferred" */
struct deliver_result *
deliver_results_new(size_t n)
{
	struct deliver_result *res = xcalloc(n ? n : 1, sizeof(*res));
	size_t i;

	for (i = 0; i < n; i++) {
		res[i].status = DEL_STAT_DEFER;
		strcpy(res[i].dsn, "4.3.0");
		strcpy(res[i].action, "delivered");
		buf_init(&res[i].reason);
		buf_init(&res[i].relay);
		buf_sets(&res[i].reason, "delivery not attempted");
	}
	return res;
}

/* deliver_results_free - release results */
void
deliver_results_free(struct deliver_result *res, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		buf_free(&res[i].reason);
		buf_free(&res[i].relay);
	}
	free(res);
}

/* deliver_result_set - record one recipient's outcome */
void
deliver_result_set(struct deliver_result *r, int status, const char *dsn,
    const char *fmt, ...)
{
	va_list ap;

	r->status = status;
	strlcpy_trunc(r->dsn, dsn, sizeof(r->dsn));
	buf_reset(&r->reason);
	va_start(ap, fmt);
	buf_vprintf(&r->reason, fmt, ap);
	va_end(ap);
}

/* deliver_reply_send - agent side: send all results */
int
deliver_reply_send(struct stream *s, const struct deliver_result *res,
    size_t n)
{
	struct buf f = BUF_INIT;
	char num[8];
	size_t i;
	int rc;

	ipc_begin(&f);
	for (i = 0; i < n; i++) {
		snprintf(num, sizeof(num), "%d", res[i].status);
		ipc_put_str(&f, "status", num);
		ipc_put_str(&f, "dsn", res[i].dsn);
		ipc_put_strn(&f, "reason", res[i].reason.p ? res[i].reason.p :
		    "", res[i].reason.len > 4000 ? 4000 : res[i].reason.len);
		ipc_put_str(&f, "relay", res[i].relay.p ? res[i].relay.p : "");
		ipc_put_str(&f, "hop", res[i].hop_failed ? "1" : "0");
		ipc_put_str(&f, "action", res[i].action);
	}
	ipc_end(&f);
	rc = ipc_send(s, &f);
	buf_free(&f);
	return rc;
}

/* deliver_dsn_valid - "X.Y.Z" with X in 2, 4, 5 */
static int
deliver_dsn_valid(const char *d)
{
	int a, b, c, n = 0;

	if (sscanf(d, "%1d.%3d.%3d%n", &a, &b, &c, &n) != 3 ||
	    d[n] != 0)
		return 0;
	return a == 2 || a == 4 || a == 5;
}

/* deliver_reply_decode - qmgr side: results for n recipients */
int
deliver_reply_decode(const char *body, size_t len,
    struct deliver_result *res, size_t n, struct buf *why)
{
	struct argv status, dsn, reason, relay, hop, action;
	struct ipc_want want[] = {
		IPC_WANT_LIST("status", &status, 4, DELIVER_RCPT_MAX),
		IPC_WANT_LIST("dsn", &dsn, 15, DELIVER_RCPT_MAX),
		IPC_WANT_LIST("reason", &reason, 4096, DELIVER_RCPT_MAX),
		IPC_WANT_LIST("relay", &relay, 1024, DELIVER_RCPT_MAX),
		IPC_WANT_LIST("hop", &hop, 1, DELIVER_RCPT_MAX),
		IPC_WANT_LIST("action", &action, 15, DELIVER_RCPT_MAX),
		IPC_WANT_END
	};
	size_t i;
	int rc = -1;

	argv_init(&status);
	argv_init(&dsn);
	argv_init(&reason);
	argv_init(&relay);
	argv_init(&hop);
	argv_init(&action);
	if (ipc_scan(body, len, want, why) < 0)
		goto out;
	if (status.n != n || dsn.n != n || reason.n != n || relay.n != n ||
	    (hop.n && hop.n != n) || (action.n && action.n != n)) {
		buf_sets(why, "reply does not match the request");
		goto out;
	}
	for (i = 0; i < n; i++) {
		long st;

		if (parse_long(status.v[i], &st) < 0 || st < 0 || st > 2 ||
		    !deliver_dsn_valid(dsn.v[i])) {
			buf_sets(why, "bad status in reply");
			goto out;
		}
		/* The class digit must agree with the status. */
		if ((st == DEL_STAT_OK && dsn.v[i][0] != '2') ||
		    (st == DEL_STAT_DEFER && dsn.v[i][0] == '2') ||
		    (st == DEL_STAT_BOUNCE && dsn.v[i][0] == '2')) {
			buf_sets(why, "status and DSN code disagree");
			goto out;
		}
		res[i].status = (int)st;
		strlcpy_trunc(res[i].dsn, dsn.v[i], sizeof(res[i].dsn));
		buf_sets(&res[i].reason, reason.v[i]);
		buf_sets(&res[i].relay, relay.v[i]);
		res[i].hop_failed = hop.n && strcmp(hop.v[i], "1") == 0;
		if (action.n) {
			if (*action.v[i] && strcmp(action.v[i], "delivered") &&
			    strcmp(action.v[i], "relayed") &&
			    strcmp(action.v[i], "expanded")) {
				buf_sets(why, "bad action in reply");
				goto out;
			}
			strlcpy_trunc(res[i].action, action.v[i],
			    sizeof(res[i].action));
		}
	}
	rc = 0;
out:
	argv_clear(&status);
	argv_clear(&dsn);
	argv_clear(&reason);
	argv_clear(&relay);
	argv_clear(&hop);
	argv_clear(&action);
	return rc;
}

/* format_delay - Postfix-style short number: 0, 0.02, 1.5, 12, 340 */
void
format_delay(struct buf *b, double v)
{
	char tmp[32];
	size_t n;

	if (v < 0.005) {
		buf_puts(b, "0");
		return;
	}
	if (v >= 10) {
		buf_printf(b, "%.0f", v);
		return;
	}
	snprintf(tmp, sizeof(tmp), v < 1 ? "%.2f" : "%.1f", v);
	n = strlen(tmp);
	while (n > 1 && tmp[n - 1] == '0')
		tmp[--n] = 0;
	if (n > 1 && tmp[n - 1] == '.')
		tmp[--n] = 0;
	buf_puts(b, tmp);
}

/*
 * deliver_log - the delivery log line for recipient i.  conn_us and
 * done_us are the epoch times when the agent had set up its connection
 * (or started delivery) and when it finished.
 */
void
deliver_log(const struct deliver_req *r, size_t i, const char *relay,
    int64_t conn_us, int64_t done_us, const char *dsn, const char *status,
    const char *reason)
{
	struct buf line = BUF_INIT;
	const struct deliver_rcpt *rc = &r->rcpts[i];
	double a, b, c, d, total;

	a = (r->active_us - r->arrival_us) / 1e6;
	b = (r->start_us - r->active_us) / 1e6;
	c = (conn_us - r->start_us) / 1e6;
	d = (done_us - conn_us) / 1e6;
	total = (done_us - r->arrival_us) / 1e6;
	buf_printf(&line, "%s: to=<%s>", r->queue_id, rc->addr);
	if (rc->orig && *rc->orig && strcasecmp(rc->orig, rc->addr) != 0)
		buf_printf(&line, ", orig_to=<%s>", rc->orig);
	buf_printf(&line, ", relay=%s, delay=", relay);
	format_delay(&line, total);
	buf_puts(&line, ", delays=");
	format_delay(&line, a);
	buf_putc(&line, '/');
	format_delay(&line, b);
	buf_putc(&line, '/');
	format_delay(&line, c);
	buf_putc(&line, '/');
	format_delay(&line, d);
	buf_printf(&line, ", dsn=%s, status=%s (%s)", dsn, status, reason);
	log_info("%s", buf_str(&line));
	buf_free(&line);
}

/*
 * deliver_serve - one request from qmgr on s: read it, deliver it with
 * fn, send the results back.  A malformed request is logged and dropped.
 */
void
deliver_serve(struct stream *s, deliver_fn fn)
{
	struct deliver_req req;
	struct deliver_result *res;
	struct buf why = BUF_INIT;

	if (deliver_req_read(s, &req, &why) < 0) {
		log_warn("bad delivery request: %s", buf_str(&why));
		buf_free(&why);
		return;
	}
	res = deliver_results_new(req.nrcpt);
	fn(&req, res);
	if (deliver_reply_send(s, res, req.nrcpt) < 0)
		log_warn("%s: cannot send delivery status: %s", req.queue_id,
		    stream_strerror(s));
	deliver_results_free(res, req.nrcpt);
	deliver_req_free(&req);
	buf_free(&why);
}
