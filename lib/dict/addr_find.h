/*
 * NAME		addr_find - look an address up in a table, Postfix's way
 * DESCRIPTION	Address tables (canonical(5), virtual(5), relocated(5),
 *		generic(5), virtual_mailbox_maps) are searched for
 *		"user+ext@domain" with these keys, first match wins:
 *
 *		  user+ext@domain	the address
 *		  user@domain		without the extension
 *		  user+ext, user	only with ADDR_FIND_BARE_USER, and only
 *					when domain is local ($myorigin or
 *					listed in $mydestination), or with
 *					ADDR_FIND_LOCAL_USER (the caller
 *					resolved the address as local)
 *		  @domain		the whole domain
 *
 *		The extension is split at the first recipient_delimiter
 *		character (not for owner-* and *-request local parts when
 *		owner_request_special is set).  Keys use the quoted
 *		(external) form of the address; tables fold case as they
 *		were opened.  A table that cannot answer stops the search
 *		with DICT_ERROR.  No table (NULL) finds nothing.
 *
 *		addr_find_map() turns a found value into addresses: the
 *		value is an address list (RFC 5322 syntax); a result
 *		"@domain" keeps the original local part; with propagate,
 *		an extension the match did not include is added to each
 *		result ("joe@x" becomes "joe+ext@x").
 * SEE ALSO	canonical(5), virtual(5), doc/addressing.md
 */
#ifndef DICT_ADDR_FIND_H
#define DICT_ADDR_FIND_H

#include "util/argv.h"
#include "util/buf.h"

struct maps;

#define ADDR_FIND_BARE_USER	(1 << 0)	/* try "user" for local domains */
#define ADDR_FIND_LOCAL_USER	(1 << 1)	/* try "user": the caller knows
						 * the domain is local */

/* What matched, for addr_find_map(). */
struct addr_found {
	char	 delim;			/* the delimiter, 0 when none */
	struct buf ext;			/* the extension, without delim */
	int	 unmatched_ext;		/* found without the extension */
	struct buf local;		/* the whole local part */
};

#define ADDR_FOUND_INIT	{ 0, BUF_INIT, 0, BUF_INIT }

void	 addr_find_init(void);
int	 addr_is_local_domain(const char *, struct buf *);
int	 addr_find(struct maps *, const char *, int, struct buf *,
	    struct addr_found *, struct buf *);
int	 addr_find_map(const char *, const struct addr_found *, int,
	    struct argv *, struct buf *);
void	 addr_found_free(struct addr_found *);

#endif
