import numpy as np
import pytest

from guestmem import (AccessConstraints, AccessError, AddressSpace, DMADirection, DirtyClient,
                      Endianness, MemoryRegion, MemoryRegionOps, MemTxResult, RAMList,
                      address_space_map, address_space_rw, address_space_unmap, dma_memory_rw,
                      io_root)

P = 4096


class Dev:
    """An io device that records accesses; registers are bytes of `mem`."""

    def __init__(self, size=0x100, **kw):
        self.mem = bytearray(size)
        self.log = []
        self.ops = MemoryRegionOps(read=self.read, write=self.write, **kw)
        self.order = "big" if kw.get("endianness") is Endianness.BIG else "little"

    def read(self, off, size):
        self.log.append(("r", off, size))
        return int.from_bytes(self.mem[off:off + size], self.order)

    def write(self, off, val, size):
        self.log.append(("w", off, val, size))
        self.mem[off:off + size] = val.to_bytes(size, self.order)


@pytest.fixture
def machine():
    rl = RAMList()
    sysmem = MemoryRegion.container("system", (1 << 64) - 1)
    ram = MemoryRegion.ram("pc.ram", 0x100000, ram_list=rl)
    sysmem.add_subregion(0, ram)
    as_ = AddressSpace(sysmem, "memory")
    rl.dirty.clear_dirty_range(0, 0x100000)
    return rl, sysmem, ram, as_


def test_ram_roundtrip_and_helpers(machine):
    rl, sysmem, ram, as_ = machine
    assert as_.write(0x1000, b"\x01\x02\x03\x04\x05\x06\x07\x08") == MemTxResult.OK
    assert as_.read_bytes(0x1000, 8) == bytes(range(1, 9))
    assert as_.ldub(0x1000) == 1
    assert as_.lduw_le(0x1000) == 0x0201 and as_.lduw_be(0x1000) == 0x0102
    assert as_.ldl_le(0x1000) == 0x04030201 and as_.ldl_be(0x1000) == 0x01020304
    assert as_.ldq_le(0x1000) == 0x0807060504030201 and as_.ldq_be(0x1000) == 0x0102030405060708
    for st, ld, v in [(as_.stb, as_.ldub, 0xAB), (as_.stw_le, as_.lduw_le, 0xBEEF),
                      (as_.stw_be, as_.lduw_be, 0xBEEF), (as_.stl_le, as_.ldl_le, 0xDEADBEEF),
                      (as_.stl_be, as_.ldl_be, 0xDEADBEEF),
                      (as_.stq_le, as_.ldq_le, 0x0123456789ABCDEF),
                      (as_.stq_be, as_.ldq_be, 0x0123456789ABCDEF)]:
        assert st(0x2000, v) == MemTxResult.OK
        assert ld(0x2000) == v
    as_.stl_be(0x3000, 0x11223344)
    assert as_.read_bytes(0x3000, 4) == b"\x11\x22\x33\x44"
    buf = bytearray(4)
    assert address_space_rw(as_, 0x3000, buf, False) == MemTxResult.OK and buf == b"\x11\x22\x33\x44"
    arr = np.zeros(4, np.uint8)
    assert as_.read(0x3000, arr) == MemTxResult.OK and arr.tolist() == [0x11, 0x22, 0x33, 0x44]
    # a non-byte numpy array is handled as its raw bytes
    words = np.array([0x01020304], dtype="<u4")
    as_.write(0x4000, words)
    assert as_.read_bytes(0x4000, 4) == b"\x04\x03\x02\x01"
    assert ram.get_ram_ptr()[0x4000] == 4


def test_writes_mark_pages_dirty_per_logging_client(machine):
    rl, sysmem, ram, as_ = machine
    d = rl.dirty
    as_.stl_le(0x1FFE, 0)                     # straddles pages 1 and 2
    assert d.dirty_pages(DirtyClient.CODE).tolist() == [1, 2]
    assert d.dirty_pages(DirtyClient.VGA).tolist() == []        # not logged
    assert d.dirty_pages(DirtyClient.MIGRATION).tolist() == []  # global log off
    ram.set_log(True, DirtyClient.VGA)
    as_.write(0x5000, bytes(3 * P))
    assert d.dirty_pages(DirtyClient.VGA).tolist() == [5, 6, 7]
    rl.global_dirty_log_start()
    as_.stb(0x9000, 1)
    assert d.dirty_pages(DirtyClient.MIGRATION).tolist() == [9]
    rl.global_dirty_log_stop()
    as_.stb(0xA000, 1)
    assert d.dirty_pages(DirtyClient.MIGRATION).tolist() == [9]
    assert d.dirty_pages(DirtyClient.VGA).tolist() == [5, 6, 7, 9, 10]


