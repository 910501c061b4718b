/*
 * NAME		pickup - local mail pickup
 * DESCRIPTION	pickup waits for a trigger (from postdrop, postsuper -r or
 *		master's wakeup timer), scans maildrop/ for complete files
 *		(a valid queue ID as name, owner execute bit set) and hands
 *		each to cleanup under the same queue ID, up to PICKUP_JOBS at
 *		a time so that cleanup can commit them together.  cleanup
 *		removes the maildrop file once the queue file is safe.
 *
 *		Files written by postdrop (sendmail) are local submissions:
 *		cleanup adds missing headers and rewrites addresses.  Files
 *		that are complete queue files (postsuper -r) are re-processed
 *		without header changes; recipients already delivered stay so.
 * SECURITY	Runs chrooted as mail_owner.  Maildrop files come from any
 *		local user: pickup checks names, types, the record grammar and
 *		all lengths, passes only known attributes, and takes the
 *		submitter's identity from the file owner.
 * PARAMETERS	bounce_size_limit (50000: how much of a refused message its
 *		notice returns), message_size_limit (bounds what is read),
 *		queue_directory.
 * DIAGNOSTICS	"QUEUEID: uid=N from=<sender>" per message.  A submission
 *		cleanup refuses for good (no recipients, too many hops, too
 *		large) goes back to the sender as a non-delivery notice and is
 *		removed; a file that does not parse is moved to corrupt/.
 * SEE ALSO	postdrop(1), cleanup(8), doc/pickup.md
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "mail/cleanup_clnt.h"
#include "mail/ipc.h"
#include "mail/mail_conf.h"
#include "mail/maildrop.h"
#include "mail/notice.h"
#include "mail/qid.h"
#include "mail/queue.h"
#include "mail/rec.h"
#include "server/server.h"
#include "pickup.h"
#include "util/events.h"
#include "util/files.h"
#include "util/htable.h"
#include "util/log.h"
#include "util/mem.h"
#include "util/strutil.h"

#define PICKUP_JOBS	16		/* messages in flight to cleanup */

struct pickup_cfg pickup_cfg;
#define PICKUP_RETRY_MS	5000

struct job {
	char	 id[QID_MAX];
	struct cleanup_clnt *clnt;
	char	*sender;
	long	 uid;
};

static struct htable *inflight;		/* IDs being worked on */
static struct argv todo;		/* IDs found by the last scan */
static size_t todo_next;
static int njobs;
static int rescan;

static void pickup_run(void);
static void pickup_retry_later(void);

/* pickup_max_size - the largest maildrop file worth reading */
static size_t
pickup_max_size(void)
{
	if (mail_cfg.message_size_limit == 0)
		return 1024UL * 1024 * 1024;
	return (size_t)mail_cfg.message_size_limit * 2 + 1024 * 1024;
}

/* pickup_attr_ok - attributes a maildrop file may carry */
static int
pickup_attr_ok(const char *p, size_t len)
{
	static const char *const ok[] = {"full_name=", "dsn_envid=",
	    "dsn_ret=", "flags=", NULL};
	int i;

	for (i = 0; ok[i]; i++)
		if (len >= strlen(ok[i]) && memcmp(p, ok[i], strlen(ok[i])) ==
		    0)
			return 1;
	return 0;
}

/* pickup_corrupt - move a bad maildrop file out of the way */
static void
pickup_corrupt(const char *id, const char *why)
{
	log_warn("%s: %s -- moved to %s", id, why, Q_CORRUPT);
	if (queue_rename(id, Q_MAILDROP, Q_CORRUPT) < 0)
		log_warn("%s: move to %s: %m", id, Q_CORRUPT);
}

/* Reading a maildrop file's content for a notice. */
struct pickup_orig {
	const char *text;
	size_t	 len;
	size_t	 off;
	int	 in_content;
};

