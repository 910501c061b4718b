/*
 * NAME		fuzz_anvil - libFuzzer target for anvil(8)'s requests and
 *		the anvil reply parser
 * DESCRIPTION	The input is cut into frames at each 0xff byte; every
 *		piece is served by anvil_serve() as a request body (two
 *		anvil clients take turns, and time advances with the piece
 *		number, so windows, expiry, disconnects and the entry cap of
 *		a small table are exercised), and parsed as a reply to each
 *		request type.  Checks: every reply that anvil_serve() builds
 *		parses as a reply to some request, counts never go negative,
 *		the table never holds more than its cap, and a client's
 *		connection list stays within ANVIL_LOCAL_MAX.  The daemon's
 *		table file is compiled into this target directly.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../anvil/anvil.c"
#include "mail/ipc.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

#define FUZZ_CAP	8

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *p = (const char *)data, *end = p + size, *sep;
	struct anvil_tab *t = anvil_tab_new(FUZZ_CAP, 1000);
	struct anvil_local l[2];
	struct anvil_counts c;
	struct buf reply = BUF_INIT, why = BUF_INIT;
	int64_t now = 0;
	int st, r, ok, k = 0;

	memset(l, 0, sizeof(l));
	while (p <= end) {
		sep = memchr(p, 0xff, (size_t)(end - p));
		if (sep == NULL)
			sep = end;
		(void)anvil_serve(t, &l[k & 1], p, (size_t)(sep - p), now,
		    &reply);
		for (ok = 0, r = 0; r < ANVIL_REQ_COUNT; r++)
			if (anvil_reply_parse(reply.p + IPC_HDR_LEN,
			    reply.len - IPC_HDR_LEN, r, &st, &c, &why) == 0) {
				ok = 1;
				if (c.count < 0 || c.rate < 0 || c.mail < 0 ||
				    c.rcpt < 0 || c.auth < 0)
					abort();
			}
		if (!ok || t->n > FUZZ_CAP || l[0].n > ANVIL_LOCAL_MAX ||
		    l[1].n > ANVIL_LOCAL_MAX)
			abort();
		for (r = 0; r < ANVIL_REQ_COUNT; r++)
			(void)anvil_reply_parse(p, (size_t)(sep - p), r, &st,
			    &c, &why);
		now += 300;
		k++;
		if (k % 7 == 0)
			anvil_local_drop(t, &l[k & 1], now);
		if (sep == end)
			break;
		p = sep + 1;
	}
	anvil_local_drop(t, &l[0], now);
	anvil_local_drop(t, &l[1], now);
	(void)anvil_tab_expire(t, now + 5000);
	if (t->n != 0)
		abort();
	anvil_tab_free(t);
	buf_free(&reply);
	buf_free(&why);
	return 0;
}
