"""AddressSpace's per-instance fast paths give exactly what the class's slow paths give
(issue 12.2): same results, same memory, same dirty bits, same device accesses."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from guestmem import (AccessConstraints, AddressSpace, DirtyClient, Endianness, MemoryRegion,
                      MemoryRegionOps, RAMList)
from guestmem.address_space import _LD, _ST
from guestmem.region import RegionKind

P = 4096
SPAN = 0x20000


def _machine():
    """RAM, a VGA-logged RAM, ROM, an alias, an io region (little and big endian) and holes."""
    rl = RAMList()
    root = MemoryRegion.container("system", 1 << 32)
    ram = MemoryRegion.ram("ram", 0x8000, ram_list=rl)
    vram = MemoryRegion.ram("vram", 0x4000, ram_list=rl)
    vram.set_log(True, DirtyClient.VGA)
    rom = MemoryRegion.rom("rom", 0x2000, ram_list=rl)
    log = []
    regs = bytearray(0x100)

    def read(off, size):
        log.append(("r", off, size))
        return int.from_bytes(regs[off:off + size], "little")

    def write(off, val, size):
        log.append(("w", off, val, size))
        regs[off:off + size] = val.to_bytes(size, "little")

    io_le = MemoryRegion.io("io-le", 0x100, MemoryRegionOps(
        read=read, write=write, valid=AccessConstraints(1, 4), impl=AccessConstraints(1, 2)))
    io_be = MemoryRegion.io("io-be", 0x100, MemoryRegionOps(
        read=read, write=write, endianness=Endianness.BIG, valid=AccessConstraints(1, 8),
        impl=AccessConstraints(1, 4)))
    root.add_subregion(0x0, ram)
    root.add_subregion(0x9000, vram)
    root.add_subregion(0xE000, rom)
    root.add_subregion(0x10000, MemoryRegion.alias("ram-alias", ram, 0x1000, 0x3000))
    # 32-bit registers only (the DMA engine's block), and a read-only unaligned-capable one
    io_exact4 = MemoryRegion.io("io-exact4", 0x100, MemoryRegionOps(
        read=read, write=write, valid=AccessConstraints(4, 4), impl=AccessConstraints(4, 4)))
    io_ro = MemoryRegion.io("io-ro", 0x100, MemoryRegionOps(
        read=read, valid=AccessConstraints(1, 8, unaligned=True),
        impl=AccessConstraints(2, 8, unaligned=True)))
    root.add_subregion(0x14000, io_le)
    root.add_subregion(0x14100, io_be)
    root.add_subregion(0x14200, io_exact4)
    root.add_subregion(0x14300, io_ro)
    rl.dirty.clear_dirty_range(0, rl.dirty.size)
    return AddressSpace(root, "memory"), rl, log, (ram, vram, rom)


_addr = st.one_of(st.integers(0, SPAN), st.sampled_from(
    [0x7FFE, 0x8FFE, 0x9000, 0xCFFE, 0xDFFF, 0xE000, 0xFFFE, 0x12FFE, 0x13FFE, 0x140FE, 0x141FD,
     0x14004, 0x14108, 0x14200, 0x14204, 0x14206, 0x142FC, 0x14300, 0x14301, 0x14308]))
_access = st.one_of(
    st.tuples(st.just("write"), _addr, st.binary(min_size=0, max_size=20)),
    st.tuples(st.just("read"), _addr, st.integers(0, 20)),
    st.tuples(st.sampled_from(sorted(_LD)), _addr, st.just(0)),
    st.tuples(st.sampled_from(sorted(_ST)), _addr, st.integers(0, (1 << 64) - 1)),
    st.tuples(st.just("snapshot"), st.just(0), st.just(0)),
)


@settings(max_examples=200, deadline=None)
@given(st.lists(_access, max_size=60))
def test_fast_paths_equal_slow_paths(accesses):
    fast, rl_f, log_f, regions_f = _machine()
    slow, rl_s, log_s, regions_s = _machine()
    for op, addr, arg in accesses:
        if op == "write":
            a = fast.write(addr, arg)
            b = AddressSpace.write(slow, addr, arg)
        elif op == "read":
            a = (fast.read_bytes(addr, arg), fast.read(addr, bytearray(arg)))
            b = (AddressSpace.read_bytes(slow, addr, arg), AddressSpace.read(slow, addr,
                                                                          bytearray(arg)))
        elif op == "snapshot":
            a = regions_f[1].snapshot_and_clear_dirty(0, 0x4000, DirtyClient.VGA).pages.tolist()
            b = regions_s[1].snapshot_and_clear_dirty(0, 0x4000, DirtyClient.VGA).pages.tolist()
        elif op in _LD:
            a = getattr(fast, op)(addr)
            b = getattr(AddressSpace, op)(slow, addr)
        else:
            a = getattr(fast, op)(addr, arg)
            b = getattr(AddressSpace, op)(slow, addr, arg)
        assert a == b, (op, hex(addr))
    _assert_same_machines(log_f, log_s, regions_f, regions_s, rl_f, rl_s)


def _assert_same_machines(log_f, log_s, regions_f, regions_s, rl_f, rl_s):
    """The fast and the slow machine ended alike: device calls, RAM and every dirty bitmap."""
    assert log_f == log_s
    for f, s in zip(regions_f, regions_s):
        assert np.array_equal(f.get_ram_ptr(), s.get_ram_ptr()), f.name
    for c in range(3):
        assert np.array_equal(rl_f.dirty.bitmap(c), rl_s.dirty.bitmap(c)), c


def test_the_class_shows_every_access_method():
    """Each access method is declared on the class (the slow path); an instance shadows the
    hot ones with its fast paths."""
    as_, _, _, _ = _machine()
    for name in ["write", "read", "read_bytes", "rw", *_LD, *_ST]:
        assert name in vars(AddressSpace), name
    for name in ["write", "read", "read_bytes", *_LD, *_ST]:
        assert name in vars(as_), name
    assert "address_space_write" in AddressSpace.write.__doc__


def test_region_kind_is_an_enum_that_still_compares_as_a_string():
    rl = RAMList()
    mr = MemoryRegion.ram("r", P, ram_list=rl)
    assert mr.kind is RegionKind.RAM and mr.kind == "ram" and mr.kind != "io"
    assert MemoryRegion.container("c", P).kind == "container"
    assert "<MemoryRegion ram 'r'" in repr(mr)


_NUMPY_ADDRS = [np.int64(0x10), np.uint64(0x9002), np.int8(-1), np.uint64((1 << 64) - 1),
                np.uint64((1 << 64) - 2), np.int64((1 << 63) - 1), np.uint32(0x14004),
                np.uint16(0xFFFF), 16.0, 1.5]
_NUMPY_VALUES = [np.int8(-1), np.int64(-1), np.uint64((1 << 64) - 1), np.uint8(0xAB),
                 np.int32(0x12345678), True, 2.0]


def _same(fast_call, slow_call):
    """Both give the same result, or both raise AccessError (and nothing else escapes)."""
    from guestmem import AccessError

    out = []
    for call in (fast_call, slow_call):
        try:
            out.append(("ok", call()))
        except AccessError:
            out.append(("AccessError", None))
    return out[0] == out[1], out


def test_numpy_and_float_addresses_and_values_take_the_slow_paths_answer():
    """An address or value that is a numpy scalar (a guest computing addresses with numpy)
    or a float gets what the slow path gives: np.int8(-1) & 0xFF raised OverflowError in
    st, np.uint64(2^64-1) + size wrapped to 0 in ld's range check and raised OverflowError
    from struct, a float address reached a memoryview slice (TypeError)."""
    fast, rl_f, log_f, regions_f = _machine()
    slow, rl_s, log_s, regions_s = _machine()

    def warm(as_, cls):
        for a in (0x10, 0x9002, 0x10010, 0xE000):  # fill the RAM, dirty-page and io caches
            (as_.stb if not cls else lambda x, v: AddressSpace.stb(as_, x, v))(a, 1)
            (as_.ldub if not cls else lambda x: AddressSpace.ldub(as_, x))(a)
        (as_.ldub if not cls else lambda x: AddressSpace.ldub(as_, x))(0x14004)

    for addr in _NUMPY_ADDRS:
        warm(fast, False)
        warm(slow, True)
        for op in sorted(_LD):
            ok, out = _same(lambda: getattr(fast, op)(addr),
                            lambda: getattr(AddressSpace, op)(slow, addr))
            assert ok, (op, addr, out)
        for op in sorted(_ST):
            for val in _NUMPY_VALUES:
                ok, out = _same(lambda: getattr(fast, op)(addr, val),
                                lambda: getattr(AddressSpace, op)(slow, addr, val))
                assert ok, (op, addr, val, out)
        for n in (1, 3):
            ok, out = _same(lambda: (fast.read_bytes(addr, n), fast.read(addr, bytearray(n)),
                                     fast.write(addr, b"\x5A" * n)),
                            lambda: (AddressSpace.read_bytes(slow, addr, n),
                                     AddressSpace.read(slow, addr, bytearray(n)),
                                     AddressSpace.write(slow, addr, b"\x5A" * n)))
            assert ok, ("read/write", addr, n, out)
    _assert_same_machines(log_f, log_s, regions_f, regions_s, rl_f, rl_s)


def test_read_bytes_of_more_than_the_address_space_is_an_access_error():
    from guestmem import AccessError

    as_, _, _, _ = _machine()
    for n in (1 << 63, (1 << 64) + 1):
        with pytest.raises(AccessError, match="read length"):
            as_.read_bytes(0, n)
    with pytest.raises(AccessError, match="load size"):
        as_.ld(0, np.zeros((2, 2)))


def test_numpy_address_whose_end_wraps_does_not_store_past_the_range():
    """np.uint32(0xFFFFFFFE) + 4 wraps to 2, which passed the cached dirty page's range
    check: the store went to offset 0xFFFFFFFE of a RAM block larger than 4 GiB, a byte no
    guest address maps here, and returned OK. Now the check cannot wrap
    (addr <= hi - size) and the slow path answers: nothing there, DECODE_ERROR."""
    from guestmem import MemTxResult

    rl = RAMList()
    root = MemoryRegion.container("system", (1 << 64) - 1)
    big = MemoryRegion.ram("big", (1 << 32) + 0x10000, ram_list=rl)
    root.add_subregion(0, MemoryRegion.alias("low", big, 0, 0x10000))
    as_ = AddressSpace(root, "memory")
    as_.stl_le(0x1000, 1)  # the page [0x1000, 0x2000) is now the cached dirty page
    assert as_.stl_le(np.uint32(0xFFFFFFFE), 0x11223344) == MemTxResult.DECODE_ERROR
    assert as_.write(np.uint32(0xFFFFFFFF), b"\x77\x77") == MemTxResult.DECODE_ERROR
    assert as_.ldl_le(np.uint32(0xFFFFFFFE)) == 0
    assert not big.get_ram_ptr()[0xFFFFFFF0:0x100000010].any()
