/*
 * NAME		fuzz_ipc - libFuzzer target for the IPC attribute protocol
 * DESCRIPTION	Finds frames in the input with ipc_frame_len(), as the
 *		event-driven servers do, and scans each body strictly with
 *		ipc_scan() against a want list of strings, integers and a
 *		list; also peeks with ipc_peek_str().  Checks the limits the
 *		scanner promises on success.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mail/ipc.h"
#include "util/argv.h"
#include "util/buf.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct buf why = BUF_INIT, req = BUF_INIT, addr = BUF_INIT,
	    opt = BUF_INIT, peek = BUF_INIT;
	struct argv list;
	int64_t flags = 0, size_attr = 0;
	struct ipc_want want[] = {
		IPC_WANT_STR("request", &req, 32),
		IPC_WANT_OSTR("address", &addr, 64),
		IPC_WANT_OSTR("opt", &opt, 8),
		IPC_WANT_INT("flags", &flags),
		IPC_WANT_OINT("size", &size_attr),
		IPC_WANT_LIST("rcpt", &list, 16, 4),
		IPC_WANT_END
	};
	const char *p = (const char *)data;
	size_t off = 0;
	long n;

	argv_init(&list);
	while (off < size) {
		n = ipc_frame_len(p + off, size - off, 4096);
		if (n <= 0)
			break;
		if ((size_t)n > size - off || n < IPC_HDR_LEN)
			abort();
		buf_reset(&why);
		if (ipc_scan(p + off + IPC_HDR_LEN, (size_t)n - IPC_HDR_LEN,
		    want, &why) == 0) {
			if (req.len > 32 || addr.len > 64 || opt.len > 8 ||
			    list.n > 4 || !want[0].seen || !want[3].seen ||
			    memchr(buf_str(&req), 0, req.len) != NULL)
				abort();
		} else if (why.len == 0)
			abort();
		(void)ipc_peek_str(p + off + IPC_HDR_LEN,
		    (size_t)n - IPC_HDR_LEN, "request", &peek, 32);
		off += (size_t)n;
	}
	argv_clear(&list);
	buf_free(&why);
	buf_free(&req);
	buf_free(&addr);
	buf_free(&opt);
	buf_free(&peek);
	return 0;
}
