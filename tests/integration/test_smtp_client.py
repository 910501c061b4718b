"""The SMTP and LMTP client (smtp(8), lmtp(8)) end to end.

A private instance sends mail to recording servers on loopback (the
aiosmtpd sink of fixtures.py, or Postfix's smtp-sink) through relayhost,
through MX records served by a private dnsmasq (the chrooted client reads
queue_directory/etc/resolv.conf), or through LMTP on a UNIX socket and
TCP.  Covered: delivery and the log line, dot-stuffing and long lines,
MX order, implicit MX, the second MX when the first refuses or stays
silent, DNS failures, per-recipient 4XX/5XX, 5XX to MAIL FROM, a server
that drops the connection, a server that never answers, PIPELINING on
and off, SIZE, DSN parameters, 8BITMIME and SMTPUTF8, LMTP with
per-recipient replies, connection reuse and its idle limit, transport_maps
(lookup order, error:, a rebuilt table, an unreadable one).
"""
import os
import re
import time

import pytest

from conftest import VALGRIND, wait_for
from fixtures import DROP, STALL

SENDER = "sender@test.example"
CHROOT = "n" if VALGRIND else "y"

# DNS tests need the chroot (the jailed client reads the queue
# directory's etc/resolv.conf, never the machine's).
needs_jail = pytest.mark.skipif(
    VALGRIND, reason="needs a chrooted client to use the test DNS")


@pytest.fixture(autouse=True)
def no_agent_errors(instance):
    """After each test: smtp(8)/lmtp(8) logged no fatal error or panic."""
    yield
    bad = [l for l in instance.log().splitlines()
           if re.search(r"postfix/(smtp|lmtp)\[\d+\]: (fatal|panic):", l)]
    assert not bad, "\n".join(bad)


def configure(instance, maxproc="-", lmtp=False, **params):
    """Add smtp (and lmtp) to master.cf and set main.cf parameters."""
    instance.master_cf += ("smtp      unix  -       -       %s       -       "
                           "%s       smtp\n" % (CHROOT, maxproc))
    if lmtp:
        # Not chrooted: the LMTP socket lives outside the queue.
        instance.master_cf += ("lmtp      unix  -       -       n       -"
                               "       %s       lmtp\n" % maxproc)
    # Short time limits, so that failures show quickly.
    instance.params.update({
        "smtp_connect_timeout": "5s",
        "smtp_helo_timeout": "5s",
        "smtp_mail_timeout": "5s",
        "smtp_rcpt_timeout": "5s",
        "smtp_data_init_timeout": "5s",
        "smtp_data_xfer_timeout": "5s",
        "smtp_data_done_timeout": "5s",
        "smtp_quit_timeout": "5s",
    })
    instance.params.update(params)


def message(subject="test", body="hello\n", headers=""):
    return ("From: Sender <%s>\nTo: someone@remote.example\n"
            "Subject: %s\n%s\n%s" % (SENDER, subject, headers, body))


def send(instance, rcpts, msg=None, sender=SENDER, args=()):
    instance.sendmail(["-f", sender] + list(args) + list(rcpts),
                      msg if msg is not None else message())


def status_lines(instance, rcpt):
    return [l for l in instance.log().splitlines()
            if "to=<%s>" % rcpt in l and " status=" in l]


def wait_status(instance, rcpt, status, timeout=30):
    """Wait for the delivery status line of rcpt; return it."""
    def find():
        for l in status_lines(instance, rcpt):
            if " status=%s " % status in l:
                return l
        return None
    return wait_for(find, timeout,
                    what="status=%s for %s; log:\n%s" % (
                        status, rcpt, instance.log()[-3000:]))


