/*
 * NAME		cleanup_clnt - submit a message to the cleanup service
 * DESCRIPTION	Records are buffered and written in large chunks.  The
 *		request frame carries source, flags and optionally queue_id,
 *		uid and "attr" name=value pairs; cleanup answers at once with
 *		status and queue_id, and again after the end record.
 * SEE ALSO	cleanup(8), doc/ipc.md
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/log.h"
#include "util/mem.h"
#include "util/sock.h"
#include "util/strutil.h"
#include "cleanup_clnt.h"
#include "ipc.h"
#include "mail_conf.h"
#include "rec.h"

/* cleanup_reply - read a status frame */
static int
cleanup_reply(struct stream *s, char *qid, struct buf *reason)
{
	struct buf f = BUF_INIT, id = BUF_INIT;
	int64_t status = CLEANUP_STAT_BAD;
	struct ipc_want want[] = {
		IPC_WANT_INT("status", &status),
		IPC_WANT_STR("queue_id", &id, QID_MAX - 1),
		IPC_WANT_STR("reason", reason, 1024),
		IPC_WANT_END
	};
	struct buf why = BUF_INIT;

	if (ipc_read(s, &f, 65536) < 0) {
		buf_sets(reason, "lost connection to cleanup service");
		status = CLEANUP_STAT_WRITE;
	} else if (ipc_scan(f.p, f.len, want, &why) < 0) {
		buf_printf(reason, "bad reply from cleanup service: %s",
		    buf_str(&why));
		status = CLEANUP_STAT_BAD;
	} else if (qid && id.len) {
		strlcpy_trunc(qid, id.p, QID_MAX);
	}
	buf_free(&f);
	buf_free(&id);
	buf_free(&why);
	return (int)status;
}

/*
 * cleanup_connect - connect to cleanup and build the request frame in f.
 * Returns a client, or NULL with a reason.
 */
static struct cleanup_clnt *
cleanup_connect(const struct cleanup_req *req, struct buf *f,
    struct buf *why)
{
	struct cleanup_clnt *c;
	size_t i;
	int fd;

	if ((fd = sock_unix_connect("public/cleanup",
	    (int)mail_cfg.ipc_timeout)) < 0) {
		buf_printf(why, "connect to public/cleanup: %s",
		    strerror(errno));
		return NULL;
	}
	c = xcalloc(1, sizeof(*c));
	c->s = stream_open(fd, (int)mail_cfg.ipc_timeout);
	buf_init(&c->recs);
	buf_init(&c->in);
	ipc_begin(f);
	ipc_put_str(f, "source", req->source);
	ipc_put_int(f, "flags", req->flags);
	if (req->queue_id)
		ipc_put_str(f, "queue_id", req->queue_id);
	if (req->uid >= 0)
		ipc_put_int(f, "uid", req->uid);
	for (i = 0; req->attrs && i < req->attrs->n; i++)
		ipc_put_str(f, "attr", req->attrs->v[i]);
	ipc_end(f);
	return c;
}

/*
 * cleanup_open - start a submission.  Returns a client, or NULL with
 * *status and a reason when the service cannot take the message.
 */
struct cleanup_clnt *
cleanup_open(const struct cleanup_req *req, int *status, struct buf *why)
{
	struct cleanup_clnt *c;
	struct buf f = BUF_INIT;

	*status = CLEANUP_STAT_WRITE;
	if ((c = cleanup_connect(req, &f, why)) == NULL)
		return NULL;
	/*
	 * The request goes out at once, without waiting for the server's
	 * hello: one round trip instead of two.  The server reads it after
	 * it has sent the hello.
	 */
	if (ipc_send(c->s, &f) < 0) {
		buf_sets(why, "lost connection to cleanup service");
		buf_free(&f);
		cleanup_abort(c);
		return NULL;
	}
	buf_free(&f);
	if (ipc_expect_hello(c->s, CLEANUP_PROTO, why) < 0) {
		cleanup_abort(c);
		return NULL;
	}
	*status = cleanup_reply(c->s, c->queue_id, why);
	if (*status != CLEANUP_STAT_OK) {
		cleanup_abort(c);
		return NULL;
	}
	return c;
}

/*
 * cleanup_open_pipelined - start a submission without waiting for the
 * server: connect and queue the request frame; records follow at once.
 * For a client that knows the queue ID already (pickup).  The replies
 * (hello, the opening status and the final status) are then read with
 * cleanup_pipelined_reply().  Returns NULL with a reason if the service
 * cannot be reached.
 */
struct cleanup_clnt *
cleanup_open_pipelined(const struct cleanup_req *req, struct buf *why)
{
	struct cleanup_clnt *c;
	struct buf f = BUF_INIT;

	if ((c = cleanup_connect(req, &f, why)) != NULL)
		buf_put(&c->recs, f.p, f.len);
	buf_free(&f);
	return c;
}

/* cleanup_pipelined_frame - check one status frame; -1 if malformed */
static int
cleanup_pipelined_frame(const char *body, size_t len, int *status,
    struct buf *reason)
{
	struct buf id = BUF_INIT, why = BUF_INIT;
	int64_t st = CLEANUP_STAT_BAD;
	struct ipc_want want[] = {
		IPC_WANT_INT("status", &st),
		IPC_WANT_STR("queue_id", &id, QID_MAX - 1),
		IPC_WANT_STR("reason", reason, 1024),
		IPC_WANT_END
	};
	int r = ipc_scan(body, len, want, &why);

