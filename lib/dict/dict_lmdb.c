/*
 * NAME		dict_lmdb - hash: and lmdb: tables, read with LMDB
 * DESCRIPTION	hash:/etc/aliases reads the LMDB file /etc/aliases.db and
 *		lmdb:/x reads /x.lmdb; both are built by postmap(1) or
 *		postalias(1).  The file is opened and mapped at open time
 *		with MDB_RDONLY | MDB_NOSUBDIR | MDB_NOLOCK: no lock file is
 *		needed because postmap never changes a table in place, it
 *		renames a complete new file over the old one.  An open table
 *		keeps reading the file it opened (also after chroot), and
 *		dict_changed() reports when the path names another file or
 *		the open file's link count dropped to zero, so that a daemon
 *		can restart and pick up the new table.
 *
 *		Tables built by Postfix's own postmap for lmdb: store keys
 *		and values with a terminating NUL; lookups try the key
 *		without and with the NUL until one form is found, then stick
 *		to that form (as Postfix does).
 * SECURITY	The files belong to the administrator and are trusted to
 *		be well-formed LMDB files; values longer than DICT_VALUE_MAX
 *		are refused all the same.
 * DIAGNOSTICS	A file that is not an LMDB file (for example a Berkeley DB
 *		file made by Postfix) fails at open time with a reason that
 *		says to rebuild it with postmap.
 * SEE ALSO	dict_lmdb.h (format), mkmap(3) (writing), doc/tables.md
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/mem.h"
#include "dict.h"
#include "dict_impl.h"
#include "dict_lmdb.h"

#define NUL_UNKNOWN	0		/* try without, then with NUL */
#define NUL_WITHOUT	1
#define NUL_WITH	2

struct dict_lmdb {
	struct dict dict;
	MDB_env	*env;
	MDB_txn	*txn;			/* reset when idle */
	MDB_dbi	 dbi;
	char	*path;
	int	 fd;
	dev_t	 dev;
	ino_t	 ino;
	int	 nul;			/* NUL_* */
};

/* dict_lmdb_path - file name of a hash: or lmdb: table; caller frees */
char *
dict_lmdb_path(const char *type, const char *name)
{
	return xasprintf("%s%s", name, strcmp(type, "lmdb") == 0 ?
	    ".lmdb" : ".db");
}

/* lmdb_mix - final avalanche of a 64-bit hash (splitmix64) */
static uint64_t
lmdb_mix(uint64_t h)
{
	h ^= h >> 30;
	h *= 0xbf58476d1ce4e5b9ULL;
	h ^= h >> 27;
	h *= 0x94d049bb133111ebULL;
	h ^= h >> 31;
	return h;
}

/* lmdb_hash - two independent 64-bit FNV-1a hashes of the key */
static void
lmdb_hash(const char *key, size_t len, unsigned char out[16])
{
	uint64_t a = 0xcbf29ce484222325ULL, b = 0x84222325cbf29ce4ULL;
	size_t i;
	int j;

	for (i = 0; i < len; i++) {
		a = (a ^ (unsigned char)key[i]) * 0x100000001b3ULL;
		b = (b ^ (unsigned char)key[len - 1 - i]) * 0x100000001b3ULL;
	}
	a = lmdb_mix(a ^ len);
	b = lmdb_mix(b + len);
	for (j = 0; j < 8; j++) {
		out[j] = (unsigned char)(a >> (56 - 8 * j));
		out[8 + j] = (unsigned char)(b >> (56 - 8 * j));
	}
}

/*
 * dict_lmdb_key - stored form of a key (see dict_lmdb.h) into out, which
 * has room for DICT_LMDB_KEY_DIRECT bytes; returns its length.  nul:
 * add a terminating NUL (postmap -N).
 */
