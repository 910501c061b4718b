/*
 * NAME		postalias - build, query and change alias tables
 * SYNOPSIS	postalias [-Nfinoprsuvw] [-c config_dir] [-d key] [-q key]
 *			[[type:]file...]
 * DESCRIPTION	Builds hash: (default) and lmdb: tables from files in
 *		aliases(5) format ("name: value, value"), looks names up
 *		(-q), deletes them (-d), adds entries from standard input
 *		(-i) and lists tables (-s), as Postfix's postalias does.
 *		Without file arguments it works on the hash: and lmdb:
 *		tables listed in alias_database.  hash: and lmdb: tables are
 *		LMDB files; a Berkeley DB file made by Postfix must be
 *		rebuilt.
 * SECURITY	When run by root on a file owned by another user, works
 *		with that user's effective ids unless -o is given.
 * PARAMETERS	alias_database (hash:/etc/aliases), default_database_type
 *		(hash).
 * DIAGNOSTICS	Messages on stderr.  Exit status 0 on success; -q and -d
 *		exit 1 when no name was found; -q exits 2 on a table error;
 *		other errors exit 1.
 * SEE ALSO	doc/postalias.md, doc/tables.md, postmap(1)
 */
#include "dict/dict_source.h"
#include "dict/mkmap_cmd.h"

/* main - all the work is shared with postmap */
int
main(int argc, char **argv)
{
	return mkmap_cmd_main(argc, argv, DICT_SRC_ALIASES);
}
