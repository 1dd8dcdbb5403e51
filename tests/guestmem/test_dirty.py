import numpy as np
import pytest

from guestmem.dirty import (DIRTY_CLIENTS_ALL, DIRTY_CLIENTS_NOCODE, DIRTY_MEMORY_CODE,
                            DIRTY_MEMORY_MIGRATION, DIRTY_MEMORY_VGA, TARGET_PAGE_SIZE,
                            DirtyBitmapSnapshot, DirtyClient, DirtyMemory)
from guestmem.errors import DirtyMemoryError, GuestMemError

P = TARGET_PAGE_SIZE


def test_client_values_match_qemu():
    assert (DirtyClient.VGA, DirtyClient.CODE, DirtyClient.MIGRATION) == (0, 1, 2)
    assert DIRTY_MEMORY_VGA is DirtyClient.VGA and DIRTY_MEMORY_CODE is DirtyClient.CODE
    assert DIRTY_MEMORY_MIGRATION is DirtyClient.MIGRATION
    assert DIRTY_CLIENTS_ALL == 0b111 and DIRTY_CLIENTS_NOCODE == 0b101
    assert TARGET_PAGE_SIZE == 4096


def test_new_memory_is_clean_and_grows():
    dm = DirtyMemory(4)
    assert dm.npages == 4
    for c in DirtyClient:
        assert not dm.get_dirty(0, 4 * P, c)
    dm.set_dirty_range(P, 1, 1 << DIRTY_MEMORY_VGA)
    dm.grow(5000)
    assert dm.npages == 5000
    assert dm.get_dirty(P, 1, DirtyClient.VGA)
    assert not dm.get_dirty(4 * P, 4996 * P, DirtyClient.VGA)
    dm.grow(10)  # never shrinks
    assert dm.npages == 5000


def test_set_marks_every_touched_page_per_client():
    dm = DirtyMemory(16)
    dm.set_dirty_range(P - 1, 2, (1 << DIRTY_MEMORY_VGA) | (1 << DIRTY_MEMORY_MIGRATION))
    assert list(dm.dirty_pages(DirtyClient.VGA)) == [0, 1]
    assert list(dm.dirty_pages(DirtyClient.MIGRATION)) == [0, 1]
    assert list(dm.dirty_pages(DirtyClient.CODE)) == []
    assert dm.range_includes_clean(0, 2 * P, DIRTY_CLIENTS_ALL) == 1 << DIRTY_MEMORY_CODE
    assert dm.all_dirty(0, 2 * P, DirtyClient.VGA)
    assert not dm.all_dirty(0, 3 * P, DirtyClient.VGA)
    bm = dm.bitmap(DirtyClient.VGA)
    assert bm.dtype == np.bool_ and bm[:3].tolist() == [True, True, False]
    with pytest.raises(ValueError):
        bm[5] = True  # read-only view


def test_test_and_clear_and_reset():
    dm = DirtyMemory(8)
    dm.set_dirty_range(0, 8 * P)
    assert dm.test_and_clear_dirty(2 * P, P, DirtyClient.VGA)
    assert not dm.test_and_clear_dirty(2 * P, P, DirtyClient.VGA)
    assert dm.get_dirty(2 * P, P, DirtyClient.CODE)
    dm.reset_dirty_range(0, 8 * P, DirtyClient.CODE)
    assert not dm.get_dirty(0, 8 * P, DirtyClient.CODE)
    assert dm.get_dirty(0, 8 * P, DirtyClient.MIGRATION)
    dm.clear_dirty_range(0, 8 * P)
    assert not any(dm.get_dirty(0, 8 * P, c) for c in DirtyClient)


def test_snapshot_and_clear():
    dm = DirtyMemory(64)
    dm.set_dirty_range(3 * P + 5, 1, 1)
    dm.set_dirty_range(10 * P, 2 * P, 1)
    snap = dm.snapshot_and_clear_dirty(2 * P + 7, 20 * P, DirtyClient.VGA)
    assert isinstance(snap, DirtyBitmapSnapshot)
    assert snap.start == 2 * P and snap.end == 23 * P
    assert snap.pages.dtype == np.bool_ and len(snap.pages) == 21
    assert snap.get_dirty(3 * P, 1) and not snap.get_dirty(4 * P, 6 * P)
    assert snap.get_dirty(11 * P + 100, 1)
    assert snap.pages_in(9 * P, 3 * P).tolist() == [False, True, True]
    assert not dm.get_dirty(0, 64 * P, DirtyClient.VGA)
    with pytest.raises(DirtyMemoryError, match="outside the snapshot"):
        snap.get_dirty(P, 1)


