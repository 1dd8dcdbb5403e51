"""Dirty-memory bitmaps over the ram_addr_t page space (QEMU's include/exec/ram_addr.h).

QEMU keeps one bitmap per client (DIRTY_MEMORY_VGA, DIRTY_MEMORY_CODE,
DIRTY_MEMORY_MIGRATION) over every page of the ram_addr_t namespace, grown by
dirty_memory_extend() when RAMBlocks are added.  Here each client's bitmap is one row of a
(3, capacity) uint8 numpy array holding 0/1 per page, so that

* every range operation is one vectorised numpy call over the row slice, and
* the CPU write path can test a single page through a memoryview of the row without a
  numpy scalar round trip (see AddressSpace's fast path).

Concurrency follows QEMU's contract: setters may run in any thread; snapshot-and-clear (the
display loop) takes the same lock as the setters, so a bit set concurrently either lands in
the snapshot or stays set for the next one -- it is never lost.
"""

from __future__ import annotations

import operator
import threading
import weakref
from enum import IntEnum

import numpy as np

from .errors import DirtyMemoryError

TARGET_PAGE_BITS = 12
TARGET_PAGE_SIZE = 1 << TARGET_PAGE_BITS
TARGET_PAGE_MASK = ~(TARGET_PAGE_SIZE - 1)


class DirtyClient(IntEnum):
    """The three dirty-memory clients, with QEMU's numbering (DIRTY_MEMORY_*)."""

    VGA = 0
    CODE = 1
    MIGRATION = 2


DIRTY_MEMORY_VGA = DirtyClient.VGA
DIRTY_MEMORY_CODE = DirtyClient.CODE
DIRTY_MEMORY_MIGRATION = DirtyClient.MIGRATION
DIRTY_MEMORY_NUM = 3
DIRTY_CLIENTS_ALL = (1 << DIRTY_MEMORY_NUM) - 1
DIRTY_CLIENTS_NOCODE = DIRTY_CLIENTS_ALL & ~(1 << DIRTY_MEMORY_CODE)


def page_align_up(n: int) -> int:
    """TARGET_PAGE_ALIGN."""
    return (n + TARGET_PAGE_SIZE - 1) & TARGET_PAGE_MASK


def _check_client(client) -> int:
    try:
        c = operator.index(client)
    except TypeError:
        raise DirtyMemoryError(
            f"dirty client {client!r} is not a DirtyClient (expected one of "
            f"{', '.join(m.name for m in DirtyClient)})") from None
    if not 0 <= c < DIRTY_MEMORY_NUM:
        raise DirtyMemoryError(
            f"unknown dirty client {client!r}: expected 0..{DIRTY_MEMORY_NUM - 1} "
            f"({', '.join(f'{m.name}={m.value}' for m in DirtyClient)})")
    return c


def _check_mask(mask) -> int:
    try:
        m = operator.index(mask)
    except TypeError:
        raise DirtyMemoryError(f"dirty client mask {mask!r} is not an int") from None
    if m < 0 or m & ~DIRTY_CLIENTS_ALL:
        raise DirtyMemoryError(
            f"dirty client mask {mask:#x} has bits outside DIRTY_CLIENTS_ALL ({DIRTY_CLIENTS_ALL:#x})")
    return m


def _check_int(name: str, value) -> int:
    try:
        v = operator.index(value)
    except TypeError:
        raise DirtyMemoryError(f"{name} {value!r} is not an integer") from None
    if v < 0:
        raise DirtyMemoryError(f"{name} {v:#x} is negative")
    return v


class DirtyBitmapSnapshot:
    """What memory_region_snapshot_and_clear_dirty returns: a copy of one client's bits over a
    page-aligned ram_addr range, taken and cleared atomically with respect to writers."""

    __slots__ = ("start", "end", "pages", "client")

    def __init__(self, start: int, end: int, pages: np.ndarray, client: int = DIRTY_MEMORY_VGA):
        self.start = start
        self.end = end
        self.pages = pages
        self.client = client

    def _page_range(self, start, length) -> tuple[int, int]:
        start = _check_int("snapshot start", start)
        length = _check_int("snapshot length", length)
        if start < self.start or start + length > self.end:
            raise DirtyMemoryError(
                f"range {start:#x}+{length:#x} is outside the snapshot "
                f"[{self.start:#x}, {self.end:#x})")
        first = (start - self.start) >> TARGET_PAGE_BITS
        last = (start + length - self.start + TARGET_PAGE_SIZE - 1) >> TARGET_PAGE_BITS
        return first, last

    def get_dirty(self, start: int, length: int) -> bool:
        """cpu_physical_memory_snapshot_get_dirty: is any page of [start, start+length) dirty?"""
        first, last = self._page_range(start, length)
        return bool(self.pages[first:last].any())

    def pages_in(self, start: int, length: int) -> np.ndarray:
        """The snapshot's bits for every page overlapping [start, start+length), as np.bool_."""
        first, last = self._page_range(start, length)
        return self.pages[first:last]

    def __len__(self) -> int:
        return len(self.pages)

    def __repr__(self) -> str:
        return (f"DirtyBitmapSnapshot({DirtyClient(self.client).name}, {self.start:#x}-{self.end:#x}, "
                f"{int(self.pages.sum())}/{len(self.pages)} dirty)")


