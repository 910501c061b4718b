/*
 * NAME		reply - SMTP and LMTP server replies
 * DESCRIPTION	smtp_reply_line() takes one reply line at a time (without
 *		its line end) and says when the reply is complete: a line
 *		"NNN text" ends it, "NNN-text" continues it, "NNN" alone
 *		ends it with no text.  The reply code is the last line's.
 *		An enhanced status code (RFC 3463) at the start of the
 *		first line's text becomes the reply's DSN code, its class
 *		digit forced to agree with the reply code (as Postfix does);
 *		without one the DSN code is X.0.0.  smtp_reply_read() reads
 *		a reply from a stream.  smtp_reply_show() gives the text as
 *		Postfix logs it: the lines joined with spaces.
 *		smtp_ehlo_features() reads the extensions out of an EHLO or
 *		LHLO reply.
 * SECURITY	Replies come from the network.  A line longer than
 *		SMTP_LINE_MAX bytes is cut there (its rest is read and
 *		dropped), at most SMTP_REPLY_TEXT_MAX bytes of text are kept,
 *		a reply of more than SMTP_REPLY_LINES_MAX lines or
 *		SMTP_REPLY_BYTES_MAX bytes is refused, and every byte that is
 *		not printable ASCII is kept as '?'.
 * SEE ALSO	smtp(8), doc/smtp.md
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "util/strutil.h"
#include "smtp.h"

/* smtp_reply_init - an empty reply */
void
smtp_reply_init(struct smtp_reply *r)
{
	memset(r, 0, sizeof(*r));
	buf_init(&r->text);
}

/* smtp_reply_reset - forget a reply, keep the memory */
void
smtp_reply_reset(struct smtp_reply *r)
{
	r->code = 0;
	r->dsn[0] = 0;
	r->nlines = 0;
	r->done = 0;
	buf_reset(&r->text);
}

/* smtp_reply_free - release a reply */
void
smtp_reply_free(struct smtp_reply *r)
{
	buf_free(&r->text);
	memset(r, 0, sizeof(*r));
}

/* smtp_digits - parse 1-3 digits at p; number of digits, 0 if none */
static size_t
smtp_digits(const char *p, size_t len, int *val)
{
	size_t i;

	*val = 0;
	for (i = 0; i < len && i < 3 && p[i] >= '0' && p[i] <= '9'; i++)
		*val = *val * 10 + (p[i] - '0');
	return i;
}

/*
 * smtp_enhanced - an enhanced status code "C.SSS.DDD" at the start of
 * text, followed by a space or the end; written to dsn with the class
 * digit taken from the reply code.  Returns 1 if found.
 */
static int
smtp_enhanced(const char *p, size_t len, int code, char *dsn, size_t size)
{
	char tmp[48];
	size_t i = 0, n;
	int subj, det;

	if (len < 5 || (p[0] != '2' && p[0] != '4' && p[0] != '5') ||
	    p[1] != '.')
		return 0;
	i = 2;
	if ((n = smtp_digits(p + i, len - i, &subj)) == 0)
		return 0;
	i += n;
	if (i >= len || p[i] != '.')
		return 0;
	i++;
	if ((n = smtp_digits(p + i, len - i, &det)) == 0)
		return 0;
	i += n;
	if (i < len && p[i] != ' ')
		return 0;
	snprintf(tmp, sizeof(tmp), "%d.%d.%d", code / 100, subj, det);
	strlcpy_trunc(dsn, tmp, size);
	return 1;
}

/*
 * smtp_reply_line - add one line (no line end) to the reply.  Returns 1
 * when the reply is complete, 0 when more lines follow, -1 (reason in
 * why) for a malformed line or a reply that is too long.
 */
int
smtp_reply_line(struct smtp_reply *r, const char *line, size_t len,
    struct buf *why)
{
	int code;
	size_t i, keep;

