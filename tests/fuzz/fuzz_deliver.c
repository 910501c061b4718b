/*
 * NAME		fuzz_deliver - libFuzzer target for the delivery protocol
 * DESCRIPTION	The first input byte picks the side: even, the agent's
 *		decoding of a delivery request (deliver_req_decode()); odd,
 *		the queue manager's decoding of a reply for 1 to 8
 *		recipients (deliver_reply_decode()).  The rest is a frame
 *		body.  Checks what a successful decode promises: at least
 *		one recipient, non-empty addresses, notify bits in range,
 *		status and DSN class that agree.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mail/deliver.h"
#include "util/buf.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct buf why = BUF_INIT;
	const char *body = (const char *)data + 1;
	size_t i, len, n;

	if (size < 1)
		return 0;
	len = size - 1;
	if ((data[0] & 1) == 0) {
		struct deliver_req r;

		if (deliver_req_decode(body, len, &r, &why) == 0) {
			if (r.nrcpt == 0 || r.nrcpt > DELIVER_RCPT_MAX ||
			    r.data_offset < 0 || r.data_size < 0 ||
			    r.client_fd != -1)
				abort();
			for (i = 0; i < r.nrcpt; i++)
				if (r.rcpts[i].addr[0] == 0 ||
				    r.rcpts[i].notify < 0 ||
				    r.rcpts[i].notify > 15 ||
				    r.rcpts[i].offset < 0)
					abort();
			deliver_req_free(&r);
		} else if (why.len == 0)
			abort();
	} else {
		struct deliver_result *res;

		n = 1 + (size_t)((data[0] >> 1) & 7);
		res = deliver_results_new(n);
		if (deliver_reply_decode(body, len, res, n, &why) == 0) {
			for (i = 0; i < n; i++)
				if (res[i].status < DEL_STAT_OK ||
				    res[i].status > DEL_STAT_BOUNCE ||
				    (res[i].status == DEL_STAT_OK) !=
				    (res[i].dsn[0] == '2'))
					abort();
		} else if (why.len == 0)
			abort();
		deliver_results_free(res, n);
	}
	buf_free(&why);
	return 0;
}
