/*
 * NAME		test_anvil_table - unit tests for anvil(8)'s client table
 *		and the anvil protocol
 * DESCRIPTION	Connection counts and rates, the fixed time unit (a new
 *		window starts at zero), expiry of idle entries (never of
 *		entries with open connections), the entry cap (FAIL, then
 *		room after expiry), disconnects only by the client that
 *		connected, the release of a client's connections when it
 *		goes away, the per-client connection bound, lookup, the
 *		maxima and their reset; the request parser with hostile
 *		input (unknown requests, bad idents at the length bound,
 *		missing and extra attributes, trailing bytes) and the reply
 *		parser's strictness per request type.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "../../anvil/anvil.h"
#include "mail/anvil_clnt.h"
#include "mail/ipc.h"
#include "util/htable.h"
#include "unit.h"

#define UNIT	60000

/* req - one request; the status */
static int
req(struct anvil_tab *t, struct anvil_local *l, int r, const char *ident,
    int64_t now, struct anvil_counts *c)
{
	return anvil_tab_request(t, l, r, ident, now, c);
}

static void
test_counts_and_window(void **state)
{
	struct anvil_tab *t = anvil_tab_new(100, UNIT);
	struct anvil_local a = { 0 }, b = { 0 };
	struct anvil_counts c;

	(void)state;
	assert_int_equal(req(t, &a, ANVIL_REQ_CONNECT, "smtp:1.2.3.4", 0, &c),
	    ANVIL_STAT_OK);
	assert_int_equal(c.count, 1);
	assert_int_equal(c.rate, 1);
	assert_int_equal(req(t, &b, ANVIL_REQ_CONNECT, "smtp:1.2.3.4", 10, &c),
	    ANVIL_STAT_OK);
	assert_int_equal(c.count, 2);
	assert_int_equal(c.rate, 2);
	/* Another ident, another entry. */
	req(t, &a, ANVIL_REQ_CONNECT, "smtp:5.6.7.8", 10, &c);
	assert_int_equal(c.count, 1);
	req(t, &a, ANVIL_REQ_MESSAGE, "smtp:1.2.3.4", 20, &c);
	assert_int_equal(c.mail, 1);
	req(t, &a, ANVIL_REQ_RECIPIENT, "smtp:1.2.3.4", 20, &c);
	req(t, &a, ANVIL_REQ_RECIPIENT, "smtp:1.2.3.4", 20, &c);
	assert_int_equal(c.rcpt, 2);
	req(t, &a, ANVIL_REQ_AUTH, "smtp:1.2.3.4", 20, &c);
	assert_int_equal(c.auth, 1);
	/* Just before the end of the unit: still counting. */
	req(t, &a, ANVIL_REQ_LOOKUP, "smtp:1.2.3.4", UNIT - 1, &c);
	assert_int_equal(c.rate, 2);
	assert_int_equal(c.mail, 1);
	/* At the end: a new window; the open connections stay. */
	req(t, &a, ANVIL_REQ_LOOKUP, "smtp:1.2.3.4", UNIT, &c);
	assert_int_equal(c.count, 2);
	assert_int_equal(c.rate, 0);
	assert_int_equal(c.mail + c.rcpt + c.auth, 0);
	req(t, &b, ANVIL_REQ_CONNECT, "smtp:1.2.3.4", UNIT + 1, &c);
	assert_int_equal(c.count, 3);
	assert_int_equal(c.rate, 1);
	/* Lookup of an unknown client: zeros, and no entry made. */
	assert_int_equal(req(t, &a, ANVIL_REQ_LOOKUP, "smtp:9.9.9.9", 0, &c),
	    ANVIL_STAT_OK);
	assert_int_equal(c.count + c.rate, 0);
	assert_int_equal(t->n, 2);
	/* Maxima, logged and reset. */
	assert_int_equal(t->max_conn_count.value, 3);
	assert_string_equal(t->max_conn_count.ident, "smtp:1.2.3.4");
	assert_int_equal(t->max_rcpt_rate.value, 2);
	assert_int_equal(t->max_size, 2);
	anvil_tab_stats(t, 60);
	assert_int_equal(t->max_conn_count.value, 0);
	assert_int_equal(t->max_size, 0);
	anvil_local_drop(t, &a, 0);
	anvil_local_drop(t, &b, 0);
	anvil_tab_free(t);
}

