"""The stream format and the destination's checks: a bad stream or a mismatched machine is
refused with a clear error and never starts a half-loaded guest."""

from __future__ import annotations

import struct

import numpy as np
import pytest

from vgaemu.machine import Machine
from vgaemu.mainloop import RunState
from vgaemu.migration import MigrationError, stream
from vgaemu.migration.vmstate import Section, SectionRegistry, decode_state, encode_state


def saved(tmp_path, **opts) -> tuple[Machine, str]:
    m = Machine(**opts)
    m.write(0x300000, b"hello")
    m.outb(0x3C8, 5)
    for v in (1, 2, 3):
        m.outb(0x3C9, v)
    path = str(tmp_path / "state.vgaemu")
    m.migration.migrate(f"file:{path}", timeout=60)
    return m, path


def load(path, **opts) -> tuple[Machine, object]:
    m = Machine(**opts)
    inc = m.incoming_migration(f"file:{path}")
    return m, inc


def test_save_restore_round_trip(tmp_path):
    src, path = saved(tmp_path)
    dst, inc = load(path)
    inc.run()
    assert dst.read(0x300000, 5) == b"hello"
    assert dst.vga.state.palette[15:18] == bytes([1, 2, 3])
    assert dst.loop.runstate is RunState.RUNNING
    with open(path, "rb") as f:
        assert f.read(8) == stream.MAGIC


def test_ram_size_mismatch_refused_before_touching_memory(tmp_path):
    _, path = saved(tmp_path, memory="64M")
    dst, inc = load(path, memory="128M")
    dst.write(0x300000, b"mine!")
    with pytest.raises(MigrationError, match=r"Length mismatch: pc.ram: 0x4000000 in != 0x8000000"):
        inc.run()
    assert dst.read(0x300000, 5) == b"mine!"
    assert dst.loop.runstate is RunState.INMIGRATE
    assert inc.status == "failed"


def test_missing_or_extra_block_refused(tmp_path):
    _, path = saved(tmp_path, memory="64M,slots=1,maxmem=1G",
                    objects=("memory-backend-ram,id=m1,size=16M",), devices=("pc-dimm,memdev=m1",))
    dst, inc = load(path, memory="64M,slots=1,maxmem=1G")
    with pytest.raises(MigrationError, match='Unknown ramblock "m1"'):
        inc.run()
    _, path2 = saved(tmp_path)
    dst2, inc2 = load(path2, memory="64M,slots=1,maxmem=1G",
                      objects=("memory-backend-ram,id=m1,size=16M",), devices=("pc-dimm,memdev=m1",))
    with pytest.raises(MigrationError, match="has no RAM block m1"):
        inc2.run()


def _corrupt(path, offset, data):
    with open(path, "r+b") as f:
        f.seek(offset)
        f.write(data)


