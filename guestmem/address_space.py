"""AddressSpace: guest accesses dispatched through the current FlatView (system/physmem.c).

address_space_rw splits an access at FlatRange boundaries.  RAM is a slice copy between the
caller's buffer and the RAMBlock's host memory followed by dirty marking
(invalidate_and_set_dirty); ROM drops writes; MMIO is split into the sizes the region accepts
(memory_access_size) and then split or combined into the sizes its callbacks implement
(access_with_adjusted_size), honouring the device's endianness.  Holes give
MemTxResult.DECODE_ERROR and read as 0.

The hot path (4-byte RAM stores from a CPU loop, 1 MiB copies) only touches a cached copy of
the last RAM FlatRange hit, bound into closures: no tree walk, no bisect, no allocation
beyond what the copy itself needs.  Dirty marking first tests the page's bits through a
memoryview; only a clean page takes the RAMList's lock (and runs the CODE hook if the page
holds translated code), so a concurrent snapshot_and_clear never loses a bit.
"""

from __future__ import annotations

import operator
import struct
from enum import IntEnum, IntFlag

import numpy as np

from .dirty import TARGET_PAGE_BITS, TARGET_PAGE_SIZE
from .errors import AccessError, RegionError
from .flatview import FlatRange, FlatView, flatview_root, generate_memory_topology
from .region import (Endianness, MemoryListener, MemoryRegion, MemoryRegionSection,
                     _note_log_sync, _register_address_space, address_spaces,
                     memory_region_transaction_begin, memory_region_transaction_commit,
                     unassigned_io_ops)

ADDR_LIMIT = 1 << 64
assert TARGET_PAGE_BITS == 12, "the fast paths below hard-code 4 KiB pages"
_PAGE_MASK_LOW = TARGET_PAGE_SIZE - 1


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
        return f"<DMAMapping {kind} {self.addr:#x}+{len(self.buf):#x}{' w' if self.is_write else ''}>"


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


_LDST = {  # name: (size, struct format)
    "ldub": (1, "<B"), "lduw_le": (2, "<H"), "lduw_be": (2, ">H"), "ldl_le": (4, "<I"),
    "ldl_be": (4, ">I"), "ldq_le": (8, "<Q"), "ldq_be": (8, ">Q"),
}
_ST = {
    "stb": (1, "<B"), "stw_le": (2, "<H"), "stw_be": (2, ">H"), "stl_le": (4, "<I"),
    "stl_be": (4, ">I"), "stq_le": (8, "<Q"), "stq_be": (8, ">Q"),
}


