/*
 * NAME		notify - send the notices that a message's log calls for
 * DESCRIPTION	flush and warn requests name the message (queue name and
 *		ID), its sender, DSN ENVID and RET.  The log of this service
 *		is read (a recipient logged twice counts once, with its last
 *		entry), then the original queue file for its arrival time,
 *		size and content, and up to two notices are built with
 *		dsn_compose() and submitted to cleanup(8):
 *
 *		- the postmaster copy when notify_classes asks for it
 *		  ("bounce" for non-delivery, "delay" for delay warnings),
 *		  with sender $double_bounce_sender;
 *		- the notice to the sender, from the null sender; for a
 *		  message with the null sender, to $2bounce_notice_recipient
 *		  from $double_bounce_sender when notify_classes has
 *		  "2bounce", else nothing.  Mail from $double_bounce_sender
 *		  gets nothing.
 *
 *		The postmaster copy goes first, so that a failure that makes
 *		the queue manager repeat the request repeats the less
 *		visible notice.  After a flush the log is removed; after a
 *		warning it stays.  An original message that cannot be read
 *		does not stop the notice: it goes without the message.
 * SECURITY	The queue name must be one of the queues, the queue ID
 *		valid, the sender free of control characters.  Log and queue
 *		file are read with bounds (bounce_log(3), qfile(3)); what is
 *		returned of the message is bounded by dsn(3).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "mail/bounce_log.h"
#include "mail/cleanup_clnt.h"
#include "mail/dsn.h"
#include "mail/notice.h"
#include "mail/ipc.h"
#include "mail/mail_conf.h"
#include "mail/qfile.h"
#include "mail/qid.h"
#include "mail/queue.h"
#include "mail/rec.h"
#include "util/htable.h"
#include "util/log.h"
#include "util/mem.h"
#include "util/strutil.h"
#include "bounce.h"

/* The original message, opened once for every notice. */
struct bounce_orig {
	const char *queue_id;
	int	 fd;
	int	 have_env;
	struct qfile_env env;
	struct qfile_content c;
	int	 open;
};

/* One notice to send. */
struct bounce_target {
	const char *to;			/* envelope and To: recipient */
	const char *env_from;		/* envelope sender */
	int	 flags;			/* DSN_FLAG_* */
	const char *who;		/* "sender" or "postmaster", for logs */
};

/* bounce_notify_class - is name listed in notify_classes? */
int
bounce_notify_class(const char *name)
{
	const char *p = bounce_cfg.notify_classes;
	size_t n, len = strlen(name);

	while (p && *p) {
		p += strspn(p, SEPARATORS);
		n = strcspn(p, SEPARATORS);
		if (n == len && strncasecmp(p, name, n) == 0)
			return 1;
		p += n;
	}
	return 0;
}

/* bounce_is_double_bounce - is sender the double-bounce address? */
static int
bounce_is_double_bounce(const char *sender)
{
	const char *dbs = mail_cfg.double_bounce_sender, *at;
	size_t n = strlen(dbs);

	if (*sender == 0 || *dbs == 0)
		return 0;
	if (strcasecmp(sender, dbs) == 0)
		return 1;
	if (strchr(dbs, '@') != NULL || (at = strrchr(sender, '@')) == NULL)
		return 0;
	return (size_t)(at - sender) == n && strncasecmp(sender, dbs, n) == 0 &&
	    (strcasecmp(at + 1, mail_cfg.myorigin) == 0 ||
	    strcasecmp(at + 1, mail_cfg.myhostname) == 0);
}

/* bounce_sender_ok - a sender we can write into a notice? */
static int
bounce_sender_ok(const struct buf *b)
{
	size_t i;

	for (i = 0; i < b->len; i++)
		if ((unsigned char)b->p[i] < 0x20 || b->p[i] == 0x7f)
			return 0;
	return 1;
}

/*
 * bounce_rcpts - the recipients of a log, in log order; a recipient
 * (with the same original recipient) logged again replaces its earlier
 * entry.  Caller frees the array; the strings stay in the log.
 */
