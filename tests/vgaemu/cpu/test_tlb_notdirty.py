"""SoftTLB: direct entries, QEMU's NOTDIRTY protocol, reset on clear, flush on map change."""

import struct

import pytest
from guestmem import (DIRTY_MEMORY_CODE, DIRTY_MEMORY_MIGRATION, DIRTY_MEMORY_VGA, MemoryRegion,
                      memory_region_transaction)

from tests.vgaemu.cpu.cpu_bus import (ALIAS_BASE, MMIO_BASE, P, RAM_PAGES, ROM_BASE, VRAM_BASE, VRAM_PAGES,
                     Bus)
from vgaemu.cpu.tlb import SoftTLB, TLBError
from vgaemu.errors import VGAEmuError


@pytest.fixture
def bus():
    return Bus()


def vga_snapshot(bus):
    return bus.dirty.snapshot_and_clear_dirty(bus.ram_addr(VRAM_BASE), VRAM_PAGES * P,
                                              DIRTY_MEMORY_VGA)


def test_fill_gives_read_entries_for_ram_and_rom_only(bus):
    tlb = bus.tlb
    assert tlb.tlb_fill(0) is not None
    mv = tlb.read_pages[0]
    assert mv.format == "B" and len(mv) == P and mv.ndim == 1
    assert tlb.tlb_fill(ROM_BASE >> 12) is not None
    assert ROM_BASE >> 12 not in tlb.write_pages  # ROM never gets a write entry
    assert tlb.tlb_fill(MMIO_BASE >> 12) is None
    assert MMIO_BASE >> 12 not in tlb.read_pages
    assert tlb.tlb_fill(0x50000000 >> 12) is None  # a hole
    assert bus.counters.tlb_fills == 4
    tlb.tlb_fill(0)  # already there: no new fill
    tlb.tlb_fill(MMIO_BASE >> 12)  # negative entries are remembered too
    assert bus.counters.tlb_fills == 4


def test_new_ram_is_dirty_so_its_write_entry_is_direct(bus):
    # ram_block_add marks the new block dirty for every client: nothing waits to see it
    tlb = bus.tlb
    tlb.tlb_fill(5)
    assert 5 in tlb.write_pages
    tlb.write_pages[5][0x10] = 0xAB
    assert bus.host(5 * P + 0x10) == b"\xab"
    assert bus.counters.notdirty_writes == 0


def test_clears_are_heard_from_the_first_write_entry_on(bus):
    """A TLB with read entries only has nothing a clear could drop: it joins the bitmaps'
    clear listeners when it makes its first write entry, before that entry exists."""
    tlb, dm = bus.tlb, bus.dirty
    listening = lambda: tlb.reset_dirty_range in dm._clear_listeners  # noqa: E731
    tlb.tlb_fill(ROM_BASE >> 12)
    vga_snapshot(bus)
    assert not listening() and not tlb.write_pages
    seen = []
    tlb.reset_dirty_range = lambda *a: (seen.append(dm.get_dirty(*a[:2], DIRTY_MEMORY_VGA)),
                                        SoftTLB.reset_dirty_range(tlb, *a))
    vpn = VRAM_BASE >> 12
    tlb.store(VRAM_BASE, 1, 1)  # NOTDIRTY: marks the page, then makes the write entry
    assert listening() and vpn in tlb.write_pages
    vga_snapshot(bus)
    assert seen == [False] and vpn not in tlb.write_pages
    tlb.close()
    assert not listening()


def test_store_to_vga_page_after_snapshot_takes_notdirty_then_goes_fast(bus):
    tlb, dm = bus.tlb, bus.dirty
    vpn = VRAM_BASE >> 12
    tlb.tlb_fill(vpn)
    assert vpn in tlb.write_pages
    snap = vga_snapshot(bus)
    assert snap.get_dirty(bus.ram_addr(VRAM_BASE), P)
    # the clear listener dropped the write entry, the read entry stays
    assert vpn not in tlb.write_pages and vpn in tlb.read_pages
    assert not dm.get_dirty(bus.ram_addr(VRAM_BASE), P, DIRTY_MEMORY_VGA)
    assert tlb.store(VRAM_BASE + 8, 2, 0x1234) is False
    assert bus.counters.notdirty_writes == 1
    assert dm.get_dirty(bus.ram_addr(VRAM_BASE), 1, DIRTY_MEMORY_VGA)
    assert dm.get_dirty(bus.ram_addr(VRAM_BASE), 1, DIRTY_MEMORY_MIGRATION)
    assert vpn in tlb.write_pages  # tlb_set_dirty
    assert bus.host(VRAM_BASE + 8, 2) == b"\x34\x12"
    tlb.store(VRAM_BASE + 20, 1, 7)  # the slow path with an entry present is a plain store
    assert bus.counters.notdirty_writes == 1
    # other VRAM pages were cleared too and still take the slow path once
    assert (vpn + 1) not in tlb.write_pages
    tlb.store(VRAM_BASE + P, 1, 1)
    assert bus.counters.notdirty_writes == 2
    snap = vga_snapshot(bus)
    assert snap.get_dirty(bus.ram_addr(VRAM_BASE), P) and snap.get_dirty(bus.ram_addr(VRAM_BASE + P), P)
    assert not snap.get_dirty(bus.ram_addr(VRAM_BASE + 2 * P), P)


