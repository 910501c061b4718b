"""The queue manager (qmgr(8)) scheduling real deliveries through the
smtp(8) client to SMTP servers on loopback.

Covered: the per-destination concurrency limit (default_ and
smtp_destination_concurrency_limit) under a backlog, the recipient limit
per delivery, slow start (initial_destination_concurrency), dead
destinations (the failed cohort limit: a next hop that answers 421 or
refuses connections costs one connection, the rest of its mail is
deferred, other destinations go on; postqueue -i and -f try it again; a
limit of 0 never gives up), delay warnings (delay_warning_time, exactly
one, none for NOTIFY without DELAY), maximal_queue_lifetime and
bounce_queue_lifetime (expiry, notice to the sender, no double bounce for
expired notices, the bounce lifetime capped by the other), postqueue
-s / -i / -f, DSN success notices for mail received by smtpd (relayed,
passed on to a DSN server, delivered locally), and the transport process
limit (master.cf maxproc, default_process_limit).

Servers: the recording aiosmtpd sink of fixtures.py, and CountingSink
below, a one-thread event-loop server that counts concurrent sessions
and transactions exactly and can hold its reply to the final dot until
the test releases it.  trivial-rewrite has no transport_maps yet, so
destinations other than relayhost's literal next hop are names in a
private dnsmasq (the `dns` fixture) pointing at different loopback
addresses on one port (smtp_tcp_port); nothing leaves loopback.
"""
import email
import email.policy
import heapq
import json
import re
import selectors
import smtplib
import socket
import threading
import time

import pytest

from conftest import VALGRIND, wait_for
from fixtures import free_port

CHROOT = "n" if VALGRIND else "y"
DOMAIN = "mx.test.example"

needs_jail = pytest.mark.skipif(
    VALGRIND, reason="needs a chrooted client to use the test DNS")


@pytest.fixture(autouse=True)
def no_daemon_errors(instance):
    """After each test: no fatal error or panic from qmgr, smtp, bounce."""
    yield
    bad = [l for l in instance.log().splitlines()
           if re.search(r"postfix/(smtp|qmgr|bounce|defer|trace)\[\d+\]: "
                        r"(fatal|panic):", l)]
    assert not bad, "\n".join(bad)


