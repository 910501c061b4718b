/*
 * NAME		test_dict_rules - unit tests for regexp:, pcre: and cidr:
 * DESCRIPTION	The shared rule-file layer (dict_rules) through the three
 *		backends: substitution ($n, ${n}, $(n), $$, unmatched
 *		groups), flags, if..endif nesting and negation, first match
 *		wins, IPv4 and IPv6 prefixes (/0, /32, /128, host bits),
 *		non-IP keys, and hostile files: unterminated patterns, bad
 *		flags and regular expressions, bad "$" use, unbalanced or
 *		too deep if..endif, over-long lines, NUL bytes, too many
 *		rules, keys at DICT_KEY_MAX, and substitution output beyond
 *		DICT_VALUE_MAX.  Every error names the file and line.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <unistd.h>

#include <cmocka.h>

#include "dict/dict.h"
#include "dict/dict_rules.h"
#include "util/buf.h"
#include "util/log.h"
#include "util/mem.h"
#include "unit.h"

static char tmpdir[] = "/tmp/test_dict_rules.XXXXXX";
static char *path;

/* setup - a private directory for table files */
static int
setup(void **state)
{
	(void)state;
	if (mkdtemp(tmpdir) == NULL)
		return -1;
	path = xasprintf("%s/table", tmpdir);
	return 0;
}

/* teardown - remove the table file and directory */
static int
teardown(void **state)
{
	(void)state;
	unlink(path);
	rmdir(tmpdir);
	free(path);
	return 0;
}

/* put_file - write len bytes as the table file */
static void
put_file(const char *text, size_t len)
{
	assert_int_equal(file_replace(path, text, len, 0644), 0);
}

/* open_text - write text and open type:path; NULL with why */
static struct dict *
open_text(const char *type, const char *text, size_t len, struct buf *why)
{
	struct dict *d;
	char *spec;

	put_file(text, len);
	spec = xasprintf("%s:%s", type, path);
	d = dict_open(spec, DICT_FLAG_FOLD_FIX, why);
	free(spec);
	return d;
}

struct lookup_case {
	const char *type;
	const char *text;
	const char *key;
	int	 result;
	const char *value;
};

static const char re_table[] =
    "# comment\n"
    "\n"
    "/^(.*)@example\\.com$/\tuser=$1 dollar=$$ brace=${1}x paren=$(1)\n"
    "/^multi$/\tfirst\n"
    "  second\n"
    "if /^x/\n"
    "/^x(y)?z$/\tin-if:$1:\n"
    "if !/^xq/\n"
    "/^x.*w$/\tnested-not-xq\n"
    "endif\n"
    "/^x/\tin-if-last\n"
    "endif\n"
    "/^Case$/i\tcase-sensitive\n"
    "!/^[a-z]/\tnot-lower\n"
    "#/^a/\tcommented\n"
    "|^a/b$|\tother-delim\n"
    "/^a\\/c$/\tescaped-delim\n"
    "/^first$/\tone\n"
    "/^first$/\ttwo\n"
    "/^empty(x)?$/\t[$1]\n";

static const char pcre_only[] =
    "/^a.b$/\tdotall\n"
    "/^a.c$/s\tno-dotall\n"
    "/^(a+)/U\tungreedy:$1\n"
    "/b$/E\tendonly\n"
    "/^x$/mX\tmulti-ignored-X\n"
    "/a b/x\textended:$$\n";

static const char cidr_table[] =
    "192.168.1.1\thost\n"
    "192.168.0.0/16\tnet16\n"
    "[10.0.0.0]/8\tbracket\n"
    "2001:db8::1\thost6\n"
    "2001:db8::/32\tnet6\n"
    "[2001:db9::]/32\tbracket6\n"
    "172.16.1.2/12\thostbits\n"
    "if 203.0.113.0/24\n"
    "if !203.0.113.128/25\n"
    "203.0.113.0/24\tlow-half\n"
    "endif\n"
    "203.0.113.200/32\thigh-host\n"
    "endif\n"
    "!198.51.100.0/24\tnot-doc2\n";

