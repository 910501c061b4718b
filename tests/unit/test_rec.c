/*
 * NAME		test_rec - unit tests for mail/rec
 * DESCRIPTION	rec_put()/rec_decode() round trips at every varint width
 *		boundary and at REC_LEN_MAX; every truncation is "need more"
 *		(0); bad type bytes, over-long varints and lengths over the
 *		maximum are malformed (-1), at limit-1, limit and limit+1 of
 *		the caller's maximum.  rec_read() over a socketpair.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <signal.h>
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "mail/rec.h"
#include "util/buf.h"
#include "util/files.h"
#include "util/stream.h"
#include "unit.h"

/* fill - deterministic payload bytes, all values including NUL */
static char *
fill(size_t len)
{
	char *p = malloc(len ? len : 1);
	size_t i;

	for (i = 0; i < len; i++)
		p[i] = (char)(i * 7 + 3);
	return p;
}

static void
test_rec_roundtrip(void **state)
{
	static const struct {
		size_t	 len;
		size_t	 hdr;
	} t[] = {
		{0, 2}, {1, 2}, {127, 2},
		{128, 3}, {16383, 3},
		{16384, 4}, {REC_LEN_MAX - 1, 4}, {REC_LEN_MAX, 4},
	};
	struct buf b = BUF_INIT;
	const char *data;
	size_t i, len, cut;
	int type;

	(void)state;
	for (i = 0; i < NELEM(t); i++) {
		char *payload = fill(t[i].len);
		size_t total = t[i].hdr + t[i].len;
		size_t cuts[] = {0, 1, t[i].hdr - 1, t[i].hdr, total - 1};

		buf_reset(&b);
		rec_put(&b, REC_NORM, payload, t[i].len);
		assert_int_equal(b.len, total);
		assert_int_equal(rec_header_len(t[i].len), t[i].hdr);
		assert_int_equal(rec_decode(b.p, b.len, REC_LEN_MAX, &type,
		    &data, &len), (int)total);
		assert_int_equal(type, REC_NORM);
		assert_int_equal(len, t[i].len);
		assert_ptr_equal(data, b.p + t[i].hdr);
		if (len)
			assert_memory_equal(data, payload, len);
		/* Every prefix asks for more input. */
		for (cut = 0; cut < NELEM(cuts); cut++) {
			if (cuts[cut] >= total)
				continue;
			assert_int_equal(rec_decode(b.p, cuts[cut],
			    REC_LEN_MAX, &type, &data, &len), 0);
		}
		/* Trailing bytes are left for the next call. */
		buf_put(&b, "E\0", 2);
		assert_int_equal(rec_decode(b.p, b.len, REC_LEN_MAX, &type,
		    &data, &len), (int)total);
		free(payload);
	}
	buf_free(&b);
}

static void
test_rec_every_prefix(void **state)
{
	struct buf b = BUF_INIT;
	const char *data;
	size_t i, len;
	int type;

	(void)state;
	rec_puts(&b, REC_RCPT, "user@example.com");
	for (i = 0; i < b.len; i++)
		assert_int_equal(rec_decode(b.p, i, 100, &type, &data, &len),
		    0);
	assert_int_equal(rec_decode(b.p, b.len, 100, &type, &data, &len),
	    (int)b.len);
	buf_free(&b);
}

static void
test_rec_max(void **state)
{
	/* The caller's maximum at limit-1, limit and limit+1. */
	static const struct {
		size_t	 len;
		size_t	 max;
		int	 ok;
	} t[] = {
		{99, 100, 1}, {100, 100, 1}, {101, 100, 0},
		{0, 0, 1}, {1, 0, 0},
		{128, 127, 0}, {128, 128, 1},
		{REC_LEN_MAX, REC_LEN_MAX, 1},
		{REC_LEN_MAX, REC_LEN_MAX - 1, 0},
		{REC_LEN_MAX, (size_t)-1, 1},
	};
	struct buf b = BUF_INIT;
	const char *data;
	size_t i, len;
	int type;

	(void)state;
	for (i = 0; i < NELEM(t); i++) {
		char *payload = fill(t[i].len);
		int r;

		buf_reset(&b);
		rec_put(&b, REC_ATTR, payload, t[i].len);
		r = rec_decode(b.p, b.len, t[i].max, &type, &data, &len);
		assert_int_equal(r, t[i].ok ? (int)b.len : -1);
		/* Too long is known from the header alone. */
		if (!t[i].ok)
			assert_int_equal(rec_decode(b.p,
			    rec_header_len(t[i].len), t[i].max, &type, &data,
			    &len), -1);
		free(payload);
	}
	buf_free(&b);
}