# -- a server that counts concurrency --------------------------------------
class CountingSink:
    """An SMTP server on one port of one or more loopback addresses that
    counts concurrency, for scheduling tests.

    A session lasts from the accept to QUIT (or the end of the
    connection); a transaction from MAIL FROM to the reply to the final
    dot.  Counters (read them under .cond): connections, sessions and
    max_sessions, active and max_active (transactions), waiting (replies
    to the dot being held), messages [(host, mail_from, [rcpts], data)].

    One thread serves every connection with one event loop, and in each
    round reads what clients sent before it accepts new connections.  The
    smtp client sends QUIT before it tells qmgr that a delivery is done,
    and only then can qmgr start the next one, so a QUIT is always
    counted before the connection it made room for (every accept() first
    reads what clients have sent by then): the maxima are exact (threads
    per connection would race here).

    hold(): replies to the dot wait until release(n) lets n of them go or
    release_all() stops holding.  delay: seconds before every reply to
    the dot.  greeting / greet_delay: the banner (a non-220 one refuses
    the session) and how long to wait before it.  dsn: offer DSN.
    """

    def __init__(self, hosts=("127.0.0.1",), port=0, dsn=False):
        self.hosts = list(hosts)
        self.host = self.hosts[0]
        self.dsn = dsn
        self.greeting = "220 counting.test.example ESMTP"
        self.greet_delay = 0.0
        self.delay = 0.0
        self.cond = threading.Condition()
        self.holding = False
        self.tokens = 0
        self.waiting = 0
        self.connections = 0
        self.sessions = 0
        self.max_sessions = 0
        self.active = 0
        self.max_active = 0
        self.messages = []
        self._held = []
        self._timers = []
        self._seq = 0
        self._conns = set()
        self._stopped = False
        self.listeners = []
        for h in self.hosts:
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind((h, port))
            s.listen(128)
            s.setblocking(False)
            port = s.getsockname()[1]
            self.listeners.append(s)
        self.port = port
        self._wake_r, self._wake_w = socket.socketpair()
        self._wake_r.setblocking(False)
        self.thread = threading.Thread(target=self._loop, daemon=True,
                                       name="counting-sink")
        self.thread.start()

    @property
    def relayhost(self):
        return "[%s]:%d" % (self.host, self.port)

    # -- control (any thread) -------------------------------------------
    def _wake(self):
        try:
            self._wake_w.send(b"x")
        except OSError:
            pass

    def hold(self):
        with self.cond:
            self.holding = True

    def release(self, n=1):
        with self.cond:
            self.tokens += n
        self._wake()

    def release_all(self):
        with self.cond:
            self.holding = False
        self._wake()

    def stop(self):
        with self.cond:
            self._stopped = True
        self._wake()
        self.thread.join(10)
        for s in self.listeners + [self._wake_r, self._wake_w]:
            s.close()

    def wait_until(self, pred, timeout=30, what="sink condition"):
        with self.cond:
            ok = self.cond.wait_for(lambda: pred(self), timeout)
            state = ("connections=%d sessions=%d active=%d waiting=%d "
                     "messages=%d" % (self.connections, self.sessions,
                                      self.active, self.waiting,
                                      len(self.messages)))
        assert ok, "timed out waiting for %s (%s)" % (what, state)

    # -- bookkeeping (loop thread) ---------------------------------------
    def _count(self, what, n):
        with self.cond:
            v = getattr(self, what) + n
            setattr(self, what, v)
            top = "max_" + what
            if hasattr(self, top) and v > getattr(self, top):
                setattr(self, top, v)
            self.cond.notify_all()

    def _timer(self, delay, fn):
        self._seq += 1
        heapq.heappush(self._timers, (time.monotonic() + delay, self._seq,
                                      fn))

    # -- the event loop --------------------------------------------------
    def _loop(self):
        sel = selectors.DefaultSelector()
        for s in self.listeners:
            sel.register(s, selectors.EVENT_READ, "listen")
        sel.register(self._wake_r, selectors.EVENT_READ, "wake")
        self._sel = sel
        while True:
            timeout = None
            if self._timers:
                timeout = max(0, self._timers[0][0] - time.monotonic())
            events = sel.select(timeout)
            with self.cond:
                if self._stopped:
                    break
            # What clients sent first, new connections after.
            for key, _ in events:
                if isinstance(key.data, _Conn):
                    self._readable(key.data)
            for key, _ in events:
                if key.data == "listen":
                    self._accept(key.fileobj)
                elif key.data == "wake":
                    try:
                        while self._wake_r.recv(512):
                            pass
                    except BlockingIOError:
                        pass
            while self._timers and self._timers[0][0] <= time.monotonic():
                heapq.heappop(self._timers)[2]()
            self._release_held()
        for c in list(self._conns):
            self._close(c)
        sel.close()

    def _drain(self):
        """Read what every client has sent by now.  A connection that is
        about to be accepted was made after the QUIT that made room for
        it, so that QUIT is readable here even when the select() that
        reported the listener ran before it arrived."""
        for key, _ in self._sel.select(0):
            if isinstance(key.data, _Conn):
                self._readable(key.data)

    def _accept(self, listener):
        while True:
            self._drain()
            try:
                sock, _ = listener.accept()
            except (BlockingIOError, InterruptedError):
                return
            sock.setblocking(True)
            sock.settimeout(10)
            c = _Conn(sock, listener.getsockname()[0])
            self._conns.add(c)
            with self.cond:
                self.connections += 1
            self._count("sessions", 1)
            self._sel.register(sock, selectors.EVENT_READ, c)
            if self.greet_delay:
                c.pending = True
                self._timer(self.greet_delay, lambda c=c: self._greet(c))
            else:
                self._greet(c)

    def _greet(self, c):
        c.pending = False
        self._say(c, self.greeting)
        self._lines(c)

    def _say(self, c, text):
        if c.closed:
            return
        try:
            c.sock.sendall(text.encode() + b"\r\n")
        except OSError:
            self._close(c)

    def _end_session(self, c):
        if c.in_session:
            c.in_session = False
            self._count("sessions", -1)

    def _end_tx(self, c):
        if c.tx is not None:
            c.tx = None
            self._count("active", -1)

    def _close(self, c):
        if c.closed:
            return
        c.closed = True
        self._end_tx(c)
        self._end_session(c)
        self._conns.discard(c)
        try:
            self._sel.unregister(c.sock)
        except (KeyError, ValueError):
            pass
        c.sock.close()
        with self.cond:
            if c in self._held:
                self._held.remove(c)
                self.waiting -= 1

    def _readable(self, c):
        if c.closed:
            return
        try:
            data = c.sock.recv(65536)
        except OSError:
            data = b""
        if not data:
            self._close(c)
            return
        c.buf += data
        self._lines(c)

    def _lines(self, c):
        while not c.pending and not c.closed and b"\n" in c.buf:
            line, c.buf = c.buf.split(b"\n", 1)
            line += b"\n"
            if c.in_data:
                if line.rstrip(b"\r\n") == b".":
                    c.in_data = False
                    self._dot(c)
                else:
                    c.data.append(line[1:] if line.startswith(b".")
                                  else line)
            else:
                self._command(c, line.decode("utf-8", "replace")
                              .rstrip("\r\n"))

    def _command(self, c, cmd):
        verb = cmd[:4].upper()
        if not self.greeting.startswith("220"):
            if verb == "QUIT":
                self._end_session(c)
                self._say(c, "221 2.0.0 Bye")
                self._close(c)
            else:
                self._say(c, "503 5.5.1 Error: no service here")
        elif verb in ("EHLO", "HELO"):
            exts = ["PIPELINING", "8BITMIME", "ENHANCEDSTATUSCODES"]
            if self.dsn:
                exts.append("DSN")
            self._say(c, "\r\n".join(["250-counting.test.example"] +
                                     ["250-" + e for e in exts[:-1]] +
                                     ["250 " + exts[-1]]))
        elif verb == "MAIL":
            self._end_tx(c)
            m = re.match(r"MAIL FROM:\s*<([^>]*)>", cmd, re.I)
            c.tx = (m.group(1) if m else "", [])
            self._count("active", 1)
            self._say(c, "250 2.1.0 Ok")
        elif verb == "RCPT":
            m = re.match(r"RCPT TO:\s*<([^>]*)>", cmd, re.I)
            if c.tx is None or not m:
                self._say(c, "503 5.5.1 Error: need MAIL command")
            else:
                c.tx[1].append(m.group(1))
                self._say(c, "250 2.1.5 Ok")
        elif verb == "DATA":
            if c.tx is None or not c.tx[1]:
                self._say(c, "554 5.5.1 Error: no valid recipients")
            else:
                c.in_data = True
                c.data = []
                self._say(c, "354 End data with <CR><LF>.<CR><LF>")
        elif verb == "RSET":
            self._end_tx(c)
            self._say(c, "250 2.0.0 Ok")
        elif verb == "QUIT":
            self._end_tx(c)
            self._end_session(c)
            self._say(c, "221 2.0.0 Bye")
            self._close(c)
        elif verb == "NOOP":
            self._say(c, "250 2.0.0 Ok")
        else:
            self._say(c, "502 5.5.2 Error: command not recognized")

    def _dot(self, c):
        c.pending = True
        with self.cond:
            hold = self.holding and self.tokens == 0
            if hold:
                self._held.append(c)
                self.waiting += 1
                self.cond.notify_all()
            elif self.holding:
                self.tokens -= 1
        if not hold:
            self._after_delay(c)

    def _release_held(self):
        go = []
        with self.cond:
            while self._held and (not self.holding or self.tokens > 0):
                if self.holding:
                    self.tokens -= 1
                go.append(self._held.pop(0))
                self.waiting -= 1
            self.cond.notify_all()
        for c in go:
            self._after_delay(c)

    def _after_delay(self, c):
        if self.delay:
            self._timer(self.delay, lambda: self._finish(c))
        else:
            self._finish(c)

    def _finish(self, c):
        if c.closed:
            return
        with self.cond:
            self.messages.append((c.host, c.tx[0], c.tx[1],
                                  b"".join(c.data)))
        # The transaction ends before the client hears of it.
        self._end_tx(c)
        c.pending = False
        self._say(c, "250 2.0.0 Ok: queued")
        self._lines(c)


