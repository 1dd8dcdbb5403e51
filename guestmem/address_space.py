"""AddressSpace: guest accesses dispatched through the current FlatView (system/physmem.c).

address_space_rw splits an access at FlatRange boundaries.  RAM is a slice copy between the
caller's buffer and the RAMBlock's host memory followed by dirty marking
(invalidate_and_set_dirty); ROM drops writes; MMIO is split into the sizes the region accepts
(memory_access_size) and then split or combined into the sizes its callbacks implement
(access_with_adjusted_size), honouring the device's endianness.  Holes give
MemTxResult.DECODE_ERROR and read as 0.

The class's access methods are the slow paths: a FlatView walk per access.  Each instance
shadows them with fast paths built by the _build_* functions below, which only touch a
cached copy of the last RAM FlatRange hit (and of the last page known dirty): no tree walk,
no bisect, no lock, no allocation beyond the copy itself.  Dirty marking goes through the
range's DirtyMemory marker, so only a page that is clean for some client takes the bitmaps'
lock (and runs the CODE hook first if the page holds translated code).

A memory-map change is atomic for every access: an access reads one FlatView (or one cache
entry taken from one) and uses it to the end, as under QEMU's rcu_read_lock; freeing the
memory an old view used waits for those accesses (guestmem.rcu.synchronize_rcu).
"""

from __future__ import annotations

import operator
import struct
import threading
import weakref
from enum import IntEnum, IntFlag

import numpy as np

from .dirty import TARGET_PAGE_BITS, TARGET_PAGE_MASK, TARGET_PAGE_SIZE, ClearEpoch
from .errors import AccessError, RegionError
from .flatview import FlatRange, FlatView, flatview_root, generate_memory_topology
from .rcu import rcu_read_side
from .region import (Endianness, MemoryListener, MemoryRegion, MemoryRegionSection,
                     RegionKind, _note_log_sync, _register_address_space, address_spaces,
                     memory_region_transaction_begin, memory_region_transaction_commit,
                     unassigned_io_ops)

ADDR_LIMIT = 1 << 64


class MemTxResult(IntFlag):
    """MEMTX_* (include/exec/memattrs.h)."""

    OK = 0
    ERROR = 1 << 0
    DECODE_ERROR = 1 << 1
    ACCESS_ERROR = 1 << 2


_OK = MemTxResult.OK
_BIG = Endianness.BIG
_DECODE_ERROR = MemTxResult.DECODE_ERROR


class DMADirection(IntEnum):
    """DMA_DIRECTION_TO_DEVICE reads guest memory; FROM_DEVICE writes it."""

    TO_DEVICE = 0
    FROM_DEVICE = 1


class DMAMapping:
    """What address_space_map hands out.  `buf` is a numpy uint8 array: a direct view of
    guest RAM, or the address space's single bounce buffer.  len(buf) may be shorter than
    asked (the RAM range ended, or the bounce buffer is one page)."""

    __slots__ = ("address_space", "addr", "buf", "is_write", "bounce", "mr", "ram_addr",
                 "active")

    def __init__(self, address_space, addr, buf, is_write, bounce, mr, ram_addr):
        self.address_space = address_space
        self.addr = addr
        self.buf = buf
        self.is_write = is_write
        self.bounce = bounce
        self.mr = mr
        self.ram_addr = ram_addr
        self.active = True

    @property
    def length(self) -> int:
        return len(self.buf)

    def __len__(self) -> int:
        return len(self.buf)

    def __repr__(self) -> str:
        kind = "bounce" if self.bounce else "direct"
        space = getattr(self.address_space, "name", "?")
        return (f"<DMAMapping {kind} {self.addr:#x}+{len(self.buf):#x}"
                f"{' w' if self.is_write else ''} in {space!r}>")


def _byte_view(buf, writable: bool) -> memoryview:
    try:
        mv = memoryview(buf)
    except TypeError:
        raise AccessError(f"buffer {type(buf).__name__} is not bytes-like") from None
    if writable and mv.readonly:
        raise AccessError(f"read into a read-only buffer ({type(buf).__name__})")
    if mv.format != "B" or mv.ndim != 1:
        try:
            mv = mv.cast("B")
        except TypeError:
            if not mv.c_contiguous:
                raise AccessError("buffer must be C-contiguous") from None
            mv = mv.cast("B") if mv.ndim <= 1 else mv.cast("B", (mv.nbytes,))
    return mv


def _addr(addr) -> int:
    if isinstance(addr, bool):
        raise AccessError(f"address {addr!r} is not an integer")
    try:
        return operator.index(addr)
    except TypeError:
        raise AccessError(f"address {addr!r} is not an integer") from None


def _pow2floor(n: int) -> int:
    return 1 << (n.bit_length() - 1)


def memory_access_size(mr: MemoryRegion, l: int, addr: int) -> int:
    """physmem.c memory_access_size: largest valid access at `addr`, at most l."""
    ops = mr.ops
    access_size_max = ops.valid.max_access_size or 4
    if not ops.impl.unaligned:
        align = addr & -addr
        if align and align < access_size_max:
            access_size_max = align
    if l > access_size_max:
        l = access_size_max
    return _pow2floor(l)


def _access_valid(mr: MemoryRegion, addr: int, size: int) -> bool:
    """memory_region_access_valid."""
    v = mr.ops.valid
    if not v.unaligned and addr & (size - 1):
        return False
    return v.min_access_size <= size <= v.max_access_size


