/*
 * NAME		qfile - reading queue files
 * DESCRIPTION	The envelope reader checks that the file starts with the
 *		version and size records, that recipients carry at most one
 *		original-recipient and one notify record before them, that the
 *		content section is where the size record says, and that the
 *		file ends with an end record.  It seeks over the content, so
 *		reading the envelope of a large message costs two short reads.
 * SECURITY	Queue files are written by cleanup, but a reader trusts no
 *		one: every record length and count is bounded and every
 *		offset checked against the file size.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/files.h"
#include "util/log.h"
#include "util/mem.h"
#include "util/strutil.h"
#include "qfile.h"
#include "rec.h"

/* qfile_env_free - release an envelope */
void
qfile_env_free(struct qfile_env *e)
{
	size_t i;

	free(e->sender);
	argv_clear(&e->attrs);
	for (i = 0; i < e->nrcpt; i++) {
		free(e->rcpts[i].addr);
		free(e->rcpts[i].orig);
	}
	free(e->rcpts);
	memset(e, 0, sizeof(*e));
}

/* qfile_attr - value of a named attribute, or NULL */
const char *
qfile_attr(const struct qfile_env *e, const char *name)
{
	size_t i, n = strlen(name);

	for (i = 0; i < e->attrs.n; i++)
		if (strncmp(e->attrs.v[i], name, n) == 0 &&
		    e->attrs.v[i][n] == '=')
			return e->attrs.v[i] + n + 1;
	return NULL;
}

/* qfile_parse_size - the fixed-width size record */
static int
qfile_parse_size(struct qfile_env *e, const char *p, size_t len)
{
	char tmp[REC_SIZE_LEN + 1];

	if (len != REC_SIZE_LEN)
		return -1;
	memcpy(tmp, p, len);
	tmp[len] = 0;
	if (sscanf(tmp, "%ld %ld %ld %ld %ld", &e->data_size,
	    &e->data_offset, &e->rcpt_count, &e->xtra_offset, &e->flags) != 5)
		return -1;
	if (e->data_size < 0 || e->data_offset < 0 || e->rcpt_count < 0 ||
	    e->xtra_offset < 0)
		return -1;
	return 0;
}

/*
 * qfile_env_add_rcpt - append the recipient of a checked R or D record
 * at offset; it takes *orig (the O record before it, or NULL) and the
 * notify flags.  *cap is the caller's allocation count.
 */
void
qfile_env_add_rcpt(struct qfile_env *e, size_t *cap, const struct buf *rec,
    char **orig, int notify, long offset, int done)
{
	struct qfile_rcpt *rc;

	if (e->nrcpt == *cap) {
		*cap = *cap ? *cap * 2 : 4;
		e->rcpts = xreallocarray(e->rcpts, *cap, sizeof(*e->rcpts));
	}
	rc = &e->rcpts[e->nrcpt++];
	rc->addr = xstrndup(rec->p, rec->len);
	rc->orig = *orig ? *orig : xstrdup("");
	*orig = NULL;
	rc->notify = notify;
	rc->offset = offset;
	rc->done = done;
	if (done)
		e->ndone++;
}

/*
 * qfile_read_env - read the envelope and the extracted section of the
 * queue file open on fd.  Returns 0, or -1 with a reason (the file is
 * malformed or incomplete).
 */
