/*
 * NAME		postconf - Postern configuration utility
 * SYNOPSIS	postconf [-dfhHnvx] [-c config_dir] [-o name=value] [name...]
 *		postconf -e [-c config_dir] name=value...
 *		postconf -# [-c config_dir] name...
 *		postconf -X [-c config_dir] name...
 *		postconf -M[f] [-c config_dir] [service[/type]...]
 * DESCRIPTION	Without editing options, prints "name = value" for every
 *		parameter that some Postern program knows (the rows of every
 *		parameter table linked into this program, plus user-defined
 *		parameters that main.cf or master.cf refer to with $name),
 *		sorted by name.  The value is the main.cf setting or the
 *		default, without $name expansion.
 *
 *		-d	show default values
 *		-n	show only parameters set in main.cf
 *		-h	show values only
 *		-H	show names only
 *		-x	expand $name in values
 *		-f	fold long lines at 80 columns
 *		-o	override a main.cf setting for this command
 *		-e	edit main.cf: replace or add name=value settings
 *		-#	edit main.cf: comment out the named settings
 *		-X	edit main.cf: remove the named settings
 *		-M	show master.cf entries (all, or those selected)
 *
 *		Names on the command line restrict the output; an unknown
 *		name is a warning.  Parameters set in main.cf that nothing
 *		uses are reported as "unused parameter" warnings.
 * SECURITY	Runs with the invoking user's privileges.  -e, -# and -X
 *		replace main.cf atomically under a lock.
 * DIAGNOSTICS	Warnings and errors on stderr; exit status 0, or 1 after a
 *		fatal error.
 * SEE ALSO	doc/postconf.md, conf_edit(3), conf_show(3)
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mail/conf.h"
#include "mail/conf_edit.h"
#include "mail/conf_show.h"
#include "mail/mail_conf.h"
#include "mail/mastercf.h"
#include "mail/param_tables.h"
#include "util/argv.h"
#include "util/buf.h"
#include "util/files.h"
#include "util/htable.h"
#include "util/log.h"
#include "util/mem.h"
#include "util/strutil.h"

#define SHOW_DEFS	(1 << 0)	/* -d */
#define SHOW_NONDEF	(1 << 1)	/* -n */
#define SHOW_VALUE	(1 << 2)	/* -h */
#define SHOW_NAMES	(1 << 3)	/* -H */
#define SHOW_EVAL	(1 << 4)	/* -x */
#define SHOW_FOLD	(1 << 5)	/* -f */

/* usage - explain and exit */
static void __attribute__((noreturn))
usage(void)
{
	log_fatal("usage: postconf [-c config_dir] [-dfhHnvx] [-o name=value] "
	    "[name...] | -e name=value... | -# name... | -X name... | "
	    "-M[f] [service[/type]...]");
}

/* flush_out - write the output buffer to stdout */
static void
flush_out(struct buf *out)
{
	if (out->len && fwrite(out->p, 1, out->len, stdout) != out->len)
		log_fatal("write error: %m");
	buf_reset(out);
	if (fflush(stdout) != 0)
		log_fatal("write error: %m");
}

/* add_refs - remember every $name, ${name...} and $(name...) in s */
static void
add_refs(struct htable *refs, const char *s)
{
	char name[256];

	while ((s = strchr(s, '$')) != NULL) {
		size_t n = 0;

		s++;
		if (*s == '$') {
			s++;
			continue;
		}
		if (*s == '{' || *s == '(')
			s++;
		while (n < sizeof(name) - 1 && (s[n] == '_' || s[n] == '-' ||
		    s[n] == '.' || s[n] == '/' ||
		    (s[n] >= 'a' && s[n] <= 'z') ||
		    (s[n] >= 'A' && s[n] <= 'Z') ||
		    (s[n] >= '0' && s[n] <= '9')))
			n++;
		if (n == 0)
			continue;
		memcpy(name, s, n);
		name[n] = 0;
		if (htable_find(refs, name) == NULL)
			htable_enter(refs, name, (void *)1);
		s += n;
	}
}

/* add_master_refs - $name references in master.cf -o values */
static void
add_master_refs(struct htable *refs, const char *dir)
{
	char *path = xasprintf("%s/master.cf", dir);
	struct buf why = BUF_INIT;
	struct mcf m;
	size_t i, k;

	if (mcf_read(path, &m, &why) == 0) {
		for (i = 0; i < m.n; i++) {
			for (k = 1; k + 1 < m.v[i].args->n; k++) {
				char *eq;

				if (strcmp(m.v[i].args->v[k], "-o") != 0)
					continue;
				eq = strchr(m.v[i].args->v[k + 1], '=');
				if (eq)
					add_refs(refs, eq + 1);
			}
		}
		mcf_free(&m);
	}
	free(path);
	buf_free(&why);
}