static const struct lookup_case lookup_cases[] = {
	{ "regexp", re_table, "joe@example.com", DICT_FOUND,
	    "user=joe dollar=$ brace=joex paren=joe" },
	{ "regexp", re_table, "JOE@EXAMPLE.COM", DICT_FOUND,
	    "user=JOE dollar=$ brace=JOEx paren=JOE" },
	{ "regexp", re_table, "multi", DICT_FOUND, "first  second" },
	{ "regexp", re_table, "xz", DICT_FOUND, "in-if::" },
	{ "regexp", re_table, "xyz", DICT_FOUND, "in-if:y:" },
	{ "regexp", re_table, "xaw", DICT_FOUND, "nested-not-xq" },
	{ "regexp", re_table, "xqw", DICT_FOUND, "in-if-last" },
	{ "regexp", re_table, "Case", DICT_FOUND, "case-sensitive" },
	{ "regexp", re_table, "case", DICT_NOTFOUND, NULL },
	{ "regexp", re_table, "9", DICT_FOUND, "not-lower" },
	{ "regexp", re_table, "a/b", DICT_FOUND, "other-delim" },
	{ "regexp", re_table, "a/c", DICT_FOUND, "escaped-delim" },
	{ "regexp", re_table, "first", DICT_FOUND, "one" },
	{ "regexp", re_table, "empty", DICT_FOUND, "[]" },
	{ "regexp", re_table, "emptyx", DICT_FOUND, "[x]" },
	{ "regexp", re_table, "nothing", DICT_NOTFOUND, NULL },
	{ "regexp", "/^b/m\tml\n", "x\nb", DICT_FOUND, "ml" },
	{ "regexp", "/^b/\tml\n", "x\nb", DICT_NOTFOUND, NULL },
	{ "regexp", "/a+/x\tbasic\n", "a+", DICT_FOUND, "basic" },
	{ "regexp", "/a+/x\tbasic\n", "aa", DICT_NOTFOUND, NULL },
	{ "regexp", "/^x$/\n", "x", DICT_FOUND, "" },
	{ "regexp", "/^x$/ !/^y/ r\n", "x", DICT_FOUND, "!/^y/ r" },
	{ "regexp", "!!/^x$/ r\n", "x", DICT_FOUND, "r" },
	{ "regexp", "IF /^x/\n/./ r\nENDIF\n", "x", DICT_FOUND, "r" },
	{ "regexp", "if/^x/\n/./ r\nendif\n", "y", DICT_NOTFOUND, NULL },
	{ "regexp", "/a/ r\r\n", "a", DICT_FOUND, "r" },
	{ "pcre", re_table, "joe@example.com", DICT_FOUND,
	    "user=joe dollar=$ brace=joex paren=joe" },
	{ "pcre", re_table, "xz", DICT_FOUND, "in-if::" },
	{ "pcre", re_table, "xyz", DICT_FOUND, "in-if:y:" },
	{ "pcre", re_table, "xaw", DICT_FOUND, "nested-not-xq" },
	{ "pcre", re_table, "xqw", DICT_FOUND, "in-if-last" },
	{ "pcre", re_table, "Case", DICT_FOUND, "case-sensitive" },
	{ "pcre", re_table, "case", DICT_NOTFOUND, NULL },
	{ "pcre", re_table, "a/b", DICT_FOUND, "other-delim" },
	{ "pcre", re_table, "empty", DICT_FOUND, "[]" },
	{ "pcre", pcre_only, "A\nB", DICT_FOUND, "dotall" },
	{ "pcre", "/^a.c$/s\tno-dotall\n", "a\nc", DICT_NOTFOUND, NULL },
	{ "pcre", "/^a.c$/s\tno-dotall\n", "abc", DICT_FOUND, "no-dotall" },
	{ "pcre", pcre_only, "aaa", DICT_FOUND, "ungreedy:a" },
	{ "pcre", "/b$/E\tendonly\n", "ab\n", DICT_NOTFOUND, NULL },
	{ "pcre", "/b$/E\tendonly\n", "ab", DICT_FOUND, "endonly" },
	{ "pcre", pcre_only, "q\nx\nq", DICT_FOUND, "multi-ignored-X" },
	{ "pcre", "/^x$/X\tm\n", "q\nx\nq", DICT_NOTFOUND, NULL },
	{ "pcre", "/a b/x\textended:$$\n", "ab", DICT_FOUND, "extended:$" },
	{ "pcre", "/b$/\tdollar\n", "ab\n", DICT_FOUND, "dollar" },
	{ "pcre", "/b/A\tanchored\n", "ab", DICT_NOTFOUND, NULL },
	{ "pcre", "/a/A\tanchored\n", "ab", DICT_FOUND, "anchored" },
	{ "pcre", "/\\d+/\tdigits\n", "a12", DICT_FOUND, "digits" },
	{ "cidr", cidr_table, "192.168.1.1", DICT_FOUND, "host" },
	{ "cidr", cidr_table, "192.168.200.1", DICT_FOUND, "net16" },
	{ "cidr", cidr_table, "10.9.8.7", DICT_FOUND, "bracket" },
	{ "cidr", cidr_table, "2001:db8::1", DICT_FOUND, "host6" },
	{ "cidr", cidr_table, "2001:0db8:0::1", DICT_FOUND, "host6" },
	{ "cidr", cidr_table, "2001:db8:ffff::2", DICT_FOUND, "net6" },
	{ "cidr", cidr_table, "2001:db9:1::", DICT_FOUND, "bracket6" },
	{ "cidr", cidr_table, "172.16.1.2", DICT_FOUND, "not-doc2" },
	{ "cidr", cidr_table, "203.0.113.5", DICT_FOUND, "low-half" },
	{ "cidr", cidr_table, "203.0.113.200", DICT_FOUND, "high-host" },
	{ "cidr", cidr_table, "203.0.113.201", DICT_FOUND, "not-doc2" },
	{ "cidr", cidr_table, "198.51.100.7", DICT_NOTFOUND, NULL },
	{ "cidr", cidr_table, "2001:dba::1", DICT_NOTFOUND, NULL },
	{ "cidr", cidr_table, "::ffff:192.168.1.1", DICT_NOTFOUND, NULL },
	{ "cidr", "if !1.0.0.0/8\n0.0.0.0/0 in\nendif\n", "::1",
	    DICT_NOTFOUND, NULL },
	{ "cidr", "if !1.0.0.0/8\n::/0 in\nendif\n", "::1",
	    DICT_NOTFOUND, NULL },
	{ "cidr", "if !1.0.0.0/8\n0.0.0.0/0 in\nendif\n", "2.0.0.1",
	    DICT_FOUND, "in" },
	{ "cidr", cidr_table, "example.com", DICT_NOTFOUND, NULL },
	{ "cidr", cidr_table, "[192.168.1.1]", DICT_NOTFOUND, NULL },
	{ "cidr", cidr_table, "192.168.1", DICT_NOTFOUND, NULL },
	{ "cidr", cidr_table, "", DICT_NOTFOUND, NULL },
	{ "cidr", cidr_table, "fe80::1%eth0", DICT_NOTFOUND, NULL },
	{ "cidr", "0.0.0.0/0 any4\n::/0 any6\n", "1.2.3.4", DICT_FOUND,
	    "any4" },
	{ "cidr", "0.0.0.0/0 any4\n::/0 any6\n", "ff::1", DICT_FOUND,
	    "any6" },
	{ "cidr", "1.2.3.4/32 h\n", "1.2.3.4", DICT_FOUND, "h" },
	{ "cidr", "1.2.3.4/32 h\n", "1.2.3.5", DICT_NOTFOUND, NULL },
	{ "cidr", "1.2.3.4/31 h\n", "1.2.3.5", DICT_FOUND, "h" },
	{ "cidr", "1.2.3.4/31 h\n", "1.2.3.6", DICT_NOTFOUND, NULL },
	{ "cidr", "1.2.3.4/30 h\n", "1.2.3.7", DICT_FOUND, "h" },
	{ "cidr", "::1/128 h\n", "::1", DICT_FOUND, "h" },
	{ "cidr", "::1/128 h\n", "::2", DICT_NOTFOUND, NULL },
	{ "cidr", "2001:db8::/33 h\n", "2001:db8:7fff::", DICT_FOUND, "h" },
	{ "cidr", "2001:db8::/33 h\n", "2001:db8:8000::", DICT_NOTFOUND,
	    NULL },
	{ "cidr", "1.2.3.0/24 $1 $$\n", "1.2.3.9", DICT_FOUND, "$1 $$" },
	{ "cidr", "1.2.3.0/24 a\n\tb\n", "1.2.3.9", DICT_FOUND, "a\tb" },
};

