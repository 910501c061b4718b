/*
 * NAME		addr - RFC 5322 address lists: parsing and quoting
 * DESCRIPTION	A small tokenizer (atoms, quoted strings, comments, domain
 *		literals, specials) feeds a lenient list parser in the spirit
 *		of Postfix's tok822: the list is split at top-level commas and
 *		group ends; an element with '<' uses what is inside the angle
 *		brackets (a source route "@a,@b:" is dropped); a group name
 *		"name:" is skipped; comments are dropped.  Quoted strings are
 *		unquoted into the internal form.
 * SECURITY	Input length, the number of addresses, the length of each
 *		address and comment nesting are bounded; NUL bytes are
 *		refused; unterminated quotes, comments and literals end at
 *		the end of input instead of reading past it.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "util/log.h"
#include "util/mem.h"
#include "addr.h"
#include "mail_conf.h"

#define TOK_ATOM	'a'
#define TOK_QSTR	'q'
#define TOK_COMMENT	'c'
#define TOK_DLIT	'd'
#define TOK_SPECIAL	's'

#define COMMENT_DEPTH_MAX	64

struct tok {
	int	 type;
	int	 ch;		/* TOK_SPECIAL */
	size_t	 start;		/* raw span in the input */
	size_t	 end;
};

struct toks {
	struct tok *v;
	size_t	 n;
	size_t	 cap;
};

/* tok_add - append a token */
static void
tok_add(struct toks *t, int type, int ch, size_t start, size_t end)
{
	if (t->n == t->cap) {
		t->cap = t->cap ? xmul(t->cap, 2) : 32;
		t->v = xreallocarray(t->v, t->cap, sizeof(*t->v));
	}
	t->v[t->n].type = type;
	t->v[t->n].ch = ch;
	t->v[t->n].start = start;
	t->v[t->n].end = end;
	t->n++;
}

/* addr_special - RFC 5322 specials */
static int
addr_special(int c)
{
	return c && strchr("()<>@,;:\\\".[]", c) != NULL;
}

/* addr_tokenize - split p[0..len) into tokens */
static void
addr_tokenize(const char *p, size_t len, struct toks *t)
{
	size_t i = 0;

	while (i < len) {
		unsigned char c = (unsigned char)p[i];
		size_t start = i;

		if (isspace(c)) {
			i++;
			continue;
		}
		if (c == '(') {
			int depth = 1;

			i++;
			while (i < len && depth > 0) {
				if (p[i] == '\\' && i + 1 < len)
					i += 2;
				else {
					if (p[i] == '(' &&
					    depth < COMMENT_DEPTH_MAX)
						depth++;
					else if (p[i] == ')')
						depth--;
					i++;
				}
			}
			tok_add(t, TOK_COMMENT, 0, start, i);
		} else if (c == '"') {
			i++;
			while (i < len && p[i] != '"') {
				if (p[i] == '\\' && i + 1 < len)
					i++;
				i++;
			}
			if (i < len)
				i++;
			tok_add(t, TOK_QSTR, 0, start, i);
		} else if (c == '[') {
			i++;
			while (i < len && p[i] != ']') {
				if (p[i] == '\\' && i + 1 < len)
					i++;
				i++;
			}
			if (i < len)
				i++;
			tok_add(t, TOK_DLIT, 0, start, i);
		} else if (addr_special(c) && c != '\\') {
			tok_add(t, TOK_SPECIAL, c, start, ++i);
		} else {
			while (i < len && !isspace((unsigned char)p[i]) &&
			    !(addr_special((unsigned char)p[i]) &&
			    p[i] != '\\'))
				i++;
			if (i == start)
				i++;	/* a lone backslash: take it as atom */
			tok_add(t, TOK_ATOM, 0, start, i);
		}
	}
}

