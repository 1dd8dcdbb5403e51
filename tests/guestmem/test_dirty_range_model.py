"""DirtyMemory's range operations with plain-int arguments (the byte-search fast paths a DMA
transfer or a frame of rows takes) against a naive model: one set of dirty pages per client."""

import numpy as np
from hypothesis import given, settings, strategies as st

from guestmem.dirty import DIRTY_MEMORY_NUM, TARGET_PAGE_SIZE, DirtyMemory

NPAGES = 40
P = TARGET_PAGE_SIZE

ranges = st.tuples(st.integers(0, NPAGES * P - 1), st.integers(1, 12 * P)).filter(
    lambda r: r[0] + r[1] <= NPAGES * P)
ops = st.lists(st.tuples(st.sampled_from(["set", "clear", "all", "get", "take", "clean"]), ranges,
                         st.integers(0, 7), st.integers(0, DIRTY_MEMORY_NUM - 1)),
               min_size=1, max_size=40)


def pages(start: int, length: int) -> range:
    return range(start // P, (start + length - 1) // P + 1)


@settings(max_examples=200, deadline=None)
@given(ops=ops)
def test_range_operations_match_a_set_model(ops):
    dm = DirtyMemory(NPAGES)
    model = [set() for _ in range(DIRTY_MEMORY_NUM)]
    for op, (start, length), mask, client in ops:
        span = set(pages(start, length))
        if op == "set":
            epoch = dm._epoch
            dm.set_dirty_range(start, length, mask)
            for c in range(DIRTY_MEMORY_NUM):
                if mask & (1 << c):
                    model[c] |= span
            assert epoch.live, "setting bits never ends the epoch a fast path relies on"
        elif op == "clear":
            dm.clear_dirty_range(start, length, mask)
            for c in range(DIRTY_MEMORY_NUM):
                if mask & (1 << c):
                    model[c] -= span
        elif op == "all":
            assert dm.all_dirty(start, length, client) == (span <= model[client])
        elif op == "clean":
            want = sum(1 << c for c in range(DIRTY_MEMORY_NUM)
                       if mask & (1 << c) and not span <= model[c])
            assert dm.range_includes_clean(start, length, mask) == want
        elif op == "get":
            assert dm.get_dirty(start, length, client) == bool(span & model[client])
        else:
            raw = dm.take_dirty(start, length, client)
            hit = sorted(span & model[client])
            if not hit:
                assert raw is None
            else:
                got = np.flatnonzero(np.frombuffer(raw, np.uint8)) + min(span)
                assert got.tolist() == hit
                model[client] -= span
        for c in range(DIRTY_MEMORY_NUM):
            assert set(np.flatnonzero(dm.bitmap(c)).tolist()) == model[c]
