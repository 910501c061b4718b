/*
 * NAME		showq_clnt - the showq protocol and the mailq output formats
 * DESCRIPTION	Frames follow doc/ipc.md.  showq_parse() scans a frame with
 *		every attribute optional and then checks the combination: a
 *		frame with "end" holds nothing else; a message frame holds
 *		all six message attributes, a valid queue name and queue ID,
 *		and as many reasons as recipients.
 *
 *		The mailq format is Postfix's: with long queue IDs (the
 *		default) the columns are 17/8/19 wide, otherwise 11/7/20; the
 *		queue ID carries '*' when the message is in the active queue,
 *		'!' when it is on hold; a delay reason is printed in
 *		parentheses, right-aligned to column 78, before the first
 *		recipient that has it, and "(reason unavailable)" when a
 *		recipient after one with a reason has none.  The JSON format
 *		is Postfix's postqueue -j: one object per message and line,
 *		keys queue_name, queue_id, arrival_time, message_size,
 *		force_expired, sender, recipients (address, delay_reason).
 *
 *		showq_printable() keeps printable ASCII and well-formed UTF-8
 *		(except C1 controls) and replaces everything else with '?', so
 *		that queue contents cannot move a terminal's cursor.
 * SECURITY	Frames from the server are length-bounded by ipc_read() and
 *		every value by the scan table; the output of both formats is
 *		escaped.
 * SEE ALSO	showq(8), postqueue(1), doc/ipc.md
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "qid.h"
#include "queue.h"
#include "showq_clnt.h"

/* showq_msg_init - empty message */
void
showq_msg_init(struct showq_msg *m)
{
	memset(m, 0, sizeof(*m));
	argv_init(&m->rcpt);
	argv_init(&m->reason);
}

/* showq_msg_free - release a message */
void
showq_msg_free(struct showq_msg *m)
{
	buf_free(&m->queue_name);
	buf_free(&m->queue_id);
	buf_free(&m->sender);
	argv_clear(&m->rcpt);
	argv_clear(&m->reason);
}

/*
 * utf8_len - length of the well-formed UTF-8 sequence at p (2-4), or 0
 * when p does not start one.
 */
static size_t
utf8_len(const unsigned char *p, size_t len)
{
	unsigned char lo = 0x80, hi = 0xbf;
	size_t n, i;

	if (p[0] >= 0xc2 && p[0] <= 0xdf)
		n = 2;
	else if (p[0] >= 0xe0 && p[0] <= 0xef) {
		n = 3;
		if (p[0] == 0xe0)
			lo = 0xa0;
		else if (p[0] == 0xed)
			hi = 0x9f;		/* no surrogates */
	} else if (p[0] >= 0xf0 && p[0] <= 0xf4) {
		n = 4;
		if (p[0] == 0xf0)
			lo = 0x90;
		else if (p[0] == 0xf4)
			hi = 0x8f;
	} else
		return 0;
	if (len < n || p[1] < lo || p[1] > hi)
		return 0;
	for (i = 2; i < n; i++)
		if (p[i] < 0x80 || p[i] > 0xbf)
			return 0;
	return n;
}

/*
 * showq_printable - append s[0..len) with unprintable bytes replaced by
 * '?', at most max bytes (whole characters only).
 */
void
showq_printable(struct buf *out, const char *s, size_t len, size_t max)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t i = 0, used = 0;

	while (i < len) {
		size_t n = 1;

		if (u[i] >= 0x20 && u[i] < 0x7f) {
			if (used + 1 > max)
				break;
			buf_putc(out, u[i]);
		} else if (u[i] >= 0x80 && (n = utf8_len(u + i, len - i)) > 0 &&
		    !(n == 2 && u[i] == 0xc2 && u[i + 1] < 0xa0)) {
			if (used + n > max)
				break;
			buf_put(out, s + i, n);
		} else {
			if (used + 1 > max)
				break;
			n = n ? n : 1;
			buf_putc(out, '?');
			used += 1;
			i += n;
			continue;
		}
		used += n;
		i += n;
	}
}

/* showq_frame_msg - start a message frame */
void
showq_frame_msg(struct buf *f, const char *queue, const char *id,
    long arrival, long size, const char *sender)
{
	ipc_begin(f);
	ipc_put_str(f, "queue_name", queue);
	ipc_put_str(f, "queue_id", id);
	ipc_put_int(f, "arrival_time", arrival);
	ipc_put_int(f, "message_size", size);
	ipc_put_int(f, "forced_expire", 0);
	ipc_put_str(f, "sender", sender);
}

/*
 * showq_frame_rcpt - add one recipient and its reason; -1 (nothing added)
 * when the frame would grow past SHOWQ_FRAME_BUDGET.
 */
int
showq_frame_rcpt(struct buf *f, const char *addr, const char *reason)
{
	size_t alen = strlen(addr), rlen = strlen(reason);

	if (alen > SHOWQ_ADDR_MAX || rlen > SHOWQ_REASON_MAX ||
	    f->len + alen + rlen + 32 > SHOWQ_FRAME_BUDGET)
		return -1;
	ipc_put_strn(f, "rcpt", addr, alen);
	ipc_put_strn(f, "reason", reason, rlen);
	return 0;
}

