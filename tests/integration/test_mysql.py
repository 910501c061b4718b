"""mysql: tables against a private MariaDB server (mysql_fixture.py):
postmap -q for answers, templates, limits, quoting and errors; UNIX and
TCP hosts; outages; the table in smtpd's access checks and as local(8)'s
alias_maps, with mail deferred while the server is down and delivered
after it is back."""
import os
import re

import pytest

from conftest import IS_ROOT, wait_for
from mysql_fixture import mysql, mysql_server  # noqa: F401
from test_smtpd_access import HELO, LOCAL, acc, session, try_rcpt  # noqa: F401

USER_QUERY = "SELECT maildir FROM virtual_users WHERE email = '%s'"
ALIAS_QUERY = ("SELECT destination FROM virtual_aliases WHERE source = '%s' "
               "ORDER BY id")


def table(inst, mysql, name="t.cf", hosts=None, **params):  # noqa: F811
    """Write a table file; returns "mysql:/path"."""
    p = {"hosts": hosts or "inet:127.0.0.1:%d" % mysql.port,
         "user": mysql.user, "password": mysql.password, "dbname": mysql.db,
         "query": USER_QUERY}
    p.update(params)
    path = os.path.join(inst.etc, name)
    with open(path, "w") as f:
        f.write("# test table\n")
        for k, v in p.items():
            if v is not None:
                f.write("%s = %s\n" % (k, v))
    os.chmod(path, 0o600)
    return "mysql:" + path


def q(inst, tab, key):
    r = inst.cmd("postmap", "-q", key, tab, check=False)
    return r.returncode, r.stdout.strip(), r.stderr.strip()


def connections(mysql):  # noqa: F811
    out = mysql.sql("SHOW GLOBAL STATUS LIKE 'Connections'")
    return int(out.split()[1])


def test_mysql_answers(instance, mysql):  # noqa: F811
    """Found, not found, several rows, several columns and NULLs,
    result_format, %u/%d queries, the domain list, expansion_limit;
    one connection for a batch of keys."""
    instance.write_config()
    users = table(instance, mysql)
    assert q(instance, users, "alice@example.com") == (
        0, "example.com/alice/", "")
    # Keys are folded to lower case (postmap -q without -f).
    assert q(instance, users, "Alice@Example.COM")[:2] == (
        0, "example.com/alice/")
    assert q(instance, users, "nobody@example.com")[:2] == (1, "")
    assert q(instance, users, "")[:2] == (1, "")

    aliases = table(instance, mysql, "a.cf", query=ALIAS_QUERY)
    assert q(instance, aliases, "team@example.com")[:2] == (
        0, "alice@example.com,bob@example.com,carol@example.net")
    # Every column, NULLs skipped, each value through result_format.
    cols = table(instance, mysql, "c.cf",
                 query="SELECT email, NULL, quota FROM virtual_users "
                       "WHERE email = '%s'",
                 result_format="<%s>")
    assert q(instance, cols, "alice@example.com")[:2] == (
        0, "<alice@example.com>,<1048576>")
    fmt = table(instance, mysql, "f.cf", query=ALIAS_QUERY,
                result_format="%d/%u/Maildir/ for %U")
    assert q(instance, fmt, "team@example.com")[:2] == (
        0, "example.com/alice/Maildir/ for team,"
           "example.com/bob/Maildir/ for team,"
           "example.net/carol/Maildir/ for team")
    # result_format needs %D: an unqualified key is not even asked for.
    needd = table(instance, mysql, "nd.cf", query="SELECT '%s'",
                  result_format="%s@%D")
    assert q(instance, needd, "joe")[:2] == (1, "")
    assert q(instance, needd, "joe@x.org")[:2] == (0, "joe@x.org@x.org")
    # A value that expands to nothing is skipped: empty answer, not found.
    empty = table(instance, mysql, "e.cf", query="SELECT ''")
    assert q(instance, empty, "k")[:2] == (1, "")

    parts = table(instance, mysql, "p.cf",
                  query="SELECT u.maildir FROM virtual_users u JOIN "
                        "virtual_domains d ON u.domain_id = d.id "
                        "WHERE d.name = '%d' AND u.email = "
                        "CONCAT('%u', '@', '%d')")
    assert q(instance, parts, "bob@example.com")[:2] == (
        0, "example.com/bob/")
    # %d of an unqualified key suppresses the query: not found.
    assert q(instance, parts, "bob")[:2] == (1, "")
    label = table(instance, mysql, "l.cf",
                  query="SELECT name FROM virtual_domains "
                        "WHERE name = '%2.%1'")
    assert q(instance, label, "x@mail.example.net")[:2] == (
        0, "example.net")

    dom = table(instance, mysql, "d.cf", domain="example.com")
    assert q(instance, dom, "alice@example.com")[:2] == (
        0, "example.com/alice/")
    assert q(instance, dom, "carol@example.net")[:2] == (1, "")
    assert q(instance, dom, "example.com")[:2] == (1, "")
    assert q(instance, dom, "@example.com")[:2] == (1, "")

    lim = table(instance, mysql, "lim.cf", query=ALIAS_QUERY,
                expansion_limit="2")
    assert q(instance, lim, "postmaster@example.com")[:2] == (
        0, "alice@example.com")
    code, out, err = q(instance, lim, "team@example.com")
    assert code == 2 and out == ""
    assert "more than expansion_limit=2 results" in err, err

    # A batch of keys over one connection.
    before = connections(mysql)
    r = instance.cmd("postmap", "-q", "-", aliases, check=False,
                     input="team@example.com\nnone@x\ninfo@example.net\n")
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines() == [
        "team@example.com\talice@example.com,bob@example.com,"
        "carol@example.net",
        "info@example.net\tcarol@example.net"]
    # Our connection, and the one that asked.
    assert connections(mysql) == before + 2


