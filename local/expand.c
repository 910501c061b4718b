/*
 * NAME		expand - $name expansion in forward_path and mailbox_command
 * DESCRIPTION	local_expand() replaces, per recipient:
 *
 *		$home $user $shell	of the recipient's account
 *		$extension		the address extension, or empty
 *		$recipient_delimiter	the delimiter that split it, or empty
 *		$domain $local		the domain and the whole local part
 *		$recipient $sender	the full addresses
 *
 *		${name} is the same as $name; ${name?text} is text when name
 *		is not empty, ${name:text} is text when name is empty, and
 *		text is expanded in turn; $$ is a dollar sign.  Values from
 *		the message (not the template) have every character that is
 *		not in the filter (command_expansion_filter) replaced by "_",
 *		so that an address cannot smuggle shell syntax into a
 *		command.  local_class_mask() parses a list such as
 *		allow_mail_to_commands.
 * SECURITY	Nesting is limited and the result is bounded.
 */
#include <ctype.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "util/mem.h"
#include "util/strutil.h"
#include "local.h"

#define EXPAND_DEPTH	10
#define EXPAND_MAX	(64 * 1024)

/* expand_lookup - value of a variable; NULL when unknown */
static const char *
expand_lookup(const struct local_vars *v, const char *name, size_t len)
{
	static const struct {
		const char *name;
		size_t	 off;
	} vars[] = {
		{ "home", offsetof(struct local_vars, home) },
		{ "user", offsetof(struct local_vars, user) },
		{ "shell", offsetof(struct local_vars, shell) },
		{ "extension", offsetof(struct local_vars, extension) },
		{ "recipient_delimiter",
		    offsetof(struct local_vars, recipient_delimiter) },
		{ "domain", offsetof(struct local_vars, domain) },
		{ "local", offsetof(struct local_vars, local) },
		{ "recipient", offsetof(struct local_vars, recipient) },
		{ "sender", offsetof(struct local_vars, sender) },
	};
	size_t i;

	for (i = 0; i < sizeof(vars) / sizeof(vars[0]); i++) {
		if (strlen(vars[i].name) == len &&
		    memcmp(vars[i].name, name, len) == 0) {
			const char *val = *(const char *const *)(const void *)
			    ((const char *)v + vars[i].off);

			return val ? val : "";
		}
	}
	return NULL;
}

/* expand_put - append a value, filtered */
static void
expand_put(struct buf *out, const char *val, const char *filter)
{
	for (; *val; val++)
		buf_putc(out, filter == NULL || strchr(filter, *val) ?
		    *val : '_');
}

/* expand_rec - expand s[0, len) into out */
static int
expand_rec(const char *s, size_t len, const struct local_vars *v,
    const char *filter, struct buf *out, struct buf *why, int depth)
{
	size_t p = 0;

	if (depth > EXPAND_DEPTH) {
		buf_sets(why, "expansion nested too deeply");
		return -1;
	}
	while (p < len) {
		const char *name, *val, *text = NULL;
		size_t nlen, tlen = 0;
		int op = 0;

		if (out->len > EXPAND_MAX) {
			buf_sets(why, "expansion result too long");
			return -1;
		}
		if (s[p] != '$') {
			buf_putc(out, s[p++]);
			continue;
		}
		p++;
		if (p < len && s[p] == '$') {
			buf_putc(out, '$');
			p++;
			continue;
		}
		if (p < len && (s[p] == '{' || s[p] == '(')) {
			char close = s[p] == '{' ? '}' : ')';
			size_t q, depth2 = 1;

			name = s + ++p;
			for (q = p; q < len; q++) {
				if (s[q] == s[p - 1])
					depth2++;
				else if (s[q] == close && --depth2 == 0)
					break;
			}
			if (q >= len) {
				buf_sets(why, "missing '}' in expansion");
				return -1;
			}
			nlen = strcspn(name, "?:}) ");
			if (name + nlen > s + q)
				nlen = (size_t)(s + q - name);
			if (name + nlen < s + q) {
				op = name[nlen];
				if (op != '?' && op != ':') {
					buf_sets(why, "bad ${name} syntax");
					return -1;
				}
				text = name + nlen + 1;
				tlen = (size_t)(s + q - text);
			}
			p = q + 1;
		} else {
			name = s + p;
			for (nlen = 0; p + nlen < len &&
			    (isalnum((unsigned char)name[nlen]) ||
			    name[nlen] == '_'); nlen++)
				;
			p += nlen;
		}
		if (nlen == 0) {
			buf_sets(why, "'$' without a name");
			return -1;
		}
		if ((val = expand_lookup(v, name, nlen)) == NULL) {
			buf_printf(why, "unknown name in expansion: $%.*s",
			    (int)(nlen > 64 ? 64 : nlen), name);
			return -1;
		}
		if (op == 0)
			expand_put(out, val, filter);
		else if ((op == '?') == (*val != 0) &&
		    expand_rec(text, tlen, v, filter, out, why, depth + 1) < 0)
			return -1;
	}
	if (out->len > EXPAND_MAX) {
		buf_sets(why, "expansion result too long");
		return -1;
	}
	return 0;
}

/*
 * local_expand - expand template with the recipient's variables, values
 * filtered through filter (NULL: no filter).  Returns 0, or -1 with a
 * reason (syntax error, unknown name, result too long).
 */
int
local_expand(const char *tmpl, const struct local_vars *v,
    const char *filter, struct buf *out, struct buf *why)
{
	buf_reset(out);
	buf_puts(out, "");
	return expand_rec(tmpl, strlen(tmpl), v, filter, out, why, 0);
}

/*
 * local_class_mask - parse a list of class names (names[i] has bit 1 <<
 * i) into *mask.  Returns 0, or -1 with a reason for an unknown name.
 */
int
local_class_mask(const char *list, const char *const *names, int *mask,
    struct buf *why)
{
	char *copy = xstrdup(list), *cp = copy, *tok;
	int i, r = 0;

	*mask = 0;
	while ((tok = str_token(&cp, SEPARATORS)) != NULL) {
		for (i = 0; names[i]; i++)
			if (strcasecmp(tok, names[i]) == 0)
				break;
		if (names[i] == NULL) {
			buf_printf(why, "unknown name \"%s\"", tok);
			r = -1;
			break;
		}
		*mask |= 1 << i;
	}
	free(copy);
	return r;
}
