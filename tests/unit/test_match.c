/*
 * NAME		test_match - unit tests for lib/dict/match: domain and
 *		address lists
 * DESCRIPTION	Network patterns (IPv4 and IPv6, /0, /32, /128, bad
 *		lengths, host bits set, bracket forms, IPv4-mapped client
 *		addresses), address lists with negation, files and tables,
 *		names in address lists, parent_domain_matches_subdomains
 *		style for names and tables, and the style lookup itself.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <unistd.h>

#include <cmocka.h>

#include "dict/match.h"
#include "util/buf.h"
#include "util/files.h"
#include "util/log.h"
#include "unit.h"

struct net_case {
	const char *pattern;
	int	 ok;		/* parses */
	const char *addr;	/* then: this address ... */
	int	 hit;		/* ... is inside (1) or not (0) */
};

static void
test_net_parse(void **state)
{
	static const struct net_case cases[] = {
		{ "192.0.2.0/24", 1, "192.0.2.77", 1 },
		{ "192.0.2.0/24", 1, "192.0.3.1", 0 },
		{ "192.0.2.1", 1, "192.0.2.1", 1 },
		{ "192.0.2.1", 1, "192.0.2.2", 0 },
		{ "192.0.2.1/32", 1, "192.0.2.1", 1 },
		{ "192.0.2.1/32", 1, "192.0.2.0", 0 },
		{ "0.0.0.0/0", 1, "203.0.113.9", 1 },
		{ "0.0.0.0/0", 1, "2001:db8::1", 0 },
		{ "10.0.0.0/8", 1, "10.255.255.255", 1 },
		{ "10.0.0.0/7", 1, "11.1.1.1", 1 },
		{ "10.0.0.0/7", 1, "12.1.1.1", 0 },
		{ "172.16.0.0/12", 1, "172.31.0.1", 1 },
		{ "172.16.0.0/12", 1, "172.32.0.1", 0 },
		{ "[192.0.2.1]", 1, "192.0.2.1", 1 },
		{ "127.0.0.0/8", 1, "::ffff:127.0.0.1", 1 },
		{ "[::ffff:127.0.0.0]/104", 1, "::ffff:127.1.2.3", 1 },
		{ "[::ffff:127.0.0.0]/104", 1, "127.0.0.1", 0 },
		{ "[::1]/128", 1, "::1", 1 },
		{ "[::1]/128", 1, "::2", 0 },
		{ "[::1]", 1, "::1", 1 },
		{ "[2001:db8::]/32", 1, "2001:db8:ffff::1", 1 },
		{ "[2001:db8::]/32", 1, "2001:db9::1", 0 },
		{ "[2001:db8::]/33", 1, "2001:db8:7fff::1", 1 },
		{ "[2001:db8::]/33", 1, "2001:db8:8000::1", 0 },
		{ "[::]/0", 1, "2001:db8::1", 1 },
		{ "[::]/0", 1, "192.0.2.1", 0 },
		{ "2001:db8::/32", 1, "2001:db8::5", 1 },
		{ "[fe80::1%eth0]", 0, NULL, 0 },
		{ "[IPv6:2001:db8::1]", 1, "2001:db8::1", 1 },
		{ "192.0.2.0/33", 0, NULL, 0 },
		{ "192.0.2.0/-1", 0, NULL, 0 },
		{ "192.0.2.0/", 0, NULL, 0 },
		{ "192.0.2.0/2x", 0, NULL, 0 },
		{ "192.0.2.0/0024", 0, NULL, 0 },
		{ "[::1]/129", 0, NULL, 0 },
		{ "192.0.2.1/24", 0, NULL, 0 },
		{ "10.1.0.0/8", 0, NULL, 0 },
		{ "[2001:db8::1]/64", 0, NULL, 0 },
		{ "256.1.1.1", 0, NULL, 0 },
		{ "1.2.3", 0, NULL, 0 },
		{ "1.2.3.4.5", 0, NULL, 0 },
		{ "[1.2.3.4", 0, NULL, 0 },
		{ "[]", 0, NULL, 0 },
		{ "", 0, NULL, 0 },
	};
	size_t i;

	(void)state;
	for (i = 0; i < NELEM(cases); i++) {
		struct match_net n, a;
		struct buf why = BUF_INIT;
		int r = match_net_parse(cases[i].pattern, &n, &why);

		if (r != (cases[i].ok ? 0 : -1))
			fail_msg("%s: parse %d (%s)", cases[i].pattern, r,
			    buf_str(&why));
		if (!cases[i].ok) {
			assert_true(why.len > 0);
		} else {
			assert_int_equal(match_addr_parse(cases[i].addr, &a),
			    0);
			if (match_net_contains(&n, &a) != cases[i].hit)
				fail_msg("%s contains %s: want %d",
				    cases[i].pattern, cases[i].addr,
				    cases[i].hit);
		}
		buf_free(&why);
	}
}