def test_mysql_quoting(instance, mysql):  # noqa: F811
    """Keys that try to change the query are quoted: never found, never
    an SQL error."""
    instance.write_config()
    users = table(instance, mysql)
    for key in ("x' OR '1'='1",
                "x' OR 1=1 -- ",
                "x\\' OR 1=1 #",
                "alice@example.com' -- ",
                "x'; DROP TABLE virtual_users; --",
                "x\" OR \"1\"=\"1",
                "\\",
                "'"):
        assert q(instance, users, key)[:2] == (1, ""), key
    # Quoted inside LIKE, too (the % is the template's, not the key's).
    like = table(instance, mysql, "like.cf",
                 query="SELECT email FROM virtual_users "
                       "WHERE email LIKE '%s' ORDER BY id")
    assert q(instance, like, "x' OR '1'='1")[:2] == (1, "")
    assert q(instance, like, "bob@example.com")[:2] == (
        0, "bob@example.com")
    # Bytes that are not UTF-8: not found, not an error.
    r = instance.cmd("postmap", "-q", "-", users, check=False,
                     input="\udcffx@example.com\n", errors="surrogateescape")
    assert r.returncode == 1, r.stderr
    assert mysql.sql("SELECT COUNT(*) FROM virtual_users").strip() == "3"


