/*
 * NAME		match - domain and address lists as in mydestination,
 *		relay_domains and mynetworks
 * DESCRIPTION	Lists are compiled once: names are folded to lower case,
 *		network patterns are parsed, files are read at creation,
 *		tables are opened then.  A file that cannot be read or a bad
 *		network pattern is logged and makes every match an error (a
 *		temporary failure), as a broken table does.
 *
 *		Which token is what: "!" prefixes negate; "/..." is a file;
 *		"[...]" and anything made of digits and dots, or with a "/"
 *		length, or that parses as an IPv6 address, is a network
 *		pattern; other text with a ":" is a table; the rest is a
 *		domain name.
 * SECURITY	List files are bounded (1 MB); domains longer than 255
 *		bytes never match.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/argv.h"
#include "util/files.h"
#include "util/log.h"
#include "util/mem.h"
#include "util/strutil.h"
#include "dict.h"
#include "match.h"

struct match_ent {
	int	 negate;
	char	*name;		/* folded domain pattern, or NULL */
	struct maps *maps;	/* a table, or NULL */
	int	 pattern;	/* the table is regexp-like: whole keys only */
	int	 is_net;	/* a network pattern */
	struct match_net net;
};

struct match_list {
	char	*title;
	int	 flags;
	struct match_ent *v;
	size_t	 n;
	char	*error;		/* set if the list could not be built */
};

/* match_set_error - remember the first reason the list is unusable */
static void
match_set_error(struct match_list *m, const char *why)
{
	if (m->error == NULL)
		m->error = xasprintf("%s: %s", m->title, why);
}

/*
 * match_table_is_pattern - is spec ("type:name", possibly "proxy:type:
 * name") a table that matches whole strings by pattern (regexp:, pcre:,
 * cidr:, tcp:, socketmap:)?  Such tables are never asked for parts of a
 * key (parent domains, user@, network prefixes), as in Postfix.
 */
int
match_table_is_pattern(const char *spec)
{
	static const char *const types[] = {
		"regexp:", "pcre:", "cidr:", "tcp:", "socketmap:", NULL
	};
	size_t i;

	while (str_caseprefix(spec, "proxy:"))
		spec += 6;
	for (i = 0; types[i]; i++)
		if (str_caseprefix(spec, types[i]))
			return 1;
	return 0;
}

/*
 * match_parent_style - is feature listed in pdms (the value of
 * parent_domain_matches_subdomains)?
 */
int
match_parent_style(const char *pdms, const char *feature)
{
	char *copy = xstrdup(pdms ? pdms : ""), *cp = copy, *tok;
	int found = 0;

	while (!found && (tok = str_token(&cp, SEPARATORS)) != NULL)
		found = strcasecmp(tok, feature) == 0;
	free(copy);
	return found;
}

/*
 * match_addr_parse - a host address in text form (IPv4, IPv6, optionally
 * in brackets, "IPv6:" or a "%scope" suffix) into a /32 or /128 network.
 * Returns 0, or -1 if text is not an address.
 */
int
match_addr_parse(const char *text, struct match_net *out)
{
	char tmp[INET6_ADDRSTRLEN + 16], *cp;
	size_t len = strlen(text);

	memset(out, 0, sizeof(*out));
	if (len >= sizeof(tmp))
		return -1;
	memcpy(tmp, text, len + 1);
	cp = tmp;
	if (cp[0] == '[') {
		if (len < 3 || cp[len - 1] != ']')
			return -1;
		cp[len - 1] = 0;
		cp++;
	}
	if (str_caseprefix(cp, "IPv6:"))
		cp += 5;
	if (strchr(cp, ':')) {
		char *pct = strchr(cp, '%');

		if (pct)
			*pct = 0;
		if (inet_pton(AF_INET6, cp, out->addr) != 1)
			return -1;
		out->family = 6;
		out->len = 128;
		return 0;
	}
	if (inet_pton(AF_INET, cp, out->addr) != 1)
		return -1;
	out->family = 4;
	out->len = 32;
	return 0;
}

