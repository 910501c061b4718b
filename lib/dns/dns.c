/*
 * NAME		dns - resolver wrapper, MX and address lookups, record lists
 * DESCRIPTION	dns_init() reads the resolver configuration once, with
 *		res_ninit(), into this process's own resolver state; later
 *		lookups never read it again.  dns_lookup() asks one question
 *		with res_nquery() (no search list, no default domain) and
 *		hands the reply to dns_parse().
 *
 *		dns_lookup_mx() sorts MX records by preference, in random
 *		order among equal preferences.  dns_lookup_addr() asks for
 *		AAAA and/or A records as inet_protocols allows, in the order
 *		smtp_address_preference asks for; an IP address literal is
 *		its own answer.
 * SECURITY	Names are checked before they are asked for; replies are
 *		parsed with bounds (dns_parse.c).
 * PARAMETERS	none directly; callers parse inet_protocols and
 *		smtp_address_preference with dns_protocols() and
 *		dns_address_pref().
 * DIAGNOSTICS	Reasons in Postfix's words, "Name service error for
 *		name=NAME type=TYPE: Host not found, try again".
 * SEE ALSO	dns_parse.c, doc/dns.md
 */
#include <sys/types.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <netdb.h>
#include <resolv.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "util/argv.h"
#include "util/log.h"
#include "util/mem.h"
#include "util/strutil.h"
#include "dns.h"

static struct __res_state dns_res;
static int dns_ready;
static int dns_atexit_done;
static unsigned (*dns_random)(void);

/* dns_default_random - xorshift generator seeded from the kernel */
static unsigned
dns_default_random(void)
{
	static unsigned state;

	if (state == 0) {
		if (getrandom(&state, sizeof(state), GRND_NONBLOCK) !=
		    (ssize_t)sizeof(state) || state == 0)
			state = (unsigned)time(NULL) ^ ((unsigned)getpid() <<
			    16) ^ 0x9e3779b9u;
		if (state == 0)
			state = 1;
	}
	state ^= state << 13;
	state ^= state >> 17;
	state ^= state << 5;
	return state;
}

/* dns_set_random - choose the random source for shuffling (tests) */
void
dns_set_random(unsigned (*fn)(void))
{
	dns_random = fn;
}

/* dns_rand - next random number */
static unsigned
dns_rand(void)
{
	return dns_random ? dns_random() : dns_default_random();
}

/* dns_type_name - "MX", "A", ... */
const char *
dns_type_name(int type)
{
	switch (type) {
	case DNS_T_A:
		return "A";
	case DNS_T_AAAA:
		return "AAAA";
	case DNS_T_MX:
		return "MX";
	case DNS_T_PTR:
		return "PTR";
	case DNS_T_TXT:
		return "TXT";
	case DNS_T_CNAME:
		return "CNAME";
	default:
		return "unknown";
	}
}

/*
 * dns_init - read the resolver configuration (once per process).  Call it
 * after chroot: inside the jail the C library reads the queue
 * directory's etc/resolv.conf.  Returns 0, or -1 with a reason.
 */
int
dns_init(struct buf *why)
{
	if (dns_ready)
		return 0;
	memset(&dns_res, 0, sizeof(dns_res));
	if (res_ninit(&dns_res) < 0) {
		if (why)
			buf_sets(why, "cannot initialize the resolver");
		return -1;
	}
	/* Ask for names as given: no search list, no default domain. */
	dns_res.options &= ~(unsigned long)(RES_DNSRCH | RES_DEFNAMES);
	dns_ready = 1;
	if (!dns_atexit_done) {
		/* The C library's state is released at exit, leak-free. */
		dns_atexit_done = 1;
		(void)atexit(dns_end);
	}
	return 0;
}

/* dns_end - release the resolver state (process exit) */
void
dns_end(void)
{
	if (dns_ready) {
		res_nclose(&dns_res);
		dns_ready = 0;
	}
}

/*
 * dns_lookup - records of one type for name.  Returns DNS_OK with a list
 * in *out (free it with dns_rr_free()), else a status and a reason.
 */