/* showq_frame_done - finish a message frame */
void
showq_frame_done(struct buf *f, long omitted)
{
	if (omitted > 0)
		ipc_put_int(f, "rcpt_omitted", omitted);
	ipc_end(f);
}

/* showq_frame_end - the last frame */
void
showq_frame_end(struct buf *f, long count)
{
	ipc_begin(f);
	ipc_put_int(f, "end", count);
	ipc_end(f);
}

/*
 * showq_parse - decode one frame body.  Returns 1 for a message, 0 for the
 * end frame, -1 with a reason for anything else.
 */
int
showq_parse(const char *body, size_t len, struct showq_msg *m,
    struct buf *why)
{
	int64_t end = 0;
	struct ipc_want want[] = {
		IPC_WANT_OSTR("queue_name", &m->queue_name, 32),
		IPC_WANT_OSTR("queue_id", &m->queue_id, QID_MAX - 1),
		IPC_WANT_OINT("arrival_time", &m->arrival_time),
		IPC_WANT_OINT("message_size", &m->message_size),
		IPC_WANT_OINT("forced_expire", &m->forced_expire),
		IPC_WANT_OSTR("sender", &m->sender, SHOWQ_ADDR_MAX),
		IPC_WANT_LIST("rcpt", &m->rcpt, SHOWQ_ADDR_MAX,
		    SHOWQ_RCPT_MAX),
		IPC_WANT_LIST("reason", &m->reason, SHOWQ_REASON_MAX,
		    SHOWQ_RCPT_MAX),
		IPC_WANT_OINT("rcpt_omitted", &m->rcpt_omitted),
		IPC_WANT_OINT("end", &end),
		IPC_WANT_END
	};
	int i;

	m->arrival_time = m->message_size = m->forced_expire = 0;
	m->rcpt_omitted = 0;
	if (ipc_scan(body, len, want, why) < 0)
		return -1;
	if (want[9].seen) {
		for (i = 0; i < 9; i++) {
			if (want[i].seen) {
				buf_printf(why, "unexpected attribute in the "
				    "end frame: %s", want[i].name);
				return -1;
			}
		}
		return 0;
	}
	for (i = 0; i < 6; i++) {
		if (!want[i].seen) {
			buf_printf(why, "missing attribute: %s", want[i].name);
			return -1;
		}
	}
	if (!queue_name_valid(buf_str(&m->queue_name))) {
		buf_sets(why, "bad queue name");
		return -1;
	}
	if (!qid_valid(m->queue_id.p, m->queue_id.len)) {
		buf_sets(why, "bad queue ID");
		return -1;
	}
	if (m->message_size < 0 || m->rcpt_omitted < 0 ||
	    m->arrival_time < 0) {
		buf_sets(why, "bad number");
		return -1;
	}
	if (m->rcpt.n != m->reason.n) {
		buf_sets(why, "recipients and reasons do not pair up");
		return -1;
	}
	return 1;
}

/*
 * showq_read - read and decode one frame.  Returns 1 (message), 0 (end)
 * or -1 with a reason.
 */
int
showq_read(struct stream *s, struct showq_msg *m, struct buf *why)
{
	struct buf frame = BUF_INIT;
	int r;

	if ((r = ipc_read(s, &frame, IPC_FRAME_MAX)) < 0) {
		buf_sets(why, r == -2 ? "frame too long" :
		    stream_error(s) & STREAM_TIMEOUT ? "timeout" :
		    "lost connection");
		buf_free(&frame);
		return -1;
	}
	r = showq_parse(frame.p, frame.len, m, why);
	buf_free(&frame);
	return r;
}

/* showq_mailq_head - the column headings */
void
showq_mailq_head(struct buf *out, int long_ids)
{
	if (long_ids)
		buf_printf(out, "%-17s %8s %-19s %s\n", "----Queue ID-----",
		    "--Size--", "---Arrival Time----",
		    "--Sender/Recipient------");
	else
		buf_printf(out, "%-11s %7s %-20s %s\n", "-Queue ID-",
		    "--Size--", "----Arrival Time----",
		    "-Sender/Recipient-------");
}

/* mailq_time - asctime(3) text of a time, "??" when it has none */
static void
mailq_time(char *out, size_t size, int64_t when)
{
	time_t t = (time_t)when;
	struct tm tm;

	if ((int64_t)t != when || localtime_r(&t, &tm) == NULL ||
	    strftime(out, size, "%a %b %e %H:%M:%S %Y", &tm) == 0)
		snprintf(out, size, "??");
}

