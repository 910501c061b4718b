/*
 * NAME		data - DATA and BDAT: receiving and queueing the message
 * DESCRIPTION	The queue file is opened when the message starts (DATA or
 *		the first BDAT), so a session that never sends a message
 *		never creates one.  In daemon mode the message goes to
 *		cleanup; in stand-alone mode ("sendmail -bs") it goes into
 *		maildrop/ like any local submission (lib/mail/submit.c).
 *		smtpd writes its Received: header first, then any headers
 *		that access checks asked to prepend, then the message.
 *
 *		DATA ends only with <CR><LF>.<CR><LF>.  With the default
 *		smtpd_forbid_bare_newline = normalize a line ending in a bare
 *		<LF> is taken as a line, but "<LF>.<LF>", "<LF>.<CR><LF>" and
 *		"<CR><LF>.<LF>" never end the message: that closes the SMTP
 *		smuggling hole.  With "yes" a bare <LF> ends the session with
 *		521; with "no" a bare <LF> is a line end everywhere (the old,
 *		unsafe behaviour).  A bare <CR> is always data.  BDAT chunks
 *		are read by length; lines may span chunks.
 * SECURITY	Lines longer than line_length_limit are passed on in pieces;
 *		the size is counted against message_size_limit and the rest
 *		of an over-size message is read and dropped.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <sysexits.h>
#include <time.h>

#include "mail/cleanup_clnt.h"
#include "mail/mail_conf.h"
#include "mail/qfile.h"
#include "mail/rec.h"
#include "util/log.h"
#include "util/mem.h"
#include "util/strutil.h"
#include "smtpd.h"
#include "smtpd_int.h"

#define BDAT_CHUNK	65536

/* smtpd_xtext_decode - RFC 3461 xtext; 0 or -1 */
int
smtpd_xtext_decode(const char *in, struct buf *out)
{
	static const char hex[] = "0123456789ABCDEF";

	buf_reset(out);
	for (; *in; in++) {
		unsigned char c = (unsigned char)*in;

		if (c == '+') {
			const char *h1 = strchr(hex, in[1]), *h2;

			if (in[1] == 0 || h1 == NULL || in[2] == 0 ||
			    (h2 = strchr(hex, in[2])) == NULL)
				return -1;
			buf_putc(out, (int)((h1 - hex) * 16 + (h2 - hex)));
			in += 2;
			continue;
		}
		if (c < 33 || c > 126 || c == '=')
			return -1;
		buf_putc(out, c);
	}
	if (memchr(out->p ? out->p : "", 0, out->len))
		return -1;
	return 0;
}

/* smtpd_rec - one record to wherever the message goes */
static void
smtpd_rec(struct smtpd_state *st, int type, const void *p, size_t len)
{
	if (st->cleanup)
		cleanup_rec(st->cleanup, type, p, len);
	else if (st->sub) {
		rec_put(&st->sub->recs, type, p, len);
		if (st->sub->recs.len >= 65536)
			submit_flush(st->sub);
	}
}

/* smtpd_recs - a string record */
static void
smtpd_recs(struct smtpd_state *st, int type, const char *s)
{
	smtpd_rec(st, type, s, strlen(s));
}

/* smtpd_data_abort - drop an unfinished message */
void
smtpd_data_abort(struct smtpd_state *st)
{
	if (st->cleanup) {
		cleanup_abort(st->cleanup);
		st->cleanup = NULL;
	}
	if (st->sub) {
		submit_abort(st->sub);
		free(st->sub);
		st->sub = NULL;
	}
	buf_free(&st->bdat_line);
	st->size_exceeded = 0;
}

/* smtpd_date - RFC 5322 date of now */
static void
smtpd_date(struct buf *b)
{
	time_t now = time(NULL);
	struct tm tm;
	char tmp[80];

	localtime_r(&now, &tm);
	strftime(tmp, sizeof(tmp), "%a, %e %b %Y %H:%M:%S %z (%Z)", &tm);
	buf_puts(b, tmp);
}

