"""Boot images and .COM programs in the front ends other than the window: --gif/--apng on
``vgaemu boot`` and ``vgaemu run X.com``, the redraw-cost profiler with the CPU's per-frame
counters (``vgaemu profile X.img --table``, ``profile(PCProgram(...))``), and PCProgram, the
repeatable run they share."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import numpy as np
import pytest

from vgaemu.cli import main
from vgaemu.errors import ConfigError
from vgaemu.frontends.headless import HeadlessSink
from vgaemu.frontends.profile import profile
from vgaemu.pc.program import PCProgram, is_program_path

from .asm import nasm

PROGRAMS = Path(__file__).resolve().parents[3] / "vgaemu" / "roms" / "programs"

# A .COM program: mode 13h, one more band of colour on every BIOS tick (INT 1Ah), 6 bands.
BANDS = """
    mov ax, 0x13
    int 10h
    push 0xa000
    pop es
    xor di, di
    mov bl, 1
next:
    xor ah, ah
    int 1ah
    mov si, dx
tick:
    hlt                         ; until the next interrupt, then look at the tick count
    xor ah, ah
    int 1ah
    cmp dx, si
    je tick
    mov al, bl
    mov cx, 320 * 20
    rep stosb
    inc bl
    cmp bl, 7
    jb next
    mov ax, 0x4c00
    int 21h
