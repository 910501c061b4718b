"""Address rewriting in cleanup: virtual_alias_maps (recursion, limits,
extensions, catch-all), canonical maps for envelope and headers,
masquerade_domains, and a table that cannot answer (temporary failure,
nothing accepted)."""
import os
import smtplib

import pytest

from conftest import wait_for
from test_local import maildir_files, parse_mbox
from test_smtpd import smtp_instance  # noqa: F401


def table(inst, name, text):
    path = os.path.join(inst.etc, name)
    with open(path, "w") as f:
        f.write(text)
    inst.write_config()
    inst.cmd("postmap", path)
    return "hash:" + path


def send(inst, sender, rcpts, body="Subject: t\n\nbody\n"):
    with smtplib.SMTP("127.0.0.1", inst.smtp_port) as s:
        return s.sendmail(sender, rcpts, body)


def test_virtual_alias_expansion(smtp_instance, users):  # noqa: F811
    inst = smtp_instance
    for u in ("va1", "va2", "va3"):
        users.add(u)
    inst.params["recipient_delimiter"] = "+"
    inst.params["virtual_alias_maps"] = table(inst, "virtual", (
        "list@virt.example    one@virt.example, va3\n"
        "one@virt.example     va1, va2@mx.test.example\n"
        # Expands to itself and more: kept, not expanded again.
        "va1@mx.test.example  va1@mx.test.example, va3\n"
        "joe@virt.example     va2\n"
        "@catch.example       va3\n"))
    inst.start()
    send(inst, "s@remote.example", ["list@virt.example"])
    # list -> one, va3 -> va1 (-> va1, va3), va2, va3: duplicates go.
    for u in ("va1", "va2", "va3"):
        inst.wait_log(r"to=<%s@mx\.test\.example>, "
                      r"orig_to=<list@virt\.example>.*status=sent" % u)
    # smtp_instance delivers to Maildirs under the spool.
    assert len(maildir_files(os.path.join(inst.spool, "va3"))) == 1
    # An extension the table did not match is kept on the result.
    send(inst, "s@remote.example", ["joe+box@virt.example"])
    inst.wait_log(r"to=<va2\+box@mx\.test\.example>, "
                  r"orig_to=<joe\+box@virt\.example>.*status=sent")
    send(inst, "s@remote.example", ["anyone@catch.example"])
    inst.wait_log(r"to=<va3@mx\.test\.example>, "
                  r"orig_to=<anyone@catch\.example>.*status=sent")


@pytest.mark.parametrize("case", ["expansion", "recursion", "table"])
def test_virtual_alias_failures(smtp_instance, case):  # noqa: F811
    """A limit that is hit or a table that fails: DATA gets 451, the
    message is not queued, the log says why."""
    inst = smtp_instance
    if case == "expansion":
        inst.params["virtual_alias_expansion_limit"] = "3"
        maps = table(inst, "virtual",
                     "big@virt.example a@x.example, b@x.example, "
                     "c@x.example, d@x.example\n")
        rcpt, why = "big@virt.example", "map expansion size"
    elif case == "recursion":
        inst.params["virtual_alias_recursion_limit"] = "5"
        maps = table(inst, "virtual", "a@virt.example b@virt.example\n"
                     "b@virt.example a@virt.example\n")
        rcpt, why = "a@virt.example", "map nesting"
    else:
        # Not a domain list too: smtpd and trivial-rewrite would answer
        # 451 at RCPT TO already (tested in test_virtual.py).
        inst.params["virtual_alias_domains"] = ""
        maps = "fail:broken"
        rcpt, why = "x@virt.example", "map lookup problem"
    inst.params["virtual_alias_maps"] = maps
    inst.start()
    with pytest.raises(smtplib.SMTPDataError) as e:
        send(inst, "s@remote.example", [rcpt])
    assert e.value.smtp_code == 451
    assert b"4.3.0" in e.value.smtp_error
    inst.wait_log(r"virtual_alias_maps %s for %s -- message not accepted"
                  % (why, rcpt.replace(".", r"\.")))
    assert inst.queue_empty()


def test_canonical_and_masquerade(instance, users):
    users.add("cuser")
    users.add("newname")
    inst = instance
    inst.params["canonical_maps"] = table(
        inst, "canonical", "cuser  Chris.User@corp.example\n")
    inst.params["recipient_canonical_maps"] = table(
        inst, "rcanonical", "oldname@mx.test.example newname\n")
    inst.params["masquerade_domains"] = "!keep.corp.example, corp.example"
    inst.params["masquerade_exceptions"] = "root"
    inst.start()
    # Envelope sender (bare user in a local domain) and header From.
    inst.sendmail(["-f", "cuser", "oldname"],
                  "From: cuser\nTo: oldname, bob@host.sub.corp.example\n"
                  "Cc: root@x.corp.example, a@b.keep.corp.example\n"
                  "Subject: canon\n\nbody\n")
    box = wait_for(lambda: parse_mbox(inst.mbox("newname")), 30,
                   what="delivery to the canonical recipient")[0]
    assert box.startswith("From Chris.User@corp.example ")
    assert "Return-Path: <Chris.User@corp.example>" in box
    assert "\nFrom: Chris.User@corp.example\n" in box
    # Header recipients: canonical maps, then masquerading with its
    # exception and its "!" domain.
    assert "\nTo: newname@mx.test.example, bob@corp.example\n" in box
    assert "\nCc: root@x.corp.example, a@b.keep.corp.example\n" in box
    inst.wait_log(r"to=<newname@mx\.test\.example>, orig_to=<oldname>")


