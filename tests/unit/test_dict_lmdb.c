/*
 * NAME		test_dict_lmdb - unit tests for hash: and lmdb: tables
 * DESCRIPTION	Builds tables with mkmap in a temporary directory and reads
 *		them with dict_open(): round trip, key folding, keys longer
 *		than LMDB's key limit, tables with terminating NULs (as
 *		Postfix writes them), duplicates, deletion and incremental
 *		change, file owner and mode, change detection after a
 *		rebuild, a file that is not LMDB, and maps with a missing
 *		table (an error, never "not found").
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "dict/dict.h"
#include "dict/dict_lmdb.h"
#include "dict/dict_source.h"
#include "dict/mkmap.h"
#include "util/buf.h"
#include "util/log.h"
#include "util/mem.h"
#include "util/strutil.h"
#include "unit.h"

struct fixture {
	char	 dir[64];
	char	*src;			/* DIR/map */
	char	*db;			/* DIR/map.db */
	char	*spec;			/* hash:DIR/map */
	struct buf value;
	struct buf why;
};

static int
setup(void **state)
{
	struct fixture *f = xcalloc(1, sizeof(*f));

	strcpy(f->dir, "/tmp/test_dict_lmdb.XXXXXX");
	if (mkdtemp(f->dir) == NULL)
		return -1;
	f->src = xasprintf("%s/map", f->dir);
	f->db = xasprintf("%s/map.db", f->dir);
	f->spec = xasprintf("hash:%s/map", f->dir);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;
	char *cmd = xasprintf("rm -rf '%s'", f->dir);

	if (system(cmd) != 0)
		return -1;
	free(cmd);
	free(f->src);
	free(f->db);
	free(f->spec);
	buf_free(&f->value);
	buf_free(&f->why);
	free(f);
	return 0;
}

/* add_cb - parser callback into a mkmap */
static int
add_cb(const struct dict_src_ent *e, void *ctx, struct buf *why)
{
	(void)why;
	mkmap_add(ctx, e->key, e->klen, e->value, e->vlen, e->line);
	return 0;
}

/* build - what postmap does: parse text, write path; returns the mkmap
 * result */
static int
build(struct fixture *f, const char *path, const char *text, int srcflags,
    int mkflags)
{
	struct mkmap *m = mkmap_new(mkflags);
	struct mkmap_owner own = { 0640, (uid_t)-1, (gid_t)-1 };
	int r;

	buf_reset(&f->why);
	assert_int_equal(dict_source_parse(DICT_SRC_POSTMAP, srcflags, "src",
	    text, strlen(text), add_cb, m, &f->why), 0);
	r = mkmap_write(m, path, "src", &own, NULL, &f->why);
	mkmap_free(m);
	return r;
}

/* find - look up in a dict; the value or NULL */
static const char *
find(struct fixture *f, struct dict *d, const char *key, int want)
{
	int r;

	buf_reset(&f->value);
	r = dict_lookup(d, key, &f->value, &f->why);
	if (r != want)
		fail_msg("lookup %.40s: got %d want %d (%s)", key, r, want,
		    buf_str(&f->why));
	return r == DICT_FOUND ? buf_str(&f->value) : NULL;
}

