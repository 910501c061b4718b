"""master: start/stop, lock, reload, crash handling, worker privileges."""
import os
import pwd
import signal
import time

import pytest

from conftest import IS_ROOT, needs_root, not_under_valgrind, run, wait_for


def proc_status(pid):
    with open("/proc/%d/status" % pid) as f:
        fields = dict(l.split(":", 1) for l in f if ":" in l)
    uid = int(fields["Uid"].split()[0])
    gid = int(fields["Gid"].split()[0])
    root = os.readlink("/proc/%d/root" % pid)
    return uid, gid, root


def test_start_status_stop(instance):
    instance.start()
    r = instance.cmd("postern", "status")
    assert "is running" in r.stderr
    # A second master on the same queue is refused.
    r = instance.cmd("postern", "start", check=False)
    assert r.returncode != 0
    assert "already running" in r.stderr
    instance.stop()
    r = instance.cmd("postern", "status", check=False)
    assert r.returncode == 1
    assert "not running" in r.stderr
    assert "terminating on signal 15" in instance.log()


def test_second_master_binary_refused(instance):
    instance.start()
    master = os.path.join(instance.params["daemon_directory"], "master")
    r = run([master, "-c", instance.etc, "-d"], check=False, timeout=10)
    assert r.returncode != 0
    assert "already running" in r.stderr


@needs_root
@not_under_valgrind
def test_worker_privileges(instance, users):
    """Chrooted workers run as mail_owner inside the queue directory."""
    instance.start()
    pw = pwd.getpwnam("postern")
    # pickup and qmgr are resident; trivial-rewrite and cleanup start
    # for the first message.
    users.add("privuser")
    instance.sendmail(["privuser"], "Subject: p\n\nx\n")
    # A bounce starts bounce; postqueue -p starts showq.
    instance.sendmail(["-f", "privuser", "no-such-priv-user"],
                      "Subject: b\n\nx\n")
    instance.wait_log(r"sender non-delivery notification")
    instance.cmd("postqueue", "-p")
    wait_for(lambda: all(instance.processes(n) for n in
                         ("cleanup", "trivial-rewrite", "bounce", "showq")),
             20, what="cleanup, trivial-rewrite, bounce, showq processes")
    queue = os.path.realpath(instance.queue)
    for name in ("pickup", "qmgr", "cleanup", "trivial-rewrite", "bounce",
                 "showq"):
        procs = instance.processes(name)
        assert procs, "no %s process" % name
        for pid, _ in procs:
            uid, gid, root = proc_status(pid)
            assert uid == pw.pw_uid, "%s runs as uid %d" % (name, uid)
            assert gid == pw.pw_gid, "%s runs as gid %d" % (name, gid)
            assert root == queue, "%s root is %s" % (name, root)
    # master itself stays root, unjailed.
    uid, _, root = proc_status(instance.master_pid())
    assert uid == 0 and root == "/"


@needs_root
@not_under_valgrind
def test_local_agent_privileges(instance, users):
    """local runs as root (to become each recipient), not chrooted."""
    instance.start()
    users.add("privuser2")
    instance.sendmail(["privuser2"], "Subject: p\n\nx\n")
    instance.wait_log(r"to=<privuser2@mx\.test\.example>.*status=sent")
    procs = instance.processes("local")
    assert procs
    for pid, _ in procs:
        uid, _, root = proc_status(pid)
        assert uid == 0 and root == "/"


def test_reload_adds_and_removes_services(instance):
    instance.start()
    showq = os.path.join(instance.queue, "public", "showq")
    assert os.path.exists(showq)
    instance.master_cf = "\n".join(
        l for l in instance.master_cf.splitlines()
        if not l.startswith("showq")) + "\n"
    instance.master_cf += ("flush2    unix  n       -       y       "
                           "-       -       showq\n")
    instance.reload()
    wait_for(lambda: not os.path.exists(showq), 10, what="showq removed")
    wait_for(lambda: os.path.exists(os.path.join(instance.queue, "public",
                                                 "flush2")), 10,
             what="new service")
    assert "reload -- version" in instance.log()
    # The system still works after the reload.
    instance.sendmail(["nobody-here"], "Subject: x\n\ny\n")
    instance.wait_log(r"nobody-here@mx\.test\.example")


