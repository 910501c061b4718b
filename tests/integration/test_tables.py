"""Lookup tables that talk to servers: socketmap: against a socketmap
server on loopback (inet and unix), through postmap -q and through
smtpd's access checks."""
from fixtures import DROP, STALL
from test_smtpd_access import LOCAL, acc, try_rcpt  # noqa: F401


def postmap_q(inst, table, key, check=False):
    r = inst.cmd("postmap", "-q", key, table, check=check)
    return r.returncode, r.stdout.strip(), r.stderr.strip()


def test_socketmap_postmap(instance, socketmaps):
    """OK, NOTFOUND and the error replies; the key is sent as it is (not
    folded); lookups over one connection; inet and unix servers."""
    def answer(name, key):
        if key.startswith("temp"):
            return "TEMP database busy"
        if key.startswith("perm"):
            return "PERM no such map"
        if key.startswith("timeout"):
            return "TIMEOUT slow"
        if key == "missing":
            return "NOTFOUND "
        return "OK %s=%s" % (name, key)

    instance.write_config()
    for unix in (None, True):
        sm = socketmaps.start(answer=answer, unix=unix)
        table = "socketmap:%s:srs" % sm.address
        assert postmap_q(instance, table, "Alice@Example.COM") == (
            0, "srs=Alice@Example.COM", "")
        assert postmap_q(instance, table, "missing")[:2] == (1, "")
        for key, said in (("temp1", "TEMP: database busy"),
                          ("perm1", "PERM: no such map"),
                          ("timeout1", "TIMEOUT: slow")):
            code, out, err = postmap_q(instance, table, key)
            assert code == 2 and out == "", (key, code, out, err)
            assert "server said %s" % said in err
        # One connection serves a batch of keys.
        before = sm.connections
        r = instance.cmd("postmap", "-q", "-", table,
                         input="a\nb\nmissing\n", check=False)
        assert r.returncode == 0
        assert r.stdout.splitlines() == ["a\tsrs=a", "b\tsrs=b"]
        assert sm.connections == before + 1
        assert ("srs", "missing") in sm.requests


def test_socketmap_bad_servers(instance, socketmaps):
    """Malformed and over-long replies, a dropped connection and a server
    that is not there are lookup errors (exit 2), never "not found"."""
    replies = {
        "nolen": b":OK x,",
        "noend": b"4:OK x;",
        "zero": b"04:OK x,",
        "long": b"100001:",
        "word": "MAYBE so",
        "nul": "OK a\0b",
    }

    def answer(name, key):
        if key == "drop":
            return DROP
        return replies.get(key, "OK fine")

    instance.write_config()
    sm = socketmaps.start(answer=answer)
    table = "socketmap:%s:m" % sm.address
    for key, why in (("nolen", "no netstring length"),
                     ("noend", "no netstring end"),
                     ("zero", "leading zero"),
                     ("long", "longer than 100000"),
                     ("word", "malformed reply \"MAYBE so\""),
                     ("nul", "NUL byte"),
                     ("drop", "read reply: lost connection")):
        code, out, err = postmap_q(instance, table, key)
        assert code == 2, (key, out, err)
        assert why in err, (key, err)
    assert postmap_q(instance, table, "good")[:2] == (0, "fine")
    sm.stop()
    code, out, err = postmap_q(instance, table, "good")
    assert code == 2 and "connect: Connection refused" in err
    # Not a socketmap name.
    for bad in ("socketmap:inet:127.0.0.1:25", "socketmap:tcp:x:1:m",
                "socketmap:unix:/x:"):
        code, out, err = postmap_q(instance, bad, "k")
        assert code == 2 and "need inet:host:port:name" in err, err


