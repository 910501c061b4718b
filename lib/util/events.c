/*
 * NAME		events - single-threaded event loop on epoll(7)
 * DESCRIPTION	event_fd() registers (or changes, or with mask 0 removes)
 *		interest in a descriptor.  event_timer() arms a one-shot timer
 *		identified by its (function, context) pair; arming it again
 *		moves it.  event_loop() runs the pre-poll hooks, waits at most
 *		the given time (or until the next timer), then calls back the
 *		ready descriptors and the expired timers.  Callbacks may add
 *		and remove descriptors and timers freely.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

#include "events.h"
#include "log.h"
#include "mem.h"

struct ev_fd {
	int	 mask;
	event_fd_fn fn;
	void	*ctx;
	unsigned gen;
};

struct ev_timer {
	event_timer_fn fn;
	void	*ctx;
	int64_t	 when;
	unsigned gen;			/* ev_timer_gen when armed */
	struct ev_timer *next;
};

struct ev_hook {
	event_hook_fn fn;
	void	*ctx;
	struct ev_hook *next;
};

static int ev_epfd = -1;
static struct ev_fd *ev_fds;
static size_t ev_nfds;
static struct ev_timer *ev_timers;
static unsigned ev_timer_gen;
static struct ev_hook *ev_hooks;
static int64_t ev_now;

/* time_mono_ms - monotonic clock in milliseconds */
int64_t
time_mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * time_due - at most once per interval_ms: true (and *last updated) when
 * interval_ms have passed since *last; for cheap periodic checks on a
 * busy path, such as "has a table changed on disk?".
 */
int
time_due(int64_t *last, int64_t interval_ms)
{
	int64_t now = time_mono_ms();

	if (*last != 0 && now - *last < interval_ms)
		return 0;
	*last = now;
	return 1;
}

/* event_now - the monotonic time at the start of this loop iteration */
int64_t
event_now(void)
{
	return ev_now ? ev_now : time_mono_ms();
}

/* event_init - create the epoll instance */
void
event_init(void)
{
	if (ev_epfd >= 0)
		return;
	if ((ev_epfd = epoll_create1(EPOLL_CLOEXEC)) < 0)
		log_fatal("epoll_create1: %m");
	ev_now = time_mono_ms();
}

/* event_fd - register, change or (mask 0) remove interest in fd */
void
event_fd(int fd, int mask, event_fd_fn fn, void *ctx)
{
	struct epoll_event ee;
	int op;

	event_init();
	if (fd < 0)
		log_panic("event_fd: bad fd %d", fd);
	if ((size_t)fd >= ev_nfds) {
		size_t n = (size_t)fd + 64;

		ev_fds = xreallocarray(ev_fds, n, sizeof(*ev_fds));
		memset(ev_fds + ev_nfds, 0, (n - ev_nfds) * sizeof(*ev_fds));
		ev_nfds = n;
	}
	if (mask == 0) {
		event_fd_del(fd);
		return;
	}
	if (ev_fds[fd].mask == mask) {
		/* Same interest: no system call, just new callback data. */
		if (ev_fds[fd].fn != fn || ev_fds[fd].ctx != ctx) {
			ev_fds[fd].fn = fn;
			ev_fds[fd].ctx = ctx;
			ev_fds[fd].gen++;
		}
		return;
	}
	op = ev_fds[fd].mask ? EPOLL_CTL_MOD : EPOLL_CTL_ADD;
	memset(&ee, 0, sizeof(ee));
	ee.events = ((mask & EV_READ) ? EPOLLIN : 0) |
	    ((mask & EV_WRITE) ? EPOLLOUT : 0);
	ee.data.fd = fd;
	if (epoll_ctl(ev_epfd, op, fd, &ee) < 0)
		log_panic("epoll_ctl fd %d: %m", fd);
	ev_fds[fd].mask = mask;
	ev_fds[fd].fn = fn;
	ev_fds[fd].ctx = ctx;
	ev_fds[fd].gen++;
}

/* event_fd_del - forget fd (call before close) */
void
event_fd_del(int fd)
{
	if (fd < 0 || (size_t)fd >= ev_nfds || ev_fds[fd].mask == 0)
		return;
	(void)epoll_ctl(ev_epfd, EPOLL_CTL_DEL, fd, NULL);
	ev_fds[fd].mask = 0;
	ev_fds[fd].fn = NULL;
	ev_fds[fd].ctx = NULL;
	ev_fds[fd].gen++;
}

