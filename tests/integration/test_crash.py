"""Crash test: nothing acknowledged is lost, nothing is delivered twice.

2,000 messages are injected with sendmail (as root and as a normal user
through set-gid postdrop) while pickup, cleanup, qmgr and local are
killed with SIGKILL at random moments, and master once.  Afterwards the
mail system is (re)started and the queue drains.  Every message sendmail
accepted must be in the mailbox exactly once.
"""
import email
import os
import random
import re
import signal
import threading
import time
from concurrent.futures import ThreadPoolExecutor

from conftest import IS_ROOT, not_under_valgrind, wait_for

MESSAGES = int(os.environ.get("POSTERN_CRASH_MESSAGES", "2000"))
VICTIMS = ("pickup", "cleanup", "qmgr", "local")


def seqs_in_maildir(path):
    seen = {}
    for sub in ("new", "cur"):
        d = os.path.join(path, sub)
        if not os.path.isdir(d):
            continue
        for name in os.listdir(d):
            with open(os.path.join(d, name), "rb") as f:
                head = f.read(4096)
            m = re.search(rb"^X-Seq: (\d+)$", head, re.M)
            if m:
                n = int(m.group(1))
                seen[n] = seen.get(n, 0) + 1
    return seen


@not_under_valgrind
def test_kill_everything_lose_nothing(instance, users):
    inst = instance
    inst.params.update({
        "mail_spool_directory": inst.spool + "/",
        "minimal_backoff_time": "1s",
        "maximal_backoff_time": "2s",
        "queue_run_delay": "1s",
        "service_throttle_time": "1s",
        "master_crash_limit": "100000",
        "ipc_timeout": "30s",
    })
    inst.master_cf = inst.master_cf.replace(
        "qmgr      unix  n       -       y       300",
        "qmgr      unix  n       -       y       2").replace(
        "pickup    unix  n       -       y       60",
        "pickup    unix  n       -       y       2")
    users.add("crashbox")
    if IS_ROOT:
        users.add("crashsender")
    inst.start()

    accepted, failed = set(), []
    kills = {v: 0 for v in VICTIMS + ("master",)}
    done = threading.Event()
    lock = threading.Lock()

    def inject(n):
        msg = ("Subject: crash %d\nX-Seq: %d\n\n%s\n"
               % (n, n, ("line %d " % n) * 40))
        user = "crashsender" if IS_ROOT and n % 4 == 0 else None
        r = inst.sendmail(["crashbox"], msg, check=False, user=user)
        with lock:
            if r.returncode == 0:
                accepted.add(n)
            else:
                failed.append((n, r.returncode, r.stderr[-200:]))

    def killer():
        rnd = random.Random(4242)
        master_killed = False
        while not done.is_set():
            time.sleep(rnd.uniform(0.05, 0.3))
            if not master_killed and len(accepted) > MESSAGES // 2:
                pid = inst.master_pid()
                if pid:
                    os.kill(pid, signal.SIGKILL)
                    kills["master"] += 1
                    master_killed = True
                    time.sleep(0.3)
                    inst.cmd("postern", "start")
                    inst.sids.add(inst.master_pid())
                continue
            victim = rnd.choice(VICTIMS)
            procs = inst.processes(victim)
            if procs:
                os.kill(rnd.choice(procs)[0], signal.SIGKILL)
                kills[victim] += 1

    kt = threading.Thread(target=killer)
    kt.start()
    try:
        with ThreadPoolExecutor(8) as ex:
            list(ex.map(inject, range(MESSAGES)))
    finally:
        done.set()
        kt.join()

    # Let the queue drain (master is running again by now).
    if inst.master_pid() is None or \
            inst.cmd("postern", "status", check=False).returncode != 0:
        inst.cmd("postern", "start")
    inst.cmd("postern", "flush", check=False)
    wait_for(inst.queue_empty, 300, interval=0.5, what="queue to drain")
    box = os.path.join(inst.spool, "crashbox")
    seen = wait_for(lambda: (lambda s: s if set(accepted) <= set(s)
                             else None)(seqs_in_maildir(box)), 30,
                    what="all accepted messages in the mailbox")
    dups = {n: c for n, c in seen.items() if c > 1}
    lost = sorted(set(accepted) - set(seen))
    print("\ncrash test: injected %d, accepted %d, refused %d, delivered "
          "%d, lost %d, duplicates %d; kills: %s"
          % (MESSAGES, len(accepted), len(failed), len(seen), len(lost),
             len(dups), ", ".join("%s %d" % kv for kv in kills.items())))
    assert not lost, "lost messages: %s" % lost[:20]
    assert not dups, "duplicated messages: %s" % list(dups.items())[:20]
    assert sum(kills.values()) > 10
    assert len(accepted) >= MESSAGES * 0.95, failed[:5]
