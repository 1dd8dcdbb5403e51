"""The scripted-guest API: what main(guest) can do, how runs stop, and what a recording holds."""

import textwrap

import numpy as np
import pytest

from vgaemu.errors import GuestError
from vgaemu.guest import FRAME_US, FrameInfo, Guest, GuestExit, load_script, run_guest
from vgaemu.machine import Machine
from vgaemu.trace import TraceRecorder

RAM = 0x100000


class Sink:
    def __init__(self, keys=()):
        self.infos = []
        self._keys = list(keys)

    def frame(self, machine, info):
        assert isinstance(info, FrameInfo)
        self.infos.append(info)

    def keys(self):
        k, self._keys = self._keys, []
        return k


@pytest.fixture
def guest():
    return Guest(Machine())


def test_memory_access_through_the_address_space(guest):
    guest.write(RAM, b"\x01\x02\x03\x04")
    assert guest.read(RAM, 4) == b"\x01\x02\x03\x04"
    guest.writew(RAM, 0xBEEF)
    guest.writel(RAM + 4, 0x12345678)
    assert guest.readw(RAM) == 0xBEEF and guest.readl(RAM + 4) == 0x12345678
    assert guest.readb(RAM + 7) == 0x12
    guest.write(RAM + 16, np.array([[1, 2], [3, 4]], dtype="<u2"))   # any numpy array, C order
    assert guest.read(RAM + 16, 8) == bytes([1, 0, 2, 0, 3, 0, 4, 0])
    guest.fill(RAM + 32, 8, 0xA1B2, unit=2)
    assert guest.read(RAM + 32, 8) == bytes([0xB2, 0xA1] * 4)


def test_bad_addresses_raise_guest_error_naming_the_address(guest):
    with pytest.raises(GuestError, match="write of 4 byte.*address 0xF0000000.*DECODE_ERROR"):
        guest.write(0xF0000000, b"abcd")
    with pytest.raises(GuestError, match="0xF0000010"):
        guest.readl(0xF0000010)
    with pytest.raises(GuestError, match="unit"):
        guest.fill(RAM, 3, 0, unit=2)


def test_port_io_reaches_the_vga(guest):
    guest.outb(0x3C8, 5)
    for v in (10, 20, 30):
        guest.outb(0x3C9, v)
    guest.outb(0x3C7, 5)
    assert [guest.inb(0x3C9) for _ in range(3)] == [10, 20, 30]
    guest.outw(0x3C4, 0x0F02)  # index + data in one OUT, as DOS programs do
    assert guest.machine.vga.state.sr[2] == 0x0F


def test_bios_services(guest):
    guest.set_mode(0x13)
    assert guest.int10(ax=0x0F00).al == 0x13
    guest.set_mode(0x03)
    guest.set_cursor(5, 17)
    assert guest.int10(ax=0x0300).dx == (5 << 8) | 17
    guest.set_cursor_shape(6, 7)
    assert guest.int10(ax=0x0300).cx == 0x0607
    guest.set_palette(1, 63, 0, 0)
    assert bytes(guest.machine.vga.state.palette[3:6]) == bytes([63, 0, 0])
    guest.set_dac(2, [[1, 2, 3], [4, 5, 6]])
    assert bytes(guest.machine.vga.state.palette[6:12]) == bytes([1, 2, 3, 4, 5, 6])
    guest.load_font(8)  # 80x50
    assert guest.int10(ax=0x1130, bx=0).cx == 8
    guest.vbe_set_mode(0x144)
    assert guest.machine.vga.update_display().width == 1024
    with pytest.raises(GuestError, match="int10 needs ax"):
        guest.int10(bx=1)


def test_set_mode_refuses_a_mode_the_bios_does_not_have(guest):
    """INT 10h AH=00h ignores an unknown mode; guest.set_mode names the mistake instead, as
    vbe_set_mode does, and leaves the machine as it was."""
    guest.set_mode(0x13)
    guest.set_mode(0x93)                          # bit 7: keep video memory
    assert guest.int10(ax=0x0F00).al & 0x7F == 0x13
    with pytest.raises(GuestError, match=r"mode 0x31 not set: the VGA BIOS has no such standard mode"):
        guest.set_mode(0x31)
    with pytest.raises(GuestError, match=r"set_mode\(280\).*use vbe_set_mode\(0x118\)"):
        guest.set_mode(0x118)
    with pytest.raises(GuestError, match="takes a mode 0x00-0x7F"):
        guest.set_mode(-1)
    assert guest.int10(ax=0x0F00).al & 0x7F == 0x13


