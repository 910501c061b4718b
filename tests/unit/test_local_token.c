/*
 * NAME		test_local_token - unit tests for local(8) list tokenizing
 * DESCRIPTION	Alias values and .forward lines: separators, quotes,
 *		comments, angle brackets, the |command, /file, :include: and
 *		\user forms, unterminated quotes, NUL bytes, the entry count
 *		and length limits at limit-1, limit and limit+1, enormous
 *		input, and file parsing with comments.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "../../local/local.h"
#include "util/buf.h"
#include "util/mem.h"
#include "unit.h"

struct tok_case {
	const char *in;
	int	 sloppy;
	const char *want;	/* "type:text|type:text" */
};

/* toks_show - transcript of a list: "type:text|..." */
static void
toks_show(const struct local_toks *t, struct buf *out)
{
	size_t i;

	buf_reset(out);
	buf_puts(out, "");
	for (i = 0; i < t->n; i++) {
		if (i)
			buf_putc(out, '|');
		buf_printf(out, "%s:%s", local_tok_name(t->v[i].type),
		    t->v[i].text);
	}
}

static void
test_token_table(void **state)
{
	static const struct tok_case cases[] = {
		{ "", 0, "" },
		{ " , ,, ", 0, "" },
		{ "bob", 0, "address:bob" },
		{ "a, b c", 0, "address:a|address:b|address:c" },
		{ "a,b\tc\r\nd", 0,
		    "address:a|address:b|address:c|address:d" },
		{ "\"|cmd arg\", bob", 0, "command:cmd arg|address:bob" },
		{ "|/usr/bin/procmail -a x, bob", 0,
		    "command:/usr/bin/procmail -a x|address:bob" },
		{ "bob |cmd a b", 0, "address:bob|command:cmd a b" },
		{ "|\"/bin/sleep 3; cat > x\", bob", 0,
		    "command:/bin/sleep 3; cat > x|address:bob" },
		{ "|sh -c \"echo (a, b)\" (c)", 0,
		    "command:sh -c echo (a, b) (c)" },
		{ "/var/log/my file, :include:\"/etc/a b\"", 0,
		    "file:/var/log/my file|include:/etc/a b" },
		{ "| cmd", 0, "command:cmd" },
		{ "\"|echo \\\"hi\\\"\"", 0, "command:echo \"hi\"" },
		{ "/var/mail/x, /tmp/md/", 0,
		    "file:/var/mail/x|file:/tmp/md/" },
		{ ":include:/etc/list", 0, "include:/etc/list" },
		{ ":INCLUDE: /etc/list, x", 0, "include:/etc/list|address:x" },
		{ "\\bob, \\Carol@x", 0, "user:bob|user:Carol@x" },
		{ "Bob Smith <bob@x>, carol", 0,
		    "address:bob@x|address:carol" },
		{ "<bob@x>", 0, "address:bob@x" },
		{ "\"john smith\"@example.com", 0,
		    "address:john smith@example.com" },
		{ "\"a\\\"b\"@x", 0, "address:a\"b@x" },
		{ "bob (Bob, Smith), carol", 0, "address:bob|address:carol" },
		{ "bob(nested (c) c)x", 0, "address:bobx" },
		{ "\"a,b\", c", 0, "address:a,b|address:c" },
		{ "\"unterminated", 1, "address:unterminated" },
		{ "bob, \"un, term", 1, "address:bob|address:un, term" },
		{ "(unterminated comment", 1, "" },
		{ "<bob@x", 1, "address:bob@x" },
		{ "|", 1, "" },
		{ "\\", 1, "" },
		{ ":include:", 1, "" },
		{ "\"\"", 0, "" },
	};
	struct local_toks t;
	struct buf why = BUF_INIT, got = BUF_INIT;
	size_t i;

	(void)state;
	for (i = 0; i < NELEM(cases); i++) {
		local_toks_init(&t);
		buf_reset(&why);
		assert_int_equal(local_tokenize(cases[i].in,
		    strlen(cases[i].in), &t, &why), 0);
		toks_show(&t, &got);
		if (strcmp(got.p, cases[i].want) != 0)
			fail_msg("case %zu: \"%s\": got \"%s\" want \"%s\"", i,
			    cases[i].in, got.p, cases[i].want);
		if (t.sloppy != cases[i].sloppy)
			fail_msg("case %zu: \"%s\": sloppy %d", i,
			    cases[i].in, t.sloppy);
		local_toks_free(&t);
	}
	buf_free(&why);
	buf_free(&got);
}

static void
test_token_nul(void **state)
{
	static const char in[] = "bob,\0|rm -rf /";
	struct local_toks t;
	struct buf why = BUF_INIT;

	(void)state;
	local_toks_init(&t);
	assert_int_equal(local_tokenize(in, sizeof(in) - 1, &t, &why), -1);
	assert_string_equal(why.p, "NUL byte in list");
	local_toks_free(&t);
	buf_free(&why);
}

