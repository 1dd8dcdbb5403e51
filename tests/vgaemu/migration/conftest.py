"""Fixtures for the migration tests."""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import pytest

# qmp_helpers (GuestThread) lives beside the QMP tests.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "qmp"))


@pytest.fixture
def sockdir():
    with tempfile.TemporaryDirectory(prefix="vgm") as d:
        yield d
