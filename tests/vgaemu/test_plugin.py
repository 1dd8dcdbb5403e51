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
        self.lfb_addr = 0xFD000000  # where the guest's recorder finds the linear framebuffer
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
    return project.path / "golden" / "stripes.png"


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
    assert not (project.path / "golden" / "failures" / "stripes.diff.png").exists()


def test_mismatch_fails_with_count_and_diff_image(project, monkeypatch):
    project.runpytest_subprocess("--update-goldens").assert_outcomes(passed=1)
    monkeypatch.setenv("STRIPE", "0,255,0")
    result = project.runpytest_subprocess()
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines([f"*stripes: 150 pixels differ from the golden ({golden(project)})"
                                 " (25.00% of 30x20, within x 0..29, y 0..4; largest channel difference 255)*"])
    failures = project.path / "golden" / "failures"
    assert sorted(p.name for p in failures.iterdir()) == [
        "stripes.actual.png", "stripes.diff.png", "stripes.expected.png", "stripes.side.png"]
    side = read_png(failures / "stripes.side.png")
    assert side.shape == (20, 3 * 30 + 2 * 8, 3)      # expected | actual | diff
    assert (side[:5, :30] == (255, 0, 0)).all() and (side[:5, 38:68] == (0, 255, 0)).all()
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
    img = read_png(pytester.path / "golden" / "bands.png")
    # frame 12: the twelve bands drawn so far, band k at mode-13h rows 4k..4k+1 (doubled: 8k..8k+3)
    assert (img[8 * 11:8 * 11 + 4] != 0).any() and not (img[8 * 12:] != 0).any()


# In-process runs below: the plugin still comes from the entry point, and they skip the
# seconds a fresh interpreter spends importing numpy and pygame.
def test_update_goldens_summary_counts_written_and_unchanged(project):
    result = project.runpytest_inprocess("--update-goldens")
    result.stdout.fnmatch_lines(["*1 golden written, 0 unchanged*", f"*written: {golden(project)}*"])
    mtime = golden(project).stat().st_mtime_ns
    result = project.runpytest_inprocess("--update-goldens")
    result.stdout.fnmatch_lines(["*0 goldens written, 1 unchanged*"])
    assert golden(project).stat().st_mtime_ns == mtime


def test_goldens_and_scripts_resolve_from_the_test_file_not_the_cwd(pytester, tmp_path):
    """The README's example, started from another folder: goldens in <test dir>/golden/,
    the guest script relative to the test file."""
    import subprocess
    import sys

    sub = pytester.mkpydir("suite")
    (sub / "bands_guest.py").write_text(REAL_GUEST)
    (sub / "test_bands.py").write_text(REAL_TEST.replace('HERE / "bands_guest.py"', '"bands_guest.py"'))
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    cmd = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(sub)]
    first = subprocess.run([*cmd, "--update-goldens"], cwd=elsewhere, capture_output=True, text=True)
    assert first.returncode == 0, first.stdout + first.stderr
    assert (sub / "golden" / "bands.png").is_file()
    second = subprocess.run(cmd, cwd=elsewhere, capture_output=True, text=True)
    assert second.returncode == 0, second.stdout + second.stderr
    assert not any(elsewhere.iterdir())          # nothing written where pytest was started


TOLERANCE_TESTS = '''
import numpy as np


def picture(delta, count):
    a = np.full((10, 10, 3), 100, np.uint8)
    a.reshape(-1, 3)[:count] += np.uint8(delta)
    return a


def test_write(assert_screenshot):
    assert_screenshot(picture(0, 0), "flat", golden_dir="shots")


def test_exact_by_default(assert_screenshot):
    assert_screenshot(picture(1, 1), "flat", golden_dir="shots")


def test_channel_delta(assert_screenshot):
    assert_screenshot(picture(3, 50), "flat", golden_dir="shots", max_channel_delta=3)


def test_pixel_count(assert_screenshot):
    assert_screenshot(picture(200, 5), "flat", golden_dir="shots", max_pixels=5)


def test_pixel_count_exceeded(assert_screenshot):
    assert_screenshot(picture(200, 6), "flat", golden_dir="shots", max_pixels=5)
'''


def test_tolerance_and_golden_dir_argument(pytester):
    pytester.makeini("[pytest]\naddopts = -p no:cacheprovider\n")
    pytester.makepyfile(test_tol=TOLERANCE_TESTS)
    pytester.runpytest_inprocess("--update-goldens", "-k", "test_write").assert_outcomes(passed=1)
    assert (pytester.path / "shots" / "flat.png").is_file()
    result = pytester.runpytest_inprocess("-k", "not test_write")
    result.assert_outcomes(passed=2, failed=2)
    result.stdout.fnmatch_lines(["*flat: 1 pixels differ*", "*flat: 6 pixels differ*"])


