/*
 * NAME		test_qmgr_feedback - unit tests for qmgr's destination
 *		concurrency window (slow start, dead destinations)
 * DESCRIPTION	The start value (initial concurrency below, at and above
 *		the limit, and 0), growth by whole steps after 1, 2, 3, ...
 *		successes up to the limit and only while the window is in
 *		use, shrinking at the first failure and never below 1, and
 *		the failed cohort limit: a destination is dead after a
 *		window's worth of hop failures (limit-1, limit), times the
 *		cohort limit, never with limit 0, and a success starts the
 *		count again; revival with the deliveries still in progress.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "mail/conf.h"
#include "../../qmgr/qmgr.h"
#include "unit.h"

static void
test_init(void **state)
{
	static const struct {
		int	 init, limit, want;
	} cases[] = {
		{ 5, 20, 5 },
		{ 5, 6, 5 },
		{ 5, 5, 5 },
		{ 5, 4, 4 },
		{ 1, 20, 1 },
		{ 2, 1, 1 },
		{ 0, 20, 1 },
	};
	struct qm_window w;
	size_t i;

	(void)state;
	for (i = 0; i < NELEM(cases); i++) {
		qm_window_init(&w, cases[i].init, cases[i].limit);
		assert_int_equal(w.window, cases[i].want);
		assert_int_equal(qm_window_allowed(&w), cases[i].want);
		assert_true(w.fail_cohorts == 0 && w.success == 0 &&
		    w.failure == 0);
	}
}

static void
test_slow_start(void **state)
{
	/* The window after each success, busy all the time, limit 4. */
	static const int steps[] = { 2, 2, 3, 3, 3, 4, 4, 4 };
	struct qm_window w;
	size_t i;

	(void)state;
	qm_window_init(&w, 1, 4);
	for (i = 0; i < NELEM(steps); i++) {
		assert_int_equal(qm_window_feedback(&w, 1,
		    qm_window_allowed(&w), 1, 4, 1), 0);
		assert_int_equal(qm_window_allowed(&w), steps[i]);
	}
	/* Initial concurrency 2: 3 after two successes. */
	qm_window_init(&w, 2, 20);
	assert_int_equal(qm_window_feedback(&w, 1, 2, 2, 20, 1), 0);
	assert_int_equal(w.window, 2);
	assert_int_equal(qm_window_feedback(&w, 1, 2, 2, 20, 1), 0);
	assert_int_equal(w.window, 3);
}

static void
test_growth_needs_use(void **state)
{
	struct qm_window w;
	int k;

	(void)state;
	/* Window 3, initial 1: it grows only with 3 or more in progress. */
	qm_window_init(&w, 3, 10);
	for (k = 0; k < 10; k++)
		assert_int_equal(qm_window_feedback(&w, 1, 1, 1, 10, 1), 0);
	assert_int_equal(w.window, 3);
	for (k = 0; k < 10; k++)
		assert_int_equal(qm_window_feedback(&w, 1, 2, 1, 10, 1), 0);
	assert_int_equal(w.window, 3);
	for (k = 0; k < 3; k++)
		assert_int_equal(qm_window_feedback(&w, 1, 3, 1, 10, 1), 0);
	assert_int_equal(w.window, 4);
	/* Concurrency limit 1: never more. */
	qm_window_init(&w, 5, 1);
	for (k = 0; k < 10; k++)
		assert_int_equal(qm_window_feedback(&w, 1, 1, 5, 1, 1), 0);
	assert_int_equal(qm_window_allowed(&w), 1);
	/* At the limit it stays there. */
	qm_window_init(&w, 4, 4);
	for (k = 0; k < 10; k++)
		assert_int_equal(qm_window_feedback(&w, 1, 4, 4, 4, 1), 0);
	assert_int_equal(w.window, 4);
}

static void
test_dead(void **state)
{
	struct qm_window w;
	int k;

	(void)state;
	/* Window 1, cohort limit 1: the first hop failure. */
	qm_window_init(&w, 1, 20);
	assert_int_equal(qm_window_feedback(&w, 0, 1, 1, 20, 1), 1);

	/* Window 5: four failures are not a cohort, the fifth is. */
	qm_window_init(&w, 5, 20);
	assert_int_equal(qm_window_feedback(&w, 0, 5, 5, 20, 1), 0);
	/* The first failure narrows the window at once. */
	assert_int_equal(w.window, 4);
	for (k = 0; k < 3; k++)
		assert_int_equal(qm_window_feedback(&w, 0, 4, 5, 20, 1), 0);
	assert_int_equal(w.window, 3);
	assert_int_equal(qm_window_feedback(&w, 0, 3, 5, 20, 1), 1);

	/* Cohort limit 2, window 1: the second failure. */
	qm_window_init(&w, 1, 20);
	assert_int_equal(qm_window_feedback(&w, 0, 1, 1, 20, 2), 0);
	assert_int_equal(qm_window_feedback(&w, 0, 1, 1, 20, 2), 1);

	/* Cohort limit 0: never dead; the window never drops below 1. */
	qm_window_init(&w, 2, 20);
	for (k = 0; k < 50; k++)
		assert_int_equal(qm_window_feedback(&w, 0, 1, 2, 20, 0), 0);
	assert_int_equal(w.window, 1);
	assert_int_equal(qm_window_allowed(&w), 1);
}

static void
test_success_resets(void **state)
{
	struct qm_window w;

	(void)state;
	/* Window 2: one failure is half a cohort, and the window is 1. */
	qm_window_init(&w, 2, 20);
	assert_int_equal(qm_window_feedback(&w, 0, 2, 2, 20, 1), 0);
	assert_true(w.fail_cohorts > 0.49 && w.fail_cohorts < 0.51);
	assert_int_equal(w.window, 1);
	/* A success: the count starts again, the window is 2 again. */
	assert_int_equal(qm_window_feedback(&w, 1, 1, 2, 20, 1), 0);
	assert_true(w.fail_cohorts == 0);
	assert_int_equal(w.window, 2);
	/* So the next failure alone does not make it dead. */
	assert_int_equal(qm_window_feedback(&w, 0, 2, 2, 20, 1), 0);
	/* Without the success in between, two failures would have. */
	qm_window_init(&w, 2, 20);
	assert_int_equal(qm_window_feedback(&w, 0, 2, 2, 20, 1), 0);
	assert_int_equal(qm_window_feedback(&w, 0, 1, 2, 20, 1), 1);
}

static void
test_revive(void **state)
{
	struct qm_window w;

	(void)state;
	qm_window_init(&w, 1, 20);
	assert_int_equal(qm_window_feedback(&w, 0, 1, 1, 20, 1), 1);
	/* Nothing in progress: the initial concurrency. */
	qm_window_revive(&w, 0, 5, 20);
	assert_int_equal(w.window, 5);
	assert_true(w.fail_cohorts == 0);
	/* Deliveries still in progress: that many. */
	qm_window_revive(&w, 3, 5, 20);
	assert_int_equal(w.window, 3);
	/* Never above the limit. */
	qm_window_revive(&w, 0, 5, 2);
	assert_int_equal(w.window, 2);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_init),
		cmocka_unit_test(test_slow_start),
		cmocka_unit_test(test_growth_needs_use),
		cmocka_unit_test(test_dead),
		cmocka_unit_test(test_success_resets),
		cmocka_unit_test(test_revive),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
