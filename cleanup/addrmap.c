/*
 * NAME		addrmap - cleanup's address mapping
 * DESCRIPTION	After trivial-rewrite put an address in canonical form,
 *		cleanup maps it, in Postfix's order:
 *
 *		1. sender_canonical_maps (senders) or
 *		   recipient_canonical_maps (recipients), then
 *		   canonical_maps, each for the address classes listed in
 *		   sender_canonical_classes, recipient_canonical_classes and
 *		   canonical_classes (envelope_sender, envelope_recipient,
 *		   header_sender, header_recipient).  A result is looked up
 *		   again, at most 10 times, until it maps to itself or is
 *		   not found.
 *		2. masquerade_domains for the classes in masquerade_classes,
 *		   except local parts in masquerade_exceptions.
 *		3. envelope recipients only: virtual_alias_maps, recursively:
 *		   each result address is expanded again, except an address
 *		   whose expansion includes itself; at most
 *		   virtual_alias_recursion_limit levels and
 *		   virtual_alias_expansion_limit addresses per original
 *		   recipient, and no address longer than
 *		   virtual_alias_address_length_limit.
 *
 *		Table keys and the use of recipient_delimiter follow
 *		addr_find (lib/dict); propagate_unmatched_extensions decides
 *		whether an extension the table did not match is copied to
 *		the result (canonical, virtual).  Unqualified results are
 *		qualified by trivial-rewrite.
 *
 *		A table that cannot answer, or a limit that is hit, fails
 *		the message temporarily: the client is told to try again
 *		later (smtpd answers 4xx), nothing is accepted and lost.
 * SECURITY	Expansion is bounded in depth, breadth and address length.
 *		Lookups block this cleanup process: a slow table server
 *		delays the other messages it handles (table timeouts bound
 *		that); proxy: tables share connections.
 * SEE ALSO	canonical(5), virtual(5), doc/addressing.md
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "dict/addr_find.h"
#include "dict/dict.h"
#include "dict/match.h"
#include "mail/cleanup_clnt.h"
#include "mail/mail_conf.h"
#include "mail/qfile.h"
#include "util/argv.h"
#include "util/log.h"
#include "util/mem.h"
#include "util/strutil.h"
#include "cleanup.h"

#define CL_CANON_RECURSION	10	/* as Postfix's cleanup */

static struct maps *cl_canon, *cl_send_canon, *cl_rcpt_canon, *cl_virtual;
static int cl_canon_classes, cl_send_classes, cl_rcpt_classes;
static int cl_masq_classes;
static struct argv *cl_masq_domains;
static struct match_list *cl_masq_except;
static int cl_prop_canon, cl_prop_virtual;

/* cl_classes - class names to CL_CLASS_* bits; fatal on a bad name */
static int
cl_classes(const char *param, const char *value)
{
	static const struct {
		const char *name;
		int	 bit;
	} names[] = {
		{ "envelope_sender", CL_CLASS_ENV_SENDER },
		{ "envelope_recipient", CL_CLASS_ENV_RCPT },
		{ "header_sender", CL_CLASS_HDR_SENDER },
		{ "header_recipient", CL_CLASS_HDR_RCPT },
	};
	struct argv *v = argv_split(value, SEPARATORS);
	size_t i, k;
	int bits = 0;

	for (i = 0; i < v->n; i++) {
		for (k = 0; k < sizeof(names) / sizeof(names[0]); k++)
			if (strcasecmp(v->v[i], names[k].name) == 0)
				break;
		if (k == sizeof(names) / sizeof(names[0]))
			log_fatal("bad %s value \"%s\": specify zero or more of "
			    "envelope_sender, envelope_recipient, "
			    "header_sender, header_recipient", param, v->v[i]);
		bits |= names[k].bit;
	}
	argv_free(v);
	return bits;
}

/* cl_open - a table list, or NULL when the parameter is empty */
static struct maps *
cl_open(const char *param, const char *value)
{
	return *value ? maps_open(param, value, DICT_FLAG_FOLD_FIX) : NULL;
}

