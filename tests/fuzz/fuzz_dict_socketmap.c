/*
 * NAME		fuzz_dict_socketmap - libFuzzer target for socketmap replies
 * DESCRIPTION	Feeds the input to dict_socketmap_parse() whole and in
 *		every prefix length class the client sees (it parses after
 *		each byte of the length and once after the data), and checks
 *		the parser's promises: a complete reply consumed at most the
 *		input, a found value is shorter than the reply, an error
 *		comes with a reason, and "incomplete" never follows a
 *		complete answer for a shorter prefix.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "dict/dict.h"
#include "dict/dict_socketmap.h"
#include "util/buf.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct buf v = BUF_INIT, why = BUF_INIT;
	const char *p = (const char *)data;
	size_t used = 0, i, stop = size < 64 ? size : 64;
	int r, bad, done = 0;

	for (i = 0; i <= stop; i++) {
		buf_reset(&why);
		r = dict_socketmap_parse(p, i, &used, &v, &why, &bad);
		if (r == SOCKETMAP_MORE) {
			if (done)
				abort();
			continue;
		}
		done = 1;
		if (r == DICT_ERROR && why.len == 0)
			abort();
	}
	buf_reset(&why);
	r = dict_socketmap_parse(p, size, &used, &v, &why, &bad);
	if (r != SOCKETMAP_MORE && r != DICT_ERROR && (used > size ||
	    v.len >= used))
		abort();
	if (r == DICT_ERROR && why.len == 0)
		abort();
	buf_free(&v);
	buf_free(&why);
	return 0;
}
