/*
 * NAME		test_dns - unit tests for lib/dns
 * DESCRIPTION	The reply parser fed with hand-made packets: A, AAAA, MX,
 *		PTR and TXT answers, compression pointers, CNAME chains (and
 *		loops, and chains at the limit), NXDOMAIN, NODATA, SERVFAIL,
 *		replies to another question, truncated and malformed
 *		packets, bad record data, record counts past DNS_RR_MAX.
 *		MX sorting (by preference, random among equal ones), the
 *		null MX, shuffling, name checks, inet_protocols and address
 *		literals.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <sys/socket.h>

#include "dns/dns.h"
#include "util/buf.h"
#include "util/strutil.h"
#include "unit.h"

/* A packet under construction. */
struct pkt {
	unsigned char b[DNS_PACKET_MAX];
	size_t	 len;
	size_t	 ancount_off;
};

static void
put8(struct pkt *p, unsigned v)
{
	p->b[p->len++] = (unsigned char)v;
}

static void
put16(struct pkt *p, unsigned v)
{
	put8(p, v >> 8);
	put8(p, v & 0xff);
}

static void
put32(struct pkt *p, unsigned long v)
{
	put16(p, (unsigned)(v >> 16));
	put16(p, (unsigned)(v & 0xffff));
}

/* put_name - a name in wire form, uncompressed */
static void
put_name(struct pkt *p, const char *name)
{
	const char *dot;

	while (*name) {
		dot = strchr(name, '.');
		size_t n = dot ? (size_t)(dot - name) : strlen(name);

		put8(p, (unsigned)n);
		memcpy(p->b + p->len, name, n);
		p->len += n;
		name += n;
		if (*name == '.')
			name++;
	}
	put8(p, 0);
}

/* pkt_start - header and question; rcode and answer count given */
static void
pkt_start(struct pkt *p, const char *qname, int qtype, int rcode,
    unsigned ancount)
{
	memset(p, 0, sizeof(*p));
	put16(p, 0x1234);
	put16(p, 0x8180 | (unsigned)rcode);	/* QR, RD, RA */
	put16(p, 1);
	p->ancount_off = p->len;
	put16(p, ancount);
	put16(p, 0);
	put16(p, 0);
	put_name(p, qname);
	put16(p, (unsigned)qtype);
	put16(p, 1);
}

/* rr_head - owner, type, class IN, ttl; returns the rdlength offset */
static size_t
rr_head(struct pkt *p, const char *owner, int type)
{
	size_t off;

	put_name(p, owner);
	put16(p, (unsigned)type);
	put16(p, 1);
	put32(p, 300);
	off = p->len;
	put16(p, 0);
	return off;
}

/* rr_end - fill in the rdlength */
static void
rr_end(struct pkt *p, size_t off)
{
	size_t n = p->len - off - 2;

	p->b[off] = (unsigned char)(n >> 8);
	p->b[off + 1] = (unsigned char)n;
}

static void
add_a(struct pkt *p, const char *owner, const char *addr)
{
	size_t off = rr_head(p, owner, DNS_T_A);

	inet_pton(AF_INET, addr, p->b + p->len);
	p->len += 4;
	rr_end(p, off);
}

static void
add_mx(struct pkt *p, const char *owner, unsigned pref, const char *host)
{
	size_t off = rr_head(p, owner, DNS_T_MX);

	put16(p, pref);
	put_name(p, host);
	rr_end(p, off);
}

static void
add_name_rr(struct pkt *p, const char *owner, int type, const char *target)
{
	size_t off = rr_head(p, owner, type);

	put_name(p, target);
	rr_end(p, off);
}

/* parse - dns_parse() over the packet, with a reason buffer */
static int
parse(struct pkt *p, const char *name, int type, struct dns_rr **out,
    struct buf *why)
{
	buf_reset(why);
	return dns_parse(p->b, p->len, name, type, out, why);
}

