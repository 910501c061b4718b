/*
 * NAME		test_mail_copy - unit tests for mail_copy, mbox and maildir
 * DESCRIPTION	mail_copy(): the added envelope headers and their quoting,
 *		">From " quoting only at the start of lines, the blank line,
 *		lines stored as partial records, a 1 MB line, the size limit at
 *		limit-1, limit and limit+1, truncated and malformed content.
 *		mbox_open(): creation mode, symbolic links, hard links, wrong
 *		owner, FIFOs, /dev/null, lock names, fresh and stale dot-locks,
 *		truncation.  maildir:
 *		name escaping, delivery, and the "already delivered" checks
 *		in new/ and cur/.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mail/mail_copy.h"
#include "mail/maildir.h"
#include "mail/mbox.h"
#include "mail/rec.h"
#include "util/buf.h"
#include "util/files.h"
#include "util/mem.h"
#include "unit.h"

static char tmpdir[64];

/* setup - a private directory */
static int
setup(void **state)
{
	(void)state;
	strcpy(tmpdir, "/tmp/test_mail_copy.XXXXXX");
	if (mkdtemp(tmpdir) == NULL)
		return -1;
	return 0;
}

/* teardown - remove it */
static int
teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	return system(cmd) == 0 ? 0 : -1;
}

/*
 * make_queue - a queue file with some envelope records and the given
 * content records; returns the fd and sets *data_offset.
 */
static int
make_queue(const struct buf *content, long *data_offset, int end)
{
	struct buf q = BUF_INIT;
	char path[128];
	int fd;

	snprintf(path, sizeof(path), "%s/queue", tmpdir);
	rec_puts(&q, REC_VERSION, REC_VERSION_TEXT);
	rec_puts(&q, REC_FROM, "someone@example.com");
	rec_puts(&q, REC_RCPT, "bob@example.com");
	*data_offset = (long)q.len;
	rec_put(&q, REC_MESG, "", 0);
	buf_put(&q, content->p, content->len);
	if (end) {
		rec_put(&q, REC_XTRA, "", 0);
		rec_put(&q, REC_END, "", 0);
	}
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write_all(fd, q.p, q.len), 0);
	buf_free(&q);
	return fd;
}

/* lines - content records for a list of lines */
static void
lines(struct buf *c, const char *const *v)
{
	buf_reset(c);
	for (; *v; v++)
		rec_puts(c, REC_NORM, *v);
}

/* copy_to_buf - run mail_copy into a temp file, return its text */
static int
copy_to_buf(int qfd, long off, const char *sender, const char *dlv,
    const char *orig, int flags, off_t limit, struct buf *out, int *err,
    struct buf *why)
{
	struct mail_copy_src src;
	char path[128];
	int fd, r;

	memset(&src, 0, sizeof(src));
	src.fd = qfd;
	src.data_offset = off;
	src.sender = sender;
	src.delivered = dlv;
	src.orig_rcpt = orig;
	src.now = 86400 * 365;
	snprintf(path, sizeof(path), "%s/out", tmpdir);
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	r = mail_copy(&src, fd, flags, limit, NULL, why, err);
	assert_true(lseek(fd, 0, SEEK_SET) == 0);
	assert_int_equal(read_fd_all(fd, out, 64 * 1024 * 1024), 0);
	close(fd);
	return r;
}

static void
test_copy_mbox(void **state)
{
	static const char *const msg[] = {"From: a@b", "Subject: From me",
	    "", "From here", " From there", ">From quoted", "From", "last",
	    NULL};
	struct buf c = BUF_INIT, out = BUF_INIT, why = BUF_INIT;
	struct buf want = BUF_INIT, from = BUF_INIT;
	long off;
	int fd, err;

	(void)state;
	lines(&c, msg);
	fd = make_queue(&c, &off, 1);
	assert_int_equal(copy_to_buf(fd, off, "john smith@x", "Bob@Example.COM",
	    "orig@example.com", MAIL_COPY_MBOX, 0, &out, &err, &why),
	    MAIL_COPY_STAT_OK);
	mail_copy_from_line(&from, "john smith@x", 86400 * 365);
	buf_printf(&want, "%s\n"
	    "Return-Path: <\"john smith\"@x>\n"
	    "X-Original-To: orig@example.com\n"
	    "Delivered-To: bob@example.com\n"
	    "From: a@b\nSubject: From me\n\n>From here\n From there\n"
	    ">From quoted\nFrom\nlast\n\n", from.p);
	assert_string_equal(out.p, want.p);
	assert_non_null(strstr(from.p, "From \"john smith\"@x  "));

	/* Null sender; no optional headers. */
	assert_int_equal(copy_to_buf(fd, off, "", NULL, NULL, MAIL_COPY_FROM |
	    MAIL_COPY_RETURN_PATH | MAIL_COPY_DELIVERED | MAIL_COPY_ORIG_RCPT,
	    0, &out, &err, &why), MAIL_COPY_STAT_OK);
	assert_int_equal(strncmp(out.p, "From MAILER-DAEMON  ", 20), 0);
	assert_non_null(strstr(out.p, "\nReturn-Path: <>\nFrom: a@b\n"));
	assert_null(strstr(out.p, "Delivered-To"));
	assert_null(strstr(out.p, "X-Original-To"));
	close(fd);
	buf_free(&c);
	buf_free(&out);
	buf_free(&why);
	buf_free(&want);
	buf_free(&from);
}

