"""Text mode: only changed cells are redrawn; blink, cursor, 9th column, underline, fonts."""

from __future__ import annotations

import numpy as np

from vgaemu.machine import Machine

from tests.vga.vgaprog import ega_palette, font_load_ops, machine, outb, run
from tests.vga.vgaprog import font as bios_font

from tests.vga.scenarios import SCENARIOS, attr, crtc

CW, CH = 9, 16


def make(name="text80", **kw) -> Machine:
    mach = machine(**kw)
    run(mach, SCENARIOS[name]())
    st = mach.vga.display.update_display()
    assert st.full
    return mach


def put(mach, row, col, ch, at, cols=80):
    addr = 0xB8000 + 2 * (row * cols + col)
    run(mach, [{"op": "write", "addr": addr, "data": bytes([ch, at]).hex()}])


def cell(mach, row, col, cw=CW, ch=CH):
    y, x = row * ch, col * cw
    return np.ascontiguousarray(mach.vga.display.surface[y:y + ch, x:x + cw])


def rgb(dac_index):
    r, g, b = ega_palette()[dac_index]
    c = lambda v: (v << 2) | ((v & 1) << 1) | (v & 1)  # noqa: E731
    return (c(r), c(g), c(b))


def test_one_changed_character_redraws_one_cell():
    mach = make()
    put(mach, 5, 40, ord("X"), 0x4E)
    st = mach.vga.display.update_display()
    assert not st.full
    assert st.rects == ((40 * CW, 5 * CH, CW, CH),)
    assert st.lines_redrawn == CH
    assert st.bytes_converted == 2
    glyph = cell(mach, 5, 40)
    assert {tuple(p) for p in glyph.reshape(-1, 3)} == {rgb(0x3E), rgb(4)}  # yellow on red


def test_idle_frames_redraw_nothing_until_the_cursor_blinks():
    mach = make()
    for _ in range(7):  # frames 1..7: still the cursor's visible phase (8 on, 8 off)
        st = mach.frame()
        assert st.rects == () and st.lines_redrawn == 0
    st = mach.frame()  # frame 8: cursor off -> only its cell
    assert st.rects == ((10 * CW, 20 * CH, CW, CH),)


def test_cursor_shape_position_and_colour():
    mach = make()
    c = cell(mach, 20, 10)
    fg = rgb(7)
    assert all(tuple(p) == fg for p in c[13:15].reshape(-1, 3))  # CR0A=13, CR0B=14, 9 columns
    assert all(tuple(p) == (0, 0, 0) for p in c[15].reshape(-1, 3))
    run(mach, crtc(0x0F, (20 * 80 + 11) & 0xFF))  # move right by one cell
    st = mach.vga.display.update_display()
    assert st.rects == ((10 * CW, 20 * CH, 2 * CW, CH),)  # old and new cell, merged
    run(mach, crtc(0x0A, 0x20))  # cursor off
    st = mach.vga.display.update_display()
    assert st.rects == ((11 * CW, 20 * CH, CW, CH),)
    assert not cell(mach, 20, 11).any()


