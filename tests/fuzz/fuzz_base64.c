/*
 * NAME		fuzz_base64 - libFuzzer target for the strict base64
 *		decoder
 * DESCRIPTION	Decodes the input with a bound taken from its first byte
 *		and without one.  Checks: a decoded string is within the
 *		bound, and encoding it gives back exactly the input (the
 *		decoder accepts only canonical base64); encoding the raw
 *		input and decoding that gives the input back.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "util/base64.h"
#include "util/buf.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct buf dec = BUF_INIT, enc = BUF_INIT;
	size_t max = size ? data[0] : 0;

	if (base64_decode((const char *)data, size, max, &dec) == 0) {
		if (dec.len > max)
			abort();
	}
	if (base64_decode((const char *)data, size, (size_t)-1, &dec) == 0) {
		base64_encode(dec.p, dec.len, &enc);
		if (enc.len != size || memcmp(enc.p, data, size) != 0)
			abort();
	}
	buf_reset(&enc);
	base64_encode(data, size, &enc);
	if (base64_decode(enc.p, enc.len, size, &dec) != 0 ||
	    dec.len != size || (size && memcmp(dec.p, data, size) != 0))
		abort();
	buf_free(&dec);
	buf_free(&enc);
	return 0;
}