int
dns_lookup(const char *name, int type, struct dns_rr **out, struct buf *why)
{
	static unsigned char answer[DNS_PACKET_MAX];
	char sane[DNS_NAME_MAX + 1];
	int n;

	*out = NULL;
	if (!str_domain_valid(name)) {
		buf_reset(why);
		buf_printf(why, "Name service error for name=%s type=%s: "
		    "Malformed or unexpected name", str_sane(name, sane,
		    sizeof(sane)), dns_type_name(type));
		return DNS_INVAL;
	}
	if (!dns_ready) {
		/* A caller that forgot dns_init(); read it once now. */
		log_debug("dns: resolver initialized on first use");
		if (dns_init(why) < 0)
			return DNS_RETRY;
	}
	n = res_nquery(&dns_res, name, ns_c_in, type, answer, sizeof(answer));
	if (n < 0) {
		const char *reason;
		int status;

		switch (dns_res.res_h_errno) {
		case HOST_NOT_FOUND:
			status = DNS_NOTFOUND;
			reason = "Host not found";
			break;
		case NO_DATA:
			status = DNS_NOTFOUND;
			reason = "Host found but no data record of the "
			    "requested type";
			break;
		case NO_RECOVERY:
			status = DNS_RETRY;
			reason = "Non-recoverable error";
			break;
		default:
			status = DNS_RETRY;
			reason = "Host not found, try again";
			break;
		}
		buf_reset(why);
		buf_printf(why, "Name service error for name=%s type=%s: %s",
		    name, dns_type_name(type), reason);
		return status;
	}
	/* A reply longer than the buffer was cut off: the parser fails. */
	if ((size_t)n > sizeof(answer))
		n = sizeof(answer);
	return dns_parse(answer, (size_t)n, name, type, out, why);
}

/* dns_rr_free - release a list */
void
dns_rr_free(struct dns_rr *r)
{
	struct dns_rr *next;

	for (; r; r = next) {
		next = r->next;
		free(r->text);
		free(r);
	}
}

/* dns_rr_count - length of a list */
size_t
dns_rr_count(const struct dns_rr *r)
{
	size_t n = 0;

	for (; r; r = r->next)
		n++;
	return n;
}

/* dns_rr_append - list a followed by list b */
struct dns_rr *
dns_rr_append(struct dns_rr *a, struct dns_rr *b)
{
	struct dns_rr *r;

	if (a == NULL)
		return b;
	for (r = a; r->next; r = r->next)
		;
	r->next = b;
	return a;
}

/* dns_cmp_mx - by preference, then by the random key */
static int
dns_cmp_mx(const void *a, const void *b)
{
	const struct dns_rr *x = *(const struct dns_rr *const *)a;
	const struct dns_rr *y = *(const struct dns_rr *const *)b;

	if (x->pref != y->pref)
		return x->pref < y->pref ? -1 : 1;
	if (x->key != y->key)
		return x->key < y->key ? -1 : 1;
	return 0;
}

/* dns_cmp_key - by the random key only */
static int
dns_cmp_key(const void *a, const void *b)
{
	const struct dns_rr *x = *(const struct dns_rr *const *)a;
	const struct dns_rr *y = *(const struct dns_rr *const *)b;

	if (x->key != y->key)
		return x->key < y->key ? -1 : 1;
	return 0;
}

/* dns_rr_sort - give each record a random key, sort, relink */
static struct dns_rr *
dns_rr_sort(struct dns_rr *list, int (*cmp)(const void *, const void *))
{
	size_t n = dns_rr_count(list), i;
	struct dns_rr **v, *r;

	if (n < 2)
		return list;
	v = xmallocarray(n, sizeof(*v));
	for (i = 0, r = list; r; r = r->next, i++) {
		r->key = dns_rand();
		v[i] = r;
	}
	qsort(v, n, sizeof(*v), cmp);
	for (i = 0; i + 1 < n; i++)
		v[i]->next = v[i + 1];
	v[n - 1]->next = NULL;
	list = v[0];
	free(v);
	return list;
}

/* dns_rr_sort_mx - by preference, random order among equal ones */
struct dns_rr *
dns_rr_sort_mx(struct dns_rr *list)
{
	return dns_rr_sort(list, dns_cmp_mx);
}

/* dns_rr_shuffle - random order */
struct dns_rr *
dns_rr_shuffle(struct dns_rr *list)
{
	return dns_rr_sort(list, dns_cmp_key);
}

/* dns_rr_null_mx - is this MX list the RFC 7505 "no mail" record? */
int
dns_rr_null_mx(const struct dns_rr *list)
{
	return list && list->next == NULL && list->type == DNS_T_MX &&
	    list->name[0] == 0;
}

/* dns_rr_addr_str - numeric text of an A/AAAA record; 0 or -1 */
int
dns_rr_addr_str(const struct dns_rr *r, char *out, size_t len)
{
	if (r->family != AF_INET && r->family != AF_INET6)
		return -1;
	return inet_ntop(r->family, r->addr, out, (socklen_t)len) ? 0 : -1;
}

/*
 * dns_addr_literal - an IPv4 or IPv6 address (optionally "ipv6:addr")
 * as a one-record list; 0, or -1 if s is not an address.
 */
