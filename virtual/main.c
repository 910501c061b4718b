/*
 * NAME		virtual - virtual mailbox delivery
 * SYNOPSIS	virtual [generic daemon options]
 * DESCRIPTION	virtual(8) delivers mail for the domains of
 *		virtual_mailbox_domains into mbox files and Maildirs below
 *		virtual_mailbox_base, as Postfix's virtual(8) does; the
 *		mailbox, its owner and its size limit come from tables (hash,
 *		LDAP, MySQL, ...), not from the system's accounts.  For each
 *		recipient: a Delivered-To: loop check, the mailbox path from
 *		virtual_mailbox_maps ("/" at the end: Maildir), the ids from
 *		virtual_uid_maps and virtual_gid_maps, the size limit from
 *		virtual_mailbox_limit_maps or virtual_mailbox_limit, then the
 *		delivery with Return-Path:, X-Original-To: and Delivered-To:
 *		headers (mbox: the "From " line, ">From " quoting and the
 *		locks of virtual_mailbox_lock).  See deliver.c for the lookup
 *		order and the status codes.
 *
 *		The queue manager sends one request per message and domain;
 *		virtual(8) answers with one status per recipient and logs
 *		one line per recipient in Postfix's format.
 * SECURITY	Started as root by master(8), not chrooted (master.cf:
 *		"virtual unix - n n - - virtual").  Every file access is made
 *		with the mapped effective ids, never as root: a uid below
 *		virtual_minimum_uid (at least 1) or a gid 0 is refused.  A
 *		mailbox path never leaves virtual_mailbox_base ("..", control
 *		characters refused), an mbox that is a symbolic link, has
 *		other hard links or belongs to someone else is refused.  When
 *		the whole instance runs as an ordinary user, every delivery
 *		runs as that user.  Table values are not trusted: they are
 *		checked and bounded.
 * PARAMETERS	virtual_mailbox_maps (empty), virtual_mailbox_base (empty),
 *		virtual_uid_maps (empty), virtual_gid_maps (empty),
 *		virtual_minimum_uid (100), virtual_mailbox_lock (fcntl,
 *		dotlock), virtual_mailbox_limit (51200000; 0: no limit),
 *		virtual_mailbox_limit_maps (empty), virtual_overquota_bounce
 *		(yes); and the global recipient_delimiter, myhostname,
 *		message_size_limit.
 * DIAGNOSTICS	Delivery log lines; warnings for table errors and bad table
 *		values.  A bad virtual_mailbox_lock or a virtual_mailbox_limit
 *		smaller than message_size_limit is fatal.  Exit status 0, or
 *		1 on a fatal error.
 * SEE ALSO	master(8), qmgr(8), trivial-rewrite(8), local(8),
 *		doc/virtual.md
 */
#include <stdlib.h>

#include "dict/dict.h"
#include "mail/deliver.h"
#include "mail/mail_conf.h"
#include "mail/mbox.h"
#include "server/server.h"
#include "util/log.h"
#include "virtual.h"

struct virtual_maps virtual_maps;

/* virtual_open - one table list, or NULL when the parameter is empty */
static struct maps *
virtual_open(const char *title, const char *spec)
{
	if (spec == NULL || *spec == 0)
		return NULL;
	return maps_open(title, spec, DICT_FLAG_FOLD_FIX);
}

/* virtual_pre_jail - open the tables while privileged */
static void
virtual_pre_jail(void)
{
	virtual_maps.mailbox = virtual_open("virtual_mailbox_maps",
	    mail_cfg.virtual_mailbox_maps);
	virtual_maps.uid = virtual_open("virtual_uid_maps",
	    virtual_cfg.virtual_uid_maps);
	virtual_maps.gid = virtual_open("virtual_gid_maps",
	    virtual_cfg.virtual_gid_maps);
	virtual_maps.limit = virtual_open("virtual_mailbox_limit_maps",
	    virtual_cfg.virtual_mailbox_limit_maps);
}

/* virtual_post_jail - check and derive settings */
static void
virtual_post_jail(void)
{
	struct buf why = BUF_INIT;

	if (mbox_lock_mask(virtual_cfg.virtual_mailbox_lock,
	    &virtual_cfg.lock_mask, &why) < 0)
		log_fatal("virtual_mailbox_lock: %s", why.p);
	if (virtual_cfg.virtual_mailbox_limit > 0 &&
	    virtual_cfg.virtual_mailbox_limit < mail_cfg.message_size_limit)
		log_fatal("virtual_mailbox_limit (%ld) is smaller than "
		    "message_size_limit (%ld)",
		    virtual_cfg.virtual_mailbox_limit,
		    mail_cfg.message_size_limit);
	buf_free(&why);
}

/* virtual_changed - has a table been replaced on disk? */
static int
virtual_changed(void)
{
	struct maps *m[] = {virtual_maps.mailbox, virtual_maps.uid,
	    virtual_maps.gid, virtual_maps.limit};
	size_t i;

	for (i = 0; i < sizeof(m) / sizeof(m[0]); i++) {
		if (m[i] && maps_changed(m[i])) {
			log_info("table %s has changed -- restarting",
			    maps_title(m[i]));
			return 1;
		}
	}
	return 0;
}

/* virtual_serve - one delivery request */
static void
virtual_serve(struct stream *s)
{
	deliver_serve(s, virtual_deliver_message);
	/* New processes read changed tables. */
	if (virtual_changed())
		srv_request_exit();
}

/* main - hand the hooks to the one-client-at-a-time skeleton */
int
main(int argc, char **argv)
{
	static const struct srv_hooks h = {
		.params = virtual_params,
		.cfg = &virtual_cfg,
		.flags = SRV_KEEP_ROOT,
		.pre_jail = virtual_pre_jail,
		.post_jail = virtual_post_jail,
		.serve = virtual_serve,
	};

	return srv_single_main(argc, argv, &h);
}
