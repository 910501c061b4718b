/*
 * NAME		trigger - skeleton for resident daemons woken by triggers
 * DESCRIPTION	Used by pickup and qmgr.  Each connection to the service
 *		socket (or each write to a FIFO) delivers a few bytes that are
 *		passed to trigger(); master's wakeup timer arrives the same
 *		way.  The daemon does its own work on the event loop between
 *		triggers.  The process stays resident; when master goes away
 *		it calls master_gone() and exits as soon as idle() says that
 *		nothing is in flight.
 * SECURITY	A trigger is at most TRIGGER_MAX bytes; a client that sends
 *		nothing is dropped after a few seconds.
 * SEE ALSO	server(3)
 */
#include <errno.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mail/mail_conf.h"
#include "util/events.h"
#include "util/log.h"
#include "util/mem.h"
#include "util/sock.h"
#include "server.h"

#define TRIGGER_MAX	1024

static const struct srv_hooks *trig_hooks;

/* trig_client_timeout - a trigger client that never wrote */
static void
trig_client_timeout(void *ctx)
{
	int fd = (int)(long)ctx;

	event_fd_del(fd);
	close(fd);
}

/* trig_client_read - read the trigger bytes and close */
static void
trig_client_read(int fd, int mask, void *ctx)
{
	char buf[TRIGGER_MAX];
	ssize_t n;

	(void)mask;
	(void)ctx;
	n = read(fd, buf, sizeof(buf));
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	event_timer_cancel(trig_client_timeout, (void *)(long)fd);
	event_fd_del(fd);
	close(fd);
	if (n > 0)
		trig_hooks->trigger(buf, (size_t)n);
}

/* trig_accept - a trigger client connected */
static void
trig_accept(int lfd, int mask, void *ctx)
{
	(void)mask;
	(void)ctx;
	for (;;) {
		int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);

		if (fd < 0) {
			if (errno != EAGAIN && errno != EINTR &&
			    errno != ECONNABORTED)
				log_warn("accept: %m");
			return;
		}
		event_fd(fd, EV_READ, trig_client_read, NULL);
		event_timer(trig_client_timeout, (void *)(long)fd, 5000);
	}
}

/* trig_fifo - bytes written to a FIFO service */
static void
trig_fifo(int fd, int mask, void *ctx)
{
	char buf[TRIGGER_MAX];
	ssize_t n;

	(void)mask;
	(void)ctx;
	n = read(fd, buf, sizeof(buf));
	if (n > 0)
		trig_hooks->trigger(buf, (size_t)n);
}

/* trig_watch - master went away */
static void
trig_watch(int fd, int mask, void *ctx)
{
	(void)mask;
	(void)ctx;
	int i;

	event_fd_del(fd);
	for (i = 0; i < srv.listen_count; i++)
		event_fd_del(SRV_LISTEN_FD + i);
	srv.master_gone = 1;
	if (trig_hooks->master_gone)
		trig_hooks->master_gone();
}

/* srv_trigger_main - run a resident trigger-driven daemon */
int
srv_trigger_main(int argc, char **argv, const struct srv_hooks *h)
{
	struct stat st;

	trig_hooks = h;
	srv_init(argc, argv, h);
	event_init();
	if (!srv.standalone) {
		int i;

		for (i = 0; i < srv.listen_count; i++) {
			int fd = SRV_LISTEN_FD + i;

			if (fstat(fd, &st) == 0 && S_ISFIFO(st.st_mode))
				event_fd(fd, EV_READ, trig_fifo, NULL);
			else
				event_fd(fd, EV_READ, trig_accept, NULL);
		}
		event_fd(SRV_WATCH_FD, EV_READ, trig_watch, NULL);
		/* Resident: master must not start a second process. */
		srv_report(SRV_STAT_AVAIL);
	}
	/* The first wakeup is immediate: do whatever is pending. */
	h->trigger("W", 1);
	/*
	 * Tell master we started up and did work: a later abnormal exit is
	 * then a crash to restart from, not a command that cannot start.
	 */
	srv_report(SRV_STAT_BUSY);
	srv_report(SRV_STAT_AVAIL);
	for (;;) {
		event_loop(1000);
		if ((srv.master_gone || srv.exit_requested) &&
		    (h->idle == NULL || h->idle()))
			break;
	}
	return 0;
}
