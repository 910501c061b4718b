/*
 * NAME		forward - send non-local alias and .forward addresses on
 * DESCRIPTION	While a request recipient is expanded, addresses that do
 *		not resolve to this transport are collected, grouped by
 *		envelope sender and Delivered-To: address.  Afterwards each
 *		group becomes one new message submitted to cleanup (source
 *		"local", address maps applied): the original envelope sender
 *		(or owner-<alias>), the collected recipients with the original
 *		recipient and DSN notify flags of the request recipient, and
 *		the message content with "Delivered-To: <address>" in front
 *		(prepend_delivered_header "forward"), so that a copy that
 *		comes back is recognised as a loop.  Each forwarded address is
 *		logged "status=sent (forwarded as NEWQUEUEID)".  When the
 *		expansion of the request recipient was deferred anywhere, the
 *		collected addresses are dropped instead: the retry forwards
 *		them, once.
 * SEE ALSO	cleanup(8), doc/local.md
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "mail/addr.h"
#include "mail/cleanup_clnt.h"
#include "mail/qfile.h"
#include "mail/rec.h"
#include "util/log.h"
#include "util/mem.h"
#include "util/strutil.h"
#include "local.h"

#define FWD_CHUNK	(64 * 1024)	/* longest record sent */

/* local_forward_add - collect one address for forwarding */
void
local_forward_add(struct local_result *res, const char *sender,
    const char *delivered, const char *addr)
{
	struct local_fwd *f, **tail = &res->fwd;

	for (f = res->fwd; f; f = f->next) {
		if (strcmp(f->sender, sender) == 0 &&
		    strcasecmp(f->delivered, delivered) == 0)
			break;
		tail = &f->next;
	}
	if (f == NULL) {
		f = xcalloc(1, sizeof(*f));
		f->sender = xstrdup(sender);
		f->delivered = xstrdup(delivered);
		argv_init(&f->addrs);
		*tail = f;
	}
	if (argv_find(&f->addrs, addr) < 0)
		argv_add(&f->addrs, addr);
}

/* local_forward_free - drop everything collected */
void
local_forward_free(struct local_result *res)
{
	struct local_fwd *f, *next;

	for (f = res->fwd; f; f = next) {
		next = f->next;
		free(f->sender);
		free(f->delivered);
		argv_clear(&f->addrs);
		free(f);
	}
	res->fwd = NULL;
}

/* fwd_content - send the message content; 0, or -1 on a read error */
static int
fwd_content(struct cleanup_clnt *c, struct local_msg *msg, struct buf *why)
{
	struct qfile_content qc;
	struct buf line = BUF_INIT;
	int r;

	if (qfile_content_open_at(&qc, msg->fd, msg->req->data_offset,
	    why) < 0)
		return -1;
	while ((r = qfile_content_line(&qc, &line, NULL)) > 0) {
		const char *p = line.p;
		size_t left = line.len;

		while (left > FWD_CHUNK) {
			cleanup_rec(c, REC_CONT, p, FWD_CHUNK);
			p += FWD_CHUNK;
			left -= FWD_CHUNK;
		}
		cleanup_rec(c, REC_NORM, p, left);
	}
	qfile_content_close(&qc);
	buf_free(&line);
	if (r < 0) {
		buf_sets(why, "malformed queue file content");
		return -1;
	}
	return 0;
}

