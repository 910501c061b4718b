/*
 * NAME		message - qmgr's in-memory messages
 * DESCRIPTION	qm_load() moves a queue file into active/, reads its
 *		envelope, resolves each recipient that is not done yet and
 *		queues it by transport and destination.  As deliveries come
 *		back, each recipient becomes final for this pass: done
 *		(marked in the file - except when the last recipients are
 *		delivered together and the file is removed right away), or
 *		deferred.  When no recipient is busy
 *		any more the message is finished:
 *
 *		- all done, none bounced: the queue file (and any old defer
 *		  log) is removed;
 *		- all done, some bounced: the bounce service sends the
 *		  non-delivery notice from the bounce log, then the file goes;
 *		- some deferred: done marks are fsynced, a delay warning is
 *		  sent when due, and the file moves to deferred/ with its
 *		  modification time set to the next retry time (exponential
 *		  back-off between minimal_ and maximal_backoff_time); a
 *		  message older than maximal_queue_lifetime (for bounces:
 *		  bounce_queue_lifetime) is returned to the sender instead.
 * SECURITY	Queue files are read with the bounded qfile reader; a file
 *		that does not parse moves to corrupt/.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "mail/aipc.h"
#include "mail/bounce_log.h"
#include "mail/deliver.h"
#include "mail/dsn.h"
#include "mail/ipc.h"
#include "mail/mail_conf.h"
#include "mail/qfile.h"
#include "mail/qspare.h"
#include "mail/queue.h"
#include "mail/rec.h"
#include "mail/rewrite_clnt.h"
#include "util/events.h"
#include "util/files.h"
#include "util/log.h"
#include "util/mem.h"
#include "util/strutil.h"
#include "qmgr.h"

int qm_active_count;
int qm_stopping;
static struct qm_msg *qm_msgs;
static int qm_calls;		/* bounce/defer calls in flight */
static int qm_open(struct qm_msg *);
static int qm_notice(struct qm_msg *, const char *, int);
static struct qm_msg *qm_dirty;	/* done marks not yet fsynced */

/* qm_calls_add - count bounce and defer service calls */
void
qm_calls_add(int n)
{
	qm_calls += n;
}

/* qm_pending_calls - bounce and defer service calls in flight */
int
qm_pending_calls(void)
{
	return qm_calls;
}

/* qm_dirty_forget - take a message off the dirty list */
static void
qm_dirty_forget(struct qm_msg *m)
{
	struct qm_msg **mp;

	if (!m->on_dirty)
		return;
	for (mp = &qm_dirty; *mp; mp = &(*mp)->next_dirty) {
		if (*mp == m) {
			*mp = m->next_dirty;
			break;
		}
	}
	m->on_dirty = 0;
}

/*
 * qm_sync_marks - once per event-loop iteration: make the done marks of
 * messages that stay in the queue durable, so that not even a power loss
 * delivers to those recipients again.  Messages that finished (and were
 * removed) in the meantime need nothing.
 */
static void
qm_sync_marks(void *ctx)
{
	struct qm_msg *m;

	(void)ctx;
	while ((m = qm_dirty) != NULL) {
		int fd;

		qm_dirty = m->next_dirty;
		m->on_dirty = 0;
		if ((fd = qm_open(m)) >= 0) {
			if (fsync(fd) < 0)
				log_warn("%s: fsync: %m", m->id);
			else
				m->dirty = 0;
			close(fd);
		}
	}
}

/* qm_sync_init - install the per-iteration sync */
void
qm_sync_init(void)
{
	event_hook(qm_sync_marks, NULL);
}

/* qm_msg_free - forget a message */
static void
qm_msg_free(struct qm_msg *m)
{
	size_t i;

	qm_dirty_forget(m);
	if (m->prev)
		m->prev->next = m->next;
	else
		qm_msgs = m->next;
	if (m->next)
		m->next->prev = m->prev;
	for (i = 0; i < m->nrcpt; i++) {
		free(m->rcpts[i].addr);
		free(m->rcpts[i].orig);
		free(m->rcpts[i].final);
	}
	free(m->rcpts);
	free(m->sender);
	free(m->envid);
	free(m->filter);
	free(m);
	qm_active_count--;
	qm_scan_more();
}

