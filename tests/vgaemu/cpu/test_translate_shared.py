"""Translator.compile_shared: code that keeps being rewritten compiles once per shape (its
integer literals become factory arguments) and behaves exactly like compile()'s."""

import struct
from pathlib import Path

from vgaemu.machine import Machine

SMC_BIN = Path(__file__).resolve().parents[3] / "benchmarks" / "cpu" / "smc.bin"


def test_same_shape_compiles_once_and_keeps_each_versions_literals():
    m = Machine()
    tr = m.cpu.translator
    f1 = tr.compile_shared("def tb_7c00_1(cpu, budget):\n    return budget + 0x10 * 3\n")
    f2 = tr.compile_shared("def tb_7c00_2(cpu, budget):\n    return budget + 0x20 * 5\n")
    f3 = tr.compile_shared("def tb_7c00_3(cpu, budget):\n    return budget - 0x20 * 5\n")
    assert (f1(None, 1), f2(None, 1), f3(None, 1)) == (49, 161, -159)
    assert len(tr._factories) == 2     # + and - are two shapes; 0x10*3 and 0x20*5 one


def test_source_with_a_string_literal_is_compiled_plainly():
    m = Machine()
    tr = m.cpu.translator
    f = tr.compile_shared("def tb_1(cpu, budget):\n    return len('r0 1 2') + 1\n")
    assert f(None, 0) == 7 and not tr._factories


def test_a_block_rewritten_every_turn_runs_as_with_the_decode_path():
    """benchmarks/cpu/smc.asm: an immediate in the running block and a routine on another
    page are patched each turn; both paths end in the same state."""
    code = SMC_BIN.read_bytes()
    states = []
    for tb_cache in (True, False):
        m = Machine(tb_cache=tb_cache)
        m.write(0x7C00, code)
        m.write(0x500, struct.pack("<II", 50, 0))
        n = m.cpu.run(max_instructions=100_000)
        assert m.cpu.halted
        states.append((n, list(m.cpu.regs), m.cpu.eflags, m.read(0x7C00, 0x1010)))
        if tb_cache:
            assert m.cpu.translator._factories   # retranslations went through shapes
    assert states[0] == states[1]
    assert states[0][1][3] & 0xFFFF == sum(range(1, 51)) & 0xFFFF   # BX = sum of CX values


def test_a_rewritten_shift_count_gets_its_own_flag_analysis():
    """A block translated again after a rewrite starts from the last flag liveness of its
    shape; a shift count of 0 leaves CF alone, so the count is part of the shape, and the
    seed is only kept when one pass proves it.  Every version must match the decode path."""
    # 7C00 mov ax, 8001h; stc; shl ax, N; adc bx, 0; hlt
    code = bytes.fromhex("B80180" "F9" "C1E000" "83D300" "F4")
    results = {}
    for tb_cache in (True, False):
        m = Machine(tb_cache=tb_cache)
        m.cpu.tb_threshold = 0   # every version translated (the analyses under test)
        bx = []
        for count in (1, 0, 1, 2, 0, 2, 1, 15, 16, 0):
            m.write(0x7C00, code)
            m.write(0x7C06, bytes([count]))
            m.cpu.eip, m.cpu.halted = 0x7C00, False
            m.cpu.run(max_instructions=100)
            assert m.cpu.halted
            bx.append((m.cpu.bx, m.cpu.ax, m.cpu.eflags))
        results[tb_cache] = bx
        if tb_cache:
            assert m.cpu.translator._liveness     # the analyses were remembered
    assert results[True] == results[False]
    assert [b for b, _, _ in results[True]][:3] == [1, 2, 3]   # CF: shifted out, kept, out


def test_code_that_returns_to_earlier_bytes_reuses_their_translation():
    """A routine patched back and forth between two versions is translated twice; every
    later version is one of those bytes again and reuses its function (no decode, no
    compile), so it stays on the TB path instead of falling back to decoding."""
    code = bytes.fromhex(
        "C606207C40"   # 7C00 mov byte [7C20h], 40h   (the routine becomes INC AX)
        "E81800"       # 7C05 call 7C20
        "C606207C43"   # 7C08 mov byte [7C20h], 43h   (... INC BX)
        "E81000"       # 7C0D call 7C20
        "49"           # 7C10 dec cx
        "75ED"         # 7C11 jnz 7C00
        "F4")          # 7C13 hlt
    results = []
    for tb_cache in (True, False):
        m = Machine(tb_cache=tb_cache)
        m.write(0x7C00, code)
        m.write(0x7C20, bytes.fromhex("90C3"))    # 7C20 nop (patched); ret
        cpu = m.cpu
        cpu.tb_threshold = 0   # tiered, the routine never runs twice unchanged: interpreted
        cpu.cx = 20
        cpu.run(max_instructions=10_000)
        assert cpu.halted
        results.append((cpu.ax, cpu.bx, cpu.cx))
        if tb_cache:
            key = (0x7C20, 0, cpu.hflags)
            assert cpu._translations[key] == 2          # INC AX and INC BX, once each
            assert cpu.counters.total.tbs_invalidated >= 39
            assert cpu.tb_cache.lookup(*key) is not None
    assert results[0] == results[1] == (20, 20, 0)
