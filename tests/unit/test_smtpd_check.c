/*
 * NAME		test_smtpd_check - unit tests for smtpd(8) access checks
 * DESCRIPTION	The restriction engine on sessions built by hand: a table
 *		of configurations x requests -> expected reply (relay
 *		control with the defaults, recipient tables, access(5)
 *		actions and lookup order, restriction classes,
 *		warn_if_reject, defer_if_permit/defer_if_reject, delayed
 *		rejection, DNS-based restrictions and DNS lists on a fake
 *		resolver, policy delegation on a fake server, DATA checks),
 *		the log lines, the list parser, and the DNS list helpers.
 *		Address resolution is faked: example.com and localhost are
 *		local, relay.example is a relay domain, fail.example fails,
 *		an address with two "@" is routed.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "../../smtpd/check.h"
#include "dict/match.h"
#include "mail/conf.h"
#include "mail/mail_conf.h"
#include "mail/mynetworks.h"
#include "util/buf.h"
#include "util/files.h"
#include "util/log.h"
#include "util/mem.h"
#include "util/strutil.h"
#include "unit.h"

struct smtpd_cfg smtpd_cfg;	/* main.c's, which tests do not link */

static char log_path[] = "/tmp/test_smtpd_check_log_XXXXXX";

/* fake_resolve - see DESCRIPTION */
static int
fake_resolve(const char *sender, const char *addr, struct resolve_reply *rr,
    struct buf *why)
{
	const char *at = strrchr(addr, '@');
	const char *dom = at ? at + 1 : "";

	(void)sender;
	rr->flags = 0;
	buf_reset(&rr->recipient);
	if (strcasecmp(dom, "fail.example") == 0) {
		buf_sets(why, "table lookup error");
		rr->flags = RESOLVE_FLAG_ERROR;
		return 0;
	}
	if (at == NULL)
		buf_printf(&rr->recipient, "%s@example.com", addr);
	else
		buf_sets(&rr->recipient, addr);
	if (at && memchr(addr, '@', (size_t)(at - addr)))
		rr->flags |= RESOLVE_FLAG_ROUTED | RESOLVE_CLASS_DEFAULT;
	else if (at == NULL || strcasecmp(dom, "example.com") == 0 ||
	    strcasecmp(dom, "localhost") == 0)
		rr->flags |= RESOLVE_CLASS_LOCAL;
	else if (strcasecmp(dom, "relay.example") == 0)
		rr->flags |= RESOLVE_CLASS_RELAY;
	else if (strcasecmp(dom, "valias.example") == 0)
		rr->flags |= RESOLVE_CLASS_ALIAS | RESOLVE_FLAG_FAIL;
	else if (strcasecmp(dom, "vmbox.example") == 0 ||
	    strcasecmp(dom, "catch.example") == 0)
		rr->flags |= RESOLVE_CLASS_VIRTUAL;
	else
		rr->flags |= RESOLVE_CLASS_DEFAULT;
	return 0;
}

/* Fake DNS. */
static int
fake_mailhost(const char *d, struct buf *why)
{
	(void)why;
	if (strcmp(d, "nx.example") == 0)
		return CK_DNS_NOTFOUND;
	if (strcmp(d, "tmp.example") == 0)
		return CK_DNS_RETRY;
	if (strcmp(d, "null.example") == 0)
		return CK_DNS_NULLMX;
	return CK_DNS_OK;
}

static int
fake_host(const char *n, struct buf *why)
{
	(void)why;
	if (strcmp(n, "nx.example") == 0)
		return CK_DNS_NOTFOUND;
	if (strcmp(n, "tmp.example") == 0)
		return CK_DNS_RETRY;
	return CK_DNS_OK;
}

static int
fake_a(const char *n, struct argv *out, struct buf *why)
{
	(void)why;
	if (strcmp(n, "2.0.0.127.rbl.example") == 0 ||
	    strcmp(n, "spam.example.rhsbl.example") == 0) {
		argv_add(out, "127.0.0.2");
		return CK_DNS_OK;
	}
	if (strcmp(n, "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d."
	    "0.1.0.0.2.rbl.example") == 0) {
		argv_add(out, "127.0.0.4");
		return CK_DNS_OK;
	}
	return CK_DNS_NOTFOUND;
}

static int
fake_txt(const char *n, struct buf *out, struct buf *why)
{
	(void)why;
	if (strcmp(n, "2.0.0.127.rbl.example") == 0) {
		buf_sets(out, "Listed, see http://rbl.example/?127.0.0.2\x01");
		return CK_DNS_OK;
	}
	return CK_DNS_NOTFOUND;
}

static const struct ck_dns_ops fake_dns = {
	fake_mailhost, fake_host, fake_a, fake_txt
};

/* Fake policy server: answers with policy_answer, or fails. */
static const char *policy_answer;
static struct buf policy_request;

static int
fake_policy(struct ck_policy *p, const struct buf *req, struct buf *answer,
    struct buf *why)
{
	(void)p;
	buf_set(&policy_request, req->p, req->len);
	if (policy_answer == NULL) {
		buf_sets(why, "connect: Connection refused");
		return -1;
	}
	buf_sets(answer, policy_answer);
	return 0;
}

/* cfg_defaults - Postfix's defaults for everything check.c reads */
static void
cfg_defaults(void)
{
	struct smtpd_cfg *c = &smtpd_cfg;

	memset(c, 0, sizeof(*c));
	c->smtpd_client_restrictions = "";
	c->smtpd_helo_restrictions = "";
	c->smtpd_sender_restrictions = "";
	c->smtpd_relay_restrictions = "permit_mynetworks, "
	    "permit_sasl_authenticated, defer_unauth_destination";
	c->smtpd_recipient_restrictions = "";
	c->smtpd_data_restrictions = "";
	c->smtpd_end_of_data_restrictions = "";
	c->smtpd_delay_reject = 1;
	c->mynetworks = "127.0.0.0/8 [::ffff:127.0.0.0]/104 [::1]/128";
	c->mynetworks_style = "host";
	c->relay_domains = "relay.example";
	/* proxy: would ask proxymap(8): test_proxymap.py covers that. */
	c->local_recipient_maps = "inline:{ alice=1, bob=1, "
	    "carol@example.com=1 }";
	c->smtpd_reject_unlisted_recipient = 1;
	c->smtpd_reject_unlisted_sender = 0;
	c->unknown_local_recipient_reject_code = "550";
	c->unknown_address_reject_code = "450";
	c->unknown_client_reject_code = "450";
	c->unknown_hostname_reject_code = "450";
	c->non_fqdn_reject_code = "504";
	c->invalid_hostname_reject_code = "501";
	c->relay_domains_reject_code = "554";
	c->access_map_reject_code = "554";
	c->access_map_defer_code = "450";
	c->reject_code = "554";
	c->defer_code = "450";
	c->maps_rbl_reject_code = "554";
	c->default_rbl_reply = "$rbl_code Service unavailable; $rbl_class "
	    "[$rbl_what] blocked using $rbl_domain${rbl_reason?; $rbl_reason}";
	c->smtpd_policy_service_timeout = 100;
	c->smtpd_policy_service_max_idle = 300;
	c->smtpd_policy_service_default_action =
	    "451 4.3.5 Server configuration problem";
	c->parent_domain_matches_subdomains = "debug_peer_list, "
	    "fast_flush_domains, mynetworks, permit_mx_backup_networks, "
	    "qmqpd_authorized_clients, relay_domains, smtpd_access_maps";
	c->smtpd_restriction_classes = "";
	c->smtpd_null_access_lookup_key = "<>";
	c->smtpd_policy_service_policy_context = "";
	c->smtpd_policy_service_max_ttl = 1000;
	c->smtpd_policy_service_try_limit = 2;
	c->smtpd_policy_service_retry_delay = 1;
	c->reject_tempfail_action = "defer_if_permit";
	c->unknown_address_tempfail_action = "";
	c->unknown_helo_hostname_tempfail_action = "";
	c->multi_recipient_bounce_reject_code = "550";
	c->show_user_unknown_table_name = 1;
	c->smtpd_relay_before_recipient_restrictions = 1;
	mail_cfg.recipient_delimiter = "+";
	mail_cfg.double_bounce_sender = "double-bounce";
	mail_cfg.message_size_limit = 10240000;
}

/* st_init - a session from an outside client, after EHLO and MAIL */
static void
st_init(struct smtpd_state *st, const char *addr, const char *name)
{
	memset(st, 0, sizeof(*st));
	buf_init(&st->check_reply);
	argv_init(&st->rcpts);
	argv_init(&st->prepend);
	strlcpy_trunc(st->client_addr, addr, sizeof(st->client_addr));
	strlcpy_trunc(st->client_name, name, sizeof(st->client_name));
	strlcpy_trunc(st->reverse_name, name, sizeof(st->reverse_name));
	snprintf(st->namaddr, sizeof(st->namaddr), "%s[%s]", name, addr);
	st->client_family = strchr(addr, ':') ? AF_INET6 : AF_INET;
	st->esmtp = 1;
	st->last_cmd = "RCPT";
}

