/*
 * NAME		conf_show - postconf output formats
 * DESCRIPTION	conf_show_line() prints text with white space normalized
 *		(one space between words), optionally folded at 80 columns
 *		with a four-space indent, as "postconf" and "postconf -f" do.
 *		mcf_show() prints master.cf entries as "postconf -M" does:
 *		the eight standard columns at fixed positions (values as
 *		written, "-" stays "-"), "-o name=value" options normalized,
 *		values with blanks in "{ }"; with folding, each "-o" option
 *		on a line of its own.
 */
#ifndef MAIL_CONF_SHOW_H
#define MAIL_CONF_SHOW_H

#include <stddef.h>

#include "util/argv.h"
#include "util/buf.h"

#define CONF_SHOW_LINE_LIMIT	80
#define CONF_SHOW_INDENT	"    "

void	 conf_show_line(struct buf *, const char *, size_t, int);
int	 mcf_show(const char *, size_t, const char *, const struct argv *,
	    int, struct buf *, struct buf *);

#endif
