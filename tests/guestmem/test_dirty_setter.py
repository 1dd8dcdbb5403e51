"""MemoryRegion.dirty_setter against MemoryRegion.set_dirty.

Two RAMLists each with a RAM region get the same random sequence of operations: small and
page-crossing marks (one through the setter, the other through set_dirty), clears of one
client or all, snapshot_and_clear, VGA logging turned off and on, the global (migration)
dirty log started and stopped.  After every step every dirty bitmap must be the same: the
setter's remembered page never hides a mark that set_dirty would have made.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from guestmem import DIRTY_MEMORY_VGA, MemoryRegion, RAMList
from guestmem.dirty import DIRTY_MEMORY_MIGRATION, DIRTY_MEMORY_NUM
from guestmem.errors import GuestMemError

SIZE = 8 * 4096

ops = st.lists(st.one_of(
    st.tuples(st.just("mark"), st.integers(0, SIZE - 1), st.sampled_from([1, 2, 4, 8, 5000])),
    st.tuples(st.just("clear"), st.sampled_from([DIRTY_MEMORY_VGA, DIRTY_MEMORY_MIGRATION,
                                                 -1]), st.integers(0, 7)),
    st.tuples(st.just("snapshot"), st.just(0), st.integers(0, 7)),
    st.tuples(st.just("log"), st.booleans(), st.just(0)),
    st.tuples(st.just("global"), st.booleans(), st.just(0)),
), min_size=1, max_size=60)


def _region() -> tuple[MemoryRegion, RAMList]:
    rl = RAMList()
    mr = MemoryRegion.ram("dev.ram", SIZE, ram_list=rl)
    mr.set_log(True, DIRTY_MEMORY_VGA)
    rl.dirty.clear_dirty_range(0, rl.dirty.size)
    return mr, rl


@settings(max_examples=200, deadline=None)
@given(ops=ops)
def test_setter_marks_what_set_dirty_marks(ops):
    (ma, ra), (mb, rb) = _region(), _region()
    setter = ma.dirty_setter()
    for op, x, y in ops:
        if op == "mark":
            size = min(y, SIZE - x)
            setter(x, size)
            mb.set_dirty(x, size)
        elif op == "clear":
            for mr, rl in ((ma, ra), (mb, rb)):
                mask = (1 << DIRTY_MEMORY_NUM) - 1 if x < 0 else 1 << x
                rl.dirty.clear_dirty_range(mr.ram_block.offset + y * 4096, 4096, mask)
        elif op == "snapshot":
            snaps = [mr.snapshot_and_clear_dirty(y * 4096, 4096, DIRTY_MEMORY_VGA)
                     for mr in (ma, mb)]
            assert np.array_equal(snaps[0].pages, snaps[1].pages)
        elif op == "log":
            ma.set_log(x, DIRTY_MEMORY_VGA)
            mb.set_log(x, DIRTY_MEMORY_VGA)
        else:
            for rl in (ra, rb):
                (rl.global_dirty_log_start if x else rl.global_dirty_log_stop)()
        for c in range(DIRTY_MEMORY_NUM):
            assert np.array_equal(ra.dirty.bitmap(c), rb.dirty.bitmap(c)), (op, c)


def test_setter_needs_ram_and_checks_its_arguments():
    with pytest.raises(GuestMemError):
        MemoryRegion.container("box", 4096).dirty_setter()
    mr, _ = _region()
    setter = mr.dirty_setter()
    with pytest.raises(GuestMemError):
        setter("0", 4)
    with pytest.raises(GuestMemError):
        setter(SIZE - 2, 4)


@pytest.mark.parametrize("addr", [-1, -4096, -4097])
def test_fresh_setter_refuses_a_negative_address(addr):
    """A new setter remembered page -1 with no epoch: an address in -4096..-1 shifts to
    page -1 too and raised AttributeError ('NoneType' object has no attribute 'live')
    instead of set_dirty's RegionError."""
    mr, _ = _region()
    with pytest.raises(GuestMemError):
        mr.dirty_setter()(addr, 1)