/* pickup_orig_rewind - back to the first content line */
static void
pickup_orig_rewind(void *ctx)
{
	struct pickup_orig *o = ctx;

	o->off = 0;
	o->in_content = 0;
}

/* pickup_orig_line - next content line of the submission */
static int
pickup_orig_line(void *ctx, struct buf *line)
{
	struct pickup_orig *o = ctx;

	buf_reset(line);
	while (o->off < o->len) {
		int type, used;
		const char *d;
		size_t l;

		used = rec_decode(o->text + o->off, o->len - o->off,
		    REC_LEN_MAX, &type, &d, &l);
		if (used <= 0)
			return -1;
		o->off += (size_t)used;
		if (!o->in_content) {
			o->in_content = type == REC_MESG;
			continue;
		}
		if (type == REC_XTRA) {
			o->in_content = 0;
			o->off = o->len;
			return line->len ? 1 : 0;
		}
		buf_put(line, d, l);
		if (type == REC_NORM)
			return 1;
	}
	return 0;
}

/*
 * pickup_reject - cleanup refused a local submission for good (no
 * recipients, too many hops, too large, bad content): tell the sender,
 * as Postfix does, and remove it.  If the notice cannot be sent now the
 * file stays for the next attempt.  Returns 0 or -1.
 */
static int
pickup_reject(const char *id, int status, const char *reason)
{
	struct buf path = BUF_INIT, text = BUF_INIT, why = BUF_INIT;
	struct dsn_rcpt *rcpts = NULL;
	struct argv addrs, origs;
	struct pickup_orig orig;
	struct dsn_notice n;
	char new_id[QID_MAX], *from = NULL, *sender = NULL;
	const char *dsn = cleanup_stat_dsn(status);
	size_t off = 0, i, nrcpt = 0;
	int r = -1, st, notify = 0;
	long arrival = 0;
	int *notifies = NULL, ret = 0;

	argv_init(&addrs);
	argv_init(&origs);
	queue_path(&path, Q_MAILDROP, id);
	if (file_read(path.p, &text, pickup_max_size()) < 0) {
		log_warn("%s: read %s: %m", id, path.p);
		goto out;
	}
	while (off < text.len) {
		int type, used;
		const char *d;
		size_t l;

		used = rec_decode(text.p + off, text.len - off, REC_LEN_MAX,
		    &type, &d, &l);
		if (used <= 0)
			break;
		off += (size_t)used;
		if (type == REC_FROM && sender == NULL)
			sender = xstrndup(d, l);
		else if (type == REC_TIME)
			arrival = strtol(d, NULL, 10);
		else if (type == REC_ATTR && l > 8 &&
		    memcmp(d, "dsn_ret=", 8) == 0)
			ret = atoi(d + 8);
		else if (type == REC_NOTIFY)
			notify = atoi(d);
		else if (type == REC_ORCP && origs.n == addrs.n)
			argv_addn(&origs, d, l);
		else if (type == REC_RCPT && addrs.n < 1000) {
			if (origs.n == addrs.n)
				argv_add(&origs, "");
			argv_addn(&addrs, d, l);
			notifies = xreallocarray(notifies, addrs.n,
			    sizeof(int));
			notifies[addrs.n - 1] = notify;
			notify = 0;
		}
	}
	if (sender == NULL || *sender == 0 ||
	    strcmp(sender, mail_cfg.double_bounce_sender) == 0) {
		log_info("%s: no notice for the null sender -- removing", id);
		r = 0;
		goto remove;
	}
	nrcpt = addrs.n ? addrs.n : 1;
	rcpts = xcalloc(nrcpt, sizeof(*rcpts));
	for (i = 0; i < nrcpt; i++) {
		rcpts[i].addr = addrs.n ? addrs.v[i] : "unknown";
		rcpts[i].orig = addrs.n ? origs.v[i] : "";
		rcpts[i].notify = addrs.n ? notifies[i] : 0;
		rcpts[i].status = dsn;
		rcpts[i].action = "failed";
		rcpts[i].reason = reason;
		rcpts[i].relay = "";
	}
	memset(&orig, 0, sizeof(orig));
	orig.text = text.p;
	orig.len = text.len;
	from = strchr(mail_cfg.empty_address_recipient, '@') ?
	    xstrdup(mail_cfg.empty_address_recipient) :
	    xasprintf("%s@%s", mail_cfg.empty_address_recipient,
	    mail_cfg.myhostname);
	memset(&n, 0, sizeof(n));
	n.kind = DSN_KIND_FAILURE;
	n.flags = DSN_FLAG_ALL;
	n.queue_id = id;
	n.hostname = mail_cfg.myhostname;
	n.from = from;
	n.sender = sender;
	n.arrival = arrival;
	n.ret = ret;
	n.msg_size = -1;
	n.size_limit = pickup_cfg.bounce_size_limit;
	n.rcpts = rcpts;
	n.nrcpt = nrcpt;
	n.orig_line = pickup_orig_line;
	n.orig_ctx = &orig;
	if (notice_send(&n, "pickup", "", sender, pickup_orig_rewind, new_id,
	    &st, &why) < 0) {
		if (st & CLEANUP_STAT_TEMP) {
			log_warn("%s: %s -- will retry", id, buf_str(&why));
			pickup_retry_later();
		} else {
			/* The notice itself is refused: keep the file. */
			pickup_corrupt(id, buf_str(&why));
		}
		goto out;
	}
	if (new_id[0])
		log_info("%s: sender non-delivery notification: %s", id,
		    new_id);
	r = 0;
remove:
	if (unlink(path.p) < 0 && errno != ENOENT)
		log_warn("%s: remove %s: %m", id, path.p);
out:
	buf_free(&path);
	buf_free(&text);
	buf_free(&why);
	argv_clear(&addrs);
	argv_clear(&origs);
	free(notifies);
	free(rcpts);
	free(from);
	free(sender);
	return r;
}

