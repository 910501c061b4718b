/*
 * NAME		mailbox - delivery to the user's mailbox
 * DESCRIPTION	In this order: mailbox_command when set (run like a
 *		|command, as the user, with the "From " line); else
 *		home_mailbox, relative to the home directory, a trailing "/"
 *		meaning Maildir; else mail_spool_directory/user, where a
 *		trailing "/" on mail_spool_directory means a Maildir
 *		mail_spool_directory/user/.
 *
 *		mbox: the locks of mailbox_delivery_lock (dotlock, fcntl),
 *		then "From sender date", Return-Path:, X-Original-To: and
 *		Delivered-To: in front of the message, ">From " quoting, a
 *		blank line at the end, fsync.  When the spool directory is
 *		not writable by the user (/var/mail is usually not), the
 *		lock and a new mailbox are created with root privileges and
 *		the new mailbox is given to the user (mode 0600).  On any
 *		error the mailbox is cut back to its old size.  Growing the
 *		mailbox beyond mailbox_size_limit bounces (5.2.2).
 *
 *		Maildir: see maildir(3).  The file name is deterministic
 *		(arrival time, queue ID, recipient offset), so a delivery
 *		repeated after a crash finds the earlier copy and reports
 *		success without writing it again.
 * SECURITY	Every file access is made with the recipient's effective
 *		ids, except the creation of a spool mailbox and its lock,
 *		which is made as root and refuses symbolic links, files with
 *		more than one link and files owned by anyone else.
 * SEE ALSO	local(8), doc/local.md
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
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
#include "util/strutil.h"
#include "local.h"

/* mbox_dsn - the status code for an errno value from a mailbox write */
static const char *
mbox_dsn(int err, const char *def)
{
	if (err == EFBIG || err == EDQUOT)
		return "5.2.2";
	if (err == ENOSPC)
		return "4.3.1";
	return def;
}

/* local_copy_src - the message as mail_copy() wants it */
static void
local_copy_src(struct mail_copy_src *src, struct local_msg *msg,
    struct local_result *res, struct local_attr *attr)
{
	memset(src, 0, sizeof(*src));
	src->fd = msg->fd;
	src->data_offset = msg->req->data_offset;
	src->sender = attr->sender;
	src->delivered = attr->addr;
	src->orig_rcpt = local_cfg.enable_original_recipient ? res->orig :
	    NULL;
}

/* dir_writable - can the current effective ids create files in path's
 * directory? */
static int
dir_writable(const char *path)
{
	char *copy = xstrdup(path);
	int r = faccessat(AT_FDCWD, dirname(copy), W_OK | X_OK,
	    AT_EACCESS) == 0;

	free(copy);
	return r;
}

/*
 * local_maildir - deliver into the Maildir dir with privileges p.
 * from_file is set for a "/path/" entry (logged as such).
 */
void
local_maildir(struct local_msg *msg, struct local_result *res,
    struct local_attr *attr, const struct local_privs *p, const char *dir,
    int from_file)
{
	const struct deliver_req *req = msg->req;
	struct mail_copy_src src;
	struct buf name = BUF_INIT, why = BUF_INIT, key = BUF_INIT;
	int64_t start = time_epoch_us();
	int r, err, flags;

	buf_printf(&key, "maildir\t%s", dir);
	if (local_dup_check(msg, res, key.p))
		goto out;
	local_copy_src(&src, msg, res, attr);
	flags = MAIL_COPY_RETURN_PATH | MAIL_COPY_ORIG_RCPT;
	if (!from_file || (local_cfg.hdr_mask & LOCAL_HDR_FILE))
		flags |= MAIL_COPY_DELIVERED;
	maildir_name(&name, (long)(req->arrival_us / 1000000),
	    req->queue_id, req->rcpts[res->idx].offset, mail_cfg.myhostname);
	local_become(p);
	r = maildir_deliver(dir, name.p, &src, flags,
	    (off_t)local_cfg.mailbox_size_limit,
	    (req->flags & DEL_FLAG_RETRY) != 0, &why, &err);
	local_become_root();
	if (r == MAILDIR_ALREADY) {
		log_info("%s: %s already delivered to maildir %s",
		    req->queue_id, name.p, dir);
		local_report(msg, res, attr->addr, key.p, start, DEL_STAT_OK,
		    "2.0.0", "delivered to maildir");
	} else if (r == MAILDIR_DELIVERED) {
		local_report(msg, res, attr->addr, key.p, start, DEL_STAT_OK,
		    "2.0.0", "delivered to maildir");
	} else {
		const char *dsn = err ? mbox_dsn(err, "4.2.0") : "4.3.0";

		local_report(msg, res, attr->addr, key.p, start, dsn[0] == '5' ?
		    DEL_STAT_BOUNCE : DEL_STAT_DEFER, dsn, "maildir delivery "
		    "failed: %s", buf_str(&why));
	}
out:
	buf_free(&name);
	buf_free(&why);
	buf_free(&key);
}

/*
 * mbox_deliver - append to the mbox path as user p; when p cannot create
 * files in the mailbox's directory (a root-owned spool), the lock and a
 * new mailbox are created as root.
 */