static void
test_token_count_limit(void **state)
{
	struct buf in = BUF_INIT, why = BUF_INIT;
	struct local_toks t;
	size_t n, i;
	static const size_t counts[] = {LOCAL_TOK_MAX - 1, LOCAL_TOK_MAX,
	    LOCAL_TOK_MAX + 1};

	(void)state;
	for (n = 0; n < NELEM(counts); n++) {
		buf_reset(&in);
		for (i = 0; i < counts[n]; i++)
			buf_printf(&in, "%su%zu", i ? ", " : "", i);
		local_toks_init(&t);
		buf_reset(&why);
		if (counts[n] <= LOCAL_TOK_MAX) {
			assert_int_equal(local_tokenize(in.p, in.len, &t,
			    &why), 0);
			assert_int_equal(t.n, counts[n]);
		} else {
			assert_int_equal(local_tokenize(in.p, in.len, &t,
			    &why), -1);
			assert_int_equal(t.n, LOCAL_TOK_MAX);
			assert_non_null(strstr(why.p, "more than"));
		}
		local_toks_free(&t);
	}
	/* A thousand entries, the case the aliases(5) users hit. */
	buf_reset(&in);
	for (i = 0; i < 1000; i++)
		buf_printf(&in, "%s\"|cmd %zu\"", i ? "," : "", i);
	local_toks_init(&t);
	assert_int_equal(local_tokenize(in.p, in.len, &t, &why), 0);
	assert_int_equal(t.n, 1000);
	assert_int_equal(t.v[999].type, LOCAL_TOK_COMMAND);
	assert_string_equal(t.v[999].text, "cmd 999");
	local_toks_free(&t);
	buf_free(&in);
	buf_free(&why);
}

static void
test_token_length_limit(void **state)
{
	static const size_t lens[] = {LOCAL_TOK_LEN - 1, LOCAL_TOK_LEN,
	    LOCAL_TOK_LEN + 1};
	struct buf in = BUF_INIT, why = BUF_INIT;
	struct local_toks t;
	size_t i;

	(void)state;
	for (i = 0; i < NELEM(lens); i++) {
		buf_reset(&in);
		buf_reserve(&in, lens[i]);
		memset(in.p, 'a', lens[i]);
		in.len = lens[i];
		in.p[in.len] = 0;
		local_toks_init(&t);
		buf_reset(&why);
		assert_int_equal(local_tokenize(in.p, in.len, &t, &why),
		    lens[i] <= LOCAL_TOK_LEN ? 0 : -1);
		assert_int_equal(t.n, lens[i] <= LOCAL_TOK_LEN ? 1 : 0);
		local_toks_free(&t);
	}
	/* An enormous quoted string that never ends. */
	buf_reset(&in);
	buf_putc(&in, '"');
	for (i = 0; i < 1024 * 1024; i++)
		buf_putc(&in, "ab, \\"[i % 5]);
	local_toks_init(&t);
	assert_int_equal(local_tokenize(in.p, in.len, &t, &why), -1);
	local_toks_free(&t);
	/* Many small comments and brackets: linear, not quadratic. */
	buf_reset(&in);
	for (i = 0; i < 200000; i++)
		buf_puts(&in, "(x)<");
	local_toks_init(&t);
	(void)local_tokenize(in.p, in.len, &t, &why);
	assert_true(t.sloppy);
	local_toks_free(&t);
	buf_free(&in);
	buf_free(&why);
}

static void
test_token_file(void **state)
{
	static const char in[] =
	    "# a comment\n"
	    "bob, carol\n"
	    "   # indented comment\n"
	    "\n"
	    "\"|/usr/bin/procmail\" # not a comment here\n"
	    "bad\0line\n"
	    "\"unterminated\n"
	    "last";
	struct local_toks t;
	struct buf why = BUF_INIT, got = BUF_INIT;
	size_t bad;

	(void)state;
	local_toks_init(&t);
	assert_int_equal(local_tokenize_file(in, sizeof(in) - 1, &t, &why,
	    &bad), 0);
	assert_int_equal(bad, 1);
	toks_show(&t, &got);
	assert_string_equal(got.p, "address:bob|address:carol|"
	    "command:/usr/bin/procmail|address:#|address:not|address:a|"
	    "address:comment|address:here|address:unterminated|"
	    "address:last");
	assert_true(t.sloppy);
	local_toks_free(&t);
	buf_free(&why);
	buf_free(&got);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_token_table),
		cmocka_unit_test(test_token_nul),
		cmocka_unit_test(test_token_count_limit),
		cmocka_unit_test(test_token_length_limit),
		cmocka_unit_test(test_token_file),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
