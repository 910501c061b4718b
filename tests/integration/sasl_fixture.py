"""Authentication servers for the SMTP AUTH tests (test_sasl.py).

All of them are real and private to a test, in temporary directories, and
cleaned up afterwards (also at interpreter exit, through fixtures._spawn):

  CyrusSasldb(inst)     a sasldb2 made with saslpasswd2 and a Cyrus
                        application file smtpd.conf in the instance's
                        $config_directory/sasl (the default lookup); with
                        chroot=True the database is copied into the jail
                        (queue directory) and sasldb_path is the path
                        inside it, else sasldb_path is absolute
  Saslauthd(inst, slapd)
                        saslauthd -a ldap -O conffile -m DIR -n 1 -d
                        against the project's slapd fixture; its socket
                        directory is inside the queue directory so the
                        chrooted smtpd reaches it, and smtpd.conf says
                        pwcheck_method: saslauthd
  Dovecot(inst)         dovecot -F -c CONF: only the auth service, users
                        from a passwd-file, its client listener at
                        QUEUE/private/auth (smtpd_sasl_path = private/auth,
                        relative to the queue directory as in Postfix)

Users: alice / "alice-secret" and bob / "bob-secret" everywhere.
"""
import os
import pwd
import shutil
import socket
import subprocess
import tempfile

from fixtures import _reap, _spawn, wait_until

USERS = {"alice": "alice-secret", "bob": "bob-secret"}
REALM = "mx.test.example"


def _chown_postern(path, mode):
    if os.geteuid() == 0:
        pw = pwd.getpwnam("postern")
        os.chown(path, pw.pw_uid, pw.pw_gid)
    os.chmod(path, mode)


class CyrusSasldb:
    """Cyrus SASL with a sasldb2 (auxprop)."""

    def __init__(self, inst, chroot=True, mechs="PLAIN LOGIN",
                 realm=REALM, users=USERS, local_domain=None):
        self.inst = inst
        self.dir = tempfile.mkdtemp(prefix="postern-sasldb-")
        os.chmod(self.dir, 0o755)
        self.db = os.path.join(self.dir, "sasldb2")
        for user, password in users.items():
            r = subprocess.run(["saslpasswd2", "-f", self.db, "-c", "-p",
                                "-u", realm, user], input=password,
                               capture_output=True, text=True, timeout=30)
            if r.returncode != 0:
                raise AssertionError("saslpasswd2: %s" % r.stderr)
        if chroot:
            # Opened at authentication time: inside the jail.
            jail_etc = os.path.join(inst.queue, "etc")
            os.makedirs(jail_etc, exist_ok=True)
            shutil.copy(self.db, os.path.join(jail_etc, "sasldb2"))
            self.path_in_smtpd = "/etc/sasldb2"
            _chown_postern(os.path.join(jail_etc, "sasldb2"), 0o640)
        else:
            self.path_in_smtpd = self.db
            _chown_postern(self.db, 0o640)
        conf_dir = os.path.join(inst.etc, "sasl")
        os.makedirs(conf_dir, exist_ok=True)
        with open(os.path.join(conf_dir, "smtpd.conf"), "w") as f:
            f.write("pwcheck_method: auxprop\n"
                    "auxprop_plugin: sasldb\n"
                    "mech_list: %s\n"
                    "sasldb_path: %s\n" % (mechs, self.path_in_smtpd))
        inst.params.update({
            "smtpd_sasl_auth_enable": "yes",
            "smtpd_sasl_type": "cyrus",
        })
        # Without smtpd_sasl_local_domain Cyrus uses the server name
        # ($myhostname = REALM) as the realm.
        if local_domain is not None:
            inst.params["smtpd_sasl_local_domain"] = local_domain

    def cleanup(self):
        shutil.rmtree(self.dir, ignore_errors=True)


