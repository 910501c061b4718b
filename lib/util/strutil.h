/*
 * NAME		strutil - small string and number helpers
 * DESCRIPTION	Strict number, time and size parsing in Postfix's syntax,
 *		in-place tokenizing, trimming and case folding.
 */
#ifndef UTIL_STRUTIL_H
#define UTIL_STRUTIL_H

#include <stddef.h>

char	*str_trim(char *);
char	*str_lower(char *);
int	 str_prefix(const char *, const char *);
int	 str_suffix(const char *, const char *);
int	 str_caseprefix(const char *, const char *);
char	*str_token(char **, const char *);
char	*str_token_braced(char **, const char *, char *, size_t);
int	 parse_long(const char *, long *);
int	 parse_time(const char *, int, long *);
int	 parse_bool(const char *, int *);
size_t	 strlcpy_trunc(char *, const char *, size_t);
int	 str_allprint(const char *, size_t);
int	 str_domain_valid(const char *);
const char *str_sane(const char *, char *, size_t);

#define SEPARATORS	", \t\r\n"

#endif
