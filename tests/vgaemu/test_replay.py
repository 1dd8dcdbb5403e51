"""Trace format: parsing, validation (every error case), replay dispatch and recording.

The replay tests here use a small stand-in machine that logs every access, so they pin down
what each op does on the address spaces independently of the VGA model; the pixel tests
against QEMU are in test_qemu_pixels.py.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from vgaemu.errors import TraceError, VGAEmuError
from vgaemu.trace import (TraceRecorder, load_trace, parse_ops, replay, screendump_path)


# ---------------------------------------------------------------------------------------------
# Parsing
# ---------------------------------------------------------------------------------------------
def test_every_op_parses():
    t = parse_ops([
        {"op": "comment", "text": "anything", "x": [1, 2]},
        {"op": "outb", "port": "0x3C8", "val": 1},
        {"op": "outw", "port": 0x3C4, "val": "0x0F02"},
        {"op": "outl", "port": "0xCF8", "val": "0x80000000"},
        {"op": "inb", "port": "0x3DA"},
        {"op": "inw", "port": "0x1CF"},
        {"op": "inl", "port": "0xCFC"},
        {"op": "writeb", "addr": "0xA0000", "val": "0xFF"},
        {"op": "writew", "lfb": 4, "val": "0xFFFF"},
        {"op": "writel", "addr": "0x100000", "val": "0xFFFFFFFF"},
        {"op": "fill", "addr": "0xA0000", "len": 8, "val": "0x1234", "unit": 2},
        {"op": "fill", "lfb": "0x10", "len": "0x10", "val": 7},
        {"op": "write", "addr": "0xB8000", "data": "41074207"},
        {"op": "int10", "ax": "0x13"},
        {"op": "int", "num": "0x15", "ax": "0x8600", "cx": 0, "dx": 1000},
        {"op": "screendump"},
        {"op": "screendump", "name": "mid-1.x"},
        {"op": "screendump"},
        {"op": "halt"},
        {"op": "bogus-after-halt"},
    ])
    kinds = [op.kind for op in t.ops]
    assert kinds == ["out", "out", "out", "in", "in", "in", "store", "store", "store", "fill",
                     "fill", "write", "int", "int", "screendump", "screendump", "screendump"]
    assert t.ops[0].index == 1  # indices count the comment: they point at the op as written
    assert t.ops[7].lfb and t.ops[7].addr == 4 and t.ops[7].size == 2
    assert t.ops[9].size == 2 and t.ops[9].length == 8 and t.ops[9].val == 0x1234
    assert t.ops[11].data == bytes([0x41, 7, 0x42, 7])
    assert t.ops[12].num == 0x10 and dict(t.ops[12].regs) == {"ax": 0x13}
    assert t.screendump_names == ["1", "mid-1.x", "3"]
    assert t.ignored_after_halt == 1


def test_forms_list_object_jsonl(tmp_path):
    ops = [{"op": "int10", "ax": "0x3"}, {"op": "outb", "port": "0x3D4", "val": "0xA"}]
    p1 = tmp_path / "a.json"
    p1.write_text(json.dumps(ops))
    p2 = tmp_path / "b.json"
    p2.write_text(json.dumps({"ops": ops}))
    p3 = tmp_path / "c.jsonl"
    p3.write_text("# comment line\n// another\n\n" + "\n".join(json.dumps(o) for o in ops) + "\n")
    parsed = [load_trace(p).ops for p in (p1, p2, p3)]
    assert parsed[0] == parsed[1] == parsed[2]
    assert load_trace(ops).ops == parsed[0]
    assert load_trace({"ops": ops}).ops == parsed[0]


def test_corpus_parses():
    """Every committed trace is valid (the oracle accepted them all to make the goldens)."""
    from pathlib import Path

    traces = sorted((Path(__file__).parents[1] / "traces").glob("*.json"))
    assert len(traces) >= 60
    for p in traces:
        t = load_trace(p)
        assert t.ops or p.stem == "boot_screen"  # boot_screen is only a comment and halt


# ---------------------------------------------------------------------------------------------
# Validation: every error names the op's index and what is wrong
# ---------------------------------------------------------------------------------------------
BAD = [
    ({"op": "frobnicate"}, "op #1 ('frobnicate'): unknown op"),
    ({"val": 1}, "op #1: expected an object with \"op\""),
    ("outb 0x3c8 1", "op #1: expected an object"),
    ({"op": "outb", "port": "0x3C8"}, "op #1 (outb): missing \"val\""),
    ({"op": "outb", "val": 1}, "op #1 (outb): missing \"port\""),
    ({"op": "outb", "port": "0x3C8", "val": 256}, "op #1 (outb): val=0x100 out of range"),
    ({"op": "outw", "port": "0x10000", "val": 1}, "op #1 (outw): port=0x10000 out of range"),
    ({"op": "outb", "port": "0x3G8", "val": 1}, "op #1 (outb): port: expected an integer"),
    ({"op": "outb", "port": 1.5, "val": 1}, "op #1 (outb): port: expected an integer, got 1.5"),
    ({"op": "outb", "port": True, "val": 1}, "op #1 (outb): port: expected an integer, got True"),
    ({"op": "outb", "port": "-1", "val": 1}, "op #1 (outb): port=-1 out of range"),
    ({"op": "writeb", "addr": "0x9FFFF", "val": 1}, "op #1 (writeb): addr 0x9FFFF is below 0xA0000"),
    ({"op": "writeb", "val": 1}, "op #1 (writeb): missing \"addr\""),
    ({"op": "writew", "addr": "0xFFFFF", "val": 1}, "op #1 (writew): range 0xFFFFF..0x100000 crosses 1 MiB"),
    ({"op": "writel", "addr": "0xFFFFFFFE", "val": 1}, "op #1 (writel): range 0xFFFFFFFE+4 crosses 4 GiB"),
    ({"op": "writeb", "addr": "0xA0000"}, "op #1 (writeb): missing \"val\""),
    ({"op": "fill", "addr": "0xA0000", "len": 4, "val": 1, "unit": 3}, "op #1 (fill): unit must be 1, 2 or 4"),
    ({"op": "fill", "addr": "0xA0000", "len": 5, "val": 1, "unit": 2}, "op #1 (fill): len=5 is not a multiple of unit=2"),
    ({"op": "fill", "addr": "0xA0000", "len": 4, "val": 0x10000, "unit": 2}, "op #1 (fill): val=0x10000 out of range"),
    ({"op": "fill", "addr": "0xA0000", "val": 1}, "op #1 (fill): missing \"len\""),
    ({"op": "write", "addr": "0xA0000"}, "op #1 (write): \"data\" must be a hex string"),
    ({"op": "write", "addr": "0xA0000", "data": "abc"}, "op #1 (write): \"data\" is not a hex string"),
    ({"op": "write", "addr": "0xA0000", "data": 1234}, "op #1 (write): \"data\" must be a hex string"),
    ({"op": "int10", "bx": 1}, "op #1 (int10): missing \"ax\""),
    ({"op": "int10", "ax": "0x10000"}, "op #1 (int10): ax=0x10000 out of range"),
    ({"op": "int", "ax": 1}, "op #1 (int): missing \"num\""),
    ({"op": "int", "num": "0x100", "ax": 1}, "op #1 (int): num=0x100 out of range"),
    ({"op": "int", "num": "0x16", "ax": 0}, "op #1 (int): INT 16h AH=00h has no service"),
    ({"op": "int", "num": "0x15", "ax": "0x8700"}, "op #1 (int): INT 15h AH=87h has no service"),
    ({"op": "screendump", "name": "a/b"}, "op #1 (screendump): name 'a/b' must be alphanumeric"),
]


@pytest.mark.parametrize("bad,message", BAD, ids=[m.split(": ", 1)[-1][:40] for _, m in BAD])
def test_bad_op_is_a_trace_error(bad, message):
    with pytest.raises(TraceError) as exc:
        parse_ops([{"op": "int10", "ax": "0x3"}, bad], source="t.json")
    assert str(exc.value).startswith("t.json: " + message), str(exc.value)
    assert isinstance(exc.value, VGAEmuError)


def test_duplicate_screendump_name_is_allowed_like_the_oracle():
    t = parse_ops([{"op": "screendump", "name": "x"}, {"op": "screendump"}, {"op": "screendump", "name": "x"}])
    assert t.screendump_names == ["x", "2", "x"]


def test_bad_files(tmp_path):
    with pytest.raises(TraceError, match="no such trace file"):
        load_trace(tmp_path / "missing.json")
    p = tmp_path / "bad.json"
    p.write_text('{"op": "halt"}\n{"op": "outb", "port": 1\n')
    with pytest.raises(TraceError, match=r"bad.json:2: not JSON"):
        load_trace(p)
    p.write_text('"just a string"')
    with pytest.raises(TraceError, match="expected a JSON list of ops"):
        load_trace(p)
    p.write_text('{"op": "int10", "ax": 3}')  # one op, not {"ops": ...}: the oracle refuses it
    with pytest.raises(TraceError, match=r"one op on its own .* put it in a list: \[\{\"op\": \.\.\.\}\]"):
        load_trace(p)                          # ... and says how to write it
    with pytest.raises(TraceError, match="needs an \"ops\" list"):
        load_trace({"op": "halt"})
    with pytest.raises(TraceError, match="expected a trace path"):
        load_trace(42)


def test_screendump_path():
    assert str(screendump_path("out/shot.png", "half")) == "out/shot-half.png"
    assert str(screendump_path("shot.ppm", "1")) == "shot-1.ppm"


# ---------------------------------------------------------------------------------------------
# Replay on a logging stand-in machine
# ---------------------------------------------------------------------------------------------
class _AS:
    def __init__(self, log, name, limit=None):
        self.log, self.name, self.limit = log, name, limit

    def _ok(self, addr, n):
        return 0 if self.limit is None or addr + n <= self.limit or addr >= 0xFD000000 else 2

    def stb(self, a, v):
        self.log.append((self.name, "stb", a, v))
        return self._ok(a, 1)

    def stw_le(self, a, v):
        self.log.append((self.name, "stw", a, v))
        return self._ok(a, 2)

    def stl_le(self, a, v):
        self.log.append((self.name, "stl", a, v))
        return self._ok(a, 4)

    def ldub(self, a):
        self.log.append((self.name, "ldub", a))
        return 0xFF

    def lduw_le(self, a):
        self.log.append((self.name, "lduw", a))
        return 0xFFFF

    def ldl_le(self, a):
        self.log.append((self.name, "ldl", a))
        return 0xFFFFFFFF

    def write(self, a, data):
        self.log.append((self.name, "write", a, bytes(data)))
        return self._ok(a, len(data))

    def current_map(self):
        """The fake's FlatView: RAM up to ``limit``, the LFB from 0xFD000000 (for range checks)."""
        from types import SimpleNamespace

        ranges = [(0, self.limit or 1 << 64), (0xFD000000, 1 << 24)]

        def lookup(addr):
            for start, size in ranges:
                if start <= addr < start + size:
                    return SimpleNamespace(mr=self, addr=start, size=size)
            return None
        return SimpleNamespace(lookup=lookup)


