/*
 * NAME		test_dict_ldap - unit tests for the ldap: client's own parts
 * DESCRIPTION	RFC 4515 filter escaping and RFC 4514 DN escaping (every
 *		byte value, hostile keys through dict_query), server_host
 *		lists (hosts, ports, IPv6, URLs, limits, garbage),
 *		attribute lists, and opening table files with good and bad
 *		settings (no server is needed: connections are made at the
 *		first lookup; a lookup against a closed port is an error).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <unistd.h>

#include <cmocka.h>

#include "dict/dict.h"
#include "dict/dict_ldap.h"
#include "dict/dict_query.h"
#include "util/argv.h"
#include "util/buf.h"
#include "util/mem.h"
#include "unit.h"

/* fq - the filter-escaped form of (s, len) */
static const char *
fq(struct buf *out, const char *s, size_t len)
{
	buf_reset(out);
	dict_ldap_quote_filter(out, s, len, NULL);
	return buf_str(out);
}

/* dq - the DN-escaped form of (s, len) */
static const char *
dq(struct buf *out, const char *s, size_t len)
{
	buf_reset(out);
	dict_ldap_quote_dn(out, s, len, NULL);
	return buf_str(out);
}

static void
test_quote_filter(void **state)
{
	struct buf out = BUF_INIT, why = BUF_INIT;
	char all[256];
	size_t i;

	(void)state;
	assert_string_equal(fq(&out, "joe@example.com", 15),
	    "joe@example.com");
	assert_string_equal(fq(&out, "*)(uid=*", 8), "\\2a\\29\\28uid=\\2a");
	assert_string_equal(fq(&out, "a\\b", 3), "a\\5cb");
	assert_string_equal(fq(&out, "a\0b", 3), "a\\00b");
	assert_string_equal(fq(&out, "", 0), "");
	assert_string_equal(fq(&out, "\xc3\xa9\x7f\n", 4), "\\c3\\a9\\7f\\0a");
	/* Every byte: the output never holds a filter metacharacter. */
	for (i = 0; i < 256; i++)
		all[i] = (char)i;
	fq(&out, all, sizeof(all));
	for (i = 0; i < out.len; i++) {
		assert_true(out.p[i] >= 0x20 && out.p[i] < 0x7f);
		assert_true(out.p[i] != '(' && out.p[i] != ')' &&
		    out.p[i] != '*');
		if (out.p[i] == '\\')
			assert_true(i + 2 < out.len);
	}
	/* Through dict_query: the template is not escaped, the key is. */
	assert_int_equal(dq_expand_query("(&(mail=%s)(x=%u))", "*)(|(a=*@b",
	    dict_ldap_quote_filter, NULL, &out, &why), 1);
	assert_string_equal(buf_str(&out),
	    "(&(mail=\\2a\\29\\28|\\28a=\\2a@b)(x=\\2a\\29\\28|\\28a=\\2a))");
	buf_free(&out);
	buf_free(&why);
}

static void
test_quote_dn(void **state)
{
	struct buf out = BUF_INIT, why = BUF_INIT;
	char all[256];
	size_t i;

	(void)state;
	assert_string_equal(dq(&out, "example.com", 11), "example.com");
	assert_string_equal(dq(&out, "a,b+c\"d\\e<f>g;h=i", 17),
	    "a\\,b\\+c\\\"d\\\\e\\<f\\>g\\;h\\=i");
	assert_string_equal(dq(&out, " #a# ", 5), "\\ #a#\\ ");
	assert_string_equal(dq(&out, " ", 1), "\\ ");
	assert_string_equal(dq(&out, "#", 1), "\\#");
	assert_string_equal(dq(&out, "a\0b", 3), "a\\00b");
	assert_string_equal(dq(&out, "\xff", 1), "\\ff");
	assert_string_equal(dq(&out, "", 0), "");
	for (i = 0; i < 256; i++)
		all[i] = (char)i;
	dq(&out, all, sizeof(all));
	for (i = 0; i < out.len; i++) {
		assert_true(out.p[i] >= 0x20 && out.p[i] < 0x7f);
		/* A special character is always preceded by a backslash. */
		if (strchr(",+\"<>;=", out.p[i]) != NULL)
			assert_int_equal(out.p[i - 1], '\\');
	}
	assert_int_equal(dq_expand_query("ou=%d,dc=%1", "u@a,dc=evil.com",
	    dict_ldap_quote_dn, NULL, &out, &why), 1);
	assert_string_equal(buf_str(&out), "ou=a\\,dc\\=evil.com,dc=com");
	buf_free(&out);
	buf_free(&why);
}

