/*
 * NAME		tls_parse - TLS settings in Postfix syntax
 * DESCRIPTION	tls_level_parse() maps a security level name to TLS_LEV_*.
 *
 *		tls_protos_parse() reads a protocol list as Postfix does:
 *		names separated by spaces, commas or colons; "!name"
 *		excludes a version, a plain "name" enables only the versions
 *		named, ">=name" and "<=name" set a floor and a ceiling.  The
 *		result is a bit set plus the OpenSSL min/max versions and
 *		SSL_OP_NO_* options for versions excluded inside the range.
 *		An unknown name, or a list that leaves no usable version, is
 *		an error (a caller then does without TLS, or defers).
 *
 *		tls_cipherlist() turns a grade (high, medium, low, export,
 *		null) and an exclusion list into an OpenSSL cipher string:
 *		the grade's tls_*_cipherlist value followed by ":!name" for
 *		each excluded name.
 *
 *		tls_ssl_options_parse() reads tls_ssl_options: SSL_OP_
 *		names without the prefix, or hexadecimal masks.
 *
 *		tls_policy_parse() reads an smtp_tls_policy_maps value:
 *		"LEVEL [match=a:b] [protocols=...] [ciphers=GRADE]
 *		[exclude=...] [servername=...]"; at level fingerprint the
 *		match list is "AB:CD:..|EF:01:.." (fingerprints hold colons).
 * SECURITY	Input comes from main.cf and lookup tables: every list is
 *		bounded (TLS_LIST_MAX names of at most TLS_NAME_MAX bytes) and
 *		cipher names are restricted to the characters OpenSSL uses,
 *		so a table value cannot smuggle a different cipher string.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/ssl.h>

#include "util/mem.h"
#include "util/strutil.h"
#include "tls.h"

static const struct {
	const char *name;
	int	 level;
} tls_levels[] = {
	{"none", TLS_LEV_NONE},
	{"may", TLS_LEV_MAY},
	{"encrypt", TLS_LEV_ENCRYPT},
	{"verify", TLS_LEV_VERIFY},
	{"secure", TLS_LEV_SECURE},
	{"fingerprint", TLS_LEV_FPRINT},
	{"dane", TLS_LEV_UNSUPPORTED},
	{"dane-only", TLS_LEV_UNSUPPORTED},
	{NULL, 0},
};

/* tls_level_parse - TLS_LEV_* of a level name, or -1 */
int
tls_level_parse(const char *name)
{
	int i;

	for (i = 0; tls_levels[i].name; i++)
		if (strcasecmp(name, tls_levels[i].name) == 0)
			return tls_levels[i].level;
	return -1;
}

/* tls_level_name - the name of a TLS_LEV_* */
const char *
tls_level_name(int level)
{
	int i;

	for (i = 0; tls_levels[i].name; i++)
		if (tls_levels[i].level == level)
			return tls_levels[i].name;
	return "unknown";
}

static const struct {
	const char *name;
	unsigned bit;
	int	 version;
	long	 no_op;
} tls_proto_names[] = {
	{"SSLv2", TLS_P_SSLv2, 0, 0},
	{"SSLv3", TLS_P_SSLv3, SSL3_VERSION, SSL_OP_NO_SSLv3},
	{"TLSv1", TLS_P_TLSv1, TLS1_VERSION, SSL_OP_NO_TLSv1},
	{"TLSv1.1", TLS_P_TLSv1_1, TLS1_1_VERSION, SSL_OP_NO_TLSv1_1},
	{"TLSv1.2", TLS_P_TLSv1_2, TLS1_2_VERSION, SSL_OP_NO_TLSv1_2},
	{"TLSv1.3", TLS_P_TLSv1_3, TLS1_3_VERSION, SSL_OP_NO_TLSv1_3},
	{NULL, 0, 0, 0},
};

/* tls_proto_index - index of a protocol name of len bytes, or -1 */
static int
tls_proto_index(const char *p, size_t len)
{
	int i;

	for (i = 0; tls_proto_names[i].name; i++)
		if (strlen(tls_proto_names[i].name) == len &&
		    strncasecmp(p, tls_proto_names[i].name, len) == 0)
			return i;
	return -1;
}

/*
 * tls_list_next - the next name of a list at *p (names separated by any
 * of seps), bounded as every TLS list is: at most TLS_LIST_MAX names
 * (*count counts them) of at most TLS_NAME_MAX bytes.  1 with the name
 * in *name and *len (and *p past it), 0 at the end, -1 with why ("too
 * many names in what", "what: name too long").
 */
