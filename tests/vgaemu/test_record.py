"""Recording round trip: a recorded run replays (here, and in the oracle's format) to the same picture."""

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from tests.helpers import requires_qemu

from vgaemu.frontends.imaging import read_png
from vgaemu.guest import load_script, machine_options, run_guest
from vgaemu.machine import Machine
from vgaemu.trace import TraceRecorder, load_trace, replay

DEMOS = Path(__file__).resolve().parents[2] / "vgaemu" / "roms" / "demos"


def vgaemu(*args, cwd):
    return subprocess.run([sys.executable, "-m", "vgaemu", *args], capture_output=True, text=True,
                          cwd=cwd, env={"SDL_VIDEODRIVER": "dummy", "PATH": "/usr/bin:/bin",
                                        "PYTHONPATH": str(Path(__file__).resolve().parents[2])})


def test_cli_record_then_replay_gives_the_same_screenshot(tmp_path):
    r = vgaemu("run", "plasma", "--headless", "--frames", "4", "--screenshot", "live.png",
               "--record", "plasma.json", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert "trace of" in r.stdout
    r = vgaemu("replay", "plasma.json", "--screenshot", "replayed.png", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    live, replayed = read_png(tmp_path / "live.png"), read_png(tmp_path / "replayed.png")
    assert live.shape == (400, 640, 3) and np.array_equal(live, replayed)


@pytest.mark.parametrize("demo,frames", [("text", 20), ("sprites", 6), ("modex", 5), ("dimm", 64),
                                         ("palette_cycle", 4), ("planar", 8)])
def test_demo_recordings_replay_pixel_exact(demo, frames):
    main = load_script(DEMOS / f"{demo}.py")
    machine = Machine(**machine_options(main))
    rec = TraceRecorder()
    run_guest(machine, main, None, max_frames=frames, recorder=rec)
    live = np.array(machine.vga.surface, copy=True)
    load_trace(rec.ops)  # a valid trace in the oracle's format
    result = replay(rec.ops)  # a plain machine: no DMA engine and no DIMM needed
    assert np.array_equal(result.image, live)


def test_screenshot_every_records_screendump_ops(tmp_path):
    r = vgaemu("run", "plasma", "--headless", "--frames", "4", "--screenshot-every", "2", "shots",
               "--record", "t.json", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    names = [op.name for op in load_trace(tmp_path / "t.json").ops if op.kind == "screendump"]
    assert names == ["frame-000002", "frame-000004"]
    assert sorted(p.name for p in (tmp_path / "shots").iterdir()) == ["frame-000002.png", "frame-000004.png"]
    r = vgaemu("replay", "t.json", "--screenshot", "out.png", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert np.array_equal(read_png(tmp_path / "out-frame-000002.png"),
                          read_png(tmp_path / "shots" / "frame-000002.png"))


@requires_qemu
def test_recordings_replay_in_real_qemu_pixel_exact(tmp_path):
    """The point of recording in the oracle's format: real QEMU draws the same picture (DMA
    transfers arrive as plain LFB writes, frames as INT 15h waits)."""
    from vgaemu.compare import compare

    traces = []
    for demo, frames in (("sprites", 2), ("modex", 2), ("planar", 7)):
        main = load_script(DEMOS / f"{demo}.py")
        rec = TraceRecorder()
        run_guest(Machine(**machine_options(main)), main, None, max_frames=frames, recorder=rec)
        traces.append(rec.save(tmp_path / f"{demo}.json"))
    rows = compare(traces, qemu=True, out_dir=tmp_path / "cmp")
    assert [(r.trace, r.differing, r.error) for r in rows] == [("sprites", 0, None), ("modex", 0, None),
                                                               ("planar", 0, None)]


def test_planar_latch_reads_are_recorded_as_bios_read_pixel():
    """Planar read-modify-write needs the latches a read loads; the trace carries each read as
    INT 10h AH=0Dh of the same byte, then restores map mask, read map and index registers."""
    rec = TraceRecorder()

    def main(guest):
        guest.set_mode(0x12)
        guest.outw(0x3C4, 0x0302)      # map mask 3
        guest.outw(0x3CE, 0x0104)      # read map 1
        guest.readb(0xA0000 + 81 * 3 + 5)
        guest.outb(0x3CE, 8)

    run_guest(Machine(), main, None, recorder=rec)
    i = next(k for k, o in enumerate(rec.ops) if o.get("readb"))
    assert rec.ops[i + 1] == {"op": "int10", "ax": "0xD00", "bx": "0x0", "cx": hex(((81 * 3 + 5) % 80) * 8).upper().replace("X", "x"),
                              "dx": hex((81 * 3 + 5) // 80)}
    assert rec.ops[i + 2:i + 6] == [{"op": "outw", "port": "0x3C4", "val": "0x302"},
                                    {"op": "outw", "port": "0x3CE", "val": "0x104"},
                                    {"op": "outb", "port": "0x3C4", "val": "0x2"},
                                    {"op": "outb", "port": "0x3CE", "val": "0x4"}]
