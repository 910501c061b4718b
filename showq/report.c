/*
 * NAME		report - showq's queue listing
 * DESCRIPTION	showq_serve() sends the hello, then walks the maildrop,
 *		hold, incoming, active and deferred queues in that order
 *		(hashed queues through their subdirectories), each sorted by
 *		queue ID, which for long IDs is arrival order, and sends one
 *		frame per message: queue name and ID, arrival time (the time
 *		record, else the file time), size (the content size from the
 *		size record, else the file size), the sender in external
 *		(quoted) form, or empty_address_recipient for the null
 *		sender, and each recipient not yet done, once, with the delay
 *		reason its defer log entry gives (matched by the recipient
 *		record's offset, else by address; the last entry wins).
 *		Incomplete files (no owner execute bit), and files that are
 *		not regular or have more than one link, are skipped.
 *
 *		Queue files are read with the strict qfile_read_env() and,
 *		if that fails (or for maildrop files, which have no size
 *		record), with the tolerant qfile_scan_env(): a listing shows
 *		what it can.  A maildrop file that cannot be opened is still
 *		listed, with its owner's uid instead of a sender.
 * SECURITY	At most SHOWQ_MSG_MAX messages are listed; each frame stays
 *		under SHOWQ_FRAME_BUDGET (recipients that do not fit are
 *		counted in rcpt_omitted); every text is made printable and
 *		bounded.  The walk stops as soon as the client goes away.
 * SEE ALSO	showq(8), qwalk(3), qfile_scan(3), showq_clnt(3)
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mail/addr.h"
#include "mail/bounce_log.h"
#include "mail/mail_conf.h"
#include "mail/qfile.h"
#include "mail/qfile_scan.h"
#include "mail/qid.h"
#include "mail/queue.h"
#include "mail/qwalk.h"
#include "mail/showq_clnt.h"
#include "util/htable.h"
#include "util/log.h"
#include "util/mem.h"
#include "showq.h"

struct showq_ent {
	char	*path;
	char	*id;
};

struct showq_scan {
	struct showq_ent *v;
	size_t	 n;
	size_t	 cap;
	size_t	 max;
};

/* scan_file - qwalk callback: collect files named by queue IDs */
static int
scan_file(const char *path, const char *name, const struct stat *st,
    int depth, void *ctx)
{
	struct showq_scan *sc = ctx;

	(void)st;
	(void)depth;
	if (!qid_valid(name, strlen(name)))
		return 0;
	if (sc->n >= sc->max)
		return -1;
	if (sc->n == sc->cap) {
		sc->cap = sc->cap ? sc->cap * 2 : 64;
		sc->v = xreallocarray(sc->v, sc->cap, sizeof(*sc->v));
	}
	sc->v[sc->n].path = xstrdup(path);
	sc->v[sc->n].id = xstrdup(name);
	sc->n++;
	return 0;
}

/* ent_cmp - qsort helper: by queue ID */
static int
ent_cmp(const void *a, const void *b)
{
	return strcmp(((const struct showq_ent *)a)->id,
	    ((const struct showq_ent *)b)->id);
}

/* show_unreadable - a maildrop file we may not open */
static int
show_unreadable(struct stream *client, const char *id, const char *path,
    struct buf *f)
{
	struct stat st;
	struct buf why = BUF_INIT;
	char who[64];

	if (lstat(path, &st) < 0 || qwalk_file_ok(path, &st, &why) != 1) {
		buf_free(&why);
		return -1;
	}
	snprintf(who, sizeof(who), "(maildrop queue, sender UID %lu)",
	    (unsigned long)st.st_uid);
	showq_frame_msg(f, Q_MAILDROP, id, (long)st.st_mtime,
	    (long)st.st_size, who);
	showq_frame_done(f, 0);
	stream_write(client, f->p, f->len);
	return 0;
}

/* reason_index - defer log reasons by recipient offset and address */
static void
reason_index(const struct bounce_log *log, struct htable *by_off,
    struct htable *by_addr)
{
	size_t i;

	for (i = 0; i < log->n; i++) {
		const struct bounce_ent *e = &log->v[i];
		struct hnode *n;
		char key[32];

		if (e->offset > 0) {
			snprintf(key, sizeof(key), "%ld", e->offset);
			n = htable_enter(by_off, key, NULL);
			n->value = e->reason;
		}
		n = htable_enter(by_addr, e->recipient, NULL);
		n->value = e->reason;
	}
}

/* read_env - the envelope, strictly if possible; 0 or -1 */
static int
read_env(int fd, const char *queue, struct qfile_env *e, struct buf *why)
{
	if (strcmp(queue, Q_MAILDROP) != 0 && qfile_read_env(fd, e, why) == 0)
		return 0;
	buf_reset(why);
	return qfile_scan_env(fd, e, why);
}

