/*
 * NAME		message - cleanup's header and body processing
 * DESCRIPTION	Headers are collected one logical header at a time (a
 *		line starting with white space continues the previous one),
 *		bounded by header_size_limit (the excess is discarded, as
 *		Postfix does).  For each header: Received: headers are counted
 *		against hopcount_limit; names in message_drop_headers are
 *		removed; with the extract flag (sendmail -t) To/Cc/Bcc (or,
 *		when any Resent- header is present, Resent-To/Cc/Bcc) supply
 *		recipients; for local submissions unqualified addresses in
 *		address headers are rewritten to canonical form.
 *
 *		Local submissions get "Received: by ..." first and, after the
 *		last header, the From:, Date: and Message-Id: headers they
 *		lack (always_add_missing_headers extends this to all mail).
 *		A body that starts without an empty line gets one.  Body
 *		lines are copied unchanged; the content size is counted
 *		against message_size_limit.
 * SECURITY	Everything is bounded; long lines stay in partial records.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mail/addr.h"
#include "mail/cleanup_clnt.h"
#include "mail/mail_conf.h"
#include "mail/rec.h"
#include "util/log.h"
#include "util/mem.h"
#include "util/strutil.h"
#include "cleanup.h"

/* cleanup_rfc822_date - "Sun, 22 Nov 2026 23:45:30 +0000 (UTC)" */
static void
cleanup_rfc822_date(struct buf *b, time_t when)
{
	struct tm tm;
	char tmp[128];

	localtime_r(&when, &tm);
	strftime(tmp, sizeof(tmp), "%a, %e %b %Y %H:%M:%S %z (%Z)", &tm);
	buf_puts(b, tmp);
}

/* cleanup_content_out - one content line, counted against the limit */
static void
cleanup_line(struct cleanup_state *st, int type, const char *p, size_t len)
{
	st->content_size += (long)len + (type == REC_NORM ? 1 : 0);
	if (mail_cfg.message_size_limit > 0 &&
	    st->content_size > mail_cfg.message_size_limit) {
		if (!(st->status & CLEANUP_STAT_SIZE)) {
			log_warn("%s: message size exceeds limit %ld", st->id,
			    mail_cfg.message_size_limit);
			cleanup_fail(st, CLEANUP_STAT_SIZE, "message file too "
			    "big");
		}
		return;
	}
	cleanup_out(st, type, p, len);
}

/* cleanup_out_header - write a logical header as physical lines */
static void
cleanup_out_header(struct cleanup_state *st, const char *h, size_t len)
{
	const char *p = h, *end = h + len;

	while (p <= end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);

		cleanup_line(st, REC_NORM, p, n);
		if (nl == NULL)
			break;
		p = nl + 1;
	}
}

/* cleanup_header_name - the folded name of a header, or -1 if none */
static int
cleanup_header_name(const char *h, size_t len, char *name, size_t size)
{
	size_t i;

	for (i = 0; i < len && i < size - 1; i++) {
		unsigned char c = (unsigned char)h[i];

		if (c == ':')
			break;
		if (c <= ' ' || c >= 0x7f)
			break;
		name[i] = (char)tolower(c);
	}
	if (i == 0)
		return -1;
	name[i] = 0;
	/* Allow white space before the colon, as old mailers write it. */
	while (i < len && (h[i] == ' ' || h[i] == '\t'))
		i++;
	if (i >= len || h[i] != ':')
		return -1;
	return (int)i + 1;
}

/* cleanup_is_header - could this line start a header? */
static int
cleanup_is_header(const char *p, size_t len)
{
	char name[128];

	return cleanup_header_name(p, len, name, sizeof(name)) > 0;
}

/* cleanup_in_list - is name in a comma/space separated list? */
static int
cleanup_in_list(const char *list, const char *name)
{
	size_t nl = strlen(name);

	while (list && *list) {
		size_t n;

		list += strspn(list, SEPARATORS);
		n = strcspn(list, SEPARATORS);
		if (n == nl && strncasecmp(list, name, n) == 0)
			return 1;
		list += n;
	}
	return 0;
}

