/*
 * NAME		test_ipc - unit tests for mail/ipc
 * DESCRIPTION	Frame building (exact bytes), ipc_frame_len() on incomplete
 *		and oversized headers, the strict ipc_scan(): missing,
 *		unexpected, repeated and wrong-type attributes, NUL bytes,
 *		values and lists at limit-1, limit and limit+1, every
 *		truncation of a frame; ipc_peek_str(); ipc_read(), the hello
 *		exchange and ipc_call() over a socketpair.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include "mail/ipc.h"
#include "util/argv.h"
#include "util/buf.h"
#include "util/files.h"
#include "util/stream.h"
#include "unit.h"

/* Attribute builders for hand-made (possibly broken) bodies. */

/* raw_name - type byte, name length and name */
static void
raw_name(struct buf *b, int type, const char *name, size_t nlen)
{
	buf_putc(b, type);
	buf_putc(b, (int)nlen);
	buf_put(b, name, nlen);
}

/* raw_be32 - a 4-byte big-endian number */
static void
raw_be32(struct buf *b, uint32_t v)
{
	buf_putc(b, (int)(v >> 24) & 0xff);
	buf_putc(b, (int)(v >> 16) & 0xff);
	buf_putc(b, (int)(v >> 8) & 0xff);
	buf_putc(b, (int)v & 0xff);
}

/* body - the body of a built frame */
#define BODY(b)		((b)->p + IPC_HDR_LEN)
#define BODYLEN(b)	((b)->len - IPC_HDR_LEN)

static void
test_ipc_build(void **state)
{
	static const char want[] =
	    "\0\0\0\x26"			/* body length 38 */
	    "s\x04" "name" "\0\0\0\x03" "abc"	/* 13 */
	    "i\x01" "n" "\xff\xff\xff\xff\xff\xff\xff\xfe"	/* 11 */
	    "s\x01" "e" "\0\0\0\0"		/* 7 */
	    "s\x01" "x" "\0\0\0\0";		/* 7: NULL value */
	struct buf b = BUF_INIT;

	(void)state;
	ipc_begin(&b);
	ipc_put_str(&b, "name", "abc");
	ipc_put_int(&b, "n", -2);
	ipc_put_strn(&b, "e", "ignored", 0);
	ipc_put_str(&b, "x", NULL);
	ipc_end(&b);
	assert_int_equal(b.len, sizeof(want) - 1);
	assert_memory_equal(b.p, want, b.len);
	/* ipc_begin resets the buffer. */
	buf_puts(&b, "junk");
	ipc_begin(&b);
	ipc_end(&b);
	assert_int_equal(b.len, 4);
	assert_memory_equal(b.p, "\0\0\0\0", 4);
	buf_free(&b);
}

static void
test_ipc_frame_len(void **state)
{
	static const struct {
		const char *in;
		size_t	 avail;
		size_t	 max;
		long	 ret;
	} t[] = {
		{"", 0, 100, 0},
		{"\0", 1, 100, 0},
		{"\0\0", 2, 100, 0},
		{"\0\0\0", 3, 100, 0},
		{"\0\0\0\0", 4, 100, 4},
		{"\0\0\0\0xyz", 7, 100, 4},		/* next frame follows */
		{"\0\0\0\x03" "ab", 6, 100, 0},
		{"\0\0\0\x03" "abc", 7, 100, 7},
		/* The maximum at limit-1, limit and limit+1. */
		{"\0\0\0\x63", 4, 100, 0},
		{"\0\0\0\x64", 4, 100, 0},
		{"\0\0\0\x65", 4, 100, -1},
		{"\0\0\0\x01", 4, 0, -1},
		/* Oversized headers are refused from the header alone. */
		{"\xff\xff\xff\xff", 4, (size_t)-1, -1},
		{"\0\x40\0\x01", 4, (size_t)-1, -1},	/* FRAME_MAX + 1 */
		{"\0\x40\0\0", 4, (size_t)-1, 0},	/* FRAME_MAX */
		{"\x80\0\0\0", 4, (size_t)-1, -1},
	};
	size_t i;

	(void)state;
	for (i = 0; i < NELEM(t); i++) {
		long r = ipc_frame_len(t[i].in, t[i].avail, t[i].max);

		if (r != t[i].ret)
			fail_msg("case %zu: got %ld want %ld", i, r, t[i].ret);
	}
}

