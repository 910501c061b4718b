"""A real OpenLDAP server (slapd) for the ldap: table tests.

The `slapd` fixture writes a slapd.conf and an mdb database in a temporary
directory, loads entries with slapadd and starts slapd in the foreground
on a free loopback port (with STARTTLS), an ldaps:// port, and an ldapi://
socket in that directory; the certificate is a self-signed one for
127.0.0.1 made with openssl.  It
is stopped at teardown (and at interpreter exit if a teardown did not
run).  stop() and start() make an outage.

Schema: Debian's core, cosine, inetorgperson and nis, plus a small one
written here with Postfix's attribute names (mailacceptinggeneralid and
maildrop in an auxiliary class posternMailUser), so that a table file
with the ldap_table(5) defaults finds them.

Directory (dc=example,dc=com):
  ou=people   alice (mail alice@example.com, addresses alice@example.com
              and al@example.com, maildrop alice@mx.test.example), bob
              (two maildrops), carol (no maildrop), the reader account
              cn=reader (password "readerpw"), blocked (description
              "REJECT Not here"), team (local alias: maildrop "ldapu")
  ou=groups   staff (groupOfNames: alice and bob; maildrop
              staff-owner@example.com; address staff@example.com),
              loop (a group that is its own member), list (a terminal
              maildrop besides its members)
Tests add entries with add(ldif) (ldapadd as the root DN).
"""
import os
import shutil
import subprocess
import tempfile
import urllib.parse

import pytest

from fixtures import _reap, _spawn, free_port, wait_until

SUFFIX = "dc=example,dc=com"
ROOT_DN = "cn=admin," + SUFFIX
ROOT_PW = "adminpw"
READER_DN = "cn=reader,ou=people," + SUFFIX
READER_PW = "readerpw"

SCHEMA = """\
attributetype ( 1.3.6.1.4.1.4203.666.11.77.1.1
  NAME 'mailacceptinggeneralid'
  DESC 'an address this entry receives mail for'
  EQUALITY caseIgnoreIA5Match
  SUBSTR caseIgnoreIA5SubstringsMatch
  SYNTAX 1.3.6.1.4.1.1466.115.121.1.26{1024} )
attributetype ( 1.3.6.1.4.1.4203.666.11.77.1.2
  NAME 'maildrop'
  DESC 'where mail for this entry goes'
  EQUALITY caseIgnoreIA5Match
  SUBSTR caseIgnoreIA5SubstringsMatch
  SYNTAX 1.3.6.1.4.1.1466.115.121.1.26{1024} )
objectclass ( 1.3.6.1.4.1.4203.666.11.77.2.1
  NAME 'posternMailUser'
  DESC 'mail routing attributes as Postfix names them'
  SUP top AUXILIARY
  MAY ( mailacceptinggeneralid $ maildrop ) )
"""

ENTRIES = """\
dn: {s}
objectClass: dcObject
objectClass: organization
dc: example
o: Example

dn: ou=people,{s}
objectClass: organizationalUnit
ou: people

dn: ou=groups,{s}
objectClass: organizationalUnit
ou: groups

dn: uid=alice,ou=people,{s}
objectClass: inetOrgPerson
objectClass: posternMailUser
uid: alice
cn: Alice
sn: A
mail: alice@example.com
mailacceptinggeneralid: alice@example.com
mailacceptinggeneralid: al@example.com
maildrop: alice@mx.test.example

dn: uid=bob,ou=people,{s}
objectClass: inetOrgPerson
objectClass: posternMailUser
uid: bob
cn: Bob
sn: B
mail: bob@example.com
mailacceptinggeneralid: bob@example.com
maildrop: bob@mx.test.example
maildrop: bob@elsewhere.example

dn: uid=carol,ou=people,{s}
objectClass: inetOrgPerson
objectClass: posternMailUser
uid: carol
cn: Carol
sn: C
mail: carol@example.com
mailacceptinggeneralid: carol@example.com

dn: cn=reader,ou=people,{s}
objectClass: organizationalRole
objectClass: simpleSecurityObject
cn: reader
userPassword: {rpw}

dn: uid=blocked,ou=people,{s}
objectClass: inetOrgPerson
objectClass: posternMailUser
uid: blocked
cn: Blocked
sn: B
description: REJECT Not here
mailacceptinggeneralid: blocked@mx.test.example

dn: uid=team,ou=people,{s}
objectClass: inetOrgPerson
objectClass: posternMailUser
uid: team
cn: Team
sn: T
mailacceptinggeneralid: team
maildrop: ldapu

dn: cn=staff,ou=groups,{s}
objectClass: groupOfNames
objectClass: posternMailUser
cn: staff
mailacceptinggeneralid: staff@example.com
maildrop: staff-owner@example.com
member: uid=alice,ou=people,{s}
member: uid=bob,ou=people,{s}
member: uid=nobody,ou=people,{s}

dn: cn=loop,ou=groups,{s}
objectClass: groupOfNames
objectClass: posternMailUser
cn: loop
mailacceptinggeneralid: loop@example.com
member: cn=loop,ou=groups,{s}

dn: cn=list,ou=groups,{s}
objectClass: groupOfNames
objectClass: posternMailUser
cn: list
mailacceptinggeneralid: list@example.com
maildrop: list-expander@lists.example.com
member: uid=alice,ou=people,{s}
"""