class AddressSpace:
    """A view of a MemoryRegion tree from one bus master (QEMU's AddressSpace).

    Access methods (instance attributes bound at construction for speed):
      rw(addr, buf, is_write) -> MemTxResult; read(addr, buf); write(addr, data);
      read_bytes(addr, n) -> bytes; ldub/lduw_le/lduw_be/ldl_le/ldl_be/ldq_le/ldq_be(addr) -> int;
      stb/stw_le/stw_be/stl_le/stl_be/stq_le/stq_be(addr, value) -> MemTxResult.

    Threads: the access methods keep a most-recently-used range cache, so one AddressSpace
    serves one thread at a time -- as in QEMU, where every vCPU has its own AddressSpace over
    the shared root.  Several AddressSpaces over one root share its FlatView and cost little.
    Dirty tracking itself is thread-safe: any thread may snapshot_and_clear while others
    write, and no dirty bit is lost.
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
        self._ram_lists: set = set()
        self._watched: set = set()
        self._bounce: DMAMapping | None = None
        self.flatview = FlatView([], None)
        self._install_fast_paths()
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
        for rl in self._ram_lists:
            if id(rl.dirty) not in self._watched:
                rl.dirty.watch(self)
                self._watched.add(id(rl.dirty))
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

    def _dirty_memory_moved(self) -> None:
        self._invalidate_cache()

    # -- the access paths ------------------------------------------------------------------
    def _install_fast_paths(self) -> None:
        # The MRU cache, bound into closures: [c_start, c_end) is directly readable RAM,
        # [c_start, c_wend) directly writable RAM; host offset = addr - c_hdelta, ram_addr =
        # addr - c_radelta.  [c_oklo, c_okhi) is one page of it known dirty for every client
        # in c_mask as of c_dm.clear_generation == c_okgen (any clear bumps the generation).
        empty = memoryview(b"")
        c_start, c_end, c_wend = 1, 0, 0
        c_mv = c_r0 = c_r1 = c_r2 = empty
        c_hdelta = c_radelta = c_mask = 0
        c_oklo, c_okhi, c_okgen = 1, 0, -1
        c_epoch = 0
        c_dm = None
        c_mark = None
        # The last io FlatRange an ld/st hit: [m_start, m_end) answered by m_mr at offset
        # addr - m_delta (port I/O loops stay on one small region).
        m_start, m_end, m_delta, m_mr = 1, 0, 0, None
        OK = _OK
        as_ = self
        dispatch_read = memory_region_dispatch_read
        dispatch_write = memory_region_dispatch_write

        def invalidate():
            nonlocal c_start, c_end, c_wend, c_mv, c_r0, c_r1, c_r2, c_mark, c_dm, c_oklo, c_okhi
            nonlocal c_epoch, m_start, m_end, m_mr
            c_epoch += 1
            c_oklo, c_okhi = 1, 0
            c_start, c_end, c_wend = 1, 0, 0
            c_mv = c_r0 = c_r1 = c_r2 = empty
            c_mark = c_dm = None
            m_start, m_end, m_mr = 1, 0, None

        def fill(fr: FlatRange) -> bool:
            nonlocal c_start, c_end, c_wend, c_mv, c_hdelta, c_radelta, c_mask, c_r0, c_r1, c_r2
            nonlocal c_mark, c_dm, c_oklo, c_okhi, c_epoch
            cl = fr.check_clients
            if not fr.direct_read or cl is None or (fr.direct_write and fr.host_mv.readonly):
                return False
            rl = fr.ram_list
            dm = rl.dirty
            rows = dm.rows
            c_epoch += 1
            c_oklo, c_okhi = 1, 0
            c_start = 1
            c_end = c_wend = 0
            c_r0 = rows[cl[0]]
            c_r1 = rows[cl[1]]
            c_r2 = rows[cl[2]]
            c_mv = fr.host_mv
            c_hdelta = fr.host_delta
            c_radelta = fr.ram_addr_delta
            c_mask = fr.dirty_log_mask
            c_mark = rl.invalidate_and_set_dirty
            c_dm = dm
            c_wend = fr.end if fr.direct_write else fr.addr
            c_end = fr.end
            c_start = fr.addr
            return True

        def refill(addr) -> bool:
            nonlocal m_start, m_end, m_delta, m_mr
            fr = as_.flatview.lookup(addr)
            if fr is None:
                return False
            if fr.mr.kind == "io":
                m_start, m_end, m_mr = fr.addr, fr.end, fr.mr
                m_delta = fr.addr - fr.offset_in_region
                return False
            return fill(fr)

        def mmio_unit(xlat, size, big):
            """True when an ld/st of `size` at region offset `xlat` is one dispatch of the
            whole value (memory_access_size would not split it) in the device's byte order,
            so the value needs no byte shuffling."""
            ops = m_mr.ops
            if size > ops.valid.max_access_size or (ops.endianness is _BIG) is not big:
                return False
            return size == 1 or ops.impl.unaligned or not xlat & (size - 1)

        def mark(ra, n):
            """A RAM write of [ra, ra+n) outside the known-dirty page: check the bits and mark
            (invalidate_and_set_dirty) if any client sees a clean page."""
            nonlocal c_oklo, c_okhi, c_okgen
            epoch = c_epoch
            gen = c_dm.clear_generation
            p = ra >> 12
            if not n:
                return OK
            if (ra & 4095) + n <= 4096:
                if not (c_r0[p] and c_r1[p] and c_r2[p]):
                    c_mark(ra, n, c_mask)
                if epoch == c_epoch:  # the hook may have changed the map under us
                    lo = (p << 12) + c_radelta
                    c_oklo, c_okhi, c_okgen = max(lo, c_start), min(lo + 4096, c_wend), gen
            elif n:
                c_mark(ra, n, c_mask)
            return OK

        self._invalidate_cache = invalidate
        self._fill_cache = fill

        def write(addr, data):
            """address_space_write: copy `data` (bytes-like) to guest address `addr`."""
            try:
                n = len(data)
                if c_oklo <= addr and addr + n <= c_okhi:
                    o = addr - c_hdelta
                    c_mv[o:o + n] = data
                    # checked after the copy: a clear in between makes us mark again
                    if c_dm.clear_generation == c_okgen:
                        return OK
                    return mark(addr - c_radelta, n)
                if not (c_start <= addr and addr + n <= c_wend):
                    if not refill(addr) or not (addr + n <= c_wend):
                        return as_._rw_slow(addr, data, True)
                o = addr - c_hdelta
                c_mv[o:o + n] = data
            except (TypeError, ValueError):
                return as_._rw_slow(addr, data, True)
            return mark(addr - c_radelta, n)

        def read(addr, buf):
            """address_space_read: fill the writable bytes-like `buf` from guest `addr`."""
            if type(buf) is bytearray:
                n = len(buf)
                try:
                    hit = c_start <= addr and addr + n <= c_end
                except TypeError:
                    hit = False
                if hit:
                    o = addr - c_hdelta
                    buf[0:n] = c_mv[o:o + n]
                    return OK
            return as_._rw_slow(addr, buf, False)

        def read_bytes(addr, n):
            """Read n bytes at addr and return them (unassigned bytes read as 0)."""
            try:
                if c_start <= addr and addr + n <= c_end and n >= 0:
                    o = addr - c_hdelta
                    return c_mv[o:o + n].tobytes()
            except TypeError:
                pass
            if isinstance(n, bool) or not isinstance(n, int) or n < 0:
                raise AccessError(f"read length {n!r} must be a non-negative integer")
            out = bytearray(n)
            as_._rw_slow(addr, out, False)
            return bytes(out)

        def rw(addr, buf, is_write):
            """address_space_rw."""
            return write(addr, buf) if is_write else read(addr, buf)

        def make_ld(size, fmt):
            unpack = struct.Struct(fmt).unpack_from
            order = "big" if fmt[0] == ">" else "little"

            big = order == "big"

            def ld(addr):
                try:
                    if c_start <= addr and addr + size <= c_end:
                        return unpack(c_mv, addr - c_hdelta)[0]
                    if not (m_start <= addr and addr + size <= m_end):
                        if refill(addr) and addr + size <= c_end:
                            return unpack(c_mv, addr - c_hdelta)[0]
                    if m_start <= addr and addr + size <= m_end:
                        xlat = addr - m_delta
                        if mmio_unit(xlat, size, big):
                            return dispatch_read(m_mr, xlat, size)[0]
                except TypeError:
                    pass
                out = bytearray(size)
                as_._rw_slow(addr, out, False)
                return int.from_bytes(out, order)
            return ld

        def make_st(size, fmt):
            pack = struct.Struct(fmt).pack_into
            vmask = (1 << (8 * size)) - 1
            big = fmt[0] == ">"

            def st(addr, val):
                try:
                    if c_oklo <= addr and addr + size <= c_okhi:
                        pack(c_mv, addr - c_hdelta, val & vmask)
                        if c_dm.clear_generation == c_okgen:
                            return OK
                        return mark(addr - c_radelta, size)
                    if not (c_start <= addr and addr + size <= c_wend):
                        if not (m_start <= addr and addr + size <= m_end):
                            if refill(addr) and addr + size <= c_wend:
                                pack(c_mv, addr - c_hdelta, val & vmask)
                                return mark(addr - c_radelta, size)
                        if m_start <= addr and addr + size <= m_end:
                            xlat = addr - m_delta
                            if mmio_unit(xlat, size, big):
                                return dispatch_write(m_mr, xlat, val & vmask, size)
                        return as_._rw_slow(addr, struct.pack(fmt, val & vmask), True)
                    pack(c_mv, addr - c_hdelta, val & vmask)
                except TypeError:
                    raise AccessError(f"store of {val!r} at {addr!r}: value and address must be "
                                      f"integers") from None
                return mark(addr - c_radelta, size)
            return st

        self.write = write
        self.read = read
        self.read_bytes = read_bytes
        self.rw = rw
        for name, (size, fmt) in _LDST.items():
            setattr(self, name, make_ld(size, fmt))
        for name, (size, fmt) in _ST.items():
            setattr(self, name, make_st(size, fmt))
        invalidate()

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
                    self._fill_cache(fr)
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
                    self._fill_cache(fr)
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
        if size not in (1, 2, 4, 8):
            raise AccessError(f"load size {size!r}: expected 1, 2, 4 or 8")
        out = bytearray(size)
        res = self._rw_slow(addr, out, False)
        return int.from_bytes(out, "big" if big_endian else "little"), res

    # -- DMA -------------------------------------------------------------------------------
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
            if self._bounce is not None:
                return None
            l = min(length, TARGET_PAGE_SIZE)
            buf = np.zeros(l, dtype=np.uint8)
            if not is_write:
                self._rw_slow(addr, buf, False)
            m = DMAMapping(self, addr, buf, bool(is_write), True, fr.mr if fr else None, None)
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
        return DMAMapping(self, addr, buf, bool(is_write), False, mr,
                          mr.ram_block.offset + xlat0)

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
            self._bounce = None
            if is_write and access_len:
                self._rw_slow(mapping.addr, mapping.buf[:access_len], True)
            return
        if is_write and access_len:
            mr = mapping.mr
            mr.ram_list.invalidate_and_set_dirty(mapping.ram_addr, access_len,
                                                 mr.effective_dirty_log_mask())

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
