/*
 * NAME		anvil - anvil(8)'s client table and request handling
 * DESCRIPTION	anvil_tab_request() applies one request to the table:
 *
 *		connect		count one more open connection and one more
 *				connection in this time unit; the anvil client
 *				(local) remembers it
 *		disconnect	one connection fewer (only one that this
 *				anvil client counted; others are ignored)
 *		message,	one more MAIL FROM, RCPT TO or AUTH in this
 *		recipient, auth	time unit
 *		lookup		the counts, changing nothing
 *
 *		Rates are counted in fixed windows of anvil_rate_time_unit
 *		that start with a client's first event, as in Postfix: when
 *		a window is over, the next event starts a new one at zero.
 *		An entry without open connections whose window is over is
 *		removed (anvil_tab_expire(), run at least once a second
 *		while requests come and once per time unit).  The table
 *		holds at most ANVIL_ENTRIES_MAX entries: a new client that
 *		finds it full (after expiry) is not counted, its request
 *		is answered with status FAIL (smtpd then does not limit it)
 *		and the log says so once per status interval.  When an anvil
 *		client goes away, the connections it counted are released
 *		(anvil_local_drop()).
 *
 *		anvil_tab_stats() logs and resets the maxima seen since
 *		the last call, in Postfix's words ("statistics: max
 *		connection rate 3/60s for (smtp:192.0.2.1) at Nov 23
 *		09:33:49", "max connection count", "max message rate",
 *		"max recipient rate", "max AUTH rate", "max cache size").
 *
 *		anvil_serve() decodes a request frame body, applies it and
 *		builds the reply frame.
 * SECURITY	Requests come from local daemons but are decoded strictly
 *		(lib/mail/anvil_clnt.c); counts saturate instead of
 *		overflowing; memory is bounded by the entry limits.
 * SEE ALSO	anvil(8), doc/anvil.md
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "util/argv.h"
#include "util/htable.h"
#include "util/log.h"
#include "util/mem.h"
#include "util/strutil.h"
#include "anvil.h"

/* anvil_tab_new - an empty table of at most max entries */
struct anvil_tab *
anvil_tab_new(size_t max, int64_t unit_ms)
{
	struct anvil_tab *t = xcalloc(1, sizeof(*t));

	t->h = htable_create(1024);
	t->max = max;
	t->unit_ms = unit_ms > 0 ? unit_ms : 1;
	return t;
}

/* anvil_tab_free - release the table */
void
anvil_tab_free(struct anvil_tab *t)
{
	if (t == NULL)
		return;
	htable_free(t->h, free);
	free(t);
}

/* inc - add one, saturating */
static int
inc(int *v)
{
	if (*v < INT_MAX)
		(*v)++;
	return *v;
}

/* anvil_note - a new maximum? */
static void
anvil_note(struct anvil_max *m, long value, const char *ident)
{
	if (value <= m->value)
		return;
	m->value = value;
	strlcpy_trunc(m->ident, ident, sizeof(m->ident));
	m->when = time(NULL);
}

/* anvil_window - start a new time unit when the last one is over */
static void
anvil_window(struct anvil_tab *t, struct anvil_entry *e, int64_t now)
{
	if (now - e->start >= t->unit_ms || now < e->start) {
		e->start = now;
		e->conn_rate = e->mail_rate = e->rcpt_rate = e->auth_rate = 0;
	}
}

/* anvil_expire_one - collect an idle entry whose time unit is over */
struct anvil_sweep {
	struct anvil_tab *t;
	int64_t	 now;
	struct argv *dead;
};

static void
anvil_expire_one(struct hnode *n, void *ctx)
{
	struct anvil_sweep *s = ctx;
	struct anvil_entry *e = n->value;

	if (e->count <= 0 && (s->now - e->start >= s->t->unit_ms ||
	    s->now < e->start))
		argv_add(s->dead, n->key);
}

