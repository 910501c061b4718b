/*
 * NAME		test_proxymap_serve - unit tests for the proxymap protocol
 * DESCRIPTION	proxy_request_parse() and proxy_reply_parse() with hostile
 *		input: table and key at limit-1, limit and limit+1, missing,
 *		repeated, unexpected and wrong-type attributes, NUL bytes,
 *		unknown requests, flags and status values, malformed table
 *		names, every truncation of a valid frame, garbage.  Then the
 *		daemon's pm_serve() end to end on inline:, texthash: and
 *		fail: tables: the proxy_read_maps check, folding done by the
 *		far side as the flags ask, error statuses, a table that
 *		changed on disk; and the proxy: client table, which is an
 *		error (never "not found") when no daemon answers.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <unistd.h>

#include "dict/dict.h"
#include "mail/ipc.h"
#include "mail/proxymap_clnt.h"
#include "util/buf.h"
#include "util/files.h"
#include "../../proxymap/proxymap.h"
#include "unit.h"

#define BODY(b)		((b)->p + IPC_HDR_LEN)
#define BODYLEN(b)	((b)->len - IPC_HDR_LEN)

/* string_of - n copies of c */
static char *
string_of(size_t n, int c)
{
	char *s = malloc(n + 1);

	assert_non_null(s);
	memset(s, c, n);
	s[n] = 0;
	return s;
}

/* req_parse - parse a whole built frame; 0 or -1 */
static int
req_parse(struct buf *frame, struct proxy_request *r, struct buf *why)
{
	return proxy_request_parse(BODY(frame), BODYLEN(frame), r, why);
}

static void
test_request_roundtrip(void **state)
{
	struct buf f = BUF_INIT, why = BUF_INIT;
	struct proxy_request r;

	(void)state;
	proxy_request_init(&r);
	proxy_request_build(&f, "hash:/etc/x", PROXY_FLAG_FOLD, "Key@Dom");
	assert_int_equal(req_parse(&f, &r, &why), 0);
	assert_string_equal(r.table.p, "hash:/etc/x");
	assert_string_equal(r.key.p, "Key@Dom");
	assert_int_equal(r.flags, PROXY_FLAG_FOLD);
	/* The empty key is a key. */
	proxy_request_build(&f, "unix:passwd.byname", 0, "");
	assert_int_equal(req_parse(&f, &r, &why), 0);
	assert_int_equal(r.key.len, 0);
	assert_int_equal(r.flags, 0);
	proxy_request_build(&f, "t:n", PROXY_FLAG_MASK, "k");
	assert_int_equal(req_parse(&f, &r, &why), 0);
	proxy_request_free(&r);
	buf_free(&f);
	buf_free(&why);
}

static void
test_request_limits(void **state)
{
	struct buf f = BUF_INIT, why = BUF_INIT, name = BUF_INIT;
	struct proxy_request r;
	size_t d;

	(void)state;
	proxy_request_init(&r);
	for (d = 0; d < 3; d++) {
		/* Key at limit-1, limit, limit+1. */
		char *key = string_of(PROXY_KEY_MAX - 1 + d, 'k');

		proxy_request_build(&f, "hash:/x", 0, key);
		assert_true(f.len - IPC_HDR_LEN <= PROXY_REQ_FRAME_MAX);
		if (d < 2) {
			assert_int_equal(req_parse(&f, &r, &why), 0);
			assert_int_equal(r.key.len, PROXY_KEY_MAX - 1 + d);
		} else {
			assert_int_equal(req_parse(&f, &r, &why), -1);
			assert_string_equal(why.p,
			    "attribute key: value too long");
		}
		free(key);
		/* Table at limit-1, limit, limit+1. */
		buf_sets(&name, "hash:");
		while (name.len < PROXY_TABLE_MAX - 1 + d)
			buf_putc(&name, 'n');
		proxy_request_build(&f, name.p, 0, "k");
		if (d < 2) {
			assert_int_equal(req_parse(&f, &r, &why), 0);
			assert_int_equal(r.table.len, PROXY_TABLE_MAX - 1 + d);
		} else {
			assert_int_equal(req_parse(&f, &r, &why), -1);
			assert_string_equal(why.p,
			    "attribute table: value too long");
		}
	}
	/* The largest valid request fits the daemon's frame limit. */
	{
		char *key = string_of(PROXY_KEY_MAX, 'k');

		buf_sets(&name, "hash:");
		while (name.len < PROXY_TABLE_MAX)
			buf_putc(&name, 'n');
		proxy_request_build(&f, name.p, PROXY_FLAG_MASK, key);
		assert_true(ipc_frame_len(f.p, f.len, PROXY_REQ_FRAME_MAX) > 0);
		free(key);
	}
	proxy_request_free(&r);
	buf_free(&f);
	buf_free(&why);
	buf_free(&name);
}