/* event_timer_cancel - disarm a timer; no-op if not armed */
void
event_timer_cancel(event_timer_fn fn, void *ctx)
{
	struct ev_timer **tp, *t;

	for (tp = &ev_timers; (t = *tp) != NULL; tp = &t->next) {
		if (t->fn == fn && t->ctx == ctx) {
			*tp = t->next;
			free(t);
			return;
		}
	}
}

/* event_timer_pending - is this timer armed? */
int
event_timer_pending(event_timer_fn fn, void *ctx)
{
	struct ev_timer *t;

	for (t = ev_timers; t; t = t->next)
		if (t->fn == fn && t->ctx == ctx)
			return 1;
	return 0;
}

/* event_timer - arm a one-shot timer delay_ms from now */
void
event_timer(event_timer_fn fn, void *ctx, int64_t delay_ms)
{
	struct ev_timer **tp, *t;

	event_timer_cancel(fn, ctx);
	t = xmalloc(sizeof(*t));
	t->fn = fn;
	t->ctx = ctx;
	t->when = time_mono_ms() + (delay_ms < 0 ? 0 : delay_ms);
	t->gen = ev_timer_gen;
	for (tp = &ev_timers; *tp && (*tp)->when <= t->when; tp = &(*tp)->next)
		;
	t->next = *tp;
	*tp = t;
}

/* event_hook - run fn(ctx) before each wait for events */
void
event_hook(event_hook_fn fn, void *ctx)
{
	struct ev_hook *h = xmalloc(sizeof(*h));

	h->fn = fn;
	h->ctx = ctx;
	h->next = ev_hooks;
	ev_hooks = h;
}

/* event_hook_del - remove a pre-poll hook */
void
event_hook_del(event_hook_fn fn, void *ctx)
{
	struct ev_hook **hp, *h;

	for (hp = &ev_hooks; (h = *hp) != NULL; hp = &h->next) {
		if (h->fn == fn && h->ctx == ctx) {
			*hp = h->next;
			free(h);
			return;
		}
	}
}

/* event_loop - one iteration; wait at most max_ms (-1: until an event) */
int
event_loop(int64_t max_ms)
{
	struct epoll_event evs[64];
	struct ev_hook *h, *hnext;
	int64_t wait = max_ms;
	unsigned gens[64];
	int n, i;

	event_init();
	for (h = ev_hooks; h; h = hnext) {
		hnext = h->next;
		h->fn(h->ctx);
	}
	if (ev_timers) {
		int64_t left = ev_timers->when - time_mono_ms();

		if (left < 0)
			left = 0;
		if (wait < 0 || left < wait)
			wait = left;
	}
	if (wait > 3600 * 1000)
		wait = 3600 * 1000;
	n = epoll_wait(ev_epfd, evs, 64, (int)wait);
	if (n < 0) {
		if (errno != EINTR)
			log_fatal("epoll_wait: %m");
		n = 0;
	}
	ev_now = time_mono_ms();
	for (i = 0; i < n; i++)
		gens[i] = ev_fds[evs[i].data.fd].gen;
	for (i = 0; i < n; i++) {
		int fd = evs[i].data.fd, mask = 0;
		struct ev_fd *e = ev_fds + fd;

		/* Skip descriptors that an earlier callback changed. */
		if (e->gen != gens[i] || e->fn == NULL)
			continue;
		if (evs[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR))
			mask |= EV_READ;
		if (evs[i].events & (EPOLLOUT | EPOLLHUP | EPOLLERR))
			mask |= EV_WRITE;
		if (evs[i].events & (EPOLLHUP | EPOLLERR))
			mask |= EV_ERROR;
		mask &= e->mask | EV_ERROR;
		if (mask & (EV_READ | EV_WRITE))
			e->fn(fd, mask, e->ctx);
	}
	/*
	 * A timer armed by a timer callback waits for the next iteration,
	 * as in Postfix: one that re-arms itself with no delay must not keep
	 * this loop from returning.  Later timers sort after it, so stop.
	 */
	ev_timer_gen++;
	while (ev_timers && ev_timers->when <= time_mono_ms() &&
	    ev_timers->gen != ev_timer_gen) {
		struct ev_timer *t = ev_timers;
		event_timer_fn fn = t->fn;
		void *ctx = t->ctx;

		ev_timers = t->next;
		free(t);
		fn(ctx);
	}
	return n;
}
