/*
 * NAME		sched - qmgr's transports, destinations and deliveries
 * DESCRIPTION	Recipients are queued per transport and per destination
 *		(the next hop; for a transport whose recipient limit is 1 the
 *		destination is the recipient itself, as in Postfix, so that
 *		local_destination_concurrency_limit applies per mailbox).  A
 *		destination queue holds entries: one message and some of its
 *		recipients.  qm_schedule() starts deliveries round-robin over
 *		the destinations of each transport while the destination's
 *		concurrency window (slow start up to
 *		<transport>_destination_concurrency_limit, feedback.c) and
 *		the transport's process limit allow, with at most
 *		<transport>_destination_recipient_limit recipients each.  A
 *		destination whose next hops fail often enough is dead: its
 *		mail is deferred until the next scan of deferred/.
 *
 *		A delivery is one asynchronous call to private/<transport>
 *		(lib/mail/deliver.h).  Each recipient comes back sent (marked
 *		done in the queue file at once), bounced (logged with the
 *		bounce service, then marked done) or deferred (logged with the
 *		defer service).  A transport that cannot be reached is
 *		unavailable for transport_retry_time: its recipients are
 *		deferred.  An agent that dies or times out defers its
 *		recipients.
 * SECURITY	Agent replies are decoded strictly: one status per
 *		recipient, with a DSN code that agrees with the status.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mail/aipc.h"
#include "mail/bounce_log.h"
#include "mail/conf.h"
#include "mail/deliver.h"
#include "mail/ipc.h"
#include "mail/mail_conf.h"
#include "mail/mastercf.h"
#include "mail/qfile.h"
#include "server/server.h"
#include "util/events.h"
#include "util/log.h"
#include "util/mem.h"
#include "util/strutil.h"
#include "qmgr.h"

static struct qm_transport *qm_transports;
static void qm_dest_revive(struct qm_dest *);
static int qm_total_inflight;
static struct htable *qm_maxproc;	/* transport -> master.cf maxproc */

#define QM_UNLIMITED	1000		/* "maxproc 0": a sane ceiling */

/*
 * qm_read_master_cf - remember each unix service's process limit, so that
 * qmgr never asks a transport for more concurrent deliveries than master
 * will run agents.  Read before the jail; errors leave the defaults.
 */
void
qm_read_master_cf(void)
{
	struct mcf m;
	struct buf why = BUF_INIT;
	char *path = xasprintf("%s/master.cf", mail_cfg.config_directory);
	size_t i;

	qm_maxproc = htable_create(32);
	if (mcf_read(path, &m, &why) < 0) {
		log_warn("%s -- using default_process_limit", buf_str(&why));
	} else {
		for (i = 0; i < m.n; i++) {
			int limit = m.v[i].maxproc;

			if (strcmp(m.v[i].type, "unix") != 0)
				continue;
			if (limit < 0)
				limit = qmgr_cfg.default_process_limit;
			else if (limit == 0)
				limit = QM_UNLIMITED;
			htable_enter(qm_maxproc, m.v[i].service,
			    (void *)(long)limit);
		}
		mcf_free(&m);
	}
	free(path);
	buf_free(&why);
}

struct qm_delivery {
	struct qm_msg *msg;
	struct qm_dest *dest;
	size_t	*idx;
	size_t	 n;
	struct aipc *call;
};

#define QM_LOG_DEFER	0
#define QM_LOG_BOUNCE	1
#define QM_LOG_TRACE	2

struct qm_logcall {
	struct qm_msg *msg;
	size_t	 i;
	int	 bounce;		/* QM_LOG_* */
	char	*dsn;
	char	*reason;
};

/*
 * qm_stop_noticed - is the mail system stopping (master closed our watch
 * pipe)?  Checked when a delivery agent cannot be reached or dies: while
 * master shuts down, that is no reason to defer mail.  The recipients then
 * stay as they are in active/, where the next qmgr finds them.
 */
static int
qm_stop_noticed(void)
{
	struct pollfd pfd = {SRV_WATCH_FD, POLLIN, 0};

	if (qm_stopping || srv.master_gone)
		return 1;
	if (!srv.standalone && poll(&pfd, 1, 0) > 0) {
		qm_stopping = 1;
		return 1;
	}
	return 0;
}