static void
test_request_hostile(void **state)
{
	static const struct {
		const char *table;
		long flags;
		const char *why;
	} bad[] = {
		{ "nocolon", 0, "table name is not type:name" },
		{ ":name", 0, "table name is not type:name" },
		{ "hash:", 0, "table name is not type:name" },
		{ "ha sh:/x", 0, "table name is not type:name" },
		{ "ha/sh:/x", 0, "table name is not type:name" },
		{ "", 0, "table name is not type:name" },
		{ "hash:/x", 4, "unknown flags 0x4" },
		{ "hash:/x", 1L << 40, "unknown flags 0x10000000000" },
		{ "hash:/x", -1, "unknown flags 0xffffffffffffffff" },
	};
	struct buf f = BUF_INIT, why = BUF_INIT;
	struct proxy_request r;
	size_t i, cut;

	(void)state;
	proxy_request_init(&r);
	for (i = 0; i < NELEM(bad); i++) {
		proxy_request_build(&f, bad[i].table, (int)0, "k");
		/* Rebuild by hand for flags outside int. */
		ipc_begin(&f);
		ipc_put_str(&f, "request", "lookup");
		ipc_put_str(&f, "table", bad[i].table);
		ipc_put_int(&f, "flags", bad[i].flags);
		ipc_put_str(&f, "key", "k");
		ipc_end(&f);
		assert_int_equal(req_parse(&f, &r, &why), -1);
		assert_string_equal(why.p, bad[i].why);
	}

	/* Unknown request; missing, repeated, unexpected attributes. */
	ipc_begin(&f);
	ipc_put_str(&f, "request", "update");
	ipc_put_str(&f, "table", "hash:/x");
	ipc_put_int(&f, "flags", 0);
	ipc_put_str(&f, "key", "k");
	ipc_end(&f);
	assert_int_equal(req_parse(&f, &r, &why), -1);
	assert_string_equal(why.p, "unknown request \"update\"");

	ipc_begin(&f);
	ipc_put_str(&f, "request", "lookup");
	ipc_put_str(&f, "table", "hash:/x");
	ipc_put_str(&f, "key", "k");
	ipc_end(&f);
	assert_int_equal(req_parse(&f, &r, &why), -1);
	assert_string_equal(why.p, "missing attribute: flags");

	ipc_begin(&f);
	ipc_put_str(&f, "request", "lookup");
	ipc_put_int(&f, "flags", 0);
	ipc_put_str(&f, "key", "k");
	ipc_end(&f);
	assert_int_equal(req_parse(&f, &r, &why), -1);
	assert_string_equal(why.p, "missing attribute: table");

	ipc_begin(&f);
	ipc_put_str(&f, "request", "lookup");
	ipc_put_str(&f, "table", "hash:/x");
	ipc_put_int(&f, "flags", 0);
	ipc_end(&f);
	assert_int_equal(req_parse(&f, &r, &why), -1);
	assert_string_equal(why.p, "missing attribute: key");

	ipc_begin(&f);
	ipc_put_str(&f, "table", "hash:/x");
	ipc_put_int(&f, "flags", 0);
	ipc_put_str(&f, "key", "k");
	ipc_end(&f);
	assert_int_equal(req_parse(&f, &r, &why), -1);
	assert_string_equal(why.p, "missing attribute: request");

	ipc_begin(&f);
	ipc_put_str(&f, "request", "lookup");
	ipc_put_str(&f, "table", "hash:/x");
	ipc_put_int(&f, "flags", 0);
	ipc_put_str(&f, "key", "k");
	ipc_put_str(&f, "key", "k2");
	ipc_end(&f);
	assert_int_equal(req_parse(&f, &r, &why), -1);
	assert_string_equal(why.p, "repeated attribute: key");

	ipc_begin(&f);
	ipc_put_str(&f, "request", "lookup");
	ipc_put_str(&f, "table", "hash:/x");
	ipc_put_int(&f, "flags", 0);
	ipc_put_str(&f, "key", "k");
	ipc_put_str(&f, "value", "v");
	ipc_end(&f);
	assert_int_equal(req_parse(&f, &r, &why), -1);
	assert_string_equal(why.p, "unexpected attribute: value");

	/* flags as a string, key as an integer. */
	ipc_begin(&f);
	ipc_put_str(&f, "request", "lookup");
	ipc_put_str(&f, "table", "hash:/x");
	ipc_put_str(&f, "flags", "1");
	ipc_put_str(&f, "key", "k");
	ipc_end(&f);
	assert_int_equal(req_parse(&f, &r, &why), -1);
	assert_string_equal(why.p, "attribute flags: wrong type");
	ipc_begin(&f);
	ipc_put_str(&f, "request", "lookup");
	ipc_put_str(&f, "table", "hash:/x");
	ipc_put_int(&f, "flags", 0);
	ipc_put_int(&f, "key", 7);
	ipc_end(&f);
	assert_int_equal(req_parse(&f, &r, &why), -1);

	/* NUL bytes in key and table. */
	ipc_begin(&f);
	ipc_put_str(&f, "request", "lookup");
	ipc_put_str(&f, "table", "hash:/x");
	ipc_put_int(&f, "flags", 0);
	ipc_put_strn(&f, "key", "a\0b", 3);
	ipc_end(&f);
	assert_int_equal(req_parse(&f, &r, &why), -1);
	assert_string_equal(why.p, "attribute key: NUL in value");
	ipc_begin(&f);
	ipc_put_str(&f, "request", "lookup");
	ipc_put_strn(&f, "table", "hash:/x\0y", 9);
	ipc_put_int(&f, "flags", 0);
	ipc_put_str(&f, "key", "k");
	ipc_end(&f);
	assert_int_equal(req_parse(&f, &r, &why), -1);

	/* Every truncation of a valid body fails. */
	proxy_request_build(&f, "hash:/etc/x", 1, "key");
	for (cut = 0; cut < BODYLEN(&f); cut++)
		assert_int_equal(proxy_request_parse(BODY(&f), cut, &r, &why),
		    -1);
	/* Garbage. */
	assert_int_equal(proxy_request_parse("\xff\xff\xff\xff", 4, &r, &why),
	    -1);
	assert_int_equal(proxy_request_parse("lookup hash:/x k\n", 17, &r,
	    &why), -1);
	proxy_request_free(&r);
	buf_free(&f);
	buf_free(&why);
}

