"""The headless front end: screenshots of the last frame and of every K-th frame, no display."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest

from tests.helpers import FakeHostClock, fake_info, fake_stats

from vgaemu.frontends import FrontendError
from vgaemu.frontends.headless import HeadlessSink
from vgaemu.frontends.imaging import read_png, write_png
from vgaemu.frontends.progress import Progress
from vgaemu.frontends.window import line_bands, lines_of_rects


class FakeVGA:
    def __init__(self, w=32, h=16):
        self.surface = np.zeros((h, w, 3), np.uint8)


class FakeMachine:
    def __init__(self, w=32, h=16):
        self.vga = FakeVGA(w, h)


def _frames(machine, sink, n):
    h, w = machine.vga.surface.shape[:2]
    for i in range(1, n + 1):
        machine.vga.surface[i % h] = (i, 2 * i, 255 - i)
        sink.frame(machine, fake_info(i, fake_stats(False, 1, 1, w, ((0, i % h, w, 1),))))


def test_png_round_trip_is_exact(tmp_path):
    rgb = np.random.default_rng(1).integers(0, 256, (7, 11, 3), dtype=np.uint8)
    # a strided view like the VGA's surface (a BGRX buffer seen as RGB) must work too
    bgrx = np.zeros((7, 11, 4), np.uint8)
    bgrx[:, :, 2::-1] = rgb
    path = write_png(tmp_path / "sub" / "x.png", bgrx[:, :, 2::-1])
    assert np.array_equal(read_png(path), rgb)


def test_last_frame_screenshot(tmp_path):
    m = FakeMachine()
    sink = HeadlessSink()
    _frames(m, sink, 5)
    path = sink.write_screenshot(tmp_path / "last.png")
    assert np.array_equal(read_png(path), m.vga.surface)
    assert sink.frames == 5 and sink.last_index == 5 and sink.keys() == []


def test_screenshot_every_k(tmp_path):
    m = FakeMachine()
    sink = HeadlessSink(screenshot_every=2, screenshot_dir=tmp_path / "shots")
    _frames(m, sink, 5)
    names = sorted(p.name for p in (tmp_path / "shots").iterdir())
    assert names == ["frame-000002.png", "frame-000004.png"]
    # frame 4's picture: rows 1..4 drawn so far
    img = read_png(tmp_path / "shots" / "frame-000004.png")
    assert tuple(img[4, 0]) == (4, 8, 251) and tuple(img[5, 0]) == (0, 0, 0)


@pytest.mark.parametrize("every", [0, -1, 1.5, True, "3"])
def test_bad_screenshot_every(every, tmp_path):
    with pytest.raises(FrontendError, match="screenshot_every"):
        HeadlessSink(screenshot_every=every, screenshot_dir=tmp_path)


def test_screenshot_every_needs_dir():
    with pytest.raises(FrontendError, match="screenshot_dir"):
        HeadlessSink(screenshot_every=3)


def test_no_frame_no_screenshot(tmp_path):
    with pytest.raises(FrontendError, match="no frame"):
        HeadlessSink().write_screenshot(tmp_path / "x.png")
    assert not (tmp_path / "x.png").exists()


def test_fps_paces_frames_to_host_time(monkeypatch):
    import vgaemu.frontends.headless as headless

    clock = FakeHostClock()
    monkeypatch.setattr(headless, "time", clock)
    m, sink = FakeMachine(), HeadlessSink(fps=50)
    _frames(m, sink, 11)
    # the first frame at once, each next one a 50th of a second after the last
    assert clock.now == pytest.approx(100.0 + 10 / 50)
    assert clock.slept == pytest.approx([1 / 50] * 10)
    # a frame that took 10 ms leaves 10 ms to sleep before the next
    clock.slept.clear()
    clock.now += 0.010
    _frames(m, sink, 1)
    assert clock.slept == pytest.approx([0.010])


def test_fps_run_that_fell_behind_does_not_race(monkeypatch):
    """A stop (QMP `stop`, a migration's downtime) must not be followed by a burst of
    unpaced frames making the lost time up."""
    import vgaemu.frontends.headless as headless

    clock = FakeHostClock()
    monkeypatch.setattr(headless, "time", clock)
    m, sink = FakeMachine(), HeadlessSink(fps=60)
    _frames(m, sink, 3)
    clock.now += 5.0
    clock.slept.clear()
    _frames(m, sink, 4)
    assert clock.slept == pytest.approx([1 / 60] * 3)


def test_unpaced_never_sleeps(monkeypatch):
    import vgaemu.frontends.headless as headless

    clock = FakeHostClock()
    monkeypatch.setattr(headless, "time", clock)
    for fps in (None, 0):
        _frames(FakeMachine(), HeadlessSink(fps=fps), 5)
    assert clock.slept == []


@pytest.mark.parametrize("fps", [-1, True, "60", float("nan")])
def test_bad_fps(fps):
    with pytest.raises(FrontendError, match="fps"):
        HeadlessSink(fps=fps)


def test_lines_of_rects():
    lines = lines_of_rects([(0, 2, 5, 3), (4, 4, 1, 2), (0, 14, 3, 9), (0, 0, 0, 5)], 16)
    assert np.flatnonzero(lines).tolist() == [2, 3, 4, 5, 14, 15]


def test_line_bands():
    lines = np.zeros(10, bool)
    lines[[0, 1, 4, 7, 8, 9]] = True
    assert line_bands(lines, 5) == [(0, 0, 5, 2), (0, 4, 5, 1), (0, 7, 5, 3)]
    assert line_bands(np.zeros(3, bool), 5) == []


def test_progress_only_when_asked():
    out = io.StringIO()            # not a TTY: silent by default
    p = Progress(10, "run", stream=out)
    for _ in range(10):
        p.step()
    p.close()
    assert out.getvalue() == ""
    p = Progress(4, "run", stream=out, enabled=True, min_interval=0)
    for _ in range(4):
        p.step()
    p.close()
    assert "4/4 frames" in out.getvalue() and out.getvalue().endswith("\n")


# -- on a real Machine, through run_guest ------------------------------------------------------
GUEST_SCRIPT = '''
"""Mode 13h: one band of 3 lines per frame, then a text-mode switch at frame 30."""


def main(guest):
    guest.set_mode(0x13)
    for i in range(40):
        if i == 30:
            guest.set_mode(0x03)
            guest.write(0xB8000, b"H\\x1fi\\x1f")
        elif i < 30:
            guest.fill(0xA0000 + (i * 5 % 190) * 320, 320 * 3, 16 + i)
        guest.frame()
'''


@pytest.fixture
def guest_script(tmp_path):
    path = tmp_path / "bands.py"
    path.write_text(GUEST_SCRIPT)
    return path


def test_run_headless_real_machine(guest_script, tmp_path):
    from vgaemu.frontends.headless import run_headless
    from vgaemu.machine import Machine
    m = Machine()
    r = run_headless(m, guest_script, frames=20, screenshot=tmp_path / "last.png",
                     screenshot_every=5, screenshot_dir=tmp_path / "every")
    assert r.frames == 20 and r.last_index == 20 and r.run.stopped == "max_frames"
    assert np.array_equal(read_png(r.screenshot), m.vga.surface)
    assert [p.name for p in r.screenshots] == [f"frame-{i:06d}.png" for i in (5, 10, 15, 20)]
    # every screenshot equals a fresh run stopped at that frame
    m2 = Machine()
    r2 = run_headless(m2, guest_script, frames=10)
    assert np.array_equal(read_png(tmp_path / "every" / "frame-000010.png"), r2.surface)
    assert not np.array_equal(r2.surface, r.surface)


def test_run_headless_to_the_end_and_mode_change(guest_script, tmp_path):
    from vgaemu.frontends.headless import run_headless
    from vgaemu.machine import Machine
    r = run_headless(Machine(), guest_script, frames=None, screenshot=tmp_path / "text.png")
    assert r.run.stopped == "returned" and r.frames == 40
    shot = read_png(r.screenshot)
    assert np.array_equal(shot, r.surface)
    assert shot.shape == (400, 720, 3)           # 80x25 text, 9x16 cells: the switch happened


@pytest.mark.parametrize("frames", [0, -3, 2.5, "7"])
def test_run_headless_bad_frames(frames, guest_script):
    from vgaemu.frontends.headless import run_headless
    from vgaemu.machine import Machine
    with pytest.raises(FrontendError, match="frames must be a positive integer"):
        run_headless(Machine(), guest_script, frames=frames)


def test_run_headless_missing_script(guest_script, tmp_path):
    from vgaemu.errors import GuestError
    from vgaemu.frontends.headless import run_headless
    from vgaemu.machine import Machine
    with pytest.raises(GuestError, match="nope.py"):
        run_headless(Machine(), tmp_path / "nope.py", frames=3)
