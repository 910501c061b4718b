/*
 * NAME		conf - main.cf parameters: parsing, expansion, typed tables
 * DESCRIPTION	main.cf syntax (as Postfix): "name = value"; a line that
 *		starts with white space continues the previous logical line;
 *		blank lines and lines whose first non-blank character is '#'
 *		are ignored.  A later setting of a name replaces an earlier
 *		one.  Expansion is recursive with a depth limit; an undefined
 *		name expands to the empty string.  In ${name?...} and
 *		${name:...} an operand is either {text} (Postfix 3.0, also
 *		${name?{a}:{b}}) or all the remaining text (Postfix 2.x).
 * SECURITY	The file, each logical line and each expansion are length
 *		bounded, and so is the number of names one expansion looks
 *		up (CONF_*_MAX); errors name the file and line.
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "util/files.h"
#include "util/htable.h"
#include "util/log.h"
#include "util/mem.h"
#include "util/strutil.h"
#include "conf.h"

struct conf_val {
	char	*raw;
	int	 source;
	char	*expanded;		/* cache, valid while gen matches */
	unsigned gen;
};

struct conf {
	struct htable *vals;		/* name -> struct conf_val */
	struct htable *rows;		/* name -> const struct param */
	struct htable *defs;		/* name -> char * computed default */
	unsigned gen;			/* bumped by every change */
};

/* conf_val_free - htable destructor */
static void
conf_val_free(void *p)
{
	struct conf_val *v = p;

	free(v->raw);
	free(v->expanded);
	free(v);
}

/* conf_new - make an empty configuration */
struct conf *
conf_new(void)
{
	struct conf *c = xcalloc(1, sizeof(*c));

	c->vals = htable_create(256);
	c->rows = htable_create(512);
	c->defs = htable_create(32);
	return c;
}

/* conf_free - destroy a configuration */
void
conf_free(struct conf *c)
{
	if (c == NULL)
		return;
	htable_free(c->vals, conf_val_free);
	htable_free(c->rows, NULL);
	htable_free(c->defs, free);
	free(c);
}

/* param_valid_name - letters, digits, '_' '-' '.' '/'; starts alnum */
int
param_valid_name(const char *s)
{
	if (!isalnum((unsigned char)*s))
		return 0;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && *s != '_' && *s != '-' &&
		    *s != '.' && *s != '/')
			return 0;
	return 1;
}

/* conf_set - set a raw value */
void
conf_set(struct conf *c, const char *name, const char *value, int source)
{
	struct hnode *n = htable_locate(c->vals, name);
	struct conf_val *v;

	if (n == NULL) {
		v = xcalloc(1, sizeof(*v));
		htable_enter(c->vals, name, v);
	} else {
		v = n->value;
		free(v->raw);
	}
	v->raw = xstrdup(value);
	v->source = source;
	c->gen++;
}

/* conf_unset - remove an explicit setting */
int
conf_unset(struct conf *c, const char *name)
{
	c->gen++;
	return htable_delete(c->vals, name, conf_val_free);
}

/* conf_raw - explicit raw value, or NULL */
const char *
conf_raw(const struct conf *c, const char *name)
{
	struct conf_val *v = htable_find(c->vals, name);

	return v && v->source != CONF_SRC_DEFAULT ? v->raw : NULL;
}

/* conf_source - where the explicit value came from, or -1 */
int
conf_source(const struct conf *c, const char *name)
{
	struct conf_val *v = htable_find(c->vals, name);

	return v && v->source != CONF_SRC_DEFAULT ? v->source : -1;
}

/* conf_register - make a table's rows known, for defaults */
void
conf_register(struct conf *c, const struct param *t)
{
	for (; t->name; t++)
		htable_enter(c->rows, t->name, (void *)t);
	c->gen++;
}

/* conf_set_default - override a row's default with a computed value */
void
conf_set_default(struct conf *c, const char *name, const char *value)
{
	struct hnode *n = htable_locate(c->defs, name);

	if (n) {
		free(n->value);
		n->value = xstrdup(value);
	} else {
		htable_enter(c->defs, name, xstrdup(value));
	}
	c->gen++;
}

