"""Fixtures for Postern integration tests.

Every test gets a private Postern instance under its own temporary
directory: its own main.cf, master.cf, queue, mail spool and log, started
with "postern -c DIR start" and stopped (and, as a safety net, killed) at
the end of the test.  Nothing leaves loopback and no test asks the
machine's resolver anything.

Run as root (CI does): the instance then runs with real privilege
separation (mail_owner "postern", set-gid group "posterndrop"), and tests
create the recipient users they need.  As a normal user the instance runs
everything as that user, and tests that need root are skipped.
"""
import grp
import os
import pwd
import re
import shutil
import signal
import subprocess
import tempfile
import time

import pytest

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BUILD = os.environ.get("POSTERN_BUILD", os.path.join(REPO, "build"))
BIN = os.path.join(BUILD, "bin")
LIBEXEC = os.path.join(BUILD, "libexec")
IS_ROOT = os.geteuid() == 0
# Testing an ASan+UBSan build (make SANITIZE=1): daemons write sanitizer
# reports into their working directory (the queue directory, also inside
# the chroot), and each test fails if any report appears.
SANITIZE = BUILD.rstrip("/").endswith("-san")
SAN_OPTS = "log_path=sanitizer:detect_leaks=0:abort_on_error=1"
# POSTERN_VALGRIND=1: every daemon runs under valgrind (wrapper scripts
# in the instance's daemon_directory); a test fails on any memory error
# or definite leak in a daemon.  Slow: meant for "make valgrind-integration".
VALGRIND = os.environ.get("POSTERN_VALGRIND") == "1"
# Tests that look at worker processes by name, or need chroot, or kill
# processes at random, do not apply when every daemon is valgrind.
not_under_valgrind = pytest.mark.skipif(
    VALGRIND, reason="looks at daemon processes; not under valgrind")
if SANITIZE:
    os.environ["ASAN_OPTIONS"] = SAN_OPTS
    os.environ["UBSAN_OPTIONS"] = SAN_OPTS + ":print_stacktrace=1"

needs_root = pytest.mark.skipif(not IS_ROOT, reason="needs root")


def run(cmd, check=True, **kw):
    """Run a command, return CompletedProcess with text output."""
    kw.setdefault("capture_output", True)
    kw.setdefault("text", True)
    kw.setdefault("timeout", 120)
    r = subprocess.run(cmd, **kw)
    if check and r.returncode != 0:
        raise AssertionError("%s failed (%d):\nstdout: %s\nstderr: %s"
                             % (cmd, r.returncode, r.stdout, r.stderr))
    return r


def wait_for(pred, timeout=30.0, interval=0.05, what="condition"):
    """Poll pred() until it returns a true value; fail after timeout."""
    return wait_until(pred, timeout, interval, what)


def ensure_group(name):
    try:
        grp.getgrnam(name)
    except KeyError:
        run(["groupadd", "-r", name])


def ensure_user(name, home="/nonexistent", system=True, shell=None):
    try:
        pwd.getpwnam(name)
        return False
    except KeyError:
        args = ["useradd", "-M", "-d", home, "-U"]
        if system:
            args.append("-r")
        args += ["-s", shell or "/usr/sbin/nologin", name]
        run(args)
        return True


@pytest.fixture(scope="session")
def mail_accounts():
    """mail_owner and setgid_group exist (created when root)."""
    if IS_ROOT:
        ensure_group("posterndrop")
        ensure_user("postern")
        # The build tree's postdrop and postqueue become set-gid, as
        # "postern set-permissions" makes them after an install.
        gid = grp.getgrnam("posterndrop").gr_gid
        for name in ("postdrop", "postqueue"):
            p = os.path.join(BIN, name)
            if os.path.exists(p):
                os.chown(p, 0, gid)
                os.chmod(p, 0o2755)
    return True


