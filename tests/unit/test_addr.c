/*
 * NAME		test_addr - unit tests for mail/addr
 * DESCRIPTION	addr_parse_list() as a golden transcript (display names,
 *		comments, quoted local parts, groups, route addresses, <>,
 *		unterminated quotes, comments and brackets); the input,
 *		count and address length limits at limit-1, limit and
 *		limit+1; NUL bytes; deep comment nesting; addr_quote() round
 *		trips; addr_parse_one(), addr_domain(), addr_split_ext().
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <ctype.h>

#include "mail/addr.h"
#include "mail/mail_conf.h"
#include "util/buf.h"
#include "unit.h"

static const struct addr_limits deflim = ADDR_LIMITS_DEFAULT;

/* unescape - decode \xNN \t \r \n \\ in a transcript line */
static void
unescape(const char *s, struct buf *out)
{
	buf_reset(out);
	for (; *s; s++) {
		if (s[0] == '\\' && s[1] == 'x' && s[2] && s[3]) {
			char hex[3] = {s[2], s[3], 0};

			buf_putc(out, (int)strtol(hex, NULL, 16));
			s += 3;
		} else if (s[0] == '\\' && s[1] == 't') {
			buf_putc(out, '\t');
			s++;
		} else if (s[0] == '\\' && s[1] == 'r') {
			buf_putc(out, '\r');
			s++;
		} else if (s[0] == '\\' && s[1] == 'n') {
			buf_putc(out, '\n');
			s++;
		} else if (s[0] == '\\' && s[1] == '\\') {
			buf_putc(out, '\\');
			s++;
		} else
			buf_putc(out, *s);
	}
	(void)buf_str(out);
}

/* check_roundtrip - parsing the quoted form gives the address back */
static void
check_roundtrip(const char *addr)
{
	struct buf q = BUF_INIT, why = BUF_INIT;
	struct addr_list l;
	const char *dom = addr_domain(addr);
	size_t i;

	/*
	 * Only the local part is quoted; a domain with specials or white
	 * space (from a quoted domain) cannot come back the same.
	 */
	if (*addr == 0)
		return;
	for (i = 0; dom[i]; i++)
		if (strchr("()<>,;:\\\"[]", dom[i]) ||
		    isspace((unsigned char)dom[i]))
			return;
	addr_quote(addr, &q);
	if (addr_parse_list(q.p, q.len, &deflim, &l, &why) < 0)
		fail_msg("quoted \"%s\": %s", q.p, why.p);
	if (l.n != 1 || strcmp(l.v[0].addr, addr) != 0)
		fail_msg("round trip of \"%s\" via \"%s\" failed", addr, q.p);
	addr_list_free(&l);
	buf_free(&q);
	buf_free(&why);
}

static void
test_addr_golden(void **state)
{
	struct buf in = BUF_INIT, out = BUF_INIT, text = BUF_INIT,
	    why = BUF_INIT, q = BUF_INIT;
	struct addr_list l;
	char *cp, *line;
	size_t i;

	(void)state;
	golden_read("addr", "in", &in);
	cp = in.p;
	while ((line = strsep(&cp, "\n")) != NULL) {
		if (*line == '#' || (cp == NULL && *line == 0))
			continue;
		unescape(line, &text);
		buf_printf(&out, "%s\n", line);
		buf_reset(&why);
		if (addr_parse_list(text.p, text.len, &deflim, &l, &why) < 0) {
			buf_printf(&out, "\terror: %s\n", buf_str(&why));
			assert_int_equal(l.n, 0);
			continue;
		}
		if (l.n == 0)
			buf_puts(&out, "\t(none)\n");
		for (i = 0; i < l.n; i++) {
			const struct addr_item *a = &l.v[i];

			assert_true(a->start <= a->end && a->end <= text.len);
			addr_quote(a->addr, &q);
			buf_puts(&out, "\t[");
			put_visible(&out, a->addr, strlen(a->addr));
			buf_printf(&out, "] span %zu-%zu \"", a->start, a->end);
			put_visible(&out, text.p + a->start, a->end - a->start);
			buf_printf(&out, "\"%s quoted [",
			    a->angle ? " <>" : "");
			put_visible(&out, q.p, q.len);
			buf_puts(&out, "]\n");
			check_roundtrip(a->addr);
		}
		addr_list_free(&l);
	}
	golden_check("addr", &out);
	buf_free(&in);
	buf_free(&out);
	buf_free(&text);
	buf_free(&why);
	buf_free(&q);
}

/* parse_n - parse text with limits; returns the result */
static int
parse_n(const char *text, size_t len, const struct addr_limits *lim,
    struct addr_list *l, struct buf *why)
{
	buf_reset(why);
	return addr_parse_list(text, len, lim, l, why);
}

