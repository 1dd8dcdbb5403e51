"""X86CPU as a whole: programs through the IVT and the BIOS, unreal mode, A20, the register
API, exact instruction budgets, the decode-every-instruction path against the TB path."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from vgaemu.cpu import CPUError, UnimplementedInstruction
from vgaemu.cpu.state import (CC_ADC, CC_ADD, CC_DEC, CC_INC, CC_LOGIC, CC_SBB, CC_SUB, CF,
                              OF, PF, SF, ZF, AF, cc_op, lazy_arith, shift_op)
from vgaemu.machine import Machine

# Each program is NASM output (org 0x7c00); the source is in the comment above it.

# mov cx,1000 / xor ax,ax / mov bx,1 / top: add ax,bx / xor dx,ax / inc bx / loop top /
# mov [0x500],ax / mov [0x502],dx / hlt
LOOP = bytes.fromhex("31c0bb0100b9e80301d831c243e2f9a3000589160205f4")

# installs INT 60h (doubles AX, sets CF in the stacked FLAGS) and a #DE handler (skips the
# 2-byte DIV, AX=DEDEh); calls INT 60h, stores AX and -CF, then DIV CL with CL=0
HOOK = bytes.fromhex(
    "31c08ed8c7068001357cc70682010000c7060000407cc70602000000b80500cd60a3000619d2891602"
    "0631c9b8d204f6f1a30406f401c05589e5834e06015dcf5589e5834602025db8dedecf")

# lgdt; CR0.PE=1; DS = flat 4 GiB descriptor; CR0.PE=0; DS=0 (real-mode load keeps the
# limit); mov dword [esi], 0x11223344 with ESI=0xFD000000 (the LFB); read it back to 0x600
UNREAL = bytes.fromhex(
    "fa0f0116347c0f20c00c010f22c0bb08008edb24fe0f22c031c08ed8fb66be000000fd6667c70644332211"
    "66678b0666a30006f40f003a7c00000000000000000000ffff00000092cf00")

# byte AAh to FFFF:0010 (1 MiB); A20 off through port 92h; byte 55h to FFFF:0010 (wraps to
# 0); port 92h to [0x600]
A20 = bytes.fromhex("b8ffff8ec026c6061000aae49224fde69226c606100055e492a20006f4")

# mov cx,3 / again: mov byte [patch+1],0x42 / patch: mov al,0 / mov [0x600],al / loop again
SMC = bytes.fromhex("b90300c606097c42b000a20006e2f4f4")

# mov ax,13h / int 10h / es=A000 / stosb a pattern over 320x200 / ah=0Eh 'A' / hlt
MODE13 = bytes.fromhex(
    "b81300cd10b800a08ec031ff31dbb9400188d8aafec0e2fb4381fbc80072efb40eb041bb0f00cd10f4")


def machine(code: bytes, **kw) -> Machine:
    m = Machine(memory="2M", vram="1M", **kw)
    m.write(0x7C00, code)
    return m


@pytest.mark.parametrize("tb_cache", [True, False])
def test_loop_program(tb_cache):
    m = machine(LOOP, tb_cache=tb_cache)
    n = m.cpu.run()
    assert m.cpu.halted
    assert n == 3 + 4 * 1000 + 3
    ax = sum(range(1, 1001)) & 0xFFFF
    assert m.read(0x500, 2) == ax.to_bytes(2, "little")
    assert m.cpu.bx == 1001 and m.cpu.cx == 0 and m.cpu.ip == 0x7C00 + len(LOOP)
    assert m.cpu.counters.instructions == n


def test_tb_path_and_decode_path_agree_on_every_register():
    states = []
    for tb in (True, False):
        m = machine(HOOK, tb_cache=tb)
        m.cpu.run(max_instructions=10_000)
        states.append((repr(m.cpu), m.read(0x600, 6), m.read(0x7000, 0x100)))
    assert states[0] == states[1]


def test_vectors_hooked_by_the_program_and_divide_error():
    m = machine(HOOK)
    m.cpu.run(max_instructions=10_000)
    assert m.cpu.halted
    assert m.read(0x600, 2) == (10).to_bytes(2, "little")      # handler ran
    assert m.read(0x602, 2) == b"\xff\xff"                     # CF came back through IRET
    assert m.read(0x604, 2) == (0xDEDE).to_bytes(2, "little")  # #DE went through IVT[0]


def test_int10_reaches_the_vga_bios_through_the_ivt():
    m = machine(MODE13)
    assert m.read(0x40, 4) == bytes.fromhex("401000f0")  # IVT[10h] = F000:1040
    m.cpu.run(max_instructions=1_000_000)
    assert m.cpu.halted
    assert m.read(0x449, 1) == b"\x13"          # BDA current mode, set by the BIOS
    vram = m.read(0xA0000, 320 * 12)
    assert vram[320 * 10 + 8:320 * 10 + 12] == bytes([18, 19, 20, 21])  # row 10, x 8..11
    assert vram[0] == 0x00 and 0x0F in vram[:320 * 8]   # the 'A' glyph in colour 0Fh
    assert m.cpu.ax & 0xFF00 == 0x0E00          # AH preserved by the teletype call


def test_default_vectors_iret():
    # int 21h with nothing installed returns at once (SeaBIOS's default handler at F000:FF53)
    m = machine(bytes.fromhex("b83412cd21f4"))
    m.cpu.run(max_instructions=100)
    assert m.cpu.halted and m.cpu.ax == 0x1234
    assert m.read(0x21 * 4, 4) == bytes.fromhex("53ff00f0")


def test_unreal_mode_reaches_the_lfb_above_1mib():
    m = machine(UNREAL)
    m.cpu.run(max_instructions=1000)
    assert m.cpu.halted
    assert m.vga.vram[0:4].tobytes() == bytes.fromhex("44332211")
    assert m.read(0x600, 4) == bytes.fromhex("44332211")
    assert m.cpu.cr0 & 1 == 0 and m.cpu.ds == 0
    assert m.cpu.seg_limit[3] == 0xFFFFFFFF


def test_a20_gate_port92():
    m = machine(A20)
    assert m.cpu.a20_mask == 0xFFFFFFFF
    m.cpu.run(max_instructions=100)
    assert m.read(0x100000, 1) == b"\xaa"      # written while A20 was on
    assert m.read(0, 1) == b"\x55"             # the second store wrapped
    assert m.read(0x600, 1) == b"\x00"         # port 92h reads bit 1 clear
    assert m.cpu.a20_mask == 0xFFEFFFFF


def test_a20_through_the_keyboard_controller():
    m = Machine(memory="2M", vram="1M")
    m.outb(0x64, 0xD1)
    m.outb(0x60, 0xDD)   # output port with bit 1 clear
    assert m.cpu.a20_mask == 0xFFEFFFFF
    m.outb(0x64, 0xD0)
    assert m.inb(0x64) & 1 and m.inb(0x60) == 0xDD
    m.outb(0x64, 0xDF)
    assert m.cpu.a20_mask == 0xFFFFFFFF


@pytest.mark.parametrize("tb_cache", [True, False])
def test_self_modifying_store_into_the_running_block(tb_cache):
    m = machine(SMC, tb_cache=tb_cache)
    m.cpu.run(max_instructions=100)
    assert m.cpu.halted
    assert m.read(0x600, 1) == b"\x42"
    if tb_cache:
        assert m.cpu.counters.tbs_invalidated >= 1


def test_run_budget_is_exact_and_step_runs_one_instruction():
    m = machine(LOOP)
    assert m.cpu.run(max_instructions=7) == 7
    assert m.cpu.run(max_instructions=50) == 50
    ip = m.cpu.ip
    assert m.cpu.step() == 1 and m.cpu.ip != ip
    assert m.cpu.run(until=lambda c: c.bx == 500) > 0 and m.cpu.bx == 500


def test_unimplemented_instruction_names_cs_ip_and_bytes():
    m = machine(bytes.fromhex("90d9e8f4"))   # nop; fld1 (x87)
    with pytest.raises(UnimplementedInstruction) as e:
        m.cpu.run(max_instructions=10)
    text = str(e.value)
    assert "0000:7C01" in text and "d9 e8" in text and "x87" in text
    assert m.cpu.ip == 0x7C01                # the NOP ran, nothing after it


def test_unimplemented_instruction_as_ud():
    # IVT[6] -> a handler at 0x7c10 that stores 0x66 and halts
    m = machine(bytes.fromhex("d9e8f4"), ud_on_unimplemented=True)
    m.write(0x7C10, bytes.fromhex("c606000666f4"))
    m.write(6 * 4, bytes.fromhex("107c0000"))
    m.cpu.run(max_instructions=10)
    assert m.cpu.halted and m.read(0x600, 1) == b"\x66"


def test_register_attributes():
    cpu = Machine(memory="2M", vram="1M").cpu
    cpu.eax = 0x12345678
    assert (cpu.ax, cpu.al, cpu.ah) == (0x5678, 0x78, 0x56)
    cpu.ah = 0xAB
    assert cpu.eax == 0x1234AB78
    cpu.ds = 0x1234
    assert cpu.ds == 0x1234 and cpu.seg_base[3] == 0x12340
    cpu.eflags = 0x8D7
    assert cpu.eflags == 0x8D7 and cpu.flags == 0x8D7
    with pytest.raises(CPUError):
        cpu.ax = 0x10000
    with pytest.raises(CPUError):
        cpu.cs = -1


def test_hlt_with_interrupts_waits_for_an_irq():
    # sti; hlt; mov [0x600], al; hlt   with IVT[20h] -> 0x7c10: mov al,0x77; iret
    m = machine(bytes.fromhex("fbf4a20006f4"))
    m.write(0x7C10, bytes.fromhex("b077cf"))
    m.write(0x20 * 4, bytes.fromhex("107c0000"))
    m.cpu.run(max_instructions=100)
    assert m.cpu.halted
    m.cpu.raise_irq(0x20)
    m.cpu.run(max_instructions=100)
    assert m.read(0x600, 1) == b"\x77"


# ---------------------------------------------------------------- lazy flags vs a naive model

def naive_flags(kind: int, size: int, a: int, b: int, c: int) -> tuple[int, int]:
    bits = size * 8
    mask = (1 << bits) - 1

    def sx(v):
        return v - (1 << bits) if v >> (bits - 1) else v
    if kind in (CC_ADD, CC_ADC):
        full = a + b + (c if kind == CC_ADC else 0)
        sfull = sx(a) + sx(b) + (c if kind == CC_ADC else 0)
        cf = full > mask
    elif kind in (CC_SUB, CC_SBB):
        full = a - b - (c if kind == CC_SBB else 0)
        sfull = sx(a) - sx(b) - (c if kind == CC_SBB else 0)
        cf = full < 0
    else:
        raise AssertionError
    res = full & mask
    of = not -(1 << (bits - 1)) <= sfull < (1 << (bits - 1))
    af = ((a ^ b ^ res) >> 4) & 1
    f = (CF if cf else 0) | (OF if of else 0) | (AF if af else 0)
    f |= ZF if res == 0 else 0
    f |= SF if res >> (bits - 1) else 0
    f |= PF if bin(res & 0xFF).count("1") % 2 == 0 else 0
    return res, f


@settings(max_examples=400, deadline=None)
@given(st.sampled_from([CC_ADD, CC_ADC, CC_SUB, CC_SBB]), st.sampled_from([1, 2, 4]),
       st.integers(0, 2**32 - 1), st.integers(0, 2**32 - 1), st.integers(0, 1))
def test_lazy_arith_matches_a_naive_model(kind, size, a, b, c):
    mask = (1 << (8 * size)) - 1
    a &= mask
    b &= mask
    if kind in (CC_ADD, CC_SUB):
        c = 0
    res, want = naive_flags(kind, size, a, b, c)
    assert lazy_arith(cc_op(kind, size), res, a, b, c) == want


@settings(max_examples=200, deadline=None)
@given(st.sampled_from([1, 2, 4]), st.integers(0, 2**32 - 1), st.integers(0, 1))
def test_lazy_inc_dec_logic(size, a, carry):
    mask = (1 << (8 * size)) - 1
    a &= mask
    r, f = naive_flags(CC_ADD, size, a, 1, 0)
    assert lazy_arith(cc_op(CC_INC, size), r, a, 1, carry) == (f & ~CF) | (CF if carry else 0)
    r, f = naive_flags(CC_SUB, size, a, 1, 0)
    assert lazy_arith(cc_op(CC_DEC, size), r, a, 1, carry) == (f & ~CF) | (CF if carry else 0)
    f = lazy_arith(cc_op(CC_LOGIC, size), a, 0, 0, 0)
    assert f & (CF | OF) == 0 and bool(f & ZF) == (a == 0)


@settings(max_examples=300, deadline=None)
@given(st.sampled_from([1, 2, 4]), st.integers(0, 2**32 - 1), st.integers(1, 31))
def test_shl_shr_match_a_naive_model(size, v, n):
    bits = 8 * size
    mask = (1 << bits) - 1
    v &= mask
    res, f = shift_op(4, size, v, n, 0)
    assert res == (v << n) & mask
    assert bool(f & CF) == (n <= bits and bool((v << n) >> bits & 1))
    res, f = shift_op(5, size, v, n, 0)
    assert res == v >> n and bool(f & CF) == bool(v >> (n - 1) & 1)
    assert shift_op(0, size, v, 0, 0x8D5) == (v, 0x8D5)   # count 0 changes nothing


# xor ax,ax / xor dx,dx / xor bx,bx / mov cx,100 /
# l: inc ax / test al,1 / jz even / add dx,0xF000 / even: adc bx,0 / cmp ax,90 / je out /
#    loop l / out: mov [0x600],dx / mov [0x602],bx / hlt
# (a forward skip whose two paths leave different flags for ADC, and a side exit)
SKIPS = bytes.fromhex("31c031d231dbb9640040a801740481c200f083d30083f85a7402e2ed89160006891e0206f4")


@pytest.mark.parametrize("tb_cache", [True, False])
def test_forward_skip_and_side_exit_inside_a_loop_block(tb_cache):
    m = machine(SKIPS, tb_cache=tb_cache)
    n = m.cpu.run(max_instructions=100_000)
    assert m.cpu.halted
    assert m.read(0x600, 4) == bytes.fromhex("00302a00")   # DX=3000h, BX=2Ah
    assert m.cpu.ax == 90 and m.cpu.cx == 100 - 89
    # 4 + 89 turns of 7 (45 odd turns add one more) + the last turn's 6 + 3
    assert n == 4 + 89 * 7 + 45 + 6 + 3
    if tb_cache:
        loop_tb = m.cpu.tb_cache.lookup(0x7C09, 0, 0)
        assert loop_tb is not None and "while True" in loop_tb.source


# mov cx,50 / again: inc byte [patch+1] / patch: mov al,0 / mov [0x600],al / loop again / hlt
SMC_HOT = bytes.fromhex("b93200fe06087cb000a20006e2f5f4")


def test_code_rewritten_every_turn_stops_being_translated():
    from vgaemu.cpu.cpu import SMC_RETRANSLATE_LIMIT
    m = machine(SMC_HOT)
    m.cpu.run(max_instructions=10_000)
    assert m.cpu.halted and m.read(0x600, 1) == bytes([50])
    c = m.cpu.counters.total
    assert c.smc_events >= SMC_RETRANSLATE_LIMIT
    assert c.tbs_translated <= 2 * SMC_RETRANSLATE_LIMIT + 4   # not one per turn


def test_rdtsc_advances_with_instructions_and_the_virtual_clock():
    # rdtsc / mov ebx,eax / nop x3 / rdtsc / sub eax,ebx / hlt
    m = machine(bytes.fromhex("0f316689c39090900f316629d8f4"))
    m.clock.advance(1000)
    m.cpu.run(max_instructions=100)
    assert m.cpu.eax == 5                      # 5 instructions between the two reads
    m.cpu.eip = 0x7C00
    m.cpu.halted = False
    m.cpu.run(max_instructions=1)
    assert m.cpu.eax >= 1000 + 8               # the clock plus what ran before
