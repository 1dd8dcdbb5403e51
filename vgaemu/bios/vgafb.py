"""Framebuffer operations of SeaVGABIOS (vgasrc/vgafb.c): characters, pixels, scrolling.

Graphics modes go through one small set of primitives (read 8 pixels, write 8 pixels, fill a
rectangle, move a rectangle) implemented per memory model - planar (one plane at a time via
map mask / read map select, so reads load the VGA latches as on hardware), CGA (interleaved
banks at B800:0000 / B800:2000), packed 8-bit, and direct colour through the linear
framebuffer - exactly as the real BIOS touches video memory.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field

import numpy as np

from vgaemu.vga.state import GR_BIT_MASK, GR_DATA_ROTATE, GR_MODE

from .data import MM_CGA, MM_DIRECT, MM_PACKED, MM_PLANAR, MM_TEXT, VgaMode
from .stdvga import SEG_CTEXT, SEG_GRAPH

GO_READ8, GO_WRITE8, GO_MEMSET, GO_MEMMOVE = range(4)


@dataclass
class GfxOp:
    vmode: VgaMode
    linelength: int
    displaystart: int
    x: int = 0
    y: int = 0
    xlen: int = 0
    ylen: int = 0
    srcy: int = 0
    op: int = GO_READ8
    pixels: list[int] = field(default_factory=lambda: [0] * 8)


def _div_round_closest(n: int, d: int) -> int:
    return (n + d // 2) // d


def _color_bits(depth: int) -> tuple[int, int, int]:
    if depth == 15:
        return 5, 5, 5
    if depth == 16:
        return 5, 6, 5
    return 8, 8, 8


def get_color(depth: int, attr: int) -> int:
    """Map a CGA attribute to a direct-colour pixel (vgafb.c get_color)."""
    rbits, gbits, bbits = _color_bits(depth)
    h = 1 if attr & 8 else 0
    r = 2 if attr & 4 else 0
    g = 2 if attr & 2 else 0
    b = 2 if attr & 1 else 0
    if (attr & 0xF) == 6:
        g = 1
    rv = _div_round_closest(((1 << rbits) - 1) * (r + h), 3)
    gv = _div_round_closest(((1 << gbits) - 1) * (g + h), 3)
    bv = _div_round_closest(((1 << bbits) - 1) * (b + h), 3)
    return (rv << (gbits + bbits)) + (gv << bbits) + bv


def reverse_color(depth: int, color: int) -> int:
    """Nearest CGA attribute of a direct-colour pixel (vgafb.c reverse_color)."""
    rbits, gbits, bbits = _color_bits(depth)
    rv = (color >> (gbits + bbits)) & ((1 << rbits) - 1)
    gv = (color >> bbits) & ((1 << gbits) - 1)
    bv = color & ((1 << bbits) - 1)
    r = _div_round_closest(rv * 3, (1 << rbits) - 1)
    g = _div_round_closest(gv * 3, (1 << gbits) - 1)
    b = _div_round_closest(bv * 3, (1 << bbits) - 1)
    h = 1 if (r and g and b and (r != 2 or g != 2 or b != 2)) else 0
    return ((8 if h else 0) | (4 if r - h else 0) | (2 if g - h else 0) | (1 if b - h else 0))


_GLYPH_BITS = np.unpackbits(np.arange(256, dtype=np.uint8)[:, None], axis=1)  # (256, 8), MSB first


@functools.lru_cache(maxsize=512)
def _glyph_rows(key: tuple) -> tuple[bytes, ...]:
    """For each glyph byte, what GO_WRITE8 stores for that scanline with the colour in
    ``key`` on a 0 background: ("packed", fg) 8 bytes; ("cga", bpp, fg) 1 byte (1 bpp) or 2
    bytes, high pixels first (2 bpp)."""
    if key[0] == "packed":
        table = _GLYPH_BITS * np.uint8(key[1])
    elif key[1] == 1:
        table = np.packbits(_GLYPH_BITS * np.uint8(key[2]), axis=1)
    else:
        pairs = (_GLYPH_BITS * np.uint8(key[2])).reshape(256, 2, 4)
        table = (pairs << np.array([6, 4, 2, 0], np.uint8)).sum(axis=2, dtype=np.uint8)
    return tuple(row.tobytes() for row in table)


@functools.lru_cache(maxsize=512)
def _direct_colours(depth: int, bg: int, fg: int) -> np.ndarray:
    """The background and foreground pixels of a direct-colour cell, as (2, bytes per pixel)."""
    bypp = -(-depth // 8)
    colours = np.array([list(get_color(depth, c).to_bytes(4, "little")[:bypp]) for c in (bg, fg)],
                       dtype=np.uint8)
    colours.flags.writeable = False
    return colours


class VgaFB:
    def __init__(self, bios) -> None:
        self.bios = bios
        self.bus = bios.bus
        self.std = bios.std

    # ------------------------------------------------------------------ gfx primitives
    def init_gfx_op(self, vmode: VgaMode) -> GfxOp:
        return GfxOp(vmode=vmode, linelength=self.bios.hw_get_linelength(vmode),
                     displaystart=self.bios.hw_get_displaystart(vmode))

    def handle_gfx_op(self, op: GfxOp) -> None:
        mm = op.vmode.memmodel
        if mm == MM_PLANAR:
            self._gfx_planar(op)
        elif mm == MM_CGA:
            self._gfx_cga(op)
        elif mm == MM_PACKED:
            self._gfx_packed(op)
        elif mm == MM_DIRECT:
            self._gfx_direct(op)

    # Real-mode far accesses: ``base`` is a segment's linear address (offsets wrap at 64K,
    # as SeaVGABIOS's 16-bit far pointers do - e.g. AH=0Ch at (100,100) in 800x600x8 lands
    # at offset 80100 & 0xFFFF under QEMU); ``base`` 0 means flat (the LFB, no wrap).
    def _read(self, base: int, off: int, n: int) -> bytes:
        if not base:
            return self.bus.read(off, n)
        off &= 0xFFFF
        if off + n <= 0x10000:
            return self.bus.read(base + off, n)
        first = 0x10000 - off
        return self.bus.read(base + off, first) + self._read(base, 0, n - first)

    def _write(self, base: int, off: int, data: bytes) -> None:
        if not base:
            self.bus.write(off, data)
            return
        off &= 0xFFFF
        if off + len(data) <= 0x10000:
            self.bus.write(base + off, data)
            return
        first = 0x10000 - off
        self.bus.write(base + off, data[:first])
        self._write(base, 0, data[first:])

    # GET_FARVAR/SET_FARVAR: gcc -m16 addresses with a 32-bit offset and QEMU's TCG checks no
    # segment limits, so single loads and stores do not wrap at 64K (a character past the end
    # of the segment lands beyond the window and is lost); only the rep string ops above wrap.
    # A byte or a word is one access of that size (the AddressSpace's ld/st fast paths, the
    # same dispatch address_space_rw makes for it): a character cell, a glyph scanline.
    def _peek(self, base: int, off: int, n: int) -> bytes:
        if n == 1:
            return bytes((self.bus.readb(base + off),))
        return self.bus.read(base + off, n)

    def _poke(self, base: int, off: int, data: bytes) -> None:
        n = len(data)
        if n == 1:
            self.bus.writeb(base + off, data[0])
        elif n == 2:
            self.bus.writew(base + off, data[0] | data[1] << 8)
        else:
            self.bus.write(base + off, data)

    def _movsb_bytewise(self, base: int) -> bool:
        """True when memcpy_far's ``rep movsb`` must be replayed byte by byte: each byte's
        read loads the VGA latches that its write then uses (write modes 1 and 3, a logical
        operation, a bit mask), so reading a whole line first would write the wrong bytes."""
        if not base:
            return False
        vga = getattr(getattr(self.bus, "machine", None), "vga", None)
        if vga is None:
            return True
        gr = vga.state.gr
        return bool(gr[GR_MODE] & 1) or bool(gr[GR_DATA_ROTATE] & 0x18) or gr[GR_BIT_MASK] != 0xFF

    def _memmove_stride(self, base: int, dst: int, src: int, copylen: int, stride: int,
                        lines: int) -> None:
        if copylen <= 0 or lines <= 0:
            return
        order = range(lines - 1, -1, -1) if src < dst else range(lines)
        if self._movsb_bytewise(base) or abs(dst - src) < copylen:
            # rep movsb: read one byte, write it, next (forward, offsets wrap at 64K)
            for i in order:
                d, s_ = dst + i * stride, src + i * stride
                for j in range(copylen):
                    self._write(base, d + j, self._read(base, s_ + j, 1))
            return
        total = copylen * lines
        if copylen == stride and src >= dst and (not base or (
                (src & 0xFFFF) + total <= 0x10000 and (dst & 0xFFFF) + total <= 0x10000)):
            # Whole lines moving up (a full-width scroll) inside the segment: the lines are
            # one contiguous run, and line by line upwards each read comes before any write
            # reaches it, so one read and one write give the same memory; the latches end
            # loaded by the last byte read either way.
            self._write(base, dst, self._read(base, src, total))
            return
        for i in order:
            self._write(base, dst + i * stride, self._read(base, src + i * stride, copylen))

    def _memset_stride(self, base: int, dst: int, val: bytes, setlen: int, stride: int,
                       lines: int) -> None:
        if setlen <= 0:
            return
        reps = -(-setlen // len(val))
        data = (val * reps)[:setlen]
        if setlen == stride and lines > 1:
            # whole lines: one contiguous run; writes never load the latches, so one write
            # of all of it stores what the line-by-line writes store
            self._write(base, dst, data * lines)
            return
        for i in range(max(lines, 0)):
            self._write(base, dst + i * stride, data)

    def _gfx_planar(self, op: GfxOp) -> None:
        std, bus = self.std, self.bus
        base = SEG_GRAPH * 16
        dest = op.y * op.linelength + op.x // 8
        if op.op == GO_WRITE8:
            for plane in range(4):
                std.planar4_plane(plane)
                data = 0
                for p in range(8):
                    data |= ((op.pixels[p] >> plane) & 1) << (7 - p)
                self._poke(base, dest, bytes((data,)))
        elif op.op == GO_MEMSET:
            for plane in range(4):
                std.planar4_plane(plane)
                data = 0xFF if op.pixels[0] & (1 << plane) else 0x00
                self._memset_stride(base, dest, bytes((data,)), op.xlen // 8, op.linelength,
                                    op.ylen)
        elif op.op == GO_MEMMOVE:
            src = op.srcy * op.linelength + op.x // 8
            for plane in range(4):
                std.planar4_plane(plane)
                self._memmove_stride(base, dest, src, op.xlen // 8, op.linelength, op.ylen)
        else:  # GO_READ8 (reading each plane also loads the latches, as on hardware)
            pixels = [0] * 8
            for plane in range(4):
                std.planar4_plane(plane)
                data = self._peek(base, dest, 1)[0]
                for p in range(8):
                    pixels[p] |= ((data >> (7 - p)) & 1) << plane
            op.pixels = pixels
        std.planar4_plane(-1)

    def _gfx_cga(self, op: GfxOp) -> None:
        bus = self.bus
        bpp = op.vmode.depth
        base = SEG_CTEXT * 16
        dest = op.y // 2 * op.linelength + op.x // 8 * bpp
        if op.op == GO_WRITE8:
            if op.y & 1:
                dest += 0x2000
            if bpp == 1:
                data = 0
                for p in range(8):
                    data |= (op.pixels[p] & 1) << (7 - p)
                self._poke(base, dest, bytes((data,)))
            else:
                data = 0
                for p in range(8):
                    data |= (op.pixels[p] & 3) << ((7 - p) * 2)
                self._poke(base, dest, data.to_bytes(2, "big"))
        elif op.op == GO_MEMSET:
            data = op.pixels[0]
            if bpp == 1:
                data = (data & 1) | ((data & 1) << 1)
            data &= 3
            data |= (data << 2) | (data << 4) | (data << 6)
            n = op.xlen // 8 * bpp
            self._memset_stride(base, dest, bytes((data,)), n, op.linelength, op.ylen // 2)
            self._memset_stride(base, dest + 0x2000, bytes((data,)), n, op.linelength,
                                op.ylen // 2)
        elif op.op == GO_MEMMOVE:
            src = op.srcy // 2 * op.linelength + op.x // 8 * bpp
            n = op.xlen // 8 * bpp
            self._memmove_stride(base, dest, src, n, op.linelength, op.ylen // 2)
            self._memmove_stride(base, dest + 0x2000, src + 0x2000, n, op.linelength,
                                 op.ylen // 2)
        else:
            if op.y & 1:
                dest += 0x2000
            if bpp == 1:
                data = self._peek(base, dest, 1)[0]
                op.pixels = [(data >> (7 - p)) & 1 for p in range(8)]
            else:
                data = int.from_bytes(self._peek(base, dest, 2), "big")
                op.pixels = [(data >> ((7 - p) * 2)) & 3 for p in range(8)]

    def _gfx_packed(self, op: GfxOp) -> None:
        bus = self.bus
        base = SEG_GRAPH * 16
        dest = op.y * op.linelength + op.x
        if op.op == GO_WRITE8:
            self._write(base, dest, bytes(p & 0xFF for p in op.pixels))
        elif op.op == GO_MEMSET:
            self._memset_stride(base, dest, bytes((op.pixels[0] & 0xFF,)), op.xlen,
                                op.linelength, op.ylen)
        elif op.op == GO_MEMMOVE:
            src = op.srcy * op.linelength + op.x
            self._memmove_stride(base, dest, src, op.xlen, op.linelength, op.ylen)
        else:
            op.pixels = list(self._read(base, dest, 8))

    def _gfx_direct(self, op: GfxOp) -> None:
        fb = self.bios.vbe_framebuffer
        if not fb:
            return
        bus = self.bus
        depth = op.vmode.depth
        bypp = -(-depth // 8)
        dest = fb + op.displaystart + op.y * op.linelength + op.x * bypp
        if op.op == GO_WRITE8:
            data = b"".join(get_color(depth, p).to_bytes(4, "little")[:bypp]
                            for p in op.pixels)
            bus.write(dest, data)
        elif op.op == GO_MEMSET:
            px = get_color(depth, op.pixels[0]).to_bytes(4, "little")[:bypp]
            self._memset_stride(0, dest, px, op.xlen * bypp, op.linelength, op.ylen)
        elif op.op == GO_MEMMOVE:
            src = fb + op.displaystart + op.srcy * op.linelength + op.x * bypp
            self._memmove_stride(0, dest, src, op.xlen * bypp, op.linelength, op.ylen)
        else:
            raw = bus.read(dest, bypp * 8) + b"\0\0\0\0"
            op.pixels = [reverse_color(depth, int.from_bytes(raw[i * bypp:i * bypp + 4],
                                                             "little"))
                         for i in range(8)]

    # ------------------------------------------------------------------ gfx characters
    def get_font_data(self, c: int) -> int:
        """Linear address of glyph ``c``: INT 43h's font, or INT 1Fh's for 8x8 chars >= 128."""
        bda = self.bios.bda
        char_height = bda.char_height
        if char_height == 8 and c >= 128:
            seg, off = self.bios.get_ivt(0x1F)
            c -= 128
        else:
            seg, off = self.bios.get_ivt(0x43)
        off = (off + c * char_height) & 0xFFFF
        return (seg << 4) + off

    def _gfx_move_chars(self, vmode, dest, movesize, lines) -> None:
        op = self.init_gfx_op(vmode)
        cheight = self.bios.bda.char_height
        op.x = dest[0] * 8
        op.xlen = movesize[0] * 8
        op.y = dest[1] * cheight
        op.ylen = movesize[1] * cheight
        op.srcy = op.y + lines * cheight
        op.op = GO_MEMMOVE
        self.handle_gfx_op(op)

    def _gfx_clear_chars(self, vmode, win, winsize, attr) -> None:
        op = self.init_gfx_op(vmode)
        cheight = self.bios.bda.char_height
        op.x = win[0] * 8
        op.xlen = winsize[0] * 8
        op.y = win[1] * cheight
        op.ylen = winsize[1] * cheight
        op.pixels[0] = attr
        op.op = GO_MEMSET
        self.handle_gfx_op(op)

    def _gfx_write_char(self, vmode: VgaMode, cp, car: int, attr: int) -> None:
        bda = self.bios.bda
        if cp[0] >= bda.video_cols:
            return
        font = self.get_font_data(car)
        op = self.init_gfx_op(vmode)
        op.x = cp[0] * 8
        cheight = bda.char_height
        op.y = cp[1] * cheight
        fgattr, bgattr = attr, 0x00
        usexor = False
        if fgattr & 0x80 and vmode.depth < 8:
            usexor = True
            fgattr &= 0x7F
        glyph = self.bus.read(font, cheight)
        if vmode.memmodel == MM_PLANAR and not usexor:
            self._planar_write_glyph(op, glyph, fgattr, bgattr)
            return
        if vmode.memmodel == MM_DIRECT and not usexor:
            self._direct_write_glyph(op, glyph, fgattr, bgattr)
            return
        if (vmode.memmodel == MM_PACKED and not usexor
                and self._packed_write_glyph(op, glyph, fgattr)):
            return
        if vmode.memmodel == MM_CGA and not usexor and self._cga_write_glyph(op, glyph, fgattr):
            return
        for i in range(cheight):
            fontline = glyph[i]
            if usexor:
                op.op = GO_READ8
                self.handle_gfx_op(op)
                op.pixels = [p ^ (fgattr if fontline & (0x80 >> j) else 0)
                             for j, p in enumerate(op.pixels)]
            else:
                op.pixels = [fgattr if fontline & (0x80 >> j) else bgattr for j in range(8)]
            op.op = GO_WRITE8
            self.handle_gfx_op(op)
            op.y += 1

    # The two writers below store, scanline by scanline, exactly the writes the GO_WRITE8
    # loop makes (same addresses, sizes and order; neither path reads), a table look-up per
    # glyph byte instead of a GfxOp and eight pixels per scanline.
    # They return True when done (tests and benchmarks patch them to return False to run
    # the loop instead).
    def _packed_write_glyph(self, op: GfxOp, glyph: bytes, fg: int) -> bool:
        """A character cell in a packed 8-bit mode: fg where the glyph has a bit, 0 else."""
        rows = _glyph_rows(("packed", fg & 0xFF))
        base = SEG_GRAPH * 16
        dest = op.y * op.linelength + op.x
        for i, line in enumerate(glyph):
            self._write(base, dest + i * op.linelength, rows[line])
        return True

    def _cga_write_glyph(self, op: GfxOp, glyph: bytes, fg: int) -> bool:
        """A character cell in a CGA mode: a byte (1 bpp) or a big-endian word (2 bpp) per
        scanline, in the even or the odd bank by the scanline's parity."""
        bpp = op.vmode.depth
        if bpp not in (1, 2):
            return False
        rows = _glyph_rows(("cga", bpp, fg & (1 if bpp == 1 else 3)))
        base = SEG_CTEXT * 16
        col = op.x // 8 * bpp
        for i, line in enumerate(glyph):
            y = op.y + i
            self._poke(base, y // 2 * op.linelength + col + (0x2000 if y & 1 else 0), rows[line])
        return True

    def _direct_write_glyph(self, op: GfxOp, glyph: bytes, fg: int, bg: int) -> None:
        """A character cell in a direct-colour (VBE 15-32 bpp) mode: the bytes the per-row
        GO_WRITE8 path stores, built with numpy from two colours instead of one get_color
        per pixel (a cell is 128 pixels), one framebuffer write per row."""
        fb = self.bios.vbe_framebuffer
        if not fb:
            return
        depth = op.vmode.depth
        bypp = -(-depth // 8)
        colours = _direct_colours(depth, bg, fg)
        bits = np.unpackbits(np.frombuffer(glyph, dtype=np.uint8)).reshape(len(glyph), 8)
        rows = colours[bits].reshape(len(glyph), 8 * bypp)
        dest = fb + op.displaystart + op.y * op.linelength + op.x * bypp
        for i in range(len(glyph)):
            self.bus.write(dest + i * op.linelength, rows[i].tobytes())
        op.y += len(glyph)

    def _planar_write_glyph(self, op: GfxOp, glyph: bytes, fg: int, bg: int) -> None:
        """A character cell in a planar mode, plane by plane.

        SeaVGABIOS writes each scanline's four planes in turn (GO_WRITE8); without XOR it
        never reads, so writing all scanlines of plane 0, then plane 1, ... leaves VRAM, the
        registers (map mask 0Fh, read map 0) and the latches exactly as its order does, with
        a quarter of the register writes.
        """
        std = self.std
        base = SEG_GRAPH * 16
        dest = op.y * op.linelength + op.x // 8
        if not bg and self._gc_passes_cpu_data():
            # The same VRAM bytes with one write per scanline instead of four: map mask 0Fh
            # and set/reset (value 0) enabled on the planes the colour lacks, so plane p
            # takes the glyph row where fg has bit p and 0 (the background) elsewhere.
            # GR0/GR1 are put back and planar4_plane(-1) ends as the loop ends: every
            # register, index, latch, plane_updated bit and dirty page as the loop leaves them.
            gr = self.bus.machine.vga.state.gr
            sr_value, sr_enable = gr[0], gr[1]
            std.sequ_write(0x02, 0x0F)
            if sr_value & ~fg & 0x0F:
                std.grdc_write(0x00, 0)
            std.grdc_write(0x01, ~fg & 0x0F)
            writeb = self.bus.writeb
            for i, line in enumerate(glyph):
                writeb(base + dest + i * op.linelength, line)
            std.grdc_write(0x01, sr_enable)
            if sr_value & ~fg & 0x0F:
                std.grdc_write(0x00, sr_value)
            std.planar4_plane(-1)
            return
        for plane in range(4):
            std.planar4_plane(plane)
            fgon = 0xFF if (fg >> plane) & 1 else 0x00
            bgon = 0xFF if (bg >> plane) & 1 else 0x00
            for i, line in enumerate(glyph):
                bits = ((line & fgon) | (~line & bgon)) & 0xFF
                self._poke(base, dest + i * op.linelength, bytes((bits,)))
        std.planar4_plane(-1)

    def _gc_passes_cpu_data(self) -> bool:
        """Planar addressing with the graphics controller as the BIOS leaves it -- write
        mode 0, no rotate or logical operation, bit mask FFh, no set/reset enabled, VBE
        off: a CPU byte reaches each plane the map mask enables unchanged."""
        vga = getattr(getattr(self.bus, "machine", None), "vga", None)
        if vga is None or vga.state.vbe_enabled() or not self._planar_writes_are_independent():
            return False
        gr = vga.state.gr
        return (not gr[GR_MODE] & 3 and not gr[GR_DATA_ROTATE] and gr[GR_BIT_MASK] == 0xFF
                and not gr[1] & 0x0F)

    def _planar_writes_are_independent(self) -> bool:
        """True when every CPU write to the window lands on its own VRAM byte of the plane
        the map mask selects (no chain-4, no odd/even): then, since the character path
        never reads (the latches stay put), a write's effect does not depend on the order
        of the writes, and only the last write to each address matters."""
        vga = getattr(getattr(self.bus, "machine", None), "vga", None)
        if vga is None:
            return False
        sr, gr = vga.state.sr, vga.state.gr
        return not sr[4] & 0x08 and bool(sr[4] & 0x04) and not gr[5] & 0x10 and not gr[6] & 0x02

    def _in_rom(self, addr: int, n: int) -> bool:
        """[addr, addr+n) is ROM, which CPU stores cannot change (the VGA BIOS's fonts)."""
        fr = self.bus.mem.current_map().lookup(addr)
        mr = getattr(fr, "mr", None)
        return mr is not None and mr.is_rom() and addr + n <= fr.addr + fr.size

    def planar_write_char_run(self, cp, car: int, attr: int, count: int) -> bool:
        """AH=09h/0Ah with a count in a planar mode, vectorised: the ``count`` cells that
        SeaVGABIOS's loop writes (x wraps at the BDA's column count, y at 256) as one numpy
        computation, then each plane written in runs of consecutive addresses -- the same
        VRAM, dirty pages, registers (map mask 0Fh, read map 0) and latches as the loop,
        which takes minutes for CX=0xFFFF in mode 12h. Returns False (nothing done) where
        the loop's order could matter: XOR (reads load the latches), chain-4 or odd/even
        addressing, a glyph the run would overwrite, a cursor or column count outside
        the simple case."""
        vmode = self.bios.current_mode()
        bda = self.bios.bda
        cols, cheight = bda.video_cols, bda.char_height
        x0, y0, _page = cp
        if (vmode is None or vmode.memmodel != MM_PLANAR or attr & 0x80 or count <= 0
                or not 0 < cols <= 0xFF or not 0 <= x0 < cols or cheight <= 0
                or not self._planar_writes_are_independent()):
            return False
        font = self.get_font_data(car)
        linelength = self.bios.hw_get_linelength(vmode)
        if linelength <= 0:
            return False
        # The cells as the loop visits them; a position repeats after 256 rows with the same
        # bytes, so only the last 256 * cols cells can matter.
        k = np.arange(max(0, count - 256 * cols), count, dtype=np.int64)
        cell_x = (x0 + k) % cols
        cell_y = (y0 + (x0 + k) // cols) & 0xFF
        dest = cell_y * (cheight * linelength) + cell_x
        addrs = (dest[:, None] + np.arange(cheight, dtype=np.int64) * linelength).reshape(-1)
        base = SEG_GRAPH * 16
        lo, hi = base + int(addrs.min()), base + int(addrs.max()) + 1
        if font < hi and lo < font + cheight and not self._in_rom(font, cheight):
            return False  # the run would rewrite its own glyph (a user font in RAM)
        glyph = np.frombuffer(self.bus.read(font, cheight), dtype=np.uint8)
        # the last write to each address wins (reversed order: np.unique keeps the first)
        uniq, first = np.unique(addrs[::-1], return_index=True)
        line_of = (len(addrs) - 1 - first) % cheight
        breaks = np.flatnonzero(np.diff(uniq) != 1) + 1
        starts = np.concatenate(([0], breaks))
        ends = np.concatenate((breaks, [len(uniq)]))
        std = self.std
        for plane in range(4):
            std.planar4_plane(plane)
            bits = glyph if (attr >> plane) & 1 else np.zeros_like(glyph)  # background 0
            data = bits[line_of]
            for a, b in zip(starts.tolist(), ends.tolist()):
                self._poke(base, int(uniq[a]), data[a:b].tobytes())
        std.planar4_plane(-1)
        return True

    def _gfx_read_char(self, vmode: VgaMode, cp) -> tuple[int, int]:
        bda = self.bios.bda
        cheight = bda.char_height
        if cp[0] >= bda.video_cols or cheight > 16:
            return 0, 0
        op = self.init_gfx_op(vmode)
        op.op = GO_READ8
        op.x = cp[0] * 8
        op.y = cp[1] * cheight
        fgattr = bgattr = 0
        lines = bytearray(cheight)
        for i in range(cheight):
            self.handle_gfx_op(op)
            line = 0
            for j in range(8):
                if op.pixels[j] != bgattr:
                    line |= 0x80 >> j
                    fgattr = op.pixels[j]
            lines[i] = line
            op.y += 1
        for car in range(256):
            if self.bus.read(self.get_font_data(car), cheight) == bytes(lines):
                return car, (fgattr | (bgattr << 4)) & 0xFF
        return 0, 0

    # ------------------------------------------------------------------ public (vgafb.c)
    def text_address(self, cp) -> int:
        """Offset in the text window of cell (x, y) of page ``page`` (BDA page size/cols)."""
        bda = self.bios.bda
        x, y, page = cp
        stride = bda.video_cols * 2
        return bda.video_pagesize * page + y * stride + x * 2

    def _move_chars(self, dest, movesize, lines) -> None:
        vmode = self.bios.current_mode()
        if vmode is None:
            return
        if vmode.memmodel != MM_TEXT:
            self._gfx_move_chars(vmode, dest, movesize, lines)
            return
        stride = self.bios.bda.video_cols * 2
        dest_addr = self.text_address(dest)
        src_addr = dest_addr + lines * stride
        self._memmove_stride(vmode.sstart * 16, dest_addr, src_addr, movesize[0] * 2,
                             stride, movesize[1])

    def _clear_chars(self, win, winsize, car: int, attr: int, use_attr: bool) -> None:
        vmode = self.bios.current_mode()
        if vmode is None:
            return
        if vmode.memmodel != MM_TEXT:
            self._gfx_clear_chars(vmode, win, winsize, attr)
            return
        stride = self.bios.bda.video_cols * 2
        word = bytes((car & 0xFF, (attr if use_attr else 0x07) & 0xFF))
        self._memset_stride(vmode.sstart * 16, self.text_address(win), word, winsize[0] * 2,
                            stride, winsize[1])

    def scroll(self, win, winsize, lines: int, car: int, attr: int, use_attr: bool) -> None:
        """vgafb_scroll: win=(x, y, page), winsize=(cols, rows); lines>0 up, <0 down, 0 clear."""
        x, y, page = win
        cols, rows = winsize
        if not lines:
            self._clear_chars(win, winsize, car, attr, use_attr)
        elif lines > 0:
            rows -= lines
            self._move_chars((x, y, page), (cols, rows), lines)
            self._clear_chars((x, y + rows, page), (cols, lines), car, attr, use_attr)
        else:
            y -= lines
            rows += lines
            self._move_chars((x, y, page), (cols, rows), lines)
            y += lines
            self._clear_chars((x, y, page), (cols, -lines), car, attr, use_attr)

    def write_char(self, cp, car: int, attr: int, use_attr: bool) -> None:
        vmode = self.bios.current_mode()
        if vmode is None:
            return
        if vmode.memmodel != MM_TEXT:
            self._gfx_write_char(vmode, cp, car, attr)
            return
        off = self.text_address(cp)
        if use_attr:
            self._poke(vmode.sstart * 16, off, bytes((car & 0xFF, attr & 0xFF)))
        else:
            self._poke(vmode.sstart * 16, off, bytes((car & 0xFF,)))

    def read_char(self, cp) -> tuple[int, int]:
        vmode = self.bios.current_mode()
        if vmode is None:
            return 0, 0
        if vmode.memmodel != MM_TEXT:
            return self._gfx_read_char(vmode, cp)
        v = self._peek(vmode.sstart * 16, self.text_address(cp), 2)
        return v[0], v[1]

    def write_pixel(self, color: int, x: int, y: int) -> None:
        vmode = self.bios.current_mode()
        if vmode is None:
            return
        op = self.init_gfx_op(vmode)
        op.x = x & ~7
        op.y = y
        op.op = GO_READ8
        self.handle_gfx_op(op)
        if color & 0x80 and vmode.depth < 8:
            op.pixels[x & 7] ^= color & 0x7F
        else:
            op.pixels[x & 7] = color
        op.op = GO_WRITE8
        self.handle_gfx_op(op)

    def read_pixel(self, x: int, y: int) -> int:
        vmode = self.bios.current_mode()
        if vmode is None:
            return 0
        op = self.init_gfx_op(vmode)
        op.x = x & ~7
        op.y = y
        op.op = GO_READ8
        self.handle_gfx_op(op)
        return op.pixels[x & 7] & 0xFF
