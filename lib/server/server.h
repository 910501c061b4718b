/*
 * NAME		server - skeletons every daemon plugs into
 * DESCRIPTION	master(8) starts a daemon with its listening socket on fd
 *		SRV_LISTEN_FD, a status pipe on SRV_STATUS_FD (the daemon
 *		reports "available"/"busy" there) and a watch pipe on
 *		SRV_WATCH_FD (end of file there means master stopped, reloaded
 *		or died: finish the current work and exit).  Arguments:
 *
 *		-n service	master.cf service name
 *		-t type		unix, inet, fifo or pass
 *		-l count	number of listening sockets (default 1)
 *		-s		chroot to queue_directory
 *		-u		drop privileges to mail_owner
 *		-o name=value	parameter override (repeatable)
 *		-v		verbose logging
 *		-S		stand-alone: serve one client on stdin/out
 *
 *		The skeleton reads main.cf, applies overrides, loads the
 *		daemon's parameter table, opens the log, changes to the queue
 *		directory, runs pre_jail (still privileged), chroots and drops
 *		privileges as asked, runs post_jail, and then serves.
 *
 *		single:  one client at a time per process, blocking I/O.
 *		multi:   many clients per process on the event loop.
 *		trigger: wake-up bytes on the socket; resident, event loop.
 */
#ifndef SERVER_SERVER_H
#define SERVER_SERVER_H

#include <stddef.h>
#include <sys/types.h>

#include "mail/conf.h"
#include "util/stream.h"

#define SRV_STATUS_FD	3
#define SRV_WATCH_FD	4
#define SRV_LISTEN_FD	5		/* first of srv.listen_count */
#define SRV_LISTEN_MAX	64

#define SRV_STAT_AVAIL	'A'
#define SRV_STAT_BUSY	'B'

/* Status message from a worker to master. */
struct srv_status {
	pid_t	 pid;
	int	 status;
};

#define SRV_KEEP_ROOT	(1 << 0)	/* never drop root (local, virtual) */
#define SRV_NO_CHDIR	(1 << 1)	/* do not chdir to queue_directory */

struct srv_hooks {
	const struct param *params;	/* the daemon's table */
	void	*cfg;			/* struct filled from it */
	int	 flags;
	const char *lock_file;		/* exclusive lock held while running */
	void	(*pre_jail)(void);
	void	(*post_jail)(void);
	/* single */
	void	(*serve)(struct stream *);
	/*
	 * single, optional: while the process waits for a client it calls
	 * idle_tick() first and then again whenever the number of
	 * milliseconds it returned has passed; -1 means no further call
	 * until the next wait.  smtp(8) closes its cached connection so.
	 */
	long	(*idle_tick)(void);
	/* multi */
	void	(*accept)(int);
	/* trigger */
	void	(*trigger)(const char *, size_t);
	/* all: called when master goes away (watch pipe EOF) */
	void	(*master_gone)(void);
	/* multi/trigger: may the process exit now? (no work in flight) */
	int	(*idle)(void);
};

struct srv_info {
	const char *service;
	const char *type;
	const char *progname;
	int	 chroot;
	int	 unpriv;
	int	 standalone;
	int	 listen_count;
	int	 master_gone;
	int	 exit_requested;
	unsigned use_count;
	pid_t	 pid;			/* for status reports */
};

extern struct srv_info srv;

int	 srv_single_main(int, char **, const struct srv_hooks *);
int	 srv_multi_main(int, char **, const struct srv_hooks *);
int	 srv_trigger_main(int, char **, const struct srv_hooks *);

void	 srv_init(int, char **, const struct srv_hooks *);
void	 srv_report(int);
void	 srv_request_exit(void);
void	 srv_multi_client_done(void);
void	 srv_multi_client_busy(void);
void	 srv_multi_stop_accepting(void);

#endif
