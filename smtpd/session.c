/*
 * NAME		session - the SMTP server's session loop
 * DESCRIPTION	One session per connection: find out who the client is,
 *		greet, read commands and answer them until QUIT, a fatal
 *		error, a time-out or too many errors.
 *
 *		Replies are buffered and written whenever no further input
 *		is waiting, so a pipelining client gets its replies in one
 *		write and a non-pipelining one gets each at once; a reply
 *		that ends the session (221, 421) is written before the
 *		connection closes.  After smtpd_soft_error_limit errors each
 *		error reply waits smtpd_error_sleep_time; after
 *		smtpd_hard_error_limit the session ends with 421.
 * SECURITY	A command line is at most line_length_limit bytes; NUL
 *		bytes and (with smtpd_forbid_bare_newline = yes) bare LF
 *		are refused.  Every read has the smtpd_timeout deadline.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "mail/mail_conf.h"
#include "tls/tls.h"
#include "util/hosts.h"
#include "util/log.h"
#include "util/mem.h"
#include "util/sock.h"
#include "util/strutil.h"
#include "smtpd.h"
#include "smtpd_int.h"

/*
 * smtpd_reply - queue a reply "CODE text"; a text with "\n" becomes a
 * multi-line reply ("250-first", ..., "250 last").
 */
void
smtpd_reply(struct smtpd_state *st, const char *fmt, ...)
{
	struct buf text = BUF_INIT;
	const char *p, *nl;
	va_list ap;

	va_start(ap, fmt);
	buf_vprintf(&text, fmt, ap);
	va_end(ap);
	if (text.len < 4) {
		buf_free(&text);
		log_panic("smtpd_reply: reply without text");
	}
	for (p = text.p + 4; (nl = strchr(p, '\n')) != NULL; p = nl + 1)
		stream_printf(st->s, "%.3s-%.*s\r\n", text.p, (int)(nl - p), p);
	stream_printf(st->s, "%.3s %s\r\n", text.p, p);
	buf_free(&text);
}

/* smtpd_flush - write the buffered replies */
void
smtpd_flush(struct smtpd_state *st)
{
	(void)stream_flush(st->s);
}

/*
 * smtpd_input_pending - did the client send more than we have read?
 * (reject_unauth_pipelining and the output flush policy.)
 */
int
smtpd_input_pending(struct smtpd_state *st)
{
	struct pollfd pfd;

	if (stream_avail(st->s) > 0)
		return 1;
	if (st->tls && tls_stream_pending(st->s))
		return 1;
	pfd.fd = st->s->fd;
	pfd.events = POLLIN;
	return poll(&pfd, 1, 0) > 0 && (pfd.revents & POLLIN);
}

/* smtpd_peer - who is the client? */
static void
smtpd_peer(struct smtpd_state *st)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	const char *name;
	int port = 0;

	strcpy(st->client_name, "unknown");
	strcpy(st->reverse_name, "unknown");
	if (st->standalone || getpeername(st->s->fd, (struct sockaddr *)&ss,
	    &len) < 0 || (ss.ss_family != AF_INET &&
	    ss.ss_family != AF_INET6)) {
		/* sendmail -bs, or a UNIX-domain client: this host. */
		strcpy(st->client_addr, "127.0.0.1");
		strcpy(st->client_port, "0");
		strcpy(st->client_name, "localhost");
		strcpy(st->reverse_name, "localhost");
		st->client_family = AF_UNIX;
		strcpy(st->server_addr, "127.0.0.1");
		strcpy(st->server_port, "0");
	} else {
		struct sockaddr_storage me;
		socklen_t mlen = sizeof(me);
		int mport = 0;

		if (getsockname(st->s->fd, (struct sockaddr *)&me, &mlen) < 0 ||
		    sock_addr_str((struct sockaddr *)&me, st->server_addr,
		    sizeof(st->server_addr), &mport) < 0)
			strcpy(st->server_addr, "unknown");
		snprintf(st->server_port, sizeof(st->server_port), "%d", mport);
		if (sock_addr_str((struct sockaddr *)&ss, st->client_addr,
		    sizeof(st->client_addr), &port) < 0)
			strcpy(st->client_addr, "unknown");
		snprintf(st->client_port, sizeof(st->client_port), "%d", port);
		st->client_family = strchr(st->client_addr, ':') ? AF_INET6 :
		    AF_INET;
		st->name_status = st->reverse_name_status = SMTPD_PEER_PERM;
		if (smtpd_cfg.smtpd_peername_lookup) {
			/* Files first, then DNS, as "hosts: files dns". */
			if ((name = hosts_name(st->client_addr)) != NULL &&
			    strlen(name) < sizeof(st->client_name)) {
				strcpy(st->reverse_name, name);
				st->reverse_name_status = SMTPD_PEER_OK;
				if (hosts_has_addr(name, st->client_addr)) {
					strcpy(st->client_name, name);
					st->name_status = SMTPD_PEER_OK;
				}
			} else {
				smtpd_peer_dns(st);
			}
		}
	}
	snprintf(st->namaddr, sizeof(st->namaddr), "%s[%s]", st->client_name,
	    st->client_addr);
}

