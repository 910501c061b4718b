/*
 * NAME		deliver - one delivery request: recipients and their expansion
 * DESCRIPTION	For each recipient of the request, local_recipient() does
 *		what local(8) does in this order:
 *
 *		1. Loop check (lib/mail/delivered.c): a Delivered-To: header
 *		   equal to the recipient bounces it (5.4.6, mail forwarding
 *		   loop).
 *		2. Aliases (alias.c): the local part, then the local part
 *		   without its extension, in alias_maps.
 *		3. The user: an unknown user bounces (5.1.1).
 *		4. The user's .forward file (dotforward.c).
 *		5. The user's mailbox (mailbox.c).
 *
 *		The entries of an alias, .forward or :include: list are
 *		expanded by local_expand_list(): local addresses (those that
 *		trivial-rewrite resolves to this transport and next hop) are
 *		delivered recursively in this process, other addresses are
 *		collected and forwarded in one new message per sender and
 *		Delivered-To address (forward.c), commands, files and
 *		includes go to their own modules.  Recursion ends at
 *		LOCAL_DEPTH_MAX levels.  An address that names one of its own
 *		ancestors ("a: a, b") skips the alias lookup and goes to the
 *		user's .forward or mailbox; an address met again elsewhere in
 *		the same expansion is skipped.  Each final destination
 *		(mailbox, file, command, forwarded address) is tried once per
 *		request; a duplicate shares the outcome of the first attempt.
 *
 *		Every destination logs one line in Postfix's format and
 *		contributes to the recipient's result: deferred if any part
 *		was deferred, else bounced if any part bounced (the reason
 *		names the failing destination), else delivered.  When part of
 *		an expansion is deferred, forwarding is cancelled, so that the
 *		retry does not send the forwarded copies twice.
 * SECURITY	Runs as root; the modules switch to the recipient's ids for
 *		every file access.  The message headers are only read.
 * SEE ALSO	local(8), doc/local.md
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "mail/addr.h"
#include "mail/delivered.h"
#include "mail/mail_conf.h"
#include "mail/queue.h"
#include "mail/rewrite_clnt.h"
#include "server/server.h"
#include "util/log.h"
#include "util/mem.h"
#include "util/strutil.h"
#include "local.h"

/* The outcome of a final destination, for duplicates. */
struct local_dup {
	int	 status;
	char	 dsn[16];
	char	*reason;
};

/* local_dup_free - htable destructor */
static void
local_dup_free(void *p)
{
	struct local_dup *d = p;

	if (d) {
		free(d->reason);
		free(d);
	}
}

/* lower_dup - a lower-case copy */
static char *
lower_dup(const char *s)
{
	char *c = xstrdup(s);

	return str_lower(c);
}

/* local_addr_init - empty parts */
void
local_addr_init(struct local_addr *a)
{
	buf_init(&a->local);
	buf_init(&a->user);
	buf_init(&a->ext);
	buf_init(&a->delim);
	buf_init(&a->domain);
}

/* local_addr_free - release parts */
void
local_addr_free(struct local_addr *a)
{
	buf_free(&a->local);
	buf_free(&a->user);
	buf_free(&a->ext);
	buf_free(&a->delim);
	buf_free(&a->domain);
}

/*
 * local_addr_split - local part (lower case), user, extension and domain
 * of addr.  The extension starts at the first recipient_delimiter
 * character after the first position; with owner_request_special,
 * owner-name and name-request are never split.
 */
