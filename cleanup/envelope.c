/*
 * NAME		envelope - cleanup's queue file creation and envelope
 * DESCRIPTION	A new message gets a fresh queue ID in incoming/.  A
 *		message from pickup keeps its maildrop queue ID: if the ID is
 *		already queued (an earlier cleanup finished it but pickup died
 *		before it learned so) the input is swallowed and the answer is
 *		OK, so the maildrop file is never queued twice; a half-written
 *		file from a dead cleanup is overwritten; a file another cleanup
 *		still holds (flock) makes this attempt fail temporarily.
 *
 *		The envelope is written as it arrives: version, size (filled
 *		in at the end), arrival time, delay-warning time, attributes,
 *		sender, then per recipient its notify bits, original recipient
 *		and address.  Sender and recipients are rewritten to canonical
 *		form by trivial-rewrite; duplicate recipients are dropped.
 * SECURITY	Attribute names are filtered; every address is bounded.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mail/cleanup_clnt.h"
#include "mail/mail_conf.h"
#include "mail/qfile.h"
#include "mail/qspare.h"
#include "mail/queue.h"
#include "mail/rec.h"
#include "mail/rewrite_clnt.h"
#include "util/files.h"
#include "util/log.h"
#include "util/mem.h"
#include "util/strutil.h"
#include "cleanup.h"

static const char *const cleanup_attr_ok[] = {
	"full_name", "rewrite_context", "dsn_envid", "dsn_ret", "log_ident",
	"client_name", "client_address", "client_port",
	"reverse_client_name", "helo_name", "protocol", "sasl_method",
	"sasl_username", "sasl_sender", "encoding", "smtputf8", "filter",
	"discard", NULL,
};

/* cleanup_open_file - create (or take over) the queue file */
int
cleanup_open_file(struct cleanup_state *st)
{
	struct stat sb;
	int fd;

	st->spare_size = 0;
	if (!st->pickup_id) {
		fd = qspare_take(Q_INCOMING, st->id, &st->path, &st->arrival,
		    QUEUE_MODE_WRITING, &st->spare_size);
		if (fd < 0)
			fd = queue_create(Q_INCOMING, st->id, &st->path,
			    &st->arrival, QUEUE_MODE_WRITING);
		if (fd < 0) {
			log_warn("create file in %s: %m", Q_INCOMING);
			cleanup_fail(st, CLEANUP_STAT_WRITE, "cannot create "
			    "queue file: %s", strerror(errno));
			return -1;
		}
		(void)file_flock(fd, LOCK_EXCL | LOCK_NOWAIT);
		st->fd = fd;
		return 0;
	}
	gettimeofday(&st->arrival, NULL);
	if (queue_exists(Q_ACTIVE, st->id, NULL) ||
	    queue_exists(Q_DEFERRED, st->id, NULL) ||
	    queue_exists(Q_HOLD, st->id, NULL)) {
		log_info("%s: already queued -- removing the maildrop copy",
		    st->id);
		st->discard = 1;
		return 0;
	}
	fd = qspare_take_named(Q_INCOMING, st->id, &st->path,
	    QUEUE_MODE_WRITING, &st->spare_size);
	if (fd < 0 && errno != EEXIST)
		fd = open(st->path.p, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW |
		    O_CLOEXEC, QUEUE_MODE_WRITING);
	if (fd < 0 && errno == EEXIST) {
		fd = open(st->path.p, O_RDWR | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0 || file_flock(fd, LOCK_EXCL | LOCK_NOWAIT) < 0) {
			if (fd >= 0)
				close(fd);
			cleanup_fail(st, CLEANUP_STAT_DEFER, "queue file %s is "
			    "busy", st->id);
			return -1;
		}
		if (fstat(fd, &sb) == 0 && QUEUE_IS_READY(sb.st_mode)) {
			close(fd);
			log_info("%s: already queued -- removing the maildrop "
			    "copy", st->id);
			st->discard = 1;
			return 0;
		}
		/* A dead cleanup's partial file: start over. */
		if (ftruncate(fd, 0) < 0 || fchmod(fd,
		    QUEUE_MODE_WRITING) < 0) {
			close(fd);
			cleanup_fail(st, CLEANUP_STAT_WRITE, "cannot reuse "
			    "queue file: %s", strerror(errno));
			return -1;
		}
	} else if (fd < 0) {
		log_warn("create %s: %m", st->path.p);
		cleanup_fail(st, CLEANUP_STAT_WRITE, "cannot create queue "
		    "file: %s", strerror(errno));
		return -1;
	} else {
		(void)file_flock(fd, LOCK_EXCL | LOCK_NOWAIT);
	}
	st->fd = fd;
	return 0;
}

