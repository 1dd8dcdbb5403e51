"""FlatRange.host_rows (the 2-D host view a device's strided transfer copies through) against
a naive model: row i is host bytes [off + i*stride, off + i*stride + width), for any stride
(negative, overlapping, zero) and any place in the range, including its last bytes, and for
a range that starts inside its RAMBlock (an alias)."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from guestmem import AddressSpace, MemoryRegion, RAMList

BASE = 0x10000
SIZE = 0x6000
ALIAS = 0x40000
ALIAS_OFF = 0x1234


def _space():
    rl = RAMList()
    root = MemoryRegion.container("system", 1 << 32)
    ram = MemoryRegion.ram("ram", SIZE, ram_list=rl)
    root.add_subregion(BASE, ram)
    root.add_subregion(ALIAS, MemoryRegion.alias("ram-alias", ram, ALIAS_OFF, SIZE - ALIAS_OFF))
    ram.ram_block.host[:] = np.arange(SIZE, dtype=np.uint32).astype(np.uint8) ^ 0x5A
    return AddressSpace(root, "memory"), ram


_as, _ram = _space()


@settings(max_examples=300, deadline=None)
@given(alias=st.booleans(), height=st.integers(1, 9), width=st.integers(1, 700),
       stride=st.one_of(st.integers(-1500, 1500), st.sampled_from([0, 4096, -4096, 2048])),
       data=st.data())
def test_host_rows_match_the_rows_in_host_memory(alias, height, width, stride, data):
    base, size = (ALIAS, SIZE - ALIAS_OFF) if alias else (BASE, SIZE)
    lo_row = min(0, (height - 1) * stride)
    hi_row = max(0, (height - 1) * stride)
    span = hi_row - lo_row + width
    if span > size:
        return
    first = data.draw(st.integers(0, size - span), label="offset of the span")
    addr = base + first - lo_row  # row 0's guest address
    fr = _as.flatview.lookup(base + first)
    host = _ram.ram_block.host
    view = fr.host_rows(addr, height, width, stride)
    off0 = addr - base + (ALIAS_OFF if alias else 0)
    model = np.stack([host[off0 + i * stride:off0 + i * stride + width] for i in range(height)])
    assert view.shape == (height, width)
    assert (view == model).all()
    # Writes land in guest memory at the rows' addresses (the last row wins where rows meet).
    saved = host.copy()
    try:
        pattern = np.arange(height * width, dtype=np.uint32).astype(np.uint8).reshape(height, width)
        view[...] = pattern
        if abs(stride) >= width or height == 1:
            for i in range(height):
                row = _as.read_bytes(addr + i * stride, width)
                assert row == pattern[i].tobytes()
    finally:
        host[:] = saved


def test_row_views_are_kept_per_stride_and_bounded():
    fr = _as.flatview.lookup(BASE)
    for stride in range(100, 100 + 3 * fr.ROW_VIEWS_MAX):
        fr.host_rows(BASE, 3, 50, stride)
        assert len(fr._row_views) <= fr.ROW_VIEWS_MAX
    a = fr.host_rows(BASE + 7, 4, 64, 512)
    b = fr.host_rows(BASE + 7, 4, 64, 512)
    assert a.base is b.base  # the same cached 2-D view underneath
