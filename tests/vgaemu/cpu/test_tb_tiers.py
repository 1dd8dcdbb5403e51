"""Tiered execution: a block runs on the interpreted tier for its first ``tb_threshold``
entries and is translated on the next.  The interpreted block is tracked by the TB cache like
a TB -- its page is protected, a write to its bytes kills it and its entry count starts again
-- so the code that runs is always what memory holds.  Code is hand-assembled; each line
says what the bytes are."""

import pytest
from guestmem import DIRTY_MEMORY_CODE

from vgaemu.cpu.cpu import TB_TRANSLATE_THRESHOLD, CPUError
from vgaemu.cpu.tb import InterpretedBlock
from vgaemu.machine import Machine

# 7C00 inc ax; inc bx; hlt
INC_AX_BX = bytes.fromhex("40" "43" "F4")


@pytest.fixture
def machine():
    m = Machine(memory="2M", vram="1M")
    yield m
    m.cpu.close()


def enter(cpu, eip=0x7C00):
    cpu.eip, cpu.halted = eip, False
    return cpu.run(max_instructions=1000)


def code_bit(m, addr):
    return m.ram_list.dirty.get_dirty(addr & ~0xFFF, 4096, DIRTY_MEMORY_CODE)


def test_the_threshold_is_a_validated_cpu_option(machine):
    cpu = machine.cpu
    assert cpu.tb_threshold == TB_TRANSLATE_THRESHOLD
    for bad in (-1, 1.5, "2", True):
        with pytest.raises(CPUError, match="tb_threshold"):
            cpu.tb_threshold = bad
    assert cpu.tb_threshold == TB_TRANSLATE_THRESHOLD   # unchanged by the bad values


def test_a_block_is_interpreted_then_translated(machine):
    cpu = machine.cpu
    cpu.tb_threshold = 2
    machine.write(0x7C00, INC_AX_BX)
    for turn in (1, 2):
        assert enter(cpu) == 3
        tb = cpu.tb_cache.lookup(0x7C00, 0, cpu.hflags)
        assert isinstance(tb, InterpretedBlock) and tb.hits == turn
        # the interpreted block protects its page as a TB does
        assert not code_bit(machine, 0x7C00)
    c = cpu.counters.total
    assert c.blocks_interpreted == 2 and c.tbs_translated == 0 and c.tbs_executed == 2
    assert enter(cpu) == 3
    tb = cpu.tb_cache.lookup(0x7C00, 0, cpu.hflags)
    assert tb.translated and tb.valid and not code_bit(machine, 0x7C00)
    c = cpu.counters.total
    # the promotion replaced the interpreted block: not an invalidation, not an SMC event
    assert c.blocks_interpreted == 2 and c.tbs_translated == 1 and c.tbs_executed == 3
    assert c.tbs_invalidated == 0 and c.smc_events == 0
    assert (cpu.ax, cpu.bx) == (3, 3)


def test_code_modified_between_interpreted_runs_is_what_gets_translated(machine):
    """Interpreted twice, then the code is rewritten, then entered until translated: the
    write killed the interpreted block, its count started again, and the translation is
    of the new bytes."""
    cpu = machine.cpu
    cpu.tb_threshold = 2
    machine.write(0x7C00, INC_AX_BX)
    enter(cpu)
    enter(cpu)
    old = cpu.tb_cache.lookup(0x7C00, 0, cpu.hflags)
    assert isinstance(old, InterpretedBlock) and old.hits == 2
    machine.write(0x7C01, b"\x41")   # inc bx -> inc cx (a scripted guest's write)
    assert not old.valid and cpu.tb_cache.lookup(0x7C00, 0, cpu.hflags) is None
    assert cpu.counters.total.tbs_invalidated == 1 and cpu.counters.total.smc_events == 1
    assert code_bit(machine, 0x7C00)   # no code left on the page: unprotected
    for turn in (1, 2):
        enter(cpu)
        tb = cpu.tb_cache.lookup(0x7C00, 0, cpu.hflags)
        assert isinstance(tb, InterpretedBlock) and tb.hits == turn   # counted afresh
    enter(cpu)
    tb = cpu.tb_cache.lookup(0x7C00, 0, cpu.hflags)
    assert tb.translated and "cpu.eip" in tb.source
    assert (cpu.ax, cpu.bx, cpu.cx) == (5, 2, 3)
    assert cpu.counters.total.tbs_translated == 1


def test_a_cpu_store_into_the_running_interpreted_block(machine):
    """The block's first instruction rewrites its fifth: the new instruction runs at once
    (the interpreted block dies and the rest is decoded again).  It rewrites it on every
    entry, so the block never runs unchanged often enough to be translated."""
    cpu = machine.cpu
    cpu.tb_threshold = 5
    machine.write(0x7C00, bytes.fromhex(
        "C606087C43"   # 7C00 mov byte [7C08h], 43h   (inc ax -> inc bx)
        "90" "90" "90"  # 7C05 nop x3
        "40"           # 7C08 inc ax (rewritten before it runs)
        "F4"))         # 7C09 hlt
    assert enter(cpu) == 6
    assert (cpu.ax, cpu.bx) == (0, 1)
    assert cpu.counters.total.smc_events == 1
    for _ in range(8):
        enter(cpu)
    assert (cpu.ax, cpu.bx) == (0, 9)
    c = cpu.counters.total
    assert c.smc_events == 9 and c.tbs_translated == 0


def test_a_loop_is_promoted_while_it_runs(machine):
    """A counted loop enters its block many times in one run: the first entries are
    interpreted, the next one translates it, and the count stays exact."""
    cpu = machine.cpu
    cpu.tb_threshold = 3
    # 7C00 inc ax; dec cx; jnz 7C00; hlt
    machine.write(0x7C00, bytes.fromhex("40" "49" "75FC" "F4"))
    cpu.cx = 100
    cpu.eip = 0x7C00
    n = cpu.run(max_instructions=10_000)
    assert cpu.halted and cpu.ax == 100 and n == 301
    c = cpu.counters.total
    # 3 entries of the loop and the HLT's block, interpreted; the loop translated
    assert c.blocks_interpreted == 3 + 1 and c.tbs_translated == 1


def test_threshold_zero_translates_at_once(machine):
    cpu = machine.cpu
    cpu.tb_threshold = 0
    machine.write(0x7C00, INC_AX_BX)
    enter(cpu)
    assert cpu.tb_cache.lookup(0x7C00, 0, cpu.hflags).translated
    assert cpu.counters.total.blocks_interpreted == 0


def test_no_tb_cache_never_makes_blocks():
    m = Machine(memory="2M", vram="1M", tb_cache=False)
    cpu = m.cpu
    cpu.tb_threshold = 1
    m.write(0x7C00, INC_AX_BX)
    for _ in range(4):
        enter(cpu)
    assert len(cpu.tb_cache) == 0 and cpu.counters.total.blocks_interpreted == 0
    assert cpu.ax == 4
