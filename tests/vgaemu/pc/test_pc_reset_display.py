"""A system reset of a booted PC shows the rebooted program: SeaBIOS's POST runs the VGA
BIOS's init again, so the mode 3 set after it programs the colour CRTC the display reads."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np

from vgaemu.machine import Machine
from vgaemu.pc.boot import PC, run_frames
from vgaemu.pc.disk import DiskImage

KEYS = Path(__file__).resolve().parents[3] / "vgaemu" / "roms" / "programs" / "keys.img"


class _Sink:
    def frame(self, machine, info):
        pass

    def keys(self):
        return []


def _booted(keys=()):
    pc = PC(Machine(), floppies=[DiskImage(KEYS, "floppy", snapshot=True)],
            output=io.BytesIO(), keys=list(keys))
    pc.boot()
    return pc


def test_reset_shows_the_rebooted_screen():
    pc = _booted(["0.05s:right"])
    run_frames(pc, _Sink(), 30)
    moved = pc.machine.vga.surface.copy()
    pc.system_reset()
    run_frames(pc, _Sink(), 30)
    assert pc.machine.last_update.mode.startswith("text 80x25")
    assert pc.machine.vga.state.cr[:8] == _booted().machine.vga.state.cr[:8]
    fresh = _booted()
    run_frames(fresh, _Sink(), 30)
    after = pc.machine.vga.surface
    # the playfield and the scancode log (rows 1..24): as a fresh boot's, no longer as before
    assert np.array_equal(after[16:], fresh.machine.vga.surface[16:])
    assert not np.array_equal(after[16:], moved[16:])
