"""The redraw set: exactly the scanlines whose VRAM bytes lie on a dirty page, nothing else.

Expected sets come from a plain per-line model of QEMU's vga_draw_graphic loop (the address
of each displayed line, its first and last page), written independently of the vectorised
implementation.
"""

from __future__ import annotations

import numpy as np
import pytest

from vgaemu.machine import Machine

from tests.vga.vgaprog import dac_ops, lfb_write, machine, mode_ops, run

from tests.vga.scenarios import SCENARIOS, crtc, vbe_ops_for


def make(name: str, **kw) -> Machine:
    mach = machine(**kw)
    run(mach, SCENARIOS[name]())
    st = mach.frame()
    assert st.full
    if not mach.vga.display.compat.live_graphics_registers:
        # QEMU's full update takes no dirty snapshot: the next frame redraws the lines
        # written before it, and only the one after that is idle
        mach.frame()
    assert mach.frame().lines_redrawn == 0
    return mach


def model_line_addresses(s, height):
    """QEMU's per-line address walk, one Python step per line (the reference)."""
    if s.vbe_enabled():
        return [s.vbe_start_addr + y * s.vbe_line_offset for y in range(height)]
    cr = s.cr
    line_offset = cr[0x13] << 3
    addr1 = ((cr[0x0C] << 8) | cr[0x0D]) * 4
    lc = cr[0x18] | ((cr[0x07] & 0x10) << 4) | ((cr[0x09] & 0x40) << 3)
    ds = cr[0x09] >> 7
    ms = ((((cr[0x09] & 0x1F) + 1) << ds) - 1) if cr[0x17] & 1 else ds
    run, y1, out = ms, 0, []
    for y in range(height):
        a = addr1
        if not cr[0x17] & 1:
            sh = 14 + ((cr[0x17] >> 6) & 1)
            a = (a & ~(1 << sh)) | ((y1 & 1) << sh)
        if not cr[0x17] & 2:
            a = (a & ~0x8000) | ((y1 & 2) << 14)
        out.append(a)
        if not run:
            m = (cr[0x17] & 3) ^ 3
            if (y1 & m) == m:
                addr1 += line_offset
            y1 += 1
            run = ms
        else:
            run -= 1
        if y == lc:
            addr1 = 0
    return out


def expected_lines(mach, dirty_bytes):
    g = mach.vga.display.geometry
    pages = {b >> 12 for b in dirty_bytes}
    addrs = model_line_addresses(mach.vga.state, g.height)
    return [y for y, a in enumerate(addrs)
            if any(a >> 12 <= p <= (a + g.bwidth - 1) >> 12 for p in pages)]


def redrawn(st):
    return [y for _, y0, _, h in st.rects for y in range(y0, y0 + h)]


def assert_same_as_full_redraw(mach):
    before = mach.vga.display.framebuffer.copy()
    mach.vga.display.invalidate()
    mach.vga.display.update_display()
    assert np.array_equal(before, mach.vga.display.framebuffer)


def test_mode13_one_byte_redraws_exactly_its_page():
    mach = make("mode13")
    off = 100 * 320 + 7
    run(mach, [{"op": "writeb", "addr": 0xA0000 + off, "val": 0x55}])
    st = mach.frame()
    assert not st.full
    assert st.dirty_pages == 1
    want = expected_lines(mach, [off])
    page = off >> 12
    rows = [r for r in range(200) if (r * 320) >> 12 <= page <= (r * 320 + 319) >> 12]
    assert want == [y for r in rows for y in (2 * r, 2 * r + 1)]
    assert redrawn(st) == want
    assert st.lines_redrawn == len(want)
    assert st.rects == ((0, want[0], 640, len(want)),)
    assert st.bytes_converted == len(want) * 320
    assert mach.frame().lines_redrawn == 0
    assert_same_as_full_redraw(mach)


def test_idle_frame_redraws_nothing():
    for name in ("mode13", "mode12", "text80", "vbe640x480x32"):
        mach = make(name)
        for _ in range(3):
            st = mach.frame()
            assert (st.full, st.lines_redrawn, st.rects, st.bytes_converted) == (False, 0, (), 0)