def test_socketmap_in_smtpd(acc, socketmaps):  # noqa: F811
    """check_recipient_access socketmap:...: the server's answer is the
    access action; a server error is a temporary failure (451 4.3.0, as
    Postfix says it)."""
    inst = acc

    def answer(name, key):
        if key.startswith("blocked@"):
            return "OK REJECT Not here"
        if key.startswith("busy@"):
            return "TEMP try later"
        if key.startswith("stall@"):
            return STALL
        return "NOTFOUND "

    sm = socketmaps.start(answer=answer)
    inst.params["smtpd_recipient_restrictions"] = (
        "check_recipient_access socketmap:%s:access, permit_mynetworks, "
        "reject_unauth_destination" % sm.address)
    inst.start()
    code, text = try_rcpt(inst, "blocked@mx.test.example")
    assert (code, text) == (554, "5.7.1 <blocked@mx.test.example>: "
                            "Recipient address rejected: Not here")
    code, text = try_rcpt(inst, "busy@mx.test.example")
    assert (code, text) == (451, "4.3.0 <busy@mx.test.example>: "
                            "Temporary lookup failure")
    inst.wait_log(r"warning: socketmap:inet:127\.0\.0\.1:\d+:access: "
                  r"server said TEMP: try later")
    assert try_rcpt(inst, LOCAL)[0] == 250
    # Whole keys only: no user@ or domain lookups for a socketmap.
    keys = [k for n, k in sm.requests]
    assert "busy@mx.test.example" in keys
    assert "mx.test.example" not in keys and "busy@" not in keys


def write(inst, name, text):
    import os
    path = os.path.join(inst.etc, name)
    with open(path, "w") as f:
        f.write(text)
    return path


def test_rule_tables_postmap(instance):
    """regexp:, pcre: and cidr: files through postmap -q; a broken file is
    a lookup error (exit 2) naming file and line."""
    instance.write_config()
    re_ = write(instance, "t.regexp",
                "if /@example\\.com$/\n"
                "/^(.*)\\+.*@example\\.com$/   $1@example.com\n"
                "endif\n"
                "/^postmaster@/   root\n"
                "/^CASE@/i   exact\n")
    pc = write(instance, "t.pcre",
               "/^(\\w+)@(?:mx\\.)?example\\.org$/  user $1\n"
               "!/\\.org$/   not org\n")
    ci = write(instance, "t.cidr",
               "192.0.2.0/24   REJECT test net\n"
               "2001:db8::/32  OK\n"
               "if !10.0.0.0/8\n"
               "0.0.0.0/0      DUNNO\n"
               "endif\n")
    q = lambda t, k: postmap_q(instance, t, k)[:2]  # noqa: E731
    assert q("regexp:" + re_, "bob+x@example.com") == (0, "bob@example.com")
    assert q("regexp:" + re_, "bob+x@example.net") == (1, "")
    # Case-insensitive by default; the i flag turns that off.
    assert q("regexp:" + re_, "POSTMASTER@a") == (0, "root")
    assert q("regexp:" + re_, "case@a") == (1, "")
    assert q("regexp:" + re_, "CASE@a") == (0, "exact")
    assert q("pcre:" + pc, "Ann@MX.example.org") == (0, "user Ann")
    assert q("pcre:" + pc, "x@example.net") == (0, "not org")
    assert q("cidr:" + ci, "192.0.2.77") == (0, "REJECT test net")
    assert q("cidr:" + ci, "2001:0db8:0:0::1") == (0, "OK")
    assert q("cidr:" + ci, "10.1.2.3") == (1, "")
    assert q("cidr:" + ci, "198.51.100.1") == (0, "DUNNO")
    assert q("cidr:" + ci, "not.an.address") == (1, "")
    bad = write(instance, "bad.pcre", "/ok/ fine\n/(unclosed/ x\n")
    code, out, err = postmap_q(instance, "pcre:" + bad, "ok")
    assert code == 2 and "bad.pcre, line 2" in err, err


def test_cidr_and_pcre_in_smtpd(acc):  # noqa: F811
    """check_client_access cidr: and check_recipient_access pcre: in a
    running smtpd (tables opened before the chroot)."""
    inst = acc
    ci = write(inst, "clients.cidr", "127.0.0.2/32  REJECT go away\n")
    pc = write(inst, "rcpt.pcre", "/^nobody\\+/  550 5.1.1 No such box\n")
    inst.params["smtpd_client_restrictions"] = "check_client_access cidr:" + ci
    inst.params["smtpd_recipient_restrictions"] = (
        "check_recipient_access pcre:%s, permit_mynetworks, "
        "reject_unauth_destination" % pc)
    inst.start()
    code, text = try_rcpt(inst, "nobody+x@mx.test.example")
    assert (code, text) == (550, "5.1.1 <nobody+x@mx.test.example>: "
                            "Recipient address rejected: No such box")
    assert try_rcpt(inst, LOCAL)[0] == 250
    code, text = try_rcpt(inst, LOCAL, source="127.0.0.2")
    assert (code, text) == (554, "5.7.1 <unknown[127.0.0.2]>: Client host "
                            "rejected: go away")