static void
mbox_deliver(struct local_msg *msg, struct local_result *res,
    struct local_attr *attr, const struct local_privs *p, const char *path)
{
	struct mail_copy_src src;
	struct mbox mb;
	struct buf why = BUF_INIT, key = BUF_INIT;
	int64_t start = time_epoch_us();
	int as_root = 0, err = 0, st, status, flags = MAIL_COPY_MBOX;
	off_t limit = 0;
	uid_t owner = mail_cfg.unprivileged ? getuid() : p->uid;
	const char *dsn = NULL;

	buf_printf(&key, "mailbox\t%s", path);
	if (local_dup_check(msg, res, key.p))
		goto out;
	local_copy_src(&src, msg, res, attr);
	if (!local_cfg.enable_original_recipient)
		flags &= ~MAIL_COPY_ORIG_RCPT;
	local_become(p);
	if (!mail_cfg.unprivileged && p->uid != 0 && !dir_writable(path)) {
		/* A spool directory the user cannot write. */
		local_become_root();
		as_root = 1;
	}
	if (mbox_open(&mb, path, local_cfg.lock_mask, owner, p->gid, as_root,
	    &why, &err) < 0) {
		local_become_root();
		dsn = mbox_dsn(err, "4.2.0");
		goto failed;
	}
	/* A full mailbox gets a limit of one byte: the copy fails at once. */
	if (local_cfg.mailbox_size_limit > 0)
		limit = mb.size >= local_cfg.mailbox_size_limit ? 1 :
		    (off_t)local_cfg.mailbox_size_limit - mb.size;
	st = mail_copy(&src, mb.fd, flags, limit, NULL, &why, &err);
	if (st == MAIL_COPY_STAT_OK && mb.regular && fsync(mb.fd) < 0) {
		err = errno;
		buf_printf(&why, "error writing message: %s", strerror(err));
		st = MAIL_COPY_STAT_WRITE;
	}
	if (st != MAIL_COPY_STAT_OK) {
		if (mbox_truncate(&mb) < 0)
			log_warn("%s: cannot truncate mailbox %s after a "
			    "failed delivery: %m", msg->req->queue_id, path);
		dsn = st == MAIL_COPY_STAT_READ ? "4.3.0" :
		    mbox_dsn(err, "4.2.0");
	}
	mbox_close(&mb);
	local_become_root();
	if (dsn == NULL) {
		local_report(msg, res, attr->addr, key.p, start, DEL_STAT_OK,
		    "2.0.0", "delivered to mailbox");
		goto out;
	}
failed:
	status = dsn[0] == '5' ? DEL_STAT_BOUNCE : DEL_STAT_DEFER;
	local_report(msg, res, attr->addr, key.p, start, status, dsn,
	    "cannot update mailbox %s for user %s. %s", path, p->name,
	    buf_str(&why));
out:
	buf_free(&why);
	buf_free(&key);
}

/*
 * spool_maildir_prepare - make mail_spool_directory/user/ exist, created
 * as root and given to the user when the user cannot create it.
 */
static void
spool_maildir_prepare(const char *dir, const struct local_privs *p)
{
	struct stat st;
	char *copy;
	size_t len;

	if (mail_cfg.unprivileged || p->uid == 0)
		return;
	copy = xstrdup(dir);
	len = strlen(copy);
	while (len > 1 && copy[len - 1] == '/')
		copy[--len] = 0;
	if (lstat(copy, &st) == 0 || errno != ENOENT) {
		free(copy);
		return;
	}
	local_become(p);
	if (dir_writable(copy)) {
		local_become_root();
		free(copy);
		return;
	}
	local_become_root();
	if (mkdir(copy, 0700) == 0 && lchown(copy, p->uid, p->gid) < 0) {
		log_warn("cannot change ownership of %s: %m", copy);
		(void)rmdir(copy);
	}
	free(copy);
}

/* local_mailbox - deliver to the user's mailbox */
void
local_mailbox(struct local_msg *msg, struct local_result *res,
    struct local_attr *attr, const struct local_addr *a,
    const struct local_privs *p)
{
	struct local_vars vars;
	struct buf path = BUF_INIT, why = BUF_INIT;
	const char *spool = mail_cfg.mail_spool_directory;

	if (*local_cfg.mailbox_command) {
		local_vars_fill(&vars, attr, a, p);
		if (local_expand(local_cfg.mailbox_command, &vars,
		    local_cfg.command_expansion_filter, &path, &why) < 0) {
			log_warn("mailbox_command: %s", buf_str(&why));
			local_report(msg, res, attr->addr, NULL,
			    time_epoch_us(), DEL_STAT_DEFER, "4.3.0",
			    "mail system configuration error");
			goto out;
		}
		local_command(msg, res, attr, a, p, path.p, 1);
		goto out;
	}
	if (*local_cfg.home_mailbox) {
		buf_printf(&path, "%s/%s", p->home, local_cfg.home_mailbox);
		if (str_suffix(path.p, "/"))
			local_maildir(msg, res, attr, p, path.p, 0);
		else
			mbox_deliver(msg, res, attr, p, path.p);
		goto out;
	}
	if (str_suffix(spool, "/")) {
		buf_printf(&path, "%s%s/", spool, p->name);
		spool_maildir_prepare(path.p, p);
		local_maildir(msg, res, attr, p, path.p, 0);
	} else {
		buf_printf(&path, "%s/%s", spool, p->name);
		mbox_deliver(msg, res, attr, p, path.p);
	}
out:
	buf_free(&path);
	buf_free(&why);
}
