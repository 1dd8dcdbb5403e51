"""Fixtures for the migration tests."""

from __future__ import annotations

import tempfile

import pytest


@pytest.fixture
def sockdir():
    with tempfile.TemporaryDirectory(prefix="vgm") as d:
        yield d
