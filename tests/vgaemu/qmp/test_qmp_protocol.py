"""The QMP wire protocol as QEMU speaks it (docs/interop/qmp-spec.rst), over a raw socket."""

from __future__ import annotations

import json
import time

from hypothesis import given, settings, strategies as st

from vgaemu.qmp.protocol import JSONStreamParser, ParseError, QMPError, check_request


def test_greeting_has_version_and_capabilities(raw_client):
    c = raw_client(negotiate=False)
    qmp = c.greeting["QMP"]
    assert set(qmp) == {"version", "capabilities"}
    assert set(qmp["version"]["qemu"]) == {"major", "minor", "micro"}
    assert qmp["capabilities"] == []


def test_commands_refused_before_negotiation(raw_client):
    c = raw_client(negotiate=False)
    reply = c.cmd("query-status")
    assert reply == {"error": {"class": "CommandNotFound",
                               "desc": "Expecting capabilities negotiation with 'qmp_capabilities'"}}
    assert c.cmd("qmp_capabilities") == {"return": {}}
    assert c.cmd("query-status")["return"]["status"] == "running"
    again = c.cmd("qmp_capabilities")
    assert again["error"] == {"class": "CommandNotFound",
                              "desc": "Capabilities negotiation is already complete, command ignored"}


def test_unknown_capability_refused(raw_client):
    c = raw_client(negotiate=False)
    reply = c.cmd("qmp_capabilities", enable=["oob"])
    assert reply["error"] == {"class": "GenericError", "desc": "Capability 'oob' not available"}


def test_several_commands_in_one_packet_answered_in_order_with_ids(raw_client):
    c = raw_client()
    c.send(b'{"execute": "query-status", "id": 1}{"execute": "query-version", "id": "two"}\n'
           b'  {"execute": "stop", "id": [3]}')
    replies = []
    while len(replies) < 3:
        m = c.recv()
        if "event" not in m:
            replies.append(m)
    assert [r["id"] for r in replies] == [1, "two", [3]]
    assert replies[0]["return"]["running"] is True
    assert "qemu" in replies[1]["return"]
    assert replies[2]["return"] == {}


def test_command_split_over_packets(raw_client):
    c = raw_client()
    msg = json.dumps({"execute": "query-status", "id": "split", "arguments": {}}).encode()
    for i in range(len(msg)):
        c.send(msg[i:i + 1])
        time.sleep(0.001 if i % 7 == 0 else 0)
    reply = c.recv()
    assert reply["id"] == "split" and reply["return"]["status"] == "running"


def test_garbage_gets_generic_error_and_connection_stays(raw_client):
    c = raw_client()
    c.send(b"hello ")
    err = c.recv()
    assert err["error"]["class"] == "GenericError"
    assert "JSON parse error" in err["error"]["desc"] and "hello" in err["error"]["desc"]
    c.send(b"}")
    assert c.recv()["error"]["desc"] == "JSON parse error, stray '}'"
    c.send(b'{"execute": }')
    assert c.recv()["error"]["desc"].startswith("JSON parse error")
    assert c.cmd("query-status")["return"]["running"] is True


def test_number_past_the_digit_limit_is_a_parse_error_and_connection_stays(raw_client):
    """A 5000-digit number inside an object: json.loads raises a plain ValueError (Python's
    int digit limit), which has no .msg; the parser's AttributeError ended the session
    without a reply. Now it is a JSON parse error like any other."""
    c = raw_client()
    c.send(b'{"execute": "query-status", "id": ' + b"9" * 5000 + b"}")
    assert c.recv()["error"] == {"class": "GenericError",
                                 "desc": "JSON parse error, number too large"}
    assert c.cmd("query-status")["return"]["running"] is True


def test_request_shape_errors(raw_client):
    c = raw_client()
    cases = [
        (b"[1, 2]", "QMP input must be a JSON object"),
        (b"42 ", "QMP input must be a JSON object"),
        (b'{"id": 5}', "QMP input lacks member 'execute'"),
        (b'{"execute": 1}', "QMP input member 'execute' must be a string"),
        (b'{"execute": "stop", "arguments": []}', "QMP input member 'arguments' must be an object"),
        (b'{"execute": "stop", "extra": 1}', "QMP input member 'extra' is unexpected"),
    ]
    for data, desc in cases:
        c.send(data)
        reply = c.recv()
        assert reply["error"] == {"class": "GenericError", "desc": desc}, data
    c.send(b'{"id": 5}')
    assert c.recv()["id"] == 5  # the id is echoed even on an error
    assert c.cmd("query-status")["return"]["status"] == "running"  # nothing stopped


def test_argument_errors_use_qemu_messages(raw_client, qmp_machine):
    c = raw_client()
    assert c.cmd("screendump")["error"] == {"class": "GenericError",
                                            "desc": "Parameter 'filename' is missing"}
    assert c.cmd("screendump", filename=3)["error"]["desc"] == \
        "Invalid parameter type for 'filename', expected: string"
    assert c.cmd("screendump", filename="/tmp/x.ppm", bogus=1)["error"]["desc"] == \
        "Parameter 'bogus' is unexpected"
    assert c.cmd("screendump", filename="/tmp/x.gif", format="gif")["error"]["desc"] == \
        "Parameter 'format' does not accept value 'gif'"
    assert c.cmd("query-status", now=True)["error"]["desc"] == "Parameter 'now' is unexpected"
    assert c.cmd("no-such-command")["error"] == {
        "class": "CommandNotFound", "desc": "The command no-such-command has not been found"}


def test_events_carry_timestamps(raw_client):
    c = raw_client()
    c.send({"execute": "stop"})
    seen = []
    while len(seen) < 2:
        seen.append(c.recv())
    event = next(m for m in seen if "event" in m)
    assert event["event"] == "STOP"
    ts = event["timestamp"]
    assert abs(ts["seconds"] + ts["microseconds"] / 1e6 - time.time()) < 60
    assert 0 <= ts["microseconds"] < 1_000_000


# ---- the splitter against a model --------------------------------------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
    max_leaves=10)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.dictionaries(st.text(max_size=6), json_values, max_size=4), min_size=1, max_size=5),
       st.lists(st.integers(min_value=1, max_value=40), min_size=1, max_size=20))
def test_splitter_returns_each_object_whatever_the_packet_boundaries(objs, cuts):
    """Model: the concatenated messages come out one by one, whatever the packet sizes."""
    data = b"".join(json.dumps(o).encode() + b" " for o in objs)
    parser = JSONStreamParser()
    out, pos, i = [], 0, 0
    while pos < len(data):
        n = cuts[i % len(cuts)]
        out += parser.feed(data[pos:pos + n])
        pos += n
        i += 1
    assert out == objs


def test_splitter_handles_braces_in_strings_and_utf8_split():
    parser = JSONStreamParser()
    msg = json.dumps({"execute": "x", "arguments": {"s": "}{][\\\"é"}}, ensure_ascii=False).encode()
    out = []
    for i in range(len(msg)):
        out += parser.feed(msg[i:i + 1])
    assert out == [json.loads(msg)]
    assert isinstance(parser.feed(b"]")[0], ParseError)


def test_check_request_accepts_id_and_arguments():
    assert check_request({"execute": "a", "arguments": {"x": 1}, "id": 9}) == ("a", {"x": 1}, 9)
    try:
        check_request({"exec-oob": "a"})
    except QMPError as e:
        assert e.error_class == "GenericError"
    else:
        raise AssertionError("exec-oob accepted without the oob capability")