/* anvil_tab_expire - remove idle entries; the number removed */
size_t
anvil_tab_expire(struct anvil_tab *t, int64_t now)
{
	struct anvil_sweep s = { t, now, argv_new() };
	size_t i;

	htable_walk(t->h, anvil_expire_one, &s);
	for (i = 0; i < s.dead->n; i++)
		if (htable_delete(t->h, s.dead->v[i], free) == 0)
			t->n--;
	i = s.dead->n;
	argv_free(s.dead);
	return i;
}

/* anvil_local_find - the slot of ident in local, or -1 */
static int
anvil_local_find(const struct anvil_local *l, const char *ident)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		if (strcmp(l->ident[i], ident) == 0)
			return (int)i;
	return -1;
}

/* anvil_local_remove - forget slot i */
static void
anvil_local_remove(struct anvil_local *l, size_t i)
{
	free(l->ident[i]);
	l->n--;
	l->ident[i] = l->ident[l->n];
	l->count[i] = l->count[l->n];
	l->ident[l->n] = NULL;
}

/* anvil_entry_get - the entry of ident, created if need be; NULL: full */
static struct anvil_entry *
anvil_entry_get(struct anvil_tab *t, const char *ident, int64_t now)
{
	struct anvil_entry *e = htable_find(t->h, ident);

	if (e != NULL)
		return e;
	if (t->n >= t->max)
		(void)anvil_tab_expire(t, now);
	if (t->n >= t->max) {
		if (!t->full_warned) {
			log_warn("client table is full (%zu clients) -- not "
			    "counting %s or other new clients until entries "
			    "expire", t->max, ident);
			t->full_warned = 1;
		}
		return NULL;
	}
	e = xcalloc(1, sizeof(*e));
	e->start = now;
	htable_enter(t->h, ident, e);
	t->n++;
	if (t->n > t->max_size) {
		t->max_size = t->n;
		t->max_size_when = time(NULL);
	}
	return e;
}

/* anvil_fill - the counts of an entry (or zeros) */
static void
anvil_fill(const struct anvil_entry *e, struct anvil_counts *c)
{
	memset(c, 0, sizeof(*c));
	if (e == NULL)
		return;
	c->count = e->count;
	c->rate = e->conn_rate;
	c->mail = e->mail_rate;
	c->rcpt = e->rcpt_rate;
	c->auth = e->auth_rate;
}

/*
 * anvil_tab_request - apply request req for ident from anvil client
 * local at time now.  ANVIL_STAT_OK with the counts after the change, or
 * ANVIL_STAT_FAIL (table full, or this client holds too many
 * connections).
 */
int
anvil_tab_request(struct anvil_tab *t, struct anvil_local *l, int req,
    const char *ident, int64_t now, struct anvil_counts *c)
{
	struct anvil_entry *e = htable_find(t->h, ident);
	int i;

	memset(c, 0, sizeof(*c));
	switch (req) {
	case ANVIL_REQ_LOOKUP:
		if (e)
			anvil_window(t, e, now);
		anvil_fill(e, c);
		return ANVIL_STAT_OK;
	case ANVIL_REQ_DISCONNECT:
		if ((i = anvil_local_find(l, ident)) < 0)
			return ANVIL_STAT_OK;
		if (--l->count[i] <= 0)
			anvil_local_remove(l, (size_t)i);
		if (e && e->count > 0)
			e->count--;
		anvil_fill(e, c);
		return ANVIL_STAT_OK;
	case ANVIL_REQ_CONNECT:
		i = anvil_local_find(l, ident);
		if (i < 0 && l->n >= ANVIL_LOCAL_MAX) {
			log_warn("a client holds %d connections -- not "
			    "counting %s", ANVIL_LOCAL_MAX, ident);
			return ANVIL_STAT_FAIL;
		}
		if ((e = anvil_entry_get(t, ident, now)) == NULL)
			return ANVIL_STAT_FAIL;
		if (i < 0) {
			i = (int)l->n++;
			l->ident[i] = xstrdup(ident);
			l->count[i] = 0;
		}
		inc(&l->count[i]);
		anvil_window(t, e, now);
		anvil_note(&t->max_conn_count, inc(&e->count), ident);
		anvil_note(&t->max_conn_rate, inc(&e->conn_rate), ident);
		break;
	case ANVIL_REQ_MESSAGE:
	case ANVIL_REQ_RECIPIENT:
	case ANVIL_REQ_AUTH:
		if ((e = anvil_entry_get(t, ident, now)) == NULL)
			return ANVIL_STAT_FAIL;
		anvil_window(t, e, now);
		if (req == ANVIL_REQ_MESSAGE)
			anvil_note(&t->max_mail_rate, inc(&e->mail_rate),
			    ident);
		else if (req == ANVIL_REQ_RECIPIENT)
			anvil_note(&t->max_rcpt_rate, inc(&e->rcpt_rate),
			    ident);
		else
			anvil_note(&t->max_auth_rate, inc(&e->auth_rate),
			    ident);
		break;
	default:
		return ANVIL_STAT_FAIL;
	}
	anvil_fill(e, c);
	return ANVIL_STAT_OK;
}

