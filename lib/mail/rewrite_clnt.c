/*
 * NAME		rewrite_clnt - address rewriting and resolving client
 * DESCRIPTION	The connection is opened on first use and reused; after an
 *		error it is reopened once and the request repeated, so that a
 *		restarted trivial-rewrite is transparent.  Results are cached
 *		per process for a few seconds (trivial-rewrite answers depend
 *		only on configuration, which changes only with a reload).
 * SEE ALSO	trivial-rewrite(8), doc/ipc.md
 */
#include <stdlib.h>
#include <string.h>

#include "util/events.h"
#include "util/htable.h"
#include "util/log.h"
#include "util/mem.h"
#include "ipc.h"
#include "mail_conf.h"
#include "rewrite_clnt.h"

#define RW_CACHE_MAX	5000
#define RW_CACHE_TTL_MS	30000

static struct stream *rw_stream;
static int64_t rw_last_use;

struct rw_cache_ent {
	int64_t	 when;
	int	 flags;
	char	*a, *b, *c;
};

static struct htable *rw_cache;

/* rw_cache_free - htable destructor */
static void
rw_cache_free(void *p)
{
	struct rw_cache_ent *e = p;

	free(e->a);
	free(e->b);
	free(e->c);
	free(e);
}

/* rw_cache_get - a fresh cached answer or NULL */
static struct rw_cache_ent *
rw_cache_get(const char *key)
{
	struct rw_cache_ent *e;

	if (rw_cache == NULL)
		return NULL;
	e = htable_find(rw_cache, key);
	if (e && time_mono_ms() - e->when > RW_CACHE_TTL_MS) {
		htable_delete(rw_cache, key, rw_cache_free);
		return NULL;
	}
	return e;
}

/* rw_cache_put - remember an answer */
static void
rw_cache_put(const char *key, int flags, const char *a, const char *b,
    const char *c)
{
	struct rw_cache_ent *e;

	if (rw_cache == NULL)
		rw_cache = htable_create(256);
	if (rw_cache->used >= RW_CACHE_MAX) {
		htable_free(rw_cache, rw_cache_free);
		rw_cache = htable_create(256);
	}
	htable_delete(rw_cache, key, rw_cache_free);
	e = xcalloc(1, sizeof(*e));
	e->when = time_mono_ms();
	e->flags = flags;
	e->a = xstrdup(a);
	e->b = xstrdup(b ? b : "");
	e->c = xstrdup(c ? c : "");
	htable_enter(rw_cache, key, e);
}

/* rewrite_clnt_close - drop the cached connection */
void
rewrite_clnt_close(void)
{
	stream_close(rw_stream);
	rw_stream = NULL;
}

/* rw_call - one request/reply with one reconnect */
static int
rw_call(struct buf *req, struct buf *reply, struct buf *why)
{
	int attempt;

	/* A long-idle connection may have been closed by the server. */
	if (rw_stream && time_mono_ms() - rw_last_use >
	    mail_cfg.ipc_idle * 1000)
		rewrite_clnt_close();
	for (attempt = 0; attempt < 2; attempt++) {
		buf_reset(why);
		if (rw_stream == NULL &&
		    (rw_stream = ipc_connect("private/rewrite", REWRITE_PROTO,
		    (int)mail_cfg.ipc_timeout, why)) == NULL)
			continue;
		if (ipc_call(rw_stream, req, reply, why) == 0) {
			rw_last_use = time_mono_ms();
			return 0;
		}
		rewrite_clnt_close();
	}
	return -1;
}

/*
 * rewrite_addr - canonical form of addr under rule ("local" or
 * "remote").  Returns 0, or -1 with a reason (service unavailable).
 */
int
rewrite_addr(const char *rule, const char *addr, struct buf *out,
    struct buf *why)
{
	struct buf req = BUF_INIT, reply = BUF_INIT, key = BUF_INIT;
	int64_t flags = 0;
	struct ipc_want want[] = {
		IPC_WANT_INT("flags", &flags),
		IPC_WANT_STR("address", out, 4096),
		IPC_WANT_END
	};
	struct rw_cache_ent *e;
	int r = -1;

	buf_printf(&key, "w\t%s\t%s", rule, addr);
	if ((e = rw_cache_get(key.p)) != NULL) {
		buf_sets(out, e->a);
		buf_free(&key);
		return 0;
	}
	ipc_begin(&req);
	ipc_put_str(&req, "request", "rewrite");
	ipc_put_str(&req, "rule", rule);
	ipc_put_str(&req, "address", addr);
	ipc_end(&req);
	if (rw_call(&req, &reply, why) == 0 &&
	    ipc_scan(reply.p, reply.len, want, why) == 0) {
		rw_cache_put(key.p, (int)flags, buf_str(out), NULL, NULL);
		r = 0;
	}
	buf_free(&req);
	buf_free(&reply);
	buf_free(&key);
	return r;
}

/* resolve_reply_init - empty reply */
void
resolve_reply_init(struct resolve_reply *r)
{
	buf_init(&r->transport);
	buf_init(&r->nexthop);
	buf_init(&r->recipient);
	r->flags = 0;
}

/* resolve_reply_free - release a reply */
void
resolve_reply_free(struct resolve_reply *r)
{
	buf_free(&r->transport);
	buf_free(&r->nexthop);
	buf_free(&r->recipient);
}

/*
 * resolve_addr - where does mail for addr go?  Returns 0, or -1 with a
 * reason when the service is unavailable.
 */
int
resolve_addr(const char *sender, const char *addr, struct resolve_reply *out,
    struct buf *why)
{
	struct buf req = BUF_INIT, reply = BUF_INIT, key = BUF_INIT;
	int64_t flags = 0;
	struct ipc_want want[] = {
		IPC_WANT_INT("flags", &flags),
		IPC_WANT_STR("transport", &out->transport, 256),
		IPC_WANT_STR("nexthop", &out->nexthop, 1024),
		IPC_WANT_STR("recipient", &out->recipient, 4096),
		IPC_WANT_END
	};
	struct rw_cache_ent *e;
	int r = -1;

	buf_printf(&key, "r\t%s\t%s", sender ? sender : "", addr);
	if ((e = rw_cache_get(key.p)) != NULL) {
		buf_sets(&out->transport, e->a);
		buf_sets(&out->nexthop, e->b);
		buf_sets(&out->recipient, e->c);
		out->flags = e->flags;
		buf_free(&key);
		return 0;
	}
	ipc_begin(&req);
	ipc_put_str(&req, "request", "resolve");
	ipc_put_str(&req, "sender", sender ? sender : "");
	ipc_put_str(&req, "address", addr);
	ipc_end(&req);
	if (rw_call(&req, &reply, why) == 0 &&
	    ipc_scan(reply.p, reply.len, want, why) == 0) {
		out->flags = (int)flags;
		/* Lookup errors are not cached: try again next time. */
		if (!(out->flags & RESOLVE_FLAG_ERROR))
			rw_cache_put(key.p, out->flags,
			    buf_str(&out->transport), buf_str(&out->nexthop),
			    buf_str(&out->recipient));
		r = 0;
	}
	buf_free(&req);
	buf_free(&reply);
	buf_free(&key);
	return r;
}
