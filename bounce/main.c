/*
 * NAME		bounce - delivery status logs and notifications
 * SYNOPSIS	bounce [generic daemon options]
 * DESCRIPTION	master(8) runs this program under three service names,
 *		bounce, defer and trace; the service name is the queue
 *		directory that holds its logs, one per message, named by
 *		queue ID (see bounce_log(3)).  Each connection carries one
 *		request and gets one reply (int status 0 or -1, str reason):
 *
 *		append	add one recipient's status to the message's log,
 *			with one write(2) on a file opened for appending.
 *		flush	send the notice the log calls for to the sender:
 *			a non-delivery notification (bounce), the same after
 *			the queue lifetime ran out (defer) or a delivery
 *			report (trace), then remove the log.
 *		warn	send a delay warning from the defer log, which
 *			stays.
 *
 *		Notices are RFC 3464 multipart/report messages composed by
 *		dsn(3) and handed to cleanup(8) with the null sender.  A
 *		message that is itself a notice (null sender) never gets
 *		one: its failures go to $2bounce_notice_recipient when
 *		notify_classes has "2bounce", else they are discarded; a
 *		failed postmaster notification is always discarded.  With
 *		"bounce" or "delay" in notify_classes the postmaster gets a
 *		copy (headers only).
 * SECURITY	Runs as mail_owner, chrooted to the queue directory.  It
 *		trusts neither the requests (every attribute is bounded and
 *		checked; queue names and IDs are validated before they form
 *		paths) nor the logs and queue files it reads (bounded by
 *		bounce_log(3), qfile(3) and dsn(3)).
 * PARAMETERS	bounce_size_limit (50000), notify_classes (resource,
 *		software), bounce_notice_recipient (postmaster),
 *		2bounce_notice_recipient (postmaster), delay_notice_recipient
 *		(postmaster), maximal_queue_lifetime (5d), delay_warning_time
 *		(0h); and the global myhostname, empty_address_recipient,
 *		double_bounce_sender, myorigin, hash_queue_names,
 *		hash_queue_depth, ipc_timeout.
 * DIAGNOSTICS	"QUEUEID: sender non-delivery notification: NEWID" and the
 *		like for each notice; warnings for bad requests and for
 *		logs or queue files that cannot be read or written.  Exit
 *		status 0, or 1 on a fatal error.
 * SEE ALSO	qmgr(8), cleanup(8), showq(8), doc/bounce.md, doc/ipc.md
 */
#include <stdint.h>
#include <string.h>
#include <time.h>

#include "mail/bounce_log.h"
#include "mail/ipc.h"
#include "server/server.h"
#include "util/log.h"
#include "bounce.h"

struct bounce_cfg bounce_cfg;
const char *bounce_queue;

/* bounce_pre_jail - load time zone data while /etc is still visible */
static void
bounce_pre_jail(void)
{
	time_t now = time(NULL);
	struct tm tm;

	tzset();
	(void)localtime_r(&now, &tm);
}

/* bounce_post_jail - the service name selects the log queue */
static void
bounce_post_jail(void)
{
	static const char *const services[] = {"bounce", "defer", "trace",
	    NULL};
	int i;

	for (i = 0; services[i]; i++)
		if (strcmp(srv.service, services[i]) == 0)
			bounce_queue = services[i];
	if (bounce_queue == NULL)
		log_fatal("unsupported service name: %s (want bounce, defer "
		    "or trace)", srv.service);
}

/* bounce_serve - one connection: hello, one request, one reply */
static void
bounce_serve(struct stream *s)
{
	struct buf frame = BUF_INIT, req = BUF_INIT, why = BUF_INIT;
	int status = -1, r;

	ipc_hello(&frame, BOUNCE_PROTO, 1);
	if (ipc_send(s, &frame) < 0) {
		log_warn("write hello: %s", stream_strerror(s));
		goto out;
	}
	if ((r = ipc_read(s, &frame, BOUNCE_REQ_MAX)) < 0) {
		if (r == -2)
			log_warn("request too long");
		else if (!(s->flags & STREAM_EOF))
			log_warn("read request: %s", stream_strerror(s));
		goto out;
	}
	if (ipc_peek_str(frame.p, frame.len, "request", &req,
	    BOUNCE_NAME_MAX) < 0)
		buf_sets(&why, "malformed request: no request attribute");
	else if (strcmp(buf_str(&req), "append") == 0)
		status = bounce_append(frame.p, frame.len, &why);
	else if (strcmp(buf_str(&req), "flush") == 0)
		status = bounce_notify(BOUNCE_FLUSH, frame.p, frame.len, &why);
	else if (strcmp(buf_str(&req), "warn") == 0)
		status = bounce_notify(BOUNCE_WARN, frame.p, frame.len, &why);
	else
		buf_sets(&why, "unknown request");
	if (status < 0)
		log_warn("%s", buf_str(&why));
	/* Clients read at most 1024 bytes of reason. */
	if (why.len > 1000)
		buf_truncate(&why, 1000);
	ipc_begin(&frame);
	ipc_put_int(&frame, "status", status < 0 ? -1 : 0);
	ipc_put_str(&frame, "reason", status < 0 ? buf_str(&why) : "");
	ipc_end(&frame);
	if (ipc_send(s, &frame) < 0)
		log_warn("write reply: %s", stream_strerror(s));
out:
	buf_free(&frame);
	buf_free(&req);
	buf_free(&why);
}

/* main - hand the hooks to the one-client skeleton */
int
main(int argc, char **argv)
{
	static const struct srv_hooks h = {
		.params = bounce_params,
		.cfg = &bounce_cfg,
		.pre_jail = bounce_pre_jail,
		.post_jail = bounce_post_jail,
		.serve = bounce_serve,
	};

	return srv_single_main(argc, argv, &h);
}
