"""postqueue, postsuper, postcat and mailq on real queue contents."""
import json
import os
import re
import time

from conftest import IS_ROOT, needs_root, run, wait_for


def queue_ids(inst, queue):
    return inst.queue_files(queue)


def stuck_instance(inst):
    """Mail for a remote domain stays deferred (no SMTP transport)."""
    inst.params["minimal_backoff_time"] = "3600s"
    inst.params["maximal_backoff_time"] = "3600s"
    inst.start()


def test_postqueue_lists_deferred_mail(instance):
    stuck_instance(instance)
    instance.sendmail(["-f", "me@test.example", "you@remote.invalid"],
                      "Subject: q\n\nbody\n")
    wait_for(lambda: queue_ids(instance, "deferred"), 30,
             what="deferred mail")
    qid = queue_ids(instance, "deferred")[0]
    r = instance.cmd("postqueue", "-p")
    assert re.match(r"-+Queue ID-+ --Size--", r.stdout)
    assert qid in r.stdout
    assert "me@test.example" in r.stdout
    assert "you@remote.invalid" in r.stdout
    assert "mail transport unavailable" in r.stdout
    assert re.search(r"-- \d+ Kbytes in 1 Request\.", r.stdout)
    r = instance.cmd("postqueue", "-j")
    objs = [json.loads(l) for l in r.stdout.splitlines()]
    assert len(objs) == 1
    o = objs[0]
    assert o["queue_id"] == qid and o["queue_name"] == "deferred"
    assert o["sender"] == "me@test.example"
    assert o["recipients"][0]["address"] == "you@remote.invalid"
    assert "unavailable" in o["recipients"][0]["delay_reason"]
    assert o["message_size"] > 0 and o["arrival_time"] > 0


def test_postcat(instance):
    stuck_instance(instance)
    instance.sendmail(["-f", "cat@test.example", "dog@remote.invalid"],
                      "Subject: meow\n\npurr\n")
    qid = wait_for(lambda: queue_ids(instance, "deferred"), 30)[0]
    r = instance.cmd("postcat", "-q", qid)
    assert "*** ENVELOPE RECORDS" in r.stdout
    assert "sender: cat@test.example" in r.stdout
    assert "recipient: dog@remote.invalid" in r.stdout
    assert "Subject: meow" in r.stdout
    assert "purr" in r.stdout
    r = instance.cmd("postcat", "-h", "-q", qid)
    assert "Subject: meow" in r.stdout and "purr" not in r.stdout
    r = instance.cmd("postcat", "-q", "BADID", check=False)
    assert r.returncode != 0


def test_postsuper_hold_release_delete(instance):
    stuck_instance(instance)
    for i in range(3):
        instance.sendmail(["x%d@remote.invalid" % i], "Subject: %d\n\n" % i)
    wait_for(lambda: len(queue_ids(instance, "deferred")) == 3, 30)
    ids = queue_ids(instance, "deferred")
    r = instance.cmd("postsuper", "-h", ids[0])
    assert "Placed on hold: 1 message" in r.stderr
    assert queue_ids(instance, "hold") == [ids[0]]
    r = instance.cmd("postqueue", "-p")
    assert ids[0] + "!" in r.stdout
    r = instance.cmd("postsuper", "-H", ids[0])
    assert "Released from hold: 1 message" in r.stderr
    assert ids[0] in queue_ids(instance, "deferred")
    r = instance.cmd("postsuper", "-d", ids[1])
    assert "Deleted: 1 message" in r.stderr
    assert ids[1] not in queue_ids(instance, "deferred")
    r = instance.cmd("postsuper", "-d", "ALL")
    assert "Deleted: 2 messages" in r.stderr
    assert instance.queue_empty()
    assert not instance.queue_files("defer")


def test_postsuper_requeue_and_flush(instance, users):
    users.add("requser")
    stuck_instance(instance)
    instance.sendmail(["requser@nowhere.invalid"], "Subject: rq\n\nx\n")
    qid = wait_for(lambda: queue_ids(instance, "deferred"), 30)[0]
    # Make the domain local and requeue: it is re-resolved and delivered.
    instance.params["mydestination"] += ", nowhere.invalid"
    instance.reload()
    time.sleep(1)
    r = instance.cmd("postsuper", "-r", qid)
    assert "Requeued: 1 message" in r.stderr
    instance.cmd("postqueue", "-f")
    wait_for(lambda: instance.mbox("requser"), 30, what="requeued mail")
    instance.wait_queue_empty()
    # Requeued mail keeps its queue ID.
    assert re.search(r"%s: to=<requser@nowhere\.invalid>.*status=sent" % qid,
                     instance.log())