/*
 * user_defined - names set in main.cf that count as known: referenced
 * with $name somewhere, per-service names, and restriction classes.
 */
static struct htable *
user_defined(struct conf *c, const char *dir)
{
	struct htable *refs = htable_create(64);
	char **names = conf_names(c, 0), **rows = conf_names(c, 1);
	const char *classes;
	int i;

	for (i = 0; names[i]; i++)
		add_refs(refs, conf_raw(c, names[i]));
	for (i = 0; rows[i]; i++)
		if (conf_default(c, rows[i]))
			add_refs(refs, conf_default(c, rows[i]));
	add_master_refs(refs, dir);
	if ((classes = conf_raw(c, "smtpd_restriction_classes")) != NULL) {
		struct argv *a = argv_split(classes, SEPARATORS);
		size_t k;

		for (k = 0; k < a->n; k++)
			if (htable_find(refs, a->v[k]) == NULL)
				htable_enter(refs, a->v[k], (void *)1);
		argv_free(a);
	}
	free(names);
	free(rows);
	return refs;
}

/* is_known - a table row, a per-service name, or a used user name */
static int
is_known(struct conf *c, struct htable *refs, const char *name)
{
	return conf_row(c, name) != NULL || param_dynamic_name(name) ||
	    htable_find(refs, name) != NULL;
}

/* show_one - print one parameter in the selected mode */
static void
show_one(struct conf *c, const char *name, int mode, struct buf *out)
{
	const struct param *row = conf_row(c, name);
	struct buf val = BUF_INIT, why = BUF_INIT, line = BUF_INIT;
	const char *raw;

	if (mode & SHOW_DEFS)
		raw = conf_default(c, name);
	else if ((raw = conf_raw(c, name)) == NULL && !(mode & SHOW_NONDEF))
		raw = conf_default(c, name);
	if (raw == NULL) {
		if (mode & SHOW_NONDEF)
			return;
		raw = "";
	}
	if ((mode & SHOW_EVAL) && !(row && row->type == PT_RAW)) {
		if (conf_expand(c, raw, &val, &why) < 0) {
			log_warn("%s: %s", name, buf_str(&why));
			buf_sets(&val, raw);
		}
	} else {
		buf_sets(&val, raw);
	}
	if (mode & SHOW_NAMES) {
		buf_puts(out, name);
		buf_putc(out, '\n');
	} else if (mode & SHOW_VALUE) {
		conf_show_line(out, val.p ? val.p : "", val.len,
		    mode & SHOW_FOLD);
	} else {
		buf_printf(&line, "%s = %s", name, buf_str(&val));
		conf_show_line(out, line.p, line.len, mode & SHOW_FOLD);
	}
	buf_free(&val);
	buf_free(&why);
	buf_free(&line);
}

/* name_cmp - qsort helper */
static int
name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* show_parameters - the default, -d, -n, -h, -H, -x modes */
static void
show_parameters(const char *dir, int mode, const struct argv *overrides,
    char **names)
{
	struct conf *c = conf_new();
	struct htable *refs;
	struct buf why = BUF_INIT, out = BUF_INIT;
	char *path = xasprintf("%s/main.cf", dir);
	size_t i;

	param_tables_register(c);
	mail_conf_compute_defaults(c);
	/* -d shows (and expands) defaults only: main.cf is not read. */
	if (!(mode & SHOW_DEFS)) {
		if (conf_read(c, path, &why) < 0)
			log_fatal("%s", buf_str(&why));
		for (i = 0; i < overrides->n; i++) {
			char *copy = xstrdup(overrides->v[i]);
			char *eq = strchr(copy, '=');

			if (eq == NULL)
				log_fatal("-o option requires name=value: %s",
				    overrides->v[i]);
			*eq = 0;
			if (!param_valid_name(str_trim(copy)))
				log_fatal("bad parameter name: %s",
				    overrides->v[i]);
			conf_set(c, str_trim(copy), str_trim(eq + 1),
			    CONF_SRC_MAINCF);
			free(copy);
		}
		if (conf_source(c, "config_directory") < 0)
			conf_set(c, "config_directory", dir,
			    CONF_SRC_OVERRIDE);
	}
	refs = user_defined(c, dir);

	if (*names != NULL) {
		for (; *names; names++) {
			if (!is_known(c, refs, *names) &&
			    conf_source(c, *names) < 0)
				log_warn("%s: unknown parameter", *names);
			else
				show_one(c, *names, mode, &out);
		}
	} else {
		char **rows = conf_names(c, 1), **set = conf_names(c, 0);
		struct argv all;
		int k;

		argv_init(&all);
		for (k = 0; rows[k]; k++)
			argv_add(&all, rows[k]);
		for (k = 0; set[k]; k++) {
			if (conf_row(c, set[k]) != NULL)
				continue;
			if (is_known(c, refs, set[k]))
				argv_add(&all, set[k]);
			else if (conf_source(c, set[k]) == CONF_SRC_MAINCF)
				log_warn("%s: unused parameter: %s=%s", path,
				    set[k], conf_raw(c, set[k]));
		}
		qsort(all.v, all.n, sizeof(char *), name_cmp);
		for (i = 0; i < all.n; i++) {
			if ((mode & SHOW_NONDEF) &&
			    conf_source(c, all.v[i]) != CONF_SRC_MAINCF)
				continue;
			show_one(c, all.v[i], mode, &out);
			if (out.len > 65536)
				flush_out(&out);
		}
		argv_clear(&all);
		free(rows);
		free(set);
	}
	flush_out(&out);
	htable_free(refs, NULL);
	conf_free(c);
	free(path);
	buf_free(&why);
	buf_free(&out);
}

