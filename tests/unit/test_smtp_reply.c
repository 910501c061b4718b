/*
 * NAME		test_smtp_reply - unit tests for the SMTP client's reply
 *		parser
 * DESCRIPTION	Single and multi-line replies, enhanced status codes (and
 *		codes whose class disagrees with the reply), codes without
 *		text, malformed lines (missing or short code, bad separator,
 *		1xx and 6xx codes), control characters and 8-bit bytes,
 *		over-long lines, the line count at limit-1, limit and
 *		limit+1, the kept-text bound, and reading from a stream
 *		(CRLF, bare LF, end of file in the middle of a reply, a
 *		huge line).  Also the EHLO keyword parser.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <unistd.h>

#include "../../smtp/smtp.h"
#include "util/buf.h"
#include "util/stream.h"
#include "unit.h"

/* feed - give the parser "\n"-separated lines; the last status */
static int
feed(struct smtp_reply *r, const char *text, struct buf *why)
{
	const char *p = text, *nl;
	int rc = 0;

	smtp_reply_reset(r);
	for (;;) {
		nl = strchr(p, '\n');
		rc = smtp_reply_line(r, p, nl ? (size_t)(nl - p) : strlen(p),
		    why);
		if (rc != 0 || nl == NULL)
			return rc;
		p = nl + 1;
	}
}

struct reply_case {
	const char *in;
	int	 rc;
	int	 code;
	const char *dsn;
	const char *shown;
};

static void
test_reply_table(void **state)
{
	static const struct reply_case cases[] = {
		{ "250 Ok", 1, 250, "2.0.0", "250 Ok" },
		{ "250 2.1.5 Ok", 1, 250, "2.1.5", "250 2.1.5 Ok" },
		{ "550 5.1.1 User unknown", 1, 550, "5.1.1",
		    "550 5.1.1 User unknown" },
		{ "451 4.7.1 Try later", 1, 451, "4.7.1",
		    "451 4.7.1 Try later" },
		/* Class digit from the reply code. */
		{ "550 2.1.1 odd", 1, 550, "5.1.1", "550 2.1.1 odd" },
		{ "250 5.0.0 odd", 1, 250, "2.0.0", "250 5.0.0 odd" },
		{ "421 4.4.2 closing", 1, 421, "4.4.2",
		    "421 4.4.2 closing" },
		/* Not enhanced codes. */
		{ "550 5.1 short", 1, 550, "5.0.0", "550 5.1 short" },
		{ "550 5.1.1x glued", 1, 550, "5.0.0", "550 5.1.1x glued" },
		{ "550 5.1234.1 long", 1, 550, "5.0.0", "550 5.1234.1 long" },
		{ "550 5.123.456", 1, 550, "5.123.456", "550 5.123.456" },
		{ "354", 1, 354, "3.0.0", "354" },
		{ "250", 1, 250, "2.0.0", "250" },
		{ "250-mx.example\n250-PIPELINING\n250 SIZE 1000", 1, 250,
		    "2.0.0", "250-mx.example 250-PIPELINING 250 SIZE 1000" },
		{ "550-5.1.1 first\n550 5.1.1 second", 1, 550, "5.1.1",
		    "550-5.1.1 first 550 5.1.1 second" },
		/* The code of the last line counts. */
		{ "250-ok so far\n451 4.3.0 changed my mind", 1, 451,
		    "4.0.0", "250-ok so far 451 4.3.0 changed my mind" },
		{ "250-more", 0, 0, "", "" },
		/* Malformed. */
		{ "", -1, 0, "", "" },
		{ "25", -1, 0, "", "" },
		{ "Ok", -1, 0, "", "" },
		{ "hello there", -1, 0, "", "" },
		{ "250_ok", -1, 0, "", "" },
		{ "250ok", -1, 0, "", "" },
		{ "150 no", -1, 0, "", "" },
		{ "650 no", -1, 0, "", "" },
		{ "260 no", -1, 0, "", "" },
		{ "2x0 no", -1, 0, "", "" },
		{ "250-first\nnot a reply", -1, 0, "", "" },
	};
	struct smtp_reply r;
	struct buf why = BUF_INIT, shown = BUF_INIT;
	size_t i;
	int rc;

	(void)state;
	smtp_reply_init(&r);
	for (i = 0; i < NELEM(cases); i++) {
		rc = feed(&r, cases[i].in, &why);
		if (rc != cases[i].rc)
			fail_msg("case %zu (%s): rc %d, want %d", i,
			    cases[i].in, rc, cases[i].rc);
		if (rc != 1)
			continue;
		assert_int_equal(r.code, cases[i].code);
		assert_string_equal(r.dsn, cases[i].dsn);
		buf_reset(&shown);
		smtp_reply_show(&r, &shown);
		assert_string_equal(buf_str(&shown), cases[i].shown);
	}
	smtp_reply_free(&r);
	buf_free(&why);
	buf_free(&shown);
}