def test_mysql_errors(instance, mysql):  # noqa: F811
    """SQL errors, wrong passwords, missing result sets, more than one
    result set and bad files are errors (postmap -q exits 2), never
    "not found"."""
    instance.write_config()
    host = "inet:127.0.0.1:%d" % mysql.port

    bad_sql = table(instance, mysql, "s.cf",
                    query="SELECT nosuchcolumn FROM virtual_users "
                          "WHERE email = '%s'")
    code, out, err = q(instance, bad_sql, "alice@example.com")
    assert code == 2 and "query failed on %s: Unknown column" % host in err

    pw = table(instance, mysql, "pw.cf", password="wrong")
    code, out, err = q(instance, pw, "alice@example.com")
    assert code == 2 and out == ""
    assert "connect to %s: Access denied for user 'postern'" % host in err

    # Not allowed to write: the read-only account.
    ro = table(instance, mysql, "ro.cf",
               query="DELETE FROM virtual_users WHERE email = '%s'")
    code, out, err = q(instance, ro, "alice@example.com")
    assert code == 2 and "DELETE command denied" in err, err
    # A statement without a result set.
    noset = table(instance, mysql, "n.cf", query="DO '%s'")
    code, out, err = q(instance, noset, "k")
    assert code == 2 and "returned no result set" in err, err
    noset = table(instance, mysql, "n2.cf", query="DO '%s'",
                  require_result_set="no")
    assert q(instance, noset, "k")[:2] == (1, "")

    # Stored procedures: one result set (and the status that follows).
    call = table(instance, mysql, "call.cf", query="CALL alias_of('%s')")
    assert q(instance, call, "team@example.com")[:2] == (
        0, "alice@example.com,bob@example.com,carol@example.net")
    assert q(instance, call, "none@example.com")[:2] == (1, "")
    mysql.sql("DELIMITER //\nCREATE OR REPLACE PROCEDURE two(IN k "
              "VARCHAR(99)) BEGIN SELECT 1; SELECT 2; END //\n")
    two = table(instance, mysql, "two.cf", query="CALL two('%s')")
    code, out, err = q(instance, two, "k")
    assert code == 2 and "more than one result set" in err, err
    # Several statements in one query are not allowed.
    multi = table(instance, mysql, "m.cf", query="SELECT 1; SELECT '%s'")
    code, out, err = q(instance, multi, "k")
    assert code == 2 and "SQL syntax" in err, err

    # Bad table files: the table cannot be opened.
    for params, why in (
            ({"query": "SELECT x FROM t WHERE k = '%x'"}, "bad % sequence"),
            ({"result_format": "%"}, "bad % sequence"),
            ({"query": None}, "no \"query\" given"),
            ({"hosts": "inet:127.0.0.1:99999"}, "bad port"),
            ({"hosts": "unix:relative"}, "need unix:/path"),
            ({"hosts": "inet:"}, "no host name"),
            ({"expansion_limit": "-1"}, "bad expansion_limit"),
            ({"tls_verify_cert": "maybe"}, "bad tls_verify_cert"),
            ({"idle_interval": "1h"}, "bad idle_interval")):
        bad = table(instance, mysql, "bad.cf", **params)
        code, out, err = q(instance, bad, "alice@example.com")
        assert code == 2 and why in err, (params, err)
    code, out, err = q(instance, "mysql:" + instance.etc + "/none.cf", "k")
    assert code == 2 and "none.cf" in err, err
    code, out, err = q(instance, "mysql:mysqlname", "k")
    assert code == 2 and "need the path of a table file" in err, err
    # Unknown names: a warning, the table works.
    odd = table(instance, mysql, "odd.cf", colour="blue")
    code, out, err = q(instance, odd, "alice@example.com")
    assert (code, out) == (0, "example.com/alice/")
    assert "unknown parameter \"colour\" ignored" in err, err


def test_mysql_hosts(instance, mysql):  # noqa: F811
    """UNIX and TCP hosts in their spellings; a dead host among live
    ones is skipped; when every host is down the error names them; the
    old select_field/table/where_field form."""
    instance.write_config()
    for hosts in ("unix:" + mysql.socket,
                  "inet:127.0.0.1:%d" % mysql.port,
                  "127.0.0.1:%d" % mysql.port,
                  "[127.0.0.1]:%d" % mysql.port):
        t = table(instance, mysql, hosts=hosts)
        assert q(instance, t, "carol@example.net") == (
            0, "example.net/carol/", ""), hosts
    dead = "unix:" + os.path.join(instance.root, "no.sock")
    mixed = table(instance, mysql, hosts="%s, inet:127.0.0.1:%d %s" % (
        dead, mysql.port, "inet:127.0.0.1:1"))
    for _ in range(5):      # the order is random
        assert q(instance, mixed, "bob@example.com")[:2] == (
            0, "example.com/bob/")
    down = table(instance, mysql, hosts="%s inet:127.0.0.1:1" % dead)
    code, out, err = q(instance, down, "bob@example.com")
    assert code == 2
    # UNIX sockets are tried first.
    assert re.search(r"connect to %s: .*; connect to inet:127\.0\.0\.1:1: "
                     % re.escape(dead), err), err

    legacy = table(instance, mysql, "legacy.cf", query=None,
                   select_field="destination", table="virtual_aliases",
                   where_field="source",
                   additional_conditions="AND destination LIKE 'a%%'")
    assert q(instance, legacy, "team@example.com")[:2] == (
        0, "alice@example.com")


def test_mysql_server_down(instance, mysql):  # noqa: F811
    """A stopped server is a temporary error that names the host; the
    table answers again once the server is back."""
    instance.write_config()
    t = table(instance, mysql)
    mysql.stop()
    code, out, err = q(instance, t, "alice@example.com")
    assert code == 2 and out == ""
    assert ("connect to inet:127.0.0.1:%d: Can't connect to server on "
            "'127.0.0.1'" % mysql.port) in err, err
    mysql.start()
    assert q(instance, t, "alice@example.com")[:2] == (
        0, "example.com/alice/")