static void
test_round_trip(void **state)
{
	struct fixture *f = *state;
	struct stat st;
	struct dict *d;

	assert_int_equal(build(f, f->db, "Key1 value one\nkey2 two\n"
	    "user@Example.COM ok\n", DICT_SRC_FOLD, 0), 0);
	assert_int_equal(stat(f->db, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0640);

	d = dict_open(f->spec, DICT_FLAG_FOLD_FIX, &f->why);
	assert_non_null(d);
	assert_string_equal(d->type, "hash");
	assert_string_equal(find(f, d, "key1", DICT_FOUND), "value one");
	assert_string_equal(find(f, d, "KEY1", DICT_FOUND), "value one");
	assert_string_equal(find(f, d, "USER@example.com", DICT_FOUND), "ok");
	find(f, d, "key3", DICT_NOTFOUND);
	find(f, d, "", DICT_NOTFOUND);
	find(f, d, "key", DICT_NOTFOUND);
	find(f, d, "key10", DICT_NOTFOUND);
	dict_close(d);

	/* Opened without folding, upper case keys are not found. */
	d = dict_open(f->spec, 0, &f->why);
	assert_non_null(d);
	find(f, d, "KEY1", DICT_NOTFOUND);
	assert_string_equal(find(f, d, "key1", DICT_FOUND), "value one");
	dict_close(d);
}

static void
test_no_fold_build(void **state)
{
	struct fixture *f = *state;
	struct dict *d;

	/* postmap -f: keys keep their case. */
	assert_int_equal(build(f, f->db, "MixedCase v\n", 0, 0), 0);
	d = dict_open(f->spec, DICT_FLAG_NO_FOLD, &f->why);
	assert_non_null(d);
	assert_string_equal(find(f, d, "MixedCase", DICT_FOUND), "v");
	find(f, d, "mixedcase", DICT_NOTFOUND);
	dict_close(d);
	d = dict_open(f->spec, DICT_FLAG_FOLD_FIX, &f->why);
	find(f, d, "MixedCase", DICT_NOTFOUND);
	dict_close(d);
}

/* long_key - a key of n bytes ending in tag */
static char *
long_key(size_t n, char tag)
{
	char *k = xmalloc(n + 1);

	memset(k, 'k', n);
	k[n - 1] = tag;
	k[n] = 0;
	return k;
}

static void
test_long_keys(void **state)
{
	static const size_t lens[] = {
		DICT_LMDB_KEY_DIRECT - 2, DICT_LMDB_KEY_DIRECT - 1,
		DICT_LMDB_KEY_DIRECT, DICT_LMDB_KEY_DIRECT + 1, 1000,
		DICT_KEY_MAX - 1, DICT_KEY_MAX,
	};
	struct fixture *f = *state;
	struct buf text = BUF_INIT;
	struct dict *d;
	char *k, val[32];
	size_t i;
	int nul;

	for (nul = 0; nul <= 1; nul++) {
		buf_reset(&text);
		for (i = 0; i < NELEM(lens); i++) {
			k = long_key(lens[i], 'a');
			buf_printf(&text, "%s v%zu\n", k, lens[i]);
			free(k);
			/* Same prefix and length, other last byte. */
			k = long_key(lens[i], 'b');
			buf_printf(&text, "%s w%zu\n", k, lens[i]);
			free(k);
		}
		assert_int_equal(build(f, f->db, text.p, 0,
		    nul ? MKMAP_NUL : 0), 0);
		d = dict_open(f->spec, 0, &f->why);
		assert_non_null(d);
		for (i = 0; i < NELEM(lens); i++) {
			k = long_key(lens[i], 'a');
			snprintf(val, sizeof(val), "v%zu", lens[i]);
			assert_string_equal(find(f, d, k, DICT_FOUND), val);
			free(k);
			k = long_key(lens[i], 'b');
			snprintf(val, sizeof(val), "w%zu", lens[i]);
			assert_string_equal(find(f, d, k, DICT_FOUND), val);
			free(k);
			/* Same hash prefix, another key: not found. */
			k = long_key(lens[i], 'c');
			find(f, d, k, DICT_NOTFOUND);
			free(k);
		}
		/* limit+1 is never found (and never stored). */
		k = long_key(DICT_KEY_MAX + 1, 'a');
		find(f, d, k, DICT_NOTFOUND);
		free(k);
		dict_close(d);
	}
	buf_free(&text);
}

/* count_cb - dict_lmdb_walk() callback: "key=value;" */
static int
walk_cb(const char *key, size_t klen, const char *value, size_t vlen,
    void *ctx)
{
	struct buf *out = ctx;

	assert_int_equal(strlen(key), klen);
	assert_int_equal(strlen(value), vlen);
	buf_printf(out, "%s=%s;", key, value);
	return 0;
}

static void
test_nul_and_walk(void **state)
{
	struct fixture *f = *state;
	struct buf out = BUF_INIT;
	struct dict *d;

	/* postmap -N writes keys and values with NULs, like Postfix. */
	assert_int_equal(build(f, f->db, "b 2\na 1\nc 3\n", 0, MKMAP_NUL), 0);
	d = dict_open(f->spec, 0, &f->why);
	assert_non_null(d);
	find(f, d, "x", DICT_NOTFOUND);
	assert_string_equal(find(f, d, "a", DICT_FOUND), "1");
	assert_int_equal(f->value.len, 1);
	assert_string_equal(find(f, d, "c", DICT_FOUND), "3");
	find(f, d, "d", DICT_NOTFOUND);
	dict_close(d);
	assert_int_equal(dict_lmdb_walk(f->db, "hash", f->src, walk_cb, &out,
	    &f->why), 0);
	assert_string_equal(buf_str(&out), "a=1;b=2;c=3;");
	buf_free(&out);
}

static void
test_duplicates(void **state)
{
	struct fixture *f = *state;
	struct dict *d;

	assert_int_equal(build(f, f->db, "a first\nb x\na second\na third\n",
	    0, 0), 0);
	d = dict_open(f->spec, 0, &f->why);
	assert_string_equal(find(f, d, "a", DICT_FOUND), "first");
	dict_close(d);
	assert_int_equal(build(f, f->db, "a first\nb x\na second\na third\n",
	    0, MKMAP_DUP_REPLACE), 0);
	d = dict_open(f->spec, 0, &f->why);
	assert_string_equal(find(f, d, "a", DICT_FOUND), "third");
	dict_close(d);
}

static void
test_empty_table(void **state)
{
	struct fixture *f = *state;
	struct buf out = BUF_INIT;
	struct dict *d;

	assert_int_equal(build(f, f->db, "# nothing\n", 0, 0), 0);
	d = dict_open(f->spec, 0, &f->why);
	assert_non_null(d);
	find(f, d, "a", DICT_NOTFOUND);
	dict_close(d);
	assert_int_equal(dict_lmdb_walk(f->db, "hash", f->src, walk_cb, &out,
	    &f->why), 0);
	assert_string_equal(buf_str(&out), "");
	buf_free(&out);
}

static void
test_delete_incremental(void **state)
{
	struct fixture *f = *state;
	struct mkmap_owner own = { 0600, (uid_t)-1, (gid_t)-1 };
	struct buf out = BUF_INIT;
	struct mkmap *m;
	char *k = long_key(1000, 'z');
	size_t deleted;

	buf_printf(&out, "a 1\nb 2\nc 3\n%s long\n", k);
	assert_int_equal(build(f, f->db, out.p, 0, 0), 0);

	/* postmap -d */
	m = mkmap_new(0);
	assert_int_equal(mkmap_load(m, f->db, "hash", f->src, &f->why), 0);
	assert_int_equal(mkmap_count(m), 4);
	mkmap_delete(m, "b", 1);
	mkmap_delete(m, k, strlen(k));
	mkmap_delete(m, "nope", 4);
	assert_int_equal(mkmap_write(m, f->db, "src", &own, &deleted,
	    &f->why), 0);
	assert_int_equal(deleted, 2);
	mkmap_free(m);
	buf_reset(&out);
	assert_int_equal(dict_lmdb_walk(f->db, "hash", f->src, walk_cb, &out,
	    &f->why), 0);
	assert_string_equal(buf_str(&out), "a=1;c=3;");

	/* postmap -i: existing entries win over new duplicates */
	m = mkmap_new(0);
	assert_int_equal(mkmap_load(m, f->db, "hash", f->src, &f->why), 0);
	mkmap_add(m, "a", 1, "new", 3, 0);
	mkmap_add(m, "d", 1, "4", 1, 0);
	assert_int_equal(mkmap_write(m, f->db, "stdin", &own, NULL,
	    &f->why), 0);
	mkmap_free(m);
	buf_reset(&out);
	assert_int_equal(dict_lmdb_walk(f->db, "hash", f->src, walk_cb, &out,
	    &f->why), 0);
	assert_string_equal(buf_str(&out), "a=1;c=3;d=4;");

	/* A table that does not exist yet loads as empty. */
	m = mkmap_new(0);
	assert_int_equal(mkmap_load(m, "/nonexistent/x.db", "hash",
	    "/nonexistent/x", &f->why), 1);
	mkmap_free(m);
	free(k);
	buf_free(&out);
}

static void
test_changed(void **state)
{
	struct fixture *f = *state;
	struct maps *maps;
	struct dict *d;
	char *list;

	assert_int_equal(build(f, f->db, "a old\n", 0, 0), 0);
	d = dict_open(f->spec, 0, &f->why);
	assert_non_null(d);
	list = xasprintf("inline:{x=y}, %s", f->spec);
	maps = maps_open("test", list, 0);
	assert_int_equal(dict_changed(d), 0);
	assert_int_equal(maps_changed(maps), 0);
	assert_string_equal(find(f, d, "a", DICT_FOUND), "old");

	/* postmap renames a new file over the old one */
	assert_int_equal(build(f, f->db, "a new\n", 0, 0), 0);
	assert_int_equal(dict_changed(d), 1);
	assert_int_equal(maps_changed(maps), 1);
	/* The open table still reads the file it opened. */
	assert_string_equal(find(f, d, "a", DICT_FOUND), "old");
	dict_close(d);
	maps_free(maps);

	d = dict_open(f->spec, 0, &f->why);
	assert_string_equal(find(f, d, "a", DICT_FOUND), "new");
	assert_int_equal(dict_changed(d), 0);
	/* Removed: changed too. */
	assert_int_equal(unlink(f->db), 0);
	assert_int_equal(dict_changed(d), 1);
	dict_close(d);
	free(list);
}

static void
test_lmdb_type(void **state)
{
	struct fixture *f = *state;
	char *path = xasprintf("%s.lmdb", f->src), *spec;
	struct dict *d;

	assert_int_equal(build(f, path, "k v\n", 0, 0), 0);
	spec = xasprintf("lmdb:%s", f->src);
	d = dict_open(spec, 0, &f->why);
	assert_non_null(d);
	assert_string_equal(d->type, "lmdb");
	assert_string_equal(find(f, d, "k", DICT_FOUND), "v");
	dict_close(d);
	/* hash: of the same name is another file, which does not exist */
	assert_null(dict_open(f->spec, 0, &f->why));
	free(path);
	free(spec);
}

static void
test_not_lmdb(void **state)
{
	struct fixture *f = *state;
	static const char junk[] = "\0\0\0\0\x61\x15\x06\0this is not lmdb";
	struct buf big = BUF_INIT;
	size_t i;

	/* A Berkeley DB file, or any other junk: rebuild with postmap. */
	for (i = 0; i < 64; i++)
		buf_put(&big, junk, sizeof(junk));
	assert_int_equal(file_replace(f->db, big.p, big.len, 0644), 0);
	assert_null(dict_open(f->spec, 0, &f->why));
	assert_non_null(strstr(buf_str(&f->why), "not an LMDB database"));
	assert_non_null(strstr(buf_str(&f->why), "postmap hash:"));
	/* Empty file */
	assert_int_equal(file_replace(f->db, "", 0, 0644), 0);
	assert_null(dict_open(f->spec, 0, &f->why));
	assert_non_null(strstr(buf_str(&f->why), "postmap hash:"));
	/* A directory */
	assert_int_equal(unlink(f->db), 0);
	assert_int_equal(mkdir(f->db, 0755), 0);
	assert_null(dict_open(f->spec, 0, &f->why));
	assert_non_null(strstr(buf_str(&f->why), "not a regular file"));
	assert_int_equal(rmdir(f->db), 0);
	buf_free(&big);
}

static void
test_maps_missing_table(void **state)
{
	struct fixture *f = *state;
	struct maps *m;
	char *list;

	/* The table is missing: DICT_ERROR, not DICT_NOTFOUND. */
	m = maps_open("virtual_alias_maps", f->spec, DICT_FLAG_FOLD_FIX);
	assert_false(maps_empty(m));
	assert_int_equal(maps_find(m, "user@example.com", &f->value,
	    &f->why), DICT_ERROR);
	assert_non_null(strstr(buf_str(&f->why), f->db));
	maps_free(m);

	/* Built: maps order decides. */
	assert_int_equal(build(f, f->db, "a fromhash\nb fromhash\n", 0, 0),
	    0);
	list = xasprintf("inline:{b=frominline} %s", f->spec);
	m = maps_open("test", list, DICT_FLAG_FOLD_FIX);
	assert_int_equal(maps_find(m, "A", &f->value, &f->why), DICT_FOUND);
	assert_string_equal(f->value.p, "fromhash");
	assert_int_equal(maps_find(m, "B", &f->value, &f->why), DICT_FOUND);
	assert_string_equal(f->value.p, "frominline");
	assert_int_equal(maps_find(m, "c", &f->value, &f->why),
	    DICT_NOTFOUND);
	maps_free(m);
	free(list);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_round_trip, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_no_fold_build, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_long_keys, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_nul_and_walk, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_duplicates, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_empty_table, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_delete_incremental, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_changed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lmdb_type, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_not_lmdb, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_maps_missing_table, setup,
		    teardown),
	};

	log_init("test_dict_lmdb", LOG_TO_STDERR);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
