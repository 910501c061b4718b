/*
 * NAME		test_argv - unit tests for util/argv
 * DESCRIPTION	Growth, NULL termination, splitting, search, de-duplication,
 *		truncation, and reuse of an array after argv_clear() or from
 *		zeroed storage.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "util/argv.h"
#include "util/buf.h"
#include "util/strutil.h"
#include "unit.h"

/* joined - elements joined with '|' (checks the NULL terminator too) */
static const char *
joined(const struct argv *a, struct buf *out)
{
	size_t i;

	buf_reset(out);
	for (i = 0; i < a->n; i++) {
		assert_non_null(a->v[i]);
		if (i)
			buf_putc(out, '|');
		buf_puts(out, a->v[i]);
	}
	assert_null(a->v[a->n]);
	return buf_str(out);
}

static void
test_argv_add(void **state)
{
	struct argv *a = argv_new();
	struct buf out = BUF_INIT;
	char name[32];
	size_t i;

	(void)state;
	assert_int_equal(a->n, 0);
	assert_string_equal(joined(a, &out), "");
	argv_add(a, "one");
	argv_addn(a, "twofold", 3);
	argv_addn(a, "x\0y", 3);		/* stops at the NUL */
	argv_addn(a, "", 0);
	argv_addf(a, "%s-%d", "f", 5);
	assert_string_equal(joined(a, &out), "one|two|x||f-5");
	/* Grow well past the initial capacity. */
	for (i = 0; i < 1000; i++) {
		snprintf(name, sizeof(name), "e%zu", i);
		argv_add(a, name);
	}
	assert_int_equal(a->n, 1005);
	assert_string_equal(a->v[1004], "e999");
	assert_null(a->v[1005]);
	argv_free(a);
	argv_free(NULL);
	buf_free(&out);
}

static void
test_argv_truncate(void **state)
{
	struct argv *a = argv_split("a b c d", " ");
	struct buf out = BUF_INIT;

	(void)state;
	argv_truncate(a, 10);		/* more than there are: no-op */
	assert_string_equal(joined(a, &out), "a|b|c|d");
	argv_truncate(a, 4);
	assert_string_equal(joined(a, &out), "a|b|c|d");
	argv_truncate(a, 3);
	assert_string_equal(joined(a, &out), "a|b|c");
	argv_truncate(a, 0);
	assert_string_equal(joined(a, &out), "");
	argv_add(a, "z");
	assert_string_equal(joined(a, &out), "z");
	argv_free(a);
	buf_free(&out);
}

static void
test_argv_split(void **state)
{
	static const struct {
		const char *in;
		const char *sep;
		const char *out;
		size_t n;
	} t[] = {
		{"", ", ", "", 0},
		{" , ,", ", ", "", 0},
		{"a", ", ", "a", 1},
		{"a,b c", ", ", "a|b|c", 3},
		{"  hash:/etc/x,  regexp:/etc/y  ", SEPARATORS,
		    "hash:/etc/x|regexp:/etc/y", 2},
		{"a\tb\nc\rd", SEPARATORS, "a|b|c|d", 4},
		{"abc", "", "abc", 1},
	};
	struct buf out = BUF_INIT;
	struct argv *a;
	size_t i;

	(void)state;
	for (i = 0; i < NELEM(t); i++) {
		a = argv_split(t[i].in, t[i].sep);
		assert_string_equal(joined(a, &out), t[i].out);
		assert_int_equal(a->n, t[i].n);
		argv_free(a);
	}
	buf_free(&out);
}

static void
test_argv_find(void **state)
{
	struct argv *a = argv_split("x y z x", " ");

	(void)state;
	assert_int_equal(argv_find(a, "x"), 0);
	assert_int_equal(argv_find(a, "y"), 1);
	assert_int_equal(argv_find(a, "z"), 2);
	assert_int_equal(argv_find(a, "X"), -1);
	assert_int_equal(argv_find(a, ""), -1);
	assert_int_equal(argv_find(a, "x "), -1);
	argv_free(a);
}

static void
test_argv_uniq(void **state)
{
	static const struct {
		const char *in;
		const char *out;
	} t[] = {
		{"", ""},
		{"a", "a"},
		{"a a", "a"},
		{"a a a a", "a"},
		{"a b a c b a", "a|b|c"},
		{"c b a", "c|b|a"},
		{"a b b b c c", "a|b|c"},
		{"A a", "A|a"},		/* case matters */
	};
	struct buf out = BUF_INIT;
	struct argv *a;
	size_t i;

	(void)state;
	for (i = 0; i < NELEM(t); i++) {
		a = argv_split(t[i].in, " ");
		argv_uniq(a);
		assert_string_equal(joined(a, &out), t[i].out);
		argv_free(a);
	}
	buf_free(&out);
}

static void
test_argv_reuse(void **state)
{
	struct argv a;
	struct argv z;
	struct buf out = BUF_INIT;
	int i;

	(void)state;
	/* After argv_clear() the array is empty and can be used again. */
	argv_init(&a);
	argv_add(&a, "x");
	argv_clear(&a);
	assert_null(a.v);
	assert_int_equal(a.n, 0);
	argv_clear(&a);			/* twice is harmless */
	argv_truncate(&a, 0);
	for (i = 0; i < 20; i++)
		argv_addf(&a, "%d", i);
	assert_int_equal(a.n, 20);
	assert_string_equal(a.v[19], "19");
	assert_null(a.v[20]);
	argv_clear(&a);

	/* Zeroed storage (a calloc'ed struct member) is an empty array. */
	memset(&z, 0, sizeof(z));
	argv_truncate(&z, 0);
	argv_add(&z, "first");
	argv_add(&z, "second");
	assert_string_equal(joined(&z, &out), "first|second");
	argv_clear(&z);
	buf_free(&out);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_argv_add),
		cmocka_unit_test(test_argv_truncate),
		cmocka_unit_test(test_argv_split),
		cmocka_unit_test(test_argv_find),
		cmocka_unit_test(test_argv_uniq),
		cmocka_unit_test(test_argv_reuse),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
