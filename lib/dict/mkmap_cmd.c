/*
 * NAME		mkmap_cmd - the body of the postmap(1) and postalias(1)
 *		commands
 * SYNOPSIS	postmap [-FNfinoprsuvw] [-c config_dir] [-d key] [-q key]
 *			[type:]file...
 *		postalias [same options] [[type:]file...]
 * DESCRIPTION	Without -d, -i, -q or -s each table is built from its
 *		source file: hash:/x (the default type) becomes the LMDB
 *		file /x.db, lmdb:/x becomes /x.lmdb.  Keys are folded to
 *		lower case unless -f is given.  -q looks a key up (- reads
 *		keys from standard input), -d deletes keys, -i adds entries
 *		read from standard input, -s lists every entry.  Every
 *		change writes a new file and renames it over the table.
 *		postalias without file arguments works on the hash: and
 *		lmdb: tables of the alias_database parameter.
 *
 *		-F (for tls_server_sni_maps): when building or adding, each
 *		value is a list of file names (separated by white space or
 *		commas); the files' contents, concatenated, are stored in
 *		base64.  With -q and -s the values are shown decoded.
 *
 *		When root builds a table from a file owned by another user,
 *		the work is done with that user's effective ids (unless -o),
 *		as in Postfix.  The new file gets the source file's owner
 *		and mode (mode 0644 with -p); a changed table keeps the
 *		owner and mode of the file it replaces.
 * SECURITY	Run by the administrator or by users on their own files.
 *		Source files are parsed with bounds (dict_source(3)).
 * PARAMETERS	default_database_type (hash), alias_database
 *		(hash:/etc/aliases); both read raw from main.cf.
 * DIAGNOSTICS	"postmap: fatal: ..." on stderr.  Exit status: 0 on
 *		success; for -q and -d, 1 when no key was found; 2 when -q
 *		meets an error; 1 for every other error.
 * SEE ALSO	doc/postmap.md, doc/postalias.md, doc/tables.md
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mail/mail_conf.h"
#include "util/argv.h"
#include "util/htable.h"
#include "util/log.h"
#include "util/mem.h"
#include "util/proc.h"
#include "tls/tls.h"
#include "util/base64.h"
#include "util/files.h"
#include "util/strutil.h"
#include "dict.h"
#include "dict_lmdb.h"
#include "dict_source.h"
#include "mkmap.h"
#include "mkmap_cmd.h"

#define EXIT_NOTFOUND	1
#define EXIT_QUERY_ERR	2

struct cmd {
	const char *prog;		/* "postmap" or "postalias" */
	int	 format;		/* DICT_SRC_* */
	int	 fold;			/* not -f */
	int	 mk_flags;		/* MKMAP_* */
	int	 keep_privs;		/* -o */
	int	 default_mode;		/* -p */
	int	 file_values;		/* -F */
	const char *def_type;		/* default_database_type */
	struct buf text;		/* standard input, when read */
	int	 have_text;
};

struct spec {
	char	*type;
	char	*name;
};

/* usage - say how to use us */
static void __attribute__((noreturn))
usage(const struct cmd *c)
{
	fprintf(stderr, "usage: %s [-FNfinoprsuvw] [-c config_dir] "
	    "[-d key] [-q key] [type:]file...\n", c->prog);
	exit(1);
}

/* on_signal - remove a half-written table and go */
static void
on_signal(int sig)
{
	mkmap_cleanup();
	signal(sig, SIG_DFL);
	raise(sig);
}

/* spec_split - "type:name", or name with the default type */
static void
spec_split(const struct cmd *c, const char *arg, struct spec *s)
{
	const char *colon = strchr(arg, ':');

	if (colon != NULL && colon != arg) {
		s->type = xstrndup(arg, (size_t)(colon - arg));
		s->name = xstrdup(colon + 1);
	} else {
		s->type = xstrdup(c->def_type);
		s->name = xstrdup(arg);
	}
	if (*s->name == 0)
		log_fatal("table \"%s\": need type:name", arg);
}