int
qfile_read_env(int fd, struct qfile_env *e, struct buf *why)
{
	struct stream *s;
	struct buf rec = BUF_INIT;
	struct stat st;
	int type, r = -1, section = 0, seen_end = 0;
	long pos = 0;
	char *orig = NULL;
	int notify = 0, have_notify = 0;
	size_t rcap = 0;

	memset(e, 0, sizeof(*e));
	argv_init(&e->attrs);
	if (fstat(fd, &st) < 0) {
		buf_printf(why, "fstat: %s", strerror(errno));
		return -1;
	}
	if (lseek(fd, 0, SEEK_SET) < 0) {
		buf_printf(why, "seek: %s", strerror(errno));
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
		if (start == 0 && (type != REC_VERSION ||
		    strcmp(rec.p, REC_VERSION_TEXT) != 0)) {
			buf_sets(why, "not a Postern queue file (bad version "
			    "record)");
			goto out;
		}
		if (start > 0 && e->size_offset == 0 && type != REC_SIZE) {
			buf_sets(why, "size record missing");
			goto out;
		}
		switch (type) {
		case REC_VERSION:
			if (start != 0) {
				buf_sets(why, "misplaced version record");
				goto out;
			}
			continue;
		case REC_SIZE:
			if (e->size_offset || qfile_parse_size(e, rec.p,
			    rec.len) < 0) {
				buf_sets(why, "bad size record");
				goto out;
			}
			e->size_offset = pos - (long)rec.len;
			continue;
		case REC_TIME:
			if (sscanf(rec.p, "%ld %ld", &e->arrival_sec,
			    &e->arrival_usec) != 2) {
				buf_sets(why, "bad time record");
				goto out;
			}
			continue;
		case REC_WARN:
			if (rec.len != REC_WARN_LEN ||
			    sscanf(rec.p, "%ld", &e->warn_time) != 1) {
				buf_sets(why, "bad warning record");
				goto out;
			}
			e->warn_offset = pos - (long)rec.len;
			continue;
		case REC_ATTR:
			if (strchr(rec.p, '=') == NULL ||
			    memchr(rec.p, 0, rec.len) || e->attrs.n >= 1000) {
				buf_sets(why, "bad attribute record");
				goto out;
			}
			argv_addn(&e->attrs, rec.p, rec.len);
			continue;
		case REC_FROM:
			if (e->sender || rec.len > QFILE_ADDR_MAX ||
			    memchr(rec.p, 0, rec.len)) {
				buf_sets(why, "bad sender record");
				goto out;
			}
			e->sender = xstrndup(rec.p, rec.len);
			continue;
		case REC_ORCP:
			if (orig || rec.len > QFILE_ADDR_MAX ||
			    memchr(rec.p, 0, rec.len)) {
				buf_sets(why, "bad original recipient record");
				goto out;
			}
			orig = xstrndup(rec.p, rec.len);
			continue;
		case REC_NOTIFY:
			{
				long n;

				if (have_notify || parse_long(rec.p, &n) < 0 ||
				    n < 0 || n > 15) {
					buf_sets(why, "bad notify record");
					goto out;
				}
				notify = (int)n;
				have_notify = 1;
			}
			continue;
		case REC_RCPT:
		case REC_DONE:
			if (rec.len == 0 || rec.len > QFILE_ADDR_MAX ||
			    memchr(rec.p, 0, rec.len) ||
			    e->nrcpt >= QFILE_RCPT_MAX) {
				buf_sets(why, "bad recipient record");
				goto out;
			}
			qfile_env_add_rcpt(e, &rcap, &rec, &orig, notify, start,
			    type == REC_DONE);
			notify = have_notify = 0;
			continue;
		case REC_MESG:
			if (section != 0 || start != e->data_offset ||
			    e->xtra_offset <= e->data_offset ||
			    e->xtra_offset >= st.st_size) {
				buf_sets(why, "bad content offsets");
				goto out;
			}
			/* Skip the content: continue at the X record. */
			section = 1;
			if (lseek(fd, e->xtra_offset, SEEK_SET) < 0) {
				buf_printf(why, "seek: %s", strerror(errno));
				goto out;
			}
			stream_release(s);
			s = stream_open(fd, 0);
			pos = e->xtra_offset;
			continue;
		case REC_XTRA:
			if (section != 1) {
				buf_sets(why, "misplaced extracted record");
				goto out;
			}
			section = 2;
			continue;
		case REC_END:
			seen_end = 1;
			break;
		default:
			buf_printf(why, "unexpected record type '%c'", type);
			goto out;
		}
		break;
	}
	if (!seen_end || section != 2) {
		buf_sets(why, "incomplete queue file");
		goto out;
	}
	if (orig || have_notify) {
		buf_sets(why, "dangling recipient attributes");
		goto out;
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

/* qfile_mark_done - mark the recipient at offset delivered */
int
qfile_mark_done(int fd, long offset)
{
	char c = REC_DONE;

	return pwrite_all(fd, &c, 1, offset);
}

/* qfile_set_warn - rewrite the delay warning time in place */
int
qfile_set_warn(int fd, long offset, long when)
{
	char tmp[64];

	snprintf(tmp, sizeof(tmp), REC_WARN_FMT, when);
	return pwrite_all(fd, tmp, REC_WARN_LEN, offset);
}

/* qfile_content_open - position at the first content line */
int
qfile_content_open(struct qfile_content *c, int fd,
    const struct qfile_env *e, struct buf *why)
{
	return qfile_content_open_at(c, fd, e->data_offset, why);
}

/*
 * qfile_content_open_at - position at the first content line, given only
 * the offset of the M record (a delivery request carries it, so agents
 * need not read the envelope).
 */
int
qfile_content_open_at(struct qfile_content *c, int fd, long data_offset,
    struct buf *why)
{
	int type;

	memset(c, 0, sizeof(*c));
	if (data_offset <= 0) {
		buf_sets(why, "bad content offset");
		return -1;
	}
	if (lseek(fd, data_offset, SEEK_SET) < 0) {
		buf_printf(why, "seek: %s", strerror(errno));
		return -1;
	}
	c->s = stream_open(fd, 0);
	if (rec_read(c->s, &type, &c->rec, 16) < 0 || type != REC_MESG) {
		buf_sets(why, "content record missing");
		stream_release(c->s);
		c->s = NULL;
		return -1;
	}
	return 0;
}

/*
 * qfile_content_line - next content line (without line end) into line.
 * A line stored as partial records is joined.  Returns 1 for a line, 0 at
 * the end of the content, -1 on error.  *partial is set when a line was
 * longer than max and was returned in pieces (max 0: no limit).
 */
int
qfile_content_line(struct qfile_content *c, struct buf *line, int *partial)
{
	int type;

	buf_reset(line);
	if (partial)
		*partial = 0;
	if (c->done)
		return 0;
	for (;;) {
		if (rec_read(c->s, &type, &c->rec, REC_LEN_MAX) < 0)
			return -1;
		if (type == REC_XTRA) {
			c->done = 1;
			if (line->len)
				return 1;
			return 0;
		}
		if (type != REC_NORM && type != REC_CONT)
			return -1;
		buf_put(line, c->rec.p, c->rec.len);
		if (type == REC_NORM)
			return 1;
		if (line->len > 64 * 1024 * 1024)
			return -1;
	}
}

/* qfile_content_close - release the walker (the fd stays open) */
void
qfile_content_close(struct qfile_content *c)
{
	stream_release(c->s);
	buf_free(&c->rec);
	memset(c, 0, sizeof(*c));
}
