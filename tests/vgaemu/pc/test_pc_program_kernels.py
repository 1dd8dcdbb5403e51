"""The kernels benchmarks/bench_boot.py times -- a plasma13 redraw, vbelfb's gradient through
the LFB from unreal mode, smc's loop rewriting its own ADD -- run from the programs' own
bytes on vgaemu's CPU and on unicorn: both must leave the same registers and the same
picture / code bytes (so the benchmark compares equal work, and the CPU agrees with QEMU's
TCG on real program code)."""

from __future__ import annotations

import importlib.util
import shutil
import sys
from pathlib import Path

import numpy as np
import pytest

BENCH = Path(__file__).resolve().parents[3] / "benchmarks" / "bench_boot.py"

if shutil.which("nasm") is None:
    pytest.skip("nasm is not installed (the kernels' labels come from its symbol map)",
                allow_module_level=True)
pytest.importorskip("unicorn")

_spec = importlib.util.spec_from_file_location("bench_boot", BENCH)
bench = importlib.util.module_from_spec(_spec)
sys.modules["bench_boot"] = bench      # its dataclasses look their module up
_spec.loader.exec_module(bench)

from unicorn import x86_const as X  # noqa: E402

REGS = {"eax": X.UC_X86_REG_EAX, "ebx": X.UC_X86_REG_EBX, "ecx": X.UC_X86_REG_ECX,
        "edx": X.UC_X86_REG_EDX, "esi": X.UC_X86_REG_ESI, "edi": X.UC_X86_REG_EDI,
        "ebp": X.UC_X86_REG_EBP, "esp": X.UC_X86_REG_ESP}
#: what each kernel writes: (address, length)
WRITTEN = {"plasma13": (0xA0000, 320 * 200), "vbelfb": (bench.LFB, 640 * 480 * 4),
           "smc": (0x7C00, 2048)}


@pytest.mark.parametrize("name", sorted(bench.KERNELS))
def test_kernel_agrees_with_unicorn(name):
    k = bench.KERNELS[name]
    syms = bench.symbols(k.program)
    _, n, m = bench.kernel_vgaemu(k, syms, turns=1)
    _, uc = bench.kernel_unicorn(k, syms, turns=1)
    assert n >= 300
    ours = {r: getattr(m.cpu, r) for r in REGS}
    theirs = {r: uc.reg_read(v) for r, v in REGS.items()}
    assert ours == theirs
    addr, length = WRITTEN[name]
    got = np.frombuffer(m.read(addr, length), np.uint8)
    want = np.frombuffer(bytes(uc.mem_read(addr, length)), np.uint8)
    if name == "smc":       # vgaemu stopped on the HLT the benchmark puts at the end label
        assert m.cpu.eip == syms[k.end] + 1
    assert np.count_nonzero(got != want) == 0
    assert got.any()