# -- relayhost -----------------------------------------------------------
def test_relayhost_delivery(instance, sink):
    configure(instance, relayhost=sink.relayhost)
    instance.start()
    long_line = "".join(chr(ord("a") + i % 26) for i in range(2500))
    body = ("first line\n.leading dot\n..two dots\n.\nlast %s\n"
            % long_line)
    # -i: the line "." is not the end of the input.
    send(instance, ["a@remote.example", "b@remote.example"],
         message(body=body), args=["-i"])
    tx = sink.wait(1)[0]
    assert tx.helo == "mx.test.example" and tx.helo_verb == "EHLO"
    assert tx.mail_from == SENDER
    assert tx.rcpts == ["a@remote.example", "b@remote.example"]
    assert int(tx.mail_params["SIZE"]) > 2500
    assert "BODY" not in tx.mail_params and "SMTPUTF8" not in tx.mail_params
    lines = tx.data.split(b"\r\n")
    assert b"Subject: test" in lines
    assert b".leading dot" in lines and b"..two dots" in lines
    assert b"." in lines
    # The long line arrives in pieces of at most 998 bytes, each after
    # the first starting with a space.
    assert max(len(l) for l in lines) <= 998
    i = [k for k, l in enumerate(lines) if l.startswith(b"last ")][0]
    joined = lines[i] + b"".join(l[1:] for l in lines[i + 1:i + 3])
    assert lines[i + 1].startswith(b" ") and lines[i + 2].startswith(b" ")
    assert joined == ("last " + long_line).encode()
    for r in ("a@remote.example", "b@remote.example"):
        l = wait_status(instance, r, "sent")
        assert "relay=127.0.0.1[127.0.0.1]:%d," % sink.port in l
        assert re.search(r"dsn=2\.0\.0, status=sent \(250 2\.0\.0 Ok: "
                         r"queued as [0-9A-F]+\)", l), l
        assert "postfix/smtp[" in l
    instance.wait_queue_empty()


def test_relayhost_with_smtp_sink(instance, smtp_sink):
    """Postfix's own smtp-sink as the server."""
    s = smtp_sink.start()
    configure(instance, relayhost=s.relayhost)
    instance.start()
    for i in range(3):
        send(instance, ["r%d@remote.example" % i])
    s.wait(3)
    for i in range(3):
        wait_status(instance, "r%d@remote.example" % i, "sent")
    instance.wait_queue_empty()


# -- MX handling ---------------------------------------------------------
@needs_jail
def test_mx_order(instance, dns, sinks):
    best = sinks.start(host="127.0.0.1")
    other = sinks.start(host="127.0.0.4", port=best.port)
    with dns.batch():
        dns.add_mx("remote.test", "mx1.remote.test", 10)
        dns.add_mx("remote.test", "mx2.remote.test", 20)
        dns.add_a("mx1.remote.test", "127.0.0.1")
        dns.add_a("mx2.remote.test", "127.0.0.4")
        # No MX: the domain's own address.
        dns.add_a("plain.test", "127.0.0.4")
    dns.use(instance)
    configure(instance, smtp_tcp_port=str(best.port))
    instance.start()
    send(instance, ["x@remote.test"])
    l = wait_status(instance, "x@remote.test", "sent")
    assert "relay=mx1.remote.test[127.0.0.1]:%d" % best.port in l
    assert len(best.wait(1)) == 1 and other.messages == []
    send(instance, ["y@plain.test"])
    l = wait_status(instance, "y@plain.test", "sent")
    assert "relay=plain.test[127.0.0.4]:%d" % best.port in l
    assert ("MX", "remote.test") in dns.queries()
    assert ("A", "mx1.remote.test") in dns.queries()


@needs_jail
def test_mx_fallback_when_refused(instance, dns, sinks):
    """The preferred MX refuses connections: the second one gets it."""
    sink = sinks.start(host="127.0.0.1")
    with dns.batch():
        dns.add_mx("remote.test", "dead.remote.test", 5)
        dns.add_mx("remote.test", "live.remote.test", 10)
        dns.add_a("dead.remote.test", "127.0.0.5")   # nothing listens
        dns.add_a("live.remote.test", "127.0.0.1")
    dns.use(instance)
    configure(instance, smtp_tcp_port=str(sink.port))
    instance.start()
    send(instance, ["x@remote.test"])
    l = wait_status(instance, "x@remote.test", "sent")
    assert "relay=live.remote.test[127.0.0.1]:%d" % sink.port in l
    assert len(sink.wait(1)) == 1


