/*
 * NAME		params - smtpd(8) parameter table
 * DESCRIPTION	Postfix's names and defaults, with one deliberate
 *		difference: disable_vrfy_command defaults to yes (VRFY off),
 *		because address harvesting through VRFY is not worth its
 *		rare legitimate use; and TLS: TLS 1.2 or later only, and
 *		no anonymous, NULL, export, DES/3DES, RC4, MD5, PSK or SRP
 *		cipher suites by default (doc/tls.md).
 */
#include <stddef.h>

#include "mail/param_tables.h"
#include "smtpd.h"

#define S(n, d, f)	P_STR(n, d, struct smtpd_cfg, f)
#define R(n, d, f)	P_RAW(n, d, struct smtpd_cfg, f)
#define I(n, d, f, mn)	P_INT(n, d, struct smtpd_cfg, f, mn, 0)
#define B(n, d, f)	P_BOOL(n, d, struct smtpd_cfg, f)
#define SMTPD_TLS_EXCLUDE "aNULL, eNULL, EXPORT, DES, 3DES, RC4, MD5, PSK, " \
			  "SRP, DSS, SEED, IDEA"
#define T(n, d, f, mn)	P_TIME(n, d, struct smtpd_cfg, f, 's', mn, 0)

const struct param smtpd_params[] = {
	S("smtpd_banner", "$myhostname ESMTP $mail_name", smtpd_banner),
	T("smtpd_timeout", "300s", smtpd_timeout, 1),
	I("smtpd_recipient_limit", "1000", smtpd_recipient_limit, 1),
	I("smtpd_hard_error_limit", "20", smtpd_hard_error_limit, 1),
	I("smtpd_soft_error_limit", "10", smtpd_soft_error_limit, 1),
	I("smtpd_junk_command_limit", "100", smtpd_junk_command_limit, 1),
	T("smtpd_error_sleep_time", "1s", smtpd_error_sleep_time, 0),
	I("line_length_limit", "2048", line_length_limit, 512),
	B("disable_vrfy_command", "yes", disable_vrfy_command),
	S("smtpd_forbid_bare_newline", "normalize", smtpd_forbid_bare_newline),
	B("smtputf8_enable", "yes", smtputf8_enable),
	B("smtpd_helo_required", "no", smtpd_helo_required),
	B("strict_rfc821_envelopes", "no", strict_rfc821_envelopes),
	S("smtpd_discard_ehlo_keywords", "", smtpd_discard_ehlo_keywords),
	B("smtpd_peername_lookup", "yes", smtpd_peername_lookup),
	S("smtpd_client_restrictions", "", smtpd_client_restrictions),
	S("smtpd_helo_restrictions", "", smtpd_helo_restrictions),
	S("smtpd_sender_restrictions", "", smtpd_sender_restrictions),
	S("smtpd_relay_restrictions", "permit_mynetworks, "
	    "permit_sasl_authenticated, defer_unauth_destination",
	    smtpd_relay_restrictions),
	S("smtpd_recipient_restrictions", "", smtpd_recipient_restrictions),
	S("smtpd_data_restrictions", "", smtpd_data_restrictions),
	S("smtpd_end_of_data_restrictions", "",
	    smtpd_end_of_data_restrictions),
	B("smtpd_delay_reject", "yes", smtpd_delay_reject),
	S("mynetworks", "127.0.0.0/8 [::ffff:127.0.0.0]/104 [::1]/128",
	    mynetworks),
	S("mynetworks_style", "host", mynetworks_style),
	S("relay_domains", "", relay_domains),
	S("local_recipient_maps", "proxy:unix:passwd.byname $alias_maps",
	    local_recipient_maps),
	B("smtpd_reject_unlisted_recipient", "yes",
	    smtpd_reject_unlisted_recipient),
	B("smtpd_reject_unlisted_sender", "no", smtpd_reject_unlisted_sender),
	S("unknown_local_recipient_reject_code", "550",
	    unknown_local_recipient_reject_code),
	S("unknown_virtual_alias_reject_code", "550",
	    unknown_virtual_alias_reject_code),
	S("unknown_virtual_mailbox_reject_code", "550",
	    unknown_virtual_mailbox_reject_code),
	S("unknown_address_reject_code", "450", unknown_address_reject_code),
	S("unknown_client_reject_code", "450", unknown_client_reject_code),
	S("unknown_hostname_reject_code", "450", unknown_hostname_reject_code),
	S("unknown_helo_hostname_tld_reject_code", "554",
	    unknown_helo_hostname_tld_reject_code),
	S("unknown_relay_recipient_reject_code", "550",
	    unknown_relay_recipient_reject_code),
	S("unverified_recipient_reject_code", "450",
	    unverified_recipient_reject_code),
	S("non_fqdn_reject_code", "504", non_fqdn_reject_code),
	S("invalid_hostname_reject_code", "501", invalid_hostname_reject_code),
	S("relay_domains_reject_code", "554", relay_domains_reject_code),
	S("access_map_reject_code", "554", access_map_reject_code),
	S("access_map_defer_code", "450", access_map_defer_code),
	S("reject_code", "554", reject_code),
	S("defer_code", "450", defer_code),
	S("maps_rbl_reject_code", "554", maps_rbl_reject_code),
	/* $rbl_* are expanded per lookup, not as parameters. */
	R("default_rbl_reply", "$rbl_code Service unavailable; $rbl_class "
	    "[$rbl_what] blocked using $rbl_domain${rbl_reason?; $rbl_reason}",
	    default_rbl_reply),
	T("smtpd_policy_service_timeout", "100s",
	    smtpd_policy_service_timeout, 1),
	T("smtpd_policy_service_max_idle", "300s",
	    smtpd_policy_service_max_idle, 1),
	S("smtpd_policy_service_default_action",
	    "451 4.3.5 Server configuration problem",
	    smtpd_policy_service_default_action),
	P_LONG("smtpd_policy_service_request_limit", "0", struct smtpd_cfg,
	    smtpd_policy_service_request_limit, 0, 0),
	S("parent_domain_matches_subdomains", "debug_peer_list,"
	    "fast_flush_domains,mynetworks,permit_mx_backup_networks,"
	    "qmqpd_authorized_clients,relay_domains,smtpd_access_maps",
	    parent_domain_matches_subdomains),
	S("smtpd_restriction_classes", "", smtpd_restriction_classes),
	S("smtpd_null_access_lookup_key", "<>",
	    smtpd_null_access_lookup_key),
	S("smtpd_policy_service_policy_context", "",
	    smtpd_policy_service_policy_context),
	T("smtpd_policy_service_max_ttl", "1000s",
	    smtpd_policy_service_max_ttl, 1),
	I("smtpd_policy_service_try_limit", "2",
	    smtpd_policy_service_try_limit, 1),
	T("smtpd_policy_service_retry_delay", "1s",
	    smtpd_policy_service_retry_delay, 0),
	S("reject_tempfail_action", "defer_if_permit", reject_tempfail_action),
	S("unknown_address_tempfail_action", "$reject_tempfail_action",
	    unknown_address_tempfail_action),
	S("unknown_helo_hostname_tempfail_action", "$reject_tempfail_action",
	    unknown_helo_hostname_tempfail_action),
	S("multi_recipient_bounce_reject_code", "550",
	    multi_recipient_bounce_reject_code),
	B("show_user_unknown_table_name", "yes",
	    show_user_unknown_table_name),
	B("smtpd_relay_before_recipient_restrictions", "yes",
	    smtpd_relay_before_recipient_restrictions),
	P_LONG("queue_minfree", "0", struct smtpd_cfg, queue_minfree, 0, 0),
	B("soft_bounce", "no", soft_bounce),
	/* TLS (smtpd/tls.c, doc/tls.md). */
	S("smtpd_tls_security_level", "", smtpd_tls_security_level),
	B("smtpd_use_tls", "no", smtpd_use_tls),
	B("smtpd_enforce_tls", "no", smtpd_enforce_tls),
	S("smtpd_tls_cert_file", "", smtpd_tls_cert_file),
	S("smtpd_tls_key_file", "$smtpd_tls_cert_file", smtpd_tls_key_file),
	S("smtpd_tls_eccert_file", "", smtpd_tls_eccert_file),
	S("smtpd_tls_eckey_file", "$smtpd_tls_eccert_file",
	    smtpd_tls_eckey_file),
	S("smtpd_tls_chain_files", "", smtpd_tls_chain_files),
	S("smtpd_tls_CAfile", "", smtpd_tls_CAfile),
	S("smtpd_tls_CApath", "", smtpd_tls_CApath),
	B("smtpd_tls_ask_ccert", "no", smtpd_tls_ask_ccert),
	B("smtpd_tls_req_ccert", "no", smtpd_tls_req_ccert),
	/* Deviation: Postfix's default is ">=TLSv1" (doc/tls.md). */
	S("smtpd_tls_protocols", ">=TLSv1.2", smtpd_tls_protocols),
	S("smtpd_tls_mandatory_protocols", ">=TLSv1.2",
	    smtpd_tls_mandatory_protocols),
	S("smtpd_tls_ciphers", "medium", smtpd_tls_ciphers),
	S("smtpd_tls_mandatory_ciphers", "medium",
	    smtpd_tls_mandatory_ciphers),
	/* Deviation: Postfix's default is empty (doc/tls.md). */
	S("smtpd_tls_exclude_ciphers", SMTPD_TLS_EXCLUDE,
	    smtpd_tls_exclude_ciphers),
	S("smtpd_tls_mandatory_exclude_ciphers", SMTPD_TLS_EXCLUDE,
	    smtpd_tls_mandatory_exclude_ciphers),
	S("smtpd_tls_dh1024_param_file", "", smtpd_tls_dh1024_param_file),
	B("smtpd_tls_auth_only", "no", smtpd_tls_auth_only),
	B("smtpd_tls_received_header", "no", smtpd_tls_received_header),
	I("smtpd_tls_loglevel", "0", smtpd_tls_loglevel, 0),
	T("smtpd_tls_session_cache_timeout", "3600s",
	    smtpd_tls_session_cache_timeout, 0),
	B("smtpd_tls_wrappermode", "no", smtpd_tls_wrappermode),
	T("smtpd_starttls_timeout", "300s", smtpd_starttls_timeout, 1),
	S("smtpd_tls_fingerprint_digest", "sha256",
	    smtpd_tls_fingerprint_digest),
	S("tls_server_sni_maps", "", tls_server_sni_maps),
	P_END
};

PARAM_TABLE(smtpd_params);
