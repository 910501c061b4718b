/*
 * NAME		mail_conf - the global main.cf settings every program reads
 * DESCRIPTION	The table below lists the parameters that more than one
 *		program uses, with Postfix's names and defaults (paths are
 *		Postern's).  A daemon loads its own table on top with
 *		param_load().  Loading happens in three steps so that -o
 *		overrides from master.cf apply before values are converted:
 *		mail_conf_init() reads main.cf, mail_conf_override() applies
 *		"name=value", mail_conf_finish() converts and resolves the
 *		mail_owner and setgid_group ids.
 * SECURITY	main.cf is trusted (owned by root); it is still parsed with
 *		bounds, and a bad value is fatal with the parameter named.
 * PARAMETERS	see mail_params[] below.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "postern_paths.h"
#include "util/log.h"
#include "util/mem.h"
#include "util/proc.h"
#include "util/strutil.h"
#include "mail_conf.h"
#include "mynetworks.h"

struct mail_cfg mail_cfg;
struct conf *mail_conf;

#define G(n, d, f)		P_STR(n, d, struct mail_cfg, f)
const struct param mail_params[] = {
	G("config_directory", DEF_CONFIG_DIR, config_directory),
	G("queue_directory", DEF_QUEUE_DIR, queue_directory),
	G("data_directory", DEF_DATA_DIR, data_directory),
	G("daemon_directory", DEF_DAEMON_DIR, daemon_directory),
	G("command_directory", DEF_COMMAND_DIR, command_directory),
	P_STRN("mail_owner", "postern", struct mail_cfg, mail_owner, 1),
	P_STRN("setgid_group", "posterndrop", struct mail_cfg, setgid_group, 1),
	P_STRN("default_privs", "nobody", struct mail_cfg, default_privs, 1),
	G("myhostname", "localhost.localdomain", myhostname),
	G("mydomain", "localdomain", mydomain),
	G("myorigin", "$myhostname", myorigin),
	G("mydestination", "$myhostname, localhost.$mydomain, localhost",
	    mydestination),
	G("syslog_name", "postfix", syslog_name),
	G("maillog_file", "", maillog_file),
	G("mail_name", "Postern", mail_name),
	G("mail_version", POSTERN_VERSION, mail_version),
	G("hash_queue_names", "deferred, defer", hash_queue_names),
	P_INT("hash_queue_depth", "1", struct mail_cfg, hash_queue_depth, 1,
	    4),
	P_BOOL("enable_long_queue_ids", "yes", struct mail_cfg,
	    enable_long_queue_ids),
	P_INT("spare_queue_file_limit", "100", struct mail_cfg,
	    spare_queue_file_limit, 0, 0),
	P_TIME("ipc_timeout", "3600s", struct mail_cfg, ipc_timeout, 's', 1,
	    0),
	P_TIME("ipc_idle", "5s", struct mail_cfg, ipc_idle, 's', 1, 0),
	P_TIME("max_idle", "100s", struct mail_cfg, max_idle, 's', 1, 0),
	P_INT("max_use", "100", struct mail_cfg, max_use, 1, 0),
	P_TIME("daemon_timeout", "18000s", struct mail_cfg, daemon_timeout,
	    's', 1, 0),
	G("empty_address_recipient", "MAILER-DAEMON", empty_address_recipient),
	G("double_bounce_sender", "double-bounce", double_bounce_sender),
	G("recipient_delimiter", "", recipient_delimiter),
	P_BOOL("owner_request_special", "yes", struct mail_cfg,
	    owner_request_special),
	G("propagate_unmatched_extensions", "canonical, virtual",
	    propagate_unmatched_extensions),
	G("relocated_maps", "", relocated_maps),
	G("virtual_maps", "", virtual_maps),
	G("virtual_alias_maps", "$virtual_maps", virtual_alias_maps),
	P_LONG("message_size_limit", "10240000", struct mail_cfg,
	    message_size_limit, 0, 0),
	G("process_name", "", process_name),
	G("import_environment", "MAIL_CONFIG MAIL_DEBUG MAIL_LOGTAG TZ "
	    "LANG=C POSTLOG_SERVICE POSTLOG_HOSTNAME", import_environment),
	G("export_environment", "TZ MAIL_CONFIG LANG", export_environment),
	G("mail_spool_directory", "/var/mail", mail_spool_directory),
	G("alias_database", "hash:/etc/aliases", alias_database),
	G("alias_maps", "hash:/etc/aliases", alias_maps),
	G("virtual_mailbox_maps", "", virtual_mailbox_maps),
	G("alternate_config_directories", "", alternate_config_directories),
	G("multi_instance_directories", "", multi_instance_directories),
	G("default_database_type", "hash", default_database_type),
	P_BOOL("soft_bounce", "no", struct mail_cfg, soft_bounce),
	G("parent_domain_matches_subdomains", "debug_peer_list,"
	    "fast_flush_domains,mynetworks,permit_mx_backup_networks,"
	    "qmqpd_authorized_clients,relay_domains,smtpd_access_maps",
	    parent_domain_matches_subdomains),
	/* TLS, shared by smtpd and smtp (lib/tls, doc/tls.md). */
	G("tls_high_cipherlist", "aNULL:-aNULL:HIGH:@STRENGTH",
	    tls_high_cipherlist),
	G("tls_medium_cipherlist", "aNULL:-aNULL:HIGH:MEDIUM:+RC4:@STRENGTH",
	    tls_medium_cipherlist),
	G("tls_low_cipherlist", "aNULL:-aNULL:HIGH:MEDIUM:LOW:+RC4:@STRENGTH",
	    tls_low_cipherlist),
	G("tls_export_cipherlist", "aNULL:-aNULL:HIGH:MEDIUM:LOW:EXPORT:+RC4:"
	    "@STRENGTH", tls_export_cipherlist),
	G("tls_null_cipherlist", "eNULL:!aNULL", tls_null_cipherlist),
	/* Deviation: Postfix's default is "no" (doc/tls.md). */
	P_BOOL("tls_preempt_cipherlist", "yes", struct mail_cfg,
	    tls_preempt_cipherlist),
	G("tls_ssl_options", "", tls_ssl_options),
	G("tls_eecdh_auto_curves", "X25519 X448 prime256v1 secp521r1 "
	    "secp384r1", tls_eecdh_auto_curves),
	P_END
};