static void
test_parse_a_and_aaaa(void **state)
{
	struct pkt p;
	struct dns_rr *r;
	struct buf why = BUF_INIT;
	char text[64];
	size_t off;

	(void)state;
	pkt_start(&p, "mx.example.com", DNS_T_A, 0, 2);
	add_a(&p, "mx.example.com", "192.0.2.1");
	add_a(&p, "MX.Example.COM.", "192.0.2.2");
	assert_int_equal(parse(&p, "mx.example.com", DNS_T_A, &r, &why),
	    DNS_OK);
	assert_int_equal(dns_rr_count(r), 2);
	assert_int_equal(dns_rr_addr_str(r, text, sizeof(text)), 0);
	assert_string_equal(text, "192.0.2.1");
	assert_int_equal(r->family, AF_INET);
	assert_int_equal(r->ttl, 300);
	assert_string_equal(r->owner, "mx.example.com");
	dns_rr_free(r);

	pkt_start(&p, "v6.example.com", DNS_T_AAAA, 0, 1);
	off = rr_head(&p, "v6.example.com", DNS_T_AAAA);
	inet_pton(AF_INET6, "2001:db8::25", p.b + p.len);
	p.len += 16;
	rr_end(&p, off);
	assert_int_equal(parse(&p, "v6.example.com.", DNS_T_AAAA, &r, &why),
	    DNS_OK);
	assert_int_equal(dns_rr_addr_str(r, text, sizeof(text)), 0);
	assert_string_equal(text, "2001:db8::25");
	dns_rr_free(r);

	/* An A record with 5 bytes of data is malformed. */
	pkt_start(&p, "bad.example.com", DNS_T_A, 0, 1);
	off = rr_head(&p, "bad.example.com", DNS_T_A);
	put32(&p, 0x7f000001);
	put8(&p, 0);
	rr_end(&p, off);
	assert_int_equal(parse(&p, "bad.example.com", DNS_T_A, &r, &why),
	    DNS_RETRY);
	assert_null(r);
	buf_free(&why);
}

static void
test_parse_mx_compressed(void **state)
{
	struct pkt p;
	struct dns_rr *r;
	struct buf why = BUF_INIT;
	size_t off;

	(void)state;
	pkt_start(&p, "example.com", DNS_T_MX, 0, 2);
	/* Owner as a pointer to the question name (offset 12). */
	put16(&p, 0xc00c);
	put16(&p, DNS_T_MX);
	put16(&p, 1);
	put32(&p, 60);
	off = p.len;
	put16(&p, 0);
	put16(&p, 20);
	put8(&p, 3);
	memcpy(p.b + p.len, "mx2", 3);
	p.len += 3;
	put16(&p, 0xc00c);		/* "mx2" + example.com */
	rr_end(&p, off);
	add_mx(&p, "example.com", 10, "mx1.example.com");
	assert_int_equal(parse(&p, "example.com", DNS_T_MX, &r, &why),
	    DNS_OK);
	assert_int_equal(dns_rr_count(r), 2);
	assert_int_equal(r->pref, 20);
	assert_string_equal(r->name, "mx2.example.com");
	assert_string_equal(r->next->name, "mx1.example.com");
	r = dns_rr_sort_mx(r);
	assert_int_equal(r->pref, 10);
	assert_string_equal(r->name, "mx1.example.com");
	dns_rr_free(r);

	/* A compression pointer that loops. */
	pkt_start(&p, "example.com", DNS_T_MX, 0, 1);
	off = rr_head(&p, "example.com", DNS_T_MX);
	put16(&p, 10);
	put16(&p, (unsigned)(0xc000 | p.len));
	rr_end(&p, off);
	assert_int_equal(parse(&p, "example.com", DNS_T_MX, &r, &why),
	    DNS_RETRY);

	/* An exchange name running past the record's data. */
	pkt_start(&p, "example.com", DNS_T_MX, 0, 1);
	off = rr_head(&p, "example.com", DNS_T_MX);
	put16(&p, 10);
	put_name(&p, "mx.example.com");
	p.b[off + 1] = 5;		/* rdlength cut short */
	assert_int_equal(parse(&p, "example.com", DNS_T_MX, &r, &why),
	    DNS_RETRY);

	/* The null MX. */
	pkt_start(&p, "nomail.example", DNS_T_MX, 0, 1);
	add_mx(&p, "nomail.example", 0, "");
	assert_int_equal(parse(&p, "nomail.example", DNS_T_MX, &r, &why),
	    DNS_OK);
	assert_true(dns_rr_null_mx(r));
	assert_string_equal(r->name, "");
	dns_rr_free(r);
	buf_free(&why);
}

