"""The other tree of an A/B benchmark: a git revision of this repository exported into a
directory, so its vgaemu runs in a subprocess (PYTHONPATH=that tree) beside this tree's, in
the same session on the same machine (bench_pio.py, bench_cpu_ab.py, bench_boot.py --base)."""

from __future__ import annotations

import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def export_revision(rev: str, into: Path) -> Path:
    """Write revision ``rev``'s files (git archive) into the existing directory ``into``."""
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", rev],
                             capture_output=True, check=True).stdout
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive, check=True)
    return into