/*
 * match_net_parse - a network pattern: "a.b.c.d", "a.b.c.d/len",
 * "[addr]", "[addr]/len", a bare IPv6 address with optional "/len".
 * Host bits after the prefix must be zero (Postfix refuses them too:
 * the pattern is almost certainly not what was meant).
 */
int
match_net_parse(const char *pattern, struct match_net *out,
    struct buf *why)
{
	char tmp[INET6_ADDRSTRLEN + 16];
	const char *slash;
	size_t alen, i;
	long len = -1;
	int bytes;

	memset(out, 0, sizeof(*out));
	slash = strrchr(pattern, '/');
	if (slash && pattern[0] == '[' && strchr(slash, ']'))
		slash = NULL;		/* "[a/b]" is not a length */
	alen = slash ? (size_t)(slash - pattern) : strlen(pattern);
	if (alen == 0 || alen >= sizeof(tmp)) {
		buf_printf(why, "bad address pattern: \"%s\"", pattern);
		return -1;
	}
	memcpy(tmp, pattern, alen);
	tmp[alen] = 0;
	if (strchr(tmp, '%') || match_addr_parse(tmp, out) < 0 ||
	    (pattern[0] != '[' && str_caseprefix(tmp, "IPv6:"))) {
		buf_printf(why, "bad address pattern: \"%s\"", pattern);
		return -1;
	}
	if (slash) {
		const char *d = slash + 1;

		if (*d == 0 || strspn(d, "0123456789") != strlen(d) ||
		    strlen(d) > 3 || parse_long(d, &len) < 0 ||
		    len > (out->family == 4 ? 32 : 128)) {
			buf_printf(why, "bad net/mask pattern: \"%s\"",
			    pattern);
			return -1;
		}
		out->len = (int)len;
	}
	bytes = out->family == 4 ? 4 : 16;
	for (i = 0; i < (size_t)bytes; i++) {
		int keep = out->len - (int)i * 8;
		unsigned char mask;

		if (keep >= 8)
			continue;
		mask = keep <= 0 ? 0 : (unsigned char)(0xff << (8 - keep));
		if (out->addr[i] & ~mask) {
			struct match_net fixed = *out;
			char ntop[INET6_ADDRSTRLEN];
			size_t j;

			for (j = i; j < (size_t)bytes; j++) {
				int k = out->len - (int)j * 8;

				fixed.addr[j] &= k <= 0 ? 0 :
				    k >= 8 ? 0xff : (unsigned char)(0xff <<
				    (8 - k));
			}
			inet_ntop(out->family == 4 ? AF_INET : AF_INET6,
			    fixed.addr, ntop, sizeof(ntop));
			buf_printf(why, "non-null host address bits in \"%s\", "
			    "perhaps you should use \"%s%s%s/%d\" instead",
			    pattern, out->family == 6 ? "[" : "", ntop,
			    out->family == 6 ? "]" : "", out->len);
			return -1;
		}
	}
	return 0;
}

/*
 * match_net_contains - is host address a (from match_addr_parse) inside
 * network n?  An IPv4 network also matches the IPv4-mapped IPv6 form
 * (::ffff:a.b.c.d) of its addresses.
 */
int
match_net_contains(const struct match_net *n, const struct match_net *a)
{
	static const unsigned char mapped[12] = {
		0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff
	};
	const unsigned char *ab = a->addr;
	int full, rest;

	if (n->family == 4 && a->family == 6 &&
	    memcmp(a->addr, mapped, sizeof(mapped)) == 0)
		ab = a->addr + 12;
	else if (n->family != a->family)
		return 0;
	full = n->len / 8;
	rest = n->len % 8;
	if (full && memcmp(n->addr, ab, (size_t)full) != 0)
		return 0;
	if (rest) {
		unsigned char mask = (unsigned char)(0xff << (8 - rest));

		if ((n->addr[full] & mask) != (ab[full] & mask))
			return 0;
	}
	return 1;
}

