/*
 * NAME		xsasl_dovecot - SMTP AUTH through Dovecot's auth server
 * DESCRIPTION	smtpd_sasl_type = dovecot.  smtpd_sasl_path names the UNIX
 *		socket of Dovecot's auth client listener; a relative name
 *		("private/auth", the usual choice) is relative to the queue
 *		directory, which is where smtpd runs, chrooted or not.
 *
 *		Each session connects once (with the smtpd_timeout
 *		deadline) and does the handshake of Dovecot's auth client
 *		protocol, version 1: it sends "VERSION 1 1" and "CPID pid",
 *		and reads "VERSION 1 x", the "MECH name flags..." lines, SPID,
 *		CUID, COOKIE and "DONE".  Mechanisms marked private are never
 *		announced; anonymous, plaintext, dictionary and active ones
 *		are left out under noanonymous, noplaintext, nodictionary and
 *		noactive, and forward_secrecy and mutual_auth keep only the
 *		mechanisms with those properties.
 *
 *		An exchange is "AUTH id MECH service=smtp nologin lip= rip=
 *		lport= rport= [secured] [resp=base64]" and "CONT id base64"
 *		for each further client response; Dovecot answers "CONT id
 *		base64" (a challenge), "OK id user=name ..." or "FAIL id
 *		[reason=text] [temp] ...".  A FAIL with "temp", a broken
 *		connection or a protocol error is a temporary failure (454
 *		in smtpd); the connection is then dropped and made again at
 *		the next attempt.
 * SECURITY	Every line from the server is at most
 *		XSASL_DOVECOT_LINE_MAX bytes with at most
 *		XSASL_DOVECOT_ARGS_MAX fields, must not hold control
 *		characters other than TAB, and has its escapes checked;
 *		challenges are decoded with a bound.  Reason texts are
 *		cleaned before they reach a log or an SMTP reply.  Values
 *		sent to the server come from smtpd (addresses, checked
 *		mechanism name) or are base64.
 * DIAGNOSTICS	"SASL: Connect to PATH failed: ...", "SASL: protocol error
 *		from PATH: ...", "SASL: Connection lost to authentication
 *		server".
 * SEE ALSO	xsasl.h, doc/sasl.md
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "util/base64.h"
#include "util/log.h"
#include "util/mem.h"
#include "util/sock.h"
#include "util/stream.h"
#include "util/strutil.h"
#include "xsasl_impl.h"

#define DOVECOT_HANDSHAKE_MAX	1024	/* lines before DONE */
#define DOVECOT_REASON_MAX	200	/* bytes of a FAIL reason we pass on */
#define DOVECOT_STALE_MAX	16	/* late answers skipped per request */

struct dovecot_server {
	struct stream *s;		/* NULL: not connected */
	unsigned id;			/* of the current request */
	int	 in_exchange;
	char	*username;
	int	 security;
	int	 tls_active;
	int	 timeout;
	char	*service, *lip, *rip, *lport, *rport;
};

static char *dovecot_path;

/* dovecot_init - remember the socket path */
static int
dovecot_init(const char *path, const char *conf, struct buf *why)
{
	(void)conf;			/* cyrus_sasl_config_path: Cyrus only */
	if (path == NULL || *path == 0 || strlen(path) > 100) {
		buf_printf(why, "smtpd_sasl_path \"%.100s\" is not a socket "
		    "path", path ? path : "");
		return -1;
	}
	free(dovecot_path);
	dovecot_path = xstrdup(path);
	return 0;
}

/* dovecot_done - forget the path */
static void
dovecot_done(void)
{
	free(dovecot_path);
	dovecot_path = NULL;
}

/* dovecot_unescape - Dovecot's tab escapes, in place; 0 or -1 */
static int
dovecot_unescape(char *p)
{
	char *out = p;

	for (; *p; p++) {
		if (*p != '\001') {
			*out++ = *p;
			continue;
		}
		switch (p[1]) {
		case '1':
			*out++ = '\001';
			break;
		case 't':
			*out++ = '\t';
			break;
		case 'r':
			*out++ = '\r';
			break;
		case 'n':
			*out++ = '\n';
			break;
		default:	/* "\0010" (NUL), unknown, or end of field */
			return -1;
		}
		p++;
	}
	*out = 0;
	return 0;
}