def memory_region_dispatch_read(mr: MemoryRegion, addr: int, size: int) -> tuple[int, MemTxResult]:
    """Read `size` bytes at offset `addr` of an io/rom_device region; the value is in the
    device's byte order (access_with_adjusted_size splits/combines to impl sizes)."""
    ops = mr.ops
    if not _access_valid(mr, addr, size):
        return 0, _DECODE_ERROR
    read = ops.read
    if read is None:
        return 0, _OK
    impl = ops.impl
    imin = impl.min_access_size or 1
    imax = impl.max_access_size or 4
    if imin <= size <= imax:  # one implemented access: no split, no shifts
        return read(addr, size) & ((1 << (size * 8)) - 1), _OK
    access_size = max(min(size, imax), imin)
    amask = (1 << (access_size * 8)) - 1
    value = 0
    big = ops.endianness.is_big
    for i in range(0, size, access_size):
        tmp = read(addr + i, access_size) & amask
        shift = ((size - access_size - i) if big else i) * 8
        value |= (tmp << shift) if shift >= 0 else (tmp >> -shift)
    return value & ((1 << (size * 8)) - 1), _OK


def memory_region_dispatch_write(mr: MemoryRegion, addr: int, value: int, size: int) -> MemTxResult:
    """Write counterpart of memory_region_dispatch_read."""
    ops = mr.ops
    if not _access_valid(mr, addr, size):
        return _DECODE_ERROR
    write = ops.write
    if write is None:
        return _OK
    impl = ops.impl
    imin = impl.min_access_size or 1
    imax = impl.max_access_size or 4
    if imin <= size <= imax:
        write(addr, value & ((1 << (size * 8)) - 1), size)
        return _OK
    access_size = max(min(size, imax), imin)
    amask = (1 << (access_size * 8)) - 1
    big = ops.endianness.is_big
    for i in range(0, size, access_size):
        shift = ((size - access_size - i) if big else i) * 8
        tmp = ((value >> shift) if shift >= 0 else (value << -shift)) & amask
        write(addr + i, tmp, access_size)
    return _OK


def _block_access_ok(ops) -> bool:
    """Would every unit of the per-unit split be a valid access?  Units are powers of two
    up to valid.max_access_size, aligned unless impl.unaligned; with min_access_size 1 they
    all pass memory_region_access_valid unless impl splits unaligned and valid refuses it.
    Only then is one read_block/write_block call the same as the split (no DECODE_ERROR
    part-way through)."""
    v = ops.valid
    return v.min_access_size == 1 and (v.unaligned or not ops.impl.unaligned)


def _mmio_block(mr: MemoryRegion, block, xlat: int, mv: memoryview, pos: int, l: int,
                is_write: bool) -> MemTxResult:
    """One MemoryRegionOps.read_block/write_block call for [xlat, xlat + l) of `mr`."""
    if is_write:
        data = np.frombuffer(mv[pos:pos + l], dtype=np.uint8)
        data.flags.writeable = False
        block(xlat, data)
        return _OK
    data = block(xlat, l)
    if not isinstance(data, np.ndarray) or data.dtype != np.uint8 or data.shape != (l,):
        raise RegionError(f"region {mr.name!r}: read_block({xlat:#x}, {l}) returned "
                          f"{type(data).__name__} {getattr(data, 'dtype', '')}"
                          f"{getattr(data, 'shape', '')}, expected a uint8 array of {l} bytes")
    mv[pos:pos + l] = np.ascontiguousarray(data)
    return _OK


# ------------------------------------------------------------------------------------------
# Fast paths.  Every AddressSpace gets its own closures over one _FastCache; the class's
# methods of the same names are the slow paths they must agree with.
# ------------------------------------------------------------------------------------------
class _RAMEntry:
    """The last RAM FlatRange an access hit, as the fast paths read it.  Never changed once
    built: the cache replaces the whole entry, so a thread always sees one range."""

    __slots__ = ("start", "end", "wend", "mv", "hdelta", "radelta", "marker", "flatview")

    def __init__(self, start, end, wend, mv, hdelta, radelta, marker, flatview):
        self.start = start      # [start, end) is directly readable RAM,
        self.end = end
        self.wend = wend        # [start, wend) directly writable (wend == start for ROM)
        self.mv = mv            # the byte for address a is mv[a - hdelta]
        self.hdelta = hdelta
        self.radelta = radelta  # the ram_addr of address a is a - radelta
        self.marker = marker    # RAMList.write_marker(mask) for the range
        self.flatview = flatview  # weakref to the FlatView the range belongs to


class _DirtyPage:
    """QEMU's TLB write entry for a page no longer NOTDIRTY: [lo, hi) is part of one page of
    `entry`, dirty for every client of its range for as long as `epoch` is live."""

    __slots__ = ("lo", "hi", "epoch", "mv", "hdelta", "entry")

    def __init__(self, lo, hi, epoch, entry):
        self.lo = lo
        self.hi = hi
        self.epoch = epoch
        self.mv = entry.mv
        self.hdelta = entry.hdelta
        self.entry = entry


class _IOEntry:
    """The last io FlatRange an ld/st hit: [start, end) is answered by mr at addr - delta.

    ``unit_le`` / ``unit_be`` have bit ``size`` set for each access size that, naturally
    aligned and in that byte order, is exactly one ``ops.read`` / ``ops.write`` call with
    the value unchanged -- memory_region_access_valid passes, access_with_adjusted_size
    neither splits nor shifts -- so ld/st call the device directly.  Derived once per
    FlatRange (kept on it, as RAM entries are) from the region's ops, which are fixed when
    the region is created (QEMU's ``const MemoryRegionOps``)."""

    __slots__ = ("start", "end", "delta", "mr", "ops", "unit_le", "unit_be")

    def __init__(self, start, end, delta, mr):
        self.start = start
        self.end = end
        self.delta = delta
        self.mr = mr
        self.ops = ops = mr.ops if mr is not None else None
        units = 0
        if ops is not None and ops.read is not None and ops.write is not None:
            valid, impl = ops.valid, ops.impl
            imin, imax = impl.min_access_size or 1, impl.max_access_size or 4
            for size in (1, 2, 4, 8):
                if (valid.min_access_size <= size <= valid.max_access_size
                        and imin <= size <= imax):
                    units |= size
        big = ops is not None and ops.endianness is _BIG
        self.unit_le = 0 if big else units
        self.unit_be = units if big else 0


