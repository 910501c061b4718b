/*
 * NAME		resolve - where mail for an address goes
 * DESCRIPTION	The address class decides the transport, as in Postfix:
 *
 *		local	the domain is listed in mydestination (or there is no
 *			domain): local_transport, next hop its ":nexthop" part
 *			or $myhostname.  "user%domain@local" and
 *			"user@domain@local" are routed addresses: the local
 *			domain is stripped and the rest resolved again.
 *		relay	the domain is listed in relay_domains:
 *			relay_transport, next hop $relayhost or the domain.
 *		default	anything else: default_transport, next hop
 *			$relayhost or the domain.
 *
 *		A transport written "transport:nexthop" sets the next hop
 *		explicitly.  When a domain list cannot be read the answer
 *		carries RESOLVE_FLAG_ERROR: the caller defers.
 * SECURITY	Routing recursion is bounded.
 */
#include <string.h>

#include "dict/match.h"
#include "mail/mail_conf.h"
#include "util/log.h"
#include "util/strutil.h"
#include "trivial-rewrite.h"

static struct match_list *tr_mydest;
static struct match_list *tr_relay;

/* tr_init - compile the domain lists (called before the jail) */
void
tr_init(void)
{
	tr_mydest = match_list_new("mydestination", mail_cfg.mydestination);
	tr_relay = match_list_new_flags("relay_domains", tr_cfg.relay_domains,
	    match_parent_style(mail_cfg.parent_domain_matches_subdomains,
	    "relay_domains") ? MATCH_FLAG_PARENT : 0);
}

/* tr_transport - split "transport:nexthop" */
static void
tr_transport(const char *spec, const char *def_nexthop,
    struct resolve_reply *r)
{
	const char *colon = strchr(spec, ':');

	if (colon) {
		buf_set(&r->transport, spec, (size_t)(colon - spec));
		buf_sets(&r->nexthop, colon[1] ? colon + 1 : def_nexthop);
	} else {
		buf_sets(&r->transport, spec);
		buf_sets(&r->nexthop, def_nexthop);
	}
}

/* tr_resolve_depth - the resolver with a routing depth */
static int
tr_resolve_depth(const char *addr, struct resolve_reply *r,
    struct buf *why, int depth)
{
	struct buf canon = BUF_INIT, dom = BUF_INIT;
	const char *at;
	int m, rc = 0;

	r->flags = 0;
	tr_rewrite("local", addr, &canon);
	if (canon.len == 0)
		buf_sets(&canon, mail_cfg.empty_address_recipient);
	at = strrchr(canon.p, '@');
	if (at)
		buf_sets(&dom, at + 1);
	str_lower(dom.p ? dom.p : (char *)buf_str(&dom));

	if (at == NULL || dom.len == 0) {
		m = 1;
	} else if ((m = match_list_domain(tr_mydest, dom.p, why)) < 0) {
		r->flags |= RESOLVE_FLAG_ERROR;
		tr_transport(tr_cfg.default_transport, "", r);
		buf_sets(&r->recipient, canon.p);
		goto out;
	}
	if (m) {
		size_t llen = at ? (size_t)(at - canon.p) : canon.len;
		const char *pct = NULL, *inner_at = NULL;
		size_t i;

		/* Routed forms inside a local address. */
		for (i = 0; i < llen; i++) {
			if (canon.p[i] == '@')
				inner_at = canon.p + i;
			else if (canon.p[i] == '%')
				pct = canon.p + i;
		}
		if ((inner_at || (pct && tr_cfg.allow_percent_hack)) &&
		    depth < 10) {
			struct buf inner = BUF_INIT;

			buf_put(&inner, canon.p, llen);
			if (!inner_at && pct)
				inner.p[pct - canon.p] = '@';
			rc = tr_resolve_depth(inner.p, r, why, depth + 1);
			r->flags |= RESOLVE_FLAG_ROUTED;
			buf_free(&inner);
			goto out;
		}
		r->flags |= RESOLVE_CLASS_LOCAL;
		tr_transport(tr_cfg.local_transport, mail_cfg.myhostname, r);
		if (at == NULL) {
			buf_putc(&canon, '@');
			buf_puts(&canon, mail_cfg.myhostname);
		}
		buf_sets(&r->recipient, canon.p);
		goto out;
	}
	buf_sets(&r->recipient, canon.p);
	if ((m = match_list_domain(tr_relay, dom.p, why)) < 0) {
		r->flags |= RESOLVE_FLAG_ERROR;
		tr_transport(tr_cfg.default_transport, dom.p, r);
		goto out;
	}
	if (m) {
		r->flags |= RESOLVE_CLASS_RELAY;
		tr_transport(tr_cfg.relay_transport, *tr_cfg.relayhost ?
		    tr_cfg.relayhost : dom.p, r);
	} else {
		r->flags |= RESOLVE_CLASS_DEFAULT;
		tr_transport(tr_cfg.default_transport, *tr_cfg.relayhost ?
		    tr_cfg.relayhost : dom.p, r);
	}
out:
	buf_free(&canon);
	buf_free(&dom);
	return rc;
}

/* tr_resolve - resolve addr for sender; 0 or -1 */
int
tr_resolve(const char *sender, const char *addr, struct resolve_reply *r,
    struct buf *why)
{
	(void)sender;
	return tr_resolve_depth(addr, r, why, 0);
}
