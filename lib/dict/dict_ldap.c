/*
 * NAME		dict_ldap - the ldap: lookup client (ldap_table(5))
 * DESCRIPTION	ldap:/path/file names a configuration file in main.cf form
 *		(read by dict_query) that says which servers to ask and how:
 *		server_host, server_port, search_base, query_filter, scope,
 *		result_attribute, result_format, special, leaf and terminal
 *		result attributes, bind, version, start_tls, limits.  See
 *		doc/tables.md for every parameter.
 *
 *		A lookup expands query_filter (RFC 4515 escapes) and
 *		search_base (RFC 4514 escapes) with the key, searches, and
 *		passes every value of every result attribute of every entry
 *		through result_format; values are joined with ",".  An entry
 *		with a terminal result attribute gives only those values.  A
 *		special result attribute holds DNs (or LDAP URLs) of entries
 *		that are searched in turn (group members), down to
 *		recursion_limit levels; an entry that has special attribute
 *		values gives no leaf attribute values.  No entry, or no value
 *		that survives result_format, is "not found".
 *
 *		One connection per open table, made at the first lookup and
 *		kept.  Connecting tries the servers of server_host in order,
 *		starting with the one that worked last.  A request that fails
 *		for a reason of the connection (server down, timeout, busy)
 *		drops the connection; when the connection was a kept one the
 *		request is tried once more over a new connection, otherwise
 *		the next lookup starts with the next server.  Every failure
 *		is a lookup error (a temporary failure for the caller) whose
 *		reason names the server.
 * SECURITY	Expansions of the key are escaped before they reach a filter
 *		or DN.  The answer is bounded by DICT_VALUE_MAX and
 *		expansion_limit (dict_query), entries per search by
 *		size_limit, DNs followed by LDAP_DN_MAX bytes and
 *		recursion_limit levels, time per search by timeout.
 *		server_host entries and attribute names are checked at open
 *		time.  SIGPIPE is ignored once a table is open: a server that
 *		closes the connection must not kill the process.
 * SEE ALSO	doc/tables.md, dict_query.h, ldap_table(5), RFC 4514, 4515
 */
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <ldap.h>

#include "util/argv.h"
#include "util/events.h"
#include "util/log.h"
#include "util/mem.h"
#include "util/strutil.h"
#include "dict.h"
#include "dict_impl.h"
#include "dict_ldap.h"
#include "dict_query.h"
#include "match.h"

#define LDAP_DN_MAX	4096		/* bytes of a DN that is followed */
#define LDAP_RECURSION_MAX 1000	/* highest recursion_limit */
#define LDAP_SEARCHES_MAX 1000		/* searches for one lookup */
#define LDAP_TIMEOUT_MAX 3600		/* highest timeout, seconds */

/* Outcome of one request. */
#define LD_OK		0
#define LD_FAIL		(-1)		/* the request failed */
#define LD_CONN		(-2)		/* the connection failed */

struct dict_ldap {
	struct dict dict;
	struct dq_file *file;
	struct argv servers;		/* LDAP URLs */
	size_t	 cur;			/* the server to try first */
	const char *search_base;
	const char *query_filter;
	const char *result_format;
	struct argv result_attrs;
	struct argv special_attrs;
	struct argv leaf_attrs;
	struct argv terminal_attrs;
	struct argv want;		/* attributes to ask for */
	int	 scope;
	int	 bind;
	const char *bind_dn;
	const char *bind_pw;
	long	 version;
	int	 start_tls;
	const char *tls_ca_cert_file;
	const char *tls_ca_cert_dir;
	const char *tls_cert;
	const char *tls_key;
	const char *tls_cipher_suite;
	int	 tls_require_cert;
	long	 timeout;
	/* This lookup: searches made, and when it must be over (ms). */
	long	 searches;
	int64_t	 deadline;
	long	 size_limit;
	long	 expansion_limit;
	long	 recursion_limit;
	long	 dereference;
	int	 chase_referrals;
	struct match_list *domains;
	LDAP	*ld;			/* the connection, or NULL */
};

static const char *const ldap_known[] = {
	"server_host", "server_port", "timeout", "search_base",
	"query_filter", "result_format", "result_filter", "domain",
	"result_attribute", "special_result_attribute",
	"terminal_result_attribute", "leaf_result_attribute", "scope",
	"bind", "bind_dn", "bind_pw", "cache", "cache_expiry", "cache_size",
	"recursion_limit", "expansion_limit", "size_limit", "dereference",
	"chase_referrals", "version", "debuglevel", "sasl_mechs",
	"sasl_realm", "sasl_authz_id", "sasl_minssf", "start_tls",
	"tls_ca_cert_dir", "tls_ca_cert_file", "tls_cert", "tls_key",
	"tls_require_cert", "tls_random_file", "tls_cipher_suite", NULL,
};

/* ---------------------------------------------------------------------
 * Quoting
 */

