"""Virtual-domain hosting end to end with users and aliases in a directory
server: a real slapd (ldap_fixture.py) and a real mariadbd
(mysql_fixture.py), each started on loopback in a temporary directory.

Mail to hosted users lands in their Maildirs (virtual(8), mailbox paths,
uids and quotas from the server), aliases expand (cleanup's
virtual_alias_maps), unknown users are refused at RCPT TO, and while the
server is down mail is refused with 451 at RCPT TO or, when it was
submitted locally, kept in the queue and delivered once the server is
back."""
import os
import smtplib

import pytest

from conftest import needs_root, wait_for
from mysql_fixture import mysql, mysql_server  # noqa: F401
from test_virtual import VGID, VIRTUAL_CF, VUID, free_port, new_files

pytestmark = needs_root

DOMAIN = "hosted.example"

LDAP_ENTRIES = """\
dn: ou=hosted,{s}
objectClass: organizationalUnit
ou: hosted

dn: uid=ann,ou=hosted,{s}
objectClass: inetOrgPerson
uid: ann
cn: Ann
sn: A
mail: ann@hosted.example
description: hosted.example/ann/
employeeNumber: 5000000

dn: uid=ben,ou=hosted,{s}
objectClass: inetOrgPerson
uid: ben
cn: Ben
sn: B
mail: ben@hosted.example
description: hosted.example/ben/
employeeNumber: 5000000

dn: cn=sales,ou=hosted,{s}
objectClass: organizationalRole
objectClass: posternMailUser
cn: sales
mailacceptinggeneralid: sales@hosted.example
maildrop: ann@hosted.example
maildrop: ben@hosted.example

dn: cn=boss,ou=hosted,{s}
objectClass: organizationalRole
objectClass: posternMailUser
cn: boss
mailacceptinggeneralid: boss@hosted.example
maildrop: sales@hosted.example
"""


class LdapBackend:
    """The directory layout as LDAP hosting guides have it: one entry per
    user with the address, the Maildir path and a quota; aliases as
    entries with Postfix's mailacceptinggeneralid/maildrop."""

    def __init__(self, slapd, etc):
        from ldap_fixture import SUFFIX
        self.server = slapd
        slapd.add(LDAP_ENTRIES)
        base = "ou=hosted," + SUFFIX
        t = lambda name, **p: "ldap:" + slapd.table(  # noqa: E731
            os.path.join(etc, name), search_base=base, timeout="2", **p)
        self.mailbox = t("ldap-mailbox.cf", query_filter="(mail=%s)",
                         result_attribute="description", domain=DOMAIN)
        self.quota = t("ldap-quota.cf", query_filter="(mail=%s)",
                       result_attribute="employeeNumber", domain=DOMAIN)
        self.alias = t("ldap-alias.cf",
                       query_filter="(mailacceptinggeneralid=%s)",
                       result_attribute="maildrop", domain=DOMAIN)

    def set_quota(self, uid, limit):
        import subprocess
        from ldap_fixture import ROOT_DN, ROOT_PW, SUFFIX
        subprocess.run(["ldapmodify", "-x", "-H", self.server.url, "-D",
                        ROOT_DN, "-w", ROOT_PW], check=True, timeout=30,
                       capture_output=True, text=True, input=(
                           "dn: uid=%s,ou=hosted,%s\nchangetype: modify\n"
                           "replace: employeeNumber\nemployeeNumber: %d\n"
                           % (uid, SUFFIX, limit)))

    def stop(self):
        self.server.stop()

    def start(self):
        self.server.start()


class MysqlBackend:
    """The tables of the usual MySQL hosting guides (mysql_fixture.py):
    virtual_domains, virtual_users (email, maildir, quota),
    virtual_aliases (source, destination; one row per destination), read
    through proxy:."""

    def __init__(self, server, etc):
        self.server = server
        server.sql("DELETE FROM virtual_aliases WHERE source LIKE "
                   "'%%@%s';" % DOMAIN +
                   "DELETE FROM virtual_users WHERE email LIKE '%%@%s';"
                   % DOMAIN +
                   "INSERT IGNORE INTO virtual_domains (name) VALUES "
                   "('%s');" % DOMAIN)
        dom = "(SELECT id FROM virtual_domains WHERE name = '%s')" % DOMAIN
        server.sql("".join(
            "INSERT INTO virtual_users (domain_id, email, password, "
            "maildir, quota) VALUES (%s, '%s@%s', 'x', '%s/%s/', "
            "5000000);" % (dom, u, DOMAIN, DOMAIN, u)
            for u in ("ann", "ben")) + "".join(
            "INSERT INTO virtual_aliases (domain_id, source, destination) "
            "VALUES (%s, '%s@%s', '%s@%s');" % (dom, a, DOMAIN, d, DOMAIN)
            for a, d in (("sales", "ann"), ("sales", "ben"),
                         ("boss", "sales"))))

        def t(name, query):
            path = os.path.join(etc, name)
            with open(path, "w") as f:
                f.write("hosts = inet:127.0.0.1:%d\nuser = %s\n"
                        "password = %s\ndbname = mail\ndomain = %s\n"
                        # A host that failed is skipped for this long.
                        "retry_interval = 1\n"
                        "query = %s\n" % (server.port, server.user,
                                          server.password, DOMAIN, query))
            os.chmod(path, 0o644)
            # Through proxymap, as virtual.md recommends: the chrooted
            # smtpd and cleanup share its connections.
            return "proxy:mysql:" + path
        self.mailbox = t("mysql-mailbox.cf", "SELECT maildir FROM "
                         "virtual_users WHERE email = '%s'")
        self.quota = t("mysql-quota.cf", "SELECT quota FROM virtual_users "
                       "WHERE email = '%s'")
        self.alias = t("mysql-alias.cf", "SELECT destination FROM "
                       "virtual_aliases WHERE source = '%s'")

    def set_quota(self, user, limit):
        self.server.sql("UPDATE virtual_users SET quota = %d WHERE "
                        "email = '%s@%s';" % (limit, user, DOMAIN))

    def stop(self):
        self.server.stop()

    def start(self):
        self.server.start()