/* servers - parse a list; returns rc, the URLs joined with " " in out */
static int
servers(const char *list, long port, struct buf *out)
{
	struct argv v;
	struct buf why = BUF_INIT;
	size_t i;
	int rc;

	argv_init(&v);
	buf_reset(out);
	rc = dict_ldap_servers(list, port, &v, &why);
	if (rc == 0) {
		for (i = 0; i < v.n; i++)
			buf_printf(out, "%s%s", i ? " " : "", v.v[i]);
	} else {
		assert_true(why.len > 0);
		buf_sets(out, buf_str(&why));
	}
	argv_clear(&v);
	buf_free(&why);
	return rc;
}

static void
test_servers(void **state)
{
	static const char *bad[] = { "", "  ,, ", "host:0", "host:65536",
	    "host:", "host:12a", "host:123456", ":389", "ho;st", "h\x01st",
	    "h/st", "[::1", "[]", "[::1]x", "[::1]:", "[1.2.3.4]", "::1",
	    "a:1:2", "http://x", "ldapx://x", "ldap://[", "ho\xc3\xa9st",
	    "[::g/1]" };
	struct buf out = BUF_INIT, big = BUF_INIT;
	size_t i;

	(void)state;
	assert_int_equal(servers("localhost", 389, &out), 0);
	assert_string_equal(buf_str(&out), "ldap://localhost:389");
	assert_int_equal(servers("a.example:1444, b ,\n\tc:1", 389, &out), 0);
	assert_string_equal(buf_str(&out),
	    "ldap://a.example:1444 ldap://b:389 ldap://c:1");
	assert_int_equal(servers("[::1]:636 [fe80::1] 10.0.0.1:65535", 389,
	    &out), 0);
	assert_string_equal(buf_str(&out),
	    "ldap://[::1]:636 ldap://[fe80::1]:389 ldap://10.0.0.1:65535");
	assert_int_equal(servers("ldap://x:1444 LDAPS://y "
	    "ldapi://%2Fvar%2Frun%2Fldapi", 389, &out), 0);
	assert_string_equal(buf_str(&out), "ldap://x:1444 LDAPS://y "
	    "ldapi://%2Fvar%2Frun%2Fldapi");
	for (i = 0; i < NELEM(bad); i++) {
		if (servers(bad[i], 389, &out) != -1)
			fail_msg("accepted \"%s\": %s", bad[i], buf_str(&out));
		assert_non_null(strstr(buf_str(&out), "server_host"));
	}

	/* Entry length: the limit fits, one more byte does not. */
	buf_reserve(&big, LDAP_SERVER_LEN_MAX + 2);
	memset(big.p, 'h', LDAP_SERVER_LEN_MAX + 1);
	big.p[LDAP_SERVER_LEN_MAX - 1] = 0;
	assert_int_equal(servers(big.p, 389, &out), 0);
	big.p[LDAP_SERVER_LEN_MAX - 1] = 'h';
	big.p[LDAP_SERVER_LEN_MAX] = 0;
	assert_int_equal(servers(big.p, 389, &out), 0);
	big.p[LDAP_SERVER_LEN_MAX] = 'h';
	big.p[LDAP_SERVER_LEN_MAX + 1] = 0;
	assert_int_equal(servers(big.p, 389, &out), -1);
	assert_non_null(strstr(buf_str(&out), "longer than"));

	/* Entry count. */
	buf_reset(&big);
	for (i = 0; i < LDAP_SERVERS_MAX; i++)
		buf_puts(&big, "h ");
	assert_int_equal(servers(big.p, 389, &out), 0);
	buf_puts(&big, "h");
	assert_int_equal(servers(big.p, 389, &out), -1);
	assert_non_null(strstr(buf_str(&out), "more than"));
	buf_free(&big);
	buf_free(&out);
}

