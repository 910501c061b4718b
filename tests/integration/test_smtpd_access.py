"""smtpd access restrictions, end to end (doc/smtpd-access.md).

Each test starts a private instance with smtpd on a free loopback port
and talks to it as real clients do: a raw socket client (exact replies,
pipelining by hand), Python's smtplib and swaks.  Clients come from
127.0.0.1 (in mynetworks = 127.0.0.1/32) or from other loopback
addresses 127.0.0.N (outside it).  DNS goes only to the test's dnsmasq
(the dns fixture); policy servers are the policy_servers fixture.

Every refusal is checked twice: the exact reply (code, enhanced status
code, text) and the line Postfix would log for it, such as

    NOQUEUE: reject: RCPT from unknown[127.0.0.3]: 554 5.7.1
    <unknown[127.0.0.3]>: Client host rejected: Access denied;
    from=<s@remote.example> to=<u@mx.test.example> proto=ESMTP
    helo=<client.test.example>
"""
import os
import re
import shutil
import smtplib
import socket
import subprocess
import time

import pytest

from conftest import IS_ROOT, VALGRIND, wait_for
from fixtures import STALL, SmtpClient, free_port

pytestmark = pytest.mark.skipif(not IS_ROOT, reason="needs root")

HELO = "client.test.example"
SENDER = "s@remote.example"
SWAKS = shutil.which("swaks") or "/usr/bin/swaks"


# ----------------------------------------------------------------------
# Helpers
# ----------------------------------------------------------------------

def Client(port, source="127.0.0.1"):
    """A line-level SMTP client from a chosen loopback address (greeting
    not read)."""
    return SmtpClient(port, source=source, greeting=False, timeout=20)


def session(inst, helo=HELO, source="127.0.0.1", ehlo=True):
    """A connected client that has been greeted and said EHLO/HELO."""
    c = Client(inst.smtp_port, source)
    code, text = c.reply()
    assert code == 220, text
    if helo is not None:
        code, text = c.cmd("%s %s" % ("EHLO" if ehlo else "HELO", helo))
        assert code == 250, text
    return c


def try_rcpt(inst, rcpt, sender=SENDER, helo=HELO, source="127.0.0.1"):
    """EHLO, MAIL, RCPT in a new session: the RCPT reply (code, text)."""
    c = session(inst, helo, source)
    try:
        code, text = c.cmd("MAIL FROM:<%s>" % sender)
        assert code == 250, text
        return c.cmd("RCPT TO:<%s>" % rcpt)
    finally:
        c.close()


def send_mail(inst, rcpts, body, sender=SENDER, helo=HELO,
              source="127.0.0.1"):
    """A whole transaction; every step must succeed.  Returns the final
    reply text ("2.0.0 Ok: queued as QID")."""
    c = session(inst, helo, source)
    try:
        assert c.cmd("MAIL FROM:<%s>" % sender)[0] == 250
        for r in rcpts:
            code, text = c.cmd("RCPT TO:<%s>" % r)
            assert code == 250, text
        code, text = c.cmd("DATA")
        assert code == 354, text
        code, text = c.message(body)
        assert code == 250, text
        c.cmd("QUIT")
        return text
    finally:
        c.close()


def queue_id(text):
    m = re.search(r"queued as (\w+)", text)
    assert m, text
    return m.group(1)


def logged(inst, action, stage, client, reply, frm=None, to=None,
           proto="ESMTP", helo=HELO, qid="NOQUEUE", timeout=10):
    """Wait for Postfix's access log line, exactly:
    QID: action: STAGE from client: reply; from=<f> to=<t> proto=P
    helo=<h> (the parts that are None are absent)."""
    line = "%s: %s: %s from %s: %s;" % (qid, action, stage, client, reply)
    if frm is not None:
        line += " from=<%s>" % frm
    if to is not None:
        line += " to=<%s>" % to
    if proto is not None:
        line += " proto=%s" % proto
    if helo is not None:
        line += " helo=<%s>" % helo
    return inst.wait_log("(?m)" + re.escape(line) + "$", timeout=timeout)


def maildir(inst, user):
    d = os.path.join(inst.spool, user, "new")
    out = []
    if os.path.isdir(d):
        for n in sorted(os.listdir(d)):
            with open(os.path.join(d, n), "rb") as f:
                out.append(f.read())
    return out


def postmap(inst, name, text, kind="hash"):
    """Write a table source under the instance's etc/; for hash: build
    it with postmap.  Returns the type:name for main.cf."""
    path = os.path.join(inst.etc, name)
    with open(path, "w") as f:
        f.write(text)
    if kind == "hash":
        if not os.path.exists(os.path.join(inst.etc, "main.cf")):
            inst.write_config()     # postmap reads main.cf
        inst.cmd("postmap", "hash:" + path)
    return "%s:%s" % (kind, path)


def swaks(inst, *args, source=None, quit_after="RCPT", helo=HELO):
    """Run swaks against the instance: [(code, text)] of the server's
    replies, in order (the greeting first)."""
    argv = [SWAKS, "--server", "127.0.0.1", "--port", str(inst.smtp_port),
            "--helo", helo, "--timeout", "20", "--hide-informational"]
    if source:
        argv += ["--local-interface", source]
    if quit_after:
        argv += ["--quit-after", quit_after]
    argv += list(args)
    r = subprocess.run(argv, capture_output=True, text=True, timeout=60)
    out = []
    for line in r.stdout.splitlines():
        m = re.match(r"^<[-*~]{1,2} +(\d{3})([ -])(.*)$", line)
        if m and m.group(2) == " ":
            out.append((int(m.group(1)), m.group(3)))
    assert out, "no replies from swaks:\n%s\n%s" % (r.stdout, r.stderr)
    return out


def client_addr(n):
    """127.0.0.n, a client outside mynetworks (127.0.0.1/32)."""
    a = "127.0.0.%d" % n
    s = socket.socket()
    try:
        s.bind((a, 0))
    except OSError as e:
        pytest.skip("cannot bind %s: %s" % (a, e))
    finally:
        s.close()
    return a


@pytest.fixture
def acc(instance, users):
    """An instance with smtpd on a free loopback port; a local user
    "accu" receives mail (Maildir).  Errors do not slow clients down,
    and unless a test wants names, smtpd does not look the client's
    name up (no DNS: every 127.0.0.N client but 127.0.0.1 is
    "unknown")."""
    instance.smtp_port = free_port()
    instance.master_cf += ("127.0.0.1:%d inet  n       -       y       -"
                           "       -       smtpd\n" % instance.smtp_port)
    instance.params.update({
        "mynetworks": "127.0.0.1/32",
        "mail_spool_directory": instance.spool + "/",
        "smtpd_error_sleep_time": "0",
        "smtpd_soft_error_limit": "100",
        "smtpd_hard_error_limit": "200",
        "smtpd_peername_lookup": "no",
    })
    users.add("accu")
    instance.users = users
    return instance


LOCAL = "accu@mx.test.example"
LOCALHOST = "unknown[127.0.0.1]"       # smtpd_peername_lookup = no


# ----------------------------------------------------------------------
# 1. Access tables
# ----------------------------------------------------------------------

def test_client_access_actions(acc):
    """check_client_access with a postmap'ed hash: table: each action,
    reported at RCPT (smtpd_delay_reject = yes)."""
    inst = acc
    table = postmap(inst, "clients", "\n".join([
        "127.0.0.3   REJECT",
        "127.0.0.4   REJECT You are not welcome here",
        "127.0.0.5   DUNNO",
        "127.0.0.6   450 4.7.9 Slow down please",
        "127.0.0.7   550 Go away",
        "127.0.0.8   HOLD",
        "127.0.0.9   DISCARD",
        "127.0.0.10  OK",
        "127.0.0     REJECT Network blocked",
    ]) + "\n")
    inst.params["smtpd_client_restrictions"] = "check_client_access " + table
    inst.start()
    a = {n: client_addr(n) for n in range(3, 12)}

    def rej(n, reply):
        code, text = try_rcpt(inst, LOCAL, source=a[n])
        assert "%d %s" % (code, text) == reply
        logged(inst, "reject", "RCPT", "unknown[%s]" % a[n], reply,
               SENDER, LOCAL)

    rej(3, "554 5.7.1 <unknown[127.0.0.3]>: Client host rejected: "
        "Access denied")
    rej(4, "554 5.7.1 <unknown[127.0.0.4]>: Client host rejected: "
        "You are not welcome here")
    # "4NN text" keeps an enhanced status code; one is made up if none.
    rej(6, "450 4.7.9 <unknown[127.0.0.6]>: Client host rejected: "
        "Slow down please")
    rej(7, "550 5.7.1 <unknown[127.0.0.7]>: Client host rejected: Go away")
    # Not listed itself: the network prefix "127.0.0" matches ...
    rej(11, "554 5.7.1 <unknown[127.0.0.11]>: Client host rejected: "
        "Network blocked")
    # ... but DUNNO stops the search for shorter keys, and OK permits.
    assert try_rcpt(inst, LOCAL, source=a[5])[0] == 250
    assert try_rcpt(inst, LOCAL, source=a[10])[0] == 250
    # The same through swaks.
    r = swaks(inst, "--from", SENDER, "--to", LOCAL, source=a[4])
    assert r[-2] == (554, "5.7.1 <unknown[127.0.0.4]>: Client host "
                     "rejected: You are not welcome here")
    r = swaks(inst, "--from", SENDER, "--to", LOCAL, source=a[5])
    assert r[-2][0] == 250 and r[-1][0] == 221

    # HOLD: accepted, logged (once per message, as Postfix), and the
    # message waits in the hold queue.
    text = send_mail(inst, [LOCAL, "accu@localhost"],
                     "Subject: held\r\n\r\nheld\r\n", source=a[8])
    qid = queue_id(text)
    logged(inst, "hold", "RCPT", "unknown[127.0.0.8]",
           "<unknown[127.0.0.8]>: Client host triggers HOLD action",
           SENDER, LOCAL)
    assert len(re.findall(r"hold: RCPT from unknown\[127\.0\.0\.8\]",
                          inst.log())) == 1
    wait_for(lambda: inst.queue_files("hold"), 10, what="held message")
    assert inst.queue_files("hold") == [qid]
    out = inst.cmd("postqueue", "-p").stdout
    assert re.search(r"^%s!" % qid, out, re.M), out

    # DISCARD: accepted with 250, logged, never delivered.
    text = send_mail(inst, [LOCAL], "Subject: discarded\r\n\r\nx\r\n",
                     source=a[9])
    assert "queued as" in text
    logged(inst, "discard", "RCPT", "unknown[127.0.0.9]",
           "<unknown[127.0.0.9]>: Client host triggers DISCARD action",
           SENDER, LOCAL)
    inst.wait_log(r"discard: END-OF-MESSAGE from unknown\[127\.0\.0\.9\]")
    # cleanup drops it quietly: no queue file, no "client went away".
    inst.wait_log(r"cleanup\[\d+\]: \w+: discard: END-OF-MESSAGE from")
    assert "went away" not in inst.log()
    # A later message is delivered; the discarded one never is.
    send_mail(inst, [LOCAL], "Subject: normal\r\n\r\nx\r\n", source=a[10])
    msgs = wait_for(lambda: maildir(inst, "accu"), 30)
    assert len(msgs) == 1 and b"Subject: normal" in msgs[0]
    inst.wait_queue_empty(10)
    assert inst.queue_files("hold") == [qid]


