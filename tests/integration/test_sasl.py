"""SMTP AUTH in smtpd (RFC 4954) with Cyrus SASL and Dovecot, end to end.

Every backend is real (sasl_fixture.py): a sasldb2 made by saslpasswd2,
saslauthd against the slapd fixture, Dovecot's auth service.  Clients are
Python's smtplib, swaks and a raw line client.  The failure log lines are
checked with fail2ban-regex and fail2ban's stock postfix filter.
"""
import base64
import os
import re
import shutil
import smtplib
import subprocess

import pytest

from conftest import IS_ROOT, VALGRIND, run, wait_for
from fixtures import SmtpClient as Client, free_port
from ldap_fixture import slapd  # noqa: F401  (pytest fixture)
from sasl_fixture import CyrusSasldb, Dovecot, Saslauthd, USERS

pytestmark = pytest.mark.skipif(not IS_ROOT, reason="needs root")

SWAKS = shutil.which("swaks") or "/usr/bin/swaks"
HELO = "client.test.example"
FAIL_LINE = (r"(?m)postfix/smtpd\[\d+\]: warning: unknown\[127\.0\.0\.1\]: "
             r"SASL %s authentication failed: %s")


def b64(s):
    return base64.b64encode(s.encode() if isinstance(s, str) else s).decode()


def plain(user, password):
    return b64("\0%s\0%s" % (user, password))


def setup_smtpd(inst, chroot=True, extra=""):
    inst.smtp_port = free_port()
    inst.master_cf += ("127.0.0.1:%d inet  n       -       %s       -"
                       "       -       smtpd%s\n"
                       % (inst.smtp_port, "y" if chroot and not VALGRIND
                          else "n", extra))
    inst.params.update({
        "mynetworks": "127.0.0.2/32",
        "smtpd_peername_lookup": "no",
        "smtpd_relay_restrictions": "permit_mynetworks, "
        "permit_sasl_authenticated, reject_unauth_destination",
        # Accept any local recipient; tests look at the queue, not
        # at mailboxes.
        "local_recipient_maps": "",
        "smtpd_error_sleep_time": "0s",
    })


def ehlo_auth(port):
    c = Client(port)
    code, text = c.cmd("EHLO " + HELO)
    assert code == 250
    c.close()
    for line in text.splitlines():
        if line.startswith("AUTH "):
            return line[5:].split()
    return None


@pytest.fixture
def cyrus(instance):
    setup_smtpd(instance)
    db = CyrusSasldb(instance, chroot=not VALGRIND)
    yield instance
    db.cleanup()


def smtplib_login(port, user, password, method):
    s = smtplib.SMTP("127.0.0.1", port, local_hostname=HELO, timeout=30)
    try:
        s.ehlo()
        s.user, s.password = user, password
        if method == "PLAIN":
            return s.auth("PLAIN", s.auth_plain), s
        return s.auth("LOGIN", s.auth_login, initial_response_ok=False), s
    except smtplib.SMTPAuthenticationError as e:
        s.close()
        return (e.smtp_code, e.smtp_error), None


def swaks(port, method, user, password, to="someone@remote.example"):
    return subprocess.run(
        [SWAKS, "--server", "127.0.0.1", "--port", str(port), "--helo", HELO,
         "--from", "alice@mx.test.example", "--to", to,
         "--auth", method, "--auth-user", user, "--auth-password", password,
         "--quit-after", "RCPT", "--timeout", "30"],
        capture_output=True, text=True, timeout=60)


# ----------------------------------------------------------------------
# Cyrus SASL with sasldb2
# ----------------------------------------------------------------------

def test_cyrus_sasldb_plain_and_login(cyrus):
    inst = cyrus
    inst.start()
    assert ehlo_auth(inst.smtp_port) == ["PLAIN", "LOGIN"]
    for method in ("PLAIN", "LOGIN"):
        (code, text), s = smtplib_login(inst.smtp_port, "alice",
                                        USERS["alice"], method)
        assert code == 235, (code, text)
        assert text == b"2.7.0 Authentication successful"
        s.quit()
    for method in ("PLAIN", "LOGIN"):
        r = swaks(inst.smtp_port, method, "bob", USERS["bob"])
        assert r.returncode == 0, r.stdout + r.stderr
        assert "<-  235 2.7.0 Authentication successful" in r.stdout
        # Authenticated: may relay.
        assert re.search(r"<-  250 2\.1\.5 Ok\n", r.stdout), r.stdout


