"""Local delivery: mbox and Maildir, aliases, :include:, .forward, pipes,
files, owner- aliases, loops, unknown users."""
import email
import email.policy
import os
import pwd
import re
import stat

import pytest

from conftest import IS_ROOT, needs_root, wait_for


def read(path):
    with open(path, errors="replace") as f:
        return f.read()


def maildir_files(d):
    new = os.path.join(d, "new")
    return sorted(os.listdir(new)) if os.path.isdir(new) else []


def parse_mbox(text):
    """Split an mbox into messages (From_ lines start each)."""
    msgs, cur = [], None
    for line in text.splitlines(True):
        if line.startswith("From "):
            cur = [line]
            msgs.append(cur)
        elif cur is not None:
            cur.append(line)
    return ["".join(m) for m in msgs]


def test_mbox_delivery(instance, users):
    pw = users.add("mboxuser")
    instance.start()
    instance.sendmail(["-f", "sender@remote.example", "mboxuser"],
                      "Subject: one\n\nFrom the body\nline2\n")
    instance.sendmail(["mboxuser"], "Subject: two\n\nsecond\n")
    wait_for(lambda: len(parse_mbox(instance.mbox("mboxuser"))) == 2, 30,
             what="two messages in mbox")
    box = os.path.join(instance.spool, "mboxuser")
    st = os.stat(box)
    if IS_ROOT:
        assert st.st_uid == pw.pw_uid
    assert stat.S_IMODE(st.st_mode) == 0o600
    # Two deliveries may run at once: find the first message by subject.
    first = [m for m in parse_mbox(instance.mbox("mboxuser"))
             if "Subject: one" in m][0]
    assert first.startswith("From sender@remote.example ")
    assert "Return-Path: <sender@remote.example>" in first
    assert "Delivered-To: mboxuser@mx.test.example" in first
    assert "\n>From the body\n" in first
    assert not os.path.exists(box + ".lock")
    instance.wait_log(r"to=<mboxuser@mx\.test\.example>, orig_to=<mboxuser>,"
                      r" relay=local, delay=[\d.]+, delays=[\d.]+/[\d.]+/"
                      r"[\d.]+/[\d.]+, dsn=2\.0\.0, status=sent "
                      r"\(delivered to mailbox\)")


def test_maildir_in_home(instance, users):
    pw = users.add("mduser")
    instance.params["home_mailbox"] = "Maildir/"
    instance.start()
    instance.sendmail(["mduser"], "Subject: md\n\nhello maildir\n")
    md = os.path.join(pw.pw_dir, "Maildir")
    files = wait_for(lambda: maildir_files(md), 30, what="maildir file")
    for sub in ("tmp", "new", "cur"):
        assert os.path.isdir(os.path.join(md, sub))
    path = os.path.join(md, "new", files[0])
    if IS_ROOT:
        assert os.stat(path).st_uid == pw.pw_uid
    msg = email.message_from_string(read(path))
    assert msg["Delivered-To"] == "mduser@mx.test.example"
    instance.wait_log(r"\(delivered to maildir\)")


def test_aliases(instance, users):
    users.add("alice1")
    users.add("bob1")
    instance.aliases = ("postmaster: root\n"
                        "team: alice1, bob1\n"
                        "Boss: alice1\n")
    instance.start()
    instance.sendmail(["team", "boss"], "Subject: alias\n\nx\n")
    wait_for(lambda: len(parse_mbox(instance.mbox("alice1"))) == 2 and
             len(parse_mbox(instance.mbox("bob1"))) == 1, 30,
             what="alias deliveries")
    # The log line follows the delivery: wait for it too.
    instance.wait_log(r"to=<alice1@mx\.test\.example>, orig_to=<team>")
    instance.wait_log(r"to=<alice1@mx\.test\.example>, orig_to=<boss>")


