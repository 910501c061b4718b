"""Keep the documentation honest.

- Every parameter that "postconf -d" lists (every parameter table linked
  into Postern) is documented in doc/configuration.md.
- Every daemon folder and every commands/ folder has its manual page,
  doc/<name>.md.
- doc/README.md links every page in doc/.

No mail system is started: postconf runs in a private configuration
directory with an empty main.cf.
"""
import os
import re
import tempfile

from conftest import BIN, REPO, run

DOC = os.path.join(REPO, "doc")


def read_doc(name):
    with open(os.path.join(DOC, name), encoding="utf-8") as f:
        return f.read()


def postconf_defaults():
    """Parameter names from "postconf -d" with an empty main.cf."""
    postconf = os.path.join(BIN, "postconf")
    assert os.path.exists(postconf), "build first: %s is missing" % postconf
    with tempfile.TemporaryDirectory(prefix="postern-docs-") as etc:
        open(os.path.join(etc, "main.cf"), "w").close()
        env = dict(os.environ, MAIL_CONFIG=etc)
        r = run([postconf, "-c", etc, "-d"], env=env)
    names = []
    for line in r.stdout.splitlines():
        m = re.match(r"^([A-Za-z0-9][A-Za-z0-9_.-]*) =( |$)", line)
        assert m, "unexpected postconf -d line: %r" % line
        names.append(m.group(1))
    return names


def daemon_folders():
    """Top-level folders with a main.c: one daemon each (as the Makefile
    finds them)."""
    skip = {"commands", "lib", "tests", "conf", "doc", "bench", "scripts"}
    out = []
    for name in sorted(os.listdir(REPO)):
        path = os.path.join(REPO, name)
        if name in skip or name.startswith((".", "build")):
            continue
        if os.path.isfile(os.path.join(path, "main.c")):
            out.append(name)
    return out


def command_folders():
    base = os.path.join(REPO, "commands")
    return sorted(n for n in os.listdir(base)
                  if os.path.isfile(os.path.join(base, n, "main.c")))


def test_every_parameter_is_documented():
    names = postconf_defaults()
    # Sanity: the global table and the daemons' tables are all there.
    for expected in ("queue_directory", "syslog_name", "header_size_limit",
                     "queue_run_delay", "service_throttle_time",
                     "relayhost"):
        assert expected in names, "postconf -d lacks %s" % expected
    text = read_doc("configuration.md")
    missing = [n for n in names if "`%s`" % n not in text]
    assert not missing, ("parameters missing from doc/configuration.md: %s"
                         % ", ".join(missing))


def test_every_program_has_a_page():
    daemons = daemon_folders()
    commands = command_folders()
    assert "master" in daemons and "qmgr" in daemons
    assert "sendmail" in commands and "postern" in commands
    missing = [n for n in daemons + commands
               if not os.path.isfile(os.path.join(DOC, n + ".md"))]
    assert not missing, ("programs without doc/<name>.md: %s"
                         % ", ".join(missing))


def test_index_lists_every_page():
    index = read_doc("README.md")
    pages = sorted(n for n in os.listdir(DOC)
                   if n.endswith(".md") and n != "README.md")
    missing = [n for n in pages if "(%s)" % n not in index]
    assert not missing, ("doc/README.md does not link: %s"
                         % ", ".join(missing))
