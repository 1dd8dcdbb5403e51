"""Replay traces here and in real QEMU and count the pixels that differ.

This is the tool for "my screenshot looks wrong": ``compare([trace], out_dir=...)`` runs each
trace on vgaemu and through the QEMU oracle (a boot disk that performs the trace in
``qemu-system-i386 -vga std``, whose QMP ``screendump`` is the reference), and returns one row
per screenshot (the final one and every intermediate ``screendump`` op). Every mismatch leaves
three PNGs in ``out_dir``: ``<trace>[-<dump>].vgaemu.png``, ``.qemu.png`` and ``.diff.png``
(differing pixels red over a dimmed copy of QEMU's picture).

The oracle is a separate script (``oracle.py``). It is looked up in this order: the
``oracle`` argument, ``$VGAEMU_ORACLE``, ``oracle/oracle.py`` in or next to the repository
(``../shared/oracle/oracle.py`` in the development checkout). Without QEMU, ``qemu=False``
compares with committed goldens (``golden_dir``) instead.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Sequence

from vgaemu.errors import VGAEmuError

REPO_ROOT = Path(__file__).resolve().parents[1]
QEMU_BINARIES = ("qemu-system-i386", "qemu-system-x86_64")


class CompareError(VGAEmuError):
    """Comparison impossible: no QEMU, no oracle, or no golden directory."""


@dataclass(frozen=True, slots=True)
class CompareRow:
    """One screenshot compared. ``differing`` is None when the comparison could not be made
    (``error`` says why); a size mismatch counts every pixel of the larger picture."""

    trace: str
    dump: str | None  # None: the final screenshot; else the screendump op's name
    size: tuple[int, int] | None  # vgaemu's (width, height)
    reference_size: tuple[int, int] | None  # QEMU's (or the golden's)
    differing: int | None
    diff_path: Path | None = None
    error: str | None = None

    @property
    def label(self) -> str:
        return self.trace if self.dump is None else f"{self.trace}-{self.dump}"

    @property
    def matches(self) -> bool:
        return self.differing == 0 and self.error is None


def find_oracle(oracle: str | os.PathLike | None = None) -> Path:
    """The oracle script: explicit path, $VGAEMU_ORACLE, or next to the repository."""
    tried = []
    candidates = [oracle, os.environ.get("VGAEMU_ORACLE"),
                  REPO_ROOT / "oracle" / "oracle.py",
                  REPO_ROOT.parent / "oracle" / "oracle.py",
                  REPO_ROOT.parent / "shared" / "oracle" / "oracle.py"]
    for c in candidates:
        if not c:
            continue
        p = Path(c)
        if p.is_dir():
            p = p / "oracle.py"
        tried.append(str(p))
        if p.is_file():
            return p.resolve()
    raise CompareError("the QEMU oracle (oracle.py) was not found; set VGAEMU_ORACLE=/path/to/oracle.py "
                       "(tried: " + ", ".join(tried) + ")")


def find_qemu(qemu: str | None = None) -> str:
    for name in ([qemu] if qemu else QEMU_BINARIES):
        path = shutil.which(name)
        if path:
            return path
    raise CompareError(f"QEMU is not installed ({' / '.join([qemu] if qemu else QEMU_BINARIES)} not on PATH);"
                       " install qemu-system-x86 (Debian/Ubuntu) or compare with goldens (qemu=False)")


def _run_oracle(oracle: Path, qemu: str, trace: Path, out: Path, timeout: float) -> str | None:
    cmd = [sys.executable, str(oracle), "--qemu", qemu, "--timeout", str(timeout), str(trace), str(out)]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout + 30)
    except subprocess.TimeoutExpired:
        return f"the oracle did not finish within {timeout + 30:.0f} s"
    if proc.returncode != 0:
        msg = (proc.stderr or proc.stdout).strip().splitlines()
        return "QEMU oracle failed: " + (msg[-1] if msg else f"exit status {proc.returncode}")
    return None


def compare(traces: Iterable[str | os.PathLike], *, qemu: bool | None = None, out_dir: str | os.PathLike,
            qemu_compat: bool = False, oracle: str | os.PathLike | None = None,
            qemu_binary: str | None = None, golden_dir: str | os.PathLike | None = None,
            jobs: int = 2, timeout: float = 60.0, side_by_side: bool = False) -> list[CompareRow]:
    """Compare vgaemu's screenshots of each trace with QEMU's (or with ``golden_dir``).

    QEMU runs ``jobs`` traces in parallel while vgaemu replays; a trace that fails on one side
    gives a row with ``error`` set and the others still run. ``side_by_side`` also writes
    ``<label>.side.png`` (QEMU | vgaemu, with the diff as a third panel on a mismatch) for
    every screenshot, matching or not -- the picture for a README or a bug report.
    ``qemu`` defaults to True without ``golden_dir`` and to False with it (no QEMU needed).
    """
    from vgaemu.golden import count_differences, diff_image
    from vgaemu.trace import load_trace, replay
    from vgaemu.vga.display import read_image, write_png

    paths = [Path(t) for t in traces]
    out = Path(out_dir)
    if qemu is None:
        qemu = golden_dir is None
    if qemu:
        oracle_path = find_oracle(oracle)
        qemu_path = find_qemu(qemu_binary)
    elif golden_dir is None:
        raise CompareError("qemu=False needs golden_dir (a directory of <trace>.png screendumps)")
    for p in paths:
        if not p.is_file():
            raise CompareError(f"{p}: no such trace file")
    if golden_dir is not None and not qemu and not Path(golden_dir).is_dir():
        raise CompareError(f"golden_dir {golden_dir}: no such directory")
    out.mkdir(parents=True, exist_ok=True)   # only once the arguments are known to be good

    pool = ThreadPoolExecutor(max_workers=max(1, jobs)) if qemu else None
    futures = {}
    if pool is not None:
        for p in paths:
            futures[p] = pool.submit(_run_oracle, oracle_path, qemu_path, p.resolve(),
                                     (out / f"{p.stem}.qemu.png").resolve(), timeout)
    rows: list[CompareRow] = []
    try:
        for p in paths:
            name = p.stem
            try:
                parsed = load_trace(p)
                result = replay(parsed, qemu_compat=qemu_compat)
                # a repeated dump name overwrites QEMU's file: compare the last one
                dumps = {d.name: d.image for d in result.screendumps}
                mine = [(None, result.image)] + list(dumps.items())
                local_error = None
            except VGAEmuError as e:
                mine, local_error = [], str(e)
            if qemu:
                ref_error = futures[p].result()

                def ref_path(dump, name=name):
                    return out / (f"{name}.qemu.png" if dump is None else f"{name}.qemu-{dump}.png")
            else:
                ref_error = None

                def ref_path(dump, name=name):
                    return Path(golden_dir) / (f"{name}.png" if dump is None else f"{name}-{dump}.png")
            if local_error or ref_error:
                rows.append(CompareRow(name, None, None, None, None,
                                       error=local_error or ref_error))
                continue
            for dump, image in mine:
                label = name if dump is None else f"{name}-{dump}"
                size = (image.shape[1], image.shape[0])
                rp = ref_path(dump)
                if not rp.is_file():
                    rows.append(CompareRow(name, dump, size, None, None, error=f"no reference image {rp}"))
                    continue
                ref = read_image(str(rp))
                rsize = (ref.shape[1], ref.shape[0])
                n = count_differences(image, ref)
                diff_path = None
                if n:
                    write_png(str(out / f"{label}.vgaemu.png"), image)
                    if not qemu:
                        write_png(str(out / f"{label}.qemu.png"), ref)
                    if rsize == size:
                        diff_path = out / f"{label}.diff.png"
                        write_png(str(diff_path), diff_image(image, ref))
                if side_by_side:
                    write_png(str(out / f"{label}.side.png"), side_by_side_image(ref, image))
                rows.append(CompareRow(name, dump, size, rsize, n, diff_path))
    finally:
        if pool is not None:
            pool.shutdown(wait=True)
    return rows


def side_by_side_image(reference, actual, gap: int = 8):
    """QEMU's picture, then vgaemu's, then (if they differ and have one size) the diff, on a
    dark grey strip; pictures of different sizes are top-aligned."""
    import numpy as np

    from vgaemu.golden import diff_image

    panels = [reference, actual]
    if reference.shape == actual.shape and (reference != actual).any():
        panels.append(diff_image(actual, reference))
    h = max(p.shape[0] for p in panels)
    w = sum(p.shape[1] for p in panels) + gap * (len(panels) - 1)
    out = np.full((h, w, 3), 48, dtype=np.uint8)
    x = 0
    for p in panels:
        out[:p.shape[0], x:x + p.shape[1]] = p
        x += p.shape[1] + gap
    return out


def format_table(rows: Sequence[CompareRow]) -> str:
    """A plain-text table: trace, vgaemu size, QEMU size, differing pixels (or the error)."""
    def fmt(s):
        return f"{s[0]}x{s[1]}" if s else "-"

    header = ("trace", "size", "qemu size", "differing pixels")
    lines = [header]
    for r in rows:
        if r.error:
            result = f"ERROR: {r.error}"
        elif r.differing == 0:
            result = "0 (identical)"
        else:
            total = (r.size[0] * r.size[1]) if r.size else 0
            pct = f" ({100.0 * r.differing / total:.2f}%)" if total and r.size == r.reference_size else ""
            note = "" if r.size == r.reference_size else " (size differs)"
            result = f"{r.differing}{pct}{note}" + (f"  diff: {r.diff_path}" if r.diff_path else "")
        lines.append((r.label, fmt(r.size), fmt(r.reference_size), result))
    widths = [max(len(l[i]) for l in lines) for i in range(3)]
    out = []
    for i, l in enumerate(lines):
        out.append("  ".join(l[j].ljust(widths[j]) for j in range(3)) + "  " + l[3])
        if i == 0:
            out.append("  ".join("-" * w for w in widths) + "  " + "-" * len(header[3]))
    bad = sum(1 for r in rows if not r.matches)
    out.append(f"{len(rows)} screenshot(s), {len(rows) - bad} identical, {bad} differ or failed")
    return "\n".join(out)


__all__ = ["CompareRow", "CompareError", "compare", "format_table", "find_oracle", "find_qemu",
           "side_by_side_image"]
