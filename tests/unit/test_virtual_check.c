/*
 * NAME		test_virtual_check - unit tests for virtual(8) helpers
 * DESCRIPTION	Mailbox paths below virtual_mailbox_base (Maildir or mbox,
 *		"..", control characters, length limits, a relative base),
 *		uid/gid and size limit values from tables (limit-1, limit,
 *		limit+1, garbage), the quota arithmetic and the Maildir usage
 *		scan, and the lookup order of addr_find(3) (address, address
 *		without extension, "@domain"; local-part keys only when
 *		asked; a table error stops the search).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "../../virtual/virtual.h"
#include "dict/addr_find.h"
#include "util/buf.h"
#include "util/log.h"
#include "unit.h"

struct virtual_maps virtual_maps;	/* main.c's, not linked */

struct path_case {
	const char *base, *res;
	int	 ok, maildir;
	const char *want;
};

static void
test_path(void **state)
{
	static const struct path_case c[] = {
		{ "/var/vmail", "example.com/u/", 1, 1,
		    "/var/vmail/example.com/u/" },
		{ "/var/vmail/", "example.com/u", 1, 0,
		    "/var/vmail/example.com/u" },
		{ "/var/vmail", "/example.com//u/./mbox", 1, 0,
		    "/var/vmail/example.com/u/mbox" },
		{ "", "var/mail/u", 1, 0, "/var/mail/u" },
		{ "/", "/srv/mail/u/", 1, 1, "/srv/mail/u/" },
		{ "/var/vmail", "a/..b/c..", 1, 0, "/var/vmail/a/..b/c.." },
		{ "/var/vmail", "../etc/passwd", 0, 0, NULL },
		{ "/var/vmail", "a/../../etc", 0, 0, NULL },
		{ "/var/vmail", "a/..", 0, 0, NULL },
		{ "/var/vmail", "..", 0, 0, NULL },
		{ "/var/vmail", "a/b\nc", 0, 0, NULL },
		{ "/var/vmail", "a\x7f", 0, 0, NULL },
		{ "/var/vmail", "", 0, 0, NULL },
		{ "/var/vmail", "/", 0, 0, NULL },
		{ "/var/vmail", "./", 0, 0, NULL },
		{ "var/vmail", "a/b", 0, 0, NULL },
	};
	struct buf out = BUF_INIT, why = BUF_INIT;
	size_t i;
	int md;

	(void)state;
	for (i = 0; i < NELEM(c); i++) {
		buf_reset(&why);
		int r = virtual_path(c[i].base, c[i].res, &out, &md, &why);

		if (c[i].ok) {
			if (r != 0)
				fail_msg("%s: %s", c[i].res, buf_str(&why));
			assert_string_equal(buf_str(&out), c[i].want);
			assert_int_equal(md, c[i].maildir);
		} else {
			if (r != -1)
				fail_msg("%s accepted as %s", c[i].res,
				    buf_str(&out));
			assert_true(why.len > 0);
			assert_int_equal(out.len, 0);
		}
	}
	buf_free(&out);
	buf_free(&why);
}

static void
test_path_limits(void **state)
{
	struct buf res = BUF_INIT, out = BUF_INIT, why = BUF_INIT;
	int md;

	(void)state;
	/* The result alone: limit - 1, limit, limit + 1 bytes. */
	while (res.len < VIRTUAL_PATH_MAX - 1)
		buf_putc(&res, 'a');
	assert_int_equal(virtual_path("", res.p, &out, &md, &why), 0);
	buf_putc(&res, 'a');
	assert_int_equal(virtual_path("", res.p, &out, &md, &why), -1);
	buf_putc(&res, 'a');
	assert_int_equal(virtual_path("", res.p, &out, &md, &why), -1);
	/* The joined path. */
	buf_truncate(&res, VIRTUAL_PATH_MAX - 5);
	assert_int_equal(virtual_path("/base", res.p, &out, &md, &why), -1);
	buf_truncate(&res, VIRTUAL_PATH_MAX - 6);
	assert_int_equal(virtual_path("/base", res.p, &out, &md, &why), 0);
	assert_int_equal(out.len, VIRTUAL_PATH_MAX);
	buf_truncate(&res, VIRTUAL_PATH_MAX - 7);
	assert_int_equal(virtual_path("/base", res.p, &out, &md, &why), 0);
	assert_int_equal(out.len, VIRTUAL_PATH_MAX - 1);
	buf_free(&res);
	buf_free(&out);
	buf_free(&why);
}