def test_generator_main_runs_one_frame_per_yield_until_max_frames():
    seen = []

    def main(guest):
        guest.set_mode(0x13)
        while True:
            seen.append(guest.frame_index)
            yield

    sink = Sink()
    m = Machine()
    t0 = m.clock.now_ns
    res = run_guest(m, main, sink, max_frames=5)
    assert res.frames == 5 and res.stopped == "max_frames"
    assert [i.index for i in sink.infos] == [1, 2, 3, 4, 5]
    assert seen == [0, 1, 2, 3, 4]
    assert m.clock.now_ns - t0 == 5 * FRAME_US * 1000


def test_plain_main_gets_a_final_frame_and_guest_exit_is_not_swallowed():
    def main(guest):
        guest.set_mode(0x13)
        guest.fill(0xA0000, 320 * 200, 4)

    sink = Sink()
    res = run_guest(Machine(), main, sink)
    assert res.frames == 1 and res.stopped == "returned"
    assert sink.infos[0].stats.full

    def stubborn(guest):
        while True:
            try:
                guest.frame()
            except Exception:  # a guest's own catch-all must not keep it running
                pass

    assert run_guest(Machine(), stubborn, Sink(), max_frames=3).frames == 3


def test_keys_come_from_the_sink():
    got = []

    def main(guest):
        got.extend(guest.keys())
        yield

    run_guest(Machine(), main, Sink(keys=[97, 98]), max_frames=1)
    assert got == [97, 98]


def test_sink_can_end_the_run():
    class Quitter(Sink):
        def frame(self, machine, info):
            if info.index == 2:
                raise GuestExit("window closed")

    def main(guest):
        while True:
            yield

    res = run_guest(Machine(), main, Quitter())
    assert res.frames == 2 and res.stopped == "quit"


def write_script(tmp_path, body, name="g.py"):
    p = tmp_path / name
    p.write_text(textwrap.dedent(body))
    return p


def test_load_script_errors_name_file_and_line(tmp_path):
    with pytest.raises(GuestError, match="not found"):
        load_script(tmp_path / "missing.py")
    with pytest.raises(GuestError, match=r"g\.py:3: syntax error"):
        load_script(write_script(tmp_path, "x = 1\n\ndef main(guest) pass\n"))
    with pytest.raises(GuestError, match="defines no main"):
        load_script(write_script(tmp_path, "x = 1\n"))
    with pytest.raises(GuestError, match=r"g\.py:2: ZeroDivisionError"):
        load_script(write_script(tmp_path, "x = 1\ny = 1 / 0\n"))
    main = load_script(write_script(tmp_path, """\
        def main(guest):
            guest.set_mode(0x13)
            guest.writeb(0xF0000000, 1)
    """))
    with pytest.raises(GuestError, match=r"g\.py:3: .*0xF0000000"):
        run_guest(Machine(), main, Sink())
    main = load_script(write_script(tmp_path, """\
        def main(guest):
            yield
            raise KeyError("boom")
    """))
    with pytest.raises(GuestError, match=r"g\.py:3: KeyError: 'boom'"):
        run_guest(Machine(), main, Sink())


def test_recording_holds_what_reaches_the_picture():
    rec = TraceRecorder()

    def main(guest):
        guest.set_mode(0x13)                 # int10
        guest.outb(0x3C8, 1)                 # ports
        guest.inb(0x3DA)
        guest.writeb(0xA0000, 7)             # legacy window: addr form
        guest.write(RAM, b"\x01" * 64)       # plain RAM: no effect on the picture, not recorded
        guest.readb(0xA0000)                 # a latch load: a comment (no read op in the format)
        yield
        guest.vbe_set_mode(0x144)
        guest.writel(guest.lfb_base + 8, 0x00FF00FF)     # lfb form
        guest.dma.copy(RAM, guest.lfb_base + 4096, 64)   # DMA: recorded as the write it caused
        guest.dma.fill(guest.lfb_base, 16, 0x11223344, unit=4)

    run_guest(Machine(), main, Sink(), recorder=rec)
    ops = rec.ops
    kinds = [o["op"] for o in ops]
    assert kinds[:6] == ["int10", "outb", "inb", "writeb", "comment", "int"]
    assert ops[0]["ax"] == "0x13" and ops[3]["addr"] == "0xA0000"
    assert ops[4]["readb"] == "0xA0000"
    assert ops[5] == {"op": "int", "num": "0x15", "ax": "0x8600", "cx": "0x0", "dx": hex(FRAME_US).upper().replace("X", "x")}
    assert {"op": "writel", "lfb": "0x8", "val": "0xFF00FF"} in ops
    assert {"op": "write", "lfb": "0x1000", "data": "01" * 64} in ops
    assert {"op": "fill", "lfb": "0x0", "len": "0x10", "val": "0x11223344", "unit": 4} in ops
    assert not any(o.get("addr") == hex(RAM) for o in ops)


