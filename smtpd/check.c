/*
 * NAME		check - SMTP server access restrictions
 * DESCRIPTION	Postfix's smtpd_*_restrictions.  smtpd_check_init() parses
 *		every list once, before the chroot, and opens the tables
 *		they name: smtpd_client_restrictions, smtpd_helo_restrictions,
 *		smtpd_sender_restrictions, smtpd_relay_restrictions,
 *		smtpd_recipient_restrictions, smtpd_data_restrictions,
 *		smtpd_end_of_data_restrictions and the restriction classes
 *		of smtpd_restriction_classes.  An unknown restriction name is
 *		logged, and every check that uses that list answers "451
 *		4.3.5 Server configuration error" (a restriction is never
 *		silently skipped).
 *
 *		Evaluation goes left to right: a permit accepts the list, a
 *		reject that matches rejects, anything else goes on.
 *		warn_if_reject turns the next restriction's rejection into a
 *		"reject_warning:" log line; defer_if_permit and
 *		defer_if_reject postpone a decision as in Postfix.  With
 *		smtpd_delay_reject (the default), the client, HELO and sender
 *		restrictions are evaluated again at RCPT time, and their
 *		rejection is the RCPT reply.  At RCPT, the relay restrictions
 *		come first, then the recipient restrictions; only a
 *		rejection stops.  Then, with smtpd_reject_unlisted_recipient,
 *		a recipient must be known: in virtual_alias_maps, or by its
 *		class in local_recipient_maps (local domains) or
 *		virtual_mailbox_maps (virtual mailbox domains); in a virtual
 *		alias domain only virtual_alias_maps count.
 *		If neither the relay nor the recipient list can ever refuse
 *		relaying, every RCPT is answered "451 4.3.5 Server
 *		configuration problem": an outside client can never relay
 *		because of a mistake.  As in Postfix, "RCPT TO:<postmaster>"
 *		(no domain) passes every check, and once a DISCARD action
 *		matched no further restriction is evaluated for the message.
 *
 *		Every rejection is logged as Postfix does ("NOQUEUE: reject:
 *		RCPT from name[addr]: 554 5.7.1 <r@d>: Relay access denied;
 *		from=<s@d> to=<r@d> proto=ESMTP helo=<h>") before the reply
 *		is returned in st->check_reply.
 * SECURITY	Input is the SMTP client's (addresses, HELO name) and the
 *		answers of tables and policy servers; reply texts from them
 *		are bounded (CK_REPLY_MAX) and must be 4xx/5xx.  Recursion
 *		through restriction classes and table results is bounded
 *		(CK_DEPTH_MAX).
 * PARAMETERS	smtpd_*_restrictions (see above), smtpd_restriction_classes,
 *		smtpd_delay_reject (yes), smtpd_reject_unlisted_recipient
 *		(yes), smtpd_reject_unlisted_sender (no), local_recipient_maps
 *		(proxy:unix:passwd.byname $alias_maps; proxy: tables are read
 *		through proxymap(8)), virtual_alias_maps, virtual_mailbox_maps,
 *		relay_domains,
 *		parent_domain_matches_subdomains, smtpd_null_access_lookup_key
 *		(<>), the reply codes (reject_code 554, defer_code 450,
 *		relay_domains_reject_code 554, access_map_reject_code 554,
 *		access_map_defer_code 450, non_fqdn_reject_code 504,
 *		invalid_hostname_reject_code 501, unknown_client_reject_code
 *		450, unknown_hostname_reject_code 450,
 *		unknown_address_reject_code 450,
 *		unknown_local_recipient_reject_code 550,
 *		unknown_virtual_alias_reject_code 550,
 *		unknown_virtual_mailbox_reject_code 550, maps_rbl_reject_code
 *		554, multi_recipient_bounce_reject_code 550),
 *		reject_tempfail_action, unknown_address_tempfail_action,
 *		unknown_helo_hostname_tempfail_action (defer_if_permit),
 *		show_user_unknown_table_name (yes), soft_bounce (no),
 *		queue_minfree (0), message_size_limit,
 *		smtpd_sender_login_maps (the *_sender_login_mismatch
 *		restrictions; the SASL login comes from sasl.c),
 *		relay_clientcerts (permit_tls_clientcerts; the client
 *		certificate comes from tls.c).
 * DIAGNOSTICS	"reject:", "reject_warning:", "hold:", "discard:",
 *		"filter:", "redirect:", "warn:", "info:" lines as Postfix
 *		writes them; warnings for configuration errors; "table X has
 *		changed -- restarting" when a table was rebuilt (the process
 *		ends after the session).
 * SEE ALSO	access.c, policy.c, dnscheck.c, mynetworks.c,
 *		doc/smtpd-access.md
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "dict/addr_find.h"
#include "dict/match.h"
#include "mail/addr.h"
#include "mail/conf.h"
#include "mail/mail_conf.h"
#include "server/server.h"
#include "tls/tls.h"
#include "util/events.h"
#include "util/htable.h"
#include "util/log.h"
#include "util/mem.h"
#include "util/strutil.h"
#include "check.h"

/* Restrictions. */
enum ck_op {
	OP_PERMIT = 1, OP_REJECT, OP_DEFER, OP_DEFER_IF_PERMIT,
	OP_DEFER_IF_REJECT, OP_WARN_IF_REJECT, OP_PERMIT_MYNETWORKS,
	OP_REJECT_UNAUTH_DEST, OP_DEFER_UNAUTH_DEST,
	OP_PERMIT_AUTH_DEST, OP_UNLISTED_RCPT, OP_UNLISTED_SENDER,
	OP_NON_FQDN_SENDER, OP_NON_FQDN_RCPT, OP_NON_FQDN_HELO,
	OP_INVALID_HELO, OP_UNKNOWN_HELO, OP_UNKNOWN_SENDER_DOMAIN,
	OP_UNKNOWN_RCPT_DOMAIN, OP_UNKNOWN_CLIENT, OP_UNKNOWN_REVERSE,
	OP_CHECK_CLIENT, OP_CHECK_REVERSE, OP_CHECK_HELO, OP_CHECK_SENDER,
	OP_CHECK_RCPT, OP_RBL_CLIENT, OP_RHSBL_CLIENT, OP_RHSBL_REVERSE,
	OP_RHSBL_SENDER, OP_RHSBL_RCPT, OP_RHSBL_HELO, OP_POLICY,
	OP_UNAUTH_PIPELINING, OP_SLEEP, OP_MULTI_RCPT_BOUNCE, OP_CLASS,
	OP_SASL_AUTH, OP_LOGIN_MISMATCH, OP_AUTH_LOGIN_MISMATCH,
	OP_KNOWN_LOGIN_MISMATCH, OP_UNAUTH_LOGIN_MISMATCH, OP_CHECK_SASL,
	OP_TLS_CLIENTCERTS, OP_TLS_ALL_CLIENTCERTS, OP_CHECK_CCERT,
	OP_UNSUPPORTED
};

/* What a restriction's next token is. */
#define ARG_NONE	0
#define ARG_TABLE	1
#define ARG_ZONE	2
#define ARG_POLICY	3
#define ARG_TIME	4
#define ARG_OTHER	5

struct ck_rest {
	const char *name;
	int	 op;
	int	 arg;
	int	 required;	/* can refuse relaying (relay safety check) */
};

