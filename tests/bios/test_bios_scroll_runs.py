"""Scrolling and clearing whole lines as one contiguous read/write (VgaFB._memmove_stride /
_memset_stride) against the line-by-line loop SeaVGABIOS runs, as a naive model patched in:
the same VRAM, registers, latches, plane_updated and dirty pages after random INT 10h
AH=06h/07h windows and teletype output that scrolls, in text, planar, CGA and 256-colour
modes.
"""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from guestmem.dirty import DIRTY_MEMORY_NUM
from vgaemu.bios.vgafb import VgaFB
from vgaemu.machine import Machine


def _loop_memmove(self, base, dst, src, copylen, stride, lines):
    if copylen <= 0 or lines <= 0:
        return
    order = range(lines - 1, -1, -1) if src < dst else range(lines)
    if self._movsb_bytewise(base) or abs(dst - src) < copylen:
        for i in order:
            d, s_ = dst + i * stride, src + i * stride
            for j in range(copylen):
                self._write(base, d + j, self._read(base, s_ + j, 1))
        return
    for i in order:
        self._write(base, dst + i * stride, self._read(base, src + i * stride, copylen))


def _loop_memset(self, base, dst, val, setlen, stride, lines):
    if setlen <= 0:
        return
    data = (val * -(-setlen // len(val)))[:setlen]
    for i in range(max(lines, 0)):
        self._write(base, dst + i * stride, data)


def _state(m: Machine) -> tuple:
    s = m.vga.state
    dirty = m.vga.vram_mr.ram_list.dirty
    return (m.vga.vram.tobytes(), bytes(s.gr), bytes(s.sr), s.latch, s.plane_updated,
            tuple(dirty.bitmap(c).tobytes() for c in range(DIRTY_MEMORY_NUM)))


def _run(mode: int, calls, model: bool):
    m = Machine(vram="1M")
    m.bios.call(mode)
    # different characters and colours every few lines, to move around
    for row in range(0, 30, 3):
        m.bios.call(0x0200, dx=(row << 8) | row)
        m.bios.call(0x0900 | (0x41 + row), bx=1 + row % 15, cx=3 * 80 - 2 * row)
    dirty = m.vga.vram_mr.ram_list.dirty
    dirty.clear_dirty_range(0, dirty.size)
    saved = VgaFB._memmove_stride, VgaFB._memset_stride
    if model:
        VgaFB._memmove_stride, VgaFB._memset_stride = _loop_memmove, _loop_memset
    try:
        for ax, bx, cx, dx in calls:
            m.bios.call(ax, bx=bx, cx=cx, dx=dx)
    finally:
        VgaFB._memmove_stride, VgaFB._memset_stride = saved
    return _state(m)


scroll = st.tuples(st.integers(0x0600, 0x07FF), st.integers(0, 0xFF00).map(lambda v: v & 0xFF00),
                   st.tuples(st.integers(0, 30), st.integers(0, 79)).map(lambda t: t[0] << 8 | t[1]),
                   st.tuples(st.integers(0, 30), st.integers(0, 80)).map(lambda t: t[0] << 8 | t[1]))
full_width = st.tuples(st.sampled_from([0x0601, 0x0603, 0x0701, 0x0600]), st.just(0x0700),
                       st.just(0), st.just(0x184F))
newline = st.tuples(st.sampled_from([0x0E0A, 0x0E0D, 0x0E41]), st.integers(0, 15),
                    st.just(0), st.just(0))


@settings(max_examples=20, deadline=None)
@given(mode=st.sampled_from([0x03, 0x12, 0x0D, 0x04, 0x13]),
       calls=st.lists(st.one_of(scroll, full_width, newline), min_size=1, max_size=5))
def test_whole_line_runs_match_the_line_loop(mode, calls):
    assert _run(mode, calls, False) == _run(mode, calls, True)
