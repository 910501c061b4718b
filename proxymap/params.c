/*
 * NAME		params - proxymap(8) parameter table
 * DESCRIPTION	proxy_read_maps defaults to Postfix's list of the
 *		parameters that may name proxy: tables, without those of
 *		Postfix features Postern will not have (postscreen, tlsproxy).
 *		A name Postern does not know expands to its main.cf value, or
 *		to nothing.
 */
#include <stddef.h>

#include "mail/param_tables.h"
#include "proxymap.h"

const struct param pm_params[] = {
	/*
	 * No field: pm_init() expands it once every daemon's defaults are
	 * known (param_tables_register), which param_load() is not told.
	 */
	{ "proxy_read_maps", PT_STR, "$local_recipient_maps $mydestination "
	    "$virtual_alias_maps $virtual_alias_domains $virtual_mailbox_maps "
	    "$virtual_mailbox_domains $relay_recipient_maps $relay_domains "
	    "$canonical_maps $sender_canonical_maps $recipient_canonical_maps "
	    "$relocated_maps $transport_maps $mynetworks "
	    "$smtpd_sender_login_maps $sender_bcc_maps $recipient_bcc_maps "
	    "$smtp_generic_maps $lmtp_generic_maps $alias_maps "
	    "$smtpd_client_restrictions $smtpd_helo_restrictions "
	    "$smtpd_sender_restrictions $smtpd_relay_restrictions "
	    "$smtpd_recipient_restrictions "
	    "$address_verify_sender_dependent_default_transport_maps "
	    "$address_verify_sender_dependent_relayhost_maps "
	    "$address_verify_transport_maps $fallback_transport_maps "
	    "$lmtp_discard_lhlo_keyword_address_maps $lmtp_pix_workaround_maps "
	    "$lmtp_sasl_password_maps $lmtp_tls_policy_maps "
	    "$mailbox_command_maps $mailbox_transport_maps $rbl_reply_maps "
	    "$sender_dependent_default_transport_maps "
	    "$sender_dependent_relayhost_maps "
	    "$smtp_discard_ehlo_keyword_address_maps "
	    "$smtp_pix_workaround_maps $smtp_sasl_password_maps "
	    "$smtp_tls_policy_maps $smtpd_discard_ehlo_keyword_address_maps "
	    "$smtpd_milter_maps $virtual_gid_maps $virtual_uid_maps "
	    "$virtual_mailbox_limit_maps "
	    "$local_login_sender_maps $smtpd_reject_footer_maps "
	    "$tls_server_sni_maps $default_delivery_status_filter "
	    "$lmtp_delivery_status_filter $lmtp_dns_reply_filter "
	    "$lmtp_reply_filter $local_delivery_status_filter "
	    "$pipe_delivery_status_filter $smtp_delivery_status_filter "
	    "$smtp_dns_reply_filter $smtp_reply_filter $smtpd_command_filter "
	    "$smtpd_dns_reply_filter $virtual_delivery_status_filter "
	    "$body_checks $header_checks $lmtp_body_checks $lmtp_header_checks "
	    "$lmtp_mime_header_checks $lmtp_nested_header_checks "
	    "$milter_header_checks $mime_header_checks $nested_header_checks "
	    "$smtp_body_checks $smtp_header_checks $smtp_mime_header_checks "
	    "$smtp_nested_header_checks", P_NOFIELD, 0, 0, 0 },
	P_END
};

PARAM_TABLE(pm_params);
