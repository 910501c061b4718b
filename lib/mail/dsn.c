/*
 * NAME		dsn - delivery status notifications (RFC 3464, RFC 6522)
 * DESCRIPTION	dsn_compose() appends to a buffer the text of one notice,
 *		as lines ended by "\n" (the caller turns each line into a
 *		record), in three parts under a multipart/report:
 *
 *		1. text/plain: who could not be reached (or was delayed, or
 *		   was reached) and why, in words;
 *		2. message/delivery-status: Reporting-MTA, Arrival-Date,
 *		   X-Postern-Queue-ID and, per recipient, Final-Recipient,
 *		   Original-Recipient, Action, Status, Remote-MTA and
 *		   Diagnostic-Code ("smtp;" when the reason holds a server
 *		   reply, "x-unix;" otherwise);
 *		3. the original message as message/rfc822, or only its
 *		   headers as text/rfc822-headers: a non-delivery notice
 *		   returns the message unless RET=HDRS was asked for, delay
 *		   warnings and delivery reports only when RET=FULL was;
 *		   headers only when the message is larger than the size
 *		   limit, and in a postmaster copy.  Absent when the message
 *		   is unreadable.
 *
 *		A recipient is reported when its DSN NOTIFY asks for this
 *		kind of notice (no NOTIFY means failures and delays),
 *		never when NOTIFY=NEVER, unless DSN_FLAG_ALL says that the
 *		notice goes to the postmaster, who gets everything.
 *
 *		The boundary is made from the notice ID, the time and the
 *		host name, and is made longer until no part contains it.
 * SECURITY	Everything that comes from a log or a queue file is hostile:
 *		text copied into the generated parts loses control
 *		characters and 8-bit bytes, is cut at DSN_REASON_MAX or
 *		DSN_ADDR_MAX and folded so that no line exceeds 998 bytes.
 *		The returned message is read only as far as needed: up to
 *		the size limit, or the headers up to DSN_HEADERS_MAX.
 * SEE ALSO	bounce(8), doc/bounce.md
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "util/log.h"
#include "addr.h"
#include "dsn.h"
#include "qfile.h"

#define DSN_HARD_MAX	900	/* split words longer than this */
#define DSN_INDENT	"    "

#define ORIG_NONE	0
#define ORIG_FULL	1
#define ORIG_HEADERS	2

struct dsn_orig {
	struct buf text;
	int	 mode;
	int	 eightbit;
};

/* dsn_status_valid - an RFC 3463 status code "c.s.d"? */
int
dsn_status_valid(const char *s)
{
	int part, n;

	if (s == NULL || (s[0] != '2' && s[0] != '4' && s[0] != '5') ||
	    s[1] != '.')
		return 0;
	s += 2;
	for (part = 0; part < 2; part++) {
		for (n = 0; *s >= '0' && *s <= '9'; s++)
			n++;
		if (n < 1 || n > 3)
			return 0;
		if (part == 0 && *s++ != '.')
			return 0;
	}
	return *s == 0;
}

/* dsn_action_valid - an RFC 3464 action value we produce? */
int
dsn_action_valid(const char *s)
{
	static const char *const actions[] = {"failed", "delayed",
	    "delivered", "relayed", "expanded", NULL};
	int i;

	if (s == NULL)
		return 0;
	for (i = 0; actions[i]; i++)
		if (strcmp(s, actions[i]) == 0)
			return 1;
	return 0;
}

/* dsn_wanted - does a recipient with these NOTIFY bits get the notice? */
int
dsn_wanted(int kind, int flags, int notify)
{
	if (flags & DSN_FLAG_ALL)
		return 1;
	if (notify & DSN_NOTIFY_NEVER)
		return 0;
	switch (kind) {
	case DSN_KIND_FAILURE:
		return notify == 0 || (notify & DSN_NOTIFY_FAILURE) != 0;
	case DSN_KIND_DELAY:
		return notify == 0 || (notify & DSN_NOTIFY_DELAY) != 0;
	case DSN_KIND_SUCCESS:
		return (notify & DSN_NOTIFY_SUCCESS) != 0;
	default:
		return 0;
	}
}

