"""vgaemu/roms/programs/keys.img, the keyboard-driven program: played by a --keys script
through the CLI, its screen must equal the golden PNG (checked by eye): the block where the
arrows (gray and keypad, with Shift x4) moved it, the bytes the keyboard sent (E0 prefixes
and break codes), Shift shown held, the RTC's time.  Esc ends it."""

from __future__ import annotations

import io
import shutil
import subprocess
from pathlib import Path

import pytest

from vgaemu.cli import main
from vgaemu.frontends.headless import HeadlessSink
from vgaemu.frontends.imaging import read_png
from vgaemu.machine import Machine
from vgaemu.pc.boot import PC, run_frames
from vgaemu.pc.disk import DiskImage

PROGRAMS = Path(__file__).resolve().parents[3] / "vgaemu" / "roms" / "programs"
IMAGE = PROGRAMS / "keys.img"
#: right twice, down, Shift+right (4 cells), keypad 2, Ctrl+left, Alt+up, and Shift+keypad 8
#: still held when the picture is taken (frame 76, 1.27 s)
SCRIPT = ["0.3s:right", "0.4s:right", "0.5s:down", "0.6s:shift+right", "0.8s:kp2",
          "0.9s:ctrl+left", "1.1s:alt+up", "1.2s:shift+kp8:300ms"]


def test_keys_program_played_by_a_script(tmp_path, assert_screenshot):
    out = tmp_path / "keys.png"
    argv = ["boot", "-fda", str(IMAGE), "--headless", "--frames", "76", "--screenshot", str(out)]
    for spec in SCRIPT:
        argv += ["--keys", spec]
    assert main(argv) == 0
    assert_screenshot(read_png(out), "pc-keys")


def test_keys_program_block_position_and_esc():
    pc = PC(Machine(), floppies=[DiskImage(IMAGE, "floppy", snapshot=True)], output=io.BytesIO(),
            keys=SCRIPT[:-1] + ["1.2s:esc"])
    pc.boot()
    n, why = run_frames(pc, HeadlessSink(), 200)
    assert why == "halted with interrupts disabled" and n < 80
    base = IMAGE.read_bytes()
    x_at = base.index(b"ShfCtlAlt") + 9
    x, y = pc.machine.read(0x7C00 + x_at, 2)
    assert (x, y) == (37 + 1 + 1 + 4 - 1, 11 + 1 + 1 - 1)


def test_keys_image_matches_source(tmp_path):
    if shutil.which("nasm") is None:
        pytest.skip("nasm is not installed")
    out = tmp_path / "keys.img"
    subprocess.run(["nasm", "-f", "bin", "-o", str(out), str(PROGRAMS / "keys.asm")], check=True)
    assert out.read_bytes() == IMAGE.read_bytes(), "keys.img is stale: run 'make roms'"