static void
test_disconnect_and_drop(void **state)
{
	struct anvil_tab *t = anvil_tab_new(100, UNIT);
	struct anvil_local a = { 0 }, b = { 0 };
	struct anvil_counts c;

	(void)state;
	req(t, &a, ANVIL_REQ_CONNECT, "smtp:1.2.3.4", 0, &c);
	req(t, &a, ANVIL_REQ_CONNECT, "smtp:1.2.3.4", 0, &c);
	req(t, &b, ANVIL_REQ_CONNECT, "smtp:1.2.3.4", 0, &c);
	assert_int_equal(c.count, 3);
	assert_int_equal(a.n, 1);
	assert_int_equal(a.count[0], 2);
	/* b cannot release what a counted, nor something unknown. */
	assert_int_equal(req(t, &b, ANVIL_REQ_DISCONNECT, "smtp:1.2.3.4", 0,
	    &c), ANVIL_STAT_OK);
	assert_int_equal(c.count, 2);
	assert_int_equal(req(t, &b, ANVIL_REQ_DISCONNECT, "smtp:1.2.3.4", 0,
	    &c), ANVIL_STAT_OK);
	req(t, &b, ANVIL_REQ_LOOKUP, "smtp:1.2.3.4", 0, &c);
	assert_int_equal(c.count, 2);
	assert_int_equal(req(t, &b, ANVIL_REQ_DISCONNECT, "smtp:0.0.0.0", 0,
	    &c), ANVIL_STAT_OK);
	/* a goes away: its two connections end. */
	anvil_local_drop(t, &a, 0);
	assert_int_equal(a.n, 0);
	req(t, &b, ANVIL_REQ_LOOKUP, "smtp:1.2.3.4", 0, &c);
	assert_int_equal(c.count, 0);
	/* A client holds at most ANVIL_LOCAL_MAX idents. */
	for (int i = 0; i < ANVIL_LOCAL_MAX; i++) {
		char id[32];

		snprintf(id, sizeof(id), "smtp:10.0.0.%d", i);
		assert_int_equal(req(t, &b, ANVIL_REQ_CONNECT, id, 0, &c),
		    ANVIL_STAT_OK);
	}
	assert_int_equal(req(t, &b, ANVIL_REQ_CONNECT, "smtp:10.1.1.1", 0,
	    &c), ANVIL_STAT_FAIL);
	/* ... but may connect again to one it holds. */
	assert_int_equal(req(t, &b, ANVIL_REQ_CONNECT, "smtp:10.0.0.3", 0,
	    &c), ANVIL_STAT_OK);
	assert_int_equal(c.count, 2);
	anvil_local_drop(t, &b, 0);
	anvil_tab_free(t);
}

static void
test_expiry_and_cap(void **state)
{
	struct anvil_tab *t = anvil_tab_new(3, UNIT);
	struct anvil_local a = { 0 };
	struct anvil_counts c;

	(void)state;
	req(t, &a, ANVIL_REQ_CONNECT, "smtp:1", 0, &c);
	req(t, &a, ANVIL_REQ_MESSAGE, "smtp:2", 0, &c);
	req(t, &a, ANVIL_REQ_AUTH, "smtp:3", 1000, &c);
	assert_int_equal(t->n, 3);
	/* Full: a new client is not counted. */
	assert_int_equal(req(t, &a, ANVIL_REQ_MESSAGE, "smtp:4", 2000, &c),
	    ANVIL_STAT_FAIL);
	assert_int_equal(req(t, &a, ANVIL_REQ_CONNECT, "smtp:4", 2000, &c),
	    ANVIL_STAT_FAIL);
	assert_int_equal(a.n, 1);
	/* Known clients still are. */
	assert_int_equal(req(t, &a, ANVIL_REQ_MESSAGE, "smtp:2", 2000, &c),
	    ANVIL_STAT_OK);
	assert_int_equal(c.mail, 2);
	/* Nothing expires before its unit is over. */
	assert_int_equal(anvil_tab_expire(t, UNIT - 1), 0);
	/* smtp:2 expires; smtp:1 has a connection open; smtp:3 is young. */
	assert_int_equal(anvil_tab_expire(t, UNIT), 1);
	assert_int_equal(t->n, 2);
	assert_null(htable_find(t->h, "smtp:2"));
	/* Expiry makes room for the new client (done on demand too). */
	req(t, &a, ANVIL_REQ_AUTH, "smtp:5", UNIT, &c);
	assert_int_equal(req(t, &a, ANVIL_REQ_MESSAGE, "smtp:4", UNIT + 1000,
	    &c), ANVIL_STAT_OK);
	assert_int_equal(t->n, 3);
	/* The connection ends: the entry goes when its unit is over. */
	req(t, &a, ANVIL_REQ_DISCONNECT, "smtp:1", UNIT + 1000, &c);
	assert_int_equal(anvil_tab_expire(t, 3 * UNIT), 3);
	assert_int_equal(t->n, 0);
	anvil_local_drop(t, &a, 0);
	anvil_tab_free(t);
}

