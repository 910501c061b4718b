/*
 * NAME		session - SMTP/LMTP connections, handshake and reuse
 * DESCRIPTION	smtp_sess_open() connects to one address (TCP, or a
 *		UNIX-domain socket for LMTP), reads the greeting and sends
 *		EHLO (HELO when EHLO is refused or smtp_never_send_ehlo is
 *		set; LHLO for LMTP) and notes the extensions the server
 *		offers, less those listed in smtp_discard_ehlo_keywords.
 *		A 5XX greeting counts as a temporary failure that moves on
 *		to the next host when smtp_skip_5xx_greeting is set.  A
 *		server that answers EHLO with our own host name is a mail
 *		loop.
 *
 *		After a delivery the session may be kept in a cache of one
 *		(smtp_cache_put()) and reused by the next request for the
 *		same next hop (smtp_cache_take(); the caller sends RSET
 *		first).  It is closed with QUIT when it was idle for
 *		smtp_connection_cache_time_limit (smtp_cache_tick(), called
 *		by the single-server skeleton while it waits for the next
 *		request), when it is older than
 *		smtp_connection_reuse_time_limit, after
 *		smtp_connection_reuse_count_limit deliveries, when another
 *		next hop comes, and when the process exits.
 * SECURITY	All I/O goes through lib/util/stream (so TLS can be added
 *		beneath), with the time limits of the smtp_*_timeout
 *		parameters; replies are parsed with bounds (reply.c).
 * SEE ALSO	smtp(8), doc/smtp.md
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "mail/mail_conf.h"
#include "tls/tls.h"
#include "util/events.h"
#include "util/log.h"
#include "util/mem.h"
#include "util/sock.h"
#include "util/strutil.h"
#include "smtp.h"

static struct smtp_sess *smtp_cached;

/* smtp_err_set - record why a step failed */
void
smtp_err_set(struct smtp_err *e, int status, int final, const char *dsn,
    const char *fmt, ...)
{
	va_list ap;

	e->status = status;
	e->final = final;
	e->hop = 0;
	e->tls_retry_plain = 0;
	e->relay[0] = 0;
	strlcpy_trunc(e->dsn, dsn, sizeof(e->dsn));
	buf_reset(&e->why);
	va_start(ap, fmt);
	buf_vprintf(&e->why, fmt, ap);
	va_end(ap);
}

/* smtp_sess_lost - the reason for a broken stream during "while" */
void
smtp_sess_lost(struct smtp_sess *ss, const char *what, struct smtp_err *e)
{
	if (stream_error(ss->s) & STREAM_TIMEOUT)
		smtp_err_set(e, DEL_STAT_DEFER, 0, "4.4.2", "conversation "
		    "with %s timed out while %s", ss->namaddr, what);
	else
		smtp_err_set(e, DEL_STAT_DEFER, 0, "4.4.2", "lost connection "
		    "with %s while %s", ss->namaddr, what);
	e->hop = 1;
}

/* smtp_sess_free - close without saying goodbye */
void
smtp_sess_free(struct smtp_sess *ss)
{
	if (ss == NULL)
		return;
	if (ss->tls)
		tls_stream_stop(ss->s, 1);
	stream_close(ss->s);
	free(ss->key);
	free(ss->tls_key);
	free(ss->sasl_mechs);
	free(ss->sasl_user);
	free(ss);
}

/* smtp_command - send one command line now, with a time limit */
int
smtp_command(struct smtp_sess *ss, long timeout, const char *cmd)
{
	ss->s->timeout = (int)timeout;
	stream_puts(ss->s, cmd);
	stream_write(ss->s, "\r\n", 2);
	return stream_flush(ss->s);
}

/* smtp_sess_quit - say QUIT (and wait for the answer if so configured) */
void
smtp_sess_quit(struct smtp_sess *ss)
{
	struct smtp_reply r;
	struct buf why = BUF_INIT;

	if (ss == NULL)
		return;
	if (smtp_command(ss, smtp_cfg.quit_timeout, "QUIT") == 0 &&
	    !smtp_cfg.skip_quit_response) {
		smtp_reply_init(&r);
		(void)smtp_reply_read(ss->s, &r, &why);
		smtp_reply_free(&r);
	}
	buf_free(&why);
	smtp_sess_free(ss);
}

