/*
 * NAME		qdump - show a queue file in human-readable form (postcat)
 * DESCRIPTION	A small state machine walks the records in file order:
 *		envelope, then (after the M record) the primary header, then
 *		the body (from the first line that is neither a header line
 *		nor a continuation line), then (after X) the extracted
 *		records, then the end record.  Envelope records print as
 *		Postfix names them (message_size, message_arrival_time,
 *		named_attribute, sender, original_recipient, recipient,
 *		done_recipient, ...); times print as asctime(3) does, in local
 *		time.  A line stored as partial records prints joined, unless
 *		offsets are shown, then each record gets a line.
 *
 *		A record out of place (content before M, a second M, X or E
 *		where they cannot be, envelope records inside the content) or
 *		a file that ends before its end record is an error: the dump
 *		stops there with a reason that names the offset.  Output
 *		already produced stays, so the reader sees how far it got.
 * SECURITY	Input is untrusted (anyone who can write to maildrop makes
 *		queue files).  Records are read with rec_read(), which bounds
 *		each record (REC_LEN_MAX) before allocating; nothing else is
 *		kept per record, so memory use does not depend on the file.
 *		Values are printed as they are, as Postfix does.
 * SEE ALSO	postcat(1), doc/queue-format.md
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "qdump.h"
#include "rec.h"

enum qdump_state {
	QS_ENV,				/* initial envelope */
	QS_HEADER,			/* primary message header */
	QS_BODY,			/* the rest of the content */
	QS_XTRA,			/* extracted records */
	QS_END,				/* after the end record (-r) */
};

/* qdump_is_header - does a line start with "name:" (name: 33..126)? */
int
qdump_is_header(const char *p, size_t len)
{
	size_t i = 0;

	while (i < len && (unsigned char)p[i] > 32 &&
	    (unsigned char)p[i] < 127 && p[i] != ':')
		i++;
	if (i == 0)
		return 0;
	while (i < len && (p[i] == ' ' || p[i] == '\t'))
		i++;
	return i < len && p[i] == ':';
}

/* qdump_label - Postfix's name for a record type */
static const char *
qdump_label(int type)
{
	switch (type) {
	case REC_VERSION:
		return "version";
	case REC_SIZE:
		return "message_size";
	case REC_TIME:
		return "message_arrival_time";
	case REC_ATTR:
		return "named_attribute";
	case REC_FROM:
		return "sender";
	case REC_ORCP:
		return "original_recipient";
	case REC_NOTIFY:
		return "dsn_notify_flags";
	case REC_RCPT:
		return "recipient";
	case REC_DONE:
		return "done_recipient";
	case REC_WARN:
		return "warning_message_time";
	case REC_MESG:
		return "message_content";
	case REC_NORM:
		return "regular_text";
	case REC_CONT:
		return "unterminated_text";
	case REC_XTRA:
		return "extracted_info";
	case REC_END:
		return "message_end";
	default:
		return "unknown_record_type";
	}
}

/* qdump_prefix - offset and decimal type columns */
static void
qdump_prefix(struct qdump *q, long offset, int type)
{
	if (q->flags & QDUMP_OFFSET)
		buf_printf(&q->out, "%9lu ", (unsigned long)offset);
	if (q->flags & QDUMP_DECIMAL)
		buf_printf(&q->out, "%3d ", type);
}

/* qdump_marker - "*** TEXT name ***" */
static void
qdump_marker(struct qdump *q, long offset, int type, const char *text)
{
	qdump_prefix(q, offset, type);
	buf_printf(&q->out, "*** %s %s ***\n", text, q->name);
}