class Users:
    """Recipient accounts with home directories under a temporary dir."""

    def __init__(self, base):
        self.base = base
        self.made = []

    def add(self, name):
        home = os.path.join(self.base, name)
        if IS_ROOT:
            try:
                pw = pwd.getpwnam(name)
                run(["usermod", "-d", home, name])
            except KeyError:
                run(["useradd", "-M", "-d", home, "-s", "/bin/sh", "-U",
                     name])
                self.made.append(name)
            pw = pwd.getpwnam(name)
            if os.path.exists(home):
                shutil.rmtree(home)
            os.makedirs(home)
            os.chown(home, pw.pw_uid, pw.pw_gid)
            os.chmod(home, 0o755)
            return pw
        return pwd.getpwuid(os.getuid())

    def cleanup(self):
        for name in self.made:
            subprocess.run(["userdel", name], capture_output=True)


@pytest.fixture(scope="session")
def users_base():
    base = tempfile.mkdtemp(prefix="postern-users-")
    os.chmod(base, 0o755)
    users = Users(base)
    yield users
    users.cleanup()
    shutil.rmtree(base, ignore_errors=True)


@pytest.fixture
def users(users_base):
    return users_base


MASTER_CF = """\
pickup    unix  n       -       y       60      1       pickup
cleanup   unix  n       -       y       -       0       cleanup
qmgr      unix  n       -       y       300     1       qmgr
rewrite   unix  -       -       y       -       -       trivial-rewrite
bounce    unix  -       -       y       -       0       bounce
defer     unix  -       -       y       -       0       bounce
trace     unix  -       -       y       -       0       bounce
showq     unix  n       -       y       -       -       showq
local     unix  -       n       n       -       -       local
proxymap  unix  -       -       n       -       -       proxymap
anvil     unix  -       -       y       -       1       anvil
"""


