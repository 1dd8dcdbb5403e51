"""The softmmu TLB: guest page -> host bytes, following QEMU's NOTDIRTY protocol
(accel/tcg/cputlb.c: tlb_set_page, notdirty_write, tlb_set_dirty, tlb_reset_dirty_range_all,
tlb_flush).

Real mode has no paging, so a "guest page" is a 4 KiB page of guest-physical address space
(after the A20 mask, which the CPU applies).  The TLB keeps two dicts that generated code
indexes directly:

* `read_pages[vpn]`: a 4096-byte memoryview of the page's host memory, for every page that
  one RAM or ROM FlatRange covers whole.  Loads and instruction fetch read it directly.
* `write_pages[vpn]`: the same view, present only while the page is writable RAM *and* dirty
  for every dirty client (`DirtyMemory.is_clean` is False).  A store through it is a plain
  `mv[off] = v`: nothing else needs to happen, because no client is waiting to see the page
  change and no translated code lives on it.

Everything else -- the first store to a clean page, MMIO (the legacy VGA window, BARs, the DMA
engine), ROM, holes, sub-page regions and accesses crossing a page -- goes through `load` and
`store` (and `store_bytes` for string-instruction runs).  A store to a clean RAM page is
`notdirty_write`: invalidate translated code under it (only when its CODE bit is clear), store,
set VGA+MIGRATION dirty, and create the write entry (`tlb_set_dirty`) if the page is now dirty
for everybody.  A page that holds code never gets a write entry, so stores beside code keep
taking this path; until someone clears bits again they only check the code under them.
Whoever clears dirty bits makes the TLB drop the write entries of those pages (DirtyMemory's
clear listener -> `reset_dirty_range`), and a memory-map change flushes everything (a
MemoryListener).

Ownership: the TLB belongs to the thread running the CPU.  Other threads that clear dirty bits
(a display snapshot, a migration sync) must do it while the CPU is not inside a TB -- under the
machine lock, as QEMU's BQL -- or a store could use a write entry dropped a moment before.
"""

from __future__ import annotations

import operator

from guestmem import (DIRTY_CLIENTS_NOCODE, DIRTY_MEMORY_CODE, TARGET_PAGE_BITS,
                      TARGET_PAGE_SIZE, AddressSpace, MemoryListener, RAMList)

from ..errors import VGAEmuError

PAGE_MASK = TARGET_PAGE_SIZE - 1
#: Guest-physical addresses are 32 bits wide (a 386 has 32 address lines).
PHYS_ADDR_LIMIT = 1 << 32
_CODE = 1 << int(DIRTY_MEMORY_CODE)
#: plain ints: DirtyMemory's fast paths take exact ints, not the IntEnum
_CODE_CLIENT = int(DIRTY_MEMORY_CODE)
_ACCESS_SIZES = (1, 2, 4, 8)
_VALUE_END = {n: 1 << (8 * n) for n in _ACCESS_SIZES}


class TLBError(VGAEmuError, ValueError):
    """A TLB access the CPU cannot express: an address outside 32-bit physical space, a size
    other than 1, 2, 4 or 8 bytes, or a value that does not fit the size."""


def ram_list_of(address_space: AddressSpace) -> RAMList:
    """The one RAMList whose blocks `address_space` maps (a machine has exactly one)."""
    lists = {id(fr.ram_list): fr.ram_list for fr in address_space.current_map().ranges
             if fr.ram_list is not None}
    if len(lists) != 1:
        raise TLBError(f"address space {address_space.name!r} maps RAM of {len(lists)} RAMLists; "
                       f"pass ram_list= explicitly")
    return next(iter(lists.values()))


class _MapListener(MemoryListener):
    """tlb_flush on every topology change of the CPU's address space."""

    def __init__(self, tlb: "SoftTLB"):
        self.tlb = tlb

    def commit(self) -> None:
        self.tlb.map_changed()