static void
test_ipc_scan_ok(void **state)
{
	struct buf b = BUF_INIT, why = BUF_INIT, addr = BUF_INIT,
	    opt = BUF_INIT;
	struct argv list;
	int64_t flags = 0, big = 0, small = 0, oint = 99;
	struct ipc_want want[] = {
		IPC_WANT_STR("address", &addr, 64),
		IPC_WANT_INT("flags", &flags),
		IPC_WANT_INT("big", &big),
		IPC_WANT_INT("small", &small),
		IPC_WANT_OSTR("opt", &opt, 10),
		IPC_WANT_OINT("oint", &oint),
		IPC_WANT_LIST("rcpt", &list, 64, 10),
		IPC_WANT_END
	};

	(void)state;
	argv_init(&list);
	buf_sets(&opt, "stale");
	argv_add(&list, "stale");
	/* Any order; optional ones absent; list elements repeat. */
	ipc_begin(&b);
	ipc_put_str(&b, "rcpt", "a@x");
	ipc_put_int(&b, "small", INT64_MIN);
	ipc_put_str(&b, "address", "user@example.com");
	ipc_put_str(&b, "rcpt", "");
	ipc_put_int(&b, "big", INT64_MAX);
	ipc_put_int(&b, "flags", 0x0102030405060708LL);
	ipc_put_str(&b, "rcpt", "b@y");
	ipc_end(&b);
	assert_int_equal(ipc_scan(BODY(&b), BODYLEN(&b), want, &why), 0);
	assert_string_equal(buf_str(&addr), "user@example.com");
	assert_true(flags == 0x0102030405060708LL);
	assert_true(big == INT64_MAX);
	assert_true(small == INT64_MIN);
	assert_int_equal(opt.len, 0);		/* reset by the scan */
	assert_true(oint == 99);		/* absent: untouched */
	assert_int_equal(want[4].seen, 0);
	assert_int_equal(want[0].seen, 1);
	assert_int_equal(list.n, 3);
	assert_string_equal(list.v[0], "a@x");
	assert_string_equal(list.v[1], "");
	assert_string_equal(list.v[2], "b@y");
	/* An empty body satisfies a want list of optional attributes. */
	assert_int_equal(ipc_scan("", 0, want + 4, &why), 0);
	assert_int_equal(list.n, 0);
	argv_clear(&list);
	buf_free(&b);
	buf_free(&why);
	buf_free(&addr);
	buf_free(&opt);
}

/* The want list of the failure tests: strings, ints and a list. */
struct scan_ctx {
	struct buf s;
	struct buf o;
	int64_t	 i;
	struct argv l;
	struct ipc_want want[5];
};

/* scan_setup - a want list with limits 8 (string) and 3 (list) */
static void
scan_setup(struct scan_ctx *c)
{
	struct ipc_want w[] = {
		IPC_WANT_STR("s", &c->s, 8),
		IPC_WANT_OSTR("o", &c->o, 8),
		IPC_WANT_INT("i", &c->i),
		IPC_WANT_LIST("l", &c->l, 8, 3),
		IPC_WANT_END
	};

	buf_init(&c->s);
	buf_init(&c->o);
	memset(&c->l, 0, sizeof(c->l));	/* zeroed argv is empty */
	memcpy(c->want, w, sizeof(w));
}

/* scan_free - release what the scans filled in */
static void
scan_free(struct scan_ctx *c)
{
	buf_free(&c->s);
	buf_free(&c->o);
	argv_clear(&c->l);
}

/* add_str, add_int - attribute with the default good values */
static void
add_str(struct buf *b, const char *name, const char *val, size_t len)
{
	raw_name(b, 's', name, strlen(name));
	raw_be32(b, (uint32_t)len);
	buf_put(b, val, len);
}

static void
add_int(struct buf *b, const char *name)
{
	raw_name(b, 'i', name, strlen(name));
	buf_put(b, "\0\0\0\0\0\0\0\x2a", 8);
}

