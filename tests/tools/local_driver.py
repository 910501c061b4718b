#!/usr/bin/python3
"""Drive the local(8) delivery agent without master, qmgr or cleanup.

A LocalInstance is a private configuration directory and queue under a
temporary directory.  queue_message() writes a queue file in Postern's
record format (doc/queue-format.md) into the active queue; deliver() runs
"local -S" (one request on stdin/stdout), sends a delivery request frame
in the attribute protocol (doc/ipc.md), and returns the per-recipient
results and the log lines the agent wrote.

Command line (for a quick look by hand):

    local_driver.py BUILD_DIR [--alias 'name: value']... \\
        [--param name=value]... [--sender ADDR] RCPT... < message

prints the results and the log, and leaves the directory in place.
"""
import argparse
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import time

REC_SIZE_FMT = "%15d %15d %15d %15d %15d"
DEL_FLAG_RETRY = 1
STATUS = {0: "sent", 1: "deferred", 2: "bounced"}


def rec(rtype, payload=b""):
    """One queue file record: type byte, base-128 length, payload."""
    if isinstance(payload, str):
        payload = payload.encode()
    n = len(payload)
    hdr = bytearray(rtype.encode())
    while True:
        c = n & 0x7F
        n >>= 7
        if n:
            c |= 0x80
        hdr.append(c)
        if not n:
            break
    return bytes(hdr) + payload


def ipc_str(name, value):
    if isinstance(value, str):
        value = value.encode()
    return (b"s" + bytes([len(name)]) + name.encode() +
            struct.pack(">I", len(value)) + value)


def ipc_int(name, value):
    return (b"i" + bytes([len(name)]) + name.encode() +
            struct.pack(">q", value))


def ipc_frame(body):
    return struct.pack(">I", len(body)) + body


def ipc_parse(data):
    """Split a byte string into frames; each frame a list of (name, val)."""
    frames = []
    off = 0
    while off + 4 <= len(data):
        (n,) = struct.unpack(">I", data[off:off + 4])
        body = data[off + 4:off + 4 + n]
        off += 4 + n
        attrs = []
        p = 0
        while p < len(body):
            t = body[p:p + 1]
            nl = body[p + 1]
            name = body[p + 2:p + 2 + nl].decode()
            p += 2 + nl
            if t == b"s":
                (sl,) = struct.unpack(">I", body[p:p + 4])
                attrs.append((name, body[p + 4:p + 4 + sl].decode(
                    errors="replace")))
                p += 4 + sl
            else:
                (v,) = struct.unpack(">q", body[p:p + 8])
                attrs.append((name, v))
                p += 8
        frames.append(attrs)
    return frames


class Result:
    def __init__(self, status, dsn, reason, relay):
        self.status = STATUS.get(status, str(status))
        self.dsn = dsn
        self.reason = reason
        self.relay = relay

    def __repr__(self):
        return "%s %s (%s)" % (self.status, self.dsn, self.reason)


