"""Servers and clients the SMTP tests talk to, all on loopback.

Imported by tests ("from fixtures import ...") and by bench/run.py; the
pytest fixtures below are registered by conftest.py.  Every process and
thread started here is stopped at teardown (and, as a last resort, at
interpreter exit), even when the test fails.  Nothing here asks the
machine's resolver anything: every name a server announces is given.

  dns               dnsmasq on 127.53.N.1:53 with records the test sets
  sink, sinks       recording SMTP/LMTP server (aiosmtpd) with scripted
                    replies, drops and stalls
  smtp_sink         Postfix's smtp-sink (fast, counts messages)
  smtp_source()     Postfix's smtp-source (a load generator)
  policy_server,    Postfix policy delegation server with a scripted
  policy_servers    answer
  second_loopback   a client address other than 127.0.0.1

See doc comments of each class for its API; tests/integration/
test_fixtures.py shows every one in use.
"""
import asyncio
import atexit
import collections
import email
import email.policy
import ipaddress
import os
import random
import shutil
import signal
import smtplib
import socket
import socketserver
import struct
import subprocess
import tempfile
import threading
import time
from collections import namedtuple

import pytest

IS_ROOT = os.geteuid() == 0
CLIENT_HELO = "client.test.example"

# Processes started here, killed at exit if a teardown did not run.
_children = {}


def _kill_leftovers():
    for pid in list(_children):
        try:
            os.killpg(pid, signal.SIGKILL)
        except OSError:
            pass


atexit.register(_kill_leftovers)


def _spawn(argv, **kw):
    kw.setdefault("stdin", subprocess.DEVNULL)
    p = subprocess.Popen(argv, start_new_session=True, **kw)
    _children[p.pid] = p
    return p


def _reap(p, timeout=5):
    """Stop a process started by _spawn: SIGTERM, then SIGKILL; then
    SIGKILL to its process group (its own session), so that workers it
    forked (saslauthd's, dovecot's auth process) go too."""
    if p is None:
        return
    if p.poll() is None:
        try:
            p.terminate()
            p.wait(timeout)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait(timeout)
        except OSError:
            pass
    try:
        os.killpg(p.pid, signal.SIGKILL)
    except OSError:
        pass
    _children.pop(p.pid, None)


class SmtpClient:
    """A line-level SMTP client on loopback, from address source.  With
    greeting (the default) the greeting is read at connect (in
    .greeting).  send(data) writes bytes or text as they are (for
    pipelining and byte-exact tests); cmd(line) sends a line with CRLF and
    returns the reply as (code, text of all lines without their codes)."""

    def __init__(self, port, source="127.0.0.1", greeting=True, timeout=30):
        self.s = socket.create_connection(("127.0.0.1", port),
                                          timeout=timeout,
                                          source_address=(source, 0))
        self.buf = b""
        self.greeting = self.reply() if greeting else None

    def send(self, data):
        self.s.sendall(data if isinstance(data, bytes) else data.encode())

    def reply(self):
        """(code, full text) of one possibly multi-line reply."""
        lines = []
        while True:
            while b"\n" not in self.buf:
                chunk = self.s.recv(65536)
                if not chunk:
                    raise EOFError("connection closed after %r" % lines)
                self.buf += chunk
            line, self.buf = self.buf.split(b"\n", 1)
            line = line.rstrip(b"\r").decode("utf-8", "replace")
            lines.append(line)
            if len(line) < 4 or line[3] != "-":
                return int(line[:3]), "\n".join(l[4:] for l in lines)

    def cmd(self, line):
        self.send(line + "\r\n")
        return self.reply()

    def message(self, text):
        """DATA content (CRLF lines), then the final dot; the reply."""
        if not text.endswith("\r\n"):
            text += "\r\n"
        self.send(text + ".\r\n")
        return self.reply()

    def closed(self, timeout=5):
        """Did the server close the connection?"""
        self.s.settimeout(timeout)
        try:
            return self.s.recv(1) == b""
        except (ConnectionResetError, socket.timeout):
            return True

    def close(self):
        try:
            self.s.close()
        except OSError:
            pass


def wait_until(pred, timeout=30.0, interval=0.02, what="condition"):
    """Poll pred() until it returns a true value; fail after timeout."""
    deadline = time.time() + timeout
    while True:
        v = pred()
        if v:
            return v
        if time.time() > deadline:
            raise AssertionError("timed out waiting for %s" % what)
        time.sleep(interval)


