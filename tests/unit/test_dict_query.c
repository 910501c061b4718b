/*
 * NAME		test_dict_query - unit tests for the ldap:/mysql: shared layer
 * DESCRIPTION	Template checks, query expansion (%s %u %d %S %U %D %1..%9,
 *		%%, quoting, suppression), result_format expansion (value
 *		and key parts, skipping, "," joining, expansion_limit, NUL
 *		bytes, the DICT_VALUE_MAX bound), the domain restriction,
 *		and the configuration file reader (numbers, booleans,
 *		unknown names, hostile files).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <unistd.h>

#include <cmocka.h>

#include "dict/dict.h"
#include "dict/dict_query.h"
#include "dict/match.h"
#include "util/buf.h"
#include "util/files.h"
#include "util/mem.h"
#include "unit.h"

/* brackets - a quote function that shows where quoting applied */
static void
brackets(struct buf *out, const char *s, size_t len, void *ctx)
{
	(void)ctx;
	buf_putc(out, '[');
	buf_put(out, s, len);
	buf_putc(out, ']');
}

/* q - expand a query; returns the rc and leaves text in out */
static int
q(const char *fmt, const char *key, struct buf *out)
{
	struct buf why = BUF_INIT;
	int rc;

	assert_int_equal(dq_template_check(fmt, &why), 0);
	rc = dq_expand_query(fmt, key, NULL, NULL, out, &why);
	buf_free(&why);
	return rc;
}

static void
test_template_check(void **state)
{
	static const char *good[] = { "", "plain", "%s", "%%", "a%%b",
	    "%u@%d", "%S%U%D", "%1.%2.%9", "(mail=%s)" };
	static const char *bad[] = { "%", "abc%", "%x", "%0", "%a", "% s",
	    "%s%" };
	struct buf why = BUF_INIT;
	size_t i;

	(void)state;
	for (i = 0; i < NELEM(good); i++)
		assert_int_equal(dq_template_check(good[i], &why), 0);
	for (i = 0; i < NELEM(bad); i++) {
		buf_reset(&why);
		assert_int_equal(dq_template_check(bad[i], &why), -1);
		assert_non_null(strstr(buf_str(&why), "bad %"));
	}
	buf_free(&why);
}

static void
test_query_expansions(void **state)
{
	struct buf out = BUF_INIT, why = BUF_INIT;

	(void)state;
	assert_int_equal(q("mail=%s", "joe@mail.example.com", &out), 1);
	assert_string_equal(buf_str(&out), "mail=joe@mail.example.com");
	assert_int_equal(q("%u|%d", "joe@mail.example.com", &out), 1);
	assert_string_equal(buf_str(&out), "joe|mail.example.com");
	assert_int_equal(q("%U|%D|%S", "joe@example.com", &out), 1);
	assert_string_equal(buf_str(&out), "joe|example.com|joe@example.com");
	assert_int_equal(q("%1.%2.%3", "joe@mail.example.com", &out), 1);
	assert_string_equal(buf_str(&out), "com.example.mail");
	assert_int_equal(q("100%% %s", "k", &out), 1);
	assert_string_equal(buf_str(&out), "100% k");
	/* The last "@" splits. */
	assert_int_equal(q("%u/%d", "a@b@c.org", &out), 1);
	assert_string_equal(buf_str(&out), "a@b/c.org");
	/* %u of an unqualified key is the key. */
	assert_int_equal(q("%u", "postmaster", &out), 1);
	assert_string_equal(buf_str(&out), "postmaster");
	/* Empty labels do not count. */
	assert_int_equal(q("%1-%2", "x@example..com.", &out), 1);
	assert_string_equal(buf_str(&out), "com-example");

	/* Quoting applies to every expansion, not to the template. */
	assert_int_equal(dq_expand_query("(&(u=%u)(d=%d)(%1))",
	    "a*b@ex.org", brackets, NULL, &out, &why), 1);
	assert_string_equal(buf_str(&out), "(&(u=[a*b])(d=[ex.org])([org]))");
	buf_free(&out);
	buf_free(&why);
}

