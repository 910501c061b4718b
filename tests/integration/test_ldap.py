"""ldap: tables against a real slapd (ldap_fixture.py): postmap -q
(found, not found, multi-valued results, result_format, the domain
restriction, escaping, special, leaf and terminal result attributes,
limits, bind, failover, outages), check_recipient_access in smtpd, and
alias_maps in local delivery across an LDAP outage."""
import os
import socket

from conftest import wait_for
from ldap_fixture import READER_DN, READER_PW, SUFFIX, slapd  # noqa: F401
from test_smtpd_access import LOCAL, acc, try_rcpt  # noqa: F401
from test_local import parse_mbox


def q(inst, table, key):
    r = inst.cmd("postmap", "-q", key, table, check=False)
    return r.returncode, r.stdout.strip(), r.stderr.strip()


def table(inst, slapd, name="ldap.cf", **params):  # noqa: F811
    return "ldap:" + slapd.table(os.path.join(inst.etc, name), **params)


def test_ldap_postmap_lookups(instance, slapd):  # noqa: F811
    """Found, not found, several values, folded keys, escaped keys, one
    connection for a batch of keys, ldapi://."""
    instance.write_config()
    t = table(instance, slapd)
    assert q(instance, t, "alice@example.com") == (
        0, "alice@mx.test.example", "")
    # Any value of a multi-valued key attribute; keys are folded.
    assert q(instance, t, "AL@Example.COM")[:2] == (
        0, "alice@mx.test.example")
    # Every value of the result attribute, joined with ",".
    assert q(instance, t, "bob@example.com")[:2] == (
        0, "bob@mx.test.example,bob@elsewhere.example")
    # No entry; an entry without the result attribute.
    assert q(instance, t, "nobody@example.com")[:2] == (1, "")
    assert q(instance, t, "carol@example.com")[:2] == (1, "")
    # Filter metacharacters in the key are escaped, not obeyed.
    for key in ("*", "*@example.com", "*)(mailacceptinggeneralid=*",
                "alice@example.com)(|(x=*", "a\\2a"):
        assert q(instance, t, key)[:2] == (1, ""), key
    # One connection serves a batch of keys.
    r = instance.cmd("postmap", "-q", "-", t,
                     input="alice@example.com\nnobody@x\nbob@example.com\n")
    assert r.stdout.splitlines() == [
        "alice@example.com\talice@mx.test.example",
        "bob@example.com\tbob@mx.test.example,bob@elsewhere.example"]
    # Over the ldapi:// socket, host:port form, and a result attribute
    # list.
    t = table(instance, slapd, "ldapi.cf", server_host=slapd.ldapi_url,
              result_attribute="mail, maildrop")
    assert q(instance, t, "alice@example.com")[:2] == (
        0, "alice@example.com,alice@mx.test.example")
    t = table(instance, slapd, "hostport.cf",
              server_host="127.0.0.1:%d" % slapd.port, bind="no")
    assert q(instance, t, "alice@example.com")[:2] == (
        0, "alice@mx.test.example")
    t = table(instance, slapd, "port.cf", server_host="127.0.0.1",
              server_port=str(slapd.port))
    assert q(instance, t, "alice@example.com")[:2] == (
        0, "alice@mx.test.example")


