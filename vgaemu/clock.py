"""Virtual time: what the VGA's time-dependent state (cursor and character blink, the
vertical-retrace bit) reads instead of the host clock, so that screenshots repeat exactly.

It advances only when the machine runs a frame (or a guest waits), as QEMU's virtual clock
advances only while the guest runs.
"""

from __future__ import annotations

NANOSECONDS_PER_SECOND = 1_000_000_000
#: The VGA's standard 60 Hz refresh: 16 frames per cursor blink phase (~266 ms), as hardware.
FRAME_NS = NANOSECONDS_PER_SECOND // 60


class VirtualClock:
    """A monotonic nanosecond counter owned by one machine (no process-wide time)."""

    __slots__ = ("now_ns",)

    def __init__(self, start_ns: int = 0) -> None:
        self.now_ns = start_ns

    def advance(self, ns: int) -> int:
        if ns < 0:
            raise ValueError(f"virtual time cannot go backwards (advance by {ns} ns)")
        self.now_ns += ns
        return self.now_ns