/*
 * xsasl_dovecot_parse - split one line (len bytes without the LF) into
 * command and fields, in place: line[len] must be writable (it becomes
 * the terminator).  Fields point into line.  Returns 0, or -1 with a
 * reason.
 */
int
xsasl_dovecot_parse(char *line, size_t len, struct xsasl_dovecot_line *out,
    struct buf *why)
{
	size_t i;
	char *p;

	memset(out, 0, sizeof(*out));
	if (len > XSASL_DOVECOT_LINE_MAX) {
		buf_sets(why, "line too long");
		return -1;
	}
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)line[i];

		if ((c < 0x20 && c != '\t' && c != '\001') || c == 0x7f) {
			buf_sets(why, "control character in line");
			return -1;
		}
	}
	line[len] = 0;
	out->cmd = line;
	p = strchr(line, '\t');
	if (p)
		*p++ = 0;
	if (*out->cmd == 0 || strlen(out->cmd) > 32) {
		buf_sets(why, "bad command");
		return -1;
	}
	for (i = 0; out->cmd[i]; i++)
		if (out->cmd[i] < 'A' || out->cmd[i] > 'Z') {
			buf_sets(why, "bad command");
			return -1;
		}
	while (p != NULL) {
		char *next = strchr(p, '\t');

		if (next)
			*next++ = 0;
		if (out->argc >= XSASL_DOVECOT_ARGS_MAX) {
			buf_sets(why, "too many fields");
			return -1;
		}
		if (dovecot_unescape(p) < 0) {
			buf_sets(why, "bad escape sequence");
			return -1;
		}
		out->argv[out->argc++] = p;
		p = next;
	}
	return 0;
}

/*
 * xsasl_dovecot_param - the value of "name=value" among the fields from
 * index start on ("" for a bare "name"), or NULL.
 */
const char *
xsasl_dovecot_param(const struct xsasl_dovecot_line *l, size_t start,
    const char *name)
{
	size_t i, n = strlen(name);

	for (i = start; i < l->argc; i++) {
		if (strncmp(l->argv[i], name, n) != 0)
			continue;
		if (l->argv[i][n] == '=')
			return l->argv[i] + n + 1;
		if (l->argv[i][n] == 0)
			return l->argv[i] + n;
	}
	return NULL;
}

/*
 * xsasl_dovecot_mech_ok - may the mechanism of a MECH line be offered
 * under the security options?
 */
int
xsasl_dovecot_mech_ok(const struct xsasl_dovecot_line *l, int sec)
{
	if (strcmp(l->cmd, "MECH") != 0 || l->argc < 1 ||
	    !xsasl_mech_valid(l->argv[0], strlen(l->argv[0])))
		return 0;
	if (xsasl_dovecot_param(l, 1, "private"))
		return 0;
	if ((sec & XSASL_SEC_NOANONYMOUS) &&
	    xsasl_dovecot_param(l, 1, "anonymous"))
		return 0;
	if ((sec & XSASL_SEC_NOPLAINTEXT) &&
	    xsasl_dovecot_param(l, 1, "plaintext"))
		return 0;
	if ((sec & XSASL_SEC_NODICTIONARY) &&
	    xsasl_dovecot_param(l, 1, "dictionary"))
		return 0;
	if ((sec & XSASL_SEC_NOACTIVE) && xsasl_dovecot_param(l, 1, "active"))
		return 0;
	if ((sec & XSASL_SEC_FORWARD_SECRECY) &&
	    !xsasl_dovecot_param(l, 1, "forward-secrecy"))
		return 0;
	if ((sec & XSASL_SEC_MUTUAL_AUTH) &&
	    !xsasl_dovecot_param(l, 1, "mutual-auth"))
		return 0;
	return 1;
}

