"""smtpd: protocol, extensions, limits, hostile input, relay control."""
import os
import re
import smtplib
import socket
import time

import pytest

from conftest import IS_ROOT, run, wait_for
from fixtures import SmtpClient

PORT_BASE = 24000


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


@pytest.fixture
def smtp_instance(instance):
    """An instance with smtpd on a free loopback port."""
    instance.smtp_port = free_port()
    instance.master_cf += ("127.0.0.1:%d inet  n       -       y       -"
                           "       -       smtpd\n" % instance.smtp_port)
    instance.params["mynetworks"] = "127.0.0.1/32"
    instance.params["mail_spool_directory"] = instance.spool + "/"
    return instance


def Raw(port, source="127.0.0.1"):
    """A raw SMTP connection for byte-exact tests (greeting not read)."""
    return SmtpClient(port, source=source, greeting=False, timeout=15)


def maildir(inst, user):
    d = os.path.join(inst.spool, user, "new")
    out = []
    if os.path.isdir(d):
        for n in sorted(os.listdir(d)):
            with open(os.path.join(d, n), "rb") as f:
                out.append(f.read())
    return out


def test_ehlo_and_simple_delivery(smtp_instance, users):
    inst = smtp_instance
    users.add("sdu1")
    inst.start()
    s = smtplib.SMTP("127.0.0.1", inst.smtp_port)
    code, banner = s.ehlo("client.test.example")
    assert code == 250
    kw = banner.decode().split("\n")
    assert kw[0] == "mx.test.example"
    for k in ("PIPELINING", "ENHANCEDSTATUSCODES", "8BITMIME", "DSN",
              "SMTPUTF8", "CHUNKING"):
        assert k in kw
    assert "SIZE 10240000" in kw
    assert "VRFY" not in kw
    s.sendmail("a@remote.example", ["sdu1@mx.test.example"],
               b"Subject: hi\r\n\r\nbody\r\n")
    s.quit()
    msg = wait_for(lambda: maildir(inst, "sdu1"), 30)[0]
    assert re.search(rb"Received: from client\.test\.example \(localhost "
                     rb"\[127\.0\.0\.1\]\)\n\tby mx\.test\.example \(Postern\)"
                     rb" with ESMTP id \w+\n\tfor <sdu1@mx\.test\.example>;",
                     msg)
    inst.wait_log(r"disconnect from localhost\[127\.0\.0\.1\] ehlo=1 "
                  r"mail=1 rcpt=1 data=1 quit=1 commands=5")


def test_pipelining_replies_in_order(smtp_instance, users):
    inst = smtp_instance
    users.add("pipeu")
    inst.start()
    c = Raw(inst.smtp_port)
    assert c.reply()[0] == 220
    c.send("EHLO x\r\n")
    c.reply()
    c.send("MAIL FROM:<a@remote.example>\r\nRCPT TO:<pipeu@mx.test.example>"
           "\r\nRCPT TO:<nosuchuser@mx.test.example>\r\nDATA\r\n")
    assert c.reply()[0] == 250
    assert c.reply()[0] == 250
    code, text = c.reply()
    assert code == 550 and "5.1.1" in text and "User unknown" in text
    assert c.reply()[0] == 354
    c.send("Subject: p\r\n\r\nx\r\n.\r\nQUIT\r\n")
    code, text = c.reply()
    assert code == 250 and "queued as" in text
    assert c.reply()[0] == 221
    wait_for(lambda: maildir(inst, "pipeu"), 30)


def test_size_limits(smtp_instance, users):
    inst = smtp_instance
    inst.params["message_size_limit"] = "20000"
    users.add("sizeu")
    inst.start()
    s = smtplib.SMTP("127.0.0.1", inst.smtp_port)
    s.ehlo("x")
    code, _ = s.docmd("MAIL FROM:<a@remote.example> SIZE=50000")
    assert code == 552
    s.quit()
    # Without SIZE=, the limit applies to the data itself.
    c = Raw(inst.smtp_port)
    c.reply()
    c.send("EHLO x\r\nMAIL FROM:<a@remote.example>\r\n"
           "RCPT TO:<sizeu@mx.test.example>\r\nDATA\r\n")
    for _ in range(4):
        c.reply()
    c.send(b"Subject: big\r\n\r\n" + (b"x" * 998 + b"\r\n") * 30 +
           b".\r\n")
    code, text = c.reply()
    assert code == 552 and "5.3.4" in text
    inst.wait_log(r"552 5\.3\.4 Error: message file too big")
    # The partial queue file goes when cleanup sees the abort.
    inst.wait_queue_empty(10)