/* smtp_sess_rset - RSET before reuse; 0 if the server agreed */
int
smtp_sess_rset(struct smtp_sess *ss)
{
	struct smtp_reply r;
	struct buf why = BUF_INIT;
	int rc = -1;

	smtp_reply_init(&r);
	if (smtp_command(ss, smtp_cfg.rset_timeout, "RSET") == 0 &&
	    smtp_reply_read(ss->s, &r, &why) == SMTP_REPLY_OK &&
	    r.code / 100 == 2)
		rc = 0;
	smtp_reply_free(&r);
	buf_free(&why);
	return rc;
}

/* smtp_reply_error - a failure reply during the handshake */
void
smtp_reply_error(struct smtp_sess *ss, const struct smtp_reply *r,
    const char *cmd, struct smtp_err *e)
{
	struct buf text = BUF_INIT;

	smtp_reply_show(r, &text);
	if (r->code / 100 == 5)
		smtp_err_set(e, DEL_STAT_BOUNCE, 1, r->dsn, "host %s said: %s "
		    "(in reply to %s command)", ss->namaddr, buf_str(&text),
		    cmd);
	else
		smtp_err_set(e, DEL_STAT_DEFER, 0, r->dsn, "host %s said: %s "
		    "(in reply to %s command)", ss->namaddr, buf_str(&text),
		    cmd);
	buf_free(&text);
}

/* smtp_greeted_by_self - does the EHLO/HELO reply name this host? */
static int
smtp_greeted_by_self(const struct smtp_reply *r)
{
	const char *p = r->text.p;
	size_t len = r->text.len, n;
	const char *me = mail_cfg.myhostname;

	if (p == NULL || len <= 4)
		return 0;
	p += 4;
	len -= 4;
	n = strcspn(p, " \n");
	if (n > len)
		n = len;
	return n == strlen(me) && strncasecmp(p, me, n) == 0;
}

/* smtp_handshake - greeting and EHLO/HELO/LHLO; 0 or -1 */
static int
smtp_handshake(struct smtp_sess *ss, struct smtp_err *e)
{
	struct smtp_reply r;
	struct buf why = BUF_INIT, text = BUF_INIT;
	int rc = -1, st;

	smtp_reply_init(&r);
	ss->s->timeout = (int)smtp_cfg.helo_timeout;
	st = smtp_reply_read(ss->s, &r, &why);
	if (st == SMTP_REPLY_IOERR) {
		smtp_sess_lost(ss, "receiving the initial server greeting", e);
		goto out;
	}
	if (st == SMTP_REPLY_BAD) {
		smtp_err_set(e, DEL_STAT_DEFER, 0, "4.4.2", "host %s sent a "
		    "malformed reply (%s) while receiving the initial server "
		    "greeting", ss->namaddr, buf_str(&why));
		goto out;
	}
	if (r.code / 100 != 2) {
		smtp_reply_show(&r, &text);
		if (r.code / 100 == 5 && !smtp_cfg.skip_5xx_greeting) {
			smtp_err_set(e, DEL_STAT_BOUNCE, 1, r.dsn, "host %s "
			    "refused to talk to me: %s", ss->namaddr,
			    buf_str(&text));
		} else {
			char dsn[sizeof(r.dsn)];

			/* A skipped 5XX greeting is a soft error. */
			memcpy(dsn, r.dsn, sizeof(dsn));
			dsn[0] = '4';
			smtp_err_set(e, DEL_STAT_DEFER, 0, dsn, "host %s "
			    "refused to talk to me: %s", ss->namaddr,
			    buf_str(&text));
		}
		goto out;
	}
	rc = smtp_ehlo(ss, e);
out:
	smtp_reply_free(&r);
	buf_free(&why);
	buf_free(&text);
	return rc;
}

/*
 * smtp_ehlo - EHLO (or HELO, or LHLO) and the features of the reply; also
 * after STARTTLS.  0 or -1 with e.
 */