/* fwd_send - submit one group; 0 with the new queue ID, or -1 */
static int
fwd_send(struct local_msg *msg, struct local_result *res,
    struct local_fwd *f, char *qid, size_t qidlen, char *dsn,
    size_t dsnlen, struct buf *why)
{
	const struct deliver_req *req = msg->req;
	const struct deliver_rcpt *rc = &req->rcpts[res->idx];
	struct cleanup_req creq;
	struct cleanup_clnt *c;
	struct buf tmp = BUF_INIT;
	int status;
	size_t i;

	memset(&creq, 0, sizeof(creq));
	creq.source = "local";
	creq.flags = CLEANUP_FLAG_MAP_OK;
	creq.uid = -1;
	if ((c = cleanup_open(&creq, &status, why)) == NULL) {
		strlcpy_trunc(dsn, status ? cleanup_stat_dsn(status) : "4.3.0",
		    dsnlen);
		if (dsn[0] == '2')
			strlcpy_trunc(dsn, "4.3.0", dsnlen);
		if (why->len == 0)
			buf_sets(why, cleanup_stat_text(status));
		return -1;
	}
	strlcpy_trunc(qid, c->queue_id, qidlen);
	buf_printf(&tmp, "%ld %ld", (long)(req->arrival_us / 1000000),
	    (long)(req->arrival_us % 1000000));
	cleanup_recs(c, REC_TIME, tmp.p);
	cleanup_recs(c, REC_FROM, f->sender);
	for (i = 0; i < f->addrs.n; i++) {
		if (local_cfg.enable_original_recipient && *res->orig)
			cleanup_recs(c, REC_ORCP, res->orig);
		if (rc->notify) {
			buf_reset(&tmp);
			buf_printf(&tmp, "%d", rc->notify);
			cleanup_recs(c, REC_NOTIFY, tmp.p);
		}
		cleanup_recs(c, REC_RCPT, f->addrs.v[i]);
	}
	cleanup_rec(c, REC_MESG, "", 0);
	if (local_cfg.hdr_mask & LOCAL_HDR_FORWARD) {
		struct buf hdr = BUF_INIT;

		/* As mail_copy() writes it: quoted, lower case. */
		addr_quote(f->delivered, &tmp);
		buf_str(&tmp);
		str_lower(tmp.p);
		buf_printf(&hdr, "Delivered-To: %s", tmp.p);
		cleanup_rec(c, REC_NORM, hdr.p, hdr.len);
		buf_free(&hdr);
	}
	if (fwd_content(c, msg, why) < 0) {
		cleanup_abort(c);
		strlcpy_trunc(dsn, "4.3.0", dsnlen);
		buf_free(&tmp);
		return -1;
	}
	cleanup_rec(c, REC_XTRA, "", 0);
	cleanup_rec(c, REC_END, "", 0);
	buf_free(&tmp);
	status = cleanup_finish(c, why);
	if (status != CLEANUP_STAT_OK) {
		strlcpy_trunc(dsn, cleanup_stat_dsn(status), dsnlen);
		if (dsn[0] == '2')
			strlcpy_trunc(dsn, "4.3.0", dsnlen);
		if (why->len == 0)
			buf_sets(why, cleanup_stat_text(status));
		return -1;
	}
	return 0;
}

/*
 * local_forward_flush - send (or, with cancel, drop) what was collected
 * for the request recipient of res, and report each address.
 */
void
local_forward_flush(struct local_msg *msg, struct local_result *res,
    int cancel)
{
	struct local_fwd *f;
	struct buf why = BUF_INIT;
	char qid[QID_MAX], dsn[16];
	size_t i;

	for (f = res->fwd; f && !cancel; f = f->next) {
		int64_t start = time_epoch_us();

		buf_reset(&why);
		qid[0] = 0;
		if (fwd_send(msg, res, f, qid, sizeof(qid), dsn, sizeof(dsn),
		    &why) == 0) {
			for (i = 0; i < f->addrs.n; i++)
				local_report(msg, res, f->addrs.v[i], NULL,
				    start, DEL_STAT_OK, "2.0.0",
				    "forwarded as %s", qid);
			continue;
		}
		log_warn("%s: cannot forward%s%s: %s", msg->req->queue_id,
		    qid[0] ? " as " : "", qid, buf_str(&why));
		for (i = 0; i < f->addrs.n; i++)
			local_report(msg, res, f->addrs.v[i], NULL, start,
			    dsn[0] == '5' ? DEL_STAT_BOUNCE : DEL_STAT_DEFER,
			    dsn, "cannot forward: %s", buf_str(&why));
	}
	local_forward_free(res);
	buf_free(&why);
}
