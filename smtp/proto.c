/*
 * NAME		proto - one mail transaction on an open session
 * DESCRIPTION	smtp_xfer() sends MAIL FROM, one RCPT TO per recipient
 *		that has no final result yet, DATA, the message and the
 *		final dot, and records a result per recipient.  When the
 *		server offers PIPELINING the commands go out together and
 *		the replies are read afterwards (in windows of
 *		SMTP_PIPE_WINDOW bytes, so neither side can block the other
 *		on a full socket buffer); otherwise each command waits for
 *		its reply.  MAIL FROM carries SIZE, BODY=8BITMIME, SMTPUTF8,
 *		RET and ENVID, and RCPT TO carries NOTIFY and ORCPT, each
 *		only when the server offers the extension.
 *
 *		A 2XX reply to RCPT accepts the recipient for the data; a
 *		4XX defers it (another host may still be tried), a 5XX
 *		bounces it.  A failure reply to MAIL FROM or DATA applies to
 *		every recipient of the transaction.  After the data an SMTP
 *		server gives one reply for all accepted recipients, an LMTP
 *		server one per accepted recipient, in order.  A message
 *		larger than the server's SIZE is bounced (5.3.4) without a
 *		transaction, as is a message that needs SMTPUTF8 when the
 *		server does not offer it (5.6.7).
 * SECURITY	The message is read from the queue file with the bounded
 *		record reader; addresses with control characters never get
 *		onto the wire (smtp_deliver() bounces them first).
 * SEE ALSO	session.c, deliver.c, doc/smtp.md
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mail/addr.h"
#include "mail/qfile.h"
#include "util/log.h"
#include "util/mem.h"
#include "util/strutil.h"
#include "smtp.h"

#define SMTP_PIPE_WINDOW	8192	/* command bytes before reading */

#define CMD_MAIL	0
#define CMD_RCPT	1
#define CMD_DATA	2
#define CMD_RSET	3		/* leads the group on a reused session */

/* The state of one transaction. */
struct smtp_tx {
	struct smtp_sess *ss;
	struct smtp_msg *msg;
	size_t	*rcpt;			/* its recipients */
	size_t	 nrcpt;
	int	*kind;			/* commands awaiting a reply */
	size_t	*arg;
	size_t	 head, tail;
	size_t	 window;		/* bytes sent, not yet read */
	int	 mail_failed;
	int	 rset_failed;		/* the reused session is not usable */
	int	 data_code;		/* reply to DATA, 0 if none */
	size_t	 naccepted;
	struct smtp_reply r;
	struct buf why;
	struct buf text;
	struct smtp_err err;		/* why the session broke */
};

/* smtp_log_relay - the relay field of a log line ("..., conn_use=N") */
static void
smtp_log_relay(const struct smtp_sess *ss, struct buf *out)
{
	buf_reset(out);
	if (ss == NULL) {
		buf_puts(out, "none");
		return;
	}
	buf_puts(out, ss->relay);
	if (ss->uses > 1)
		buf_printf(out, ", conn_use=%u", ss->uses);
}

/*
 * smtp_rcpt_final - a final result for recipient i (sent or bounced):
 * recorded and logged now.  ss is the session that produced it, or NULL.
 */
void
smtp_rcpt_final(struct smtp_msg *msg, size_t i, const struct smtp_sess *ss,
    int status, const char *dsn, const char *reason)
{
	struct deliver_result *res = &msg->res[i];
	struct buf relay = BUF_INIT;

	if (msg->state[i] != SMTP_R_TODO)
		return;
	deliver_result_set(res, status, dsn, "%s", reason);
	buf_sets(&res->relay, ss ? ss->relay : "none");
	res->hop_failed = 0;
	res->action[0] = 0;
	if (status == DEL_STAT_OK) {
		/*
		 * DSN success notices: an LMTP server delivers finally; a
		 * next hop without DSN can only be said to have relayed;
		 * one with DSN got NOTIFY and reports itself.
		 */
		if (smtp_cfg.lmtp)
			strlcpy_trunc(res->action, "delivered",
			    sizeof(res->action));
		else if (!(ss && (ss->features & SMTP_F_DSN)))
			strlcpy_trunc(res->action, "relayed",
			    sizeof(res->action));
	}
	msg->state[i] = SMTP_R_DONE;
	msg->todo--;
	smtp_log_relay(ss, &relay);
	deliver_log(msg->req, i, buf_str(&relay), msg->conn_us ?
	    msg->conn_us : msg->req->start_us, time_epoch_us(), dsn,
	    status == DEL_STAT_OK ? "sent" : "bounced", reason);
	buf_free(&relay);
}

