/*
 * NAME		argv - growable NULL-terminated string arrays
 */
#ifndef UTIL_ARGV_H
#define UTIL_ARGV_H

#include <stddef.h>

struct argv {
	char	**v;		/* always NULL-terminated */
	size_t	 n;
	size_t	 cap;
};

struct argv *argv_new(void);
void	 argv_init(struct argv *);
void	 argv_add(struct argv *, const char *);
void	 argv_addn(struct argv *, const char *, size_t);
void	 argv_addf(struct argv *, const char *, ...)
	    __attribute__((format(printf, 2, 3)));
void	 argv_truncate(struct argv *, size_t);
void	 argv_clear(struct argv *);
void	 argv_free(struct argv *);
struct argv *argv_split(const char *, const char *);
int	 argv_find(const struct argv *, const char *);
void	 argv_uniq(struct argv *);

#endif