/* dovecot_disconnect - drop the connection */
static void
dovecot_disconnect(struct dovecot_server *ds)
{
	stream_close(ds->s);
	ds->s = NULL;
	ds->in_exchange = 0;
}

/*
 * dovecot_read - one parsed line into line/l.  Returns 0, or -1 with a
 * reason (the connection is then dropped).
 */
static int
dovecot_read(struct dovecot_server *ds, struct buf *line,
    struct xsasl_dovecot_line *l, struct buf *why)
{
	int toolong;

	if (stream_gets(ds->s, line, XSASL_DOVECOT_LINE_MAX, &toolong) < 0) {
		buf_sets(why, "Connection lost to authentication server");
		log_warn("SASL: %s: %s", dovecot_path, buf_str(why));
		dovecot_disconnect(ds);
		return -1;
	}
	if (toolong || xsasl_dovecot_parse(line->p, line->len, l, why) < 0) {
		if (toolong)
			buf_sets(why, "line too long");
		log_warn("SASL: protocol error from %s: %s", dovecot_path,
		    buf_str(why));
		buf_reset(why);
		buf_sets(why, "Internal authentication server error");
		dovecot_disconnect(ds);
		return -1;
	}
	return 0;
}

/* dovecot_connect - connect and do the handshake; mechanisms to mechs */
static int
dovecot_connect(struct dovecot_server *ds, struct buf *mechs,
    struct buf *why)
{
	struct buf line = BUF_INIT;
	struct xsasl_dovecot_line l;
	int fd, n, have_version = 0, r = -1;

	if ((fd = sock_unix_connect(dovecot_path, ds->timeout)) < 0) {
		buf_printf(why, "Connect to %s failed: %s", dovecot_path,
		    strerror(errno));
		log_warn("SASL: %s", buf_str(why));
		return -1;
	}
	ds->s = stream_open(fd, ds->timeout);
	stream_printf(ds->s, "VERSION\t1\t1\nCPID\t%ld\n", (long)getpid());
	if (stream_flush(ds->s) < 0) {
		buf_printf(why, "Connection lost to authentication server");
		log_warn("SASL: %s: %s", dovecot_path, buf_str(why));
		dovecot_disconnect(ds);
		goto out;
	}
	buf_reset(mechs);
	for (n = 0; n < DOVECOT_HANDSHAKE_MAX; n++) {
		if (dovecot_read(ds, &line, &l, why) < 0)
			goto out;
		if (strcmp(l.cmd, "VERSION") == 0) {
			if (l.argc < 2 || strcmp(l.argv[0], "1") != 0) {
				log_warn("SASL: %s: authentication server "
				    "protocol version %s is not 1",
				    dovecot_path, l.argc ? l.argv[0] : "?");
				buf_sets(why, "Internal authentication server "
				    "error");
				dovecot_disconnect(ds);
				goto out;
			}
			have_version = 1;
		} else if (!have_version) {
			log_warn("SASL: protocol error from %s: %s before "
			    "VERSION", dovecot_path, l.cmd);
			buf_sets(why, "Internal authentication server error");
			dovecot_disconnect(ds);
			goto out;
		} else if (strcmp(l.cmd, "MECH") == 0) {
			if (xsasl_dovecot_mech_ok(&l, ds->security)) {
				char *m;

				for (m = l.argv[0]; *m; m++)
					if (*m >= 'a' && *m <= 'z')
						*m = (char)(*m - 'a' + 'A');
				if (mechs->len)
					buf_putc(mechs, ' ');
				buf_puts(mechs, l.argv[0]);
			}
		} else if (strcmp(l.cmd, "DONE") == 0) {
			r = 0;
			goto out;
		}
		/* SPID, CUID, COOKIE and extensions: not needed here. */
	}
	log_warn("SASL: protocol error from %s: no DONE after %d lines",
	    dovecot_path, DOVECOT_HANDSHAKE_MAX);
	buf_sets(why, "Internal authentication server error");
	dovecot_disconnect(ds);
out:
	buf_free(&line);
	return r;
}