@needs_jail
def test_mx_silent_host_then_next(instance, dns, sinks):
    """A first MX that never greets is given up after smtp_helo_timeout."""
    silent = sinks.start(host="127.0.0.1")
    silent.replies["CONNECT"] = STALL
    live = sinks.start(host="127.0.0.6", port=silent.port)
    with dns.batch():
        dns.add_mx("remote.test", "slow.remote.test", 5)
        dns.add_mx("remote.test", "live.remote.test", 10)
        dns.add_a("slow.remote.test", "127.0.0.1")
        dns.add_a("live.remote.test", "127.0.0.6")
    dns.use(instance)
    configure(instance, smtp_tcp_port=str(silent.port), smtp_helo_timeout="2s")
    instance.start()
    send(instance, ["x@remote.test"])
    l = wait_status(instance, "x@remote.test", "sent")
    assert "relay=live.remote.test[127.0.0.6]" in l
    assert silent.connections == 1 and len(live.wait(1)) == 1


@needs_jail
def test_dns_failures(instance, dns, sink):
    with dns.batch():
        dns.servfail("broken.test")
        dns.add_rr("nullmx.test", 15, "000000")
        dns.add_mx("nohost.test", "gone.nohost.test", 10)
        dns.add_mx("loop.test", "mx.test.example", 10)
    dns.use(instance)
    configure(instance)
    instance.start()
    send(instance, ["a@nxdomain.test", "b@broken.test", "c@nullmx.test",
                    "d@nohost.test", "e@loop.test"], sender="")
    l = wait_status(instance, "a@nxdomain.test", "bounced")
    assert "dsn=5.4.4" in l and "Host or domain name not found. Name " \
        "service error for name=nxdomain.test type=A: Host not found" in l
    l = wait_status(instance, "b@broken.test", "deferred")
    assert "dsn=4.4.3" in l and "name=broken.test type=MX: Host not " \
        "found, try again" in l
    l = wait_status(instance, "c@nullmx.test", "bounced")
    assert "dsn=5.1.10" in l and "nullMX" in l
    l = wait_status(instance, "d@nohost.test", "bounced")
    assert "name=gone.nohost.test type=A: Host not found" in l
    # The best MX is this host: a loop.
    l = wait_status(instance, "e@loop.test", "bounced")
    assert "dsn=5.4.6" in l and "mail for loop.test loops back to " \
        "myself" in l
    assert sink.connections == 0


@needs_jail
def test_mx_limits(instance, dns, sinks):
    """smtp_mx_session_limit counts completed handshakes, and
    smtp_mx_address_limit the addresses from MX lookups."""
    s1 = sinks.start(host="127.0.0.11")
    s2 = sinks.start(host="127.0.0.12", port=s1.port)
    s3 = sinks.start(host="127.0.0.13", port=s1.port)
    for s in (s1, s2):
        s.replies["MAIL"] = "451 4.3.0 Busy on %s" % s.host
    with dns.batch():
        for i, pref in ((1, 10), (2, 20), (3, 30)):
            dns.add_mx("remote.test", "mx%d.remote.test" % i, pref)
            dns.add_a("mx%d.remote.test" % i, "127.0.0.1%d" % i)
        # A host whose own address refuses, then a good one.
        dns.add_mx("limited.test", "dead.limited.test", 10)
        dns.add_mx("limited.test", "mx3.remote.test", 20)
        dns.add_a("dead.limited.test", "127.0.0.5")
    dns.use(instance)
    configure(instance, smtp_tcp_port=str(s1.port))
    instance.start()
    send(instance, ["x@remote.test"], sender="")
    l = wait_status(instance, "x@remote.test", "deferred")
    # Two sessions, and the third host is not tried.
    assert "Busy on 127.0.0.12 (in reply to MAIL FROM command)" in l
    assert "relay=mx2.remote.test[127.0.0.12]:%d" % s1.port in l
    assert s1.connections == 1 and s2.connections == 1
    assert s3.connections == 0

    instance.params["smtp_mx_address_limit"] = "1"
    instance.reload()
    time.sleep(1)
    send(instance, ["y@limited.test"], sender="")
    l = wait_status(instance, "y@limited.test", "deferred")
    assert "connect to dead.limited.test[127.0.0.5]:%d: Connection " \
        "refused" % s1.port in l
    assert s3.connections == 0


