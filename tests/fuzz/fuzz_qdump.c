/*
 * NAME		fuzz_qdump - libFuzzer target for postcat's queue file dump
 * DESCRIPTION	Writes the input to a memory file and dumps it with
 *		qdump_stream() under flags taken from the first byte, as
 *		postcat does with any file a user names; the output buffer is
 *		flushed through the callback to exercise it.  A result of 0
 *		must mean that an end record was seen.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "mail/qdump.h"
#include "util/buf.h"
#include "util/files.h"
#include "util/stream.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* drop - output callback: discard */
static void
drop(struct qdump *q)
{
	buf_reset(&q->out);
}

/* warn - complaint callback: ignore */
static void
warn(struct qdump *q, const char *text)
{
	(void)q;
	(void)text;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct buf why = BUF_INIT;
	struct stream *s;
	struct qdump q;
	int fd, r;

	if (size < 1)
		return 0;
	if ((fd = memfd_create("fuzz", 0)) < 0)
		abort();
	if (write_all(fd, data + 1, size - 1) < 0 ||
	    lseek(fd, 0, SEEK_SET) != 0)
		abort();
	memset(&q, 0, sizeof(q));
	q.flags = data[0] & 0x7f;
	q.name = "fuzz";
	q.flush = (data[0] & 0x80) ? drop : NULL;
	q.warn = warn;
	s = stream_open(fd, 0);
	r = qdump_stream(&q, s, &why);
	if (r == 0 && why.len != 0)
		abort();
	if (r < 0 && why.len == 0)
		abort();
	stream_close(s);
	buf_free(&q.out);
	buf_free(&why);
	return 0;
}
