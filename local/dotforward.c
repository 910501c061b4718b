/*
 * NAME		dotforward - the user's .forward file
 * DESCRIPTION	forward_path (default "$home/.forward${recipient_delimiter}
 *		${extension}, $home/.forward") is expanded for the recipient
 *		and the first file in it that exists and passes the checks
 *		is used: mail goes to the entries it lists instead of the
 *		mailbox.  The file is opened with the user's privileges and
 *		must be a regular file owned by the user and writable by no
 *		one else; a file that fails a check is ignored with a warning,
 *		as Postfix does.  One line is a list as in aliases(5);
 *		lines that start with '#' are comments.  A file without
 *		entries counts as absent.  "\user" in the file, or the user's
 *		own address, delivers to the mailbox.
 * SECURITY	The file belongs to the user and is read with the user's
 *		privileges, at most LOCAL_FILE_MAX bytes.  Commands and
 *		files in it run with the user's privileges.
 * SEE ALSO	local(8), doc/local.md
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mail/mail_conf.h"
#include "util/argv.h"
#include "util/files.h"
#include "util/log.h"
#include "util/mem.h"
#include "util/strutil.h"
#include "local.h"

/* fwd_on_path - is this file being expanded by an ancestor? */
static int
fwd_on_path(const struct local_attr *attr, const char *key)
{
	for (; attr; attr = attr->parent)
		if (attr->key && strcmp(attr->key, key) == 0)
			return 1;
	return 0;
}

/*
 * fwd_read - read one candidate file as the user.  Returns 1 with the
 * text, 0 when the file does not exist or must be ignored, -1 with a
 * reason on an error that should defer the mail.
 */
static int
fwd_read(const char *path, const struct local_privs *pw, struct buf *text,
    struct buf *why)
{
	struct stat st;
	int fd, saved, r;

	local_become(pw);
	fd = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	saved = errno;
	if (fd < 0) {
		local_become_root();
		if (saved == ENOENT || saved == ENOTDIR || saved == EACCES ||
		    saved == ELOOP || saved == ENAMETOOLONG)
			return 0;
		buf_printf(why, "cannot open %s: %s", path, strerror(saved));
		return -1;
	}
	if (fstat(fd, &st) < 0) {
		saved = errno;
		close(fd);
		local_become_root();
		buf_printf(why, "cannot examine %s: %s", path,
		    strerror(saved));
		return -1;
	}
	if (!S_ISREG(st.st_mode)) {
		log_warn("file %s is not a regular file -- ignored", path);
		r = 0;
	} else if (!mail_cfg.unprivileged && st.st_uid != pw->uid) {
		log_warn("file %s has bad owner uid %lu -- ignored", path,
		    (unsigned long)st.st_uid);
		r = 0;
	} else if (st.st_mode & (S_IWGRP | S_IWOTH)) {
		log_warn("file %s is group or world writable -- ignored",
		    path);
		r = 0;
	} else if (read_fd_all(fd, text, LOCAL_FILE_MAX) < 0) {
		saved = errno;
		if (saved == EFBIG) {
			log_warn("file %s is larger than %d bytes -- ignored",
			    path, LOCAL_FILE_MAX);
			r = 0;
		} else {
			buf_printf(why, "cannot read %s: %s", path,
			    strerror(saved));
			r = -1;
		}
	} else {
		r = 1;
	}
	close(fd);
	local_become_root();
	return r;
}

/*
 * local_dotforward - deliver to the entries of the user's .forward file.
 * Returns 1 when the recipient was dealt with (a file was used, or the
 * recipient was deferred), 0 when there is no usable file.
 */
int
local_dotforward(struct local_msg *msg, struct local_result *res,
    struct local_attr *attr, const struct local_addr *a,
    const struct local_privs *pw)
{
	struct local_vars vars;
	struct buf list = BUF_INIT, why = BUF_INIT, text = BUF_INIT;
	struct buf key = BUF_INIT;
	struct argv done;
	struct local_toks toks;
	char *cp, *path;
	int handled = 0, r;
	size_t bad;

	argv_init(&done);
	local_toks_init(&toks);
	if (*local_cfg.forward_path == 0)
		goto out;
	local_vars_fill(&vars, attr, a, pw);
	if (local_expand(local_cfg.forward_path, &vars,
	    local_cfg.command_expansion_filter, &list, &why) < 0) {
		log_warn("forward_path: %s", buf_str(&why));
		local_report(msg, res, attr->addr, NULL, time_epoch_us(),
		    DEL_STAT_DEFER, "4.3.0", "mail system configuration error");
		handled = 1;
		goto out;
	}
	cp = list.p;
	while ((path = str_token(&cp, SEPARATORS)) != NULL) {
		if (*path != '/' || strstr(path, "/../") != NULL ||
		    str_suffix(path, "/..") || argv_find(&done, path) >= 0)
			continue;
		argv_add(&done, path);
		buf_reset(&key);
		buf_printf(&key, "forward\t%s", path);
		if (fwd_on_path(attr, key.p))
			continue;
		buf_reset(&why);
		if ((r = fwd_read(path, pw, &text, &why)) < 0) {
			log_warn("%s: %s", msg->req->queue_id, buf_str(&why));
			local_report(msg, res, attr->addr, NULL,
			    time_epoch_us(), DEL_STAT_DEFER, "4.3.0",
			    "cannot read forward file: %s", buf_str(&why));
			handled = 1;
			goto out;
		}
		if (r == 0)
			continue;
		local_toks_free(&toks);
		buf_reset(&why);
		if (local_tokenize_file(text.p, text.len, &toks, &why,
		    &bad) < 0) {
			log_warn("file %s: %s", path, buf_str(&why));
			local_report(msg, res, attr->addr, NULL,
			    time_epoch_us(), DEL_STAT_DEFER, "4.3.0",
			    "error in forward file %s: %s", path,
			    buf_str(&why));
			handled = 1;
			goto out;
		}
		if (bad)
			log_warn("file %s: %zu line(s) with a NUL byte ignored",
			    path, bad);
		if (toks.sloppy)
			log_warn("file %s: unbalanced quote, comment or angle "
			    "bracket", path);
		if (toks.n == 0)
			continue;
		{
			struct local_attr fl;

			memset(&fl, 0, sizeof(fl));
			fl.parent = attr;
			fl.level = attr->level;
			fl.addr = attr->addr;
			fl.sender = attr->sender;
			fl.key = key.p;
			fl.cls = LOCAL_CLASS_FORWARD;
			fl.privs = pw;
			local_expand_list(msg, res, &fl, &toks);
		}
		handled = 1;
		break;
	}
out:
	argv_clear(&done);
	local_toks_free(&toks);
	buf_free(&list);
	buf_free(&why);
	buf_free(&text);
	buf_free(&key);
	return handled;
}
