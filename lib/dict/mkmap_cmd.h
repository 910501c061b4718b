/*
 * NAME		mkmap_cmd - the body of the postmap(1) and postalias(1)
 *		commands
 * DESCRIPTION	Both commands take the same options and differ only in
 *		the source format (DICT_SRC_POSTMAP or DICT_SRC_ALIASES), the
 *		output format of -q - and -s, and postalias's default list of
 *		tables (alias_database).  Their main() calls
 *		mkmap_cmd_main() with the format.
 */
#ifndef DICT_MKMAP_CMD_H
#define DICT_MKMAP_CMD_H

int	 mkmap_cmd_main(int, char **, int);

#endif