def test_include_file_and_command(instance, users):
    pw = users.add("incuser")
    base = instance.root
    inc = os.path.join(base, "list.inc")
    with open(inc, "w") as f:
        f.write("# members\nincuser\n")
    out_file = os.path.join(base, "filebox")
    out_cmd = os.path.join(base, "cmdout")
    instance.aliases = ("postmaster: root\n"
                        "list: :include:%s\n"
                        "tofile: %s\n"
                        "tocmd: \"|/bin/sh -c 'cat > %s; echo $RECIPIENT "
                        ">> %s'\"\n" % (inc, out_file, out_cmd, out_cmd))
    if IS_ROOT:
        instance.params["default_privs"] = "incuser"
        os.chown(base, pw.pw_uid, -1)
    instance.start()
    instance.sendmail(["list", "tofile", "tocmd"], "Subject: inc\n\nbody\n")
    wait_for(lambda: parse_mbox(instance.mbox("incuser")), 30,
             what=":include: delivery")
    wait_for(lambda: os.path.exists(out_file) and
             "Subject: inc" in read(out_file), 30, what="file delivery")
    assert read(out_file).startswith("From ")
    wait_for(lambda: os.path.exists(out_cmd) and
             "tocmd@mx.test.example" in read(out_cmd), 30,
             what="command delivery")
    assert "Subject: inc" in read(out_cmd)
    instance.wait_log(re.escape("(delivered to file: %s)" % out_file))
    instance.wait_log(r"\(delivered to command:")


def test_dot_forward(instance, users):
    pw = users.add("fwduser")
    users.add("fwdtarget")
    with open(os.path.join(pw.pw_dir, ".forward"), "w") as f:
        f.write("fwdtarget, \\fwduser\n")
    if IS_ROOT:
        os.chown(os.path.join(pw.pw_dir, ".forward"), pw.pw_uid, pw.pw_gid)
    instance.start()
    instance.sendmail(["fwduser"], "Subject: fwd\n\nx\n")
    wait_for(lambda: parse_mbox(instance.mbox("fwdtarget")) and
             parse_mbox(instance.mbox("fwduser")), 30,
             what=".forward deliveries")


def test_dot_forward_to_pipe(instance, users):
    pw = users.add("pipeuser")
    out = os.path.join(pw.pw_dir, "piped")
    with open(os.path.join(pw.pw_dir, ".forward"), "w") as f:
        f.write('"|/bin/sh -c \'id -u > %s; cat >> %s\'"\n' % (out, out))
    if IS_ROOT:
        os.chown(os.path.join(pw.pw_dir, ".forward"), pw.pw_uid, pw.pw_gid)
    instance.start()
    instance.sendmail(["pipeuser"], "Subject: pipe\n\npiped body\n")
    text = wait_for(lambda: os.path.exists(out) and "piped body" in
                    read(out) and read(out), 30, what="pipe output")
    # The command ran as the user, not as root.
    assert text.splitlines()[0] == str(pw.pw_uid)


def test_command_exit_codes(instance, users):
    instance.aliases = ("postmaster: root\n"
                        "tempfail: \"|exit 75\"\n"
                        "permfail: \"|echo no such mailbox; exit 67\"\n")
    instance.params["minimal_backoff_time"] = "300s"
    if IS_ROOT:
        users.add("cmdprivs")
        instance.params["default_privs"] = "cmdprivs"
    instance.start()
    instance.sendmail(["tempfail"], "Subject: t\n\nx\n")
    instance.sendmail(["permfail"], "Subject: p\n\nx\n")
    instance.wait_log(r"to=<tempfail@mx\.test\.example>.*status=deferred")
    instance.wait_log(r"to=<permfail@mx\.test\.example>.*dsn=5\.\d\.\d, "
                      r"status=bounced")
    wait_for(lambda: instance.queue_files("deferred"), 30,
             what="the deferred message in deferred/")


def test_unknown_user_bounces_with_dsn(instance, users):
    pw = users.add("bouncesender")
    instance.params["mail_spool_directory"] = instance.spool + "/"
    instance.start()
    instance.sendmail(["-f", "bouncesender", "no-such-user-xyz"],
                      "Subject: lost\nMessage-Id: <orig@test>\n\nhello\n")
    instance.wait_log(r"to=<no-such-user-xyz@mx\.test\.example>.*"
                      r"dsn=5\.1\.1, status=bounced \(unknown user: "
                      r"\"no-such-user-xyz\"\)")
    md = os.path.join(instance.spool, "bouncesender")
    files = wait_for(lambda: maildir_files(md), 30, what="bounce notice")
    with open(os.path.join(md, "new", files[0]), "rb") as f:
        msg = email.message_from_bytes(f.read(),
                                       policy=email.policy.default)
    assert msg["Return-Path"] == "<>"
    assert msg.get_content_type() == "multipart/report"
    assert msg.get_param("report-type") == "delivery-status"
    parts = list(msg.iter_parts())
    assert parts[1].get_content_type() == "message/delivery-status"
    status = parts[1].get_payload()
    fields = {}
    for block in status:
        for k, v in block.items():
            fields.setdefault(k.lower(), []).append(v)
    assert "rfc822; no-such-user-xyz@mx.test.example" in \
        fields["final-recipient"]
    assert fields["action"] == ["failed"]
    assert fields["status"] == ["5.1.1"]
    orig = parts[2]
    assert orig.get_content_type() in ("message/rfc822",
                                       "text/rfc822-headers")
    assert "orig@test" in orig.as_string()
    instance.wait_queue_empty()