static void
test_copy_long_lines(void **state)
{
	struct buf c = BUF_INIT, out = BUF_INIT, why = BUF_INIT, big = BUF_INIT;
	size_t i;
	long off;
	int fd, err;

	(void)state;
	/* A 1 MB line stored as 16 partial records, starting "From ". */
	buf_puts(&big, "From ");
	for (i = 5; i < 1024 * 1024; i++)
		buf_putc(&big, 'a' + (char)(i % 26));
	for (i = 0; i < 16; i++)
		rec_put(&c, i < 15 ? REC_CONT : REC_NORM, big.p + i * 65536,
		    65536);
	rec_puts(&c, REC_NORM, "From tail");
	fd = make_queue(&c, &off, 1);
	assert_int_equal(copy_to_buf(fd, off, "s@x", NULL, NULL,
	    MAIL_COPY_QUOTE, 0, &out, &err, &why), MAIL_COPY_STAT_OK);
	assert_int_equal(out.len, 1 + big.len + 1 + 11);
	assert_int_equal(out.p[0], '>');
	assert_memory_equal(out.p + 1, big.p, big.len);
	assert_string_equal(out.p + 1 + big.len, "\n>From tail\n");
	close(fd);
	buf_free(&c);
	buf_free(&out);
	buf_free(&why);
	buf_free(&big);
}

static void
test_copy_limit(void **state)
{
	static const char *const msg[] = {"Subject: x", "", "body", NULL};
	struct buf c = BUF_INIT, out = BUF_INIT, why = BUF_INIT;
	long off;
	int fd, err;
	off_t size;

	(void)state;
	lines(&c, msg);
	fd = make_queue(&c, &off, 1);
	assert_int_equal(copy_to_buf(fd, off, "s@x", NULL, NULL, 0, 0, &out,
	    &err, &why), MAIL_COPY_STAT_OK);
	size = (off_t)out.len;
	assert_int_equal(size, 17);
	assert_int_equal(copy_to_buf(fd, off, "s@x", NULL, NULL, 0, size,
	    &out, &err, &why), MAIL_COPY_STAT_OK);
	assert_int_equal(copy_to_buf(fd, off, "s@x", NULL, NULL, 0, size + 1,
	    &out, &err, &why), MAIL_COPY_STAT_OK);
	buf_reset(&why);
	assert_int_equal(copy_to_buf(fd, off, "s@x", NULL, NULL, 0, size - 1,
	    &out, &err, &why), MAIL_COPY_STAT_WRITE);
	assert_int_equal(err, EFBIG);
	assert_int_equal(out.len, 0);	/* nothing written at all */
	assert_non_null(strstr(why.p, "File too large"));
	close(fd);
	buf_free(&c);
	buf_free(&out);
	buf_free(&why);
}

static void
test_copy_bad_content(void **state)
{
	static const char *const msg[] = {"Subject: x", "", "body", NULL};
	struct buf c = BUF_INIT, out = BUF_INIT, why = BUF_INIT;
	long off;
	int fd, err;

	(void)state;
	/* No X record: the file ends in the middle of the content. */
	lines(&c, msg);
	fd = make_queue(&c, &off, 0);
	assert_int_equal(copy_to_buf(fd, off, "s@x", NULL, NULL, 0, 0, &out,
	    &err, &why), MAIL_COPY_STAT_READ);
	close(fd);
	/* A record type that has no place in the content. */
	buf_reset(&c);
	rec_puts(&c, REC_NORM, "Subject: x");
	rec_puts(&c, REC_RCPT, "evil@example.com");
	fd = make_queue(&c, &off, 1);
	assert_int_equal(copy_to_buf(fd, off, "s@x", NULL, NULL, 0, 0, &out,
	    &err, &why), MAIL_COPY_STAT_READ);
	/* A wrong offset. */
	assert_int_equal(copy_to_buf(fd, off + 1, "s@x", NULL, NULL, 0, 0,
	    &out, &err, &why), MAIL_COPY_STAT_READ);
	assert_int_equal(copy_to_buf(fd, 0, "s@x", NULL, NULL, 0, 0,
	    &out, &err, &why), MAIL_COPY_STAT_READ);
	close(fd);
	buf_free(&c);
	buf_free(&out);
	buf_free(&why);
}

