"""Dirty-memory bitmaps over the ram_addr_t page space (QEMU's include/exec/ram_addr.h).

QEMU keeps one bitmap per client (DIRTY_MEMORY_VGA, DIRTY_MEMORY_CODE,
DIRTY_MEMORY_MIGRATION) over every page of the ram_addr_t namespace, grown by
dirty_memory_extend() when RAMBlocks are added.  Here each client's bitmap is one row of a
(3, capacity) uint8 numpy array holding 0/1 per page, so that

* every range operation is one vectorised numpy call over the row slice, and
* the CPU write path can test a single page through a memoryview of the row without a
  numpy scalar round trip (make_marker, is_clean).

Concurrency follows QEMU's contract: setters may run in any thread; snapshot-and-clear (the
display loop) takes the same lock as the setters, so a bit set concurrently either lands in
the snapshot or stays set for the next one -- it is never lost.
"""

from __future__ import annotations

import operator
import threading
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


class ClearEpoch:
    """Knowledge that stays true until the next clear: `live` turns False (before any bit is
    cleared) when a clearing operation or a reallocation of the bitmaps begins.

    A fast path that found a page dirty for every client keeps the epoch it got from
    DirtyMemory and skips marking while ``epoch.live`` holds, checked *after* its store: if
    the epoch is still live then, no clear has started, so the next clear sees both the bit
    and the stored data.  It plays the part of the write entry in QEMU's softmmu TLB, which
    tlb_reset_dirty_range_all removes when bits are cleared.
    """

    __slots__ = ("live",)

    def __init__(self):
        self.live = True

    def __repr__(self) -> str:
        return f"<ClearEpoch {'live' if self.live else 'ended'}>"


#: The clients named by each client mask, for loops over a mask's bits.
MASK_CLIENTS = tuple(tuple(c for c in range(DIRTY_MEMORY_NUM) if m & (1 << c))
                     for m in range(1 << DIRTY_MEMORY_NUM))
#: The same, padded to three entries by repetition, so a test of "dirty for every client in
#: the mask" is always three byte reads (None for the empty mask).
_MASK_CLIENTS3 = tuple(tuple((cl * 3)[:3]) if cl else None for cl in MASK_CLIENTS)
_ZERO_CACHE_MAX = 64
_new_object = object.__new__
#: A client given as an int or a DirtyClient (equal hashes) -> its row; the fast paths' test.
_CLIENT_INDEX = {c: int(c) for c in DirtyClient}
_CLIENT_TYPES = frozenset((int, DirtyClient))