@needs_jail
def test_fallback_relay(instance, dns, sink):
    """smtp_fallback_relay takes what the destination cannot."""
    dns.use(instance)
    configure(instance, smtp_fallback_relay="[127.0.0.7]:%d, %s"
          % (sink.port, sink.relayhost))
    instance.start()
    send(instance, ["a@nxdomain.test"])
    l = wait_status(instance, "a@nxdomain.test", "sent")
    assert "relay=127.0.0.1[127.0.0.1]:%d" % sink.port in l
    assert sink.wait(1)[0].rcpts == ["a@nxdomain.test"]


def test_connect_refused(instance, sink):
    port = sink.port
    sink.stop()
    configure(instance, relayhost="[127.0.0.1]:%d" % port)
    instance.start()
    send(instance, ["a@remote.example"])
    l = wait_status(instance, "a@remote.example", "deferred")
    assert "relay=none" in l and "dsn=4.4.1" in l
    assert "(connect to 127.0.0.1[127.0.0.1]:%d: Connection refused)" \
        % port in l


# -- replies -------------------------------------------------------------
def test_rcpt_replies(instance, sink):
    sink.rcpt_replies["bad@remote.example"] = "550 5.1.1 User unknown"
    sink.rcpt_replies["later@remote.example"] = \
        "450-4.2.0 Mailbox busy\n450 4.2.0 try again later"
    configure(instance, relayhost=sink.relayhost)
    instance.start()
    send(instance, ["good@remote.example", "bad@remote.example",
                    "later@remote.example"], sender="")
    tx = sink.wait(1)[0]
    assert tx.rcpts == ["good@remote.example"]
    wait_status(instance, "good@remote.example", "sent")
    l = wait_status(instance, "bad@remote.example", "bounced")
    assert "dsn=5.1.1" in l
    assert ("(host 127.0.0.1[127.0.0.1] said: 550 5.1.1 User unknown "
            "(in reply to RCPT TO command))") in l
    l = wait_status(instance, "later@remote.example", "deferred")
    assert "dsn=4.2.0" in l
    assert ("said: 450-4.2.0 Mailbox busy 450 4.2.0 try again later "
            "(in reply to RCPT TO command)") in l


def test_mail_from_rejected(instance, sink):
    sink.replies["MAIL"] = "553 5.7.1 Sender address rejected"
    configure(instance, relayhost=sink.relayhost)
    instance.start()
    send(instance, ["a@remote.example", "b@remote.example"], sender="")
    for r in ("a@remote.example", "b@remote.example"):
        l = wait_status(instance, r, "bounced")
        assert "dsn=5.7.1" in l and "(in reply to MAIL FROM command)" in l
    assert sink.messages == []


def test_mail_from_deferred_and_data_rejected(instance, sink):
    sink.replies["MAIL"] = "421 4.3.2 System not accepting messages"
    configure(instance, relayhost=sink.relayhost)
    instance.start()
    send(instance, ["a@remote.example"], sender="")
    l = wait_status(instance, "a@remote.example", "deferred")
    assert "dsn=4.3.2" in l and "(in reply to MAIL FROM command)" in l

    del sink.replies["MAIL"]
    sink.replies["DATA"] = "554 5.6.0 No data today"
    send(instance, ["b@remote.example"], sender="")
    l = wait_status(instance, "b@remote.example", "bounced")
    assert "said: 554 5.6.0 No data today (in reply to DATA command)" in l

    del sink.replies["DATA"]
    sink.replies["DOT"] = "552 5.3.4 Message too big for me"
    send(instance, ["c@remote.example"], sender="")
    l = wait_status(instance, "c@remote.example", "bounced")
    assert "(in reply to end of DATA command)" in l and "dsn=5.3.4" in l


