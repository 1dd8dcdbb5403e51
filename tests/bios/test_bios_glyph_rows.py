"""The planar glyph written one scanline at a time (set/reset on the planes the colour
lacks) against SeaVGABIOS's plane-by-plane loop, forced by disabling the shortcut: the same
VRAM, registers and indexes, latches, plane_updated and dirty pages, for teletype and
AH=09h characters in modes 12h and 0Dh with any colour and any set/reset value left in GR0.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from guestmem.dirty import DIRTY_MEMORY_NUM
from vgaemu.bios.vgafb import VgaFB
from vgaemu.machine import Machine


def _state(m: Machine) -> tuple:
    s = m.vga.state
    dirty = m.vga.vram_mr.ram_list.dirty
    bitmaps = tuple(dirty.bitmap(c).tobytes() for c in range(DIRTY_MEMORY_NUM))
    return (m.vga.vram.tobytes(), bytes(s.gr), bytes(s.sr), s.gr_index, s.sr_index,
            s.latch, s.plane_updated, bitmaps)


def _run(mode: int, calls, gr0: int, latch_at: int, shortcut: bool):
    m = Machine(vram="1M")
    m.bios.call(mode)
    m.outb(0x3CE, 0x00)
    m.outb(0x3CF, gr0)                  # set/reset value (enable stays 0)
    m.read(0xA0000 + latch_at, 1)       # load the latches
    dirty = m.vga.vram_mr.ram_list.dirty
    dirty.clear_dirty_range(0, dirty.size)
    m.vga.state.plane_updated = 0
    saved = VgaFB._gc_passes_cpu_data
    if not shortcut:
        VgaFB._gc_passes_cpu_data = lambda self: False
    try:
        for ax, bx, cx in calls:
            m.bios.call(ax, bx=bx, cx=cx)
    finally:
        VgaFB._gc_passes_cpu_data = saved
    return _state(m)


calls = st.lists(st.tuples(
    st.one_of(st.integers(0x0E20, 0x0EFF), st.sampled_from([0x0E0D, 0x0E0A, 0x0E08]),
              st.integers(0x0920, 0x09FF)),
    st.integers(0, 0x7F),
    st.integers(1, 3)), min_size=1, max_size=6)


@settings(max_examples=25, deadline=None)
@given(mode=st.sampled_from([0x12, 0x0D]), calls=calls, gr0=st.integers(0, 15),
       latch_at=st.integers(0, 0xFFFF))
def test_scanline_glyphs_match_the_plane_loop(mode, calls, gr0, latch_at):
    assert _run(mode, calls, gr0, latch_at, True) == _run(mode, calls, gr0, latch_at, False)


def test_the_shortcut_is_taken_in_mode_12h():
    m = Machine(vram="1M")
    m.bios.call(0x12)
    assert m.bios.fb._gc_passes_cpu_data()
    m.outb(0x3CE, 0x08)
    m.outb(0x3CF, 0x7F)                 # a bit mask: the loop must run instead
    assert not m.bios.fb._gc_passes_cpu_data()