def test_bad_magic_version_truncation_and_garbage(tmp_path):
    _, path = saved(tmp_path)
    raw = open(path, "rb").read()
    cases = {
        "magic": (b"NOTVGAEM" + raw[8:], "not a vgaemu migration stream"),
        "version": (raw[:8] + struct.pack("<I", 99) + raw[12:], "version 99 is not supported"),
        "truncated": (raw[: len(raw) // 2], "ended early"),
        "no end": (raw[:-9], "ended early"),
        "tag": (raw[:-9] + b"\x77", "unknown record type 0x77"),
    }
    for name, (data, msg) in cases.items():
        p = tmp_path / f"{name}.vgaemu"
        p.write_bytes(data)
        dst, inc = load(str(p))
        before = dst.vga.state.palette[:]
        with pytest.raises(MigrationError, match=msg):
            inc.run()
        assert dst.loop.runstate is RunState.INMIGRATE, name
        assert dst.vga.state.palette == before, name  # device state untouched


def test_corrupt_device_section_loads_no_device(tmp_path):
    src, path = saved(tmp_path)
    raw = bytearray(open(path, "rb").read())
    i = raw.rfind(b'"palette"')
    assert i > 0
    raw[i + 1:i + 8] = b"palettX"  # unknown field in the DAC section
    p = tmp_path / "bad.vgaemu"
    p.write_bytes(bytes(raw))
    dst, inc = load(str(p))
    clock_before = dst.clock.now_ns
    dst.clock.now_ns = 12345
    with pytest.raises(MigrationError, match="vga.dac"):
        inc.run()
    assert dst.clock.now_ns == 12345  # the timer section (before it in the stream) did not load
    del clock_before


def test_page_records_zero_pages_and_runs():
    host = np.zeros(16 * 4096, np.uint8)
    host[5 * 4096] = 1
    host[6 * 4096 + 100] = 2
    bufs, normal, zero = stream.pages_record(0, host, np.arange(4, 9))
    assert (normal, zero) == (2, 3)
    body = b"".join(bytes(b) for b in bufs)
    assert len(body) == 7 + 5 * 4 + 5 + 2 * 4096

    class Chan:
        def __init__(self, data):
            self.data, self.pos = data, 0

        def read_exact(self, n):
            out = self.data[self.pos:self.pos + n]
            if len(out) < n:
                raise MigrationError("ended early")
            self.pos += n
            return out

        def readinto_exact(self, view):
            view[:] = memoryview(self.read_exact(len(view)))

        def readinto_views(self, views):
            for v in views:
                self.readinto_exact(v)

        def read_some(self, view):  # a short read, as a socket gives
            out = self.data[self.pos:self.pos + min(len(view), 7)]
            self.pos += len(out)
            view[:len(out)] = out
            return len(out)

    class Block:
        idstr, used_length = "b", 16 * 4096

        def __init__(self):
            self.host = np.full(16 * 4096, 0xEE, np.uint8)

    blk = Block()
    r = stream.StreamReader(Chan(body))
    assert r.tag() == stream.TAG_PAGES
    assert r.read_pages_into([blk]) == (2, 3)
    assert np.array_equal(blk.host[4 * 4096:9 * 4096], host[4 * 4096:9 * 4096])
    assert (blk.host[:4 * 4096] == 0xEE).all()


def test_vmstate_registry_checks_everything_first():
    loaded = []
    reg = SectionRegistry()
    reg.register(Section("a", 1, lambda: {"x": 1}, lambda s, v: loaded.append(("a", s))))
    reg.register(Section("b", 2, lambda: {"y": b"\x00\x01"}, lambda s, v: loaded.append(("b", s)),
                         check=lambda s, v: (_ for _ in ()).throw(MigrationError("bad b"))
                         if s["y"] != b"\x00\x01" else None))
    saved = reg.save_all()
    reg.load_all(saved)
    assert loaded == [("a", {"x": 1}), ("b", {"y": b"\x00\x01"})]
    loaded.clear()
    bad = [saved[0], ("b", 2, encode_state({"y": b"zz"}))]
    with pytest.raises(MigrationError, match="bad b"):
        reg.load_all(bad)
    assert loaded == []
    with pytest.raises(MigrationError, match="version 3"):
        reg.load_all([saved[0], ("b", 3, saved[1][2])])
    with pytest.raises(MigrationError, match="unknown device state section 'c'"):
        reg.load_all(saved + [("c", 1, b"{}")])
    with pytest.raises(MigrationError, match="no device state for b"):
        reg.load_all(saved[:1])
    with pytest.raises(MigrationError, match="already registered"):
        reg.register(Section("a", 1, dict, lambda s, v: None))
    assert decode_state(encode_state({"k": [1, b"x"]}), "t") == {"k": [1, b"x"]}


def test_machine_sections_round_trip_between_machines():
    a, b = Machine(), Machine()
    a.bios.int10(__import__("vgaemu.bios", fromlist=["Registers"]).Registers(ax=0x0013))
    a.clock.advance(10_000)
    b.vmstate.load_all(a.vmstate.save_all())
    for name in a.vmstate.names():
        sa = [s for s in a.vmstate if s.name == name][0].save()
        sb = [s for s in b.vmstate if s.name == name][0].save()
        # plane_updated is a redraw hint: after a load the display must assume every plane
        # changed (the font may be new), so it differs by design.
        sa.pop("plane_updated", None)
        sb.pop("plane_updated", None)
        assert sa == sb, name
    assert set(a.vmstate.names()) >= {"timer", "vga", "vga.dac", "vga.vbe", "vgabios", "dma-engine"}


def _stream_with(tmp_path, section: str, path: list, value) -> str:
    """A stream whose ``section`` has ``value`` at ``path``: what a corrupt (bit-flipped
    digit) or hand-made stream carries, still well-formed JSON with the right field kinds."""
    src = Machine()
    saved_states = src.vmstate.save_all()
    out = []
    for name, version, blob in saved_states:
        if name == section:
            state = decode_state(blob, name)
            obj = state
            for key in path[:-1]:
                obj = obj[key]
            obj[path[-1]] = value
            blob = encode_state(state)
        out.append((name, version, blob))
    src.vmstate.save_all = lambda: out
    p = str(tmp_path / "state.vgaemu")
    src.migration.migrate(f"file:{p}", timeout=60)
    return p


@pytest.mark.parametrize("section, path, value, msg", [
    ("vga", ["cr_index"], 256, r"'cr_index' = 256 does not fit \(expected 0..255\)"),
    ("vga", ["sr_index"], -1, "'sr_index' = -1"),
    ("vga", ["gr_index"], 1 << 64, "'gr_index'"),
    ("vga", ["ar_index"], 0x40, "'ar_index'"),
    ("vga", ["latch"], -1, "'latch'"),
    ("vga.dac", ["dac_read_index"], 256, "'dac_read_index'"),
    ("vga.dac", ["dac_sub_index"], 3, r"'dac_sub_index' = 3 does not fit \(expected 0..2\)"),
    ("vga.dac", ["pel_mask"], 1 << 64, "'pel_mask'"),
    ("vga.vbe", ["vbe_regs", 1], 1 << 32, r"'vbe_regs\[1\]'"),
    ("vga.vbe", ["vbe_line_offset"], 1 << 64, "'vbe_line_offset'"),
    ("vga.vbe", ["bank_offset"], -1, "'bank_offset' = -1 does not fit"),
    ("vga.vbe", ["bank_offset"], 1 << 64, "'bank_offset'"),
    ("vga.vbe", ["bank_offset"], 0x8000, "in steps of 65536"),
    ("vga.vbe", ["vbe_bank_mask"], 0xFFFF, "'vbe_bank_mask'"),
])
def test_out_of_range_device_field_refused_before_loading(tmp_path, section, path, value, msg):
    """Each field is checked against the values the device can hold, with the others, before
    any section loads: an index register of 256 was loaded and later raised IndexError in
    the port handler, a pel_mask of 2^64 an OverflowError in the display, a bank offset of
    -1 a RegionError half-way through loading (earlier sections already loaded)."""
    p = _stream_with(tmp_path, section, path, value)
    dst, inc = load(p)
    dst.clock.now_ns = 12345
    before = (bytes(dst.vga.state.cr), dst.vga.state.cr_index, bytes(dst.vga.state.palette))
    with pytest.raises(MigrationError, match=msg):
        inc.run()
    assert dst.loop.runstate is RunState.INMIGRATE
    assert dst.clock.now_ns == 12345  # the timer section did not load either
    assert (bytes(dst.vga.state.cr), dst.vga.state.cr_index,
            bytes(dst.vga.state.palette)) == before


def test_enabled_vbe_mode_the_vga_cannot_set_is_refused(tmp_path):
    """An enabled 65535x65535 mode (which no guest write can leave: vbe_fixup_regs clamps
    it) was loaded, and the display then asked numpy for 16 GiB."""
    src = Machine()
    regs = list(src.vga.state.vbe_regs)
    regs[1:5] = [0xFFF8, 0xFFFF, 32, 0x41]
    out = [(n, v, encode_state({**decode_state(b, n), "vbe_regs": regs}) if n == "vga.vbe" else b)
           for n, v, b in src.vmstate.save_all()]
    src.vmstate.save_all = lambda: out
    p = str(tmp_path / "state.vgaemu")
    src.migration.migrate(f"file:{p}", timeout=60)
    dst, inc = load(p)
    with pytest.raises(MigrationError, match="vga.vbe.*is not one this VGA can set"):
        inc.run()
    assert not dst.vga.state.vbe_enabled()


def test_every_bios_mode_passes_the_device_checks():
    """The range and VBE checks refuse nothing a guest can set: every mode the BIOS lists,
    with the last bank selected, checks clean on the machine's own state."""
    from vgaemu.guest import Guest

    m = Machine()
    g = Guest(m)
    for mode in m.bios.list_modes():
        if mode >= 0x100:
            g.int10(ax=0x4F02, bx=mode)  # banked (no LFB): the bank register matters
            g.int10(ax=0x4F05, bx=0, dx=m.vga.state.vbe_bank_mask)
        else:
            g.set_mode(mode)
        for name, version, blob in m.vmstate.save_all():
            section = next(s for s in m.vmstate if s.name == name)
            if section.check is not None:
                section.check(decode_state(blob, name), version)