/* qdump_time - asctime(3) form of a time in seconds, with newline */
static int
qdump_time(struct buf *out, const char *text)
{
	char *end, stamp[64];
	long sec;
	time_t t;
	struct tm tm;

	sec = strtol(text, &end, 10);
	if (end == text || (*end != 0 && *end != ' '))
		return -1;
	t = (time_t)sec;
	if (localtime_r(&t, &tm) == NULL ||
	    strftime(stamp, sizeof(stamp), "%a %b %e %H:%M:%S %Y", &tm) == 0)
		return -1;
	buf_printf(out, "%s\n", stamp);
	return 0;
}

/* qdump_value - "label: value" for an envelope or extracted record */
static void
qdump_value(struct qdump *q, int type, const struct buf *rec)
{
	const char *p = rec->p ? rec->p : "";

	if (type == REC_TIME || type == REC_WARN) {
		buf_printf(&q->out, "%s: ", qdump_label(type));
		if (qdump_time(&q->out, p) < 0) {
			buf_put(&q->out, p, rec->len);
			buf_putc(&q->out, '\n');
		}
		return;
	}
	if (type == REC_ATTR) {
		const char *eq = memchr(p, '=', rec->len);
		size_t nlen = eq ? (size_t)(eq - p) : 0;

		if (eq && nlen == 11 && memcmp(p, "create_time", 11) == 0) {
			struct buf when = BUF_INIT;
			int ok = qdump_time(&when, eq + 1) == 0;

			if (ok)
				buf_printf(&q->out, "create_time: %s",
				    buf_str(&when));
			buf_free(&when);
			if (ok)
				return;
		} else if (eq == NULL || nlen == 0) {
			if (q->warn)
				q->warn(q, "malformed attribute record");
		}
		buf_printf(&q->out, "%s: ", qdump_label(type));
	} else {
		buf_printf(&q->out, "%s: ", qdump_label(type));
	}
	buf_put(&q->out, p, rec->len);
	buf_putc(&q->out, '\n');
}

/* qdump_pos - input bytes consumed so far */
static long
qdump_pos(const struct stream *s)
{
	return (long)(s->bytes_in - (long long)stream_avail(s));
}

/*
 * qdump_stream - dump the queue file on s.  Returns 0 after the end
 * record, or -1 with a reason (malformed or truncated file, read error).
 */