class Instance:
    """A private Postern instance in a temporary directory."""

    def __init__(self, root):
        self.root = root
        self.etc = os.path.join(root, "etc")
        self.queue = os.path.join(root, "queue")
        self.spool = os.path.join(root, "mail")
        self.maillog = os.path.join(root, "maillog")
        os.makedirs(self.etc)
        os.makedirs(self.spool)
        os.chmod(self.spool, 0o1777)
        self.params = {
            "queue_directory": self.queue,
            "daemon_directory": LIBEXEC,
            "command_directory": BIN,
            "data_directory": os.path.join(root, "data"),
            "maillog_file": self.maillog,
            "myhostname": "mx.test.example",
            "mydomain": "test.example",
            "mydestination": "$myhostname, localhost.$mydomain, localhost",
            "mail_spool_directory": self.spool,
            "alias_maps": "hash:%s/aliases" % self.etc,
            "alias_database": "hash:%s/aliases" % self.etc,
            "service_throttle_time": "2s",
            "inet_interfaces": "loopback-only",
            "inet_protocols": "ipv4",
        }
        if VALGRIND:
            self.setup_valgrind()
        if SANITIZE:
            self.params["import_environment"] = (
                "MAIL_CONFIG TZ LANG=C ASAN_OPTIONS UBSAN_OPTIONS")
        if not IS_ROOT:
            me = pwd.getpwuid(os.getuid()).pw_name
            self.params["mail_owner"] = me
            self.params["setgid_group"] = grp.getgrgid(os.getgid()).gr_name
            self.params["default_privs"] = me
        self.master_cf = MASTER_CF
        self.aliases = "postmaster: root\n"
        self.started = False
        self.sids = set()

    # -- valgrind --------------------------------------------------------
    def setup_valgrind(self):
        wrap = os.path.join(self.root, "vgbin")
        os.makedirs(wrap)
        self.vglogs = os.path.join(self.root, "vglogs")
        os.makedirs(self.vglogs)
        os.chmod(self.vglogs, 0o1777)
        for name in os.listdir(LIBEXEC):
            p = os.path.join(wrap, name)
            with open(p, "w") as f:
                f.write("#!/bin/sh\nexec valgrind -q --vgdb=no --error-exitcode=99 "
                        "--leak-check=full --errors-for-leak-kinds="
                        "definite --log-file=%s/%s.%%p %s/%s \"$@\"\n"
                        % (self.vglogs, name, LIBEXEC, name))
            os.chmod(p, 0o755)
        self.params["daemon_directory"] = wrap
        # Jailed daemons would not find valgrind's files in the chroot.
        self.master_cf = MASTER_CF.replace("       y       ",
                                           "       n       ")

    def valgrind_reports(self):
        out = []
        for n in sorted(os.listdir(self.vglogs)):
            with open(os.path.join(self.vglogs, n), errors="replace") as f:
                text = f.read()
            if text.strip():
                out.append("%s:\n%s" % (n, text[-3000:]))
        return out

    # -- configuration -------------------------------------------------
    def write_config(self):
        # Chrooted daemons read queue/etc/resolv.conf.  Unless a test's
        # DNS fixture wrote one, point them at an address where no DNS
        # server runs, so no test asks the machine's resolver anything;
        # postern check never replaces a copy newer than /etc's.
        jail_etc = os.path.join(self.queue, "etc")
        resolv = os.path.join(jail_etc, "resolv.conf")
        if not os.path.exists(resolv):
            os.makedirs(jail_etc, exist_ok=True)
            with open(resolv, "w") as f:
                f.write("nameserver 127.53.255.254\n"
                        "options attempts:1 timeout:1\n")
            future = time.time() + 10 * 365 * 86400
            os.utime(resolv, (future, future))
        with open(os.path.join(self.etc, "main.cf"), "w") as f:
            for k, v in self.params.items():
                f.write("%s = %s\n" % (k, v))
        with open(os.path.join(self.etc, "master.cf"), "w") as f:
            f.write(self.master_cf)
        with open(os.path.join(self.etc, "aliases"), "w") as f:
            f.write(self.aliases)
        if os.path.exists(os.path.join(BIN, "postalias")):
            self.cmd("postalias", os.path.join(self.etc, "aliases"))

    def cmd(self, name, *args, check=True, input=None, env=None, **kw):
        e = dict(os.environ)
        e["MAIL_CONFIG"] = self.etc
        if env:
            e.update(env)
        return run([os.path.join(BIN, name), "-c", self.etc] + list(args),
                   check=check, input=input, env=e, **kw)

    # -- life cycle ----------------------------------------------------
    def start(self):
        self.write_config()
        self.cmd("postern", "start")
        self.started = True
        wait_for(lambda: os.path.exists(
            os.path.join(self.queue, "public", "pickup")), 10,
            what="master sockets")
        # master calls setsid(): its session holds every worker.
        self.sids.add(self.master_pid())
        if SANITIZE:
            # Let jailed, unprivileged daemons write their reports.
            os.chmod(self.queue, 0o1777)

    def sanitizer_reports(self):
        out = []
        for d in (self.queue, os.getcwd()):
            try:
                names = os.listdir(d)
            except OSError:
                continue
            for n in names:
                if n.startswith("sanitizer."):
                    with open(os.path.join(d, n), errors="replace") as f:
                        out.append("%s:\n%s" % (n, f.read()))
                    os.unlink(os.path.join(d, n))
        return out

    def stop(self):
        if self.started:
            self.cmd("postern", "stop", check=False)
            self.started = False

    def reload(self):
        self.write_config()
        self.cmd("postern", "reload")

    def master_pid(self):
        try:
            with open(os.path.join(self.queue, "pid", "master.pid")) as f:
                return int(f.read().strip())
        except (OSError, ValueError):
            return None

    def processes(self, name=None):
        """Worker processes of this instance: [(pid, name)]."""
        out = []
        mpid = self.master_pid()
        if mpid is None:
            return out
        try:
            sid = os.getsid(mpid)
        except OSError:
            return out
        for d in os.listdir("/proc"):
            if not d.isdigit():
                continue
            pid = int(d)
            try:
                if os.getsid(pid) != sid or pid == mpid:
                    continue
                with open("/proc/%d/comm" % pid) as f:
                    comm = f.read().strip()
                if VALGRIND:
                    # valgrind runs the daemon: its name is in argv.
                    with open("/proc/%d/cmdline" % pid, "rb") as f:
                        for arg in f.read().split(b"\0"):
                            base = os.path.basename(arg.decode(
                                errors="replace"))
                            if os.path.dirname(arg) and base in \
                                    os.listdir(LIBEXEC):
                                comm = base
                                break
            except OSError:
                continue
            if name is None or comm == name:
                out.append((pid, comm))
        return out

    def kill_all(self):
        """Safety net: kill every session this instance's masters led."""
        for d in os.listdir("/proc"):
            if d.isdigit():
                try:
                    if os.getsid(int(d)) in self.sids:
                        os.kill(int(d), signal.SIGKILL)
                except OSError:
                    pass

    # -- mail ----------------------------------------------------------
    def sendmail(self, args, message, check=True, user=None):
        """Run sendmail with args, message on stdin (str or bytes)."""
        data = message.encode() if isinstance(message, str) else message
        cmd = [os.path.join(BIN, "sendmail"), "-C",
               os.path.join(self.etc, "main.cf")] + list(args)
        kw = {}
        if user is not None and IS_ROOT:
            pw = pwd.getpwnam(user)

            def demote():
                os.setgid(pw.pw_gid)
                os.setuid(pw.pw_uid)
            kw["preexec_fn"] = demote
        r = subprocess.run(cmd, input=data, capture_output=True,
                           timeout=60, env=dict(os.environ,
                                                MAIL_CONFIG=self.etc), **kw)
        if check and r.returncode != 0:
            raise AssertionError("sendmail failed (%d): %s"
                                 % (r.returncode, r.stderr.decode()))
        return r

    def log(self):
        try:
            with open(self.maillog, errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def wait_log(self, pattern, timeout=30, count=1):
        rx = re.compile(pattern)
        return wait_for(lambda: len(rx.findall(self.log())) >= count and
                        rx.findall(self.log()), timeout,
                        what="log line /%s/ (x%d)" % (pattern, count))

    def queue_files(self, queue):
        found = []
        d = os.path.join(self.queue, queue)
        for dirpath, _, files in os.walk(d):
            found += files
        return found

    def queue_empty(self):
        return not any(self.queue_files(q) for q in
                       ("maildrop", "incoming", "active", "deferred"))

    def wait_queue_empty(self, timeout=30):
        wait_for(self.queue_empty, timeout, what="empty queue")

    def mbox(self, user):
        p = os.path.join(self.spool, user)
        if not os.path.exists(p):
            return ""
        with open(p, errors="replace") as f:
            return f.read()


@pytest.fixture
def instance(mail_accounts):
    root = tempfile.mkdtemp(prefix="postern-test-")
    os.chmod(root, 0o755)
    inst = Instance(root)
    yield inst
    try:
        inst.stop()
    finally:
        inst.kill_all()
        warnings = [l for l in inst.log().splitlines()
                    if "panic:" in l]
        reports = inst.sanitizer_reports() if SANITIZE else []
        if VALGRIND:
            reports += inst.valgrind_reports()
        shutil.rmtree(root, ignore_errors=True)
        assert not warnings, "panics in the log:\n" + "\n".join(warnings)
        assert not reports, "sanitizer reports:\n" + "\n".join(reports)


# Servers and clients for SMTP tests (DNS, SMTP/LMTP sinks, policy server,
# smtp-sink/smtp-source, a second loopback address): see fixtures.py.
from fixtures import (dns, policy_server, policy_servers,  # noqa: E402,F401
                      second_loopback, sink, sinks, smtp_sink,
                      socketmaps, wait_until)