def test_helo_access(acc):
    """check_helo_access with a texthash: table: parent domains, DUNNO,
    OK, REJECT text, 4NN with an enhanced code, 421 (disconnect)."""
    inst = acc
    table = postmap(inst, "helo", "\n".join([
        "bad.helo.example     REJECT",
        "spam.example         REJECT No spammers",
        "ok.spam.example      DUNNO",
        "greylist.example     451 4.7.1 Come back later",
        "busy.example         421 4.7.0 Too busy, bye",
    ]) + "\n", kind="texthash")
    inst.params["smtpd_helo_restrictions"] = "check_helo_access " + table
    inst.start()

    def rej(helo, reply):
        code, text = try_rcpt(inst, LOCAL, helo=helo)
        assert "%d %s" % (code, text) == reply
        logged(inst, "reject", "RCPT", LOCALHOST, reply, SENDER, LOCAL,
               helo=helo)

    rej("bad.helo.example", "554 5.7.1 <bad.helo.example>: Helo command "
        "rejected: Access denied")
    # A parent domain matches (smtpd_access_maps is in
    # parent_domain_matches_subdomains by default).
    rej("mx1.spam.example", "554 5.7.1 <mx1.spam.example>: Helo command "
        "rejected: No spammers")
    rej("GreyList.Example", "451 4.7.1 <GreyList.Example>: Helo command "
        "rejected: Come back later")
    assert try_rcpt(inst, LOCAL, helo="ok.spam.example")[0] == 250
    assert try_rcpt(inst, LOCAL, helo="other.example")[0] == 250
    # 421 ends the session.
    c = session(inst, "busy.example")
    c.cmd("MAIL FROM:<%s>" % SENDER)
    code, text = c.cmd("RCPT TO:<%s>" % LOCAL)
    assert (code, text) == (421, "4.7.0 <busy.example>: Helo command "
                            "rejected: Too busy, bye")
    assert c.closed()
    c.close()


def test_sender_access(acc):
    """check_sender_access with an inline: table: address, domain,
    user@, the null sender, OK overriding a domain entry, HOLD text."""
    inst = acc
    inst.params["smtpd_sender_restrictions"] = (
        "check_sender_access inline:{ spammer@bad.example=REJECT, "
        "{ bad.example = 554 5.7.0 Domain blocked }, good@bad.example=OK, "
        "{ <> = REJECT No bounces here }, { nobody@ = 450 4.1.0 Try later }, "
        "{ quarantine@remote.example = HOLD Quarantined sender } }")
    inst.start()

    def rej(sender, reply):
        code, text = try_rcpt(inst, LOCAL, sender=sender)
        assert "%d %s" % (code, text) == reply
        logged(inst, "reject", "RCPT", LOCALHOST, reply, sender, LOCAL)

    rej("spammer@bad.example", "554 5.7.1 <spammer@bad.example>: Sender "
        "address rejected: Access denied")
    rej("other@mail.bad.example", "554 5.7.0 <other@mail.bad.example>: "
        "Sender address rejected: Domain blocked")
    rej("", "554 5.7.1 <>: Sender address rejected: No bounces here")
    # X.1.0 in a sender reply stays; any user "nobody" matches "nobody@".
    rej("nobody@anywhere.example", "450 4.1.0 <nobody@anywhere.example>: "
        "Sender address rejected: Try later")
    assert try_rcpt(inst, LOCAL, sender="good@bad.example")[0] == 250
    assert try_rcpt(inst, LOCAL, sender="fine@remote.example")[0] == 250
    # smtplib as a client: HOLD with a text of its own.
    s = smtplib.SMTP("127.0.0.1", inst.smtp_port, local_hostname=HELO)
    s.sendmail("quarantine@remote.example", [LOCAL],
               b"Subject: q\r\n\r\nq\r\n")
    s.quit()
    logged(inst, "hold", "RCPT", LOCALHOST,
           "<quarantine@remote.example>: Sender address Quarantined sender",
           "quarantine@remote.example", LOCAL)
    wait_for(lambda: inst.queue_files("hold"), 10, what="held message")


def test_recipient_access(acc):
    """check_recipient_access with a hash: table: address, address
    without its extension, domain, DISCARD for one recipient."""
    inst = acc
    inst.users.add("keep")
    table = postmap(inst, "rcpts", "\n".join([
        "blocked@mx.test.example   REJECT No mail for you",
        "ext@mx.test.example       550 5.1.1 Mailbox disabled",
        "nowhere.example           REJECT Domain closed",
        "trash@mx.test.example     DISCARD",
        "accu@mx.test.example      DUNNO",
    ]) + "\n")
    inst.params["recipient_delimiter"] = "+"
    inst.params["smtpd_recipient_restrictions"] = (
        "check_recipient_access %s, permit_mynetworks, "
        "reject_unauth_destination" % table)
    # postmaster is always a known local recipient; aliases lead the
    # other names to accu.
    inst.aliases += "blocked: accu\next: accu\ntrash: accu\n"
    inst.start()

    def rej(rcpt, reply):
        code, text = try_rcpt(inst, rcpt)
        assert "%d %s" % (code, text) == reply
        logged(inst, "reject", "RCPT", LOCALHOST, reply, SENDER, rcpt)

    rej("blocked@mx.test.example", "554 5.7.1 <blocked@mx.test.example>: "
        "Recipient address rejected: No mail for you")
    rej("ext+foo@mx.test.example", "550 5.1.1 <ext+foo@mx.test.example>: "
        "Recipient address rejected: Mailbox disabled")
    rej("x@nowhere.example", "554 5.7.1 <x@nowhere.example>: Recipient "
        "address rejected: Domain closed")
    assert try_rcpt(inst, LOCAL)[0] == 250
    assert try_rcpt(inst, "keep@mx.test.example")[0] == 250

    # DISCARD for one recipient: the whole message is accepted and
    # thrown away (Postfix: DISCARD applies to the message).
    c = session(inst)
    assert c.cmd("MAIL FROM:<%s>" % SENDER)[0] == 250
    assert c.cmd("RCPT TO:<trash@mx.test.example>")[0] == 250
    assert c.cmd("RCPT TO:<keep@mx.test.example>")[0] == 250
    assert c.cmd("DATA")[0] == 354
    code, text = c.message("Subject: trash\r\n\r\nx\r\n")
    assert code == 250 and "queued as" in text, text
    assert c.cmd("QUIT")[0] == 221
    c.close()
    logged(inst, "discard", "RCPT", LOCALHOST,
           "<trash@mx.test.example>: Recipient address triggers DISCARD "
           "action", SENDER, "trash@mx.test.example")
    send_mail(inst, ["keep@mx.test.example"], "Subject: kept\r\n\r\nx\r\n")
    msgs = wait_for(lambda: maildir(inst, "keep"), 30)
    assert len(msgs) == 1 and b"Subject: kept" in msgs[0]
    assert maildir(inst, "accu") == []