/* spec_is_lmdb - is this a table type that postmap writes? */
static int
spec_is_lmdb(const struct spec *s)
{
	return strcmp(s->type, "hash") == 0 || strcmp(s->type, "lmdb") == 0;
}

/* read_stdin - standard input, read once */
static struct buf *
read_stdin(struct cmd *c)
{
	struct buf why = BUF_INIT;

	if (!c->have_text) {
		if (dict_source_read_fd(0, "stdin", &c->text, &why) < 0)
			log_fatal("%s", buf_str(&why));
		c->have_text = 1;
	}
	buf_free(&why);
	return &c->text;
}

/*
 * stdin_keys - the non-empty lines of standard input, trimmed; NUL
 * bytes end a key
 */
static struct argv *
stdin_keys(struct cmd *c)
{
	struct buf *t = read_stdin(c);
	struct argv *keys = argv_new();
	char *copy = xmemdup(t->p, t->len + 1), *cursor = copy, *line;

	while ((line = strsep(&cursor, "\n")) != NULL) {
		line = str_trim(line);
		if (*line)
			argv_add(keys, line);
	}
	free(copy);
	return keys;
}

/*
 * privs_drop - when root works on another user's file, take on that
 * user's effective ids (Postfix's default; -o keeps root)
 */
static int
privs_drop(const struct cmd *c, uid_t uid, gid_t gid)
{
	if (c->keep_privs || getuid() != 0 || uid == 0 || uid == (uid_t)-1)
		return 0;
	if (set_eugid(uid, gid) < 0)
		log_fatal("set effective user %ld group %ld: %s", (long)uid,
		    (long)gid, strerror(errno));
	return 1;
}

/* privs_restore - back to root after privs_drop() */
static void
privs_restore(int dropped)
{
	if (dropped && set_eugid(0, getgid()) < 0)
		log_fatal("restore privileges: %s", strerror(errno));
}

struct add_ctx {
	struct mkmap *m;
	int	 lines;			/* keep line numbers */
	int	 file_values;		/* -F */
};

/*
 * file_value - postmap -F: the base64 of the named files' contents,
 * concatenated.  0, or -1 with why.
 */
static int
file_value(const struct dict_src_ent *e, struct buf *out, struct buf *why)
{
	struct argv *files = argv_split(e->value, SEPARATORS);
	struct buf all = BUF_INIT, one = BUF_INIT;
	size_t i;
	int rc = -1;

	buf_reset(out);
	if (files->n == 0) {
		buf_printf(why, "%s, line %lu: no file name for \"%s\"",
		    e->fname, e->line, e->key);
		goto out;
	}
	for (i = 0; i < files->n; i++) {
		if (file_read(files->v[i], &one, TLS_B64_MAX) < 0) {
			buf_printf(why, "%s, line %lu: cannot read %s: %s",
			    e->fname, e->line, files->v[i], strerror(errno));
			goto out;
		}
		if (all.len + one.len > (TLS_B64_MAX / 4) * 3) {
			buf_printf(why, "%s, line %lu: files for \"%s\" are too "
			    "large", e->fname, e->line, e->key);
			goto out;
		}
		buf_put(&all, one.p, one.len);
	}
	base64_encode(all.p, all.len, out);
	rc = 0;
out:
	argv_free(files);
	buf_free(&all);
	buf_free(&one);
	return rc;
}

/* add_entry - source parser callback: collect the entry */
static int
add_entry(const struct dict_src_ent *e, void *ctx, struct buf *why)
{
	struct add_ctx *a = ctx;
	struct buf v = BUF_INIT;

	if (a->file_values) {
		if (file_value(e, &v, why) < 0) {
			buf_free(&v);
			return -1;
		}
		mkmap_add(a->m, e->key, e->klen, v.p, v.len,
		    a->lines ? e->line : 0);
		buf_free(&v);
		return 0;
	}
	mkmap_add(a->m, e->key, e->klen, e->value, e->vlen,
	    a->lines ? e->line : 0);
	return 0;
}