/* pickup_job_done - the final answer from cleanup */
static void
pickup_job_done(int fd, int mask, void *ctx)
{
	struct job *j = ctx;
	struct buf reason = BUF_INIT;
	int status;

	(void)fd;
	(void)mask;
	if (!cleanup_pipelined_reply(j->clnt, &status, &reason)) {
		buf_free(&reason);
		return;
	}
	event_fd_del(j->clnt->s->fd);
	cleanup_abort(j->clnt);
	if (status == CLEANUP_STAT_OK) {
		log_info("%s: uid=%ld from=<%s>", j->id, j->uid, j->sender);
	} else if (status & (CLEANUP_STAT_WRITE | CLEANUP_STAT_DEFER)) {
		/* Try again at the next retry tick, not in a tight loop. */
		log_warn("%s: %s -- will retry", j->id, buf_str(&reason));
		pickup_retry_later();
	} else if (status & CLEANUP_STAT_BAD) {
		/* A protocol error: keep the file for the postmaster. */
		pickup_corrupt(j->id, buf_str(&reason));
	} else {
		log_info("%s: uid=%ld from=<%s>: %s", j->id, j->uid, j->sender,
		    buf_str(&reason));
		(void)pickup_reject(j->id, status, buf_str(&reason));
	}
	htable_delete(inflight, j->id, NULL);
	free(j->sender);
	free(j);
	njobs--;
	buf_free(&reason);
	pickup_run();
}