static const struct ck_rest ck_rests[] = {
	{ "permit", OP_PERMIT, ARG_NONE, 0 },
	{ "reject", OP_REJECT, ARG_NONE, 1 },
	{ "defer", OP_DEFER, ARG_NONE, 1 },
	{ "defer_if_permit", OP_DEFER_IF_PERMIT, ARG_NONE, 1 },
	{ "defer_if_reject", OP_DEFER_IF_REJECT, ARG_NONE, 0 },
	{ "warn_if_reject", OP_WARN_IF_REJECT, ARG_NONE, 0 },
	{ "permit_mynetworks", OP_PERMIT_MYNETWORKS, ARG_NONE, 0 },
	{ "permit_sasl_authenticated", OP_SASL_AUTH, ARG_NONE, 0 },
	{ "permit_tls_clientcerts", OP_TLS_CLIENTCERTS, ARG_NONE, 0 },
	{ "permit_tls_all_clientcerts", OP_TLS_ALL_CLIENTCERTS, ARG_NONE, 0 },
	{ "reject_unauth_destination", OP_REJECT_UNAUTH_DEST, ARG_NONE, 1 },
	{ "defer_unauth_destination", OP_DEFER_UNAUTH_DEST, ARG_NONE, 1 },
	{ "permit_auth_destination", OP_PERMIT_AUTH_DEST, ARG_NONE, 0 },
	{ "reject_unlisted_recipient", OP_UNLISTED_RCPT, ARG_NONE, 0 },
	{ "check_recipient_maps", OP_UNLISTED_RCPT, ARG_NONE, 0 },
	{ "reject_unlisted_sender", OP_UNLISTED_SENDER, ARG_NONE, 0 },
	{ "reject_non_fqdn_sender", OP_NON_FQDN_SENDER, ARG_NONE, 0 },
	{ "reject_non_fqdn_recipient", OP_NON_FQDN_RCPT, ARG_NONE, 0 },
	{ "reject_non_fqdn_helo_hostname", OP_NON_FQDN_HELO, ARG_NONE, 0 },
	{ "reject_non_fqdn_hostname", OP_NON_FQDN_HELO, ARG_NONE, 0 },
	{ "reject_invalid_helo_hostname", OP_INVALID_HELO, ARG_NONE, 0 },
	{ "reject_invalid_hostname", OP_INVALID_HELO, ARG_NONE, 0 },
	{ "reject_unknown_helo_hostname", OP_UNKNOWN_HELO, ARG_NONE, 0 },
	{ "reject_unknown_hostname", OP_UNKNOWN_HELO, ARG_NONE, 0 },
	{ "reject_unknown_sender_domain", OP_UNKNOWN_SENDER_DOMAIN,
	    ARG_NONE, 0 },
	{ "reject_unknown_recipient_domain", OP_UNKNOWN_RCPT_DOMAIN,
	    ARG_NONE, 0 },
	{ "reject_unknown_client_hostname", OP_UNKNOWN_CLIENT, ARG_NONE, 0 },
	{ "reject_unknown_client", OP_UNKNOWN_CLIENT, ARG_NONE, 0 },
	{ "reject_unknown_reverse_client_hostname", OP_UNKNOWN_REVERSE,
	    ARG_NONE, 0 },
	{ "check_client_access", OP_CHECK_CLIENT, ARG_TABLE, 0 },
	{ "check_reverse_client_hostname_access", OP_CHECK_REVERSE,
	    ARG_TABLE, 0 },
	{ "check_helo_access", OP_CHECK_HELO, ARG_TABLE, 0 },
	{ "check_sender_access", OP_CHECK_SENDER, ARG_TABLE, 0 },
	{ "check_recipient_access", OP_CHECK_RCPT, ARG_TABLE, 0 },
	{ "reject_rbl_client", OP_RBL_CLIENT, ARG_ZONE, 0 },
	{ "reject_rhsbl_client", OP_RHSBL_CLIENT, ARG_ZONE, 0 },
	{ "reject_rhsbl_reverse_client", OP_RHSBL_REVERSE, ARG_ZONE, 0 },
	{ "reject_rhsbl_sender", OP_RHSBL_SENDER, ARG_ZONE, 0 },
	{ "reject_rhsbl_recipient", OP_RHSBL_RCPT, ARG_ZONE, 0 },
	{ "reject_rhsbl_helo", OP_RHSBL_HELO, ARG_ZONE, 0 },
	{ "check_policy_service", OP_POLICY, ARG_POLICY, 0 },
	{ "reject_unauth_pipelining", OP_UNAUTH_PIPELINING, ARG_NONE, 0 },
	{ "sleep", OP_SLEEP, ARG_TIME, 0 },
	{ "reject_multi_recipient_bounce", OP_MULTI_RCPT_BOUNCE, ARG_NONE,
	    0 },
	{ "reject_sender_login_mismatch", OP_LOGIN_MISMATCH, ARG_NONE, 0 },
	{ "reject_authenticated_sender_login_mismatch",
	    OP_AUTH_LOGIN_MISMATCH, ARG_NONE, 0 },
	{ "reject_known_sender_login_mismatch", OP_KNOWN_LOGIN_MISMATCH,
	    ARG_NONE, 0 },
	{ "reject_unauthenticated_sender_login_mismatch",
	    OP_UNAUTH_LOGIN_MISMATCH, ARG_NONE, 0 },
	{ "check_sasl_access", OP_CHECK_SASL, ARG_TABLE, 0 },
	{ "check_ccert_access", OP_CHECK_CCERT, ARG_TABLE, 0 },
	/* Postfix restrictions Postern does not implement (yet). */
	{ "check_client_a_access", OP_UNSUPPORTED, ARG_OTHER, 0 },
	{ "check_client_mx_access", OP_UNSUPPORTED, ARG_OTHER, 0 },
	{ "check_client_ns_access", OP_UNSUPPORTED, ARG_OTHER, 0 },
	{ "check_reverse_client_hostname_a_access", OP_UNSUPPORTED,
	    ARG_OTHER, 0 },
	{ "check_reverse_client_hostname_mx_access", OP_UNSUPPORTED,
	    ARG_OTHER, 0 },
	{ "check_reverse_client_hostname_ns_access", OP_UNSUPPORTED,
	    ARG_OTHER, 0 },
	{ "check_helo_a_access", OP_UNSUPPORTED, ARG_OTHER, 0 },
	{ "check_helo_mx_access", OP_UNSUPPORTED, ARG_OTHER, 0 },
	{ "check_helo_ns_access", OP_UNSUPPORTED, ARG_OTHER, 0 },
	{ "check_sender_a_access", OP_UNSUPPORTED, ARG_OTHER, 0 },
	{ "check_sender_mx_access", OP_UNSUPPORTED, ARG_OTHER, 0 },
	{ "check_sender_ns_access", OP_UNSUPPORTED, ARG_OTHER, 0 },
	{ "check_recipient_a_access", OP_UNSUPPORTED, ARG_OTHER, 0 },
	{ "check_recipient_mx_access", OP_UNSUPPORTED, ARG_OTHER, 0 },
	{ "check_recipient_ns_access", OP_UNSUPPORTED, ARG_OTHER, 0 },
	{ "check_etrn_access", OP_UNSUPPORTED, ARG_OTHER, 0 },
	{ "permit_dnswl_client", OP_UNSUPPORTED, ARG_OTHER, 0 },
	{ "permit_rhswl_client", OP_UNSUPPORTED, ARG_OTHER, 0 },
	{ "reject_unverified_recipient", OP_UNSUPPORTED, ARG_NONE, 0 },
	{ "reject_unverified_sender", OP_UNSUPPORTED, ARG_NONE, 0 },
	{ "permit_mx_backup", OP_UNSUPPORTED, ARG_NONE, 0 },
	{ "permit_inet_interfaces", OP_UNSUPPORTED, ARG_NONE, 0 },
	{ "reject_plaintext_session", OP_UNSUPPORTED, ARG_NONE, 0 },
	{ "check_relay_domains", OP_UNSUPPORTED, ARG_NONE, 0 },
	{ NULL, 0, 0, 0 }
};

/* One compiled restriction. */
struct ck_item {
	int	 op;
	const struct ck_rest *rest;
	char	*name;			/* as written (class name) */
	char	*arg;			/* table, zone, endpoint */
	struct maps *maps;		/* ARG_TABLE: from the cache */
	struct ck_policy *policy;	/* ARG_POLICY: from the cache */
	long	 secs;			/* ARG_TIME */
};

struct ck_list {
	char	*title;
	struct ck_item *v;
	size_t	 n;
	int	 error;			/* a configuration error */
};

/* Process-wide state, set up by smtpd_check_init(). */
static struct ck_list *ck_client_list, *ck_helo_list, *ck_sender_list,
    *ck_relay_list, *ck_rcpt_list, *ck_data_list, *ck_eod_list;
static struct htable *ck_classes;	/* name -> struct ck_list */
static struct htable *ck_maps_cache;	/* spec -> struct maps */
static struct match_list *ck_relay_domains;
static struct maps *ck_local_rcpt_maps;
static struct maps *ck_valias_maps;	/* virtual_alias_maps */
static struct maps *ck_vmailbox_maps;	/* virtual_mailbox_maps */
static struct maps *ck_login_maps;	/* smtpd_sender_login_maps */
static struct maps *ck_relay_ccerts;	/* relay_clientcerts */
static int ck_relay_safe;		/* a list can refuse relaying */
static int ck_initialized;

/* Reply codes and tempfail actions, converted once. */
static int code_reject, code_defer, code_relay, code_map_reject,
    code_map_defer, code_non_fqdn, code_bad_name, code_unk_client,
    code_unk_name, code_unk_addr, code_local_rcpt, code_rbl,
    code_mul_rcpt, code_valias_rcpt, code_vmailbox_rcpt;
static int act_unk_addr, act_unk_name;

int (*ck_resolve_hook)(const char *, const char *, struct resolve_reply *,
    struct buf *) = resolve_addr;

static struct ck_list *ck_parse(const char *, const char *, int);

/* ck_code - a reply code parameter, or def when it is not 4xx/5xx */
int
ck_code(const char *s, int def)
{
	long v;

	if (s && parse_long(s, &v) == 0 && v >= 400 && v <= 599)
		return (int)v;
	if (s && *s)
		log_warn("bad SMTP reply code \"%s\"; using %d", s, def);
	return def;
}

/* ck_tempfail_action - 1 for defer_if_permit, 0 for defer */
static int
ck_tempfail_action(const char *name, const char *val)
{
	if (val == NULL || *val == 0 || strcasecmp(val, "defer_if_permit") ==
	    0)
		return 1;
	if (strcasecmp(val, "defer") == 0)
		return 0;
	log_warn("%s: unknown action \"%s\"; using defer_if_permit", name,
	    val);
	return 1;
}

/* ck_maps - open a table once per process; title names the list */
struct maps *
ck_maps(const char *title, const char *spec)
{
	struct maps *m;

	if (ck_maps_cache == NULL)
		ck_maps_cache = htable_create(16);
	if ((m = htable_find(ck_maps_cache, spec)) != NULL)
		return m;
	m = maps_open(title, spec, DICT_FLAG_FOLD_FIX);
	htable_enter(ck_maps_cache, spec, m);
	return m;
}

/*
 * ck_token - next restriction token: separators are commas and white
 * space; "{ text }" is one token (returned without the braces); a token
 * such as "inline:{ a=b, c=d }" runs to its closing brace.  NULL at the
 * end; *err is set on an unbalanced brace.
 */
static char *
ck_token(char **cursor, int *err)
{
	char *s = *cursor, *start;
	int depth = 0;

	s += strspn(s, SEPARATORS);
	if (*s == 0) {
		*cursor = s;
		return NULL;
	}
	if (*s == '{') {
		char errbuf[64] = "";
		char *tok = str_token_braced(&s, SEPARATORS, errbuf,
		    sizeof(errbuf));

		*cursor = s;
		if (tok == NULL || errbuf[0])
			*err = 1;
		return tok;
	}
	start = s;
	for (; *s; s++) {
		if (*s == '{')
			depth++;
		else if (*s == '}' && depth > 0)
			depth--;
		else if (depth == 0 && strchr(SEPARATORS, *s))
			break;
	}
	if (depth != 0)
		*err = 1;
	if (*s)
		*s++ = 0;
	*cursor = s;
	return start;
}

/* ck_find_rest - the restriction called name, or NULL */
static const struct ck_rest *
ck_find_rest(const char *name)
{
	const struct ck_rest *r;

	for (r = ck_rests; r->name; r++)
		if (strcasecmp(r->name, name) == 0)
			return r;
	return NULL;
}

/*
 * ck_parse - compile a restriction list.  title names it in warnings;
 * dynamic lists (table and policy results) do not warn about ignored
 * entries.  A list with an error is still returned: every evaluation of
 * it answers "451 4.3.5 Server configuration error".
 */