int
dns_addr_literal(const char *s, struct dns_rr **out)
{
	struct dns_rr *r = xcalloc(1, sizeof(*r));

	if (inet_pton(AF_INET, s, r->addr) == 1) {
		r->family = AF_INET;
		r->type = DNS_T_A;
	} else if (inet_pton(AF_INET6, strncasecmp(s, "ipv6:", 5) == 0 ?
	    s + 5 : s, r->addr) == 1) {
		r->family = AF_INET6;
		r->type = DNS_T_AAAA;
	} else {
		free(r);
		return -1;
	}
	strlcpy_trunc(r->owner, s, sizeof(r->owner));
	*out = r;
	return 0;
}

/* dns_lookup_mx - MX records sorted by preference */
int
dns_lookup_mx(const char *name, struct dns_rr **out, struct buf *why)
{
	int status = dns_lookup(name, DNS_T_MX, out, why);

	if (status == DNS_OK)
		*out = dns_rr_sort_mx(*out);
	return status;
}

/*
 * dns_lookup_addr - the addresses of host for the enabled protocols
 * (DNS_PROTO_* bits), the preferred family first.  One family's failure
 * does not hide the other's addresses.
 */
int
dns_lookup_addr(const char *host, int protos, int pref, struct dns_rr **out,
    struct buf *why)
{
	struct dns_rr *lit, *part;
	struct buf tmp = BUF_INIT, retry_why = BUF_INIT;
	int types[2], ntypes = 0, i, status, found = 0, retry = 0, inval = 0;

	*out = NULL;
	if (dns_addr_literal(host, &lit) == 0) {
		if ((lit->family == AF_INET && (protos & DNS_PROTO_V4)) ||
		    (lit->family == AF_INET6 && (protos & DNS_PROTO_V6))) {
			*out = lit;
			return DNS_OK;
		}
		dns_rr_free(lit);
		buf_reset(why);
		buf_printf(why, "address family of %s is not enabled in "
		    "inet_protocols", host);
		return DNS_NOTFOUND;
	}
	if (pref == DNS_PREF_ANY)
		pref = (dns_rand() & 1) ? DNS_PREF_IPV6 : DNS_PREF_IPV4;
	if (pref == DNS_PREF_IPV6 && (protos & DNS_PROTO_V6))
		types[ntypes++] = DNS_T_AAAA;
	if (protos & DNS_PROTO_V4)
		types[ntypes++] = DNS_T_A;
	if (pref != DNS_PREF_IPV6 && (protos & DNS_PROTO_V6))
		types[ntypes++] = DNS_T_AAAA;
	buf_reset(why);
	if (ntypes == 0)
		buf_sets(why, "no address family enabled in inet_protocols");
	for (i = 0; i < ntypes; i++) {
		status = dns_lookup(host, types[i], &part, &tmp);
		if (status == DNS_OK) {
			*out = dns_rr_append(*out, dns_rr_shuffle(part));
			found = 1;
		} else if (status == DNS_RETRY) {
			/* A temporary failure outweighs "not found". */
			if (!retry)
				buf_set(&retry_why, tmp.p, tmp.len);
			retry = 1;
		} else {
			inval |= status == DNS_INVAL;
			buf_set(why, tmp.p, tmp.len);
		}
	}
	if (!found && retry)
		buf_set(why, retry_why.p, retry_why.len);
	buf_free(&tmp);
	buf_free(&retry_why);
	if (found)
		return DNS_OK;
	return retry ? DNS_RETRY : inval ? DNS_INVAL : DNS_NOTFOUND;
}

/* dns_protocols - parse inet_protocols into DNS_PROTO_* bits */
int
dns_protocols(const char *spec, int *mask, struct buf *why)
{
	struct argv *words = argv_split(spec, SEPARATORS);
	size_t i;
	int m = 0;

	for (i = 0; i < words->n; i++) {
		if (strcasecmp(words->v[i], "all") == 0)
			m |= DNS_PROTO_V4 | DNS_PROTO_V6;
		else if (strcasecmp(words->v[i], "ipv4") == 0)
			m |= DNS_PROTO_V4;
		else if (strcasecmp(words->v[i], "ipv6") == 0)
			m |= DNS_PROTO_V6;
		else {
			buf_printf(why, "bad inet_protocols value: %s",
			    words->v[i]);
			argv_free(words);
			return -1;
		}
	}
	argv_free(words);
	if (m == 0) {
		buf_sets(why, "inet_protocols names no protocol");
		return -1;
	}
	*mask = m;
	return 0;
}

/* dns_address_pref - parse smtp_address_preference (any, ipv4, ipv6) */
int
dns_address_pref(const char *spec, int *pref, struct buf *why)
{
	if (strcasecmp(spec, "any") == 0)
		*pref = DNS_PREF_ANY;
	else if (strcasecmp(spec, "ipv4") == 0)
		*pref = DNS_PREF_IPV4;
	else if (strcasecmp(spec, "ipv6") == 0)
		*pref = DNS_PREF_IPV6;
	else {
		buf_printf(why, "bad address preference: %s", spec);
		return -1;
	}
	return 0;
}
