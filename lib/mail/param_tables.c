/*
 * NAME		param_tables - every parameter table linked into a program
 * DESCRIPTION	Walks the "postern_params" linker section (plus the global
 *		table).  param_dynamic_name() accepts the names Postfix builds
 *		from a master.cf service name, e.g.
 *		"relay_destination_concurrency_limit".
 */
#include <string.h>

#include "mail_conf.h"
#include "param_tables.h"
#include "util/strutil.h"

extern const struct param *const __start_postern_params[]
    __attribute__((weak));
extern const struct param *const __stop_postern_params[]
    __attribute__((weak));

/* param_tables_walk - call fn for each row of each table */
void
param_tables_walk(void (*fn)(const struct param *, void *), void *ctx)
{
	const struct param *const *t;
	const struct param *p;

	for (p = mail_params; p->name; p++)
		fn(p, ctx);
	if (__start_postern_params == NULL)
		return;
	/* The linker's bounds of one section: one array, as it should be. */
	/* cppcheck-suppress comparePointers */
	for (t = __start_postern_params; t < __stop_postern_params; t++)
		for (p = *t; p->name; p++)
			fn(p, ctx);
}

/* param_tables_find - the first row for name, or NULL */
const struct param *
param_tables_find(const char *name)
{
	const struct param *const *t;
	const struct param *p;

	for (p = mail_params; p->name; p++)
		if (strcmp(p->name, name) == 0)
			return p;
	if (__start_postern_params == NULL)
		return NULL;
	/* The linker's bounds of one section: one array, as it should be. */
	/* cppcheck-suppress comparePointers */
	for (t = __start_postern_params; t < __stop_postern_params; t++)
		for (p = *t; p->name; p++)
			if (strcmp(p->name, name) == 0)
				return p;
	return NULL;
}

/* param_tables_register - make every table's defaults known to c */
void
param_tables_register(struct conf *c)
{
	const struct param *const *t;

	conf_register(c, mail_params);
	if (__start_postern_params == NULL)
		return;
	/* The linker's bounds of one section: one array, as it should be. */
	/* cppcheck-suppress comparePointers */
	for (t = __start_postern_params; t < __stop_postern_params; t++)
		conf_register(c, *t);
}

/* param_dynamic_name - a per-transport name such as smtp_..._limit? */
int
param_dynamic_name(const char *name)
{
	static const char *const suffixes[] = {
		"_destination_concurrency_limit",
		"_destination_recipient_limit",
		"_initial_destination_concurrency",
		"_destination_concurrency_failed_cohort_limit",
		"_destination_rate_delay",
		"_transport_rate_delay",
		"_recipient_limit",
		"_extra_recipient_limit",
		"_delivery_slot_cost",
		"_delivery_slot_loan",
		"_delivery_slot_discount",
		"_minimum_delivery_slots",
		"_time_limit",
		NULL,
	};
	int i;

	for (i = 0; suffixes[i]; i++)
		if (str_suffix(name, suffixes[i]) &&
		    strlen(name) > strlen(suffixes[i]))
			return 1;
	return 0;
}
