/*
 * NAME		test_bounce - unit tests for mail/dsn and mail/bounce_log
 * DESCRIPTION	Delivery status notifications as the bounce daemon
 *		composes them: failure notices with one and three
 *		recipients, expiry, a delay warning, a delivery report and a
 *		postmaster copy against golden files (data/dsn_*.ref, which
 *		must also parse as multipart/report); RET=HDRS and the size
 *		limit (by the size record, and by a size record that lies)
 *		switching to text/rfc822-headers; NOTIFY=NEVER and NOTIFY
 *		lists choosing the recipients; hostile log content (missing
 *		fields, a huge reason, control characters, 8-bit bytes, the
 *		boundary inside a reason or the message) giving 7-bit lines
 *		under 998 bytes; the status, action and duration helpers at
 *		their limits; bounce_ent_format()/bounce_log_parse() round
 *		trips and hostile logs.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <limits.h>
#include <time.h>

#include "mail/bounce_log.h"
#include "mail/dsn.h"
#include "mail/qfile.h"
#include "util/buf.h"
#include "unit.h"

#define NOW	1700000000L	/* Tue, 14 Nov 2023 22:13:20 UTC */

static const char *const msg_small[] = {
	"Received: from client.example.org (client.example.org [192.0.2.9])",
	"\tby mail.example.com (Postern) with ESMTP id 0BcDfGhJkLzQ1",
	"\tfor <bob@example.net>; Tue, 14 Nov 2023 20:00:00 +0000 (UTC)",
	"From: Alice <alice@example.org>",
	"To: bob@example.net",
	"Subject: lunch",
	"Message-Id: <lunch.1@example.org>",
	"",
	"Shall we meet at noon?",
	"-- ",
	"Alice",
	NULL
};

/* Lines of an original message, for orig_line. */
struct lines {
	const char *const *v;
	size_t	 i;
	int	 fail_at;		/* return -1 at this line, or -1 */
	size_t	 calls;
};

/* lines_next - orig_line reader over a NULL-terminated array */
static int
lines_next(void *ctx, struct buf *line)
{
	struct lines *l = ctx;

	l->calls++;
	if (l->fail_at >= 0 && l->i == (size_t)l->fail_at)
		return -1;
	if (l->v[l->i] == NULL)
		return 0;
	buf_sets(line, l->v[l->i++]);
	return 1;
}

/* msg_size - bytes of a message as lines with LF */
static long
msg_size(const char *const *v)
{
	long n = 0;

	for (; *v; v++)
		n += (long)strlen(*v) + 1;
	return n;
}

/* notice_init - a failure notice for alice about msg_small */
static void
notice_init(struct dsn_notice *n, struct lines *l)
{
	memset(l, 0, sizeof(*l));
	l->v = msg_small;
	l->fail_at = -1;
	memset(n, 0, sizeof(*n));
	n->kind = DSN_KIND_FAILURE;
	n->queue_id = "0BcDfGhJkLzQ1";
	n->notice_id = "0BcDfHkLmNzR2";
	n->hostname = "mail.example.com";
	n->from = "MAILER-DAEMON@mail.example.com";
	n->to = "alice@example.org";
	n->sender = "alice@example.org";
	n->now = NOW;
	n->arrival = NOW - 7200;
	n->msg_size = msg_size(msg_small);
	n->size_limit = 50000;
	n->lifetime = 5 * 86400;
	n->warn_time = 4 * 3600;
	n->orig_line = lines_next;
	n->orig_ctx = l;
}

static const struct dsn_rcpt rcpt_smtp = {
	"bob@example.net", "bob@example.net", 0, "5.1.1", "failed",
	"host mx.example.net[192.0.2.25] said: 550 5.1.1 <bob@example.net>: "
	"Recipient address rejected: User unknown in virtual mailbox table "
	"(in reply to RCPT TO command)",
	"mx.example.net[192.0.2.25]:25", NOW - 60
};

/* has_line - does text contain exactly this line? */
static int
has_line(const struct buf *text, const char *line)
{
	size_t n = strlen(line);
	const char *p = text->p, *end = text->p + text->len;

	while (p && p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t len = nl ? (size_t)(nl - p) : (size_t)(end - p);

		if (len == n && memcmp(p, line, n) == 0)
			return 1;
		p = nl ? nl + 1 : NULL;
	}
	return 0;
}

