/*
 * NAME		anvil - per-client connection and rate counters
 * SYNOPSIS	anvil [generic daemon options]
 * DESCRIPTION	anvil(8) counts, for every smtpd(8) process of the
 *		instance, how many connections each client has open and how
 *		many connections, MAIL FROM, RCPT TO and AUTH commands it
 *		made in the current time unit (anvil_rate_time_unit), so
 *		that smtpd can enforce smtpd_client_connection_count_limit
 *		and the smtpd_client_*_rate_limit parameters across
 *		processes, as Postfix's anvil does.  Clients speak the
 *		"anvil" protocol on private/anvil (doc/ipc.md): connect,
 *		disconnect, message, recipient, auth and lookup requests
 *		for an ident "service:client_address".  The counts a
 *		client connection made are released when it closes, so a
 *		crashed smtpd leaves nothing behind.
 *
 *		One process serves every client (master.cf: maxproc 1);
 *		it takes any number of clients (max_use does not apply) and
 *		stays at least one time unit after the last one left
 *		(max_idle is raised to anvil_rate_time_unit if lower).
 *		Every anvil_status_update_time, and when it exits, it logs
 *		the maxima of the interval ("statistics: max connection
 *		rate 3/60s for (smtp:192.0.2.1) at Nov 23 09:33:49", ...).
 * SECURITY	Runs as mail_owner, chrooted; holds no files.  Requests
 *		are decoded strictly and bounded (lib/mail/anvil_clnt.c); a
 *		frame longer than the largest valid request drops the
 *		client.  At most ANVIL_ENTRIES_MAX clients are tracked.
 * PARAMETERS	anvil_rate_time_unit (60s), anvil_status_update_time
 *		(600s), max_idle, ipc_timeout.
 * DIAGNOSTICS	Statistics lines as above; warnings for malformed requests,
 *		a full client table, a client holding too many connections.
 * SEE ALSO	smtpd(8), doc/anvil.md, doc/smtpd.md
 */
#include <limits.h>
#include <stdlib.h>

#include "mail/anvil_clnt.h"
#include "mail/ipc.h"
#include "mail/mail_conf.h"
#include "server/conn.h"
#include "server/server.h"
#include "util/events.h"
#include "util/log.h"
#include "util/mem.h"
#include "anvil.h"

static struct anvil_tab *anvil_tab;
static int64_t anvil_last_expire;

/* One anvil client connection. */
struct anvil_client {
	struct srv_conn *conn;
	struct anvil_local local;
};

/* anvil_input - answer every complete request frame */
static void
anvil_input(struct srv_conn *c)
{
	struct anvil_client *ac = c->ctx;
	struct buf reply = BUF_INIT;
	int64_t now = time_mono_ms();
	long flen;

	if (time_due(&anvil_last_expire, 1000))
		(void)anvil_tab_expire(anvil_tab, now);
	while ((flen = ipc_frame_len(c->in.p, c->in.len,
	    ANVIL_REQ_FRAME_MAX)) != 0) {
		if (flen < 0) {
			log_warn("request longer than %d bytes -- dropping "
			    "client", ANVIL_REQ_FRAME_MAX);
			srv_conn_close(c);
			goto out;
		}
		(void)anvil_serve(anvil_tab, &ac->local, c->in.p + IPC_HDR_LEN,
		    (size_t)flen - IPC_HDR_LEN, now, &reply);
		srv_conn_write(c, reply.p, reply.len);
		buf_consume(&c->in, (size_t)flen);
	}
	if (c->eof)
		srv_conn_close(c);
out:
	buf_free(&reply);
}

/* anvil_closed - a client went away: its connections are over */
static void
anvil_closed(struct srv_conn *c)
{
	struct anvil_client *ac = c->ctx;

	anvil_local_drop(anvil_tab, &ac->local, time_mono_ms());
	free(ac);
}

/* anvil_accept - a new client: say hello */
static void
anvil_accept(int fd)
{
	struct anvil_client *ac = xcalloc(1, sizeof(*ac));
	struct buf hello = BUF_INIT;

	/* No idle time limit: smtpd keeps its connection between clients. */
	ac->conn = srv_conn_new(fd, ANVIL_REQ_FRAME_MAX * 4, 0, anvil_input,
	    anvil_closed, ac);
	ipc_hello(&hello, ANVIL_PROTO, 1);
	srv_conn_write(ac->conn, hello.p, hello.len);
	buf_free(&hello);
}

/* anvil_status - the periodic statistics */
static void
anvil_status(void *ctx)
{
	(void)ctx;
	anvil_tab_stats(anvil_tab, anvil_cfg.rate_time_unit);
	event_timer(anvil_status, NULL, anvil_cfg.status_update_time * 1000);
}

/* anvil_sweep - drop expired entries once per time unit */
static void
anvil_sweep(void *ctx)
{
	(void)ctx;
	(void)anvil_tab_expire(anvil_tab, time_mono_ms());
	event_timer(anvil_sweep, NULL, anvil_cfg.rate_time_unit * 1000);
}

/* anvil_exit - the last statistics, and the memory back */
static void
anvil_exit(void)
{
	if (anvil_tab == NULL)
		return;
	anvil_tab_stats(anvil_tab, anvil_cfg.rate_time_unit);
	anvil_tab_free(anvil_tab);
	anvil_tab = NULL;
}

/* anvil_post_jail - the table, the timers, Postfix's process limits */
static void
anvil_post_jail(void)
{
	anvil_tab = anvil_tab_new(ANVIL_ENTRIES_MAX,
	    (int64_t)anvil_cfg.rate_time_unit * 1000);
	/* One process must see every client: never retire for use. */
	mail_cfg.max_use = INT_MAX;
	/* Do not exit before a time unit is over. */
	if (mail_cfg.max_idle < anvil_cfg.rate_time_unit)
		mail_cfg.max_idle = anvil_cfg.rate_time_unit;
	atexit(anvil_exit);
	event_init();
	event_timer(anvil_status, NULL, anvil_cfg.status_update_time * 1000);
	event_timer(anvil_sweep, NULL, anvil_cfg.rate_time_unit * 1000);
}

/* main - hand over to the multi-client skeleton */
int
main(int argc, char **argv)
{
	static const struct srv_hooks hooks = {
		.params = anvil_params,
		.cfg = &anvil_cfg,
		.post_jail = anvil_post_jail,
		.accept = anvil_accept,
	};

	return srv_multi_main(argc, argv, &hooks);
}
