"""Traces of the text modes: fonts, cursor, attributes, 9-dot cells, BIOS text services.
"""

from __future__ import annotations

from trace_ops import (
    SCRATCH,
    SCRATCH_ES,
    SCRATCH_OFF,
    attr,
    crtc,
    cursor_off,
    dac,
    dump,
    gc,
    int10,
    line_compare,
    outb,
    put_text,
    seq,
    set_cursor,
    start_address,
    teletype,
    text_cells,
    trace,
    wait_us,
    write,
)


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


@trace
def t_text_80x50_cursor(ops):
    """80x50 (AX=1112h) with the cursor at row 40, col 60 and its shape from AH=01h CX=0607h
    (8-line cells): first dump, cursor visible."""
    ops += [int10(0x0003), int10(0x1112, bx=0x0000)]
    ops += [put_text(40, 50, "cursor here ->  <-", 0x1F), int10(0x0100, cx=0x0607), set_cursor(40, 64)]


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
