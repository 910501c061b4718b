"""TLS in smtpd (STARTTLS, wrapper mode, levels) and smtp (client levels).

Server: openssl s_client -starttls smtp, Python smtplib starttls,
SMTP_SSL against a wrappermode service, swaks --tls; the protocol floor
(TLS 1.1 refused, 1.2 and 1.3 work); RSA/ECDSA certificate selection by
signature algorithms; SNI through tls_server_sni_maps built with
"postmap -F"; session resumption with the shared ticket key across smtpd
processes; level encrypt (530 before STARTTLS); plaintext pipelined after
STARTTLS is discarded (no injected command); the Received: header with
TLS details and ESMTPS; STARTTLS syntax and repetition; a missing
certificate gives 454 and no STARTTLS offer.  Client certificates:
permit_tls_clientcerts with relay_clientcerts (certificate and public key
fingerprints, an untrusted certificate listed by fingerprint),
permit_tls_all_clientcerts, check_ccert_access, a failing table, the
warning without smtpd_tls_ask_ccert, the policy attributes and the
level-2 log line.

Client: levels may/encrypt/verify/secure against aiosmtpd sinks with a
TLS context (good, expired and wrong-name certificates), a next hop that
offers no STARTTLS, smtp_tls_policy_maps per destination, the
Anonymous/Untrusted/Trusted/Verified log lines, wrapper mode to an
implicit-TLS sink, and a second Postern instance as the TLS server.

The CA and certificates come from tls_fixture.py (openssl command).
"""
import os
import re
import smtplib
import socket
import ssl
import subprocess
import time

import pytest

from conftest import BIN, VALGRIND, run, wait_for
from fixtures import free_port
from tls_fixture import tls_ca  # noqa: F401 (pytest fixture)

CHROOT = "n" if VALGRIND else "y"
HELO = "client.test.example"


# -- server side -----------------------------------------------------------
def smtpd_service(inst, port=None, extra=""):
    port = port or free_port()
    inst.master_cf += ("127.0.0.1:%d inet  n       -       %s       -"
                       "       -       smtpd%s\n" % (port, CHROOT, extra))
    return port


@pytest.fixture
def tls_server(instance, tls_ca, users):
    """An instance with smtpd on a free port, TLS level may, RSA cert."""
    users.add("alice")
    cert, key = tls_ca.pair("rsa")
    instance.params.update({
        "mynetworks": "127.0.0.1/32",
        "mail_spool_directory": instance.spool + "/",
        "smtpd_tls_security_level": "may",
        "smtpd_tls_cert_file": cert,
        "smtpd_tls_key_file": key,
        "smtpd_tls_loglevel": "1",
    })
    instance.smtp_port = smtpd_service(instance)
    return instance


def s_client(port, *args, input_text="QUIT\r\n", starttls=True,
             timeout=30):
    cmd = ["openssl", "s_client", "-connect", "127.0.0.1:%d" % port,
           "-ign_eof"]
    if starttls:
        cmd += ["-starttls", "smtp", "-name", HELO]
    cmd += list(args)
    return subprocess.run(cmd, input=input_text, capture_output=True,
                          text=True, timeout=timeout)


def maildir_messages(inst, user):
    d = os.path.join(inst.spool, user, "new")
    out = []
    if os.path.isdir(d):
        for n in sorted(os.listdir(d)):
            with open(os.path.join(d, n), "rb") as f:
                out.append(f.read().decode("utf-8", "replace"))
    return out


def test_s_client_starttls(tls_server):
    tls_server.start()
    r = s_client(tls_server.smtp_port, "-verify_return_error",
                 "-CAfile", tls_server.params["smtpd_tls_cert_file"]
                 .replace("rsa.crt", "ca.crt"))
    assert "Verify return code: 0 (ok)" in r.stdout, r.stdout + r.stderr
    assert re.search(r"Protocol *: TLSv1\.3", r.stdout), r.stdout
    assert "221" in r.stdout
    l = tls_server.wait_log(
        r"Anonymous TLS connection established from localhost\[127\.0\.0\.1\]"
        r": TLSv1\.3 with cipher TLS_\w+ \(\d+/\d+ bits\)")
    assert l
    tls_server.wait_log(r"disconnect from .* starttls=1")


def test_smtplib_starttls_delivers_with_received_header(tls_server, tls_ca):
    tls_server.params["smtpd_tls_received_header"] = "yes"
    tls_server.start()
    c = smtplib.SMTP("127.0.0.1", tls_server.smtp_port, local_hostname=HELO,
                     timeout=30)
    code, text = c.ehlo()
    assert b"STARTTLS" in text
    c.starttls(context=tls_ca.client_context())
    # After TLS the server forgot EHLO: smtplib sends it again.
    code, text = c.ehlo()
    assert code == 250 and b"STARTTLS" not in text
    c.sendmail("sender@test.example", ["alice@mx.test.example"],
               "Subject: over tls\r\n\r\nsecret\r\n")
    c.quit()
    msgs = wait_for(lambda: maildir_messages(tls_server, "alice"), 30,
                    what="delivery")
    m = msgs[0]
    assert re.search(r"Received: from client\.test\.example \(localhost "
                     r"\[127\.0\.0\.1\]\)\n\t\(using TLSv1\.3 with cipher "
                     r"TLS_\w+ \(\d+/\d+ bits\)\n\t key-exchange \S+ "
                     r"server-signature RSA-PSS \(2048 bits\) "
                     r"server-digest SHA256\)\n\t\(No client certificate "
                     r"requested\)\n\tby mx\.test\.example \(Postern\) with "
                     r"ESMTPS id \w+", m), m