def test_write_outside_visible_area_redraws_nothing():
    mach = make("mode12")  # 640x480: planar bytes 0..38399 are shown (VRAM bytes < 153600)
    run(mach, [{"op": "write", "addr": 0xA0000 + 45000, "data": "ff" * 64}])
    st = mach.frame()
    assert st.lines_redrawn == 0 and not st.full and st.rects == ()
    assert mach.vga.vram[45000 * 4] == 0xFF


def test_dac_write_forces_full_update():
    mach = make("mode13")
    run(mach, dac_ops(5, [(63, 0, 0)]))
    st = mach.frame()
    assert st.full and st.lines_redrawn == 400
    # The same colour again changes nothing (QEMU compares the computed palette).
    run(mach, dac_ops(5, [(63, 0, 0)]))
    assert mach.frame().lines_redrawn == 0


def test_dac_write_of_unused_entry_in_16_colour_mode_is_not_a_full_update():
    mach = make("mode12")  # the attribute palette references DAC 0-7 and 0x38-0x3F only
    run(mach, dac_ops(0x20, [(1, 2, 3)]))
    assert not mach.frame().full
    run(mach, dac_ops(0x3C, [(1, 2, 3)]))  # AR0C -> DAC 0x3C: used
    assert mach.frame().full


def test_start_address_change_forces_full_update():
    mach = make("mode12")
    run(mach, crtc(0x0C, 0x01))
    st = mach.frame()
    assert st.full and st.lines_redrawn == 480
    assert_same_as_full_redraw(mach)


def test_full_redraw_leaves_no_stale_dirty_bits():
    """QEMU skips the snapshot on a full update, so lines written before it are redrawn
    again on the next frame; here the full update consumes them."""
    mach = make("mode13")
    run(mach, [{"op": "writeb", "addr": 0xA0000 + 5000, "val": 1}])
    mach.vga.display.invalidate()
    assert mach.frame().full
    assert mach.frame().lines_redrawn == 0


def test_lfb_write_marks_lines_dirty():
    mach = machine()
    run(mach, vbe_ops_for(640, 480, 32))
    mach.frame()
    calls = []
    regions = [mach.vga.lowmem, mach.vga.vbe_region] + [mr for _, mr in mach.vga.port_regions]
    for mr in regions:  # count every VGA callback from here on
        ops = mr.ops
        for name in ("read", "write"):
            fn = getattr(ops, name)
            def counted(*a, _f=fn, _n=name, _mr=mr.name):
                calls.append((_mr, _n))
                return _f(*a)
            setattr(ops, name, counted)
    off = 200 * 2560 + 40
    lfb_write(mach, off, b"\xff\x00\x00\x00")  # a plain store through the LFB: guest RAM
    assert calls == []
    st = mach.frame()
    want = expected_lines(mach, [off])
    assert redrawn(st) == want == [y for y in range(480)
                                   if (y * 2560) >> 12 <= off >> 12 <= (y * 2560 + 2559) >> 12]
    assert tuple(mach.vga.display.surface[200, 10]) == (0, 0, 255)


def test_split_screen_write_redraws_lines_below_the_split():
    mach = make("split12")
    run(mach, [{"op": "writeb", "addr": 0xA0000 + 400, "val": 0xFF}])  # VRAM row 5
    st = mach.frame()
    want = expected_lines(mach, [400 * 4])
    assert redrawn(st) == want
    assert want and min(want) >= 300  # only the bottom part shows address 0
    assert_same_as_full_redraw(mach)


