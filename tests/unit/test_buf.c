/*
 * NAME		test_buf - unit tests for util/buf
 * DESCRIPTION	Growth across the initial capacity, NUL termination after
 *		every operation, embedded NUL bytes, printf growth, truncate
 *		and consume at the edges, steal.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "util/buf.h"
#include "unit.h"

/* check_terminated - the invariants every buffer keeps */
static void
check_terminated(const struct buf *b)
{
	if (b->p == NULL) {
		assert_int_equal(b->len, 0);
		return;
	}
	assert_true(b->len < b->cap);
	assert_int_equal(b->p[b->len], 0);
}

static void
test_buf_empty(void **state)
{
	struct buf b = BUF_INIT;

	(void)state;
	assert_null(b.p);
	assert_string_equal(buf_str(&b), "");
	check_terminated(&b);
	buf_reset(&b);
	assert_int_equal(b.len, 0);
	buf_truncate(&b, 10);
	assert_int_equal(b.len, 0);
	buf_consume(&b, 10);
	assert_int_equal(b.len, 0);
	buf_free(&b);
	assert_null(b.p);
	buf_free(&b);		/* twice is harmless */
	buf_reset(&b);		/* reset with no storage */
	assert_null(b.p);
}

static void
test_buf_put_sizes(void **state)
{
	/* Around the initial 64-byte capacity and a few doublings. */
	static const size_t sizes[] = {0, 1, 62, 63, 64, 65, 127, 128, 129,
	    1000, 4095, 4096, 4097, 100000};
	struct buf b = BUF_INIT;
	size_t i, k;

	(void)state;
	for (i = 0; i < NELEM(sizes); i++) {
		char *src = malloc(sizes[i] + 1);

		for (k = 0; k < sizes[i]; k++)
			src[k] = (char)('a' + k % 26);
		buf_reset(&b);
		buf_put(&b, src, sizes[i]);
		assert_int_equal(b.len, sizes[i]);
		check_terminated(&b);
		assert_memory_equal(buf_str(&b), src, sizes[i]);
		/* One byte at a time gives the same result. */
		buf_reset(&b);
		for (k = 0; k < sizes[i]; k++) {
			buf_putc(&b, src[k]);
			check_terminated(&b);
		}
		assert_int_equal(b.len, sizes[i]);
		if (sizes[i])
			assert_memory_equal(b.p, src, sizes[i]);
		free(src);
	}
	buf_free(&b);
}

static void
test_buf_embedded_nul(void **state)
{
	struct buf b = BUF_INIT;

	(void)state;
	buf_put(&b, "a\0b", 3);
	buf_putc(&b, 0);
	buf_puts(&b, "c");
	assert_int_equal(b.len, 5);
	assert_memory_equal(b.p, "a\0b\0c", 6);
	/* buf_puts stops at the first NUL of its argument. */
	buf_sets(&b, "x\0y");
	assert_int_equal(b.len, 1);
	buf_set(&b, "x\0y", 3);
	assert_int_equal(b.len, 3);
	check_terminated(&b);
	buf_free(&b);
}

static void
test_buf_set_put_null(void **state)
{
	struct buf b = BUF_INIT;

	(void)state;
	/* A zero-length put may pass a NULL pointer. */
	buf_put(&b, NULL, 0);
	assert_non_null(b.p);
	assert_int_equal(b.len, 0);
	check_terminated(&b);
	buf_set(&b, NULL, 0);
	assert_string_equal(buf_str(&b), "");
	buf_free(&b);
}