def test_received_header_off_by_default(tls_server, tls_ca):
    tls_server.start()
    c = smtplib.SMTP("127.0.0.1", tls_server.smtp_port, local_hostname=HELO,
                     timeout=30)
    c.starttls(context=tls_ca.client_context())
    c.sendmail("sender@test.example", ["alice@mx.test.example"],
               "Subject: x\r\n\r\nx\r\n")
    c.quit()
    m = wait_for(lambda: maildir_messages(tls_server, "alice"), 30,
                 what="delivery")[0]
    assert "(using TLS" not in m
    assert re.search(r"with ESMTPS id", m), m


def test_wrappermode_smtp_ssl(tls_server, tls_ca):
    port = smtpd_service(tls_server, extra=" -o smtpd_tls_wrappermode=yes")
    tls_server.start()
    c = smtplib.SMTP_SSL("127.0.0.1", port, local_hostname=HELO, timeout=30,
                         context=tls_ca.client_context())
    code, text = c.ehlo()
    assert code == 250 and b"STARTTLS" not in text
    assert c.docmd("STARTTLS")[0] == 554
    c.sendmail("sender@test.example", ["alice@mx.test.example"],
               "Subject: wrapped\r\n\r\nx\r\n")
    c.quit()
    m = wait_for(lambda: maildir_messages(tls_server, "alice"), 30,
                 what="delivery")[0]
    assert "with ESMTPS" in m
    # A plaintext client on the wrapper port gets no SMTP greeting.
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    s.sendall(b"EHLO x\r\n")
    s.settimeout(10)
    try:
        data = s.recv(100)
    except ConnectionResetError:
        data = b""
    s.close()
    assert not data.startswith(b"220")
    tls_server.wait_log(r"SSL_accept error from localhost\[127\.0\.0\.1\]")


def test_swaks_tls(tls_server):
    tls_server.start()
    r = run(["swaks", "--server", "127.0.0.1", "--port",
             str(tls_server.smtp_port), "--tls", "--helo", HELO,
             "--from", "sender@test.example", "--to",
             "alice@mx.test.example", "--timeout", "30"], check=False)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "220 2.0.0 Ready to start TLS" in r.stdout
    assert "TLS started" in r.stdout


def test_protocol_floor(tls_server):
    tls_server.start()
    port = tls_server.smtp_port
    r = s_client(port, "-tls1_1", "-cipher", "DEFAULT:@SECLEVEL=0")
    assert "Cipher is (NONE)" in r.stdout and r.returncode != 0, r.stdout
    tls_server.wait_log(r"SSL_accept error from localhost\[127\.0\.0\.1\]: "
                        r"TLS handshake failed: unsupported protocol")
    r = s_client(port, "-tls1_2")
    assert re.search(r"Protocol *: TLSv1\.2", r.stdout), r.stdout + r.stderr
    r = s_client(port, "-tls1_3")
    assert re.search(r"Protocol *: TLSv1\.3", r.stdout), r.stdout + r.stderr
    # No anonymous, NULL, RC4 or 3DES suite is accepted.
    for c in ("aNULL", "eNULL", "3DES", "RC4"):
        r = s_client(port, "-tls1_2", "-cipher", c + ":@SECLEVEL=0")
        assert "Cipher is (NONE)" in r.stdout or r.returncode != 0, (c,
                                                                     r.stdout)


def test_rsa_and_ecdsa_selection(tls_server, tls_ca):
    ec, eckey = tls_ca.pair("ecdsa")
    tls_server.params["smtpd_tls_eccert_file"] = ec
    tls_server.params["smtpd_tls_eckey_file"] = eckey
    tls_server.start()
    port = tls_server.smtp_port
    r = s_client(port, "-tls1_2", "-sigalgs", "ECDSA+SHA256")
    assert re.search(r"Peer signature type: ECDSA", r.stdout), r.stdout
    assert "id-ecPublicKey" in r.stdout or "ECDSA" in r.stdout
    r = s_client(port, "-tls1_2", "-sigalgs", "RSA-PSS+SHA256:RSA+SHA256")
    assert re.search(r"Peer signature type: RSA", r.stdout), r.stdout
    r = s_client(port, "-tls1_3", "-sigalgs", "ecdsa_secp256r1_sha256")
    assert "Peer signature type: ECDSA" in r.stdout, r.stdout


def test_chain_files_dual(instance, tls_ca, users):
    """smtpd_tls_chain_files: RSA and ECDSA key+chain files together."""
    users.add("alice")
    instance.params.update({
        "smtpd_tls_security_level": "may",
        "smtpd_tls_chain_files": "%s, %s" % (tls_ca.chain("rsa"),
                                             tls_ca.chain("ecdsa")),
    })
    port = smtpd_service(instance)
    instance.start()
    r = s_client(port, "-tls1_2", "-sigalgs", "ECDSA+SHA256",
                 "-CAfile", tls_ca.cafile)
    assert "Peer signature type: ECDSA" in r.stdout, r.stdout
    assert "Verify return code: 0 (ok)" in r.stdout, r.stdout
    r = s_client(port, "-tls1_2", "-sigalgs", "RSA-PSS+SHA256",
                 "-CAfile", tls_ca.cafile)
    assert "Peer signature type: RSA-PSS" in r.stdout, r.stdout
    assert "Verify return code: 0 (ok)" in r.stdout, r.stdout


