/*
 * NAME		delivered - Delivered-To: loop detection for final delivery
 * DESCRIPTION	The header section of the message is read once per delivery
 *		request; only Delivered-To: values are kept.  Values are
 *		compared in lower case: mail_copy() writes the header with the
 *		address folded to lower case, so the delivery agent's own
 *		earlier header is recognized.
 * SECURITY	The queue file content is read with length-checked records;
 *		a value is cut at 4096 bytes, at most DELIVERED_MAX values and
 *		100000 header lines are examined.
 * SEE ALSO	local(8), virtual(8), mail_copy(3)
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "util/mem.h"
#include "util/strutil.h"
#include "addr.h"
#include "delivered.h"

#define DELIVERED_VALUE_MAX	4096	/* bytes of a value kept */
#include "qfile.h"

/*
 * delivered_collect - the Delivered-To: values of the message at
 * data_offset of queue file fd into tab (keys only).  Returns 0, or -1
 * with a reason when the queue file cannot be read.
 */
int
delivered_collect(int fd, long data_offset, struct htable *tab,
    struct buf *why)
{
	struct qfile_content qc;
	struct buf line = BUF_INIT, val = BUF_INIT;
	int r, in_dt = 0, lines = 0;

	if (qfile_content_open_at(&qc, fd, data_offset, why) < 0)
		return -1;
	for (;;) {
		r = qfile_content_line(&qc, &line, NULL);
		if (r > 0 && line.len > 0 && (line.p[0] == ' ' ||
		    line.p[0] == '\t')) {
			if (in_dt && val.len < DELIVERED_VALUE_MAX)
				buf_put(&val, line.p, line.len <
				    DELIVERED_VALUE_MAX - val.len ? line.len :
				    DELIVERED_VALUE_MAX - val.len);
			continue;
		}
		if (in_dt && val.len > 0) {
			char *v = str_trim(val.p);

			str_lower(v);
			if (*v && tab->used < DELIVERED_MAX &&
			    htable_locate(tab, v) == NULL)
				htable_enter(tab, v, NULL);
		}
		in_dt = 0;
		if (r <= 0 || line.len == 0 || ++lines > 100000)
			break;
		if (line.len >= 13 && strncasecmp(line.p, "Delivered-To:",
		    13) == 0) {
			in_dt = 1;
			buf_set(&val, line.p + 13, line.len - 13 <
			    DELIVERED_VALUE_MAX ? line.len - 13 :
			    DELIVERED_VALUE_MAX);
		}
	}
	qfile_content_close(&qc);
	buf_free(&line);
	buf_free(&val);
	if (r < 0) {
		buf_sets(why, "error reading queue file: malformed content");
		return -1;
	}
	return 0;
}

/* delivered_seen - is addr (internal form) one of the values in tab? */
int
delivered_seen(struct htable *tab, const char *addr)
{
	struct buf q = BUF_INIT;
	char *low = str_lower(xstrdup(addr));
	int r;

	r = htable_locate(tab, low) != NULL;
	free(low);
	if (!r) {
		/* The header holds the quoted (external) form. */
		addr_quote(addr, &q);
		buf_str(&q);
		r = htable_locate(tab, str_lower(q.p)) != NULL;
		buf_free(&q);
	}
	return r;
}
