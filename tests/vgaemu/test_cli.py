"""The CLI as a new user types it: subprocesses, real files, one-line errors, exit codes."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from tests.helpers import requires_qemu

from vgaemu import __version__
from vgaemu.frontends.imaging import read_png

REPO = Path(__file__).resolve().parents[2]


def vgaemu(*args, cwd=None, env=None):
    base = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY", "SDL_VIDEODRIVER")}
    # This tree's vgaemu, not whichever one the interpreter has installed (started from a
    # temporary directory, -m would find an editable install of another checkout).
    base["PYTHONPATH"] = os.pathsep.join([str(REPO), base.get("PYTHONPATH", "")])
    base.update(env or {})
    return subprocess.run([sys.executable, "-m", "vgaemu", *args], capture_output=True, text=True,
                          cwd=cwd, env=base, timeout=300)


def assert_one_line_error(r, *fragments):
    assert r.returncode != 0
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1, r.stderr
    assert "Traceback" not in r.stderr
    for f in fragments:
        assert f in lines[0], lines[0]


def test_version_from_module():
    out = subprocess.run([sys.executable, "-m", "vgaemu", "--version"], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == f"vgaemu {__version__}"


def test_help_lists_the_subcommands():
    r = vgaemu("--help")
    assert r.returncode == 0
    for cmd in ("run", "replay", "compare", "profile", "info", "demo"):
        assert cmd in r.stdout


def test_run_headless_writes_screenshots(tmp_path):
    r = vgaemu("run", "palette_cycle", "--headless", "--frames", "3", "--screenshot", "shot.png",
               "--screenshot-every", "1", "every", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert f"screenshot written to {tmp_path / 'shot.png'}" in r.stdout
    assert read_png(tmp_path / "shot.png").shape == (400, 640, 3)
    assert len(list((tmp_path / "every").glob("frame-*.png"))) == 3


def test_run_a_script_file_with_machine_options(tmp_path):
    (tmp_path / "g.py").write_text(
        "def main(guest):\n"
        "    guest.machine.memory.plug('pc-dimm,id=d1,memdev=m1')\n"
        "    guest.set_mode(0x13)\n"
        "    guest.fill(0xA0000, 320 * 200, 4)\n")
    r = vgaemu("run", "g.py", "--headless", "--screenshot", "g.png", "-m", "32M,slots=1,maxmem=1G",
               "-object", "memory-backend-ram,id=m1,size=64M", "--vram", "8M", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    img = read_png(tmp_path / "g.png")
    assert (img == [168, 0, 0]).all()


@pytest.mark.parametrize("args,fragments", [
    (["run", "nosuch.py", "--headless"], ["guest script not found: nosuch.py"]),
    (["run", "plasma", "--headless", "-m", "64X"], ["-m 64X"]),
    (["run", "plasma", "--headless", "--frames", "0"], ["--frames", "positive"]),
    (["run", "plasma", "--bogus"], ["unrecognized arguments: --bogus"]),
    (["run", "plasma"], ["no display", "--headless"]),
    (["info", "-device", "pc-dimm,id=d1,memdev=nope"], ["memdev 'nope' not found"]),
    (["replay", "missing.json"], ["trace not found: missing.json"]),
    (["profile", "plasma", "--frames", "0"], ["--frames", "positive"]),
    (["frobnicate"], ["invalid choice: 'frobnicate'"]),
])
def test_errors_are_one_clear_line(tmp_path, args, fragments):
    assert_one_line_error(vgaemu(*args, cwd=tmp_path), *fragments)


def test_a_mistyped_option_is_the_subcommands_error(tmp_path):
    """An option the subcommand does not know is reported in its name and points at its own
    --help (not the top-level parser's), with the option a typo most likely meant."""
    r = vgaemu("run", "plasma", "--hedless", cwd=tmp_path)
    assert r.returncode == 2
    assert_one_line_error(r, "vgaemu run: error: unrecognized arguments: --hedless",
                          "did you mean --headless?", "(see 'vgaemu run --help')")
    assert_one_line_error(vgaemu("boot", "x.img", "--frame", "3", cwd=tmp_path),
                          "vgaemu boot: error:", "did you mean --frames?", "'vgaemu boot --help'")
    r = vgaemu("info", "mtree", "--nothing-like-it", cwd=tmp_path)
    assert_one_line_error(r, "vgaemu info: error: unrecognized arguments: --nothing-like-it (see")
    assert "did you mean" not in r.stderr
    assert_one_line_error(vgaemu("--bogus", cwd=tmp_path), "vgaemu: error:", "'vgaemu --help'")
    assert not list(tmp_path.iterdir())


def test_script_exception_names_file_and_line(tmp_path):
    (tmp_path / "bad.py").write_text("def main(guest):\n    guest.set_mode(0x13)\n    1 / 0\n")
    assert_one_line_error(vgaemu("run", "bad.py", "--headless", cwd=tmp_path),
                          "bad.py:3: ZeroDivisionError")
    (tmp_path / "syntax.py").write_text("def main(guest)\n    pass\n")
    assert_one_line_error(vgaemu("run", "syntax.py", "--headless", cwd=tmp_path), "syntax.py:1: syntax error")


def test_bad_trace_line_is_named(tmp_path):
    (tmp_path / "t.json").write_text(json.dumps([{"op": "int10", "ax": "0x13"},
                                                 {"op": "outb", "port": "0x3C8"}]))
    assert_one_line_error(vgaemu("replay", "t.json", cwd=tmp_path), "op #1 (outb)", "missing \"val\"")


def test_replay_writes_screenshot(tmp_path):
    (tmp_path / "t.json").write_text(json.dumps([{"op": "int10", "ax": "0x13"},
                                                 {"op": "fill", "addr": "0xA0000", "len": 64000, "val": 1}]))
    r = vgaemu("replay", "t.json", "--screenshot", "o.png", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert (read_png(tmp_path / "o.png") == [0, 0, 168]).all()


def test_info_shows_mtree_ramblock_and_memory_devices():
    r = vgaemu("info", "-m", "64M,slots=2,maxmem=1G", "-object", "memory-backend-ram,id=m1,size=128M",
               "-device", "pc-dimm,id=d1,memdev=m1")
    assert r.returncode == 0, r.stderr
    for text in ("address-space: memory", "vga.vram", "Block Name", 'Memory device [dimm]: "d1"',
                 "addr: 0x100000000", "plugged memory: 134217728"):
        assert text in r.stdout
    r = vgaemu("info", "ramblock")
    assert "pc.ram" in r.stdout and "address-space" not in r.stdout


def test_profile_writes_its_files(tmp_path):
    r = vgaemu("profile", "sprites", "--frames", "4", "--json", "p.json", "--csv", "p.csv",
               "--plot", "plot.png", "--heatmap", "heat.png", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    data = json.loads((tmp_path / "p.json").read_text())
    assert data
    for f in ("p.csv", "plot.png", "heat.png"):
        assert (tmp_path / f).stat().st_size > 0


def test_demo_without_display_runs_headless_and_says_where(tmp_path):
    r = vgaemu("demo", "--frames", "3", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert f"screenshot written to {tmp_path / 'vgaemu-demo.png'}" in r.stdout
    assert read_png(tmp_path / "vgaemu-demo.png").shape == (400, 640, 3)


def test_demo_headless_even_with_a_display(tmp_path):
    """'vgaemu demo --headless', as 'vgaemu run ... --headless': no window although a display
    is there (SDL_VIDEODRIVER set counts as one)."""
    r = vgaemu("demo", "--headless", "--frames", "2", cwd=tmp_path,
               env={"SDL_VIDEODRIVER": "dummy", "DISPLAY": ":nonexistent"})
    assert r.returncode == 0, r.stderr
    assert "vgaemu demo: --headless, ran plasma headless for 2 frames" in r.stdout
    assert read_png(tmp_path / "vgaemu-demo.png").shape == (400, 640, 3)


@requires_qemu
def test_compare_with_qemu(tmp_path):
    (tmp_path / "t.json").write_text(json.dumps([{"op": "int10", "ax": "0x13"},
                                                 {"op": "fill", "addr": "0xA0000", "len": 64000, "val": 2}]))
    r = vgaemu("compare", "t.json", "--qemu", "--out", "cmp", cwd=tmp_path)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "identical" in r.stdout


def test_compare_against_stored_screendumps_writes_side_by_side(tmp_path):
    """No QEMU needed: compare with QEMU's committed screendumps; exit 1 when any differ."""
    traces = Path(__file__).parents[1] / "traces"
    golden = Path(__file__).parents[1] / "golden" / "qemu"
    r = vgaemu("compare", str(traces / "planar_logical_ops.json"), str(traces / "text_blink.json"),
               "--golden-dir", str(golden), "--out", "cmp", "--side-by-side", cwd=tmp_path)
    assert r.returncode == 1, r.stdout + r.stderr       # text_blink blinks on hardware, not in QEMU
    assert "planar_logical_ops  640x480  640x480    0 (identical)" in r.stdout
    assert (tmp_path / "cmp" / "text_blink.diff.png").is_file()
    side = read_png(tmp_path / "cmp" / "planar_logical_ops.side.png")
    assert side.shape == (480, 640 * 2 + 8, 3)
    r = vgaemu("compare", str(traces / "text_blink.json"), "--golden-dir", str(golden),
               "--qemu-compat", "--out", "cmp2", cwd=tmp_path)
    assert r.returncode == 0, r.stdout + r.stderr


def test_compare_that_fails_at_once_points_at_no_directory(tmp_path):
    """A missing trace fails before anything is written: no 'pictures ... go to DIR' line
    about a directory that was never created."""
    golden = Path(__file__).parents[1] / "golden" / "qemu"
    r = vgaemu("compare", "nosuch.json", "--golden-dir", str(golden), cwd=tmp_path)
    assert_one_line_error(r, "vgaemu compare: error: nosuch.json: no such trace file")
    assert r.stdout == ""
    assert not (tmp_path / "compare-out").exists()


def test_compare_needs_a_reference(tmp_path):
    r = vgaemu("compare", "t.json", cwd=tmp_path)
    assert r.returncode == 2 and "--qemu" in r.stderr and "--golden-dir" in r.stderr