static void
test_parse_status(void **state)
{
	struct pkt p;
	struct dns_rr *r;
	struct buf why = BUF_INIT;

	(void)state;
	pkt_start(&p, "nx.example", DNS_T_A, 3, 0);
	assert_int_equal(parse(&p, "nx.example", DNS_T_A, &r, &why),
	    DNS_NOTFOUND);
	assert_string_equal(why.p, "Name service error for name=nx.example "
	    "type=A: Host not found");
	pkt_start(&p, "sf.example", DNS_T_MX, 2, 0);
	assert_int_equal(parse(&p, "sf.example", DNS_T_MX, &r, &why),
	    DNS_RETRY);
	assert_string_equal(why.p, "Name service error for name=sf.example "
	    "type=MX: Host not found, try again");
	pkt_start(&p, "ref.example", DNS_T_MX, 5, 0);
	assert_int_equal(parse(&p, "ref.example", DNS_T_MX, &r, &why),
	    DNS_RETRY);
	/* NODATA: an answer of another type only. */
	pkt_start(&p, "nodata.example", DNS_T_MX, 0, 1);
	add_a(&p, "nodata.example", "192.0.2.9");
	assert_int_equal(parse(&p, "nodata.example", DNS_T_MX, &r, &why),
	    DNS_NOTFOUND);
	/* Records for another name do not count. */
	pkt_start(&p, "a.example", DNS_T_A, 0, 1);
	add_a(&p, "b.example", "192.0.2.9");
	assert_int_equal(parse(&p, "a.example", DNS_T_A, &r, &why),
	    DNS_NOTFOUND);
	/* A reply to another question. */
	pkt_start(&p, "other.example", DNS_T_A, 0, 1);
	add_a(&p, "other.example", "192.0.2.9");
	assert_int_equal(parse(&p, "asked.example", DNS_T_A, &r, &why),
	    DNS_RETRY);
	assert_int_equal(parse(&p, "other.example", DNS_T_MX, &r, &why),
	    DNS_RETRY);
	/* A query, not a reply. */
	pkt_start(&p, "q.example", DNS_T_A, 0, 0);
	p.b[2] &= 0x7f;
	assert_int_equal(parse(&p, "q.example", DNS_T_A, &r, &why),
	    DNS_RETRY);
	buf_free(&why);
}

static void
test_parse_truncated(void **state)
{
	struct pkt p, t;
	struct dns_rr *r;
	struct buf why = BUF_INIT;
	size_t n;
	int st;

	(void)state;
	pkt_start(&p, "mx.example.com", DNS_T_A, 0, 2);
	add_a(&p, "mx.example.com", "192.0.2.1");
	add_a(&p, "mx.example.com", "192.0.2.2");
	/* Every prefix of a good packet fails cleanly. */
	for (n = 0; n < p.len; n++) {
		t = p;
		t.len = n;
		st = parse(&t, "mx.example.com", DNS_T_A, &r, &why);
		assert_int_equal(st, DNS_RETRY);
		assert_null(r);
	}
	/* The answer count claims more than there is. */
	t = p;
	t.b[t.ancount_off + 1] = 3;
	assert_int_equal(parse(&t, "mx.example.com", DNS_T_A, &r, &why),
	    DNS_RETRY);
	assert_int_equal(dns_parse(p.b, DNS_PACKET_MAX + 1, "mx.example.com",
	    DNS_T_A, &r, &why), DNS_RETRY);
	buf_free(&why);
}