/*
 * smtp_rcpt_soft - a result that another host (or the fallback relay)
 * may still change: deferred, or bounced for want of a better host.  It
 * is logged when the request ends (smtp_deliver()).
 */
void
smtp_rcpt_soft(struct smtp_msg *msg, size_t i, const char *relay,
    const struct smtp_err *e)
{
	struct deliver_result *res = &msg->res[i];

	if (msg->state[i] != SMTP_R_TODO)
		return;
	deliver_result_set(res, e->status, e->dsn, "%s", buf_str(
	    (struct buf *)&e->why));
	buf_sets(&res->relay, relay ? relay : "none");
	res->hop_failed = e->hop;
	res->action[0] = 0;
}

/*
 * smtp_msg_fail - a failure for every recipient still to do: final when
 * the error says so, else soft.
 */
void
smtp_msg_fail(struct smtp_msg *msg, const struct smtp_err *e,
    const struct smtp_sess *ss)
{
	size_t i;

	for (i = 0; i < msg->req->nrcpt; i++) {
		if (msg->state[i] != SMTP_R_TODO)
			continue;
		if (e->final)
			smtp_rcpt_final(msg, i, ss, e->status, e->dsn,
			    buf_str((struct buf *)&e->why));
		else
			smtp_rcpt_soft(msg, i, ss ? ss->relay : e->relay[0] ?
			    e->relay : NULL, e);
	}
}

/* smtp_said - "host X said: REPLY (in reply to CMD command)" */
static void
smtp_said(struct smtp_tx *tx, const char *cmd)
{
	buf_reset(&tx->text);
	buf_printf(&tx->text, "host %s said: ", tx->ss->namaddr);
	smtp_reply_show(&tx->r, &tx->text);
	buf_printf(&tx->text, " (in reply to %s command)", cmd);
}

/* smtp_reply_rcpt - apply a failure reply to recipient i */
static void
smtp_reply_rcpt(struct smtp_tx *tx, size_t i)
{
	struct smtp_err e;

	if (tx->r.code / 100 == 5) {
		smtp_rcpt_final(tx->msg, i, tx->ss, DEL_STAT_BOUNCE, tx->r.dsn,
		    buf_str(&tx->text));
		return;
	}
	memset(&e, 0, sizeof(e));
	e.status = DEL_STAT_DEFER;
	strlcpy_trunc(e.dsn, tx->r.dsn, sizeof(e.dsn));
	e.why = tx->text;
	smtp_rcpt_soft(tx->msg, i, tx->ss->relay, &e);
}

/* smtp_cmd_name - the name of a command in reasons */
static const char *
smtp_cmd_name(int kind)
{
	return kind == CMD_MAIL ? "MAIL FROM" : kind == CMD_RCPT ? "RCPT TO" :
	    kind == CMD_RSET ? "RSET" : "DATA";
}

/* smtp_cmd_timeout - the reply time limit of a command */
static long
smtp_cmd_timeout(int kind)
{
	return kind == CMD_MAIL ? smtp_cfg.mail_timeout : kind == CMD_RCPT ?
	    smtp_cfg.rcpt_timeout : kind == CMD_RSET ? smtp_cfg.rset_timeout :
	    smtp_cfg.data_init_timeout;
}

/* smtp_broken - note that the session broke during "what" */
static int
smtp_broken(struct smtp_tx *tx, int rc, const char *what)
{
	if (rc == SMTP_REPLY_BAD)
		smtp_err_set(&tx->err, DEL_STAT_DEFER, 0, "4.4.2", "host %s "
		    "sent a malformed reply (%s) while %s", tx->ss->namaddr,
		    buf_str(&tx->why), what);
	else
		smtp_sess_lost(tx->ss, what, &tx->err);
	tx->err.hop = 1;
	return -1;
}

