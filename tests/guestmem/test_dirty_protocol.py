"""DirtyMemory's protocol operations (issue 12.1): the int fast paths against a naive model,
make_marker's notdirty check and ClearEpoch, count_dirty."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from guestmem import DirtyClient, DirtyMemory, MemoryRegion, RAMList
from guestmem.dirty import DIRTY_CLIENTS_ALL, ClearEpoch
from guestmem.errors import DirtyMemoryError

P = 4096
NPAGES = 40

# ops: (kind, start, length, mask-or-client, as_enum)
_op = st.tuples(st.sampled_from(["set", "clear", "snap", "get", "count", "test_and_clear"]),
                st.integers(0, NPAGES * P - 1), st.integers(1, 3 * P),
                st.integers(0, DIRTY_CLIENTS_ALL), st.booleans())


@settings(max_examples=150, deadline=None)
@given(st.lists(_op, max_size=40))
def test_operations_match_a_naive_bitmap(ops):
    dm = DirtyMemory(NPAGES)
    model = np.zeros((3, NPAGES), dtype=bool)
    cleared = []
    dm.add_clear_listener(lambda s, n, m: cleared.append((s, n, m)))
    for kind, start, length, m, as_enum in ops:
        length = min(length, NPAGES * P - start)
        p0, p1 = start // P, (start + length + P - 1) // P
        client = m % 3
        c = DirtyClient(client) if as_enum else client
        gen, epoch = dm.clear_generation, dm._epoch  # the epoch a fast path holds now
        if kind == "set":
            if not m:
                continue
            dm.set_dirty_range(start, length, m)
            for k in range(3):
                if m & (1 << k):
                    model[k, p0:p1] = True
        elif kind == "clear":
            dm.clear_dirty_range(start, length, m)
            for k in range(3):
                if m & (1 << k):
                    model[k, p0:p1] = False
        elif kind == "snap":
            snap = dm.snapshot_and_clear_dirty(start, length, c)
            assert (snap.start, snap.end) == (p0 * P, p1 * P)
            assert np.array_equal(snap.pages, model[client, p0:p1])
            if model[client, p0:p1].any():
                assert dm.clear_generation > gen and not epoch.live
                assert cleared[-1] == (p0 * P, (p1 - p0) * P, 1 << client)
            model[client, p0:p1] = False
        elif kind == "get":
            assert dm.get_dirty(start, length, c) == model[client, p0:p1].any()
        elif kind == "count":
            assert dm.count_dirty(start, length, c) == model[client, p0:p1].sum()
        else:
            assert dm.test_and_clear_dirty(start, length, c) == model[client, p0:p1].any()
            model[client, p0:p1] = False
        for k in range(3):
            assert np.array_equal(dm.bitmap(k), model[k]), (kind, k)


def test_fast_paths_check_their_arguments_like_the_general_ones():
    dm = DirtyMemory(4)
    with pytest.raises(DirtyMemoryError, match="beyond the dirty bitmaps"):
        dm.set_dirty_range(3 * P, 2 * P, 1)
    with pytest.raises(DirtyMemoryError, match="beyond the dirty bitmaps"):
        dm.get_dirty(3 * P, 2 * P, 0)
    with pytest.raises(DirtyMemoryError, match="beyond the dirty bitmaps"):
        dm.snapshot_and_clear_dirty(4 * P, 1, 0)
    with pytest.raises(DirtyMemoryError, match="outside DIRTY_CLIENTS_ALL"):
        dm.set_dirty_range(0, 1, 8)
    with pytest.raises(DirtyMemoryError, match="unknown dirty client"):
        dm.get_dirty(0, 1, 3)
    with pytest.raises(DirtyMemoryError, match="negative"):
        dm.snapshot_and_clear_dirty(-P, P, 0)
    assert not dm.bitmap(0).any()


def test_marker_is_the_notdirty_check():
    dm = DirtyMemory(8)
    calls = []

    def invalidate_and_set_dirty(ra, n, mask):
        calls.append((ra, n, mask))
        dm.set_dirty_range(ra, n, mask)

    mark = dm.make_marker(0b101, invalidate_and_set_dirty)
    epoch = mark(P + 8, 4)                     # clean page: marked, epoch handed out
    assert calls == [(P + 8, 4, 0b101)] and isinstance(epoch, ClearEpoch) and epoch.live
    assert dm.get_dirty(P, P, 0) and dm.get_dirty(P, P, 2) and not dm.get_dirty(P, P, 1)
    assert mark(P + 100, 8) is epoch and len(calls) == 1   # dirty for every client: no call
    assert mark(2 * P - 2, 4) is None and len(calls) == 2  # straddles two pages
    dm.snapshot_and_clear_dirty(0, 8 * P, 2)   # a clear ends the epoch before clearing
    assert not epoch.live
    e2 = mark(P + 8, 4)
    assert e2 is not epoch and e2.live and len(calls) == 3
    dm.grow(4096)                              # the rows move: cached knowledge ends too
    assert not e2.live
    with pytest.raises(DirtyMemoryError, match="at least one dirty client"):
        dm.make_marker(0, invalidate_and_set_dirty)


def test_write_marker_runs_the_code_hook_before_marking_a_protected_page():
    rl = RAMList()
    mr = MemoryRegion.ram("ram", 4 * P, ram_list=rl)
    rl.dirty.reset_dirty_range(0, 4 * P, DirtyClient.CODE)   # page holds translated code
    seen = []
    def hook(ra, n):  # records the CODE bit it found, then unprotects: no code is left
        seen.append((ra, n, rl.dirty.get_dirty(ra, n, 1)))
        rl.dirty.set_dirty_range(ra, n, 1 << DirtyClient.CODE)

    rl.code_invalidate_hook = hook
    mark = rl.write_marker(mr.effective_dirty_log_mask())
    assert rl.write_marker(mr.effective_dirty_log_mask()) is mark
    mark(2 * P, 4)
    assert seen == [(2 * P, 4, False)]         # hook first, bits after
    assert rl.dirty.get_dirty(2 * P, 4, DirtyClient.CODE)
    mark(2 * P + 8, 4)
    assert len(seen) == 1


def test_region_set_dirty_and_snapshot_go_through_dirty_memory():
    rl = RAMList()
    MemoryRegion.ram("pad", 3 * P, ram_list=rl)
    vram = MemoryRegion.ram("vram", 16 * P, ram_list=rl)
    vram.set_log(True, DirtyClient.VGA)
    rl.dirty.clear_dirty_range(0, rl.dirty.size)
    heard = []
    rl.dirty.add_clear_listener(lambda s, n, m: heard.append((s, n, m)))
    vram.set_dirty(P - 1, 2)                   # two pages, int fast path
    assert rl.dirty.count_dirty(vram.get_ram_addr(), 16 * P, DirtyClient.VGA) == 2
    snap = vram.snapshot_and_clear_dirty(0, 16 * P, 0)
    assert list(np.flatnonzero(snap.pages)) == [0, 1]
    assert heard == [(vram.get_ram_addr(), 16 * P, 1)]
    assert not rl.dirty.get_dirty(vram.get_ram_addr(), 16 * P, DirtyClient.VGA)


@pytest.mark.parametrize("client", [[0], "VGA", 0.0, None])
def test_a_bad_client_is_a_dirty_memory_error_on_every_path(client):
    dm = DirtyMemory(4)
    for op in (dm.get_dirty, dm.snapshot_and_clear_dirty, dm.count_dirty):
        with pytest.raises(DirtyMemoryError, match="dirty client"):
            op(0, P, client)
