/*
 * NAME		token - split alias values and .forward lines into entries
 * DESCRIPTION	An alias value, a .forward line or an :include: line is a
 *		list of entries separated by commas or white space:
 *
 *		address		user, user@domain, "john smith"@domain,
 *				Name <user@domain>
 *		|command	mail is piped into the command
 *		/file/name	mail is appended (a trailing / means Maildir)
 *		:include:/path	the entries listed in the file
 *		\user		the user's own mailbox, no further aliasing
 *
 *		Double quotes protect separators ("|cmd arg"); inside quotes
 *		a backslash quotes the next character.  Text in parentheses
 *		outside quotes is a comment.  A comma-separated part that
 *		holds <...> is one address, the text in the angle brackets.
 *		An unquoted |command, /file or :include: entry extends to the
 *		next comma, white space and parentheses included (quotes are
 *		still removed), so that |/usr/bin/procmail -a x and
 *		|"/bin/cmd arg" work as in Postfix.
 *
 *		A quote, comment or angle bracket that is not closed extends
 *		to the end of the text; the list is still used, but marked
 *		sloppy so that the caller can warn.
 * SECURITY	The text comes from alias tables and from users' files.  The
 *		number of entries (LOCAL_TOK_MAX) and the length of one entry
 *		(LOCAL_TOK_LEN) are bounded; a NUL byte or an overflow makes
 *		the whole list an error.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "util/mem.h"
#include "local.h"

#define TOK_SPACE(c)	((c) == ' ' || (c) == '\t' || (c) == '\r' || \
			 (c) == '\n' || (c) == '\f' || (c) == '\v')

/* local_toks_init - empty list */
void
local_toks_init(struct local_toks *t)
{
	memset(t, 0, sizeof(*t));
}

/* local_toks_free - release a list */
void
local_toks_free(struct local_toks *t)
{
	size_t i;

	for (i = 0; i < t->n; i++)
		free(t->v[i].text);
	free(t->v);
	memset(t, 0, sizeof(*t));
}

/* local_tok_name - readable name of an entry type */
const char *
local_tok_name(int type)
{
	switch (type) {
	case LOCAL_TOK_ADDR:
		return "address";
	case LOCAL_TOK_COMMAND:
		return "command";
	case LOCAL_TOK_FILE:
		return "file";
	case LOCAL_TOK_INCLUDE:
		return "include";
	case LOCAL_TOK_USER:
		return "user";
	default:
		return "unknown";
	}
}

/*
 * tok_skip - from p (at an opening '"', '(' or '<'), the position just
 * past the matching close, or end when it is not closed (*sloppy set).
 */
static size_t
tok_skip(const char *s, size_t p, size_t end, int *sloppy)
{
	int depth = 0;
	char open = s[p], close = open == '"' ? '"' : open == '(' ? ')' : '>';

	if (open == '"') {
		for (p++; p < end; p++) {
			if (s[p] == '\\' && p + 1 < end)
				p++;
			else if (s[p] == '"')
				return p + 1;
		}
		*sloppy = 1;
		return end;
	}
	for (; p < end; p++) {
		if (s[p] == '"') {
			p = tok_skip(s, p, end, sloppy) - 1;
			continue;
		}
		if (s[p] == '\\' && open == '(' && p + 1 < end) {
			p++;
			continue;
		}
		if (s[p] == open && open == '(')
			depth++;
		else if (s[p] == open)
			depth = depth ? depth : 1;
		else if (s[p] == close && --depth == 0)
			return p + 1;
	}
	*sloppy = 1;
	return end;
}

/*
 * tok_unquote - the text of s[start, end) without quotes (and, when
 * comments is set, comments), backslash-quoted characters inside quotes
 * taken literally.
 */
static void
tok_unquote(const char *s, size_t start, size_t end, struct buf *out,
    int comments, int *sloppy)
{
	size_t p, q;

	buf_reset(out);
	for (p = start; p < end; p++) {
		if (s[p] == '"') {
			for (p++; p < end && s[p] != '"'; p++) {
				if (s[p] == '\\' && p + 1 < end)
					p++;
				buf_putc(out, s[p]);
			}
			if (p >= end)
				*sloppy = 1;
		} else if (s[p] == '(' && comments) {
			q = tok_skip(s, p, end, sloppy);
			p = q - 1;
		} else {
			buf_putc(out, s[p]);
		}
	}
}

/* tok_trim - trim white space from both ends of [*start, *end) */
static void
tok_trim(const char *s, size_t *start, size_t *end)
{
	while (*start < *end && TOK_SPACE(s[*start]))
		(*start)++;
	while (*end > *start && TOK_SPACE(s[*end - 1]))
		(*end)--;
}

