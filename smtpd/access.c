/*
 * NAME		access - access(5) table lookups for the SMTP server
 * DESCRIPTION	The lookup orders of Postfix's check_*_access
 *		restrictions, and what a table's answer does.
 *
 *		Host names (client, HELO): the name, then its parent
 *		domains, as "example.com" when smtpd_access_maps is listed in
 *		parent_domain_matches_subdomains and as ".example.com" when
 *		not.  Client addresses: the address, then the address
 *		shortened by one ".octet" (IPv4) or ":part" (IPv6) at a time.
 *		Mail addresses, after trivial-rewrite made them canonical:
 *		user+ext@domain, user@domain, the domain and its parents,
 *		user+ext@, user@.  The null sender is looked up as
 *		smtpd_null_access_lookup_key.  Client certificates: the
 *		certificate fingerprint, then the public key fingerprint
 *		(both whole keys).  Only the first (whole) key is
 *		given to pattern tables (regexp:, pcre:, cidr:, tcp:).  The
 *		first key found decides, even if it says DUNNO.
 *
 *		Answers (case does not matter): OK, RELAY or all digits,
 *		DUNNO, REJECT [text], DEFER [text], DEFER_IF_REJECT [text],
 *		DEFER_IF_PERMIT [text], 4NN text, 5NN text (421 and 521 make
 *		the engine disconnect; a text may start with a status code
 *		such as 5.7.9), HOLD [text], DISCARD [text], FILTER
 *		transport:nexthop, REDIRECT address, PREPEND header, WARN
 *		text, INFO text, or restrictions (names and restriction
 *		classes) evaluated in place.  The message actions (HOLD,
 *		DISCARD, FILTER, REDIRECT, PREPEND) are skipped with a
 *		warning outside a mail transaction (client and HELO
 *		restrictions with smtpd_delay_reject = no).
 * SECURITY	Table answers are bounded (CK_REPLY_MAX) and parsed strictly;
 *		a malformed answer is a configuration error (451 4.3.5).
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dict/match.h"
#include "mail/addr.h"
#include "mail/mail_conf.h"
#include "util/log.h"
#include "util/mem.h"
#include "util/strutil.h"
#include "check.h"

int	 ck_access_parent;

#define CK_FULL		0	/* the whole string: every table */
#define CK_PARTIAL	1	/* a part of it: fixed tables only */

/* ck_word - does value start with word (case-insensitive), then end/space */
static const char *
ck_word(const char *value, const char *word)
{
	size_t n = strlen(word);

	if (strncasecmp(value, word, n) != 0)
		return NULL;
	if (value[n] != 0 && !isspace((unsigned char)value[n]))
		return NULL;
	value += n;
	while (isspace((unsigned char)*value))
		value++;
	return value;
}

/* ck_alldigits - "12345": an all-numerical result means OK */
static int
ck_alldigits(const char *s)
{
	return *s && strspn(s, "0123456789") == strlen(s);
}

/* ck_valid_header - "Name: value" with a printable name */
static int
ck_valid_header(const char *h)
{
	size_t i;

	for (i = 0; h[i] && h[i] != ':'; i++)
		if ((unsigned char)h[i] <= ' ' || (unsigned char)h[i] >= 127)
			return 0;
	return i > 0 && h[i] == ':';
}

/*
 * ck_in_transaction - actions that belong to a message (HOLD, DISCARD,
 * FILTER, REDIRECT, PREPEND) need one: with smtpd_delay_reject = no the
 * client and HELO restrictions run before MAIL FROM, outside any
 * transaction, and skip them with a warning, as Postfix does.
 */
static int
ck_in_transaction(struct ck_ctx *c, const char *table, const char *action)
{
	if (c->st->sender != NULL)
		return 1;
	log_warn("access table %s: with smtpd_delay_reject=no, action %s is "
	    "always skipped in %s or %s restrictions", table, action,
	    CK_CLASS_CLIENT, CK_CLASS_HELO);
	return 0;
}

