/*
 * NAME		deliver - one delivery request of virtual(8)
 * DESCRIPTION	For each recipient of the request, in this order:
 *
 *		1. Loop check: a Delivered-To: header equal to the recipient
 *		   bounces it (5.4.6, mail forwarding loop).
 *		2. virtual_mailbox_maps: the mailbox.  Keys (addr_find(3)):
 *		   the address, the address without its extension
 *		   (recipient_delimiter), "@domain".  Not found bounces (5.1.1
 *		   unknown user); a table error defers (4.3.0).
 *		3. virtual_uid_maps and virtual_gid_maps, same keys: the
 *		   owner of the delivery.  A missing entry, a value that is
 *		   not a number, a uid below virtual_minimum_uid or gid 0 is a
 *		   configuration error: the recipient is deferred (4.3.0,
 *		   "mail system configuration error: ...") and a warning
 *		   names the table, so that mail waits until the postmaster
 *		   fixes the tables.
 *		4. virtual_mailbox_limit_maps, same keys: the mailbox size
 *		   limit in bytes (0: none); when not found,
 *		   virtual_mailbox_limit.
 *		5. The delivery (mailbox.c).
 * SECURITY	Runs as root; mailbox.c switches to the mapped ids for every
 *		file access.  Table values are checked before use.
 * SEE ALSO	virtual(8), doc/virtual.md
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <string.h>
#include <unistd.h>

#include "dict/addr_find.h"
#include "mail/delivered.h"
#include "mail/mail_conf.h"
#include "mail/queue.h"
#include "server/server.h"
#include "util/log.h"
#include "util/strutil.h"
#include "virtual.h"

/* virtual_set - the outcome of a recipient */
static void
virtual_set(struct virtual_result *vr, int status, const char *dsn,
    const char *fmt, ...)
{
	va_list ap;

	vr->status = status;
	strlcpy_trunc(vr->dsn, dsn, sizeof(vr->dsn));
	buf_reset(&vr->reason);
	va_start(ap, fmt);
	buf_vprintf(&vr->reason, fmt, ap);
	va_end(ap);
}

/*
 * virtual_find - addr in one of the tables (NULL: nothing found).
 * Returns DICT_FOUND, DICT_NOTFOUND or DICT_ERROR (logged).
 */
static int
virtual_find(struct maps *m, const char *title, const char *addr,
    struct buf *value, const char *qid)
{
	struct buf why = BUF_INIT;
	int r;

	if (m == NULL)
		return DICT_NOTFOUND;
	r = addr_find(m, addr, 0, value, NULL, &why);
	if (r == DICT_ERROR)
		log_warn("%s: %s: lookup of %s failed: %s", qid, title, addr,
		    buf_str(&why));
	buf_free(&why);
	return r;
}

/*
 * virtual_id - the uid or gid of addr from table m; 0, or -1 with the
 * outcome set
 */
static int
virtual_id(const struct deliver_req *req, struct maps *m, const char *title,
    const char *addr, unsigned long min, unsigned long *id,
    struct virtual_result *vr)
{
	struct buf val = BUF_INIT;
	int r, rc = -1;

	r = virtual_find(m, title, addr, &val, req->queue_id);
	if (r == DICT_ERROR) {
		virtual_set(vr, DEL_STAT_DEFER, "4.3.0", "%s: table lookup "
		    "failure", title);
	} else if (r == DICT_NOTFOUND) {
		log_warn("%s: recipient %s: not found in %s", req->queue_id,
		    addr, title);
		virtual_set(vr, DEL_STAT_DEFER, "4.3.0", "mail system "
		    "configuration error: recipient not found in %s", title);
	} else if (virtual_parse_id(str_trim(val.p), id) < 0) {
		log_warn("%s: recipient %s: bad value \"%.100s\" in %s",
		    req->queue_id, addr, val.p, title);
		virtual_set(vr, DEL_STAT_DEFER, "4.3.0", "mail system "
		    "configuration error: bad value in %s", title);
	} else if (*id < min) {
		log_warn("%s: recipient %s: %s gives %lu, below %s (%lu)",
		    req->queue_id, addr, title, *id, min == 1 ?
		    "1" : "virtual_minimum_uid", min);
		virtual_set(vr, DEL_STAT_DEFER, "4.3.0", "mail system "
		    "configuration error: %s gives %lu, below %s", title, *id,
		    min == 1 ? "1" : "virtual_minimum_uid");
	} else {
		rc = 0;
	}
	buf_free(&val);
	return rc;
}

/* virtual_recipient - deliver to recipient i (see the top of the file) */
static void
virtual_recipient(const struct deliver_req *req, size_t i, int fd,
    struct htable *delivered, struct virtual_result *vr)
{
	const char *addr = req->rcpts[i].addr;
	struct virtual_box box;
	struct buf val = BUF_INIT, path = BUF_INIT, why = BUF_INIT;
	unsigned long uid, gid;
	off_t limit;
	int r;