class _Clock:
    def __init__(self):
        self.now_ns = 0

    def advance(self, ns):
        self.now_ns += ns


class _VGA:
    lfb_addr = 0xFD000000
    mmio_addr = None  # no MMIO BAR mapped

    class state:
        vram_size = 16 << 20

    def __init__(self, log):
        self.log = log
        self.surface = np.zeros((4, 4, 3), np.uint8)

    def update_display(self):
        self.log.append(("vga", "update"))
        self.surface = self.surface + 1

    def screendump(self, path):
        self.log.append(("vga", "screendump", path))


class FakeMachine:
    def __init__(self):
        self.log = []
        self.address_space_io = _AS(self.log, "io")
        self.address_space_memory = _AS(self.log, "mem", limit=64 << 20)
        self.vga = _VGA(self.log)
        self.clock = _Clock()


def test_replay_dispatch(tmp_path):
    m = FakeMachine()
    shot = tmp_path / "out.png"
    res = replay([
        {"op": "outb", "port": "0x3C8", "val": 1},
        {"op": "outw", "port": "0x1CE", "val": 4},
        {"op": "outl", "port": "0xCF8", "val": 5},
        {"op": "inb", "port": "0x3DA"}, {"op": "inw", "port": 2}, {"op": "inl", "port": 3},
        {"op": "writeb", "addr": "0xA0000", "val": 1},
        {"op": "writew", "addr": "0xA0002", "val": 0x102},
        {"op": "writel", "lfb": "0x10", "val": 7},
        {"op": "fill", "addr": "0xA0000", "len": 6, "val": "0x0201", "unit": 2},
        {"op": "fill", "lfb": 0, "len": 8, "val": "0x11223344", "unit": 4},
        {"op": "write", "addr": "0x100000", "data": "0102"},
        {"op": "screendump", "name": "mid"},
        {"op": "int", "num": "0x15", "ax": "0x8600", "cx": 1, "dx": 2},
        {"op": "comment"},
        {"op": "halt"},
        {"op": "outb", "port": 1, "val": 1},
    ], machine=m, screenshot=shot)
    assert m.log == [
        ("io", "stb", 0x3C8, 1), ("io", "stw", 0x1CE, 4), ("io", "stl", 0xCF8, 5),
        ("io", "ldub", 0x3DA), ("io", "lduw", 2), ("io", "ldl", 3),
        ("mem", "stb", 0xA0000, 1), ("mem", "stw", 0xA0002, 0x102), ("mem", "stl", 0xFD000010, 7),
        ("mem", "write", 0xA0000, bytes([1, 2, 1, 2, 1, 2])),
        ("mem", "write", 0xFD000000, bytes([0x44, 0x33, 0x22, 0x11]) * 2),
        ("mem", "write", 0x100000, b"\x01\x02"),
        ("vga", "update"), ("vga", "screendump", str(tmp_path / "out-mid.png")),
        ("vga", "update"), ("vga", "screendump", str(shot)),
    ]
    assert m.clock.now_ns == ((1 << 16) | 2) * 1000
    assert res.ops_run == 14 and res.screenshot == shot
    assert [d.name for d in res.screendumps] == ["mid"]
    assert int(res.dump("mid").image[0, 0, 0]) == 1 and int(res.image[0, 0, 0]) == 2


