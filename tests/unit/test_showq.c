/*
 * NAME		test_showq - unit tests for mail/showq_clnt, qfile_scan and
 *		qwalk
 * DESCRIPTION	showq frames: round trip, the end frame, every malformed
 *		combination, list limits; the mailq and JSON output formats
 *		(golden data/showq.ref) including escaping of hostile text;
 *		showq_printable() on UTF-8 edge cases; qfile_scan_env() on
 *		queue files, maildrop files, truncations and bad records;
 *		qwalk() over a hashed tree with links and deep directories.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "mail/ipc.h"
#include "mail/qfile.h"
#include "mail/qfile_scan.h"
#include "mail/qwalk.h"
#include "mail/showq_clnt.h"
#include "util/buf.h"
#include "unit.h"
#include "qfile_build.h"

#define ID1	"5BMgmF59T8z1bZ4d"

/* body - the frame body (without the length header) */
static const char *
body(const struct buf *f, size_t *len)
{
	*len = f->len - IPC_HDR_LEN;
	return f->p + IPC_HDR_LEN;
}

static void
test_showq_roundtrip(void **state)
{
	struct buf f = BUF_INIT, why = BUF_INIT;
	struct showq_msg m;
	const char *b;
	size_t len;

	(void)state;
	showq_msg_init(&m);
	showq_frame_msg(&f, "deferred", ID1, 1763812800, 4321, "a@example.org");
	assert_int_equal(showq_frame_rcpt(&f, "b@example.com", "refused"), 0);
	assert_int_equal(showq_frame_rcpt(&f, "c@example.com", ""), 0);
	showq_frame_done(&f, 7);
	b = body(&f, &len);
	assert_int_equal(showq_parse(b, len, &m, &why), 1);
	assert_string_equal(buf_str(&m.queue_name), "deferred");
	assert_string_equal(buf_str(&m.queue_id), ID1);
	assert_int_equal(m.arrival_time, 1763812800);
	assert_int_equal(m.message_size, 4321);
	assert_int_equal(m.forced_expire, 0);
	assert_int_equal(m.rcpt_omitted, 7);
	assert_string_equal(buf_str(&m.sender), "a@example.org");
	assert_int_equal(m.rcpt.n, 2);
	assert_string_equal(m.rcpt.v[1], "c@example.com");
	assert_string_equal(m.reason.v[0], "refused");

	showq_frame_end(&f, 1);
	b = body(&f, &len);
	assert_int_equal(showq_parse(b, len, &m, &why), 0);
	showq_msg_free(&m);
	buf_free(&f);
	buf_free(&why);
}

/* expect_bad - a frame body that must be refused with this reason */
static void
expect_bad(struct buf *f, const char *reason)
{
	struct buf why = BUF_INIT;
	struct showq_msg m;
	size_t len;
	const char *b = body(f, &len);

	showq_msg_init(&m);
	assert_int_equal(showq_parse(b, len, &m, &why), -1);
	assert_string_equal(buf_str(&why), reason);
	showq_msg_free(&m);
	buf_free(&why);
}

static void
test_showq_bad_frames(void **state)
{
	struct buf f = BUF_INIT;

	(void)state;
	ipc_begin(&f);
	ipc_end(&f);
	expect_bad(&f, "missing attribute: queue_name");

	ipc_begin(&f);
	ipc_put_int(&f, "end", 0);
	ipc_put_str(&f, "sender", "x");
	ipc_end(&f);
	expect_bad(&f, "unexpected attribute in the end frame: sender");

	showq_frame_msg(&f, "nosuch", ID1, 0, 0, "");
	showq_frame_done(&f, 0);
	expect_bad(&f, "bad queue name");

	showq_frame_msg(&f, "active", "../../etc", 0, 0, "");
	showq_frame_done(&f, 0);
	expect_bad(&f, "bad queue ID");

	showq_frame_msg(&f, "active", ID1, 0, -1, "");
	showq_frame_done(&f, 0);
	expect_bad(&f, "bad number");

	showq_frame_msg(&f, "active", ID1, 0, 0, "");
	ipc_put_str(&f, "rcpt", "a");
	showq_frame_done(&f, 0);
	expect_bad(&f, "recipients and reasons do not pair up");

	showq_frame_msg(&f, "active", ID1, 0, 0, "");
	ipc_put_str(&f, "sender", "again");
	showq_frame_done(&f, 0);
	expect_bad(&f, "repeated attribute: sender");

	showq_frame_msg(&f, "active", ID1, 0, 0, "");
	ipc_put_int(&f, "bogus", 1);
	showq_frame_done(&f, 0);
	expect_bad(&f, "unexpected attribute: bogus");

	showq_frame_msg(&f, "active", ID1, 0, 0, "");
	ipc_put_strn(&f, "rcpt", "a\0b", 3);
	ipc_put_str(&f, "reason", "");
	showq_frame_done(&f, 0);
	expect_bad(&f, "attribute rcpt: NUL in value");

	/* Truncated attribute. */
	showq_frame_msg(&f, "active", ID1, 0, 0, "sender");
	showq_frame_done(&f, 0);
	f.len -= 3;
	expect_bad(&f, "malformed attribute");
	buf_free(&f);
}

