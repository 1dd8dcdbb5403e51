"""Issue 9.2: a DMA mapping never outlives the memory it points into.

We refuse an unplug while a direct mapping into the DIMM is live (QEMU instead keeps the
region alive through memory_region_ref); after unmap the unplug goes through.  The memory
belongs to the backend until object-del frees its RAMBlock (refused while a mapping is
live), and a backend that reuses the freed ram_addr range never gets dirty bits from the
old mapping.
"""

from __future__ import annotations

import numpy as np
import pytest

import guestmem.ramblock as ramblock_mod
from guestmem import AddressSpace, DirtyClient, MachineMemory, MemoryRegion, RAMList
from guestmem.errors import AccessError, DeviceError, MemoryConfigError, RAMBlockError

P = 4096
MiB = 1 << 20


def _machine():
    rl = RAMList()
    sysmem = MemoryRegion.container("system", 1 << 64)
    mm = MachineMemory("16M,slots=2,maxmem=1G", ram_list=rl, system_memory=sysmem,
                       objects=["memory-backend-ram,id=mem1,size=4M",
                                "memory-backend-ram,id=mem2,size=4M"])
    return rl, sysmem, mm, AddressSpace(sysmem, "dma")


def _state(mm, rl):
    return ([(b.idstr, b.offset) for b in rl.blocks], mm.query_memory_devices(),
            {k: b.is_mapped for k, b in mm.backends.items()},
            [(s.addr, s.name) for s in mm.device_memory.subregions])


def test_unplug_refused_while_mapped_names_the_mapping_and_changes_nothing():
    rl, sysmem, mm, as_ = _machine()
    d1 = mm.plug("pc-dimm,id=dimm1,memdev=mem1")
    m = as_.map(d1.addr + P, 2 * P, is_write=True)
    assert m is not None and not m.bounce and len(m) == 2 * P
    before = _state(mm, rl)
    with pytest.raises(DeviceError, match=r"dimm1.*DMAMapping direct .*'dma'.*unmap it first"):
        mm.unplug("dimm1")
    assert _state(mm, rl) == before
    assert as_.read_bytes(d1.addr + P, 1) == b"\x00"  # still mapped in the address space
    m.buf[:] = 7
    as_.unmap(m, True, 2 * P)
    assert mm.backends["mem1"].host[P:3 * P].min() == 7
    mm.unplug("dimm1")
    assert not d1.plugged
    mm.close()


def test_a_reader_mapping_blocks_unplug_too():
    rl, sysmem, mm, as_ = _machine()
    d1 = mm.plug("pc-dimm,id=dimm1,memdev=mem1")
    m = as_.map(d1.addr, P, is_write=False)
    with pytest.raises(DeviceError, match="DMAMapping direct"):
        mm.unplug(d1)
    as_.unmap(m, False, 0)
    mm.unplug(d1)
    mm.close()


def test_old_mapping_never_marks_the_block_that_reuses_its_ram_addr_range():
    rl, sysmem, mm, as_ = _machine()
    d1 = mm.plug("pc-dimm,id=dimm1,memdev=mem2")
    ram_addr = d1.mr.get_ram_addr()
    m = as_.map(d1.addr, 2 * P, is_write=True)
    m.buf[:] = 1
    as_.unmap(m, True, 2 * P)
    assert rl.dirty.get_dirty(ram_addr, 2 * P, DirtyClient.CODE)
    mm.unplug(d1)
    mm.del_object("mem2")
    mm.add_object("memory-backend-ram,id=mem3,size=4M")
    d2 = mm.plug("pc-dimm,id=dimm2,memdev=mem3")
    assert d2.mr.get_ram_addr() == ram_addr           # the freed range is reused
    rl.dirty.clear_dirty_range(ram_addr, 4 * MiB)
    # The stale mapping object: its buffer is the old backend's memory, and it cannot be
    # unmapped a second time, so nothing reaches the new DIMM or its dirty bits.
    m.buf[:] = 9
    with pytest.raises(AccessError, match="already unmapped"):
        as_.unmap(m, True, 2 * P)
    assert not rl.dirty.get_dirty(ram_addr, 4 * MiB, DirtyClient.CODE)
    assert not mm.backends["mem3"].host[:2 * P].any()
    assert as_.read_bytes(d2.addr, 4) == b"\x00" * 4
    mm.close()


def test_ram_block_free_refuses_a_mapped_block():
    rl = RAMList()
    root = MemoryRegion.container("system", 1 << 32)
    mr = MemoryRegion.ram("dev.ram", 4 * P, ram_list=rl)
    root.add_subregion(0, mr)
    as_ = AddressSpace(root, "memory")
    m = as_.map(0, P, is_write=True)
    root.del_subregion(mr)
    with pytest.raises(RAMBlockError, match=r"dev.ram.*DMAMapping direct 0x0\+0x1000 w"):
        rl.ram_block_free(mr.ram_block)
    assert mr.ram_block in rl.blocks
    as_.unmap(m, True, P)
    rl.ram_block_free(mr.ram_block)
    assert mr.ram_block not in rl.blocks


def test_mapping_made_while_the_map_changes_keeps_the_backends_memory(monkeypatch):
    """A map() that raced with the unplug (it looked up the old FlatView) points into the
    backend's block, which outlives the unplug; object-del finds it after the grace period
    and fails with the mapping's name, leaving the backend and its block as they were."""
    rl, sysmem, mm, as_ = _machine()
    d1 = mm.plug("pc-dimm,id=dimm1,memdev=mem1")
    addr = d1.addr
    block = d1.mr.ram_block
    assert as_.stl_le(addr, 0x11223344) == 0
    mm.unplug("dimm1")
    late = []
    real = ramblock_mod.synchronize_rcu

    def grace_period_with_a_racing_map():
        # what a map() in another thread, still on the old FlatView, leaves behind
        fake = type("M", (), {"__repr__": lambda self: "<DMAMapping direct racing>"})()
        block.dma_mappings.add(fake)
        late.append(fake)
        real()

    monkeypatch.setattr(ramblock_mod, "synchronize_rcu", grace_period_with_a_racing_map)
    with pytest.raises(MemoryConfigError, match="mem1.*racing"):
        mm.del_object("mem1")
    monkeypatch.setattr(ramblock_mod, "synchronize_rcu", real)
    assert "mem1" in mm.backends and block in rl.blocks and not block.freed
    assert int.from_bytes(mm.backends["mem1"].host[:4].tobytes(), "little") == 0x11223344
    block.dma_mappings.discard(late[-1])
    mm.del_object("mem1")
    assert block.freed and "mem1" not in mm.backends
    assert not np.any(mm.backends["mem2"].host[:4])
    mm.close()


def test_object_del_inside_a_transaction_is_refused():
    """Inside a transaction the old map is still the published one: freeing the backend's
    block then (after an unplug in the same transaction) would let accesses write into
    freed memory."""
    from guestmem import memory_region_transaction
    rl, sysmem, mm, as_ = _machine()
    d1 = mm.plug("pc-dimm,id=dimm1,memdev=mem1")
    with memory_region_transaction():
        mm.unplug(d1)
        before = _state(mm, rl)
        with pytest.raises(MemoryConfigError, match="inside a memory region transaction"):
            mm.del_object("mem1")
        assert _state(mm, rl) == before
    mm.del_object("mem1")
    assert "mem1" not in mm.backends
    mm.close()