/* qm_inflight - deliveries in progress */
int
qm_inflight(void)
{
	return qm_total_inflight;
}

/*
 * qm_conf_int - a per-transport integer parameter with a default; min is
 * 0 or 1
 */
static int
qm_conf_int(const char *transport, const char *suffix, int def, int min)
{
	struct buf name = BUF_INIT;
	const char *v;
	long l;
	int r = def;

	buf_printf(&name, "%s%s", transport, suffix);
	v = conf_raw(mail_conf, name.p);
	if (v && *v) {
		v = conf_get(mail_conf, name.p);
		if (parse_long(v, &l) == 0 && l >= min && l < 1000000)
			r = (int)l;
		else
			log_warn("bad parameter value: %s = %s", name.p, v);
	}
	buf_free(&name);
	return r;
}

/* qm_transport - find or create a transport */
static struct qm_transport *
qm_transport(const char *name)
{
	struct qm_transport *t;
	int is_local = strcmp(name, "local") == 0;

	for (t = qm_transports; t; t = t->next)
		if (strcmp(t->name, name) == 0)
			return t;
	t = xcalloc(1, sizeof(*t));
	t->name = xstrdup(name);
	t->dest_limit = qm_conf_int(name, "_destination_concurrency_limit",
	    is_local ? qmgr_cfg.local_destination_concurrency_limit :
	    qmgr_cfg.default_destination_concurrency_limit, 1);
	t->rcpt_limit = qm_conf_int(name, "_destination_recipient_limit",
	    is_local ? qmgr_cfg.local_destination_recipient_limit :
	    qmgr_cfg.default_destination_recipient_limit, 1);
	t->init_concurrency = qm_conf_int(name,
	    "_initial_destination_concurrency",
	    qmgr_cfg.initial_destination_concurrency, 1);
	/* 0: a destination is never declared dead (as Postfix). */
	t->cohort_limit = qm_conf_int(name,
	    "_destination_concurrency_failed_cohort_limit",
	    qmgr_cfg.default_destination_concurrency_failed_cohort_limit, 0);
	t->proc_limit = qm_maxproc && htable_locate(qm_maxproc, name) ?
	    (int)(long)htable_find(qm_maxproc, name) :
	    qmgr_cfg.default_process_limit;
	t->dests = htable_create(64);
	t->next = qm_transports;
	qm_transports = t;
	return t;
}

/* qm_transports_reset - forget dead transports (postqueue -f) */
void
qm_transports_reset(void)
{
	struct qm_transport *t;

	for (t = qm_transports; t; t = t->next) {
		t->dead_until = 0;
		free(t->dead_reason);
		t->dead_reason = NULL;
	}
}

/* qm_logcall_done - the bounce or defer service answered */
static void
qm_logcall_done(void *ctx, int status, const char *body, size_t len,
    const char *why)
{
	struct qm_logcall *lc = ctx;
	struct qm_msg *m = lc->msg;
	struct buf reason = BUF_INIT;
	int ok = bounce_reply_ok(status, body, len, why, &reason);

	qm_calls_add(-1);
	if (lc->bounce == QM_LOG_TRACE) {
		/* A success notice is best effort; the mail is delivered. */
		if (ok)
			m->traced = 1;
		else
			log_warn("%s: trace service: %s", m->id,
			    buf_str(&reason));
		m->busy--;
	} else if (lc->bounce == QM_LOG_BOUNCE) {
		if (ok && qm_mark_done(m, &lc->i, 1) == 0) {
			m->bounced = 1;
			qm_rcpt_final(m, lc->i, QR_DONE);
		} else {
			log_warn("%s: bounce service: %s -- deferring", m->id,
			    ok ? "cannot update queue file" :
			    buf_str(&reason));
			qm_rcpt_final(m, lc->i, QR_DEFERRED);
		}
	} else {
		if (!ok)
			log_warn("%s: defer service: %s", m->id,
			    buf_str(&reason));
		qm_rcpt_final(m, lc->i, QR_DEFERRED);
	}
	free(lc->dsn);
	free(lc->reason);
	free(lc);
	buf_free(&reason);
	qm_msg_check_done(m);
}

