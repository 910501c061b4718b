/*
 * NAME		fuzz_dict_ldap - libFuzzer target for the ldap: client's parsers
 * DESCRIPTION	The input is "list NUL rest": the list goes through
 *		dict_ldap_servers() and dict_ldap_attr_list(), the rest through
 *		both quote functions.  Checks what they promise: every server
 *		is an ldap://, ldaps:// or ldapi:// URL within the bounds, an
 *		error comes with a reason, attribute names are within bounds,
 *		and escaped text is printable ASCII without a bare filter
 *		metacharacter.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "dict/dict_ldap.h"
#include "util/argv.h"
#include "util/buf.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* printable - is every byte printable ASCII? */
static int
printable(const struct buf *b)
{
	size_t i;

	for (i = 0; i < b->len; i++)
		if ((unsigned char)b->p[i] < 0x20 || (unsigned char)b->p[i] >= 0x7f)
			return 0;
	return 1;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct buf list = BUF_INIT, why = BUF_INIT, out = BUF_INIT;
	const char *p = (const char *)data, *nul;
	struct argv v;
	size_t i, rest;
	int rc;

	nul = memchr(p, 0, size);
	buf_set(&list, p, nul ? (size_t)(nul - p) : size);
	rest = nul ? size - (size_t)(nul - p) - 1 : 0;

	argv_init(&v);
	rc = dict_ldap_servers(buf_str(&list), 389, &v, &why);
	if (rc < 0 && why.len == 0)
		abort();
	if (rc == 0) {
		if (v.n == 0 || v.n > LDAP_SERVERS_MAX)
			abort();
		for (i = 0; i < v.n; i++)
			if (strncasecmp(v.v[i], "ldap", 4) != 0 ||
			    strstr(v.v[i], "://") == NULL ||
			    strlen(v.v[i]) > LDAP_SERVER_LEN_MAX + 20)
				abort();
	}
	argv_clear(&v);
	buf_reset(&why);
	rc = dict_ldap_attr_list("x", buf_str(&list), &v, &why);
	if ((rc < 0 && why.len == 0) || v.n > LDAP_ATTRS_MAX)
		abort();
	for (i = 0; i < v.n; i++)
		if (strlen(v.v[i]) > LDAP_ATTR_LEN_MAX)
			abort();
	argv_clear(&v);

	if (nul) {
		dict_ldap_quote_filter(&out, nul + 1, rest, NULL);
		if (!printable(&out) || memchr(out.p ? out.p : "", '(',
		    out.len) || memchr(out.p ? out.p : "", ')', out.len) ||
		    memchr(out.p ? out.p : "", '*', out.len) ||
		    out.len > 3 * rest)
			abort();
		buf_reset(&out);
		dict_ldap_quote_dn(&out, nul + 1, rest, NULL);
		if (!printable(&out) || out.len > 3 * rest)
			abort();
	}
	buf_free(&list);
	buf_free(&why);
	buf_free(&out);
	return 0;
}