def test_hostile_commands(smtp_instance):
    inst = smtp_instance
    inst.params["smtpd_hard_error_limit"] = "5"
    inst.params["smtpd_soft_error_limit"] = "100"
    inst.start()
    c = Raw(inst.smtp_port)
    c.reply()
    c.send("EHLO x\r\n")
    c.reply()
    c.send("X" * 5000 + "\r\n")
    code, text = c.reply()
    assert code == 500 and "too long" in text
    c.send("NOOP\x00evil\r\n")
    assert c.reply()[0] == 500
    c.send("FOOBAR\r\n")
    assert c.reply()[0] == 502
    c.send("MAIL FROM:<a b@c>\r\n")
    assert c.reply()[0] == 501
    c.send("RCPT TO:<x@y>\r\n")
    assert c.reply()[0] == 503
    # After the fifth error the next command ends the session.
    c.send("NOOP\r\n")
    code, text = c.reply()
    assert code == 421 and "too many errors" in text
    assert c.closed()
    inst.wait_log(r"too many errors after RCPT from localhost")
    inst.wait_log(r"NUL character in command from localhost")


def test_timeout(smtp_instance):
    inst = smtp_instance
    inst.params["smtpd_timeout"] = "2s"
    inst.start()
    c = Raw(inst.smtp_port)
    c.reply()
    code, text = c.reply()
    assert code == 421 and "timeout exceeded" in text
    inst.wait_log(r"timeout after CONNECT from localhost")


def test_recipient_limit(smtp_instance, users):
    inst = smtp_instance
    inst.params["smtpd_recipient_limit"] = "2"
    users.add("rl1")
    inst.start()
    s = smtplib.SMTP("127.0.0.1", inst.smtp_port)
    s.ehlo("x")
    s.mail("a@remote.example")
    assert s.rcpt("rl1@mx.test.example")[0] == 250
    assert s.rcpt("rl1@mx.test.example")[0] == 250
    code, text = s.rcpt("rl1@mx.test.example")
    assert code == 452 and b"4.5.3" in text
    s.quit()


def smuggle(inst, payload, forbid="normalize"):
    """Send one DATA with an embedded fake end-of-data and commands."""
    c = Raw(inst.smtp_port)
    c.reply()
    c.send("EHLO x\r\nMAIL FROM:<a@remote.example>\r\n"
           "RCPT TO:<smug@mx.test.example>\r\nDATA\r\n")
    for _ in range(4):
        c.reply()
    c.send(payload)
    code, text = c.reply()
    try:
        c.send("QUIT\r\n")
        c.reply()
    except (EOFError, OSError):
        pass                    # the server may have closed already
    c.close()
    return code, text


@pytest.mark.parametrize("sep", ["\n.\n", "\r\n.\n", "\n.\r\n", "\r.\r",
                                 "\r.\r\n", "\r\n.\r"])
def test_smtp_smuggling_normalize(smtp_instance, users, sep):
    """Only <CR><LF>.<CR><LF> ends DATA: a smuggled second message with
    another sender stays inside the first one."""
    inst = smtp_instance
    users.add("smug")
    users.add("victim")
    inst.start()
    payload = ("Subject: outer\r\n\r\nhello" + sep +
               "MAIL FROM:<spoof@victim.example>\r\n"
               "RCPT TO:<victim@mx.test.example>\r\nDATA\r\n"
               "Subject: smuggled\r\n\r\nevil\r\n.\r\n")
    code, _ = smuggle(inst, payload)
    assert code == 250
    msgs = wait_for(lambda: maildir(inst, "smug"), 30)
    assert len(msgs) == 1
    assert b"Subject: outer" in msgs[0]
    assert b"spoof@victim.example" in msgs[0]    # inside the body
    time.sleep(1)
    assert maildir(inst, "victim") == []


def test_bare_lf_rejected_when_forbidden(smtp_instance, users):
    inst = smtp_instance
    inst.params["smtpd_forbid_bare_newline"] = "yes"
    users.add("smug")
    inst.start()
    code, text = smuggle(inst, "Subject: x\n\nbare lf\r\n.\r\n")
    assert code == 521 and "bare <LF>" in text
    inst.wait_log(r"bare <LF> received")
    inst.wait_queue_empty(10)


def test_bdat_chunking(smtp_instance, users):
    inst = smtp_instance
    users.add("bdatu")
    inst.start()
    c = Raw(inst.smtp_port)
    c.reply()
    c.send("EHLO x\r\n")
    c.reply()
    body = b"Subject: chunked\r\n\r\nline one\r\n.leading dot\r\nline"
    rest = b" two\r\n"
    c.send(b"MAIL FROM:<a@remote.example>\r\nRCPT TO:<bdatu@mx.test.example>"
           b"\r\nBDAT %d\r\n" % len(body) + body +
           b"BDAT %d LAST\r\n" % len(rest) + rest)
    assert c.reply()[0] == 250
    assert c.reply()[0] == 250
    code, text = c.reply()
    assert code == 250 and "bytes" in text
    code, text = c.reply()
    assert code == 250 and "queued as" in text
    c.send("QUIT\r\n")
    c.reply()
    msg = wait_for(lambda: maildir(inst, "bdatu"), 30)[0]
    assert b"\n.leading dot\n" in msg
    assert b"line two\n" in msg
    inst.wait_log(r"bdat=2 quit=1")


