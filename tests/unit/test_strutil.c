/*
 * NAME		test_strutil - unit tests for util/strutil
 * DESCRIPTION	Strict number, time and boolean parsing at the edges of
 *		long, in-place tokenizing with and without braces, and the
 *		small string helpers.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <limits.h>

#include "util/buf.h"
#include "util/strutil.h"
#include "unit.h"

static void
test_parse_long(void **state)
{
	static const struct {
		const char *in;
		int ret;
		long val;
	} t[] = {
		{"0", 0, 0},
		{"42", 0, 42},
		{"-42", 0, -42},
		{"+7", 0, 7},
		{"007", 0, 7},
		{"9223372036854775806", 0, LONG_MAX - 1},
		{"9223372036854775807", 0, LONG_MAX},
		{"9223372036854775808", -1, 0},
		{"-9223372036854775807", 0, LONG_MIN + 1},
		{"-9223372036854775808", 0, LONG_MIN},
		{"-9223372036854775809", -1, 0},
		{"99999999999999999999999", -1, 0},
		{"", -1, 0},
		{" 1", -1, 0},
		{"\t1", -1, 0},
		{"1 ", -1, 0},
		{"1\n", -1, 0},
		{"1a", -1, 0},
		{"a1", -1, 0},
		{"0x10", -1, 0},
		{"1.5", -1, 0},
		{"1e3", -1, 0},
		{"-", -1, 0},
		{"+", -1, 0},
		{"--1", -1, 0},
		{"+-1", -1, 0},
	};
	size_t i;
	long v;

	(void)state;
	for (i = 0; i < NELEM(t); i++) {
		v = 12345;
		assert_int_equal(parse_long(t[i].in, &v), t[i].ret);
		if (t[i].ret == 0)
			assert_true(v == t[i].val);
		else
			assert_true(v == 12345);	/* untouched */
	}
	assert_int_equal(parse_long(NULL, &v), -1);
}

static void
test_parse_time(void **state)
{
	static const struct {
		const char *in;
		int unit;
		int ret;
		long val;
	} t[] = {
		{"0", 's', 0, 0},
		{"10", 's', 0, 10},
		{"10", 'm', 0, 600},
		{"10", 'h', 0, 36000},
		{"10", 'd', 0, 864000},
		{"10", 'w', 0, 6048000},
		{"10s", 'h', 0, 10},
		{"2m", 's', 0, 120},
		{"3h", 's', 0, 10800},
		{"1d", 's', 0, 86400},
		{"1w", 's', 0, 604800},
		{"0w", 's', 0, 0},
		{"3600s", 'd', 0, 3600},
		{"10", 0, -1, 0},		/* no default unit */
		{"10", 'x', -1, 0},
		{"10x", 's', -1, 0},
		{"10S", 's', -1, 0},		/* units are lower case */
		{"10ss", 's', -1, 0},
		{"10 s", 's', -1, 0},
		{"10s ", 's', -1, 0},
		{"1h30m", 's', -1, 0},
		{"", 's', -1, 0},
		{"s", 's', -1, 0},
		{" 1", 's', -1, 0},
		{"-1", 's', -1, 0},
		{"+1", 's', -1, 0},
		{"1.5h", 's', -1, 0},
		/* Overflow at the edge of long, per unit. */
		{"9223372036854775807", 's', 0, LONG_MAX},
		{"9223372036854775808", 's', -1, 0},
		{"153722867280912929m", 's', 0, 153722867280912929L * 60},
		{"153722867280912930m", 's', 0, 153722867280912930L * 60},
		{"153722867280912931m", 's', -1, 0},
		{"15250284452471w", 's', 0, 15250284452471L * 604800},
		{"15250284452472w", 's', -1, 0},
		{"99999999999999999999", 's', -1, 0},
	};
	size_t i;
	long v;

	(void)state;
	for (i = 0; i < NELEM(t); i++) {
		v = -7;
		if (parse_time(t[i].in, t[i].unit, &v) != t[i].ret)
			fail_msg("parse_time(\"%s\", '%c'): want %d", t[i].in,
			    t[i].unit ? t[i].unit : '0', t[i].ret);
		if (t[i].ret == 0 && v != t[i].val)
			fail_msg("parse_time(\"%s\"): got %ld want %ld",
			    t[i].in, v, t[i].val);
	}
	assert_int_equal(parse_time(NULL, 's', &v), -1);
}

