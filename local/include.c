/*
 * NAME		include - :include: files
 * DESCRIPTION	":include:/path" in an alias value or a .forward file
 *		delivers to the entries listed in the file, one list per line
 *		as in aliases(5), '#' lines being comments.  The file is read
 *		with the privileges of the list that names it (the alias
 *		table's owner or default_privs, or the .forward user); its
 *		commands and files run with the privileges of the file's
 *		owner, or of the naming list when root owns the file, and are
 *		allowed only when allow_mail_to_commands and
 *		allow_mail_to_files name the class "include".  An include
 *		file that names itself, directly or not, is read once.
 * SECURITY	The path must be absolute; the file must be a regular file
 *		that is not world writable, at most LOCAL_FILE_MAX bytes.
 * SEE ALSO	aliases(5), doc/local.md
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mail/mail_conf.h"
#include "util/files.h"
#include "util/log.h"
#include "util/mem.h"
#include "local.h"

/* inc_on_path - is this file being expanded by an ancestor? */
static int
inc_on_path(const struct local_attr *attr, const char *key)
{
	for (; attr; attr = attr->parent)
		if (attr->key && strcmp(attr->key, key) == 0)
			return 1;
	return 0;
}

/* local_include - deliver to the entries of an :include: file */
void
local_include(struct local_msg *msg, struct local_result *res,
    struct local_attr *attr, const char *path)
{
	const struct local_privs *rp = attr->privs ? attr->privs :
	    &local_default_privs;
	struct local_privs owner;
	struct buf key = BUF_INIT, text = BUF_INIT, why = BUF_INIT;
	struct local_toks toks;
	struct local_attr il;
	struct stat st;
	int64_t start = time_epoch_us();
	int fd, saved, have_owner = 0;
	size_t bad;

	memset(&owner, 0, sizeof(owner));
	local_toks_init(&toks);
	if (*path != '/') {
		log_warn(":include: file %s: not an absolute path", path);
		local_report(msg, res, attr->addr, NULL, start,
		    DEL_STAT_BOUNCE, "5.3.5",
		    "mail system configuration error");
		goto out;
	}
	if (attr->level >= LOCAL_DEPTH_MAX) {
		log_warn("%s: possible include loop: more than %d levels for "
		    "%s", msg->req->queue_id, LOCAL_DEPTH_MAX, path);
		local_report(msg, res, attr->addr, NULL, start,
		    DEL_STAT_BOUNCE, "5.4.6", "mail forwarding loop for %s",
		    attr->addr);
		goto out;
	}
	buf_printf(&key, "include\t%s", path);
	if (inc_on_path(attr, key.p)) {
		log_warn(":include: file %s includes itself -- ignored", path);
		goto out;
	}
	local_become(rp);
	fd = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	saved = errno;
	if (fd >= 0 && fstat(fd, &st) < 0) {
		saved = errno;
		close(fd);
		fd = -1;
	}
	if (fd >= 0 && S_ISREG(st.st_mode) && !(st.st_mode & S_IWOTH) &&
	    read_fd_all(fd, &text, LOCAL_FILE_MAX) < 0) {
		saved = errno;
		close(fd);
		fd = -1;
	}
	local_become_root();
	if (fd < 0) {
		log_warn("cannot open include file %s: %s", path,
		    strerror(saved));
		if (saved == ENOENT || saved == ENOTDIR || saved == EACCES ||
		    saved == ELOOP || saved == EFBIG)
			local_report(msg, res, attr->addr, NULL, start,
			    DEL_STAT_BOUNCE, "5.3.5", "cannot open include "
			    "file %s: %s", path, saved == EFBIG ?
			    "file too large" : strerror(saved));
		else
			local_report(msg, res, attr->addr, NULL, start,
			    DEL_STAT_DEFER, "4.3.0", "cannot open include "
			    "file %s: %s", path, strerror(saved));
		goto out;
	}
	close(fd);
	if (!S_ISREG(st.st_mode) || (st.st_mode & S_IWOTH)) {
		log_warn("include file %s: %s", path, S_ISREG(st.st_mode) ?
		    "file is world writable" : "not a regular file");
		local_report(msg, res, attr->addr, NULL, start,
		    DEL_STAT_BOUNCE, "5.3.5",
		    "mail system configuration error");
		goto out;
	}
	if (local_tokenize_file(buf_str(&text), text.len, &toks, &why,
	    &bad) < 0) {
		log_warn("include file %s: %s", path, buf_str(&why));
		local_report(msg, res, attr->addr, NULL, start, DEL_STAT_DEFER,
		    "4.3.0", "error in include file %s: %s", path,
		    buf_str(&why));
		goto out;
	}
	if (bad)
		log_warn("include file %s: %zu line(s) with a NUL byte ignored",
		    path, bad);
	if (toks.sloppy)
		log_warn("include file %s: unbalanced quote, comment or angle "
		    "bracket", path);
	if (!mail_cfg.unprivileged && st.st_uid != 0) {
		buf_reset(&why);
		if (local_getpw(NULL, st.st_uid, &owner, &why) <= 0) {
			owner.uid = st.st_uid;
			owner.gid = st.st_gid;
			owner.name = xasprintf("#%lu",
			    (unsigned long)st.st_uid);
			owner.home = xstrdup("/");
			owner.shell = xstrdup("/bin/sh");
		}
		have_owner = 1;
	}
	memset(&il, 0, sizeof(il));
	il.parent = attr;
	il.level = attr->level + 1;	/* nested includes count as levels */
	il.addr = attr->addr;
	il.sender = attr->sender;
	il.key = key.p;
	il.cls = LOCAL_CLASS_INCLUDE;
	il.privs = have_owner ? &owner : rp;
	local_expand_list(msg, res, &il, &toks);
out:
	if (have_owner)
		local_privs_free(&owner);
	local_toks_free(&toks);
	buf_free(&key);
	buf_free(&text);
	buf_free(&why);
}
