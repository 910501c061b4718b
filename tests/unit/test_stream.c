/*
 * NAME		test_stream - unit tests for util/stream
 * DESCRIPTION	stream_gets() at the line limit (limit-1, limit, limit+1),
 *		with the input split at every possible read boundary (through
 *		stream_ops), over a socketpair and over a pipe written by a
 *		child in pieces; EOF without a newline; exact reads; bounded
 *		buffering of an endless line; output, write errors, time-outs
 *		and the sticky flags.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "util/buf.h"
#include "util/stream.h"
#include "unit.h"

/*
 * A scripted reader: hands out the input at most `chunk' bytes per read,
 * so that every split of a line across reads can be tried.
 */
struct script {
	const char *data;
	size_t	 len;
	size_t	 pos;
	size_t	 chunk;
	int	 reads;
};

/* script_read - stream_ops read function */
static ssize_t
script_read(struct stream *s, void *p, size_t n)
{
	struct script *sc = s->ops_ctx;
	size_t k = sc->len - sc->pos;

	if (k > sc->chunk)
		k = sc->chunk;
	if (k > n)
		k = n;
	memcpy(p, sc->data + sc->pos, k);
	sc->pos += k;
	sc->reads++;
	return (ssize_t)k;
}

/* script_write - stream_ops write function (unused: reads only) */
static ssize_t
script_write(struct stream *s, const void *p, size_t n)
{
	(void)s;
	(void)p;
	errno = EPIPE;
	return n ? -1 : 0;
}

static const struct stream_ops script_ops = {
	script_read, script_write, NULL
};

/*
 * gets_transcript - every stream_gets() result until EOF: "[line]" for a
 * complete line, "[line]+" for a too-long piece, "EOF" at the end.
 */
static void
gets_transcript(struct stream *s, size_t max, struct buf *out)
{
	struct buf line = BUF_INIT;
	int toolong, n;

	buf_reset(out);
	for (n = 0; n < 1000; n++) {
		if (stream_gets(s, &line, max, &toolong) < 0) {
			buf_puts(out, "EOF");
			break;
		}
		assert_true(line.len <= max);
		buf_putc(out, '[');
		put_visible(out, line.p, line.len);
		buf_puts(out, toolong ? "]+" : "]");
	}
	buf_free(&line);
}

static void
test_stream_gets_limits(void **state)
{
	/* The limit is 8 bytes of line text, without the newline. */
	static const struct {
		const char *in;
		const char *out;
	} t[] = {
		{"", "EOF"},
		{"\n", "[]EOF"},
		{"\n\n", "[][]EOF"},
		{"1234567\n", "[1234567]EOF"},			/* limit-1 */
		{"12345678\n", "[12345678]EOF"},		/* limit */
		{"123456789\n", "[12345678]+[9]EOF"},		/* limit+1 */
		{"1234567\nab\n", "[1234567][ab]EOF"},
		{"12345678\nab\n", "[12345678][ab]EOF"},
		{"123456789\nab\n", "[12345678]+[9][ab]EOF"},
		{"1234567812345678\n", "[12345678]+[12345678]EOF"},
		{"12345678123456789\n",
		    "[12345678]+[12345678]+[9]EOF"},
		/* EOF without a newline. */
		{"abc", "[abc]EOF"},
		{"1234567", "[1234567]EOF"},
		{"12345678", "[12345678]EOF"},
		{"123456789", "[12345678]+[9]EOF"},
		{"ok\nlast", "[ok][last]EOF"},
		/* CR is data; NUL bytes are data. */
		{"a\r\nb\r\n", "[a\\x0d][b\\x0d]EOF"},
		{"\r\n", "[\\x0d]EOF"},
	};
	struct buf got = BUF_INIT;
	size_t i, chunk;

	(void)state;
	for (i = 0; i < NELEM(t); i++) {
		size_t len = strlen(t[i].in);

		for (chunk = 1; chunk <= len + 1; chunk++) {
			struct script sc = {t[i].in, len, 0, chunk, 0};
			struct stream *s = stream_open(-1, 0);

			s->ops = &script_ops;
			s->ops_ctx = &sc;
			gets_transcript(s, 8, &got);
			if (strcmp(got.p, t[i].out) != 0)
				fail_msg("input \"%s\" chunk %zu: got %s want "
				    "%s", t[i].in, chunk, got.p, t[i].out);
			assert_true(stream_error(s) & STREAM_EOF);
			assert_int_equal(s->bytes_in, (long long)len);
			stream_release(s);
		}
	}
	buf_free(&got);
}