/* conf_row - the registered row for name, or NULL */
const struct param *
conf_row(const struct conf *c, const char *name)
{
	return htable_find(c->rows, name);
}

/* conf_default - the default raw value of a registered name, or NULL */
const char *
conf_default(const struct conf *c, const char *name)
{
	const char *d = htable_find(c->defs, name);
	const struct param *row;

	if (d)
		return d;
	row = htable_find(c->rows, name);
	return row ? row->def : NULL;
}

/* conf_lookup_raw - explicit value, else default, else NULL */
static const char *
conf_lookup_raw(const struct conf *c, const char *name)
{
	const char *v = conf_raw(c, name);

	return v ? v : conf_default(c, name);
}

/* conf_parse_line - one logical line "name = value" */
static int
conf_parse_line(struct conf *c, char *line, const char *fname, int lineno,
    struct buf *why)
{
	char *eq, *name, *value;

	if ((eq = strchr(line, '=')) == NULL) {
		buf_printf(why, "%s, line %d: missing '=' after attribute name",
		    fname, lineno);
		return -1;
	}
	*eq = 0;
	name = str_trim(line);
	value = str_trim(eq + 1);
	if (*name == 0) {
		buf_printf(why, "%s, line %d: missing attribute name", fname,
		    lineno);
		return -1;
	}
	if (!param_valid_name(name)) {
		buf_printf(why, "%s, line %d: bad parameter name", fname,
		    lineno);
		return -1;
	}
	conf_set(c, name, value, CONF_SRC_MAINCF);
	return 0;
}

/* conf_parse - parse main.cf text; fname is used in error messages */
int
conf_parse(struct conf *c, const char *text, size_t len, const char *fname,
    struct buf *why)
{
	struct buf logical = BUF_INIT;
	size_t pos = 0;
	int lineno = 0, start_line = 0, r = 0;

	if (len > CONF_FILE_MAX) {
		buf_printf(why, "%s: file too large", fname);
		return -1;
	}
	while (pos < len && r == 0) {
		const char *nl = memchr(text + pos, '\n', len - pos);
		size_t llen = nl ? (size_t)(nl - (text + pos)) : len - pos;
		const char *lp = text + pos;
		size_t i = 0;

		pos += llen + (nl ? 1 : 0);
		lineno++;
		if (memchr(lp, 0, llen) != NULL) {
			buf_printf(why, "%s, line %d: NUL byte", fname, lineno);
			r = -1;
			break;
		}
		while (i < llen && isspace((unsigned char)lp[i]))
			i++;
		if (i == llen || lp[i] == '#')
			continue;
		if (i > 0) {
			/* Continuation of the previous logical line. */
			if (logical.len == 0) {
				buf_printf(why, "%s, line %d: text starts with "
				    "white space", fname, lineno);
				r = -1;
				break;
			}
			if (logical.len + 1 + (llen - i) > CONF_LINE_MAX) {
				buf_printf(why, "%s, line %d: line too long",
				    fname, lineno);
				r = -1;
				break;
			}
			buf_putc(&logical, ' ');
			buf_put(&logical, lp + i, llen - i);
			continue;
		}
		if (logical.len)
			r = conf_parse_line(c, logical.p, fname, start_line, why);
		buf_reset(&logical);
		if (llen > CONF_LINE_MAX) {
			buf_printf(why, "%s, line %d: line too long", fname,
			    lineno);
			r = -1;
			break;
		}
		buf_put(&logical, lp, llen);
		start_line = lineno;
	}
	if (r == 0 && logical.len)
		r = conf_parse_line(c, logical.p, fname, start_line, why);
	buf_free(&logical);
	return r;
}

/* conf_read - parse a main.cf file */
int
conf_read(struct conf *c, const char *path, struct buf *why)
{
	struct buf text = BUF_INIT;
	int r;

	if (file_read(path, &text, CONF_FILE_MAX) < 0) {
		buf_printf(why, "open %s: %s", path, strerror(errno));
		buf_free(&text);
		return -1;
	}
	r = conf_parse(c, text.p ? text.p : "", text.len, path, why);
	buf_free(&text);
	return r;
}