/* match_looks_like_net - should tok be parsed as a network pattern? */
static int
match_looks_like_net(const char *tok)
{
	struct match_net n;
	struct buf why = BUF_INIT;
	int r;

	if (tok[0] == '[' || strspn(tok, "0123456789./") == strlen(tok))
		return 1;
	if (strchr(tok, '/') && strchr(tok, ':') == NULL)
		return 1;		/* "name/24" is a broken pattern */
	/* A bare IPv6 address ("::1", "2001:db8::/32") rather than a table. */
	r = match_net_parse(tok, &n, &why) == 0 || (strchr(tok, '/') &&
	    strspn(tok, "0123456789abcdefABCDEF:./") == strlen(tok));
	buf_free(&why);
	return r;
}

/* match_add - one entry */
static void
match_add(struct match_list *m, const char *tok, int depth)
{
	struct match_ent e;
	int negate = 0;

	while (*tok == '!') {
		negate = !negate;
		tok++;
	}
	if (*tok == 0)
		return;
	if (*tok == '/' && depth < 2) {
		struct buf text = BUF_INIT;
		char *cp, *t;

		if (file_read(tok, &text, 1024 * 1024) < 0) {
			char why[512];

			log_warn("%s: read %s: %m", m->title, tok);
			snprintf(why, sizeof(why), "cannot read %s: %s", tok,
			    strerror(errno));
			match_set_error(m, why);
			buf_free(&text);
			return;
		}
		cp = text.p ? text.p : "";
		while ((t = str_token(&cp, SEPARATORS)) != NULL) {
			if (*t == '#') {
				/* Skip the rest of a comment line. */
				cp += strcspn(cp, "\n");
				continue;
			}
			if (negate) {
				char *neg = xasprintf("!%s", t);

				match_add(m, neg, depth + 1);
				free(neg);
			} else {
				match_add(m, t, depth + 1);
			}
		}
		buf_free(&text);
		return;
	}
	memset(&e, 0, sizeof(e));
	e.negate = negate;
	if (match_looks_like_net(tok)) {
		struct buf why = BUF_INIT;

		if (match_net_parse(tok, &e.net, &why) < 0) {
			log_warn("%s: %s", m->title, buf_str(&why));
			match_set_error(m, buf_str(&why));
			buf_free(&why);
			return;
		}
		buf_free(&why);
		e.is_net = 1;
	} else if (strchr(tok, ':')) {
		e.maps = maps_open(m->title, tok, DICT_FLAG_FOLD_FIX);
		e.pattern = match_table_is_pattern(tok);
	} else {
		e.name = str_lower(xstrdup(tok));
	}
	m->v = xreallocarray(m->v, m->n + 1, sizeof(*m->v));
	m->v[m->n++] = e;
}

/*
 * match_list_new_flags - compile a list; title names it in messages,
 * flags are MATCH_FLAG_*
 */
struct match_list *
match_list_new_flags(const char *title, const char *spec, int flags)
{
	struct match_list *m = xcalloc(1, sizeof(*m));
	char *copy = xstrdup(spec ? spec : ""), *cp = copy, *tok;
	char err[64] = "";

	m->title = xstrdup(title);
	m->flags = flags;
	for (;;) {
		int bad = 0;

		/* "{ text }" groups; "type:{ k=v, ... }" is one table. */
		cp += strspn(cp, SEPARATORS);
		if (*cp == '{')
			tok = str_token_braced(&cp, SEPARATORS, err,
			    sizeof(err));
		else
			tok = maps_token(&cp, &bad);
		if (tok == NULL)
			break;
		if (bad) {
			strlcpy_trunc(err, "unbalanced '{' or '}'",
			    sizeof(err));
			break;
		}
		match_add(m, tok, 0);
	}
	if (err[0])
		match_set_error(m, err);
	free(copy);
	return m;
}

/* match_list_new - compile a domain list without parent matching */
struct match_list *
match_list_new(const char *title, const char *spec)
{
	return match_list_new_flags(title, spec, 0);
}

/* match_list_empty - no entries at all? */
int
match_list_empty(const struct match_list *m)
{
	return m->n == 0 && m->error == NULL;
}

/*
 * match_name - does a folded domain name (no trailing dot) match a name
 * pattern?  ".name" matches subdomains; with MATCH_FLAG_PARENT, "name"
 * does too.
 */
