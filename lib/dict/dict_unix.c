/*
 * NAME		dict_unix - the system's user and group databases
 * DESCRIPTION	unix:passwd.byname answers a user name with its passwd(5)
 *		line, "name:passwd:uid:gid:gecos:dir:shell"; unix:group.byname
 *		answers a group name with its group(5) line,
 *		"name:passwd:gid:member,member".
 *
 *		Lookups use getpwnam_r(3)/getgrnam_r(3), so every source the
 *		name service switch knows is seen.  A process that has
 *		entered a chroot jail usually has no /etc/passwd there; for
 *		that case dict_open() also opens /etc/passwd (/etc/group),
 *		and when that path is no longer reachable a lookup reads the
 *		open file instead (local accounts only).
 * DIAGNOSTICS	An unknown map name fails at open time.  A name service
 *		error is a lookup error (temporary failure).
 * SEE ALSO	doc/tables.md, passwd(5), group(5)
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/mem.h"
#include "dict.h"
#include "dict_impl.h"

#define UNIX_FILE_MAX	(64 * 1024 * 1024)

struct dict_unix {
	struct dict dict;
	int	 group;			/* group.byname? */
	const char *path;		/* /etc/passwd, /etc/group */
	int	 fd;			/* path, for use in a jail */
};

/* unix_grow - enlarge a getpwnam_r/getgrnam_r buffer, bounded */
static int
unix_grow(char **mem, size_t *size)
{
	if (*size >= UNIX_FILE_MAX)
		return -1;
	*size *= 4;
	*mem = xrealloc(*mem, *size);
	return 0;
}

/* unix_nss_passwd - passwd line by name through the name service */
static int
unix_nss_passwd(const char *key, struct buf *value, struct buf *why)
{
	struct passwd pw, *res;
	size_t size = 4096;
	char *mem = xmalloc(size);
	int err;

	while ((err = getpwnam_r(key, &pw, mem, size, &res)) == ERANGE) {
		if (unix_grow(&mem, &size) < 0)
			break;
	}
	if (err != 0 && err != ENOENT && err != ESRCH) {
		buf_printf(why, "getpwnam_r: %s", strerror(err));
		free(mem);
		return DICT_ERROR;
	}
	if (err != 0 || res == NULL) {
		free(mem);
		return DICT_NOTFOUND;
	}
	buf_reset(value);
	buf_printf(value, "%s:%s:%ld:%ld:%s:%s:%s", pw.pw_name, pw.pw_passwd,
	    (long)pw.pw_uid, (long)pw.pw_gid, pw.pw_gecos ? pw.pw_gecos : "",
	    pw.pw_dir, pw.pw_shell);
	free(mem);
	return DICT_FOUND;
}

/* unix_nss_group - group line by name through the name service */
static int
unix_nss_group(const char *key, struct buf *value, struct buf *why)
{
	struct group gr, *res;
	size_t size = 4096;
	char *mem = xmalloc(size), **m;
	int err;

	while ((err = getgrnam_r(key, &gr, mem, size, &res)) == ERANGE) {
		if (unix_grow(&mem, &size) < 0)
			break;
	}
	if (err != 0 && err != ENOENT && err != ESRCH) {
		buf_printf(why, "getgrnam_r: %s", strerror(err));
		free(mem);
		return DICT_ERROR;
	}
	if (err != 0 || res == NULL) {
		free(mem);
		return DICT_NOTFOUND;
	}
	buf_reset(value);
	buf_printf(value, "%s:%s:%ld:", gr.gr_name, gr.gr_passwd,
	    (long)gr.gr_gid);
	for (m = gr.gr_mem; m && *m; m++) {
		if (m != gr.gr_mem)
			buf_putc(value, ',');
		buf_puts(value, *m);
	}
	free(mem);
	return DICT_FOUND;
}

/*
 * unix_file_lookup - find "key:" at the start of a line of the file
 * opened before the jail; the line is the answer.
 */
static int
unix_file_lookup(struct dict_unix *u, const char *key, struct buf *value,
    struct buf *why)
{
	struct buf text = BUF_INIT;
	size_t klen = strlen(key), pos = 0;
	ssize_t n;
	int r = DICT_NOTFOUND;

	for (;;) {
		buf_reserve(&text, 65536);
		n = pread(u->fd, text.p + text.len, text.cap - text.len - 1,
		    (off_t)text.len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			buf_printf(why, "read %s: %s", u->path,
			    strerror(errno));
			buf_free(&text);
			return DICT_ERROR;
		}
		if (n == 0)
			break;
		text.len += (size_t)n;
		if (text.len > UNIX_FILE_MAX) {
			buf_printf(why, "%s: file is too large", u->path);
			buf_free(&text);
			return DICT_ERROR;
		}
	}
	while (pos < text.len) {
		const char *lp = text.p + pos;
		const char *nl = memchr(lp, '\n', text.len - pos);
		size_t llen = nl ? (size_t)(nl - lp) : text.len - pos;

		pos += llen + 1;
		if (llen > klen && lp[klen] == ':' &&
		    memcmp(lp, key, klen) == 0 &&
		    memchr(lp, 0, llen) == NULL) {
			buf_set(value, lp, llen);
			r = DICT_FOUND;
			break;
		}
	}
	buf_free(&text);
	return r;
}

/* dict_unix_lookup - look up a user or group name */
static int
dict_unix_lookup(struct dict *d, const char *key, struct buf *value,
    struct buf *why)
{
	struct dict_unix *u = (struct dict_unix *)d;

	if (*key == 0 || strchr(key, ':') != NULL)
		return DICT_NOTFOUND;
	if (u->fd >= 0 && access(u->path, F_OK) < 0)
		return unix_file_lookup(u, key, value, why);
	return u->group ? unix_nss_group(key, value, why) :
	    unix_nss_passwd(key, value, why);
}

/* dict_unix_close - free the table */
static void
dict_unix_close(struct dict *d)
{
	struct dict_unix *u = (struct dict_unix *)d;

	if (u->fd >= 0)
		close(u->fd);
	free(u);
}

/* dict_unix_open - open unix:passwd.byname or unix:group.byname */
struct dict *
dict_unix_open(const char *name, int flags, struct buf *why)
{
	struct dict_unix *u;
	int group;

	if (strcmp(name, "passwd.byname") == 0)
		group = 0;
	else if (strcmp(name, "group.byname") == 0)
		group = 1;
	else {
		buf_printf(why, "unknown table: unix:%s (supported: "
		    "unix:passwd.byname, unix:group.byname)", name);
		return NULL;
	}
	u = xcalloc(1, sizeof(*u));
	u->group = group;
	u->path = group ? "/etc/group" : "/etc/passwd";
	/* Missing here is fine: the name service may not use files. */
	u->fd = open(u->path, O_RDONLY | O_CLOEXEC);
	u->dict.flags = flags;
	u->dict.lookup = dict_unix_lookup;
	u->dict.close = dict_unix_close;
	return &u->dict;
}
