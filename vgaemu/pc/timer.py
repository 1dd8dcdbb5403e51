"""QEMU's QEMUTimer on the machine's virtual clock: devices arm a timer for a virtual-time
deadline and the machine loop runs the CPU only up to the earliest one, then fires it.

Deadlines are absolute nanoseconds of :class:`vgaemu.clock.VirtualClock`.  Ties fire in
the order the timers were armed, so a run is the same on every host.
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Callable

from vgaemu.errors import ConfigError


class Timer:
    """One timer (timer_new_ns): ``mod(deadline_ns)`` arms or re-arms it, ``delete()``
    disarms it; ``callback()`` runs at the deadline, from the machine loop."""

    __slots__ = ("timers", "callback", "deadline", "_entry")

    def __init__(self, timers: "TimerList", callback: Callable[[], None]) -> None:
        self.timers = timers
        self.callback = callback
        self.deadline: int | None = None
        self._entry = None

    def mod(self, deadline_ns: int) -> None:
        if isinstance(deadline_ns, bool) or not isinstance(deadline_ns, int):
            raise ConfigError(f"timer deadline {deadline_ns!r}: expected an integer (ns)")
        self.delete()
        self.deadline = deadline_ns
        timers = self.timers
        self._entry = [deadline_ns, next(timers._seq), self]
        heapq.heappush(timers._heap, self._entry)
        if timers.slice_end is not None and deadline_ns < timers.slice_end:
            timers.slice_end = deadline_ns
            timers.kick()   # qemu_clock_notify: the running slice must end sooner

    def delete(self) -> None:
        if self._entry is not None:
            self._entry[2] = None   # lazily removed from the heap
            self._entry = None
        self.deadline = None

    @property
    def pending(self) -> bool:
        return self._entry is not None


class TimerList:
    """The armed timers of one clock, earliest first (QEMUTimerList)."""

    def __init__(self, clock) -> None:
        self.clock = clock
        self._heap: list = []
        self._seq = itertools.count()
        #: the end of the CPU slice in progress (None between slices), and what makes the
        #: CPU stop early when a timer is armed before it
        self.slice_end: int | None = None
        self.kick: Callable[[], None] = lambda: None

    def new_timer(self, callback: Callable[[], None]) -> Timer:
        return Timer(self, callback)

    def _drop_dead(self) -> None:
        heap = self._heap
        while heap and heap[0][2] is None:
            heapq.heappop(heap)

    def deadline(self) -> int | None:
        """The earliest armed deadline (ns), or None."""
        self._drop_dead()
        return self._heap[0][0] if self._heap else None

    def run_due(self) -> int:
        """Fire every timer whose deadline is <= now (a callback may re-arm its timer or
        arm others, which fire too when already due).  Returns how many fired."""
        now = self.clock.now_ns
        n = 0
        heap = self._heap
        while True:
            self._drop_dead()
            if not heap or heap[0][0] > now:
                return n
            _, _, timer = heapq.heappop(heap)
            timer._entry = None
            timer.deadline = None
            timer.callback()
            n += 1
