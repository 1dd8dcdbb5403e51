"""The CPU storing into VRAM through the LFB in one thread, a display thread snapshotting
the VGA dirty bits in another (each under the machine lock, as QEMU's BQL: the CPU between
run slices, the display between its frames).  Model: every VRAM page whose bytes changed
since the previous snapshot must be dirty in this one -- the TLB's write entries never
outlive a clear, so no CPU store is lost to the display."""

import random
import sys
import threading
import time

import numpy as np
from guestmem import DIRTY_MEMORY_VGA

from vgaemu.cpu.state import DS
from vgaemu.machine import Machine

LFB = 0xFD000000
VRAM = 1 << 20

LOOP = bytes.fromhex(
    "67668903"          # 7C00 mov [ebx], eax
    "6640"              # 7C04 inc eax
    "6681C300110000"    # 7C06 add ebx, 1100h     ; next page, another offset
    "6681E3FFFF0FFD"    # 7C0D and ebx, 0FD0FFFFFh ; stay inside the 1 MiB of VRAM
    "EBEA")             # 7C14 jmp 7C00


def test_cpu_stores_to_vram_are_never_lost_to_the_display(stress_seconds):
    m = Machine(memory="2M", vram="1M")
    cpu = m.cpu
    m.write(0x7C00, LOOP)
    cpu.eip = 0x7C00
    cpu.seg_limit[DS] = 0xFFFFFFFF  # flat DS ("unreal mode")
    cpu.ebx = LFB
    cpu.eax = 1
    lock = threading.Lock()
    vram = m.vga.vram_mr
    host = m.vga.vram
    stop = threading.Event()
    errors: list = []
    snapshots = [0]

    def run_cpu():
        rng = random.Random(1)
        while not stop.is_set():
            with lock:
                cpu.run(max_instructions=rng.randrange(1, 400))

    def display():
        with lock:
            vram.snapshot_and_clear_dirty(0, VRAM, DIRTY_MEMORY_VGA)
            before = host[:VRAM].copy()
        while not stop.is_set():
            with lock:
                snap = vram.snapshot_and_clear_dirty(0, VRAM, DIRTY_MEMORY_VGA)
                now = host[:VRAM].copy()
            changed = np.flatnonzero((now != before).reshape(-1, 4096).any(axis=1))
            dirty = snap.pages_in(snap.start, VRAM)
            lost = [int(p) for p in changed if not dirty[p]]
            if lost:
                errors.append(f"pages {lost[:8]} changed but were not dirty")
            before = now
            snapshots[0] += 1
            time.sleep(0)

    old = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        threads = [threading.Thread(target=run_cpu), threading.Thread(target=display)]
        for t in threads:
            t.start()
        # run for the scenario's time, and on a loaded host until both threads did enough
        # for the checks below to mean something (at most a minute more)
        end = time.monotonic() + stress_seconds(1.5)
        while time.monotonic() < end or (
                (snapshots[0] <= 10 or cpu.counters.total.notdirty_writes <= 10)
                and time.monotonic() < end + 60):
            time.sleep(0.05)
        stop.set()
        for t in threads:
            t.join(timeout=60)
    finally:
        sys.setswitchinterval(old)
    assert not errors, errors[:3]
    assert snapshots[0] > 10
    c = cpu.counters.total
    assert c.instructions > 1000 and c.notdirty_writes > 10  # the protocol was exercised


PATCH_LOOP = bytes.fromhex(
    "66B800000000"      # 7C00 mov eax, imm32   <- patched by the other thread
    "66A30006"          # 7C06 mov [600h], eax
    "EBF4")             # 7C0A jmp 7C00
IMM = 0x7C02


def test_code_patched_from_another_thread_never_runs_stale(stress_seconds):
    """A scripted guest (or the DMA engine) rewrites the immediate of the loop the CPU runs,
    from another thread, each under the machine lock.  After any CPU slice of six or more
    instructions the loop has completed a turn since the patch, so the value it stored must
    be the current immediate: a stale translation would store an old one."""
    from vgaemu.dma import DMA_MMIO_BASE, REG_CONTROL, REG_DST_LO, REG_LENGTH, REG_SRC_LO

    m = Machine(memory="2M", vram="1M")
    cpu = m.cpu
    m.write(0x7C00, PATCH_LOOP)
    cpu.eip = 0x7C00
    lock = threading.Lock()
    stop = threading.Event()
    errors: list = []
    current = [0]
    patches = [0]
    as_ = m.address_space_memory

    def run_cpu():
        rng = random.Random(2)
        while not stop.is_set():
            with lock:
                cpu.run(max_instructions=rng.randrange(6, 200))
                stored = int.from_bytes(m.read(0x600, 4), "little")
                if stored != current[0]:
                    errors.append(f"stored {stored:#x}, immediate is {current[0]:#x}")

    def patch():
        rng = random.Random(3)
        while not stop.is_set():
            value = rng.randrange(1 << 32)
            with lock:
                if rng.random() < 0.5:
                    m.write(IMM, value.to_bytes(4, "little"))
                else:  # the DMA engine copies it in
                    m.write(0x20000, value.to_bytes(4, "little"))
                    as_.stl_le(DMA_MMIO_BASE + REG_SRC_LO, 0x20000)
                    as_.stl_le(DMA_MMIO_BASE + REG_DST_LO, IMM)
                    as_.stl_le(DMA_MMIO_BASE + REG_LENGTH, 4)
                    as_.stl_le(DMA_MMIO_BASE + REG_CONTROL, 1)
                current[0] = value
                patches[0] += 1
                if patches[0] % 6 == 0:
                    # the CPU stops translating a hot self-modified spot (it decodes it
                    # instead); a tb_flush lets it translate again, so TBs keep dying here
                    cpu.tb_cache.flush()
                # the CPU has not run since: run it one slice here too, as the display might
                cpu.run(max_instructions=30)
                stored = int.from_bytes(m.read(0x600, 4), "little")
                if stored != value:
                    errors.append(f"right after the patch: stored {stored:#x}, not {value:#x}")
            time.sleep(0)

    old = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        threads = [threading.Thread(target=run_cpu), threading.Thread(target=patch)]
        for t in threads:
            t.start()
        time.sleep(stress_seconds(1.5))
        stop.set()
        for t in threads:
            t.join(timeout=60)
    finally:
        sys.setswitchinterval(old)
    assert not errors, errors[:3]
    assert patches[0] > 10
    c = cpu.counters.total
    # translated code was running and was killed by the patches (not only decoded code)
    assert c.tbs_executed > patches[0] and c.tbs_invalidated > patches[0] // 4
    assert c.smc_events > 0
