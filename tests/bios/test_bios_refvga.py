"""The BIOS traces on the compact reference VGA (bios_refvga), against QEMU's goldens.

This checks the BIOS (what it writes to ports and video memory) independently of the VGA
model under development; test_bios_qemu.py runs the same traces on the real machine.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from bios_refvga import RefMachine
from bios_trace_player import play, read_png

HERE = Path(__file__).resolve().parent
TRACES = sorted((HERE / "traces").glob("*.json"))


@pytest.mark.parametrize("trace", TRACES, ids=[t.stem for t in TRACES])
def test_refvga_matches_qemu(trace):
    golden = HERE / "golden" / f"{trace.stem}.png"
    m = RefMachine()
    play(json.loads(trace.read_text()), m)
    got = m.vga.render()
    want = read_png(golden)
    assert got.shape == want.shape, f"size {got.shape} vs QEMU {want.shape}"
    diff = np.any(got != want, axis=2)
    if diff.any():
        ys, xs = np.nonzero(diff)
        pytest.fail(f"{int(diff.sum())} pixels differ, first at ({xs[0]},{ys[0]}): "
                    f"got {got[ys[0], xs[0]]} want {want[ys[0], xs[0]]}")