def test_greeting_refused(instance, sink):
    sink.replies["CONNECT"] = "554 5.7.1 Go away"
    configure(instance, relayhost=sink.relayhost)
    instance.start()
    send(instance, ["a@remote.example"])
    l = wait_status(instance, "a@remote.example", "deferred")
    # smtp_skip_5xx_greeting: a soft error.
    assert "dsn=4.7.1" in l
    assert "host 127.0.0.1[127.0.0.1] refused to talk to me: 554 5.7.1 " \
        "Go away" in l


def test_ehlo_refused_helo_fallback(instance, sink):
    sink.replies["EHLO"] = lambda ctx: (
        "502 5.5.1 EHLO not implemented" if ctx.arg and
        ctx.sink.commands[-1].line.startswith("EHLO") else None)
    configure(instance, relayhost=sink.relayhost)
    instance.start()
    send(instance, ["a@remote.example"])
    tx = sink.wait(1)[0]
    assert tx.helo_verb == "HELO"
    # Without EHLO, no extensions: no SIZE.
    assert tx.mail_params == {}
    wait_status(instance, "a@remote.example", "sent")


def test_dropped_connection(instance, sink):
    sink.replies["RCPT"] = DROP
    configure(instance, relayhost=sink.relayhost)
    instance.start()
    send(instance, ["a@remote.example"])
    l = wait_status(instance, "a@remote.example", "deferred")
    assert "(lost connection with 127.0.0.1[127.0.0.1] while sending " \
        "RCPT TO)" in l

    del sink.replies["RCPT"]
    sink.replies["DOT"] = DROP
    send(instance, ["b@remote.example"])
    l = wait_status(instance, "b@remote.example", "deferred")
    assert "lost connection with 127.0.0.1[127.0.0.1] while sending end " \
        "of data -- message may be sent more than once" in l


def test_silent_server(instance, sink):
    sink.replies["CONNECT"] = STALL
    configure(instance, relayhost=sink.relayhost, smtp_helo_timeout="2s")
    instance.start()
    t0 = time.time()
    send(instance, ["a@remote.example"])
    l = wait_status(instance, "a@remote.example", "deferred")
    assert "dsn=4.4.2" in l
    assert "conversation with 127.0.0.1[127.0.0.1] timed out while " \
        "receiving the initial server greeting" in l
    assert time.time() - t0 < 20

    sink.replies["CONNECT"] = None
    sink.replies["DATA"] = STALL
    send(instance, ["b@remote.example"])
    l = wait_status(instance, "b@remote.example", "deferred")
    assert "conversation with 127.0.0.1[127.0.0.1] timed out while " \
        "sending DATA command" in l


# -- extensions ----------------------------------------------------------
def test_pipelining(instance, sink):
    configure(instance, relayhost=sink.relayhost, maxproc="1")
    instance.start()
    send(instance, ["a@remote.example", "b@remote.example"])
    sink.wait(1)
    cmds = [c for c in sink.commands if c.conn == 1]
    names = [c.line.split()[0] for c in cmds]
    assert names[:5] == ["EHLO", "MAIL", "RCPT", "RCPT", "DATA"]
    # MAIL, RCPTs and DATA went out together: more input was waiting.
    assert cmds[1].pipelined and cmds[2].pipelined and cmds[3].pipelined
    wait_status(instance, "b@remote.example", "sent")

    # Without PIPELINING every command waits for its reply.
    sink.hide("PIPELINING")
    sink.reset()
    time.sleep(2.5)             # the cached connection expires
    send(instance, ["c@remote.example", "d@remote.example"])
    tx = sink.wait(1)[0]
    cmds = [c for c in sink.commands if c.conn == tx.conn]
    assert [c.line.split()[0] for c in cmds][:5] == [
        "EHLO", "MAIL", "RCPT", "RCPT", "DATA"]
    assert not any(c.pipelined for c in cmds)
    wait_status(instance, "d@remote.example", "sent")


