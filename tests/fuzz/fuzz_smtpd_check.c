/*
 * NAME		fuzz_smtpd_check - libFuzzer target for smtpd(8) access
 *		check parsers
 * DESCRIPTION	The first byte chooses a parser, the rest is its input:
 *		0 the restriction list parser (ck_list_parse), 1 the policy
 *		server answer parser (ck_policy_parse), 2 network patterns
 *		and addresses (match_net_parse, match_addr_parse), 3 the DNS
 *		list reply template expander, 4 the policy server name
 *		parser.  Invariants: results are bounded, a parsed answer has
 *		a non-empty action of at most CK_REPLY_MAX bytes, a network's
 *		prefix fits its family.  smtpd(8) is a program, not a
 *		library, so the access check sources are compiled in here,
 *		with stubs for what the protocol engine provides.  Tables a
 *		fuzzed list names are opened (that is what the parser does)
 *		but never read here.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../smtpd/access.c"
#include "../../smtpd/check.c"
#include "../../smtpd/dnscheck.c"
#include "../../smtpd/mynetworks.c"
#include "../../smtpd/policy.c"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

struct smtpd_cfg smtpd_cfg;

/* smtpd_input_pending - stub: the engine's */
int
smtpd_input_pending(struct smtpd_state *st)
{
	(void)st;
	return 0;
}

/* smtpd_flush - stub: the engine's */
void
smtpd_flush(struct smtpd_state *st)
{
	(void)st;
}

/*
 * smtpd_protocol - stub: the engine's (command.c); only a policy request
 * names the protocol, and the parsers fuzzed here build none
 */
const char *
smtpd_protocol(const struct smtpd_state *st)
{
	(void)st;
	return "ESMTP";
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int init;
	struct buf a = BUF_INIT, b = BUF_INIT, c = BUF_INIT;
	char *text;

	if (!init) {
		log_init("fuzz", 0);
		init = 1;
	}
	if (size < 1 || size > 65536)
		return 0;
	text = xstrndup((const char *)data + 1, size - 1);
	switch (data[0] % 5) {
	case 0: {
		/* Lists may name tables: only let the safe ones open. */
		struct ck_list *l;

		if (strstr(text, "/") || strstr(text, "unix:"))
			break;
		l = ck_list_parse("fuzz", text, data[0] & 0x80);
		if (ck_list_size(l) > size)
			abort();
		ck_list_free(l);
		ck_done();
		break;
	}
	case 1:
		if (ck_policy_parse((const char *)data + 1, size - 1, &a,
		    &b) == 0) {
			if (a.len == 0 || a.len > CK_REPLY_MAX ||
			    strchr(buf_str(&a), '\n'))
				abort();
		}
		break;
	case 2: {
		struct match_net n;

		if (match_net_parse(text, &n, &b) == 0 &&
		    (n.len < 0 || n.len > (n.family == 4 ? 32 : 128)))
			abort();
		if (match_addr_parse(text, &n) == 0 &&
		    match_net_contains(&n, &n) != 1)
			abort();
		break;
	}
	case 3: {
		const char *vars[] = { "rbl_code", "554", "rbl_domain",
		    "zen.example", "rbl_reason", "", NULL };

		ck_rbl_expand(text, vars, &a);
		if (a.len > 8 * CK_REPLY_MAX + size)
			abort();
		break;
	}
	case 4:
		(void)ck_policy_endpoint(text, &a, &b, &c);
		break;
	}
	free(text);
	buf_free(&a);
	buf_free(&b);
	buf_free(&c);
	return 0;
}