def test_clear_of_one_client_drops_entries_of_every_alias_of_the_page(bus):
    tlb = bus.tlb
    tlb.tlb_fill(1)
    tlb.tlb_fill((ALIAS_BASE >> 12) + 1)  # the same ram page through the alias
    tlb.tlb_fill(2)
    assert {1, (ALIAS_BASE >> 12) + 1, 2} <= set(tlb.write_pages)
    bus.dirty.clear_dirty_range(bus.ram_addr(P), P, 1 << DIRTY_MEMORY_MIGRATION)
    assert 1 not in tlb.write_pages and (ALIAS_BASE >> 12) + 1 not in tlb.write_pages
    assert 2 in tlb.write_pages
    # a store through the alias marks the shared page
    tlb.store(ALIAS_BASE + P + 3, 1, 0x5A)
    assert bus.dirty.get_dirty(bus.ram_addr(P), 1, DIRTY_MEMORY_MIGRATION)
    assert bus.host(P + 3) == b"\x5a"
    assert (ALIAS_BASE >> 12) + 1 in tlb.write_pages and 1 not in tlb.write_pages


def test_large_clear_with_few_entries_and_small_clear_with_many(bus):
    tlb = bus.tlb
    for vpn in range(RAM_PAGES):
        tlb.tlb_fill(vpn)
    bus.dirty.clear_dirty_range(bus.ram_addr(3 * P), 2 * P, 1 << DIRTY_MEMORY_VGA)
    assert {3, 4}.isdisjoint(tlb.write_pages) and {2, 5} <= set(tlb.write_pages)
    bus.dirty.clear_dirty_range(0, bus.dirty.size, 1 << DIRTY_MEMORY_VGA)
    assert not tlb.write_pages


def test_load_and_store_mmio_go_through_the_region_with_one_access(bus):
    tlb = bus.tlb
    assert tlb.store(MMIO_BASE + 4, 4, 0xDEADBEEF) is False
    assert bus.mmio_log == [("w", 4, 0xDEADBEEF, 4)]
    assert tlb.load(MMIO_BASE + 4, 2) == 0xBEEF
    assert bus.mmio_log[-1] == ("r", 4, 2)
    assert bus.counters.notdirty_writes == 0


def test_rom_and_hole_stores_are_dropped(bus):
    before = bus.host(ROM_BASE, 4)
    bus.tlb.store(ROM_BASE, 4, 0x11223344)
    assert bus.host(ROM_BASE, 4) == before
    bus.tlb.store(0x50000000, 2, 0xFFFF)  # unassigned: ignored
    assert bus.tlb.load(0x50000000, 2) == 0  # and reads as 0, as guestmem's holes


def test_loads_read_little_endian_and_cross_pages(bus):
    bus.as_.write(P - 2, bytes([1, 2, 3, 4]))
    assert bus.tlb.load(P - 2, 4) == 0x04030201
    assert bus.tlb.load(P - 1, 2) == 0x0302
    assert bus.tlb.load(P - 2, 8) == int.from_bytes(bus.as_.read_bytes(P - 2, 8), "little")


def test_store_crossing_into_mmio_splits_at_the_page(bus):
    # the last RAM byte below the MMIO page, then the MMIO region
    bus.tlb.store(MMIO_BASE - 1, 2, 0xBBAA)
    assert bus.host(MMIO_BASE - 1) == b"\xaa"
    assert bus.mmio_log == [("w", 0, 0xBB, 1)]


def test_bad_arguments_raise_tlb_errors_and_change_nothing(bus):
    tlb = bus.tlb
    before = bus.host(0x100, 8)
    for args in [(0x100, 3, 0), (0x100, 0, 0), (-1, 1, 0), (1 << 32, 1, 0), (0x100, 1, 256),
                 (0x100, 2, "x"), ("a", 1, 0), (0x100, 1.0, 0)]:
        with pytest.raises(TLBError):
            tlb.store(*args)
    with pytest.raises(TLBError):
        tlb.load(0x100, 16)
    assert issubclass(TLBError, VGAEmuError)
    assert bus.host(0x100, 8) == before
    with pytest.raises(TLBError):
        SoftTLB("not an address space")