static void
test_addr_limits(void **state)
{
	struct addr_limits lim = {100, 3, 10};
	struct buf why = BUF_INIT, text = BUF_INIT;
	struct addr_list l;
	size_t n;

	(void)state;
	/* Input length: limit-1, limit, limit+1. */
	for (n = 99; n <= 101; n++) {
		buf_reset(&text);
		buf_puts(&text, "a@b (");
		while (text.len < n - 1)
			buf_putc(&text, 'c');
		buf_putc(&text, ')');
		assert_int_equal(text.len, n);
		assert_int_equal(parse_n(text.p, text.len, &lim, &l, &why),
		    n <= 100 ? 0 : -1);
		if (n > 100)
			assert_string_equal(why.p, "address list too long");
		addr_list_free(&l);
	}
	/* Number of addresses. */
	assert_int_equal(parse_n("a@b, c@d", 8, &lim, &l, &why), 0);
	assert_int_equal(l.n, 2);
	addr_list_free(&l);
	assert_int_equal(parse_n("a@b, c@d, e@f", 13, &lim, &l, &why), 0);
	assert_int_equal(l.n, 3);
	addr_list_free(&l);
	assert_int_equal(parse_n("a@b, c@d, e@f, g@h", 18, &lim, &l, &why),
	    -1);
	assert_string_equal(why.p, "too many addresses");
	assert_int_equal(l.n, 0);
	assert_null(l.v);
	/* Empty elements and groups do not count. */
	assert_int_equal(parse_n("a@b,,, g:;, c@d, <>", 19, &lim, &l, &why),
	    0);
	assert_int_equal(l.n, 3);
	addr_list_free(&l);
	/* One address's length (internal form): 9, 10, 11. */
	assert_int_equal(parse_n("abcde@ghi", 9, &lim, &l, &why), 0);
	addr_list_free(&l);
	assert_int_equal(parse_n("abcde@ghij", 10, &lim, &l, &why), 0);
	addr_list_free(&l);
	assert_int_equal(parse_n("abcde@ghijk", 11, &lim, &l, &why), -1);
	assert_string_equal(why.p, "address too long");
	/* Quotes and comments do not count; the unquoted text does. */
	assert_int_equal(parse_n("\"ab de\"@ghij (comment)", 22, &lim, &l,
	    &why), 0);
	assert_string_equal(l.v[0].addr, "ab de@ghij");
	addr_list_free(&l);
	assert_int_equal(parse_n("\"ab de\"@ghijk", 13, &lim, &l, &why), -1);
	/* Zero limits refuse everything but empty input. */
	lim.max_len = 0;
	assert_int_equal(parse_n("", 0, &lim, &l, &why), 0);
	assert_int_equal(l.n, 0);
	addr_list_free(&l);
	assert_int_equal(parse_n("a", 1, &lim, &l, &why), -1);
	buf_free(&why);
	buf_free(&text);
}

static void
test_addr_hostile(void **state)
{
	struct buf why = BUF_INIT, text = BUF_INIT;
	struct addr_list l;
	size_t i;

	(void)state;
	/* NUL bytes would cut the internal (C string) form short. */
	assert_int_equal(parse_n("\"root\0\"@evil.example", 20, &deflim, &l,
	    &why), -1);
	assert_string_equal(why.p, "NUL byte in address list");
	assert_int_equal(parse_n("root\0@evil.example", 18, &deflim, &l,
	    &why), -1);
	assert_int_equal(parse_n("a@b (\0)", 7, &deflim, &l, &why), -1);
	/* Length is the truth: text after len is not read. */
	assert_int_equal(parse_n("a@b, c@d", 3, &deflim, &l, &why), 0);
	assert_int_equal(l.n, 1);
	assert_string_equal(l.v[0].addr, "a@b");
	addr_list_free(&l);
	/* Deep comment nesting, balanced and not. */
	for (i = 0; i < 1000; i++)
		buf_putc(&text, '(');
	buf_puts(&text, "x@y");
	for (i = 0; i < 1000; i++)
		buf_putc(&text, ')');
	buf_puts(&text, " a@b");
	assert_int_equal(parse_n(text.p, text.len, &deflim, &l, &why), 0);
	addr_list_free(&l);
	buf_truncate(&text, 1003);
	assert_int_equal(parse_n(text.p, text.len, &deflim, &l, &why), 0);
	assert_int_equal(l.n, 0);
	addr_list_free(&l);
	/* Many separators and many brackets. */
	buf_reset(&text);
	for (i = 0; i < 50000; i++)
		buf_puts(&text, "<>");
	assert_int_equal(parse_n(text.p, text.len, &deflim, &l, &why), 0);
	addr_list_free(&l);
	buf_reset(&text);
	for (i = 0; i < 10001; i++)
		buf_puts(&text, "<>,");
	assert_int_equal(parse_n(text.p, text.len, &deflim, &l, &why), -1);
	assert_string_equal(why.p, "too many addresses");
	buf_free(&why);
	buf_free(&text);
}

