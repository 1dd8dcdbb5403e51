"""The pc machine's RAMBlocks against QEMU 7.2's ``info ramblock`` for the same command
lines (recorded once with the real QEMU: tests/vgaemu/pc/data/README.md).  For every block
both machines have: the same name, ram_addr offset, used and total length, and the same
order in the listing; vgaemu has no block QEMU lacks."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

DATA = Path(__file__).parent / "data"
CASES = sorted(p.stem.removeprefix("qemu72_ramblock_") for p in DATA.glob("qemu72_ramblock_*.txt"))
#: QEMU names a PCI device's blocks after its slot (qemu_ram_set_idstr with the device path)
PCI_VGA_PREFIX = "0000:00:02.0/"


def table(text: str) -> list[tuple[str, int, int, int]]:
    """(name, offset, used, total) per row of an ``info ramblock`` listing (QEMU's has 5
    columns, ours adds HVA and RO)."""
    out = []
    for line in text.splitlines():
        f = line.split()
        if len(f) < 6 or f[0] == "Block" or line.startswith("#"):
            continue
        name, _psize, _unit, offset, used, total = f[:6]
        out.append((name.removeprefix(PCI_VGA_PREFIX), int(offset, 16), int(used, 16), int(total, 16)))
    return out


def qemu_case(name: str):
    text = (DATA / f"qemu72_ramblock_{name}.txt").read_text()
    cmd = text.splitlines()[0].removeprefix("# ").split()
    args = cmd[cmd.index("std") + 1:]          # what follows "-vga std": -m/-object/-device
    return args, table(text)


@pytest.mark.parametrize("case", CASES)
def test_vgaemu_info_ramblock_agrees_with_qemu(case, tmp_path):
    args, qemu = qemu_case(case)
    args = [a.replace("/tmp/rb/", f"{tmp_path}/") for a in args]
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    r = subprocess.run([sys.executable, "-m", "vgaemu", "info", "ramblock", *args],
                       capture_output=True, text=True, env=env, timeout=300)
    assert r.returncode == 0, r.stderr
    ours = table(r.stdout)
    names = {row[0] for row in ours}
    theirs = [row for row in qemu if row[0] in names]
    assert ours == theirs
    assert {row[0] for row in qemu} >= names


def test_recorded_cases_cover_the_brief():
    """plain, with a pc-dimm, with a memory-backend-file, bigger -m."""
    assert {"plain", "dimm", "file", "big"} <= set(CASES)
    args, qemu = qemu_case("dimm")
    assert [r[:2] for r in qemu if r[0] in ("m1", "pc.ram", "pc.bios", "pc.rom", "vga.vram", "vga.rom")] \
        == [("m1", 0), ("pc.ram", 0x8000000), ("vga.vram", 0xC080000), ("pc.bios", 0xC000000),
            ("pc.rom", 0xC040000), ("vga.rom", 0xD080000)]
