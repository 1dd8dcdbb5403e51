"""Golden screenshots of every display path, each mode programmed register by register.

The scenarios (tests/vga/scenarios.py) also run in real QEMU; the goldens under
``tests/golden/`` were checked by eye and, where noted, against QEMU 7.2's screendump of the
same trace.
``pytest --update-goldens`` rewrites them.
"""

from __future__ import annotations

import functools

import numpy as np
import pytest

from vgaemu.machine import Machine

from tests.vga.scenarios import SCENARIOS
from tests.vga.vgaprog import machine, run

#: Scenarios whose hardware picture differs from QEMU's: their qemu_compat golden is extra.
QEMU_DIFFERS = {"text80", "text40"}


def run_scenario(name: str, *, qemu_compat: bool = False, frames: int = 0) -> Machine:
    mach = machine(qemu_compat=qemu_compat)
    run(mach, SCENARIOS[name]())
    mach.vga.display.update_display()
    for _ in range(frames):
        mach.frame()
    return mach


@functools.lru_cache(maxsize=None)
def picture(name: str, qemu_compat: bool = False) -> np.ndarray:
    """The first frame of a scenario (read-only; shared by the tests that only look)."""
    pic = np.ascontiguousarray(run_scenario(name, qemu_compat=qemu_compat).vga.display.surface)
    pic.flags.writeable = False
    return pic


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_screenshot(name, assert_screenshot):
    assert_screenshot(picture(name), name)


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_screenshot_qemu_compat(name, assert_screenshot):
    """Under qemu_compat the picture is QEMU 7.2's (checked against the oracle)."""
    if name in QEMU_DIFFERS:
        assert_screenshot(picture(name, True), name + "-qemu")
    else:
        assert np.array_equal(picture(name, True), picture(name))


def test_text_blink_off_phase(assert_screenshot):
    """16 frames later (hardware): blinking characters show as background, the cursor is in
    its visible phase again (8 on / 8 off)."""
    mach = run_scenario("text80", frames=16)
    assert_screenshot(mach.vga.display, "text80-blink-off")


def test_surface_sizes():
    sizes = {name: (picture(name).shape[1], picture(name).shape[0])
             for name in ("text80", "text40", "mode04", "mode0d", "mode12", "mode13", "modex")}
    assert sizes == {"text80": (720, 400), "text40": (720, 400), "mode04": (640, 400),
                     "mode0d": (640, 400), "mode12": (640, 480), "mode13": (640, 400),
                     "modex": (640, 480)}
    assert picture("text40", True).shape[1] == 640


def test_screendump_ppm_and_png(tmp_path):
    mach = run_scenario("mode13")
    mach.vga.display.screendump(tmp_path / "a.ppm")
    mach.vga.display.screendump(tmp_path / "a.png")
    from vgaemu.vga.display import read_image
    a = read_image(str(tmp_path / "a.ppm"))
    b = read_image(str(tmp_path / "a.png"))
    assert a.shape == (400, 640, 3)
    assert np.array_equal(a, b)
    assert np.array_equal(a, mach.vga.display.surface)
    raw = (tmp_path / "a.ppm").read_bytes()
    assert raw.startswith(b"P6\n640 400\n255\n")


def test_screendump_bad_extension(tmp_path):
    from vgaemu.errors import VGAEmuError
    mach = run_scenario("mode13")
    with pytest.raises(VGAEmuError, match="unknown extension '.bmp'"):
        mach.vga.display.screendump(tmp_path / "a.bmp")
    assert not (tmp_path / "a.bmp").exists()