def test_access_answers_compat(acc):
    """Answers Postfix takes: RELAY means OK, and REJECT/DEFER texts may
    start with their own enhanced status code."""
    inst = acc
    table = postmap(inst, "compat", "\n".join([
        "relayed@mx.test.example   RELAY",
        "quota@mx.test.example     DEFER 4.2.2 Mailbox over quota",
        "gone@mx.test.example      REJECT 5.1.6 Moved away",
        "grey@mx.test.example      DEFER_IF_PERMIT 4.7.5 Greylisted",
    ]) + "\n", kind="texthash")
    inst.aliases += "relayed: accu\nquota: accu\ngone: accu\ngrey: accu\n"
    inst.params["smtpd_recipient_restrictions"] = (
        "check_recipient_access %s, reject_non_fqdn_recipient, reject"
        % table)
    inst.start()
    assert try_rcpt(inst, "relayed@mx.test.example")[0] == 250
    for rcpt, reply in (
            ("quota@mx.test.example", "450 4.2.2 <quota@mx.test.example>: "
             "Recipient address rejected: Mailbox over quota"),
            ("gone@mx.test.example", "554 5.1.6 <gone@mx.test.example>: "
             "Recipient address rejected: Moved away"),
            ("grey@mx.test.example", "554 5.7.1 <grey@mx.test.example>: "
             "Recipient address rejected: Access denied"),
            (LOCAL, "554 5.7.1 <accu@mx.test.example>: Recipient address "
             "rejected: Access denied")):
        code, text = try_rcpt(inst, rcpt)
        assert "%d %s" % (code, text) == reply
        logged(inst, "reject", "RCPT", LOCALHOST, reply, SENDER, rcpt)
    # RFC 5321: "postmaster" alone passes even "reject".
    r = swaks(inst, "--from", SENDER, "--to", "postmaster")
    assert r[-2][0] == 250


def test_discard_ends_all_checks(acc):
    """Once a message is to be DISCARDed, no later restriction can
    refuse a recipient (Postfix): an outside client may then name any
    recipient; nothing is delivered."""
    inst = acc
    inst.params["smtpd_client_restrictions"] = (
        "check_client_access inline:{ 127.0.0.9=DISCARD }, reject")
    inst.params["smtpd_recipient_restrictions"] = "reject_non_fqdn_recipient"
    inst.start()
    a9 = client_addr(9)
    c = session(inst, source=a9)
    assert c.cmd("MAIL FROM:<%s>" % SENDER)[0] == 250
    for rcpt in ("x@elsewhere.example", "nosuch@mx.test.example", "bob",
                 LOCAL):
        code, text = c.cmd("RCPT TO:<%s>" % rcpt)
        assert code == 250, (rcpt, text)
    assert c.cmd("DATA")[0] == 354
    code, text = c.message("Subject: discard\r\n\r\nx\r\n")
    assert code == 250 and "queued as" in text, text
    c.close()
    logged(inst, "discard", "RCPT", "unknown[127.0.0.9]",
           "<unknown[127.0.0.9]>: Client host triggers DISCARD action",
           SENDER, "x@elsewhere.example")
    inst.wait_log(r"discard: END-OF-MESSAGE from unknown\[127\.0\.0\.9\]")
    inst.wait_queue_empty(10)
    assert maildir(inst, "accu") == []


def test_message_actions(acc, sink):
    """REDIRECT, FILTER, PREPEND, WARN and INFO answers, end to end: the
    message goes elsewhere or gets a header, and each is logged."""
    inst = acc
    inst.users.add("accv")
    inst.master_cf += ("smtp      unix  -       -       %s       -       "
                       "-       smtp\n" % ("n" if VALGRIND else "y"))
    table = postmap(inst, "actions", "\n".join([
        "redir@mx.test.example   REDIRECT accv@mx.test.example",
        "filt@mx.test.example    FILTER smtp:%s" % sink.relayhost,
        "prep@mx.test.example    PREPEND X-Access: tagged",
        "warnme@mx.test.example  WARN suspicious recipient",
        "info@mx.test.example    INFO just saying",
    ]) + "\n")
    inst.aliases += "redir: accu\nfilt: accu\nprep: accu\nwarnme: accu\n" \
        "info: accu\n"
    inst.params["smtpd_recipient_restrictions"] = (
        "check_recipient_access " + table)
    inst.start()

    send_mail(inst, ["redir@mx.test.example"], "Subject: redir\r\n\r\nx\r\n")
    logged(inst, "redirect", "RCPT", LOCALHOST, "<redir@mx.test.example>: "
           "Recipient address triggers REDIRECT accv@mx.test.example",
           SENDER, "redir@mx.test.example")
    msgs = wait_for(lambda: maildir(inst, "accv"), 30)
    assert b"Subject: redir" in msgs[0]

    send_mail(inst, ["filt@mx.test.example"], "Subject: filt\r\n\r\nx\r\n")
    logged(inst, "filter", "RCPT", LOCALHOST, "<filt@mx.test.example>: "
           "Recipient address triggers FILTER smtp:%s" % sink.relayhost,
           SENDER, "filt@mx.test.example")
    got = sink.wait(1)[0]
    assert got.rcpts == ["filt@mx.test.example"]
    assert b"Subject: filt" in got.data

    send_mail(inst, ["prep@mx.test.example"], "Subject: prep\r\n\r\nx\r\n")
    msgs = wait_for(lambda: maildir(inst, "accu"), 30)
    assert b"\nX-Access: tagged\n" in msgs[0]
    assert b"Subject: prep" in msgs[0]

    assert try_rcpt(inst, "warnme@mx.test.example")[0] == 250
    logged(inst, "warn", "RCPT", LOCALHOST, "suspicious recipient", SENDER,
           "warnme@mx.test.example")
    assert try_rcpt(inst, "info@mx.test.example")[0] == 250
    logged(inst, "info", "RCPT", LOCALHOST, "just saying", SENDER,
           "info@mx.test.example")
    inst.wait_queue_empty(30)
    assert len(maildir(inst, "accu")) == 1 and len(maildir(inst, "accv")) == 1


def test_soft_bounce(acc):
    """soft_bounce = yes turns every 5xx access reply into 4xx."""
    inst = acc
    inst.params["soft_bounce"] = "yes"
    inst.params["smtpd_sender_restrictions"] = (
        "check_sender_access inline:{ bad@remote.example=REJECT }")
    inst.start()
    code, text = try_rcpt(inst, LOCAL, sender="bad@remote.example")
    assert (code, text) == (454, "4.7.1 <bad@remote.example>: Sender "
                            "address rejected: Access denied")
    code, text = try_rcpt(inst, "nosuch@mx.test.example")
    assert (code, text) == (450, "4.1.1 <nosuch@mx.test.example>: Recipient "
                            "address rejected: User unknown in local "
                            "recipient table")


def test_rebuilt_table_is_used(acc):
    """After postmap rebuilds an access table, the next session answers
    from the new table: smtpd notices the change and its process ends
    after the session (Postfix: "table ... has changed -- restarting")."""
    inst = acc
    table = postmap(inst, "senders", "a@remote.example REJECT old\n")
    inst.params["smtpd_sender_restrictions"] = "check_sender_access " + table
    inst.start()
    code, text = try_rcpt(inst, LOCAL, sender="a@remote.example")
    assert (code, text) == (554, "5.7.1 <a@remote.example>: Sender address "
                            "rejected: old")
    postmap(inst, "senders", "a@remote.example REJECT new\n")
    # smtpd looks at its tables at most once a second, at the end of a
    # transaction; the process ends after that session.
    new = (554, "5.7.1 <a@remote.example>: Sender address rejected: new")
    wait_for(lambda: try_rcpt(inst, LOCAL, sender="a@remote.example") ==
             new, 20, interval=0.3, what="the rebuilt table in use")
    inst.wait_log(r"table hash:%s has changed -- restarting"
                  % re.escape(table[5:]))


# ----------------------------------------------------------------------
# 2. smtpd_delay_reject
# ----------------------------------------------------------------------

DELAY_PARAMS = {
    "smtpd_client_restrictions":
        "check_client_access inline:{ 127.0.0.3=REJECT, 127.0.0.9=DISCARD }",
    "smtpd_helo_restrictions": "reject_non_fqdn_helo_hostname",
    "smtpd_sender_restrictions":
        "check_sender_access inline:{ bad@remote.example=REJECT }",
}


def test_delay_reject_yes(acc):
    """Client, HELO and sender rejections are the answer to RCPT."""
    inst = acc
    inst.params.update(DELAY_PARAMS)
    inst.start()
    a3 = client_addr(3)
    # The client: EHLO and MAIL are fine, RCPT is refused.
    c = session(inst, source=a3)
    assert c.cmd("MAIL FROM:<%s>" % SENDER)[0] == 250
    reply = "554 5.7.1 <unknown[127.0.0.3]>: Client host rejected: " \
        "Access denied"
    assert "%d %s" % c.cmd("RCPT TO:<%s>" % LOCAL) == reply
    c.close()
    logged(inst, "reject", "RCPT", "unknown[127.0.0.3]", reply, SENDER,
           LOCAL)
    # HELO
    c = session(inst, "nodots")
    assert c.cmd("MAIL FROM:<%s>" % SENDER)[0] == 250
    reply = "504 5.5.2 <nodots>: Helo command rejected: need " \
        "fully-qualified hostname"
    assert "%d %s" % c.cmd("RCPT TO:<%s>" % LOCAL) == reply
    c.close()
    logged(inst, "reject", "RCPT", LOCALHOST, reply, SENDER, LOCAL,
           helo="nodots")
    # Sender
    c = session(inst)
    assert c.cmd("MAIL FROM:<bad@remote.example>")[0] == 250
    reply = "554 5.7.1 <bad@remote.example>: Sender address rejected: " \
        "Access denied"
    assert "%d %s" % c.cmd("RCPT TO:<%s>" % LOCAL) == reply
    c.close()
    logged(inst, "reject", "RCPT", LOCALHOST, reply, "bad@remote.example",
           LOCAL)