int
qdump_stream(struct qdump *q, struct stream *s, struct buf *why)
{
	struct buf rec = BUF_INIT;
	enum qdump_state state = QS_ENV;
	int type, prev_type = 0, do_print, r = -1, first = 1;
	long offset;

	if (!(q->flags & QDUMP_ALL))
		q->flags |= QDUMP_ALL;
	do_print = q->flags & QDUMP_ENV;
	for (;;) {
		int rr;

		if (q->flush && q->out.len >= QDUMP_FLUSH_AT)
			q->flush(q);
		offset = qdump_pos(s);
		if (stream_avail(s) == 0 && stream_fill(s) < 0) {
			if (stream_error(s) & (STREAM_ERR | STREAM_TIMEOUT))
				buf_printf(why, "read error at offset %ld",
				    offset);
			else if (first)
				buf_sets(why, "empty file");
			else if (state == QS_END)
				r = 0;
			else
				buf_printf(why, "offset %ld: premature end of "
				    "file (no end record)", offset);
			break;
		}
		rr = rec_read(s, &type, &rec, REC_LEN_MAX);
		if (rr == -2) {
			buf_printf(why, "offset %ld: malformed record (bad "
			    "type or length)", offset);
			break;
		}
		if (rr < 0) {
			buf_printf(why, "offset %ld: %s", offset,
			    (stream_error(s) & (STREAM_ERR | STREAM_TIMEOUT)) ?
			    "read error" : "premature end of file (truncated "
			    "record)");
			break;
		}
		if (first) {
			first = 0;
			if (strchr("VCTASONRDW", type) == NULL) {
				buf_sets(why, "input is not a valid queue "
				    "file");
				break;
			}
			/* As Postfix: no offset or type before this one. */
			if (q->flags & QDUMP_ENV)
				buf_printf(&q->out, "*** ENVELOPE RECORDS %s "
				    "***\n", q->name);
		}

		if (type == REC_NORM || type == REC_CONT) {
			if (state == QS_ENV || state == QS_XTRA ||
			    state == QS_END) {
				buf_printf(why, "offset %ld: message text "
				    "outside the message content", offset);
				break;
			}
			if (state == QS_HEADER && (q->flags & QDUMP_TEXT) &&
			    prev_type != REC_CONT && !qdump_is_header(rec.p,
			    rec.len) && !(rec.len > 0 && (rec.p[0] == ' ' ||
			    rec.p[0] == '\t'))) {
				state = QS_BODY;
				do_print = q->flags & QDUMP_BODY;
			}
		} else if (type == REC_MESG) {
			if (state != QS_ENV) {
				buf_printf(why, "offset %ld: out-of-order "
				    "message content marker", offset);
				break;
			}
			if (q->flags & QDUMP_ENV)
				qdump_marker(q, offset, type,
				    "MESSAGE CONTENTS");
			state = QS_HEADER;
			do_print = q->flags & QDUMP_HEADER;
			prev_type = type;
			continue;
		} else if (type == REC_XTRA) {
			if (state != QS_HEADER && state != QS_BODY) {
				buf_printf(why, "offset %ld: out-of-order "
				    "extracted segment marker", offset);
				break;
			}
			if (do_print && prev_type == REC_CONT)
				buf_putc(&q->out, '\n');
			if (q->flags & QDUMP_ENV)
				qdump_marker(q, offset, type,
				    "HEADER EXTRACTED");
			state = QS_XTRA;
			do_print = q->flags & QDUMP_ENV;
			prev_type = type;
			continue;
		} else if (type == REC_END) {
			if (state != QS_XTRA && state != QS_END) {
				buf_printf(why, "offset %ld: out-of-order "
				    "message end marker", offset);
				break;
			}
			if (q->flags & QDUMP_ENV)
				qdump_marker(q, offset, type,
				    "MESSAGE FILE END");
			state = QS_END;
			prev_type = type;
			if (q->flags & QDUMP_RAW)
				continue;
			r = 0;
			break;
		} else if (state == QS_HEADER || state == QS_BODY) {
			buf_printf(why, "offset %ld: unexpected %s record in "
			    "the message content", offset, qdump_label(type));
			break;
		} else if (type == REC_VERSION && offset != 0) {
			buf_printf(why, "offset %ld: misplaced version record",
			    offset);
			break;
		}

		if (!do_print) {
			prev_type = type;
			continue;
		}
		if (type == REC_CONT && prev_type == REC_CONT &&
		    !(q->flags & (QDUMP_OFFSET | QDUMP_VERBOSE))) {
			/* Continue the line without a prefix. */
		} else if (type == REC_NORM && prev_type == REC_CONT &&
		    !(q->flags & (QDUMP_OFFSET | QDUMP_VERBOSE))) {
			/* Last piece of a joined line. */
		} else {
			qdump_prefix(q, offset, type);
		}
		switch (type) {
		case REC_NORM:
			if (q->flags & QDUMP_VERBOSE)
				buf_printf(&q->out, "%s: ", qdump_label(type));
			buf_put(&q->out, buf_str(&rec), rec.len);
			buf_putc(&q->out, '\n');
			break;
		case REC_CONT:
			if (q->flags & QDUMP_VERBOSE)
				buf_printf(&q->out, "%s: ", qdump_label(type));
			buf_put(&q->out, buf_str(&rec), rec.len);
			if (q->flags & (QDUMP_OFFSET | QDUMP_VERBOSE)) {
				buf_putc(&q->out, '\n');
				type = 0;	/* the line is complete */
			}
			break;
		default:
			qdump_value(q, type, &rec);
			break;
		}
		prev_type = type;
	}
	buf_free(&rec);
	return r;
}