class SoftTLB:
    """QEMU's CPUTLB for one CPU over one AddressSpace (see the module docstring)."""

    def __init__(self, address_space: AddressSpace, counters=None, *, ram_list: RAMList | None = None):
        if not isinstance(address_space, AddressSpace):
            raise TLBError(f"SoftTLB needs an AddressSpace, got {address_space!r}")
        if counters is None:
            from .counters import CPUCounters
            counters = CPUCounters()
        self.address_space = address_space
        self.counters = counters
        self.ram_list = ram_list if ram_list is not None else ram_list_of(address_space)
        self.dirty = self.ram_list.dirty
        #: vpn -> memoryview of the page (RAM and ROM)
        self.read_pages: dict[int, memoryview] = {}
        #: vpn -> the same view, only while the page is RAM dirty for every client
        self.write_pages: dict[int, memoryview] = {}
        #: vpn -> ram_addr of the page start, for writable RAM pages (CPUTLBEntryFull's
        #: xlat_section, what notdirty_write needs)
        self._ram_addr: dict[int, int] = {}
        #: vpn -> ram_addr of the page start for every read entry (RAM and ROM): where
        #: translated code on that page is tracked
        self._code_addr: dict[int, int] = {}
        #: ram page -> vpns holding a write entry for it (several guest pages may alias one)
        self._writers: dict[int, set[int]] = {}
        #: vpns known to have no direct entry (MMIO, holes, sub-page regions, read-only views)
        self._slow: set[int] = set()
        #: vpn -> AddressSpace.io_dispatch entry of the io range covering the whole page
        #: (QEMU's iotlb: the legacy VGA window, a BAR): generated code's ld/st call the
        #: region's ops through it for an access the entry takes whole (see translate.py)
        self.io_pages: dict = {}
        #: vpn -> DirtyMemory.clear_generation when the page was last found dirty for every
        #: client but CODE (it holds translated code): until anyone clears bits again, a
        #: store there only has to check the code under it (data beside code, QEMU's
        #: steady state for a .COM program's variables)
        self._protected: dict[int, int] = {}
        #: vpn -> (view, the TB cache's coverage map of its ram page, ram page) for a page in
        #: that state: a CPU store that the map shows to miss every TB's bytes is stored
        #: directly (generated code's `st` checks it before calling `store`).  Dropped with
        #: the write entries, and whenever the TB cache replaces or drops the coverage map.
        self.code_write_pages: dict[int, tuple[memoryview, bytearray, int]] = {}
        #: bumped by every flush; lets `store` tell the running TB that the map changed
        self.flush_count = 0
        #: the TBCache whose code the NOTDIRTY path invalidates (set by TBCache)
        self.tb_cache = None
        as_ = address_space
        self._st = {1: as_.stb, 2: as_.stw_le, 4: as_.stl_le, 8: as_.stq_le}
        self._ld = {1: as_.ldub, 2: as_.lduw_le, 4: as_.ldl_le, 8: as_.ldq_le}
        self._listener = _MapListener(self)
        self._following = False  # registering replays the current map: not a change
        address_space.register_listener(self._listener)
        self._following = True
        #: Whether reset_dirty_range hears the bitmaps' clears: from the first write entry on
        #: (before it exists). Until then a clear has nothing to drop here, and a machine whose
        #: CPU never stores to RAM (a scripted guest) keeps its display's clears free of it.
        self._hearing_clears = False
        self.closed = False

    def close(self) -> None:
        """Stop following the map and the dirty bitmaps (the CPU is being destroyed)."""
        if self.closed:
            return
        self.closed = True
        self.address_space.unregister_listener(self._listener)
        if self._hearing_clears:
            self._hearing_clears = False
            self.dirty.remove_clear_listener(self.reset_dirty_range)
        self._flush()

    # -- filling -------------------------------------------------------------------------
    def tlb_fill(self, vpn: int) -> memoryview | None:
        """tlb_set_page for guest page `vpn`: the read view for RAM/ROM covering the whole
        page (plus the write entry when the page is already dirty for everybody), or None
        when accesses there must go through the address space."""
        if vpn in self.read_pages:
            return self.read_pages[vpn]
        if vpn in self._slow:
            return None
        self.counters.tlb_fills += 1
        start = vpn << TARGET_PAGE_BITS
        fr = self.address_space.current_map().lookup(start)
        if (fr is None or not fr.direct_read or fr.host_mv is None
                or fr.addr > start or start + TARGET_PAGE_SIZE > fr.end):
            self._slow.add(vpn)
            if fr is not None and fr.addr <= start and start + TARGET_PAGE_SIZE <= fr.end:
                io, _ = self.address_space.io_dispatch(start)
                if io is not None:
                    self.io_pages[vpn] = io
            return None
        o = start - fr.host_delta
        mv = fr.host_mv[o:o + TARGET_PAGE_SIZE]
        self.read_pages[vpn] = mv
        ram_addr = start - fr.ram_addr_delta
        self._code_addr[vpn] = ram_addr
        if fr.direct_write and not mv.readonly:
            self._ram_addr[vpn] = ram_addr
            if not self.dirty.is_clean(ram_addr):
                self._set_dirty(vpn, ram_addr, mv)
        return mv

    def code_ram_addr(self, paddr: int) -> int | None:
        """get_page_addr_code: the ram_addr of guest-physical `paddr` when its page is RAM or
        ROM that can hold cached translations, else None (execute without caching)."""
        vpn = paddr >> TARGET_PAGE_BITS
        if self.tlb_fill(vpn) is None:
            return None
        return self._code_addr[vpn] + (paddr & PAGE_MASK)

    def _set_dirty(self, vpn: int, ram_addr: int, mv: memoryview) -> None:
        """tlb_set_dirty: from now on stores to this page are direct."""
        if not self._hearing_clears:
            self._hear_clears()
        self.write_pages[vpn] = mv
        self._writers.setdefault(ram_addr >> TARGET_PAGE_BITS, set()).add(vpn)

    # -- dropping ------------------------------------------------------------------------
    def reset_dirty_range(self, ram_start: int, length: int, mask: int = 0) -> None:
        """tlb_reset_dirty_range_all: some client's bits were cleared over [ram_start,
        +length), so the write entries of every guest page backed by it go back to NOTDIRTY
        (the next store there takes the slow path and marks the page again)."""
        writers = self._writers
        cwp = self.code_write_pages
        if length <= 0 or not (writers or cwp):
            return  # no write entry to drop (the display's clears while no CPU runs)
        p0 = ram_start >> TARGET_PAGE_BITS
        p1 = (ram_start + length + PAGE_MASK) >> TARGET_PAGE_BITS
        if cwp:
            for vpn in [v for v, e in cwp.items() if p0 <= e[2] < p1]:
                del cwp[vpn]
        if not writers:
            return
        if p1 - p0 <= len(writers):
            hit = [p for p in range(p0, p1) if p in writers]
        else:
            hit = [p for p in writers if p0 <= p < p1]
        wp = self.write_pages
        for p in hit:
            for vpn in writers.pop(p):
                wp.pop(vpn, None)

    def map_changed(self) -> None:
        """The address space's FlatView changed: flush, then let the TB cache drop code whose
        guest pages now show other memory."""
        if not self._following:
            return
        self.flush()
        if self.tb_cache is not None:
            self.tb_cache.map_changed()

    def flush(self) -> None:
        """tlb_flush: forget every entry.  The dicts are emptied in place, so generated code
        holding them keeps seeing the current state."""
        self.counters.tlb_flushes += 1
        self._flush()

    def _flush(self) -> None:
        self.flush_count += 1
        self.write_pages.clear()
        self.read_pages.clear()
        self._ram_addr.clear()
        self._code_addr.clear()
        self._writers.clear()
        self._slow.clear()
        self.io_pages.clear()
        self._protected.clear()
        self.code_write_pages.clear()

    def drop_code_writes(self, ram_page: int) -> None:
        """The TB cache replaced or dropped the coverage map of `ram_page`: forget the
        direct beside-code entries that hold the old one."""
        cwp = self.code_write_pages
        for vpn in [v for v, e in cwp.items() if e[2] == ram_page]:
            del cwp[vpn]

    # -- the slow paths ------------------------------------------------------------------
    @staticmethod
    def _check(paddr, size) -> tuple[int, int]:
        if (type(paddr) is int and type(size) is int and 0 <= paddr < PHYS_ADDR_LIMIT
                and size in _ACCESS_SIZES):
            return paddr, size
        try:
            paddr = operator.index(paddr)
            size = operator.index(size)
        except TypeError:
            raise TLBError(f"access at {paddr!r} of size {size!r}: both must be integers") from None
        if size not in _ACCESS_SIZES:
            raise TLBError(f"access size {size}: expected 1, 2, 4 or 8 bytes")
        if not 0 <= paddr < PHYS_ADDR_LIMIT:
            raise TLBError(f"physical address {paddr:#x} is outside 32-bit physical space")
        return paddr, size

    def load(self, paddr: int, size: int) -> int:
        """A little-endian load of `size` bytes that missed `read_pages` (or crosses a page):
        fills the entry, or reads MMIO/holes through the address space as TCG would (one
        access of that size when it stays in one page).  Past 4 GiB it wraps."""
        paddr, size = self._check(paddr, size)
        off = paddr & PAGE_MASK
        if off + size <= TARGET_PAGE_SIZE:
            if paddr >> TARGET_PAGE_BITS in self._slow:  # MMIO: one access of that size
                return self._ld[size](paddr)
            return self._load_in_page(paddr, size)
        n1 = TARGET_PAGE_SIZE - off
        lo = self._load_in_page(paddr, n1)
        hi = self._load_in_page((paddr + n1) % PHYS_ADDR_LIMIT, size - n1)
        return lo | (hi << (8 * n1))

    def _load_in_page(self, paddr: int, n: int) -> int:
        mv = self.read_pages.get(paddr >> TARGET_PAGE_BITS)
        if mv is None:
            mv = self.tlb_fill(paddr >> TARGET_PAGE_BITS)
        if mv is not None:
            off = paddr & PAGE_MASK
            return int.from_bytes(mv[off:off + n], "little")
        ld = self._ld.get(n)
        if ld is not None:
            return ld(paddr)
        return int.from_bytes(self.address_space.read_bytes(paddr, n), "little")

    def store(self, paddr: int, size: int, value: int) -> bool:
        """A little-endian store of `size` bytes that missed `write_pages` (or crosses a page).

        RAM: QEMU's notdirty_write (see `_notdirty_write`).  MMIO, ROM and holes: through the
        address space (ROM drops it, holes ignore it).  Returns True when the TB running now
        must stop right after this store: it was invalidated (the store, or a device it
        triggered, wrote into its code) or the memory map changed under it.
        """
        if (type(paddr) is int and type(value) is int and type(size) is int
                and 0 <= value < _VALUE_END.get(size, 0)):
            if not 0 <= paddr < PHYS_ADDR_LIMIT:
                self._check(paddr, size)  # raises
            off = paddr & PAGE_MASK
            if off + size <= TARGET_PAGE_SIZE:
                vpn = paddr >> TARGET_PAGE_BITS
                mv = self.write_pages.get(vpn)
                if mv is not None:  # a direct hit after all: nothing else can happen
                    mv[off:off + size] = value.to_bytes(size, "little")
                    return False
                if vpn in self._slow:  # MMIO (the planar VGA window): one access
                    tbc = self.tb_cache
                    flushes = self.flush_count
                    if tbc is None:
                        self._st[size](paddr, value)
                        return self.flush_count != flushes
                    tbc.running_invalidated = False
                    self._st[size](paddr, value)
                    return tbc.running_invalidated or self.flush_count != flushes
        else:
            paddr, size = self._check(paddr, size)
            try:
                value = operator.index(value)
            except TypeError:
                raise TLBError(f"store value {value!r} is not an integer") from None
            if not 0 <= value < (1 << (8 * size)):
                if -(1 << (8 * size - 1)) <= value < 0:
                    value &= (1 << (8 * size)) - 1
                else:
                    raise TLBError(f"store value {value:#x} does not fit in {size} bytes")
        tbc = self.tb_cache
        if tbc is not None:
            tbc.running_invalidated = False
        flushes = self.flush_count
        off = paddr & PAGE_MASK
        if off + size <= TARGET_PAGE_SIZE:
            self._store_in_page(paddr, size, value)
        else:
            n1 = TARGET_PAGE_SIZE - off
            self._store_in_page(paddr, n1, value & ((1 << (8 * n1)) - 1))
            self._store_in_page((paddr + n1) % PHYS_ADDR_LIMIT, size - n1, value >> (8 * n1))
        return self.flush_count != flushes or (tbc is not None and tbc.running_invalidated)

    def _store_in_page(self, paddr: int, n: int, value: int) -> None:
        vpn = paddr >> TARGET_PAGE_BITS
        off = paddr & PAGE_MASK
        mv = self.write_pages.get(vpn)
        if mv is None:
            if vpn not in self.read_pages and vpn not in self._slow:
                self.tlb_fill(vpn)
                mv = self.write_pages.get(vpn)
        if mv is not None:
            mv[off:off + n] = value.to_bytes(n, "little")
            return
        ram_page = self._ram_addr.get(vpn)
        if ram_page is not None:
            self._notdirty_write(vpn, ram_page + off, off, value.to_bytes(n, "little"))
            return
        st = self._st.get(n)
        if st is not None:
            st(paddr, value)
        else:
            self.address_space.write(paddr, value.to_bytes(n, "little"))

    def store_bytes(self, paddr: int, data) -> bool:
        """Store a run of bytes (a `rep movs`/`rep stos` chunk) at guest-physical `paddr`.

        Page by page: a direct slice store where the write entry exists; a clean RAM page
        takes one notdirty_write for the whole piece (so only the TBs the piece overlaps
        die, as for single stores); MMIO and the rest go through the address space, whose
        regions may take the piece as one block.  Returns what `store` returns."""
        try:
            paddr = operator.index(paddr)
            src = memoryview(data).cast("B")
        except TypeError:
            raise TLBError(f"store_bytes needs an integer address and bytes, got {paddr!r}, "
                           f"{type(data).__name__}") from None
        n = len(src)
        if not 0 <= paddr < PHYS_ADDR_LIMIT or n > PHYS_ADDR_LIMIT:
            raise TLBError(f"store of {n} bytes at {paddr:#x} is outside 32-bit physical space")
        tbc = self.tb_cache
        if tbc is not None:
            tbc.running_invalidated = False
        flushes = self.flush_count
        self._store_run(paddr, src)
        return self.flush_count != flushes or (tbc is not None and tbc.running_invalidated)

    def _store_run(self, paddr: int, src: memoryview) -> None:
        n = len(src)
        pos = 0
        while pos < n:
            a = (paddr + pos) % PHYS_ADDR_LIMIT
            off = a & PAGE_MASK
            k = min(n - pos, TARGET_PAGE_SIZE - off)
            piece = src[pos:pos + k]
            vpn = a >> TARGET_PAGE_BITS
            mv = self.write_pages.get(vpn)
            if mv is None and vpn not in self.read_pages and vpn not in self._slow:
                self.tlb_fill(vpn)
                mv = self.write_pages.get(vpn)
            if mv is not None:
                mv[off:off + k] = piece
            elif vpn in self._ram_addr:
                self._notdirty_write(vpn, self._ram_addr[vpn] + off, off, piece)
            else:
                self.address_space.write(a, piece)
            pos += k

    def _notdirty_write(self, vpn: int, ram_addr: int, off: int, data) -> None:
        """notdirty_write: the page is clean for some client.  Invalidate the TBs this store
        overlaps if the page holds code (its CODE bit is clear), store, mark VGA and MIGRATION
        dirty, and make the page's entry direct if that leaves it dirty for everybody (QEMU:
        "we remove the notdirty callback only if the code has been flushed")."""
        self.counters.notdirty_writes += 1
        n = len(data)
        dirty = self.dirty
        tbc = self.tb_cache
        if self._protected.get(vpn, -1) == dirty.clear_generation:
            # VGA and MIGRATION are still set from last time: only the code check remains
            if tbc is not None:
                tbc.invalidate_phys_range_fast(ram_addr, n)
            mv = self.read_pages.get(vpn)
            if mv is not None and self._ram_addr.get(vpn) == ram_addr - off:
                mv[off:off + n] = data
                if not dirty.is_clean(ram_addr):  # its last TB died: direct from now on
                    del self._protected[vpn]
                    self.code_write_pages.pop(vpn, None)
                    self._set_dirty(vpn, ram_addr & ~PAGE_MASK, mv)
                elif vpn not in self.code_write_pages:
                    self._code_write_entry(vpn, ram_addr - off, mv)
                return
        elif not dirty.get_dirty(ram_addr, n, _CODE_CLIENT):
            if tbc is not None:
                tbc.invalidate_phys_range_fast(ram_addr, n)
            else:  # nothing can be translated here: tlb_unprotect_code
                dirty.set_dirty_range(ram_addr, n, _CODE)
        mv = self.read_pages.get(vpn)
        if mv is None or self._ram_addr.get(vpn) != ram_addr - off:
            # the invalidation changed the map (a hook with side effects): start over
            self._protected.pop(vpn, None)
            self._store_run((vpn << TARGET_PAGE_BITS) | off, memoryview(data).cast("B"))
            return
        mv[off:off + n] = data
        dirty.set_dirty_range(ram_addr, n, DIRTY_CLIENTS_NOCODE)
        if not dirty.is_clean(ram_addr):
            self._protected.pop(vpn, None)
            self._set_dirty(vpn, ram_addr & ~PAGE_MASK, mv)
        else:  # only CODE is clean: the page holds translated code
            self._protected[vpn] = dirty.clear_generation
            self._code_write_entry(vpn, ram_addr - off, mv)

    def _code_write_entry(self, vpn: int, ram_page_addr: int, mv: memoryview) -> None:
        tbc = self.tb_cache
        if tbc is not None:
            page = ram_page_addr >> TARGET_PAGE_BITS
            cover = tbc.cover_of(page)
            if cover is not None:
                if not self._hearing_clears:
                    self._hear_clears()
                self.code_write_pages[vpn] = (mv, cover, page)

    def _hear_clears(self) -> None:
        """Start hearing the bitmaps' clears, before the first write entry is made (a closed
        TLB hears nothing)."""
        if self.closed:
            return
        self._hearing_clears = True
        self.dirty.add_clear_listener(self.reset_dirty_range)

    def __repr__(self) -> str:
        return (f"SoftTLB({self.address_space.name!r}: {len(self.read_pages)} read, "
                f"{len(self.write_pages)} write entries)")