void
local_addr_split(const char *addr, struct local_addr *a)
{
	const char *at = strrchr(addr, '@');
	const char *delims = mail_cfg.recipient_delimiter;
	size_t llen = at ? (size_t)(at - addr) : strlen(addr), i;

	buf_set(&a->local, addr, llen);
	str_lower(a->local.p);
	buf_sets(&a->domain, at ? at + 1 : "");
	str_lower(a->domain.p);
	buf_set(&a->user, a->local.p, a->local.len);
	buf_sets(&a->ext, "");
	buf_sets(&a->delim, "");
	if (delims == NULL || *delims == 0)
		return;
	if (mail_cfg.owner_request_special &&
	    (str_prefix(a->local.p, "owner-") ||
	    str_suffix(a->local.p, "-request")))
		return;
	for (i = 1; i < a->local.len; i++) {
		if (strchr(delims, a->local.p[i]) != NULL) {
			buf_set(&a->user, a->local.p, i);
			buf_set(&a->ext, a->local.p + i + 1,
			    a->local.len - i - 1);
			buf_set(&a->delim, a->local.p + i, 1);
			return;
		}
	}
}

/* local_vars_fill - expansion variables of a level */
void
local_vars_fill(struct local_vars *v, const struct local_attr *attr,
    const struct local_addr *a, const struct local_privs *p)
{
	memset(v, 0, sizeof(*v));
	v->home = p ? p->home : "";
	v->user = p ? p->name : a->user.p;
	v->shell = p ? p->shell : "";
	v->extension = buf_str((struct buf *)&a->ext);
	v->recipient_delimiter = buf_str((struct buf *)&a->delim);
	v->domain = buf_str((struct buf *)&a->domain);
	v->local = buf_str((struct buf *)&a->local);
	v->recipient = attr->addr;
	v->sender = attr->sender;
}

/* local_merge - fold one outcome into the recipient's result */
static void
local_merge(struct local_result *res, int status, const char *dsn,
    const char *reason)
{
	int take;

	if (res->count == 0)
		take = 1;
	else if (status == DEL_STAT_DEFER)
		take = res->status != DEL_STAT_DEFER;
	else if (status == DEL_STAT_BOUNCE)
		take = res->status == DEL_STAT_OK;
	else
		take = res->status == DEL_STAT_OK;
	res->count++;
	if (!take)
		return;
	res->status = status;
	strlcpy_trunc(res->dsn, dsn, sizeof(res->dsn));
	buf_sets(&res->reason, reason);
}

/*
 * local_report - log the outcome of one destination (to=<addr>) and fold
 * it into the result.  dupkey (may be NULL) names the destination, so
 * that a duplicate later in the request gets the same outcome.
 */
void
local_report(struct local_msg *msg, struct local_result *res,
    const char *addr, const char *dupkey, int64_t start_us, int status,
    const char *dsn, const char *fmt, ...)
{
	struct deliver_req tmp = *msg->req;
	struct deliver_rcpt rc;
	struct buf reason = BUF_INIT;
	va_list ap;

	va_start(ap, fmt);
	buf_vprintf(&reason, fmt, ap);
	va_end(ap);
	memset(&rc, 0, sizeof(rc));
	rc.addr = (char *)addr;
	rc.orig = (char *)res->orig;
	tmp.rcpts = &rc;
	tmp.nrcpt = 1;
	deliver_log(&tmp, 0, srv.service ? srv.service : "local", start_us,
	    time_epoch_us(), dsn, status == DEL_STAT_OK ? "sent" :
	    status == DEL_STAT_BOUNCE ? "bounced" : "deferred",
	    buf_str(&reason));
	local_merge(res, status, dsn, buf_str(&reason));
	if (dupkey && msg->dups) {
		struct local_dup *d = xcalloc(1, sizeof(*d));

		d->status = status;
		strlcpy_trunc(d->dsn, dsn, sizeof(d->dsn));
		d->reason = xstrdup(buf_str(&reason));
		htable_delete(msg->dups, dupkey, local_dup_free);
		htable_enter(msg->dups, dupkey, d);
	}
	buf_free(&reason);
}

/*
 * local_dup_check - was this destination tried before in this request?
 * If so its outcome is folded into res (without another log line) and
 * 1 is returned.
 */