static void
st_free(struct smtpd_state *st)
{
	buf_free(&st->check_reply);
	argv_clear(&st->rcpts);
	argv_clear(&st->prepend);
}

/* last_log - the last line of the log file */
static void
last_log(struct buf *out)
{
	struct buf all = BUF_INIT;
	size_t end, start;

	buf_reset(out);
	if (file_read(log_path, &all, 1 << 20) < 0 || all.len == 0) {
		buf_free(&all);
		buf_sets(out, "");
		return;
	}
	end = all.len;
	if (end && all.p[end - 1] == '\n')
		end--;
	for (start = end; start > 0 && all.p[start - 1] != '\n'; start--)
		;
	buf_set(out, all.p + start, end - start);
	buf_free(&all);
}

/* log_has - does the log contain text? */
static int
log_has(const char *text)
{
	struct buf all = BUF_INIT;
	int r;

	if (file_read(log_path, &all, 1 << 20) < 0) {
		buf_free(&all);
		return 0;
	}
	r = all.p && strstr(all.p, text) != NULL;
	buf_free(&all);
	return r;
}

/* log_clear - empty the log file */
static void
log_clear(void)
{
	assert_int_equal(truncate(log_path, 0), 0);
}

struct rcpt_case {
	const char *client;	/* smtpd_client_restrictions */
	const char *helo_r;	/* smtpd_helo_restrictions */
	const char *sender_r;	/* smtpd_sender_restrictions */
	const char *relay;	/* smtpd_relay_restrictions (NULL: default) */
	const char *rcpt_r;	/* smtpd_recipient_restrictions */
	const char *addr;	/* client address, name */
	const char *name;
	const char *helo;
	const char *sender;
	const char *rcpt;
	const char *want;	/* "" is accepted */
};

#define DEF	NULL
#define OUT	"192.0.2.9", "unknown"
#define LOCALC	"127.0.0.1", "localhost"

