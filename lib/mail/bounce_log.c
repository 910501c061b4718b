/*
 * NAME		bounce_log - per-message delivery status logs
 * DESCRIPTION	bounce_ent_format() writes one entry; values have line
 *		breaks replaced by spaces so that an entry stays one block.
 *		bounce_log_parse() reads all entries of a log, ignoring
 *		unknown names (for forward compatibility) and a final entry
 *		cut short by a crash.
 * SECURITY	Logs are bounded (BOUNCE_LOG_MAX, BOUNCE_ENTRIES_MAX); an
 *		entry without a recipient is skipped.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "util/files.h"
#include "util/mem.h"
#include "util/strutil.h"
#include "bounce_log.h"
#include "ipc.h"
#include "queue.h"

/* bounce_put - one "name=value" line, line breaks flattened */
static void
bounce_put(struct buf *b, const char *name, const char *value)
{
	const char *p;

	buf_puts(b, name);
	buf_putc(b, '=');
	for (p = value ? value : ""; *p; p++)
		buf_putc(b, (*p == '\n' || *p == '\r') ? ' ' : *p);
	buf_putc(b, '\n');
}

/* bounce_ent_format - append one log entry */
void
bounce_ent_format(struct buf *b, const struct bounce_ent *e)
{
	char num[32];

	bounce_put(b, "recipient", e->recipient);
	bounce_put(b, "orig_rcpt", e->orig_rcpt);
	snprintf(num, sizeof(num), "%d", e->notify);
	bounce_put(b, "notify", num);
	snprintf(num, sizeof(num), "%ld", e->offset);
	bounce_put(b, "offset", num);
	bounce_put(b, "status", e->status);
	bounce_put(b, "action", e->action);
	bounce_put(b, "reason", e->reason);
	bounce_put(b, "relay", e->relay);
	snprintf(num, sizeof(num), "%ld", e->when ? e->when :
	    (long)time(NULL));
	bounce_put(b, "time", num);
	buf_putc(b, '\n');
}

/* bounce_ent_clear - free one entry's strings */
static void
bounce_ent_clear(struct bounce_ent *e)
{
	free(e->recipient);
	free(e->orig_rcpt);
	free(e->status);
	free(e->action);
	free(e->reason);
	free(e->relay);
	memset(e, 0, sizeof(*e));
}

/* bounce_log_free - release parsed entries */
void
bounce_log_free(struct bounce_log *l)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		bounce_ent_clear(&l->v[i]);
	free(l->v);
	memset(l, 0, sizeof(*l));
}

/* bounce_set - store a field */
static void
bounce_set(char **field, const char *v, size_t len)
{
	free(*field);
	*field = xstrndup(v, len);
}

/* bounce_log_parse - parse a whole log */
int
bounce_log_parse(const char *text, size_t len, struct bounce_log *l,
    struct buf *why)
{
	struct bounce_ent cur;
	size_t pos = 0, cap = 0;
	int have = 0;

	memset(l, 0, sizeof(*l));
	memset(&cur, 0, sizeof(cur));
	if (len > BOUNCE_LOG_MAX) {
		buf_sets(why, "log too large");
		return -1;
	}
	while (pos < len) {
		const char *line = text + pos, *nl, *eq;
		size_t llen;

		nl = memchr(line, '\n', len - pos);
		if (nl == NULL)
			break;		/* a torn last line: ignore */
		llen = (size_t)(nl - line);
		pos += llen + 1;
		if (llen == 0) {
			if (have && cur.recipient) {
				if (l->n >= BOUNCE_ENTRIES_MAX) {
					bounce_ent_clear(&cur);
					break;
				}
				if (l->n == cap) {
					cap = cap ? cap * 2 : 8;
					l->v = xreallocarray(l->v, cap,
					    sizeof(*l->v));
				}
				l->v[l->n++] = cur;
				memset(&cur, 0, sizeof(cur));
			} else {
				bounce_ent_clear(&cur);
			}
			have = 0;
			continue;
		}
		if ((eq = memchr(line, '=', llen)) == NULL)
			continue;
		have = 1;
#define FIELD(n) ((size_t)(eq - line) == strlen(n) && \
		  memcmp(line, n, strlen(n)) == 0)
		if (FIELD("recipient"))
			bounce_set(&cur.recipient, eq + 1, llen - (size_t)(eq -
			    line) - 1);
		else if (FIELD("orig_rcpt"))
			bounce_set(&cur.orig_rcpt, eq + 1, llen - (size_t)(eq -
			    line) - 1);
		else if (FIELD("status"))
			bounce_set(&cur.status, eq + 1, llen - (size_t)(eq -
			    line) - 1);
		else if (FIELD("action"))
			bounce_set(&cur.action, eq + 1, llen - (size_t)(eq -
			    line) - 1);
		else if (FIELD("reason"))
			bounce_set(&cur.reason, eq + 1, llen - (size_t)(eq -
			    line) - 1);
		else if (FIELD("relay"))
			bounce_set(&cur.relay, eq + 1, llen - (size_t)(eq -
			    line) - 1);
		else if (FIELD("notify") || FIELD("offset") || FIELD("time")) {
			char num[32];
			size_t n = llen - (size_t)(eq - line) - 1;
			long v;

			if (n >= sizeof(num))
				continue;
			memcpy(num, eq + 1, n);
			num[n] = 0;
			if (parse_long(num, &v) < 0)
				continue;
			if (FIELD("notify"))
				cur.notify = (int)v;
			else if (FIELD("offset"))
				cur.offset = v;
			else
				cur.when = v;
		}
#undef FIELD
	}
	bounce_ent_clear(&cur);
	/* Fill absent text fields so readers need no NULL checks. */
	for (pos = 0; pos < l->n; pos++) {
		struct bounce_ent *e = &l->v[pos];

		if (!e->orig_rcpt)
			e->orig_rcpt = xstrdup("");
		if (!e->status)
			e->status = xstrdup("4.0.0");
		if (!e->action)
			e->action = xstrdup("delayed");
		if (!e->reason)
			e->reason = xstrdup("");
		if (!e->relay)
			e->relay = xstrdup("");
	}
	return 0;
}