/* test_lookups - normal use of each backend */
static void
test_lookups(void **state)
{
	struct buf value = BUF_INIT, why = BUF_INIT;
	struct dict *d;
	size_t i;
	int r;

	(void)state;
	for (i = 0; i < NELEM(lookup_cases); i++) {
		const struct lookup_case *c = &lookup_cases[i];

		d = open_text(c->type, c->text, strlen(c->text), &why);
		if (d == NULL)
			fail_msg("case %zu: open: %s", i, buf_str(&why));
		assert_true(d->flags & DICT_FLAG_PATTERN);
		buf_reset(&value);
		r = dict_lookup(d, c->key, &value, &why);
		if (r != c->result)
			fail_msg("case %zu (%s \"%s\"): got %d, want %d (%s)",
			    i, c->type, c->key, r, c->result, buf_str(&why));
		if (c->value != NULL)
			assert_string_equal(buf_str(&value), c->value);
		dict_close(d);
	}
	buf_free(&value);
	buf_free(&why);
}

struct error_case {
	const char *type;		/* "re" means regexp and pcre */
	const char *text;
	const char *error;		/* after "path, " */
};

static const struct error_case error_cases[] = {
	{ "re", "/abc r\n", "line 1: no closing pattern delimiter \"/\"" },
	{ "re", "/abc\\/ r\n", "line 1: no closing pattern delimiter" },
	{ "re", "/a/ r\n/abc\\", "line 2: no closing pattern delimiter" },
	{ "re", "abc r\n", "line 1: pattern must start with a delimiter" },
	{ "re", "\\a\\ r\n", "line 1: pattern must start with a delimiter" },
	{ "re", "!\n", "line 1: missing pattern" },
	{ "re", "/a/q r\n", "line 1: unknown" },
	{ "re", "/a/i! r\n", "line 1: unknown" },
	{ "re", "/a(/ r\n", "line 1: bad regular expression" },
	{ "re", "/a/ r$\n", "line 1: \"$\" at the end of the result" },
	{ "re", "/(a)/ r$ x\n", "line 1: \"$\" followed by \" \"" },
	{ "re", "/(a)/ r${1\n", "line 1: unterminated \"${\"" },
	{ "re", "/(a)/ r$(1\n", "line 1: unterminated \"$(\"" },
	{ "re", "/(a)/ ${}\n", "line 1: bad group reference \"$\"" },
	{ "re", "/(a)/ $0\n", "line 1: bad group reference \"$0\"" },
	{ "re", "/(a)/ $1x\n", "line 1: bad group reference \"$1x\"" },
	{ "re", "/(a)/ ${x}\n", "line 1: bad group reference \"$x\"" },
	{ "re", "/(a)/ $100\n", "line 1: bad group reference \"$100\"" },
	{ "re", "/(a)/ $10\n", "line 1: $10 in the result, but the pattern "
	    "has 1 group" },
	{ "re", "/a/ $1\n", "line 1: $1 in the result, but the pattern has "
	    "0 groups" },
	{ "re", "!/(a)/ $1\n", "line 1: $1 in the result of a negated" },
	{ "re", "endif\n", "line 1: \"endif\" without a matching \"if\"" },
	{ "re", "if /a/\n/b/ r\n", "line 1: \"if\" without a matching" },
	{ "re", "if /a/\nif /b/\nendif\n", "line 1: \"if\" without a" },
	{ "re", "if /a/\nendif\nif /b/\n", "line 3: \"if\" without a" },
	{ "re", "if /a/\n /b/ r\nendif\n", "line 1: extra text after the "
	    "\"if\" pattern" },
	{ "re", "if /a/\nendif x\n", "line 2: extra text after \"endif\"" },
	{ "re", "if\n", "line 1: missing pattern" },
	{ "re", "  /a/ r\n", "line 1: continuation line without" },
	{ "re", "/a/ r\n\0/b/ s\n", "line 2: NUL byte in input" },
	{ "cidr", "1.2.3.4\n", "line 1: no lookup result" },
	{ "cidr", "1.2.3.4/33 r\n", "line 1: bad prefix length" },
	{ "cidr", "::/129 r\n", "line 1: bad prefix length" },
	{ "cidr", "1.2.3.0/ r\n", "line 1: bad prefix length" },
	{ "cidr", "1.2.3.0/-1 r\n", "line 1: bad prefix length" },
	{ "cidr", "1.2.3.0/0024 r\n", "line 1: bad prefix length" },
	{ "cidr", "1.2.3 r\n", "line 1: bad address pattern \"1.2.3\"" },
	{ "cidr", "example.com r\n", "line 1: bad address pattern" },
	{ "cidr", "[1.2.3.4 r\n", "line 1: bad address pattern" },
	{ "cidr", "[] r\n", "line 1: bad address pattern" },
	{ "cidr", "IPv6:::1 r\n", "line 1: bad address pattern" },
	{ "cidr", "/8 r\n", "line 1: bad address pattern" },
	{ "cidr", "if 10.1.0.0/8\nendif\n", "line 1: non-null host address "
	    "bits in \"10.1.0.0/8\", perhaps you should use \"10.0.0.0/8\" "
	    "instead (an \"if\" is never skipped)" },
	{ "cidr", "endif\n", "line 1: \"endif\" without a matching \"if\"" },
	{ "cidr", "if 10.0.0.0/8\n", "line 1: \"if\" without a matching" },
};

