"""pytest plugin: golden-screenshot fixtures for VGA guests (registered as entry point ``pytest11``).

* ``pytest --update-goldens`` rewrites the golden PNGs instead of comparing with them.
* ``assert_screenshot(image_or_vga, name)`` compares a picture (an (H, W, 3) uint8 array, a
  VGADisplay, a VGA -- anything with a ``surface``) with ``tests/golden/<name>.png`` exactly.
  On a mismatch it writes ``<name>.actual.png`` and ``<name>.diff.png`` under
  ``tests/golden/failures/`` and fails with the number of differing pixels.
* ``guest_screenshot(main_or_script, name, frames=N, **machine_options)`` builds a Machine,
  runs a guest (a ``main(guest)`` function or a guest script) headless to frame N and asserts
  that frame matches ``tests/golden/<name>.png`` the same way.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from .golden import compare_with_golden

GOLDEN_DIR_NAME = "golden"


def pytest_addoption(parser):
    group = parser.getgroup("vgaemu")
    group.addoption("--update-goldens", action="store_true", default=False,
                    help="rewrite tests/golden/*.png from the current output instead of comparing")


def _golden_dir(config) -> Path:
    return Path(str(config.rootpath)) / "tests" / GOLDEN_DIR_NAME


@pytest.fixture
def update_goldens(request) -> bool:
    return bool(request.config.getoption("--update-goldens"))


@pytest.fixture
def golden_dir(request) -> Path:
    return _golden_dir(request.config)


@pytest.fixture
def assert_screenshot(request):
    """``assert_screenshot(image_or_vga, name)``: exact comparison with tests/golden/<name>.png."""
    update = bool(request.config.getoption("--update-goldens"))
    gdir = _golden_dir(request.config)

    def check(image, name: str) -> None:
        result = compare_with_golden(image, gdir / f"{name}.png", actual_dir=gdir / "failures",
                                     update=update)
        if not result.matches:
            pytest.fail(result.message(name), pytrace=False)

    return check


@pytest.fixture
def guest_screenshot(request, assert_screenshot):
    """``guest_screenshot(main_or_script, name, *, frames=1, machine=None, **machine_options)``:
    build a ``Machine(**machine_options)`` (or use ``machine``), run the guest headless to
    frame ``frames`` (or until it returns) and assert that frame equals
    ``tests/golden/<name>.png`` exactly, as ``assert_screenshot`` does (``--update-goldens``
    rewrites it; a mismatch writes ``<name>.actual.png`` and ``<name>.diff.png`` under
    ``tests/golden/failures/`` and fails with the number of differing pixels).
    Returns the ``HeadlessResult`` (frames run, the last frame's pixels).

    The guest runs through ``run_guest`` and the headless front end, so the picture is the
    one the window and ``vgaemu run --headless --screenshot`` show for the same frame.
    """
    def run(main, name: str, *, frames: int = 1, machine=None, **machine_options):
        from .frontends.headless import run_headless

        if machine is None:
            from .machine import Machine

            machine = Machine(**machine_options)
        elif machine_options:
            raise TypeError(f"give machine or machine options, not both ({sorted(machine_options)})")
        result = run_headless(machine, main, frames=frames)
        if result.surface is None:
            pytest.fail(f"{name}: the guest ran no frame, so there is no screenshot", pytrace=False)
        assert_screenshot(result.surface, name)
        return result

    return run
