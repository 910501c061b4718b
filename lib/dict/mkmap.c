/*
 * NAME		mkmap - write hash: and lmdb: tables
 * DESCRIPTION	Entries are copied into large arena chunks (no allocation
 *		per entry), then sorted in LMDB's key order with the arrival
 *		order as a tie-breaker, so that duplicates sit next to each
 *		other in the order they were seen.  The writer inserts the
 *		surviving entries with MDB_APPEND, which fills pages
 *		completely and needs no searching, in one transaction with
 *		MDB_NOSYNC, then syncs once.  When the map is too small the
 *		transaction is redone with a map twice as large.
 *
 *		The temporary file "table.db.PID.tmp" is created with O_EXCL
 *		and O_NOFOLLOW before LMDB opens it, and removed on every
 *		error; mkmap_cleanup() removes it from a signal handler.
 * SECURITY	Runs with the privileges of the caller; postmap switches to
 *		the source file's owner first.  Every length is checked
 *		before it is stored.
 * DIAGNOSTICS	Duplicate keys are logged as warnings; errors are returned.
 * SEE ALSO	mkmap.h, dict_lmdb(3), postmap(1)
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/files.h"
#include "util/log.h"
#include "util/mem.h"
#include "dict.h"
#include "dict_lmdb.h"
#include "mkmap.h"

#define MKMAP_CHUNK	(4 * 1024 * 1024)
/* Largest stored value: a long key, its NUL, the value and its NUL. */
#define MKMAP_SVAL_MAX	(DICT_KEY_MAX + 1 + DICT_VALUE_MAX + 1)

struct mkmap_chunk {
	struct mkmap_chunk *next;
	size_t	 used;
	size_t	 size;
	char	 data[];
};

struct mkmap_ent {
	uint64_t pfx;			/* first 8 key bytes, big-endian */
	const char *key;		/* stored form */
	const char *val;		/* stored form */
	uint32_t klen;
	uint32_t vlen;
	size_t	 seq;			/* arrival order */
	unsigned long line;		/* source line, 0: none */
};

struct mkmap_vec {
	struct mkmap_ent *v;
	size_t	 n;
	size_t	 cap;
};

struct mkmap {
	int	 flags;
	int	 settled;		/* mkmap_settle() done */
	size_t	 ndeleted;
	int	 nul;			/* store terminating NULs */
	struct mkmap_chunk *chunks;
	struct mkmap_vec ents;
	struct mkmap_vec dels;		/* stored forms of deleted keys */
	size_t	 seq;
};

/* The temporary file being written, for mkmap_cleanup(). */
static char *volatile mkmap_tmp;

/* mkmap_alloc - bytes from the arena */
static char *
mkmap_alloc(struct mkmap *m, size_t n)
{
	struct mkmap_chunk *c = m->chunks;
	char *p;

	if (c == NULL || c->size - c->used < n) {
		size_t size = n > MKMAP_CHUNK / 4 ? n : MKMAP_CHUNK;

		c = xmalloc(xadd(sizeof(*c), size));
		c->size = size;
		c->used = 0;
		if (n > MKMAP_CHUNK / 4 && m->chunks != NULL) {
			/* Keep filling the current chunk after this one. */
			c->next = m->chunks->next;
			m->chunks->next = c;
		} else {
			c->next = m->chunks;
			m->chunks = c;
		}
	}
	p = c->data + c->used;
	c->used += n;
	return p;
}

/* mkmap_push - append an entry to a vector */
static struct mkmap_ent *
mkmap_push(struct mkmap_vec *vec)
{
	if (vec->n == vec->cap) {
		vec->cap = vec->cap ? xmul(vec->cap, 2) : 1024;
		vec->v = xreallocarray(vec->v, vec->cap, sizeof(*vec->v));
	}
	return &vec->v[vec->n++];
}

/*
 * mkmap_prefix - the first 8 bytes of a key as a big-endian number, so
 * that most comparisons while sorting are one integer comparison
 */
static uint64_t
mkmap_prefix(const char *key, size_t len)
{
	uint64_t p = 0;
	size_t i;

	for (i = 0; i < 8; i++)
		p = (p << 8) | (i < len ? (unsigned char)key[i] : 0);
	return p;
}

/* mkmap_new - an empty collection; flags MKMAP_* */
struct mkmap *
mkmap_new(int flags)
{
	struct mkmap *m = xcalloc(1, sizeof(*m));

	m->flags = flags;
	m->nul = (flags & MKMAP_NUL) != 0;
	return m;
}