static void
test_parse_cname(void **state)
{
	struct pkt p;
	struct dns_rr *r;
	struct buf why = BUF_INIT;
	char owner[32], target[32];
	int i;

	(void)state;
	/* www -> web -> host, with the A record listed first. */
	pkt_start(&p, "www.example.com", DNS_T_A, 0, 3);
	add_a(&p, "host.example.com", "192.0.2.7");
	add_name_rr(&p, "www.example.com", DNS_T_CNAME, "web.example.com");
	add_name_rr(&p, "web.example.com", DNS_T_CNAME, "host.example.com");
	assert_int_equal(parse(&p, "www.example.com", DNS_T_A, &r, &why),
	    DNS_OK);
	assert_int_equal(dns_rr_count(r), 1);
	assert_string_equal(r->owner, "host.example.com");
	dns_rr_free(r);

	/* A CNAME pointing at nothing in the answer: no data. */
	pkt_start(&p, "www.example.com", DNS_T_A, 0, 1);
	add_name_rr(&p, "www.example.com", DNS_T_CNAME, "gone.example.com");
	assert_int_equal(parse(&p, "www.example.com", DNS_T_A, &r, &why),
	    DNS_NOTFOUND);

	/* A loop. */
	pkt_start(&p, "a.example", DNS_T_A, 0, 2);
	add_name_rr(&p, "a.example", DNS_T_CNAME, "b.example");
	add_name_rr(&p, "b.example", DNS_T_CNAME, "a.example");
	assert_int_equal(parse(&p, "a.example", DNS_T_A, &r, &why),
	    DNS_RETRY);
	assert_non_null(strstr(why.p, "CNAME chain too long"));

	/* Chains of DNS_CNAME_MAX links work, one more does not. */
	for (i = DNS_CNAME_MAX; i <= DNS_CNAME_MAX + 1; i++) {
		int k;

		pkt_start(&p, "c0.example", DNS_T_A, 0, (unsigned)i + 1);
		for (k = 0; k < i; k++) {
			snprintf(owner, sizeof(owner), "c%d.example", k);
			snprintf(target, sizeof(target), "c%d.example", k + 1);
			add_name_rr(&p, owner, DNS_T_CNAME, target);
		}
		add_a(&p, target, "192.0.2.8");
		if (i == DNS_CNAME_MAX) {
			assert_int_equal(parse(&p, "c0.example", DNS_T_A, &r,
			    &why), DNS_OK);
			dns_rr_free(r);
		} else {
			assert_int_equal(parse(&p, "c0.example", DNS_T_A, &r,
			    &why), DNS_RETRY);
		}
	}
	buf_free(&why);
}

static void
test_parse_ptr_txt(void **state)
{
	struct pkt p;
	struct dns_rr *r;
	struct buf why = BUF_INIT;
	size_t off;

	(void)state;
	pkt_start(&p, "1.2.0.192.in-addr.arpa", DNS_T_PTR, 0, 1);
	add_name_rr(&p, "1.2.0.192.in-addr.arpa", DNS_T_PTR,
	    "host.example.com");
	assert_int_equal(parse(&p, "1.2.0.192.in-addr.arpa", DNS_T_PTR, &r,
	    &why), DNS_OK);
	assert_string_equal(r->name, "host.example.com");
	dns_rr_free(r);

	pkt_start(&p, "example.com", DNS_T_TXT, 0, 1);
	off = rr_head(&p, "example.com", DNS_T_TXT);
	put8(&p, 6);
	memcpy(p.b + p.len, "v=spf1", 6);
	p.len += 6;
	put8(&p, 5);
	memcpy(p.b + p.len, " -all", 5);
	p.len += 5;
	put8(&p, 0);
	rr_end(&p, off);
	assert_int_equal(parse(&p, "example.com", DNS_T_TXT, &r, &why),
	    DNS_OK);
	assert_int_equal(r->text_len, 11);
	assert_string_equal(r->text, "v=spf1 -all");
	dns_rr_free(r);

	/* A string length running past the data. */
	pkt_start(&p, "example.com", DNS_T_TXT, 0, 1);
	off = rr_head(&p, "example.com", DNS_T_TXT);
	put8(&p, 9);
	memcpy(p.b + p.len, "short", 5);
	p.len += 5;
	rr_end(&p, off);
	assert_int_equal(parse(&p, "example.com", DNS_T_TXT, &r, &why),
	    DNS_RETRY);
	/* Empty TXT data. */
	pkt_start(&p, "example.com", DNS_T_TXT, 0, 1);
	off = rr_head(&p, "example.com", DNS_T_TXT);
	rr_end(&p, off);
	assert_int_equal(parse(&p, "example.com", DNS_T_TXT, &r, &why),
	    DNS_RETRY);
	buf_free(&why);
}

