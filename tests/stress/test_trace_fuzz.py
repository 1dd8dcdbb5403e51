"""A hypothesis fuzzer over malformed traces (issue 9, sections 3 and 4): whatever the JSON
structure, numbers, ops, addresses and lengths, ``vgaemu replay`` either runs the trace or
fails with one of the project's own exceptions whose message is one line -- never an
"internal error" -- and the process's peak RSS stays bounded.

Each example is replayed in this process on a fresh machine (what ``vgaemu replay`` does);
the message is formatted by the CLI's own ``_message``. The peak RSS of each example is read
from /proc/self/status (VmHWM) after resetting it through /proc/self/clear_refs, so one
example that balloons is caught even if the memory is freed again.

CI runs it for a few seconds; ``make stress`` for VGAEMU_STRESS_SECONDS per scenario.
"""

from __future__ import annotations

import gc
import json
import os
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from guestmem.errors import GuestMemError
from vgaemu.cli import _message
from vgaemu.errors import VGAEmuError
from vgaemu.trace import OP_KINDS, REG_NAMES, replay

#: Peak RSS one example may add above the RSS before it (a machine is 64 MiB of guest RAM
#: and 16 MiB of VRAM, touched at most once, plus pictures).
EXAMPLE_RSS_LIMIT_MB = 300
MAX_MESSAGE = 600

# ---- numbers where the edges are -----------------------------------------------------------

EDGES = [0, 1, 2, 3, 4, 0xFF, 0x100, 0xFFFF, 0x10000, 0x9FFFF, 0xA0000, 0xAFFFF, 0xB8000,
         0xBFFFF, 0xC0000, 0xFFFFF, 0x100000, 0x3FFFFFF, 0x4000000, 0xFD000000, 0xFDFFFFFF,
         0xFEB00000, 0xFEB00004, 0xFEB00010, 0xFEB00014, 0xFEBF0000, 0xFEBF0500, 0xFFFFFFFF,
         0x100000000, 0xFFFFFFFFFFFFFFF0, 1 << 64, 1 << 200]

integers = st.one_of(
    st.sampled_from(EDGES),
    st.sampled_from(EDGES).map(lambda v: -v),
    st.integers(0, 0xFFFFFFFF),
    st.integers(-(1 << 70), 1 << 70),
)


def _as_text(v: int) -> st.SearchStrategy[str]:
    return st.sampled_from([hex(v), str(v), f"  {hex(v)} ", hex(v).upper().replace("X", "x"),
                            oct(v), bin(v) if abs(v) < 1 << 40 else hex(v)])


#: Numbers that broke something once: digits past Python's 4300-digit int/str limit, hex
#: that parses but cannot be printed in decimal, forms int() half accepts.
NASTY = ["", "0x", "-", "1e3", "0x1_0", "nan", "0b102", "٣", "0x" + "F" * 5000, "9" * 5000,
         "-0x" + "f" * 4400, "0x" + "1" * 3700, 10 ** 4000, -(10 ** 4000)]

numbers = st.one_of(
    integers,
    integers.flatmap(_as_text),
    st.sampled_from(NASTY),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([True, False, None]),
)

junk = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=20)),
    lambda inner: st.one_of(st.lists(inner, max_size=4),
                            st.dictionaries(st.text(max_size=6), inner, max_size=4)),
    max_leaves=12,
)

FIELDS = ["port", "val", "addr", "lfb", "len", "unit", "data", "num", "name", *REG_NAMES]
ADDRESS_FIELDS = ("addr", "lfb", "port", "len", "val")


@st.composite
def ops(draw) -> object:
    """An op that is mostly right: a real kind and the fields it needs, some of them wrong,
    sometimes a stray field, a wrong kind, or no object at all."""
    shape = draw(st.integers(0, 19))
    if shape == 0:
        return draw(junk)
    kind = draw(st.one_of(st.sampled_from(sorted(OP_KINDS)), st.text(max_size=8), junk)) \
        if shape == 1 else draw(st.sampled_from(sorted(OP_KINDS)))
    op: dict = {"op": kind}
    wanted = {"outb": ["port", "val"], "outw": ["port", "val"], "outl": ["port", "val"],
              "inb": ["port"], "inw": ["port"], "inl": ["port"],
              "writeb": ["addr", "val"], "writew": ["lfb", "val"], "writel": ["addr", "val"],
              "fill": ["addr", "len", "val", "unit"], "write": ["addr", "data"],
              "int10": ["ax", "bx", "cx"], "int": ["num", "ax", "cx", "dx"],
              "screendump": ["name"]}.get(kind if isinstance(kind, str) else "", [])
    for f in wanted:
        if draw(st.integers(0, 9)) == 0:
            continue  # a missing field
        if f == "data":
            op[f] = draw(st.one_of(st.text("0123456789abcdefABCDEF", max_size=64),
                                   st.text(max_size=8), junk))
        elif f == "name":
            op[f] = draw(st.one_of(st.text(max_size=12), st.integers(), junk,
                                   st.just("x" * 300)))
        elif f == "addr" and draw(st.booleans()):
            op.pop("addr", None)
            op["lfb"] = draw(numbers)
        elif f == "cx" and kind == "int10":
            op[f] = draw(st.integers(0, 64))  # a huge count is a slow BIOS, not bad input
        elif f == "ax" and kind == "int10":
            op[f] = draw(st.one_of(st.sampled_from([0x03, 0x12, 0x13, 0x0941, 0x0E41, 0x1130,
                                                    0x4F02, 0x4F01, 0x4F05, 0x1012]), numbers))
        else:
            op[f] = draw(numbers)
    if draw(st.integers(0, 4)) == 0:
        op[draw(st.sampled_from(FIELDS))] = draw(st.one_of(numbers, junk))
    return op