static void
test_stream_gets_nul(void **state)
{
	static const char in[] = "a\0b\n\0\n";
	struct script sc = {in, sizeof(in) - 1, 0, 2, 0};
	struct stream *s = stream_open(-1, 0);
	struct buf line = BUF_INIT;
	int toolong;

	(void)state;
	s->ops = &script_ops;
	s->ops_ctx = &sc;
	assert_int_equal(stream_gets(s, &line, 100, &toolong), 0);
	assert_int_equal(line.len, 3);
	assert_memory_equal(line.p, "a\0b", 3);
	assert_int_equal(stream_gets(s, &line, 100, NULL), 0);
	assert_int_equal(line.len, 1);
	assert_int_equal(stream_gets(s, &line, 100, NULL), -1);
	stream_release(s);
	buf_free(&line);
}

static void
test_stream_read_getc(void **state)
{
	static const char in[] = "0123456789abcdef";
	struct script sc = {in, 16, 0, 3, 0};
	struct stream *s = stream_open(-1, 0);
	char out[16];

	(void)state;
	s->ops = &script_ops;
	s->ops_ctx = &sc;
	assert_int_equal(stream_getc(s), '0');
	assert_int_equal(stream_read(s, out, 0), 0);
	assert_int_equal(stream_read(s, out, 10), 0);	/* across reads */
	assert_memory_equal(out, "123456789a", 10);
	assert_int_equal(stream_getc(s), 'b');
	assert_int_equal(stream_read(s, out, 5), -1);	/* only 4 left */
	assert_true(stream_error(s) & STREAM_EOF);
	assert_string_equal(stream_strerror(s), "lost connection");
	assert_int_equal(stream_getc(s), -1);
	stream_release(s);

	/* A high byte is returned as a positive value, not as EOF. */
	sc.data = "\xff";
	sc.len = 1;
	sc.pos = 0;
	s = stream_open(-1, 0);
	s->ops = &script_ops;
	s->ops_ctx = &sc;
	assert_int_equal(stream_getc(s), 0xff);
	assert_int_equal(stream_getc(s), -1);
	stream_release(s);
}

static void
test_stream_socketpair(void **state)
{
	struct buf line = BUF_INIT;
	struct stream *s;
	int sv[2], toolong;
	const char *msg = "first line\r\nsecond\n\nno newline";

	(void)state;
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	s = stream_open(sv[0], 5);
	assert_int_equal(write(sv[1], msg, strlen(msg)),
	    (ssize_t)strlen(msg));
	close(sv[1]);
	assert_int_equal(stream_gets(s, &line, 100, &toolong), 0);
	assert_string_equal(line.p, "first line\r");
	assert_int_equal(toolong, 0);
	assert_int_equal(stream_gets(s, &line, 100, &toolong), 0);
	assert_string_equal(line.p, "second");
	assert_int_equal(stream_gets(s, &line, 100, &toolong), 0);
	assert_string_equal(line.p, "");
	assert_int_equal(stream_error(s), 0);
	assert_int_equal(stream_gets(s, &line, 100, &toolong), 0);
	assert_string_equal(line.p, "no newline");
	assert_int_equal(stream_error(s), STREAM_EOF);
	assert_int_equal(stream_gets(s, &line, 100, &toolong), -1);
	assert_int_equal(line.len, 0);
	stream_close(s);
	buf_free(&line);
}

/* writer_child - write lines of the given lengths in small pieces */
static void
writer_child(int fd, const size_t *lens, size_t n)
{
	size_t i, k;
	char c;

	for (i = 0; i < n; i++) {
		for (k = 0; k < lens[i]; k++) {
			c = (char)('a' + (i + k) % 26);
			if (write(fd, &c, 1) != 1)
				_exit(1);
			if (k % 997 == 0)
				usleep(200);
		}
		if (write(fd, "\n", 1) != 1)
			_exit(1);
	}
	_exit(0);
}

static void
test_stream_pipe_pieces(void **state)
{
	/* Lines around a 4096-byte limit, written a byte at a time. */
	static const size_t lens[] = {4095, 4096, 4097, 0, 1, 20000};
	struct buf line = BUF_INIT;
	struct stream *s;
	int fds[2], toolong, status;
	size_t i, k, got;
	pid_t pid;

	(void)state;
	assert_int_equal(pipe(fds), 0);
	if ((pid = fork()) == 0) {
		close(fds[0]);
		writer_child(fds[1], lens, NELEM(lens));
	}
	assert_true(pid > 0);
	close(fds[1]);
	s = stream_open(fds[0], 10);
	for (i = 0; i < NELEM(lens); i++) {
		got = 0;
		do {
			assert_int_equal(stream_gets(s, &line, 4096, &toolong),
			    0);
			for (k = 0; k < line.len; k++)
				assert_int_equal(line.p[k],
				    'a' + (i + got + k) % 26);
			got += line.len;
			assert_int_equal(toolong, got < lens[i] ? 1 : 0);
		} while (toolong);
		assert_int_equal(got, lens[i]);
	}
	assert_int_equal(stream_gets(s, &line, 4096, &toolong), -1);
	assert_int_equal(stream_error(s), STREAM_EOF);
	stream_close(s);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	buf_free(&line);
}

