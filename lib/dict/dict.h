/*
 * NAME		dict - lookup tables: one interface, one file per backend
 * DESCRIPTION	A table is named "type:name" as in Postfix (hash:/etc/aliases,
 *		lmdb:/etc/postern/virtual, texthash:/file, inline:{k=v, ...},
 *		static:value, fail:name, unix:passwd.byname, socketmap:,
 *		regexp:, pcre:, cidr:, ldap:, mysql:, proxy: (through
 *		proxymap(8))).
 *		A lookup answers DICT_FOUND with a value, DICT_NOTFOUND, or
 *		DICT_ERROR with a reason: a table that cannot answer (bad
 *		file, server down) is a temporary failure for the caller,
 *		never "not found".
 *
 *		maps are ordered lists of tables as found in main.cf
 *		("hash:/a, pcre:/b"); the first table that finds the key wins.
 */
#ifndef DICT_DICT_H
#define DICT_DICT_H

#include "util/buf.h"

#define DICT_FOUND	1
#define DICT_NOTFOUND	0
#define DICT_ERROR	(-1)

#define DICT_FLAG_FOLD_FIX	(1 << 0)	/* fold keys to lower case */
#define DICT_FLAG_NO_FOLD	(1 << 1)	/* postmap -f: keep case */
#define DICT_FLAG_ANYKEY	(1 << 8)	/* backend: the key is ignored
						 * (static:, fail:), so it is
						 * neither bounded nor folded */
#define DICT_FLAG_PATTERN	(1 << 9)	/* backend: answers for whole
						 * keys (regexp:, pcre:, cidr:,
						 * socketmap:); keys are
						 * bounded but not folded */
#define DICT_FLAG_FOLD_FAR	(1 << 10)	/* backend: keys are bounded
						 * here and folded by the
						 * server behind it (proxy:) */

#define DICT_KEY_MAX	4096
#define DICT_VALUE_MAX	(1024 * 1024)

struct dict {
	const char *type;		/* "hash" */
	char	*name;			/* "/etc/aliases" */
	int	 flags;
	int	(*lookup)(struct dict *, const char *, struct buf *,
		    struct buf *);
	int	(*changed)(struct dict *);	/* NULL: never changes */
	void	(*close)(struct dict *);
};

struct dict *dict_open(const char *, int, struct buf *);
int	 dict_lookup(struct dict *, const char *, struct buf *, struct buf *);
int	 dict_changed(struct dict *);
void	 dict_close(struct dict *);
int	 dict_type_known(const char *);
struct dict *dict_surrogate(const char *, int, const char *);

struct maps;

struct maps *maps_open(const char *, const char *, int);
int	 maps_find(struct maps *, const char *, struct buf *, struct buf *);
int	 maps_find_partial(struct maps *, const char *, struct buf *,
	    struct buf *);
int	 maps_changed(struct maps *);
int	 maps_empty(const struct maps *);
const char *maps_title(const struct maps *);
char	*maps_token(char **, int *);
void	 maps_free(struct maps *);

#endif