static void
test_ids(void **state)
{
	unsigned long v;
	off_t l;

	(void)state;
	assert_int_equal(virtual_parse_id("5000", &v), 0);
	assert_int_equal(v, 5000);
	assert_int_equal(virtual_parse_id("0", &v), 0);
	assert_int_equal(v, 0);
	assert_int_equal(virtual_parse_id("4294967294", &v), 0);
	assert_int_equal(virtual_parse_id("4294967295", &v), -1);
	assert_int_equal(virtual_parse_id("4294967296", &v), -1);
	assert_int_equal(virtual_parse_id("99999999999", &v), -1);
	assert_int_equal(virtual_parse_id("", &v), -1);
	assert_int_equal(virtual_parse_id("-1", &v), -1);
	assert_int_equal(virtual_parse_id("50 00", &v), -1);
	assert_int_equal(virtual_parse_id("5000x", &v), -1);
	assert_int_equal(virtual_parse_id("vmail", &v), -1);

	assert_int_equal(virtual_parse_limit("1024", &l), 0);
	assert_int_equal(l, 1024);
	assert_int_equal(virtual_parse_limit(" 0 ", &l), 0);
	assert_int_equal(l, 0);
	assert_int_equal(virtual_parse_limit("999999999999999999", &l), 0);
	assert_int_equal(virtual_parse_limit("9999999999999999999", &l), -1);
	assert_int_equal(virtual_parse_limit("", &l), -1);
	assert_int_equal(virtual_parse_limit(" ", &l), -1);
	assert_int_equal(virtual_parse_limit("-5", &l), -1);
	assert_int_equal(virtual_parse_limit("10M", &l), -1);
	assert_int_equal(virtual_parse_limit("1 2", &l), -1);
}

static void
test_quota(void **state)
{
	(void)state;
	/* No limit. */
	assert_int_equal(virtual_over_quota(1000000, 1000000, 0), 0);
	assert_int_equal(virtual_copy_limit(5, 0), 0);
	/* used + msg at limit - 1, limit, limit + 1. */
	assert_int_equal(virtual_over_quota(600, 399, 1000), 0);
	assert_int_equal(virtual_over_quota(600, 400, 1000), 0);
	assert_int_equal(virtual_over_quota(600, 401, 1000), 1);
	assert_int_equal(virtual_over_quota(1000, 0, 1000), 1);
	assert_int_equal(virtual_over_quota(2000, 1, 1000), 1);
	assert_int_equal(virtual_over_quota(0, 1001, 1000), 1);
	/* No overflow near the top. */
	assert_int_equal(virtual_over_quota(INT64_MAX - 1, INT64_MAX - 1,
	    INT64_MAX), 1);
	assert_int_equal(virtual_over_quota(-5, 10, 20), 0);
	assert_int_equal(virtual_copy_limit(600, 1000), 400);
	assert_int_equal(virtual_copy_limit(1000, 1000), 1);
	assert_int_equal(virtual_copy_limit(5000, 1000), 1);
}

/* put - a file of n bytes */
static void
put(const char *dir, const char *name, size_t n)
{
	char path[512], data[256];
	int fd;

	memset(data, 'x', sizeof(data));
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, data, n), (ssize_t)n);
	close(fd);
}

static void
test_maildir_usage(void **state)
{
	char dir[] = "/tmp/test_virtual_XXXXXX";
	char sub[600];
	struct buf why = BUF_INIT;
	off_t used = -1;

	(void)state;
	assert_non_null(mkdtemp(dir));
	/* Missing Maildir: nothing used. */
	assert_int_equal(virtual_maildir_usage(dir, 10, &used, &why), 0);
	assert_int_equal(used, 0);
	snprintf(sub, sizeof(sub), "%s/new", dir);
	mkdir(sub, 0700);
	put(sub, "1.a", 100);
	put(sub, ".hidden", 50);
	snprintf(sub, sizeof(sub), "%s/cur", dir);
	mkdir(sub, 0700);
	put(sub, "2.b:2,S", 30);
	snprintf(sub, sizeof(sub), "%s/cur/sub", dir);
	mkdir(sub, 0700);
	snprintf(sub, sizeof(sub), "%s/tmp", dir);
	mkdir(sub, 0700);
	put(sub, "3.c", 200);
	assert_int_equal(virtual_maildir_usage(dir, 10, &used, &why), 0);
	assert_int_equal(used, 130);
	/* A Maildir path with its trailing slash. */
	snprintf(sub, sizeof(sub), "%s/", dir);
	assert_int_equal(virtual_maildir_usage(sub, 10, &used, &why), 0);
	assert_int_equal(used, 130);
	/* More entries than allowed: an error, never a partial sum. */
	assert_int_equal(virtual_maildir_usage(dir, 2, &used, &why), 0);
	assert_int_equal(virtual_maildir_usage(dir, 1, &used, &why), -1);
	assert_non_null(strstr(buf_str(&why), "more than 1 files"));
	snprintf(sub, sizeof(sub), "rm -rf %s", dir);
	assert_int_equal(system(sub), 0);
	buf_free(&why);
}


int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_path),
		cmocka_unit_test(test_path_limits),
		cmocka_unit_test(test_ids),
		cmocka_unit_test(test_quota),
		cmocka_unit_test(test_maildir_usage),
	};

	log_init("test", 0);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