def test_cga_interleave_redraws_the_even_bank_lines():
    mach = make("mode04")
    run(mach, [{"op": "writeb", "addr": 0xB8000 + 10, "val": 0xFF}])
    st = mach.frame()
    want = expected_lines(mach, [20])
    assert redrawn(st) == want
    assert all((y // 2) % 2 == 0 for y in want)  # CGA rows 0, 2, 4, ... (bank 0)
    run(mach, [{"op": "writeb", "addr": 0xBA000 + 10, "val": 0xFF}])
    st = mach.frame()
    assert redrawn(st) == expected_lines(mach, [0x4000 + 20])
    assert all((y // 2) % 2 == 1 for y in redrawn(st))
    assert_same_as_full_redraw(mach)


@pytest.mark.parametrize("name", ["mode0d", "mode10", "modex", "vbe640x480x8",
                                  "vbe640x480x16", "vbe640x480x24", "vbe1024x768x32"])
def test_random_writes_match_a_full_redraw(name):
    mach = make(name)
    rng = np.random.default_rng(1)
    g = mach.vga.display.geometry
    for _ in range(5):
        offs = sorted(set(rng.integers(0, int(g.line_addr.max()) + g.bwidth, 3).tolist()))
        for o in offs:
            lfb_write(mach, o, bytes([int(rng.integers(256))]))
        st = mach.frame()
        assert redrawn(st) == expected_lines(mach, offs)
        assert_same_as_full_redraw(mach)


@pytest.mark.parametrize("name", ["mode0d", "mode10", "modex", "mode12", "mode13"])
def test_random_writes_match_a_full_redraw_with_qemus_whole_vram_take(name):
    """QEMU's policy in VGA graphics modes: each partial frame takes the dirty bits of all
    of VRAM (one DirtyRange over it) and redraws the picture's lines on dirty pages."""
    mach = make(name, qemu_compat=True)
    mach.frame()  # QEMU's full update left the setup's dirty bits set: this frame takes them
    rng = np.random.default_rng(2)
    g = mach.vga.display.geometry
    for _ in range(6):
        offs = sorted(set(rng.integers(0, int(g.line_addr.max()) + g.bwidth, 3).tolist()))
        for o in offs:
            lfb_write(mach, o, bytes([int(rng.integers(256))]))
        lfb_write(mach, 0x3F000, b"\x01")  # VRAM past the picture: taken, draws nothing
        st = mach.frame()
        assert redrawn(st) == expected_lines(mach, offs)
        assert mach.frame().lines_redrawn == 0  # every bit was taken
        assert_same_as_full_redraw(mach)
        mach.frame()  # the full update's bits (QEMU leaves them set)


def test_vbe_bank_register_is_not_a_mode_change():
    mach = make("vbe640x480x32")
    run(mach, [{"op": "outw", "port": 0x1CE, "val": 5}, {"op": "outw", "port": 0x1CF, "val": 3}])
    assert not mach.frame().full


def test_pel_panning_graphics_hardware_only():
    from tests.vga.scenarios import attr
    for compat in (False, True):
        mach = make("mode12", qemu_compat=compat)
        before = np.ascontiguousarray(mach.vga.display.surface).copy()
        run(mach, attr(0x13, 3))
        st = mach.frame()
        if compat:
            assert np.array_equal(mach.vga.display.surface, before)
            continue
        assert st.full
        assert np.array_equal(mach.vga.display.surface[:, :-3], before[:, 3:])
        # the 3 dots panned in come from the next planar address: a write there redraws the line
        lfb_write(mach, 80 * 4 * 10 + 80 * 4 - 4 + 4 * 80, b"\xff")  # first address of line 12
        lfb_write(mach, 4 * (80 * 20 + 80), b"\xff\xff\xff\xff")
        st = mach.frame()
        assert 20 in redrawn(st)
        assert_same_as_full_redraw(mach)


def test_screen_off_blanks_on_hardware_only():
    from tests.vga.scenarios import seq
    for compat in (False, True):
        mach = make("mode13", qemu_compat=compat)
        run(mach, seq(1, 0x21))  # SR1 bit 5: screen off
        st = mach.frame()
        assert st.mode == ("VGA 256-colour 640x400" if compat else "blank (screen off)")
        assert (not mach.vga.display.surface.any()) != compat
        assert mach.vga.display.surface.shape == (400, 640, 3)  # blank keeps the last size
        run(mach, seq(1, 0x01))
        mach.frame()
        assert mach.vga.display.surface.any()


def test_palette_address_source_off_blanks():
    from tests.vga.scenarios import attr
    mach = make("mode12")
    run(mach, [{"op": "inb", "port": 0x3DA}, {"op": "outb", "port": 0x3C0, "val": 0x00}])
    st = mach.frame()
    assert st.full and st.mode == "blank" and not mach.vga.display.surface.any()
    assert mach.frame().rects == ()
    run(mach, attr(0x00, 0x00))  # ends with index 0x20: the picture comes back
    assert mach.frame().full and mach.vga.display.surface.any()


def test_palette_address_source_off_shows_the_overscan_colour_on_hardware():
    from tests.vga.scenarios import attr
    mach = make("mode12")
    run(mach, attr(0x11, 0x04))  # overscan colour: palette index 4 -> DAC 4 (red)
    mach.frame()
    run(mach, [{"op": "inb", "port": 0x3DA}, {"op": "outb", "port": 0x3C0, "val": 0x00}])
    st = mach.frame()
    surf = mach.vga.display.surface
    assert st.mode == "blank" and surf.shape == (480, 640, 3)
    assert {tuple(p) for p in surf.reshape(-1, 3)} == {(168, 0, 0)}  # DAC 4: (42, 0, 0), 6 to 8 bits as QEMU
    run(mach, dac_ops(4, [(0, 63, 0)]))  # the blank screen follows the DAC
    assert mach.frame().full
    assert tuple(mach.vga.display.surface[0, 0]) == (0, 255, 0)


def test_blank_before_any_picture_keeps_the_mode_size_on_hardware_and_qemus_placeholder():
    from vgaemu.vga.display import PLACEHOLDER_MESSAGE

    from tests.vga.scenarios import seq
    for compat in (False, True):
        mach = machine(qemu_compat=compat)
        run(mach, mode_ops(0x13) + seq(1, 0x21)
            + [{"op": "inb", "port": 0x3DA}, {"op": "outb", "port": 0x3C0, "val": 0x00}])
        mach.frame()
        surf = mach.vga.display.surface
        if compat:  # nothing drawn yet: QEMU's console placeholder stays
            assert surf.shape == (480, 640, 3)
            grey = np.all(surf == 0xAA, axis=2)
            ys, xs = np.nonzero(grey)
            assert 224 <= ys.min() and ys.max() < 240
            assert 144 <= xs.min() and xs.max() < 144 + 8 * len(PLACEHOLDER_MESSAGE)
            assert grey.sum() == 1044  # what QEMU 7.2's screendump shows (edge_attr_blanked)
        else:  # the CRTC runs on: a 640x400 black screen
            assert surf.shape == (400, 640, 3) and not surf.any()


def test_mode13_address_wraps_at_64k_on_hardware_only():
    """Doubleword addressing: the CRTC's memory address is its counter times 4, which wraps
    at the 64 KiB plane; QEMU reads on into VRAM past it."""
    for compat in (False, True):
        mach = make("mode13", qemu_compat=compat)
        picture = mach.vga.display.surface.copy()
        run(mach, crtc(0x0C, 0x40) + crtc(0x0D, 0x00))  # start 0x4000 units = 64 KiB
        mach.frame()
        surf = mach.vga.display.surface
        if compat:
            assert not surf.any()  # QEMU: VRAM past 64 KiB, cleared by the mode set
        else:
            np.testing.assert_array_equal(surf, picture)  # hardware: back at address 0


def test_qemu_redraws_no_line_for_plane_enable_or_max_scan():
    """QEMU 7.2's vga_draw_graphic has no full update for AR12 or CR9 bits 0-4: the picture
    stays until its VRAM is written; hardware shows the change at once. A full update leaves
    the dirty bits set (QEMU takes no snapshot then), so the frame after it redraws them."""
    from tests.vga.scenarios import attr
    for compat in (False, True):
        mach = make("mode12", qemu_compat=compat)
        before = np.ascontiguousarray(mach.vga.display.surface).copy()
        run(mach, attr(0x12, 0x05) + crtc(0x09, 0x41))
        st = mach.frame()
        if compat:
            assert not st.full and st.lines_redrawn == 0
            assert np.array_equal(mach.vga.display.surface, before)
            lfb_write(mach, 0, b"\xff" * 4)  # VRAM page 0: rows 0-12, each shown twice
            assert redrawn(mach.frame()) == list(range(26))
        else:
            assert st.full and not np.array_equal(mach.vga.display.surface, before)
    mach = machine(qemu_compat=True)
    run(mach, mode_ops(0x12))
    lfb_write(mach, 0, b"\xff" * 4)
    assert mach.frame().full
    assert 0 in redrawn(mach.frame())
    assert mach.frame().lines_redrawn == 0
