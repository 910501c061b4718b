/*
 * NAME		mem - memory allocation that never returns NULL
 * DESCRIPTION	Wrappers around malloc(3) and friends that abort the process
 *		(log_panic) on exhaustion and on size overflow, so that
 *		callers never handle allocation failure and never compute an
 *		overflowing size by hand.
 */
#ifndef UTIL_MEM_H
#define UTIL_MEM_H

#include <stddef.h>

void	*xmalloc(size_t);
void	*xcalloc(size_t, size_t);
void	*xrealloc(void *, size_t);
void	*xreallocarray(void *, size_t, size_t);
void	*xmallocarray(size_t, size_t);
char	*xstrdup(const char *);
char	*xstrndup(const char *, size_t);
void	*xmemdup(const void *, size_t);
char	*xasprintf(const char *, ...) __attribute__((format(printf, 1, 2)));
size_t	 xadd(size_t, size_t);
size_t	 xmul(size_t, size_t);

#endif