static void
test_host_bits_message(void **state)
{
	struct match_net n;
	struct buf why = BUF_INIT;

	(void)state;
	assert_int_equal(match_net_parse("192.168.1.5/24", &n, &why), -1);
	assert_non_null(strstr(buf_str(&why), "non-null host address bits"));
	assert_non_null(strstr(buf_str(&why), "\"192.168.1.0/24\""));
	buf_reset(&why);
	assert_int_equal(match_net_parse("[2001:db8::1]/64", &n, &why), -1);
	assert_non_null(strstr(buf_str(&why), "\"[2001:db8::]/64\""));
	buf_free(&why);
}

struct list_case {
	const char *list;
	const char *name;	/* NULL: address only */
	const char *addr;
	int	 want;
};

static void
test_addr_lists(void **state)
{
	static const struct list_case cases[] = {
		{ "127.0.0.0/8 [::1]/128", NULL, "127.0.0.1", 1 },
		{ "127.0.0.0/8 [::1]/128", NULL, "::1", 1 },
		{ "127.0.0.0/8 [::1]/128", NULL, "192.0.2.1", 0 },
		{ "127.0.0.0/8, [::1]/128", NULL, "", 0 },
		{ "!192.0.2.1, 192.0.2.0/28", NULL, "192.0.2.1", 0 },
		{ "!192.0.2.1, 192.0.2.0/28", NULL, "192.0.2.2", 1 },
		{ "!192.0.2.1, 192.0.2.0/28", NULL, "192.0.2.16", 0 },
		{ "192.0.2.0/28, !192.0.2.1", NULL, "192.0.2.1", 1 },
		{ "inline:{192.0.2.7=x}", NULL, "192.0.2.7", 1 },
		{ "inline:{192.0.2.7=x}", NULL, "192.0.2.8", 0 },
		{ "static:yes", NULL, "198.51.100.1", 1 },
		{ "fail:x", NULL, "198.51.100.1", -1 },
		{ "192.0.2.1/24", NULL, "192.0.2.1", -1 },
		{ "10.0.0.0/8, 192.0.2.1/24", NULL, "10.0.0.1", -1 },
		{ "{192.0.2.0/24}", NULL, "192.0.2.9", 1 },
		{ "example.com", "mail.example.com", "192.0.2.1", 0 },
		{ ".example.com", "mail.example.com", "192.0.2.1", 1 },
		{ "mail.example.com", "MAIL.Example.COM.", "192.0.2.1", 1 },
		{ "0.0.0.0/0", NULL, "2001:db8::1", 0 },
		{ "[::]/0", NULL, "2001:db8::1", 1 },
	};
	size_t i;

	(void)state;
	for (i = 0; i < NELEM(cases); i++) {
		struct match_list *m = match_list_new_flags("mynetworks",
		    cases[i].list, 0);
		struct buf why = BUF_INIT;
		int r = match_list_host(m, cases[i].name, cases[i].addr, &why);

		if (r != cases[i].want)
			fail_msg("%s ~ %s/%s: got %d want %d (%s)",
			    cases[i].list, cases[i].name ? cases[i].name : "-",
			    cases[i].addr, r, cases[i].want, buf_str(&why));
		if (r < 0)
			assert_true(why.len > 0);
		buf_free(&why);
		match_list_free(m);
	}
}

static void
test_parent_style(void **state)
{
	struct match_list *m;
	struct buf why = BUF_INIT;

	(void)state;
	assert_true(match_parent_style("debug_peer_list, mynetworks",
	    "mynetworks"));
	assert_true(match_parent_style("a,MYNETWORKS", "mynetworks"));
	assert_false(match_parent_style("debug_peer_list", "mynetworks"));
	assert_false(match_parent_style("", "relay_domains"));
	assert_false(match_parent_style(NULL, "relay_domains"));

	m = match_list_new_flags("relay_domains", "example.com",
	    MATCH_FLAG_PARENT);
	assert_int_equal(match_list_domain(m, "example.com", &why), 1);
	assert_int_equal(match_list_domain(m, "a.b.example.com", &why), 1);
	assert_int_equal(match_list_domain(m, "badexample.com", &why), 0);
	assert_int_equal(match_list_domain(m, "com", &why), 0);
	match_list_free(m);

	m = match_list_new_flags("relay_domains", "example.com", 0);
	assert_int_equal(match_list_domain(m, "example.com", &why), 1);
	assert_int_equal(match_list_domain(m, "a.example.com", &why), 0);
	match_list_free(m);

	/* Tables: parents as "name" or ".name". */
	m = match_list_new_flags("relay_domains", "inline:{example.com=x}",
	    MATCH_FLAG_PARENT);
	assert_int_equal(match_list_domain(m, "a.b.example.com", &why), 1);
	match_list_free(m);
	m = match_list_new_flags("relay_domains", "inline:{example.com=x}",
	    0);
	assert_int_equal(match_list_domain(m, "a.b.example.com", &why), 0);
	match_list_free(m);
	m = match_list_new_flags("relay_domains", "inline:{.example.com=x}",
	    0);
	assert_int_equal(match_list_domain(m, "a.b.example.com", &why), 1);
	assert_int_equal(match_list_domain(m, "example.com", &why), 0);
	match_list_free(m);

	/* A table with separators inside its braces is one entry. */
	m = match_list_new_flags("virtual_alias_domains", "a.example, "
	    "inline:{ b.example=x, u@b.example=y }, !c.example", 0);
	assert_int_equal(match_list_domain(m, "b.example", &why), 1);
	assert_int_equal(match_list_domain(m, "a.example", &why), 1);
	assert_int_equal(match_list_domain(m, "c.example", &why), 0);
	match_list_free(m);
	m = match_list_new_flags("virtual_alias_domains",
	    "inline:{ b.example=x", 0);
	assert_int_equal(match_list_domain(m, "b.example", &why), -1);
	match_list_free(m);
	buf_free(&why);
}

