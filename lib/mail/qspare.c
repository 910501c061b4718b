/*
 * NAME		qspare - spare queue files, reused instead of unlinked
 * DESCRIPTION	spare/ is flat; a spare keeps the name (the old queue ID)
 *		it had when qmgr put it there.  A taker (cleanup) reads up
 *		to SPARE_BATCH names at a time and reads spare/ again when
 *		they are used up, for every new message while spare/ is
 *		empty: a look at an empty directory costs far less than
 *		making a new file.  The putter (qmgr)
 *		counts spare/ only when its own running count says the
 *		limit is reached, and when spare/ really is full, at most
 *		once a second.
 *
 *		Taking a spare, in this order:
 *		1. open spare/NAME, lock it (flock, no wait), check that
 *		   spare/NAME is still this inode: a racing taker that got
 *		   it first holds the lock or has moved it away;
 *		2. spoil the version record (one byte at offset 0) and
 *		   clear the ready bit, while the file is still in spare/;
 *		3. make the queue ID from the time and the inode and rename
 *		   spare/NAME to it without replacing anything.
 *		After 3 the file is an ordinary unfinished queue file: if
 *		its writer dies, qmgr's recovery sees a file that does not
 *		read as complete (the first record is spoiled until
 *		cleanup's own first write, the size record says "no
 *		content" until commit) and removes it in time.  The caller
 *		writes from offset 0 and truncates to its own length
 *		before the fsync.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/files.h"
#include "mail_conf.h"
#include "qid.h"
#include "qspare.h"
#include "queue.h"

#define SPARE_BATCH	64

/* The taker's list of names from its last look at spare/. */
static char spare_names[SPARE_BATCH][QID_MAX];
static int spare_n, spare_next;

/* The putter's running count. */
static int spare_count = -1;		/* -1: not counted yet */
static int spare_full;
static time_t spare_counted;

/* spare_path - "spare/NAME" */
static void
spare_path(char *out, size_t size, const char *name)
{
	snprintf(out, size, "%s/%s", Q_SPARE, name);
}

/* spare_name_ok - a name that qmgr could have put there */
static int
spare_name_ok(const char *name, size_t *len)
{
	*len = strlen(name);
	return *len < QID_MAX && qid_valid(name, *len);
}

/* qspare_refill - read the next batch of names */
static void
qspare_refill(void)
{
	struct dirent *de;
	DIR *d;
	size_t len;

	spare_n = spare_next = 0;
	if ((d = opendir(Q_SPARE)) != NULL) {
		while (spare_n < SPARE_BATCH && (de = readdir(d)) != NULL)
			if (spare_name_ok(de->d_name, &len))
				memcpy(spare_names[spare_n++], de->d_name,
				    len + 1);
		closedir(d);
	}
}

/*
 * qspare_claim - open, lock and check one spare; its descriptor with the
 * ready bit cleared and the first record spoiled, or -1
 */
