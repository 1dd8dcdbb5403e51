"""guestmem.rcu: synchronize_rcu waits for other threads' read-side sections, not its own."""

import threading
import time

from guestmem.rcu import rcu_read_side, readers_active, synchronize_rcu


def test_no_readers_returns_at_once():
    synchronize_rcu()
    assert not readers_active()


def test_waits_for_a_reader_in_another_thread_then_returns():
    inside, release = threading.Event(), threading.Event()

    @rcu_read_side
    def reader():
        inside.set()
        release.wait(10)

    t = threading.Thread(target=reader)
    t.start()
    assert inside.wait(10)
    assert readers_active()
    done = threading.Event()
    s = threading.Thread(target=lambda: (synchronize_rcu(), done.set()))
    s.start()
    time.sleep(0.2)
    assert not done.is_set()          # the reader is still inside
    release.set()
    assert done.wait(10)
    t.join(10)
    s.join(10)


def test_a_reader_calling_synchronize_does_not_wait_for_itself():
    @rcu_read_side
    def reader_that_frees():
        synchronize_rcu()
        return "done"

    assert reader_that_frees() == "done"


def test_readers_that_start_later_are_not_waited_for():
    """A grace period only waits for sections running when it began: a stream of new
    readers cannot starve it."""
    stop = threading.Event()

    @rcu_read_side
    def short_reader():
        time.sleep(0.001)

    def loop():
        while not stop.is_set():
            short_reader()

    threads = [threading.Thread(target=loop) for _ in range(3)]
    for t in threads:
        t.start()
    try:
        t0 = time.monotonic()
        for _ in range(20):
            synchronize_rcu()
        assert time.monotonic() - t0 < 10
    finally:
        stop.set()
        for t in threads:
            t.join(10)