/* smtpd_header_line - a header line in one or more records */
static void
smtpd_header_lines(struct smtpd_state *st, const char *h)
{
	const char *p = h, *nl;

	while ((nl = strchr(p, '\n')) != NULL) {
		smtpd_rec(st, REC_NORM, p, (size_t)(nl - p));
		p = nl + 1;
	}
	smtpd_rec(st, REC_NORM, p, strlen(p));
}

/*
 * smtpd_open_queue - start the message: queue file (or maildrop
 * submission), envelope, Received: header.  Returns 0, or -1 after the
 * reply was queued.
 */
static int
smtpd_open_queue(struct smtpd_state *st)
{
	struct buf h = BUF_INIT, why = BUF_INIT;
	struct argv attrs;
	size_t i;

	argv_init(&attrs);
	if (!st->standalone) {
		struct cleanup_req req;
		int status;

		argv_add(&attrs, "rewrite_context=remote");
		argv_addf(&attrs, "client_name=%s", st->client_name);
		argv_addf(&attrs, "reverse_client_name=%s", st->reverse_name);
		argv_addf(&attrs, "client_address=%s", st->client_addr);
		argv_addf(&attrs, "client_port=%s", st->client_port);
		argv_addf(&attrs, "protocol=%s", smtpd_protocol(st));
		if (st->helo_name)
			argv_addf(&attrs, "helo_name=%s", st->helo_name);
		if (st->dsn_envid)
			argv_addf(&attrs, "dsn_envid=%s", st->dsn_envid);
		if (st->dsn_ret)
			argv_addf(&attrs, "dsn_ret=%d", st->dsn_ret);
		if (st->smtputf8)
			argv_add(&attrs, "smtputf8=1");
		if (st->sasl_username) {
			argv_addf(&attrs, "sasl_method=%s", st->sasl_method);
			argv_addf(&attrs, "sasl_username=%s",
			    st->sasl_username);
			if (st->sasl_sender)
				argv_addf(&attrs, "sasl_sender=%s",
				    st->sasl_sender);
		}
		/* Access action FILTER: this message goes to that transport. */
		if (st->chk.filter[0])
			argv_addf(&attrs, "filter=%s", st->chk.filter);
		memset(&req, 0, sizeof(req));
		req.source = "smtpd";
		req.flags = CLEANUP_FLAG_MAP_OK | (st->hold ?
		    CLEANUP_FLAG_HOLD : 0);
		req.uid = -1;
		req.attrs = &attrs;
		if ((st->cleanup = cleanup_open(&req, &status, &why)) ==
		    NULL) {
			log_warn("%s: cleanup service: %s", st->namaddr,
			    buf_str(&why));
			smtpd_reply(st, "451 4.3.0 Error: queue file write error");
			argv_clear(&attrs);
			buf_free(&why);
			return -1;
		}
		strlcpy_trunc(st->queue_id, st->cleanup->queue_id,
		    sizeof(st->queue_id));
		if (st->sasl_username)
			log_info("%s: client=%s, sasl_method=%s, "
			    "sasl_username=%s%s%s", st->queue_id, st->namaddr,
			    st->sasl_method, st->sasl_username,
			    st->sasl_sender ? ", sasl_sender=" : "",
			    st->sasl_sender ? st->sasl_sender : "");
		else
			log_info("%s: client=%s", st->queue_id, st->namaddr);
	} else {
		struct timeval tv;

		st->sub = xcalloc(1, sizeof(*st->sub));
		submit_open(st->sub);
		gettimeofday(&tv, NULL);
		rec_printf(&st->sub->recs, REC_TIME, "%ld %ld",
		    (long)tv.tv_sec, (long)tv.tv_usec);
		if (st->dsn_envid)
			rec_printf(&st->sub->recs, REC_ATTR, "dsn_envid=%s",
			    st->dsn_envid);
		if (st->dsn_ret)
			rec_printf(&st->sub->recs, REC_ATTR, "dsn_ret=%d",
			    st->dsn_ret);
	}
	smtpd_recs(st, REC_FROM, st->sender);
	if (st->chk.redirect[0]) {
		/* Access action REDIRECT: one recipient replaces them all. */
		smtpd_recs(st, REC_RCPT, st->chk.redirect);
		i = st->rcpts.n;
	} else {
		i = 0;
	}
	for (; i < st->rcpts.n; i++) {
		const char *prm = st->rcpt_params.v[i], *tab = strchr(prm, '\t');
		int notify = atoi(prm);

		if (notify)
			rec_printf(st->cleanup ? &st->cleanup->recs :
			    &st->sub->recs, REC_NOTIFY, "%d", notify);
		if (tab && tab[1])
			smtpd_recs(st, REC_ORCP, tab + 1);
		smtpd_recs(st, REC_RCPT, st->rcpts.v[i]);
	}
	smtpd_rec(st, REC_MESG, "", 0);

	/* Received: as Postfix writes it. */
	buf_printf(&h, "Received: from %s (%s [%s])",
	    st->helo_name ? st->helo_name : "unknown", st->client_name,
	    st->client_addr);
	smtpd_tls_received(st, &h);
	smtpd_sasl_received(st, &h);
	buf_printf(&h, "\n\tby %s (%s) with %s", mail_cfg.myhostname,
	    mail_cfg.mail_name, smtpd_protocol(st));
	if (st->queue_id[0])
		buf_printf(&h, " id %s", st->queue_id);
	if (st->rcpts.n == 1)
		buf_printf(&h, "\n\tfor <%s>", st->rcpts.v[0]);
	buf_puts(&h, "; ");
	smtpd_date(&h);
	smtpd_header_lines(st, h.p);
	for (i = 0; i < st->prepend.n; i++)
		smtpd_header_lines(st, st->prepend.v[i]);
	argv_clear(&attrs);
	buf_free(&h);
	buf_free(&why);
	return 0;
}

