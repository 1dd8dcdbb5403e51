"""Text mode's few-cells path (TextRenderer._draw_few) against the vectorised one: two
machines in lock-step, one drawing a few changed cells one by one, the other forced through
the vectorised drawer, must show the same frame buffer and report the same statistics after
every frame -- over random characters, attributes, cursor moves and shapes, blink and
underline settings, on hardware and with QEMU's policy."""

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from vgaemu.clock import FRAME_NS
from vgaemu.vga import text as text_mod
from tests.vga.scenarios import SCENARIOS, attr, crtc
from tests.vga.vgaprog import machine, run

#: Attributes: any, or the underlined ones (x0x1 with and without blink and intensity).
_attr = st.one_of(st.integers(0, 255), st.sampled_from([0x01, 0x09, 0x81, 0x89, 0x11]))
_cell = st.tuples(st.just("put"), st.integers(0, 24), st.integers(0, 79), st.integers(0, 255),
                  _attr)
_reg = st.one_of(
    st.tuples(st.just("crtc"), st.sampled_from([0x0A, 0x0B, 0x0E, 0x0F, 0x14]),
              st.one_of(st.integers(0, 255), st.integers(0, 15))),
    # virtual time: half a blink period, so characters blink off (or on again)
    st.tuples(st.just("wait"), st.sampled_from([3, 16])),
    # AR10: blink (bit 3), monochrome underline (bit 1), line graphics (bit 2)
    st.tuples(st.just("attr"), st.just(0x10), st.sampled_from([0x0C, 0x0E, 0x04, 0x06, 0x08])))
_step = st.lists(st.one_of(_cell, _cell, _reg), max_size=6)


def _pair(qemu_compat: bool, scenario: str):
    out = []
    for _ in range(2):
        m = machine(qemu_compat=qemu_compat)
        run(m, SCENARIOS[scenario]())
        m.frame()
        out.append(m)
    return out


def _apply(m, op, cols):
    if op[0] == "put":
        _, row, col, ch, at = op
        col %= cols
        run(m, [{"op": "write", "addr": 0xB8000 + 2 * (row * cols + col),
                 "data": bytes([ch, at]).hex()}])
    elif op[0] == "wait":
        m.clock.advance(FRAME_NS * op[1])
    elif op[0] == "crtc":
        run(m, crtc(op[1], op[2]))
    else:
        run(m, attr(op[1], op[2]))


@pytest.mark.parametrize("qemu_compat", [False, True])
@pytest.mark.parametrize("scenario,cols", [("text80", 80), ("text40", 40)])
@settings(max_examples=30, deadline=None)
@given(steps=st.lists(_step, min_size=1, max_size=8))
def test_few_cells_draw_what_the_vectorised_path_draws(qemu_compat, scenario, cols, steps):
    few, vec = _pair(qemu_compat, scenario)
    for step in steps:
        for m in (few, vec):
            for op in step:
                _apply(m, op, cols)
        a = few.frame()
        with pytest.MonkeyPatch.context() as mp:
            mp.setattr(text_mod, "_FEW_CELLS", 0)
            b = vec.frame()
        assert a == b
        assert np.array_equal(few.vga.display.framebuffer, vec.vga.display.framebuffer)


def test_one_typed_character_takes_the_few_cells_path(monkeypatch):
    """The path under test is the one a typed character takes."""
    m, = _pair(False, "text80")[:1]
    calls = []
    orig = text_mod.TextRenderer._draw_few
    monkeypatch.setattr(text_mod.TextRenderer, "_draw_few",
                        lambda self, *a: calls.append(1) or orig(self, *a))
    run(m, [{"op": "writeb", "addr": 0xB8000 + 2 * 81, "val": ord("A")}])
    st_ = m.vga.display.update_display()
    assert calls and st_.lines_redrawn == 16 and not st_.full
