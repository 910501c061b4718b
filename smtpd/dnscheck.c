/*
 * NAME		dnscheck - restrictions that ask the DNS
 * DESCRIPTION	reject_unknown_helo_hostname (the HELO name has no A, AAAA
 *		or MX record), reject_unknown_sender_domain and
 *		reject_unknown_recipient_domain (the domain of a non-local
 *		address has no MX and no A/AAAA record, or a null MX),
 *		reject_rbl_client and reject_rhsbl_{client,reverse_client,
 *		sender,recipient,helo} (DNS lists, with an optional
 *		"=d.d.d.d" answer filter whose parts may be "[n;n..m]").
 *
 *		Every lookup goes through the ck_dns operations, which use
 *		lib/dns (the resolver reads the chroot's etc/resolv.conf; it
 *		is initialized on first use, after the chroot).  Tests
 *		replace ck_dns with a fake.
 *
 *		A DNS list reply is default_rbl_reply expanded with
 *		$rbl_code, $rbl_domain, $rbl_reason, $rbl_txt, $rbl_class,
 *		$rbl_what, $client_address, $client_name,
 *		$reverse_client_name, $helo_name, $sender, $recipient and
 *		Postfix's ${name?text} and ${name:text} forms; TXT text
 *		outside printable ASCII is replaced with "_".
 * SECURITY	DNS answers come from the network: TXT text is bounded and
 *		censored before it reaches a reply.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dict/match.h"
#include "dns/dns.h"
#include "mail/addr.h"
#include "util/log.h"
#include "util/mem.h"
#include "util/strutil.h"
#include "check.h"

/* dns_ready - initialize the resolver once (after the chroot) */
static int
dns_ready(struct buf *why)
{
	static int done;

	if (done)
		return 0;
	if (dns_init(why) < 0)
		return -1;
	done = 1;
	return 0;
}

/* ck_map_status - DNS_* to CK_DNS_* */
static int
ck_map_status(int s)
{
	switch (s) {
	case DNS_OK:
		return CK_DNS_OK;
	case DNS_RETRY:
		return CK_DNS_RETRY;
	default:
		return CK_DNS_NOTFOUND;
	}
}

/* real_mailhost - MX (a null MX says no mail), else an address */
static int
real_mailhost(const char *domain, struct buf *why)
{
	struct dns_rr *rr = NULL;
	int s;

	if (dns_ready(why) < 0)
		return CK_DNS_RETRY;
	s = dns_lookup_mx(domain, &rr, why);
	if (s == DNS_OK) {
		int nullmx = dns_rr_null_mx(rr);

		dns_rr_free(rr);
		return nullmx ? CK_DNS_NULLMX : CK_DNS_OK;
	}
	if (s != DNS_NOTFOUND)
		return ck_map_status(s);
	s = dns_lookup_addr(domain, DNS_PROTO_V4 | DNS_PROTO_V6,
	    DNS_PREF_IPV4, &rr, why);
	dns_rr_free(rr);
	return ck_map_status(s);
}

/* real_host - an address, else an MX */
static int
real_host(const char *name, struct buf *why)
{
	struct dns_rr *rr = NULL;
	int s;

	if (dns_ready(why) < 0)
		return CK_DNS_RETRY;
	s = dns_lookup_addr(name, DNS_PROTO_V4 | DNS_PROTO_V6, DNS_PREF_IPV4,
	    &rr, why);
	dns_rr_free(rr);
	if (s != DNS_NOTFOUND && s != DNS_INVAL)
		return ck_map_status(s);
	rr = NULL;
	s = dns_lookup_mx(name, &rr, why);
	dns_rr_free(rr);
	return ck_map_status(s);
}

