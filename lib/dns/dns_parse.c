/*
 * NAME		dns_parse - DNS reply parser
 * DESCRIPTION	dns_parse() turns one reply packet into a list of records
 *		of the type that was asked for, following CNAME records in
 *		the answer section from the name asked for to the canonical
 *		name.  The packet structure is checked by the resolver
 *		library's ns_initparse()/ns_parserr(); this file checks the
 *		rest: that it is a reply to the question asked, the rcode,
 *		each record's data length and content, and the bounds.
 * SECURITY	The packet comes from the network: nothing in it is
 *		trusted.  At most DNS_ANSWER_MAX answer records are looked
 *		at, DNS_RR_MAX kept, DNS_CNAME_MAX CNAME links followed;
 *		names longer than DNS_NAME_MAX are refused.
 * DIAGNOSTICS	The reason for a non-DNS_OK result is written to why, as
 *		"Name service error for name=NAME type=TYPE: REASON".
 * SEE ALSO	dns(3), doc/dns.md
 */
#include <sys/types.h>
#include <netinet/in.h>
#include <arpa/nameser.h>
#include <resolv.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "util/mem.h"
#include "util/strutil.h"
#include "dns.h"

/* dns_fail - fill the reason and return the status */
static int
dns_fail(struct buf *why, const char *name, int type, int status,
    const char *reason)
{
	char sane[DNS_NAME_MAX + 1];

	if (why) {
		buf_reset(why);
		buf_printf(why, "Name service error for name=%s type=%s: %s",
		    str_sane(name, sane, sizeof(sane)), dns_type_name(type),
		    reason);
	}
	return status;
}

/* dns_same_name - equal names, ignoring case and a trailing dot */
static int
dns_same_name(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);

	if (la > 0 && a[la - 1] == '.')
		la--;
	if (lb > 0 && b[lb - 1] == '.')
		lb--;
	return la == lb && strncasecmp(a, b, la) == 0;
}

/* dns_copy_name - copy a presentation name; 0 or -1 if too long */
static int
dns_copy_name(char *dst, const char *src)
{
	size_t len = strlen(src);

	/* The root is "."; other names have no trailing dot. */
	if (strcmp(src, ".") == 0) {
		dst[0] = 0;
		return 0;
	}
	if (len > 0 && src[len - 1] == '.')
		len--;
	if (len > DNS_NAME_MAX)
		return -1;
	memcpy(dst, src, len);
	dst[len] = 0;
	return 0;
}

/* dns_rdata_name - a compressed name in rdata at p; 0 or -1 */
static int
dns_rdata_name(ns_msg *msg, const unsigned char *p,
    const unsigned char *end, char *dst)
{
	char tmp[NS_MAXDNAME];
	int n;

	/* The name must end inside the record's data. */
	n = ns_name_uncompress(ns_msg_base(*msg), ns_msg_end(*msg), p, tmp,
	    sizeof(tmp));
	if (n < 0 || p + n > end)
		return -1;
	return dns_copy_name(dst, tmp);
}

/* dns_rr_make - decode one record of the wanted type, or NULL */
static struct dns_rr *
dns_rr_make(ns_msg *msg, ns_rr *rr, int type)
{
	const unsigned char *p = ns_rr_rdata(*rr);
	const unsigned char *end = p + ns_rr_rdlen(*rr);
	struct dns_rr *r = xcalloc(1, sizeof(*r));
	size_t len, i;

	r->type = type;
	r->ttl = ns_rr_ttl(*rr);
	if (dns_copy_name(r->owner, ns_rr_name(*rr)) < 0)
		goto bad;
	switch (type) {
	case DNS_T_A:
		if (ns_rr_rdlen(*rr) != 4)
			goto bad;
		r->family = AF_INET;
		memcpy(r->addr, p, 4);
		break;
	case DNS_T_AAAA:
		if (ns_rr_rdlen(*rr) != 16)
			goto bad;
		r->family = AF_INET6;
		memcpy(r->addr, p, 16);
		break;
	case DNS_T_MX:
		if (ns_rr_rdlen(*rr) < 3)
			goto bad;
		r->pref = ((unsigned)p[0] << 8) | p[1];
		if (dns_rdata_name(msg, p + 2, end, r->name) < 0)
			goto bad;
		break;
	case DNS_T_PTR:
	case DNS_T_CNAME:
		if (dns_rdata_name(msg, p, end, r->name) < 0)
			goto bad;
		break;
	case DNS_T_TXT:
		/* One or more <length><bytes> strings, joined. */
		if (p == end)
			goto bad;
		for (i = 0, len = 0; p + i < end; i += 1 + p[i]) {
			if (p + i + 1 + p[i] > end)
				goto bad;
			len += p[i];
		}
		r->text = xmalloc(len + 1);
		for (i = 0, len = 0; p + i < end; i += 1 + p[i]) {
			memcpy(r->text + len, p + i + 1, p[i]);
			len += p[i];
		}
		r->text[len] = 0;
		r->text_len = len;
		break;
	default:
		goto bad;
	}
	return r;
bad:
	dns_rr_free(r);
	return NULL;
}

