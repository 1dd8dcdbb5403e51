"""Op builders for the trace corpus: the oracle's ops (port I/O, stores, BIOS calls, dumps),
register groups, and the text, planar, mode X and VBE helpers the traces share.

``TRACES`` is the registry every area module fills through ``@trace``; make_traces.py
imports the areas and writes the files.
"""

from __future__ import annotations

import os


HERE = os.path.dirname(os.path.abspath(__file__))

TRACES = {}


def trace(fn):
    """Register a trace generator; the function name (minus ``t_``) names the trace."""
    TRACES[fn.__name__[2:]] = fn
    return fn


# ---------------------------------------------------------------------------------------------
# Op builders
# ---------------------------------------------------------------------------------------------
def h(v):
    return "0x%X" % v


def comment(text):
    return {"op": "comment", "text": text}


def outb(port, val):
    return {"op": "outb", "port": h(port), "val": h(val)}


def outw(port, val):
    return {"op": "outw", "port": h(port), "val": h(val)}


def inb(port):
    return {"op": "inb", "port": h(port)}


def writeb(addr, val):
    return {"op": "writeb", "addr": h(addr), "val": h(val)}


def writew(addr, val):
    return {"op": "writew", "addr": h(addr), "val": h(val)}


def writel(addr, val):
    return {"op": "writel", "addr": h(addr), "val": h(val)}


def fill(addr, length, val, unit=1):
    op = {"op": "fill", "addr": h(addr), "len": length, "val": h(val)}
    if unit != 1:
        op["unit"] = unit
    return op


def lfb_fill(off, length, val, unit=4):
    return {"op": "fill", "lfb": h(off), "len": length, "val": h(val), "unit": unit}


def write(addr, data):
    return {"op": "write", "addr": h(addr), "data": bytes(data).hex()}


def lfb_write(off, data):
    return {"op": "write", "lfb": h(off), "data": bytes(data).hex()}


def int10(ax, **regs):
    op = {"op": "int10", "ax": h(ax)}
    for k, v in regs.items():
        op[k] = h(v)
    return op


def wait_us(us):
    """INT 15h AH=86h: wait CX:DX microseconds (advances QEMU's virtual clock)."""
    return {"op": "int", "num": "0x15", "ax": "0x8600", "cx": h(us >> 16), "dx": h(us & 0xFFFF)}


def dump(name):
    return {"op": "screendump", "name": name}


def halt():
    return {"op": "halt"}


# Register groups --------------------------------------------------------------------------
def seq(idx, val):
    return outw(0x3C4, idx | (val << 8))


def crtc(idx, val, base=0x3D4):
    return outw(base, idx | (val << 8))


def gc(idx, val):
    return outw(0x3CE, idx | (val << 8))


def attr(idx, val):
    """Attribute controller write: reset the flip-flop, index, data, then index 0x20 (PAS)
    so the screen is not left blanked (QEMU blanks while the palette address source is 0)."""
    return [inb(0x3DA), outb(0x3C0, idx), outb(0x3C0, val), outb(0x3C0, 0x20)]


def dac(index, rgb_list):
    ops = [outb(0x3C8, index)]
    for r, g, b in rgb_list:
        ops += [outb(0x3C9, r), outb(0x3C9, g), outb(0x3C9, b)]
    return ops


def cursor_off(base=0x3D4):
    return crtc(0x0A, 0x20, base)


def start_address(addr, base=0x3D4):
    return [crtc(0x0C, (addr >> 8) & 0xFF, base), crtc(0x0D, addr & 0xFF, base)]


def line_compare(lc, cr07, cr09):
    """Line compare is 10 bits: CR18 plus bit 8 in CR07 bit 4 and bit 9 in CR09 bit 6; the
    caller passes the mode's CR07/CR09 so the other bits stay as the BIOS set them."""
    cr07 = (cr07 & ~0x10) | ((lc >> 8) & 1) << 4
    cr09 = (cr09 & ~0x40) | ((lc >> 9) & 1) << 6
    return [crtc(0x18, lc & 0xFF), crtc(0x07, cr07), crtc(0x09, cr09)]


# High RAM scratch area for BIOS pointer arguments (ES:BP, ES:DX): 0x100000 is FFFF:0010,
# reached with A20 on as in QEMU.
SCRATCH = 0x100000
SCRATCH_ES = 0xFFFF
SCRATCH_OFF = 0x0010


def text_cells(s, attr_):
    out = bytearray()
    for c in s:
        out.append(ord(c) if isinstance(c, str) else c)
        out.append(attr_)
    return out


