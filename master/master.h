/*
 * NAME		master.h - master daemon private interface
 */
#ifndef MASTER_MASTER_H
#define MASTER_MASTER_H

#include <stdint.h>
#include <sys/types.h>

#include "mail/mastercf.h"
#include "server/server.h"
#include "util/argv.h"

struct master_cfg {
	long	 service_throttle_time;
	int	 default_process_limit;
	char	*inet_interfaces;
	char	*inet_protocols;
	long	 master_crash_window;
	int	 master_crash_limit;
};

struct service;

struct mproc {
	pid_t	 pid;
	struct service *svc;		/* NULL once the service is gone */
	int	 gen;
	int	 avail;			/* counted in svc->avail */
	unsigned use;
	struct mproc *next;
};

struct service {
	char	*name;
	char	*type;
	char	*path;			/* executable */
	struct argv *argv;		/* exec argument vector */
	char	*trigger_path;		/* for wakeup, or NULL */
	int	 listen_fd[SRV_LISTEN_MAX];
	int	 nlisten;
	int	 status_fd[2];
	int	 watch_fd[2];
	int	 gen;
	int	 maxproc;		/* 0: unlimited */
	int	 wakeup;
	int	 wakeup_cond;
	int	 total;
	int	 avail;
	int	 listening;
	int	 throttled;
	int	 crashes;
	int64_t	 crash_window_start;
	int	 mark;			/* reload bookkeeping */
	struct service *next;
};

extern struct master_cfg master_cfg;
extern const struct param master_params[];
extern struct service *services;

void	 service_start_all(const struct mcf *);
void	 service_reload(const struct mcf *);
void	 service_stop_all(void);
void	 service_update_listen(struct service *);
void	 service_reap(void);
void	 service_kill_all(int);
int	 service_proc_count(void);

#endif
