/*
 * NAME		test_events - unit tests for util/events
 * DESCRIPTION	Timers fire in time order, re-arming moves a timer,
 *		cancelled timers do not fire, a timer that re-arms itself
 *		with no delay does not starve the loop; descriptor callbacks
 *		for read, write and hang-up, changes made by callbacks, and
 *		pre-poll hooks.  Each test leaves no timer, hook or
 *		descriptor registered.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <unistd.h>

#include "util/buf.h"
#include "util/events.h"
#include "unit.h"

static struct buf fired = BUF_INIT;	/* transcript of callbacks */

/* timer_log - timer callback: append the context's name */
static void
timer_log(void *ctx)
{
	buf_puts(&fired, ctx);
}

/* run_until - loop until the transcript has n bytes or time runs out */
static void
run_until(size_t n, int64_t max_ms)
{
	int64_t end = time_mono_ms() + max_ms;

	while (fired.len < n && time_mono_ms() < end)
		(void)event_loop(50);
}

static void
test_timer_order(void **state)
{
	(void)state;
	buf_reset(&fired);
	event_timer(timer_log, "A", 60);
	event_timer(timer_log, "B", 10);
	event_timer(timer_log, "C", 30);
	event_timer(timer_log, "D", 10);
	event_timer(timer_log, "E", -5);	/* negative: now */
	assert_true(event_timer_pending(timer_log, "A"));
	assert_false(event_timer_pending(timer_log, "X"));
	run_until(5, 2000);
	assert_string_equal(buf_str(&fired), "EBDCA");
	assert_false(event_timer_pending(timer_log, "A"));
	assert_false(event_timer_pending(timer_log, "B"));
}

static void
test_timer_rearm_cancel(void **state)
{
	int64_t start;

	(void)state;
	buf_reset(&fired);
	/* Re-arming moves the timer; it fires once. */
	event_timer(timer_log, "X", 10);
	event_timer(timer_log, "Y", 30);
	event_timer(timer_log, "X", 60);
	/* A cancelled timer never fires; cancelling twice is a no-op. */
	event_timer(timer_log, "Z", 20);
	event_timer_cancel(timer_log, "Z");
	event_timer_cancel(timer_log, "Z");
	assert_false(event_timer_pending(timer_log, "Z"));
	run_until(2, 2000);
	assert_string_equal(buf_str(&fired), "YX");
	/* The time between is waited, not spun. */
	start = time_mono_ms();
	event_timer(timer_log, "W", 40);
	assert_int_equal(event_loop(-1), 0);
	assert_string_equal(buf_str(&fired), "YXW");
	assert_true(time_mono_ms() - start >= 39);
	assert_true(event_now() >= start);
}

static int rearm_count;

/* timer_rearm - a timer that asks to run again at once, five times */
static void
timer_rearm(void *ctx)
{
	(void)ctx;
	if (++rearm_count < 5)
		event_timer(timer_rearm, NULL, 0);
}

static void
test_timer_rearm_zero(void **state)
{
	int i;

	(void)state;
	/*
	 * One loop iteration runs the timer once: a timer armed by a timer
	 * callback waits for the next iteration, else it could starve the
	 * descriptors (or hang the loop) forever.
	 */
	rearm_count = 0;
	event_timer(timer_rearm, NULL, 0);
	(void)event_loop(0);
	assert_int_equal(rearm_count, 1);
	for (i = 0; i < 100 && rearm_count < 5; i++)
		(void)event_loop(0);
	assert_int_equal(rearm_count, 5);
	assert_false(event_timer_pending(timer_rearm, NULL));
}

struct fdctx {
	int	 calls;
	int	 mask;
	int	 fd;
	int	 other;		/* descriptor to remove, or -1 */
};

/* fd_read - read callback: drain one byte, record the mask */
static void
fd_read(int fd, int mask, void *arg)
{
	struct fdctx *c = arg;
	char ch;

	c->calls++;
	c->mask = mask;
	c->fd = fd;
	if (mask & EV_READ)
		(void)!read(fd, &ch, 1);
	if (c->other >= 0)
		event_fd_del(c->other);
}