/* smtpd_reset - forget the mail transaction (RSET, HELO, after DATA) */
void
smtpd_reset(struct smtpd_state *st)
{
	free(st->sender);
	st->sender = NULL;
	free(st->dsn_envid);
	st->dsn_envid = NULL;
	free(st->recipient);
	st->recipient = NULL;
	free(st->sasl_sender);
	st->sasl_sender = NULL;
	argv_truncate(&st->rcpts, 0);
	argv_truncate(&st->rcpt_params, 0);
	argv_truncate(&st->prepend, 0);
	st->size_declared = 0;
	st->body_8bit = 0;
	st->smtputf8 = 0;
	st->dsn_ret = 0;
	st->discard = 0;
	st->hold = 0;
	st->queue_id[0] = 0;
	st->msg_size = 0;
	st->bdat_active = 0;
	st->bdat_failed = 0;
	smtpd_data_abort(st);
	smtpd_check_reset(st);
}

/* smtpd_counts - "ehlo=1 mail=1 rcpt=0/1 ..." for the disconnect line */
static void
smtpd_counts(struct smtpd_state *st, struct buf *b)
{
#define COUNT(name, ok, all) do { \
	if (all) { \
		if ((ok) == (all)) \
			buf_printf(b, " %s=%d", name, all); \
		else \
			buf_printf(b, " %s=%d/%d", name, ok, all); \
	} \
} while (0)
	COUNT("helo", st->n_helo, st->n_helo);
	COUNT("ehlo", st->n_ehlo, st->n_ehlo);
	COUNT("starttls", st->ok_starttls, st->n_starttls);
	COUNT("auth", st->ok_auth, st->n_auth);
	COUNT("mail", st->ok_mail, st->n_mail);
	COUNT("rcpt", st->ok_rcpt, st->n_rcpt);
	COUNT("data", st->ok_data, st->n_data);
	COUNT("bdat", st->ok_bdat, st->n_bdat);
	COUNT("rset", st->n_rset, st->n_rset);
	COUNT("noop", st->n_noop, st->n_noop);
	COUNT("vrfy", st->ok_vrfy, st->n_vrfy);
	COUNT("quit", st->n_quit, st->n_quit);
	COUNT("unknown", 0, st->n_unknown);
	COUNT("commands", st->n_commands - st->n_errors_total,
	    st->n_commands);
#undef COUNT
}

/*
 * smtpd_error - count an error reply.  Past smtpd_soft_error_limit the
 * client waits smtpd_error_sleep_time for it; at smtpd_hard_error_limit
 * the next command gets 421 (see smtpd_session), as Postfix does.
 * Returns 0 (go on).
 */
int
smtpd_error(struct smtpd_state *st)
{
	st->n_errors_total++;
	if (++st->error_count >= smtpd_cfg.smtpd_soft_error_limit &&
	    st->error_count < smtpd_cfg.smtpd_hard_error_limit &&
	    smtpd_cfg.smtpd_error_sleep_time > 0) {
		smtpd_flush(st);
		sleep((unsigned)smtpd_cfg.smtpd_error_sleep_time);
	}
	return 0;
}

/*
 * smtpd_check_failed - answer with the failed check's reply; a 421 or
 * 521 reply also ends the session (-1).
 */
int
smtpd_check_failed(struct smtpd_state *st)
{
	const char *r = buf_str(&st->check_reply);

	smtpd_reply(st, "%s", r);
	if (strncmp(r, "421", 3) == 0 || strncmp(r, "521", 3) == 0)
		return -1;
	return smtpd_error(st);
}

/*
 * smtpd_read_line - one command line (or AUTH response) of at most max
 * bytes, without CRLF.  Returns 0; 1 when the line was too long (the
 * rest was read and dropped); 2 for a refused bare LF; or -1 at end of
 * input / time-out / fatal error (already answered).
 */