/* src_flags - parser flags for this run */
static int
src_flags(const struct cmd *c)
{
	return c->fold ? DICT_SRC_FOLD : 0;
}

/* build_one - build a table from its source file */
static void
build_one(struct cmd *c, const struct spec *s)
{
	struct buf text = BUF_INIT, why = BUF_INIT;
	struct mkmap_owner own;
	struct add_ctx a;
	struct stat st;
	char *path;
	int fd, dropped;

	if (!spec_is_lmdb(s))
		log_fatal("%s:%s: cannot build a table of type %s; use hash: "
		    "or lmdb:", s->type, s->name, s->type);
	if ((fd = open(s->name, O_RDONLY | O_CLOEXEC)) < 0)
		log_fatal("open %s: %s", s->name, strerror(errno));
	if (fstat(fd, &st) < 0)
		log_fatal("fstat %s: %s", s->name, strerror(errno));
	dropped = privs_drop(c, st.st_uid, st.st_gid);
	if (dict_source_read_fd(fd, s->name, &text, &why) < 0)
		log_fatal("%s", buf_str(&why));
	close(fd);
	a.m = mkmap_new(c->mk_flags);
	a.lines = 1;
	a.file_values = c->file_values;
	if (dict_source_parse(c->format, src_flags(c), s->name, text.p,
	    text.len, add_entry, &a, &why) < 0)
		log_fatal("%s", buf_str(&why));
	buf_free(&text);
	own.mode = c->default_mode ? 0644 : (st.st_mode & 07777);
	own.uid = st.st_uid;
	own.gid = st.st_gid;
	path = dict_lmdb_path(s->type, s->name);
	log_debug("building %s from %s: %zu entries", path, s->name,
	    mkmap_count(a.m));
	if (mkmap_write(a.m, path, s->name, &own, NULL, &why) < 0)
		log_fatal("%s", buf_str(&why));
	privs_restore(dropped);
	mkmap_free(a.m);
	free(path);
	buf_free(&why);
}

/*
 * change_owner - owner and mode for a changed table: those of the
 * table file, else of the source file, else the invoking user's
 */
static void
change_owner(const struct cmd *c, const struct spec *s, const char *path,
    struct mkmap_owner *own)
{
	struct stat st;

	if (stat(path, &st) == 0 || stat(s->name, &st) == 0) {
		own->mode = c->default_mode ? 0644 : (st.st_mode & 07777);
		own->uid = st.st_uid;
		own->gid = st.st_gid;
	} else {
		own->mode = 0644;
		own->uid = (uid_t)-1;
		own->gid = (gid_t)-1;
	}
}

/* incremental_one - postmap -i: add entries from standard input */
static void
incremental_one(struct cmd *c, const struct spec *s)
{
	struct buf *text = read_stdin(c), why = BUF_INIT;
	struct mkmap_owner own;
	struct add_ctx a;
	char *path;
	int dropped;

	if (!spec_is_lmdb(s))
		log_fatal("%s:%s: cannot update a table of type %s; use hash: "
		    "or lmdb:", s->type, s->name, s->type);
	path = dict_lmdb_path(s->type, s->name);
	change_owner(c, s, path, &own);
	dropped = privs_drop(c, own.uid, own.gid);
	a.m = mkmap_new(c->mk_flags);
	/* Duplicates name the table, as in Postfix. */
	a.lines = 0;
	a.file_values = c->file_values;
	if (mkmap_load(a.m, path, s->type, s->name, &why) < 0)
		log_fatal("%s", buf_str(&why));
	if (dict_source_parse(c->format, src_flags(c), "stdin", text->p,
	    text->len, add_entry, &a, &why) < 0)
		log_fatal("%s", buf_str(&why));
	if (mkmap_write(a.m, path, "stdin", &own, NULL, &why) < 0)
		log_fatal("%s", buf_str(&why));
	privs_restore(dropped);
	mkmap_free(a.m);
	free(path);
	buf_free(&why);
}

