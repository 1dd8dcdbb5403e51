"""What every threaded stress scenario does around its threads."""

from __future__ import annotations

import sys
import threading
import time


def race(targets, seconds: float, stop: threading.Event, *, until=None,
         join_timeout: float = 60) -> None:
    """Run one thread per callable in ``targets`` for ``seconds`` with a 1 us switch
    interval (so threads interleave between almost any two bytecodes), then set ``stop``
    and join them; the interval is restored whatever happens.  ``until()``, when given,
    must also be true before they stop (at most a minute more): on a loaded host the
    threads may not have done enough in ``seconds`` for the test's checks to mean much."""
    threads = [threading.Thread(target=t) for t in targets]
    old = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        for t in threads:
            t.start()
        time.sleep(seconds)
        end = time.monotonic() + 60
        while until is not None and not until() and time.monotonic() < end:
            time.sleep(0.05)
    finally:
        stop.set()
        for t in threads:
            t.join(join_timeout)
        sys.setswitchinterval(old)