static struct dsn_rcpt *
bounce_rcpts(const struct bounce_log *l, size_t *count)
{
	struct dsn_rcpt *v = xcalloc(l->n ? l->n : 1, sizeof(*v));
	struct htable *seen = htable_create(l->n);
	unsigned char *keep = xcalloc(l->n ? l->n : 1, 1);
	struct buf key = BUF_INIT;
	struct hnode *h;
	size_t i, n = 0;

	for (i = 0; i < l->n; i++) {
		/* Log values hold no newline: a safe separator. */
		buf_reset(&key);
		buf_printf(&key, "%s\n%s", l->v[i].recipient,
		    l->v[i].orig_rcpt);
		if ((h = htable_locate(seen, key.p)) != NULL) {
			keep[(uintptr_t)h->value] = 0;
			h->value = (void *)(uintptr_t)i;
		} else {
			htable_enter(seen, key.p, (void *)(uintptr_t)i);
		}
		keep[i] = 1;
	}
	for (i = 0; i < l->n; i++) {
		const struct bounce_ent *e = &l->v[i];

		if (!keep[i])
			continue;
		v[n].addr = e->recipient;
		v[n].orig = e->orig_rcpt;
		v[n].notify = e->notify;
		v[n].status = e->status;
		v[n].action = e->action;
		v[n].reason = e->reason;
		v[n].relay = e->relay;
		v[n].when = e->when;
		n++;
	}
	htable_free(seen, NULL);
	free(keep);
	buf_free(&key);
	*count = n;
	return v;
}

