"""Every demo in vgaemu/roms/demos runs headless for some frames and draws something worth looking at."""

from pathlib import Path

import numpy as np
import pytest

from vgaemu.frontends.headless import HeadlessSink
from vgaemu.guest import load_script, machine_options, run_guest
from vgaemu.machine import Machine

DEMOS = Path(__file__).resolve().parents[2] / "vgaemu" / "roms" / "demos"
EXPECTED = {  # demo: (frames, screen size)
    "text": (10, (400, 720)),
    "plasma": (5, (400, 640)),
    "palette_cycle": (5, (400, 640)),
    "planar": (8, (480, 640)),
    "modex": (5, (400, 640)),
    "sprites": (5, (768, 1024)),
    "dimm": (62, (600, 800)),
}


def test_every_demo_is_listed():
    assert sorted(p.stem for p in DEMOS.glob("*.py")) == sorted(EXPECTED)


def run(name, frames, **kw):
    main = load_script(DEMOS / f"{name}.py")
    machine = Machine(**machine_options(main))
    sink = HeadlessSink()
    result = run_guest(machine, main, sink, max_frames=frames, **kw)
    return machine, sink, result


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_demo_runs_headless(name):
    frames, shape = EXPECTED[name]
    machine, sink, result = run(name, frames)
    assert result.frames == frames and result.stopped == "max_frames"
    img = sink.last_surface
    assert img.shape[:2] == shape
    colours = np.unique(img.reshape(-1, 3), axis=0)
    assert len(colours) >= 8, f"{name} drew only {len(colours)} colours"


def test_sprites_redraw_only_a_few_lines_per_frame():
    lines = []
    main = load_script(DEMOS / "sprites.py")
    sink = HeadlessSink(on_frame=lambda m, info: lines.append(info.stats.lines_redrawn))
    run_guest(Machine(), main, sink, max_frames=6)
    assert lines[0] == 768                       # the first frame draws everything
    assert all(0 < n <= 6 * 48 for n in lines[1:])


def test_palette_cycle_redraws_everything_without_writing_vram():
    stats = []
    main = load_script(DEMOS / "palette_cycle.py")
    run_guest(Machine(), main, HeadlessSink(on_frame=lambda m, i: stats.append(i.stats)), max_frames=4)
    assert all(s.full for s in stats) and all(s.dirty_pages == 0 for s in stats[1:])


def test_dimm_demo_plugs_a_dimm_and_blits_from_it():
    machine, sink, _ = run("dimm", 62)
    devices = machine.memory.query_memory_devices()
    assert len(devices) == 1 and devices[0]["data"]["addr"] >= 1 << 32
    box = sink.last_surface[150:450, 200:600]
    assert len(np.unique(box.reshape(-1, 3), axis=0)) > 50