def test_cyrus_wrong_password_logs_like_postfix(cyrus):
    inst = cyrus
    inst.start()
    (code, text), _ = smtplib_login(inst.smtp_port, "alice", "nope",
                                    "PLAIN")
    assert code == 535
    assert text == b"5.7.8 Error: authentication failed: " \
        b"authentication failure"
    inst.wait_log(FAIL_LINE % ("PLAIN", "authentication failure$"))
    r = swaks(inst.smtp_port, "LOGIN", "nobody", "nope")
    assert "535 5.7.8 Error: authentication failed:" in r.stdout
    inst.wait_log(FAIL_LINE % ("LOGIN", r"authentication failure$"))
    # The failure counts as an error: the disconnect line says auth=0/1.
    inst.wait_log(r"disconnect from unknown\[127\.0\.0\.1\] ehlo=1 "
                  r"auth=0/1")


def test_auth_rate_limit(cyrus):
    """smtpd_client_auth_rate_limit counts AUTH commands per client
    across sessions and smtpd processes (through anvil); past the limit
    AUTH gets 450 before the backend is asked, and a warning is logged."""
    inst = cyrus
    inst.params.update({"smtpd_client_auth_rate_limit": "2",
                        "smtpd_client_event_limit_exceptions": ""})
    inst.start()
    replies = []
    for _ in range(3):
        c = Client(inst.smtp_port)
        c.cmd("EHLO " + HELO)
        replies.append(c.cmd("AUTH PLAIN " + plain("alice", "nope")))
        c.close()
    assert [r[0] for r in replies] == [535, 535, 450], replies
    assert replies[2][1] == ("4.7.1 Error: too many AUTH commands from "
                             "127.0.0.1")
    inst.wait_log(r"warning: AUTH command rate limit exceeded: 3 from "
                  r"unknown\[127\.0\.0\.1\] for service")
    # The refused attempt never reached the backend: two failures only.
    assert len(re.findall(FAIL_LINE % ("PLAIN", "authentication failure"),
                          inst.log())) == 2


def test_cyrus_not_chrooted(instance):
    """A non-chrooted smtpd: sasldb_path is the absolute path."""
    setup_smtpd(instance, chroot=False)
    db = CyrusSasldb(instance, chroot=False)
    try:
        instance.start()
        (code, _), s = smtplib_login(instance.smtp_port, "alice",
                                     USERS["alice"], "PLAIN")
        assert code == 235
        s.quit()
    finally:
        db.cleanup()


def test_auth_disabled(instance):
    setup_smtpd(instance)
    instance.start()
    assert ehlo_auth(instance.smtp_port) is None
    c = Client(instance.smtp_port)
    c.cmd("EHLO " + HELO)
    assert c.cmd("AUTH PLAIN " + plain("alice", "x")) == (
        503, "5.5.1 Error: authentication not enabled")
    c.close()


