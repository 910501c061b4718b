/*
 * NAME		test_dict_mysql - unit tests for the mysql: table (no server)
 * DESCRIPTION	The "hosts" list parser (every spelling, bounds at
 *		limit-1/limit/limit+1, hostile entries), the connection
 *		order (UNIX sockets first, shuffling, hosts marked down),
 *		and the table file as dict_open() reads it: required and
 *		bad settings refuse the open with a reason naming the file;
 *		lookups whose query is suppressed never connect; a host
 *		that cannot be reached is an error naming it, and is then
 *		skipped for retry_interval.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <unistd.h>

#include <cmocka.h>

#include "dict/dict.h"
#include "dict/dict_mysql.h"
#include "util/buf.h"
#include "util/mem.h"
#include "unit.h"

/* parse_ok - parse and return the list; fails the test on error */
static void
parse_ok(const char *value, struct myh_list *l)
{
	struct buf why = BUF_INIT;

	if (myh_parse(value, l, &why) < 0)
		fail_msg("\"%s\": %s", value, buf_str(&why));
	buf_free(&why);
}

/* parse_bad - the parse must fail with a reason containing want */
static void
parse_bad(const char *value, const char *want)
{
	struct myh_list l;
	struct buf why = BUF_INIT;

	if (myh_parse(value, &l, &why) == 0)
		fail_msg("\"%.60s\" accepted", value);
	assert_int_equal(l.n, 0);
	assert_null(l.v);
	if (strstr(buf_str(&why), want) == NULL)
		fail_msg("\"%.60s\": reason \"%s\" lacks \"%s\"", value,
		    buf_str(&why), want);
	buf_free(&why);
}

static void
test_hosts_forms(void **state)
{
	struct myh_list l;

	(void)state;
	parse_ok("unix:/run/mysqld/mysqld.sock, inet:db1.example.com "
	    "inet:db2:3307,\tdb3 db4:3308 [::1] [2001:db8::5]:3309 "
	    "UNIX:/x INET:10.0.0.1:1 host:65535", &l);
	assert_int_equal(l.n, 10);
	assert_true(l.v[0].is_unix);
	assert_string_equal(l.v[0].name, "/run/mysqld/mysqld.sock");
	assert_string_equal(l.v[0].text, "unix:/run/mysqld/mysqld.sock");
	assert_false(l.v[1].is_unix);
	assert_string_equal(l.v[1].name, "db1.example.com");
	assert_int_equal(l.v[1].port, 0);
	assert_string_equal(l.v[2].name, "db2");
	assert_int_equal(l.v[2].port, 3307);
	assert_string_equal(l.v[3].name, "db3");
	assert_string_equal(l.v[3].text, "db3");
	assert_string_equal(l.v[4].name, "db4");
	assert_int_equal(l.v[4].port, 3308);
	assert_string_equal(l.v[5].name, "::1");
	assert_int_equal(l.v[5].port, 0);
	assert_string_equal(l.v[6].name, "2001:db8::5");
	assert_int_equal(l.v[6].port, 3309);
	assert_true(l.v[7].is_unix);
	assert_string_equal(l.v[7].name, "/x");
	assert_string_equal(l.v[8].name, "10.0.0.1");
	assert_int_equal(l.v[8].port, 1);
	assert_int_equal(l.v[9].port, 65535);
	myh_free(&l);

	/* Empty and separator-only lists are empty. */
	parse_ok("", &l);
	assert_int_equal(l.n, 0);
	parse_ok(" ,\t,\r\n ", &l);
	assert_int_equal(l.n, 0);
	myh_free(&l);
}

static void
test_hosts_hostile(void **state)
{
	(void)state;
	parse_bad("unix:", "need unix:/path");
	parse_bad("unix:relative/path", "need unix:/path");
	parse_bad("inet:", "no host name");
	parse_bad(":3306", "no host name");
	parse_bad("inet::3306", "no host name");
	parse_bad("host:", "bad port");
	parse_bad("host:0", "bad port");
	parse_bad("host:65536", "bad port");
	parse_bad("host:99999999999999999999", "bad port");
	parse_bad("host:-1", "bad port");
	parse_bad("host:12a", "bad port");
	parse_bad("host:1:2", "bad port");
	parse_bad("::1", "no host name");
	parse_bad("fe80::1", "bad port");
	parse_bad("[]", "bad [address]");
	parse_bad("[::1", "bad [address]");
	parse_bad("[::1]x", "bad [address]");
	parse_bad("[::1]:", "bad port");
	parse_bad("good other:bad", "bad port");
	parse_bad("a\x01:b", "bad port");
}

