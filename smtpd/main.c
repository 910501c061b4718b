/*
 * NAME		smtpd - Postern SMTP server
 * DESCRIPTION	smtpd speaks SMTP (RFC 5321) with the extensions PIPELINING,
 *		SIZE, ENHANCEDSTATUSCODES, 8BITMIME, DSN, SMTPUTF8 and
 *		CHUNKING (and AUTH, sasl.c), applies the access restrictions of main.cf
 *		(check.c) and hands each accepted message to cleanup.  One
 *		client per process; master reuses processes.  With -S (as
 *		run by "sendmail -bs") it serves one session on standard input
 *		and output and submits through maildrop/ like sendmail.
 * SECURITY	Runs chrooted as mail_owner; tables and the hosts file are
 *		read before the jail.  Everything from the client is bounded
 *		(session.c, command.c, data.c).
 * PARAMETERS	see smtpd/params.c and doc/smtpd.md.
 * DIAGNOSTICS	"connect from", "disconnect from ... commands=N", "QUEUEID:
 *		client=...", "reject:" lines in Postfix's format, "lost
 *		connection after X", "timeout after X", "too many errors".
 * SEE ALSO	cleanup(8), doc/smtpd.md, doc/smtpd-access.md
 */
#include "server/server.h"
#include "util/hosts.h"
#include "smtpd.h"

struct smtpd_cfg smtpd_cfg;

/* smtpd_pre_jail - what must be read before the chroot */
static void
smtpd_pre_jail(void)
{
	(void)hosts_load("/etc/hosts");
	smtpd_check_init();
	smtpd_tls_init();
	/* Cyrus SASL reads its configuration and plugins before the jail. */
	smtpd_sasl_init();
	smtpd_anvil_init();
}

/* smtpd_serve - one client */
static void
smtpd_serve(struct stream *s)
{
	smtpd_session(s, srv.standalone);
}

/* main - hand over to the one-client-per-process skeleton */
int
main(int argc, char **argv)
{
	static const struct srv_hooks hooks = {
		.params = smtpd_params,
		.cfg = &smtpd_cfg,
		.pre_jail = smtpd_pre_jail,
		.serve = smtpd_serve,
	};

	int rc;

	rc = srv_single_main(argc, argv, &hooks);
	smtpd_tls_free();
	return rc;
}