static void
test_ipc_scan_errors(void **state)
{
	static const struct {
		const char *desc;
		const char *why;	/* expected reason prefix, NULL: ok */
	} t[] = {
		{"s i", NULL},
		{"s i o", NULL},
		{"s i l l l", NULL},
		{"i", "missing attribute: s"},
		{"s", "missing attribute: i"},
		{"s i x", "unexpected attribute: x"},
		{"s i S", "unexpected attribute: S"},
		{"s s i", "repeated attribute: s"},
		{"s i i", "repeated attribute: i"},
		{"s i o o", "repeated attribute: o"},
		{"s i l l l l", "attribute l: too many values"},
		{"s I", "attribute i: wrong type"},	/* string for int */
		{"S=s i", "attribute s: wrong type"},	/* int for string */
		{"s i L", "attribute l: wrong type"},	/* int for list */
		{"s7 i", NULL},				/* limit-1 */
		{"s8 i", NULL},				/* limit */
		{"s9 i", "attribute s: value too long"},	/* limit+1 */
		{"s i l8", NULL},
		{"s i l9", "attribute l: value too long"},
		{"s0 i", "attribute s: NUL in value"},
		{"s i l0", "attribute l: NUL in value"},
		{"s i ?", "malformed attribute"},	/* unknown type */
		{"s i n", "malformed attribute"},	/* empty name */
		{"s i h", "malformed attribute"},	/* huge length */
		{"s i N", "unexpected attribute"},	/* NUL in name */
	};
	struct scan_ctx c;
	struct buf body = BUF_INIT, why = BUF_INIT;
	size_t i;

	(void)state;
	scan_setup(&c);
	for (i = 0; i < NELEM(t); i++) {
		char *copy = strdup(t[i].desc), *cp = copy, *tok;
		int r;

		buf_reset(&body);
		buf_reset(&why);
		while ((tok = strsep(&cp, " ")) != NULL) {
			if (strcmp(tok, "s") == 0)
				add_str(&body, "s", "value", 5);
			else if (strcmp(tok, "s7") == 0)
				add_str(&body, "s", "1234567", 7);
			else if (strcmp(tok, "s8") == 0)
				add_str(&body, "s", "12345678", 8);
			else if (strcmp(tok, "s9") == 0)
				add_str(&body, "s", "123456789", 9);
			else if (strcmp(tok, "s0") == 0)
				add_str(&body, "s", "ab\0cd", 5);
			else if (strcmp(tok, "S=s") == 0)
				add_int(&body, "s");
			else if (strcmp(tok, "i") == 0)
				add_int(&body, "i");
			else if (strcmp(tok, "I") == 0)
				add_str(&body, "i", "42", 2);
			else if (strcmp(tok, "o") == 0)
				add_str(&body, "o", "opt", 3);
			else if (strcmp(tok, "l") == 0)
				add_str(&body, "l", "elem", 4);
			else if (strcmp(tok, "l8") == 0)
				add_str(&body, "l", "12345678", 8);
			else if (strcmp(tok, "l9") == 0)
				add_str(&body, "l", "123456789", 9);
			else if (strcmp(tok, "l0") == 0)
				add_str(&body, "l", "\0", 1);
			else if (strcmp(tok, "L") == 0)
				add_int(&body, "l");
			else if (strcmp(tok, "x") == 0)
				add_str(&body, "x", "", 0);
			else if (strcmp(tok, "S") == 0)
				add_str(&body, "S", "", 0);
			else if (strcmp(tok, "?") == 0) {
				raw_name(&body, 'x', "s", 1);
				raw_be32(&body, 0);
			} else if (strcmp(tok, "n") == 0) {
				raw_name(&body, 's', "", 0);
				raw_be32(&body, 0);
			} else if (strcmp(tok, "h") == 0) {
				raw_name(&body, 's', "o", 1);
				raw_be32(&body, 0xffffffffU);
				buf_puts(&body, "abc");
			} else if (strcmp(tok, "N") == 0) {
				raw_name(&body, 's', "s\0", 2);
				raw_be32(&body, 0);
			} else
				fail_msg("bad token %s", tok);
		}
		free(copy);
		r = ipc_scan(body.p, body.len, c.want, &why);
		if (t[i].why == NULL && r != 0)
			fail_msg("\"%s\": unexpected error: %s", t[i].desc,
			    buf_str(&why));
		if (t[i].why != NULL && (r != -1 ||
		    strncmp(buf_str(&why), t[i].why, strlen(t[i].why))))
			fail_msg("\"%s\": got %d \"%s\", want \"%s\"",
			    t[i].desc, r, buf_str(&why), t[i].why);
		if (r == 0)
			assert_true(c.i == 42);
	}
	scan_free(&c);
	buf_free(&body);
	buf_free(&why);
}