static void
test_reply_parse(void **state)
{
	struct buf f = BUF_INIT, why = BUF_INIT, value = BUF_INIT;
	char *big;
	int st, i;

	(void)state;
	for (i = 0; i <= PROXY_STAT_MAX; i++) {
		proxy_reply_build(&f, i, i == 0 ? "result" : NULL);
		assert_int_equal(proxy_reply_parse(BODY(&f), BODYLEN(&f), &st,
		    &value, &why), 0);
		assert_int_equal(st, i);
		assert_string_equal(buf_str(&value), i == 0 ? "result" : "");
	}
	assert_string_equal(proxy_status_name(PROXY_STAT_DENY), "deny");
	assert_string_equal(proxy_status_name(9), "unknown");
	/* Status out of range. */
	for (i = -1; i <= PROXY_STAT_MAX + 1; i += PROXY_STAT_MAX + 2) {
		proxy_reply_build(&f, i, "x");
		assert_int_equal(proxy_reply_parse(BODY(&f), BODYLEN(&f), &st,
		    &value, &why), -1);
		assert_non_null(strstr(why.p, "unknown status"));
	}
	/* Missing status, missing value, extra attribute, wrong type. */
	ipc_begin(&f);
	ipc_put_str(&f, "value", "x");
	ipc_end(&f);
	assert_int_equal(proxy_reply_parse(BODY(&f), BODYLEN(&f), &st, &value,
	    &why), -1);
	assert_string_equal(why.p, "missing attribute: status");
	ipc_begin(&f);
	ipc_put_int(&f, "status", 0);
	ipc_end(&f);
	assert_int_equal(proxy_reply_parse(BODY(&f), BODYLEN(&f), &st, &value,
	    &why), -1);
	assert_string_equal(why.p, "missing attribute: value");
	ipc_begin(&f);
	ipc_put_int(&f, "status", 0);
	ipc_put_str(&f, "value", "x");
	ipc_put_str(&f, "reason", "x");
	ipc_end(&f);
	assert_int_equal(proxy_reply_parse(BODY(&f), BODYLEN(&f), &st, &value,
	    &why), -1);
	ipc_begin(&f);
	ipc_put_str(&f, "status", "0");
	ipc_put_str(&f, "value", "x");
	ipc_end(&f);
	assert_int_equal(proxy_reply_parse(BODY(&f), BODYLEN(&f), &st, &value,
	    &why), -1);
	/* Value at limit, limit+1. */
	big = string_of(PROXY_VALUE_MAX + 1, 'v');
	proxy_reply_build(&f, 0, big);
	assert_int_equal(proxy_reply_parse(BODY(&f), BODYLEN(&f), &st, &value,
	    &why), -1);
	big[PROXY_VALUE_MAX] = 0;
	proxy_reply_build(&f, 0, big);
	assert_int_equal(proxy_reply_parse(BODY(&f), BODYLEN(&f), &st, &value,
	    &why), 0);
	assert_int_equal(value.len, PROXY_VALUE_MAX);
	free(big);
	/* Truncations. */
	proxy_reply_build(&f, 0, "abc");
	for (i = 0; i < (int)BODYLEN(&f); i++)
		assert_int_equal(proxy_reply_parse(BODY(&f), (size_t)i, &st,
		    &value, &why), -1);
	buf_free(&f);
	buf_free(&why);
	buf_free(&value);
}