/* cleanup_map_init - open the tables and lists (before the jail) */
void
cleanup_map_init(void)
{
	struct argv *prop;

	addr_find_init();
	cl_canon = cl_open("canonical_maps", cleanup_cfg.canonical_maps);
	cl_send_canon = cl_open("sender_canonical_maps",
	    cleanup_cfg.sender_canonical_maps);
	cl_rcpt_canon = cl_open("recipient_canonical_maps",
	    cleanup_cfg.recipient_canonical_maps);
	cl_virtual = cl_open("virtual_alias_maps", mail_cfg.virtual_alias_maps);
	cl_canon_classes = cl_classes("canonical_classes",
	    cleanup_cfg.canonical_classes);
	cl_send_classes = cl_classes("sender_canonical_classes",
	    cleanup_cfg.sender_canonical_classes);
	cl_rcpt_classes = cl_classes("recipient_canonical_classes",
	    cleanup_cfg.recipient_canonical_classes);
	cl_masq_classes = cl_classes("masquerade_classes",
	    cleanup_cfg.masquerade_classes);
	cl_masq_domains = argv_split(cleanup_cfg.masquerade_domains,
	    SEPARATORS);
	if (*cleanup_cfg.masquerade_exceptions)
		cl_masq_except = match_list_new("masquerade_exceptions",
		    cleanup_cfg.masquerade_exceptions);
	prop = argv_split(mail_cfg.propagate_unmatched_extensions,
	    SEPARATORS);
	cl_prop_canon = argv_find(prop, "canonical") >= 0;
	cl_prop_virtual = argv_find(prop, "virtual") >= 0;
	argv_free(prop);
}

/* cleanup_map_changed - the title of a table that changed, or NULL */
const char *
cleanup_map_changed(void)
{
	struct maps *all[] = { cl_canon, cl_send_canon, cl_rcpt_canon,
	    cl_virtual };
	size_t i;

	for (i = 0; i < sizeof(all) / sizeof(all[0]); i++)
		if (all[i] && maps_changed(all[i]))
			return maps_title(all[i]);
	return NULL;
}

/* cl_lookup_failed - a table could not answer: try again later */
static void
cl_lookup_failed(struct cleanup_state *st, struct maps *m, const char *addr,
    const char *why)
{
	log_warn("%s: %s map lookup problem for %s -- message not accepted, "
	    "try again later: %s", st->id, maps_title(m), addr, why);
	cleanup_fail(st, CLEANUP_STAT_DEFER, "%s lookup failure",
	    maps_title(m));
}

/* cl_qualify - the canonical form of an unqualified result */
static int
cl_qualify(struct cleanup_state *st, const char *a, struct buf *out)
{
	if (strchr(a, '@') != NULL) {
		buf_sets(out, a);
		return 0;
	}
	return cleanup_rewrite_rule(st, "local", a, out);
}

/*
 * cl_map11 - one canonical table: addr is replaced by its mapping until
 * it maps to itself or is not found.  0, or -1 after cleanup_fail().
 */
static int
cl_map11(struct cleanup_state *st, struct maps *m, struct buf *addr)
{
	struct buf value = BUF_INIT, why = BUF_INIT;
	struct addr_found f = ADDR_FOUND_INIT;
	struct argv res = { NULL, 0, 0 };
	int count, r, rc = 0;

	for (count = 0;; count++) {
		if (count >= CL_CANON_RECURSION) {
			log_warn("%s: unreasonable %s map nesting for %s -- "
			    "message not accepted, try again later", st->id,
			    maps_title(m), buf_str(addr));
			cleanup_fail(st, CLEANUP_STAT_DEFER, "%s nesting",
			    maps_title(m));
			rc = -1;
			break;
		}
		r = addr_find(m, buf_str(addr), ADDR_FIND_BARE_USER, &value, &f,
		    &why);
		if (r == DICT_ERROR) {
			cl_lookup_failed(st, m, buf_str(addr), buf_str(&why));
			rc = -1;
			break;
		}
		if (r == DICT_NOTFOUND)
			break;
		argv_truncate(&res, 0);
		if (addr_find_map(buf_str(&value), &f, cl_prop_canon, &res,
		    &why) < 0 || res.n == 0) {
			log_warn("%s: %s: bad result \"%.100s\" for %s -- "
			    "ignored", st->id, maps_title(m), buf_str(&value),
			    buf_str(addr));
			break;
		}
		if (res.n > 1)
			log_warn("%s: multi-valued %s entry for %s", st->id,
			    maps_title(m), buf_str(addr));
		if (strcasecmp(res.v[0], buf_str(addr)) == 0)
			break;
		if (cl_qualify(st, res.v[0], &value) < 0) {
			rc = -1;
			break;
		}
		buf_set(addr, value.p, value.len);
	}
	addr_found_free(&f);
	argv_clear(&res);
	buf_free(&value);
	buf_free(&why);
	return rc;
}