def test_pipelining_many_recipients(instance, sink):
    """More commands than fit one write window, some refused."""
    rcpts = ["user%03d@remote.example" % i for i in range(300)]
    for r in rcpts[::7]:
        sink.rcpt_replies[r] = "550 5.1.1 No such user %s" % r
    configure(instance, relayhost=sink.relayhost,
          smtp_destination_recipient_limit="1000")
    instance.start()
    send(instance, rcpts, sender="")
    tx = sink.wait(1)[0]
    assert tx.rcpts == [r for r in rcpts if r not in sink.rcpt_replies]
    wait_for(lambda: sum(len(status_lines(instance, r)) for r in rcpts)
             >= 300, 30, what="300 status lines")
    for r in rcpts[::7]:
        assert " status=bounced " in status_lines(instance, r)[0]


def test_size_refused(instance, sink):
    sink.extensions = ["PIPELINING", "SIZE 200", "8BITMIME"]
    configure(instance, relayhost=sink.relayhost)
    instance.start()
    send(instance, ["a@remote.example"], message(body="x" * 400 + "\n"),
         sender="")
    l = wait_status(instance, "a@remote.example", "bounced")
    assert "dsn=5.3.4" in l
    assert re.search(r"message size \d+ exceeds size limit 200 of server "
                     r"127\.0\.0\.1\[127\.0\.0\.1\]", l), l
    assert not any(c.line.startswith("MAIL") for c in sink.commands)


def test_dsn_parameters(instance, sink):
    # No connection cache: the server changes its extensions.
    configure(instance, relayhost=sink.relayhost,
              smtp_connection_cache_on_demand="no")
    instance.start()
    send(instance, ["a@remote.example"], args=[
        "-N", "success,delay", "-R", "hdrs", "-V", "env id+1=x"])
    tx = sink.wait(1)[0]
    assert tx.mail_params["RET"] == "HDRS"
    assert tx.mail_params["ENVID"] == "env+20id+2B1+3Dx"
    p = tx.rcpt_params["a@remote.example"]
    assert p["NOTIFY"] == "SUCCESS,DELAY"
    assert p["ORCPT"] == "rfc822;a@remote.example"
    wait_status(instance, "a@remote.example", "sent")

    # A server without DSN gets none of it.
    sink.hide("DSN")
    sink.reset()
    send(instance, ["b@remote.example"], args=["-N", "never", "-R", "full"])
    tx = sink.wait(1)[0]
    assert "RET" not in tx.mail_params and "ENVID" not in tx.mail_params
    assert tx.rcpt_params["b@remote.example"] == {}
    wait_status(instance, "b@remote.example", "sent")


def test_dsn_relayed_notice(instance, sink):
    """NOTIFY=SUCCESS through a server without DSN: the sender gets a
    "relayed" notice (qmgr sends it on the agent's word)."""
    sink.hide("DSN")
    configure(instance, relayhost=sink.relayhost)
    instance.start()
    send(instance, ["a@remote.example"], args=["-N", "success"])
    msgs = sink.wait(2)
    notice = [m for m in msgs if m.mail_from == ""]
    assert len(notice) == 1 and notice[0].rcpts == [SENDER]
    text = notice[0].text
    assert "Action: relayed" in text
    assert "Final-Recipient: rfc822; a@remote.example" in text


def test_8bitmime_and_smtputf8(instance, sink):
    configure(instance, relayhost=sink.relayhost,
              smtp_connection_cache_on_demand="no")
    instance.start()
    send(instance, ["a@remote.example"],
         message(body="caf\u00e9 au lait\n").encode("latin-1"))
    tx = sink.wait(1)[0]
    assert tx.mail_params.get("BODY") == "8BITMIME"
    assert "SMTPUTF8" not in tx.mail_params
    assert b"caf\xe9 au lait" in tx.data

    sink.reset()
    send(instance, ["b@remote.example"],
         message(subject="gr\u00fc\u00dfe").encode("utf-8"))
    tx = sink.wait(1)[0]
    assert tx.mail_params.get("SMTPUTF8") is True
    assert tx.mail_params.get("BODY") == "8BITMIME"
    wait_status(instance, "b@remote.example", "sent")

    # Needed but not offered: returned, as Postfix does.
    sink.hide("SMTPUTF8")
    sink.reset()
    send(instance, ["c@remote.example"],
         message(subject="gr\u00fc\u00dfe").encode("utf-8"), sender="")
    l = wait_status(instance, "c@remote.example", "bounced")
    assert "dsn=5.6.7" in l and "SMTPUTF8 is required, but was not " \
        "offered by host 127.0.0.1[127.0.0.1]" in l
    assert sink.messages == []