static void
test_fd_read(void **state)
{
	struct fdctx c = {0, 0, -1, -1};
	int p[2];

	(void)state;
	assert_int_equal(pipe(p), 0);
	event_fd(p[0], EV_READ, fd_read, &c);
	/* Nothing to read: the loop times out without callbacks. */
	assert_int_equal(event_loop(20), 0);
	assert_int_equal(c.calls, 0);
	assert_int_equal(write(p[1], "ab", 2), 2);
	assert_int_equal(event_loop(1000), 1);
	assert_int_equal(c.calls, 1);
	assert_int_equal(c.fd, p[0]);
	assert_int_equal(c.mask, EV_READ);
	assert_int_equal(event_loop(1000), 1);	/* level-triggered */
	assert_int_equal(c.calls, 2);
	/* Removed: no more callbacks. */
	event_fd_del(p[0]);
	event_fd_del(p[0]);			/* twice is a no-op */
	assert_int_equal(write(p[1], "c", 1), 1);
	assert_int_equal(event_loop(20), 0);
	assert_int_equal(c.calls, 2);
	/* Hang-up is reported as readable with EV_ERROR. */
	event_fd(p[0], EV_READ, fd_read, &c);
	close(p[1]);
	assert_int_equal(event_loop(1000), 1);
	assert_int_equal(c.calls, 3);
	assert_true(c.mask & EV_READ);
	event_fd(p[0], 0, NULL, NULL);		/* mask 0 removes */
	close(p[0]);
}

static void
test_fd_write_modify(void **state)
{
	struct fdctx c = {0, 0, -1, -1};
	int p[2];

	(void)state;
	assert_int_equal(pipe(p), 0);
	event_fd(p[1], EV_WRITE, fd_read, &c);
	assert_int_equal(event_loop(1000), 1);
	assert_int_equal(c.mask, EV_WRITE);
	/* Change the interest to read: a pipe's write end never is. */
	event_fd(p[1], EV_READ, fd_read, &c);
	assert_int_equal(event_loop(20), 0);
	assert_int_equal(c.calls, 1);
	event_fd_del(p[1]);
	close(p[0]);
	close(p[1]);
}

static void
test_fd_removed_by_callback(void **state)
{
	struct fdctx a = {0, 0, -1, -1}, b = {0, 0, -1, -1};
	int p[2], q[2];

	(void)state;
	assert_int_equal(pipe(p), 0);
	assert_int_equal(pipe(q), 0);
	a.other = q[0];
	b.other = p[0];
	event_fd(p[0], EV_READ, fd_read, &a);
	event_fd(q[0], EV_READ, fd_read, &b);
	assert_int_equal(write(p[1], "x", 1), 1);
	assert_int_equal(write(q[1], "y", 1), 1);
	/* Both are ready; whichever runs first removes the other. */
	(void)event_loop(1000);
	assert_int_equal(a.calls + b.calls, 1);
	event_fd_del(p[0]);
	event_fd_del(q[0]);
	close(p[0]);
	close(p[1]);
	close(q[0]);
	close(q[1]);
}

/* hook_count - pre-poll hook */
static void
hook_count(void *ctx)
{
	(*(int *)ctx)++;
}

static void
test_hooks(void **state)
{
	int n1 = 0, n2 = 0;

	(void)state;
	event_hook(hook_count, &n1);
	event_hook(hook_count, &n2);
	(void)event_loop(0);
	(void)event_loop(0);
	assert_int_equal(n1, 2);
	assert_int_equal(n2, 2);
	event_hook_del(hook_count, &n1);
	event_hook_del(hook_count, &n1);	/* twice is a no-op */
	(void)event_loop(0);
	assert_int_equal(n1, 2);
	assert_int_equal(n2, 3);
	event_hook_del(hook_count, &n2);
	(void)event_loop(0);
	assert_int_equal(n2, 3);
}

/* teardown - free the transcript */
static int
teardown(void **state)
{
	(void)state;
	buf_free(&fired);
	return 0;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_timer_order),
		cmocka_unit_test(test_timer_rearm_cancel),
		cmocka_unit_test(test_timer_rearm_zero),
		cmocka_unit_test(test_fd_read),
		cmocka_unit_test(test_fd_write_modify),
		cmocka_unit_test(test_fd_removed_by_callback),
		cmocka_unit_test(test_hooks),
	};

	event_init();
	return cmocka_run_group_tests(tests, NULL, teardown);
}
