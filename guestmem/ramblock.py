"""RAMBlocks and the RAMList (QEMU's system/physmem.c, include/exec/ramblock.h, ramlist.h).

A RAMBlock is a piece of host memory with a place (`offset`) in the ram_addr_t namespace, the
namespace the dirty bitmaps are indexed by.  The RAMList holds the blocks of one machine and
its dirty bitmaps; there is no process-wide ram_list, so two machines in one process (say a
migration source and destination) share nothing.
"""

from __future__ import annotations

import bisect
import mmap
import operator
import threading
from enum import IntFlag
from typing import Callable

import numpy as np

from .dirty import (DIRTY_CLIENTS_ALL, DIRTY_MEMORY_CODE, TARGET_PAGE_BITS,
                    DirtyMemory, page_align_up)
from .errors import RAMBlockError
from .rcu import synchronize_rcu

#: find_ram_offset aligns candidates to BITS_PER_LONG pages so that each block starts on a
#: whole word of the dirty bitmap.
RAM_OFFSET_ALIGN = 64 << TARGET_PAGE_BITS
RAM_ADDR_MAX = (1 << 64) - 1

HOST_PAGE_SIZE = mmap.PAGESIZE


class RAMBlockFlags(IntFlag):
    """RAM_* flags of a RAMBlock (bit values as in QEMU's include/exec/memory.h)."""

    NONE = 0
    PREALLOC = 1 << 0
    SHARED = 1 << 1
    RESIZEABLE = 1 << 2
    READONLY = 1 << 10


def _round_up(n: int, align: int) -> int:
    return (n + align - 1) // align * align


def _int_arg(name: str, value) -> int:
    try:
        return operator.index(value)
    except TypeError:
        raise RAMBlockError(f"{name} {value!r} is not an integer") from None


class RAMBlock:
    """One block of guest RAM: host memory plus its ram_addr_t range.

    `host` is a numpy uint8 array of `max_length` bytes; only the first `used_length` are
    guest-visible.  `mr` is the MemoryRegion that owns the block (None for blocks made
    directly on a RAMList).
    """

    __slots__ = ("idstr", "host", "offset", "used_length", "max_length", "flags", "mr",
                 "backend", "page_size", "ram_list", "resized", "freed", "dma_mappings", "_mmap",
                 "__weakref__")

    def __init__(self, ram_list, idstr, host, offset, used_length, max_length, flags, mr,
                 backend, page_size, mm=None):
        self.ram_list = ram_list
        self.idstr = idstr
        self.host = host
        self.offset = offset
        self.used_length = used_length
        self.max_length = max_length
        self.flags = RAMBlockFlags(flags)
        self.mr = mr
        self.backend = backend
        self.page_size = page_size
        #: optional callback(idstr, new_size, host) run after a resize (QEMU's `resized`)
        self.resized: Callable | None = None
        self.freed = False
        #: live direct DMA mappings into this block (address_space_map): while any exists the
        #: block cannot be freed, as QEMU's memory_region_ref keeps the region alive.
        self.dma_mappings: set = set()
        self._mmap = mm

    @property
    def hva(self) -> int:
        """The host virtual address of the block (what `info ramblock` prints as HVA)."""
        return int(self.host.ctypes.data) if self.host is not None else 0

    @property
    def is_shared(self) -> bool:
        return bool(self.flags & RAMBlockFlags.SHARED)

    @property
    def is_resizeable(self) -> bool:
        return bool(self.flags & RAMBlockFlags.RESIZEABLE)

    @property
    def is_readonly(self) -> bool:
        return bool(self.flags & RAMBlockFlags.READONLY)

    def contains(self, ram_addr: int) -> bool:
        return 0 <= ram_addr - self.offset < self.max_length

    def resize(self, new_used_length: int) -> None:
        """qemu_ram_resize: grow or shrink used_length within max_length.

        The old used range is cleared and the new one set dirty for every client, as QEMU
        does, so that all consumers (display, migration, TBs) re-read the block.
        """
        unaligned = _int_arg("new size", new_used_length)
        if self.freed:
            raise RAMBlockError(f"RAMBlock {self.idstr!r} has been freed")
        if unaligned <= 0:
            raise RAMBlockError(f"Size of {self.idstr!r} must be positive, got {unaligned:#x}")
        newsize = _round_up(page_align_up(unaligned), HOST_PAGE_SIZE)
        mr = self.mr
        if newsize == self.used_length:
            if mr is not None and mr.size != unaligned:
                mr._set_size_from_block(unaligned)
            if self.resized:
                self.resized(self.idstr, unaligned, self.host)
            return
        if not self.is_resizeable:
            raise RAMBlockError(f"Size mismatch: {self.idstr}: {newsize:#x} != {self.used_length:#x} "
                                f"(RAMBlock is not resizeable)")
        if newsize > self.max_length:
            raise RAMBlockError(f"Size too large: {self.idstr}: {newsize:#x} > {self.max_length:#x}")
        if mr is not None:
            mr._check_block_resize(unaligned)
        dirty = self.ram_list.dirty
        dirty.clear_dirty_range(self.offset, self.used_length)
        self.used_length = newsize
        dirty.set_dirty_range(self.offset, self.used_length, DIRTY_CLIENTS_ALL)
        if mr is not None:
            mr._set_size_from_block(unaligned)
        if self.resized:
            self.resized(self.idstr, unaligned, self.host)

    def __repr__(self) -> str:
        return (f"RAMBlock({self.idstr!r}, offset={self.offset:#x}, used={self.used_length:#x}, "
                f"max={self.max_length:#x}{', freed' if self.freed else ''})")