/* real_a_records - the A records of name as dotted quads */
static int
real_a_records(const char *name, struct argv *out, struct buf *why)
{
	struct dns_rr *rr = NULL, *r;
	int s;

	if (dns_ready(why) < 0)
		return CK_DNS_RETRY;
	s = dns_lookup(name, DNS_T_A, &rr, why);
	for (r = rr; s == DNS_OK && r; r = r->next) {
		char a[INET_ADDRSTRLEN];

		if (r->type == DNS_T_A &&
		    inet_ntop(AF_INET, r->addr, a, sizeof(a)))
			argv_add(out, a);
	}
	dns_rr_free(rr);
	return ck_map_status(s);
}

/* real_txt - the text of the first TXT record of name */
static int
real_txt(const char *name, struct buf *out, struct buf *why)
{
	struct dns_rr *rr = NULL, *r;
	int s;

	if (dns_ready(why) < 0)
		return CK_DNS_RETRY;
	s = dns_lookup(name, DNS_T_TXT, &rr, why);
	for (r = rr; s == DNS_OK && r; r = r->next) {
		if (r->type == DNS_T_TXT && r->text) {
			buf_set(out, r->text, r->text_len);
			break;
		}
	}
	dns_rr_free(rr);
	return ck_map_status(s);
}

static const struct ck_dns_ops ck_dns_real = {
	real_mailhost, real_host, real_a_records, real_txt
};

const struct ck_dns_ops *ck_dns = &ck_dns_real;

/* ck_act - a *_tempfail_action: 1 defer_if_permit, 0 defer */
static int
ck_act(const char *specific, const char *general)
{
	const char *v = specific && *specific ? specific : general;

	return !(v && strcasecmp(v, "defer") == 0);
}

/* ck_unknown_helo - reject_unknown_helo_hostname */
int
ck_unknown_helo(struct ck_ctx *c, const char *helo, const char *name,
    const char *class)
{
	struct buf why = BUF_INIT;
	char test[300];
	size_t len;
	int s;

	if (helo[0] == '[')
		return ck_invalid_hostaddr(c, helo, class);
	strlcpy_trunc(test, helo, sizeof(test));
	len = strlen(test);
	if (len > 1 && test[len - 1] == '.')
		test[len - 1] = 0;
	s = ck_valid_hostname(test) ? ck_dns->host(test, &why) :
	    CK_DNS_NOTFOUND;
	buf_free(&why);
	if (s == CK_DNS_OK)
		return CK_DUNNO;
	if (s == CK_DNS_RETRY)
		return ck_defer_if_permit(c, ck_act(smtpd_cfg.
		    unknown_helo_hostname_tempfail_action, smtpd_cfg.
		    reject_tempfail_action), class, 450, "4.7.1",
		    "<%s>: %s rejected: Host not found", name, class);
	return ck_reject(c, class, ck_code(smtpd_cfg.
	    unknown_hostname_reject_code, 450), "4.7.1",
	    "<%s>: %s rejected: Host not found", name, class);
}

/*
 * ck_unknown_address - reject_unknown_sender_domain and
 * reject_unknown_recipient_domain: only for domains this server is not
 * the final destination of.
 */
int
ck_unknown_address(struct ck_ctx *c, const char *addr, const char *name,
    const char *class)
{
	struct resolve_reply rr;
	struct buf why = BUF_INIT;
	const char *dom;
	const char *dsn;
	int s, status = CK_DUNNO;
	int sender = strcmp(class, CK_CLASS_SENDER) == 0;

	resolve_reply_init(&rr);
	if (ck_resolve(c, addr, &rr) < 0) {
		resolve_reply_free(&rr);
		return CK_REJECT;
	}
	if (rr.flags & (RESOLVE_CLASS_LOCAL | RESOLVE_CLASS_ALIAS |
	    RESOLVE_CLASS_VIRTUAL))
		goto out;
	dom = addr_domain(buf_str(&rr.recipient));
	if (*dom == 0 || *dom == '[')
		goto out;
	dsn = sender ? "4.1.8" : "4.1.2";
	s = ck_dns->mailhost(dom, &why);
	if (s == CK_DNS_NULLMX)
		status = sender ? ck_reject(c, class, 550, "5.7.27",
		    "<%s>: %s rejected: Domain %s does not accept mail "
		    "(nullMX)", name, class, dom) : ck_reject(c, class, 556,
		    "5.1.10", "<%s>: %s rejected: Domain %s does not accept "
		    "mail (nullMX)", name, class, dom);
	else if (s == CK_DNS_NOTFOUND)
		status = ck_reject(c, class, ck_code(smtpd_cfg.
		    unknown_address_reject_code, 450), dsn,
		    "<%s>: %s rejected: Domain not found", name, class);
	else if (s == CK_DNS_RETRY)
		status = ck_defer_if_permit(c, ck_act(smtpd_cfg.
		    unknown_address_tempfail_action, smtpd_cfg.
		    reject_tempfail_action), class, 450, dsn,
		    "<%s>: %s rejected: Domain not found", name, class);
out:
	resolve_reply_free(&rr);
	buf_free(&why);
	return status;
}