class Slapd:
    """slapd on 127.0.0.1:port (STARTTLS offered), ldaps on
    127.0.0.1:tls_port (self-signed certificate self.cert for 127.0.0.1),
    and on ldapi://<dir>/ldapi."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="postern-slapd-")
        os.chmod(self.dir, 0o755)
        self.port = free_port()
        self.url = "ldap://127.0.0.1:%d" % self.port
        self.socket = os.path.join(self.dir, "ldapi")
        self.ldapi_url = "ldapi://" + urllib.parse.quote(self.socket,
                                                         safe="")
        self.tls_port = free_port()
        self.ldaps_url = "ldaps://127.0.0.1:%d" % self.tls_port
        self.proc = None
        self.conf = os.path.join(self.dir, "slapd.conf")
        # A self-signed certificate for 127.0.0.1 (STARTTLS and ldaps).
        self.cert = os.path.join(self.dir, "cert.pem")
        key = os.path.join(self.dir, "key.pem")
        r = subprocess.run(["openssl", "req", "-x509", "-newkey", "ec",
                            "-pkeyopt", "ec_paramgen_curve:prime256v1",
                            "-nodes", "-days", "2", "-subj", "/CN=127.0.0.1",
                            "-addext", "subjectAltName=IP:127.0.0.1",
                            "-keyout", key, "-out", self.cert],
                           capture_output=True, text=True, timeout=60)
        if r.returncode != 0:
            raise AssertionError("openssl req failed: %s" % r.stderr)
        db = os.path.join(self.dir, "db")
        os.makedirs(db)
        with open(os.path.join(self.dir, "postern.schema"), "w") as f:
            f.write(SCHEMA)
        with open(self.conf, "w") as f:
            for s in ("core", "cosine", "inetorgperson", "nis"):
                f.write("include /etc/ldap/schema/%s.schema\n" % s)
            f.write("include %s/postern.schema\n" % self.dir)
            f.write("pidfile %s/slapd.pid\n" % self.dir)
            f.write("argsfile %s/slapd.args\n" % self.dir)
            f.write("modulepath /usr/lib/ldap\nmoduleload back_mdb\n")
            f.write("TLSCertificateFile %s\nTLSCertificateKeyFile %s\n"
                    % (self.cert, key))
            f.write("sizelimit 500\n")
            f.write("database mdb\nmaxsize 10485760\n")
            f.write('suffix "%s"\nrootdn "%s"\nrootpw %s\n'
                    % (SUFFIX, ROOT_DN, ROOT_PW))
            f.write("directory %s\n" % db)
            f.write("index objectClass eq\n")
            f.write("index mailacceptinggeneralid eq\n")
            f.write("access to attrs=userPassword by anonymous auth "
                    "by * none\n")
            f.write("access to * by * read\n")
        ldif = os.path.join(self.dir, "data.ldif")
        with open(ldif, "w") as f:
            f.write(ENTRIES.format(s=SUFFIX, rpw=READER_PW))
        r = subprocess.run(["slapadd", "-q", "-f", self.conf, "-l", ldif],
                           capture_output=True, text=True, timeout=60)
        if r.returncode != 0:
            raise AssertionError("slapadd failed: %s" % r.stderr)

    def start(self):
        """Start slapd and wait until it answers a search."""
        assert self.proc is None
        self.proc = _spawn(["slapd", "-f", self.conf, "-d", "0",
                            "-h", "%s/ %s/ %s" % (self.url, self.ldaps_url,
                                                  self.ldapi_url)],
                           stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL)
        wait_until(lambda: self.answers() or self.proc.poll() is not None,
                   30, what="slapd answering")
        if self.proc.poll() is not None:
            raise AssertionError("slapd exited with %d" % self.proc.returncode)

    def stop(self):
        """Stop slapd (the database stays)."""
        _reap(self.proc, timeout=10)
        self.proc = None

    def answers(self):
        r = subprocess.run(["ldapsearch", "-x", "-H", self.url, "-b",
                            SUFFIX, "-s", "base", "-LLL", "dn"],
                           capture_output=True, text=True, timeout=10)
        return r.returncode == 0

    def add(self, ldif):
        """Add entries as the root DN."""
        r = subprocess.run(["ldapadd", "-x", "-H", self.url, "-D", ROOT_DN,
                            "-w", ROOT_PW], input=ldif.format(s=SUFFIX),
                           capture_output=True, text=True, timeout=30)
        if r.returncode != 0:
            raise AssertionError("ldapadd failed: %s" % r.stderr)

    def table(self, path, **params):
        """Write a table file for this server: server_host, search_base
        and the given parameters (None drops a default)."""
        p = {"server_host": self.url, "search_base": SUFFIX}
        p.update(params)
        with open(path, "w") as f:
            for k, v in p.items():
                if v is not None:
                    f.write("%s = %s\n" % (k, v))
        os.chmod(path, 0o644)
        return path

    def cleanup(self):
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


@pytest.fixture
def slapd():
    s = Slapd()
    try:
        s.start()
        yield s
    finally:
        s.cleanup()