/* pickup_start - read one maildrop file and send it to cleanup */
static void
pickup_start(const char *id)
{
	struct buf path = BUF_INIT, text = BUF_INIT, why = BUF_INIT;
	struct buf pending = BUF_INIT;
	struct cleanup_req req;
	struct stat st;
	struct job *j;
	int fd, flags, requeue, info, nrcpt;
	size_t off = 0, max;

	queue_path(&path, Q_MAILDROP, id);
	if ((fd = open(path.p, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) < 0) {
		if (errno != ENOENT)
			log_warn("open %s: %m", path.p);
		goto out;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) ||
	    !QUEUE_IS_READY(st.st_mode)) {
		close(fd);
		goto out;
	}
	max = pickup_max_size();
	if (read_fd_all(fd, &text, max) < 0) {
		int saved = errno;

		close(fd);
		if (saved == EFBIG)
			pickup_corrupt(id, "file too large");
		else
			log_warn("read %s: %s", path.p, strerror(saved));
		goto out;
	}
	close(fd);
	if (maildrop_check(text.p ? text.p : "", text.len, 1, &info, &nrcpt,
	    &why) < 0) {
		pickup_corrupt(id, buf_str(&why));
		goto out;
	}
	/* A requeued queue file is not a new local submission. */
	requeue = (info & MAILDROP_QFILE) != 0;
	flags = CLEANUP_FLAG_MAP_OK;
	if (!requeue)
		flags |= CLEANUP_FLAG_LOCAL;
	if (info & MAILDROP_EXTRACT)
		flags |= CLEANUP_FLAG_EXTRACT;
	memset(&req, 0, sizeof(req));
	req.source = "pickup";
	req.flags = flags;
	req.queue_id = id;
	req.uid = requeue ? -1 : (long)st.st_uid;
	j = xcalloc(1, sizeof(*j));
	strlcpy_trunc(j->id, id, sizeof(j->id));
	j->uid = (long)st.st_uid;
	/* Pipelined: request and records go out at once, no round trip. */
	if ((j->clnt = cleanup_open_pipelined(&req, &why)) == NULL) {
		log_warn("%s: cleanup service: %s", id, buf_str(&why));
		free(j);
		pickup_retry_later();
		goto out;
	}
	/*
	 * Forward the records cleanup accepts from pickup.  Notify and
	 * original-recipient records wait for their recipient: those of a
	 * recipient already done (a requeued file) are dropped with it.
	 */
	while (off < text.len) {
		int type;
		const char *d;
		size_t l;

		off += (size_t)rec_decode(text.p + off, text.len - off,
		    REC_LEN_MAX, &type, &d, &l);
		switch (type) {
		case REC_ORCP:
		case REC_NOTIFY:
			rec_put(&pending, type, d, l);
			continue;
		case REC_RCPT:
			buf_put(&j->clnt->recs, pending.p, pending.len);
			buf_reset(&pending);
			break;
		case REC_DONE:
			buf_reset(&pending);
			continue;
		case REC_VERSION:
		case REC_SIZE:
		case REC_WARN:
			continue;
		case REC_ATTR:
			if (requeue || (pickup_attr_ok(d, l) &&
			    !(l > 6 && memcmp(d, "flags=", 6) == 0)))
				cleanup_rec(j->clnt, type, d, l);
			continue;
		case REC_FROM:
			free(j->sender);
			j->sender = xstrndup(d, l);
			break;
		}
		cleanup_rec(j->clnt, type, d, l);
	}
	if (j->sender == NULL)
		j->sender = xstrdup("");
	/* Send everything, then wait for the answer on the event loop. */
	stream_write(j->clnt->s, j->clnt->recs.p, j->clnt->recs.len);
	buf_reset(&j->clnt->recs);
	if (stream_flush(j->clnt->s) < 0) {
		log_warn("%s: lost connection to cleanup -- will retry", id);
		cleanup_abort(j->clnt);
		free(j->sender);
		free(j);
		pickup_retry_later();
		goto out;
	}
	htable_enter(inflight, id, j);
	njobs++;
	event_fd(j->clnt->s->fd, EV_READ, pickup_job_done, j);
out:
	buf_free(&path);
	buf_free(&text);
	buf_free(&why);
	buf_free(&pending);
}

/*
 * pickup_temp_file - a file postdrop (or sendmail) left under its
 * temporary name.  With the execute bit it is complete and was made
 * durable - only its rename was lost (a crash or power loss at that
 * moment) - so it gets its queue ID now.  Without it, it was never
 * acknowledged; after a day it goes.
 */