static void
test_mbox_open(void **state)
{
	struct mbox mb;
	struct buf why = BUF_INIT;
	struct stat st;
	char path[128], other[128], lock[160];
	int err, mask;

	(void)state;
	snprintf(path, sizeof(path), "%s/mbox", tmpdir);
	snprintf(other, sizeof(other), "%s/other", tmpdir);
	snprintf(lock, sizeof(lock), "%s.lock", path);
	(void)unlink(path);
	assert_int_equal(mbox_lock_mask("fcntl, dotlock", &mask, &why), 0);
	assert_int_equal(mask, MBOX_LOCK_FCNTL | MBOX_LOCK_DOTLOCK);
	assert_int_equal(mbox_lock_mask("flock", &mask, &why), 0);
	assert_int_equal(mask, MBOX_LOCK_FLOCK);
	assert_int_equal(mbox_lock_mask("fcntl, bogus", &mask, &why), -1);

	/* Created 0600, locked, dot-lock present while open. */
	assert_int_equal(mbox_open(&mb, path, MBOX_LOCK_FCNTL |
	    MBOX_LOCK_DOTLOCK, getuid(), getgid(), 0, &why, &err), 0);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	assert_int_equal(access(lock, F_OK), 0);
	assert_int_equal(write_all(mb.fd, "hello\n", 6), 0);
	mbox_close(&mb);
	assert_int_equal(access(lock, F_OK), -1);

	/* Existing: size remembered; truncate undoes a write. */
	assert_int_equal(mbox_open(&mb, path, MBOX_LOCK_FCNTL, getuid(),
	    getgid(), 0, &why, &err), 0);
	assert_int_equal(mb.size, 6);
	assert_int_equal(write_all(mb.fd, "more\n", 5), 0);
	assert_int_equal(mbox_truncate(&mb), 0);
	mbox_close(&mb);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_size, 6);

	/* Wrong owner. */
	buf_reset(&why);
	assert_int_equal(mbox_open(&mb, path, 0, getuid() + 1, getgid(), 0,
	    &why, &err), -1);
	assert_non_null(strstr(why.p, "wrong owner"));

	/* Two hard links. */
	assert_int_equal(link(path, other), 0);
	buf_reset(&why);
	assert_int_equal(mbox_open(&mb, path, 0, (uid_t)-1, (gid_t)-1, 0,
	    &why, &err), -1);
	assert_non_null(strstr(why.p, "hard links"));
	assert_int_equal(unlink(other), 0);

	/* A symbolic link, to an existing file and to nothing. */
	assert_int_equal(symlink(path, other), 0);
	buf_reset(&why);
	assert_int_equal(mbox_open(&mb, other, 0, (uid_t)-1, (gid_t)-1, 0,
	    &why, &err), -1);
	assert_non_null(strstr(why.p, "symbolic link"));
	assert_int_equal(unlink(other), 0);
	assert_int_equal(symlink("/nonexistent/x", other), 0);
	assert_int_equal(mbox_open(&mb, other, 0, (uid_t)-1, (gid_t)-1, 0,
	    &why, &err), -1);
	assert_int_equal(unlink(other), 0);

	/* A FIFO does not block and is refused. */
	assert_int_equal(mkfifo(other, 0600), 0);
	buf_reset(&why);
	assert_int_equal(mbox_open(&mb, other, MBOX_LOCK_FCNTL, (uid_t)-1,
	    (gid_t)-1, 0, &why, &err), -1);
	assert_int_equal(unlink(other), 0);

	/* Dot-locks: a fresh lock is respected, a stale one removed. */
	{
		struct timespec old[2] = {{1000, 0}, {1000, 0}};
		char lwhy[256];

		assert_int_equal(file_replace(lock, "", 0, 0600), 0);
		assert_int_equal(dotlock_acquire(path, 1, lwhy, sizeof(lwhy)),
		    -1);
		assert_int_equal(errno, EAGAIN);
		assert_int_equal(utimensat(AT_FDCWD, lock, old, 0), 0);
		assert_int_equal(dotlock_acquire(path, 1, lwhy, sizeof(lwhy)),
		    0);
		dotlock_release(path);
		assert_int_equal(access(lock, F_OK), -1);
		assert_int_equal(dotlock_acquire("/nonexistent/dir/x", 1, lwhy,
		    sizeof(lwhy)), -1);
		assert_int_equal(errno, ENOENT);
	}

	/* /dev/null: accepted, never locked. */
	assert_int_equal(mbox_open(&mb, "/dev/null", MBOX_LOCK_FCNTL |
	    MBOX_LOCK_DOTLOCK | MBOX_DOTLOCK_MAY_FAIL, (uid_t)-1, (gid_t)-1,
	    0, &why, &err), 0);
	assert_int_equal(mb.regular, 0);
	assert_int_equal(mb.locks, 0);
	mbox_close(&mb);
	assert_int_equal(access("/dev/null.lock", F_OK), -1);
	buf_free(&why);
}