/* mkmap_count - entries collected so far */
size_t
mkmap_count(const struct mkmap *m)
{
	return m->ents.n;
}

/* mkmap_store - keep one stored pair */
static void
mkmap_store(struct mkmap *m, const char *skey, size_t sklen,
    const char *sval, size_t svlen, unsigned long line)
{
	struct mkmap_ent *e = mkmap_push(&m->ents);
	char *p = mkmap_alloc(m, xadd(sklen, svlen));

	memcpy(p, skey, sklen);
	if (svlen)
		memcpy(p + sklen, sval, svlen);
	e->key = p;
	e->klen = (uint32_t)sklen;
	e->pfx = mkmap_prefix(p, sklen);
	e->val = p + sklen;
	e->vlen = (uint32_t)svlen;
	e->seq = m->seq++;
	e->line = line;
}

/*
 * mkmap_add - add an entry: key and value as in the source (no NULs
 * inside, lengths within DICT_KEY_MAX and DICT_VALUE_MAX); line is the
 * source line for duplicate warnings, 0 for none.
 */
void
mkmap_add(struct mkmap *m, const char *key, size_t klen, const char *val,
    size_t vlen, unsigned long line)
{
	char skey[DICT_LMDB_KEY_DIRECT];
	size_t sklen, svlen, off = 0;
	struct mkmap_ent *e;
	char *p;
	int hashed;

	ASSERT(klen > 0 && klen <= DICT_KEY_MAX && vlen <= DICT_VALUE_MAX);
	sklen = dict_lmdb_key(key, klen, m->nul, skey);
	hashed = dict_lmdb_hashed(skey, sklen);
	svlen = (hashed ? klen + 1 : 0) + vlen + (m->nul != 0);
	e = mkmap_push(&m->ents);
	p = mkmap_alloc(m, sklen + svlen);
	memcpy(p, skey, sklen);
	e->key = p;
	e->klen = (uint32_t)sklen;
	e->pfx = mkmap_prefix(skey, sklen);
	p += sklen;
	e->val = p;
	e->vlen = (uint32_t)svlen;
	if (hashed) {
		memcpy(p, key, klen);
		p[klen] = 0;
		off = klen + 1;
	}
	if (vlen)
		memcpy(p + off, val, vlen);
	if (m->nul)
		p[off + vlen] = 0;
	e->seq = m->seq++;
	e->line = line;
}

/*
 * mkmap_delete - remove a key (as written by the user, already folded
 * as wanted) at write time, whether the table stores NULs or not.
 */
void
mkmap_delete(struct mkmap *m, const char *key, size_t klen)
{
	char skey[DICT_LMDB_KEY_DIRECT];
	struct mkmap_ent *e;
	size_t sklen;
	char *p;
	int nul;

	if (klen == 0 || klen > DICT_KEY_MAX)
		return;
	for (nul = 0; nul <= 1; nul++) {
		if (nul && klen > DICT_LMDB_KEY_DIRECT)
			break;
		sklen = dict_lmdb_key(key, klen, nul, skey);
		e = mkmap_push(&m->dels);
		p = mkmap_alloc(m, sklen + klen);
		memcpy(p, skey, sklen);
		memcpy(p + sklen, key, klen);
		e->key = p;
		e->klen = (uint32_t)sklen;
		e->pfx = mkmap_prefix(skey, sklen);
		/* The whole key, to check hashed entries against. */
		e->val = p + sklen;
		e->vlen = (uint32_t)klen;
		e->seq = e->line = 0;
	}
}

/*
 * mkmap_load - add every entry of an existing table file as it is
 * stored, before new entries (which therefore count as the later
 * duplicates).  Unless MKMAP_NUL or MKMAP_NONUL was given, new entries
 * follow the table's NUL convention.  Returns 0, 1 when the file does
 * not exist, or -1 with a reason.
 */