/* smtpd_content - one content line (or piece), counted */
static void
smtpd_content(struct smtpd_state *st, int type, const char *p, size_t len)
{
	st->msg_size += (long)len + (type == REC_NORM ? 1 : 0);
	if (mail_cfg.message_size_limit > 0 &&
	    st->msg_size > mail_cfg.message_size_limit) {
		st->size_exceeded = 1;
		return;
	}
	if (!st->size_exceeded)
		smtpd_rec(st, type, p, len);
}

/*
 * smtpd_finish - the message is complete: checks, then hand it over and
 * answer.  Returns 0, or -1 to end the session.
 */
static int
smtpd_finish(struct smtpd_state *st)
{
	struct buf reason = BUF_INIT;
	int status, r = 0;

	if (st->size_exceeded) {
		log_info("%s: reject: %s from %s: 552 5.3.4 Error: message "
		    "file too big; from=<%s> proto=%s helo=<%s>",
		    st->queue_id[0] ? st->queue_id : "NOQUEUE", st->last_cmd,
		    st->namaddr, st->sender, smtpd_protocol(st),
		    st->helo_name ? st->helo_name : "");
		smtpd_reply(st, "552 5.3.4 Error: message file too big");
		smtpd_reset(st);
		return smtpd_error(st);
	}
	if (smtpd_check_eod(st) == SMTPD_CHECK_REJECT) {
		smtpd_reset(st);
		return smtpd_check_failed(st);
	}
	if (st->discard) {
		log_info("%s: discard: END-OF-MESSAGE from %s",
		    st->queue_id[0] ? st->queue_id : "NOQUEUE", st->namaddr);
		if (st->cleanup) {
			/* cleanup drops it: no queue file, no warning. */
			struct buf a = BUF_INIT;

			buf_printf(&a, "discard=END-OF-MESSAGE from %s",
			    st->namaddr);
			smtpd_rec(st, REC_XTRA, "", 0);
			smtpd_rec(st, REC_ATTR, a.p, a.len);
			smtpd_rec(st, REC_END, "", 0);
			(void)cleanup_finish(st->cleanup, &reason);
			st->cleanup = NULL;
			buf_free(&a);
		}
		smtpd_reply(st, "250 2.0.0 Ok: queued as %s", st->queue_id[0] ?
		    st->queue_id : "NOQUEUE");
		if (st->bdat_active)
			st->ok_bdat++;
		else
			st->ok_data++;
		buf_free(&reason);
		smtpd_reset(st);
		return 0;
	}
	smtpd_rec(st, REC_XTRA, "", 0);
	smtpd_rec(st, REC_END, "", 0);
	if (st->cleanup) {
		status = cleanup_finish(st->cleanup, &reason);
		st->cleanup = NULL;
		if (status == CLEANUP_STAT_OK) {
			smtpd_reply(st, "250 2.0.0 Ok: queued as %s",
			    st->queue_id);
			if (st->bdat_active)
				st->ok_bdat++;
			else
				st->ok_data++;
		} else {
			log_info("%s: reject: %s from %s: %d %s %s; from=<%s> "
			    "proto=%s helo=<%s>", st->queue_id, st->last_cmd,
			    st->namaddr, cleanup_stat_smtp(status),
			    cleanup_stat_dsn(status), reason.len ? reason.p :
			    cleanup_stat_text(status), st->sender,
			    smtpd_protocol(st), st->helo_name ? st->helo_name : "");
			smtpd_reply(st, "%d %s Error: %s",
			    cleanup_stat_smtp(status), cleanup_stat_dsn(status),
			    reason.len ? reason.p :
			    cleanup_stat_text(status));
			r = smtpd_error(st);
		}
	} else {
		status = submit_finish(st->sub);
		free(st->sub);
		st->sub = NULL;
		if (status == 0) {
			smtpd_reply(st, "250 2.0.0 Ok: queued");
			if (st->bdat_active)
				st->ok_bdat++;
			else
				st->ok_data++;
		} else {
			smtpd_reply(st, "451 4.3.0 Error: queue file write "
			    "error");
			r = smtpd_error(st);
		}
	}
	buf_free(&reason);
	smtpd_reset(st);
	return r;
}