/* dsn_count - how many recipients the notice reports */
size_t
dsn_count(const struct dsn_notice *n)
{
	size_t i, count = 0;

	for (i = 0; i < n->nrcpt; i++)
		if (n->rcpts[i].addr && *n->rcpts[i].addr &&
		    dsn_wanted(n->kind, n->flags, n->rcpts[i].notify))
			count++;
	return count;
}

/* dsn_str - never NULL */
static const char *
dsn_str(const char *s)
{
	return s ? s : "";
}

/*
 * dsn_clean - append s as printable ASCII: control characters become
 * spaces, 8-bit bytes '?'; cut at max bytes with "..." appended.
 */
static void
dsn_clean(struct buf *out, const char *s, size_t max)
{
	size_t i;

	for (i = 0; s && s[i]; i++) {
		unsigned char c = (unsigned char)s[i];

		if (i >= max) {
			buf_puts(out, "...");
			return;
		}
		if (c < 0x20 || c == 0x7f)
			c = ' ';
		else if (c >= 0x80)
			c = '?';
		buf_putc(out, c);
	}
}

/*
 * dsn_fold - append the words of head and text (already clean) separated
 * by single spaces, starting a new line that begins with indent before
 * DSN_LINE_MAX columns where a space allows it, and splitting words that
 * are too long for any line.  The first word stays on the first line.
 * Ends the line.
 */
static void
dsn_fold(struct buf *out, const char *head, const char *text,
    const char *indent)
{
	size_t line = out->len, ilen = strlen(indent);
	struct buf all = BUF_INIT;
	int sep = 0;
	const char *p;

	buf_puts(&all, head);
	if (*head && *text)
		buf_putc(&all, ' ');
	buf_puts(&all, text);
	p = buf_str(&all);
	for (;;) {
		size_t wlen, cur, room;

		while (*p == ' ')
			p++;
		if (*p == 0)
			break;
		wlen = strcspn(p, " ");
		cur = out->len - line;
		if (cur > ilen && cur + (size_t)sep + wlen > DSN_LINE_MAX &&
		    wlen <= DSN_LINE_MAX - ilen - 1) {
			buf_putc(out, '\n');
			line = out->len;
			buf_puts(out, indent);
			sep = 0;
			cur = ilen;
		}
		if (sep) {
			buf_putc(out, ' ');
			cur++;
		}
		while (wlen > 0) {
			room = cur < DSN_HARD_MAX ? DSN_HARD_MAX - cur : 0;
			if (room == 0) {
				buf_putc(out, '\n');
				line = out->len;
				buf_puts(out, indent);
				cur = ilen;
				continue;
			}
			if (room > wlen)
				room = wlen;
			buf_put(out, p, room);
			p += room;
			wlen -= room;
			cur += room;
		}
		sep = 1;
	}
	buf_putc(out, '\n');
	buf_free(&all);
}

/* dsn_field - one folded "Name: value" line, value cleaned */
static void
dsn_field(struct buf *out, const char *name, const char *type,
    const char *value, size_t max)
{
	struct buf head = BUF_INIT, val = BUF_INIT;

	buf_printf(&head, "%s:", name);
	if (type)
		buf_printf(&head, " %s;", type);
	dsn_clean(&val, value, max);
	dsn_fold(out, buf_str(&head), buf_str(&val), DSN_INDENT);
	buf_free(&head);
	buf_free(&val);
}

