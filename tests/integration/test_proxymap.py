"""proxymap(8) and proxy: tables (doc/proxymap.md).

postmap -q through a running proxymap; the default local_recipient_maps
(proxy:unix:passwd.byname $alias_maps) from a chrooted smtpd; tables that
proxy_read_maps does not list; proxymap stopped and killed; a rebuilt
hash: table; proxymap's privileges; and one socketmap: connection shared
by many SMTP sessions."""
import os
import pwd
import re
import signal

import pytest

from conftest import IS_ROOT, not_under_valgrind, wait_for
from test_master import proc_status
from test_smtpd_access import LOCAL, acc, postmap, session, try_rcpt  # noqa: F401

pytestmark = pytest.mark.skipif(not IS_ROOT, reason="needs root")


def query(inst, key, table, *opts):
    r = inst.cmd("postmap", *opts, "-q", key, table, check=False)
    return r.returncode, r.stdout.strip(), r.stderr.strip()


def test_postmap_query_through_proxymap(instance):
    """postmap -q on proxy:hash: asks the running proxymap: found, not
    found, folding as the table behind the proxy wants it (a regexp:
    table sees the key unfolded), a table that proxy_read_maps does not
    list is an error (exit 2), never "not found"."""
    inst = instance
    table = postmap(inst, "virtual", "alice@example.com  alice\n"
                    "bob@example.com  bob\n")
    rx = os.path.join(inst.etc, "t.regexp")
    with open(rx, "w") as f:
        f.write("/^CASE@/i   exact\n/^lower@/  any\n")
    other = postmap(inst, "other", "k  v\n")
    inst.params["proxy_read_maps"] = ("$local_recipient_maps proxy:%s, "
                                      "proxy:regexp:%s" % (table, rx))
    inst.start()
    assert query(inst, "alice@example.com", "proxy:" + table)[:2] == (
        0, "alice")
    # Folded by proxymap for hash:, as postmap does without -f.
    assert query(inst, "BOB@Example.COM", "proxy:" + table)[:2] == (0, "bob")
    assert query(inst, "BOB@Example.COM", "proxy:" + table, "-f")[:2] == (
        1, "")
    assert query(inst, "carol@example.com", "proxy:" + table)[:2] == (1, "")
    # Pattern tables get the key as it is.
    assert query(inst, "CASE@a", "proxy:regexp:" + rx)[:2] == (0, "exact")
    assert query(inst, "case@a", "proxy:regexp:" + rx)[:2] == (1, "")
    assert query(inst, "LOWER@a", "proxy:regexp:" + rx)[:2] == (0, "any")
    # Several keys over one connection.
    r = inst.cmd("postmap", "-q", "-", "proxy:" + table,
                 input="alice@example.com\nnobody@x\nbob@example.com\n")
    assert r.stdout.splitlines() == ["alice@example.com\talice",
                                     "bob@example.com\tbob"]
    # Not approved.
    code, out, err = query(inst, "k", "proxy:" + other)
    assert code == 2 and out == "", (code, out, err)
    assert "proxy_read_maps does not list table proxy:%s" % other in err
    inst.wait_log(r"proxymap\[\d+\]: warning: proxy_read_maps does not "
                  r"list table proxy:%s" % re.escape(other))
    # A proxy: behind the proxy and unknown types are refused at once.
    for bad in ("proxy:proxy:" + table, "proxy:bogus:x", "proxy:nocolon"):
        code, out, err = query(inst, "k", bad)
        assert code == 2, (bad, code, out, err)
    # The plain table still works without the proxy.
    assert query(inst, "k", other)[:2] == (0, "v")


def test_changed_table_is_picked_up(instance):
    """postmap rebuilds a table that proxymap has open: proxymap says
    "table ... has changed -- restarting" and the next lookups see the
    new contents."""
    inst = instance
    table = postmap(inst, "map", "key  old\n")
    inst.params["proxy_read_maps"] = "proxy:" + table
    inst.start()
    assert query(inst, "key", "proxy:" + table)[:2] == (0, "old")
    pids = [p for p, _ in inst.processes("proxymap")]
    assert pids
    postmap(inst, "map", "key  new\n")
    wait_for(lambda: query(inst, "key", "proxy:" + table)[:2] == (0, "new"),
             20, interval=0.3, what="the new value through proxymap")
    inst.wait_log(r"proxymap\[\d+\]: table %s has changed -- restarting"
                  % re.escape(table))
    # The old process exits once its clients are gone.
    wait_for(lambda: not any(p in pids for p, _ in
                             inst.processes("proxymap")), 20,
             what="the old proxymap process to exit")