def test_ldap_templates_and_domain(instance, slapd):  # noqa: F811
    """result_format, query_filter and search_base expansions, scope,
    and the domain restriction."""
    instance.write_config()
    t = table(instance, slapd, result_format="smtp:[%d] for %U")
    assert q(instance, t, "bob@example.com")[:2] == (
        0, "smtp:[mx.test.example] for bob,smtp:[elsewhere.example] for bob")
    # result_filter is the old name of result_format.
    t = table(instance, slapd, "old.cf", result_filter="<%u>")
    assert q(instance, t, "alice@example.com")[:2] == (0, "<alice>")
    # search_base built from the key's domain (RFC 4514 escaped).
    t = table(instance, slapd, "base.cf", search_base="ou=people,dc=%2,dc=%1",
              query_filter="(uid=%u)", result_attribute="mail")
    assert q(instance, t, "bob@example.com")[:2] == (0, "bob@example.com")
    assert q(instance, t, "bob@example.org")[:2] == (1, "")
    assert q(instance, t, "bob@a,dc=example.com")[:2] == (1, "")
    assert q(instance, t, "bob")[:2] == (1, "")       # %1 suppresses
    # Scope: one level under the suffix holds no people; base finds
    # only the base entry.
    t = table(instance, slapd, "one.cf", scope="one")
    assert q(instance, t, "alice@example.com")[:2] == (1, "")
    t = table(instance, slapd, "base2.cf", scope="base",
              search_base="uid=alice,ou=people," + SUFFIX)
    assert q(instance, t, "alice@example.com")[:2] == (
        0, "alice@mx.test.example")
    # domain: only user@listed-domain keys are looked up.
    t = table(instance, slapd, "dom.cf", domain="example.com",
              query_filter="(|(mailacceptinggeneralid=%s)(uid=%s))")
    assert q(instance, t, "alice@example.com")[0] == 0
    assert q(instance, t, "alice")[:2] == (1, "")
    assert q(instance, t, "alice@example.org")[:2] == (1, "")
    # A bad template is a table that cannot be opened (exit 2).
    t = table(instance, slapd, "bad.cf", query_filter="(mail=%x)")
    code, out, err = q(instance, t, "alice@example.com")
    assert code == 2 and "bad % sequence" in err and "bad.cf" in err


def test_ldap_groups(instance, slapd):  # noqa: F811
    """special_result_attribute follows member DNs (and LDAP URLs);
    leaf and terminal result attributes; recursion_limit."""
    instance.write_config()
    t = table(instance, slapd, special_result_attribute="member")
    # The group's own maildrop, then each member's; a member DN that
    # does not exist adds nothing.
    assert q(instance, t, "staff@example.com")[:2] == (
        0, "staff-owner@example.com,alice@mx.test.example,"
        "bob@mx.test.example,bob@elsewhere.example")
    # As a leaf attribute, the group's own maildrop is left out.
    t = table(instance, slapd, "leaf.cf", result_attribute="",
              special_result_attribute="member",
              leaf_result_attribute="maildrop")
    assert q(instance, t, "staff@example.com")[:2] == (
        0, "alice@mx.test.example,bob@mx.test.example,bob@elsewhere.example")
    assert q(instance, t, "alice@example.com")[:2] == (
        0, "alice@mx.test.example")
    # A terminal attribute stops the expansion at that entry.
    t = table(instance, slapd, "term.cf", result_attribute="mail",
              special_result_attribute="member",
              terminal_result_attribute="maildrop")
    assert q(instance, t, "list@example.com")[:2] == (
        0, "list-expander@lists.example.com")
    t = table(instance, slapd, "term2.cf", result_attribute="mail",
              special_result_attribute="member",
              terminal_result_attribute="description")
    assert q(instance, t, "list@example.com")[:2] == (0, "alice@example.com")
    # A group that contains itself: recursion_limit makes it an error.
    t = table(instance, slapd, "loop.cf", special_result_attribute="member",
              recursion_limit="5")
    code, out, err = q(instance, t, "loop@example.com")
    assert code == 2 and "recursion_limit=5" in err, err
    # With the highest limit, the bound on searches per lookup ends it.
    t = table(instance, slapd, "loop2.cf", special_result_attribute="member",
              recursion_limit="1000")
    code, out, err = q(instance, t, "loop@example.com")
    assert code == 2 and ("searches for one lookup" in err or
                          "recursion_limit=1000" in err), err
    # An LDAP URL in a special attribute: its search, with the
    # attributes both the URL and the table ask for.
    slapd.add("dn: uid=dyn,ou=people,{s}\n"
              "objectClass: inetOrgPerson\nobjectClass: posternMailUser\n"
              "uid: dyn\ncn: Dyn\nsn: D\n"
              "mailacceptinggeneralid: dyn@example.com\n"
              "labeledURI: ldap:///ou=people,{s}?maildrop,mail?one?"
              "(uid=bob)\n")
    t = table(instance, slapd, "url.cf", special_result_attribute="labeledURI")
    assert q(instance, t, "dyn@example.com")[:2] == (
        0, "bob@mx.test.example,bob@elsewhere.example")