/* expect_error - opening text as type fails with "path, error..." */
static void
expect_error(const char *type, const char *text, size_t len,
    const char *error)
{
	struct buf why = BUF_INIT;
	struct dict *d;
	char *want;

	d = open_text(type, text, len, &why);
	if (d != NULL)
		fail_msg("%s: \"%s\" opened; want error \"%s\"", type, text,
		    error);
	want = xasprintf("%s, %s", path, error);
	if (strncmp(buf_str(&why), want, strlen(want)) != 0)
		fail_msg("%s: got \"%s\", want \"%s...\"", type,
		    buf_str(&why), want);
	free(want);
	buf_free(&why);
}

/* test_errors - each bad file fails to open with file and line */
static void
test_errors(void **state)
{
	size_t i, len;

	(void)state;
	for (i = 0; i < NELEM(error_cases); i++) {
		const struct error_case *c = &error_cases[i];

		/* The NUL case needs its real length. */
		len = strlen(c->text);
		if (strstr(c->error, "NUL") != NULL)
			len += 1 + strlen(c->text + len + 1);
		if (strcmp(c->type, "re") == 0) {
			expect_error("regexp", c->text, len, c->error);
			expect_error("pcre", c->text, len, c->error);
		} else {
			expect_error(c->type, c->text, len, c->error);
		}
	}
}

