/*
 * NAME		fuzz_rec - libFuzzer target for queue file records
 * DESCRIPTION	Decodes records one after another from the input with
 *		rec_decode(), as cleanup and qmgr do, checking that each
 *		record lies inside the input and that every prefix of a
 *		record asks for more input; re-encodes each record with
 *		rec_put() and checks the round trip.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mail/rec.h"
#include "util/buf.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *p = (const char *)data, *d, *d2;
	struct buf b = BUF_INIT;
	size_t off = 0, len, len2;
	int type, type2, used;

	/* The first byte picks the caller's maximum. */
	size_t max = size ? (size_t)data[0] * 64 : 0;

	while (off < size) {
		used = rec_decode(p + off, size - off, max, &type, &d, &len);
		if (used <= 0)
			break;
		if ((size_t)used > size - off || d < p + off ||
		    d + len != p + off + (size_t)used || len > max ||
		    !rec_type_valid(type))
			abort();
		/* Any shorter input is incomplete, never a record. */
		if (rec_decode(p + off, (size_t)used - 1, max, &type2, &d2,
		    &len2) != 0)
			abort();
		buf_reset(&b);
		rec_put(&b, type, d, len);
		if (rec_decode(b.p, b.len, max, &type2, &d2, &len2) !=
		    (int)b.len || type2 != type || len2 != len ||
		    memcmp(d2, d, len) != 0)
			abort();
		off += (size_t)used;
	}
	buf_free(&b);
	return 0;
}