/*
 * cl_masquerade - strip the subdomain structure of addr's domain as
 * masquerade_domains says: the first entry that is the domain or one of
 * its parents decides; "!entry" keeps the address as it is.  0, or -1
 * after cleanup_fail().
 */
static int
cl_masquerade(struct cleanup_state *st, struct buf *addr)
{
	struct buf local = BUF_INIT, why = BUF_INIT;
	const char *at = strrchr(buf_str(addr), '@'), *domain;
	size_t dlen, i;
	int r, rc = 0;

	if (at == NULL || cl_masq_domains->n == 0)
		return 0;
	domain = at + 1;
	dlen = strlen(domain);
	buf_set(&local, addr->p, (size_t)(at - addr->p));
	if (cl_masq_except) {
		r = match_list_domain(cl_masq_except, buf_str(&local), &why);
		if (r < 0) {
			log_warn("%s: masquerade_exceptions lookup problem for "
			    "%s -- message not accepted, try again later: %s",
			    st->id, buf_str(addr), buf_str(&why));
			cleanup_fail(st, CLEANUP_STAT_DEFER, "masquerade_"
			    "exceptions lookup failure");
			rc = -1;
		}
		if (r != 0)
			goto out;
	}
	for (i = 0; i < cl_masq_domains->n; i++) {
		const char *name = cl_masq_domains->v[i];
		int keep = *name == '!';
		size_t nlen;

		name += keep;
		if ((nlen = strlen(name)) == 0 || nlen > dlen)
			continue;
		if (nlen == dlen) {
			if (strcasecmp(name, domain) == 0)
				break;
			continue;
		}
		if (domain[dlen - nlen - 1] != '.' ||
		    strcasecmp(domain + dlen - nlen, name) != 0)
			continue;
		if (!keep) {
			buf_putc(&local, '@');
			buf_puts(&local, name);
			buf_set(addr, local.p, local.len);
		}
		break;
	}
out:
	buf_free(&local);
	buf_free(&why);
	return rc;
}

/*
 * cleanup_map_addr - canonical mapping and masquerading of one address
 * of the given class, in place.  0, or -1 after cleanup_fail().
 */
int
cleanup_map_addr(struct cleanup_state *st, int class, struct buf *addr)
{
	if (addr->len == 0)
		return 0;
	if ((class & (CL_CLASS_ENV_SENDER | CL_CLASS_HDR_SENDER)) &&
	    cl_send_canon && (cl_send_classes & class) &&
	    cl_map11(st, cl_send_canon, addr) < 0)
		return -1;
	if ((class & (CL_CLASS_ENV_RCPT | CL_CLASS_HDR_RCPT)) &&
	    cl_rcpt_canon && (cl_rcpt_classes & class) &&
	    cl_map11(st, cl_rcpt_canon, addr) < 0)
		return -1;
	if (cl_canon && (cl_canon_classes & class) &&
	    cl_map11(st, cl_canon, addr) < 0)
		return -1;
	if ((cl_masq_classes & class) && cl_masquerade(st, addr) < 0)
		return -1;
	return 0;
}

/* A pending address of the virtual alias expansion. */
struct cl_pending {
	char	*addr;
	int	 depth;
};

/*
 * cleanup_map_virtual - expand addr (canonical form) through
 * virtual_alias_maps, appending the final addresses to out (addr itself
 * when it has no alias).  0, or -1 after cleanup_fail().
 */
