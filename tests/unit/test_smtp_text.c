/*
 * NAME		test_smtp_text - unit tests for the SMTP client's encoders
 *		and next-hop parser
 * DESCRIPTION	xtext (RFC 3461), dot-stuffing, CRLF line ends, bare CR,
 *		breaking long lines at the limit (limit-1, limit, limit+1,
 *		a dot at the start, many pieces, no limit), 8-bit and UTF-8
 *		detection (well-formed, overlong, surrogates, truncated),
 *		address checks, keyword lists, ports and every next-hop
 *		form for SMTP and LMTP, good and bad.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "../../smtp/smtp.h"
#include "util/buf.h"
#include "unit.h"

static void
test_xtext(void **state)
{
	static const struct {
		const char *in;
		const char *out;
	} cases[] = {
		{ "", "" },
		{ "abc@example.com", "abc@example.com" },
		{ "a+b=c", "a+2Bb+3Dc" },
		{ "sp ace", "sp+20ace" },
		{ "\x01\x7f\xc3\xa9", "+01+7F+C3+A9" },
		{ "!~", "!~" },
		{ "<id@host>", "<id@host>" },
	};
	struct buf out = BUF_INIT;
	size_t i;

	(void)state;
	for (i = 0; i < NELEM(cases); i++) {
		buf_reset(&out);
		smtp_xtext(cases[i].in, strlen(cases[i].in), &out);
		assert_string_equal(buf_str(&out), cases[i].out);
	}
	buf_free(&out);
}

/* line - smtp_data_line() of s with a limit, shown with \r\n as | */
static const char *
line(const char *s, size_t limit, struct buf *out)
{
	struct buf raw = BUF_INIT;
	size_t i;

	smtp_data_line(s, strlen(s), limit, &raw);
	buf_reset(out);
	for (i = 0; i < raw.len; i++) {
		if (raw.p[i] == '\r' && i + 1 < raw.len &&
		    raw.p[i + 1] == '\n') {
			buf_putc(out, '|');
			i++;
		} else if (raw.p[i] == '\r' || raw.p[i] == '\n') {
			buf_putc(out, '#');	/* must never happen */
		} else {
			buf_putc(out, raw.p[i]);
		}
	}
	buf_free(&raw);
	return buf_str(out);
}

static void
test_data_line(void **state)
{
	struct buf out = BUF_INIT, in = BUF_INIT, want = BUF_INIT;
	size_t i, n;

	(void)state;
	assert_string_equal(line("", 998, &out), "|");
	assert_string_equal(line("hello", 998, &out), "hello|");
	assert_string_equal(line(".", 998, &out), "..|");
	assert_string_equal(line(".hidden", 998, &out), "..hidden|");
	assert_string_equal(line("a.b", 998, &out), "a.b|");
	assert_string_equal(line("crlf\r", 998, &out), "crlf|");
	assert_string_equal(line("bare\rcr", 998, &out), "bare cr|");
	assert_string_equal(line("x\r.\r", 998, &out), "x .|");
	assert_string_equal(line("\r", 998, &out), "|");

	/* Lines of limit-1 and limit bytes pass; limit+1 is broken. */
	assert_string_equal(line("abcd", 5, &out), "abcd|");
	assert_string_equal(line("abcde", 5, &out), "abcde|");
	assert_string_equal(line("abcdef", 5, &out), "abcde| f|");
	assert_string_equal(line("abcdefghijklm", 5, &out),
	    "abcde| fghi| jklm|");
	/* A stuffed dot counts toward the limit. */
	assert_string_equal(line(".bcde", 5, &out), "..bcd| e|");
	/* A continuation that starts with a dot is not stuffed. */
	assert_string_equal(line("abcde.fg", 5, &out), "abcde| .fg|");
	/* No limit. */
	assert_string_equal(line("abcdefghijklm", 0, &out), "abcdefghijklm|");
	/* A silly limit still makes progress. */
	assert_string_equal(line("abc", 1, &out), "a| b| c|");

	/* 998 and 999 bytes at the default limit. */
	for (n = 998; n <= 999; n++) {
		buf_reset(&in);
		for (i = 0; i < n; i++)
			buf_putc(&in, 'a' + (char)(i % 26));
		buf_reset(&want);
		buf_put(&want, in.p, n < 998 ? n : 998);
		buf_putc(&want, '|');
		if (n > 998) {
			buf_putc(&want, ' ');
			buf_put(&want, in.p + 998, n - 998);
			buf_putc(&want, '|');
		}
		assert_string_equal(line(in.p, 998, &out), want.p);
	}
	buf_free(&out);
	buf_free(&in);
	buf_free(&want);
}

static void
test_content_checks(void **state)
{
	(void)state;
	assert_false(smtp_has_8bit("plain ascii", 11));
	assert_true(smtp_has_8bit("caf\xc3\xa9", 5));
	assert_true(smtp_has_8bit("\x80", 1));
	assert_true(smtp_has_utf8("Subject: caf\xc3\xa9", 14));
	assert_true(smtp_has_utf8("\xe2\x82\xac", 3));
	assert_true(smtp_has_utf8("\xf0\x9f\x98\x80", 4));
	assert_false(smtp_has_utf8("ascii", 5));
	assert_false(smtp_has_utf8("latin1 caf\xe9", 11));
	assert_false(smtp_has_utf8("\xc0\xaf", 2));	/* overlong */
	assert_false(smtp_has_utf8("\xe0\x80\xaf", 3));	/* overlong */
	assert_false(smtp_has_utf8("\xed\xa0\x80", 3));	/* surrogate */
	assert_false(smtp_has_utf8("\xf4\x90\x80\x80", 4));	/* too big */
	assert_false(smtp_has_utf8("\xe2\x82", 2));	/* truncated */
	assert_false(smtp_has_utf8("\xc3", 1));

	assert_true(smtp_addr_ok("user@example.com"));
	assert_true(smtp_addr_ok(""));
	assert_true(smtp_addr_ok("j\xc3\xb6rg@example.com"));
	assert_false(smtp_addr_ok("user@example.com\r\nRCPT TO:<x>"));
	assert_false(smtp_addr_ok("a\tb@example.com"));
	assert_false(smtp_addr_ok("a\x7f@example.com"));

	assert_true(smtp_keyword_listed("pipelining, DSN", "dsn"));
	assert_true(smtp_keyword_listed("pipelining, DSN", "PIPELINING"));
	assert_false(smtp_keyword_listed("pipelining, DSN", "SIZE"));
	assert_false(smtp_keyword_listed("", "SIZE"));
	assert_false(smtp_keyword_listed(NULL, "SIZE"));
}