static void
pickup_temp_file(const char *name, time_t now)
{
	struct buf path = BUF_INIT, dst = BUF_INIT;
	struct timeval tv;
	struct stat st;
	char id[QID_MAX];

	buf_printf(&path, "%s/%s", Q_MAILDROP, name);
	if (lstat(path.p, &st) < 0 || !S_ISREG(st.st_mode))
		goto out;
	if (QUEUE_IS_READY(st.st_mode)) {
		if (now - st.st_mtime < 10)
			goto out;	/* postdrop may be renaming it now */
		gettimeofday(&tv, NULL);
		qid_make(id, &tv, st.st_ino, mail_cfg.enable_long_queue_ids);
		queue_path(&dst, Q_MAILDROP, id);
		if (renameat2(AT_FDCWD, path.p, AT_FDCWD, dst.p,
		    RENAME_NOREPLACE) == 0) {
			log_warn("%s: recovered complete submission %s", id,
			    name);
			rescan = 1;
		}
	} else if (now - st.st_mtime > 86400 && unlink(path.p) == 0) {
		log_info("removed stale temporary file %s", path.p);
	}
out:
	buf_free(&path);
	buf_free(&dst);
}

/* pickup_scan - list the ready files in maildrop/ */
static void
pickup_scan(void)
{
	DIR *dir;
	struct dirent *de;
	time_t now = time(NULL);

	argv_truncate(&todo, 0);
	todo_next = 0;
	if ((dir = opendir(Q_MAILDROP)) == NULL) {
		log_warn("open %s: %m", Q_MAILDROP);
		return;
	}
	while ((de = readdir(dir)) != NULL && todo.n < 100000) {
		const char *name = de->d_name;

		if (name[0] == '.')
			continue;
		if (!qid_valid(name, strlen(name))) {
			if (name[0] == 'T')
				pickup_temp_file(name, now);
			continue;
		}
		if (htable_locate(inflight, name) == NULL)
			argv_add(&todo, name);
	}
	closedir(dir);
}

/* pickup_run - keep up to PICKUP_JOBS messages in flight */
static void
pickup_run(void)
{
	for (;;) {
		while (njobs < PICKUP_JOBS && todo_next < todo.n)
			pickup_start(todo.v[todo_next++]);
		if (njobs >= PICKUP_JOBS || !rescan || srv.master_gone)
			break;
		/* Files arrived while we worked (or a retry is due). */
		if (todo_next < todo.n)
			continue;
		rescan = 0;
		pickup_scan();
		if (todo.n == 0)
			break;
	}
}

/* pickup_retry - temporary failures: look again later */
static void
pickup_retry(void *ctx)
{
	(void)ctx;
	rescan = 1;
	pickup_run();
}

/* pickup_retry_later - look again after PICKUP_RETRY_MS */
static void
pickup_retry_later(void)
{
	if (!event_timer_pending(pickup_retry, NULL))
		event_timer(pickup_retry, NULL, PICKUP_RETRY_MS);
}

/* pickup_trigger - postdrop or master woke us up */
static void
pickup_trigger(const char *buf, size_t len)
{
	(void)buf;
	(void)len;
	rescan = 1;
	if (todo_next >= todo.n)
		pickup_run();
}

/* pickup_idle - nothing in flight */
static int
pickup_idle(void)
{
	return njobs == 0;
}

/* pickup_init - after the jail */
static void
pickup_init(void)
{
	inflight = htable_create(64);
	argv_init(&todo);
}

/* main - hand over to the trigger skeleton */
int
main(int argc, char **argv)
{
	static const struct srv_hooks hooks = {
		.params = pickup_params,
		.cfg = &pickup_cfg,
		.lock_file = "pid/unix.pickup",
		.post_jail = pickup_init,
		.trigger = pickup_trigger,
		.idle = pickup_idle,
	};

	return srv_trigger_main(argc, argv, &hooks);
}
