"""Assemble small NASM snippets for the PC platform tests (nasm is a test dependency)."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest


def nasm(source: str, org: int = 0x7C00) -> bytes:
    if shutil.which("nasm") is None:
        pytest.skip("nasm is not installed")
    with tempfile.TemporaryDirectory() as d:
        src = Path(d) / "t.asm"
        src.write_text(f"bits 16\norg {org:#x}\n{source}\n")
        subprocess.run(["nasm", "-f", "bin", "-o", str(Path(d) / "t.bin"), str(src)], check=True)
        return (Path(d) / "t.bin").read_bytes()
