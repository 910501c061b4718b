/*
 * NAME		test_deliver - unit tests for mail/deliver
 * DESCRIPTION	The delivery request and reply of the queue manager's
 *		protocol: encode/decode round trips, hostile requests (bad
 *		queue names and IDs, recipient lists that disagree, negative
 *		offsets, bad notify values, empty addresses, every
 *		truncation), hostile replies (wrong counts, status and DSN
 *		class that disagree, unknown actions), and
 *		deliver_client_gone() over a socketpair.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "mail/deliver.h"
#include "mail/ipc.h"
#include "util/buf.h"
#include "util/stream.h"
#include "unit.h"

#define BODY(b)		((b)->p + IPC_HDR_LEN)
#define BODY_LEN(b)	((b)->len - IPC_HDR_LEN)

static struct deliver_rcpt rcpts[2] = {
	{"alice@example.com", "rfc822;Alice@example.com", 5, 120},
	{"bob@example.org", "", 0, 300},
};

/* sample - a valid two-recipient request */
static void
sample(struct deliver_req *r)
{
	memset(r, 0, sizeof(*r));
	r->queue_name = "active";
	r->queue_id = "5BMlXS79qdz1bffy";
	r->data_offset = 4096;
	r->data_size = 2131;
	r->nexthop = "[127.0.0.1]:2525";
	r->sender = "sender@example.net";
	r->envid = "env-1";
	r->ret = 2;
	r->flags = DEL_FLAG_RETRY;
	r->arrival_us = 1700000000000000LL;
	r->active_us = 1700000000100000LL;
	r->dispatch_us = 1700000000200000LL;
	r->rcpts = rcpts;
	r->nrcpt = 2;
	r->client_fd = -1;
}

static void
test_deliver_req_roundtrip(void **state)
{
	struct deliver_req in, out;
	struct buf f = BUF_INIT, why = BUF_INIT;

	(void)state;
	sample(&in);
	deliver_req_encode(&in, &f);
	assert_int_equal(deliver_req_decode(BODY(&f), BODY_LEN(&f), &out,
	    &why), 0);
	assert_string_equal(out.queue_name, "active");
	assert_string_equal(out.queue_id, in.queue_id);
	assert_int_equal(out.data_offset, 4096);
	assert_int_equal(out.data_size, 2131);
	assert_string_equal(out.nexthop, in.nexthop);
	assert_string_equal(out.sender, in.sender);
	assert_string_equal(out.envid, "env-1");
	assert_int_equal(out.ret, 2);
	assert_int_equal(out.flags, DEL_FLAG_RETRY);
	assert_true(out.arrival_us == in.arrival_us);
	assert_true(out.dispatch_us == in.dispatch_us);
	assert_int_equal(out.nrcpt, 2);
	assert_string_equal(out.rcpts[0].addr, "alice@example.com");
	assert_string_equal(out.rcpts[0].orig, "rfc822;Alice@example.com");
	assert_int_equal(out.rcpts[0].notify, 5);
	assert_int_equal(out.rcpts[0].offset, 120);
	assert_string_equal(out.rcpts[1].orig, "");
	assert_int_equal(out.rcpts[1].offset, 300);
	/* Decoded from bytes: no requester socket is known. */
	assert_int_equal(out.client_fd, -1);
	deliver_req_free(&out);
	buf_free(&f);
	buf_free(&why);
}

/* expect_bad_req - the request r must be refused */
static void
expect_bad_req(const struct deliver_req *r, const char *what)
{
	struct deliver_req out;
	struct buf f = BUF_INIT, why = BUF_INIT;

	deliver_req_encode(r, &f);
	assert_int_equal(deliver_req_decode(BODY(&f), BODY_LEN(&f), &out,
	    &why), -1);
	assert_non_null(strstr(buf_str(&why), what));
	buf_free(&f);
	buf_free(&why);
}

static void
test_deliver_req_hostile(void **state)
{
	struct deliver_req r;
	struct deliver_rcpt bad[1];

	(void)state;
	sample(&r);
	r.queue_name = "../etc";
	expect_bad_req(&r, "queue name");
	sample(&r);
	r.queue_id = "../../x";
	expect_bad_req(&r, "queue ID");
	sample(&r);
	r.queue_id = "";
	expect_bad_req(&r, "queue ID");
	sample(&r);
	r.nrcpt = 0;
	expect_bad_req(&r, "recipient lists");
	sample(&r);
	r.data_offset = -1;
	expect_bad_req(&r, "offset");
	sample(&r);
	r.data_size = -5;
	expect_bad_req(&r, "size");

	sample(&r);
	bad[0] = rcpts[0];
	bad[0].notify = 16;
	r.rcpts = bad;
	r.nrcpt = 1;
	expect_bad_req(&r, "recipient attributes");
	bad[0] = rcpts[0];
	bad[0].notify = -1;
	expect_bad_req(&r, "recipient attributes");
	bad[0] = rcpts[0];
	bad[0].offset = -1;
	expect_bad_req(&r, "recipient attributes");
	bad[0] = rcpts[0];
	bad[0].addr = "";
	expect_bad_req(&r, "recipient attributes");
}

