/*
 * NAME		htable - string-keyed hash table
 * DESCRIPTION	FNV-1a hashing with chaining; the table doubles when the
 *		load factor reaches one.  htable_enter() on an existing key
 *		returns the existing node unchanged.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "htable.h"
#include "mem.h"

/* htable_hash - FNV-1a of a C string */
static size_t
htable_hash(const char *s, size_t size)
{
	uint64_t h = 1469598103934665603ULL;

	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= 1099511628211ULL;
	}
	return (size_t)(h % size);
}

/* htable_create - make a table with about size slots */
struct htable *
htable_create(size_t size)
{
	struct htable *t = xmalloc(sizeof(*t));

	t->size = size < 13 ? 13 : size;
	t->used = 0;
	t->slot = xcalloc(t->size, sizeof(struct hnode *));
	return t;
}

/* htable_grow - double the slot array */
static void
htable_grow(struct htable *t)
{
	size_t nsize = xadd(xmul(t->size, 2), 1), i;
	struct hnode **ns = xcalloc(nsize, sizeof(struct hnode *));
	struct hnode *n, *next;

	for (i = 0; i < t->size; i++) {
		for (n = t->slot[i]; n; n = next) {
			size_t h = htable_hash(n->key, nsize);

			next = n->next;
			n->next = ns[h];
			ns[h] = n;
		}
	}
	free(t->slot);
	t->slot = ns;
	t->size = nsize;
}

/* htable_locate - node for key, or NULL */
struct hnode *
htable_locate(const struct htable *t, const char *key)
{
	struct hnode *n;

	for (n = t->slot[htable_hash(key, t->size)]; n; n = n->next)
		if (strcmp(n->key, key) == 0)
			return n;
	return NULL;
}

/* htable_find - value for key, or NULL */
void *
htable_find(const struct htable *t, const char *key)
{
	struct hnode *n = htable_locate(t, key);

	return n ? n->value : NULL;
}

/* htable_enter - add key with value; an existing node is returned as is */
struct hnode *
htable_enter(struct htable *t, const char *key, void *value)
{
	struct hnode *n;
	size_t h;

	if ((n = htable_locate(t, key)) != NULL)
		return n;
	if (t->used >= t->size)
		htable_grow(t);
	h = htable_hash(key, t->size);
	n = xmalloc(sizeof(*n));
	n->key = xstrdup(key);
	n->value = value;
	n->next = t->slot[h];
	t->slot[h] = n;
	t->used++;
	return n;
}

/* htable_delete - remove key; free its value with fn when non-NULL */
int
htable_delete(struct htable *t, const char *key, void (*fn)(void *))
{
	struct hnode **np, *n;

	for (np = &t->slot[htable_hash(key, t->size)]; (n = *np) != NULL;
	    np = &n->next) {
		if (strcmp(n->key, key) == 0) {
			*np = n->next;
			if (fn)
				fn(n->value);
			free(n->key);
			free(n);
			t->used--;
			return 0;
		}
	}
	return -1;
}

/* htable_free - destroy the table, freeing values with fn when non-NULL */
void
htable_free(struct htable *t, void (*fn)(void *))
{
	size_t i;
	struct hnode *n, *next;

	if (t == NULL)
		return;
	for (i = 0; i < t->size; i++) {
		for (n = t->slot[i]; n; n = next) {
			next = n->next;
			if (fn)
				fn(n->value);
			free(n->key);
			free(n);
		}
	}
	free(t->slot);
	free(t);
}

/* htable_list - NULL-terminated array of nodes; caller frees the array */
struct hnode **
htable_list(const struct htable *t)
{
	struct hnode **list = xcalloc(t->used + 1, sizeof(*list));
	struct hnode *n;
	size_t i, k = 0;

	for (i = 0; i < t->size; i++)
		for (n = t->slot[i]; n; n = n->next)
			list[k++] = n;
	list[k] = NULL;
	return list;
}

/* htable_walk - call fn for each node; fn must not modify the table */
void
htable_walk(const struct htable *t, void (*fn)(struct hnode *, void *),
    void *ctx)
{
	size_t i;
	struct hnode *n, *next;

	for (i = 0; i < t->size; i++)
		for (n = t->slot[i]; n; n = next) {
			next = n->next;
			fn(n, ctx);
		}
}