def test_auth_protocol_errors(cyrus):
    inst = cyrus
    inst.start()
    c = Client(inst.smtp_port)
    c.cmd("EHLO " + HELO)
    # Syntax.
    assert c.cmd("AUTH") == (501, "5.5.4 Syntax: AUTH mechanism")
    assert c.cmd("AUTH PLAIN a b") == (501, "5.5.4 Syntax: AUTH mechanism")
    assert c.cmd("AUTH PL@IN") == (501, "5.5.4 Syntax: AUTH mechanism")
    assert c.cmd("AUTH " + "X" * 21) == (501, "5.5.4 Syntax: AUTH mechanism")
    assert c.cmd("AUTH PLAIN !!!!") == (
        501, "5.5.2 Invalid base64 data in initial response")
    assert c.cmd("AUTH PLAIN AAA") == (
        501, "5.5.2 Invalid base64 data in initial response")
    # A mechanism that is not offered.
    assert c.cmd("AUTH CRAM-MD5") == (
        535, "5.7.8 Error: authentication failed: "
        "Invalid authentication mechanism")
    # "*" cancels.
    assert c.cmd("AUTH LOGIN") == (334, b64("Username:"))
    assert c.cmd("*") == (501, "5.7.0 Authentication aborted")
    # "=" is an empty initial response: PLAIN then fails.
    code, _ = c.cmd("AUTH PLAIN =")
    assert code == 535
    # An over-long response.
    assert c.cmd("AUTH LOGIN")[0] == 334
    c.send("A" * 12300 + "\r\n")
    assert c.reply() == (500, "5.5.6 SASL response limit exceeded")
    # Bad base64 in a continued response.
    assert c.cmd("AUTH LOGIN")[0] == 334
    assert c.cmd("YWxp=ZQ==") == (
        501, "5.5.2 Invalid base64 data in continued response")
    # The session still works.
    assert c.cmd("NOOP")[0] == 250
    # AUTH during a transaction.
    assert c.cmd("MAIL FROM:<x@remote.example>")[0] == 250
    assert c.cmd("AUTH PLAIN " + plain("alice", USERS["alice"])) == (
        503, "5.5.1 Error: MAIL transaction in progress")
    assert c.cmd("RSET")[0] == 250
    # PLAIN without an initial response: an empty challenge.
    assert c.cmd("AUTH PLAIN") == (334, "")
    assert c.cmd(plain("alice", USERS["alice"])) == (
        235, "2.7.0 Authentication successful")
    # AUTH twice.
    assert c.cmd("AUTH PLAIN " + plain("alice", USERS["alice"])) == (
        503, "5.5.1 Error: already authenticated")
    # RSET and a second EHLO keep the authentication.
    assert c.cmd("RSET")[0] == 250
    code, text = c.cmd("EHLO " + HELO)
    assert code == 250
    assert c.cmd("MAIL FROM:<alice@mx.test.example>")[0] == 250
    assert c.cmd("RCPT TO:<x@remote.example>") == (250, "2.1.5 Ok")
    c.cmd("QUIT")
    c.close()
    log = inst.log()
    assert re.search(r"warning: unknown\[127\.0\.0\.1\]: SASL LOGIN "
                     r"authentication aborted", log)


def test_tls_auth_only_without_tls(cyrus):
    """smtpd_tls_auth_only = yes: no AUTH on a plaintext session."""
    inst = cyrus
    inst.params["smtpd_tls_auth_only"] = "yes"
    inst.start()
    assert ehlo_auth(inst.smtp_port) is None
    c = Client(inst.smtp_port)
    c.cmd("EHLO " + HELO)
    assert c.cmd("AUTH PLAIN " + plain("alice", USERS["alice"])) == (
        503, "5.5.1 Error: authentication not enabled")
    c.close()


def test_broken_clients_and_exceptions(cyrus):
    inst = cyrus
    inst.params["broken_sasl_auth_clients"] = "yes"
    inst.start()
    c = Client(inst.smtp_port)
    code, text = c.cmd("EHLO " + HELO)
    assert "AUTH PLAIN LOGIN" in text.splitlines()
    assert "AUTH=PLAIN LOGIN" in text.splitlines()
    c.close()
    inst.params["smtpd_sasl_exceptions_networks"] = "127.0.0.0/8"
    inst.reload()
    wait_for(lambda: ehlo_auth(inst.smtp_port) is None, 20,
             what="AUTH no longer announced")
    # Not announced, but still usable (as with Postfix).
    c = Client(inst.smtp_port)
    c.cmd("EHLO " + HELO)
    assert c.cmd("AUTH PLAIN " + plain("alice", USERS["alice"]))[0] == 235
    c.close()