static void
test_rec_malformed(void **state)
{
	static const struct {
		const char *in;
		size_t	 len;
		int	 ret;
	} t[] = {
		/* REC_LEN_MAX + 1 = 0x100001: refused even with max huge. */
		{"R\x81\x80\x40", 4, -1},
		/* REC_LEN_MAX = 0x100000 itself is fine (but incomplete). */
		{"R\x80\x80\x40", 4, 0},
		/* The largest 4-byte varint. */
		{"R\xff\xff\xff\x7f", 5, -1},
		/* Over-long varints: a fifth length byte is never valid. */
		{"R\x80\x80\x80\x80", 5, -1},
		{"R\x80\x80\x80\x80\x00", 6, -1},
		{"R\xff\xff\xff\xff\xff\xff", 7, -1},
		/* Bad type bytes, known from the first byte. */
		{"\0\0", 2, -1},
		{"\0", 1, -1},
		{"Z", 1, -1},
		{"r\x01x", 3, -1},
		{"\xff\x00", 2, -1},
		{"\x80\x00", 2, -1},
		/* Good type, incomplete: need more. */
		{"", 0, 0},
		{"R", 1, 0},
		{"R\x80", 2, 0},
		{"R\x80\x80\x80", 4, 0},
		{"R\x05" "abcd", 6, 0},
		{"R\x05" "abcde", 7, 7},
	};
	const char *data;
	size_t i, len;
	int type;

	(void)state;
	for (i = 0; i < NELEM(t); i++) {
		int r = rec_decode(t[i].in, t[i].len, (size_t)-1, &type, &data,
		    &len);

		if (r != t[i].ret)
			fail_msg("case %zu: rec_decode returned %d, want %d",
			    i, r, t[i].ret);
	}
}

static void
test_rec_types(void **state)
{
	const char *valid = "VCTASONRDWMLPXE";
	int c;

	(void)state;
	for (c = -1; c < 256; c++) {
		int want = c > 0 && strchr(valid, c) != NULL;

		assert_int_equal(rec_type_valid(c), want);
		if (want)
			assert_string_not_equal(rec_type_name(c), "unknown");
		else
			assert_string_equal(rec_type_name(c), "unknown");
	}
	assert_string_equal(rec_type_name(REC_RCPT), "recipient");
	assert_string_equal(rec_type_name(REC_END), "end");
}

static void
test_rec_printf(void **state)
{
	struct buf b = BUF_INIT;
	const char *data;
	size_t len;
	int type;

	(void)state;
	rec_printf(&b, REC_SIZE, REC_SIZE_FMT, 1L, 2L, 3L, 4L, 5L);
	assert_int_equal(rec_decode(b.p, b.len, REC_LEN_MAX, &type, &data,
	    &len), (int)(2 + REC_SIZE_LEN));
	assert_int_equal(type, REC_SIZE);
	assert_int_equal(len, REC_SIZE_LEN);
	buf_reset(&b);
	rec_printf(&b, REC_WARN, REC_WARN_FMT, 1234567890L);
	assert_int_equal(b.len, 2 + REC_WARN_LEN);
	buf_reset(&b);
	rec_printf(&b, REC_FROM, "%s", "");
	assert_int_equal(b.len, 2);
	assert_memory_equal(b.p, "S\0", 2);
	buf_free(&b);
}

static void
test_rec_put_too_long(void **state)
{
	int status;
	pid_t pid;

	(void)state;
	/* Writing a record over REC_LEN_MAX is a bug: rec_put panics. */
	if ((pid = fork()) == 0) {
		struct rlimit rl = {0, 0};
		struct buf b = BUF_INIT;
		int fd = open("/dev/null", O_WRONLY);

		setrlimit(RLIMIT_CORE, &rl);
		dup2(fd, 2);
		rec_put(&b, REC_NORM, "", (size_t)REC_LEN_MAX + 1);
		_exit(0);
	}
	assert_true(pid > 0);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFSIGNALED(status));
	assert_int_equal(WTERMSIG(status), SIGABRT);
}