def test_postqueue_flush_retries_now(instance, users):
    users.add("flushuser")
    instance.params["minimal_backoff_time"] = "3600s"
    instance.params["maximal_backoff_time"] = "3600s"
    instance.aliases = "postmaster: root\nflaky: \"|exit 75\"\n"
    if IS_ROOT:
        instance.params["default_privs"] = "flushuser"
    instance.start()
    instance.sendmail(["flaky"], "Subject: f\n\nx\n")
    instance.wait_log(r"to=<flaky@mx\.test\.example>.*status=deferred")
    wait_for(lambda: queue_ids(instance, "deferred"), 30,
             what="the message in deferred/")
    n = instance.log().count("to=<flaky@mx.test.example>")
    instance.cmd("postqueue", "-f")
    wait_for(lambda: instance.log().count("to=<flaky@mx.test.example>") > n,
             30, what="retry after postqueue -f")


def test_mailq_empty(instance):
    instance.start()
    r = instance.cmd("postqueue", "-p")
    assert "Mail queue is empty" in r.stdout


def test_postconf(instance):
    instance.params["myorigin"] = "$mydomain"
    instance.start()
    r = instance.cmd("postconf", "-n")
    assert "myorigin = $mydomain" in r.stdout
    r = instance.cmd("postconf", "-d", "message_size_limit")
    assert r.stdout.strip() == "message_size_limit = 10240000"
    r = instance.cmd("postconf", "-h", "-x", "myorigin")
    assert r.stdout.strip() == "test.example"
    instance.cmd("postconf", "-e", "delay_warning_time=4h")
    r = instance.cmd("postconf", "-h", "delay_warning_time")
    assert r.stdout.strip() == "4h"
    r = instance.cmd("postconf", "-M")
    assert re.search(r"^qmgr\s+unix\s+n\s+-\s+y\s+300\s+1\s+qmgr",
                     r.stdout, re.M)
    r = instance.cmd("postconf", "no_such_parameter_xyz", check=False)
    assert "unknown parameter" in r.stderr


def test_defer_transports_hold_until_flush(instance, users):
    users.add("dtuser2")
    instance.params["defer_transports"] = "local"
    instance.params["minimal_backoff_time"] = "3600s"
    instance.params["maximal_backoff_time"] = "3600s"
    instance.start()
    instance.sendmail(["dtuser2"], "Subject: held\n\nx\n")
    instance.wait_log(r"to=<dtuser2@mx\.test\.example>.*status=deferred "
                      r"\(deferred transport\)")
    wait_for(lambda: queue_ids(instance, "deferred"), 30)
    assert not instance.mbox("dtuser2")
    instance.cmd("postqueue", "-f")
    wait_for(lambda: instance.mbox("dtuser2"), 30, what="flushed mail")


def test_finished_queue_files_are_reused(instance, users):
    """A finished message's file goes to spare/ and the next message is
    written over it in place: the same inode under a new queue ID, with
    nothing of the old message left in it."""
    users.add("spareuser")
    instance.start()
    spare = os.path.join(instance.queue, "spare")
    assert os.stat(spare).st_mode & 0o777 == 0o700
    instance.sendmail(["spareuser"], "Subject: first\n\n%s\n" % ("x" * 3000))
    first = instance.wait_log(r"(\w+): removed")[0]
    wait_for(lambda: os.listdir(spare) == [first], 30, what="a spare")
    ino = os.stat(os.path.join(spare, first)).st_ino
    instance.sendmail(["spareuser"], "Subject: second\n\nshort\n")
    ids = instance.wait_log(r"(\w+): removed", count=2)
    second = [i for i in ids if i != first][0]
    wait_for(lambda: os.listdir(spare) == [second], 30, what="the spare")
    assert os.stat(os.path.join(spare, second)).st_ino == ino
    msgs = wait_for(lambda: (lambda t: t if t.count("\nSubject: ") == 2
                             else None)(instance.mbox("spareuser")), 30)
    tail = msgs[msgs.index("Subject: second"):]
    assert "short" in tail and "xxx" not in tail
    assert re.search(r"%s: message-id=" % second, instance.log())


def test_spares_off_removes_them(instance, users):
    """spare_queue_file_limit = 0: finished files are unlinked, and the
    spares left from before are removed by qmgr."""
    users.add("nospare")
    instance.params.update({"spare_queue_file_limit": "0",
                            "queue_run_delay": "1s"})
    instance.start()
    left = os.path.join(instance.queue, "spare", "5BMgmF59T8z1bZ4d")
    with open(left, "w") as f:
        f.write("an old message\n")
    instance.sendmail(["nospare"], "Subject: n\n\nbody\n")
    instance.wait_log(r"(\w+): removed")
    wait_for(lambda: not os.path.exists(left), 30, what="spare removed")
    assert os.listdir(os.path.join(instance.queue, "spare")) == []
