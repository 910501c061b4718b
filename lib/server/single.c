/*
 * NAME		single - skeleton for daemons that serve one client at a time
 * DESCRIPTION	The process reports itself available, waits for a
 *		connection (or for max_idle seconds, or for master to go
 *		away), accepts it, reports busy and calls serve() with a
 *		blocking stream whose deadline is ipc_timeout.  It exits after
 *		max_use clients.  Several idle processes may wait on the same
 *		socket; the one that wins accept() serves.  While it waits,
 *		the optional idle_tick hook is called when it asks to be
 *		(smtp(8) closes an idle cached connection that way); the
 *		max_idle time counts from the start of the wait regardless.
 * SEE ALSO	server(3), multi(3), trigger(3)
 */
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include "mail/mail_conf.h"
#include "util/events.h"
#include "util/log.h"
#include "util/sock.h"
#include "server.h"

/*
 * srv_single_wait - poll for a client or master's exit until max_idle has
 * passed, calling the idle_tick hook when it asked to be called.  Returns
 * what poll() returned last.
 */
static int
srv_single_wait(struct pollfd *pfd, nfds_t nfd, const struct srv_hooks *h)
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
		n = poll(pfd, nfd, (int)wait);
		if (n < 0 && errno == EINTR)
			continue;
		if (n == 0 && time_mono_ms() < deadline)
			continue;
		return n;
	}
}

/* srv_single_main - run a one-client-at-a-time daemon */
int
srv_single_main(int argc, char **argv, const struct srv_hooks *h)
{
	srv_init(argc, argv, h);
	if (srv.standalone) {
		struct stream *s = stream_open(0, (int)mail_cfg.ipc_timeout);

		s->wfd = 1;
		h->serve(s);
		(void)stream_flush(s);
		stream_release(s);
		return 0;
	}
	for (;;) {
		struct pollfd pfd[SRV_LISTEN_MAX + 1];
		struct stream *s;
		int fd = -1, n, i;

		if (srv.exit_requested || srv.master_gone ||
		    srv.use_count >= (unsigned)mail_cfg.max_use)
			break;
		srv_report(SRV_STAT_AVAIL);
		pfd[0].fd = SRV_WATCH_FD;
		pfd[0].events = POLLIN;
		for (i = 0; i < srv.listen_count; i++) {
			pfd[i + 1].fd = SRV_LISTEN_FD + i;
			pfd[i + 1].events = POLLIN;
		}
		n = srv_single_wait(pfd, (nfds_t)srv.listen_count + 1, h);
		if (n < 0)
			log_fatal("poll: %m");
		if (n == 0) {
			log_debug("idle timeout -- exiting");
			break;
		}
		if (pfd[0].revents) {
			srv.master_gone = 1;
			if (h->master_gone)
				h->master_gone();
			break;
		}
		for (i = 0; i < srv.listen_count; i++) {
			if (!(pfd[i + 1].revents & POLLIN))
				continue;
			fd = accept4(SRV_LISTEN_FD + i, NULL, NULL,
			    SOCK_CLOEXEC);
			if (fd >= 0 || (errno != EAGAIN && errno != EINTR &&
			    errno != ECONNABORTED))
				break;
		}
		if (fd < 0) {
			if (i < srv.listen_count && errno != EAGAIN &&
			    errno != EINTR && errno != ECONNABORTED)
				log_warn("accept: %m");
			continue;
		}
		sock_nonblock(fd, 0);
		srv_report(SRV_STAT_BUSY);
		srv.use_count++;
		s = stream_open(fd, (int)mail_cfg.ipc_timeout);
		h->serve(s);
		stream_close(s);
	}
	return 0;
}
