/*
 * NAME		fuzz_proxymap - libFuzzer target for the proxymap protocol
 * DESCRIPTION	Finds frames in the input as proxymap(8) does (bounded by
 *		PROXY_REQ_FRAME_MAX) and parses each body both as a request
 *		(proxy_request_parse(), what the daemon reads from clients)
 *		and as a reply (proxy_reply_parse(), what the client reads).
 *		The attribute scanner itself is fuzz_ipc's; this target
 *		checks the proxymap checks on top of it: on success every
 *		limit holds, and building the parsed request or reply again
 *		parses to the same thing.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mail/ipc.h"
#include "mail/proxymap_clnt.h"
#include "util/buf.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* check_request - limits and a round trip of a parsed request */
static void
check_request(const struct proxy_request *r)
{
	struct proxy_request again;
	struct buf f = BUF_INIT, why = BUF_INIT;

	if (r->table.len == 0 || r->table.len > PROXY_TABLE_MAX ||
	    r->key.len > PROXY_KEY_MAX || (r->flags & ~PROXY_FLAG_MASK) ||
	    memchr(r->table.p, ':', r->table.len) == NULL ||
	    memchr(r->table.p, 0, r->table.len) != NULL)
		abort();
	proxy_request_init(&again);
	proxy_request_build(&f, r->table.p, r->flags, buf_str((struct buf *)
	    &r->key));
	if (proxy_request_parse(f.p + IPC_HDR_LEN, f.len - IPC_HDR_LEN,
	    &again, &why) < 0 || again.flags != r->flags ||
	    again.key.len != r->key.len || strcmp(again.table.p,
	    r->table.p) != 0 || (r->key.len && memcmp(again.key.p, r->key.p,
	    r->key.len) != 0))
		abort();
	proxy_request_free(&again);
	buf_free(&f);
	buf_free(&why);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct buf why = BUF_INIT, value = BUF_INIT;
	struct proxy_request req;
	const char *p = (const char *)data;
	size_t off = 0, blen;
	long n;
	int st;

	proxy_request_init(&req);
	while (off < size) {
		n = ipc_frame_len(p + off, size - off, PROXY_REQ_FRAME_MAX);
		if (n <= 0)
			break;
		if ((size_t)n > size - off || n < IPC_HDR_LEN)
			abort();
		blen = (size_t)n - IPC_HDR_LEN;
		if (proxy_request_parse(p + off + IPC_HDR_LEN, blen, &req,
		    &why) == 0)
			check_request(&req);
		else if (why.len == 0)
			abort();
		if (proxy_reply_parse(p + off + IPC_HDR_LEN, blen, &st, &value,
		    &why) == 0) {
			if (st < 0 || st > PROXY_STAT_MAX ||
			    value.len > PROXY_VALUE_MAX)
				abort();
		} else if (why.len == 0)
			abort();
		off += (size_t)n;
	}
	proxy_request_free(&req);
	buf_free(&why);
	buf_free(&value);
	return 0;
}