/*
 * qm_logcall - append to the bounce, defer or trace log asynchronously.
 * kind QM_LOG_TRACE records a success for a DSN notice (action given);
 * the recipient is already final, the message waits for the answer.
 */
static void
qm_logcall(struct qm_msg *m, size_t i, int kind, const char *relay,
    const char *dsn, const char *reason, const char *action)
{
	static const char *const services[] = {"private/defer",
	    "private/bounce", "private/trace"};
	struct qm_rcpt *r = &m->rcpts[i];
	struct bounce_ent e;
	struct buf f = BUF_INIT, why = BUF_INIT;
	struct qm_logcall *lc;

	memset(&e, 0, sizeof(e));
	e.recipient = r->final ? r->final : r->addr;
	e.orig_rcpt = r->orig;
	e.notify = r->notify;
	e.offset = r->offset;
	e.status = (char *)dsn;
	e.action = (char *)(kind == QM_LOG_TRACE ? action :
	    kind == QM_LOG_BOUNCE ? "failed" : "delayed");
	e.reason = (char *)reason;
	e.relay = (char *)relay;
	bounce_append_frame(&f, m->id, &e);
	m->logs = 1;
	lc = xcalloc(1, sizeof(*lc));
	lc->msg = m;
	lc->i = i;
	lc->bounce = kind;
	if (kind == QM_LOG_TRACE)
		m->busy++;
	else
		r->state = QR_LOGGING;
	if (aipc_call(services[kind], BOUNCE_PROTO, &f,
	    (int)mail_cfg.ipc_timeout, qm_logcall_done, lc, &why) == NULL) {
		log_warn("%s: %s: %s", m->id, services[kind] + 8,
		    buf_str(&why));
		free(lc);
		if (kind == QM_LOG_TRACE)
			m->busy--;
		else
			/* Without a log entry the recipient must stay. */
			qm_rcpt_final(m, i, QR_DEFERRED);
	} else {
		qm_calls_add(1);
	}
	buf_free(&f);
	buf_free(&why);
}

/* qm_log_rcpt - qmgr's own delivery status line for a recipient */
static void
qm_log_rcpt(struct qm_msg *m, size_t i, const char *relay, const char *dsn,
    const char *status, const char *reason)
{
	struct deliver_req req;
	struct deliver_rcpt rc;
	int64_t now = time_epoch_us();

	memset(&req, 0, sizeof(req));
	req.queue_id = m->id;
	req.arrival_us = m->arrival_us;
	req.active_us = m->active_us;
	req.start_us = now;
	rc.addr = m->rcpts[i].final ? m->rcpts[i].final : m->rcpts[i].addr;
	rc.orig = m->rcpts[i].orig[0] ? m->rcpts[i].orig : m->rcpts[i].addr;
	req.rcpts = &rc;
	req.nrcpt = 1;
	deliver_log(&req, 0, relay, now, now, dsn, status, reason);
}

/*
 * qm_defer_rcpt - defer recipient i with a reason (qmgr's own
 * decision, logged here).  The recipient must be busy.
 */
void
qm_defer_rcpt(struct qm_msg *m, size_t i, const char *relay,
    const char *dsn, const char *reason)
{
	qm_log_rcpt(m, i, relay, dsn, "deferred", reason);
	qm_logcall(m, i, QM_LOG_DEFER, relay, dsn, reason, NULL);
	qm_msg_check_done(m);
}

/* qm_bounce_rcpt - bounce recipient i (qmgr's own decision) */
void
qm_bounce_rcpt(struct qm_msg *m, size_t i, const char *relay,
    const char *dsn, const char *reason)
{
	if (mail_cfg.soft_bounce) {
		/* soft_bounce: what would bounce is deferred (4.X.Y). */
		char soft[16];

		snprintf(soft, sizeof(soft), "4%s", dsn + 1);
		qm_defer_rcpt(m, i, relay, soft, reason);
		return;
	}
	qm_log_rcpt(m, i, relay, dsn, "bounced", reason);
	qm_logcall(m, i, QM_LOG_BOUNCE, relay, dsn, reason, NULL);
	qm_msg_check_done(m);
}