/* cleanup_env_begin - version, size, time and warning records */
static void
cleanup_env_begin(struct cleanup_state *st)
{
	char size[128];
	size_t i;

	if (st->env_begun)
		return;
	st->env_begun = 1;
	cleanup_outs(st, REC_VERSION, REC_VERSION_TEXT);
	snprintf(size, sizeof(size), REC_SIZE_FMT, 0L, 0L, 0L, 0L, 0L);
	st->size_offset = st->file_pos + (long)rec_header_len(REC_SIZE_LEN);
	cleanup_out(st, REC_SIZE, size, REC_SIZE_LEN);
	{
		char t[64];

		snprintf(t, sizeof(t), "%ld %ld", (long)st->arrival.tv_sec,
		    (long)st->arrival.tv_usec);
		cleanup_outs(st, REC_TIME, t);
	}
	if (cleanup_cfg.delay_warning_time > 0) {
		char w[64];

		snprintf(w, sizeof(w), REC_WARN_FMT,
		    (long)st->arrival.tv_sec + cleanup_cfg.delay_warning_time);
		cleanup_out(st, REC_WARN, w, REC_WARN_LEN);
	}
	for (i = 0; i < st->pending_attrs.n; i++)
		cleanup_outs(st, REC_ATTR, st->pending_attrs.v[i]);
	argv_truncate(&st->pending_attrs, 0);
}

/* cleanup_rewrite - canonical form of an address; -1 after a failure */
int
cleanup_rewrite(struct cleanup_state *st, const char *addr, struct buf *out)
{
	return cleanup_rewrite_rule(st, st->rewrite_context ?
	    st->rewrite_context : "local", addr, out);
}

/* cleanup_rewrite_rule - the same with a given rule (local, remote) */
int
cleanup_rewrite_rule(struct cleanup_state *st, const char *ctx,
    const char *addr, struct buf *out)
{
	struct buf why = BUF_INIT;

	if (*addr == 0) {
		buf_reset(out);
		return 0;
	}
	if (rewrite_addr(ctx, addr, out, &why) < 0) {
		log_warn("%s: address rewriting failed: %s", st->id,
		    buf_str(&why));
		cleanup_fail(st, CLEANUP_STAT_DEFER, "address rewriting "
		    "service unavailable");
		buf_free(&why);
		return -1;
	}
	buf_free(&why);
	return 0;
}

/* cleanup_add_rcpt - write one recipient unless it is a duplicate */
void
cleanup_add_rcpt(struct cleanup_state *st, const char *addr,
    const char *orig, int notify)
{
	struct buf key = BUF_INIT;

	if (st->status != CLEANUP_STAT_OK || st->discard)
		return;
	if (*addr == 0) {
		cleanup_fail(st, CLEANUP_STAT_BAD, "empty recipient address");
		return;
	}
	if (st->rcpt_count >= QFILE_RCPT_MAX) {
		cleanup_fail(st, CLEANUP_STAT_CONT, "too many recipients");
		return;
	}
	buf_printf(&key, "%d\n%s\n%s", notify, orig, addr);
	if (st->dups == NULL)
		st->dups = htable_create(64);
	if (htable_locate(st->dups, key.p)) {
		buf_free(&key);
		return;
	}
	if (cleanup_cfg.duplicate_filter_limit == 0 ||
	    st->dups->used < (size_t)cleanup_cfg.duplicate_filter_limit)
		htable_enter(st->dups, key.p, NULL);
	buf_free(&key);
	cleanup_env_begin(st);
	if (notify) {
		char n[16];

		snprintf(n, sizeof(n), "%d", notify);
		cleanup_outs(st, REC_NOTIFY, n);
	}
	if (cleanup_cfg.enable_original_recipient && *orig)
		cleanup_outs(st, REC_ORCP, orig);
	cleanup_outs(st, REC_RCPT, addr);
	st->rcpt_count++;
}

/*
 * cleanup_recipient - one envelope recipient in canonical form: address
 * mapping (canonical, masquerading, virtual aliases; addrmap.c), then a
 * recipient record for each resulting address.  orig is the address as
 * the client gave it.
 */
void
cleanup_recipient(struct cleanup_state *st, const char *canon,
    const char *orig, int notify)
{
	struct buf addr = BUF_INIT;
	struct argv out = { NULL, 0, 0 };
	size_t i;

	if (st->status != CLEANUP_STAT_OK || st->discard)
		return;
	buf_sets(&addr, canon);
	if (cleanup_map_addr(st, CL_CLASS_ENV_RCPT, &addr) == 0 &&
	    cleanup_map_virtual(st, buf_str(&addr), &out) == 0)
		for (i = 0; i < out.n; i++)
			cleanup_add_rcpt(st, out.v[i], orig, notify);
	argv_clear(&out);
	buf_free(&addr);
}