static void
test_parse_bool(void **state)
{
	static const struct {
		const char *in;
		int ret;
		int val;
	} t[] = {
		{"yes", 0, 1}, {"YES", 0, 1}, {"Yes", 0, 1},
		{"true", 0, 1}, {"TRUE", 0, 1}, {"1", 0, 1},
		{"no", 0, 0}, {"NO", 0, 0}, {"false", 0, 0}, {"False", 0, 0},
		{"0", 0, 0},
		{"", -1, 0}, {"y", -1, 0}, {"n", -1, 0}, {"2", -1, 0},
		{"yes ", -1, 0}, {" no", -1, 0}, {"yesno", -1, 0},
		{"on", -1, 0}, {"off", -1, 0}, {"01", -1, 0},
	};
	size_t i;
	int v;

	(void)state;
	for (i = 0; i < NELEM(t); i++) {
		v = 99;
		if (parse_bool(t[i].in, &v) != t[i].ret)
			fail_msg("parse_bool(\"%s\"): want %d", t[i].in,
			    t[i].ret);
		assert_int_equal(v, t[i].ret == 0 ? t[i].val : 99);
	}
}

/* tokens - all tokens of in, joined with '|', into out */
static void
tokens(const char *in, const char *sep, int braced, struct buf *out,
    char *err, size_t errlen)
{
	char *copy = strdup(in), *cp = copy, *tok;
	int n = 0;

	buf_reset(out);
	if (err)
		err[0] = 0;
	while ((tok = braced ? str_token_braced(&cp, sep, err, errlen) :
	    str_token(&cp, sep)) != NULL) {
		if (n++)
			buf_putc(out, '|');
		buf_puts(out, tok);
	}
	/* At the end, further calls keep returning NULL. */
	assert_null(braced ? str_token_braced(&cp, sep, NULL, 0) :
	    str_token(&cp, sep));
	free(copy);
}

static void
test_str_token(void **state)
{
	static const struct {
		const char *in;
		const char *sep;
		const char *out;
	} t[] = {
		{"", ", ", ""},
		{"   ", ", ", ""},
		{",,,", ", ", ""},
		{"a", ", ", "a"},
		{"a,b", ", ", "a|b"},
		{"a, b,,c", ", ", "a|b|c"},
		{" ,a, ", ", ", "a"},
		{"a\tb\r\nc", SEPARATORS, "a|b|c"},
		{"{a b}", " ", "{a|b}"},	/* no brace magic */
		{"abc", "", "abc"},
	};
	struct buf out = BUF_INIT;
	char *cp = NULL;
	size_t i;

	(void)state;
	for (i = 0; i < NELEM(t); i++) {
		tokens(t[i].in, t[i].sep, 0, &out, NULL, 0);
		if (strcmp(buf_str(&out), t[i].out) != 0)
			fail_msg("str_token(\"%s\"): got \"%s\" want \"%s\"",
			    t[i].in, out.p, t[i].out);
	}
	assert_null(str_token(&cp, " "));
	buf_free(&out);
}

static void
test_str_token_braced(void **state)
{
	static const struct {
		const char *in;
		const char *out;
		const char *err;
	} t[] = {
		{"", "", ""},
		{"a b", "a|b", ""},
		{"{a b} c", "a b|c", ""},
		{"{ a b }", "a b", ""},
		{"  {a}  {b}  ", "a|b", ""},
		{"{}", "", ""},
		{"{} x", "|x", ""},
		{"{a {b} c} d", "a {b} c|d", ""},
		{"{{{x}}}", "{{x}}", ""},
		{"-o { name = value with spaces }",
		    "-o|name = value with spaces", ""},
		{"a{b} c", "a{b}|c", ""},	/* brace not at token start */
		{"}", "}", ""},
		{"a}", "a}", ""},
		{"{a", "", "missing '}'"},
		{"x {y", "x", "missing '}'"},
		{"{a {b}", "", "missing '}'"},
		{"{a}b", "", "syntax error after '}'"},
		{"{a},b", "", "syntax error after '}'"},
		{"x {a}{b}", "x", "syntax error after '}'"},
	};
	struct buf out = BUF_INIT;
	char err[64];
	size_t i;

	(void)state;
	for (i = 0; i < NELEM(t); i++) {
		tokens(t[i].in, " \t", 1, &out, err, sizeof(err));
		if (strcmp(buf_str(&out), t[i].out) != 0)
			fail_msg("str_token_braced(\"%s\"): got \"%s\" want "
			    "\"%s\"", t[i].in, out.p, t[i].out);
		if (strncmp(err, t[i].err, strlen(t[i].err)) != 0 ||
		    (*t[i].err == 0) != (*err == 0))
			fail_msg("str_token_braced(\"%s\"): error \"%s\" want "
			    "\"%s\"", t[i].in, err, t[i].err);
	}
	/* White space after '}' ends the token even if not a separator. */
	{
		char text[] = "{ a b }  ", *cp = text;

		err[0] = 0;
		assert_string_equal(str_token_braced(&cp, "", err,
		    sizeof(err)), "a b");
		assert_string_equal(cp, "  ");
		assert_int_equal(err[0], 0);
	}
	/* A one-byte error buffer still gets a terminated message. */
	tokens("{x", " ", 1, &out, err, 1);
	assert_int_equal(err[0], 0);
	buf_free(&out);
}