def test_relay_permit_sasl_authenticated(cyrus):
    inst = cyrus
    inst.start()
    c = Client(inst.smtp_port)
    c.cmd("EHLO " + HELO)
    assert c.cmd("MAIL FROM:<s@remote.example>")[0] == 250
    assert c.cmd("RCPT TO:<x@remote.example>") == (
        554, "5.7.1 <x@remote.example>: Relay access denied")
    c.cmd("RSET")
    assert c.cmd("AUTH PLAIN " + plain("alice", USERS["alice"]))[0] == 235
    assert c.cmd("MAIL FROM:<s@remote.example>")[0] == 250
    assert c.cmd("RCPT TO:<x@remote.example>") == (250, "2.1.5 Ok")
    c.cmd("QUIT")
    c.close()


def test_sender_login_maps(cyrus):
    inst = cyrus
    maps = os.path.join(inst.etc, "login_maps")
    with open(maps, "w") as f:
        f.write("alice@mx.test.example alice\n"
                "shared@mx.test.example alice, bob\n")
    inst.params.update({
        "smtpd_sender_login_maps": "texthash:" + maps,
        "smtpd_sender_restrictions": "reject_sender_login_mismatch",
    })
    inst.start()
    c = Client(inst.smtp_port)
    c.cmd("EHLO " + HELO)
    # Not logged in: an owned address is refused, others pass.
    c.cmd("MAIL FROM:<alice@mx.test.example>")
    assert c.cmd("RCPT TO:<u@mx.test.example>") == (
        553, "5.7.1 <alice@mx.test.example>: Sender address rejected: "
        "not logged in")
    c.cmd("RSET")
    c.cmd("MAIL FROM:<free@remote.example>")
    assert c.cmd("RCPT TO:<u@mx.test.example>")[0] == 250
    c.cmd("RSET")
    assert c.cmd("AUTH PLAIN " + plain("bob", USERS["bob"]))[0] == 235
    c.cmd("MAIL FROM:<alice@mx.test.example>")
    assert c.cmd("RCPT TO:<u@mx.test.example>") == (
        553, "5.7.1 <alice@mx.test.example>: Sender address rejected: "
        "not owned by user bob")
    c.cmd("RSET")
    c.cmd("MAIL FROM:<shared@mx.test.example>")
    assert c.cmd("RCPT TO:<u@mx.test.example>")[0] == 250
    c.cmd("RSET")
    # reject_sender_login_mismatch: an unowned sender is refused for a
    # logged-in user too.
    c.cmd("MAIL FROM:<free@remote.example>")
    assert c.cmd("RCPT TO:<u@mx.test.example>") == (
        553, "5.7.1 <free@remote.example>: Sender address rejected: "
        "not owned by user bob")
    c.cmd("QUIT")
    c.close()
    inst.wait_log(r"NOQUEUE: reject: RCPT from unknown\[127\.0\.0\.1\]: 553 "
                  r"5\.7\.1 <alice@mx\.test\.example>: Sender address "
                  r"rejected: not owned by user bob;")


def test_known_sender_login_mismatch(cyrus):
    inst = cyrus
    inst.params.update({
        "smtpd_sender_login_maps": "inline:{ alice@mx.test.example=alice }",
        "smtpd_sender_restrictions": "reject_known_sender_login_mismatch",
    })
    inst.start()
    c = Client(inst.smtp_port)
    c.cmd("EHLO " + HELO)
    assert c.cmd("AUTH PLAIN " + plain("bob", USERS["bob"]))[0] == 235
    c.cmd("MAIL FROM:<free@remote.example>")
    assert c.cmd("RCPT TO:<u@mx.test.example>")[0] == 250
    c.cmd("RSET")
    c.cmd("MAIL FROM:<alice@mx.test.example>")
    assert c.cmd("RCPT TO:<u@mx.test.example>")[0] == 553
    c.cmd("QUIT")
    c.close()


