"""The stress suite: concurrency scenarios and fuzzers that run briefly in `make test` (CI)
and for as long as asked in `make stress` (VGAEMU_STRESS_SECONDS, default 30 there)."""

import os
from pathlib import Path

import pytest


_HERE = Path(__file__).resolve().parent


def pytest_collection_modifyitems(items):
    # The hook sees every item of the session: mark only this directory's.
    for item in items:
        if _HERE in Path(str(item.path)).resolve().parents:
            item.add_marker(pytest.mark.stress)


@pytest.fixture
def stress_seconds():
    """How long one scenario runs: a short default for CI, VGAEMU_STRESS_SECONDS when set."""
    def seconds(short: float) -> float:
        value = os.environ.get("VGAEMU_STRESS_SECONDS")
        return float(value) if value else short
    return seconds
