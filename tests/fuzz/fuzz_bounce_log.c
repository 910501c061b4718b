/*
 * NAME		fuzz_bounce_log - libFuzzer target for bounce logs
 * DESCRIPTION	Parses the input as a bounce, defer or trace log with
 *		bounce_log_parse(), checks that every entry has a recipient
 *		and every text field is set and free of line breaks, then
 *		feeds the entries to dsn_compose() as the bounce daemon does
 *		(with the input's lines as the returned message) and checks
 *		that the notice is well formed: every line ends, no line
 *		exceeds 998 bytes, and the generated parts before the
 *		returned message hold only printable 7-bit text.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mail/bounce_log.h"
#include "mail/dsn.h"
#include "util/buf.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

struct input {
	const char *p;
	size_t	 len;
	size_t	 pos;
};

/* input_line - orig_line reader over the fuzz input */
static int
input_line(void *ctx, struct buf *line)
{
	struct input *in = ctx;
	const char *nl;
	size_t n;

	if (in->pos >= in->len)
		return 0;
	nl = memchr(in->p + in->pos, '\n', in->len - in->pos);
	n = nl ? (size_t)(nl - in->p) - in->pos : in->len - in->pos;
	buf_set(line, in->p + in->pos, n);
	in->pos += n + (nl != NULL);
	return 1;
}

/* check_field - set and without line breaks */
static void
check_field(const char *s)
{
	if (s == NULL || strchr(s, '\n') != NULL)
		abort();
}

/* check_notice - line structure of a composed notice */
static void
check_notice(const struct buf *out)
{
	const char *p = out->p, *end = out->p + out->len, *orig, *hdrs;

	if (out->len == 0 || out->p[out->len - 1] != '\n')
		abort();
	/* The returned message starts after the first of these. */
	orig = memmem(out->p, out->len, "Content-Type: message/rfc822\n", 29);
	hdrs = memmem(out->p, out->len,
	    "Content-Type: text/rfc822-headers\n", 34);
	if (orig == NULL || (hdrs != NULL && hdrs < orig))
		orig = hdrs;
	if (orig == NULL)
		orig = end;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p)), *q;

		if (nl == NULL)
			abort();
		if (p < orig) {
			if (nl - p > 998)
				abort();
			for (q = p; q < nl; q++)
				if ((unsigned char)*q >= 0x80 ||
				    ((unsigned char)*q < 0x20 && *q != '\t'))
					abort();
		}
		p = nl + 1;
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct bounce_log log;
	struct buf why = BUF_INIT, out = BUF_INIT;
	struct dsn_rcpt *r;
	struct dsn_notice n;
	struct input in;
	size_t i, count;

	if (bounce_log_parse((const char *)data, size, &log, &why) < 0) {
		if (size <= BOUNCE_LOG_MAX)
			abort();
		buf_free(&why);
		return 0;
	}
	if (log.n > BOUNCE_ENTRIES_MAX)
		abort();
	r = calloc(log.n ? log.n : 1, sizeof(*r));
	if (r == NULL)
		abort();
	for (i = 0; i < log.n; i++) {
		const struct bounce_ent *e = &log.v[i];

		check_field(e->recipient);
		check_field(e->orig_rcpt);
		check_field(e->status);
		check_field(e->action);
		check_field(e->reason);
		check_field(e->relay);
		r[i].addr = e->recipient;
		r[i].orig = e->orig_rcpt;
		r[i].notify = e->notify;
		r[i].status = e->status;
		r[i].action = e->action;
		r[i].reason = e->reason;
		r[i].relay = e->relay;
		r[i].when = e->when;
	}

	memset(&n, 0, sizeof(n));
	memset(&in, 0, sizeof(in));
	in.p = (const char *)data;
	in.len = size;
	/* The first byte picks the kind of notice and the options. */
	n.kind = size && (data[0] & 3) ? (data[0] & 3) : DSN_KIND_FAILURE;
	n.flags = size ? (data[0] >> 2) & 0x0f : 0;
	n.ret = size ? (data[0] >> 6) % 3 : 0;
	n.queue_id = "0BcDfGhJkLzQ1";
	n.hostname = "mail.example.com";
	n.from = "MAILER-DAEMON@mail.example.com";
	n.to = "alice@example.org";
	n.sender = "alice@example.org";
	n.envid = "ENV";
	n.now = 1700000000L;
	n.arrival = log.n ? log.v[0].when : 0;
	n.msg_size = (long)size;
	n.size_limit = 2000;
	n.lifetime = log.n ? log.v[0].offset : 0;
	n.warn_time = 3600;
	n.rcpts = r;
	n.nrcpt = log.n;
	n.orig_line = input_line;
	n.orig_ctx = &in;
	count = dsn_compose(&n, &out);
	if (count != dsn_count(&n) || (count == 0) != (out.len == 0))
		abort();
	if (count)
		check_notice(&out);

	free(r);
	bounce_log_free(&log);
	buf_free(&why);
	buf_free(&out);
	return 0;
}
