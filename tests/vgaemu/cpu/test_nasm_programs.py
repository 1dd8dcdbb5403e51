"""Assembled programs that draw: tests/cpu/*.asm (NASM sources, binaries committed).

Each program is loaded where a BIOS puts a boot sector (0000:7C00), runs on the machine's
CPU -- INT 10h through the real-mode IVT into the machine's VGA BIOS, port I/O to the VGA,
stores through the legacy window, text-mode cells and (VBE) the linear framebuffer from
unreal mode -- until it halts; the first frame after that must equal its golden PNG
(checked by eye when created), and the decode-every-instruction path must draw the same.
"""

from __future__ import annotations

import functools
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from vgaemu.machine import Machine

PROGRAMS = Path(__file__).resolve().parents[2] / "cpu"
LOAD_ADDR = 0x7C00
#: Far more than any of the programs needs: a runaway program fails instead of hanging.
MAX_INSTRUCTIONS = 20_000_000

NAMES = ["mode13", "mode12", "vbe", "text"]


def run_program(name: str, *, tb_cache: bool = True) -> Machine:
    machine = Machine(tb_cache=tb_cache)
    machine.write(LOAD_ADDR, (PROGRAMS / f"{name}.bin").read_bytes())
    cpu = machine.cpu
    executed = cpu.run(max_instructions=MAX_INSTRUCTIONS)
    assert cpu.halted, f"{name} did not reach its HLT in {executed} instructions ({cpu!r})"
    machine.vga.display.update_display()
    return machine


@functools.lru_cache(maxsize=None)
def picture(name: str, tb_cache: bool = True) -> np.ndarray:
    pic = np.ascontiguousarray(run_program(name, tb_cache=tb_cache).vga.display.surface)
    pic.flags.writeable = False
    return pic


@pytest.mark.parametrize("name", NAMES)
def test_program_screenshot(name, assert_screenshot):
    assert_screenshot(picture(name), f"cpu-{name}")


def test_program_same_without_tb_cache():
    """The decode-every-instruction path draws the same picture (mode 12h: the program with
    the fewest instructions, ~50 000; mode 13h's half million take half a minute there)."""
    assert np.array_equal(picture("mode12", tb_cache=False), picture("mode12"))


@pytest.mark.skipif(shutil.which("nasm") is None, reason="NASM is not installed")
@pytest.mark.parametrize("name", NAMES)
def test_committed_binary_matches_source(name, tmp_path):
    out = tmp_path / f"{name}.bin"
    subprocess.run(["nasm", "-f", "bin", "-o", str(out), str(PROGRAMS / f"{name}.asm")],
                   check=True, timeout=60)
    assert out.read_bytes() == (PROGRAMS / f"{name}.bin").read_bytes(), \
        f"tests/cpu/{name}.bin is stale: rebuild it with nasm -f bin -o {name}.bin {name}.asm"
