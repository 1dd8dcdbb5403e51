"""The display's cached per-geometry draw routine (LinePlan) and its memo of one-page
frames against the general path: three machines in lock-step -- plans on; plans off; plans
off and no page -> lines index (every partial frame found by the prefix sum over all lines)
-- must show the same frame buffer and report the same statistics after every full and
partial frame, over random writes to VRAM, in every mode that gets a plan."""

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from vgaemu.vga import display as display_mod
from tests.vga.vgaprog import dac_ops, ega_palette, lfb_write, machine, mode_ops, outb, run, vbe_ops

MODES = {
    "mode 13h": lambda: mode_ops(0x13) + dac_ops(0, [(i % 64, i // 4 % 64, 63 - i % 64) for i in range(256)]),
    "mode X": lambda: mode_ops("X") + dac_ops(0, [(i % 64, i // 4 % 64, 63 - i % 64) for i in range(256)]),
    "mode 12h": lambda: mode_ops(0x12) + dac_ops(0, ega_palette()),
    "mode 0Dh": lambda: mode_ops(0x0D) + dac_ops(0, ega_palette()),
    "mode 0Eh": lambda: mode_ops(0x0E) + dac_ops(0, ega_palette()),
    "VBE 8 bpp": lambda: [{"op": "inb", "port": 0x3DA}, outb(0x3C0, 0x20)] + vbe_ops(320, 200, 8),
    "VBE 15 bpp": lambda: [{"op": "inb", "port": 0x3DA}, outb(0x3C0, 0x20)] + vbe_ops(320, 200, 15),
    "VBE 16 bpp": lambda: [{"op": "inb", "port": 0x3DA}, outb(0x3C0, 0x20)] + vbe_ops(320, 200, 16),
    "VBE 24 bpp": lambda: [{"op": "inb", "port": 0x3DA}, outb(0x3C0, 0x20)] + vbe_ops(320, 200, 24),
    "VBE 32 bpp": lambda: [{"op": "inb", "port": 0x3DA}, outb(0x3C0, 0x20)] + vbe_ops(320, 200, 32),
}
SPAN = 320 * 200 * 4

_pairs = {}


def _general_index(d):
    """Make display ``d`` build indexes without the page -> lines CSR (so no one-page memo)."""
    build = d._graphics_cache

    def graphics_cache(g):
        c = build(g)
        c.csr = None
        return c
    d._graphics_cache = graphics_cache


def machines(name):
    """(plans, no plans, general path), set up once per mode."""
    if name not in _pairs:
        rng = np.random.default_rng(7)
        data = rng.integers(0, 256, SPAN, dtype=np.uint8).tobytes()
        out = []
        for kind in ("plans", "no plans", "general"):
            m = machine()
            run(m, MODES[name]())
            lfb_write(m, 0, data)
            if kind != "plans":
                m.vga.display._line_plan = lambda g, c: None
            if kind == "general":
                _general_index(m.vga.display)
            m.vga.display.update_display()
            out.append(m)
        _pairs[name] = tuple(out)
    return _pairs[name]


@pytest.mark.parametrize("name", sorted(MODES))
@settings(max_examples=25, deadline=None)
@given(writes=st.lists(st.tuples(st.integers(0, SPAN - 1), st.integers(1, 3000),
                                 st.integers(0, 255)), max_size=4),
       full=st.booleans())
def test_plan_draws_what_the_line_converter_draws(name, writes, full):
    trio = machines(name)
    for m in trio:
        for off, n, v in writes:
            lfb_write(m, off, bytes([v]) * min(n, SPAN - off))
        if full:
            m.vga.display.invalidate()
    stats = [m.vga.display.update_display() for m in trio]
    planned, plain, general = (m.vga.display for m in trio)
    assert planned._gcache.plan is not None, "the mode should have a plan"
    assert plain._gcache.plan is None and general._gcache.csr is None
    assert stats[0] == stats[1] == stats[2]
    assert np.array_equal(planned.framebuffer, plain.framebuffer)
    assert np.array_equal(planned.framebuffer, general.framebuffer)


def test_panned_picture_has_no_plan_and_still_draws():
    m = machine()
    run(m, mode_ops(0x12) + dac_ops(0, ega_palette()))
    lfb_write(m, 0, bytes(range(256)) * 600)
    run(m, [{"op": "inb", "port": 0x3DA}, outb(0x3C0, 0x33), outb(0x3C0, 3)])  # AR13: pan 3
    st = m.vga.display.update_display()
    assert m.vga.display._gcache.plan is None and st.full


def test_line_plan_is_rebuilt_when_the_frame_buffer_is_replaced():
    """A resize gives a new frame buffer: the plan must not keep writing the old one."""
    m = machine()
    run(m, MODES["VBE 32 bpp"]())
    d = m.vga.display
    d.update_display()
    old = d._gcache.plan
    run(m, vbe_ops(640, 480, 32))
    d.update_display()
    assert d._gcache.plan is not old and d._gcache.plan.fb is d.framebuffer
    assert isinstance(old, display_mod.LinePlan)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(-3, 2**40), max_size=60), st.sampled_from([np.int64, np.intp]))
def test_unique_is_numpys(values, dtype):
    """The display's np.unique without numpy.ma gives np.unique's values, dtype and order."""
    a = np.array(values, dtype=dtype)
    got, want = display_mod._unique(a), np.unique(a)
    assert got.dtype == want.dtype and got.tolist() == want.tolist()
    grid = a[:len(a) // 4 * 4].reshape(-1, 4) if len(a) >= 4 else a
    assert display_mod._unique(grid).tolist() == np.unique(grid).tolist()  # flattened, as np.unique
