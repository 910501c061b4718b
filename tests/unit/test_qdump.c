/*
 * NAME		test_qdump - unit tests for mail/qdump (postcat)
 * DESCRIPTION	Golden transcripts of a queue file and of a maildrop file
 *		under each option combination (data/postcat.ref); the header
 *		test; each structural error with its offset; every truncated
 *		prefix of a good file fails cleanly; records at the length
 *		limit; random garbage never crashes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "mail/qdump.h"
#include "mail/rec.h"
#include "util/buf.h"
#include "util/stream.h"
#include "unit.h"
#include "qfile_build.h"

/* dump_mem - run qdump over bytes; output appended to out */
static int
dump_mem(const void *p, size_t len, int flags, const char *name,
    struct buf *out, struct buf *why)
{
	int fd = memfd_create("qdump", 0);
	struct stream *s;
	struct qdump q;
	int r;

	assert_true(fd >= 0);
	assert_int_equal(write_all(fd, p, len), 0);
	assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
	s = stream_open(fd, 0);
	memset(&q, 0, sizeof(q));
	q.flags = flags;
	q.name = name;
	buf_reset(why);
	r = qdump_stream(&q, s, why);
	buf_put(out, q.out.p ? q.out.p : "", q.out.len);
	buf_free(&q.out);
	stream_close(s);
	return r;
}

static void
test_qdump_golden(void **state)
{
	static const struct {
		const char *title;
		int	 flags;
	} modes[] = {
		{"default", 0},
		{"-e", QDUMP_ENV},
		{"-h", QDUMP_HEADER},
		{"-b", QDUMP_BODY},
		{"-bh", QDUMP_BODY | QDUMP_HEADER},
		{"-o -d", QDUMP_ALL | QDUMP_OFFSET | QDUMP_DECIMAL},
		{"-v", QDUMP_ALL | QDUMP_VERBOSE},
		{"-bo", QDUMP_BODY | QDUMP_OFFSET},
	};
	struct buf out = BUF_INIT, why = BUF_INIT;
	struct qb full, drop;
	size_t i;

	(void)state;
	qb_sample(&full, 1, "sender@example.org", 1763812800);
	qb_sample(&drop, 0, "", 1763812800);
	for (i = 0; i < NELEM(modes); i++) {
		buf_printf(&out, "==== queue file %s\n", modes[i].title);
		assert_int_equal(dump_mem(full.b.p, full.b.len,
		    modes[i].flags, "active/5BMgmF59T8z1bZ4d", &out, &why), 0);
	}
	buf_puts(&out, "==== maildrop file\n");
	assert_int_equal(dump_mem(drop.b.p, drop.b.len, 0,
	    "maildrop/5BMgmF59T8z1bZ4d", &out, &why), 0);
	golden_check("postcat", &out);
	buf_free(&out);
	buf_free(&why);
	buf_free(&full.b);
	buf_free(&drop.b);
}

static void
test_qdump_is_header(void **state)
{
	(void)state;
	assert_true(qdump_is_header("Subject: x", 10));
	assert_true(qdump_is_header("X-A :x", 6));
	assert_true(qdump_is_header("a\t:", 3));
	assert_false(qdump_is_header(": x", 3));
	assert_false(qdump_is_header("a b: x", 6));
	assert_false(qdump_is_header("Subject", 7));
	assert_false(qdump_is_header("Subject: x", 7));	/* length bound */
	assert_false(qdump_is_header("", 0));
	assert_false(qdump_is_header("\xc3\xa9: x", 5));
}

/* expect_error - dump must fail with exactly this reason */
static void
expect_error(const struct buf *b, const char *reason)
{
	struct buf out = BUF_INIT, why = BUF_INIT;

	if (dump_mem(b->p, b->len, 0, "f", &out, &why) != -1)
		fail_msg("want error \"%s\"", reason);
	assert_string_equal(buf_str(&why), reason);
	buf_free(&out);
	buf_free(&why);
}