static void
test_stream_endless_line(void **state)
{
	/* A megabyte without a newline never makes the buffer grow. */
	struct buf line = BUF_INIT;
	struct stream *s;
	int fds[2], toolong, status;
	size_t total = 0;
	pid_t pid;

	(void)state;
	assert_int_equal(pipe(fds), 0);
	if ((pid = fork()) == 0) {
		char block[8192];
		int i;

		close(fds[0]);
		memset(block, 'x', sizeof(block));
		for (i = 0; i < 128; i++)
			if (write(fds[1], block, sizeof(block)) < 0)
				_exit(1);
		_exit(0);
	}
	close(fds[1]);
	s = stream_open(fds[0], 10);
	while (stream_gets(s, &line, 100, &toolong) == 0) {
		total += line.len;
		assert_true(line.len <= 100);
		assert_true(s->in.cap <= 65536);
		assert_true(line.cap <= 256);
	}
	assert_int_equal(total, 128 * 8192);
	stream_close(s);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	buf_free(&line);
}

static void
test_stream_write(void **state)
{
	struct stream *s;
	char buf[256];
	int sv[2];
	ssize_t n;
	size_t got = 0;
	char *big;

	(void)state;
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	s = stream_open(sv[0], 5);
	stream_puts(s, "220 ");
	stream_printf(s, "%s ready\r\n", "host");
	stream_write(s, "x", 0);
	/* Nothing is written before the flush. */
	assert_int_equal(recv(sv[1], buf, sizeof(buf), MSG_DONTWAIT), -1);
	assert_int_equal(stream_flush(s), 0);
	n = read(sv[1], buf, sizeof(buf));
	assert_int_equal(n, 16);
	assert_memory_equal(buf, "220 host ready\r\n", 16);
	assert_int_equal(stream_flush(s), 0);	/* nothing to do */

	/* Passing the high-water mark writes without an explicit flush. */
	big = malloc(200000);
	memset(big, 'y', 200000);
	if (fork() == 0) {
		/* Drain the peer so that the writer does not block. */
		close(sv[0]);
		while ((n = read(sv[1], buf, sizeof(buf))) > 0)
			got += (size_t)n;
		/* Free the parent's memory: valgrind checks children too. */
		free(big);
		stream_release(s);
		_exit(got == 200000 ? 0 : 1);
	}
	close(sv[1]);
	stream_write(s, big, 200000);
	assert_int_equal(s->out.len, 0);
	stream_close(s);
	{
		int status;

		assert_true(wait(&status) > 0);
		assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	}
	free(big);
}

static void
test_stream_write_error(void **state)
{
	struct sigaction sa, old;
	struct stream *s;
	int sv[2];

	(void)state;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, &old);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	close(sv[1]);
	s = stream_open(sv[0], 5);
	stream_puts(s, "hello\n");
	assert_int_equal(stream_flush(s), -1);
	assert_true(stream_error(s) & STREAM_ERR);
	assert_string_equal(stream_strerror(s), "I/O error");
	/* Sticky: later writes are dropped, flushes fail. */
	stream_puts(s, "more");
	assert_int_equal(s->out.len, 0);
	assert_int_equal(stream_flush(s), -1);
	assert_int_equal(stream_fill(s), -1);
	stream_close(s);
	sigaction(SIGPIPE, &old, NULL);
}

static void
test_stream_timeout(void **state)
{
	struct buf line = BUF_INIT;
	struct stream *s;
	int sv[2];

	(void)state;
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	s = stream_open(sv[0], 1);
	assert_string_equal(stream_strerror(s), "no error");
	assert_int_equal(stream_gets(s, &line, 10, NULL), -1);
	assert_int_equal(stream_error(s), STREAM_TIMEOUT);
	assert_string_equal(stream_strerror(s), "timeout");
	/* Data that arrives later is not read: the flag is sticky. */
	assert_int_equal(write(sv[1], "x\n", 2), 2);
	assert_int_equal(stream_gets(s, &line, 10, NULL), -1);
	stream_close(s);
	close(sv[1]);
	buf_free(&line);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_stream_gets_limits),
		cmocka_unit_test(test_stream_gets_nul),
		cmocka_unit_test(test_stream_read_getc),
		cmocka_unit_test(test_stream_socketpair),
		cmocka_unit_test(test_stream_pipe_pieces),
		cmocka_unit_test(test_stream_endless_line),
		cmocka_unit_test(test_stream_write),
		cmocka_unit_test(test_stream_write_error),
		cmocka_unit_test(test_stream_timeout),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
