#!/usr/bin/env python3
"""Write the pixel-fidelity trace corpus into tests/traces/*.json.

Each trace is a list of guest operations in the format of the QEMU oracle
(../shared/oracle/README.md): port I/O, memory stores, BIOS calls and screendumps.  The same
trace runs in real QEMU (``make qemu-goldens`` stores its screendumps in tests/golden/qemu/) and
in vgaemu (tests/test_qemu_pixels.py requires every pixel to match).

Rules that keep every trace deterministic in QEMU:

* every trace starts with a mode set (int10 or Bochs DISPI), except boot_screen and
  boot_dispi_8bpp, which show what SeaBIOS leaves behind;
* the text cursor may show only in the first screendump of a run: QEMU toggles its blink phase
  on the first text draw and then every ~266 ms of virtual time, so later dumps turn it off
  (CRTC 0x0A bit 5) -- except ``text_cursor_blink_wait``, which waits 400 ms between dumps;
* attribute bit 7 is used only after AX=1003h BL=0 (intensity, not blink), except in the
  trace that documents QEMU's missing blink;
* BIOS calls get every register they read (the oracle leaves unspecified registers as they
  happen to be);
* latches are loaded only by BIOS reads (AH=0Dh), never assumed from an earlier mode set.

Run ``python3 tests/traces/make_traces.py`` after editing; it rewrites every JSON file and
removes JSON files of traces that no longer exist.
"""

from __future__ import annotations

import json
import os
import random
import sys

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


# ---------------------------------------------------------------------------------------------
# Text modes
# ---------------------------------------------------------------------------------------------
def text_sampler(cols, base=0xB8000):
    """Title, 16 foreground colours, 8 backgrounds, box drawing and a glyph run."""
    ops = [put_text(0, 0, "vgaemu text %d columns" % cols, 0x1F, cols, base)]
    for fg in range(16):
        ops.append(put_text(2, fg * 2, [0xDB, 0xDB], fg, cols, base))
    for bg in range(8):
        ops.append(put_text(3, bg * 3, [" ", "x", " "], (bg << 4) | 0x0F, cols, base))
    ops.append(put_text(5, 1, [0xC9] + [0xCD] * 10 + [0xBB], 0x0E, cols, base))
    ops.append(put_text(6, 1, [0xBA] + list(" box  demo") + [0xBA], 0x0E, cols, base))
    ops.append(put_text(7, 1, [0xC8] + [0xCD] * 10 + [0xBC], 0x0E, cols, base))
    ops.append(put_text(9, 0, list(range(32, 32 + cols)), 0x07, cols, base))
    # glyphs 80h-AFh and C0h-DFh: B0h-BFh are left out because their 9th column is where
    # QEMU and hardware differ (text_9dot_b0_bf documents it)
    ops.append(put_text(10, 0, (list(range(128, 176)) + list(range(0xC0, 0xE0)))[:cols], 0x0A, cols, base))
    ops.append(put_text(24, cols - 6, "bottom", 0x70, cols, base))
    return ops


@trace
def t_text_mode0_40col(ops):
    """Mode 0 (40x25 text, 9-dot, doubled dot clock); the cursor shows at 0,0 in this first dump."""
    ops += [int10(0x0000)] + text_sampler(40)


@trace
def t_text_mode1_40col(ops):
    """Mode 1 (40x25); cursor moved by AH=02h to row 12, column 20 (first dump: visible)."""
    ops += [int10(0x0001)] + text_sampler(40) + [set_cursor(12, 20)]


@trace
def t_text_mode2_80col(ops):
    """Mode 2 (80x25) with all 256 glyphs on rows 12-15 (so glyphs B0h-BFh too: their 9th
    column is QEMU's, qemu_compat); cursor off."""
    ops += [int10(0x0002), cursor_off()] + text_sampler(80)
    ops.append(put_text(12, 0, list(range(0, 256)), 0x07))


@trace
def t_text_mode3_sampler(ops):
    """Mode 3 sampler (the default PC screen); the cursor at 0,0 shows (first dump)."""
    ops += [int10(0x0003)] + text_sampler(80)
    ops.append(put_text(12, 0, [c for c in range(256) if not 0xB0 <= c <= 0xBF], 0x1E))