static void
test_showq_limits(void **state)
{
	struct buf f = BUF_INIT, why = BUF_INIT, big = BUF_INIT;
	struct showq_msg m;
	size_t len, n = 0;
	const char *b;

	(void)state;
	showq_msg_init(&m);
	buf_reserve(&big, SHOWQ_REASON_MAX + 1);
	memset(big.p, 'r', SHOWQ_REASON_MAX + 1);

	/* Reason at the limit passes; one more byte is refused. */
	showq_frame_msg(&f, "active", ID1, 0, 0, "");
	big.len = SHOWQ_REASON_MAX;
	big.p[big.len] = 0;
	assert_int_equal(showq_frame_rcpt(&f, "a", big.p), 0);
	big.p[big.len++] = 'r';
	big.p[big.len] = 0;
	assert_int_equal(showq_frame_rcpt(&f, "a", big.p), -1);
	ipc_put_str(&f, "rcpt", "b");
	ipc_put_str(&f, "reason", big.p);
	showq_frame_done(&f, 0);
	expect_bad(&f, "attribute reason: value too long");

	/* The frame budget stops additions before the IPC limit. */
	showq_frame_msg(&f, "active", ID1, 0, 0, "");
	big.len = SHOWQ_REASON_MAX;
	big.p[big.len] = 0;
	while (showq_frame_rcpt(&f, "x@example.com", big.p) == 0)
		n++;
	assert_true(f.len <= SHOWQ_FRAME_BUDGET);
	assert_true(n > 1000);
	showq_frame_done(&f, 1);
	b = body(&f, &len);
	assert_int_equal(showq_parse(b, len, &m, &why), 1);
	assert_int_equal(m.rcpt.n, n);

	/* SHOWQ_RCPT_MAX recipients pass, one more is refused. */
	showq_frame_msg(&f, "active", ID1, 0, 0, "");
	for (n = 0; n < SHOWQ_RCPT_MAX; n++) {
		ipc_put_str(&f, "rcpt", "");
		ipc_put_str(&f, "reason", "");
	}
	showq_frame_done(&f, 0);
	b = body(&f, &len);
	assert_int_equal(showq_parse(b, len, &m, &why), 1);
	showq_frame_msg(&f, "active", ID1, 0, 0, "");
	for (n = 0; n <= SHOWQ_RCPT_MAX; n++) {
		ipc_put_str(&f, "rcpt", "");
		ipc_put_str(&f, "reason", "");
	}
	showq_frame_done(&f, 0);
	expect_bad(&f, "attribute rcpt: too many values");
	showq_msg_free(&m);
	buf_free(&f);
	buf_free(&why);
	buf_free(&big);
}

/* fill - a message for the output tests */
static void
fill(struct showq_msg *m, const char *queue, const char *id, long size,
    const char *sender)
{
	argv_truncate(&m->rcpt, 0);
	argv_truncate(&m->reason, 0);
	buf_sets(&m->queue_name, queue);
	buf_sets(&m->queue_id, id);
	buf_sets(&m->sender, sender);
	m->arrival_time = 1763812800;
	m->message_size = size;
	m->forced_expire = 0;
	m->rcpt_omitted = 0;
}

