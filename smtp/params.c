/*
 * NAME		params - smtp(8) and lmtp(8) parameter tables
 * DESCRIPTION	Postfix's names and defaults.  The program reads the smtp_*
 *		table, or the lmtp_* table when it was invoked as "lmtp";
 *		both fill the same settings.  inet_protocols is also in
 *		master(8)'s table, with the same default.
 */
#include <stddef.h>

#include "mail/param_tables.h"
#include "smtp.h"

struct smtp_cfg smtp_cfg;

#define T(n, d, f, mn)	P_TIME(n, d, struct smtp_cfg, f, 's', mn, 0)
#define S(n, d, f)	P_STR(n, d, struct smtp_cfg, f)
#define B(n, d, f)	P_BOOL(n, d, struct smtp_cfg, f)
#define I(n, d, f)	P_INT(n, d, struct smtp_cfg, f, 0, 0)

const struct param smtp_params[] = {
	T("smtp_connect_timeout", "30s", connect_timeout, 0),
	T("smtp_helo_timeout", "300s", helo_timeout, 1),
	T("smtp_mail_timeout", "300s", mail_timeout, 1),
	T("smtp_rcpt_timeout", "300s", rcpt_timeout, 1),
	T("smtp_data_init_timeout", "120s", data_init_timeout, 1),
	T("smtp_data_xfer_timeout", "180s", data_xfer_timeout, 1),
	T("smtp_data_done_timeout", "600s", data_done_timeout, 1),
	T("smtp_rset_timeout", "20s", rset_timeout, 1),
	T("smtp_quit_timeout", "300s", quit_timeout, 1),
	P_STRN("smtp_helo_name", "$myhostname", struct smtp_cfg, helo_name,
	    1),
	B("smtp_skip_5xx_greeting", "yes", skip_5xx_greeting),
	B("smtp_skip_quit_response", "yes", skip_quit_response),
	B("smtp_never_send_ehlo", "no", never_send_ehlo),
	I("smtp_mx_address_limit", "5", mx_address_limit),
	I("smtp_mx_session_limit", "2", mx_session_limit),
	I("smtp_line_length_limit", "998", line_length_limit),
	{ "fallback_relay", PT_STR, "", P_NOFIELD, 0, 0, 0 },
	S("smtp_fallback_relay", "$fallback_relay", fallback_relay),
	B("smtp_connection_cache_on_demand", "yes", cache_on_demand),
	S("smtp_connection_cache_destinations", "", cache_destinations),
	T("smtp_connection_cache_time_limit", "2s", cache_time_limit, 1),
	T("smtp_connection_reuse_time_limit", "300s", reuse_time_limit, 1),
	I("smtp_connection_reuse_count_limit", "0", reuse_count_limit),
	S("smtp_discard_ehlo_keywords", "", discard_keywords),
	S("smtp_address_preference", "any", address_preference),
	P_STRN("smtp_tcp_port", "smtp", struct smtp_cfg, tcp_port, 1),
	S("smtp_generic_maps", "", generic_maps),
	B("smtp_sasl_auth_enable", "no", sasl_enable),
	S("smtp_sasl_password_maps", "", sasl_passwd_maps),
	S("smtp_sasl_security_options", "noplaintext, noanonymous",
	    sasl_sec_opts),
	S("smtp_sasl_tls_security_options", "$smtp_sasl_security_options",
	    sasl_tls_sec_opts),
	S("smtp_sasl_mechanism_filter", "", sasl_mech_filter),
	B("smtp_sasl_auth_soft_bounce", "yes", sasl_soft_bounce),
	B("smtp_sender_dependent_authentication", "no", sender_auth),
	S("inet_protocols", "all", inet_protocols),
	/* TLS (smtp/tls.c, doc/tls.md). */
	S("smtp_tls_security_level", "", tls_security_level),
	S("smtp_tls_CAfile", "", tls_CAfile),
	S("smtp_tls_CApath", "", tls_CApath),
	S("smtp_tls_cert_file", "", tls_cert_file),
	S("smtp_tls_key_file", "$smtp_tls_cert_file", tls_key_file),
	S("smtp_tls_protocols", ">=TLSv1", tls_protocols),
	S("smtp_tls_mandatory_protocols", ">=TLSv1", tls_mandatory_protocols),
	S("smtp_tls_ciphers", "medium", tls_ciphers),
	S("smtp_tls_mandatory_ciphers", "medium", tls_mandatory_ciphers),
	S("smtp_tls_exclude_ciphers", "", tls_exclude_ciphers),
	S("smtp_tls_mandatory_exclude_ciphers", "",
	    tls_mandatory_exclude_ciphers),
	P_INT("smtp_tls_loglevel", "0", struct smtp_cfg, tls_loglevel, 0, 4),
	B("smtp_tls_note_starttls_offer", "no", tls_note_starttls_offer),
	S("smtp_tls_servername", "", tls_servername),
	S("smtp_tls_verify_cert_match", "hostname", tls_verify_cert_match),
	S("smtp_tls_secure_cert_match", "nexthop, dot-nexthop",
	    tls_secure_cert_match),
	S("smtp_tls_fingerprint_cert_match", "",
	    tls_fingerprint_cert_match),
	S("smtp_tls_policy_maps", "", tls_policy_maps),
	B("smtp_tls_wrappermode", "no", tls_wrappermode),
	T("smtp_starttls_timeout", "300s", starttls_timeout, 1),
	S("smtp_tls_fingerprint_digest", "sha256", tls_fingerprint_digest),
	P_END
};