/* qm_dest_ready - put a destination on its transport's ready list */
static void
qm_dest_ready(struct qm_dest *d)
{
	struct qm_transport *t = d->tr;

	if (d->listed || d->head == NULL)
		return;
	d->listed = 1;
	d->next_ready = NULL;
	if (t->ready_tail)
		t->ready_tail->next_ready = d;
	else
		t->ready_head = d;
	t->ready_tail = d;
}

/* qm_enqueue - queue recipient i for transport/nexthop */
void
qm_enqueue(struct qm_msg *m, size_t i, const char *transport,
    const char *nexthop)
{
	struct qm_transport *t = qm_transport(transport);
	struct qm_dest *d;
	struct qm_entry *e;
	const char *key;

	if (t->dead_until > event_now() && m->revive) {
		/* postqueue -i: this message tries the transport again. */
		t->dead_until = 0;
		free(t->dead_reason);
		t->dead_reason = NULL;
	}
	if (t->dead_until > event_now()) {
		qm_defer_rcpt(m, i, "none", "4.3.0", t->dead_reason ?
		    t->dead_reason : "mail transport unavailable");
		return;
	}
	if (*qmgr_cfg.defer_transports && !m->flush) {
		struct argv *dt = argv_split(qmgr_cfg.defer_transports,
		    SEPARATORS);
		int hit = argv_find(dt, transport) >= 0;

		argv_free(dt);
		if (hit) {
			qm_defer_rcpt(m, i, "none", "4.3.2", "deferred "
			    "transport");
			return;
		}
	}
	key = t->rcpt_limit == 1 ? m->rcpts[i].final : nexthop;
	if ((d = htable_find(t->dests, key)) == NULL) {
		d = xcalloc(1, sizeof(*d));
		d->key = xstrdup(key);
		d->tr = t;
		qm_window_init(&d->win, t->init_concurrency, t->dest_limit);
		htable_enter(t->dests, key, d);
	}
	if (d->dead_reason && m->revive)
		qm_dest_revive(d);
	if (d->dead_reason) {
		struct buf why = BUF_INIT;

		buf_printf(&why, "delivery temporarily suspended: %s",
		    d->dead_reason);
		qm_defer_rcpt(m, i, "none", "4.4.1", why.p);
		buf_free(&why);
		return;
	}
	e = d->tail;
	if (e == NULL || e->msg != m || strcmp(e->nexthop, nexthop) != 0) {
		e = xcalloc(1, sizeof(*e));
		e->msg = m;
		e->nexthop = xstrdup(nexthop);
		if (d->tail)
			d->tail->next = e;
		else
			d->head = e;
		d->tail = e;
	}
	if (e->n == e->cap) {
		e->cap = e->cap ? e->cap * 2 : 4;
		e->idx = xreallocarray(e->idx, e->cap, sizeof(*e->idx));
	}
	e->idx[e->n++] = i;
	m->rcpts[i].state = QR_QUEUED;
	qm_dest_ready(d);
	qm_schedule_soon();
}

/* qm_dest_gc - drop an idle, empty destination */
static void
qm_dest_gc(struct qm_dest *d)
{
	if (d->head || d->inflight || d->listed || d->dead_reason)
		return;
	htable_delete(d->tr->dests, d->key, NULL);
	free(d->key);
	free(d);
}

/*
 * qm_dest_dead - the destination does not answer: defer what waits
 * for it, and whatever comes for it until the next deferred-queue scan.
 */
static void
qm_dest_dead(struct qm_dest *d, const char *reason)
{
	struct buf why = BUF_INIT;
	struct qm_entry *e;

	free(d->dead_reason);
	d->dead_reason = xstrdup(reason);
	log_info("%s: destination %s is not responding: %s", d->tr->name,
	    d->key, reason);
	buf_printf(&why, "delivery temporarily suspended: %s", reason);
	while ((e = d->head) != NULL) {
		size_t k;

		d->head = e->next;
		for (k = 0; k < e->n; k++)
			qm_defer_rcpt(e->msg, e->idx[k], "none", "4.4.1",
			    why.p);
		free(e->nexthop);
		free(e->idx);
		free(e);
	}
	d->tail = NULL;
	buf_free(&why);
}

/*
 * qm_feedback - slow start and dead destinations (feedback.c): a
 * delivery reached the next hop unless every recipient came back with a
 * hop failure.  A dead destination defers what waits for it.
 */