/* anvil_local_drop - an anvil client went away: release its connections */
void
anvil_local_drop(struct anvil_tab *t, struct anvil_local *l, int64_t now)
{
	struct anvil_entry *e;

	(void)now;
	while (l->n > 0) {
		if ((e = htable_find(t->h, l->ident[0])) != NULL) {
			e->count -= l->count[0];
			if (e->count < 0)
				e->count = 0;
		}
		anvil_local_remove(l, 0);
	}
}

/* anvil_when - "Nov 23 09:33:49", as Postfix's ctime() + 4 */
static const char *
anvil_when(time_t when, char *out, size_t size)
{
	struct tm tm;

	if (localtime_r(&when, &tm) == NULL ||
	    strftime(out, size, "%b %e %H:%M:%S", &tm) == 0)
		strlcpy_trunc(out, "?", size);
	return out;
}

/* anvil_stat_rate - one "max ... rate" line, then reset */
static void
anvil_stat_rate(struct anvil_max *m, const char *what, long unit)
{
	char when[32];

	if (m->value > 0)
		log_info("statistics: max %s rate %ld/%lds for (%s) at %s",
		    what, m->value, unit, m->ident, anvil_when(m->when, when,
		    sizeof(when)));
	memset(m, 0, sizeof(*m));
}

/* anvil_tab_stats - log and reset the maxima (unit: seconds) */
void
anvil_tab_stats(struct anvil_tab *t, long unit)
{
	char when[32];

	anvil_stat_rate(&t->max_conn_rate, "connection", unit);
	if (t->max_conn_count.value > 0)
		log_info("statistics: max connection count %ld for (%s) at %s",
		    t->max_conn_count.value, t->max_conn_count.ident,
		    anvil_when(t->max_conn_count.when, when, sizeof(when)));
	memset(&t->max_conn_count, 0, sizeof(t->max_conn_count));
	anvil_stat_rate(&t->max_mail_rate, "message", unit);
	anvil_stat_rate(&t->max_rcpt_rate, "recipient", unit);
	anvil_stat_rate(&t->max_auth_rate, "AUTH", unit);
	if (t->max_size > 0)
		log_info("statistics: max cache size %zu at %s", t->max_size,
		    anvil_when(t->max_size_when, when, sizeof(when)));
	t->max_size = 0;
	t->full_warned = 0;
}

/*
 * anvil_serve - one request frame body in, one reply frame out.
 * Returns 0, or -1 when the request was malformed (answered with FAIL
 * and logged).
 */
int
anvil_serve(struct anvil_tab *t, struct anvil_local *l, const char *body,
    size_t len, int64_t now, struct buf *reply)
{
	struct buf ident = BUF_INIT, why = BUF_INIT;
	struct anvil_counts c;
	int req = ANVIL_REQ_LOOKUP, st, rc = 0;

	buf_reset(reply);
	if (anvil_request_parse(body, len, &req, &ident, &why) < 0) {
		log_warn("malformed request: %s", buf_str(&why));
		anvil_reply_build(reply, req, ANVIL_STAT_FAIL, NULL);
		rc = -1;
	} else {
		st = anvil_tab_request(t, l, req, buf_str(&ident), now, &c);
		anvil_reply_build(reply, req, st, &c);
	}
	buf_free(&ident);
	buf_free(&why);
	return rc;
}