class DirtyMemory:
    """ram_list.dirty_memory[]: one bitmap per DirtyClient over all ram_addr_t pages.

    This class is the only code that reads or writes the bitmap bytes, takes their lock or
    moves the clear generation (as physmem.c and ram_addr.h are in QEMU).  Everyone else uses
    the operations below; the hot ones (set_dirty_range, get_dirty, snapshot_and_clear_dirty
    with exact int arguments, make_marker's closure, is_clean) test bytes through memoryviews
    and take the lock only to change bits.
    """

    def __init__(self, npages: int = 0):
        self._lock = threading.Lock()
        self._npages = 0
        self._bits = np.zeros((DIRTY_MEMORY_NUM, 0), dtype=np.uint8)
        self._rows: tuple[memoryview, ...] = tuple(memoryview(self._bits[c])
                                                   for c in range(DIRTY_MEMORY_NUM))
        self._zeros: dict[int, bytes] = {}
        self._ones: dict[int, bytes] = {}
        # Bumped by every clearing operation (and the epoch ended with it).
        self.clear_generation = 0
        self._epoch = ClearEpoch()
        # Told (start, length, mask) after bits were cleared: the softmmu TLB drops its write
        # entries there (tlb_reset_dirty_range_all), the display and migration may follow.
        #: A tuple, replaced (under the lock) on add and remove: a clear iterates it without
        #: copying, and a listener added meanwhile is heard from the next clear on.
        self._clear_listeners: tuple = ()
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
        if npages > 1 << (64 - TARGET_PAGE_BITS):
            raise DirtyMemoryError(f"page count {npages:#x} is more than the 2^64-byte ram_addr "
                                   f"space holds ({1 << (64 - TARGET_PAGE_BITS):#x} pages)")
        with self._lock:
            if npages <= self._npages:
                return
            cap = self._bits.shape[1]
            if npages > cap:
                new_cap = max(npages, 2 * cap, 1024)
                bits = np.zeros((DIRTY_MEMORY_NUM, new_cap), dtype=np.uint8)
                bits[:, :self._npages] = self._bits[:, :self._npages]
                # A fast path holding the old rows must not trust them any more.
                self._end_epoch()
                self._bits = bits
                self._rows = tuple(memoryview(bits[c]) for c in range(DIRTY_MEMORY_NUM))
            self._npages = npages

    def _end_epoch(self) -> None:
        """Called with the lock held, before bits are cleared or the rows move."""
        self.clear_generation += 1
        self._epoch.live = False
        # ClearEpoch() without its Python __init__ frame: every clear makes one.
        epoch = _new_object(ClearEpoch)
        epoch.live = True
        self._epoch = epoch

    def _zero_bytes(self, n: int) -> bytes:
        z = self._zeros.get(n)
        if z is None:
            if len(self._zeros) >= _ZERO_CACHE_MAX:
                self._zeros.clear()
            z = self._zeros[n] = bytes(n)
        return z

    def _ones_bytes(self, n: int) -> bytes:
        o = self._ones.get(n)
        if o is None:
            if len(self._ones) >= _ZERO_CACHE_MAX:
                self._ones.clear()
            o = self._ones[n] = b"\x01" * n
        return o

    # -- who hears of clears ----------------------------------------------------------------
    def add_clear_listener(self, fn) -> None:
        """Call `fn(start, length, mask)` synchronously after any operation clears bits of the
        clients in `mask` over ram_addr range [start, start+length), before that operation
        returns.  QEMU's clearing paths call tlb_reset_dirty_range_all at the same point."""
        if not callable(fn):
            raise DirtyMemoryError(f"clear listener {fn!r} is not callable")
        with self._lock:
            self._clear_listeners += (fn,)

    def remove_clear_listener(self, fn) -> None:
        with self._lock:
            fns = list(self._clear_listeners)
            try:
                fns.remove(fn)
            except ValueError:
                raise DirtyMemoryError(f"{fn!r} is not a clear listener of {self!r}") from None
            self._clear_listeners = tuple(fns)

    def _cleared(self, p0: int, p1: int, mask: int) -> None:
        for fn in self._clear_listeners:
            fn(p0 << TARGET_PAGE_BITS, (p1 - p0) << TARGET_PAGE_BITS, mask)

    def is_clean(self, ram_addr: int) -> bool:
        """cpu_physical_memory_is_clean: is the page holding `ram_addr` clean for any client?
        A softmmu TLB gives a page a direct write entry only while this is False."""
        try:
            p = ram_addr >> TARGET_PAGE_BITS
            if 0 <= p < self._npages:
                r0, r1, r2 = self._rows
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
    def set_dirty_range(self, start: int, length: int,
                        mask: int = DIRTY_CLIENTS_ALL) -> ClearEpoch | None:
        """cpu_physical_memory_set_dirty_range: mark every page touching the range dirty for
        each client in `mask`.  Returns the live ClearEpoch when the range lies in one page
        (then dirty for every client in `mask` until that epoch ends), else None.

        Devices call this after each store into their own RAM (the VGA window, once per
        access), so a range of one or two pages given as plain ints first tests the bytes:
        a page already dirty for every client in the mask needs no lock.  The epoch is read
        before and checked after the test, so a clear (or a move of the rows) in between
        makes us set the bits after all."""
        if (type(start) is int and type(length) is int and type(mask) is int
                and 0 <= start and 0 < length and 0 < mask <= DIRTY_CLIENTS_ALL):
            p0 = start >> TARGET_PAGE_BITS
            p1 = (start + length - 1) >> TARGET_PAGE_BITS
            if p1 - p0 < 2 and p1 < self._npages:
                epoch = self._epoch
                clients = MASK_CLIENTS[mask]
                rows = self._rows
                for c in clients:
                    row = rows[c]
                    if not (row[p0] and row[p1]):
                        break
                else:
                    if epoch.live:
                        return epoch if p0 == p1 else None
                with self._lock:
                    rows = self._rows
                    for c in clients:
                        row = rows[c]
                        row[p0] = 1
                        row[p1] = 1
                # read before the bits were set, checked after: no clear came in between
                return epoch if p0 == p1 and epoch.live else None
            if p1 < self._npages:
                # A longer range (a DMA transfer, a frame's worth of rows): the same test,
                # one byte search per client; the bits set with one slice store each.
                p1 += 1
                epoch = self._epoch
                clients = MASK_CLIENTS[mask]
                rows = self._rows
                for c in clients:
                    if 0 in rows[c][p0:p1].tobytes():
                        break
                else:
                    if epoch.live:
                        return
                ones = self._ones_bytes(p1 - p0)
                with self._lock:
                    rows = self._rows
                    for c in clients:
                        rows[c][p0:p1] = ones
                return
        mask = _check_mask(mask)
        p0, p1 = self._pages(start, length)
        if p0 >= p1 or not mask:
            return
        with self._lock:
            bits = self._bits
            if mask == DIRTY_CLIENTS_ALL:
                bits[:, p0:p1] = 1
            else:
                for c in MASK_CLIENTS[mask]:
                    bits[c, p0:p1] = 1

    def make_marker(self, mask: int, invalidate_and_set_dirty):
        """A `mark(ram_addr, length) -> ClearEpoch | None` for writes of RAM whose pages log
        the clients in `mask` -- the check QEMU's notdirty_write / TLB_NOTDIRTY makes.

        `mark` runs after the data was stored.  A write inside one page that is already dirty
        for every client in `mask` changes nothing and returns the live epoch: until it ends,
        further writes to that page need no marking at all.  Otherwise it calls
        `invalidate_and_set_dirty(ram_addr, length, mask)` (RAMList's: CODE invalidation
        first, then the bits) and returns the epoch read before, if it is still live, the
        write stayed in one page and that page is now dirty for every client in `mask`."""
        mask = _check_mask(mask)
        clients = _MASK_CLIENTS3[mask]
        if clients is None:
            raise DirtyMemoryError("make_marker needs at least one dirty client in the mask")
        c0, c1, c2 = clients
        dm = self

        def mark(ram_addr, length):
            epoch = dm._epoch
            if (ram_addr & (TARGET_PAGE_SIZE - 1)) + length <= TARGET_PAGE_SIZE:
                rows = dm._rows
                p = ram_addr >> TARGET_PAGE_BITS
                if rows[c0][p] and rows[c1][p] and rows[c2][p] and epoch.live:
                    return epoch
                invalidate_and_set_dirty(ram_addr, length, mask)
                # The code hook owns the CODE bit: a page that still holds translated code
                # stays protected, and must not be remembered as dirty for every client.
                if epoch.live and rows[c0][p] and rows[c1][p] and rows[c2][p]:
                    return epoch
                return None
            invalidate_and_set_dirty(ram_addr, length, mask)
            return None
        return mark

    def clear_dirty_range(self, start: int, length: int, mask: int = DIRTY_CLIENTS_ALL) -> None:
        """cpu_physical_memory_clear_dirty_range: clear the range for each client in `mask`."""
        mask = _check_mask(mask)
        p0, p1 = self._pages(start, length)
        if p0 >= p1 or not mask:
            return
        with self._lock:
            bits = self._bits
            self._end_epoch()
            for c in MASK_CLIENTS[mask]:
                bits[c, p0:p1] = 0
        if self._clear_listeners:
            self._cleared(p0, p1, mask)

    def clear_dirty_pages(self, pages, client: int) -> int:
        """Clear one client's bits of the distinct pages numbered ``pages`` (ram_addr >>
        TARGET_PAGE_BITS, an integer array): clear_dirty_range for a scattered set. Returns
        how many of them were dirty.

        Migration clears the pages a sync found just before it reads them, as QEMU's
        migration_clear_memory_region_dirty_bitmap does, so a page written between the sync
        and its send goes once, not again in the next pass. Listeners hear of the pages'
        hull (a superset is safe: a TLB entry reset needlessly just takes the slow path)."""
        c = _check_client(client)
        try:
            pages = np.asarray(pages)
        except (TypeError, ValueError):
            raise DirtyMemoryError(f"pages {pages!r} is not an array of page numbers") from None
        if pages.ndim != 1 or (pages.size and pages.dtype.kind not in "iu"):
            raise DirtyMemoryError(f"pages must be a 1-D integer array, not {pages.dtype} "
                                   f"with shape {pages.shape}")
        if not pages.size:
            return 0
        p0, p1 = int(pages.min()), int(pages.max()) + 1
        if p0 < 0 or p1 > self._npages:
            raise DirtyMemoryError(f"page {p0 if p0 < 0 else p1 - 1:#x} is beyond the dirty "
                                   f"bitmaps (which cover {self._npages:#x} pages)")
        with self._lock:
            row = self._bits[c]
            was = int(np.count_nonzero(row[pages]))
            if was:
                self._end_epoch()
                row[pages] = 0
        if was and self._clear_listeners:
            self._cleared(p0, p1, 1 << c)
        return was

    def reset_dirty_range(self, start: int, length: int, client: int) -> None:
        """cpu_physical_memory_reset_dirty / memory_region_reset_dirty for one client."""
        self.clear_dirty_range(start, length, 1 << _check_client(client))

    # -- queries ----------------------------------------------------------------------------
    def get_dirty(self, start: int, length: int, client: int) -> bool:
        """cpu_physical_memory_get_dirty: is any page of the range dirty for `client`?

        With plain int arguments this is one slice copy and one compare with zeros, cheap
        enough for a display loop's per-frame idle test.  It takes no lock: a bit set while
        it runs is not cleared by it, so the next call sees it."""
        c = _CLIENT_INDEX.get(client) if type(client) in _CLIENT_TYPES else None
        if type(start) is int and type(length) is int and c is not None and 0 <= start \
                and 0 < length:
            p0 = start >> TARGET_PAGE_BITS
            p1 = (start + length + TARGET_PAGE_SIZE - 1) >> TARGET_PAGE_BITS
            if p1 <= self._npages:
                z = self._zeros.get(p1 - p0) or self._zero_bytes(p1 - p0)
                return self._rows[c][p0:p1].tobytes() != z
        c = _check_client(client)
        p0, p1 = self._pages(start, length)
        return bool(self._bits[c, p0:p1].any())

    def count_dirty(self, start: int, length: int, client: int) -> int:
        """How many pages of the range are dirty for `client` (nothing is cleared)."""
        c = _check_client(client)
        p0, p1 = self._pages(start, length)
        return int(np.count_nonzero(self._bits[c, p0:p1]))

    def all_dirty(self, start: int, length: int, client: int) -> bool:
        """cpu_physical_memory_all_dirty: is every page of the range dirty for `client`?

        With plain int arguments one byte search over the row (a write path asks this of
        the CODE bits before every RAM write that logs CODE)."""
        c = _CLIENT_INDEX.get(client) if type(client) in _CLIENT_TYPES else None
        if type(start) is int and type(length) is int and c is not None and 0 <= start \
                and 0 < length:
            p0 = start >> TARGET_PAGE_BITS
            p1 = (start + length + TARGET_PAGE_SIZE - 1) >> TARGET_PAGE_BITS
            if p1 <= self._npages:
                return 0 not in self._rows[c][p0:p1].tobytes()
        c = _check_client(client)
        p0, p1 = self._pages(start, length)
        return bool(self._bits[c, p0:p1].all())

    def range_includes_clean(self, start: int, length: int, mask: int) -> int:
        """cpu_physical_memory_range_includes_clean: the subset of `mask` that has a clean page
        in the range.

        With plain int arguments one byte search per client over its row, without the lock:
        a writer asks this after storing (0: every page is dirty for every client, nothing to
        mark), and a clear that runs after the search also finds the stored data."""
        if (type(start) is int and type(length) is int and type(mask) is int and 0 <= start
                and 0 < length and 0 <= mask <= DIRTY_CLIENTS_ALL):
            p0 = start >> TARGET_PAGE_BITS
            p1 = (start + length + TARGET_PAGE_SIZE - 1) >> TARGET_PAGE_BITS
            if p1 <= self._npages:
                rows = self._rows
                out = 0
                for c in MASK_CLIENTS[mask]:
                    if 0 in rows[c][p0:p1].tobytes():
                        out |= 1 << c
                return out
        mask = _check_mask(mask)
        p0, p1 = self._pages(start, length)
        out = 0
        for c in MASK_CLIENTS[mask]:
            if not self._bits[c, p0:p1].all():
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
        with self._lock:
            seg = self._bits[c, p0:p1]
            dirty = bool(seg.any())
            if dirty:
                self._end_epoch()
                seg.fill(0)
        if dirty and self._clear_listeners:
            self._cleared(p0, p1, 1 << c)
        return dirty

    def take_dirty(self, start: int, length: int, client: int) -> bytes | None:
        """snapshot_and_clear_dirty for a display loop's per-frame call: None when no page of
        the range is dirty for `client` (tested without the lock; nothing is cleared, so a bit
        a writer sets meanwhile stays for the next call), else the range's page bits as bytes
        (one 0/1 byte per page of the page-aligned hull), copied and cleared atomically with
        respect to set_dirty_range. No snapshot object is built either way.
        :meth:`dirty_range` gives the same operation with its arguments checked once."""
        c = _CLIENT_INDEX.get(client) if type(client) in _CLIENT_TYPES else None
        if not (type(start) is int and type(length) is int and c is not None and 0 <= start
                and 0 < length):
            c = _check_client(client)
            start = _check_int("ram_addr", start)
            length = _check_int("length", length)
            self._pages(start, length)  # raises for a range beyond the bitmaps
            if not length:
                return None  # an empty range has no dirty page, as get_dirty says
        p0 = start >> TARGET_PAGE_BITS
        p1 = (start + length + TARGET_PAGE_SIZE - 1) >> TARGET_PAGE_BITS
        if p1 > self._npages:
            self._pages(start, length)  # raises, naming the range
        zeros = self._zeros.get(p1 - p0) or self._zero_bytes(p1 - p0)
        raw = self._rows[c][p0:p1].tobytes()
        if raw == zeros:
            return None
        return self._take(c, p0, p1, raw, zeros)

    def _take(self, c: int, p0: int, p1: int, raw: bytes, zeros: bytes) -> bytes | None:
        """take_dirty's clear, given a copy ``raw`` of pages [p0, p1) read without the lock
        (possibly from rows grow() has since replaced) that showed a dirty page."""
        first = raw.find(1)
        with self._lock:
            row = self._rows[c]  # grow() may have moved the rows meanwhile
            if raw.find(1, first + 1) < 0 and row[p0 + first]:
                # A partial frame's commonest case, one dirty page: clear just that byte. A
                # bit set since the read above stays for the next call; a writer that saw
                # this one set stored its data before we clear it, so the caller's redraw
                # shows that data.
                last = first
                self._end_epoch()
                row[p0 + first] = 0
            else:
                raw = row[p0:p1].tobytes()
                first = raw.find(1)
                if first < 0:
                    return None
                last = raw.rfind(1)
                self._end_epoch()
                row[p0:p1] = zeros
        # Only [first, last] had bits to clear: the listeners (a TLB's write entries, which
        # exist only on pages dirty for every client) need hear of no more. (_cleared's loop,
        # inline: a partial frame comes through here.)
        for fn in self._clear_listeners:
            fn((p0 + first) << TARGET_PAGE_BITS, (last + 1 - first) << TARGET_PAGE_BITS, 1 << c)
        return raw

    def dirty_range(self, start: int, length: int, client: int) -> DirtyRange:
        """A fixed range of `client`'s bitmap whose :meth:`DirtyRange.take` is
        :meth:`take_dirty` over it, the arguments checked here once (a display loop takes
        the same range every frame)."""
        c = _check_client(client)
        start = _check_int("ram_addr", start)
        length = _check_int("length", length)
        if length <= 0:
            raise DirtyMemoryError(f"dirty range length {length}: expected at least one byte")
        self._pages(start, length)  # raises for a range beyond the bitmaps
        return DirtyRange(self, c, start >> TARGET_PAGE_BITS,
                          (start + length + TARGET_PAGE_SIZE - 1) >> TARGET_PAGE_BITS)

    def snapshot_and_clear_dirty(self, start: int, length: int, client: int) -> DirtyBitmapSnapshot:
        """cpu_physical_memory_snapshot_and_clear_dirty: copy and clear one client's bits over
        the page-aligned hull of the range, atomically with respect to set_dirty_range.

        A display loop calls this once per frame: with plain int arguments the row's bytes
        are copied and zeroed through its memoryview (and nothing is ended or announced when
        no bit was set)."""
        c = _CLIENT_INDEX.get(client) if type(client) in _CLIENT_TYPES else None
        if type(start) is int and type(length) is int and c is not None and 0 <= start \
                and 0 < length:
            client = c
            p0 = start >> TARGET_PAGE_BITS
            p1 = (start + length + TARGET_PAGE_SIZE - 1) >> TARGET_PAGE_BITS
            if p1 <= self._npages:
                zeros = self._zero_bytes(p1 - p0)
                with self._lock:
                    row = self._rows[client]
                    raw = row[p0:p1].tobytes()
                    cleared = raw != zeros
                    if cleared:
                        self._end_epoch()
                        row[p0:p1] = zeros
                if cleared and self._clear_listeners:
                    self._cleared(p0, p1, 1 << client)
                pages = np.frombuffer(bytearray(raw), dtype=np.bool_)
                return DirtyBitmapSnapshot(p0 << TARGET_PAGE_BITS, p1 << TARGET_PAGE_BITS,
                                           pages, client)
        c = _check_client(client)
        p0, p1 = self._pages(start, length)
        with self._lock:
            seg = self._bits[c, p0:p1]
            pages = seg.astype(np.bool_)
            self._end_epoch()
            seg.fill(0)
        if self._clear_listeners:
            self._cleared(p0, p1, 1 << c)
        return DirtyBitmapSnapshot(p0 << TARGET_PAGE_BITS, p1 << TARGET_PAGE_BITS, pages, c)

    def __repr__(self) -> str:
        counts = ", ".join(f"{DirtyClient(c).name}={int(self._bits[c, :self._npages].sum())}"
                           for c in range(DIRTY_MEMORY_NUM))
        return f"DirtyMemory({self._npages} pages; dirty {counts})"


