/*
 * NAME		dict_lmdb - the on-disk format of hash: and lmdb: tables
 * DESCRIPTION	hash:/path and lmdb:/path are LMDB files (/path.db and
 *		/path.lmdb) in the unnamed main database.  A key is stored
 *		as its bytes; when postmap -N was used, with a terminating
 *		NUL added to key and value, as Postfix does by default.
 *		Readers accept both forms.
 *
 *		LMDB keys are limited to 511 bytes, table keys to
 *		DICT_KEY_MAX.  A key whose stored form would be longer than
 *		DICT_LMDB_KEY_DIRECT bytes is stored as its first
 *		DICT_LMDB_PREFIX_LEN bytes, a NUL and a 16-byte hash of the
 *		whole key; the value then starts with the whole key and a
 *		NUL, which lookups compare, so a hash collision can never
 *		answer for another key.  (Source keys never contain NUL, so
 *		such a stored key cannot be mistaken for a plain one.)
 * SEE ALSO	mkmap(3), doc/tables.md
 */
#ifndef DICT_DICT_LMDB_H
#define DICT_DICT_LMDB_H

#include <stddef.h>
#include <lmdb.h>

#include "util/buf.h"

#define DICT_LMDB_KEY_DIRECT	480
#define DICT_LMDB_HASH_LEN	16
#define DICT_LMDB_PREFIX_LEN \
	(DICT_LMDB_KEY_DIRECT - 1 - DICT_LMDB_HASH_LEN)

typedef int (*dict_lmdb_walk_fn)(const char *, size_t, const char *, size_t,
	    void *);

char	*dict_lmdb_path(const char *, const char *);
size_t	 dict_lmdb_key(const char *, size_t, int, char *);
int	 dict_lmdb_hashed(const void *, size_t);
int	 dict_lmdb_decode(const MDB_val *, const MDB_val *, const char **,
	    size_t *, const char **, size_t *);
int	 dict_lmdb_env_open(const char *, const char *, const char *,
	    MDB_env **, struct buf *);
int	 dict_lmdb_walk(const char *, const char *, const char *,
	    dict_lmdb_walk_fn, void *, struct buf *);

#endif
