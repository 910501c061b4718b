/*
 * NAME		multi - skeleton for daemons that serve many clients at once
 * DESCRIPTION	The listening socket is on the event loop; each accepted
 *		connection is handed to accept(), which owns it and calls
 *		srv_multi_client_done() when it is finished with it.  The
 *		process stays "available" to master for as long as it listens:
 *		one process takes every client, and master starts another only
 *		when this one stops listening (max_use reached, or exiting).
 *		Keeping clients together is what lets cleanup commit many
 *		messages with one fsync; it also means a multi-client daemon
 *		must never block for long (every lookup has a timeout).
 *		Reporting "busy" around each accept, as this skeleton once
 *		did, raced with master: a connection that arrived between the
 *		two reports made master start a second process, and two
 *		cleanup processes cost much more CPU than one (they contend
 *		for the incoming/ directory and their fsyncs no longer
 *		group).  Busy-then-available is reported once, at the first
 *		client, so that master knows the process did work (a later
 *		crash is then restarted, not "bad command startup").  The
 *		process exits after max_idle seconds without clients, after
 *		max_use clients, or when master goes away, once its clients
 *		are done and idle() agrees.
 * SEE ALSO	server(3)
 */
#include <errno.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include "mail/mail_conf.h"
#include "util/events.h"
#include "util/log.h"
#include "util/sock.h"
#include "server.h"

static const struct srv_hooks *multi_hooks;
static unsigned multi_clients;
static int multi_listening;

static void multi_idle_timeout(void *);

/* multi_can_exit - no clients and the daemon agrees */
static int
multi_can_exit(void)
{
	return multi_clients == 0 &&
	    (multi_hooks->idle == NULL || multi_hooks->idle());
}

/* multi_stop_listening - no more new clients; tell master */
static void
multi_stop_listening(void)
{
	int i;

	if (multi_listening) {
		for (i = 0; i < srv.listen_count; i++)
			event_fd_del(SRV_LISTEN_FD + i);
		multi_listening = 0;
		/* No longer available: master starts a successor. */
		srv_report(SRV_STAT_BUSY);
	}
}

/*
 * srv_multi_stop_accepting - take no new clients from now on (master
 * starts a successor for them) and exit once the current ones are done:
 * proxymap when a table changed, so that a client that reconnects is
 * never accepted by this process again.
 */
void
srv_multi_stop_accepting(void)
{
	srv_request_exit();
	multi_stop_listening();
}

/* multi_accept - accept every pending connection */
static void
multi_accept(int lfd, int mask, void *ctx)
{
	(void)mask;
	(void)ctx;
	for (;;) {
		int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);

		if (fd < 0) {
			if (errno != EAGAIN && errno != EINTR &&
			    errno != ECONNABORTED)
				log_warn("accept: %m");
			break;
		}
		if (srv.use_count++ == 0) {
			/* "Did work" for master; still available. */
			srv_report(SRV_STAT_BUSY);
			srv_report(SRV_STAT_AVAIL);
		}
		srv_multi_client_busy();
		multi_hooks->accept(fd);
		if (srv.use_count >= (unsigned)mail_cfg.max_use) {
			multi_stop_listening();
			return;
		}
	}
}

/* srv_multi_client_busy - one more client (called by the skeleton) */
void
srv_multi_client_busy(void)
{
	if (multi_clients++ == 0)
		event_timer_cancel(multi_idle_timeout, NULL);
}

/* srv_multi_client_done - the daemon finished with a client */
void
srv_multi_client_done(void)
{
	if (multi_clients == 0)
		log_panic("srv_multi_client_done: no clients");
	if (--multi_clients == 0)
		event_timer(multi_idle_timeout, NULL,
		    (int64_t)mail_cfg.max_idle * 1000);
}

/* multi_idle_timeout - no clients for max_idle seconds */
static void
multi_idle_timeout(void *ctx)
{
	(void)ctx;
	if (multi_clients == 0) {
		log_debug("idle timeout -- exiting");
		exit(0);
	}
}

/* multi_watch - master went away */
static void
multi_watch(int fd, int mask, void *ctx)
{
	(void)mask;
	(void)ctx;
	event_fd_del(fd);
	srv.master_gone = 1;
	multi_stop_listening();
	if (multi_hooks->master_gone)
		multi_hooks->master_gone();
}

/* srv_multi_main - run a many-clients-per-process daemon */
int
srv_multi_main(int argc, char **argv, const struct srv_hooks *h)
{
	multi_hooks = h;
	srv_init(argc, argv, h);
	event_init();
	if (srv.standalone) {
		srv_multi_client_busy();
		h->accept(0);
	} else {
		int i;

		for (i = 0; i < srv.listen_count; i++)
			event_fd(SRV_LISTEN_FD + i, EV_READ, multi_accept,
			    NULL);
		multi_listening = 1;
		event_fd(SRV_WATCH_FD, EV_READ, multi_watch, NULL);
		srv_report(SRV_STAT_AVAIL);
		event_timer(multi_idle_timeout, NULL,
		    (int64_t)mail_cfg.max_idle * 1000);
	}
	for (;;) {
		event_loop(1000);
		if (srv.exit_requested)
			multi_stop_listening();
		if ((srv.master_gone || srv.exit_requested || !multi_listening ||
		    srv.standalone) && multi_can_exit())
			break;
	}
	return 0;
}