static void
test_showq_formats(void **state)
{
	struct buf out = BUF_INIT;
	struct showq_msg m;
	int long_ids;

	(void)state;
	showq_msg_init(&m);
	for (long_ids = 1; long_ids >= 0; long_ids--) {
		buf_printf(&out, "==== mailq, long_ids=%d\n", long_ids);
		showq_mailq_head(&out, long_ids);
		fill(&m, "active", ID1, 1234, "sender@example.org");
		argv_add(&m.rcpt, "a@example.com");
		argv_add(&m.reason, "");
		showq_mailq_msg(&out, &m, long_ids);
		buf_putc(&out, '\n');
		fill(&m, "hold", "4F9D01A2C3", 99, "MAILER-DAEMON");
		m.forced_expire = 1;
		argv_add(&m.rcpt, "x@example.com");
		argv_add(&m.reason, "connect to mx.example.com[192.0.2.1]:25: "
		    "Connection refused");
		argv_add(&m.rcpt, "y@example.com");
		argv_add(&m.reason, "connect to mx.example.com[192.0.2.1]:25: "
		    "Connection refused");
		argv_add(&m.rcpt, "z@example.com");
		argv_add(&m.reason, "");
		argv_add(&m.rcpt, "w\x1b[2J@example.com");
		argv_add(&m.reason, "a very long reason that does not fit "
		    "the seventy-six columns that are available for it");
		m.rcpt_omitted = 3;
		showq_mailq_msg(&out, &m, long_ids);
		showq_mailq_tail(&out, 2, 1234 + 99 + 2048);
		showq_mailq_tail(&out, 1, 0);
		showq_mailq_tail(&out, 0, 0);
	}
	buf_puts(&out, "==== json\n");
	fill(&m, "deferred", ID1, 1234, "\"q\\uote\"@example.org");
	showq_json_msg(&out, &m);
	argv_add(&m.rcpt, "tab\there@example.com");
	argv_add(&m.reason, "ctl \x01\x7f\b\f\n\r, utf8 \xc3\xa9, bad \xff");
	argv_add(&m.rcpt, "b@example.com");
	argv_add(&m.reason, "");
	m.forced_expire = 1;
	showq_json_msg(&out, &m);
	golden_check("showq", &out);
	showq_msg_free(&m);
	buf_free(&out);
}

/* printable - showq_printable into a fresh string */
static const char *
printable(struct buf *out, const char *s, size_t max)
{
	buf_reset(out);
	showq_printable(out, s, strlen(s), max);
	return buf_str(out);
}

static void
test_showq_printable(void **state)
{
	struct buf out = BUF_INIT;

	(void)state;
	assert_string_equal(printable(&out, "plain", 100), "plain");
	assert_string_equal(printable(&out, "a\tb\nc\x7f", 100), "a?b?c?");
	assert_string_equal(printable(&out, "\xc3\xa9t\xc3\xa9", 100),
	    "\xc3\xa9t\xc3\xa9");
	/* C1 control, overlong, surrogate, too large, truncated. */
	assert_string_equal(printable(&out, "\xc2\x9b", 100), "?");
	assert_string_equal(printable(&out, "\xc0\xaf", 100), "??");
	assert_string_equal(printable(&out, "\xed\xa0\x80", 100), "???");
	assert_string_equal(printable(&out, "\xf4\x90\x80\x80", 100), "????");
	assert_string_equal(printable(&out, "\xe2\x82", 100), "??");
	assert_string_equal(printable(&out, "\xf0\x9f\x98\x80!", 100),
	    "\xf0\x9f\x98\x80!");
	/* The bound cuts between characters only. */
	assert_string_equal(printable(&out, "ab\xc3\xa9", 3), "ab");
	assert_string_equal(printable(&out, "ab\xc3\xa9", 4), "ab\xc3\xa9");
	assert_string_equal(printable(&out, "abc", 0), "");
	buf_free(&out);
}

/* scan_mem - qfile_scan_env over bytes */
static int
scan_mem(const void *p, size_t len, struct qfile_env *e, struct buf *why)
{
	int fd = memfd_create("scan", 0), r;

	assert_true(fd >= 0);
	assert_int_equal(write_all(fd, p, len), 0);
	buf_reset(why);
	r = qfile_scan_env(fd, e, why);
	close(fd);
	return r;
}