static int conf_expand_depth(const struct conf *, const char *, size_t,
    struct buf *, struct buf *, int, long *);

/*
 * conf_value - expanded value of a name into out.  refs counts the names
 * looked up by one top-level expansion: values that refer to a name twice
 * at each level would otherwise take exponential time.
 */
static int
conf_value(const struct conf *c, const char *name, struct buf *out,
    struct buf *why, int depth, long *refs)
{
	const char *raw = conf_lookup_raw(c, name);
	const struct param *row;

	if (++*refs > CONF_REFS_MAX) {
		buf_sets(why, "parameter expansion too complex (recursive "
		    "definition?)");
		return -1;
	}
	if (raw == NULL)
		return 0;
	row = htable_find(c->rows, name);
	if (row && row->type == PT_RAW) {
		buf_puts(out, raw);
		return 0;
	}
	return conf_expand_depth(c, raw, strlen(raw), out, why, depth + 1,
	    refs);
}

/* conf_is_set - for ${name?...}: defined and non-empty after expansion */
static int
conf_is_set(const struct conf *c, const char *name, struct buf *why,
    int depth, long *refs, int *err)
{
	struct buf tmp = BUF_INIT;
	int set;

	*err = conf_value(c, name, &tmp, why, depth, refs);
	set = tmp.len > 0;
	buf_free(&tmp);
	return set;
}

/* conf_brace_end - index of the '}' matching an opening at s[0]-1 */
static size_t
conf_brace_end(const char *s, size_t len)
{
	size_t i;
	int depth = 1;

	for (i = 0; i < len; i++) {
		if (s[i] == '{')
			depth++;
		else if (s[i] == '}' && --depth == 0)
			return i;
	}
	return (size_t)-1;
}

/*
 * conf_operand - one result operand of ${name?...} or ${name:...}: a
 * {text} group, with white space around it skipped (Postfix 3.0), or else
 * all the remaining text (Postfix 2.x).  Returns the length used, or -1
 * when the braces do not balance.
 */
static long
conf_operand(const char *t, size_t tlen, const char **op, size_t *oplen)
{
	size_t i = 0, end;

	while (i < tlen && isspace((unsigned char)t[i]))
		i++;
	if (i == tlen || t[i] != '{') {
		*op = t;
		*oplen = tlen;
		return (long)tlen;
	}
	if ((end = conf_brace_end(t + i + 1, tlen - i - 1)) == (size_t)-1)
		return -1;
	*op = t + i + 1;
	*oplen = end;
	for (i += end + 2; i < tlen && isspace((unsigned char)t[i]); i++)
		;
	return (long)i;
}

/*
 * conf_operands - split the text after '?' (op '?') or ':' (op ':') into
 * the operands used when the name is set (yes) and when it is not (no);
 * an absent operand is NULL.  "${name?{a}:{b}}" has both.  Text after a
 * {text} operand other than ":" and a second operand is an error.
 */
static int
conf_operands(int op, const char *t, size_t tlen, const char **yes,
    size_t *ylen, const char **no, size_t *nlen)
{
	long k;

	*yes = *no = NULL;
	*ylen = *nlen = 0;
	if (op == '?') {
		if ((k = conf_operand(t, tlen, yes, ylen)) < 0)
			return -1;
		t += k;
		tlen -= (size_t)k;
		if (tlen == 0)
			return 0;
		if (*t != ':')
			return -1;
		t++;
		tlen--;
	}
	if ((k = conf_operand(t, tlen, no, nlen)) < 0 || (size_t)k != tlen)
		return -1;
	return 0;
}

/* conf_expand_depth - the expansion engine */
static int
conf_expand_depth(const struct conf *c, const char *s, size_t len,
    struct buf *out, struct buf *why, int depth, long *refs)
{
	size_t i = 0;

