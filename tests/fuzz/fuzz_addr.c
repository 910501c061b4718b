/*
 * NAME		fuzz_addr - libFuzzer target for address list parsing
 * DESCRIPTION	Runs addr_parse_list() over the input with small limits
 *		(to reach them) and with the defaults, checks that each span
 *		lies inside the input, quotes every result with addr_quote()
 *		and, where the domain has no specials or white space (only
 *		the local part is quoted), checks that the quoted form parses
 *		back to the same address.
 */
#include <ctype.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mail/addr.h"
#include "util/buf.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* roundtrip - parse(quote(addr)) must give addr back */
static void
roundtrip(const char *addr, const struct buf *q)
{
	static const struct addr_limits lim = ADDR_LIMITS_DEFAULT;
	const char *dom = addr_domain(addr);
	struct buf why = BUF_INIT;
	struct addr_list l;

	if (*addr == 0)
		return;
	for (; *dom; dom++)
		if (strchr("()<>,;:\\\"[]", *dom) ||
		    isspace((unsigned char)*dom))
			return;
	if (addr_parse_list(q->p, q->len, &lim, &l, &why) < 0 || l.n != 1 ||
	    strcmp(l.v[0].addr, addr) != 0)
		abort();
	addr_list_free(&l);
	buf_free(&why);
}

/* upper - an addr_list_rewrite() callback that changes every address */
static int
upper(const char *addr, struct buf *out, void *ctx)
{
	(void)ctx;
	buf_printf(out, "X%s", addr);
	return 1;
}

/*
 * rewrite - addr_list_rewrite() over the input: it never fails with this
 * callback, and each address grows its text by at most its quoted form
 * plus one byte.  (Re-parsing the result need not give the same list:
 * the text around the addresses, which stays, may hold unbalanced
 * quotes.)
 */
static void
rewrite(const char *p, size_t len)
{
	static const struct addr_limits lim = ADDR_LIMITS_DEFAULT;
	struct buf out = BUF_INIT, why = BUF_INIT;
	struct addr_list a;
	int r = addr_list_rewrite(p, len, upper, NULL, &out);

	if (r < 0 || (r == 0 && out.len != 0))
		abort();
	if (r == 1) {
		if (addr_parse_list(p, len, &lim, &a, &why) < 0 ||
		    out.len > len + a.n * (2 * lim.max_addr + 4))
			abort();
		addr_list_free(&a);
	}
	buf_free(&out);
	buf_free(&why);
}

/* one - parse with the given limits and check each result */
static void
one(const char *p, size_t len, const struct addr_limits *lim)
{
	struct buf why = BUF_INIT, q = BUF_INIT;
	struct addr_list l;
	size_t i;

	if (addr_parse_list(p, len, lim, &l, &why) == 0) {
		if (l.n > lim->max_items)
			abort();
		for (i = 0; i < l.n; i++) {
			if (l.v[i].start > l.v[i].end || l.v[i].end > len ||
			    strlen(l.v[i].addr) > lim->max_addr)
				abort();
			addr_quote(l.v[i].addr, &q);
			roundtrip(l.v[i].addr, &q);
		}
	} else if (l.n != 0 || l.v != NULL)
		abort();
	addr_list_free(&l);
	buf_free(&why);
	buf_free(&q);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct addr_limits small = {200, 4, 16};
	static const struct addr_limits deflim = ADDR_LIMITS_DEFAULT;

	one((const char *)data, size, &small);
	one((const char *)data, size, &deflim);
	rewrite((const char *)data, size);
	return 0;
}
