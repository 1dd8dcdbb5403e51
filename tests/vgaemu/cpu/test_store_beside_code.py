"""Stores beside translated code (a boot sector's stack and variables share its page): after
the first NOTDIRTY store the page gets a beside-code entry, and later stores that the TB
cache's coverage map shows to miss every TB are stored directly -- until someone clears the
page's dirty bits or the coverage map changes.  Code is hand-assembled."""

from guestmem import DIRTY_MEMORY_CODE, DIRTY_MEMORY_MIGRATION

from vgaemu.machine import Machine

# 7C00 mov cx, 256; 7C03 mov [7E00h], cx; 7C07 loop 7C03; 7C09 hlt
LOOP = bytes.fromhex("B90001" "890E007E" "E2FA" "F4")


def machine():
    m = Machine(memory="2M", vram="1M")
    m.write(0x7C00, LOOP)
    m.cpu.eip = 0x7C00
    return m


def test_stores_beside_code_skip_the_slow_path_after_the_first():
    m = machine()
    cpu = m.cpu
    try:
        cpu.run(max_instructions=10_000)
        assert cpu.halted and m.read(0x7E00, 2) == b"\x01\x00"
        c = cpu.counters.total
        assert c.notdirty_writes == 1 and c.tbs_invalidated == 0
        assert 7 in cpu.tlb.code_write_pages and 7 not in cpu.tlb.write_pages
        assert not m.ram_list.dirty.get_dirty(0x7C00, 1, DIRTY_MEMORY_CODE)   # still protected
    finally:
        cpu.close()


def test_a_dirty_sync_drops_the_entry_and_the_next_store_marks_the_page():
    m = machine()
    cpu = m.cpu
    dirty = m.ram_list.dirty
    try:
        cpu.run(max_instructions=10_000)
        dirty.clear_dirty_range(0x7000, 0x1000, 1 << DIRTY_MEMORY_MIGRATION)
        assert 7 not in cpu.tlb.code_write_pages
        cpu.eip, cpu.halted = 0x7C00, False
        cpu.run(max_instructions=10_000)
        assert dirty.get_dirty(0x7E00, 1, DIRTY_MEMORY_MIGRATION)
        assert cpu.counters.total.notdirty_writes == 2 and 7 in cpu.tlb.code_write_pages
    finally:
        cpu.close()


def test_a_store_into_code_through_the_entry_still_invalidates():
    m = machine()
    cpu = m.cpu
    try:
        cpu.run(max_instructions=10_000)
        tb = cpu.tb_cache.lookup(0x7C03, 0, cpu.hflags)
        assert tb is not None and tb.valid
        # 7C20: mov word [7C05h], 7E02h (the displacement of the store) ; hlt
        m.write(0x7C20, bytes.fromhex("C70605 7C 027E F4".replace(" ", "")))
        cpu.eip, cpu.halted = 0x7C20, False
        cpu.run(max_instructions=10)
        assert not tb.valid and cpu.counters.total.smc_events >= 1
        cpu.eip, cpu.halted = 0x7C00, False
        cpu.run(max_instructions=10_000)
        assert m.read(0x7E02, 2) == b"\x01\x00"   # the rewritten store ran
    finally:
        cpu.close()