static void
test_ipc_scan_truncated(void **state)
{
	struct scan_ctx c;
	struct buf b = BUF_INIT, why = BUF_INIT;
	size_t cut;

	(void)state;
	scan_setup(&c);
	ipc_begin(&b);
	ipc_put_str(&b, "s", "value");
	ipc_put_int(&b, "i", 42);
	ipc_put_str(&b, "l", "x");
	ipc_end(&b);
	assert_int_equal(ipc_scan(BODY(&b), BODYLEN(&b), c.want, &why), 0);
	/*
	 * Every shorter body fails: malformed, or a required attribute
	 * missing.  Only the complete "s" and "i" (23 bytes) are enough.
	 */
	for (cut = 0; cut < BODYLEN(&b); cut++) {
		int r = ipc_scan(BODY(&b), cut, c.want, &why);

		if (r != (cut == 23 ? 0 : -1))
			fail_msg("truncated body of %zu bytes: %d", cut, r);
	}
	/* A frame whose header promises more than is there. */
	assert_int_equal(ipc_frame_len(b.p, b.len - 1, IPC_FRAME_MAX), 0);
	assert_int_equal(ipc_frame_len(b.p, b.len, IPC_FRAME_MAX),
	    (long)b.len);
	scan_free(&c);
	buf_free(&b);
	buf_free(&why);
}

static void
test_ipc_list_limits(void **state)
{
	/* max_count at limit-1, limit, limit+1; max_count 0. */
	struct buf b = BUF_INIT, why = BUF_INIT;
	struct argv l;
	struct ipc_want want[] = {
		IPC_WANT_LIST("l", &l, 100, 5),
		IPC_WANT_END
	};
	int n;

	(void)state;
	argv_init(&l);
	for (n = 0; n <= 6; n++) {
		int k;

		ipc_begin(&b);
		for (k = 0; k < n; k++)
			ipc_put_str(&b, "l", "e");
		ipc_end(&b);
		assert_int_equal(ipc_scan(BODY(&b), BODYLEN(&b), want, &why),
		    n <= 5 ? 0 : -1);
		if (n <= 5)
			assert_int_equal(l.n, (size_t)n);
	}
	want[0].max_count = 0;
	ipc_begin(&b);
	ipc_put_str(&b, "l", "e");
	ipc_end(&b);
	assert_int_equal(ipc_scan(BODY(&b), BODYLEN(&b), want, &why), -1);
	argv_clear(&l);
	buf_free(&b);
	buf_free(&why);
}

static void
test_ipc_peek(void **state)
{
	struct buf b = BUF_INIT, out = BUF_INIT, body = BUF_INIT;

	(void)state;
	ipc_begin(&b);
	ipc_put_int(&b, "request", 7);		/* same name, wrong type */
	ipc_put_str(&b, "other", "x");
	ipc_put_str(&b, "request", "resolve");
	ipc_put_str(&b, "nul", "");
	ipc_end(&b);
	assert_int_equal(ipc_peek_str(BODY(&b), BODYLEN(&b), "request", &out,
	    64), 0);
	assert_string_equal(buf_str(&out), "resolve");
	/* The value's length at limit and limit+1. */
	assert_int_equal(ipc_peek_str(BODY(&b), BODYLEN(&b), "request", &out,
	    7), 0);
	assert_int_equal(ipc_peek_str(BODY(&b), BODYLEN(&b), "request", &out,
	    6), -1);
	assert_int_equal(ipc_peek_str(BODY(&b), BODYLEN(&b), "missing", &out,
	    64), -1);
	assert_int_equal(ipc_peek_str(BODY(&b), BODYLEN(&b), "req", &out,
	    64), -1);
	assert_int_equal(ipc_peek_str(BODY(&b), BODYLEN(&b), "nul", &out,
	    64), 0);
	assert_int_equal(out.len, 0);
	/* Malformed before the attribute: not found. */
	raw_name(&body, 'q', "x", 1);
	add_str(&body, "request", "r", 1);
	assert_int_equal(ipc_peek_str(body.p, body.len, "request", &out, 64),
	    -1);
	/* NUL in the value. */
	buf_reset(&body);
	add_str(&body, "request", "a\0", 2);
	assert_int_equal(ipc_peek_str(body.p, body.len, "request", &out, 64),
	    -1);
	/* Truncated inside the value. */
	buf_reset(&body);
	add_str(&body, "request", "abc", 3);
	assert_int_equal(ipc_peek_str(body.p, body.len - 1, "request", &out,
	    64), -1);
	buf_free(&b);
	buf_free(&out);
	buf_free(&body);
}

/* pair - a socketpair; s[0] wrapped in a stream */
static struct stream *
pair(int *peer)
{
	int sv[2];

	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	*peer = sv[1];
	return stream_open(sv[0], 5);
}

