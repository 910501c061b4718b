"""anvil(8) and smtpd's per-client limits, end to end.

A private instance with smtpd on a loopback port and anvil in master.cf.
The tests connect from 127.0.0.1, which the default
smtpd_client_event_limit_exceptions ($mynetworks) exempts, so they set
the exceptions to empty unless they test them.  Covered: the connection
count limit (N held open, the next gets 421; a closed one makes room; an
smtpd killed while holding a connection releases it), the connection
rate limit and its time unit, the message and recipient rate limits,
the exceptions, anvil being down (no limits, a warning), the statistics
lines, and anvil's protocol spoken directly (the auth counter that
smtpd_anvil_auth() uses, lookup, a malformed request).
"""
import os
import re
import signal
import socket
import struct
import time

import pytest

from conftest import VALGRIND, not_under_valgrind, wait_for
from fixtures import SmtpClient as Client

CHROOT = "n" if VALGRIND else "y"


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def start_smtpd(instance, **params):
    instance.smtp_port = free_port()
    instance.service = "127.0.0.1:%d" % instance.smtp_port
    instance.master_cf += ("%s inet  n       -       %s       -"
                           "       -       smtpd\n"
                           % (instance.service, CHROOT))
    instance.params["mynetworks"] = "127.0.0.1/32"
    instance.params["smtpd_client_event_limit_exceptions"] = ""
    instance.params.update(params)
    for k in [k for k, v in instance.params.items() if v is None]:
        del instance.params[k]
    instance.start()


def quit(c):
    c.cmd("QUIT")
    c.close()


# -- connections -----------------------------------------------------------
def test_connection_count_limit(instance):
    start_smtpd(instance, smtpd_client_connection_count_limit="2")
    held = [Client(instance.smtp_port) for _ in range(2)]
    assert all(c.greeting[0] == 220 for c in held)
    third = Client(instance.smtp_port)
    assert third.greeting == (421, "4.7.0 mx.test.example Error: too "
                              "many connections from 127.0.0.1")
    assert third.closed()
    instance.wait_log(r"warning: Connection concurrency limit exceeded: 3 "
                      r"from \S*\[127\.0\.0\.1\] for service %s"
                      % re.escape(instance.service))
    # A connection that ends makes room (its disconnect reached anvil).
    quit(held.pop())
    wait_for(lambda: Client(instance.smtp_port).greeting[0] == 220, 10,
             what="room after a disconnect")
    for c in held:
        quit(c)


@not_under_valgrind
def test_killed_smtpd_releases_its_connection(instance):
    start_smtpd(instance, smtpd_client_connection_count_limit="1")
    held = Client(instance.smtp_port)
    assert held.greeting[0] == 220
    c = Client(instance.smtp_port)
    assert c.greeting[0] == 421
    c.close()
    # The smtpd process that serves "held" dies without a disconnect:
    # anvil drops what its connection counted.
    busy = [pid for pid, _ in instance.processes("smtpd")]
    assert busy
    for pid in busy:
        os.kill(pid, signal.SIGKILL)
    held.close()
    wait_for(lambda: Client(instance.smtp_port).greeting[0] == 220, 15,
             what="room after smtpd died")


def test_connection_rate_limit_and_time_unit(instance):
    start_smtpd(instance, smtpd_client_connection_rate_limit="3",
                anvil_rate_time_unit="5s")
    start = time.monotonic()
    for _ in range(3):
        c = Client(instance.smtp_port)
        assert c.greeting[0] == 220
        quit(c)
    c = Client(instance.smtp_port)
    # (Unless the four took longer than the unit: a slow valgrind run.)
    if time.monotonic() - start < 4.5:
        assert c.greeting == (421, "4.7.0 mx.test.example Error: too "
                              "many connections from 127.0.0.1")
        instance.wait_log(r"warning: Connection rate limit exceeded: 4 "
                          r"from \S*\[127\.0\.0\.1\] for service %s"
                          % re.escape(instance.service))
    c.close()
    # A new time unit starts from zero.  The unit began at anvil with the
    # first connection, before this point.
    time.sleep(5.3)
    c = Client(instance.smtp_port)
    assert c.greeting[0] == 220
    quit(c)


