"""SMTP AUTH in the SMTP/LMTP client (smtp_sasl_*), end to end.

A private instance relays through a loopback smarthost that wants a
login: the aiosmtpd sink of fixtures.py started with auth= (PLAIN, LOGIN
and CRAM-MD5 without TLS, each login recorded).  Covered: credentials by
next hop "[127.0.0.1]:PORT", by the server's host name, by sender and
@domain (smtp_sender_dependent_authentication) and the connection cache
that keeps identities apart, a wrong password (deferred with the server's
reply in the log and in the queue listing; the fallback relay gets the
mail; bounced with smtp_sasl_auth_soft_bounce = no), no credentials
(sent without AUTH; a server that insists answers MAIL with 530),
Postfix's default smtp_sasl_security_options (noplaintext: PLAIN and
LOGIN are not used without TLS; CRAM-MD5 is), smtp_sasl_mechanism_filter,
a malformed challenge (the exchange is cancelled with "*"), the LMTP
client's lmtp_sasl_* parameters, and that no password reaches the log.
The cases over TLS come with the STARTTLS client.
"""
import os
import re

import pytest

from conftest import VALGRIND, wait_for

SENDER = "sender@test.example"
CHROOT = "n" if VALGRIND else "y"
USER, PASSWORD = "relayuser", "s3cret-Pa55"


@pytest.fixture(autouse=True)
def no_agent_errors(instance):
    """After each test: smtp(8)/lmtp(8) logged no fatal error or panic,
    and no password was logged."""
    yield
    log = instance.log()
    bad = [l for l in log.splitlines()
           if re.search(r"postfix/(smtp|lmtp)\[\d+\]: (fatal|panic):", l)]
    assert not bad, "\n".join(bad)
    for secret in (PASSWORD, "wrong-password", "pw-a", "pw-b", "pw-c"):
        assert secret not in log


def configure(instance, passwords, lmtp=False, maxproc="-", **params):
    """smtp (and lmtp) in master.cf, a texthash: password table with the
    given {key: "user:password"}, and main.cf parameters."""
    instance.master_cf += ("smtp      unix  -       -       %s       -       "
                           "%s       smtp\n" % (CHROOT, maxproc))
    if lmtp:
        instance.master_cf += ("lmtp      unix  -       -       n       -"
                               "       %s       lmtp\n" % maxproc)
    path = os.path.join(instance.etc, "sasl_passwd")
    with open(path, "w") as f:
        for k, v in passwords.items():
            f.write("%s %s\n" % (k, v))
    os.chmod(path, 0o600)
    pfx = "lmtp" if lmtp else "smtp"
    instance.params.update({
        "smtp_connect_timeout": "5s",
        "smtp_helo_timeout": "5s",
        "smtp_mail_timeout": "5s",
        "smtp_rcpt_timeout": "5s",
        "smtp_data_init_timeout": "5s",
        "smtp_data_done_timeout": "5s",
        pfx + "_sasl_auth_enable": "yes",
        pfx + "_sasl_password_maps": "texthash:" + path,
    })
    instance.params.update(params)


def send(instance, rcpts, sender=SENDER):
    msg = ("From: <%s>\nTo: someone@remote.example\nSubject: auth\n\n"
           "hello\n" % sender)
    instance.sendmail(["-f", sender] + list(rcpts), msg)


def wait_status(instance, rcpt, status, timeout=30):
    def find():
        for l in instance.log().splitlines():
            if "to=<%s>" % rcpt in l and " status=%s " % status in l:
                return l
        return None
    return wait_for(find, timeout, what="status=%s for %s; log:\n%s" % (
        status, rcpt, instance.log()[-3000:]))


def auth_commands(sink):
    return [c for c in sink.commands if c.line.upper().startswith("AUTH")]


