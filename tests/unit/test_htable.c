/*
 * NAME		test_htable - unit tests for util/htable
 * DESCRIPTION	Enter, find, delete, growth by doubling with every key still
 *		found, listing and walking, and value destructors (valgrind
 *		checks that they run).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "util/htable.h"
#include "util/mem.h"
#include "unit.h"

static void
test_htable_basic(void **state)
{
	struct htable *t = htable_create(0);
	struct hnode *n, *n2;
	int one = 1, two = 2;

	(void)state;
	assert_true(t->size >= 13);
	assert_int_equal(t->used, 0);
	assert_null(htable_find(t, "a"));
	assert_null(htable_locate(t, "a"));
	n = htable_enter(t, "a", &one);
	assert_non_null(n);
	assert_string_equal(n->key, "a");
	assert_ptr_equal(htable_find(t, "a"), &one);
	assert_ptr_equal(htable_locate(t, "a"), n);
	/* Entering an existing key returns the node, value unchanged. */
	n2 = htable_enter(t, "a", &two);
	assert_ptr_equal(n2, n);
	assert_ptr_equal(htable_find(t, "a"), &one);
	assert_int_equal(t->used, 1);
	/* Keys are compared exactly and copied. */
	assert_null(htable_find(t, "A"));
	assert_null(htable_find(t, "a "));
	htable_enter(t, "", &two);
	assert_ptr_equal(htable_find(t, ""), &two);
	/* NULL values are allowed; locate tells them from absent keys. */
	htable_enter(t, "null", NULL);
	assert_null(htable_find(t, "null"));
	assert_non_null(htable_locate(t, "null"));
	assert_int_equal(t->used, 3);
	assert_int_equal(htable_delete(t, "missing", NULL), -1);
	assert_int_equal(htable_delete(t, "a", NULL), 0);
	assert_int_equal(htable_delete(t, "a", NULL), -1);
	assert_null(htable_find(t, "a"));
	assert_int_equal(t->used, 2);
	htable_free(t, NULL);
	htable_free(NULL, NULL);
}

static void
test_htable_grow(void **state)
{
	struct htable *t = htable_create(1);
	char key[32];
	size_t i, first_size = t->size;
	struct hnode **list;
	size_t count;

	(void)state;
	for (i = 0; i < 5000; i++) {
		snprintf(key, sizeof(key), "key%zu", i);
		htable_enter(t, key, xstrdup(key));
	}
	assert_int_equal(t->used, 5000);
	assert_true(t->size > first_size);
	assert_true(t->used <= t->size);
	for (i = 0; i < 5000; i++) {
		snprintf(key, sizeof(key), "key%zu", i);
		assert_string_equal(htable_find(t, key), key);
	}
	list = htable_list(t);
	for (count = 0; list[count]; count++)
		assert_string_equal(list[count]->key, list[count]->value);
	assert_int_equal(count, 5000);
	free(list);
	/* Delete every other key; the rest is intact. */
	for (i = 0; i < 5000; i += 2) {
		snprintf(key, sizeof(key), "key%zu", i);
		assert_int_equal(htable_delete(t, key, free), 0);
	}
	assert_int_equal(t->used, 2500);
	for (i = 0; i < 5000; i++) {
		snprintf(key, sizeof(key), "key%zu", i);
		if (i % 2)
			assert_string_equal(htable_find(t, key), key);
		else
			assert_null(htable_locate(t, key));
	}
	htable_free(t, free);
}

/* count_walk - htable_walk callback */
static void
count_walk(struct hnode *n, void *ctx)
{
	size_t *sum = ctx;

	sum[0]++;
	sum[1] += (size_t)*(int *)n->value;
}

static void
test_htable_walk_list(void **state)
{
	struct htable *t = htable_create(100);
	int vals[10];
	size_t sum[2] = {0, 0}, i;
	struct hnode **list;
	char key[8];

	(void)state;
	list = htable_list(t);		/* empty table: just the NULL */
	assert_null(list[0]);
	free(list);
	htable_walk(t, count_walk, sum);
	assert_int_equal(sum[0], 0);
	for (i = 0; i < NELEM(vals); i++) {
		vals[i] = (int)i + 1;
		snprintf(key, sizeof(key), "%zu", i);
		htable_enter(t, key, &vals[i]);
	}
	htable_walk(t, count_walk, sum);
	assert_int_equal(sum[0], 10);
	assert_int_equal(sum[1], 55);
	htable_free(t, NULL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_htable_basic),
		cmocka_unit_test(test_htable_grow),
		cmocka_unit_test(test_htable_walk_list),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