#: What a fast path's arithmetic on an address or value that is not a Python int can raise
#: (numpy scalars overflow or wrap, arrays have no truth value, a float is no index): such an
#: access takes the slow path, which converts it with operator.index or raises AccessError.
#: Catching costs nothing until something is raised.
_ODD_ADDRESS = (TypeError, ValueError, OverflowError, IndexError, struct.error)

_ENDED = ClearEpoch()
_ENDED.live = False
_NO_RAM = _RAMEntry(1, 0, 0, memoryview(b""), 0, 0, None, lambda: None)
_NO_PAGE = _DirtyPage(1, 0, _ENDED, _NO_RAM)
_NO_IO = _IOEntry(1, 0, 0, None)


class _FastCache:
    """What one AddressSpace's fast paths share.  Each field holds an entry that is never
    changed once built and is replaced whole by a single store, so a thread always reads one
    consistent entry -- even with other threads filling or dropping them -- with no lock."""

    __slots__ = ("ram", "dirty_page", "io")

    def __init__(self):
        self.ram = _NO_RAM
        self.dirty_page = _NO_PAGE
        self.io = _NO_IO


def _build_ram_cache(as_: "AddressSpace", cache: _FastCache):
    """The RAM cache: (invalidate, fill, lookup).

    lookup(addr) finds addr's FlatRange in the current FlatView and remembers it: a RAM range
    as cache.ram (returned), an io range as cache.io (None returned).  Equivalent to a
    lookup per access because a FlatView never changes: the cached ranges are dropped
    (invalidate) whenever the AddressSpace switches to a new FlatView, and an entry filled
    from a view that was replaced meanwhile is dropped again by fill itself (a map change
    in another thread can land between our lookup and our store).
    """

    def invalidate():
        cache.ram = _NO_RAM
        cache.dirty_page = _NO_PAGE
        cache.io = _NO_IO

    @rcu_read_side
    def fill(fr: FlatRange, fv: FlatView) -> _RAMEntry | None:
        entry = fr.fast_entry
        if entry is None:
            if not fr.direct_read or fr.check_clients is None or (fr.direct_write
                                                                  and fr.host_mv.readonly):
                return None
            # A FlatRange belongs to one FlatView for life, so its entry can be kept on it
            # (naming the view weakly: no cycle keeps an old view and its memory alive).
            entry = fr.fast_entry = _RAMEntry(
                fr.addr, fr.end, fr.end if fr.direct_write else fr.addr, fr.host_mv,
                fr.host_delta, fr.ram_addr_delta, fr.ram_list.write_marker(fr.dirty_log_mask),
                weakref.ref(fv))
        cache.ram = entry
        if as_.flatview is not fv:
            cache.ram = _NO_RAM
        return entry

    @rcu_read_side
    def lookup(addr) -> _RAMEntry | None:
        fv = as_.flatview
        fr = fv.lookup(addr)
        if fr is None:
            return None
        if fr.mr.kind is RegionKind.IO:
            io = fr.fast_entry
            if io is None:  # an io range never gets a RAM entry: the slot is free for this
                io = fr.fast_entry = _IOEntry(fr.addr, fr.end, fr.addr - fr.offset_in_region,
                                              fr.mr)
            cache.io = io
            if as_.flatview is not fv:
                cache.io = _NO_IO
            return None
        return fill(fr, fv)

    return invalidate, fill, lookup


def _build_dirty_marking(as_: "AddressSpace", cache: _FastCache):
    """mark(entry, addr, n): after a store of n bytes at addr into RAM range `entry`, mark the
    pages dirty (invalidate_and_set_dirty, through the range's DirtyMemory marker) and, when
    the store stayed inside one page that is now dirty for every client, remember that page
    with its ClearEpoch as cache.dirty_page.  A store inside cache.dirty_page may skip this
    call while the epoch is live, checked after the store: every clear ends the epoch
    before it touches a bit, so such a store is either seen by that clear or marked again."""

    @rcu_read_side
    def mark(entry: _RAMEntry, addr: int, n: int) -> MemTxResult:
        if n:
            radelta = entry.radelta
            epoch = entry.marker(addr - radelta, n)
            if epoch is not None:
                lo = ((addr - radelta) & TARGET_PAGE_MASK) + radelta
                hi = lo + TARGET_PAGE_SIZE
                start, wend = entry.start, entry.wend
                cache.dirty_page = _DirtyPage(lo if lo > start else start,
                                              hi if hi < wend else wend, epoch, entry)
                if as_.flatview is not entry.flatview():
                    cache.dirty_page = _NO_PAGE
        return _OK

    return mark


def _build_write(as_: "AddressSpace", cache: _FastCache, lookup, mark):
    """write(addr, data): address_space_write for a store that lies in one RAM range.

    Short-cuts: the store lands in cache.dirty_page (no marking while its epoch lives) or
    in cache.ram (one slice copy, then mark); anything else -- other ranges, MMIO, holes,
    odd buffers -- takes AddressSpace._rw_slow, as the class's write does.  The copy is the
    same slice copy _rw_slow makes for a RAM range, and mark does what its
    invalidate_and_set_dirty does."""
    slow = as_._rw_slow

    @rcu_read_side
    def write(addr, data):
        page = cache.dirty_page
        try:
            n = len(data)
            if page.lo <= addr <= page.hi - n:
                o = addr - page.hdelta
                page.mv[o:o + n] = data
                if page.epoch.live:  # checked after the copy: a clear since then ended it
                    return _OK
                entry = page.entry
            else:
                entry = cache.ram
                if not (entry.start <= addr <= entry.wend - n):
                    entry = lookup(addr) or _NO_RAM
                    if not (entry.start <= addr <= entry.wend - n):
                        entry = None
                if entry is not None:
                    o = addr - entry.hdelta
                    entry.mv[o:o + n] = data
        except _ODD_ADDRESS:  # not bytes-like, not an int address, ...
            entry = None
        if entry is None:
            return slow(addr, data, True)
        try:
            return mark(entry, addr, n)
        except _ODD_ADDRESS:  # a numpy address: addr - radelta out of its dtype's range
            return mark(entry, operator.index(addr), n)

    return write