# -- messages and recipients ----------------------------------------------
def test_message_rate_limit(instance):
    start_smtpd(instance, smtpd_client_message_rate_limit="2")
    c = Client(instance.smtp_port)
    c.cmd("EHLO client.example")
    for _ in range(2):
        assert c.cmd("MAIL FROM:<a@client.example>")[0] == 250
        assert c.cmd("RSET")[0] == 250
    assert c.cmd("MAIL FROM:<a@client.example>") == (
        450, "4.7.1 Error: too much mail from 127.0.0.1")
    # Another session shares the count (anvil, not the process).
    quit(c)
    c = Client(instance.smtp_port)
    c.cmd("EHLO client.example")
    assert c.cmd("MAIL FROM:<a@client.example>")[0] == 450
    quit(c)
    instance.wait_log(r"warning: Message delivery request rate limit "
                      r"exceeded: 3 from \S*\[127\.0\.0\.1\] for service %s"
                      % re.escape(instance.service))


def test_recipient_rate_limit(instance):
    start_smtpd(instance, smtpd_client_recipient_rate_limit="3")
    c = Client(instance.smtp_port)
    c.cmd("EHLO client.example")
    assert c.cmd("MAIL FROM:<a@client.example>")[0] == 250
    for i in range(3):
        assert c.cmd("RCPT TO:<r%d@mx.test.example>" % i)[0] in (
            250, 550), "a recipient check answered, not the limit"
    assert c.cmd("RCPT TO:<r9@mx.test.example>") == (
        452, "4.7.1 Error: too many recipients from 127.0.0.1")
    quit(c)
    instance.wait_log(r"warning: Recipient address rate limit exceeded: 4 "
                      r"from \S*\[127\.0\.0\.1\] for service %s"
                      % re.escape(instance.service))


# -- exceptions, failures, statistics -------------------------------------
def test_mynetworks_exempt_by_default(instance):
    start_smtpd(instance, smtpd_client_connection_count_limit="1",
                smtpd_client_message_rate_limit="1",
                smtpd_client_event_limit_exceptions=None)
    held = [Client(instance.smtp_port) for _ in range(3)]
    assert all(c.greeting[0] == 220 for c in held)
    held[0].cmd("EHLO client.example")
    for _ in range(3):
        assert held[0].cmd("MAIL FROM:<a@client.example>")[0] == 250
        held[0].cmd("RSET")
    for c in held:
        quit(c)
    assert "limit exceeded" not in instance.log()


def test_explicit_exceptions(instance):
    start_smtpd(instance, smtpd_client_connection_count_limit="1",
          smtpd_client_event_limit_exceptions="10.0.0.0/8, 127.0.0.1")
    held = [Client(instance.smtp_port) for _ in range(2)]
    assert all(c.greeting[0] == 220 for c in held)
    for c in held:
        quit(c)


def test_anvil_down_fails_open(instance):
    instance.master_cf = "\n".join(l for l in instance.master_cf.split("\n")
                                   if not l.startswith("anvil")) + "\n"
    start_smtpd(instance, smtpd_client_connection_count_limit="1")
    held = [Client(instance.smtp_port) for _ in range(2)]
    assert all(c.greeting[0] == 220 for c in held)
    for c in held:
        quit(c)
    instance.wait_log(r"warning: no answer from anvil: connect: ")


def test_statistics(instance):
    start_smtpd(instance, smtpd_client_connection_rate_limit="100",
          anvil_status_update_time="2s")
    for _ in range(2):
        quit(Client(instance.smtp_port))
    instance.wait_log(r"postfix/anvil\[\d+\]: statistics: max connection "
                      r"rate 2/60s for \(%s:127\.0\.0\.1\) at \w+ +\d+ "
                      r"\d\d:\d\d:\d\d" % re.escape(instance.service))
    instance.wait_log(r"postfix/anvil\[\d+\]: statistics: max connection "
                      r"count 1 for \(%s:127\.0\.0\.1\)"
                      % re.escape(instance.service))
    instance.wait_log(r"postfix/anvil\[\d+\]: statistics: max cache size 1 "
                      r"at ")


