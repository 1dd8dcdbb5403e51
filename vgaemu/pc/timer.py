"""QEMU's QEMUTimer on the machine's virtual clock: devices arm a timer for a virtual-time
deadline and the machine loop runs the CPU only up to the earliest one, then fires it.

Deadlines are absolute nanoseconds of :class:`vgaemu.clock.VirtualClock`.  Ties fire in
the order the timers were armed, so a run is the same on every host.  A migration carries
each armed timer's deadline and arming number in its owner's section (QEMU's
VMSTATE_TIMER_PTR; :meth:`Timer.vmstate_save`), and the list's counter in the platform's,
so the destination fires them in the same order as the source would have.
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Callable

from vgaemu.errors import ConfigError


#: A heap entry is [deadline, arming number, entry id, timer]: the id keeps two entries of
#: equal deadline and number (a restored timer beside one the destination armed at its own
#: start, before that one is restored too) from ever comparing timers.
_entry_ids = itertools.count()


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
        seq = timers.next_seq
        timers.next_seq = seq + 1
        self._entry = [deadline_ns, seq, next(_entry_ids), self]
        heapq.heappush(timers._heap, self._entry)
        if timers.slice_end is not None and deadline_ns < timers.slice_end:
            timers.slice_end = deadline_ns
            timers.kick()   # qemu_clock_notify: the running slice must end sooner

    def delete(self) -> None:
        if self._entry is not None:
            self._entry[3] = None   # lazily removed from the heap
            self._entry = None
        self.deadline = None

    @property
    def pending(self) -> bool:
        return self._entry is not None

    # -- migration (VMSTATE_TIMER_PTR) ---------------------------------------------------
    def vmstate_save(self) -> list[int] | None:
        """``[deadline, arming number]`` while armed, else None."""
        return None if self._entry is None else [self._entry[0], self._entry[1]]

    def vmstate_load(self, saved: list[int] | None) -> None:
        """Re-arm (or disarm) as :meth:`vmstate_save` recorded, keeping the arming number so
        ties fire in the source's order.  Nothing here ends a running slice: loads happen
        between slices."""
        self.delete()
        timers = self.timers
        # Dead entries go first: one may carry the very (deadline, number) restored here.
        timers._heap = [e for e in timers._heap if e[3] is not None]
        heapq.heapify(timers._heap)
        if saved is not None:
            deadline, seq = saved
            self.deadline = deadline
            self._entry = [deadline, seq, next(_entry_ids), self]
            heapq.heappush(timers._heap, self._entry)


class TimerList:
    """The armed timers of one clock, earliest first (QEMUTimerList)."""

    def __init__(self, clock) -> None:
        self.clock = clock
        self._heap: list = []
        #: the arming number the next ``mod`` takes (ties fire in arming order)
        self.next_seq = 0
        #: the end of the CPU slice in progress (None between slices), and what makes the
        #: CPU stop early when a timer is armed before it
        self.slice_end: int | None = None
        self.kick: Callable[[], None] = lambda: None

    def new_timer(self, callback: Callable[[], None]) -> Timer:
        return Timer(self, callback)

    def _drop_dead(self) -> None:
        heap = self._heap
        while heap and heap[0][3] is None:
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
            _, _, _, timer = heapq.heappop(heap)
            timer._entry = None
            timer.deadline = None
            timer.callback()
            n += 1