static void
test_hosts_limits(void **state)
{
	struct myh_list l;
	struct buf v = BUF_INIT;
	char *name = xmalloc(MYH_NAME_MAX + 2);
	size_t i;

	(void)state;
	/* Entry length: limit-1 and limit pass, limit+1 fails. */
	for (i = MYH_NAME_MAX - 1; i <= MYH_NAME_MAX + 1; i++) {
		memset(name, 'h', i);
		name[i] = 0;
		if (i <= MYH_NAME_MAX) {
			parse_ok(name, &l);
			assert_int_equal(l.n, 1);
			assert_int_equal(strlen(l.v[0].name), i);
			myh_free(&l);
		} else {
			parse_bad(name, "longer than");
		}
	}
	/* Entry count: MYH_MAX passes, MYH_MAX + 1 fails. */
	for (i = 0; i < MYH_MAX - 1; i++)
		buf_printf(&v, "h%zu ", i);
	parse_ok(buf_str(&v), &l);
	assert_int_equal(l.n, MYH_MAX - 1);
	myh_free(&l);
	buf_puts(&v, "last");
	parse_ok(buf_str(&v), &l);
	assert_int_equal(l.n, MYH_MAX);
	myh_free(&l);
	buf_puts(&v, ",one-more");
	parse_bad(buf_str(&v), "more than 64 hosts");
	free(name);
	buf_free(&v);
}

static unsigned seq_state;

/* seq - a predictable "random" source */
static unsigned
seq(void)
{
	return seq_state++;
}

static void
test_hosts_order(void **state)
{
	struct myh_list l;
	size_t idx[MYH_MAX], n, i;
	int seen_first[4] = { 0 };
	unsigned r;

	(void)state;
	/* 0,2 TCP; 1,3 UNIX: UNIX sockets come first. */
	parse_ok("a unix:/s1 b unix:/s2", &l);
	for (r = 0; r < 16; r++) {
		seq_state = r;
		n = myh_order(&l, 1000, seq, idx);
		assert_int_equal(n, 4);
		assert_true(l.v[idx[0]].is_unix && l.v[idx[1]].is_unix);
		assert_false(l.v[idx[2]].is_unix || l.v[idx[3]].is_unix);
		seen_first[idx[0]] = 1;
		seen_first[idx[2]] = 1;
	}
	/* Each host of a group comes first for some random numbers. */
	for (i = 0; i < 4; i++)
		assert_true(seen_first[i]);
	/* Hosts down until after now are left out; at "now" they are back. */
	l.v[1].down_until = 2000;
	l.v[2].down_until = 1500;
	n = myh_order(&l, 1000, seq, idx);
	assert_int_equal(n, 2);
	assert_int_equal(idx[0], 3);
	assert_int_equal(idx[1], 0);
	assert_int_equal(myh_order(&l, 2000, seq, idx), 4);
	for (i = 0; i < 4; i++)
		l.v[i].down_until = 5000;
	assert_int_equal(myh_order(&l, 1000, seq, idx), 0);
	myh_free(&l);
}

/* table - write a table file; returns "mysql:/path" (caller frees) */
static char *
table(const char *text)
{
	char path[] = "/tmp/test_dict_mysql.XXXXXX";
	struct buf spec = BUF_INIT;
	int fd = mkstemp(path);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	buf_printf(&spec, "mysql:%s", path);
	return buf_steal(&spec);
}

/* open_bad - dict_open() must fail, the reason naming want and the file */
static void
open_bad(const char *text, const char *want)
{
	struct buf why = BUF_INIT;
	char *spec = table(text);

	if (dict_open(spec, 0, &why) != NULL)
		fail_msg("opened: %s", text);
	if (strstr(buf_str(&why), want) == NULL ||
	    strstr(buf_str(&why), spec + 6) == NULL)
		fail_msg("reason \"%s\" lacks \"%s\" or the file name",
		    buf_str(&why), want);
	unlink(spec + 6);
	free(spec);
	buf_free(&why);
}

static void
test_open_errors(void **state)
{
	struct buf why = BUF_INIT;

	(void)state;
	open_bad("hosts = x\n", "no \"query\" given");
	open_bad("query =\n", "no \"query\" given");
	open_bad("select_field = a\ntable = t\n", "no \"query\" given");
	open_bad("query = SELECT '%x'\n", "bad % sequence");
	open_bad("query = SELECT 1\nresult_format = %\n", "bad % sequence");
	open_bad("query = SELECT 1\nhosts = a:0\n", "bad port");
	open_bad("query = SELECT 1\nexpansion_limit = x\n",
	    "bad expansion_limit");
	open_bad("query = SELECT 1\nexpansion_limit = -1\n",
	    "bad expansion_limit");
	open_bad("query = SELECT 1\nidle_interval = 60s\n",
	    "bad idle_interval");
	open_bad("query = SELECT 1\nretry_interval = 99999999999\n",
	    "bad retry_interval");
	open_bad("query = SELECT 1\nrequire_result_set = 2\n",
	    "bad require_result_set");
	open_bad("query = SELECT 1\ntls_verify_cert = maybe\n",
	    "bad tls_verify_cert");
	open_bad("query\n", "line 1");

	assert_null(dict_open("mysql:relative.cf", 0, &why));
	assert_non_null(strstr(buf_str(&why), "need the path"));
	assert_null(dict_open("mysql:/nonexistent/t.cf", 0, &why));
	assert_non_null(strstr(buf_str(&why), "/nonexistent/t.cf"));
	buf_free(&why);
}