static struct ck_list *
ck_parse(const char *title, const char *spec, int dynamic)
{
	struct ck_list *l = xcalloc(1, sizeof(*l));
	char *copy = xstrdup(spec ? spec : ""), *cp = copy, *tok;
	int err = 0;
	const char *final = NULL;

	l->title = xstrdup(title);
	while ((tok = ck_token(&cp, &err)) != NULL && !err) {
		const struct ck_rest *r = ck_find_rest(tok);
		struct ck_item it;

		memset(&it, 0, sizeof(it));
		it.name = xstrdup(tok);
		if (final && !dynamic) {
			log_warn("%s: restriction `%s' after `%s' is ignored",
			    title, tok, final);
			final = NULL;
		}
		if (r == NULL) {
			if (ck_classes && htable_find(ck_classes, tok)) {
				it.op = OP_CLASS;
			} else {
				log_warn("%s: unknown smtpd restriction: "
				    "\"%s\"", title, tok);
				l->error = 1;
				it.op = OP_UNSUPPORTED;
			}
		} else {
			it.op = r->op;
			it.rest = r;
			if (r->op == OP_UNSUPPORTED) {
				log_warn("%s: restriction \"%s\" is not "
				    "supported by this server", title, tok);
				l->error = 1;
			}
			if (r->op == OP_PERMIT || r->op == OP_REJECT ||
			    r->op == OP_DEFER)
				final = r->name;
		}
		if (r && r->arg != ARG_NONE) {
			char *arg = ck_token(&cp, &err);

			if (arg == NULL || err) {
				log_warn("%s: restriction \"%s\" needs an "
				    "argument", title, tok);
				l->error = 1;
				free(it.name);
				break;
			}
			it.arg = xstrdup(arg);
			switch (r->arg) {
			case ARG_TABLE:
				if (strchr(arg, ':') == NULL) {
					log_warn("%s: %s: \"%s\" is not a "
					    "type:table", title, tok, arg);
					l->error = 1;
				} else {
					it.maps = ck_maps(title, arg);
				}
				break;
			case ARG_POLICY:
				it.policy = ck_policy_get(arg);
				if (it.policy == NULL) {
					log_warn("%s: %s: bad policy server "
					    "\"%s\"", title, tok, arg);
					l->error = 1;
				}
				break;
			case ARG_TIME:
				if (parse_time(arg, 's', &it.secs) < 0 ||
				    it.secs < 0 || it.secs > 3600) {
					log_warn("%s: sleep: bad time \"%s\"",
					    title, arg);
					l->error = 1;
				}
				break;
			case ARG_ZONE:
				if (*arg == 0 || *arg == '=' ||
				    strchr(arg, ':')) {
					log_warn("%s: %s: bad DNS list "
					    "\"%s\"", title, tok, arg);
					l->error = 1;
				}
				break;
			}
		}
		l->v = xreallocarray(l->v, l->n + 1, sizeof(*l->v));
		l->v[l->n++] = it;
	}
	if (err) {
		log_warn("%s: syntax error (unbalanced braces)", title);
		l->error = 1;
	}
	free(copy);
	return l;
}

/* ck_list_parse - public wrapper of ck_parse */
struct ck_list *
ck_list_parse(const char *title, const char *spec, int dynamic)
{
	return ck_parse(title, spec, dynamic);
}

/* ck_list_error - did the list have a configuration error? */
int
ck_list_error(const struct ck_list *l)
{
	return l->error;
}

/* ck_list_size - number of restrictions */
size_t
ck_list_size(const struct ck_list *l)
{
	return l->n;
}

/* ck_list_free - release a list (tables and policy clients stay cached) */
void
ck_list_free(struct ck_list *l)
{
	size_t i;

	if (l == NULL)
		return;
	for (i = 0; i < l->n; i++) {
		free(l->v[i].name);
		free(l->v[i].arg);
	}
	free(l->v);
	free(l->title);
	free(l);
}

/*
 * ck_has_required - can the list refuse relaying (contains reject,
 * defer, defer_if_permit, reject_ or defer_unauth_destination, directly
 * or through a restriction class)?
 */
static int
ck_has_required(const struct ck_list *l, int depth)
{
	size_t i;

	if (l == NULL || depth > CK_DEPTH_MAX)
		return 0;
	for (i = 0; i < l->n; i++) {
		if (l->v[i].rest && l->v[i].rest->required)
			return 1;
		if (l->v[i].op == OP_CLASS && ck_has_required(
		    htable_find(ck_classes, l->v[i].name), depth + 1))
			return 1;
	}
	return 0;
}

/* ck_free_list_value - htable destructor */
static void
ck_free_list_value(void *p)
{
	ck_list_free(p);
}

/* ck_free_maps_value - htable destructor */
static void
ck_free_maps_value(void *p)
{
	maps_free(p);
}

/* ck_done - release everything smtpd_check_init() made (tests) */
void
ck_done(void)
{
	ck_list_free(ck_client_list);
	ck_list_free(ck_helo_list);
	ck_list_free(ck_sender_list);
	ck_list_free(ck_relay_list);
	ck_list_free(ck_rcpt_list);
	ck_list_free(ck_data_list);
	ck_list_free(ck_eod_list);
	ck_client_list = ck_helo_list = ck_sender_list = ck_relay_list =
	    ck_rcpt_list = ck_data_list = ck_eod_list = NULL;
	if (ck_classes)
		htable_free(ck_classes, ck_free_list_value);
	ck_classes = NULL;
	if (ck_maps_cache)
		htable_free(ck_maps_cache, ck_free_maps_value);
	ck_maps_cache = NULL;
	match_list_free(ck_relay_domains);
	ck_relay_domains = NULL;
	if (ck_local_rcpt_maps)
		maps_free(ck_local_rcpt_maps);
	ck_local_rcpt_maps = NULL;
	if (ck_valias_maps)
		maps_free(ck_valias_maps);
	ck_valias_maps = NULL;
	if (ck_vmailbox_maps)
		maps_free(ck_vmailbox_maps);
	ck_vmailbox_maps = NULL;
	if (ck_login_maps)
		maps_free(ck_login_maps);
	ck_login_maps = NULL;
	if (ck_relay_ccerts)
		maps_free(ck_relay_ccerts);
	ck_relay_ccerts = NULL;
	ck_policy_close_all();
	ck_mynetworks_free();
	ck_initialized = 0;
}

/*
 * smtpd_check_init - parse every restriction list and open every table
 * (before the chroot).  Reads smtpd_cfg and, for restriction classes,
 * the global configuration.
 */
void
smtpd_check_init(void)
{
	const struct smtpd_cfg *c = &smtpd_cfg;
	char *copy, *cp, *tok;
	int flags;

	if (ck_initialized)
		ck_done();
	ck_initialized = 1;

	code_reject = ck_code(c->reject_code, 554);
	code_defer = ck_code(c->defer_code, 450);
	code_relay = ck_code(c->relay_domains_reject_code, 554);
	code_map_reject = ck_code(c->access_map_reject_code, 554);
	code_map_defer = ck_code(c->access_map_defer_code, 450);
	code_non_fqdn = ck_code(c->non_fqdn_reject_code, 504);
	code_bad_name = ck_code(c->invalid_hostname_reject_code, 501);
	code_unk_client = ck_code(c->unknown_client_reject_code, 450);
	code_unk_name = ck_code(c->unknown_hostname_reject_code, 450);
	code_unk_addr = ck_code(c->unknown_address_reject_code, 450);
	code_local_rcpt = ck_code(c->unknown_local_recipient_reject_code,
	    550);
	code_valias_rcpt = ck_code(c->unknown_virtual_alias_reject_code, 550);
	code_vmailbox_rcpt = ck_code(c->unknown_virtual_mailbox_reject_code,
	    550);
	code_rbl = ck_code(c->maps_rbl_reject_code, 554);
	code_mul_rcpt = ck_code(c->multi_recipient_bounce_reject_code, 550);
	act_unk_addr = ck_tempfail_action("unknown_address_tempfail_action",
	    c->unknown_address_tempfail_action && *c->
	    unknown_address_tempfail_action ? c->
	    unknown_address_tempfail_action : c->reject_tempfail_action);
	act_unk_name = ck_tempfail_action(
	    "unknown_helo_hostname_tempfail_action",
	    c->unknown_helo_hostname_tempfail_action && *c->
	    unknown_helo_hostname_tempfail_action ? c->
	    unknown_helo_hostname_tempfail_action : c->reject_tempfail_action);
	ck_access_parent = match_parent_style(
	    c->parent_domain_matches_subdomains, "smtpd_access_maps");

	/* Class names first, so that lists may name them. */
	ck_classes = htable_create(8);
	copy = xstrdup(c->smtpd_restriction_classes ? c->
	    smtpd_restriction_classes : "");
	cp = copy;
	while ((tok = str_token(&cp, SEPARATORS)) != NULL) {
		if (ck_find_rest(tok)) {
			log_warn("smtpd_restriction_classes: \"%s\" is the "
			    "name of a restriction", tok);
			continue;
		}
		if (htable_find(ck_classes, tok) == NULL)
			htable_enter(ck_classes, tok, ck_parse(tok, "", 1));
	}
	free(copy);
	copy = xstrdup(c->smtpd_restriction_classes ? c->
	    smtpd_restriction_classes : "");
	cp = copy;
	while ((tok = str_token(&cp, SEPARATORS)) != NULL) {
		struct hnode *h = htable_locate(ck_classes, tok);
		const char *def;

		if (h == NULL)
			continue;
		ck_list_free(h->value);
		def = mail_conf && conf_raw(mail_conf, tok) ?
		    conf_get(mail_conf, tok) : NULL;
		if (def == NULL || *def == 0) {
			log_warn("restriction class \"%s\" needs a definition",
			    tok);
			h->value = ck_parse(tok, "", 1);
			((struct ck_list *)h->value)->error = 1;
		} else {
			h->value = ck_parse(tok, def, 0);
		}
	}
	free(copy);

	ck_client_list = ck_parse("smtpd_client_restrictions",
	    c->smtpd_client_restrictions, 0);
	ck_helo_list = ck_parse("smtpd_helo_restrictions",
	    c->smtpd_helo_restrictions, 0);
	ck_sender_list = ck_parse("smtpd_sender_restrictions",
	    c->smtpd_sender_restrictions, 0);
	ck_relay_list = ck_parse("smtpd_relay_restrictions",
	    c->smtpd_relay_restrictions, 0);
	ck_rcpt_list = ck_parse("smtpd_recipient_restrictions",
	    c->smtpd_recipient_restrictions, 0);
	ck_data_list = ck_parse("smtpd_data_restrictions",
	    c->smtpd_data_restrictions, 0);
	ck_eod_list = ck_parse("smtpd_end_of_data_restrictions",
	    c->smtpd_end_of_data_restrictions, 0);

	ck_relay_safe = ck_has_required(ck_relay_list, 0) ||
	    ck_has_required(ck_rcpt_list, 0);
	if (!ck_relay_safe)
		log_warn("in parameter smtpd_relay_restrictions or "
		    "smtpd_recipient_restrictions, specify at least one "
		    "working instance of: reject_unauth_destination, "
		    "defer_unauth_destination, reject, defer or "
		    "defer_if_permit; until then every recipient is "
		    "refused with \"451 4.3.5 Server configuration problem\"");

	flags = match_parent_style(c->parent_domain_matches_subdomains,
	    "relay_domains") ? MATCH_FLAG_PARENT : 0;
	ck_relay_domains = match_list_new_flags("relay_domains",
	    c->relay_domains, flags);
	ck_local_rcpt_maps = maps_open("local_recipient_maps",
	    c->local_recipient_maps ? c->local_recipient_maps : "",
	    DICT_FLAG_FOLD_FIX);
	ck_valias_maps = maps_open("virtual_alias_maps",
	    mail_cfg.virtual_alias_maps ? mail_cfg.virtual_alias_maps : "",
	    DICT_FLAG_FOLD_FIX);
	ck_vmailbox_maps = maps_open("virtual_mailbox_maps",
	    mail_cfg.virtual_mailbox_maps ? mail_cfg.virtual_mailbox_maps : "",
	    DICT_FLAG_FOLD_FIX);
	ck_login_maps = maps_open("smtpd_sender_login_maps",
	    c->smtpd_sender_login_maps ? c->smtpd_sender_login_maps : "",
	    DICT_FLAG_FOLD_FIX);
	ck_relay_ccerts = maps_open("relay_clientcerts",
	    c->relay_clientcerts ? c->relay_clientcerts : "",
	    DICT_FLAG_FOLD_FIX);
	ck_mynetworks_init();
}