int
smtp_ehlo(struct smtp_sess *ss, struct smtp_err *e)
{
	struct smtp_reply r;
	struct buf why = BUF_INIT, cmd = BUF_INIT;
	const char *verb;
	int rc = -1, st;

	smtp_reply_init(&r);
	ss->features = 0;
	ss->size_max = 0;
	verb = smtp_cfg.lmtp ? "LHLO" : smtp_cfg.never_send_ehlo ? "HELO" :
	    "EHLO";
	for (;;) {
		buf_reset(&cmd);
		buf_printf(&cmd, "%s %s", verb, smtp_cfg.helo_name);
		if (smtp_command(ss, smtp_cfg.helo_timeout,
		    buf_str(&cmd)) < 0 ||
		    (st = smtp_reply_read(ss->s, &r, &why)) ==
		    SMTP_REPLY_IOERR) {
			smtp_sess_lost(ss, strcmp(verb, "LHLO") == 0 ?
			    "performing the LHLO handshake" :
			    strcmp(verb, "EHLO") == 0 ?
			    "performing the EHLO handshake" :
			    "performing the HELO handshake", e);
			goto out;
		}
		if (st == SMTP_REPLY_BAD) {
			smtp_err_set(e, DEL_STAT_DEFER, 0, "4.4.2", "host %s "
			    "sent a malformed reply (%s) in reply to %s",
			    ss->namaddr, buf_str(&why), verb);
			goto out;
		}
		if (r.code / 100 == 2)
			break;
		/* EHLO refused: try HELO, as RFC 5321 suggests (but 421
		 * means the server is closing). */
		if (strcmp(verb, "EHLO") == 0 && r.code != 421) {
			verb = "HELO";
			continue;
		}
		smtp_reply_error(ss, &r, verb, e);
		goto out;
	}
	if (!smtp_cfg.lmtp && smtp_greeted_by_self(&r)) {
		log_warn("host %s replied to HELO/EHLO with my own hostname %s",
		    ss->namaddr, mail_cfg.myhostname);
		if (ss->best)
			smtp_err_set(e, DEL_STAT_BOUNCE, 1, "5.4.6", "mail for "
			    "%s loops back to myself", ss->namaddr);
		else
			smtp_err_set(e, DEL_STAT_DEFER, 0, "4.4.6", "mail for "
			    "%s loops back to myself", ss->namaddr);
		goto out;
	}
	if (strcmp(verb, "HELO") != 0) {
		ss->features = smtp_ehlo_features(&r,
		    smtp_cfg.discard_keywords, &ss->size_max);
		/* SMTP AUTH mechanisms (auth.c). */
		smtp_ehlo_auth(&r, smtp_cfg.discard_keywords, ss);
	}
	rc = 0;
out:
	smtp_reply_free(&r);
	buf_free(&why);
	buf_free(&cmd);
	return rc;
}

/*
 * smtp_sess_open - connect to one address and complete the handshake.
 * Returns 0 with a session in *out, or -1 with the reason in e.
 */
int
smtp_sess_open(const struct smtp_addr *a, const struct smtp_conn *ci,
    struct smtp_sess **out, struct smtp_err *e)
{
	struct smtp_sess *ss;
	int fd, timeout = (int)smtp_cfg.connect_timeout;