def test_store_accepts_signed_values_in_range(bus):
    bus.tlb.store(0x300, 2, -2)
    assert bus.host(0x300, 2) == b"\xfe\xff"


def test_map_change_flushes_the_tlb(bus):
    tlb = bus.tlb
    tlb.tlb_fill(0)
    tlb.tlb_fill(MMIO_BASE >> 12)
    flushes = bus.counters.tlb_flushes
    read_pages, write_pages = tlb.read_pages, tlb.write_pages
    # map RAM over the MMIO page with higher priority: the old negative entry must go
    over = MemoryRegion.alias("over", bus.ram, 8 * P, P)
    bus.root.add_subregion(MMIO_BASE, over, priority=5)
    assert bus.counters.tlb_flushes == flushes + 1
    assert tlb.read_pages is read_pages and tlb.write_pages is write_pages and not read_pages
    bus.as_.write(8 * P, b"\x99")
    assert tlb.load(MMIO_BASE, 1) == 0x99
    assert tlb.store(MMIO_BASE + 1, 1, 0x42) is False
    assert bus.host(8 * P + 1) == b"\x42" and bus.mmio_log == []


def test_store_that_changes_the_map_reports_it(bus):
    over = MemoryRegion.alias("over", bus.ram, 0, P)

    def hook(off, value, size):
        if off == 0x10:
            bus.root.add_subregion(0x300000, over)
    bus.mmio_write_hook = hook
    assert bus.tlb.store(MMIO_BASE + 0x14, 1, 1) is False
    assert bus.tlb.store(MMIO_BASE + 0x10, 1, 1) is True


def test_disabling_a_region_takes_its_pages_away(bus):
    tlb = bus.tlb
    assert tlb.tlb_fill(VRAM_BASE >> 12) is not None
    with memory_region_transaction():
        bus.vram.set_enabled(False)
    assert VRAM_BASE >> 12 not in tlb.read_pages
    assert tlb.tlb_fill(VRAM_BASE >> 12) is None


