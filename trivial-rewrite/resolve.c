/*
 * NAME		resolve - where mail for an address goes
 * DESCRIPTION	The address class decides the transport, as in Postfix:
 *
 *		local	the domain is listed in mydestination (or there is no
 *			domain): local_transport, next hop its ":nexthop" part
 *			or $myhostname.  "user%domain@local" and
 *			"user@domain@local" are routed addresses: the local
 *			domain is stripped and the rest resolved again.
 *		virtual alias
 *			the domain is listed in virtual_alias_domains: an
 *			address of such a domain has no mailbox of its own,
 *			and cleanup(8) has replaced every address that
 *			virtual_alias_maps knows.  What is left resolves to
 *			the error transport: it bounces with "5.1.1 User
 *			unknown in virtual alias table".
 *		virtual mailbox
 *			the domain is listed in virtual_mailbox_domains:
 *			virtual_transport, next hop the domain.
 *		relay	the domain is listed in relay_domains:
 *			relay_transport, next hop $relayhost or the domain.
 *		default	anything else: default_transport, next hop
 *			$relayhost or the domain.
 *
 *		The classes are tried in this order, as in Postfix: local,
 *		virtual alias, virtual mailbox, relay, default.
 *		A transport written "transport:nexthop" sets the next hop
 *		explicitly.  When a domain list cannot be read the answer
 *		carries RESOLVE_FLAG_ERROR: the caller defers.
 *
 *		transport_maps (transport(5)) then override the choice for
 *		the final recipient.  Keys, first match wins: the address,
 *		the address without its extension (recipient_delimiter),
 *		the domain, each parent domain as ".parent" (or "parent"
 *		when parent_domain_matches_subdomains lists transport_maps),
 *		and "*".  The value "transport:nexthop": an empty transport
 *		keeps the class's transport, an empty nexthop (with a
 *		transport) means the recipient domain, both empty change
 *		nothing; "error:text" bounces with that text.  A table that
 *		cannot be read defers.
 * SECURITY	Routing recursion is bounded.
 */
#include <string.h>

#include "dict/addr_find.h"
#include "dict/dict.h"
#include "dict/match.h"
#include "mail/addr.h"
#include "mail/mail_conf.h"
#include "util/log.h"
#include "util/strutil.h"
#include "trivial-rewrite.h"

static struct match_list *tr_mydest;
static struct match_list *tr_relay;
static struct match_list *tr_valias;
static struct match_list *tr_vmailbox;
static struct maps *tr_transport_maps;
static struct maps *tr_relocated_maps;
static int tr_transport_parent;		/* "parent" instead of ".parent" */

/* tr_init - compile the domain lists (called before the jail) */
void
tr_init(void)
{
	tr_mydest = match_list_new("mydestination", mail_cfg.mydestination);
	tr_relay = match_list_new_flags("relay_domains", tr_cfg.relay_domains,
	    match_parent_style(mail_cfg.parent_domain_matches_subdomains,
	    "relay_domains") ? MATCH_FLAG_PARENT : 0);
	tr_valias = match_list_new("virtual_alias_domains",
	    tr_cfg.virtual_alias_domains);
	tr_vmailbox = match_list_new("virtual_mailbox_domains",
	    tr_cfg.virtual_mailbox_domains);
	if (*tr_cfg.transport_maps)
		tr_transport_maps = maps_open("transport_maps",
		    tr_cfg.transport_maps, DICT_FLAG_FOLD_FIX);
	tr_transport_parent = match_parent_style(
	    mail_cfg.parent_domain_matches_subdomains, "transport_maps");
	if (mail_cfg.relocated_maps && *mail_cfg.relocated_maps)
		tr_relocated_maps = maps_open("relocated_maps",
		    mail_cfg.relocated_maps, DICT_FLAG_FOLD_FIX);
	addr_find_init();
}

/* tr_done - release the lists and tables (tests) */
void
tr_done(void)
{
	match_list_free(tr_mydest);
	match_list_free(tr_relay);
	match_list_free(tr_valias);
	match_list_free(tr_vmailbox);
	if (tr_transport_maps)
		maps_free(tr_transport_maps);
	if (tr_relocated_maps)
		maps_free(tr_relocated_maps);
	tr_mydest = tr_relay = tr_valias = tr_vmailbox = NULL;
	tr_transport_maps = tr_relocated_maps = NULL;
}

/* tr_tables_changed - the title of a table replaced on disk, or NULL */
const char *
tr_tables_changed(void)
{
	if (tr_transport_maps && maps_changed(tr_transport_maps))
		return maps_title(tr_transport_maps);
	if (tr_relocated_maps && maps_changed(tr_relocated_maps))
		return maps_title(tr_relocated_maps);
	return NULL;
}

/* tr_transport_find - one transport_maps key */
static int
tr_transport_find(const char *key, struct buf *value, struct buf *why)
{
	return maps_find(tr_transport_maps, key, value, why);
}

/*
 * tr_transport_lookup - search transport_maps for recipient rcpt (its
 * canonical form): DICT_FOUND with the value, DICT_NOTFOUND or DICT_ERROR.
 */
