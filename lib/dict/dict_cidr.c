/*
 * NAME		dict_cidr - cidr: tables, IPv4 and IPv6 network blocks
 * DESCRIPTION	cidr:/file is a rule file in Postfix's cidr_table(5)
 *		format, read by dict_rules(3) at open time.  This file is
 *		the engine: a pattern is "address/prefix" or a bare address
 *		(all bits must match), IPv4 ("192.0.2.0/24") or IPv6
 *		("2001:db8::/32", no brackets needed; "[...]" is accepted
 *		around the address as in Postfix).  0.0.0.0/0 matches every
 *		IPv4 key and ::/0 every IPv6 key; an IPv4 pattern never
 *		matches an IPv6 key (IPv4-mapped ones included) and the
 *		other way round.  Results are used as written (no $n).
 *
 *		A key that is not an IPv4 or IPv6 address in text form is
 *		"not found" by every rule, as in Postfix; a pattern, negated
 *		or not, applies only to keys of its own address family.
 *
 *		A pattern with host bits set after the prefix (10.1.2.3/8)
 *		is what Postfix skips with a warning ("non-null host address
 *		bits ... skipping this rule"); the same is done here, except
 *		for an "if" pattern, where it is an error: skipping the "if"
 *		would apply its block to every key.
 * SECURITY	Keys come from anyone: they are parsed with inet_pton(3)
 *		into a fixed buffer after a length check.
 * DIAGNOSTICS	A bad address or prefix length makes the open fail with the
 *		file name and line; host bits set are a warning (see above).
 * SEE ALSO	dict_rules(3), doc/tables.md
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "util/mem.h"
#include "dict.h"
#include "dict_impl.h"
#include "dict_rules.h"

struct cidr_pat {
	int	 family;		/* AF_INET or AF_INET6 */
	unsigned char addr[16];
	int	 len;			/* prefix length in bits */
};

/* cidr_addr - text to address bytes; family by ':'.  0 or -1 */
static int
cidr_addr(const char *s, size_t len, int *family, unsigned char *addr)
{
	char tmp[INET6_ADDRSTRLEN + 1];

	if (len == 0 || len >= sizeof(tmp))
		return -1;
	memcpy(tmp, s, len);
	tmp[len] = 0;
	*family = memchr(tmp, ':', len) ? AF_INET6 : AF_INET;
	return inet_pton(*family, tmp, addr) == 1 ? 0 : -1;
}

/* cidr_mask - clear the bits after the prefix; did any change? */
static int
cidr_mask(unsigned char *addr, int bytes, int len)
{
	int i, keep, changed = 0;
	unsigned char mask;

	for (i = 0; i < bytes; i++) {
		keep = len - i * 8;
		if (keep >= 8)
			continue;
		mask = keep <= 0 ? 0 : (unsigned char)(0xff << (8 - keep));
		if (addr[i] & (unsigned char)~mask)
			changed = 1;
		addr[i] &= mask;
	}
	return changed;
}

/* cidr_compile - cut and parse "address[/prefix]" */
static int
cidr_compile(char **cp, void **pat, size_t *ngroups, struct buf *why)
{
	char *tok = *cp, *p = *cp, *a, *slash, *end;
	char ntop[INET6_ADDRSTRLEN];
	struct cidr_pat c;
	size_t alen;
	int max, bytes;

	while (*p && !isspace((unsigned char)*p))
		p++;
	end = p;
	if (*p != 0)
		*p++ = 0;
	*cp = p;
	memset(&c, 0, sizeof(c));
	a = tok;
	slash = strchr(tok, '/');
	alen = slash ? (size_t)(slash - tok) : (size_t)(end - tok);
	/* "[addr]" or "[addr]/len": Postfix allows the brackets. */
	if (a[0] == '[') {
		if (alen < 3 || a[alen - 1] != ']')
			goto bad;
		a++;
		alen -= 2;
	}
	if (cidr_addr(a, alen, &c.family, c.addr) < 0)
		goto bad;
	max = c.family == AF_INET ? 32 : 128;
	bytes = c.family == AF_INET ? 4 : 16;
	c.len = max;
	if (slash) {
		const char *d = slash + 1;
		size_t nd = strlen(d), i;

		if (nd == 0 || nd > 3)
			goto badlen;
		for (c.len = 0, i = 0; i < nd; i++) {
			if (!isdigit((unsigned char)d[i]))
				goto badlen;
			c.len = c.len * 10 + (d[i] - '0');
		}
		if (c.len > max)
			goto badlen;
	}
	if (cidr_mask(c.addr, bytes, c.len)) {
		(void)inet_ntop(c.family, c.addr, ntop, sizeof(ntop));
		buf_printf(why, "non-null host address bits in \"%.100s\", "
		    "perhaps you should use \"%s/%d\" instead", tok, ntop,
		    c.len);
		return DICT_RULES_SKIP;
	}
	*pat = xmemdup(&c, sizeof(c));
	*ngroups = 0;
	return DICT_RULES_OK;
bad:
	buf_printf(why, "bad address pattern \"%.100s\" (need address or "
	    "address/prefix)", tok);
	return DICT_RULES_BAD;
badlen:
	buf_printf(why, "bad prefix length in \"%.100s\" (0..%d)", tok,
	    c.family == AF_INET ? 32 : 128);
	return DICT_RULES_BAD;
}

/*
 * cidr_match - is the key an address inside the block?  DICT_RULES_NA
 * for a key that is no address or of the other family.
 */
static int
cidr_match(void *pat, const char *key, size_t klen, struct dict_span *spans,
    size_t nspans, struct buf *why)
{
	const struct cidr_pat *c = pat;
	unsigned char addr[16];
	int family, full, rest;
	unsigned char mask;

	(void)spans;
	(void)nspans;
	(void)why;
	if (cidr_addr(key, klen, &family, addr) < 0 || family != c->family)
		return DICT_RULES_NA;
	full = c->len / 8;
	rest = c->len % 8;
	if (full > 0 && memcmp(addr, c->addr, (size_t)full) != 0)
		return 0;
	if (rest) {
		mask = (unsigned char)(0xff << (8 - rest));
		if ((addr[full] & mask) != c->addr[full])
			return 0;
	}
	return 1;
}

static const struct dict_rules_engine cidr_engine = {
	.type = "cidr",
	.subst = 0,
	.compile = cidr_compile,
	.match = cidr_match,
	.free = free,
	.empty_ok = 0,
};

/* dict_cidr_open - open cidr:/file */
struct dict *
dict_cidr_open(const char *name, int flags, struct buf *why)
{
	return dict_rules_open(name, flags, &cidr_engine, why);
}
