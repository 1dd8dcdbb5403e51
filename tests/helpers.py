"""Shared test switches and fakes (imported by the tests that need them)."""

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


def fake_stats(full, lines_redrawn, dirty_pages, bytes_converted, rects, mode="fake"):
    """A real UpdateStats for front-end tests that script frames without a VGA (the surface
    size is the extent of the rectangles)."""
    from vgaemu.vga.display import UpdateStats

    width = max((x + w for x, _, w, _ in rects), default=0)
    height = max((y + h for _, y, _, h in rects), default=0)
    return UpdateStats(full=full, lines_redrawn=lines_redrawn, dirty_pages=dirty_pages,
                       bytes_converted=bytes_converted, rects=tuple(rects), width=width,
                       height=height, mode=mode)


def fake_info(index, stats, update_seconds=0.0):
    from vgaemu.guest import FrameInfo

    return FrameInfo(index, stats, update_seconds)


class FakeHostClock:
    """time.monotonic/time.sleep for the headless module: sleeping advances the clock, and a
    test can make a frame "take" host time."""

    def __init__(self):
        self.now, self.slept = 100.0, []

    def monotonic(self):
        return self.now

    def sleep(self, s):
        assert s > 0
        self.slept.append(s)
        self.now += s
