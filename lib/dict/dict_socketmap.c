/*
 * NAME		dict_socketmap - the socketmap lookup client
 * DESCRIPTION	socketmap:inet:host:port:name and socketmap:unix:path:name
 *		ask a server (Sendmail's socketmap protocol, as postsrsd
 *		and other map servers speak it): the request is one
 *		netstring "name key", the reply one netstring "OK data",
 *		"NOTFOUND ", or "TEMP reason", "TIMEOUT reason", "PERM
 *		reason", each of which is a lookup error (a temporary
 *		failure for the caller).  As in Postfix: a 100 s limit to
 *		connect, send and receive; a connection idle for 10 s, or
 *		open for 100 s, is closed before the next request; replies
 *		longer than 100000 bytes are errors.  The connection is made
 *		at the first lookup.  A request over a kept connection that
 *		fails is tried once more over a new one.  Hosts are IP
 *		addresses or "localhost": no name is looked up.
 * SECURITY	The reply length is read digit by digit and bounded before
 *		anything is allocated; a reply that is not a well-formed
 *		netstring closes the connection.
 * SEE ALSO	doc/tables.md
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "util/events.h"
#include "util/mem.h"
#include "util/sock.h"
#include "util/stream.h"
#include "util/strutil.h"
#include "dict.h"
#include "dict_impl.h"

#define SOCKETMAP_TIMEOUT	100		/* seconds per step */
#define SOCKETMAP_MAX_IDLE	10000		/* ms */
#define SOCKETMAP_MAX_TTL	100000		/* ms */
#define SOCKETMAP_MAX_REPLY	100000		/* bytes */

struct dict_sm {
	struct dict dict;
	char	*kind;			/* "inet" or "unix" */
	char	*addr;			/* host:port or path */
	char	*map;			/* the name field of requests */
	struct stream *s;
	int64_t	 opened;
	int64_t	 used;
};

/* sm_disconnect - forget the connection */
static void
sm_disconnect(struct dict_sm *m)
{
	if (m->s)
		stream_close(m->s);
	m->s = NULL;
}

/* sm_read_netstring - one reply into out; 0, or -1 with a reason */
static int
sm_read_netstring(struct stream *s, struct buf *out, struct buf *why)
{
	size_t len = 0, digits = 0;
	int c;

	while ((c = stream_getc(s)) >= '0' && c <= '9') {
		if (digits++ > 0 && len == 0) {
			buf_sets(why, "malformed reply (leading zero)");
			return -1;
		}
		len = len * 10 + (size_t)(c - '0');
		if (len > SOCKETMAP_MAX_REPLY) {
			buf_printf(why, "reply longer than %d bytes",
			    SOCKETMAP_MAX_REPLY);
			return -1;
		}
	}
	if (c < 0) {
		buf_printf(why, "read reply: %s", stream_strerror(s));
		return -1;
	}
	if (digits == 0 || c != ':') {
		buf_sets(why, "malformed reply (no netstring length)");
		return -1;
	}
	buf_reset(out);
	buf_reserve(out, len + 1);
	if (len > 0 && stream_read(s, out->p, len) < 0) {
		buf_printf(why, "read reply: %s", stream_strerror(s));
		return -1;
	}
	out->len = len;
	out->p[len] = 0;
	if ((c = stream_getc(s)) != ',') {
		buf_sets(why, c < 0 ? "read reply: connection closed" :
		    "malformed reply (no netstring end)");
		return -1;
	}
	return 0;
}

/*
 * sm_exchange - send one request and read the reply over the kept
 * connection (or a new one); 0, or -1 with a reason
 */
static int
sm_exchange(struct dict_sm *m, const char *key, struct buf *reply,
    struct buf *why)
{
	int64_t now = time_mono_ms();
	int fd;

	if (m->s && (now - m->used > SOCKETMAP_MAX_IDLE ||
	    now - m->opened > SOCKETMAP_MAX_TTL))
		sm_disconnect(m);
	if (m->s == NULL) {
		if ((fd = sock_endpoint_connect(m->kind, m->addr,
		    SOCKETMAP_TIMEOUT, why)) < 0)
			return -1;
		m->s = stream_open(fd, SOCKETMAP_TIMEOUT);
		m->opened = now;
	}
	m->used = now;
	stream_printf(m->s, "%zu:%s %s,", strlen(m->map) + 1 + strlen(key),
	    m->map, key);
	if (stream_flush(m->s) < 0) {
		buf_printf(why, "write request: %s", stream_strerror(m->s));
		sm_disconnect(m);
		return -1;
	}
	if (sm_read_netstring(m->s, reply, why) < 0) {
		sm_disconnect(m);
		return -1;
	}
	return 0;
}