static int
tls_list_next(const char **p, const char *seps, const char **name,
    size_t *len, int *count, const char *what, struct buf *why)
{
	*p += strspn(*p, seps);
	if (**p == 0)
		return 0;
	*name = *p;
	*len = strcspn(*p, seps);
	*p += *len;
	if (++*count > TLS_LIST_MAX) {
		buf_printf(why, "too many names in %s", what);
		return -1;
	}
	if (*len > TLS_NAME_MAX) {
		buf_printf(why, "%s: name too long", what);
		return -1;
	}
	return 1;
}

/*
 * tls_protos_parse - a Postfix protocol list into *out; 0, or -1 with
 * the reason in why
 */
int
tls_protos_parse(const char *spec, struct tls_protos *out, struct buf *why)
{
	unsigned include = 0, exclude = 0, mask;
	int floor_i = 0, ceil_i = 5, count = 0, i, idx, r;
	const char *p = spec, *start;
	size_t n;

	memset(out, 0, sizeof(*out));
	while ((r = tls_list_next(&p, " \t,:", &start, &n, &count,
	    "protocol list", why)) > 0) {
		const char *name = start;
		int kind = 0;		/* 0 plain, 1 !, 2 >=, 3 <= */

		if (n >= 1 && name[0] == '!') {
			kind = 1;
			name++;
		} else if (n >= 2 && (strncmp(name, ">=", 2) == 0 ||
		    strncmp(name, "<=", 2) == 0)) {
			kind = name[0] == '>' ? 2 : 3;
			name += 2;
		}
		idx = tls_proto_index(name, n - (size_t)(name - start));
		if (idx < 0) {
			buf_printf(why, "unknown TLS protocol \"%.*s\"",
			    (int)n, start);
			return -1;
		}
		switch (kind) {
		case 0:
			include |= tls_proto_names[idx].bit;
			break;
		case 1:
			exclude |= tls_proto_names[idx].bit;
			break;
		case 2:
			if (idx > floor_i)
				floor_i = idx;
			break;
		default:
			if (idx < ceil_i)
				ceil_i = idx;
			break;
		}
	}
	if (r < 0)
		return -1;
	mask = include ? include : TLS_P_ALL;
	mask &= ~exclude;
	for (i = 0; tls_proto_names[i].name; i++)
		if (i < floor_i || i > ceil_i)
			mask &= ~tls_proto_names[i].bit;
	out->mask = mask;
	mask &= TLS_P_USABLE;
	if (mask == 0) {
		buf_printf(why, "protocol list \"%s\" leaves no usable TLS "
		    "version", spec);
		return -1;
	}
	for (i = 0; tls_proto_names[i].name; i++) {
		if (!(tls_proto_names[i].bit & TLS_P_USABLE))
			continue;
		if (mask & tls_proto_names[i].bit) {
			if (out->min == 0)
				out->min = tls_proto_names[i].version;
			out->max = tls_proto_names[i].version;
		}
	}
	/* Holes between min and max. */
	for (i = 0; tls_proto_names[i].name; i++) {
		if (tls_proto_names[i].version > out->min &&
		    tls_proto_names[i].version < out->max &&
		    !(mask & tls_proto_names[i].bit))
			out->no_ops |= tls_proto_names[i].no_op;
	}
	return 0;
}

/* tls_ssl_options: Postfix's names, SSL_OP_ without the prefix. */
static const struct {
	const char *name;
	uint64_t bit;
} tls_ssl_ops[] = {
	{"ENABLE_MIDDLEBOX_COMPAT", SSL_OP_ENABLE_MIDDLEBOX_COMPAT},
	{"LEGACY_SERVER_CONNECT", SSL_OP_LEGACY_SERVER_CONNECT},
	{"NO_TICKET", SSL_OP_NO_TICKET},
	{"NO_COMPRESSION", SSL_OP_NO_COMPRESSION},
	{"NO_RENEGOTIATION", SSL_OP_NO_RENEGOTIATION},
	{"NO_SESSION_RESUMPTION_ON_RENEGOTIATION",
	    SSL_OP_NO_SESSION_RESUMPTION_ON_RENEGOTIATION},
	{"PRIORITIZE_CHACHA", SSL_OP_PRIORITIZE_CHACHA},
	{"ENABLE_KTLS", SSL_OP_ENABLE_KTLS},
	{NULL, 0},
};

/* Options the protocol lists and tls_preempt_cipherlist decide. */
#define TLS_SSL_OPS_MANAGED	(SSL_OP_NO_SSL_MASK | \
				 SSL_OP_CIPHER_SERVER_PREFERENCE)