/* showq_report - send the frame for one message; 0, or -1 if skipped */
static int
showq_report(struct stream *client, const char *queue,
    const struct showq_ent *ent, struct buf *f)
{
	struct qfile_env e;
	struct bounce_log log;
	struct htable *by_off, *by_addr, *seen;
	struct buf why = BUF_INIT, tmp = BUF_INIT, addr = BUF_INIT;
	struct buf reason = BUF_INIT;
	struct stat st;
	long omitted = 0, sent = 0;
	size_t i;
	int fd, ok;

	if ((fd = open(ent->path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK |
	    O_CLOEXEC)) < 0) {
		if (errno == ENOENT)
			return -1;		/* moved on meanwhile */
		if (strcmp(queue, Q_MAILDROP) == 0)
			return show_unreadable(client, ent->id, ent->path, f);
		log_warn("open %s: %m", ent->path);
		return -1;
	}
	if (fstat(fd, &st) < 0 || (ok = qwalk_file_ok(ent->path, &st,
	    &why)) <= 0) {
		if (why.len)
			log_warn("%s", buf_str(&why));
		close(fd);
		buf_free(&why);
		return -1;
	}
	if (read_env(fd, queue, &e, &why) < 0) {
		log_warn("%s: %s", ent->path, buf_str(&why));
		close(fd);
		buf_free(&why);
		return -1;
	}
	close(fd);

	if (*e.sender == 0) {
		showq_printable(&addr, mail_cfg.empty_address_recipient,
		    strlen(mail_cfg.empty_address_recipient), SHOWQ_ADDR_MAX);
	} else {
		addr_quote(e.sender, &tmp);
		showq_printable(&addr, tmp.p, tmp.len, SHOWQ_ADDR_MAX);
	}
	showq_frame_msg(f, queue, ent->id, e.arrival_sec > 0 ?
	    e.arrival_sec : (long)st.st_mtime, e.data_size > 0 ?
	    e.data_size : (long)st.st_size, buf_str(&addr));

	memset(&log, 0, sizeof(log));
	by_off = htable_create(16);
	by_addr = htable_create(16);
	seen = htable_create(e.nrcpt + 1);
	buf_reset(&why);
	if (strcmp(queue, Q_MAILDROP) != 0) {
		if (bounce_log_read(Q_DEFER, ent->id, &log, &why) < 0)
			log_warn("%s: %s", ent->id, buf_str(&why));
		reason_index(&log, by_off, by_addr);
	}
	for (i = 0; i < e.nrcpt; i++) {
		const struct qfile_rcpt *rc = &e.rcpts[i];
		const char *r;
		char key[32];

		if (rc->done)
			continue;
		buf_reset(&addr);
		addr_quote(rc->addr, &tmp);
		showq_printable(&addr, tmp.p, tmp.len, SHOWQ_ADDR_MAX);
		if (htable_find(seen, buf_str(&addr)) != NULL)
			continue;
		htable_enter(seen, buf_str(&addr), (void *)1);
		snprintf(key, sizeof(key), "%ld", rc->offset);
		if ((r = htable_find(by_off, key)) == NULL &&
		    (r = htable_find(by_addr, rc->addr)) == NULL)
			r = "";
		buf_reset(&reason);
		showq_printable(&reason, r, strlen(r), SHOWQ_REASON_MAX);
		if (sent >= SHOWQ_RCPT_MAX ||
		    showq_frame_rcpt(f, buf_str(&addr), buf_str(&reason)) < 0)
			omitted++;
		else
			sent++;
	}
	showq_frame_done(f, omitted);
	stream_write(client, f->p, f->len);

	htable_free(by_off, NULL);
	htable_free(by_addr, NULL);
	htable_free(seen, NULL);
	bounce_log_free(&log);
	qfile_env_free(&e);
	buf_free(&why);
	buf_free(&tmp);
	buf_free(&addr);
	buf_free(&reason);
	return 0;
}

/* showq_queue - list one queue; *count is the running total */
static void
showq_queue(struct stream *client, const char *queue, long *count,
    struct buf *f)
{
	struct showq_scan sc;
	struct buf why = BUF_INIT;
	size_t i;

	memset(&sc, 0, sizeof(sc));
	sc.max = SHOWQ_MSG_MAX - (size_t)*count;
	if (qwalk(queue, strcmp(queue, Q_MAILDROP) ? QWALK_RECURSE : 0,
	    scan_file, NULL, &sc, &why) < 0)
		log_warn("%s", buf_str(&why));
	if (sc.n > 1)
		qsort(sc.v, sc.n, sizeof(*sc.v), ent_cmp);
	for (i = 0; i < sc.n; i++) {
		if (!stream_error(client) && showq_report(client, queue,
		    &sc.v[i], f) == 0)
			(*count)++;
		free(sc.v[i].path);
		free(sc.v[i].id);
	}
	free(sc.v);
	buf_free(&why);
}

/* showq_serve - one client: the whole listing */
void
showq_serve(struct stream *client)
{
	static const char *const queues[] = {Q_MAILDROP, Q_HOLD, Q_INCOMING,
	    Q_ACTIVE, Q_DEFERRED, NULL};
	struct buf f = BUF_INIT;
	long count = 0;
	int i;

	ipc_hello(&f, SHOWQ_PROTO, SHOWQ_VERSION);
	stream_write(client, f.p, f.len);
	for (i = 0; queues[i] && count < SHOWQ_MSG_MAX; i++) {
		if (stream_error(client))
			break;
		showq_queue(client, queues[i], &count, &f);
	}
	if (count >= SHOWQ_MSG_MAX)
		log_warn("listing stopped after %d messages", SHOWQ_MSG_MAX);
	showq_frame_end(&f, count);
	stream_write(client, f.p, f.len);
	if (stream_flush(client) < 0)
		log_debug("client went away: %s", stream_strerror(client));
	buf_free(&f);
}
