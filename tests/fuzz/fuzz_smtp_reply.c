/*
 * NAME		fuzz_smtp_reply - libFuzzer target for the SMTP client's
 *		reply parser
 * DESCRIPTION	Feeds the input to smtp_reply_line() one line at a time
 *		and to smtp_reply_read() from a stream, and parses each
 *		complete reply as an EHLO reply.  Checks: a complete reply
 *		has a code from 200 to 599 and a DSN code X.Y.Z whose class
 *		is the code's first digit, the kept text is bounded and
 *		printable, the line count is bounded.  smtp(8) is a program,
 *		not a library, so its reply and text files are compiled into
 *		this target directly.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../smtp/reply.c"
#include "../../smtp/text.c"

/* smtp_cfg is defined in params.c, which this target does not need. */
struct smtp_cfg smtp_cfg;

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* check - invariants of a complete reply */
static void
check(const struct smtp_reply *r)
{
	long size;
	size_t i;

	if (r->code < 200 || r->code > 599 ||
	    r->dsn[0] != '0' + r->code / 100 || r->dsn[1] != '.' ||
	    r->nlines == 0 || r->nlines > SMTP_REPLY_LINES_MAX ||
	    r->text.len > SMTP_REPLY_TEXT_MAX)
		abort();
	for (i = 0; i < r->text.len; i++)
		if (r->text.p[i] != '\n' &&
		    ((unsigned char)r->text.p[i] < 0x20 ||
		    (unsigned char)r->text.p[i] >= 0x7f))
			abort();
	(void)smtp_ehlo_features(r, "dsn", &size);
	if (size < 0)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *p = (const char *)data, *end = p + size, *nl;
	struct smtp_reply r;
	struct buf why = BUF_INIT;
	struct stream *s;
	int rc;

	smtp_reply_init(&r);
	while (p < end) {
		nl = memchr(p, '\n', (size_t)(end - p));
		rc = smtp_reply_line(&r, p, nl ? (size_t)(nl - p) :
		    (size_t)(end - p), &why);
		if (rc == 1)
			check(&r);
		else if (rc < 0)
			smtp_reply_reset(&r);
		if (nl == NULL)
			break;
		p = nl + 1;
	}

	/*
	 * The same bytes from a stream: no descriptor, just the buffer, and
	 * end of file after it (else a short reply would wait for more).
	 */
	s = stream_open(-1, 0);
	buf_put(&s->in, data, size);
	s->flags |= STREAM_EOF;
	while ((rc = smtp_reply_read(s, &r, &why)) == SMTP_REPLY_OK)
		check(&r);
	stream_release(s);
	smtp_reply_free(&r);
	buf_free(&why);
	return 0;
}