def _build_read(as_: "AddressSpace", cache: _FastCache):
    """read(addr, buf) and read_bytes(addr, n): a load that lies in cache.ram is one slice
    copy out of host memory, the same one _rw_slow makes; the rest takes _rw_slow (which
    fills the cache).  Reads never mark anything."""
    slow = as_._rw_slow

    def read(addr, buf):
        if type(buf) is bytearray:
            entry = cache.ram
            n = len(buf)
            try:
                if entry.start <= addr <= entry.end - n:
                    o = addr - entry.hdelta
                    buf[0:n] = entry.mv[o:o + n]
                    return _OK
            except _ODD_ADDRESS:  # not an int address: _rw_slow says so (or converts it)
                pass
        return slow(addr, buf, False)

    def read_bytes(addr, n):
        entry = cache.ram
        try:
            if entry.start <= addr <= entry.end - n and n >= 0:
                o = addr - entry.hdelta
                return entry.mv[o:o + n].tobytes()
        except _ODD_ADDRESS:
            pass
        return AddressSpace.read_bytes(as_, addr, n)

    return read, read_bytes


def _mmio_unit(mr, xlat: int, size: int, big: bool) -> bool:
    """Is an ld/st of `size` at offset `xlat` of io region `mr` one dispatch of the whole
    value (memory_access_size would not split it) in the device's byte order?"""
    ops = mr.ops
    if size > ops.valid.max_access_size or (ops.endianness is _BIG) is not big:
        return False
    return size == 1 or ops.impl.unaligned or not xlat & (size - 1)


def _build_ld(as_: "AddressSpace", cache: _FastCache, lookup, size: int, fmt: str):
    """ld(addr) -> int: address_space_ld* for one access.  RAM in cache.ram (or found by
    lookup) is one struct unpack from host memory; an io range in cache.io whose region
    takes the value in one access in our byte order is one memory_region_dispatch_read
    (what _rw_slow's split would do for a single unit) -- or, for a naturally aligned size
    the entry lists as a unit, the one ``ops.read`` call that dispatch would make.
    Anything else: the slow path."""
    unpack = struct.Struct(fmt).unpack_from
    big = fmt[0] == ">"
    slow = getattr(AddressSpace, _LD_NAME[fmt])
    dispatch_read = memory_region_dispatch_read
    vmask = (1 << (8 * size)) - 1
    align = size - 1

    def ld(addr):
        entry = cache.ram
        try:
            if entry.start <= addr <= entry.end - size:
                return unpack(entry.mv, addr - entry.hdelta)[0]
            io = cache.io
            if not (io.start <= addr <= io.end - size):
                entry = lookup(addr) or _NO_RAM
                if entry.start <= addr <= entry.end - size:
                    return unpack(entry.mv, addr - entry.hdelta)[0]
                io = cache.io
            unit = 0  # 0: the slow path, 1: one dispatch, 2: one direct call of ops.read
            # (a numpy address takes the slow path here: a device is given int offsets)
            if io.start <= addr <= io.end - size and type(addr) is int:
                xlat = addr - io.delta
                if (io.unit_be if big else io.unit_le) & size and not xlat & align:
                    unit = 2
                elif _mmio_unit(io.mr, xlat, size, big):
                    unit = 1
        except _ODD_ADDRESS:  # e.g. a numpy address whose addr + size wrapped
            unit = 0
        # outside the try: a device's own TypeError must not cause a second read
        if unit == 2:
            return io.ops.read(xlat, size) & vmask
        if unit:
            return dispatch_read(io.mr, xlat, size)[0]
        return slow(as_, addr)

    return ld


def _build_st(as_: "AddressSpace", cache: _FastCache, lookup, mark, size: int, fmt: str):
    """st(addr, val) -> MemTxResult: address_space_st* for one access, with the short-cuts
    of write (dirty page, cached RAM range, then mark) and of ld (one dispatch to a cached
    io range).  A value or address that is not an int is an AccessError, as in the slow
    path."""
    pack = struct.Struct(fmt).pack_into
    vmask = (1 << (8 * size)) - 1
    align = size - 1
    big = fmt[0] == ">"
    slow = getattr(AddressSpace, _ST_NAME[fmt])
    dispatch_write = memory_region_dispatch_write

    @rcu_read_side
    def st(addr, val):
        page = cache.dirty_page
        io = _NO_IO
        try:
            v = val & vmask
            if page.lo <= addr <= page.hi - size:
                pack(page.mv, addr - page.hdelta, v)
                if page.epoch.live:
                    return _OK
                entry = page.entry
            else:
                entry = cache.ram
                if not (entry.start <= addr <= entry.wend - size):
                    io = cache.io
                    entry = None
                    if not (io.start <= addr <= io.end - size):
                        entry = lookup(addr) or _NO_RAM
                        if not (entry.start <= addr <= entry.wend - size):
                            entry = None
                            io = cache.io
                if entry is not None:
                    pack(entry.mv, addr - entry.hdelta, v)
        except TypeError:
            raise AccessError(f"store of {val!r} at {addr!r}: value and address must be "
                              f"integers") from None
        except _ODD_ADDRESS:  # a numpy value or address (np.int8(-1) & 0xFF, a wrapped
            return slow(as_, addr, val)  # addr + size): nothing was stored; convert them
        if entry is not None:
            try:
                return mark(entry, addr, size)
            except _ODD_ADDRESS:  # as in write: mark the bytes just stored, with an int
                return mark(entry, operator.index(addr), size)
        if io.start <= addr <= io.end - size and type(addr) is int and type(v) is int:
            # (numpy addresses or values take the slow path: a device is given ints)
            xlat = addr - io.delta
            if (io.unit_be if big else io.unit_le) & size and not xlat & align:
                io.ops.write(xlat, v, size)  # what dispatch would do: one unsplit call
                return _OK
            if _mmio_unit(io.mr, xlat, size, big):
                return dispatch_write(io.mr, xlat, v, size)
        return slow(as_, addr, val)

    return st


