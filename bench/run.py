#!/usr/bin/python3
"""Postern benchmarks, side by side with Postfix when it is installed.

  make bench                      all benchmarks
  bench/run.py --only local       one benchmark
  bench/run.py --only relay       SMTP in, SMTP out (needs smtpd, smtp)
  bench/run.py --only tables      postmap build and lookups, smtpd RCPT
  bench/run.py --only tls         TLS handshakes/s, relay over STARTTLS
  bench/run.py --messages 500     smaller run

local: messages/s from sendmail injection to Maildir (N messages of SIZE
bytes, injected by C concurrent sendmail processes, to one local user's
Maildir in mail_spool_directory).  The clock runs from the first
injection until the last message file is in the Maildir.  Both MTAs get
the same configuration shape, the same user and the same injector.

relay: messages/s through SMTP in and SMTP out.  Postfix's smtp-source
sends N messages of SIZE bytes (--relay-messages, --size), one per
connection, over S concurrent sessions (--relay-sessions 10,50) to the
MTA's smtpd on 127.0.0.1:PORT; the MTA relays everything (relayhost =
[127.0.0.1]:SINKPORT) to a Postfix smtp-sink of its own.  The clock runs
from smtp-source's start until the sink has counted every message; CPU
is that of the MTA's master and all its workers.  Postern's side needs
build/libexec/smtpd and smtp; its master.cf lines and extra main.cf
parameters can be changed (--postern-master-line, --postern-param).

tables: a hash: table of K keys (--table-keys, 1,000,000): the time
postmap takes to build it from its source file, lookups per second of
"postmap -q -" over Q keys (--table-queries; half found, half not), and
RCPT TO lookups per second through smtpd's check_recipient_access on the
same table (R pipelined RCPT commands over 4 sessions, --table-rcpts).
Postern's hash: is LMDB; Postfix's hash: is Berkeley DB, and its lmdb:
(package postfix-lmdb) is measured too when available.

tls: what TLS costs.  Handshakes per second: "openssl s_time -new" (four
at once, --tls-seconds each) against an smtpd service in wrapper mode
(implicit TLS, as on port 465) with a 2048-bit RSA certificate.  Relay
over STARTTLS: smtp-source sends --tls-messages messages to MTA instance
A, whose smtp client relays them with STARTTLS (smtp_tls_security_level
= encrypt) to instance B's smtpd (TLS level may), and B relays them in
plaintext to a Postfix smtp-sink; the same chain without TLS is the
baseline.  CPU is that of both instances.  Connection reuse is on, as by
default, so TLS costs a handshake per connection, not per message.

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
# smtp-sink / smtp-source wrappers shared with the integration tests.
sys.path.insert(0, os.path.join(REPO, "tests", "integration"))


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


def master_cf(base, extra):
    """base master.cf text without its "smtp inet" service (no port 25),
    with the services in extra (text) replacing any of the same name and
    type.  Continuation lines go with their service."""
    def key(line):
        w = line.split()
        if not line.strip() or line[0].isspace() or line.startswith("#") \
                or len(w) < 2:
            return None
        return (w[0], w[1])
    drop = {("smtp", "inet")} | {key(l) for l in extra.splitlines(True)}
    out, skipping = [], False
    for line in base.splitlines(True):
        k = key(line)
        if k is not None:
            skipping = k in drop
        elif line.strip() and line[0].isspace():
            pass                        # continuation: as its service
        else:
            skipping = False
        if not skipping:
            out.append(line)
    return "".join(out) + extra


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

    def setup(self, main_extra="", master_extra=""):
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
""".format(r=self.root, b=BUILD) + main_extra)
        with open(os.path.join(REPO, "conf", "master.cf")) as src:
            base = src.read()
        with open(os.path.join(etc, "master.cf"), "w") as dst:
            dst.write(master_cf(base, master_extra))
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

    def setup(self, main_extra="", master_extra=""):
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
""".format(r=self.root) + main_extra)
        with open("/etc/postfix/master.cf") as src:
            base = src.read()
        with open(os.path.join(etc, "master.cf"), "w") as dst:
            dst.write(master_cf(base, master_extra))
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


RELAY_SENDER = "bench@source.bench.example"
RELAY_RCPT = "sink@relay.bench.example"
# The same relay configuration for both MTAs.  No DNS: the relayhost is a
# bracketed address, clients are not looked up, all names are given.
RELAY_MAIN_CF = """mynetworks = 127.0.0.0/8
relayhost = [127.0.0.1]:{sink}
smtpd_peername_lookup = no
"""
POSTERN_RELAY_MASTER_CF = ["127.0.0.1:{port} inet n - y - - smtpd",
                           "smtp unix - - y - - smtp"]
POSTFIX_RELAY_MASTER_CF = ["127.0.0.1:{port} inet n - y - - smtpd"]


def relay_once(mta, sink, port, n, size, sessions):
    """smtp-source -> mta:port -> sink; returns the measurement."""
    from fixtures import smtp_source_cmd
    base = sink.messages
    cmd = smtp_source_cmd("127.0.0.1", port, messages=n, sessions=sessions,
                          size=size, sender=RELAY_SENDER, rcpt=RELAY_RCPT,
                          helo="source.bench.example")
    cpu0 = session_cpu(mta.master_pid())
    ru0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.time()
    r = subprocess.run(cmd, capture_output=True, text=True)
    t_inj = time.time() - t0
    if r.returncode != 0:
        raise RuntimeError("%s: smtp-source failed: %s%s"
                           % (mta.name, r.stdout, r.stderr[-500:]))
    ru1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    deadline = time.time() + max(600, n / 5)
    last, last_t = sink.messages, time.time()
    while sink.messages < base + n:
        now = time.time()
        if sink.messages != last:
            last, last_t = sink.messages, now
        if now > deadline or now - last_t > 120:
            raise RuntimeError("%s: the sink has %d of %d messages\n%s"
                               % (mta.name, sink.messages - base, n,
                                  tail(os.path.join(mta.root, "maillog"))))
        time.sleep(0.005)
    elapsed = time.time() - t0
    cpu = session_cpu(mta.master_pid()) - cpu0
    src_cpu = (ru1.ru_utime + ru1.ru_stime) - (ru0.ru_utime + ru0.ru_stime)
    return {"mta": mta.name, "messages": n, "sessions": sessions,
            "seconds": elapsed, "rate": n / elapsed,
            "inject_seconds": t_inj,
            "daemon_cpu_ms_per_msg": 1000 * cpu / n,
            "inject_cpu_ms_per_msg": 1000 * src_cpu / n}


def tail(path, n=20):
    try:
        with open(path, errors="replace") as f:
            return "".join(f.readlines()[-n:])
    except OSError:
        return "(no %s)" % path


def bench_relay(mta_cls, n, size, session_list, master_lines=None,
                params=()):
    """Run the relay benchmark for each session count; one MTA instance
    and one sink for all of them."""
    from fixtures import PostfixSmtpSink, free_port
    root = tempfile.mkdtemp(prefix="bench-relay-%s-" % mta_cls.name)
    os.chmod(root, 0o755)
    setgid_postern_tools()
    mta = mta_cls(root)
    sink = PostfixSmtpSink(hostname="sink.bench.example", backlog=1024)
    results = []
    try:
        sink.start()
        port = free_port("127.0.0.1")
        lines = master_lines or (POSTERN_RELAY_MASTER_CF
                                 if mta_cls is Postern
                                 else POSTFIX_RELAY_MASTER_CF)
        main = RELAY_MAIN_CF.format(sink=sink.port) + "".join(
            "%s\n" % p for p in params)
        mta.setup(main_extra=main, master_extra="".join(
            l.format(port=port) + "\n" for l in lines))
        wait_port("127.0.0.1", port, 30)
        # Warm up: start the daemons, fill caches.
        relay_once(mta, sink, port, 20, size, 2)
        for sessions in session_list:
            results.append(relay_once(mta, sink, port, n, size, sessions))
        return results
    finally:
        mta.stop()
        sink.stop()
        if os.environ.get("BENCH_KEEP"):
            print("kept", root)
        else:
            shutil.rmtree(root, ignore_errors=True)


def wait_port(host, port, timeout):
    import socket
    deadline = time.time() + timeout
    while True:
        try:
            socket.create_connection((host, port), 1).close()
            return
        except OSError:
            if time.time() > deadline:
                sys.exit("bench: nothing listens on %s:%d" % (host, port))
            time.sleep(0.05)


def report_relay(title, results):
    print("\n== %s" % title)
    by = {}
    for r in results:
        by.setdefault(r["sessions"], []).append(r)
        print("%-8s %3d sessions %6d msgs %7.2f s %8.1f msg/s  daemons "
              "%.2f ms CPU/msg, smtp-source %.2f ms CPU/msg"
              % (r["mta"], r["sessions"], r["messages"], r["seconds"],
                 r["rate"], r["daemon_cpu_ms_per_msg"],
                 r["inject_cpu_ms_per_msg"]))
    for sessions, rs in sorted(by.items()):
        rates = {r["mta"]: r["rate"] for r in rs}
        if "postern" in rates and "postfix" in rates:
            print("ratio postern/postfix at %d sessions: %.2fx"
                  % (sessions, rates["postern"] / rates["postfix"]))


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

# -- tables ----------------------------------------------------------------
def table_key(i):
    return "user%07d@d%03d.example" % (i, i % 997)


def write_table_source(path, n):
    with open(path, "w") as f:
        for start in range(0, n, 100000):
            f.write("".join("%s OK\n" % table_key(i)
                            for i in range(start, min(n, start + 100000))))


def query_keys(n, q):
    """q keys, half in the table, half not, in a fixed random order."""
    import random
    rnd = random.Random(4)
    keys = [table_key(rnd.randrange(n)) if i % 2 == 0 else
            "nobody%07d@d%03d.example" % (i, i % 997) for i in range(q)]
    return "".join(k + "\n" for k in keys)


def timed(cmd, **kw):
    t0 = time.time()
    r = subprocess.run(cmd, capture_output=True, **kw)
    if r.returncode not in (0, 1):
        raise RuntimeError("%s: %s" % (" ".join(cmd), r.stderr[-500:]))
    return time.time() - t0, r


def postmap_side(name, postmap, typ, base, src_text_path, keys_text):
    """Build a table with this postmap and query it; returns results."""
    d = os.path.join(base, name)
    os.makedirs(d)
    src = os.path.join(d, "access")
    shutil.copy(src_text_path, src)
    t_build, _ = timed(postmap + ["%s:%s" % (typ, src)])
    t_q, r = timed(postmap + ["-q", "-", "%s:%s" % (typ, src)],
                   input=keys_text.encode())
    found = r.stdout.count(b"\n")
    return {"name": name, "table": "%s:%s" % (typ, src), "build": t_build,
            "queries": keys_text.count("\n"), "found": found,
            "qrate": keys_text.count("\n") / t_q}


def rcpt_session(port, keys, batch=100):
    import socket
    s = socket.create_connection(("127.0.0.1", port), 30)
    f = s.makefile("rb")

    def reply():
        while True:
            line = f.readline()
            if not line:
                raise RuntimeError("connection closed")
            if line[3:4] != b"-":
                return int(line[:3])
    reply()
    s.sendall(b"EHLO bench.example\r\n")
    reply()
    s.sendall(b"MAIL FROM:<bench@bench.example>\r\n")
    if reply() != 250:
        raise RuntimeError("MAIL FROM refused")
    bad = 0
    for i in range(0, len(keys), batch):
        chunk = keys[i:i + batch]
        s.sendall(b"".join(b"RCPT TO:<%s>\r\n" % k.encode()
                           for k in chunk))
        for _ in chunk:
            if reply() != 250:
                bad += 1
    s.sendall(b"QUIT\r\n")
    s.close()
    return bad


def smtpd_side(mta_cls, table, keys, sessions=4):
    """RCPT TO lookups/s through check_recipient_access table."""
    from fixtures import free_port
    root = tempfile.mkdtemp(prefix="bench-tables-%s-" % mta_cls.name)
    os.chmod(root, 0o755)
    mta = mta_cls(root)
    port = free_port("127.0.0.1")
    main = ("mynetworks = 127.0.0.0/8\n"
            "smtpd_relay_restrictions = permit_mynetworks, reject\n"
            "smtpd_recipient_restrictions = check_recipient_access %s, "
            "permit\n"
            "smtpd_recipient_limit = 1000000\n"
            "smtpd_hard_error_limit = 1000\n" % table)
    if mta_cls is Postfix:
        main += "smtpd_recipient_overshoot_limit = 1000000\n"
    try:
        mta.setup(main_extra=main, master_extra=(
            "127.0.0.1:%d inet n - y - - smtpd\n" % port))
        wait_port("127.0.0.1", port, 30)
        rcpt_session(port, keys[:200])              # warm up
        per = [keys[i::sessions] for i in range(sessions)]
        t0 = time.time()
        with concurrent.futures.ThreadPoolExecutor(sessions) as ex:
            bad = sum(ex.map(lambda k: rcpt_session(port, k), per))
        elapsed = time.time() - t0
        if bad:
            raise RuntimeError("%s: %d RCPT TO not accepted" % (mta.name,
                                                                bad))
        return len(keys) / elapsed
    finally:
        mta.stop()
        shutil.rmtree(root, ignore_errors=True)


def bench_tables(n, q, rcpts, have_postfix, no_postern):
    base = tempfile.mkdtemp(prefix="bench-tables-")
    os.chmod(base, 0o755)
    try:
        src = os.path.join(base, "source")
        write_table_source(src, n)
        keys_text = query_keys(n, q)
        rcpt_keys = query_keys(n, rcpts).split()
        etc = os.path.join(base, "etc")
        os.makedirs(etc)
        with open(os.path.join(etc, "main.cf"), "w") as f:
            f.write("compatibility_level = 3.6\n")
        sides = []
        if not no_postern:
            sides.append(("postern hash (LMDB)", Postern, [os.path.join(
                BUILD, "bin", "postmap"), "-c", etc], "hash"))
        if have_postfix:
            sides.append(("postfix hash (BDB)", Postfix,
                          ["postmap", "-c", etc], "hash"))
            r = subprocess.run(["postconf", "-c", etc, "-m"],
                               capture_output=True, text=True)
            if "lmdb" in r.stdout.split():
                sides.append(("postfix lmdb", Postfix,
                              ["postmap", "-c", etc], "lmdb"))
        results = []
        for name, cls, cmd, typ in sides:
            res = postmap_side(name.split()[0] + "-" + typ, cmd, typ, base,
                               src, keys_text)
            res["label"] = name
            res["rcpt_rate"] = smtpd_side(cls, res["table"], rcpt_keys)
            results.append(res)
        print("\n== tables: %d keys; postmap -q - with %d keys (half "
              "found); %d RCPT TO through check_recipient_access, 4 "
              "sessions" % (n, q, rcpts))
        for r in results:
            print("%-20s build %6.2f s  postmap -q %9.0f lookups/s "
                  "(%d found)  smtpd %8.0f RCPT/s"
                  % (r["label"], r["build"], r["qrate"], r["found"],
                     r["rcpt_rate"]))
        return results
    finally:
        shutil.rmtree(base, ignore_errors=True)


# -- tls -------------------------------------------------------------------
def make_cert(d):
    """A self-signed 2048-bit RSA certificate for the bench host names."""
    cert, key = os.path.join(d, "cert.pem"), os.path.join(d, "key.pem")
    sh(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes",
        "-keyout", key, "-out", cert, "-days", "2", "-subj",
        "/CN=bench.test.example", "-addext",
        "subjectAltName=DNS:bench.test.example,DNS:localhost"])
    os.chmod(key, 0o600)
    return cert, key


def tls_server_params(cert, key):
    return ["smtpd_tls_cert_file = %s" % cert,
            "smtpd_tls_key_file = %s" % key,
            "smtpd_tls_security_level = may",
            "smtpd_tls_loglevel = 1"]


def smtpd_line(mta_cls, port, *opts):
    return "127.0.0.1:%d inet n - y - - smtpd%s" % (
        port, "".join(" -o %s" % o for o in opts))


def start_mta(mta_cls, root, main_lines, master_lines):
    os.makedirs(root)
    os.chmod(root, 0o755)
    mta = mta_cls(root)
    master = list(master_lines)
    if mta_cls is Postern:
        master.append("smtp unix - - y - - smtp")
    mta.setup(main_extra="".join("%s\n" % l for l in main_lines),
              master_extra="".join("%s\n" % l for l in master))
    return mta


def handshakes(mta_cls, base, cert, key, seconds, clients=4):
    """Full TLS handshakes per second against wrapper-mode smtpd."""
    from fixtures import free_port
    port = free_port("127.0.0.1")
    mta = start_mta(mta_cls, os.path.join(base, "hs-" + mta_cls.name),
                    ["smtpd_peername_lookup = no"] +
                    tls_server_params(cert, key),
                    [smtpd_line(mta_cls, port, "smtpd_tls_wrappermode=yes")])
    try:
        wait_port("127.0.0.1", port, 30)
        cmd = ["openssl", "s_time", "-connect", "127.0.0.1:%d" % port,
               "-new", "-time", str(seconds)]
        subprocess.run(cmd[:-1] + ["1"], capture_output=True)  # warm up
        cpu0 = session_cpu(mta.master_pid())
        procs = [subprocess.Popen(cmd, stdout=subprocess.PIPE,
                                  stderr=subprocess.STDOUT, text=True)
                 for _ in range(clients)]
        total = 0
        for p in procs:
            out = p.communicate(timeout=seconds + 120)[0]
            m = None
            for line in out.splitlines():
                w = line.split()
                # "N connections in T real seconds, ..."
                if len(w) > 3 and w[1] == "connections" and w[2] == "in" \
                        and w[0].isdigit():
                    m = int(w[0])
            if m is None:
                raise RuntimeError("%s: s_time said:\n%s"
                                   % (mta.name, out[-2000:]))
            total += m
        cpu = session_cpu(mta.master_pid()) - cpu0
        return {"mta": mta.name, "handshakes": total,
                "rate": total / seconds,
                "daemon_cpu_ms": 1000 * cpu / max(total, 1)}
    finally:
        mta.stop()


def tls_chain(mta_cls, base, cert, key, n, size, sessions, tls):
    """smtp-source -> A -> (STARTTLS or not) -> B -> smtp-sink."""
    from fixtures import PostfixSmtpSink, free_port, smtp_source_cmd
    tag = "%s-%s" % (mta_cls.name, "tls" if tls else "plain")
    pa, pb = free_port("127.0.0.1"), free_port("127.0.0.1")
    sink = PostfixSmtpSink(hostname="sink.bench.example", backlog=1024)
    sink.start()
    common = ["mynetworks = 127.0.0.0/8", "smtpd_peername_lookup = no"]
    a = b = None
    try:
        # Distinct names: a server that greets with the client's own
        # name is a mail loop.
        b = start_mta(mta_cls, os.path.join(base, tag + "-b"),
                      common + ["myhostname = b.bench.example",
                                "relayhost = [127.0.0.1]:%d" % sink.port] +
                      (tls_server_params(cert, key) if tls else []),
                      [smtpd_line(mta_cls, pb)])
        a = start_mta(mta_cls, os.path.join(base, tag + "-a"),
                      common + ["myhostname = a.bench.example",
                                "relayhost = [127.0.0.1]:%d" % pb] +
                      (["smtp_tls_security_level = encrypt",
                        "smtp_tls_loglevel = 1"] if tls else []),
                      [smtpd_line(mta_cls, pa)])
        wait_port("127.0.0.1", pa, 30)
        wait_port("127.0.0.1", pb, 30)
        results = []
        for count, sess in ((20, 2), (n, sessions)):     # warm-up, run
            base_n = sink.messages
            cmd = smtp_source_cmd("127.0.0.1", pa, messages=count,
                                  sessions=sess, size=size,
                                  sender=RELAY_SENDER, rcpt=RELAY_RCPT,
                                  helo="source.bench.example")
            cpu0 = (session_cpu(a.master_pid()) +
                    session_cpu(b.master_pid()))
            t0 = time.time()
            r = subprocess.run(cmd, capture_output=True, text=True)
            if r.returncode != 0:
                raise RuntimeError("%s: smtp-source failed: %s%s"
                                   % (tag, r.stdout, r.stderr[-500:]))
            last, last_t = sink.messages, time.time()
            while sink.messages < base_n + count:
                now = time.time()
                if sink.messages != last:
                    last, last_t = sink.messages, now
                if now - last_t > 120:
                    raise RuntimeError(
                        "%s: the sink has %d of %d messages\nA:\n%s\nB:\n%s"
                        % (tag, sink.messages - base_n, count,
                           tail(os.path.join(a.root, "maillog")),
                           tail(os.path.join(b.root, "maillog"))))
                time.sleep(0.005)
            elapsed = time.time() - t0
            cpu = (session_cpu(a.master_pid()) +
                   session_cpu(b.master_pid()) - cpu0)
            results.append({"mta": mta_cls.name, "tls": tls,
                            "messages": count, "sessions": sess,
                            "seconds": elapsed, "rate": count / elapsed,
                            "daemon_cpu_ms_per_msg": 1000 * cpu / count})
        if tls:
            with open(os.path.join(a.root, "maillog"),
                      errors="replace") as f:
                if "TLS connection established to" not in f.read():
                    raise RuntimeError("%s: A's log shows no TLS "
                                       "connection" % tag)
        return results[-1]
    finally:
        for m in (a, b):
            if m is not None:
                m.stop()
        sink.stop()


def bench_tls(classes, n, size, sessions, seconds):
    base = tempfile.mkdtemp(prefix="bench-tls-")
    os.chmod(base, 0o755)
    setgid_postern_tools()
    hs, relay = [], []
    try:
        cert, key = make_cert(base)
        for cls in classes:
            hs.append(handshakes(cls, base, cert, key, seconds))
            for tls in (False, True):
                relay.append(tls_chain(cls, base, cert, key, n, size,
                                       sessions, tls))
    finally:
        if os.environ.get("BENCH_KEEP"):
            print("kept", base)
        else:
            shutil.rmtree(base, ignore_errors=True)
    print("\n== tls: full handshakes/s, 4 x openssl s_time -new, %d s, "
          "wrapper-mode smtpd, RSA 2048" % seconds)
    for r in hs:
        print("%-8s %8.1f handshakes/s  daemons %.2f ms CPU/handshake"
              % (r["mta"], r["rate"], r["daemon_cpu_ms"]))
    if len(hs) == 2:
        print("ratio postern/postfix: %.2fx" % (hs[0]["rate"] /
                                                hs[1]["rate"]))
    print("\n== tls: relay smtp-source -> A -> B -> smtp-sink, %d x %d "
          "bytes, %d sessions, A->B plaintext or STARTTLS" % (n, size,
                                                             sessions))
    for r in relay:
        print("%-8s %-9s %7.2f s %8.1f msg/s  daemons (A+B) %.2f ms CPU/msg"
              % (r["mta"], "STARTTLS" if r["tls"] else "plaintext",
                 r["seconds"], r["rate"], r["daemon_cpu_ms_per_msg"]))
    rates = {(r["mta"], r["tls"]): r["rate"] for r in relay}
    for m in ("postern", "postfix"):
        if (m, True) in rates and (m, False) in rates:
            print("%s: STARTTLS at %.0f%% of plaintext"
                  % (m, 100 * rates[(m, True)] / rates[(m, False)]))
    if ("postern", True) in rates and ("postfix", True) in rates:
        print("ratio postern/postfix over STARTTLS: %.2fx"
              % (rates[("postern", True)] / rates[("postfix", True)]))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--only", default="local,relay,tables,tls",
                    help="comma-separated: local, relay, tables, tls")
    ap.add_argument("--messages", type=int, default=2000)
    ap.add_argument("--size", type=int, default=4096)
    ap.add_argument("--concurrency", type=int, default=8)
    ap.add_argument("--no-postfix", action="store_true")
    ap.add_argument("--no-postern", action="store_true",
                    help="run Postfix alone (to try the harness)")
    ap.add_argument("--relay-messages", type=int, default=10000)
    ap.add_argument("--relay-sessions", default="10,50",
                    help="comma-separated concurrent smtp-source sessions")
    ap.add_argument("--postern-master-line", action="append",
                    help="relay: a master.cf line for Postern instead of "
                    "the defaults (repeat; {port} is smtpd's port): %s"
                    % " / ".join(POSTERN_RELAY_MASTER_CF))
    ap.add_argument("--postern-param", action="append", default=[],
                    help="relay: 'name = value' added to Postern's main.cf")
    ap.add_argument("--table-keys", type=int, default=1000000)
    ap.add_argument("--table-queries", type=int, default=200000)
    ap.add_argument("--table-rcpts", type=int, default=100000)
    ap.add_argument("--tls-messages", type=int, default=5000)
    ap.add_argument("--tls-sessions", type=int, default=20)
    ap.add_argument("--tls-seconds", type=int, default=10)
    ap.add_argument("--as-user", action="store_true",
                    help="inject as an ordinary user (through postdrop)")
    a = ap.parse_args()
    if os.geteuid() != 0:
        sys.exit("bench: needs root (bench user, privilege separation)")
    have_postfix = (not a.no_postfix and os.path.exists("/usr/sbin/postfix")
                    and os.path.exists("/etc/postfix/master.cf"))
    which = a.only.split(",")
    unknown = set(which) - {"local", "relay", "tables", "tls"}
    if unknown:
        sys.exit("bench: unknown benchmark(s): %s" % ", ".join(unknown))
    if "local" in which:
        res = []
        if not a.no_postern:
            res.append(bench_local(Postern, a.messages, a.size,
                                   a.concurrency, a.as_user))
        if have_postfix:
            res.append(bench_local(Postfix, a.messages, a.size,
                                   a.concurrency, a.as_user))
        report("local delivery: sendmail -> Maildir, %d x %d bytes, %d "
               "injectors, injected as %s" % (a.messages, a.size,
                                             a.concurrency,
                                             BENCH_USER if a.as_user
                                             else "root"), res)

    if "relay" in which:
        sessions = [int(x) for x in a.relay_sessions.split(",")]
        have_tools = all(os.path.exists("/usr/sbin/" + t)
                         for t in ("smtp-source", "smtp-sink"))
        if not have_tools:
            sys.exit("bench: relay needs smtp-source and smtp-sink "
                     "(package postfix)")
        res = []
        missing = [d for d in ("smtpd", "smtp") if not os.path.exists(
            os.path.join(BUILD, "libexec", d))]
        if a.no_postern:
            pass
        elif missing:
            print("bench: relay: Postern has no %s yet in %s/libexec; "
                  "Postfix only" % (" or ".join(missing), BUILD))
        else:
            res += bench_relay(Postern, a.relay_messages, a.size, sessions,
                               a.postern_master_line, a.postern_param)
        if have_postfix:
            res += bench_relay(Postfix, a.relay_messages, a.size, sessions)
        report_relay("relay: smtp-source -> smtpd -> smtp -> smtp-sink, "
                     "%d x %d bytes, one message per connection"
                     % (a.relay_messages, a.size), res)

    if "tables" in which:
        bench_tables(a.table_keys, a.table_queries, a.table_rcpts,
                     have_postfix, a.no_postern)

    if "tls" in which:
        classes = ([] if a.no_postern else [Postern]) + (
            [Postfix] if have_postfix else [])
        bench_tls(classes, a.tls_messages, a.size, a.tls_sessions,
                  a.tls_seconds)


if __name__ == "__main__":
    main()