/* delete_one - postmap -d: remove keys; returns entries removed */
static size_t
delete_one(struct cmd *c, const struct spec *s, const struct argv *keys)
{
	struct buf why = BUF_INIT, key = BUF_INIT;
	struct mkmap_owner own;
	struct mkmap *m;
	size_t i, deleted = 0;
	char *path;
	int dropped, r;

	if (!spec_is_lmdb(s))
		log_fatal("%s:%s: cannot delete from a table of type %s",
		    s->type, s->name, s->type);
	path = dict_lmdb_path(s->type, s->name);
	change_owner(c, s, path, &own);
	dropped = privs_drop(c, own.uid, own.gid);
	m = mkmap_new(c->mk_flags | MKMAP_DUP_QUIET);
	if ((r = mkmap_load(m, path, s->type, s->name, &why)) < 0)
		log_fatal("%s", buf_str(&why));
	if (r == 1)
		log_fatal("open database %s: %s", path, strerror(ENOENT));
	for (i = 0; i < keys->n; i++) {
		buf_sets(&key, keys->v[i]);
		if (c->fold)
			str_lower(key.p);
		mkmap_delete(m, key.p, key.len);
	}
	if (mkmap_settle(m, path, path, &deleted, &why) < 0)
		log_fatal("%s", buf_str(&why));
	if (deleted > 0 && mkmap_write(m, path, path, &own, NULL, &why) < 0)
		log_fatal("%s", buf_str(&why));
	privs_restore(dropped);
	mkmap_free(m);
	free(path);
	buf_free(&key);
	buf_free(&why);
	return deleted;
}

/* print_entry - one line of -s or -q - output */
static void
print_entry(const struct cmd *c, const char *key, const char *value)
{
	struct buf dec = BUF_INIT;

	/* -F: show what the files held. */
	if (c->file_values) {
		if (base64_decode(value, strlen(value), strlen(value), &dec) < 0)
			log_warn("key \"%s\": value is not base64", key);
		else
			value = dec.p;
	}
	if (c->format == DICT_SRC_ALIASES)
		printf("%s:\t%s\n", key, value);
	else
		printf("%s\t%s\n", key, value);
	buf_free(&dec);
}

/* dump_cb - dict_lmdb_walk() callback for -s */
static int
dump_cb(const char *key, size_t klen, const char *value, size_t vlen,
    void *ctx)
{
	(void)klen;
	(void)vlen;
	print_entry(ctx, key, value);
	return 0;
}

struct dump_ctx {
	const struct cmd *c;
	struct htable *seen;
};

/* dump_src_cb - source parser callback for -s of texthash: tables */
static int
dump_src_cb(const struct dict_src_ent *e, void *ctx, struct buf *why)
{
	struct dump_ctx *d = ctx;

	(void)why;
	if (htable_locate(d->seen, e->key) != NULL) {
		log_warn("%s, line %lu: duplicate entry: \"%s\"", e->fname,
		    e->line, e->key);
		return 0;
	}
	htable_enter(d->seen, e->key, NULL);
	print_entry(d->c, e->key, e->value);
	return 0;
}

/* dump_one - postmap -s: list every entry */
static void
dump_one(struct cmd *c, const struct spec *s)
{
	struct buf why = BUF_INIT, text = BUF_INIT;
	struct dump_ctx d;
	char *path;

	if (spec_is_lmdb(s)) {
		path = dict_lmdb_path(s->type, s->name);
		if (dict_lmdb_walk(path, s->type, s->name, dump_cb, c,
		    &why) < 0)
			log_fatal("%s", buf_str(&why));
		free(path);
	} else if (strcmp(s->type, "texthash") == 0) {
		if (dict_source_read(s->name, &text, &why) < 0)
			log_fatal("%s", buf_str(&why));
		d.c = c;
		d.seen = htable_create(1024);
		if (dict_source_parse(DICT_SRC_POSTMAP, src_flags(c), s->name,
		    text.p, text.len, dump_src_cb, &d, &why) < 0)
			log_fatal("%s", buf_str(&why));
		htable_free(d.seen, NULL);
	} else {
		log_fatal("table %s:%s: the -s option is supported for "
		    "hash:, lmdb: and texthash: tables only", s->type,
		    s->name);
	}
	buf_free(&text);
	buf_free(&why);
}