def test_delay_reject_no(acc):
    """Each list is evaluated when its command arrives."""
    inst = acc
    inst.params.update(DELAY_PARAMS)
    inst.params["smtpd_delay_reject"] = "no"
    inst.start()
    a3 = client_addr(3)
    # The client is refused at connect: the reason comes instead of the
    # greeting, and every command but QUIT gets 503 5.7.0 (Postfix).
    reply = "554 5.7.1 <unknown[127.0.0.3]>: Client host rejected: " \
        "Access denied"
    denied = "503 5.7.0 Error: access denied for unknown[127.0.0.3]"
    c = Client(inst.smtp_port, a3)
    assert "%d %s" % c.reply() == reply
    assert "%d %s" % c.cmd("EHLO " + HELO) == denied
    assert "%d %s" % c.cmd("MAIL FROM:<%s>" % SENDER) == denied
    assert "%d %s" % c.cmd("RCPT TO:<%s>" % LOCAL) == denied
    assert c.cmd("QUIT")[0] == 221
    c.close()
    logged(inst, "reject", "CONNECT", "unknown[127.0.0.3]", reply,
           proto="SMTP", helo=None)
    # HELO: refused at EHLO.
    c = Client(inst.smtp_port)
    c.reply()
    reply = "504 5.5.2 <nodots>: Helo command rejected: need " \
        "fully-qualified hostname"
    assert "%d %s" % c.cmd("EHLO nodots") == reply
    logged(inst, "reject", "EHLO", LOCALHOST, reply, proto="SMTP",
           helo="nodots")
    # A good EHLO then; the sender is refused at MAIL.
    assert c.cmd("EHLO " + HELO)[0] == 250
    reply = "554 5.7.1 <bad@remote.example>: Sender address rejected: " \
        "Access denied"
    assert "%d %s" % c.cmd("MAIL FROM:<bad@remote.example>") == reply
    logged(inst, "reject", "MAIL", LOCALHOST, reply, "bad@remote.example")
    # No sender was accepted.
    assert c.cmd("RCPT TO:<%s>" % LOCAL)[0] == 503
    assert c.cmd("MAIL FROM:<%s>" % SENDER)[0] == 250
    assert c.cmd("RCPT TO:<%s>" % LOCAL)[0] == 250
    c.close()
    # Message actions such as DISCARD need a mail transaction: at
    # connect they are skipped with a warning (Postfix's), so this
    # client is not "permitted" by it and cannot relay.
    code, text = try_rcpt(inst, "x@elsewhere.example",
                          source=client_addr(9))
    assert (code, text) == (454, "4.7.1 <x@elsewhere.example>: Relay "
                            "access denied")
    inst.wait_log(r"warning: access table inline:\{ 127\.0\.0\.3=REJECT, "
                  r"127\.0\.0\.9=DISCARD \}: with smtpd_delay_reject=no, "
                  r"action DISCARD is always skipped in Client host or "
                  r"Helo command restrictions")


# ----------------------------------------------------------------------
# 3. Built-in restrictions
# ----------------------------------------------------------------------

def test_non_fqdn_and_invalid_names(acc):
    """reject_invalid_helo_hostname (501), reject_non_fqdn_helo_hostname,
    reject_non_fqdn_sender and reject_non_fqdn_recipient (504)."""
    inst = acc
    inst.params.update({
        "smtpd_helo_restrictions": "reject_invalid_helo_hostname, "
                                   "reject_non_fqdn_helo_hostname",
        "smtpd_sender_restrictions": "reject_non_fqdn_sender",
        "smtpd_recipient_restrictions": "reject_non_fqdn_recipient",
    })
    inst.start()

    def rej(reply, rcpt=LOCAL, sender=SENDER, helo=HELO):
        code, text = try_rcpt(inst, rcpt, sender=sender, helo=helo)
        assert "%d %s" % (code, text) == reply
        logged(inst, "reject", "RCPT", LOCALHOST, reply, sender, rcpt,
               helo=helo)

    rej("501 5.5.2 <bad..name>: Helo command rejected: Invalid name",
        helo="bad..name")
    rej("501 5.5.2 <-dash.example>: Helo command rejected: Invalid name",
        helo="-dash.example")
    # Postfix's words: "invalid ip address", lower case.
    rej("501 5.5.2 <[1.2.3.999]>: Helo command rejected: invalid ip "
        "address", helo="[1.2.3.999]")
    rej("504 5.5.2 <single>: Helo command rejected: need fully-qualified "
        "hostname", helo="single")
    rej("504 5.5.2 <joe>: Sender address rejected: need fully-qualified "
        "address", sender="joe")
    rej("504 5.5.2 <joe@localhost>: Sender address rejected: need "
        "fully-qualified address", sender="joe@localhost")
    rej("504 5.5.2 <bob@nodot>: Recipient address rejected: need "
        "fully-qualified address", rcpt="bob@nodot")
    # RFC 5321: a bare "postmaster" is always accepted.
    assert try_rcpt(inst, "postmaster", sender="joe")[0] == 250
    # A bare address is not an invalid name (Postfix), but it is not a
    # fully-qualified one either.
    rej("504 5.5.2 <192.0.2.1>: Helo command rejected: need "
        "fully-qualified hostname", helo="192.0.2.1")
    # Address literals and fully-qualified names pass.
    assert try_rcpt(inst, LOCAL, helo="[127.0.0.1]")[0] == 250
    assert try_rcpt(inst, LOCAL, helo="[IPv6:::1]")[0] == 250
    assert try_rcpt(inst, LOCAL, helo="mail.example.org.")[0] == 250
    assert try_rcpt(inst, LOCAL, sender="joe@[192.0.2.1]")[0] == 250


def test_non_fqdn_helo_literal(acc):
    """reject_non_fqdn_helo_hostname refuses a malformed address literal
    as Postfix does; a good one passes."""
    inst = acc
    inst.params["smtpd_helo_restrictions"] = "reject_non_fqdn_helo_hostname"
    inst.start()
    code, text = try_rcpt(inst, LOCAL, helo="[127.0.0.300]")
    assert (code, text) == (501, "5.5.2 <[127.0.0.300]>: Helo command "
                            "rejected: invalid ip address")
    assert try_rcpt(inst, LOCAL, helo="[127.0.0.1]")[0] == 250


def test_unknown_domains_dns(acc, dns):
    """reject_unknown_sender_domain, reject_unknown_recipient_domain and
    reject_unknown_helo_hostname against dnsmasq: an A or MX record is
    enough; NXDOMAIN is unknown_address_reject_code (450); SERVFAIL and
    time-outs are temporary (reject_tempfail_action = defer_if_permit);
    a null MX is permanent."""
    inst = acc
    with dns.batch():
        dns.add_a("a-only.example", "192.0.2.1")
        dns.add_mx("mx-only.example", "mx.elsewhere.example", 10)
        dns.add_a("helo.example", "192.0.2.2")
        # MX 0 "." (RFC 7505): preference 0, the root name.
        dns.add_rr("nullmx.example", 15, "000000")
        dns.servfail("broken.example")
        dns.timeout("slow.example")
    dns.use(inst)
    inst.params.update({
        "smtpd_helo_restrictions": "reject_unknown_helo_hostname",
        "smtpd_sender_restrictions": "reject_unknown_sender_domain",
        "smtpd_recipient_restrictions": "reject_unknown_recipient_domain, "
            "permit_mynetworks, reject_unauth_destination",
    })
    inst.start()

    def rej(reply, rcpt="x@mx-only.example", sender="a@a-only.example",
            helo="helo.example"):
        code, text = try_rcpt(inst, rcpt, sender=sender, helo=helo)
        assert "%d %s" % (code, text) == reply
        logged(inst, "reject", "RCPT", LOCALHOST, reply, sender, rcpt,
               helo=helo)

    # Known: A only (sender), MX only (recipient), and local domains,
    # which are not looked up.
    assert try_rcpt(inst, "x@mx-only.example", sender="a@a-only.example",
                    helo="helo.example")[0] == 250
    assert try_rcpt(inst, LOCAL, sender="a@mx-only.example",
                    helo="helo.example")[0] == 250
    rej("450 4.1.8 <a@nx.example>: Sender address rejected: Domain not "
        "found", sender="a@nx.example")
    rej("450 4.1.2 <x@nx.example>: Recipient address rejected: Domain not "
        "found", rcpt="x@nx.example")
    rej("450 4.7.1 <nx.example>: Helo command rejected: Host not found",
        helo="nx.example")
    rej("550 5.7.27 <a@nullmx.example>: Sender address rejected: Domain "
        "nullmx.example does not accept mail (nullMX)",
        sender="a@nullmx.example")
    rej("556 5.1.10 <x@nullmx.example>: Recipient address rejected: Domain "
        "nullmx.example does not accept mail (nullMX)",
        rcpt="x@nullmx.example")
    # Temporary DNS failures defer (defer_if_permit: only when nothing
    # rejects; here the recipient restrictions would permit).
    rej("450 4.1.8 <a@broken.example>: Sender address rejected: Domain not "
        "found", sender="a@broken.example")
    rej("450 4.1.2 <x@broken.example>: Recipient address rejected: Domain "
        "not found", rcpt="x@broken.example")
    t0 = time.time()
    rej("450 4.1.8 <a@slow.example>: Sender address rejected: Domain not "
        "found", sender="a@slow.example")
    assert time.time() - t0 < 10
    # With defer_if_permit, a later rejection is the answer instead.
    rej("450 4.1.2 <x@nx.example>: Recipient address rejected: Domain not "
        "found", sender="a@broken.example", rcpt="x@nx.example")