/* has_text - does text contain s anywhere? */
static int
has_text(const struct buf *text, const char *s)
{
	return text->len && memmem(text->p, text->len, s, strlen(s)) != NULL;
}

/*
 * check_lines - every line shorter than 999 bytes, and everything before
 * the returned message 7-bit without control characters.
 */
static void
check_lines(const struct buf *text)
{
	const char *p = text->p, *end = text->p + text->len, *orig, *hdrs;
	size_t len;

	assert_true(text->len > 0);
	assert_int_equal(text->p[text->len - 1], '\n');
	/* The returned message starts after the first of these. */
	orig = memmem(text->p, text->len, "Content-Type: message/rfc822\n",
	    29);
	hdrs = memmem(text->p, text->len,
	    "Content-Type: text/rfc822-headers\n", 34);
	if (orig == NULL || (hdrs != NULL && hdrs < orig))
		orig = hdrs;
	if (orig == NULL)
		orig = end;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p)), *q;

		assert_non_null(nl);
		len = (size_t)(nl - p);
		if (len > 998)
			fail_msg("line of %zu bytes: %.60s...", len, p);
		for (q = p; p < orig && q < nl; q++)
			if ((unsigned char)*q >= 0x80 ||
			    ((unsigned char)*q < 0x20 && *q != '\t'))
				fail_msg("byte 0x%02x in line: %.*s",
				    (unsigned char)*q, (int)len, p);
		p = nl + 1;
	}
}

/* compose_golden - compose and compare with data/NAME.ref */
static void
compose_golden(const struct dsn_notice *n, size_t want, const char *name)
{
	struct buf out = BUF_INIT;

	assert_int_equal(dsn_compose(n, &out), want);
	check_lines(&out);
	golden_check(name, &out);
	buf_free(&out);
}

static void
test_failure_one(void **state)
{
	struct dsn_notice n;
	struct lines l;

	(void)state;
	notice_init(&n, &l);
	n.rcpts = &rcpt_smtp;
	n.nrcpt = 1;
	compose_golden(&n, 1, "dsn_failure_one");
}

static void
test_failure_three(void **state)
{
	static const struct dsn_rcpt r[] = {
		{"bob@example.net", "", 0, "5.1.1", "failed",
		    "550 5.1.1 <bob@example.net>... User unknown",
		    "mx.example.net[192.0.2.25]:25", NOW - 300},
		{"carol@mail.example.com", "team@example.com",
		    DSN_NOTIFY_FAILURE | DSN_NOTIFY_DELAY, "5.2.2", "failed",
		    "cannot update mailbox /var/mail/carol for user carol. "
		    "error writing message: Disk quota exceeded",
		    "local", NOW - 200},
		{"dave@example.net", "rfc822;Dave@Example.NET", 0, "5.4.4",
		    "failed", "Host or domain name not found. Name service "
		    "error for name=example.net type=MX: Host not found",
		    "none", 0},
	};
	struct dsn_notice n;
	struct lines l;

	(void)state;
	notice_init(&n, &l);
	n.rcpts = r;
	n.nrcpt = 3;
	n.envid = "QQ314159";
	n.ret = DSN_RET_FULL;
	compose_golden(&n, 3, "dsn_failure_three");
}

static void
test_expired(void **state)
{
	static const struct dsn_rcpt r = {
		"bob@example.net", "", 0, "4.4.1", "delayed",
		"connect to mx.example.net[192.0.2.25]:25: Connection refused",
		"mx.example.net[192.0.2.25]:25", NOW - 600
	};
	struct dsn_notice n;
	struct lines l;

	(void)state;
	notice_init(&n, &l);
	n.flags = DSN_FLAG_EXPIRED;
	n.arrival = NOW - 5 * 86400 - 1800;
	n.rcpts = &r;
	n.nrcpt = 1;
	compose_golden(&n, 1, "dsn_expired");
}