static void
test_files(void **state)
{
	char path[] = "/tmp/test_match_XXXXXX";
	static const char text[] = "# trusted\n192.0.2.0/24 # office\n"
	    "[2001:db8::]/32\n\n";
	struct match_list *m;
	struct buf why = BUF_INIT, spec = BUF_INIT;
	int fd;

	(void)state;
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, sizeof(text) - 1),
	    (ssize_t)(sizeof(text) - 1));
	close(fd);
	m = match_list_new_flags("mynetworks", path, 0);
	assert_int_equal(match_list_addr(m, "192.0.2.200", &why), 1);
	assert_int_equal(match_list_addr(m, "2001:db8::1", &why), 1);
	assert_int_equal(match_list_addr(m, "198.51.100.1", &why), 0);
	match_list_free(m);
	buf_printf(&spec, "!%s, 0.0.0.0/0", path);
	m = match_list_new_flags("mynetworks", buf_str(&spec), 0);
	assert_int_equal(match_list_addr(m, "192.0.2.200", &why), 0);
	assert_int_equal(match_list_addr(m, "198.51.100.1", &why), 1);
	match_list_free(m);
	unlink(path);
	m = match_list_new_flags("mynetworks", path, 0);
	assert_int_equal(match_list_addr(m, "192.0.2.200", &why), -1);
	match_list_free(m);
	buf_free(&why);
	buf_free(&spec);
}

static void
test_domain_lists_unchanged(void **state)
{
	struct match_list *m = match_list_new("mydestination",
	    "example.com, .sub.example.org, !bad.example.net, "
	    ".example.net");
	struct buf why = BUF_INIT;

	(void)state;
	assert_int_equal(match_list_domain(m, "EXAMPLE.com.", &why), 1);
	assert_int_equal(match_list_domain(m, "x.sub.example.org", &why), 1);
	assert_int_equal(match_list_domain(m, "sub.example.org", &why), 0);
	assert_int_equal(match_list_domain(m, "bad.example.net", &why), 0);
	assert_int_equal(match_list_domain(m, "ok.example.net", &why), 1);
	assert_false(match_list_empty(m));
	match_list_free(m);
	/* Address literals as domains match network entries. */
	m = match_list_new("mydestination", "[192.0.2.1], inline:{x=y}");
	assert_int_equal(match_list_domain(m, "[192.0.2.1]", &why), 1);
	assert_int_equal(match_list_domain(m, "[192.0.2.2]", &why), 0);
	match_list_free(m);
	m = match_list_new("mydestination", " , ");
	assert_true(match_list_empty(m));
	assert_int_equal(match_list_domain(m, "example.com", &why), 0);
	match_list_free(m);
	buf_free(&why);
}

static void
test_pattern_tables(void **state)
{
	(void)state;
	assert_true(match_table_is_pattern("regexp:/etc/x"));
	assert_true(match_table_is_pattern("PCRE:/etc/x"));
	assert_true(match_table_is_pattern("cidr:/etc/x"));
	assert_true(match_table_is_pattern("proxy:pcre:/etc/x"));
	assert_false(match_table_is_pattern("hash:/etc/x"));
	assert_false(match_table_is_pattern("proxy:unix:passwd.byname"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_net_parse),
		cmocka_unit_test(test_host_bits_message),
		cmocka_unit_test(test_addr_lists),
		cmocka_unit_test(test_parent_style),
		cmocka_unit_test(test_files),
		cmocka_unit_test(test_domain_lists_unchanged),
		cmocka_unit_test(test_pattern_tables),
	};

	log_init("test_match", 0);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
