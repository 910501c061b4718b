/*
 * NAME		state - cleanup protocol and record dispatch
 * DESCRIPTION	A client's first frame names the source, flags and
 *		optionally the queue ID to keep (pickup), the submitting uid
 *		and attributes.  cleanup creates the queue file and answers at
 *		once with the queue ID.  Then records arrive: envelope (T A S
 *		O N R), M, content (L P), X, extracted recipients (O N R), E.
 *		Each record is checked against the phase it may appear in.
 *		After E the message waits for the next group commit; the
 *		final status goes back to the client and the connection
 *		closes.  An error stops writing but input is consumed to the
 *		end record, so the client always gets a clear final status.
 * SECURITY	No client is trusted: records are length-bounded, types are
 *		checked per phase, attributes are filtered.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mail/cleanup_clnt.h"
#include "mail/ipc.h"
#include "mail/mail_conf.h"
#include "mail/rec.h"
#include "server/server.h"
#include "util/events.h"
#include "util/files.h"
#include "util/log.h"
#include "util/mem.h"
#include "util/strutil.h"
#include "cleanup.h"

/* cleanup_fail - record an error; stop writing the queue file */
void
cleanup_fail(struct cleanup_state *st, int status, const char *fmt, ...)
{
	va_list ap;

	if (st->status == CLEANUP_STAT_OK) {
		buf_reset(&st->reason);
		va_start(ap, fmt);
		buf_vprintf(&st->reason, fmt, ap);
		va_end(ap);
	}
	st->status |= status;
	cleanup_discard_file(st);
}

/* cleanup_flush - write buffered records; 0 or -1 */
int
cleanup_flush(struct cleanup_state *st)
{
	if (st->fd < 0 || st->out.len == 0)
		return 0;
	if (write_all(st->fd, st->out.p, st->out.len) < 0) {
		log_warn("%s: write queue file: %m", st->id);
		buf_reset(&st->out);
		cleanup_fail(st, CLEANUP_STAT_WRITE, "error writing queue "
		    "file: %s", strerror(errno));
		return -1;
	}
	buf_reset(&st->out);
	return 0;
}

/* cleanup_out - append a record to the queue file */
void
cleanup_out(struct cleanup_state *st, int type, const void *p, size_t len)
{
	size_t before;

	if (st->fd < 0)
		return;
	before = st->out.len;
	rec_put(&st->out, type, p, len);
	st->file_pos += (long)(st->out.len - before);
	if (st->out.len >= 65536)
		(void)cleanup_flush(st);
}

/* cleanup_outs - append a record with a string payload */
void
cleanup_outs(struct cleanup_state *st, int type, const char *s)
{
	cleanup_out(st, type, s, strlen(s));
}

/* cleanup_reply - send a status frame */
static void
cleanup_reply(struct cleanup_state *st)
{
	struct buf f = BUF_INIT;

	ipc_begin(&f);
	ipc_put_int(&f, "status", st->status);
	ipc_put_str(&f, "queue_id", st->id);
	ipc_put_str(&f, "reason", st->status ? (st->reason.len ?
	    buf_str(&st->reason) : cleanup_stat_text(st->status)) : "");
	ipc_end(&f);
	srv_conn_write(st->conn, f.p, f.len);
	buf_free(&f);
}

/* cleanup_state_release - free a state */
static void
cleanup_state_release(struct cleanup_state *st)
{
	cleanup_discard_file(st);
	buf_free(&st->reason);
	buf_free(&st->path);
	buf_free(&st->out);
	buf_free(&st->orcpt);
	buf_free(&st->header);
	buf_free(&st->partial);
	argv_clear(&st->xrcpt);
	argv_clear(&st->xresent);
	argv_clear(&st->pending_attrs);
	htable_free(st->dups, NULL);
	free(st->sender);
	free(st->full_name);
	free(st->rewrite_context);
	free(st->message_id);
	free(st);
}

/* cleanup_state_free - the connection closed */
static void
cleanup_state_free(struct srv_conn *c)
{
	struct cleanup_state *st = c->ctx;

	if (st->phase == CL_PHASE_COMMIT) {
		/* Still on the commit list: commit.c finishes it. */
		st->conn = NULL;
		return;
	}
	cleanup_state_release(st);
}

/* cleanup_request - the first frame */
static int
cleanup_request(struct cleanup_state *st, const char *body, size_t len)
{
	struct buf source = BUF_INIT, qid = BUF_INIT, why = BUF_INIT;
	struct argv attrs;
	int64_t flags = 0, uid = -1;
	struct ipc_want want[] = {
		IPC_WANT_STR("source", &source, sizeof(st->source) - 1),
		IPC_WANT_INT("flags", &flags),
		IPC_WANT_OSTR("queue_id", &qid, QID_MAX - 1),
		IPC_WANT_OINT("uid", &uid),
		IPC_WANT_LIST("attr", &attrs, 4096, 100),
		IPC_WANT_END
	};
	size_t i;
	int r = -1;

	argv_init(&attrs);
	if (ipc_scan(body, len, want, &why) < 0) {
		log_warn("bad request: %s", buf_str(&why));
		goto out;
	}
	if ((flags & ~CLEANUP_FLAG_MASK) || source.len == 0 ||
	    strspn(source.p, "abcdefghijklmnopqrstuvwxyz-") != source.len) {
		log_warn("bad request: flags or source");
		goto out;
	}
	strcpy(st->source, source.p);
	st->flags = (int)flags;
	st->uid = uid;
	if (qid.len) {
		if (!qid_valid(qid.p, qid.len)) {
			log_warn("bad request: queue ID");
			goto out;
		}
		strcpy(st->id, qid.p);
		st->pickup_id = 1;
	}
	for (i = 0; i < attrs.n; i++)
		cleanup_envelope(st, 'A', attrs.v[i], strlen(attrs.v[i]));
	r = 0;
out:
	buf_free(&source);
	buf_free(&qid);
	buf_free(&why);
	argv_clear(&attrs);
	return r;
}

