"""Characters in VBE direct-colour modes (15/16/24/32 bpp) are drawn with numpy, a row of the
cell per framebuffer write: the framebuffer must hold exactly what SeaVGABIOS's per-pixel
path writes -- get_color(depth, fg) where the glyph bit is set, get_color(depth, bg = 0)
elsewhere -- for any character, colour and place (a naive model, hypothesis-driven)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from vgaemu.bios.data import MM_DIRECT, load_tables
from vgaemu.bios.vgafb import get_color
from vgaemu.machine import Machine

MODES = sorted({(m.depth, m.mode) for m in load_tables().vbe_modes
                if m.memmodel == MM_DIRECT and m.width == 640 and m.height == 480})
_MACHINE = Machine()


@settings(max_examples=40, deadline=None)
@given(mode=st.sampled_from(MODES), ch=st.integers(0, 255), attr=st.integers(0, 0x7F),
       col=st.integers(0, 79), row=st.integers(0, 29))
def test_direct_colour_glyph_is_the_per_pixel_result(mode, ch, attr, col, row):
    depth, number = mode
    m = _MACHINE
    bios = m.bios
    r = bios.call(0x4F02, bx=0x4000 | number)
    assert r.ax == 0x004F
    bios.call(0x0200, bx=0, dx=row << 8 | col)
    bios.call(0x0900 | ch, bx=attr, cx=1)          # AH=09h: one cell, BL = colour
    bypp = -(-depth // 8)
    pitch = bios.hw_get_linelength(next(v for v in load_tables().vbe_modes if v.mode == number))
    cheight = bios.bda.char_height
    glyph = load_tables().fonts[cheight][ch * cheight:(ch + 1) * cheight]
    fb = bios.vbe_framebuffer
    for y in range(cheight):
        want = b"".join(get_color(depth, attr if glyph[y] & (0x80 >> x) else 0)
                        .to_bytes(4, "little")[:bypp] for x in range(8))
        got = m.read(fb + (row * cheight + y) * pitch + col * 8 * bypp, 8 * bypp)
        assert got == want, (depth, ch, attr, col, row, y)


def test_modes_cover_every_direct_depth():
    assert {d for d, _ in MODES} == {15, 16, 24, 32}