int
mkmap_load(struct mkmap *m, const char *path, const char *type,
    const char *name, struct buf *why)
{
	MDB_env *env;
	MDB_txn *txn = NULL;
	MDB_cursor *cur = NULL;
	MDB_dbi dbi;
	MDB_val k, v;
	struct stat st;
	int rc, r = -1, saw_nul = 0;

	if (stat(path, &st) < 0 && errno == ENOENT)
		return 1;
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
		if (k.mv_size == 0 || k.mv_size > DICT_LMDB_KEY_DIRECT ||
		    v.mv_size > MKMAP_SVAL_MAX) {
			buf_printf(why, "read database %s: entry too large to "
			    "copy", path);
			goto out;
		}
		if (!dict_lmdb_hashed(k.mv_data, k.mv_size) &&
		    ((const char *)k.mv_data)[k.mv_size - 1] == 0)
			saw_nul = 1;
		mkmap_store(m, k.mv_data, k.mv_size, v.mv_data, v.mv_size, 0);
	}
	if (rc != MDB_NOTFOUND) {
		buf_printf(why, "read database %s: %s", path,
		    mdb_strerror(rc));
		goto out;
	}
	if (!(m->flags & (MKMAP_NUL | MKMAP_NONUL)))
		m->nul = saw_nul;
	r = 0;
out:
	if (cur)
		mdb_cursor_close(cur);
	if (txn)
		mdb_txn_abort(txn);
	mdb_env_close(env);
	return r;
}

