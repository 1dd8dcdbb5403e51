"""The QEMU oracle's own boot images, booted here, must give QEMU's screendumps.

For every trace in tests/traces/ and tests/bios/traces/ the oracle
(``../shared/oracle/oracle.py`` or $VGAEMU_ORACLE) builds the very disk image it boots in
QEMU: a boot sector that finds the VGA's BAR0 through PCI config space, reads the trace's
code with INT 13h AH=42h, runs it (unreal mode, ``a32 rep stos/movs``, INT 10h/15h), asks
for each intermediate screendump with an ``'S'`` on the debug console (answered with an NMI)
and ends with ``'D'`` and ``cli; hlt``.  Here the x86 CPU, the PC platform and the BIOS
services run that image -- what ``vgaemu boot IMAGE --headless --screenshot OUT.png
--screenshot-on-debugcon OUT.png`` does -- and every picture must equal the committed QEMU
golden (tests/golden/qemu/, tests/bios/golden/) to the pixel: the whole pixel corpus becomes
a test of the CPU, the platform and the BIOS together.

The images are compiled in-process by the oracle's ``compile_trace`` (what ``--image``
writes) and booted through the Python API, not a subprocess per trace.  Without the oracle
(CI has no ../shared) the tests skip, saying so.  Traces in qemu_compat.txt boot in
qemu_compat mode, as test_qemu_pixels replays them; the BIOS corpus always does, as
test_bios_qemu replays it.
"""

from __future__ import annotations

import importlib.util
import io
from pathlib import Path

import numpy as np
import pytest

from tests.vgaemu.test_qemu_pixels import GOLDEN_DIR, QEMU_COMPAT, TRACES

#: The guest's run is over long before this many 60 Hz frames of virtual time (the
#: slowest trace, with its INT 15h waits, needs a few seconds).
MAX_FRAMES = 60 * 30

#: Traces that still differ from QEMU, with what is wrong (strict: a fix must remove the entry).
XFAIL: dict[str, str] = {}


def _find_oracle():
    from vgaemu.compare import CompareError, find_oracle

    try:
        return find_oracle(), None
    except CompareError as e:
        return None, str(e)


ORACLE, _WHY_SKIP = _find_oracle()
pytestmark = pytest.mark.skipif(ORACLE is None, reason=_WHY_SKIP or "")