@trace
def t_text_mode3_attr_grid(ops):
    """All 256 attributes after AX=1003h BL=0 (attribute bit 7 = bright background, no
    blink, on hardware and in QEMU alike)."""
    ops += [int10(0x0003), int10(0x1003, bx=0x0000), cursor_off()]
    for bg in range(16):
        cells = []
        for fg in range(16):
            cells += [" ", chr(ord("A") + fg), chr(ord("a") + bg), " "]
        ops.append(write(0xB8000 + (bg + 2) * 160 + 16, b"".join(
            bytes([ord(c), (bg << 4) | (i // 4)]) for i, c in enumerate(cells))))


@trace
def t_text_mode7_mono(ops):
    """Mode 7 (monochrome text at B0000, CRTC at 3B4): normal, intense, reverse, invisible.
    No underline attributes (QEMU draws none; see text_mode7_underline)."""
    ops += [int10(0x0007), cursor_off(0x3B4)]
    B = 0xB0000
    ops.append(put_text(0, 0, "Monochrome mode 7", 0x0F, base=B))
    ops.append(put_text(2, 0, "normal 07", 0x07, base=B))
    ops.append(put_text(3, 0, "intense 0F", 0x0F, base=B))
    ops.append(put_text(4, 0, "reverse 70", 0x70, base=B))
    ops.append(put_text(5, 0, "invisible 00 ->", 0x07, base=B))
    ops.append(put_text(5, 16, "hidden", 0x00, base=B))
    ops.append(put_text(6, 0, "attr 02..07", 0x02, base=B))
    ops.append(put_text(8, 0, [0xDB] * 20 + [0xC4, 0xC5, 0xDF] * 4, 0x07, base=B))
    ops.append(put_text(9, 0, [0xC4] * 30, 0x0F, base=B))
    ops.append(put_text(12, 0, list(range(32, 112)), 0x07, base=B))


@trace
def t_text_mode7_underline(ops):
    """Mode 7 underline attributes 01/09: hardware underlines on scan line 13 (CRTC 14h);
    QEMU 7.2 draws no underline (qemu_compat)."""
    # SeaVGABIOS programs the CRTC at 3B4h before switching the misc register to mono, so
    # after mode 3 those writes are ignored (QEMU's vga_ioport_invalid) and CR14 keeps mode 3's
    # 1Fh (no underline row): set the underline location (scan line 13) explicitly.
    ops += [int10(0x0007), cursor_off(0x3B4), crtc(0x14, 0x0D, 0x3B4)]
    B = 0xB0000
    ops.append(put_text(1, 0, "underlined 01", 0x01, base=B))
    ops.append(put_text(2, 0, "intense underlined 09", 0x09, base=B))
    ops.append(put_text(3, 0, "plain 07", 0x07, base=B))


@trace
def t_text_cursor_shape_bios(ops):
    """AH=01h CX=0007h (block cursor in the top half, CGA-emulated scanlines) and AH=02h to
    row 10, col 20: the cursor in the first dump."""
    ops += [int10(0x0003), put_text(10, 0, "cursor is over the X ->X<-", 0x07)]
    ops += [int10(0x0100, cx=0x0007), set_cursor(10, 23)]


@trace
def t_text_cursor_crtc(ops):
    """Cursor start/end (CRTC 0A/0B = 4..12) and location (CRTC 0E/0F) written directly."""
    ops += [int10(0x0003), put_text(12, 30, "cursor at row 12 col 40", 0x1E)]
    loc = 12 * 80 + 40
    ops += [crtc(0x0A, 0x04), crtc(0x0B, 0x0C), crtc(0x0E, loc >> 8), crtc(0x0F, loc & 0xFF)]


@trace
def t_text_cursor_blink_wait(ops):
    """Cursor blink over virtual time: dump 'on' (first text draw: visible), INT 15h wait
    400 ms, dump 'off' (phase toggled after ~266 ms), wait 400 ms, final dump visible again."""
    ops += [int10(0x0003), put_text(0, 0, "blinking cursor below", 0x07), set_cursor(1, 0)]
    ops += [dump("on"), wait_us(400000), dump("off"), wait_us(400000)]


@trace
def t_text_9dot_linegraphics(ops):
    """9-dot cells: glyphs C0h-DFh repeat column 8 into the 9th column (AR10 bit 2), all
    others (letters, 00-BF excluding B0-BF) leave it background. Coloured backgrounds show the
    9th column."""
    ops += [int10(0x0003), cursor_off()]
    ops.append(put_text(0, 0, "9-dot line graphics C0-DF:", 0x0F))
    ops.append(put_text(2, 0, [c for c in range(0xC0, 0xE0) for _ in (0, 1)], 0x1E))
    ops.append(put_text(4, 0, [0xC4] * 40 + [0xCD] * 40, 0x4F))
    ops.append(put_text(6, 0, "HHHH____====----" + "".join(chr(c) for c in range(0xE0, 0xF0)), 0x2F))
    ops.append(put_text(8, 0, [c for c in range(0x00, 0x20) for _ in (0, 1)], 0x3E))
    ops.append(put_text(10, 0, [c for c in range(0xA0, 0xB0) for _ in (0, 1)], 0x5F))


@trace
def t_text_9dot_b0_bf(ops):
    """Glyphs B0h-BFh in 9-dot mode: QEMU repeats column 8 (its range is B0-DF), hardware only
    C0-DF (qemu_compat)."""
    ops += [int10(0x0003), cursor_off()]
    ops.append(put_text(2, 0, [c for c in range(0xB0, 0xC0) for _ in range(4)], 0x1F))
    ops.append(put_text(4, 0, [0xB0] * 20 + [0xB1] * 20 + [0xB2] * 20 + [0xDB] * 20, 0x0E))


@trace
def t_text_9dot_stale_cells(ops):
    """QEMU applies the 9th-dot rule (AR10 bit 2) to a cell only when it redraws it: after the
    bit is cleared, dump ``b`` shows the 9th column gone only in the three new cells on row 1
    and the cursor's cell (row 0 col 5, always redrawn); CR14/CR17 changes redraw nothing
    (dump ``c``: three more new cells on row 2); a line-compare change redraws every cell
    (final: no 9th column anywhere). Hardware shows the current setting everywhere
    (qemu_compat)."""
    ops += [int10(0x0003), cursor_off()]
    for row in range(4):
        ops += [set_cursor(row, 0), int10(0x09DB, bx=(0x1E, 0x1F, 0x1A, 0x1B)[row], cx=80)]
    ops += [set_cursor(0, 5), dump("a")]
    ops += attr(0x10, 0x08)
    ops += [set_cursor(1, 0), int10(0x09DB, bx=0x004F, cx=3), dump("b")]
    ops += [crtc(0x14, 0x00), crtc(0x17, 0xE3)]
    ops += [set_cursor(2, 5), int10(0x09DB, bx=0x004F, cx=3), dump("c")]
    ops += [crtc(0x17, 0xA3), crtc(0x18, 0xFE)]


@trace
def t_text_8dot(ops):
    """Mode 3 switched to 8-dot cells (SR1 bit 0) and the 25 MHz clock: 640x400, no 9th column."""
    ops += [int10(0x0003), cursor_off()] + text_sampler(80)
    ops += [seq(0, 0x01), seq(1, 0x01), outb(0x3C2, 0x63), seq(0, 0x03)]


@trace
def t_text_font_8x8(ops):
    """AX=1112h BL=0: the 8x8 ROM font, 80x50 rows; text on every 7th row and the last row."""
    ops += [int10(0x0003), int10(0x1112, bx=0x0000), cursor_off()]
    for r in range(0, 50, 7):
        ops.append(put_text(r, 0, "row %02d: 8x8 font, 80x50 text. ABCabc 0123 %s" % (r, chr(0xDB) * 5), 0x07 + (r % 8)))
    ops.append(put_text(49, 0, "last row 49" + "".join(chr(c) for c in range(0xC0, 0xE0)), 0x1F))
    ops.append(put_text(20, 0, list(range(128, 176)) + list(range(0xC0, 0xE0)), 0x0B))


@trace
def t_text_font_8x14(ops):
    """AX=1111h BL=0: the 8x14 ROM font (80x28 on a 400-line screen)."""
    ops += [int10(0x0003), int10(0x1111, bx=0x0000), cursor_off()]
    for r in range(0, 28, 3):
        ops.append(put_text(r, 0, "row %02d: 8x14 font. The quick brown fox %s" % (r, chr(0xDB) * 3), 0x0F - (r % 8)))
    ops.append(put_text(27, 0, "last row 27", 0x4E))
    ops.append(put_text(14, 0, list(range(0, 80)), 0x0A))


def user_glyphs(height):
    """Four recognisable user glyphs: checker, frame, diagonal, stripes."""
    g = []
    g.append(bytes(0xAA if (i & 1) else 0x55 for i in range(height)))
    g.append(bytes([0xFF] + [0x81] * (height - 2) + [0xFF]))
    g.append(bytes((0x80 >> (i % 8)) for i in range(height)))
    g.append(bytes(0xFF if (i // 2) % 2 else 0x00 for i in range(height)))
    return b"".join(g)


@trace
def t_text_font_user(ops):
    """AX=1110h: a user font for 'A'-'D' from ES:BP (high RAM at FFFF:0010), 16 lines each."""
    ops += [int10(0x0003), cursor_off(), write(SCRATCH, user_glyphs(16))]
    ops.append(int10(0x1110, bx=0x1000, cx=4, dx=0x41, es=SCRATCH_ES, bp=SCRATCH_OFF))
    ops.append(put_text(3, 0, "ABCD abcd ABCD EFG", 0x1F))
    ops.append(put_text(5, 0, "AAAAAAAABBBBBBBBCCCCCCCCDDDDDDDD", 0x0E))


@trace
def t_text_font_via_ports(ops):
    """Load glyphs into plane 2 by hand (SR2=4, SR4=07, GR4=2, GR5=00, GR6=04 then restore):
    exercises odd/even off, the map mask and the plane-2 font layout (32 bytes per glyph)."""
    ops += [int10(0x0003), cursor_off()]
    ops += [seq(0, 0x01), seq(2, 0x04), seq(4, 0x07), seq(0, 0x03), gc(4, 0x02), gc(5, 0x00), gc(6, 0x04)]
    glyphs = user_glyphs(16)
    for i, ch in enumerate((0x30, 0x31, 0x32, 0x33)):
        ops.append(write(0xA0000 + ch * 32, glyphs[i * 16:(i + 1) * 16]))
    ops.append(write(0xA0000 + 0x58 * 32, bytes([0x18, 0x3C, 0x7E, 0xFF] * 4)))  # 'X'
    ops += [seq(0, 0x01), seq(2, 0x03), seq(4, 0x03), seq(0, 0x03), gc(4, 0x00), gc(5, 0x10), gc(6, 0x0E)]
    ops.append(put_text(2, 0, "0123 digits replaced; X too: XXX; 456 unchanged", 0x0F))


@trace
def t_text_font_two_maps(ops):
    """Two character maps: a user font loaded into block 1 (AX=1110h BL=1), AX=1103h BL=04h
    (SR3: attribute bit 3 selects block 1). Bright-foreground cells use the user glyphs."""
    ops += [int10(0x0003), cursor_off(), write(SCRATCH, user_glyphs(16) * 1)]
    ops.append(int10(0x1114, bx=0x0001))                       # ROM 8x16 font into block 1
    ops.append(int10(0x1110, bx=0x1001, cx=4, dx=0x41, es=SCRATCH_ES, bp=SCRATCH_OFF))
    ops.append(int10(0x1103, bx=0x0004))
    ops.append(put_text(2, 0, "ABCD with attr 07 (block 0)", 0x07))
    ops.append(put_text(3, 0, "ABCD with attr 0F (block 1)", 0x0F))
    ops.append(put_text(4, 0, "ABCD with attr 1E (block 1)", 0x1E))


@trace
def t_text_attr_palette(ops):
    """Attribute palette registers AR00-0F reversed by port writes (with the flip-flop reset
    through 3DA and PAS restored), then AX=1000h sets register 1 to 3Fh."""
    ops += [int10(0x0003), cursor_off()]
    for fg in range(16):
        ops.append(put_text(2 + fg, 0, [0xDB] * 10 + list(" colour %2d" % fg), fg))
    pal = [0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x14, 0x07, 0x38, 0x39, 0x3A, 0x3B, 0x3C, 0x3D, 0x3E, 0x3F]
    for i in range(16):
        ops += attr(i, pal[15 - i])
    ops.append(int10(0x1000, bx=0x3F01))


@trace
def t_text_dac(ops):
    """DAC: entries changed through 3C8/3C9, AX=1010h (one register) and AX=1012h (a block
    from ES:DX in high RAM)."""
    ops += [int10(0x0003), cursor_off()]
    for fg in range(16):
        ops.append(put_text(2 + fg, 0, [0xDB] * 20, fg))
    ops += dac(1, [(63, 32, 0)])                                   # entry 1: orange
    ops.append(int10(0x1010, bx=2, cx=0x1030, dx=0x3F00))           # entry 2: R=3F G=10 B=30
    ops.append(write(SCRATCH, bytes([10, 20, 30, 40, 50, 60, 63, 0, 63])))
    ops.append(int10(0x1012, bx=0x38, cx=3, es=SCRATCH_ES, dx=SCRATCH_OFF))  # 38h..3Ah
    ops += dac(7, [(0, 0, 0)])                                      # palette index 7 black


def numbered_rows(nrows, cols=80, stride=80, base=0xB8000):
    ops = []
    for r in range(nrows):
        s = ("line %03d " % r) * ((cols + 8) // 9)
        ops.append(write(base + r * stride * 2, text_cells(s[:cols], 0x07 + (r % 7) + ((r % 3) << 4))))
    return ops


@trace
def t_text_start_address(ops):
    """Start address (CRTC 0C/0D) = 3 rows + 5 characters: the screen scrolls within video
    memory; text beyond row 25 becomes visible."""
    ops += [int10(0x0003), cursor_off()] + numbered_rows(32)
    ops += start_address(3 * 80 + 5)


@trace
def t_text_offset_wide(ops):
    """Offset (CRTC 13h) = 50h: 160 characters per row in memory, 80 shown; rows written
    with the wide stride."""
    ops += [int10(0x0003), cursor_off(), crtc(0x13, 0x50)]
    for r in range(25):
        s = "".join(chr(ord("A") + (r + i // 10) % 26) for i in range(160))
        ops.append(write(0xB8000 + r * 320, text_cells(s, 0x07 + (r % 8))))


@trace
def t_text_line_compare(ops):
    """Split screen in text mode: start address at 0x800 (page 1), line compare 271 (bit 8 in
    CR07): rows 0-16 show page 1, the rest shows page 0 from address 0."""
    ops += [int10(0x0003), cursor_off()] + numbered_rows(25)
    for r in range(25):
        ops.append(put_text(r, 0, "PAGE ONE row %02d " % r * 4, 0x1E, base=0xB9000))
    ops += start_address(0x800) + line_compare(271, 0x1F, 0x4F)


@trace
def t_text_max_scanline(ops):
    """Maximum scan line (CR09) 15 -> 7: 8-line cells cut from the 16-line font, 50 rows on
    the 400-line screen."""
    ops += [int10(0x0003), cursor_off()] + numbered_rows(50)
    ops.append(crtc(0x09, 0x47))


@trace
def t_text_pel_panning(ops):
    """Horizontal pel panning (AR13=4) in text mode: hardware shifts the picture 4 pixels left;
    QEMU 7.2 ignores it (qemu_compat)."""
    ops += [int10(0x0003), cursor_off()] + text_sampler(80)
    ops += attr(0x13, 4)


@trace
def t_text_blink(ops):
    """Attribute bit 7 with blinking enabled (the BIOS default): hardware blinks these cells;
    QEMU 7.2 shows a bright background and never blinks (qemu_compat)."""
    ops += [int10(0x0003), cursor_off()]
    ops.append(put_text(2, 0, "blinking white on red", 0xCF))
    ops.append(put_text(3, 0, "steady white on red", 0x4F))
    ops.append(put_text(4, 0, [0xDB] * 10, 0x9E))


@trace
def t_text_teletype(ops):
    """AH=0Eh teletype: CR, LF, backspace, wrapping at column 80 and scrolling at row 25
    (cursor follows; shown in this first dump)."""
    ops += [int10(0x0003)]
    ops += teletype("Teletype output\r\nsecond line\r\n")
    ops += teletype("backspace: abc\x08\x08XY\r\n")
    ops += teletype("wrap " * 20 + "\r\n")
    for i in range(22):
        ops += teletype("scroll %d\r\n" % i)
    ops += teletype("last")


@trace
def t_text_write_string(ops):
    """AH=13h write string in its four forms (AL=0..3) from ES:BP in high RAM."""
    s = b"Write string AL=0"
    cells = text_cells("Cells AL=2 with attrs", 0x1E)
    ops += [int10(0x0003), write(SCRATCH, s), write(SCRATCH + 0x100, cells)]
    ops.append(int10(0x1300, bx=0x004F, cx=len(s), dx=0x0200, es=SCRATCH_ES, bp=SCRATCH_OFF))
    ops.append(int10(0x1301, bx=0x002F, cx=len(s), dx=0x0400, es=SCRATCH_ES, bp=SCRATCH_OFF))
    ops.append(int10(0x1302, bx=0x0000, cx=len(cells) // 2, dx=0x0605, es=SCRATCH_ES, bp=SCRATCH_OFF + 0x100))
    ops.append(int10(0x1303, bx=0x0000, cx=len(cells) // 2, dx=0x080A, es=SCRATCH_ES, bp=SCRATCH_OFF + 0x100))


@trace
def t_text_write_string_from_screen(ops):
    """AH=13h reads each byte just before writing its character: cells copied from row 0 one
    column to the right (AL=2) repeat the first cell 'A' (1Ah) along the row; row 1 copied as
    characters (char and attribute bytes alike) two columns on (AL=0, BL=4Fh) shows from col 2
    'A', right arrow, 'B', left arrow, then bytes it wrote itself: 'A', 'O' (4Fh), right
    arrow, 'O' (a copy made before writing would show C, 1Ch, D, 1Dh)."""
    cells = text_cells("ABCDEFGHIJ", 0x1A)
    for i in range(10):
        cells[2 * i + 1] = 0x1A + i
    ops += [int10(0x0003), cursor_off(), write(0xB8000, cells), write(0xB80A0, cells)]
    ops.append(int10(0x1302, bx=0x0000, cx=8, dx=0x0001, es=0xB800, bp=0x0000))
    ops.append(int10(0x1300, bx=0x004F, cx=8, dx=0x0102, es=0xB800, bp=0x00A0))


@trace
def t_text_scroll(ops):
    """AH=06h/07h: scroll windows up and down with blank-fill attributes; AL=0 clears a window."""
    ops += [int10(0x0003), cursor_off()] + numbered_rows(25)
    ops.append(int10(0x0603, bx=0x1E00, cx=0x050A, dx=0x0F3C))
    ops.append(int10(0x0702, bx=0x4F00, cx=0x1000, dx=0x1627))
    ops.append(int10(0x0600, bx=0x2A00, cx=0x1228, dx=0x164F))


@trace
def t_text_write_char_attr(ops):
    """AH=09h (character + attribute, repeated CX times) and AH=0Ah (character only)."""
    ops += [int10(0x0003), cursor_off()]
    ops += [set_cursor(2, 5), int10(0x0941, bx=0x001E, cx=30)]
    ops += [set_cursor(3, 0), int10(0x09DB, bx=0x000C, cx=80)]
    ops += [set_cursor(2, 10), int10(0x0A2A, bx=0x0000, cx=5)]
    ops += [set_cursor(5, 0), int10(0x09CE, bx=0x0071, cx=160)]


@trace
def t_bios_char_past_segment(ops):
    """AH=09h at cells whose offset passes 64K: SeaVGABIOS stores a character with a 32-bit
    offset (no wrap in the segment), so the cells are lost beyond the window instead of
    wrapping to the top. Dump ``text``: only the green '=' row 18 (page 7 row 250 would wrap to
    row 19 col 48). Mode 10h (final): only the top '=' row (rows 60/61, plain and XOR, would
    wrap to lines 20-47)."""
    ops += [int10(0x0003), cursor_off()]
    ops += [int10(0x0200, bx=0x0000, dx=0x1200), int10(0x093D, bx=0x000A, cx=80)]
    ops += [int10(0x0200, bx=0x0700, dx=0xFA00), int10(0x0958, bx=0x074F, cx=80)]
    ops.append(dump("text"))
    ops += [int10(0x0010)]
    ops += [int10(0x0200, bx=0x0000, dx=0x0000), int10(0x093D, bx=0x000A, cx=80)]
    ops += [int10(0x0200, bx=0x0000, dx=0x3C00), int10(0x0944, bx=0x000E, cx=80)]
    ops += [int10(0x0200, bx=0x0000, dx=0x3D00), int10(0x0944, bx=0x008C, cx=80)]


@trace
def t_bios_font_source_in_vga_window(ops):
    """AX=1100h reads the user font inside the font access (GR6=4: only A0000-AFFFF mapped,
    plane 2 readable): glyphs stored at B900:0000 read as FFh, so 'ABCD' on row 5 are solid
    blocks; 'EFGH' on row 7, loaded from A000:0A00 (plane 2 = the font of 'P' and 'Q' in
    16-byte halves), show 'P', blank, 'Q', blank."""
    glyphs = bytes([0x18, 0x3C, 0x66, 0xC3] * 4 + [0xAA, 0x55] * 8 + [0x0F] * 16
                   + [0x81, 0x42, 0x24, 0x18] * 4)
    ops += [int10(0x0003), cursor_off(), write(0xB9000, glyphs)]
    ops += [int10(0x1100, bx=0x1000, cx=4, dx=0x41, es=0xB900, bp=0x0000)]
    ops += [int10(0x1100, bx=0x1000, cx=4, dx=0x45, es=0xA000, bp=0x0A00)]
    ops += [put_text(5, 5, "ABCD", 0x1F), put_text(7, 5, "EFGH", 0x1E)]


@trace
def t_text_active_page(ops):
    """AH=05h selects page 1 (start address 0x800); teletype writes there; page 0 is hidden."""
    ops += [int10(0x0003), cursor_off(), put_text(0, 0, "page zero, hidden", 0x0F)]
    ops.append(int10(0x0501))
    ops += teletype("Page one via teletype\r\n", page=1) + teletype("second line", page=1)
    ops.append(put_text(5, 0, "page one, direct write", 0x2E, base=0xB9000))


@trace
def t_text_noclear(ops):
    """Mode 83h (bit 7: keep video memory): text written before the mode set survives; the
    mode set reloads the font and palette."""
    ops += [int10(0x0003)] + text_sampler(80)
    ops.append(int10(0x0083))


@trace
def t_text_map_mask_oddeven(ops):
    """Odd/even in text mode: with SR2=01 only even addresses (characters, plane 0) change;
    with SR2=02 only odd ones (attributes, plane 1)."""
    ops += [int10(0x0003), cursor_off()]
    ops.append(put_text(2, 0, "original text, original colour", 0x07))
    ops.append(put_text(3, 0, "original text, original colour", 0x07))
    ops.append(seq(2, 0x01))
    ops.append(put_text(2, 0, "CHARS ONLY <<<<<<<<<<<<<<<<<<<", 0x4E))
    ops.append(seq(2, 0x02))
    ops.append(put_text(3, 0, "ATTRS ONLY >>>>>>>>>>>>>>>>>>>", 0x4E))
    ops.append(seq(2, 0x03))


@trace
def t_text_char_height_crtc(ops):
    """Mode 1 with CR09 MSL=7 and the 8x8 font loaded by AX=1112h: 40x50 cells; the cursor
    start/end moved with AH=01h; first dump shows it."""
    ops += [int10(0x0001), int10(0x1112, bx=0x0000)]
    for r in range(0, 50, 4):
        ops.append(put_text(r, 0, "40-col 8x8 row %02d" % r, 0x1F + r, cols=40))
    ops += [int10(0x0100, cx=0x0607), set_cursor(10, 10)]


# ---------------------------------------------------------------------------------------------
# CGA-compatible modes 4, 5, 6
# ---------------------------------------------------------------------------------------------
def cga_row_addr(y, bytes_per_row=80):
    return 0xB8000 + (y & 1) * 0x2000 + (y >> 1) * bytes_per_row


def cga2_pattern():
    ops = []
    for y in range(200):
        row = bytearray(80)
        for xb in range(80):
            if y < 64:
                c = (xb // 20) & 3                      # four colour bars
                row[xb] = c * 0x55
            elif y < 128:
                row[xb] = 0x1B if (y & 1) else 0xE4      # pixel order 0,1,2,3 / 3,2,1,0
            else:
                row[xb] = 0xC0 >> (2 * ((xb + y) % 4)) if (xb + y) % 2 == 0 else 0xFF
        ops.append(write(cga_row_addr(y), row))
    return ops


@trace
def t_cga_mode4(ops):
    """Mode 4: 320x200x4 with the even/odd scan-line interleave (B8000 / BA000)."""
    ops += [int10(0x0004)] + cga2_pattern()


@trace
def t_cga_mode5(ops):
    """Mode 5: same memory as mode 4, the BIOS's alternate palette."""
    ops += [int10(0x0005)] + cga2_pattern()


@trace
def t_cga_mode6(ops):
    """Mode 6: 640x200x2 interleaved; stripes, checks and a diagonal."""
    ops += [int10(0x0006)]
    for y in range(200):
        row = bytearray(80)
        for xb in range(80):
            if y < 50:
                row[xb] = 0xFF if (xb // 5) % 2 else 0x00
            elif y < 100:
                row[xb] = 0xAA if (y & 1) else 0x55
            else:
                row[xb] = 0x80 >> ((y - 100) % 8) if xb == (y - 100) // 8 + 10 else (0x0F if xb % 8 == 0 else 0)
        ops.append(write(cga_row_addr(y), row))


@trace
def t_cga_palette_bios(ops):
    """Mode 4 with AH=0Bh: BH=1 BL=0 (palette 0: green/red/brown) and BH=0 BL=11h (blue
    background, intensity bit 4)."""
    ops += [int10(0x0004)] + cga2_pattern()[:64]
    ops += [int10(0x0B00, bx=0x0100), int10(0x0B00, bx=0x0011)]


@trace
def t_cga_write_pixel_text(ops):
    """Mode 4 with AH=0Ch pixels (plain and XOR with colour bit 7) and teletype text in colour 3."""
    ops += [int10(0x0004)]
    for i in range(100):
        ops.append(write_pixel(10 + i, 20 + i // 2, 1 + i % 3))
    for i in range(60):
        ops.append(write_pixel(40 + i, 60, 0x83))
    ops.append(set_cursor(20, 2))
    ops += teletype("CGA text", color=3)
    ops += teletype(" more", color=2)


@trace
def t_cga_mode6_text(ops):
    """Mode 6 teletype text (colour 1) and AH=0Ch pixels."""
    ops += [int10(0x0006)]
    ops += teletype("Mode 6: 640x200 two colours\r\n", color=1)
    for i in range(200):
        ops.append(write_pixel(100 + i * 2, 100 + (i % 50), 1))


# ---------------------------------------------------------------------------------------------
# EGA/VGA planar modes
# ---------------------------------------------------------------------------------------------
@trace
def t_ega_mode0d(ops):
    """Mode 0Dh: 320x200x16 planar (40 bytes per line, double scanned); 16 bars by set/reset
    and teletype text."""
    ops += [int10(0x000D)] + planar_bars(40, 160, 16, 2)
    ops += planar_reset() + [set_cursor(22, 1)] + teletype("Mode 0Dh", color=14)


@trace
def t_ega_mode0e(ops):
    """Mode 0Eh: 640x200x16 planar; bars and text."""
    ops += [int10(0x000E)] + planar_bars(80, 150, 16, 5)
    ops += planar_reset() + [set_cursor(21, 1)] + teletype("Mode 0Eh 640x200", color=10)


@trace
def t_ega_mode0f(ops):
    """Mode 0Fh: 640x350 monochrome graphics (planes 0 and 2 with the mono attribute
    palette): map-mask bands 1, 4, 5 and stripes."""
    ops += [int10(0x000F)]
    for i, m in enumerate((0x01, 0x04, 0x05, 0x0F)):
        ops += [seq(2, m), fill(0xA0000 + i * 60 * 80, 50 * 80, 0xFF)]
    ops += [seq(2, 0x01), fill(0xA0000 + 250 * 80, 40 * 80, 0xCC), seq(2, 0x0F)]
    ops += [set_cursor(23, 2)] + teletype("Mode 0Fh", color=1)


@trace
def t_ega_mode10(ops):
    """Mode 10h: 640x350x16 planar (EGA palette); bars, pixels via AH=0Ch, text."""
    ops += [int10(0x0010)] + planar_bars(80, 250, 16, 5) + planar_reset()
    for i in range(64):
        ops.append(write_pixel(320 + i * 3, 280 + (i % 16), i % 16))
    ops += [set_cursor(23, 1)] + teletype("Mode 10h", color=15)


@trace
def t_vga_mode11(ops):
    """Mode 11h: 640x480 two colours (one plane); stripes, checks and text."""
    ops += [int10(0x0011)]
    for y in range(0, 480, 40):
        ops.append(fill(0xA0000 + y * 80, 20 * 80, 0xF0 if (y // 40) % 2 else 0x33))
    ops += [set_cursor(28, 1)] + teletype("Mode 11h 640x480x2", color=1)


@trace
def t_vga_mode12_bars(ops):
    """Mode 12h: 16 bars by set/reset, teletype text in several colours and XOR text
    (BL bit 7) over a bar."""
    ops += [int10(0x0012)] + planar_bars(80, 300) + planar_reset()
    ops.append(set_cursor(20, 0))
    for c in range(1, 16):
        ops += teletype("C%X " % c, color=c)
    ops.append(set_cursor(5, 2))
    ops += teletype("XOR over bars", color=0x8F)


@trace
def t_planar_setreset(ops):
    """Set/reset (GR0) with enable set/reset (GR1) on some planes: planes with ESR=1 take the
    SR bit, the others the CPU data (0xF0 pattern)."""
    ops += [int10(0x0012)]
    for i, (esr, sr) in enumerate([(0x0F, 0x0C), (0x05, 0x0F), (0x0A, 0x00), (0x03, 0x01), (0x00, 0x0F)]):
        ops += [gc(0, sr), gc(1, esr)]
        ops.append(fill(0xA0000 + i * 90 * 80, 80 * 80, 0xF0))
    ops += planar_reset()


@trace
def t_planar_rotate(ops):
    """Data rotate count (GR3 bits 0-2) for counts 0-7 with CPU data 0x0F, one band each,
    map mask selecting different colours."""
    ops += [int10(0x0012)]
    for r in range(8):
        ops += [seq(2, 1 + (r % 15)), gc(3, r)]
        ops.append(fill(0xA0000 + r * 50 * 80, 40 * 80, 0x0F))
    ops += planar_reset()


@trace
def t_planar_logical_ops(ops):
    """GR3 logical function (replace/AND/OR/XOR) against latches loaded by AH=0Dh from a
    known pixel group; each result is written to its own band."""
    ops += [int10(0x0012)]
    ops += planar_rect(0, 0, 1, 1, 0x0A)                 # latch source: byte (0,0) colour 10
    ops += planar_rect(0, 1, 1, 1, 0x05)                 # second source: byte (0,1) colour 5
    for i, func in enumerate((0x00, 0x08, 0x10, 0x18)):
        for src_y in (0, 1):
            band_y = 40 + i * 100 + src_y * 50
            ops.append(read_pixel(0, src_y))             # latches <- pixel group at (0, src_y)
            ops += [gc(3, func), gc(0, 0x06), gc(1, 0x0F)]
            for y in range(band_y, band_y + 40):
                ops.append(fill(0xA0000 + y * 80 + 10, 60, 0xFF))
            ops += planar_reset()


@trace
def t_planar_bitmask(ops):
    """Bit mask (GR8): bits masked off keep the latched pixels; latches are reloaded per byte
    by AH=0Dh so the result is a read-modify-write like real drivers do."""
    ops += [int10(0x0012)] + planar_rect(0, 0, 80, 64, 0x01) + planar_reset()
    for i, mask in enumerate((0x80, 0xC0, 0xAA, 0x0F, 0x3C, 0x81)):
        for xb in range(0, 40):
            y = 8 + i * 9
            ops.append(read_pixel(xb * 8, y))
            ops += [gc(0, 0x0E), gc(1, 0x0F), gc(8, mask)]
            for yy in range(y, y + 8):
                ops.append(writeb(0xA0000 + yy * 80 + xb, 0xFF))
            ops += [gc(1, 0), gc(8, 0xFF)]
    ops += [gc(8, 0x55), seq(2, 0x04), fill(0xA0000 + 100 * 80, 80 * 50, 0xFF)]
    ops += planar_reset()


@trace
def t_planar_write_mode1_copy(ops):
    """Write mode 1: AH=0Dh loads the latches from a source pixel group, then stores copy all
    four latched planes to destination bytes (the CPU data is ignored)."""
    ops += [int10(0x0012)]
    # a 16x16 source tile at x=0..15, y=0..15: diagonal stripes in colours 1..15
    for y in range(16):
        for xb in range(2):
            ops += [gc(0, (y + xb * 3) % 15 + 1), gc(1, 0x0F), writeb(0xA0000 + y * 80 + xb, 0xFF)]
    ops += planar_reset()
    for y in range(16):
        for xb in range(2):
            ops.append(read_pixel(xb * 8, y))
            ops.append(gc(5, 0x01))
            for dst in range(4):
                ops.append(writeb(0xA0000 + (100 + y + dst * 20) * 80 + 10 + xb + dst * 6, 0x00))
            ops.append(gc(5, 0x00))
    ops += planar_reset()


@trace
def t_planar_read_mode1_latch(ops):
    """Read mode 1 (colour compare, GR2/GR7) does not change what a read puts in the latches:
    reads in read mode 1 followed by write-mode-1 copies still copy the pixels."""
    ops += [int10(0x0012)] + planar_rect(0, 0, 4, 8, 0x09) + planar_rect(4, 0, 4, 8, 0x0C) + planar_reset()
    ops += [gc(2, 0x09), gc(7, 0x0F)]
    for xb in range(8):
        for y in range(8):
            ops += [gc(5, 0x08), read_pixel(xb * 8, y), gc(5, 0x09)]
            ops.append(writeb(0xA0000 + (200 + y) * 80 + 30 + xb, 0x00))
            ops.append(writeb(0xA0000 + (220 + y) * 80 + 50 - xb, 0x00))
    ops += [gc(2, 0), gc(7, 0x0F)] + planar_reset()


@trace
def t_planar_write_mode2(ops):
    """Write mode 2: the CPU byte's low nibble (high nibble ignored) is the colour of all pixels
    the bit mask allows. Top: whole bytes (mask FFh) in a 16-colour ramp. Bottom: one pixel
    per store (mask 80h >> bit), latches reloaded by AH=0Dh before each store so the other
    pixels keep their colour."""
    ops += [int10(0x0012), gc(5, 0x02), gc(8, 0xFF)]
    for y in range(0, 160, 2):
        row = bytes(0xF0 | ((xb + y // 10) & 15) for xb in range(80))
        ops.append(write(0xA0000 + y * 80, row))
    for y in range(200, 204):
        for xb in range(4):
            for bit in range(8):
                ops += [read_pixel(xb * 8, y), gc(5, 0x02), gc(8, 0x80 >> bit)]
                ops.append(writeb(0xA0000 + y * 80 + xb, (xb * 8 + bit + y) & 15))
    ops += planar_reset()


@trace
def t_planar_write_mode3(ops):
    """Write mode 3: set/reset supplies the colour, the rotated CPU byte ANDed with the bit
    mask selects pixels (text-like patterns in four colours)."""
    ops += [int10(0x0012)] + planar_rect(0, 0, 80, 480, 0x01) + planar_reset()
    ops += [gc(5, 0x03), gc(8, 0xFF)]
    patterns = [0x18, 0x3C, 0x66, 0xC3, 0x81, 0xFF, 0x00, 0xAA]
    for i, (color, rot, mask) in enumerate([(0x0E, 0, 0xFF), (0x0C, 2, 0xFF), (0x0A, 0, 0xF0), (0x0F, 5, 0x3C)]):
        ops += [gc(0, color), gc(3, rot), gc(8, mask)]
        for y in range(40):
            # the latches must equal the background, so reload them from the untouched bottom row
            if y % 8 == 0:
                ops.append(read_pixel(0, 470))
            ops.append(fill(0xA0000 + (20 + i * 60 + y) * 80, 80, patterns[y % 8]))
    ops += [gc(3, 0)] + planar_reset()


def planar_ramp16():
    """16 bars, each the colour of its attribute index, over 400 lines."""
    return planar_bars(80, 400) + planar_reset()


@trace
def t_planar_color_plane_enable(ops):
    """Colour plane enable (AR12 = 05h): planes 1 and 3 are ignored by the attribute
    controller, so 16 bars show only 4 distinct colours."""
    ops += [int10(0x0012)] + planar_ramp16() + attr(0x12, 0x05)


@trace
def t_planar_bios_scroll_latches(ops):
    """AH=06h/07h in mode 12h copy each plane with ``rep movsb``: every byte's read loads the
    latches its write uses (and the blank rows, ``rep stosb``, get the last latches in
    write mode 1). Diagonal colour bands; window 1 (rows 1-8, columns 2-30) scrolls up 3
    rows in write mode 1 (bands move up intact, the 3 new rows take the last latches:
    yellow), window 2 (rows 10-18, columns 40-70) down 2 rows with bit mask 0Fh (right
    half of each byte moved, stripes in the new rows), window 3 (rows 20-28, columns 5-35)
    up 2 rows with the XOR function (source XOR destination: black and cyan)."""
    ops += [int10(0x0012), gc(5, 0x02)]
    ops.append(write(0xA0000, b"".join(bytes(((x // 5) + (y // 16)) % 16 for x in range(80))
                                       for y in range(480))))
    ops += [gc(5, 0x01), int10(0x0603, bx=0x0000, cx=0x0102, dx=0x081E), gc(5, 0x00)]
    ops += [gc(8, 0x0F), int10(0x0702, bx=0x0000, cx=0x0A28, dx=0x1246), gc(8, 0xFF)]
    ops += [gc(3, 0x18), int10(0x0602, bx=0x0000, cx=0x1405, dx=0x1C23), gc(3, 0x00)]
def t_planar_stale_registers(ops):
    """QEMU redraws only what vga_draw_graphic calls a full update (mode, size, offsets,
    shift control, double scan, palette colours) or lines on dirty VRAM: after two dumps
    (the first is full and leaves the dirty bits, the second clears them) AR12 = 05h and
    CR9 max scan line 1 leave the 16 bars as they were ("stale"). Then rows 50-69 and
    100-139 are rewritten: only the lines that now show a dirty page are redrawn, in 4
    colours with each row twice (rows 100-139 filled white become the magenta band at lines
    200-279); the others keep the 16 bars. Hardware shows both changes on the whole screen."""
    ops += [int10(0x0012), gc(5, 0x02)]
    row = bytes(min(x // 5, 15) for x in range(80))
    ops += [write(0xA0000, row * 480), gc(5, 0x00), dump("full"), dump("clean")]
    ops += attr(0x12, 0x05) + [crtc(0x09, 0x41)]
    ops += [dump("stale"), fill(0xA0000 + 100 * 80, 40 * 80, 0xFF)]
    ops += [gc(5, 0x02), write(0xA0000 + 50 * 80, row * 20), gc(5, 0x00)]


@trace
def t_planar_stale_map_mask_zero(ops):
    """A planar store with map mask 0 changes no plane, but QEMU's vga_mem_writeb still marks
    its VRAM dirty: after AR12 = 05h left the 16 bars stale, a 320-byte ``rep stosb`` at row
    200 with SR2 = 0 makes the lines of its VRAM page (rows 192-204) redraw in 4 colours.
    Hardware shows 4 colours everywhere."""
    ops += [int10(0x0012)] + planar_ramp16() + [dump("full"), dump("clean")]
    ops += attr(0x12, 0x05) + [dump("stale"), seq(2, 0x00), fill(0xA0000 + 200 * 80, 320, 0xFF),
                               seq(2, 0x0F)]


@trace
def t_planar_attr_palette(ops):
    """Attribute palette in mode 12h: AR00-0F set to DAC indices 3Fh..30h and 0-7 by port
    writes, and AX=1002h loads all 17 registers (incl. overscan) from ES:DX."""
    ops += [int10(0x0012)] + planar_ramp16()
    for i in range(8):
        ops += attr(i, 0x3F - i)
    ops.append(dump("ports"))
    ops.append(write(SCRATCH, bytes([0x00, 0x3C, 0x3A, 0x38, 0x24, 0x22, 0x20, 0x07,
                                     0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x3E, 0x3F, 0x00])))
    ops.append(int10(0x1002, es=SCRATCH_ES, dx=SCRATCH_OFF))


@trace
def t_planar_color_select(ops):
    """Colour select (AR14): bits 2-3 give DAC index bits 6-7 in 16-colour modes; with AR10
    bit 7 (P5-4 select) bits 0-1 replace palette bits 4-5. The default DAC beyond 64 makes
    each choice visible. Also AX=1013h (select colour page)."""
    ops += [int10(0x0012)] + planar_ramp16()
    ops += dac(64, [((i * 5) % 64, (i * 3) % 64, 63 - (i % 64)) for i in range(192)])
    ops += attr(0x14, 0x04)
    ops.append(dump("cs04"))
    ops += attr(0x10, 0x81) + attr(0x14, 0x0B)
    ops.append(dump("p54"))
    ops += [int10(0x1013, bx=0x0100), int10(0x1013, bx=0x0003)]


@trace
def t_planar_pel_panning(ops):
    """Horizontal pel panning (AR13=3) in mode 12h: hardware shifts the picture 3 pixels;
    QEMU 7.2 ignores it (qemu_compat)."""
    ops += [int10(0x0012)] + planar_ramp16() + attr(0x13, 3)


@trace
def t_planar_start_address(ops):
    """Start address in mode 12h: scroll down 100 lines (dump 'down'), then 40 bytes right."""
    ops += [int10(0x0012)] + planar_ramp16()
    for i in range(20):
        ops += planar_rect(i * 4, 400 + i * 4, 4, 4, (i % 15) + 1)
    ops += planar_reset() + start_address(100 * 80) + [dump("down")] + start_address(40)


@trace
def t_planar_offset_virtual(ops):
    """Offset (CRTC 13h) = 50h in mode 10h: a 1280-pixel virtual line; start address 20 bytes
    in, so the visible window starts at x=160."""
    ops += [int10(0x0010), crtc(0x13, 0x50)]
    for c in range(16):
        ops += planar_rect(c * 10, 0, 10, 340, c, stride=160)
    ops += planar_reset() + start_address(20)


@trace
def t_planar_line_compare(ops):
    """Split screen in mode 12h: start address at line 240, line compare 300 (CR07 bit 4,
    CR09 bit 6 = 0): below line 300 the display restarts at address 0."""
    ops += [int10(0x0012)] + planar_ramp16()
    ops += planar_rect(0, 240, 80, 100, 0x04) + planar_rect(0, 0, 80, 60, 0x02) + planar_reset()
    ops += start_address(240 * 80) + line_compare(300, 0x3E, 0x40)


@trace
def t_planar_split_panning(ops):
    """Line compare plus pel panning with AR10 bit 5 (the split part ignores panning): the
    top pans by 4 pixels on hardware; QEMU ignores panning (qemu_compat)."""
    ops += [int10(0x0012)] + planar_ramp16()
    ops += line_compare(200, 0x3E, 0x40) + attr(0x10, 0x21) + attr(0x13, 4)


@trace
def t_planar_double_scan(ops):
    """Maximum scan line in mode 12h: CR09 = 41h shows every line twice (240 distinct lines),
    then 43h four times."""
    ops += [int10(0x0012)]
    for y in range(0, 480, 8):
        ops += planar_rect(0, y, 80, 4, (y // 8) % 16)
    ops += planar_reset() + [crtc(0x09, 0x41), dump("x2"), crtc(0x09, 0x43)]


@trace
def t_planar_pixels_bios(ops):
    """AH=0Ch/0Dh in mode 12h: a spiral of pixels, XOR pixels (colour bit 7) and reads."""
    ops += [int10(0x0012)]
    for i in range(300):
        x = 320 + (i * 7) % 200 - 100
        y = 240 + (i * 13) % 160 - 80
        ops.append(write_pixel(x, y, (i % 15) + 1))
    for i in range(100):
        ops.append(write_pixel(200 + i, 240, 0x8F))
        ops.append(read_pixel(200 + i, 241))


# ---------------------------------------------------------------------------------------------
# Mode 13h (chain-4)
# ---------------------------------------------------------------------------------------------
@trace
def t_m13_palette_blocks(ops):
    """Mode 13h: all 256 default-palette colours as 16x16 blocks of 20x12 pixels, and text."""
    ops += [int10(0x0013)]
    for y in range(192):
        row = bytes(((y // 12) * 16 + x // 20) & 0xFF for x in range(320))
        ops.append(write(0xA0000 + y * 320, row))
    ops += [set_cursor(24, 1)] + teletype("256 colours", color=0x2C)


@trace
def t_m13_dac(ops):
    """DAC ramps through 3C8/3C9 (auto-increment across all 256 entries), AX=1010h, AX=1012h
    from high RAM and AX=101Bh (grey-scale summing) on entries 0-15."""
    ops += [int10(0x0013)]
    for y in range(200):
        ops.append(fill(0xA0000 + y * 320, 320, y & 0xFF))
    ramp = []
    for i in range(256):
        ramp.append(((i * 4) & 63, (i // 4) & 63, 63 - (i & 63)))
    ops += dac(0, ramp)
    ops.append(int10(0x1010, bx=100, cx=0x3F3F, dx=0x3F00))
    ops.append(write(SCRATCH, bytes([63, 0, 0] * 8)))
    ops.append(int10(0x1012, bx=150, cx=8, es=SCRATCH_ES, dx=SCRATCH_OFF))
    ops.append(int10(0x101B, bx=0, cx=16))


@trace
def t_m13_pel_mask(ops):
    """PEL mask (3C6) = 0Fh in mode 13h: hardware ANDs every index with it, so the picture
    shows only the first 16 colours; QEMU 7.2 ignores the mask (qemu_compat)."""
    ops += [int10(0x0013)]
    for y in range(200):
        ops.append(fill(0xA0000 + y * 320, 320, (y * 5) & 0xFF))
    ops.append(outb(0x3C6, 0x0F))


@trace
def t_m13_store_sizes(ops):
    """Chain-4 window with byte, word and dword stores at odd addresses and rep stosw/stosd
    fills: each byte lands at its own address (the window splits wider accesses)."""
    ops += [int10(0x0013)]
    for y in range(50):
        ops.append(fill(0xA0000 + y * 320 + 1, 318, 0x2820, unit=2))
        ops.append(fill(0xA0000 + (y + 50) * 320, 320, 0x3038404C, unit=4))
    for i in range(100):
        ops.append(writew(0xA0000 + (110 + i // 10) * 320 + 1 + (i % 10) * 31, 0x0F28))
        ops.append(writel(0xA0000 + (130 + i // 10) * 320 + 3 + (i % 10) * 29, 0x20304050))
        ops.append(writeb(0xA0000 + (150 + i // 5) * 320 + (i * 3) % 320, 0x0E))


@trace
def t_m13_max_scanline(ops):
    """Mode 13h with CR09 MSL 1 -> 3: every line shown four times (the top 100 lines fill the
    screen)."""
    ops += [int10(0x0013)]
    for y in range(200):
        ops.append(fill(0xA0000 + y * 320 + (y % 64), 64, 32 + (y % 72)))
    ops.append(crtc(0x09, 0x43))


@trace
def t_m13_start_address(ops):
    """Mode 13h start address = 50 lines (CRTC counts in 4-byte units: 80 per line), then a
    dump, then 52 lines + 2 units (8 pixels)."""
    ops += [int10(0x0013)]
    for y in range(200):
        ops.append(fill(0xA0000 + y * 320, 320, y & 0xFF))
        ops.append(fill(0xA0000 + y * 320 + (y % 100) * 3, 8, 15))
    ops += start_address(50 * 80) + [dump("l50")] + start_address(52 * 80 + 2)


@trace
def t_m13_line_compare(ops):
    """Split screen in mode 13h: start address 100 lines down; line compare 300 (scan lines,
    bit 8 in CR07 which stays writable while CR0-7 are locked)."""
    ops += [int10(0x0013)]
    for y in range(200):
        ops.append(fill(0xA0000 + y * 320, 320, 16 + (y % 16) if y >= 100 else 32 + y // 4))
    ops += start_address(100 * 80) + line_compare(300, 0x1F, 0x41)


@trace
def t_m13_offset(ops):
    """Mode 13h with offset (CR13) = 50h: 640 bytes per line, the left half of a wide picture."""
    ops += [int10(0x0013), crtc(0x13, 0x50)]
    for y in range(100):
        row = bytes(((x // 40) + (y // 25) * 16) & 0xFF for x in range(640))
        ops.append(write(0xA0000 + y * 640, row))


@trace
def t_m13_text_and_pixels(ops):
    """Mode 13h BIOS services: AH=0Ch pixels (colour 200 etc.), AH=0Eh teletype in colours,
    AH=13h write string, AH=09h characters."""
    ops += [int10(0x0013)]
    for i in range(160):
        ops.append(write_pixel(i * 2, 100 + (i % 40), 32 + i % 100))
    ops += teletype("Teletype 13h\r\n", color=40) + teletype("line two", color=0x4F)
    ops.append(write(SCRATCH, b"write string"))
    ops.append(int10(0x1301, bx=0x0036, cx=12, dx=0x0A02, es=SCRATCH_ES, bp=SCRATCH_OFF))
    ops += [set_cursor(15, 5), int10(0x0941, bx=0x0070, cx=10)]


# ---------------------------------------------------------------------------------------------
# Mode X (unchained 256 colours)
# ---------------------------------------------------------------------------------------------
@trace
def t_modex_planes(ops):
    """Mode X: each plane written alone with the map mask; pixel x comes from plane x & 3 at
    offset x / 4, so the four planes interleave into 4-pixel groups."""
    ops += list(MODE_X)
    for p in range(4):
        ops += [seq(2, 1 << p), fill(0xA0000 + 0, 80 * 50, 32 + p * 8)]
        ops.append(fill(0xA0000 + 80 * (60 + p * 30), 80 * 20, 40 + p * 16))
    ops += [seq(2, 0x05), fill(0xA0000 + 80 * 180, 80 * 20, 4), seq(2, 0x0F)]


@trace
def t_modex_page_flip(ops):
    """Mode X page flipping: page 0 at offset 0, page 1 at 16000 (start address 16000);
    dump 'page0', flip to page 1 (final)."""
    ops += list(MODE_X)
    ops += [seq(2, 0x0F)]
    for y in range(200):
        ops.append(fill(0xA0000 + y * 80, 80, 16 + y % 16))
        ops.append(fill(0xA0000 + 16000 + y * 80, 80, 32 + (y // 8) % 24))
    for x in range(0, 320, 3):
        ops += modex_pixel_ops(x, x % 200, 15, base=16000)
    ops += [seq(2, 0x0F), dump("page0")] + start_address(16000)


@trace
def t_modex_320x240(ops):
    """Mode X 320x240: CR11 unlocked, 480-line vertical timing, misc output E3h; a border
    and a grid."""
    ops += list(MODE_X)
    ops += [outb(0x3C2, 0xE3), crtc(0x11, 0x2C), crtc(0x06, 0x0D), crtc(0x07, 0x3E), crtc(0x10, 0xEA),
            crtc(0x11, 0xAC), crtc(0x12, 0xDF), crtc(0x15, 0xE7), crtc(0x16, 0x06)]
    for y in range(240):
        ops.append(fill(0xA0000 + y * 80, 80, 1 + (y // 16) % 15 if y % 16 else 15))
    ops += [seq(2, 0x01)]
    for y in range(240):
        ops.append(writeb(0xA0000 + y * 80, 4))
        ops.append(writeb(0xA0000 + y * 80 + 40, 4))
    ops += [seq(2, 0x0F)]


@trace
def t_modex_split_status(ops):
    """Mode X with a line-compare status bar: the playfield starts at offset 4000 (50 lines
    of 80 bytes); scan line 360 and below show offset 0 (the status bar)."""
    ops += list(MODE_X)
    for y in range(20):
        ops.append(fill(0xA0000 + y * 80, 80, 0x2F if y in (0, 19) else 0x01))
    ops += [seq(2, 0x02)]
    for y in range(5, 15):
        ops.append(fill(0xA0000 + y * 80 + 5, 30, 0x0E))
    ops += [seq(2, 0x0F)]
    for y in range(200):
        ops.append(fill(0xA0000 + 4000 + y * 80, 80, 0x20 + (y * 3) % 40))
    ops += start_address(4000) + line_compare(360, 0x1F, 0x41)


@trace
def t_modex_latch_copy(ops):
    """Mode X write-mode-1 copy: AH=0Dh (the BIOS thinks it is mode 13h) reads 8 bytes at
    offsets 1600..1607, loading the latches; each store then copies all four planes (four
    pixels) from the latches."""
    ops += list(MODE_X)
    for p in range(4):
        ops += [seq(2, 1 << p), fill(0xA0000 + 1600, 8, 40 + p * 6)]
    ops += [seq(2, 0x0F), read_pixel(0, 5), gc(5, 0x41)]
    for y in range(40, 160):
        ops.append(fill(0xA0000 + y * 80 + 10 + (y % 20), 40, 0))
    ops.append(gc(5, 0x40))


@trace
def t_modex_map_mask_pixels(ops):
    """Mode X single pixels with per-pixel map mask changes: a diagonal and a sine-like wave."""
    ops += list(MODE_X)
    for x in range(320):
        ops += modex_pixel_ops(x, (x * 200) // 320, 40 + x % 32)
    for x in range(0, 320, 2):
        y = 100 + int(60 * __import__("math").sin(x / 25.0))
        ops += modex_pixel_ops(x, y, 15)
    ops.append(seq(2, 0x0F))


@trace
def t_modex_from_mode13(ops):
    """Chain-4 writes read back through an unchained display: a mode 13h picture, then chain-4
    off and byte mode on (as mode X code does after a mode 13h set). Shows the memory layout
    of chain-4 writes (QEMU stores them linearly)."""
    ops += [int10(0x0013)]
    for y in range(100):
        ops.append(fill(0xA0000 + y * 320, 320, 32 + (y // 10)))
    ops += [seq(4, 0x06), crtc(0x14, 0x00), crtc(0x17, 0xE3)]


# ---------------------------------------------------------------------------------------------
# Bochs VBE (DISPI)
# ---------------------------------------------------------------------------------------------
def vbe_rgb_test(bpp, W, H, via_lfb=True):
    """Bands of red/green/blue/grey ramps and white/black stripes in direct colour."""
    ops = []
    bypp = (bpp + 7) // 8
    pitch = W * bypp
    band = H // 8
    # ramps: one row blob per band, replicated by writing it on each line of the band
    ramps = []
    for k, (mr, mg, mb) in enumerate([(1, 0, 0), (0, 1, 0), (0, 0, 1), (1, 1, 1)]):
        row = b"".join(pix_bytes(bpp, (x * 255 // (W - 1)) * mr, (x * 255 // (W - 1)) * mg,
                                 (x * 255 // (W - 1)) * mb) for x in range(W))
        ramps.append(row)
    for k, row in enumerate(ramps):
        for y in range(k * band, k * band + band, 6):    # every 6th line: keeps traces small
            ops.append(lfb_write(y * pitch, row))
    # solid rectangles
    colors = [(255, 0, 0), (0, 255, 0), (0, 0, 255), (255, 255, 0), (0, 255, 255), (255, 0, 255),
              (255, 255, 255), (128, 64, 32)]
    cw = W // 8
    for i, c in enumerate(colors):
        v = pix(bpp, *c)
        for y in range(4 * band + 8, 6 * band):
            off = y * pitch + i * cw * bypp
            if bypp == 3:
                ops.append(lfb_write(off, pix_bytes(bpp, *c) * (cw - 8)))
            else:
                ops.append(lfb_fill(off, (cw - 8) * bypp, v, unit=bypp))
    return ops


@trace
def t_vbe_8bpp_640x480(ops):
    """DISPI 640x480x8 with LFB: the DAC (6-bit) holds a custom palette; bands written through
    the LFB and a pattern through the bank window."""
    ops += vbe_set(640, 480, 8)
    ops += dac(0, [(i // 4, (i * 2) % 64, 63 - i // 4) for i in range(256)])
    for y in range(0, 240):
        ops.append(lfb_fill(y * 640, 640, (y % 256) * 0x01010101, unit=4))
    row = bytes(x & 0xFF for x in range(640))
    st = {}
    for y in range(240, 480, 2):
        ops += banked_write(y * 640, row, st)


@trace
def t_vbe_8bpp_dac8(ops):
    """DISPI 800x600x8 with the 8-bit DAC flag (enable 0x61): DAC values are taken as 8 bits."""
    ops += vbe_set(800, 600, 8, enable=0x61)
    ops += dac(0, [(i, 255 - i, (i * 3) & 255) for i in range(256)])
    for y in range(600):
        ops.append(lfb_fill(y * 800, 800, ((y * 256) // 600) * 0x01010101, unit=4))


@trace
def t_vbe_15bpp_800x600(ops):
    """DISPI 800x600x15 (x1R5G5B5): ramps and colour rectangles through the LFB."""
    ops += vbe_set(800, 600, 15) + vbe_rgb_test(15, 800, 600)


@trace
def t_vbe_16bpp_1024x768(ops):
    """DISPI 1024x768x16 (R5G6B5): ramps and colour rectangles through the LFB."""
    ops += vbe_set(1024, 768, 16) + vbe_rgb_test(16, 1024, 768)


@trace
def t_vbe_24bpp_640x480(ops):
    """DISPI 640x480x24 (B,G,R bytes): ramps and rectangles through the LFB."""
    ops += vbe_set(640, 480, 24) + vbe_rgb_test(24, 640, 480)


@trace
def t_vbe_32bpp_1024x768(ops):
    """DISPI 1024x768x32: ramps, rectangles and a diagonal of dword stores through the LFB."""
    ops += vbe_set(1024, 768, 32) + vbe_rgb_test(32, 1024, 768)
    for i in range(0, 768, 2):
        ops.append({"op": "writel", "lfb": h((i * 1024 + i) * 4), "val": "0xFFFFFF"})


@trace
def t_vbe_32bpp_320x200(ops):
    """DISPI 320x200x32: a small direct-colour mode; per-pixel gradient rows."""
    ops += vbe_set(320, 200, 32)
    for y in range(0, 200, 2):
        row = b"".join(pix_bytes(32, x * 255 // 319, y * 255 // 199, 128) for x in range(320))
        ops.append(lfb_write(y * 320 * 4, row))


def vbe_virtual(bpp, xres, yres, vw, xo, yo):
    bypp = (bpp + 7) // 8
    pitch = vw * bypp
    ops = vbe_set(xres, yres, bpp, virt_w=vw)
    if bpp == 8:
        ops += dac(0, [((i * 7) % 64, (i * 3) % 64, i % 64) for i in range(256)])
    # a grid of tiles over the whole virtual area (yres + yo lines)
    for y in range(0, yres + yo, 4):
        row = bytearray()
        for tx in range(0, vw, 32):
            c = ((tx // 32) * 37 + (y // 32) * 91) & 0xFF
            rgb = ((c * 5) & 255, (c * 11) & 255, (c * 3) & 255)
            px = bytes([c]) if bpp == 8 else pix_bytes(bpp, *rgb)
            row += px * min(32, vw - tx)
        if y % 32 == 0:
            row = bytearray(b"\xff" * len(row))
        ops.append(lfb_write(y * pitch, row))
    ops += dispi(8, xo) + dispi(9, yo)
    return ops


@trace
def t_vbe_virtual_8bpp(ops):
    """Virtual width 1024 at 640x480x8, x offset 64, y offset 40 (start = 40*1024 + 64)."""
    ops += vbe_virtual(8, 640, 480, 1024, 64, 40)


@trace
def t_vbe_virtual_16bpp(ops):
    """Virtual width 1000 at 640x400x16, x offset 100, y offset 30."""
    ops += vbe_virtual(16, 640, 400, 1000, 100, 30)


@trace
def t_vbe_virtual_32bpp(ops):
    """Virtual width 800 at 512x384x32, x offset 33, y offset 17 (odd offsets are fine at 32 bpp)."""
    ops += vbe_virtual(32, 512, 384, 800, 33, 17)


@trace
def t_vbe_virtual_24bpp(ops):
    """Virtual width 704 at 640x360x24, x offset 20, y offset 8."""
    ops += vbe_virtual(24, 640, 360, 704, 20, 8)


@trace
def t_vbe_virtual_15bpp(ops):
    """Virtual width 960 at 800x600x15, x offset 80, y offset 24."""
    ops += vbe_virtual(15, 800, 600, 960, 80, 24)


@trace
def t_vbe_32bpp_1600x1200(ops):
    """DISPI 1600x1200x32 (the largest mode the design names): frame, quadrants and a grid of
    dword stores through the LFB."""
    W, H = 1600, 1200
    ops += vbe_set(W, H, 32)
    for y in range(0, H, 8):
        for q, col in enumerate((0x00C00000, 0x0000C000, 0x000000C0, 0x00C0C0C0)):
            if (y < H // 2) == (q < 2):
                x0 = (q % 2) * (W // 2)
                ops.append(lfb_fill((y * W + x0) * 4, (W // 2) * 4, col, unit=4))
    for x in range(0, W, 100):
        for y in range(0, H, 50):
            ops.append({"op": "writel", "lfb": h((y * W + x) * 4), "val": "0xFFFFFF"})
    ops.append(lfb_fill(0, W * 4, 0x00FFFF00, unit=4))
    ops.append(lfb_fill((H - 1) * W * 4, W * 4, 0x00FFFF00, unit=4))


@trace
def t_text_80x50_cursor(ops):
    """80x50 (AX=1112h) with the cursor at row 40, col 60 and its shape from AH=01h CX=0607h
    (8-line cells): first dump, cursor visible."""
    ops += [int10(0x0003), int10(0x1112, bx=0x0000)]
    ops += [put_text(40, 50, "cursor here ->  <-", 0x1F), int10(0x0100, cx=0x0607), set_cursor(40, 64)]


@trace
def t_vbe_xoffset_unaligned(ops):
    """x offset 6 at 8 bpp: the start address is kept in 4-byte units (QEMU's
    vbe_start_addr >> 2), so the picture starts at offset 4, not 6."""
    ops += vbe_virtual(8, 320, 200, 512, 6, 3)


@trace
def t_vbe_bank_16bpp(ops):
    """800x600x16 drawn only through the 64 KiB bank window (DISPI index 5) at A0000."""
    ops += vbe_set(800, 600, 16, enable=0x01)
    st = {}
    for y in range(0, 600, 6):
        row = b"".join(pix_bytes(16, (x * 255) // 799, (y * 255) // 599, ((x ^ y) & 0xFF)) for x in range(0, 800))
        ops += banked_write(y * 1600, row, st)


@trace
def t_vbe_bank_24bpp(ops):
    """640x480x24 through the bank window: 3-byte pixels straddle the 64 KiB bank boundaries."""
    ops += vbe_set(640, 480, 24, enable=0x01)
    st = {}
    for y in range(0, 480, 5):
        row = b"".join(pix_bytes(24, (x * 255) // 639, 255 - (y * 255) // 479, 96 if (x // 40 + y // 40) % 2 else 200) for x in range(640))
        ops += banked_write(y * 1920, row, st)


@trace
def t_vbe_bank_32bpp_fill(ops):
    """640x480x32: bands through the bank window with rep stosd fills (as the oracle's sample)."""
    ops += vbe_set(640, 480, 32, enable=0x01)
    W = 640
    bank = None
    for y0, y1, col in [(0, 120, 0xFF0000), (120, 240, 0x00FF00), (240, 360, 0x0000FF), (360, 480, 0x808080)]:
        start, end = y0 * W * 4, y1 * W * 4
        while start < end:
            b = start >> 16
            if b != bank:
                ops += dispi(5, b)
                bank = b
            n = min(end, (b + 1) << 16) - start
            ops.append(fill(0xA0000 + (start & 0xFFFF), n, col, unit=4))
            start += n


VGA_MMIO = 0xFEBF0000  # BAR2 of -vga std as SeaBIOS maps it under -M pc -nodefaults


def mmio_dispi(idx, val):
    """A DISPI register write through the MMIO BAR ("bochs dispi interface" at 0x500)."""
    return writew(VGA_MMIO + 0x500 + 2 * idx, val)


@trace
def t_vbe_mmio_bar(ops):
    """The card programmed through its MMIO BAR (vga-pci.c) instead of ports: DISPI registers
    at 0x500 (640x480x32 -> 320x200), the framebuffer byte order at 0x604 (big-endian: 32 bpp
    shows bytes x,R,G,B, 16 bpp is read big-endian with zero low bits; a byte write there is
    refused), VGA ports at 0x400 (DAC entry 0 red); a byte write sets a whole DISPI register
    (8 bpp); an unaligned word at 0x501 is two byte stores (TCG), the second sets XRES 160."""
    ops.append(int10(0x4F02, bx=0x4142))
    ops.append(lfb_fill(0, 640 * 480 * 4, 0x00FF8000, unit=4))
    ops.append(lfb_fill(0, 640 * 20 * 4, 0x000000FF, unit=4))
    ops.append(dump("le32"))
    ops += [mmio_dispi(1, 320), mmio_dispi(2, 200), dump("small")]
    ops += [writel(VGA_MMIO + 0x604, 0xBEBEBEBE), dump("be32")]
    ops += [writeb(VGA_MMIO + 0x604, 0x1E)]
    ops += [mmio_dispi(3, 16)]
    ops += [lfb_fill(y * 640, 640, 0xF8001F07 if y < 100 else 0x07E0FFFF, unit=4)
            for y in range(0, 200, 2)]
    ops += [dump("be16"), writel(VGA_MMIO + 0x604, 0x1E1E1E1E)]
    ops += [writeb(VGA_MMIO + 0x408, 0), writeb(VGA_MMIO + 0x409, 63),
            writeb(VGA_MMIO + 0x409, 0), writeb(VGA_MMIO + 0x409, 0)]
    ops += [writeb(VGA_MMIO + 0x506, 8), writew(VGA_MMIO + 0x501, 0xA000)]


@trace
def t_vbe_bios_modes(ops):
    """VBE through the BIOS: AX=4F02h BX=4101h (640x480x8, LFB) drawn and dumped, then
    BX=4112h (SeaVGABIOS's 640x480x24) drawn with 3-byte pixels on every other line."""
    ops.append(int10(0x4F02, bx=0x4101))
    for y in range(480):
        ops.append(lfb_fill(y * 640, 640, (y // 2) * 0x01010101, unit=4))
    ops.append(dump("m101"))
    ops.append(int10(0x4F02, bx=0x4112))
    for y in range(0, 480, 2):
        c = (255, 128, 0) if y < 240 else (0, 128, 255)
        ops.append(lfb_write(y * 640 * 3, pix_bytes(24, *c) * 640))


@trace
def t_vbe_bios_noclear_bank(ops):
    """AX=4F02h BX=0111h (640x480x16 without LFB: bank window) drawn through banks via the
    DISPI bank register, then BX=C111h (no-clear + LFB) keeps the picture."""
    ops.append(int10(0x4F02, bx=0x0111))
    st = {}
    for y in range(0, 480, 4):
        row = pix_bytes(16, y // 2, 255 - y // 2, 128) * 640
        ops += banked_write(y * 1280, row, st)
    ops.append(dump("banked"))
    ops.append(int10(0x4F02, bx=0xC111))


@trace
def t_vbe_then_text(ops):
    """DISPI 800x600x32 then int10 AX=0003h: the BIOS disables DISPI and text mode returns."""
    ops += vbe_set(800, 600, 32)
    ops.append(lfb_fill(0, 800 * 600 * 4 // 8, 0x00FF00FF, unit=4))
    ops.append(dump("vbe"))
    ops += [int10(0x0003), cursor_off(), put_text(1, 1, "back in text mode", 0x1E)]


@trace
def t_vbe_mode_switches(ops):
    """Geometry changes between VBE modes without clearing (enable 0xC1, noclear): the same
    memory shown at 640x480x32 then 1280x480x16 then 1600x1200x8."""
    ops += vbe_set(640, 480, 32)
    for y in range(0, 480, 1):
        ops.append(lfb_fill(y * 2560, 2560, [0x00FF0000, 0x0000FF00, 0x000000FF, 0x00FFFFFF][(y // 30) % 4], unit=4))
    ops.append(dump("a640"))
    ops += vbe_set(1280, 480, 16, enable=0xC1)
    ops.append(dump("b1280"))
    ops += dac(0, [(0, 0, 32)]) + dac(255, [(63, 63, 0)])
    ops += vbe_set(1600, 1200, 8, enable=0xC1)


@trace
def t_vbe_bios_functions(ops):
    """VBE services beyond 4F02h: 1024x768x8 (4105h), 4F08h DAC width 8, 4F09h palette from
    ES:DI (B,G,R,pad), 4F06h scan line length 1280 pixels, 4F07h display start (64, 32)."""
    ops.append(int10(0x4F02, bx=0x4105))
    ops.append(int10(0x4F08, bx=0x0800))
    pal = b"".join(bytes([(i * 3) & 255, (i * 5) & 255, 255 - i, 0]) for i in range(256))
    ops.append(write(SCRATCH, pal))
    ops.append(int10(0x4F09, bx=0x0000, cx=256, dx=0, es=SCRATCH_ES, di=SCRATCH_OFF))
    ops.append(int10(0x4F06, bx=0x0000, cx=1280))
    for y in range(0, 820, 2):
        row = bytes(((x // 16) + (y // 16) * 3) & 0xFF for x in range(1280))
        ops.append(lfb_write(y * 1280, row))
    ops.append(dump("pitch"))
    ops.append(int10(0x4F07, bx=0x0000, cx=64, dx=32))


@trace
def t_ega_mode6a(ops):
    """Mode 6Ah (SeaVGABIOS's 800x600x16 planar, 100 bytes per line): bars and text."""
    ops += [int10(0x006A)] + planar_bars(100, 500) + planar_reset()
    ops += [set_cursor(33, 2)] + teletype("Mode 6Ah 800x600", color=14)


@trace
def t_m13_noclear(ops):
    """Mode 93h (13h with bit 7: keep video memory) after drawing in mode 13h: the picture
    survives the mode set, the DAC is reloaded (custom entries revert)."""
    ops += [int10(0x0013)]
    for y in range(200):
        ops.append(fill(0xA0000 + y * 320, 320, y & 0xFF))
    ops += dac(1, [(63, 0, 0)] * 40) + [int10(0x0093)]


@trace
def t_text_scanlines_350(ops):
    """AX=1201h BL=30h (select 350 scan lines for the next text mode set), then mode 3.
    SeaVGABIOS accepts the call but its mode 3 stays 400 lines with the 8x16 font."""
    ops += [int10(0x1201, bx=0x0030), int10(0x0003), cursor_off()] + text_sampler(80)


@trace
def t_text_scanlines_200(ops):
    """AX=1200h BL=30h (select 200 scan lines), then mode 1: SeaVGABIOS keeps its 400-line
    8x16 40-column text (QEMU draws the cells 16 pixels wide: qemu_compat)."""
    ops += [int10(0x1200, bx=0x0030), int10(0x0001), cursor_off()] + text_sampler(40)


# ---------------------------------------------------------------------------------------------
# Mixed: mode switches and exercises of the sequence a real program uses
# ---------------------------------------------------------------------------------------------
@trace
def t_mix_text_graphics_text(ops):
    """Mode 3 -> 12h -> 13h -> 3 with dumps: each mode set restores its registers, font and
    palette (DAC reloaded after the mode 13h palette)."""
    ops += [int10(0x0003), put_text(0, 0, "first text", 0x1F), dump("t1")]
    ops += [int10(0x0012)] + planar_rect(10, 100, 20, 100, 0x0C) + planar_reset() + [dump("g12")]
    ops += [int10(0x0013), fill(0xA0000, 32000, 0x28), dump("g13")]
    ops += [int10(0x0003), cursor_off(), put_text(2, 2, "text again", 0x4E)]


@trace
def t_mix_stress_mode13(ops):
    """2,000 random single-byte stores, 200 random fills and a mid-trace dump in mode 13h."""
    rng = random.Random(13)
    ops += [int10(0x0013)]
    for i in range(2000):
        if i == 1000:
            ops.append(dump("half"))
        ops.append(writeb(0xA0000 + rng.randrange(64000), rng.randrange(256)))
    for i in range(200):
        a = rng.randrange(64000 - 400)
        ops.append(fill(0xA0000 + a, rng.randrange(1, 400), rng.randrange(256)))


@trace
def t_mix_jsonl_numbers(ops):
    """Mode 12h with integer (not string) numbers and JSON-lines form: a parsing check that also
    draws a few bands (written as .json lines by main())."""
    ops += [{"op": "int10", "ax": 0x12}]
    for i in range(4):
        ops.append({"op": "outw", "port": 0x3C4, "val": 0x0002 | ((1 << i) << 8)})
        ops.append({"op": "fill", "addr": 0xA0000 + i * 100 * 80, "len": 80 * 60, "val": 255})
    ops.append({"op": "outw", "port": 0x3C4, "val": 0x0F02})


# ---------------------------------------------------------------------------------------------
# Edge cases: register combinations emulators commonly get wrong
# ---------------------------------------------------------------------------------------------
@trace
def t_edge_attr_flipflop(ops):
    """The attribute flip-flop without re-syncing: after index 01h + data, the next write is
    an index again (02h with PAS=0 blanks the screen), then its data; 3DA is read only once.
    Ends with index 20h (PAS on)."""
    ops += [int10(0x0012)] + planar_ramp16()
    ops += [inb(0x3DA), outb(0x3C0, 0x01), outb(0x3C0, 0x3F), outb(0x3C0, 0x02), outb(0x3C0, 0x3E),
            outb(0x3C0, 0x23), outb(0x3C0, 0x3D), outb(0x3C0, 0x20)]


@trace
def t_edge_attr_blanked(ops):
    """Palette address source off (AR index written without bit 5): QEMU shows a blank screen
    (dump 'blank'); index 20h turns the picture back on."""
    ops += [int10(0x0013), fill(0xA0000, 64000, 0x2C)]
    ops += [inb(0x3DA), outb(0x3C0, 0x05), dump("blank"), inb(0x3DA), outb(0x3C0, 0x20)]


@trace
def t_edge_dac_subindex(ops):
    """DAC sub-index: two components written to entry 5, then a write to the read index (3C7)
    resets the sub-index, so the next three bytes complete entry 5 afresh; 3C8 without data
    changes nothing."""
    ops += [int10(0x0013)]
    for i in range(8):
        ops.append(fill(0xA0000 + i * 25 * 320, 25 * 320, i + 1))
    ops += [outb(0x3C8, 5), outb(0x3C9, 63), outb(0x3C9, 63), outb(0x3C7, 0),
            outb(0x3C9, 10), outb(0x3C9, 40), outb(0x3C9, 20), outb(0x3C9, 63), outb(0x3C9, 0),
            outb(0x3C9, 0), outb(0x3C8, 2)]


@trace
def t_edge_text_at_a0000(ops):
    """Text mode with the memory map (GR6 bits 2-3) set to A0000h-AFFFFh: the text is written
    through the new window; a store at B8000h then goes nowhere."""
    ops += [int10(0x0003), cursor_off(), gc(6, 0x06)]
    ops.append(put_text(3, 0, "written at A0000 with GR6=06", 0x1E, base=0xA0000))
    ops.append(put_text(5, 0, "written at B8000: invisible", 0x4F, base=0xB8000))


@trace
def t_edge_cga_addressing_bit(ops):
    """CR17 bit 0 cleared in mode 12h (the CGA compatibility bit): address bit 13 of each
    line comes from the scan-line counter bit 0, so odd lines show memory 8 KiB up."""
    ops += [int10(0x0012)] + planar_ramp16()
    ops += planar_rect(0, 100, 80, 100, 0x0E) + planar_reset()
    ops.append(crtc(0x17, 0xE2))


@trace
def t_edge_hercules_bit(ops):
    """CR17 bit 1 cleared in mode 12h: address bit 14 comes from the row-scan bit 1."""
    ops += [int10(0x0012)] + planar_ramp16()
    ops += planar_rect(0, 200, 80, 60, 0x0C) + planar_reset()
    ops.append(crtc(0x17, 0xE1))


@trace
def t_edge_graphics_from_registers(ops):
    """The picture follows the registers, not the BIOS mode: mode 13h data shown after GR5
    bit 6 (256-colour shift) is cleared (16-colour interpretation), dumped as 'gr5', then
    mode 12h with GR5 bit 6 set (256-colour interpretation of planar data)."""
    ops += [int10(0x0013)]
    for y in range(100):
        ops.append(fill(0xA0000 + y * 320, 320, (y * 2) & 0xFF))
    ops += [gc(5, 0x00), dump("gr5"), int10(0x0012)] + planar_ramp16() + [gc(5, 0x40)]


@trace
def t_edge_vde_short(ops):
    """Vertical display end (CR12 + CR07 bits 1/6) lowered in mode 12h: CR12=8Fh with CR07
    bits 1 and 6 clear gives 143, so the screen is 144 lines high."""
    ops += [int10(0x0012)] + planar_ramp16() + planar_rect(0, 395, 80, 10, 0x0F) + planar_reset()
    ops += [crtc(0x11, 0x0C), crtc(0x12, 0x8F), crtc(0x07, 0x3C)]


@trace
def t_edge_hde_narrow(ops):
    """Horizontal display end (CR01) lowered in mode 13h: 0x3F -> 256 pixels wide (doubled
    to 512); the line offset stays 320 bytes."""
    ops += [int10(0x0013)]
    for y in range(200):
        ops.append(fill(0xA0000 + y * 320, 320, 32 + (y // 8)))
        ops.append(fill(0xA0000 + y * 320 + 250, 10, 15))
    ops += [crtc(0x11, 0x0E), crtc(0x01, 0x3F)]


@trace
def t_edge_screen_off(ops):
    """Sequencer clocking mode bit 5 (screen off) set in mode 13h, dump 'off', then cleared."""
    ops += [int10(0x0013), fill(0xA0000, 64000, 0x28)]
    ops += [seq(1, 0x21), dump("off"), seq(1, 0x01)]


@trace
def t_edge_planar_start_wrap(ops):
    """Mode 12h start address FFF0h: the 64 KiB plane wraps (hardware) -- QEMU keeps reading
    linearly past the end; bars near the top of memory and a marker at address 0."""
    ops += [int10(0x0012)] + planar_ramp16() + planar_rect(0, 0, 80, 20, 0x0F) + planar_reset()
    ops += start_address(0xFFF0 - 80 * 800 // 8 + 80 * 60)


@trace
def t_edge_text_double_scan(ops):
    """CR09 bit 7 (double scan) in mode 3: every scan line twice, so 12.5 text rows fill the
    400 lines."""
    ops += [int10(0x0003), cursor_off()] + numbered_rows(25) + [crtc(0x09, 0xCF)]


@trace
def t_edge_preset_row_scan(ops):
    """CR08 preset row scan = 5 in mode 3: the first text row starts at its 6th scan line
    (smooth vertical scrolling)."""
    ops += [int10(0x0003), cursor_off()] + numbered_rows(26) + [crtc(0x08, 0x05)]


@trace
def t_edge_cursor_variants(ops):
    """Cursor corner cases, one dump each: start > end ('inverted'), start beyond the cell
    ('beyond'), end beyond the cell height ('tall'), skew bits in CR0B ('skew'); the first dump
    (a plain block) shows the cursor, later ones are taken within the first blink phase."""
    ops += [int10(0x0003), put_text(10, 0, "cursor ->", 0x07)]
    loc = 10 * 80 + 10
    ops += [crtc(0x0E, loc >> 8), crtc(0x0F, loc & 0xFF), crtc(0x0A, 0x00), crtc(0x0B, 0x0F), dump("block")]
    ops += [crtc(0x0A, 0x0C), crtc(0x0B, 0x04), dump("inverted")]
    ops += [crtc(0x0A, 0x11), crtc(0x0B, 0x13), dump("beyond")]
    ops += [crtc(0x0A, 0x0A), crtc(0x0B, 0x1F), dump("tall")]
    ops += [crtc(0x0A, 0x06), crtc(0x0B, 0x4D)]


@trace
def t_edge_cursor_offscreen(ops):
    """Cursor location beyond the visible page (row 30) and a start address that scrolls the
    page by 2 rows: the cursor follows the memory address (row 8 on screen)."""
    ops += [int10(0x0003)] + numbered_rows(32)
    loc = 10 * 80 + 40
    ops += start_address(2 * 80) + [crtc(0x0E, loc >> 8), crtc(0x0F, loc & 0xFF)]


@trace
def t_edge_vbe_4bpp_bios(ops):
    """VBE mode 102h (800x600, 4 bpp planar) through the BIOS, planar writes with the map
    mask; QEMU 7.2 keeps the DISPI sequencer copy, so what reaches the screen is QEMU's."""
    ops.append(int10(0x4F02, bx=0x0102))
    for i, m in enumerate((0x01, 0x02, 0x04, 0x0F)):
        ops += [seq(2, m), fill(0xA0000 + i * 100 * 100, 80 * 100, 0xFF)]
    ops.append(seq(2, 0x0F))


@trace
def t_edge_vbe_window_b0000(ops):
    """DISPI 640x480x8: stores at B0000h fall outside the 64 KiB bank window and are lost;
    stores at A0000h land in bank 1 (set through index 5)."""
    ops += vbe_set(640, 480, 8, enable=0x01)
    ops += dac(0, [(i % 64, (i * 3) % 64, 63 - i % 64) for i in range(256)])
    ops += dispi(5, 1) + [fill(0xA0000, 0x10000, 0x21, unit=1), fill(0xB0000, 0x8000, 0x0F)]
    ops += dispi(5, 0) + [fill(0xA0000, 0x8000, 0x40)]


@trace
def t_edge_vbe_dac8_toggle(ops):
    """8-bit DAC flag (DISPI enable bit 5) set after the palette was written with 8-bit
    values: the same DAC bytes read as 8-bit; then dump 'dac6' with the flag cleared."""
    ops += vbe_set(320, 200, 8)
    ops += dac(0, [(i, (i * 2) & 255, 255 - i) for i in range(256)])
    for y in range(200):
        ops.append(lfb_fill(y * 320, 320, (y * 256 // 200) * 0x01010101, unit=4))
    ops += [dump("dac6")] + dispi(4, 0x61)


@trace
def t_edge_vbe_dac8_palette16(ops):
    """The DISPI 8-bit DAC flag with VBE off (enable 0x20) in mode 12h: 16-colour modes keep
    widening 6-bit DAC values (QEMU's update_palette16 ignores dac_8bit), so the bars keep
    their colours, and the band drawn after the flag uses them too."""
    ops += [int10(0x0012)] + planar_bars(80, 480) + planar_reset()
    ops += [dump("dac6")] + dispi(4, 0x20) + [dump("flag")]
    ops += [fill(0xA0000 + 200 * 80, 40 * 80, 0xF0)]


@trace
def t_edge_oddeven_graphics(ops):
    """Odd/even addressing in a graphics mode: mode 0Dh with SR4 odd/even on (bit 2 clear) and
    GR5 bit 4 set: even bytes go to planes 0/2, odd to 1/3, so pixel colours pair up."""
    ops += [int10(0x000D), seq(4, 0x02), gc(5, 0x10), seq(2, 0x0F)]
    for y in range(0, 100):
        ops.append(write(0xA0000 + y * 40, bytes([0xFF, 0x0F] * 20)))
    ops += [seq(4, 0x06), gc(5, 0x00)]


@trace
def t_edge_9dot_lge_off(ops):
    """AR10 bit 2 (line graphics enable) cleared: the 9th column is background for every
    glyph, C0h-DFh included."""
    ops += [int10(0x0003), cursor_off()]
    ops.append(put_text(2, 0, [c for c in range(0xC0, 0xE0) for _ in (0, 1)], 0x1E))
    ops.append(put_text(4, 0, [0xC4] * 40 + [0xDB] * 40, 0x4F))
    ops += attr(0x10, 0x08)


@trace
def t_edge_text_color_plane_enable(ops):
    """Colour plane enable (AR12 = 03h) in text mode: attribute colours lose bits 2 and 3."""
    ops += [int10(0x0003), cursor_off()]
    for fg in range(16):
        ops.append(put_text(2 + fg, 0, [0xDB] * 12 + list(" fg %2d" % fg), fg | 0x10))
    ops += attr(0x12, 0x03)


@trace
def t_edge_text_color_select(ops):
    """Colour select in text mode: AR14 = 04h (DAC bits 6-7 = 01), dump 'cs', then AR10
    bit 7 with AR14 = 0Bh (bits 4-5 from AR14 too). DAC 64-255 loaded with a ramp."""
    ops += [int10(0x0003), cursor_off()]
    ops += dac(64, [((i * 5) % 64, (i * 3) % 64, 63 - (i % 64)) for i in range(192)])
    for fg in range(16):
        ops.append(put_text(2 + fg, 0, [0xDB] * 12 + list(" fg %2d" % fg), fg | 0x10))
    ops += attr(0x14, 0x04) + [dump("cs")] + attr(0x10, 0x8C) + attr(0x14, 0x0B)


@trace
def t_edge_line_compare_zero(ops):
    """Line compare 0 and 1 in mode 12h with the start address 100 lines down: dump 'lc0'
    (split right after the first line), then line compare 1."""
    ops += [int10(0x0012)] + planar_ramp16() + planar_rect(0, 100, 80, 40, 0x0F) + planar_reset()
    ops += start_address(100 * 80) + line_compare(0, 0x3E, 0x40) + [dump("lc0")]
    ops += line_compare(1, 0x3E, 0x40)


@trace
def t_m13_map_mask_chain4(ops):
    """Chain-4 stores with a partial map mask (SR2 = 05h): only pixels with x & 3 in {0, 2}
    are written (QEMU also drops its chain-4 alias for the fast path)."""
    ops += [int10(0x0013)]
    for y in range(0, 200, 2):
        ops.append(fill(0xA0000 + y * 320, 320, 40 + (y // 10)))
    ops += [seq(2, 0x05)]
    for y in range(1, 200, 2):
        ops.append(fill(0xA0000 + y * 320, 320, 15))
    ops.append(seq(2, 0x0F))


@trace
def t_m13_chain4_128k(ops):
    """Mode 13h with GR6 memory map 0 (A0000h-BFFFFh, 128 KiB): stores at B0000h reach VRAM
    64 KiB up; the start address (counted in 4-byte units) 4000h shows them."""
    ops += [int10(0x0013), gc(6, 0x01)]
    for y in range(200):
        ops.append(fill(0xB0000 + y * 320, 320, 64 + (y // 4) % 64 if y < 150 else 0x0F))
    ops += start_address(0x4000)


@trace
def t_edge_chain4_ignores_gc(ops):
    """Mode 13h stores with enable set/reset (GR1=0Fh, GR0=05h), a rotate and the AND
    function programmed: QEMU's chain-4 path stores the CPU byte as is."""
    ops += [int10(0x0013), gc(0, 0x05), gc(1, 0x0F), gc(3, 0x0B), gc(8, 0x0F)]
    for y in range(100):
        ops.append(fill(0xA0000 + y * 320, 320, 32 + (y // 4)))
    ops += [gc(0, 0), gc(1, 0), gc(3, 0), gc(8, 0xFF)]


@trace
def t_edge_vbe_fixup(ops):
    """Bochs DISPI sanity fix-ups (QEMU's vbe_fixup_regs): xres 1003 -> 1000, bpp 12 -> 8,
    virtual width 500 (< xres) -> 1000, y offset 5000 clamped to what VRAM holds."""
    ops += [outw(0x1CE, 4), outw(0x1CF, 0), outw(0x1CE, 1), outw(0x1CF, 1003), outw(0x1CE, 2),
            outw(0x1CF, 300), outw(0x1CE, 3), outw(0x1CF, 12), outw(0x1CE, 6), outw(0x1CF, 500),
            outw(0x1CE, 4), outw(0x1CF, 0x41)]
    ops += dac(0, [((i * 7) % 64, (i * 5) % 64, (i * 3) % 64) for i in range(256)])
    for y in range(0, 300):
        ops.append(lfb_fill(y * 1000, 1000, ((y // 10) * 0x01010101) & 0xFFFFFFFF, unit=4))
    ops += [dump("fixed")] + dispi(9, 5000)


@trace
def t_edge_cursor_phase_modes(ops):
    """The cursor blink phase across mode changes, all within one blink period: text dump
    't1' (first text draw: visible), text mode 1 set (still text) dump 't2', graphics dump
    'g', then text mode 3 again (final). QEMU restarts its blink timer when the display
    switches between text and graphics, toggling the phase on the next text draw."""
    ops += [int10(0x0003), put_text(0, 0, "phase test", 0x07), set_cursor(1, 0), dump("t1")]
    ops += [int10(0x0001), set_cursor(1, 0), dump("t2")]
    ops += [int10(0x0012), dump("g")]
    ops += [int10(0x0003), put_text(0, 0, "back in mode 3", 0x07), set_cursor(1, 0)]


@trace
def t_boot_screen(ops):
    """No mode set at all: what SeaBIOS left on the screen when the boot sector started (its
    banner, "Booting from Hard Disk...", the cursor on row 2) -- the state every trace starts
    from."""


@trace
def t_boot_dispi_8bpp(ops):
    """Bochs DISPI 8 bpp programmed straight after boot, without touching the DAC: the
    colours are whatever the boot-time mode 3 palette holds (entries 0-63; the rest black)."""
    ops += vbe_set(640, 480, 8)
    for y in range(480):
        ops.append(lfb_fill(y * 640, 640, ((y // 2) & 0xFF) * 0x01010101, unit=4))


JSONL = {"mix_jsonl_numbers"}          # written as JSON lines
OBJECT_FORM = {"m13_offset"}           # written as {"ops": [...]}


def main(argv=None):
    only = set(argv or sys.argv[1:])
    written = set()
    for name, fn in TRACES.items():
        ops = [comment((fn.__doc__ or "").strip().replace("\n    ", " "))]
        fn(ops)
        ops.append(halt())
        path = os.path.join(HERE, name + ".json")
        written.add(os.path.basename(path))
        if only and name not in only:
            continue
        with open(path, "w") as f:
            if name in JSONL:
                f.write("# %s: JSON lines form (one op per line)\n" % name)
                f.write("".join(json.dumps(o) + "\n" for o in ops))
            elif name in OBJECT_FORM:
                f.write('{"ops": [\n' + ",\n".join(json.dumps(o) for o in ops) + "\n]}\n")
            else:
                f.write("[\n" + ",\n".join(json.dumps(o) for o in ops) + "\n]\n")
    if not only:
        for fn_ in os.listdir(HERE):
            if fn_.endswith(".json") and fn_ not in written:
                os.remove(os.path.join(HERE, fn_))
    print("%d traces in %s" % (len(written), os.path.relpath(HERE)))


if __name__ == "__main__":
    main()