/* mail_conf_dir - config directory from -c, MAIL_CONFIG or default */
const char *
mail_conf_dir(const char *opt)
{
	const char *env;

	if (opt && *opt)
		return opt;
	if ((env = getenv("MAIL_CONFIG")) != NULL && *env)
		return env;
	return DEF_CONFIG_DIR;
}

/*
 * mail_conf_compute_defaults - defaults that depend on this machine:
 * myhostname is gethostname(), made fully qualified with ".localdomain"
 * when it has no dot (as Postfix 3 does); mydomain is myhostname without
 * its first label.  No resolver is asked.  mynetworks follows
 * mynetworks_style (lib/mail/mynetworks.c).
 */
void
mail_conf_compute_defaults(struct conf *c)
{
	char host[256], *dot;
	const char *mh;
	struct buf b = BUF_INIT, why = BUF_INIT;

	if (gethostname(host, sizeof(host) - 1) < 0 || host[0] == 0)
		strcpy(host, "localhost");
	host[sizeof(host) - 1] = 0;
	str_lower(host);
	if (strchr(host, '.') == NULL)
		strncat(host, ".localdomain", sizeof(host) - strlen(host) - 1);
	conf_set_default(c, "myhostname", host);

	if (conf_expand(c, "$myhostname", &b, &why) == 0) {
		mh = buf_str(&b);
		if ((dot = strchr(mh, '.')) != NULL && dot[1] != 0)
			conf_set_default(c, "mydomain", dot + 1);
		else
			conf_set_default(c, "mydomain", "localdomain");
	}
	buf_free(&b);
	buf_free(&why);
	/* smtpd's mynetworks follows mynetworks_style (postconf -d too). */
	mynetworks_default(c);
}