/* sm_status - does the reply start with this status word? */
static int
sm_status(const struct buf *r, const char *word, const char **rest)
{
	size_t n = strlen(word);

	if (r->len < n || memcmp(r->p, word, n) != 0 ||
	    (r->len > n && r->p[n] != ' '))
		return 0;
	*rest = r->len > n ? r->p + n + 1 : "";
	return 1;
}

/* dict_socketmap_lookup - ask the server */
static int
dict_socketmap_lookup(struct dict *d, const char *key, struct buf *value,
    struct buf *why)
{
	static const char *const errs[] = {"TEMP", "TIMEOUT", "PERM", NULL};
	struct dict_sm *m = (struct dict_sm *)d;
	struct buf reply = BUF_INIT;
	const char *rest;
	int r = DICT_ERROR, reused = m->s != NULL;
	size_t i;

	if (*key == 0) {
		buf_free(&reply);
		return DICT_NOTFOUND;
	}
	if (sm_exchange(m, key, &reply, why) < 0) {
		/* A kept connection may have been closed by the server. */
		if (!reused) {
			buf_free(&reply);
			return DICT_ERROR;
		}
		buf_reset(why);
		if (sm_exchange(m, key, &reply, why) < 0) {
			buf_free(&reply);
			return DICT_ERROR;
		}
	}
	if (memchr(reply.p, 0, reply.len) != NULL) {
		buf_sets(why, "malformed reply (NUL byte)");
		sm_disconnect(m);
	} else if (sm_status(&reply, "OK", &rest)) {
		buf_sets(value, rest);
		r = DICT_FOUND;
	} else if (sm_status(&reply, "NOTFOUND", &rest)) {
		r = DICT_NOTFOUND;
	} else {
		for (i = 0; errs[i]; i++)
			if (sm_status(&reply, errs[i], &rest))
				break;
		if (errs[i])
			buf_printf(why, "server said %s%s%.200s", errs[i],
			    *rest ? ": " : "", rest);
		else
			buf_printf(why, "malformed reply \"%.100s\"",
			    reply.p);
	}
	buf_free(&reply);
	return r;
}

/* dict_socketmap_close - close the connection and free the table */
static void
dict_socketmap_close(struct dict *d)
{
	struct dict_sm *m = (struct dict_sm *)d;

	sm_disconnect(m);
	free(m->kind);
	free(m->addr);
	free(m->map);
	free(m);
}

/*
 * dict_socketmap_open - "inet:host:port:name" or "unix:path:name"; no
 * connection is made yet
 */
struct dict *
dict_socketmap_open(const char *name, int flags, struct buf *why)
{
	struct dict_sm *m;
	const char *rest, *colon;
	const char *kind;

	if (str_caseprefix(name, "inet:"))
		kind = "inet", rest = name + 5;
	else if (str_caseprefix(name, "unix:"))
		kind = "unix", rest = name + 5;
	else {
		buf_printf(why, "socketmap:%s: need inet:host:port:name or "
		    "unix:pathname:name", name);
		return NULL;
	}
	colon = strrchr(rest, ':');
	if (colon == NULL || colon == rest || colon[1] == 0 ||
	    strpbrk(colon + 1, " \t\r\n,") != NULL || strlen(name) > 1024) {
		buf_printf(why, "socketmap:%s: need inet:host:port:name or "
		    "unix:pathname:name", name);
		return NULL;
	}
	m = xcalloc(1, sizeof(*m));
	m->kind = xstrdup(kind);
	m->addr = xstrndup(rest, (size_t)(colon - rest));
	m->map = xstrdup(colon + 1);
	if (strcmp(kind, "inet") == 0 && strrchr(m->addr, ':') == NULL) {
		buf_printf(why, "socketmap:%s: need inet:host:port:name",
		    name);
		dict_socketmap_close(&m->dict);
		return NULL;
	}
	m->dict.flags = flags | DICT_FLAG_PATTERN;
	m->dict.lookup = dict_socketmap_lookup;
	m->dict.close = dict_socketmap_close;
	return &m->dict;
}
