"""The headless front end: screenshots of the last frame and of every K-th frame, no display."""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from vgaemu.frontends import FrontendError
from vgaemu.frontends.headless import HeadlessSink
from vgaemu.frontends.imaging import read_png, write_png
from vgaemu.frontends.progress import Progress
from vgaemu.frontends.window import line_bands, lines_of_rects


@dataclass(frozen=True)
class Stats:
    full: bool
    lines_redrawn: int
    dirty_pages: int
    bytes_converted: int
    rects: tuple
    mode: str = "fake"


@dataclass(frozen=True)
class Info:
    index: int
    stats: Stats
    update_seconds: float = 0.0


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
        sink.frame(machine, Info(i, Stats(False, 1, 1, w, ((0, i % h, w, 1),))))


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
