/*
 * NAME		params - local(8) parameter table
 * DESCRIPTION	Postfix's names and defaults.  forward_path,
 *		mailbox_command and command_execution_directory are kept raw:
 *		local(8) expands their $home, $user, $extension, ... itself,
 *		per recipient.
 */
#include <stddef.h>

#include "mail/param_tables.h"
#include "local.h"

struct local_cfg local_cfg;

const struct param local_params[] = {
	P_STR("alias_maps", "hash:/etc/aliases", struct local_cfg,
	    alias_maps),
	P_STR("allow_mail_to_commands", "alias, forward", struct local_cfg,
	    allow_mail_to_commands),
	P_STR("allow_mail_to_files", "alias, forward", struct local_cfg,
	    allow_mail_to_files),
	P_RAW("forward_path", "$home/.forward${recipient_delimiter}"
	    "${extension}, $home/.forward", struct local_cfg, forward_path),
	P_STR("home_mailbox", "", struct local_cfg, home_mailbox),
	P_RAW("mailbox_command", "", struct local_cfg, mailbox_command),
	P_LONG("mailbox_size_limit", "51200000", struct local_cfg,
	    mailbox_size_limit, 0, 0),
	P_TIME("command_time_limit", "1000s", struct local_cfg,
	    command_time_limit, 's', 1, 0),
	P_STR("local_command_shell", "", struct local_cfg,
	    local_command_shell),
	P_RAW("command_execution_directory", "", struct local_cfg,
	    command_execution_directory),
	P_RAW("command_expansion_filter", "1234567890!@%-_=+:,./"
	    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ",
	    struct local_cfg, command_expansion_filter),
	P_STR("mailbox_delivery_lock", "fcntl, dotlock", struct local_cfg,
	    mailbox_delivery_lock),
	P_BOOL("expand_owner_alias", "no", struct local_cfg,
	    expand_owner_alias),
	P_STR("prepend_delivered_header", "command, file, forward",
	    struct local_cfg, prepend_delivered_header),
	P_BOOL("enable_original_recipient", "yes", struct local_cfg,
	    enable_original_recipient),
	P_END
};

PARAM_TABLE(local_params);