def test_null_sender_never_bounces(instance, users):
    """An undeliverable bounce never bounces back; with "2bounce" in
    notify_classes (as conf/main.cf ships) the postmaster gets it."""
    users.add("pmuser")
    instance.aliases = "postmaster: pmuser\n"
    instance.params["notify_classes"] = "resource, software, 2bounce"
    instance.start()
    instance.sendmail(["-f", "<>", "nobody-at-all-here"],
                      "Subject: n\n\n")
    instance.wait_log(r"nobody-at-all-here.*status=bounced")
    box = wait_for(lambda: parse_mbox(instance.mbox("pmuser")), 30,
                   what="the postmaster's copy")
    assert "nobody-at-all-here" in box[0]
    instance.wait_queue_empty()
    # Exactly one bounce: nothing came back for the notice itself.
    assert instance.log().count("status=bounced") == 1


def test_undeliverable_bounce_discarded_by_default(instance, users):
    """Postfix's default notify_classes has no "2bounce": an undeliverable
    bounce is logged and dropped."""
    instance.start()
    instance.sendmail(["-f", "<>", "nobody-at-all-here2"],
                      "Subject: n\n\n")
    instance.wait_log(r"nobody-at-all-here2.*status=bounced")
    instance.wait_queue_empty()
    assert "sender non-delivery notification" not in instance.log()


def test_forwarding_loop_detected(instance, users):
    users.add("loopuser")
    instance.aliases = "postmaster: root\nloopa: loopb@mx.test.example\n" \
                       "loopb: loopa@mx.test.example, loopuser\n"
    instance.start()
    instance.sendmail(["loopa"], "Subject: loop\n\nx\n")
    wait_for(lambda: parse_mbox(instance.mbox("loopuser")), 30,
             what="delivery despite the loop")
    instance.wait_queue_empty()


def test_delivered_to_loop_bounces(instance, users):
    users.add("dtuser")
    users.add("dtsender")
    instance.start()
    instance.sendmail(["-f", "dtsender", "dtuser"],
                      "Delivered-To: dtuser@mx.test.example\n"
                      "Subject: dt\n\nx\n")
    instance.wait_log(r"to=<dtuser@mx\.test\.example>.*dsn=5\.4\.6, "
                      r"status=bounced \(mail forwarding loop")


def test_owner_alias_becomes_sender(instance, users):
    users.add("ownmember")
    users.add("ownowner")
    instance.aliases = ("postmaster: root\n"
                        "mylist: ownmember, outside@elsewhere.invalid\n"
                        "owner-mylist: ownowner\n")
    instance.start()
    instance.sendmail(["mylist"], "Subject: owner\n\nx\n")
    instance.wait_log(r"status=sent \(forwarded as \w+\)")
    # The forwarded copy (to the outside address) has the owner as
    # envelope sender.
    instance.wait_log(r"from=<owner-mylist@mx\.test\.example>")


def test_expired_message_reports_bounced_and_deferred(instance, users):
    """A message that expires reports every recipient that did not get
    it: those deferred until now, and those that bounced earlier."""
    pw = users.add("expsender")
    instance.params["mail_spool_directory"] = instance.spool + "/"
    instance.params["maximal_queue_lifetime"] = "0"
    instance.aliases = "postmaster: root\nlater: \"|exit 75\"\n"
    if IS_ROOT:
        instance.params["default_privs"] = "expsender"
    instance.start()
    instance.sendmail(["-f", "expsender", "later", "no-such-user-exp"],
                      "Subject: expiring\n\nx\n")
    instance.wait_log(r"to=<later@mx\.test\.example>.*status=expired")
    instance.wait_queue_empty()
    md = os.path.join(instance.spool, "expsender")
    files = wait_for(lambda: len(maildir_files(md)) >= 2 and
                     maildir_files(md), 30, what="two notices")
    text = ""
    for name in files:
        text += read(os.path.join(md, "new", name))
    assert "later@mx.test.example" in text
    assert "no-such-user-exp@mx.test.example" in text
