/*
 * NAME		rewrite - canonical address form
 * DESCRIPTION	The "local" rule (mail submitted on this host) and the
 *		"remote" rule (mail from the network) turn an address into
 *		its canonical form, in Postfix's order:
 *
 *		1. swap_bangpath: "host!user" becomes "user@host" (only for
 *		   addresses without '@').
 *		2. allow_percent_hack: "user%domain" (no '@') becomes
 *		   "user@domain"; the rightmost '%' is used.
 *		3. an address without '@' gets "@$myorigin" (local rule, if
 *		   append_at_myorigin) or "@$remote_header_rewrite_domain"
 *		   (remote rule, if that is set; otherwise it stays as is).
 *		4. a domain without '.' gets ".$mydomain" (local rule, if
 *		   append_dot_mydomain).
 *		5. a trailing '.' in the domain is removed.
 *
 *		The empty address stays empty.
 * SECURITY	Input is bounded by the IPC layer (4096 bytes); output
 *		grows by at most the length of myorigin plus mydomain.
 */
#include <string.h>

#include "mail/mail_conf.h"
#include "util/strutil.h"
#include "trivial-rewrite.h"

/* tr_rewrite - canonical form of addr under rule into out */
void
tr_rewrite(const char *rule, const char *addr, struct buf *out)
{
	int local = strcmp(rule, "remote") != 0;
	const char *at, *bang, *pct;
	struct buf tmp = BUF_INIT;

	buf_sets(out, addr);
	if (*addr == 0)
		return;
	at = strrchr(out->p, '@');
	if (at == NULL && tr_cfg.swap_bangpath &&
	    (bang = strchr(out->p, '!')) != NULL && bang > out->p &&
	    bang[1]) {
		buf_put(&tmp, bang + 1, strlen(bang + 1));
		buf_putc(&tmp, '@');
		buf_put(&tmp, out->p, (size_t)(bang - out->p));
		buf_set(out, tmp.p, tmp.len);
		at = strrchr(out->p, '@');
	}
	if (at == NULL && tr_cfg.allow_percent_hack &&
	    (pct = strrchr(out->p, '%')) != NULL && pct > out->p && pct[1]) {
		out->p[pct - out->p] = '@';
		at = strrchr(out->p, '@');
	}
	if (at == NULL) {
		const char *dom = local ? (tr_cfg.append_at_myorigin ?
		    mail_cfg.myorigin : "") : tr_cfg.remote_header_rewrite_domain;

		if (dom && *dom) {
			buf_putc(out, '@');
			buf_puts(out, dom);
		}
		at = strrchr(out->p, '@');
	}
	if (at != NULL) {
		size_t dlen = strlen(at + 1);

		if (dlen > 1 && at[dlen] == '.')
			buf_truncate(out, out->len - 1);
		at = strrchr(out->p, '@');
		if (local && tr_cfg.append_dot_mydomain && at[1] &&
		    at[1] != '[' && strchr(at + 1, '.') == NULL &&
		    *mail_cfg.mydomain) {
			buf_putc(out, '.');
			buf_puts(out, mail_cfg.mydomain);
		}
	}
	buf_free(&tmp);
}
