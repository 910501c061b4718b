"""Virtual mailbox hosting: trivial-rewrite's virtual classes, smtpd's
reject_unlisted_recipient for virtual domains, and the virtual(8)
delivery agent (Maildir and mbox below virtual_mailbox_base, uid/gid
maps, catch-all and extension lookups, quotas, refused paths)."""
import os
import re
import smtplib
import socket
import stat

import pytest

from conftest import IS_ROOT, needs_root, wait_for

pytestmark = needs_root

VUID, VUID2, VGID = 5000, 5001, 5000

VIRTUAL_CF = ("virtual   unix  -       n       n       -       -"
              "       virtual\n")


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def write_table(inst, name, text):
    path = os.path.join(inst.etc, name)
    with open(path, "w") as f:
        f.write(text)
    if not os.path.exists(os.path.join(inst.etc, "main.cf")):
        inst.write_config()
    inst.cmd("postmap", "hash:" + path)
    return "hash:" + path


def read(path):
    with open(path, errors="replace") as f:
        return f.read()


def new_files(d):
    new = os.path.join(d, "new")
    return sorted(os.listdir(new)) if os.path.isdir(new) else []


MAILBOXES = """\
md@one.example      one.example/md/
mb@one.example      one.example/mb
other@two.example   two.example/other/
@two.example        two.example/catchall/
"""


@pytest.fixture
def vinst(instance):
    """An instance with smtpd, the virtual service, two virtual mailbox
    domains and a virtual alias domain."""
    inst = instance
    inst.smtp_port = free_port()
    inst.master_cf += ("127.0.0.1:%d inet  n       -       y       -"
                       "       -       smtpd\n" % inst.smtp_port)
    inst.master_cf += VIRTUAL_CF
    inst.vbase = os.path.join(inst.root, "vmail")
    os.makedirs(inst.vbase)
    os.chown(inst.vbase, VUID, VGID)
    os.chmod(inst.vbase, 0o770)
    os.makedirs(inst.etc, exist_ok=True)
    inst.params.update({
        "mynetworks": "127.0.0.1/32",
        "recipient_delimiter": "+",
        "virtual_mailbox_domains": "one.example, two.example",
        "virtual_mailbox_base": inst.vbase,
        "virtual_mailbox_maps": write_table(inst, "vmailbox", MAILBOXES),
        # Per domain (catch-all keys); a static: after a hash: would
        # answer for the full address first, as in Postfix.
        "virtual_uid_maps": write_table(
            inst, "vuid", "@one.example %d\n@two.example %d\n"
            % (VUID, VUID2)),
        "virtual_gid_maps": "static:%d" % VGID,
        "virtual_alias_domains": "alias.example",
        "virtual_alias_maps": write_table(
            inst, "valias", "known@alias.example md@one.example\n"),
    })
    return inst


def smtp_send(inst, rcpts, body, sender="s@remote.example"):
    s = smtplib.SMTP("127.0.0.1", inst.smtp_port, timeout=30)
    s.ehlo("client.example")
    refused = s.sendmail(sender, rcpts, body)
    s.quit()
    return refused


def rcpt_reply(inst, rcpt):
    s = smtplib.SMTP("127.0.0.1", inst.smtp_port, timeout=30)
    s.ehlo("client.example")
    s.mail("s@remote.example")
    code, text = s.rcpt(rcpt)
    s.quit()
    return code, text.decode()