# -- credentials by next hop, host name, sender ----------------------------
def test_nexthop_key_plain_over_plaintext(instance, sinks):
    sink = sinks.start(auth={USER: PASSWORD})
    configure(instance, {"[127.0.0.1]:%d" % sink.port: USER + ":" + PASSWORD},
              relayhost=sink.relayhost,
              smtp_sasl_security_options="noanonymous")
    instance.start()
    send(instance, ["a@remote.example"])
    tx = sink.wait(1)[0]
    assert tx.auth_user == USER
    ev = sink.auth_events
    assert len(ev) == 1 and ev[0].ok and ev[0].user == USER
    assert ev[0].mechanism in ("PLAIN", "LOGIN")
    l = wait_status(instance, "a@remote.example", "sent")
    assert "relay=127.0.0.1[127.0.0.1]:%d," % sink.port in l
    instance.wait_log(r"sasl_method=%s, sasl_username=%s"
                      % (ev[0].mechanism, USER))
    # The AUTH came after EHLO and before MAIL.
    lines = [c.line.split()[0].upper() for c in sink.commands]
    assert lines.index("EHLO") < lines.index("AUTH") < lines.index("MAIL")


def test_host_name_key(instance, sinks):
    """The server's host name ("127.0.0.1" for "[127.0.0.1]:PORT") is
    looked up before the next hop."""
    sink = sinks.start(auth={USER: PASSWORD, "other": "pw-b"})
    configure(instance, {"127.0.0.1": USER + ":" + PASSWORD,
                         "[127.0.0.1]:%d" % sink.port: "other:pw-b"},
              relayhost=sink.relayhost,
              smtp_sasl_security_options="noanonymous")
    instance.start()
    send(instance, ["a@remote.example"])
    assert sink.wait(1)[0].auth_user == USER


def test_default_security_options_refuse_plaintext_mechanisms(instance,
                                                               sinks):
    """Postfix's default (noplaintext, noanonymous): PLAIN and LOGIN are
    never used without TLS; the mail is deferred, nothing is sent."""
    sink = sinks.start(auth={USER: PASSWORD})
    configure(instance, {"[127.0.0.1]:%d" % sink.port: USER + ":" + PASSWORD},
              relayhost=sink.relayhost)
    instance.start()
    send(instance, ["a@remote.example"])
    l = wait_status(instance, "a@remote.example", "deferred")
    assert "dsn=4.7.0" in l
    assert ("SASL authentication failed; cannot authenticate to server "
            "127.0.0.1[127.0.0.1]: no mechanism available") in l
    assert not auth_commands(sink) and not sink.transactions
    assert any(c.line == "QUIT" for c in sink.commands)
    wait_for(lambda: "no mechanism available" in instance.cmd(
        "postqueue", "-p").stdout, 30, what="the reason in mailq")


def test_default_security_options_use_cram_md5(instance, sinks):
    sink = sinks.start(auth={USER: PASSWORD},
                       auth_mechanisms=("PLAIN", "LOGIN", "CRAM-MD5"))
    configure(instance, {"[127.0.0.1]:%d" % sink.port: USER + ":" + PASSWORD},
              relayhost=sink.relayhost)
    instance.start()
    send(instance, ["a@remote.example"])
    tx = sink.wait(1)[0]
    assert [(e.mechanism, e.user, e.ok) for e in sink.auth_events] == [
        ("CRAM-MD5", USER, True)]
    assert tx.mail_from == SENDER
    # The password itself never went over the wire.
    assert not any(PASSWORD in c.line for c in sink.commands)
    instance.wait_log(r"sasl_method=CRAM-MD5, sasl_username=%s" % USER)


def test_sender_dependent_and_connection_cache(instance, sinks):
    sink = sinks.start(auth={"user-a": "pw-a", "user-b": "pw-b",
                             "user-c": "pw-c"})
    configure(instance, {
        "sender@test.example": "user-a:pw-a",
        "@other.example": "user-c:pw-c",
        "[127.0.0.1]:%d" % sink.port: "user-b:pw-b",
    }, relayhost=sink.relayhost, maxproc="1",
        smtp_sasl_security_options="noanonymous",
        smtp_sender_dependent_authentication="yes",
        smtp_connection_cache_time_limit="10s")
    instance.start()
    plan = [("sender@test.example", "user-a"), ("nobody@test.example",
            "user-b"), ("x@other.example", "user-c"),
            ("sender@test.example", "user-a"), ("sender@test.example",
            "user-a")]
    for i, (sender, _) in enumerate(plan):
        send(instance, ["r%d@remote.example" % i], sender=sender)
        sink.wait(i + 1)
    txs = sorted(sink.messages, key=lambda t: t.rcpts[0])
    assert [(t.mail_from, t.auth_user) for t in txs] == plan
    # One login per connection; every transaction on a connection ran
    # under that connection's login.
    login = {}
    for e in sink.auth_events:
        assert e.ok and e.conn not in login
        login[e.conn] = e.user
    for t in txs:
        assert login[t.conn] == t.auth_user
    # Identities differ from one message to the next, so no reuse ...
    assert len({t.conn for t in txs[:4]}) == 4
    # ... until the same sender comes twice in a row.
    assert txs[4].conn == txs[3].conn


