"""Shared test switches."""

import pytest


def _qemu_oracle_missing() -> str | None:
    """Why tests that run real QEMU through the oracle can't run here (None when they can)."""
    from vgaemu.compare import CompareError, find_oracle, find_qemu

    try:
        find_qemu()
        find_oracle()
    except CompareError as exc:
        return str(exc)
    return None


_QEMU_MISSING = _qemu_oracle_missing()

#: Real QEMU + the oracle (../shared/oracle) are developer tools, not product dependencies:
#: the tests that need them skip, saying what is missing, on machines without them.
requires_qemu = pytest.mark.skipif(_QEMU_MISSING is not None, reason=_QEMU_MISSING or "")