static void
qm_feedback(struct qm_dest *d, const struct deliver_result *res, size_t n)
{
	struct qm_transport *t = d->tr;
	size_t k;
	int hop_failed = n > 0;

	for (k = 0; k < n; k++)
		if (!res[k].hop_failed)
			hop_failed = 0;
	/* d->inflight no longer counts this delivery: add it back. */
	if (qm_window_feedback(&d->win, !hop_failed, d->inflight + 1,
	    t->init_concurrency, t->dest_limit, t->cohort_limit) &&
	    d->dead_reason == NULL)
		qm_dest_dead(d, res[0].reason.len ? res[0].reason.p :
		    "no usable next hop");
}

/* qm_dest_revive - a dead destination may be tried again */
static void
qm_dest_revive(struct qm_dest *d)
{
	free(d->dead_reason);
	d->dead_reason = NULL;
	qm_window_revive(&d->win, d->inflight, d->tr->init_concurrency,
	    d->tr->dest_limit);
}

/* qm_revive_one - htable walker: revive, remember idle destinations */
static void
qm_revive_one(struct hnode *hn, void *ctx)
{
	struct qm_dest *d = hn->value;
	struct qm_dest **idle = ctx;

	if (d->dead_reason) {
		qm_dest_revive(d);
		if (d->head == NULL && d->inflight == 0 && !d->listed) {
			/* Nothing for it: forget it after the walk. */
			d->next_ready = *idle;
			*idle = d;
		}
	}
}

/* qm_dests_revive - try dead destinations again (queue scan, flush) */
void
qm_dests_revive(void)
{
	struct qm_transport *t;

	for (t = qm_transports; t; t = t->next) {
		struct qm_dest *idle = NULL, *d;

		htable_walk(t->dests, qm_revive_one, &idle);
		while ((d = idle) != NULL) {
			idle = d->next_ready;
			d->next_ready = NULL;
			qm_dest_gc(d);
		}
	}
}

/* qm_any_notify_success - does one of these want a success notice? */
static int
qm_any_notify_success(const struct qm_msg *m, const size_t *idx, size_t n)
{
	size_t k;

	for (k = 0; k < n; k++)
		if (m->rcpts[idx[k]].notify & DSN_NOTIFY_SUCCESS)
			return 1;
	return 0;
}

