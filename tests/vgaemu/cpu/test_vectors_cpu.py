"""Fixed corner-case vectors for the X86CPU.

Two kinds: vectors unicorn can judge run through the differential harness from hand-picked
registers (`diff`), single-step and as one block; vectors about what unicorn does not model
the way a PC does (exceptions through the real-mode IVT, unreal mode, A20, port I/O) check
hand-computed results from the SDM.  Each vector's code is written as bytes with its
assembly beside it (test_vector_listings checks them against NASM when it is installed).
"""

from __future__ import annotations

import pytest

from tests.vgaemu.cpu.cpu_diff import run_block, run_single_step
from tests.vgaemu.cpu.x86_sequences import ARITH, HLT

BASE_REGS = dict(eax=0, ecx=0, edx=0, ebx=0, esp=0x1000, ebp=0, esi=0, edi=0, eflags=0x2)


def diff(code: bytes, seed: int = 1, **regs) -> None:
    """Compare with unicorn after every instruction and after the whole block, TB path and
    decode-every-instruction path."""
    state = dict(BASE_REGS, **regs)
    code = code + HLT
    for tb_cache in (True, False):
        n = run_single_step(code, state, seed, tb_cache=tb_cache)
        assert n >= 1, "the reference stopped before the first instruction"
        assert run_block(code, state, seed, 0, tb_cache=tb_cache), "reference did not finish"


# ---------------------------------------------------------------------------- MUL / IMUL

@pytest.mark.parametrize("al", [0, 1, 0x7F, 0x80, 0xFF])
@pytest.mark.parametrize("rm", [0, 1, 3])
def test_imul8_one_operand(al, rm):
    """F6 /5: AX = AL * r/m8 signed; the sign extension must not bind into the product."""
    diff(bytes([0xF6, 0xE8 | rm]), eax=al, ecx=0x80, ebx=0xFE)      # imul al / cl / bl


@pytest.mark.parametrize("ax", [0, 1, 0x7FFF, 0x8000, 0xFFFF])
def test_imul16_32_one_operand(ax):
    diff(bytes([0xF7, 0xEB]), eax=ax, ebx=0x8001)                   # imul bx
    diff(bytes([0x66, 0xF7, 0xEB]), eax=ax << 16 | ax, ebx=0x80000001)   # imul ebx