static void
test_parse_limits(void **state)
{
	struct pkt p;
	struct dns_rr *r;
	struct buf why = BUF_INIT;
	char name[300];
	int i;

	(void)state;
	/* More records than DNS_RR_MAX: the first DNS_RR_MAX are kept. */
	pkt_start(&p, "many.example", DNS_T_A, 0, DNS_RR_MAX + 5);
	for (i = 0; i < DNS_RR_MAX + 5; i++) {
		char a[32];

		snprintf(a, sizeof(a), "10.0.%d.%d", i / 250, i % 250);
		add_a(&p, "many.example", a);
	}
	assert_int_equal(parse(&p, "many.example", DNS_T_A, &r, &why),
	    DNS_OK);
	assert_int_equal(dns_rr_count(r), DNS_RR_MAX);
	dns_rr_free(r);

	/* Exchange names of 253 characters pass, longer ones do not. */
	for (i = 253; i <= 254; i++) {
		size_t k;

		memset(name, 'a', (size_t)i);
		name[i] = 0;
		for (k = 60; k < (size_t)i; k += 61)
			name[k] = '.';
		pkt_start(&p, "long.example", DNS_T_MX, 0, 1);
		add_mx(&p, "long.example", 10, name);
		if (i == 253) {
			assert_int_equal(parse(&p, "long.example", DNS_T_MX,
			    &r, &why), DNS_OK);
			assert_int_equal(strlen(r->name), 253);
			dns_rr_free(r);
		} else {
			assert_int_equal(parse(&p, "long.example", DNS_T_MX,
			    &r, &why), DNS_RETRY);
		}
	}
	buf_free(&why);
}

/* A scripted random source for the sorting tests. */
static unsigned script_state;

static unsigned
script_random(void)
{
	script_state = script_state * 1103515245u + 12345u;
	return script_state >> 8;
}

/* mk_mx - a record list from "pref:name" strings */
static struct dns_rr *
mk_mx(const char *const *spec, size_t n)
{
	struct dns_rr *head = NULL, *r;
	size_t i;

	for (i = n; i-- > 0;) {
		r = calloc(1, sizeof(*r));
		r->type = DNS_T_MX;
		r->pref = (unsigned)atoi(spec[i]);
		snprintf(r->name, sizeof(r->name), "%s",
		    strchr(spec[i], ':') + 1);
		r->next = head;
		head = r;
	}
	return head;
}

static void
test_sort_mx(void **state)
{
	static const char *const spec[] = {"20:c", "10:a", "30:e", "10:b",
	    "20:d", "0:z"};
	struct dns_rr *r, *x;
	int seen_ab = 0, seen_ba = 0, seen_cd = 0, seen_dc = 0, i;
	unsigned last;

	(void)state;
	dns_set_random(script_random);
	for (i = 0; i < 200; i++) {
		r = dns_rr_sort_mx(mk_mx(spec, 6));
		assert_int_equal(dns_rr_count(r), 6);
		last = 0;
		for (x = r; x; x = x->next) {
			assert_true(x->pref >= last);
			last = x->pref;
		}
		assert_string_equal(r->name, "z");
		assert_string_equal(r->next->next->next->next->next->name, "e");
		if (strcmp(r->next->name, "a") == 0)
			seen_ab++;
		else
			seen_ba++;
		if (strcmp(r->next->next->next->name, "c") == 0)
			seen_cd++;
		else
			seen_dc++;
		dns_rr_free(r);
	}
	/* Equal preferences come in both orders. */
	assert_true(seen_ab > 20 && seen_ba > 20);
	assert_true(seen_cd > 20 && seen_dc > 20);

	/* Empty and one-element lists. */
	assert_null(dns_rr_sort_mx(NULL));
	r = dns_rr_sort_mx(mk_mx(spec, 1));
	assert_string_equal(r->name, "c");
	assert_null(r->next);
	dns_rr_free(r);

	/* Shuffling keeps every element. */
	r = dns_rr_shuffle(mk_mx(spec, 6));
	assert_int_equal(dns_rr_count(r), 6);
	dns_rr_free(r);
	dns_set_random(NULL);
	r = dns_rr_shuffle(mk_mx(spec, 6));
	assert_int_equal(dns_rr_count(r), 6);
	dns_rr_free(r);
}