static void
test_addr_quote(void **state)
{
	static const struct {
		const char *in;
		const char *out;
	} t[] = {
		{"", ""},
		{"user@example.com", "user@example.com"},
		{"first.last@x", "first.last@x"},
		{"john smith@example.com", "\"john smith\"@example.com"},
		{"a\"b@x", "\"a\\\"b\"@x"},
		{"a\\b@x", "\"a\\\\b\"@x"},
		{".a@x", "\".a\"@x"},
		{"a.@x", "\"a.\"@x"},
		{"a..b@x", "\"a..b\"@x"},
		{"@x", "@x"},
		{"postmaster", "postmaster"},
		{"a b", "\"a b\""},
		{"a@b@c", "\"a@b\"@c"},
		{"!#$%&'*+-/=?^_`{|}~@x", "!#$%&'*+-/=?^_`{|}~@x"},
		{"a(b)@x", "\"a(b)\"@x"},
		{"a,b@x", "\"a,b\"@x"},
		{"a:b@x", "\"a:b\"@x"},
		{"a<b>@x", "\"a<b>\"@x"},
		{"a[b]@x", "\"a[b]\"@x"},
		{"a\tb@x", "\"a\tb\"@x"},
		{"j\xc3\xbcrgen@x", "j\xc3\xbcrgen@x"},
		{"user@[1.2.3.4]", "user@[1.2.3.4]"},
	};
	struct buf out = BUF_INIT;
	size_t i;

	(void)state;
	for (i = 0; i < NELEM(t); i++) {
		buf_sets(&out, "junk");
		addr_quote(t[i].in, &out);
		assert_string_equal(buf_str(&out), t[i].out);
		check_roundtrip(t[i].in);
	}
	assert_true(addr_local_needs_quote("", 0));
	assert_true(addr_local_needs_quote(".", 1));
	assert_false(addr_local_needs_quote("a.b", 3));
	assert_false(addr_local_needs_quote("a.b c", 3));	/* length */
	assert_true(addr_local_needs_quote("a b", 3));
	assert_true(addr_local_needs_quote("a\0b", 3));
	buf_free(&out);
}

static void
test_addr_parse_one(void **state)
{
	static const struct {
		const char *in;
		const char *out;	/* NULL: error */
		const char *why;
	} t[] = {
		{"a@b", "a@b", NULL},
		{"<a@b>", "a@b", NULL},
		{"<>", "", NULL},
		{"Name <\"x y\"@b> (c)", "x y@b", NULL},
		{"", NULL, "no address"},
		{"(only a comment)", NULL, "no address"},
		{"a@b, c@d", NULL, "more than one address"},
		{"g: a@b, c@d;", NULL, "more than one address"},
	};
	struct buf out = BUF_INIT, why = BUF_INIT;
	size_t i;

	(void)state;
	for (i = 0; i < NELEM(t); i++) {
		buf_reset(&why);
		if (t[i].out) {
			assert_int_equal(addr_parse_one(t[i].in,
			    strlen(t[i].in), &deflim, &out, &why), 0);
			assert_string_equal(buf_str(&out), t[i].out);
		} else {
			assert_int_equal(addr_parse_one(t[i].in,
			    strlen(t[i].in), &deflim, &out, &why), -1);
			assert_string_equal(buf_str(&why), t[i].why);
		}
	}
	buf_free(&out);
	buf_free(&why);
}