/* test_nesting - depth at the limit opens, one more fails */
static void
test_nesting(void **state)
{
	struct buf text = BUF_INIT, value = BUF_INIT, why = BUF_INIT;
	struct dict *d;
	char err[80];
	int i;

	(void)state;
	for (i = 0; i < DICT_RULES_DEPTH; i++)
		buf_puts(&text, "if /a/\n");
	buf_puts(&text, "/a/ deep\n");
	for (i = 0; i < DICT_RULES_DEPTH; i++)
		buf_puts(&text, "endif\n");
	d = open_text("regexp", text.p, text.len, &why);
	assert_non_null(d);
	assert_int_equal(dict_lookup(d, "a", &value, &why), DICT_FOUND);
	assert_string_equal(buf_str(&value), "deep");
	assert_int_equal(dict_lookup(d, "b", &value, &why), DICT_NOTFOUND);
	dict_close(d);

	buf_reset(&text);
	for (i = 0; i <= DICT_RULES_DEPTH; i++)
		buf_puts(&text, "if 1.0.0.0/8\n");
	snprintf(err, sizeof(err), "line %d: \"if\" nested too deeply",
	    DICT_RULES_DEPTH + 1);
	expect_error("cidr", text.p, text.len, err);
	buf_free(&text);
	buf_free(&value);
	buf_free(&why);
}

