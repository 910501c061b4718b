"""A throw-away test CA for the TLS tests, made with the openssl command.

    ca = tls_ca            (module-scoped pytest fixture)
    ca.dir                 the temporary directory (removed afterwards)
    ca.cafile              the root certificate
    ca.pair(name)          (cert_path, key_path) of a server certificate
    ca.chain(name)         path of "key, certificate, CA" in one PEM file
                           (smtpd_tls_chain_files, postmap -F)
    ca.client_context(cert=None)
                           an ssl.SSLContext trusting the CA, presenting
                           certificate cert as a client certificate
    ca.fingerprints(name)  (certificate, public key) SHA-256 fingerprints,
                           "AB:CD:..." (relay_clientcerts keys)

Server certificates (all signed by the root CA unless said otherwise):
    rsa        RSA 2048, mx.test.example + localhost + 127.0.0.1
    ecdsa      ECDSA P-256, the same names
    expired    RSA, the same names, valid 2020-01-01 .. 2021-01-01
    wrongname  RSA, only wrong.test.example
    one, two   RSA, one.sni.test / two.sni.test (for SNI)
    client     RSA, a client certificate (CN client.test.example)
    selfsigned RSA, mx.test.example, signed by itself (no CA)

Everything lives in a temporary directory that is deleted at teardown.
"""
import hashlib
import os
import shutil
import ssl
import subprocess
import tempfile

import pytest

NAMES = "DNS:mx.test.example,DNS:localhost,IP:127.0.0.1"

_CA_CONF = """\
[ca]
default_ca = test_ca
[test_ca]
dir = {dir}
database = {dir}/index.txt
new_certs_dir = {dir}/newcerts
serial = {dir}/serial
default_md = sha256
policy = any
copy_extensions = none
unique_subject = no
[any]
commonName = supplied
[server_ext]
basicConstraints = CA:FALSE
keyUsage = digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth, clientAuth
subjectAltName = $ENV::SAN
crlDistributionPoints = URI:http://127.0.0.1:9/test-ca.crl
[req]
distinguished_name = dn
[dn]
"""


def _run(args, cwd=None, env=None):
    r = subprocess.run(args, cwd=cwd, env=env, capture_output=True,
                       text=True, timeout=60)
    if r.returncode != 0:
        raise AssertionError("%s failed:\n%s%s" % (args, r.stdout, r.stderr))
    return r


class TestCA:
    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="postern-tls-")
        os.chmod(self.dir, 0o755)
        os.makedirs(os.path.join(self.dir, "newcerts"))
        with open(os.path.join(self.dir, "index.txt"), "w"):
            pass
        with open(os.path.join(self.dir, "serial"), "w") as f:
            f.write("1000\n")
        self.conf = os.path.join(self.dir, "ca.cnf")
        with open(self.conf, "w") as f:
            f.write(_CA_CONF.format(dir=self.dir))
        self.cafile = self.p("ca.crt")
        self.cakey = self.p("ca.key")
        _run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes",
              "-keyout", self.cakey, "-out", self.cafile, "-days", "400",
              "-subj", "/CN=Postern Test Root CA"])
        self.make("rsa", "mx.test.example", NAMES)
        self.make("ecdsa", "mx.test.example", NAMES, ec=True)
        self.make("expired", "mx.test.example", NAMES,
                  start="20200101000000Z", end="20210101000000Z")
        self.make("wrongname", "wrong.test.example",
                  "DNS:wrong.test.example")
        self.make("one", "one.sni.test", "DNS:one.sni.test")
        self.make("two", "two.sni.test", "DNS:two.sni.test")
        self.make("client", "client.test.example",
                  "DNS:client.test.example")
        key, crt = self.p("selfsigned.key"), self.p("selfsigned.crt")
        _run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes",
              "-keyout", key, "-out", crt, "-days", "30",
              "-subj", "/CN=mx.test.example",
              "-addext", "subjectAltName=" + NAMES])
        self._chain("selfsigned", with_ca=False)
        for n in os.listdir(self.dir):
            os.chmod(self.p(n), 0o644 if not n.endswith(".key") else 0o600)

    def p(self, name):
        return os.path.join(self.dir, name)

    def make(self, name, cn, san, ec=False, start=None, end=None):
        key, csr, crt = (self.p(name + ".key"), self.p(name + ".csr"),
                         self.p(name + ".crt"))
        if ec:
            _run(["openssl", "genpkey", "-algorithm", "EC", "-pkeyopt",
                  "ec_paramgen_curve:P-256", "-out", key])
        else:
            _run(["openssl", "genpkey", "-algorithm", "RSA", "-pkeyopt",
                  "rsa_keygen_bits:2048", "-out", key])
        _run(["openssl", "req", "-new", "-key", key, "-out", csr,
              "-subj", "/CN=" + cn])
        args = ["openssl", "ca", "-batch", "-config", self.conf,
                "-cert", self.cafile, "-keyfile", self.cakey,
                "-extensions", "server_ext", "-notext",
                "-in", csr, "-out", crt]
        if start:
            args += ["-startdate", start, "-enddate", end]
        else:
            args += ["-days", "200"]
        _run(args, env=dict(os.environ, SAN=san))
        self._chain(name)

    def _chain(self, name, with_ca=True):
        with open(self.p(name + ".pem"), "w") as out:
            for part in [name + ".key", name + ".crt"] + (
                    ["ca.crt"] if with_ca else []):
                with open(self.p(part)) as f:
                    out.write(f.read())

    def pair(self, name):
        return self.p(name + ".crt"), self.p(name + ".key")

    def chain(self, name):
        return self.p(name + ".pem")

    def client_context(self, cert=None):
        """An ssl context that trusts this CA; with cert, it presents that
        certificate (a name given to make()) as a client certificate."""
        ctx = ssl.create_default_context(cafile=self.cafile)
        if cert:
            ctx.load_cert_chain(*self.pair(cert))
        return ctx

    def fingerprints(self, name, digest="sha256"):
        """(certificate, public key) fingerprints as Postfix writes them:
        upper-case hex pairs joined by colons.  The first comes from
        "openssl x509 -fingerprint", the way postmasters make them."""
        crt = self.pair(name)[0]
        out = _run(["openssl", "x509", "-in", crt, "-noout",
                    "-fingerprint", "-" + digest]).stdout.strip()
        cert_fpt = out.split("=", 1)[1]
        pem = _run(["openssl", "x509", "-in", crt, "-noout",
                    "-pubkey"]).stdout
        der = subprocess.run(["openssl", "pkey", "-pubin", "-outform",
                              "DER"], input=pem.encode(),
                             capture_output=True, check=True,
                             timeout=60).stdout
        md = hashlib.new(digest, der).hexdigest().upper()
        return cert_fpt, ":".join(md[i:i + 2] for i in range(0, len(md), 2))

    def cleanup(self):
        shutil.rmtree(self.dir, ignore_errors=True)


@pytest.fixture(scope="module")
def tls_ca():
    ca = TestCA()
    yield ca
    ca.cleanup()