def send_held(inst, auth=None, mail_from="alice@mx.test.example",
              mail_params=""):
    """Send one message that stays in the hold queue; its queue ID."""
    c = Client(inst.smtp_port)
    c.cmd("EHLO " + HELO)
    if auth:
        assert c.cmd("AUTH PLAIN " + plain(*auth))[0] == 235
    assert c.cmd("MAIL FROM:<%s>%s" % (mail_from, mail_params))[0] == 250
    assert c.cmd("RCPT TO:<hold@mx.test.example>")[0] == 250
    assert c.cmd("DATA")[0] == 354
    c.send("Subject: t\r\n\r\nbody\r\n.\r\n")
    code, text = c.reply()
    assert code == 250, text
    c.cmd("QUIT")
    c.close()
    return re.search(r"queued as (\S+)", text).group(1)


@pytest.fixture
def held(cyrus):
    cyrus.params["smtpd_recipient_restrictions"] = \
        "check_recipient_access inline:{ hold@mx.test.example=HOLD }"
    return cyrus


def test_queue_attributes_and_log(held):
    inst = held
    inst.start()
    qid = send_held(inst, auth=("alice", USERS["alice"]),
                    mail_params=" AUTH=alice+40mx.test.example")
    inst.wait_log(r"(?m)%s: client=unknown\[127\.0\.0\.1\], sasl_method=PLAIN, "
                  r"sasl_username=alice, "
                  r"sasl_sender=alice@mx\.test\.example$" % qid)
    out = inst.cmd("postcat", "-q", qid).stdout
    assert re.search(r"sasl_method: PLAIN|sasl_method=PLAIN", out), out
    assert re.search(r"sasl_username[:=] ?alice", out), out
    assert re.search(r"sasl_sender[:=] ?alice@mx\.test\.example", out), out
    assert re.search(r"protocol[:=] ?ESMTPA", out), out
    # Without smtpd_sasl_authenticated_header no "Authenticated sender".
    assert "Authenticated sender" not in out
    assert re.search(r"with ESMTPA id %s" % qid, out), out
    # Not authenticated: AUTH= is ignored, nothing SASL is recorded.
    qid2 = send_held(inst, mail_params=" AUTH=<>")
    out = inst.cmd("postcat", "-q", qid2).stdout
    assert "sasl_" not in out
    assert re.search(r"with ESMTP id %s" % qid2, out), out
    inst.wait_log(r"(?m)%s: client=unknown\[127\.0\.0\.1\]$" % qid2)


def test_authenticated_header(held):
    inst = held
    inst.params["smtpd_sasl_authenticated_header"] = "yes"
    inst.start()
    qid = send_held(inst, auth=("bob", USERS["bob"]))
    out = inst.cmd("postcat", "-q", qid).stdout
    assert re.search(r"Received: from client\.test\.example \(unknown "
                     r"\[127\.0\.0\.1\]\)\n\t\(Authenticated sender: bob\)\n"
                     r"\tby mx\.test\.example \(Postern\) with ESMTPA id %s"
                     % qid, out), out


def test_bad_auth_parameter(cyrus):
    inst = cyrus
    inst.start()
    c = Client(inst.smtp_port)
    c.cmd("EHLO " + HELO)
    assert c.cmd("MAIL FROM:<a@b.example> AUTH=a+ZZ") == (
        501, "5.5.4 Bad AUTH parameter syntax")
    assert c.cmd("MAIL FROM:<a@b.example> AUTH=a+0A") == (
        501, "5.5.4 Bad AUTH parameter syntax")
    assert c.cmd("MAIL FROM:<a@b.example> AUTH=<> AUTH=<>") == (
        503, "5.5.4 Error: multiple AUTH= options")
    c.close()


# ----------------------------------------------------------------------
# fail2ban's stock filter on our log
# ----------------------------------------------------------------------

F2B = shutil.which("fail2ban-regex")


