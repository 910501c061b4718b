/*
 * NAME		qmgr - queue manager
 * DESCRIPTION	qmgr moves mail from incoming/ and (when due) deferred/
 *		into active/, decides per recipient where it goes (through
 *		trivial-rewrite), and schedules deliveries per transport and
 *		destination with concurrency and recipient limits, entirely in
 *		memory (sched.c).  It records every outcome in the queue file
 *		before the recipient can be tried again, defers with
 *		exponential back-off, returns expired mail, asks the bounce
 *		service for delivery status notifications, and removes
 *		finished messages (message.c).  At start-up it takes over
 *		active/ and repairs what dead processes left (scan.c).
 *
 *		Triggers on public/qmgr: Nqueue_id (cleanup: this file in
 *		incoming/ is ready), I (scan incoming), D (due deferred mail),
 *		A (all deferred mail), F (forget dead transports and
 *		destinations), Ssite (postqueue -s: deferred mail for a
 *		site), Qqueue_id (postqueue -i: one deferred message), W
 *		(wakeup from master: scan everything, recover).
 * SECURITY	Runs chrooted as mail_owner; a lock (pid/unix.qmgr) keeps a
 *		second qmgr off the queue while an old one finishes.  Reads
 *		queue files with the bounded reader; trusts no agent reply.
 * PARAMETERS	queue_run_delay (300s), minimal_backoff_time (300s),
 *		maximal_backoff_time (4000s), maximal_queue_lifetime (5d),
 *		bounce_queue_lifetime (5d), qmgr_message_active_limit
 *		(20000), default_destination_concurrency_limit (20),
 *		default_destination_recipient_limit (50),
 *		local_destination_concurrency_limit (2),
 *		local_destination_recipient_limit (1), default_process_limit
 *		(100), transport_retry_time (60s),
 *		initial_destination_concurrency (5),
 *		default_destination_concurrency_failed_cohort_limit (1),
 *		defer_transports (empty), and <transport>_destination_
 *		concurrency_limit / _recipient_limit / _concurrency_failed_
 *		cohort_limit and <transport>_initial_destination_concurrency
 *		for any transport.
 * DIAGNOSTICS	"QUEUEID: from=<...>, size=..., nrcpt=... (queue active)",
 *		"QUEUEID: removed", status lines for recipients it defers or
 *		bounces itself; warnings for unreadable files (moved to
 *		corrupt/) and unavailable services.
 * SEE ALSO	cleanup(8), local(8), bounce(8), doc/qmgr.md
 */
#include <string.h>

#include "mail/mail_conf.h"
#include "mail/trigger.h"
#include "server/server.h"
#include "util/events.h"
#include "util/log.h"
#include "qmgr.h"

static int qm_started;

/* qm_deferred_timer - periodic deferred queue scan */
static void
qm_deferred_timer(void *ctx)
{
	(void)ctx;
	if (!qm_stopping)
		qm_scan_deferred(0);
	event_timer(qm_deferred_timer, NULL, qmgr_cfg.queue_run_delay * 1000);
}

/* qm_trigger - requests on public/qmgr */
static void
qm_trigger(const char *buf, size_t len)
{
	size_t i;
	int incoming = 0, deferred = 0, all = 0, recover = 0;

	if (qm_stopping)
		return;
	if (!qm_started) {
		/* First wakeup: take over active/, recover, scan all. */
		qm_started = 1;
		qm_scan_active();
		recover = incoming = deferred = 1;
		event_timer(qm_deferred_timer, NULL,
		    qmgr_cfg.queue_run_delay * 1000);
	}
	for (i = 0; i < len; i++) {
		/* Requests with an argument: the rest of the line. */
		if (buf[i] == QMGR_REQ_FLUSH_SITE ||
		    buf[i] == QMGR_REQ_DELIVER_ONE ||
		    buf[i] == QMGR_REQ_NEW_ID) {
			const char *nl = memchr(buf + i, '\n', len - i);
			size_t alen = nl ? (size_t)(nl - buf - i - 1) :
			    len - i - 1;
			char arg[300];

			if (alen > 0 && alen < sizeof(arg)) {
				memcpy(arg, buf + i + 1, alen);
				arg[alen] = 0;
				if (buf[i] == QMGR_REQ_FLUSH_SITE)
					qm_scan_site(arg);
				else if (buf[i] == QMGR_REQ_NEW_ID)
					qm_scan_new(arg);
				else
					qm_scan_one(arg);
			}
			i += alen + 1;
			continue;
		}
		switch (buf[i]) {
		case QMGR_REQ_SCAN_INCOMING:
			incoming = 1;
			break;
		case QMGR_REQ_SCAN_DEFERRED:
			deferred = 1;
			break;
		case QMGR_REQ_FLUSH_DEAD:
			qm_transports_reset();
			incoming = deferred = all = 1;
			break;
		case QMGR_REQ_SCAN_ALL:
			incoming = deferred = all = 1;
			break;
		case TRIGGER_WAKEUP:
			incoming = deferred = recover = 1;
			break;
		}
	}
	if (incoming)
		qm_scan_incoming(recover, all);
	if (deferred)
		qm_scan_deferred(all);
	qm_schedule();
}

/* qm_master_gone - stop starting work; finish what is in flight */
static void
qm_master_gone(void)
{
	qm_stopping = 1;
	log_info("master went away -- finishing deliveries in progress");
}

/* qm_idle - may we exit? */
static int
qm_idle(void)
{
	return qm_inflight() == 0 && qm_pending_calls() == 0;
}

/* qm_post_jail - settle parameters, install the per-iteration sync */
static void
qm_post_jail(void)
{
	qm_params_check();
	qm_sync_init();
}

/* main - hand over to the trigger skeleton */
int
main(int argc, char **argv)
{
	static const struct srv_hooks hooks = {
		.params = qmgr_params,
		.cfg = &qmgr_cfg,
		.lock_file = "pid/unix.qmgr",
		.pre_jail = qm_read_master_cf,
		.post_jail = qm_post_jail,
		.trigger = qm_trigger,
		.master_gone = qm_master_gone,
		.idle = qm_idle,
	};

	return srv_trigger_main(argc, argv, &hooks);
}
