"""Map changes from two threads at once, and the bounce buffer under contention."""

from __future__ import annotations

import sys
import threading
import time

import pytest

from guestmem import (AddressSpace, MemoryRegion, MemoryRegionOps, MemTxResult, RAMList,
                      memory_region_transaction, memory_region_transaction_begin,
                      memory_region_transaction_commit)
from guestmem.errors import RegionError

P = 4096


def _run(threads, seconds):
    old = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        for t in threads:
            t.start()
        time.sleep(seconds)
    finally:
        sys.setswitchinterval(old)


def test_two_threads_changing_the_map_never_tear_a_transaction(stress_seconds):
    """Each changer swaps two RAM regions at one address inside a transaction, so a reader
    must always find exactly one of them there -- never both, never neither."""
    rl = RAMList()
    root = MemoryRegion.container("system", 1 << 32)
    pairs = []
    for k in range(2):
        a = MemoryRegion.ram(f"a{k}", P, ram_list=rl)
        b = MemoryRegion.ram(f"b{k}", P, ram_list=rl)
        a.get_ram_ptr()[:] = 0xA0 + k
        b.get_ram_ptr()[:] = 0xB0 + k
        root.add_subregion(k * 0x10000, a)
        pairs.append((k * 0x10000, a, b))
    as_ = AddressSpace(root, "memory")
    stop = threading.Event()
    errors: list[str] = []

    def changer(k):
        base, a, b = pairs[k]
        cur, other = a, b
        try:
            while not stop.is_set():
                with memory_region_transaction():
                    root.del_subregion(cur)
                    root.add_subregion(base, other)
                cur, other = other, cur
        except BaseException as e:
            errors.append(f"changer {k}: {type(e).__name__}: {e}")

    def reader():
        try:
            while not stop.is_set():
                for k in range(2):
                    v = as_.ldub(k * 0x10000 + 5)
                    if v not in (0xA0 + k, 0xB0 + k):
                        errors.append(f"read {v:#x} at region {k}: the map was torn")
                        return
        except BaseException as e:
            errors.append(f"reader: {type(e).__name__}: {e}")

    threads = [threading.Thread(target=changer, args=(k,)) for k in range(2)]
    threads.append(threading.Thread(target=reader))
    try:
        _run(threads, stress_seconds(0.5))
    finally:
        stop.set()
        for t in threads:
            t.join(60)
    assert not errors, errors[:5]
    assert len(as_.flatview) == 2


def test_a_transaction_in_another_thread_waits_for_ours():
    """Map changes are serialised (QEMU makes them under the BQL): while this thread is inside
    a transaction, another thread's change neither runs nor is published."""
    rl = RAMList()
    root = MemoryRegion.container("system", 1 << 32)
    as_ = AddressSpace(root, "memory")
    late = MemoryRegion.ram("late", P, ram_list=rl)
    done = threading.Event()

    def other():
        root.add_subregion(0x10000, late)
        done.set()

    memory_region_transaction_begin()
    try:
        t = threading.Thread(target=other)
        t.start()
        time.sleep(0.2)
        assert not done.is_set() and late.container is None
        with pytest.raises(RegionError, match="without a matching begin"):
            # a commit from a thread that began nothing must not end our transaction
            err = []
            c = threading.Thread(target=lambda: _catch(memory_region_transaction_commit, err))
            c.start()
            c.join(10)
            raise err[0]
    finally:
        memory_region_transaction_commit()
    assert done.wait(10)
    t.join(10)
    assert as_.write(0x10000, b"ok") == MemTxResult.OK


def _catch(fn, out):
    try:
        fn()
    except BaseException as e:
        out.append(e)


def test_one_bounce_buffer_per_address_space_even_under_contention(stress_seconds):
    root = MemoryRegion.container("system", 1 << 32)
    regs = bytearray(P)
    root.add_subregion(0, MemoryRegion.io("dev", P, MemoryRegionOps(
        read=lambda off, size: regs[off], write=lambda off, v, size: None)))
    as_ = AddressSpace(root, "dma")
    holders = [0]
    peak = [0]
    stop = threading.Event()
    errors: list[str] = []

    def mapper():
        try:
            while not stop.is_set():
                m = as_.map(0, 16, is_write=True)
                if m is None:
                    continue
                holders[0] += 1
                peak[0] = max(peak[0], holders[0])
                m.buf[:] = 1
                holders[0] -= 1
                as_.unmap(m, True, 16)
        except BaseException as e:
            errors.append(f"{type(e).__name__}: {e}")

    threads = [threading.Thread(target=mapper) for _ in range(3)]
    try:
        _run(threads, stress_seconds(0.5))
    finally:
        stop.set()
        for t in threads:
            t.join(60)
    assert not errors, errors[:5]
    assert peak[0] == 1
    assert as_.map(0, 16, is_write=False) is not None   # released at the end
    assert as_.write(0, b"x") == MemTxResult.OK