/*
 * dict_ldap_quote_filter - RFC 4515: "*", "(", ")", "\" and every byte
 * that is not printable ASCII become "\xx"
 */
void
dict_ldap_quote_filter(struct buf *out, const char *s, size_t len,
    void *ctx)
{
	unsigned char c;
	size_t i;

	(void)ctx;
	for (i = 0; i < len; i++) {
		c = (unsigned char)s[i];
		if (c < 0x20 || c >= 0x7f || c == '*' || c == '(' ||
		    c == ')' || c == '\\')
			buf_printf(out, "\\%02x", c);
		else
			buf_putc(out, c);
	}
}

/*
 * dict_ldap_quote_dn - RFC 4514 attribute value: the special characters
 * get a backslash, as do a leading space or "#" and a trailing space;
 * bytes that are not printable ASCII become "\xx"
 */
void
dict_ldap_quote_dn(struct buf *out, const char *s, size_t len, void *ctx)
{
	unsigned char c;
	size_t i;

	(void)ctx;
	for (i = 0; i < len; i++) {
		c = (unsigned char)s[i];
		if (c < 0x20 || c >= 0x7f)
			buf_printf(out, "\\%02x", c);
		else if (c == ',' || c == '+' || c == '"' || c == '\\' ||
		    c == '<' || c == '>' || c == ';' || c == '=' ||
		    (i == 0 && (c == ' ' || c == '#')) ||
		    (i == len - 1 && c == ' ')) {
			buf_putc(out, '\\');
			buf_putc(out, c);
		} else
			buf_putc(out, c);
	}
}

/* ---------------------------------------------------------------------
 * Configuration
 */

/* ldap_host_char - may c appear in a host name or IPv4 address? */
static int
ldap_host_char(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_';
}

/* ldap_port - a port number of 1..5 digits, 1..65535; -1 if bad */
static long
ldap_port(const char *p, size_t len)
{
	long n = 0;
	size_t i;

	if (len == 0 || len > 5)
		return -1;
	for (i = 0; i < len; i++) {
		if (p[i] < '0' || p[i] > '9')
			return -1;
		n = n * 10 + (p[i] - '0');
	}
	return (n >= 1 && n <= 65535) ? n : -1;
}

/*
 * ldap_server_url - one server_host entry (tok, len, NUL-terminated) as
 * an LDAP URL; 0, or -1 with a reason
 */
static int
ldap_server_url(const char *tok, size_t len, long port, struct argv *out,
    struct buf *why)
{
	const char *host, *colon, *end = tok + len;
	size_t hlen, i;
	long p = port;
	LDAPURLDesc *lud;
	int v6 = 0;

	for (i = 0; i < len; i++)
		if ((unsigned char)tok[i] <= 0x20 ||
		    (unsigned char)tok[i] >= 0x7f) {
			buf_printf(why, "server_host \"%.100s\": bad character",
			    tok);
			return -1;
		}
	if (str_caseprefix(tok, "ldap://") || str_caseprefix(tok, "ldaps://") ||
	    str_caseprefix(tok, "ldapi://")) {
		if (ldap_url_parse(tok, &lud) != LDAP_URL_SUCCESS) {
			buf_printf(why, "server_host \"%.100s\": bad LDAP URL",
			    tok);
			return -1;
		}
		ldap_free_urldesc(lud);
		argv_add(out, tok);
		return 0;
	}
	if (strstr(tok, "://") != NULL) {
		buf_printf(why, "server_host \"%.100s\": need ldap://, ldaps:// "
		    "or ldapi:// URL, or host[:port]", tok);
		return -1;
	}
	if (*tok == '[') {
		if ((colon = memchr(tok, ']', len)) == NULL) {
			buf_printf(why, "server_host \"%.100s\": missing \"]\"",
			    tok);
			return -1;
		}
		host = tok + 1;
		hlen = (size_t)(colon - host);
		for (i = 0; i < hlen; i++)
			if (!(ldap_host_char(host[i]) || host[i] == ':'))
				break;
		if (hlen == 0 || i < hlen || memchr(host, ':', hlen) == NULL) {
			buf_printf(why, "server_host \"%.100s\": bad IPv6 "
			    "address", tok);
			return -1;
		}
		v6 = 1;
		colon++;
		if (colon < end && *colon != ':') {
			buf_printf(why, "server_host \"%.100s\": text after "
			    "\"]\"", tok);
			return -1;
		}
	} else {
		host = tok;
		colon = memchr(tok, ':', len);
		if (colon && memchr(colon + 1, ':', (size_t)(end - colon - 1))) {
			buf_printf(why, "server_host \"%.100s\": IPv6 addresses "
			    "go in []", tok);
			return -1;
		}
		hlen = colon ? (size_t)(colon - tok) : len;
		for (i = 0; i < hlen; i++)
			if (!ldap_host_char(host[i]))
				break;
		if (hlen == 0 || i < hlen) {
			buf_printf(why, "server_host \"%.100s\": bad host name",
			    tok);
			return -1;
		}
	}
	if (colon != NULL && colon < end &&
	    (p = ldap_port(colon + 1, (size_t)(end - colon - 1))) < 0) {
		buf_printf(why, "server_host \"%.100s\": bad port", tok);
		return -1;
	}
	argv_addf(out, "ldap://%s%.*s%s:%ld", v6 ? "[" : "", (int)hlen, host,
	    v6 ? "]" : "", p);
	return 0;
}

