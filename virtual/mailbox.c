/*
 * NAME		mailbox - delivery into one virtual mailbox
 * DESCRIPTION	A path that ends in "/" is a Maildir (maildir(3): created
 *		when missing, deterministic file names so that a repeated
 *		delivery is not written twice); anything else an mbox file
 *		(mbox(3): created mode 0600 when missing, with missing
 *		parent directories mode 0700; locks of virtual_mailbox_lock;
 *		"From " line, ">From " quoting, a blank line at the end; cut
 *		back to its old size on any error).  Both get Return-Path:,
 *		X-Original-To: and Delivered-To: (mail_copy(3)).
 *
 *		Quota: a message that does not fit below the recipient's
 *		limit (mbox: the file size, Maildir: the files in new/ and
 *		cur/, plus the message) is refused with "Mailbox full":
 *		bounced with 5.2.2 when virtual_overquota_bounce is yes,
 *		else deferred with 4.2.2.  A file system quota (EDQUOT) is
 *		treated the same way.
 * SECURITY	Every file access runs with the mapped effective ids (never
 *		root); the ids are switched back to root at the end.  mbox
 *		files are opened with O_NOFOLLOW and refused when they have
 *		other hard links, another owner or are not regular files.
 * SEE ALSO	virtual(8), doc/virtual.md
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mail/mail_conf.h"
#include "mail/mail_copy.h"
#include "mail/maildir.h"
#include "mail/mbox.h"
#include "util/log.h"
#include "util/mem.h"
#include "util/proc.h"
#include "util/strutil.h"
#include "virtual.h"

/* vm_set - the outcome of the delivery */
static void
vm_set(struct virtual_result *vr, int status, const char *dsn,
    const char *text)
{
	vr->status = status;
	strlcpy_trunc(vr->dsn, dsn, sizeof(vr->dsn));
	buf_sets(&vr->reason, text);
}

/* vm_full - the mailbox is over its limit */
static void
vm_full(const struct virtual_box *box, off_t used, long msg,
    struct virtual_result *vr)
{
	struct buf t = BUF_INIT;

	if (box->limit > 0)
		buf_printf(&t, "Mailbox full: the mailbox of %s is over its "
		    "size limit (%lld bytes in use, message %ld bytes, limit "
		    "%lld bytes)", box->addr, (long long)used, msg,
		    (long long)box->limit);
	else
		buf_printf(&t, "Mailbox full: the mailbox of %s is over its "
		    "file system quota", box->addr);
	if (virtual_cfg.virtual_overquota_bounce)
		vm_set(vr, DEL_STAT_BOUNCE, "5.2.2", t.p);
	else
		vm_set(vr, DEL_STAT_DEFER, "4.2.2", t.p);
	buf_free(&t);
}

/* vm_failed - a write error: its status from errno */
static void
vm_failed(const struct virtual_box *box, int err, const char *what,
    const char *why, off_t used, long msg, struct virtual_result *vr)
{
	struct buf t = BUF_INIT;

	if ((err == EFBIG && box->limit > 0) || err == EDQUOT) {
		vm_full(box, used, msg, vr);
		return;
	}
	buf_printf(&t, "%s delivery failed: %s", what, why);
	vm_set(vr, DEL_STAT_DEFER, err == 0 ? "4.3.0" : err == ENOSPC ?
	    "4.3.1" : "4.2.0", t.p);
	buf_free(&t);
}

/* vm_become - the mapped ids (no-op when the instance is unprivileged) */
static void
vm_become(uid_t uid, gid_t gid)
{
	if (mail_cfg.unprivileged)
		return;
	if (uid == 0 || set_eugid(uid, gid) < 0)
		log_fatal("set effective ids %lu:%lu: %m", (unsigned long)uid,
		    (unsigned long)gid);
}

/* vm_become_root - back to root */
static void
vm_become_root(void)
{
	if (!mail_cfg.unprivileged && set_eugid(0, 0) < 0)
		log_fatal("set effective ids back to root: %m");
}

/*
 * vm_parents - create the missing parent directories of an mbox file
 * (mode 0700); errors show up when the file is opened
 */
static void
vm_parents(const char *path)
{
	char *copy = xstrdup(path), *p;
	struct stat st;

	if ((p = strrchr(copy, '/')) == NULL || p == copy ||
	    (*p = 0, lstat(copy, &st) == 0)) {
		free(copy);
		return;
	}
	for (p = copy + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = 0;
		(void)mkdir(copy, 0700);
		*p = '/';
	}
	(void)mkdir(copy, 0700);
	free(copy);
}

