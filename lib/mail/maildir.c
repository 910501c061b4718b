/*
 * NAME		maildir - deliver a message into a Maildir, exactly once
 * DESCRIPTION	Maildir file names are usually made unique with the time
 *		and the process ID, so a delivery that is repeated after a
 *		crash leaves two copies.  Postern's names are deterministic
 *		instead (see maildir.h): a repeated attempt finds its own
 *		earlier result in new/ (or, once a mail reader has seen it, in
 *		cur/ with ":2,<flags>" appended) and stops.  A leftover
 *		tmp/<name> from an attempt that died while writing is simply
 *		overwritten.  The host name part has '/' and ':' replaced by
 *		"\057" and "\072", as the Maildir specification asks.
 * SECURITY	The caller runs this with the recipient's privileges.  Files
 *		are created with mode 0600 and O_NOFOLLOW, directories with
 *		mode 0700.
 * SEE ALSO	local(8), virtual(8), doc/local.md
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/files.h"
#include "util/mem.h"
#include "maildir.h"

/*
 * maildir_name - "<sec>.Q<queueid>R<offset>.<host>" into out, with the
 * characters of host that a Maildir name cannot hold escaped.
 */
void
maildir_name(struct buf *out, long arrival_sec, const char *qid,
    long offset, const char *host)
{
	const char *cp;

	buf_reset(out);
	buf_printf(out, "%ld.Q%sR%ld.", arrival_sec, qid, offset);
	for (cp = host; *cp; cp++) {
		if (*cp == '/')
			buf_puts(out, "\\057");
		else if (*cp == ':')
			buf_puts(out, "\\072");
		else if ((unsigned char)*cp < 0x20 || *cp == 0x7f)
			buf_putc(out, '_');
		else
			buf_putc(out, *cp);
	}
}

/* maildir_mkdir - one directory, mode 0700; an existing one is fine */
static int
maildir_mkdir(const char *path)
{
	struct stat st;

	if (mkdir(path, 0700) == 0)
		return 0;
	if (errno != EEXIST)
		return -1;
	if (stat(path, &st) < 0)
		return -1;
	if (!S_ISDIR(st.st_mode)) {
		errno = ENOTDIR;
		return -1;
	}
	return 0;
}

/*
 * maildir_make - create dir (and missing parents) with tmp, new and cur.
 * Returns 0, or -1 with a reason and *err.
 */
int
maildir_make(const char *dir, struct buf *why, int *err)
{
	static const char *const sub[] = {"tmp", "new", "cur"};
	char *copy = xstrdup(dir), *p;
	size_t i, len = strlen(copy);
	int r = -1;

	*err = 0;
	while (len > 1 && copy[len - 1] == '/')
		copy[--len] = 0;
	/* Parents are created only when missing: they may be unreadable. */
	if (maildir_mkdir(copy) == 0)
		goto subdirs;
	if (errno != ENOENT)
		goto fail;
	for (p = copy + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = 0;
		if (maildir_mkdir(copy) < 0)
			goto fail;
		*p = '/';
	}
	if (maildir_mkdir(copy) < 0)
		goto fail;
subdirs:
	for (i = 0; i < 3; i++) {
		char *s = xasprintf("%s/%s", copy, sub[i]);
		int rr = maildir_mkdir(s);

		if (rr < 0) {
			*err = errno;
			buf_printf(why, "create maildir file %s: %s", s,
			    strerror(errno));
			free(s);
			free(copy);
			return -1;
		}
		free(s);
	}
	r = 0;
	free(copy);
	return r;
fail:
	*err = errno;
	buf_printf(why, "create maildir file %s: %s", copy, strerror(errno));
	free(copy);
	return r;
}

/*
 * maildir_seen - was name delivered into dir before: new/<name>, or with
 * check_cur cur/<name> or cur/<name>:<info>?  1 yes, 0 no.
 */
int
maildir_seen(const char *dir, const char *name, int check_cur)
{
	struct stat st;
	struct dirent *de;
	DIR *d;
	char *path;
	size_t nlen = strlen(name);
	int found = 0;

	path = xasprintf("%s/new/%s", dir, name);
	found = lstat(path, &st) == 0;
	free(path);
	if (found || !check_cur)
		return found;
	path = xasprintf("%s/cur", dir);
	d = opendir(path);
	free(path);
	if (d == NULL)
		return 0;
	while ((de = readdir(d)) != NULL) {
		if (strncmp(de->d_name, name, nlen) == 0 &&
		    (de->d_name[nlen] == ':' || de->d_name[nlen] == 0)) {
			found = 1;
			break;
		}
	}
	closedir(d);
	return found;
}

/*
 * maildir_deliver - deliver the message described by src into dir under
 * name, with MAIL_COPY_* flags and a size limit (0: none).  Returns
 * MAILDIR_DELIVERED, MAILDIR_ALREADY, or MAILDIR_FAILED with a reason and
 * *err (an errno value, 0 when the queue file could not be read).
 */
int
maildir_deliver(const char *dir, const char *name,
    const struct mail_copy_src *src, int flags, off_t limit, int check_cur,
    struct buf *why, int *err)
{
	char *tmp = NULL, *new = NULL, *newdir = NULL;
	int fd = -1, r = MAILDIR_FAILED, st;

	*err = 0;
	if (maildir_make(dir, why, err) < 0)
		return MAILDIR_FAILED;
	if (maildir_seen(dir, name, check_cur))
		return MAILDIR_ALREADY;
	tmp = xasprintf("%s/tmp/%s", dir, name);
	new = xasprintf("%s/new/%s", dir, name);
	newdir = xasprintf("%s/new", dir);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC |
	    O_NOCTTY | O_NONBLOCK, 0600);
	if (fd < 0) {
		*err = errno;
		buf_printf(why, "create maildir file %s: %s", tmp,
		    strerror(errno));
		goto out;
	}
	st = mail_copy(src, fd, flags & ~(MAIL_COPY_FROM | MAIL_COPY_QUOTE |
	    MAIL_COPY_BLANK), limit, NULL, why, err);
	if (st != MAIL_COPY_STAT_OK)
		goto unlink;
	if (fsync(fd) < 0 || close(fd) < 0) {
		*err = errno;
		fd = -1;
		buf_printf(why, "write maildir file %s: %s", tmp,
		    strerror(*err));
		goto unlink;
	}
	fd = -1;
	if (rename(tmp, new) < 0) {
		*err = errno;
		buf_printf(why, "rename maildir file %s as %s: %s", tmp, new,
		    strerror(errno));
		goto unlink;
	}
	if (dir_fsync(newdir) < 0) {
		/* The file is complete; only its name may not be durable. */
		*err = errno;
		buf_printf(why, "fsync maildir directory %s: %s", newdir,
		    strerror(errno));
		goto out;
	}
	r = MAILDIR_DELIVERED;
	goto out;
unlink:
	(void)unlink(tmp);
out:
	if (fd >= 0)
		(void)close(fd);
	free(tmp);
	free(new);
	free(newdir);
	return r;
}
