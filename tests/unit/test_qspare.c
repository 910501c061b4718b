/*
 * NAME		test_qspare - unit tests for mail/qspare (spare queue files)
 * DESCRIPTION	In a scratch queue directory: a finished file goes into
 *		spare/ and comes back as a new incoming/ file with a new ID
 *		made from the same inode (or under the ID it is given, as
 *		for a message from maildrop/), not ready and no longer
 *		readable as the old message; the limit is kept; a spare locked by
 *		another taker, one with a second link and a directory are
 *		skipped; spares off means nothing is put or taken; the sweep
 *		removes old spares (all of them when spares are off).
 */
#include <dirent.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "mail/mail_conf.h"
#include "mail/qfile.h"
#include "mail/qid.h"
#include "mail/qspare.h"
#include "mail/queue.h"
#include "util/buf.h"
#include "unit.h"
#include "qfile_build.h"

static char topdir[4096];
static char scratch[256];

/* setup - a scratch queue directory with incoming/, active/, spare/ */
static int
setup(void **state)
{
	(void)state;
	snprintf(scratch, sizeof(scratch), "/tmp/qspare.XXXXXX");
	assert_non_null(mkdtemp(scratch));
	assert_int_equal(chdir(scratch), 0);
	assert_int_equal(mkdir(Q_INCOMING, 0700), 0);
	assert_int_equal(mkdir(Q_ACTIVE, 0700), 0);
	assert_int_equal(mkdir(Q_SPARE, 0700), 0);
	mail_cfg.enable_long_queue_ids = 1;
	mail_cfg.hash_queue_names = (char *)"";
	mail_cfg.hash_queue_depth = 1;
	mail_cfg.spare_queue_file_limit = 100;
	return 0;
}

/* teardown - remove the scratch directory */
static int
teardown(void **state)
{
	char cmd[512];

	(void)state;
	assert_int_equal(chdir(topdir), 0);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", scratch);
	assert_int_equal(system(cmd), 0);
	return 0;
}