/* vm_maildir - deliver into the Maildir of box */
static void
vm_maildir(const struct deliver_req *req, size_t i,
    const struct mail_copy_src *src, const struct virtual_box *box,
    struct virtual_result *vr)
{
	struct buf name = BUF_INIT, why = BUF_INIT;
	off_t used = 0;
	int r, err = 0;

	maildir_name(&name, (long)(req->arrival_us / 1000000),
	    req->queue_id, req->rcpts[i].offset, mail_cfg.myhostname);
	/*
	 * A retry after a crash: a copy that made it counts as delivered,
	 * before the quota (which would count that copy) is looked at.
	 */
	if ((req->flags & DEL_FLAG_RETRY) && maildir_seen(box->path, name.p,
	    1)) {
		log_info("%s: %s already delivered to maildir %s",
		    req->queue_id, name.p, box->path);
		vm_set(vr, DEL_STAT_OK, "2.0.0", "delivered to maildir");
		goto out;
	}
	if (box->limit > 0 && virtual_maildir_usage(box->path,
	    VIRTUAL_SCAN_MAX, &used, &why) < 0) {
		vm_failed(box, EIO, "maildir", buf_str(&why), 0, 0, vr);
		goto out;
	}
	if (virtual_over_quota(used, (off_t)req->data_size, box->limit)) {
		vm_full(box, used, req->data_size, vr);
		goto out;
	}
	r = maildir_deliver(box->path, name.p, src, MAIL_COPY_MBOX,
	    virtual_copy_limit(used, box->limit),
	    (req->flags & DEL_FLAG_RETRY) != 0, &why, &err);
	if (r == MAILDIR_ALREADY) {
		log_info("%s: %s already delivered to maildir %s",
		    req->queue_id, name.p, box->path);
		vm_set(vr, DEL_STAT_OK, "2.0.0", "delivered to maildir");
	} else if (r == MAILDIR_DELIVERED) {
		vm_set(vr, DEL_STAT_OK, "2.0.0", "delivered to maildir");
	} else {
		vm_failed(box, err, "maildir", buf_str(&why), used,
		    req->data_size, vr);
	}
out:
	buf_free(&name);
	buf_free(&why);
}

/* vm_mbox - append to the mbox file of box */
static void
vm_mbox(const struct deliver_req *req, const struct mail_copy_src *src,
    const struct virtual_box *box, struct virtual_result *vr)
{
	struct mbox mb;
	struct buf why = BUF_INIT;
	int err = 0, st;
	uid_t owner = mail_cfg.unprivileged ? getuid() : box->uid;

	vm_parents(box->path);
	if (mbox_open(&mb, box->path, virtual_cfg.lock_mask |
	    MBOX_REGULAR_ONLY, owner, box->gid, 0, &why, &err) < 0) {
		vm_failed(box, err, "mailbox", buf_str(&why), 0, 0, vr);
		goto out;
	}
	if (virtual_over_quota(mb.size, (off_t)req->data_size, box->limit)) {
		vm_full(box, mb.size, req->data_size, vr);
		mbox_close(&mb);
		goto out;
	}
	st = mail_copy(src, mb.fd, MAIL_COPY_MBOX, virtual_copy_limit(mb.size,
	    box->limit), NULL, &why, &err);
	if (st == MAIL_COPY_STAT_OK && fsync(mb.fd) < 0) {
		err = errno;
		buf_printf(&why, "error writing message: %s", strerror(err));
		st = MAIL_COPY_STAT_WRITE;
	}
	if (st != MAIL_COPY_STAT_OK) {
		if (mbox_truncate(&mb) < 0)
			log_warn("%s: cannot truncate mailbox %s after a "
			    "failed delivery: %m", req->queue_id, box->path);
		vm_failed(box, st == MAIL_COPY_STAT_READ ? 0 : err, "mailbox",
		    buf_str(&why), mb.size, req->data_size, vr);
	} else {
		vm_set(vr, DEL_STAT_OK, "2.0.0", "delivered to mailbox");
	}
	mbox_close(&mb);
out:
	buf_free(&why);
}

/*
 * virtual_mailbox - deliver recipient i of req (queue file fd) into box
 * with the box's ids; the outcome into vr
 */
void
virtual_mailbox(const struct deliver_req *req, size_t i, int fd,
    const struct virtual_box *box, struct virtual_result *vr)
{
	struct mail_copy_src src;

	memset(&src, 0, sizeof(src));
	src.fd = fd;
	src.data_offset = req->data_offset;
	src.sender = req->sender;
	src.delivered = box->addr;
	src.orig_rcpt = box->orig;
	vm_become(box->uid, box->gid);
	if (box->maildir)
		vm_maildir(req, i, &src, box, vr);
	else
		vm_mbox(req, &src, box, vr);
	vm_become_root();
}