	if (depth > CONF_DEPTH_MAX) {
		buf_sets(why, "parameter expansion too deep (recursive "
		    "definition?)");
		return -1;
	}
	while (i < len) {
		char name[256];
		size_t nlen = 0;

		if (out->len > CONF_EXPAND_MAX) {
			buf_sets(why, "parameter expansion too long");
			return -1;
		}
		if (s[i] != '$') {
			const char *d = memchr(s + i, '$', len - i);
			size_t k = d ? (size_t)(d - (s + i)) : len - i;

			buf_put(out, s + i, k);
			i += k;
			continue;
		}
		i++;
		if (i >= len) {
			buf_putc(out, '$');
			break;
		}
		if (s[i] == '$') {
			buf_putc(out, '$');
			i++;
			continue;
		}
		if (s[i] == '{' || s[i] == '(') {
			char close = s[i] == '{' ? '}' : ')';
			size_t end, j;

			if (close == '}')
				end = conf_brace_end(s + i + 1, len - i - 1);
			else {
				const char *p = memchr(s + i + 1, ')',
				    len - i - 1);

				end = p ? (size_t)(p - (s + i + 1)) :
				    (size_t)-1;
			}
			if (end == (size_t)-1) {
				buf_printf(why, "missing '%c' in \"%.*s\"",
				    close, (int)(len > 60 ? 60 : len), s);
				return -1;
			}
			/* Body is s[i+1 .. i+1+end). */
			for (j = i + 1; j < i + 1 + end &&
			    (isalnum((unsigned char)s[j]) || s[j] == '_' ||
			    s[j] == '-' || s[j] == '.' || s[j] == '/'); j++)
				;
			nlen = j - (i + 1);
			if (nlen == 0 || nlen >= sizeof(name)) {
				buf_printf(why, "bad parameter name in "
				    "\"%.*s\"", (int)(len > 60 ? 60 : len), s);
				return -1;
			}
			memcpy(name, s + i + 1, nlen);
			name[nlen] = 0;
			if (j == i + 1 + end) {
				if (conf_value(c, name, out, why, depth,
				    refs) < 0)
					return -1;
			} else if (s[j] == '?' || s[j] == ':') {
				const char *yes, *no;
				size_t ylen, flen;
				int err, set;

				if (conf_operands(s[j], s + j + 1,
				    (i + 1 + end) - (j + 1), &yes, &ylen, &no,
				    &flen) < 0) {
					buf_printf(why, "bad operand in "
					    "\"%.*s\"", (int)(len > 60 ? 60 :
					    len), s);
					return -1;
				}
				set = conf_is_set(c, name, why, depth, refs,
				    &err);
				if (err < 0)
					return -1;
				if (set && yes != NULL) {
					if (conf_expand_depth(c, yes, ylen, out,
					    why, depth + 1, refs) < 0)
						return -1;
				} else if (!set && no != NULL) {
					if (conf_expand_depth(c, no, flen, out,
					    why, depth + 1, refs) < 0)
						return -1;
				}
			} else {
				buf_printf(why, "bad character after "
				    "parameter name in \"%.*s\"",
				    (int)(len > 60 ? 60 : len), s);
				return -1;
			}
			i = i + 1 + end + 1;
			continue;
		}
		while (i + nlen < len && (isalnum((unsigned char)s[i + nlen]) ||
		    s[i + nlen] == '_') && nlen < sizeof(name) - 1)
			nlen++;
		if (nlen == 0) {
			/* A lone '$' stays literal. */
			buf_putc(out, '$');
			continue;
		}
		memcpy(name, s + i, nlen);
		name[nlen] = 0;
		i += nlen;
		if (conf_value(c, name, out, why, depth, refs) < 0)
			return -1;
	}
	/* The last piece may have passed the limit too. */
	if (out->len > CONF_EXPAND_MAX) {
		buf_sets(why, "parameter expansion too long");
		return -1;
	}
	return 0;
}

/* conf_expand - expand text into out; -1 with reason on error */
int
conf_expand(const struct conf *c, const char *text, struct buf *out,
    struct buf *why)
{
	long refs = 0;

	buf_reset(out);
	return conf_expand_depth(c, text, strlen(text), out, why, 0, &refs);
}

/*
 * conf_get - expanded value of name (explicit or default), "" when
 * unknown.  The result is cached in the conf and valid until the next
 * change.  Expansion errors are fatal: they are configuration errors.
 */
