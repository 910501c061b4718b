/*
 * NAME		conf_edit - edit main.cf text in place (postconf -e, -#, -X)
 * DESCRIPTION	conf_edit() copies main.cf text and changes the logical
 *		lines of the named parameters, as Postfix's postconf does:
 *		CONF_EDIT_SET replaces every "name = ..." entry (with its
 *		continuation lines) by one "name = value" line at the same
 *		place and appends the names not found, sorted; COMMENT puts
 *		'#' before each line of the entry; DELETE drops it.  Comments,
 *		blank lines and other entries are copied byte for byte.
 *		conf_edit_file() does the same to a file, under a lock, and
 *		replaces it atomically.
 */
#ifndef MAIL_CONF_EDIT_H
#define MAIL_CONF_EDIT_H

#include <stddef.h>

#include "util/argv.h"
#include "util/buf.h"

#define CONF_EDIT_SET		1	/* -e name=value */
#define CONF_EDIT_COMMENT	2	/* -# name */
#define CONF_EDIT_DELETE	3	/* -X name */

#define CONF_EDIT_ARGS_MAX	10000	/* names or assignments per call */

int	 conf_edit(int, const char *, size_t, const struct argv *,
	    struct buf *, struct argv *, struct buf *);
int	 conf_edit_text(const char *, size_t, const struct argv *,
	    struct buf *, struct buf *);
int	 conf_edit_file(const char *, int, const struct argv *,
	    struct argv *, struct buf *);

#endif