/* smtpd_data_ready - common checks before DATA or the first BDAT */
static int
smtpd_data_ready(struct smtpd_state *st)
{
	if (st->sender == NULL) {
		smtpd_reply(st, "503 5.5.1 Error: need MAIL command");
		return -1;
	}
	if (st->rcpts.n == 0) {
		smtpd_reply(st, "554 5.5.1 Error: no valid recipients");
		return -1;
	}
	if (smtpd_check_data(st) == SMTPD_CHECK_REJECT)
		return -2;
	return 0;
}

/* smtpd_data - DATA */
int
smtpd_data(struct smtpd_state *st)
{
	struct buf line = BUF_INIT;
	const char *mode = smtpd_cfg.smtpd_forbid_bare_newline;
	int strict = strcmp(mode, "no") != 0;
	int reject_lf = strcmp(mode, "yes") == 0 || strcmp(mode, "reject") == 0;
	int prev_crlf = 1, partial = 0, toolong, r = 0;

	st->n_data++;
	st->last_cmd = "DATA";
	if ((r = smtpd_data_ready(st)) < 0)
		return r == -2 ? smtpd_check_failed(st) : smtpd_error(st);
	if (smtpd_open_queue(st) < 0)
		return smtpd_error(st);
	smtpd_reply(st, "354 End data with <CR><LF>.<CR><LF>");
	smtpd_flush(st);
	st->bare_lf = 0;
	for (;;) {
		int crlf;

		if (stream_gets(st->s, &line,
		    (size_t)smtpd_cfg.line_length_limit, &toolong) < 0) {
			log_info("%s after DATA (%ld bytes) from %s",
			    (stream_error(st->s) & STREAM_TIMEOUT) ? "timeout" :
			    "lost connection", st->msg_size, st->namaddr);
			smtpd_data_abort(st);
			r = -1;
			goto out;
		}
		if (toolong) {
			/* A piece of a long line; never the end marker. */
			smtpd_content(st, REC_CONT, line.p, line.len);
			partial = 1;
			prev_crlf = 0;
			continue;
		}
		crlf = line.len > 0 && line.p[line.len - 1] == '\r';
		if (crlf)
			buf_truncate(&line, line.len - 1);
		else
			st->bare_lf = 1;
		if (!partial && line.len == 1 && line.p[0] == '.' &&
		    (!strict || (crlf && prev_crlf)))
			break;
		/* Undo dot-stuffing. */
		if (!partial && line.len > 0 && line.p[0] == '.')
			smtpd_content(st, REC_NORM, line.p + 1, line.len - 1);
		else
			smtpd_content(st, REC_NORM, line.p, line.len);
		partial = 0;
		prev_crlf = crlf;
	}
	if (st->bare_lf && reject_lf) {
		log_info("%s: reject: bare <LF> received in DATA from %s",
		    st->queue_id[0] ? st->queue_id : "NOQUEUE", st->namaddr);
		smtpd_reply(st, "521 5.5.2 %s Error: bare <LF> received",
		    mail_cfg.myhostname);
		smtpd_data_abort(st);
		r = -1;
		goto out;
	}
	r = smtpd_finish(st);
out:
	buf_free(&line);
	return r;
}