def test_sni_map_with_postmap_F(tls_server, tls_ca):
    sni = os.path.join(tls_server.etc, "sni")
    with open(sni, "w") as f:
        f.write("one.sni.test %s\n" % tls_ca.chain("one"))
        # The parent-domain form answers for any name below it.
        f.write(".two.sni.test %s\n" % tls_ca.chain("two"))
        f.write("two.sni.test %s, %s\n" % (tls_ca.p("two.key"),
                                          tls_ca.p("two.crt")))
    tls_server.write_config()
    tls_server.cmd("postmap", "-F", "hash:" + sni)
    # The table holds base64, not file names.
    q = tls_server.cmd("postmap", "-q", "one.sni.test", "hash:" + sni)
    assert q.stdout.startswith("LS0tLS1CRUdJTi"), q.stdout[:40]
    tls_server.params["tls_server_sni_maps"] = "hash:" + sni
    tls_server.start()
    port = tls_server.smtp_port

    def subject(name):
        args = ["-servername", name] if name else ["-noservername"]
        r = s_client(port, *args)
        m = re.search(r"subject=CN ?= ?(\S+)", r.stdout)
        assert m, r.stdout + r.stderr
        return m.group(1)
    assert subject("one.sni.test") == "one.sni.test"
    assert subject("two.sni.test") == "two.sni.test"
    assert subject("x.two.sni.test") == "two.sni.test"
    assert subject("other.test") == "mx.test.example"
    assert subject(None) == "mx.test.example"


def test_sni_map_bad_value_is_refused(tls_server, tls_ca):
    """A table not built with -F: the handshake fails, smtpd survives."""
    sni = os.path.join(tls_server.etc, "sni")
    with open(sni, "w") as f:
        f.write("one.sni.test %s\n" % tls_ca.chain("one"))
    tls_server.write_config()
    tls_server.cmd("postmap", "hash:" + sni)
    tls_server.params["tls_server_sni_maps"] = "hash:" + sni
    tls_server.start()
    r = s_client(tls_server.smtp_port, "-servername", "one.sni.test")
    assert "Cipher is (NONE)" in r.stdout or r.returncode != 0
    tls_server.wait_log(r"tls_server_sni_maps entry for one\.sni\.test: "
                        r"value is not base64 \(was the table built with "
                        r"\"postmap -F\"\?\)")
    r = s_client(tls_server.smtp_port, "-servername", "other.test")
    assert "subject=CN = mx.test.example" in r.stdout, r.stdout


def test_ticket_resumption_across_processes(tls_server, tmp_path):
    tls_server.start()
    port = tls_server.smtp_port
    sess = str(tmp_path / "sess.pem")
    for proto in ("-tls1_2", "-tls1_3"):
        first = s_client(port, proto, "-sess_out", sess,
                         input_text="NOOP\r\nQUIT\r\n")
        assert os.path.getsize(sess) > 0, first.stdout + first.stderr
        # Keep the first connection's smtpd busy? No: a second process
        # is forced by a blocking client on the same service.
        hold = socket.create_connection(("127.0.0.1", port), timeout=10)
        hold.recv(100)
        again = s_client(port, proto, "-sess_in", sess)
        hold.close()
        assert "Reused, " in again.stdout, (proto, again.stdout)
    key = os.path.join(tls_server.params["data_directory"],
                       "smtpd_tls_ticket.key")
    st = os.stat(key)
    assert st.st_mode & 0o777 == 0o600 and st.st_size == 160
    if os.geteuid() == 0:
        assert st.st_uid == 0
    tls_server.wait_log(r"TLS session ticket key .* created")
    tls_server.wait_log(r"TLS connection established .* \(session reused\)")


def test_ssl_options_no_ticket(tls_server, tmp_path):
    """tls_ssl_options = NO_TICKET: no session ticket, so no resumption;
    PRIORITIZE_CHACHA is taken alongside."""
    tls_server.params["tls_ssl_options"] = "no_ticket, PRIORITIZE_CHACHA"
    tls_server.start()
    port = tls_server.smtp_port
    sess = str(tmp_path / "sess.pem")
    for proto in ("-tls1_2", "-tls1_3"):
        if os.path.exists(sess):
            os.unlink(sess)
        first = s_client(port, proto, "-sess_out", sess,
                         input_text="NOOP\r\nQUIT\r\n")
        assert "Cipher is" in first.stdout, first.stdout + first.stderr
        # TLS 1.2 gets no ticket, so s_client has nothing to save; TLS
        # 1.3 gets a stateful one, which no server cache backs: neither
        # resumes.
        if os.path.exists(sess) and os.path.getsize(sess) > 0:
            again = s_client(port, proto, "-sess_in", sess)
            assert "New, " in again.stdout, (proto, again.stdout)
    assert "(session reused)" not in tls_server.log()


def test_ssl_options_bad_value(tls_server):
    """An unknown tls_ssl_options name leaves smtpd without TLS (no
    STARTTLS offered) and says why."""
    tls_server.params["tls_ssl_options"] = "NO_TICKET, NO_SUCH_OPTION"
    tls_server.start()
    c = smtplib.SMTP("127.0.0.1", tls_server.smtp_port, local_hostname=HELO,
                     timeout=30)
    code, text = c.ehlo()
    c.quit()
    assert code == 250 and b"STARTTLS" not in text
    tls_server.wait_log(r'warning: TLS not available: tls_ssl_options: '
                        r'unknown option "NO_SUCH_OPTION"')


def test_ticket_key_rotation_keeps_previous(tls_server, tmp_path):
    """A key older than smtpd_tls_session_cache_timeout is replaced by the
    next smtpd process; tickets under the old key still resume."""
    tls_server.params["smtpd_tls_session_cache_timeout"] = "60s"
    tls_server.params["max_use"] = "1"
    tls_server.start()
    port = tls_server.smtp_port
    sess = str(tmp_path / "sess.pem")
    s_client(port, "-tls1_2", "-sess_out", sess,
             input_text="NOOP\r\nQUIT\r\n")
    key = os.path.join(tls_server.params["data_directory"],
                       "smtpd_tls_ticket.key")
    with open(key, "rb") as f:
        before = f.read()
    old = time.time() - 120
    os.utime(key, (old, old))
    again = s_client(port, "-tls1_2", "-sess_in", sess)
    with open(key, "rb") as f:
        after = f.read()
    assert after[80:] == before[:80]
    assert after[:80] != before[:80]
    assert "Reused, " in again.stdout, again.stdout
    tls_server.wait_log(r"TLS session ticket key .* rotated")


