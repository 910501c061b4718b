/*
 * NAME		param_tables - every parameter table linked into a program
 * DESCRIPTION	A daemon's params.c marks its table with PARAM_TABLE(); the
 *		linker gathers the marks into one section, so postconf and
 *		"postern check" (which link every params.c) can list every
 *		parameter Postern knows without a hand-kept registry.
 */
#ifndef MAIL_PARAM_TABLES_H
#define MAIL_PARAM_TABLES_H

#include "conf.h"

#define PARAM_TABLE(t) \
	static const struct param *const t##_registered \
	    __attribute__((used, section("postern_params"))) = t

const struct param *param_tables_find(const char *);
void	 param_tables_walk(void (*)(const struct param *, void *), void *);
int	 param_dynamic_name(const char *);
void	 param_tables_register(struct conf *);

#endif