def test_mysql_in_smtpd(acc, mysql):  # noqa: F811
    """check_recipient_access mysql:...: REJECT from the table is 554;
    with the server stopped RCPT gets 451 4.3.0 and the log says why;
    after a restart the table answers again (retry_interval = 1)."""
    inst = acc
    mysql.sql("CREATE TABLE IF NOT EXISTS access (address VARCHAR(255) "
              "PRIMARY KEY, action VARCHAR(255) NOT NULL);"
              "REPLACE INTO access VALUES "
              "('blocked@mx.test.example', 'REJECT Not with us');")
    t = table(inst, mysql, "access.cf",
              query="SELECT action FROM access WHERE address = '%s'",
              retry_interval="1")
    inst.params["smtpd_recipient_restrictions"] = (
        "check_recipient_access %s, permit_mynetworks, "
        "reject_unauth_destination" % t)
    inst.start()
    code, text = try_rcpt(inst, "blocked@mx.test.example")
    assert (code, text) == (554, "5.7.1 <blocked@mx.test.example>: "
                            "Recipient address rejected: Not with us")
    assert try_rcpt(inst, LOCAL)[0] == 250
    mysql.stop()
    code, text = try_rcpt(inst, "blocked@mx.test.example")
    assert (code, text) == (451, "4.3.0 <blocked@mx.test.example>: "
                            "Temporary lookup failure")
    inst.wait_log(r"warning: mysql:%s: connect to inet:127\.0\.0\.1:%d: "
                  % (re.escape(t[6:]), mysql.port))
    mysql.start()
    wait_for(lambda: try_rcpt(inst, "blocked@mx.test.example")[0] == 554,
             20, interval=0.5, what="the table to answer again")


@pytest.mark.skipif(not IS_ROOT, reason="needs root")
def test_mysql_alias_maps_outage(instance, users, mysql):  # noqa: F811
    """alias_maps = mysql:... (over the UNIX socket) for local delivery;
    with the server stopped the mail waits in the deferred queue with
    the reason, and after a restart "postqueue -f" delivers it."""
    users.add("mya")
    users.add("myb")
    mysql.sql("CREATE TABLE IF NOT EXISTS local_aliases (alias "
              "VARCHAR(64) NOT NULL, member VARCHAR(64) NOT NULL);"
              "DELETE FROM local_aliases;"
              "INSERT INTO local_aliases VALUES ('crew', 'mya'), "
              "('crew', 'myb'), ('postmaster', 'root');")
    t = table(instance, mysql, "aliases.cf",
              hosts="unix:" + mysql.socket, retry_interval="1",
              query="SELECT member FROM local_aliases WHERE alias = '%s'")
    instance.params["alias_maps"] = t
    instance.start()
    instance.sendmail(["crew"], "Subject: one\n\nfirst\n")
    wait_for(lambda: "Subject: one" in instance.mbox("mya") and
             "Subject: one" in instance.mbox("myb"), 30,
             what="delivery through the mysql: alias")
    instance.wait_log(r"to=<mya@mx\.test\.example>, orig_to=<crew>")

    mysql.stop()
    instance.sendmail(["crew"], "Subject: two\n\nsecond\n")
    instance.wait_log(r"warning: \w+: alias lookup of crew: mysql:%s: "
                      r"connect to unix:%s: Can't connect"
                      % (re.escape(t[6:]), re.escape(mysql.socket)))
    instance.wait_log(r"to=<crew@mx\.test\.example>, .*dsn=4\.3\.0, "
                      r"status=deferred \(alias database unavailable\)")
    wait_for(lambda: instance.queue_files("deferred"), 30,
             what="the message in deferred/")
    r = instance.cmd("postqueue", "-p")
    assert "crew@mx.test.example" in r.stdout, r.stdout
    assert "Subject: two" not in instance.mbox("mya")

    mysql.start()

    def flushed():
        # local(8) skips the host for retry_interval (1 s) after the
        # failure: a flush within that second defers the mail again.
        if "Subject: two" in instance.mbox("mya") and \
                "Subject: two" in instance.mbox("myb"):
            return True
        instance.cmd("postqueue", "-f")
        return False
    wait_for(flushed, 30, interval=1,
             what="delivery after the server came back")
    instance.wait_queue_empty()