static void
test_attr_list(void **state)
{
	static const char *bad[] = { "-mail", ";x", "ma il\x01", "m@il",
	    "mail,ma(il", "\xc3\xa9" };
	struct argv v;
	struct buf why = BUF_INIT, big = BUF_INIT;
	size_t i;

	(void)state;
	argv_init(&v);
	assert_int_equal(dict_ldap_attr_list("result_attribute",
	    "mail, maildrop\tmail;lang-en 2.5.4.3", &v, &why), 0);
	assert_int_equal(v.n, 4);
	assert_string_equal(v.v[2], "mail;lang-en");
	argv_clear(&v);
	assert_int_equal(dict_ldap_attr_list("x", " , ", &v, &why), 0);
	assert_int_equal(v.n, 0);
	for (i = 0; i < NELEM(bad); i++) {
		buf_reset(&why);
		assert_int_equal(dict_ldap_attr_list("leaf_result_attribute",
		    bad[i], &v, &why), -1);
		assert_non_null(strstr(buf_str(&why),
		    "leaf_result_attribute: bad attribute name"));
		argv_clear(&v);
	}
	/* Name length and count limits. */
	buf_reserve(&big, LDAP_ATTR_LEN_MAX + 2);
	memset(big.p, 'a', LDAP_ATTR_LEN_MAX + 1);
	big.p[LDAP_ATTR_LEN_MAX] = 0;
	assert_int_equal(dict_ldap_attr_list("x", big.p, &v, &why), 0);
	argv_clear(&v);
	big.p[LDAP_ATTR_LEN_MAX] = 'a';
	big.p[LDAP_ATTR_LEN_MAX + 1] = 0;
	assert_int_equal(dict_ldap_attr_list("x", big.p, &v, &why), -1);
	argv_clear(&v);
	buf_reset(&big);
	for (i = 0; i < LDAP_ATTRS_MAX; i++)
		buf_puts(&big, "a ");
	assert_int_equal(dict_ldap_attr_list("x", big.p, &v, &why), 0);
	argv_clear(&v);
	buf_puts(&big, "b");
	assert_int_equal(dict_ldap_attr_list("x", big.p, &v, &why), -1);
	argv_clear(&v);
	buf_free(&big);
	buf_free(&why);
}

/* open_cf - write text to a table file and open it as ldap: */
static struct dict *
open_cf(const char *text, struct buf *why)
{
	char path[] = "/tmp/test_dict_ldap.XXXXXX", spec[64];
	int fd = mkstemp(path);
	struct dict *d;

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	snprintf(spec, sizeof(spec), "ldap:%s", path);
	buf_reset(why);
	d = dict_open(spec, DICT_FLAG_FOLD_FIX, why);
	unlink(path);
	return d;
}

static void
test_open_bad(void **state)
{
	static const struct {
		const char *text;
		const char *why;
	} bad[] = {
		{ "server_port = 0\n", "bad server_port" },
		{ "server_port = 65536\n", "bad server_port" },
		{ "timeout = 0\n", "bad timeout" },
		{ "timeout = 10s\n", "bad timeout" },
		{ "version = 1\n", "bad version" },
		{ "version = 4\n", "bad version" },
		{ "size_limit = -1\n", "bad size_limit" },
		{ "expansion_limit = x\n", "bad expansion_limit" },
		{ "recursion_limit = 0\n", "bad recursion_limit" },
		{ "recursion_limit = 1001\n", "bad recursion_limit" },
		{ "dereference = 4\n", "bad dereference" },
		{ "chase_referrals = maybe\n", "bad chase_referrals" },
		{ "start_tls = 2\n", "bad start_tls" },
		{ "tls_require_cert = demand\n", "bad tls_require_cert" },
		{ "scope = subtree\n", "bad scope" },
		{ "bind = sasl\n", "bind = sasl is not supported" },
		{ "bind = maybe\n", "bad bind" },
		{ "server_host = ldap://[\n", "bad LDAP URL" },
		{ "server_host = \n", "no server" },
		{ "server_host = a:b\n", "bad port" },
		{ "query_filter = (mail=%x)\n", "bad % sequence" },
		{ "query_filter =\n", "query_filter is empty" },
		{ "search_base = dc=%q\n", "bad % sequence" },
		{ "result_format = %\n", "bad % sequence" },
		{ "result_filter = 100%\n", "bad % sequence" },
		{ "result_attribute = (mail)\n", "bad attribute name" },
		{ "special_result_attribute = a b c!\n", "bad attribute" },
		{ "version = 2\nstart_tls = yes\n", "start_tls needs" },
		{ "= x\n", "" },
		{ "a\0b = c\n", "" },
	};
	struct buf why = BUF_INIT;
	struct dict *d;
	size_t i;

	(void)state;
	for (i = 0; i < NELEM(bad); i++) {
		d = open_cf(bad[i].text, &why);
		if (d != NULL)
			fail_msg("opened: %s", bad[i].text);
		assert_non_null(strstr(buf_str(&why), "ldap:/tmp/"));
		if (strstr(buf_str(&why), bad[i].why) == NULL)
			fail_msg("%s: %s", bad[i].text, buf_str(&why));
	}
	/* A missing file. */
	buf_reset(&why);
	assert_null(dict_open("ldap:/nonexistent/ldap.cf", 0, &why));
	assert_non_null(strstr(buf_str(&why), "ldap:/nonexistent/ldap.cf"));
	buf_free(&why);
}