/* ck_where - the SMTP command of this evaluation, for logs */
static const char *
ck_where(const struct smtpd_state *st, const char *def)
{
	return st->last_cmd && *st->last_cmd ? st->last_cmd : def;
}

/*
 * ck_log - "QUEUEID: action: WHERE from name[addr]: text; from=<s>
 * to=<r> proto=P helo=<h>", Postfix's format for access decisions.
 */
void
ck_log(struct ck_ctx *c, const char *action, const char *text)
{
	const struct smtpd_state *st = c->st;
	struct buf b = BUF_INIT;

	buf_printf(&b, "%s: %s: %s from %s: %s;",
	    st->queue_id[0] ? st->queue_id : "NOQUEUE", action, c->where,
	    st->namaddr, text);
	if (st->sender)
		buf_printf(&b, " from=<%s>", st->sender);
	if (st->recipient)
		buf_printf(&b, " to=<%s>", st->recipient);
	buf_printf(&b, " proto=%s", smtpd_protocol(st));
	if (st->helo_name)
		buf_printf(&b, " helo=<%s>", st->helo_name);
	log_info("%s", buf_str(&b));
	buf_free(&b);
}

/*
 * ck_dsn_fix - make an enhanced status code agree with the reply code
 * (class digit) and with what the reply is about: address codes X.1.Y
 * become sender codes in sender replies, recipient codes in recipient
 * replies, and X.0.0 in replies about other things (client, HELO, DATA).
 */
void
ck_dsn_fix(char *dsn, int code, const char *class)
{
	int subject, detail;

	dsn[0] = (char)('0' + code / 100);
	if (sscanf(dsn + 2, "%d.%d", &subject, &detail) != 2 || subject != 1)
		return;
	if (class == NULL)
		return;
	if (strcmp(class, CK_CLASS_SENDER) == 0) {
		switch (detail) {
		case 1: case 3: case 4: case 6:
			detail = 7;
			break;
		case 2:
			detail = 8;
			break;
		case 5:
			detail = 0;
			break;
		}
	} else if (strcmp(class, CK_CLASS_RCPT) == 0) {
		if (detail == 7)
			detail = 1;
		else if (detail == 8)
			detail = 2;
	} else {
		subject = detail = 0;
	}
	snprintf(dsn + 2, 12, "%d.%d", subject, detail);
}

/* ck_dsn_number - 1-3 digits without a leading zero; their count or 0 */
static size_t
ck_dsn_number(const char *s)
{
	size_t k;

	for (k = 0; k < 4 && isdigit((unsigned char)s[k]); k++)
		;
	if (k == 0 || k > 3 || (s[0] == '0' && k > 1))
		return 0;
	return k;
}

/*
 * ck_dsn_len - the length of an RFC 3463 status code at the start of s
 * ("5.7.1", class 2, 4 or 5, as Postfix's dsn_valid()) followed by white
 * space or the end, or 0.
 */
size_t
ck_dsn_len(const char *s)
{
	size_t n, k;

	if ((s[0] != '2' && s[0] != '4' && s[0] != '5') || s[1] != '.')
		return 0;
	n = 2;
	if ((k = ck_dsn_number(s + n)) == 0 || s[n + k] != '.')
		return 0;
	n += k + 1;
	if ((k = ck_dsn_number(s + n)) == 0)
		return 0;
	n += k;
	if (s[n] != 0 && !isspace((unsigned char)s[n]))
		return 0;
	return n;
}

/*
 * ck_dsn_split - an access table or DNS list text may start with its own
 * status code ("REJECT 5.7.9 go away"): copy it to dsn (or def when there
 * is none) and return the text after it.  The reply code's class digit
 * wins later (ck_dsn_fix), as in Postfix.
 */
const char *
ck_dsn_split(const char *text, const char *def, char *dsn, size_t dsnlen)
{
	size_t n = ck_dsn_len(text);

	if (n == 0 || n >= dsnlen) {
		strlcpy_trunc(dsn, def, dsnlen);
		return text;
	}
	memcpy(dsn, text, n);
	dsn[n] = 0;
	text += n;
	while (isspace((unsigned char)*text))
		text++;
	return text;
}

static void ck_vformat(char *, size_t, int, const char *, const char *,
	    const char *, va_list) __attribute__((format(printf, 6, 0)));

/* ck_vformat - the reply "CODE DSN text", text bounded */
static void
ck_vformat(char *out, size_t outlen, int code, const char *dsn,
    const char *class, const char *fmt, va_list ap)
{
	char text[CK_REPLY_MAX + 1], d[16];
	size_t i;

	vsnprintf(text, sizeof(text), fmt, ap);
	for (i = 0; text[i]; i++)
		if (text[i] == '\r' || text[i] == '\n')
			text[i] = ' ';
	if (ck_dsn_len(dsn) == 0 || ck_dsn_len(dsn) >= sizeof(d))
		dsn = code / 100 == 4 ? "4.7.1" : "5.7.1";
	strlcpy_trunc(d, dsn, sizeof(d));
	ck_dsn_fix(d, code, class);
	snprintf(out, outlen, "%d %s %s", code, d, text);
}

/*
 * ck_reject - the restriction matched: under warn_if_reject log
 * "reject_warning:" and go on (CK_DUNNO); otherwise, unless an earlier
 * defer_if_reject turns a 5xx into its 4xx, fill st->check_reply, log
 * "reject:" and return CK_REJECT.
 */
int
ck_reject(struct ck_ctx *c, const char *class, int code, const char *dsn,
    const char *fmt, ...)
{
	char reply[CK_REPLY_MAX + 64];
	va_list ap;

	if (smtpd_cfg.soft_bounce && code / 100 == 5)
		code -= 100;
	va_start(ap, fmt);
	ck_vformat(reply, sizeof(reply), code, dsn, class, fmt, ap);
	va_end(ap);
	if (c->warn) {
		ck_log(c, "reject_warning", reply);
		return CK_DUNNO;
	}
	if (c->dir.active && reply[0] == '5')
		strlcpy_trunc(reply, c->dir.reply, sizeof(reply));
	buf_sets(&c->st->check_reply, reply);
	ck_log(c, "reject", reply);
	return CK_REJECT;
}

/*
 * ck_defer_if - raise defer_if_permit or defer_if_reject with its reply
 * (the first one raised keeps its reply).  Returns CK_DUNNO.
 */
int
ck_defer_if(struct ck_ctx *c, struct ck_defer *d, int code,
    const char *dsn, const char *fmt, ...)
{
	va_list ap;

	if (d->active)
		return CK_DUNNO;
	va_start(ap, fmt);
	ck_vformat(d->reply, sizeof(d->reply), code, dsn, NULL, fmt, ap);
	va_end(ap);
	d->active = 1;
	(void)c;
	return CK_DUNNO;
}

/*
 * ck_defer_if_permit - a reject-type restriction failed temporarily:
 * with action 1 (defer_if_permit) and no warn_if_reject, defer only if
 * the request would otherwise be accepted; else reject now (4xx).
 */
int
ck_defer_if_permit(struct ck_ctx *c, int action, const char *class,
    int code, const char *dsn, const char *fmt, ...)
{
	char text[CK_REPLY_MAX + 1];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	if (action && !c->warn)
		return ck_defer_if(c, &c->dip, code, dsn, "%s", text);
	return ck_reject(c, class, code, dsn, "%s", text);
}

/*
 * ck_final - a reply that ends the whole check, whatever warn_if_reject
 * says: configuration errors and temporary lookup failures.
 */
static int
ck_final(struct ck_ctx *c, const char *reply)
{
	buf_sets(&c->st->check_reply, reply);
	ck_log(c, "reject", reply);
	c->fatal = 1;
	return CK_REJECT;
}

/* ck_server_error - "451 4.3.5 Server configuration error" */
int
ck_server_error(struct ck_ctx *c, const char *why)
{
	if (why)
		log_warn("%s", why);
	return ck_final(c, "451 4.3.5 Server configuration error");
}

/* ck_temp_failure - a table failed: "451 4.3.0 <name>: Temporary ..." */
int
ck_temp_failure(struct ck_ctx *c, const char *name)
{
	char reply[CK_REPLY_MAX + 64];

	snprintf(reply, sizeof(reply), "451 4.3.0 <%s>: Temporary lookup "
	    "failure", name);
	return ck_final(c, reply);
}

/*
 * ck_resolve - ask trivial-rewrite where an address goes; a failure is
 * answered with a temporary error (and returns -1).
 */
int
ck_resolve(struct ck_ctx *c, const char *addr, struct resolve_reply *rr)
{
	struct buf why = BUF_INIT;
	const char *sender = c->st->sender ? c->st->sender : "";

	if (ck_resolve_hook(sender, addr, rr, &why) < 0 ||
	    (rr->flags & RESOLVE_FLAG_ERROR)) {
		log_warn("resolve %s: %s", addr, why.len ? buf_str(&why) :
		    "address resolver failure");
		buf_free(&why);
		ck_temp_failure(c, addr);
		return -1;
	}
	buf_free(&why);
	return 0;
}