@not_under_valgrind
def test_reload_keeps_running_delivery(instance, users):
    """A delivery in progress during a reload completes."""
    pw = users.add("slowuser")
    instance.aliases = ("slowalias: |\"/bin/sleep 3; /bin/cat > %s/out\"\n"
                        % pw.pw_dir)
    instance.params["allow_mail_to_commands"] = "alias"
    if IS_ROOT:
        instance.params["default_privs"] = "slowuser"
    instance.start()
    instance.sendmail(["slowalias"], "Subject: slow\n\nbody\n")
    wait_for(lambda: instance.processes("local"), 20, what="local")
    time.sleep(0.5)
    instance.reload()
    instance.wait_log(r"to=<slowalias@mx\.test\.example>.*status=sent",
                      timeout=30)
    with open(os.path.join(pw.pw_dir, "out")) as f:
        assert "body" in f.read()


@not_under_valgrind
def test_crashing_worker_is_restarted(instance, users):
    """A worker killed by a signal is replaced; mail still flows."""
    instance.start()
    users.add("crashuser")
    pids = wait_for(lambda: instance.processes("pickup"), 10,
                    what="pickup")
    os.kill(pids[0][0], signal.SIGKILL)
    instance.wait_log(r"pickup pid %d killed by signal 9" % pids[0][0])
    # master brings the resident pickup back by itself.
    wait_for(lambda: [p for p in instance.processes("pickup")
                      if p[0] != pids[0][0]], 15, what="new pickup")
    instance.sendmail(["crashuser"], "Subject: after crash\n\nx\n")
    instance.wait_log(r"to=<crashuser@mx\.test\.example>.*status=sent")


def test_broken_service_is_throttled(instance):
    """A command that dies at startup is throttled, not respawned in a
    tight loop."""
    instance.master_cf += ("broken    unix  -       -       n       -"
                           "       -       no-such-program\n")
    instance.start()
    path = os.path.join(instance.queue, "private", "broken")
    # Wake it up: connect to the socket.
    import socket
    s = socket.socket(socket.AF_UNIX)
    s.connect(path)
    instance.wait_log(r"no-such-program: bad command startup -- throttling")
    time.sleep(1)
    starts = instance.log().count("no-such-program: bad command startup")
    assert starts == 1
    s.close()


def test_stop_with_mail_in_queue_loses_nothing(instance, users):
    """Stopping while mail flows defers nothing: what was in progress
    waits in the queue and goes out right after the next start."""
    users.add("stopuser")
    instance.start()
    for i in range(100):
        instance.sendmail(["stopuser"], "Subject: m%d\n\nbody\n" % i)
    instance.stop()
    instance.start()
    instance.wait_queue_empty(60)
    wait_for(lambda: instance.log().count("to=<stopuser@mx.test.example>,"
                                          " orig_to=<stopuser>, relay=local")
             >= 100, 30, what="100 deliveries")
    assert "mail transport unavailable" not in instance.log()


def test_reload_with_broken_master_cf_keeps_running(instance):
    instance.start()
    pid = instance.master_pid()
    instance.master_cf += "this line is not a service\n"
    instance.write_config()
    r = instance.cmd("postern", "reload", check=False)
    assert r.returncode != 0          # postern reload checks first
    # Even a direct SIGHUP does not take master down.
    os.kill(pid, signal.SIGHUP)
    instance.wait_log(r"reload: bad configuration .* keeping the running "
                      r"configuration")
    assert instance.cmd("postern", "status").returncode == 0
    assert instance.master_pid() == pid


@needs_root
@not_under_valgrind
def test_killed_qmgr_is_back_without_throttling(instance, users):
    """A resident daemon that crashes after start-up is restarted at once,
    not throttled like a command that cannot start."""
    instance.params["service_throttle_time"] = "300s"
    users.add("qmgrback")
    instance.start()
    old = wait_for(lambda: instance.processes("qmgr"), 10, what="qmgr")
    os.kill(old[0][0], signal.SIGKILL)
    wait_for(lambda: [p for p in instance.processes("qmgr")
                      if p[0] != old[0][0]], 15, what="a new qmgr")
    assert "throttling" not in instance.log()
    instance.sendmail(["qmgrback"], "Subject: back\n\nx\n")
    instance.wait_log(r"to=<qmgrback@mx\.test\.example>.*status=sent")
