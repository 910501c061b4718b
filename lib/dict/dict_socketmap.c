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
#include "dict_socketmap.h"

#define SOCKETMAP_TIMEOUT	100		/* seconds per step */
#define SOCKETMAP_MAX_IDLE	10000		/* ms */
#define SOCKETMAP_MAX_TTL	100000		/* ms */

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

/*
 * dict_socketmap_parse - a reply in (p, len): one netstring "LEN:DATA,"
 * whose DATA is "OK value", "NOTFOUND ", or "TEMP|TIMEOUT|PERM reason".
 * Returns DICT_FOUND (value set), DICT_NOTFOUND, DICT_ERROR with a reason
 * (an error reply or a malformed one: *bad says which), or
 * SOCKETMAP_MORE when the netstring is not complete yet.  *used gets the
 * bytes of a complete netstring.
 */
int
dict_socketmap_parse(const char *p, size_t len, size_t *used,
    struct buf *value, struct buf *why, int *bad)
{
	static const char *const errs[] = {"TEMP", "TIMEOUT", "PERM", NULL};
	size_t n = 0, digits = 0, dlen, i, w;
	const char *data;

	*bad = 1;
	while (digits < len && p[digits] >= '0' && p[digits] <= '9') {
		if (digits > 0 && n == 0) {
			buf_sets(why, "malformed reply (leading zero)");
			return DICT_ERROR;
		}
		n = n * 10 + (size_t)(p[digits] - '0');
		digits++;
		if (n > SOCKETMAP_MAX_REPLY) {
			buf_printf(why, "reply longer than %d bytes",
			    SOCKETMAP_MAX_REPLY);
			return DICT_ERROR;
		}
	}
	if (digits == len)
		return SOCKETMAP_MORE;
	if (digits == 0 || p[digits] != ':') {
		buf_sets(why, "malformed reply (no netstring length)");
		return DICT_ERROR;
	}
	if (len - digits - 1 < n + 1)
		return SOCKETMAP_MORE;
	data = p + digits + 1;
	if (data[n] != ',') {
		buf_sets(why, "malformed reply (no netstring end)");
		return DICT_ERROR;
	}
	*used = digits + 1 + n + 1;
	if (memchr(data, 0, n) != NULL) {
		buf_sets(why, "malformed reply (NUL byte)");
		return DICT_ERROR;
	}
	for (w = 0; w < n && data[w] != ' '; w++)
		;
	dlen = w < n ? n - w - 1 : 0;
	if (w == 2 && memcmp(data, "OK", 2) == 0) {
		*bad = 0;
		buf_set(value, data + n - dlen, dlen);
		return DICT_FOUND;
	}
	if (w == 8 && memcmp(data, "NOTFOUND", 8) == 0) {
		*bad = 0;
		return DICT_NOTFOUND;
	}
	for (i = 0; errs[i]; i++)
		if (strlen(errs[i]) == w && memcmp(data, errs[i], w) == 0) {
			*bad = 0;
			buf_printf(why, "server said %s%s%.*s", errs[i],
			    dlen ? ": " : "", (int)(dlen > 200 ? 200 : dlen),
			    data + n - dlen);
			return DICT_ERROR;
		}
	buf_printf(why, "malformed reply \"%.*s\"", (int)(n > 100 ? 100 : n),
	    data);
	return DICT_ERROR;
}

/*
 * sm_read_reply - read one netstring into raw (bounded: the length is
 * read digit by digit and checked before the data) and parse it
 */
static int
sm_read_reply(struct stream *s, struct buf *raw, struct buf *value,
    struct buf *why, int *bad)
{
	size_t used, want;
	int c, r;

	buf_reset(raw);
	*bad = 1;
	for (;;) {
		r = dict_socketmap_parse(raw->p ? raw->p : "", raw->len, &used,
		    value, why, bad);
		if (r != SOCKETMAP_MORE)
			return r;
		if (raw->len > 0 && memchr(raw->p, ':', raw->len) != NULL) {
			/* The length is known: read the rest at once. */
			want = (size_t)strtoul(raw->p, NULL, 10) +
			    (size_t)(strchr(raw->p, ':') - raw->p) + 2 -
			    raw->len;
			buf_reserve(raw, want + 1);
			if (stream_read(s, raw->p + raw->len, want) < 0) {
				buf_printf(why, "read reply: %s",
				    stream_strerror(s));
				return DICT_ERROR;
			}
			raw->len += want;
			raw->p[raw->len] = 0;
			continue;
		}
		if ((c = stream_getc(s)) < 0) {
			buf_printf(why, "read reply: %s", stream_strerror(s));
			return DICT_ERROR;
		}
		buf_putc(raw, c);
	}
}

/*
 * sm_exchange - send one request and read the reply over the kept
 * connection (or a new one).  DICT_* result; *io is set when the
 * request or the reply was lost (worth one more try on a new connection).
 */
static int
sm_exchange(struct dict_sm *m, const char *key, struct buf *value,
    struct buf *why, int *io)
{
	struct buf raw = BUF_INIT;
	int64_t now = time_mono_ms();
	int fd, r, bad;

	*io = 0;
	if (m->s && (now - m->used > SOCKETMAP_MAX_IDLE ||
	    now - m->opened > SOCKETMAP_MAX_TTL))
		sm_disconnect(m);
	if (m->s == NULL) {
		if ((fd = sock_endpoint_connect(m->kind, m->addr,
		    SOCKETMAP_TIMEOUT, why)) < 0)
			return DICT_ERROR;
		m->s = stream_open(fd, SOCKETMAP_TIMEOUT);
		m->opened = now;
	}
	m->used = now;
	stream_printf(m->s, "%zu:%s %s,", strlen(m->map) + 1 + strlen(key),
	    m->map, key);
	if (stream_flush(m->s) < 0) {
		buf_printf(why, "write request: %s", stream_strerror(m->s));
		sm_disconnect(m);
		*io = 1;
		return DICT_ERROR;
	}
	r = sm_read_reply(m->s, &raw, value, why, &bad);
	if (r == DICT_ERROR && bad) {
		/* Lost or malformed: this connection cannot be trusted. */
		*io = stream_error(m->s) != 0;
		sm_disconnect(m);
	}
	buf_free(&raw);
	return r;
}

/* dict_socketmap_lookup - ask the server */
static int
dict_socketmap_lookup(struct dict *d, const char *key, struct buf *value,
    struct buf *why)
{
	struct dict_sm *m = (struct dict_sm *)d;
	int r, io, reused = m->s != NULL;

	if (*key == 0)
		return DICT_NOTFOUND;
	r = sm_exchange(m, key, value, why, &io);
	if (r == DICT_ERROR && io && reused) {
		/* A kept connection may have been closed by the server. */
		buf_reset(why);
		r = sm_exchange(m, key, value, why, &io);
	}
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