size_t
dict_lmdb_key(const char *key, size_t klen, int nul, char *out)
{
	if (klen + (nul != 0) <= DICT_LMDB_KEY_DIRECT) {
		memcpy(out, key, klen);
		if (nul)
			out[klen] = 0;
		return klen + (nul != 0);
	}
	memcpy(out, key, DICT_LMDB_PREFIX_LEN);
	out[DICT_LMDB_PREFIX_LEN] = 0;
	lmdb_hash(key, klen, (unsigned char *)out + DICT_LMDB_PREFIX_LEN + 1);
	return DICT_LMDB_KEY_DIRECT;
}

/* dict_lmdb_hashed - is this stored key the hashed form of a long key? */
int
dict_lmdb_hashed(const void *skey, size_t len)
{
	return len == DICT_LMDB_KEY_DIRECT &&
	    ((const char *)skey)[DICT_LMDB_PREFIX_LEN] == 0;
}

/*
 * dict_lmdb_decode - the key and value a stored pair stands for, without
 * terminating NULs and without the hashed-key header.  The results
 * point into the stored data and are not NUL-terminated.  Returns -1
 * for a malformed hashed entry.
 */
int
dict_lmdb_decode(const MDB_val *k, const MDB_val *v, const char **key,
    size_t *klen, const char **val, size_t *vlen)
{
	const char *vp = v->mv_data, *nul;
	size_t vl = v->mv_size;

	if (dict_lmdb_hashed(k->mv_data, k->mv_size)) {
		if ((nul = memchr(vp, 0, vl)) == NULL)
			return -1;
		*key = vp;
		*klen = (size_t)(nul - vp);
		vl -= *klen + 1;
		vp = nul + 1;
	} else {
		*key = k->mv_data;
		*klen = k->mv_size;
		if (*klen > 0 && (*key)[*klen - 1] == 0)
			(*klen)--;
	}
	if (vl > 0 && vp[vl - 1] == 0)
		vl--;
	*val = vp;
	*vlen = vl;
	return 0;
}

/*
 * dict_lmdb_env_open - open an LMDB file read-only, with a clear reason
 * on failure; type and name are used in the advice to rebuild it.
 */
int
dict_lmdb_env_open(const char *path, const char *type, const char *name,
    MDB_env **envp, struct buf *why)
{
	MDB_env *env;
	struct stat st;
	int rc;

	if (stat(path, &st) < 0) {
		buf_printf(why, "open database %s: %s", path, strerror(errno));
		return -1;
	}
	if (!S_ISREG(st.st_mode)) {
		buf_printf(why, "open database %s: not a regular file", path);
		return -1;
	}
	if (st.st_size == 0) {
		buf_printf(why, "open database %s: empty file, not an LMDB "
		    "database; rebuild it with \"postmap %s:%s\"", path, type,
		    name);
		return -1;
	}
	if ((rc = mdb_env_create(&env)) != 0) {
		buf_printf(why, "open database %s: %s", path,
		    mdb_strerror(rc));
		return -1;
	}
	rc = mdb_env_open(env, path, MDB_RDONLY | MDB_NOSUBDIR | MDB_NOLOCK,
	    0);
	if (rc == MDB_INVALID || rc == MDB_VERSION_MISMATCH) {
		buf_printf(why, "open database %s: not an LMDB database (a "
		    "Berkeley DB file made by Postfix?); Postern's %s: "
		    "tables are LMDB files: rebuild it with \"postmap %s:%s\" "
		    "(\"postalias %s:%s\" for an aliases file)", path, type,
		    type, name, type, name);
		mdb_env_close(env);
		return -1;
	}
	if (rc != 0) {
		buf_printf(why, "open database %s: %s", path,
		    mdb_strerror(rc));
		mdb_env_close(env);
		return -1;
	}
	if (mdb_env_get_maxkeysize(env) < DICT_LMDB_KEY_DIRECT) {
		buf_printf(why, "open database %s: this LMDB library allows "
		    "keys of only %d bytes", path,
		    mdb_env_get_maxkeysize(env));
		mdb_env_close(env);
		return -1;
	}
	*envp = env;
	return 0;
}

/* lmdb_get - one mdb_get in the idle read transaction */
static int
lmdb_get(struct dict_lmdb *l, const char *skey, size_t sklen, MDB_val *v,
    struct buf *why)
{
	MDB_val k;
	int rc;