/* smtp_handle - read and apply the reply to one command; 0 or -1 */
static int
smtp_handle(struct smtp_tx *tx, int kind, size_t i)
{
	static const char *const sending[] = {"sending MAIL FROM",
	    "sending RCPT TO", "sending DATA command", "sending RSET"};
	size_t k;
	int rc;

	tx->ss->s->timeout = (int)smtp_cmd_timeout(kind);
	rc = smtp_reply_read(tx->ss->s, &tx->r, &tx->why);
	if (kind == CMD_RSET) {
		/*
		 * A cached session that the server closed or no longer
		 * wants: nothing of this transaction counts, the caller
		 * drops the session quietly and connects afresh.
		 */
		if (rc != SMTP_REPLY_OK || tx->r.code / 100 != 2) {
			tx->rset_failed = 1;
			return -1;
		}
		return 0;
	}
	if (rc != SMTP_REPLY_OK)
		return smtp_broken(tx, rc, sending[kind]);
	switch (kind) {
	case CMD_MAIL:
		if (tx->r.code / 100 == 2)
			break;
		tx->mail_failed = 1;
		smtp_said(tx, smtp_cmd_name(kind));
		for (k = 0; k < tx->nrcpt; k++)
			smtp_reply_rcpt(tx, tx->rcpt[k]);
		break;
	case CMD_RCPT:
		if (tx->mail_failed)
			break;
		if (tx->r.code / 100 == 2) {
			tx->msg->accepted[i] = 1;
			tx->naccepted++;
			break;
		}
		tx->msg->accepted[i] = 2;
		smtp_said(tx, smtp_cmd_name(kind));
		smtp_reply_rcpt(tx, i);
		break;
	case CMD_DATA:
		tx->data_code = tx->r.code;
		if (tx->mail_failed || tx->naccepted == 0 ||
		    tx->r.code == 354)
			break;
		smtp_said(tx, smtp_cmd_name(kind));
		for (k = 0; k < tx->nrcpt; k++)
			if (tx->msg->accepted[tx->rcpt[k]] == 1)
				smtp_reply_rcpt(tx, tx->rcpt[k]);
		break;
	}
	return 0;
}

/* smtp_drain - send what is buffered and read every reply owed */
static int
smtp_drain(struct smtp_tx *tx)
{
	int kind = tx->head < tx->tail ? tx->kind[tx->head] : CMD_MAIL;

	tx->ss->s->timeout = (int)smtp_cfg.mail_timeout;
	if (stream_flush(tx->ss->s) < 0) {
		if (kind == CMD_RSET) {
			tx->rset_failed = 1;
			return -1;
		}
		return smtp_broken(tx, SMTP_REPLY_IOERR, kind == CMD_MAIL ?
		    "sending MAIL FROM" : kind == CMD_RCPT ?
		    "sending RCPT TO" : "sending DATA command");
	}
	tx->window = 0;
	while (tx->head < tx->tail) {
		if (smtp_handle(tx, tx->kind[tx->head], tx->arg[tx->head]) < 0)
			return -1;
		tx->head++;
	}
	return 0;
}

/* smtp_send - queue one command; drain when the window is full */
static int
smtp_send(struct smtp_tx *tx, int kind, size_t i, struct buf *cmd)
{
	buf_put(cmd, "\r\n", 2);
	stream_write(tx->ss->s, cmd->p, cmd->len);
	tx->kind[tx->tail] = kind;
	tx->arg[tx->tail] = i;
	tx->tail++;
	tx->window += cmd->len;
	if (!(tx->ss->features & SMTP_F_PIPELINING) ||
	    tx->window >= SMTP_PIPE_WINDOW)
		return smtp_drain(tx);
	return 0;
}

/* smtp_mail_cmd - the MAIL FROM command */
static void
smtp_mail_cmd(struct smtp_tx *tx, struct buf *cmd)
{
	const struct deliver_req *req = tx->msg->req;
	struct buf q = BUF_INIT;
	int f = tx->ss->features;

	addr_quote(SMTP_SENDER(tx->msg), &q);
	buf_reset(cmd);
	buf_printf(cmd, "MAIL FROM:<%s>", buf_str(&q));
	if (f & SMTP_F_SIZE)
		buf_printf(cmd, " SIZE=%ld", req->data_size);
	if (tx->msg->eightbit && (f & SMTP_F_8BITMIME))
		buf_puts(cmd, " BODY=8BITMIME");
	if (tx->msg->utf8 && (f & SMTP_F_SMTPUTF8))
		buf_puts(cmd, " SMTPUTF8");
	if (f & SMTP_F_DSN) {
		if (req->ret == DSN_RET_FULL)
			buf_puts(cmd, " RET=FULL");
		else if (req->ret == DSN_RET_HDRS)
			buf_puts(cmd, " RET=HDRS");
		if (req->envid && *req->envid) {
			buf_puts(cmd, " ENVID=");
			smtp_xtext(req->envid, strlen(req->envid), cmd);
		}
	}
	buf_free(&q);
}

