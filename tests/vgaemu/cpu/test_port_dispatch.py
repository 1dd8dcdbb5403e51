"""The CPU's IN/OUT through PortDispatch (ports resolved once per FlatView of the I/O space)
and its loads/stores to MMIO pages through SoftTLB.io_pages.

Each test runs real guest code (OUT/IN/MOV) on a Machine with a recording device mapped in
its I/O or memory space, and checks what the device sees against what address_space_io /
address_space_memory deliver for the same access: sizes, splits, unassigned ports, and that
a cached dispatch is dropped when the map changes (the device moved, replaced, removed).
"""

from __future__ import annotations

import pytest

from guestmem import AccessConstraints, MemoryRegion, MemoryRegionOps, MemTxResult
from guestmem.region import memory_region_transaction
from vgaemu.machine import Machine

CODE = 0x7C00


class Recorder:
    """An io region that records every callback and reads back a fixed pattern."""

    def __init__(self, name: str, size: int = 4, impl_max: int = 4, tag: int = 0):
        self.calls: list[tuple] = []
        self.tag = tag
        impl = AccessConstraints(1, impl_max, unaligned=True)
        self.mr = MemoryRegion.io(name, size, MemoryRegionOps(
            read=self.read, write=self.write, valid=AccessConstraints(1, 4, unaligned=True),
            impl=impl))

    def read(self, offset, size):
        self.calls.append(("r", offset, size))
        return (self.tag + offset) * 0x01010101 & ((1 << (8 * size)) - 1)

    def write(self, offset, value, size):
        self.calls.append(("w", offset, value, size))


def run(m: Machine, code: bytes, **regs) -> None:
    cpu = m.cpu
    m.write(CODE, code + b"\xFA\xF4")          # ... cli; hlt
    for r, v in {"cs": 0, "ds": 0, "ss": 0, "sp": 0x7000, **regs}.items():
        setattr(cpu, r, v)
    cpu.eip = CODE
    cpu.halted = False
    cpu.run(max_instructions=10_000)
    assert cpu.halted


OUT_DX_AL, OUT_DX_AX, OUT_DX_EAX = b"\xEE", b"\xEF", b"\x66\xEF"
IN_AL_DX, IN_AX_DX, IN_EAX_DX = b"\xEC", b"\xED", b"\x66\xED"


@pytest.mark.parametrize("code,size", [(OUT_DX_AL, 1), (OUT_DX_AX, 2), (OUT_DX_EAX, 4)])
def test_out_reaches_the_device_as_address_space_io_does(code, size):
    m = Machine()
    dev = Recorder("rec", impl_max=4)
    m.system_io.add_subregion(0x500, dev.mr)
    run(m, code * 2, dx=0x500, eax=0x11223344)
    via_cpu = list(dev.calls)
    dev.calls.clear()
    for _ in range(2):
        {1: m.address_space_io.stb, 2: m.address_space_io.stw_le,
         4: m.address_space_io.stl_le}[size](0x500, 0x11223344 & ((1 << 8 * size) - 1))
    assert via_cpu == dev.calls == [("w", 0, 0x11223344 & ((1 << 8 * size) - 1), size)] * 2


def test_wide_out_to_a_byte_device_is_split_as_the_address_space_splits_it():
    m = Machine()
    dev = Recorder("bytes", impl_max=1)
    m.system_io.add_subregion(0x500, dev.mr)
    run(m, OUT_DX_EAX + IN_AX_DX, dx=0x501, eax=0xA1B2C3D4)
    got = list(dev.calls)
    dev.calls.clear()
    m.address_space_io.stl_le(0x501, 0xA1B2C3D4)
    m.address_space_io.lduw_le(0x501)
    assert got == dev.calls
    assert m.cpu.ax == m.address_space_io.lduw_le(0x501)


def test_in_from_unassigned_and_device_ports():
    m = Machine()
    dev = Recorder("rec", tag=0x40)
    m.system_io.add_subregion(0x500, dev.mr)
    run(m, IN_AL_DX, dx=0x5F0)
    assert m.cpu.al == m.address_space_io.ldub(0x5F0) == 0xFF   # an empty ISA bus
    run(m, IN_EAX_DX, dx=0x500)
    assert m.cpu.eax == 0x40404040 and dev.calls[-1] == ("r", 0, 4)
    # an access that leaves the device's 4 ports is the address space's business
    run(m, IN_EAX_DX, dx=0x502)
    assert m.cpu.eax == m.address_space_io.ldl_le(0x502)