/*
 * dict_ldap_servers - split a server_host list (white space or commas)
 * into LDAP URLs: host and host:port become ldap://host:port (port: the
 * default given), ldap://, ldaps:// and ldapi:// URLs are checked and
 * kept.  At most LDAP_SERVERS_MAX entries of LDAP_SERVER_LEN_MAX bytes.
 * 0, or -1 with a reason (out may then hold part of the list).
 */
int
dict_ldap_servers(const char *list, long port, struct argv *out,
    struct buf *why)
{
	char tok[LDAP_SERVER_LEN_MAX + 1];
	const char *p = list;
	size_t len;

	for (;;) {
		p += strspn(p, SEPARATORS);
		if (*p == 0)
			break;
		len = strcspn(p, SEPARATORS);
		if (len > LDAP_SERVER_LEN_MAX) {
			buf_printf(why, "server_host entry longer than %d bytes",
			    LDAP_SERVER_LEN_MAX);
			return -1;
		}
		if (out->n >= LDAP_SERVERS_MAX) {
			buf_printf(why, "server_host: more than %d servers",
			    LDAP_SERVERS_MAX);
			return -1;
		}
		memcpy(tok, p, len);
		tok[len] = 0;
		if (ldap_server_url(tok, len, port, out, why) < 0)
			return -1;
		p += len;
	}
	if (out->n == 0) {
		buf_sets(why, "server_host: no server");
		return -1;
	}
	return 0;
}

/*
 * dict_ldap_attr_list - split the attribute list value of parameter name
 * and add each attribute description (RFC 4512: a name or OID, with
 * ";options") to out; 0, or -1 with a reason
 */
int
dict_ldap_attr_list(const char *name, const char *value, struct argv *out,
    struct buf *why)
{
	const char *p = value;
	size_t len, i, n = 0;
	unsigned char c;

	for (;;) {
		p += strspn(p, SEPARATORS);
		if (*p == 0)
			return 0;
		len = strcspn(p, SEPARATORS);
		if (len > LDAP_ATTR_LEN_MAX || ++n > LDAP_ATTRS_MAX) {
			buf_printf(why, "%s: more than %d names or a name longer "
			    "than %d bytes", name, LDAP_ATTRS_MAX,
			    LDAP_ATTR_LEN_MAX);
			return -1;
		}
		for (i = 0; i < len; i++) {
			c = (unsigned char)p[i];
			if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			    (c >= '0' && c <= '9') ||
			    (i > 0 && (c == '-' || c == ';' || c == '.'))))
				break;
		}
		if (i < len) {
			buf_printf(why, "%s: bad attribute name \"%.*s\"", name,
			    (int)(len > 100 ? 100 : len), p);
			return -1;
		}
		argv_addn(out, p, len);
		p += len;
	}
}

/* ldap_want_add - add the names of list to the request, once each */
static void
ldap_want_add(struct argv *want, const struct argv *list)
{
	size_t i, k;

	for (i = 0; i < list->n; i++) {
		for (k = 0; k < want->n; k++)
			if (strcasecmp(want->v[k], list->v[i]) == 0)
				break;
		if (k == want->n)
			argv_add(want, list->v[i]);
	}
}

