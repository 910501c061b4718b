/*
 * NAME		scan - qmgr's queue scans and crash recovery
 * DESCRIPTION	cleanup names each file it makes ready ("N" trigger), which
 *		is taken without reading incoming/; incoming/ is scanned on
 *		a plain "I" trigger, on each wakeup and at start-up;
 *		deferred/ every queue_run_delay (a file is due when its
 *		modification time has passed; "postqueue -f" takes all);
 *		active/ once at start-up: what is there was being worked on
 *		when the previous qmgr stopped, so its deliveries are marked
 *		as retries (delivery agents then check for an earlier copy).
 *		Loading stops at qmgr_message_active_limit and resumes as
 *		messages finish.
 *
 *		Recovery (at start-up and on each wakeup): a file in incoming/
 *		that is not ready (no owner execute bit) and not locked by a
 *		cleanup process was left by a process that died.  If its
 *		maildrop copy still exists, pickup will send it again and it
 *		is left alone.  Otherwise, if it is complete (the reader finds
 *		the end record), cleanup died after making it durable and
 *		after removing the maildrop copy - the message exists only
 *		here, so it is made ready.  An incomplete one older than an
 *		hour was never acknowledged and is removed.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "mail/mail_conf.h"
#include "mail/qfile.h"
#include "mail/qspare.h"
#include "mail/queue.h"
#include "util/argv.h"
#include "util/events.h"
#include "util/files.h"
#include "util/htable.h"
#include "util/log.h"
#include "util/mem.h"
#include "util/strutil.h"
#include "qmgr.h"

#define RECOVER_AGE	3600

struct scan_item {
	char	 id[QID_MAX];
	const char *queue;
	int	 how;
};

static struct scan_item *backlog;
static size_t backlog_n, backlog_next, backlog_cap;
static struct htable *backlog_ids;	/* id -> index + 1, waiting ones */

/* qm_walk - call fn for every queue file name in a (hashed) queue */
static void
qm_walk(const char *dir, int depth, void (*fn)(const char *, const char *,
    void *), void *ctx)
{
	DIR *d;
	struct dirent *de;
	struct argv subdirs;
	size_t i;

	if ((d = opendir(dir)) == NULL) {
		if (errno != ENOENT)
			log_warn("open %s: %m", dir);
		return;
	}
	argv_init(&subdirs);
	while ((de = readdir(d)) != NULL) {
		const char *n = de->d_name;

		if (n[0] == '.')
			continue;
		if (n[1] == 0 && depth < 4) {
			argv_addf(&subdirs, "%s/%s", dir, n);
			continue;
		}
		if (qid_valid(n, strlen(n)))
			fn(dir, n, ctx);
	}
	closedir(d);
	for (i = 0; i < subdirs.n; i++)
		qm_walk(subdirs.v[i], depth + 1, fn, ctx);
	argv_clear(&subdirs);
}

/* qm_backlog_add - remember a file to load (once) */
static void
qm_backlog_add(const char *queue, const char *id, int how)
{
	uintptr_t at;

	if (backlog_ids == NULL)
		backlog_ids = htable_create(64);
	if ((at = (uintptr_t)htable_find(backlog_ids, id)) != 0) {
		/* A flush also releases what was already waiting. */
		backlog[at - 1].how |= how & (QM_LOAD_FLUSH | QM_LOAD_REVIVE);
		return;
	}
	if (backlog_n == backlog_cap) {
		backlog_cap = backlog_cap ? 2 * backlog_cap : 64;
		backlog = xreallocarray(backlog, backlog_cap,
		    sizeof(*backlog));
	}
	strlcpy_trunc(backlog[backlog_n].id, id, QID_MAX);
	backlog[backlog_n].queue = queue;
	backlog[backlog_n].how = how;
	backlog_n++;
	htable_enter(backlog_ids, backlog[backlog_n - 1].id,
	    (void *)(uintptr_t)backlog_n);
}

/* qm_load_backlog - load what the limit allows */
static void
qm_load_backlog(void)
{
	while (backlog_next < backlog_n && !qm_stopping &&
	    qm_active_count < qmgr_cfg.qmgr_message_active_limit) {
		struct scan_item it = backlog[backlog_next++];

		(void)htable_delete(backlog_ids, it.id, NULL);
		(void)qm_load(it.queue, it.id, it.how);
	}
	if (backlog_next >= backlog_n) {
		free(backlog);
		backlog = NULL;
		backlog_n = backlog_next = backlog_cap = 0;
	}
}

/* qm_recover - one not-ready file in incoming/ */
static void
qm_recover(const char *path, const char *id)
{
	struct qfile_env env;
	struct buf why = BUF_INIT;
	struct stat st;
	int fd;

	if (queue_exists(Q_MAILDROP, id, NULL))
		return;
	if ((fd = open(path, O_RDWR | O_CLOEXEC | O_NOFOLLOW)) < 0)
		return;
	if (file_flock(fd, LOCK_EXCL | LOCK_NOWAIT) < 0 ||
	    fstat(fd, &st) < 0 || QUEUE_IS_READY(st.st_mode)) {
		close(fd);
		return;
	}
	if (qfile_read_env(fd, &env, &why) == 0) {
		qfile_env_free(&env);
		if (fsync(fd) == 0 && fchmod(fd, QUEUE_MODE_READY) == 0)
			log_warn("%s: recovered a complete queue file left by "
			    "a dead cleanup process", id);
	} else if (time(NULL) - st.st_mtime > RECOVER_AGE) {
		log_warn("%s: removing an incomplete queue file left by a "
		    "dead process: %s", id, buf_str(&why));
		(void)unlink(path);
	}
	close(fd);
	buf_free(&why);
}