static void
test_delay(void **state)
{
	static const struct dsn_rcpt r[] = {
		{"bob@example.net", "", 0, "4.4.1", "delayed",
		    "connect to mx.example.net[192.0.2.25]:25: Connection "
		    "refused", "mx.example.net[192.0.2.25]:25", NOW - 600},
		/* Asked for failures only: not in a delay warning. */
		{"carol@example.net", "", DSN_NOTIFY_FAILURE, "4.4.1",
		    "delayed", "connect to mx.example.net: timed out", "", 0},
		{"dave@example.net", "", DSN_NOTIFY_DELAY, "5.0.0",
		    "failed", "451 4.3.0 try again later", "", 0},
	};
	struct dsn_notice n;
	struct lines l;

	(void)state;
	notice_init(&n, &l);
	n.kind = DSN_KIND_DELAY;
	n.arrival = NOW - 4 * 3600;
	n.rcpts = r;
	n.nrcpt = 3;
	compose_golden(&n, 2, "dsn_delay");
}

static void
test_success(void **state)
{
	static const struct dsn_rcpt r[] = {
		{"bob@example.net", "", DSN_NOTIFY_SUCCESS, "2.0.0",
		    "relayed", "250 2.0.0 Ok: queued as 4XyZ",
		    "mx.example.net[192.0.2.25]:25", NOW},
		{"carol@mail.example.com", "", DSN_NOTIFY_SUCCESS, "2.0.0",
		    "delivered", "delivered to mailbox", "local", NOW},
	};
	struct dsn_notice n;
	struct lines l;

	(void)state;
	notice_init(&n, &l);
	n.kind = DSN_KIND_SUCCESS;
	n.rcpts = r;
	n.nrcpt = 2;
	compose_golden(&n, 2, "dsn_success");
}

static void
test_postmaster_copy(void **state)
{
	static const struct dsn_rcpt r[] = {
		{"bob@example.net", "", DSN_NOTIFY_NEVER, "5.1.1", "failed",
		    "550 5.1.1 unknown", "mx.example.net[192.0.2.25]", 0},
	};
	struct dsn_notice n;
	struct lines l;

	(void)state;
	notice_init(&n, &l);
	n.flags = DSN_FLAG_ALL | DSN_FLAG_PMCOPY;
	n.to = "postmaster";
	n.rcpts = r;
	n.nrcpt = 1;
	compose_golden(&n, 1, "dsn_pmcopy");
}

static void
test_headers_only(void **state)
{
	struct dsn_notice n;
	struct lines l;
	struct buf out = BUF_INIT;

	(void)state;
	notice_init(&n, &l);
	n.rcpts = &rcpt_smtp;
	n.nrcpt = 1;
	n.ret = DSN_RET_HDRS;
	assert_int_equal(dsn_compose(&n, &out), 1);
	check_lines(&out);
	assert_true(has_line(&out, "Content-Type: text/rfc822-headers"));
	assert_false(has_line(&out, "Content-Type: message/rfc822"));
	assert_true(has_line(&out, "Subject: lunch"));
	assert_false(has_line(&out, "Shall we meet at noon?"));
	assert_true(has_text(&out, "The headers of your message are "
	    "attached"));
	/* The reader stopped at the end of the headers. */
	assert_int_equal(l.i, 8);
	buf_free(&out);
}

