#!/usr/bin/python3
"""Scan a private Postern instance with testssl.sh (Debian's testssl).

  make testssl                  (or: bench/testssl.py [--keep])

Starts an instance on loopback with the TLS defaults of main.cf, a
2048-bit RSA certificate from a throw-away CA (tests/integration/
tls_fixture.py), and the three services of the shipped conf/master.cf:
smtp (STARTTLS, level may), submission (STARTTLS, level encrypt) and
smtps (implicit TLS), each bound to a free port on 127.0.0.1.  testssl
runs against each one (with --add-ca, so that the test CA counts as
trusted and only the server's own choices are judged) and writes JSON;
this script prints every finding of severity LOW or above (and testssl's
own WARN lines) and a count per severity, and exits 1 when any finding is HIGH or CRITICAL.
Results are written up in bench/TESTSSL.md.

Needs root (privilege-separated instance).  Nothing leaves loopback.
"""
import argparse
import collections
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import run as bench  # noqa: E402  (bench/run.py: Postern, helpers)
from fixtures import free_port  # noqa: E402
from tls_fixture import TestCA  # noqa: E402

ORDER = ["OK", "INFO", "LOW", "MEDIUM", "HIGH", "CRITICAL", "WARN",
         "DEBUG"]


def shipped_service(name, port):
    """A commented-out service of conf/master.cf, uncommented, on port."""
    with open(os.path.join(bench.REPO, "conf", "master.cf")) as f:
        lines = f.read().splitlines()
    for i, line in enumerate(lines):
        if re.match(r"#?%s\s+inet\s" % re.escape(name), line):
            fields = line.lstrip("#").split()
            fields[0] = "127.0.0.1:%d" % port
            out = [" ".join(fields)]
            for cont in lines[i + 1:]:
                if not cont.startswith("#  -o"):
                    break
                out.append(cont[1:])
            return "\n".join(out) + "\n"
    sys.exit("testssl: no %s service in conf/master.cf" % name)


def scan(label, port, starttls, cafile, outdir):
    js = os.path.join(outdir, label + ".json")
    # --nodns none: the scan asks no resolver anything (no PTR for the
    # address, no CAA record); everything stays on loopback.
    cmd = ["testssl", "--quiet", "--color", "0", "--warnings", "off",
           "--nodns", "none", "--add-ca", cafile, "--jsonfile", js]
    if starttls:
        cmd += ["--starttls", "smtp"]
    cmd.append("127.0.0.1:%d" % port)
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=1800)
    if not os.path.exists(js):
        sys.exit("testssl failed on %s:\n%s%s" % (label, r.stdout[-3000:],
                                                  r.stderr[-2000:]))
    with open(js) as f:
        return json.load(f)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--keep", action="store_true",
                    help="keep the instance directory and JSON files")
    a = ap.parse_args()
    if os.geteuid() != 0:
        sys.exit("testssl: needs root")
    if shutil.which("testssl") is None:
        sys.exit("testssl: the testssl command is missing (package "
                 "testssl.sh, scripts/install-deps.sh)")
    base = tempfile.mkdtemp(prefix="testssl-")
    os.chmod(base, 0o755)
    ca = TestCA()
    bench.setgid_postern_tools()
    ports = {"smtp": free_port("127.0.0.1"),
             "submission": free_port("127.0.0.1"),
             "smtps": free_port("127.0.0.1")}
    root = os.path.join(base, "postern")
    os.makedirs(root)
    os.chmod(root, 0o755)
    mta = bench.Postern(root)
    cert, key = ca.pair("rsa")
    failed = False
    try:
        mta.setup(main_extra="smtpd_tls_security_level = may\n"
                  "smtpd_tls_cert_file = %s\nsmtpd_tls_key_file = %s\n"
                  "smtpd_peername_lookup = no\n" % (cert, key),
                  master_extra="".join(shipped_service(n, p)
                                       for n, p in ports.items()))
        for p in ports.values():
            bench.wait_port("127.0.0.1", p, 30)
        for label, starttls in (("smtp", True), ("submission", True),
                                ("smtps", False)):
            findings = scan(label, ports[label], starttls, ca.cafile, base)
            count = collections.Counter(f.get("severity", "?")
                                        for f in findings)
            print("\n== %s (%s): %s" % (
                label, "STARTTLS" if starttls else "implicit TLS",
                ", ".join("%s %d" % (s, count[s]) for s in ORDER
                          if count.get(s))))
            for f in findings:
                sev = f.get("severity", "?")
                if sev in ("LOW", "MEDIUM", "HIGH", "CRITICAL", "WARN"):
                    print("  %-8s %-28s %s" % (sev, f.get("id", "?"),
                                               f.get("finding", "")))
                if sev in ("HIGH", "CRITICAL"):
                    failed = True
    finally:
        mta.stop()
        ca.cleanup()
        if a.keep:
            print("kept", base)
        else:
            shutil.rmtree(base, ignore_errors=True)
    print("\ntestssl: %s" % ("HIGH or CRITICAL findings" if failed else
                             "nothing HIGH or CRITICAL"))
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