@pytest.mark.skipif(F2B is None, reason="fail2ban not installed")
def test_fail2ban_matches_failures_only(cyrus):
    inst = cyrus
    inst.start()
    for method, user in (("PLAIN", "alice"), ("LOGIN", "bob")):
        (code, _), _ = smtplib_login(inst.smtp_port, user, "wrong", method)
        assert code == 535
    (code, _), s = smtplib_login(inst.smtp_port, "alice", USERS["alice"],
                                 "PLAIN")
    assert code == 235
    s.quit()
    inst.wait_log(r"SASL LOGIN authentication failed")
    inst.wait_log(r"disconnect from .* auth=1")
    log = os.path.join(inst.root, "f2b.log")
    with open(log, "w") as f:
        f.write(inst.log())
    r = run([F2B, "-v", log, "/etc/fail2ban/filter.d/postfix.conf[mode=auth]"],
            check=False)
    assert r.returncode == 0, r.stdout + r.stderr
    m = re.search(r"Failregex: (\d+) total", r.stdout)
    assert m and int(m.group(1)) == 2, r.stdout
    # Both failures, from 127.0.0.1; no success line matched.
    assert r.stdout.count("127.0.0.1") >= 2, r.stdout
    lines = [l for l in inst.log().splitlines() if "235" in l or
             "sasl_username" in l]
    for l in lines:
        assert "authentication failed" not in l


# ----------------------------------------------------------------------
# saslauthd (Cyrus pwcheck_method: saslauthd) against slapd
# ----------------------------------------------------------------------

def test_saslauthd_ldap(instance, slapd):  # noqa: F811
    setup_smtpd(instance, chroot=not VALGRIND)
    # Not chrooted under valgrind: then the socket path is absolute.
    sa = Saslauthd(instance, slapd, chroot=not VALGRIND)
    try:
        instance.start()
        assert ehlo_auth(instance.smtp_port) == ["PLAIN", "LOGIN"]
        for method in ("PLAIN", "LOGIN"):
            (code, _), s = smtplib_login(instance.smtp_port, "alice",
                                         USERS["alice"], method)
            assert code == 235, sa.logtext()
            s.quit()
        (code, text), _ = smtplib_login(instance.smtp_port, "alice",
                                        "wrong", "PLAIN")
        assert code == 535, text
        instance.wait_log(FAIL_LINE % ("PLAIN", "authentication failure"))
    finally:
        sa.cleanup()


# ----------------------------------------------------------------------
# Dovecot
# ----------------------------------------------------------------------

@pytest.fixture
def dovecot(instance):
    setup_smtpd(instance)
    d = Dovecot(instance)
    yield instance, d
    d.cleanup()


def test_dovecot_plain_login_wrong(dovecot):
    inst, d = dovecot
    inst.start()
    d.start()
    assert ehlo_auth(inst.smtp_port) == ["PLAIN", "LOGIN"]
    for method in ("PLAIN", "LOGIN"):
        (code, text), s = smtplib_login(inst.smtp_port, "alice",
                                        USERS["alice"], method)
        assert code == 235, (text, d.logtext())
        s.quit()
    r = swaks(inst.smtp_port, "LOGIN", "bob", USERS["bob"])
    assert "<-  235 2.7.0 Authentication successful" in r.stdout, r.stdout
    (code, text), _ = smtplib_login(inst.smtp_port, "alice", "wrong",
                                    "PLAIN")
    assert code == 535
    assert text == b"5.7.8 Error: authentication failed: " \
        b"authentication failure"
    inst.wait_log(FAIL_LINE % ("PLAIN", "authentication failure$"))
    # An abandoned exchange, then a new one on the same connection.
    c = Client(inst.smtp_port)
    c.cmd("EHLO " + HELO)
    assert c.cmd("AUTH LOGIN") == (334, b64("Username:"))
    assert c.cmd(b64("alice")) == (334, b64("Password:"))
    assert c.cmd("*") == (501, "5.7.0 Authentication aborted")
    assert c.cmd("AUTH PLAIN " + plain("bob", USERS["bob"])) == (
        235, "2.7.0 Authentication successful")
    c.close()


def test_dovecot_security_options(dovecot):
    inst, d = dovecot
    inst.params["smtpd_sasl_security_options"] = "noanonymous, noplaintext"
    inst.start()
    d.start()
    # Dovecot marks PLAIN and LOGIN plaintext: nothing is left to offer.
    assert ehlo_auth(inst.smtp_port) is None
    inst.wait_log(r"SASL: AUTH not offered: no SASL authentication "
                  r"mechanisms")


