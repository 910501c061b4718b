"""The test servers themselves (fixtures.py), each on its own, so that the
SMTP tests can trust them: dnsmasq answers what a test sets (also to a
chrooted process using the C library's resolver), the SMTP/LMTP sink
records and misbehaves as asked, smtp-sink/smtp-source move mail, the
policy server answers, and a client can connect from 127.0.0.2."""
import os
import shutil
import smtplib
import socket
import subprocess
import sys
import tempfile
import time

import pytest

from conftest import IS_ROOT, needs_root
from fixtures import (CLIENT_HELO, DROP, STALL, DnsServer, PolicyServer,
                      PostfixSmtpSink, RawClient, SmtpSink, dns_parse, smtp_client,
                      smtp_source, wait_until)


# -- helpers ---------------------------------------------------------------
def pid_alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


# -- dns ------------------------------------------------------------------
@needs_root
def test_dns_answers_records(dns):
    assert dns.addr.startswith("127.53.") and dns.addr.endswith(".1")
    with dns.batch():
        dns.add_mx("example.test", "mx1.example.test", 10)
        dns.add_mx("example.test", "mx2.example.test", 20)
        dns.add_a("mx1.example.test", "127.0.0.1")
        dns.add_a("mx2.example.test", "127.0.0.3", ptr=True)
        dns.add_aaaa("mx1.example.test", "::1")
        dns.add_ptr("127.0.0.2", "client.example.test")
        dns.add_txt("example.test", "v=spf1 ip4:127.0.0.0/8 -all")
        dns.add_txt("long.example.test", "x" * 300)
        dns.add_cname("alias.example.test", "mx1.example.test")
    rc, ans = dns.query("example.test", "MX")
    assert rc == "NOERROR"
    assert sorted(a[2] for a in ans) == [(10, "mx1.example.test"),
                                         (20, "mx2.example.test")]
    assert dns.query("mx1.example.test", "A") == (
        "NOERROR", [("mx1.example.test", "A", "127.0.0.1")])
    assert dns.query("mx1.example.test", "AAAA")[1][0][2] == "::1"
    assert dns.query("2.0.0.127.in-addr.arpa", "PTR")[1][0][2] == \
        "client.example.test"
    # ptr=True: the address names its host; ptr=False: no PTR at all.
    assert dns.query("3.0.0.127.in-addr.arpa", "PTR")[1][0][2] == \
        "mx2.example.test"
    assert dns.query("1.0.0.127.in-addr.arpa", "PTR")[0] == "NXDOMAIN"
    assert dns.query("example.test", "TXT")[1][0][2] == [
        "v=spf1 ip4:127.0.0.0/8 -all"]
    assert dns.query("long.example.test", "TXT")[1][0][2] == [
        "x" * 255, "x" * 45]
    rc, ans = dns.query("alias.example.test", "A")
    assert ("alias.example.test", "CNAME", "mx1.example.test") in ans
    # Unknown names: NXDOMAIN; a known name without the type: NODATA.
    assert dns.query("nothing.example.test", "A") == ("NXDOMAIN", [])
    assert dns.query("www.google.com", "A") == ("NXDOMAIN", [])
    assert dns.query("example.test", "A") == ("NOERROR", [])
    assert dns.query("mx1.example.test", "MX") == ("NOERROR", [])
    assert dns.query("mx2.example.test", "AAAA") == ("NOERROR", [])
    assert ("MX", "example.test") in dns.queries()


@needs_root
def test_dns_changes_servfail_timeout(dns):
    dns.add_a("h.example.test", "127.0.0.5")
    assert dns.query("h.example.test")[1][0][2] == "127.0.0.5"
    dns.remove("h.example.test")
    assert dns.query("h.example.test")[0] == "NXDOMAIN"
    dns.add_a("h.example.test", "127.0.0.6")
    assert dns.query("h.example.test")[1][0][2] == "127.0.0.6"
    dns.servfail("broken.test")
    assert dns.query("mx.broken.test", "MX")[0] == "SERVFAIL"
    dns.timeout("slow.test")
    with pytest.raises(socket.timeout):
        dns.query("slow.test", "MX", timeout=1.5)
    # Everything else still answers.
    assert dns.query("h.example.test")[1][0][2] == "127.0.0.6"
    dns.clear()
    assert dns.query("h.example.test")[0] == "NXDOMAIN"