/* addr_append_tok - append a token's internal text */
static void
addr_append_tok(const char *p, const struct tok *k, struct buf *out)
{
	size_t i;

	switch (k->type) {
	case TOK_QSTR:
		/* Drop the quotes, resolve backslash escapes. */
		for (i = k->start + 1; i < k->end; i++) {
			if (p[i] == '"' && i == k->end - 1)
				break;
			if (p[i] == '\\' && i + 1 < k->end)
				i++;
			buf_putc(out, p[i]);
		}
		break;
	case TOK_COMMENT:
		break;
	case TOK_SPECIAL:
		buf_putc(out, k->ch);
		break;
	default:
		buf_put(out, p + k->start, k->end - k->start);
		break;
	}
}

/* addr_list_add - record one address from tokens [a, b) */
static int
addr_list_add(const char *p, const struct toks *t, size_t a, size_t b,
    int angle, const struct addr_limits *lim, struct addr_list *list,
    struct buf *why)
{
	struct buf out = BUF_INIT;
	size_t i, first = (size_t)-1, last = 0;

	for (i = a; i < b; i++) {
		if (t->v[i].type == TOK_COMMENT)
			continue;
		if (first == (size_t)-1)
			first = i;
		last = i;
		addr_append_tok(p, &t->v[i], &out);
		if (out.len > lim->max_addr) {
			buf_sets(why, "address too long");
			buf_free(&out);
			return -1;
		}
	}
	if (first == (size_t)-1 && !angle) {
		buf_free(&out);
		return 0;
	}
	if (list->n >= lim->max_items) {
		buf_sets(why, "too many addresses");
		buf_free(&out);
		return -1;
	}
	if (list->n == list->cap) {
		list->cap = list->cap ? xmul(list->cap, 2) : 8;
		list->v = xreallocarray(list->v, list->cap, sizeof(*list->v));
	}
	list->v[list->n].addr = buf_steal(&out);
	if (first == (size_t)-1) {
		/* "<>": the span is between the brackets. */
		list->v[list->n].start = a > 0 ? t->v[a - 1].end : 0;
		list->v[list->n].end = list->v[list->n].start;
	} else {
		list->v[list->n].start = t->v[first].start;
		list->v[list->n].end = t->v[last].end;
	}
	list->v[list->n].angle = angle;
	list->n++;
	return 0;
}

/* addr_element - parse one list element, tokens [a, b) */
static int
addr_element(const char *p, const struct toks *t, size_t a, size_t b,
    const struct addr_limits *lim, struct addr_list *list, struct buf *why)
{
	size_t i, lt = (size_t)-1, gt = b;

	for (i = a; i < b; i++) {
		if (t->v[i].type == TOK_SPECIAL && t->v[i].ch == '<') {
			lt = i;
			break;
		}
	}
	if (lt != (size_t)-1) {
		for (i = lt + 1; i < b; i++)
			if (t->v[i].type == TOK_SPECIAL && t->v[i].ch == '>') {
				gt = i;
				break;
			}
		a = lt + 1;
		/* Drop a source route "@a,@b:" before the address. */
		for (i = gt; i > a; i--)
			if (t->v[i - 1].type == TOK_SPECIAL &&
			    t->v[i - 1].ch == ':')
				break;
		if (i > a && t->v[a].type == TOK_SPECIAL && t->v[a].ch == '@')
			a = i;
		return addr_list_add(p, t, a, gt, 1, lim, list, why);
	}
	/* "group: member" - skip the group name. */
	for (i = a; i < b; i++)
		if (t->v[i].type == TOK_SPECIAL && t->v[i].ch == ':') {
			a = i + 1;
			break;
		}
	return addr_list_add(p, t, a, b, 0, lim, list, why);
}

/*
 * addr_parse_list - extract the addresses of p[0..len).  Returns 0, or -1
 * with a reason when a limit is exceeded.
 */
int
addr_parse_list(const char *p, size_t len, const struct addr_limits *lim,
    struct addr_list *list, struct buf *why)
{
	struct toks t = {NULL, 0, 0};
	size_t i, start = 0;
	int in_angle = 0, r = 0;