	k.mv_data = (void *)skey;
	k.mv_size = sklen;
	rc = mdb_get(l->txn, l->dbi, &k, v);
	if (rc == MDB_NOTFOUND)
		return DICT_NOTFOUND;
	if (rc != 0) {
		buf_printf(why, "read database %s: %s", l->path,
		    mdb_strerror(rc));
		return DICT_ERROR;
	}
	return DICT_FOUND;
}

/* lmdb_answer - decode a found value into the caller's buffer */
static int
lmdb_answer(struct dict_lmdb *l, const char *key, size_t klen,
    const MDB_val *k, const MDB_val *v, struct buf *value, struct buf *why)
{
	const char *sk, *sv;
	size_t sklen, svlen;

	if (dict_lmdb_decode(k, v, &sk, &sklen, &sv, &svlen) < 0) {
		buf_printf(why, "read database %s: malformed long-key entry",
		    l->path);
		return DICT_ERROR;
	}
	/* A hashed key must carry the very key that was asked for. */
	if (sklen != klen || memcmp(sk, key, klen) != 0)
		return DICT_NOTFOUND;
	if (svlen > DICT_VALUE_MAX) {
		buf_printf(why, "read database %s: value is too long (%zu "
		    "bytes)", l->path, svlen);
		return DICT_ERROR;
	}
	buf_set(value, sv, svlen);
	return DICT_FOUND;
}

/* dict_lmdb_lookup - look up a key in the mapped file */
static int
dict_lmdb_lookup(struct dict *d, const char *key, struct buf *value,
    struct buf *why)
{
	struct dict_lmdb *l = (struct dict_lmdb *)d;
	char skey[DICT_LMDB_KEY_DIRECT];
	size_t klen = strlen(key), sklen;
	MDB_val k, v;
	int rc, r = DICT_NOTFOUND, mode, first, last;

	if (klen == 0)
		return DICT_NOTFOUND;
	if ((rc = mdb_txn_renew(l->txn)) != 0) {
		buf_printf(why, "read database %s: %s", l->path,
		    mdb_strerror(rc));
		return DICT_ERROR;
	}
	if (klen > DICT_LMDB_KEY_DIRECT) {
		/* Stored hashed, the same with or without the NUL. */
		first = last = NUL_WITHOUT;
	} else if (l->nul != NUL_UNKNOWN) {
		first = last = l->nul;
	} else {
		first = NUL_WITHOUT;
		last = NUL_WITH;
	}
	for (mode = first; mode <= last; mode++) {
		sklen = dict_lmdb_key(key, klen, mode == NUL_WITH, skey);
		r = lmdb_get(l, skey, sklen, &v, why);
		if (r != DICT_FOUND)
			continue;
		k.mv_data = skey;
		k.mv_size = sklen;
		r = lmdb_answer(l, key, klen, &k, &v, value, why);
		if (r == DICT_FOUND && !dict_lmdb_hashed(skey, sklen))
			l->nul = mode;
		if (r != DICT_NOTFOUND)
			break;
	}
	mdb_txn_reset(l->txn);
	return r;
}

/* dict_lmdb_changed - does the path name another file now? */
static int
dict_lmdb_changed(struct dict *d)
{
	struct dict_lmdb *l = (struct dict_lmdb *)d;
	struct stat st;

	if (fstat(l->fd, &st) < 0 || st.st_nlink == 0)
		return 1;
	/* In a chroot jail the path may not resolve: no news then. */
	if (stat(l->path, &st) == 0 &&
	    (st.st_ino != l->ino || st.st_dev != l->dev))
		return 1;
	return 0;
}

/* dict_lmdb_close - unmap and free */
static void
dict_lmdb_close(struct dict *d)
{
	struct dict_lmdb *l = (struct dict_lmdb *)d;

	if (l->txn)
		mdb_txn_abort(l->txn);
	if (l->env)
		mdb_env_close(l->env);
	free(l->path);
	free(l);
}

