"""sendmail(1) compatibility and what cleanup does to local submissions."""
import email
import email.policy
import os
import re

import pytest

from conftest import IS_ROOT, needs_root, run, wait_for


def maildir_messages(path):
    new = os.path.join(path, "new")
    out = []
    if os.path.isdir(new):
        for name in sorted(os.listdir(new)):
            with open(os.path.join(new, name), "rb") as f:
                out.append(email.message_from_bytes(
                    f.read(), policy=email.policy.default))
    return out


@pytest.fixture
def maildir_instance(instance):
    """Maildir delivery in the spool: mail_spool_directory ending in /."""
    instance.params["mail_spool_directory"] = instance.spool + "/"
    return instance


def wait_messages(inst, user, n=1, timeout=30):
    d = os.path.join(inst.spool, user)
    return wait_for(lambda: len(maildir_messages(d)) >= n and
                    maildir_messages(d), timeout,
                    what="%d message(s) for %s" % (n, user))


def test_recipients_on_command_line(maildir_instance, users):
    inst = maildir_instance
    users.add("smuser1")
    users.add("smuser2")
    inst.start()
    inst.sendmail(["smuser1", "smuser2"], "Subject: two\n\nhello\n")
    m1 = wait_messages(inst, "smuser1")[0]
    m2 = wait_messages(inst, "smuser2")[0]
    for m in (m1, m2):
        assert m["Subject"] == "two"
        # cleanup added the missing headers.
        assert m["Message-Id"] and m["Date"] and m["From"]
        assert m["Received"].startswith("by mx.test.example")
        assert "hello" in m.get_content()


def test_extract_recipients_t(maildir_instance, users):
    inst = maildir_instance
    users.add("tuser1")
    users.add("tuser2")
    users.add("tuser3")
    inst.start()
    inst.sendmail(["-t"], "To: tuser1\nCc: Someone <tuser2>\n"
                  "Bcc: tuser3\nSubject: t\n\nbody\n")
    for u in ("tuser1", "tuser2", "tuser3"):
        m = wait_messages(inst, u)[0]
        assert m["Bcc"] is None, "Bcc must be removed"
        # Unqualified header addresses were made canonical.
        assert m["To"] == "tuser1@mx.test.example"
        assert "tuser2@mx.test.example" in m["Cc"]


def test_sender_and_full_name(maildir_instance, users):
    inst = maildir_instance
    users.add("fuser")
    inst.start()
    inst.sendmail(["-f", "someone@elsewhere.example", "-F", "Some One",
                   "fuser"], "Subject: f\n\nx\n")
    m = wait_messages(inst, "fuser")[0]
    assert m["Return-Path"] == "<someone@elsewhere.example>"
    assert m["From"] == "Some One <someone@elsewhere.example>"


def test_dot_ends_input_unless_i(maildir_instance, users):
    inst = maildir_instance
    users.add("dotuser")
    inst.start()
    inst.sendmail(["dotuser"], "Subject: a\n\nline1\n.\nafter\n")
    inst.sendmail(["-i", "dotuser"], "Subject: b\n\nline1\n.\nafter\n")
    inst.sendmail(["-oi", "dotuser"], "Subject: c\n\nline1\n.\nafter\n")
    msgs = wait_messages(inst, "dotuser", 3)
    bodies = {m["Subject"]: m.get_content() for m in msgs}
    assert "after" not in bodies["a"]
    assert "after" in bodies["b"] and "after" in bodies["c"]


def test_leading_from_line_and_crlf(maildir_instance, users):
    inst = maildir_instance
    users.add("crlfuser")
    inst.start()
    inst.sendmail(["crlfuser"], b"From someone Mon Jan  1 00:00:00 2024\n"
                  b"Subject: crlf\r\n\r\nline\r\n")
    raw = None
    d = os.path.join(inst.spool, "crlfuser", "new")
    wait_for(lambda: os.listdir(d) if os.path.isdir(d) else None, 30)
    with open(os.path.join(d, os.listdir(d)[0]), "rb") as f:
        raw = f.read()
    assert b"\r" not in raw
    assert b"From someone" not in raw


def test_no_recipients_is_usage_error(instance):
    instance.start()
    r = instance.sendmail([], "Subject: x\n\n", check=False)
    assert r.returncode == 64
    assert b"no recipients" in r.stderr


def test_message_size_limit(instance, users):
    instance.params["message_size_limit"] = "10000"
    instance.start()
    r = instance.sendmail(["someone"], "Subject: big\n\n" + "x" * 20000,
                          check=False)
    assert r.returncode == 73
    assert b"too big" in r.stderr
    assert instance.queue_empty()


