/*
 * NAME		mail_copy - write a queued message to a file or a command
 * DESCRIPTION	The output is buffered and written in large chunks; the
 *		byte count is checked against the limit before each write, so
 *		a mailbox never grows beyond mailbox_size_limit even for a
 *		moment.  Lines that were stored as several partial records
 *		are written as one line, and the ">From " quoting looks only
 *		at the start of a line, as mail readers expect.  Addresses in
 *		the added headers are quoted (RFC 5322) and the Delivered-To:
 *		address is folded to lower case, so that a later loop check
 *		compares like with like.
 * SECURITY	The caller opens the output with the recipient's privileges;
 *		mail_copy() only reads the queue file and writes the
 *		descriptor.  Control characters in addresses reach the
 *		output only inside quoted strings.
 * SEE ALSO	local(8), virtual(8), doc/local.md
 */
#include <errno.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "util/files.h"
#include "util/strutil.h"
#include "addr.h"
#include "mail_copy.h"
#include "qfile.h"

#define MAIL_COPY_CHUNK	65536

struct mc_out {
	int	 fd;
	off_t	 limit;			/* 0: none */
	off_t	 written;
	struct buf b;
	int	 err;
};

/* mc_flush - write the buffer; -1 with out->err on error */
static int
mc_flush(struct mc_out *out)
{
	if (out->b.len == 0)
		return 0;
	if (out->limit > 0 && out->written + (off_t)out->b.len > out->limit) {
		out->err = EFBIG;
		return -1;
	}
	if (write_all(out->fd, out->b.p, out->b.len) < 0) {
		out->err = errno ? errno : EIO;
		return -1;
	}
	out->written += (off_t)out->b.len;
	buf_reset(&out->b);
	return 0;
}

/* mc_put - buffer bytes, writing when the buffer is full */
static int
mc_put(struct mc_out *out, const char *p, size_t len)
{
	while (len > 0) {
		size_t room = MAIL_COPY_CHUNK - out->b.len;
		size_t n = len < room ? len : room;

		buf_put(&out->b, p, n);
		p += n;
		len -= n;
		if (out->b.len >= MAIL_COPY_CHUNK && mc_flush(out) < 0)
			return -1;
	}
	return 0;
}

/*
 * mail_copy_from_line - the mbox "From sender date" line (without line
 * end) into out; the empty sender is written as MAILER-DAEMON.
 */
void
mail_copy_from_line(struct buf *out, const char *sender, time_t now)
{
	struct buf q = BUF_INIT;
	struct tm tm;
	char date[64];

	if (now == 0)
		now = time(NULL);
	if (localtime_r(&now, &tm) == NULL ||
	    strftime(date, sizeof(date), "%a %b %e %H:%M:%S %Y", &tm) == 0)
		strlcpy_trunc(date, "Thu Jan  1 00:00:00 1970", sizeof(date));
	addr_quote(sender, &q);
	buf_reset(out);
	buf_printf(out, "From %s  %s", q.len ? q.p : MAIL_COPY_DAEMON, date);
	buf_free(&q);
}

/* mc_headers - the lines that go in front of the message */
static void
mc_headers(const struct mail_copy_src *src, int flags, struct buf *out)
{
	struct buf q = BUF_INIT, line = BUF_INIT;
	size_t i;

	if (flags & MAIL_COPY_FROM) {
		mail_copy_from_line(&line, src->sender, src->now);
		buf_put(out, line.p, line.len);
		buf_putc(out, '\n');
	}
	if (flags & MAIL_COPY_RETURN_PATH) {
		addr_quote(src->sender, &q);
		buf_printf(out, "Return-Path: <%s>\n", buf_str(&q));
	}
	if ((flags & MAIL_COPY_ORIG_RCPT) && src->orig_rcpt &&
	    *src->orig_rcpt) {
		addr_quote(src->orig_rcpt, &q);
		buf_printf(out, "X-Original-To: %s\n", buf_str(&q));
	}
	if ((flags & MAIL_COPY_DELIVERED) && src->delivered &&
	    *src->delivered) {
		addr_quote(src->delivered, &q);
		for (i = 0; i < q.len; i++)
			if (q.p[i] >= 'A' && q.p[i] <= 'Z')
				q.p[i] = (char)(q.p[i] - 'A' + 'a');
		buf_printf(out, "Delivered-To: %s\n", buf_str(&q));
	}
	buf_free(&q);
	buf_free(&line);
}

/*
 * mail_copy - copy the message to fd dst with the given MAIL_COPY_*
 * flags, writing at most limit bytes (0: no limit).  Returns a
 * MAIL_COPY_STAT_* code with a reason; for MAIL_COPY_STAT_WRITE, *err is
 * the errno value (EFBIG when the limit was reached).  *written (may be
 * NULL) is the number of bytes written, also on error, so that the caller
 * can undo them.  The caller fsyncs.
 */
int
mail_copy(const struct mail_copy_src *src, int dst, int flags, off_t limit,
    off_t *written, struct buf *why, int *err)
{
	struct qfile_content qc;
	struct buf line = BUF_INIT, head = BUF_INIT, rwhy = BUF_INIT;
	struct mc_out out;
	int r, status = MAIL_COPY_STAT_OK;

	memset(&out, 0, sizeof(out));
	out.fd = dst;
	out.limit = limit;
	buf_init(&out.b);
	*err = 0;
	if (written)
		*written = 0;
	if (qfile_content_open_at(&qc, src->fd, src->data_offset,
	    &rwhy) < 0) {
		buf_printf(why, "error reading queue file: %s",
		    buf_str(&rwhy));
		buf_free(&rwhy);
		buf_free(&out.b);
		return MAIL_COPY_STAT_READ;
	}
	mc_headers(src, flags, &head);
	if (mc_put(&out, head.p, head.len) < 0)
		goto write_error;
	while ((r = qfile_content_line(&qc, &line, NULL)) > 0) {
		if ((flags & MAIL_COPY_QUOTE) && line.len >= 5 &&
		    memcmp(line.p, "From ", 5) == 0 && mc_put(&out, ">", 1) < 0)
			goto write_error;
		if (mc_put(&out, line.p, line.len) < 0 ||
		    mc_put(&out, "\n", 1) < 0)
			goto write_error;
	}
	if (r < 0) {
		buf_sets(why, "error reading queue file: malformed or "
		    "truncated content");
		status = MAIL_COPY_STAT_READ;
		goto done;
	}
	if ((flags & MAIL_COPY_BLANK) && mc_put(&out, "\n", 1) < 0)
		goto write_error;
	if (mc_flush(&out) < 0)
		goto write_error;
	goto done;

write_error:
	status = MAIL_COPY_STAT_WRITE;
	*err = out.err;
	buf_printf(why, "error writing message: %s", strerror(out.err));
done:
	if (written)
		*written = out.written;
	qfile_content_close(&qc);
	buf_free(&line);
	buf_free(&head);
	buf_free(&rwhy);
	buf_free(&out.b);
	return status;
}