/* bounce_orig_open - open the original queue file; no file is no error */
static void
bounce_orig_open(struct bounce_orig *o, const char *queue_name,
    const char *queue_id)
{
	struct buf path = BUF_INIT, why = BUF_INIT;
	struct stat st;

	memset(o, 0, sizeof(*o));
	o->queue_id = queue_id;
	queue_path(&path, queue_name, queue_id);
	o->fd = open(path.p, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (o->fd < 0) {
		log_warn("%s: open %s: %m; notice goes without the message",
		    queue_id, path.p);
	} else if (fstat(o->fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		log_warn("%s: %s: not a regular file", queue_id, path.p);
	} else if (qfile_read_env(o->fd, &o->env, &why) < 0) {
		log_warn("%s: %s: %s; notice goes without the message",
		    queue_id, path.p, buf_str(&why));
	} else {
		o->have_env = 1;
	}
	if (!o->have_env && o->fd >= 0) {
		close(o->fd);
		o->fd = -1;
	}
	buf_free(&path);
	buf_free(&why);
}

/* bounce_orig_close - release the original message */
static void
bounce_orig_close(struct bounce_orig *o)
{
	if (o->open)
		qfile_content_close(&o->c);
	o->open = 0;
	if (o->have_env)
		qfile_env_free(&o->env);
	if (o->fd >= 0)
		close(o->fd);
	o->fd = -1;
}

/* bounce_orig_line - orig_line reader over the content records */
static int
bounce_orig_line(void *ctx, struct buf *line)
{
	struct bounce_orig *o = ctx;
	struct buf why = BUF_INIT;
	int r;

	if (!o->open) {
		if (qfile_content_open(&o->c, o->fd, &o->env, &why) < 0) {
			log_warn("%s: %s", o->queue_id, buf_str(&why));
			buf_free(&why);
			return -1;
		}
		o->open = 1;
	}
	if ((r = qfile_content_line(&o->c, line, NULL)) < 0)
		log_warn("%s: error reading message content", o->queue_id);
	return r;
}

/* bounce_orig_rewind - start the next notice at the first line again */
static void bounce_orig_rewind(struct bounce_orig *);

/* bounce_orig_rewind_cb - notice_send's rewind callback */
static void
bounce_orig_rewind_cb(void *ctx)
{
	bounce_orig_rewind(ctx);
}

/* bounce_orig_rewind - start the next notice at the first line again */
static void
bounce_orig_rewind(struct bounce_orig *o)
{
	if (o->open)
		qfile_content_close(&o->c);
	o->open = 0;
}

/*
 * bounce_submit - compose one notice and hand it to cleanup.  Returns 0
 * (sent, or nothing to send), or -1 with a reason.
 */
static int
bounce_submit(struct dsn_notice *n, const struct bounce_target *t,
    struct bounce_orig *o, struct buf *why)
{
	char new_id[QID_MAX];
	struct buf reason = BUF_INIT;
	int flags = n->flags, status, r;

	n->flags |= t->flags;
	r = notice_send(n, "bounce", t->env_from, t->to, bounce_orig_rewind_cb,
	    new_id, &status, &reason);
	if (r == 0 && new_id[0])
		log_info("%s: %s %s notification: %s", n->queue_id, t->who,
		    n->kind == DSN_KIND_FAILURE ? "non-delivery" :
		    n->kind == DSN_KIND_DELAY ? "delay" : "delivery status",
		    new_id);
	else if (r < 0)
		buf_printf(why, "%s: %s", n->queue_id, buf_str(&reason));
	(void)o;
	n->flags = flags;
	buf_free(&reason);
	return r;
}

/* bounce_from_addr - the From: address of notices */
static char *
bounce_from_addr(void)
{
	const char *local = mail_cfg.empty_address_recipient;

	if (strchr(local, '@') != NULL)
		return xstrdup(local);
	return xasprintf("%s@%s", local, mail_cfg.myhostname);
}

/*
 * bounce_notify - handle a flush or warn request (frame body).  Returns
 * 0, or -1 with a reason.
 */
int
bounce_notify(int what, const char *body, size_t len, struct buf *why)
{
	struct buf req = BUF_INIT, qname = BUF_INIT, qid = BUF_INIT,
	    sender = BUF_INIT, envid = BUF_INIT, tmp = BUF_INIT;
	int64_t ret = 0;
	struct ipc_want want[] = {
		IPC_WANT_STR("request", &req, BOUNCE_NAME_MAX),
		IPC_WANT_STR("queue_name", &qname, BOUNCE_NAME_MAX),
		IPC_WANT_STR("queue_id", &qid, QID_MAX - 1),
		IPC_WANT_STR("sender", &sender, QFILE_ADDR_MAX),
		IPC_WANT_STR("envid", &envid, BOUNCE_ENVID_MAX),
		IPC_WANT_INT("ret", &ret),
		IPC_WANT_END
	};
	struct bounce_target targets[2];
	struct bounce_log log;
	struct bounce_orig orig;
	struct dsn_notice n;
	struct dsn_rcpt *rcpts = NULL;
	const char *label = what == BOUNCE_WARN ? "warn" : "flush";
	char *from = NULL;
	size_t nrcpt = 0, ntarget = 0, i;
	int r = -1;

	memset(&log, 0, sizeof(log));
	orig.fd = -1;
	orig.have_env = orig.open = 0;
	if (ipc_scan(body, len, want, &tmp) < 0) {
		buf_printf(why, "malformed %s request: %s", label,
		    buf_str(&tmp));
		goto out;
	}
	if (!qid_valid(qid.p, qid.len) || !queue_name_valid(buf_str(&qname)) ||
	    !bounce_sender_ok(&sender) ||
	    (ret != 0 && ret != DSN_RET_FULL && ret != DSN_RET_HDRS)) {
		buf_printf(why, "%s request: bad queue name, queue ID, sender "
		    "or ret", label);
		goto out;
	}
	if (what == BOUNCE_WARN && strcmp(bounce_queue, Q_DEFER) != 0) {
		buf_printf(why, "%s: warn request for service %s", qid.p,
		    bounce_queue);
		goto out;
	}

	memset(&n, 0, sizeof(n));
	if (what == BOUNCE_WARN)
		n.kind = DSN_KIND_DELAY;
	else if (strcmp(bounce_queue, Q_TRACE) == 0)
		n.kind = DSN_KIND_SUCCESS;
	else
		n.kind = DSN_KIND_FAILURE;
	/* A flush of the defer log: the message ran out of time. */
	if (what == BOUNCE_FLUSH && strcmp(bounce_queue, Q_DEFER) == 0)
		n.flags |= DSN_FLAG_EXPIRED;
	/* Only what the sender asked for is logged to trace. */
	if (n.kind == DSN_KIND_SUCCESS)
		n.flags |= DSN_FLAG_ALL;

	if (bounce_log_read(bounce_queue, qid.p, &log, &tmp) < 0) {
		buf_printf(why, "%s: %s", qid.p, buf_str(&tmp));
		goto out;
	}
	rcpts = bounce_rcpts(&log, &nrcpt);

	/* Who gets what. */
	if (n.kind == DSN_KIND_FAILURE && bounce_notify_class("bounce") &&
	    sender.len > 0 && !bounce_is_double_bounce(buf_str(&sender)))
		targets[ntarget++] = (struct bounce_target){
		    bounce_cfg.bounce_notice_recipient,
		    mail_cfg.double_bounce_sender,
		    DSN_FLAG_ALL | DSN_FLAG_PMCOPY, "postmaster"};
	if (n.kind == DSN_KIND_DELAY && bounce_notify_class("delay"))
		targets[ntarget++] = (struct bounce_target){
		    bounce_cfg.delay_notice_recipient,
		    mail_cfg.double_bounce_sender,
		    DSN_FLAG_ALL | DSN_FLAG_PMCOPY, "postmaster"};
	if (nrcpt == 0) {
		/* Nothing logged: nothing to say. */
	} else if (bounce_is_double_bounce(buf_str(&sender))) {
		if (n.kind == DSN_KIND_FAILURE)
			log_warn("%s: undeliverable postmaster notification "
			    "discarded", qid.p);
	} else if (sender.len > 0) {
		targets[ntarget++] = (struct bounce_target){
		    buf_str(&sender), "", 0, "sender"};
	} else if (n.kind == DSN_KIND_FAILURE) {
		if (bounce_notify_class("2bounce"))
			targets[ntarget++] = (struct bounce_target){
			    bounce_cfg.twobounce_notice_recipient,
			    mail_cfg.double_bounce_sender,
			    DSN_FLAG_ALL | DSN_FLAG_2BOUNCE, "postmaster"};
		else
			log_info("%s: undeliverable notification to the null "
			    "sender discarded (no 2bounce in notify_classes)",
			    qid.p);
	}

	if (nrcpt > 0 && ntarget > 0) {
		bounce_orig_open(&orig, buf_str(&qname), qid.p);
		from = bounce_from_addr();
		n.queue_id = qid.p;
		n.hostname = mail_cfg.myhostname;
		n.from = from;
		n.sender = buf_str(&sender);
		n.envid = buf_str(&envid);
		n.ret = (int)ret;
		n.arrival = orig.have_env ? orig.env.arrival_sec : 0;
		n.msg_size = orig.have_env ? orig.env.data_size : -1;
		n.size_limit = bounce_cfg.bounce_size_limit;
		n.lifetime = bounce_cfg.maximal_queue_lifetime;
		n.warn_time = bounce_cfg.delay_warning_time;
		n.rcpts = rcpts;
		n.nrcpt = nrcpt;
		n.orig_line = orig.have_env ? bounce_orig_line : NULL;
		n.orig_ctx = &orig;
		for (i = 0; i < ntarget; i++)
			if (bounce_submit(&n, &targets[i], &orig, why) < 0)
				goto out;
	}
	if (what == BOUNCE_FLUSH && queue_remove(bounce_queue, qid.p) < 0 &&
	    errno != ENOENT)
		log_warn("%s: remove %s log: %m", qid.p, bounce_queue);
	r = 0;
out:
	bounce_orig_close(&orig);
	bounce_log_free(&log);
	free(rcpts);
	free(from);
	buf_free(&req);
	buf_free(&qname);
	buf_free(&qid);
	buf_free(&sender);
	buf_free(&envid);
	buf_free(&tmp);
	return r;
}