/* qm_delivery_result - the agent answered (or failed) */
static void
qm_delivery_done(void *ctx, int status, const char *body, size_t len,
    const char *why)
{
	struct qm_delivery *dl = ctx;
	struct qm_msg *m = dl->msg;
	struct qm_dest *d = dl->dest;
	struct deliver_result *res = deliver_results_new(dl->n);
	struct buf err = BUF_INIT;
	size_t k, ndone = 0, *done = xcalloc(dl->n, sizeof(size_t));
	int ok;

	d->inflight--;
	d->tr->inflight--;
	qm_total_inflight--;
	ok = status == 0 && deliver_reply_decode(body, len, res, dl->n,
	    &err) == 0;
	if (!ok && qm_stop_noticed()) {
		/* Stopping: leave these recipients to the next qmgr. */
		log_info("%s: delivery interrupted by shutdown", m->id);
		deliver_results_free(res, dl->n);
		buf_free(&err);
		free(done);
		free(dl->idx);
		free(dl);
		return;
	}
	if (!ok) {
		log_warn("%s: %s delivery agent: %s", m->id, d->tr->name,
		    status ? why : buf_str(&err));
		for (k = 0; k < dl->n; k++)
			deliver_result_set(&res[k], DEL_STAT_DEFER, "4.3.0",
			    "unknown mail transport error");
	}
	if (ok)
		qm_feedback(d, res, dl->n);
	/* Delivered recipients: one update of the queue file. */
	for (k = 0; k < dl->n; k++) {
		if (res[k].status == DEL_STAT_OK)
			done[ndone++] = dl->idx[k];
		else if (res[k].status == DEL_STAT_BOUNCE &&
		    mail_cfg.soft_bounce) {
			/* soft_bounce: keep it, as a 4.X.Y deferral. */
			res[k].status = DEL_STAT_DEFER;
			res[k].dsn[0] = '4';
		}
	}
	/*
	 * When these were the last recipients and every one is delivered,
	 * with nothing to notify, the file is removed at once: marking
	 * them done first would only be overwritten by the unlink.
	 */
	if (ndone == dl->n && m->busy == (int)ndone && !m->retry &&
	    !m->deferred && !m->bounced && !m->logs && !m->traced &&
	    !m->finishing &&
	    !qm_any_notify_success(m, done, ndone)) {
		m->unmarked = 1;
		for (k = 0; k < ndone; k++)
			qm_rcpt_final(m, done[k], QR_DONE);
	} else if (ndone && qm_mark_done(m, done, ndone) < 0) {
		/* Could not record it: they may be delivered again. */
		for (k = 0; k < ndone; k++)
			qm_rcpt_final(m, done[k], QR_DEFERRED);
		ndone = 0;
	} else {
		for (k = 0; k < ndone; k++)
			qm_rcpt_final(m, done[k], QR_DONE);
		/* NOTIFY=SUCCESS: a delivery status notice, if due. */
		for (k = 0; k < dl->n; k++) {
			size_t i = dl->idx[k];

			if (res[k].status == DEL_STAT_OK &&
			    (m->rcpts[i].notify & DSN_NOTIFY_SUCCESS) &&
			    res[k].action[0])
				qm_logcall(m, i, QM_LOG_TRACE,
				    res[k].relay.len ? res[k].relay.p :
				    d->tr->name, res[k].dsn,
				    buf_str(&res[k].reason), res[k].action);
		}
	}
	for (k = 0; k < dl->n; k++) {
		size_t i = dl->idx[k];

		if (res[k].status == DEL_STAT_OK)
			continue;
		if (!ok)
			qm_log_rcpt(m, i, d->tr->name, res[k].dsn, "deferred",
			    buf_str(&res[k].reason));
		qm_logcall(m, i, res[k].status == DEL_STAT_BOUNCE ?
		    QM_LOG_BOUNCE : QM_LOG_DEFER,
		    res[k].relay.len ? res[k].relay.p : d->tr->name,
		    res[k].dsn, buf_str(&res[k].reason), NULL);
	}
	deliver_results_free(res, dl->n);
	buf_free(&err);
	free(done);
	free(dl->idx);
	free(dl);
	qm_dest_ready(d);
	qm_dest_gc(d);
	qm_msg_check_done(m);
	qm_schedule_soon();
}

/* qm_transport_dead - the transport cannot be reached */
static void
qm_transport_dead(struct qm_transport *t, const char *why)
{
	struct qm_dest *d;

	log_warn("transport %s: %s", t->name, why);
	t->dead_until = event_now() + qmgr_cfg.transport_retry_time * 1000;
	free(t->dead_reason);
	t->dead_reason = xstrdup("mail transport unavailable");
	/* Everything queued for it is deferred. */
	while ((d = t->ready_head) != NULL) {
		struct qm_entry *e;

		t->ready_head = d->next_ready;
		d->listed = 0;
		while ((e = d->head) != NULL) {
			size_t k;

			d->head = e->next;
			for (k = 0; k < e->n; k++)
				qm_defer_rcpt(e->msg, e->idx[k], "none",
				    "4.3.0", t->dead_reason);
			free(e->nexthop);
			free(e->idx);
			free(e);
		}
		d->tail = NULL;
		qm_dest_gc(d);
	}
	t->ready_tail = NULL;
}