def test_sender_dependent_off_ignores_sender_keys(instance, sinks):
    sink = sinks.start(auth={"user-a": "pw-a", "user-b": "pw-b"})
    configure(instance, {"sender@test.example": "user-a:pw-a",
                         "[127.0.0.1]:%d" % sink.port: "user-b:pw-b"},
              relayhost=sink.relayhost,
              smtp_sasl_security_options="noanonymous")
    instance.start()
    send(instance, ["a@remote.example"])
    assert sink.wait(1)[0].auth_user == "user-b"


# -- failures --------------------------------------------------------------
def test_wrong_password_defers_with_server_reply(instance, sinks):
    sink = sinks.start(auth={USER: PASSWORD})
    configure(instance, {"[127.0.0.1]:%d" % sink.port:
                         USER + ":wrong-password"},
              relayhost=sink.relayhost,
              smtp_sasl_security_options="noanonymous")
    instance.start()
    send(instance, ["a@remote.example"])
    l = wait_status(instance, "a@remote.example", "deferred")
    reason = ("SASL authentication failed; server 127.0.0.1[127.0.0.1] "
              "said: 535 5.7.8 Authentication credentials invalid")
    assert reason in l and "dsn=4.7.8" in l
    assert "relay=127.0.0.1[127.0.0.1]:%d" % sink.port in l
    assert [e.ok for e in sink.auth_events] == [False]
    assert not sink.transactions
    wait_for(lambda: "(%s)" % reason in instance.cmd(
        "postqueue", "-p").stdout, 30, what="the reason in mailq")


def test_wrong_password_then_fallback_relay(instance, sinks):
    bad = sinks.start(auth={USER: PASSWORD})
    good = sinks.start(auth={USER: PASSWORD})
    configure(instance, {
        "[127.0.0.1]:%d" % bad.port: USER + ":wrong-password",
        "[127.0.0.1]:%d" % good.port: USER + ":" + PASSWORD,
    }, relayhost=bad.relayhost, smtp_fallback_relay=good.relayhost,
        smtp_sasl_security_options="noanonymous")
    instance.start()
    send(instance, ["a@remote.example"])
    tx = good.wait(1)[0]
    assert tx.auth_user == USER
    assert [e.ok for e in bad.auth_events] == [False]
    l = wait_status(instance, "a@remote.example", "sent")
    assert "relay=127.0.0.1[127.0.0.1]:%d" % good.port in l


def test_no_soft_bounce_bounces(instance, sinks):
    sink = sinks.start(auth={USER: PASSWORD})
    configure(instance, {"[127.0.0.1]:%d" % sink.port:
                         USER + ":wrong-password"},
              relayhost=sink.relayhost,
              smtp_sasl_security_options="noanonymous",
              smtp_sasl_auth_soft_bounce="no")
    instance.start()
    send(instance, ["a@remote.example"])
    l = wait_status(instance, "a@remote.example", "bounced")
    assert "dsn=5.7.8" in l and "SASL authentication failed" in l


def test_no_credentials_sends_without_auth(instance, sinks):
    sink = sinks.start(auth={USER: PASSWORD})
    configure(instance, {"[elsewhere.example]": "x:pw-c"},
              relayhost=sink.relayhost,
              smtp_sasl_security_options="noanonymous")
    instance.start()
    send(instance, ["a@remote.example"])
    tx = sink.wait(1)[0]
    assert tx.auth_user is None and not auth_commands(sink)
    wait_status(instance, "a@remote.example", "sent")


