"""The planar and mode 13h drawers write a partial frame's lines straight into frame-buffer
rows (``out=``); the pixels must be those of a naive per-pixel model, and the same as
without ``out``, with plane-pair or per-plane tables or pixel pairs, for every plane mask, normal and doubled palettes,
and strided rows (the double-scan path draws every other frame-buffer row)."""

import numpy as np
from hypothesis import given, settings, strategies as st

from vgaemu.vga import render


def naive_planar(block, width, plane_mask, pal):
    n = block.shape[0]
    out = np.zeros((n, width), dtype=np.uint64)
    for y in range(n):
        for x in range(width):
            byte, bit = divmod(x, 8)
            idx = 0
            for p in range(4):
                if plane_mask >> p & 1 and block[y, byte * 4 + p] >> (7 - bit) & 1:
                    idx |= 1 << p
            out[y, x] = pal[idx]
    return out


def as_pixels(pal_out, doubled):
    """What a doubled (uint64) palette entry means: the same pixel twice."""
    if not doubled:
        return pal_out.astype(np.uint32)
    lo = (pal_out & 0xFFFFFFFF).astype(np.uint32)
    return np.repeat(lo, 2, axis=1)


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(1, 6), nb=st.integers(1, 6),
       plane_mask=st.integers(0, 15), doubled=st.booleans(), every_other=st.booleans())
def test_planar_into_rows_matches_naive(seed, n, nb, plane_mask, doubled, every_other):
    rng = np.random.default_rng(seed)
    block = rng.integers(0, 256, (n, nb * 4), dtype=np.uint8)
    pal32 = rng.integers(0, 1 << 24, 16, dtype=np.uint32)
    pal = render.doubled(pal32) if doubled else pal32
    want = as_pixels(naive_planar(block, nb * 8, plane_mask, pal), doubled)
    got = render.draw_planar4(block, nb * 8, plane_mask, pal)
    assert (got == want).all()
    # The same with the four per-plane tables (what a whole frame's many lines use).
    small = render.PLANE_PAIR_MAX_ADDRS
    render.PLANE_PAIR_MAX_ADDRS = -1
    try:
        assert (render.draw_planar4(block, nb * 8, plane_mask, pal) == want).all()
    finally:
        render.PLANE_PAIR_MAX_ADDRS = small
    fb = np.full((2 * n, want.shape[1]), 0xDEADBEEF, dtype=np.uint32)
    rows = fb[::2] if every_other else fb[:n]
    res = render.draw_planar4(block, nb * 8, plane_mask, pal, rows)
    assert res is rows and (rows == want).all()
    if every_other:
        assert (fb[1::2] == 0xDEADBEEF).all()
    if not doubled:  # two pixels per lookup (plane nibble tables, pixel-pair palette)
        fb[...] = 0xDEADBEEF
        res = render.draw_planar4(block, nb * 8, plane_mask, pal, rows, render.pixel_pairs(pal32))
        assert res is rows and (rows == want).all()
        if every_other:
            assert (fb[1::2] == 0xDEADBEEF).all()


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(1, 6), w=st.integers(1, 40), every_other=st.booleans())
def test_mode13h_into_rows_matches_naive(seed, n, w, every_other):
    rng = np.random.default_rng(seed)
    block = rng.integers(0, 256, (n, w + 3), dtype=np.uint8)
    pal32 = rng.integers(0, 1 << 24, 256, dtype=np.uint32)
    want = np.repeat(pal32[block[:, :w]], 2, axis=1)
    assert (render.draw_8d2(block, 2 * w, render.doubled(pal32)) == want).all()
    fb = np.zeros((2 * n, 2 * w), dtype=np.uint32)
    rows = fb[::2] if every_other else fb[:n]
    assert render.draw_8d2(block, 2 * w, render.doubled(pal32), rows) is rows
    assert (rows == want).all()
