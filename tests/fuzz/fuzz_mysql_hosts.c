/*
 * NAME		fuzz_mysql_hosts - libFuzzer target for the mysql: hosts list
 * DESCRIPTION	The input (up to its first NUL) is a "hosts" value.  Checks
 *		what myh_parse() promises: on failure an empty list and a
 *		reason; on success at most MYH_MAX entries, each with a
 *		non-empty name no longer than MYH_NAME_MAX, a port of at
 *		most 65535 and, for UNIX sockets, an absolute path; and
 *		that myh_order() names each host once, UNIX sockets first.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dict/dict_mysql.h"
#include "util/buf.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static unsigned fuzz_seed;

/* fuzz_random - a predictable source for the shuffle */
static unsigned
fuzz_random(void)
{
	fuzz_seed = fuzz_seed * 1103515245u + 12345u;
	return fuzz_seed >> 8;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct buf in = BUF_INIT, why = BUF_INIT;
	struct myh_list l;
	size_t idx[MYH_MAX], n, i, j;
	char seen[MYH_MAX];

	buf_set(&in, data, size);
	if (myh_parse(buf_str(&in), &l, &why) < 0) {
		if (l.n != 0 || l.v != NULL || why.len == 0)
			abort();
		goto out;
	}
	if (l.n > MYH_MAX)
		abort();
	for (i = 0; i < l.n; i++) {
		size_t len = strlen(l.v[i].name);

		if (len == 0 || len > MYH_NAME_MAX || l.v[i].port > 65535 ||
		    (l.v[i].is_unix && l.v[i].name[0] != '/'))
			abort();
	}
	fuzz_seed = (unsigned)size;
	n = myh_order(&l, 0, fuzz_random, idx);
	if (n != l.n)
		abort();
	memset(seen, 0, sizeof(seen));
	for (i = 0; i < n; i++) {
		if (idx[i] >= l.n || seen[idx[i]]++)
			abort();
		if (i > 0 && l.v[idx[i]].is_unix && !l.v[idx[i - 1]].is_unix)
			abort();
	}
	for (j = 0; j < l.n; j++)
		l.v[j].down_until = 1;
	if (myh_order(&l, 0, fuzz_random, idx) != 0)
		abort();
	myh_free(&l);
out:
	buf_free(&in);
	buf_free(&why);
	return 0;
}