class _Conn:
    def __init__(self, sock, host):
        self.sock = sock
        self.host = host
        self.buf = b""
        self.pending = False
        self.in_data = False
        self.data = []
        self.tx = None
        self.in_session = True
        self.closed = False


@pytest.fixture
def counting_sinks():
    made = []

    def start(**kw):
        s = CountingSink(**kw)
        made.append(s)
        return s
    yield start
    for s in made:
        s.stop()


# -- helpers -----------------------------------------------------------------
def configure(instance, maxproc="-", **params):
    """Add smtp to master.cf, short time limits, then params."""
    instance.master_cf += ("smtp      unix  -       -       %s       -       "
                           "%s       smtp\n" % (CHROOT, maxproc))
    instance.params.update({
        "smtp_connect_timeout": "5s",
        "smtp_helo_timeout": "10s",
        "smtp_mail_timeout": "10s",
        "smtp_rcpt_timeout": "10s",
        "smtp_data_init_timeout": "10s",
        "smtp_data_xfer_timeout": "10s",
        # Held replies to the dot must not time out.
        "smtp_data_done_timeout": "120s",
        "smtp_quit_timeout": "5s",
    })
    instance.params.update(params)


def message(subject="test", sender="sender@test.example"):
    return ("From: <%s>\nTo: someone@remote.example\nSubject: %s\n\n"
            "hello\n" % (sender, subject))


def send(instance, rcpts, sender="sender@test.example", subject="test",
         args=()):
    instance.sendmail(["-f", sender] + list(args) + list(rcpts),
                      message(subject, sender or "MAILER-DAEMON@x.example"))


def status_lines(instance, rcpt, status=None):
    rx = re.compile(r" status=%s\b" % (status or r"\w+"))
    return [l for l in instance.log().splitlines()
            if "to=<%s>" % rcpt in l and rx.search(l)]


def wait_status(instance, rcpt, status, timeout=30, count=1):
    """Wait for count status=STATUS lines of rcpt; return the last."""
    def find():
        ls = status_lines(instance, rcpt, status)
        return ls[-1] if len(ls) >= count else None
    try:
        return wait_for(find, timeout, what="status=%s for %s" % (
            status, rcpt))
    except AssertionError as e:
        raise AssertionError("%s; log:\n%s" % (e, instance.log()[-5000:]))


def active_count(instance):
    return len(re.findall(r"\(queue active\)", instance.log()))


def queue_json(instance):
    r = instance.cmd("postqueue", "-j")
    return [json.loads(l) for l in r.stdout.splitlines() if l.strip()]


def queue_id_for(instance, rcpt):
    for m in queue_json(instance):
        if any(r["address"] == rcpt for r in m["recipients"]):
            return m["queue_id"], m["queue_name"]
    return None, None


def mbox_messages(instance, user):
    msgs, cur = [], None
    for line in instance.mbox(user).splitlines(True):
        if line.startswith("From "):
            cur = []
            msgs.append(cur)
        elif cur is not None:
            cur.append(line)
    return [email.message_from_string("".join(m), policy=email.policy.default)
            for m in msgs]