def test_replay_bad_trace_changes_nothing():
    m = FakeMachine()
    with pytest.raises(TraceError, match=r"op #1 \(outb\): missing \"val\""):
        replay([{"op": "outb", "port": 1, "val": 1}, {"op": "outb", "port": 1}], machine=m)
    assert m.log == []


def test_replay_address_outside_regions():
    m = FakeMachine()
    with pytest.raises(TraceError, match=r"op #1 \(writeb\): 0x8000000..0x8000000 is outside any memory region"):
        replay([{"op": "outb", "port": 1, "val": 1}, {"op": "writeb", "addr": "0x8000000", "val": 1}], machine=m)
    with pytest.raises(TraceError, match=r"op #0 \(fill\): lfb range 0xFFFFFC..0x1000003 is outside the 16 MiB"):
        replay([{"op": "fill", "lfb": "0xFFFFFC", "len": 8, "val": 0}], machine=FakeMachine())


# ---------------------------------------------------------------------------------------------
# Recording
# ---------------------------------------------------------------------------------------------
def test_recorder_round_trip(tmp_path):
    rec = TraceRecorder()
    rec.record({"op": "int10", "ax": "0x13"})
    rec.record({"op": "outb", "port": "0x3C8", "val": "0x1"})
    rec.record({"op": "fill", "addr": "0xA0000", "len": "0x140", "val": "0x5", "unit": 1})
    rec.record({"op": "comment", "frame": 1})
    rec.record({"op": "comment", "readb": "0xA0000", "len": 1})
    rec.record({"op": "screendump", "name": "frame-1"})
    rec.record({"op": "write", "lfb": "0x0", "data": "00ff"})
    rec.comment("end")
    assert len(rec) == 8
    path = rec.save(tmp_path / "rec.json")
    assert json.loads(path.read_text()) == rec.ops
    t = load_trace(path)
    assert [op.kind for op in t.ops] == ["int", "out", "fill", "screendump", "write"]