def test_encrypt_level_requires_starttls(tls_server, tls_ca):
    tls_server.params["smtpd_tls_security_level"] = "encrypt"
    tls_server.start()
    c = smtplib.SMTP("127.0.0.1", tls_server.smtp_port, local_hostname=HELO,
                     timeout=30)
    c.ehlo()
    code, text = c.docmd("MAIL FROM:<sender@test.example>")
    assert code == 530 and text == b"5.7.0 Must issue a STARTTLS command first"
    c.starttls(context=tls_ca.client_context())
    c.ehlo()
    code, _ = c.docmd("MAIL FROM:<sender@test.example>")
    assert code == 250
    c.quit()
    tls_server.wait_log(r"NOQUEUE: reject: MAIL from localhost\[127\.0\.0\.1"
                        r"\]: 530 5\.7\.0 Must issue a STARTTLS command "
                        r"first")


def test_starttls_plaintext_injection_discarded(tls_server, tls_ca):
    tls_server.start()
    raw = socket.create_connection(("127.0.0.1", tls_server.smtp_port),
                                   timeout=15)
    f = raw.makefile("rb")

    def reply(fh):
        lines = []
        while True:
            line = fh.readline()
            assert line, "connection closed after %r" % lines
            lines.append(line.decode().rstrip("\r\n"))
            if line[3:4] != b"-":
                return lines
    assert reply(f)[0].startswith("220")
    raw.sendall(b"EHLO " + HELO.encode() + b"\r\n")
    assert any("STARTTLS" in l for l in reply(f))
    # STARTTLS and an injected command in one packet.
    raw.sendall(b"STARTTLS\r\nRSET\r\n")
    assert reply(f) == ["220 2.0.0 Ready to start TLS"]
    tls = tls_ca.client_context().wrap_socket(raw,
                                              server_hostname="localhost")
    tf = tls.makefile("rb")
    tls.sendall(b"EHLO " + HELO.encode() + b"\r\n")
    ehlo = reply(tf)
    assert ehlo[0].startswith("250-"), ehlo
    tls.sendall(b"NOOP\r\n")
    # Had RSET been read inside TLS, its 250 would come first.
    assert reply(tf) == ["250 2.0.0 Ok"]
    tls.sendall(b"QUIT\r\n")
    assert reply(tf)[0].startswith("221")
    tls.close()
    tls_server.wait_log(r"localhost\[127\.0\.0\.1\]: discarding 6 bytes of "
                        r"plaintext pipelined after STARTTLS")
    l = tls_server.wait_log(r"disconnect from localhost.*")[0]
    assert "rset" not in l


def test_starttls_syntax_and_repeat(tls_server, tls_ca):
    tls_server.start()
    c = smtplib.SMTP("127.0.0.1", tls_server.smtp_port, local_hostname=HELO,
                     timeout=30)
    c.ehlo()
    assert c.docmd("STARTTLS now")[0] == 501
    c.starttls(context=tls_ca.client_context())
    c.ehlo()
    code, text = c.docmd("STARTTLS")
    assert (code, text) == (554, b"5.5.1 Error: TLS already active")
    c.quit()


def test_missing_cert_no_offer_and_454(tls_server):
    tls_server.params["smtpd_tls_cert_file"] = "/nonexistent/cert.pem"
    tls_server.params["smtpd_tls_key_file"] = "/nonexistent/key.pem"
    tls_server.start()
    c = smtplib.SMTP("127.0.0.1", tls_server.smtp_port, local_hostname=HELO,
                     timeout=30)
    code, text = c.ehlo()
    assert code == 250 and b"STARTTLS" not in text
    code, text = c.docmd("STARTTLS")
    assert (code, text) == (454, b"4.7.0 TLS not available due to local "
                            b"problem")
    # Mail still flows at level may.
    assert c.docmd("MAIL FROM:<sender@test.example>")[0] == 250
    c.quit()
    tls_server.wait_log(r"warning: TLS not available: cannot load "
                        r"certificate file /nonexistent/cert\.pem")


def test_missing_cert_at_encrypt_refuses_mail(tls_server):
    tls_server.params["smtpd_tls_security_level"] = "encrypt"
    tls_server.params["smtpd_tls_cert_file"] = "/nonexistent/cert.pem"
    tls_server.start()
    c = smtplib.SMTP("127.0.0.1", tls_server.smtp_port, local_hostname=HELO,
                     timeout=30)
    c.ehlo()
    code, text = c.docmd("MAIL FROM:<sender@test.example>")
    assert code == 454 and b"TLS not available" in text
    c.quit()


