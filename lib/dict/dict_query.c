/*
 * NAME		dict_query - shared parts of the ldap: and mysql: clients
 * DESCRIPTION	See dict_query.h.  The configuration file is read with
 *		the main.cf parser (lib/mail/conf): "name = value" lines,
 *		continuation lines, comments; values are taken as written
 *		($name is not expanded, as in Postfix's table files).
 * SECURITY	Every expansion is bounded by DICT_VALUE_MAX; the key is
 *		already bounded by dict_lookup() (DICT_KEY_MAX).
 * SEE ALSO	doc/tables.md
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "mail/conf.h"
#include "util/log.h"
#include "util/mem.h"
#include "util/strutil.h"
#include "dict.h"
#include "dict_query.h"
#include "match.h"

struct dq_file {
	struct conf *conf;
	char	*path;
};

/* dq_file_read - parse a table configuration file, or NULL with a reason */
struct dq_file *
dq_file_read(const char *path, struct buf *why)
{
	struct dq_file *f;
	struct conf *c = conf_new();

	if (conf_read(c, path, why) < 0) {
		conf_free(c);
		return NULL;
	}
	f = xcalloc(1, sizeof(*f));
	f->conf = c;
	f->path = xstrdup(path);
	return f;
}

/* dq_str - the value of name as written, or def when it is not set */
const char *
dq_str(struct dq_file *f, const char *name, const char *def)
{
	const char *v = conf_raw(f->conf, name);

	return v ? v : def;
}

/* dq_long - a number between min and max (0: none); -1 with a reason */
int
dq_long(struct dq_file *f, const char *name, long def, long min, long max,
    long *out, struct buf *why)
{
	const char *v = conf_raw(f->conf, name);
	char *end;
	long n;

	if (v == NULL) {
		*out = def;
		return 0;
	}
	errno = 0;
	n = strtol(v, &end, 10);
	if (*v == 0 || *end != 0 || errno != 0 || n < min ||
	    (max > 0 && n > max)) {
		buf_printf(why, "%s: bad %s value \"%.100s\"", f->path, name, v);
		return -1;
	}
	*out = n;
	return 0;
}

/* dq_bool - yes or no; -1 with a reason */
int
dq_bool(struct dq_file *f, const char *name, int def, int *out,
    struct buf *why)
{
	const char *v = conf_raw(f->conf, name);

	if (v == NULL) {
		*out = def;
		return 0;
	}
	if (parse_bool(v, out) < 0) {
		buf_printf(why, "%s: bad %s value \"%.100s\" (yes or no)",
		    f->path, name, v);
		return -1;
	}
	return 0;
}

/* dq_file_unknown - warn about names not in known (NULL-terminated) */
void
dq_file_unknown(struct dq_file *f, const char *const *known)
{
	char **names = conf_names(f->conf, 0);
	size_t i, k;

	for (i = 0; names[i]; i++) {
		for (k = 0; known[k]; k++)
			if (strcmp(names[i], known[k]) == 0)
				break;
		if (known[k] == NULL)
			log_warn("%s: unknown parameter \"%s\" ignored", f->path,
			    names[i]);
	}
	free(names);
}

/* dq_file_name - the path, for messages */
const char *
dq_file_name(const struct dq_file *f)
{
	return f->path;
}

/* dq_file_free - forget the file */
void
dq_file_free(struct dq_file *f)
{
	if (f == NULL)
		return;
	conf_free(f->conf);
	free(f->path);
	free(f);
}

/* dq_template_check - 0 when every "%" sequence is known, or -1 */
int
dq_template_check(const char *fmt, struct buf *why)
{
	const char *p;

	for (p = fmt; *p; p++) {
		if (*p != '%')
			continue;
		if (p[1] == 0 || strchr("%sSuUdD123456789", p[1]) == NULL) {
			buf_printf(why, "bad %% sequence \"%%%.1s\" in \"%.200s\"",
			    p[1] ? p + 1 : "", fmt);
			return -1;
		}
		p++;
	}
	return 0;
}

/* The parts of an address: local part, and domain (NULL if unqualified). */
struct dq_parts {
	const char *all;
	size_t	 alen;
	const char *local;
	size_t	 llen;
	const char *domain;
	size_t	 dlen;
};

/* dq_split - local part and domain of text, split at the last "@" */
static void
dq_split(const char *text, size_t len, struct dq_parts *p)
{
	const char *at = NULL;
	size_t i;

	for (i = len; i > 0; i--)
		if (text[i - 1] == '@') {
			at = text + i - 1;
			break;
		}
	p->all = text;
	p->alen = len;
	if (at == NULL) {
		p->local = text;
		p->llen = len;
		p->domain = NULL;
		p->dlen = 0;
	} else {
		p->local = text;
		p->llen = (size_t)(at - text);
		p->domain = at + 1;
		p->dlen = len - p->llen - 1;
	}
}

/*
 * dq_label - label n of the domain, 1 the last; empty labels do not
 * count.  0 when there is no such label.
 */
static int
dq_label(const struct dq_parts *p, int n, const char **lp, size_t *ll)
{
	size_t end, start;

	if (p->domain == NULL)
		return 0;
	end = p->dlen;
	while (end > 0) {
		while (end > 0 && p->domain[end - 1] == '.')
			end--;
		if (end == 0)
			break;
		start = end;
		while (start > 0 && p->domain[start - 1] != '.')
			start--;
		if (--n == 0) {
			*lp = p->domain + start;
			*ll = end - start;
			return 1;
		}
		end = start;
	}
	return 0;
}