static void
test_size_limit(void **state)
{
	struct dsn_notice n;
	struct lines l;
	struct buf out = BUF_INIT;
	long size = msg_size(msg_small);

	(void)state;
	/* At the limit: whole message; one byte over: headers. */
	notice_init(&n, &l);
	n.rcpts = &rcpt_smtp;
	n.nrcpt = 1;
	n.size_limit = size;
	assert_int_equal(dsn_compose(&n, &out), 1);
	assert_true(has_line(&out, "Content-Type: message/rfc822"));
	assert_true(has_line(&out, "Shall we meet at noon?"));
	assert_true(has_line(&out, "Alice"));

	buf_reset(&out);
	notice_init(&n, &l);
	n.rcpts = &rcpt_smtp;
	n.nrcpt = 1;
	n.size_limit = size - 1;
	assert_int_equal(dsn_compose(&n, &out), 1);
	check_lines(&out);
	assert_true(has_line(&out, "Content-Type: text/rfc822-headers"));
	assert_false(has_line(&out, "Shall we meet at noon?"));
	assert_int_equal(l.i, 8);

	/* The size record says small, the content is not. */
	buf_reset(&out);
	notice_init(&n, &l);
	n.rcpts = &rcpt_smtp;
	n.nrcpt = 1;
	n.msg_size = 10;
	n.size_limit = size - 1;
	assert_int_equal(dsn_compose(&n, &out), 1);
	check_lines(&out);
	assert_true(has_line(&out, "Content-Type: text/rfc822-headers"));
	assert_true(has_line(&out, "Message-Id: <lunch.1@example.org>"));
	assert_false(has_line(&out, "Shall we meet at noon?"));
	assert_false(has_line(&out, "Alice"));

	/* The same inside the headers: all headers, no body. */
	buf_reset(&out);
	notice_init(&n, &l);
	n.rcpts = &rcpt_smtp;
	n.nrcpt = 1;
	n.msg_size = 10;
	n.size_limit = 100;
	assert_int_equal(dsn_compose(&n, &out), 1);
	assert_true(has_line(&out, "Content-Type: text/rfc822-headers"));
	assert_true(has_line(&out, "Message-Id: <lunch.1@example.org>"));
	assert_false(has_line(&out, "Shall we meet at noon?"));
	buf_free(&out);
}

static void
test_notify_never(void **state)
{
	static const struct dsn_rcpt r[] = {
		{"a@example.net", "", DSN_NOTIFY_NEVER, "5.1.1", "failed",
		    "550 no", "", 0},
		{"b@example.net", "", DSN_NOTIFY_SUCCESS, "5.1.1", "failed",
		    "550 no", "", 0},
		{"c@example.net", "", DSN_NOTIFY_DELAY, "5.1.1", "failed",
		    "550 no", "", 0},
		{"d@example.net", "", DSN_NOTIFY_FAILURE, "5.1.1", "failed",
		    "550 no", "", 0},
		{"e@example.net", "", 0, "5.1.1", "failed", "550 no", "", 0},
		{"f@example.net", "", DSN_NOTIFY_NEVER | DSN_NOTIFY_FAILURE,
		    "5.1.1", "failed", "550 no", "", 0},
	};
	struct dsn_notice n;
	struct lines l;
	struct buf out = BUF_INIT;

	(void)state;
	/* Nobody wants it: nothing composed, nothing read. */
	notice_init(&n, &l);
	n.rcpts = r;
	n.nrcpt = 1;
	assert_int_equal(dsn_count(&n), 0);
	assert_int_equal(dsn_compose(&n, &out), 0);
	assert_int_equal(out.len, 0);
	assert_int_equal(l.calls, 0);

	n.nrcpt = NELEM(r);
	assert_int_equal(dsn_compose(&n, &out), 2);
	assert_false(has_text(&out, "<a@example.net>"));
	assert_false(has_text(&out, "<b@example.net>"));
	assert_false(has_text(&out, "<c@example.net>"));
	assert_true(has_line(&out, "<d@example.net>: 550 no"));
	assert_true(has_line(&out, "Final-Recipient: rfc822; d@example.net"));
	assert_true(has_line(&out, "<e@example.net>: 550 no"));
	assert_false(has_text(&out, "f@example.net"));

	/* The postmaster gets every recipient. */
	buf_reset(&out);
	notice_init(&n, &l);
	n.rcpts = r;
	n.nrcpt = NELEM(r);
	n.flags = DSN_FLAG_ALL;
	assert_int_equal(dsn_compose(&n, &out), NELEM(r));
	assert_true(has_text(&out, "<a@example.net>"));

	/* Delay warnings: no NOTIFY, or DELAY among them. */
	notice_init(&n, &l);
	n.rcpts = r;
	n.nrcpt = NELEM(r);
	n.kind = DSN_KIND_DELAY;
	assert_int_equal(dsn_count(&n), 2);
	n.kind = DSN_KIND_SUCCESS;
	assert_int_equal(dsn_count(&n), 1);
	buf_free(&out);

	assert_int_equal(dsn_wanted(DSN_KIND_FAILURE, 0, 0), 1);
	assert_int_equal(dsn_wanted(DSN_KIND_FAILURE, 0,
	    DSN_NOTIFY_NEVER), 0);
	assert_int_equal(dsn_wanted(DSN_KIND_FAILURE, DSN_FLAG_ALL,
	    DSN_NOTIFY_NEVER), 1);
	assert_int_equal(dsn_wanted(DSN_KIND_DELAY, 0, DSN_NOTIFY_ANY), 1);
	assert_int_equal(dsn_wanted(DSN_KIND_SUCCESS, 0, 0), 0);
	assert_int_equal(dsn_wanted(0, 0, 0), 0);
}

