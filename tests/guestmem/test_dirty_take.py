"""DirtyMemory.take_dirty (the display loop's one call per frame) against a naive model:
None exactly when the range is clean, else the same bits snapshot_and_clear_dirty gives,
cleared afterwards for that client only, clear listeners told only when bits were cleared
(and only of the pages from the first to the last that were dirty)."""

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from guestmem.dirty import (DIRTY_MEMORY_CODE, DIRTY_MEMORY_MIGRATION, DIRTY_MEMORY_VGA,
                            TARGET_PAGE_SIZE, DirtyMemory)
from guestmem.errors import DirtyMemoryError

NPAGES = 64


@settings(max_examples=200, deadline=None)
@given(marks=st.lists(st.tuples(st.integers(0, NPAGES * TARGET_PAGE_SIZE - 1), st.integers(1, 3 * TARGET_PAGE_SIZE),
                                st.integers(1, 7)), max_size=8),
       start=st.integers(0, NPAGES * TARGET_PAGE_SIZE - 1), length=st.integers(1, 20 * TARGET_PAGE_SIZE),
       client=st.sampled_from([DIRTY_MEMORY_VGA, DIRTY_MEMORY_CODE, DIRTY_MEMORY_MIGRATION, 0, 1, 2]))
def test_take_dirty_matches_a_naive_bitmap(marks, start, length, client):
    length = min(length, NPAGES * TARGET_PAGE_SIZE - start)
    dm = DirtyMemory(NPAGES)
    model = np.zeros((3, NPAGES), dtype=bool)
    for a, n, mask in marks:
        n = min(n, NPAGES * TARGET_PAGE_SIZE - a)
        dm.set_dirty_range(a, n, mask)
        for c in range(3):
            if mask >> c & 1:
                model[c, a // TARGET_PAGE_SIZE:(a + n - 1) // TARGET_PAGE_SIZE + 1] = True
    heard = []
    dm.add_clear_listener(lambda *args: heard.append(args))
    p0, p1 = start // TARGET_PAGE_SIZE, (start + length - 1) // TARGET_PAGE_SIZE + 1
    want = model[int(client), p0:p1].copy()
    got = dm.take_dirty(start, length, client)
    if not want.any():
        assert got is None and heard == []
    else:
        assert np.frombuffer(got, dtype=np.bool_).tolist() == want.tolist()
        model[int(client), p0:p1] = False
        # Listeners hear the pages whose bits were cleared: the first to the last dirty one.
        hit = np.flatnonzero(want)
        lo, hi = p0 + int(hit[0]), p0 + int(hit[-1]) + 1
        assert heard == [(lo * TARGET_PAGE_SIZE, (hi - lo) * TARGET_PAGE_SIZE, 1 << int(client))]
    for c in range(3):
        assert dm.bitmap(c).tolist() == model[c].tolist()


def test_take_dirty_checks_its_arguments_like_the_other_queries():
    dm = DirtyMemory(4)
    with pytest.raises(DirtyMemoryError):
        dm.take_dirty(0, 5 * TARGET_PAGE_SIZE, DIRTY_MEMORY_VGA)  # beyond the bitmaps
    with pytest.raises(DirtyMemoryError):
        dm.take_dirty(-1, 10, DIRTY_MEMORY_VGA)
    with pytest.raises(DirtyMemoryError):
        dm.take_dirty(0, 10, 7)  # no such client
    assert dm.take_dirty(0, 0, DIRTY_MEMORY_VGA) is None  # an empty range has no dirty page
    dm.set_dirty_range(0, 1)
    assert dm.take_dirty(np.int64(0), np.int64(10), np.int64(0)) == b"\x01"


class _RacingLock:
    """The bitmap lock, with a writer that runs just before each acquire: the moment between
    take_dirty's unlocked look at the bits and its clear."""

    def __init__(self, lock, race):
        self.lock, self.race = lock, race

    def __enter__(self):
        self.race()
        return self.lock.__enter__()

    def __exit__(self, *exc):
        return self.lock.__exit__(*exc)


@pytest.mark.parametrize("first_pages", [[3], [3, 9]])
@pytest.mark.parametrize("racer", [3, 5, 9])
@pytest.mark.parametrize("via_range", [False, True], ids=["take_dirty", "DirtyRange"])
def test_a_bit_set_while_take_dirty_runs_is_reported_now_or_next_time(first_pages, racer,
                                                                       via_range):
    """take_dirty reads the bits, then clears under the lock: a page a writer marks in
    between is either in this call's result or still dirty for the next one -- never lost
    (the one-page fast path clears only the byte it read).  The same for DirtyRange.take."""
    dm = DirtyMemory(NPAGES)
    rng = dm.dirty_range(0, 16 * TARGET_PAGE_SIZE, DIRTY_MEMORY_VGA)

    def take():
        return rng.take() if via_range else dm.take_dirty(0, 16 * TARGET_PAGE_SIZE,
                                                          DIRTY_MEMORY_VGA)

    for p in first_pages:
        dm.set_dirty_range(p * TARGET_PAGE_SIZE, 1, 1 << DIRTY_MEMORY_VGA)
    fired = []

    def race():
        if not fired:
            fired.append(True)
            dm.set_dirty_range(racer * TARGET_PAGE_SIZE, 1, 1 << DIRTY_MEMORY_VGA)

    dm._lock = _RacingLock(dm._lock, race)
    got = np.flatnonzero(np.frombuffer(take(), np.uint8)).tolist()
    assert set(first_pages) <= set(got)
    again = take()
    later = [] if again is None else np.flatnonzero(np.frombuffer(again, np.uint8)).tolist()
    assert racer in got or racer in later
    assert not set(got) & set(later)
    assert not set(got) & set(later)


@settings(max_examples=150, deadline=None)
@given(frames=st.lists(st.lists(st.tuples(st.integers(0, NPAGES * TARGET_PAGE_SIZE - 1),
                                          st.integers(1, 3 * TARGET_PAGE_SIZE),
                                          st.integers(1, 7)), max_size=4),
                       min_size=1, max_size=5),
       start=st.integers(0, NPAGES * TARGET_PAGE_SIZE - 1),
       length=st.integers(1, 20 * TARGET_PAGE_SIZE),
       client=st.sampled_from([DIRTY_MEMORY_VGA, DIRTY_MEMORY_CODE, DIRTY_MEMORY_MIGRATION]),
       grow_at=st.integers(-1, 4))
def test_dirty_range_take_is_take_dirty_over_its_range(frames, start, length, client, grow_at):
    """Frame after frame, DirtyRange.take on one DirtyMemory and take_dirty on another with
    the same writes give the same bits, leave the same bitmaps and tell listeners the same
    -- also after grow() has moved the rows under the range."""
    length = min(length, NPAGES * TARGET_PAGE_SIZE - start)
    a, b = DirtyMemory(NPAGES), DirtyMemory(NPAGES)
    heard_a, heard_b = [], []
    a.add_clear_listener(lambda *args: heard_a.append(args))
    b.add_clear_listener(lambda *args: heard_b.append(args))
    rng = a.dirty_range(start, length, client)
    assert (rng.start, rng.length) == (start // TARGET_PAGE_SIZE * TARGET_PAGE_SIZE,
                                       ((start + length - 1) // TARGET_PAGE_SIZE + 1
                                        - start // TARGET_PAGE_SIZE) * TARGET_PAGE_SIZE)
    for i, marks in enumerate(frames):
        if i == grow_at:
            a.grow(NPAGES * 40)
            b.grow(NPAGES * 40)
        for addr, n, mask in marks:
            n = min(n, NPAGES * TARGET_PAGE_SIZE - addr)
            a.set_dirty_range(addr, n, mask)
            b.set_dirty_range(addr, n, mask)
        assert rng.take() == b.take_dirty(start, length, client)
        assert heard_a == heard_b
        for c in range(3):
            assert a.bitmap(c).tolist() == b.bitmap(c).tolist()


def test_dirty_range_checks_its_arguments_once():
    dm = DirtyMemory(4)
    with pytest.raises(DirtyMemoryError):
        dm.dirty_range(0, 5 * TARGET_PAGE_SIZE, DIRTY_MEMORY_VGA)  # beyond the bitmaps
    with pytest.raises(DirtyMemoryError):
        dm.dirty_range(-1, 10, DIRTY_MEMORY_VGA)
    with pytest.raises(DirtyMemoryError):
        dm.dirty_range(0, 10, 7)  # no such client
    with pytest.raises(DirtyMemoryError):
        dm.dirty_range(0, 0, DIRTY_MEMORY_VGA)  # a range of no page
    rng = dm.dirty_range(np.int64(0), np.int64(10), np.int64(0))
    assert rng.take() is None
    dm.set_dirty_range(0, 1)
    assert rng.take() == b"\x01" and rng.take() is None
    assert "VGA" in repr(rng)