/*
 * dq_expand - expand fmt into out.  key holds the key's parts; val those
 * of the result value (NULL for a query: lower case means the key).
 * Returns 1, 0 when suppressed, or -1 (too long) with a reason.
 */
static int
dq_expand(const char *fmt, const struct dq_parts *key,
    const struct dq_parts *val, dq_quote_fn quote, void *qctx,
    struct buf *out, struct buf *why)
{
	const char *p, *text;
	const struct dq_parts *src;
	size_t tlen;

	for (p = fmt; *p; p++) {
		if (*p != '%') {
			buf_putc(out, *p);
			continue;
		}
		p++;
		if (*p == '%') {
			buf_putc(out, '%');
			continue;
		}
		src = (val && (*p == 's' || *p == 'u' || *p == 'd')) ? val : key;
		switch (*p) {
		case 's':
		case 'S':
			text = src->all;
			tlen = src->alen;
			if (tlen == 0 && src == val)
				return 0;
			break;
		case 'u':
		case 'U':
			text = src->local;
			tlen = src->llen;
			if (tlen == 0 && src->domain)
				return 0;
			break;
		case 'd':
		case 'D':
			text = src->domain;
			tlen = src->dlen;
			if (text == NULL || tlen == 0)
				return 0;
			break;
		default:
			if (*p < '1' || *p > '9') {
				/* dq_template_check() ran at open time. */
				buf_printf(why, "bad %% sequence in \"%.200s\"",
				    fmt);
				return -1;
			}
			if (!dq_label(key, *p - '0', &text, &tlen))
				return 0;
			break;
		}
		if (quote && val == NULL)
			quote(out, text, tlen, qctx);
		else
			buf_put(out, text, tlen);
		if (out->len > DICT_VALUE_MAX) {
			buf_printf(why, "expansion of \"%.200s\" longer than %d "
			    "bytes", fmt, DICT_VALUE_MAX);
			return -1;
		}
	}
	if (out->len > DICT_VALUE_MAX) {
		buf_printf(why, "expansion of \"%.200s\" longer than %d bytes",
		    fmt, DICT_VALUE_MAX);
		return -1;
	}
	return 1;
}

/*
 * dq_expand_query - the query for key into out (reset first): 1, 0 when
 * the query is suppressed, -1 with a reason.
 */
int
dq_expand_query(const char *fmt, const char *key, dq_quote_fn quote,
    void *qctx, struct buf *out, struct buf *why)
{
	struct dq_parts k;

	buf_reset(out);
	dq_split(key, strlen(key), &k);
	return dq_expand(fmt, &k, NULL, quote, qctx, out, why);
}

/* dq_result_init - an empty answer for key */
void
dq_result_init(struct dq_result *r, struct buf *out, const char *fmt,
    const char *key, long limit)
{
	buf_reset(out);
	r->out = out;
	r->fmt = fmt;
	r->key = key;
	r->limit = limit;
	r->count = 0;
}

/*
 * dq_result_add - one result value through result_format: 1 added, 0
 * skipped, -1 (over expansion_limit, too long, NUL byte) with a reason.
 */
int
dq_result_add(struct dq_result *r, const char *value, size_t vlen,
    struct buf *why)
{
	struct dq_parts k, v;
	size_t mark = r->out->len;
	int rc;

	if (memchr(value, 0, vlen) != NULL) {
		buf_sets(why, "result value contains a NUL byte");
		return -1;
	}
	dq_split(r->key, strlen(r->key), &k);
	dq_split(value, vlen, &v);
	if (mark > 0)
		buf_putc(r->out, ',');
	rc = dq_expand(r->fmt, &k, &v, NULL, NULL, r->out, why);
	if (rc <= 0) {
		buf_truncate(r->out, mark);
		return rc;
	}
	if (r->limit > 0 && r->count >= r->limit) {
		buf_truncate(r->out, mark);
		buf_printf(why, "more than expansion_limit=%ld results",
		    r->limit);
		return -1;
	}
	r->count++;
	return 1;
}

/*
 * dq_result_key_fits - 1 when the key has every part that the
 * result_format fmt takes from it, 0 when any value would be skipped for
 * want of a key part.  A stand-in value that has every part ("x@x") shows
 * which it is.
 */
int
dq_result_key_fits(const char *fmt, const char *key)
{
	struct dq_parts k, v;
	struct buf out = BUF_INIT, why = BUF_INIT;
	int rc;

	dq_split(key, strlen(key), &k);
	dq_split("x@x", 3, &v);
	rc = dq_expand(fmt, &k, &v, NULL, NULL, &out, &why);
	buf_free(&out);
	buf_free(&why);
	/* Too long (-1): let the real values report it. */
	return rc != 0;
}

/* dq_domain_list - the file's "domain" list, or NULL when not set */
struct match_list *
dq_domain_list(struct dq_file *f)
{
	const char *v = dq_str(f, "domain", "");

	return *v ? match_list_new("domain", v) : NULL;
}

/*
 * dq_domain_ok - may key be looked up under the domain list (NULL: any
 * key)?  Only user@domain with a non-empty local part and a listed domain
 * may.  1 yes, 0 no, -1 when the list cannot be read.
 */
int
dq_domain_ok(struct match_list *domains, const char *key, struct buf *why)
{
	const char *at;

	if (domains == NULL)
		return 1;
	if ((at = strrchr(key, '@')) == NULL || at == key || at[1] == 0)
		return 0;
	return match_list_domain(domains, at + 1, why);
}