_LD = {  # name: (size, struct format)
    "ldub": (1, "<B"), "lduw_le": (2, "<H"), "lduw_be": (2, ">H"), "ldl_le": (4, "<I"),
    "ldl_be": (4, ">I"), "ldq_le": (8, "<Q"), "ldq_be": (8, ">Q"),
}
_ST = {
    "stb": (1, "<B"), "stw_le": (2, "<H"), "stw_be": (2, ">H"), "stl_le": (4, "<I"),
    "stl_be": (4, ">I"), "stq_le": (8, "<Q"), "stq_be": (8, ">Q"),
}
_LD_NAME = {fmt: name for name, (size, fmt) in _LD.items()}
_ST_NAME = {fmt: name for name, (size, fmt) in _ST.items()}


class AddressSpace:
    """A view of a MemoryRegion tree from one bus master (QEMU's AddressSpace).

    Access methods: rw, read, write, read_bytes, ldub/lduw_*/ldl_*/ldq_* and stb/stw_*/
    stl_*/stq_*, plus write_rom, ld, map/unmap.  The methods below are the documented slow
    paths; each instance replaces the hot ones with equivalent fast paths (_build_fast_paths).

    Threads: an AddressSpace may be used from several threads at once, and the map may change
    meanwhile.  The fast paths' cache entries are immutable and replaced whole, so every
    access sees one consistent range; a write either lands in memory that was mapped when
    it started and is marked dirty before it returns, or takes the slow path and gets a
    MemTxResult.  Several AddressSpaces over one root share its FlatView and cost little.
    """

    def __init__(self, root: MemoryRegion, name: str):
        if not isinstance(root, MemoryRegion):
            raise RegionError(f"AddressSpace root must be a MemoryRegion, got {root!r}")
        if not isinstance(name, str):
            raise RegionError(f"AddressSpace name must be a string, got {name!r}")
        self.root = root
        self.name = name
        self.listeners: list[MemoryListener] = []
        self._has_log_sync = False
        self._log_sync_ref = None  # region._note_log_sync's weak reference to this space
        self._ram_lists: set = set()
        self._bounce: DMAMapping | None = None
        self._bounce_lock = threading.Lock()
        self.flatview = FlatView([], None)
        self._build_fast_paths()
        _register_address_space(self)
        memory_region_transaction_begin()
        try:
            self._update_topology({}, share_existing=True)
        finally:
            memory_region_transaction_commit()

    # -- topology --------------------------------------------------------------------------
    def current_map(self) -> FlatView:
        """address_space_get_flatview."""
        return self.flatview

    def io_dispatch(self, addr: int) -> tuple["_IOEntry | None", FlatView]:
        """QEMU's iotlb entry for `addr`: (entry, the FlatView it came from); entry is None
        unless an io region answers there.

        ``entry.start``/``entry.end`` bound its FlatRange.  For an access of size s at
        ``a`` inside them with ``entry.unit_le & s`` (``unit_be`` for a big-endian access)
        and ``a - entry.delta`` aligned to s, ``entry.ops.read(a - entry.delta, s)`` /
        ``entry.ops.write(a - entry.delta, v, s)`` is exactly what ld/st of that size do
        there (memory_region_dispatch_* without split or shift).  Valid for that FlatView
        only: whoever keeps it drops it on a MemoryListener commit, and never keeps one
        whose view is no longer ``current_map()``."""
        fv = self.flatview
        fr = fv.lookup(addr)
        if fr is None or fr.mr.kind is not RegionKind.IO:
            return None, fv
        io = fr.fast_entry
        if io is None:
            io = fr.fast_entry = _IOEntry(fr.addr, fr.end, fr.addr - fr.offset_in_region, fr.mr)
        return io, fv

    def _update_topology(self, views: dict, share_existing: bool = False) -> None:
        """address_space_set_flatview + address_space_update_topology_pass."""
        froot = flatview_root(self.root)
        key = id(froot)
        new = views.get(key)
        if new is None or new.root is not froot:
            new = None
            if share_existing:  # a new AddressSpace shares the current view of its root
                for other in address_spaces():
                    if other is not self and other.flatview.root is froot and froot is not None:
                        new = other.flatview
                        break
            if new is None:
                new = generate_memory_topology(froot)
            views[key] = new
        old = self.flatview
        self.flatview = new
        self._invalidate_cache()
        self._ram_lists = {r.ram_list for r in new.ranges if r.ram_list is not None}
        if self.listeners and old is not new:
            for l in self.listeners:
                l.begin()
            self._topology_pass(old, new, adding=False)
            self._topology_pass(old, new, adding=True)
            for l in reversed(self.listeners):
                l.commit()

    def _section(self, fr: FlatRange, old_mask=None) -> MemoryRegionSection:
        return MemoryRegionSection(fr.mr, self, fr.offset_in_region, fr.size, fr.addr,
                                   fr.readonly, fr.dirty_log_mask, old_mask)

    def _topology_pass(self, old: FlatView, new: FlatView, adding: bool) -> None:
        o, n = old.ranges, new.ranges
        io = inn = 0
        while io < len(o) or inn < len(n):
            fo = o[io] if io < len(o) else None
            fn = n[inn] if inn < len(n) else None
            if fo is not None and (fn is None or fo.addr < fn.addr
                                   or (fo.addr == fn.addr and not fo.same_as(fn))):
                if not adding:
                    for l in reversed(self.listeners):
                        l.region_del(self._section(fo))
                io += 1
            elif fo is not None and fn is not None and fo.same_as(fn):
                if adding:
                    om, nm = fo.dirty_log_mask, fn.dirty_log_mask
                    for l in self.listeners:
                        l.region_nop(self._section(fn))
                        if om & ~nm:
                            l.log_stop(self._section(fn, om))
                        if nm & ~om:
                            l.log_start(self._section(fn, om))
                io += 1
                inn += 1
            else:
                if adding:
                    for l in self.listeners:
                        l.region_add(self._section(fn))
                inn += 1

    def register_listener(self, listener: MemoryListener) -> None:
        """memory_listener_register: replays the current map as region_add (+ log_start)."""
        if not isinstance(listener, MemoryListener):
            raise RegionError(f"{listener!r} is not a MemoryListener")
        if listener in self.listeners:
            raise RegionError(f"listener {listener!r} is already registered on {self.name!r}")
        self.listeners.append(listener)
        self.listeners.sort(key=lambda l: l.priority)
        self._has_log_sync = any(type(l).log_sync is not MemoryListener.log_sync
                                 for l in self.listeners)
        _note_log_sync(self, self._has_log_sync)
        if any(rl.global_dirty_log for rl in self._ram_lists):
            listener.log_global_start()
        listener.begin()
        for fr in self.flatview.ranges:
            listener.region_add(self._section(fr))
            if fr.dirty_log_mask:
                listener.log_start(self._section(fr, 0))
        listener.commit()

    def unregister_listener(self, listener: MemoryListener) -> None:
        """memory_listener_unregister: region_del for every range."""
        if listener not in self.listeners:
            raise RegionError(f"listener {listener!r} is not registered on {self.name!r}")
        listener.begin()
        for fr in reversed(self.flatview.ranges):
            listener.region_del(self._section(fr))
        listener.commit()
        if any(rl.global_dirty_log for rl in self._ram_lists):
            listener.log_global_stop()
        self.listeners.remove(listener)
        self._has_log_sync = any(type(l).log_sync is not MemoryListener.log_sync
                                 for l in self.listeners)
        _note_log_sync(self, self._has_log_sync)

    def _pending_global_log(self, on: bool) -> None:
        for l in self.listeners:
            (l.log_global_start if on else l.log_global_stop)()

    def _log_sync(self, mr: MemoryRegion | None) -> None:
        syncers = [l for l in self.listeners if type(l).log_sync is not MemoryListener.log_sync]
        if not syncers:
            return
        for fr in self.flatview.ranges:
            if (mr is None and fr.ram_list is not None) or fr.mr is mr:
                for l in syncers:
                    l.log_sync(self._section(fr))

    # -- the access paths ------------------------------------------------------------------
    def _build_fast_paths(self) -> None:
        """Give this instance its fast paths (instance attributes shadow the slow methods of
        the same names below).  See the _build_* functions for what each short-cuts."""
        cache = _FastCache()
        self._invalidate_cache, self._fill_cache, lookup = _build_ram_cache(self, cache)
        mark = _build_dirty_marking(self, cache)
        self.write = _build_write(self, cache, lookup, mark)
        self.read, self.read_bytes = _build_read(self, cache)
        for name, (size, fmt) in _LD.items():
            setattr(self, name, _build_ld(self, cache, lookup, size, fmt))
        for name, (size, fmt) in _ST.items():
            setattr(self, name, _build_st(self, cache, lookup, mark, size, fmt))

    # The slow paths.  Each instance shadows these with the equivalent fast paths built in
    # _build_fast_paths; calling them on the class (AddressSpace.write(as_, ...)) always
    # walks the FlatView.
    def write(self, addr: int, data) -> MemTxResult:
        """address_space_write: copy `data` (bytes-like) to guest address `addr`."""
        return self._rw_slow(addr, data, True)

    def read(self, addr: int, buf) -> MemTxResult:
        """address_space_read: fill the writable bytes-like `buf` from guest address `addr`
        (unassigned bytes read as 0)."""
        return self._rw_slow(addr, buf, False)

    def read_bytes(self, addr: int, n: int) -> bytes:
        """Read n bytes at addr and return them (unassigned bytes read as 0)."""
        if isinstance(n, bool) or not isinstance(n, int) or n < 0:
            raise AccessError(f"read length {n!r} must be a non-negative integer")
        if n > ADDR_LIMIT:
            raise AccessError(f"read length {n:#x} is larger than the 2^64 address space")
        try:
            out = bytearray(n)
        except (OverflowError, MemoryError):
            raise AccessError(f"read length {n:#x}: no host buffer that large") from None
        self._rw_slow(addr, out, False)
        return bytes(out)

    def rw(self, addr: int, buf, is_write: bool) -> MemTxResult:
        """address_space_rw: write(addr, buf) if is_write else read(addr, buf)."""
        return self.write(addr, buf) if is_write else self.read(addr, buf)

    def _ld_slow(self, addr, size: int, byteorder: str) -> int:
        out = bytearray(size)
        self._rw_slow(addr, out, False)
        return int.from_bytes(out, byteorder)

    def _st_slow(self, addr, val, size: int, byteorder: str) -> MemTxResult:
        try:
            data = (operator.index(val) & ((1 << (8 * size)) - 1)).to_bytes(size, byteorder)
        except TypeError:
            raise AccessError(f"store of {val!r} at {addr!r}: value and address must be "
                              f"integers") from None
        return self._rw_slow(addr, data, True)

    def ldub(self, addr: int) -> int:
        """address_space_ldub (unassigned memory reads as 0)."""
        return self._ld_slow(addr, 1, "little")

    def lduw_le(self, addr: int) -> int:
        return self._ld_slow(addr, 2, "little")

    def lduw_be(self, addr: int) -> int:
        return self._ld_slow(addr, 2, "big")

    def ldl_le(self, addr: int) -> int:
        return self._ld_slow(addr, 4, "little")

    def ldl_be(self, addr: int) -> int:
        return self._ld_slow(addr, 4, "big")

    def ldq_le(self, addr: int) -> int:
        return self._ld_slow(addr, 8, "little")

    def ldq_be(self, addr: int) -> int:
        return self._ld_slow(addr, 8, "big")

    def stb(self, addr: int, val: int) -> MemTxResult:
        """address_space_stb: store the low byte of val."""
        return self._st_slow(addr, val, 1, "little")

    def stw_le(self, addr: int, val: int) -> MemTxResult:
        return self._st_slow(addr, val, 2, "little")

    def stw_be(self, addr: int, val: int) -> MemTxResult:
        return self._st_slow(addr, val, 2, "big")

    def stl_le(self, addr: int, val: int) -> MemTxResult:
        return self._st_slow(addr, val, 4, "little")

    def stl_be(self, addr: int, val: int) -> MemTxResult:
        return self._st_slow(addr, val, 4, "big")

    def stq_le(self, addr: int, val: int) -> MemTxResult:
        return self._st_slow(addr, val, 8, "little")

    def stq_be(self, addr: int, val: int) -> MemTxResult:
        return self._st_slow(addr, val, 8, "big")

    @rcu_read_side
    def _rw_slow(self, addr, buf, is_write: bool) -> MemTxResult:
        """flatview_read/write_continue: walk the ranges the access covers."""
        addr = _addr(addr)
        mv = _byte_view(buf, writable=not is_write)
        n = len(mv)
        if n == 0:
            return _OK
        if addr < 0 or addr + n > ADDR_LIMIT:
            if not is_write:
                mv[:] = bytes(n)
            return _DECODE_ERROR
        fv = self.flatview
        end = addr + n
        res = _OK
        a = addr
        while a < end:
            pos = a - addr
            fr = fv.lookup(a)
            if fr is None:
                nxt = fv.next_start(a)
                stop = end if nxt is None or nxt > end else nxt
                if not is_write:
                    mv[pos:pos + stop - a] = bytes(stop - a)
                res = res | _DECODE_ERROR
                a = stop
                continue
            stop = min(fr.end, end)
            l = stop - a
            if is_write:
                if fr.direct_write:
                    o = a - fr.host_delta
                    fr.host_mv[o:o + l] = mv[pos:pos + l]
                    ra = a - fr.ram_addr_delta
                    fr.ram_list.invalidate_and_set_dirty(ra, l, fr.dirty_log_mask)
                    self._fill_cache(fr, fv)
                elif fr.rom_write:
                    pass  # guest writes to ROM are dropped
                else:
                    r = self._mmio(fr, a, mv, pos, l, True)
                    if r:
                        res = res | r
            else:
                if fr.direct_read:
                    o = a - fr.host_delta
                    mv[pos:pos + l] = fr.host_mv[o:o + l]
                    self._fill_cache(fr, fv)
                else:
                    r = self._mmio(fr, a, mv, pos, l, False)
                    if r:
                        res = res | r
            a = stop
        return res

    @staticmethod
    def _mmio(fr: FlatRange, a: int, mv: memoryview, pos: int, l: int, is_write: bool) -> MemTxResult:
        mr = fr.mr
        ops = mr.ops
        order = ops.endianness.byteorder
        xlat = a - fr.addr + fr.offset_in_region
        if l > (ops.impl.max_access_size or 4):
            block = ops.write_block if is_write else ops.read_block
            if block is not None and _block_access_ok(ops):
                return _mmio_block(mr, block, xlat, mv, pos, l, is_write)
        res = _OK
        while l > 0:
            size = memory_access_size(mr, l, xlat)
            if is_write:
                val = int.from_bytes(mv[pos:pos + size], order)
                r = memory_region_dispatch_write(mr, xlat, val, size)
            else:
                val, r = memory_region_dispatch_read(mr, xlat, size)
                mv[pos:pos + size] = val.to_bytes(size, order)
            if r:
                res = res | r
            pos += size
            xlat += size
            l -= size
        return res

    @rcu_read_side
    def write_rom(self, addr: int, data) -> MemTxResult:
        """address_space_write_rom: like write, but also stores into ROM (firmware loading);
        MMIO and holes are skipped."""
        addr = _addr(addr)
        mv = _byte_view(data, writable=False)
        n = len(mv)
        if addr < 0 or addr + n > ADDR_LIMIT:
            return _DECODE_ERROR
        end, a, res = addr + n, addr, _OK
        fv = self.flatview
        while a < end:
            fr = fv.lookup(a)
            if fr is None:
                nxt = fv.next_start(a)
                a = end if nxt is None or nxt > end else nxt
                res |= _DECODE_ERROR
                continue
            stop = min(fr.end, end)
            if fr.host is not None and fr.host_mv.readonly:
                res |= MemTxResult.ACCESS_ERROR  # a read-only backend's memory cannot change
            elif fr.host is not None:
                o = a - fr.host_delta
                fr.host_mv[o:o + stop - a] = mv[a - addr:stop - addr]
                fr.ram_list.invalidate_and_set_dirty(a - fr.ram_addr_delta, stop - a,
                                                     fr.mr.effective_dirty_log_mask())
            a = stop
        return res

    def ld(self, addr: int, size: int, big_endian: bool = False) -> tuple[int, MemTxResult]:
        """A load of 1/2/4/8 bytes that also reports the MemTxResult (address_space_ldl & co.)."""
        if isinstance(size, bool) or not isinstance(size, int) or size not in (1, 2, 4, 8):
            raise AccessError(f"load size {size!r}: expected 1, 2, 4 or 8")
        out = bytearray(size)
        res = self._rw_slow(addr, out, False)
        return int.from_bytes(out, "big" if big_endian else "little"), res

    # -- DMA -------------------------------------------------------------------------------
    @rcu_read_side
    def map(self, addr: int, length: int, is_write: bool) -> DMAMapping | None:
        """address_space_map: direct access to RAM (as long as the same RAM continues), or
        the single bounce buffer (one page) for anything else; None if that is taken."""
        addr = _addr(addr)
        if isinstance(length, bool) or not isinstance(length, int) or length < 0:
            raise AccessError(f"map length {length!r} must be a non-negative integer")
        if length == 0 or addr < 0 or addr >= ADDR_LIMIT:
            return None
        length = min(length, ADDR_LIMIT - addr)
        fv = self.flatview
        fr = fv.lookup(addr)
        direct = fr is not None and (fr.direct_write if is_write else fr.direct_read)
        if not direct:
            # bounce.in_use: one bounce buffer per address space, claimed atomically
            if not self._bounce_lock.acquire(blocking=False):
                return None
            try:
                l = min(length, TARGET_PAGE_SIZE)
                buf = np.zeros(l, dtype=np.uint8)
                if not is_write:
                    self._rw_slow(addr, buf, False)
                m = DMAMapping(self, addr, buf, bool(is_write), True, fr.mr if fr else None,
                               None)
            except BaseException:
                self._bounce_lock.release()
                raise
            self._bounce = m
            return m
        mr = fr.mr
        base = a = addr
        xlat0 = addr - fr.host_delta
        end = addr + length
        while True:
            stop = min(fr.end, end)
            a = stop
            if a >= end:
                break
            nxt = fv.lookup(a)
            if (nxt is None or nxt.mr is not mr or a - nxt.host_delta != xlat0 + (a - base)
                    or not (nxt.direct_write if is_write else nxt.direct_read)):
                break
            fr = nxt
        buf = fr.host[xlat0:xlat0 + (a - base)]
        block = mr.ram_block
        m = DMAMapping(self, addr, buf, bool(is_write), False, mr, block.offset + xlat0)
        # memory_region_ref: the block cannot be freed (its ram_addr range reused) while
        # this mapping lives; RAMList.ram_block_free refuses and names it.
        block.dma_mappings.add(m)
        return m

    @rcu_read_side
    def unmap(self, mapping: DMAMapping, is_write: bool, access_len: int) -> None:
        """address_space_unmap: mark the first access_len bytes dirty (direct) or write them
        back through the address space (bounce), then release the mapping."""
        if not isinstance(mapping, DMAMapping) or mapping.address_space is not self:
            raise AccessError(f"{mapping!r} is not a mapping of address space {self.name!r}")
        if not mapping.active:
            raise AccessError(f"{mapping!r} was already unmapped")
        if isinstance(access_len, bool) or not isinstance(access_len, int) \
                or not 0 <= access_len <= len(mapping.buf):
            raise AccessError(f"access_len {access_len!r} must be within 0..{len(mapping.buf)}")
        mapping.active = False
        if mapping.bounce:
            try:
                if is_write and access_len:
                    self._rw_slow(mapping.addr, mapping.buf[:access_len], True)
            finally:
                self._bounce = None
                self._bounce_lock.release()
            return
        mr = mapping.mr
        try:
            if is_write and access_len:
                mr.ram_list.invalidate_and_set_dirty(mapping.ram_addr, access_len,
                                                     mr.effective_dirty_log_mask())
        finally:
            mr.ram_block.dma_mappings.discard(mapping)

    def __repr__(self) -> str:
        return f"<AddressSpace {self.name!r} root={self.root.name!r} {len(self.flatview)} ranges>"


