/*
 * NAME		single - skeleton for daemons that serve one client at a time
 * DESCRIPTION	The process reports itself available, waits for a
 *		connection (or for max_idle seconds, or for master to go
 *		away), accepts it, reports busy and calls serve() with a
 *		blocking stream whose deadline is ipc_timeout.  It exits after
 *		max_use clients.  Several idle processes wait on the same
 *		socket; each waits in its own epoll set, where the listening
 *		sockets are EPOLLEXCLUSIVE, so a new connection wakes one idle
 *		process rather than all of them (with poll(), every idle smtp
 *		and smtpd process woke for each connection, lost the race to
 *		accept() and told master again that it was available).  A
 *		process reports "available" once per client served, not once
 *		per wakeup.  While it waits, the optional idle_tick hook is
 *		called when it asks to be (smtp(8) closes an idle cached
 *		connection that way); the max_idle time counts from the start
 *		of the wait regardless.
 * SEE ALSO	server(3), multi(3), trigger(3)
 */
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "mail/mail_conf.h"
#include "util/events.h"
#include "util/log.h"
#include "util/sock.h"
#include "server.h"

/* srv_single_epoll - the wait set: master's watch pipe, the sockets */
static int
srv_single_epoll(void)
{
	struct epoll_event ev;
	int ep, i;

	if ((ep = epoll_create1(EPOLL_CLOEXEC)) < 0)
		log_fatal("epoll_create1: %m");
	ev.events = EPOLLIN;
	ev.data.fd = SRV_WATCH_FD;
	if (epoll_ctl(ep, EPOLL_CTL_ADD, SRV_WATCH_FD, &ev) < 0)
		log_fatal("epoll_ctl: %m");
	for (i = 0; i < srv.listen_count; i++) {
		ev.events = EPOLLIN | EPOLLEXCLUSIVE;
		ev.data.fd = SRV_LISTEN_FD + i;
		if (epoll_ctl(ep, EPOLL_CTL_ADD, SRV_LISTEN_FD + i, &ev) < 0)
			log_fatal("epoll_ctl: %m");
	}
	return ep;
}

/*
 * srv_single_wait - wait for a client or master's exit until max_idle has
 * passed, calling the idle_tick hook when it asked to be called.  Returns
 * the number of ready descriptors in ev (0: max_idle passed).
 */
static int
srv_single_wait(int ep, struct epoll_event *ev, int nev,
    const struct srv_hooks *h)
{
	int64_t now = time_mono_ms(), tick_at = -1, wait;
	int64_t deadline = now + (int64_t)mail_cfg.max_idle * 1000;
	long next;
	int n;

	if (h->idle_tick && (next = h->idle_tick()) >= 0)
		tick_at = now + (next > 0 ? next : 1);
	for (;;) {
		now = time_mono_ms();
		if (tick_at >= 0 && now >= tick_at) {
			next = h->idle_tick();
			tick_at = next >= 0 ? now + (next > 0 ? next : 1) : -1;
			continue;
		}
		wait = deadline > now ? deadline - now : 0;
		if (tick_at >= 0 && tick_at - now < wait)
			wait = tick_at - now;
		if (wait > INT_MAX)
			wait = INT_MAX;
		n = epoll_wait(ep, ev, nev, (int)wait);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			log_fatal("epoll_wait: %m");
		if (n == 0 && time_mono_ms() < deadline)
			continue;
		return n;
	}
}

/* srv_single_main - run a one-client-at-a-time daemon */
int
srv_single_main(int argc, char **argv, const struct srv_hooks *h)
{
	int ep, avail = 0;

	srv_init(argc, argv, h);
	if (srv.standalone) {
		struct stream *s = stream_open(0, (int)mail_cfg.ipc_timeout);

		s->wfd = 1;
		h->serve(s);
		(void)stream_flush(s);
		stream_release(s);
		return 0;
	}
	ep = srv_single_epoll();
	for (;;) {
		struct epoll_event ev[SRV_LISTEN_MAX + 1];
		struct stream *s;
		int fd = -1, n, i;

		if (srv.exit_requested || srv.master_gone ||
		    srv.use_count >= (unsigned)mail_cfg.max_use)
			break;
		if (!avail) {
			srv_report(SRV_STAT_AVAIL);
			avail = 1;
		}
		n = srv_single_wait(ep, ev, SRV_LISTEN_MAX + 1, h);
		if (n == 0) {
			log_debug("idle timeout -- exiting");
			break;
		}
		for (i = 0; i < n; i++)
			if (ev[i].data.fd == SRV_WATCH_FD)
				break;
		if (i < n) {
			srv.master_gone = 1;
			if (h->master_gone)
				h->master_gone();
			break;
		}
		for (i = 0; i < n && fd < 0; i++) {
			fd = accept4(ev[i].data.fd, NULL, NULL, SOCK_CLOEXEC);
			if (fd < 0 && errno != EAGAIN && errno != EINTR &&
			    errno != ECONNABORTED)
				log_warn("accept: %m");
		}
		if (fd < 0)
			continue;
		/* accept4() without SOCK_NONBLOCK: a blocking socket. */
		avail = 0;
		srv_report(SRV_STAT_BUSY);
		srv.use_count++;
		s = stream_open(fd, (int)mail_cfg.ipc_timeout);
		h->serve(s);
		stream_close(s);
	}
	return 0;
}