/* cleanup_attr - one "name=value" attribute */
static void
cleanup_attr(struct cleanup_state *st, const char *p, size_t len)
{
	const char *eq = memchr(p, '=', len);
	size_t nlen;
	int i;

	if (eq == NULL || memchr(p, 0, len)) {
		cleanup_fail(st, CLEANUP_STAT_BAD, "malformed attribute");
		return;
	}
	nlen = (size_t)(eq - p);
	for (i = 0; cleanup_attr_ok[i]; i++)
		if (strlen(cleanup_attr_ok[i]) == nlen &&
		    memcmp(cleanup_attr_ok[i], p, nlen) == 0)
			break;
	if (cleanup_attr_ok[i] == NULL) {
		log_warn("%s: ignoring unknown attribute %.*s from %s client",
		    st->id, (int)(nlen > 64 ? 64 : nlen), p, st->source);
		return;
	}
	if (nlen == 7 && memcmp(p, "discard", 7) == 0) {
		/*
		 * The client decided to drop the message (an access DISCARD
		 * action): it is accepted and never queued.  Not stored.
		 */
		st->discard = 1;
		log_info("%s: discard: %.*s", st->id[0] ? st->id : "NOQUEUE",
		    (int)(len - nlen - 1 > 200 ? 200 : len - nlen - 1),
		    eq + 1);
		return;
	}
	if (nlen == 9 && memcmp(p, "full_name", 9) == 0) {
		free(st->full_name);
		st->full_name = xstrndup(eq + 1, len - nlen - 1);
	} else if (nlen == 15 && memcmp(p, "rewrite_context", 15) == 0) {
		free(st->rewrite_context);
		st->rewrite_context = xstrndup(eq + 1, len - nlen - 1);
		if (strcmp(st->rewrite_context, "local") &&
		    strcmp(st->rewrite_context, "remote")) {
			cleanup_fail(st, CLEANUP_STAT_BAD, "bad rewrite "
			    "context");
			return;
		}
	}
	if (st->env_begun)
		cleanup_out(st, REC_ATTR, p, len);
	else
		argv_addn(&st->pending_attrs, p, len);
}

/* cleanup_envelope - one envelope (or extracted) record */
void
cleanup_envelope(struct cleanup_state *st, int type, const char *p,
    size_t len)
{
	struct buf canon = BUF_INIT, tmp = BUF_INIT;
	long sec, usec;

	if ((type == REC_FROM || type == REC_RCPT || type == REC_ORCP) &&
	    (len > QFILE_ADDR_MAX || memchr(p, 0, len))) {
		cleanup_fail(st, CLEANUP_STAT_BAD, "malformed address record");
		return;
	}
	switch (type) {
	case REC_TIME:
		buf_set(&tmp, p, len);
		if (st->env_begun || sscanf(tmp.p, "%ld %ld", &sec, &usec) !=
		    2 || sec <= 0 || usec < 0 || usec > 999999) {
			cleanup_fail(st, CLEANUP_STAT_BAD, "bad time record");
			break;
		}
		st->arrival.tv_sec = sec;
		st->arrival.tv_usec = usec;
		break;
	case REC_ATTR:
		cleanup_attr(st, p, len);
		break;
	case REC_FROM:
		if (st->sender) {
			cleanup_fail(st, CLEANUP_STAT_BAD, "duplicate sender");
			break;
		}
		buf_set(&tmp, p, len);
		if (cleanup_rewrite(st, tmp.p, &canon) < 0 ||
		    cleanup_map_addr(st, CL_CLASS_ENV_SENDER, &canon) < 0)
			break;
		st->sender = xstrdup(buf_str(&canon));
		cleanup_env_begin(st);
		cleanup_outs(st, REC_FROM, st->sender);
		break;
	case REC_ORCP:
		buf_set(&st->orcpt, p, len);
		break;
	case REC_NOTIFY:
		{
			long n;

			buf_set(&tmp, p, len);
			if (parse_long(tmp.p, &n) < 0 || n < 0 || n > 15) {
				cleanup_fail(st, CLEANUP_STAT_BAD, "bad notify "
				    "record");
				break;
			}
			st->notify = (int)n;
		}
		break;
	case REC_RCPT:
		if (st->sender == NULL) {
			cleanup_fail(st, CLEANUP_STAT_BAD, "recipient before "
			    "sender");
			break;
		}
		buf_set(&tmp, p, len);
		if (cleanup_rewrite(st, tmp.p, &canon) < 0)
			break;
		cleanup_recipient(st, buf_str(&canon), st->orcpt.len ?
		    buf_str(&st->orcpt) : tmp.p, st->notify);
		buf_reset(&st->orcpt);
		st->notify = 0;
		break;
	}
	buf_free(&canon);
	buf_free(&tmp);
}