/*
 * ck_rbl_addr_query - the DNS list query for an address: reversed
 * octets (IPv4) or nibbles (IPv6), then the zone.  -1 if addr is not an
 * IP address.
 */
int
ck_rbl_addr_query(const char *addr, const char *zone, struct buf *out)
{
	struct match_net a;
	static const unsigned char mapped[12] = {
		0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff
	};
	int i;

	buf_reset(out);
	if (match_addr_parse(addr, &a) < 0)
		return -1;
	if (a.family == 6 && memcmp(a.addr, mapped, 12) == 0) {
		memmove(a.addr, a.addr + 12, 4);
		a.family = 4;
	}
	if (a.family == 4) {
		buf_printf(out, "%u.%u.%u.%u.%s", a.addr[3], a.addr[2],
		    a.addr[1], a.addr[0], zone);
		return 0;
	}
	for (i = 15; i >= 0; i--)
		buf_printf(out, "%x.%x.", a.addr[i] & 0xf, a.addr[i] >> 4);
	buf_puts(out, zone);
	return 0;
}

/* ck_rbl_part - does number n match one filter part ("7" or "[1;3..5]")? */
static int
ck_rbl_part(const char *part, size_t len, long n)
{
	char tmp[128], *cp, *tok;
	int hit = 0;

	if (len == 0 || len >= sizeof(tmp))
		return 0;
	memcpy(tmp, part, len);
	tmp[len] = 0;
	if (tmp[0] != '[') {
		long v;

		return parse_long(tmp, &v) == 0 && v == n;
	}
	if (len < 3 || tmp[len - 1] != ']')
		return 0;
	tmp[len - 1] = 0;
	cp = tmp + 1;
	while (!hit && (tok = str_token(&cp, ";")) != NULL) {
		char *dots = strstr(tok, "..");
		long lo, hi;

		if (dots) {
			*dots = 0;
			if (parse_long(tok, &lo) == 0 &&
			    parse_long(dots + 2, &hi) == 0)
				hit = n >= lo && n <= hi;
		} else if (parse_long(tok, &lo) == 0) {
			hit = n == lo;
		}
	}
	return hit;
}

/*
 * ck_rbl_match - does an A record (dotted quad) match a filter
 * "d.d.d.d" whose parts are numbers or "[n;n..m]" sets?
 */
int
ck_rbl_match(const char *pattern, const char *addr)
{
	const char *p = pattern;
	unsigned char a[4];
	int i;

	if (inet_pton(AF_INET, addr, a) != 1)
		return 0;
	for (i = 0; i < 4; i++) {
		const char *end;

		if (*p == '[') {
			end = strchr(p, ']');
			if (end == NULL)
				return 0;
			end++;
		} else {
			end = p + strcspn(p, ".");
		}
		if (!ck_rbl_part(p, (size_t)(end - p), a[i]))
			return 0;
		if (i < 3) {
			if (*end != '.')
				return 0;
			p = end + 1;
		} else if (*end != 0) {
			return 0;
		}
	}
	return 1;
}