static void
test_ipc_read(void **state)
{
	struct buf b = BUF_INIT, frame = BUF_INIT, why = BUF_INIT;
	struct stream *s;
	int peer;

	(void)state;
	/* Two frames back to back, then EOF. */
	s = pair(&peer);
	ipc_begin(&b);
	ipc_put_str(&b, "a", "1");
	ipc_end(&b);
	assert_int_equal(write_all(peer, b.p, b.len), 0);
	assert_int_equal(write_all(peer, "\0\0\0\0", 4), 0);
	close(peer);
	assert_int_equal(ipc_read(s, &frame, 100), 0);
	assert_int_equal(frame.len, b.len - 4);
	assert_memory_equal(frame.p, b.p + 4, frame.len);
	assert_int_equal(ipc_read(s, &frame, 100), 0);
	assert_int_equal(frame.len, 0);
	assert_int_equal(ipc_read(s, &frame, 100), -1);
	stream_close(s);

	/* Over the reader's maximum: -2 before reading the body. */
	s = pair(&peer);
	assert_int_equal(write_all(peer, "\0\0\0\x0b" "0123456789a", 15), 0);
	assert_int_equal(ipc_read(s, &frame, 10), -2);
	stream_close(s);
	close(peer);

	/* Truncated body. */
	s = pair(&peer);
	assert_int_equal(write_all(peer, "\0\0\0\x05" "abc", 7), 0);
	close(peer);
	assert_int_equal(ipc_read(s, &frame, 10), -1);
	stream_close(s);

	/* Hello: good, wrong protocol, garbage. */
	s = pair(&peer);
	ipc_hello(&b, "trivial-rewrite", 1);
	assert_int_equal(write_all(peer, b.p, b.len), 0);
	assert_int_equal(ipc_expect_hello(s, "trivial-rewrite", &why), 0);
	assert_int_equal(write_all(peer, b.p, b.len), 0);
	assert_int_equal(ipc_expect_hello(s, "qmgr", &why), -1);
	assert_string_equal(buf_str(&why),
	    "unexpected protocol: trivial-rewrite (want qmgr)");
	buf_reset(&why);
	assert_int_equal(write_all(peer, "\0\0\0\x02" "s\0", 6), 0);
	assert_int_equal(ipc_expect_hello(s, "qmgr", &why), -1);
	assert_string_equal(buf_str(&why), "malformed attribute");
	buf_reset(&why);
	close(peer);
	assert_int_equal(ipc_expect_hello(s, "qmgr", &why), -1);
	assert_string_equal(buf_str(&why), "qmgr service: lost connection");
	stream_close(s);
	buf_free(&b);
	buf_free(&frame);
	buf_free(&why);
}

static void
test_ipc_call(void **state)
{
	struct buf req = BUF_INIT, reply = BUF_INIT, why = BUF_INIT,
	    got = BUF_INIT, status_text = BUF_INIT;
	struct stream *s;
	int64_t status = -1;
	struct ipc_want want[] = {
		IPC_WANT_INT("status", &status),
		IPC_WANT_OSTR("reason", &status_text, 100),
		IPC_WANT_END
	};
	int peer;
	char tmp[64];

	(void)state;
	s = pair(&peer);
	/* The reply is waiting before the request is sent. */
	ipc_begin(&reply);
	ipc_put_int(&reply, "status", 0);
	ipc_end(&reply);
	assert_int_equal(write_all(peer, reply.p, reply.len), 0);
	ipc_begin(&req);
	ipc_put_str(&req, "request", "ping");
	ipc_end(&req);
	assert_int_equal(ipc_call(s, &req, &got, &why), 0);
	assert_int_equal(ipc_scan(got.p, got.len, want, &why), 0);
	assert_true(status == 0);
	assert_int_equal(read(peer, tmp, sizeof(tmp)), (ssize_t)req.len);
	assert_memory_equal(tmp, req.p, req.len);
	/* The peer goes away: a reason, not a crash. */
	close(peer);
	assert_int_equal(ipc_call(s, &req, &got, &why), -1);
	assert_true(strlen(buf_str(&why)) > 0);
	stream_close(s);
	buf_free(&req);
	buf_free(&reply);
	buf_free(&why);
	buf_free(&got);
	buf_free(&status_text);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ipc_build),
		cmocka_unit_test(test_ipc_frame_len),
		cmocka_unit_test(test_ipc_scan_ok),
		cmocka_unit_test(test_ipc_scan_errors),
		cmocka_unit_test(test_ipc_scan_truncated),
		cmocka_unit_test(test_ipc_list_limits),
		cmocka_unit_test(test_ipc_peek),
		cmocka_unit_test(test_ipc_read),
		cmocka_unit_test(test_ipc_call),
	};

	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
