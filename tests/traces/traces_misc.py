"""Traces that mix modes, edge cases of the register set, and the boot screens.
"""

from __future__ import annotations

import random

from trace_ops import (
    attr,
    crtc,
    cursor_off,
    dac,
    dispi,
    dump,
    fill,
    gc,
    inb,
    int10,
    lfb_fill,
    line_compare,
    outb,
    outw,
    planar_bars,
    planar_rect,
    planar_reset,
    put_text,
    seq,
    set_cursor,
    start_address,
    trace,
    vbe_set,
    write,
    writeb,
)
from traces_text import numbered_rows
from traces_planar import planar_ramp16


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