def test_virtual_delivery(vinst):
    """Maildir and mbox users of two domains, extension and catch-all
    lookups, the mapped owners, the headers; virtual runs as root
    without a chroot."""
    inst = vinst
    inst.start()
    smtp_send(inst, ["md@one.example", "md+tag@one.example",
                     "mb@one.example", "other@two.example",
                     "who@two.example"],
              b"Subject: v\r\n\r\nFrom the body\r\nline\r\n")
    md = os.path.join(inst.vbase, "one.example", "md")
    files = wait_for(lambda: len(new_files(md)) == 2 and new_files(md), 30,
                     what="two maildir files")
    for name in files:
        st = os.stat(os.path.join(md, "new", name))
        assert (st.st_uid, st.st_gid) == (VUID, VGID)
        assert stat.S_IMODE(st.st_mode) == 0o600
    texts = [read(os.path.join(md, "new", n)) for n in files]
    assert any("Delivered-To: md+tag@one.example" in t for t in texts)
    assert any("X-Original-To: md@one.example" in t for t in texts)
    for t in texts:
        assert t.startswith("Return-Path: <s@remote.example>\n")
        assert "\nFrom the body\n" in t
    st = os.stat(md)
    assert (st.st_uid, st.st_gid) == (VUID, VGID)

    mb = os.path.join(inst.vbase, "one.example", "mb")
    wait_for(lambda: os.path.exists(mb) and read(mb).endswith("\n\n"), 30,
             what="mbox")
    text = read(mb)
    assert text.startswith("From s@remote.example ")
    assert "Return-Path: <s@remote.example>" in text
    assert "Delivered-To: mb@one.example" in text
    assert "\n>From the body\n" in text
    st = os.stat(mb)
    assert (st.st_uid, st.st_gid) == (VUID, VGID)
    assert stat.S_IMODE(st.st_mode) == 0o600
    assert not os.path.exists(mb + ".lock")

    other = os.path.join(inst.vbase, "two.example", "other")
    f = wait_for(lambda: new_files(other), 30, what="other maildir")
    assert os.stat(os.path.join(other, "new", f[0])).st_uid == VUID2
    catch = os.path.join(inst.vbase, "two.example", "catchall")
    f = wait_for(lambda: new_files(catch), 30, what="catch-all maildir")
    assert "Delivered-To: who@two.example" in read(
        os.path.join(catch, "new", f[0]))
    assert os.stat(os.path.join(catch, "new", f[0])).st_uid == VUID2
    inst.wait_log(r"to=<mb@one\.example>, relay=virtual, delay=[\d.]+, "
                  r"delays=[\d./]+, dsn=2\.0\.0, status=sent "
                  r"\(delivered to mailbox\)")
    inst.wait_log(r"to=<who@two\.example>, relay=virtual, .*dsn=2\.0\.0, "
                  r"status=sent \(delivered to maildir\)")
    inst.wait_queue_empty()

    # The running virtual process: root, not chrooted (master.cf).
    procs = wait_for(lambda: inst.processes("virtual"), 10,
                     what="virtual process")
    for pid, _ in procs:
        with open("/proc/%d/status" % pid) as f:
            uids = [l for l in f if l.startswith("Uid:")][0].split()[1:]
        assert uids == ["0", "0", "0", "0"]
        assert os.readlink("/proc/%d/root" % pid) == "/"


def test_unknown_recipients_refused_at_rcpt(vinst):
    """reject_unlisted_recipient: virtual mailbox and virtual alias
    domains; a known alias and catch-all pass."""
    inst = vinst
    inst.start()
    code, text = rcpt_reply(inst, "nobody@one.example")
    assert code == 550
    assert text == ("5.1.1 <nobody@one.example>: Recipient address "
                    "rejected: User unknown in virtual mailbox table")
    code, text = rcpt_reply(inst, "stranger@alias.example")
    assert code == 550
    assert text == ("5.1.1 <stranger@alias.example>: Recipient address "
                    "rejected: User unknown in virtual alias table")
    assert rcpt_reply(inst, "known@alias.example")[0] == 250
    assert rcpt_reply(inst, "anyone@two.example")[0] == 250
    assert rcpt_reply(inst, "md+x@one.example")[0] == 250
    inst.wait_log(r"NOQUEUE: reject: RCPT from localhost\[127\.0\.0\.1\]: "
                  r"550 5\.1\.1 <nobody@one\.example>")


