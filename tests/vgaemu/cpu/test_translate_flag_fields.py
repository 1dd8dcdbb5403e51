"""Flags fields kept as expressions in generated code (translate._Gen.fx) against unicorn.

A CMP or TEST of registers emits no code, ADD/SUB keep only their result, INC/DEC of a
register keep nothing: the lazy operands are expressions over the registers, put in where
flags are read -- mostly exits.  Each snippet here is a way that could go wrong: the
register an expression reads is written (plainly, conditionally in a nested block, by the
instruction that reads the flags next), a loop's back edge turns the state into locals on
one path only, a store rewrites the running block and exits with the flags of the
instruction before, the budget ends a compiled loop between two flag setters.  Each runs
as one block and in budget slices, on the TB path and the tiered one, from random
registers.
"""

from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.vgaemu.cpu.cpu_diff import TIERED, run_block, run_chunks
from tests.vgaemu.cpu.x86_sequences import AF, CF, OF, PF, SF, initial_registers
from tests.vgaemu.pc.asm import nasm

#: name -> (source, arithmetic flags undefined at the end)
SNIPPETS = {
    # ADC reads CF at the top of the loop: the back edge makes the DEC state locals, on
    # the path that loops only; the exit after the loop still has the expressions
    "adc_dec_loop": ("mov cx, 5\nl: adc ax, 0x7777\ndec cx\njnz l", 0),
    "adc_loop_insn": ("mov cx, 4\nl: adc ax, 0x9999\nloop l\nadc bx, 1", 0),
    # the source register of ADD is its destination / is the next INC's register
    "add_self": ("add al, al", 0),
    "add_then_inc_src": ("add al, bl\ninc bl", 0),
    "sub_then_dec_dest": ("sub ax, bx\ndec ax\ndec ax", 0),
    "inc_chain": ("add dl, cl\ninc bx\ninc bx\ndec si", 0),
    # a compare whose operand is overwritten before its branch reads it
    "cmp_then_mov": ("cmp ax, bx\nmov ax, 5\nmov bx, 7\njb .x\ninc cx\n.x: sbb dx, 0", 0),
    "cmp_skip": ("cmp ax, bx\njae .x\nmov ax, bx\n.x: setb cl\nsetl ch", 0),
    # a conditional register write (BSF, CMPXCHG) while a CMP's operands are expressions
    "cmp_bsf": ("cmp ax, bx\nbsf ax, cx\nsetz dl", CF | OF | SF | AF | PF),
    "cmp_bsf_zero": ("xor cx, cx\ncmp ax, bx\nbsf ax, cx\nsetz dl", CF | OF | SF | AF | PF),
    "cmp_cmpxchg": ("cmp cx, dx\ncmpxchg bx, cx\nsbb si, 0", 0),
    # LOOPNE writes CX, the CMP before read it
    "cmp_loopne": ("mov cx, 6\nl: cmp cx, 3\nloopne l\nsetz al", 0),
    # one operand twice: TEST/OR keep the operand itself, XOR is zero
    "same_operand": ("test ax, ax\njz .x\ninc bx\n.x: or cl, cl\nsets dl\nxor si, si\n"
                     "setz dh\nand bp, bp\nsetp bl", 0),
    "test_setcc": ("test al, ah\nsetz bl\nsets bh\nsetp cl", 0),
    "test_dec_jcc": ("l: test dh, 1\ndec dh\njnz l\nadc al, 0", 0),
    # a store into the running block: the exit after it carries the ADD's flags
    "smc_after_add": ("mov al, 0x90\nadd al, dl\nmov [cs:.t], al\n.t: nop\nadc bx, 0", 0),
    # plasma13's inner loop shape, short
    "plasma_like": ("push word 0x5000\npop es\nxor di, di\nmov cx, 7\n"
                    "l: mov ax, bx\nadd ax, bp\nmov si, dx\nsub si, bp\nxor ax, si\nshr ax, 1\n"
                    "add al, dl\nstosb\ninc bx\nloop l\nadc ax, 0", 0),
}

EXAMPLES = int(os.environ.get("VGAEMU_CPU_EXAMPLES", "6"))
SETTINGS = dict(deadline=None, derandomize=False, print_blob=True,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def _code(name: str) -> tuple[bytes, int]:
    source, undefined = SNIPPETS[name]
    # the JMP ends the snippet's last block before the HLT: a block holding the HLT would
    # be longer than the budget the comparison runs (the instructions before the HLT), so
    # the CPU would run it in pieces instead of as the one block under test
    return nasm(source + "\njmp short .end\n.end: hlt", org=0x100), undefined


@pytest.mark.parametrize("tb_cache", [True, TIERED], ids=["tb", "tiered"])
@pytest.mark.parametrize("name", sorted(SNIPPETS))
def test_flag_fields_block(name, tb_cache):
    code, undefined = _code(name)

    @settings(max_examples=EXAMPLES, **SETTINGS)
    @given(regs=initial_registers(), seed=st.integers(0, 2**32 - 1))
    def check(regs, seed):
        run_block(code, regs, seed, undefined, tb_cache=tb_cache)

    check()


@pytest.mark.parametrize("name", sorted(SNIPPETS))
def test_flag_fields_budget_slices(name):
    code, _ = _code(name)

    @settings(max_examples=EXAMPLES, **SETTINGS)
    @given(regs=initial_registers(), seed=st.integers(0, 2**32 - 1),
           chunks=st.lists(st.integers(1, 9), min_size=1, max_size=10))
    def check(regs, seed, chunks):
        run_chunks(code, regs, seed, chunks)

    check()


def test_flag_fields_reach_the_generated_code():
    """The snippets above test the expressions only if the translator makes them: a CMP
    of registers before a branch leaves no code of its own."""
    from vgaemu.machine import Machine

    m = Machine()
    m.write(0x7C00, nasm("l: inc bx\ncmp bx, cx\njb l\nhlt"))
    m.cpu.regs[1] = 10
    m.cpu.run(max_instructions=1000)
    sources = [tb.source for tb in m.cpu.tb_cache.tbs.values() if tb.source]
    loop = next(s for s in sources if "while" in s or "for it in" in s)
    assert "fa = " not in loop and "fr = " not in loop, loop
    assert "if (x3 < x1):" in loop, loop