def test_bdat_without_transaction_stays_in_step(smtp_instance):
    inst = smtp_instance
    inst.start()
    c = Raw(inst.smtp_port)
    c.reply()
    c.send("EHLO x\r\nBDAT 10 LAST\r\n0123456789NOOP\r\n")
    c.reply()
    assert c.reply()[0] == 503
    assert c.reply()[0] == 250       # NOOP after the swallowed chunk


def test_dsn_parameters_kept(smtp_instance, users):
    inst = smtp_instance
    inst.params["minimal_backoff_time"] = "3600s"
    inst.start()
    s = smtplib.SMTP("127.0.0.1", inst.smtp_port)
    s.ehlo("x")
    assert s.docmd("MAIL FROM:<a@remote.example> RET=HDRS "
                   "ENVID=abc+2Bdef")[0] == 250
    assert s.docmd("RCPT TO:<x@remote.invalid> NOTIFY=SUCCESS,DELAY "
                   "ORCPT=rfc822;orig+40remote.invalid")[0] == 250
    assert s.data(b"Subject: dsn\r\n\r\nx\r\n")[0] == 250
    s.quit()
    qid = wait_for(lambda: inst.queue_files("deferred") or
                   inst.queue_files("active") or
                   inst.queue_files("incoming"), 30)[0]
    r = inst.cmd("postcat", "-e", "-q", qid)
    assert "dsn_envid=abc+def" in r.stdout
    assert "dsn_ret=2" in r.stdout
    assert "original_recipient: orig@remote.invalid" in r.stdout


def test_smtputf8(smtp_instance, users):
    inst = smtp_instance
    users.add("utfu")
    inst.start()
    c = Raw(inst.smtp_port)
    c.reply()
    c.send("EHLO x\r\n")
    c.reply()
    c.send("MAIL FROM:<j\u00f6rg@remote.example>\r\n".encode())
    code, text = c.reply()
    assert code == 553 and "5.6.7" in text
    c.send("MAIL FROM:<j\u00f6rg@remote.example> SMTPUTF8\r\n".encode())
    assert c.reply()[0] == 250


def test_vrfy_disabled(smtp_instance):
    inst = smtp_instance
    inst.start()
    s = smtplib.SMTP("127.0.0.1", inst.smtp_port)
    code, text = s.docmd("VRFY root")
    assert code == 502


def test_relay_control(smtp_instance, users):
    """A client outside mynetworks cannot relay, and gets 454/4.7.1
    (defer_unauth_destination, the default) for foreign domains; local
    domains are fine."""
    inst = smtp_instance
    users.add("relayu")
    inst.start()
    c = Raw(inst.smtp_port, source="127.0.0.2")
    c.reply()
    c.send("EHLO outside\r\nMAIL FROM:<a@remote.example>\r\n"
           "RCPT TO:<someone@elsewhere.example>\r\n"
           "RCPT TO:<relayu@mx.test.example>\r\n")
    c.reply()
    c.reply()
    code, text = c.reply()
    assert code == 454 and "4.7.1" in text and "Relay access denied" in text
    assert c.reply()[0] == 250
    inst.wait_log(r"NOQUEUE: reject: RCPT from unknown\[127\.0\.0\.2\]: 454 "
                  r"4\.7\.1 <someone@elsewhere\.example>: Relay access "
                  r"denied; from=<a@remote\.example> "
                  r"to=<someone@elsewhere\.example> proto=ESMTP "
                  r"helo=<outside>")
    # reject_unauth_destination makes it permanent.
    inst.params["smtpd_relay_restrictions"] = ("permit_mynetworks, "
                                               "reject_unauth_destination")
    inst.reload()
    time.sleep(1)
    c = Raw(inst.smtp_port, source="127.0.0.2")
    c.reply()
    c.send("EHLO outside\r\nMAIL FROM:<a@remote.example>\r\n"
           "RCPT TO:<someone@elsewhere.example>\r\n")
    c.reply()
    c.reply()
    code, text = c.reply()
    assert code == 554 and "5.7.1" in text
    # A client in mynetworks may relay.
    s = smtplib.SMTP("127.0.0.1", inst.smtp_port)
    s.ehlo("inside")
    s.mail("a@remote.example")
    assert s.rcpt("someone@elsewhere.example")[0] == 250


def test_sendmail_bs(instance, users):
    users.add("bsuser")
    instance.params["mail_spool_directory"] = instance.spool + "/"
    instance.start()
    r = run([os.path.join(instance.params["command_directory"], "sendmail"),
             "-C", instance.etc, "-bs"],
            input="EHLO local\r\nMAIL FROM:<root>\r\nRCPT TO:<bsuser>\r\n"
                  "DATA\r\nSubject: bs\r\n\r\nvia -bs\r\n.\r\nQUIT\r\n")
    assert "250 2.0.0 Ok: queued" in r.stdout
    assert r.stdout.startswith("220 ")
    wait_for(lambda: maildir(instance, "bsuser"), 30)
