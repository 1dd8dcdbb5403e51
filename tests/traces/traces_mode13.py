"""Traces of mode 13h (chain 4) and mode X (unchained 256 colours).
"""

from __future__ import annotations

from trace_ops import (
    MODE_X,
    SCRATCH,
    SCRATCH_ES,
    SCRATCH_OFF,
    crtc,
    dac,
    dump,
    fill,
    gc,
    int10,
    line_compare,
    modex_pixel_ops,
    outb,
    read_pixel,
    seq,
    set_cursor,
    start_address,
    teletype,
    trace,
    write,
    write_pixel,
    writeb,
    writel,
    writew,
)


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


@trace
def t_m13_noclear(ops):
    """Mode 93h (13h with bit 7: keep video memory) after drawing in mode 13h: the picture
    survives the mode set, the DAC is reloaded (custom entries revert)."""
    ops += [int10(0x0013)]
    for y in range(200):
        ops.append(fill(0xA0000 + y * 320, 320, y & 0xFF))
    ops += dac(1, [(63, 0, 0)] * 40) + [int10(0x0093)]


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