/*
 * tls_ssl_options_parse - tls_ssl_options: names (any case) separated by
 * spaces or commas, or hexadecimal bit masks ("0x00400000") for options
 * this list does not name.  The bits go to *ops; 0, or -1 with the
 * reason in why.  Masks may not touch the options Postern sets from
 * other parameters (protocol versions, server cipher preference).
 */
int
tls_ssl_options_parse(const char *spec, uint64_t *ops, struct buf *why)
{
	const char *p = spec, *start;
	int count = 0, i, r;
	size_t n;

	*ops = 0;
	while ((r = tls_list_next(&p, " \t\r\n,", &start, &n, &count,
	    "tls_ssl_options", why)) > 0) {
		char name[TLS_NAME_MAX + 1], *end;

		memcpy(name, start, n);
		name[n] = 0;
		if (n > 2 && name[0] == '0' && (name[1] == 'x' ||
		    name[1] == 'X')) {
			unsigned long long v;

			errno = 0;
			v = strtoull(name + 2, &end, 16);
			/* Only hex digits: strtoull() would take "-1" too. */
			if (errno != 0 || *end != 0 || n > 18 ||
			    strspn(name + 2, "0123456789abcdefABCDEF") != n - 2) {
				buf_printf(why, "tls_ssl_options: bad hexadecimal "
				    "value \"%s\"", name);
				return -1;
			}
			if (v & TLS_SSL_OPS_MANAGED) {
				buf_printf(why, "tls_ssl_options: \"%s\" sets "
				    "protocol or cipher preference options; use "
				    "the *_tls_protocols parameters or "
				    "tls_preempt_cipherlist", name);
				return -1;
			}
			*ops |= (uint64_t)v;
			continue;
		}
		for (i = 0; tls_ssl_ops[i].name; i++)
			if (strcasecmp(name, tls_ssl_ops[i].name) == 0)
				break;
		if (tls_ssl_ops[i].name == NULL) {
			buf_printf(why, "tls_ssl_options: unknown option \"%s\"",
			    name);
			return -1;
		}
		*ops |= tls_ssl_ops[i].bit;
	}
	return r < 0 ? -1 : 0;
}

/* tls_grade_parse - TLS_GRADE_* of a grade name, or -1 */
int
tls_grade_parse(const char *name)
{
	static const char *names[] = {"high", "medium", "low", "export",
	    "null", NULL};
	int i;

	for (i = 0; names[i]; i++)
		if (strcasecmp(name, names[i]) == 0)
			return i;
	return -1;
}

/* tls_cipher_name_ok - only what OpenSSL cipher names are made of */
static int
tls_cipher_name_ok(const char *p, size_t n)
{
	size_t i;

	if (n == 0 || n > TLS_NAME_MAX)
		return 0;
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)p[i];

		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		    (c >= '0' && c <= '9') || c == '-' || c == '_' ||
		    c == '.' || c == '+' || c == '='))
			return 0;
	}
	return 1;
}

/*
 * tls_cipherlist - the OpenSSL cipher string for grade less the names in
 * exclude (separated by spaces, commas or colons).  0, or -1 with why.
 */
int
tls_cipherlist(const struct tls_grades *g, const char *grade,
    const char *exclude, struct buf *out, struct buf *why)
{
	int gi = tls_grade_parse(grade), count = 0, r;
	const char *p = exclude ? exclude : "", *name;
	size_t n;

	buf_reset(out);
	if (gi < 0) {
		buf_printf(why, "unknown cipher grade \"%.64s\"", grade);
		return -1;
	}
	if (g->list[gi] == NULL || *g->list[gi] == 0) {
		buf_printf(why, "cipher grade \"%s\" has an empty cipher list",
		    grade);
		return -1;
	}
	buf_puts(out, g->list[gi]);
	while ((r = tls_list_next(&p, " \t,:", &name, &n, &count,
	    "cipher exclusion list", why)) > 0) {
		if (!tls_cipher_name_ok(name, n)) {
			buf_printf(why, "bad cipher name in exclusion list: "
			    "\"%.*s\"", (int)n, name);
			return -1;
		}
		buf_puts(out, ":!");
		buf_put(out, name, n);
	}
	return r < 0 ? -1 : 0;
}

/* tls_policy_init - an empty policy */
void
tls_policy_init(struct tls_policy *tp)
{
	/* A zeroed argv is empty and allocates on first use. */
	memset(tp, 0, sizeof(*tp));
	tp->level = TLS_LEV_NONE;
}

/* tls_policy_free - release what tls_policy_parse() allocated */
void
tls_policy_free(struct tls_policy *tp)
{
	argv_clear(&tp->match);
	free(tp->protocols);
	free(tp->ciphers);
	free(tp->exclude);
	free(tp->servername);
	tls_policy_init(tp);
}

