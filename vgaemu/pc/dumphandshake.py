"""Screendumps a guest asks for over the debug console -- the handshake of the QEMU oracle's
boot images (``../shared/oracle``): the guest writes ``'S'`` to port 0xE9 and waits in
``HLT``; the host redraws the display and takes a screendump, then sends QMP
``inject-nmi``; the guest's NMI handler sets a flag and the guest goes on.

Here the host is the platform's own loop: the ``'S'`` byte files a request that runs at the
next slice boundary (the CPU is between instructions, usually in that ``HLT``), so the
picture is the VGA state right after the guest's ``OUT`` -- the state QEMU's screendump
sees, since the guest does nothing to the VGA while it waits.  ``vgaemu boot
--screenshot-on-debugcon OUT.png`` writes ``OUT-1.png``, ``OUT-2.png`` ... (the oracle's
default names for intermediate dumps).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Callable

SNAPSHOT_BYTE = ord("S")


class DebugconScreendumps:
    """Answer every ``'S'`` the guest writes to the debug console of ``platform`` with a
    screendump -- ``on_dump(n, machine)`` with n = 1, 2, ... right after the display was
    redrawn -- and an NMI."""

    def __init__(self, platform, on_dump: Callable[[int, object], None]) -> None:
        self.platform = platform
        self.on_dump = on_dump
        #: screendumps taken so far
        self.count = 0
        platform.debugcon.observers.append(self._byte)

    def _byte(self, b: int) -> None:
        if b == SNAPSHOT_BYTE:
            self.platform.request(self._dump)

    def _dump(self) -> None:
        machine = self.platform.machine
        machine.last_update = machine.vga.update_display()
        self.count += 1
        self.on_dump(self.count, machine)
        self.platform.inject_nmi()


def png_writer(screenshot: str | os.PathLike) -> Callable[[int, object], None]:
    """An ``on_dump`` writing dump n as ``OUT-<n>.png`` next to ``screenshot`` (OUT.png),
    as the oracle names the intermediate dumps of a trace whose ops give no names."""
    base = Path(screenshot)

    def write(n: int, machine) -> None:
        machine.vga.screendump(base.with_name(f"{base.stem}-{n}{base.suffix or '.png'}"))

    return write