class DirtyMemory:
    """ram_list.dirty_memory[]: one bitmap per DirtyClient over all ram_addr_t pages."""

    def __init__(self, npages: int = 0):
        self.lock = threading.Lock()
        self._npages = 0
        self._bits = np.zeros((DIRTY_MEMORY_NUM, 0), dtype=np.uint8)
        self.rows: tuple[memoryview, ...] = tuple(memoryview(self._bits[c]) for c in range(DIRTY_MEMORY_NUM))
        # Objects caching `rows` (address-space fast paths) are told when the arrays move.
        self._watchers: weakref.WeakSet = weakref.WeakSet()
        # Bumped by every clearing operation; lets fast paths know cached "already dirty"
        # knowledge may be stale.
        self.clear_generation = 0
        # Told (start, length, mask) after bits were cleared: the softmmu TLB drops its write
        # entries there (tlb_reset_dirty_range_all), the display and migration may follow.
        self._clear_listeners: list = []
        if npages:
            self.grow(npages)

    # -- size -------------------------------------------------------------------------------
    @property
    def npages(self) -> int:
        return self._npages

    @property
    def size(self) -> int:
        """Bytes of ram_addr space covered."""
        return self._npages << TARGET_PAGE_BITS

    def grow(self, npages: int) -> None:
        """dirty_memory_extend: make the bitmaps cover at least `npages` pages (never shrinks);
        new pages start clean."""
        npages = _check_int("page count", npages)
        with self.lock:
            if npages <= self._npages:
                return
            cap = self._bits.shape[1]
            if npages > cap:
                new_cap = max(npages, 2 * cap, 1024)
                bits = np.zeros((DIRTY_MEMORY_NUM, new_cap), dtype=np.uint8)
                bits[:, :self._npages] = self._bits[:, :self._npages]
                self._bits = bits
                self.rows = tuple(memoryview(bits[c]) for c in range(DIRTY_MEMORY_NUM))
                moved = True
            else:
                moved = False
            self._npages = npages
        if moved:
            for w in list(self._watchers):
                w._dirty_memory_moved()

    def watch(self, obj) -> None:
        """Register `obj._dirty_memory_moved()` to be called when the bitmaps are reallocated."""
        self._watchers.add(obj)

    # -- who hears of clears ----------------------------------------------------------------
    def add_clear_listener(self, fn) -> None:
        """Call `fn(start, length, mask)` synchronously after any operation clears bits of the
        clients in `mask` over ram_addr range [start, start+length), before that operation
        returns.  QEMU's clearing paths call tlb_reset_dirty_range_all at the same point."""
        if not callable(fn):
            raise DirtyMemoryError(f"clear listener {fn!r} is not callable")
        self._clear_listeners.append(fn)

    def remove_clear_listener(self, fn) -> None:
        try:
            self._clear_listeners.remove(fn)
        except ValueError:
            raise DirtyMemoryError(f"{fn!r} is not a clear listener of {self!r}") from None

    def _cleared(self, p0: int, p1: int, mask: int) -> None:
        for fn in tuple(self._clear_listeners):
            fn(p0 << TARGET_PAGE_BITS, (p1 - p0) << TARGET_PAGE_BITS, mask)

    def is_clean(self, ram_addr: int) -> bool:
        """cpu_physical_memory_is_clean: is the page holding `ram_addr` clean for any client?
        A softmmu TLB gives a page a direct write entry only while this is False."""
        try:
            p = ram_addr >> TARGET_PAGE_BITS
            if 0 <= p < self._npages:
                r0, r1, r2 = self.rows
                return not (r0[p] and r1[p] and r2[p])
        except TypeError:
            pass
        raise DirtyMemoryError(f"ram_addr {ram_addr!r} is beyond the dirty bitmaps "
                               f"(which cover {self.size:#x} bytes)")

    # -- range helpers ----------------------------------------------------------------------
    def _pages(self, start, length) -> tuple[int, int]:
        start = _check_int("ram_addr", start)
        length = _check_int("length", length)
        end = start + length
        if end > (self._npages << TARGET_PAGE_BITS):
            raise DirtyMemoryError(
                f"ram_addr range {start:#x}+{length:#x} is beyond the dirty bitmaps "
                f"(which cover {self._npages << TARGET_PAGE_BITS:#x} bytes)")
        if not length:
            return 0, 0
        return start >> TARGET_PAGE_BITS, (end + TARGET_PAGE_SIZE - 1) >> TARGET_PAGE_BITS

    # -- setters ----------------------------------------------------------------------------
    def set_dirty_range(self, start: int, length: int, mask: int = DIRTY_CLIENTS_ALL) -> None:
        """cpu_physical_memory_set_dirty_range: mark every page touching the range dirty for
        each client in `mask`."""
        mask = _check_mask(mask)
        p0, p1 = self._pages(start, length)
        if p0 >= p1 or not mask:
            return
        with self.lock:
            bits = self._bits
            if mask == DIRTY_CLIENTS_ALL:
                bits[:, p0:p1] = 1
            else:
                for c in range(DIRTY_MEMORY_NUM):
                    if mask & (1 << c):
                        bits[c, p0:p1] = 1

    def clear_dirty_range(self, start: int, length: int, mask: int = DIRTY_CLIENTS_ALL) -> None:
        """cpu_physical_memory_clear_dirty_range: clear the range for each client in `mask`."""
        mask = _check_mask(mask)
        p0, p1 = self._pages(start, length)
        if p0 >= p1 or not mask:
            return
        with self.lock:
            bits = self._bits
            self.clear_generation += 1
            for c in range(DIRTY_MEMORY_NUM):
                if mask & (1 << c):
                    bits[c, p0:p1] = 0
        if self._clear_listeners:
            self._cleared(p0, p1, mask)

    def reset_dirty_range(self, start: int, length: int, client: int) -> None:
        """cpu_physical_memory_reset_dirty / memory_region_reset_dirty for one client."""
        self.clear_dirty_range(start, length, 1 << _check_client(client))

    # -- queries ----------------------------------------------------------------------------
    def get_dirty(self, start: int, length: int, client: int) -> bool:
        """cpu_physical_memory_get_dirty: is any page of the range dirty for `client`?"""
        c = _check_client(client)
        p0, p1 = self._pages(start, length)
        return bool(self._bits[c, p0:p1].any())

    def all_dirty(self, start: int, length: int, client: int) -> bool:
        """cpu_physical_memory_all_dirty: is every page of the range dirty for `client`?"""
        c = _check_client(client)
        p0, p1 = self._pages(start, length)
        return bool(self._bits[c, p0:p1].all())

    def range_includes_clean(self, start: int, length: int, mask: int) -> int:
        """cpu_physical_memory_range_includes_clean: the subset of `mask` that has a clean page
        in the range."""
        mask = _check_mask(mask)
        p0, p1 = self._pages(start, length)
        out = 0
        for c in range(DIRTY_MEMORY_NUM):
            if mask & (1 << c) and not self._bits[c, p0:p1].all():
                out |= 1 << c
        return out

    def bitmap(self, client: int) -> np.ndarray:
        """A read-only np.bool_ view of one client's whole bitmap (one entry per page)."""
        c = _check_client(client)
        v = self._bits[c, :self._npages].view(np.bool_)
        v.flags.writeable = False
        return v

    def dirty_pages(self, client: int, start: int = 0, length: int | None = None) -> np.ndarray:
        """Page numbers (ram_addr >> TARGET_PAGE_BITS) dirty for `client` in the range."""
        c = _check_client(client)
        if length is None:
            length = max(0, self.size - start)
        p0, p1 = self._pages(start, length)
        return np.flatnonzero(self._bits[c, p0:p1]) + p0

    # -- clear ------------------------------------------------------------------------------
    def test_and_clear_dirty(self, start: int, length: int, client: int) -> bool:
        """cpu_physical_memory_test_and_clear_dirty: clear the client's bits over the range and
        say whether any was set."""
        c = _check_client(client)
        p0, p1 = self._pages(start, length)
        with self.lock:
            seg = self._bits[c, p0:p1]
            dirty = bool(seg.any())
            if dirty:
                self.clear_generation += 1
                seg.fill(0)
        if dirty and self._clear_listeners:
            self._cleared(p0, p1, 1 << c)
        return dirty

    def snapshot_and_clear_dirty(self, start: int, length: int, client: int) -> DirtyBitmapSnapshot:
        """cpu_physical_memory_snapshot_and_clear_dirty: copy and clear one client's bits over
        the page-aligned hull of the range, atomically with respect to set_dirty_range."""
        c = _check_client(client)
        p0, p1 = self._pages(start, length)
        with self.lock:
            seg = self._bits[c, p0:p1]
            pages = seg.astype(np.bool_)
            self.clear_generation += 1
            seg.fill(0)
        if self._clear_listeners:
            self._cleared(p0, p1, 1 << c)
        return DirtyBitmapSnapshot(p0 << TARGET_PAGE_BITS, p1 << TARGET_PAGE_BITS, pages, c)

    def __repr__(self) -> str:
        counts = ", ".join(f"{DirtyClient(c).name}={int(self._bits[c, :self._npages].sum())}"
                           for c in range(DIRTY_MEMORY_NUM))
        return f"DirtyMemory({self._npages} pages; dirty {counts})"
