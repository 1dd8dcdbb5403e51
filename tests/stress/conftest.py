"""The stress suite: concurrency scenarios and fuzzers that run briefly in `make test` (CI)
and for as long as asked in `make stress` (VGAEMU_STRESS_SECONDS, default 30 there)."""

import os

import pytest


def pytest_collection_modifyitems(items):
    for item in items:
        item.add_marker(pytest.mark.stress)


@pytest.fixture
def stress_seconds():
    """How long one scenario runs: a short default for CI, VGAEMU_STRESS_SECONDS when set."""
    def seconds(short: float) -> float:
        value = os.environ.get("VGAEMU_STRESS_SECONDS")
        return float(value) if value else short
    return seconds