def test_mysql_sample_tables(instance, mysql):  # noqa: F811
    """The sample files conf/mysql-virtual-*.cf, pointed at the test
    server, answer for the fixture's virtual-hosting tables."""
    from conftest import REPO
    instance.write_config()

    def sample(name):
        with open(os.path.join(REPO, "conf", name)) as f:
            text = f.read()
        text = re.sub(r"(?m)^hosts = .*$", "hosts = unix:" + mysql.socket,
                      text)
        text = re.sub(r"(?m)^password = .*$", "password = " +
                      mysql.password, text)
        path = os.path.join(instance.etc, name)
        with open(path, "w") as f:
            f.write(text)
        return "mysql:" + path

    doms = sample("mysql-virtual-domains.cf")
    assert q(instance, doms, "example.net") == (0, "example.net", "")
    assert q(instance, doms, "example.org")[:2] == (1, "")
    boxes = sample("mysql-virtual-mailbox-maps.cf")
    assert q(instance, boxes, "carol@example.net") == (
        0, "example.net/carol/", "")
    assert q(instance, boxes, "carol@example.com")[:2] == (1, "")
    aliases = sample("mysql-virtual-alias-maps.cf")
    code, out, err = q(instance, aliases, "team@example.com")
    assert code == 0 and sorted(out.split(",")) == [
        "alice@example.com", "bob@example.com", "carol@example.net"], err
    e2e = sample("mysql-virtual-email2email.cf")
    assert q(instance, e2e, "bob@example.com") == (0, "bob@example.com", "")
    assert q(instance, e2e, "team@example.com")[:2] == (1, "")
    quota = sample("mysql-virtual-quota.cf")
    assert q(instance, quota, "carol@example.net") == (0, "2097152", "")
    assert q(instance, quota, "nobody@example.net")[:2] == (1, "")


def test_mysql_reconnect(acc, mysql):  # noqa: F811
    """A kept connection that the server closed (KILL) is replaced: in
    one SMTP session, the RCPT after the KILL is answered from the table
    over a new connection (never 451).  idle_interval = 0 gives every
    lookup a new connection."""
    inst = acc
    mysql.sql("CREATE TABLE IF NOT EXISTS access (address VARCHAR(255) "
              "PRIMARY KEY, action VARCHAR(255) NOT NULL);"
              "REPLACE INTO access VALUES "
              "('blocked@mx.test.example', 'REJECT Not with us');")
    t = table(inst, mysql, "access.cf",
              query="SELECT action FROM access WHERE address = '%s'")
    inst.params["smtpd_recipient_restrictions"] = (
        "check_recipient_access %s, permit_mynetworks, "
        "reject_unauth_destination" % t)
    inst.start()

    def ours():
        out = mysql.sql("SELECT id FROM information_schema.processlist "
                        "WHERE user = '%s'" % mysql.user)
        return [int(x) for x in out.split()]

    c = session(inst, HELO, "127.0.0.1")
    try:
        assert c.cmd("MAIL FROM:<s@remote.example>")[0] == 250
        assert c.cmd("RCPT TO:<blocked@mx.test.example>")[0] == 554
        ids = ours()
        assert len(ids) == 1, ids
        mysql.sql("KILL %d" % ids[0])
        wait_for(lambda: not ours(), 20, what="the connection to go")
        code, text = c.cmd("RCPT TO:<blocked@mx.test.example>")
        assert code == 554, text
        # One new connection, kept.
        new = ours()
        assert len(new) == 1 and new != ids, (ids, new)
    finally:
        c.close()
    assert "Temporary lookup failure" not in inst.log()

    idle = table(inst, mysql, "idle.cf", idle_interval="0")
    before = connections(mysql)
    r = inst.cmd("postmap", "-q", "-", idle, check=False,
                 input="alice@example.com\nbob@example.com\n")
    assert r.returncode == 0, r.stderr
    assert connections(mysql) >= before + 2


def test_mysql_tls(instance, mysql):  # noqa: F811
    """tls_CAfile and tls_verify_cert: an account that may only log in
    over TLS works with TLS settings and not without; a certificate
    from another CA fails verification (an error, not "not found")."""
    instance.write_config()
    base = dict(user=mysql.tls_user)
    plain = table(instance, mysql, "plain.cf", **base)
    code, out, err = q(instance, plain, "alice@example.com")
    assert code == 2 and "Access denied" in err, err
    tls = table(instance, mysql, "tls.cf", tls_CAfile=mysql.ca,
                tls_verify_cert="yes", **base)
    assert q(instance, tls, "alice@example.com") == (
        0, "example.com/alice/", "")
    bad = table(instance, mysql, "badca.cf", tls_CAfile=mysql.other_ca,
                tls_verify_cert="yes", **base)
    code, out, err = q(instance, bad, "alice@example.com")
    assert code == 2 and out == ""
    assert "connect to inet:127.0.0.1:%d: " % mysql.port in err, err
    assert re.search(r"(?i)certificate|verif|TLS|SSL", err), err
