/*
 * NAME		mynetworks - the trusted networks (permit_mynetworks)
 * DESCRIPTION	The default of mynetworks is computed from
 *		mynetworks_style as Postfix does (lib/mail/mynetworks.c);
 *		smtpd_mynetworks_default() sets that default in a conf.
 *		The list (a match list with network patterns, names, files
 *		and tables) is compiled by smtpd_check_init(); a name in it
 *		matches the verified client name, with subdomains when
 *		"mynetworks" is in parent_domain_matches_subdomains.
 */
#include <string.h>

#include "dict/match.h"
#include "mail/conf.h"
#include "mail/mail_conf.h"
#include "mail/mynetworks.h"
#include "util/log.h"
#include "check.h"

static struct match_list *ck_mynet;

/*
 * smtpd_mynetworks_default - make the computed list the default of
 * mynetworks in c (from c's mynetworks_style); see lib/mail/mynetworks.c.
 */
void
smtpd_mynetworks_default(struct conf *c)
{
	mynetworks_default(c);
}
/*
 * ck_mynetworks_init - compile $mynetworks (before the chroot).  When
 * main.cf and -o leave mynetworks unset, the list is computed here from
 * the final mynetworks_style (the conf default was computed before
 * main.cf was read).
 */
void
ck_mynetworks_init(void)
{
	int flags = match_parent_style(
	    smtpd_cfg.parent_domain_matches_subdomains, "mynetworks") ?
	    MATCH_FLAG_PARENT : 0;
	struct buf computed = BUF_INIT;
	const char *spec = smtpd_cfg.mynetworks;

	if (mail_conf && conf_source(mail_conf, "mynetworks") < 0) {
		mynetworks_compute(smtpd_cfg.mynetworks_style, &computed);
		spec = buf_str(&computed);
	}
	match_list_free(ck_mynet);
	ck_mynet = match_list_new_flags("mynetworks", spec, flags);
	buf_free(&computed);
}

/* ck_mynetworks - does the client match mynetworks?  1, 0, -1 error */
int
ck_mynetworks(struct ck_ctx *c)
{
	const struct smtpd_state *st = c->st;
	struct buf why = BUF_INIT;
	const char *name = st->client_name;
	int r;

	if (ck_mynet == NULL)
		ck_mynetworks_init();
	if (name[0] == 0 || strcasecmp(name, "unknown") == 0)
		name = NULL;
	r = match_list_host(ck_mynet, name, st->client_addr, &why);
	if (r < 0)
		log_warn("%s", buf_str(&why));
	buf_free(&why);
	return r;
}

/* smtpd_is_mynetworks - is the client in mynetworks (errors: no)? */
int
smtpd_is_mynetworks(struct smtpd_state *st)
{
	struct ck_ctx c;

	memset(&c, 0, sizeof(c));
	c.st = st;
	return ck_mynetworks(&c) > 0;
}

/* ck_mynetworks_free - release the compiled list (tests) */
void
ck_mynetworks_free(void)
{
	match_list_free(ck_mynet);
	ck_mynet = NULL;
}