/* serve - one request through pm_serve(): the status, value into out */
static int
serve(const char *table, int flags, const char *key, struct buf *out)
{
	struct buf req = BUF_INIT, reply = BUF_INIT, why = BUF_INIT;
	int st = -1;

	proxy_request_build(&req, table, flags, key);
	pm_serve(BODY(&req), BODYLEN(&req), &reply);
	assert_true(ipc_frame_len(reply.p, reply.len, IPC_FRAME_MAX) ==
	    (long)reply.len);
	assert_int_equal(proxy_reply_parse(BODY(&reply), BODYLEN(&reply), &st,
	    out, &why), 0);
	buf_free(&req);
	buf_free(&reply);
	buf_free(&why);
	return st;
}

static void
test_serve(void **state)
{
	struct buf v = BUF_INIT, reply = BUF_INIT, why = BUF_INIT;
	int st;

	(void)state;
	pm_access_init("check_client_access proxy:inline:{ alice=1, bob=2 }, "
	    "inline:{ x=y }  proxy:fail:down,proxy:bogus:x "
	    "proxy:regexp:/nonexistent/file permit_mynetworks");
	assert_true(pm_access_allowed("inline:{ alice=1, bob=2 }"));
	assert_true(pm_access_allowed("fail:down"));
	assert_false(pm_access_allowed("inline:{ x=y }"));
	assert_false(pm_access_allowed("permit_mynetworks"));

	/* The far side folds when asked to. */
	assert_int_equal(serve("inline:{ alice=1, bob=2 }", PROXY_FLAG_FOLD,
	    "ALICE", &v), PROXY_STAT_OK);
	assert_string_equal(v.p, "1");
	assert_int_equal(serve("inline:{ alice=1, bob=2 }", 0, "ALICE", &v),
	    PROXY_STAT_NOKEY);
	assert_int_equal(serve("inline:{ alice=1, bob=2 }",
	    PROXY_FLAG_FOLD | PROXY_FLAG_NO_FOLD, "ALICE", &v),
	    PROXY_STAT_NOKEY);
	assert_int_equal(serve("inline:{ alice=1, bob=2 }", PROXY_FLAG_FOLD,
	    "carol", &v), PROXY_STAT_NOKEY);
	assert_string_equal(buf_str(&v), "");
	/* Not in proxy_read_maps. */
	assert_int_equal(serve("inline:{ x=y }", PROXY_FLAG_FOLD, "x", &v),
	    PROXY_STAT_DENY);
	assert_string_equal(v.p, "proxy_read_maps does not list table "
	    "proxy:inline:{ x=y }");
	assert_int_equal(serve("hash:/etc/shadow", 0, "root", &v),
	    PROXY_STAT_DENY);
	/* A proxy behind the proxy. */
	assert_int_equal(serve("proxy:fail:down", 0, "k", &v),
	    PROXY_STAT_BAD);
	/* Failing tables, tables that cannot be opened. */
	assert_int_equal(serve("fail:down", 0, "k", &v), PROXY_STAT_RETRY);
	assert_non_null(strstr(v.p, "fail:down"));
	assert_int_equal(serve("bogus:x", 0, "k", &v), PROXY_STAT_RETRY);
	assert_non_null(strstr(v.p, "unsupported dictionary type"));
	assert_int_equal(serve("regexp:/nonexistent/file", 0, "k", &v),
	    PROXY_STAT_RETRY);
	/* A malformed request gets a "bad" reply. */
	pm_serve("garbage", 7, &reply);
	assert_int_equal(proxy_reply_parse(BODY(&reply), BODYLEN(&reply), &st,
	    &v, &why), 0);
	assert_int_equal(st, PROXY_STAT_BAD);
	assert_non_null(strstr(v.p, "bad request"));
	assert_null(pm_tables_changed());
	pm_tables_free();
	assert_false(pm_access_allowed("fail:down"));
	buf_free(&v);
	buf_free(&reply);
	buf_free(&why);
}

