/*
 * NAME		append - add one recipient's status to a message's log
 * DESCRIPTION	The append request names the queue ID and carries one
 *		recipient's result.  The entry (bounce_ent_format()) goes to
 *		<service>/<queue ID>, created with mode 0600 and hash
 *		subdirectories as needed, in one write(2) on a descriptor
 *		opened with O_APPEND, under an exclusive lock so that a short
 *		write (disk full) can be cut off again without touching
 *		another process's entry.  No fsync: as with Postfix, the
 *		queue manager keeps the recipient until it has the reply, and
 *		a log lost in a crash only costs a repeated delivery attempt.
 * SECURITY	Every attribute is bounded and checked before anything is
 *		written: a valid queue ID, a recipient without control
 *		characters, NOTIFY bits, a status "c.s.d", a known action.
 *		The log may not grow beyond BOUNCE_LOG_MAX.  The file is
 *		opened with O_NOFOLLOW and must be a regular file.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "mail/bounce_log.h"
#include "mail/dsn.h"
#include "mail/ipc.h"
#include "mail/qfile.h"
#include "mail/qid.h"
#include "mail/queue.h"
#include "util/files.h"
#include "bounce.h"

/* bounce_no_ctl - no control characters in s[0..len)? */
static int
bounce_no_ctl(const struct buf *b)
{
	size_t i;

	for (i = 0; i < b->len; i++)
		if ((unsigned char)b->p[i] < 0x20 || b->p[i] == 0x7f)
			return 0;
	return 1;
}

/* bounce_open_log - open (creating) the log for appending */
static int
bounce_open_log(const char *path)
{
	int fd, flags = O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW |
	    O_NONBLOCK | O_CLOEXEC;

	fd = open(path, flags, 0600);
	if (fd < 0 && errno == ENOENT && queue_mkparents(path) == 0)
		fd = open(path, flags, 0600);
	return fd;
}

/* bounce_write_entry - append text to the log at path; 0 or -1 */
static int
bounce_write_entry(const char *path, const struct buf *text,
    struct buf *why)
{
	struct stat st;
	ssize_t n;
	int fd, r = -1;

	if ((fd = bounce_open_log(path)) < 0) {
		buf_printf(why, "open %s: %s", path, strerror(errno));
		return -1;
	}
	if (file_flock(fd, LOCK_EXCL) < 0) {
		buf_printf(why, "lock %s: %s", path, strerror(errno));
		goto out;
	}
	if (fstat(fd, &st) < 0) {
		buf_printf(why, "fstat %s: %s", path, strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		buf_printf(why, "%s: not a regular file", path);
		goto out;
	}
	if (st.st_size < 0 || (size_t)st.st_size + text->len >
	    BOUNCE_LOG_MAX) {
		buf_printf(why, "%s: log too large", path);
		goto out;
	}
	n = write(fd, text->p, text->len);
	if (n != (ssize_t)text->len) {
		buf_printf(why, "write %s: %s", path, n < 0 ?
		    strerror(errno) : "short write");
		/* Leave no torn entry that would merge with the next one. */
		if (n > 0 && ftruncate(fd, st.st_size) < 0)
			buf_printf(why, " (truncate: %s)", strerror(errno));
		goto out;
	}
	r = 0;
out:
	close(fd);
	return r;
}

/*
 * bounce_append - handle an append request (frame body).  Returns 0, or
 * -1 with a reason.
 */
int
bounce_append(const char *body, size_t len, struct buf *why)
{
	struct buf req = BUF_INIT, qid = BUF_INIT, rcpt = BUF_INIT,
	    orig = BUF_INIT, status = BUF_INIT, action = BUF_INIT,
	    reason = BUF_INIT, relay = BUF_INIT, text = BUF_INIT,
	    path = BUF_INIT;
	int64_t notify = 0, offset = 0;
	struct ipc_want want[] = {
		IPC_WANT_STR("request", &req, BOUNCE_NAME_MAX),
		IPC_WANT_STR("queue_id", &qid, QID_MAX - 1),
		IPC_WANT_STR("recipient", &rcpt, QFILE_ADDR_MAX),
		IPC_WANT_STR("orig_rcpt", &orig, QFILE_ADDR_MAX),
		IPC_WANT_INT("notify", &notify),
		IPC_WANT_INT("offset", &offset),
		IPC_WANT_STR("status", &status, DSN_STATUS_MAX),
		IPC_WANT_STR("action", &action, BOUNCE_NAME_MAX),
		IPC_WANT_STR("reason", &reason, BOUNCE_REASON_MAX),
		IPC_WANT_STR("relay", &relay, BOUNCE_RELAY_MAX),
		IPC_WANT_END
	};
	struct bounce_ent e;
	struct buf tmp = BUF_INIT;
	int r = -1;

	if (ipc_scan(body, len, want, &tmp) < 0) {
		buf_printf(why, "malformed append request: %s", buf_str(&tmp));
		goto out;
	}
	if (!qid_valid(qid.p, qid.len)) {
		buf_sets(why, "append request: bad queue ID");
		goto out;
	}
	if (rcpt.len == 0 || !bounce_no_ctl(&rcpt) || !bounce_no_ctl(&orig) ||
	    !bounce_no_ctl(&relay)) {
		buf_printf(why, "%s: append request: bad recipient, original "
		    "recipient or relay", qid.p);
		goto out;
	}
	if (notify < 0 || notify > (DSN_NOTIFY_NEVER | DSN_NOTIFY_ANY) ||
	    offset < 0 || (int64_t)(long)offset != offset ||
	    !dsn_status_valid(buf_str(&status)) ||
	    !dsn_action_valid(buf_str(&action))) {
		buf_printf(why, "%s: append request: bad notify, offset, "
		    "status or action", qid.p);
		goto out;
	}
	memset(&e, 0, sizeof(e));
	e.recipient = rcpt.p;
	e.orig_rcpt = (char *)buf_str(&orig);
	e.notify = (int)notify;
	e.offset = (long)offset;
	e.status = status.p;
	e.action = action.p;
	e.reason = (char *)buf_str(&reason);
	e.relay = (char *)buf_str(&relay);
	e.when = (long)time(NULL);
	bounce_ent_format(&text, &e);
	queue_path(&path, bounce_queue, qid.p);
	if (bounce_write_entry(path.p, &text, &tmp) < 0) {
		buf_printf(why, "%s: %s", qid.p, buf_str(&tmp));
		goto out;
	}
	r = 0;
out:
	buf_free(&req);
	buf_free(&qid);
	buf_free(&rcpt);
	buf_free(&orig);
	buf_free(&status);
	buf_free(&action);
	buf_free(&reason);
	buf_free(&relay);
	buf_free(&text);
	buf_free(&path);
	buf_free(&tmp);
	return r;
}
