/*
 * NAME		queue - queue directory names, paths and file life cycle
 * DESCRIPTION	queue_create() makes a file with a temporary name, reads its
 *		inode number, derives the queue ID from the time and the inode
 *		and renames the file to its ID without replacing anything
 *		(RENAME_NOREPLACE), so an ID is never reused while its file
 *		exists.  queue_rename() creates missing hash subdirectories on
 *		demand.
 * SECURITY	IDs and queue names are validated before they become paths.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "util/log.h"
#include "util/mem.h"
#include "util/strutil.h"
#include "mail_conf.h"
#include "queue.h"

const struct queue_names queue_dirs[] = {
	{Q_MAILDROP, 01730, 1},
	{Q_INCOMING, 0700, 0},
	{Q_ACTIVE, 0700, 0},
	{Q_DEFERRED, 0700, 0},
	{Q_HOLD, 0700, 0},
	{Q_CORRUPT, 0700, 0},
	{Q_BOUNCE, 0700, 0},
	{Q_DEFER, 0700, 0},
	{Q_TRACE, 0700, 0},
	{Q_FLUSH, 0700, 0},
	{Q_SAVED, 0700, 0},
	{"spare", 0700, 0},
	{"public", 0710, 1},
	{"private", 0700, 0},
	{"pid", 0755, -1},
	{NULL, 0, 0},
};

/* queue_name_valid - one of the message queues? */
int
queue_name_valid(const char *q)
{
	static const char *const names[] = {Q_MAILDROP, Q_INCOMING, Q_ACTIVE,
	    Q_DEFERRED, Q_HOLD, Q_CORRUPT, Q_BOUNCE, Q_DEFER, Q_TRACE, Q_FLUSH,
	    Q_SAVED, NULL};
	int i;

	for (i = 0; names[i]; i++)
		if (strcmp(q, names[i]) == 0)
			return 1;
	return 0;
}

/* queue_is_hashed - is this queue listed in hash_queue_names? */
int
queue_is_hashed(const char *q)
{
	const char *list = mail_cfg.hash_queue_names;
	size_t ql = strlen(q);

	while (list && *list) {
		size_t n;

		list += strspn(list, SEPARATORS);
		n = strcspn(list, SEPARATORS);
		if (n == ql && strncmp(list, q, n) == 0)
			return 1;
		list += n;
	}
	return 0;
}

/* queue_path - "queue/[h/...]id" into out */
void
queue_path(struct buf *out, const char *q, const char *id)
{
	int i;

	buf_reset(out);
	buf_puts(out, q);
	buf_putc(out, '/');
	if (queue_is_hashed(q) && strlen(id) >= 6) {
		for (i = 0; i < mail_cfg.hash_queue_depth; i++) {
			buf_putc(out, qid_hash_char(id, i));
			buf_putc(out, '/');
		}
	}
	buf_puts(out, id);
}

/* queue_mkparents - create the missing directories of a queue path */
int
queue_mkparents(const char *path)
{
	char *copy = xstrdup(path), *slash;
	int r = 0;

	for (slash = strchr(copy, '/'); slash; slash = strchr(slash + 1, '/')) {
		*slash = 0;
		if (mkdir(copy, 0700) < 0 && errno != EEXIST)
			r = -1;
		*slash = '/';
	}
	free(copy);
	return r;
}

/*
 * queue_create - create a new file in queue q with a fresh ID.  Returns
 * the open descriptor (read/write) and fills id (QID_MAX bytes), path and
 * the arrival time.  The file has the given mode.
 */
int
queue_create(const char *q, char *id, struct buf *path, struct timeval *tv,
    mode_t mode)
{
	static unsigned seq;
	char tmp[256];
	struct stat st;
	int fd, tries;

	for (tries = 0; tries < 100; tries++) {
		snprintf(tmp, sizeof(tmp), "%s/T%ld.%u.%ld", q, (long)getpid(),
		    seq++, (long)time(NULL));
		fd = open(tmp, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, mode);
		if (fd < 0) {
			if (errno == EEXIST)
				continue;
			return -1;
		}
		if (fchmod(fd, mode) < 0 || fstat(fd, &st) < 0)
			goto bad;
		for (;;) {
			gettimeofday(tv, NULL);
			qid_make(id, tv, st.st_ino, mail_cfg.enable_long_queue_ids);
			queue_path(path, q, id);
			if (renameat2(AT_FDCWD, tmp, AT_FDCWD, path->p,
			    RENAME_NOREPLACE) == 0)
				return fd;
			if (errno == ENOENT && queue_mkparents(path->p) == 0)
				continue;
			if (errno != EEXIST)
				goto bad;
			usleep(1);
		}
bad:
		{
			int saved = errno;

			close(fd);
			(void)unlink(tmp);
			errno = saved;
		}
		return -1;
	}
	errno = EEXIST;
	return -1;
}

/*
 * queue_create_named - create (O_EXCL unless replace) a file with a given
 * ID in queue q.  Returns the descriptor or -1.
 */
int
queue_create_named(const char *q, const char *id, struct buf *path,
    mode_t mode, int replace)
{
	int fd, flags = O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW;

	if (!qid_valid(id, strlen(id))) {
		errno = EINVAL;
		return -1;
	}
	flags |= replace ? O_TRUNC : O_EXCL;
	queue_path(path, q, id);
	fd = open(path->p, flags, mode);
	if (fd < 0 && errno == ENOENT && queue_mkparents(path->p) == 0)
		fd = open(path->p, flags, mode);
	if (fd >= 0 && fchmod(fd, mode) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* queue_rename - move a queue file between queues */
int
queue_rename(const char *id, const char *from, const char *to)
{
	struct buf a = BUF_INIT, b = BUF_INIT;
	int r;

	queue_path(&a, from, id);
	queue_path(&b, to, id);
	r = rename(a.p, b.p);
	if (r < 0 && errno == ENOENT && queue_mkparents(b.p) == 0)
		r = rename(a.p, b.p);
	buf_free(&a);
	buf_free(&b);
	return r;
}

/* queue_remove - unlink a queue file */
int
queue_remove(const char *q, const char *id)
{
	struct buf p = BUF_INIT;
	int r;

	queue_path(&p, q, id);
	r = unlink(p.p);
	buf_free(&p);
	return r;
}

/* queue_exists - stat a queue file */
int
queue_exists(const char *q, const char *id, struct stat *st)
{
	struct buf p = BUF_INIT;
	struct stat tmp;
	int r;

	queue_path(&p, q, id);
	r = stat(p.p, st ? st : &tmp);
	buf_free(&p);
	return r == 0;
}