class Saslauthd:
    """saslauthd -a ldap against a slapd fixture; Cyrus asks it."""

    def __init__(self, inst, slapd, users=USERS, chroot=True):
        self.inst = inst
        self.dir = tempfile.mkdtemp(prefix="postern-saslauthd-")
        os.chmod(self.dir, 0o755)
        ldif = []
        for user, password in users.items():
            ldif.append("dn: uid=%s-auth,ou=people,dc=example,dc=com\n"
                        "objectClass: inetOrgPerson\n"
                        "uid: %s-auth\ncn: %s\nsn: %s\n"
                        "userPassword: %s\n" % (user, user, user, user,
                                                password))
        slapd.add("\n".join(ldif))
        self.conf = os.path.join(self.dir, "saslauthd.conf")
        with open(self.conf, "w") as f:
            f.write("ldap_servers: %s\n"
                    "ldap_search_base: ou=people,dc=example,dc=com\n"
                    "ldap_filter: (uid=%%u-auth)\n"
                    "ldap_auth_method: bind\n"
                    "ldap_timeout: 10\n" % slapd.url)
        # The socket directory lives in the jail: smtpd connects from
        # inside the chroot.
        self.mux_dir = os.path.join(inst.queue, "saslauthd")
        os.makedirs(self.mux_dir, exist_ok=True)
        os.chmod(self.mux_dir, 0o755)
        self.log = open(os.path.join(self.dir, "saslauthd.log"), "w")
        self.proc = _spawn(["saslauthd", "-a", "ldap", "-O", self.conf,
                            "-m", self.mux_dir, "-n", "1", "-d"],
                           stdout=self.log, stderr=subprocess.STDOUT)
        mux = os.path.join(self.mux_dir, "mux")
        wait_until(lambda: self._connectable(mux), 15, what="saslauthd")
        conf_dir = os.path.join(inst.etc, "sasl")
        os.makedirs(conf_dir, exist_ok=True)
        with open(os.path.join(conf_dir, "smtpd.conf"), "w") as f:
            f.write("pwcheck_method: saslauthd\n"
                    "mech_list: PLAIN LOGIN\n"
                    "saslauthd_path: %s\n"
                    % ("/saslauthd/mux" if chroot else mux))
        inst.params.update({
            "smtpd_sasl_auth_enable": "yes",
            "smtpd_sasl_type": "cyrus",
        })

    def _connectable(self, path):
        if self.proc.poll() is not None:
            raise AssertionError("saslauthd exited: %s" % self.logtext())
        s = socket.socket(socket.AF_UNIX)
        try:
            s.connect(path)
            return True
        except OSError:
            return False
        finally:
            s.close()

    def logtext(self):
        self.log.flush()
        with open(self.log.name, errors="replace") as f:
            return f.read()

    def cleanup(self):
        _reap(self.proc)
        self.log.close()
        shutil.rmtree(self.dir, ignore_errors=True)


DOVECOT_CONF = """\
protocols =
base_dir = {dir}/run
state_dir = {dir}/state
log_path = {dir}/dovecot.log
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
default_internal_user = dovecot
default_internal_group = dovecot
default_login_user = dovenull
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {dir}/users
}}
userdb {{
  driver = static
  args = uid=65534 gid=65534 home=/nonexistent
}}
service auth {{
  unix_listener {socket} {{
    mode = 0600
    user = {owner}
  }}
}}
"""


class Dovecot:
    """Dovecot's auth service only, listening in the instance's
    private/ directory."""

    def __init__(self, inst, users=USERS):
        self.inst = inst
        self.dir = tempfile.mkdtemp(prefix="postern-dovecot-")
        os.chmod(self.dir, 0o755)
        for u in ("dovecot", "dovenull"):
            try:
                pwd.getpwnam(u)
            except KeyError:
                subprocess.run(["useradd", "-r", "-M", "-d", "/nonexistent",
                                "-s", "/usr/sbin/nologin", "-U", u],
                               check=True, capture_output=True)
        with open(os.path.join(self.dir, "users"), "w") as f:
            for user, password in users.items():
                f.write("%s:{PLAIN}%s\n" % (user, password))
        os.chmod(os.path.join(self.dir, "users"), 0o644)
        self.socket = os.path.join(inst.queue, "private", "auth")
        self.conf = os.path.join(self.dir, "dovecot.conf")
        owner = "postern" if os.geteuid() == 0 else \
            pwd.getpwuid(os.getuid()).pw_name
        with open(self.conf, "w") as f:
            f.write(DOVECOT_CONF.format(dir=self.dir, socket=self.socket,
                                        owner=owner))
        self.proc = None
        inst.params.update({
            "smtpd_sasl_auth_enable": "yes",
            "smtpd_sasl_type": "dovecot",
            "smtpd_sasl_path": "private/auth",
        })

    def start(self):
        """Start after the instance (private/ must exist)."""
        self.proc = _spawn(["dovecot", "-F", "-c", self.conf],
                           stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL)
        wait_until(lambda: self._ready(), 20, what="dovecot auth socket")

    def _ready(self):
        if self.proc.poll() is not None:
            raise AssertionError("dovecot exited: %s" % self.logtext())
        s = socket.socket(socket.AF_UNIX)
        try:
            s.connect(self.socket)
            return True
        except OSError:
            return False
        finally:
            s.close()

    def stop(self):
        """Stop dovecot and every process it started (its auth process
        would otherwise go on serving connections it has)."""
        _reap(self.proc, timeout=10)
        self.proc = None
        wait_until(lambda: not os.path.exists(self.socket) or
                   not self._connectable(), 10, what="dovecot stopped")

    def _connectable(self):
        s = socket.socket(socket.AF_UNIX)
        try:
            s.connect(self.socket)
            return True
        except OSError:
            return False
        finally:
            s.close()

    def logtext(self):
        try:
            with open(os.path.join(self.dir, "dovecot.log"),
                      errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def cleanup(self):
        _reap(self.proc, timeout=10)
        shutil.rmtree(self.dir, ignore_errors=True)
