"""Scenario tests for the local(8) delivery agent, run stand-alone.

Each test drives "local -S" through local_driver.LocalInstance, with small
fake trivial-rewrite and cleanup services on the instance's UNIX sockets
(local addresses are those in host.example and localhost; forwarded
messages are recorded, not queued).  Run as root: the tests create two
users (ptlocal1, ptlocal2) and remove them afterwards.

    POSTERN_BUILD=build-local /usr/bin/python3 -m pytest -q tests/tools
"""
import os
import pwd
import re
import socket
import stat
import struct
import subprocess
import threading
import time

import pytest

from local_driver import (DEL_FLAG_RETRY, LocalInstance, ipc_frame,
                          ipc_int, ipc_parse, ipc_str)

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BUILD = os.path.abspath(os.environ.get("POSTERN_BUILD",
                                       os.path.join(REPO, "build")))
USERS = ("ptlocal1", "ptlocal2")
SENDER = "sender@remote.example"
MSG = ("From: sender@remote.example\nTo: you\nSubject: test\n\n"
       "Hello\nFrom the body\n.\n")

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="needs root")


# ---------------------------------------------------------------- servers

def recv_exact(conn, n):
    data = b""
    while len(data) < n:
        chunk = conn.recv(n - len(data))
        if not chunk:
            raise EOFError
        data += chunk
    return data


def recv_frame(conn):
    (n,) = struct.unpack(">I", recv_exact(conn, 4))
    body = recv_exact(conn, n)
    return dict(ipc_parse(struct.pack(">I", n) + body)[0])


def recv_record(conn):
    t = recv_exact(conn, 1).decode()
    n = shift = 0
    while True:
        c = recv_exact(conn, 1)[0]
        n |= (c & 0x7F) << shift
        shift += 7
        if not c & 0x80:
            break
    return t, recv_exact(conn, n)


class FakeServices:
    """trivial-rewrite and cleanup stand-ins on the instance's sockets."""

    LOCAL_DOMAINS = ("host.example", "localhost")

    def __init__(self, queue):
        self.messages = []
        self.socks = []
        self.cleanup_status = 0
        self.rewrite_down = False
        for sub, name, handler in (("private", "rewrite", self.rewrite),
                                   ("public", "cleanup", self.cleanup)):
            d = os.path.join(queue, sub)
            os.makedirs(d, exist_ok=True)
            path = os.path.join(d, name)
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.bind(path)
            s.listen(16)
            self.socks.append(s)
            threading.Thread(target=self.serve, args=(s, handler),
                             daemon=True).start()

    def close(self):
        for s in self.socks:
            s.close()

    def serve(self, s, handler):
        while True:
            try:
                conn, _ = s.accept()
            except OSError:
                return
            threading.Thread(target=self.run, args=(conn, handler),
                             daemon=True).start()

    def run(self, conn, handler):
        try:
            handler(conn)
        except (EOFError, OSError):
            pass
        finally:
            conn.close()

    def hello(self, conn, proto):
        conn.sendall(ipc_frame(ipc_str("protocol", proto) +
                               ipc_int("version", 1)))

    def rewrite(self, conn):
        self.hello(conn, "rewrite")
        while True:
            req = recv_frame(conn)
            addr = req["address"]
            if self.rewrite_down:
                return
            if req["request"] == "rewrite":
                if addr and "@" not in addr:
                    addr += "@host.example"
                conn.sendall(ipc_frame(ipc_int("flags", 0) +
                                       ipc_str("address", addr)))
                continue
            domain = addr.rsplit("@", 1)[-1].lower()
            if domain in self.LOCAL_DOMAINS:
                tr, nh = "local", "host.example"
            else:
                tr, nh = "smtp", domain
            conn.sendall(ipc_frame(ipc_int("flags", 0) +
                                   ipc_str("transport", tr) +
                                   ipc_str("nexthop", nh) +
                                   ipc_str("recipient", addr)))

    def cleanup(self, conn):
        self.hello(conn, "cleanup")
        req = recv_frame(conn)
        qid = "FWD%06X" % (len(self.messages) + 1)
        conn.sendall(ipc_frame(ipc_int("status", 0) +
                               ipc_str("queue_id", qid) +
                               ipc_str("reason", "")))
        recs = []
        while True:
            t, payload = recv_record(conn)
            recs.append((t, payload))
            if t == "E":
                break
        self.messages.append({"request": req, "records": recs, "qid": qid})
        conn.sendall(ipc_frame(ipc_int("status", self.cleanup_status) +
                               ipc_str("queue_id", qid) +
                               ipc_str("reason", "")))