/* tok_add - classify and append one entry; -1 on overflow */
static int
tok_add(struct local_toks *t, const char *text, size_t len, struct buf *why)
{
	struct local_tok *e;
	int type = LOCAL_TOK_ADDR;
	size_t skip = 0;

	while (len > 0 && TOK_SPACE(text[len - 1]))
		len--;
	while (len > 0 && TOK_SPACE(*text)) {
		text++;
		len--;
	}
	if (len == 0)
		return 0;
	if (len > LOCAL_TOK_LEN) {
		buf_printf(why, "entry longer than %d bytes", LOCAL_TOK_LEN);
		return -1;
	}
	if (t->n >= LOCAL_TOK_MAX) {
		buf_printf(why, "more than %d entries", LOCAL_TOK_MAX);
		return -1;
	}
	if (text[0] == '|') {
		type = LOCAL_TOK_COMMAND;
		skip = 1;
	} else if (text[0] == '/') {
		type = LOCAL_TOK_FILE;
	} else if (text[0] == '\\') {
		type = LOCAL_TOK_USER;
		skip = 1;
	} else if (len >= 9 && strncasecmp(text, ":include:", 9) == 0) {
		type = LOCAL_TOK_INCLUDE;
		skip = 9;
	}
	text += skip;
	len -= skip;
	while (type != LOCAL_TOK_ADDR && len > 0 && TOK_SPACE(*text)) {
		text++;
		len--;
	}
	if (len == 0) {
		/* "|", "\" or ":include:" alone: nothing to deliver to. */
		t->sloppy = 1;
		return 0;
	}
	if (t->n == t->cap) {
		t->cap = t->cap ? t->cap * 2 : 8;
		t->v = xreallocarray(t->v, t->cap, sizeof(*t->v));
	}
	e = &t->v[t->n++];
	e->type = type;
	e->text = xstrndup(text, len);
	return 0;
}

/* tok_special - does unquoted text start a command, file or include? */
static int
tok_special(const char *s, size_t p, size_t end)
{
	if (s[p] == '|' || s[p] == '/')
		return 1;
	return end - p >= 9 && strncasecmp(s + p, ":include:", 9) == 0;
}

/* tok_group - split one comma-separated part into entries */
static int
tok_group(struct local_toks *t, const char *s, size_t start, size_t end,
    struct buf *word, struct buf *why)
{
	size_t p, w;

	tok_trim(s, &start, &end);
	if (start == end)
		return 0;
	/* An unquoted command, file or include takes the whole part. */
	if (tok_special(s, start, end)) {
		tok_unquote(s, start, end, word, 0, &t->sloppy);
		return tok_add(t, buf_str(word), word->len, why);
	}
	/* "Name <address>": the address in angle brackets. */
	for (p = start; p < end; p++) {
		if (s[p] == '"' || s[p] == '(') {
			p = tok_skip(s, p, end, &t->sloppy) - 1;
		} else if (s[p] == '<') {
			w = tok_skip(s, p, end, &t->sloppy);
			if (w == end && s[end - 1] != '>')
				tok_unquote(s, p + 1, end, word, 1,
				    &t->sloppy);
			else
				tok_unquote(s, p + 1, w - 1, word, 1,
				    &t->sloppy);
			return tok_add(t, word->p ? word->p : "", word->len,
			    why);
		}
	}
	/* Otherwise white space separates entries. */
	for (p = start; p < end;) {
		while (p < end && TOK_SPACE(s[p]))
			p++;
		if (p >= end)
			break;
		if (tok_special(s, p, end)) {
			tok_unquote(s, p, end, word, 0, &t->sloppy);
			return tok_add(t, buf_str(word), word->len, why);
		}
		for (w = p; w < end && !TOK_SPACE(s[w]);) {
			if (s[w] == '"' || s[w] == '(')
				w = tok_skip(s, w, end, &t->sloppy);
			else
				w++;
		}
		tok_unquote(s, p, w, word, 1, &t->sloppy);
		if (tok_add(t, word->p ? word->p : "", word->len, why) < 0)
			return -1;
		p = w;
	}
	return 0;
}

/*
 * local_tokenize - append the entries of the list s[0, len) to t.
 * Returns 0, or -1 with a reason (NUL byte, too many entries, an entry
 * too long); t then holds what was parsed before the error.
 */
int
local_tokenize(const char *s, size_t len, struct local_toks *t,
    struct buf *why)
{
	struct buf word = BUF_INIT;
	size_t p, start = 0;
	int r = 0;

	if (memchr(s, 0, len) != NULL) {
		buf_sets(why, "NUL byte in list");
		return -1;
	}
	for (p = 0; p <= len; p++) {
		if (p < len && (s[p] == '"' || s[p] == '(' || s[p] == '<')) {
			p = tok_skip(s, p, len, &t->sloppy) - 1;
			continue;
		}
		if (p < len && s[p] != ',')
			continue;
		if ((r = tok_group(t, s, start, p, &word, why)) < 0)
			break;
		start = p + 1;
	}
	buf_free(&word);
	return r;
}

/*
 * local_tokenize_file - the entries of a .forward or :include: file: one
 * list per line, lines whose first non-blank character is '#' skipped.
 * A line with a NUL byte is skipped and counted in *bad.  Returns 0, or
 * -1 with a reason when a limit is exceeded.
 */
int
local_tokenize_file(const char *s, size_t len, struct local_toks *t,
    struct buf *why, size_t *bad)
{
	size_t p = 0, e, q;

	*bad = 0;
	while (p < len) {
		const char *nl = memchr(s + p, '\n', len - p);

		e = nl ? (size_t)(nl - s) : len;
		for (q = p; q < e && TOK_SPACE(s[q]); q++)
			;
		if (q < e && s[q] != '#') {
			if (memchr(s + p, 0, e - p) != NULL)
				(*bad)++;
			else if (local_tokenize(s + p, e - p, t, why) < 0)
				return -1;
		}
		p = e + 1;
	}
	return 0;
}