def test_dovecot_down_is_temporary(dovecot):
    inst, d = dovecot
    inst.start()
    # Not running at all: AUTH is not offered, and AUTH gets 454.
    assert ehlo_auth(inst.smtp_port) is None
    c = Client(inst.smtp_port)
    c.cmd("EHLO " + HELO)
    code, text = c.cmd("AUTH PLAIN " + plain("alice", USERS["alice"]))
    assert code == 454, text
    assert text.startswith("4.7.0 Temporary authentication failure: "
                           "Connect to private/auth failed")
    c.close()
    # Running at EHLO, stopped before AUTH.
    d.start()
    c = Client(inst.smtp_port)
    code, text = c.cmd("EHLO " + HELO)
    assert "AUTH PLAIN LOGIN" in text.splitlines()
    d.stop()
    code, text = c.cmd("AUTH PLAIN " + plain("alice", USERS["alice"]))
    assert (code, text) == (454, "4.7.0 Temporary authentication failure: "
                            "Connection lost to authentication server")
    c.close()
    # Back again: the next session authenticates.
    d.start()
    (code, _), s = smtplib_login(inst.smtp_port, "alice", USERS["alice"],
                                 "PLAIN")
    assert code == 235
    s.quit()


def test_cyrus_local_domain(instance):
    """smtpd_sasl_local_domain is the realm Cyrus looks users up in."""
    setup_smtpd(instance)
    db = CyrusSasldb(instance, chroot=not VALGRIND, realm="other.example",
                     local_domain="other.example")
    try:
        instance.params["smtpd_recipient_restrictions"] = \
            "check_recipient_access inline:{ hold@mx.test.example=HOLD }"
        instance.start()
        qid = send_held(instance, auth=("alice", USERS["alice"]))
        instance.wait_log(r"%s: client=unknown\[127\.0\.0\.1\], "
                          r"sasl_method=PLAIN, sasl_username=alice@other\."
                          r"example" % qid)
        # Without it the server name is the realm: no such user there.
        instance.params["smtpd_sasl_local_domain"] = ""
        instance.reload()
        wait_for(lambda: smtplib_login(instance.smtp_port, "alice",
                                       USERS["alice"], "PLAIN")[0][0] ==
                 535, 20, what="realm change")
    finally:
        db.cleanup()


def test_policy_and_check_sasl_access(cyrus, policy_server):
    """The policy request carries the SASL attributes; check_sasl_access
    looks the login name up."""
    inst = cyrus
    table = os.path.join(inst.etc, "sasl_access")
    with open(table, "w") as f:
        f.write("bob@mx.test.example REJECT no bob\n")
    inst.params["smtpd_recipient_restrictions"] = (
        "check_sasl_access texthash:%s, check_policy_service %s"
        % (table, policy_server.address))
    inst.start()
    c = Client(inst.smtp_port)
    c.cmd("EHLO " + HELO)
    assert c.cmd("AUTH PLAIN " + plain("alice", USERS["alice"]))[0] == 235
    assert c.cmd("MAIL FROM:<a@mx.test.example> "
                 "AUTH=a+2Bb@mx.test.example")[0] == 250
    assert c.cmd("RCPT TO:<u@mx.test.example>")[0] == 250
    c.cmd("QUIT")
    c.close()
    policy_server.wait(1)
    req = policy_server.requests[-1]
    assert req["sasl_method"] == "PLAIN"
    assert req["sasl_username"] == "alice"
    assert req["sasl_sender"] == "a+b@mx.test.example"
    assert req["protocol_name"] == "ESMTPA"
    c = Client(inst.smtp_port)
    c.cmd("EHLO " + HELO)
    assert c.cmd("AUTH PLAIN " + plain("bob", USERS["bob"]))[0] == 235
    c.cmd("MAIL FROM:<b@mx.test.example>")
    assert c.cmd("RCPT TO:<u@mx.test.example>") == (
        554, "5.7.1 <bob>: SASL login name rejected: no bob")
    c.close()