/* mail_conf_init - read main.cf from the configuration directory */
void
mail_conf_init(const char *dir)
{
	struct buf why = BUF_INIT;
	char *path, *abs = NULL;

	dir = mail_conf_dir(dir);
	/*
	 * Programs change directory (to the queue) and pass the
	 * configuration directory on to others: keep it absolute.
	 */
	if (dir[0] != '/' && (abs = realpath(dir, NULL)) != NULL)
		dir = abs;
	if (mail_conf)
		conf_free(mail_conf);
	mail_conf = conf_new();
	conf_register(mail_conf, mail_params);
	mail_conf_compute_defaults(mail_conf);
	path = xasprintf("%s/main.cf", dir);
	if (conf_read(mail_conf, path, &why) < 0)
		log_fatal("%s", buf_str(&why));
	free(path);
	/* config_directory is where we actually read main.cf. */
	conf_set(mail_conf, "config_directory", dir, CONF_SRC_OVERRIDE);
	if (conf_source(mail_conf, "config_directory") == CONF_SRC_OVERRIDE)
		setenv("MAIL_CONFIG", dir, 1);
	free(abs);
	buf_free(&why);
}

/* mail_conf_override - apply one "name=value" (master.cf -o) */
void
mail_conf_override(const char *nv)
{
	char *copy = xstrdup(nv), *eq = strchr(copy, '=');
	char *name, *value;

	if (eq == NULL)
		log_fatal("bad parameter override (need name=value): %s", nv);
	*eq = 0;
	name = str_trim(copy);
	value = str_trim(eq + 1);
	if (!param_valid_name(name))
		log_fatal("bad parameter name in override: %s", nv);
	conf_set(mail_conf, name, value, CONF_SRC_OVERRIDE);
	free(copy);
}

/*
 * mail_conf_resolve_ids - look up mail_owner and setgid_group.  When
 * required (a privileged daemon or command), a missing account is fatal.
 */
void
mail_conf_resolve_ids(int required)
{
	mail_cfg.unprivileged = getuid() != 0 && geteuid() != 0;
	if (mail_cfg.unprivileged) {
		mail_cfg.owner_uid = getuid();
		mail_cfg.owner_gid = getgid();
		mail_cfg.sgid_gid = getgid();
		return;
	}
	if (user_lookup(mail_cfg.mail_owner, &mail_cfg.owner_uid,
	    &mail_cfg.owner_gid) < 0) {
		if (required)
			log_fatal("file %s/main.cf: parameter mail_owner: "
			    "unknown user name value: %s",
			    mail_cfg.config_directory, mail_cfg.mail_owner);
		mail_cfg.owner_uid = (uid_t)-1;
	} else if (mail_cfg.owner_uid == 0) {
		log_fatal("mail_owner %s must not be the super-user",
		    mail_cfg.mail_owner);
	}
	if (group_lookup(mail_cfg.setgid_group, &mail_cfg.sgid_gid) < 0) {
		if (required)
			log_fatal("file %s/main.cf: parameter setgid_group: "
			    "unknown group name: %s",
			    mail_cfg.config_directory, mail_cfg.setgid_group);
		mail_cfg.sgid_gid = (gid_t)-1;
	}
}

/* mail_conf_finish - convert the global table into mail_cfg */
void
mail_conf_finish(void)
{
	struct buf why = BUF_INIT;

	if (param_load(mail_conf, mail_params, &mail_cfg, &why) < 0)
		log_fatal("%s/main.cf: %s", mail_conf_dir(NULL), buf_str(&why));
	buf_free(&why);
}

/* mail_conf_load - init and finish in one step (commands) */
void
mail_conf_load(const char *dir)
{
	mail_conf_init(dir);
	mail_conf_finish();
}