static void
test_open_good(void **state)
{
	struct buf why = BUF_INIT, value = BUF_INIT;
	struct dict *d;

	(void)state;
	/* Every parameter; unknown and ignored ones warn only. */
	d = open_cf("server_host = 127.0.0.1:1, ldap://127.0.0.1:2/\n"
	    "server_port = 389\ntimeout = 1\nsearch_base = ou=%d,dc=x\n"
	    "query_filter = (&(mail=%s)(uid=%u))\nresult_format = smtp:[%s]\n"
	    "domain = example.com\nresult_attribute = mailHost\n"
	    "special_result_attribute = member\n"
	    "terminal_result_attribute = maildrop\n"
	    "leaf_result_attribute = mail\nscope = ONE\nbind = no\n"
	    "bind_dn = cn=x\nbind_pw = y\ncache = yes\nrecursion_limit = 5\n"
	    "expansion_limit = 3\nsize_limit = 0\ndereference = 3\n"
	    "chase_referrals = yes\nversion = 2\ndebuglevel = 0\n"
	    "start_tls = no\ntls_require_cert = yes\ntls_ca_cert_file = /x\n"
	    "no_such_parameter = 1\n", &why);
	if (d == NULL)
		fail_msg("%s", buf_str(&why));
	/* Out of domain, suppressed and empty keys: no connection tried. */
	assert_int_equal(dict_lookup(d, "joe@other.com", &value, &why),
	    DICT_NOTFOUND);
	assert_int_equal(dict_lookup(d, "joe", &value, &why), DICT_NOTFOUND);
	assert_int_equal(dict_lookup(d, "", &value, &why), DICT_NOTFOUND);
	/* Nothing listens on ports 1 and 2: an error naming both. */
	assert_int_equal(dict_lookup(d, "joe@example.com", &value, &why),
	    DICT_ERROR);
	assert_non_null(strstr(buf_str(&why), "ldap://127.0.0.1:1"));
	assert_non_null(strstr(buf_str(&why), "ldap://127.0.0.1:2/"));
	assert_non_null(strstr(buf_str(&why), "Can't contact LDAP server"));
	assert_int_equal(value.len, 0);
	dict_close(d);

	/* The defaults, and result_filter as the old name. */
	d = open_cf("result_filter = x%s\n", &why);
	assert_non_null(d);
	dict_close(d);
	/* An empty file is a table with every default. */
	d = open_cf("", &why);
	assert_non_null(d);
	dict_close(d);
	/* The sample in conf/ opens (tests run in tests/unit). */
	d = dict_open("ldap:../../conf/ldap-aliases.cf", 0, &why);
	if (d == NULL)
		fail_msg("%s", buf_str(&why));
	dict_close(d);
	buf_free(&why);
	buf_free(&value);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_quote_filter),
		cmocka_unit_test(test_quote_dn),
		cmocka_unit_test(test_servers),
		cmocka_unit_test(test_attr_list),
		cmocka_unit_test(test_open_bad),
		cmocka_unit_test(test_open_good),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