#define CK_FINAL_CLASS	(RESOLVE_CLASS_LOCAL | RESOLVE_CLASS_ALIAS | \
			 RESOLVE_CLASS_VIRTUAL)

/*
 * ck_routed_local - does the local part of a resolved address hold a
 * routing operator ("user@elsewhere@relay.example", "user%elsewhere@...",
 * "elsewhere!user@...")?  Postfix's resolver flags these for non-final
 * destinations whatever swap_bangpath and percent_hack say, because the
 * next hop may honour them.
 */
static int
ck_routed_local(const char *addr)
{
	const char *at = strrchr(addr, '@');
	size_t n = at ? (size_t)(at - addr) : strlen(addr);

	return strcspn(addr, "@!%") < n;
}

/*
 * ck_auth_dest - is mail to rcpt for a destination this server may
 * accept from anyone: a final destination, or a domain in relay_domains,
 * and no sender-specified routing?  1 yes, 0 no, -1 failed (the reply is
 * set).
 */
static int
ck_auth_dest(struct ck_ctx *c, const char *rcpt)
{
	struct resolve_reply rr;
	struct buf why = BUF_INIT;
	int r = 0, m;

	resolve_reply_init(&rr);
	if (ck_resolve(c, rcpt, &rr) < 0) {
		r = -1;
	} else if (rr.flags & RESOLVE_FLAG_ROUTED) {
		r = 0;
	} else if (!(rr.flags & CK_FINAL_CLASS) &&
	    ck_routed_local(buf_str(&rr.recipient))) {
		/* XXX trivial-rewrite should set RESOLVE_FLAG_ROUTED here. */
		r = 0;
	} else if (rr.flags & CK_FINAL_CLASS) {
		r = 1;
	} else if ((m = match_list_domain(ck_relay_domains,
	    addr_domain(buf_str(&rr.recipient)), &why)) < 0) {
		log_warn("%s", buf_str(&why));
		ck_temp_failure(c, rcpt);
		r = -1;
	} else {
		r = m;
	}
	resolve_reply_free(&rr);
	buf_free(&why);
	return r;
}

/* ck_match_left - is addr "name@..." (case-insensitive)? */
static int
ck_match_left(const char *name, const char *addr)
{
	size_t n = strlen(name);

	return n > 0 && strncasecmp(name, addr, n) == 0 && addr[n] == '@';
}

/*
 * ck_addr_find - addr in maps (addr_find(3) order; the local-part keys
 * only for a local domain): DICT_FOUND, DICT_NOTFOUND, or DICT_ERROR
 * (logged).  An empty or missing list finds nothing.
 */
static int
ck_addr_find(struct maps *m, const char *addr, int local)
{
	struct buf val = BUF_INIT, why = BUF_INIT;
	int r = DICT_NOTFOUND;

	if (m != NULL && !maps_empty(m)) {
		r = addr_find(m, addr, local ? ADDR_FIND_LOCAL_USER : 0, &val,
		    NULL, &why);
		if (r == DICT_ERROR)
			log_warn("%s", buf_str(&why));
	}
	buf_free(&val);
	buf_free(&why);
	return r;
}

/*
 * ck_rcpt_maps - is the address (a recipient, or a sender with class
 * Sender address) known?  As in Postfix: an address that
 * virtual_alias_maps knows is; then by address class, a local address
 * must be in local_recipient_maps (when that is not empty), a virtual
 * mailbox address in virtual_mailbox_maps (when that is not empty), and
 * a virtual alias address is unknown (cleanup would have replaced it).
 * Keys: the address, without its extension, for local domains the local
 * part with and without extension, "@domain".  postmaster,
 * MAILER-DAEMON and the double-bounce sender of local domains are always
 * known.
 */
static int
ck_rcpt_maps(struct ck_ctx *c, const char *addr, const char *class)
{
	struct resolve_reply rr;
	const char *canon, *table = NULL, *dsn;
	int status = CK_DUNNO, r, local, code = code_local_rcpt;

	resolve_reply_init(&rr);
	if (ck_resolve(c, addr, &rr) < 0) {
		resolve_reply_free(&rr);
		return CK_REJECT;
	}
	canon = buf_str(&rr.recipient);
	local = (rr.flags & RESOLVE_CLASS_LOCAL) != 0;
	if (rr.flags & RESOLVE_FLAG_RELOCATED) {
		/* trivial-rewrite found the user in relocated_maps. */
		const char *text = buf_str(&rr.nexthop);

		if (strncmp(text, "5.1.6 ", 6) == 0)
			text += 6;
		status = ck_reject(c, class, 550, "5.1.6", "<%s>: %s rejected: "
		    "%s", addr, class, text);
		goto out;
	}
	if (!(rr.flags & CK_FINAL_CLASS) || (local &&
	    (ck_match_left(mail_cfg.double_bounce_sender ?
	    mail_cfg.double_bounce_sender : "double-bounce", canon) ||
	    ck_match_left("postmaster", canon) ||
	    ck_match_left("MAILER-DAEMON", canon))))
		goto out;
	if ((r = ck_addr_find(ck_valias_maps, canon, local)) == DICT_FOUND)
		goto out;
	if (r == DICT_NOTFOUND) {
		if (rr.flags & RESOLVE_CLASS_ALIAS) {
			table = "virtual alias table";
			code = code_valias_rcpt;
		} else if (rr.flags & RESOLVE_CLASS_VIRTUAL) {
			if (ck_vmailbox_maps && !maps_empty(ck_vmailbox_maps)) {
				r = ck_addr_find(ck_vmailbox_maps, canon, 0);
				table = "virtual mailbox table";
				code = code_vmailbox_rcpt;
			}
		} else if (ck_local_rcpt_maps &&
		    !maps_empty(ck_local_rcpt_maps)) {
			r = ck_addr_find(ck_local_rcpt_maps, canon, 1);
			table = "local recipient table";
		}
	}
	if (r == DICT_ERROR) {
		status = ck_temp_failure(c, addr);
	} else if (r == DICT_NOTFOUND && table != NULL) {
		dsn = strcmp(class, CK_CLASS_SENDER) == 0 ? "5.1.0" : "5.1.1";
		status = ck_reject(c, class, code, dsn,
		    "<%s>: %s rejected: User unknown%s%s", addr, class,
		    smtpd_cfg.show_user_unknown_table_name ? " in " : "",
		    smtpd_cfg.show_user_unknown_table_name ? table : "");
	}
out:
	resolve_reply_free(&rr);
	return status;
}

/* ck_valid_label_char - may c appear in a host name label? */
static int
ck_valid_label_char(int c)
{
	return isalnum(c) || c == '-' || c == '_';
}

/*
 * ck_valid_hostname - a syntactically valid host name: at most 255
 * bytes, labels of 1-63 letters, digits, '-' (not first or last) and
 * '_', and not all-numeric (that would be an address).
 */
int
ck_valid_hostname(const char *name)
{
	size_t len = strlen(name), label = 0, i;
	int alldigit = 1;

	if (len == 0 || len > 255)
		return 0;
	for (i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)name[i];

		if (ch == '.') {
			if (label == 0 || name[i - 1] == '-')
				return 0;
			label = 0;
			continue;
		}
		if (!ck_valid_label_char(ch) || ch >= 0x80)
			return 0;
		if (ch == '-' && label == 0)
			return 0;
		if (!isdigit(ch))
			alldigit = 0;
		if (++label > 63)
			return 0;
	}
	if (label == 0 || name[len - 1] == '-')
		return 0;
	return !alldigit;
}

/* ck_valid_hostliteral - "[a.b.c.d]" or "[IPv6:...]" */
int
ck_valid_hostliteral(const char *name)
{
	struct match_net n;
	size_t len = strlen(name);

	if (len < 3 || name[0] != '[' || name[len - 1] != ']')
		return 0;
	if (strchr(name, ':') && !str_caseprefix(name + 1, "IPv6:"))
		return 0;
	return match_addr_parse(name, &n) == 0;
}

/* ck_trim_dot - copy of name without one trailing dot ("a.b." -> "a.b") */
static void
ck_trim_dot(const char *name, char *out, size_t outlen)
{
	size_t len;

	strlcpy_trunc(out, name, outlen);
	len = strlen(out);
	if (len > 1 && out[len - 1] == '.' && out[len - 2] != '.')
		out[len - 1] = 0;
}

/* ck_non_fqdn_addr - reject an address whose domain is not an FQDN */
static int
ck_non_fqdn_addr(struct ck_ctx *c, const char *addr, const char *class)
{
	const char *dom = addr_domain(addr);
	char test[300];
	size_t len = strlen(dom);

	if (len > 1 && dom[0] == '[' && dom[len - 1] == ']')
		return CK_DUNNO;
	ck_trim_dot(dom, test, sizeof(test));
	if (*test == 0 || !ck_valid_hostname(test) || !strchr(test, '.'))
		return ck_reject(c, class, code_non_fqdn, "4.5.2",
		    "<%s>: %s rejected: need fully-qualified address", addr,
		    class);
	return CK_DUNNO;
}

/*
 * ck_invalid_hostaddr - reject a malformed address literal ("[1.2.3.4]",
 * "[IPv6:...]") given as a HELO name; Postfix's words and 501.
 */
int
ck_invalid_hostaddr(struct ck_ctx *c, const char *helo, const char *class)
{
	if (!ck_valid_hostliteral(helo))
		return ck_reject(c, class, code_bad_name, "5.5.2",
		    "<%s>: %s rejected: invalid ip address", helo, class);
	return CK_DUNNO;
}

/* ck_is_hostaddr - a bare IPv4 or IPv6 address (no brackets)? */
static int
ck_is_hostaddr(const char *name)
{
	unsigned char a[16];

	return inet_pton(AF_INET, name, a) == 1 ||
	    inet_pton(AF_INET6, name, a) == 1;
}

/* ck_non_fqdn_helo - reject a HELO name that is not an FQDN */
static int
ck_non_fqdn_helo(struct ck_ctx *c, const char *helo)
{
	char test[300];

	if (helo[0] == '[')
		return ck_invalid_hostaddr(c, helo, CK_CLASS_HELO);
	ck_trim_dot(helo, test, sizeof(test));
	if (!ck_valid_hostname(test) || !strchr(test, '.'))
		return ck_reject(c, CK_CLASS_HELO, code_non_fqdn, "4.5.2",
		    "<%s>: %s rejected: need fully-qualified hostname", helo,
		    CK_CLASS_HELO);
	return CK_DUNNO;
}

