/*
 * NAME		dict_impl - private interface between dict.c and its backends
 * DESCRIPTION	Each backend exports one open function.  It allocates a
 *		struct that starts with a struct dict, fills in lookup,
 *		changed and close, and returns it, or returns NULL with a
 *		reason in why.  dict_open() sets type, name and flags after
 *		the backend returns; the backend's close function frees its
 *		own struct, dict_close() frees the name.
 *		Backend lookup functions get a key that dict_lookup() has
 *		already bounded (at most DICT_KEY_MAX bytes) and folded; they
 *		set value on DICT_FOUND, and why (without the table name,
 *		which dict_lookup() adds) on DICT_ERROR.
 */
#ifndef DICT_DICT_IMPL_H
#define DICT_DICT_IMPL_H

#include "dict.h"

struct dict *dict_hash_open(const char *, int, struct buf *);
struct dict *dict_lmdb_open(const char *, int, struct buf *);
struct dict *dict_texthash_open(const char *, int, struct buf *);
struct dict *dict_inline_open(const char *, int, struct buf *);
struct dict *dict_static_open(const char *, int, struct buf *);
struct dict *dict_fail_open(const char *, int, struct buf *);
struct dict *dict_unix_open(const char *, int, struct buf *);
struct dict *dict_regexp_open(const char *, int, struct buf *);
struct dict *dict_pcre_open(const char *, int, struct buf *);
struct dict *dict_cidr_open(const char *, int, struct buf *);
struct dict *dict_socketmap_open(const char *, int, struct buf *);
struct dict *dict_ldap_open(const char *, int, struct buf *);
struct dict *dict_proxy_open(const char *, int, struct buf *);
struct dict *dict_mysql_open(const char *, int, struct buf *);

int	 dict_fold_wanted(int);
void	 dict_fold(char *, size_t);

#endif
