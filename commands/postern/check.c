/*
 * NAME		check - "postern check": configuration and queue sanity
 * DESCRIPTION	Parses main.cf and master.cf (errors are fatal), warns
 *		about parameters that no Postern program knows, makes sure
 *		every program master.cf names exists in daemon_directory, and
 *		creates or repairs the queue directory tree: owners (root for
 *		the queue directory and pid/, mail_owner for the rest,
 *		setgid_group for maildrop/ and public/) and modes (see
 *		queue_dirs[] in lib/mail/queue.c).  With set_perms, also makes
 *		postdrop and postqueue setgid setgid_group.
 * SECURITY	Only root changes owners; a non-root instance keeps the
 *		invoking user's ownership.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mail/mail_conf.h"
#include "mail/mastercf.h"
#include "mail/param_tables.h"
#include "mail/queue.h"
#include "util/files.h"
#include "util/log.h"
#include "util/mem.h"
#include "postern.h"

/* check_dir - create and fix one directory */
static int
check_dir(const char *path, mode_t mode, uid_t uid, gid_t gid)
{
	struct stat st;
	int created = 0;

	if (mkdir(path, mode) == 0)
		created = 1;
	else if (errno != EEXIST) {
		log_warn("create %s: %m", path);
		return -1;
	}
	if (lstat(path, &st) < 0 || !S_ISDIR(st.st_mode)) {
		log_warn("%s is not a directory", path);
		return -1;
	}
	if (geteuid() == 0 && (st.st_uid != uid || st.st_gid != gid)) {
		if (!created)
			log_info("fixing owner of %s", path);
		if (chown(path, uid, gid) < 0) {
			log_warn("chown %s: %m", path);
			return -1;
		}
	}
	if ((st.st_mode & 07777) != mode) {
		if (!created)
			log_info("fixing mode of %s", path);
		if (chmod(path, mode) < 0) {
			log_warn("chmod %s: %m", path);
			return -1;
		}
	}
	return 0;
}

/* check_setgid - make a command setgid setgid_group */
static int
check_setgid(const char *name)
{
	char *path = xasprintf("%s/%s", mail_cfg.command_directory, name);
	int r = 0;

	if (geteuid() != 0) {
		log_warn("set-permissions needs root");
		r = -1;
	} else if (chown(path, 0, mail_cfg.sgid_gid) < 0 ||
	    chmod(path, 02755) < 0) {
		log_warn("%s: %m", path);
		r = -1;
	}
	free(path);
	return r;
}

/*
 * check_jail_etc - chrooted daemons read etc/ in the queue directory
 * (the resolver's resolv.conf, hosts, services, localtime), as with
 * Postfix.  Copy each file from /etc when the copy is missing or older;
 * a newer copy (one the postmaster or a test wrote) is left alone.
 */
static void
check_jail_etc(void)
{
	static const char *const files[] = {"resolv.conf", "hosts",
	    "services", "localtime", "host.conf", "nsswitch.conf", NULL};
	struct buf text = BUF_INIT;
	struct stat src, dst;
	int i;

	if (mkdir("etc", 0755) < 0 && errno != EEXIST) {
		log_warn("create %s/etc: %m", mail_cfg.queue_directory);
		return;
	}
	for (i = 0; files[i]; i++) {
		char *from = xasprintf("/etc/%s", files[i]);
		char *to = xasprintf("etc/%s", files[i]);

		if (stat(from, &src) == 0 && S_ISREG(src.st_mode) &&
		    (stat(to, &dst) < 0 || dst.st_mtime < src.st_mtime)) {
			if (file_read(from, &text, 1024 * 1024) < 0 ||
			    file_replace(to, text.p ? text.p : "", text.len,
			    0644) < 0)
				log_warn("copy %s to %s/%s: %m", from,
				    mail_cfg.queue_directory, to);
		}
		free(from);
		free(to);
	}
	buf_free(&text);
}

/* postern_check - the whole check; 0 ok, -1 problems */
int
postern_check(int set_perms)
{
	struct mcf m;
	struct buf why = BUF_INIT;
	char *path;
	int r = 0, i;
	size_t k;
	uid_t owner;
	gid_t owner_gid, drop_gid;

	mail_conf_resolve_ids(geteuid() == 0);
	path = xasprintf("%s/master.cf", mail_cfg.config_directory);
	if (mcf_read(path, &m, &why) < 0)
		log_fatal("%s", buf_str(&why));
	free(path);
	for (k = 0; k < m.n; k++) {
		struct stat st;

		path = xasprintf("%s/%s", mail_cfg.daemon_directory,
		    m.v[k].args->v[0]);
		if (stat(path, &st) < 0 || !(st.st_mode & S_IXUSR)) {
			/* master throttles it at run time; not fatal. */
			log_warn("master.cf line %d: %s: program not found",
			    m.v[k].line, path);
		}
		free(path);
	}
	mcf_free(&m);

	/* Parameters nobody knows: a warning, as Postfix does. */
	{
		char **names = conf_names(mail_conf, 0);

		for (i = 0; names[i]; i++) {
			if (param_tables_find(names[i]) == NULL &&
			    !param_dynamic_name(names[i]))
				log_warn("%s/main.cf: unused parameter: %s=%s",
				    mail_cfg.config_directory, names[i],
				    conf_raw(mail_conf, names[i]));
		}
		free(names);
	}

	if (mail_cfg.unprivileged || geteuid() != 0) {
		owner = geteuid();
		owner_gid = getegid();
		drop_gid = getegid();
	} else {
		owner = mail_cfg.owner_uid;
		owner_gid = mail_cfg.owner_gid;
		drop_gid = mail_cfg.sgid_gid;
	}
	if (mkdir_p(mail_cfg.queue_directory, 0755) < 0) {
		log_warn("create %s: %m", mail_cfg.queue_directory);
		return -1;
	}
	if (chdir(mail_cfg.queue_directory) < 0) {
		log_warn("chdir %s: %m", mail_cfg.queue_directory);
		return -1;
	}
	if (geteuid() == 0) {
		struct stat st;

		if (stat(".", &st) == 0 && st.st_uid != 0 &&
		    chown(".", 0, 0) < 0)
			log_warn("chown %s: %m", mail_cfg.queue_directory);
	}
	for (i = 0; queue_dirs[i].name; i++) {
		const struct queue_names *q = &queue_dirs[i];
		uid_t u = owner;
		gid_t g = owner_gid;

		if (q->owner_group == 1)
			g = drop_gid;
		if (q->owner_group == -1 && geteuid() == 0) {
			u = 0;
			g = 0;
		}
		if (check_dir(q->name, q->mode, u, g) < 0)
			r = -1;
	}
	check_jail_etc();
	if (set_perms && (check_setgid("postdrop") < 0 ||
	    check_setgid("postqueue") < 0))
		r = -1;
	buf_free(&why);
	return r;
}
