"""Migration's exception type."""

from __future__ import annotations

from vgaemu.errors import VGAEmuError


class MigrationError(VGAEmuError):
    """A migration that cannot start or go on: a bad URI, a broken connection, a stream that
    does not fit this machine (its message says which block, section or field)."""
