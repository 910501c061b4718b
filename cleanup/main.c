/*
 * NAME		cleanup - canonicalize and enqueue mail
 * DESCRIPTION	cleanup takes messages from pickup (local submissions),
 *		smtpd, local (forwarded mail) and bounce (notices) over
 *		public/cleanup (protocol "cleanup", doc/ipc.md), rewrites
 *		addresses to canonical form through trivial-rewrite, adds
 *		missing headers, removes the headers Postfix removes, extracts
 *		recipients for "sendmail -t", writes the queue file in
 *		incoming/ (doc/queue-format.md) and makes it safe on disk
 *		before it answers: many messages share one journal commit
 *		(commit.c).  One process serves many clients.
 * SECURITY	Runs chrooted as mail_owner.  Trusts no client: every
 *		record is checked (state.c).
 * PARAMETERS	header_size_limit (102400), hopcount_limit (50),
 *		message_drop_headers (bcc, content-length, resent-bcc,
 *		return-path), delay_warning_time (0h),
 *		always_add_missing_headers (no), duplicate_filter_limit
 *		(1000), enable_original_recipient (yes), and the global
 *		message_size_limit, myhostname, myorigin, mail_name.
 * DIAGNOSTICS	"QUEUEID: message-id=<...>" per message; "reject:" lines
 *		with the reason for refused messages; warnings for protocol
 *		errors and write errors.
 * SEE ALSO	pickup(8), qmgr(8), trivial-rewrite(8), doc/cleanup.md
 */
#include "server/server.h"
#include "cleanup.h"

struct cleanup_cfg cleanup_cfg;

/* main - hand over to the multi-client skeleton */
int
main(int argc, char **argv)
{
	static const struct srv_hooks hooks = {
		.params = cleanup_params,
		.cfg = &cleanup_cfg,
		.pre_jail = cleanup_map_init,
		.post_jail = cleanup_commit_init,
		.accept = cleanup_accept,
	};

	return srv_multi_main(argc, argv, &hooks);
}