def put_text(row, col, s, attr_, cols=80, base=0xB8000):
    return write(base + (row * cols + col) * 2, text_cells(s, attr_))


def teletype(s, color=0x07, page=0):
    return [int10(0x0E00 | ord(c), bx=(page << 8) | color) for c in s]


def set_cursor(row, col, page=0):
    return int10(0x0200, bx=page << 8, dx=(row << 8) | col)


def write_pixel(x, y, color, page=0):
    return int10(0x0C00 | color, bx=page << 8, cx=x, dx=y)


def read_pixel(x, y, page=0):
    """AH=0Dh: the BIOS reads VGA memory, which loads the latches (planar modes)."""
    return int10(0x0D00, bx=page << 8, cx=x, dx=y)


# Planar helpers ---------------------------------------------------------------------------
def planar_reset():
    """The BIOS defaults for 16-colour planar writes."""
    return [seq(2, 0x0F), gc(0, 0), gc(1, 0), gc(3, 0), gc(5, 0), gc(8, 0xFF)]


def planar_rect(x_byte, y, w_bytes, h_, color, stride=80):
    """A solid rectangle through set/reset (write mode 0, enable set/reset = all planes)."""
    ops = [gc(0, color), gc(1, 0x0F)]
    if w_bytes == stride:
        ops.append(fill(0xA0000 + y * stride, h_ * stride, 0xFF))
        return ops + [gc(1, 0)]
    for yy in range(y, y + h_):
        ops.append(fill(0xA0000 + yy * stride + x_byte, w_bytes, 0xFF))
    ops.append(gc(1, 0))
    return ops


def planar_bars(stride, height, nbars=16, bar_bytes=None):
    """Vertical colour bars drawn with write mode 2 (each CPU byte's low nibble is the colour
    of all 8 pixels): one contiguous ``write`` of ``height`` lines."""
    bar_bytes = bar_bytes or stride // nbars
    row = bytes(min(x // bar_bytes, nbars - 1) for x in range(stride))
    return [gc(5, 0x02), gc(8, 0xFF), write(0xA0000, row * height), gc(5, 0x00)]


MODE_X = [int10(0x13),
          comment("mode X: chain-4 off, odd/even off (SR4=06), doubleword off (CR14=00), "
                  "byte mode (CR17=E3), then clear all four planes"),
          seq(4, 0x06), crtc(0x14, 0x00), crtc(0x17, 0xE3), seq(2, 0x0F),
          fill(0xA0000, 0x10000, 0, unit=4)]


def modex_pixel_ops(x, y, color, stride=80, base=0):
    return [seq(2, 1 << (x & 3)), writeb(0xA0000 + base + y * stride + (x >> 2), color)]


def vbe_set(xres, yres, bpp, enable=0x41, virt_w=None, virt_h=None):
    ops = [outw(0x1CE, 4), outw(0x1CF, 0),
           outw(0x1CE, 1), outw(0x1CF, xres),
           outw(0x1CE, 2), outw(0x1CF, yres),
           outw(0x1CE, 3), outw(0x1CF, bpp)]
    if virt_w is not None:
        ops += [outw(0x1CE, 6), outw(0x1CF, virt_w)]
    if virt_h is not None:
        ops += [outw(0x1CE, 7), outw(0x1CF, virt_h)]
    ops += [outw(0x1CE, 4), outw(0x1CF, enable)]
    return ops


def dispi(idx, val):
    return [outw(0x1CE, idx), outw(0x1CF, val)]


def pix(bpp, r, g, b):
    """Pack an 8-bit RGB colour the way Bochs VBE direct-colour modes store it."""
    if bpp == 15:
        return ((r >> 3) << 10) | ((g >> 3) << 5) | (b >> 3)
    if bpp == 16:
        return ((r >> 3) << 11) | ((g >> 2) << 5) | (b >> 3)
    return (r << 16) | (g << 8) | b


def pix_bytes(bpp, r, g, b):
    v = pix(bpp, r, g, b)
    return v.to_bytes((bpp + 7) // 8, "little")


def banked_write(offset, data, bank_state):
    """Write ``data`` at linear framebuffer offset through the 64 KiB bank window (DISPI index
    5); a write that crosses a bank boundary is split like a real driver would."""
    ops = []
    pos = 0
    while pos < len(data):
        off = offset + pos
        bank = off >> 16
        if bank_state.get("bank") != bank:
            ops += dispi(5, bank)
            bank_state["bank"] = bank
        n = min(len(data) - pos, 0x10000 - (off & 0xFFFF))
        ops.append(write(0xA0000 + (off & 0xFFFF), data[pos:pos + n]))
        pos += n
    return ops