/* ldap_config - read every parameter; 0, or -1 with a reason */
static int
ldap_config(struct dict_ldap *m, struct buf *why)
{
	struct dq_file *f = m->file;
	const char *v;
	long port, debug;
	int req;

	if (dq_long(f, "server_port", 389, 1, 65535, &port, why) < 0 ||
	    dq_long(f, "timeout", 10, 1, LDAP_TIMEOUT_MAX, &m->timeout,
	    why) < 0 ||
	    dq_long(f, "version", 3, 2, 3, &m->version, why) < 0 ||
	    dq_long(f, "expansion_limit", 0, 0, INT_MAX, &m->expansion_limit,
	    why) < 0 ||
	    dq_long(f, "size_limit", m->expansion_limit, 0, INT_MAX,
	    &m->size_limit, why) < 0 ||
	    dq_long(f, "recursion_limit", 1000, 1, LDAP_RECURSION_MAX,
	    &m->recursion_limit, why) < 0 ||
	    dq_long(f, "dereference", 0, 0, 3, &m->dereference, why) < 0 ||
	    dq_long(f, "debuglevel", 0, 0, INT_MAX, &debug, why) < 0 ||
	    dq_bool(f, "chase_referrals", 0, &m->chase_referrals, why) < 0 ||
	    dq_bool(f, "start_tls", 0, &m->start_tls, why) < 0 ||
	    dq_bool(f, "tls_require_cert", 0, &req, why) < 0)
		return -1;
	m->tls_require_cert = req;
	if (dict_ldap_servers(dq_str(f, "server_host", "localhost"), port,
	    &m->servers, why) < 0)
		goto bad;

	m->search_base = dq_str(f, "search_base", "");
	m->query_filter = dq_str(f, "query_filter",
	    "mailacceptinggeneralid=%s");
	m->result_format = dq_str(f, "result_format",
	    dq_str(f, "result_filter", "%s"));
	if (dq_template_check(m->search_base, why) < 0 ||
	    dq_template_check(m->query_filter, why) < 0 ||
	    dq_template_check(m->result_format, why) < 0)
		goto bad;
	if (*m->query_filter == 0) {
		buf_sets(why, "query_filter is empty");
		goto bad;
	}

	if (dict_ldap_attr_list("result_attribute", dq_str(f,
	    "result_attribute", "maildrop"), &m->result_attrs, why) < 0 ||
	    dict_ldap_attr_list("special_result_attribute", dq_str(f,
	    "special_result_attribute", ""), &m->special_attrs, why) < 0 ||
	    dict_ldap_attr_list("leaf_result_attribute", dq_str(f,
	    "leaf_result_attribute", ""), &m->leaf_attrs, why) < 0 ||
	    dict_ldap_attr_list("terminal_result_attribute", dq_str(f,
	    "terminal_result_attribute", ""), &m->terminal_attrs, why) < 0)
		goto bad;
	ldap_want_add(&m->want, &m->result_attrs);
	ldap_want_add(&m->want, &m->special_attrs);
	ldap_want_add(&m->want, &m->leaf_attrs);
	ldap_want_add(&m->want, &m->terminal_attrs);
	if (m->want.n == 0)
		argv_add(&m->want, LDAP_NO_ATTRS);

	v = dq_str(f, "scope", "sub");
	if (strcasecmp(v, "sub") == 0)
		m->scope = LDAP_SCOPE_SUBTREE;
	else if (strcasecmp(v, "one") == 0)
		m->scope = LDAP_SCOPE_ONELEVEL;
	else if (strcasecmp(v, "base") == 0)
		m->scope = LDAP_SCOPE_BASE;
	else {
		buf_printf(why, "bad scope value \"%.100s\" (sub, one or base)",
		    v);
		goto bad;
	}

	v = dq_str(f, "bind", "yes");
	if (strcasecmp(v, "yes") == 0 || strcasecmp(v, "simple") == 0)
		m->bind = 1;
	else if (strcasecmp(v, "no") == 0 || strcasecmp(v, "none") == 0)
		m->bind = 0;
	else if (strcasecmp(v, "sasl") == 0) {
		buf_sets(why, "bind = sasl is not supported (use bind = yes "
		    "with bind_dn and bind_pw, or bind = no)");
		goto bad;
	} else {
		buf_printf(why, "bad bind value \"%.100s\" (yes, no)", v);
		goto bad;
	}
	m->bind_dn = dq_str(f, "bind_dn", "");
	m->bind_pw = dq_str(f, "bind_pw", "");

	m->tls_ca_cert_file = dq_str(f, "tls_ca_cert_file", "");
	m->tls_ca_cert_dir = dq_str(f, "tls_ca_cert_dir", "");
	m->tls_cert = dq_str(f, "tls_cert", "");
	m->tls_key = dq_str(f, "tls_key", "");
	m->tls_cipher_suite = dq_str(f, "tls_cipher_suite", "");
	if (m->start_tls && m->version < 3) {
		buf_sets(why, "start_tls needs version = 3");
		goto bad;
	}
	return 0;

bad:
	return -1;
}

/* ---------------------------------------------------------------------
 * Connections
 */

/* ldap_reason - the library's text for code, with the server's words */
static void
ldap_reason(LDAP *ld, int code, struct buf *why)
{
	char *diag = NULL, clean[201];

	buf_puts(why, ldap_err2string(code));
	if (ld && ldap_get_option(ld, LDAP_OPT_DIAGNOSTIC_MESSAGE, &diag) ==
	    LDAP_OPT_SUCCESS && diag != NULL) {
		/* libldap says "(unknown error code)" when it knows nothing. */
		if (*diag && strcmp(diag, "(unknown error code)") != 0)
			buf_printf(why, " (%s)", str_sane(diag, clean,
			    sizeof(clean)));
		ldap_memfree(diag);
	}
}