def test_ldap_limits(instance, slapd):  # noqa: F811
    """expansion_limit and size_limit are lookup errors when exceeded."""
    instance.write_config()
    t = table(instance, slapd, expansion_limit="1")
    assert q(instance, t, "alice@example.com")[0] == 0
    code, out, err = q(instance, t, "bob@example.com")
    assert code == 2 and out == "" and "expansion_limit=1" in err, err
    t = table(instance, slapd, "size.cf", size_limit="1",
              query_filter="(|(mailacceptinggeneralid=%s)(uid=*))")
    code, out, err = q(instance, t, "alice@example.com")
    assert code == 2 and "size_limit=1" in err, err
    # size_limit defaults to expansion_limit.
    t = table(instance, slapd, "size2.cf", expansion_limit="2",
              query_filter="(|(uid=alice)(uid=carol)(uid=bob))",
              result_attribute="mail")
    code, out, err = q(instance, t, "x")
    assert code == 2 and "size_limit=2" in err, err


def test_ldap_bind(instance, slapd):  # noqa: F811
    """Simple bind as a reader; a wrong password is an error (exit 2)
    naming the server; version 2 falls back to 3; bind = sasl is a
    table that cannot be opened."""
    instance.write_config()
    t = table(instance, slapd, bind_dn=READER_DN, bind_pw=READER_PW)
    assert q(instance, t, "alice@example.com")[:2] == (
        0, "alice@mx.test.example")
    t = table(instance, slapd, "v2.cf", bind_dn=READER_DN,
              bind_pw=READER_PW, version="2")
    assert q(instance, t, "alice@example.com")[:2] == (
        0, "alice@mx.test.example")
    t = table(instance, slapd, "badpw.cf", bind_dn=READER_DN,
              bind_pw="wrong")
    code, out, err = q(instance, t, "alice@example.com")
    assert code == 2 and out == ""
    assert "%s: bind: Invalid credentials" % slapd.url in err, err
    t = table(instance, slapd, "sasl.cf", bind="sasl")
    code, out, err = q(instance, t, "alice@example.com")
    assert code == 2 and "bind = sasl is not supported" in err


def test_ldap_server_down(instance, slapd):  # noqa: F811
    """A server that does not answer is a lookup error (exit 2) naming
    it; the next server of server_host is tried."""
    instance.write_config()
    t = table(instance, slapd)
    assert q(instance, t, "alice@example.com")[0] == 0
    slapd.stop()
    code, out, err = q(instance, t, "alice@example.com")
    assert code == 2 and out == ""
    assert "%s: connect: Can't contact LDAP server" % slapd.url in err, err
    slapd.start()
    # The first server is down, the second answers.
    from fixtures import free_port
    dead = "ldap://127.0.0.1:%d" % free_port()
    t = table(instance, slapd, "two.cf",
              server_host="%s, %s" % (dead, slapd.url))
    assert q(instance, t, "alice@example.com")[:2] == (
        0, "alice@mx.test.example")
    # A server that accepts connections but never answers: timeout.
    silent = socket.socket()
    try:
        silent.bind(("127.0.0.1", 0))
        silent.listen(5)
        url = "ldap://127.0.0.1:%d" % silent.getsockname()[1]
        for bind in ("yes", "no"):
            t = table(instance, slapd, "silent.cf", server_host=url,
                      timeout="1", bind=bind)
            code, out, err = q(instance, t, "alice@example.com")
            assert code == 2 and out == "", err
            assert url in err and ("Timed out" in err or
                                   "timed out" in err), err
    finally:
        silent.close()