def free_port(host="127.0.0.1"):
    """A TCP port on host that nothing listens on right now."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        s.bind((host, 0))
        return s.getsockname()[1]
    finally:
        s.close()


def _listening_inodes(host=None, port=None, path=None, udp=False):
    """Socket inodes listening on host:port (IPv4 TCP, or bound UDP) or
    on a UNIX path."""
    out = set()
    try:
        if path is None:
            want = "%s:%04X" % ("".join("%02X" % b for b in reversed(
                socket.inet_aton(host))), port)
            anyaddr = "00000000:%04X" % port
            state = "07" if udp else "0A"
            with open("/proc/net/udp" if udp else "/proc/net/tcp") as f:
                for line in f:
                    w = line.split()
                    if len(w) > 9 and w[3] == state and w[1] in (want,
                                                                  anyaddr):
                        out.add(w[9])
        else:
            with open("/proc/net/unix") as f:
                for line in f:
                    w = line.split()
                    if len(w) > 7 and w[-1] == path:
                        out.add(w[6])
    except OSError:
        pass
    return out


def _pid_listens(pid, host=None, port=None, path=None, udp=False):
    """True when process pid holds a socket listening there."""
    inodes = _listening_inodes(host, port, path, udp)
    if not inodes:
        return False
    d = "/proc/%d/fd" % pid
    try:
        for fd in os.listdir(d):
            try:
                link = os.readlink(os.path.join(d, fd))
            except OSError:
                continue
            if link.startswith("socket:[") and link[8:-1] in inodes:
                return True
    except OSError:
        pass
    return False


def _tempdir(prefix):
    d = tempfile.mkdtemp(prefix=prefix)
    # Daemons that dropped privileges (dnsmasq, chrooted clients of a
    # UNIX socket) must be able to reach files in here.
    os.chmod(d, 0o755)
    return d


# ======================================================================
# DNS: a raw query (no resolver library involved) and dnsmasq
# ======================================================================

QTYPES = {"A": 1, "NS": 2, "CNAME": 5, "SOA": 6, "PTR": 12, "MX": 15,
          "TXT": 16, "AAAA": 28, "SRV": 33, "TLSA": 52}
_QTYPE_NAMES = {v: k for k, v in QTYPES.items()}
RCODES = {0: "NOERROR", 1: "FORMERR", 2: "SERVFAIL", 3: "NXDOMAIN",
          4: "NOTIMP", 5: "REFUSED"}


def _dns_name(name):
    out = b""
    for label in name.rstrip(".").split("."):
        if label:
            out += bytes([len(label)]) + label.encode()
    return out + b"\0"


def _dns_read_name(msg, off):
    labels, end = [], None
    for _ in range(128):
        n = msg[off]
        if n & 0xC0 == 0xC0:
            if end is None:
                end = off + 2
            off = ((n & 0x3F) << 8) | msg[off + 1]
            continue
        off += 1
        if n == 0:
            break
        labels.append(msg[off:off + n].decode("ascii", "replace"))
        off += n
    return ".".join(labels), (end if end is not None else off)


def dns_query(server, name, qtype="A", port=53, timeout=2.0):
    """Ask server (UDP) for name/qtype directly, without the resolver.

    Returns (rcode, answers): rcode "NOERROR", "NXDOMAIN", "SERVFAIL", ...
    and answers a list of (name, type, value): value is an address string
    for A/AAAA, (preference, host) for MX, a name for PTR/CNAME/NS, a list
    of strings for TXT, and hex for anything else.
    """
    qid = random.randint(0, 65535)
    q = (struct.pack(">HHHHHH", qid, 0x0100, 1, 0, 0, 0) + _dns_name(name)
         + struct.pack(">HH", QTYPES[qtype.upper()], 1))
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(timeout)
    try:
        s.sendto(q, (server, port))
        while True:
            m, _ = s.recvfrom(65535)
            if struct.unpack(">H", m[:2])[0] == qid:
                break
    finally:
        s.close()
    return dns_parse(m)


def dns_parse(m):
    """(rcode, answers) of a DNS response message (see dns_query)."""
    _, flags, qd, an, _, _ = struct.unpack(">HHHHHH", m[:12])
    off = 12
    for _ in range(qd):
        _, off = _dns_read_name(m, off)
        off += 4
    answers = []
    for _ in range(an):
        rname, off = _dns_read_name(m, off)
        t, _, _, ln = struct.unpack(">HHIH", m[off:off + 10])
        off += 10
        rd = m[off:off + ln]
        if t == 1:
            v = socket.inet_ntop(socket.AF_INET, rd)
        elif t == 28:
            v = socket.inet_ntop(socket.AF_INET6, rd)
        elif t == 15:
            v = (struct.unpack(">H", rd[:2])[0], _dns_read_name(m, off + 2)[0])
        elif t in (2, 5, 12):
            v = _dns_read_name(m, off)[0]
        elif t == 16:
            v, i = [], 0
            while i < len(rd):
                v.append(rd[i + 1:i + 1 + rd[i]].decode("utf-8", "replace"))
                i += 1 + rd[i]
        else:
            v = rd.hex()
        off += ln
        answers.append((rname, _QTYPE_NAMES.get(t, t), v))
    return RCODES.get(flags & 15, flags & 15), answers


class _FakeUpstream:
    """A UDP 'name server' that answers every query with SERVFAIL, or
    (silent=True) never answers."""

    def __init__(self, silent=False):
        self.silent = silent
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.stopping = False
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        self.sock.settimeout(0.2)
        while not self.stopping:
            try:
                m, peer = self.sock.recvfrom(65535)
            except socket.timeout:
                continue
            except OSError:
                return
            if self.silent or len(m) < 12:
                continue
            # Same id and question, QR=1, RD/RA, RCODE=2.
            hdr = m[:2] + struct.pack(">HHHHH", 0x8182, 1, 0, 0, 0)
            try:
                self.sock.sendto(hdr + m[12:], peer)
            except OSError:
                pass

    def stop(self):
        self.stopping = True
        self.thread.join(2)
        self.sock.close()


class DnsServer:
    """dnsmasq answering on ADDR:53 (ADDR a free 127.53.N.1) from records
    the test sets; every other name is NXDOMAIN, a known name without the
    asked type is NODATA, and the machine's resolver is never consulted.

        dns.add_mx("example.test", "mx.example.test", 10)
        dns.add_a("mx.example.test", "127.0.0.1")
        dns.add_aaaa(name, addr); dns.add_ptr("127.0.0.2", "c.test")
        dns.add_txt("example.test", "v=spf1 -all"); dns.add_cname(a, b)
        dns.add_rr(name, type_number, hexdata)
        dns.servfail("broken.test")     # SERVFAIL for it and below
        dns.timeout("slow.test")        # no answer for it and below
        dns.remove(name); dns.clear()
        with dns.batch(): ...           # several changes, one restart
        dns.use(instance)               # queue/etc/resolv.conf -> ADDR
        dns.query("example.test", "MX") # -> ("NOERROR", [(n, "MX", (10, h))])
        dns.queries()                   # [("MX", "example.test"), ...]

    Each change rewrites dnsmasq's configuration file and restarts it
    (records in a configuration file are not reloaded by SIGHUP), so the
    next query sees it (a restart takes about 0.1 s).  add_a/add_aaaa
    make no PTR record unless ptr=True (then the address's PTR, if not
    set with add_ptr, names this host).  TTLs are 0.
    """

    def __init__(self, root=None):
        if not os.path.exists("/usr/sbin/dnsmasq"):
            pytest.skip("dnsmasq is not installed")
        if not IS_ROOT:
            pytest.skip("dnsmasq needs root to listen on port 53")
        self.root = root or _tempdir("postern-dns-")
        self.own_root = root is None
        self.conf = os.path.join(self.root, "dnsmasq.conf")
        self.pidfile = os.path.join(self.root, "dnsmasq.pid")
        # --no-daemon: dnsmasq logs (queries too) to stderr.
        self.logfile = os.path.join(self.root, "dnsmasq.log")
        self.records = []          # (name, dnsmasq option line)
        self.upstreams = []
        self.proc = None
        self.addr = None
        self._batch = 0
        self._dirty = False
        try:
            self.start()
        except BaseException:
            self.stop()
            raise

    # -- records -------------------------------------------------------
    def _add(self, name, line):
        self.records.append((name.lower().rstrip("."), line))
        self._changed()

    def add_mx(self, domain, host, pref=10):
        self._add(domain, "mx-host=%s,%s,%d" % (domain, host, pref))

    def _add_raw_address(self, name, rrtype, data):
        # dnsmasq does not count a name with only dns-rr records as
        # existing (other types would be NXDOMAIN); an empty NAPTR record
        # (a type no MTA asks for) makes them NODATA.
        marker = "naptr-record=%s,0,0,,," % name
        key = name.lower().rstrip(".")
        if (key, marker) not in self.records:
            self.records.append((key, marker))
        self._add(name, "dns-rr=%s,%d,%s" % (name, rrtype, data.hex()))

    def add_a(self, name, addr, ptr=False):
        ipaddress.IPv4Address(addr)
        if ptr:
            self._add(name, "host-record=%s,%s" % (name, addr))
        else:
            self._add_raw_address(name, 1, socket.inet_aton(addr))

    def add_aaaa(self, name, addr, ptr=False):
        ipaddress.IPv6Address(addr)
        if ptr:
            self._add(name, "host-record=%s,%s" % (name, addr))
        else:
            self._add_raw_address(name, 28,
                                  socket.inet_pton(socket.AF_INET6, addr))

    def add_ptr(self, addr, name):
        rev = ipaddress.ip_address(addr).reverse_pointer
        self._add(rev, "ptr-record=%s,%s" % (rev, name))

    def add_txt(self, name, text):
        """text: a string (split into 255-byte strings) or a list."""
        if isinstance(text, str):
            text = [text[i:i + 255] for i in range(0, len(text), 255)] or [""]
        parts = []
        for t in text:
            if '"' in t or "\\" in t or "\n" in t:
                raise ValueError("TXT text with quote/backslash/newline")
            parts.append('"%s"' % t)
        self._add(name, "txt-record=%s,%s" % (name, ",".join(parts)))

    def add_cname(self, alias, target):
        self._add(alias, "cname=%s,%s" % (alias, target))

    def add_rr(self, name, rrtype, hexdata):
        self._add(name, "dns-rr=%s,%d,%s" % (name, rrtype, hexdata))

    def servfail(self, domain):
        """Queries for domain (and below) get SERVFAIL."""
        up = _FakeUpstream(silent=False)
        self.upstreams.append(up)
        self._add(domain, "server=/%s/127.0.0.1#%d" % (domain, up.port))

    def timeout(self, domain):
        """Queries for domain (and below) are never answered."""
        up = _FakeUpstream(silent=True)
        self.upstreams.append(up)
        self._add(domain, "server=/%s/127.0.0.1#%d" % (domain, up.port))

    def remove(self, name):
        name = name.lower().rstrip(".")
        self.records = [r for r in self.records if r[0] != name]
        self._changed()

    def clear(self):
        self.records = []
        self._changed()

    def batch(self):
        dns = self

        class _Batch:
            def __enter__(self):
                dns._batch += 1
                return dns

            def __exit__(self, *exc):
                dns._batch -= 1
                if dns._batch == 0 and dns._dirty:
                    dns.reload()
        return _Batch()

    def _changed(self):
        self._dirty = True
        if self._batch == 0:
            self.reload()

    # -- process -------------------------------------------------------
    def _write_conf(self):
        with open(self.conf, "w") as f:
            f.write("# written by tests/integration/fixtures.py\n")
            for _, line in self.records:
                f.write(line + "\n")
            # Last: everything not answered above is NXDOMAIN.
            f.write("address=/#/\n")

    def _candidates(self):
        base = random.Random(os.getpid()).randrange(1, 250)
        for i in range(250):
            yield "127.53.%d.1" % ((base + i) % 250 + 1)

    @staticmethod
    def _addr_free(addr):
        for kind in (socket.SOCK_DGRAM, socket.SOCK_STREAM):
            s = socket.socket(socket.AF_INET, kind)
            try:
                s.bind((addr, 53))
            except OSError:
                return False
            finally:
                s.close()
        return True

    def _launch(self, addr):
        self._write_conf()
        for p in (self.pidfile,):
            if os.path.exists(p):
                os.unlink(p)
        err = open(self.logfile, "a")
        try:
            self.proc = _spawn(
                ["/usr/sbin/dnsmasq", "--no-resolv", "--no-hosts",
                 "--no-daemon", "--bind-interfaces",
                 "--listen-address=" + addr, "--port=53",
                 "--conf-file=" + self.conf, "--pid-file=" + self.pidfile,
                 "--log-queries", "--cache-size=0", "--local-ttl=0"],
                stdout=err, stderr=err)
        finally:
            err.close()
        deadline = time.time() + 10
        while time.time() < deadline:
            if self.proc.poll() is not None:
                _reap(self.proc)
                self.proc = None
                return False
            try:
                dns_query(addr, "probe.invalid", "A", timeout=0.2)
            except OSError:
                time.sleep(0.02)
                continue
            # It answers; make sure it is ours, not someone else's on
            # the same address.
            if _pid_listens(self.proc.pid, addr, 53, udp=True):
                return True
            time.sleep(0.02)
        raise AssertionError("dnsmasq on %s did not answer" % addr)

    def start(self):
        if self.addr is not None:
            if self._launch(self.addr):
                return
            raise AssertionError("dnsmasq could not restart on %s:\n%s"
                                 % (self.addr, self.errors()))
        for addr in self._candidates():
            if self._addr_free(addr) and self._launch(addr):
                self.addr = addr
                return
        raise AssertionError("no free 127.53.N.1 for dnsmasq:\n%s"
                             % self.errors())

    def reload(self):
        """Apply the current records: restart dnsmasq on the same address."""
        self._dirty = False
        _reap(self.proc)
        self.proc = None
        self.start()

    def stop(self):
        _reap(self.proc)
        self.proc = None
        for up in self.upstreams:
            up.stop()
        self.upstreams = []
        if self.own_root:
            shutil.rmtree(self.root, ignore_errors=True)

    def errors(self):
        try:
            with open(self.logfile, errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    # -- clients -------------------------------------------------------
    def resolv_conf(self):
        return ("nameserver %s\noptions attempts:1 timeout:1\n" % self.addr)

    def write_resolv_conf(self, path):
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as f:
            f.write(self.resolv_conf())
        os.chmod(path, 0o644)
        return path

    def use(self, instance):
        """Point an Instance's daemons at this server: write
        queue_directory/etc/resolv.conf (what a chrooted daemon reads as
        /etc/resolv.conf).  Call before instance.start()."""
        queue = instance.params["queue_directory"]
        d = os.path.join(queue, "etc")
        os.makedirs(d, exist_ok=True)
        os.chmod(queue, 0o755)
        os.chmod(d, 0o755)
        return self.write_resolv_conf(os.path.join(d, "resolv.conf"))

    def query(self, name, qtype="A", timeout=2.0):
        return dns_query(self.addr, name, qtype, timeout=timeout)

    def queries(self):
        """[(qtype, name)] of every query dnsmasq got so far."""
        out = []
        try:
            with open(self.logfile, errors="replace") as f:
                for line in f:
                    i = line.find(" query[")
                    if i < 0:
                        continue
                    rest = line[i + 7:]
                    qtype, _, rest = rest.partition("] ")
                    name = rest.split(" ", 1)[0]
                    if name != "probe.invalid":
                        out.append((qtype, name))
        except OSError:
            pass
        return out


# ======================================================================
# SMTP / LMTP sink (aiosmtpd)
# ======================================================================

DROP = "<drop connection>"      # close the connection instead of replying
STALL = "<stall>"               # never reply; keep the connection open

DEFAULT_EXTENSIONS = ("PIPELINING", "SIZE 10240000", "ENHANCEDSTATUSCODES",
                      "8BITMIME", "DSN", "SMTPUTF8", "CHUNKING")

Command = namedtuple("Command", "conn line pipelined")
AuthEvent = namedtuple("AuthEvent", "conn mechanism user ok")


class Transaction:
    """One mail transaction the sink saw through to the end of its data.

    conn       connection number (1 = the first connection)
    peer       (client address, port), or the socket path for UNIX
    helo       the EHLO/HELO/LHLO argument;  helo_verb: "EHLO", ...
    mail_from  the reverse path ("" for <>);  mail_params: {"SIZE": "123",
               "BODY": "8BITMIME", "RET": "HDRS", "SMTPUTF8": True, ...}
    rcpts      recipients accepted at RCPT, in order;  rcpt_params:
               {rcpt: {"NOTIFY": "SUCCESS,FAILURE", "ORCPT": ...}}
    rejected   {rcpt: reply} for RCPTs answered with a non-2xx reply
    data       the message as received (dot-unstuffed bytes, CRLF lines)
    via        "DATA" or "BDAT"
    reply      the final reply (SMTP); replies: {rcpt: reply} (LMTP, and
               for SMTP every rcpt gets the one reply)
    accepted   recipients whose final reply was 2xx
    when       time.monotonic() when the data was complete
    auth_user  the user the client logged in as (AUTH), or None
    """

    def __init__(self, conn, peer, helo, helo_verb):
        self.conn = conn
        self.peer = peer
        self.helo = helo
        self.helo_verb = helo_verb
        self.mail_from = None
        self.mail_args = ""
        self.mail_params = {}
        self.rcpts = []
        self.rcpt_params = {}
        self.rejected = {}
        self.data = b""
        self.via = None
        self.reply = None
        self.replies = {}
        self.accepted = []
        self.when = None
        self.auth_user = None

    @property
    def message(self):
        return email.message_from_bytes(self.data, policy=email.policy.default)

    @property
    def text(self):
        return self.data.decode("utf-8", "replace")

    def __repr__(self):
        return "<Transaction conn=%d from=<%s> to=%s %d bytes %s>" % (
            self.conn, self.mail_from, self.rcpts, len(self.data), self.reply)


class Ctx:
    """What a reply callable gets: the sink, the connection number, the
    command argument, the address and parameters (MAIL, RCPT) and the
    transaction so far (ctx.tx; complete at "DOT")."""

    def __init__(self, sink, conn, stage, arg=None, address=None,
                 params=None, tx=None):
        self.sink, self.conn, self.stage = sink, conn, stage
        self.arg, self.address, self.params, self.tx = (arg, address,
                                                        params, tx)


def _parse_path(arg):
    """'<a@b> P=1 Q' -> ('a@b', 'P=1 Q'); None when malformed."""
    arg = arg.lstrip()
    if arg.startswith("<"):
        i, quoted = 1, False
        while i < len(arg):
            c = arg[i]
            if c == "\\" and quoted:
                i += 2
                continue
            if c == '"':
                quoted = not quoted
            elif c == ">" and not quoted:
                return arg[1:i], arg[i + 1:].strip()
            i += 1
        return None
    addr, _, rest = arg.partition(" ")
    return addr, rest.strip()


def _parse_params(text):
    out = {}
    for word in text.split():
        k, eq, v = word.partition("=")
        out[k.upper()] = v if eq else True
    return out


def _make_protocol_class():
    from aiosmtpd.smtp import SMTP

    class SinkSMTP(SMTP):
        # Record what clients send, do not police it: long lines and
        # commands are accepted.
        line_length_limit = 1 << 20
        command_size_limit = 1 << 16

        def __init__(self, sink, loop):
            self.sink = sink
            auth = {}
            if sink.auth is not None:
                auth = dict(auth_require_tls=False,
                            authenticator=self._check_login)
            super().__init__(_NoHandler(), hostname=sink.hostname,
                             ident="ESMTP postern-test-sink",
                             enable_SMTPUTF8=True, decode_data=False,
                             data_size_limit=None, timeout=sink.timeout,
                             loop=loop,
                             tls_context=(None if sink.implicit_tls
                                          else sink.tls_context),
                             **auth)
            # Only the mechanisms the sink advertises are accepted.
            self._auth_methods = {
                k: v for k, v in self._auth_methods.items()
                if sink.auth is not None and k in sink.auth_mechanisms}
            self.command_size_limits = collections.defaultdict(
                lambda: 1 << 16)
            self.conn = 0
            self.tx = None
            self.helo = None
            self.helo_verb = None
            self.bdat = None
            self._wrap_commands()

        # -- bookkeeping --------------------------------------------
        def _wrap_commands(self):
            def wrap(name, method):
                async def logged(arg):
                    buffered = len(getattr(self._reader, "_buffer", b""))
                    line = name if arg is None else "%s %s" % (name, arg)
                    self.sink._record_command(self.conn, line, buffered > 0)
                    return await method(arg)
                return logged
            allowed = {"LHLO"} if self.sink.lmtp else {"EHLO", "HELO"}
            methods = {}
            for name, m in self._smtp_methods.items():
                if name in ("EHLO", "HELO", "LHLO") and name not in allowed:
                    continue
                methods[name] = wrap(name, m)
            self._smtp_methods = methods

        def connection_made(self, transport):
            first = self.transport is None
            super().connection_made(transport)
            if first:
                self.conn = self.sink._new_connection(self)

        def connection_lost(self, error):
            self.sink._lost_connection(self)
            super().connection_lost(error)

        async def _decide(self, stage, default, **kw):
            """The reply for stage: the test's choice or default.  Returns
            None after handling DROP/STALL (the caller just returns)."""
            r = self.sink._choice(stage, Ctx(self.sink, self.conn, stage,
                                             **kw))
            if r is None:
                r = default
            return await self._act(r)

        async def _act(self, r):
            if r == DROP:
                self.sink._log("conn %d: dropped" % self.conn)
                if self.transport is not None:
                    self.transport.close()
                await asyncio.sleep(3600)  # cancelled by connection_lost
                return None
            if r == STALL:
                self.sink._log("conn %d: stalled" % self.conn)
                await asyncio.sleep(10 ** 6)
                return None
            return r

        async def push_reply(self, r):
            lines = r.split("\n")
            for i, line in enumerate(lines):
                if i < len(lines) - 1 and len(line) > 3 and line[3] == " ":
                    line = line[:3] + "-" + line[4:]
                await self.push(line)

        # -- connection ---------------------------------------------
        async def _handle_client(self):
            greeting = "220 %s ESMTP postern-test-sink" % self.sink.hostname
            if self.sink.lmtp:
                greeting = "220 %s LMTP postern-test-sink" % self.sink.hostname
            r = await self._decide("CONNECT", greeting)
            if r is None:
                return
            if r.startswith("220"):
                await self.push_reply(r)
                return await self._serve_commands()
            # Refused at the greeting: wait for QUIT (RFC 5321 3.1).
            await self.push_reply(r)
            while self.transport is not None:
                try:
                    line = await self._reader.readuntil()
                except (asyncio.IncompleteReadError, ConnectionError):
                    return
                cmd = line.strip().split(b" ")[0].upper()
                self.sink._record_command(self.conn, line.strip().decode(
                    "utf-8", "replace"), False)
                if cmd == b"QUIT":
                    await self.push("221 2.0.0 Bye")
                    self.transport.close()
                    return
                await self.push("503 5.5.1 Error: no service here")

        async def _serve_commands(self):
            # aiosmtpd's loop, minus its greeting (already sent).
            async def no_greeting(status):
                del self.push           # back to SMTP.push
            self.push = no_greeting
            await SMTP._handle_client(self)

        # -- AUTH (only when the sink was given auth=) ---------------
        def _check_login(self, server, session, envelope, mechanism, data):
            from aiosmtpd.smtp import AuthResult
            user = data.login.decode("utf-8", "replace")
            pw = data.password.decode("utf-8", "replace")
            ok = self.sink.auth.get(user) == pw
            self.sink._auth_event(self.conn, mechanism, user, ok)
            return AuthResult(success=ok, handled=False, auth_data=data)

        async def auth_CRAM__MD5(self, _, args):
            """CRAM-MD5 (RFC 2195): a challenge, "user hmac" back."""
            import hmac
            from aiosmtpd.smtp import AuthResult, MISSING
            if len(args) != 1:
                await self.push("501 5.5.4 No initial response allowed")
                return AuthResult(success=False, handled=True)
            chal = "<%d.%d@%s>" % (random.randint(1, 1 << 30),
                                   int(time.time()), self.sink.hostname)
            resp = await self.challenge_auth(chal)
            if resp is MISSING:
                return AuthResult(success=False, handled=True)
            user, _, digest = resp.decode("utf-8", "replace").rpartition(" ")
            pw = self.sink.auth.get(user)
            ok = pw is not None and hmac.compare_digest(
                digest, hmac.new(pw.encode(), chal.encode(),
                                 "md5").hexdigest())
            self.sink._auth_event(self.conn, "CRAM-MD5", user, ok)
            return AuthResult(success=ok, handled=False)

        async def smtp_AUTH(self, arg):
            r = self.sink._choice("AUTH", Ctx(self.sink, self.conn, "AUTH",
                                              arg=arg))
            if r is None:
                return await SMTP.smtp_AUTH(self, arg)
            r = await self._act(r)
            if r is None:
                return
            await self.push_reply(r)
            # A scripted 334: record the client's answer, then end it.
            while r.startswith("334"):
                try:
                    line = await self._reader.readline()
                except (asyncio.IncompleteReadError, ConnectionError):
                    return
                answer = line.strip().decode("utf-8", "replace")
                self.sink._auth_event(self.conn, "scripted", answer, False)
                if answer == "*":
                    return await self.push("501 5.7.0 Auth aborted")
                r = "535 5.7.8 Authentication credentials invalid"
                await self.push(r)

        # -- greeting commands --------------------------------------
        def _ehlo_lines(self):
            lines = ["250-" + self.sink.hostname]
            for ext in self.sink.extensions:
                lines.append("250-" + ext)
            lines[-1] = "250 " + lines[-1][4:]
            return "\n".join(lines)

        async def _greet(self, verb, arg):
            if not arg:
                return await self.push("501 5.5.4 Syntax: %s hostname" % verb)
            default = ("250 " + self.sink.hostname if verb == "HELO"
                       else self._ehlo_lines())
            r = await self._decide("EHLO", default, arg=arg)
            if r is None:
                return
            if r.startswith("2"):
                self.session.host_name = arg
                self.session.extended_smtp = verb != "HELO"
                self.helo, self.helo_verb = arg, verb
                self.tx = None
            await self.push_reply(r)

        async def smtp_EHLO(self, arg):
            await self._greet("EHLO", arg)

        async def smtp_HELO(self, arg):
            await self._greet("HELO", arg)

        async def smtp_LHLO(self, arg):
            await self._greet("LHLO", arg)

        # -- the transaction ----------------------------------------
        def _has(self, ext):
            return any(e.split()[0].upper() == ext
                       for e in self.sink.extensions)

        def _size_limit(self):
            for e in self.sink.extensions:
                w = e.split()
                if w[0].upper() == "SIZE" and len(w) > 1 and w[1].isdigit():
                    return int(w[1]) or None
            return None

        def _unsupported(self, params, rcpt):
            need = {"SIZE": "SIZE", "BODY": "8BITMIME", "SMTPUTF8":
                    "SMTPUTF8", "RET": "DSN", "ENVID": "DSN", "AUTH": "AUTH",
                    "NOTIFY": "DSN", "ORCPT": "DSN"}
            for k, v in params.items():
                if k == "BODY" and str(v).upper() == "7BIT":
                    continue
                if k == "BODY" and str(v).upper() == "BINARYMIME":
                    if not self._has("BINARYMIME"):
                        return k
                    continue
                ext = need.get(k)
                if ext is None or (k in ("NOTIFY", "ORCPT")) != rcpt:
                    return k
                if not self._has(ext):
                    return k
            return None

        async def smtp_MAIL(self, arg):
            if not self.session.host_name:
                return await self.push("503 5.5.1 Error: send HELO/EHLO first")
            if self.tx is not None:
                return await self.push("503 5.5.1 Error: nested MAIL command")
            if self.sink.auth_required and not self.session.authenticated:
                self.sink._log("conn %d: MAIL without AUTH" % self.conn)
                return await self.push("530 5.7.0 Authentication required")
            if not arg or not arg[:5].upper() == "FROM:":
                return await self.push("501 5.5.4 Syntax: MAIL FROM:<address>")
            p = _parse_path(arg[5:])
            if p is None:
                return await self.push("501 5.1.7 Bad sender address syntax")
            addr, rest = p
            params = _parse_params(rest)
            bad = self._unsupported(params, rcpt=False)
            if bad and self.sink.strict:
                return await self.push(
                    "555 5.5.4 Unsupported option: %s" % bad)
            limit = self._size_limit()
            size = params.get("SIZE")
            if limit and isinstance(size, str) and size.isdigit() and \
                    int(size) > limit:
                return await self.push(
                    "552 5.3.4 Message size exceeds fixed limit")
            r = await self._decide("MAIL", "250 2.1.0 Ok", arg=arg,
                                   address=addr, params=params)
            if r is None:
                return
            if r.startswith("2"):
                tx = Transaction(self.conn, self.session.peer, self.helo,
                                 self.helo_verb)
                tx.mail_from, tx.mail_args, tx.mail_params = addr, rest, params
                if self.session.authenticated and self.session.login_data:
                    tx.auth_user = self.session.login_data.decode(
                        "utf-8", "replace")
                self.tx = tx
            await self.push_reply(r)

        async def smtp_RCPT(self, arg):
            if self.tx is None:
                return await self.push("503 5.5.1 Error: need MAIL command")
            if not arg or not arg[:3].upper() == "TO:":
                return await self.push("501 5.5.4 Syntax: RCPT TO:<address>")
            p = _parse_path(arg[3:])
            if p is None or not p[0]:
                return await self.push(
                    "501 5.1.3 Bad recipient address syntax")
            addr, rest = p
            params = _parse_params(rest)
            bad = self._unsupported(params, rcpt=True)
            if bad and self.sink.strict:
                return await self.push(
                    "555 5.5.4 Unsupported option: %s" % bad)
            ctx = Ctx(self.sink, self.conn, "RCPT", arg=arg, address=addr,
                      params=params, tx=self.tx)
            r = self.sink._rcpt_choice(self.sink.rcpt_replies, addr, ctx)
            if r is None:
                r = self.sink._choice("RCPT", ctx)
            r = await self._act(r if r is not None else "250 2.1.5 Ok")
            if r is None:
                return
            if r.startswith("2"):
                self.tx.rcpts.append(addr)
                self.tx.rcpt_params[addr] = params
            else:
                self.tx.rejected[addr] = r
            await self.push_reply(r)

        async def smtp_RSET(self, arg):
            r = await self._decide("RSET", "250 2.0.0 Ok", arg=arg)
            if r is None:
                return
            self.tx = None
            self.bdat = None
            await self.push_reply(r)

        async def smtp_QUIT(self, arg):
            r = await self._decide("QUIT", "221 2.0.0 Bye", arg=arg)
            if r is None:
                return
            await self.push_reply(r)
            self.transport.close()

        async def smtp_DATA(self, arg):
            if self.tx is None:
                return await self.push("503 5.5.1 Error: need MAIL command")
            if not self.tx.rcpts:
                return await self.push("554 5.5.1 Error: no valid recipients")
            if self.bdat is not None:
                return await self.push("503 5.5.1 Error: BDAT in progress")
            r = await self._decide("DATA",
                                   "354 End data with <CR><LF>.<CR><LF>",
                                   arg=arg, tx=self.tx)
            if r is None:
                return
            await self.push_reply(r)
            if not r.startswith("354"):
                return
            lines = []
            while True:
                try:
                    line = await self._reader.readuntil(b"\r\n")
                except asyncio.IncompleteReadError:
                    return
                except asyncio.LimitOverrunError as e:
                    lines.append(await self._reader.read(e.consumed))
                    continue
                if line == b".\r\n":
                    break
                if line.startswith(b"."):
                    line = line[1:]
                lines.append(line)
            self.tx.data = b"".join(lines)
            self.tx.via = "DATA"
            await self._finish()

        async def smtp_BDAT(self, arg):
            if not self._has("CHUNKING"):
                return await self.push(
                    '500 5.5.2 Error: command "BDAT" not recognized')
            words = (arg or "").split()
            if not words or not words[0].isdigit() or len(words) > 2 or (
                    len(words) == 2 and words[1].upper() != "LAST"):
                return await self.push("501 5.5.4 Syntax: BDAT count [LAST]")
            n = int(words[0])
            last = len(words) == 2
            try:
                chunk = await self._reader.readexactly(n)
            except asyncio.IncompleteReadError:
                return
            if self.tx is None or not self.tx.rcpts:
                self.bdat = None
                return await self.push(
                    "503 5.5.1 Error: need MAIL and RCPT commands")
            if self.bdat is None:
                self.bdat = []
            self.bdat.append(chunk)
            if not last:
                r = await self._decide("BDAT", "250 2.0.0 Ok: %d octets" % n,
                                       arg=arg, tx=self.tx)
                if r is None:
                    return
                return await self.push_reply(r)
            self.tx.data = b"".join(self.bdat)
            self.tx.via = "BDAT"
            self.bdat = None
            await self._finish()

        async def _finish(self):
            tx, self.tx = self.tx, None
            limit = self._size_limit()
            sink = self.sink
            if limit and len(tx.data) > limit:
                default = "552 5.3.4 Message size exceeds fixed limit"
            else:
                default = "250 2.0.0 Ok: queued as %05X" % (
                    sink._next_id() & 0xFFFFF)
            if not sink.lmtp:
                r = sink._choice("DOT", Ctx(sink, self.conn, "DOT", tx=tx))
                if r in (DROP, STALL):
                    sink._add_transaction(tx)
                    return await self._act(r)
                r = r or default
                tx.reply = r
                for rcpt in tx.rcpts:
                    tx.replies[rcpt] = r
                if r.startswith("2"):
                    tx.accepted = list(tx.rcpts)
                sink._add_transaction(tx)
                return await self.push_reply(r)
            # LMTP: one reply per accepted recipient.
            for rcpt in tx.rcpts:
                ctx = Ctx(sink, self.conn, "DOT", address=rcpt, tx=tx)
                r = sink._rcpt_choice(sink.lmtp_replies, rcpt, ctx)
                if r is None:
                    r = sink._choice("DOT", ctx)
                if r in (DROP, STALL):
                    sink._add_transaction(tx)
                    return await self._act(r)
                r = r or default
                tx.replies[rcpt] = r
                if r.startswith("2"):
                    tx.accepted.append(rcpt)
                await self.push_reply(r)
            tx.reply = tx.replies[tx.rcpts[-1]]
            sink._add_transaction(tx)

    return SinkSMTP


class _NoHandler:
    pass


class SmtpSink:
    """A recording SMTP (or LMTP) server on 127.0.0.1 (or host) and a free
    port, or on a UNIX socket (unix=path, or unix=True for one in a
    temporary directory).  Runs aiosmtpd in a thread of the test process.

        sink = sinks.start(lmtp=False, unix=None, host="127.0.0.1",
                           extensions=DEFAULT_EXTENSIONS, strict=True)
        sink.host, sink.port, sink.path, sink.relayhost "[127.0.0.1]:PORT",
        sink.nexthop ("inet:127.0.0.1:PORT" or "unix:/path", for lmtp:)

    Recording: sink.messages (Transactions with at least one recipient
    accepted at the end), sink.transactions (all that reached the end of
    their data), sink.connections (count), sink.commands (Command(conn,
    line, pipelined): pipelined means more input was already waiting when
    the command was read), sink.wait(n) (-> messages once there are n),
    sink.wait_connections(n), sink.reset().

    Behaviour (may change while it runs):
      sink.replies[STAGE] = reply | DROP | STALL | callable(ctx) -> one of
          those or None (the default reply);  STAGE is "CONNECT" (the
          greeting), "EHLO" (EHLO/HELO/LHLO: the whole reply), "MAIL",
          "RCPT", "DATA" (instead of 354), "BDAT" (non-last chunks),
          "DOT" (after the data; in LMTP per recipient), "RSET", "QUIT".
          A reply may have several lines separated by "\\n".
      sink.rcpt_replies["bob@x.test"] = "550 5.1.1 No such user"  (RCPT)
      sink.lmtp_replies["bob@x.test"] = "452 4.2.2 Over quota"  (LMTP DOT)
      sink.extensions = [...]; sink.hide("CHUNKING"); sink.advertise("X")
      sink.strict: reject MAIL/RCPT parameters of extensions not
          advertised (555), as a real server would (default True).

    SMTP AUTH (RFC 4954), when started with auth={"user": "password"}:
    "AUTH <auth_mechanisms>" is advertised (default PLAIN LOGIN; also
    CRAM-MD5) without TLS, logins are checked against the dict and
    recorded in sink.auth_events (AuthEvent(conn, mechanism, user, ok)),
    tx.auth_user names the user of a transaction, and with
    auth_required=True MAIL before AUTH gets "530 5.7.0 Authentication
    required".  sink.replies["AUTH"] = reply (or callable) answers AUTH
    with a scripted reply instead; after a scripted "334 ..." the
    client's next line is recorded as AuthEvent(conn, "scripted", line,
    False) and answered with 501 ("*") or 535.
    TLS: tls_context=ssl.SSLContext offers STARTTLS (aiosmtpd's); with
    implicit_tls=True the context wraps every connection from the first
    byte instead (port 465 style).  sink.tls_commands counts STARTTLS.
    """

    def __init__(self, host="127.0.0.1", port=0, lmtp=False, unix=None,
                 hostname=None, extensions=DEFAULT_EXTENSIONS, strict=True,
                 timeout=300, auth=None, auth_mechanisms=("PLAIN", "LOGIN"),
                 auth_required=False, tls_context=None, implicit_tls=False):
        self.lmtp = lmtp
        self.auth = dict(auth) if auth is not None else None
        self.auth_mechanisms = [m.upper() for m in auth_mechanisms]
        self.auth_required = auth_required
        self.auth_events = []
        self.hostname = hostname or ("lmtp-sink.test.example" if lmtp
                                     else "sink.test.example")
        self.extensions = list(extensions)
        self.tls_context = tls_context
        self.implicit_tls = implicit_tls
        if tls_context is not None and not implicit_tls:
            self.extensions.append("STARTTLS")
        if self.auth is not None:
            self.extensions.append("AUTH " + " ".join(self.auth_mechanisms))
        self.strict = strict
        self.timeout = timeout
        self.replies = {}
        self.rcpt_replies = {}
        self.lmtp_replies = {}
        self.messages = []
        self.transactions = []
        self.commands = []
        self.events = []
        self.connections = 0
        self.open_connections = 0
        self._protocols = set()
        self._lock = threading.Lock()
        self._ids = 0
        self.host = host
        self.port = port
        self.path = None
        self._tmp = None
        if unix is True:
            self._tmp = _tempdir("postern-sink-")
            unix = os.path.join(self._tmp, "lmtp.sock" if lmtp
                                else "smtp.sock")
        self.unix = unix
        self.loop = None
        self.thread = None
        self.server = None

    # -- life cycle ----------------------------------------------------
    def start(self):
        proto_cls = _make_protocol_class()
        self.loop = asyncio.new_event_loop()
        ready = threading.Event()
        failure = []

        def run():
            asyncio.set_event_loop(self.loop)
            try:
                factory = lambda: proto_cls(self, self.loop)  # noqa: E731
                if self.unix:
                    if os.path.exists(self.unix):
                        os.unlink(self.unix)
                    coro = self.loop.create_unix_server(factory, self.unix)
                else:
                    coro = self.loop.create_server(
                        factory, self.host, self.port,
                        family=socket.AF_INET, reuse_address=True,
                        ssl=(self.tls_context if self.implicit_tls
                             else None))
                self.server = self.loop.run_until_complete(coro)
            except Exception as e:      # noqa: BLE001
                failure.append(e)
                ready.set()
                return
            ready.set()
            self.loop.run_forever()
            # Stopped: cancel what is left, close the loop.
            tasks = asyncio.all_tasks(self.loop)
            for t in tasks:
                t.cancel()
            if tasks:
                self.loop.run_until_complete(
                    asyncio.gather(*tasks, return_exceptions=True))
            self.loop.close()

        self.thread = threading.Thread(target=run, daemon=True,
                                       name="smtp-sink")
        self.thread.start()
        ready.wait(10)
        if failure:
            raise failure[0]
        if self.unix:
            self.path = self.unix
            os.chmod(self.unix, 0o666)
        else:
            self.port = self.server.sockets[0].getsockname()[1]
        return self

    def stop(self):
        if self.loop is None or self.loop.is_closed():
            return

        async def shutdown():
            self.server.close()
            for p in list(self._protocols):
                if p.transport is not None:
                    p.transport.abort()
            await self.server.wait_closed()
        try:
            asyncio.run_coroutine_threadsafe(shutdown(), self.loop).result(5)
        except Exception:               # noqa: BLE001
            pass
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
        if self.unix and os.path.exists(self.unix):
            os.unlink(self.unix)
        if self._tmp:
            shutil.rmtree(self._tmp, ignore_errors=True)

    # -- addresses -----------------------------------------------------
    @property
    def relayhost(self):
        return "[%s]:%d" % (self.host, self.port)

    @property
    def nexthop(self):
        if self.path:
            return "unix:" + self.path
        return "inet:%s:%d" % (self.host, self.port)

    # -- behaviour -----------------------------------------------------
    def hide(self, *names):
        names = {n.upper() for n in names}
        self.extensions = [e for e in self.extensions
                           if e.split()[0].upper() not in names]

    def advertise(self, *exts):
        for e in exts:
            self.hide(e.split()[0])
            self.extensions.append(e)

    def _choice(self, stage, ctx):
        r = self.replies.get(stage)
        if callable(r):
            r = r(ctx)
        return r

    @staticmethod
    def _rcpt_choice(table, addr, ctx):
        r = table.get(addr)
        if r is None:
            r = table.get(addr.lower())
        if callable(r):
            r = r(ctx)
        return r

    # -- recording (called on the sink's thread) -----------------------
    def _log(self, what):
        with self._lock:
            self.events.append(what)

    def _auth_event(self, conn, mechanism, user, ok):
        with self._lock:
            self.auth_events.append(AuthEvent(conn, mechanism, user, ok))

    def _next_id(self):
        with self._lock:
            self._ids += 1
            return self._ids

    def _new_connection(self, proto):
        with self._lock:
            self._protocols.add(proto)
            self.connections += 1
            self.open_connections += 1
            return self.connections

    def _lost_connection(self, proto):
        with self._lock:
            if proto in self._protocols:
                self._protocols.discard(proto)
                self.open_connections -= 1

    def _record_command(self, conn, line, pipelined):
        with self._lock:
            self.commands.append(Command(conn, line, pipelined))

    def _add_transaction(self, tx):
        tx.when = time.monotonic()
        with self._lock:
            self.transactions.append(tx)
            if tx.accepted:
                self.messages.append(tx)

    # -- for tests -----------------------------------------------------
    def command_lines(self, conn=None):
        return [c.line for c in list(self.commands)
                if conn is None or c.conn == conn]

    def wait(self, n=1, timeout=30):
        """Wait until n messages were accepted; return the messages."""
        wait_until(lambda: len(self.messages) >= n, timeout,
                   what="%d message(s) at the sink (have %d)"
                   % (n, len(self.messages)))
        return list(self.messages)

    def wait_connections(self, n=1, timeout=30):
        wait_until(lambda: self.connections >= n, timeout,
                   what="%d connection(s) to the sink" % n)

    def wait_transactions(self, n=1, timeout=30):
        wait_until(lambda: len(self.transactions) >= n, timeout,
                   what="%d transaction(s) at the sink" % n)
        return list(self.transactions)

    def reset(self):
        with self._lock:
            self.messages = []
            self.transactions = []
            self.commands = []
            self.events = []


# ======================================================================
# Postfix's smtp-sink and smtp-source
# ======================================================================

class PostfixSmtpSink:
    """/usr/sbin/smtp-sink on host:port (a free port unless given), or on
    a UNIX socket.  It counts sessions and messages (-c); args are more
    smtp-sink options (e.g. ["-L"] for LMTP, ["-r", "RCPT"] to soft-reject
    recipients, ["-d", dir + "/%M."] to dump messages).

        s = PostfixSmtpSink(args=["-8"]).start()
        s.port; s.relayhost; s.messages; s.sessions; s.wait(n); s.stop()
    """

    BIN = "/usr/sbin/smtp-sink"

    def __init__(self, host="127.0.0.1", port=None, args=(), unix=None,
                 backlog=1024, hostname="smtp-sink.test.example"):
        if not os.path.exists(self.BIN):
            pytest.skip("smtp-sink (package postfix) is not installed")
        self.host = host
        self.port = port or free_port(host)
        self.unix = unix
        self.args = list(args)
        self.backlog = backlog
        self.hostname = hostname
        self.proc = None
        self.sessions = 0
        self.quits = 0
        self.messages = 0
        self.output = b""
        self._reader = None

    @property
    def relayhost(self):
        return "[%s]:%d" % (self.host, self.port)

    def start(self, timeout=10):
        argv = [self.BIN, "-c", "-h", self.hostname]
        if IS_ROOT:
            argv += ["-u", "nobody"]
        argv += self.args
        where = ("unix:" + self.unix if self.unix
                 else "%s:%d" % (self.host, self.port))
        argv += [where, str(self.backlog)]
        self.proc = _spawn(argv, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT)
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        pid = self.proc.pid
        deadline = time.time() + timeout
        while not _pid_listens(pid, self.host, self.port, self.unix):
            if self.proc.poll() is not None or time.time() > deadline:
                self.stop()
                raise AssertionError("smtp-sink did not start: %s"
                                     % self.output.decode(errors="replace"))
            time.sleep(0.01)
        return self

    def _read(self):
        buf = b""
        fd = self.proc.stdout.fileno()
        while True:
            try:
                chunk = os.read(fd, 65536)
            except OSError:
                return
            if not chunk:
                return
            buf += chunk
            self.output = (self.output + chunk)[-4096:]
            # "sess=N quit=N mesg=N\r" after each event
            *done, buf = buf.replace(b"\n", b"\r").split(b"\r")
            for rec in reversed(done):
                f = dict(w.split(b"=", 1) for w in rec.split() if b"=" in w)
                if b"mesg" in f:
                    try:
                        self.sessions = int(f[b"sess"])
                        self.quits = int(f[b"quit"])
                        self.messages = int(f[b"mesg"])
                    except (KeyError, ValueError):
                        continue
                    break

    def wait(self, n, timeout=60):
        wait_until(lambda: self.messages >= n, timeout,
                   what="%d message(s) at smtp-sink (have %d)"
                   % (n, self.messages))
        return self.messages

    def stop(self):
        _reap(self.proc)
        if self.proc is not None and self.proc.stdout:
            if self._reader:
                self._reader.join(2)
            self.proc.stdout.close()
        self.proc = None


def smtp_source_cmd(host, port=None, messages=1, sessions=1, size=None,
                    sender="source@source.test.example",
                    rcpt="sink@relay.test.example",
                    helo="source.test.example", lmtp=False, unix=None,
                    args=()):
    """argv for /usr/sbin/smtp-source.  -f sender -t rcpt -M helo
    (so smtp-source never asks for the machine's host name)."""
    argv = ["/usr/sbin/smtp-source"]
    if not unix:
        argv.append("-4")
    argv += ["-m", str(messages), "-s", str(sessions), "-f", sender,
             "-t", rcpt, "-M", helo]
    if size is not None:
        argv += ["-l", str(size)]
    if lmtp:
        argv.append("-L")
    argv += list(args)
    argv.append("unix:" + unix if unix else "%s:%d" % (host, port))
    return argv


def smtp_source(host, port=None, timeout=300, check=True, **kw):
    """Run smtp-source to completion; returns the CompletedProcess.

        smtp_source("127.0.0.1", port, messages=100, sessions=5, size=4096)
    """
    if not os.path.exists("/usr/sbin/smtp-source"):
        pytest.skip("smtp-source (package postfix) is not installed")
    argv = smtp_source_cmd(host, port, **kw)
    p = _spawn(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        out, err = p.communicate(timeout=timeout)
    finally:
        _reap(p)
    r = subprocess.CompletedProcess(argv, p.returncode, out.decode(
        errors="replace"), err.decode(errors="replace"))
    if check and r.returncode != 0:
        raise AssertionError("smtp-source failed (%d): %s%s"
                             % (r.returncode, r.stdout, r.stderr))
    return r


# ======================================================================
# Policy delegation server
# ======================================================================

class _ThreadedServer:
    """What the policy and socketmap test servers share: a socketserver
    in a thread, its open connections (closed at stop) and a temporary
    directory.  Subclasses set self.server, self.thread, self._tmp and
    keep self._conns under self._lock."""

    def start(self):
        self.thread.start()
        return self

    def stop(self):
        self._stopping.set()
        self.server.shutdown()
        self.server.server_close()
        with self._lock:
            conns = list(self._conns)
        for c in conns:
            try:
                c.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        self.thread.join(5)
        if self._tmp:
            shutil.rmtree(self._tmp, ignore_errors=True)


class PolicyServer(_ThreadedServer):
    """A Postfix policy server (SMTPD_POLICY_README protocol): requests
    are name=value lines ending with an empty line; the answer is
    "action=..." and an empty line.  Connections stay open for more
    requests, as smtpd keeps them.

        pol = policy_servers.start(answer="DUNNO", unix=None)
        pol.answer = lambda req: "REJECT no" if req["sender"] else "DUNNO"
        pol.address  "inet:127.0.0.1:PORT" or "unix:/path" (for
                      check_policy_service), pol.requests (list of dicts),
        pol.connections, pol.wait(n)

    answer: a string (the action), or callable(request dict) returning
    the action (with or without "action="), DROP (close the connection)
    or STALL (never answer).
    """

    def __init__(self, answer="DUNNO", host="127.0.0.1", unix=None):
        self.answer = answer
        self.requests = []
        self.connections = 0
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._conns = set()
        self._tmp = None
        if unix is True:
            self._tmp = _tempdir("postern-policy-")
            unix = os.path.join(self._tmp, "policy.sock")
        self.unix = unix
        outer = self

        class Handler(socketserver.StreamRequestHandler):
            def handle(self):
                with outer._lock:
                    outer.connections += 1
                    outer._conns.add(self.connection)
                try:
                    self._serve()
                finally:
                    with outer._lock:
                        outer._conns.discard(self.connection)

            def _serve(self):
                req = {}
                while not outer._stopping.is_set():
                    try:
                        line = self.rfile.readline(65536)
                    except OSError:
                        return
                    if not line:
                        return
                    line = line.decode("utf-8", "replace").rstrip("\r\n")
                    if line:
                        k, _, v = line.partition("=")
                        req[k] = v
                        continue
                    with outer._lock:
                        outer.requests.append(req)
                    a = outer.answer
                    a = a(req) if callable(a) else a
                    req = {}
                    if a == DROP:
                        return
                    if a == STALL:
                        outer._stopping.wait()
                        return
                    if not a.startswith("action="):
                        a = "action=" + a
                    try:
                        self.wfile.write((a + "\n\n").encode())
                        self.wfile.flush()
                    except OSError:
                        return

        if unix:
            if os.path.exists(unix):
                os.unlink(unix)

            class Server(socketserver.ThreadingMixIn,
                         socketserver.UnixStreamServer):
                daemon_threads = True
            self.server = Server(unix, Handler)
            os.chmod(unix, 0o666)
            self.address = "unix:" + unix
            self.path = unix
        else:
            class Server(socketserver.ThreadingMixIn,
                         socketserver.TCPServer):
                daemon_threads = True
                allow_reuse_address = True
            self.server = Server((host, 0), Handler)
            self.host, self.port = self.server.server_address
            self.address = "inet:%s:%d" % (self.host, self.port)
        self.thread = threading.Thread(target=self.server.serve_forever,
                                       kwargs={"poll_interval": 0.1},
                                       daemon=True, name="policy")

    def wait(self, n=1, timeout=30):
        wait_until(lambda: len(self.requests) >= n, timeout,
                   what="%d policy request(s)" % n)
        return list(self.requests)

    def stop(self):
        _ThreadedServer.stop(self)
        if self.unix and os.path.exists(self.unix):
            os.unlink(self.unix)


class SocketmapServer(_ThreadedServer):
    """A socketmap server (Sendmail's protocol, socketmap_table(5)): each
    request is a netstring "name key", each reply one netstring.

        sm = socketmaps.start(answer=lambda name, key: "OK " + key)
        sm.address   "inet:127.0.0.1:PORT" or "unix:/path" (add ":name"
                     for a socketmap: table), sm.requests [(name, key)],
                     sm.connections

    answer: callable(name, key) returning the reply text ("OK data",
    "NOTFOUND ", "TEMP reason", ...), bytes (sent as they are, not as a
    netstring: for malformed replies), DROP or STALL.
    """

    def __init__(self, answer=None, unix=None):
        self.answer = answer or (lambda name, key: "NOTFOUND ")
        self.requests = []
        self.connections = 0
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._conns = set()
        self._tmp = None
        outer = self

        def read_netstring(rfile):
            digits = b""
            while True:
                c = rfile.read(1)
                if not c:
                    return None
                if c == b":":
                    break
                if not c.isdigit() or len(digits) > 6:
                    return None
                digits += c
            data = rfile.read(int(digits or b"0"))
            if rfile.read(1) != b",":
                return None
            return data

        class Handler(socketserver.StreamRequestHandler):
            def handle(self):
                with outer._lock:
                    outer.connections += 1
                    outer._conns.add(self.connection)
                try:
                    while not outer._stopping.is_set():
                        try:
                            req = read_netstring(self.rfile)
                        except (OSError, ValueError):
                            return
                        if req is None:
                            return
                        name, _, key = req.decode("utf-8",
                                                  "replace").partition(" ")
                        with outer._lock:
                            outer.requests.append((name, key))
                        a = outer.answer(name, key)
                        if a == DROP:
                            return
                        if a == STALL:
                            outer._stopping.wait()
                            return
                        if isinstance(a, str):
                            b = a.encode()
                            a = b"%d:%s," % (len(b), b)
                        try:
                            self.wfile.write(a)
                            self.wfile.flush()
                        except OSError:
                            return
                finally:
                    with outer._lock:
                        outer._conns.discard(self.connection)

        if unix:
            self._tmp = _tempdir("postern-socketmap-")
            self.path = os.path.join(self._tmp, "map.sock")

            class Server(socketserver.ThreadingMixIn,
                         socketserver.UnixStreamServer):
                daemon_threads = True
            self.server = Server(self.path, Handler)
            os.chmod(self.path, 0o666)
            self.address = "unix:" + self.path
        else:
            class Server(socketserver.ThreadingMixIn,
                         socketserver.TCPServer):
                daemon_threads = True
                allow_reuse_address = True
            self.server = Server(("127.0.0.1", 0), Handler)
            self.port = self.server.server_address[1]
            self.address = "inet:127.0.0.1:%d" % self.port
        self.thread = threading.Thread(target=self.server.serve_forever,
                                       kwargs={"poll_interval": 0.1},
                                       daemon=True, name="socketmap")


# ======================================================================
# A client from another loopback address
# ======================================================================

class Loopback:
    """Connect from addr (default 127.0.0.2): a client outside
    mynetworks = 127.0.0.1/32, for example.

        c = second_loopback.smtp("127.0.0.1", port)   # smtplib.SMTP
        s = second_loopback.connect("127.0.0.1", port)  # plain socket
    """

    def __init__(self, addr="127.0.0.2"):
        self.addr = addr
        s = socket.socket()
        try:
            s.bind((addr, 0))
        except OSError as e:
            pytest.skip("cannot bind %s: %s" % (addr, e))
        finally:
            s.close()

    def smtp(self, host, port, local_hostname=CLIENT_HELO, timeout=30,
             lmtp=False):
        cls = smtplib.LMTP if lmtp else smtplib.SMTP
        c = cls(local_hostname=local_hostname, timeout=timeout,
                source_address=(self.addr, 0))
        c.connect(host, port)
        return c

    def connect(self, host, port, timeout=30):
        return socket.create_connection((host, port), timeout,
                                        source_address=(self.addr, 0))


class RawClient:
    """A line-level client, for what smtplib will not do (pipelining by
    hand, bare LF, BDAT, odd syntax).

        r = RawClient.tcp("127.0.0.1", port, source="127.0.0.2")
        r.reply()            # the greeting: ["220 ..."]
        r.cmd("EHLO x.test") # send a line, return the reply's lines
        r.send(b"MAIL FROM:<a@b>\r\nRCPT TO:<c@d>\r\n"); r.reply()
    """

    def __init__(self, sock, timeout=10):
        self.s = sock
        self.s.settimeout(timeout)
        self.buf = b""

    @classmethod
    def tcp(cls, host, port, source=None, timeout=10):
        kw = {"source_address": (source, 0)} if source else {}
        return cls(socket.create_connection((host, port), timeout, **kw),
                   timeout)

    @classmethod
    def unix(cls, path, timeout=10):
        s = socket.socket(socket.AF_UNIX)
        s.settimeout(timeout)
        s.connect(path)
        return cls(s, timeout)

    def send(self, data):
        self.s.sendall(data if isinstance(data, bytes) else data.encode())

    def line(self):
        while b"\n" not in self.buf:
            chunk = self.s.recv(65536)
            if not chunk:
                raise EOFError("connection closed; have %r" % self.buf)
            self.buf += chunk
        line, self.buf = self.buf.split(b"\n", 1)
        return line.rstrip(b"\r").decode("utf-8", "replace")

    def reply(self):
        """A whole (multi-line) reply: [lines]."""
        lines = [self.line()]
        while len(lines[-1]) > 3 and lines[-1][3] == "-":
            lines.append(self.line())
        return lines

    def cmd(self, text):
        self.send(text + "\r\n")
        return self.reply()

    def close(self):
        self.s.close()


def smtp_client(host, port, local_hostname=CLIENT_HELO, timeout=30,
                source=None):
    """smtplib.SMTP that does not ask the resolver for our own name."""
    kw = {"source_address": (source, 0)} if source else {}
    c = smtplib.SMTP(local_hostname=local_hostname, timeout=timeout, **kw)
    c.connect(host, port)
    return c


# ======================================================================
# pytest fixtures (registered by conftest.py)
# ======================================================================

class _Factory:
    def __init__(self, make):
        self._make = make
        self.made = []

    def start(self, *a, **kw):
        obj = self._make(*a, **kw)
        self.made.append(obj)
        return obj.start() or obj

    def stop_all(self):
        errors = []
        for obj in reversed(self.made):
            try:
                obj.stop()
            except Exception as e:      # noqa: BLE001
                errors.append(e)
        self.made = []
        if errors:
            raise errors[0]


@pytest.fixture
def dns():
    """A dnsmasq for this test (see DnsServer)."""
    d = DnsServer()
    try:
        yield d
    finally:
        d.stop()


@pytest.fixture
def sinks():
    """Factory: sinks.start(**SmtpSink options) -> a running SmtpSink."""
    f = _Factory(SmtpSink)
    try:
        yield f
    finally:
        f.stop_all()


@pytest.fixture
def sink(sinks):
    """A recording SMTP server on 127.0.0.1 (see SmtpSink)."""
    return sinks.start()


@pytest.fixture
def smtp_sink():
    """Factory: smtp_sink.start(args=[...]) -> a running PostfixSmtpSink."""
    f = _Factory(PostfixSmtpSink)
    try:
        yield f
    finally:
        f.stop_all()


@pytest.fixture
def policy_servers():
    """Factory: policy_servers.start(answer=..., unix=None|True|path)."""
    f = _Factory(PolicyServer)
    try:
        yield f
    finally:
        f.stop_all()


@pytest.fixture
def policy_server(policy_servers):
    """A policy server on 127.0.0.1 answering DUNNO (see PolicyServer)."""
    return policy_servers.start()


@pytest.fixture
def socketmaps():
    """Factory: socketmaps.start(answer=callable, unix=None|True)."""
    f = _Factory(SocketmapServer)
    try:
        yield f
    finally:
        f.stop_all()


@pytest.fixture
def second_loopback():
    return Loopback("127.0.0.2")
