"""Issue 9.1: writers keep writing while pc-dimms are plugged and unplugged.

Three writer threads store 4-byte values into VRAM and into the device-memory window, a
fourth plugs and unplugs pc-dimms in a loop, a fifth snapshots-and-clears VRAM's VGA bits,
all with a tiny switch interval.  The model:

* no access raises (a write either lands or returns a MemTxResult error);
* every VRAM write that returned OK is reported by a snapshot that was running or began
  after the write began (the one snapshotter runs them one after another);
* every VRAM slot holds the last value its writer stored there;
* no write lands in an unplugged DIMM: a backend's bytes never change between its unplug
  and its next plug.
"""

from __future__ import annotations

import random
import sys
import threading
import time

import numpy as np
import pytest

from guestmem import AddressSpace, DirtyClient, MachineMemory, MemoryRegion, MemTxResult, RAMList
from guestmem.backends import MemoryBackendRam

P = 4096
MiB = 1 << 20
VRAM_BASE = 0xE000_0000
VRAM_PAGES = 256
DIMM_SIZE = 2 * MiB
WRITERS = 3


def _machine():
    rl = RAMList()
    sysmem = MemoryRegion.container("system", 1 << 64)
    mm = MachineMemory("16M,slots=4,maxmem=1G", ram_list=rl, system_memory=sysmem)
    vram = MemoryRegion.ram("vga.vram", VRAM_PAGES * P, ram_list=rl)
    vram.set_log(True, DirtyClient.VGA)
    sysmem.add_subregion(VRAM_BASE, vram)
    vram.reset_dirty(0, VRAM_PAGES * P, DirtyClient.VGA)
    backends = [MemoryBackendRam(f"mem{i}", DIMM_SIZE) for i in range(3)]
    for b in backends:
        mm.add_object(b)
    return rl, sysmem, mm, vram, backends


@pytest.mark.parametrize("shared", [False, True], ids=["space-per-writer", "one-shared-space"])
def test_hotplug_under_writers_loses_nothing(shared, stress_seconds):
    rl, sysmem, mm, vram, backends = _machine()
    dm_base = mm.device_memory_base
    window = 3 * DIMM_SIZE
    if shared:
        spaces = [AddressSpace(sysmem, "memory")] * WRITERS
    else:
        spaces = [AddressSpace(sysmem, f"cpu-memory-{i}") for i in range(WRITERS)]
    seconds = stress_seconds(1.5)

    stop = threading.Event()
    errors: list[str] = []
    started = [0]                       # snapshots begun
    last_seen = np.full(VRAM_PAGES, -1, dtype=np.int64)   # last snapshot index holding a page
    # need[w, page]: writer w's last OK write there requires a snapshot index >= this
    need = np.full((WRITERS, VRAM_PAGES), -2, dtype=np.int64)
    # VRAM slot k*8 + w (4 bytes) belongs to writer w: the model of the final contents.
    last_value: dict[int, int] = {}
    unplugged_copy: dict[str, np.ndarray] = {}
    counts = {"ok": 0, "error": 0, "plugs": 0, "snapshots": 0}

    def writer(w):
        as_ = spaces[w]
        rng = random.Random(77 + w)
        seq = 0
        try:
            while not stop.is_set():
                seq += 1
                value = (w << 28) | (seq & 0x0FFF_FFFF)
                if rng.random() < 0.5:
                    slot = rng.randrange(VRAM_PAGES * P // 16) * 16 + 4 * w
                    # Snapshots up to k0 - 2 ended before this write began; one of the
                    # later ones must report it.
                    k0 = started[0]
                    if seq & 1:
                        r = as_.stl_le(VRAM_BASE + slot, value)
                    else:
                        r = as_.write(VRAM_BASE + slot, value.to_bytes(4, "little"))
                    if r != MemTxResult.OK:
                        errors.append(f"VRAM write at {slot:#x} returned {r!r}")
                        return
                    need[w, slot // P] = k0 - 1   # k0 only grows: the strictest so far
                    last_value[slot] = value
                    counts["ok"] += 1
                else:
                    addr = dm_base + rng.randrange(window // 4) * 4
                    if seq & 1:
                        r = as_.stl_le(addr, value)
                    else:
                        r = as_.write(addr, value.to_bytes(4, "little"))
                    counts["ok" if r == MemTxResult.OK else "error"] += 1
        except BaseException as e:  # the model: no write raises
            errors.append(f"writer {w}: {type(e).__name__}: {e}")

    def plugger():
        rng = random.Random(5)
        plugged: dict[str, object] = {}
        try:
            while not stop.is_set():
                free = [b for b in backends if b.id not in plugged]
                if free and (not plugged or rng.random() < 0.5):
                    b = rng.choice(free)
                    ref = unplugged_copy.pop(b.id, None)
                    if ref is not None and not np.array_equal(b.host, ref):
                        diff = np.flatnonzero(b.host != ref)
                        errors.append(f"{len(diff)} bytes of unplugged {b.id} changed "
                                      f"(first at offset {diff[0]:#x})")
                        return
                    plugged[b.id] = mm.plug(f"pc-dimm,id=d-{b.id},memdev={b.id}")
                    counts["plugs"] += 1
                else:
                    bid = rng.choice(sorted(plugged))
                    mm.unplug(plugged.pop(bid))
                    unplugged_copy[bid] = next(b for b in backends if b.id == bid).host.copy()
        except BaseException as e:
            errors.append(f"plugger: {type(e).__name__}: {e}")

    def snapshotter():
        try:
            while not stop.is_set():
                i = started[0]
                started[0] = i + 1
                snap = vram.snapshot_and_clear_dirty(0, VRAM_PAGES * P, DirtyClient.VGA)
                last_seen[snap.pages] = i
                counts["snapshots"] += 1
        except BaseException as e:
            errors.append(f"snapshotter: {type(e).__name__}: {e}")

    threads = ([threading.Thread(target=writer, args=(w,)) for w in range(WRITERS)]
               + [threading.Thread(target=plugger), threading.Thread(target=snapshotter)])
    old = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        for t in threads:
            t.start()
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline and not errors:
            time.sleep(0.05)
    finally:
        stop.set()
        for t in threads:
            t.join(60)
        sys.setswitchinterval(old)

    assert not errors, errors[:5]
    assert not any(t.is_alive() for t in threads)
    # A final snapshot, begun after every writer stopped.
    i = started[0]
    snap = vram.snapshot_and_clear_dirty(0, VRAM_PAGES * P, DirtyClient.VGA)
    last_seen[snap.pages] = i
    missing = np.flatnonzero(last_seen < need.max(axis=0))
    assert missing.size == 0, f"pages written (OK) but never reported dirty: {missing[:10]}"
    host = vram.get_ram_ptr()
    for slot, value in last_value.items():
        assert int.from_bytes(host[slot:slot + 4].tobytes(), "little") == value, hex(slot)
    for bid, ref in unplugged_copy.items():
        b = next(b for b in backends if b.id == bid)
        assert np.array_equal(b.host, ref), f"a write landed in unplugged {bid}"
    assert counts["ok"] > 0 and counts["plugs"] > 1 and counts["snapshots"] > 1, counts
    mm.close()