@needs_root
def test_dns_chrooted_resolver(dns, instance):
    """A chrooted process that uses the C library's resolver reads
    queue_directory/etc/resolv.conf and asks our dnsmasq; the machine's
    /etc/resolv.conf is left alone."""
    try:
        before = open("/etc/resolv.conf", "rb").read()
    except OSError:
        before = None
    dns.add_mx("chroot.example.test", "mx.chroot.example.test", 5)
    path = dns.use(instance)
    assert path == os.path.join(instance.queue, "etc", "resolv.conf")
    with open(path) as f:
        text = f.read()
    assert text == ("nameserver %s\noptions attempts:1 timeout:1\n"
                    % dns.addr)
    script = r"""
import ctypes, os, sys
res = ctypes.CDLL("libresolv.so.2")
os.chroot(sys.argv[1]); os.chdir("/")
buf = ctypes.create_string_buffer(4096)
n = res.res_query(sys.argv[2].encode(), 1, 15, buf, 4096)
sys.stdout.write(buf.raw[:n].hex() if n > 0 else "FAIL %d" % n)
"""
    r = subprocess.run([sys.executable, "-c", script, instance.queue,
                        "chroot.example.test"], capture_output=True,
                       text=True, timeout=30)
    assert not r.stdout.startswith("FAIL"), r.stdout + r.stderr
    rc, ans = dns_parse(bytes.fromhex(r.stdout))
    assert ans == [("chroot.example.test", "MX",
                    (5, "mx.chroot.example.test"))]
    assert ("MX", "chroot.example.test") in dns.queries()
    after = open("/etc/resolv.conf", "rb").read() if before is not None \
        else None
    assert before == after


@needs_root
def test_dns_two_servers_and_stop():
    a, b = DnsServer(), DnsServer()
    try:
        assert a.addr != b.addr
        a.add_a("x.test", "127.0.0.7")
        assert a.query("x.test")[1][0][2] == "127.0.0.7"
        assert b.query("x.test")[0] == "NXDOMAIN"
        pid = a.proc.pid
    finally:
        a.stop()
        b.stop()
    assert not pid_alive(pid)
    assert not os.path.exists(a.root)


# -- SMTP sink ----------------------------------------------------------
def test_sink_records_transaction(sink):
    c = smtp_client(sink.host, sink.port)
    code, ehlo = c.ehlo()
    assert code == 250
    for ext in ("pipelining", "size", "8bitmime", "dsn", "smtputf8",
                "chunking", "enhancedstatuscodes"):
        assert c.has_extn(ext), ext
    c.sendmail("Sender@Example.TEST", ["a@x.test", "b@x.test"],
               b"Subject: hello\r\n\r\nbody line\r\n.dot line\r\n",
               mail_options=["BODY=8BITMIME", "RET=HDRS",
                             "ENVID=Id+2B1"],
               rcpt_options=["NOTIFY=SUCCESS,FAILURE",
                             "ORCPT=rfc822;A@x.test"])
    c.sendmail("", ["c@x.test"], b"Subject: bounce\r\n\r\nx\r\n")
    c.quit()
    msgs = sink.wait(2)
    m = msgs[0]
    assert m.conn == 1 and m.peer[0] == "127.0.0.1"
    assert m.helo == CLIENT_HELO and m.helo_verb == "EHLO"
    assert m.mail_from == "Sender@Example.TEST"
    assert m.mail_params["BODY"] == "8BITMIME"
    assert m.mail_params["RET"] == "HDRS"
    assert m.mail_params["ENVID"] == "Id+2B1"
    assert int(m.mail_params["SIZE"]) > 0
    assert m.rcpts == ["a@x.test", "b@x.test"]
    assert m.rcpt_params["a@x.test"] == {"NOTIFY": "SUCCESS,FAILURE",
                                         "ORCPT": "rfc822;A@x.test"}
    assert m.data == b"Subject: hello\r\n\r\nbody line\r\n.dot line\r\n"
    assert m.message["Subject"] == "hello"
    assert m.via == "DATA" and m.reply.startswith("250 ")
    assert m.accepted == ["a@x.test", "b@x.test"]
    assert msgs[1].mail_from == "" and msgs[1].rcpts == ["c@x.test"]
    assert sink.connections == 1
    lines = sink.command_lines()
    assert lines[0] == "EHLO " + CLIENT_HELO
    assert "QUIT" in lines


