"""The pytest plugin (entry point ``pytest11`` -> ``vgaemu.testing``) as a user meets it:
a test that runs a guest to frame N and compares the frame with a golden PNG.

Each test here runs pytest on a small project of its own with ``pytester`` (in a subprocess, so
the child loads the plugin through the installed entry point as a user's pytest does).
"""

from __future__ import annotations

import numpy as np
import pytest

from vgaemu.frontends.imaging import read_png

pytest_plugins = ["pytester"]

# A user's test module: a scripted guest that paints one row per frame in a colour read from
# the environment, so the same test can be made to pass and fail.
USER_TESTS = '''
import os

import numpy as np

from vgaemu.clock import VirtualClock


class Stats:
    full = False
    dirty_pages = 1
    bytes_converted = 30 * 3
    lines_redrawn = 1
    mode = "fake"

    def __init__(self, y):
        self.rects = ((0, y, 30, 1),)


class FakeVGA:
    """Just enough machine for run_guest: a surface the guest paints and update stats."""

    def __init__(self):
        self.surface = np.zeros((20, 30, 3), np.uint8)
        self.state = type("State", (), {"vram_size": 1 << 20})()
        self.row = 0

    def invalidate(self):
        pass

    def update_display(self):
        return Stats(self.row)


class FakeMachine:
    address_space_memory = None
    address_space_io = None

    def __init__(self):
        self.clock = VirtualClock()
        self.vga = FakeVGA()


def main(guest):
    colour = tuple(int(c) for c in os.environ.get("STRIPE", "255,0,0").split(","))
    vga = guest.machine.vga
    for y in range(20):
        vga.surface[y] = colour
        vga.row = y
        guest.frame()


def test_stripes(guest_screenshot):
    result = guest_screenshot(main, "stripes", frames=5, machine=FakeMachine())
    assert result.frames == 5
'''


@pytest.fixture
def project(pytester):
    pytester.makeini("[pytest]\naddopts = -p no:cacheprovider\n")
    pytester.makepyfile(test_user=USER_TESTS)
    return pytester


def golden(project):
    return project.path / "tests" / "golden" / "stripes.png"


def test_update_goldens_writes_the_golden(project):
    result = project.runpytest_subprocess("--update-goldens")
    result.assert_outcomes(passed=1)
    img = read_png(golden(project))
    assert img.shape == (20, 30, 3)
    assert (img[:5] == (255, 0, 0)).all() and (img[5:] == 0).all()   # frame 5: five rows


def test_matching_golden_passes(project):
    project.runpytest_subprocess("--update-goldens").assert_outcomes(passed=1)
    result = project.runpytest_subprocess()
    result.assert_outcomes(passed=1)
    assert not (project.path / "tests" / "golden" / "failures" / "stripes.diff.png").exists()


def test_mismatch_fails_with_count_and_diff_image(project, monkeypatch):
    project.runpytest_subprocess("--update-goldens").assert_outcomes(passed=1)
    monkeypatch.setenv("STRIPE", "0,255,0")
    result = project.runpytest_subprocess()
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*stripes: 150 pixels differ from the golden*"])
    failures = project.path / "tests" / "golden" / "failures"
    diff = read_png(failures / "stripes.diff.png")
    actual = read_png(failures / "stripes.actual.png")
    assert (diff[:5] == (255, 0, 0)).all() and not (diff[5:] == (255, 0, 0)).all(axis=2).any()
    assert (actual[:5] == (0, 255, 0)).all()
    # the golden itself is untouched by a failing run
    assert (read_png(golden(project))[:5] == (255, 0, 0)).all()


def test_missing_golden_fails_and_says_how_to_create_it(project):
    result = project.runpytest_subprocess()
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*stripes: no golden image*--update-goldens*"])
    assert not golden(project).exists()


REAL_GUEST = '''
def main(guest):
    guest.set_mode(0x13)
    for i in range(30):
        guest.fill(0xA0000 + i * 320 * 4, 320 * 2, 40 + i)
        guest.frame()
'''

REAL_TEST = '''
from pathlib import Path

HERE = Path(__file__).parent


def test_bands(guest_screenshot):
    r = guest_screenshot(HERE / "bands_guest.py", "bands", frames=12, vram="8M")
    assert r.frames == 12 and r.surface.shape == (400, 640, 3)
'''


def test_real_machine_and_guest_script(pytester):
    """The fixture as the README shows it: a guest script, a Machine with options, frame N."""
    pytester.makeini("[pytest]\naddopts = -p no:cacheprovider\n")
    pytester.makepyfile(bands_guest=REAL_GUEST, test_bands=REAL_TEST)
    pytester.runpytest_subprocess("--update-goldens").assert_outcomes(passed=1)
    pytester.runpytest_subprocess().assert_outcomes(passed=1)
    img = read_png(pytester.path / "tests" / "golden" / "bands.png")
    # frame 12: the twelve bands drawn so far, band k at mode-13h rows 4k..4k+1 (doubled: 8k..8k+3)
    assert (img[8 * 11:8 * 11 + 4] != 0).any() and not (img[8 * 12:] != 0).any()
