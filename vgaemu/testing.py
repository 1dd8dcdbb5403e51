"""pytest plugin: golden-screenshot fixtures for VGA guests (registered as entry point ``pytest11``).

Used as pytest-regressions and syrupy are: the goldens of a test file live in ``golden/`` next
to it, wherever pytest is started from.

* ``assert_screenshot(image_or_vga, name, *, golden_dir=None, max_pixels=0,
  max_channel_delta=0)`` compares a picture (an (H, W, 3) uint8 array, a VGADisplay, a VGA --
  anything with a ``surface``) with ``<golden dir>/<name>.png``, exactly unless a tolerance is
  given. On a mismatch the message names the golden, the number and share of differing pixels
  and their bounding box, and ``<golden dir>/failures/`` gets ``<name>.actual.png``,
  ``.expected.png``, ``.diff.png`` and ``.side.png``. A missing golden fails.
* ``guest_screenshot(main_or_script, name, frames=N, **machine_options)`` builds a Machine,
  runs a guest (a ``main(guest)`` function, or a guest script path relative to the test file)
  headless to frame N and asserts that frame the same way.  A boot image (``game.img``) or a
  DOS program (``intro.com``) runs on the PC platform instead, until it halts or exits or
  ``frames`` (default 600, ten seconds of guest time) ran, with ``keys=["1s:space", ...]``
  typed as ``vgaemu boot --keys`` does, and ``ips=``, ``args=`` (a .COM command tail),
  ``drive="floppy"|"hd"`` (default: by the image's size).
* ``pytest --update-goldens`` writes the goldens instead (only those that changed) and the
  terminal summary says how many were written and how many were unchanged.

The golden directory, in order: the ``golden_dir=`` argument (relative to the test file), the
``golden_dir`` fixture (override it in a conftest.py), the ``vgaemu_golden_dir`` ini option
(relative to the ini file's directory), else ``<test file's directory>/golden``.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

#: The top-level packages of the vgaemu distribution (pyproject.toml's packages.find).
LIBRARY_PACKAGES = ("guestmem", "vgaemu")


def _leave_library_unrewritten() -> None:
    """Take back the assert-rewrite marks pytest puts on every package of a distribution that
    registers a pytest11 plugin.

    Rewriting is for a plugin's helpers that fail through bare asserts; ours fail through
    pytest.fail.  It parses each module into Python AST objects, which CPython 3.11 cannot do
    in two threads at once (gh-106905): a QMP or migration thread importing a module of ours
    for the first time beside the test's thread, while the garbage collector runs a callback,
    fails with "SystemError: AST constructor recursion depth mismatch".  This runs as the
    plugin loads, before any other module of ours is imported.  pytest has no public way to
    do it: if its hook changes shape this does nothing and pytest rewrites as before (the
    wheel check in CI notices)."""
    for finder in sys.meta_path:
        if type(finder).__name__ != "AssertionRewritingHook":
            continue
        marked = getattr(finder, "_must_rewrite", None)
        cache = getattr(finder, "_marked_for_rewrite_cache", None)
        if not isinstance(marked, set) or not isinstance(cache, dict):
            continue
        marked.difference_update(LIBRARY_PACKAGES)
        for name in [n for n in cache if n.partition(".")[0] in LIBRARY_PACKAGES]:
            del cache[name]


_leave_library_unrewritten()

from .golden import compare_with_golden  # noqa: E402  (after the marks are taken back)

GOLDEN_DIR_NAME = "golden"
INI_OPTION = "vgaemu_golden_dir"
_UPDATES = pytest.StashKey[dict]()


def pytest_addoption(parser):
    group = parser.getgroup("vgaemu")
    group.addoption("--update-goldens", action="store_true", default=False,
                    help="write the golden PNGs from the current output instead of comparing")
    parser.addini(INI_OPTION, default=None,
                  help="directory of golden screenshots, relative to the ini file "
                       "(default: golden/ next to each test file)")


def pytest_configure(config):
    config.stash[_UPDATES] = {"written": [], "unchanged": []}


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    if not config.getoption("--update-goldens", default=False):
        return
    done = config.stash.get(_UPDATES, {"written": [], "unchanged": []})
    written, unchanged = done["written"], done["unchanged"]
    terminalreporter.write_sep("-", "vgaemu goldens")
    terminalreporter.write_line(f"{len(written)} golden{'s' if len(written) != 1 else ''} written, "
                                f"{len(unchanged)} unchanged")
    for path in written:
        terminalreporter.write_line(f"  written: {path}")


def _test_dir(request) -> Path:
    return Path(str(request.path)).parent


def default_golden_dir(request) -> Path:
    """The ini option (relative to the ini file's directory) or ``golden/`` next to the test."""
    configured = request.config.getini(INI_OPTION)
    if configured:
        base = Path(str(request.config.inipath)).parent if request.config.inipath else Path(str(request.config.rootpath))
        return (base / configured).resolve()
    return _test_dir(request) / GOLDEN_DIR_NAME


@pytest.fixture
def update_goldens(request) -> bool:
    return bool(request.config.getoption("--update-goldens"))


@pytest.fixture
def golden_dir(request) -> Path:
    """Where this test's goldens live; override the fixture to move them."""
    return default_golden_dir(request)


@pytest.fixture
def assert_screenshot(request, golden_dir):
    """``assert_screenshot(image_or_vga, name, *, golden_dir=None, max_pixels=0,
    max_channel_delta=0)``: compare with ``<golden dir>/<name>.png``."""
    update = bool(request.config.getoption("--update-goldens"))
    done = request.config.stash[_UPDATES]
    test_dir = _test_dir(request)
    default_dir = Path(golden_dir)

    def check(image, name: str, *, golden_dir: str | os.PathLike | None = None,
              max_pixels: int = 0, max_channel_delta: int = 0) -> None:
        gdir = test_dir / golden_dir if golden_dir is not None else default_dir
        result = compare_with_golden(image, gdir / f"{name}.png", actual_dir=gdir / "failures",
                                     update=update, max_pixels=max_pixels,
                                     max_channel_delta=max_channel_delta)
        if result.update is not None:
            done[result.update].append(result.golden_path)
        if not result.matches:
            pytest.fail(result.message(name), pytrace=False)

    return check


@pytest.fixture
def guest_screenshot(request, assert_screenshot):
    """``guest_screenshot(main_or_script, name, *, frames=1, machine=None, golden_dir=None,
    max_pixels=0, max_channel_delta=0, **machine_options)``: build a
    ``Machine(**machine_options)`` (or use ``machine``), run the guest headless to frame
    ``frames`` (or until it returns) and assert that frame as ``assert_screenshot`` does. A
    script path is relative to the test file. Returns the ``HeadlessResult`` (frames run, the
    last frame's pixels).

    A boot image or .COM program (``"game.img"``, ``"intro.com"``, a ``PCProgram``) runs on
    the PC platform until it halts or exits, at most ``frames`` frames (default 600), with
    ``keys=[...]`` (``--keys`` specs), ``ips=``, ``args=``, ``drive=``; the result's ``run``
    is the ``ProgramRun`` (the PC, frames, why it stopped).

    The guest runs through ``run_guest`` and the headless front end, so the picture is the
    one the window and ``vgaemu run --headless --screenshot`` show for the same frame.
    """
    test_dir = _test_dir(request)

    def run(main, name: str, *, frames: int | None = None, machine=None, golden_dir=None,
            max_pixels: int = 0, max_channel_delta: int = 0, keys=None, ips=None, args=None,
            drive=None, **machine_options):
        from .frontends.headless import run_headless
        from .pc.program import PCProgram, is_program_path

        program_options = {k: v for k, v in (("keys", keys), ("ips", ips), ("args", args),
                                             ("drive", drive)) if v is not None}
        if isinstance(main, PCProgram) or is_program_path(main):
            return run_program(main, name, frames=600 if frames is None else frames, machine=machine,
                               golden_dir=golden_dir, max_pixels=max_pixels,
                               max_channel_delta=max_channel_delta, program_options=program_options,
                               machine_options=machine_options)
        if program_options:
            raise TypeError(f"{sorted(program_options)}: options of boot images and .COM programs, "
                            "not of guest scripts")
        if frames is None:
            frames = 1
        if isinstance(main, (str, os.PathLike)):
            path = Path(main)
            if not path.is_absolute() and (test_dir / path).is_file():
                main = test_dir / path
            elif not path.is_absolute() and len(path.parts) > 1:
                main = test_dir / path      # a relative path is the test file's, not the cwd's
        if machine is None:
            from .machine import Machine

            machine = Machine(**machine_options)
        elif machine_options:
            raise TypeError(f"give machine or machine options, not both ({sorted(machine_options)})")
        try:
            result = run_headless(machine, main, frames=frames)
        except Exception as exc:
            from .errors import VGAEmuError

            if isinstance(exc, VGAEmuError):
                pytest.fail(f"{name}: {exc}", pytrace=False)
            raise
        if result.surface is None:
            pytest.fail(f"{name}: the guest ran no frame, so there is no screenshot", pytrace=False)
        assert_screenshot(result.surface, name, golden_dir=golden_dir, max_pixels=max_pixels,
                          max_channel_delta=max_channel_delta)
        return result

    def run_program(what, name, *, frames, machine, golden_dir, max_pixels, max_channel_delta,
                    program_options, machine_options):
        from .errors import VGAEmuError
        from .frontends.headless import HeadlessResult, HeadlessSink
        from .pc.program import as_program

        if isinstance(what, (str, os.PathLike)) and not Path(what).is_absolute():
            what = test_dir / what           # next to the test file, wherever pytest runs
        if machine is not None and machine_options:
            raise TypeError(f"give machine or machine options, not both ({sorted(machine_options)})")
        sink = HeadlessSink()
        try:
            program = as_program(what, **program_options)
            if machine is None:
                from .machine import Machine

                machine = Machine(**machine_options)
            ran = program.run(sink, frames, machine=machine)
        except VGAEmuError as exc:
            pytest.fail(f"{name}: {exc}", pytrace=False)
        if sink.last_surface is None:
            pytest.fail(f"{name}: the program ran no frame, so there is no screenshot", pytrace=False)
        surface = sink.last_surface.copy()
        assert_screenshot(surface, name, golden_dir=golden_dir, max_pixels=max_pixels,
                          max_channel_delta=max_channel_delta)
        return HeadlessResult(ran.frames, sink.last_index, None, [], surface, ran)

    return run