/* Lists of different lengths, made by hand. */
static void
test_deliver_req_lists_disagree(void **state)
{
	struct deliver_req out;
	struct buf f = BUF_INIT, why = BUF_INIT;

	(void)state;
	ipc_begin(&f);
	ipc_put_str(&f, "queue_name", "active");
	ipc_put_str(&f, "queue_id", "5BMlXS79qdz1bffy");
	ipc_put_int(&f, "data_offset", 1);
	ipc_put_int(&f, "data_size", 1);
	ipc_put_str(&f, "nexthop", "x");
	ipc_put_str(&f, "sender", "");
	ipc_put_str(&f, "envid", "");
	ipc_put_int(&f, "ret", 0);
	ipc_put_int(&f, "flags", 0);
	ipc_put_int(&f, "arrival", 0);
	ipc_put_int(&f, "active", 0);
	ipc_put_int(&f, "dispatch", 0);
	ipc_put_str(&f, "rcpt", "a@b");
	ipc_put_str(&f, "rcpt", "c@d");
	ipc_put_str(&f, "orcpt", "");
	ipc_put_str(&f, "notify", "0");
	ipc_put_str(&f, "offset", "0");
	ipc_end(&f);
	assert_int_equal(deliver_req_decode(BODY(&f), BODY_LEN(&f), &out,
	    &why), -1);
	assert_non_null(strstr(buf_str(&why), "recipient lists"));
	buf_free(&f);
	buf_free(&why);
}

static void
test_deliver_req_truncated(void **state)
{
	struct deliver_req in, out;
	struct buf f = BUF_INIT, why = BUF_INIT;
	size_t n;
	int accepted = 0;

	(void)state;
	sample(&in);
	deliver_req_encode(&in, &f);
	/*
	 * Every strict prefix of the body is refused, without a leak,
	 * except the one that ends exactly after the first recipient: a
	 * valid one-recipient request.
	 */
	for (n = 0; n < BODY_LEN(&f); n++) {
		buf_reset(&why);
		if (deliver_req_decode(BODY(&f), n, &out, &why) == 0) {
			assert_int_equal(out.nrcpt, 1);
			assert_string_equal(out.rcpts[0].addr, rcpts[0].addr);
			deliver_req_free(&out);
			accepted++;
		}
	}
	assert_int_equal(accepted, 1);
	buf_free(&f);
	buf_free(&why);
}

/* reply_body - a reply frame from hand-made lists */
static void
reply_body(struct buf *f, size_t n, const char *status, const char *dsn,
    const char *action)
{
	size_t i;

	ipc_begin(f);
	for (i = 0; i < n; i++) {
		ipc_put_str(f, "status", status);
		ipc_put_str(f, "dsn", dsn);
		ipc_put_str(f, "reason", "why");
		ipc_put_str(f, "relay", "host[1.2.3.4]:25");
		ipc_put_str(f, "hop", "0");
		ipc_put_str(f, "action", action);
	}
	ipc_end(f);
}

/* reply_decode - decode a reply made by reply_body() for want results */
static int
reply_decode(size_t n, const char *status, const char *dsn,
    const char *action, size_t want)
{
	struct deliver_result *res = deliver_results_new(want);
	struct buf f = BUF_INIT, why = BUF_INIT;
	int rc;

	reply_body(&f, n, status, dsn, action);
	rc = deliver_reply_decode(BODY(&f), BODY_LEN(&f), res, want, &why);
	if (rc < 0)
		assert_true(why.len > 0);
	deliver_results_free(res, want);
	buf_free(&f);
	buf_free(&why);
	return rc;
}

