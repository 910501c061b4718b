/*
 * NAME		htable - string-keyed hash table
 * DESCRIPTION	Chained hash table that grows by doubling.  Keys are copied
 *		and owned by the table; values belong to the caller.
 */
#ifndef UTIL_HTABLE_H
#define UTIL_HTABLE_H

#include <stddef.h>

struct hnode {
	char	*key;
	void	*value;
	struct hnode *next;
};

struct htable {
	struct hnode **slot;
	size_t	 size;
	size_t	 used;
};

struct htable *htable_create(size_t);
struct hnode *htable_enter(struct htable *, const char *, void *);
struct hnode *htable_locate(const struct htable *, const char *);
void	*htable_find(const struct htable *, const char *);
int	 htable_delete(struct htable *, const char *, void (*)(void *));
void	 htable_free(struct htable *, void (*)(void *));
struct hnode **htable_list(const struct htable *);
void	 htable_walk(const struct htable *, void (*)(struct hnode *, void *),
	    void *);

#endif
