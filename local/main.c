/*
 * NAME		local - local mail delivery
 * SYNOPSIS	local [generic daemon options]
 * DESCRIPTION	local(8) delivers mail for addresses in local domains, as
 *		Postfix's local(8) does: aliases (alias_maps, with
 *		:include: files, |commands, /files and owner- lists), the
 *		user's .forward file (forward_path), and the user's mailbox:
 *		mailbox_command, home_mailbox, or mail_spool_directory, in mbox
 *		or Maildir format.  Mail for other addresses found in aliases
 *		and .forward files is forwarded through cleanup(8).
 *
 *		The queue manager sends one request per message and next
 *		hop; local(8) answers with one status per recipient and logs
 *		one line per final destination ("to=<...>, orig_to=<...>,
 *		relay=local, delay=..., delays=..., dsn=..., status=...
 *		(...)").  Maildir deliveries use file names derived from the
 *		queue file, so that a delivery repeated after a crash is not
 *		written twice.
 * SECURITY	Started as root by master(8), not chrooted, working directory
 *		queue_directory.  Each file access is made with the
 *		recipient's effective ids, each command runs in a child with
 *		the recipient's real ids; commands and files are never run
 *		or written as root (default_privs instead).  When the whole
 *		instance runs as an ordinary user, local(8) delivers only as
 *		that user.  Nothing read from the queue file, alias tables or
 *		users' files is trusted: lists, files and outputs are bounded.
 * PARAMETERS	alias_maps (hash:/etc/aliases), allow_mail_to_commands
 *		(alias, forward), allow_mail_to_files (alias, forward),
 *		forward_path ($home/.forward${recipient_delimiter}${extension},
 *		$home/.forward), home_mailbox (empty), mailbox_command (empty),
 *		mailbox_size_limit (51200000), command_time_limit (1000s),
 *		local_command_shell (empty), command_execution_directory
 *		(empty), command_expansion_filter (letters, digits and
 *		!@%-_=+:,./), mailbox_delivery_lock (fcntl, dotlock),
 *		owner_request_special (yes), expand_owner_alias (no),
 *		prepend_delivered_header (command, file, forward),
 *		enable_original_recipient (yes); and the global
 *		recipient_delimiter, mail_spool_directory, default_privs,
 *		myhostname, export_environment, message_size_limit.
 * DIAGNOSTICS	Delivery log lines; warnings for unusable .forward and
 *		:include: files, table errors and command failures.  A bad
 *		mailbox_delivery_lock or allow_mail_to_* value, an unknown
 *		default_privs user, or a mailbox_size_limit smaller than
 *		message_size_limit is fatal.  Exit status 0, or 1 on a fatal
 *		error.
 * SEE ALSO	master(8), qmgr(8), cleanup(8), aliases(5), doc/local.md
 */
#include <stdlib.h>
#include <unistd.h>

#include "mail/deliver.h"
#include "mail/mail_conf.h"
#include "mail/mbox.h"
#include "server/server.h"
#include "util/log.h"
#include "util/mem.h"
#include "local.h"

/* local_pre_jail - open the alias tables while privileged */
static void
local_pre_jail(void)
{
	local_alias_open();
}

/* local_post_jail - check and derive settings */
static void
local_post_jail(void)
{
	static const char *const classes[] = {"alias", "forward", "include",
	    NULL};
	static const char *const hdrs[] = {"command", "file", "forward",
	    NULL};
	struct buf why = BUF_INIT;
	int r;

	if (local_class_mask(local_cfg.allow_mail_to_commands, classes,
	    &local_cfg.cmd_classes, &why) < 0)
		log_fatal("allow_mail_to_commands: %s", why.p);
	if (local_class_mask(local_cfg.allow_mail_to_files, classes,
	    &local_cfg.file_classes, &why) < 0)
		log_fatal("allow_mail_to_files: %s", why.p);
	if (local_class_mask(local_cfg.prepend_delivered_header, hdrs,
	    &local_cfg.hdr_mask, &why) < 0)
		log_fatal("prepend_delivered_header: %s", why.p);
	if (mbox_lock_mask(local_cfg.mailbox_delivery_lock,
	    &local_cfg.lock_mask, &why) < 0)
		log_fatal("mailbox_delivery_lock: %s", why.p);
	if (local_cfg.mailbox_size_limit > 0 &&
	    local_cfg.mailbox_size_limit < mail_cfg.message_size_limit)
		log_fatal("mailbox_size_limit (%ld) is smaller than "
		    "message_size_limit (%ld)", local_cfg.mailbox_size_limit,
		    mail_cfg.message_size_limit);
	if (mail_cfg.unprivileged) {
		r = local_getpw(NULL, getuid(), &local_default_privs, &why);
		if (r <= 0) {
			local_default_privs.uid = getuid();
			local_default_privs.gid = getgid();
			local_default_privs.name = xasprintf("#%lu",
			    (unsigned long)getuid());
			local_default_privs.home = xstrdup("/");
			local_default_privs.shell = xstrdup("/bin/sh");
		}
	} else {
		r = local_getpw(mail_cfg.default_privs, 0,
		    &local_default_privs, &why);
		if (r <= 0)
			log_fatal("file %s/main.cf: parameter default_privs: "
			    "unknown user name value: %s",
			    mail_cfg.config_directory, mail_cfg.default_privs);
		if (local_default_privs.uid == 0)
			log_fatal("default_privs: %s must not be the "
			    "super-user", mail_cfg.default_privs);
	}
	buf_free(&why);
}

/* local_serve - one delivery request */
static void
local_serve(struct stream *s)
{
	deliver_serve(s, local_deliver_message);
	/* New processes read changed tables. */
	if (local_alias_changed())
		srv_request_exit();
}

/* main - hand the hooks to the one-client-at-a-time skeleton */
int
main(int argc, char **argv)
{
	static const struct srv_hooks h = {
		.params = local_params,
		.cfg = &local_cfg,
		.flags = SRV_KEEP_ROOT,
		.pre_jail = local_pre_jail,
		.post_jail = local_post_jail,
		.serve = local_serve,
	};

	return srv_single_main(argc, argv, &h);
}