/* smtp_rcpt_cmd - the RCPT TO command for recipient i */
static void
smtp_rcpt_cmd(struct smtp_tx *tx, size_t i, struct buf *cmd)
{
	const struct deliver_rcpt *rc = &tx->msg->req->rcpts[i];
	struct buf q = BUF_INIT;
	int sep = '=';

	addr_quote(SMTP_RCPT(tx->msg, i), &q);
	buf_reset(cmd);
	buf_printf(cmd, "RCPT TO:<%s>", buf_str(&q));
	if (tx->ss->features & SMTP_F_DSN) {
		if (rc->notify & DSN_NOTIFY_NEVER) {
			buf_puts(cmd, " NOTIFY=NEVER");
		} else if (rc->notify & DSN_NOTIFY_ANY) {
			buf_puts(cmd, " NOTIFY");
			if (rc->notify & DSN_NOTIFY_SUCCESS) {
				buf_printf(cmd, "%cSUCCESS", sep);
				sep = ',';
			}
			if (rc->notify & DSN_NOTIFY_FAILURE) {
				buf_printf(cmd, "%cFAILURE", sep);
				sep = ',';
			}
			if (rc->notify & DSN_NOTIFY_DELAY)
				buf_printf(cmd, "%cDELAY", sep);
		}
		/* XXX A non-ASCII ORCPT (type utf-8) is left out. */
		if (rc->orig && *rc->orig && smtp_addr_ok(rc->orig) &&
		    !smtp_has_8bit(rc->orig, strlen(rc->orig))) {
			addr_quote(rc->orig, &q);
			buf_puts(cmd, " ORCPT=rfc822;");
			smtp_xtext(q.p ? q.p : "", q.len, cmd);
		}
	}
	buf_free(&q);
}

/*
 * smtp_body - send the message and the final dot.  Returns 0, -1 when
 * the session broke (tx->err says why) or -2 when the queue file could
 * not be read (the session is unusable too: the data is incomplete).
 */
static int
smtp_body(struct smtp_tx *tx)
{
	struct qfile_content qc;
	struct buf line = BUF_INIT, out = BUF_INIT;
	struct stream *s = tx->ss->s;
	struct smtp_hdr hf;
	size_t limit = smtp_cfg.line_length_limit > 0 ?
	    (size_t)smtp_cfg.line_length_limit : 0;
	int rc, result = 0, mapfail = 0;

	s->timeout = (int)smtp_cfg.data_xfer_timeout;
	if (qfile_content_open_at(&qc, tx->msg->fd, tx->msg->req->data_offset,
	    &tx->why) < 0) {
		smtp_err_set(&tx->err, DEL_STAT_DEFER, 0, "4.3.0", "error "
		    "reading queue file: %s", buf_str(&tx->why));
		return -2;
	}
	smtp_hdr_init(&hf);
	while ((rc = qfile_content_line(&qc, &line, NULL)) == 1) {
		buf_reset(&out);
		if (smtp_hdr_line(&hf, line.p ? line.p : "", line.len, limit,
		    &out, &tx->why) < 0) {
			mapfail = 1;
			break;
		}
		stream_write(s, out.p, out.len);
		if (stream_error(s))
			break;
	}
	if (rc == 0 && !mapfail && !stream_error(s)) {
		buf_reset(&out);
		if (smtp_hdr_end(&hf, limit, &out, &tx->why) < 0)
			mapfail = 1;
		else
			stream_write(s, out.p, out.len);
	}
	smtp_hdr_free(&hf);
	if (mapfail) {
		/* No dot: the server discards the partial message. */
		log_warn("%s: %s lookup problem: %s", tx->msg->req->queue_id,
		    smtp_cfg.lmtp ? "lmtp_generic_maps" : "smtp_generic_maps",
		    buf_str(&tx->why));
		smtp_err_set(&tx->err, DEL_STAT_DEFER, 0, "4.3.0", "address "
		    "mapping table lookup failure");
		result = -2;
	} else if (rc < 0) {
		smtp_err_set(&tx->err, DEL_STAT_DEFER, 0, "4.3.0", "error "
		    "reading queue file %s", tx->msg->req->queue_id);
		result = -2;
	} else if (deliver_client_gone(tx->msg->req)) {
		/*
		 * Without the dot the server discards the message.  With it,
		 * nobody would record the delivery and the next queue
		 * manager would send the message again.
		 */
		smtp_err_set(&tx->err, DEL_STAT_DEFER, 0, "4.3.0", "queue "
		    "manager went away: delivery abandoned before the end "
		    "of data");
		tx->msg->abandoned = 1;
		result = -2;
	} else {
		stream_write(s, ".\r\n", 3);
		if (stream_flush(s) < 0)
			result = smtp_broken(tx, SMTP_REPLY_IOERR,
			    "sending message body");
	}
	qfile_content_close(&qc);
	buf_free(&line);
	buf_free(&out);
	return result;
}