/* cleanup_extract - collect the addresses of a header value */
static void
cleanup_extract(struct cleanup_state *st, struct argv *to, const char *v,
    size_t len)
{
	static const struct addr_limits lim = ADDR_LIMITS_DEFAULT;
	struct addr_list list;
	struct buf why = BUF_INIT;
	size_t i;

	if (addr_parse_list(v, len, &lim, &list, &why) < 0) {
		log_warn("%s: cannot extract recipients: %s", st->id,
		    buf_str(&why));
		buf_free(&why);
		return;
	}
	for (i = 0; i < list.n; i++)
		if (list.v[i].addr[0] && to->n < 10000)
			argv_add(to, list.v[i].addr);
	addr_list_free(&list);
	buf_free(&why);
}

/* What cleanup_map_hdr_addr() needs. */
struct cleanup_hdr_ctx {
	struct cleanup_state *st;
	int	 class;
};

/*
 * cleanup_map_hdr_addr - one header address: the canonical form of an
 * unqualified address, then canonical maps and masquerading of its class
 */
static int
cleanup_map_hdr_addr(const char *addr, struct buf *out, void *ctx)
{
	struct cleanup_hdr_ctx *c = ctx;

	if (strchr(addr, '@'))
		buf_sets(out, addr);
	else if (cleanup_rewrite(c->st, addr, out) < 0)
		return -1;
	if (cleanup_map_addr(c->st, c->class, out) < 0)
		return -1;
	return 1;
}

/*
 * cleanup_rewrite_header - rewrite the addresses of an address header
 * (locally submitted mail); the rest of the text stays as it is.
 */
static void
cleanup_rewrite_header(struct cleanup_state *st, struct buf *h, size_t voff,
    int kind)
{
	struct cleanup_hdr_ctx c = { st, kind == ADDR_HDR_SENDER ?
	    CL_CLASS_HDR_SENDER : CL_CLASS_HDR_RCPT };
	struct buf v = BUF_INIT;

	if (addr_list_rewrite(h->p + voff, h->len - voff, cleanup_map_hdr_addr,
	    &c, &v) == 1) {
		buf_truncate(h, voff);
		buf_put(h, v.p, v.len);
	}
	buf_free(&v);
}

/* cleanup_header - process one complete logical header */
static void
cleanup_header(struct cleanup_state *st)
{
	struct buf *h = &st->header;
	char name[128];
	int voff, kind;

	if (h->len == 0)
		return;
	voff = cleanup_header_name(h->p, h->len, name, sizeof(name));
	if (voff < 0) {
		/* Cannot happen: only header-looking lines start one. */
		cleanup_out_header(st, h->p, h->len);
		buf_reset(h);
		return;
	}
	if (strcmp(name, "received") == 0 &&
	    ++st->hops > cleanup_cfg.hopcount_limit) {
		if (!(st->status & CLEANUP_STAT_HOPS)) {
			log_warn("%s: too many hops (%d)", st->id, st->hops);
			cleanup_fail(st, CLEANUP_STAT_HOPS, "too many hops");
		}
	}
	if (strncmp(name, "resent-", 7) == 0)
		st->seen |= CL_SEEN_RESENT;
	if (strcmp(name, "from") == 0)
		st->seen |= CL_SEEN_FROM;
	else if (strcmp(name, "date") == 0)
		st->seen |= CL_SEEN_DATE;
	else if (strcmp(name, "message-id") == 0) {
		st->seen |= CL_SEEN_MSGID;
		if (st->message_id == NULL) {
			struct buf v = BUF_INIT;

			buf_put(&v, h->p + voff, h->len - (size_t)voff);
			st->message_id = xstrdup(str_trim(v.p));
			buf_free(&v);
		}
	} else if (strcmp(name, "to") == 0 || strcmp(name, "cc") == 0 ||
	    strcmp(name, "bcc") == 0)
		st->seen |= CL_SEEN_TO;
	if (st->flags & CLEANUP_FLAG_EXTRACT) {
		if (strcmp(name, "to") == 0 || strcmp(name, "cc") == 0 ||
		    strcmp(name, "bcc") == 0)
			cleanup_extract(st, &st->xrcpt, h->p + voff,
			    h->len - (size_t)voff);
		else if (strcmp(name, "resent-to") == 0 ||
		    strcmp(name, "resent-cc") == 0 ||
		    strcmp(name, "resent-bcc") == 0)
			cleanup_extract(st, &st->xresent, h->p + voff,
			    h->len - (size_t)voff);
	}
	if (cleanup_in_list(cleanup_cfg.message_drop_headers, name)) {
		buf_reset(h);
		return;
	}
	if ((st->flags & CLEANUP_FLAG_LOCAL) &&
	    !(st->flags & CLEANUP_FLAG_NOTICE)) {
		if ((kind = addr_header_kind(name)) != 0)
			cleanup_rewrite_header(st, h, (size_t)voff, kind);
	}
	cleanup_out_header(st, h->p, h->len);
	buf_reset(h);
}

