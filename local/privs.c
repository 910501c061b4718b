/*
 * NAME		privs - whose privileges a delivery runs with
 * DESCRIPTION	local(8) runs as root and takes on a user's identity for
 *		each file access (effective ids, switched back right after)
 *		and for each command (a child that drops root for good).
 *		Mailboxes and .forward files use the recipient's ids; alias
 *		entries use the owner of the alias table, :include: entries
 *		the owner of the file, and when that owner is root,
 *		default_privs.  Commands and files are never run or written
 *		as root: local_safe_privs() substitutes default_privs.  When
 *		the whole instance runs as an ordinary user, nothing changes
 *		ids and every delivery runs as that user.
 * SECURITY	A failure to change ids is fatal: going on could write
 *		with the wrong privileges.
 */
#include <errno.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mail/mail_conf.h"
#include "util/log.h"
#include "util/mem.h"
#include "util/proc.h"
#include "local.h"

struct local_privs local_default_privs;

/* local_privs_from_pw - privileges of a passwd entry */
void
local_privs_from_pw(struct local_privs *p, const struct passwd *pw)
{
	p->uid = pw->pw_uid;
	p->gid = pw->pw_gid;
	p->name = xstrdup(pw->pw_name ? pw->pw_name : "");
	p->home = xstrdup(pw->pw_dir && *pw->pw_dir ? pw->pw_dir : "/");
	p->shell = xstrdup(pw->pw_shell && *pw->pw_shell ? pw->pw_shell :
	    "/bin/sh");
}

/* local_privs_copy - deep copy */
void
local_privs_copy(struct local_privs *dst, const struct local_privs *src)
{
	dst->uid = src->uid;
	dst->gid = src->gid;
	dst->name = xstrdup(src->name);
	dst->home = xstrdup(src->home);
	dst->shell = xstrdup(src->shell);
}

/* local_privs_free - release the strings */
void
local_privs_free(struct local_privs *p)
{
	free(p->name);
	free(p->home);
	free(p->shell);
	memset(p, 0, sizeof(*p));
}

/*
 * local_getpw - the account named name (or, when name is NULL, with
 * uid).  Returns 1 found, 0 no such account, -1 lookup error with a
 * reason.
 */
int
local_getpw(const char *name, uid_t uid, struct local_privs *p,
    struct buf *why)
{
	struct passwd pwd, *pw = NULL;
	char *mem;
	long sz = sysconf(_SC_GETPW_R_SIZE_MAX);
	int rc;

	if (sz < 16384)
		sz = 16384;
	mem = xmalloc((size_t)sz);
	for (;;) {
		rc = name ? getpwnam_r(name, &pwd, mem, (size_t)sz, &pw) :
		    getpwuid_r(uid, &pwd, mem, (size_t)sz, &pw);
		if (rc != ERANGE || sz >= 1024 * 1024)
			break;
		sz *= 2;
		mem = xrealloc(mem, (size_t)sz);
	}
	if (pw != NULL) {
		local_privs_from_pw(p, pw);
		free(mem);
		return 1;
	}
	free(mem);
	if (rc == 0 || rc == ENOENT || rc == ESRCH || rc == EBADF ||
	    rc == EPERM)
		return 0;
	buf_printf(why, "user database lookup error: %s", strerror(rc));
	return -1;
}

/*
 * local_safe_privs - p, or default_privs when p is root (commands and
 * files never run as root)
 */
const struct local_privs *
local_safe_privs(const struct local_privs *p)
{
	if (p == NULL || (p->uid == 0 && !mail_cfg.unprivileged))
		return &local_default_privs;
	return p;
}

/* local_become - take the user's effective ids (no-op unprivileged) */
void
local_become(const struct local_privs *p)
{
	if (mail_cfg.unprivileged)
		return;
	if (set_eugid(p->uid, p->gid) < 0)
		log_fatal("set effective ids %lu:%lu: %m",
		    (unsigned long)p->uid, (unsigned long)p->gid);
}

/* local_become_root - back to root (no-op unprivileged) */
void
local_become_root(void)
{
	if (mail_cfg.unprivileged)
		return;
	if (set_eugid(0, 0) < 0)
		log_fatal("set effective ids back to root: %m");
}
