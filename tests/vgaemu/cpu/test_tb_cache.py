"""TBCache: lookup/insert, tlb_protect_code, invalidation by every writer, the running TB."""

import pytest
from guestmem import DIRTY_MEMORY_CODE, DMADirection, MemoryRegion, dma_memory_rw

from tests.vgaemu.cpu.cpu_bus import ALIAS_BASE, MMIO_BASE, P, ROM_BASE, Bus
from vgaemu.cpu.tb import TB_MAX_SIZE, TBCache, TBCacheError, TranslationBlock


@pytest.fixture
def bus():
    return Bus()


def code_bit(bus, paddr):
    return bus.dirty.get_dirty(bus.ram_addr(paddr), 1, DIRTY_MEMORY_CODE)


def tb_at(bus, pc, size=16, cs_base=0, flags=0):
    return bus.tb_cache.insert(TranslationBlock(pc, cs_base, flags, size, icount=size // 2))


def test_insert_lookup_and_protect(bus):
    tbc, tlb = bus.tb_cache, bus.tlb
    tlb.tlb_fill(1)
    assert 1 in tlb.write_pages and code_bit(bus, P)
    tb = tb_at(bus, P + 0x10)
    assert tb.valid and tbc.lookup(P + 0x10, 0, 0) is tb and len(tbc) == 1
    assert tbc.lookup(P + 0x10, 0, 1) is None and tbc.lookup(P + 0x10, 0x10, 0) is None
    assert tb.pages == (1,) and tb.phys_pages == (1,) and tb.ram_ranges == ((P + 0x10, P + 0x20),)
    assert not code_bit(bus, P)  # tlb_protect_code
    assert 1 not in tlb.write_pages and 1 in tlb.read_pages  # ... dropped the write entry
    assert bus.counters.tbs_translated == 1
    # a second TB on the page does not clear again (no clear_generation churn)
    gen = bus.dirty.clear_generation
    tb_at(bus, P + 0x100)
    assert bus.dirty.clear_generation == gen


def test_store_next_to_code_keeps_the_tb_and_the_protection(bus):
    """QEMU invalidates only the TBs a store overlaps; data beside code costs a slow store."""
    tb = tb_at(bus, P + 0x10, size=16)
    for i in range(3):
        assert bus.tlb.store(P + 0x40, 2, i) is False
    assert tb.valid and not code_bit(bus, P) and 1 not in bus.tlb.write_pages
    assert bus.counters.notdirty_writes == 3 and bus.counters.tbs_invalidated == 0
    assert bus.counters.smc_events == 0


def test_store_into_code_kills_only_overlapping_tbs_then_unprotects(bus):
    a = tb_at(bus, P + 0x10, size=16)
    b = tb_at(bus, P + 0x20, size=16)
    bus.tlb.store(P + 0x1F, 1, 0x90)  # last byte of a
    assert not a.valid and b.valid and bus.tb_cache.lookup(P + 0x10, 0, 0) is None
    assert not code_bit(bus, P)  # b still there: the page stays protected
    assert bus.counters.tbs_invalidated == 1 and bus.counters.smc_events == 1
    bus.tlb.store(P + 0x1F, 2, 0x9090)  # crosses into b
    assert not b.valid and code_bit(bus, P) and 1 in bus.tlb.write_pages
    assert bus.counters.smc_events == 2 and len(bus.tb_cache) == 0
    assert bus.host(P + 0x1F, 2) == b"\x90\x90"


def test_store_into_the_running_tb_is_reported(bus):
    tbc = bus.tb_cache
    a = tb_at(bus, P + 0x10, size=16)
    other = tb_at(bus, 2 * P, size=16)
    tbc.running = a
    assert bus.tlb.store(2 * P + 4, 1, 1) is False  # kills another TB, not the running one
    assert not other.valid
    assert bus.tlb.store(P + 0x40, 1, 1) is False  # same page, outside the TB
    assert bus.tlb.store(P + 0x18, 1, 1) is True
    assert not a.valid
    assert bus.tlb.store(P + 0x40, 1, 2) is False  # the flag is per store


def test_tb_spanning_two_pages(bus):
    tb = tb_at(bus, 2 * P - 6, size=12)
    assert tb.pages == (1, 2) and tb.ram_ranges == ((2 * P - 6, 2 * P), (2 * P, 2 * P + 6))
    assert not code_bit(bus, P) and not code_bit(bus, 2 * P)
    bus.tlb.store(2 * P + 8, 1, 0)  # page 2 but past the TB
    assert tb.valid
    bus.tlb.store(2 * P + 2, 1, 0)  # the TB's tail on page 2
    assert not tb.valid and code_bit(bus, 2 * P)
    # page 1 has no TB left but stays protected until written (as QEMU), then unprotects
    assert not code_bit(bus, P)
    bus.tlb.store(P + 0x800, 1, 0)
    assert code_bit(bus, P) and 1 in bus.tlb.write_pages


def test_scripted_write_kills_only_the_tbs_it_overlaps(bus):
    """address_space_rw reaches invalidate_and_set_dirty, whose code hook owns the CODE bit
    (QEMU's tb_invalidate_phys_range): a write beside code kills nothing and leaves the page
    protected; a write over a TB kills that TB only; the page is unprotected once empty."""
    a = tb_at(bus, P + 0x10)
    b = tb_at(bus, P + 0x800)
    c = tb_at(bus, 3 * P)
    bus.as_.write(P + 0x400, b"\x00")                      # beside both
    assert a.valid and b.valid and c.valid and not code_bit(bus, P)
    assert bus.counters.smc_events == 0 and bus.counters.tbs_invalidated == 0
    bus.as_.write(P + 0x1E, b"\x00\x00\x00\x00")          # a's tail and beyond
    assert not a.valid and b.valid and c.valid and not code_bit(bus, P)
    assert bus.counters.smc_events == 1 and bus.counters.tbs_invalidated == 1
    bus.as_.write(P + 0x7F0, bytes(0x40))                  # over b: page 1 is empty now
    assert not b.valid and c.valid
    assert code_bit(bus, P) and not code_bit(bus, 3 * P)
    assert bus.counters.smc_events == 2 and bus.counters.tbs_invalidated == 2
    bus.as_.write(P + 0x7F0, bytes(0x40))                  # unprotected: no hook at all
    assert bus.counters.smc_events == 2


def test_device_write_triggered_by_a_cpu_store_is_reported(bus):
    """A store into MMIO that makes a device write into the running TB (a DMA engine)."""
    tb = tb_at(bus, 6 * P)
    bus.tb_cache.running = tb
    bus.mmio_write_hook = lambda off, value, size: bus.as_.write(6 * P + 4, b"\xf4")
    assert bus.tlb.store(MMIO_BASE + 8, 4, 1) is True
    assert not tb.valid


def test_code_through_an_alias_is_protected_on_the_shared_page(bus):
    tb = tb_at(bus, ALIAS_BASE + 0x100)
    assert tb.pages == (0,) and tb.phys_pages == (ALIAS_BASE >> 12,)
    bus.tlb.tlb_fill(0)
    assert 0 not in bus.tlb.write_pages  # the page under the alias is protected as well
    bus.tlb.store(0x100, 1, 0)  # written through the other name
    assert not tb.valid


def test_rom_code_is_cached_and_a_rom_store_kills_nothing(bus):
    tb = tb_at(bus, ROM_BASE + 0x10)
    assert tb.valid
    bus.tlb.store(ROM_BASE + 0x10, 1, 0)
    assert tb.valid
    bus.as_.write_rom(ROM_BASE + 0x10, b"\x00")  # firmware loading does
    assert not tb.valid


def test_mmio_code_cannot_be_cached(bus):
    with pytest.raises(TBCacheError, match="not RAM"):
        tb_at(bus, MMIO_BASE)
    with pytest.raises(TBCacheError, match="not RAM"):
        tb_at(bus, MMIO_BASE - 8, size=16)  # its second page is MMIO
    assert len(bus.tb_cache) == 0 and not bus.tb_cache.page_tbs


def test_remapping_a_code_page_kills_its_tbs(bus):
    tb = tb_at(bus, ALIAS_BASE + 0x100)
    keep = tb_at(bus, 9 * P)
    bus.alias.set_alias_offset(8 * P)  # the alias now shows RAM pages 8..11
    assert not tb.valid and keep.valid
    assert bus.counters.tbs_invalidated == 1
    # a map change that leaves the code page alone keeps the TB
    bus.root.add_subregion(0x600000, MemoryRegion.alias("x", bus.ram, 0, P))
    assert keep.valid


def test_replacing_a_tb_under_the_same_key(bus):
    a = tb_at(bus, P)
    b = tb_at(bus, P, size=32)
    assert not a.valid and b.valid and bus.tb_cache.lookup(P, 0, 0) is b
    assert list(bus.tb_cache.page_tbs[1]) == [b]
    with pytest.raises(TBCacheError, match="already inserted"):
        bus.tb_cache.insert(b)


def test_chaining_follows_validity(bus):
    a, b = tb_at(bus, P), tb_at(bus, 2 * P)
    assert TBCache.link(a, 0, b) and a.jmp_dest[0] is b
    assert list(b.jmp_in) == [(a, 0)]
    bus.tlb.store(2 * P, 1, 0)
    # tb_jmp_unlink: the jump into the dead TB is gone; the CPU looks its target up again
    assert not b.valid and a.jmp_dest == [None, None] and not b.jmp_in
    assert not TBCache.link(a, 1, b)
    with pytest.raises(TBCacheError):
        TBCache.link(a, 2, a)


def test_flush(bus):
    tbc = bus.tb_cache
    a, b = tb_at(bus, P), tb_at(bus, 2 * P)
    tbc.running = a
    gen = tbc.generation
    tbc.flush()
    assert not a.valid and not b.valid and len(tbc) == 0 and tbc.generation == gen + 1
    assert tbc.running_invalidated
    # the pages unprotect on their next write
    assert not code_bit(bus, P)
    bus.tlb.store(P, 1, 0)
    assert code_bit(bus, P)


def test_bad_tbs_and_caches(bus):
    with pytest.raises(TBCacheError):
        TranslationBlock(0, 0, 0, 0)
    with pytest.raises(TBCacheError):
        TranslationBlock(0, 0, 0, TB_MAX_SIZE + 1)
    with pytest.raises(TBCacheError):
        TranslationBlock(1 << 32, 0, 0, 1)
    with pytest.raises(TBCacheError):
        TranslationBlock("0", 0, 0, 1)
    with pytest.raises(TBCacheError):
        bus.tb_cache.insert("tb")
    with pytest.raises(TBCacheError, match="already has a TB cache"):
        TBCache(bus.as_, bus.tlb)
    with pytest.raises(TBCacheError):
        TBCache(bus.as_, "tlb")


def test_store_bytes_kills_only_the_tbs_it_overlaps(bus):
    tbc = bus.tb_cache
    a = tb_at(bus, P + 0x100, size=16)
    b = tb_at(bus, P + 0x800, size=16)
    tbc.running = b
    assert bus.tlb.store_bytes(P + 0x200, b"\xaa" * 0x100) is False  # beside the code
    assert a.valid and b.valid
    assert bus.tlb.store_bytes(P + 0x0F0, b"\xbb" * 0x20) is False
    assert not a.valid and b.valid
    assert bus.tlb.store_bytes(P + 0x7F0, b"\xcc" * 0x40) is True  # into the running TB
    assert not b.valid and code_bit(bus, P)
    assert bus.host(P + 0x7F0, 0x40) == b"\xcc" * 0x40


def test_stores_beside_code_mark_the_page_again_after_every_clear(bus):
    """The protected-page shortcut skips re-marking VGA/MIGRATION only until someone clears
    bits again."""
    from guestmem import DIRTY_MEMORY_MIGRATION, DIRTY_MEMORY_VGA

    from tests.vgaemu.cpu.cpu_bus import VRAM_BASE

    tb = tb_at(bus, VRAM_BASE + 0x10)
    ra = bus.ram_addr(VRAM_BASE)
    for i in range(3):
        bus.dirty.snapshot_and_clear_dirty(ra, P, DIRTY_MEMORY_VGA)
        bus.dirty.snapshot_and_clear_dirty(ra, P, DIRTY_MEMORY_MIGRATION)
        bus.tlb.store(VRAM_BASE + 0x800 + i, 1, i)
        assert bus.dirty.get_dirty(ra, P, DIRTY_MEMORY_VGA)
        assert bus.dirty.get_dirty(ra, P, DIRTY_MEMORY_MIGRATION)
        bus.tlb.store(VRAM_BASE + 0x900 + i, 1, i)  # the shortcut, same generation
        assert tb.valid and not code_bit(bus, VRAM_BASE)
    bus.tlb.store(VRAM_BASE + 0x12, 1, 0)  # into the TB: it dies, the page goes direct
    assert not tb.valid and (VRAM_BASE >> 12) in bus.tlb.write_pages


def test_remapping_the_second_page_of_a_spanning_tb_kills_it(bus):
    tb = tb_at(bus, ALIAS_BASE + 2 * P - 6, size=12)
    assert tb.pages == (1, 2) and len(tb.phys_pages) == 2
    other = tb_at(bus, ALIAS_BASE + 0x100)
    cover = MemoryRegion.alias("cover", bus.ram, 8 * P, P)
    bus.root.add_subregion(ALIAS_BASE + 2 * P, cover, priority=3)  # hides alias page 2 only
    assert not tb.valid and other.valid
    assert bus.tb_cache.lookup(ALIAS_BASE + 2 * P - 6, 0, 0) is None
