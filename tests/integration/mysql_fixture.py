"""A private MariaDB server for mysql: table tests.

    from mysql_fixture import mysql, mysql_server  # noqa: F401

    def test_x(mysql):
        mysql.port, mysql.socket      TCP port on 127.0.0.1, UNIX socket
        mysql.user, mysql.password    a read-only account on mysql.db
        mysql.tls_user                the same, over TLS only (TCP)
        mysql.ca, mysql.other_ca      the CA of the server's certificate
                                      (for 127.0.0.1), and another one
        mysql.sql("SELECT ...")       run SQL as root, returns the output
        mysql.stop(); mysql.start()   an outage and the way back

The server runs from a data directory made by mariadb-install-db in a
temporary directory (no system file is read or written: every program
gets --no-defaults), listens on 127.0.0.1 on a free port and on a UNIX
socket in that directory, and is stopped at the end of the module.  It
is started with small InnoDB settings: the module's server is ready in
about two seconds (certificates, data directory and rows included), and
a restart after stop() takes a fraction of a second.  The server also
speaks TLS with a certificate for 127.0.0.1 from a private CA.  The "mysql" fixture makes sure the server is running for each
test (a test that stopped it and failed does not break the next).

The database "mail" holds the tables of the usual virtual-hosting
guides:

    virtual_domains(id, name)
    virtual_users(id, domain_id, email, password, maildir, quota)
    virtual_aliases(id, domain_id, source, destination)

with the rows in DOMAINS, USERS and ALIASES, and a stored procedure
alias_of(addr) that SELECTs the destinations of an alias.
"""
import os
import shutil
import subprocess
import time

import pytest

from fixtures import _reap, _spawn, _tempdir, free_port

MARIADBD = shutil.which("mariadbd") or "/usr/sbin/mariadbd"
INSTALL_DB = shutil.which("mariadb-install-db") or "/usr/bin/mariadb-install-db"
CLIENT = shutil.which("mariadb") or "/usr/bin/mariadb"

# Small and fast: this server holds a few rows.
SERVER_OPTS = [
    "--skip-log-bin",
    "--skip-name-resolve",
    "--innodb-buffer-pool-size=8M",
    "--innodb-log-file-size=4M",
    "--innodb-data-file-path=ibdata1:4M:autoextend",
    "--innodb-flush-log-at-trx-commit=2",
    "--loose-innodb-buffer-pool-load-at-startup=0",
    "--loose-innodb-buffer-pool-dump-at-shutdown=0",
    "--performance-schema=0",
    "--loose-feedback=0",
]

DOMAINS = ["example.com", "example.net"]
# (email, password, maildir, quota)
USERS = [
    ("alice@example.com", "{PLAIN}a", "example.com/alice/", 1048576),
    ("bob@example.com", "{PLAIN}b", "example.com/bob/", 0),
    ("carol@example.net", "{PLAIN}c", "example.net/carol/", 2097152),
]
# (source, destination); several rows for one source are a list.
ALIASES = [
    ("postmaster@example.com", "alice@example.com"),
    ("team@example.com", "alice@example.com"),
    ("team@example.com", "bob@example.com"),
    ("team@example.com", "carol@example.net"),
    ("info@example.net", "carol@example.net"),
]

SCHEMA = """
CREATE DATABASE mail;
USE mail;
CREATE TABLE virtual_domains (
  id INT NOT NULL AUTO_INCREMENT PRIMARY KEY,
  name VARCHAR(255) NOT NULL UNIQUE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
CREATE TABLE virtual_users (
  id INT NOT NULL AUTO_INCREMENT PRIMARY KEY,
  domain_id INT NOT NULL,
  email VARCHAR(255) NOT NULL UNIQUE,
  password VARCHAR(255) NOT NULL,
  maildir VARCHAR(255) NOT NULL,
  quota BIGINT NOT NULL DEFAULT 0,
  FOREIGN KEY (domain_id) REFERENCES virtual_domains(id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
CREATE TABLE virtual_aliases (
  id INT NOT NULL AUTO_INCREMENT PRIMARY KEY,
  domain_id INT NOT NULL,
  source VARCHAR(255) NOT NULL,
  destination VARCHAR(255) NOT NULL,
  FOREIGN KEY (domain_id) REFERENCES virtual_domains(id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
CREATE PROCEDURE alias_of(IN addr VARCHAR(255)) READS SQL DATA
  SQL SECURITY INVOKER
  SELECT destination FROM virtual_aliases WHERE source = addr;
"""


def _q(s):
    return "'%s'" % s.replace("\\", "\\\\").replace("'", "\\'")