/* test_long_lines - line length at the limit, and beyond */
static void
test_long_lines(void **state)
{
	struct buf text = BUF_INIT, value = BUF_INIT, why = BUF_INIT;
	struct dict *d;

	(void)state;
	/* A result of exactly DICT_VALUE_MAX bytes is fine. */
	buf_puts(&text, "/^a$/ ");
	buf_reserve(&text, DICT_VALUE_MAX + 16);
	memset(text.p + text.len, 'v', DICT_VALUE_MAX);
	text.len += DICT_VALUE_MAX;
	buf_puts(&text, "\n");
	d = open_text("regexp", text.p, text.len, &why);
	assert_non_null(d);
	assert_int_equal(dict_lookup(d, "a", &value, &why), DICT_FOUND);
	assert_int_equal(value.len, DICT_VALUE_MAX);
	dict_close(d);

	/* One more byte is refused. */
	text.len--;
	buf_puts(&text, "v\n");
	expect_error("pcre", text.p, text.len, "line 1: result is too long");

	/* A logical line beyond DICT_RULES_LINE_MAX, in pieces. */
	buf_reset(&text);
	buf_puts(&text, "/a/ x\n");
	while (text.len < DICT_RULES_LINE_MAX + 100000)
		buf_puts(&text, " continued continued continued continued\n");
	expect_error("regexp", text.p, text.len, "line 1: entry is too long");

	/* Substitution output is bounded too. */
	buf_reset(&text);
	buf_puts(&text, "/^(.*)$/ ");
	while (text.len < 2000 * 3)
		buf_puts(&text, "$1");
	buf_puts(&text, "\n");
	d = open_text("pcre", text.p, text.len, &why);
	assert_non_null(d);
	buf_reserve(&value, DICT_KEY_MAX + 1);
	memset(value.p, 'k', DICT_KEY_MAX);
	value.p[DICT_KEY_MAX] = 0;
	{
		char *key = xstrdup(value.p);

		assert_int_equal(dict_lookup(d, key, &value, &why),
		    DICT_ERROR);
		assert_non_null(strstr(buf_str(&why), "result is too long"));
		free(key);
	}
	dict_close(d);
	buf_free(&text);
	buf_free(&value);
	buf_free(&why);
}

/* test_keys - keys at DICT_KEY_MAX, DICT_KEY_MAX + 1 */
static void
test_keys(void **state)
{
	static const char *const types[] = { "regexp", "pcre" };
	struct buf value = BUF_INIT, why = BUF_INIT;
	char *key = xmalloc(DICT_KEY_MAX + 2);
	struct dict *d;
	size_t i;

	(void)state;
	memset(key, 'a', DICT_KEY_MAX + 1);
	for (i = 0; i < NELEM(types); i++) {
		d = open_text(types[i], "/^(a*)$/ ${1}\n", 14, &why);
		assert_non_null(d);
		key[DICT_KEY_MAX - 1] = 0;
		assert_int_equal(dict_lookup(d, key, &value, &why),
		    DICT_FOUND);
		assert_int_equal(value.len, DICT_KEY_MAX - 1);
		key[DICT_KEY_MAX - 1] = 'a';
		key[DICT_KEY_MAX] = 0;
		assert_int_equal(dict_lookup(d, key, &value, &why),
		    DICT_FOUND);
		assert_int_equal(value.len, DICT_KEY_MAX);
		key[DICT_KEY_MAX] = 'a';
		key[DICT_KEY_MAX + 1] = 0;
		assert_int_equal(dict_lookup(d, key, &value, &why),
		    DICT_NOTFOUND);
		dict_close(d);
	}
	d = open_text("cidr", "0.0.0.0/0 any\n", 14, &why);
	assert_non_null(d);
	key[DICT_KEY_MAX] = 0;
	assert_int_equal(dict_lookup(d, key, &value, &why), DICT_NOTFOUND);
	dict_close(d);
	free(key);
	buf_free(&value);
	buf_free(&why);
}