def test_fast_path_sees_cleared_bits(machine):
    rl, sysmem, ram, as_ = machine
    ram.set_log(True, DirtyClient.VGA)
    as_.stl_le(0x100, 1)
    assert ram.get_dirty(0, P, DirtyClient.VGA)
    ram.snapshot_and_clear_dirty(0, 0x100000, DirtyClient.VGA)
    as_.stl_le(0x104, 1)                      # same page, now clean again
    assert ram.get_dirty(0, P, DirtyClient.VGA)
    ram.snapshot_and_clear_dirty(0, 0x100000, DirtyClient.VGA)
    as_.write(0x108, b"xy")
    assert ram.get_dirty(0, P, DirtyClient.VGA)


def test_code_hook_through_address_space(machine):
    rl, sysmem, ram, as_ = machine
    calls = []
    def hook(a, l):  # a TB cache whose code on the page dies: it unprotects the range
        calls.append((a, l))
        rl.dirty.set_dirty_range(a, l, 1 << DirtyClient.CODE)

    rl.code_invalidate_hook = hook
    rl.dirty.set_dirty_range(0, 0x100000, 1 << DirtyClient.CODE)
    as_.stl_le(0x3000, 5)
    assert calls == []
    ram.reset_dirty(0x3000, P, DirtyClient.CODE)     # translated code on page 3
    as_.stl_le(0x3010, 5)
    assert calls == [(0x3010, 4)]
    as_.stl_le(0x3020, 5)                            # page is dirty again: no more calls
    assert calls == [(0x3010, 4)]
    ram.reset_dirty(0x3000, P, DirtyClient.CODE)
    m = as_.map(0x2F00, 0x200, True)
    as_.unmap(m, True, 0x200)
    assert calls[-1] == (0x2F00, 0x200)
    ram.reset_dirty(0x3000, P, DirtyClient.CODE)
    dma_memory_rw(as_, 0x3800, bytearray(8), DMADirection.FROM_DEVICE)
    assert calls[-1] == (0x3800, 8)


def test_unassigned_and_straddling(machine):
    rl, sysmem, ram, as_ = machine
    as_.write(0xFFFFC, b"ABCD")
    buf = bytearray(b"\xee" * 8)
    assert as_.read(0xFFFFC, buf) == MemTxResult.DECODE_ERROR
    assert buf == b"ABCD\x00\x00\x00\x00"
    assert as_.write(0xFFFFE, b"1234") == MemTxResult.DECODE_ERROR
    assert as_.read_bytes(0xFFFFC, 4) == b"AB12"
    assert as_.ldl_le(0x200000) == 0
    assert as_.stl_le(0x200000, 1) == MemTxResult.DECODE_ERROR
    assert as_.write(-4, b"xxxx") == MemTxResult.DECODE_ERROR
    assert as_.write((1 << 64) - 2, b"xxxx") == MemTxResult.DECODE_ERROR
    assert as_.ld(0x200000, 4) == (0, MemTxResult.DECODE_ERROR)


def test_rom_writes_are_dropped(machine):
    rl, sysmem, ram, as_ = machine
    rom = MemoryRegion.rom("bios", 0x10000, ram_list=rl)
    sysmem.add_subregion(0xF0000, rom, 1)
    assert as_.write_rom(0xF0000, b"BIOS") == MemTxResult.OK
    assert as_.write(0xF0000, b"XXXX") == MemTxResult.OK
    assert as_.stl_le(0xF0000, 0) == MemTxResult.OK
    assert as_.read_bytes(0xF0000, 4) == b"BIOS"
    m = as_.map(0xF0000, 16, True)
    assert m.bounce
    m.buf[:] = 0
    as_.unmap(m, True, 16)
    assert as_.read_bytes(0xF0000, 4) == b"BIOS"