/* show_master - postconf -M */
static void
show_master(const char *dir, int fold, char **names)
{
	char *path = xasprintf("%s/master.cf", dir);
	struct buf text = BUF_INIT, out = BUF_INIT, why = BUF_INIT;
	struct argv filters;

	argv_init(&filters);
	for (; *names; names++)
		argv_add(&filters, *names);
	if (file_read(path, &text, MCF_FILE_MAX) < 0)
		log_fatal("open %s: %s", path, errno == EFBIG ?
		    "file too large" : strerror(errno));
	if (mcf_show(text.p ? text.p : "", text.len, path, &filters, fold,
	    &out, &why) < 0)
		log_fatal("%s", buf_str(&why));
	flush_out(&out);
	argv_clear(&filters);
	buf_free(&text);
	buf_free(&out);
	buf_free(&why);
	free(path);
}

/* edit_main - postconf -e, -# and -X */
static void
edit_main(const char *dir, int edit, char **names)
{
	char *path = xasprintf("%s/main.cf", dir);
	struct argv args, warnings;
	struct buf why = BUF_INIT;
	size_t i;

	argv_init(&args);
	argv_init(&warnings);
	for (; *names; names++)
		argv_add(&args, *names);
	if (args.n == 0)
		usage();
	if (conf_edit_file(path, edit, &args, &warnings, &why) < 0)
		log_fatal("%s", buf_str(&why));
	for (i = 0; i < warnings.n; i++)
		log_warn("%s", warnings.v[i]);
	argv_clear(&args);
	argv_clear(&warnings);
	buf_free(&why);
	free(path);
}

/* main - parse options and dispatch */
int
main(int argc, char **argv)
{
	const char *config_opt = NULL, *dir;
	struct argv overrides;
	int c, mode = 0, edit = 0, master = 0;

	log_init("postconf", LOG_TO_STDERR);
	argv_init(&overrides);
	while ((c = getopt(argc, argv, "c:defhHMno:vxX#")) != -1) {
		switch (c) {
		case 'c':
			config_opt = optarg;
			break;
		case 'd':
			mode |= SHOW_DEFS;
			break;
		case 'e':
			if (edit && edit != CONF_EDIT_SET)
				usage();
			edit = CONF_EDIT_SET;
			break;
		case '#':
			if (edit && edit != CONF_EDIT_COMMENT)
				usage();
			edit = CONF_EDIT_COMMENT;
			break;
		case 'X':
			if (edit && edit != CONF_EDIT_DELETE)
				usage();
			edit = CONF_EDIT_DELETE;
			break;
		case 'f':
			mode |= SHOW_FOLD;
			break;
		case 'h':
			mode |= SHOW_VALUE;
			break;
		case 'H':
			mode |= SHOW_NAMES;
			break;
		case 'M':
			master = 1;
			break;
		case 'n':
			mode |= SHOW_NONDEF;
			break;
		case 'o':
			argv_add(&overrides, optarg);
			break;
		case 'v':
			log_verbose++;
			break;
		case 'x':
			mode |= SHOW_EVAL;
			break;
		default:
			usage();
		}
	}
	if ((mode & SHOW_DEFS) && (mode & SHOW_NONDEF))
		log_fatal("specify one of -d and -n");
	if (edit && master)
		log_fatal("-M cannot be combined with -e, -# or -X "
		    "(master.cf editing is not supported)");
	dir = mail_conf_dir(config_opt);
	if (edit)
		edit_main(dir, edit, argv + optind);
	else if (master)
		show_master(dir, mode & SHOW_FOLD, argv + optind);
	else
		show_parameters(dir, mode, &overrides, argv + optind);
	argv_clear(&overrides);
	return 0;
}