def test_sink_scripted_replies(sink):
    sink.rcpt_replies["bad@x.test"] = "550 5.1.1 No such user"
    sink.rcpt_replies["later@x.test"] = "450 4.2.0 Try later"
    c = smtp_client(sink.host, sink.port)
    refused = c.sendmail("s@x.test", ["bad@x.test", "ok@x.test",
                                      "later@x.test"], b"Subject: 1\r\n\r\n")
    assert refused == {"bad@x.test": (550, b"5.1.1 No such user"),
                       "later@x.test": (450, b"4.2.0 Try later")}
    # MAIL refused, then the final reply refused.
    sink.replies["MAIL"] = "451 4.3.0 Busy"
    with pytest.raises(smtplib.SMTPSenderRefused):
        c.sendmail("s@x.test", ["ok@x.test"], b"Subject: 2\r\n\r\n")
    c.rset()
    del sink.replies["MAIL"]
    sink.replies["DOT"] = "554 5.7.1 Content rejected"
    with pytest.raises(smtplib.SMTPDataError) as e:
        c.sendmail("s@x.test", ["ok@x.test"], b"Subject: 3\r\n\r\n")
    assert e.value.smtp_code == 554
    # A callable decides per call: the first DATA is refused.
    calls = []

    def data_reply(ctx):
        calls.append(ctx.conn)
        return "451 4.3.0 First time" if len(calls) == 1 else None
    sink.replies = {"DATA": data_reply}
    with pytest.raises(smtplib.SMTPDataError):
        c.sendmail("s@x.test", ["ok@x.test"], b"Subject: 4\r\n\r\n")
    c.rset()        # smtplib does not after a refused DATA command
    c.sendmail("s@x.test", ["ok@x.test"], b"Subject: 5\r\n\r\n")
    c.quit()
    msgs = sink.wait(2)
    assert [m.message["Subject"] for m in msgs] == ["1", "5"]
    assert msgs[0].rcpts == ["ok@x.test"]
    assert msgs[0].rejected == {"bad@x.test": "550 5.1.1 No such user",
                                "later@x.test": "450 4.2.0 Try later"}
    # The rejected transaction is recorded too, with its reply.
    assert [t.reply.split()[0] for t in sink.transactions] == [
        "250", "554", "250"]


def test_sink_greeting_and_ehlo_replies(sink):
    sink.replies["CONNECT"] = "554 5.7.1 Go away"
    r = RawClient.tcp(sink.host, sink.port)
    assert r.reply() == ["554 5.7.1 Go away"]
    assert r.cmd("EHLO a.test")[0].startswith("503")
    assert r.cmd("QUIT")[0].startswith("221")
    r.close()
    sink.replies = {"EHLO": "250-sink.test\n250-SIZE 100\n250 8BITMIME"}
    r = RawClient.tcp(sink.host, sink.port)
    r.reply()
    assert r.cmd("EHLO a.test") == ["250-sink.test", "250-SIZE 100",
                                    "250 8BITMIME"]
    r.close()