/* cleanup_quote_phrase - a display name, quoted when needed */
static void
cleanup_quote_phrase(struct buf *b, const char *s)
{
	const char *p;
	int plain = 1;

	for (p = s; *p; p++)
		if (!isalnum((unsigned char)*p) && *p != ' ' && *p != '-' &&
		    *p != '.' && (unsigned char)*p < 0x80)
			plain = 0;
	if (plain) {
		buf_puts(b, s);
		return;
	}
	buf_putc(b, '"');
	for (p = s; *p; p++) {
		if (*p == '"' || *p == '\\')
			buf_putc(b, '\\');
		if (*p != '\n' && *p != '\r')
			buf_putc(b, *p);
	}
	buf_putc(b, '"');
}

/* cleanup_missing - add missing headers after the last one */
static void
cleanup_missing(struct cleanup_state *st)
{
	struct buf h = BUF_INIT, q = BUF_INIT;

	if (!((st->flags & CLEANUP_FLAG_LOCAL) ||
	    cleanup_cfg.always_add_missing_headers))
		return;
	if (!(st->seen & CL_SEEN_FROM)) {
		buf_puts(&h, "From: ");
		addr_quote(st->sender && *st->sender ? st->sender :
		    mail_cfg.empty_address_recipient, &q);
		if (st->full_name && *st->full_name) {
			cleanup_quote_phrase(&h, st->full_name);
			buf_printf(&h, " <%s>", q.p);
		} else {
			buf_puts(&h, buf_str(&q));
		}
		cleanup_line(st, REC_NORM, h.p, h.len);
		buf_reset(&h);
	}
	if (!(st->seen & CL_SEEN_DATE)) {
		buf_puts(&h, "Date: ");
		cleanup_rfc822_date(&h, st->arrival.tv_sec);
		cleanup_line(st, REC_NORM, h.p, h.len);
		buf_reset(&h);
	}
	if (!(st->seen & CL_SEEN_MSGID)) {
		struct tm tm;
		char stamp[32];
		time_t t = st->arrival.tv_sec;

		gmtime_r(&t, &tm);
		strftime(stamp, sizeof(stamp), "%Y%m%d%H%M%S", &tm);
		buf_printf(&h, "Message-Id: <%s.%s@%s>", stamp, st->id,
		    mail_cfg.myhostname);
		free(st->message_id);
		st->message_id = xstrdup(h.p + strlen("Message-Id: "));
		cleanup_line(st, REC_NORM, h.p, h.len);
		buf_reset(&h);
	}
	buf_free(&h);
	buf_free(&q);
}

/* cleanup_headers_done - the header section ended */
static void
cleanup_headers_done(struct cleanup_state *st)
{
	cleanup_header(st);
	cleanup_missing(st);
	st->phase = CL_PHASE_BODY;
}