def report_fields(msg):
    """The message/delivery-status part: (per-message, [per-recipient])
    as dicts of field name (lower case) -> value."""
    for part in msg.walk():
        if part.get_content_type() == "message/delivery-status":
            payload = part.get_payload()
            groups = []
            if isinstance(payload, list):
                for p in payload:
                    groups.append({k.lower(): str(v) for k, v in p.items()})
            else:
                text = payload if isinstance(payload, str) else \
                    part.get_payload(decode=True).decode()
                for block in re.split(r"\n\s*\n", text.strip()):
                    g = {}
                    for l in re.sub(r"\n[ \t]+", " ", block).splitlines():
                        k, _, v = l.partition(":")
                        g[k.strip().lower()] = v.strip()
                    groups.append(g)
            return groups[0], groups[1:]
    raise AssertionError("no message/delivery-status part in:\n%s" % msg)


def sink_mails(sink):
    return [c for c in list(sink.commands) if c.line.upper().startswith(
        "MAIL")]


# -- 1. concurrency and recipient limits ------------------------------------
@pytest.mark.parametrize("which", ["default", "smtp"])
def test_destination_concurrency_limit(instance, counting_sinks, which):
    """A backlog of 30 messages for one destination never gets more than
    the concurrency limit at once; the limit is reached."""
    n = 3
    limits = ({"default_destination_concurrency_limit": str(n)}
              if which == "default" else
              {"default_destination_concurrency_limit": "20",
               "smtp_destination_concurrency_limit": str(n)})
    sink = counting_sinks()
    sink.hold()
    configure(instance, relayhost=sink.relayhost,
              smtp_connection_cache_on_demand="no", **limits)
    instance.start()
    for i in range(30):
        send(instance, ["c%d@remote.example" % i])
    sink.wait_until(lambda s: s.waiting == n, what="%d held deliveries" % n)
    # Every message is in qmgr's hands, and still no more sessions.
    wait_for(lambda: active_count(instance) == 30, 30,
             what="30 messages in the active queue")
    time.sleep(1)
    assert sink.connections == n and sink.max_sessions == n
    assert sink.max_active == n and sink.waiting == n
    sink.delay = 0.05
    sink.release_all()
    sink.wait_until(lambda s: len(s.messages) == 30, 60,
                    what="30 messages")
    instance.wait_queue_empty()
    assert sink.max_active == n, sink.max_active
    assert sink.max_sessions == n, sink.max_sessions
    assert sink.connections == 30
    assert sorted(r for m in sink.messages for r in m[2]) == sorted(
        "c%d@remote.example" % i for i in range(30))


@pytest.mark.parametrize("which", ["default", "smtp"])
def test_recipient_limit(instance, sink, which):
    """smtp_destination_recipient_limit = 2: five recipients of one
    message arrive in three transactions (2, 2, 1)."""
    limits = ({"default_destination_recipient_limit": "2"}
              if which == "default" else
              {"default_destination_recipient_limit": "50",
               "smtp_destination_recipient_limit": "2"})
    configure(instance, relayhost=sink.relayhost, **limits)
    instance.start()
    rcpts = ["r%d@remote.example" % i for i in range(5)]
    send(instance, rcpts)
    sink.wait(3)
    for r in rcpts:
        wait_status(instance, r, "sent")
    instance.wait_queue_empty()
    assert len(sink.transactions) == 3
    assert sorted(len(t.rcpts) for t in sink.transactions) == [1, 2, 2]
    assert sorted(r for t in sink.transactions for r in t.rcpts) == rcpts
    # All from one queue file.
    assert len(set(t.message["Subject"] for t in sink.transactions)) == 1
    assert active_count(instance) == 1


# -- 2. slow start -----------------------------------------------------------
@pytest.mark.parametrize("initial", [1, 2])
def test_slow_start(instance, counting_sinks, initial):
    """initial_destination_concurrency: until a delivery succeeds, a new
    destination gets that many sessions; then its concurrency grows up to
    the limit (4)."""
    sink = counting_sinks()
    sink.hold()
    configure(instance, relayhost=sink.relayhost,
              smtp_connection_cache_on_demand="no",
              smtp_destination_concurrency_limit="4",
              initial_destination_concurrency=str(initial))
    instance.start()
    for i in range(16):
        send(instance, ["s%d@remote.example" % i])
    sink.wait_until(lambda s: s.waiting == initial,
                    what="%d held deliveries" % initial)
    wait_for(lambda: active_count(instance) == 16, 30,
             what="16 messages in the active queue")
    time.sleep(1)
    assert sink.connections == initial and sink.max_active == initial
    # The first success opens the window: more sessions at once.
    sink.release(1)
    sink.wait_until(lambda s: len(s.messages) == 1, what="first message")
    if initial == 1:
        sink.wait_until(lambda s: s.waiting == 2, what="2 held deliveries")
    sink.delay = 0.2
    sink.release_all()
    sink.wait_until(lambda s: len(s.messages) == 16, 60, what="16 messages")
    instance.wait_queue_empty()
    assert initial < sink.max_active <= 4, sink.max_active


