"""The submission (587) and smtps (465) services of conf/master.cf, and
relaying through a smarthost that wants STARTTLS and AUTH.

The services are taken from the shipped conf/master.cf itself: their
commented-out lines are uncommented and bound to free loopback ports, so
the file a postmaster copies is what is tested.  Logins go through a real
Cyrus sasldb (sasl_fixture.py), certificates come from the test CA
(tls_fixture.py), relayed mail lands in an aiosmtpd sink.

The smarthost test runs two Postern instances: the first relays with
smtp_tls_security_level = encrypt and a password from
smtp_sasl_password_maps to the second, whose submission-style service
demands STARTTLS and AUTH; the mail arrives with "ESMTPSA" and the login
name in the second instance's Received: header.
"""
import os
import re
import shutil
import smtplib
import tempfile

import pytest

from conftest import IS_ROOT, REPO, VALGRIND, Instance, run, wait_for
from fixtures import free_port
from sasl_fixture import USERS, CyrusSasldb
from tls_fixture import tls_ca  # noqa: F401 (pytest fixture)

pytestmark = pytest.mark.skipif(not IS_ROOT, reason="needs root")

CHROOT = "n" if VALGRIND else "y"
HELO = "client.test.example"
SENDER = "alice@test.example"


def shipped_service(name, port):
    """The commented-out service NAME of conf/master.cf with its -o lines,
    uncommented, bound to 127.0.0.1:port."""
    with open(os.path.join(REPO, "conf", "master.cf")) as f:
        lines = f.read().splitlines()
    out = []
    for i, line in enumerate(lines):
        if re.match(r"#%s\s+inet\s" % re.escape(name), line):
            fields = line[1:].split()
            fields[0] = "127.0.0.1:%d" % port
            fields[4] = CHROOT
            out.append(" ".join(fields))
            for cont in lines[i + 1:]:
                if not cont.startswith("#  -o"):
                    break
                out.append(cont[1:])
            break
    assert out, "no %s service in conf/master.cf" % name
    return "\n".join(out) + "\n"


@pytest.fixture
def submission(instance, tls_ca, sink):
    """An instance with the shipped submission and smtps services, a
    certificate, Cyrus sasldb logins and a sink as relayhost."""
    cert, key = tls_ca.pair("rsa")
    instance.sub_port = free_port()
    instance.smtps_port = free_port()
    instance.master_cf += shipped_service("submission", instance.sub_port)
    instance.master_cf += shipped_service("smtps", instance.smtps_port)
    instance.master_cf += ("smtp      unix  -       -       %s       -"
                           "       -       smtp\n" % CHROOT)
    instance.params.update({
        "smtpd_tls_cert_file": cert,
        "smtpd_tls_key_file": key,
        "smtpd_tls_loglevel": "1",
        "smtpd_peername_lookup": "no",
        "smtpd_error_sleep_time": "0s",
        # Loopback is not a trusted network here: only a login relays.
        "mynetworks": "127.0.0.2/32",
        "relayhost": sink.relayhost,
    })
    db = CyrusSasldb(instance, chroot=not VALGRIND)
    instance.sink = sink
    yield instance
    db.cleanup()