@not_under_valgrind
def test_proxymap_privileges(instance):
    """proxymap runs as mail_owner and is not chrooted (so it can read
    tables anywhere mail_owner may)."""
    inst = instance
    table = postmap(inst, "map", "key  value\n")
    inst.params["proxy_read_maps"] = "proxy:" + table
    inst.start()
    assert query(inst, "key", "proxy:" + table)[:2] == (0, "value")
    procs = wait_for(lambda: inst.processes("proxymap"), 10,
                     what="a proxymap process")
    pw = pwd.getpwnam("postern")
    for pid, _ in procs:
        uid, gid, root = proc_status(pid)
        assert (uid, gid) == (pw.pw_uid, pw.pw_gid)
        assert root == "/"
        with open("/proc/%d/status" % pid) as f:
            real = [l for l in f if l.startswith(("Uid:", "Gid:"))]
        # Real, effective, saved and file system ids: all mail_owner's.
        assert real[0].split()[1:] == [str(pw.pw_uid)] * 4
        assert real[1].split()[1:] == [str(pw.pw_gid)] * 4


def test_local_recipient_maps_default(acc):  # noqa: F811
    """The default local_recipient_maps = proxy:unix:passwd.byname
    $alias_maps from a chrooted smtpd: a passwd user and an alias are
    accepted, an unknown user is refused at RCPT with 550 5.1.1."""
    inst = acc
    inst.aliases += "listalias: accu\n"
    inst.start()
    assert inst.params.get("local_recipient_maps") is None
    assert try_rcpt(inst, LOCAL)[0] == 250
    assert try_rcpt(inst, "ACCU@mx.test.example")[0] == 250
    assert try_rcpt(inst, "listalias@mx.test.example")[0] == 250
    code, text = try_rcpt(inst, "no-such-user-x@mx.test.example")
    assert (code, text) == (550, "5.1.1 <no-such-user-x@mx.test.example>: "
                            "Recipient address rejected: User unknown in "
                            "local recipient table")
    # The passwd lookup went through proxymap: smtpd runs in its jail.
    assert inst.processes("proxymap")
    assert "warning" not in "\n".join(
        l for l in inst.log().splitlines() if "proxymap" in l)


def test_unlisted_table_defers(acc):  # noqa: F811
    """A proxy: table that proxy_read_maps does not list: every lookup
    fails, and smtpd answers 451 4.3.0 (never "not found", never 5xx);
    with Postfix's default proxy_read_maps the same restriction works."""
    inst = acc
    table = postmap(inst, "rcpt", "blocked@mx.test.example  REJECT No\n")
    inst.params["smtpd_recipient_restrictions"] = (
        "check_recipient_access proxy:%s, permit_mynetworks, "
        "reject_unauth_destination" % table)
    inst.params["proxy_read_maps"] = "$local_recipient_maps"
    inst.start()
    code, text = try_rcpt(inst, LOCAL)
    assert (code, text) == (451, "4.3.0 <%s>: Temporary lookup failure"
                            % LOCAL)
    inst.wait_log(r"proxymap\[\d+\]: warning: proxy_read_maps does not "
                  r"list table proxy:%s -- request refused"
                  % re.escape(table))
    inst.wait_log(r"smtpd\[\d+\]: warning: .*proxy:%s: proxymap: "
                  r"proxy_read_maps does not list" % re.escape(table))
    # Postfix's default list includes $smtpd_recipient_restrictions.
    del inst.params["proxy_read_maps"]
    inst.reload()
    wait_for(lambda: try_rcpt(inst, "blocked@mx.test.example")[0] == 554,
             20, interval=0.3, what="the table allowed after reload")
    assert try_rcpt(inst, LOCAL)[0] == 250