/* tls_policy_set - store one attribute value once */
static int
tls_policy_set(char **field, const char *name, const char *v, size_t n,
    struct buf *why)
{
	if (*field != NULL) {
		buf_printf(why, "duplicate \"%s\" attribute", name);
		return -1;
	}
	*field = xstrndup(v, n);
	return 0;
}

/*
 * tls_policy_parse - an smtp_tls_policy_maps value into *tp (which the
 * caller initialized).  0, or -1 with the reason in why.
 */
int
tls_policy_parse(const char *value, struct tls_policy *tp, struct buf *why)
{
	const char *p = value;
	int first = 1, count = 0;

	while (*p) {
		const char *eq;
		size_t n, k;

		p += strspn(p, " \t,");
		if (*p == 0)
			break;
		n = strcspn(p, " \t,");
		if (++count > TLS_LIST_MAX || n > 1024) {
			buf_printf(why, "policy entry too long");
			return -1;
		}
		if (first) {
			char lev[32];

			first = 0;
			if (n >= sizeof(lev)) {
				buf_printf(why, "unknown TLS security level");
				return -1;
			}
			memcpy(lev, p, n);
			lev[n] = 0;
			if ((tp->level = tls_level_parse(lev)) == -1) {
				buf_printf(why, "unknown TLS security level "
				    "\"%s\"", lev);
				return -1;
			}
			p += n;
			continue;
		}
		eq = memchr(p, '=', n);
		if (eq == NULL) {
			buf_printf(why, "attribute without a value: \"%.*s\"",
			    (int)(n > 64 ? 64 : n), p);
			return -1;
		}
		k = (size_t)(eq - p);
		eq++;
		n -= k + 1;
		if (k == 5 && strncasecmp(p, "match", 5) == 0) {
			const char *m = eq, *end = eq + n;
			/* Fingerprints hold colons: "|" separates them. */
			int sep = tp->level == TLS_LEV_FPRINT ? '|' : ':';

			if (tp->match.n > 0 || n == 0) {
				buf_printf(why, "bad \"match\" attribute");
				return -1;
			}
			while (m < end) {
				const char *c = memchr(m, sep, (size_t)(end -
				    m));
				size_t len = c ? (size_t)(c - m) :
				    (size_t)(end - m);

				if (len > 0) {
					if (tp->match.n >= TLS_LIST_MAX ||
					    len > 255) {
						buf_printf(why, "bad \"match\" "
						    "attribute");
						return -1;
					}
					argv_addn(&tp->match, m, len);
				}
				m += len + (c ? 1 : 0);
			}
			if (tp->match.n == 0) {
				buf_printf(why, "bad \"match\" attribute");
				return -1;
			}
		} else if (k == 9 && strncasecmp(p, "protocols", 9) == 0) {
			if (tls_policy_set(&tp->protocols, "protocols", eq, n,
			    why) < 0)
				return -1;
		} else if (k == 7 && strncasecmp(p, "ciphers", 7) == 0) {
			if (tls_policy_set(&tp->ciphers, "ciphers", eq, n,
			    why) < 0)
				return -1;
			if (tls_grade_parse(tp->ciphers) < 0) {
				buf_printf(why, "unknown cipher grade \"%.64s\"",
				    tp->ciphers);
				return -1;
			}
		} else if (k == 7 && strncasecmp(p, "exclude", 7) == 0) {
			if (tls_policy_set(&tp->exclude, "exclude", eq, n,
			    why) < 0)
				return -1;
		} else if (k == 10 && strncasecmp(p, "servername", 10) == 0) {
			if (tls_policy_set(&tp->servername, "servername", eq,
			    n, why) < 0)
				return -1;
			if (n == 0 || n > 255 || !str_allprint(eq, n)) {
				buf_printf(why, "bad \"servername\" attribute");
				return -1;
			}
		} else {
			buf_printf(why, "unknown or unsupported attribute "
			    "\"%.*s\"", (int)(k > 64 ? 64 : k), p);
			return -1;
		}
		p = eq + n;
	}
	if (first) {
		buf_printf(why, "empty policy");
		return -1;
	}
	if (tp->protocols) {
		struct tls_protos tmp;

		if (tls_protos_parse(tp->protocols, &tmp, why) < 0)
			return -1;
	}
	if (tp->exclude) {
		static const struct tls_grades dummy = {{"x", "x", "x", "x",
		    "x"}};
		struct buf tmp = BUF_INIT;
		int r = tls_cipherlist(&dummy, "high", tp->exclude, &tmp, why);

		buf_free(&tmp);
		if (r < 0)
			return -1;
	}
	return 0;
}