def io_root(name: str = "io", size: int = 0x10000) -> MemoryRegion:
    """The I/O address space's root: an io region with unassigned_io_ops, so unclaimed ports
    read all-ones and accept writes (QEMU's system_io)."""
    return MemoryRegion.io(name, size, unassigned_io_ops)


# -- module functions with QEMU's names ------------------------------------------------------
def address_space_rw(as_: AddressSpace, addr: int, buf, is_write: bool) -> MemTxResult:
    return as_.rw(addr, buf, is_write)


def address_space_read(as_: AddressSpace, addr: int, buf) -> MemTxResult:
    return as_.read(addr, buf)


def address_space_write(as_: AddressSpace, addr: int, data) -> MemTxResult:
    return as_.write(addr, data)


def address_space_write_rom(as_: AddressSpace, addr: int, data) -> MemTxResult:
    return as_.write_rom(addr, data)


def address_space_map(as_: AddressSpace, addr: int, length: int, is_write: bool) -> DMAMapping | None:
    return as_.map(addr, length, is_write)


def address_space_unmap(as_: AddressSpace, mapping: DMAMapping, is_write: bool, access_len: int) -> None:
    as_.unmap(mapping, is_write, access_len)


def dma_memory_rw(as_: AddressSpace, addr: int, buf, direction: DMADirection) -> MemTxResult:
    """dma_memory_rw: TO_DEVICE reads guest memory into buf, FROM_DEVICE writes buf to it."""
    try:
        d = DMADirection(direction)
    except ValueError:
        raise AccessError(f"DMA direction {direction!r}: expected DMADirection.TO_DEVICE or "
                          f"FROM_DEVICE") from None
    return as_.rw(addr, buf, d == DMADirection.FROM_DEVICE)


def dma_memory_read(as_: AddressSpace, addr: int, buf) -> MemTxResult:
    return as_.read(addr, buf)


def dma_memory_write(as_: AddressSpace, addr: int, data) -> MemTxResult:
    return as_.write(addr, data)
