/*
 * NAME		test_trivial-rewrite_resolve - address classes of resolve
 * DESCRIPTION	The class order of trivial-rewrite(8): local
 *		(mydestination), virtual alias (virtual_alias_domains, answered
 *		with the error transport and "5.1.1 User unknown in virtual
 *		alias table"), virtual mailbox (virtual_mailbox_domains:
 *		virtual_transport, next hop the domain), relay, default; the
 *		defaults of the domain lists ($virtual_alias_maps,
 *		$virtual_mailbox_maps: a domain that is a key of the table);
 *		a list that cannot be read defers (RESOLVE_FLAG_ERROR).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "../../trivial-rewrite/trivial-rewrite.h"
#include "mail/mail_conf.h"
#include "util/buf.h"
#include "util/log.h"
#include "unit.h"

struct tr_cfg tr_cfg;		/* main.c's, which tests do not link */

/* setup - Postfix's defaults with the given virtual domain lists */
static void
setup(const char *valias, const char *vmbox, const char *transport)
{
	memset(&tr_cfg, 0, sizeof(tr_cfg));
	tr_cfg.append_at_myorigin = 1;
	tr_cfg.swap_bangpath = 1;
	tr_cfg.allow_percent_hack = 1;
	tr_cfg.local_transport = "local";
	tr_cfg.default_transport = "smtp";
	tr_cfg.relay_transport = "relay";
	tr_cfg.relayhost = "";
	tr_cfg.relay_domains = "relay.example, vm.example";
	tr_cfg.remote_header_rewrite_domain = "";
	tr_cfg.transport_maps = "";
	tr_cfg.virtual_alias_domains = (char *)valias;
	tr_cfg.virtual_mailbox_domains = (char *)vmbox;
	tr_cfg.virtual_transport = (char *)transport;
	mail_cfg.myhostname = "mx.example";
	mail_cfg.mydomain = "example";
	mail_cfg.myorigin = "mx.example";
	mail_cfg.mydestination = "mx.example, localhost, both.example";
	mail_cfg.recipient_delimiter = "+";
	mail_cfg.empty_address_recipient = "MAILER-DAEMON";
	mail_cfg.parent_domain_matches_subdomains = "relay_domains";
	tr_init();
}

struct case_ {
	const char *addr;
	int	 flags;
	const char *transport, *nexthop, *rcpt;
};

/* check - resolve each case */
static void
check(const struct case_ *c, size_t n)
{
	struct resolve_reply rr;
	struct buf why = BUF_INIT;
	size_t i;
	int failed = 0;

	for (i = 0; i < n; i++) {
		resolve_reply_init(&rr);
		buf_reset(&why);
		assert_int_equal(tr_resolve("", c[i].addr, &rr, &why), 0);
		if (rr.flags != c[i].flags ||
		    strcmp(buf_str(&rr.transport), c[i].transport) != 0 ||
		    strcmp(buf_str(&rr.nexthop), c[i].nexthop) != 0 ||
		    strcmp(buf_str(&rr.recipient), c[i].rcpt) != 0) {
			print_error("%s: got flags %d %s:%s <%s>, want %d "
			    "%s:%s <%s>\n", c[i].addr, rr.flags,
			    buf_str(&rr.transport), buf_str(&rr.nexthop),
			    buf_str(&rr.recipient), c[i].flags,
			    c[i].transport, c[i].nexthop, c[i].rcpt);
			failed++;
		}
		resolve_reply_free(&rr);
	}
	buf_free(&why);
	tr_done();
	assert_int_equal(failed, 0);
}

#define VA	"5.1.1 User unknown in virtual alias table"
#define ALIAS	(RESOLVE_CLASS_ALIAS | RESOLVE_FLAG_FAIL)

static void
test_classes(void **state)
{
	static const struct case_ c[] = {
		{ "u@mx.example", RESOLVE_CLASS_LOCAL, "local", "mx.example",
		    "u@mx.example" },
		/* local wins over the virtual lists */
		{ "u@both.example", RESOLVE_CLASS_LOCAL, "local",
		    "mx.example", "u@both.example" },
		{ "u@va.example", ALIAS, "error", VA, "u@va.example" },
		{ "U@VA.Example", ALIAS, "error", VA, "U@VA.Example" },
		{ "u@vm.example", RESOLVE_CLASS_VIRTUAL, "virtual",
		    "vm.example", "u@vm.example" },
		{ "u+x@vm2.example", RESOLVE_CLASS_VIRTUAL, "virtual",
		    "vm2.example", "u+x@vm2.example" },
		/* alias wins over mailbox; both over relay */
		{ "u@dup.example", ALIAS, "error", VA, "u@dup.example" },
		{ "u@relay.example", RESOLVE_CLASS_RELAY, "relay",
		    "relay.example", "u@relay.example" },
		{ "u@sub.vm.example", RESOLVE_CLASS_RELAY, "relay",
		    "sub.vm.example", "u@sub.vm.example" },
		{ "u@other.example", RESOLVE_CLASS_DEFAULT, "smtp",
		    "other.example", "u@other.example" },
	};

	(void)state;
	setup("va.example dup.example", "vm.example, vm2.example "
	    "dup.example", "virtual");
	check(c, NELEM(c));
}

static void
test_transport_nexthop(void **state)
{
	static const struct case_ c[] = {
		{ "u@vm.example", RESOLVE_CLASS_VIRTUAL, "lmtp",
		    "unix:/run/dovecot/lmtp", "u@vm.example" },
	};

	(void)state;
	setup("", "vm.example", "lmtp:unix:/run/dovecot/lmtp");
	check(c, NELEM(c));
}

static void
test_table_lists(void **state)
{
	static const struct case_ c[] = {
		{ "a@va.example", ALIAS, "error", VA, "a@va.example" },
		{ "b@vm.example", RESOLVE_CLASS_VIRTUAL, "virtual",
		    "vm.example", "b@vm.example" },
		{ "c@nolist.example", RESOLVE_CLASS_DEFAULT, "smtp",
		    "nolist.example", "c@nolist.example" },
	};

	(void)state;
	/* As the defaults $virtual_alias_maps, $virtual_mailbox_maps. */
	setup("inline:{ va.example=x, a@va.example=b@x.example }",
	    "inline:{ vm.example=x, b@vm.example=vm/b/ }", "virtual");
	check(c, NELEM(c));
}

static void
test_errors(void **state)
{
	static const struct case_ c[] = {
		{ "u@mx.example", RESOLVE_CLASS_LOCAL, "local", "mx.example",
		    "u@mx.example" },
		{ "u@other.example", RESOLVE_FLAG_ERROR, "smtp",
		    "other.example", "u@other.example" },
	};
	static const struct case_ c2[] = {
		{ "u@va.example", ALIAS, "error", VA, "u@va.example" },
		{ "u@other.example", RESOLVE_FLAG_ERROR, "smtp",
		    "other.example", "u@other.example" },
	};

	(void)state;
	setup("fail:valias", "", "virtual");
	check(c, NELEM(c));
	setup("va.example", "fail:vmbox", "virtual");
	check(c2, NELEM(c2));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_classes),
		cmocka_unit_test(test_transport_nexthop),
		cmocka_unit_test(test_table_lists),
		cmocka_unit_test(test_errors),
	};

	log_init("test", 0);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
