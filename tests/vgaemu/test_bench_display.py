"""benchmarks/bench_display.py still runs, alone and as an A/B against a git revision (its
numbers are not checked: tests never assert timings)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "benchmarks" / "bench_display.py"
MODES = ["mode 13h", "mode 12h", "text 80x25", "VBE 640x480x32", "VBE 1024x768x32"]


def _run(*args: str) -> str:
    env = {**os.environ, "SDL_VIDEODRIVER": "dummy"}
    out = subprocess.run([sys.executable, str(SCRIPT), *args], capture_output=True, text=True,
                         env=env, cwd=ROOT, timeout=600)
    assert out.returncode == 0, out.stderr
    return out.stdout


def test_bench_display_prints_every_mode_and_its_budget():
    out = _run("--repeat", "2", "--cpu")
    budget = out.split("within budget")[1]
    for mode in MODES:
        assert mode in budget


def test_bench_display_json_has_each_partial_kind():
    data = json.loads(_run("--repeat", "2", "--json").strip().splitlines()[-1])
    assert sorted(data) == sorted(MODES)
    for costs in data.values():
        assert set(costs) == {"full", "share", "line", "warm", "evicted", "steady"}
        assert costs["full"] > 0 and costs["share"] >= 0


@pytest.mark.skipif(shutil.which("git") is None or not (ROOT / ".git").exists(),
                    reason="needs the git repository (the base tree is a git archive)")
def test_bench_display_compares_with_a_revision():
    out = _run("--base", "HEAD", "--rounds", "1", "--repeat", "2")
    assert "HEAD -> this tree" in out
    for mode in MODES:
        row = next(line for line in out.splitlines() if line.startswith(mode))
        assert row.count("->") == 5  # full and the four partial kinds


def test_bench_display_refuses_a_bad_round_count():
    out = subprocess.run([sys.executable, str(SCRIPT), "--base", "HEAD", "--rounds", "0"],
                         capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert out.returncode == 2 and "--rounds" in out.stderr