def test_submission_needs_tls_then_auth(submission, tls_ca):
    inst = submission
    inst.start()
    s = smtplib.SMTP("127.0.0.1", inst.sub_port, local_hostname=HELO,
                     timeout=30)
    try:
        s.ehlo()
        # Before TLS: STARTTLS offered, AUTH not, nothing else works.
        assert s.has_extn("starttls") and not s.has_extn("auth")
        assert s.docmd("AUTH", "PLAIN") == (
            530, b"5.7.0 Must issue a STARTTLS command first")
        assert s.docmd("MAIL", "FROM:<%s>" % SENDER) == (
            530, b"5.7.0 Must issue a STARTTLS command first")
        s.starttls(context=tls_ca.client_context())
        s.ehlo()
        assert "PLAIN" in s.esmtp_features["auth"].split()
        # In TLS but not logged in: no relaying, not even locally.
        assert s.docmd("MAIL", "FROM:<%s>" % SENDER)[0] == 250
        code, text = s.docmd("RCPT", "TO:<bob@remote.example>")
        assert code == 554 and b"5.7.1" in text, (code, text)
        s.rset()
        s.login("alice", USERS["alice"])
        s.sendmail(SENDER, ["bob@remote.example"],
                   "From: %s\r\nTo: bob@remote.example\r\nSubject: sub\r\n"
                   "\r\nhello\r\n" % SENDER)
    finally:
        s.quit()
    msgs = inst.sink.wait(1)
    data = msgs[0].data.decode("utf-8", "replace")
    # The submission service logs under its own syslog_name.
    inst.wait_log(r"postfix/submission/smtpd\[\d+\]: \w+: client=.*"
                  r"sasl_method=PLAIN, sasl_username=alice")
    assert re.search(r"with ESMTPSA id ", data), data


def test_swaks_tls_auth(submission):
    """swaks --tls --auth against the submission port, then --tlsc
    (implicit TLS) against smtps."""
    inst = submission
    inst.start()
    for flag, port, rcpt in (("--tls", inst.sub_port, "d1@remote.example"),
                             ("--tlsc", inst.smtps_port,
                              "d2@remote.example")):
        r = run([shutil.which("swaks") or "/usr/bin/swaks", "--server",
                 "127.0.0.1", "--port", str(port), flag, "--auth",
                 "LOGIN", "--auth-user", "alice", "--auth-password",
                 USERS["alice"], "--from", SENDER, "--to", rcpt,
                 "--helo", HELO, "--timeout", "30"], check=False)
        assert r.returncode == 0, r.stdout + r.stderr
        assert "235 2.7.0 Authentication successful" in r.stdout
    inst.sink.wait(2)


def test_policy_request_tls_and_sasl(submission, tls_ca, policy_server):
    """A policy server sees the TLS protocol, cipher and key size and the
    login of a submission session, and protocol_name ESMTPSA."""
    inst = submission
    # The service overrides the recipient and relay restrictions.
    inst.params["smtpd_data_restrictions"] = (
        "check_policy_service " + policy_server.address)
    inst.start()
    s = smtplib.SMTP("127.0.0.1", inst.sub_port, local_hostname=HELO,
                     timeout=30)
    try:
        s.starttls(context=tls_ca.client_context())
        s.ehlo()
        s.login("alice", USERS["alice"])
        cipher = s.sock.cipher()
        s.sendmail(SENDER, ["e@remote.example"], "Subject: p\r\n\r\nx\r\n")
    finally:
        s.quit()
    policy_server.wait(1)
    req = policy_server.requests[-1]
    assert req["protocol_name"] == "ESMTPSA"
    assert req["sasl_username"] == "alice"
    assert req["encryption_protocol"] == cipher[1]
    assert req["encryption_cipher"] == cipher[0]
    assert req["encryption_keysize"] == str(cipher[2])
    # No client certificate was sent.
    assert req["ccert_subject"] == "" and req["ccert_fingerprint"] == ""


def test_smtps_implicit_tls(submission, tls_ca):
    inst = submission
    inst.start()
    s = smtplib.SMTP_SSL("127.0.0.1", inst.smtps_port, local_hostname=HELO,
                         context=tls_ca.client_context(), timeout=30)
    try:
        s.ehlo()
        # Already in TLS: no STARTTLS, AUTH at once.
        assert not s.has_extn("starttls") and s.has_extn("auth")
        s.login("alice", USERS["alice"])
        s.sendmail(SENDER, ["carol@remote.example"],
                   "Subject: smtps\r\n\r\nhello\r\n")
    finally:
        s.quit()
    msgs = inst.sink.wait(1)
    assert msgs[0].rcpts == ["carol@remote.example"]
    inst.wait_log(r"postfix/smtps/smtpd\[\d+\]: Anonymous TLS connection "
                  r"established from")