/* cleanup_content_start - the M record: begin the content */
void
cleanup_content_start(struct cleanup_state *st)
{
	struct buf h = BUF_INIT;

	if (st->sender == NULL) {
		cleanup_fail(st, CLEANUP_STAT_BAD, "no sender");
		return;
	}
	st->data_offset = st->file_pos;
	cleanup_out(st, REC_MESG, "", 0);
	if ((st->flags & CLEANUP_FLAG_LOCAL) &&
	    !(st->flags & CLEANUP_FLAG_NOTICE)) {
		buf_printf(&h, "Received: by %s (%s", mail_cfg.myhostname,
		    mail_cfg.mail_name);
		if (st->uid >= 0)
			buf_printf(&h, ", from userid %ld", st->uid);
		buf_printf(&h, ")\n\tid %s; ", st->id);
		cleanup_rfc822_date(&h, st->arrival.tv_sec);
		cleanup_out_header(st, h.p, h.len);
	}
	buf_free(&h);
}

/* cleanup_header_line - one complete physical line in the headers */
static void
cleanup_header_line(struct cleanup_state *st, const char *p, size_t len)
{
	if (st->header.len && len && (p[0] == ' ' || p[0] == '\t')) {
		if (st->header.len + 1 + len > (size_t)
		    cleanup_cfg.header_size_limit) {
			if (!st->header_trunc)
				log_warn("%s: header exceeds "
				    "header_size_limit %ld -- truncated",
				    st->id, cleanup_cfg.header_size_limit);
			st->header_trunc = 1;
			return;
		}
		buf_putc(&st->header, '\n');
		buf_put(&st->header, p, len);
		return;
	}
	cleanup_header(st);
	st->header_trunc = 0;
	if (len == 0) {
		cleanup_headers_done(st);
		cleanup_line(st, REC_NORM, "", 0);
		return;
	}
	if (!cleanup_is_header(p, len)) {
		/* The body starts without an empty line: insert one. */
		cleanup_headers_done(st);
		cleanup_line(st, REC_NORM, "", 0);
		cleanup_line(st, REC_NORM, p, len);
		return;
	}
	if (len > (size_t)cleanup_cfg.header_size_limit) {
		log_warn("%s: header exceeds header_size_limit %ld -- "
		    "truncated", st->id, cleanup_cfg.header_size_limit);
		len = (size_t)cleanup_cfg.header_size_limit;
		st->header_trunc = 1;
	}
	buf_set(&st->header, p, len);
}

/* cleanup_content - one L or P record */
void
cleanup_content(struct cleanup_state *st, int type, const char *p,
    size_t len)
{
	if (st->phase == CL_PHASE_BODY) {
		cleanup_line(st, type, p, len);
		return;
	}
	/* Headers: join partial records, bounded (the excess is lost). */
	if (type == REC_CONT || st->in_partial) {
		size_t room = (size_t)cleanup_cfg.header_size_limit + 1;

		if (st->partial.len < room)
			buf_put(&st->partial, p, len < room - st->partial.len ?
			    len : room - st->partial.len);
		st->in_partial = type == REC_CONT;
		if (type == REC_CONT)
			return;
		cleanup_header_line(st, st->partial.p ? st->partial.p : "",
		    st->partial.len);
		buf_reset(&st->partial);
		return;
	}
	cleanup_header_line(st, p, len);
}

/* cleanup_content_end - the X record: content complete */
void
cleanup_content_end(struct cleanup_state *st)
{
	struct argv *x;
	size_t i;

	if (st->in_partial) {
		cleanup_header_line(st, st->partial.p ? st->partial.p : "",
		    st->partial.len);
		buf_reset(&st->partial);
		st->in_partial = 0;
	}
	if (st->phase == CL_PHASE_HEADERS)
		cleanup_headers_done(st);
	st->xtra_offset = st->file_pos;
	cleanup_out(st, REC_XTRA, "", 0);
	x = (st->seen & CL_SEEN_RESENT) && st->xresent.n ? &st->xresent :
	    &st->xrcpt;
	for (i = 0; i < x->n; i++) {
		struct buf canon = BUF_INIT;

		if (cleanup_rewrite(st, x->v[i], &canon) == 0)
			cleanup_recipient(st, buf_str(&canon), x->v[i], 0);
		buf_free(&canon);
	}
}