static void
test_hostile_fields(void **state)
{
	static const struct dsn_rcpt r[] = {
		/* Nothing but an address. */
		{"a@example.net", NULL, 0, NULL, NULL, NULL, NULL, 0},
		/* Wrong values for a failure notice. */
		{"b@example.net", "", 0, "2.0.0", "delivered", "", "", 0},
		{"c@example.net", "", 0, "5.1.1.1", "bogus", "x", "", 0},
		/* No address: skipped. */
		{"", "", 0, "5.1.1", "failed", "no address", "", 0},
		{NULL, "", 0, "5.1.1", "failed", "no address", "", 0},
		/* Line breaks and control characters everywhere. */
		{"d@example.net\r\nBcc: victim@example.org",
		    "o\nX-Injected: yes", 0, "5.1.1", "failed",
		    "550 bad\r\nX-Injected: yes\n\n--fake-boundary\x01\x7f",
		    "mx\n.example.net[1.2.3.4]\r\n", 0},
		/* 8-bit bytes. */
		{"\xc3\xa9l\xc3\xa8ve@exemple.fr", "", 0, "5.1.1", "failed",
		    "R\xc3\xa9ponse inconnue", "", 0},
	};
	struct dsn_notice n;
	struct lines l;
	struct buf out = BUF_INIT;

	(void)state;
	notice_init(&n, &l);
	n.rcpts = r;
	n.nrcpt = NELEM(r);
	n.envid = "env\r\nX-Injected: yes";
	n.sender = "alice@example.org\nX-Injected: yes";
	assert_int_equal(dsn_compose(&n, &out), 5);
	check_lines(&out);
	assert_false(has_text(&out, "\nX-Injected"));
	assert_false(has_text(&out, "\nBcc:"));
	assert_true(has_line(&out, "<a@example.net>: delivery failed"));
	assert_true(has_line(&out, "Final-Recipient: rfc822; a@example.net"));
	assert_true(has_line(&out, "Final-Recipient: rfc822; b@example.net"));
	assert_true(has_line(&out, "Final-Recipient: rfc822; c@example.net"));
	assert_true(has_line(&out, "Status: 5.0.0"));
	assert_false(has_text(&out, "Status: 2.0.0"));
	assert_false(has_text(&out, "5.1.1.1"));
	assert_false(has_text(&out, "bogus"));
	assert_false(has_text(&out, "Action: delivered"));
	assert_false(has_text(&out, "no address"));
	assert_true(has_text(&out, "Bcc: victim"));
	assert_true(has_text(&out, "??l??ve"));
	assert_true(has_text(&out, "R??ponse inconnue"));
	buf_free(&out);
}

static void
test_hostile_long(void **state)
{
	struct dsn_rcpt r[2];
	struct dsn_notice n;
	struct lines l;
	struct buf out = BUF_INIT, reason = BUF_INIT, word = BUF_INIT,
	    addr = BUF_INIT;
	size_t i;

	(void)state;
	/* A 100 kB reason of words, and one 5000-byte word. */
	for (i = 0; i < 10000; i++)
		buf_printf(&reason, "word%04zu ", i);
	for (i = 0; i < 5000; i++)
		buf_putc(&word, 'x');
	for (i = 0; i < 5000; i++)
		buf_putc(&addr, 'y');
	buf_puts(&addr, "@example.net");
	memset(r, 0, sizeof(r));
	r[0].addr = "a@example.net";
	r[0].reason = reason.p;
	r[0].status = "5.0.0";
	r[1].addr = addr.p;
	r[1].orig = addr.p;
	r[1].reason = word.p;
	r[1].relay = word.p;
	notice_init(&n, &l);
	n.rcpts = r;
	n.nrcpt = 2;
	assert_int_equal(dsn_compose(&n, &out), 2);
	check_lines(&out);
	/* Cut at DSN_REASON_MAX: word0409 is about where 4096 ends. */
	assert_true(has_text(&out, "word0400"));
	assert_false(has_text(&out, "word0500"));
	assert_true(has_text(&out, "..."));
	assert_false(has_text(&out, addr.p));
	buf_free(&out);
	buf_free(&reason);
	buf_free(&word);
	buf_free(&addr);
}

