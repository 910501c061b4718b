/*
 * NAME		test_dict_socketmap - unit tests for the socketmap reply parser
 * DESCRIPTION	dict_socketmap_parse(): OK, NOTFOUND and the error replies;
 *		incomplete input at every length; lengths at the limit and
 *		beyond; leading zeros, missing ":" or ",", NUL bytes, unknown
 *		status words, and what a complete reply consumed.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <cmocka.h>

#include "dict/dict.h"
#include "dict/dict_socketmap.h"
#include "util/buf.h"
#include "util/mem.h"
#include "unit.h"

/* parse - the result for text (len bytes) */
static int
parse(const char *text, size_t len, struct buf *value, struct buf *why,
    size_t *used, int *bad)
{
	buf_reset(value);
	buf_reset(why);
	*used = 0;
	return dict_socketmap_parse(text, len, used, value, why, bad);
}

static void
test_replies(void **state)
{
	struct buf v = BUF_INIT, why = BUF_INIT;
	size_t used;
	int bad;

	(void)state;
	assert_int_equal(parse("9:OK a b  c,", 12, &v, &why, &used, &bad),
	    DICT_FOUND);
	assert_string_equal(buf_str(&v), "a b  c");
	assert_int_equal(used, 12);
	assert_int_equal(bad, 0);
	assert_int_equal(parse("2:OK,", 5, &v, &why, &used, &bad),
	    DICT_FOUND);
	assert_string_equal(buf_str(&v), "");
	assert_int_equal(parse("9:NOTFOUND ,rest", 16, &v, &why, &used,
	    &bad), DICT_NOTFOUND);
	assert_int_equal(used, 12);
	assert_int_equal(parse("8:NOTFOUND,", 11, &v, &why, &used, &bad),
	    DICT_NOTFOUND);
	assert_int_equal(parse("12:TEMP db down,", 16, &v, &why, &used,
	    &bad), DICT_ERROR);
	assert_int_equal(bad, 0);
	assert_string_equal(buf_str(&why), "server said TEMP: db down");
	assert_int_equal(parse("7:TIMEOUT,", 10, &v, &why, &used, &bad),
	    DICT_ERROR);
	assert_string_equal(buf_str(&why), "server said TIMEOUT");
	assert_int_equal(parse("6:PERM x,", 9, &v, &why, &used, &bad),
	    DICT_ERROR);
	assert_int_equal(bad, 0);
	buf_free(&v);
	buf_free(&why);
}

static void
test_incomplete(void **state)
{
	static const char r[] = "9:OK value1,";
	struct buf v = BUF_INIT, why = BUF_INIT;
	size_t used, i;
	int bad;

	(void)state;
	for (i = 0; i < sizeof(r) - 1; i++)
		assert_int_equal(parse(r, i, &v, &why, &used, &bad),
		    SOCKETMAP_MORE);
	assert_int_equal(parse(r, sizeof(r) - 1, &v, &why, &used, &bad),
	    DICT_FOUND);
	buf_free(&v);
	buf_free(&why);
}

static void
test_malformed(void **state)
{
	static const struct {
		const char *text;
		size_t	 len;
		const char *why;
	} c[] = {
		{ "01:x,", 5, "leading zero" },
		{ "00:,", 4, "leading zero" },
		{ ":OK,", 4, "no netstring length" },
		{ "2 :OK,", 6, "no netstring length" },
		{ "x", 1, "no netstring length" },
		{ "2:OK;", 5, "no netstring end" },
		{ "4:OK\0a,", 7, "NUL byte" },
		{ "5:MAYBE,", 8, "malformed reply \"MAYBE\"" },
		{ "0:,", 3, "malformed reply \"\"" },
		{ "3:ok x,", 7, "malformed reply" },
		{ "9:NOTFOUNDx,", 12, "malformed reply" },
		{ "100001:", 7, "longer than 100000" },
		{ "99999999999999999999999:", 24, "longer than" },
	};
	struct buf v = BUF_INIT, why = BUF_INIT;
	size_t used, i;
	int bad;

	(void)state;
	for (i = 0; i < NELEM(c); i++) {
		if (parse(c[i].text, c[i].len, &v, &why, &used, &bad) !=
		    DICT_ERROR || !bad || strstr(buf_str(&why), c[i].why) ==
		    NULL)
			fail_msg("case %zu: got \"%s\"", i, buf_str(&why));
	}
	buf_free(&v);
	buf_free(&why);
}

static void
test_limit(void **state)
{
	struct buf r = BUF_INIT, v = BUF_INIT, why = BUF_INIT;
	size_t used;
	int bad;

	(void)state;
	/* Exactly SOCKETMAP_MAX_REPLY bytes of data: accepted. */
	buf_printf(&r, "%d:OK ", SOCKETMAP_MAX_REPLY);
	while (r.len < 7 + SOCKETMAP_MAX_REPLY)
		buf_putc(&r, 'v');
	buf_putc(&r, ',');
	assert_int_equal(parse(r.p, r.len, &v, &why, &used, &bad),
	    DICT_FOUND);
	assert_int_equal(v.len, SOCKETMAP_MAX_REPLY - 3);
	assert_int_equal(used, r.len);
	buf_reset(&r);
	buf_printf(&r, "%d:OK ", SOCKETMAP_MAX_REPLY + 1);
	assert_int_equal(parse(r.p, r.len, &v, &why, &used, &bad),
	    DICT_ERROR);
	buf_free(&r);
	buf_free(&v);
	buf_free(&why);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_replies),
		cmocka_unit_test(test_incomplete),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_limit),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