/* smtp_dot_replies - the reply (SMTP) or replies (LMTP) to the data */
static int
smtp_dot_replies(struct smtp_tx *tx)
{
	static const char what[] = "sending end of data -- message may be "
	    "sent more than once";
	size_t k, i;
	int rc;

	tx->ss->s->timeout = (int)smtp_cfg.data_done_timeout;
	if (!smtp_cfg.lmtp) {
		if ((rc = smtp_reply_read(tx->ss->s, &tx->r, &tx->why)) !=
		    SMTP_REPLY_OK)
			return smtp_broken(tx, rc, what);
		buf_reset(&tx->text);
		if (tx->r.code / 100 == 2)
			smtp_reply_show(&tx->r, &tx->text);
		else
			smtp_said(tx, "end of DATA");
		for (k = 0; k < tx->nrcpt; k++) {
			i = tx->rcpt[k];
			if (tx->msg->accepted[i] != 1)
				continue;
			if (tx->r.code / 100 == 2)
				smtp_rcpt_final(tx->msg, i, tx->ss, DEL_STAT_OK,
				    tx->r.dsn, buf_str(&tx->text));
			else
				smtp_reply_rcpt(tx, i);
		}
		return 0;
	}
	for (k = 0; k < tx->nrcpt; k++) {
		i = tx->rcpt[k];
		if (tx->msg->accepted[i] != 1)
			continue;
		if ((rc = smtp_reply_read(tx->ss->s, &tx->r, &tx->why)) !=
		    SMTP_REPLY_OK)
			return smtp_broken(tx, rc, what);
		buf_reset(&tx->text);
		if (tx->r.code / 100 == 2) {
			smtp_reply_show(&tx->r, &tx->text);
			smtp_rcpt_final(tx->msg, i, tx->ss, DEL_STAT_OK,
			    tx->r.dsn, buf_str(&tx->text));
		} else {
			smtp_said(tx, "end of DATA");
			smtp_reply_rcpt(tx, i);
		}
	}
	return 0;
}

/* smtp_precheck - refuse what this server cannot take; 0 to go on */
static int
smtp_precheck(struct smtp_sess *ss, struct smtp_msg *msg)
{
	struct smtp_err e;
	int rc = 0;

	memset(&e, 0, sizeof(e));
	buf_init(&e.why);
	if (ss->size_max > 0 && msg->req->data_size > ss->size_max) {
		smtp_err_set(&e, DEL_STAT_BOUNCE, 1, "5.3.4", "message size "
		    "%ld exceeds size limit %ld of server %s",
		    msg->req->data_size, ss->size_max, ss->namaddr);
		rc = -1;
	} else if (msg->utf8 && !(ss->features & SMTP_F_SMTPUTF8)) {
		smtp_err_set(&e, DEL_STAT_BOUNCE, 1, "5.6.7", "SMTPUTF8 is "
		    "required, but was not offered by host %s", ss->namaddr);
		rc = -1;
	}
	if (rc < 0)
		smtp_msg_fail(msg, &e, ss);
	buf_free(&e.why);
	return rc;
}