/* cleanup_record - dispatch one record by phase */
static int
cleanup_record(struct cleanup_state *st, int type, const char *p,
    size_t len)
{
	switch (st->phase) {
	case CL_PHASE_ENVELOPE:
		switch (type) {
		case REC_TIME:
		case REC_ATTR:
		case REC_FROM:
		case REC_ORCP:
		case REC_NOTIFY:
		case REC_RCPT:
			cleanup_envelope(st, type, p, len);
			return 0;
		case REC_MESG:
			cleanup_content_start(st);
			st->phase = CL_PHASE_HEADERS;
			return 0;
		}
		break;
	case CL_PHASE_HEADERS:
	case CL_PHASE_BODY:
		switch (type) {
		case REC_NORM:
		case REC_CONT:
			cleanup_content(st, type, p, len);
			return 0;
		case REC_XTRA:
			cleanup_content_end(st);
			st->phase = CL_PHASE_EXTRACTED;
			return 0;
		}
		break;
	case CL_PHASE_EXTRACTED:
		switch (type) {
		case REC_ORCP:
		case REC_NOTIFY:
		case REC_RCPT:
		case REC_ATTR:
			cleanup_envelope(st, type, p, len);
			return 0;
		case REC_END:
			cleanup_end_message(st);
			return 0;
		}
		break;
	}
	return -1;
}

/* cleanup_input - parse whatever complete input there is */
static void
cleanup_input(struct srv_conn *c)
{
	struct cleanup_state *st = c->ctx;
	size_t off = 0;

	if (st->phase == CL_PHASE_REQUEST) {
		long flen = ipc_frame_len(c->in.p, c->in.len, 1024 * 1024);

		if (flen == 0) {
			if (c->eof)
				srv_conn_close(c);
			return;
		}
		if (flen < 0 || cleanup_request(st, c->in.p + IPC_HDR_LEN,
		    (size_t)flen - IPC_HDR_LEN) < 0) {
			st->status = CLEANUP_STAT_BAD;
			st->phase = CL_PHASE_DONE;
			cleanup_reply(st);
			srv_conn_close(c);
			return;
		}
		off = (size_t)flen;
		if (cleanup_open_file(st) < 0) {
			st->phase = CL_PHASE_DONE;
			cleanup_reply(st);
			srv_conn_close(c);
			return;
		}
		st->phase = CL_PHASE_ENVELOPE;
		cleanup_reply(st);
	}
	while (st->phase < CL_PHASE_COMMIT && off < c->in.len) {
		int type, used;
		const char *data;
		size_t len;

		used = rec_decode(c->in.p + off, c->in.len - off, REC_LEN_MAX,
		    &type, &data, &len);
		if (used == 0)
			break;
		if (used < 0 || cleanup_record(st, type, data, len) < 0) {
			log_warn("%s: %s record from %s client -- dropping",
			    st->id[0] ? st->id : "NOQUEUE", used < 0 ?
			    "malformed" : "unexpected", st->source);
			cleanup_fail(st, CLEANUP_STAT_BAD, "protocol error");
			st->phase = CL_PHASE_DONE;
			cleanup_reply(st);
			srv_conn_close(c);
			return;
		}
		off += (size_t)used;
	}
	buf_consume(&c->in, off);
	if (c->eof && st->phase < CL_PHASE_COMMIT) {
		if (st->phase > CL_PHASE_REQUEST)
			log_warn("%s: %s client went away before the end of "
			    "the message", st->id[0] ? st->id : "NOQUEUE",
			    st->source);
		cleanup_discard_file(st);
		st->phase = CL_PHASE_DONE;
		srv_conn_close(c);
	}
}

/* cleanup_reply_final - the message is safe (or failed): answer, close */
void
cleanup_reply_final(struct cleanup_state *st)
{
	st->phase = CL_PHASE_DONE;
	if (st->conn) {
		cleanup_reply(st);
		srv_conn_close(st->conn);
	} else {
		/* The client went away during the commit. */
		cleanup_state_release(st);
	}
}

/* cleanup_accept - a new client */
void
cleanup_accept(int fd)
{
	struct cleanup_state *st = xcalloc(1, sizeof(*st));
	struct buf hello = BUF_INIT;
	static int64_t last_check;
	const char *changed;

	/*
	 * At most once a second: when postmap replaced a table, serve this
	 * client and stop listening; master starts a process that opens the
	 * new table.
	 */
	if (!srv.exit_requested && time_due(&last_check, 1000) &&
	    (changed = cleanup_map_changed()) != NULL) {
		log_info("table %s has changed -- restarting", changed);
		srv.exit_requested = 1;
	}
	st->fd = -1;
	st->uid = -1;
	buf_init(&st->reason);
	buf_init(&st->path);
	buf_init(&st->out);
	buf_init(&st->orcpt);
	buf_init(&st->header);
	buf_init(&st->partial);
	argv_init(&st->xrcpt);
	argv_init(&st->xresent);
	argv_init(&st->pending_attrs);
	st->conn = srv_conn_new(fd, REC_LEN_MAX + 1024 * 1024,
	    (int)mail_cfg.ipc_timeout, cleanup_input, cleanup_state_free, st);
	ipc_hello(&hello, CLEANUP_PROTO, 1);
	srv_conn_write(st->conn, hello.p, hello.len);
	buf_free(&hello);
}