def test_ldap_recipient_access(acc, slapd):  # noqa: F811
    """check_recipient_access ldap:...: the answer is the access action;
    with slapd stopped the lookup is a temporary failure (451 4.3.0);
    once it is back, lookups work again."""
    inst = acc
    t = table(inst, slapd, "access.cf", result_attribute="description")
    inst.params["smtpd_recipient_restrictions"] = (
        "check_recipient_access %s, permit_mynetworks, "
        "reject_unauth_destination" % t)
    inst.start()
    blocked = "blocked@mx.test.example"
    assert try_rcpt(inst, blocked) == (
        554, "5.7.1 <%s>: Recipient address rejected: Not here" % blocked)
    assert try_rcpt(inst, LOCAL)[0] == 250
    slapd.stop()
    assert try_rcpt(inst, blocked) == (
        451, "4.3.0 <%s>: Temporary lookup failure" % blocked)
    inst.wait_log(r"warning: ldap:%s: %s: connect: Can't contact LDAP "
                  r"server" % (t[5:].replace(".", r"\."),
                               slapd.url.replace(".", r"\.")))
    slapd.start()
    assert try_rcpt(inst, blocked)[0] == 554


def test_ldap_alias_maps_outage(instance, users, slapd):  # noqa: F811
    """alias_maps = ldap:...: local(8) expands an alias from LDAP; while
    slapd is down the message is deferred (alias database unavailable),
    and after it is back postqueue -f delivers it."""
    users.add("ldapu")
    t = table(instance, slapd, "aliases.cf")
    instance.params["alias_maps"] = "hash:%s/aliases, %s" % (instance.etc, t)
    instance.start()
    instance.sendmail(["team"], "Subject: first\n\nvia ldap\n")
    wait_for(lambda: len(parse_mbox(instance.mbox("ldapu"))) == 1, 30,
             what="delivery through the LDAP alias")
    instance.wait_log(r"to=<ldapu@mx\.test\.example>, orig_to=<team>.*"
                      r"status=sent")
    slapd.stop()
    instance.sendmail(["team"], "Subject: second\n\nduring the outage\n")
    wait_for(lambda: instance.queue_files("deferred"), 30,
             what="a deferred message")
    instance.wait_log(r"to=<team@mx\.test\.example>.*status=deferred "
                      r"\(alias database unavailable\)")
    instance.wait_log(r"warning: \w+: alias lookup of team: ldap:.*"
                      r"Can't contact LDAP server")
    r = instance.cmd("postqueue", "-p")
    assert "team@mx.test.example" in r.stdout
    assert "alias database unavailable" in r.stdout
    assert len(parse_mbox(instance.mbox("ldapu"))) == 1
    slapd.start()
    instance.cmd("postqueue", "-f")
    wait_for(lambda: len(parse_mbox(instance.mbox("ldapu"))) == 2, 30,
             what="delivery after the outage")
    instance.wait_queue_empty()


def test_ldap_tls(instance, slapd):  # noqa: F811
    """STARTTLS and ldaps://, with and without checking the server's
    certificate."""
    instance.write_config()
    for n, params in enumerate((
            {"start_tls": "yes"},
            {"start_tls": "yes", "tls_require_cert": "yes",
             "tls_ca_cert_file": slapd.cert},
            {"server_host": slapd.ldaps_url},
            {"server_host": slapd.ldaps_url, "tls_require_cert": "yes",
             "tls_ca_cert_file": slapd.cert})):
        t = table(instance, slapd, "tls%d.cf" % n, **params)
        assert q(instance, t, "alice@example.com")[:2] == (
            0, "alice@mx.test.example"), params
    # A certificate that does not verify: an error naming the server.
    t = table(instance, slapd, "tlsbad.cf", start_tls="yes",
              tls_require_cert="yes", tls_ca_cert_file="/dev/null")
    code, out, err = q(instance, t, "alice@example.com")
    assert code == 2 and "%s: STARTTLS: " % slapd.url in err, err
    t = table(instance, slapd, "tlsbad2.cf", server_host=slapd.ldaps_url,
              tls_require_cert="yes", tls_ca_cert_file="/dev/null")
    code, out, err = q(instance, t, "alice@example.com")
    assert code == 2 and slapd.ldaps_url in err, err