/* ck_rbl_var - value of name in a NULL-terminated name/value list */
static const char *
ck_rbl_var(const char *const *vars, const char *name, size_t len)
{
	size_t i;

	for (i = 0; vars[i]; i += 2)
		if (strlen(vars[i]) == len && strncmp(vars[i], name, len) == 0)
			return vars[i + 1] ? vars[i + 1] : "";
	return NULL;
}

/*
 * ck_rbl_expand_depth - expand $name, ${name}, ${name?text},
 * ${name:text} and $$ in a reply template.
 */
static void
ck_rbl_expand_depth(const char *t, size_t tlen, const char *const *vars,
    struct buf *out, int depth)
{
	size_t i = 0;

	while (i < tlen) {
		if (t[i] != '$' || depth > 5 || out->len > 4 * CK_REPLY_MAX) {
			buf_putc(out, t[i++]);
			continue;
		}
		i++;
		if (i < tlen && t[i] == '$') {
			buf_putc(out, '$');
			i++;
		} else if (i < tlen && (t[i] == '{' || t[i] == '(')) {
			char close = t[i] == '{' ? '}' : ')';
			size_t start = ++i, nl, end;
			int level = 1;
			const char *v;

			for (end = i; end < tlen; end++) {
				if (t[end] == t[start - 1])
					level++;
				else if (t[end] == close && --level == 0)
					break;
			}
			if (end >= tlen)
				return;		/* unbalanced: stop */
			for (nl = start; nl < end && (isalnum((unsigned char)
			    t[nl]) || t[nl] == '_'); nl++)
				;
			v = ck_rbl_var(vars, t + start, nl - start);
			if (nl < end && t[nl] == '?') {
				if (v && *v)
					ck_rbl_expand_depth(t + nl + 1,
					    end - nl - 1, vars, out, depth + 1);
			} else if (nl < end && t[nl] == ':') {
				if (v == NULL || *v == 0)
					ck_rbl_expand_depth(t + nl + 1,
					    end - nl - 1, vars, out, depth + 1);
			} else if (v) {
				buf_puts(out, v);
			}
			i = end + 1;
		} else {
			size_t start = i;
			const char *v;

			while (i < tlen && (isalnum((unsigned char)t[i]) ||
			    t[i] == '_'))
				i++;
			if ((v = ck_rbl_var(vars, t + start, i - start)))
				buf_puts(out, v);
		}
	}
}

/* ck_rbl_expand - expand a DNS list reply template */
void
ck_rbl_expand(const char *tmpl, const char *const *vars, struct buf *out)
{
	buf_reset(out);
	buf_puts(out, "");
	ck_rbl_expand_depth(tmpl, strlen(tmpl), vars, out, 0);
}

/* ck_censor - printable ASCII only, bounded */
static void
ck_censor(struct buf *b)
{
	size_t i;

	if (b->len > 255)
		buf_truncate(b, 255);
	for (i = 0; i < b->len; i++)
		if ((unsigned char)b->p[i] < 0x20 ||
		    (unsigned char)b->p[i] >= 0x7f)
			b->p[i] = '_';
}

/*
 * ck_rbl - the DNS list restrictions.  kind: 'a' client address
 * (reject_rbl_client), 'c' client name, 'r' reverse client name, 's'
 * sender domain, 't' recipient domain, 'h' HELO name.  spec is
 * "zone" or "zone=d.d.d.d".
 */