/* ck_invalid_helo - reject a malformed HELO name or address literal */
static int
ck_invalid_helo(struct ck_ctx *c, const char *helo)
{
	char test[300];

	if (helo[0] == '[')
		return ck_invalid_hostaddr(c, helo, CK_CLASS_HELO);
	ck_trim_dot(helo, test, sizeof(test));
	/* A bare address passes, as in Postfix (backwards compatibility). */
	if (!ck_valid_hostname(test) && !ck_is_hostaddr(test))
		return ck_reject(c, CK_CLASS_HELO, code_bad_name, "4.5.2",
		    "<%s>: %s rejected: Invalid name", helo, CK_CLASS_HELO);
	return CK_DUNNO;
}

/*
 * ck_unknown_client - reject a client whose name is unknown; reverse:
 * the reverse (PTR) name only, else the verified name.  A temporary
 * lookup failure always gives 450.
 */
static int
ck_unknown_client(struct ck_ctx *c, int reverse)
{
	const struct smtpd_state *st = c->st;
	const char *name = reverse ? st->reverse_name : st->client_name;
	int status = reverse ? st->reverse_name_status : st->name_status;

	if (st->client_family != 0 && st->client_addr[0] == 0)
		return CK_DUNNO;	/* not a network client */
	if (status == SMTPD_PEER_OK && (name[0] == 0 ||
	    strcasecmp(name, "unknown") == 0))
		status = SMTPD_PEER_PERM;
	if (status == SMTPD_PEER_OK)
		return CK_DUNNO;
	if (reverse)
		return ck_reject(c, CK_CLASS_CLIENT, status == SMTPD_PEER_PERM ?
		    code_unk_client : 450, "4.7.1", "Client host rejected: "
		    "cannot find your reverse hostname, [%s]", st->client_addr);
	return ck_reject(c, CK_CLASS_CLIENT, status == SMTPD_PEER_PERM ?
	    code_unk_client : 450, "4.7.25", "Client host rejected: "
	    "cannot find your hostname, [%s]", st->client_addr);
}

/*
 * ck_unauth_pipelining - did the client send commands ahead of time
 * where it may not: before the greeting, after HELO/EHLO or DATA, or at
 * all without having said EHLO?
 */
static int
ck_unauth_pipelining(struct ck_ctx *c, const char *name, const char *class)
{
	struct smtpd_state *st = c->st;
	int bad = st->ill_pipelining;

	/*
	 * A BDAT chunk follows its command at once (RFC 3030): that data
	 * pending is not a command sent ahead of time.
	 */
	if (!bad && st->s && !st->standalone && !(st->last_cmd &&
	    strcmp(st->last_cmd, "BDAT") == 0) && smtpd_input_pending(st) > 0)
		bad = !st->pipelining || strcmp(c->where, "CONNECT") == 0 ||
		    strcmp(c->where, "DATA") == 0 ||
		    strcmp(c->where, "HELO") == 0 ||
		    strcmp(c->where, "EHLO") == 0;
	if (bad)
		return ck_reject(c, class, 503, "5.5.0", "<%s>: %s rejected: "
		    "Improper use of SMTP command pipelining", name, class);
	return CK_DUNNO;
}

/* ck_rcpt_count - recipients of this transaction so far */
static size_t
ck_rcpt_count(const struct smtpd_state *st)
{
	return st->rcpts.n;
}

/*
 * ck_login_owners - who owns sender according to smtpd_sender_login_maps
 * (the canonical address with addr_find(3)'s keys: address, without
 * extension, the local part for a local domain, "@domain")?  Returns
 * 1 with the list in owners, 0 when the address has no owner, -1 when
 * a lookup failed (the reply is set).
 */
static int
ck_login_owners(struct ck_ctx *c, const char *sender, struct buf *owners)
{
	struct resolve_reply rr;
	struct buf why = BUF_INIT;
	const char *canon;
	int r;

	if (ck_login_maps == NULL || maps_empty(ck_login_maps))
		return 0;
	resolve_reply_init(&rr);
	if (ck_resolve(c, sender, &rr) < 0) {
		resolve_reply_free(&rr);
		return -1;
	}
	canon = buf_str(&rr.recipient);
	if (*canon == 0)
		canon = sender;
	r = addr_find(ck_login_maps, canon, (rr.flags & RESOLVE_CLASS_LOCAL) ?
	    ADDR_FIND_LOCAL_USER : 0, owners, NULL, &why);
	resolve_reply_free(&rr);
	if (r == DICT_ERROR) {
		log_warn("%s", buf_str(&why));
		buf_free(&why);
		ck_temp_failure(c, sender);
		return -1;
	}
	buf_free(&why);
	return r == DICT_FOUND;
}

/* ck_login_listed - is login among the owners (comma/space list)? */
static int
ck_login_listed(const char *owners, const char *login)
{
	size_t n = strlen(login);

	while (*owners) {
		size_t w;

		owners += strspn(owners, SEPARATORS);
		w = strcspn(owners, SEPARATORS);
		if (w == n && strncasecmp(owners, login, n) == 0)
			return 1;
		owners += w;
	}
	return 0;
}

/*
 * ck_login_mismatch - reject_*_sender_login_mismatch, as Postfix:
 * "authenticated": a logged-in client must own the sender (with
 * allow_unknown, a sender without owner passes); "unauthenticated": a
 * client that is not logged in may not use a sender that has an owner.
 */
static int
ck_login_mismatch(struct ck_ctx *c, int auth, int unauth, int allow_unknown)
{
	struct smtpd_state *st = c->st;
	const char *sender = st->sender, *user = st->sasl_username;
	struct buf owners = BUF_INIT;
	int r, status = CK_DUNNO;

	if (sender == NULL || *sender == 0)
		return CK_DUNNO;
	if (user != NULL && auth) {
		if ((r = ck_login_owners(c, sender, &owners)) < 0)
			status = CK_REJECT;
		else if ((r == 1 && !ck_login_listed(buf_str(&owners), user)) ||
		    (r == 0 && !allow_unknown))
			status = ck_reject(c, CK_CLASS_SENDER, 553, "5.7.1",
			    "<%s>: Sender address rejected: not owned by user "
			    "%s", sender, user);
	} else if (user == NULL && unauth) {
		if ((r = ck_login_owners(c, sender, &owners)) < 0)
			status = CK_REJECT;
		else if (r == 1)
			status = ck_reject(c, CK_CLASS_SENDER, 553, "5.7.1",
			    "<%s>: Sender address rejected: not logged in",
			    sender);
	}
	buf_free(&owners);
	return status;
}

/*
 * ck_ccert_missing - permit_tls_*clientcerts without a certificate: warn
 * once per process when smtpd never asks for one
 */
static void
ck_ccert_missing(const char *name)
{
	static int warned;

	if (!smtpd_cfg.smtpd_tls_ask_ccert && !smtpd_cfg.smtpd_tls_req_ccert &&
	    !warned) {
		log_warn("%s is requested, but \"smtpd_tls_ask_ccert = no\": "
		    "no client certificate is ever asked for", name);
		warned = 1;
	}
}

/*
 * ck_tls_clientcerts - permit_tls_all_clientcerts: any client
 * certificate whose chain verified against smtpd_tls_CAfile/CApath;
 * permit_tls_clientcerts: a certificate (verified or not: the
 * fingerprint itself is the credential) whose fingerprint or public key
 * fingerprint is a key of relay_clientcerts.  A table that fails is a
 * temporary failure for name, the subject of the restriction list.
 */
static int
ck_tls_clientcerts(struct ck_ctx *c, int all, const char *name)
{
	const struct tls_sess *ts = c->st->tls_active ? c->st->tls : NULL;
	const char *prints[2];
	struct buf val = BUF_INIT, why = BUF_INIT;
	int i, r = DICT_NOTFOUND;

	if (ts == NULL)
		return CK_DUNNO;
	if (!ts->peer_cert) {
		ck_ccert_missing(all ? "permit_tls_all_clientcerts" :
		    "permit_tls_clientcerts");
		return CK_DUNNO;
	}
	if (all)
		return ts->chain_ok ? CK_OK : CK_DUNNO;
	prints[0] = ts->peer_fpt;
	prints[1] = ts->peer_pkey_fpt;
	for (i = 0; i < 2 && r == DICT_NOTFOUND; i++) {
		if (*prints[i] == 0)
			continue;
		buf_reset(&why);
		r = maps_find(ck_relay_ccerts, prints[i], &val, &why);
	}
	if (r == DICT_ERROR)
		log_warn("relay_clientcerts: lookup error for fingerprint %s, "
		    "pkey_fingerprint %s: %s", prints[0], prints[1],
		    buf_str(&why));
	buf_free(&val);
	buf_free(&why);
	if (r == DICT_ERROR)
		return ck_temp_failure(c, name);
	return r == DICT_FOUND ? CK_OK : CK_DUNNO;
}