/* dsn_date - RFC 5322 date-time of t in local time */
void
dsn_date(struct buf *out, long t)
{
	static const char days[7][4] = {"Sun", "Mon", "Tue", "Wed", "Thu",
	    "Fri", "Sat"};
	static const char months[12][4] = {"Jan", "Feb", "Mar", "Apr", "May",
	    "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
	time_t tt = (time_t)t;
	struct tm tm;
	long off, i;
	int ok = 1;

	if (localtime_r(&tt, &tm) == NULL) {
		tt = 0;
		(void)gmtime_r(&tt, &tm);
		tm.tm_gmtoff = 0;
		tm.tm_zone = NULL;
	}
	off = tm.tm_gmtoff / 60;
	buf_printf(out, "%s, %d %s %d %02d:%02d:%02d %c%02ld%02ld",
	    days[tm.tm_wday % 7], tm.tm_mday, months[tm.tm_mon % 12],
	    tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec,
	    off < 0 ? '-' : '+', (off < 0 ? -off : off) / 60,
	    (off < 0 ? -off : off) % 60);
	if (tm.tm_zone == NULL || *tm.tm_zone == 0)
		return;
	for (i = 0; tm.tm_zone[i]; i++) {
		char c = tm.tm_zone[i];

		if (i > 15 || !((c >= 'A' && c <= 'Z') || (c >= 'a' &&
		    c <= 'z') || (c >= '0' && c <= '9') || c == '+' ||
		    c == '-'))
			ok = 0;
	}
	if (ok)
		buf_printf(out, " (%s)", tm.tm_zone);
}

/* dsn_duration - "5 days", "4 hours", "1.5 days", "30 seconds" */
void
dsn_duration(struct buf *out, long secs)
{
	static const struct {
		long	 size;
		const char *name;
	} units[] = {
		{86400, "day"}, {3600, "hour"}, {60, "minute"}, {1, "second"},
	};
	long tenths;
	size_t i;

	if (secs < 0)
		secs = 0;
	for (i = 0; i < sizeof(units) / sizeof(units[0]) - 1; i++)
		if (secs >= units[i].size)
			break;
	/* Round to tenths without overflow for any long. */
	tenths = secs / units[i].size * 10 +
	    (secs % units[i].size * 10 + units[i].size / 2) / units[i].size;
	if (tenths % 10 == 0)
		buf_printf(out, "%ld %s%s", tenths / 10, units[i].name,
		    tenths == 10 ? "" : "s");
	else
		buf_printf(out, "%ld.%ld %ss", tenths / 10, tenths % 10,
		    units[i].name);
}

/* dsn_rcpt_status - the status to report, valid for the notice kind */
static const char *
dsn_rcpt_status(const struct dsn_notice *n, const struct dsn_rcpt *r)
{
	const char *s = r->status;

	switch (n->kind) {
	case DSN_KIND_FAILURE:
		if (dsn_status_valid(s) && (s[0] == '4' || s[0] == '5'))
			return s;
		return "5.0.0";
	case DSN_KIND_DELAY:
		if (dsn_status_valid(s) && s[0] == '4')
			return s;
		return "4.0.0";
	default:
		if (dsn_status_valid(s) && s[0] == '2')
			return s;
		return "2.0.0";
	}
}

/* dsn_rcpt_action - the action to report, valid for the notice kind */
static const char *
dsn_rcpt_action(const struct dsn_notice *n, const struct dsn_rcpt *r)
{
	switch (n->kind) {
	case DSN_KIND_FAILURE:
		return "failed";
	case DSN_KIND_DELAY:
		return "delayed";
	default:
		if (r->action && (strcmp(r->action, "delivered") == 0 ||
		    strcmp(r->action, "relayed") == 0 ||
		    strcmp(r->action, "expanded") == 0))
			return r->action;
		return "delivered";
	}
}

/* dsn_smtp_reply - does s start with an SMTP reply code? */
static int
dsn_smtp_reply(const char *s)
{
	return s[0] >= '2' && s[0] <= '5' && s[1] >= '0' && s[1] <= '9' &&
	    s[2] >= '0' && s[2] <= '9' && (s[3] == ' ' || s[3] == '-' ||
	    s[3] == 0);
}

/*
 * dsn_diagnostic - Diagnostic-Code: "smtp; reply" when the reason is or
 * quotes ("host X said: 550 ...") a server reply, else "x-unix; reason".
 */
static void
dsn_diagnostic(struct buf *out, const char *reason)
{
	const char *said, *end;
	struct buf tmp = BUF_INIT;

	if (dsn_smtp_reply(reason)) {
		dsn_field(out, "Diagnostic-Code", "smtp", reason,
		    DSN_REASON_MAX);
		return;
	}
	if ((said = strstr(reason, " said: ")) != NULL &&
	    dsn_smtp_reply(said + 7)) {
		said += 7;
		/* Drop the " (in reply to RCPT TO command)" commentary. */
		end = strstr(said, " (in reply to ");
		buf_put(&tmp, said, end ? (size_t)(end - said) : strlen(said));
		dsn_field(out, "Diagnostic-Code", "smtp", buf_str(&tmp),
		    DSN_REASON_MAX);
		buf_free(&tmp);
		return;
	}
	dsn_field(out, "Diagnostic-Code", "x-unix", reason, DSN_REASON_MAX);
}

/* dsn_remote_mta - "host" of "host[addr]:port", or "[addr]"; "" if none */
static void
dsn_remote_mta(struct buf *out, const char *relay)
{
	const char *br = strchr(relay, '['), *ket;

	buf_reset(out);
	if (br == NULL) {
		/* Only a name with a dot is a host; "local" and "none" not. */
		if (strchr(relay, '.') != NULL)
			buf_put(out, relay, strcspn(relay, ":"));
		return;
	}
	if (br > relay) {
		buf_put(out, relay, (size_t)(br - relay));
	} else if ((ket = strchr(br, ']')) != NULL) {
		buf_put(out, br, (size_t)(ket - br) + 1);
	}
}

/* dsn_is_typed - "rfc822;..." or "utf-8;..." (an ORCPT with its type)? */
static int
dsn_is_typed(const char *s)
{
	return strncasecmp(s, "rfc822;", 7) == 0 ||
	    strncasecmp(s, "utf-8;", 6) == 0;
}

/* dsn_addr - cleaned external form of an address */
static void
dsn_addr(struct buf *out, const char *addr)
{
	struct buf q = BUF_INIT;

	addr_quote(dsn_str(addr), &q);
	buf_reset(out);
	dsn_clean(out, buf_str(&q), DSN_ADDR_MAX);
	buf_free(&q);
}

/* dsn_rcpt_text - one recipient of the human-readable part */
static void
dsn_rcpt_text(struct buf *out, const struct dsn_notice *n,
    const struct dsn_rcpt *r)
{
	struct buf head = BUF_INIT, a = BUF_INIT, reason = BUF_INIT;
	const char *why = dsn_str(r->reason);

	dsn_addr(&a, r->addr);
	buf_printf(&head, "<%s>", buf_str(&a));
	if (r->orig && *r->orig && strcmp(r->orig, r->addr) != 0 &&
	    !dsn_is_typed(r->orig)) {
		dsn_addr(&a, r->orig);
		buf_printf(&head, " (expanded from <%s>)", buf_str(&a));
	}
	buf_putc(&head, ':');
	if (*why == 0)
		why = n->kind == DSN_KIND_FAILURE ? "delivery failed" :
		    n->kind == DSN_KIND_DELAY ? "delivery deferred" :
		    "delivered";
	dsn_clean(&reason, why, DSN_REASON_MAX);
	buf_putc(out, '\n');
	dsn_fold(out, buf_str(&head), buf_str(&reason), DSN_INDENT);
	buf_free(&head);
	buf_free(&a);
	buf_free(&reason);
}

/* dsn_lines - append fixed lines, then an empty line */
static void
dsn_lines(struct buf *out, const char *const *lines)
{
	for (; *lines; lines++) {
		buf_puts(out, *lines);
		buf_putc(out, '\n');
	}
	buf_putc(out, '\n');
}

/* dsn_age - how long the message has waited, for the explanations */
static long
dsn_age(const struct dsn_notice *n, long fallback)
{
	if (n->arrival > 0 && n->now > n->arrival)
		return n->now - n->arrival;
	return fallback;
}

/* dsn_text_part - the human-readable explanation */
static void
dsn_text_part(struct buf *out, const struct dsn_notice *n,
    const struct dsn_orig *o)
{
	static const char *const failure[] = {
		"Your message could not be delivered to one or more of its",
		"recipients.  Each of them is listed below with the reason.",
		NULL
	};
	static const char *const help[] = {
		"If you need help, write to the postmaster of this system and",
		"include this report.  You may remove your own text from the",
		"returned message first.",
		NULL
	};
	static const char *const delay[] = {
		"*** This is a warning only; no action is required. ***",
		"*** Do not send your message again.                ***",
		NULL
	};
	static const char *const success[] = {
		"Your message was delivered to the recipients listed below.",
		"Where it was handed on to another mail system (\"relayed\"),",
		"that system may still send reports of its own.",
		NULL
	};
	static const char *const twobounce[] = {
		"A delivery status notification (a message from the null",
		"sender) could not be delivered.  As it cannot be returned",
		"to its sender, it is passed to the postmaster instead.",
		NULL
	};
	struct buf tmp = BUF_INIT, t2 = BUF_INIT, s = BUF_INIT;
	size_t i;

	dsn_clean(&s, n->hostname, 255);
	buf_printf(out, "This is the mail delivery system at host %s.\n\n",
	    buf_str(&s));
	dsn_addr(&s, n->sender);
	if (n->flags & DSN_FLAG_2BOUNCE) {
		dsn_lines(out, twobounce);
	} else if (n->flags & DSN_FLAG_PMCOPY) {
		buf_printf(&tmp, "Postmaster copy: a %s about message %s was "
		    "sent to <%s>.  The report and the message headers "
		    "follow.", n->kind == DSN_KIND_DELAY ? "delay warning" :
		    n->kind == DSN_KIND_SUCCESS ? "delivery report" :
		    "non-delivery notification", dsn_str(n->queue_id),
		    buf_str(&s));
		dsn_fold(out, "", buf_str(&tmp), "");
		buf_putc(out, '\n');
	} else if (n->kind == DSN_KIND_FAILURE) {
		dsn_lines(out, failure);
		if (n->flags & DSN_FLAG_EXPIRED) {
			dsn_duration(&t2, dsn_age(n, n->lifetime));
			buf_printf(&tmp, "Delivery was tried for %s without "
			    "success, and the mail system has now given up.",
			    buf_str(&t2));
			dsn_fold(out, "", buf_str(&tmp), "");
			buf_putc(out, '\n');
		}
		buf_sets(&tmp, o->mode == ORIG_FULL ? "Your message is "
		    "attached at the end of this report." : o->mode ==
		    ORIG_HEADERS ? "The headers of your message are attached "
		    "at the end of this report." : "Your message is not "
		    "available to be returned.");
		dsn_fold(out, "", buf_str(&tmp), "");
		buf_putc(out, '\n');
		dsn_lines(out, help);
	} else if (n->kind == DSN_KIND_DELAY) {
		dsn_lines(out, delay);
		dsn_duration(&t2, dsn_age(n, n->warn_time));
		buf_printf(&tmp, "Your message has not yet been delivered to "
		    "the recipients listed below after %s.", buf_str(&t2));
		if (n->lifetime > 0) {
			buf_reset(&t2);
			dsn_duration(&t2, n->lifetime);
			buf_printf(&tmp, "  The mail system will keep trying "
			    "until the message is %s old, and will tell you "
			    "if it gives up.", buf_str(&t2));
		}
		dsn_fold(out, "", buf_str(&tmp), "");
		buf_putc(out, '\n');
	} else {
		dsn_lines(out, success);
	}
	buf_puts(out, "                   The mail system\n");
	for (i = 0; i < n->nrcpt; i++) {
		const struct dsn_rcpt *r = &n->rcpts[i];

		if (r->addr && *r->addr &&
		    dsn_wanted(n->kind, n->flags, r->notify))
			dsn_rcpt_text(out, n, r);
	}
	buf_free(&tmp);
	buf_free(&t2);
	buf_free(&s);
}

/* dsn_report_part - the message/delivery-status body */
static void
dsn_report_part(struct buf *out, const struct dsn_notice *n)
{
	struct buf tmp = BUF_INIT;
	size_t i;
	long until;

	if (n->envid && *n->envid)
		dsn_field(out, "Original-Envelope-Id", NULL, n->envid, 100);
	dsn_field(out, "Reporting-MTA", "dns", n->hostname, 255);
	if (n->arrival > 0) {
		dsn_date(&tmp, n->arrival);
		dsn_field(out, "Arrival-Date", NULL, buf_str(&tmp), 100);
	}
	dsn_field(out, "X-Postern-Queue-ID", NULL, n->queue_id, 64);
	dsn_addr(&tmp, n->sender);
	dsn_field(out, "X-Postern-Sender", "rfc822", buf_str(&tmp),
	    DSN_ADDR_MAX);

	for (i = 0; i < n->nrcpt; i++) {
		const struct dsn_rcpt *r = &n->rcpts[i];
		const char *reason = dsn_str(r->reason);

		if (r->addr == NULL || *r->addr == 0 ||
		    !dsn_wanted(n->kind, n->flags, r->notify))
			continue;
		buf_putc(out, '\n');
		dsn_addr(&tmp, r->addr);
		dsn_field(out, "Final-Recipient", "rfc822", buf_str(&tmp),
		    DSN_ADDR_MAX);
		if (r->orig && *r->orig) {
			if (dsn_is_typed(r->orig)) {
				dsn_field(out, "Original-Recipient", NULL,
				    r->orig, DSN_ADDR_MAX);
			} else {
				dsn_addr(&tmp, r->orig);
				dsn_field(out, "Original-Recipient", "rfc822",
				    buf_str(&tmp), DSN_ADDR_MAX);
			}
		}
		buf_printf(out, "Action: %s\n", dsn_rcpt_action(n, r));
		buf_printf(out, "Status: %s\n", dsn_rcpt_status(n, r));
		dsn_remote_mta(&tmp, dsn_str(r->relay));
		if (tmp.len)
			dsn_field(out, "Remote-MTA", "dns", buf_str(&tmp),
			    255);
		if (*reason)
			dsn_diagnostic(out, reason);
		if (r->when > 0 && n->kind != DSN_KIND_SUCCESS) {
			buf_reset(&tmp);
			dsn_date(&tmp, r->when);
			dsn_field(out, "Last-Attempt-Date", NULL,
			    buf_str(&tmp), 100);
		}
		if (n->kind == DSN_KIND_DELAY && n->arrival > 0 &&
		    n->lifetime > 0 && !__builtin_add_overflow(n->arrival,
		    n->lifetime, &until)) {
			buf_reset(&tmp);
			dsn_date(&tmp, until);
			dsn_field(out, "Will-Retry-Until", NULL,
			    buf_str(&tmp), 100);
		}
	}
	buf_free(&tmp);
}

/*
 * dsn_read_orig - read as much of the original message as the notice
 * returns: all of it when wanted and within the size limit, else its
 * headers (at most DSN_HEADERS_MAX bytes).
 */
static void
dsn_read_orig(const struct dsn_notice *n, struct dsn_orig *o)
{
	struct buf line = BUF_INIT;
	size_t hdr_end = 0, i;
	int full, in_headers = 1, r;

	buf_init(&o->text);
	o->mode = ORIG_NONE;
	o->eightbit = 0;
	if (n->orig_line == NULL)
		return;
	if (n->flags & DSN_FLAG_PMCOPY)
		full = 0;
	else if (n->kind != DSN_KIND_FAILURE)
		full = n->ret == DSN_RET_FULL;
	else
		full = n->ret != DSN_RET_HDRS;
	if (full && (n->size_limit <= 0 || n->msg_size > n->size_limit))
		full = 0;
	for (;;) {
		r = n->orig_line(n->orig_ctx, &line);
		if (r < 0) {
			buf_free(&o->text);
			buf_free(&line);
			return;
		}
		if (r == 0)
			break;
		if (line.len > 0 && line.p[line.len - 1] == '\r')
			buf_truncate(&line, line.len - 1);
		if (in_headers && line.len == 0) {
			in_headers = 0;
			hdr_end = o->text.len;
			if (!full)
				break;
		}
		if (in_headers && o->text.len + line.len + 1 >
		    DSN_HEADERS_MAX) {
			/* Absurd headers: return what fits, no body. */
			full = 0;
			in_headers = 0;
			hdr_end = o->text.len;
			break;
		}
		if (full && o->text.len + line.len + 1 >
		    (size_t)n->size_limit) {
			/* The size record understated the message. */
			full = 0;
			if (!in_headers)
				break;
		}
		if (!in_headers && !full)
			break;
		buf_put(&o->text, line.p, line.len);
		buf_putc(&o->text, '\n');
	}
	if (!full && !in_headers)
		buf_truncate(&o->text, hdr_end);
	o->mode = full ? ORIG_FULL : ORIG_HEADERS;
	for (i = 0; i < o->text.len; i++)
		if ((unsigned char)o->text.p[i] >= 0x80)
			o->eightbit = 1;
	buf_free(&line);
}

/* dsn_boundary - a MIME boundary that occurs in none of the parts */
static void
dsn_boundary(struct buf *b, const struct dsn_notice *n,
    const struct buf *const *parts)
{
	const char *id = n->notice_id ? n->notice_id : dsn_str(n->queue_id);
	size_t i, base;
	int collide, k = 0;

	buf_reset(b);
	buf_printf(b, "%.31s.%ld/", id, n->now);
	for (i = 0; n->hostname && n->hostname[i] && b->len < 60; i++) {
		char c = n->hostname[i];

		buf_putc(b, (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '.' || c == '-' ? c : '_');
	}
	/* The ID comes from outside too: keep only boundary characters. */
	for (i = 0; i < b->len; i++)
		if (strchr("abcdefghijklmnopqrstuvwxyz"
		    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789'()+_,-./:=?",
		    b->p[i]) == NULL)
			b->p[i] = '_';
	base = b->len;
	do {
		collide = 0;
		for (i = 0; parts[i]; i++)
			if (parts[i]->len && memmem(parts[i]->p, parts[i]->len,
			    b->p, b->len) != NULL)
				collide = 1;
		if (collide) {
			buf_truncate(b, base);
			buf_printf(b, "=%d", ++k);
		}
	} while (collide && k < 1000000);
}

/* dsn_subject - the Subject: text */
static const char *
dsn_subject(const struct dsn_notice *n)
{
	int pm = (n->flags & (DSN_FLAG_PMCOPY | DSN_FLAG_2BOUNCE)) != 0;

	switch (n->kind) {
	case DSN_KIND_FAILURE:
		return pm ? "Postmaster Copy: Undelivered Mail" :
		    "Undelivered Mail Returned to Sender";
	case DSN_KIND_DELAY:
		return pm ? "Postmaster Warning: Delayed Mail" :
		    "Delayed Mail (still being retried)";
	default:
		return pm ? "Postmaster Copy: Delivery Report" :
		    "Successful Mail Delivery Report";
	}
}

/*
 * dsn_compose - append the notice's text (header and body lines, each
 * ended by "\n") to out.  Returns the number of recipients reported; 0
 * means no notice is due and nothing was appended.
 */
size_t
dsn_compose(const struct dsn_notice *n, struct buf *out)
{
	struct buf text = BUF_INIT, report = BUF_INIT, bnd = BUF_INIT,
	    tmp = BUF_INIT;
	const struct buf *parts[4];
	struct dsn_orig o;
	size_t count;
	const char *what;

	if ((count = dsn_count(n)) == 0)
		return 0;
	dsn_read_orig(n, &o);
	dsn_text_part(&text, n, &o);
	dsn_report_part(&report, n);
	parts[0] = &text;
	parts[1] = &report;
	parts[2] = &o.text;
	parts[3] = NULL;
	dsn_boundary(&bnd, n, parts);

	buf_puts(out, "Date: ");
	dsn_date(out, n->now);
	buf_putc(out, '\n');
	dsn_addr(&tmp, n->from);
	buf_printf(out, "From: Mail Delivery System <%s>\n", buf_str(&tmp));
	dsn_addr(&tmp, n->to);
	if (tmp.len)
		dsn_field(out, "To", NULL, buf_str(&tmp), DSN_ADDR_MAX);
	else
		buf_puts(out, "To: undisclosed-recipients:;\n");
	buf_printf(out, "Subject: %s\n", dsn_subject(n));
	buf_reset(&tmp);
	{
		time_t tt = (time_t)n->now;
		struct tm tm;

		if (gmtime_r(&tt, &tm) != NULL)
			buf_printf(&tmp, "%04d%02d%02d%02d%02d%02d.",
			    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
			    tm.tm_hour, tm.tm_min, tm.tm_sec);
	}
	buf_puts(&tmp, n->notice_id ? n->notice_id : dsn_str(n->queue_id));
	buf_putc(&tmp, '@');
	buf_puts(&tmp, dsn_str(n->hostname));
	buf_puts(out, "Message-Id: <");
	dsn_clean(out, buf_str(&tmp), 300);
	buf_puts(out, ">\n");
	buf_puts(out, "Auto-Submitted: auto-replied\n");
	buf_puts(out, "MIME-Version: 1.0\n");
	buf_puts(out, "Content-Type: multipart/report; "
	    "report-type=delivery-status;\n");
	buf_printf(out, "\tboundary=\"%s\"\n", buf_str(&bnd));
	if (o.eightbit)
		buf_puts(out, "Content-Transfer-Encoding: 8bit\n");
	buf_puts(out, "\nThis is a MIME-encapsulated message.\n\n");

	buf_printf(out, "--%s\n", buf_str(&bnd));
	buf_puts(out, "Content-Description: Notification\n"
	    "Content-Type: text/plain; charset=us-ascii\n\n");
	buf_put(out, text.p, text.len);

	buf_printf(out, "\n--%s\n", buf_str(&bnd));
	buf_puts(out, "Content-Description: Delivery report\n"
	    "Content-Type: message/delivery-status\n\n");
	buf_put(out, report.p, report.len);

	if (o.mode != ORIG_NONE) {
		what = n->kind == DSN_KIND_FAILURE ? "Undelivered Message" :
		    n->kind == DSN_KIND_DELAY ? "Delayed Message" :
		    "Delivered Message";
		buf_printf(out, "\n--%s\n", buf_str(&bnd));
		if (o.mode == ORIG_FULL)
			buf_printf(out, "Content-Description: %s\n"
			    "Content-Type: message/rfc822\n", what);
		else
			buf_printf(out, "Content-Description: %s Headers\n"
			    "Content-Type: text/rfc822-headers\n", what);
		if (o.eightbit)
			buf_puts(out, "Content-Transfer-Encoding: 8bit\n");
		buf_putc(out, '\n');
		buf_put(out, o.text.p, o.text.len);
	} else {
		buf_putc(out, '\n');
	}
	buf_printf(out, "--%s--\n", buf_str(&bnd));

	buf_free(&text);
	buf_free(&report);
	buf_free(&bnd);
	buf_free(&tmp);
	buf_free(&o.text);
	return count;
}