/*
 * smtp_xfer - one mail transaction for the recipients still to do.
 * Returns 0 when the session may be used again (the transaction ended
 * cleanly, whatever the replies), -1 when it must be closed without
 * QUIT, -2 when a reused session failed its leading RSET (closed by the
 * server while cached): nothing was decided, the caller tries afresh.
 */
int
smtp_xfer(struct smtp_sess *ss, struct smtp_msg *msg)
{
	struct smtp_tx tx;
	struct buf cmd = BUF_INIT;
	size_t i, n = msg->req->nrcpt;
	int rc = -1, st;

	ss->uses++;
	if (smtp_precheck(ss, msg) < 0)
		return 0;
	memset(&tx, 0, sizeof(tx));
	tx.ss = ss;
	tx.msg = msg;
	smtp_reply_init(&tx.r);
	buf_init(&tx.why);
	buf_init(&tx.text);
	buf_init(&tx.err.why);
	tx.rcpt = xmallocarray(n, sizeof(*tx.rcpt));
	tx.kind = xmallocarray(n + 3, sizeof(*tx.kind));
	tx.arg = xmallocarray(n + 3, sizeof(*tx.arg));
	memset(msg->accepted, 0, n);
	for (i = 0; i < n; i++)
		if (msg->state[i] == SMTP_R_TODO)
			tx.rcpt[tx.nrcpt++] = i;
	if (tx.nrcpt == 0) {
		rc = 0;
		goto out;
	}

	if (ss->rset) {
		/* Reused with PIPELINING: RSET costs no round trip. */
		ss->rset = 0;
		buf_puts(&cmd, "RSET");
		if (smtp_send(&tx, CMD_RSET, 0, &cmd) < 0)
			goto broken;
		buf_reset(&cmd);
	}
	smtp_mail_cmd(&tx, &cmd);
	if (smtp_send(&tx, CMD_MAIL, 0, &cmd) < 0)
		goto broken;
	for (i = 0; i < tx.nrcpt && !tx.mail_failed; i++) {
		smtp_rcpt_cmd(&tx, tx.rcpt[i], &cmd);
		if (smtp_send(&tx, CMD_RCPT, tx.rcpt[i], &cmd) < 0)
			goto broken;
	}
	/* Without pipelining, DATA only when someone is to get the data. */
	if (!tx.mail_failed && ((ss->features & SMTP_F_PIPELINING) ||
	    tx.naccepted > 0)) {
		buf_reset(&cmd);
		buf_puts(&cmd, "DATA");
		if (smtp_send(&tx, CMD_DATA, 0, &cmd) < 0)
			goto broken;
	}
	if (smtp_drain(&tx) < 0)
		goto broken;
	if (tx.data_code != 354) {
		rc = 0;
		goto out;
	}
	if (tx.mail_failed || tx.naccepted == 0) {
		/* 354 with nobody to send to: an empty message ends it. */
		stream_write(ss->s, ".\r\n", 3);
		ss->s->timeout = (int)smtp_cfg.data_done_timeout;
		if (stream_flush(ss->s) < 0 || smtp_reply_read(ss->s, &tx.r,
		    &tx.why) != SMTP_REPLY_OK)
			goto out;
		rc = 0;
		goto out;
	}
	if ((st = smtp_body(&tx)) < 0) {
		if (st == -2)
			log_warn("%s: %s", msg->req->queue_id,
			    buf_str(&tx.err.why));
		goto broken;
	}
	if (smtp_dot_replies(&tx) < 0)
		goto broken;
	rc = 0;
	goto out;

broken:
	if (tx.rset_failed) {
		rc = -2;
		goto out;
	}
	/* The recipients whose fate the server had not told yet. */
	for (i = 0; i < tx.nrcpt; i++)
		if (msg->accepted[tx.rcpt[i]] != 2)
			smtp_rcpt_soft(msg, tx.rcpt[i], ss->relay, &tx.err);
out:
	smtp_reply_free(&tx.r);
	buf_free(&tx.why);
	buf_free(&tx.text);
	buf_free(&tx.err.why);
	buf_free(&cmd);
	free(tx.rcpt);
	free(tx.kind);
	free(tx.arg);
	return rc;
}