/* ck_one - evaluate one restriction */
static int
ck_one(struct ck_ctx *c, const struct ck_item *it, const char *name,
    const char *class)
{
	struct smtpd_state *st = c->st;
	const char *sender = st->sender, *rcpt = st->recipient;
	const char *helo = st->helo_name;
	int r;

	switch (it->op) {
	case OP_PERMIT:
		return CK_OK;
	case OP_REJECT:
		return ck_reject(c, class, code_reject, "5.7.1",
		    "<%s>: %s rejected: Access denied", name, class);
	case OP_DEFER:
		return ck_reject(c, class, code_defer, "4.3.2",
		    "<%s>: %s rejected: Try again later", name, class);
	case OP_DEFER_IF_PERMIT:
		return ck_defer_if_permit(c, 1, class, 450, "4.7.0",
		    "<%s>: %s rejected: defer_if_permit requested", name,
		    class);
	case OP_DEFER_IF_REJECT:
		return ck_defer_if(c, &c->dir, 450, "4.7.0",
		    "<%s>: %s rejected: defer_if_reject requested", name,
		    class);
	case OP_WARN_IF_REJECT:
		return CK_DUNNO;	/* handled by ck_generic() */
	case OP_PERMIT_MYNETWORKS:
		/* Postfix names the subject of the list, as for tables. */
		if ((r = ck_mynetworks(c)) < 0)
			return ck_temp_failure(c, name);
		return r ? CK_OK : CK_DUNNO;
	case OP_SASL_AUTH:
		/* As in Postfix, an ANONYMOUS login is no authentication. */
		return st->sasl_username && st->sasl_method &&
		    strcasecmp(st->sasl_method, "ANONYMOUS") != 0 ? CK_OK :
		    CK_DUNNO;
	case OP_LOGIN_MISMATCH:
		return ck_login_mismatch(c, 1, 1, 0);
	case OP_AUTH_LOGIN_MISMATCH:
		return ck_login_mismatch(c, 1, 0, 0);
	case OP_KNOWN_LOGIN_MISMATCH:
		return ck_login_mismatch(c, 1, 1, 1);
	case OP_UNAUTH_LOGIN_MISMATCH:
		return ck_login_mismatch(c, 0, 1, 0);
	case OP_CHECK_SASL:
		if (st->sasl_username == NULL || *st->sasl_username == 0)
			return CK_DUNNO;
		return ck_access_mail(c, it->maps, it->arg, st->sasl_username,
		    st->sasl_username, CK_CLASS_SASL);
	case OP_TLS_ALL_CLIENTCERTS:
	case OP_TLS_CLIENTCERTS:
		return ck_tls_clientcerts(c, it->op == OP_TLS_ALL_CLIENTCERTS,
		    name);
	case OP_CHECK_CCERT:
		if (!st->tls_active || st->tls == NULL || !st->tls->peer_cert)
			return CK_DUNNO;
		return ck_access_ccert(c, it->maps, it->arg, st->tls->peer_fpt,
		    st->tls->peer_pkey_fpt, st->tls->peer_cn);
	case OP_REJECT_UNAUTH_DEST:
	case OP_DEFER_UNAUTH_DEST:
	case OP_PERMIT_AUTH_DEST:
		if (rcpt == NULL)
			return CK_DUNNO;
		if ((r = ck_auth_dest(c, rcpt)) < 0)
			return CK_REJECT;
		if (it->op == OP_PERMIT_AUTH_DEST)
			return r ? CK_OK : CK_DUNNO;
		if (r)
			return CK_DUNNO;
		if (it->op == OP_REJECT_UNAUTH_DEST)
			return ck_reject(c, CK_CLASS_RCPT, code_relay, "5.7.1",
			    "<%s>: Relay access denied", rcpt);
		return ck_reject(c, CK_CLASS_RCPT, code_relay - 100, "4.7.1",
		    "<%s>: Relay access denied", rcpt);
	case OP_UNLISTED_RCPT:
		if (rcpt == NULL || c->rcpt_checked)
			return CK_DUNNO;
		if (!c->warn)
			c->rcpt_checked = 1;
		return ck_rcpt_maps(c, rcpt, CK_CLASS_RCPT);
	case OP_UNLISTED_SENDER:
		if (sender == NULL || *sender == 0)
			return CK_DUNNO;
		return ck_rcpt_maps(c, sender, CK_CLASS_SENDER);
	case OP_NON_FQDN_SENDER:
		if (sender == NULL || *sender == 0)
			return CK_DUNNO;
		return ck_non_fqdn_addr(c, sender, CK_CLASS_SENDER);
	case OP_NON_FQDN_RCPT:
		if (rcpt == NULL || *rcpt == 0)
			return CK_DUNNO;
		return ck_non_fqdn_addr(c, rcpt, CK_CLASS_RCPT);
	case OP_NON_FQDN_HELO:
		return helo ? ck_non_fqdn_helo(c, helo) : CK_DUNNO;
	case OP_INVALID_HELO:
		return helo ? ck_invalid_helo(c, helo) : CK_DUNNO;
	case OP_UNKNOWN_HELO:
		return helo ? ck_unknown_helo(c, helo, helo, CK_CLASS_HELO) :
		    CK_DUNNO;
	case OP_UNKNOWN_SENDER_DOMAIN:
		if (sender == NULL || *sender == 0)
			return CK_DUNNO;
		return ck_unknown_address(c, sender, sender, CK_CLASS_SENDER);
	case OP_UNKNOWN_RCPT_DOMAIN:
		if (rcpt == NULL || *rcpt == 0)
			return CK_DUNNO;
		return ck_unknown_address(c, rcpt, rcpt, CK_CLASS_RCPT);
	case OP_UNKNOWN_CLIENT:
		return ck_unknown_client(c, 0);
	case OP_UNKNOWN_REVERSE:
		return ck_unknown_client(c, 1);
	case OP_CHECK_CLIENT:
		return ck_access_client(c, it->maps, it->arg, st->client_name,
		    st->client_addr, st->namaddr, CK_CLASS_CLIENT);
	case OP_CHECK_REVERSE:
		r = ck_access_client(c, it->maps, it->arg, st->reverse_name,
		    st->client_addr, st->reverse_name, CK_CLASS_REVERSE);
		/*
		 * Anyone can choose the PTR name of their own address: it
		 * may refuse, never permit (Postfix's forbid_allowlist).
		 */
		if (r == CK_OK && !st->discard) {
			log_warn("restriction %s returns OK for %s",
			    it->name, st->reverse_name);
			log_warn("this is not allowed for security reasons");
			return ck_server_error(c, "use DUNNO instead of OK if "
			    "you want to make an exception");
		}
		return r;
	case OP_CHECK_HELO:
		if (helo == NULL)
			return CK_DUNNO;
		return ck_access_domain(c, it->maps, it->arg, helo, helo,
		    CK_CLASS_HELO, 0);
	case OP_CHECK_SENDER:
		if (sender == NULL)
			return CK_DUNNO;
		return ck_access_mail(c, it->maps, it->arg, sender, sender,
		    CK_CLASS_SENDER);
	case OP_CHECK_RCPT:
		if (rcpt == NULL)
			return CK_DUNNO;
		return ck_access_mail(c, it->maps, it->arg, rcpt, rcpt,
		    CK_CLASS_RCPT);
	case OP_RBL_CLIENT:
	case OP_RHSBL_CLIENT:
	case OP_RHSBL_REVERSE:
	case OP_RHSBL_SENDER:
	case OP_RHSBL_RCPT:
	case OP_RHSBL_HELO:
		return ck_rbl(c, it->op == OP_RBL_CLIENT ? 'a' :
		    it->op == OP_RHSBL_CLIENT ? 'c' :
		    it->op == OP_RHSBL_REVERSE ? 'r' :
		    it->op == OP_RHSBL_SENDER ? 's' :
		    it->op == OP_RHSBL_RCPT ? 't' : 'h', it->arg);
	case OP_POLICY:
		return ck_policy_check(c, it->policy, name, class);
	case OP_UNAUTH_PIPELINING:
		return ck_unauth_pipelining(c, name, class);
	case OP_SLEEP:
		if (st->s)
			smtpd_flush(st);
		if (it->secs > 0)
			sleep((unsigned)it->secs);
		return CK_DUNNO;
	case OP_MULTI_RCPT_BOUNCE:
		if (sender == NULL || *sender != 0)
			return CK_DUNNO;
		if (ck_rcpt_count(st) + (strcmp(c->where, "RCPT") == 0 ? 1 :
		    0) > 1)
			return ck_reject(c, class, code_mul_rcpt, "5.5.3",
			    "<%s>: %s rejected: Multi-recipient bounce", name,
			    class);
		return CK_DUNNO;
	case OP_CLASS: {
		const struct ck_list *cls = ck_classes ?
		    htable_find(ck_classes, it->name) : NULL;

		if (cls == NULL)
			return ck_server_error(c, NULL);
		return ck_generic(c, cls, name, class);
	}
	default:
		return ck_server_error(c, NULL);
	}
}

/*
 * ck_generic - evaluate a list for the thing called name (reply_class
 * says what it is): CK_OK, CK_REJECT or CK_DUNNO.
 */
int
ck_generic(struct ck_ctx *c, const struct ck_list *l, const char *name,
    const char *class)
{
	int status = CK_DUNNO;
	size_t i;

	if (l->error)
		return ck_server_error(c, NULL);
	if (c->depth >= CK_DEPTH_MAX) {
		char why[256];

		snprintf(why, sizeof(why), "%s: restrictions nested more "
		    "than %d deep (a class that names itself?)", l->title,
		    CK_DEPTH_MAX);
		return ck_server_error(c, why);
	}
	c->depth++;
	/* Once the message is to be discarded, nothing else matters. */
	for (i = 0; i < l->n && !c->fatal && !c->st->discard; i++) {
		if (l->v[i].op == OP_WARN_IF_REJECT) {
			if (c->warn == 0)
				c->warn = c->depth;
			continue;
		}
		status = ck_one(c, &l->v[i], name, class);
		if (c->warn >= c->depth)
			c->warn = 0;
		if (c->fatal) {
			status = CK_REJECT;
			break;
		}
		if (status != CK_DUNNO)
			break;
	}
	c->depth--;
	return status;
}

/* ck_active - does a list need evaluating (entries, or an error)? */
static int
ck_active(const struct ck_list *l)
{
	return l && (l->n > 0 || l->error);
}

/* ck_begin - start one evaluation */
static void
ck_begin(struct ck_ctx *c, struct smtpd_state *st, const char *where)
{
	memset(c, 0, sizeof(*c));
	c->st = st;
	c->where = where;
	buf_reset(&st->check_reply);
}

/* ck_save_dip - remember a stage's defer_if_permit for RCPT time */
static void
ck_save_dip(struct ck_ctx *c, int *flag)
{
	*flag = c->dip.active;
	if (c->dip.active)
		strlcpy_trunc(c->st->chk.dip_reply, c->dip.reply,
		    sizeof(c->st->chk.dip_reply));
}

/* ck_apply_dip - a pending defer_if_permit turns acceptance into 4xx */
static int
ck_apply_dip(struct ck_ctx *c, int status)
{
	if (status != CK_REJECT && c->dip.active) {
		buf_sets(&c->st->check_reply, c->dip.reply);
		ck_log(c, "reject", c->dip.reply);
		return CK_REJECT;
	}
	return status;
}

/*
 * ck_result - convert to the engine's SMTPD_CHECK_*: DISCARD when this
 * check set st->discard (RCPT, DATA, end of data).
 */
static int
ck_result(const struct smtpd_state *st, int status, int discard_before)
{
	if (status == CK_REJECT)
		return SMTPD_CHECK_REJECT;
	if (st->discard && !discard_before)
		return SMTPD_CHECK_DISCARD;
	return SMTPD_CHECK_OK;
}