/*
 * ck_table_result - carry out an access table (or policy server) answer
 * for the thing called name of the given class.  table names the source
 * in warnings.
 */
int
ck_table_result(struct ck_ctx *c, const char *table, const char *value,
    const char *key, const char *name, const char *class)
{
	struct smtpd_state *st = c->st;
	char buf[CK_REPLY_MAX + 1];
	const char *text;
	char why[CK_REPLY_MAX + 128], dsn[16];
	size_t len;

	len = strlen(value);
	if (len > CK_REPLY_MAX) {
		snprintf(why, sizeof(why), "%s: answer for %s is longer than "
		    "%d bytes", table, key, CK_REPLY_MAX);
		return ck_server_error(c, why);
	}
	strlcpy_trunc(buf, value, sizeof(buf));
	value = str_trim(buf);

	/* OK, RELAY (Postfix takes it too) or a number: accept. */
	if (ck_alldigits(value) || ck_word(value, "OK") ||
	    ck_word(value, "RELAY"))
		return CK_OK;
	if (ck_word(value, "DUNNO"))
		return CK_DUNNO;
	/* The texts below may start with a status code of their own. */
	if ((text = ck_word(value, "REJECT")) != NULL) {
		text = ck_dsn_split(text, "5.7.1", dsn, sizeof(dsn));
		return ck_reject(c, class, ck_code(smtpd_cfg.
		    access_map_reject_code, 554), dsn,
		    "<%s>: %s rejected: %s", name, class, *text ? text :
		    "Access denied");
	}
	if ((text = ck_word(value, "DEFER")) != NULL) {
		text = ck_dsn_split(text, "4.7.1", dsn, sizeof(dsn));
		return ck_reject(c, class, ck_code(smtpd_cfg.
		    access_map_defer_code, 450), dsn,
		    "<%s>: %s rejected: %s", name, class, *text ? text :
		    "Access denied");
	}
	if ((text = ck_word(value, "DEFER_IF_REJECT")) != NULL) {
		text = ck_dsn_split(text, "4.7.1", dsn, sizeof(dsn));
		return ck_defer_if(c, &c->dir, ck_code(smtpd_cfg.
		    access_map_defer_code, 450), dsn,
		    "<%s>: %s rejected: %s", name, class, *text ? text :
		    "Service unavailable");
	}
	if ((text = ck_word(value, "DEFER_IF_PERMIT")) != NULL) {
		text = ck_dsn_split(text, "4.7.1", dsn, sizeof(dsn));
		return ck_defer_if_permit(c, 1, class, ck_code(smtpd_cfg.
		    access_map_defer_code, 450), dsn,
		    "<%s>: %s rejected: %s", name, class, *text ? text :
		    "Service unavailable");
	}
	if ((text = ck_word(value, "WARN")) != NULL) {
		ck_log(c, "warn", text);
		return CK_DUNNO;
	}
	if ((text = ck_word(value, "INFO")) != NULL) {
		ck_log(c, "info", text);
		return CK_DUNNO;
	}
	if ((text = ck_word(value, "HOLD")) != NULL) {
		/*
		 * Once per transaction, as Postfix: with smtpd_delay_reject
		 * the client, HELO and sender lists run again at each RCPT.
		 */
		if (st->hold || !ck_in_transaction(c, table, "HOLD"))
			return CK_DUNNO;
		snprintf(why, sizeof(why), "<%s>: %s %s", name, class,
		    *text ? text : "triggers HOLD action");
		ck_log(c, "hold", why);
		st->hold = 1;
		return CK_DUNNO;
	}
	if ((text = ck_word(value, "DISCARD")) != NULL) {
		if (!ck_in_transaction(c, table, "DISCARD"))
			return CK_DUNNO;
		snprintf(why, sizeof(why), "<%s>: %s %s", name, class,
		    *text ? text : "triggers DISCARD action");
		ck_log(c, "discard", why);
		st->discard = 1;
		return CK_OK;
	}
	if ((text = ck_word(value, "FILTER")) != NULL) {
		const char *colon = strchr(text, ':');

		if (*text == 0 || colon == NULL || colon == text ||
		    strpbrk(text, " \t") || strlen(text) >=
		    sizeof(st->chk.filter)) {
			snprintf(why, sizeof(why), "%s: bad FILTER action for "
			    "%s: \"%s\" (need transport:destination)", table,
			    key, text);
			return ck_server_error(c, why);
		}
		if (!ck_in_transaction(c, table, "FILTER"))
			return CK_DUNNO;
		strlcpy_trunc(st->chk.filter, text, sizeof(st->chk.filter));
		snprintf(why, sizeof(why), "<%s>: %s triggers FILTER %s", name,
		    class, text);
		ck_log(c, "filter", why);
		return CK_DUNNO;
	}
	if ((text = ck_word(value, "REDIRECT")) != NULL) {
		if (*text == 0 || strpbrk(text, " \t") || strlen(text) >=
		    sizeof(st->chk.redirect)) {
			snprintf(why, sizeof(why), "%s: bad REDIRECT action "
			    "for %s: \"%s\"", table, key, text);
			return ck_server_error(c, why);
		}
		if (!ck_in_transaction(c, table, "REDIRECT"))
			return CK_DUNNO;
		strlcpy_trunc(st->chk.redirect, text,
		    sizeof(st->chk.redirect));
		snprintf(why, sizeof(why), "<%s>: %s triggers REDIRECT %s",
		    name, class, text);
		ck_log(c, "redirect", why);
		return CK_DUNNO;
	}
	if ((text = ck_word(value, "PREPEND")) != NULL) {
		if (!ck_valid_header(text)) {
			snprintf(why, sizeof(why), "%s: bad PREPEND header "
			    "for %s: \"%s\"", table, key, text);
			return ck_server_error(c, why);
		}
		if (!ck_in_transaction(c, table, "PREPEND"))
			return CK_DUNNO;
		if (strcmp(c->where, "END-OF-MESSAGE") == 0 ||
		    strcmp(c->where, "BDAT") == 0) {
			log_warn("%s: PREPEND for %s is ignored after the "
			    "message content", table, key);
			return CK_DUNNO;
		}
		argv_add(&st->prepend, text);
		return CK_DUNNO;
	}
	if ((text = ck_word(value, "BCC")) != NULL) {
		log_warn("%s: BCC action for %s is not supported; ignored",
		    table, key);
		return CK_DUNNO;
	}
	if (isdigit((unsigned char)value[0]) &&
	    isdigit((unsigned char)value[1]) &&
	    isdigit((unsigned char)value[2]) &&
	    (value[3] == 0 || isspace((unsigned char)value[3]))) {
		int code = (value[0] - '0') * 100 + (value[1] - '0') * 10 +
		    (value[2] - '0');

		if (code < 400 || code > 599) {
			snprintf(why, sizeof(why), "%s: numerical code %d in "
			    "the answer for %s is not 4xx or 5xx", table, code,
			    key);
			return ck_server_error(c, why);
		}
		text = value + 3;
		while (isspace((unsigned char)*text))
			text++;
		/* An enhanced status code is kept (its class follows code). */
		text = ck_dsn_split(text, code / 100 == 4 ? "4.7.1" : "5.7.1",
		    dsn, sizeof(dsn));
		return ck_reject(c, class, code, dsn,
		    "<%s>: %s rejected: %s", name, class, *text ? text :
		    "Access denied");
	}
	if (*value == 0) {
		snprintf(why, sizeof(why), "%s: empty answer for %s", table,
		    key);
		return ck_server_error(c, why);
	}

	/* Restrictions (or restriction classes), evaluated here. */
	{
		struct ck_list *l = ck_list_parse(table, value, 1);
		int status;

		if (ck_list_error(l)) {
			ck_list_free(l);
			snprintf(why, sizeof(why), "%s: bad answer for %s: "
			    "\"%s\"", table, key, value);
			return ck_server_error(c, why);
		}
		status = ck_generic(c, l, name, class);
		ck_list_free(l);
		return status;
	}
}