int
local_dup_check(struct local_msg *msg, struct local_result *res,
    const char *key)
{
	struct hnode *n;
	struct local_dup *d;

	if (msg->dups == NULL || (n = htable_locate(msg->dups, key)) == NULL)
		return 0;
	if ((d = n->value) != NULL)
		local_merge(res, d->status, d->dsn, d->reason);
	else
		local_merge(res, DEL_STAT_OK, "2.0.0", "duplicate");
	return 1;
}

/* local_is_ancestor - is addr the recipient of attr or of a parent? */
static int
local_is_ancestor(const struct local_attr *attr, const char *addr)
{
	for (; attr; attr = attr->parent)
		if (strcasecmp(attr->addr, addr) == 0)
			return 1;
	return 0;
}

/*
 * local_expand_addr - one address entry of a list: deliver it here when
 * it is local, else forward it.
 */
static void
local_expand_addr(struct local_msg *msg, struct local_result *res,
    struct local_attr *attr, const char *text)
{
	struct buf canon = BUF_INIT, why = BUF_INIT, key = BUF_INIT;
	struct resolve_reply rr;
	int64_t start = time_epoch_us();
	const char *service = srv.service ? srv.service : "local";

	resolve_reply_init(&rr);
	if (rewrite_addr("local", text, &canon, &why) < 0) {
		log_warn("%s: address rewriting failed for %s: %s",
		    msg->req->queue_id, text, buf_str(&why));
		local_report(msg, res, text, NULL, start, DEL_STAT_DEFER,
		    "4.3.0", "address rewriting service unavailable");
		goto out;
	}
	if (canon.len == 0) {
		/* "<>" and the like: nothing to deliver to. */
		goto out;
	}
	if (resolve_addr(attr->sender, canon.p, &rr, &why) < 0) {
		log_warn("%s: address resolving failed for %s: %s",
		    msg->req->queue_id, canon.p, buf_str(&why));
		local_report(msg, res, canon.p, NULL, start, DEL_STAT_DEFER,
		    "4.3.0", "address resolver service unavailable");
		goto out;
	}
	if (rr.flags & RESOLVE_FLAG_ERROR) {
		local_report(msg, res, canon.p, NULL, start, DEL_STAT_DEFER,
		    "4.3.0", "address resolver lookup error: %s",
		    buf_str(&rr.nexthop));
		goto out;
	}
	if (!(rr.flags & RESOLVE_FLAG_FAIL) &&
	    strcmp(buf_str(&rr.transport), service) == 0 &&
	    strcasecmp(buf_str(&rr.nexthop), msg->req->nexthop) == 0) {
		struct local_attr child;
		const char *addr = rr.recipient.len ? rr.recipient.p : canon.p;

		memset(&child, 0, sizeof(child));
		child.parent = attr;
		child.level = attr->level + 1;
		child.addr = addr;
		child.sender = attr->sender;
		child.privs = attr->privs;
		if (local_is_ancestor(attr, addr)) {
			child.no_alias = 1;
		} else {
			char *low = lower_dup(addr);

			if (htable_locate(res->seen, low) != NULL) {
				free(low);
				goto out;
			}
			htable_enter(res->seen, low, NULL);
			free(low);
		}
		local_recipient(msg, res, &child);
		goto out;
	}
	/* Not ours: forward it (once per request). */
	buf_printf(&key, "forward\t%s", canon.p);
	str_lower(key.p);
	if (msg->dups && htable_locate(msg->dups, key.p) != NULL)
		goto out;
	if (msg->dups)
		htable_enter(msg->dups, key.p, NULL);
	local_forward_add(res, attr->sender, attr->addr, canon.p);
out:
	resolve_reply_free(&rr);
	buf_free(&canon);
	buf_free(&why);
	buf_free(&key);
}

/*
 * local_expand_list - deliver the entries of an alias, .forward or
 * :include: list; attr describes the list (its address, class, sender
 * and privileges).
 */
void
local_expand_list(struct local_msg *msg, struct local_result *res,
    struct local_attr *attr, const struct local_toks *toks)
{
	size_t i;