def test_sink_drop_and_stall(sink):
    sink.replies["RCPT"] = DROP
    c = smtp_client(sink.host, sink.port)
    with pytest.raises(smtplib.SMTPServerDisconnected):
        c.sendmail("s@x.test", ["a@x.test"], b"Subject: x\r\n\r\n")
    sink.replies = {"DOT": DROP}
    c = smtp_client(sink.host, sink.port)
    with pytest.raises(smtplib.SMTPServerDisconnected):
        c.sendmail("s@x.test", ["a@x.test"], b"Subject: x\r\n\r\n")
    assert sink.messages == [] and len(sink.transactions) == 1
    # Silent server: accepts TCP, never greets.
    sink.replies = {"CONNECT": STALL}
    s = socket.create_connection((sink.host, sink.port), 5)
    s.settimeout(1)
    with pytest.raises(socket.timeout):
        s.recv(100)
    s.close()
    # Stalls after the data.
    sink.replies = {"DOT": STALL}
    c = smtplib.SMTP(local_hostname=CLIENT_HELO, timeout=1.5)
    c.connect(sink.host, sink.port)
    t0 = time.time()
    with pytest.raises((socket.timeout, smtplib.SMTPServerDisconnected)):
        c.sendmail("s@x.test", ["a@x.test"], b"Subject: x\r\n\r\n")
    assert time.time() - t0 >= 1.4
    c.close()
    sink.wait_connections(4)
    assert sink.connections == 4


def test_sink_extensions_and_strictness(sinks):
    sink = sinks.start(extensions=["8BITMIME"])
    c = smtp_client(sink.host, sink.port)
    c.ehlo()
    assert c.has_extn("8bitmime") and not c.has_extn("dsn") and \
        not c.has_extn("pipelining") and not c.has_extn("size")
    code, _ = c.docmd("MAIL FROM:<s@x.test> RET=FULL")
    assert code == 555
    code, _ = c.docmd("MAIL FROM:<s@x.test> SIZE=100")
    assert code == 555
    assert c.docmd("MAIL FROM:<s@x.test> BODY=8BITMIME")[0] == 250
    assert c.docmd("RCPT TO:<a@x.test> NOTIFY=NEVER")[0] == 555
    assert c.docmd("RCPT TO:<a@x.test>")[0] == 250
    assert c.docmd("BDAT 3 LAST")[0] == 500
    c.close()
    sink.advertise("DSN", "SIZE 1000")
    sink.hide("8BITMIME")
    c = smtp_client(sink.host, sink.port)
    c.ehlo()
    assert c.has_extn("dsn") and c.esmtp_features["size"] == "1000"
    assert not c.has_extn("8bitmime")
    assert c.docmd("MAIL FROM:<s@x.test> SIZE=5000")[0] == 552
    c.close()


def test_sink_chunking_and_pipelining(sink):
    r = RawClient.tcp(sink.host, sink.port)
    r.reply()
    r.cmd("EHLO raw.test")
    # Pipelined MAIL, RCPT and BDAT in one write.
    body = b"Subject: chunks\r\n\r\nfirst "
    r.send(b"MAIL FROM:<s@x.test>\r\nRCPT TO:<a@x.test>\r\nBDAT %d\r\n%s"
           % (len(body), body))
    assert r.reply()[0].startswith("250")
    assert r.reply()[0].startswith("250")
    assert r.reply()[0].startswith("250")
    r.send(b"BDAT 7 LAST\r\nsecond\n")
    assert r.reply()[0].startswith("250")
    r.cmd("QUIT")
    r.close()
    m = sink.wait(1)[0]
    assert m.via == "BDAT"
    assert m.data == b"Subject: chunks\r\n\r\nfirst second\n"
    cmds = sink.commands
    mail = [c for c in cmds if c.line.startswith("MAIL")][0]
    ehlo = [c for c in cmds if c.line.startswith("EHLO")][0]
    assert mail.pipelined and not ehlo.pipelined


