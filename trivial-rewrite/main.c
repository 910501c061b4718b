/*
 * NAME		trivial-rewrite - address rewriting and resolving daemon
 * DESCRIPTION	Serves many clients per process on private/rewrite
 *		(protocol "rewrite", doc/ipc.md).  Requests:
 *		rewrite (rule, address) -> flags, address: canonical form;
 *		resolve (sender, address) -> flags, transport, nexthop,
 *		recipient: where the mail goes (see resolve.c).
 *		A connection carries any number of requests.
 * SECURITY	Runs chrooted as mail_owner (master.cf permitting); tables
 *		are opened before the jail.  Requests are decoded strictly
 *		and bounded; a client that misbehaves is disconnected.
 * PARAMETERS	append_at_myorigin (yes), append_dot_mydomain (no),
 *		swap_bangpath (yes), allow_percent_hack (yes),
 *		local_transport (local:$myhostname), default_transport
 *		(smtp), relay_transport (relay), relayhost (empty),
 *		relay_domains (empty), remote_header_rewrite_domain (empty),
 *		transport_maps (empty), virtual_alias_domains
 *		($virtual_alias_maps), virtual_mailbox_domains
 *		($virtual_mailbox_maps), virtual_transport (virtual), and
 *		mydestination, myorigin, mydomain, myhostname,
 *		recipient_delimiter, virtual_alias_maps, virtual_mailbox_maps.
 * DIAGNOSTICS	Warnings for protocol errors and unreadable tables.
 * SEE ALSO	cleanup(8), qmgr(8), doc/trivial-rewrite.md
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mail/ipc.h"
#include "mail/mail_conf.h"
#include "mail/rewrite_clnt.h"
#include "server/conn.h"
#include "server/server.h"
#include "util/log.h"
#include "util/events.h"
#include "trivial-rewrite.h"

struct tr_cfg tr_cfg;

/* tr_reply_rewrite - answer a rewrite request */
static int
tr_do_rewrite(const char *body, size_t len, struct buf *reply,
    struct buf *why)
{
	struct buf req = BUF_INIT, rule = BUF_INIT, addr = BUF_INIT;
	struct buf out = BUF_INIT;
	struct ipc_want want[] = {
		IPC_WANT_STR("request", &req, 16),
		IPC_WANT_STR("rule", &rule, 16),
		IPC_WANT_STR("address", &addr, 4096),
		IPC_WANT_END
	};
	int r = -1;

	if (ipc_scan(body, len, want, why) == 0) {
		tr_rewrite(buf_str(&rule), buf_str(&addr), &out);
		ipc_begin(reply);
		ipc_put_int(reply, "flags", 0);
		ipc_put_str(reply, "address", buf_str(&out));
		ipc_end(reply);
		r = 0;
	}
	buf_free(&req);
	buf_free(&rule);
	buf_free(&addr);
	buf_free(&out);
	return r;
}

/* tr_do_resolve - answer a resolve request */
static int
tr_do_resolve(const char *body, size_t len, struct buf *reply,
    struct buf *why)
{
	struct buf req = BUF_INIT, sender = BUF_INIT, addr = BUF_INIT;
	struct buf err = BUF_INIT;
	struct resolve_reply rr;
	struct ipc_want want[] = {
		IPC_WANT_STR("request", &req, 16),
		IPC_WANT_STR("sender", &sender, 4096),
		IPC_WANT_STR("address", &addr, 4096),
		IPC_WANT_END
	};
	int r = -1;

	resolve_reply_init(&rr);
	if (ipc_scan(body, len, want, why) == 0) {
		(void)tr_resolve(buf_str(&sender), buf_str(&addr), &rr, &err);
		if (rr.flags & RESOLVE_FLAG_ERROR)
			log_warn("resolve %s: %s", buf_str(&addr),
			    buf_str(&err));
		ipc_begin(reply);
		ipc_put_int(reply, "flags", rr.flags);
		ipc_put_str(reply, "transport", buf_str(&rr.transport));
		ipc_put_str(reply, "nexthop", buf_str(&rr.nexthop));
		ipc_put_str(reply, "recipient", buf_str(&rr.recipient));
		ipc_end(reply);
		r = 0;
	}
	resolve_reply_free(&rr);
	buf_free(&req);
	buf_free(&sender);
	buf_free(&addr);
	buf_free(&err);
	return r;
}

/*
 * tr_check_tables - at most once a second: when postmap replaced a table,
 * exit before reading the request, as Postfix's daemons do.  Clients
 * reconnect and ask again; master starts a process that opens the new
 * table.
 */
static void
tr_check_tables(void)
{
	static int64_t last;
	const char *changed;

	if (!time_due(&last, 1000))
		return;
	if ((changed = tr_tables_changed()) != NULL) {
		log_info("table %s has changed -- restarting", changed);
		exit(0);
	}
}

/* tr_input - handle every complete request frame */
static void
tr_input(struct srv_conn *c)
{
	struct buf reply = BUF_INIT, req = BUF_INIT, why = BUF_INIT;
	long flen;

	tr_check_tables();

	while ((flen = ipc_frame_len(c->in.p, c->in.len, 65536)) != 0) {
		const char *body = c->in.p + IPC_HDR_LEN;
		size_t blen;
		int r = -1;

		if (flen < 0) {
			log_warn("request too long -- dropping client");
			srv_conn_close(c);
			goto out;
		}
		blen = (size_t)flen - IPC_HDR_LEN;
		buf_reset(&why);
		if (ipc_peek_str(body, blen, "request", &req, 16) < 0)
			buf_sets(&why, "missing request type");
		else if (strcmp(req.p, "rewrite") == 0)
			r = tr_do_rewrite(body, blen, &reply, &why);
		else if (strcmp(req.p, "resolve") == 0)
			r = tr_do_resolve(body, blen, &reply, &why);
		else
			buf_printf(&why, "unknown request: %.30s", req.p);
		if (r < 0) {
			log_warn("bad request from client: %s", buf_str(&why));
			srv_conn_close(c);
			goto out;
		}
		srv_conn_write(c, reply.p, reply.len);
		buf_consume(&c->in, (size_t)flen);
	}
	if (c->eof)
		srv_conn_close(c);
out:
	buf_free(&reply);
	buf_free(&req);
	buf_free(&why);
}

/* tr_accept - a new client: say hello */
static void
tr_accept(int fd)
{
	struct buf hello = BUF_INIT;
	struct srv_conn *c;

	c = srv_conn_new(fd, 70000, (int)mail_cfg.ipc_timeout, tr_input, NULL,
	    NULL);
	ipc_hello(&hello, REWRITE_PROTO, 1);
	srv_conn_write(c, hello.p, hello.len);
	buf_free(&hello);
}

/* main - hand over to the multi-client skeleton */
int
main(int argc, char **argv)
{
	static const struct srv_hooks hooks = {
		.params = tr_params,
		.cfg = &tr_cfg,
		.pre_jail = tr_init,
		.accept = tr_accept,
	};

	return srv_multi_main(argc, argv, &hooks);
}