static const struct rcpt_case rcpt_cases[] = {
	/* Relay control with the defaults. */
	{ "", "", "", DEF, "", OUT, "client.example", "s@remote.example",
	    "x@remote.example",
	    "454 4.7.1 <x@remote.example>: Relay access denied" },
	{ "", "", "", DEF, "", LOCALC, "client.example", "s@remote.example",
	    "x@remote.example", "" },
	{ "", "", "", DEF, "", "::ffff:127.0.0.1", "localhost",
	    "client.example", "s@remote.example", "x@remote.example", "" },
	{ "", "", "", DEF, "", "::1", "localhost", "client.example",
	    "s@remote.example", "x@remote.example", "" },
	{ "", "", "", DEF, "", "2001:db8::1", "unknown", "client.example",
	    "s@remote.example", "x@remote.example",
	    "454 4.7.1 <x@remote.example>: Relay access denied" },
	{ "", "", "", DEF, "", OUT, "client.example", "s@remote.example",
	    "alice@example.com", "" },
	{ "", "", "", DEF, "", OUT, "client.example", "s@remote.example",
	    "x@relay.example", "" },
	{ "", "", "", DEF, "", OUT, "client.example", "s@remote.example",
	    "x@remote.example@example.com",
	    "454 4.7.1 <x@remote.example@example.com>: Relay access denied" },
	{ "", "", "", DEF, "", OUT, "client.example", "s@remote.example",
	    "x@fail.example",
	    "451 4.3.0 <x@fail.example>: Temporary lookup failure" },
	/* Recipient table of local domains. */
	{ "", "", "", DEF, "", OUT, "client.example", "s@remote.example",
	    "nobody@example.com", "550 5.1.1 <nobody@example.com>: Recipient "
	    "address rejected: User unknown in local recipient table" },
	{ "", "", "", DEF, "", OUT, "client.example", "s@remote.example",
	    "Alice+ext@Example.COM", "" },
	{ "", "", "", DEF, "", OUT, "client.example", "s@remote.example",
	    "carol@example.com", "" },
	{ "", "", "", DEF, "", OUT, "client.example", "s@remote.example",
	    "postmaster@example.com", "" },
	{ "", "", "", DEF, "", OUT, "client.example", "s@remote.example",
	    "MAILER-DAEMON@example.com", "" },
	{ "", "", "", DEF, "", OUT, "client.example", "s@remote.example",
	    "bob", "" },
	/* Empty relay and recipient lists; lists that cannot refuse. */
	{ "", "", "", "", "", LOCALC, "client.example", "s@remote.example",
	    "alice@example.com", "451 4.3.5 Server configuration problem" },
	{ "", "", "", "", "permit", OUT, "client.example", "s@r.example",
	    "x@remote.example", "451 4.3.5 Server configuration problem" },
	{ "", "", "", "", "permit_mynetworks, reject_unauth_destination", OUT,
	    "client.example", "s@r.example", "x@remote.example",
	    "554 5.7.1 <x@remote.example>: Relay access denied" },
	{ "", "", "", "permit_mynetworks reject_unauth_destination", "reject",
	    OUT, "client.example", "s@r.example", "alice@example.com",
	    "554 5.7.1 <alice@example.com>: Recipient address rejected: "
	    "Access denied" },
	{ "", "", "", "permit_mynetworks reject_unauth_destination", "defer",
	    OUT, "client.example", "s@r.example", "alice@example.com",
	    "450 4.3.2 <alice@example.com>: Recipient address rejected: "
	    "Try again later" },
	/* Relay permit does not skip the recipient restrictions. */
	{ "", "", "", DEF, "reject", LOCALC, "client.example",
	    "s@r.example", "alice@example.com",
	    "554 5.7.1 <alice@example.com>: Recipient address rejected: "
	    "Access denied" },
	/* Configuration errors. */
	{ "", "", "", DEF, "permit_mynetworks bogus_thing", OUT,
	    "client.example", "s@r.example", "alice@example.com",
	    "451 4.3.5 Server configuration error" },
	{ "frobnicate", "", "", DEF, "", OUT, "client.example", "s@r.example",
	    "alice@example.com", "451 4.3.5 Server configuration error" },
	{ "", "", "", DEF, "check_recipient_access", OUT, "client.example",
	    "s@r.example", "alice@example.com",
	    "451 4.3.5 Server configuration error" },
	{ "", "", "", DEF, "reject_unverified_recipient", OUT, "c.example",
	    "s@r.example", "alice@example.com",
	    "451 4.3.5 Server configuration error" },
	{ "", "", "", DEF, "check_recipient_access inline:{ "
	    "alice@example.com=bogus_thing }", OUT, "c.example",
	    "s@r.example", "alice@example.com",
	    "451 4.3.5 Server configuration error" },
	{ "", "", "", DEF, "check_recipient_access inline:{ "
	    "{alice@example.com=250 fine} }", OUT, "c.example",
	    "s@r.example", "alice@example.com",
	    "451 4.3.5 Server configuration error" },
	/* warn_if_reject affects the next restriction only. */
	{ "", "", "", DEF, "warn_if_reject reject_non_fqdn_sender", OUT,
	    "client.example", "joe", "alice@example.com", "" },
	{ "", "", "", DEF, "warn_if_reject reject_non_fqdn_sender "
	    "reject_non_fqdn_sender", OUT, "client.example", "joe",
	    "alice@example.com", "504 5.5.2 <joe>: Sender address rejected: "
	    "need fully-qualified address" },
	/* Delayed client, HELO and sender restrictions. */
	{ "check_client_access inline:{{192.0.2=REJECT go away}}", "", "",
	    DEF, "", OUT, "client.example", "s@r.example",
	    "alice@example.com", "554 5.7.1 <unknown[192.0.2.9]>: Client host "
	    "rejected: go away" },
	{ "permit_mynetworks, reject", "", "", DEF, "", LOCALC, "c.example",
	    "s@r.example", "alice@example.com", "" },
	{ "permit_mynetworks, reject", "", "", DEF, "", OUT, "c.example",
	    "s@r.example", "alice@example.com", "554 5.7.1 <unknown"
	    "[192.0.2.9]>: Client host rejected: Access denied" },
	{ "", "reject_invalid_helo_hostname", "", DEF, "", OUT, "bad_host!",
	    "s@r.example", "alice@example.com", "501 5.5.2 <bad_host!>: Helo "
	    "command rejected: Invalid name" },
	{ "", "reject_invalid_helo_hostname", "", DEF, "", OUT, "[300.1.1.1]",
	    "s@r.example", "alice@example.com", "501 5.5.2 <[300.1.1.1]>: "
	    "Helo command rejected: invalid ip address" },
	{ "", "reject_non_fqdn_helo_hostname", "", DEF, "", OUT,
	    "[300.1.1.1]", "s@r.example", "alice@example.com",
	    "501 5.5.2 <[300.1.1.1]>: Helo command rejected: invalid ip "
	    "address" },
	{ "", "reject_unknown_helo_hostname", "", DEF, "", OUT, "[1.2.3]",
	    "s@r.example", "alice@example.com", "501 5.5.2 <[1.2.3]>: Helo "
	    "command rejected: invalid ip address" },
	{ "", "reject_invalid_helo_hostname", "", DEF, "", OUT, "192.0.2.1",
	    "s@r.example", "alice@example.com", "" },
	{ "", "reject_invalid_helo_hostname", "", DEF, "", OUT, "2001:db8::1",
	    "s@r.example", "alice@example.com", "" },
	{ "", "reject_invalid_helo_hostname", "", DEF, "", OUT, "24383590",
	    "s@r.example", "alice@example.com", "501 5.5.2 <24383590>: Helo "
	    "command rejected: Invalid name" },
	/* A bare address has no parent domains. */
	{ "", "check_helo_access inline:{ 2.1=REJECT }", "", DEF, "", OUT,
	    "192.0.2.1", "s@r.example", "alice@example.com", "" },
	/* RFC 5321: bare "postmaster" passes every restriction. */
	{ "reject", "", "", DEF, "reject_non_fqdn_recipient, reject", OUT,
	    "c.example", "s@r.example", "postmaster", "" },
	{ "", "", "", DEF, "reject", OUT, "c.example", "s@r.example",
	    "postmaster@remote.example", "454 4.7.1 "
	    "<postmaster@remote.example>: Relay access denied" },
	{ "", "reject_invalid_helo_hostname", "", DEF, "", OUT, "[192.0.2.9]",
	    "s@r.example", "alice@example.com", "" },
	{ "", "reject_non_fqdn_helo_hostname", "", DEF, "", OUT, "localhost",
	    "s@r.example", "alice@example.com", "504 5.5.2 <localhost>: Helo "
	    "command rejected: need fully-qualified hostname" },
	{ "", "reject_non_fqdn_helo_hostname", "", DEF, "", OUT,
	    "mail.example.", "s@r.example", "alice@example.com", "" },
	{ "", "reject_unknown_helo_hostname", "", DEF, "", OUT, "nx.example",
	    "s@r.example", "alice@example.com", "450 4.7.1 <nx.example>: "
	    "Helo command rejected: Host not found" },
	{ "", "check_helo_access inline:{example.org=REJECT}", "", DEF, "",
	    OUT, "mx.Example.ORG", "s@r.example", "alice@example.com",
	    "554 5.7.1 <mx.Example.ORG>: Helo command rejected: Access "
	    "denied" },
	{ "", "", "reject_non_fqdn_sender", DEF, "", OUT, "c.example",
	    "joe@localhost", "alice@example.com", "504 5.5.2 <joe@localhost>: "
	    "Sender address rejected: need fully-qualified address" },
	{ "", "", "reject_non_fqdn_sender", DEF, "", OUT, "c.example",
	    "", "alice@example.com", "" },
	{ "", "", "reject_non_fqdn_recipient", DEF, "", OUT, "c.example",
	    "s@r.example", "bob", "504 5.5.2 <bob>: Recipient address "
	    "rejected: need fully-qualified address" },
	{ "", "", "", DEF, "reject_non_fqdn_recipient", OUT, "c.example",
	    "s@r.example", "bob", "504 5.5.2 <bob>: Recipient address "
	    "rejected: need fully-qualified address" },
	/* Sender access lookups. */
	{ "", "", "check_sender_access inline:{ joe@=REJECT }", DEF, "", OUT,
	    "c.example", "joe@foo.example", "alice@example.com",
	    "554 5.7.1 <joe@foo.example>: Sender address rejected: Access "
	    "denied" },
	{ "", "", "check_sender_access inline:{ foo.example=OK, "
	    "joe@foo.example=REJECT }", DEF, "", OUT, "c.example",
	    "joe@foo.example", "alice@example.com",
	    "554 5.7.1 <joe@foo.example>: Sender address rejected: Access "
	    "denied" },
	{ "", "", "check_sender_access inline:{ {joe@foo.example=REJECT "
	    "full} }", DEF, "", OUT, "c.example", "joe+tag@foo.example",
	    "alice@example.com", "554 5.7.1 <joe+tag@foo.example>: Sender "
	    "address rejected: full" },
	{ "", "", "check_sender_access inline:{ b.example=DUNNO, "
	    "example=REJECT }", DEF, "", OUT, "c.example", "x@a.b.example",
	    "alice@example.com", "" },
	{ "", "", "check_sender_access inline:{ example=REJECT }", DEF, "",
	    OUT, "c.example", "x@a.b.example", "alice@example.com",
	    "554 5.7.1 <x@a.b.example>: Sender address rejected: Access "
	    "denied" },
	{ "", "", "check_sender_access inline:{ <>=REJECT }", DEF, "", OUT,
	    "c.example", "", "alice@example.com", "554 5.7.1 <>: Sender "
	    "address rejected: Access denied" },
	{ "", "", "check_sender_access inline:{ {s@r.example=550 5.1.1 "
	    "gone} }", DEF, "", OUT, "c.example", "s@r.example",
	    "alice@example.com", "550 5.1.7 <s@r.example>: Sender address "
	    "rejected: gone" },
	{ "", "", "check_sender_access fail:x", DEF, "", OUT, "c.example",
	    "s@r.example", "alice@example.com",
	    "451 4.3.0 <s@r.example>: Temporary lookup failure" },
	/* Client access: names, parents, networks. */
	{ "check_client_access inline:{ {spam.example=550 5.1.1 no} }", "",
	    "", DEF, "", "192.0.2.9", "mail.spam.example", "c.example",
	    "s@r.example", "alice@example.com", "550 5.0.0 "
	    "<mail.spam.example[192.0.2.9]>: Client host rejected: no" },
	{ "check_client_access inline:{ 192.0.2.9=OK, 192.0=REJECT }", "", "",
	    DEF, "", OUT, "c.example", "s@r.example", "x@remote.example",
	    "454 4.7.1 <x@remote.example>: Relay access denied" },
	{ "check_client_access inline:{ 192.0.2.8=OK, 192.0=REJECT }", "", "",
	    DEF, "", OUT, "c.example", "s@r.example", "alice@example.com",
	    "554 5.7.1 <unknown[192.0.2.9]>: Client host rejected: Access "
	    "denied" },
	{ "check_client_access inline:{ {2001:db8=REJECT v6} }", "", "", DEF,
	    "", "2001:db8::1", "unknown", "c.example", "s@r.example",
	    "alice@example.com", "554 5.7.1 <unknown[2001:db8::1]>: Client "
	    "host rejected: v6" },
	{ "reject_unknown_client_hostname", "", "", DEF, "", OUT, "c.example",
	    "s@r.example", "alice@example.com", "450 4.7.25 Client host "
	    "rejected: cannot find your hostname, [192.0.2.9]" },
	{ "reject_unknown_reverse_client_hostname", "", "", DEF, "",
	    "192.0.2.9", "mail.example.net", "c.example", "s@r.example",
	    "alice@example.com", "" },
	/* The unverified name is the subject; it may never permit. */
	{ "check_reverse_client_hostname_access inline:{ "
	    "{example.net=REJECT forged} }", "", "", DEF, "", "192.0.2.9",
	    "mail.example.net", "c.example", "s@r.example",
	    "alice@example.com", "554 5.7.1 <mail.example.net>: Unverified "
	    "Client host rejected: forged" },
	{ "check_reverse_client_hostname_access inline:{ example.net=OK }",
	    "", "", DEF, "", "192.0.2.9", "mail.example.net", "c.example",
	    "s@r.example", "x@remote.example",
	    "451 4.3.5 Server configuration error" },
	{ "check_reverse_client_hostname_access inline:{ 192.0.2=DUNNO }, "
	    "reject", "", "", DEF, "", OUT, "c.example", "s@r.example",
	    "alice@example.com", "554 5.7.1 <unknown[192.0.2.9]>: Client "
	    "host rejected: Access denied" },
	/* DISCARD: nothing after it can refuse. */
	{ "check_client_access inline:{ 192.0.2.9=DISCARD }, reject", "", "",
	    DEF, "reject", OUT, "c.example", "s@r.example",
	    "x@remote.example", "" },
	/* Access actions. */
	{ "", "", "", DEF, "check_recipient_access inline:{ "
	    "{bob@example.com=450 4.2.1 mailbox full} }", OUT, "c.example",
	    "s@r.example", "bob@example.com", "450 4.2.1 <bob@example.com>: "
	    "Recipient address rejected: mailbox full" },
	{ "", "", "", DEF, "check_recipient_access inline:{ "
	    "{bob@example.com=550 go away} }", OUT, "c.example",
	    "s@r.example", "bob@example.com", "550 5.7.1 <bob@example.com>: "
	    "Recipient address rejected: go away" },
	{ "", "", "", DEF, "check_recipient_access inline:{ "
	    "{bob@example.com=DEFER later} }", OUT, "c.example",
	    "s@r.example", "bob@example.com", "450 4.7.1 <bob@example.com>: "
	    "Recipient address rejected: later" },
	{ "", "", "", DEF, "check_recipient_access inline:{ "
	    "{bob@example.com=DEFER_IF_PERMIT grey} }", OUT, "c.example",
	    "s@r.example", "bob@example.com", "450 4.7.1 <bob@example.com>: "
	    "Recipient address rejected: grey" },
	{ "", "", "", DEF, "check_recipient_access inline:{ "
	    "{bob@example.com=DEFER_IF_PERMIT grey} }, reject", OUT,
	    "c.example", "s@r.example", "bob@example.com",
	    "554 5.7.1 <bob@example.com>: Recipient address rejected: "
	    "Access denied" },
	{ "", "", "", DEF, "check_recipient_access inline:{ "
	    "bob@example.com=DEFER_IF_REJECT }, reject", OUT, "c.example",
	    "s@r.example", "bob@example.com", "450 4.7.1 <bob@example.com>: "
	    "Recipient address rejected: Service unavailable" },
	{ "", "", "", DEF, "check_recipient_access inline:{ "
	    "bob@example.com=DEFER_IF_REJECT }", OUT, "c.example",
	    "s@r.example", "bob@example.com", "" },
	{ "", "", "", DEF, "check_recipient_access inline:{ "
	    "{bob@example.com=reject_non_fqdn_sender, permit} }, reject", OUT,
	    "c.example", "joe", "bob@example.com", "504 5.5.2 <joe>: Sender "
	    "address rejected: need fully-qualified address" },
	{ "", "", "", DEF, "check_recipient_access inline:{ "
	    "{bob@example.com=reject_non_fqdn_sender, permit} }, reject", OUT,
	    "c.example", "joe@x.example", "bob@example.com", "" },
	{ "", "", "", DEF, "check_recipient_access inline:{ "
	    "bob@example.com=12345 }, reject", OUT, "c.example",
	    "joe@x.example", "bob@example.com", "" },
	{ "", "", "", DEF, "check_recipient_access inline:{ "
	    "bob@example.com=RELAY }, reject", OUT, "c.example",
	    "joe@x.example", "bob@example.com", "" },
	/* A text may start with its own status code. */
	{ "", "", "", DEF, "check_recipient_access inline:{ "
	    "{bob@example.com=REJECT 5.7.9 go away} }", OUT, "c.example",
	    "s@r.example", "bob@example.com", "554 5.7.9 <bob@example.com>: "
	    "Recipient address rejected: go away" },
	{ "", "", "", DEF, "check_recipient_access inline:{ "
	    "{bob@example.com=DEFER 4.2.2 over quota} }", OUT, "c.example",
	    "s@r.example", "bob@example.com", "450 4.2.2 <bob@example.com>: "
	    "Recipient address rejected: over quota" },
	{ "", "", "", DEF, "check_recipient_access inline:{ "
	    "{bob@example.com=DEFER_IF_PERMIT 4.7.5 grey} }", OUT,
	    "c.example", "s@r.example", "bob@example.com", "450 4.7.5 "
	    "<bob@example.com>: Recipient address rejected: grey" },
	{ "", "", "", DEF, "check_recipient_access inline:{ "
	    "{bob@example.com=550 4.2.0 class follows the code} }", OUT,
	    "c.example", "s@r.example", "bob@example.com", "550 5.2.0 "
	    "<bob@example.com>: Recipient address rejected: class follows "
	    "the code" },
	{ "", "", "", DEF, "check_recipient_access inline:{ "
	    "{bob@example.com=REJECT 5.01.1 not a code} }", OUT, "c.example",
	    "s@r.example", "bob@example.com", "554 5.7.1 <bob@example.com>: "
	    "Recipient address rejected: 5.01.1 not a code" },
	{ "", "", "check_sender_access inline:{ {s@r.example=REJECT 5.1.1 "
	    "gone} }", DEF, "", OUT, "c.example", "s@r.example",
	    "alice@example.com", "554 5.1.7 <s@r.example>: Sender address "
	    "rejected: gone" },
	/* defer_if_permit and defer_if_reject restrictions. */
	{ "", "", "", DEF, "defer_if_permit, permit", OUT, "c.example",
	    "s@r.example", "alice@example.com",
	    "450 4.7.0 <alice@example.com>: "
	    "Recipient address rejected: defer_if_permit requested" },
	{ "", "", "", DEF, "defer_if_reject, reject", OUT, "c.example",
	    "s@r.example", "alice@example.com",
	    "450 4.7.0 <alice@example.com>: "
	    "Recipient address rejected: defer_if_reject requested" },
	{ "defer_if_permit", "", "", DEF, "", OUT, "c.example",
	    "s@r.example", "alice@example.com", "450 4.7.0 <unknown"
	    "[192.0.2.9]>: Client host rejected: defer_if_permit requested" },
	{ "defer_if_permit", "", "", DEF, "reject", OUT, "c.example",
	    "s@r.example", "alice@example.com", "554 5.7.1 "
	    "<alice@example.com>: Recipient address rejected: Access denied" },
	/* DNS. */
	{ "", "", "reject_unknown_sender_domain", DEF, "", OUT, "c.example",
	    "x@nx.example", "alice@example.com", "450 4.1.8 <x@nx.example>: "
	    "Sender address rejected: Domain not found" },
	{ "", "", "reject_unknown_sender_domain", DEF, "", OUT, "c.example",
	    "x@ok.example", "alice@example.com", "" },
	{ "", "", "reject_unknown_sender_domain", DEF, "", OUT, "c.example",
	    "x@null.example", "alice@example.com", "550 5.7.27 "
	    "<x@null.example>: Sender address rejected: Domain null.example "
	    "does not accept mail (nullMX)" },
	{ "", "", "reject_unknown_sender_domain", DEF, "", OUT, "c.example",
	    "x@tmp.example", "alice@example.com", "450 4.1.8 "
	    "<x@tmp.example>: Sender address rejected: Domain not found" },
	{ "", "", "reject_unknown_sender_domain", DEF, "reject", OUT,
	    "c.example", "x@tmp.example", "alice@example.com", "554 5.7.1 "
	    "<alice@example.com>: Recipient address rejected: Access denied" },
	{ "", "", "", DEF, "reject_unknown_recipient_domain", LOCALC,
	    "c.example", "s@r.example", "x@nx.example", "450 4.1.2 "
	    "<x@nx.example>: Recipient address rejected: Domain not found" },
	{ "", "", "", DEF, "reject_unknown_recipient_domain", LOCALC,
	    "c.example", "s@r.example", "x@null.example", "556 5.1.10 "
	    "<x@null.example>: Recipient address rejected: Domain "
	    "null.example does not accept mail (nullMX)" },
	{ "", "", "", DEF, "reject_unknown_recipient_domain", OUT,
	    "c.example", "s@r.example", "alice@example.com", "" },
	{ "reject_rbl_client rbl.example", "", "", DEF, "", "127.0.0.2",
	    "unknown", "c.example", "s@r.example", "alice@example.com",
	    "554 5.7.1 Service unavailable; Client host [127.0.0.2] blocked "
	    "using rbl.example; Listed, see http://rbl.example/?127.0.0.2_" },
	{ "reject_rbl_client rbl.example=127.0.0.3", "", "", DEF, "",
	    "127.0.0.2", "unknown", "c.example", "s@r.example",
	    "alice@example.com", "" },
	{ "reject_rbl_client rbl.example=127.0.[0;9].[1..3]", "", "", DEF, "",
	    "127.0.0.2", "unknown", "c.example", "s@r.example",
	    "alice@example.com", "554 5.7.1 Service unavailable; Client host "
	    "[127.0.0.2] blocked using rbl.example; Listed, see "
	    "http://rbl.example/?127.0.0.2_" },
	{ "reject_rbl_client rbl.example", "", "", DEF, "", "2001:db8::1",
	    "unknown", "c.example", "s@r.example", "alice@example.com",
	    "554 5.7.1 Service unavailable; Client host [2001:db8::1] blocked "
	    "using rbl.example" },
	{ "", "", "reject_rhsbl_sender rhsbl.example", DEF, "", OUT,
	    "c.example", "x@spam.example", "alice@example.com",
	    "554 5.7.1 Service unavailable; Sender address [spam.example] "
	    "blocked using rhsbl.example" },
	/* Classes. */
	{ "", "", "", DEF, "check_recipient_access inline:{ "
	    "alice@example.com=strict }", OUT, "c.example", "joe",
	    "alice@example.com", "504 5.5.2 <joe>: Sender address rejected: "
	    "need fully-qualified address" },
	{ "", "", "", DEF, "loop", OUT, "c.example", "joe",
	    "alice@example.com", "451 4.3.5 Server configuration error" },
	{ "", "", "", DEF, "strict", OUT, "c.example", "joe@x.example",
	    "alice@example.com", "" },
	{ "", "", "", "permit_mynetworks strict_relay", "", OUT, "c.example",
	    "joe@x.example", "x@remote.example", "554 5.7.1 "
	    "<x@remote.example>: Relay access denied" },
	{ "", "", "", DEF, "undefined_class", OUT, "c.example", "joe",
	    "alice@example.com", "451 4.3.5 Server configuration error" },
	{ NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL }
};