def test_unknown_domain_codes(acc, dns):
    """unknown_address_reject_code = 550 gives 5.1.8 / 5.1.2;
    unknown_address_tempfail_action = defer refuses at once."""
    inst = acc
    with dns.batch():
        dns.servfail("broken.example")
        dns.add_mx("remote.example", "mx.remote.example")
    dns.use(inst)
    inst.params.update({
        "unknown_address_reject_code": "550",
        "unknown_address_tempfail_action": "defer",
        "smtpd_sender_restrictions": "reject_unknown_sender_domain, "
                                     "check_sender_access inline:{ "
                                     "a@broken.example=OK }",
        "smtpd_recipient_restrictions": "reject_unknown_recipient_domain",
    })
    inst.start()
    code, text = try_rcpt(inst, LOCAL, sender="a@nx.example")
    assert (code, text) == (550, "5.1.8 <a@nx.example>: Sender address "
                            "rejected: Domain not found")
    code, text = try_rcpt(inst, "x@nx.example")
    assert (code, text) == (550, "5.1.2 <x@nx.example>: Recipient address "
                            "rejected: Domain not found")
    # "defer": a DNS failure refuses even though a later OK would permit.
    code, text = try_rcpt(inst, LOCAL, sender="a@broken.example")
    assert (code, text) == (450, "4.1.8 <a@broken.example>: Sender address "
                            "rejected: Domain not found")
    logged(inst, "reject", "RCPT", LOCALHOST, "450 4.1.8 <a@broken.example>:"
           " Sender address rejected: Domain not found", "a@broken.example",
           LOCAL)


def test_unlisted_recipient(acc):
    """local_recipient_maps: unknown local users get 550 5.1.1, both by
    default (smtpd_reject_unlisted_recipient) and with an explicit
    reject_unlisted_recipient; postmaster is always known."""
    inst = acc
    rmap = postmap(inst, "local_rcpt", "known x\n", kind="texthash")
    inst.params["local_recipient_maps"] = rmap
    inst.params["recipient_delimiter"] = "+"
    inst.params["smtpd_reject_unlisted_sender"] = "yes"
    inst.params["disable_vrfy_command"] = "no"
    inst.start()
    # VRFY goes through the recipient checks too.
    c = session(inst)
    reply = ("550 5.1.1 <nosuch@mx.test.example>: Recipient address "
             "rejected: User unknown in local recipient table")
    assert "%d %s" % c.cmd("VRFY nosuch@mx.test.example") == reply
    assert c.cmd("VRFY known@mx.test.example")[0] == 252
    c.close()
    logged(inst, "reject", "VRFY", LOCALHOST, reply,
           to="nosuch@mx.test.example")
    reply = ("550 5.1.0 <nobody@mx.test.example>: Sender address rejected: "
             "User unknown in local recipient table")
    code, text = try_rcpt(inst, "known@mx.test.example",
                          sender="nobody@mx.test.example")
    assert "%d %s" % (code, text) == reply
    logged(inst, "reject", "RCPT", LOCALHOST, reply, "nobody@mx.test.example",
           "known@mx.test.example")
    assert try_rcpt(inst, "known@mx.test.example",
                    sender="known@mx.test.example")[0] == 250
    reply = ("550 5.1.1 <nosuch@mx.test.example>: Recipient address "
             "rejected: User unknown in local recipient table")
    code, text = try_rcpt(inst, "nosuch@mx.test.example")
    assert "%d %s" % (code, text) == reply
    logged(inst, "reject", "RCPT", LOCALHOST, reply, SENDER,
           "nosuch@mx.test.example")
    assert try_rcpt(inst, "known@mx.test.example")[0] == 250
    assert try_rcpt(inst, "known+ext@mx.test.example")[0] == 250
    assert try_rcpt(inst, "postmaster@mx.test.example")[0] == 250
    assert try_rcpt(inst, "Postmaster@localhost")[0] == 250
    # Remote domains are not checked.
    assert try_rcpt(inst, "nosuch@remote.example")[0] == 250
    r = swaks(inst, "--from", SENDER, "--to", "nosuch@localhost")
    assert r[-2] == (550, "5.1.1 <nosuch@localhost>: Recipient address "
                     "rejected: User unknown in local recipient table")


def test_reject_unlisted_recipient_explicit(acc):
    """reject_unlisted_recipient in a list, before a permit, with
    smtpd_reject_unlisted_recipient = no; an empty local_recipient_maps
    accepts every local user."""
    inst = acc
    rmap = postmap(inst, "local_rcpt", "known x\n", kind="texthash")
    inst.params.update({
        "local_recipient_maps": rmap,
        "smtpd_reject_unlisted_recipient": "no",
        "smtpd_recipient_restrictions": "check_recipient_access "
            "inline:{ nobody@localhost=OK }, reject_unlisted_recipient, "
            "permit_mynetworks, reject",
        "show_user_unknown_table_name": "no",
    })
    inst.start()
    reply = ("550 5.1.1 <other@mx.test.example>: Recipient address "
             "rejected: User unknown")
    code, text = try_rcpt(inst, "other@mx.test.example")
    assert "%d %s" % (code, text) == reply
    logged(inst, "reject", "RCPT", LOCALHOST, reply, SENDER,
           "other@mx.test.example")
    assert try_rcpt(inst, "known@mx.test.example")[0] == 250
    # A permit before it wins, and the built-in check is off.
    assert try_rcpt(inst, "nobody@localhost")[0] == 250


def test_relay_domains_outside_client(acc, second_loopback):
    """A client outside mynetworks (127.0.0.2) with the default relay
    restrictions: relay_domains (with subdomains) and mydestination are
    accepted, anything else gets 454 4.7.1 (see also
    test_smtpd.py::test_relay_control)."""
    inst = acc
    inst.params["relay_domains"] = "relay.example"
    inst.start()
    src = second_loopback.addr
    for rcpt in ("x@relay.example", "x@sub.relay.example", LOCAL,
                 "accu@localhost"):
        code, text = try_rcpt(inst, rcpt, source=src)
        assert code == 250, (rcpt, text)
    reply = "454 4.7.1 <x@notrelay.example>: Relay access denied"
    code, text = try_rcpt(inst, "x@notrelay.example", source=src)
    assert "%d %s" % (code, text) == reply
    logged(inst, "reject", "RCPT", "unknown[127.0.0.2]", reply, SENDER,
           "x@notrelay.example")
    # Sender-specified routing is never relayed.
    code, text = try_rcpt(inst, "x@elsewhere.example@relay.example",
                          source=src)
    assert code == 454 and "Relay access denied" in text
    # swaks as the outside client.
    r = swaks(inst, "--from", SENDER, "--to", "y@relay.example",
              source=src)
    assert r[-2][0] == 250
    r = swaks(inst, "--from", SENDER, "--to", "y@other.example",
              source=src)
    assert r[-2] == (454, "4.7.1 <y@other.example>: Relay access denied")


def test_reject_unauth_destination(acc, second_loopback):
    """reject_unauth_destination (554 5.7.1, relay_domains_reject_code)
    vs defer_unauth_destination (454 4.7.1); permit_auth_destination."""
    inst = acc
    inst.params["relay_domains"] = "relay.example"
    inst.params["smtpd_relay_restrictions"] = (
        "permit_mynetworks, reject_unauth_destination")
    inst.params["smtpd_recipient_restrictions"] = (
        "permit_auth_destination, reject")
    inst.start()
    src = second_loopback.addr
    reply = "554 5.7.1 <x@notrelay.example>: Relay access denied"
    code, text = try_rcpt(inst, "x@notrelay.example", source=src)
    assert "%d %s" % (code, text) == reply
    logged(inst, "reject", "RCPT", "unknown[127.0.0.2]", reply, SENDER,
           "x@notrelay.example")
    assert try_rcpt(inst, "x@relay.example", source=src)[0] == 250
    assert try_rcpt(inst, LOCAL, source=src)[0] == 250
    # The recipient list: permit_auth_destination, then reject, for a
    # client that the relay list let through (mynetworks).
    reply = ("554 5.7.1 <x@notrelay.example>: Recipient address rejected: "
             "Access denied")
    code, text = try_rcpt(inst, "x@notrelay.example")
    assert "%d %s" % (code, text) == reply
    logged(inst, "reject", "RCPT", LOCALHOST, reply, SENDER,
           "x@notrelay.example")
    assert try_rcpt(inst, "x@relay.example")[0] == 250
    # relay_domains_reject_code changes both.
    inst.params["relay_domains_reject_code"] = "550"
    inst.params["smtpd_relay_restrictions"] = (
        "permit_mynetworks, defer_unauth_destination")
    inst.reload()
    code, text = wait_for(lambda: (lambda r: r[0] != 554 and r)(
        try_rcpt(inst, "x@notrelay.example", source=src)), 10,
        what="reload")
    assert (code, text) == (450, "4.7.1 <x@notrelay.example>: Relay "
                            "access denied")


