/*
 * NAME		addr_find - look an email address up in maps, Postfix style
 * DESCRIPTION	addr_find() asks the maps for the keys that Postfix's
 *		address lookups try, in this order, the first found wins:
 *
 *		1. the address ("user+ext@example.com"),
 *		2. the address without its extension ("user@example.com",
 *		   with the recipient_delimiter characters given),
 *		3. with ADDR_FIND_LOCALPART (the domain is a local one): the
 *		   local part ("user+ext"), then without its extension
 *		   ("user"),
 *		4. "@domain" (a catch-all).
 *
 *		Used by virtual(8) (virtual_mailbox_maps, virtual_uid_maps,
 *		virtual_gid_maps, virtual_mailbox_limit_maps) and by smtpd(8)
 *		for its recipient tables.  A table error ends the search.
 */
#ifndef DICT_ADDR_FIND_H
#define DICT_ADDR_FIND_H

#include "util/buf.h"
#include "dict.h"

#define ADDR_FIND_LOCALPART	(1 << 0)	/* try "user+ext", "user" */

int	 addr_find(struct maps *, const char *, const char *, int,
	    struct buf *, struct buf *);

#endif
