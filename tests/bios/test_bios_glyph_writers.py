"""Characters in packed 8-bit and CGA modes: the glyph writers (a table look-up per glyph
byte) leave exactly what SeaVGABIOS's per-scanline GO_WRITE8 loop leaves -- VRAM, memory
past the window, registers, latches, VGA dirty pages -- for AH=09h runs and AH=0Eh teletype,
at any cursor, CRTC offset and column count, across the 64K segment wrap of 8-bit VBE modes."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.bios.test_bios_char_run import BDA_COLS, state_of
from vgaemu.bios import Registers, VGABios
from vgaemu.bios.vgafb import VgaFB
from vgaemu.machine import Machine

MODES = [0x04, 0x05, 0x06, 0x13, 0x101, 0x105, 0x4101]


def run(mode, cols, offset, cursor, calls, *, writers: bool, monkeypatch):
    m = Machine(memory="2M")
    bios = VGABios(m)
    if mode > 0xFF:
        assert bios.int10(Registers(ax=0x4F02, bx=mode)).ax == 0x004F
    else:
        bios.int10(Registers(ax=mode))
    vram = m.vga.state.vram
    vram[:1 << 20] = np.arange(1 << 20) * 7 % 251  # a pattern: untouched bytes are not 0
    if cols is not None:
        m.address_space_memory.stw_le(BDA_COLS, cols)
    if offset is not None:
        m.address_space_io.stb(0x3D4, 0x13)
        m.address_space_io.stb(0x3D5, offset)
    bios.set_cursor_pos(cursor)
    state_of(m)  # clear the dirty bits the setup left
    with monkeypatch.context() as mp:
        if not writers:
            mp.setattr(VgaFB, "_packed_write_glyph", lambda *a: False)
            mp.setattr(VgaFB, "_cga_write_glyph", lambda *a: False)
        for regs in calls:
            bios.int10(Registers(**regs))
    return state_of(m)


calls = st.lists(st.one_of(
    st.builds(lambda ch, attr, n: dict(ax=0x0900 | ch, bx=attr, cx=n),
              st.integers(0, 255), st.integers(0, 255), st.integers(0, 40)),
    st.builds(lambda ch, attr: dict(ax=0x0E00 | ch, bx=attr),
              st.sampled_from([0x41, 0xDB, 0x0D, 0x0A, 0x08, 0x07, 0x20, 0xFF]), st.integers(0, 255)),
), min_size=1, max_size=12)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(mode=st.sampled_from(MODES), calls=calls,
       cols=st.sampled_from([None, 1, 3, 200]), offset=st.sampled_from([None, 1, 20, 255]),
       row=st.integers(0, 255), col=st.integers(0, 255))
def test_glyph_writers_equal_the_scanline_loop(monkeypatch, mode, calls, cols, offset, row, col):
    """Odd column counts and CRTC offsets make cells overlap and wrap; attributes with bit 7
    set take the XOR loop in CGA modes (both sides), and are plain colours in 8-bit modes."""
    args = (mode, cols, offset, (col, row, 0), calls)
    fast = run(*args, writers=True, monkeypatch=monkeypatch)
    slow = run(*args, writers=False, monkeypatch=monkeypatch)
    for key in slow:
        assert fast[key] == slow[key], key


@pytest.mark.parametrize("mode", MODES)
def test_a_line_of_text_equals_the_scanline_loop(monkeypatch, mode):
    text = [dict(ax=0x0E00 | c, bx=0x0E) for c in b"Hello, VGA!\r\n" * 3]
    args = (mode, None, None, (70, 23, 0), text + [dict(ax=0x09B1, bx=0x8B, cx=30)])
    fast = run(*args, writers=True, monkeypatch=monkeypatch)
    slow = run(*args, writers=False, monkeypatch=monkeypatch)
    assert fast["dirty"]  # it drew something
    for key in slow:
        assert fast[key] == slow[key], key


def test_the_writers_are_what_runs(monkeypatch):
    used = []
    for name in ("_packed_write_glyph", "_cga_write_glyph"):
        orig = getattr(VgaFB, name)
        monkeypatch.setattr(VgaFB, name, lambda self, *a, _o=orig, _n=name: used.append(_n) or _o(self, *a))
    for mode in (0x13, 0x04, 0x06):
        m = Machine(memory="2M")
        bios = VGABios(m)
        bios.int10(Registers(ax=mode))
        bios.int10(Registers(ax=0x0E41, bx=0x0F))
        bios.int10(Registers(ax=0x0E41, bx=0x8F))  # XOR: CGA takes the loop, 13h the writer
    assert used == ["_packed_write_glyph", "_packed_write_glyph", "_cga_write_glyph", "_cga_write_glyph"]