@pytest.fixture(params=["ldap", "mysql"])
def hosting(request, instance):
    """An instance that hosts DOMAIN from the backend's tables."""
    inst = instance
    os.makedirs(inst.etc, exist_ok=True)
    if request.param == "ldap":
        from ldap_fixture import Slapd
        server = Slapd()
        request.addfinalizer(server.cleanup)
        server.start()
        backend = LdapBackend(server, inst.etc)
    else:
        backend = MysqlBackend(request.getfixturevalue("mysql"), inst.etc)
    inst.smtp_port = free_port()
    inst.master_cf += ("127.0.0.1:%d inet  n       -       y       -"
                       "       -       smtpd\n" % inst.smtp_port)
    inst.master_cf += VIRTUAL_CF
    inst.vbase = os.path.join(inst.root, "vmail")
    os.makedirs(inst.vbase)
    os.chown(inst.vbase, VUID, VGID)
    inst.params.update({
        "mynetworks": "127.0.0.1/32",
        "recipient_delimiter": "+",
        "virtual_mailbox_domains": DOMAIN,
        "virtual_mailbox_base": inst.vbase,
        "virtual_mailbox_maps": backend.mailbox,
        "virtual_alias_maps": backend.alias,
        "virtual_mailbox_limit_maps": backend.quota,
        "virtual_uid_maps": "static:%d" % VUID,
        "virtual_gid_maps": "static:%d" % VGID,
    })
    inst.backend = backend
    return inst


def maildir(inst, user):
    return os.path.join(inst.vbase, DOMAIN, user)


def send(inst, rcpts, subject):
    with smtplib.SMTP("127.0.0.1", inst.smtp_port, timeout=30) as s:
        return s.sendmail("someone@remote.example", rcpts,
                          "Subject: %s\r\n\r\nhello\r\n" % subject)


def subjects(inst, user):
    d = maildir(inst, user)
    out = []
    for n in new_files(d):
        with open(os.path.join(d, "new", n), errors="replace") as f:
            out += [l[9:].strip() for l in f if l.startswith("Subject: ")]
    return sorted(out)


def test_hosted_delivery(hosting):
    inst = hosting
    inst.start()
    send(inst, ["ann@hosted.example"], "direct")
    wait_for(lambda: subjects(inst, "ann") == ["direct"], 30,
             what="delivery to ann's Maildir")
    st = os.stat(os.path.join(maildir(inst, "ann"), "new",
                              new_files(maildir(inst, "ann"))[0]))
    assert (st.st_uid, st.st_gid) == (VUID, VGID)
    # An alias of an alias, and an extension.
    send(inst, ["boss@hosted.example", "ben+news@hosted.example"], "alias")
    wait_for(lambda: subjects(inst, "ann") == ["alias", "direct"] and
             subjects(inst, "ben") == ["alias", "alias"], 30,
             what="alias deliveries")
    inst.wait_log(r"to=<ben\+news@hosted\.example>, relay=virtual.*"
                  r"status=sent")
    inst.wait_log(r"to=<ben@hosted\.example>, orig_to=<boss@hosted\."
                  r"example>, relay=virtual.*status=sent")
    # Unknown users are refused at RCPT TO.
    with smtplib.SMTP("127.0.0.1", inst.smtp_port, timeout=30) as s:
        s.mail("someone@remote.example")
        code, text = s.rcpt("nobody@hosted.example")
        assert code == 550 and b"5.1.1" in text
        assert s.rcpt("sales@hosted.example")[0] == 250


def test_hosted_quota(hosting):
    """The quota comes from the server: 50 bytes for ann is too little."""
    inst = hosting
    inst.start()
    send(inst, ["ann@hosted.example"], "first")
    wait_for(lambda: subjects(inst, "ann") == ["first"], 30,
             what="first delivery")
    inst.backend.set_quota("ann", 50)
    send(inst, ["ann@hosted.example"], "second")
    inst.wait_log(r"to=<ann@hosted\.example>.*dsn=5\.2\.2, status=bounced "
                  r"\(Mailbox full")


def test_hosted_outage(hosting):
    """With the server down: 451 at RCPT TO; a locally submitted message
    waits in the queue and is delivered once the server is back."""
    inst = hosting
    inst.start()
    inst.backend.stop()
    with smtplib.SMTP("127.0.0.1", inst.smtp_port, timeout=30) as s:
        s.mail("someone@remote.example")
        code, text = s.rcpt("ann@hosted.example")
        assert code == 451 and b"4.3.0" in text
    inst.sendmail(["-f", "someone@remote.example", "sales@hosted.example"],
                  "Subject: queued\n\nwhile the server was down\n")
    inst.wait_log(r"virtual_alias_maps map lookup problem for "
                  r"sales@hosted\.example -- message not accepted")
    assert subjects(inst, "ann") == []
    inst.backend.start()
    wait_for(lambda: subjects(inst, "ann") == ["queued"] and
             subjects(inst, "ben") == ["queued"], 60,
             what="delivery after the server came back")
