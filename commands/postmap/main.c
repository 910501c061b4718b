/*
 * NAME		postmap - build, query and change lookup tables
 * SYNOPSIS	postmap [-Nfinoprsuvw] [-c config_dir] [-d key] [-q key]
 *			[type:]file...
 * DESCRIPTION	Builds hash: (default) and lmdb: tables from source files
 *		in postmap(1) format ("key whitespace value"), looks keys up
 *		in any table type (-q), deletes keys (-d), adds entries from
 *		standard input (-i) and lists tables (-s), as Postfix's
 *		postmap does.  hash: and lmdb: tables are LMDB files; a
 *		Berkeley DB file made by Postfix must be rebuilt.
 * SECURITY	When run by root on a file owned by another user, works
 *		with that user's effective ids unless -o is given.
 * PARAMETERS	default_database_type (hash).
 * DIAGNOSTICS	Messages on stderr.  Exit status 0 on success; -q and -d
 *		exit 1 when no key was found; -q exits 2 on a table error;
 *		other errors exit 1.
 * SEE ALSO	doc/postmap.md, doc/tables.md, postalias(1)
 */
#include "dict/dict_source.h"
#include "dict/mkmap_cmd.h"

/* main - all the work is shared with postalias */
int
main(int argc, char **argv)
{
	return mkmap_cmd_main(argc, argv, DICT_SRC_POSTMAP);
}