/* ldap_conn_error - does this result code mean the connection is bad? */
static int
ldap_conn_error(int code)
{
	switch (code) {
	case LDAP_SERVER_DOWN:
	case LDAP_TIMEOUT:
	case LDAP_CONNECT_ERROR:
	case LDAP_UNAVAILABLE:
	case LDAP_BUSY:
	case LDAP_OTHER:
	case LDAP_LOCAL_ERROR:
	case LDAP_DECODING_ERROR:
	case LDAP_ENCODING_ERROR:
	case LDAP_PROTOCOL_ERROR:
		return 1;
	default:
		return 0;
	}
}

/* ldap_disconnect - forget the connection */
static void
ldap_disconnect(struct dict_ldap *m)
{
	if (m->ld)
		ldap_unbind_ext_s(m->ld, NULL, NULL);
	m->ld = NULL;
}

/* ldap_bind_simple - simple bind with bind_dn and bind_pw */
static int
ldap_bind_simple(struct dict_ldap *m, LDAP *ld)
{
	struct berval cred;

	cred.bv_val = (char *)m->bind_pw;
	cred.bv_len = strlen(m->bind_pw);
	return ldap_sasl_bind_s(ld, m->bind_dn, LDAP_SASL_SIMPLE, &cred, NULL,
	    NULL, NULL);
}

/* ldap_tls_options - this handle's TLS settings; 0, or an LDAP code */
static int
ldap_tls_options(struct dict_ldap *m, LDAP *ld, const char *url)
{
	int req = m->tls_require_cert ? LDAP_OPT_X_TLS_DEMAND :
	    LDAP_OPT_X_TLS_NEVER, zero = 0, rc;

	if (!m->start_tls && !str_caseprefix(url, "ldaps:"))
		return LDAP_SUCCESS;
	if ((*m->tls_ca_cert_file && (rc = ldap_set_option(ld,
	    LDAP_OPT_X_TLS_CACERTFILE, m->tls_ca_cert_file)) != 0) ||
	    (*m->tls_ca_cert_dir && (rc = ldap_set_option(ld,
	    LDAP_OPT_X_TLS_CACERTDIR, m->tls_ca_cert_dir)) != 0) ||
	    (*m->tls_cert && (rc = ldap_set_option(ld,
	    LDAP_OPT_X_TLS_CERTFILE, m->tls_cert)) != 0) ||
	    (*m->tls_key && (rc = ldap_set_option(ld,
	    LDAP_OPT_X_TLS_KEYFILE, m->tls_key)) != 0) ||
	    (*m->tls_cipher_suite && (rc = ldap_set_option(ld,
	    LDAP_OPT_X_TLS_CIPHER_SUITE, m->tls_cipher_suite)) != 0) ||
	    (rc = ldap_set_option(ld, LDAP_OPT_X_TLS_REQUIRE_CERT, &req)) != 0 ||
	    (rc = ldap_set_option(ld, LDAP_OPT_X_TLS_NEWCTX, &zero)) != 0)
		return rc;
	return LDAP_SUCCESS;
}

/*
 * ldap_try - connect to server i (and start TLS, bind); 0, or -1 with a
 * reason that names the server
 */
static int
ldap_try(struct dict_ldap *m, size_t i, struct buf *why)
{
	const char *url = m->servers.v[i];
	struct timeval tv;
	LDAP *ld = NULL;
	int rc, ver = (int)m->version, deref = (int)m->dereference;
	const char *step = "connect";

	if ((rc = ldap_initialize(&ld, url)) != LDAP_SUCCESS) {
		buf_printf(why, "%s: %s", url, ldap_err2string(rc));
		return -1;
	}
	tv.tv_sec = m->timeout;
	tv.tv_usec = 0;
	if (ldap_set_option(ld, LDAP_OPT_PROTOCOL_VERSION, &ver) != 0 ||
	    ldap_set_option(ld, LDAP_OPT_NETWORK_TIMEOUT, &tv) != 0 ||
	    ldap_set_option(ld, LDAP_OPT_TIMEOUT, &tv) != 0 ||
	    ldap_set_option(ld, LDAP_OPT_DEREF, &deref) != 0 ||
	    ldap_set_option(ld, LDAP_OPT_REFERRALS, m->chase_referrals ?
	    LDAP_OPT_ON : LDAP_OPT_OFF) != 0) {
		buf_printf(why, "%s: cannot set connection options", url);
		ldap_unbind_ext_s(ld, NULL, NULL);
		return -1;
	}
	if ((rc = ldap_tls_options(m, ld, url)) != LDAP_SUCCESS) {
		step = "TLS settings";
	} else if ((rc = ldap_connect(ld)) != LDAP_SUCCESS) {
		step = "connect";
	} else if (m->start_tls &&
	    (rc = ldap_start_tls_s(ld, NULL, NULL)) != LDAP_SUCCESS) {
		step = "STARTTLS";
	} else if (m->bind) {
		step = "bind";
		rc = ldap_bind_simple(m, ld);
		/* As Postfix: a server without version 2 gets version 3. */
		if (rc == LDAP_PROTOCOL_ERROR && ver == 2) {
			ver = 3;
			if (ldap_set_option(ld, LDAP_OPT_PROTOCOL_VERSION,
			    &ver) == 0)
				rc = ldap_bind_simple(m, ld);
		}
	}
	if (rc != LDAP_SUCCESS) {
		buf_printf(why, "%s: %s: ", url, step);
		ldap_reason(ld, rc, why);
		ldap_unbind_ext_s(ld, NULL, NULL);
		return -1;
	}
	m->ld = ld;
	return 0;
}

