/*
 * NAME		params - cleanup(8) parameter table
 */
#include <stddef.h>

#include "mail/param_tables.h"
#include "cleanup.h"

const struct param cleanup_params[] = {
	P_LONG("header_size_limit", "102400", struct cleanup_cfg,
	    header_size_limit, 1024, 0),
	P_INT("hopcount_limit", "50", struct cleanup_cfg, hopcount_limit, 1,
	    0),
	P_STR("message_drop_headers",
	    "bcc, content-length, resent-bcc, return-path", struct cleanup_cfg,
	    message_drop_headers),
	P_TIME("delay_warning_time", "0h", struct cleanup_cfg,
	    delay_warning_time, 'h', 0, 0),
	P_BOOL("always_add_missing_headers", "no", struct cleanup_cfg,
	    always_add_missing_headers),
	P_INT("duplicate_filter_limit", "1000", struct cleanup_cfg,
	    duplicate_filter_limit, 0, 0),
	P_BOOL("enable_original_recipient", "yes", struct cleanup_cfg,
	    enable_original_recipient),
	P_STR("canonical_maps", "", struct cleanup_cfg, canonical_maps),
	P_STR("sender_canonical_maps", "", struct cleanup_cfg,
	    sender_canonical_maps),
	P_STR("recipient_canonical_maps", "", struct cleanup_cfg,
	    recipient_canonical_maps),
	P_STR("canonical_classes", "envelope_sender, envelope_recipient, "
	    "header_sender, header_recipient", struct cleanup_cfg,
	    canonical_classes),
	P_STR("sender_canonical_classes", "envelope_sender, header_sender",
	    struct cleanup_cfg, sender_canonical_classes),
	P_STR("recipient_canonical_classes",
	    "envelope_recipient, header_recipient", struct cleanup_cfg,
	    recipient_canonical_classes),
	P_STR("masquerade_domains", "", struct cleanup_cfg, masquerade_domains),
	P_STR("masquerade_exceptions", "", struct cleanup_cfg,
	    masquerade_exceptions),
	P_STR("masquerade_classes", "envelope_sender, header_sender, "
	    "header_recipient", struct cleanup_cfg, masquerade_classes),
	P_INT("virtual_alias_expansion_limit", "1000", struct cleanup_cfg,
	    virtual_alias_expansion_limit, 1, 0),
	P_INT("virtual_alias_recursion_limit", "1000", struct cleanup_cfg,
	    virtual_alias_recursion_limit, 1, 0),
	P_INT("virtual_alias_address_length_limit", "1000", struct cleanup_cfg,
	    virtual_alias_address_length_limit, 1, 0),
	P_END
};

PARAM_TABLE(cleanup_params);