/* stream_with - a stream reading the given bytes, then EOF */
static struct stream *
stream_with(const char *p, size_t len)
{
	int sv[2];

	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	/* Small inputs only: they fit in the socket buffer. */
	assert_int_equal(write_all(sv[1], p, len), 0);
	close(sv[1]);
	return stream_open(sv[0], 5);
}

static void
test_rec_read(void **state)
{
	struct buf b = BUF_INIT, data = BUF_INIT;
	struct stream *s;
	char *big = fill(20000);
	int type;

	(void)state;
	rec_puts(&b, REC_VERSION, REC_VERSION_TEXT);
	rec_put(&b, REC_NORM, "", 0);
	rec_put(&b, REC_NORM, big, 20000);
	rec_put(&b, REC_CONT, "a\0b", 3);
	rec_puts(&b, REC_END, "");
	s = stream_with(b.p, b.len);
	assert_int_equal(rec_read(s, &type, &data, 20000), 0);
	assert_int_equal(type, REC_VERSION);
	assert_string_equal(data.p, REC_VERSION_TEXT);
	assert_int_equal(rec_read(s, &type, &data, 20000), 0);
	assert_int_equal(type, REC_NORM);
	assert_int_equal(data.len, 0);
	assert_string_equal(buf_str(&data), "");
	assert_int_equal(rec_read(s, &type, &data, 20000), 0);
	assert_int_equal(data.len, 20000);
	assert_memory_equal(data.p, big, 20000);
	assert_int_equal(rec_read(s, &type, &data, 20000), 0);
	assert_int_equal(type, REC_CONT);
	assert_int_equal(data.len, 3);
	assert_memory_equal(data.p, "a\0b", 4);		/* terminated */
	assert_int_equal(rec_read(s, &type, &data, 20000), 0);
	assert_int_equal(type, REC_END);
	assert_int_equal(rec_read(s, &type, &data, 20000), -1);
	stream_close(s);

	/* The reader's maximum: limit, limit+1. */
	buf_reset(&b);
	rec_put(&b, REC_NORM, big, 100);
	s = stream_with(b.p, b.len);
	assert_int_equal(rec_read(s, &type, &data, 99), -2);
	stream_close(s);
	s = stream_with(b.p, b.len);
	assert_int_equal(rec_read(s, &type, &data, 100), 0);
	stream_close(s);
	buf_free(&b);
	buf_free(&data);
	free(big);
}

static void
test_rec_read_bad(void **state)
{
	static const struct {
		const char *in;
		size_t	 len;
		int	 ret;
	} t[] = {
		{"", 0, -1},			/* EOF */
		{"R", 1, -1},			/* truncated header */
		{"R\x85", 2, -1},
		{"R\x05" "abc", 5, -1},		/* truncated payload */
		{"Q\x00", 2, -2},		/* bad type */
		{"\0\0", 2, -2},
		{"R\x80\x80\x80\x80\x00", 6, -2},	/* over-long varint */
		{"R\x81\x80\x40", 4, -2},	/* REC_LEN_MAX + 1 */
	};
	struct buf data = BUF_INIT;
	struct stream *s;
	size_t i;
	int type;

	(void)state;
	for (i = 0; i < NELEM(t); i++) {
		s = stream_with(t[i].in, t[i].len);
		if (rec_read(s, &type, &data, (size_t)-1) != t[i].ret)
			fail_msg("case %zu: want %d", i, t[i].ret);
		stream_close(s);
	}
	buf_free(&data);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rec_roundtrip),
		cmocka_unit_test(test_rec_every_prefix),
		cmocka_unit_test(test_rec_max),
		cmocka_unit_test(test_rec_malformed),
		cmocka_unit_test(test_rec_types),
		cmocka_unit_test(test_rec_printf),
		cmocka_unit_test(test_rec_put_too_long),
		cmocka_unit_test(test_rec_read),
		cmocka_unit_test(test_rec_read_bad),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