	memset(list, 0, sizeof(*list));
	if (len > lim->max_len) {
		buf_sets(why, "address list too long");
		return -1;
	}
	/* A NUL would silently cut an address short in its internal form. */
	if (memchr(p, 0, len) != NULL) {
		buf_sets(why, "NUL byte in address list");
		return -1;
	}
	addr_tokenize(p, len, &t);
	for (i = 0; i <= t.n && r == 0; i++) {
		int split = 0;

		if (i == t.n)
			split = 1;
		else if (t.v[i].type == TOK_SPECIAL) {
			if (t.v[i].ch == '<')
				in_angle = 1;
			else if (t.v[i].ch == '>')
				in_angle = 0;
			else if (!in_angle && (t.v[i].ch == ',' ||
			    t.v[i].ch == ';'))
				split = 1;
		}
		if (split) {
			if (i > start)
				r = addr_element(p, &t, start, i, lim, list,
				    why);
			start = i + 1;
			in_angle = 0;
		}
	}
	free(t.v);
	if (r < 0)
		addr_list_free(list);
	return r;
}

/*
 * addr_parse_one - parse text that must hold exactly one address (a
 * command-line argument, an SMTP path).  Returns 0 or -1 with a reason.
 */
int
addr_parse_one(const char *p, size_t len, const struct addr_limits *lim,
    struct buf *out, struct buf *why)
{
	struct addr_list list;

	if (addr_parse_list(p, len, lim, &list, why) < 0)
		return -1;
	if (list.n != 1) {
		buf_sets(why, list.n ? "more than one address" :
		    "no address");
		addr_list_free(&list);
		return -1;
	}
	buf_sets(out, list.v[0].addr);
	addr_list_free(&list);
	return 0;
}

/* addr_list_free - release a list */
void
addr_list_free(struct addr_list *list)
{
	size_t i;

	for (i = 0; i < list->n; i++)
		free(list->v[i].addr);
	free(list->v);
	memset(list, 0, sizeof(*list));
}

/* addr_atext - RFC 5322 atext */
static int
addr_atext(int c)
{
	return isalnum(c) || (c && strchr("!#$%&'*+-/=?^_`{|}~", c)) ||
	    c >= 0x80;
}

/* addr_local_needs_quote - is local[0..len) not a dot-atom? */
int
addr_local_needs_quote(const char *s, size_t len)
{
	size_t i;

	if (len == 0)
		return 1;
	if (s[0] == '.' || s[len - 1] == '.')
		return 1;
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '.') {
			if (i + 1 < len && s[i + 1] == '.')
				return 1;
			continue;
		}
		if (!addr_atext(c))
			return 1;
	}
	return 0;
}

/* addr_quote - internal form to external (quoted) form */
void
addr_quote(const char *addr, struct buf *out)
{
	const char *at = strrchr(addr, '@');
	size_t llen = at ? (size_t)(at - addr) : strlen(addr), i;

	buf_reset(out);
	if (*addr == 0)
		return;
	if (llen > 0 && addr_local_needs_quote(addr, llen)) {
		buf_putc(out, '"');
		for (i = 0; i < llen; i++) {
			if (addr[i] == '"' || addr[i] == '\\')
				buf_putc(out, '\\');
			buf_putc(out, addr[i]);
		}
		buf_putc(out, '"');
	} else {
		buf_put(out, addr, llen);
	}
	if (at)
		buf_puts(out, at);
}

/* addr_domain - the domain part (after the last '@'), or "" */
const char *
addr_domain(const char *addr)
{
	const char *at = strrchr(addr, '@');

	return at ? at + 1 : "";
}

/*
 * addr_split_ext - split "user+ext@domain" with recipient_delimiter
 * characters delims into user, extension and domain.  An empty delims or
 * no delimiter leaves ext empty.  With owner_request_special, owner-name
 * and name-request local parts are never split (they name mailing list
 * owners, as in Postfix).
 */