static void
test_query_suppressed(void **state)
{
	struct buf out = BUF_INIT;

	(void)state;
	assert_int_equal(q("%d", "postmaster", &out), 0);
	assert_int_equal(q("%D", "user@", &out), 0);
	assert_int_equal(q("%u", "@example.com", &out), 0);
	assert_int_equal(q("%1", "postmaster", &out), 0);
	assert_int_equal(q("%3", "joe@example.com", &out), 0);
	assert_int_equal(q("%9", "joe@a.b.c.d.e.f.g.h", &out), 0);
	assert_int_equal(q("%9", "joe@a.b.c.d.e.f.g.h.i", &out), 1);
	assert_string_equal(buf_str(&out), "a");
	assert_int_equal(q("%1", "joe@...", &out), 0);
	/* %s never suppresses a query. */
	assert_int_equal(q("[%s]", "@", &out), 1);
	assert_string_equal(buf_str(&out), "[@]");
	buf_free(&out);
}

static void
test_query_too_long(void **state)
{
	struct buf out = BUF_INIT, why = BUF_INIT;
	char *key = xmalloc(DICT_KEY_MAX + 1);
	char *fmt;
	size_t n = DICT_VALUE_MAX / DICT_KEY_MAX, i;

	(void)state;
	memset(key, 'k', DICT_KEY_MAX);
	key[DICT_KEY_MAX] = 0;
	/* n copies fit exactly; one more does not. */
	fmt = xmalloc(2 * (n + 1) + 1);
	for (i = 0; i < n; i++)
		memcpy(fmt + 2 * i, "%s", 2);
	fmt[2 * n] = 0;
	assert_int_equal(dq_expand_query(fmt, key, NULL, NULL, &out, &why), 1);
	assert_int_equal(out.len, DICT_VALUE_MAX);
	memcpy(fmt + 2 * n, "%s", 3);
	assert_int_equal(dq_expand_query(fmt, key, NULL, NULL, &out, &why),
	    -1);
	assert_non_null(strstr(buf_str(&why), "longer than"));
	free(fmt);
	free(key);
	buf_free(&out);
	buf_free(&why);
}

static void
test_result_format(void **state)
{
	struct buf out = BUF_INIT, why = BUF_INIT;
	struct dq_result r;

	(void)state;
	dq_result_init(&r, &out, "%s", "key@example.com", 0);
	assert_int_equal(dq_result_add(&r, "a@x.org", 7, &why), 1);
	assert_int_equal(dq_result_add(&r, "b@y.org", 7, &why), 1);
	assert_string_equal(buf_str(&out), "a@x.org,b@y.org");

	/* Lower case: the value; upper case and digits: the key. */
	dq_result_init(&r, &out, "%u+%U@%d/%D/%1/%S", "joe@mail.example.com",
	    0);
	assert_int_equal(dq_result_add(&r, "box@store.net", 13, &why), 1);
	assert_string_equal(buf_str(&out),
	    "box+joe@store.net/mail.example.com/com/joe@mail.example.com");

	/* Values are not quoted and not bounded by "%" in them. */
	dq_result_init(&r, &out, "smtp:[%s]", "k", 0);
	assert_int_equal(dq_result_add(&r, "10.0.0.1%x", 10, &why), 1);
	assert_string_equal(buf_str(&out), "smtp:[10.0.0.1%x]");

	/* Skipped values leave no separator behind. */
	dq_result_init(&r, &out, "%d", "k", 0);
	assert_int_equal(dq_result_add(&r, "a@one.org", 9, &why), 1);
	assert_int_equal(dq_result_add(&r, "unqualified", 11, &why), 0);
	assert_int_equal(dq_result_add(&r, "b@two.org", 9, &why), 1);
	assert_string_equal(buf_str(&out), "one.org,two.org");
	dq_result_init(&r, &out, "%s", "k", 0);
	assert_int_equal(dq_result_add(&r, "", 0, &why), 0);
	assert_int_equal(out.len, 0);
	dq_result_init(&r, &out, "%u", "k", 0);
	assert_int_equal(dq_result_add(&r, "@x.org", 6, &why), 0);
	/* Key parts missing: every value is skipped. */
	dq_result_init(&r, &out, "%D", "unqualified", 0);
	assert_int_equal(dq_result_add(&r, "v", 1, &why), 0);
	buf_free(&out);
	buf_free(&why);
}