static void
test_request_parse(void **state)
{
	struct buf f = BUF_INIT, ident = BUF_INIT, why = BUF_INIT;
	char big[ANVIL_IDENT_MAX + 2];
	int r;

	(void)state;
	for (r = 0; r < ANVIL_REQ_COUNT; r++) {
		int got = -1;

		anvil_request_build(&f, r, "smtp:192.0.2.1");
		assert_int_equal(anvil_request_parse(f.p + IPC_HDR_LEN,
		    f.len - IPC_HDR_LEN, &got, &ident, &why), 0);
		assert_int_equal(got, r);
		assert_string_equal(buf_str(&ident), "smtp:192.0.2.1");
	}
	/* The ident: limit, limit+1, empty, white space, control, 8-bit. */
	memset(big, 'x', sizeof(big));
	big[ANVIL_IDENT_MAX] = 0;
	anvil_request_build(&f, ANVIL_REQ_CONNECT, big);
	assert_int_equal(anvil_request_parse(f.p + IPC_HDR_LEN,
	    f.len - IPC_HDR_LEN, &r, &ident, &why), 0);
	big[ANVIL_IDENT_MAX] = 'x';
	big[ANVIL_IDENT_MAX + 1] = 0;
	anvil_request_build(&f, ANVIL_REQ_CONNECT, big);
	assert_int_equal(anvil_request_parse(f.p + IPC_HDR_LEN,
	    f.len - IPC_HDR_LEN, &r, &ident, &why), -1);
	{
		static const char *const bad[] = { "", "a b", "a\tb", "a\x01",
		    "caf\xc3\xa9", "x\x7f" };

		for (size_t i = 0; i < NELEM(bad); i++) {
			anvil_request_build(&f, ANVIL_REQ_LOOKUP, bad[i]);
			assert_int_equal(anvil_request_parse(f.p + IPC_HDR_LEN,
			    f.len - IPC_HDR_LEN, &r, &ident, &why), -1);
		}
	}
	/* Unknown request, missing ident, extra attribute, trailing junk. */
	ipc_begin(&f);
	ipc_put_str(&f, "request", "newtls");
	ipc_put_str(&f, "ident", "smtp:1");
	ipc_end(&f);
	assert_int_equal(anvil_request_parse(f.p + IPC_HDR_LEN,
	    f.len - IPC_HDR_LEN, &r, &ident, &why), -1);
	ipc_begin(&f);
	ipc_put_str(&f, "request", "lookup");
	ipc_end(&f);
	assert_int_equal(anvil_request_parse(f.p + IPC_HDR_LEN,
	    f.len - IPC_HDR_LEN, &r, &ident, &why), -1);
	ipc_begin(&f);
	ipc_put_str(&f, "request", "lookup");
	ipc_put_str(&f, "ident", "smtp:1");
	ipc_put_int(&f, "count", 1);
	ipc_end(&f);
	assert_int_equal(anvil_request_parse(f.p + IPC_HDR_LEN,
	    f.len - IPC_HDR_LEN, &r, &ident, &why), -1);
	anvil_request_build(&f, ANVIL_REQ_LOOKUP, "smtp:1");
	buf_putc(&f, 0);
	assert_int_equal(anvil_request_parse(f.p + IPC_HDR_LEN,
	    f.len - IPC_HDR_LEN, &r, &ident, &why), -1);
	assert_int_equal(anvil_request_parse("", 0, &r, &ident, &why), -1);
	buf_free(&f);
	buf_free(&ident);
	buf_free(&why);
}