# -- 3. dead destinations ----------------------------------------------------
@needs_jail
@pytest.mark.parametrize("failure", ["421", "refused"])
def test_dead_destination(instance, dns, sinks, counting_sinks, failure):
    """With a failed cohort limit of 1 and an initial concurrency of 1,
    one failed session makes the destination dead: the mail waiting for
    it and the mail that comes for it later is deferred without another
    connection attempt ("delivery temporarily suspended"), while another
    destination on the same transport gets its mail."""
    good = sinks.start(host="127.0.0.1")
    port = good.port
    if failure == "421":
        dead = counting_sinks(hosts=["127.0.0.9"], port=port)
        # Slow to refuse, so that the backlog waits in qmgr.
        dead.greeting = "421 4.3.2 Service shutting down"
        dead.greet_delay = 1.5
    with dns.batch():
        dns.add_a("dead.test", "127.0.0.9")
        dns.add_a("good.test", "127.0.0.1")
    dns.use(instance)
    configure(instance, smtp_tcp_port=str(port),
              initial_destination_concurrency="1",
              default_destination_concurrency_failed_cohort_limit="1")
    instance.start()
    for i in range(5):
        send(instance, ["d%d@dead.test" % i])
        send(instance, ["g%d@good.test" % i])
    good.wait(5)
    for i in range(5):
        wait_status(instance, "d%d@dead.test" % i, "deferred")
        wait_status(instance, "g%d@good.test" % i, "sent")
    # Mail for the dead destination that arrives now waits as well.
    send(instance, ["late@dead.test"])
    late = wait_status(instance, "late@dead.test", "deferred")
    if failure == "421":
        reason = ("host dead.test[127.0.0.9] refused to talk to me: "
                  "421 4.3.2 Service shutting down")
        assert dead.connections == 1
    else:
        reason = "connect to dead.test[127.0.0.9]:%d: Connection refused" \
            % port
    lines = [l for l in instance.log().splitlines()
             if "@dead.test>" in l and "status=deferred" in l]
    by_smtp = [l for l in lines if "postfix/smtp[" in l]
    by_qmgr = [l for l in lines if "postfix/qmgr[" in l]
    # One delivery attempt; every other recipient deferred by qmgr.
    assert len(by_smtp) == 1, "\n".join(lines)
    assert "(%s)" % reason in by_smtp[0]
    assert len(by_qmgr) == 5
    for l in by_qmgr:
        assert "relay=none" in l
        assert "(delivery temporarily suspended: %s)" % reason in l, l
    assert "postfix/qmgr[" in late
    instance.wait_log(r"smtp: destination dead\.test is not responding")

    def attempts():
        return len([l for l in instance.log().splitlines()
                    if "@dead.test>" in l and "postfix/smtp[" in l and
                    "status=deferred" in l])

    def all_deferred(n):
        return len(instance.queue_files("deferred")) == n
    wait_for(lambda: all_deferred(6), 10, what="6 deferred messages")
    # postqueue -i: that message is tried even though its destination
    # is dead; the others still wait.
    qid, qname = queue_id_for(instance, "d3@dead.test")
    assert qname == "deferred"
    instance.cmd("postqueue", "-i", qid)
    wait_for(lambda: attempts() == 2, 30,
             what="a delivery attempt after postqueue -i")
    wait_for(lambda: all_deferred(6), 10, what="6 deferred messages")
    line = [l for l in instance.log().splitlines()
            if "@dead.test>" in l and "postfix/smtp[" in l][-1]
    assert "%s: to=<d3@dead.test>" % qid in line
    # postqueue -f forgets dead destinations: one attempt, which kills
    # the destination again, and the rest is deferred once more.
    instance.cmd("postqueue", "-f")
    wait_for(lambda: len(by_qmgr_lines(instance)) >= 5 + 5, 30,
             what="the other messages deferred again")
    wait_for(lambda: all_deferred(6), 10, what="6 deferred messages")
    assert attempts() == 3
    if failure == "421":
        assert dead.connections == 3
    assert len(good.messages) == 5


def by_qmgr_lines(instance):
    return [l for l in instance.log().splitlines()
            if "@dead.test>" in l and "postfix/qmgr[" in l and
            "status=deferred" in l]


@pytest.mark.parametrize("where", ["default", "smtp"])
def test_failed_cohort_limit_zero(instance, where):
    """A failed cohort limit of 0 (as in Postfix) never declares a
    destination dead: every message gets its own delivery attempt."""
    port = free_port()          # nothing listens there
    limit = ({"default_destination_concurrency_failed_cohort_limit": "0"}
             if where == "default" else
             {"smtp_destination_concurrency_failed_cohort_limit": "0"})
    configure(instance, relayhost="[127.0.0.1]:%d" % port,
              initial_destination_concurrency="1", **limit)
    instance.start()
    for i in range(4):
        send(instance, ["n%d@remote.example" % i])
    for i in range(4):
        l = wait_status(instance, "n%d@remote.example" % i, "deferred")
        assert "postfix/smtp[" in l and "Connection refused" in l
    assert "temporarily suspended" not in instance.log()
    assert "is not responding" not in instance.log()
    assert "bad parameter value" not in instance.log()