static void
test_qfile_scan(void **state)
{
	struct qb q;
	struct qfile_env e;
	struct buf why = BUF_INIT, b = BUF_INIT;
	size_t n;

	(void)state;
	qb_sample(&q, 1, "s@example.org", 1763812800);
	assert_int_equal(scan_mem(q.b.p, q.b.len, &e, &why), 0);
	assert_string_equal(e.sender, "s@example.org");
	assert_int_equal(e.arrival_sec, 1763812800);
	assert_int_equal(e.data_size, q.content);
	assert_int_equal(e.data_offset, q.mesg_at);
	assert_int_equal(e.nrcpt, 3);
	assert_int_equal(e.ndone, 1);
	assert_string_equal(e.rcpts[0].orig, "Alice@Example.COM");
	assert_int_equal(e.rcpts[0].notify, 14);
	assert_string_equal(e.rcpts[2].addr, "john smith@example.net");
	qfile_env_free(&e);

	/* Every prefix that ends before M fails; after M it succeeds. */
	for (n = 0; n < q.b.len; n++) {
		int r = scan_mem(q.b.p, n, &e, &why);

		if (n > (size_t)q.mesg_at + 1)
			assert_int_equal(r, 0);
		else
			assert_int_equal(r, -1);
		if (r == 0)
			qfile_env_free(&e);
	}
	buf_free(&q.b);

	qb_sample(&q, 0, "", 1);
	assert_int_equal(scan_mem(q.b.p, q.b.len, &e, &why), 0);
	assert_string_equal(e.sender, "");
	assert_int_equal(e.data_size, 0);
	qfile_env_free(&e);
	buf_free(&q.b);

	rec_puts(&b, REC_FROM, "a");
	rec_puts(&b, REC_FROM, "b");
	rec_puts(&b, REC_MESG, "");
	assert_int_equal(scan_mem(b.p, b.len, &e, &why), -1);
	assert_string_equal(buf_str(&why), "bad sender record");
	buf_reset(&b);
	rec_puts(&b, REC_RCPT, "a");
	rec_puts(&b, REC_MESG, "");
	assert_int_equal(scan_mem(b.p, b.len, &e, &why), -1);
	assert_string_equal(buf_str(&why), "no sender record");
	buf_reset(&b);
	rec_puts(&b, REC_FROM, "a");
	rec_puts(&b, REC_NORM, "x");
	assert_int_equal(scan_mem(b.p, b.len, &e, &why), -1);
	assert_string_equal(buf_str(&why), "unexpected record type 'L' in "
	    "the envelope");
	buf_reset(&b);
	rec_puts(&b, REC_FROM, "a");
	rec_put(&b, REC_RCPT, "a\0b", 3);
	rec_puts(&b, REC_MESG, "");
	assert_int_equal(scan_mem(b.p, b.len, &e, &why), -1);
	assert_string_equal(buf_str(&why), "bad recipient record");
	buf_reset(&b);
	rec_puts(&b, REC_FROM, "a");
	rec_puts(&b, REC_NOTIFY, "16");
	assert_int_equal(scan_mem(b.p, b.len, &e, &why), -1);
	assert_string_equal(buf_str(&why), "bad notify record");
	buf_reset(&b);
	rec_puts(&b, REC_FROM, "a");
	rec_puts(&b, REC_VERSION, REC_VERSION_TEXT);
	assert_int_equal(scan_mem(b.p, b.len, &e, &why), -1);
	assert_string_equal(buf_str(&why), "misplaced version record");
	buf_reset(&b);
	/* A bad size record is ignored; a dangling notify is dropped. */
	rec_puts(&b, REC_SIZE, "bogus");
	rec_puts(&b, REC_FROM, "a");
	rec_puts(&b, REC_NOTIFY, "2");
	rec_puts(&b, REC_MESG, "");
	assert_int_equal(scan_mem(b.p, b.len, &e, &why), 0);
	assert_int_equal(e.data_size, 0);
	assert_int_equal(e.nrcpt, 0);
	qfile_env_free(&e);
	/* Addresses: QFILE_ADDR_MAX passes, one more fails. */
	buf_reset(&b);
	{
		struct buf a = BUF_INIT;

		buf_reserve(&a, QFILE_ADDR_MAX + 1);
		memset(a.p, 'a', QFILE_ADDR_MAX + 1);
		rec_put(&b, REC_FROM, a.p, QFILE_ADDR_MAX);
		rec_put(&b, REC_RCPT, a.p, QFILE_ADDR_MAX);
		rec_puts(&b, REC_MESG, "");
		assert_int_equal(scan_mem(b.p, b.len, &e, &why), 0);
		qfile_env_free(&e);
		buf_reset(&b);
		rec_puts(&b, REC_FROM, "");
		rec_put(&b, REC_RCPT, a.p, QFILE_ADDR_MAX + 1);
		rec_puts(&b, REC_MESG, "");
		assert_int_equal(scan_mem(b.p, b.len, &e, &why), -1);
		buf_free(&a);
	}
	buf_free(&b);
	buf_free(&why);
}