static void
test_qdump_errors(void **state)
{
	struct qb q;
	struct buf b = BUF_INIT;

	(void)state;
	expect_error(&b, "empty file");
	rec_puts(&b, REC_MESG, "");
	expect_error(&b, "input is not a valid queue file");
	buf_reset(&b);
	buf_puts(&b, "garbage");
	expect_error(&b, "offset 0: malformed record (bad type or length)");
	buf_reset(&b);
	/* Five length bytes: more than the varint allows. */
	buf_put(&b, "S\x80\x80\x80\x80\x01", 6);
	expect_error(&b, "offset 0: malformed record (bad type or length)");
	buf_reset(&b);
	/* Just over REC_LEN_MAX. */
	buf_put(&b, "S\x81\x80\x40", 4);
	expect_error(&b, "offset 0: malformed record (bad type or length)");
	buf_reset(&b);
	rec_puts(&b, REC_FROM, "a");
	buf_put(&b, "R\x05" "ab", 4);
	expect_error(&b, "offset 3: premature end of file (truncated record)");
	buf_reset(&b);
	rec_puts(&b, REC_FROM, "a");
	expect_error(&b, "offset 3: premature end of file (no end record)");
	rec_puts(&b, REC_NORM, "text");
	expect_error(&b, "offset 3: message text outside the message content");
	buf_reset(&b);
	rec_puts(&b, REC_FROM, "a");
	rec_puts(&b, REC_VERSION, REC_VERSION_TEXT);
	expect_error(&b, "offset 3: misplaced version record");
	buf_reset(&b);
	rec_puts(&b, REC_FROM, "a");
	rec_puts(&b, REC_MESG, "");
	rec_puts(&b, REC_MESG, "");
	expect_error(&b, "offset 5: out-of-order message content marker");
	buf_reset(&b);
	rec_puts(&b, REC_FROM, "a");
	rec_puts(&b, REC_XTRA, "");
	expect_error(&b, "offset 3: out-of-order extracted segment marker");
	buf_reset(&b);
	rec_puts(&b, REC_FROM, "a");
	rec_puts(&b, REC_MESG, "");
	rec_puts(&b, REC_END, "");
	expect_error(&b, "offset 5: out-of-order message end marker");
	buf_reset(&b);
	rec_puts(&b, REC_FROM, "a");
	rec_puts(&b, REC_MESG, "");
	rec_puts(&b, REC_RCPT, "x");
	expect_error(&b, "offset 5: unexpected recipient record in the "
	    "message content");
	buf_reset(&b);
	rec_puts(&b, REC_FROM, "a");
	rec_puts(&b, REC_MESG, "");
	rec_puts(&b, REC_XTRA, "");
	rec_puts(&b, REC_NORM, "x");
	expect_error(&b, "offset 7: message text outside the message content");

	/* Every proper prefix of a good file is an error, never a crash. */
	qb_sample(&q, 1, "s@example.org", 1);
	for (b.len = 0; b.len < q.b.len; b.len++) {
		struct buf out = BUF_INIT, why = BUF_INIT;

		assert_int_equal(dump_mem(q.b.p, b.len, 0, "f", &out, &why),
		    -1);
		assert_true(why.len > 0);
		buf_free(&out);
		buf_free(&why);
	}
	buf_free(&q.b);
	buf_free(&b);
}

/* count_warn - qdump complaint callback for the tests */
static void
count_warn(struct qdump *q, const char *text)
{
	(void)text;
	(*(int *)q->ctx)++;
}