# -- LMTP ----------------------------------------------------------------
def test_lmtp_unix(instance, sinks):
    sink = sinks.start(lmtp=True, unix=True)
    sink.lmtp_replies["full@remote.example"] = "452 4.2.2 Mailbox full"
    sink.lmtp_replies["gone@remote.example"] = "550 5.1.1 No such user"
    configure(instance, lmtp=True, default_transport="lmtp:" + sink.nexthop)
    instance.start()
    send(instance, ["a@remote.example", "full@remote.example",
                    "gone@remote.example"], sender="")
    tx = sink.wait(1)[0]
    assert tx.helo_verb == "LHLO" and tx.helo == "mx.test.example"
    assert tx.accepted == ["a@remote.example"]
    relay = "mx.test.example[%s]" % sink.path
    l = wait_status(instance, "a@remote.example", "sent")
    assert "relay=%s," % relay in l and "postfix/lmtp[" in l
    l = wait_status(instance, "full@remote.example", "deferred")
    assert "dsn=4.2.2" in l and ("host %s said: 452 4.2.2 Mailbox full "
                                 "(in reply to end of DATA command)"
                                 % relay) in l
    l = wait_status(instance, "gone@remote.example", "bounced")
    assert "dsn=5.1.1" in l


def test_lmtp_inet(instance, sinks):
    sink = sinks.start(lmtp=True)
    configure(instance, lmtp=True, default_transport="lmtp:" + sink.nexthop)
    instance.start()
    send(instance, ["a@remote.example", "b@remote.example"])
    tx = sink.wait(1)[0]
    assert tx.helo_verb == "LHLO"
    assert tx.accepted == ["a@remote.example", "b@remote.example"]
    l = wait_status(instance, "b@remote.example", "sent")
    assert "relay=127.0.0.1[127.0.0.1]:%d," % sink.port in l


def test_lmtp_unix_refused(instance):
    # A directory lmtp (as mail_owner) may search.
    d = os.path.join(instance.root, "lmtp")
    os.makedirs(d)
    os.chmod(d, 0o755)
    path = os.path.join(d, "nothing.sock")
    configure(instance, lmtp=True, default_transport="lmtp:unix:" + path)
    instance.start()
    send(instance, ["a@remote.example"])
    l = wait_status(instance, "a@remote.example", "deferred")
    assert "connect to mx.test.example[%s]: No such file or directory" \
        % path in l


# -- connection reuse ----------------------------------------------------
def test_connection_reuse(instance, sink):
    configure(instance, relayhost=sink.relayhost, maxproc="1",
          smtp_connection_cache_time_limit="10s")
    instance.start()
    for i in range(4):
        send(instance, ["r%d@remote.example" % i])
    sink.wait(4)
    assert sink.connections == 1
    assert [m.conn for m in sink.messages] == [1, 1, 1, 1]
    lines = [wait_status(instance, "r%d@remote.example" % i, "sent")
             for i in range(4)]
    uses = sorted(int(m.group(1)) for m in (
        re.search(r"conn_use=(\d+)", l) for l in lines) if m)
    assert uses == [2, 3, 4], lines
    rsets = [c for c in sink.commands if c.line == "RSET"]
    assert len(rsets) == 3
    instance.wait_queue_empty()


def test_cached_connection_closed_when_idle(instance, sink):
    configure(instance, relayhost=sink.relayhost, maxproc="1",
          smtp_connection_cache_time_limit="1s")
    instance.start()
    send(instance, ["a@remote.example"])
    sink.wait(1)
    # QUIT after about a second of idleness, not at the next request.
    wait_for(lambda: any(c.line == "QUIT" for c in sink.commands), 10,
             what="QUIT at the sink")
    wait_for(lambda: sink.open_connections == 0, 10,
             what="connection closed")
    send(instance, ["b@remote.example"])
    sink.wait(2)
    assert sink.connections == 2
    l = wait_status(instance, "b@remote.example", "sent")
    assert "conn_use" not in l


