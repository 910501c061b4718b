/*
 * NAME		text - encoders and content checks for the SMTP client
 * DESCRIPTION	smtp_xtext() encodes a DSN ENVID or ORCPT value (RFC 3461
 *		xtext).  smtp_data_line() writes one message line for the
 *		DATA phase: dot-stuffed, CRLF-terminated, and, when it is
 *		longer than the line length limit, broken into pieces of at
 *		most that many bytes each, every piece after the first
 *		starting with a space (Postfix's smtp_line_length_limit: a
 *		broken header line stays a valid folded header).  A bare CR
 *		inside a line is sent as a space, and a CR at its end is
 *		dropped, so that no line end other than CRLF reaches the
 *		server (no "SMTP smuggling").  smtp_has_8bit() and
 *		smtp_has_utf8() decide BODY=8BITMIME and SMTPUTF8.
 * SECURITY	Works on bytes with explicit lengths; output is bounded by
 *		a small multiple of the input.
 * SEE ALSO	smtp(8), doc/smtp.md
 */
#include <string.h>
#include <strings.h>

#include "util/argv.h"
#include "util/strutil.h"
#include "smtp.h"

/* smtp_xtext - append the xtext form of s (RFC 3461, section 4) */
void
smtp_xtext(const char *s, size_t len, struct buf *out)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t i;

	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c >= '!' && c <= '~' && c != '+' && c != '=') {
			buf_putc(out, c);
		} else {
			buf_putc(out, '+');
			buf_putc(out, hex[c >> 4]);
			buf_putc(out, hex[c & 15]);
		}
	}
}

/*
 * smtp_data_line - append one content line (no line end) as it goes on
 * the wire.  limit 0: no length limit.
 */
void
smtp_data_line(const char *line, size_t len, size_t limit, struct buf *out)
{
	size_t pos = 0, room, n, i;
	int first = 1;

	if (len > 0 && line[len - 1] == '\r')
		len--;
	for (;;) {
		room = limit ? limit : (size_t)-1;
		if (first && len > 0 && line[0] == '.') {
			buf_putc(out, '.');
			room--;
		} else if (!first) {
			buf_putc(out, ' ');
			room--;
		}
		if (room == 0)
			room = 1;
		n = len - pos < room ? len - pos : room;
		for (i = pos; i < pos + n; i++)
			buf_putc(out, line[i] == '\r' ? ' ' : line[i]);
		pos += n;
		buf_put(out, "\r\n", 2);
		if (pos >= len)
			break;
		first = 0;
	}
}

/* smtp_has_8bit - any byte with the high bit set? */
int
smtp_has_8bit(const char *p, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if ((unsigned char)p[i] & 0x80)
			return 1;
	return 0;
}

/* smtp_utf8_seq - length of a well-formed UTF-8 sequence at p, or 0 */
static size_t
smtp_utf8_seq(const unsigned char *p, size_t len)
{
	size_t n, i;
	unsigned char lo = 0x80, hi = 0xbf;

	if (p[0] >= 0xc2 && p[0] <= 0xdf)
		n = 2;
	else if (p[0] >= 0xe0 && p[0] <= 0xef)
		n = 3;
	else if (p[0] >= 0xf0 && p[0] <= 0xf4)
		n = 4;
	else
		return 0;
	if (len < n)
		return 0;
	/* No overlong forms, surrogates or values past U+10FFFF. */
	if (p[0] == 0xe0)
		lo = 0xa0;
	else if (p[0] == 0xed)
		hi = 0x9f;
	else if (p[0] == 0xf0)
		lo = 0x90;
	else if (p[0] == 0xf4)
		hi = 0x8f;
	if (p[1] < lo || p[1] > hi)
		return 0;
	for (i = 2; i < n; i++)
		if (p[i] < 0x80 || p[i] > 0xbf)
			return 0;
	return n;
}

/* smtp_has_utf8 - does the text hold a multi-byte UTF-8 character? */
int
smtp_has_utf8(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i;

	for (i = 0; i < len; i++)
		if (p[i] >= 0x80 && smtp_utf8_seq(p + i, len - i) > 0)
			return 1;
	return 0;
}

/* smtp_addr_ok - may this address go into MAIL FROM or RCPT TO? */
int
smtp_addr_ok(const char *addr)
{
	const unsigned char *p;

	for (p = (const unsigned char *)addr; *p; p++)
		if (*p < 0x20 || *p == 0x7f)
			return 0;
	return 1;
}

/* smtp_keyword_listed - is word in the list (case-insensitive)? */
int
smtp_keyword_listed(const char *list, const char *word)
{
	struct argv *v;
	size_t i;
	int found = 0;

	if (list == NULL || *list == 0)
		return 0;
	v = argv_split(list, SEPARATORS);
	for (i = 0; i < v->n && !found; i++)
		found = strcasecmp(v->v[i], word) == 0;
	argv_free(v);
	return found;
}