/* lmdb_open - open path for a hash: or lmdb: table */
static struct dict *
lmdb_open(const char *type, const char *name, int flags, struct buf *why)
{
	struct dict_lmdb *l = xcalloc(1, sizeof(*l));
	struct stat st;
	int rc, fd;

	l->path = dict_lmdb_path(type, name);
	l->dict.flags = flags;
	l->dict.lookup = dict_lmdb_lookup;
	l->dict.changed = dict_lmdb_changed;
	l->dict.close = dict_lmdb_close;
	if (dict_lmdb_env_open(l->path, type, name, &l->env, why) < 0)
		goto bad;
	if ((rc = mdb_env_get_fd(l->env, &fd)) != 0 || fstat(fd, &st) < 0) {
		buf_printf(why, "open database %s: %s", l->path,
		    rc ? mdb_strerror(rc) : strerror(errno));
		goto bad;
	}
	(void)fcntl(fd, F_SETFD, FD_CLOEXEC);
	l->fd = fd;
	l->dev = st.st_dev;
	l->ino = st.st_ino;
	if ((rc = mdb_txn_begin(l->env, NULL, MDB_RDONLY, &l->txn)) != 0 ||
	    (rc = mdb_dbi_open(l->txn, NULL, 0, &l->dbi)) != 0) {
		buf_printf(why, "open database %s: %s", l->path,
		    mdb_strerror(rc));
		goto bad;
	}
	mdb_txn_reset(l->txn);
	return &l->dict;
bad:
	dict_lmdb_close(&l->dict);
	return NULL;
}

/* dict_hash_open - open hash:name, the LMDB file name.db */
struct dict *
dict_hash_open(const char *name, int flags, struct buf *why)
{
	return lmdb_open("hash", name, flags, why);
}

/* dict_lmdb_open - open lmdb:name, the LMDB file name.lmdb */
struct dict *
dict_lmdb_open(const char *name, int flags, struct buf *why)
{
	return lmdb_open("lmdb", name, flags, why);
}

/*
 * dict_lmdb_walk - call fn for every entry of the LMDB file, in key
 * order, with decoded, NUL-terminated key and value.  fn returns 0 to
 * go on.  Returns 0, or -1 with a reason.
 */
int
dict_lmdb_walk(const char *path, const char *type, const char *name,
    dict_lmdb_walk_fn fn, void *ctx, struct buf *why)
{
	struct buf kb = BUF_INIT, vb = BUF_INIT;
	MDB_env *env;
	MDB_txn *txn = NULL;
	MDB_cursor *cur = NULL;
	MDB_dbi dbi;
	MDB_val k, v;
	const char *key, *val;
	size_t klen, vlen;
	int rc, r = -1;

	if (dict_lmdb_env_open(path, type, name, &env, why) < 0)
		return -1;
	if ((rc = mdb_txn_begin(env, NULL, MDB_RDONLY, &txn)) != 0 ||
	    (rc = mdb_dbi_open(txn, NULL, 0, &dbi)) != 0 ||
	    (rc = mdb_cursor_open(txn, dbi, &cur)) != 0) {
		buf_printf(why, "read database %s: %s", path,
		    mdb_strerror(rc));
		goto out;
	}
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0;
	    rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		if (dict_lmdb_decode(&k, &v, &key, &klen, &val, &vlen) < 0) {
			buf_printf(why, "read database %s: malformed "
			    "long-key entry", path);
			goto out;
		}
		buf_set(&kb, key, klen);
		buf_set(&vb, val, vlen);
		if (fn(kb.p, kb.len, vb.p, vb.len, ctx) != 0) {
			rc = MDB_NOTFOUND;
			break;
		}
	}
	if (rc != MDB_NOTFOUND) {
		buf_printf(why, "read database %s: %s", path,
		    mdb_strerror(rc));
		goto out;
	}
	r = 0;
out:
	if (cur)
		mdb_cursor_close(cur);
	if (txn)
		mdb_txn_abort(txn);
	mdb_env_close(env);
	buf_free(&kb);
	buf_free(&vb);
	return r;
}