/* lookup - one lookup; returns the rc, the value or reason in out */
static int
lookup(struct dict *d, const char *key, struct buf *out)
{
	struct buf why = BUF_INIT;
	int rc;

	buf_reset(out);
	rc = dict_lookup(d, key, out, &why);
	if (rc == DICT_ERROR)
		buf_set(out, why.p, why.len);
	buf_free(&why);
	return rc;
}

static void
test_lookups_without_server(void **state)
{
	struct buf why = BUF_INIT, out = BUF_INIT;
	struct dict *d;
	char *spec;

	(void)state;
	/* A socket that is not there, never retried within the minute. */
	spec = table("hosts = unix:/nonexistent/mysqld.sock\n"
	    "query = SELECT v FROM t WHERE d = '%d' AND u = '%u'\n"
	    "domain = example.com\n"
	    "result_format = %s for %D\n"
	    "colour = blue\n");
	d = dict_open(spec, DICT_FLAG_FOLD_FIX, &why);
	assert_non_null(d);
	/* Suppressed before any connection: not found, no error. */
	assert_int_equal(lookup(d, "joe", &out), DICT_NOTFOUND);
	assert_int_equal(lookup(d, "joe@other.org", &out), DICT_NOTFOUND);
	assert_int_equal(lookup(d, "@example.com", &out), DICT_NOTFOUND);
	assert_int_equal(lookup(d, "example.com", &out), DICT_NOTFOUND);
	/* A query: the connection fails, naming the host. */
	assert_int_equal(lookup(d, "Joe@Example.com", &out), DICT_ERROR);
	assert_non_null(strstr(buf_str(&out), spec));
	assert_non_null(strstr(buf_str(&out),
	    "connect to unix:/nonexistent/mysqld.sock: "));
	/* Skipped for retry_interval (60 s by default). */
	assert_int_equal(lookup(d, "joe@example.com", &out), DICT_ERROR);
	assert_non_null(strstr(buf_str(&out), "no server to try"));
	dict_close(d);
	unlink(spec + 6);
	free(spec);

	/* retry_interval = 0: every lookup tries again; legacy query form. */
	spec = table("hosts = unix:/nonexistent/a.sock, unix:/nonexistent/b\n"
	    "select_field = v\ntable = t\nwhere_field = k\n"
	    "retry_interval = 0\nidle_interval = 0\n");
	d = dict_open(spec, 0, &why);
	assert_non_null(d);
	assert_int_equal(lookup(d, "k", &out), DICT_ERROR);
	/* Both were tried, in either order. */
	assert_non_null(strstr(buf_str(&out),
	    "connect to unix:/nonexistent/a.sock: "));
	assert_non_null(strstr(buf_str(&out),
	    "connect to unix:/nonexistent/b: "));
	assert_non_null(strstr(buf_str(&out), "; connect to unix:"));
	assert_int_equal(lookup(d, "k", &out), DICT_ERROR);
	assert_non_null(strstr(buf_str(&out), "connect to unix:"));
	/* Two tables open at once, closed in either order. */
	{
		struct dict *d2 = dict_open(spec, 0, &why);

		assert_non_null(d2);
		dict_close(d);
		assert_int_equal(lookup(d2, "k", &out), DICT_ERROR);
		dict_close(d2);
	}
	unlink(spec + 6);
	free(spec);

	/* No hosts: localhost (with a warning), as Postfix. */
	spec = table("query = SELECT '%s'\n");
	d = dict_open(spec, 0, &why);
	assert_non_null(d);
	dict_close(d);
	unlink(spec + 6);
	free(spec);
	buf_free(&why);
	buf_free(&out);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hosts_forms),
		cmocka_unit_test(test_hosts_hostile),
		cmocka_unit_test(test_hosts_limits),
		cmocka_unit_test(test_hosts_order),
		cmocka_unit_test(test_open_errors),
		cmocka_unit_test(test_lookups_without_server),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