/*
 * ck_access_lookup - look one key up; *found is set when the table has
 * it (whatever it says).  Partial keys skip pattern tables.
 */
int
ck_access_lookup(struct ck_ctx *c, struct maps *maps, const char *table,
    const char *key, int partial, int *found, const char *name,
    const char *class)
{
	struct buf val = BUF_INIT, why = BUF_INIT;
	int r, status = CK_DUNNO;

	*found = 0;
	if (maps == NULL || *key == 0)
		return CK_DUNNO;
	if (partial && match_table_is_pattern(table))
		return CK_DUNNO;
	r = maps_find(maps, key, &val, &why);
	if (r == DICT_FOUND) {
		*found = 1;
		status = ck_table_result(c, table, buf_str(&val), key, name,
		    class);
	} else if (r == DICT_ERROR) {
		*found = 1;
		/* The reason names the table already (dict_lookup). */
		if (strncmp(buf_str(&why), table, strlen(table)) == 0)
			log_warn("%s", buf_str(&why));
		else
			log_warn("%s: %s", table, buf_str(&why));
		status = ck_temp_failure(c, name);
	}
	buf_free(&val);
	buf_free(&why);
	return status;
}

/*
 * ck_domain_lookups - a host or domain name and its parent domains.
 * first is CK_FULL when the name is the whole string looked up.
 */