def test_header_size_limit(maildir_instance, users):
    inst = maildir_instance
    inst.params["header_size_limit"] = "2048"
    users.add("hdruser")
    inst.start()
    long_hdr = "X-Long: " + " ".join(["word"] * 2000)
    inst.sendmail(["hdruser"], long_hdr + "\nSubject: h\n\nbody\n")
    m = wait_messages(inst, "hdruser")[0]
    assert len(m["X-Long"]) <= 2048
    assert m["Subject"] == "h"
    assert "header_size_limit" in inst.log()


@needs_root
def test_unprivileged_user_goes_through_postdrop(maildir_instance, users):
    inst = maildir_instance
    pw = users.add("pduser")
    inst.start()
    # postdrop must be set-gid for a normal user to reach maildrop/.
    pd = os.path.join(inst.params["command_directory"], "postdrop")
    st = os.stat(pd)
    if not (st.st_mode & 0o2000):
        pytest.skip("postdrop is not set-gid in this build tree")
    r = inst.sendmail(["pduser"], "Subject: user\n\nx\n", user="pduser")
    m = wait_messages(inst, "pduser")[0]
    assert m["From"] == "pduser@mx.test.example"
    inst.wait_log(r"uid=%d from=<pduser>" % pw.pw_uid)


def test_mailq_and_newaliases_names(instance, users):
    instance.start()
    bindir = instance.params["command_directory"]
    r = run([os.path.join(bindir, "mailq")], check=False,
            env=dict(os.environ, MAIL_CONFIG=instance.etc))
    assert r.returncode == 0
    assert "Mail queue is empty" in r.stdout
    with open(os.path.join(instance.etc, "aliases"), "a") as f:
        f.write("newalias: root\n")
    r = run([os.path.join(bindir, "newaliases")], check=False,
            env=dict(os.environ, MAIL_CONFIG=instance.etc))
    assert r.returncode == 0, r.stderr
    r = instance.cmd("postmap", "-q", "newalias",
                     "hash:%s/aliases" % instance.etc)
    assert r.stdout.strip() == "root"


def test_unknown_options_ignored(maildir_instance, users):
    inst = maildir_instance
    users.add("optuser")
    inst.start()
    inst.sendmail(["-odi", "-oem", "-m", "-U", "-G", "optuser"],
                  "Subject: opts\n\nx\n")
    wait_messages(inst, "optuser")


def test_config_directory_or_file_with_C(maildir_instance, users):
    inst = maildir_instance
    users.add("cuser")
    inst.start()
    for arg in (inst.etc, os.path.join(inst.etc, "main.cf")):
        r = run([os.path.join(inst.params["command_directory"],
                              "sendmail"), "-C", arg, "cuser"],
                input="Subject: C\n\nx\n", check=False)
        assert r.returncode == 0, r.stderr
    wait_messages(inst, "cuser", 2)


def test_refused_submission_goes_back_to_sender(maildir_instance, users):
    """sendmail -t without recipient headers: cleanup refuses the
    message, and the sender gets a non-delivery notice (as Postfix does)."""
    inst = maildir_instance
    users.add("norcptsender")
    inst.start()
    r = inst.sendmail(["-t", "-f", "norcptsender"],
                      "Subject: where to?\n\nnobody\n")
    assert r.returncode == 0
    msgs = wait_messages(inst, "norcptsender")
    m = msgs[0]
    assert m.get_content_type() == "multipart/report"
    assert "no recipients" in m.as_string().lower()
    inst.wait_queue_empty()
    assert not inst.queue_files("corrupt")


def test_lost_rename_of_submission_is_recovered(maildir_instance, users):
    """A complete maildrop file whose rename to its queue ID was lost (a
    power failure at that moment) is still delivered."""
    inst = maildir_instance
    users.add("renuser")
    inst.start()
    inst.stop()
    # With the mail system down, the submission waits in maildrop/.
    inst.sendmail(["renuser"], "Subject: lost rename\n\nx\n")
    md = os.path.join(inst.queue, "maildrop")
    name = [n for n in os.listdir(md) if not n.startswith("T")][0]
    tmp = os.path.join(md, "T999.1.2")
    os.rename(os.path.join(md, name), tmp)
    old = os.stat(tmp).st_mtime - 120
    os.utime(tmp, (old, old))
    inst.start()
    m = wait_messages(inst, "renuser")[0]
    assert m["Subject"] == "lost rename"
    assert "recovered complete submission T999.1.2" in inst.log()