class DirtyRange:
    """Pages [p0, p1) of one client's bitmap, taken frame after frame (DirtyMemory.dirty_range).

    :meth:`take` is DirtyMemory.take_dirty over the range without its per-call checks: the
    lock-free test reads the row through a memoryview slice made once (made again when
    DirtyMemory.grow has replaced the rows), and the clear goes through the same code as
    take_dirty's, under the lock, on the current rows."""

    __slots__ = ("_dm", "_c", "_p0", "_p1", "_zeros", "_rows", "_view")

    def __init__(self, dm: DirtyMemory, c: int, p0: int, p1: int):
        self._dm = dm
        self._c = c
        self._p0 = p0
        self._p1 = p1
        self._zeros = bytes(p1 - p0)
        self._rows = dm._rows
        self._view = self._rows[c][p0:p1]

    @property
    def start(self) -> int:
        return self._p0 << TARGET_PAGE_BITS

    @property
    def length(self) -> int:
        return (self._p1 - self._p0) << TARGET_PAGE_BITS

    def take(self) -> bytes | None:
        """None when no page of the range is dirty, else its page bits (one 0/1 byte per
        page), copied and cleared atomically with respect to set_dirty_range."""
        dm = self._dm
        if dm._rows is not self._rows:  # grow() moved the rows (they only ever grow)
            self._rows = dm._rows
            self._view = self._rows[self._c][self._p0:self._p1]
        raw = self._view.tobytes()
        if raw == self._zeros:
            return None
        return dm._take(self._c, self._p0, self._p1, raw, self._zeros)

    def __repr__(self) -> str:
        return (f"DirtyRange({DirtyClient(self._c).name}, {self.start:#x}+{self.length:#x})")
