/*
 * NAME		addr_find - look an email address up in maps, Postfix style
 * DESCRIPTION	See addr_find.h for the order of the keys.  A step whose key
 *		would repeat an earlier one (no extension, no domain) is
 *		skipped.  An address without '@' is looked up as given and,
 *		with ADDR_FIND_LOCALPART, without its extension.
 * SECURITY	Keys are built from the address (bounded by the caller);
 *		dict_lookup() refuses keys longer than DICT_KEY_MAX.
 * SEE ALSO	virtual(8), smtpd(8), doc/virtual.md
 */
#include <string.h>

#include "mail/addr.h"
#include "addr_find.h"

/*
 * addr_find - DICT_FOUND with the value, DICT_NOTFOUND, or DICT_ERROR
 * with a reason.  delims: recipient_delimiter (NULL or "": none).
 */
int
addr_find(struct maps *m, const char *addr, const char *delims, int flags,
    struct buf *value, struct buf *why)
{
	struct buf user = BUF_INIT, ext = BUF_INIT, dom = BUF_INIT;
	struct buf key = BUF_INIT;
	const char *at = strrchr(addr, '@');
	size_t llen = at ? (size_t)(at - addr) : strlen(addr);
	int rc = DICT_NOTFOUND, i;

	if (m == NULL)
		return DICT_NOTFOUND;
	addr_split_ext(addr, delims, &user, &ext, &dom);
	for (i = 0; i < 5 && rc == DICT_NOTFOUND; i++) {
		buf_reset(&key);
		switch (i) {
		case 0:
			buf_puts(&key, addr);
			break;
		case 1:
			if (ext.len == 0)
				continue;
			buf_puts(&key, buf_str(&user));
			if (at)
				buf_printf(&key, "@%s", buf_str(&dom));
			break;
		case 2:
			if (!(flags & ADDR_FIND_LOCALPART) || at == NULL)
				continue;
			buf_put(&key, addr, llen);
			break;
		case 3:
			if (!(flags & ADDR_FIND_LOCALPART) || at == NULL ||
			    ext.len == 0)
				continue;
			buf_puts(&key, buf_str(&user));
			break;
		case 4:
			if (at == NULL || dom.len == 0)
				continue;
			buf_printf(&key, "@%s", buf_str(&dom));
			break;
		}
		rc = maps_find(m, buf_str(&key), value, why);
	}
	buf_free(&user);
	buf_free(&ext);
	buf_free(&dom);
	buf_free(&key);
	return rc;
}