static void
test_buf_printf(void **state)
{
	struct buf b = BUF_INIT;
	char big[1000];
	size_t i;

	(void)state;
	buf_printf(&b, "%d-%s", 42, "x");
	assert_string_equal(buf_str(&b), "42-x");
	buf_printf(&b, "%s", "");
	assert_int_equal(b.len, 4);
	/* Output longer than the first reservation of 128 bytes. */
	memset(big, 'z', sizeof(big) - 1);
	big[sizeof(big) - 1] = 0;
	buf_printf(&b, "<%s>", big);
	assert_int_equal(b.len, 4 + 2 + sizeof(big) - 1);
	check_terminated(&b);
	assert_int_equal(b.p[4], '<');
	assert_int_equal(b.p[b.len - 1], '>');
	for (i = 5; i < b.len - 1; i++)
		assert_int_equal(b.p[i], 'z');
	/* Exactly at the edge of the free space. */
	for (i = 120; i < 140; i++) {
		buf_reset(&b);
		buf_printf(&b, "%0*d", (int)i, 7);
		assert_int_equal(b.len, i);
		assert_int_equal(b.p[i - 1], '7');
		check_terminated(&b);
	}
	buf_free(&b);
}

static void
test_buf_truncate(void **state)
{
	static const struct {
		const char *in;
		size_t n;
		const char *out;
	} t[] = {
		{"hello", 0, ""},
		{"hello", 1, "h"},
		{"hello", 4, "hell"},
		{"hello", 5, "hello"},
		{"hello", 6, "hello"},
		{"hello", (size_t)-1, "hello"},
	};
	struct buf b = BUF_INIT;
	size_t i;

	(void)state;
	for (i = 0; i < NELEM(t); i++) {
		buf_sets(&b, t[i].in);
		buf_truncate(&b, t[i].n);
		assert_string_equal(buf_str(&b), t[i].out);
		assert_int_equal(b.len, strlen(t[i].out));
		check_terminated(&b);
	}
	buf_free(&b);
}

static void
test_buf_consume(void **state)
{
	static const struct {
		const char *in;
		size_t n;
		const char *out;
	} t[] = {
		{"hello", 0, "hello"},
		{"hello", 1, "ello"},
		{"hello", 4, "o"},
		{"hello", 5, ""},
		{"hello", 6, ""},
		{"hello", (size_t)-1, ""},
		{"", 0, ""},
		{"", 1, ""},
	};
	struct buf b = BUF_INIT;
	size_t i;

	(void)state;
	for (i = 0; i < NELEM(t); i++) {
		buf_sets(&b, t[i].in);
		buf_consume(&b, t[i].n);
		assert_string_equal(buf_str(&b), t[i].out);
		assert_int_equal(b.len, strlen(t[i].out));
		check_terminated(&b);
	}
	buf_free(&b);
}

static void
test_buf_reserve(void **state)
{
	struct buf b = BUF_INIT;
	char *p;

	(void)state;
	buf_reserve(&b, 1000);
	assert_true(b.cap >= 1001);
	assert_int_equal(b.len, 0);
	p = b.p;
	/* Reserved space is used without moving the storage. */
	memset(b.p, 'x', 1000);
	b.len = 1000;
	b.p[b.len] = 0;
	buf_reserve(&b, 0);
	assert_ptr_equal(b.p, p);
	buf_reset(&b);
	assert_int_equal(b.len, 0);
	assert_string_equal(buf_str(&b), "");
	assert_ptr_equal(b.p, p);	/* reset keeps storage */
	buf_free(&b);
}

static void
test_buf_steal(void **state)
{
	struct buf b = BUF_INIT;
	char *s;

	(void)state;
	s = buf_steal(&b);		/* of an empty buffer: "" */
	assert_non_null(s);
	assert_string_equal(s, "");
	free(s);
	buf_puts(&b, "owned");
	s = buf_steal(&b);
	assert_string_equal(s, "owned");
	assert_null(b.p);
	assert_int_equal(b.len, 0);
	assert_int_equal(b.cap, 0);
	free(s);
	buf_puts(&b, "again");		/* usable after steal */
	assert_string_equal(buf_str(&b), "again");
	buf_free(&b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_buf_empty),
		cmocka_unit_test(test_buf_put_sizes),
		cmocka_unit_test(test_buf_embedded_nul),
		cmocka_unit_test(test_buf_set_put_null),
		cmocka_unit_test(test_buf_printf),
		cmocka_unit_test(test_buf_truncate),
		cmocka_unit_test(test_buf_consume),
		cmocka_unit_test(test_buf_reserve),
		cmocka_unit_test(test_buf_steal),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
