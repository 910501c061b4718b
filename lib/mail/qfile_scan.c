/*
 * NAME		qfile_scan - tolerant envelope reader for listings
 * DESCRIPTION	Reads records from the start of the file until the M
 *		record.  A version record must come first when present; a
 *		size record is used when it parses and ignored otherwise;
 *		time, warning, attribute, sender, original recipient, notify,
 *		recipient and done records are collected as qfile_read_env()
 *		collects them, in any order.  Message text, X or E before the
 *		M record, a second sender, or a file that ends before M is an
 *		error.  An original-recipient or notify record that no
 *		recipient follows is dropped.
 * SECURITY	The input is untrusted (maildrop files are written by any
 *		local user).  Record lengths are bounded by rec_read() before
 *		allocation; addresses by QFILE_ADDR_MAX, recipients by
 *		QFILE_RCPT_MAX, attributes by 1000; NUL bytes are refused.
 * SEE ALSO	qfile(3), showq(8), doc/queue-format.md
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/mem.h"
#include "util/strutil.h"
#include "qfile_scan.h"
#include "rec.h"

/* scan_size - the size record, when well formed */
static void
scan_size(struct qfile_env *e, const struct buf *rec, long pos)
{
	long v[5];

	if (rec->len != REC_SIZE_LEN || sscanf(rec->p, "%ld %ld %ld %ld %ld",
	    &v[0], &v[1], &v[2], &v[3], &v[4]) != 5 || v[0] < 0)
		return;
	e->data_size = v[0];
	e->rcpt_count = v[2];
	e->flags = v[4];
	e->size_offset = pos - (long)rec->len;
}

/* scan_text_ok - a bounded string without NUL bytes */
static int
scan_text_ok(const struct buf *rec, size_t max)
{
	return rec->len <= max && (rec->len == 0 ||
	    memchr(rec->p, 0, rec->len) == NULL);
}

/*
 * qfile_scan_env - read the envelope of the file open on fd (from its
 * start).  Returns 0, or -1 with a reason.
 */
int
qfile_scan_env(int fd, struct qfile_env *e, struct buf *why)
{
	struct stream *s;
	struct buf rec = BUF_INIT;
	char *orig = NULL;
	int type, notify = 0, r = -1;
	long pos = 0;
	size_t rcap = 0;

	memset(e, 0, sizeof(*e));
	argv_init(&e->attrs);
	if (lseek(fd, 0, SEEK_SET) < 0) {
		buf_printf(why, "seek: %s", strerror(errno));
		qfile_env_free(e);
		return -1;
	}
	s = stream_open(fd, 0);
	for (;;) {
		long start = pos;
		int rr = rec_read(s, &type, &rec, REC_LEN_MAX);

		if (rr < 0) {
			buf_sets(why, rr == -2 ? "malformed record" :
			    "premature end of file");
			goto out;
		}
		pos += (long)(rec_header_len(rec.len) + rec.len);
		switch (type) {
		case REC_VERSION:
			if (start != 0) {
				buf_sets(why, "misplaced version record");
				goto out;
			}
			continue;
		case REC_SIZE:
			if (e->size_offset == 0)
				scan_size(e, &rec, pos);
			continue;
		case REC_TIME:
			if (sscanf(rec.p, "%ld %ld", &e->arrival_sec,
			    &e->arrival_usec) < 1) {
				buf_sets(why, "bad time record");
				goto out;
			}
			continue;
		case REC_WARN:
			continue;
		case REC_ATTR:
			if (!scan_text_ok(&rec, REC_LEN_MAX) ||
			    memchr(rec.p, '=', rec.len) == NULL ||
			    e->attrs.n >= 1000) {
				buf_sets(why, "bad attribute record");
				goto out;
			}
			argv_addn(&e->attrs, rec.p, rec.len);
			continue;
		case REC_FROM:
			if (e->sender || !scan_text_ok(&rec, QFILE_ADDR_MAX)) {
				buf_sets(why, "bad sender record");
				goto out;
			}
			e->sender = xstrndup(rec.p, rec.len);
			continue;
		case REC_ORCP:
			if (!scan_text_ok(&rec, QFILE_ADDR_MAX)) {
				buf_sets(why, "bad original recipient record");
				goto out;
			}
			free(orig);
			orig = xstrndup(rec.p, rec.len);
			continue;
		case REC_NOTIFY:
			{
				long n;

				if (parse_long(rec.p, &n) < 0 || n < 0 ||
				    n > 15) {
					buf_sets(why, "bad notify record");
					goto out;
				}
				notify = (int)n;
			}
			continue;
		case REC_RCPT:
		case REC_DONE:
			if (rec.len == 0 ||
			    !scan_text_ok(&rec, QFILE_ADDR_MAX) ||
			    e->nrcpt >= QFILE_RCPT_MAX) {
				buf_sets(why, "bad recipient record");
				goto out;
			}
			qfile_env_add_rcpt(e, &rcap, &rec, &orig, notify, start,
			    type == REC_DONE);
			notify = 0;
			continue;
		case REC_MESG:
			e->data_offset = start;
			break;
		default:
			buf_printf(why, "unexpected record type '%c' in the "
			    "envelope", type);
			goto out;
		}
		break;
	}
	if (e->sender == NULL) {
		buf_sets(why, "no sender record");
		goto out;
	}
	r = 0;
out:
	free(orig);
	stream_release(s);
	buf_free(&rec);
	if (r < 0)
		qfile_env_free(e);
	return r;
}