static int
tr_transport_lookup(const char *rcpt, struct buf *value, struct buf *why)
{
	struct buf local = BUF_INIT, ext = BUF_INIT, dom = BUF_INIT;
	struct buf key = BUF_INIT;
	const char *d;
	int rc;

	if ((rc = tr_transport_find(rcpt, value, why)) != DICT_NOTFOUND)
		goto out;
	addr_split_ext(rcpt, mail_cfg.recipient_delimiter, &local, &ext,
	    &dom);
	if (ext.len > 0 && dom.len > 0) {
		buf_printf(&key, "%s@%s", local.p, dom.p);
		if ((rc = tr_transport_find(key.p, value, why)) !=
		    DICT_NOTFOUND)
			goto out;
	}
	if (dom.len > 0) {
		if ((rc = tr_transport_find(dom.p, value, why)) !=
		    DICT_NOTFOUND)
			goto out;
		for (d = strchr(dom.p, '.'); d && d[1]; d = strchr(d + 1,
		    '.')) {
			if ((rc = tr_transport_find(tr_transport_parent ?
			    d + 1 : d, value, why)) != DICT_NOTFOUND)
				goto out;
		}
	}
	rc = tr_transport_find("*", value, why);
out:
	buf_free(&local);
	buf_free(&ext);
	buf_free(&dom);
	buf_free(&key);
	return rc;
}

/* tr_transport_apply - a transport_maps result changes r */
static void
tr_transport_apply(const char *value, struct resolve_reply *r)
{
	const char *colon = strchr(value, ':');
	size_t tlen = colon ? (size_t)(colon - value) : strlen(value);
	const char *nexthop = colon ? colon + 1 : "";
	const char *at = strrchr(buf_str(&r->recipient), '@');

	if (tlen == 5 && strncmp(value, "error", 5) == 0) {
		/* Postfix's error transport: bounce with the text. */
		r->flags |= RESOLVE_FLAG_FAIL;
		buf_sets(&r->transport, "error");
		buf_sets(&r->nexthop, *nexthop ? nexthop : "mail for this "
		    "destination is not accepted");
		return;
	}
	if (tlen > 0) {
		buf_set(&r->transport, value, tlen);
		buf_sets(&r->nexthop, *nexthop ? nexthop : at ? at + 1 :
		    mail_cfg.myhostname);
	} else if (*nexthop) {
		buf_sets(&r->nexthop, nexthop);
	}
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
	if ((m = match_list_domain(tr_valias, dom.p, why)) < 0) {
		r->flags |= RESOLVE_FLAG_ERROR;
		tr_transport(tr_cfg.default_transport, dom.p, r);
		goto out;
	}
	if (m) {
		/* Known aliases were expanded by cleanup: this one is not. */
		r->flags |= RESOLVE_CLASS_ALIAS | RESOLVE_FLAG_FAIL;
		buf_sets(&r->transport, "error");
		buf_sets(&r->nexthop, TR_VALIAS_TEXT);
		goto out;
	}
	if ((m = match_list_domain(tr_vmailbox, dom.p, why)) < 0) {
		r->flags |= RESOLVE_FLAG_ERROR;
		tr_transport(tr_cfg.default_transport, dom.p, r);
		goto out;
	}
	if (m) {
		r->flags |= RESOLVE_CLASS_VIRTUAL;
		tr_transport(tr_cfg.virtual_transport, dom.p, r);
		goto out;
	}
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
	struct buf value = BUF_INIT;
	int rc, found;

	(void)sender;
	rc = tr_resolve_depth(addr, r, why, 0);
	if (rc == 0 && tr_relocated_maps &&
	    !(r->flags & (RESOLVE_FLAG_ERROR | RESOLVE_FLAG_FAIL))) {
		/* relocated(5): bounce mail for users who have moved. */
		found = addr_find(tr_relocated_maps, buf_str(&r->recipient),
		    (r->flags & RESOLVE_CLASS_LOCAL) ? ADDR_FIND_LOCAL_USER :
		    ADDR_FIND_BARE_USER, &value, NULL, why);
		if (found == DICT_ERROR) {
			r->flags |= RESOLVE_FLAG_ERROR;
		} else if (found == DICT_FOUND) {
			char clean[501];

			r->flags |= RESOLVE_FLAG_FAIL | RESOLVE_FLAG_RELOCATED;
			buf_sets(&r->transport, "error");
			buf_reset(&r->nexthop);
			/* The text goes into SMTP replies and DSNs. */
			buf_printf(&r->nexthop, "5.1.6 User has moved to %s",
			    str_sane(buf_str(&value), clean, sizeof(clean)));
		}
		if (found != DICT_NOTFOUND) {
			buf_free(&value);
			return rc;
		}
	}
	if (rc < 0 || tr_transport_maps == NULL ||
	    (r->flags & (RESOLVE_FLAG_ERROR | RESOLVE_FLAG_FAIL)))
		return rc;
	found = tr_transport_lookup(buf_str(&r->recipient), &value, why);
	if (found == DICT_ERROR)
		r->flags |= RESOLVE_FLAG_ERROR;
	else if (found == DICT_FOUND)
		tr_transport_apply(buf_str(&value), r);
	buf_free(&value);
	return rc;
}
