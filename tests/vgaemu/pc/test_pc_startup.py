"""A booted program's fixed start-up costs stay cut (issue 14 section 5): what a headless
``vgaemu boot`` imports, the I/O map rendered once per batch of devices, and the RTC base
parsed without strptime -- each with the behaviour it must keep."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from guestmem import AddressSpace
from vgaemu.errors import ConfigError
from vgaemu.machine import Machine
from vgaemu.pc.boot import PC
from vgaemu.pc.rtc import parse_rtc_base

ROOT = Path(__file__).resolve().parents[3]
HELLO = ROOT / "vgaemu" / "roms" / "programs" / "hello.img"

#: Modules a headless boot without screenshots has no use for, and what pulls each in.
UNNEEDED = {"pygame": "PNG writing", "vgaemu.trace": "trace replay",
            "vgaemu.migration.transport": "migration sockets",
            "_strptime": "RTC base parsing",
            "numpy.ma": "np.unique's plain form (the display's first frame)"}

_PROBE = r'''
import json, sys
from vgaemu.cli import main
status = main(sys.argv[1:])
print(json.dumps([status, sorted(sys.modules)]))
'''


def _boot_modules(*args: str) -> tuple[int, set]:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "SDL_VIDEODRIVER": "dummy"}
    out = subprocess.run([sys.executable, "-c", _PROBE, "boot", "-fda", str(HELLO),
                          "--headless", "--frames", "1", *args], env=env, cwd=ROOT,
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    status, modules = json.loads(out.stdout.strip().splitlines()[-1])
    return status, set(modules)


def test_headless_boot_imports_only_what_it_uses():
    status, modules = _boot_modules()
    assert status == 0
    assert "vgaemu.pc.boot" in modules   # the probe did boot
    loaded = {m: why for m, why in UNNEEDED.items() if m in modules}
    assert not loaded, f"a headless boot imported {loaded}"


def test_headless_screenshot_still_writes_the_png(tmp_path):
    shot = tmp_path / "hello.png"
    status, modules = _boot_modules("--screenshot", str(shot))
    assert status == 0 and "pygame" in modules
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_a_pc_renders_its_io_map_once_per_batch_of_devices(monkeypatch):
    """Machine() and PC() add about fifteen regions to the I/O space; they are added in
    transactions, so the FlatView is rendered for the address spaces' creation and once
    per batch, not once per device -- and every device answers afterwards."""
    renders = []
    original = AddressSpace._update_topology

    def counting(self, views, **kw):
        renders.append(self.name)
        return original(self, views, **kw)

    monkeypatch.setattr(AddressSpace, "_update_topology", counting)
    m = Machine()
    pc = PC(m, output=io.BytesIO())
    assert renders.count("I/O") <= 3 and renders.count("memory") <= 2, renders
    names = {fr.mr.name for fr in m.address_space_io.current_map()}
    for device in ("port92", "i8042-data", "i8042-cmd", "rtc"):
        assert device in names
    assert m.inb(0x21) == pc.platform.pic.master.imr   # the PIC answers at its port
    m.outb(0x70, 0x0F)
    assert m.inb(0x71) == m.rtc.cmos[0x0F]


@settings(max_examples=200, deadline=None)
@given(st.datetimes(min_value=datetime(1900, 1, 1), max_value=datetime(9999, 12, 31, 23, 59, 59)))
def test_rtc_base_full_width_matches_strptime(dt):
    dt = dt.replace(microsecond=0)
    text = f"{dt.year:04d}-{dt.month:02d}-{dt.day:02d}T{dt.hour:02d}:{dt.minute:02d}:{dt.second:02d}"
    assert parse_rtc_base(text) == (datetime.strptime(text, "%Y-%m-%dT%H:%M:%S"), text)


def test_rtc_base_other_forms_and_errors_unchanged():
    assert parse_rtc_base("2020-1-2T3:4:5")[0] == datetime(2020, 1, 2, 3, 4, 5)
    assert parse_rtc_base(" 2021-12-31T23:59:59 ")[0] == datetime(2021, 12, 31, 23, 59, 59)
    for bad in ("2020-02-30T00:00:00", "2020-01-01T24:00:00", "2020-01-01T23:59:60",
                "0999-01-01T00:00:00", "2020-01-01T00:00:00Z"):
        with pytest.raises(ConfigError):
            parse_rtc_base(bad)