static int
ck_domain_lookups(struct ck_ctx *c, struct maps *maps, const char *table,
    const char *domain, const char *name, const char *class, int first,
    int *found)
{
	char folded[300];
	unsigned char a[16];
	const char *dot;
	size_t len;
	int status;

	strlcpy_trunc(folded, domain, sizeof(folded));
	str_lower(folded);
	len = strlen(folded);
	if (len > 1 && folded[len - 1] == '.')
		folded[len - 1] = 0;
	status = ck_access_lookup(c, maps, table, folded, first, found, name,
	    class);
	if (*found || c->fatal)
		return status;
	/* No parent domains of an address literal or a bare address. */
	if (folded[0] == '[' || inet_pton(AF_INET, folded, a) == 1 ||
	    inet_pton(AF_INET6, folded, a) == 1)
		return CK_DUNNO;
	for (dot = strchr(folded + 1, '.'); dot && dot[1];
	    dot = strchr(dot + 1, '.')) {
		status = ck_access_lookup(c, maps, table, ck_access_parent ?
		    dot + 1 : dot, CK_PARTIAL, found, name, class);
		if (*found || c->fatal)
			return status;
	}
	return CK_DUNNO;
}

/* ck_access_domain - check_helo_access and the like */
int
ck_access_domain(struct ck_ctx *c, struct maps *maps, const char *table,
    const char *domain, const char *name, const char *class, int partial)
{
	int found;

	return ck_domain_lookups(c, maps, table, domain, name, class,
	    partial ? CK_PARTIAL : CK_FULL, &found);
}

/*
 * ck_access_client - check_client_access: the host name (unless
 * "unknown") and its parents, then the address and its network
 * prefixes.
 */
int
ck_access_client(struct ck_ctx *c, struct maps *maps, const char *table,
    const char *host, const char *addr, const char *name, const char *class)
{
	char a[80];
	int found = 0, status;

	if (host && *host && strcasecmp(host, "unknown") != 0) {
		status = ck_domain_lookups(c, maps, table, host, name, class,
		    CK_FULL, &found);
		if (found || c->fatal)
			return status;
	}
	if (addr == NULL || *addr == 0)
		return CK_DUNNO;
	strlcpy_trunc(a, addr, sizeof(a));
	str_lower(a);
	status = ck_access_lookup(c, maps, table, a, CK_FULL, &found, name,
	    class);
	while (!found && !c->fatal) {
		char *cut = strrchr(a, strchr(a, ':') ? ':' : '.');

		if (cut == NULL || cut == a)
			break;
		*cut = 0;
		status = ck_access_lookup(c, maps, table, a, CK_PARTIAL,
		    &found, name, class);
	}
	return found || c->fatal ? status : CK_DUNNO;
}