/* bounce_log_read - read the log of a queue file in log queue q */
int
bounce_log_read(const char *q, const char *id, struct bounce_log *l,
    struct buf *why)
{
	struct buf path = BUF_INIT, text = BUF_INIT;
	int r;

	memset(l, 0, sizeof(*l));
	queue_path(&path, q, id);
	if (file_read(path.p, &text, BOUNCE_LOG_MAX) < 0) {
		r = errno == ENOENT ? 0 : -1;
		if (r < 0)
			buf_printf(why, "read %s: %s", path.p,
			    strerror(errno));
	} else {
		r = bounce_log_parse(text.p ? text.p : "", text.len, l, why);
	}
	buf_free(&path);
	buf_free(&text);
	return r;
}

/* bounce_append_frame - request to append one entry */
void
bounce_append_frame(struct buf *f, const char *queue_id,
    const struct bounce_ent *e)
{
	ipc_begin(f);
	ipc_put_str(f, "request", "append");
	ipc_put_str(f, "queue_id", queue_id);
	ipc_put_str(f, "recipient", e->recipient);
	ipc_put_str(f, "orig_rcpt", e->orig_rcpt ? e->orig_rcpt : "");
	ipc_put_int(f, "notify", e->notify);
	ipc_put_int(f, "offset", e->offset);
	ipc_put_str(f, "status", e->status);
	ipc_put_str(f, "action", e->action);
	ipc_put_str(f, "reason", e->reason ? e->reason : "");
	ipc_put_str(f, "relay", e->relay ? e->relay : "");
	ipc_end(f);
}

/* bounce_notice_frame - flush or warn request */
static void
bounce_notice_frame(struct buf *f, const char *req, const char *queue_name,
    const char *queue_id, const char *sender, const char *envid, int ret)
{
	ipc_begin(f);
	ipc_put_str(f, "request", req);
	ipc_put_str(f, "queue_name", queue_name);
	ipc_put_str(f, "queue_id", queue_id);
	ipc_put_str(f, "sender", sender);
	ipc_put_str(f, "envid", envid ? envid : "");
	ipc_put_int(f, "ret", ret);
	ipc_end(f);
}

/* bounce_flush_frame - request to send the notice for a log */
void
bounce_flush_frame(struct buf *f, const char *queue_name,
    const char *queue_id, const char *sender, const char *envid, int ret)
{
	bounce_notice_frame(f, "flush", queue_name, queue_id, sender, envid,
	    ret);
}

/* bounce_warn_frame - request to send a delay warning */
void
bounce_warn_frame(struct buf *f, const char *queue_name,
    const char *queue_id, const char *sender, const char *envid, int ret)
{
	bounce_notice_frame(f, "warn", queue_name, queue_id, sender, envid,
	    ret);
}

/*
 * bounce_reply_ok - did a bounce-service call succeed?  status and why
 * are the asynchronous call's outcome; body the reply.  Returns 1, or 0
 * with the reason in reason.
 */
int
bounce_reply_ok(int status, const char *body, size_t len, const char *why,
    struct buf *reason)
{
	struct buf err = BUF_INIT;
	int64_t st = -1;
	struct ipc_want want[] = {
		IPC_WANT_INT("status", &st),
		IPC_WANT_STR("reason", reason, 1024),
		IPC_WANT_END
	};
	int ok = 0;

	buf_reset(reason);
	if (status != 0)
		buf_sets(reason, why ? why : "failed");
	else if (ipc_scan(body, len, want, &err) < 0)
		buf_printf(reason, "bad reply: %s", buf_str(&err));
	else if (st != 0 && reason->len == 0)
		buf_sets(reason, "request failed");
	else
		ok = st == 0;
	buf_free(&err);
	return ok;
}