def test_canonical_classes(instance, users):
    """canonical_classes limits where canonical_maps apply; masquerading
    of the envelope sender."""
    users.add("ccuser")
    inst = instance
    inst.params["canonical_maps"] = table(
        inst, "canonical", "ccuser@mx.test.example other@corp.example\n")
    inst.params["canonical_classes"] = "envelope_sender"
    inst.params["masquerade_domains"] = "corp.example"
    inst.start()
    inst.sendmail(["-f", "dev@build.corp.example", "ccuser"],
                  "From: ccuser@mx.test.example\nSubject: cls\n\nx\n")
    box = wait_for(lambda: parse_mbox(inst.mbox("ccuser")), 30,
                   what="delivery")[0]
    assert "Return-Path: <dev@corp.example>" in box
    assert "\nFrom: ccuser@mx.test.example\n" in box


def test_smtp_generic_maps(instance, sink):
    """smtp_generic_maps rewrite the envelope and the address headers as
    mail leaves; the queue and the log keep the original addresses."""
    from test_smtp_client import configure
    inst = instance
    configure(inst, relayhost=sink.relayhost)
    inst.params["recipient_delimiter"] = "+"
    inst.params["propagate_unmatched_extensions"] = "canonical, virtual, generic"
    inst.params["smtp_generic_maps"] = table(inst, "generic", (
        "guser              guser@isp.example\n"
        "@mx.test.example   anyone@isp.example\n"
        "far@remote.example near@remote.example\n"))
    inst.start()
    inst.sendmail(["-f", "guser+tag", "far@remote.example",
                   "other@remote.example"],
                  "From: G User <guser>\n"
                  "To: far@remote.example,\n other@remote.example\n"
                  "Cc: (team) someone@mx.test.example\n"
                  "Subject: generic\n\nTo: body@mx.test.example\n")
    tx = sink.wait(1)[0]
    assert tx.mail_from == "guser+tag@isp.example"
    assert sorted(tx.rcpts) == ["near@remote.example",
                                "other@remote.example"]
    data = tx.data.decode()
    assert "From: G User <guser@isp.example>\r\n" in data
    assert ("To: near@remote.example,\r\n other@remote.example\r\n"
            in data)
    assert "Cc: (team) anyone@isp.example\r\n" in data
    # Bodies are left alone.
    assert "\r\nTo: body@mx.test.example\r\n" in data
    inst.wait_log(r"to=<far@remote\.example>.*status=sent")


def test_smtp_generic_maps_failure(instance, sink):
    """A generic table that cannot answer defers the message; nothing
    is sent."""
    from test_smtp_client import configure
    inst = instance
    configure(inst, relayhost=sink.relayhost)
    inst.params["smtp_generic_maps"] = "fail:broken"
    inst.start()
    inst.sendmail(["-f", "x@test.example", "a@remote.example"],
                  "Subject: f\n\nx\n")
    inst.wait_log(r"to=<a@remote\.example>.*status=deferred \(address "
                  r"mapping table lookup failure\)")
    wait_for(lambda: inst.queue_files("deferred"), 30,
             what="the message in deferred/")
    assert sink.messages == []


def test_relocated_maps(smtp_instance, users):  # noqa: F811
    """relocated(5): smtpd refuses the recipient with 550 5.1.6, and mail
    that gets in another way bounces with 5.1.6 and the new address."""
    inst = smtp_instance
    users.add("rsender")
    inst.params["relocated_maps"] = table(
        inst, "relocated", "moved     joe@new.example\n"
        "@gone.example  contact@new.example\n")
    inst.start()
    with smtplib.SMTP("127.0.0.1", inst.smtp_port) as s:
        s.mail("x@remote.example")
        code, text = s.rcpt("moved@mx.test.example")
        assert code == 550
        assert b"5.1.6" in text and b"User has moved to joe@new.example" \
            in text
        assert s.rcpt("rsender@mx.test.example")[0] == 250
    # Through sendmail there is no RCPT check: the message bounces.
    inst.sendmail(["-f", "rsender", "moved", "someone@gone.example"],
                  "Subject: hello\n\nx\n")
    inst.wait_log(r"to=<moved@mx\.test\.example>.*dsn=5\.1\.6, "
                  r"status=bounced \(User has moved to joe@new\.example\)")
    inst.wait_log(r"to=<someone@gone\.example>.*dsn=5\.1\.6, "
                  r"status=bounced \(User has moved to contact@new\.example\)")