def test_client_certificate_logged_and_in_header(tls_server, tls_ca):
    tls_server.params.update({
        "smtpd_tls_ask_ccert": "yes",
        "smtpd_tls_CAfile": tls_ca.cafile,
        "smtpd_tls_received_header": "yes",
        "smtpd_tls_loglevel": "2",
    })
    tls_server.start()
    ctx = tls_ca.client_context("client")
    c = smtplib.SMTP("127.0.0.1", tls_server.smtp_port, local_hostname=HELO,
                     timeout=30)
    c.starttls(context=ctx)
    c.sendmail("sender@test.example", ["alice@mx.test.example"],
               "Subject: cc\r\n\r\nx\r\n")
    c.quit()
    m = wait_for(lambda: maildir_messages(tls_server, "alice"), 30,
                 what="delivery")[0]
    assert ('(Client CN "client.test.example", Issuer "Postern Test Root '
            'CA" (verified OK))') in m, m
    tls_server.wait_log(r"Trusted TLS connection established from "
                        r"localhost\[127\.0\.0\.1\]")
    # Level 2: the names and both fingerprints, as openssl computes them.
    fpt, pkey = tls_ca.fingerprints("client")
    tls_server.wait_log(re.escape(
        "localhost[127.0.0.1]: subject_CN=client.test.example, "
        "issuer_CN=Postern Test Root CA, fingerprint=%s, "
        "pkey_fingerprint=%s" % (fpt, pkey)))


# -- client certificates in the restrictions -------------------------------
RELAY_RCPT = "someone@remote.example"
RELAY_DENIED = (554, "5.7.1 <%s>: Relay access denied" % RELAY_RCPT)


@pytest.fixture
def ccert_server(tls_server, tls_ca):
    """tls_server asking for client certificates, with 127.0.0.1 outside
    mynetworks so that only a certificate can allow relaying."""
    tls_server.params.update({
        "mynetworks": "192.0.2.0/24",
        "smtpd_tls_ask_ccert": "yes",
        "smtpd_tls_CAfile": tls_ca.cafile,
    })
    return tls_server


def ccert_rcpt(inst, tls_ca, cert, rcpt=RELAY_RCPT):
    """RCPT TO over STARTTLS, presenting certificate cert (None: no
    certificate); (code, text) of the RCPT reply."""
    c = smtplib.SMTP("127.0.0.1", inst.smtp_port, local_hostname=HELO,
                     timeout=30)
    try:
        c.starttls(context=tls_ca.client_context(cert))
        c.ehlo()
        code, text = c.mail("sender@test.example")
        assert code == 250, (code, text)
        code, text = c.rcpt(rcpt)
        return code, text.decode()
    finally:
        c.quit()


def write_table(inst, name, rows):
    path = os.path.join(inst.etc, name)
    with open(path, "w") as f:
        f.write("# fingerprints\n" + "".join("%s %s\n" % r for r in rows))
    return path


def test_permit_tls_clientcerts(ccert_server, tls_ca):
    """relay_clientcerts lists a certificate fingerprint (also of a
    self-signed certificate: the fingerprint is the credential) or a
    public key fingerprint; any other certificate, or none, is refused."""
    inst = ccert_server
    table = write_table(inst, "relay_clientcerts", [
        (tls_ca.fingerprints("client")[0], "client.test.example"),
        (tls_ca.fingerprints("ecdsa")[1], "ecdsa-key"),
        (tls_ca.fingerprints("selfsigned")[0], "self-signed"),
    ])
    inst.params.update({
        "relay_clientcerts": "texthash:" + table,
        "smtpd_relay_restrictions":
            "permit_tls_clientcerts, reject_unauth_destination",
    })
    inst.start()
    for cert in ("client", "ecdsa", "selfsigned"):
        assert ccert_rcpt(inst, tls_ca, cert) == (
            250, "2.1.5 Ok"), cert
    for cert in (None, "wrongname", "expired"):
        assert ccert_rcpt(inst, tls_ca, cert) == RELAY_DENIED, cert
    assert "permit_tls_clientcerts is requested" not in inst.log()


def test_permit_tls_all_clientcerts(ccert_server, tls_ca):
    """Any certificate that verifies against smtpd_tls_CAfile; not a
    self-signed or an expired one."""
    inst = ccert_server
    inst.params["smtpd_relay_restrictions"] = (
        "permit_tls_all_clientcerts, reject_unauth_destination")
    inst.start()
    for cert in ("client", "wrongname"):
        assert ccert_rcpt(inst, tls_ca, cert) == (250, "2.1.5 Ok"), cert
    for cert in (None, "selfsigned", "expired"):
        assert ccert_rcpt(inst, tls_ca, cert) == RELAY_DENIED, cert


def test_check_ccert_access(ccert_server, tls_ca):
    """check_ccert_access: the certificate fingerprint, then the public
    key fingerprint, as access(5) keys; a REJECT names the subject CN."""
    inst = ccert_server
    table = write_table(inst, "ccert_access", [
        (tls_ca.fingerprints("client")[0], "REJECT certificate withdrawn"),
        (tls_ca.fingerprints("ecdsa")[1], "OK"),
    ])
    inst.params["smtpd_relay_restrictions"] = (
        "check_ccert_access texthash:%s, reject_unauth_destination" % table)
    inst.start()
    assert ccert_rcpt(inst, tls_ca, "client") == (
        554, "5.7.1 <client.test.example>: Client certificate rejected: "
        "certificate withdrawn")
    assert ccert_rcpt(inst, tls_ca, "ecdsa") == (250, "2.1.5 Ok")
    for cert in (None, "wrongname"):
        assert ccert_rcpt(inst, tls_ca, cert) == RELAY_DENIED, cert
    inst.wait_log(r"reject: RCPT from localhost\[127\.0\.0\.1\]: 554 5\.7\.1 "
                  r"<client\.test\.example>: Client certificate rejected")


def test_relay_clientcerts_lookup_failure(ccert_server, tls_ca):
    """A relay_clientcerts table that cannot be read is a temporary
    failure, not a refusal and not a permit."""
    inst = ccert_server
    inst.params.update({
        "relay_clientcerts": "hash:%s/missing" % inst.etc,
        "smtpd_relay_restrictions":
            "permit_tls_clientcerts, reject_unauth_destination",
    })
    inst.start()
    assert ccert_rcpt(inst, tls_ca, "client") == (
        451, "4.3.0 <%s>: Temporary lookup failure" % RELAY_RCPT)
    inst.wait_log(r"warning: relay_clientcerts: lookup error for "
                  r"fingerprint [0-9A-F:]{95}, pkey_fingerprint")