static void
test_names_and_settings(void **state)
{
	struct buf why = BUF_INIT;
	struct dns_rr *r;
	char name[300];
	int mask, pref;

	(void)state;
	assert_true(str_domain_valid("example.com"));
	assert_true(str_domain_valid("example.com."));
	assert_true(str_domain_valid("_dmarc.x-y.example"));
	assert_false(str_domain_valid(""));
	assert_false(str_domain_valid("."));
	assert_false(str_domain_valid("a..b"));
	assert_false(str_domain_valid(".a"));
	assert_false(str_domain_valid("a b"));
	assert_false(str_domain_valid("a\nb"));
	assert_false(str_domain_valid("\xc3\xa9.example"));
	memset(name, 'a', 63);
	strcpy(name + 63, ".x");
	assert_true(str_domain_valid(name));
	memset(name, 'a', 64);
	strcpy(name + 64, ".x");
	assert_false(str_domain_valid(name));
	memset(name, 'a', sizeof(name));
	for (size_t k = 60; k < sizeof(name); k += 61)
		name[k] = '.';
	name[253] = 0;
	assert_true(str_domain_valid(name));
	name[253] = 'a';
	name[254] = 0;
	assert_false(str_domain_valid(name));
	assert_int_equal(dns_lookup(name, DNS_T_A, &r, &why), DNS_INVAL);

	assert_int_equal(dns_protocols("all", &mask, &why), 0);
	assert_int_equal(mask, DNS_PROTO_V4 | DNS_PROTO_V6);
	assert_int_equal(dns_protocols("ipv4", &mask, &why), 0);
	assert_int_equal(mask, DNS_PROTO_V4);
	assert_int_equal(dns_protocols("ipv6, ipv4", &mask, &why), 0);
	assert_int_equal(mask, DNS_PROTO_V4 | DNS_PROTO_V6);
	assert_int_equal(dns_protocols("ipx", &mask, &why), -1);
	assert_int_equal(dns_protocols("", &mask, &why), -1);
	assert_int_equal(dns_address_pref("IPv6", &pref, &why), 0);
	assert_int_equal(pref, DNS_PREF_IPV6);
	assert_int_equal(dns_address_pref("both", &pref, &why), -1);

	assert_int_equal(dns_addr_literal("192.0.2.1", &r), 0);
	assert_int_equal(r->family, AF_INET);
	dns_rr_free(r);
	assert_int_equal(dns_addr_literal("ipv6:2001:db8::1", &r), 0);
	assert_int_equal(r->family, AF_INET6);
	dns_rr_free(r);
	assert_int_equal(dns_addr_literal("example.com", &r), -1);
	/* A literal of a disabled family is not an address here. */
	assert_int_equal(dns_lookup_addr("2001:db8::1", DNS_PROTO_V4,
	    DNS_PREF_ANY, &r, &why), DNS_NOTFOUND);
	assert_int_equal(dns_lookup_addr("192.0.2.1", DNS_PROTO_V4,
	    DNS_PREF_ANY, &r, &why), DNS_OK);
	dns_rr_free(r);
	assert_string_equal(dns_type_name(DNS_T_MX), "MX");
	buf_free(&why);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_a_and_aaaa),
		cmocka_unit_test(test_parse_mx_compressed),
		cmocka_unit_test(test_parse_status),
		cmocka_unit_test(test_parse_truncated),
		cmocka_unit_test(test_parse_cname),
		cmocka_unit_test(test_parse_ptr_txt),
		cmocka_unit_test(test_parse_limits),
		cmocka_unit_test(test_sort_mx),
		cmocka_unit_test(test_names_and_settings),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
