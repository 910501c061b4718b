#!/usr/bin/python3
"""Postern benchmarks, side by side with Postfix when it is installed.

  make bench                      all benchmarks
  bench/run.py --only local       one benchmark
  bench/run.py --messages 500     smaller run

local: messages/s from sendmail injection to Maildir (N messages of SIZE
bytes, injected by C concurrent sendmail processes, to one local user's
Maildir in mail_spool_directory).  The clock runs from the first
injection until the last message file is in the Maildir.  Both MTAs get
the same configuration shape, the same user and the same injector.

Everything runs on loopback in temporary directories; nothing asks the
machine's resolver (myhostname is set, no DNS lookups are configured).
Needs root (to create the bench user and run privilege-separated MTAs).
"""
import argparse
import concurrent.futures
import os
import pwd
import resource
import shutil
import subprocess
import sys
import tempfile
import time

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
BUILD = os.environ.get("POSTERN_BUILD", os.path.join(REPO, "build"))
BENCH_USER = "pbench"


def sh(cmd, check=True, **kw):
    kw.setdefault("capture_output", True)
    kw.setdefault("text", True)
    r = subprocess.run(cmd, **kw)
    if check and r.returncode != 0:
        sys.exit("command failed: %s\n%s%s" % (cmd, r.stdout, r.stderr))
    return r


def ensure_user(name):
    try:
        return pwd.getpwnam(name)
    except KeyError:
        sh(["useradd", "-M", "-d", "/nonexistent", "-s", "/bin/sh", "-U",
            name])
        return pwd.getpwnam(name)


def make_maildir(base, pw):
    for sub in ("", "tmp", "new", "cur"):
        d = os.path.join(base, sub)
        os.makedirs(d, exist_ok=True)
        os.chown(d, pw.pw_uid, pw.pw_gid)
        os.chmod(d, 0o700)


