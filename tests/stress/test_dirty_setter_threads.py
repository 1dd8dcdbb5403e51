"""A device marking its RAM through MemoryRegion.dirty_setter in one thread (as the VGA's
planar window does, once per byte) while a display thread snapshots and clears the VGA bits
in another, with a tiny switch interval and no lock between them.  Model: the display reads
each page its snapshot shows dirty; after the writer stops and one last snapshot, what the
display read last from every page is what the writer stored there last -- the setter's
remembered page never outlives a clear, so no store is lost."""

import random
import threading

import numpy as np

from guestmem import DIRTY_MEMORY_VGA, MemoryRegion, RAMList

from tests.stress.harness import race

PAGES = 16
SIZE = PAGES * 4096


def test_setter_marks_are_never_lost_to_a_clearing_reader(stress_seconds):
    rl = RAMList()
    mr = MemoryRegion.ram("dev.ram", SIZE, ram_list=rl)
    mr.set_log(True, DIRTY_MEMORY_VGA)
    host = mr.get_ram_ptr().view(np.uint32)
    setter = mr.dirty_setter()
    last = [0] * PAGES            # the writer's last token per page
    seen = [0] * PAGES            # the display's last read per page
    stop = threading.Event()

    def deliver():
        snap = mr.snapshot_and_clear_dirty(0, SIZE, DIRTY_MEMORY_VGA)
        for p in np.flatnonzero(snap.pages_in(snap.start, SIZE)).tolist():
            seen[p] = int(host[p * 1024])

    def writer():
        rng = random.Random(7)
        token = p = 0
        while not stop.is_set():
            if rng.random() < 0.01:   # long runs on one page, as a device's stores
                p = rng.randrange(PAGES)
            token += 1
            host[p * 1024] = token    # the store, then the mark (as notdirty_write)
            setter(p * 4096 + rng.randrange(0, 4093), rng.choice((1, 2, 4)))
            last[p] = token

    def display():
        while not stop.is_set():
            deliver()

    race([writer, display], stress_seconds(1.5), stop)
    deliver()
    assert seen == last
    assert sum(last) > 0
