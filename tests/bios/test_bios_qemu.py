"""The BIOS on the real machine, screen for screen against QEMU's (SeaVGABIOS 1.16.2).

Each trace in tests/bios/traces/ sets a mode through INT 10h and uses BIOS services; the
golden PNG next to it is real QEMU's screendump of the same trace (make_bios_traces.py
--goldens). Here ``vgaemu.replay`` runs the trace on a fresh ``vgaemu.Machine`` (booted as the
oracle's guest is: VGA POST, SeaBIOS's text screen) and every pixel must match. Differences
QEMU shows that are the VGA's business, not the BIOS's, are handled by running the machine in
``qemu_compat`` mode.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from vgaemu.frontends.imaging import read_png
from vgaemu.trace import replay

HERE = Path(__file__).resolve().parent
TRACES = sorted((HERE / "traces").glob("*.json"))


@pytest.mark.parametrize("trace", TRACES, ids=[t.stem for t in TRACES])
def test_bios_screen_matches_qemu(trace, tmp_path):
    golden = HERE / "golden" / f"{trace.stem}.png"
    if not golden.exists():
        pytest.skip("no QEMU golden")
    result = replay(trace, qemu_compat=True)
    got, want = result.image, read_png(golden)
    if got.shape != want.shape:
        pytest.fail(f"{trace.stem}: size {got.shape[1]}x{got.shape[0]}, "
                    f"QEMU {want.shape[1]}x{want.shape[0]}")
    diff = np.any(got != want, axis=2)
    if diff.any():
        result.machine.vga.screendump(str(tmp_path / f"{trace.stem}.actual.png"))
        ys, xs = np.nonzero(diff)
        pytest.fail(f"{trace.stem}: {int(diff.sum())} pixels differ from QEMU, first at "
                    f"({xs[0]},{ys[0]}): got {got[ys[0], xs[0]]} want {want[ys[0], xs[0]]}")