static void
setup_conf(void)
{
	if (mail_conf)
		conf_free(mail_conf);
	mail_conf = conf_new();
	conf_set(mail_conf, "strict", "reject_non_fqdn_sender, permit",
	    CONF_SRC_MAINCF);
	conf_set(mail_conf, "loop", "permit_mynetworks, loop",
	    CONF_SRC_MAINCF);
	conf_set(mail_conf, "strict_relay", "reject_unauth_destination",
	    CONF_SRC_MAINCF);
	/* Set, so that the machine's own addresses play no part. */
	conf_set(mail_conf, "mynetworks", smtpd_cfg.mynetworks,
	    CONF_SRC_MAINCF);
	smtpd_cfg.smtpd_restriction_classes = "strict, loop, strict_relay, "
	    "undefined_class";
}

/* run_rcpt - one case: configure, build the session, check RCPT */
static int
run_rcpt(const struct rcpt_case *c, struct smtpd_state *st)
{
	int r;

	cfg_defaults();
	setup_conf();
	smtpd_cfg.smtpd_client_restrictions = (char *)c->client;
	smtpd_cfg.smtpd_helo_restrictions = (char *)c->helo_r;
	smtpd_cfg.smtpd_sender_restrictions = (char *)c->sender_r;
	if (c->relay)
		smtpd_cfg.smtpd_relay_restrictions = (char *)c->relay;
	smtpd_cfg.smtpd_recipient_restrictions = (char *)c->rcpt_r;
	smtpd_check_init();
	st_init(st, c->addr, c->name);
	st->helo_name = (char *)c->helo;
	st->sender = (char *)c->sender;
	st->recipient = (char *)c->rcpt;
	r = smtpd_check_rcpt(st, c->rcpt);
	return r;
}