static void
test_reply_parse(void **state)
{
	struct buf f = BUF_INIT, why = BUF_INIT;
	struct anvil_counts in = { 3, 4, 5, 6, 7 }, out;
	int st, r;

	(void)state;
	for (r = 0; r < ANVIL_REQ_COUNT; r++) {
		anvil_reply_build(&f, r, ANVIL_STAT_OK, &in);
		assert_int_equal(anvil_reply_parse(f.p + IPC_HDR_LEN,
		    f.len - IPC_HDR_LEN, r, &st, &out, &why), 0);
		assert_int_equal(st, ANVIL_STAT_OK);
		/* A reply for one request is no reply for another. */
		if (r == ANVIL_REQ_LOOKUP || r == ANVIL_REQ_DISCONNECT)
			assert_int_equal(anvil_reply_parse(f.p + IPC_HDR_LEN,
			    f.len - IPC_HDR_LEN, ANVIL_REQ_CONNECT, &st, &out,
			    &why), -1);
		anvil_reply_build(&f, r, ANVIL_STAT_FAIL, NULL);
		assert_int_equal(anvil_reply_parse(f.p + IPC_HDR_LEN,
		    f.len - IPC_HDR_LEN, r, &st, &out, &why), 0);
		assert_int_equal(st, ANVIL_STAT_FAIL);
	}
	anvil_reply_build(&f, ANVIL_REQ_LOOKUP, ANVIL_STAT_OK, &in);
	anvil_reply_parse(f.p + IPC_HDR_LEN, f.len - IPC_HDR_LEN,
	    ANVIL_REQ_LOOKUP, &st, &out, &why);
	assert_int_equal(out.count, 3);
	assert_int_equal(out.rate, 4);
	assert_int_equal(out.mail, 5);
	assert_int_equal(out.rcpt, 6);
	assert_int_equal(out.auth, 7);
	anvil_reply_build(&f, ANVIL_REQ_RECIPIENT, ANVIL_STAT_OK, &in);
	anvil_reply_parse(f.p + IPC_HDR_LEN, f.len - IPC_HDR_LEN,
	    ANVIL_REQ_RECIPIENT, &st, &out, &why);
	assert_int_equal(out.rcpt, 6);
	assert_int_equal(out.rate, 0);
	/* Negative, unknown status, FAIL with values, a bad request. */
	ipc_begin(&f);
	ipc_put_int(&f, "status", 0);
	ipc_put_int(&f, "rate", -1);
	ipc_end(&f);
	assert_int_equal(anvil_reply_parse(f.p + IPC_HDR_LEN,
	    f.len - IPC_HDR_LEN, ANVIL_REQ_AUTH, &st, &out, &why), -1);
	ipc_begin(&f);
	ipc_put_int(&f, "status", 5);
	ipc_end(&f);
	assert_int_equal(anvil_reply_parse(f.p + IPC_HDR_LEN,
	    f.len - IPC_HDR_LEN, ANVIL_REQ_DISCONNECT, &st, &out, &why), -1);
	ipc_begin(&f);
	ipc_put_int(&f, "status", -1);
	ipc_put_int(&f, "rate", 1);
	ipc_end(&f);
	assert_int_equal(anvil_reply_parse(f.p + IPC_HDR_LEN,
	    f.len - IPC_HDR_LEN, ANVIL_REQ_AUTH, &st, &out, &why), -1);
	assert_int_equal(anvil_reply_parse(f.p + IPC_HDR_LEN,
	    f.len - IPC_HDR_LEN, 99, &st, &out, &why), -1);
	buf_free(&f);
	buf_free(&why);
}

static void
test_serve(void **state)
{
	struct anvil_tab *t = anvil_tab_new(10, UNIT);
	struct anvil_local a = { 0 };
	struct buf f = BUF_INIT, reply = BUF_INIT, why = BUF_INIT;
	struct anvil_counts c;
	int st;

	(void)state;
	anvil_request_build(&f, ANVIL_REQ_CONNECT, "smtp:1");
	assert_int_equal(anvil_serve(t, &a, f.p + IPC_HDR_LEN,
	    f.len - IPC_HDR_LEN, 0, &reply), 0);
	assert_int_equal(anvil_reply_parse(reply.p + IPC_HDR_LEN,
	    reply.len - IPC_HDR_LEN, ANVIL_REQ_CONNECT, &st, &c, &why), 0);
	assert_int_equal(st, ANVIL_STAT_OK);
	assert_int_equal(c.count, 1);
	assert_int_equal(anvil_serve(t, &a, "junk", 4, 0, &reply), -1);
	assert_int_equal(anvil_reply_parse(reply.p + IPC_HDR_LEN,
	    reply.len - IPC_HDR_LEN, ANVIL_REQ_LOOKUP, &st, &c, &why), 0);
	assert_int_equal(st, ANVIL_STAT_FAIL);
	anvil_local_drop(t, &a, 0);
	anvil_tab_free(t);
	buf_free(&f);
	buf_free(&reply);
	buf_free(&why);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_counts_and_window),
		cmocka_unit_test(test_disconnect_and_drop),
		cmocka_unit_test(test_expiry_and_cap),
		cmocka_unit_test(test_request_parse),
		cmocka_unit_test(test_reply_parse),
		cmocka_unit_test(test_serve),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