def test_smtps_wrong_password(submission, tls_ca):
    inst = submission
    inst.start()
    s = smtplib.SMTP_SSL("127.0.0.1", inst.smtps_port, local_hostname=HELO,
                         context=tls_ca.client_context(), timeout=30)
    try:
        s.ehlo()
        with pytest.raises(smtplib.SMTPAuthenticationError) as e:
            s.login("alice", "wrong")
        assert e.value.smtp_code == 535
    finally:
        s.close()
    inst.wait_log(r"warning: unknown\[127\.0\.0\.1\]: SASL (PLAIN|LOGIN) "
                  r"authentication failed")


def test_smarthost_with_starttls_and_auth(instance, tls_ca, users):
    """Postern relays through a second Postern that requires STARTTLS
    and AUTH; the password comes from smtp_sasl_password_maps."""
    users.add("alice")
    cert, key = tls_ca.pair("rsa")
    root = tempfile.mkdtemp(prefix="postern-test-")
    os.chmod(root, 0o755)
    hub = Instance(root)
    db = None
    try:
        port = free_port()
        hub.master_cf += shipped_service("submission", port)
        hub.params.update({
            "myhostname": "hub.test.example",
            "mydestination": "$myhostname, hub.test.example",
            "mail_spool_directory": hub.spool + "/",
            "smtpd_tls_cert_file": cert,
            "smtpd_tls_key_file": key,
            "smtpd_tls_received_header": "yes",
            "smtpd_sasl_authenticated_header": "yes",
            "smtpd_peername_lookup": "no",
            "mynetworks": "127.0.0.2/32",
        })
        db = CyrusSasldb(hub, chroot=not VALGRIND,
                         realm="hub.test.example")
        hub.start()

        passwd = os.path.join(instance.etc, "sasl_passwd")
        with open(passwd, "w") as f:
            f.write("[127.0.0.1]:%d alice:%s\n" % (port, USERS["alice"]))
        instance.write_config()
        instance.cmd("postmap", passwd)
        instance.master_cf += ("smtp      unix  -       -       %s       -"
                               "       -       smtp\n" % CHROOT)
        instance.params.update({
            "relayhost": "[127.0.0.1]:%d" % port,
            "smtp_tls_security_level": "verify",
            "smtp_tls_CAfile": tls_ca.cafile,
            "smtp_tls_loglevel": "1",
            "smtp_sasl_auth_enable": "yes",
            "smtp_sasl_password_maps": "hash:" + passwd,
            # Over TLS the default smtp_sasl_tls_security_options
            # ($smtp_sasl_security_options = noplaintext, noanonymous)
            # would refuse PLAIN; sites set this.
            "smtp_sasl_tls_security_options": "noanonymous",
        })
        instance.start()
        instance.sendmail(["-f", SENDER, "alice@hub.test.example"],
                          "From: %s\nTo: alice@hub.test.example\n"
                          "Subject: via hub\n\nrelayed\n" % SENDER)
        instance.wait_log(r"Verified TLS connection established to "
                          r"127\.0\.0\.1\[127\.0\.0\.1\]:%d" % port)
        instance.wait_log(r"to=<alice@hub\.test\.example>, "
                          r"relay=127\.0\.0\.1\[127\.0\.0\.1\]:%d, .*"
                          r"status=sent" % port)

        def delivered():
            d = os.path.join(hub.spool, "alice", "new")
            names = os.listdir(d) if os.path.isdir(d) else []
            return [open(os.path.join(d, n), errors="replace").read()
                    for n in names]
        m = wait_for(delivered, 30, what="delivery at the hub")[0]
        assert "relayed" in m
        assert re.search(r"\(Authenticated sender: alice(@\S+)?\)", m), m
        assert "with ESMTPSA id" in m and "(using TLSv1." in m, m
    finally:
        hub.stop()
        hub.kill_all()
        if db is not None:
            db.cleanup()
        shutil.rmtree(root, ignore_errors=True)