def test_policy_ccert_attributes(ccert_server, tls_ca, policy_server):
    """A policy server gets both fingerprints of any client certificate;
    the subject and issuer only of one that verified."""
    inst = ccert_server
    inst.params["smtpd_relay_restrictions"] = (
        "check_policy_service %s, reject_unauth_destination"
        % policy_server.address)
    inst.start()
    for cert, verified in (("client", True), ("selfsigned", False)):
        ccert_rcpt(inst, tls_ca, cert)
        req = policy_server.requests[-1]
        fpt, pkey = tls_ca.fingerprints(cert)
        assert (req["ccert_fingerprint"], req["ccert_pubkey_fingerprint"]
                ) == (fpt, pkey), cert
        if verified:
            assert req["ccert_subject"] == "client.test.example"
            assert req["ccert_issuer"] == "Postern Test Root CA"
        else:
            assert req["ccert_subject"] == req["ccert_issuer"] == ""


def test_permit_tls_clientcerts_without_ask_ccert(tls_server, tls_ca):
    """Without smtpd_tls_ask_ccert no certificate is asked for: the
    restriction never permits, and a warning says why."""
    inst = tls_server
    table = write_table(inst, "relay_clientcerts", [
        (tls_ca.fingerprints("client")[0], "client.test.example")])
    inst.params.update({
        "mynetworks": "192.0.2.0/24",
        "relay_clientcerts": "texthash:" + table,
        "smtpd_relay_restrictions":
            "permit_tls_clientcerts, reject_unauth_destination",
    })
    inst.start()
    assert ccert_rcpt(inst, tls_ca, "client") == RELAY_DENIED
    inst.wait_log(r'warning: permit_tls_clientcerts is requested, but '
                  r'"smtpd_tls_ask_ccert = no"')


# -- client side -------------------------------------------------------------
SENDER = "sender@test.example"


def sink_ctx(tls_ca, name, **kw):
    """A server-side context with certificate name (tls_fixture.py)."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    cert, key = tls_ca.pair(name)
    ctx.load_cert_chain(cert, key)
    for k, v in kw.items():
        setattr(ctx, k, v)
    return ctx


def client(instance, tls_ca, sink, **params):
    """smtp(8) relays to sink; TLS settings from params."""
    instance.master_cf += ("smtp      unix  -       -       %s       -       "
                           "-       smtp\n" % CHROOT)
    instance.params.update({
        "relayhost": sink.relayhost,
        "smtp_tls_CAfile": tls_ca.cafile,
        "smtp_tls_loglevel": "1",
        "smtp_connect_timeout": "5s",
        "smtp_helo_timeout": "5s",
        "smtp_starttls_timeout": "5s",
        "smtp_mail_timeout": "5s",
        "smtp_rcpt_timeout": "5s",
        "smtp_data_done_timeout": "5s",
        "smtp_quit_timeout": "5s",
    })
    instance.params.update(params)
    instance.start()


def relay_send(instance, rcpt="someone@remote.example"):
    instance.sendmail(["-f", SENDER, rcpt],
                      "From: %s\nTo: %s\nSubject: tls\n\nhello\n"
                      % (SENDER, rcpt))


def status(instance, rcpt, st, timeout=30):
    def find():
        for l in instance.log().splitlines():
            if "to=<%s>" % rcpt in l and " status=%s " % st in l:
                return l
        return None
    return wait_for(find, timeout, what="status=%s for %s; log:\n%s" % (
        st, rcpt, instance.log()[-3000:]))


def summary(instance, trust, sink):
    """The client's TLS log line: 'QID: Trust TLS connection ...'."""
    return instance.wait_log(
        r"postfix/smtp\[\d+\]: \w+: %s TLS connection established to "
        r"127\.0\.0\.1\[127\.0\.0\.1\]:%d: TLSv1\.[23] with cipher \S+ "
        r"\(\d+/\d+ bits\)" % (trust, sink.port))


@pytest.mark.parametrize("level,cert,result,trust", [
    ("may", "rsa", "sent", "Trusted"),
    ("may", "expired", "sent", "Untrusted"),
    ("may", "selfsigned", "sent", "Untrusted"),
    ("encrypt", "rsa", "sent", "Trusted"),
    ("encrypt", "expired", "sent", "Untrusted"),
    ("encrypt", "wrongname", "sent", "Trusted"),
    ("verify", "rsa", "sent", "Verified"),
    ("verify", "expired", "deferred", "Untrusted"),
    ("verify", "wrongname", "deferred", "Trusted"),
    ("secure", "rsa", "sent", "Verified"),
    ("secure", "expired", "deferred", "Untrusted"),
    ("secure", "wrongname", "deferred", "Trusted"),
])
def test_client_levels(instance, tls_ca, sinks, level, cert, result, trust):
    sink = sinks.start(tls_context=sink_ctx(tls_ca, cert))
    client(instance, tls_ca, sink, smtp_tls_security_level=level)
    relay_send(instance)
    l = status(instance, "someone@remote.example", result)
    summary(instance, trust, sink)
    assert any(c.line == "STARTTLS" for c in sink.commands)
    if result == "sent":
        tx = sink.wait(1)[0]
        assert tx.rcpts == ["someone@remote.example"]
        # EHLO again inside TLS.
        assert [c.line.split()[0] for c in sink.commands][:3] == [
            "EHLO", "STARTTLS", "EHLO"]
    else:
        assert sink.messages == []
        why = "not trusted" if trust == "Untrusted" else "not verified"
        assert "dsn=4.7.5" in l and "Server certificate %s" % why in l, l
        instance.wait_log(r"server certificate verification failed for "
                          r"127\.0\.0\.1\[127\.0\.0\.1\]:%d" % sink.port)


