"""pytest plugin: golden-screenshot fixtures for VGA guests (registered as entry point ``pytest11``).

* ``pytest --update-goldens`` rewrites the golden PNGs instead of comparing with them.
* ``assert_screenshot(image_or_vga, name)`` compares a picture (an (H, W, 3) uint8 array, a
  VGADisplay, a VGA -- anything with a ``surface``) with ``tests/golden/<name>.png`` exactly.
  On a mismatch it writes ``<name>.actual.png`` and ``<name>.diff.png`` under
  ``tests/golden/failures/`` and fails with the number of differing pixels.
* ``guest_screenshot(main_or_script, name, frames=N, **machine_options)`` builds a Machine,
  runs a guest (a ``main(guest)`` function or a guest script) headless to frame N and asserts
  that frame matches ``tests/golden/<name>.png`` the same way.

Also here, for tests that program the VGA register by register: the standard IBM VGA mode
register sets (:data:`VGA_MODE_REGISTERS`) as port writes in the oracle trace format (so the
same list of ops can run here and in real QEMU through ``shared/oracle/oracle.py``), and two
harnesses that run such op lists: :class:`MachineVGA` (a real ``vgaemu.Machine``: the tests'
default) and :class:`PortLevelVGA` (a minimal stand-in with no guestmem, for display tests in
isolation).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from .golden import compare_with_golden

GOLDEN_DIR_NAME = "golden"


def pytest_addoption(parser):
    group = parser.getgroup("vgaemu")
    group.addoption("--update-goldens", action="store_true", default=False,
                    help="rewrite tests/golden/*.png from the current output instead of comparing")


def _golden_dir(config) -> Path:
    return Path(str(config.rootpath)) / "tests" / GOLDEN_DIR_NAME


@pytest.fixture
def update_goldens(request) -> bool:
    return bool(request.config.getoption("--update-goldens"))


@pytest.fixture
def golden_dir(request) -> Path:
    return _golden_dir(request.config)


@pytest.fixture
def assert_screenshot(request):
    """``assert_screenshot(image_or_vga, name)``: exact comparison with tests/golden/<name>.png."""
    update = bool(request.config.getoption("--update-goldens"))
    gdir = _golden_dir(request.config)

    def check(image, name: str) -> None:
        result = compare_with_golden(image, gdir / f"{name}.png", actual_dir=gdir / "failures",
                                     update=update)
        if not result.matches:
            pytest.fail(result.message(name), pytrace=False)

    return check


@pytest.fixture
def guest_screenshot(request, assert_screenshot):
    """``guest_screenshot(main_or_script, name, *, frames=1, machine=None, **machine_options)``:
    build a ``Machine(**machine_options)`` (or use ``machine``), run the guest headless to
    frame ``frames`` (or until it returns) and assert that frame equals
    ``tests/golden/<name>.png`` exactly, as ``assert_screenshot`` does (``--update-goldens``
    rewrites it; a mismatch writes ``<name>.actual.png`` and ``<name>.diff.png`` under
    ``tests/golden/failures/`` and fails with the number of differing pixels).
    Returns the ``HeadlessResult`` (frames run, the last frame's pixels).

    The guest runs through ``run_guest`` and the headless front end, so the picture is the
    one the window and ``vgaemu run --headless --screenshot`` show for the same frame.
    """
    def run(main, name: str, *, frames: int = 1, machine=None, **machine_options):
        from .frontends.headless import run_headless

        if machine is None:
            from .machine import Machine

            machine = Machine(**machine_options)
        elif machine_options:
            raise TypeError(f"give machine or machine options, not both ({sorted(machine_options)})")
        result = run_headless(machine, main, frames=frames)
        if result.surface is None:
            pytest.fail(f"{name}: the guest ran no frame, so there is no screenshot", pytrace=False)
        assert_screenshot(result.surface, name)
        return result

    return run


# --------------------------------------------------------------------------------------
# Register programs (oracle trace ops) for the standard VGA modes, after IBM's VGA BIOS
# tables (the same values SeaVGABIOS programs).

def _mode(misc, seq, crtc, attr, gr):
    return {"misc": misc, "seq": seq, "crtc": crtc, "attr": attr, "gr": gr}


_ATTR_TEXT = [0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x14, 0x07,
              0x38, 0x39, 0x3A, 0x3B, 0x3C, 0x3D, 0x3E, 0x3F, 0x0C, 0x00, 0x0F, 0x08, 0x00]
_ATTR_EGA16 = [0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x14, 0x07,
               0x38, 0x39, 0x3A, 0x3B, 0x3C, 0x3D, 0x3E, 0x3F, 0x01, 0x00, 0x0F, 0x00, 0x00]
_ATTR_LOW16 = [0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07,
               0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x01, 0x00, 0x0F, 0x00, 0x00]
_GR_TEXT = [0x00, 0x00, 0x00, 0x00, 0x00, 0x10, 0x0E, 0x00, 0xFF]
_GR_PLANAR = [0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x05, 0x0F, 0xFF]

VGA_MODE_REGISTERS = {
    0x01: _mode(0x67, [0x03, 0x08, 0x03, 0x00, 0x02],
                [0x2D, 0x27, 0x28, 0x90, 0x2B, 0xA0, 0xBF, 0x1F, 0x00, 0x4F, 0x0D, 0x0E, 0x00,
                 0x00, 0x00, 0x00, 0x9C, 0x8E, 0x8F, 0x14, 0x1F, 0x96, 0xB9, 0xA3, 0xFF],
                _ATTR_TEXT, _GR_TEXT),
    0x03: _mode(0x67, [0x03, 0x00, 0x03, 0x00, 0x02],
                [0x5F, 0x4F, 0x50, 0x82, 0x55, 0x81, 0xBF, 0x1F, 0x00, 0x4F, 0x0D, 0x0E, 0x00,
                 0x00, 0x00, 0x00, 0x9C, 0x8E, 0x8F, 0x28, 0x1F, 0x96, 0xB9, 0xA3, 0xFF],
                _ATTR_TEXT, _GR_TEXT),
    0x04: _mode(0x63, [0x03, 0x09, 0x03, 0x00, 0x02],
                [0x2D, 0x27, 0x28, 0x90, 0x2B, 0x80, 0xBF, 0x1F, 0x00, 0xC1, 0x00, 0x00, 0x00,
                 0x00, 0x00, 0x00, 0x9C, 0x8E, 0x8F, 0x14, 0x00, 0x96, 0xB9, 0xA2, 0xFF],
                [0x00, 0x13, 0x15, 0x17, 0x02, 0x04, 0x06, 0x07, 0x10, 0x11, 0x12, 0x13, 0x14,
                 0x15, 0x16, 0x17, 0x01, 0x00, 0x03, 0x00, 0x00],
                [0x00, 0x00, 0x00, 0x00, 0x00, 0x30, 0x0F, 0x00, 0xFF]),
    0x0D: _mode(0x63, [0x03, 0x09, 0x0F, 0x00, 0x06],
                [0x2D, 0x27, 0x28, 0x90, 0x2B, 0x80, 0xBF, 0x1F, 0x00, 0xC0, 0x00, 0x00, 0x00,
                 0x00, 0x00, 0x00, 0x9C, 0x8E, 0x8F, 0x14, 0x00, 0x96, 0xB9, 0xE3, 0xFF],
                _ATTR_LOW16, _GR_PLANAR),
    0x10: _mode(0xA3, [0x03, 0x01, 0x0F, 0x00, 0x06],
                [0x5F, 0x4F, 0x50, 0x82, 0x54, 0x80, 0xBF, 0x1F, 0x00, 0x40, 0x00, 0x00, 0x00,
                 0x00, 0x00, 0x00, 0x83, 0x85, 0x5D, 0x28, 0x0F, 0x63, 0xBA, 0xE3, 0xFF],
                _ATTR_EGA16, _GR_PLANAR),
    0x12: _mode(0xE3, [0x03, 0x01, 0x0F, 0x00, 0x06],
                [0x5F, 0x4F, 0x50, 0x82, 0x54, 0x80, 0x0B, 0x3E, 0x00, 0x40, 0x00, 0x00, 0x00,
                 0x00, 0x00, 0x00, 0xEA, 0x8C, 0xDF, 0x28, 0x00, 0xE7, 0x04, 0xE3, 0xFF],
                _ATTR_EGA16, _GR_PLANAR),
    0x13: _mode(0x63, [0x03, 0x01, 0x0F, 0x00, 0x0E],
                [0x5F, 0x4F, 0x50, 0x82, 0x54, 0x80, 0xBF, 0x1F, 0x00, 0x41, 0x00, 0x00, 0x00,
                 0x00, 0x00, 0x00, 0x9C, 0x8E, 0x8F, 0x28, 0x40, 0x96, 0xB9, 0xA3, 0xFF],
                list(range(16)) + [0x41, 0x00, 0x0F, 0x00, 0x00],
                [0x00, 0x00, 0x00, 0x00, 0x00, 0x40, 0x05, 0x0F, 0xFF]),
}
# Mode X: 320x240 unchained 256-colour (Michael Abrash's tweak of mode 13h).
VGA_MODE_REGISTERS["X"] = _mode(
    0xE3, [0x03, 0x01, 0x0F, 0x00, 0x06],
    [0x5F, 0x4F, 0x50, 0x82, 0x54, 0x80, 0x0D, 0x3E, 0x00, 0x41, 0x00, 0x00, 0x00, 0x00, 0x00,
     0x00, 0xEA, 0xAC, 0xDF, 0x28, 0x00, 0xE7, 0x06, 0xE3, 0xFF],
    list(range(16)) + [0x41, 0x00, 0x0F, 0x00, 0x00],
    [0x00, 0x00, 0x00, 0x00, 0x00, 0x40, 0x05, 0x0F, 0xFF])


def outb(port: int, val: int) -> dict:
    return {"op": "outb", "port": port, "val": val & 0xFF}


def outw(port: int, val: int) -> dict:
    return {"op": "outw", "port": port, "val": val & 0xFFFF}


def mode_ops(mode) -> list[dict]:
    """Port writes that program one standard mode, register by register (no memory clear)."""
    t = VGA_MODE_REGISTERS[mode]
    ops = [outb(0x3C2, t["misc"])]
    for i, v in enumerate(t["seq"]):
        ops += [outb(0x3C4, i), outb(0x3C5, v)]
    ops += [outb(0x3D4, 0x11), outb(0x3D5, 0x00)]  # unlock CR0-CR7
    for i, v in enumerate(t["crtc"]):
        ops += [outb(0x3D4, i), outb(0x3D5, v)]
    for i, v in enumerate(t["gr"]):
        ops += [outb(0x3CE, i), outb(0x3CF, v)]
    ops.append({"op": "inb", "port": 0x3DA})
    for i, v in enumerate(t["attr"]):
        ops += [outb(0x3C0, i), outb(0x3C0, v)]
    ops.append(outb(0x3C0, 0x20))  # palette address source on: the picture is shown
    return ops


def dac_ops(first: int, rgb6) -> list[dict]:
    """DAC writes: index ``first`` then 6-bit R, G, B triples."""
    ops = [outb(0x3C8, first)]
    for r, g, b in rgb6:
        ops += [outb(0x3C9, r), outb(0x3C9, g), outb(0x3C9, b)]
    return ops


def ega_palette() -> list[tuple[int, int, int]]:
    """The 64 EGA colours (rgbRGB) as 6-bit DAC triples: the VGA BIOS's 16-colour DAC."""
    out = []
    for i in range(64):
        r = 42 * ((i >> 2) & 1) + 21 * ((i >> 5) & 1)
        g = 42 * ((i >> 1) & 1) + 21 * ((i >> 4) & 1)
        b = 42 * (i & 1) + 21 * ((i >> 3) & 1)
        out.append((r, g, b))
    return out


def vbe_ops(width: int, height: int, bpp: int, *, noclear: bool = False,
            virt_width: int | None = None, x: int = 0, y: int = 0,
            dac8: bool = False) -> list[dict]:
    """Bochs DISPI writes for a linear VBE mode (ports 0x1CE/0x1CF, 16-bit)."""
    ops = []

    def w(i, v):
        ops.extend([outw(0x1CE, i), outw(0x1CF, v)])

    w(4, 0)
    w(1, width)
    w(2, height)
    w(3, bpp)
    w(4, 0x41 | (0x80 if noclear else 0) | (0x20 if dac8 else 0))
    if virt_width is not None:
        w(6, virt_width)
    if x or y:
        w(8, x)
        w(9, y)
    return ops


def font_load_ops(font: bytes, height: int, *, base: int = 0) -> list[dict]:
    """Load a font into plane 2 (32-byte glyph slots at planar ``base``) the way a VGA BIOS
    does: sequential planar access to plane 2 only, then back to odd/even text access."""
    ops = [outb(0x3C4, 2), outb(0x3C5, 0x04), outb(0x3C4, 4), outb(0x3C5, 0x07),
           outb(0x3CE, 4), outb(0x3CF, 0x02), outb(0x3CE, 5), outb(0x3CF, 0x00),
           outb(0x3CE, 6), outb(0x3CF, 0x04)]
    data = bytearray(256 * 32)
    for c in range(256):
        data[c * 32:c * 32 + height] = font[c * height:(c + 1) * height]
    ops.append({"op": "write", "addr": 0xA0000 + base, "data": bytes(data).hex()})
    ops += [outb(0x3C4, 2), outb(0x3C5, 0x03), outb(0x3C4, 4), outb(0x3C5, 0x02),
            outb(0x3CE, 4), outb(0x3CF, 0x00), outb(0x3CE, 5), outb(0x3CF, 0x10),
            outb(0x3CE, 6), outb(0x3CF, 0x0E)]
    return ops


class _Snapshot:
    __slots__ = ("start", "end", "pages")

    def __init__(self, start, end, pages):
        self.start, self.end, self.pages = start, end, pages


class _PageBitmap:
    """A VGA-client dirty bitmap over VRAM pages with guestmem's snapshot interface."""

    def __init__(self, npages: int):
        import numpy as np

        self.bits = np.zeros(npages, dtype=bool)

    def set_dirty_range(self, start: int, length: int) -> None:
        self.bits[start >> 12:(start + length + 4095) >> 12] = True

    def snapshot_and_clear_dirty(self, start: int, length: int, client) -> _Snapshot:
        first, last = start >> 12, (start + length + 4095) >> 12
        pages = self.bits[first:last].copy()
        self.bits[first:last] = False
        return _Snapshot(first << 12, last << 12, pages)


class PortLevelVGA:
    """A stand-in for the machine's VGA port and memory side, for display tests that must run
    before (or without) ``vgaemu.Machine``: it applies oracle trace ops (``outb/outw/inb``,
    ``writeb/write/fill`` in the legacy window or ``lfb``) to a :class:`VGAState` and VRAM,
    marking the VGA dirty pages as guestmem would. It implements only what register-level
    test programs use: the index/data registers, the DAC, Bochs DISPI, and memory writes in
    chain-4, odd/even and planar write mode 0 (map mask only, no latches or logic ops).
    """

    def __init__(self, vram_size: int = 16 << 20, *, qemu_compat: bool = False):
        import numpy as np

        from .clock import VirtualClock
        from .vga.display import VGADisplay
        from .vga.state import VGAState

        self.vram = np.zeros(vram_size, dtype=np.uint8)
        self.dirty = _PageBitmap(vram_size >> 12)
        self.state = VGAState(vram=self.vram)
        self.state.vbe_regs[0] = 0xB0C5
        self.ram_block = type("RAMBlockRef", (), {"offset": 0})()
        self.clock = VirtualClock()
        self.display = VGADisplay(self.state, self, self.clock, qemu_compat=qemu_compat)
        self.vbe_index = 0

    # the MemoryRegion surface the display uses
    def snapshot_and_clear_dirty(self, addr, size, client):
        return self.dirty.snapshot_and_clear_dirty(addr, size, client)

    def lfb_write(self, offset: int, data: bytes) -> None:
        import numpy as np

        self.vram[offset:offset + len(data)] = np.frombuffer(bytes(data), dtype=np.uint8)
        self.dirty.set_dirty_range(offset, len(data))

    def run(self, ops) -> None:
        for op in ops:
            getattr(self, "_op_" + op["op"])(op)

    def frame(self):
        self.clock.advance_frame()
        return self.display.update_display()

    # ports
    def _op_comment(self, op):
        pass

    def _op_inb(self, op):
        if int(op["port"]) in (0x3DA, 0x3BA):
            self.state.ar_flip_flop = 0

    def _op_outw(self, op):
        port, val = int(op["port"]), int(op["val"])
        if port == 0x1CE:
            self.vbe_index = val
        elif port == 0x1CF:
            self._vbe_write(self.vbe_index, val)
        else:
            self._op_outb({"port": port, "val": val & 0xFF})
            self._op_outb({"port": port + 1, "val": val >> 8})

    def _op_outb(self, op):
        s = self.state
        port, val = int(op["port"]), int(op["val"]) & 0xFF
        if port == 0x3C0:
            if s.ar_flip_flop == 0:
                s.ar_index = val & 0x3F
            elif (s.ar_index & 0x1F) < 21:
                s.ar[s.ar_index & 0x1F] = val
            s.ar_flip_flop ^= 1
        elif port == 0x3C2:
            s.msr = val
        elif port == 0x3C4:
            s.sr_index = val & 7
        elif port == 0x3C5:
            s.sr[s.sr_index] = val
        elif port == 0x3C6:
            s.pel_mask = val
        elif port == 0x3C8:
            s.dac_write_index, s.dac_sub_index = val, 0
        elif port == 0x3C9:
            s.dac_cache[s.dac_sub_index] = val
            s.dac_sub_index += 1
            if s.dac_sub_index == 3:
                i = s.dac_write_index * 3
                s.palette[i:i + 3] = s.dac_cache
                s.dac_sub_index = 0
                s.dac_write_index = (s.dac_write_index + 1) & 0xFF
        elif port == 0x3CE:
            s.gr_index = val & 0x0F
        elif port == 0x3CF:
            s.gr[s.gr_index] = val
        elif port in (0x3D4, 0x3B4):
            s.cr_index = val
        elif port in (0x3D5, 0x3B5):
            s.cr[s.cr_index] = val

    def _vbe_write(self, index, val):
        s = self.state
        r = s.vbe_regs
        if index == 4:
            if (val & 1) and not (r[4] & 1):
                r[6], r[8], r[9] = 0, 0, 0
                r[4] = val
                self._vbe_fixup()
                if not (val & 0x80):
                    n = r[2] * s.vbe_line_offset
                    self.vram[:n] = 0
                    self.dirty.set_dirty_range(0, max(n, 1))
            r[4] = val
            s.dac_8bit = bool(val & 0x20)
        elif index < len(r):
            r[index] = val
            if index in (1, 2, 3, 6, 8, 9):
                self._vbe_fixup()

    def _vbe_fixup(self):
        s = self.state
        r = s.vbe_regs
        if not (r[4] & 1):
            return
        bits = {15: 16}.get(r[3], r[3])
        r[6] = max(r[6], r[1])
        line = r[6] * bits // 8
        s.vbe_line_offset = line
        s.vbe_start_addr = r[8] * bits // 8 + r[9] * line
        r[7] = s.vram_size // line

    # memory
    def _op_writeb(self, op):
        self._mem(op, bytes([int(op["val"]) & 0xFF]))

    def _op_writew(self, op):
        self._mem(op, int(op["val"]).to_bytes(2, "little"))

    def _op_writel(self, op):
        self._mem(op, int(op["val"]).to_bytes(4, "little"))

    def _op_write(self, op):
        self._mem(op, bytes.fromhex(op["data"]))

    def _op_fill(self, op):
        unit = int(op.get("unit", 1))
        n = int(op["len"]) // unit
        self._mem(op, int(op["val"]).to_bytes(unit, "little") * n)

    def _mem(self, op, data: bytes):
        import numpy as np

        if "lfb" in op:
            self.lfb_write(int(op["lfb"]), data)
            return
        s = self.state
        addr = int(op["addr"])
        mmm = (s.gr[6] >> 2) & 3
        base, size = [(0xA0000, 0x20000), (0xA0000, 0x10000), (0xB0000, 0x8000),
                      (0xB8000, 0x8000)][mmm]
        off = np.arange(len(data), dtype=np.int64) + addr - base
        val = np.frombuffer(data, dtype=np.uint8)
        keep = (off >= 0) & (off < size)
        off, val = off[keep], val[keep]
        if mmm == 1:
            off = off + s.bank_offset
        if s.sr[4] & 0x08:
            dest = off
            ok = (s.sr[2] >> (off & 3)) & 1 == 1
            dest, val = dest[ok], val[ok]
        elif s.gr[5] & 0x10:
            plane = (s.gr[4] & 2) | (off & 1)
            ok = (s.sr[2] >> plane) & 1 == 1
            dest = ((off & ~1) << 1) | plane
            dest, val = dest[ok], val[ok]
            if (ok & (plane == 2)).any():
                s.plane_updated |= 4
        else:
            planes = [p for p in range(4) if s.sr[2] & (1 << p)]
            if 2 in planes:
                s.plane_updated |= 4
            dest = np.concatenate([off * 4 + p for p in planes]) if planes else off[:0]
            val = np.tile(val, len(planes))
        self.vram[dest] = val
        for page in np.unique(dest >> 12).tolist():
            self.dirty.set_dirty_range(page << 12, 4096)


class MachineVGA:
    """The same test interface as :class:`PortLevelVGA` on a real :class:`vgaemu.Machine`:
    ops go through the machine's I/O and memory address spaces (guestmem dispatch, the VGA's
    port and window handlers, the LFB as plain RAM), so dirty bits come from guestmem."""

    LFB = 0xFD000000

    def __init__(self, *, qemu_compat: bool = False, vram: str = "16M", memory: str = "32M"):
        from .machine import Machine

        self.machine = Machine(memory=memory, vram=vram, qemu_compat=qemu_compat)
        self.vga = self.machine.vga
        self.display = self.vga.display
        self.state = self.vga.state
        self.vram = self.state.vram
        self.clock = self.machine.clock

    def run(self, ops) -> None:
        m = self.machine
        for op in ops:
            kind = op["op"]
            num = (lambda v: int(v, 0) if isinstance(v, str) else int(v))
            if kind == "outb":
                m.outb(num(op["port"]), num(op["val"]) & 0xFF)
            elif kind == "outw":
                m.outw(num(op["port"]), num(op["val"]) & 0xFFFF)
            elif kind == "inb":
                m.inb(num(op["port"]))
            elif kind in ("writeb", "writew", "writel", "write", "fill"):
                addr = self.LFB + num(op["lfb"]) if "lfb" in op else num(op["addr"])
                if kind == "write":
                    data = bytes.fromhex(op["data"])
                elif kind == "fill":
                    unit = num(op.get("unit", 1))
                    data = num(op["val"]).to_bytes(unit, "little") * (num(op["len"]) // unit)
                else:
                    size = {"writeb": 1, "writew": 2, "writel": 4}[kind]
                    data = num(op["val"]).to_bytes(size, "little")
                m.write(addr, data)
            elif kind != "comment":
                raise ValueError(f"op {kind!r} is not supported by MachineVGA")

    def lfb_write(self, offset: int, data: bytes) -> None:
        """A plain store to the linear framebuffer: RAM, no VGA code runs."""
        self.machine.write(self.LFB + offset, bytes(data))

    def frame(self):
        return self.machine.frame()
