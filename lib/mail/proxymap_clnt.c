/*
 * NAME		proxymap_clnt - the proxymap protocol and its client
 * DESCRIPTION	Builders and strict parsers for both directions of the
 *		proxymap protocol (the daemon parses requests and builds
 *		replies; the client does the opposite), and the client's
 *		connection: opened at the first lookup, kept and reused by
 *		every proxy: table of the process, closed after ipc_idle
 *		seconds without use.  A request that fails on the connection
 *		(the daemon exited, was restarted, or said nothing sensible)
 *		is sent once more over a new connection; a second failure is
 *		the caller's temporary error.
 *
 *		The socket is private/proxymap under queue_directory.
 *		Daemons work in the queue directory (or chroot to it) and use
 *		the relative name; a command such as postmap, which works
 *		elsewhere, uses the full path (decided once, when the first
 *		proxy: table is opened, by comparing the working directory
 *		with queue_directory).
 * SECURITY	Every attribute is bounded before it is stored: table
 *		PROXY_TABLE_MAX, key PROXY_KEY_MAX, value PROXY_VALUE_MAX;
 *		flags and status must be known values; a missing, repeated or
 *		unexpected attribute fails the parse (ipc_scan()).
 * SEE ALSO	proxymap(8), lib/dict/dict_proxy.c, doc/ipc.md
 */
#include <string.h>
#include <sys/stat.h>

#include "util/events.h"
#include "util/mem.h"
#include "ipc.h"
#include "mail_conf.h"
#include "proxymap_clnt.h"

static struct stream *pm_stream;
static int64_t pm_last_use;
static char *pm_path;

/* proxy_request_init - empty request */
void
proxy_request_init(struct proxy_request *r)
{
	buf_init(&r->table);
	buf_init(&r->key);
	r->flags = 0;
}

/* proxy_request_free - release a request's strings */
void
proxy_request_free(struct proxy_request *r)
{
	buf_free(&r->table);
	buf_free(&r->key);
}

/* proxy_request_build - a lookup request frame into frame */
void
proxy_request_build(struct buf *frame, const char *table, int flags,
    const char *key)
{
	ipc_begin(frame);
	ipc_put_str(frame, "request", "lookup");
	ipc_put_str(frame, "table", table);
	ipc_put_int(frame, "flags", flags);
	ipc_put_str(frame, "key", key);
	ipc_end(frame);
}

/*
 * proxy_table_valid - "type:name" with a type of letters, digits, '-'
 * or '_' and a non-empty name
 */
static int
proxy_table_valid(const struct buf *t)
{
	const char *colon = memchr(t->p, ':', t->len);
	const char *p;

	if (colon == NULL || colon == t->p || (size_t)(colon - t->p) + 1 ==
	    t->len)
		return 0;
	for (p = t->p; p < colon; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || *p == '-' || *p == '_'))
			return 0;
	return 1;
}

/*
 * proxy_request_parse - decode a request body strictly into r.  Returns
 * 0, or -1 with a reason.
 */
int
proxy_request_parse(const char *body, size_t len, struct proxy_request *r,
    struct buf *why)
{
	struct buf req = BUF_INIT;
	int64_t flags = 0;
	struct ipc_want want[] = {
		IPC_WANT_STR("request", &req, 16),
		IPC_WANT_STR("table", &r->table, PROXY_TABLE_MAX),
		IPC_WANT_INT("flags", &flags),
		IPC_WANT_STR("key", &r->key, PROXY_KEY_MAX),
		IPC_WANT_END
	};
	int ret = -1;

	buf_reset(why);
	if (ipc_scan(body, len, want, why) < 0)
		goto out;
	if (strcmp(buf_str(&req), "lookup") != 0) {
		buf_printf(why, "unknown request \"%.16s\"", buf_str(&req));
		goto out;
	}
	if (!proxy_table_valid(&r->table)) {
		buf_sets(why, "table name is not type:name");
		goto out;
	}
	if (flags < 0 || (flags & ~(int64_t)PROXY_FLAG_MASK) != 0) {
		buf_printf(why, "unknown flags 0x%llx", (unsigned long long)
		    flags);
		goto out;
	}
	r->flags = (int)flags;
	ret = 0;
out:
	buf_free(&req);
	return ret;
}