static void
test_boundary_collision(void **state)
{
	static const char *const msg[] = {
		"Subject: tricky",
		"",
		"--0BcDfHkLmNzR2.1700000000/mail.example.com",
		"--0BcDfHkLmNzR2.1700000000/mail.example.com=1",
		NULL
	};
	static const struct dsn_rcpt r = {
		"bob@example.net", "", 0, "5.1.1", "failed",
		"550 --0BcDfHkLmNzR2.1700000000/mail.example.com=2", "", 0
	};
	struct dsn_notice n;
	struct lines l;
	struct buf out = BUF_INIT;

	(void)state;
	notice_init(&n, &l);
	l.v = msg;
	n.msg_size = msg_size(msg);
	n.rcpts = &r;
	n.nrcpt = 1;
	assert_int_equal(dsn_compose(&n, &out), 1);
	assert_true(has_line(&out, "\tboundary=\"0BcDfHkLmNzR2.1700000000/"
	    "mail.example.com=3\""));
	assert_true(has_line(&out, "--0BcDfHkLmNzR2.1700000000/"
	    "mail.example.com=3--"));
	buf_free(&out);
}

static void
test_orig_unavailable(void **state)
{
	struct dsn_notice n;
	struct lines l;
	struct buf out = BUF_INIT;

	(void)state;
	/* A read error half way: the notice goes without the message. */
	notice_init(&n, &l);
	n.rcpts = &rcpt_smtp;
	n.nrcpt = 1;
	l.fail_at = 9;
	assert_int_equal(dsn_compose(&n, &out), 1);
	check_lines(&out);
	assert_false(has_text(&out, "message/rfc822"));
	assert_false(has_text(&out, "text/rfc822-headers"));
	assert_true(has_text(&out, "Your message is not available to be "
	    "returned."));
	assert_true(has_line(&out, "Content-Type: message/delivery-status"));

	/* No reader at all. */
	buf_reset(&out);
	notice_init(&n, &l);
	n.rcpts = &rcpt_smtp;
	n.nrcpt = 1;
	n.orig_line = NULL;
	assert_int_equal(dsn_compose(&n, &out), 1);
	assert_false(has_text(&out, "message/rfc822"));
	buf_free(&out);
}

static void
test_eightbit(void **state)
{
	static const char *const msg[] = {
		"Subject: =?utf-8?q?caf=C3=A9?=",
		"Content-Type: text/plain; charset=utf-8",
		"Content-Transfer-Encoding: 8bit",
		"",
		"Un caf\xc3\xa9, s'il vous pla\xc3\xaet.\r",
		NULL
	};
	struct dsn_notice n;
	struct lines l;
	struct buf out = BUF_INIT;

	(void)state;
	notice_init(&n, &l);
	l.v = msg;
	n.msg_size = msg_size(msg);
	n.rcpts = &rcpt_smtp;
	n.nrcpt = 1;
	assert_int_equal(dsn_compose(&n, &out), 1);
	check_lines(&out);
	assert_true(has_line(&out, "Content-Transfer-Encoding: 8bit"));
	/* The CR of a CRLF line end does not come back. */
	assert_true(has_line(&out, "Un caf\xc3\xa9, s'il vous pla\xc3\xaet."));
	buf_free(&out);
}

