"""MemoryRegionOps.read_block/write_block, the ld/st MMIO shortcut and set_dirty's fast path.

The block hooks are our extension (QEMU calls its C callbacks per access unit): an access
covering more than one implemented unit goes to the hook whole, in guest address order, when
every unit of the per-unit split would be valid; otherwise the per-unit path runs as before.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from guestmem import (AccessConstraints, AddressSpace, DirtyClient, Endianness, MemoryRegion,
                      MemoryRegionOps, MemTxResult, RAMList, RegionError)
from guestmem.dirty import DIRTY_MEMORY_NUM

P = 4096


class BlockDev:
    """Byte registers in `mem`; logs every callback."""

    def __init__(self, size=0x1000, blocks=True, **kw):
        self.mem = bytearray(size)
        self.log = []
        self.order = "big" if kw.get("endianness") is Endianness.BIG else "little"
        extra = dict(read_block=self.read_block, write_block=self.write_block) if blocks else {}
        self.ops = MemoryRegionOps(read=self.read, write=self.write, **kw, **extra)

    def read(self, off, size):
        self.log.append(("r", off, size))
        return int.from_bytes(self.mem[off:off + size], self.order)

    def write(self, off, val, size):
        self.log.append(("w", off, size))
        self.mem[off:off + size] = val.to_bytes(size, self.order)

    def read_block(self, off, n):
        self.log.append(("R", off, n))
        return np.frombuffer(bytes(self.mem[off:off + n]), dtype=np.uint8)

    def write_block(self, off, data):
        self.log.append(("W", off, len(data)))
        assert not data.flags.writeable
        self.mem[off:off + len(data)] = data.tobytes()


def space(dev, ram_size=0x10000):
    rl = RAMList()
    root = MemoryRegion.container("system", 1 << 32)
    ram = MemoryRegion.ram("ram", ram_size, ram_list=rl)
    root.add_subregion(0, ram)
    root.add_subregion(0x100000, MemoryRegion.io("dev", len(dev.mem), dev.ops))
    return rl, ram, AddressSpace(root, "memory")


def test_block_hooks_take_multi_unit_accesses_whole():
    dev = BlockDev(impl=AccessConstraints(1, 4), valid=AccessConstraints(1, 4, unaligned=True))
    _, _, as_ = space(dev)
    data = bytes(range(200))
    assert as_.write(0x100003, data) == MemTxResult.OK
    assert dev.log == [("W", 3, 200)] and bytes(dev.mem[3:203]) == data
    dev.log.clear()
    buf = bytearray(200)
    assert as_.read(0x100003, buf) == MemTxResult.OK
    assert dev.log == [("R", 3, 200)] and bytes(buf) == data
    dev.log.clear()
    # one implemented unit (or less): the ordinary callbacks
    as_.write(0x100010, b"\1\2\3\4")
    as_.read(0x100010, bytearray(2))
    assert dev.log == [("w", 0x10, 4), ("r", 0x10, 2)]


def test_without_hooks_or_with_invalid_units_the_split_stays():
    plain = BlockDev(blocks=False)
    _, _, as_ = space(plain)
    as_.write(0x100000, bytes(8))
    assert plain.log == [("w", 0, 4), ("w", 4, 4)]
    # valid accesses start at 2 bytes: a 7-byte write has a 1-byte unit that must fail
    strict = BlockDev(valid=AccessConstraints(2, 4), impl=AccessConstraints(1, 4))
    _, _, as_ = space(strict)
    assert as_.write(0x100000, bytes(7)) == MemTxResult.DECODE_ERROR
    assert [e[0] for e in strict.log] == ["w", "w"]
    # impl splits unaligned but valid refuses unaligned units: no block either
    odd = BlockDev(valid=AccessConstraints(1, 4), impl=AccessConstraints(1, 4, unaligned=True))
    _, _, as_ = space(odd)
    as_.write(0x100001, bytes(8))
    assert all(e[0] == "w" for e in odd.log)


def test_access_straddling_ram_and_io_gives_the_hook_its_part():
    dev = BlockDev()
    rl, ram, as_ = space(dev, ram_size=0x100000)
    data = bytes(range(64))
    assert as_.write(0x100000 - 16, data) == MemTxResult.OK
    assert dev.log == [("W", 0, 48)]
    assert bytes(ram.get_ram_ptr()[-16:]) == data[:16] and bytes(dev.mem[:48]) == data[16:]


def test_read_block_must_return_the_asked_bytes():
    dev = BlockDev()
    dev.ops.read_block = lambda off, n: np.zeros(n - 1, np.uint8)
    _, _, as_ = space(dev)
    with pytest.raises(RegionError, match="read_block"):
        as_.read(0x100000, bytearray(32))
    with pytest.raises(RegionError, match="read_block"):
        MemoryRegion.io("bad", 4, MemoryRegionOps(read_block=42))


@settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
@given(big=st.booleans(), vmax=st.sampled_from([1, 2, 4, 8]), imax=st.sampled_from([1, 2, 4]),
       unaligned=st.booleans(), off=st.integers(0, 64),
       op=st.sampled_from(["ldub", "lduw_le", "lduw_be", "ldl_le", "ldl_be", "ldq_le", "ldq_be",
                           "stb", "stw_le", "stw_be", "stl_le", "stl_be", "stq_le", "stq_be"]),
       val=st.integers(0, 2**64 - 1))
def test_ld_st_mmio_shortcut_matches_the_general_path(big, vmax, imax, unaligned, off, op, val):
    """ld*/st* to an io region (the cached-range shortcut) log the same callbacks, store the
    same bytes and return the same value and MemTxResult as the general address_space_rw."""
    kw = dict(endianness=Endianness.BIG if big else Endianness.LITTLE,
              valid=AccessConstraints(1, vmax, unaligned=unaligned),
              impl=AccessConstraints(1, imax, unaligned=unaligned))
    a, b = BlockDev(blocks=False, **kw), BlockDev(blocks=False, **kw)
    a.mem[:] = b.mem[:] = bytes(range(256)) * 16
    _, _, as_a = space(a)
    _, _, as_b = space(b)
    size = {"b": 1, "w": 2, "l": 4, "q": 8}[op.split("_")[0][-1]]
    order = "big" if op.endswith("_be") else "little"
    addr = 0x100000 + off
    for _ in range(2):  # the second access hits the cached range
        if op.startswith("st"):
            v = val & ((1 << (8 * size)) - 1)
            got = getattr(as_a, op)(addr, v)
            want = as_b._rw_slow(addr, v.to_bytes(size, order), True)
        else:
            got = getattr(as_a, op)(addr)
            buf = bytearray(size)
            as_b._rw_slow(addr, buf, False)
            want = int.from_bytes(buf, order)
        assert got == want
        assert a.log == b.log and a.mem == b.mem


def test_ld_st_shortcut_follows_topology_changes():
    dev, other = BlockDev(), BlockDev()
    rl = RAMList()
    root = MemoryRegion.container("io", 0x10000)
    mr = MemoryRegion.io("dev", 0x100, dev.ops)
    root.add_subregion(0x100, mr)
    as_ = AddressSpace(root, "io")
    as_.stb(0x110, 1)
    root.del_subregion(mr)
    root.add_subregion(0x100, MemoryRegion.io("other", 0x100, other.ops))
    as_.stb(0x110, 2)
    assert dev.mem[0x10] == 1 and other.mem[0x10] == 2
    root.add_subregion(0x200, MemoryRegion.ram("ram", 0x1000, ram_list=rl))
    assert as_.stb(0x210, 3) == MemTxResult.OK and as_.ldub(0x210) == 3


def _bitmaps(rl):
    return [rl.dirty.bitmap(c).copy() for c in range(DIRTY_MEMORY_NUM)]


@pytest.mark.parametrize("addr,size", [(0, 1), (P - 1, 2), (P - 4, 4), (5 * P + 7, 1),
                                       (3 * P, 2 * P + 1), (0, 16 * P), (15 * P, P)])
def test_set_dirty_fast_path_marks_what_the_range_helper_marks(addr, size):
    rl, rl2 = RAMList(), RAMList()
    mrs = []
    for r in (rl, rl2):
        MemoryRegion.ram("pad", 3 * P, ram_list=r)  # the region does not start at ram_addr 0
        mr = MemoryRegion.ram("vram", 16 * P, ram_list=r)
        mr.set_log(True, DirtyClient.VGA)
        r.dirty.clear_dirty_range(0, r.dirty.size)
        mrs.append(mr)
    mrs[0].set_dirty(addr, size)
    off = mrs[1].get_ram_addr()
    rl2.dirty.set_dirty_range(off + addr, size, mrs[1].effective_dirty_log_mask())
    for x, y in zip(_bitmaps(rl), _bitmaps(rl2)):
        assert np.array_equal(x, y)


def test_set_dirty_errors_change_nothing():
    rl = RAMList()
    mr = MemoryRegion.ram("vram", 4 * P, ram_list=rl)
    rl.dirty.clear_dirty_range(0, rl.dirty.size)
    before = _bitmaps(rl)
    for addr, size in [(4 * P, 1), (-1, 2), (0, 4 * P + 1), (1.5, 1), (True, 1)]:
        with pytest.raises(RegionError):
            mr.set_dirty(addr, size)
    mr.set_dirty(P, 0)
    assert all(np.array_equal(a, b) for a, b in zip(before, _bitmaps(rl)))
    alias = MemoryRegion.alias("win", mr, P, P)
    alias.set_dirty(10, 1)
    assert rl.dirty.get_dirty(mr.get_ram_addr() + P, 1, DirtyClient.CODE)


@pytest.mark.parametrize("addr,size", [(0, 1), (P, 3 * P), (5, 16 * P - 5), (15 * P, P)])
def test_snapshot_fast_path_matches_the_general_one(addr, size):
    """snapshot_and_clear_dirty with an int client takes the memoryview path; a DirtyClient
    member takes the general one: same snapshot, same bits cleared."""
    snaps = []
    for client in (0, DirtyClient.VGA):
        rl = RAMList()
        MemoryRegion.ram("pad", 3 * P, ram_list=rl)
        mr = MemoryRegion.ram("vram", 16 * P, ram_list=rl)
        mr.set_log(True, DirtyClient.VGA)
        rl.dirty.clear_dirty_range(0, rl.dirty.size)
        for p in (0, 2, 3, 9, 15):
            mr.set_dirty(p * P + 1, 1)
        gen = rl.dirty.clear_generation
        snap = mr.snapshot_and_clear_dirty(addr, size, client)
        assert rl.dirty.clear_generation > gen
        assert not mr.get_dirty(addr, size, DirtyClient.VGA)
        assert mr.get_dirty(0, 16 * P, DirtyClient.CODE)  # other clients untouched
        snap.pages[:] = False  # a snapshot is the caller's copy
        assert not rl.dirty.get_dirty(mr.get_ram_addr() + addr, size, DirtyClient.VGA)
        snaps.append(snap)
    a, b = snaps
    assert (a.start, a.end) == (b.start, b.end)
    mr_again = [mr.snapshot_get_dirty(s, addr, size) for s in snaps]
    assert mr_again[0] == mr_again[1]


def test_sync_dirty_log_runs_the_log_sync_listeners():
    from guestmem import MemoryListener

    rl = RAMList()
    root = MemoryRegion.container("system", 1 << 20)
    mr = MemoryRegion.ram("vram", 4 * P, ram_list=rl)
    mr.set_log(True, DirtyClient.VGA)
    root.add_subregion(0, mr)
    as_ = AddressSpace(root, "memory")
    rl.dirty.clear_dirty_range(0, rl.dirty.size)

    class Syncer(MemoryListener):
        def log_sync(self, section):
            section.mr.set_dirty(2 * P, 1)  # a log kept elsewhere (say, by an accelerator)

    mr.sync_dirty_log()
    assert not mr.get_dirty(0, 4 * P, DirtyClient.VGA)
    l = Syncer()
    as_.register_listener(l)
    mr.sync_dirty_log()
    assert mr.get_dirty(2 * P, 1, DirtyClient.VGA)
    snap = mr.snapshot_and_clear_dirty(0, 4 * P, 0)
    assert snap.pages.tolist() == [False, False, True, False]
    as_.unregister_listener(l)
    mr.snapshot_and_clear_dirty(0, 4 * P, 0)
    assert not mr.snapshot_and_clear_dirty(0, 4 * P, 0).pages.any()


def test_log_sync_registry_forgets_a_dead_address_space():
    """The registry that lets a sync with no log_sync listener cost nothing holds spaces
    weakly: a space dropped with its listener still registered leaves it empty again."""
    import gc

    from guestmem import MemoryListener
    from guestmem import region as region_mod

    class Syncer(MemoryListener):
        def log_sync(self, section):
            pass

    before = len(region_mod._log_sync_spaces)
    root = MemoryRegion.container("system", 1 << 20)
    as_ = AddressSpace(root, "memory")
    as_.register_listener(Syncer())
    assert len(region_mod._log_sync_spaces) == before + 1
    as_.register_listener(Syncer())  # a second one: still one entry for the space
    assert len(region_mod._log_sync_spaces) == before + 1
    del as_
    gc.collect()
    assert len(region_mod._log_sync_spaces) == before