/* test_many_rules - DICT_RULES_MAX rules open; one more fails */
static void
test_many_rules(void **state)
{
	struct buf text = BUF_INIT, value = BUF_INIT, why = BUF_INIT;
	struct dict *d;
	char err[80];
	int i;

	(void)state;
	for (i = 0; i < DICT_RULES_MAX; i++)
		buf_printf(&text, "10.%d.%d.0/24 r%d\n", (i >> 8) & 0xff,
		    i & 0xff, i);
	d = open_text("cidr", text.p, text.len, &why);
	assert_non_null(d);
	assert_int_equal(dict_lookup(d, "10.1.2.3", &value, &why),
	    DICT_FOUND);
	assert_string_equal(buf_str(&value), "r258");
	dict_close(d);
	buf_puts(&text, "1.2.3.4 last\n");
	snprintf(err, sizeof(err), "line %d: too many rules",
	    DICT_RULES_MAX + 1);
	expect_error("cidr", text.p, text.len, err);

	/* A few thousand regular expressions, last one matching. */
	buf_reset(&text);
	for (i = 0; i < 3000; i++)
		buf_printf(&text, "/^k%d$/ v%d\n", i, i);
	d = open_text("pcre", text.p, text.len, &why);
	assert_non_null(d);
	assert_int_equal(dict_lookup(d, "k2999", &value, &why), DICT_FOUND);
	assert_string_equal(buf_str(&value), "v2999");
	dict_close(d);
	buf_free(&text);
	buf_free(&value);
	buf_free(&why);
}

/* test_surrogate - a broken file: maps lookups are temporary errors */
static void
test_surrogate(void **state)
{
	struct buf value = BUF_INIT, why = BUF_INIT;
	struct maps *m;
	char *list;

	(void)state;
	put_file("/a(/ r\n", 7);
	list = xasprintf("pcre:%s, static:ok", path);
	m = maps_open("test", list, 0);
	assert_int_equal(maps_find(m, "a", &value, &why), DICT_ERROR);
	assert_non_null(strstr(buf_str(&why), "line 1: bad regular"));
	maps_free(m);
	free(list);
	list = xasprintf("regexp:%s/missing", tmpdir);
	m = maps_open("test", list, 0);
	assert_int_equal(maps_find(m, "a", &value, &why), DICT_ERROR);
	maps_free(m);
	free(list);
	buf_free(&value);
	buf_free(&why);
}

/* test_changed - the table notices a rewritten file */
static void
test_changed(void **state)
{
	struct buf why = BUF_INIT;
	struct dict *d;

	(void)state;
	d = open_text("cidr", "1.2.3.4 a\n", 10, &why);
	assert_non_null(d);
	assert_int_equal(dict_changed(d), 0);
	put_file("1.2.3.4 bb\n", 11);
	assert_int_equal(dict_changed(d), 1);
	dict_close(d);
	buf_free(&why);
}

/* test_expand - the shared substitution function on its own */
static void
test_expand(void **state)
{
	static const char key[] = "hello world";
	struct dict_span spans[3] = {
		{ 0, 11, 1 }, { 0, 5, 1 }, { 0, 0, 0 }
	};
	struct buf out = BUF_INIT, why = BUF_INIT;
	size_t max = 0;

	(void)state;
	assert_int_equal(dict_rules_expand("<$1|$2|$$|${1}>", 15, key, spans,
	    3, NULL, &out, &why), 0);
	assert_string_equal(buf_str(&out), "<hello||$|hello>");
	buf_reset(&why);
	assert_int_equal(dict_rules_expand("a${2}b$$c$(1)", 13, NULL, NULL, 0,
	    &max, &out, &why), 0);
	assert_int_equal(max, 2);
	assert_string_equal(buf_str(&out), "ab$c");
	/* A group beyond nspans is empty, never read. */
	assert_int_equal(dict_rules_expand("[$9]", 4, key, spans, 3, NULL,
	    &out, &why), 0);
	assert_string_equal(buf_str(&out), "[]");
	assert_int_equal(dict_rules_expand("$", 1, NULL, NULL, 0, &max, &out,
	    &why), -1);
	buf_free(&out);
	buf_free(&why);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lookups),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_nesting),
		cmocka_unit_test(test_long_lines),
		cmocka_unit_test(test_keys),
		cmocka_unit_test(test_many_rules),
		cmocka_unit_test(test_surrogate),
		cmocka_unit_test(test_changed),
		cmocka_unit_test(test_expand),
	};

	log_init("test_dict_rules", LOG_TO_STDERR);
	return cmocka_run_group_tests(tests, setup, teardown);
}