static void
test_status_action(void **state)
{
	static const struct {
		const char *s;
		int ok;
	} t[] = {
		{"5.1.1", 1}, {"4.0.0", 1}, {"2.0.0", 1}, {"5.999.999", 1},
		{"5.1000.1", 0}, {"5.1.1000", 0}, {"3.1.1", 0}, {"6.1.1", 0},
		{"5..1", 0}, {"5.1.", 0}, {"5.1", 0}, {"5", 0}, {"", 0},
		{"5.1.1 ", 0}, {" 5.1.1", 0}, {"5.a.1", 0}, {"55.1.1", 0},
		{"5.1.1.1", 0}, {"5,1,1", 0},
	};
	size_t i;

	(void)state;
	for (i = 0; i < NELEM(t); i++)
		if (dsn_status_valid(t[i].s) != t[i].ok)
			fail_msg("dsn_status_valid(\"%s\") != %d", t[i].s,
			    t[i].ok);
	assert_int_equal(dsn_status_valid(NULL), 0);
	assert_int_equal(dsn_action_valid("failed"), 1);
	assert_int_equal(dsn_action_valid("delayed"), 1);
	assert_int_equal(dsn_action_valid("delivered"), 1);
	assert_int_equal(dsn_action_valid("relayed"), 1);
	assert_int_equal(dsn_action_valid("expanded"), 1);
	assert_int_equal(dsn_action_valid("Failed"), 0);
	assert_int_equal(dsn_action_valid("failed "), 0);
	assert_int_equal(dsn_action_valid(""), 0);
	assert_int_equal(dsn_action_valid(NULL), 0);
}

static void
test_duration_date(void **state)
{
	static const struct {
		long	 secs;
		const char *text;
	} t[] = {
		{-5, "0 seconds"}, {0, "0 seconds"}, {1, "1 second"},
		{59, "59 seconds"}, {60, "1 minute"}, {90, "1.5 minutes"},
		{3599, "60 minutes"}, {3600, "1 hour"}, {4 * 3600, "4 hours"},
		{86399, "24 hours"}, {86400, "1 day"}, {5 * 86400, "5 days"},
		{5 * 86400 + 43200, "5.5 days"},
		{LONG_MAX, "106751991167300.6 days"},
	};
	struct buf b = BUF_INIT;
	size_t i;

	(void)state;
	for (i = 0; i < NELEM(t); i++) {
		buf_reset(&b);
		dsn_duration(&b, t[i].secs);
		if (strcmp(buf_str(&b), t[i].text) != 0)
			fail_msg("dsn_duration(%ld): \"%s\", want \"%s\"",
			    t[i].secs, buf_str(&b), t[i].text);
	}
	buf_reset(&b);
	dsn_date(&b, NOW);
	assert_string_equal(buf_str(&b), "Tue, 14 Nov 2023 22:13:20 +0000 "
	    "(UTC)");
	buf_reset(&b);
	dsn_date(&b, 0);
	assert_string_equal(buf_str(&b), "Thu, 1 Jan 1970 00:00:00 +0000 "
	    "(UTC)");
	buf_free(&b);
}

static void
test_log_round_trip(void **state)
{
	struct bounce_ent e = {
		"bob@example.net", "orig@example.net", DSN_NOTIFY_FAILURE,
		1234, "5.1.1", "failed", "550 5.1.1 no\r\nsuch user",
		"mx.example.net[192.0.2.25]:25", NOW
	};
	struct bounce_log log;
	struct buf text = BUF_INIT, why = BUF_INIT;

	(void)state;
	bounce_ent_format(&text, &e);
	bounce_ent_format(&text, &e);
	assert_int_equal(bounce_log_parse(text.p, text.len, &log, &why), 0);
	assert_int_equal(log.n, 2);
	assert_string_equal(log.v[1].recipient, "bob@example.net");
	assert_string_equal(log.v[1].orig_rcpt, "orig@example.net");
	assert_int_equal(log.v[1].notify, DSN_NOTIFY_FAILURE);
	assert_int_equal(log.v[1].offset, 1234);
	assert_string_equal(log.v[1].reason, "550 5.1.1 no  such user");
	assert_int_equal(log.v[1].when, NOW);
	bounce_log_free(&log);
	buf_free(&text);
	buf_free(&why);
}