/* smtpd_bdat_lines - split chunk bytes into content lines */
static void
smtpd_bdat_lines(struct smtpd_state *st, const char *p, size_t n, int last)
{
	struct buf *lb = &st->bdat_line;
	size_t max = (size_t)smtpd_cfg.line_length_limit;

	while (n > 0) {
		const char *nl = memchr(p, '\n', n);
		size_t k = nl ? (size_t)(nl - p) : n;

		buf_put(lb, p, k);
		p += k + (nl != NULL);
		n -= k + (nl != NULL);
		if (nl) {
			if (lb->len && lb->p[lb->len - 1] == '\r')
				buf_truncate(lb, lb->len - 1);
			smtpd_content(st, REC_NORM, lb->p ? lb->p : "",
			    lb->len);
			buf_reset(lb);
		} else if (lb->len > max) {
			/* Keep a CR that may belong to a CRLF. */
			size_t keep = lb->p[lb->len - 1] == '\r';

			smtpd_content(st, REC_CONT, lb->p, lb->len - keep);
			buf_consume(lb, lb->len - keep);
		}
	}
	if (last && lb->len) {
		smtpd_content(st, REC_NORM, lb->p, lb->len);
		buf_reset(lb);
	}
}

/* smtpd_bdat - BDAT size [LAST] (RFC 3030) */
int
smtpd_bdat(struct smtpd_state *st, char *arg)
{
	char *cp = arg, *size_s, *last_s, buf[BDAT_CHUNK];
	long size;
	int last = 0;

	st->n_bdat++;
	st->last_cmd = "BDAT";
	size_s = str_token(&cp, " ");
	last_s = str_token(&cp, " ");
	if (size_s == NULL || parse_long(size_s, &size) < 0 || size < 0 ||
	    (last_s && strcasecmp(last_s, "LAST") != 0) ||
	    str_token(&cp, " ") != NULL) {
		/* Without a size we cannot stay in step: end it. */
		smtpd_reply(st, "501 5.5.4 Syntax: BDAT count [LAST]");
		smtpd_data_abort(st);
		return -1;
	}
	last = last_s != NULL;
	if (!st->bdat_active && !st->bdat_failed) {
		int ready = smtpd_data_ready(st);

		if (ready == -2)
			smtpd_reply(st, "%s", buf_str(&st->check_reply));
		if (ready < 0 || smtpd_open_queue(st) < 0)
			st->bdat_failed = 1;
		else
			st->bdat_active = 1;
	} else if (st->bdat_failed) {
		smtpd_reply(st, "503 5.5.1 Error: BDAT after an error");
	}
	/* Read the chunk whatever happened, to stay in step. */
	while (size > 0) {
		size_t want = size > BDAT_CHUNK ? BDAT_CHUNK : (size_t)size;

		if (stream_read(st->s, buf, want) < 0) {
			log_info("%s after BDAT from %s",
			    (stream_error(st->s) & STREAM_TIMEOUT) ? "timeout" :
			    "lost connection", st->namaddr);
			smtpd_data_abort(st);
			return -1;
		}
		if (st->bdat_active)
			smtpd_bdat_lines(st, buf, want, 0);
		size -= (long)want;
	}
	if (st->bdat_failed) {
		if (last) {
			st->bdat_failed = 0;
			smtpd_reset(st);
		}
		return smtpd_error(st);
	}
	if (!last) {
		smtpd_reply(st, "250 2.0.0 Ok: %s bytes", size_s);
		st->ok_bdat++;
		return 0;
	}
	smtpd_bdat_lines(st, "", 0, 1);
	return smtpd_finish(st);
}