static void
test_rcpt_table(void **state)
{
	const struct rcpt_case *c;
	int failed = 0;

	(void)state;
	for (c = rcpt_cases; c->client; c++) {
		struct smtpd_state st;
		int r = run_rcpt(c, &st);
		const char *got = r == SMTPD_CHECK_REJECT ?
		    buf_str(&st.check_reply) : "";

		if (strcmp(got, c->want) != 0 || (r == SMTPD_CHECK_REJECT) !=
		    (*c->want != 0)) {
			print_error("case %d (client=%s rcpt=%s rcpt_r=%s):\n"
			    "  want: %s\n  got:  %s (r=%d)\n",
			    (int)(c - rcpt_cases), c->addr, c->rcpt,
			    c->rcpt_r, c->want, got, r);
			failed++;
		}
		st_free(&st);
	}
	ck_done();
	assert_int_equal(failed, 0);
}

/*
 * test_virtual_rcpt - reject_unlisted_recipient in virtual alias and
 * virtual mailbox domains: virtual_alias_maps first, then the class's
 * table; a table that fails is a temporary error.
 */
static void
test_virtual_rcpt(void **state)
{
	static const struct {
		const char *valias, *vmbox, *rcpt, *want;
	} cases[] = {
		{ "inline:{ a@valias.example=x }", "", "a@valias.example", "" },
		{ "inline:{ a@valias.example=x }", "", "A+ext@VALIAS.example",
		    "" },
		{ "inline:{ a@valias.example=x }", "", "b@valias.example",
		    "550 5.1.1 <b@valias.example>: Recipient address rejected:"
		    " User unknown in virtual alias table" },
		{ "", "", "b@valias.example",
		    "550 5.1.1 <b@valias.example>: Recipient address rejected:"
		    " User unknown in virtual alias table" },
		{ "inline:{ @valias.example=x }", "", "any@valias.example", "" },
		{ "", "inline:{ u@vmbox.example=d/u/ }", "u@vmbox.example", "" },
		{ "", "inline:{ u@vmbox.example=d/u/ }", "u+x@vmbox.example",
		    "" },
		{ "inline:{ al@vmbox.example=u@vmbox.example }",
		    "inline:{ u@vmbox.example=d/u/ }", "al@vmbox.example", "" },
		{ "", "inline:{ u@vmbox.example=d/u/ }", "v@vmbox.example",
		    "550 5.1.1 <v@vmbox.example>: Recipient address rejected: "
		    "User unknown in virtual mailbox table" },
		{ "", "inline:{ @catch.example=d/all }", "who@catch.example",
		    "" },
		{ "", "", "v@vmbox.example", "" },
		{ "", "fail:vmbox", "v@vmbox.example",
		    "451 4.3.0 <v@vmbox.example>: Temporary lookup failure" },
		{ "fail:valias", "", "b@valias.example",
		    "451 4.3.0 <b@valias.example>: Temporary lookup failure" },
		{ "fail:valias", "inline:{ u@vmbox.example=d/u/ }",
		    "u@vmbox.example",
		    "451 4.3.0 <u@vmbox.example>: Temporary lookup failure" },
		/* Local addresses: virtual_alias_maps counts too. */
		{ "inline:{ zed@example.com=x }", "", "zed@example.com", "" },
		{ "inline:{ zed@example.com=x }", "", "nobody@example.com",
		    "550 5.1.1 <nobody@example.com>: Recipient address "
		    "rejected: User unknown in local recipient table" },
	};
	size_t i;
	int failed = 0;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct smtpd_state st;
		const char *got;
		int r;

		cfg_defaults();
		setup_conf();
		smtpd_cfg.unknown_virtual_alias_reject_code = "550";
		smtpd_cfg.unknown_virtual_mailbox_reject_code = "550";
		smtpd_cfg.smtpd_recipient_restrictions =
		    "permit_mynetworks, reject_unauth_destination";
		mail_cfg.virtual_alias_maps = (char *)cases[i].valias;
		mail_cfg.virtual_mailbox_maps = (char *)cases[i].vmbox;
		smtpd_check_init();
		st_init(&st, OUT);
		st.helo_name = "client.example";
		st.sender = "s@remote.example";
		st.recipient = (char *)cases[i].rcpt;
		r = smtpd_check_rcpt(&st, cases[i].rcpt);
		got = r == SMTPD_CHECK_REJECT ? buf_str(&st.check_reply) : "";
		if (strcmp(got, cases[i].want) != 0) {
			print_error("case %d (rcpt=%s):\n  want: %s\n  got:  "
			    "%s\n", (int)i, cases[i].rcpt, cases[i].want, got);
			failed++;
		}
		st_free(&st);
	}
	mail_cfg.virtual_alias_maps = NULL;
	mail_cfg.virtual_mailbox_maps = NULL;
	ck_done();
	assert_int_equal(failed, 0);
}