def test_bad_ports_and_sink_failures():
    g = Guest(Machine())
    with pytest.raises(GuestError, match="port 65536"):
        g.outb(0x10000, 1)
    with pytest.raises(GuestError, match="outside the I/O space"):
        g.inl(0xFFFE)

    class Broken(Sink):
        def frame(self, machine, info):
            raise RuntimeError("display gone")

    def main(guest):
        while True:
            try:
                guest.frame()
            except Exception:
                pass

    with pytest.raises(RuntimeError, match="display gone"):   # the front end's error, unwrapped
        run_guest(Machine(), main, Broken())


def test_numpy_integers_work_wherever_ints_do(guest):
    """A guest computing with numpy passes numpy integers: writeb(addr, arr[i]) raised
    AttributeError ('numpy.int64' object has no attribute 'to_bytes'), outb with an
    np.int8 value an OverflowError, and an np.uint16 port was 'outside the I/O space'."""
    vals = np.array([0x1A2B3C4D, -1], dtype=np.int64)
    guest.writeb(np.uint32(RAM), vals[0])
    guest.writew(np.int64(RAM + 2), vals[0])
    guest.writel(RAM + 4, np.uint32(0xDEADBEEF))
    assert guest.read(np.int64(RAM), np.int64(8)) == bytes.fromhex("4d004d3cefbeadde")
    assert guest.readl(np.uint64(RAM + 4)) == 0xDEADBEEF
    guest.fill(np.int32(RAM), np.int64(4), np.int8(-1))
    assert guest.readl(RAM) == 0xFFFFFFFF
    guest.outb(np.uint16(0x3C8), np.int8(7))
    guest.outb(0x3C9, np.uint8(10))
    guest.outb(0x3C9, vals[1])
    guest.outb(0x3C9, 5)
    assert bytes(guest.machine.vga.state.palette[21:24]) == bytes([10, 0xFF, 5])
    guest.set_mode(np.uint8(0x13))
    guest.set_palette(np.int64(1), *np.array([1, 2, 3]))
    assert bytes(guest.machine.vga.state.palette[3:6]) == bytes([1, 2, 3])


@pytest.mark.parametrize("call, match", [
    (lambda g: g.writeb(RAM, 1.5), r"writeb: value must be an integer, got 1\.5"),
    (lambda g: g.outb(0x3C8, None), "outb: value must be an integer, got None"),
    (lambda g: g.writel(None, 1), "writel: address must be an integer"),
    (lambda g: g.read(1.5, 4), "read: address must be an integer"),
    (lambda g: g.read(RAM, "4"), "read: length must be an integer"),
    (lambda g: g.fill(RAM, None, 0), "fill: length must be an integer"),
    (lambda g: g.fill(RAM, 4, 1.5), "fill: value must be an integer"),
    (lambda g: g.write(RAM, 5), "write at 0x100000: data must be bytes-like"),
    (lambda g: g.set_mode(1.5), "set_mode: mode must be an integer"),
    (lambda g: g.vbe_set_mode("0x118"), "vbe_set_mode: mode must be an integer"),
    (lambda g: g.set_cursor(1, [2]), "set_cursor: col must be an integer"),
    (lambda g: g.set_palette(1, 2, 3, 4.0), "set_palette: b must be an integer"),
    (lambda g: g.set_dac(0, -1), r"set_dac: colours must be \(N, 3\) integers"),
    (lambda g: g.set_dac(0, [[1, 2, 1 << 70]]), "set_dac: colours"),
    (lambda g: g.int10(ax="0x13"), "int10: ax must be an integer"),
])
def test_non_integer_arguments_are_guest_errors(guest, call, match):
    """What is not an integer is a GuestError naming the call and argument, where it was a
    TypeError, ValueError or OverflowError from inside the call (e.g. 'Unknown format code
    'X' for object of type float' from the error message of read)."""
    with pytest.raises(GuestError, match=match):
        call(guest)