def message(size, i):
    head = ("From: bench@test.example\nTo: %s@bench.test.example\n"
            "Subject: bench %d\n\n" % (BENCH_USER, i))
    line = "x" * 75 + "\n"
    body = line * max(1, (size - len(head)) // len(line))
    return (head + body).encode()


def count_files(d):
    try:
        return len(os.listdir(d))
    except OSError:
        return 0


def session_cpu(master_pid):
    """CPU seconds of a master and every process in its session."""
    tck = os.sysconf("SC_CLK_TCK")
    total = 0
    try:
        sid = os.getsid(master_pid)
    except OSError:
        return 0.0
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            if os.getsid(int(d)) != sid:
                continue
            with open("/proc/%s/stat" % d) as f:
                fields = f.read().rsplit(")", 1)[1].split()
            # utime stime cutime cstime are fields 14-17 (1-based)
            total += sum(int(x) for x in fields[11:15])
        except (OSError, ValueError):
            pass
    return total / tck


class MTA:
    name = "?"

    def __init__(self, root):
        self.root = root
        self.maildir = os.path.join(root, "Maildir", BENCH_USER)

    as_user = None

    def inject(self, data):
        kw = {}
        if self.as_user is not None:
            # user=/group= (not preexec_fn) keep subprocess's fast spawn.
            kw["user"] = self.as_user.pw_uid
            kw["group"] = self.as_user.pw_gid
            kw["extra_groups"] = []
        r = subprocess.run(self.sendmail_cmd() + [BENCH_USER], input=data,
                           capture_output=True, **kw)
        if r.returncode != 0:
            raise RuntimeError("sendmail: %s" % r.stderr.decode())


class Postern(MTA):
    name = "postern"

    def setup(self):
        etc = os.path.join(self.root, "etc")
        os.makedirs(etc)
        with open(os.path.join(etc, "main.cf"), "w") as f:
            f.write("""queue_directory = {r}/queue
daemon_directory = {b}/libexec
command_directory = {b}/bin
data_directory = {r}/data
myhostname = bench.test.example
mydestination = $myhostname, localhost
inet_interfaces = loopback-only
inet_protocols = ipv4
mail_spool_directory = {r}/Maildir/
alias_maps =
alias_database =
maillog_file = {r}/maillog
""".format(r=self.root, b=BUILD))
        with open(os.path.join(REPO, "conf", "master.cf")) as src, \
                open(os.path.join(etc, "master.cf"), "w") as dst:
            dst.write(src.read())
        self.etc = etc
        sh([os.path.join(BUILD, "bin", "postern"), "-c", etc, "start"])

    def sendmail_cmd(self):
        return [os.path.join(BUILD, "bin", "sendmail"), "-C",
                os.path.join(self.etc, "main.cf")]

    def master_pid(self):
        with open(os.path.join(self.root, "queue", "pid",
                               "master.pid")) as f:
            return int(f.read())

    def stop(self):
        sh([os.path.join(BUILD, "bin", "postern"), "-c", self.etc, "stop"],
           check=False)


class Postfix(MTA):
    name = "postfix"

    def setup(self):
        etc = os.path.join(self.root, "etc")
        os.makedirs(etc)
        os.makedirs(os.path.join(self.root, "queue"))
        os.makedirs(os.path.join(self.root, "data"))
        shutil.chown(os.path.join(self.root, "data"), "postfix")
        with open(os.path.join(etc, "main.cf"), "w") as f:
            f.write("""compatibility_level = 3.6
queue_directory = {r}/queue
data_directory = {r}/data
myhostname = bench.test.example
mydestination = $myhostname, localhost
inet_interfaces = loopback-only
inet_protocols = ipv4
mail_spool_directory = {r}/Maildir/
alias_maps =
alias_database =
maillog_file = {r}/maillog
maillog_file_prefixes = /tmp, /var
smtputf8_enable = no
biff = no
""".format(r=self.root))
        with open("/etc/postfix/master.cf") as src:
            lines = [l for l in src if not l.startswith("smtp      inet")]
        with open(os.path.join(etc, "master.cf"), "w") as dst:
            dst.write("".join(lines))
        self.etc = etc
        self.made_default = False
        if self.as_user is not None:
            # Postfix lets an ordinary user's sendmail use another
            # configuration only if the default main.cf lists it.
            default = "/etc/postfix/main.cf"
            if os.path.exists(default):
                sys.exit("bench: %s exists; --as-user would have to "
                         "change it" % default)
            with open(default, "w") as f:
                f.write("alternate_config_directories = %s\n" % etc)
            self.made_default = True
        sh(["postfix", "-c", etc, "set-permissions"], check=False)
        sh(["postfix", "-c", etc, "start"])

    def sendmail_cmd(self):
        return ["/usr/sbin/sendmail", "-C", self.etc]

    def master_pid(self):
        with open(os.path.join(self.root, "queue", "pid",
                               "master.pid")) as f:
            return int(f.read())

    def stop(self):
        sh(["postfix", "-c", self.etc, "stop"], check=False)
        if getattr(self, "made_default", False):
            os.unlink("/etc/postfix/main.cf")


def setgid_postern_tools():
    """The build tree's postdrop/postqueue, set-gid as after install."""
    import grp
    try:
        gid = grp.getgrnam("posterndrop").gr_gid
    except KeyError:
        sh(["groupadd", "-r", "posterndrop"])
        gid = grp.getgrnam("posterndrop").gr_gid
    try:
        pwd.getpwnam("postern")
    except KeyError:
        sh(["useradd", "-r", "-M", "-d", "/nonexistent", "-s",
            "/usr/sbin/nologin", "-U", "postern"])
    for name in ("postdrop", "postqueue"):
        p = os.path.join(BUILD, "bin", name)
        os.chown(p, 0, gid)
        os.chmod(p, 0o2755)


def bench_local(mta_cls, n, size, conc, as_user=False):
    root = tempfile.mkdtemp(prefix="bench-%s-" % mta_cls.name)
    os.chmod(root, 0o755)
    pw = ensure_user(BENCH_USER)
    setgid_postern_tools()
    mta = mta_cls(root)
    if as_user:
        mta.as_user = pw
    try:
        mta.setup()
        make_maildir(mta.maildir, pw)
        new = os.path.join(mta.maildir, "new")
        # Warm up: start the daemons, fill caches.
        for i in range(20):
            mta.inject(message(size, i))
        deadline = time.time() + 60
        while count_files(new) < 20 and time.time() < deadline:
            time.sleep(0.05)
        for f in os.listdir(new):
            os.unlink(os.path.join(new, f))
        # Messages as files; conc shell loops run sendmail on them, so
        # the injector costs little beside the MTA's own programs.
        mdir = os.path.join(root, "inject")
        os.makedirs(mdir)
        os.chmod(mdir, 0o755)
        for i in range(n):
            with open(os.path.join(mdir, "%06d" % i), "wb") as f:
                f.write(message(size, i))
        lists = [[] for _ in range(conc)]
        for i in range(n):
            lists[i % conc].append(os.path.join(mdir, "%06d" % i))
        cmd = " ".join("'%s'" % a for a in mta.sendmail_cmd())
        cpu0 = session_cpu(mta.master_pid())
        ru0 = resource.getrusage(resource.RUSAGE_CHILDREN)
        t0 = time.time()
        procs = []
        for files in lists:
            script = ("for f in %s; do %s %s < \"$f\" || echo FAIL; done"
                      % (" ".join(files), cmd, BENCH_USER))
            kw = {}
            if mta.as_user is not None:
                kw = {"user": pw.pw_uid, "group": pw.pw_gid,
                      "extra_groups": []}
            procs.append(subprocess.Popen(["/bin/sh", "-c", script],
                                          stdout=subprocess.PIPE,
                                          stderr=subprocess.STDOUT, **kw))
        for p in procs:
            out = p.communicate()[0]
            if b"FAIL" in out:
                raise RuntimeError("%s: injection failed: %s"
                                   % (mta.name, out[-300:]))
        t_inj = time.time() - t0
        deadline = time.time() + 600
        while count_files(new) < n:
            if time.time() > deadline:
                raise RuntimeError("%s: only %d of %d delivered"
                                   % (mta.name, count_files(new), n))
            time.sleep(0.01)
        elapsed = time.time() - t0
        ru1 = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = session_cpu(mta.master_pid()) - cpu0
        inj_cpu = (ru1.ru_utime + ru1.ru_stime) - (ru0.ru_utime +
                                                    ru0.ru_stime)
        return {"mta": mta.name, "messages": n, "seconds": elapsed,
                "rate": n / elapsed, "inject_seconds": t_inj,
                "daemon_cpu_ms_per_msg": 1000 * cpu / n,
                "inject_cpu_ms_per_msg": 1000 * inj_cpu / n}
    finally:
        mta.stop()
        if os.environ.get("BENCH_KEEP"):
            print("kept", root)
        else:
            shutil.rmtree(root, ignore_errors=True)


def report(title, results):
    print("\n== %s" % title)
    for r in results:
        print("%-8s %6d msgs %7.2f s %8.1f msg/s  daemons %.2f ms CPU/msg,"
              " injection %.2f ms CPU/msg"
              % (r["mta"], r["messages"], r["seconds"], r["rate"],
                 r["daemon_cpu_ms_per_msg"], r["inject_cpu_ms_per_msg"]))
    if len(results) == 2:
        print("ratio postern/postfix: %.2fx"
              % (results[0]["rate"] / results[1]["rate"]))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--only", default="local")
    ap.add_argument("--messages", type=int, default=2000)
    ap.add_argument("--size", type=int, default=4096)
    ap.add_argument("--concurrency", type=int, default=8)
    ap.add_argument("--no-postfix", action="store_true")
    ap.add_argument("--as-user", action="store_true",
                    help="inject as an ordinary user (through postdrop)")
    a = ap.parse_args()
    if os.geteuid() != 0:
        sys.exit("bench: needs root (bench user, privilege separation)")
    have_postfix = (not a.no_postfix and os.path.exists("/usr/sbin/postfix")
                    and os.path.exists("/etc/postfix/master.cf"))
    which = a.only.split(",")
    if "local" in which:
        res = [bench_local(Postern, a.messages, a.size, a.concurrency,
                           a.as_user)]
        if have_postfix:
            res.append(bench_local(Postfix, a.messages, a.size,
                                   a.concurrency, a.as_user))
        report("local delivery: sendmail -> Maildir, %d x %d bytes, %d "
               "injectors, injected as %s" % (a.messages, a.size,
                                             a.concurrency,
                                             BENCH_USER if a.as_user
                                             else "root"), res)


if __name__ == "__main__":
    main()