def test_lmtp_sink_tcp(sinks):
    sink = sinks.start(lmtp=True)
    sink.lmtp_replies["full@x.test"] = "452 4.2.2 Mailbox full"
    sink.rcpt_replies["gone@x.test"] = "550 5.1.1 Gone"
    r = RawClient.tcp(sink.host, sink.port)
    greeting = r.reply()[0]
    assert greeting.startswith("220 ") and "LMTP" in greeting
    assert r.cmd("EHLO a.test")[0].startswith("500")
    assert r.cmd("LHLO a.test")[-1].startswith("250 ")
    assert r.cmd("MAIL FROM:<s@x.test>")[0].startswith("250")
    for rcpt, code in (("ok@x.test", "250"), ("gone@x.test", "550"),
                       ("full@x.test", "250"), ("ok2@x.test", "250")):
        assert r.cmd("RCPT TO:<%s>" % rcpt)[0].startswith(code)
    assert r.cmd("DATA")[0].startswith("354")
    r.send("Subject: lmtp\r\n\r\nhi\r\n.\r\n")
    replies = [r.reply()[0] for _ in range(3)]
    assert replies[0].startswith("250") and replies[2].startswith("250")
    assert replies[1] == "452 4.2.2 Mailbox full"
    r.cmd("QUIT")
    m = sink.wait(1)[0]
    assert m.helo_verb == "LHLO"
    assert m.rcpts == ["ok@x.test", "full@x.test", "ok2@x.test"]
    assert m.accepted == ["ok@x.test", "ok2@x.test"]
    assert m.replies["full@x.test"].startswith("452")
    assert sink.nexthop == "inet:127.0.0.1:%d" % sink.port


def test_lmtp_sink_unix(sinks):
    sink = sinks.start(lmtp=True, unix=True)
    assert sink.nexthop == "unix:" + sink.path
    assert oct(os.stat(sink.path).st_mode & 0o777) == oct(0o666)
    c = smtplib.LMTP(sink.path, local_hostname=CLIENT_HELO)
    c.sendmail("s@x.test", ["u@x.test"], b"Subject: unix\r\n\r\nx\r\n")
    c.quit()
    m = sink.wait(1)[0]
    assert m.message["Subject"] == "unix" and m.accepted == ["u@x.test"]
    path = sink.path
    sink.stop()
    assert not os.path.exists(path)


def test_sink_second_loopback(sink, second_loopback):
    c = second_loopback.smtp(sink.host, sink.port)
    c.sendmail("s@x.test", ["a@x.test"], b"Subject: from .2\r\n\r\n")
    c.quit()
    assert sink.wait(1)[0].peer[0] == "127.0.0.2"
    s = second_loopback.connect(sink.host, sink.port)
    assert s.getsockname()[0] == "127.0.0.2"
    s.close()


def test_sink_stop_closes_everything():
    sink = SmtpSink().start()
    sink.replies["CONNECT"] = STALL
    s = socket.create_connection((sink.host, sink.port), 5)
    sink.wait_connections(1)
    sink.stop()
    s.settimeout(5)
    assert s.recv(10) == b""      # closed by the sink at stop
    s.close()
    assert not sink.thread.is_alive()
    with pytest.raises(OSError):
        socket.create_connection((sink.host, sink.port), 2)


# -- Postfix's smtp-sink and smtp-source ----------------------------------
def test_smtp_sink_and_source(smtp_sink):
    s = smtp_sink.start()
    r = smtp_source(s.host, s.port, messages=30, sessions=3, size=2000)
    assert r.returncode == 0
    assert s.wait(30) == 30
    # One session per message (smtp-source's default).
    wait_until(lambda: s.sessions == 30, 10, what="30 sessions")
    pid = s.proc.pid
    s.stop()
    assert not pid_alive(pid)