/*
 * ldap_connect_any - connect to the first server that answers, starting
 * with the current one; 0, or -1 with every server's reason
 */
static int
ldap_connect_any(struct dict_ldap *m, struct buf *why)
{
	size_t k, i;

	for (k = 0; k < m->servers.n; k++) {
		i = (m->cur + k) % m->servers.n;
		if (k > 0)
			buf_puts(why, "; ");
		if (ldap_try(m, i, why) == 0) {
			m->cur = i;
			buf_reset(why);
			return 0;
		}
	}
	return -1;
}

/* ---------------------------------------------------------------------
 * Searches
 */

static int ldap_search_run(struct dict_ldap *, const char *, int,
	    const char *, char **, long, struct dq_result *, struct buf *);

/* ldap_add_values - every value of attr in entry e; 1 some, 0 none */
static int
ldap_add_values(struct dict_ldap *m, LDAPMessage *e, const char *attr,
    struct dq_result *res, struct buf *why)
{
	struct berval **vals;
	int i, rc = 0;

	if ((vals = ldap_get_values_len(m->ld, e, attr)) == NULL)
		return 0;
	for (i = 0; vals[i] != NULL; i++) {
		if (dq_result_add(res, vals[i]->bv_val, vals[i]->bv_len,
		    why) < 0) {
			buf_printf(why, " (attribute %s)", attr);
			rc = LD_FAIL;
			break;
		}
		rc = 1;
	}
	ldap_value_free_len(vals);
	return rc;
}

/* ldap_url_search - follow an LDAP URL found in a special attribute */
static int
ldap_url_search(struct dict_ldap *m, const char *url, long depth,
    struct dq_result *res, struct buf *why)
{
	LDAPURLDesc *lud;
	struct argv want;
	size_t i;
	int k, rc;

	if (ldap_url_parse(url, &lud) != LDAP_URL_SUCCESS) {
		buf_printf(why, "bad LDAP URL \"%.200s\" in a special result "
		    "attribute", url);
		return LD_FAIL;
	}
	argv_init(&want);
	for (i = 0; i < m->want.n; i++) {
		if (lud->lud_attrs == NULL) {
			argv_add(&want, m->want.v[i]);
			continue;
		}
		for (k = 0; lud->lud_attrs[k]; k++)
			if (strcasecmp(lud->lud_attrs[k], m->want.v[i]) == 0) {
				argv_add(&want, m->want.v[i]);
				break;
			}
	}
	rc = LD_OK;
	if (want.n > 0)
		rc = ldap_search_run(m, lud->lud_dn ? lud->lud_dn : "",
		    lud->lud_scope == LDAP_SCOPE_DEFAULT ? LDAP_SCOPE_BASE :
		    lud->lud_scope, lud->lud_filter ? lud->lud_filter :
		    "(objectClass=*)", want.v, depth, res, why);
	argv_clear(&want);
	ldap_free_urldesc(lud);
	return rc;
}

/* ldap_follow - search the entries that special attribute attr names */
static int
ldap_follow(struct dict_ldap *m, LDAPMessage *e, const char *attr,
    long depth, struct dq_result *res, struct buf *why)
{
	struct berval **vals;
	char *dn;
	int i, rc = 0, r;

	if ((vals = ldap_get_values_len(m->ld, e, attr)) == NULL)
		return 0;
	for (i = 0; vals[i] != NULL && rc >= 0; i++) {
		rc = 1;
		if (depth + 1 > m->recursion_limit) {
			buf_printf(why, "more than recursion_limit=%ld levels "
			    "of %s", m->recursion_limit, attr);
			rc = LD_FAIL;
			break;
		}
		if (vals[i]->bv_len > LDAP_DN_MAX ||
		    memchr(vals[i]->bv_val, 0, vals[i]->bv_len) != NULL) {
			buf_printf(why, "%s value longer than %d bytes or with a "
			    "NUL byte", attr, LDAP_DN_MAX);
			rc = LD_FAIL;
			break;
		}
		dn = xstrndup(vals[i]->bv_val, vals[i]->bv_len);
		if (ldap_is_ldap_url(dn))
			r = ldap_url_search(m, dn, depth + 1, res, why);
		else
			r = ldap_search_run(m, dn, LDAP_SCOPE_BASE,
			    "(objectClass=*)", m->want.v, depth + 1, res, why);
		free(dn);
		if (r < 0)
			rc = r;
	}
	ldap_value_free_len(vals);
	return rc;
}