static void
test_maildir(void **state)
{
	static const char *const msg[] = {"Subject: x", "", "From body",
	    NULL};
	struct mail_copy_src src;
	struct buf c = BUF_INIT, name = BUF_INIT, why = BUF_INIT;
	struct buf got = BUF_INIT;
	char dir[128], path[256], cur[256];
	long off;
	int fd, err;

	(void)state;
	maildir_name(&name, 1700000000, "4ABCDEF", 123, "host/a:b\n");
	assert_string_equal(name.p,
	    "1700000000.Q4ABCDEFR123.host\\057a\\072b_");
	maildir_name(&name, 1700000000, "4ABCDEF", 123, "mx.example");

	lines(&c, msg);
	fd = make_queue(&c, &off, 1);
	memset(&src, 0, sizeof(src));
	src.fd = fd;
	src.data_offset = off;
	src.sender = "s@x";
	src.delivered = "bob@x";
	snprintf(dir, sizeof(dir), "%s/home/Maildir/", tmpdir);
	assert_int_equal(maildir_deliver(dir, name.p, &src, MAIL_COPY_MBOX, 0,
	    0, &why, &err), MAILDIR_DELIVERED);
	snprintf(path, sizeof(path), "%snew/%s", dir, name.p);
	assert_int_equal(file_read(path, &got, 4096), 0);
	/* Maildir: no From line, no quoting, no blank line. */
	assert_string_equal(got.p, "Return-Path: <s@x>\nDelivered-To: bob@x\n"
	    "Subject: x\n\nFrom body\n");
	/* Again: already there. */
	assert_int_equal(maildir_deliver(dir, name.p, &src, MAIL_COPY_MBOX, 0,
	    0, &why, &err), MAILDIR_ALREADY);
	/* Seen by a reader: in cur/ with flags. */
	snprintf(cur, sizeof(cur), "%scur/%s:2,S", dir, name.p);
	assert_int_equal(rename(path, cur), 0);
	assert_int_equal(maildir_deliver(dir, name.p, &src, MAIL_COPY_MBOX, 0,
	    1, &why, &err), MAILDIR_ALREADY);
	/* Without the retry flag cur/ is not searched. */
	assert_int_equal(maildir_seen(dir, name.p, 0), 0);
	/* A different recipient offset is a different delivery. */
	maildir_name(&name, 1700000000, "4ABCDEF", 124, "mx.example");
	assert_int_equal(maildir_seen(dir, name.p, 1), 0);
	/* A name that only shares a prefix does not count. */
	maildir_name(&name, 1700000000, "4ABCDEF", 12, "mx.example");
	assert_int_equal(maildir_seen(dir, name.p, 1), 0);
	/* Size limit: nothing left behind in tmp/ or new/. */
	assert_int_equal(maildir_deliver(dir, name.p, &src, MAIL_COPY_MBOX, 10,
	    0, &why, &err), MAILDIR_FAILED);
	assert_int_equal(err, EFBIG);
	snprintf(path, sizeof(path), "%stmp/%s", dir, name.p);
	assert_int_equal(access(path, F_OK), -1);
	assert_int_equal(maildir_seen(dir, name.p, 1), 0);
	/* A file where the Maildir should be. */
	snprintf(path, sizeof(path), "%s/notadir", tmpdir);
	assert_int_equal(file_replace(path, "x", 1, 0600), 0);
	assert_int_equal(maildir_deliver(path, name.p, &src, MAIL_COPY_MBOX, 0,
	    0, &why, &err), MAILDIR_FAILED);
	close(fd);
	buf_free(&c);
	buf_free(&name);
	buf_free(&why);
	buf_free(&got);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_copy_mbox),
		cmocka_unit_test(test_copy_long_lines),
		cmocka_unit_test(test_copy_limit),
		cmocka_unit_test(test_copy_bad_content),
		cmocka_unit_test(test_mbox_open),
		cmocka_unit_test(test_maildir),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