static void
test_str_trim_lower(void **state)
{
	static const struct {
		const char *in;
		const char *trim;
	} t[] = {
		{"", ""},
		{"   ", ""},
		{"a", "a"},
		{"  a b  ", "a b"},
		{"\t\r\na\r\n", "a"},
	};
	char buf[64];
	size_t i;

	(void)state;
	for (i = 0; i < NELEM(t); i++) {
		strcpy(buf, t[i].in);
		assert_string_equal(str_trim(buf), t[i].trim);
	}
	strcpy(buf, "MiXeD-Case.ORG\xc3\x84");
	assert_string_equal(str_lower(buf), "mixed-case.org\xc3\x84");
	strcpy(buf, "");
	assert_string_equal(str_lower(buf), "");
}

static void
test_str_prefix_suffix(void **state)
{
	(void)state;
	assert_true(str_prefix("smtpd_banner", "smtpd_"));
	assert_true(str_prefix("abc", ""));
	assert_true(str_prefix("abc", "abc"));
	assert_false(str_prefix("ab", "abc"));
	assert_false(str_prefix("SMTPD", "smtpd"));
	assert_true(str_caseprefix("SMTPD_x", "smtpd"));
	assert_false(str_caseprefix("smt", "smtpd"));
	assert_true(str_suffix("a.example.com", ".example.com"));
	assert_true(str_suffix("abc", ""));
	assert_true(str_suffix("abc", "abc"));
	assert_false(str_suffix("bc", "abc"));
	assert_false(str_suffix("abc", "ab"));
}

static void
test_strlcpy_trunc(void **state)
{
	char dst[8];

	(void)state;
	memset(dst, 'x', sizeof(dst));
	assert_int_equal(strlcpy_trunc(dst, "abc", 0), 3);
	assert_int_equal(dst[0], 'x');		/* size 0 writes nothing */
	assert_int_equal(strlcpy_trunc(dst, "abc", 1), 3);
	assert_string_equal(dst, "");
	assert_int_equal(strlcpy_trunc(dst, "abcdefg", 8), 7);	/* fits */
	assert_string_equal(dst, "abcdefg");
	assert_int_equal(strlcpy_trunc(dst, "abcdefgh", 8), 8);	/* limit */
	assert_string_equal(dst, "abcdefg");
	assert_int_equal(strlcpy_trunc(dst, "abcdefghi", 8), 9);
	assert_string_equal(dst, "abcdefg");
	assert_int_equal(strlcpy_trunc(dst, "", 8), 0);
	assert_string_equal(dst, "");
}

static void
test_str_allprint_sane(void **state)
{
	char out[8];

	(void)state;
	assert_true(str_allprint("", 0));
	assert_true(str_allprint("Hello, world ~", 14));
	assert_false(str_allprint("a\tb", 3));
	assert_false(str_allprint("a\x7f", 2));
	assert_false(str_allprint("a\x80", 2));
	assert_false(str_allprint("a\0b", 3));
	assert_true(str_allprint("ab\n", 2));	/* length is the truth */

	assert_string_equal(str_sane("a\r\nb\x7f", out, sizeof(out)),
	    "a??b?");
	assert_string_equal(str_sane("abcdefghij", out, sizeof(out)),
	    "abcdefg");
	assert_string_equal(str_sane("abc", out, 1), "");
	assert_string_equal(str_sane("abc", out, 0), "");
	assert_string_equal(str_sane("\xc3\xa4", out, sizeof(out)),
	    "\xc3\xa4");		/* 8-bit text passes */
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_long),
		cmocka_unit_test(test_parse_time),
		cmocka_unit_test(test_parse_bool),
		cmocka_unit_test(test_str_token),
		cmocka_unit_test(test_str_token_braced),
		cmocka_unit_test(test_str_trim_lower),
		cmocka_unit_test(test_str_prefix_suffix),
		cmocka_unit_test(test_strlcpy_trunc),
		cmocka_unit_test(test_str_allprint_sane),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
