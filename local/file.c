/*
 * NAME		file - "/file/name" destinations
 * DESCRIPTION	The message is appended in mbox format ("From " line,
 *		Return-Path:, X-Original-To:, ">From " quoting, a blank line
 *		at the end; Delivered-To: when prepend_delivered_header names
 *		"file"), with the locks of mailbox_delivery_lock; a dot-lock
 *		that cannot be created (no write permission on the directory)
 *		is skipped.  A path that ends in "/" is a Maildir.  Character
 *		devices such as /dev/null are written without locks.  On an
 *		error the file is cut back to its old size.
 * SECURITY	Written with the privileges of the list that named it (the
 *		alias table owner, the :include: file owner or the .forward
 *		user), never as root: default_privs instead.  Symbolic links,
 *		files with more than one link and executable files are
 *		refused.
 * SEE ALSO	local(8), doc/local.md
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mail/mail_conf.h"
#include "mail/mail_copy.h"
#include "mail/mbox.h"
#include "util/log.h"
#include "util/strutil.h"
#include "local.h"

/* local_file - append the message to a file (or Maildir) */
void
local_file(struct local_msg *msg, struct local_result *res,
    struct local_attr *attr, const char *path)
{
	const struct local_privs *p = local_safe_privs(attr->privs);
	struct mail_copy_src src;
	struct mbox mb;
	struct stat st;
	struct buf why = BUF_INIT, key = BUF_INIT;
	int64_t start = time_epoch_us();
	int flags = MAIL_COPY_MBOX & ~MAIL_COPY_DELIVERED, err = 0, cs;
	off_t limit = 0;
	const char *dsn = NULL;

	if (str_suffix(path, "/")) {
		local_maildir(msg, res, attr, p, path, 1);
		goto out;
	}
	buf_printf(&key, "file\t%s", path);
	if (local_dup_check(msg, res, key.p))
		goto out;
	if (local_cfg.hdr_mask & LOCAL_HDR_FILE)
		flags |= MAIL_COPY_DELIVERED;
	if (!local_cfg.enable_original_recipient)
		flags &= ~MAIL_COPY_ORIG_RCPT;
	memset(&src, 0, sizeof(src));
	src.fd = msg->fd;
	src.data_offset = msg->req->data_offset;
	src.sender = attr->sender;
	src.delivered = attr->addr;
	src.orig_rcpt = res->orig;

	local_become(p);
	if (mbox_open(&mb, path, local_cfg.lock_mask | MBOX_DOTLOCK_MAY_FAIL,
	    (uid_t)-1, (gid_t)-1, 0, &why, &err) < 0) {
		local_become_root();
		dsn = err == ENOENT || err == EACCES || err == ENOTDIR ||
		    err == ELOOP || err == EISDIR || err == EPERM ?
		    "5.2.0" : "4.2.0";
		local_report(msg, res, attr->addr, key.p, start, dsn[0] == '5' ?
		    DEL_STAT_BOUNCE : DEL_STAT_DEFER, dsn, "%s",
		    buf_str(&why));
		goto out;
	}
	if (mb.regular && fstat(mb.fd, &st) == 0 &&
	    (st.st_mode & (S_IXUSR | S_IXGRP | S_IXOTH))) {
		mbox_close(&mb);
		local_become_root();
		buf_printf(&why, "executable bit is set on file %s", path);
		dsn = "5.3.5";
		goto failed;
	}
	if (mb.regular && local_cfg.mailbox_size_limit > 0)
		limit = mb.size >= local_cfg.mailbox_size_limit ? 1 :
		    (off_t)local_cfg.mailbox_size_limit - mb.size;
	cs = mail_copy(&src, mb.fd, flags, limit, NULL, &why, &err);
	if (cs == MAIL_COPY_STAT_OK && mb.regular && fsync(mb.fd) < 0) {
		err = errno;
		buf_printf(&why, "error writing message: %s", strerror(err));
		cs = MAIL_COPY_STAT_WRITE;
	}
	if (cs != MAIL_COPY_STAT_OK) {
		if (mbox_truncate(&mb) < 0)
			log_warn("%s: cannot truncate %s after a failed "
			    "delivery: %m", msg->req->queue_id, path);
		dsn = cs == MAIL_COPY_STAT_READ ? "4.3.0" :
		    err == EFBIG || err == EDQUOT ? "5.2.2" :
		    err == ENOSPC ? "4.3.1" : "4.2.0";
	}
	mbox_close(&mb);
	local_become_root();
	if (dsn == NULL) {
		local_report(msg, res, attr->addr, key.p, start, DEL_STAT_OK,
		    "2.0.0", "delivered to file: %s", path);
		goto out;
	}
failed:
	local_report(msg, res, attr->addr, key.p, start, dsn[0] == '5' ?
	    DEL_STAT_BOUNCE : DEL_STAT_DEFER, dsn,
	    "cannot append message to file %s: %s", path, buf_str(&why));
out:
	buf_free(&why);
	buf_free(&key);
}
