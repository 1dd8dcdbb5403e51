"""Traces of the EGA/VGA 16-colour planar modes: write/read modes, latches, panning, split.
"""

from __future__ import annotations

from trace_ops import (
    SCRATCH,
    SCRATCH_ES,
    SCRATCH_OFF,
    attr,
    crtc,
    dac,
    dump,
    fill,
    gc,
    int10,
    line_compare,
    planar_bars,
    planar_rect,
    planar_reset,
    read_pixel,
    seq,
    set_cursor,
    start_address,
    teletype,
    trace,
    write,
    write_pixel,
    writeb,
)


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


@trace
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


@trace
def t_ega_mode6a(ops):
    """Mode 6Ah (SeaVGABIOS's 800x600x16 planar, 100 bytes per line): bars and text."""
    ops += [int10(0x006A)] + planar_bars(100, 500) + planar_reset()
    ops += [set_cursor(33, 2)] + teletype("Mode 6Ah 800x600", color=14)