def test_no_credentials_server_insists(instance, sinks):
    """Without credentials there is no AUTH; a server that wants one
    answers MAIL with 530, a 5XX reply: the mail bounces, as with
    Postfix."""
    sink = sinks.start(auth={USER: PASSWORD}, auth_required=True)
    configure(instance, {"[elsewhere.example]": "x:pw-c"},
              relayhost=sink.relayhost,
              smtp_sasl_security_options="noanonymous")
    instance.start()
    send(instance, ["a@remote.example"])
    l = wait_status(instance, "a@remote.example", "bounced")
    assert "530 5.7.0 Authentication required (in reply to MAIL FROM " \
           "command)" in l
    assert not auth_commands(sink)


def test_auth_disabled_ignores_table(instance, sinks):
    sink = sinks.start(auth={USER: PASSWORD})
    configure(instance, {"[127.0.0.1]:%d" % sink.port: USER + ":" + PASSWORD},
              relayhost=sink.relayhost, smtp_sasl_auth_enable="no",
              smtp_sasl_security_options="noanonymous")
    instance.start()
    send(instance, ["a@remote.example"])
    assert sink.wait(1)[0].auth_user is None
    assert not auth_commands(sink)


def test_malformed_challenge_is_cancelled(instance, sinks):
    sink = sinks.start(auth={USER: PASSWORD}, auth_mechanisms=("LOGIN",))
    sink.replies["AUTH"] = "334 !!not*base64"
    configure(instance, {"[127.0.0.1]:%d" % sink.port: USER + ":" + PASSWORD},
              relayhost=sink.relayhost,
              smtp_sasl_security_options="noanonymous")
    instance.start()
    send(instance, ["a@remote.example"])
    l = wait_status(instance, "a@remote.example", "deferred")
    assert "malformed SASL challenge" in l and "dsn=4.7.0" in l
    assert [(e.mechanism, e.user) for e in sink.auth_events] == [
        ("scripted", "*")]


# -- mechanism filter --------------------------------------------------------
def test_mechanism_filter_chooses(instance, sinks):
    sink = sinks.start(auth={USER: PASSWORD})
    configure(instance, {"[127.0.0.1]:%d" % sink.port: USER + ":" + PASSWORD},
              relayhost=sink.relayhost,
              smtp_sasl_security_options="noanonymous",
              smtp_sasl_mechanism_filter="login")
    instance.start()
    send(instance, ["a@remote.example"])
    sink.wait(1)
    assert [(e.mechanism, e.ok) for e in sink.auth_events] == [
        ("LOGIN", True)]
    assert auth_commands(sink)[0].line.upper().startswith("AUTH LOGIN")


def test_mechanism_filter_leaves_none(instance, sinks):
    """A filter that keeps none of the server's mechanisms: the server is
    treated as one without AUTH (with a warning)."""
    sink = sinks.start(auth={USER: PASSWORD})
    configure(instance, {"[127.0.0.1]:%d" % sink.port: USER + ":" + PASSWORD},
              relayhost=sink.relayhost,
              smtp_sasl_security_options="noanonymous",
              smtp_sasl_mechanism_filter="cram-md5, digest-md5")
    instance.start()
    send(instance, ["a@remote.example"])
    assert sink.wait(1)[0].auth_user is None
    assert not auth_commands(sink)
    instance.wait_log(r"warning: 127\.0\.0\.1\[127\.0\.0\.1\] offered no "
                      r"supported AUTH mechanisms: 'PLAIN LOGIN'")


# -- LMTP ------------------------------------------------------------------
def test_lmtp_parameters(instance, sinks):
    sink = sinks.start(lmtp=True, auth={USER: PASSWORD})
    configure(instance, {sink.nexthop: USER + ":" + PASSWORD}, lmtp=True,
              default_transport="lmtp:" + sink.nexthop,
              lmtp_sasl_security_options="noanonymous")
    instance.start()
    send(instance, ["a@remote.example"])
    tx = sink.wait(1)[0]
    assert tx.auth_user == USER and tx.helo_verb == "LHLO"
    instance.wait_log(r"postfix/lmtp\[\d+\]: .*sasl_username=%s" % USER)
