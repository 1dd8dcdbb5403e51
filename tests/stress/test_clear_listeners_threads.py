"""DirtyMemory's clear listeners (the CPU TLB's reset_dirty_range, added and removed while
the display clears) against threads that add and remove listeners, with a tiny switch
interval.

One thread clears bits, numbering each clear as it starts and counting it as it ends; each
listener records the numbers of the clears it hears. Two churner threads each add a
listener, wait for clears, and remove it. Model:
- heard: a clear that started after add_clear_listener returned and ended before
  remove_clear_listener was called reached the listener (no add lost to a racing add or
  remove);
- silent after removal: no clear that started after remove_clear_listener returned reached
  it;
- at the end only the listeners never removed are left."""

from __future__ import annotations

import threading

import pytest

from guestmem import DirtyClient
from guestmem.dirty import DirtyMemory

from tests.stress.harness import race

P = 4096
NPAGES = 16


@pytest.mark.parametrize("clear", ["take_dirty", "dirty_range", "clear_dirty_range"])
def test_clear_listeners_hear_every_clear_while_they_are_added(stress_seconds, clear):
    dm = DirtyMemory(NPAGES)
    vga = int(DirtyClient.VGA)
    rng = dm.dirty_range(0, NPAGES * P, vga)
    ops = {"take_dirty": lambda: dm.take_dirty(0, NPAGES * P, vga),
           "dirty_range": rng.take,
           "clear_dirty_range": lambda: dm.clear_dirty_range(0, NPAGES * P, 1 << vga)}
    do_clear = ops[clear]
    clock = {"started": 0, "ended": 0, "current": 0}
    stop = threading.Event()
    errors: list[str] = []
    permanent: list[int] = []
    dm.add_clear_listener(lambda *a: permanent.append(clock["current"]))
    lifetimes: list[tuple[list[int], int, int, int]] = []

    def clearer():
        page = 0
        while not stop.is_set():
            dm.set_dirty_range(page * P, 1, 1 << vga)
            page = (page + 1) % NPAGES
            clock["started"] += 1
            clock["current"] = clock["started"]
            do_clear()
            clock["ended"] += 1

    def churner():
        while not stop.is_set():
            heard: list[int] = []
            fn = lambda *a, heard=heard: heard.append(clock["current"])  # noqa: E731
            dm.add_clear_listener(fn)
            after_add = clock["started"]
            target = clock["ended"] + 2
            while clock["ended"] < target and not stop.is_set():
                pass
            before_remove = clock["ended"]
            dm.remove_clear_listener(fn)
            after_remove = clock["started"]
            lifetimes.append((heard, after_add, before_remove, after_remove))

    race([clearer, churner, churner], stress_seconds(1.0), stop,
         until=lambda: len(lifetimes) >= 50)
    for heard, after_add, before_remove, after_remove in lifetimes:
        # Clears numbered after_add + 1 .. before_remove started after the add returned and
        # ended before the remove began. (A clear's number is at most the started count.)
        must = set(range(after_add + 1, before_remove + 1))
        missing = must - set(heard)
        if missing:
            errors.append(f"listener added after clear {after_add}, removed after clear "
                          f"{before_remove}, missed clears {sorted(missing)[:5]}")
        late = [n for n in heard if n > after_remove]
        if late:
            errors.append(f"listener removed after clear {after_remove} began heard {late[:5]}")
    assert not errors, errors[:5]
    assert len(lifetimes) >= 50 and clock["ended"] > 100, (len(lifetimes), clock)
    assert len(dm._clear_listeners) == 1  # the permanent one: no add or remove lost
    assert permanent and permanent == sorted(permanent)