static void
test_result_limits(void **state)
{
	struct buf out = BUF_INIT, why = BUF_INIT, big = BUF_INIT;
	struct dq_result r;

	(void)state;
	dq_result_init(&r, &out, "%s", "k", 2);
	assert_int_equal(dq_result_add(&r, "a", 1, &why), 1);
	assert_int_equal(dq_result_add(&r, "b", 1, &why), 1);
	assert_int_equal(dq_result_add(&r, "c", 1, &why), -1);
	assert_non_null(strstr(buf_str(&why), "expansion_limit=2"));
	assert_string_equal(buf_str(&out), "a,b");
	assert_int_equal(r.count, 2);
	/* Skipped values do not count. */
	dq_result_init(&r, &out, "%d", "k", 1);
	assert_int_equal(dq_result_add(&r, "x", 1, &why), 0);
	assert_int_equal(dq_result_add(&r, "a@b", 3, &why), 1);
	assert_int_equal(r.count, 1);
	/* Without a limit values are counted too, even empty answers. */
	dq_result_init(&r, &out, "", "k", 0);
	assert_int_equal(dq_result_add(&r, "x", 1, &why), 1);
	assert_int_equal(dq_result_add(&r, "y", 1, &why), 1);
	assert_int_equal(r.count, 2);
	assert_string_equal(buf_str(&out), "");

	buf_reset(&why);
	dq_result_init(&r, &out, "%s", "k", 0);
	assert_int_equal(dq_result_add(&r, "a\0b", 3, &why), -1);
	assert_non_null(strstr(buf_str(&why), "NUL"));

	/* DICT_VALUE_MAX: exactly fits, one byte more does not. */
	buf_reserve(&big, DICT_VALUE_MAX + 1);
	memset(big.p, 'v', DICT_VALUE_MAX + 1);
	dq_result_init(&r, &out, "%s", "k", 0);
	assert_int_equal(dq_result_add(&r, big.p, DICT_VALUE_MAX, &why), 1);
	dq_result_init(&r, &out, "%s", "k", 0);
	assert_int_equal(dq_result_add(&r, big.p, DICT_VALUE_MAX - 1, &why),
	    1);
	assert_int_equal(dq_result_add(&r, "", 0, &why), 0);
	assert_int_equal(dq_result_add(&r, "x", 1, &why), -1);
	assert_int_equal(out.len, DICT_VALUE_MAX - 1);
	dq_result_init(&r, &out, "%s", "k", 0);
	assert_int_equal(dq_result_add(&r, big.p, DICT_VALUE_MAX + 1, &why),
	    -1);
	buf_free(&big);
	buf_free(&out);
	buf_free(&why);
}

static void
test_domain(void **state)
{
	struct buf why = BUF_INIT;
	struct match_list *m = match_list_new("domain",
	    "example.com, .sub.org");

	(void)state;
	assert_int_equal(dq_domain_ok(NULL, "anything", &why), 1);
	assert_int_equal(dq_domain_ok(m, "joe@example.com", &why), 1);
	assert_int_equal(dq_domain_ok(m, "joe@EXAMPLE.com", &why), 1);
	assert_int_equal(dq_domain_ok(m, "joe@a.sub.org", &why), 1);
	assert_int_equal(dq_domain_ok(m, "joe@other.com", &why), 0);
	assert_int_equal(dq_domain_ok(m, "joe", &why), 0);
	assert_int_equal(dq_domain_ok(m, "example.com", &why), 0);
	assert_int_equal(dq_domain_ok(m, "@example.com", &why), 0);
	assert_int_equal(dq_domain_ok(m, "joe@", &why), 0);
	match_list_free(m);
	buf_free(&why);
}

/* cf - write text to a temporary file and read it; NULL on error */
static struct dq_file *
cf(const char *text, struct buf *why)
{
	char path[] = "/tmp/test_dict_query.XXXXXX";
	int fd = mkstemp(path);
	struct dq_file *f;

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	f = dq_file_read(path, why);
	unlink(path);
	return f;
}