	*out = NULL;
	/* A time limit of 0 leaves it to the kernel. */
	if (a->local)
		fd = sock_unix_connect(a->addr, timeout ? timeout : 3600);
	else
		fd = sock_inet_connect((const struct sockaddr *)&a->sa,
		    a->salen, timeout ? timeout : 3600);
	if (fd < 0) {
		const char *err = strerror(errno);

		if (a->local)
			smtp_err_set(e, DEL_STAT_DEFER, 0, "4.4.1",
			    "connect to %s[%s]: %s", a->host, a->addr, err);
		else
			smtp_err_set(e, DEL_STAT_DEFER, 0, "4.4.1",
			    "connect to %s[%s]:%d: %s", a->host, a->addr,
			    a->port, err);
		e->hop = 1;
		return -1;
	}
	ss = xcalloc(1, sizeof(*ss));
	ss->s = stream_open(fd, (int)smtp_cfg.helo_timeout);
	ss->best = a->best;
	snprintf(ss->namaddr, sizeof(ss->namaddr), "%s[%s]", a->host,
	    a->addr);
	if (a->local)
		snprintf(ss->relay, sizeof(ss->relay), "%s", ss->namaddr);
	else
		snprintf(ss->relay, sizeof(ss->relay), "%s:%d", ss->namaddr,
		    a->port);
	ss->tls_key = xstrdup(ci->pol->key);
	if ((!ci->no_tls && smtp_tls_wrapper(ss, a, ci, e) < 0) ||
	    smtp_handshake(ss, e) < 0 ||
	    (!ci->no_tls && smtp_tls_starttls(ss, a, ci, e) < 0)) {
		/* The host could not be used (qmgr's destination feedback). */
		e->hop = 1;
		strlcpy_trunc(e->relay, ss->relay, sizeof(e->relay));
		/* Be polite to a server that is still talking. */
		if (!stream_error(ss->s))
			smtp_sess_quit(ss);
		else
			smtp_sess_free(ss);
		return -1;
	}
	ss->born_ms = time_mono_ms();
	*out = ss;
	return 0;
}

/* smtp_cache_usable - may this session carry another delivery? */
static int
smtp_cache_usable(const struct smtp_sess *ss, int64_t now)
{
	if (stream_error(ss->s))
		return 0;
	if (smtp_cfg.reuse_count_limit > 0 &&
	    ss->uses >= (unsigned)smtp_cfg.reuse_count_limit)
		return 0;
	return now - ss->born_ms < smtp_cfg.reuse_time_limit * 1000;
}

/*
 * smtp_cache_take - the cached session if it goes to next hop key and
 * may still be used; else NULL (and the cached one is closed).
 */
struct smtp_sess *
smtp_cache_take(const char *key, const char *tls_key)
{
	struct smtp_sess *ss = smtp_cached;
	int64_t now = time_mono_ms();

	if (ss == NULL)
		return NULL;
	smtp_cached = NULL;
	/* A TLS session stays with its connection: same policy only. */
	if (strcmp(ss->key, key) != 0 || strcmp(ss->tls_key, tls_key) != 0 ||
	    !smtp_cache_usable(ss, now) ||
	    now - ss->idle_ms > smtp_cfg.cache_time_limit * 1000) {
		smtp_sess_quit(ss);
		return NULL;
	}
	return ss;
}

/*
 * smtp_cache_put - keep a session after a delivery, or close it.  The
 * cache holds one session: a single-client process serves one request
 * at a time.
 */
void
smtp_cache_put(struct smtp_sess *ss)
{
	int64_t now = time_mono_ms();

	if (smtp_cached) {
		smtp_sess_quit(smtp_cached);
		smtp_cached = NULL;
	}
	if (!(smtp_cfg.cache_on_demand ||
	    smtp_keyword_listed(smtp_cfg.cache_destinations, ss->key)) ||
	    !smtp_cache_usable(ss, now)) {
		smtp_sess_quit(ss);
		return;
	}
	ss->idle_ms = now;
	smtp_cached = ss;
}

/*
 * smtp_cache_tick - the skeleton's idle hook: close the cached session
 * once its idle time is up.  Returns the milliseconds until the next
 * check, or -1 when nothing is cached.
 */
long
smtp_cache_tick(void)
{
	int64_t left;

	if (smtp_cached == NULL)
		return -1;
	left = smtp_cached->idle_ms + smtp_cfg.cache_time_limit * 1000 -
	    time_mono_ms();
	if (left <= 0) {
		smtp_sess_quit(smtp_cached);
		smtp_cached = NULL;
		return -1;
	}
	return (long)left;
}

/* smtp_cache_flush - close the cached session (process exit) */
void
smtp_cache_flush(void)
{
	if (smtp_cached) {
		smtp_sess_quit(smtp_cached);
		smtp_cached = NULL;
	}
}
