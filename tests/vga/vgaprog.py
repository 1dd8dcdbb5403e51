"""Register-level VGA programs for the display tests, as oracle trace ops.

Each helper returns a list of ops in the QEMU oracle's trace format (``outb``, ``write`` ...),
so the same program runs here (:func:`run` on a ``vgaemu.Machine``) and in real QEMU
(``shared/oracle/oracle.py``). The standard mode register sets and the EGA palette are not
written down again here: they come from the VGA BIOS's data (``vgaemu.bios.data``, i.e.
``vgaemu/roms/vgabios/vgabios.json``), the same tables INT 10h programs.
"""

from __future__ import annotations

from vgaemu.bios.data import load_tables
from vgaemu.machine import Machine

#: Where the machine maps VRAM (QEMU's -vga std BAR0).
LFB = 0xFD000000

#: Mode X: 320x240 unchained 256 colours, Michael Abrash's tweak of the BIOS's mode 13h
#: (chain 4 off, 480-line vertical timing scanned twice, byte addressing).
MODE_X_TWEAK = {
    "misc": 0xE3,
    "sequ": {4: 0x06},
    "crtc": {0x06: 0x0D, 0x07: 0x3E, 0x10: 0xEA, 0x11: 0xAC, 0x12: 0xDF, 0x14: 0x00,
             0x15: 0xE7, 0x16: 0x06, 0x17: 0xE3},
}


def outb(port: int, val: int) -> dict:
    return {"op": "outb", "port": port, "val": val & 0xFF}


def outw(port: int, val: int) -> dict:
    return {"op": "outw", "port": port, "val": val & 0xFFFF}


def mode_registers(mode) -> tuple[int, bytes, bytes, bytes, bytes]:
    """(misc, SR1-SR4, CR0-CR24, AR0-AR19, GR0-GR8) of a standard mode or ``"X"``."""
    tables = load_tables()
    if mode == "X":
        m = tables.std_mode(0x13)
        sequ, crtc = bytearray(m.sequ), bytearray(m.crtc)
        for i, v in MODE_X_TWEAK["sequ"].items():
            sequ[i - 1] = v
        for i, v in MODE_X_TWEAK["crtc"].items():
            crtc[i] = v
        return MODE_X_TWEAK["misc"], bytes(sequ), bytes(crtc), m.actl, m.grdc
    m = tables.std_mode(mode)
    if m is None or not m.is_std:
        raise KeyError(f"mode {mode!r} is not a standard VGA mode of the BIOS")
    return m.misc, m.sequ, m.crtc, m.actl, m.grdc


def mode_ops(mode) -> list[dict]:
    """Port writes that program one standard mode, register by register (no memory clear)."""
    misc, sequ, crtc, actl, grdc = mode_registers(mode)
    ops = [outb(0x3C2, misc), outb(0x3C4, 0), outb(0x3C5, 0x03)]
    for i, v in enumerate(sequ, 1):
        ops += [outb(0x3C4, i), outb(0x3C5, v)]
    ops += [outb(0x3D4, 0x11), outb(0x3D5, 0x00)]  # unlock CR0-CR7
    for i, v in enumerate(crtc):
        ops += [outb(0x3D4, i), outb(0x3D5, v)]
    for i, v in enumerate(grdc):
        ops += [outb(0x3CE, i), outb(0x3CF, v)]
    ops.append({"op": "inb", "port": 0x3DA})
    for i, v in enumerate(actl):
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
    """The 64 EGA colours (rgbRGB) as 6-bit DAC triples: the BIOS's 16-colour DAC."""
    pal = load_tables().palettes["palette2"]
    return [tuple(pal[i:i + 3]) for i in range(0, 192, 3)]


def font(height: int) -> bytes:
    """The BIOS's 8 x ``height`` font (256 glyphs)."""
    return load_tables().fonts[height]


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


def font_load_ops(glyphs: bytes, height: int, *, base: int = 0) -> list[dict]:
    """Load a font into plane 2 (32-byte glyph slots at planar ``base``) the way a VGA BIOS
    does: sequential planar access to plane 2 only, then back to odd/even text access."""
    ops = [outb(0x3C4, 2), outb(0x3C5, 0x04), outb(0x3C4, 4), outb(0x3C5, 0x07),
           outb(0x3CE, 4), outb(0x3CF, 0x02), outb(0x3CE, 5), outb(0x3CF, 0x00),
           outb(0x3CE, 6), outb(0x3CF, 0x04)]
    data = bytearray(256 * 32)
    for c in range(256):
        data[c * 32:c * 32 + height] = glyphs[c * height:(c + 1) * height]
    ops.append({"op": "write", "addr": 0xA0000 + base, "data": bytes(data).hex()})
    ops += [outb(0x3C4, 2), outb(0x3C5, 0x03), outb(0x3C4, 4), outb(0x3C5, 0x02),
            outb(0x3CE, 4), outb(0x3CF, 0x00), outb(0x3CE, 5), outb(0x3CF, 0x10),
            outb(0x3CE, 6), outb(0x3CF, 0x0E)]
    return ops


def machine(*, qemu_compat: bool = False, vram: str = "16M", memory: str = "32M") -> Machine:
    return Machine(memory=memory, vram=vram, qemu_compat=qemu_compat)


def _num(v) -> int:
    return int(v, 0) if isinstance(v, str) else int(v)


def run(m: Machine, ops) -> None:
    """Run ops on ``m`` through its I/O and memory address spaces (guestmem dispatch, the
    VGA's port and window handlers, the LFB as plain RAM), without redrawing: the caller
    decides when a frame runs, so the dirty pages the ops leave are there to inspect."""
    for op in ops:
        kind = op["op"]
        if kind == "outb":
            m.outb(_num(op["port"]), _num(op["val"]) & 0xFF)
        elif kind == "outw":
            m.outw(_num(op["port"]), _num(op["val"]) & 0xFFFF)
        elif kind == "inb":
            m.inb(_num(op["port"]))
        elif kind in ("writeb", "writew", "writel", "write", "fill"):
            addr = LFB + _num(op["lfb"]) if "lfb" in op else _num(op["addr"])
            if kind == "write":
                data = bytes.fromhex(op["data"])
            elif kind == "fill":
                unit = _num(op.get("unit", 1))
                data = _num(op["val"]).to_bytes(unit, "little") * (_num(op["len"]) // unit)
            else:
                size = {"writeb": 1, "writew": 2, "writel": 4}[kind]
                data = _num(op["val"]).to_bytes(size, "little")
            m.write(addr, data)
        elif kind != "comment":
            raise ValueError(f"op {kind!r} is not supported by vgaprog.run")


def lfb_write(m: Machine, offset: int, data) -> None:
    """A plain store to the linear framebuffer: RAM, no VGA code runs."""
    m.write(LFB + offset, bytes(data))
