/*
 * NAME		dns - DNS lookups with typed, bounded results
 * DESCRIPTION	A thin layer over the C library's resolver (res_ninit,
 *		res_nquery) that returns lists of struct dns_rr for MX, A,
 *		AAAA, PTR and TXT records and one of four outcomes:
 *
 *		DNS_OK		records found
 *		DNS_NOTFOUND	the name does not exist, or has no record
 *				of the type (NXDOMAIN, NOERROR/NODATA)
 *		DNS_RETRY	a temporary failure: SERVFAIL, time-out, no
 *				answer, refused, or a malformed reply
 *		DNS_INVAL	the name asked for is not a valid domain name
 *
 *		The resolver configuration is read once per process, by
 *		dns_init(); a daemon calls it after its chroot so that the
 *		queue directory's etc/resolv.conf applies (doc/dns.md).
 *		dns_parse() is the reply parser, separate so that tests and
 *		the fuzzer can feed it packets.
 */
#ifndef DNS_DNS_H
#define DNS_DNS_H

#include <stddef.h>

#include "util/buf.h"

#define DNS_OK		0
#define DNS_NOTFOUND	1
#define DNS_RETRY	2
#define DNS_INVAL	3

/* Record types (the wire values). */
#define DNS_T_A		1
#define DNS_T_CNAME	5
#define DNS_T_PTR	12
#define DNS_T_MX	15
#define DNS_T_TXT	16
#define DNS_T_AAAA	28

#define DNS_NAME_MAX	253	/* presentation form, no trailing dot */
#define DNS_RR_MAX	100	/* records kept from one reply */
#define DNS_ANSWER_MAX	1000	/* answer records looked at */
#define DNS_CNAME_MAX	8	/* CNAME links followed */
#define DNS_PACKET_MAX	65536

/* inet_protocols */
#define DNS_PROTO_V4	(1 << 0)
#define DNS_PROTO_V6	(1 << 1)

/* Address preference (smtp_address_preference). */
#define DNS_PREF_ANY	0
#define DNS_PREF_IPV4	1
#define DNS_PREF_IPV6	2

struct dns_rr {
	struct dns_rr *next;
	int	 type;			/* DNS_T_* */
	unsigned ttl;
	unsigned pref;			/* MX preference */
	char	 owner[DNS_NAME_MAX + 1];	/* after CNAMEs */
	char	 name[DNS_NAME_MAX + 1];	/* MX exchange, PTR target;
						 * "" for a null MX */
	int	 family;		/* A: AF_INET, AAAA: AF_INET6 */
	unsigned char addr[16];
	char	*text;			/* TXT strings, joined */
	size_t	 text_len;
	unsigned key;			/* sort key (shuffling) */
};

int	 dns_init(struct buf *);
void	 dns_end(void);
int	 dns_lookup(const char *, int, struct dns_rr **, struct buf *);
int	 dns_parse(const unsigned char *, size_t, const char *, int,
	    struct dns_rr **, struct buf *);
int	 dns_lookup_mx(const char *, struct dns_rr **, struct buf *);
int	 dns_lookup_addr(const char *, int, int, struct dns_rr **,
	    struct buf *);

void	 dns_rr_free(struct dns_rr *);
size_t	 dns_rr_count(const struct dns_rr *);
struct dns_rr *dns_rr_append(struct dns_rr *, struct dns_rr *);
struct dns_rr *dns_rr_sort_mx(struct dns_rr *);
struct dns_rr *dns_rr_shuffle(struct dns_rr *);
int	 dns_rr_null_mx(const struct dns_rr *);
int	 dns_rr_addr_str(const struct dns_rr *, char *, size_t);

int	 dns_addr_literal(const char *, struct dns_rr **);
int	 dns_protocols(const char *, int *, struct buf *);
int	 dns_address_pref(const char *, int *, struct buf *);
const char *dns_type_name(int);
void	 dns_set_random(unsigned (*)(void));

#endif