struct dest_case {
	const char *spec;
	int	 lmtp;
	int	 rc;
	const char *host;
	int	 port;
	int	 mx;
	int	 local;
};

static void
test_dest_parse(void **state)
{
	static const struct dest_case cases[] = {
		{ "example.com", 0, 0, "example.com", 25, 1, 0 },
		{ "example.com:2525", 0, 0, "example.com", 2525, 1, 0 },
		{ "[mx.example.com]", 0, 0, "mx.example.com", 25, 0, 0 },
		{ "[127.0.0.1]:2525", 0, 0, "127.0.0.1", 2525, 0, 0 },
		{ "[ipv6:2001:db8::1]:26", 0, 0, "ipv6:2001:db8::1", 26, 0,
		    0 },
		{ "[2001:db8::1]", 0, 0, "2001:db8::1", 25, 0, 0 },
		{ "[relay.example]:submission", 0, 0, "relay.example", 587,
		    0, 0 },
		{ "127.0.0.1:2525", 0, 0, "127.0.0.1", 2525, 1, 0 },
		{ "unix:/var/run/lmtp", 1, 0, "/var/run/lmtp", 25, 0, 1 },
		{ "inet:lmtp.example:24", 1, 0, "lmtp.example", 24, 0, 0 },
		{ "inet:[127.0.0.1]:2424", 1, 0, "127.0.0.1", 2424, 0, 0 },
		{ "[127.0.0.1]:2424", 1, 0, "127.0.0.1", 2424, 0, 0 },
		{ "lmtp.example", 1, 0, "lmtp.example", 25, 0, 0 },
		{ "", 0, -1, NULL, 0, 0, 0 },
		{ "[]", 0, -1, NULL, 0, 0, 0 },
		{ "[host", 0, -1, NULL, 0, 0, 0 },
		{ "[host]x", 0, -1, NULL, 0, 0, 0 },
		{ "[host]:", 0, -1, NULL, 0, 0, 0 },
		{ "host:0", 0, -1, NULL, 0, 0, 0 },
		{ "host:65536", 0, -1, NULL, 0, 0, 0 },
		{ "host:http", 0, -1, NULL, 0, 0, 0 },
		{ ":25", 0, -1, NULL, 0, 0, 0 },
		{ "bad host", 0, -1, NULL, 0, 0, 0 },
		{ "bad\nhost", 0, -1, NULL, 0, 0, 0 },
		{ "unix:", 1, -1, NULL, 0, 0, 0 },
		/* unix: is an LMTP form only. */
		{ "unix:/x", 0, -1, NULL, 0, 0, 0 },
	};
	struct smtp_dest d;
	struct buf why = BUF_INIT, big = BUF_INIT;
	size_t i;
	int rc;

	(void)state;
	for (i = 0; i < NELEM(cases); i++) {
		buf_reset(&why);
		rc = smtp_dest_parse(cases[i].spec, cases[i].lmtp, 25, &d,
		    &why);
		if (rc != cases[i].rc)
			fail_msg("case %zu (%s): rc %d, want %d (%s)", i,
			    cases[i].spec, rc, cases[i].rc, buf_str(&why));
		if (rc < 0)
			continue;
		assert_string_equal(d.host, cases[i].host);
		assert_int_equal(d.port, cases[i].port);
		assert_int_equal(d.mx, cases[i].mx);
		assert_int_equal(d.local, cases[i].local);
	}
	/* Host names of DNS_NAME_MAX bytes pass; one more fails. */
	for (i = DNS_NAME_MAX; i <= DNS_NAME_MAX + 1; i++) {
		buf_reset(&big);
		while (big.len < i)
			buf_putc(&big, 'h');
		rc = smtp_dest_parse(big.p, 0, 25, &d, &why);
		assert_int_equal(rc, i == DNS_NAME_MAX ? 0 : -1);
	}
	/* A socket path that does not fit sockaddr_un. */
	buf_sets(&big, "unix:/");
	while (big.len < 200)
		buf_putc(&big, 'p');
	assert_int_equal(smtp_dest_parse(big.p, 1, 24, &d, &why), -1);

	assert_int_equal(smtp_port_parse("smtp", &rc), 0);
	assert_int_equal(rc, 25);
	assert_int_equal(smtp_port_parse("LMTP", &rc), 0);
	assert_int_equal(rc, 24);
	assert_int_equal(smtp_port_parse("65535", &rc), 0);
	assert_int_equal(smtp_port_parse("-1", &rc), -1);
	assert_int_equal(smtp_port_parse("25x", &rc), -1);
	buf_free(&why);
	buf_free(&big);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_xtext),
		cmocka_unit_test(test_data_line),
		cmocka_unit_test(test_content_checks),
		cmocka_unit_test(test_dest_parse),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