def test_recorder_refuses_bad_ops():
    rec = TraceRecorder()
    rec.record({"op": "outb", "port": 1, "val": 2})
    with pytest.raises(TraceError, match=r"op #1 \(writeb\): addr 0x400 is below 0xA0000"):
        rec.record({"op": "writeb", "addr": "0x400", "val": 1})
    with pytest.raises(TraceError, match="unknown op"):
        rec.record({"op": "frame"})
    with pytest.raises(TraceError, match="name 'a b' must be alphanumeric"):
        rec.record({"op": "screendump", "name": "a b"})
    assert len(rec) == 1
    with pytest.raises(TraceError, match="cannot write"):
        rec.save("/nonexistent-dir/x.json")


# ---------------------------------------------------------------------------------------------
# The corpus and its goldens; compare.py pieces that need no machine
# ---------------------------------------------------------------------------------------------
def test_every_trace_has_its_goldens():
    """One golden per final screenshot and per screendump op, and no stray goldens."""
    from pathlib import Path

    here = Path(__file__).parents[1]
    expected = set()
    for p in sorted((here / "traces").glob("*.json")):
        expected.add(p.stem + ".png")
        expected.update(f"{p.stem}-{n}.png" for n in load_trace(p).screendump_names)
    present = {p.name for p in (here / "golden" / "qemu").glob("*.png")}
    assert expected - present == set(), "missing goldens: run make qemu-goldens"
    assert present - expected == set(), "goldens of no trace"


