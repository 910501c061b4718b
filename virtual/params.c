/*
 * NAME		params - virtual(8) parameter table
 * DESCRIPTION	Postfix's names and defaults; virtual_mailbox_limit_maps and
 *		virtual_overquota_bounce are the names of the widely used
 *		VDA patch.  virtual_mailbox_maps is a global parameter
 *		(mail_conf.c): smtpd(8) and trivial-rewrite(8) read it too.
 */
#include <stddef.h>

#include "mail/param_tables.h"
#include "virtual.h"

struct virtual_cfg virtual_cfg;

const struct param virtual_params[] = {
	P_STR("virtual_mailbox_base", "", struct virtual_cfg,
	    virtual_mailbox_base),
	P_STR("virtual_uid_maps", "", struct virtual_cfg, virtual_uid_maps),
	P_STR("virtual_gid_maps", "", struct virtual_cfg, virtual_gid_maps),
	P_INT("virtual_minimum_uid", "100", struct virtual_cfg,
	    virtual_minimum_uid, 1, 0),
	P_STR("virtual_mailbox_lock", "fcntl, dotlock", struct virtual_cfg,
	    virtual_mailbox_lock),
	P_LONG("virtual_mailbox_limit", "51200000", struct virtual_cfg,
	    virtual_mailbox_limit, 0, 0),
	P_STR("virtual_mailbox_limit_maps", "", struct virtual_cfg,
	    virtual_mailbox_limit_maps),
	P_BOOL("virtual_overquota_bounce", "yes", struct virtual_cfg,
	    virtual_overquota_bounce),
	P_END
};

PARAM_TABLE(virtual_params);