def test_smtp_sink_dump_and_lmtp(smtp_sink):
    # smtp-sink runs as nobody: a directory it can reach and write.
    d = tempfile.mkdtemp(prefix="postern-dump-")
    os.chmod(d, 0o777)
    s = smtp_sink.start(args=["-L", "-d", d + "/%M."])
    smtp_source(s.host, s.port, messages=2, lmtp=True,
                rcpt="who@where.test")
    s.wait(2)
    files = os.listdir(d)
    assert len(files) == 2
    with open(os.path.join(d, files[0])) as f:
        text = f.read()
    assert "X-Rcpt-Args: <who@where.test>" in text
    assert "X-Client-Proto: LMTP" in text
    shutil.rmtree(d)


# -- policy server ------------------------------------------------------------
def policy_ask(sock, attrs):
    sock.sendall("".join("%s=%s\n" % kv for kv in attrs.items()).encode()
                 + b"\n")
    data = b""
    while not data.endswith(b"\n\n"):
        chunk = sock.recv(4096)
        if not chunk:
            return None
        data += chunk
    return data.decode()


def test_policy_server_tcp(policy_server):
    assert policy_server.address == "inet:127.0.0.1:%d" % policy_server.port
    s = socket.create_connection((policy_server.host, policy_server.port), 5)
    req = {"request": "smtpd_access_policy", "protocol_state": "RCPT",
           "sender": "a@x.test", "recipient": "b@y.test",
           "client_address": "127.0.0.2"}
    assert policy_ask(s, req) == "action=DUNNO\n\n"
    policy_server.answer = lambda r: ("REJECT bad sender"
                                      if r["sender"] == "bad@x.test"
                                      else "action=OK")
    assert policy_ask(s, dict(req, sender="bad@x.test")) == \
        "action=REJECT bad sender\n\n"
    assert policy_ask(s, req) == "action=OK\n\n"
    policy_server.answer = DROP
    assert policy_ask(s, req) is None
    s.close()
    assert len(policy_server.wait(4)) == 4
    assert policy_server.requests[0] == req
    assert policy_server.connections == 1


def test_policy_server_unix(policy_servers):
    pol = policy_servers.start(answer="DEFER_IF_PERMIT try later",
                               unix=True)
    assert pol.address == "unix:" + pol.path
    s = socket.socket(socket.AF_UNIX)
    s.connect(pol.path)
    assert policy_ask(s, {"request": "smtpd_access_policy"}) == \
        "action=DEFER_IF_PERMIT try later\n\n"
    s.close()


def test_policy_server_stall_and_stop():
    pol = PolicyServer(answer=STALL).start()
    s = socket.create_connection((pol.host, pol.port), 5)
    s.settimeout(1)
    s.sendall(b"request=smtpd_access_policy\n\n")
    with pytest.raises(socket.timeout):
        s.recv(10)
    pol.wait(1)
    pol.stop()
    s.settimeout(5)
    assert s.recv(10) == b""
    s.close()


# -- cleanup ----------------------------------------------------------------
def test_postfix_smtp_sink_stops_when_start_fails():
    busy = socket.socket()
    busy.bind(("127.0.0.1", 0))
    busy.listen()
    port = busy.getsockname()[1]
    try:
        with pytest.raises(AssertionError):
            PostfixSmtpSink(port=port).start(timeout=3)
    finally:
        busy.close()
    from fixtures import _children
    assert not any(p.args[0].endswith("smtp-sink")
                   for p in _children.values() if p.poll() is None)


@pytest.mark.skipif(not IS_ROOT, reason="needs root")
def test_no_fixture_process_left(dns, smtp_sink):
    """The fixtures' processes are ours and are gone after stop."""
    s = smtp_sink.start()
    pids = [dns.proc.pid, s.proc.pid]
    for pid in pids:
        with open("/proc/%d/comm" % pid) as f:
            assert f.read().strip() in ("dnsmasq", "smtp-sink")
    dns.stop()
    s.stop()
    for pid in pids:
        assert not pid_alive(pid)
