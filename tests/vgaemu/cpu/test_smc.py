"""Self-modifying code and invalidation with the real CPU: a store into the running TB, into
a later TB on the same page, into a TB on another page, a scripted-guest write and DMA into
translated code (from the host and started by a guest store inside the running TB), a TB
spanning two pages.  After each the new code runs, the stale TB is gone, counters agree.
Code is hand-assembled; each line says what the bytes are."""

import pytest
from guestmem import DIRTY_MEMORY_CODE, DIRTY_MEMORY_MIGRATION

from vgaemu.cpu.state import DS
from vgaemu.dma import DMA_MMIO_BASE, REG_CONTROL, REG_DST_LO, REG_LENGTH, REG_SRC_LO
from vgaemu.machine import Machine


def asm(*lines: str) -> bytes:
    return bytes.fromhex("".join(lines))


@pytest.fixture(params=[0, 1 << 40, False], ids=["tb", "interp", "no-tb-cache"])
def machine(request):
    """"tb": blocks translated on their first entry; "interp": every block on the
    interpreted tier (tracked and invalidated like a TB); "no-tb-cache"."""
    m = Machine(memory="2M", vram="1M", tb_cache=request.param is not False)
    if request.param is not False:
        m.cpu.tb_threshold = request.param
    yield m
    m.cpu.close()


def start(m, code_at: dict, eip=0x7C00):
    for addr, code in code_at.items():
        m.write(addr, code)
    cpu = m.cpu
    cpu.eip = eip
    cpu.halted = False
    return cpu


def tb_at(cpu, pc):
    return cpu.tb_cache.lookup(pc, 0, cpu.hflags)


def test_store_into_the_running_tb(machine):
    cpu = start(machine, {0x7C00: asm(
        "C6060A7C40",  # 7C00 mov byte [7C0Ah], 40h   ; inc cx -> inc ax
        "B80100",      # 7C05 mov ax, 1
        "9090",        # 7C08 nop; nop
        "41",          # 7C0A inc cx
        "F4")})        # 7C0B hlt
    cpu.run(max_instructions=100)
    assert (cpu.ax, cpu.cx) == (2, 0)
    c = cpu.counters.total
    if cpu.use_tb_cache:
        assert c.smc_events == 1 and c.tbs_invalidated == 1
        assert tb_at(cpu, 0x7C00) is None  # the TB that patched itself is gone
        assert tb_at(cpu, 0x7C05) is not None  # execution resumed right after the store


def test_store_into_a_later_tb_on_the_same_page(machine):
    cpu = start(machine, {0x7C00: asm(
        "E82D00",      # 7C00 call 7C30 (next 7C03)
        "C606307C40",  # 7C03 mov byte [7C30h], 40h
        "E82500",      # 7C08 call 7C30 (next 7C0B)
        "F4"),         # 7C0B hlt
        0x7C30: asm("41C3")})  # inc cx; ret
    cpu.run(max_instructions=3)  # call, inc cx, ret
    old = tb_at(cpu, 0x7C30)
    cpu.run(max_instructions=100)
    assert (cpu.ax, cpu.cx) == (1, 1)
    if cpu.use_tb_cache:
        assert old is not None and not old.valid
        new = tb_at(cpu, 0x7C30)
        assert new is not None and new is not old and new.valid
        c = cpu.counters.total
        # only the patched TB died: the stack writes beside the code and the patching TB
        # itself invalidated nothing
        assert c.tbs_invalidated == 1 and c.smc_events == 1


def test_store_into_a_tb_on_another_page(machine):
    cpu = start(machine, {0x7C00: asm(
        "E8FD13",      # 7C00 call 9000 (next 7C03)
        "C606009040",  # 7C03 mov byte [9000h], 40h
        "E8F513",      # 7C08 call 9000 (next 7C0B)
        "F4"),         # 7C0B hlt
        0x9000: asm("41C3")})  # inc cx; ret
    cpu.run(max_instructions=100)
    assert (cpu.ax, cpu.cx) == (1, 1)
    if cpu.use_tb_cache:
        assert cpu.counters.total.tbs_invalidated == 1


def test_scripted_write_into_translated_code(machine):
    cpu = start(machine, {0x7C00: asm("41F4")})  # inc cx; hlt
    cpu.run(max_instructions=10)
    old = tb_at(cpu, 0x7C00)
    machine.write(0x7C00, b"\x40")  # inc ax
    start(machine, {})
    cpu.run(max_instructions=10)
    assert (cpu.ax, cpu.cx) == (1, 1)
    if cpu.use_tb_cache:
        assert old is not None and not old.valid and tb_at(cpu, 0x7C00) is not old
        assert cpu.counters.total.smc_events == 1


def dma_copy(as_, src, dst, n):
    as_.stl_le(DMA_MMIO_BASE + REG_SRC_LO, src)
    as_.stl_le(DMA_MMIO_BASE + REG_DST_LO, dst)
    as_.stl_le(DMA_MMIO_BASE + REG_LENGTH, n)