PARAM_TABLE(smtp_params);

const struct param lmtp_params[] = {
	T("lmtp_connect_timeout", "0s", connect_timeout, 0),
	T("lmtp_lhlo_timeout", "300s", helo_timeout, 1),
	T("lmtp_mail_timeout", "300s", mail_timeout, 1),
	T("lmtp_rcpt_timeout", "300s", rcpt_timeout, 1),
	T("lmtp_data_init_timeout", "120s", data_init_timeout, 1),
	T("lmtp_data_xfer_timeout", "180s", data_xfer_timeout, 1),
	T("lmtp_data_done_timeout", "600s", data_done_timeout, 1),
	T("lmtp_rset_timeout", "20s", rset_timeout, 1),
	T("lmtp_quit_timeout", "300s", quit_timeout, 1),
	P_STRN("lmtp_lhlo_name", "$myhostname", struct smtp_cfg, helo_name,
	    1),
	B("lmtp_skip_5xx_greeting", "yes", skip_5xx_greeting),
	B("lmtp_skip_quit_response", "no", skip_quit_response),
	I("lmtp_mx_address_limit", "5", mx_address_limit),
	I("lmtp_mx_session_limit", "2", mx_session_limit),
	I("lmtp_line_length_limit", "998", line_length_limit),
	S("lmtp_fallback_relay", "", fallback_relay),
	B("lmtp_connection_cache_on_demand", "yes", cache_on_demand),
	S("lmtp_connection_cache_destinations", "", cache_destinations),
	T("lmtp_connection_cache_time_limit", "2s", cache_time_limit, 1),
	T("lmtp_connection_reuse_time_limit", "300s", reuse_time_limit, 1),
	I("lmtp_connection_reuse_count_limit", "0", reuse_count_limit),
	S("lmtp_discard_lhlo_keywords", "", discard_keywords),
	S("lmtp_address_preference", "any", address_preference),
	P_STRN("lmtp_tcp_port", "24", struct smtp_cfg, tcp_port, 1),
	S("lmtp_generic_maps", "", generic_maps),
	B("lmtp_sasl_auth_enable", "no", sasl_enable),
	S("lmtp_sasl_password_maps", "", sasl_passwd_maps),
	S("lmtp_sasl_security_options", "noplaintext, noanonymous",
	    sasl_sec_opts),
	S("lmtp_sasl_tls_security_options", "$lmtp_sasl_security_options",
	    sasl_tls_sec_opts),
	S("lmtp_sasl_mechanism_filter", "", sasl_mech_filter),
	B("lmtp_sasl_auth_soft_bounce", "yes", sasl_soft_bounce),
	B("lmtp_sender_dependent_authentication", "no", sender_auth),
	S("inet_protocols", "all", inet_protocols),
	/* TLS (smtp/tls.c, doc/tls.md). */
	S("lmtp_tls_security_level", "", tls_security_level),
	S("lmtp_tls_CAfile", "", tls_CAfile),
	S("lmtp_tls_CApath", "", tls_CApath),
	S("lmtp_tls_cert_file", "", tls_cert_file),
	S("lmtp_tls_key_file", "$lmtp_tls_cert_file", tls_key_file),
	S("lmtp_tls_protocols", ">=TLSv1", tls_protocols),
	S("lmtp_tls_mandatory_protocols", ">=TLSv1", tls_mandatory_protocols),
	S("lmtp_tls_ciphers", "medium", tls_ciphers),
	S("lmtp_tls_mandatory_ciphers", "medium", tls_mandatory_ciphers),
	S("lmtp_tls_exclude_ciphers", "", tls_exclude_ciphers),
	S("lmtp_tls_mandatory_exclude_ciphers", "",
	    tls_mandatory_exclude_ciphers),
	P_INT("lmtp_tls_loglevel", "0", struct smtp_cfg, tls_loglevel, 0, 4),
	B("lmtp_tls_note_starttls_offer", "no", tls_note_starttls_offer),
	S("lmtp_tls_servername", "", tls_servername),
	S("lmtp_tls_verify_cert_match", "hostname", tls_verify_cert_match),
	S("lmtp_tls_secure_cert_match", "nexthop, dot-nexthop",
	    tls_secure_cert_match),
	S("lmtp_tls_fingerprint_cert_match", "",
	    tls_fingerprint_cert_match),
	S("lmtp_tls_policy_maps", "", tls_policy_maps),
	B("lmtp_tls_wrappermode", "no", tls_wrappermode),
	T("lmtp_starttls_timeout", "300s", starttls_timeout, 1),
	S("lmtp_tls_fingerprint_digest", "sha256", tls_fingerprint_digest),
	P_END
};

PARAM_TABLE(lmtp_params);