/* qm_has_site - does a queue file have a pending recipient at site? */
static int
qm_has_site(const char *path, const char *site)
{
	struct qfile_env env;
	struct buf why = BUF_INIT;
	size_t i, sl = strlen(site);
	int fd, hit = 0;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) < 0)
		return 0;
	if (qfile_read_env(fd, &env, &why) == 0) {
		for (i = 0; i < env.nrcpt && !hit; i++) {
			const char *at = strrchr(env.rcpts[i].addr, '@');

			if (!env.rcpts[i].done && at &&
			    strlen(at + 1) == sl &&
			    strcasecmp(at + 1, site) == 0)
				hit = 1;
		}
		qfile_env_free(&env);
	}
	close(fd);
	buf_free(&why);
	return hit;
}

struct scan_ctx {
	const char *queue;
	int	 all;
	int	 recover;
	time_t	 now;
	const char *site;	/* only mail with a recipient here */
};

/* qm_scan_one_file - one file found by a scan */
static void
qm_scan_one_file(const char *dir, const char *id, void *vctx)
{
	struct scan_ctx *c = vctx;
	struct stat st;
	char path[512];

	snprintf(path, sizeof(path), "%s/%s", dir, id);
	if (lstat(path, &st) < 0 || !S_ISREG(st.st_mode))
		return;
	if (strcmp(c->queue, Q_INCOMING) == 0) {
		if (!QUEUE_IS_READY(st.st_mode)) {
			if (c->recover)
				qm_recover(path, id);
			if (lstat(path, &st) < 0 || !QUEUE_IS_READY(st.st_mode))
				return;
		}
		qm_backlog_add(Q_INCOMING, id, c->all ? QM_LOAD_FLUSH : 0);
	} else if (strcmp(c->queue, Q_DEFERRED) == 0) {
		if (c->site && !qm_has_site(path, c->site))
			return;
		if (c->all || st.st_mtime <= c->now)
			qm_backlog_add(Q_DEFERRED, id, QM_LOAD_RETRY |
			    (c->all ? QM_LOAD_FLUSH : 0));
	} else {
		qm_backlog_add(Q_ACTIVE, id, QM_LOAD_RETRY);
	}
}

/*
 * qm_scan_incoming - new mail; recover dead cleanups' files if asked;
 * all: a flush (defer_transports do not hold mail back).
 */
void
qm_scan_incoming(int recover, int all)
{
	struct scan_ctx c = {Q_INCOMING, all, recover, time(NULL), NULL};

	qm_walk(Q_INCOMING, 0, qm_scan_one_file, &c);
	qm_load_backlog();
}

/*
 * qm_scan_new - cleanup named a file it just made ready in incoming/:
 * take it without reading the directory.  The name comes from a
 * trigger, so it is checked: a queue ID, a regular file, ready.
 */
void
qm_scan_new(const char *id)
{
	struct buf path = BUF_INIT;
	struct stat st;

	if (!qid_valid(id, strlen(id)))
		return;
	queue_path(&path, Q_INCOMING, id);
	if (lstat(path.p, &st) == 0 && S_ISREG(st.st_mode) &&
	    QUEUE_IS_READY(st.st_mode)) {
		qm_backlog_add(Q_INCOMING, id, 0);
		qm_load_backlog();
	}
	buf_free(&path);
}

/* qm_scan_deferred - mail that is due (or all of it) */
void
qm_scan_deferred(int all)
{
	struct scan_ctx c = {Q_DEFERRED, all, 0, time(NULL), NULL};

	/* A new look at deferred mail: dead destinations get a chance. */
	qm_dests_revive();
	qm_walk(Q_DEFERRED, 0, qm_scan_one_file, &c);
	qm_load_backlog();
	qspare_sweep(qmgr_cfg.queue_run_delay);
}

/*
 * qm_scan_site - "postqueue -s site": deliver now the deferred mail with
 * a recipient in that domain.  Postfix keeps per-site logs for this (the
 * flush service); Postern reads the envelopes of deferred/, which costs
 * one short read per deferred message.
 */
void
qm_scan_site(const char *site)
{
	struct scan_ctx c = {Q_DEFERRED, 1, 0, time(NULL), site};

	/* As Postfix's fast flush: forget dead destinations first. */
	qm_transports_reset();
	qm_dests_revive();
	qm_walk(Q_DEFERRED, 0, qm_scan_one_file, &c);
	qm_load_backlog();
}

/*
 * qm_scan_one - "postqueue -i id": deliver that message now, also to
 * destinations that are marked dead (as Postfix does for a flush of one
 * message); other mail for them still waits.
 */
void
qm_scan_one(const char *id)
{
	if (!qid_valid(id, strlen(id)))
		return;
	if (queue_exists(Q_DEFERRED, id, NULL)) {
		qm_backlog_add(Q_DEFERRED, id, QM_LOAD_RETRY | QM_LOAD_FLUSH |
		    QM_LOAD_REVIVE);
		qm_load_backlog();
	}
}

/* qm_scan_active - start-up: take over what the last qmgr left */
void
qm_scan_active(void)
{
	struct scan_ctx c = {Q_ACTIVE, 0, 0, time(NULL), NULL};

	qm_walk(Q_ACTIVE, 0, qm_scan_one_file, &c);
	qm_load_backlog();
}

/* qm_more_timer - load more after messages finished */
static void
qm_more_timer(void *ctx)
{
	(void)ctx;
	qm_load_backlog();
}

/* qm_scan_more - a message finished: maybe load another */
void
qm_scan_more(void)
{
	if (backlog_next < backlog_n &&
	    !event_timer_pending(qm_more_timer, NULL))
		event_timer(qm_more_timer, NULL, 0);
}