def test_mmio_split_to_valid_and_impl_sizes(machine):
    rl, sysmem, ram, as_ = machine
    dev = Dev(valid=AccessConstraints(1, 4), impl=AccessConstraints(1, 1))
    sysmem.add_subregion(0x200000, MemoryRegion.io("dev", 0x100, dev.ops))
    assert as_.stl_le(0x200000, 0x44332211) == MemTxResult.OK
    assert dev.log == [("w", 0, 0x11, 1), ("w", 1, 0x22, 1), ("w", 2, 0x33, 1), ("w", 3, 0x44, 1)]
    dev.log.clear()
    assert as_.ldq_le(0x200000) == 0x44332211      # 8 bytes -> two valid 4-byte accesses
    assert [e[1:] for e in dev.log] == [(i, 1) for i in range(8)]


def test_mmio_combined_to_impl_min(machine):
    rl, sysmem, ram, as_ = machine
    dev = Dev(valid=AccessConstraints(1, 4), impl=AccessConstraints(4, 4))
    dev.mem[0:4] = b"\x11\x22\x33\x44"
    sysmem.add_subregion(0x200000, MemoryRegion.io("dev", 0x100, dev.ops))
    assert as_.ldub(0x200000) == 0x11
    assert dev.log == [("r", 0, 4)]


def test_mmio_unaligned_is_split_and_invalid_sizes_fail(machine):
    rl, sysmem, ram, as_ = machine
    dev = Dev(valid=AccessConstraints(4, 4), impl=AccessConstraints(4, 4))
    sysmem.add_subregion(0x200000, MemoryRegion.io("dev", 0x100, dev.ops))
    assert as_.stl_le(0x200000, 1) == MemTxResult.OK
    assert as_.stb(0x200000, 1) == MemTxResult.DECODE_ERROR   # below valid.min
    assert as_.ld(0x200002, 4) == (0, MemTxResult.DECODE_ERROR)  # unaligned -> 2-byte pieces


def test_big_endian_device(machine):
    rl, sysmem, ram, as_ = machine
    dev = Dev(endianness=Endianness.BIG, valid=AccessConstraints(1, 4), impl=AccessConstraints(1, 4))
    sysmem.add_subregion(0x200000, MemoryRegion.io("dev", 0x100, dev.ops))
    as_.write(0x200000, b"\x01\x02\x03\x04")
    assert dev.log == [("w", 0, 0x01020304, 4)]
    assert as_.ldl_be(0x200000) == 0x01020304
    dev2 = Dev(endianness=Endianness.BIG, valid=AccessConstraints(1, 4), impl=AccessConstraints(1, 1))
    sysmem.add_subregion(0x300000, MemoryRegion.io("dev2", 0x100, dev2.ops))
    as_.write(0x300000, b"\x01\x02")
    assert dev2.log == [("w", 0, 1, 1), ("w", 1, 2, 1)]


def test_io_space_unassigned_reads_all_ones():
    ioas = AddressSpace(io_root(), "I/O")
    assert ioas.ldub(0x80) == 0xFF and ioas.lduw_le(0x80) == 0xFFFF
    assert ioas.ldl_le(0x3C0) == 0xFFFFFFFF
    assert ioas.ld(0x3C0, 4) == (0xFFFFFFFF, MemTxResult.OK)
    assert ioas.stb(0x80, 1) == MemTxResult.OK
    dev = Dev(size=0x20)
    ioas.root.add_subregion(0x3C0, MemoryRegion.io("vga", 0x20, dev.ops))
    ioas.stb(0x3C4, 2)
    assert dev.log == [("w", 4, 2, 1)] and ioas.ldub(0x3C4) == 2
    assert ioas.ld(0x10000, 1) == (0, MemTxResult.DECODE_ERROR)   # beyond 64 KiB