/*
 * dns_parse - the records of the given type for name in a reply packet.
 * Returns DNS_OK with a list in *out (the caller frees it with
 * dns_rr_free()), or another status with a reason in why.
 */
int
dns_parse(const unsigned char *pkt, size_t len, const char *name, int type,
    struct dns_rr **out, struct buf *why)
{
	ns_msg msg;
	ns_rr rr;
	char cur[NS_MAXDNAME];
	struct dns_rr *head = NULL, **tail = &head, *r;
	int nan, i, n, hop, kept = 0, bad = 0, next;

	*out = NULL;
	if (len > DNS_PACKET_MAX || len < NS_HFIXEDSZ ||
	    ns_initparse(pkt, (int)len, &msg) < 0)
		return dns_fail(why, name, type, DNS_RETRY, "Malformed reply");
	if (!ns_msg_getflag(msg, ns_f_qr) ||
	    ns_msg_getflag(msg, ns_f_opcode) != ns_o_query)
		return dns_fail(why, name, type, DNS_RETRY, "Malformed reply");
	if (ns_msg_count(msg, ns_s_qd) != 1 ||
	    ns_parserr(&msg, ns_s_qd, 0, &rr) < 0 ||
	    !dns_same_name(ns_rr_name(rr), name) ||
	    (int)ns_rr_type(rr) != type || ns_rr_class(rr) != ns_c_in)
		return dns_fail(why, name, type, DNS_RETRY,
		    "Reply does not match the query");
	switch (ns_msg_getflag(msg, ns_f_rcode)) {
	case ns_r_noerror:
		break;
	case ns_r_nxdomain:
		return dns_fail(why, name, type, DNS_NOTFOUND,
		    "Host not found");
	case ns_r_servfail:
		return dns_fail(why, name, type, DNS_RETRY,
		    "Host not found, try again");
	default:
		return dns_fail(why, name, type, DNS_RETRY,
		    "Non-recoverable error");
	}
	nan = ns_msg_count(msg, ns_s_an);
	if (nan > DNS_ANSWER_MAX)
		nan = DNS_ANSWER_MAX;
	strlcpy_trunc(cur, name, sizeof(cur));

	/*
	 * Each pass collects the records for the current name; if there are
	 * none, a CNAME for it names the next one to look for.
	 */
	for (hop = 0; hop <= DNS_CNAME_MAX; hop++) {
		next = -1;
		for (i = 0; i < nan; i++) {
			if (ns_parserr(&msg, ns_s_an, i, &rr) < 0) {
				dns_rr_free(head);
				return dns_fail(why, name, type, DNS_RETRY,
				    "Malformed reply");
			}
			if (ns_rr_class(rr) != ns_c_in ||
			    !dns_same_name(ns_rr_name(rr), cur))
				continue;
			if ((int)ns_rr_type(rr) == type) {
				if (kept >= DNS_RR_MAX)
					continue;
				r = dns_rr_make(&msg, &rr, type);
				if (r == NULL) {
					bad++;
					continue;
				}
				*tail = r;
				tail = &r->next;
				kept++;
			} else if (ns_rr_type(rr) == ns_t_cname &&
			    type != DNS_T_CNAME && next < 0) {
				next = i;
			}
		}
		if (head) {
			*out = head;
			return DNS_OK;
		}
		if (bad)
			return dns_fail(why, name, type, DNS_RETRY,
			    "Malformed reply");
		if (next < 0)
			return dns_fail(why, name, type, DNS_NOTFOUND,
			    "Host found but no data record of the "
			    "requested type");
		if (ns_parserr(&msg, ns_s_an, next, &rr) < 0 ||
		    (n = ns_name_uncompress(ns_msg_base(msg), ns_msg_end(msg),
		    ns_rr_rdata(rr), cur, sizeof(cur))) < 0 ||
		    n > ns_rr_rdlen(rr) || strlen(cur) > DNS_NAME_MAX + 1)
			return dns_fail(why, name, type, DNS_RETRY,
			    "Malformed reply");
	}
	return dns_fail(why, name, type, DNS_RETRY, "CNAME chain too long");
}
