/*
 * NAME		notice - send a delivery status notification through cleanup
 * DESCRIPTION	The notice text is composed once per attempt (the original
 *		message is read again through the notice's orig_line callback
 *		after `rewind'), split into content records, and submitted with
 *		flags CLEANUP_FLAG_NOTICE (no local-submission headers) and
 *		CLEANUP_FLAG_MAP_OK (postmaster may be an alias).
 * SECURITY	The text comes from dsn_compose(), which bounds and
 *		sanitizes everything it takes from the original message.
 */
#include <stdio.h>
#include <string.h>
#include <sys/time.h>

#include "util/strutil.h"
#include "cleanup_clnt.h"
#include "notice.h"
#include "qfile.h"
#include "rec.h"

/* notice_text - the notice's lines as content records */
static void
notice_text(struct cleanup_clnt *c, const struct buf *text)
{
	const char *p = text->p, *end = text->p + text->len, *nl;

	while (p < end) {
		size_t len;

		nl = memchr(p, '\n', (size_t)(end - p));
		len = nl ? (size_t)(nl - p) : (size_t)(end - p);
		while (len > NOTICE_REC_CHUNK) {
			cleanup_rec(c, REC_CONT, p, NOTICE_REC_CHUNK);
			p += NOTICE_REC_CHUNK;
			len -= NOTICE_REC_CHUNK;
		}
		cleanup_rec(c, REC_NORM, p, len);
		p += len + (nl != NULL);
	}
}

/*
 * notice_send - compose and queue notice n from env_from to `to'.
 * Returns 0 with the new queue ID in new_id (QID_MAX bytes; empty when
 * there was nothing to report), or -1 with a reason and the cleanup
 * status in *status (see cleanup_clnt.h: temporary or not).
 */
int
notice_send(struct dsn_notice *n, const char *source, const char *env_from,
    const char *to, void (*rewind)(void *), char *new_id, int *status,
    struct buf *why)
{
	struct cleanup_req req;
	struct cleanup_clnt *c;
	struct buf text = BUF_INIT, reason = BUF_INIT;
	char stamp[64];
	struct timeval tv;
	int tries, r = -1, ret = n->ret;

	memset(&req, 0, sizeof(req));
	req.source = source;
	req.flags = CLEANUP_FLAG_NOTICE | CLEANUP_FLAG_MAP_OK;
	req.uid = -1;
	n->to = to;
	new_id[0] = 0;
	*status = CLEANUP_STAT_OK;
	if (dsn_count(n) == 0)
		return 0;
	for (tries = 0; tries < 2; tries++) {
		if ((c = cleanup_open(&req, status, &reason)) == NULL) {
			buf_printf(why, "cannot send notice: %s",
			    buf_str(&reason));
			goto out;
		}
		strlcpy_trunc(new_id, c->queue_id, QID_MAX);
		n->notice_id = new_id;
		gettimeofday(&tv, NULL);
		n->now = (long)tv.tv_sec;
		if (rewind)
			rewind(n->orig_ctx);
		buf_reset(&text);
		(void)dsn_compose(n, &text);
		n->notice_id = NULL;
		snprintf(stamp, sizeof(stamp), "%ld %ld", (long)tv.tv_sec,
		    (long)tv.tv_usec);
		cleanup_recs(c, REC_TIME, stamp);
		cleanup_recs(c, REC_FROM, env_from);
		cleanup_recs(c, REC_RCPT, to);
		cleanup_rec(c, REC_MESG, "", 0);
		notice_text(c, &text);
		cleanup_rec(c, REC_XTRA, "", 0);
		cleanup_rec(c, REC_END, "", 0);
		buf_reset(&reason);
		*status = cleanup_finish(c, &reason);
		if (*status == CLEANUP_STAT_OK) {
			r = 0;
			goto out;
		}
		/* Too large with the whole message: try with headers. */
		if (!(*status & CLEANUP_STAT_SIZE) || n->ret == DSN_RET_HDRS ||
		    (n->flags & DSN_FLAG_PMCOPY))
			break;
		n->ret = DSN_RET_HDRS;
	}
	buf_printf(why, "notice %s rejected: %s", new_id, reason.len ?
	    buf_str(&reason) : cleanup_stat_text(*status));
out:
	n->ret = ret;
	buf_free(&text);
	buf_free(&reason);
	return r;
}