@pytest.mark.parametrize("call", [
    lambda dm: dm.set_dirty_range(-1, 5),
    lambda dm: dm.set_dirty_range(0, -5),
    lambda dm: dm.set_dirty_range(0, 9 * P),
    lambda dm: dm.set_dirty_range(0, P, 0b1000),
    lambda dm: dm.set_dirty_range(0, P, "x"),
    lambda dm: dm.get_dirty(0, P, 3),
    lambda dm: dm.get_dirty(0, P, "VGA"),
    lambda dm: dm.test_and_clear_dirty(8 * P, 1, 0),
    lambda dm: dm.snapshot_and_clear_dirty(0, 9 * P, 0),
    lambda dm: dm.reset_dirty_range(0, P, 7),
    lambda dm: dm.grow(-1),
    lambda dm: dm.grow(1 << 63),  # was ValueError from numpy: maximum dimension exceeded
    lambda dm: dm.grow((1 << 52) + 1),
])
def test_bad_input_raises_own_error_and_changes_nothing(call):
    dm = DirtyMemory(8)
    dm.set_dirty_range(0, 4 * P)
    before = [dm.bitmap(c).copy() for c in DirtyClient]
    with pytest.raises(DirtyMemoryError) as ei:
        call(dm)
    assert isinstance(ei.value, GuestMemError)
    assert all((dm.bitmap(c) == b).all() for c, b in zip(DirtyClient, before))
    assert dm.npages == 8


def test_zero_length_is_a_noop():
    dm = DirtyMemory(2)
    dm.set_dirty_range(P, 0)
    assert not dm.get_dirty(0, 2 * P, 0)
    assert not dm.get_dirty(P, 0, 0)


def test_zero_length_ranges_touch_no_page():
    dm = DirtyMemory(4)
    dm.set_dirty_range(P + 5, 0)
    assert not dm.get_dirty(0, 4 * P, DirtyClient.VGA)
    assert not dm.test_and_clear_dirty(P + 5, 0, DirtyClient.VGA)
    assert len(dm.snapshot_and_clear_dirty(P + 5, 0, DirtyClient.VGA)) == 0


def test_clear_listeners_hear_every_clearing_path_and_is_clean_tracks_all_clients():
    """The softmmu TLB's contract: is_clean is True while any client's bit is clear, and every
    operation that clears bits reports the cleared range before it returns."""
    from guestmem.dirty import DIRTY_CLIENTS_ALL, DIRTY_MEMORY_CODE, DirtyMemory
    dm = DirtyMemory(16)
    heard = []
    listener = lambda s, l, m: heard.append((s, l, m))
    dm.add_clear_listener(listener)
    assert dm.is_clean(0)
    dm.set_dirty_range(0, 3 * 4096, DIRTY_CLIENTS_ALL)
    assert not dm.is_clean(4096 + 5)
    dm.snapshot_and_clear_dirty(0, 4096, DIRTY_MEMORY_VGA)
    dm.clear_dirty_range(4096, 4096, 1 << DIRTY_MEMORY_CODE)
    assert dm.test_and_clear_dirty(8192, 4096, DIRTY_MEMORY_VGA)
    assert not dm.test_and_clear_dirty(8192, 4096, DIRTY_MEMORY_VGA)  # nothing cleared: silent
    assert heard == [(0, 4096, 1), (4096, 4096, 2), (8192, 4096, 1)]
    assert dm.is_clean(0) and dm.is_clean(4096) and dm.is_clean(8192)
    dm.remove_clear_listener(listener)
    with pytest.raises(DirtyMemoryError):
        dm.remove_clear_listener(listener)
    with pytest.raises(DirtyMemoryError):
        dm.is_clean(16 * 4096)