/* ck_client_stage - the client restrictions */
static int
ck_client_stage(struct smtpd_state *st, const char *where)
{
	struct ck_ctx c;
	int status = CK_DUNNO;

	ck_begin(&c, st, where);
	if (ck_active(ck_client_list))
		status = ck_generic(&c, ck_client_list, st->namaddr,
		    CK_CLASS_CLIENT);
	ck_save_dip(&c, &st->chk.dip_client);
	return status;
}

/* ck_helo_stage - the HELO restrictions (none without HELO) */
static int
ck_helo_stage(struct smtpd_state *st, const char *where, const char *helo)
{
	struct ck_ctx c;
	char *saved = st->helo_name;
	int status = CK_DUNNO;

	if (helo == NULL)
		return CK_DUNNO;
	st->helo_name = (char *)helo;
	ck_begin(&c, st, where);
	if (ck_active(ck_helo_list))
		status = ck_generic(&c, ck_helo_list, helo, CK_CLASS_HELO);
	ck_save_dip(&c, &st->chk.dip_helo);
	st->helo_name = saved;
	return status;
}

/* ck_sender_stage - the sender restrictions (none without MAIL) */
static int
ck_sender_stage(struct smtpd_state *st, const char *where,
    const char *sender)
{
	struct ck_ctx c;
	char *saved = st->sender;
	int status = CK_DUNNO;

	if (sender == NULL)
		return CK_DUNNO;
	st->sender = (char *)sender;
	ck_begin(&c, st, where);
	if (ck_active(ck_sender_list))
		status = ck_generic(&c, ck_sender_list, sender,
		    CK_CLASS_SENDER);
	ck_save_dip(&c, &st->chk.dip_sender);
	if (status != CK_REJECT && smtpd_cfg.smtpd_reject_unlisted_sender &&
	    *sender && !st->discard)
		status = ck_rcpt_maps(&c, sender, CK_CLASS_SENDER);
	st->sender = saved;
	return status;
}

/*
 * smtpd_check_client - smtpd_client_restrictions (at connect).  This and
 * the HELO and MAIL checks answer OK or REJECT; a DISCARD action only
 * sets st->discard.
 */
int
smtpd_check_client(struct smtpd_state *st)
{
	return ck_client_stage(st, ck_where(st, "CONNECT")) == CK_REJECT ?
	    SMTPD_CHECK_REJECT : SMTPD_CHECK_OK;
}

/* smtpd_check_helo - smtpd_helo_restrictions (at HELO/EHLO) */
int
smtpd_check_helo(struct smtpd_state *st, const char *helo)
{
	return ck_helo_stage(st, ck_where(st, "HELO"), helo) == CK_REJECT ?
	    SMTPD_CHECK_REJECT : SMTPD_CHECK_OK;
}

/* smtpd_check_mail - smtpd_sender_restrictions (at MAIL FROM) */
int
smtpd_check_mail(struct smtpd_state *st, const char *sender)
{
	return ck_sender_stage(st, ck_where(st, "MAIL"), sender) ==
	    CK_REJECT ? SMTPD_CHECK_REJECT : SMTPD_CHECK_OK;
}

/*
 * ck_rcpt - RCPT TO and VRFY: the delayed client, HELO and sender
 * restrictions, the relay and recipient restrictions, a pending
 * defer_if_permit, then the recipient table check.
 */
static int
ck_rcpt(struct smtpd_state *st, const char *rcpt, const char *where)
{
	struct ck_ctx c;
	char *saved = st->recipient;
	const struct ck_list *lists[2];
	int status = CK_DUNNO, discard = st->discard, n;

	/* RFC 5321 4.5.1: "postmaster" without a domain is always taken. */
	if (strcasecmp(rcpt, "postmaster") == 0)
		return SMTPD_CHECK_OK;
	st->recipient = (char *)rcpt;
	if (smtpd_cfg.smtpd_delay_reject &&
	    ((status = ck_client_stage(st, where)) == CK_REJECT ||
	    (status = ck_helo_stage(st, where, st->helo_name)) ==
	    CK_REJECT ||
	    (status = ck_sender_stage(st, where, st->sender)) == CK_REJECT))
		goto out;

	ck_begin(&c, st, where);
	c.dip.active = st->chk.dip_client || st->chk.dip_helo ||
	    st->chk.dip_sender;
	if (c.dip.active)
		strlcpy_trunc(c.dip.reply, st->chk.dip_reply,
		    sizeof(c.dip.reply));
	if (!ck_relay_safe) {
		status = ck_final(&c, "451 4.3.5 Server configuration problem");
		goto out;
	}
	lists[0] = smtpd_cfg.smtpd_relay_before_recipient_restrictions ?
	    ck_relay_list : ck_rcpt_list;
	lists[1] = smtpd_cfg.smtpd_relay_before_recipient_restrictions ?
	    ck_rcpt_list : ck_relay_list;
	status = CK_DUNNO;
	for (n = 0; n < 2; n++) {
		if (ck_active(lists[n]))
			status = ck_generic(&c, lists[n], rcpt, CK_CLASS_RCPT);
		if (status == CK_REJECT)
			break;
	}
	status = ck_apply_dip(&c, status);
	if (status != CK_REJECT && smtpd_cfg.smtpd_reject_unlisted_recipient &&
	    !c.rcpt_checked && !st->discard)
		status = ck_rcpt_maps(&c, rcpt, CK_CLASS_RCPT);
out:
	st->recipient = saved;
	return ck_result(st, status, discard);
}

/* smtpd_check_rcpt - RCPT TO */
int
smtpd_check_rcpt(struct smtpd_state *st, const char *rcpt)
{
	return ck_rcpt(st, rcpt, ck_where(st, "RCPT"));
}

/* smtpd_check_vrfy - VRFY: the same checks as RCPT TO */
int
smtpd_check_vrfy(struct smtpd_state *st, const char *rcpt)
{
	return ck_rcpt(st, rcpt, ck_where(st, "VRFY"));
}

/*
 * ck_msg_stage - DATA and end of data.  With more than one recipient no
 * recipient is named (a decision applies to all); with one, it is.
 */
static int
ck_msg_stage(struct smtpd_state *st, const struct ck_list *l,
    const char *where, const char *name, const char *class)
{
	struct ck_ctx c;
	char *saved = st->recipient;
	int status = CK_DUNNO, discard = st->discard;

	if (st->rcpts.n > 1)
		st->recipient = NULL;
	else if (st->rcpts.n == 1)
		st->recipient = st->rcpts.v[0];
	ck_begin(&c, st, where);
	if (ck_active(l))
		status = ck_generic(&c, l, name, class);
	status = ck_apply_dip(&c, status);
	st->recipient = saved;
	return ck_result(st, status, discard);
}

/* smtpd_check_data - smtpd_data_restrictions */
int
smtpd_check_data(struct smtpd_state *st)
{
	return ck_msg_stage(st, ck_data_list, "DATA", "DATA", CK_CLASS_DATA);
}

/* smtpd_check_eod - smtpd_end_of_data_restrictions */
int
smtpd_check_eod(struct smtpd_state *st)
{
	return ck_msg_stage(st, ck_eod_list, "END-OF-MESSAGE",
	    "END-OF-MESSAGE", CK_CLASS_EOD);
}

/*
 * smtpd_check_size - MAIL FROM SIZE=: over message_size_limit is
 * permanent; too little queue space (queue_minfree, or less than 1.5
 * times the message size limit, or the message itself) is temporary.
 */
int
smtpd_check_size(struct smtpd_state *st, long size)
{
	struct ck_ctx c;
	struct statvfs fs;

	ck_begin(&c, st, ck_where(st, "MAIL"));
	if (mail_cfg.message_size_limit > 0 &&
	    size > mail_cfg.message_size_limit) {
		ck_final(&c, "552 5.3.4 Message size exceeds fixed limit");
		return SMTPD_CHECK_REJECT;
	}
	if (!st->standalone && statvfs(".", &fs) == 0 && fs.f_frsize > 0) {
		double avail = (double)fs.f_bavail * (double)fs.f_frsize;
		double need = 1.5 * (double)mail_cfg.message_size_limit;

		if ((double)smtpd_cfg.queue_minfree > need)
			need = (double)smtpd_cfg.queue_minfree;
		if ((double)size > need)
			need = (double)size;
		if (avail < need) {
			log_warn("not enough free space in mail queue: %.0f "
			    "bytes < %.0f", avail, need);
			ck_final(&c, "452 4.3.1 Insufficient system storage");
			return SMTPD_CHECK_REJECT;
		}
	}
	return SMTPD_CHECK_OK;
}

/*
 * ck_tables_changed - the name of an access table (or a table of
 * local_recipient_maps) that postmap or an editor replaced since smtpd
 * opened it, or NULL.  Tables stay open in the jail, so this is how a
 * long-lived process learns about the change.
 */
static const char *
ck_tables_changed(void)
{
	struct hnode **list, **h;
	const char *name = NULL;

	if (ck_local_rcpt_maps && maps_changed(ck_local_rcpt_maps))
		return maps_title(ck_local_rcpt_maps);
	if (ck_valias_maps && maps_changed(ck_valias_maps))
		return maps_title(ck_valias_maps);
	if (ck_vmailbox_maps && maps_changed(ck_vmailbox_maps))
		return maps_title(ck_vmailbox_maps);
	if (ck_maps_cache == NULL)
		return NULL;
	list = htable_list(ck_maps_cache);
	for (h = list; *h && name == NULL; h++)
		if ((*h)->value && maps_changed((*h)->value))
			name = (*h)->key;	/* owned by the cache */
	free(list);
	return name;
}

/*
 * smtpd_check_reset - a mail transaction ended: forget what belonged to
 * it (sender-stage deferral, policy instance, FILTER and REDIRECT).
 * When a table changed on disk, ask the skeleton to end this process
 * after the session, so that the next one reads the new table (as
 * Postfix's daemons do).
 */
void
smtpd_check_reset(struct smtpd_state *st)
{
	static int restarting;
	static int64_t last_check;
	const char *changed;

	st->chk.dip_sender = 0;
	st->chk.instance[0] = 0;
	st->chk.filter[0] = 0;
	st->chk.redirect[0] = 0;
	st->chk.rcpt_count = 0;
	/* At most once a second: a stat per table is not per message. */
	if (!restarting && ck_initialized && !st->standalone &&
	    time_due(&last_check, 1000) &&
	    (changed = ck_tables_changed()) != NULL) {
		log_info("table %s has changed -- restarting", changed);
		restarting = 1;
		srv_request_exit();
	}
}