def test_client_encrypt_without_starttls_defers(instance, tls_ca, sinks):
    sink = sinks.start()
    client(instance, tls_ca, sink, smtp_tls_security_level="encrypt")
    relay_send(instance)
    l = status(instance, "someone@remote.example", "deferred")
    assert ("dsn=4.7.4" in l and "TLS is required, but was not offered by "
            "host 127.0.0.1[127.0.0.1]" in l), l
    assert sink.messages == []


def test_client_may_without_starttls_plaintext(instance, tls_ca, sinks):
    sink = sinks.start()
    client(instance, tls_ca, sink, smtp_tls_security_level="may",
           smtp_tls_note_starttls_offer="yes")
    relay_send(instance)
    status(instance, "someone@remote.example", "sent")
    assert "TLS connection established" not in instance.log()


def test_client_note_starttls_offer(instance, tls_ca, sinks):
    sink = sinks.start(tls_context=sink_ctx(tls_ca, "rsa"))
    client(instance, tls_ca, sink, smtp_tls_note_starttls_offer="yes")
    relay_send(instance)
    status(instance, "someone@remote.example", "sent")
    instance.wait_log(r"\w+: Host offered STARTTLS: \[127\.0\.0\.1\]")
    assert not any(c.line == "STARTTLS" for c in sink.commands)


def test_client_may_handshake_failure_retries_plaintext(instance, tls_ca,
                                                        sinks):
    ctx = sink_ctx(tls_ca, "rsa", maximum_version=ssl.TLSVersion.TLSv1_2)
    sink = sinks.start(tls_context=ctx)
    client(instance, tls_ca, sink, smtp_tls_security_level="may",
           smtp_tls_protocols=">=TLSv1.3")
    relay_send(instance)
    status(instance, "someone@remote.example", "sent")
    instance.wait_log(r"Cannot start TLS: handshake failure .*; trying "
                      r"127\.0\.0\.1 again without TLS")
    assert sink.connections == 2
    assert sink.messages[0].rcpts == ["someone@remote.example"]


def test_client_policy_maps(instance, tls_ca, sinks):
    good = sinks.start(tls_context=sink_ctx(tls_ca, "wrongname"))
    policy = os.path.join(instance.etc, "tls_policy")
    # The main.cf level says nothing; the table asks for "secure" with a
    # name list that the wrong-name certificate satisfies.
    with open(policy, "w") as f:
        f.write("[127.0.0.1]:%d secure match=nexthop:wrong.test.example "
                "protocols=>=TLSv1.2 ciphers=high\n" % good.port)
    client(instance, tls_ca, good, smtp_tls_policy_maps="texthash:" +
           policy)
    relay_send(instance)
    status(instance, "someone@remote.example", "sent")
    summary(instance, "Verified", good)


def test_client_policy_maps_verify_defers(instance, tls_ca, sinks):
    bad = sinks.start(tls_context=sink_ctx(tls_ca, "wrongname"))
    policy = os.path.join(instance.etc, "tls_policy")
    with open(policy, "w") as f:
        f.write("[127.0.0.1]:%d verify\n" % bad.port)
    client(instance, tls_ca, bad, smtp_tls_security_level="may",
           smtp_tls_policy_maps="texthash:" + policy)
    relay_send(instance)
    l = status(instance, "someone@remote.example", "deferred")
    assert "Server certificate not verified" in l


@pytest.mark.parametrize("cert,pin,how,result", [
    # A self-signed certificate pinned by its fingerprint in main.cf.
    ("selfsigned", "selfsigned", "main.cf", "sent"),
    # A CA-signed one pinned by its public key in the policy table, with
    # another, wrong, fingerprint first.
    ("rsa", "rsa", "policy", "sent"),
    # The pin of another certificate.
    ("rsa", "ecdsa", "main.cf", "deferred"),
    ("expired", "rsa", "policy", "deferred"),
])
def test_client_fingerprint_level(instance, tls_ca, sinks, cert, pin, how,
                                  result):
    """Level fingerprint: the server certificate's fingerprint or public
    key fingerprint must be pinned; chain and names do not matter."""
    sink = sinks.start(tls_context=sink_ctx(tls_ca, cert))
    fpt, pkey = tls_ca.fingerprints(pin)
    if how == "main.cf":
        client(instance, tls_ca, sink, smtp_tls_security_level="fingerprint",
               smtp_tls_fingerprint_cert_match="\n ".join(
                   [tls_ca.fingerprints("one")[0], fpt.lower()]))
    else:
        policy = os.path.join(instance.etc, "tls_policy")
        with open(policy, "w") as f:
            f.write("[127.0.0.1]:%d fingerprint match=%s|%s\n" % (
                sink.port, tls_ca.fingerprints("two")[1], pkey))
        client(instance, tls_ca, sink, smtp_tls_policy_maps="texthash:" +
               policy)
    relay_send(instance)
    l = status(instance, "someone@remote.example", result)
    if result == "sent":
        summary(instance, "Verified", sink)
        assert sink.wait(1)[0].rcpts == ["someone@remote.example"]
    else:
        assert "dsn=4.7.5" in l and "Server certificate not verified" in l, l
        instance.wait_log(r"server certificate verification failed for "
                          r"127\.0\.0\.1\[127\.0\.0\.1\]:%d: .*: "
                          r"fingerprint mismatch" % sink.port)
        assert sink.messages == []