def test_warn_if_reject(acc):
    """warn_if_reject: the next restriction logs reject_warning and the
    request goes on (and is accepted)."""
    inst = acc
    inst.params["smtpd_sender_restrictions"] = (
        "warn_if_reject reject_non_fqdn_sender")
    inst.params["smtpd_recipient_restrictions"] = (
        "warn_if_reject check_recipient_access "
        "inline:{ { accu@mx.test.example = REJECT Would refuse } }, "
        "reject_non_fqdn_recipient")
    inst.start()
    code, text = try_rcpt(inst, LOCAL, sender="joe")
    assert code == 250, text
    logged(inst, "reject_warning", "RCPT", LOCALHOST,
           "504 5.5.2 <joe>: Sender address rejected: need fully-qualified "
           "address", "joe", LOCAL)
    logged(inst, "reject_warning", "RCPT", LOCALHOST,
           "554 5.7.1 <accu@mx.test.example>: Recipient address rejected: "
           "Would refuse", "joe", LOCAL)
    # warn_if_reject covers only the next restriction.
    code, text = try_rcpt(inst, "bob@nodot")
    assert (code, text) == (504, "5.5.2 <bob@nodot>: Recipient address "
                            "rejected: need fully-qualified address")
    logged(inst, "reject", "RCPT", LOCALHOST, "504 5.5.2 <bob@nodot>: "
           "Recipient address rejected: need fully-qualified address",
           SENDER, "bob@nodot")
    assert not re.search(r"reject: .*from=<joe>", inst.log())


def read_until(c, code, limit=20):
    """Replies until one with this code: [(code, text)]."""
    out = []
    for _ in range(limit):
        out.append(c.reply())
        if out[-1][0] == code:
            return out
    raise AssertionError("no %d reply in %r" % (code, out))


def test_unauth_pipelining_without_ehlo(acc):
    """reject_unauth_pipelining in smtpd_data_restrictions: commands
    sent ahead of time after HELO (no PIPELINING), or the message sent
    together with DATA, get 503 5.5.0; an EHLO client may pipeline."""
    inst = acc
    inst.params["smtpd_data_restrictions"] = "reject_unauth_pipelining"
    inst.start()
    reply = ("503 5.5.0 <DATA>: Data command rejected: Improper use of "
             "SMTP command pipelining")
    # HELO, then MAIL, RCPT and DATA in one write.
    c = session(inst, ehlo=False)
    c.send("MAIL FROM:<%s>\r\nRCPT TO:<%s>\r\nDATA\r\n" % (SENDER, LOCAL))
    assert c.reply()[0] == 250
    assert c.reply()[0] == 250
    assert "%d %s" % c.reply() == reply
    c.cmd("QUIT")
    c.close()
    logged(inst, "reject", "DATA", LOCALHOST, reply, SENDER, LOCAL,
           proto="SMTP")
    # EHLO: the same commands in one write are fine ...
    c = session(inst)
    c.send("MAIL FROM:<%s>\r\nRCPT TO:<%s>\r\nDATA\r\n" % (SENDER, LOCAL))
    assert [c.reply()[0] for _ in range(3)] == [250, 250, 354]
    code, text = c.message("Subject: pipelined\r\n\r\nok\r\n")
    assert code == 250, text
    # ... but not the message before the 354 reply.
    c.send("MAIL FROM:<%s>\r\nRCPT TO:<%s>\r\nDATA\r\nSubject: early\r\n"
           "\r\nearly\r\n.\r\n" % (SENDER, LOCAL))
    assert c.reply()[0] == 250
    assert c.reply()[0] == 250
    assert "%d %s" % c.reply() == reply
    # The early message text was taken for commands (502 each); the
    # transaction is still open.
    c.send("RSET\r\n")
    read_until(c, 250)
    # A BDAT chunk right after its command (CHUNKING) is not early.
    body = b"Subject: chunked\r\n\r\nok\r\n"
    c.send("MAIL FROM:<%s>\r\nRCPT TO:<%s>\r\n" % (SENDER, LOCAL))
    c.send(b"BDAT %d LAST\r\n" % len(body) + body)
    assert [c.reply()[0] for _ in range(2)] == [250, 250]
    code, text = c.reply()
    assert code == 250 and "queued as" in text, text
    c.send("QUIT\r\n")
    read_until(c, 221)
    c.close()
    msgs = wait_for(lambda: len(maildir(inst, "accu")) == 2 and
                    maildir(inst, "accu"), 30)
    assert b"Subject: pipelined" in b"".join(msgs)
    assert b"Subject: chunked" in b"".join(msgs)
    assert b"Subject: early" not in b"".join(msgs)


def test_unauth_pipelining_before_greeting(acc):
    """A client that talks before the greeting: Postfix's idiom
    "smtpd_client_restrictions = sleep 1, reject_unauth_pipelining" with
    smtpd_delay_reject = no refuses it; a patient client is fine."""
    inst = acc
    inst.params["smtpd_delay_reject"] = "no"
    inst.params["smtpd_client_restrictions"] = (
        "sleep 1, reject_unauth_pipelining")
    inst.start()
    reply = ("503 5.5.0 <unknown[127.0.0.1]>: Client host rejected: "
             "Improper use of SMTP command pipelining")
    c = Client(inst.smtp_port)
    c.send("EHLO %s\r\n" % HELO)
    # The rejection comes instead of the greeting; EHLO gets 503.
    assert "%d %s" % c.reply() == reply
    assert c.reply() == (503, "5.7.0 Error: access denied for "
                         "unknown[127.0.0.1]")
    c.close()
    logged(inst, "reject", "CONNECT", LOCALHOST, reply, proto="SMTP",
           helo=None)
    # A client that waits for the greeting.
    code, text = try_rcpt(inst, LOCAL)
    assert code == 250, text


def test_unauth_pipelining_flag_kept(acc):
    """Talking before the greeting is remembered for the session: the
    DATA restrictions refuse it later."""
    inst = acc
    inst.params["smtpd_delay_reject"] = "no"
    # The pause makes sure the client's early command is there in time.
    inst.params["smtpd_client_restrictions"] = "sleep 1"
    inst.params["smtpd_data_restrictions"] = "reject_unauth_pipelining"
    inst.start()
    c = Client(inst.smtp_port)
    c.send("EHLO %s\r\n" % HELO)
    assert c.reply()[0] == 220
    assert c.reply()[0] == 250
    assert c.cmd("MAIL FROM:<%s>" % SENDER)[0] == 250
    assert c.cmd("RCPT TO:<%s>" % LOCAL)[0] == 250
    reply = ("503 5.5.0 <DATA>: Data command rejected: Improper use of "
             "SMTP command pipelining")
    assert "%d %s" % c.cmd("DATA") == reply
    c.close()
    logged(inst, "reject", "DATA", LOCALHOST, reply, SENDER, LOCAL)


# ----------------------------------------------------------------------
# 3b. DATA and end-of-data restrictions, restriction classes
# ----------------------------------------------------------------------

def test_data_restrictions(acc):
    """smtpd_data_restrictions: reject_multi_recipient_bounce and a
    client table at DATA."""
    inst = acc
    inst.users.add("accv")
    inst.params["smtpd_data_restrictions"] = (
        "reject_multi_recipient_bounce, check_client_access "
        "inline:{ { 127.0.0.3 = REJECT No DATA for you } }")
    inst.start()
    c = session(inst)
    assert c.cmd("MAIL FROM:<>")[0] == 250
    assert c.cmd("RCPT TO:<%s>" % LOCAL)[0] == 250
    assert c.cmd("RCPT TO:<accv@mx.test.example>")[0] == 250
    reply = ("550 5.5.3 <DATA>: Data command rejected: Multi-recipient "
             "bounce")
    assert "%d %s" % c.cmd("DATA") == reply
    c.close()
    # Several recipients: none is named.
    logged(inst, "reject", "DATA", LOCALHOST, reply, "")
    # A bounce to one recipient is fine.
    send_mail(inst, [LOCAL], "Subject: bounce\r\n\r\nx\r\n", sender="")
    # The client check at DATA.
    a3 = client_addr(3)
    c = session(inst, source=a3)
    assert c.cmd("MAIL FROM:<%s>" % SENDER)[0] == 250
    assert c.cmd("RCPT TO:<%s>" % LOCAL)[0] == 250
    reply = ("554 5.7.1 <unknown[127.0.0.3]>: Client host rejected: No "
             "DATA for you")
    assert "%d %s" % c.cmd("DATA") == reply
    c.close()
    logged(inst, "reject", "DATA", "unknown[127.0.0.3]", reply, SENDER,
           LOCAL)
    wait_for(lambda: maildir(inst, "accu"), 30)
    inst.wait_queue_empty(10)


def test_end_of_data_restrictions(acc):
    """smtpd_end_of_data_restrictions: check_sender_access at the end
    of the message; the queue file is dropped."""
    inst = acc
    inst.params["smtpd_end_of_data_restrictions"] = (
        "check_sender_access inline:{ { late@remote.example = REJECT "
        "Too late } }")
    inst.start()
    c = session(inst)
    assert c.cmd("MAIL FROM:<late@remote.example>")[0] == 250
    assert c.cmd("RCPT TO:<%s>" % LOCAL)[0] == 250
    assert c.cmd("DATA")[0] == 354
    code, text = c.message("Subject: late\r\n\r\nx\r\n")
    reply = "554 5.7.1 <late@remote.example>: Sender address rejected: " \
        "Too late"
    assert "%d %s" % (code, text) == reply
    # The session goes on.
    assert c.cmd("RSET")[0] == 250
    c.close()
    m = inst.wait_log(r"(\w+): client=unknown\[127\.0\.0\.1\]")
    logged(inst, "reject", "END-OF-MESSAGE", LOCALHOST, reply,
           "late@remote.example", LOCAL, qid=m[0])
    send_mail(inst, [LOCAL], "Subject: fine\r\n\r\nx\r\n")
    msgs = wait_for(lambda: maildir(inst, "accu"), 30)
    inst.wait_queue_empty(10)
    assert len(msgs) == 1 and b"Subject: fine" in msgs[0]


