/*
 * NAME		commit - cleanup's group commit
 * DESCRIPTION	A message whose end record arrived is complete in the page
 *		cache but not yet safe.  It waits on the commit list; once per
 *		event-loop iteration (before the process sleeps) every waiting
 *		file is fsynced - the first fsync commits the file system
 *		journal for all of them, so the rest are cheap - and only then
 *		made visible and acknowledged.  Order per file:
 *
 *		1. write the size record, flush, fsync;
 *		2. from pickup: remove maildrop/ID (the message now exists
 *		   only as this invisible, complete queue file);
 *		3. set the owner execute bit: qmgr may take it now;
 *		4. answer the client ("250" for SMTP).
 *
 *		A crash between 2 and 3 leaves a complete but invisible file
 *		that qmgr's recovery makes visible; a crash before 2 leaves
 *		the maildrop file, which pickup sends again under the same
 *		ID.  So nothing acknowledged is lost and nothing is queued
 *		twice.  One qmgr trigger wakes the queue manager per batch;
 *		it names the new files, so that qmgr need not read incoming/.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mail/cleanup_clnt.h"
#include "mail/mail_conf.h"
#include "mail/queue.h"
#include "mail/rec.h"
#include "mail/trigger.h"
#include "util/events.h"
#include "util/files.h"
#include "util/log.h"
#include "util/mem.h"
#include "util/strutil.h"
#include "cleanup.h"

/* Longest trigger with IDs; more new files make it a plain scan. */
#define CLEANUP_TRIGGER_MAX	900

static struct cleanup_state *commit_head;
static struct cleanup_state **commit_tail = &commit_head;

/* cleanup_discard_file - close and remove an unfinished queue file */
void
cleanup_discard_file(struct cleanup_state *st)
{
	if (st->fd < 0)
		return;
	close(st->fd);
	st->fd = -1;
	buf_reset(&st->out);
	if (st->path.len && unlink(st->path.p) < 0 && errno != ENOENT)
		log_warn("remove %s: %m", st->path.p);
}

/* cleanup_write_size - the final size record, in place */
static int
cleanup_write_size(struct cleanup_state *st)
{
	char size[128];

	snprintf(size, sizeof(size), REC_SIZE_FMT, st->content_size,
	    st->data_offset, st->rcpt_count, st->xtra_offset, 0L);
	return pwrite_all(st->fd, size, REC_SIZE_LEN, st->size_offset);
}

/* cleanup_trim - cut what a reused (spare) file had beyond the message */
static int
cleanup_trim(struct cleanup_state *st)
{
	if (st->spare_size <= (off_t)st->file_pos)
		return 0;
	return ftruncate(st->fd, (off_t)st->file_pos);
}

/*
 * cleanup_end_message - the end record arrived.  On success the message joins
 * the commit list; otherwise the client gets its error now.
 */
void
cleanup_end_message(struct cleanup_state *st)
{
	if (st->status == CLEANUP_STAT_OK && !st->discard) {
		if (st->rcpt_count == 0) {
			cleanup_fail(st, CLEANUP_STAT_RCPT, "no recipients "
			    "specified");
		} else {
			cleanup_out(st, REC_END, "", 0);
			if (cleanup_flush(st) == 0 && (cleanup_write_size(st) <
			    0 || cleanup_trim(st) < 0))
				cleanup_fail(st, CLEANUP_STAT_WRITE, "error "
				    "writing queue file: %s", strerror(errno));
		}
	}
	if (st->status != CLEANUP_STAT_OK) {
		log_info("%s: reject: %s from %s: %s", st->id[0] ? st->id :
		    "NOQUEUE", st->source, st->sender ? st->sender : "",
		    st->reason.len ? st->reason.p :
		    cleanup_stat_text(st->status));
		cleanup_reply_final(st);
		return;
	}
	st->phase = CL_PHASE_COMMIT;
	st->next_commit = NULL;
	*commit_tail = st;
	commit_tail = &st->next_commit;
}

/*
 * cleanup_commit_one - make one synced file visible and answer; 1 when it
 * is now ready in incoming/
 */
static int
cleanup_commit_one(struct cleanup_state *st, int synced)
{
	struct buf md = BUF_INIT;
	int ready = 0;

	if (!st->discard && !synced) {
		log_warn("%s: fsync queue file: %m", st->id);
		cleanup_fail(st, CLEANUP_STAT_WRITE, "error writing queue "
		    "file: %s", strerror(errno));
		cleanup_reply_final(st);
		return 0;
	}
	if (st->pickup_id) {
		queue_path(&md, Q_MAILDROP, st->id);
		if (unlink(md.p) < 0 && errno != ENOENT)
			log_warn("%s: remove %s: %m", st->id, md.p);
		buf_free(&md);
	}
	if (!st->discard) {
		if (fchmod(st->fd, QUEUE_MODE_READY) < 0) {
			log_warn("%s: chmod: %m", st->id);
			cleanup_fail(st, CLEANUP_STAT_WRITE, "error "
			    "finishing queue file");
			cleanup_reply_final(st);
			return 0;
		}
		close(st->fd);
		st->fd = -1;
		ready = 1;
		if (st->flags & CLEANUP_FLAG_HOLD) {
			if (queue_rename(st->id, Q_INCOMING, Q_HOLD) < 0) {
				log_warn("%s: move to hold: %m", st->id);
			} else {
				log_info("%s: placed on hold", st->id);
				ready = 0;
			}
		}
		if (st->message_id)
			log_info("%s: message-id=%s", st->id, st->message_id);
		else
			log_info("%s: message-id=<>", st->id);
	}
	cleanup_reply_final(st);
	return ready;
}

/*
 * cleanup_commit - the group commit, once per loop iteration.  qmgr gets
 * one trigger that names the new files ("N" requests), so that it need
 * not read incoming/; when they do not fit in one trigger, a plain "I"
 * makes it scan.
 */
static void
cleanup_commit(void *ctx)
{
	struct cleanup_state *list = commit_head, *st, *next;
	struct buf trig = BUF_INIT;
	int any = 0, scan = 0;

	(void)ctx;
	if (list == NULL)
		return;
	commit_head = NULL;
	commit_tail = &commit_head;
	/* First make every file durable ... */
	for (st = list; st; st = st->next_commit)
		if (!st->discard && fsync(st->fd) < 0)
			st->status = -1;	/* marker: fsync failed */
	/* ... then publish them. */
	for (st = list; st; st = next) {
		int synced = st->status == CLEANUP_STAT_OK;
		char id[QID_MAX];

		next = st->next_commit;
		if (!synced)
			st->status = CLEANUP_STAT_OK;
		/* st may be gone once the client has its answer. */
		strlcpy_trunc(id, st->id, sizeof(id));
		if (!cleanup_commit_one(st, synced))
			continue;
		any = 1;
		if (trig.len > CLEANUP_TRIGGER_MAX)
			scan = 1;
		else
			buf_printf(&trig, "%c%s\n", QMGR_REQ_NEW_ID, id);
	}
	if (any && mail_trigger("public/qmgr", scan ? "I" : buf_str(&trig)) <
	    0)
		log_debug("trigger qmgr: %m");
	buf_free(&trig);
}

/* cleanup_commit_init - run the group commit before each sleep */
void
cleanup_commit_init(void)
{
	event_hook(cleanup_commit, NULL);
}