@not_under_valgrind
def test_proxymap_stopped_and_killed(acc):  # noqa: F811
    """While proxymap does not answer, a local recipient is a temporary
    failure (451 4.3.0); once master has started a new proxymap (after the
    old one was killed) the same recipient is accepted."""
    inst = acc
    inst.params["ipc_timeout"] = "2s"
    inst.start()
    assert try_rcpt(inst, LOCAL)[0] == 250
    procs = inst.processes("proxymap")
    assert len(procs) == 1
    pid = procs[0][0]
    os.kill(pid, signal.SIGSTOP)
    try:
        code, text = try_rcpt(inst, LOCAL)
        assert (code, text) == (451, "4.3.0 <%s>: Temporary lookup "
                                "failure" % LOCAL)
        inst.wait_log(r"smtpd\[\d+\]: warning: .*proxy:unix:passwd\.byname"
                      r": no answer from proxymap")
    finally:
        os.kill(pid, signal.SIGKILL)
        os.kill(pid, signal.SIGCONT)
    wait_for(lambda: pid not in [p for p, _ in inst.processes("proxymap")],
             10, what="the stopped proxymap to go")
    assert try_rcpt(inst, LOCAL)[0] == 250
    new = inst.processes("proxymap")
    assert new and pid not in [p for p, _ in new]
    # Killed while idle: the next lookup is simply answered by a new one.
    pid = new[0][0]
    os.kill(pid, signal.SIGKILL)
    wait_for(lambda: pid not in [p for p, _ in inst.processes("proxymap")],
             10, what="the killed proxymap to go")
    assert try_rcpt(inst, LOCAL)[0] == 250
    code, text = try_rcpt(inst, "nobody-here@mx.test.example")
    assert code == 550, text


def test_proxymap_stopped_service(acc):  # noqa: F811
    """No proxymap service in master.cf: lookups fail (451), and after a
    reload that brings it back, they work."""
    inst = acc
    full = inst.master_cf
    inst.master_cf = "".join(l + "\n" for l in full.splitlines()
                             if not l.startswith("proxymap "))
    inst.start()
    code, text = try_rcpt(inst, LOCAL)
    assert (code, text) == (451, "4.3.0 <%s>: Temporary lookup failure"
                            % LOCAL)
    inst.master_cf = full
    inst.reload()
    wait_for(lambda: try_rcpt(inst, LOCAL)[0] == 250, 20, interval=0.3,
             what="local recipient accepted after reload")


def test_socketmap_connection_shared(acc, socketmaps):  # noqa: F811
    """socketmap: behind proxy:: many SMTP sessions in several smtpd
    processes at once cause at most one server connection per proxymap
    process, not one per smtpd."""
    inst = acc

    def answer(name, key):
        if key.startswith("blocked"):
            return "OK REJECT Not here"
        return "NOTFOUND "

    sm = socketmaps.start(answer=answer)
    inst.params["smtpd_recipient_restrictions"] = (
        "check_recipient_access proxy:socketmap:%s:access, "
        "permit_mynetworks, reject_unauth_destination" % sm.address)
    inst.start()
    # Several smtpd processes: sessions that are open at the same time.
    clients = [session(inst) for _ in range(6)]
    try:
        for round_ in range(3):
            for i, c in enumerate(clients):
                assert c.cmd("RSET")[0] == 250
                assert c.cmd("MAIL FROM:<s@remote.example>")[0] == 250
                code, text = c.cmd("RCPT TO:<blocked%d-%d@mx.test."
                                   "example>" % (round_, i))
                assert code == 554 and "Not here" in text, text
                assert c.cmd("RCPT TO:<%s>" % LOCAL)[0] == 250
        smtpds = inst.processes("smtpd")
        assert len(smtpds) >= 2, smtpds
    finally:
        for c in clients:
            c.close()
    # More sessions, one after the other.
    for i in range(10):
        assert try_rcpt(inst, "blocked-seq%d@mx.test.example" % i)[0] == 554
    keys = [k for _, k in sm.requests]
    assert len([k for k in keys if k.startswith("blocked")]) == 28
    proxymaps = inst.processes("proxymap")
    assert proxymaps
    assert 1 <= sm.connections <= len(proxymaps), (sm.connections,
                                                    proxymaps)

