/*
 * NAME		fuzz_showq - libFuzzer target for the showq client
 * DESCRIPTION	Treats the input as a showq frame body, as postqueue reads
 *		it from the showq service, decodes it with showq_parse() and
 *		prints an accepted message in the mailq and JSON formats.
 *		The decoded message must satisfy what the printers assume.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mail/showq_clnt.h"
#include "util/buf.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct showq_msg m;
	struct buf why = BUF_INIT, out = BUF_INIT;
	int r;

	showq_msg_init(&m);
	r = showq_parse((const char *)data, size, &m, &why);
	if (r == 1) {
		if (m.rcpt.n != m.reason.n || m.rcpt.n > SHOWQ_RCPT_MAX ||
		    m.message_size < 0)
			abort();
		showq_mailq_head(&out, 1);
		showq_mailq_msg(&out, &m, 1);
		showq_mailq_msg(&out, &m, 0);
		showq_mailq_tail(&out, 1, (unsigned long long)m.message_size);
		showq_json_msg(&out, &m);
	} else if (r < 0 && why.len == 0) {
		abort();
	}
	/* Whatever came in, the mailq text has no control characters. */
	if (memchr(out.p ? out.p : "", '\033', out.len) != NULL)
		abort();
	showq_msg_free(&m);
	buf_free(&why);
	buf_free(&out);
	return 0;
}