def test_virtual_alias_domain_bounces_unexpanded(vinst, users):
    """Mail for a virtual alias domain that cleanup did not rewrite
    resolves to the error class: bounced 5.1.1 with the table text."""
    inst = vinst
    users.add("vsnd")
    inst.start()
    inst.sendmail(["-f", "vsnd@mx.test.example", "nobody@alias.example"],
                  "Subject: a\n\nx\n")
    inst.wait_log(r"to=<nobody@alias\.example>, relay=none, .*dsn=5\.1\.1, "
                  r"status=bounced \(User unknown in virtual alias table\)")
    wait_for(lambda: "User unknown in virtual alias table"
             in inst.mbox("vsnd"), 30, what="bounce notice")


def test_table_error_defers_at_rcpt(instance):
    """A virtual_mailbox_maps table that cannot be read: 451 at RCPT."""
    inst = instance
    inst.smtp_port = free_port()
    inst.master_cf += ("127.0.0.1:%d inet  n       -       y       -"
                       "       -       smtpd\n" % inst.smtp_port)
    inst.master_cf += VIRTUAL_CF
    inst.params.update({
        "mynetworks": "127.0.0.1/32",
        "virtual_mailbox_domains": "one.example",
        "virtual_mailbox_maps": "hash:%s/missing" % inst.etc,
    })
    inst.start()
    code, text = rcpt_reply(inst, "u@one.example")
    assert code == 451
    assert text.startswith("4.3.0 <u@one.example>: Temporary lookup "
                           "failure")


def test_domain_list_error_defers(instance):
    """A virtual_mailbox_domains list that cannot be read: the resolver
    answers with an error and the recipient is deferred."""
    inst = instance
    inst.master_cf += VIRTUAL_CF
    inst.params["virtual_mailbox_domains"] = "hash:%s/nolist" % inst.etc
    inst.start()
    inst.sendmail(["-f", "", "u@elsewhere.example"], "Subject: d\n\nx\n")
    inst.wait_log(r"to=<u@elsewhere\.example>, relay=none, .*"
                  r"status=deferred \(address resolver failure")


def test_bad_configuration_defers(vinst):
    """A uid below virtual_minimum_uid, a path with "..", an mbox that is
    a symbolic link or a device, and an unknown user are never delivered:
    the first four are deferred as configuration errors, the last
    bounces."""
    inst = vinst
    inst.params["virtual_mailbox_maps"] = write_table(inst, "vmailbox2", (
        "lowuid@one.example one.example/lowuid/\n"
        "escape@one.example ../escape\n"
        "sym@one.example one.example/sym\n"
        "dev@one.example one.example/dev\n"))
    inst.params["virtual_uid_maps"] = write_table(
        inst, "vuid2", "lowuid@one.example 50\n") + ", static:%d" % VUID
    inst.params["smtpd_reject_unlisted_recipient"] = "no"
    target = os.path.join(inst.root, "target")
    with open(target, "w") as f:
        f.write("untouched\n")
    os.chown(target, VUID, VGID)
    d = os.path.join(inst.vbase, "one.example")
    os.makedirs(d)
    os.chown(d, VUID, VGID)
    os.symlink(target, os.path.join(d, "sym"))
    # A device in the base (/dev/null's numbers) is never even opened.
    os.mknod(os.path.join(d, "dev"), stat.S_IFCHR | 0o666,
             os.makedev(1, 3))
    inst.start()
    smtp_send(inst, ["lowuid@one.example", "escape@one.example",
                     "sym@one.example", "dev@one.example",
                     "ghost@one.example"],
              b"Subject: bad\r\n\r\nx\r\n")
    inst.wait_log(r"to=<lowuid@one\.example>, relay=virtual, .*dsn=4\.3\.0,"
                  r" status=deferred \(mail system configuration error: "
                  r"virtual_uid_maps gives 50, below virtual_minimum_uid\)")
    inst.wait_log(r"to=<escape@one\.example>, relay=virtual, .*dsn=4\.3\.0,"
                  r" status=deferred \(mail system configuration error: "
                  r"bad mailbox path")
    inst.wait_log(r"to=<sym@one\.example>, relay=virtual, .*"
                  r"status=deferred \(mailbox delivery failed: cannot open "
                  r"file .*: it is a symbolic link\)")
    inst.wait_log(r"to=<dev@one\.example>, relay=virtual, .*"
                  r"status=deferred \(mailbox delivery failed: file .*/dev "
                  r"is not a regular file\)")
    inst.wait_log(r"to=<ghost@one\.example>, relay=virtual, .*dsn=5\.1\.1,"
                  r" status=bounced \(unknown user: \"ghost@one\.example\"\)")
    assert read(target) == "untouched\n"
    assert not os.path.exists(os.path.join(d, "lowuid"))
    assert not os.path.exists(os.path.join(inst.root, "escape"))
    assert "escape" not in os.listdir(inst.root)