static int
qspare_claim(const char *sp, mode_t mode, struct stat *st)
{
	struct stat cur;
	int fd;

	/* No wait on a FIFO; nothing else changes for a regular file. */
	if ((fd = open(sp, O_RDWR | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK)) <
	    0)
		return -1;
	if (file_flock(fd, LOCK_EXCL | LOCK_NOWAIT) < 0 ||
	    fstat(fd, st) < 0 || lstat(sp, &cur) < 0 ||
	    cur.st_ino != st->st_ino || cur.st_dev != st->st_dev ||
	    !S_ISREG(st->st_mode) || st->st_nlink != 1 ||
	    pwrite_all(fd, "", 1, 0) < 0 || fchmod(fd, mode) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/*
 * qspare_next - claim the next usable spare: its descriptor, with its
 * path in sp and its status in st, or -1 when there is none; spare/ is
 * read at most once per take (*looked)
 */
static int
qspare_next(char *sp, size_t size, mode_t mode, struct stat *st,
    int *looked)
{
	int fd;

	if (mail_cfg.spare_queue_file_limit <= 0)
		return -1;
	for (;;) {
		if (spare_next >= spare_n) {
			/* One look per take: some may stay unusable. */
			if ((*looked)++)
				return -1;
			qspare_refill();
			if (spare_n == 0)
				return -1;
		}
		spare_path(sp, size, spare_names[spare_next++]);
		if ((fd = qspare_claim(sp, mode, st)) >= 0)
			return fd;
	}
}

/*
 * qspare_move - rename a claimed spare to path: 0, 1 when the name is
 * taken (EEXIST), -1 when the spare went away or on another error
 */
static int
qspare_move(const char *sp, const char *path)
{
	struct stat cur;

	for (;;) {
		if (renameat2(AT_FDCWD, sp, AT_FDCWD, path,
		    RENAME_NOREPLACE) == 0)
			return 0;
		if (errno == EEXIST)
			return 1;
		/* Swept away meanwhile, or a hash directory missing. */
		if (errno == ENOENT && lstat(sp, &cur) == 0 &&
		    queue_mkparents(path) == 0)
			continue;
		return -1;
	}
}

/*
 * qspare_take - a spare as a new file in queue q: its descriptor (open
 * read/write and locked), with id (QID_MAX bytes), path, the arrival time
 * and the spare's old size filled in; -1 when there is none to take.
 */
int
qspare_take(const char *q, char *id, struct buf *path, struct timeval *tv,
    mode_t mode, off_t *old_size)
{
	char sp[sizeof(Q_SPARE) + QID_MAX + 1];
	struct stat st;
	int fd, r, looked = 0;

	while ((fd = qspare_next(sp, sizeof(sp), mode, &st, &looked)) >= 0) {
		do {
			gettimeofday(tv, NULL);
			qid_make(id, tv, st.st_ino,
			    mail_cfg.enable_long_queue_ids);
			queue_path(path, q, id);
			if ((r = qspare_move(sp, path->p)) == 1)
				usleep(1);
		} while (r == 1);
		if (r == 0) {
			*old_size = st.st_size;
			return fd;
		}
		close(fd);
	}
	return -1;
}

/*
 * qspare_take_named - a spare as file id (already valid) in queue q, the
 * path in path: its descriptor as above, or -1 with errno EEXIST when
 * that file exists (the spare stays), ENOENT when there is no spare.
 */
int
qspare_take_named(const char *q, const char *id, struct buf *path,
    mode_t mode, off_t *old_size)
{
	char sp[sizeof(Q_SPARE) + QID_MAX + 1];
	struct stat st;
	int fd, r, looked = 0;

	queue_path(path, q, id);
	while ((fd = qspare_next(sp, sizeof(sp), mode, &st, &looked)) >= 0) {
		if ((r = qspare_move(sp, path->p)) == 0) {
			*old_size = st.st_size;
			return fd;
		}
		close(fd);
		if (r == 1) {
			spare_next--;		/* still a good spare */
			errno = EEXIST;
			return -1;
		}
	}
	errno = ENOENT;
	return -1;
}

/* qspare_count - how many spares there are, up to limit */
static int
qspare_count(int limit)
{
	struct dirent *de;
	DIR *d;
	size_t len;
	int n = 0;

	if ((d = opendir(Q_SPARE)) == NULL)
		return limit;
	while (n < limit && (de = readdir(d)) != NULL)
		if (spare_name_ok(de->d_name, &len))
			n++;
	closedir(d);
	return n;
}

/*
 * qspare_put - move a finished queue file into spare/: 0, or -1 (no room,
 * spares off, or an error) when the caller should remove it.
 */
int
qspare_put(const char *q, const char *id)
{
	char sp[sizeof(Q_SPARE) + QID_MAX + 1];
	struct buf from = BUF_INIT;
	int limit = mail_cfg.spare_queue_file_limit, r;
	size_t len;

	if (limit <= 0 || !spare_name_ok(id, &len))
		return -1;
	if (spare_count < 0 || spare_count >= limit) {
		time_t now = time(NULL);

		if (spare_full && now == spare_counted)
			return -1;
		spare_counted = now;
		spare_count = qspare_count(limit);
		spare_full = spare_count >= limit;
		if (spare_full)
			return -1;
	}
	queue_path(&from, q, id);
	spare_path(sp, sizeof(sp), id);
	r = renameat2(AT_FDCWD, from.p, AT_FDCWD, sp, RENAME_NOREPLACE);
	buf_free(&from);
	if (r == 0)
		spare_count++;
	return r;
}

/*
 * qspare_sweep - remove spares unused for max_age seconds (all of them
 * when spares are off)
 */
void
qspare_sweep(time_t max_age)
{
	char sp[sizeof(Q_SPARE) + QID_MAX + 1];
	time_t now = time(NULL);
	struct dirent *de;
	struct stat st;
	size_t len;
	DIR *d;

	if (mail_cfg.spare_queue_file_limit <= 0)
		max_age = -1;
	if ((d = opendir(Q_SPARE)) == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		if (!spare_name_ok(de->d_name, &len))
			continue;
		spare_path(sp, sizeof(sp), de->d_name);
		/* A rename sets the change time: it tells when it came. */
		if (lstat(sp, &st) == 0 && now - st.st_ctime > max_age)
			(void)unlink(sp);
	}
	closedir(d);
	spare_count = -1;
	spare_full = 0;
}