@pytest.fixture(scope="session")
def oracle_module():
    """The oracle script as a module (it is standard-library Python): its trace compiler."""
    spec = importlib.util.spec_from_file_location("vgaemu_test_oracle", ORACLE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def image_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("oracle-images")


def build_image(oracle_module, trace: Path, out_dir: Path) -> Path:
    """The disk image ``oracle.py --image`` writes for ``trace``."""
    img, _info = oracle_module.compile_trace(oracle_module.load_trace(str(trace)))
    path = out_dir / f"{trace.stem}.img"
    path.write_bytes(img)
    return path


class BootRun:
    """One boot of an oracle image: the final picture, the debugcon dumps, why it ended."""

    def __init__(self, image: Path, *, qemu_compat: bool) -> None:
        from vgaemu.frontends.headless import HeadlessSink
        from vgaemu.machine import Machine
        from vgaemu.pc.boot import PC, run_frames
        from vgaemu.pc.disk import DiskImage
        from vgaemu.pc.dumphandshake import DebugconScreendumps

        # -m 32, as the oracle runs QEMU
        machine = Machine(memory="32M", vram="16M", qemu_compat=qemu_compat)
        self.output = io.BytesIO()
        pc = PC(machine, hard_disks=[DiskImage(image, "hd", snapshot=True)], output=self.output)
        self.dumps: list[np.ndarray] = []
        DebugconScreendumps(pc.platform, lambda n, m: self.dumps.append(_picture(m)))
        pc.boot()
        sink = HeadlessSink()
        self.frames, self.why = run_frames(pc, sink, MAX_FRAMES)
        self.image = _picture(machine)
        self.debugcon = bytes(self.output.getvalue())
        self.instructions = pc.platform.instructions


def _picture(machine) -> np.ndarray:
    from vgaemu.golden import as_rgb

    return np.array(as_rgb(machine.vga.surface))


def _dump_names(trace: Path) -> list[str]:
    """The trace's intermediate screendump names, in order (as the oracle names them)."""
    from vgaemu.trace import load_trace

    return [op.name for op in load_trace(trace).ops if op.kind == "screendump"]


#: The BIOS corpus (tests/bios/): every trace is compared in qemu_compat mode, its golden
#: next to it, as test_bios_qemu replays them.
BIOS_DIR = Path(__file__).resolve().parents[2] / "bios"
BIOS_TRACES = sorted((BIOS_DIR / "traces").glob("*.json"))


def _corpus():
    """(trace, golden dir, qemu_compat) for the pixel corpus and the BIOS corpus."""
    for p in TRACES:
        yield p, GOLDEN_DIR, p.stem in QEMU_COMPAT
    for p in BIOS_TRACES:
        yield p, BIOS_DIR / "golden", True


def _params():
    for p, golden_dir, compat in _corpus():
        marks = [pytest.mark.xfail(reason=XFAIL[p.stem], strict=True)] if p.stem in XFAIL else []
        yield pytest.param(p, golden_dir, compat, id=p.stem, marks=marks)


def test_xfail_list_names_real_traces():
    names = {p.stem for p, _, _ in _corpus()}
    assert set(XFAIL) <= names, set(XFAIL) - names
    assert len(names) == len(TRACES) + len(BIOS_TRACES), "a trace name is in both corpora"


@pytest.mark.parametrize("trace, golden_dir, compat", list(_params()))
def test_oracle_image_boots_to_qemus_picture(trace: Path, golden_dir: Path, compat: bool,
                                             oracle_module, image_dir, tmp_path_factory):
    from vgaemu.golden import compare_with_golden

    image = build_image(oracle_module, trace, image_dir)
    run = BootRun(image, qemu_compat=compat)
    names = _dump_names(trace)
    status = (f"{trace.stem}: {run.why} after {run.frames} frame(s), {run.instructions} "
              f"instructions; debug console {run.debugcon!r}")
    # the loader's protocol: 'S' per intermediate dump, then 'D' (an 'E' is a disk error)
    assert run.debugcon == b"S" * len(names) + b"D", status
    assert run.why == "halted with interrupts disabled", status
    # a repeated dump name overwrites the oracle's file, so the last one is the golden
    images = {f"{trace.stem}-{name}": img for name, img in zip(names, run.dumps)}
    images = [(trace.stem, run.image)] + list(images.items())
    out_dir = tmp_path_factory.mktemp(trace.stem)
    failures = []
    for label, img in images:
        res = compare_with_golden(img, golden_dir / f"{label}.png", actual_dir=out_dir)
        if not res.matches:
            failures.append(res.message(label))
    mode = " (qemu_compat)" if compat else ""
    assert not failures, f"{status}{mode}:\n  " + "\n  ".join(failures)


def test_cli_boot_writes_qemus_pictures(oracle_module, image_dir, tmp_path, capsys):
    """The command line a user runs gives the same pictures: final and debugcon dumps."""
    from vgaemu.cli import main
    from vgaemu.vga.display import read_image

    trace = next(p for p in TRACES if p.stem == "mix_text_graphics_text")
    image = build_image(oracle_module, trace, image_dir)
    shot = tmp_path / "out.png"
    rc = main(["boot", str(image), "--headless", "-m", "32M", "--serial",
               str(tmp_path / "debugcon.log"), "--screenshot", str(shot),
               "--screenshot-on-debugcon", str(shot)])
    assert rc == 0
    names = _dump_names(trace)
    assert (tmp_path / "debugcon.log").read_bytes() == b"S" * len(names) + b"D"
    pairs = [(shot, trace.stem)] + [(tmp_path / f"out-{n}.png", f"{trace.stem}-{name}")
                                    for n, name in enumerate(names, 1)]
    for actual, golden in pairs:
        assert np.array_equal(read_image(actual), read_image(GOLDEN_DIR / f"{golden}.png")), golden
