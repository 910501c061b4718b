/*
 * NAME		proxymap - lookup table proxy server
 * DESCRIPTION	Looks tables up for other Postern processes on
 *		private/proxymap (protocol "proxymap", doc/ipc.md): a
 *		process that names a table proxy:type:name sends its lookups
 *		here, so that a chrooted smtpd can read unix:passwd.byname
 *		or a file outside its jail, and so that tables which need a
 *		server connection (socketmap:, ldap:, mysql:) are opened once
 *		per proxymap process instead of once per worker.  One
 *		request, "lookup" (table, flags, key), answered with status
 *		and value; any number of requests per connection, many
 *		connections per process.  Only tables listed as proxy:type:name
 *		in proxy_read_maps are served.  Postfix's proxywrite service
 *		(update requests, proxy_write_maps) does not exist.
 *
 *		When a table it has open changes on disk (postmap rebuilt
 *		it), the process stops accepting clients, closes its
 *		connections without answering the pending requests (each
 *		client repeats its request over a new connection, served by a
 *		new process) and exits.
 * SECURITY	Runs as mail_owner and is not chrooted (master.cf:
 *		"proxymap unix - - n - - proxymap"), so that it can open
 *		tables anywhere mail_owner may read.  Requests are decoded
 *		strictly and bounded (lib/mail/proxymap_clnt.c); a frame
 *		longer than the largest valid request drops the client.
 * PARAMETERS	proxy_read_maps (Postfix's list of $..._maps, domain and
 *		restriction parameters), ipc_timeout, max_idle, max_use.
 *		Every parameter Postern knows is linked in, so that
 *		$local_recipient_maps and the others expand to their
 *		defaults; one that Postern does not know expands to its
 *		main.cf value or to nothing.
 * DIAGNOSTICS	Warnings for refused and malformed requests, tables that
 *		cannot be opened and failed lookups; "table X has changed --
 *		restarting".
 * SEE ALSO	lib/dict/dict_proxy.c, doc/proxymap.md, doc/tables.md
 */
#include <stdlib.h>

#include "mail/ipc.h"
#include "mail/mail_conf.h"
#include "mail/param_tables.h"
#include "mail/proxymap_clnt.h"
#include "server/conn.h"
#include "server/server.h"
#include "util/events.h"
#include "util/log.h"
#include "util/mem.h"
#include "proxymap.h"


/* Every connection, so that a restart can close them all. */
struct pm_client {
	struct srv_conn *conn;
	struct pm_client *prev, *next;
};

static struct pm_client *pm_clients;

/* pm_restart - a table changed: no more answers from this process */
static void
pm_restart(const char *changed)
{
	struct pm_client *p, *next;

	log_info("table %s has changed -- restarting", changed);
	srv_multi_stop_accepting();
	for (p = pm_clients; p; p = next) {
		next = p->next;
		srv_conn_close(p->conn);
	}
}

/* pm_input - answer every complete request frame */
static void
pm_input(struct srv_conn *c)
{
	static int64_t last_check;
	struct buf reply = BUF_INIT;
	const char *changed;
	long flen;

	if (srv.exit_requested) {
		srv_conn_close(c);
		return;
	}
	if (time_due(&last_check, 1000) &&
	    (changed = pm_tables_changed()) != NULL) {
		pm_restart(changed);
		return;
	}
	while ((flen = ipc_frame_len(c->in.p, c->in.len,
	    PROXY_REQ_FRAME_MAX)) != 0) {
		if (flen < 0) {
			log_warn("request longer than %d bytes -- dropping "
			    "client", PROXY_REQ_FRAME_MAX);
			srv_conn_close(c);
			goto out;
		}
		pm_serve(c->in.p + IPC_HDR_LEN, (size_t)flen - IPC_HDR_LEN,
		    &reply);
		srv_conn_write(c, reply.p, reply.len);
		buf_consume(&c->in, (size_t)flen);
	}
	if (c->eof)
		srv_conn_close(c);
out:
	buf_free(&reply);
}

/* pm_closed - forget a connection */
static void
pm_closed(struct srv_conn *c)
{
	struct pm_client *p = c->ctx;

	if (p->prev)
		p->prev->next = p->next;
	else
		pm_clients = p->next;
	if (p->next)
		p->next->prev = p->prev;
	free(p);
}

/* pm_accept - a new client: say hello */
static void
pm_accept(int fd)
{
	struct pm_client *p = xcalloc(1, sizeof(*p));
	struct buf hello = BUF_INIT;

	p->conn = srv_conn_new(fd, 65536, (int)mail_cfg.ipc_timeout, pm_input,
	    pm_closed, p);
	p->next = pm_clients;
	if (pm_clients)
		pm_clients->prev = p;
	pm_clients = p;
	ipc_hello(&hello, PROXYMAP_PROTO, 1);
	srv_conn_write(p->conn, hello.p, hello.len);
	buf_free(&hello);
}

/*
 * pm_init - before serving: know every parameter's default, then take
 * the approved tables from the expanded proxy_read_maps
 */
static void
pm_init(void)
{
	param_tables_register(mail_conf);
	pm_access_init(conf_get(mail_conf, "proxy_read_maps"));
}

/* main - hand over to the multi-client skeleton */
int
main(int argc, char **argv)
{
	static const struct srv_hooks hooks = {
		.params = pm_params,
		.pre_jail = pm_init,
		.accept = pm_accept,
	};

	return srv_multi_main(argc, argv, &hooks);
}