/* dovecot_free - end a session */
static void
dovecot_free(void *p)
{
	struct dovecot_server *ds = p;

	if (ds == NULL)
		return;
	dovecot_disconnect(ds);
	free(ds->username);
	free(ds->service);
	free(ds->lip);
	free(ds->rip);
	free(ds->lport);
	free(ds->rport);
	free(ds);
}

/* dovecot_value - a value safe in a TAB-separated request field */
static char *
dovecot_value(const char *v)
{
	char *copy = xstrdup(v ? v : "");
	char *p;

	for (p = copy; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = '?';
	return copy;
}

/* dovecot_create - a session: connect and learn the mechanisms */
static void *
dovecot_create(const struct xsasl_server_args *a, struct buf *mechs,
    struct buf *why)
{
	struct dovecot_server *ds = xcalloc(1, sizeof(*ds));

	ds->security = a->security;
	ds->tls_active = a->tls_active;
	ds->timeout = a->timeout > 0 ? a->timeout : 300;
	ds->service = dovecot_value(a->service && *a->service ? a->service :
	    "smtp");
	ds->lip = dovecot_value(a->server_addr);
	ds->rip = dovecot_value(a->client_addr);
	ds->lport = dovecot_value(a->server_port);
	ds->rport = dovecot_value(a->client_port);
	if (dovecot_connect(ds, mechs, why) < 0) {
		dovecot_free(ds);
		return NULL;
	}
	return ds;
}

/* dovecot_reason - a cleaned, bounded reason text */
static void
dovecot_reason(const char *text, struct buf *reply)
{
	char clean[DOVECOT_REASON_MAX + 1];

	buf_reset(reply);
	str_sane(text, clean, sizeof(clean));
	buf_puts(reply, clean);
}

/* dovecot_answer - read and interpret the answer to request ds->id */
static int
dovecot_answer(struct dovecot_server *ds, struct buf *reply)
{
	struct buf line = BUF_INIT, why = BUF_INIT;
	struct xsasl_dovecot_line l;
	char idtext[16];
	const char *v;
	long old;
	int r, stale;

	buf_reset(reply);
	if (stream_flush(ds->s) < 0) {
		log_warn("SASL: %s: Connection lost to authentication server",
		    dovecot_path);
		dovecot_disconnect(ds);
		buf_sets(reply, "Connection lost to authentication server");
		r = XSASL_TEMP;
		goto out;
	}
	snprintf(idtext, sizeof(idtext), "%u", ds->id);
	for (stale = 0;; stale++) {
		if (dovecot_read(ds, &line, &l, &why) < 0) {
			buf_set(reply, why.p, why.len);
			r = XSASL_TEMP;
			goto out;
		}
		/*
		 * A late answer to a request the client abandoned ("*") has
		 * a smaller id: skip a bounded number of them.
		 */
		if (stale < DOVECOT_STALE_MAX && l.argc >= 1 &&
		    parse_long(l.argv[0], &old) == 0 && old >= 0 &&
		    old < (long)ds->id && (strcmp(l.cmd, "FAIL") == 0 ||
		    strcmp(l.cmd, "CONT") == 0 || strcmp(l.cmd, "OK") == 0))
			continue;
		break;
	}
	if (l.argc < 1 || strcmp(l.argv[0], idtext) != 0 ||
	    (strcmp(l.cmd, "OK") != 0 && strcmp(l.cmd, "CONT") != 0 &&
	    strcmp(l.cmd, "FAIL") != 0)) {
		log_warn("SASL: protocol error from %s: unexpected \"%.20s\" "
		    "for request %s", dovecot_path, l.cmd, idtext);
		dovecot_disconnect(ds);
		buf_sets(reply, "Internal authentication server error");
		r = XSASL_TEMP;
		goto out;
	}
	if (strcmp(l.cmd, "CONT") == 0) {
		const char *b64 = l.argc > 1 ? l.argv[1] : "";

		if (base64_decode(b64, strlen(b64), XSASL_DATA_MAX, reply) <
		    0) {
			log_warn("SASL: protocol error from %s: bad base64 "
			    "challenge", dovecot_path);
			dovecot_disconnect(ds);
			buf_sets(reply, "Internal authentication server error");
			r = XSASL_TEMP;
			goto out;
		}
		r = XSASL_CONTINUE;
		goto out;
	}
	ds->in_exchange = 0;
	if (strcmp(l.cmd, "OK") == 0) {
		if ((v = xsasl_dovecot_param(&l, 1, "user")) == NULL ||
		    *v == 0) {
			log_warn("SASL: protocol error from %s: OK without "
			    "user name", dovecot_path);
			buf_sets(reply, "Internal authentication server error");
			r = XSASL_TEMP;
			goto out;
		}
		free(ds->username);
		ds->username = xstrdup(v);
		r = XSASL_OK;
		goto out;
	}
	/* FAIL */
	v = xsasl_dovecot_param(&l, 1, "reason");
	dovecot_reason(v && *v ? v : "authentication failure", reply);
	r = xsasl_dovecot_param(&l, 1, "temp") ? XSASL_TEMP : XSASL_FAIL;
out:
	buf_free(&line);
	buf_free(&why);
	return r;
}

/* dovecot_start - send AUTH */
static int
dovecot_start(void *p, const char *mech, const void *init, size_t len,
    int have_init, struct buf *reply)
{
	struct dovecot_server *ds = p;
	struct buf b64 = BUF_INIT;

	if (ds->s == NULL) {
		struct buf mechs = BUF_INIT, why = BUF_INIT;
		int r = dovecot_connect(ds, &mechs, &why);

		buf_free(&mechs);
		if (r < 0) {
			buf_set(reply, why.p, why.len);
			buf_free(&why);
			return XSASL_TEMP;
		}
		buf_free(&why);
	}
	free(ds->username);
	ds->username = NULL;
	/* Ids only grow: a late answer to an abandoned request is refused. */
	ds->id++;
	ds->in_exchange = 1;
	stream_printf(ds->s, "AUTH\t%u\t%s\tservice=%s\tnologin", ds->id,
	    mech, ds->service);
	if (*ds->lip)
		stream_printf(ds->s, "\tlip=%s", ds->lip);
	if (*ds->rip)
		stream_printf(ds->s, "\trip=%s", ds->rip);
	if (*ds->lport)
		stream_printf(ds->s, "\tlport=%s", ds->lport);
	if (*ds->rport)
		stream_printf(ds->s, "\trport=%s", ds->rport);
	if (ds->tls_active)
		stream_puts(ds->s, "\tsecured");
	if (have_init) {
		base64_encode(init, len, &b64);
		stream_printf(ds->s, "\tresp=%s", b64.p);
	}
	stream_puts(ds->s, "\n");
	buf_free(&b64);
	return dovecot_answer(ds, reply);
}

/* dovecot_next - send CONT with the client's response */
static int
dovecot_next(void *p, const void *resp, size_t len, struct buf *reply)
{
	struct dovecot_server *ds = p;
	struct buf b64 = BUF_INIT;

	if (ds->s == NULL || !ds->in_exchange) {
		buf_sets(reply, "no SASL exchange in progress");
		return XSASL_FAIL;
	}
	base64_encode(resp, len, &b64);
	stream_printf(ds->s, "CONT\t%u\t%s\n", ds->id, b64.p);
	buf_free(&b64);
	return dovecot_answer(ds, reply);
}

/* dovecot_username - the user= of the OK answer */
static const char *
dovecot_username(void *p)
{
	return ((struct dovecot_server *)p)->username;
}

const struct xsasl_backend xsasl_dovecot_backend = {
	.type = "dovecot",
	.init = dovecot_init,
	.done = dovecot_done,
	.create = dovecot_create,
	.free = dovecot_free,
	.start = dovecot_start,
	.next = dovecot_next,
	.username = dovecot_username,
};
