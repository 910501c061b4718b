/*
 * NAME		fuzz_dns - libFuzzer target for the DNS reply parser
 * DESCRIPTION	Feeds the input to dns_parse() as a reply to a question
 *		for "example.com" of each record type the library asks
 *		for, and checks the results: DNS_OK comes with a non-empty
 *		list of at most DNS_RR_MAX records of the type asked for,
 *		names within DNS_NAME_MAX, addresses of the right family;
 *		any other status with no list.  MX lists are sorted and
 *		shuffled as the SMTP client does.  Seeds in
 *		tests/fuzz/corpus/dns/ are replies for example.com.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "dns/dns.h"
#include "util/buf.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* check - the invariants of one parse */
static void
check(int st, int type, struct dns_rr *r)
{
	size_t n = 0;

	if (st != DNS_OK) {
		if (r != NULL || (st != DNS_NOTFOUND && st != DNS_RETRY))
			abort();
		return;
	}
	if (r == NULL)
		abort();
	for (; r; r = r->next) {
		if (++n > DNS_RR_MAX || r->type != type ||
		    strlen(r->owner) > DNS_NAME_MAX ||
		    strlen(r->name) > DNS_NAME_MAX)
			abort();
		if ((type == DNS_T_A && r->family != AF_INET) ||
		    (type == DNS_T_AAAA && r->family != AF_INET6))
			abort();
		if (type == DNS_T_TXT && (r->text == NULL ||
		    r->text[r->text_len] != 0))
			abort();
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const int types[] = {DNS_T_A, DNS_T_AAAA, DNS_T_MX,
	    DNS_T_PTR, DNS_T_TXT, DNS_T_CNAME};
	struct buf why = BUF_INIT;
	struct dns_rr *r;
	size_t i;
	int st;

	for (i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		st = dns_parse(data, size, "example.com", types[i], &r, &why);
		check(st, types[i], r);
		if (types[i] == DNS_T_MX) {
			r = dns_rr_sort_mx(r);
			r = dns_rr_shuffle(r);
			check(st, types[i], r);
		}
		dns_rr_free(r);
	}
	buf_free(&why);
	return 0;
}