const char *
conf_get(struct conf *c, const char *name)
{
	struct conf_val *v = htable_find(c->vals, name);
	struct buf out = BUF_INIT, why = BUF_INIT;
	long refs = 0;

	if (v == NULL) {
		const char *def = conf_default(c, name);

		if (def == NULL)
			return "";
		/* Cache defaults as DEFAULT-sourced entries. */
		v = xcalloc(1, sizeof(*v));
		v->raw = xstrdup(def);
		v->source = CONF_SRC_DEFAULT;
		htable_enter(c->vals, name, v);
		c->gen++;
	}
	if (v->expanded && v->gen == c->gen)
		return v->expanded;
	if (v->source == CONF_SRC_DEFAULT && conf_default(c, name) &&
	    strcmp(v->raw, conf_default(c, name)) != 0) {
		free(v->raw);
		v->raw = xstrdup(conf_default(c, name));
	}
	if (conf_value(c, name, &out, &why, 0, &refs) < 0)
		log_fatal("parameter %s: %s", name, buf_str(&why));
	free(v->expanded);
	v->expanded = buf_steal(&out);
	v->gen = c->gen;
	buf_free(&why);
	return v->expanded;
}

/* conf_names_cmp - qsort helper */
static int
conf_names_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/*
 * conf_names - sorted NULL-terminated list of names; explicit settings
 * only (which == 0) or registered rows (which == 1).  Caller frees the
 * array, not the strings.
 */
char **
conf_names(const struct conf *c, int which)
{
	struct htable *t = which ? c->rows : c->vals;
	struct hnode **nodes = htable_list(t);
	char **names = xcalloc(t->used + 1, sizeof(char *));
	size_t i, k = 0;

	for (i = 0; nodes[i]; i++) {
		if (!which &&
		    ((struct conf_val *)nodes[i]->value)->source ==
		    CONF_SRC_DEFAULT)
			continue;
		names[k++] = nodes[i]->key;
	}
	names[k] = NULL;
	free(nodes);
	qsort(names, k, sizeof(char *), conf_names_cmp);
	return names;
}

/* param_load - convert and bound-check every row into base */
int
param_load(struct conf *c, const struct param *t, void *base,
    struct buf *why)
{
	conf_register(c, t);
	for (; t->name; t++) {
		const char *val;
		long l;
		int b;

		if (t->off == P_NOFIELD)
			continue;
		val = t->type == PT_RAW ?
		    (conf_lookup_raw(c, t->name) ? conf_lookup_raw(c, t->name)
		    : "") : conf_get(c, t->name);
		switch (t->type) {
		case PT_STR:
		case PT_RAW:
			if ((long)strlen(val) < t->min) {
				buf_printf(why, "bad parameter value: %s = %s",
				    t->name, val);
				return -1;
			}
			/*
			 * A private copy: the conf cache may change.  The
			 * struct starts zeroed (static), so an earlier value
			 * from a reload can be freed here.
			 */
			free(*(char **)((char *)base + t->off));
			*(char **)((char *)base + t->off) = xstrdup(val);
			break;
		case PT_INT:
		case PT_LONG:
			if (parse_long(val, &l) < 0 || l < t->min ||
			    (t->max && l > t->max) ||
			    (t->type == PT_INT && (l > INT_MAX || l < INT_MIN))) {
				buf_printf(why, "bad numerical parameter "
				    "value: %s = %s", t->name, val);
				return -1;
			}
			if (t->type == PT_INT)
				*(int *)((char *)base + t->off) = (int)l;
			else
				*(long *)((char *)base + t->off) = l;
			break;
		case PT_BOOL:
			if (parse_bool(val, &b) < 0) {
				buf_printf(why, "bad boolean parameter value: "
				    "%s = %s", t->name, val);
				return -1;
			}
			*(int *)((char *)base + t->off) = b;
			break;
		case PT_TIME:
			if (parse_time(val, t->unit ? t->unit : 's', &l) < 0 ||
			    l < t->min || (t->max && l > t->max)) {
				buf_printf(why, "bad time parameter value: "
				    "%s = %s", t->name, val);
				return -1;
			}
			*(long *)((char *)base + t->off) = l;
			break;
		case PT_END:
			break;
		}
	}
	return 0;
}