static int
match_name(const struct match_list *m, const char *pat, const char *name,
    size_t len)
{
	size_t pl = strlen(pat);

	if (strcmp(name, pat) == 0)
		return 1;
	if (pat[0] == '.')
		return len > pl && strcmp(name + len - pl, pat) == 0;
	if ((m->flags & MATCH_FLAG_PARENT) && len > pl + 1 &&
	    name[len - pl - 1] == '.' && strcmp(name + len - pl, pat) == 0)
		return 1;
	return 0;
}

/*
 * match_table_name - look a folded domain up in a table: the name, then
 * (fixed tables only) its parent domains, as "parent" with
 * MATCH_FLAG_PARENT and as ".parent" without.  DICT_* result.
 */
static int
match_table_name(const struct match_list *m, const struct match_ent *e,
    const char *name, struct buf *val, struct buf *why)
{
	const char *dot;
	int r;

	if ((r = maps_find(e->maps, name, val, why)) != DICT_NOTFOUND)
		return r;
	if (e->pattern)
		return DICT_NOTFOUND;
	for (dot = strchr(name + 1, '.'); dot && dot[1];
	    dot = strchr(dot + 1, '.')) {
		const char *key = (m->flags & MATCH_FLAG_PARENT) ? dot + 1 :
		    dot;

		if ((r = maps_find(e->maps, key, val, why)) != DICT_NOTFOUND)
			return r;
	}
	return DICT_NOTFOUND;
}

/*
 * match_list_host - does a host match?  name (may be NULL: no name) is
 * matched against the domain patterns and looked up in tables; addr (may
 * be NULL) against the network patterns, and then looked up in tables.
 * 1 yes, 0 no, -1 error (reason in why).
 */
int
match_list_host(struct match_list *m, const char *name, const char *addr,
    struct buf *why)
{
	char folded[256];
	size_t i, len = 0;
	struct buf val = BUF_INIT;
	struct match_net a;
	int have_addr = 0;

	if (m->error) {
		buf_sets(why, m->error);
		return -1;
	}
	if (name) {
		len = strlen(name);
		if (len == 0 || len >= sizeof(folded)) {
			name = NULL;
		} else {
			memcpy(folded, name, len + 1);
			str_lower(folded);
			if (len > 1 && folded[len - 1] == '.')
				folded[--len] = 0;
			name = folded;
		}
	}
	if (addr && *addr && match_addr_parse(addr, &a) == 0)
		have_addr = 1;
	/* A domain that is an address literal also matches networks. */
	else if (addr == NULL && name && name[0] == '[' &&
	    match_addr_parse(name, &a) == 0)
		have_addr = 1;
	for (i = 0; i < m->n; i++) {
		struct match_ent *e = &m->v[i];
		int hit = 0, r;

		if (e->is_net) {
			hit = have_addr && match_net_contains(&e->net, &a);
		} else if (e->name) {
			hit = name && match_name(m, e->name, name, len);
		} else {
			if (name && (r = match_table_name(m, e, name, &val,
			    why)) != DICT_NOTFOUND)
				hit = r;
			if (hit == 0 && have_addr && addr && (r = maps_find(
			    e->maps, addr, &val, why)) != DICT_NOTFOUND)
				hit = r;
			if (hit == DICT_ERROR) {
				buf_free(&val);
				return -1;
			}
		}
		if (hit) {
			buf_free(&val);
			return e->negate ? 0 : 1;
		}
	}
	buf_free(&val);
	return 0;
}

/*
 * match_list_domain - does domain match?  1 yes, 0 no, -1 error (with
 * reason in why).
 */
int
match_list_domain(struct match_list *m, const char *domain, struct buf *why)
{
	return match_list_host(m, domain, NULL, why);
}

/*
 * match_list_addr - does a host address (text) match?  1 yes, 0 no, -1
 * error (with reason in why).
 */
int
match_list_addr(struct match_list *m, const char *addr, struct buf *why)
{
	return match_list_host(m, NULL, addr, why);
}

/* match_list_free - release a list */
void
match_list_free(struct match_list *m)
{
	size_t i;

	if (m == NULL)
		return;
	for (i = 0; i < m->n; i++) {
		free(m->v[i].name);
		if (m->v[i].maps)
			maps_free(m->v[i].maps);
	}
	free(m->v);
	free(m->title);
	free(m->error);
	free(m);
}