/* qm_open - open the active queue file */
static int
qm_open(struct qm_msg *m)
{
	struct buf path = BUF_INIT;
	int fd;

	queue_path(&path, Q_ACTIVE, m->id);
	fd = open(path.p, O_RDWR | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		log_warn("%s: open %s: %m", m->id, path.p);
	buf_free(&path);
	return fd;
}

/* qm_mark_done - mark recipients done in the queue file; 0 or -1 */
int
qm_mark_done(struct qm_msg *m, const size_t *idx, size_t n)
{
	int fd, r = 0;
	size_t i;

	if ((fd = qm_open(m)) < 0)
		return -1;
	for (i = 0; i < n; i++) {
		if (qfile_mark_done(fd, m->rcpts[idx[i]].offset) < 0) {
			log_warn("%s: update queue file: %m", m->id);
			r = -1;
			break;
		}
	}
	close(fd);
	if (r == 0) {
		m->dirty = 1;
		if (!m->on_dirty) {
			m->on_dirty = 1;
			m->next_dirty = qm_dirty;
			qm_dirty = m;
		}
	}
	return r;
}

/*
 * qm_mark_all_done - record the delivered recipients that were not marked
 * because the message was to go at once, but it could not be removed.
 */
static void
qm_mark_all_done(struct qm_msg *m)
{
	size_t i, n = 0, *idx = xcalloc(m->nrcpt ? m->nrcpt : 1,
	    sizeof(size_t));

	for (i = 0; i < m->nrcpt; i++)
		if (m->rcpts[i].state == QR_DONE)
			idx[n++] = i;
	if (n)
		(void)qm_mark_done(m, idx, n);
	free(idx);
	m->unmarked = 0;
}

/* qm_remove_logs - remove a message's status logs */
static void
qm_remove_logs(const char *id)
{
	(void)queue_remove(Q_DEFER, id);
	(void)queue_remove(Q_BOUNCE, id);
	(void)queue_remove(Q_TRACE, id);
}

/*
 * qm_remove - the message is finished.  Logs can exist only if this pass
 * asked for an entry or an earlier pass did (a retry); a message new in
 * incoming/ has none (postsuper -r removes the logs of what it requeues).
 */
static void
qm_remove(struct qm_msg *m)
{
	if (qspare_put(Q_ACTIVE, m->id) < 0 &&
	    queue_remove(Q_ACTIVE, m->id) < 0 && errno != ENOENT) {
		log_warn("%s: remove: %m", m->id);
		if (m->unmarked)
			qm_mark_all_done(m);
	} else {
		log_info("%s: removed", m->id);
	}
	if (m->retry || m->logs)
		qm_remove_logs(m->id);
	qm_msg_free(m);
}

/* qm_backoff - seconds until the next attempt */
static long
qm_backoff(const struct qm_msg *m)
{
	long age = (long)time(NULL) - m->arrival_sec;

	if (age < qmgr_cfg.minimal_backoff_time)
		age = qmgr_cfg.minimal_backoff_time;
	if (age > qmgr_cfg.maximal_backoff_time)
		age = qmgr_cfg.maximal_backoff_time;
	return age;
}

/* qm_to_deferred - fsync, move to deferred/, set the retry time */
static void
qm_to_deferred(struct qm_msg *m)
{
	struct buf path = BUF_INIT;
	struct timeval tv[2];
	int fd;

	if (m->dirty && (fd = qm_open(m)) >= 0) {
		if (fsync(fd) < 0)
			log_warn("%s: fsync: %m", m->id);
		close(fd);
	}
	if (queue_rename(m->id, Q_ACTIVE, Q_DEFERRED) < 0) {
		if (errno != ENOENT)
			log_warn("%s: move to %s: %m", m->id, Q_DEFERRED);
	} else {
		queue_path(&path, Q_DEFERRED, m->id);
		gettimeofday(&tv[0], NULL);
		tv[1] = tv[0];
		tv[1].tv_sec += qm_backoff(m);
		if (utimes(path.p, tv) < 0)
			log_warn("%s: set retry time: %m", m->id);
	}
	buf_free(&path);
	qm_msg_free(m);
}

/* qm_mark_expired_done - mark the deferred recipients done */
static void
qm_mark_expired_done(struct qm_msg *m)
{
	size_t i, n = 0, *idx = xcalloc(m->nrcpt ? m->nrcpt : 1,
	    sizeof(size_t));

	for (i = 0; i < m->nrcpt; i++)
		if (m->rcpts[i].state == QR_DEFERRED)
			idx[n++] = i;
	if (n && qm_mark_done(m, idx, n) == 0) {
		for (i = 0; i < n; i++)
			m->rcpts[idx[i]].state = QR_DONE;
		m->deferred = 0;
	}
	free(idx);
}

/* qm_notice_done - reply from a flush or warn request */
static void
qm_notice_done(void *ctx, int status, const char *body, size_t len,
    const char *why)
{
	struct qm_msg *m = ctx;
	struct buf reason = BUF_INIT;
	int ok = bounce_reply_ok(status, body, len, why, &reason);
	int kind = m->finishing;

	qm_calls--;
	m->finishing = 0;
	if (!ok)
		log_warn("%s: %s service: %s", m->id, kind == 3 ||
		    kind == 2 ? "defer" : kind == 4 ? "trace" : "bounce",
		    buf_str(&reason));
	buf_free(&reason);
	switch (kind) {
	case 4:			/* success notices sent (or not): go on */
		qm_msg_check_done(m);
		break;
	case 2:			/* expiry flush */
		/*
		 * The expired recipients were reported: mark them done, so
		 * that a failure below cannot report them a second time.
		 * Recipients that bounced earlier get their notice too.
		 */
		if (ok)
			qm_mark_expired_done(m);
		if (ok && (m->bounced || (m->retry && queue_exists(Q_BOUNCE,
		    m->id, NULL)))) {
			if (qm_notice(m, "bounce", 1) < 0)
				qm_to_deferred(m);
			break;
		}
		/* FALLTHROUGH */
	case 1:			/* bounce flush */
		if (ok)
			qm_remove(m);
		else
			qm_to_deferred(m);
		break;
	case 3:			/* delay warning */
		if (ok) {
			int fd = qm_open(m);

			if (fd >= 0) {
				if (qfile_set_warn(fd, m->warn_offset, 0) == 0)
					m->dirty = 1;
				close(fd);
			}
		}
		qm_to_deferred(m);
		break;
	}
}

/* qm_notice - ask the bounce or defer service for a notice */
static int
qm_notice(struct qm_msg *m, const char *service, int kind)
{
	struct buf f = BUF_INIT, why = BUF_INIT, path = BUF_INIT;
	int ok;

	if (kind == 3)
		bounce_warn_frame(&f, Q_ACTIVE, m->id, m->sender, m->envid,
		    m->ret);
	/* Kinds 1, 2 and 4 all ask the service to flush its log. */
	else
		bounce_flush_frame(&f, Q_ACTIVE, m->id, m->sender, m->envid,
		    m->ret);
	buf_printf(&path, "private/%s", service);
	m->finishing = kind;
	ok = aipc_call(path.p, BOUNCE_PROTO, &f, (int)mail_cfg.ipc_timeout,
	    qm_notice_done, m, &why) != NULL;
	/* kind 4 (trace) is a flush of the trace log, like a bounce. */
	if (ok)
		qm_calls++;
	else {
		m->finishing = 0;
		log_warn("%s: %s service: %s", m->id, service, buf_str(&why));
	}
	buf_free(&f);
	buf_free(&why);
	buf_free(&path);
	return ok ? 0 : -1;
}

/*
 * qm_msg_check_done - finish the message when no recipient is busy.
 */
void
qm_msg_check_done(struct qm_msg *m)
{
	long lifetime;
	size_t i;

	if (m->busy > 0 || m->finishing)
		return;
	/* Delivery status notices for NOTIFY=SUCCESS come first. */
	if (m->traced) {
		m->traced = 0;
		if (qm_notice(m, "trace", 4) == 0)
			return;
	}
	if (m->deferred) {
		lifetime = m->sender[0] ? qmgr_cfg.maximal_queue_lifetime :
		    qmgr_cfg.bounce_queue_lifetime;
		if ((long)time(NULL) - m->arrival_sec >= lifetime) {
			/* Expired: return what is left to the sender. */
			for (i = 0; i < m->nrcpt; i++) {
				if (m->rcpts[i].state != QR_DEFERRED)
					continue;
				log_info("%s: to=<%s>, relay=none, dsn=4.4.7, "
				    "status=expired, returned to sender",
				    m->id, m->rcpts[i].final ?
				    m->rcpts[i].final : m->rcpts[i].addr);
			}
			if (qm_notice(m, "defer", 2) < 0)
				qm_to_deferred(m);
			return;
		}
		if (m->warn_time > 0 && m->warn_offset > 0 &&
		    (long)time(NULL) >= m->warn_time) {
			if (qm_notice(m, "defer", 3) == 0)
				return;
		}
		qm_to_deferred(m);
		return;
	}
	if (m->bounced || (m->retry && queue_exists(Q_BOUNCE, m->id, NULL))) {
		if (qm_notice(m, "bounce", 1) < 0)
			qm_to_deferred(m);
		return;
	}
	qm_remove(m);
}

/*
 * qm_rcpt_final - recipient i reached a final state for this pass:
 * QR_DONE or QR_DEFERRED.
 */
void
qm_rcpt_final(struct qm_msg *m, size_t i, int state)
{
	m->rcpts[i].state = state;
	if (state == QR_DEFERRED)
		m->deferred = 1;
	m->busy--;
}

/*
 * qm_fail_text - split the text of an error-class answer: a leading
 * "5.x.y " status code (as in "error:5.1.1 User unknown", Postfix's
 * error(8) convention) becomes the status, the rest the reason; else
 * 5.1.1 and the whole text.
 */
static const char *
qm_fail_text(const char *text, char *dsn, size_t dsnsize)
{
	size_t n = strcspn(text, " \t");

	if (n > 0 && n < dsnsize && text[0] == '5' && text[n] != 0) {
		memcpy(dsn, text, n);
		dsn[n] = 0;
		if (dsn_status_valid(dsn))
			return text + n + strspn(text + n, " \t");
	}
	strlcpy_trunc(dsn, "5.1.1", dsnsize);
	return text;
}

/* qm_resolve - resolve and queue recipient i */
static void
qm_resolve(struct qm_msg *m, size_t i)
{
	struct qm_rcpt *r = &m->rcpts[i];
	struct resolve_reply rr;
	struct buf why = BUF_INIT;

	resolve_reply_init(&rr);
	if (resolve_addr(m->sender, r->addr, &rr, &why) < 0) {
		qm_defer_rcpt(m, i, "none", "4.3.0", "address resolver "
		    "failure");
	} else if (rr.flags & RESOLVE_FLAG_ERROR) {
		qm_defer_rcpt(m, i, "none", "4.3.0", "address resolver "
		    "failure: table lookup error");
	} else if (rr.flags & RESOLVE_FLAG_FAIL) {
		char dsn[DSN_STATUS_MAX];
		const char *text = qm_fail_text(buf_str(&rr.nexthop), dsn,
		    sizeof(dsn));

		r->final = xstrdup(buf_str(&rr.recipient));
		qm_bounce_rcpt(m, i, "none", dsn, text);
	} else if (m->filter) {
		/* FILTER: every recipient to the content filter. */
		struct buf t = BUF_INIT;
		const char *colon = strchr(m->filter, ':');

		r->final = xstrdup(buf_str(&rr.recipient));
		buf_set(&t, m->filter, (size_t)(colon - m->filter));
		qm_enqueue(m, i, t.p, colon[1] ? colon + 1 :
		    buf_str(&rr.nexthop));
		buf_free(&t);
	} else {
		r->final = xstrdup(buf_str(&rr.recipient));
		qm_enqueue(m, i, buf_str(&rr.transport), buf_str(&rr.nexthop));
	}
	resolve_reply_free(&rr);
	buf_free(&why);
}

/*
 * qm_load - move queue file id from queue q into active/ and schedule
 * it; how: QM_LOAD_RETRY (may have been tried before), QM_LOAD_FLUSH (a
 * flush asked for it: defer_transports do not hold it back),
 * QM_LOAD_REVIVE ("postqueue -i": its dead destinations and unreachable
 * transports are tried again).  Returns 0,
 * or -1 if the file went away or is unreadable.
 */
int
qm_load(const char *q, const char *id, int how)
{
	struct qfile_env env;
	struct buf path = BUF_INIT, why = BUF_INIT;
	struct qm_msg *m;
	const char *a;
	size_t i;
	int fd;

	if (strcmp(q, Q_ACTIVE) != 0 && queue_rename(id, q, Q_ACTIVE) < 0) {
		if (errno != ENOENT)
			log_warn("%s: move to %s: %m", id, Q_ACTIVE);
		return -1;
	}
	queue_path(&path, Q_ACTIVE, id);
	fd = open(path.p, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0) {
		log_warn("%s: open %s: %m", id, path.p);
		buf_free(&path);
		return -1;
	}
	if (qfile_read_env(fd, &env, &why) < 0) {
		close(fd);
		log_warn("%s: %s -- moving to %s", id, buf_str(&why),
		    Q_CORRUPT);
		if (queue_rename(id, Q_ACTIVE, Q_CORRUPT) < 0)
			log_warn("%s: move to %s: %m", id, Q_CORRUPT);
		buf_free(&path);
		buf_free(&why);
		return -1;
	}
	close(fd);
	m = xcalloc(1, sizeof(*m));
	strlcpy_trunc(m->id, id, sizeof(m->id));
	m->sender = xstrdup(env.sender);
	m->envid = xstrdup((a = qfile_attr(&env, "dsn_envid")) ? a : "");
	m->ret = (a = qfile_attr(&env, "dsn_ret")) ? atoi(a) : 0;
	if ((a = qfile_attr(&env, "filter")) != NULL && strchr(a, ':') &&
	    a[0] != ':')
		m->filter = xstrdup(a);
	m->arrival_sec = env.arrival_sec;
	m->arrival_us = (int64_t)env.arrival_sec * 1000000 +
	    env.arrival_usec;
	m->active_us = time_epoch_us();
	m->data_offset = env.data_offset;
	m->data_size = env.data_size;
	m->warn_time = env.warn_time;
	m->warn_offset = env.warn_offset;
	m->retry = (how & QM_LOAD_RETRY) != 0;
	m->flush = (how & QM_LOAD_FLUSH) != 0;
	m->revive = (how & QM_LOAD_REVIVE) != 0;
	m->nrcpt = env.nrcpt;
	m->rcpts = xcalloc(env.nrcpt ? env.nrcpt : 1, sizeof(*m->rcpts));
	for (i = 0; i < env.nrcpt; i++) {
		m->rcpts[i].addr = env.rcpts[i].addr;
		m->rcpts[i].orig = env.rcpts[i].orig;
		m->rcpts[i].notify = env.rcpts[i].notify;
		m->rcpts[i].offset = env.rcpts[i].offset;
		m->rcpts[i].state = env.rcpts[i].done ? QR_DONE : QR_TODO;
		env.rcpts[i].addr = env.rcpts[i].orig = NULL;
	}
	m->next = qm_msgs;
	if (qm_msgs)
		qm_msgs->prev = m;
	qm_msgs = m;
	qm_active_count++;
	log_info("%s: from=<%s>, size=%ld, nrcpt=%zu (queue active)",
		    id, m->sender, m->data_size, env.nrcpt - env.ndone);
	qfile_env_free(&env);
	buf_free(&path);
	buf_free(&why);

	/* Count busy recipients first: finishing must wait for all. */
	for (i = 0; i < m->nrcpt; i++)
		if (m->rcpts[i].state == QR_TODO)
			m->busy++;
	m->busy++;			/* held while resolving */
	for (i = 0; i < m->nrcpt; i++)
		if (m->rcpts[i].state == QR_TODO)
			qm_resolve(m, i);
	m->busy--;
	qm_msg_check_done(m);
	return 0;
}