def test_dma_into_translated_code(machine):
    cpu = start(machine, {0x7C00: asm("41F4"), 0x20000: b"\x40"})
    cpu.run(max_instructions=10)
    old = tb_at(cpu, 0x7C00)
    as_ = machine.address_space_memory
    dma_copy(as_, 0x20000, 0x7C00, 1)
    as_.stl_le(DMA_MMIO_BASE + REG_CONTROL, 1)  # START
    start(machine, {})
    cpu.run(max_instructions=10)
    assert (cpu.ax, cpu.cx) == (1, 1)
    if cpu.use_tb_cache:
        assert not old.valid


def test_dma_started_by_a_store_inside_the_running_tb(machine):
    """The guest's own MMIO store starts a DMA that overwrites the next instruction of the
    TB doing the store: the TB must end right after the store."""
    m = machine
    cpu = start(m, {0x20000: b"\x40", 0x7C00: asm(
        "6766 8903",   # 7C00 mov [ebx], eax  (32-bit address: flat "unreal" DS)
        "41",          # 7C04 inc cx  <- the DMA turns this into inc ax
        "F4")})        # 7C05 hlt
    dma_copy(m.address_space_memory, 0x20000, 0x7C04, 1)
    cpu.seg_limit[DS] = 0xFFFFFFFF  # unreal mode, as LGDT + CR0.PE round trip leaves it
    cpu.ebx = DMA_MMIO_BASE + REG_CONTROL
    cpu.eax = 1
    cpu.run(max_instructions=10)
    assert (cpu.ax, cpu.cx) == (2, 0)


def test_tb_spanning_two_pages(machine):
    cpu = start(machine, {0x7C00: asm(
        "E8F903",      # 7C00 call 7FFC (next 7C03)
        "89C2",        # 7C03 mov dx, ax
        "C606008056",  # 7C05 mov byte [8000h], 56h  ; the immediate's high byte, page 8
        "E8EF03",      # 7C0A call 7FFC (next 7C0D)
        "F4"),         # 7C0D hlt
        0x7FFC: asm("9090", "B83412", "C3")})  # 7FFC nop; nop; 7FFE mov ax, 1234h; 8001 ret
    cpu.run(max_instructions=5)  # call, nop, nop, mov, ret
    span = [tb for tb in cpu.tb_cache.tbs.values() if len(tb.pages) == 2]
    cpu.run(max_instructions=100)
    assert (cpu.dx, cpu.ax) == (0x1234, 0x5634)
    if cpu.use_tb_cache:
        assert len(span) == 1 and span[0].pages == (7, 8) and not span[0].valid


def test_page_without_code_takes_the_fast_path_once_dirty(machine):
    m = machine
    cpu = start(m, {0x7C00: asm(
        "B90001",      # 7C00 mov cx, 256
        "890E0020",    # 7C03 mov [2000h], cx
        "E2FA",        # 7C07 loop 7C03
        "F4")})        # 7C09 hlt
    dirty = m.ram_list.dirty
    # a migration sync has just seen page 2: it is clean for MIGRATION
    dirty.clear_dirty_range(0x2000, 0x1000, 1 << DIRTY_MEMORY_MIGRATION)
    cpu.run(max_instructions=10_000)
    assert cpu.cx == 0 and m.read(0x2000, 2) == b"\x01\x00"
    c = cpu.counters.total
    assert c.notdirty_writes == 1 and c.tbs_invalidated == 0 and c.smc_events == 0
    assert dirty.get_dirty(0x2000, 1, DIRTY_MEMORY_MIGRATION)
    assert 2 in cpu.tlb.write_pages
    if cpu.use_tb_cache:
        assert not dirty.get_dirty(0x7C00, 1, DIRTY_MEMORY_CODE)  # the code page is protected
        assert 7 not in cpu.tlb.write_pages


def test_rep_stos_beside_code_keeps_the_translations(machine):
    """A buffer on the code's own page (a .COM program's data): the string store takes the
    NOTDIRTY path but kills no TB, so the second run translates nothing."""
    cpu = start(machine, {0x7C00: asm(
        "B90001",      # 7C00 mov cx, 256
        "BF007E",      # 7C03 mov di, 7E00h   ; same page as the code
        "B0AA",        # 7C06 mov al, 0AAh
        "F3AA",        # 7C08 rep stosb
        "F4")})        # 7C0A hlt
    cpu.run(max_instructions=100)
    translated = cpu.counters.total.tbs_translated
    start(machine, {})
    cpu.run(max_instructions=100)
    c = cpu.counters.total
    assert machine.read(0x7E00, 256) == b"\xaa" * 256
    assert c.tbs_invalidated == 0 and c.tbs_translated == translated


def test_rep_stos_into_the_running_tb(machine):
    cpu = start(machine, {0x7C00: asm(
        "B90200",      # 7C00 mov cx, 2
        "BF0B7C",      # 7C03 mov di, 7C0Bh
        "B040",        # 7C06 mov al, 40h
        "F3AA",        # 7C08 rep stosb   ; inc cx; inc cx -> inc ax; inc ax
        "90",          # 7C0A nop
        "4141",        # 7C0B inc cx; inc cx
        "F4")})        # 7C0D hlt
    cpu.run(max_instructions=100)
    assert (cpu.ax, cpu.cx) == (0x42, 0)
