/*
 * NAME		single - skeleton for daemons that serve one client at a time
 * DESCRIPTION	The process reports itself available, waits for a
 *		connection (or for max_idle seconds, or for master to go
 *		away), accepts it, reports busy and calls serve() with a
 *		blocking stream whose deadline is ipc_timeout.  It exits after
 *		max_use clients.  Several idle processes may wait on the same
 *		socket; the one that wins accept() serves.
 * SEE ALSO	server(3), multi(3), trigger(3)
 */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include "mail/mail_conf.h"
#include "util/log.h"
#include "util/sock.h"
#include "server.h"

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
		n = poll(pfd, (nfds_t)srv.listen_count + 1,
		    (int)mail_cfg.max_idle * 1000);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			log_fatal("poll: %m");
		}
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
