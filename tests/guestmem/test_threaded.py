"""One thread writes, another snapshots and clears: no dirty page may be lost."""

import random
import sys
import threading

import numpy as np
import pytest

from guestmem import AddressSpace, DirtyClient, MemoryRegion, RAMList

P = 4096
NPAGES = 1024


@pytest.mark.parametrize("writers", [1, 2])
def test_concurrent_snapshot_and_clear_loses_no_page(writers):
    rl = RAMList()
    root = MemoryRegion.container("system", 1 << 32)
    vram = MemoryRegion.ram("vga.vram", NPAGES * P, ram_list=rl)
    vram.set_log(True, DirtyClient.VGA)
    root.add_subregion(0, vram)
    spaces = [AddressSpace(root, f"cpu-memory-{i}") for i in range(writers)]  # one per thread
    vram.reset_dirty(0, NPAGES * P, DirtyClient.VGA)

    written = np.zeros((writers, NPAGES), dtype=bool)
    seen = np.zeros(NPAGES, dtype=bool)
    finished = []
    done = threading.Event()
    snapshots = [0]

    def writer(k):
        as_ = spaces[k]
        rng = random.Random(1234 + k)
        try:
            for i in range(60000 // writers):
                page = rng.randrange(NPAGES)
                off = page * P + rng.randrange(P - 8)
                kind = i % 3
                if kind == 0:
                    as_.stl_le(off, i)
                elif kind == 1:
                    as_.write(off, b"\x55" * 8)
                else:
                    m = as_.map(off, 8, True)
                    m.buf[:] = 1
                    as_.unmap(m, True, 8)
                written[k, page] = True
        finally:
            finished.append(k)
            if len(finished) == writers:
                done.set()

    def snapshotter():
        while not done.is_set():
            snap = vram.snapshot_and_clear_dirty(0, NPAGES * P, DirtyClient.VGA)
            seen[:] |= snap.pages
            snapshots[0] += 1

    old = sys.getswitchinterval()
    sys.setswitchinterval(1e-5)
    try:
        threads = [threading.Thread(target=writer, args=(k,)) for k in range(writers)]
        threads.append(threading.Thread(target=snapshotter))
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
    finally:
        sys.setswitchinterval(old)
    final = vram.snapshot_and_clear_dirty(0, NPAGES * P, DirtyClient.VGA)
    seen |= final.pages
    assert snapshots[0] > 10
    written = written.any(axis=0)
    assert written.any()
    missing = np.flatnonzero(written & ~seen)
    assert missing.size == 0, f"pages written but never reported dirty: {missing[:10]}"
    assert not (seen & ~written).any()
