/*
 * NAME		params - trivial-rewrite(8) parameter table
 */
#include <stddef.h>

#include "mail/param_tables.h"
#include "trivial-rewrite.h"

const struct param tr_params[] = {
	P_BOOL("append_at_myorigin", "yes", struct tr_cfg, append_at_myorigin),
	P_BOOL("append_dot_mydomain", "no", struct tr_cfg,
	    append_dot_mydomain),
	P_BOOL("swap_bangpath", "yes", struct tr_cfg, swap_bangpath),
	P_BOOL("allow_percent_hack", "yes", struct tr_cfg, allow_percent_hack),
	P_STR("local_transport", "local:$myhostname", struct tr_cfg,
	    local_transport),
	P_STR("default_transport", "smtp", struct tr_cfg, default_transport),
	P_STR("relay_transport", "relay", struct tr_cfg, relay_transport),
	P_STR("relayhost", "", struct tr_cfg, relayhost),
	P_STR("relay_domains", "", struct tr_cfg, relay_domains),
	P_STR("remote_header_rewrite_domain", "", struct tr_cfg,
	    remote_header_rewrite_domain),
	P_STR("transport_maps", "", struct tr_cfg, transport_maps),
	P_STR("virtual_alias_domains", "$virtual_alias_maps", struct tr_cfg,
	    virtual_alias_domains),
	P_STR("virtual_mailbox_domains", "$virtual_mailbox_maps",
	    struct tr_cfg, virtual_mailbox_domains),
	P_STR("virtual_transport", "virtual", struct tr_cfg,
	    virtual_transport),
	P_END
};

PARAM_TABLE(tr_params);