# -- 4. delay warnings -------------------------------------------------------
def test_delay_warning(instance, sink, users):
    """A message that keeps getting 4XX gets one delay warning to its
    (local) sender once delay_warning_time has passed; one whose
    recipient asked for NOTIFY=FAILURE only gets none."""
    users.add("dwsender")
    sender = "dwsender@" + DOMAIN
    sink.replies["MAIL"] = "451 4.3.0 Try again later"
    configure(instance, relayhost=sink.relayhost,
              delay_warning_time="2s", minimal_backoff_time="1s",
              maximal_backoff_time="1s", queue_run_delay="1s")
    instance.start()
    send(instance, ["far@remote.example"], sender=sender)
    send(instance, ["quiet@remote.example"], sender=sender,
         args=["-N", "failure"])
    first = wait_status(instance, "far@remote.example", "deferred")
    assert "dsn=4.3.0" in first
    wait_for(lambda: mbox_messages(instance, "dwsender"), 30,
             what="a delay warning")
    # Not before delay_warning_time (2s; log times have whole seconds,
    # so at least 1s between the lines).  No upper bound: a slow machine
    # (valgrind) may take longer.
    qid, _ = queue_id_for(instance, "far@remote.example")
    instance.wait_log(r"sender delay notification: \w+")

    def log_time(pattern):
        for l in instance.log().splitlines():
            if re.search(pattern, l):
                return time.mktime(time.strptime(
                    "2000 " + l[:15], "%Y %b %d %H:%M:%S"))
        raise AssertionError("no log line %r" % pattern)
    arrived = log_time(r"%s: from=<" % qid)
    warned = log_time(r"%s: sender delay notification" % qid)
    assert warned - arrived >= 1
    n = len(sink_mails(sink))
    # More attempts of both: no second warning, none for the other.
    wait_for(lambda: len(sink_mails(sink)) >= n + 6, 30,
             what="more delivery attempts")
    msgs = mbox_messages(instance, "dwsender")
    assert len(msgs) == 1, [m["Subject"] for m in msgs]
    notice = msgs[0]
    assert notice["Subject"] == "Delayed Mail (still being retried)"
    assert notice.get_content_type() == "multipart/report"
    assert notice.get_param("report-type") == "delivery-status"
    assert notice["To"] == sender
    per_msg, per_rcpt = report_fields(notice)
    assert per_msg["reporting-mta"] == "dns; " + DOMAIN
    assert len(per_rcpt) == 1
    r = per_rcpt[0]
    assert r["final-recipient"] == "rfc822; far@remote.example"
    assert r["action"] == "delayed"
    assert r["status"] == "4.3.0"
    assert "451 4.3.0 Try again later" in r["diagnostic-code"]
    assert "will-retry-until" in r
    instance.wait_log(r"sender delay notification: \w+")
    assert len(re.findall(r"sender delay notification",
                          instance.log())) == 1
    # Still queued.
    qid, qname = queue_id_for(instance, "far@remote.example")
    assert qid is not None


# -- 5. queue lifetimes ------------------------------------------------------
def test_queue_lifetimes(instance, sink, users):
    """A bounce (null sender) that keeps deferring expires after
    bounce_queue_lifetime without a notice of its own; normal mail
    expires after maximal_queue_lifetime and goes back to its sender."""
    users.add("qlsender")
    sender = "qlsender@" + DOMAIN
    sink.replies["MAIL"] = "451 4.3.0 Try again later"
    configure(instance, relayhost=sink.relayhost,
              maximal_queue_lifetime="7s", bounce_queue_lifetime="2s",
              minimal_backoff_time="1s", maximal_backoff_time="1s",
              queue_run_delay="1s")
    instance.start()
    send(instance, ["bounced@remote.example"], sender="")
    send(instance, ["normal@remote.example"], sender=sender)
    bqid = wait_for(lambda: queue_id_for(instance,
                                         "bounced@remote.example")[0], 10,
                    what="queue ID of the bounce")
    exp = wait_status(instance, "bounced@remote.example", "expired", 30)
    assert "postfix/qmgr[" in exp and "dsn=4.4.7" in exp
    assert "returned to sender" in exp
    # It was tried (how often depends on the machine's speed).
    assert status_lines(instance, "bounced@remote.example", "deferred")
    instance.wait_log(r"%s: removed" % bqid)
    # No notice about the notice: not to the null sender, not to the
    # postmaster (2bounce is not in notify_classes).
    instance.wait_log(r"%s: undeliverable notification to the null sender "
                      r"discarded" % bqid)
    assert not re.search(r"%s: \w+ [\w-]+ notification: " % bqid,
                         instance.log())

    exp = wait_status(instance, "normal@remote.example", "expired", 30)
    assert "dsn=4.4.7" in exp
    # The bounce, with the shorter lifetime, expired first.
    lines = instance.log().splitlines()
    assert lines.index(status_lines(instance, "bounced@remote.example",
                                    "expired")[0]) < lines.index(exp)
    wait_for(lambda: mbox_messages(instance, "qlsender"), 30,
             what="the non-delivery notice")
    instance.wait_queue_empty()
    msgs = mbox_messages(instance, "qlsender")
    assert len(msgs) == 1
    ndr = msgs[0]
    assert ndr["Subject"] == "Undelivered Mail Returned to Sender"
    per_msg, per_rcpt = report_fields(ndr)
    assert len(per_rcpt) == 1
    r = per_rcpt[0]
    assert r["final-recipient"] == "rfc822; normal@remote.example"
    assert r["action"] == "failed"
    assert r["status"] == "4.3.0"
    assert "451 4.3.0 Try again later" in r["diagnostic-code"]
    # Nothing for root (postmaster), and the expired bounce is gone.
    assert instance.mbox("root") == ""
    assert not status_lines(instance, "bounced@remote.example", "sent")