def test_page_only_partly_covered_by_ram_has_no_entry(bus):
    small = MemoryRegion.ram("small", P, ram_list=bus.ram_list)
    part = MemoryRegion.alias("part", small, 0, P // 2)
    bus.root.add_subregion(0x400000, part)
    assert bus.tlb.tlb_fill(0x400000 >> 12) is None
    ra = bus.ram_addr(0x400010)
    bus.dirty.clear_dirty_range(ra, 1, 1 << DIRTY_MEMORY_CODE)
    bus.tlb.store(0x400010, 2, 0xCAFE)  # through the address space, which marks it
    assert bus.tlb.load(0x400010, 2) == 0xCAFE
    assert bus.dirty.get_dirty(ra, 1, DIRTY_MEMORY_CODE)
    assert bus.counters.notdirty_writes == 0


def test_direct_store_keeps_the_page_dirty_for_all_clients(bus):
    tlb, dm = bus.tlb, bus.dirty
    vpn = (VRAM_BASE >> 12) + 3
    vga_snapshot(bus)
    tlb.store(vpn * P, 1, 1)
    mv = tlb.write_pages[vpn]
    struct.pack_into("<H", mv, 100, 0xBEEF)  # what generated code does on a hit
    ra = bus.ram_addr(vpn * P)
    assert not dm.is_clean(ra)
    snap = vga_snapshot(bus)
    assert snap.get_dirty(ra, P)
    assert vpn not in tlb.write_pages


def test_code_ram_addr(bus):
    tlb = bus.tlb
    assert tlb.code_ram_addr(0x1234) == bus.ram_addr(0x1234)
    assert tlb.code_ram_addr(ROM_BASE + 5) == bus.ram_addr(ROM_BASE + 5)
    assert tlb.code_ram_addr(ALIAS_BASE + 7) == bus.ram_addr(7)
    assert tlb.code_ram_addr(MMIO_BASE) is None


def test_close_detaches(bus):
    bus.tb_cache.close()
    bus.tlb.close()
    bus.tlb.close()
    assert bus.ram_list.code_invalidate_hook is None and bus.tlb.tb_cache is None
    # neither the dirty bitmaps nor the map reach a closed TLB any more
    bus.tlb.tlb_fill(0)
    assert 0 in bus.tlb.write_pages
    bus.dirty.clear_dirty_range(0, P, 1 << DIRTY_MEMORY_CODE)
    assert 0 in bus.tlb.write_pages
    flushes = bus.counters.tlb_flushes
    bus.root.add_subregion(0x500000, MemoryRegion.alias("late", bus.ram, 0, P))
    assert bus.counters.tlb_flushes == flushes and 0 in bus.tlb.read_pages


def test_store_bytes_across_direct_notdirty_and_mmio_pages(bus):
    tlb = bus.tlb
    vga_snapshot(bus)  # VRAM pages clean for VGA
    data = bytes(range(256)) * 33  # 8448 bytes over four pages
    start = VRAM_BASE + 2 * P - 100
    assert tlb.store_bytes(start, data) is False
    assert bus.host(start, len(data)) == data
    assert bus.counters.notdirty_writes == 4  # one per clean page, not one per byte
    snap = vga_snapshot(bus)
    for k in range(1, 5):
        assert snap.get_dirty(bus.ram_addr(VRAM_BASE + k * P), P)
    # RAM into MMIO: the RAM part directly, the MMIO part through the region's ops
    tlb.store_bytes(MMIO_BASE - 2, b"\x01\x02\x03\x04")
    assert bus.host(MMIO_BASE - 2, 2) == b"\x01\x02"
    assert bytes(bus.mmio_regs[:2]) == b"\x03\x04"
    with pytest.raises(TLBError):
        tlb.store_bytes(-1, b"x")
    with pytest.raises(TLBError):
        tlb.store_bytes(0, 5)
    assert tlb.store_bytes(0x10, b"") is False


def test_a_store_to_a_dirty_page_makes_no_python_call():
    """Issue 10's goal: once a RAM page is dirty for every client, a guest store there is the
    store itself -- no TLB, dirty-bitmap or address-space function runs."""
    import sys

    from vgaemu.machine import Machine

    m = Machine(memory="1M", vram="1M")
    cpu = m.cpu
    m.write(0x7C00, bytes.fromhex(
        "B9FFFF"      # 7C00 mov cx, 0FFFFh
        "890E0020"    # 7C03 mov [2000h], cx
        "880E0130"    # 7C07 mov [3001h], cl
        "E2F6"        # 7C0B loop 7C03
        "F4"))        # 7C0D hlt
    cpu.eip = 0x7C00
    cpu.run(max_instructions=200)  # translate, fill the TLB
    called = []

    def profile(frame, event, arg):
        if event == "call":
            caller = frame.f_back.f_code.co_filename if frame.f_back else ""
            called.append((caller, frame.f_code.co_filename, frame.f_code.co_name))
    sys.setprofile(profile)
    try:
        cpu.run(max_instructions=30_000)  # 20,000 stores
    finally:
        sys.setprofile(None)
    # translated code (compiled as "<tb@...>" / "<insn@...>") calls nothing for its stores;
    # only translating a block at a slice end may call into the memory path
    from_guest_code = [(callee, name) for caller, callee, name in called
                       if caller.startswith(("<tb@", "<insn@"))]
    assert from_guest_code == []
    assert len(called) < 1000
    assert m.read(0x2000, 2) == cpu.cx.to_bytes(2, "little")


def test_a_new_tlb_has_flushed_nothing(bus):
    assert bus.counters.tlb_flushes == 0 and bus.counters.tlb_fills == 0


def test_dimm_hotplug_flushes_the_tlb_and_keeps_unrelated_code():
    from vgaemu.machine import Machine

    m = Machine(memory="16M,slots=2,maxmem=64M", vram="1M")
    cpu = m.cpu
    cpu.tb_threshold = 0   # translate the block on its first run
    m.write(0x7C00, bytes.fromhex("41F4"))  # inc cx; hlt
    cpu.eip = 0x7C00
    cpu.run(max_instructions=10)
    tb = cpu.tb_cache.lookup(0x7C00, 0, cpu.hflags)
    assert tb is not None and 7 in cpu.tlb.read_pages
    flushes = cpu.counters.tlb_flushes
    m.memory.add_object("memory-backend-ram,id=mem1,size=8M")
    m.memory.plug("pc-dimm,id=dimm1,memdev=mem1")
    assert cpu.counters.tlb_flushes == flushes + 1
    assert tb.valid  # the map moved elsewhere: the code's page still shows the same RAM
    m.memory.unplug("dimm1")
    assert cpu.counters.tlb_flushes == flushes + 2 and tb.valid
    cpu.eip, cpu.halted = 0x7C00, False
    cpu.run(max_instructions=10)
    assert cpu.cx == 2 and cpu.counters.total.tbs_translated == 1