@st.composite
def dma_program(draw) -> list:
    """The DMA engine's registers from a trace, then START: wrapping, huge or 2-D transfers."""
    base = 0xFEB00000
    regs = {0x10: draw(integers), 0x14: draw(integers), 0x18: draw(integers),
            0x1C: draw(integers), 0x20: draw(integers), 0x24: draw(integers),
            0x28: draw(st.integers(0, 1 << 20)), 0x2C: draw(integers), 0x30: draw(integers),
            0x34: draw(integers)}
    out = [{"op": "writel", "addr": hex(base + off), "val": hex(v & 0xFFFFFFFF)}
           for off, v in regs.items()]
    out.append({"op": "writel", "addr": hex(base + 4), "val": hex(draw(st.integers(0, 0x3F)) | 1)})
    return out


@st.composite
def trace_texts(draw) -> str | bytes:
    """The file's text: JSON of a list/object/lines of ops, or something that is hardly JSON."""
    kind = draw(st.integers(0, 9))
    if kind == 0:
        depth = draw(st.sampled_from([10, 900, 1100, 5000, 100_000]))
        return draw(st.sampled_from(["[", "{\"ops\": [", "[{\"op\": \"comment\", \"x\": "])) + "[" * depth
    if kind == 1:
        return draw(st.one_of(st.text(max_size=200), st.binary(max_size=200)))
    if kind == 2:
        digits = draw(st.sampled_from([400, 4300, 4301, 5000, 20_000]))
        return '[{"op": "outb", "port": ' + "9" * digits + ', "val": 1}]'
    body = draw(st.lists(ops(), max_size=12))
    if kind == 3:
        body = draw(dma_program()) + body
    if kind == 4:
        return "\n".join(["# fuzz", *(json.dumps(o) for o in body), draw(st.text(max_size=20))])
    if kind == 5:
        return json.dumps({"ops": body, draw(st.text(max_size=4)): draw(junk)})
    if kind == 6:
        return json.dumps(body)[:draw(st.integers(0, 400))]  # cut short
    return json.dumps(body)


# ---- measuring ------------------------------------------------------------------------------

def _status(key: str) -> int:
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith(key))


def _reset_peak() -> bool:
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")  # reset VmHWM to the current RSS
        return True
    except OSError:
        return False


def check_one(path) -> None:
    gc.collect()
    exact_peak = _reset_peak()
    before = _status("VmRSS:")
    try:
        replay(path)
    except (VGAEmuError, GuestMemError) as exc:
        line = _message(exc)
        assert "\n" not in line and "\r" not in line, line
        assert "internal error" not in line, line
        assert 0 < len(line) <= MAX_MESSAGE, line[:MAX_MESSAGE]
    peak = _status("VmHWM:") if exact_peak else _status("VmRSS:")
    grown_mb = (peak - before) / 1024
    assert grown_mb < EXAMPLE_RSS_LIMIT_MB, f"peak RSS grew by {grown_mb:.0f} MB"


def test_malformed_traces_fail_in_one_clean_line_with_bounded_rss(tmp_path, stress_seconds):
    path = tmp_path / "fuzz.json"

    @settings(max_examples=20, deadline=None, database=None,
              suppress_health_check=list(HealthCheck))
    @given(text=trace_texts())
    def one_batch(text):
        if isinstance(text, str):
            path.write_text(text, encoding="utf-8", errors="surrogatepass")
        else:
            path.write_bytes(text)
        check_one(path)

    end = time.monotonic() + stress_seconds(8.0)
    batches = 0
    while batches == 0 or time.monotonic() < end:
        one_batch()
        batches += 1


@pytest.mark.parametrize("text", [
    "[" * 100_000,
    '[{"op": "outb", "port": ' + "9" * 5000 + ', "val": 1}]',
    json.dumps([{"op": "fill", "addr": "0x100000", "len": "0xFFEFFFFF", "val": 1}]),
    json.dumps([{"op": "fill", "addr": "0xFEBF0FF0", "len": "0x1000000", "val": 1}]),
    json.dumps([{"op": "screendump"}] * 3000),
    json.dumps([{"op": "writel", "addr": "0xFEB00010", "val": "0xFFFFFFF0"},
                {"op": "writel", "addr": "0xFEB00014", "val": "0xFFFFFFFF"},
                {"op": "writel", "addr": "0xFEB00020", "val": "0x100"},
                {"op": "writel", "addr": "0xFEB00004", "val": "1"}]),
    json.dumps([{"op": "screendump", "name": 10 ** 4000}]),
    json.dumps([{"op": "outb", "port": "-0x" + "f" * 4400, "val": 1}]),
], ids=["nested", "5000-digits", "fill-4GiB", "fill-across-mmio-bar", "3000-dumps", "dma-wrap",
        "name-4000-digits", "huge-negative-hex"])
def test_issue_9_inputs(tmp_path, text):
    """The inputs issue 9 names, as seeds the fuzzer must always get right."""
    path = tmp_path / "t.json"
    path.write_text(text)
    check_one(path)


def test_the_rss_probe_sees_a_balloon():
    """The measurement itself: 200 MB allocated and freed inside one example is seen."""
    import numpy as np

    gc.collect()
    if not _reset_peak():
        pytest.skip("/proc/self/clear_refs not writable here")
    before = _status("VmRSS:")
    a = np.ones(200 << 20, dtype=np.uint8)
    del a
    assert (_status("VmHWM:") - before) / 1024 > 150
    assert os.path.exists("/proc/self/status")