static void
test_reply_hostile(void **state)
{
	struct smtp_reply r;
	struct buf why = BUF_INIT, line = BUF_INIT, shown = BUF_INIT;
	size_t i;
	int rc = 0;

	(void)state;
	smtp_reply_init(&r);
	/* Control characters and 8-bit bytes are kept as '?'. */
	assert_int_equal(smtp_reply_line(&r, "550 5.7.1 \x1b[31mred\r\xff\0z",
	    22, &why), 1);
	smtp_reply_show(&r, &shown);
	assert_string_equal(buf_str(&shown), "550 5.7.1 ?[31mred???z");

	/* SMTP_REPLY_LINES_MAX lines pass, one more fails. */
	for (i = 1; i <= SMTP_REPLY_LINES_MAX + 1; i++) {
		int last = i == SMTP_REPLY_LINES_MAX;

		rc = smtp_reply_line(&r, last ? "250 end" : "250-more",
		    last ? 7 : 8, &why);
		if (i < SMTP_REPLY_LINES_MAX)
			assert_int_equal(rc, 0);
		else if (last)
			assert_int_equal(rc, 1);
	}
	assert_int_equal(rc, 0);	/* a new reply began */
	smtp_reply_reset(&r);
	for (i = 1; i <= SMTP_REPLY_LINES_MAX; i++)
		assert_int_equal(smtp_reply_line(&r, "250-more", 8, &why), 0);
	assert_int_equal(smtp_reply_line(&r, "250 end", 7, &why), -1);
	assert_string_equal(buf_str(&why), "reply has too many lines");

	/* The kept text is bounded. */
	smtp_reply_reset(&r);
	buf_sets(&line, "250-");
	for (i = 0; i < 1500; i++)
		buf_putc(&line, 'x');
	for (i = 0; i < 20; i++)
		assert_int_equal(smtp_reply_line(&r, line.p, line.len, &why),
		    0);
	assert_int_equal(smtp_reply_line(&r, "250 end", 7, &why), 1);
	assert_int_equal(r.text.len, SMTP_REPLY_TEXT_MAX);
	smtp_reply_free(&r);
	buf_free(&why);
	buf_free(&line);
	buf_free(&shown);
}

/* stream_of - a stream reading the given bytes */
static struct stream *
stream_of(const char *data, size_t len)
{
	int fds[2];
	struct stream *s;

	assert_int_equal(pipe(fds), 0);
	s = stream_open(fds[0], 5);
	/* A pipe holds 64 KiB; larger inputs go in through the buffer. */
	if (len <= 65536) {
		assert_int_equal(write(fds[1], data, len), (ssize_t)len);
	} else {
		buf_put(&s->in, data, len);
	}
	close(fds[1]);
	return s;
}