static void
test_deliver_reply(void **state)
{
	struct deliver_result *res = deliver_results_new(2), *got;
	struct buf f = BUF_INIT, why = BUF_INIT;
	int sv[2];
	struct stream *a, *b;

	(void)state;
	deliver_result_set(&res[0], DEL_STAT_OK, "2.0.0", "250 %s", "Ok");
	buf_sets(&res[0].relay, "sink[127.0.0.1]:25");
	strcpy(res[0].action, "relayed");
	deliver_result_set(&res[1], DEL_STAT_DEFER, "4.4.1", "refused");
	res[1].hop_failed = 1;
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	a = stream_open(sv[0], 5);
	assert_int_equal(deliver_reply_send(a, res, 2), 0);
	stream_close(a);
	b = stream_open(sv[1], 5);
	assert_int_equal(ipc_read(b, &f, IPC_FRAME_MAX), 0);
	stream_close(b);
	got = deliver_results_new(2);
	assert_int_equal(deliver_reply_decode(f.p, f.len, got, 2, &why), 0);
	assert_int_equal(got[0].status, DEL_STAT_OK);
	assert_string_equal(got[0].dsn, "2.0.0");
	assert_string_equal(buf_str(&got[0].reason), "250 Ok");
	assert_string_equal(buf_str(&got[0].relay), "sink[127.0.0.1]:25");
	assert_string_equal(got[0].action, "relayed");
	assert_int_equal(got[0].hop_failed, 0);
	assert_int_equal(got[1].status, DEL_STAT_DEFER);
	assert_string_equal(got[1].dsn, "4.4.1");
	assert_int_equal(got[1].hop_failed, 1);
	deliver_results_free(res, 2);
	deliver_results_free(got, 2);
	buf_free(&f);
	buf_free(&why);
}

static void
test_deliver_reply_hostile(void **state)
{
	(void)state;
	assert_int_equal(reply_decode(2, "0", "2.0.0", "", 2), 0);
	assert_int_equal(reply_decode(2, "1", "4.4.1", "", 2), 0);
	assert_int_equal(reply_decode(1, "2", "5.1.1", "", 1), 0);
	assert_int_equal(reply_decode(1, "0", "2.0.0", "delivered", 1), 0);
	/* Counts that do not match the request. */
	assert_int_equal(reply_decode(1, "0", "2.0.0", "", 2), -1);
	assert_int_equal(reply_decode(3, "0", "2.0.0", "", 2), -1);
	assert_int_equal(reply_decode(0, "0", "2.0.0", "", 1), -1);
	/* Status out of range or not a number. */
	assert_int_equal(reply_decode(1, "3", "5.0.0", "", 1), -1);
	assert_int_equal(reply_decode(1, "-1", "4.0.0", "", 1), -1);
	assert_int_equal(reply_decode(1, "x", "4.0.0", "", 1), -1);
	/* Malformed DSN codes and classes that disagree. */
	assert_int_equal(reply_decode(1, "0", "2.0", "", 1), -1);
	assert_int_equal(reply_decode(1, "0", "3.0.0", "", 1), -1);
	assert_int_equal(reply_decode(1, "0", "2.0.0x", "", 1), -1);
	assert_int_equal(reply_decode(1, "0", "2.1234.0", "", 1), -1);
	assert_int_equal(reply_decode(1, "0", "5.0.0", "", 1), -1);
	assert_int_equal(reply_decode(1, "1", "2.0.0", "", 1), -1);
	assert_int_equal(reply_decode(1, "2", "2.0.0", "", 1), -1);
	/* Only the RFC 3464 actions a success notice may report. */
	assert_int_equal(reply_decode(1, "0", "2.0.0", "failed", 1), -1);
	assert_int_equal(reply_decode(1, "0", "2.0.0", "relayedx", 1), -1);
}

static void
test_deliver_client_gone(void **state)
{
	struct deliver_req r;
	char c = 'x';
	int sv[2];

	(void)state;
	sample(&r);
	assert_int_equal(deliver_client_gone(&r), 0);	/* no socket */
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	r.client_fd = sv[0];
	assert_int_equal(deliver_client_gone(&r), 0);
	/* Unread input is not a hang-up. */
	assert_int_equal(write(sv[1], &c, 1), 1);
	assert_int_equal(deliver_client_gone(&r), 0);
	close(sv[1]);
	assert_int_equal(deliver_client_gone(&r), 1);
	close(sv[0]);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_deliver_req_roundtrip),
		cmocka_unit_test(test_deliver_req_hostile),
		cmocka_unit_test(test_deliver_req_lists_disagree),
		cmocka_unit_test(test_deliver_req_truncated),
		cmocka_unit_test(test_deliver_reply),
		cmocka_unit_test(test_deliver_reply_hostile),
		cmocka_unit_test(test_deliver_client_gone),
	};

	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
