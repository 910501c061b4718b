/*
 * NAME		showq - list the mail queue
 * DESCRIPTION	The showq daemon reports the messages in the maildrop,
 *		hold, incoming, active and deferred queues to postqueue -p/-j
 *		(and so to mailq and sendmail -bp) over public/showq.  It
 *		takes no request: after the hello it streams one frame per
 *		message and an end frame (doc/ipc.md).  In stand-alone mode
 *		(-S), which postqueue uses when root lists the queue while
 *		the mail system is down, it writes the frames to stdout.
 * SECURITY	Runs chrooted as mail_owner (master.cf: showq unix n - y),
 *		one client per process.  Its socket is public, so it takes
 *		no input at all from clients; queue files and defer logs are
 *		read with the bounded parsers of lib/mail.
 * PARAMETERS	empty_address_recipient (how the null sender is shown),
 *		hash_queue_names, hash_queue_depth, ipc_timeout, max_idle,
 *		max_use.
 * DIAGNOSTICS	Warnings for queue files that cannot be read or parsed; the
 *		listing goes on without them.
 * SEE ALSO	postqueue(1), doc/showq.md, doc/ipc.md
 */
#include "server/server.h"
#include "showq.h"

/* main - hand over to the one-client-at-a-time skeleton */
int
main(int argc, char **argv)
{
	static const struct srv_hooks hooks = {
		.serve = showq_serve,
	};

	return srv_single_main(argc, argv, &hooks);
}
