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