def test_ini_option_moves_the_goldens(pytester):
    pytester.makeini("[pytest]\naddopts = -p no:cacheprovider\nvgaemu_golden_dir = pics/golden\n")
    pytester.makepyfile(test_user=USER_TESTS)
    pytester.runpytest_inprocess("--update-goldens").assert_outcomes(passed=1)
    assert (pytester.path / "pics" / "golden" / "stripes.png").is_file()
    pytester.runpytest_inprocess().assert_outcomes(passed=1)


def test_golden_dir_fixture_can_be_overridden(pytester):
    pytester.makeini("[pytest]\naddopts = -p no:cacheprovider\n")
    pytester.makeconftest("import pytest\n\n@pytest.fixture\ndef golden_dir(tmp_path_factory):\n"
                          "    from pathlib import Path\n    return Path(__file__).parent / 'mine'\n")
    pytester.makepyfile(test_user=USER_TESTS)
    pytester.runpytest_inprocess("--update-goldens").assert_outcomes(passed=1)
    assert (pytester.path / "mine" / "stripes.png").is_file()


# A user's test module for an installed (not editable) vgaemu: pytest marks every package of a
# distribution with a pytest11 entry point for assert rewriting; the plugin takes the marks
# back, so the library imports through Python's own loader, and threads importing modules of
# ours for the first time while the garbage collector runs callbacks do not trip CPython
# 3.11's AST converter (gh-106905: "SystemError: AST constructor recursion depth mismatch").
LIBRARY_IMPORT_TESTS = '''
import importlib
import pkgutil
import sys
import threading
import weakref

import guestmem
import vgaemu


def ours_not_yet_imported():
    names = []
    for package in (guestmem, vgaemu):
        for info in pkgutil.walk_packages(package.__path__, package.__name__ + "."):
            if not info.name.endswith("__main__") and info.name not in sys.modules:
                names.append(info.name)
    return names


class Node:
    pass


def test_threads_import_the_library_while_gc_runs_callbacks():
    names = ours_not_yet_imported()
    assert len(names) > 30
    errors = []

    def importer(part):
        for name in part:
            try:
                importlib.import_module(name)
            except Exception as exc:
                errors.append((name, repr(exc)))

    def churn(stop):
        # cycles whose weak references have Python callbacks, as collected machines leave
        refs = []
        while not stop.is_set():
            a, b = Node(), Node()
            a.b, b.a = b, a
            refs.append(weakref.ref(a, lambda r: None))
            del refs[:-500]

    sys.setswitchinterval(1e-6)
    stop = threading.Event()
    churner = threading.Thread(target=churn, args=(stop,))
    importers = [threading.Thread(target=importer, args=(names[i::2],)) for i in range(2)]
    churner.start()
    for t in importers:
        t.start()
    for t in importers:
        t.join()
    stop.set()
    churner.join()
    assert not errors, errors[:3]


def test_library_modules_are_not_rewritten():
    import guestmem.region
    import vgaemu.machine
    rewritten = [name for name, module in list(sys.modules.items())
                 if name.partition(".")[0] in ("guestmem", "vgaemu")
                 and name not in ("vgaemu", "vgaemu.testing")
                 and type(getattr(module, "__loader__", None)).__name__ == "AssertionRewritingHook"]
    assert rewritten == []


def test_the_plugin_still_serves(assert_screenshot):
    import numpy as np
    assert_screenshot(np.full((4, 5, 3), 7, np.uint8), "flat")
'''


def _installed_distribution(site):
    """A dist-info as `pip install vgaemu` leaves one (RECORD lists the package files), under
    another name, so pytest marks guestmem and vgaemu as it does for a wheel install (the
    editable install the tests run from lists no package files, so nothing is marked)."""
    info = site / "vgaemu_wheel-0.1.0.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: vgaemu-wheel\nVersion: 0.1.0\n")
    (info / "RECORD").write_text("guestmem/__init__.py,,\nguestmem/region.py,,\n"
                                 "vgaemu/__init__.py,,\nvgaemu/machine.py,,\nvgaemu/testing.py,,\n")
    (info / "entry_points.txt").write_text("[pytest11]\nvgaemu_wheel = vgaemu.testing\n")


def test_installed_library_is_left_to_pythons_own_import(pytester, monkeypatch):
    site = pytester.path / "site"
    _installed_distribution(site)
    monkeypatch.setenv("PYTHONPATH", str(site))
    monkeypatch.setenv("PYTHONDONTWRITEBYTECODE", "1")       # parse every module afresh
    pytester.makeini("[pytest]\naddopts = -p no:cacheprovider\n")
    pytester.makepyfile(test_library=LIBRARY_IMPORT_TESTS)
    # -p no:vgaemu: only the wheel-like distribution's entry point loads the plugin
    pytester.runpytest_subprocess("-p", "no:vgaemu", "--update-goldens",
                                  "-k", "serves").assert_outcomes(passed=1)
    result = pytester.runpytest_subprocess("-p", "no:vgaemu")
    result.assert_outcomes(passed=3)
