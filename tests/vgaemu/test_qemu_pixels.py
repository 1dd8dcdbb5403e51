"""Every trace in tests/traces/ replayed here must equal real QEMU's screendump to the pixel.

The goldens in tests/golden/qemu/ are QEMU 7.2's screendumps of the same traces, made by the
oracle (``make qemu-goldens``), so this test needs no QEMU. Each trace is one test (its final
screenshot and every intermediate ``screendump`` op). Traces listed in
tests/traces/qemu_compat.txt show a documented QEMU-vs-hardware difference and run with
``qemu_compat=True``. On a mismatch the actual picture and a diff image (differing pixels red)
are written to a temporary directory named in the failure, with the count of differing pixels.
"""

from __future__ import annotations

import importlib
from pathlib import Path

import numpy as np
import pytest

TESTS = Path(__file__).resolve().parents[1]
TRACE_DIR = TESTS / "traces"
GOLDEN_DIR = TESTS / "golden" / "qemu"
TRACES = sorted(TRACE_DIR.glob("*.json"))


def load_compat_list(path: Path = TRACE_DIR / "qemu_compat.txt") -> dict[str, str]:
    """``name: reason`` lines (``#`` comments) -> {name: reason}."""
    out = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            name, _, reason = line.partition(":")
            out[name.strip()] = reason.strip()
    return out


QEMU_COMPAT = load_compat_list()

#: Traces that still differ from QEMU, with what is wrong (strict: a fix must remove the entry).
XFAIL: dict[str, str] = {}


def _missing_machine() -> str | None:
    for mod in ("vgaemu.machine", "vgaemu.bios"):
        try:
            importlib.import_module(mod)
        except ImportError as e:
            return f"{mod} cannot be imported yet ({e}); the pixel tests need the Machine and the BIOS"
    return None


_why_skip = _missing_machine()
pytestmark = pytest.mark.skipif(_why_skip is not None, reason=_why_skip or "")


def _params():
    for p in TRACES:
        marks = []
        if p.stem in XFAIL:
            marks.append(pytest.mark.xfail(reason=XFAIL[p.stem], strict=True))
        yield pytest.param(p, id=p.stem, marks=marks)


def test_compat_list_names_real_traces():
    names = {p.stem for p in TRACES}
    assert set(QEMU_COMPAT) <= names, set(QEMU_COMPAT) - names
    assert set(XFAIL) <= names, set(XFAIL) - names


@pytest.mark.parametrize("trace", list(_params()))
def test_trace_matches_qemu(trace: Path, tmp_path_factory):
    from vgaemu.golden import compare_with_golden
    from vgaemu.trace import replay

    compat = trace.stem in QEMU_COMPAT
    result = replay(trace, qemu_compat=compat)
    # a repeated screendump name overwrites the oracle's file, so the last one is the golden
    images = {f"{trace.stem}-{d.name}": d.image for d in result.screendumps}
    images = [(trace.stem, result.image)] + list(images.items())
    out_dir = tmp_path_factory.mktemp(trace.stem)
    failures = []
    for label, image in images:
        golden = GOLDEN_DIR / f"{label}.png"
        assert golden.exists(), f"{golden} missing: run `make qemu-goldens` where QEMU is installed"
        res = compare_with_golden(image, golden, actual_dir=out_dir)
        if not res.matches:
            failures.append(res.message(label))
    mode = " (qemu_compat: " + QEMU_COMPAT[trace.stem] + ")" if compat else ""
    assert not failures, f"{trace.stem}{mode}:\n  " + "\n  ".join(failures)


@pytest.mark.parametrize("name", sorted(QEMU_COMPAT))
def test_compat_trace_shows_a_difference_in_hardware_mode(name: str):
    """A trace in qemu_compat.txt documents a hardware-vs-QEMU difference: in the default
    (hardware) mode at least one of its screenshots must differ from QEMU's."""
    from vgaemu.vga.display import read_image
    from vgaemu.trace import replay

    result = replay(TRACE_DIR / f"{name}.json", qemu_compat=False)
    images = {f"{name}-{d.name}": d.image for d in result.screendumps}
    images[name] = result.image
    same = [label for label, image in images.items()
            if np.array_equal(image, read_image(GOLDEN_DIR / f"{label}.png"))]
    assert len(same) < len(images), f"{name}: hardware mode draws what QEMU draws"
