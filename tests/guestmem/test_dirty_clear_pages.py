"""DirtyMemory.clear_dirty_pages against a naive model: only the named pages of the one
client are cleared, the count is what was dirty, listeners hear of a covering range, and
bad arguments change nothing."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from guestmem import DIRTY_MEMORY_MIGRATION, DIRTY_MEMORY_VGA, DirtyMemory, DirtyMemoryError
from guestmem.dirty import DIRTY_MEMORY_NUM, TARGET_PAGE_BITS

NPAGES = 200


@settings(max_examples=100, deadline=None)
@given(dirty=st.lists(st.tuples(st.integers(0, DIRTY_MEMORY_NUM - 1), st.integers(0, NPAGES - 1))),
       pages=st.lists(st.integers(0, NPAGES - 1), max_size=40, unique=True),
       client=st.integers(0, DIRTY_MEMORY_NUM - 1))
def test_clear_dirty_pages_matches_a_model(dirty, pages, client):
    dm = DirtyMemory(NPAGES)
    model = np.zeros((DIRTY_MEMORY_NUM, NPAGES), bool)
    for c, p in dirty:
        dm.set_dirty_range(p << TARGET_PAGE_BITS, 1, 1 << c)
        model[c, p] = True
    heard = []
    dm.add_clear_listener(lambda start, length, mask: heard.append((start, length, mask)))
    gen = dm.clear_generation
    want = int(model[client, pages].sum()) if pages else 0
    assert dm.clear_dirty_pages(np.array(pages, dtype=np.int64), client) == want
    model[client, pages] = False
    for c in range(DIRTY_MEMORY_NUM):
        assert np.array_equal(dm.bitmap(c), model[c])
    if want:
        assert dm.clear_generation > gen
        [(start, length, mask)] = heard
        assert mask == 1 << client
        assert start <= min(pages) << TARGET_PAGE_BITS
        assert start + length >= (max(pages) + 1) << TARGET_PAGE_BITS
    else:
        assert heard == [] and dm.clear_generation == gen


def test_clear_dirty_pages_refuses_bad_pages_and_changes_nothing():
    dm = DirtyMemory(16)
    dm.set_dirty_range(0, 16 << TARGET_PAGE_BITS)
    for bad, match in (([3, 16], "beyond the dirty bitmaps"), ([-1], "beyond the dirty bitmaps"),
                       ([[1, 2]], "1-D integer array"), ([1.5], "1-D integer array")):
        with pytest.raises(DirtyMemoryError, match=match):
            dm.clear_dirty_pages(np.array(bad), DIRTY_MEMORY_MIGRATION)
    with pytest.raises(DirtyMemoryError, match="unknown dirty client"):
        dm.clear_dirty_pages(np.array([1]), 7)
    assert dm.count_dirty(0, 16 << TARGET_PAGE_BITS, DIRTY_MEMORY_MIGRATION) == 16
    assert dm.clear_dirty_pages(np.array([], dtype=np.int64), DIRTY_MEMORY_VGA) == 0