/* qm_dispatch - start one delivery from destination d */
static void
qm_dispatch(struct qm_dest *d)
{
	struct qm_transport *t = d->tr;
	struct qm_entry *e = d->head;
	struct qm_delivery *dl;
	struct deliver_req req;
	struct buf f = BUF_INIT, why = BUF_INIT, path = BUF_INIT;
	size_t k, n = e->n < (size_t)t->rcpt_limit ? e->n :
	    (size_t)t->rcpt_limit;

	dl = xcalloc(1, sizeof(*dl));
	dl->msg = e->msg;
	dl->dest = d;
	dl->n = n;
	dl->idx = xmallocarray(n, sizeof(size_t));
	memcpy(dl->idx, e->idx, n * sizeof(size_t));

	memset(&req, 0, sizeof(req));
	req.queue_name = "active";
	req.queue_id = e->msg->id;
	req.data_offset = e->msg->data_offset;
	req.data_size = e->msg->data_size;
	req.nexthop = e->nexthop;
	req.sender = e->msg->sender;
	req.envid = e->msg->envid;
	req.ret = e->msg->ret;
	req.flags = e->msg->retry ? DEL_FLAG_RETRY : 0;
	req.arrival_us = e->msg->arrival_us;
	req.active_us = e->msg->active_us;
	req.dispatch_us = time_epoch_us();
	req.rcpts = xcalloc(n, sizeof(*req.rcpts));
	req.nrcpt = n;
	for (k = 0; k < n; k++) {
		struct qm_rcpt *r = &e->msg->rcpts[dl->idx[k]];

		req.rcpts[k].addr = r->final;
		req.rcpts[k].orig = r->orig[0] ? r->orig : r->addr;
		req.rcpts[k].notify = r->notify;
		req.rcpts[k].offset = r->offset;
	}
	deliver_req_encode(&req, &f);
	free(req.rcpts);

	/* Take the recipients off the queue. */
	if (n == e->n) {
		d->head = e->next;
		if (d->head == NULL)
			d->tail = NULL;
		free(e->nexthop);
		free(e->idx);
		free(e);
	} else {
		memmove(e->idx, e->idx + n, (e->n - n) * sizeof(size_t));
		e->n -= n;
	}
	for (k = 0; k < n; k++)
		dl->msg->rcpts[dl->idx[k]].state = QR_INFLIGHT;

	buf_printf(&path, "private/%s", t->name);
	dl->call = aipc_call(path.p, DELIVER_PROTO, &f, (int)
	    mail_cfg.daemon_timeout, qm_delivery_done, dl, &why);
	if (dl->call == NULL && qm_stop_noticed()) {
		/* Stopping: these recipients wait in active/ for next time. */
		free(dl->idx);
		free(dl);
	} else if (dl->call == NULL) {
		struct qm_msg *m = dl->msg;

		for (k = 0; k < n; k++)
			qm_defer_rcpt(m, dl->idx[k], "none", "4.3.0",
			    "mail transport unavailable");
		free(dl->idx);
		free(dl);
		qm_transport_dead(t, buf_str(&why));
	} else {
		d->inflight++;
		t->inflight++;
		qm_total_inflight++;
	}
	buf_free(&f);
	buf_free(&why);
	buf_free(&path);
}

/*
 * qm_schedule - start whatever deliveries the limits allow: passes over
 * each transport's ready destinations, one delivery per destination per
 * pass, until nothing more can start.
 */
void
qm_schedule(void)
{
	struct qm_transport *t;

	if (qm_stopping)
		return;
	for (t = qm_transports; t; t = t->next) {
		/* cppcheck-suppress uninitvar ; dp is set before its use */
		struct qm_dest *d, *next, **dp;
		int progress;

		do {
			progress = 0;
			for (d = t->ready_head; d && t->inflight <
			    t->proc_limit; d = next) {
				next = d->next_ready;
				if (d->head == NULL || d->inflight >=
				    qm_window_allowed(&d->win))
					continue;
				qm_dispatch(d);
				progress = 1;
				if (t->dead_until > event_now())
					break;
			}
		} while (progress && t->inflight < t->proc_limit &&
		    t->dead_until <= event_now());
		/* Drop destinations that have nothing queued. */
		t->ready_tail = NULL;
		for (dp = &t->ready_head; (d = *dp) != NULL;) {
			if (d->head == NULL) {
				*dp = d->next_ready;
				d->listed = 0;
				qm_dest_gc(d);
				continue;
			}
			t->ready_tail = d;
			dp = &d->next_ready;
		}
	}
}

/* qm_schedule_timer - deferred scheduling */
static void
qm_schedule_timer(void *ctx)
{
	(void)ctx;
	qm_schedule();
}

/* qm_schedule_soon - schedule once the current event is handled */
void
qm_schedule_soon(void)
{
	if (!event_timer_pending(qm_schedule_timer, NULL))
		event_timer(qm_schedule_timer, NULL, 0);
}