int
cleanup_map_virtual(struct cleanup_state *st, const char *addr,
    struct argv *out)
{
	struct buf value = BUF_INIT, why = BUF_INIT, q = BUF_INIT;
	struct addr_found f = ADDR_FOUND_INIT;
	struct argv res = { NULL, 0, 0 }, selfs = { NULL, 0, 0 };
	struct cl_pending *stack;
	size_t n = 0, cap, produced = 1, i, first = out->n;
	int r, rc = 0;

	if (cl_virtual == NULL) {
		argv_add(out, addr);
		return 0;
	}
	cap = 16;
	stack = xcalloc(cap, sizeof(*stack));
	stack[n].addr = xstrdup(addr);
	stack[n++].depth = 0;
	while (n > 0 && rc == 0) {
		struct cl_pending cur = stack[--n];

		if (argv_find(&selfs, cur.addr) >= 0) {
			argv_add(out, cur.addr);
			free(cur.addr);
			continue;
		}
		r = addr_find(cl_virtual, cur.addr, ADDR_FIND_BARE_USER, &value,
		    &f, &why);
		if (r == DICT_ERROR) {
			cl_lookup_failed(st, cl_virtual, cur.addr,
			    buf_str(&why));
			rc = -1;
		} else if (r == DICT_NOTFOUND) {
			argv_add(out, cur.addr);
		} else if (cur.depth >= cleanup_cfg.virtual_alias_recursion_limit) {
			log_warn("%s: unreasonable virtual_alias_maps map "
			    "nesting for %s -- message not accepted, try again "
			    "later", st->id, addr);
			cleanup_fail(st, CLEANUP_STAT_DEFER, "virtual alias "
			    "nesting too deep");
			rc = -1;
		} else {
			argv_truncate(&res, 0);
			if (addr_find_map(buf_str(&value), &f, cl_prop_virtual,
			    &res, &why) < 0 || res.n == 0) {
				log_warn("%s: virtual_alias_maps: bad result "
				    "\"%.100s\" for %s -- message not accepted, "
				    "try again later", st->id, buf_str(&value),
				    cur.addr);
				cleanup_fail(st, CLEANUP_STAT_DEFER, "bad "
				    "virtual alias");
				rc = -1;
			}
			/* Push in reverse, so the output keeps table order. */
			for (i = res.n; i > 0 && rc == 0; i--) {
				const char *a = res.v[i - 1];

				if (strcasecmp(a, cur.addr) == 0) {
					argv_add(&selfs, cur.addr);
					a = cur.addr;
				} else if (cl_qualify(st, a, &q) < 0) {
					rc = -1;
					break;
				} else {
					a = buf_str(&q);
				}
				if (strlen(a) > (size_t)cleanup_cfg.
				    virtual_alias_address_length_limit ||
				    strlen(a) > QFILE_ADDR_MAX) {
					log_warn("%s: virtual_alias_maps: address "
					    "too long after expanding %s -- "
					    "message not accepted, try again "
					    "later", st->id, addr);
					cleanup_fail(st, CLEANUP_STAT_DEFER,
					    "virtual alias address too long");
					rc = -1;
					break;
				}
				if (++produced > (size_t)cleanup_cfg.
				    virtual_alias_expansion_limit) {
					log_warn("%s: unreasonable "
					    "virtual_alias_maps map expansion "
					    "size for %s -- message not "
					    "accepted, try again later", st->id,
					    addr);
					cleanup_fail(st, CLEANUP_STAT_DEFER,
					    "virtual alias expansion too "
					    "large");
					rc = -1;
					break;
				}
				if (n == cap) {
					cap *= 2;
					stack = xreallocarray(stack, cap,
					    sizeof(*stack));
				}
				stack[n].addr = xstrdup(a);
				stack[n++].depth = cur.depth + 1;
			}
		}
		free(cur.addr);
	}
	while (n > 0)
		free(stack[--n].addr);
	free(stack);
	if (rc < 0)
		argv_truncate(out, first);
	addr_found_free(&f);
	argv_clear(&res);
	argv_clear(&selfs);
	buf_free(&value);
	buf_free(&why);
	buf_free(&q);
	return rc;
}
