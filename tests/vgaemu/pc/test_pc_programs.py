"""The programs in vgaemu/roms/programs/, booted as floppies until they halt with
interrupts off: their final picture must equal the golden PNG (checked by eye when
created) and, where the picture does not depend on guest speed, real QEMU's screendump
of the same image (tests/golden/qemu/programs/, recorded by qemu_programs.py); the
committed images must be what their NASM sources build."""

from __future__ import annotations

import functools
import io
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from vgaemu.frontends.headless import HeadlessSink
from vgaemu.machine import Machine
from vgaemu.pc.boot import PC, run_frames
from vgaemu.pc.disk import DiskImage

ROOT = Path(__file__).resolve().parents[3]
PROGRAMS = ROOT / "vgaemu" / "roms" / "programs"
QEMU_SCREENS = ROOT / "tests" / "golden" / "qemu" / "programs"
#: (program, frames it needs at most, virtual time it must stop at, roughly)
CASES = [("hello", 5, None), ("plasma13", 120, 40 / 60), ("planar12", 10, None),
         ("smc", 5, None), ("dmacode", 5, None), ("vbelfb", 60, None)]


def boot(name: str, tmp_path) -> tuple[PC, HeadlessSink, int]:
    """The program run to its end (once per test session: several tests look at one run)."""
    pc, sink, n, why = _boot(name)
    assert why == "halted with interrupts disabled", f"{name}: {why}"
    return pc, sink, n


@functools.lru_cache(maxsize=None)
def _boot(name: str):
    pc = PC(Machine(), floppies=[DiskImage(PROGRAMS / f"{name}.img", "floppy", snapshot=True)],
            output=io.BytesIO())
    pc.boot()
    sink = HeadlessSink()
    n, why = run_frames(pc, sink, dict((c[0], c[1]) for c in CASES)[name])
    sink.last_surface = sink.last_surface.copy()
    return pc, sink, n, why


@pytest.mark.parametrize("name, frames, stop_s", CASES)
def test_program_final_screen(name, frames, stop_s, tmp_path, assert_screenshot):
    pc, sink, n = boot(name, tmp_path)
    assert_screenshot(np.ascontiguousarray(sink.last_surface), f"pc-{name}")
    if stop_s is not None:
        # paced by its own 60 Hz PIT ticks: it stops at the first look at its tick count
        # after 40 of them, whatever it drew; it looks after each redraw (1.41 M
        # instructions, 141 ms at 10 M/s) and the tick that ends the HLT after it
        t = pc.machine.clock.now_ns / 1e9
        assert stop_s <= t < stop_s + 0.141 + 1 / 60 + 0.001, t


@pytest.mark.parametrize("name", sorted(p.stem for p in QEMU_SCREENS.glob("*.png")))
def test_program_final_screen_is_qemus(name, tmp_path):
    from vgaemu.golden import compare_with_golden

    pc, sink, n = boot(name, tmp_path)
    result = compare_with_golden(np.ascontiguousarray(sink.last_surface), QEMU_SCREENS / f"{name}.png",
                                 actual_dir=tmp_path, update=False)
    assert result.matches, result.message(f"{name} against QEMU 7.2")


def test_smc_program_rewrites_translated_code(tmp_path):
    """Its stores hit code that was already translated (the same block as the store, in
    three of the four cases): the CPU must have seen SMC and thrown the stale TBs away."""
    pc, sink, n = boot("smc", tmp_path)
    c = pc.machine.cpu.counters.total
    assert c.smc_events >= 4 and c.tbs_invalidated >= 4, c


def test_dmacode_program_device_writes_drop_translated_code(tmp_path):
    """The engine's two copies land on code already translated: both must have invalidated
    TBs (the CPU itself never stores there), and the engine really moved the bytes."""
    pc, sink, n = boot("dmacode", tmp_path)
    c = pc.machine.cpu.counters.total
    assert c.smc_events >= 2 and c.tbs_invalidated >= 2, c
    assert pc.machine.dma.last.bytes == 5 and pc.machine.dma.last.error == 0


@pytest.mark.parametrize("name", [c[0] for c in CASES])
def test_committed_image_matches_source(name, tmp_path):
    if shutil.which("nasm") is None:
        pytest.skip("nasm is not installed")
    out = tmp_path / f"{name}.img"
    subprocess.run(["nasm", "-f", "bin", "-o", str(out), str(PROGRAMS / f"{name}.asm")], check=True)
    assert out.read_bytes() == (PROGRAMS / f"{name}.img").read_bytes(), \
        f"{name}.img is stale: run 'make roms'"