	if (delivered_seen(delivered, addr)) {
		virtual_set(vr, DEL_STAT_BOUNCE, "5.4.6", "mail forwarding "
		    "loop for %s", addr);
		goto out;
	}
	r = virtual_find(virtual_maps.mailbox, "virtual_mailbox_maps", addr,
	    &val, req->queue_id);
	if (r == DICT_ERROR) {
		virtual_set(vr, DEL_STAT_DEFER, "4.3.0", "virtual_mailbox_maps: "
		    "table lookup failure");
		goto out;
	}
	if (r == DICT_NOTFOUND) {
		virtual_set(vr, DEL_STAT_BOUNCE, "5.1.1", "unknown user: "
		    "\"%s\"", addr);
		goto out;
	}
	memset(&box, 0, sizeof(box));
	if (virtual_path(virtual_cfg.virtual_mailbox_base, str_trim(val.p),
	    &path, &box.maildir, &why) < 0) {
		log_warn("%s: recipient %s: virtual_mailbox_maps: %s",
		    req->queue_id, addr, buf_str(&why));
		virtual_set(vr, DEL_STAT_DEFER, "4.3.0", "mail system "
		    "configuration error: bad mailbox path in "
		    "virtual_mailbox_maps");
		goto out;
	}
	if (virtual_id(req, virtual_maps.uid, "virtual_uid_maps", addr,
	    (unsigned long)virtual_cfg.virtual_minimum_uid, &uid, vr) < 0 ||
	    virtual_id(req, virtual_maps.gid, "virtual_gid_maps", addr, 1,
	    &gid, vr) < 0)
		goto out;
	limit = (off_t)virtual_cfg.virtual_mailbox_limit;
	r = virtual_find(virtual_maps.limit, "virtual_mailbox_limit_maps",
	    addr, &val, req->queue_id);
	if (r == DICT_ERROR) {
		virtual_set(vr, DEL_STAT_DEFER, "4.3.0",
		    "virtual_mailbox_limit_maps: table lookup failure");
		goto out;
	}
	if (r == DICT_FOUND && virtual_parse_limit(val.p, &limit) < 0) {
		log_warn("%s: recipient %s: bad value \"%.100s\" in "
		    "virtual_mailbox_limit_maps", req->queue_id, addr, val.p);
		virtual_set(vr, DEL_STAT_DEFER, "4.3.0", "mail system "
		    "configuration error: bad value in "
		    "virtual_mailbox_limit_maps");
		goto out;
	}
	box.addr = addr;
	box.orig = req->rcpts[i].orig && *req->rcpts[i].orig ?
	    req->rcpts[i].orig : addr;
	box.path = path.p;
	box.uid = (uid_t)uid;
	box.gid = (gid_t)gid;
	box.limit = limit;
	virtual_mailbox(req, i, fd, &box, vr);
out:
	buf_free(&val);
	buf_free(&path);
	buf_free(&why);
}

/*
 * virtual_deliver_message - deliver one request; out has one result per
 * request recipient.
 */
void
virtual_deliver_message(const struct deliver_req *req,
    struct deliver_result *out)
{
	const char *service = srv.service ? srv.service : "virtual";
	struct htable *delivered = htable_create(16);
	struct virtual_result vr;
	struct buf path = BUF_INIT, why = BUF_INIT;
	int fd = -1, ok = 1;
	size_t i;

	buf_init(&vr.reason);
	queue_path(&path, req->queue_name, req->queue_id);
	if ((fd = open(path.p, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) < 0) {
		log_warn("%s: cannot open queue file %s: %s", req->queue_id,
		    path.p, strerror(errno));
		buf_sets(&why, "queue file unavailable");
		ok = 0;
	} else if (delivered_collect(fd, req->data_offset, delivered,
	    &why) < 0) {
		log_warn("%s: %s", req->queue_id, buf_str(&why));
		ok = 0;
	}
	for (i = 0; i < req->nrcpt; i++) {
		int64_t start = time_epoch_us();

		if (ok)
			virtual_recipient(req, i, fd, delivered, &vr);
		else
			virtual_set(&vr, DEL_STAT_DEFER, "4.3.0", "%s",
			    buf_str(&why));
		deliver_log(req, i, service, start, time_epoch_us(), vr.dsn,
		    vr.status == DEL_STAT_OK ? "sent" : vr.status ==
		    DEL_STAT_BOUNCE ? "bounced" : "deferred",
		    buf_str(&vr.reason));
		deliver_result_set(&out[i], vr.status, vr.dsn, "%s",
		    buf_str(&vr.reason));
	}
	if (fd >= 0)
		(void)close(fd);
	htable_free(delivered, NULL);
	buf_free(&vr.reason);
	buf_free(&path);
	buf_free(&why);
}
