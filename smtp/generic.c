/*
 * NAME		generic - smtp_generic_maps: addresses as they leave the host
 * DESCRIPTION	With smtp_generic_maps (lmtp_generic_maps for LMTP) set,
 *		the envelope sender, each envelope recipient and the
 *		addresses in the message's address headers are replaced
 *		by their generic(5) mapping as the message is sent; the
 *		queue file and the log keep the original addresses.  Keys
 *		and extensions as for canonical maps (lib/dict/addr_find:
 *		address, address without extension, bare user in a local
 *		domain, @domain); "generic" in propagate_unmatched_extensions
 *		keeps an extension the table did not match.  One lookup per
 *		address, no recursion, the first address of a multi-valued
 *		result (as Postfix).
 *
 *		Only the primary header section is rewritten (not the
 *		headers of attached messages).  A lookup that fails before
 *		the transaction starts defers the message; one that fails
 *		while headers are sent abandons the transaction before the
 *		final dot (the server discards it) and defers the message.
 * SECURITY	A logical header longer than SMTP_HDR_MAX is sent as it is.
 * SEE ALSO	generic(5), doc/smtp.md, doc/addressing.md
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "dict/addr_find.h"
#include "dict/dict.h"
#include "mail/addr.h"
#include "mail/mail_conf.h"
#include "util/argv.h"
#include "util/log.h"
#include "util/strutil.h"
#include "smtp.h"

#define SMTP_HDR_MAX	(1024 * 1024)	/* logical header rewritten */

static struct maps *smtp_generic;
static int smtp_generic_prop;

/* smtp_generic_init - open the tables (before the jail) */
void
smtp_generic_init(void)
{
	struct argv *prop;

	if (*smtp_cfg.generic_maps == 0)
		return;
	addr_find_init();
	smtp_generic = maps_open(smtp_cfg.lmtp ? "lmtp_generic_maps" :
	    "smtp_generic_maps", smtp_cfg.generic_maps, DICT_FLAG_FOLD_FIX);
	prop = argv_split(mail_cfg.propagate_unmatched_extensions, SEPARATORS);
	smtp_generic_prop = argv_find(prop, "generic") >= 0;
	argv_free(prop);
}

/* smtp_generic_on - are generic maps in use? */
int
smtp_generic_on(void)
{
	return smtp_generic != NULL;
}

/*
 * smtp_generic_addr - the generic mapping of addr into out: 1 mapped, 0
 * not (out is addr), -1 when the table cannot answer (why says so).
 */
int
smtp_generic_addr(const char *addr, struct buf *out, struct buf *why)
{
	struct addr_found f = ADDR_FOUND_INIT;
	struct buf value = BUF_INIT, bad = BUF_INIT;
	struct argv res = { NULL, 0, 0 };
	int r;

	buf_sets(out, addr);
	if (smtp_generic == NULL || *addr == 0)
		return 0;
	r = addr_find(smtp_generic, addr, ADDR_FIND_BARE_USER, &value, &f,
	    why);
	if (r == DICT_FOUND) {
		if (addr_find_map(buf_str(&value), &f, smtp_generic_prop, &res,
		    &bad) < 0 || res.n == 0) {
			log_warn("%s: bad result \"%.100s\" for %s -- ignored",
			    maps_title(smtp_generic), buf_str(&value), addr);
			r = DICT_NOTFOUND;
		} else {
			if (res.n > 1)
				log_warn("multi-valued %s entry for %s",
				    maps_title(smtp_generic), addr);
			buf_sets(out, res.v[0]);
		}
	}
	argv_clear(&res);
	addr_found_free(&f);
	buf_free(&value);
	buf_free(&bad);
	return r == DICT_FOUND ? 1 : r == DICT_ERROR ? -1 : 0;
}

/* smtp_generic_fn - addr_list_rewrite() callback; ctx is a reason buffer */
static int
smtp_generic_fn(const char *addr, struct buf *out, void *ctx)
{
	return smtp_generic_addr(addr, out, ctx);
}

/* smtp_hdr_init - a message's header filter */
void
smtp_hdr_init(struct smtp_hdr *h)
{
	h->in_headers = smtp_generic != NULL;
	buf_init(&h->hdr);
}

/* smtp_hdr_free - release the header filter */
void
smtp_hdr_free(struct smtp_hdr *h)
{
	buf_free(&h->hdr);
}

/* smtp_hdr_put - a logical header (lines joined by '\n') on the wire */
static void
smtp_hdr_put(const char *p, size_t len, size_t limit, struct buf *out)
{
	const char *end = p + len;

	for (;;) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));

		smtp_data_line(p, nl ? (size_t)(nl - p) : (size_t)(end - p),
		    limit, out);
		if (nl == NULL)
			break;
		p = nl + 1;
	}
}

/* smtp_hdr_flush - rewrite and send the pending logical header */
static int
smtp_hdr_flush(struct smtp_hdr *h, size_t limit, struct buf *out,
    struct buf *why)
{
	char name[64];
	size_t i;
	int r = 0;

	if (h->hdr.len == 0)
		return 0;
	for (i = 0; i < h->hdr.len && i < sizeof(name) - 1; i++) {
		unsigned char c = (unsigned char)h->hdr.p[i];

		if (c == ':' || c <= ' ' || c >= 0x7f)
			break;
		name[i] = (char)tolower(c);
	}
	name[i] = 0;
	if (i < h->hdr.len && h->hdr.p[i] == ':' &&
	    addr_header_kind(name) != 0) {
		struct buf v = BUF_INIT;

		r = addr_list_rewrite(h->hdr.p + i + 1, h->hdr.len - i - 1,
		    smtp_generic_fn, why, &v);
		if (r == 1) {
			buf_truncate(&h->hdr, i + 1);
			buf_put(&h->hdr, v.p, v.len);
		}
		buf_free(&v);
	}
	if (r >= 0)
		smtp_hdr_put(h->hdr.p, h->hdr.len, limit, out);
	buf_reset(&h->hdr);
	return r < 0 ? -1 : 0;
}

/*
 * smtp_hdr_line - one content line through the filter: what goes on the
 * wire is appended to out.  0, or -1 when a table failed (why says so).
 */
int
smtp_hdr_line(struct smtp_hdr *h, const char *line, size_t len,
    size_t limit, struct buf *out, struct buf *why)
{
	if (!h->in_headers) {
		smtp_data_line(line, len, limit, out);
		return 0;
	}
	if (len > 0 && (line[0] == ' ' || line[0] == '\t') && h->hdr.len &&
	    h->hdr.len + len < SMTP_HDR_MAX) {
		buf_putc(&h->hdr, '\n');
		buf_put(&h->hdr, line, len);
		return 0;
	}
	if (smtp_hdr_flush(h, limit, out, why) < 0)
		return -1;
	if (len == 0 || len >= SMTP_HDR_MAX ||
	    (line[0] == ' ' || line[0] == '\t')) {
		/* The body, or a header too long to rewrite. */
		if (len == 0)
			h->in_headers = 0;
		smtp_data_line(line, len, limit, out);
		return 0;
	}
	buf_set(&h->hdr, line, len);
	return 0;
}

/* smtp_hdr_end - the content ended: send what is pending */
int
smtp_hdr_end(struct smtp_hdr *h, size_t limit, struct buf *out,
    struct buf *why)
{
	h->in_headers = 0;
	return smtp_hdr_flush(h, limit, out, why);
}
