"""DirtyMemory.take_dirty (the display's one call per frame) against writer threads, with a
tiny switch interval: the display must never keep a stale picture of a page.

Writers store a counter into a page through the address space (data first, then the dirty
bit, as every RAM write does); the display thread calls take_dirty over all pages and
"redraws" each page it reports by reading it. Few pages and frequent frames make most
frames see exactly one dirty page (take_dirty's one-byte clear). Model: once the writers
stop and a last frame runs, what the display last read of every page is what the page
holds -- no write landed after the redraw of its page with its bit lost.

The same runs with the display taking a DirtyRange (take_dirty with its arguments checked
once), while a third thread grows the bitmaps so that the rows move under the range."""

from __future__ import annotations

import random
import threading
import time

import numpy as np
import pytest

from guestmem import AddressSpace, DirtyClient, MemoryRegion, RAMList

from tests.stress.harness import race

P = 4096
NPAGES = 8


@pytest.mark.parametrize("taker", ["take_dirty", "dirty_range"])
def test_take_dirty_never_leaves_a_stale_page(stress_seconds, taker):
    rl = RAMList()
    root = MemoryRegion.container("system", 1 << 32)
    vram = MemoryRegion.ram("vga.vram", NPAGES * P, ram_list=rl)
    vram.set_log(True, DirtyClient.VGA)
    root.add_subregion(0, vram)
    dm = rl.dirty
    base = vram.ram_block.offset
    host = vram.ram_block.host
    shown = np.zeros(NPAGES, dtype=np.uint32)
    stop = threading.Event()
    errors: list[str] = []
    counts = {"frames": 0, "single": 0}

    if taker == "dirty_range":
        take = dm.dirty_range(base, NPAGES * P, DirtyClient.VGA).take
    else:
        def take():
            return dm.take_dirty(base, NPAGES * P, int(DirtyClient.VGA))

    def frame() -> None:
        raw = take()
        if raw is None:
            return
        pages = np.flatnonzero(np.frombuffer(raw, np.uint8))
        counts["frames"] += 1
        counts["single"] += pages.size == 1
        for p in pages.tolist():
            shown[p] = host[p * P:p * P + 4].view(np.uint32)[0]

    def writer(k: int) -> None:
        as_ = AddressSpace(root, f"writer-{k}")
        rng = random.Random(k)
        i = 0
        try:
            while not stop.is_set():
                i += 1
                page = rng.randrange(NPAGES)
                as_.stl_le(page * P, (i << 4) | k)
                if i % 2 == 0:  # let a frame in between: many frames see one page
                    time.sleep(0)
        except BaseException as e:
            errors.append(f"writer {k}: {type(e).__name__}: {e}")

    def display() -> None:
        try:
            while not stop.is_set():
                frame()
        except BaseException as e:
            errors.append(f"display: {type(e).__name__}: {e}")

    rows0 = dm._rows

    def grower() -> None:  # the rows move under the DirtyRange (RAM blocks being added)
        try:
            n = dm.npages
            while not stop.is_set() and n < 1 << 18:  # doubling: the rows move ~8 times
                n *= 2
                dm.grow(n)
                time.sleep(0.01)
        except BaseException as e:
            errors.append(f"grower: {type(e).__name__}: {e}")

    extra = [grower] if taker == "dirty_range" else []
    race([lambda k=k: writer(k) for k in range(2)] + [display] + extra, stress_seconds(1.5), stop,
         until=lambda: counts["frames"] > 10 and counts["single"] > 0)
    frame()  # the frame after the last write
    assert not errors, errors[:5]
    assert counts["frames"] > 10 and counts["single"] > 0, counts
    if taker == "dirty_range":
        assert dm._rows is not rows0, "the bitmaps' rows never moved under the range"
    now = host[:NPAGES * P].reshape(NPAGES, P)[:, :4].copy().view(np.uint32).ravel()
    stale = np.flatnonzero(now != shown)
    assert stale.size == 0, f"pages whose last write was never redrawn: {stale.tolist()}"