def test_client_fingerprint_level_without_pins_defers(instance, tls_ca,
                                                      sinks):
    sink = sinks.start(tls_context=sink_ctx(tls_ca, "rsa"))
    client(instance, tls_ca, sink, smtp_tls_security_level="fingerprint")
    relay_send(instance)
    l = status(instance, "someone@remote.example", "deferred")
    assert ("dsn=4.7.5" in l and "level fingerprint with no fingerprint "
            "to match" in l), l
    instance.wait_log(r"warning: .*TLS policy fingerprint without "
                      r"fingerprints: set smtp_tls_fingerprint_cert_match")
    assert sink.messages == []


def test_client_policy_bad_entry_defers(instance, tls_ca, sinks):
    sink = sinks.start(tls_context=sink_ctx(tls_ca, "rsa"))
    policy = os.path.join(instance.etc, "tls_policy")
    with open(policy, "w") as f:
        f.write("[127.0.0.1]:%d verify bogus=1\n" % sink.port)
    client(instance, tls_ca, sink, smtp_tls_policy_maps="texthash:" + policy)
    relay_send(instance)
    l = status(instance, "someone@remote.example", "deferred")
    assert "invalid TLS policy for [127.0.0.1]:%d" % sink.port in l
    instance.wait_log(r"warning: smtp_tls_policy_maps: invalid TLS policy")
    assert sink.connections == 0


def test_client_dane_unsupported_defers(instance, tls_ca, sinks):
    sink = sinks.start(tls_context=sink_ctx(tls_ca, "rsa"))
    client(instance, tls_ca, sink, smtp_tls_security_level="dane")
    relay_send(instance)
    l = status(instance, "someone@remote.example", "deferred")
    assert "not supported" in l and "dsn=4.7.5" in l


def test_client_wrappermode(instance, tls_ca, sinks):
    sink = sinks.start(tls_context=sink_ctx(tls_ca, "rsa"),
                       implicit_tls=True)
    client(instance, tls_ca, sink, smtp_tls_wrappermode="yes",
           smtp_tls_security_level="verify")
    relay_send(instance)
    status(instance, "someone@remote.example", "sent")
    summary(instance, "Verified", sink)
    assert not any(c.line == "STARTTLS" for c in sink.commands)


def test_client_servername(instance, tls_ca, sinks):
    seen = []
    ctx = sink_ctx(tls_ca, "rsa")
    ctx.sni_callback = lambda sock, name, c: seen.append(name)
    sink = sinks.start(tls_context=ctx)
    client(instance, tls_ca, sink, smtp_tls_security_level="encrypt",
           smtp_tls_servername="sni.test.example")
    relay_send(instance)
    status(instance, "someone@remote.example", "sent")
    assert seen == ["sni.test.example"]


def test_client_reuse_needs_same_policy(instance, tls_ca, sinks):
    """A cached TLS connection carries the next message for the same
    next hop and policy."""
    sink = sinks.start(tls_context=sink_ctx(tls_ca, "rsa"))
    client(instance, tls_ca, sink, smtp_tls_security_level="verify",
           smtp_connection_cache_time_limit="5s")
    instance.master_cf = instance.master_cf.replace(
        "-       smtp\n", "1       smtp\n")
    instance.reload()
    relay_send(instance, "a@remote.example")
    status(instance, "a@remote.example", "sent")
    relay_send(instance, "b@remote.example")
    status(instance, "b@remote.example", "sent")
    assert sink.connections == 1
    assert len(sink.messages) == 2


def test_postern_to_postern(instance, tls_ca, sinks, users, mail_accounts):
    """Two Postern instances: the second is the TLS server, and takes mail
    only from a client certificate listed in its relay_clientcerts; the
    first presents one (smtp_tls_cert_file)."""
    import tempfile
    from conftest import Instance
    import shutil
    root = tempfile.mkdtemp(prefix="postern-test-")
    os.chmod(root, 0o755)
    srv = Instance(root)
    try:
        users.add("alice")
        cert, key = tls_ca.pair("rsa")
        srv.params.update({
            "mynetworks": "127.0.0.1/32",
            "mail_spool_directory": srv.spool + "/",
            "smtpd_tls_security_level": "encrypt",
            "smtpd_tls_cert_file": cert,
            "smtpd_tls_key_file": key,
            "smtpd_tls_received_header": "yes",
            "myhostname": "other.test.example",
            "smtpd_tls_ask_ccert": "yes",
            "smtpd_tls_CAfile": tls_ca.cafile,
            "relay_clientcerts": "texthash:" + write_table(
                srv, "relay_clientcerts",
                [(tls_ca.fingerprints("client")[0], "first")]),
            "smtpd_relay_restrictions": "permit_tls_clientcerts, reject",
        })
        port = smtpd_service(srv)
        srv.start()

        class Dest:
            relayhost = "[127.0.0.1]:%d" % port
            pass
        Dest.port = port
        ccert, ckey = tls_ca.pair("client")
        client(instance, tls_ca, Dest, smtp_tls_security_level="secure",
               smtp_tls_cert_file=ccert, smtp_tls_key_file=ckey)
        relay_send(instance, "alice@other.test.example")
        status(instance, "alice@other.test.example", "sent")
        summary(instance, "Verified", Dest)
        m = wait_for(lambda: maildir_messages(srv, "alice"), 30,
                     what="delivery")[0]
        assert "with ESMTPS" in m and "(using TLSv1.3" in m, m
        assert ('(Client CN "client.test.example", Issuer "Postern Test '
                'Root CA" (verified OK))') in m, m
    finally:
        srv.stop()
        srv.kill_all()
        shutil.rmtree(root, ignore_errors=True)