/* showq_mailq_msg - one message in mailq format */
void
showq_mailq_msg(struct buf *out, const struct showq_msg *m, int long_ids)
{
	struct buf id = BUF_INIT, addr = BUF_INIT;
	const char *saved = "", *queue = buf_str((struct buf *)&m->queue_name);
	char stamp[64];
	size_t i;

	showq_printable(&id, m->queue_id.p, m->queue_id.len, QID_MAX);
	if (strcmp(queue, Q_ACTIVE) == 0)
		buf_putc(&id, '*');
	else if (strcmp(queue, Q_HOLD) == 0)
		buf_putc(&id, '!');
	if (m->forced_expire)
		buf_putc(&id, '#');
	mailq_time(stamp, sizeof(stamp), m->arrival_time);
	showq_printable(&addr, m->sender.p, m->sender.len, SHOWQ_ADDR_MAX);
	buf_printf(out, long_ids ? "%-17s %8lld %19.19s %s\n" :
	    "%-11s %7lld %20.20s %s\n", buf_str(&id),
	    (long long)m->message_size, stamp, buf_str(&addr));
	for (i = 0; i < m->rcpt.n; i++) {
		const char *why = m->reason.v[i];

		if (strcmp(saved, why) != 0) {
			struct buf r = BUF_INIT;
			int pad;

			saved = why;
			showq_printable(&r, *why ? why : "reason unavailable",
			    *why ? strlen(why) : 18, SHOWQ_REASON_MAX);
			pad = 76 - (int)r.len;
			buf_printf(out, "%*s(%s)\n", pad > 0 ? pad : 0, "",
			    buf_str(&r));
			buf_free(&r);
		}
		buf_reset(&addr);
		showq_printable(&addr, m->rcpt.v[i], strlen(m->rcpt.v[i]),
		    SHOWQ_ADDR_MAX);
		buf_printf(out, long_ids ? "%-17s %8s %-19s %s\n" :
		    "%-11s %7s %-20s %s\n", "", "", "", buf_str(&addr));
	}
	if (m->rcpt_omitted > 0)
		buf_printf(out, "%*s(%lld more recipients not shown)\n",
		    long_ids ? 47 : 41, "", (long long)m->rcpt_omitted);
	buf_free(&id);
	buf_free(&addr);
}

/* showq_mailq_tail - the summary line */
void
showq_mailq_tail(struct buf *out, unsigned long count,
    unsigned long long bytes)
{
	if (count == 0)
		buf_puts(out, "Mail queue is empty\n");
	else
		buf_printf(out, "\n-- %llu Kbytes in %lu Request%s.\n",
		    bytes / 1024, count, count == 1 ? "" : "s");
}

/* showq_json_quote - append s[0..len) as the inside of a JSON string */
void
showq_json_quote(struct buf *out, const char *s, size_t len)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t i = 0, n;

	while (i < len) {
		if (u[i] < 0x20 || u[i] == 0x7f) {
			switch (u[i]) {
			case '\b':
				buf_puts(out, "\\b");
				break;
			case '\f':
				buf_puts(out, "\\f");
				break;
			case '\n':
				buf_puts(out, "\\n");
				break;
			case '\r':
				buf_puts(out, "\\r");
				break;
			case '\t':
				buf_puts(out, "\\t");
				break;
			default:
				buf_printf(out, "\\u%04X", u[i]);
				break;
			}
			i++;
		} else if (u[i] == '"' || u[i] == '\\') {
			buf_putc(out, '\\');
			buf_putc(out, u[i++]);
		} else if (u[i] < 0x80) {
			buf_putc(out, u[i++]);
		} else if ((n = utf8_len(u + i, len - i)) > 0) {
			buf_put(out, s + i, n);
			i += n;
		} else {
			buf_putc(out, '?');	/* not UTF-8 */
			i++;
		}
	}
}

/* json_str - "key": "value" */
static void
json_str(struct buf *out, const char *key, const char *s, size_t len)
{
	buf_printf(out, "\"%s\": \"", key);
	showq_json_quote(out, s, len);
	buf_putc(out, '"');
}

/* showq_json_msg - one message as one line of JSON */
void
showq_json_msg(struct buf *out, const struct showq_msg *m)
{
	size_t i;

	buf_putc(out, '{');
	json_str(out, "queue_name", m->queue_name.p ? m->queue_name.p : "",
	    m->queue_name.len);
	buf_puts(out, ", ");
	json_str(out, "queue_id", m->queue_id.p ? m->queue_id.p : "",
	    m->queue_id.len);
	buf_printf(out, ", \"arrival_time\": %lld, \"message_size\": %lld, "
	    "\"force_expired\": %s, ", (long long)m->arrival_time,
	    (long long)m->message_size, m->forced_expire ? "true" : "false");
	json_str(out, "sender", m->sender.p ? m->sender.p : "",
	    m->sender.len);
	buf_puts(out, ", \"recipients\": [");
	for (i = 0; i < m->rcpt.n; i++) {
		if (i)
			buf_puts(out, ", ");
		buf_putc(out, '{');
		json_str(out, "address", m->rcpt.v[i], strlen(m->rcpt.v[i]));
		if (*m->reason.v[i]) {
			buf_puts(out, ", ");
			json_str(out, "delay_reason", m->reason.v[i],
			    strlen(m->reason.v[i]));
		}
		buf_putc(out, '}');
	}
	buf_putc(out, ']');
	if (m->rcpt_omitted > 0)
		buf_printf(out, ", \"recipients_omitted\": %lld",
		    (long long)m->rcpt_omitted);
	buf_puts(out, "}\n");
}
