"""Read-side sections and grace periods for the memory map (QEMU's util/rcu.c, in spirit).

QEMU's accesses run inside rcu_read_lock(): a memory-map change publishes a new FlatView at
once and never waits for a running access, and whoever frees what the old view used (a
RAMBlock of an unplugged pc-dimm) waits for a grace period first -- until every access
that might still use the old view has finished.

An access here is a Python call, so "inside a read-side section" is simply "a frame of a
read-side function is on that thread's stack".  Functions are registered with
@rcu_read_side (the AddressSpace fast and slow paths, DMA map/unmap; a CPU's store helpers
may register theirs); synchronize_rcu() waits until no *other* thread has such a frame.
Readers pay nothing -- no lock, no counter -- which keeps a 4-byte guest store as cheap as
it was.  The calling thread is never waited for, so a device callback running inside an
access may still unplug memory (QEMU would use call_rcu there).

This relies on CPython's global interpreter lock: sys._current_frames() is one consistent
picture of all threads.  A thread blocked inside a read-side section (an MMIO callback that
waits for the unplugging thread) would make synchronize_rcu wait for it; QEMU has the same
rule -- no synchronize_rcu() while a reader can wait for you.
"""

from __future__ import annotations

import sys
import threading
import time
from types import CodeType

_read_side_codes: set[CodeType] = set()


def rcu_read_side(fn):
    """Register `fn` as a read-side section: while any thread runs it (or anything it calls),
    synchronize_rcu() in another thread waits.  Returns `fn` unchanged (a decorator)."""
    _read_side_codes.add(fn.__code__)
    return fn


def _outermost_read_side(frame):
    """The outermost read-side frame on the stack that ends in `frame`, or None."""
    found = None
    codes = _read_side_codes
    while frame is not None:
        if frame.f_code in codes:
            found = frame
        frame = frame.f_back
    return found


def _on_stack(top, frame) -> bool:
    while top is not None:
        if top is frame:
            return True
        top = top.f_back
    return False


#: What a walk over another thread's frames may raise: CPython 3.11 can hand out a frame
#: whose f_back/f_code is momentarily not a frame/code object while that thread is between
#: calls (seen under sys.setswitchinterval(1e-6) as AttributeError/TypeError).  Such a walk
#: is retried; a reader is never declared finished on a failed walk.
_WALK_ERRORS = (AttributeError, TypeError)


def _readers(me: int) -> dict:
    """tid -> the outermost read-side frame of every other thread inside a section."""
    while True:
        frames = sys._current_frames()
        try:
            out = {}
            for tid, top in frames.items():
                if tid != me:
                    f = _outermost_read_side(top)
                    if f is not None:
                        out[tid] = f
            return out
        except _WALK_ERRORS:
            time.sleep(0)
        finally:
            del frames


def readers_active() -> bool:
    """Does another thread run a read-side section right now?"""
    return bool(_readers(threading.get_ident()))


def synchronize_rcu() -> None:
    """Wait until every read-side section that another thread was running when this was
    called has finished.  Sections that start later are not waited for: they already see
    what was published before the call."""
    waiting = _readers(threading.get_ident())
    delay = 0.0
    while waiting:
        # Give the readers the interpreter; back off gently if they stay (a long MMIO).
        time.sleep(delay)
        delay = min(delay * 2 or 1e-5, 1e-3)
        frames = sys._current_frames()
        for tid, f in list(waiting.items()):
            top = frames.get(tid)
            try:
                gone = top is None or not _on_stack(top, f)
            except _WALK_ERRORS:
                gone = False  # look again next turn
            if gone:
                del waiting[tid]
        del frames