class LocalInstance:
    """A private configuration and queue for local(8)."""

    def __init__(self, build, params=None, aliases=None, root=None):
        self.build = os.path.abspath(build)
        self.agent = os.path.join(self.build, "libexec", "local")
        self.dir = root or tempfile.mkdtemp(prefix="postern-local-")
        os.chmod(self.dir, 0o755)
        self.config = os.path.join(self.dir, "etc")
        self.queue = os.path.join(self.dir, "queue")
        self.spool = os.path.join(self.dir, "spool")
        self.aliases = os.path.join(self.config, "aliases")
        for d in (self.config, os.path.join(self.queue, "active"),
                  self.spool):
            os.makedirs(d, exist_ok=True)
        os.chmod(self.spool, 0o755)
        self.params = {
            "queue_directory": self.queue,
            "mail_spool_directory": self.spool,
            "alias_maps": "hash:" + self.aliases,
            "myhostname": "host.example",
            "mydomain": "example",
            "mydestination": "$myhostname, localhost",
            "maillog_file": "",
            "mailbox_delivery_lock": "fcntl, dotlock",
        }
        self.params.update(params or {})
        self.write_main_cf()
        self.write_aliases(aliases or {})
        self.seq = 0

    def write_main_cf(self):
        with open(os.path.join(self.config, "main.cf"), "w") as f:
            for k, v in self.params.items():
                f.write("%s = %s\n" % (k, v))

    def set(self, **params):
        self.params.update(params)
        self.write_main_cf()

    def write_aliases(self, aliases):
        """Write the aliases(5) file and build it with postalias(1)."""
        with open(self.aliases, "w") as f:
            if isinstance(aliases, str):
                f.write(aliases)
            else:
                for k, v in aliases.items():
                    f.write("%s: %s\n" % (k, v))
        os.chmod(self.aliases, 0o644)
        postalias = os.path.join(self.build, "bin", "postalias")
        env = dict(os.environ, MAIL_CONFIG=self.config)
        subprocess.run([postalias, self.aliases], env=env, check=True,
                       capture_output=True)
        os.chmod(self.aliases + ".db", 0o644)

    def cleanup(self):
        shutil.rmtree(self.dir, ignore_errors=True)

    def new_qid(self):
        self.seq += 1
        return "%05X%06X" % (int(time.time()) & 0xFFFFF,
                             (os.getpid() << 8 | self.seq) & 0xFFFFFF)

    def queue_message(self, sender, rcpts, content, qid=None, arrival=None):
        """Write a queue file; returns (qid, data_offset, rcpt_offsets).

        rcpts: list of addresses or (address, original) pairs.
        content: bytes or str, lines separated by \\n.
        """
        qid = qid or self.new_qid()
        arrival = arrival or time.time()
        if isinstance(content, str):
            content = content.encode()
        lines = content.split(b"\n")
        if lines and lines[-1] == b"":
            lines.pop()
        head = rec("V", "POSTERN 1")
        size_at = len(head)
        head += rec("C", REC_SIZE_FMT % (0, 0, 0, 0, 0))
        head += rec("T", "%d %d" % (int(arrival),
                                    int((arrival % 1) * 1e6)))
        head += rec("S", sender)
        offsets = []
        for r in rcpts:
            addr, orig = (r, "") if isinstance(r, str) else r
            if orig:
                head += rec("O", orig)
            offsets.append(len(head))
            head += rec("R", addr)
        data_offset = len(head)
        body = rec("M")
        for ln in lines:
            body += rec("L", ln)
        xtra_offset = data_offset + len(body)
        tail = rec("X") + rec("E")
        size = sum(len(ln) + 1 for ln in lines)
        cpay = REC_SIZE_FMT % (size, data_offset, len(rcpts), xtra_offset,
                               0)
        head = head[:size_at] + rec("C", cpay) + head[size_at + 2 + 79:]
        path = os.path.join(self.queue, "active", qid)
        with open(path, "wb") as f:
            f.write(head + body + tail)
        os.chmod(path, 0o700)
        self.arrival_us = int(arrival * 1e6)
        return qid, data_offset, offsets

    def request(self, qid, data_offset, rcpts, offsets, sender,
                flags=0, nexthop="host.example", arrival_us=None):
        body = ipc_str("queue_name", "active")
        body += ipc_str("queue_id", qid)
        body += ipc_int("data_offset", data_offset)
        body += ipc_int("data_size", 0)
        body += ipc_str("nexthop", nexthop)
        body += ipc_str("sender", sender)
        body += ipc_str("envid", "")
        body += ipc_int("ret", 0)
        body += ipc_int("flags", flags)
        now = int(time.time() * 1e6)
        body += ipc_int("arrival", arrival_us or self.arrival_us)
        body += ipc_int("active", now)
        body += ipc_int("dispatch", now)
        for r, off in zip(rcpts, offsets):
            addr, orig = (r, "") if isinstance(r, str) else r
            body += ipc_str("rcpt", addr)
            body += ipc_str("orcpt", orig)
            body += ipc_str("notify", "0")
            body += ipc_str("offset", str(off))
        return ipc_frame(body)

    def deliver(self, sender, rcpts, content, flags=0, qid=None,
                timeout=60, overrides=None, queued=None):
        """Queue a message, deliver it; returns (results, log lines)."""
        if queued is None:
            queued = self.queue_message(sender, rcpts, content, qid=qid)
        qid, data_offset, offsets = queued
        req = self.request(qid, data_offset, rcpts, offsets, sender, flags)
        env = dict(os.environ, MAIL_CONFIG=self.config)
        # POSTERN_LOCAL_WRAPPER="valgrind -q --error-exitcode=9" runs the
        # agent under a checker; a non-zero exit then fails the delivery.
        wrapper = os.environ.get("POSTERN_LOCAL_WRAPPER", "").split()
        cmd = wrapper + [self.agent, "-S", "-n", "local"]
        for o in overrides or []:
            cmd += ["-o", o]
        p = subprocess.run(cmd, input=req, capture_output=True, env=env,
                           timeout=timeout, cwd="/")
        self.last_stderr = p.stderr.decode(errors="replace")
        self.last_rc = p.returncode
        frames = ipc_parse(p.stdout)
        log = self.last_stderr.splitlines()
        if wrapper and p.returncode != 0:
            raise AssertionError("local exit %d under %s:\n%s"
                                 % (p.returncode, wrapper[0],
                                    self.last_stderr))
        if len(frames) < 2:
            raise AssertionError("no reply from local (exit %d):\n%s"
                                 % (p.returncode, self.last_stderr))
        hello = dict(frames[0])
        assert hello.get("protocol") == "delivery", hello
        lists = {}
        for name, val in frames[1]:
            lists.setdefault(name, []).append(val)
        results = [Result(int(s), d, r, rl) for s, d, r, rl in zip(
            lists.get("status", []), lists.get("dsn", []),
            lists.get("reason", []), lists.get("relay", []))]
        return results, log


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("build")
    ap.add_argument("--alias", action="append", default=[])
    ap.add_argument("--param", action="append", default=[])
    ap.add_argument("--sender", default="sender@remote.example")
    ap.add_argument("--retry", action="store_true")
    ap.add_argument("rcpt", nargs="+")
    a = ap.parse_args()
    params = dict(p.split("=", 1) for p in a.param)
    inst = LocalInstance(a.build, params=params,
                         aliases="".join(x + "\n" for x in a.alias))
    content = sys.stdin.buffer.read()
    results, log = inst.deliver(a.sender, a.rcpt, content,
                                flags=DEL_FLAG_RETRY if a.retry else 0)
    for r, res in zip(a.rcpt, results):
        print("%s: %r" % (r, res))
    print("\n".join(log))
    print("instance left in", inst.dir)


if __name__ == "__main__":
    main()