def test_find_oracle_errors(tmp_path, monkeypatch):
    from vgaemu import compare as cmp

    monkeypatch.setenv("VGAEMU_ORACLE", str(tmp_path / "nope.py"))
    monkeypatch.setattr(cmp, "REPO_ROOT", tmp_path / "repo")
    with pytest.raises(cmp.CompareError, match="oracle.py\\) was not found; set VGAEMU_ORACLE"):
        cmp.find_oracle()
    fake = tmp_path / "oracle.py"
    fake.write_text("")
    assert cmp.find_oracle(tmp_path) == fake.resolve()
    monkeypatch.setenv("VGAEMU_ORACLE", str(fake))
    assert cmp.find_oracle() == fake.resolve()
    with pytest.raises(cmp.CompareError, match="QEMU is not installed"):
        cmp.find_qemu("qemu-system-definitely-missing")
    with pytest.raises(cmp.CompareError, match="needs golden_dir"):
        cmp.compare([], qemu=False, out_dir=tmp_path)


def test_format_table():
    from pathlib import Path

    from vgaemu.compare import CompareRow, format_table

    rows = [CompareRow("a", None, (640, 400), (640, 400), 0),
            CompareRow("a", "mid", (640, 400), (640, 400), 256, Path("/tmp/a-mid.diff.png")),
            CompareRow("b", None, (720, 400), (640, 400), 288000),
            CompareRow("c", None, None, None, None, error="QEMU oracle failed: boom")]
    text = format_table(rows)
    lines = text.splitlines()
    assert lines[0].split() == ["trace", "size", "qemu", "size", "differing", "pixels"]
    assert "0 (identical)" in lines[2]
    assert lines[3].startswith("a-mid") and "256 (0.10%)" in lines[3] and "/tmp/a-mid.diff.png" in lines[3]
    assert "(size differs)" in lines[4]
    assert "ERROR: QEMU oracle failed: boom" in lines[5]
    assert lines[-1] == "4 screenshot(s), 1 identical, 3 differ or failed"


def _fake_replay_factory(images):
    """A replay() stand-in returning fixed pictures (compare() logic without a machine)."""
    from vgaemu.trace import ReplayResult, Screendump

    def fake_replay(trace, *, qemu_compat=False, **kw):
        res = ReplayResult(machine=None, ops_run=0)
        res.image = images["final"]
        res.screendumps = [Screendump(n, img) for n, img in images.items() if n != "final"]
        return res
    return fake_replay


FAKE_ORACLE = '''
import sys, numpy as np
sys.path.insert(0, {repo!r})
from vgaemu.vga.display import write_png
args = sys.argv[1:]
trace, out = args[-2], args[-1]
img = np.zeros((4, 6, 3), np.uint8)
write_png(out, img)
img[0, 0] = 255
write_png(out[:-4] + "-mid.png", img)
'''