/*
 * ldap_entry - the values of one entry: terminal attributes alone when
 * it has any; else result attributes, then the entries that special
 * attributes name, or leaf attributes when there are none
 */
static int
ldap_entry(struct dict_ldap *m, LDAPMessage *e, long depth,
    struct dq_result *res, struct buf *why)
{
	size_t i;
	int rc, found = 0;

	for (i = 0; i < m->terminal_attrs.n; i++) {
		if ((rc = ldap_add_values(m, e, m->terminal_attrs.v[i], res,
		    why)) < 0)
			return rc;
		found |= rc;
	}
	if (found)
		return LD_OK;
	for (i = 0; i < m->result_attrs.n; i++)
		if ((rc = ldap_add_values(m, e, m->result_attrs.v[i], res,
		    why)) < 0)
			return rc;
	for (i = 0; i < m->special_attrs.n; i++) {
		if ((rc = ldap_follow(m, e, m->special_attrs.v[i], depth, res,
		    why)) < 0)
			return rc;
		found |= rc;
	}
	if (found)
		return LD_OK;
	for (i = 0; i < m->leaf_attrs.n; i++)
		if ((rc = ldap_add_values(m, e, m->leaf_attrs.v[i], res,
		    why)) < 0)
			return rc;
	return LD_OK;
}

/* ldap_wait - the time left for this lookup, at least 1 ms */
static void
ldap_wait(const struct dict_ldap *m, struct timeval *tv)
{
	int64_t left = m->deadline - time_mono_ms();

	if (left < 1)
		left = 1;
	tv->tv_sec = (time_t)(left / 1000);
	tv->tv_usec = (suseconds_t)(left % 1000) * 1000;
}

/*
 * ldap_search_run - one search over the connection; each entry is taken
 * as it arrives.  LD_OK, LD_FAIL or LD_CONN with a reason.
 */
static int
ldap_search_run(struct dict_ldap *m, const char *base, int scope,
    const char *filter, char **attrs, long depth, struct dq_result *res,
    struct buf *why)
{
	struct timeval tv;
	LDAPMessage *msg;
	int msgid, rc, err, type;
	char *text = NULL, clean[201];

	/* Group expansion may fan out: bound the work of one lookup. */
	if (++m->searches > LDAP_SEARCHES_MAX) {
		buf_printf(why, "more than %d searches for one lookup",
		    LDAP_SEARCHES_MAX);
		return LD_FAIL;
	}
	ldap_wait(m, &tv);
	rc = ldap_search_ext(m->ld, base, scope, filter, attrs, 0, NULL, NULL,
	    &tv, (int)m->size_limit, &msgid);
	if (rc != LDAP_SUCCESS) {
		err = rc;
		goto failed;
	}
	for (;;) {
		ldap_wait(m, &tv);
		rc = ldap_result(m->ld, msgid, LDAP_MSG_ONE, &tv, &msg);
		if (rc == 0) {
			ldap_abandon_ext(m->ld, msgid, NULL, NULL);
			buf_printf(why, "%s: search timed out after %ld s (for the lookup)",
			    m->servers.v[m->cur], m->timeout);
			return LD_CONN;
		}
		if (rc < 0) {
			if (ldap_get_option(m->ld, LDAP_OPT_RESULT_CODE, &err) !=
			    LDAP_OPT_SUCCESS || err == LDAP_SUCCESS)
				err = LDAP_SERVER_DOWN;
			goto failed;
		}
		type = ldap_msgtype(msg);
		if (type == LDAP_RES_SEARCH_ENTRY) {
			rc = ldap_entry(m, msg, depth, res, why);
			ldap_msgfree(msg);
			if (rc < 0) {
				ldap_abandon_ext(m->ld, msgid, NULL, NULL);
				return rc;
			}
		} else if (type == LDAP_RES_SEARCH_RESULT) {
			rc = ldap_parse_result(m->ld, msg, &err, NULL, &text, NULL,
			    NULL, 1);
			if (rc != LDAP_SUCCESS)
				err = rc;
			break;
		} else {
			ldap_msgfree(msg);
		}
	}
	if (err == LDAP_SUCCESS || err == LDAP_NO_SUCH_OBJECT) {
		/* A search base or member DN that does not exist: no entry. */
		ldap_memfree(text);
		return LD_OK;
	}
	if (err == LDAP_SIZELIMIT_EXCEEDED) {
		ldap_memfree(text);
		buf_printf(why, "search \"%.200s\" found more than size_limit="
		    "%ld entries", filter, m->size_limit);
		return LD_FAIL;
	}
	buf_printf(why, "%s: search \"%.200s\" under \"%.200s\": %s",
	    m->servers.v[m->cur], filter, base, ldap_err2string(err));
	if (text && *text)
		buf_printf(why, " (%s)", str_sane(text, clean, sizeof(clean)));
	ldap_memfree(text);
	return ldap_conn_error(err) ? LD_CONN : LD_FAIL;

failed:
	buf_printf(why, "%s: search \"%.200s\" under \"%.200s\": ",
	    m->servers.v[m->cur], filter, base);
	ldap_reason(m->ld, err, why);
	return ldap_conn_error(err) ? LD_CONN : LD_FAIL;
}