	if (r < 0)
		buf_printf(reason, "bad reply from cleanup service: %s",
		    buf_str(&why));
	*status = r < 0 ? CLEANUP_STAT_BAD : (int)st;
	buf_free(&id);
	buf_free(&why);
	return r;
}

/*
 * cleanup_pipelined_reply - read what the server sent without blocking.
 * Returns 0 while the answer is incomplete, 1 when it is complete (the
 * CLEANUP_STAT_* result in *status, with a reason).  The caller calls it
 * when the socket is readable, and closes with cleanup_abort().
 */
int
cleanup_pipelined_reply(struct cleanup_clnt *c, int *status,
    struct buf *reason)
{
	ssize_t n;
	long flen;

	buf_reserve(&c->in, 4096);
	n = read(c->s->fd, c->in.p + c->in.len, c->in.cap - c->in.len - 1);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return 0;
	if (n <= 0) {
		buf_sets(reason, "lost connection to cleanup service");
		*status = CLEANUP_STAT_WRITE;
		return 1;
	}
	c->in.len += (size_t)n;
	while ((flen = ipc_frame_len(c->in.p, c->in.len, 65536)) != 0) {
		const char *body = c->in.p + IPC_HDR_LEN;
		size_t blen;

		if (flen < 0) {
			buf_sets(reason, "reply too long from cleanup service");
			*status = CLEANUP_STAT_BAD;
			return 1;
		}
		blen = (size_t)flen - IPC_HDR_LEN;
		switch (c->replies++) {
		case 0:		/* hello */
			break;
		case 1:		/* opening status */
			if (cleanup_pipelined_frame(body, blen, status,
			    reason) < 0 || *status != CLEANUP_STAT_OK)
				return 1;
			break;
		default:	/* final status */
			(void)cleanup_pipelined_frame(body, blen, status,
			    reason);
			return 1;
		}
		buf_consume(&c->in, (size_t)flen);
	}
	return 0;
}

/* cleanup_rec - send one record */
void
cleanup_rec(struct cleanup_clnt *c, int type, const void *p, size_t len)
{
	rec_put(&c->recs, type, p, len);
	if (c->recs.len >= 65536) {
		stream_write(c->s, c->recs.p, c->recs.len);
		buf_reset(&c->recs);
	}
}

/* cleanup_recs - send one record with a string payload */
void
cleanup_recs(struct cleanup_clnt *c, int type, const char *s)
{
	cleanup_rec(c, type, s, strlen(s));
}

/*
 * cleanup_finish - flush, wait for the final status and close.  The last
 * record sent must be the end record.  Returns CLEANUP_STAT_* bits.
 */
int
cleanup_finish(struct cleanup_clnt *c, struct buf *reason)
{
	int status;

	stream_write(c->s, c->recs.p, c->recs.len);
	buf_reset(&c->recs);
	if (stream_flush(c->s) < 0) {
		buf_sets(reason, "lost connection to cleanup service");
		status = CLEANUP_STAT_WRITE;
	} else {
		status = cleanup_reply(c->s, c->queue_id, reason);
	}
	cleanup_abort(c);
	return status;
}

/* cleanup_abort - close without queueing anything */
void
cleanup_abort(struct cleanup_clnt *c)
{
	if (c == NULL)
		return;
	stream_close(c->s);
	buf_free(&c->recs);
	buf_free(&c->in);
	free(c);
}

/* cleanup_stat_text - default text for a status */
const char *
cleanup_stat_text(int status)
{
	if (status & CLEANUP_STAT_BAD)
		return "internal protocol error";
	if (status & CLEANUP_STAT_WRITE)
		return "error writing message to queue file";
	if (status & CLEANUP_STAT_DEFER)
		return "service temporarily unavailable";
	if (status & CLEANUP_STAT_SIZE)
		return "message file too big";
	if (status & CLEANUP_STAT_HOPS)
		return "too many hops";
	if (status & CLEANUP_STAT_RCPT)
		return "no recipients specified";
	if (status & CLEANUP_STAT_CONT)
		return "message content rejected";
	return "success";
}

/* cleanup_stat_dsn - enhanced status code for a status */
const char *
cleanup_stat_dsn(int status)
{
	if (status & CLEANUP_STAT_TEMP)
		return "4.3.0";
	if (status & CLEANUP_STAT_SIZE)
		return "5.3.4";
	if (status & CLEANUP_STAT_HOPS)
		return "5.4.6";
	if (status & CLEANUP_STAT_RCPT)
		return "5.1.0";
	if (status & CLEANUP_STAT_CONT)
		return "5.7.1";
	return "2.0.0";
}

/* cleanup_stat_smtp - SMTP reply code for a status */
int
cleanup_stat_smtp(int status)
{
	if (status & CLEANUP_STAT_TEMP)
		return 451;
	if (status & CLEANUP_STAT_SIZE)
		return 552;
	if (status & (CLEANUP_STAT_HOPS | CLEANUP_STAT_RCPT |
	    CLEANUP_STAT_CONT))
		return 554;
	return 250;
}