static void
test_log_lines(void **state)
{
	struct smtpd_state st;
	struct buf line = BUF_INIT;
	static const struct rcpt_case relay = { "", "", "", DEF, "", OUT,
	    "client.example", "s@remote.example", "x@remote.example", "" };
	static const struct rcpt_case warn = { "", "", "", DEF,
	    "warn_if_reject reject_non_fqdn_sender", OUT, "client.example",
	    "joe", "alice@example.com", "" };
	static const struct rcpt_case actions = { "", "", "", DEF,
	    "check_recipient_access inline:{ alice@example.com=HOLD, "
	    "{bob@example.com=DISCARD spam}, {carol@example.com=WARN look}, "
	    "{x@relay.example=FILTER smtp:[127.0.0.1]:10025}, "
	    "{y@relay.example=PREPEND X-Test: yes} }", OUT, "client.example",
	    "s@remote.example", "alice@example.com", "" };
	struct rcpt_case c;

	(void)state;
	log_clear();
	assert_int_equal(run_rcpt(&relay, &st), SMTPD_CHECK_REJECT);
	last_log(&line);
	assert_non_null(strstr(buf_str(&line), "NOQUEUE: reject: RCPT from "
	    "unknown[192.0.2.9]: 454 4.7.1 <x@remote.example>: Relay access "
	    "denied; from=<s@remote.example> to=<x@remote.example> "
	    "proto=ESMTP helo=<client.example>"));
	st_free(&st);

	/* With a queue ID. */
	cfg_defaults();
	setup_conf();
	smtpd_check_init();
	st_init(&st, "192.0.2.9", "unknown");
	strcpy(st.queue_id, "4Xk2Lz0abcz1");
	st.sender = "";
	assert_int_equal(smtpd_check_rcpt(&st, "x@remote.example"),
	    SMTPD_CHECK_REJECT);
	last_log(&line);
	assert_true(str_suffix(buf_str(&line), "4Xk2Lz0abcz1: reject: RCPT "
	    "from unknown[192.0.2.9]: 454 4.7.1 <x@remote.example>: Relay "
	    "access denied; from=<> to=<x@remote.example> proto=ESMTP"));
	st_free(&st);

	log_clear();
	assert_int_equal(run_rcpt(&warn, &st), SMTPD_CHECK_OK);
	assert_true(log_has("NOQUEUE: reject_warning: RCPT from "
	    "unknown[192.0.2.9]: 504 5.5.2 <joe>: Sender address rejected: "
	    "need fully-qualified address; from=<joe> to=<alice@example.com> "
	    "proto=ESMTP helo=<client.example>"));
	st_free(&st);

	log_clear();
	assert_int_equal(run_rcpt(&actions, &st), SMTPD_CHECK_OK);
	assert_true(st.hold);
	assert_true(log_has("NOQUEUE: hold: RCPT from unknown[192.0.2.9]: "
	    "<alice@example.com>: Recipient address triggers HOLD action; "
	    "from=<s@remote.example> to=<alice@example.com> proto=ESMTP "
	    "helo=<client.example>"));
	st_free(&st);
	c = actions;
	c.rcpt = "bob@example.com";
	assert_int_equal(run_rcpt(&c, &st), SMTPD_CHECK_DISCARD);
	assert_true(st.discard);
	assert_true(log_has("NOQUEUE: discard: RCPT from unknown[192.0.2.9]: "
	    "<bob@example.com>: Recipient address spam; "));
	/* Once discarding, later checks accept and do not check tables. */
	assert_int_equal(smtpd_check_rcpt(&st, "nobody@example.com"),
	    SMTPD_CHECK_OK);
	st_free(&st);
	c.rcpt = "carol@example.com";
	assert_int_equal(run_rcpt(&c, &st), SMTPD_CHECK_OK);
	assert_true(log_has("NOQUEUE: warn: RCPT from unknown[192.0.2.9]: "
	    "look; from=<s@remote.example> to=<carol@example.com>"));
	st_free(&st);
	c.rcpt = "x@relay.example";
	assert_int_equal(run_rcpt(&c, &st), SMTPD_CHECK_OK);
	assert_string_equal(st.chk.filter, "smtp:[127.0.0.1]:10025");
	assert_true(log_has("NOQUEUE: filter: RCPT from unknown[192.0.2.9]: "
	    "<x@relay.example>: Recipient address triggers FILTER "
	    "smtp:[127.0.0.1]:10025; from=<s@remote.example>"));
	smtpd_check_reset(&st);
	assert_string_equal(st.chk.filter, "");
	st_free(&st);
	c.rcpt = "y@relay.example";
	assert_int_equal(run_rcpt(&c, &st), SMTPD_CHECK_OK);
	assert_int_equal(st.prepend.n, 1);
	assert_string_equal(st.prepend.v[0], "X-Test: yes");
	st_free(&st);
	ck_done();
	buf_free(&line);
}

static void
test_delay_reject_no(void **state)
{
	struct smtpd_state st;

	(void)state;
	cfg_defaults();
	setup_conf();
	smtpd_cfg.smtpd_delay_reject = 0;
	smtpd_cfg.smtpd_client_restrictions = "permit_mynetworks, "
	    "defer_if_permit";
	smtpd_cfg.smtpd_helo_restrictions = "reject_non_fqdn_helo_hostname";
	smtpd_cfg.smtpd_sender_restrictions = "reject_non_fqdn_sender";
	smtpd_check_init();
	st_init(&st, "192.0.2.9", "unknown");
	st.last_cmd = "CONNECT";
	log_clear();
	assert_int_equal(smtpd_check_client(&st), SMTPD_CHECK_OK);
	assert_true(st.chk.dip_client);
	st.last_cmd = "HELO";
	assert_int_equal(smtpd_check_helo(&st, "localhost"),
	    SMTPD_CHECK_REJECT);
	assert_string_equal(buf_str(&st.check_reply), "504 5.5.2 "
	    "<localhost>: Helo command rejected: need fully-qualified "
	    "hostname");
	assert_true(log_has("NOQUEUE: reject: HELO from unknown[192.0.2.9]: "
	    "504 5.5.2 <localhost>: Helo command rejected: need "
	    "fully-qualified hostname; proto=ESMTP helo=<localhost>"));
	st.helo_name = "mail.example.net";
	st.last_cmd = "MAIL";
	assert_int_equal(smtpd_check_mail(&st, "joe"), SMTPD_CHECK_REJECT);
	assert_int_equal(smtpd_check_mail(&st, "joe@example.net"),
	    SMTPD_CHECK_OK);
	/* The client stage's defer_if_permit is applied at RCPT. */
	st.sender = "joe@example.net";
	st.last_cmd = "RCPT";
	assert_int_equal(smtpd_check_rcpt(&st, "alice@example.com"),
	    SMTPD_CHECK_REJECT);
	assert_string_equal(buf_str(&st.check_reply), "450 4.7.0 "
	    "<unknown[192.0.2.9]>: Client host rejected: defer_if_permit "
	    "requested");
	st_free(&st);

	/*
	 * Message actions need a transaction: at connect they are skipped
	 * with a warning (and DISCARD does not permit).
	 */
	cfg_defaults();
	setup_conf();
	smtpd_cfg.smtpd_delay_reject = 0;
	smtpd_cfg.smtpd_client_restrictions = "check_client_access "
	    "inline:{ 192.0.2.9=DISCARD, 192.0.2.8=HOLD }, reject";
	smtpd_check_init();
	st_init(&st, "192.0.2.9", "unknown");
	st.last_cmd = "CONNECT";
	log_clear();
	assert_int_equal(smtpd_check_client(&st), SMTPD_CHECK_REJECT);
	assert_false(st.discard);
	assert_true(log_has("warning: access table inline:{ 192.0.2.9=DISCARD, "
	    "192.0.2.8=HOLD }: with smtpd_delay_reject=no, action DISCARD is "
	    "always skipped in Client host or Helo command restrictions"));
	st_free(&st);
	st_init(&st, "192.0.2.8", "unknown");
	st.last_cmd = "CONNECT";
	assert_int_equal(smtpd_check_client(&st), SMTPD_CHECK_REJECT);
	assert_false(st.hold);
	st_free(&st);
	ck_done();
}

static void
test_policy(void **state)
{
	struct smtpd_state st;
	static const struct rcpt_case pol = { "", "", "", DEF,
	    "check_policy_service inet:127.0.0.1:10023", OUT, "client.example",
	    "s@remote.example", "alice@example.com", "" };

	int (*saved)(struct ck_policy *, const struct buf *, struct buf *,
	    struct buf *) = ck_policy_hook;

	(void)state;
	ck_policy_hook = fake_policy;
	policy_answer = "action=DEFER_IF_PERMIT Greylisted, see "
	    "http://postgrey.example/\n\n";
	assert_int_equal(run_rcpt(&pol, &st), SMTPD_CHECK_REJECT);
	assert_string_equal(buf_str(&st.check_reply), "450 4.7.1 "
	    "<alice@example.com>: Recipient address rejected: Greylisted, see "
	    "http://postgrey.example/");
	assert_non_null(strstr(buf_str(&policy_request),
	    "request=smtpd_access_policy\nprotocol_state=RCPT\n"
	    "protocol_name=ESMTP\nhelo_name=client.example\nqueue_id=\n"
	    "sender=s@remote.example\nrecipient=alice@example.com\n"
	    "recipient_count=0\nclient_address=192.0.2.9\n"
	    "client_name=unknown\nreverse_client_name=unknown\ninstance="));
	assert_non_null(strstr(buf_str(&policy_request),
	    "\nsasl_method=\nsasl_username=\nsasl_sender=\nsize=0\n"));
	assert_true(str_suffix(buf_str(&policy_request), "\n\n"));
	st_free(&st);

	policy_answer = "action=PREPEND Received-SPF: Pass (mailfrom)\n\n";
	assert_int_equal(run_rcpt(&pol, &st), SMTPD_CHECK_OK);
	assert_int_equal(st.prepend.n, 1);
	assert_string_equal(st.prepend.v[0], "Received-SPF: Pass (mailfrom)");
	st_free(&st);

	policy_answer = "action=550 5.7.23 SPF fail\n\n";
	assert_int_equal(run_rcpt(&pol, &st), SMTPD_CHECK_REJECT);
	assert_string_equal(buf_str(&st.check_reply), "550 5.7.23 "
	    "<alice@example.com>: Recipient address rejected: SPF fail");
	st_free(&st);

	policy_answer = "action=dunno\n\n";
	assert_int_equal(run_rcpt(&pol, &st), SMTPD_CHECK_OK);
	st_free(&st);

	/* Server down, or a hostile answer: the default action. */
	policy_answer = NULL;
	assert_int_equal(run_rcpt(&pol, &st), SMTPD_CHECK_REJECT);
	assert_string_equal(buf_str(&st.check_reply), "451 4.3.5 "
	    "<alice@example.com>: Recipient address rejected: Server "
	    "configuration problem");
	st_free(&st);
	policy_answer = "action=OK\n";
	assert_int_equal(run_rcpt(&pol, &st), SMTPD_CHECK_REJECT);
	st_free(&st);
	policy_answer = "foo=bar\n\n";
	assert_int_equal(run_rcpt(&pol, &st), SMTPD_CHECK_REJECT);
	st_free(&st);
	policy_answer = "action=OK\n\n";
	assert_int_equal(run_rcpt(&pol, &st), SMTPD_CHECK_OK);
	st_free(&st);
	ck_done();
	ck_policy_hook = saved;
}