struct walk_seen {
	struct buf files;
	struct buf dirs;
	int	 stop_after;
};

/* walk_file - record the files a walk reports */
static int
walk_file(const char *path, const char *name, const struct stat *st,
    int depth, void *ctx)
{
	struct walk_seen *w = ctx;

	(void)name;
	buf_printf(&w->files, "%s:%d:%c ", path, depth,
	    S_ISREG(st->st_mode) ? 'f' : S_ISDIR(st->st_mode) ? 'd' : 'o');
	return --w->stop_after == 0 ? -1 : 0;
}

/* walk_dir - record the directories a walk finished */
static int
walk_dir(const char *path, const char *name, const struct stat *st,
    int depth, void *ctx)
{
	struct walk_seen *w = ctx;

	(void)name;
	(void)st;
	buf_printf(&w->dirs, "%s:%d ", path, depth);
	return 0;
}

static void
test_qwalk(void **state)
{
	char dir[] = "/tmp/test_qwalk.XXXXXX";
	char cwd[4096];
	struct walk_seen w;
	struct buf why = BUF_INIT;
	struct stat st;

	(void)state;
	assert_non_null(getcwd(cwd, sizeof(cwd)));
	assert_non_null(mkdtemp(dir));
	assert_int_equal(chdir(dir), 0);
	assert_int_equal(system("mkdir -p q/B/c/d/e/f q/long q/A && "
	    "touch q/x q/B/y q/B/c/d/e/f/deep q/long/z && "
	    "ln -s /etc q/L && ln -s / q/M"), 0);

	memset(&w, 0, sizeof(w));
	assert_int_equal(qwalk("q", QWALK_RECURSE, walk_file, walk_dir, &w,
	    &why), 0);
	assert_string_equal(buf_str(&w.files), "q/B/c/d/e/f:4:d q/B/y:1:f "
	    "q/L:0:o q/M:0:o q/long:0:d q/x:0:f ");
	assert_string_equal(buf_str(&w.dirs), "q/A:1 q/B/c/d/e:4 q/B/c/d:3 "
	    "q/B/c:2 q/B:1 ");
	buf_free(&w.files);
	buf_free(&w.dirs);

	memset(&w, 0, sizeof(w));
	assert_int_equal(qwalk("q", 0, walk_file, NULL, &w, &why), 0);
	assert_string_equal(buf_str(&w.files), "q/A:0:d q/B:0:d q/L:0:o "
	    "q/M:0:o q/long:0:d q/x:0:f ");
	buf_free(&w.files);

	/* A callback can stop the walk. */
	memset(&w, 0, sizeof(w));
	w.stop_after = 2;
	assert_int_equal(qwalk("q", QWALK_RECURSE, walk_file, NULL, &w,
	    &why), 0);
	assert_string_equal(buf_str(&w.files), "q/B/c/d/e/f:4:d q/B/y:1:f ");
	buf_free(&w.files);

	assert_int_equal(qwalk("nosuch", 0, walk_file, NULL, &w, &why), -1);
	assert_true(strstr(buf_str(&why), "open directory nosuch") != NULL);

	/* qwalk_file_ok: complete, regular, one link. */
	buf_reset(&why);
	assert_int_equal(lstat("q/x", &st), 0);
	st.st_mode = S_IFREG | 0600;
	assert_int_equal(qwalk_file_ok("q/x", &st, &why), 0);
	st.st_mode = S_IFREG | 0700;
	st.st_nlink = 1;
	assert_int_equal(qwalk_file_ok("q/x", &st, &why), 1);
	st.st_nlink = 2;
	assert_int_equal(qwalk_file_ok("q/x", &st, &why), -1);
	assert_true(strstr(buf_str(&why), "file has 2 links") != NULL);
	st.st_mode = S_IFLNK | 0777;
	assert_int_equal(qwalk_file_ok("q/x", &st, &why), -1);

	assert_int_equal(chdir(cwd), 0);
	buf_reset(&why);
	buf_printf(&why, "rm -rf %s", dir);
	assert_int_equal(system(why.p), 0);
	buf_free(&why);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_showq_roundtrip),
		cmocka_unit_test(test_showq_bad_frames),
		cmocka_unit_test(test_showq_limits),
		cmocka_unit_test(test_showq_formats),
		cmocka_unit_test(test_showq_printable),
		cmocka_unit_test(test_qfile_scan),
		cmocka_unit_test(test_qwalk),
	};

	setenv("TZ", "UTC", 1);
	tzset();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
