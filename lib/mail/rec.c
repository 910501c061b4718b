/*
 * NAME		rec - typed, length-prefixed records
 * DESCRIPTION	rec_put() appends one encoded record to a buffer.
 *		rec_decode() decodes one record from memory without copying
 *		and tells "need more input" (0) from "malformed" (-1).
 *		rec_read() reads one record from a stream.
 * SECURITY	The varint is at most 4 bytes (28 bits) and every length is
 *		checked against the caller's maximum before anything is
 *		allocated; unknown type bytes are errors.
 */
#include <stdarg.h>
#include <string.h>

#include "util/log.h"
#include "rec.h"

/* rec_type_valid - is t a known record type? */
int
rec_type_valid(int t)
{
	return t > 0 && strchr("VCTASONRDWMLPXE", t) != NULL;
}

/* rec_type_name - readable name for postcat */
const char *
rec_type_name(int t)
{
	switch (t) {
	case REC_VERSION:
		return "version";
	case REC_SIZE:
		return "size";
	case REC_TIME:
		return "time";
	case REC_ATTR:
		return "attribute";
	case REC_FROM:
		return "sender";
	case REC_ORCP:
		return "original_recipient";
	case REC_NOTIFY:
		return "notify";
	case REC_RCPT:
		return "recipient";
	case REC_DONE:
		return "done_recipient";
	case REC_WARN:
		return "warning_time";
	case REC_MESG:
		return "message_content";
	case REC_NORM:
		return "line";
	case REC_CONT:
		return "partial_line";
	case REC_XTRA:
		return "extracted_info";
	case REC_END:
		return "end";
	default:
		return "unknown";
	}
}

/* rec_header_len - bytes of type plus length prefix for a payload */
size_t
rec_header_len(size_t len)
{
	size_t n = 1;

	do {
		n++;
		len >>= 7;
	} while (len);
	return n;
}

/* rec_put - append a record */
void
rec_put(struct buf *b, int type, const void *data, size_t len)
{
	unsigned char hdr[8];
	size_t n = 0, l = len;

	if (len > REC_LEN_MAX)
		log_panic("rec_put: record too long (%zu)", len);
	hdr[n++] = (unsigned char)type;
	do {
		unsigned char c = l & 0x7f;

		l >>= 7;
		if (l)
			c |= 0x80;
		hdr[n++] = c;
	} while (l);
	buf_put(b, hdr, n);
	buf_put(b, data, len);
}

/* rec_puts - append a record with a string payload */
void
rec_puts(struct buf *b, int type, const char *s)
{
	rec_put(b, type, s, strlen(s));
}

/* rec_printf - append a record with a formatted payload */
void
rec_printf(struct buf *b, int type, const char *fmt, ...)
{
	struct buf tmp = BUF_INIT;
	va_list ap;

	va_start(ap, fmt);
	buf_vprintf(&tmp, fmt, ap);
	va_end(ap);
	rec_put(b, type, tmp.p, tmp.len);
	buf_free(&tmp);
}

/*
 * rec_decode - decode one record from p[0..avail).  Returns the number of
 * bytes used, 0 if more input is needed, -1 if malformed or longer than
 * max.  *data points into p.
 */
int
rec_decode(const char *p, size_t avail, size_t max, int *type,
    const char **data, size_t *len)
{
	const unsigned char *u = (const unsigned char *)p;
	size_t l = 0, i = 1;
	int shift = 0;

	/* Refuse what is already malformed before asking for more. */
	if (avail < 1)
		return 0;
	if (!rec_type_valid(u[0]))
		return -1;
	for (;;) {
		if (i > 4)
			return -1;
		if (i >= avail)
			return 0;
		l |= (size_t)(u[i] & 0x7f) << shift;
		shift += 7;
		if ((u[i++] & 0x80) == 0)
			break;
	}
	if (l > max || l > REC_LEN_MAX)
		return -1;
	if (avail - i < l)
		return 0;
	*type = u[0];
	*data = p + i;
	*len = l;
	return (int)(i + l);
}

/*
 * rec_read - read one record from a stream into data (NUL-terminated).
 * Returns 0 ok, -1 end of input or I/O error, -2 malformed or too long.
 */
int
rec_read(struct stream *s, int *type, struct buf *data, size_t max)
{
	size_t l = 0;
	int c, shift = 0, i;

	if ((c = stream_getc(s)) < 0)
		return -1;
	if (!rec_type_valid(c))
		return -2;
	*type = c;
	for (i = 0;; i++) {
		if (i >= 4)
			return -2;
		if ((c = stream_getc(s)) < 0)
			return -1;
		l |= (size_t)(c & 0x7f) << shift;
		shift += 7;
		if ((c & 0x80) == 0)
			break;
	}
	if (l > max || l > REC_LEN_MAX)
		return -2;
	buf_reset(data);
	buf_reserve(data, l);
	if (stream_read(s, data->p, l) < 0)
		return -1;
	data->len = l;
	data->p[l] = 0;
	return 0;
}
