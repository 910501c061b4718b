/*
 * NAME		addr_find - look an address up in a table, Postfix's way
 * DESCRIPTION	See addr_find.h.  The keys after the first are partial
 *		keys: tables that match whole keys by pattern (regexp:,
 *		pcre:, cidr:, socketmap:) see only the full address, as in
 *		Postfix.
 * SECURITY	Keys are built from a bounded address (QFILE_ADDR_MAX at
 *		the callers); values are parsed by the bounded RFC 5322
 *		address-list parser.
 * SEE ALSO	doc/addressing.md
 */
#include <string.h>

#include "mail/addr.h"
#include "mail/mail_conf.h"
#include "util/log.h"
#include "util/strutil.h"
#include "addr_find.h"
#include "dict.h"
#include "match.h"

static struct match_list *af_mydest;

/* addr_find_init - compile $mydestination (before the jail) */
void
addr_find_init(void)
{
	if (af_mydest == NULL)
		af_mydest = match_list_new("mydestination",
		    mail_cfg.mydestination);
}

/*
 * addr_is_local_domain - is domain $myorigin or in $mydestination?  1
 * yes, 0 no, -1 when the list cannot be read.
 */
int
addr_is_local_domain(const char *domain, struct buf *why)
{
	if (*domain == 0)
		return 1;
	if (mail_cfg.myorigin && strcasecmp(domain, mail_cfg.myorigin) == 0)
		return 1;
	addr_find_init();
	return match_list_domain(af_mydest, domain, why);
}

/* af_try - one key; fixed: a partial key (pattern tables skip it) */
static int
af_try(struct maps *m, const char *key, int partial, struct buf *value,
    struct buf *why)
{
	return partial ? maps_find_partial(m, key, value, why) :
	    maps_find(m, key, value, why);
}

/*
 * addr_find - search m for addr (internal form) with the keys of
 * addr_find.h: DICT_FOUND with value and what matched in f (may be NULL),
 * DICT_NOTFOUND, or DICT_ERROR with a reason.
 */
int
addr_find(struct maps *m, const char *addr, int flags, struct buf *value,
    struct addr_found *f, struct buf *why)
{
	struct buf ext_addr = BUF_INIT, user = BUF_INIT, ext = BUF_INIT,
	    domain = BUF_INIT, key = BUF_INIT, quoted = BUF_INIT;
	const char *at;
	char delim = 0;
	int r, unmatched = 0, local;

	if (m == NULL)
		return DICT_NOTFOUND;
	/* The external form of the address, and its parts. */
	addr_quote(addr, &quoted);
	at = strrchr(buf_str(&quoted), '@');
	buf_set(&ext_addr, quoted.p, at ? (size_t)(at - quoted.p) :
	    quoted.len);
	addr_split_ext(buf_str(&quoted), mail_cfg.recipient_delimiter, &user,
	    &ext, &domain);
	if (ext.len || (user.len < ext_addr.len))
		delim = ext_addr.p[user.len];

	/* user+ext@domain, then user@domain. */
	r = af_try(m, buf_str(&quoted), 0, value, why);
	if (r == DICT_NOTFOUND && delim) {
		buf_printf(&key, "%s%s%s", buf_str(&user), at ? "@" : "",
		    buf_str(&domain));
		r = af_try(m, key.p, 1, value, why);
		unmatched = r == DICT_FOUND;
	}
	/* user+ext, then user, for local domains. */
	if (r == DICT_NOTFOUND && (flags & (ADDR_FIND_BARE_USER |
	    ADDR_FIND_LOCAL_USER)) && at) {
		local = (flags & ADDR_FIND_LOCAL_USER) ? 1 :
		    addr_is_local_domain(buf_str(&domain), why);
		if (local < 0) {
			r = DICT_ERROR;
		} else if (local) {
			r = af_try(m, buf_str(&ext_addr), 1, value, why);
			if (r == DICT_NOTFOUND && delim) {
				r = af_try(m, buf_str(&user), 1, value, why);
				unmatched = r == DICT_FOUND;
			}
		}
	}
	/* @domain. */
	if (r == DICT_NOTFOUND && at && domain.len) {
		buf_reset(&key);
		buf_printf(&key, "@%s", buf_str(&domain));
		r = af_try(m, key.p, 1, value, why);
	}
	if (r == DICT_FOUND && f) {
		const char *a = strrchr(addr, '@');

		f->delim = delim;
		buf_set(&f->ext, ext.p, ext.len);
		/* Internal form: results are internal addresses too. */
		buf_set(&f->local, addr, a ? (size_t)(a - addr) : strlen(addr));
		f->unmatched_ext = unmatched;
	}
	buf_free(&ext_addr);
	buf_free(&user);
	buf_free(&ext);
	buf_free(&domain);
	buf_free(&key);
	buf_free(&quoted);
	return r;
}

/* af_add_ext - "joe@x" with the extension: "joe+ext@x" */
static void
af_add_ext(struct argv *out, const char *a, const struct addr_found *f)
{
	const char *at = strrchr(a, '@');
	size_t llen = at ? (size_t)(at - a) : strlen(a);

	argv_addf(out, "%.*s%c%s%s", (int)llen, a, f->delim, buf_str(
	    (struct buf *)&f->ext), at ? at : "");
}

/*
 * addr_find_map - the addresses of a found value (see addr_find.h),
 * appended to out in internal form.  0, or -1 when the value is not an
 * address list.
 */
int
addr_find_map(const char *value, const struct addr_found *f, int propagate,
    struct argv *out, struct buf *why)
{
	static const struct addr_limits lim = ADDR_LIMITS_DEFAULT;
	struct addr_list list;
	size_t i;

	if (addr_parse_list(value, strlen(value), &lim, &list, why) < 0)
		return -1;
	for (i = 0; i < list.n; i++) {
		const char *a = list.v[i].addr;

		if (*a == '@' && a[1]) {
			/* "@domain": the original local part there. */
			argv_addf(out, "%s%s", buf_str((struct buf *)&f->local),
			    a);
		} else if (*a && propagate && f->unmatched_ext && f->delim) {
			af_add_ext(out, a, f);
		} else if (*a) {
			argv_add(out, a);
		}
	}
	addr_list_free(&list);
	return 0;
}

/* addr_found_free - release what addr_find() filled in */
void
addr_found_free(struct addr_found *f)
{
	buf_free(&f->ext);
	buf_free(&f->local);
}