def test_blink_phase_redraws_only_blinking_cells_and_the_cursor():
    mach = make()
    for _ in range(15):
        mach.frame()
    st = mach.frame()  # frame 16: characters off, cursor visible again
    rows = {y // CH for _, y0, _, h in st.rects for y in range(y0, y0 + h)}
    assert rows == {7, 18, 20}  # bright-background row (bit 7), the 8Ch line, the cursor
    # blinking text shows as its background; attribute 8Ch has background 0 -> black
    assert not cell(mach, 18, 2).any()


def test_qemu_compat_never_blinks_and_uses_bright_backgrounds():
    mach = make(qemu_compat=True)
    assert {tuple(p) for p in cell(mach, 18, 2).reshape(-1, 3)} >= {rgb(0x3C)}
    bg = cell(mach, 7, 2 + 8 * 3)  # attribute 0x8F: bright background 8 = DAC 0x38
    assert tuple(bg[0, 0]) == rgb(0x38)
    for _ in range(40):
        st = mach.frame()
        assert all(y0 // CH == 20 for _, y0, _, _ in st.rects)  # only the cursor ever changes


def test_qemu_cursor_timer():
    """QEMU: visible at the first draw, toggled every 266 ms of virtual time (16 frames)."""
    mach = make(qemu_compat=True)
    seen = []
    for _ in range(40):
        mach.frame()
        seen.append(bool(cell(mach, 20, 10)[13].any()))
    assert seen[:15] == [True] * 15
    assert seen[16:31] == [False] * 15


def test_ninth_column_hardware_and_qemu():
    for compat, dup_b0 in ((False, False), (True, True)):
        mach = make(qemu_compat=compat)
        put(mach, 22, 0, 0xB1, 0x0F)  # shade: 9th column only repeated in QEMU
        put(mach, 22, 1, 0xC4, 0x0F)  # horizontal line: repeated in both
        mach.vga.display.update_display()
        shade, line = cell(mach, 22, 0), cell(mach, 22, 1)
        assert np.array_equal(line[:, 8], line[:, 7])
        assert np.array_equal(shade[:, 8], shade[:, 7]) == dup_b0
        if not dup_b0:
            assert not shade[:, 8].any()


def test_line_graphics_disabled_leaves_ninth_column_background():
    mach = make()
    run(mach, attr(0x10, 0x08))  # AR10 bit 2 off
    put(mach, 22, 1, 0xC4, 0x0F)
    mach.vga.display.update_display()
    assert not cell(mach, 22, 1)[:, 8].any()


def test_font_change_is_a_full_update():
    mach = make()
    font = bytearray(bios_font(16))
    font[ord("A") * 16:ord("A") * 16 + 16] = b"\xff" * 16
    run(mach, font_load_ops(bytes(font), 16))
    st = mach.vga.display.update_display()
    assert st.full
    a = cell(mach, 7, 2)  # 'A' on black with white text (attribute 0x0F)
    assert all(tuple(p) == rgb(0x3F) for p in a[:, :8].reshape(-1, 3))
    assert mach.vga.display.update_display().rects == ()


def test_second_font_by_attribute_bit_3():
    mach = make()
    other = bytes([0x81]) * (256 * 16)
    run(mach, font_load_ops(other, 16, base=0x4000))  # character map 1 at plane-2 offset 16K
    run(mach, [outb(0x3C4, 3), outb(0x3C5, 0x04)])  # SR3: map A (attr bit 3 set) = 1, B = 0
    put(mach, 23, 0, ord("A"), 0x0F)  # bit 3 set: second font
    put(mach, 23, 1, ord("A"), 0x07)  # bit 3 clear: first font
    mach.vga.display.update_display()
    a2, a1 = cell(mach, 23, 0), cell(mach, 23, 1)
    assert a2[:, 0].all() and a2[:, 7].all() and not a2[:, 3].any()
    assert not np.array_equal(a1[:, :8].any(axis=2), a2[:, :8].any(axis=2))


def test_underline_in_monochrome_emulation():
    mach = make()
    run(mach, attr(0x10, 0x0E))  # AR10 bit 1: monochrome emulation
    run(mach, crtc(0x14, 15))
    put(mach, 24, 0, ord(" "), 0x01)
    mach.vga.display.update_display()
    c = cell(mach, 24, 0)
    assert all(tuple(p) == rgb(1) for p in c[15].reshape(-1, 3))
    assert not c[14].any()
    compat = make(qemu_compat=True)
    run(compat, attr(0x10, 0x0E) + crtc(0x14, 15))
    put(compat, 24, 0, ord(" "), 0x01)
    compat.vga.display.update_display()
    assert not cell(compat, 24, 0).any()


def test_40_column_cells():
    hw = make("text40")
    q = make("text40", qemu_compat=True)
    assert (hw.vga.display.width, q.vga.display.width) == (720, 640)
    # hardware doubles all 9 dots; QEMU doubles 8 and drops the 9th
    put(hw, 14, 0, 0xC4, 0x0F, cols=40)
    hw.vga.display.update_display()
    line = cell(hw, 14, 0, cw=18)
    assert line[:, 16:18].any()


def test_pel_mask_applies_on_hardware_only():
    for compat in (False, True):
        mach = make(qemu_compat=compat)
        run(mach, [outb(0x3C6, 0x00)])
        st = mach.vga.display.update_display()
        assert st.full != compat
        assert (not mach.vga.display.surface.any()) != compat


def test_pel_panning_shifts_text_on_hardware_only():
    hw, q = make(), make(qemu_compat=True)
    before_hw = np.ascontiguousarray(hw.vga.display.surface).copy()
    before_q = np.ascontiguousarray(q.vga.display.surface).copy()
    for mach in (hw, q):
        run(mach, attr(0x13, 0x02))  # 9-dot text: AR13 = 2 shifts by 3 dots
        mach.vga.display.update_display()
    assert np.array_equal(q.vga.display.surface, before_q)
    assert np.array_equal(hw.vga.display.surface[:, :-3], before_hw[:, 3:])
    # characters written afterwards are drawn panned too
    put(hw, 5, 0, 0xDB, 0x0F)
    st = hw.vga.display.update_display()
    # row 4 too: its extra (panned-in) cell is the first cell of row 5
    assert st.rects == ((0, 4 * CH, 720, 2 * CH),)
    assert tuple(hw.vga.display.surface[5 * CH + 3, 0]) == rgb(0x3F)
    assert tuple(hw.vga.display.surface[4 * CH + 3, 719]) == rgb(0x3F)
    run(hw, attr(0x13, 0x08))  # 8 = no shift
    hw.vga.display.update_display()
    assert hw.vga.display.geometry.pan is None


def test_preset_row_scan_scrolls_text_up_on_hardware():
    hw, q = make(), make(qemu_compat=True)
    before_hw = np.ascontiguousarray(hw.vga.display.surface).copy()
    before_q = np.ascontiguousarray(q.vga.display.surface).copy()
    for mach in (hw, q):
        run(mach, crtc(0x08, 5))
    assert hw.vga.display.update_display().full
    assert not q.vga.display.update_display().full  # no redraw trigger of vga_draw_text
    assert np.array_equal(q.vga.display.surface, before_q)
    assert np.array_equal(hw.vga.display.surface[:-5], before_hw[5:])
    put(hw, 3, 0, 0xDB, 0x0F)
    st = hw.vga.display.update_display()
    assert st.rects == ((0, 3 * CH - 5, 720, CH),)


def test_cursor_skew_on_hardware():
    hw, q = make(), make(qemu_compat=True)
    for mach in (hw, q):
        run(mach, crtc(0x0B, 0x0E | (2 << 5)))
        mach.vga.display.update_display()
    assert cell(hw, 20, 12)[13].any() and not cell(hw, 20, 10)[13].any()
    assert cell(q, 20, 10)[13].any() and not cell(q, 20, 12)[13].any()


def test_line_compare_splits_at_the_scanline_on_hardware_and_at_rows_in_qemu():
    hw, q = make(), make(qemu_compat=True)
    for mach in (hw, q):
        run(mach, crtc(0x0A, 0x20))  # cursor off: compare pictures only
        mach.vga.display.update_display()
    before_hw = np.ascontiguousarray(hw.vga.display.surface).copy()
    before_q = np.ascontiguousarray(q.vga.display.surface).copy()
    for mach in (hw, q):
        run(mach, crtc(0x07, 0x0F) + crtc(0x09, 0x0F) + crtc(0x18, 100))  # line compare = 100
        assert mach.vga.display.update_display().full
    s_hw, s_q = hw.vga.display.surface, q.vga.display.surface
    assert np.array_equal(s_hw[:101], before_hw[:101])
    assert np.array_equal(s_hw[101:101 + 16 * 5], before_hw[:16 * 5])
    assert np.array_equal(s_q[:112], before_q[:112])
    assert np.array_equal(s_q[112:112 + 16 * 5], before_q[:16 * 5])
    # a character written at address 0 shows in both panes' copies of row 0
    put(hw, 0, 0, 0xDB, 0x0F)
    st = hw.vga.display.update_display()
    assert st.rects == ((0, 0, 720, 16), (0, 101, 720, 16))
    assert tuple(hw.vga.display.surface[101 + 3, 2]) == rgb(0x3F)


def test_a_last_character_row_that_does_not_fit_is_shown_in_part_on_hardware():
    """8x14 cells in 400 lines: 28 rows and 8 scan lines of a 29th. QEMU draws whole rows
    only (720x392); the hardware CRTC shows all 400 lines."""
    from tests.vga.scenarios import crtc
    for compat, height in ((False, 400), (True, 392)):
        mach = make(qemu_compat=compat)
        run(mach, crtc(0x09, 0x4D))  # 14-line cells (CR9 bits 0-4 = 13), keep bit 6
        put(mach, 28, 0, 0xDB, 0x0F)  # a full block in row 28
        mach.vga.display.update_display()
        surf = mach.vga.display.surface
        assert surf.shape == (height, 720, 3)
        if not compat:
            assert (surf[392:400, 0:8] == 255).all()  # the block's first 8 scan lines


def test_text_double_scan_keeps_the_vertical_display_end_on_hardware():
    from tests.vga.scenarios import crtc
    mach = make()
    run(mach, crtc(0x09, 0xCF))  # double scan: 32-line cells, 12.5 rows in 400 lines
    put(mach, 12, 0, 0xDB, 0x0F)
    mach.vga.display.update_display()
    surf = mach.vga.display.surface
    assert surf.shape == (400, 720, 3)
    assert (surf[384:400, 0:8] == 255).all()  # the half row shows its glyph's top half