static void
test_serve_changed(void **state)
{
	char dir[] = "/tmp/test_proxymap.XXXXXX";
	struct buf v = BUF_INIT, table = BUF_INIT, list = BUF_INIT;
	char path[256], tmp[300];

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/t", dir);
	snprintf(tmp, sizeof(tmp), "%s/t.new", dir);
	assert_int_equal(file_replace(path, "k old\n", 6, 0644), 0);
	buf_printf(&table, "texthash:%s", path);
	buf_printf(&list, "proxy:%s", table.p);
	pm_access_init(list.p);
	assert_int_equal(serve(table.p, PROXY_FLAG_FOLD, "K", &v),
	    PROXY_STAT_OK);
	assert_string_equal(v.p, "old");
	assert_null(pm_tables_changed());
	assert_int_equal(file_replace(tmp, "k new\n", 6, 0644), 0);
	assert_int_equal(rename(tmp, path), 0);
	assert_non_null(pm_tables_changed());
	assert_string_equal(pm_tables_changed(), table.p);
	pm_tables_free();
	unlink(path);
	rmdir(dir);
	buf_free(&v);
	buf_free(&table);
	buf_free(&list);
}

static void
test_dict_proxy(void **state)
{
	struct buf why = BUF_INIT, v = BUF_INIT;
	struct dict *d;
	char *longname;

	(void)state;
	d = dict_open("proxy:hash:/etc/x", DICT_FLAG_FOLD_FIX, &why);
	assert_non_null(d);
	assert_true(d->flags & DICT_FLAG_FOLD_FAR);
	assert_string_equal(d->type, "proxy");
	assert_string_equal(d->name, "hash:/etc/x");
	/* No daemon here: an error, never "not found". */
	assert_int_equal(dict_lookup(d, "Key", &v, &why), DICT_ERROR);
	assert_non_null(strstr(why.p, "proxy:hash:/etc/x: no answer from "
	    "proxymap"));
	/* Over-long keys stay "not found" without asking. */
	longname = string_of(DICT_KEY_MAX + 1, 'k');
	assert_int_equal(dict_lookup(d, longname, &v, &why), DICT_NOTFOUND);
	free(longname);
	dict_close(d);

	assert_null(dict_open("proxy:proxy:hash:/x", 0, &why));
	assert_non_null(strstr(why.p, "cannot be behind another"));
	assert_null(dict_open("proxy:bogus:x", 0, &why));
	assert_non_null(strstr(why.p, "unsupported dictionary type: bogus"));
	assert_null(dict_open("proxy:nocolon", 0, &why));
	assert_null(dict_open("proxy:hash:", 0, &why));
	longname = string_of(PROXY_TABLE_MAX + 10, 'n');
	memcpy(longname, "proxy:hash:", 11);
	assert_null(dict_open(longname, 0, &why));
	assert_non_null(strstr(why.p, "longer than"));
	free(longname);
	proxymap_clnt_close();
	buf_free(&why);
	buf_free(&v);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_request_roundtrip),
		cmocka_unit_test(test_request_limits),
		cmocka_unit_test(test_request_hostile),
		cmocka_unit_test(test_reply_parse),
		cmocka_unit_test(test_serve),
		cmocka_unit_test(test_serve_changed),
		cmocka_unit_test(test_dict_proxy),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