def test_restriction_classes(acc):
    """smtpd_restriction_classes named in an access table's answer and
    directly in a list."""
    inst = acc
    inst.users.add("guarded")
    inst.users.add("vip")
    table = postmap(inst, "rcpt_classes", "\n".join([
        "guarded@mx.test.example   friends_only",
        "vip@mx.test.example       permissive",
    ]) + "\n")
    inst.params.update({
        "smtpd_restriction_classes": "friends_only, permissive, strict",
        "friends_only": "check_sender_access "
                        "inline:{ friend@remote.example=OK }, reject",
        "permissive": "permit",
        "strict": "reject_non_fqdn_sender",
        "smtpd_recipient_restrictions":
            "check_recipient_access %s, strict, permit" % table,
    })
    inst.start()
    assert try_rcpt(inst, "guarded@mx.test.example",
                    sender="friend@remote.example")[0] == 250
    reply = ("554 5.7.1 <guarded@mx.test.example>: Recipient address "
             "rejected: Access denied")
    code, text = try_rcpt(inst, "guarded@mx.test.example")
    assert "%d %s" % (code, text) == reply
    logged(inst, "reject", "RCPT", LOCALHOST, reply, SENDER,
           "guarded@mx.test.example")
    # The "strict" class applies to everyone else, but "permissive"
    # came first for vip.
    assert try_rcpt(inst, "vip@mx.test.example", sender="joe")[0] == 250
    code, text = try_rcpt(inst, LOCAL, sender="joe")
    assert (code, text) == (504, "5.5.2 <joe>: Sender address rejected: "
                            "need fully-qualified address")


# ----------------------------------------------------------------------
# 3c. Configuration errors
# ----------------------------------------------------------------------

def test_configuration_errors(acc):
    """An unknown restriction never lets mail through: 451 4.3.5."""
    inst = acc
    inst.params["smtpd_helo_restrictions"] = "frobnicate"
    inst.start()
    reply = "451 4.3.5 Server configuration error"
    code, text = try_rcpt(inst, LOCAL)
    assert "%d %s" % (code, text) == reply
    logged(inst, "reject", "RCPT", LOCALHOST, reply, SENDER, LOCAL)
    inst.wait_log(r'warning: smtpd_helo_restrictions: unknown smtpd '
                  r'restriction: "frobnicate"')


def test_missing_table(acc):
    """A table that cannot be read is a temporary failure."""
    inst = acc
    inst.params["smtpd_sender_restrictions"] = (
        "check_sender_access hash:%s/missing" % inst.etc)
    inst.start()
    reply = "451 4.3.0 <s@remote.example>: Temporary lookup failure"
    code, text = try_rcpt(inst, LOCAL)
    assert "%d %s" % (code, text) == reply
    logged(inst, "reject", "RCPT", LOCALHOST, reply, SENDER, LOCAL)


def test_relay_safety(acc):
    """RCPT lists that cannot refuse relaying: every recipient gets
    451 4.3.5 (Postfix refuses to start)."""
    inst = acc
    inst.params["smtpd_relay_restrictions"] = "permit_mynetworks"
    inst.params["smtpd_recipient_restrictions"] = "permit"
    inst.start()
    reply = "451 4.3.5 Server configuration problem"
    code, text = try_rcpt(inst, LOCAL)
    assert "%d %s" % (code, text) == reply
    logged(inst, "reject", "RCPT", LOCALHOST, reply, SENDER, LOCAL)
    inst.wait_log(r"warning: in parameter smtpd_relay_restrictions or "
                  r"smtpd_recipient_restrictions, specify at least one "
                  r"working instance of")


# ----------------------------------------------------------------------
# 4. DNS lists
# ----------------------------------------------------------------------

def test_dns_lists(acc, dns):
    """reject_rbl_client (plain, and with an answer filter),
    reject_rhsbl_sender, reject_rhsbl_helo and reject_rhsbl_client; the
    reply is default_rbl_reply with the list's TXT text."""
    inst = acc
    with dns.batch():
        dns.add_a("2.0.0.127.zen.example", "127.0.0.2")
        dns.add_txt("2.0.0.127.zen.example",
                    "Listed by zen, see http://zen.example/q?ip=127.0.0.2")
        # filt.example=127.0.0.[2..4]: only those answers count.
        dns.add_a("3.0.0.127.filt.example", "127.0.0.3")
        dns.add_a("4.0.0.127.filt.example", "127.0.0.10")
        dns.add_a("bad.example.dbl.example", "127.0.1.2")
        dns.add_txt("bad.example.dbl.example", "Domain on the list")
        dns.add_a("spammy.example.hbl.example", "127.0.0.2")
        # A client with a verified name, listed by name.
        dns.add_a("named.client.example", "127.0.0.5", ptr=True)
        dns.add_a("named.client.example.hbl.example", "127.0.0.2")
    dns.use(inst)
    inst.params.update({
        "smtpd_peername_lookup": "yes",
        "smtpd_client_restrictions": "reject_rbl_client zen.example, "
            "reject_rbl_client filt.example=127.0.0.[2..4], "
            "reject_rhsbl_client hbl.example",
        "smtpd_helo_restrictions": "reject_rhsbl_helo hbl.example",
        "smtpd_sender_restrictions": "reject_rhsbl_sender dbl.example",
    })
    inst.start()
    a = {n: client_addr(n) for n in (2, 3, 4, 5, 6)}

    def rej(reply, client, source="127.0.0.1", sender=SENDER, helo=HELO):
        code, text = try_rcpt(inst, LOCAL, sender=sender, helo=helo,
                              source=source)
        assert "%d %s" % (code, text) == reply
        logged(inst, "reject", "RCPT", client, reply, sender, LOCAL,
               helo=helo)

    rej("554 5.7.1 Service unavailable; Client host [127.0.0.2] blocked "
        "using zen.example; Listed by zen, see "
        "http://zen.example/q?ip=127.0.0.2", "unknown[127.0.0.2]", a[2])
    rej("554 5.7.1 Service unavailable; Client host [127.0.0.3] blocked "
        "using filt.example", "unknown[127.0.0.3]", a[3])
    rej("554 5.7.1 Service unavailable; Sender address [bad.example] "
        "blocked using dbl.example; Domain on the list", "localhost[127.0.0.1]",
        sender="x@bad.example")
    rej("554 5.7.1 Service unavailable; Helo command [spammy.example] "
        "blocked using hbl.example", "localhost[127.0.0.1]",
        helo="spammy.example")
    rej("554 5.7.1 Service unavailable; Client host [named.client.example] "
        "blocked using hbl.example", "named.client.example[127.0.0.5]",
        a[5])
    # Not listed, or listed with an answer outside the filter.
    assert try_rcpt(inst, LOCAL)[0] == 250
    assert try_rcpt(inst, LOCAL, source=a[4])[0] == 250
    assert try_rcpt(inst, LOCAL, source=a[6])[0] == 250
    assert try_rcpt(inst, LOCAL, sender="x@good.example")[0] == 250
    # swaks: listed and unlisted.
    r = swaks(inst, "--from", SENDER, "--to", LOCAL, source=a[2])
    assert r[-2] == (554, "5.7.1 Service unavailable; Client host "
                     "[127.0.0.2] blocked using zen.example; Listed by zen, "
                     "see http://zen.example/q?ip=127.0.0.2")
    r = swaks(inst, "--from", SENDER, "--to", LOCAL, source=a[6])
    assert r[-2][0] == 250


def test_dns_list_reply_template(acc, dns):
    """default_rbl_reply and maps_rbl_reject_code can be changed."""
    inst = acc
    with dns.batch():
        dns.add_a("2.0.0.127.bl.example", "127.0.0.4")
    dns.use(inst)
    inst.params.update({
        "maps_rbl_reject_code": "550",
        "default_rbl_reply": "$rbl_code 5.7.9 Go away $client_address "
                             "(${rbl_reason?$rbl_reason}${rbl_reason:no "
                             "reason}) from $rbl_domain",
        "smtpd_client_restrictions": "reject_rbl_client bl.example",
    })
    inst.start()
    a2 = client_addr(2)
    code, text = try_rcpt(inst, LOCAL, source=a2)
    assert (code, text) == (550, "5.7.9 Go away 127.0.0.2 (no reason) from "
                            "bl.example")


def test_client_names_dns(acc, dns):
    """Client names from the DNS: reject_unknown_reverse_client_hostname,
    reject_unknown_client_hostname (forward-confirmed name) and
    check_reverse_client_hostname_access, whose subject is the PTR name
    and which may never permit."""
    inst = acc
    with dns.batch():
        dns.add_a("good.client.example", "127.0.0.5", ptr=True)
        dns.add_ptr("127.0.0.6", "forged.client.example")
        dns.add_ptr("127.0.0.9", "other.client.example")
        dns.add_a("trusted.client.example", "127.0.0.10", ptr=True)
        dns.servfail("8.0.0.127.in-addr.arpa")
    dns.use(inst)
    inst.params.update({
        "smtpd_peername_lookup": "yes",
        "unknown_client_reject_code": "550",
        "smtpd_client_restrictions":
            "check_reverse_client_hostname_access inline:{ "
            "{ forged.client.example = REJECT Forged PTR }, "
            "trusted.client.example=OK }, "
            "reject_unknown_reverse_client_hostname, "
            "reject_unknown_client_hostname",
    })
    inst.start()
    a = {n: client_addr(n) for n in (5, 6, 7, 8, 9, 10)}

    def rej(n, client, reply):
        code, text = try_rcpt(inst, LOCAL, source=a[n])
        assert "%d %s" % (code, text) == reply
        logged(inst, "reject", "RCPT", client, reply, SENDER, LOCAL)

    rej(6, "unknown[127.0.0.6]", "554 5.7.1 <forged.client.example>: "
        "Unverified Client host rejected: Forged PTR")
    rej(7, "unknown[127.0.0.7]", "550 5.7.1 Client host rejected: cannot "
        "find your reverse hostname, [127.0.0.7]")
    # A DNS failure is always temporary.
    rej(8, "unknown[127.0.0.8]", "450 4.7.1 Client host rejected: cannot "
        "find your reverse hostname, [127.0.0.8]")
    rej(9, "unknown[127.0.0.9]", "550 5.7.25 Client host rejected: cannot "
        "find your hostname, [127.0.0.9]")
    rej(10, "trusted.client.example[127.0.0.10]",
        "451 4.3.5 Server configuration error")
    inst.wait_log(r"warning: restriction "
                  r"check_reverse_client_hostname_access returns OK for "
                  r"trusted\.client\.example")
    assert try_rcpt(inst, LOCAL, source=a[5])[0] == 250
    inst.wait_log(r"connect from good\.client\.example\[127\.0\.0\.5\]")