/* open_tables - dict_open() each table for -q; errors exit 2 */
static struct dict **
open_tables(const struct cmd *c, const struct spec *specs, size_t n)
{
	struct dict **d = xcalloc(n, sizeof(*d));
	struct buf why = BUF_INIT;
	char *spec;
	size_t i;

	for (i = 0; i < n; i++) {
		spec = xasprintf("%s:%s", specs[i].type, specs[i].name);
		d[i] = dict_open(spec, c->fold ? DICT_FLAG_FOLD_FIX :
		    DICT_FLAG_NO_FOLD, &why);
		if (d[i] == NULL)
			log_fatal_status(EXIT_QUERY_ERR, "%s", buf_str(&why));
		free(spec);
	}
	buf_free(&why);
	return d;
}

/* query - look a key up in each table in turn; DICT_* */
static int
query(struct dict **d, size_t n, const char *key, struct buf *value)
{
	struct buf why = BUF_INIT;
	size_t i;
	int r = DICT_NOTFOUND;

	for (i = 0; i < n && r == DICT_NOTFOUND; i++) {
		r = dict_lookup(d[i], key, value, &why);
		if (r == DICT_ERROR)
			log_fatal_status(EXIT_QUERY_ERR, "%s", buf_str(&why));
	}
	buf_free(&why);
	return r;
}

/* do_query - -q key or -q -; returns the exit status */
static int
do_query(struct cmd *c, const char *key, const struct spec *specs,
    size_t n)
{
	struct dict **d = open_tables(c, specs, n);
	struct buf value = BUF_INIT;
	struct argv *keys;
	size_t i;
	int found = 0;

	if (strcmp(key, "-") == 0) {
		keys = stdin_keys(c);
		for (i = 0; i < keys->n; i++) {
			if (query(d, n, keys->v[i], &value) == DICT_FOUND) {
				print_entry(c, keys->v[i], value.p);
				found = 1;
			}
		}
		argv_free(keys);
	} else if (query(d, n, key, &value) == DICT_FOUND) {
		struct buf dec = BUF_INIT;

		if (c->file_values && base64_decode(value.p, value.len,
		    value.len, &dec) < 0)
			log_warn("key \"%s\": value is not base64", key);
		printf("%s\n", dec.len ? dec.p : value.p);
		buf_free(&dec);
		found = 1;
	}
	for (i = 0; i < n; i++)
		dict_close(d[i]);
	free(d);
	buf_free(&value);
	return found ? 0 : EXIT_NOTFOUND;
}

/* alias_specs - the tables of alias_database, for postalias */
static struct spec *
alias_specs(struct cmd *c, size_t *n, int lmdb_only)
{
	const char *list = conf_raw(mail_conf, "alias_database") ?
	    conf_get(mail_conf, "alias_database") : "hash:/etc/aliases";
	char *copy = xstrdup(list), *cursor = copy, *tok;
	struct spec *v = NULL, s;

	*n = 0;
	while ((tok = str_token(&cursor, SEPARATORS)) != NULL) {
		spec_split(c, tok, &s);
		if (lmdb_only && !spec_is_lmdb(&s)) {
			log_debug("skipping %s:%s: not a hash: or lmdb: table",
			    s.type, s.name);
			free(s.type);
			free(s.name);
			continue;
		}
		v = xreallocarray(v, *n + 1, sizeof(*v));
		v[(*n)++] = s;
	}
	free(copy);
	return v;
}

/*
 * mkmap_cmd_main - run postmap (DICT_SRC_POSTMAP) or postalias
 * (DICT_SRC_ALIASES); returns the exit status
 */