# ---------------------------------------------------------------- fixtures

@pytest.fixture(scope="module")
def users():
    made = []
    for u in USERS:
        try:
            pwd.getpwnam(u)
        except KeyError:
            subprocess.run(["useradd", "-m", "-s", "/bin/sh", u], check=True)
            made.append(u)
    yield {u: pwd.getpwnam(u) for u in USERS}
    for u in made:
        subprocess.run(["userdel", "-r", "-f", u], capture_output=True)


@pytest.fixture
def inst(users):
    # Under /tmp itself: the users must be able to reach the spool.
    i = LocalInstance(BUILD)
    i.fake = FakeServices(i.queue)
    i.users = users
    for u in users.values():
        for name in (".forward", ".forward+ext"):
            try:
                os.unlink(os.path.join(u.pw_dir, name))
            except FileNotFoundError:
                pass
        subprocess.run(["rm", "-rf", os.path.join(u.pw_dir, "Maildir")])
    yield i
    i.fake.close()
    i.cleanup()


def spool(inst, user):
    with open(os.path.join(inst.spool, user), "rb") as f:
        return f.read().decode()


def logs_with(log, text):
    return [ln for ln in log if text in ln]


def write_as(user, path, text, mode=0o600):
    with open(path, "w") as f:
        f.write(text)
    os.chown(path, user.pw_uid, user.pw_gid)
    os.chmod(path, mode)


# ---------------------------------------------------------------- mailbox

def test_mbox_spool_root_created(inst):
    res, log = inst.deliver(SENDER, ["ptlocal1@host.example"], MSG)
    assert res[0].status == "sent", res
    assert res[0].reason == "delivered to mailbox"
    path = os.path.join(inst.spool, "ptlocal1")
    st = os.lstat(path)
    assert st.st_uid == inst.users["ptlocal1"].pw_uid
    assert stat.S_IMODE(st.st_mode) == 0o600
    box = spool(inst, "ptlocal1")
    assert re.match(r"From sender@remote\.example  \w{3} \w{3} [ \d]\d "
                    r"\d\d:\d\d:\d\d \d{4}\n", box)
    assert ("Return-Path: <sender@remote.example>\n"
            "X-Original-To: ptlocal1@host.example\n"
            "Delivered-To: ptlocal1@host.example\n"
            "From: sender@remote.example\n") in box
    assert "\n>From the body\n.\n\n" in box and box.endswith("\n\n")
    assert not os.path.exists(path + ".lock")
    line = logs_with(log, "to=<ptlocal1@host.example>")[0]
    assert re.search(r": to=<ptlocal1@host\.example>, relay=local, "
                     r"delay=[\d.]+, delays=[\d.]+/[\d.]+/[\d.]+/[\d.]+, "
                     r"dsn=2\.0\.0, status=sent \(delivered to mailbox\)",
                     line), line
    # A second message is appended.
    res, log = inst.deliver("", ["ptlocal1@host.example"], MSG)
    assert res[0].status == "sent"
    box = spool(inst, "ptlocal1")
    assert box.count("\nReturn-Path: ") == 2
    assert "\nFrom MAILER-DAEMON  " in box and "Return-Path: <>" in box


def test_mbox_refuses_symlink_links_owner(inst):
    path = os.path.join(inst.spool, "ptlocal1")
    target = os.path.join(inst.dir, "target")
    open(target, "w").close()
    os.symlink(target, path)
    res, log = inst.deliver(SENDER, ["ptlocal1@host.example"], MSG)
    assert res[0].status == "deferred" and "symbolic link" in res[0].reason
    assert os.path.getsize(target) == 0
    os.unlink(path)
    os.link(target, path)
    res, log = inst.deliver(SENDER, ["ptlocal1@host.example"], MSG)
    assert res[0].status == "deferred" and "hard links" in res[0].reason
    os.unlink(path)
    open(path, "w").close()    # owned by root
    res, log = inst.deliver(SENDER, ["ptlocal1@host.example"], MSG)
    assert res[0].status == "deferred" and "wrong owner" in res[0].reason
    assert os.path.getsize(path) == 0