def test_bounce_lifetime_capped_by_queue_lifetime(instance, sink):
    """As in Postfix, bounce_queue_lifetime larger than
    maximal_queue_lifetime is cut down to it (with a warning)."""
    sink.replies["MAIL"] = "451 4.3.0 Try again later"
    configure(instance, relayhost=sink.relayhost,
              maximal_queue_lifetime="1s", bounce_queue_lifetime="1d",
              minimal_backoff_time="1s", maximal_backoff_time="1s",
              queue_run_delay="1s")
    instance.start()
    send(instance, ["bounced@remote.example"], sender="")
    wait_status(instance, "bounced@remote.example", "expired", 30)
    instance.wait_queue_empty()
    instance.wait_log(r"bounce_queue_lifetime is larger than "
                      r"maximal_queue_lifetime - adjusting "
                      r"bounce_queue_lifetime")


# -- 6. postqueue -s, -i, -f -------------------------------------------------
def test_postqueue_site_one_and_all(instance, sink):
    """Deferred mail for three sites; once the next hop works again,
    postqueue -s delivers one site's mail at once and nothing else,
    postqueue -i one message, postqueue -f the rest."""
    sink.replies["MAIL"] = "451 4.3.0 Try again later"
    configure(instance, relayhost=sink.relayhost,
              smtp_connection_cache_on_demand="no")
    instance.start()
    rcpts = {"site1.example": "a@site1.example",
             "site2.example": "b@site2.example",
             "site3.example": "c@site3.example"}
    for r in rcpts.values():
        send(instance, [r])
        wait_status(instance, r, "deferred")
    wait_for(lambda: len(instance.queue_files("deferred")) == 3, 10,
             what="three deferred messages")
    del sink.replies["MAIL"]
    sink.reset()

    t0 = time.time()
    instance.cmd("postqueue", "-s", "site1.example")
    wait_status(instance, rcpts["site1.example"], "sent", 20)
    assert time.time() - t0 < 120       # queue_run_delay is 300s
    time.sleep(1.5)
    assert [t.rcpts for t in sink.messages] == [[rcpts["site1.example"]]]
    assert not status_lines(instance, rcpts["site2.example"], "sent")
    assert len(instance.queue_files("deferred")) == 2

    qid, qname = queue_id_for(instance, rcpts["site2.example"])
    assert qname == "deferred"
    instance.cmd("postqueue", "-i", qid)
    wait_status(instance, rcpts["site2.example"], "sent", 20)
    time.sleep(1.5)
    assert not status_lines(instance, rcpts["site3.example"], "sent")
    assert len(sink.messages) == 2

    instance.cmd("postqueue", "-f")
    wait_status(instance, rcpts["site3.example"], "sent", 20)
    instance.wait_queue_empty()
    assert sorted(t.rcpts[0] for t in sink.messages) == sorted(
        rcpts.values())

    # Bad arguments are refused.
    r = instance.cmd("postqueue", "-s", "bad site!", check=False)
    assert r.returncode == 64
    r = instance.cmd("postqueue", "-i", "not-a-queue-id", check=False)
    assert r.returncode == 64


# -- 7. DSN success notices through smtpd ------------------------------------
@pytest.fixture
def smtpd_instance(instance):
    """The instance with smtpd on a free loopback port."""
    instance.smtp_port = free_port()
    instance.master_cf += ("127.0.0.1:%d inet  n       -       %s       -"
                           "       -       smtpd\n"
                           % (instance.smtp_port, CHROOT))
    instance.params["mynetworks"] = "127.0.0.1/32"
    return instance


def submit_dsn(inst, sender, rcpt, orcpt, envid, subject):
    s = smtplib.SMTP("127.0.0.1", inst.smtp_port, timeout=30)
    try:
        s.ehlo("client.test.example")
        assert s.has_extn("dsn")
        code, _ = s.mail(sender, ["RET=HDRS", "ENVID=" + envid])
        assert code == 250
        code, _ = s.rcpt(rcpt, ["NOTIFY=SUCCESS", "ORCPT=rfc822;" + orcpt])
        assert code == 250
        code, _ = s.data(("From: <%s>\r\nTo: <%s>\r\nSubject: %s\r\n\r\n"
                          "body\r\n" % (sender, rcpt, subject)).encode())
        assert code == 250
    finally:
        s.quit()


def notices_for(inst, user, rcpt):
    out = []
    for m in mbox_messages(inst, user):
        if m.get_content_type() != "multipart/report":
            continue
        _, per_rcpt = report_fields(m)
        if any(r.get("final-recipient") == "rfc822; " + rcpt
               for r in per_rcpt):
            out.append(m)
    return out


