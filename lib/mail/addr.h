/*
 * NAME		addr - RFC 5322 address lists: parsing and quoting
 * DESCRIPTION	Postern keeps addresses in Postfix's "internal" form: the
 *		local part unquoted ("john smith@example.com").  The
 *		"external" form on the wire quotes a local part that is not a
 *		dot-atom ("\"john smith\"@example.com").  addr_parse_list()
 *		extracts every address of a header value or command-line
 *		argument (display names, comments, groups, route addresses)
 *		and records where each address sits in the text, so that a
 *		header can be rewritten without disturbing the rest.
 */
#ifndef MAIL_ADDR_H
#define MAIL_ADDR_H

#include <stddef.h>

#include "util/buf.h"

struct addr_limits {
	size_t	 max_len;	/* longest input */
	size_t	 max_items;	/* most addresses */
	size_t	 max_addr;	/* longest single address */
};

struct addr_item {
	char	*addr;		/* internal form; "" for <> */
	size_t	 start;		/* span of the address text in the input */
	size_t	 end;
	int	 angle;		/* was written as <...> */
};

struct addr_list {
	struct addr_item *v;
	size_t	 n;
	size_t	 cap;
};

#define ADDR_LIMITS_DEFAULT	{ 102400, 10000, 2048 }

int	 addr_parse_list(const char *, size_t, const struct addr_limits *,
	    struct addr_list *, struct buf *);
int	 addr_parse_one(const char *, size_t, const struct addr_limits *,
	    struct buf *, struct buf *);
void	 addr_list_free(struct addr_list *);
void	 addr_quote(const char *, struct buf *);
int	 addr_local_needs_quote(const char *, size_t);
const char *addr_domain(const char *);
void	 addr_split_ext(const char *, const char *, struct buf *,
	    struct buf *, struct buf *);

/* Address headers: which kind of address they carry. */
#define ADDR_HDR_SENDER		1	/* From, Sender, Reply-To, ... */
#define ADDR_HDR_RCPT		2	/* To, Cc, Bcc, Resent-To, ... */

int	 addr_header_kind(const char *);

/*
 * Maps one address (internal form) into out: 1 changed, 0 unchanged, -1
 * error (stop).
 */
typedef int (*addr_map_fn)(const char *, struct buf *, void *);

int	 addr_list_rewrite(const char *, size_t, addr_map_fn, void *,
	    struct buf *);

#endif
