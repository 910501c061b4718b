/*
 * NAME		conf - main.cf parameters: parsing, expansion, typed tables
 * DESCRIPTION	A conf holds raw "name = value" settings from main.cf and
 *		from -o overrides, plus the rows of every registered parameter
 *		table for defaults.  Values expand $name, ${name}, $(name),
 *		${name?text}, ${name:text}, ${name?{text}:{text}} and $$, as
 *		Postfix does.  param_load() converts the expanded values of a
 *		table into the fields of a settings struct, which must start
 *		zeroed (string fields are replaced and freed on a reload).
 */
#ifndef MAIL_CONF_H
#define MAIL_CONF_H

#include <stddef.h>

#include "util/buf.h"

enum param_type {
	PT_END = 0,
	PT_STR,			/* char *, expanded */
	PT_RAW,			/* char *, not expanded */
	PT_INT,			/* int */
	PT_LONG,		/* long */
	PT_BOOL,		/* int */
	PT_TIME,		/* long seconds; unit is the default unit */
};

struct param {
	const char *name;
	enum param_type type;
	const char *def;	/* Postfix default, may contain $name */
	size_t	 off;		/* offset of the field, or (size_t)-1 */
	long	 min;
	long	 max;		/* 0: no maximum */
	int	 unit;		/* PT_TIME default unit */
};

#define P_NOFIELD	((size_t)-1)
#define P_STR(n, d, st, f)	{ n, PT_STR, d, offsetof(st, f), 0, 0, 0 }
#define P_STRN(n, d, st, f, mn)	{ n, PT_STR, d, offsetof(st, f), mn, 0, 0 }
#define P_RAW(n, d, st, f)	{ n, PT_RAW, d, offsetof(st, f), 0, 0, 0 }
#define P_INT(n, d, st, f, mn, mx) \
				{ n, PT_INT, d, offsetof(st, f), mn, mx, 0 }
#define P_LONG(n, d, st, f, mn, mx) \
				{ n, PT_LONG, d, offsetof(st, f), mn, mx, 0 }
#define P_BOOL(n, d, st, f)	{ n, PT_BOOL, d, offsetof(st, f), 0, 0, 0 }
#define P_TIME(n, d, st, f, u, mn, mx) \
				{ n, PT_TIME, d, offsetof(st, f), mn, mx, u }
#define P_END			{ NULL, PT_END, NULL, 0, 0, 0, 0 }

#define CONF_SRC_DEFAULT	0
#define CONF_SRC_MAINCF		1
#define CONF_SRC_OVERRIDE	2

#define CONF_FILE_MAX		(8 * 1024 * 1024)
#define CONF_LINE_MAX		(1024 * 1024)
#define CONF_EXPAND_MAX		(1024 * 1024)
#define CONF_DEPTH_MAX		100
#define CONF_REFS_MAX		10000	/* names looked up per expansion */

struct conf;

struct conf *conf_new(void);
void	 conf_free(struct conf *);
int	 conf_parse(struct conf *, const char *, size_t, const char *,
	    struct buf *);
int	 conf_read(struct conf *, const char *, struct buf *);
void	 conf_set(struct conf *, const char *, const char *, int);
int	 conf_unset(struct conf *, const char *);
const char *conf_raw(const struct conf *, const char *);
int	 conf_source(const struct conf *, const char *);
void	 conf_register(struct conf *, const struct param *);
void	 conf_set_default(struct conf *, const char *, const char *);
const struct param *conf_row(const struct conf *, const char *);
const char *conf_default(const struct conf *, const char *);
int	 conf_expand(const struct conf *, const char *, struct buf *,
	    struct buf *);
const char *conf_get(struct conf *, const char *);
char	**conf_names(const struct conf *, int);
int	 param_load(struct conf *, const struct param *, void *,
	    struct buf *);
int	 param_valid_name(const char *);

#endif