def test_compare_with_a_fake_oracle(tmp_path, monkeypatch):
    from pathlib import Path

    import sys

    from vgaemu.compare import compare, format_table
    from vgaemu.vga.display import read_image

    oracle = tmp_path / "oracle.py"
    oracle.write_text(FAKE_ORACLE.format(repo=str(Path(__file__).resolve().parents[2])))
    trace = tmp_path / "t1.json"
    trace.write_text('[{"op": "screendump", "name": "mid"}]')
    same = np.zeros((4, 6, 3), np.uint8)
    monkeypatch.setattr(sys.modules["vgaemu.trace"], "replay", _fake_replay_factory({"final": same, "mid": same}))
    rows = compare([trace], out_dir=tmp_path / "out", oracle=oracle, qemu_binary="python3",
                   side_by_side=True)
    assert [(r.label, r.size, r.reference_size, r.differing) for r in rows] == [
        ("t1", (6, 4), (6, 4), 0), ("t1-mid", (6, 4), (6, 4), 1)]
    assert rows[1].diff_path == tmp_path / "out" / "t1-mid.diff.png"
    diff = read_image(str(rows[1].diff_path))
    assert tuple(diff[0, 0]) == (255, 0, 0) and tuple(diff[1, 1]) != (255, 0, 0)
    assert (tmp_path / "out" / "t1-mid.vgaemu.png").exists()
    assert "1 identical, 1 differ" in format_table(rows)
    assert read_image(str(tmp_path / "out" / "t1.side.png")).shape == (4, 6 + 8 + 6, 3)
    assert read_image(str(tmp_path / "out" / "t1-mid.side.png")).shape == (4, 3 * 6 + 2 * 8, 3)


def test_compare_against_goldens(tmp_path, monkeypatch):
    import sys

    from vgaemu.compare import CompareError, compare
    from vgaemu.vga.display import write_png

    gold = tmp_path / "gold"
    gold.mkdir()
    write_png(str(gold / "t2.png"), np.zeros((2, 2, 3), np.uint8))
    trace = tmp_path / "t2.json"
    trace.write_text('[]')
    monkeypatch.setattr(sys.modules["vgaemu.trace"], "replay", _fake_replay_factory({"final": np.zeros((3, 2, 3), np.uint8)}))
    rows = compare([trace], qemu=False, golden_dir=gold, out_dir=tmp_path / "o")
    assert rows[0].differing == 6 and rows[0].size == (2, 3) and rows[0].reference_size == (2, 2)
    assert rows[0].diff_path is None  # sizes differ: no diff image, both pictures written
    assert (tmp_path / "o" / "t2.vgaemu.png").exists() and (tmp_path / "o" / "t2.qemu.png").exists()
    with pytest.raises(CompareError, match="no such trace file"):
        compare([tmp_path / "missing.json"], qemu=False, golden_dir=gold, out_dir=tmp_path / "o")


def test_replay_boots_a_machine_whose_bios_never_ran():
    """The CLI builds its own Machine (machine options) and passes it in: it must start from
    SeaBIOS's screen like QEMU's guest, exactly as a machine replay() creates itself."""
    from vgaemu.machine import Machine

    trace = [{"op": "comment"}]  # sets no mode: the boot screen is the picture
    own = replay(trace)
    given = replay(trace, machine=Machine())
    assert own.image.shape == (400, 720, 3)
    assert (own.image == given.image).all() and own.image.any()
    used = Machine()
    used.bios.call(0x0013)
    assert replay(trace, machine=used).image.shape == (400, 640, 3)  # not booted again


def test_package_replay_is_the_function_of_the_trace_module(tmp_path):
    from pathlib import Path

    import vgaemu
    import vgaemu.trace

    assert vgaemu.replay is vgaemu.trace.replay
    # no submodule of the same name that could shadow the function
    assert not (Path(vgaemu.__file__).parent / "replay.py").exists()
    trace = tmp_path / "t.json"
    trace.write_text('[{"op": "int10", "ax": "0x13"}, {"op": "fill", "addr": "0xA0000", "len": 320, "val": 4}]')
    result = vgaemu.replay(trace)
    assert result.image.shape == (400, 640, 3)