	for (i = 0; i < toks->n; i++) {
		const struct local_tok *t = &toks->v[i];

		if (++res->work > LOCAL_WORK_MAX) {
			if (res->work == LOCAL_WORK_MAX + 1) {
				log_warn("%s: expansion of %s exceeds %d "
				    "entries", msg->req->queue_id, attr->addr,
				    LOCAL_WORK_MAX);
				local_report(msg, res, attr->addr, NULL,
				    time_epoch_us(), DEL_STAT_DEFER, "4.3.0",
				    "alias expansion too large");
			}
			return;
		}
		switch (t->type) {
		case LOCAL_TOK_ADDR:
			local_expand_addr(msg, res, attr, t->text);
			break;
		case LOCAL_TOK_USER:
			{
				struct local_attr child;
				struct buf a = BUF_INIT;
				const char *dom = strrchr(attr->addr, '@');
				size_t n = strcspn(t->text, "@");

				buf_put(&a, t->text, n);
				if (dom)
					buf_puts(&a, dom);
				memset(&child, 0, sizeof(child));
				child.parent = attr;
				child.level = attr->level + 1;
				child.addr = buf_str(&a);
				child.sender = attr->sender;
				child.user_only = 1;
				local_recipient(msg, res, &child);
				buf_free(&a);
			}
			break;
		case LOCAL_TOK_COMMAND:
			if (!(local_cfg.cmd_classes & attr->cls)) {
				local_report(msg, res, attr->addr, NULL,
				    time_epoch_us(), DEL_STAT_BOUNCE, "5.7.1",
				    "mail to command is restricted");
				break;
			}
			{
				struct local_addr a;

				local_addr_init(&a);
				local_addr_split(attr->addr, &a);
				local_command(msg, res, attr, &a, attr->privs,
				    t->text, 0);
				local_addr_free(&a);
			}
			break;
		case LOCAL_TOK_FILE:
			if (!(local_cfg.file_classes & attr->cls)) {
				local_report(msg, res, attr->addr, NULL,
				    time_epoch_us(), DEL_STAT_BOUNCE, "5.7.1",
				    "mail to file is restricted");
				break;
			}
			local_file(msg, res, attr, t->text);
			break;
		case LOCAL_TOK_INCLUDE:
			local_include(msg, res, attr, t->text);
			break;
		}
	}
}

/*
 * local_recipient - deliver to the recipient of attr (see the top of
 * this file).  Returns 0.
 */
int
local_recipient(struct local_msg *msg, struct local_result *res,
    struct local_attr *attr)
{
	struct local_addr a;
	struct local_privs pw;
	struct buf why = BUF_INIT;
	int64_t start = time_epoch_us();
	int r;

	if (attr->level > LOCAL_DEPTH_MAX) {
		log_warn("%s: possible alias loop: more than %d levels for %s",
		    msg->req->queue_id, LOCAL_DEPTH_MAX, attr->addr);
		local_report(msg, res, attr->addr, NULL, start,
		    DEL_STAT_BOUNCE, "5.4.6", "mail forwarding loop for %s",
		    attr->addr);
		return 0;
	}
	if (delivered_seen(msg->delivered, attr->addr)) {
		local_report(msg, res, attr->addr, NULL, start,
		    DEL_STAT_BOUNCE, "5.4.6", "mail forwarding loop for %s",
		    attr->addr);
		return 0;
	}
	local_addr_init(&a);
	memset(&pw, 0, sizeof(pw));
	local_addr_split(attr->addr, &a);
	if (a.user.len == 0 || strchr(a.user.p, '/') != NULL) {
		local_report(msg, res, attr->addr, NULL, start,
		    DEL_STAT_BOUNCE, "5.1.1", "unknown user: \"%s\"",
		    buf_str(&a.user));
		goto out;
	}
	if (!attr->user_only && !attr->no_alias &&
	    local_alias(msg, res, attr, &a) != 0)
		goto out;
	r = local_getpw(a.user.p, 0, &pw, &why);
	if (r < 0) {
		local_report(msg, res, attr->addr, NULL, start, DEL_STAT_DEFER,
		    "4.3.0", "%s", buf_str(&why));
		goto out;
	}
	if (r == 0) {
		local_report(msg, res, attr->addr, NULL, start,
		    DEL_STAT_BOUNCE, "5.1.1", "unknown user: \"%s\"",
		    a.user.p);
		goto out;
	}
	if (!attr->user_only && local_dotforward(msg, res, attr, &a, &pw) != 0)
		goto out;
	local_mailbox(msg, res, attr, &a, &pw);
out:
	local_privs_free(&pw);
	local_addr_free(&a);
	buf_free(&why);
	return 0;
}