def test_reuse_count_limit_and_server_close(instance, sink):
    configure(instance, relayhost=sink.relayhost, maxproc="1",
          smtp_connection_cache_time_limit="10s",
          smtp_connection_reuse_count_limit="2")
    instance.start()
    for i in range(3):
        send(instance, ["r%d@remote.example" % i])
        sink.wait(i + 1)
    # Two per connection.
    wait_for(lambda: sink.connections == 2, 10, what="2 connections")
    # The server closes the cached connection: the next one is new.
    sink.replies["RSET"] = DROP
    send(instance, ["r3@remote.example"])
    sink.wait(4)
    l = wait_status(instance, "r3@remote.example", "sent")
    assert sink.connections == 3
    assert "conn_use" not in l


# -- transport_maps --------------------------------------------------------
def write_transport(instance, text):
    """Write etc/transport and build it with postmap (main.cf first)."""
    path = os.path.join(instance.etc, "transport")
    with open(path, "w") as f:
        f.write(text)
    instance.write_config()
    instance.cmd("postmap", "hash:" + path)


def test_transport_maps(instance, sinks):
    """transport(5): address, address without extension, domain, parent
    domain, "*"; an empty transport keeps the default one, error:
    bounces; a rebuilt table is picked up without a restart."""
    one, two = sinks.start(), sinks.start()
    configure(instance, recipient_delimiter="+", transport_maps="hash:" +
              os.path.join(instance.etc, "transport"))
    write_transport(instance, "\n".join([
        "special.example   smtp:[127.0.0.1]:%d" % two.port,
        ".sub.example      smtp:[127.0.0.1]:%d" % two.port,
        "vip@plus.example  smtp:[127.0.0.1]:%d" % two.port,
        "hop.example       :[127.0.0.1]:%d" % two.port,
        "bad.example       error:no mail for bad.example here",
        "*                 smtp:[127.0.0.1]:%d" % one.port,
        ""]))
    instance.start()
    send(instance, ["a@special.example", "b@deep.sub.example",
                    "vip+tag@plus.example", "c@hop.example",
                    "other@plus.example", "d@sub.example"])
    send(instance, ["e@bad.example"])

    def rcpts(sink):
        # Not the non-delivery notice for e@bad.example ("*" too).
        return sorted(r for tx in sink.messages for r in tx.accepted
                      if tx.mail_from == SENDER)
    wait_for(lambda: len(rcpts(one)) + len(rcpts(two)) == 6, 30,
             what="six recipients at the sinks")
    assert rcpts(two) == ["a@special.example", "b@deep.sub.example",
                          "c@hop.example", "vip+tag@plus.example"]
    # "sub.example" itself is not matched by ".sub.example": "*" is.
    assert rcpts(one) == ["d@sub.example", "other@plus.example"]
    l = wait_status(instance, "e@bad.example", "bounced")
    assert "no mail for bad.example here" in l

    # postmap replaces the table: trivial-rewrite notices and restarts.
    write_transport(instance, "special.example smtp:[127.0.0.1]:%d\n"
                    "* smtp:[127.0.0.1]:%d\n" % (one.port, one.port))
    time.sleep(1.1)
    send(instance, ["again@special.example"])
    wait_for(lambda: "again@special.example" in rcpts(one), 30,
             what="mail routed by the new table")
    instance.wait_log(r"table transport_maps has changed -- restarting")


def test_transport_maps_unreadable_defers(instance, sink):
    """A transport table that cannot be read defers, never bounces."""
    path = os.path.join(instance.etc, "transport")
    with open(path + ".lmdb", "w") as f:
        f.write("this is not an LMDB file\n")
    configure(instance, transport_maps="hash:" + path,
              relayhost=sink.relayhost)
    instance.start()
    send(instance, ["x@remote.example"])
    l = wait_status(instance, "x@remote.example", "deferred")
    assert "dsn=4.3.0" in l and "table lookup error" in l
    assert sink.messages == []