static void
test_reply_read(void **state)
{
	static const char two[] = "250-mx.example says hi\r\n"
	    "250-PIPELINING\r\n250 SIZE 2048\r\n220 next\n";
	struct smtp_reply r;
	struct buf why = BUF_INIT, big = BUF_INIT;
	struct stream *s;
	size_t i;

	(void)state;
	smtp_reply_init(&r);
	s = stream_of(two, sizeof(two) - 1);
	assert_int_equal(smtp_reply_read(s, &r, &why), SMTP_REPLY_OK);
	assert_int_equal(r.code, 250);
	assert_int_equal(r.nlines, 3);
	assert_string_equal(r.text.p, "250-mx.example says hi\n"
	    "250-PIPELINING\n250 SIZE 2048");
	assert_int_equal(smtp_reply_read(s, &r, &why), SMTP_REPLY_OK);
	assert_int_equal(r.code, 220);
	assert_string_equal(r.text.p, "220 next");
	/* End of file. */
	assert_int_equal(smtp_reply_read(s, &r, &why), SMTP_REPLY_IOERR);
	stream_close(s);

	/* End of file inside a reply. */
	s = stream_of("250-one\r\n250-two\r\n", 18);
	assert_int_equal(smtp_reply_read(s, &r, &why), SMTP_REPLY_IOERR);
	stream_close(s);

	/* A malformed line. */
	s = stream_of("hello\r\n", 7);
	assert_int_equal(smtp_reply_read(s, &r, &why), SMTP_REPLY_BAD);
	stream_close(s);

	/* An over-long line is cut; the next reply is found intact. */
	buf_sets(&big, "550 5.1.1 ");
	for (i = 0; i < 100000; i++)
		buf_putc(&big, 'y');
	buf_puts(&big, "\r\n250 2.0.0 after\r\n");
	s = stream_of(big.p, big.len);
	assert_int_equal(smtp_reply_read(s, &r, &why), SMTP_REPLY_OK);
	assert_int_equal(r.code, 550);
	assert_string_equal(r.dsn, "5.1.1");
	assert_int_equal(r.text.len, SMTP_LINE_MAX);
	assert_int_equal(smtp_reply_read(s, &r, &why), SMTP_REPLY_OK);
	assert_string_equal(r.text.p, "250 2.0.0 after");
	stream_close(s);

	/* A reply of more than SMTP_REPLY_BYTES_MAX bytes is refused. */
	buf_reset(&big);
	while (big.len <= SMTP_REPLY_BYTES_MAX + 100)
		buf_puts(&big, "250-0123456789012345678901234567890123456789"
		    "01234567890123456789\r\n");
	buf_puts(&big, "250 end\r\n");
	s = stream_of(big.p, big.len);
	assert_int_equal(smtp_reply_read(s, &r, &why), SMTP_REPLY_BAD);
	stream_close(s);

	/* One line that never ends, past the byte limit. */
	buf_sets(&big, "250 ");
	while (big.len <= SMTP_REPLY_BYTES_MAX + 100)
		buf_puts(&big, "zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz");
	s = stream_of(big.p, big.len);
	assert_int_equal(smtp_reply_read(s, &r, &why), SMTP_REPLY_BAD);
	stream_close(s);

	smtp_reply_free(&r);
	buf_free(&why);
	buf_free(&big);
}

static void
test_ehlo_features(void **state)
{
	struct smtp_reply r;
	struct buf why = BUF_INIT;
	long size;
	int f;

	(void)state;
	smtp_reply_init(&r);
	assert_int_equal(feed(&r, "250-mx.example PIPELINING SIZE\n"
	    "250-pipelining\n250-SIZE 10240000\n250-8BITMIME\n"
	    "250-DSN\n250-SMTPUTF8\n250-AUTH=LOGIN\n250-AUTH PLAIN\n"
	    "250-ENHANCEDSTATUSCODES\n250-X-UNKNOWN\n250-\n250 STARTTLS",
	    &why), 1);
	f = smtp_ehlo_features(&r, "", &size);
	assert_int_equal(f, SMTP_F_ESMTP | SMTP_F_PIPELINING | SMTP_F_SIZE |
	    SMTP_F_8BITMIME | SMTP_F_DSN | SMTP_F_SMTPUTF8 | SMTP_F_AUTH |
	    SMTP_F_ENHANCED | SMTP_F_STARTTLS);
	assert_int_equal(size, 10240000);
	f = smtp_ehlo_features(&r, "pipelining, dsn silent-discard", &size);
	assert_int_equal(f & (SMTP_F_PIPELINING | SMTP_F_DSN), 0);
	assert_true(f & SMTP_F_SIZE);

	/* Only the greeting line: no extensions. */
	assert_int_equal(feed(&r, "250 mx.example PIPELINING", &why), 1);
	assert_int_equal(smtp_ehlo_features(&r, "", &size), SMTP_F_ESMTP);
	assert_int_equal(size, 0);

	/* SIZE without a number, with 0 and with garbage. */
	assert_int_equal(feed(&r, "250-x\n250-SIZE\n250 8BITMIME", &why), 1);
	f = smtp_ehlo_features(&r, "", &size);
	assert_true(f & SMTP_F_SIZE);
	assert_int_equal(size, 0);
	assert_int_equal(feed(&r, "250-x\n250 SIZE 0", &why), 1);
	(void)smtp_ehlo_features(&r, "", &size);
	assert_int_equal(size, 0);
	assert_int_equal(feed(&r, "250-x\n250 SIZE 99999999999999999999999",
	    &why), 1);
	(void)smtp_ehlo_features(&r, "", &size);
	assert_int_equal(size, 0);
	assert_int_equal(feed(&r, "250-x\n250 SIZE -5", &why), 1);
	(void)smtp_ehlo_features(&r, "", &size);
	assert_int_equal(size, 0);
	smtp_reply_free(&r);
	buf_free(&why);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reply_table),
		cmocka_unit_test(test_reply_hostile),
		cmocka_unit_test(test_reply_read),
		cmocka_unit_test(test_ehlo_features),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