class MariaDB:
    db = "mail"
    user = "postern"
    tls_user = "posterntls"
    password = "Rd-0nly pw"

    def __init__(self):
        self.base = _tempdir("postern-mariadb-")
        self.datadir = os.path.join(self.base, "data")
        self.socket = os.path.join(self.base, "mysqld.sock")
        self.errlog = os.path.join(self.base, "error.log")
        self.port = free_port()
        self.proc = None
        self.startup_seconds = None

    def _server_args(self):
        return ["--no-defaults", "--datadir=" + self.datadir,
                "--user=root"] + SERVER_OPTS

    def make_certs(self):
        """A CA, a server certificate for 127.0.0.1 signed by it, and a
        second CA that signed nothing here (for verification failures)."""
        d = self.base

        def ssl(*args):
            r = subprocess.run(["openssl"] + list(args), cwd=d,
                               capture_output=True, text=True, timeout=60)
            if r.returncode != 0:
                raise AssertionError("openssl %s: %s" % (args, r.stderr))
        for ca in ("ca", "otherca"):
            ssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days",
                "2", "-subj", "/CN=Postern test %s" % ca, "-keyout",
                ca + ".key", "-out", ca + ".pem")
        ext = os.path.join(d, "san.ext")
        with open(ext, "w") as f:
            f.write("subjectAltName = IP:127.0.0.1\n")
        ssl("req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=127.0.0.1",
            "-keyout", "server.key", "-out", "server.csr")
        ssl("x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey",
            "ca.key", "-CAcreateserial", "-days", "2", "-extfile", ext,
            "-out", "server.pem")
        self.ca = os.path.join(d, "ca.pem")
        self.other_ca = os.path.join(d, "otherca.pem")

    def install(self):
        self.make_certs()
        r = subprocess.run(
            [INSTALL_DB] + self._server_args() +
            ["--auth-root-authentication-method=normal", "--skip-test-db"],
            capture_output=True, text=True, timeout=120)
        if r.returncode != 0:
            raise AssertionError("mariadb-install-db failed:\n%s\n%s"
                                 % (r.stdout[-2000:], r.stderr[-2000:]))

    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def start(self, timeout=60):
        assert not self.running()
        t0 = time.monotonic()
        self.proc = _spawn(
            [MARIADBD] + self._server_args() +
            ["--bind-address=127.0.0.1", "--port=%d" % self.port,
             "--socket=" + self.socket,
             "--pid-file=" + os.path.join(self.base, "mysqld.pid"),
             "--log-error=" + self.errlog,
             "--ssl-ca=" + self.ca,
             "--ssl-cert=" + os.path.join(self.base, "server.pem"),
             "--ssl-key=" + os.path.join(self.base, "server.key")],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = t0 + timeout
        while True:
            if self.proc.poll() is not None:
                raise AssertionError("mariadbd exited (%s):\n%s" % (
                    self.proc.returncode, self.log()[-3000:]))
            r = self._client(["-e", "SELECT 1"], check=False)
            if r.returncode == 0:
                break
            if time.monotonic() > deadline:
                raise AssertionError("mariadbd did not answer:\n%s"
                                     % self.log()[-3000:])
            time.sleep(0.05)
        self.startup_seconds = time.monotonic() - t0

    def stop(self):
        """Stop the server (SIGTERM: a clean shutdown) and wait."""
        if self.proc is not None:
            _reap(self.proc, timeout=30)
            self.proc = None

    def log(self):
        try:
            with open(self.errlog, errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def _client(self, args, check=True, input=None, user="root",
                password=None, db=None):
        argv = [CLIENT, "--no-defaults", "--socket=" + self.socket,
                "--user=" + user, "--batch", "--skip-column-names"]
        if password is not None:
            argv.append("--password=" + password)
        if db:
            argv.append("--database=" + db)
        r = subprocess.run(argv + args, input=input, capture_output=True,
                           text=True, timeout=60)
        if check and r.returncode != 0:
            raise AssertionError("mariadb %s failed: %s" % (args, r.stderr))
        return r

    def sql(self, text, db="mail"):
        """Run SQL statements as root; returns the output (tab-separated
        rows, no column names)."""
        return self._client([], input=text, db=db).stdout

    def populate(self):
        self.sql(SCHEMA, db=None)
        rows = ["INSERT INTO virtual_domains (name) VALUES %s;" %
                ", ".join("(%s)" % _q(d) for d in DOMAINS)]
        for email, pw, maildir, quota in USERS:
            rows.append(
                "INSERT INTO virtual_users (domain_id, email, password, "
                "maildir, quota) SELECT id, %s, %s, %s, %d FROM "
                "virtual_domains WHERE name = %s;"
                % (_q(email), _q(pw), _q(maildir), quota,
                   _q(email.split("@")[1])))
        for src, dst in ALIASES:
            rows.append(
                "INSERT INTO virtual_aliases (domain_id, source, "
                "destination) SELECT id, %s, %s FROM virtual_domains "
                "WHERE name = %s;" % (_q(src), _q(dst),
                                      _q(src.split("@")[1])))
        for host in ("localhost", "127.0.0.1"):
            rows.append("CREATE USER %s@%s IDENTIFIED BY %s;"
                        % (_q(self.user), _q(host), _q(self.password)))
            rows.append("GRANT SELECT, EXECUTE ON mail.* TO %s@%s;"
                        % (_q(self.user), _q(host)))
        # An account that may log in over TLS only.
        rows.append("CREATE USER %s@'127.0.0.1' IDENTIFIED BY %s "
                    "REQUIRE SSL;" % (_q(self.tls_user), _q(self.password)))
        rows.append("GRANT SELECT ON mail.* TO %s@'127.0.0.1';"
                    % _q(self.tls_user))
        self.sql("\n".join(rows))

    def cleanup(self):
        self.stop()
        shutil.rmtree(self.base, ignore_errors=True)


@pytest.fixture(scope="module")
def mysql_server():
    """One populated MariaDB server for a test module."""
    m = MariaDB()
    try:
        m.install()
        m.start()
        m.populate()
        yield m
    finally:
        m.cleanup()


@pytest.fixture
def mysql(mysql_server):
    """The module's server, running (restarted if a test left it down)."""
    if not mysql_server.running():
        mysql_server.start()
    yield mysql_server