/* mkmap_cmp - LMDB's default key order, then arrival order */
static int
mkmap_cmp(const void *a, const void *b)
{
	const struct mkmap_ent *x = a, *y = b;
	size_t n;
	int c;

	/* Equal prefixes may still differ in length (NUL padding). */
	if (x->pfx != y->pfx)
		return x->pfx < y->pfx ? -1 : 1;
	n = x->klen < y->klen ? x->klen : y->klen;
	if (n > 8 && (c = memcmp(x->key + 8, y->key + 8, n - 8)) != 0)
		return c;
	if (x->klen != y->klen)
		return x->klen < y->klen ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* mkmap_seq_cmp - arrival order */
static int
mkmap_seq_cmp(const void *a, const void *b)
{
	const struct mkmap_ent *x = a, *y = b;

	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/*
 * mkmap_chunk - the d-th 8-byte piece of a key as a big-endian number,
 * zero-padded, and how many key bytes it holds (0 past the end)
 */
static void
mkmap_chunk(const struct mkmap_ent *e, size_t d, uint64_t *v, unsigned *n)
{
	size_t off = d * 8, rem, i;
	uint64_t x = 0;

	if (off >= e->klen) {
		*v = 0;
		*n = 0;
		return;
	}
	rem = e->klen - off;
	*n = rem >= 8 ? 8 : (unsigned)rem;
	if (d == 0) {
		*v = e->pfx;
		return;
	}
	for (i = 0; i < 8; i++)
		x = (x << 8) | (i < rem ? (unsigned char)e->key[off + i] : 0);
	*v = x;
}

/* mkmap_chunk_cmp - order of two pieces: bytes, then the shorter first */
static int
mkmap_chunk_cmp(uint64_t v1, unsigned n1, uint64_t v2, unsigned n2)
{
	if (v1 != v2)
		return v1 < v2 ? -1 : 1;
	return n1 < n2 ? -1 : n1 > n2;
}

/* mkmap_swap - exchange two entries */
static void
mkmap_swap(struct mkmap_ent *a, struct mkmap_ent *b)
{
	struct mkmap_ent t = *a;

	*a = *b;
	*b = t;
}

/*
 * mkmap_sort - multikey quicksort (Bentley and Sedgewick) on 8-byte
 * pieces of the keys, in the order mkmap_cmp() defines.  Keys that
 * share long prefixes (user1@example.com, user2@example.com, ...) cost
 * one integer comparison per 8 bytes instead of a memcmp() each time.
 * d is the number of 8-byte pieces all entries are known to share.
 */
static void
mkmap_sort(struct mkmap_ent *a, size_t n, size_t d)
{
	size_t lt, gt, i, j;
	uint64_t pv, v;
	unsigned pn, vn;
	int c;

	while (n > 1) {
		if (n < 16) {
			for (i = 1; i < n; i++)
				for (j = i; j > 0 &&
				    mkmap_cmp(&a[j - 1], &a[j]) > 0; j--)
					mkmap_swap(&a[j - 1], &a[j]);
			return;
		}
		mkmap_swap(&a[0], &a[n / 2]);
		mkmap_chunk(&a[0], d, &pv, &pn);
		lt = 0;
		i = 1;
		gt = n;
		while (i < gt) {
			mkmap_chunk(&a[i], d, &v, &vn);
			c = mkmap_chunk_cmp(v, vn, pv, pn);
			if (c < 0)
				mkmap_swap(&a[lt++], &a[i++]);
			else if (c > 0)
				mkmap_swap(&a[i], &a[--gt]);
			else
				i++;
		}
		/* a[lt, gt) share piece d with the pivot. */
		if (pn == 8)
			mkmap_sort(a + lt, gt - lt, d + 1);
		else if (gt - lt > 1)
			/* The keys ended: equal keys, keep arrival order. */
			qsort(a + lt, gt - lt, sizeof(*a), mkmap_seq_cmp);
		if (lt < n - gt) {
			mkmap_sort(a, lt, d);
			a += gt;
			n -= gt;
		} else {
			mkmap_sort(a + gt, n - gt, d);
			n = lt;
		}
	}
}


/* mkmap_same_key - same stored key? */
static int
mkmap_same_key(const struct mkmap_ent *x, const struct mkmap_ent *y)
{
	return x->klen == y->klen && memcmp(x->key, y->key, x->klen) == 0;
}

/*
 * mkmap_orig - the key an entry stands for (see dict_lmdb_decode);
 * returns 0, or -1 for a malformed hashed entry.
 */
static int
mkmap_orig(const struct mkmap_ent *e, const char **key, size_t *klen)
{
	MDB_val k, v;
	const char *val;
	size_t vlen;

	k.mv_data = (void *)e->key;
	k.mv_size = e->klen;
	v.mv_data = (void *)e->val;
	v.mv_size = e->vlen;
	return dict_lmdb_decode(&k, &v, key, klen, &val, &vlen);
}

/* mkmap_is_deleted - was this (first of a run) entry's key deleted? */
static int
mkmap_is_deleted(struct mkmap *m, const struct mkmap_ent *e)
{
	const struct mkmap_ent *d;
	const char *key;
	size_t klen, lo = 0, hi = m->dels.n, mid;
	int c;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		d = &m->dels.v[mid];
		c = mkmap_cmp(e, d);
		if (c == 0 || mkmap_same_key(e, d))
			break;
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	if (lo >= hi)
		return 0;
	if (!dict_lmdb_hashed(e->key, e->klen))
		return 1;
	/* Equal hashes: delete only the very key that was named. */
	for (mid = 0; mid < m->dels.n; mid++) {
		d = &m->dels.v[mid];
		if (mkmap_same_key(e, d) && mkmap_orig(e, &key, &klen) == 0 &&
		    klen == d->vlen && memcmp(key, d->val, klen) == 0)
			return 1;
	}
	return 0;
}

/*
 * mkmap_settle - sort, settle duplicates and deletions in place; warn
 * about duplicates in arrival order; path and label as for mkmap_write.
 * *ndeleted (may be NULL) counts entries removed by mkmap_delete().
 * Done once: later calls only report.  Returns 0, or -1 with a reason.
 */
int
mkmap_settle(struct mkmap *m, const char *path, const char *label,
    size_t *ndeleted, struct buf *why)
{
	struct mkmap_vec dups = { NULL, 0, 0 };
	struct mkmap_ent *e = m->ents.v;
	const char *k1, *k2;
	size_t i, j, x, keep, out = 0, n = m->ents.n, l1, l2;
	int quiet = (m->flags & (MKMAP_DUP_REPLACE | MKMAP_DUP_QUIET)) != 0;

	if (m->settled) {
		if (ndeleted)
			*ndeleted = m->ndeleted;
		return 0;
	}
	mkmap_sort(e, n, 0);
	if (m->dels.n > 1)
		qsort(m->dels.v, m->dels.n, sizeof(*m->dels.v), mkmap_cmp);
	for (i = 0; i < n; i = j) {
		for (j = i + 1; j < n && mkmap_same_key(&e[i], &e[j]); j++) {
			if (!dict_lmdb_hashed(e[i].key, e[i].klen))
				continue;
			if (mkmap_orig(&e[i], &k1, &l1) < 0 ||
			    mkmap_orig(&e[j], &k2, &l2) < 0 ||
			    l1 != l2 || memcmp(k1, k2, l1) != 0) {
				buf_printf(why, "%s: two long keys have the "
				    "same hash; cannot store them", path);
				free(dups.v);
				return -1;
			}
		}
		if (m->dels.n && mkmap_is_deleted(m, &e[i])) {
			m->ndeleted += j - i;
			continue;
		}
		keep = (m->flags & MKMAP_DUP_REPLACE) ? j - 1 : i;
		if (!quiet)
			for (x = i; x < j; x++)
				if (x != keep)
					*mkmap_push(&dups) = e[x];
		e[out++] = e[keep];
	}
	m->ents.n = out;
	if (dups.n > 1)
		qsort(dups.v, dups.n, sizeof(*dups.v), mkmap_seq_cmp);
	for (i = 0; i < dups.n; i++) {
		if (mkmap_orig(&dups.v[i], &k1, &l1) < 0)
			continue;
		if (dups.v[i].line)
			log_warn("%s, line %lu: duplicate entry: \"%.*s\"",
			    label, dups.v[i].line, (int)l1, k1);
		else
			log_warn("%s: duplicate entry: \"%.*s\"", path,
			    (int)l1, k1);
	}
	free(dups.v);
	m->settled = 1;
	if (ndeleted)
		*ndeleted = m->ndeleted;
	return 0;
}

/* mkmap_mapsize - a generous first guess at the map size */
static size_t
mkmap_mapsize(const struct mkmap *m, size_t psize)
{
	size_t i, total = 64 * psize, node;
	const struct mkmap_ent *e;

	for (i = 0; i < m->ents.n; i++) {
		e = &m->ents.v[i];
		node = 16 + (size_t)e->klen + e->vlen;
		if (node > psize / 2)
			/* Large values go to overflow pages. */
			node = 24 + e->klen + (e->vlen + 16 + psize - 1) /
			    psize * psize;
		total = xadd(total, node);
	}
	total = xadd(total, total / 2);
	total = xmul(total, 2);
	return (total + psize - 1) / psize * psize;
}

/*
 * mkmap_put_all - insert every entry in one transaction.  Returns 0,
 * 1 when the map is full, -1 with a reason.
 */
static int
mkmap_put_all(struct mkmap *m, MDB_env *env, const char *tmp,
    struct buf *why)
{
	MDB_txn *txn;
	MDB_dbi dbi;
	MDB_val k, v;
	size_t i;
	int rc;

	if ((rc = mdb_txn_begin(env, NULL, 0, &txn)) != 0)
		goto bad;
	if ((rc = mdb_dbi_open(txn, NULL, 0, &dbi)) != 0) {
		mdb_txn_abort(txn);
		goto bad;
	}
	for (i = 0; i < m->ents.n; i++) {
		/* Sorted entries point all over the arena: fetch ahead. */
		if (i + 8 < m->ents.n)
			__builtin_prefetch(m->ents.v[i + 8].key);
		k.mv_data = (void *)m->ents.v[i].key;
		k.mv_size = m->ents.v[i].klen;
		v.mv_data = (void *)m->ents.v[i].val;
		v.mv_size = m->ents.v[i].vlen;
		if ((rc = mdb_put(txn, dbi, &k, &v, MDB_APPEND)) != 0) {
			mdb_txn_abort(txn);
			goto bad;
		}
	}
	if ((rc = mdb_txn_commit(txn)) != 0)
		goto bad;
	return 0;
bad:
	if (rc == MDB_MAP_FULL)
		return 1;
	buf_printf(why, "write database %s: %s", tmp, mdb_strerror(rc));
	return -1;
}

/* mkmap_create_tmp - create the temporary file exclusively; an fd */
static int
mkmap_create_tmp(const char *tmp, struct buf *why)
{
	int fd, tries;

	for (tries = 0; tries < 2; tries++) {
		fd = open(tmp, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW |
		    O_CLOEXEC, 0600);
		if (fd >= 0)
			return fd;
		/* A stale file of an earlier run with our process id. */
		if (errno != EEXIST || unlink(tmp) < 0)
			break;
	}
	buf_printf(why, "create %s: %s", tmp, strerror(errno));
	return -1;
}

/* mkmap_finish_file - sync, set owner and mode */
static int
mkmap_finish_file(MDB_env *env, const char *tmp,
    const struct mkmap_owner *own, struct buf *why)
{
	int rc, fd;

	if ((rc = mdb_env_sync(env, 1)) != 0 ||
	    (rc = mdb_env_get_fd(env, &fd)) != 0) {
		buf_printf(why, "sync %s: %s", tmp, mdb_strerror(rc));
		return -1;
	}
	if (own->uid != (uid_t)-1 || own->gid != (gid_t)-1) {
		/* Only root may give a file away; others keep theirs. */
		if (fchown(fd, own->uid, own->gid) < 0 && geteuid() == 0) {
			buf_printf(why, "chown %s: %s", tmp, strerror(errno));
			return -1;
		}
	}
	if (fchmod(fd, own->mode & 07777) < 0 || fsync(fd) < 0) {
		buf_printf(why, "chmod/fsync %s: %s", tmp, strerror(errno));
		return -1;
	}
	return 0;
}

/* mkmap_dir_sync - fsync the directory of path */
static void
mkmap_dir_sync(const char *path)
{
	char *dir = xstrdup(path), *slash = strrchr(dir, '/');

	if (slash == dir)
		slash[1] = 0;
	else if (slash)
		*slash = 0;
	else
		strcpy(dir, ".");
	if (dir_fsync(dir) < 0)
		log_warn("fsync directory %s: %s", dir, strerror(errno));
	free(dir);
}

/*
 * mkmap_write - write the collected entries as the LMDB file path,
 * atomically.  label names the source in duplicate warnings; *ndeleted
 * (may be NULL) counts entries removed by mkmap_delete().  Returns 0,
 * or -1 with a reason (the old table is then left alone).
 */
int
mkmap_write(struct mkmap *m, const char *path, const char *label,
    const struct mkmap_owner *own, size_t *ndeleted, struct buf *why)
{
	MDB_env *env = NULL;
	size_t psize, mapsize;
	char *tmp, *open_path = NULL;
	long ps;
	int rc, r, fd;

	if (mkmap_settle(m, path, label, ndeleted, why) < 0)
		return -1;
	ps = sysconf(_SC_PAGESIZE);
	psize = ps > 0 ? (size_t)ps : 4096;
	mapsize = mkmap_mapsize(m, psize);
	if (mapsize < 1024 * 1024)
		mapsize = 1024 * 1024;

	tmp = xasprintf("%s.%ld.tmp", path, (long)getpid());
	if ((fd = mkmap_create_tmp(tmp, why)) < 0) {
		free(tmp);
		return -1;
	}
	mkmap_tmp = tmp;
	/*
	 * LMDB opens the file by name.  Where /proc is mounted, give it the
	 * file we created, so that nobody can swap in another in between.
	 */
	open_path = xasprintf("/proc/self/fd/%d", fd);
	if (access(open_path, F_OK) < 0) {
		free(open_path);
		open_path = xstrdup(tmp);
	}
	if ((rc = mdb_env_create(&env)) != 0 ||
	    (rc = mdb_env_set_mapsize(env, mapsize)) != 0 ||
	    (rc = mdb_env_open(env, open_path, MDB_NOSUBDIR | MDB_NOLOCK |
	    MDB_NOSYNC, 0600)) != 0) {
		buf_printf(why, "create database %s: %s", tmp,
		    mdb_strerror(rc));
		goto bad;
	}
	close(fd);
	fd = -1;
	while ((r = mkmap_put_all(m, env, tmp, why)) == 1) {
		if (mapsize > SIZE_MAX / 2) {
			buf_printf(why, "write database %s: map is full", tmp);
			goto bad;
		}
		mapsize *= 2;
		if ((rc = mdb_env_set_mapsize(env, mapsize)) != 0) {
			buf_printf(why, "write database %s: %s", tmp,
			    mdb_strerror(rc));
			goto bad;
		}
	}
	if (r < 0 || mkmap_finish_file(env, tmp, own, why) < 0)
		goto bad;
	mdb_env_close(env);
	env = NULL;
	if (rename(tmp, path) < 0) {
		buf_printf(why, "rename %s to %s: %s", tmp, path,
		    strerror(errno));
		goto bad;
	}
	mkmap_tmp = NULL;
	free(tmp);
	free(open_path);
	mkmap_dir_sync(path);
	return 0;
bad:
	if (env)
		mdb_env_close(env);
	if (fd >= 0)
		close(fd);
	mkmap_tmp = NULL;
	(void)unlink(tmp);
	free(tmp);
	free(open_path);
	return -1;
}

/* mkmap_cleanup - remove the temporary file (async-signal-safe) */
void
mkmap_cleanup(void)
{
	char *tmp = mkmap_tmp;

	if (tmp != NULL)
		(void)unlink(tmp);
}

/* mkmap_free - free everything */
void
mkmap_free(struct mkmap *m)
{
	struct mkmap_chunk *c, *next;

	if (m == NULL)
		return;
	for (c = m->chunks; c; c = next) {
		next = c->next;
		free(c);
	}
	free(m->ents.v);
	free(m->dels.v);
	free(m);
}
