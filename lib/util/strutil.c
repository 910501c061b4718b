/*
 * NAME		strutil - small string and number helpers
 * DESCRIPTION	parse_long() accepts an optional sign and decimal digits and
 *		nothing else.  parse_time() accepts Postfix's time syntax: a
 *		number with an optional unit (s, m, h, d, w); the default unit
 *		applies when none is given.  str_token() splits in place like
 *		Postfix's mystrtok(): runs of separators are skipped.
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "strutil.h"

/* str_trim - strip leading and trailing white space in place */
char *
str_trim(char *s)
{
	char *e;

	while (*s && isspace((unsigned char)*s))
		s++;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = 0;
	return s;
}

/* str_lower - fold ASCII case in place */
char *
str_lower(char *s)
{
	char *p;

	for (p = s; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	return s;
}

/* str_prefix - does s start with prefix? */
int
str_prefix(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* str_caseprefix - does s start with prefix, ignoring case? */
int
str_caseprefix(const char *s, const char *prefix)
{
	return strncasecmp(s, prefix, strlen(prefix)) == 0;
}

/* str_suffix - does s end with suffix? */
int
str_suffix(const char *s, const char *suffix)
{
	size_t ls = strlen(s), lx = strlen(suffix);

	return ls >= lx && strcmp(s + ls - lx, suffix) == 0;
}

/* str_token - return the next token, skipping separators; NULL at end */
char *
str_token(char **cursor, const char *sep)
{
	char *s = *cursor, *start;

	if (s == NULL)
		return NULL;
	s += strspn(s, sep);
	if (*s == 0) {
		*cursor = s;
		return NULL;
	}
	start = s;
	s += strcspn(s, sep);
	if (*s)
		*s++ = 0;
	*cursor = s;
	return start;
}

/*
 * str_token_braced - like str_token, but a token that starts with '{'
 * extends to the matching '}' and is returned without the braces and
 * trimmed (Postfix 3.0 syntax for values with separators in them).
 * Sets *err (when non-NULL) on an unbalanced brace or on text right
 * after the closing brace.
 */
char *
str_token_braced(char **cursor, const char *sep, char *err, size_t errlen)
{
	char *s = *cursor, *start;
	int depth;

	if (s == NULL)
		return NULL;
	s += strspn(s, sep);
	if (*s != '{')
		return str_token(cursor, sep);
	start = ++s;
	for (depth = 1; *s; s++) {
		if (*s == '{')
			depth++;
		else if (*s == '}' && --depth == 0)
			break;
	}
	if (depth != 0) {
		if (err && errlen)
			strlcpy_trunc(err, "missing '}'", errlen);
		*cursor = s;
		return NULL;
	}
	/* As Postfix's extpar(): "{a}b" is an error, not two tokens. */
	if (s[1] != 0 && strchr(sep, s[1]) == NULL &&
	    !isspace((unsigned char)s[1])) {
		if (err && errlen)
			strlcpy_trunc(err, "syntax error after '}'", errlen);
		*cursor = s + strlen(s);
		return NULL;
	}
	*s++ = 0;
	*cursor = s;
	return str_trim(start);
}

/* parse_long - strict decimal integer */
int
parse_long(const char *s, long *out)
{
	char *end;
	long v;

	if (s == NULL || *s == 0 || isspace((unsigned char)*s))
		return -1;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || *end != 0)
		return -1;
	*out = v;
	return 0;
}

/* parse_time - Postfix time value: number with optional unit s/m/h/d/w */
int
parse_time(const char *s, int defunit, long *out)
{
	char *end;
	long v, mul;
	int unit;

	if (s == NULL || !isdigit((unsigned char)*s))
		return -1;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0)
		return -1;
	if (*end == 0)
		unit = defunit;
	else if (end[1] == 0)
		unit = *end;
	else
		return -1;
	switch (unit) {
	case 's':
		mul = 1;
		break;
	case 'm':
		mul = 60;
		break;
	case 'h':
		mul = 3600;
		break;
	case 'd':
		mul = 86400;
		break;
	case 'w':
		mul = 604800;
		break;
	default:
		return -1;
	}
	if (__builtin_mul_overflow(v, mul, out))
		return -1;
	return 0;
}

/* parse_bool - yes/no/true/false/1/0, case-insensitive */
int
parse_bool(const char *s, int *out)
{
	if (!strcasecmp(s, "yes") || !strcasecmp(s, "true") ||
	    !strcmp(s, "1"))
		*out = 1;
	else if (!strcasecmp(s, "no") || !strcasecmp(s, "false") ||
	    !strcmp(s, "0"))
		*out = 0;
	else
		return -1;
	return 0;
}

/* strlcpy_trunc - bounded copy; returns the source length */
size_t
strlcpy_trunc(char *dst, const char *src, size_t size)
{
	size_t len = strlen(src);

	if (size) {
		size_t n = len < size - 1 ? len : size - 1;

		memcpy(dst, src, n);
		dst[n] = 0;
	}
	return len;
}

/*
 * str_domain_valid - a domain name that may go to DNS or name a site: 1-253
 * characters (a trailing dot aside), labels of 1-63 letters, digits, '-'
 * and '_'.  (HELO names are held to more: smtpd's ck_valid_hostname().)
 */
int
str_domain_valid(const char *name)
{
	size_t len = strlen(name), label = 0, i;

	if (len > 0 && name[len - 1] == '.')
		len--;
	if (len == 0 || len > 253)
		return 0;
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)name[i];

		if (c == '.') {
			if (label == 0)
				return 0;
			label = 0;
			continue;
		}
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '-' || c == '_'))
			return 0;
		if (++label > 63)
			return 0;
	}
	return 1;
}

/* str_allprint - are all bytes printable ASCII? */
int
str_allprint(const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] >= 0x7f)
			return 0;
	return 1;
}

/* str_sane - copy for logging, replacing control characters */
const char *
str_sane(const char *s, char *out, size_t size)
{
	size_t i;

	if (size == 0)
		return "";
	for (i = 0; i < size - 1 && s[i]; i++)
		out[i] = ((unsigned char)s[i] < 0x20 || s[i] == 0x7f) ?
		    '?' : s[i];
	out[i] = 0;
	return out;
}