/*
 * ck_access_ccert - check_ccert_access: the client certificate's
 * fingerprint, then its public key fingerprint; the reply names the
 * certificate's subject CN.  Whether the chain verified does not matter:
 * the fingerprint itself is the credential.
 */
int
ck_access_ccert(struct ck_ctx *c, struct maps *maps, const char *table,
    const char *fpt, const char *pkey_fpt, const char *cn)
{
	int found = 0, status;

	status = ck_access_lookup(c, maps, table, fpt, CK_FULL, &found, cn,
	    CK_CLASS_CCERT);
	if (found || c->fatal)
		return status;
	status = ck_access_lookup(c, maps, table, pkey_fpt, CK_FULL, &found,
	    cn, CK_CLASS_CCERT);
	return found || c->fatal ? status : CK_DUNNO;
}

/*
 * ck_access_mail - check_sender_access and check_recipient_access, on
 * the canonical form of the address.
 */
int
ck_access_mail(struct ck_ctx *c, struct maps *maps, const char *table,
    const char *addr, const char *name, const char *class)
{
	struct resolve_reply rr;
	struct buf user = BUF_INIT, ext = BUF_INIT, dom = BUF_INIT;
	struct buf key = BUF_INIT;
	const char *canon;
	char delim = 0;
	int found = 0, status = CK_DUNNO;

	if (*addr == 0)
		return ck_access_lookup(c, maps, table,
		    smtpd_cfg.smtpd_null_access_lookup_key &&
		    *smtpd_cfg.smtpd_null_access_lookup_key ?
		    smtpd_cfg.smtpd_null_access_lookup_key : "<>", CK_FULL,
		    &found, name, class);
	resolve_reply_init(&rr);
	if (ck_resolve(c, addr, &rr) < 0) {
		resolve_reply_free(&rr);
		return CK_REJECT;
	}
	canon = buf_str(&rr.recipient);
	if (*canon == 0)
		canon = addr;
	addr_split_ext(canon, mail_cfg.recipient_delimiter, &user, &ext,
	    &dom);
	if (ext.len)
		delim = canon[user.len];

	/* user+ext@domain (or the address as it is) */
	buf_puts(&key, canon);
	str_lower(key.p);
	status = ck_access_lookup(c, maps, table, buf_str(&key), CK_FULL,
	    &found, name, class);
	if (found || c->fatal)
		goto out;
	/* user@domain */
	if (ext.len && strchr(canon, '@')) {
		buf_reset(&key);
		buf_printf(&key, "%s@%s", buf_str(&user), buf_str(&dom));
		str_lower(key.p);
		status = ck_access_lookup(c, maps, table, buf_str(&key),
		    CK_PARTIAL, &found, name, class);
		if (found || c->fatal)
			goto out;
	}
	/* domain and its parents */
	if (dom.len) {
		status = ck_domain_lookups(c, maps, table, buf_str(&dom), name,
		    class, CK_PARTIAL, &found);
		if (found || c->fatal)
			goto out;
	}
	/* user+ext@ */
	if (strchr(canon, '@')) {
		buf_reset(&key);
		if (ext.len)
			buf_printf(&key, "%s%c%s@", buf_str(&user), delim,
			    buf_str(&ext));
		else
			buf_printf(&key, "%s@", buf_str(&user));
		str_lower(key.p);
		status = ck_access_lookup(c, maps, table, buf_str(&key),
		    CK_PARTIAL, &found, name, class);
		if (found || c->fatal)
			goto out;
		/* user@ */
		if (ext.len) {
			buf_reset(&key);
			buf_printf(&key, "%s@", buf_str(&user));
			str_lower(key.p);
			status = ck_access_lookup(c, maps, table,
			    buf_str(&key), CK_PARTIAL, &found, name, class);
			if (found || c->fatal)
				goto out;
		}
	}
	status = CK_DUNNO;
out:
	resolve_reply_free(&rr);
	buf_free(&user);
	buf_free(&ext);
	buf_free(&dom);
	buf_free(&key);
	return status;
}