	if (r->done)
		smtp_reply_reset(r);
	if (len < 3 || line[0] < '2' || line[0] > '5' ||
	    line[1] < '0' || line[1] > '5' || line[2] < '0' ||
	    line[2] > '9' || (len > 3 && line[3] != ' ' && line[3] != '-')) {
		buf_sets(why, "malformed reply line");
		return -1;
	}
	if (++r->nlines > SMTP_REPLY_LINES_MAX) {
		buf_sets(why, "reply has too many lines");
		return -1;
	}
	code = (line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0');

	/* Keep a bounded, printable copy of the line. */
	if (r->text.len < SMTP_REPLY_TEXT_MAX) {
		if (r->text.len > 0)
			buf_putc(&r->text, '\n');
		keep = len;
		if (keep > SMTP_REPLY_TEXT_MAX - r->text.len)
			keep = SMTP_REPLY_TEXT_MAX - r->text.len;
		for (i = 0; i < keep; i++) {
			unsigned char c = (unsigned char)line[i];

			buf_putc(&r->text, c < 0x20 || c >= 0x7f ? '?' : c);
		}
	}
	if (r->nlines == 1 && !smtp_enhanced(line + 4, len > 4 ? len - 4 : 0,
	    code, r->dsn, sizeof(r->dsn)))
		r->dsn[0] = 0;
	if (len > 3 && line[3] == '-')
		return 0;
	r->code = code;
	if (r->dsn[0] == 0 || r->dsn[0] != '0' + code / 100) {
		r->dsn[0] = (char)('0' + code / 100);
		strlcpy_trunc(r->dsn + 1, ".0.0", sizeof(r->dsn) - 1);
	}
	r->done = 1;
	return 1;
}

/*
 * smtp_reply_read - read one complete reply.  Returns SMTP_REPLY_OK,
 * SMTP_REPLY_IOERR (end of file, error or time-out: see the stream), or
 * SMTP_REPLY_BAD with a reason in why.
 */
int
smtp_reply_read(struct stream *s, struct smtp_reply *r, struct buf *why)
{
	struct buf line = BUF_INIT, rest = BUF_INIT;
	size_t total = 0;
	int toolong, rc = SMTP_REPLY_OK;

	smtp_reply_reset(r);
	for (;;) {
		if (stream_gets(s, &line, SMTP_LINE_MAX, &toolong) < 0) {
			rc = SMTP_REPLY_IOERR;
			break;
		}
		total += line.len + 1;
		/* Drop the rest of an over-long line. */
		while (toolong && total <= SMTP_REPLY_BYTES_MAX) {
			if (stream_gets(s, &rest, SMTP_LINE_MAX,
			    &toolong) < 0) {
				rc = SMTP_REPLY_IOERR;
				break;
			}
			total += rest.len;
		}
		if (rc != SMTP_REPLY_OK)
			break;
		if (total > SMTP_REPLY_BYTES_MAX) {
			buf_sets(why, "reply is too long");
			rc = SMTP_REPLY_BAD;
			break;
		}
		if (line.len > 0 && line.p[line.len - 1] == '\r')
			line.len--;
		switch (smtp_reply_line(r, line.p ? line.p : "", line.len,
		    why)) {
		case 1:
			goto out;
		case 0:
			continue;
		default:
			rc = SMTP_REPLY_BAD;
			goto out;
		}
	}
out:
	buf_free(&line);
	buf_free(&rest);
	return rc;
}

/* smtp_reply_show - the reply text with lines joined by spaces */
void
smtp_reply_show(const struct smtp_reply *r, struct buf *out)
{
	size_t i;

	for (i = 0; i < r->text.len; i++)
		buf_putc(out, r->text.p[i] == '\n' ? ' ' : r->text.p[i]);
}

/*
 * smtp_ehlo_features - the extensions in an EHLO/LHLO reply (every line
 * after the first), less the discarded ones.  *size gets the SIZE
 * limit, 0 for none.
 */
int
smtp_ehlo_features(const struct smtp_reply *r, const char *discard,
    long *size)
{
	static const struct {
		const char *name;
		int	 bit;
	} known[] = {
		{ "PIPELINING", SMTP_F_PIPELINING },
		{ "SIZE", SMTP_F_SIZE },
		{ "8BITMIME", SMTP_F_8BITMIME },
		{ "DSN", SMTP_F_DSN },
		{ "SMTPUTF8", SMTP_F_SMTPUTF8 },
		{ "ENHANCEDSTATUSCODES", SMTP_F_ENHANCED },
		{ "STARTTLS", SMTP_F_STARTTLS },
		{ "AUTH", SMTP_F_AUTH },
	};
	const char *p = r->text.p ? r->text.p : "", *end, *nl;
	char word[64], arg[32];
	size_t len, wlen, alen, i;
	int features = SMTP_F_ESMTP;
	long n;

	*size = 0;
	end = p + r->text.len;
	/* Skip the first line: the server's name and greeting. */
	if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
		return features;
	for (p = nl + 1; p < end; p = nl + 1) {
		nl = memchr(p, '\n', (size_t)(end - p));
		if (nl == NULL)
			nl = end;
		len = (size_t)(nl - p);
		if (len <= 4)
			continue;
		/* "250-KEYWORD[ =]args" */
		p += 4;
		len -= 4;
		wlen = strcspn(p, " =\n");
		if (wlen > len)
			wlen = len;
		if (wlen == 0 || wlen >= sizeof(word))
			continue;
		memcpy(word, p, wlen);
		word[wlen] = 0;
		if (smtp_keyword_listed(discard, word))
			continue;
		for (i = 0; i < sizeof(known) / sizeof(known[0]); i++) {
			if (strcasecmp(word, known[i].name) != 0)
				continue;
			features |= known[i].bit;
			if (known[i].bit != SMTP_F_SIZE || wlen >= len)
				break;
			alen = len - wlen - 1;
			if (alen > 0 && alen < sizeof(arg)) {
				memcpy(arg, p + wlen + 1, alen);
				arg[alen] = 0;
				if (parse_long(arg, &n) == 0 && n > 0)
					*size = n;
			}
			break;
		}
	}
	return features;
}