static void
test_addr_split(void **state)
{
	static const struct {
		const char *addr;
		const char *delims;
		const char *user;
		const char *ext;
		const char *domain;
	} t[] = {
		{"user+ext@d", "+", "user", "ext", "d"},
		{"user+ext@d", "", "user+ext", "", "d"},
		{"user+ext@d", NULL, "user+ext", "", "d"},
		{"user@d", "+", "user", "", "d"},
		{"+ext@d", "+", "+ext", "", "d"},	/* no empty user */
		{"user+@d", "+", "user", "", "d"},
		{"user+a+b@d", "+", "user", "a+b", "d"},
		{"user-a+b@d", "+-", "user", "a+b", "d"},
		{"user+a-b@d", "-+", "user", "a-b", "d"},
		{"user+ext", "+", "user", "ext", ""},
		{"u+e@d+x", "+", "u", "e", "d+x"},
		{"a+b@c@d", "+", "a", "b@c", "d"},
		{"", "+", "", "", ""},
		{"@d", "+", "", "", "d"},
	};
	struct buf user = BUF_INIT, ext = BUF_INIT, dom = BUF_INIT;
	size_t i;

	(void)state;
	for (i = 0; i < NELEM(t); i++) {
		addr_split_ext(t[i].addr, t[i].delims, &user, &ext, &dom);
		assert_string_equal(buf_str(&user), t[i].user);
		assert_string_equal(buf_str(&ext), t[i].ext);
		assert_string_equal(buf_str(&dom), t[i].domain);
		addr_split_ext(t[i].addr, t[i].delims, &user, &ext, NULL);
		assert_string_equal(buf_str(&user), t[i].user);
	}
	/* owner_request_special: owner-x and x-request stay whole. */
	mail_cfg.owner_request_special = 1;
	addr_split_ext("owner-list@d", "-", &user, &ext, &dom);
	assert_string_equal(buf_str(&user), "owner-list");
	addr_split_ext("OWNER-list+x@d", "+-", &user, &ext, &dom);
	assert_string_equal(buf_str(&user), "OWNER-list+x");
	addr_split_ext("list-Request@d", "-", &user, &ext, &dom);
	assert_string_equal(buf_str(&user), "list-Request");
	addr_split_ext("owner-@d", "-", &user, &ext, &dom);
	assert_string_equal(buf_str(&user), "owner");
	addr_split_ext("-request@d", "-", &user, &ext, &dom);
	assert_string_equal(buf_str(&user), "-request");
	addr_split_ext("list-requests@d", "-", &user, &ext, &dom);
	assert_string_equal(buf_str(&user), "list");
	mail_cfg.owner_request_special = 0;
	addr_split_ext("owner-list@d", "-", &user, &ext, &dom);
	assert_string_equal(buf_str(&user), "owner");
	assert_string_equal(buf_str(&ext), "list");
	assert_string_equal(addr_domain("a@b"), "b");
	assert_string_equal(addr_domain("a@b@c"), "c");
	assert_string_equal(addr_domain("a"), "");
	assert_string_equal(addr_domain("a@"), "");
	buf_free(&user);
	buf_free(&ext);
	buf_free(&dom);
}

/* map_fn - "a@x" becomes "new-a@y", "fail@x" fails, others stay */
static int
map_fn(const char *addr, struct buf *out, void *ctx)
{
	int *calls = ctx;

	(*calls)++;
	if (strcmp(addr, "fail@x") == 0)
		return -1;
	if (strcmp(addr, "a@x") == 0) {
		buf_sets(out, "new a@y");
		return 1;
	}
	buf_sets(out, addr);
	return 0;
}

static void
test_addr_rewrite(void **state)
{
	struct buf out = BUF_INIT;
	int calls = 0;
	static const char v1[] = " Joe (the boss) <a@x>, b@x,\n\t\"Q\" <a@x>";

	(void)state;
	assert_int_equal(addr_list_rewrite(v1, strlen(v1), map_fn, &calls,
	    &out), 1);
	assert_string_equal(buf_str(&out),
	    " Joe (the boss) <\"new a\"@y>, b@x,\n\t\"Q\" <\"new a\"@y>");
	assert_int_equal(calls, 3);
	/* Nothing changed: 0 and no output; null addresses are skipped. */
	calls = 0;
	assert_int_equal(addr_list_rewrite("b@x, <>", 7, map_fn, &calls,
	    &out), 0);
	assert_int_equal(out.len, 0);
	assert_int_equal(calls, 1);
	assert_int_equal(addr_list_rewrite("a@x, fail@x", 11, map_fn, &calls,
	    &out), -1);
	/* Groups and an empty value. */
	assert_int_equal(addr_list_rewrite("team: a@x, c@x;", 15, map_fn,
	    &calls, &out), 1);
	assert_string_equal(buf_str(&out), "team: \"new a\"@y, c@x;");
	assert_int_equal(addr_list_rewrite("", 0, map_fn, &calls, &out), 0);

	assert_int_equal(addr_header_kind("from"), ADDR_HDR_SENDER);
	assert_int_equal(addr_header_kind("resent-sender"), ADDR_HDR_SENDER);
	assert_int_equal(addr_header_kind("cc"), ADDR_HDR_RCPT);
	assert_int_equal(addr_header_kind("resent-bcc"), ADDR_HDR_RCPT);
	assert_int_equal(addr_header_kind("subject"), 0);
	assert_int_equal(addr_header_kind("From"), 0);	/* lower case only */
	buf_free(&out);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_addr_golden),
		cmocka_unit_test(test_addr_rewrite),
		cmocka_unit_test(test_addr_limits),
		cmocka_unit_test(test_addr_hostile),
		cmocka_unit_test(test_addr_quote),
		cmocka_unit_test(test_addr_parse_one),
		cmocka_unit_test(test_addr_split),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