/* ---------------------------------------------------------------------
 * The table
 */

/* dict_ldap_lookup - search for key */
static int
dict_ldap_lookup(struct dict *d, const char *key, struct buf *value,
    struct buf *why)
{
	struct dict_ldap *m = (struct dict_ldap *)d;
	struct buf filter = BUF_INIT, base = BUF_INIT;
	struct dq_result res;
	int r = DICT_ERROR, rc, tries, reused;

	if (*key == 0)
		return DICT_NOTFOUND;
	if ((rc = dq_domain_ok(m->domains, key, why)) <= 0) {
		r = rc < 0 ? DICT_ERROR : DICT_NOTFOUND;
		goto out;
	}
	if ((rc = dq_expand_query(m->query_filter, key,
	    dict_ldap_quote_filter, NULL, &filter, why)) <= 0 ||
	    (rc = dq_expand_query(m->search_base, key, dict_ldap_quote_dn,
	    NULL, &base, why)) <= 0) {
		r = rc < 0 ? DICT_ERROR : DICT_NOTFOUND;
		goto out;
	}
	for (tries = 0; tries < 2; tries++) {
		reused = m->ld != NULL;
		if (m->ld == NULL && ldap_connect_any(m, why) < 0)
			goto out;
		dq_result_init(&res, value, m->result_format, key,
		    m->expansion_limit);
		m->searches = 0;
		m->deadline = time_mono_ms() + (int64_t)m->timeout * 1000;
		rc = ldap_search_run(m, buf_str(&base), m->scope,
		    buf_str(&filter), m->want.v, 0, &res, why);
		if (rc == LD_OK) {
			r = res.count > 0 ? DICT_FOUND : DICT_NOTFOUND;
			goto out;
		}
		if (rc == LD_FAIL)
			goto out;
		ldap_disconnect(m);
		if (!reused) {
			/* A new connection failed: start elsewhere next time. */
			m->cur = (m->cur + 1) % m->servers.n;
			goto out;
		}
		/* A kept connection may have been closed by the server. */
		buf_reset(why);
	}
out:
	if (r != DICT_FOUND)
		buf_reset(value);
	buf_free(&filter);
	buf_free(&base);
	return r;
}

/* dict_ldap_close - close the connection and free the table */
static void
dict_ldap_close(struct dict *d)
{
	struct dict_ldap *m = (struct dict_ldap *)d;

	ldap_disconnect(m);
	argv_clear(&m->servers);
	argv_clear(&m->result_attrs);
	argv_clear(&m->special_attrs);
	argv_clear(&m->leaf_attrs);
	argv_clear(&m->terminal_attrs);
	argv_clear(&m->want);
	if (m->domains)
		match_list_free(m->domains);
	dq_file_free(m->file);
	free(m);
}

/*
 * dict_ldap_open - read the configuration file; no connection is made
 * yet.  NULL with a reason naming the file when it cannot be read or a
 * setting is bad.
 */
struct dict *
dict_ldap_open(const char *name, int flags, struct buf *why)
{
	static const char *const ignored[] = { "cache", "cache_expiry",
	    "cache_size", "debuglevel", "tls_random_file", NULL };
	struct dict_ldap *m;
	struct buf err = BUF_INIT;
	struct sigaction sa;
	size_t i;
	int v;

	m = xcalloc(1, sizeof(*m));
	argv_init(&m->servers);
	argv_init(&m->result_attrs);
	argv_init(&m->special_attrs);
	argv_init(&m->leaf_attrs);
	argv_init(&m->terminal_attrs);
	argv_init(&m->want);
	m->dict.lookup = dict_ldap_lookup;
	m->dict.close = dict_ldap_close;
	m->dict.flags = flags;
	if ((m->file = dq_file_read(name, &err)) == NULL ||
	    ldap_config(m, &err) < 0) {
		buf_printf(why, "ldap:%s: %s", name, buf_str(&err));
		buf_free(&err);
		dict_ldap_close(&m->dict);
		return NULL;
	}
	buf_free(&err);
	dq_file_unknown(m->file, ldap_known);
	for (i = 0; ignored[i]; i++)
		if (*dq_str(m->file, ignored[i], ""))
			log_warn("%s: %s is ignored", name, ignored[i]);
	m->domains = dq_domain_list(m->file);
	/* The library reads ldap.conf now, before a chroot. */
	(void)ldap_get_option(NULL, LDAP_OPT_PROTOCOL_VERSION, &v);
	if (sigaction(SIGPIPE, NULL, &sa) == 0 && sa.sa_handler == SIG_DFL)
		signal(SIGPIPE, SIG_IGN);
	return &m->dict;
}