static void
test_file(void **state)
{
	struct buf why = BUF_INIT;
	struct dq_file *f;
	long n;
	int b;
	static const char *const known[] = { "server_host", "timeout",
	    "bind", "query_filter", "domain", NULL };

	(void)state;
	f = cf("# LDAP\nserver_host = ldap://a\n  ldap://b\n"
	    "timeout = 7\nbind = no\nquery_filter = (mail=%s)\n"
	    "domain = example.com\n", &why);
	assert_non_null(f);
	assert_string_equal(dq_str(f, "server_host", "x"),
	    "ldap://a ldap://b");
	assert_string_equal(dq_str(f, "search_base", "dflt"), "dflt");
	assert_string_equal(dq_str(f, "query_filter", ""), "(mail=%s)");
	assert_int_equal(dq_long(f, "timeout", 10, 0, 0, &n, &why), 0);
	assert_int_equal(n, 7);
	assert_int_equal(dq_long(f, "size_limit", 3, 0, 0, &n, &why), 0);
	assert_int_equal(n, 3);
	assert_int_equal(dq_long(f, "timeout", 10, 8, 0, &n, &why), -1);
	assert_int_equal(dq_long(f, "timeout", 10, 0, 6, &n, &why), -1);
	assert_int_equal(dq_bool(f, "bind", 1, &b, &why), 0);
	assert_int_equal(b, 0);
	assert_int_equal(dq_bool(f, "start_tls", 1, &b, &why), 0);
	assert_int_equal(b, 1);
	assert_int_equal(dq_bool(f, "timeout", 1, &b, &why), -1);
	dq_file_unknown(f, known);
	{
		struct match_list *m = dq_domain_list(f);

		assert_non_null(m);
		assert_int_equal(dq_domain_ok(m, "u@example.com", &why), 1);
		match_list_free(m);
	}
	dq_file_free(f);

	f = cf("timeout = 12x\nsize_limit = -1\nversion = 99999999999999999999\n",
	    &why);
	assert_non_null(f);
	buf_reset(&why);
	assert_int_equal(dq_long(f, "timeout", 10, 0, 0, &n, &why), -1);
	assert_non_null(strstr(buf_str(&why), "bad timeout"));
	assert_int_equal(dq_long(f, "size_limit", 0, 0, 0, &n, &why), -1);
	assert_int_equal(dq_long(f, "version", 3, 2, 3, &n, &why), -1);
	assert_null(dq_domain_list(f));
	dq_file_free(f);

	/* Hostile files: no "=", a NUL byte, a missing file. */
	buf_reset(&why);
	assert_null(cf("server_host\n", &why));
	assert_non_null(strstr(buf_str(&why), "line 1"));
	buf_reset(&why);
	assert_null(dq_file_read("/nonexistent/ldap.cf", &why));
	assert_non_null(strstr(buf_str(&why), "/nonexistent/ldap.cf"));
	{
		static const char nul[] = "a = b\nc = \0d\n";
		char path[] = "/tmp/test_dict_query.XXXXXX";
		int fd = mkstemp(path);

		assert_true(fd >= 0);
		assert_int_equal(write(fd, nul, sizeof(nul) - 1),
		    (ssize_t)sizeof(nul) - 1);
		close(fd);
		buf_reset(&why);
		assert_null(dq_file_read(path, &why));
		assert_non_null(strstr(buf_str(&why), "NUL"));
		unlink(path);
	}
	buf_free(&why);
}

static void
test_result_key_fits(void **state)
{
	(void)state;
	/* Value parts never count: only the key's. */
	assert_int_equal(dq_result_key_fits("%s", "postmaster"), 1);
	assert_int_equal(dq_result_key_fits("%u@%d", "postmaster"), 1);
	assert_int_equal(dq_result_key_fits("", "k"), 1);
	assert_int_equal(dq_result_key_fits("%s@%D", "joe@example.com"), 1);
	assert_int_equal(dq_result_key_fits("%s@%D", "joe"), 0);
	assert_int_equal(dq_result_key_fits("%U", "@example.com"), 0);
	assert_int_equal(dq_result_key_fits("%U", "joe"), 1);
	assert_int_equal(dq_result_key_fits("%2.%1", "a@example.com"), 1);
	assert_int_equal(dq_result_key_fits("%3", "a@example.com"), 0);
	assert_int_equal(dq_result_key_fits("100%%", ""), 1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_template_check),
		cmocka_unit_test(test_query_expansions),
		cmocka_unit_test(test_query_suppressed),
		cmocka_unit_test(test_query_too_long),
		cmocka_unit_test(test_result_format),
		cmocka_unit_test(test_result_limits),
		cmocka_unit_test(test_domain),
		cmocka_unit_test(test_result_key_fits),
		cmocka_unit_test(test_file),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
