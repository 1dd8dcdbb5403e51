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

from vgaemu.bios import Registers, VGABios  # noqa: E402


def _num(v):
    return int(v, 0) if isinstance(v, str) else int(v)


def _make_machine():
    try:
        return machine_mod.Machine(qemu_compat=True)
    except TypeError:
        return machine_mod.Machine()


def run_trace(ops, machine=None):
    """Play the subset of the oracle's trace format these traces use, BIOS calls included."""
    m = machine or _make_machine()
    bios = getattr(m, "bios", None)
    if not isinstance(bios, VGABios):
        bios = VGABios(m)
    mem, io = m.address_space_memory, m.address_space_io
    for op in ops:
        kind = op["op"]
        if kind == "int10":
            regs = {k: _num(op[k]) for k in ("ax", "bx", "cx", "dx", "si", "di", "bp", "es")
                    if k in op}
            bios.int10(Registers(**regs))
        elif kind == "outb":
            io.stb(_num(op["port"]), _num(op["val"]))
        elif kind == "outw":
            port, val = _num(op["port"]), _num(op["val"])
            io.stb(port, val & 0xFF)
            io.stb(port + 1, val >> 8)
        elif kind == "inb":
            io.ldub(_num(op["port"]))
        elif kind == "writeb":
            mem.stb(_num(op["addr"]), _num(op["val"]))
        elif kind == "writew":
            mem.stw_le(_num(op["addr"]), _num(op["val"]))
        elif kind == "fill":
            unit = _num(op.get("unit", 1))
            val = _num(op["val"]).to_bytes(unit, "little")
            data = val * (_num(op["len"]) // unit)
            addr = _num(op["addr"])
            for i in range(0, len(data), 4096):
                mem.write(addr + i, data[i:i + 4096])
        elif kind == "write":
            mem.write(_num(op["addr"]), bytes.fromhex(op["data"]))
        elif kind in ("comment", "screendump"):
            pass
        else:
            raise AssertionError(f"op {kind!r} not supported by this test player")
    return m


def _read_png(path):
    import pygame
    surf = pygame.image.load(str(path))
    return np.transpose(pygame.surfarray.array3d(surf), (1, 0, 2))


@pytest.mark.parametrize("trace", TRACES, ids=[t.stem for t in TRACES])
def test_bios_screen_matches_qemu(trace, tmp_path):
    golden = HERE / "golden" / f"{trace.stem}.png"
    if not golden.exists():
        pytest.skip("no QEMU golden")
    ops = json.loads(trace.read_text())
    m = run_trace(ops)
    m.vga.update_display()
    got = np.asarray(m.vga.surface)[..., :3]
    want = _read_png(golden)
    if got.shape != want.shape:
        pytest.fail(f"{trace.stem}: size {got.shape[1]}x{got.shape[0]}, "
                    f"QEMU {want.shape[1]}x{want.shape[0]}")
    diff = np.any(got != want, axis=2)
    if diff.any():
        m.vga.screendump(str(tmp_path / f"{trace.stem}.actual.png"))
        ys, xs = np.nonzero(diff)
        pytest.fail(f"{trace.stem}: {int(diff.sum())} pixels differ from QEMU, first at "
                    f"({xs[0]},{ys[0]}): got {got[ys[0], xs[0]]} want {want[ys[0], xs[0]]}")
