"""The BIOS on the real machine, screen for screen against QEMU's (SeaVGABIOS 1.16.2).

Each trace in tests/bios/traces/ sets a mode through INT 10h and uses BIOS services; the
golden PNG next to it is real QEMU's screendump of the same trace (make_bios_traces.py
--goldens). Here the trace runs on ``vgaemu.Machine`` with ``VGABios`` and every pixel must
match. Differences QEMU shows that are the VGA's business, not the BIOS's, are handled by
running the machine in ``qemu_compat`` mode.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

HERE = Path(__file__).resolve().parent
TRACES = sorted((HERE / "traces").glob("*.json"))

machine_mod = pytest.importorskip("vgaemu.machine")

from bios_trace_player import play, read_png  # noqa: E402


def _make_machine():
    try:
        return machine_mod.Machine(qemu_compat=True)
    except TypeError:
        return machine_mod.Machine()


#: Traces that fail because of the VGA model, not the BIOS (they pass on the reference VGA in
#: test_bios_refvga.py); xfail until the VGA is fixed, then they pass and report XPASS.
VGA_MODEL_ISSUES: dict[str, str] = {}


@pytest.mark.parametrize("trace", [pytest.param(t, marks=pytest.mark.xfail(
    reason=VGA_MODEL_ISSUES[t.stem], strict=False)) if t.stem in VGA_MODEL_ISSUES else t
    for t in TRACES], ids=[t.stem for t in TRACES])
def test_bios_screen_matches_qemu(trace, tmp_path):
    golden = HERE / "golden" / f"{trace.stem}.png"
    if not golden.exists():
        pytest.skip("no QEMU golden")
    ops = json.loads(trace.read_text())
    m = _make_machine()
    play(ops, m)
    m.vga.update_display()
    got = np.asarray(m.vga.surface)[..., :3]
    want = read_png(golden)
    if got.shape != want.shape:
        pytest.fail(f"{trace.stem}: size {got.shape[1]}x{got.shape[0]}, "
                    f"QEMU {want.shape[1]}x{want.shape[0]}")
    diff = np.any(got != want, axis=2)
    if diff.any():
        m.vga.screendump(str(tmp_path / f"{trace.stem}.actual.png"))
        ys, xs = np.nonzero(diff)
        pytest.fail(f"{trace.stem}: {int(diff.sum())} pixels differ from QEMU, first at "
                    f"({xs[0]},{ys[0]}): got {got[ys[0], xs[0]]} want {want[ys[0], xs[0]]}")