BIG = b"Subject: big\r\n\r\n" + (b"x" * 70 + b"\r\n") * 60


def test_quota_bounce(vinst, users):
    """Over the per-mailbox limit (virtual_mailbox_limit_maps): bounced
    with 5.2.2 Mailbox full, Maildir and mbox; smaller mail still fits."""
    inst = vinst
    users.add("vqs")
    inst.params["virtual_mailbox_limit_maps"] = write_table(
        inst, "vlimit", "md@one.example 3000\nmb@one.example 3000\n")
    inst.start()
    sender = "vqs@mx.test.example"
    smtp_send(inst, ["md@one.example", "mb@one.example"],
              b"Subject: small\r\n\r\nhello\r\n", sender=sender)
    md = os.path.join(inst.vbase, "one.example", "md")
    mb = os.path.join(inst.vbase, "one.example", "mb")
    wait_for(lambda: new_files(md) and os.path.exists(mb), 30,
             what="small deliveries")
    inst.wait_queue_empty()
    smtp_send(inst, ["md@one.example", "mb@one.example"], BIG, sender=sender)
    for who in ("md", "mb"):
        inst.wait_log(r"to=<%s@one\.example>, relay=virtual, .*"
                      r"dsn=5\.2\.2, status=bounced \(Mailbox full: the "
                      r"mailbox of %s@one\.example is over its size limit"
                      % (who, who))
    notice = wait_for(lambda: "5.2.2" in inst.mbox("vqs") and
                      inst.mbox("vqs"), 30, what="bounce notice")
    assert "Status: 5.2.2" in notice
    assert "Mailbox full" in notice
    assert len(new_files(md)) == 1
    assert "Subject: big" not in read(mb)


def test_quota_defer(vinst):
    """virtual_overquota_bounce = no: over quota stays deferred (4.2.2),
    the global virtual_mailbox_limit applies to Maildir totals."""
    inst = vinst
    inst.params["virtual_overquota_bounce"] = "no"
    inst.params["virtual_mailbox_limit"] = "3000"
    inst.params["message_size_limit"] = "3000"
    inst.start()
    md = os.path.join(inst.vbase, "one.example", "md")
    smtp_send(inst, ["md@one.example"], b"Subject: s1\r\n\r\n" +
              b"y" * 1500 + b"\r\n")
    wait_for(lambda: new_files(md), 30, what="first delivery")
    smtp_send(inst, ["md@one.example"], b"Subject: s2\r\n\r\n" +
              b"z" * 1500 + b"\r\n")
    inst.wait_log(r"to=<md@one\.example>, relay=virtual, .*dsn=4\.2\.2, "
                  r"status=deferred \(Mailbox full: the mailbox of "
                  r"md@one\.example is over its size limit")
    # The log line comes from virtual; qmgr records the reason after it.
    wait_for(lambda: "Mailbox full" in inst.cmd("postqueue", "-p").stdout,
             30, what="the reason in postqueue -p")
    assert len(new_files(md)) == 1