# -- the protocol itself ----------------------------------------------------
def frame(attrs):
    body = b""
    for name, v in attrs:
        n = name.encode()
        if isinstance(v, int):
            body += b"i" + bytes([len(n)]) + n + struct.pack(">q", v)
        else:
            b = v.encode()
            body += (b"s" + bytes([len(n)]) + n + struct.pack(">I", len(b))
                     + b)
    return struct.pack(">I", len(body)) + body


def read_frame(s):
    def exact(n):
        out = b""
        while len(out) < n:
            chunk = s.recv(n - len(out))
            if not chunk:
                raise EOFError
            out += chunk
        return out
    body = exact(struct.unpack(">I", exact(4))[0])
    out, i = {}, 0
    while i < len(body):
        t, nl = body[i:i + 1], body[i + 1]
        name = body[i + 2:i + 2 + nl].decode()
        i += 2 + nl
        if t == b"i":
            out[name] = struct.unpack(">q", body[i:i + 8])[0]
            i += 8
        else:
            ln = struct.unpack(">I", body[i:i + 4])[0]
            out[name] = body[i + 4:i + 4 + ln].decode()
            i += 4 + ln
    return out


def anvil_socket(instance):
    s = socket.socket(socket.AF_UNIX)
    s.settimeout(10)
    s.connect(os.path.join(instance.queue, "private", "anvil"))
    assert read_frame(s) == {"protocol": "anvil", "version": 1}
    return s


def call(s, request, ident):
    s.sendall(frame([("request", request), ("ident", ident)]))
    return read_frame(s)


def test_protocol_auth_lookup_and_bad_requests(instance):
    start_smtpd(instance)
    s = anvil_socket(instance)
    # The AUTH counter behind smtpd_client_auth_rate_limit.
    assert [call(s, "auth", "smtp:192.0.2.7")["rate"] for _ in range(3)] \
        == [1, 2, 3]
    assert call(s, "connect", "smtp:192.0.2.7") == {
        "status": 0, "count": 1, "rate": 1}
    assert call(s, "message", "smtp:192.0.2.7") == {"status": 0, "rate": 1}
    assert call(s, "recipient", "smtp:192.0.2.7") == {"status": 0, "rate": 1}
    assert call(s, "lookup", "smtp:192.0.2.7") == {
        "status": 0, "count": 1, "rate": 1, "mail": 1, "rcpt": 1, "auth": 3}
    # A second client cannot release the first one's connection.
    s2 = anvil_socket(instance)
    assert call(s2, "disconnect", "smtp:192.0.2.7") == {"status": 0}
    assert call(s2, "lookup", "smtp:192.0.2.7")["count"] == 1
    # When the first client goes away, its connection is released.
    s.close()
    wait_for(lambda: call(s2, "lookup", "smtp:192.0.2.7")["count"] == 0, 10,
             what="count released")
    # Malformed requests get status -1, and the connection stays usable.
    assert call(s2, "explode", "smtp:192.0.2.7") == {"status": -1}
    assert call(s2, "lookup", "has space") == {"status": -1}
    assert call(s2, "lookup", "") == {"status": -1}
    s2.sendall(frame([("request", "lookup")]))
    assert read_frame(s2) == {"status": -1}
    assert call(s2, "lookup", "smtp:192.0.2.8") == {
        "status": 0, "count": 0, "rate": 0, "mail": 0, "rcpt": 0, "auth": 0}
    # An oversized frame drops the client.
    s2.sendall(struct.pack(">I", 1 << 20))
    s2.settimeout(5)
    assert s2.recv(1) == b""
    s2.close()
    instance.wait_log(r"anvil\[\d+\]: warning: malformed request: unknown "
                      r"request \"explode\"")
    instance.wait_log(r"anvil\[\d+\]: warning: request longer than")