/* proxy_reply_build - a reply frame into frame; value may be NULL */
void
proxy_reply_build(struct buf *frame, int status, const char *value)
{
	ipc_begin(frame);
	ipc_put_int(frame, "status", status);
	ipc_put_str(frame, "value", value ? value : "");
	ipc_end(frame);
}

/*
 * proxy_reply_parse - decode a reply body strictly: the status into
 * *status and the value into value.  Returns 0, or -1 with a reason.
 */
int
proxy_reply_parse(const char *body, size_t len, int *status,
    struct buf *value, struct buf *why)
{
	int64_t st = -1;
	struct ipc_want want[] = {
		IPC_WANT_INT("status", &st),
		IPC_WANT_STR("value", value, PROXY_VALUE_MAX),
		IPC_WANT_END
	};

	buf_reset(why);
	if (ipc_scan(body, len, want, why) < 0)
		return -1;
	if (st < 0 || st > PROXY_STAT_MAX) {
		buf_printf(why, "unknown status %lld", (long long)st);
		return -1;
	}
	*status = (int)st;
	return 0;
}

/* proxy_status_name - text for a status, for log lines */
const char *
proxy_status_name(int status)
{
	static const char *const names[] = {
		"ok", "notfound", "retry", "bad", "deny",
	};

	return status >= 0 && status <= PROXY_STAT_MAX ? names[status] :
	    "unknown";
}

/* proxymap_clnt_init - decide once how to reach the socket (see above) */
void
proxymap_clnt_init(void)
{
	struct stat here, queue;
	const char *qdir = mail_cfg.queue_directory;

	if (pm_path != NULL)
		return;
	if (qdir == NULL || *qdir != '/' || stat(".", &here) < 0 ||
	    stat(qdir, &queue) < 0 || (here.st_dev == queue.st_dev &&
	    here.st_ino == queue.st_ino))
		pm_path = xstrdup(PROXYMAP_SERVICE);
	else
		pm_path = xasprintf("%s/%s", qdir, PROXYMAP_SERVICE);
}

/* proxymap_clnt_close - drop the connection */
void
proxymap_clnt_close(void)
{
	if (pm_stream)
		stream_close(pm_stream);
	pm_stream = NULL;
}

/* pm_timeout - seconds for connect and each read and write */
static int
pm_timeout(void)
{
	return mail_cfg.ipc_timeout > 0 ? (int)mail_cfg.ipc_timeout : 3600;
}

/*
 * proxymap_lookup - ask proxymap to look key up in table ("type:name")
 * with PROXY_FLAG_* flags.  Returns the reply status (PROXY_STAT_*) with
 * the value (the result, or the daemon's reason for an error status), or
 * -1 with a reason when no sensible answer could be had.
 */
int
proxymap_lookup(const char *table, int flags, const char *key,
    struct buf *value, struct buf *why)
{
	struct buf req = BUF_INIT, reply = BUF_INIT, err = BUF_INIT;
	int attempt, status = -1;

	proxymap_clnt_init();
	/* A long-idle connection may have been closed by the daemon. */
	if (pm_stream && time_mono_ms() - pm_last_use >
	    mail_cfg.ipc_idle * 1000)
		proxymap_clnt_close();
	proxy_request_build(&req, table, flags, key);
	/* A kept connection that fails gets one more try on a new one. */
	for (attempt = 0; attempt < 2; attempt++) {
		int reused = pm_stream != NULL;

		buf_reset(&err);
		if (!reused && (pm_stream = ipc_connect(pm_path,
		    PROXYMAP_PROTO, pm_timeout(), &err)) == NULL)
			break;
		if (ipc_call(pm_stream, &req, &reply, &err) == 0) {
			if (proxy_reply_parse(reply.p, reply.len, &status,
			    value, &err) == 0) {
				pm_last_use = time_mono_ms();
				break;
			}
			buf_printf(&err, " (malformed reply)");
			proxymap_clnt_close();
			break;
		}
		proxymap_clnt_close();
		if (!reused)
			break;
	}
	if (status < 0) {
		buf_reset(why);
		buf_printf(why, "no answer from proxymap: %s",
		    buf_str(&err));
	}
	buf_free(&req);
	buf_free(&reply);
	buf_free(&err);
	return status;
}
