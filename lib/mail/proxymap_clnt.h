/*
 * NAME		proxymap_clnt - the proxymap protocol and its client
 * DESCRIPTION	proxymap(8) looks tables up for other processes
 *		(private/proxymap, protocol "proxymap", doc/ipc.md).  A
 *		request is request=lookup, table ("type:name", the table
 *		behind "proxy:"), flags (PROXY_FLAG_*: how the far side folds
 *		keys) and key; the reply is status (PROXY_STAT_*) and value
 *		(the result when found, the reason on an error, else empty).
 *
 *		The builders and strict parsers of both directions live here,
 *		so that the daemon and the client share one definition.
 *		proxymap_lookup() is the client: one connection per process,
 *		shared by every proxy: table, reused, and on failure opened
 *		anew once and the request repeated.
 */
#ifndef MAIL_PROXYMAP_CLNT_H
#define MAIL_PROXYMAP_CLNT_H

#include <stddef.h>

#include "util/buf.h"

#define PROXYMAP_PROTO		"proxymap"
#define PROXYMAP_SERVICE	"private/proxymap"

/* Limits: a key as long as a table accepts (DICT_KEY_MAX), a value as
 * long as a table returns (DICT_VALUE_MAX). */
#define PROXY_TABLE_MAX		1024
#define PROXY_KEY_MAX		4096
#define PROXY_VALUE_MAX		(1024 * 1024)
/* Largest request frame the daemon reads: the three strings, their
 * attribute headers and the flags. */
#define PROXY_REQ_FRAME_MAX	(PROXY_TABLE_MAX + PROXY_KEY_MAX + 256)

/* Request flags: how the table behind the proxy folds keys. */
#define PROXY_FLAG_FOLD		(1 << 0)	/* fold to lower case */
#define PROXY_FLAG_NO_FOLD	(1 << 1)	/* never fold (postmap -f) */
#define PROXY_FLAG_MASK		(PROXY_FLAG_FOLD | PROXY_FLAG_NO_FOLD)

/* Reply status, as Postfix's proxymap numbers them. */
#define PROXY_STAT_OK		0	/* found: value is the result */
#define PROXY_STAT_NOKEY	1	/* not found */
#define PROXY_STAT_RETRY	2	/* the table failed: try later */
#define PROXY_STAT_BAD		3	/* malformed request */
#define PROXY_STAT_DENY		4	/* table not in proxy_read_maps */
#define PROXY_STAT_MAX		4

struct proxy_request {
	struct buf table;
	struct buf key;
	int	 flags;
};

void	 proxy_request_init(struct proxy_request *);
void	 proxy_request_free(struct proxy_request *);
void	 proxy_request_build(struct buf *, const char *, int, const char *);
int	 proxy_request_parse(const char *, size_t, struct proxy_request *,
	    struct buf *);
void	 proxy_reply_build(struct buf *, int, const char *);
int	 proxy_reply_parse(const char *, size_t, int *, struct buf *,
	    struct buf *);
const char *proxy_status_name(int);

int	 proxymap_lookup(const char *, int, const char *, struct buf *,
	    struct buf *);
void	 proxymap_clnt_init(void);
void	 proxymap_clnt_close(void);

#endif