def test_cached_port_is_dropped_when_the_io_map_changes():
    m = Machine()
    a, b = Recorder("a"), Recorder("b")
    m.system_io.add_subregion(0x500, a.mr)
    run(m, OUT_DX_AL, dx=0x500, eax=1)
    assert a.calls == [("w", 0, 1, 1)]
    flushes = m.cpu.ports.flushes
    # move a away and put b where it was: the next OUT must reach b
    with memory_region_transaction():
        m.system_io.del_subregion(a.mr)
        m.system_io.add_subregion(0x500, b.mr)
        m.system_io.add_subregion(0x600, a.mr)
    assert m.cpu.ports.flushes > flushes
    run(m, OUT_DX_AL, dx=0x500, eax=2)
    run(m, OUT_DX_AL, dx=0x602, eax=3)
    assert b.calls == [("w", 0, 2, 1)]
    assert a.calls == [("w", 0, 1, 1), ("w", 2, 3, 1)]
    # removed: the port is unassigned again (writes ignored, reads all-ones)
    m.system_io.del_subregion(b.mr)
    run(m, OUT_DX_AL + IN_AL_DX, dx=0x500, eax=4)
    assert b.calls == [("w", 0, 2, 1)] and m.cpu.al == 0xFF


def test_an_entry_from_a_replaced_view_is_not_kept():
    """A map change landing between io_dispatch and storing the entry (another thread)."""
    m = Machine()
    a = Recorder("a")
    m.system_io.add_subregion(0x500, a.mr)
    ports = m.cpu.ports
    as_io = m.address_space_io
    real = as_io.io_dispatch

    def racing(addr):
        got = real(addr)
        m.system_io.del_subregion(a.mr)      # lands after the lookup
        return got

    as_io.io_dispatch = racing
    try:
        ports.out[1](0x500, 7)               # may still reach a: it started first
    finally:
        del as_io.io_dispatch
    assert 0x500 not in ports.entries
    before = list(a.calls)
    ports.out[1](0x500, 8)
    assert a.calls == before


def test_mmio_page_stores_and_loads_follow_the_memory_map():
    """MOV to and from an MMIO page goes to the region's callbacks; after the region moves,
    the TLB's io entry for the old page is gone with the flush."""
    m = Machine()
    dev = Recorder("mmio", size=0x1000, tag=0x10)
    m.system_memory.add_subregion(0xFEA00000, dev.mr, priority=1)
    store_load = bytes.fromhex("67 66 89 03" "67 66 8B 0B")   # mov [ebx], eax; mov ecx, [ebx]
    m.cpu.seg_limit[3] = 0xFFFFFFFF                          # flat DS
    run(m, store_load, ebx=0xFEA00010, eax=0xCAFEF00D)
    assert dev.calls == [("w", 0x10, 0xCAFEF00D, 4), ("r", 0x10, 4)]
    assert m.cpu.ecx == 0x20202020
    assert 0xFEA00 in m.cpu.tlb.io_pages
    dev.calls.clear()
    m.system_memory.del_subregion(dev.mr)
    assert 0xFEA00 not in m.cpu.tlb.io_pages
    m.cpu.seg_limit[3] = 0xFFFFFFFF
    run(m, store_load, ebx=0xFEA00010, eax=1)
    assert dev.calls == []
    assert m.address_space_memory.ldl_le(0xFEA00010) == m.cpu.ecx


def test_out_result_for_unassigned_port_is_the_address_space_result():
    m = Machine()
    assert m.cpu.ports.out[1](0x5F0, 1) == m.address_space_io.stb(0x5F0, 1)
    assert m.cpu.ports.out[1](0x3CE, 8) == MemTxResult.OK


def test_rep_outsb_and_insb_go_through_the_port_dispatch():
    """A palette upload's REP OUTSB (and REP INSB back) reach the device byte by byte."""
    m = Machine()
    dev = Recorder("rec", tag=0x30)
    m.system_io.add_subregion(0x500, dev.mr)
    m.write(0x600, bytes((1, 2, 3, 4)))
    # rep outsb (DS:SI -> DX), then rep insb (DX -> ES:DI)
    run(m, b"\xF3\x6E" + b"\xB9\x03\x00" + b"\xF3\x6C", dx=0x501, si=0x600, di=0x700, cx=4)
    assert dev.calls == [("w", 1, v, 1) for v in (1, 2, 3, 4)] + [("r", 1, 1)] * 3
    assert m.read(0x700, 3) == bytes((0x31,)) * 3