def test_mbox_size_limit(inst):
    inst.set(mailbox_size_limit="2000", message_size_limit="1000")
    u = inst.users["ptlocal1"]
    path = os.path.join(inst.spool, "ptlocal1")
    write_as(u, path, "x" * 1900)
    res, log = inst.deliver(SENDER, ["ptlocal1@host.example"], MSG)
    assert res[0].status == "bounced" and res[0].dsn == "5.2.2", res
    assert "File too large" in res[0].reason
    assert os.path.getsize(path) == 1900
    write_as(u, path, "x" * 1000)
    res, log = inst.deliver(SENDER, ["ptlocal1@host.example"], MSG)
    assert res[0].status == "sent"


def test_size_limit_below_message_limit_is_fatal(inst):
    inst.set(mailbox_size_limit="1000", message_size_limit="2000")
    with pytest.raises(AssertionError):
        inst.deliver(SENDER, ["ptlocal1@host.example"], MSG)
    assert "smaller than message_size_limit" in inst.last_stderr


def test_home_mailbox_maildir_idempotent(inst):
    inst.set(home_mailbox="Maildir/")
    u = inst.users["ptlocal1"]
    queued = inst.queue_message(SENDER, ["ptlocal1@host.example"], MSG)
    res, log = inst.deliver(SENDER, ["ptlocal1@host.example"], MSG,
                            queued=queued)
    assert res[0].status == "sent" and res[0].reason == \
        "delivered to maildir"
    md = os.path.join(u.pw_dir, "Maildir")
    new = os.listdir(os.path.join(md, "new"))
    assert len(new) == 1
    qid, _, offsets = queued
    assert new[0] == "%d.Q%sR%d.host.example" % (
        inst.arrival_us // 1000000, qid, offsets[0])
    st = os.stat(os.path.join(md, "new", new[0]))
    assert st.st_uid == u.pw_uid and stat.S_IMODE(st.st_mode) == 0o600
    for sub in ("tmp", "new", "cur"):
        assert os.stat(os.path.join(md, sub)).st_uid == u.pw_uid
    with open(os.path.join(md, "new", new[0])) as f:
        text = f.read()
    assert text.startswith("Return-Path: <sender@remote.example>\n"
                           "X-Original-To: ptlocal1@host.example\n"
                           "Delivered-To: ptlocal1@host.example\n")
    assert "\nFrom the body\n" in text
    # The same request again (a crash before the reply): no second copy.
    res, log = inst.deliver(SENDER, ["ptlocal1@host.example"], MSG,
                            queued=queued)
    assert res[0].status == "sent"
    assert os.listdir(os.path.join(md, "new")) == new
    assert logs_with(log, "already delivered")
    # A reader moved it to cur/: found on a retry.
    os.rename(os.path.join(md, "new", new[0]),
              os.path.join(md, "cur", new[0] + ":2,S"))
    res, log = inst.deliver(SENDER, ["ptlocal1@host.example"], MSG,
                            queued=queued, flags=DEL_FLAG_RETRY)
    assert res[0].status == "sent"
    assert os.listdir(os.path.join(md, "new")) == []
    assert os.listdir(os.path.join(md, "tmp")) == []


def test_spool_maildir(inst):
    inst.set(mail_spool_directory=inst.spool + "/")
    res, log = inst.deliver(SENDER, ["ptlocal2@host.example"], MSG)
    assert res[0].status == "sent", res
    d = os.path.join(inst.spool, "ptlocal2")
    assert os.stat(d).st_uid == inst.users["ptlocal2"].pw_uid
    assert len(os.listdir(os.path.join(d, "new"))) == 1


def test_mailbox_command(inst):
    out = os.path.join(inst.dir, "mbcmd")
    os.mkdir(out)
    os.chmod(out, 0o1777)
    inst.set(mailbox_command="/bin/sh -c 'cat > %s/$user.$extension; "
             "id -un >> %s/$user.$extension'" % (out, out),
             recipient_delimiter="+")
    res, log = inst.deliver(SENDER, ["ptlocal1+a;b@host.example"], MSG)
    assert res[0].status == "sent", res
    assert res[0].reason.startswith("delivered to command: /bin/sh -c")
    with open(os.path.join(out, "ptlocal1.a_b")) as f:
        text = f.read()
    assert text.startswith("From sender@remote.example  ")
    assert "Delivered-To: \"ptlocal1+a;b\"@host.example\n" in text
    assert text.endswith("ptlocal1\n")


def test_unknown_user_and_loop(inst):
    res, log = inst.deliver(SENDER, ["nosuchuser@host.example"], MSG)
    assert res[0].status == "bounced" and res[0].dsn == "5.1.1"
    assert res[0].reason == 'unknown user: "nosuchuser"'
    assert logs_with(log, 'status=bounced (unknown user: "nosuchuser")')
    looped = "Delivered-To: PTLOCAL1@host.example\n" + MSG
    res, log = inst.deliver(SENDER, ["ptlocal1@host.example"], looped)
    assert res[0].status == "bounced" and res[0].dsn == "5.4.6"
    assert res[0].reason == "mail forwarding loop for ptlocal1@host.example"
    folded = "X-Other: 1\nDelivered-To:\n ptlocal1@host.example\n" + MSG
    res, log = inst.deliver(SENDER, ["ptlocal1@host.example"], folded)
    assert res[0].status == "bounced"
    # Only headers count.
    body = MSG + "Delivered-To: ptlocal1@host.example\n"
    res, log = inst.deliver(SENDER, ["ptlocal1@host.example"], body)
    assert res[0].status == "sent"


def test_extension(inst):
    inst.set(recipient_delimiter="+")
    res, log = inst.deliver(SENDER, ["PTLocal1+Foo@host.example"], MSG)
    assert res[0].status == "sent", res
    assert "Delivered-To: ptlocal1+foo@host.example" in spool(inst,
                                                               "ptlocal1")


# ---------------------------------------------------------------- aliases

def test_alias_user_file_command(inst):
    w = os.path.join(inst.dir, "w")
    os.mkdir(w)
    os.chmod(w, 0o1777)
    inst.write_aliases({
        "team": "\\ptlocal1, %s/file.out, \"|env > %s/env.out; "
                "cat >> %s/env.out\", %s/md/" % (w, w, w, w),
    })
    res, log = inst.deliver(SENDER, ["team@host.example"], MSG)
    assert res[0].status == "sent", res
    assert logs_with(log, "to=<ptlocal1@host.example>, "
                     "orig_to=<team@host.example>")
    assert logs_with(log, "status=sent (delivered to file: %s/file.out)" % w)
    assert logs_with(log, "status=sent (delivered to command: env > ")
    assert logs_with(log, "status=sent (delivered to maildir)")
    box = spool(inst, "ptlocal1")
    assert "X-Original-To: team@host.example\n" in box
    assert "Delivered-To: ptlocal1@host.example\n" in box
    with open(os.path.join(w, "file.out")) as f:
        text = f.read()
    assert "Delivered-To: team@host.example\n" in text
    assert "\n>From the body\n" in text and text.endswith("\n\n")
    assert os.stat(os.path.join(w, "file.out")).st_uid == \
        pwd.getpwnam("nobody").pw_uid
    with open(os.path.join(w, "env.out")) as f:
        env = f.read()
    for want in ("USER=nobody", "LOGNAME=nobody", "SENDER=" + SENDER,
                 "RECIPIENT=team@host.example", "LOCAL=team",
                 "DOMAIN=host.example", "PATH=/usr/bin:/bin",
                 "ORIGINAL_RECIPIENT=team@host.example",
                 "Delivered-To: team@host.example"):
        assert want in env, want
    assert "EXTENSION=" not in env


def test_alias_command_status(inst):
    inst.write_aliases({
        "tempfail": '"|echo busy; exit 75"',
        "nouser": '"|exit 67"',
        "fails": '"|echo it broke >&2; exit 1"',
        "slow": '"|sleep 30"',
    })
    inst.set(command_time_limit="1s")
    res, log = inst.deliver(SENDER, ["tempfail@host.example",
                                     "nouser@host.example",
                                     "fails@host.example",
                                     "slow@host.example"], MSG)
    assert (res[0].status, res[0].dsn, res[0].reason) == (
        "deferred", "4.3.0", "temporary failure. Command output: busy")
    assert (res[1].status, res[1].dsn, res[1].reason) == (
        "bounced", "5.1.1", "user unknown")
    assert (res[2].status, res[2].dsn) == ("bounced", "5.3.0")
    assert res[2].reason == ('Command died with status 1: "echo it broke '
                             '>&2; exit 1". Command output: it broke')
    assert res[3].status == "deferred"
    assert res[3].reason.startswith("Command time limit exceeded")


def test_alias_restrictions(inst):
    inst.write_aliases({"cmd": '"|cat"', "file": "/dev/null"})
    inst.set(allow_mail_to_commands="forward", allow_mail_to_files="forward")
    res, log = inst.deliver(SENDER, ["cmd@host.example",
                                     "file@host.example"], MSG)
    assert (res[0].status, res[0].dsn, res[0].reason) == (
        "bounced", "5.7.1", "mail to command is restricted")
    assert (res[1].status, res[1].dsn, res[1].reason) == (
        "bounced", "5.7.1", "mail to file is restricted")
    inst.set(allow_mail_to_commands="alias", allow_mail_to_files="alias")
    res, log = inst.deliver(SENDER, ["cmd@host.example",
                                     "file@host.example"], MSG)
    assert [r.status for r in res] == ["sent", "sent"], res


def test_alias_table_error_defers(inst):
    inst.set(alias_maps="fail:broken")
    res, log = inst.deliver(SENDER, ["ptlocal1@host.example"], MSG)
    assert (res[0].status, res[0].dsn, res[0].reason) == (
        "deferred", "4.3.0", "alias database unavailable")
    assert not os.path.exists(os.path.join(inst.spool, "ptlocal1"))


def test_alias_forward_and_owner(inst):
    inst.write_aliases({
        "list": "ptlocal1, Friend <friend@remote.example>, "
                "other@elsewhere.example, ptlocal2",
        "owner-list": "ptlocal2",
    })
    res, log = inst.deliver(SENDER, [("list@host.example", "orig@x")], MSG)
    assert res[0].status == "sent", res
    assert len(inst.fake.messages) == 1
    m = inst.fake.messages[0]
    assert m["request"]["source"] == "local"
    recs = m["records"]
    assert ("S", b"owner-list@host.example") in recs
    assert [p for t, p in recs if t == "R"] == [b"friend@remote.example",
                                                b"other@elsewhere.example"]
    assert ("O", b"orig@x") in recs
    lines = [p for t, p in recs if t == "L"]
    assert lines[0] == b"Delivered-To: list@host.example"
    assert b"From the body" in lines
    assert logs_with(log, "to=<friend@remote.example>, orig_to=<orig@x>")
    assert logs_with(log, "status=sent (forwarded as %s)" % m["qid"])
    # Local members got it with the owner as the envelope sender.
    assert "Return-Path: <owner-list@host.example>" in spool(inst,
                                                             "ptlocal1")
    assert "X-Original-To: orig@x" in spool(inst, "ptlocal2")


def test_alias_loops_and_duplicates(inst):
    inst.write_aliases({
        "a": "b, ptlocal1",
        "b": "a, ptlocal1, c",
        "c": "ptlocal1, ptlocal1, \\ptlocal1",
        "self": "ptlocal2, self",
        "many": ", ".join(["ptlocal1"] * 1000),
    })
    res, log = inst.deliver(SENDER, ["a@host.example"], MSG)
    # "a" names itself through "b": the second "a" is not an alias again
    # and, not being a user, bounces; ptlocal1 gets one copy.
    assert res[0].status == "bounced", res
    assert res[0].reason == 'unknown user: "a"'
    assert spool(inst, "ptlocal1").count("\nReturn-Path:") == 1
    res, log = inst.deliver(SENDER, ["self@host.example"], MSG)
    assert res[0].status == "bounced"
    res, log = inst.deliver(SENDER, ["many@host.example"], MSG)
    assert res[0].status == "sent"
    assert spool(inst, "ptlocal1").count("\nReturn-Path:") == 2


def test_alias_rewrite_unavailable_defers(inst):
    inst.write_aliases({"x": "ptlocal1"})
    inst.fake.rewrite_down = True
    res, log = inst.deliver(SENDER, ["x@host.example"], MSG)
    assert res[0].status == "deferred", (res, log, inst.dir)
    assert not os.path.exists(os.path.join(inst.spool, "ptlocal1"))


def test_forward_cancelled_on_defer(inst):
    inst.write_aliases({"mix": "far@remote.example, \"|exit 75\""})
    res, log = inst.deliver(SENDER, ["mix@host.example"], MSG)
    assert res[0].status == "deferred"
    assert inst.fake.messages == []


def test_include(inst):
    u = inst.users["ptlocal2"]
    inc = os.path.join(inst.dir, "list.inc")
    w = os.path.join(inst.dir, "w")
    os.mkdir(w)
    os.chmod(w, 0o1777)
    write_as(u, inc, "# members\nptlocal1\n\"|id -un > %s/who\"\n" % w,
             0o644)
    inst.write_aliases({"inc": ":include:" + inc})
    res, log = inst.deliver(SENDER, ["inc@host.example"], MSG)
    # Commands in include files need the "include" class.
    assert res[0].status == "bounced" and res[0].dsn == "5.7.1", res
    assert "Return-Path" in spool(inst, "ptlocal1")
    inst.set(allow_mail_to_commands="alias, forward, include")
    res, log = inst.deliver(SENDER, ["inc@host.example"], MSG)
    assert res[0].status == "sent", res
    with open(os.path.join(w, "who")) as f:
        assert f.read().strip() == "ptlocal2"    # the file's owner
    os.chmod(inc, 0o646)
    res, log = inst.deliver(SENDER, ["inc@host.example"], MSG)
    assert res[0].status == "bounced" and res[0].dsn == "5.3.5"
    inst.write_aliases({"inc": ":include:/nonexistent/list"})
    res, log = inst.deliver(SENDER, ["inc@host.example"], MSG)
    assert res[0].status == "bounced"
    assert "cannot open include file /nonexistent/list" in res[0].reason


# ---------------------------------------------------------------- .forward

def test_dotforward(inst):
    u = inst.users["ptlocal1"]
    out = os.path.join(u.pw_dir, "fwd.out")
    write_as(u, os.path.join(u.pw_dir, ".forward"),
             "# keep a copy\n\\ptlocal1, \"|cat > %s\"\n"
             "elsewhere@remote.example\n" % out)
    res, log = inst.deliver(SENDER, ["ptlocal1@host.example"], MSG)
    assert res[0].status == "sent", res
    assert "Return-Path" in spool(inst, "ptlocal1")
    assert os.stat(out).st_uid == u.pw_uid
    with open(out) as f:
        assert "Delivered-To: ptlocal1@host.example" in f.read()
    assert [p for t, p in inst.fake.messages[0]["records"] if t == "R"] \
        == [b"elsewhere@remote.example"]
    os.unlink(out)


def test_dotforward_extension_and_self(inst):
    inst.set(recipient_delimiter="+")
    u = inst.users["ptlocal1"]
    write_as(u, os.path.join(u.pw_dir, ".forward+ext"), "ptlocal2\n")
    write_as(u, os.path.join(u.pw_dir, ".forward"), "ptlocal1\n")
    res, log = inst.deliver(SENDER, ["ptlocal1+ext@host.example"], MSG)
    assert res[0].status == "sent"
    assert os.path.exists(os.path.join(inst.spool, "ptlocal2"))
    assert not os.path.exists(os.path.join(inst.spool, "ptlocal1"))
    # .forward naming the user itself: the mailbox.
    res, log = inst.deliver(SENDER, ["ptlocal1@host.example"], MSG)
    assert res[0].status == "sent", res
    assert os.path.exists(os.path.join(inst.spool, "ptlocal1"))


def test_dotforward_unsafe_ignored(inst):
    u = inst.users["ptlocal1"]
    fwd = os.path.join(u.pw_dir, ".forward")
    write_as(u, fwd, "ptlocal2\n", 0o664)
    res, log = inst.deliver(SENDER, ["ptlocal1@host.example"], MSG)
    assert res[0].status == "sent"
    assert logs_with(log, "group or world writable -- ignored")
    assert os.path.exists(os.path.join(inst.spool, "ptlocal1"))
    assert not os.path.exists(os.path.join(inst.spool, "ptlocal2"))
    os.chown(fwd, 0, 0)
    os.chmod(fwd, 0o644)
    res, log = inst.deliver(SENDER, ["ptlocal1@host.example"], MSG)
    assert logs_with(log, "has bad owner uid 0 -- ignored")


def test_hostile_content(inst):
    big = "X-Long: " + "y" * 300000
    msg = big + "\nSubject: x\n\n" + "\0binary\x01\n" + "From " * 1000 + "\n"
    res, log = inst.deliver("evil\"sender@x", ["ptlocal1@host.example"],
                            msg)
    assert res[0].status == "sent", res
    box = spool(inst, "ptlocal1")
    assert big in box and "\0binary\x01" in box
    assert "Return-Path: <\"evil\\\"sender\"@x>" in box
    assert "\n>From From " in box