# ----------------------------------------------------------------------
# 5. Policy delegation
# ----------------------------------------------------------------------

POLICY_ANSWERS = {
    "dunno": "DUNNO",
    "ok": "OK",
    "reject": "REJECT Policy says no",
    "grey": "DEFER_IF_PERMIT Greylisted, try again later",
    "slow": "451 4.7.1 Slow down",
    "prepend": "PREPEND X-Policy: checked",
}


def policy_answer(req):
    rcpt = req.get("recipient", "")
    m = re.match(r"accu\+(\w+)@", rcpt)
    return POLICY_ANSWERS.get(m.group(1), "DUNNO") if m else "DUNNO"


def test_policy_service(acc, policy_servers):
    """check_policy_service: the request's attributes, each kind of
    answer, one connection for the whole session, and the request at
    END-OF-MESSAGE."""
    inst = acc
    pol = policy_servers.start(answer=policy_answer)
    inst.params.update({
        "smtpd_peername_lookup": "yes",
        "recipient_delimiter": "+",
        "smtpd_recipient_restrictions": "check_policy_service " +
                                        pol.address,
        "smtpd_end_of_data_restrictions": "check_policy_service " +
                                          pol.address,
    })
    inst.start()
    c = session(inst)
    assert c.cmd("MAIL FROM:<%s> SIZE=1234" % SENDER)[0] == 250
    r = {}
    for what in ("dunno", "ok", "reject", "grey", "slow", "prepend"):
        r[what] = c.cmd("RCPT TO:<accu+%s@mx.test.example>" % what)
    assert r["dunno"][0] == r["ok"][0] == r["prepend"][0] == 250
    assert r["reject"] == (554, "5.7.1 <accu+reject@mx.test.example>: "
                           "Recipient address rejected: Policy says no")
    assert r["grey"] == (450, "4.7.1 <accu+grey@mx.test.example>: "
                         "Recipient address rejected: Greylisted, try "
                         "again later")
    assert r["slow"] == (451, "4.7.1 <accu+slow@mx.test.example>: "
                         "Recipient address rejected: Slow down")
    assert c.cmd("DATA")[0] == 354
    code, text = c.message("Subject: policy\r\n\r\nchecked\r\n")
    assert code == 250, text
    qid = queue_id(text)
    assert c.cmd("QUIT")[0] == 221
    c.close()
    logged(inst, "reject", "RCPT", "localhost[127.0.0.1]",
           "554 5.7.1 <accu+reject@mx.test.example>: Recipient address "
           "rejected: Policy says no", SENDER,
           "accu+reject@mx.test.example")
    logged(inst, "reject", "RCPT", "localhost[127.0.0.1]",
           "450 4.7.1 <accu+grey@mx.test.example>: Recipient address "
           "rejected: Greylisted, try again later", SENDER,
           "accu+grey@mx.test.example")

    reqs = pol.wait(7)
    assert len(reqs) == 7
    first = reqs[0]
    want = {
        "request": "smtpd_access_policy",
        "protocol_state": "RCPT",
        "protocol_name": "ESMTP",
        "helo_name": HELO,
        "queue_id": "",
        "sender": SENDER,
        "recipient": "accu+dunno@mx.test.example",
        "recipient_count": "0",
        "client_address": "127.0.0.1",
        "client_name": "localhost",
        "reverse_client_name": "localhost",
        "size": "1234",
        "server_address": "127.0.0.1",
        "server_port": str(inst.smtp_port),
        "sasl_username": "",
        "policy_context": "",
    }
    for k, v in want.items():
        assert first.get(k) == v, (k, first)
    assert first["client_port"].isdigit()
    assert first["instance"]
    # recipient_count counts the recipients accepted so far.
    assert [q["recipient_count"] for q in reqs[:6]] == \
        ["0", "1", "2", "2", "2", "2"]
    eod = reqs[6]
    assert eod["protocol_state"] == "END-OF-MESSAGE"
    assert eod["queue_id"] == qid
    assert eod["recipient_count"] == "3"
    assert eod["recipient"] == ""
    assert int(eod["size"]) > 0
    # One transaction, one instance; one connection for all requests.
    assert len({q["instance"] for q in reqs}) == 1
    assert pol.connections == 1
    # PREPEND added the header to the message.
    msgs = wait_for(lambda: maildir(inst, "accu"), 30)
    assert b"\nX-Policy: checked\n" in msgs[0]

    # A later session: another instance; the answer still comes.
    r = swaks(inst, "--from", SENDER, "--to", "accu+reject@mx.test.example")
    assert r[-2] == (554, "5.7.1 <accu+reject@mx.test.example>: Recipient "
                     "address rejected: Policy says no")
    assert pol.requests[-1]["instance"] != first["instance"]


def test_policy_service_failures(acc, policy_servers):
    """A policy server that is down or never answers gives
    smtpd_policy_service_default_action (451 4.3.5); a per-server
    default_action = DUNNO ignores it."""
    inst = acc
    stall = policy_servers.start(answer=STALL)
    down = "inet:127.0.0.1:%d" % free_port()
    inst.users.add("lenient")
    inst.users.add("stalled")
    inst.params.update({
        "smtpd_policy_service_try_limit": "1",
        "smtpd_policy_service_timeout": "1s",
        "smtpd_restriction_classes": "pol_down, pol_stall, pol_lenient",
        "pol_down": "check_policy_service " + down,
        "pol_stall": "check_policy_service " + stall.address,
        "pol_lenient": "check_policy_service { %s, default_action=DUNNO }"
                       % down,
        "smtpd_recipient_restrictions": "check_recipient_access inline:{ "
            "accu@mx.test.example=pol_down, "
            "stalled@mx.test.example=pol_stall, "
            "lenient@mx.test.example=pol_lenient }",
    })
    inst.start()
    reply = ("451 4.3.5 <accu@mx.test.example>: Recipient address "
             "rejected: Server configuration problem")
    code, text = try_rcpt(inst, LOCAL)
    assert "%d %s" % (code, text) == reply
    logged(inst, "reject", "RCPT", LOCALHOST, reply, SENDER, LOCAL)
    inst.wait_log(r"warning: problem talking to server %s: connect: "
                  r"Connection refused" % re.escape(down))
    assert try_rcpt(inst, "lenient@mx.test.example")[0] == 250
    t0 = time.time()
    code, text = try_rcpt(inst, "stalled@mx.test.example")
    assert (code, text) == (451, "4.3.5 <stalled@mx.test.example>: "
                            "Recipient address rejected: Server "
                            "configuration problem")
    assert time.time() - t0 < 10
    inst.wait_log(r"warning: problem talking to server %s: read: "
                  % re.escape(stall.address))


# ----------------------------------------------------------------------
# 6. Relay control and mynetworks (see also test_relay_domains_outside_client
# and test_reject_unauth_destination above)
# ----------------------------------------------------------------------


def test_mynetworks_patterns(acc):
    """mynetworks with an exclusion, a network and a table: the first
    matching entry decides who may relay (permit_mynetworks)."""
    inst = acc
    trusted = postmap(inst, "trusted", "127.0.0.9 ok\n")
    inst.params["mynetworks"] = "!127.0.0.3, 127.0.0.0/29, " + trusted
    inst.start()
    for n, ok in ((2, True), (3, False), (9, True), (10, False)):
        code, text = try_rcpt(inst, "x@elsewhere.example",
                              source=client_addr(n))
        if ok:
            assert code == 250, (n, text)
        else:
            assert (code, text) == (454, "4.7.1 <x@elsewhere.example>: "
                                    "Relay access denied"), n


def test_mynetworks_host_bits(acc):
    """A network with host bits set is logged and makes permit_mynetworks
    fail temporarily, never permit or refuse for good."""
    inst = acc
    inst.params["mynetworks"] = "127.0.0.1/24"
    inst.start()
    reply = "451 4.3.0 <x@elsewhere.example>: Temporary lookup failure"
    code, text = try_rcpt(inst, "x@elsewhere.example")
    assert "%d %s" % (code, text) == reply
    logged(inst, "reject", "RCPT", LOCALHOST, reply, SENDER,
           "x@elsewhere.example")
    inst.wait_log(r'non-null host address bits in "127\.0\.0\.1/24", '
                  r'perhaps you should use "127\.0\.0\.0/24" instead')