static void
test_log_hostile(void **state)
{
	static const char text[] =
	    "garbage without equals sign\n"
	    "recipient=a@example.net\n"
	    "notify=99999999999999999999999\n"
	    "offset=-x\n"
	    "status=5.1.1\n"
	    "unknown=ignored\n"
	    "\n"
	    "status=5.1.1\n"
	    "reason=an entry without a recipient\n"
	    "\n"
	    "\n\n\n"
	    "recipient=b@example.net\n"
	    "reason=first\n"
	    "reason=second\n"
	    "\n"
	    "recipient=torn@example.net\n"
	    "reason=cut short by a cra";
	struct bounce_log log;
	struct buf why = BUF_INIT, big = BUF_INIT, out = BUF_INIT;
	struct dsn_rcpt r[4];
	struct dsn_notice n;
	struct lines l;
	size_t i;

	(void)state;
	assert_int_equal(bounce_log_parse(text, sizeof(text) - 1, &log,
	    &why), 0);
	assert_int_equal(log.n, 2);
	assert_string_equal(log.v[0].recipient, "a@example.net");
	assert_int_equal(log.v[0].notify, 0);
	assert_string_equal(log.v[0].reason, "");
	assert_string_equal(log.v[0].relay, "");
	assert_string_equal(log.v[1].reason, "second");
	assert_string_equal(log.v[1].status, "4.0.0");

	/* What the daemon makes of it. */
	memset(r, 0, sizeof(r));
	for (i = 0; i < log.n; i++) {
		r[i].addr = log.v[i].recipient;
		r[i].orig = log.v[i].orig_rcpt;
		r[i].notify = log.v[i].notify;
		r[i].status = log.v[i].status;
		r[i].action = log.v[i].action;
		r[i].reason = log.v[i].reason;
		r[i].relay = log.v[i].relay;
		r[i].when = log.v[i].when;
	}
	notice_init(&n, &l);
	n.rcpts = r;
	n.nrcpt = log.n;
	assert_int_equal(dsn_compose(&n, &out), 2);
	check_lines(&out);
	assert_true(has_line(&out, "<b@example.net>: second"));
	assert_true(has_line(&out, "Status: 5.1.1"));
	/* The parser's default for a missing status. */
	assert_true(has_line(&out, "Status: 4.0.0"));
	bounce_log_free(&log);

	/* Limits: a log just over BOUNCE_LOG_MAX is refused. */
	buf_reserve(&big, BOUNCE_LOG_MAX + 1);
	memset(big.p, '\n', BOUNCE_LOG_MAX + 1);
	big.len = BOUNCE_LOG_MAX + 1;
	assert_int_equal(bounce_log_parse(big.p, big.len, &log, &why), -1);
	big.len = BOUNCE_LOG_MAX;
	assert_int_equal(bounce_log_parse(big.p, big.len, &log, &why), 0);
	assert_int_equal(log.n, 0);
	bounce_log_free(&log);
	assert_int_equal(bounce_log_parse("", 0, &log, &why), 0);
	assert_int_equal(log.n, 0);
	bounce_log_free(&log);
	buf_free(&big);
	buf_free(&why);
	buf_free(&out);
}

/* setup - fixed time zone for the golden dates */
static int
setup(void **state)
{
	(void)state;
	setenv("TZ", "UTC", 1);
	tzset();
	return 0;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_failure_one),
		cmocka_unit_test(test_failure_three),
		cmocka_unit_test(test_expired),
		cmocka_unit_test(test_delay),
		cmocka_unit_test(test_success),
		cmocka_unit_test(test_postmaster_copy),
		cmocka_unit_test(test_headers_only),
		cmocka_unit_test(test_size_limit),
		cmocka_unit_test(test_notify_never),
		cmocka_unit_test(test_hostile_fields),
		cmocka_unit_test(test_hostile_long),
		cmocka_unit_test(test_boundary_collision),
		cmocka_unit_test(test_orig_unavailable),
		cmocka_unit_test(test_eightbit),
		cmocka_unit_test(test_status_action),
		cmocka_unit_test(test_duration_date),
		cmocka_unit_test(test_log_round_trip),
		cmocka_unit_test(test_log_hostile),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