int
ck_rbl(struct ck_ctx *c, int kind, const char *spec)
{
	struct smtpd_state *st = c->st;
	struct buf query = BUF_INIT, why = BUF_INIT, txt = BUF_INIT;
	struct buf reply = BUF_INIT;
	struct argv a;
	char zone[256], filter[128] = "", code[8];
	const char *eq = strchr(spec, '='), *what = NULL, *class;
	const char *rest;
	size_t i;
	int listed = 0, status = CK_DUNNO;

	if (eq) {
		strlcpy_trunc(filter, eq + 1, sizeof(filter));
		snprintf(zone, sizeof(zone), "%.*s", (int)(eq - spec), spec);
	} else {
		strlcpy_trunc(zone, spec, sizeof(zone));
	}
	switch (kind) {
	case 'a':
		class = CK_CLASS_CLIENT;
		what = st->client_addr;
		if (ck_rbl_addr_query(what, zone, &query) < 0)
			goto out;
		break;
	case 'c':
	case 'r':
		class = kind == 'c' ? CK_CLASS_CLIENT : CK_CLASS_REVERSE;
		what = kind == 'c' ? st->client_name : st->reverse_name;
		if (*what == 0 || strcasecmp(what, "unknown") == 0)
			goto out;
		buf_printf(&query, "%s.%s", what, zone);
		break;
	case 's':
	case 't':
		class = kind == 's' ? CK_CLASS_SENDER : CK_CLASS_RCPT;
		what = kind == 's' ? st->sender : st->recipient;
		if (what == NULL || *(what = addr_domain(what)) == 0 ||
		    *what == '[')
			goto out;
		buf_printf(&query, "%s.%s", what, zone);
		break;
	default:
		class = CK_CLASS_HELO;
		what = st->helo_name;
		if (what == NULL || *what == '[' || *what == 0)
			goto out;
		buf_printf(&query, "%s.%s", what, zone);
		break;
	}
	if (query.len > 253)
		goto out;
	argv_init(&a);
	if (ck_dns->a_records(buf_str(&query), &a, &why) == CK_DNS_OK) {
		for (i = 0; i < a.n && !listed; i++)
			listed = filter[0] == 0 || ck_rbl_match(filter,
			    a.v[i]);
	}
	argv_clear(&a);
	if (!listed)
		goto out;
	(void)ck_dns->txt(buf_str(&query), &txt, &why);
	ck_censor(&txt);
	snprintf(code, sizeof(code), "%d", ck_code(smtpd_cfg.
	    maps_rbl_reject_code, 554));
	{
		const char *vars[] = {
			"rbl_code", code, "rbl_domain", zone,
			"rbl_reason", buf_str(&txt), "rbl_txt", buf_str(&txt),
			"rbl_class", class, "rbl_what", what,
			"client_address", st->client_addr,
			"client_name", st->client_name,
			"reverse_client_name", st->reverse_name,
			"helo_name", st->helo_name ? st->helo_name : "",
			"sender", st->sender ? st->sender : "",
			"recipient", st->recipient ? st->recipient : "",
			NULL
		};

		ck_rbl_expand(smtpd_cfg.default_rbl_reply &&
		    *smtpd_cfg.default_rbl_reply ? smtpd_cfg.default_rbl_reply :
		    "$rbl_code Service unavailable; $rbl_class [$rbl_what] "
		    "blocked using $rbl_domain${rbl_reason?; $rbl_reason}",
		    vars, &reply);
	}
	/* "CODE [D.D.D] text": the code must be 4xx or 5xx. */
	rest = buf_str(&reply);
	if (reply.len >= 4 && (rest[0] == '4' || rest[0] == '5') &&
	    isdigit((unsigned char)rest[1]) &&
	    isdigit((unsigned char)rest[2]) && rest[3] == ' ') {
		int n = (rest[0] - '0') * 100 + (rest[1] - '0') * 10 +
		    (rest[2] - '0');
		char dsn[16];

		rest = ck_dsn_split(rest + 4, n / 100 == 4 ? "4.7.1" :
		    "5.7.1", dsn, sizeof(dsn));
		status = ck_reject(c, class, n, dsn, "%s", *rest ? rest :
		    "Service unavailable");
	} else {
		log_warn("default_rbl_reply: expansion \"%s\" does not start "
		    "with a 4xx or 5xx code", buf_str(&reply));
		status = ck_server_error(c, NULL);
	}
out:
	buf_free(&query);
	buf_free(&why);
	buf_free(&txt);
	buf_free(&reply);
	return status;
}