int
smtpd_read_line(struct smtpd_state *st, struct buf *line, size_t max)
{
	int toolong, crlf;

	if (stream_avail(st->s) == 0)
		smtpd_flush(st);
	if (stream_gets(st->s, line, max, &toolong) < 0) {
		if (stream_error(st->s) & STREAM_TIMEOUT) {
			log_info("timeout after %s from %s", st->last_cmd,
			    st->namaddr);
			/* The connection still works: say why we close. */
			st->s->flags &= ~STREAM_TIMEOUT;
			smtpd_reply(st, "421 4.4.2 %s Error: timeout exceeded",
			    mail_cfg.myhostname);
		} else {
			log_info("lost connection after %s from %s",
			    st->last_cmd, st->namaddr);
		}
		return -1;
	}
	if (toolong) {
		struct buf rest = BUF_INIT;

		/* Swallow the rest of the line, bounded per read. */
		while (toolong && stream_gets(st->s, &rest, max,
		    &toolong) == 0)
			;
		buf_free(&rest);
		buf_reset(line);
		return 1;
	}
	crlf = line->len > 0 && line->p[line->len - 1] == '\r';
	if (crlf)
		buf_truncate(line, line->len - 1);
	else if (strcmp(smtpd_cfg.smtpd_forbid_bare_newline, "yes") == 0 ||
	    strcmp(smtpd_cfg.smtpd_forbid_bare_newline, "reject") == 0)
		return 2;
	return 0;
}

/* smtpd_session - serve one SMTP client */
void
smtpd_session(struct stream *s, int standalone)
{
	struct smtpd_state st;
	struct buf line = BUF_INIT, counts = BUF_INIT;

	memset(&st, 0, sizeof(st));
	st.s = s;
	st.standalone = standalone;
	st.s->timeout = (int)smtpd_cfg.smtpd_timeout;
	st.last_cmd = "CONNECT";
	buf_init(&st.check_reply);
	argv_init(&st.rcpts);
	argv_init(&st.rcpt_params);
	argv_init(&st.prepend);
	smtpd_peer(&st);
	log_info("connect from %s", st.namaddr);
	if (smtpd_cfg.smtpd_tls_wrappermode && !standalone &&
	    smtpd_tls_wrapper(&st) < 0)
		goto done;

	/* Per-client connection limits (anvil.c): 421 and the end. */
	if (smtpd_anvil_connect(&st) < 0)
		goto done;
	if (!smtpd_cfg.smtpd_delay_reject &&
	    smtpd_check_client(&st) != SMTPD_CHECK_OK) {
		/*
		 * Refused at connect: the reason instead of the greeting
		 * (RFC 5321 3.1), then 503 to every command but QUIT.
		 */
		st.connect_reject = 1;
		st.error_count++;
		smtpd_reply(&st, "%s", buf_str(&st.check_reply));
	} else {
		/* A client that talks before the greeting pipelines. */
		if (!standalone && smtpd_input_pending(&st))
			st.ill_pipelining = 1;
		smtpd_reply(&st, "220 %s", smtpd_cfg.smtpd_banner);
	}

	for (;;) {
		int r;

		if (st.error_count >= smtpd_cfg.smtpd_hard_error_limit) {
			log_info("too many errors after %s from %s",
			    st.last_cmd, st.namaddr);
			smtpd_reply(&st, "421 4.7.0 %s Error: too many errors",
			    mail_cfg.myhostname);
			break;
		}
		if ((r = smtpd_read_line(&st, &line,
		    (size_t)smtpd_cfg.line_length_limit)) < 0)
			break;
		st.n_commands++;
		if (r == 1) {
			smtpd_reply(&st, "500 5.5.2 Error: line too long");
			if (smtpd_error(&st) < 0)
				break;
			continue;
		}
		if (r == 2) {
			log_info("bare <LF> received from %s", st.namaddr);
			smtpd_reply(&st, "521 5.5.2 %s Error: bare <LF> "
			    "received", mail_cfg.myhostname);
			break;
		}
		if (memchr(line.p, 0, line.len) != NULL) {
			log_info("NUL character in command from %s",
			    st.namaddr);
			smtpd_reply(&st, "500 5.5.2 Error: bad syntax");
			if (smtpd_error(&st) < 0)
				break;
			continue;
		}
		/* More input before we answered, without PIPELINING. */
		if (!st.pipelining && smtpd_input_pending(&st))
			st.ill_pipelining = 1;
		if (smtpd_command(&st, line.p) < 0)
			break;
	}
done:
	smtpd_flush(&st);
	smtpd_anvil_disconnect(&st);
	smtpd_tls_end(&st);
	smtpd_reset(&st);
	smtpd_counts(&st, &counts);
	log_info("disconnect from %s%s", st.namaddr, buf_str(&counts));
	smtpd_sasl_reset(&st);
	free(st.helo_name);
	buf_free(&st.check_reply);
	argv_clear(&st.rcpts);
	argv_clear(&st.rcpt_params);
	argv_clear(&st.prepend);
	buf_free(&line);
	buf_free(&counts);
}