static void
test_qdump_values(void **state)
{
	struct buf b = BUF_INIT, why = BUF_INIT;
	struct stream *s;
	struct qdump q;
	int fd = memfd_create("qdump", 0), warnings = 0;

	(void)state;
	rec_puts(&b, REC_TIME, "garbage");
	rec_puts(&b, REC_ATTR, "create_time=bogus");
	rec_puts(&b, REC_ATTR, "create_time=0");
	rec_puts(&b, REC_ATTR, "noequals");
	rec_puts(&b, REC_ATTR, "=nameless");
	rec_put(&b, REC_FROM, "nul\0byte", 8);
	rec_puts(&b, REC_MESG, "");
	rec_puts(&b, REC_XTRA, "");
	rec_puts(&b, REC_END, "");
	assert_true(fd >= 0);
	assert_int_equal(write_all(fd, b.p, b.len), 0);
	assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
	s = stream_open(fd, 0);
	memset(&q, 0, sizeof(q));
	q.flags = QDUMP_ENV;
	q.name = "x";
	q.warn = count_warn;
	q.ctx = &warnings;
	assert_int_equal(qdump_stream(&q, s, &why), 0);
	assert_int_equal(warnings, 2);
	assert_int_equal(q.out.len, 281);
	assert_memory_equal(q.out.p, "*** ENVELOPE RECORDS x ***\n"
	    "message_arrival_time: garbage\n"
	    "named_attribute: create_time=bogus\n"
	    "create_time: Thu Jan  1 00:00:00 1970\n"
	    "named_attribute: noequals\n"
	    "named_attribute: =nameless\n"
	    "sender: nul\0byte\n"
	    "*** MESSAGE CONTENTS x ***\n"
	    "*** HEADER EXTRACTED x ***\n"
	    "*** MESSAGE FILE END x ***\n", q.out.len);
	stream_close(s);
	buf_free(&q.out);
	buf_free(&b);
	buf_free(&why);
}

static void
test_qdump_limits(void **state)
{
	struct buf b = BUF_INIT, big = BUF_INIT, out = BUF_INIT;
	struct buf why = BUF_INIT;

	(void)state;
	buf_reserve(&big, REC_LEN_MAX);
	memset(big.p, 'x', REC_LEN_MAX);
	big.len = REC_LEN_MAX;
	rec_puts(&b, REC_FROM, "a");
	rec_put(&b, REC_RCPT, big.p, REC_LEN_MAX);	/* at the limit */
	rec_puts(&b, REC_MESG, "");
	rec_put(&b, REC_CONT, big.p, REC_LEN_MAX);
	rec_put(&b, REC_NORM, big.p, REC_LEN_MAX);
	rec_puts(&b, REC_XTRA, "");
	rec_puts(&b, REC_END, "");
	assert_int_equal(dump_mem(b.p, b.len, QDUMP_BODY, "f", &out, &why),
	    0);
	assert_int_equal(out.len, 2 * REC_LEN_MAX + 1);
	buf_free(&b);
	buf_free(&big);
	buf_free(&out);
	buf_free(&why);
}

static void
test_qdump_garbage(void **state)
{
	struct buf out = BUF_INIT, why = BUF_INIT, b = BUF_INIT;
	struct qb q;
	unsigned seed = 12345;
	int i;
	size_t k;

	(void)state;
	qb_sample(&q, 1, "s@example.org", 1);
	for (i = 0; i < 2000; i++) {
		/* Flip a few bytes of a good file, or make pure noise. */
		buf_set(&b, q.b.p, q.b.len);
		for (k = 0; k < 4; k++) {
			seed = seed * 1103515245 + 12345;
			b.p[(seed >> 8) % b.len] = (char)(seed >> 16);
		}
		if (i % 4 == 0) {
			for (k = 0; k < b.len; k++) {
				seed = seed * 1103515245 + 12345;
				b.p[k] = (char)(seed >> 16);
			}
		}
		buf_reset(&out);
		(void)dump_mem(b.p, b.len, QDUMP_ALL | QDUMP_OFFSET |
		    QDUMP_RAW, "f", &out, &why);
	}
	buf_free(&b);
	buf_free(&out);
	buf_free(&why);
	buf_free(&q.b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_qdump_golden),
		cmocka_unit_test(test_qdump_is_header),
		cmocka_unit_test(test_qdump_errors),
		cmocka_unit_test(test_qdump_values),
		cmocka_unit_test(test_qdump_limits),
		cmocka_unit_test(test_qdump_garbage),
	};

	setenv("TZ", "UTC", 1);
	tzset();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
