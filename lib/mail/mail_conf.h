/*
 * NAME		mail_conf - the global main.cf settings every program reads
 * DESCRIPTION	mail_conf_load() finds the configuration directory (-c
 *		option, else MAIL_CONFIG, else the compiled-in default), reads
 *		main.cf, computes the defaults that depend on the machine
 *		(myhostname, mydomain) and fills struct mail_cfg.
 */
#ifndef MAIL_MAIL_CONF_H
#define MAIL_MAIL_CONF_H

#include <sys/types.h>

#include "conf.h"

struct mail_cfg {
	char	*config_directory;
	char	*queue_directory;
	char	*data_directory;
	char	*daemon_directory;
	char	*command_directory;
	char	*mail_owner;
	char	*setgid_group;
	char	*default_privs;
	char	*myhostname;
	char	*mydomain;
	char	*myorigin;
	char	*mydestination;
	char	*syslog_name;
	char	*maillog_file;
	char	*mail_name;
	char	*mail_version;
	char	*hash_queue_names;
	int	 hash_queue_depth;
	int	 enable_long_queue_ids;
	int	 spare_queue_file_limit;
	long	 ipc_timeout;
	long	 ipc_idle;
	long	 max_idle;
	int	 max_use;
	long	 daemon_timeout;
	char	*empty_address_recipient;
	char	*double_bounce_sender;
	char	*recipient_delimiter;
	int	 owner_request_special;
	char	*propagate_unmatched_extensions;
	char	*relocated_maps;
	char	*virtual_maps;
	char	*virtual_alias_maps;
	long	 message_size_limit;
	char	*process_name;
	char	*import_environment;
	char	*export_environment;
	char	*mail_spool_directory;
	char	*alias_database;
	char	*alias_maps;
	char	*virtual_mailbox_maps;
	char	*alternate_config_directories;
	char	*multi_instance_directories;
	char	*default_database_type;
	char	*parent_domain_matches_subdomains;
	int	 soft_bounce;
	char	*tls_high_cipherlist;
	char	*tls_medium_cipherlist;
	char	*tls_low_cipherlist;
	char	*tls_export_cipherlist;
	char	*tls_null_cipherlist;
	int	 tls_preempt_cipherlist;
	char	*tls_eecdh_auto_curves;
	char	*tls_ssl_options;

	/* Derived, not parameters. */
	uid_t	 owner_uid;
	gid_t	 owner_gid;
	gid_t	 sgid_gid;
	int	 unprivileged;		/* not started by root */
};

extern struct mail_cfg mail_cfg;
extern struct conf *mail_conf;
extern const struct param mail_params[];

void	 mail_conf_init(const char *);
void	 mail_conf_load(const char *);
void	 mail_conf_override(const char *);
void	 mail_conf_finish(void);
const char *mail_conf_dir(const char *);
void	 mail_conf_compute_defaults(struct conf *);
void	 mail_conf_resolve_ids(int);

#endif
