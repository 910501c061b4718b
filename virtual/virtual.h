/*
 * NAME		virtual.h - virtual delivery agent private interface
 */
#ifndef VIRTUAL_VIRTUAL_H
#define VIRTUAL_VIRTUAL_H

#include <stdint.h>
#include <sys/types.h>

#include "dict/dict.h"
#include "mail/conf.h"
#include "mail/deliver.h"
#include "util/buf.h"
#include "util/htable.h"

/* Settings from main.cf (params.c). */
struct virtual_cfg {
	char	*virtual_mailbox_base;
	char	*virtual_uid_maps;
	char	*virtual_gid_maps;
	int	 virtual_minimum_uid;
	char	*virtual_mailbox_lock;
	long	 virtual_mailbox_limit;
	char	*virtual_mailbox_limit_maps;
	int	 virtual_overquota_bounce;

	/* Derived in post_jail. */
	int	 lock_mask;		/* MBOX_LOCK_* */
};

extern struct virtual_cfg virtual_cfg;
extern const struct param virtual_params[];

/* Tables, opened before the jail (main.c). */
struct virtual_maps {
	struct maps *mailbox;		/* virtual_mailbox_maps */
	struct maps *uid;		/* virtual_uid_maps */
	struct maps *gid;		/* virtual_gid_maps */
	struct maps *limit;		/* virtual_mailbox_limit_maps */
};

extern struct virtual_maps virtual_maps;

/* Limits. */
#define VIRTUAL_PATH_MAX	4096	/* a mailbox path */
#define VIRTUAL_SCAN_MAX	100000	/* Maildir entries counted per dir */

/* check.c: pure checks and arithmetic (unit tested). */
int	 virtual_path(const char *, const char *, struct buf *, int *,
	    struct buf *);
int	 virtual_parse_id(const char *, unsigned long *);
int	 virtual_parse_limit(const char *, off_t *);
int	 virtual_over_quota(off_t, off_t, off_t);
off_t	 virtual_copy_limit(off_t, off_t);
int	 virtual_maildir_usage(const char *, size_t, off_t *, struct buf *);

/* The result of one recipient. */
struct virtual_result {
	int	 status;		/* DEL_STAT_* */
	char	 dsn[16];
	struct buf reason;
};

/* deliver.c */
void	 virtual_deliver_message(const struct deliver_req *,
	    struct deliver_result *);

/* mailbox.c: delivery into one mailbox with the user's ids. */
struct virtual_box {
	const char *addr;		/* the recipient */
	const char *orig;		/* original recipient */
	const char *path;		/* mailbox path */
	int	 maildir;		/* path is a Maildir */
	uid_t	 uid;
	gid_t	 gid;
	off_t	 limit;			/* bytes, 0: none */
};

void	 virtual_mailbox(const struct deliver_req *, size_t, int,
	    const struct virtual_box *, struct virtual_result *);

#endif