struct parse_case {
	const char *in;
	int	 rc;
	const char *action;
};

static void
test_policy_parse(void **state)
{
	static const struct parse_case cases[] = {
		{ "action=OK\n\n", 0, "OK" },
		{ "action=OK\r\n\r\n", 0, "OK" },
		{ "x=1\naction=REJECT no\ny=2\n\n", 0, "REJECT no" },
		{ "action=a=b\n\n", 0, "a=b" },
		{ "action=OK\n", -1, NULL },
		{ "action=OK", -1, NULL },
		{ "", -1, NULL },
		{ "\n", -1, NULL },
		{ "x=1\n\n", -1, NULL },
		{ "action=\n\n", -1, NULL },
		{ "action=  \n\n", -1, NULL },
		{ "action=OK\naction=REJECT\n\n", -1, NULL },
		{ "action=OK\n\nextra", -1, NULL },
		{ "action=OK\n\naction=OK\n\n", -1, NULL },
		{ "junk\n\n", -1, NULL },
		{ "=x\n\n", -1, NULL },
		{ "action\n\n", -1, NULL },
	};
	struct buf action = BUF_INIT, why = BUF_INIT, big = BUF_INIT;
	size_t i;

	(void)state;
	for (i = 0; i < NELEM(cases); i++) {
		int r = ck_policy_parse(cases[i].in, strlen(cases[i].in),
		    &action, &why);

		if (r != cases[i].rc)
			fail_msg("case %zu: got %d (%s)", i, r, buf_str(&why));
		if (r == 0)
			assert_string_equal(buf_str(&action), cases[i].action);
	}
	/* NUL bytes. */
	assert_int_equal(ck_policy_parse("action=O\0K\n\n", 12, &action,
	    &why), -1);
	/* Lines at the limit and over it. */
	buf_puts(&big, "x=");
	for (i = 2; i < 4096; i++)
		buf_putc(&big, 'a');
	buf_puts(&big, "\naction=OK\n\n");
	assert_int_equal(ck_policy_parse(big.p, big.len, &action, &why), 0);
	buf_reset(&big);
	buf_puts(&big, "x=");
	for (i = 2; i < 4097; i++)
		buf_putc(&big, 'a');
	buf_puts(&big, "\naction=OK\n\n");
	assert_int_equal(ck_policy_parse(big.p, big.len, &action, &why), -1);
	/* An action at CK_REPLY_MAX and over it. */
	buf_reset(&big);
	buf_puts(&big, "action=");
	for (i = 0; i < CK_REPLY_MAX; i++)
		buf_putc(&big, 'a');
	buf_puts(&big, "\n\n");
	assert_int_equal(ck_policy_parse(big.p, big.len, &action, &why), 0);
	buf_reset(&big);
	buf_puts(&big, "action=");
	for (i = 0; i < CK_REPLY_MAX + 1; i++)
		buf_putc(&big, 'a');
	buf_puts(&big, "\n\n");
	assert_int_equal(ck_policy_parse(big.p, big.len, &action, &why), -1);
	/* Too many lines. */
	buf_reset(&big);
	for (i = 0; i < 100; i++)
		buf_puts(&big, "x=1\n");
	buf_puts(&big, "action=OK\n\n");
	assert_int_equal(ck_policy_parse(big.p, big.len, &action, &why), -1);
	buf_free(&action);
	buf_free(&why);
	buf_free(&big);
}

static void
test_policy_endpoint(void **state)
{
	static const struct {
		const char *in;
		int	 rc;
		const char *kind;
		const char *addr;
	} cases[] = {
		{ "inet:127.0.0.1:10023", 0, "inet", "127.0.0.1:10023" },
		{ "127.0.0.1:10023", 0, "inet", "127.0.0.1:10023" },
		{ "inet:[::1]:9998", 0, "inet", "[::1]:9998" },
		{ "unix:private/policyd-spf", 0, "unix",
		    "private/policyd-spf" },
		{ "private/policy", 0, "unix", "private/policy" },
		{ "policy", 0, "unix", "private/policy" },
		{ "inet:127.0.0.1", -1, NULL, NULL },
		{ "inet:127.0.0.1:0", -1, NULL, NULL },
		{ "inet:127.0.0.1:65536", -1, NULL, NULL },
		{ "inet::25", -1, NULL, NULL },
		{ "unix:", -1, NULL, NULL },
		{ "", -1, NULL, NULL },
	};
	struct buf kind = BUF_INIT, addr = BUF_INIT, why = BUF_INIT;
	size_t i;

	(void)state;
	for (i = 0; i < NELEM(cases); i++) {
		int r = ck_policy_endpoint(cases[i].in, &kind, &addr, &why);

		if (r != cases[i].rc)
			fail_msg("%s: got %d", cases[i].in, r);
		if (r == 0) {
			assert_string_equal(buf_str(&kind), cases[i].kind);
			assert_string_equal(buf_str(&addr), cases[i].addr);
		}
	}
	cfg_defaults();
	assert_non_null(ck_policy_get("inet:127.0.0.1:9998, timeout=10s, "
	    "{ default_action = 451 4.3.5 try later }"));
	assert_non_null(ck_policy_get("{ inet:127.0.0.1:9998, timeout=10s, "
	    "default_action=DUNNO }"));
	assert_null(ck_policy_get("{ inet:127.0.0.1:9998, bogus=1 }"));
	assert_null(ck_policy_get("{ inet:127.0.0.1:9998, timeout=x }"));
	ck_policy_close_all();
	buf_free(&kind);
	buf_free(&addr);
	buf_free(&why);
}

static void
test_data_stage(void **state)
{
	struct smtpd_state st;

	(void)state;
	cfg_defaults();
	setup_conf();
	smtpd_cfg.smtpd_data_restrictions = "reject_unauth_pipelining, "
	    "reject_multi_recipient_bounce";
	smtpd_cfg.smtpd_end_of_data_restrictions = "check_sender_access "
	    "inline:{ bad@example.net=REJECT }";
	smtpd_check_init();
	st_init(&st, "192.0.2.9", "unknown");
	st.sender = "";
	argv_add(&st.rcpts, "alice@example.com");
	st.last_cmd = "DATA";
	assert_int_equal(smtpd_check_data(&st), SMTPD_CHECK_OK);
	argv_add(&st.rcpts, "bob@example.com");
	log_clear();
	assert_int_equal(smtpd_check_data(&st), SMTPD_CHECK_REJECT);
	assert_string_equal(buf_str(&st.check_reply), "550 5.5.3 <DATA>: "
	    "Data command rejected: Multi-recipient bounce");
	assert_true(log_has("NOQUEUE: reject: DATA from unknown[192.0.2.9]: "
	    "550 5.5.3 <DATA>: Data command rejected: Multi-recipient "
	    "bounce; from=<> proto=ESMTP\n"));
	st.ill_pipelining = 1;
	assert_int_equal(smtpd_check_data(&st), SMTPD_CHECK_REJECT);
	assert_string_equal(buf_str(&st.check_reply), "503 5.5.0 <DATA>: "
	    "Data command rejected: Improper use of SMTP command pipelining");
	st.sender = "bad@example.net";
	assert_int_equal(smtpd_check_eod(&st), SMTPD_CHECK_REJECT);
	assert_string_equal(buf_str(&st.check_reply), "554 5.7.1 "
	    "<bad@example.net>: Sender address rejected: Access denied");
	assert_true(log_has("NOQUEUE: reject: END-OF-MESSAGE from "));
	/* Size. */
	assert_int_equal(smtpd_check_size(&st, 20000000),
	    SMTPD_CHECK_REJECT);
	assert_string_equal(buf_str(&st.check_reply),
	    "552 5.3.4 Message size exceeds fixed limit");
	assert_int_equal(smtpd_check_size(&st, 1000), SMTPD_CHECK_OK);
	st_free(&st);
	ck_done();
}