"""


@pytest.fixture
def bands(tmp_path):
    p = tmp_path / "bands.com"
    p.write_bytes(nasm(BANDS, org=0x100))
    return p


def test_boot_gif_has_the_frames_that_changed(tmp_path, capsys):
    from PIL import Image

    gif = tmp_path / "plasma.gif"
    rc = main(["boot", "-fda", str(PROGRAMS / "plasma13.img"), "--headless", "--frames", "200",
               "--gif", str(gif)])
    assert rc == 0
    out = capsys.readouterr().out
    assert "halted with interrupts disabled" in out and "gif of" in out
    with Image.open(gif) as im:
        assert im.size == (640, 400)
        n = im.n_frames
        total = 0
        for i in range(n):
            im.seek(i)
            total += im.info["duration"]
    # the mode-3 banner, then 40 redraws paced by the program's own 60 Hz timer
    assert n >= 20
    assert abs(total / 1000 - 41 / 60) < 0.05


def test_run_com_apng_and_scale(tmp_path, bands, capsys):
    from PIL import Image

    apng = tmp_path / "bands.png"
    rc = main(["run", str(bands), "--headless", "--frames", "300", "--apng", str(apng), "--scale", "2"])
    assert rc == 0
    with Image.open(apng) as im:
        assert im.size == (1280, 800)    # mode 13h shows as 640x400 (as QEMU's), scaled 2x
        assert im.n_frames >= 6          # mode set, then one frame per band
        im.seek(im.n_frames - 1)
        last = np.asarray(im.convert("RGB"))
    bands = last[:480].reshape(6, 80, 1280, 3)      # 20 lines each, double-scanned, scaled
    assert (bands.std(axis=(1, 2)) == 0).all()       # six flat bands
    assert len({tuple(b[0, 0]) for b in bands}) == 6


@pytest.mark.parametrize("cmd", [["boot", "-fda", str(PROGRAMS / "keys.img")], ["run", "text"]])
def test_headless_fps_paces_boot_and_run(cmd, monkeypatch, capsys):
    """--fps with --headless runs in host real time (a QMP-driven guest); without it, unpaced."""
    import vgaemu.frontends.headless as headless

    from tests.helpers import FakeHostClock

    clock = FakeHostClock()
    monkeypatch.setattr(headless, "time", clock)
    assert main([*cmd, "--headless", "--frames", "6", "--fps", "30"]) == 0
    # the fake host clock stands still while a frame runs: each frame after the first sleeps
    # its whole 30th of a second
    assert clock.slept == pytest.approx([1 / 30] * 5)
    clock.slept.clear()
    assert main([*cmd, "--headless", "--frames", "6"]) == 0
    assert clock.slept == []
    capsys.readouterr()


def test_boot_gif_bad_name_fails_before_the_run(tmp_path, capsys):
    rc = main(["boot", "-fda", str(PROGRAMS / "hello.img"), "--headless", "--gif", str(tmp_path / "x.png")])
    assert rc != 0
    assert "expected a file name ending in .gif" in capsys.readouterr().err


def test_profile_boot_image_table_and_csv(tmp_path, capsys):
    out_csv = tmp_path / "p.csv"
    rc = main(["profile", str(PROGRAMS / "smc.img"), "--frames", "5", "--repeat", "1", "--table",
               "--csv", str(out_csv)])
    assert rc == 0
    out = capsys.readouterr().out
    assert "CPU (tracked run): 4578 instructions" in out
    head = next(line for line in out.splitlines() if line.lstrip().startswith("frame"))
    for col in ("insns", "TBs new", "TBs run", "TBs inv", "SMC"):
        assert col in head
    rows = list(csv.DictReader(io.StringIO(out_csv.read_text())))
    tracked = [r for r in rows if r["run"] == "tracked"]
    assert len(tracked) == 1                        # it halts in its first frame
    r = tracked[0]
    assert int(r["instructions"]) == 4578
    assert int(r["smc_events"]) >= 4 and int(r["tbs_executed"]) >= int(r["tbs_translated"]) > 0


def test_profile_program_from_python_tracked_and_full_run_the_same_guest():
    report = profile(PCProgram(PROGRAMS / "plasma13.img"), frames=12, repeat=1, progress=False)
    tr, fu = report.tracked.frames, report.full.frames
    assert len(tr) == len(fu) == 12
    # the same instructions frame by frame: only the display differs between the two kinds
    assert [f.instructions for f in tr] == [f.instructions for f in fu]
    assert all(f.lines_redrawn == f.height for f in fu)
    assert sum(f.lines_redrawn for f in tr) < sum(f.lines_redrawn for f in fu)
    assert tr[0].tbs_translated > 0 and sum(f.tbs_executed for f in tr) > 0
    assert all(f.update_seconds > 0 for f in tr)
    assert "CPU (tracked run)" in report.summary()


def test_profile_keys_are_for_programs(capsys):
    rc = main(["profile", "plasma", "--keys", "1s:a"])
    assert rc != 0
    assert "--keys, --ips and --args are for boot images" in capsys.readouterr().err


def test_program_runs_repeat_bit_for_bit(bands):
    a, b = HeadlessSink(), HeadlessSink()
    ra = PCProgram(bands).run(a, 300)
    rb = PCProgram(bands).run(b, 300)
    assert ra.stopped == rb.stopped == "program exited with code 0"
    assert ra.frames == rb.frames and np.array_equal(a.last_surface, b.last_surface)


def test_program_drive_choice(tmp_path):
    small = tmp_path / "f.img"
    small.write_bytes(bytes(1440 * 1024))
    big = tmp_path / "h.img"
    big.write_bytes(bytes(4 << 20))
    assert PCProgram(small).interface() == "floppy"
    assert PCProgram(big).interface() == "hd"
    assert PCProgram(small, drive="hd").interface() == "hd"


@pytest.mark.parametrize("kwargs, message", [
    (dict(path="missing.img"), "no such program or disk image"),
    (dict(drive="tape"), "expected 'auto', 'floppy' or 'hd'"),
    (dict(args="/x"), "command tail"),
    (dict(keys="1s:a"), "a list of key specs"),
])
def test_program_bad_options(kwargs, message):
    kwargs.setdefault("path", PROGRAMS / "hello.img")
    with pytest.raises(ConfigError, match=message):
        PCProgram(**kwargs)


def test_is_program_path():
    assert is_program_path("x.IMG") and is_program_path(Path("a/b.com"))
    assert not is_program_path("plasma") and not is_program_path("guest.py")
    assert not is_program_path(lambda g: None)