/* count - entries of a directory, without . and .. */
static int
count(const char *dir)
{
	struct dirent *de;
	DIR *d = opendir(dir);
	int n = 0;

	assert_non_null(d);
	while ((de = readdir(d)) != NULL)
		if (de->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

/* finished - a complete, ready message in active/; its ID in id */
static ino_t
finished(char *id)
{
	struct buf path = BUF_INIT;
	struct timeval tv;
	struct stat st;
	struct qb q;
	int fd;

	fd = queue_create(Q_ACTIVE, id, &path, &tv, QUEUE_MODE_WRITING);
	assert_true(fd >= 0);
	qb_sample(&q, 1, "sender@example.org", 1763812800);
	assert_int_equal(write_all(fd, q.b.p, q.b.len), 0);
	assert_int_equal(fchmod(fd, QUEUE_MODE_READY), 0);
	assert_int_equal(fstat(fd, &st), 0);
	close(fd);
	buf_free(&q.b);
	buf_free(&path);
	return st.st_ino;
}

static void
test_put_take(void **state)
{
	char old[QID_MAX], id[QID_MAX], path2[512];
	struct buf path = BUF_INIT, why = BUF_INIT;
	struct qfile_env env;
	struct timeval tv;
	struct stat st;
	off_t size = -1;
	ino_t ino;
	int fd;

	(void)state;
	ino = finished(old);
	assert_int_equal(qspare_put(Q_ACTIVE, old), 0);
	assert_false(queue_exists(Q_ACTIVE, old, NULL));
	snprintf(path2, sizeof(path2), "%s/%s", Q_SPARE, old);
	assert_int_equal(stat(path2, &st), 0);

	fd = qspare_take(Q_INCOMING, id, &path, &tv, QUEUE_MODE_WRITING,
	    &size);
	assert_true(fd >= 0);
	assert_string_not_equal(id, old);
	assert_true(qid_valid(id, strlen(id)));
	assert_int_equal(stat(path2, &st), -1);
	assert_true(queue_exists(Q_INCOMING, id, &st));
	assert_int_equal(st.st_ino, ino);
	assert_false(QUEUE_IS_READY(st.st_mode));
	assert_int_equal((long)size, (long)st.st_size);
	assert_true(size > 0);
	/* The old message cannot come back through qmgr's recovery. */
	assert_int_equal(qfile_read_env(fd, &env, &why), -1);
	assert_non_null(strstr(buf_str(&why), "malformed record"));
	/* The taker holds the lock, as cleanup does on a new file. */
	{
		int other = open(path.p, O_RDWR);

		assert_true(other >= 0);
		assert_int_equal(flock(other, LOCK_EX | LOCK_NB), -1);
		close(other);
	}
	close(fd);
	assert_int_equal(count(Q_SPARE), 0);
	buf_free(&path);
	buf_free(&why);
}

static void
test_take_named(void **state)
{
	char a[QID_MAX], b[QID_MAX], named[QID_MAX];
	struct buf path = BUF_INIT;
	struct stat st;
	off_t size = -1;
	ino_t ino;
	int fd;

	(void)state;
	ino = finished(a);
	(void)finished(b);
	assert_int_equal(qspare_put(Q_ACTIVE, a), 0);
	/* A name that exists: the spare stays where it is. */
	assert_int_equal(queue_rename(b, Q_ACTIVE, Q_INCOMING), 0);
	errno = 0;
	assert_int_equal(qspare_take_named(Q_INCOMING, b, &path,
	    QUEUE_MODE_WRITING, &size), -1);
	assert_int_equal(errno, EEXIST);
	assert_int_equal(count(Q_SPARE), 1);
	/* A free name (as from maildrop/) gets the spare. */
	snprintf(named, sizeof(named), "%s", b);
	named[0] = named[0] == '5' ? '6' : '5';
	fd = qspare_take_named(Q_INCOMING, named, &path, QUEUE_MODE_WRITING,
	    &size);
	assert_true(fd >= 0);
	assert_string_equal(path.p + strlen(Q_INCOMING "/"), named);
	assert_true(queue_exists(Q_INCOMING, named, &st));
	assert_int_equal(st.st_ino, ino);
	assert_false(QUEUE_IS_READY(st.st_mode));
	close(fd);
	assert_int_equal(count(Q_SPARE), 0);
	/* None left. */
	errno = 0;
	named[1] = named[1] == 'B' ? 'C' : 'B';
	assert_int_equal(qspare_take_named(Q_INCOMING, named, &path,
	    QUEUE_MODE_WRITING, &size), -1);
	assert_int_equal(errno, ENOENT);
	buf_free(&path);
}

static void
test_limit(void **state)
{
	char ids[3][QID_MAX];
	int i;

	(void)state;
	mail_cfg.spare_queue_file_limit = 2;
	for (i = 0; i < 3; i++)
		(void)finished(ids[i]);
	assert_int_equal(qspare_put(Q_ACTIVE, ids[0]), 0);
	assert_int_equal(qspare_put(Q_ACTIVE, ids[1]), 0);
	assert_int_equal(qspare_put(Q_ACTIVE, ids[2]), -1);
	assert_true(queue_exists(Q_ACTIVE, ids[2], NULL));
	assert_int_equal(count(Q_SPARE), 2);
	/* Not a queue ID: never put. */
	assert_int_equal(qspare_put(Q_ACTIVE, "../x"), -1);
	mail_cfg.spare_queue_file_limit = 100;
}

/* take_one - qspare_take; the descriptor or -1, the file closed */
static int
take_one(char *id)
{
	struct buf path = BUF_INIT;
	struct timeval tv;
	off_t size;
	int fd;

	fd = qspare_take(Q_INCOMING, id, &path, &tv, QUEUE_MODE_WRITING,
	    &size);
	buf_free(&path);
	if (fd >= 0)
		close(fd);
	return fd;
}

static void
test_skip_unusable(void **state)
{
	char a[QID_MAX], b[QID_MAX], c[QID_MAX], id[QID_MAX];
	char pa[512], pb[512], pc[512], link2[512];
	int held;

	(void)state;
	(void)finished(a);
	(void)finished(b);
	(void)finished(c);
	assert_int_equal(qspare_put(Q_ACTIVE, a), 0);
	assert_int_equal(qspare_put(Q_ACTIVE, b), 0);
	snprintf(pa, sizeof(pa), "%s/%s", Q_SPARE, a);
	snprintf(pb, sizeof(pb), "%s/%s", Q_SPARE, b);
	snprintf(pc, sizeof(pc), "%s/%s", Q_SPARE, c);
	snprintf(link2, sizeof(link2), "%s.link", scratch);
	/* a is held by another taker, b has a second link, c is a dir. */
	held = open(pa, O_RDWR);
	assert_true(held >= 0);
	assert_int_equal(flock(held, LOCK_EX), 0);
	assert_int_equal(link(pb, link2), 0);
	assert_int_equal(mkdir(pc, 0700), 0);

	assert_int_equal(take_one(id), -1);
	assert_int_equal(count(Q_SPARE), 3);
	assert_int_equal(count(Q_INCOMING), 0);
	close(held);
	(void)unlink(link2);
	(void)rmdir(pc);
}

static void
test_off_and_sweep(void **state)
{
	char a[QID_MAX], id[QID_MAX];

	(void)state;
	(void)finished(a);
	assert_int_equal(qspare_put(Q_ACTIVE, a), 0);
	qspare_sweep(3600);
	assert_int_equal(count(Q_SPARE), 1);
	mail_cfg.spare_queue_file_limit = 0;
	assert_int_equal(take_one(id), -1);
	assert_int_equal(count(Q_SPARE), 1);
	(void)finished(a);
	assert_int_equal(qspare_put(Q_ACTIVE, a), -1);
	qspare_sweep(3600);
	assert_int_equal(count(Q_SPARE), 0);
	mail_cfg.spare_queue_file_limit = 100;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_put_take, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_take_named, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_limit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_off_and_sweep, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_skip_unusable, setup,
		    teardown),
	};

	if (getcwd(topdir, sizeof(topdir)) == NULL)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