def test_dsn_success_through_smtpd(smtpd_instance, sink, users):
    inst = smtpd_instance
    users.add("dsnsender")
    users.add("dsnlocal")
    sender = "dsnsender@" + DOMAIN
    sink.hide("DSN")
    configure(inst, relayhost=sink.relayhost,
              smtp_connection_cache_on_demand="no")
    inst.start()

    # Relayed to a server without DSN: a "relayed" notice from here.
    submit_dsn(inst, sender, "far@remote.example", "orig-far@remote.example",
               "env-1", "relayed")
    tx = sink.wait(1)[0]
    assert "RET" not in tx.mail_params and "ENVID" not in tx.mail_params
    assert tx.rcpt_params["far@remote.example"] == {}
    notice = wait_for(lambda: notices_for(inst, "dsnsender",
                                          "far@remote.example"), 30,
                      what="relayed notice")
    assert len(notice) == 1
    notice = notice[0]
    assert notice["Subject"] == "Successful Mail Delivery Report"
    per_msg, per_rcpt = report_fields(notice)
    assert per_msg["original-envelope-id"] == "env-1"
    assert per_rcpt[0]["action"] == "relayed"
    assert per_rcpt[0]["status"].startswith("2.")
    assert per_rcpt[0]["original-recipient"].replace(" ", "") == \
        "rfc822;orig-far@remote.example"
    assert "remote-mta" in per_rcpt[0]

    # Relayed to a server with DSN: the request goes on, no notice here.
    sink.advertise("DSN")
    sink.reset()
    submit_dsn(inst, sender, "dsn@remote.example", "orig-dsn@remote.example",
               "env-2", "passed on")
    tx = sink.wait(1)[0]
    assert tx.mail_params["RET"] == "HDRS"
    assert tx.mail_params["ENVID"] == "env-2"
    p = tx.rcpt_params["dsn@remote.example"]
    assert p["NOTIFY"] == "SUCCESS"
    assert p["ORCPT"] == "rfc822;orig-dsn@remote.example"
    sent = wait_status(inst, "dsn@remote.example", "sent")
    qid = re.search(r"\]: (\w+): to=", sent).group(1)
    inst.wait_log(r"%s: removed" % qid)
    assert not re.search(r"%s: sender delivery status notification" % qid,
                         inst.log())

    # Delivered locally: a "delivered" notice.
    submit_dsn(inst, sender, "dsnlocal@" + DOMAIN, "orig-local@" + DOMAIN,
               "env-3", "local")
    notice = wait_for(lambda: notices_for(inst, "dsnsender",
                                          "dsnlocal@" + DOMAIN), 30,
                      what="delivered notice")
    assert len(notice) == 1
    per_msg, per_rcpt = report_fields(notice[0])
    assert per_msg["original-envelope-id"] == "env-3"
    assert per_rcpt[0]["action"] == "delivered"
    assert per_rcpt[0]["original-recipient"].replace(" ", "") == \
        "rfc822;orig-local@" + DOMAIN
    assert len(mbox_messages(inst, "dsnlocal")) == 1
    inst.wait_queue_empty()
    # Exactly the two notices; none for the message passed on.
    assert len(mbox_messages(inst, "dsnsender")) == 2
    assert not notices_for(inst, "dsnsender", "dsn@remote.example")


# -- 8. process limits -------------------------------------------------------
@needs_jail
@pytest.mark.parametrize("where", ["master.cf", "default_process_limit"])
def test_process_limit(instance, dns, counting_sinks, where):
    """maxproc of the smtp service (or default_process_limit for "-")
    limits the sessions of the whole transport, across destinations."""
    # One server on two addresses, so that it counts sessions to both.
    sink = counting_sinks(hosts=["127.0.0.1", "127.0.0.10"])
    sink.hold()
    with dns.batch():
        dns.add_a("one.test", "127.0.0.1")
        dns.add_a("two.test", "127.0.0.10")
    dns.use(instance)
    if where == "master.cf":
        configure(instance, maxproc="2", smtp_tcp_port=str(sink.port),
                  smtp_connection_cache_on_demand="no")
    else:
        configure(instance, smtp_tcp_port=str(sink.port),
                  default_process_limit="2",
                  smtp_connection_cache_on_demand="no")
    instance.start()
    for i in range(6):
        send(instance, ["p%d@one.test" % i])
        send(instance, ["q%d@two.test" % i])
    sink.wait_until(lambda s: s.waiting == 2, what="2 held deliveries")
    wait_for(lambda: active_count(instance) == 12, 30,
             what="12 messages in the active queue")
    time.sleep(1)
    assert sink.waiting == 2 and sink.connections == 2
    sink.delay = 0.1
    sink.release_all()
    sink.wait_until(lambda s: len(s.messages) == 12, 60, what="12 messages")
    instance.wait_queue_empty()
    # Never more than two sessions in all; both destinations served.
    assert sink.max_sessions == 2 and sink.max_active == 2
    hosts = [m[0] for m in sink.messages]
    assert hosts.count("127.0.0.1") == hosts.count("127.0.0.10") == 6
    assert len(instance.processes("smtp")) <= 2