def test_map_direct_and_bounce(machine):
    rl, sysmem, ram, as_ = machine
    ram.set_log(True, DirtyClient.VGA)
    m = address_space_map(as_, 0xFF000, 0x10000, True)
    assert not m.bounce and len(m.buf) == 0x1000       # RAM ends: shorter than asked
    m.buf[:] = 0x42
    assert not ram.get_dirty(0xFF000, 0x1000, DirtyClient.VGA)
    address_space_unmap(as_, m, True, 0x10)
    assert ram.get_dirty(0xFF000, 1, DirtyClient.VGA)
    assert as_.read_bytes(0xFF000, 2) == b"\x42\x42"
    with pytest.raises(AccessError):
        as_.unmap(m, True, 0)                           # twice
    dev = Dev()
    sysmem.add_subregion(0x200000, MemoryRegion.io("dev", 0x100, dev.ops))
    b1 = as_.map(0x200000, 0x10, False)
    assert b1.bounce and len(b1.buf) == 0x10
    assert as_.map(0x200010, 4, True) is None          # one bounce buffer at a time
    assert as_.map(0x1000, 4, True) is not None         # RAM is still direct
    as_.unmap(b1, False, 0x10)
    b2 = as_.map(0x200010, 4, True)
    b2.buf[:] = [1, 2, 3, 4]
    as_.unmap(b2, True, 4)
    assert dev.mem[0x10:0x14] == b"\x01\x02\x03\x04"
    b3 = as_.map(0x500000, 0x10000, False)              # unassigned: bounce of one page
    assert b3.bounce and len(b3.buf) == P
    as_.unmap(b3, False, 0)
    with pytest.raises(AccessError):
        as_.unmap(b3, False, 0)


def test_map_spans_contiguous_ranges_of_same_region(machine):
    rl, sysmem, ram, as_ = machine
    small = MemoryRegion.ram("small", P, ram_list=rl)
    sysmem.add_subregion(0x8000, small, 1)
    small.set_enabled(False)
    m = as_.map(0x7000, 0x3000, False)
    assert len(m.buf) == 0x3000
    small.set_enabled(True)
    m2 = as_.map(0x7000, 0x3000, False)
    assert len(m2.buf) == P


def test_dma_memory_rw(machine):
    rl, sysmem, ram, as_ = machine
    assert dma_memory_rw(as_, 0x100, b"dma!", DMADirection.FROM_DEVICE) == MemTxResult.OK
    out = bytearray(4)
    assert dma_memory_rw(as_, 0x100, out, DMADirection.TO_DEVICE) == MemTxResult.OK
    assert out == b"dma!"
    with pytest.raises(AccessError):
        dma_memory_rw(as_, 0x100, out, 5)


def test_bad_input_raises_access_error_and_changes_nothing(machine):
    rl, sysmem, ram, as_ = machine
    before = ram.get_ram_ptr().copy()
    dirty_before = rl.dirty.bitmap(1).copy()
    for f in [lambda: as_.write("0", b"x"), lambda: as_.write(0, 5), lambda: as_.write(0, "str"),
              lambda: as_.read(0, b"immutable"), lambda: as_.stl_le(0, "v"),
              lambda: as_.stl_le(None, 1), lambda: as_.read_bytes(0, -1),
              lambda: as_.map(0, -1, True), lambda: as_.unmap("m", True, 0),
              lambda: as_.ld(0, 3), lambda: as_.ldl_le("x")]:
        with pytest.raises(AccessError):
            f()
    assert (ram.get_ram_ptr() == before).all()
    assert (rl.dirty.bitmap(1) == dirty_before).all()


def test_dirty_memory_growth_invalidates_fast_path(machine):
    rl, sysmem, ram, as_ = machine
    ram.set_log(True, DirtyClient.VGA)
    as_.stl_le(0x10, 1)                            # fills the cache
    MemoryRegion.ram("huge", 64 << 20, ram_list=rl)  # bitmaps reallocated
    ram.reset_dirty(0, P, DirtyClient.VGA)
    as_.stl_le(0x10, 2)
    assert ram.get_dirty(0, P, DirtyClient.VGA)


@pytest.mark.parametrize("client", list(DirtyClient))
@pytest.mark.parametrize("vga_log, migration", [(False, False), (True, False), (False, True), (True, True)])
def test_each_client_is_remarked_after_its_own_clear(machine, client, vga_log, migration):
    rl, sysmem, ram, as_ = machine
    ram.set_log(vga_log, DirtyClient.VGA)
    if migration:
        rl.global_dirty_log_start()
    logging = {DirtyClient.CODE: True, DirtyClient.VGA: vga_log, DirtyClient.MIGRATION: migration}
    for store in (lambda: as_.stl_le(0x7008, 1), lambda: as_.write(0x7010, b"ab"),
                  lambda: as_.stq_be(0x7ffc, 1)):      # the last one straddles pages 7 and 8
        rl.dirty.set_dirty_range(0, 0x100000)
        ram.reset_dirty(0, 0x100000, client)
        store()
        assert ram.get_dirty(0x7000, 4096, client) == logging[client]