/* local_defer_all - every recipient deferred for the same reason */
static void
local_defer_all(const struct deliver_req *req, struct deliver_result *out,
    const char *reason)
{
	size_t i;
	int64_t now = time_epoch_us();

	for (i = 0; i < req->nrcpt; i++) {
		deliver_log(req, i, srv.service ? srv.service : "local", now,
		    now, "4.3.0", "deferred", reason);
		deliver_result_set(&out[i], DEL_STAT_DEFER, "4.3.0", "%s",
		    reason);
	}
}

/*
 * local_deliver_message - deliver one request; out has one result per
 * request recipient.
 */
void
local_deliver_message(const struct deliver_req *req,
    struct deliver_result *out)
{
	struct local_msg msg;
	struct buf path = BUF_INIT, why = BUF_INIT;
	size_t i;

	memset(&msg, 0, sizeof(msg));
	msg.req = req;
	queue_path(&path, req->queue_name, req->queue_id);
	if ((msg.fd = open(path.p, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) < 0) {
		buf_printf(&why, "cannot open queue file %s: %s", path.p,
		    strerror(errno));
		log_warn("%s: %s", req->queue_id, why.p);
		local_defer_all(req, out, "queue file unavailable");
		goto done;
	}
	msg.delivered = htable_create(16);
	msg.dups = htable_create(64);
	if (delivered_collect(msg.fd, req->data_offset, msg.delivered,
	    &why) < 0) {
		log_warn("%s: %s", req->queue_id, buf_str(&why));
		local_defer_all(req, out, buf_str(&why));
		goto done;
	}
	for (i = 0; i < req->nrcpt; i++) {
		struct local_result res;
		struct local_attr top;
		char *low;

		memset(&res, 0, sizeof(res));
		res.idx = i;
		res.status = DEL_STAT_OK;
		strcpy(res.dsn, "2.0.0");
		buf_init(&res.reason);
		res.seen = htable_create(16);
		res.orig = req->rcpts[i].orig && *req->rcpts[i].orig ?
		    req->rcpts[i].orig : req->rcpts[i].addr;
		memset(&top, 0, sizeof(top));
		top.addr = req->rcpts[i].addr;
		top.sender = req->sender;
		low = lower_dup(top.addr);
		htable_enter(res.seen, low, NULL);
		free(low);

		local_recipient(&msg, &res, &top);
		local_forward_flush(&msg, &res, res.count > 0 &&
		    res.status == DEL_STAT_DEFER);
		local_become_root();

		if (res.count == 0)
			deliver_result_set(&out[i], DEL_STAT_OK, "2.0.0",
			    "delivered");
		else
			deliver_result_set(&out[i], res.status, res.dsn, "%s",
			    buf_str(&res.reason));
		local_forward_free(&res);
		htable_free(res.seen, NULL);
		buf_free(&res.reason);
	}
done:
	if (msg.fd >= 0)
		(void)close(msg.fd);
	if (msg.delivered)
		htable_free(msg.delivered, NULL);
	if (msg.dups)
		htable_free(msg.dups, local_dup_free);
	buf_free(&path);
	buf_free(&why);
}