void
addr_split_ext(const char *addr, const char *delims, struct buf *user,
    struct buf *ext, struct buf *domain)
{
	const char *at = strrchr(addr, '@');
	size_t llen = at ? (size_t)(at - addr) : strlen(addr), i;

	buf_reset(user);
	buf_reset(ext);
	if (domain)
		buf_sets(domain, at ? at + 1 : "");
	if (mail_cfg.owner_request_special && ((llen > 6 &&
	    strncasecmp(addr, "owner-", 6) == 0) || (llen > 8 &&
	    strncasecmp(addr + llen - 8, "-request", 8) == 0)))
		delims = NULL;
	for (i = 0; delims && *delims && i < llen; i++) {
		if (strchr(delims, addr[i]) && i > 0) {
			buf_put(user, addr, i);
			buf_put(ext, addr + i + 1, llen - i - 1);
			return;
		}
	}
	buf_put(user, addr, llen);
}

/* Address headers and their kind, names in lower case. */
static const struct {
	const char *name;
	int	 kind;
} addr_headers[] = {
	{ "from", ADDR_HDR_SENDER },
	{ "sender", ADDR_HDR_SENDER },
	{ "reply-to", ADDR_HDR_SENDER },
	{ "errors-to", ADDR_HDR_SENDER },
	{ "return-receipt-to", ADDR_HDR_SENDER },
	{ "resent-from", ADDR_HDR_SENDER },
	{ "resent-sender", ADDR_HDR_SENDER },
	{ "resent-reply-to", ADDR_HDR_SENDER },
	{ "disposition-notification-to", ADDR_HDR_SENDER },
	{ "to", ADDR_HDR_RCPT },
	{ "cc", ADDR_HDR_RCPT },
	{ "bcc", ADDR_HDR_RCPT },
	{ "resent-to", ADDR_HDR_RCPT },
	{ "resent-cc", ADDR_HDR_RCPT },
	{ "resent-bcc", ADDR_HDR_RCPT },
	{ "apparently-to", ADDR_HDR_RCPT },
};

/*
 * addr_header_kind - ADDR_HDR_SENDER or ADDR_HDR_RCPT for an address
 * header's name (lower case), 0 for any other header.
 */
int
addr_header_kind(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(addr_headers) / sizeof(addr_headers[0]); i++)
		if (strcmp(name, addr_headers[i].name) == 0)
			return addr_headers[i].kind;
	return 0;
}

/*
 * addr_list_rewrite - pass each address of the header value (v, len)
 * through fn; when any changed, out holds the new value, with only the
 * address text replaced (display names and comments stay), and the
 * result is 1.  0: nothing changed (or the value does not parse); -1: fn
 * failed.  Null addresses (<>) are left alone.
 */
int
addr_list_rewrite(const char *v, size_t len, addr_map_fn fn, void *ctx,
    struct buf *out)
{
	static const struct addr_limits lim = ADDR_LIMITS_DEFAULT;
	struct addr_list list;
	struct buf why = BUF_INIT, mapped = BUF_INIT, quoted = BUF_INIT;
	size_t i, pos = 0;
	int changed = 0, r = 0;

	buf_reset(out);
	if (addr_parse_list(v, len, &lim, &list, &why) < 0) {
		buf_free(&why);
		return 0;
	}
	for (i = 0; i < list.n; i++) {
		struct addr_item *it = &list.v[i];

		if (it->addr[0] == 0)
			continue;
		buf_reset(&mapped);
		if ((r = fn(it->addr, &mapped, ctx)) < 0)
			break;
		if (r == 0 || strcmp(buf_str(&mapped), it->addr) == 0)
			continue;
		addr_quote(buf_str(&mapped), &quoted);
		buf_put(out, v + pos, it->start - pos);
		buf_put(out, quoted.p, quoted.len);
		pos = it->end;
		changed = 1;
	}
	if (r >= 0 && changed)
		buf_put(out, v + pos, len - pos);
	addr_list_free(&list);
	buf_free(&why);
	buf_free(&mapped);
	buf_free(&quoted);
	return r < 0 ? -1 : changed;
}