int
mkmap_cmd_main(int argc, char **argv, int format)
{
	struct cmd c;
	struct spec *specs;
	struct argv *keys;
	const char *config_dir = NULL, *query_key = NULL, *delete_key = NULL;
	size_t n, i, deleted = 0;
	int ch, dump = 0, incremental = 0, status = 0, modes;

	memset(&c, 0, sizeof(c));
	c.prog = format == DICT_SRC_ALIASES ? "postalias" : "postmap";
	c.format = format;
	c.fold = 1;
	buf_init(&c.text);
	log_init(c.prog, LOG_TO_STDERR);
	log_set_fatal_hook(mkmap_cleanup);
	sig_handle(SIGINT, on_signal);
	sig_handle(SIGTERM, on_signal);
	sig_handle(SIGHUP, on_signal);
	sig_handle(SIGQUIT, on_signal);

	while ((ch = getopt(argc, argv, "FNc:d:finopq:rsuvw")) != -1) {
		switch (ch) {
		case 'F':
			c.file_values = 1;
			break;
		case 'N':
			c.mk_flags = (c.mk_flags & ~MKMAP_NONUL) | MKMAP_NUL;
			break;
		case 'n':
			c.mk_flags = (c.mk_flags & ~MKMAP_NUL) | MKMAP_NONUL;
			break;
		case 'c':
			config_dir = optarg;
			break;
		case 'd':
			delete_key = optarg;
			break;
		case 'f':
			c.fold = 0;
			break;
		case 'i':
			incremental = 1;
			break;
		case 'o':
			c.keep_privs = 1;
			break;
		case 'p':
			c.default_mode = 1;
			break;
		case 'q':
			query_key = optarg;
			break;
		case 'r':
			c.mk_flags |= MKMAP_DUP_REPLACE;
			break;
		case 's':
			dump = 1;
			break;
		case 'u':
			/* SMTPUTF8 off: keys are folded as ASCII anyway. */
			break;
		case 'v':
			log_verbose++;
			break;
		case 'w':
			c.mk_flags |= MKMAP_DUP_QUIET;
			break;
		default:
			usage(&c);
		}
	}
	modes = (query_key != NULL) + (delete_key != NULL) + dump +
	    incremental;
	if (modes > 1)
		log_fatal("specify only one of -s -q -d or -i");

	mail_conf_load(config_dir);
	c.def_type = conf_raw(mail_conf, "default_database_type") ?
	    conf_get(mail_conf, "default_database_type") : "hash";
	if (*c.def_type == 0)
		c.def_type = "hash";

	if (optind < argc) {
		n = (size_t)(argc - optind);
		specs = xcalloc(n, sizeof(*specs));
		for (i = 0; i < n; i++)
			spec_split(&c, argv[optind + (int)i], &specs[i]);
	} else if (format == DICT_SRC_ALIASES) {
		specs = alias_specs(&c, &n, modes == 0 || incremental ||
		    delete_key != NULL);
	} else {
		usage(&c);
	}

	if (query_key != NULL) {
		status = do_query(&c, query_key, specs, n);
	} else if (delete_key != NULL) {
		if (strcmp(delete_key, "-") == 0) {
			keys = stdin_keys(&c);
		} else {
			keys = argv_new();
			argv_add(keys, delete_key);
		}
		for (i = 0; i < n; i++)
			deleted += delete_one(&c, &specs[i], keys);
		argv_free(keys);
		status = deleted > 0 ? 0 : EXIT_NOTFOUND;
	} else if (dump) {
		for (i = 0; i < n; i++)
			dump_one(&c, &specs[i]);
	} else if (incremental) {
		for (i = 0; i < n; i++)
			incremental_one(&c, &specs[i]);
	} else {
		for (i = 0; i < n; i++)
			build_one(&c, &specs[i]);
	}
	if (fflush(stdout) != 0 || ferror(stdout))
		log_fatal_status(query_key ? EXIT_QUERY_ERR : 1,
		    "write error on standard output: %s", strerror(errno));
	for (i = 0; i < n; i++) {
		free(specs[i].type);
		free(specs[i].name);
	}
	free(specs);
	buf_free(&c.text);
	return status;
}