def _first_mapping(block: RAMBlock) -> str:
    # copy first: another thread may unmap while the reprs are built
    return min((repr(m) for m in tuple(block.dma_mappings)), default="?")


class RAMList:
    """ram_list: the RAMBlocks of one machine and their dirty bitmaps.

    `blocks` is sorted by offset (for O(log n) lookup by ram_addr); `qemu_order` is QEMU's
    list order (largest max_length first), which find_ram_offset walks and `info ramblock`
    prints.
    """

    def __init__(self):
        self.blocks: list[RAMBlock] = []
        self._offsets: list[int] = []
        self.qemu_order: list[RAMBlock] = []
        self.dirty = DirtyMemory()
        self.mru_block: RAMBlock | None = None
        self.version = 0
        self.mutex = threading.RLock()
        #: called as hook(ram_addr, length) before a write reaches a page whose CODE bit is
        #: clean (i.e. that holds translated code): TCG's tb_invalidate_phys_range.  It owns
        #: the range's CODE bits: it sets them on pages left without translated code.
        self.code_invalidate_hook: Callable[[int, int], None] | None = None
        self.global_dirty_log = False
        #: called as fn(ram_list) after global_dirty_log_start/stop (the memory core rebuilds
        #: the FlatViews of the address spaces that map this RAMList's blocks).
        self._global_log_observers: list[Callable[["RAMList"], None]] = []
        self._markers: dict[int, Callable] = {}

    # -- allocation -------------------------------------------------------------------------
    def find_ram_offset(self, size: int) -> int:
        """QEMU's find_ram_offset: the smallest gap after an existing block (rounded up to
        a BITS_PER_LONG-page boundary) that fits `size`; the first block goes at 0."""
        if size <= 0:
            raise RAMBlockError(f"cannot place a RAMBlock of size {size:#x}: size must be positive")
        if not self.qemu_order:
            return 0
        offsets = self._offsets
        best, mingap = RAM_ADDR_MAX, RAM_ADDR_MAX
        for block in self.qemu_order:
            candidate = _round_up(block.offset + block.max_length, RAM_OFFSET_ALIGN)
            i = bisect.bisect_left(offsets, candidate)
            nxt = offsets[i] if i < len(offsets) else RAM_ADDR_MAX
            gap = nxt - candidate
            if gap >= size and gap < mingap:
                best, mingap = candidate, gap
        if best == RAM_ADDR_MAX:
            raise RAMBlockError(f"Failed to find gap of requested size: {size}")
        return best

    def ram_block_add(self, idstr: str, size: int, *, max_size: int | None = None, host=None,
                      flags: int = 0, mr=None, backend=None, page_size: int | None = None) -> RAMBlock:
        """qemu_ram_alloc*/ram_block_add: allocate (or adopt) host memory and place it.

        host None and no backend -> anonymous mmap of max_size bytes (MAP_SHARED if the
        SHARED flag is given).  With a backend, its `.host` array is used.  max_size makes
        the block resizeable.  The new used range starts dirty for all clients.
        """
        if not isinstance(idstr, str) or not idstr:
            raise RAMBlockError(f"RAMBlock idstr must be a non-empty string, got {idstr!r}")
        size = _int_arg("size", size)
        if size <= 0:
            raise RAMBlockError(f"RAMBlock {idstr!r}: size must be positive, got {size:#x}")
        try:
            flags = RAMBlockFlags(operator.index(flags))
        except (TypeError, ValueError):
            raise RAMBlockError(f"RAMBlock {idstr!r}: bad flags {flags!r}") from None
        if max_size is not None:
            max_size = _int_arg("max_size", max_size)
            if max_size < size:
                raise RAMBlockError(f"RAMBlock {idstr!r}: max_size {max_size:#x} is smaller than "
                                    f"size {size:#x}")
            flags |= RAMBlockFlags.RESIZEABLE
        elif flags & RAMBlockFlags.RESIZEABLE:
            max_size = size
        else:
            max_size = size
        if page_size is None:
            page_size = getattr(backend, "page_size", None) or HOST_PAGE_SIZE
        page_size = _int_arg("page_size", page_size)
        used = _round_up(page_align_up(size), HOST_PAGE_SIZE)
        maxlen = _round_up(page_align_up(max_size), HOST_PAGE_SIZE)
        if backend is not None:
            if host is None:
                host = getattr(backend, "host", None)
                if host is None:
                    raise RAMBlockError(f"RAMBlock {idstr!r}: backend {getattr(backend, 'id', backend)!r} "
                                        f"has no host memory (closed?)")
            if getattr(backend, "share", False):
                flags |= RAMBlockFlags.SHARED
            if getattr(backend, "readonly", False):
                flags |= RAMBlockFlags.READONLY
            if getattr(backend, "prealloc", False):
                flags |= RAMBlockFlags.PREALLOC
        mm = None
        with self.mutex:
            if any(b.idstr == idstr for b in self.blocks):
                raise RAMBlockError(f'RAMBlock "{idstr}" already registered')
            if host is not None:
                host = self._adopt_host(idstr, host, maxlen)
            offset = self.find_ram_offset(maxlen)
            if host is None:
                mflags = mmap.MAP_ANONYMOUS | (mmap.MAP_SHARED if flags & RAMBlockFlags.SHARED
                                               else mmap.MAP_PRIVATE)
                try:
                    mm = mmap.mmap(-1, maxlen, flags=mflags)
                except (OSError, ValueError, OverflowError) as e:
                    raise RAMBlockError(f"cannot set up guest memory {idstr!r}: {e}") from None
                host = np.frombuffer(mm, dtype=np.uint8)
            block = RAMBlock(self, idstr, host, offset, used, maxlen, flags, mr, backend, page_size, mm)
            try:
                self.dirty.grow((offset + maxlen) >> TARGET_PAGE_BITS)
            except MemoryError:
                raise RAMBlockError(f"cannot grow the dirty bitmaps to cover RAMBlock {idstr!r} "
                                    f"({maxlen:#x} bytes at ram_addr {offset:#x})") from None
            # Bitmaps never shrink: a reused gap may still hold stale bits.
            self.dirty.clear_dirty_range(offset, maxlen)
            i = bisect.bisect_left(self._offsets, offset)
            self._offsets.insert(i, offset)
            self.blocks.insert(i, block)
            for j, b in enumerate(self.qemu_order):
                if b.max_length < maxlen:
                    self.qemu_order.insert(j, block)
                    break
            else:
                self.qemu_order.append(block)
            self.mru_block = None
            self.version += 1
        self.dirty.set_dirty_range(offset, used, DIRTY_CLIENTS_ALL)
        return block

    @staticmethod
    def _adopt_host(idstr, host, maxlen) -> np.ndarray:
        if not isinstance(host, np.ndarray):
            try:
                host = np.frombuffer(host, dtype=np.uint8)
            except (TypeError, ValueError) as e:
                raise RAMBlockError(f"RAMBlock {idstr!r}: host memory {type(host).__name__} "
                                    f"is not a bytes-like buffer: {e}") from None
        if host.dtype != np.uint8 or host.ndim != 1 or not host.flags.c_contiguous:
            raise RAMBlockError(f"RAMBlock {idstr!r}: host memory must be a contiguous 1-D uint8 "
                                f"array, got dtype={host.dtype} shape={host.shape}")
        if len(host) < maxlen:
            raise RAMBlockError(f"RAMBlock {idstr!r}: host memory of {len(host):#x} bytes is smaller "
                                f"than the block ({maxlen:#x} bytes)")
        return host[:maxlen]

    def ram_block_free(self, block: RAMBlock) -> None:
        """qemu_ram_free: drop the block; its ram_addr range becomes a gap later blocks reuse.

        The block must be unmapped from every region tree first, and no DMA mapping may
        still point into it.  Accesses that began before the unmapping may still be writing
        into it: wait for them (a grace period, as QEMU's reclaim_ramblock runs from
        call_rcu), so no write lands in the block, or marks its ram_addr range, after this
        returns."""
        if not isinstance(block, RAMBlock):
            raise RAMBlockError(f"{block!r} is not a RAMBlock")
        with self.mutex:
            if block.ram_list is not self or block.freed or block not in self.blocks:
                raise RAMBlockError(f"RAMBlock {block.idstr!r} does not belong to this RAMList "
                                    f"(or was already freed)")
            mr = block.mr
            if mr is not None and mr._is_mapped():
                raise RAMBlockError(f"RAMBlock {block.idstr!r} is still mapped through region "
                                    f"{mr.name!r}; del_subregion it first")
        synchronize_rcu()
        with self.mutex:
            if block.freed or block not in self.blocks:
                raise RAMBlockError(f"RAMBlock {block.idstr!r} was freed meanwhile")
            if block.dma_mappings:
                raise RAMBlockError(f"RAMBlock {block.idstr!r} is in use by DMA mapping "
                                    f"{_first_mapping(block)}; unmap it first")
            i = self.blocks.index(block)
            del self.blocks[i]
            del self._offsets[i]
            self.qemu_order.remove(block)
            self.mru_block = None
            self.version += 1
            block.freed = True
            if mr is not None:
                mr._block_freed()

    # -- lookup -----------------------------------------------------------------------------
    def block_from_ram_addr(self, ram_addr: int) -> tuple[RAMBlock, int]:
        """qemu_get_ram_block + offset: the block holding ram_addr and the offset inside it.
        O(1) for the most recently used block, O(log n) otherwise."""
        b = self.mru_block
        if b is not None and 0 <= ram_addr - b.offset < b.max_length:
            return b, ram_addr - b.offset
        ram_addr = _int_arg("ram_addr", ram_addr)
        i = bisect.bisect_right(self._offsets, ram_addr) - 1
        if i >= 0:
            b = self.blocks[i]
            off = ram_addr - b.offset
            if off < b.max_length:
                self.mru_block = b
                return b, off
        raise RAMBlockError(f"Bad ram offset {ram_addr:#x}: no RAMBlock contains it")

    def block_by_idstr(self, idstr: str) -> RAMBlock:
        """qemu_ram_block_by_name."""
        for b in self.blocks:
            if b.idstr == idstr:
                return b
        raise RAMBlockError(f"no RAMBlock named {idstr!r}")

    def host_view(self, ram_addr: int, length: int) -> np.ndarray:
        """qemu_map_ram_ptr: a numpy view of `length` bytes of host memory at ram_addr (must lie
        within one block's used length)."""
        block, off = self.block_from_ram_addr(ram_addr)
        length = _int_arg("length", length)
        if length < 0 or off + length > block.used_length:
            raise RAMBlockError(f"range {ram_addr:#x}+{length:#x} crosses the end of RAMBlock "
                                f"{block.idstr!r} (used length {block.used_length:#x})")
        return block.host[off:off + length]

    @property
    def ram_size(self) -> int:
        """Sum of used lengths (what QEMU's ram_bytes_total counts)."""
        return sum(b.used_length for b in self.blocks)

    def last_ram_page(self) -> int:
        return max(((b.offset + b.max_length) >> TARGET_PAGE_BITS for b in self.blocks), default=0)

    # -- dirty logging ----------------------------------------------------------------------
    def write_marker(self, mask: int) -> Callable:
        """The notdirty check for RAM writes that log the clients in `mask`:
        DirtyMemory.make_marker over invalidate_and_set_dirty, one per mask."""
        m = self._markers.get(mask)
        if m is None:
            m = self._markers[mask] = self.dirty.make_marker(mask, self.invalidate_and_set_dirty)
        return m

    def invalidate_and_set_dirty(self, ram_addr: int, length: int, mask: int) -> None:
        """physmem.c invalidate_and_set_dirty: a write of [ram_addr, +length) happened.

        If the CODE client is in `mask` and a page of the range is protected (CODE bit clean:
        it holds translated code), the code invalidation hook runs first and owns the CODE
        bits of the range, as tb_invalidate_phys_range does in QEMU: it drops the
        translations the write overlaps and sets CODE again on the pages left without any
        (tlb_unprotect_code).  The other clients in `mask` are marked dirty here."""
        dirty = self.dirty
        if mask & (1 << DIRTY_MEMORY_CODE):
            hook = self.code_invalidate_hook
            if hook is not None and not dirty.all_dirty(ram_addr, length, DIRTY_MEMORY_CODE):
                try:
                    hook(ram_addr, length)
                finally:
                    rest = mask & ~(1 << DIRTY_MEMORY_CODE)
                    if rest:
                        dirty.set_dirty_range(ram_addr, length, rest)
                return
        dirty.set_dirty_range(ram_addr, length, mask)

    def global_dirty_log_start(self) -> None:
        """memory_global_dirty_log_start: from now on every RAM write also sets the MIGRATION
        bit; memory listeners see log_start on every RAM section."""
        if self.global_dirty_log:
            return
        self.global_dirty_log = True
        self._global_log_changed()

    def global_dirty_log_stop(self) -> None:
        """memory_global_dirty_log_stop."""
        if not self.global_dirty_log:
            return
        self.global_dirty_log = False
        self._global_log_changed()

    def add_global_log_observer(self, fn: Callable[["RAMList"], None]) -> None:
        """Call fn(ram_list) after the global dirty log starts or stops (once per fn)."""
        if fn not in self._global_log_observers:
            self._global_log_observers.append(fn)

    def _global_log_changed(self) -> None:
        for fn in tuple(self._global_log_observers):
            fn(self)

    def __iter__(self):
        return iter(list(self.blocks))

    def __len__(self) -> int:
        return len(self.blocks)

    def __repr__(self) -> str:
        return f"RAMList({len(self.blocks)} blocks, {self.ram_size:#x} bytes)"
