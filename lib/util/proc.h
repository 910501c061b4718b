/*
 * NAME		proc - privileges, jails, signals and child processes
 */
#ifndef UTIL_PROC_H
#define UTIL_PROC_H

#include <stddef.h>
#include <sys/types.h>

#include "buf.h"

int	 set_ugid(uid_t, gid_t);
int	 set_eugid(uid_t, gid_t);
int	 chroot_jail(const char *);
int	 user_lookup(const char *, uid_t *, gid_t *);
int	 group_lookup(const char *, gid_t *);
void	 close_fds_from(int);
void	 sig_ignore(int);
void	 sig_default(int);
void	 sig_handle(int, void (*)(int));

struct spawn_req {
	char	*const *argv;		/* argv[0] is the program path */
	char	*const *envp;
	uid_t	 uid;
	gid_t	 gid;
	int	 stdin_fd;		/* -1: /dev/null */
	const char *cwd;		/* NULL: leave alone */
	int	 time_limit;		/* seconds, 0: none */
	size_t	 out_max;		/* bytes of output kept */
	int	 setsid;
};

#define SPAWN_OK	0
#define SPAWN_EXIT	1		/* exited non-zero, see status */
#define SPAWN_SIGNAL	2		/* killed by a signal */
#define SPAWN_TIMEOUT	3		/* killed after the time limit */
#define SPAWN_ERROR	4		/* could not run */

int	 spawn_run(const struct spawn_req *, int *, struct buf *, char *,
	    size_t);

#endif