static void
test_parser(void **state)
{
	static const struct {
		const char *spec;
		int	 error;
		size_t	 n;
	} cases[] = {
		{ "", 0, 0 },
		{ " , ,, ", 0, 0 },
		{ "permit_mynetworks, reject_unauth_destination", 0, 2 },
		{ "PERMIT_MYNETWORKS\treject", 0, 2 },
		{ "check_client_access inline:{ a=OK, b=REJECT }, permit", 0,
		    2 },
		{ "check_policy_service { inet:127.0.0.1:9, timeout=5 }", 0,
		    1 },
		{ "check_client_access", 1, 0 },
		{ "check_client_access notatable", 1, 1 },
		{ "check_client_access inline:{ a=OK", 1, 0 },
		{ "reject_rbl_client", 1, 0 },
		{ "reject_rbl_client =127.0.0.2", 1, 1 },
		{ "sleep 1x", 1, 1 },
		{ "sleep 2", 0, 1 },
		{ "what_is_this", 1, 1 },
		{ "permit_mx_backup", 1, 1 },
		{ "check_policy_service inet:host", 1, 1 },
		{ "{ unbalanced", 1, 0 },
	};
	size_t i;

	(void)state;
	cfg_defaults();
	for (i = 0; i < NELEM(cases); i++) {
		struct ck_list *l = ck_list_parse("test", cases[i].spec, 0);

		if (ck_list_error(l) != cases[i].error ||
		    ck_list_size(l) != cases[i].n)
			fail_msg("\"%s\": error %d size %zu", cases[i].spec,
			    ck_list_error(l), ck_list_size(l));
		ck_list_free(l);
	}
	ck_done();
}

static void
test_rbl_helpers(void **state)
{
	struct buf q = BUF_INIT;
	const char *vars[] = { "a", "1", "b", "", NULL };

	(void)state;
	assert_int_equal(ck_rbl_addr_query("192.0.2.9", "z.example", &q), 0);
	assert_string_equal(buf_str(&q), "9.2.0.192.z.example");
	assert_int_equal(ck_rbl_addr_query("::ffff:192.0.2.9", "z", &q), 0);
	assert_string_equal(buf_str(&q), "9.2.0.192.z");
	assert_int_equal(ck_rbl_addr_query("2001:db8::1", "z", &q), 0);
	assert_string_equal(buf_str(&q), "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0."
	    "0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.z");
	assert_int_equal(ck_rbl_addr_query("not-an-address", "z", &q), -1);
	assert_true(ck_rbl_match("127.0.0.2", "127.0.0.2"));
	assert_false(ck_rbl_match("127.0.0.2", "127.0.0.3"));
	assert_true(ck_rbl_match("127.0.0.[2;4]", "127.0.0.4"));
	assert_true(ck_rbl_match("127.0.0.[1..11]", "127.0.0.10"));
	assert_false(ck_rbl_match("127.0.0.[1..9]", "127.0.0.10"));
	assert_false(ck_rbl_match("127.0.0", "127.0.0.10"));
	assert_false(ck_rbl_match("127.0.0.2.1", "127.0.0.2"));
	assert_false(ck_rbl_match("127.0.0.[2", "127.0.0.2"));
	ck_rbl_expand("$a${a}${a?x$a}${b?y}${b:z$a}$$ $c${c:w}", vars, &q);
	assert_string_equal(buf_str(&q), "11x1z1$ w");
	ck_rbl_expand("${a", vars, &q);
	assert_string_equal(buf_str(&q), "");
	buf_free(&q);
}

static void
test_dsn_fix(void **state)
{
	char d[16];

	(void)state;
	strcpy(d, "5.1.1");
	ck_dsn_fix(d, 550, CK_CLASS_SENDER);
	assert_string_equal(d, "5.1.7");
	strcpy(d, "4.1.2");
	ck_dsn_fix(d, 450, CK_CLASS_SENDER);
	assert_string_equal(d, "4.1.8");
	strcpy(d, "5.1.7");
	ck_dsn_fix(d, 550, CK_CLASS_RCPT);
	assert_string_equal(d, "5.1.1");
	strcpy(d, "5.1.1");
	ck_dsn_fix(d, 550, CK_CLASS_CLIENT);
	assert_string_equal(d, "5.0.0");
	strcpy(d, "4.7.1");
	ck_dsn_fix(d, 554, CK_CLASS_RCPT);
	assert_string_equal(d, "5.7.1");
	strcpy(d, "5.7.1");
	ck_dsn_fix(d, 450, NULL);
	assert_string_equal(d, "4.7.1");
}

static void
test_dsn_split(void **state)
{
	static const struct {
		const char *in, *dsn, *rest;
	} cases[] = {
		{ "5.7.1 go away", "5.7.1", "go away" },
		{ "4.2.2", "4.2.2", "" },
		{ "2.0.0  ok", "2.0.0", "ok" },
		{ "5.123.999 three digits", "5.123.999", "three digits" },
		{ "5.1234.1 four digits", "5.0.0", "5.1234.1 four digits" },
		{ "5.1.1234 x", "5.0.0", "5.1.1234 x" },
		{ "5.01.1 x", "5.0.0", "5.01.1 x" },
		{ "5.1.01 x", "5.0.0", "5.1.01 x" },
		{ "5.0.0 zero", "5.0.0", "zero" },
		{ "3.1.1 x", "5.0.0", "3.1.1 x" },
		{ "5.1.1x", "5.0.0", "5.1.1x" },
		{ "5.1 x", "5.0.0", "5.1 x" },
		{ "5..1 x", "5.0.0", "5..1 x" },
		{ "", "5.0.0", "" },
		{ "text only", "5.0.0", "text only" },
	};
	char d[16];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *rest = ck_dsn_split(cases[i].in, "5.0.0", d,
		    sizeof(d));

		assert_string_equal(d, cases[i].dsn);
		assert_string_equal(rest, cases[i].rest);
	}
	/* A code that does not fit the buffer is not taken. */
	assert_string_equal(ck_dsn_split("5.123.123 x", "4.7.1", d, 9),
	    "5.123.123 x");
	assert_string_equal(d, "4.7.1");
	assert_int_equal(ck_dsn_len("5.7.1"), 5);
	assert_int_equal(ck_dsn_len("5.7.1\tx"), 5);
	assert_int_equal(ck_dsn_len("5.7."), 0);
}

static void
test_mynetworks_default(void **state)
{
	struct buf out = BUF_INIT;
	struct match_list *m;
	struct buf why = BUF_INIT;

	(void)state;
	mynetworks_compute("host", &out);
	assert_true(str_prefix(buf_str(&out),
	    "127.0.0.0/8 [::ffff:127.0.0.0]/104 [::1]/128"));
	/* Every entry of every style parses as a network. */
	m = match_list_new_flags("mynetworks", buf_str(&out), 0);
	assert_int_equal(match_list_addr(m, "127.0.0.1", &why), 1);
	match_list_free(m);
	mynetworks_compute("subnet", &out);
	m = match_list_new_flags("mynetworks", buf_str(&out), 0);
	assert_int_equal(match_list_addr(m, "127.0.0.1", &why), 1);
	match_list_free(m);
	mynetworks_compute("class", &out);
	m = match_list_new_flags("mynetworks", buf_str(&out), 0);
	assert_int_equal(match_list_addr(m, "::1", &why), 1);
	match_list_free(m);
	/* The default in a conf follows mynetworks_style. */
	{
		struct conf *c = conf_new();

		conf_set(c, "mynetworks_style", "host", CONF_SRC_MAINCF);
		mynetworks_default(c);
		assert_true(str_prefix(conf_get(c, "mynetworks"),
		    "127.0.0.0/8 [::ffff:127.0.0.0]/104 [::1]/128"));
		conf_set(c, "mynetworks", "192.0.2.0/24", CONF_SRC_MAINCF);
		assert_string_equal(conf_get(c, "mynetworks"), "192.0.2.0/24");
		conf_free(c);
	}
	buf_free(&out);
	buf_free(&why);
}

static int
group_setup(void **state)
{
	int fd = mkstemp(log_path);

	(void)state;
	if (fd < 0)
		return -1;
	close(fd);
	log_init("smtpd", 0);
	if (log_open_file(log_path) < 0)
		return -1;
	ck_resolve_hook = fake_resolve;
	ck_dns = &fake_dns;
	return 0;
}

static int
group_teardown(void **state)
{
	(void)state;
	unlink(log_path);
	buf_free(&policy_request);
	if (mail_conf)
		conf_free(mail_conf);
	mail_conf = NULL;
	return 0;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rcpt_table),
		cmocka_unit_test(test_virtual_rcpt),
		cmocka_unit_test(test_log_lines),
		cmocka_unit_test(test_delay_reject_no),
		cmocka_unit_test(test_policy),
		cmocka_unit_test(test_policy_parse),
		cmocka_unit_test(test_policy_endpoint),
		cmocka_unit_test(test_data_stage),
		cmocka_unit_test(test_parser),
		cmocka_unit_test(test_rbl_helpers),
		cmocka_unit_test(test_dsn_fix),
		cmocka_unit_test(test_dsn_split),
		cmocka_unit_test(test_mynetworks_default),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
