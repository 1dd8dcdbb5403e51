"""Translation blocks and the TB cache, guarded by the CODE dirty bitmap (QEMU's
accel/tcg/tb-maint.c and translate-all.c: tb_link_page, tb_phys_invalidate,
tb_invalidate_phys_range(_fast), tlb_protect_code / tlb_unprotect_code, tb_flush).

A TB is the compiled form of guest code at one guest-physical PC.  It is keyed by (pc,
cs_base, flags) and tracked by the ram_addr pages its bytes lie on (one, or two when it
crosses a page).  Inserting a TB protects its pages: their CODE bit is cleared, which through
DirtyMemory's clear listener drops the TLB's direct write entries, so every later write to the
page -- a CPU store, address_space_rw, DMA, address_space_map/unmap -- reaches this cache
first:

* the CPU's stores come through the TLB's notdirty_write, which calls
  `invalidate_phys_range_fast`: only the TBs whose bytes the store overlaps die, and the page
  is unprotected (CODE set) once no TB is left on it.  Data next to code on one page (a .COM
  program's variables) therefore costs a slow-path store, not a retranslation.
* every other writer goes through RAMList.invalidate_and_set_dirty, whose
  `code_invalidate_hook` is `invalidate_phys_range`.  As in QEMU, that hook owns the CODE
  bits of the written range: it kills the TBs the write overlaps and unprotects the pages
  left without any, so a DMA transfer or scripted write beside code is as precise as a CPU
  store.

A write that kills the TB running now sets `running_invalidated`; the TLB's `store` returns
it so the generated code exits right after the store (precise SMC, as a 386 whose prefetch
queue was flushed).
"""

from __future__ import annotations

import operator

from guestmem import DIRTY_MEMORY_CODE, TARGET_PAGE_BITS, TARGET_PAGE_SIZE, AddressSpace

from ..errors import VGAEmuError
from .tlb import PAGE_MASK, SoftTLB

_CODE = 1 << int(DIRTY_MEMORY_CODE)
#: plain ints: DirtyMemory's fast paths take exact ints, not the IntEnum
_CODE_CLIENT = int(DIRTY_MEMORY_CODE)
#: A TB covers at most one page's worth of bytes, so it lies on at most two pages.
TB_MAX_SIZE = TARGET_PAGE_SIZE


class TBCacheError(VGAEmuError, ValueError):
    """A TB that cannot be cached: not RAM/ROM under its PC, a bad size, inserted twice."""


class TranslationBlock:
    """One translated block of guest code.

    `pc` is the guest-physical address of its first byte, `cs_base` and `flags` the CPU state
    it was translated for (segment base, operand/address-size defaults, ...), `size` its length
    in bytes and `icount` in instructions.  `func` is what the translator compiled.  The cache
    fills `pages` (ram_addr page numbers), `phys_pages` (guest page numbers) and `ram_ranges`
    ([start, end) ram_addr ranges of its bytes) on insert.  `jmp_dest` holds the successor
    TB of each of its two direct exits (QEMU's jmp_dest); `jmp_in` the (TB, slot) links that
    lead here (QEMU's jmp_list), so invalidating a TB unlinks every jump into it
    (tb_jmp_unlink) and a TB in a `jmp_dest` is always valid.
    """

    __slots__ = ("pc", "cs_base", "flags", "size", "icount", "func", "pages", "phys_pages",
                 "ram_ranges", "valid", "jmp_dest", "jmp_in", "source", "__weakref__")

    def __init__(self, pc: int, cs_base: int, flags: int, size: int, func=None, *,
                 icount: int = 0, source: str | None = None):
        try:
            pc, cs_base, flags, size, icount = map(operator.index, (pc, cs_base, flags, size, icount))
        except TypeError:
            raise TBCacheError(f"TB at {pc!r}: pc, cs_base, flags, size and icount must be "
                               f"integers") from None
        if not 1 <= size <= TB_MAX_SIZE:
            raise TBCacheError(f"TB at {pc:#x}: size {size} is not in 1..{TB_MAX_SIZE}")
        if not 0 <= pc < 1 << 32:
            raise TBCacheError(f"TB pc {pc:#x} is outside 32-bit physical space")
        self.pc = pc
        self.cs_base = cs_base
        self.flags = flags
        self.size = size
        self.icount = icount
        self.func = func
        #: the generated Python source, kept for debugging (`vgaemu` can print it)
        self.source = source
        self.pages: tuple[int, ...] = ()
        self.phys_pages: tuple[int, ...] = ()
        self.ram_ranges: tuple[tuple[int, int], ...] = ()
        self.valid = False
        self.jmp_dest: list = [None, None]
        self.jmp_in: dict = {}

    #: compiled code (False: an InterpretedBlock, run by the decode-every-instruction tier)
    translated = True

    @property
    def key(self) -> tuple[int, int, int]:
        return (self.pc, self.cs_base, self.flags)

    def overlaps(self, ram_start: int, ram_end: int) -> bool:
        """Do the TB's bytes meet ram_addr range [ram_start, ram_end)?"""
        return any(s < ram_end and ram_start < e for s, e in self.ram_ranges)

    def __repr__(self) -> str:
        state = "valid" if self.valid else "invalid"
        return (f"<TB pc={self.pc:#x} cs_base={self.cs_base:#x} flags={self.flags:#x} "
                f"size={self.size} icount={self.icount} {state}>")


class InterpretedBlock(TranslationBlock):
    """A block of guest code that has run fewer times than the CPU's ``tb_threshold``: the
    first tier of a tiered JIT (v86 counts block entries before compiling one).  The cache
    tracks it like a TB -- keyed, on its pages, protecting them -- so a write to its bytes
    kills it and its entry count starts again from zero; while valid, its decoded
    instructions and their one-instruction functions (`fns`) are what its bytes say.
    ``func`` interprets it one instruction at a time; when ``hits`` passes the threshold the
    CPU translates the block, which replaces it under the same key."""

    __slots__ = ("insns", "fns", "hits")

    translated = False

    def __init__(self, pc: int, cs_base: int, flags: int, size: int, insns: list, *,
                 func=None):
        super().__init__(pc, cs_base, flags, size, func, icount=len(insns))
        self.insns = insns
        #: the one-instruction function of each of `insns`, made when first run
        self.fns: list = [None] * len(insns)
        self.hits = 0

    def __repr__(self) -> str:
        return "<interpreted " + super().__repr__()[1:]


class TBCache:
    """The translated code of one CPU: lookup by (pc, cs_base, flags), page -> TBs for
    invalidation, and the CODE-bit protocol (see the module docstring).

    Ownership is the TLB's: writes from other threads (a scripted guest, DMA) must run while
    the CPU is between TBs -- under the machine lock, as QEMU's BQL.
    """

    def __init__(self, address_space: AddressSpace, tlb: SoftTLB, counters=None):
        if not isinstance(tlb, SoftTLB):
            raise TBCacheError(f"TBCache needs a SoftTLB, got {tlb!r}")
        if address_space is not tlb.address_space:
            raise TBCacheError("the TB cache and its TLB must serve the same address space")
        if tlb.tb_cache is not None:
            raise TBCacheError(f"{tlb!r} already has a TB cache")
        ram_list = tlb.ram_list
        if ram_list.code_invalidate_hook is not None:
            raise TBCacheError(f"{ram_list!r} already has a code_invalidate_hook (another TB "
                               f"cache on the same RAM?)")
        self.address_space = address_space
        self.tlb = tlb
        self.counters = counters if counters is not None else tlb.counters
        self.ram_list = ram_list
        self.dirty = ram_list.dirty
        #: (pc, cs_base, flags) -> TB
        self.tbs: dict[tuple[int, int, int], TranslationBlock] = {}
        #: ram page -> the TBs with bytes on it (a dict used as an ordered set)
        self.page_tbs: dict[int, dict[TranslationBlock, None]] = {}
        #: guest page -> its TBs, and the ram page it showed when they were translated
        self._vpn_tbs: dict[int, dict[TranslationBlock, None]] = {}
        self._vpn_ram: dict[int, int] = {}
        #: ram page -> a byte per byte of the page, non-zero where some TB's code may lie (a
        #: superset, rebuilt when a store hits it): a store beside code is one C call away
        #: from knowing it kills nothing (QEMU's former code_bitmap)
        self._cover: dict[int, bytearray] = {}
        #: the TB executing now (set by the CPU loop around each TB call)
        self.running: TranslationBlock | None = None
        #: set when a write invalidated `running`; the TLB's store() reports it
        self.running_invalidated = False
        #: bumped by flush(): every TB from an older generation is gone
        self.generation = 0
        tlb.tb_cache = self
        ram_list.code_invalidate_hook = self.invalidate_phys_range
        self.closed = False

    def close(self) -> None:
        """Detach from the RAMList and the TLB (the CPU is being destroyed)."""
        if self.closed:
            return
        self.closed = True
        self.flush()
        if self.ram_list.code_invalidate_hook == self.invalidate_phys_range:
            self.ram_list.code_invalidate_hook = None
        if self.tlb.tb_cache is self:
            self.tlb.tb_cache = None

    # -- lookup and insert ---------------------------------------------------------------
    def lookup(self, pc: int, cs_base: int, flags: int) -> TranslationBlock | None:
        """tb_lookup: the valid TB for this CPU state, or None (translate one)."""
        return self.tbs.get((pc, cs_base, flags))

    def insert(self, tb: TranslationBlock) -> TranslationBlock:
        """tb_link_page: record `tb` under its key and pages, and protect the pages
        (tlb_protect_code).  A TB already cached under the same key is replaced."""
        if not isinstance(tb, TranslationBlock):
            raise TBCacheError(f"insert needs a TranslationBlock, got {tb!r}")
        if tb.valid or tb.pages:
            raise TBCacheError(f"{tb!r} was already inserted")
        if self.closed:
            raise TBCacheError("the TB cache is closed")
        tlb = self.tlb
        first = tb.pc >> TARGET_PAGE_BITS
        last = (tb.pc + tb.size - 1) >> TARGET_PAGE_BITS
        vpns = (first,) if first == last else (first, last)
        ram_ranges = []
        for vpn in vpns:
            start = max(tb.pc, vpn << TARGET_PAGE_BITS)
            end = min(tb.pc + tb.size, (vpn + 1) << TARGET_PAGE_BITS)
            ra = tlb.code_ram_addr(start) if start < 1 << 32 else None
            if ra is None:
                raise TBCacheError(f"{tb!r}: guest page {vpn << TARGET_PAGE_BITS:#x} is not RAM "
                                   f"or ROM, so code there cannot be cached (check "
                                   f"SoftTLB.code_ram_addr before translating)")
            ram_ranges.append((ra, ra + end - start))
        old = self.tbs.get(tb.key)
        if old is not None:
            # a translation replacing its interpreted block is a promotion, not a kill
            self._invalidate(old, count=old.translated or not tb.translated)
        tb.ram_ranges = tuple(ram_ranges)
        tb.pages = tuple(s >> TARGET_PAGE_BITS for s, _ in ram_ranges)
        tb.phys_pages = vpns
        tb.valid = True
        self.tbs[tb.key] = tb
        for page in tb.pages:
            self.page_tbs.setdefault(page, {})[tb] = None
        for start, end in tb.ram_ranges:
            cov = self._cover.get(start >> TARGET_PAGE_BITS)
            if cov is None:
                cov = self._cover[start >> TARGET_PAGE_BITS] = bytearray(TARGET_PAGE_SIZE)
            o = start & PAGE_MASK
            cov[o:o + end - start] = b"\x01" * (end - start)
        for vpn, page in zip(vpns, tb.pages):
            self._vpn_tbs.setdefault(vpn, {})[tb] = None
            self._vpn_ram[vpn] = page
        for page in tb.pages:
            self.tlb_protect_code(page << TARGET_PAGE_BITS)
        if tb.translated:
            self.counters.tbs_translated += 1
        return tb

    def tlb_protect_code(self, ram_addr: int) -> None:
        """Clear the CODE bit of the page holding ram_addr: from now on every write there
        comes to this cache first.  DirtyMemory tells the TLB, which drops the page's write
        entries (tlb_reset_dirty_range_all)."""
        page = ram_addr & ~PAGE_MASK
        if self.dirty.get_dirty(page, TARGET_PAGE_SIZE, _CODE_CLIENT):
            self.dirty.clear_dirty_range(page, TARGET_PAGE_SIZE, _CODE)

    def tlb_unprotect_code(self, ram_addr: int) -> None:
        """Set the CODE bit again: the page holds no translated code any more."""
        self.dirty.set_dirty_range(ram_addr & ~PAGE_MASK, TARGET_PAGE_SIZE, _CODE)

    def cover_of(self, ram_page: int) -> bytearray | None:
        """The coverage map of `ram_page` (non-zero where some TB's bytes may lie), updated in
        place while TBs are added; the TLB is told when it is replaced or dropped."""
        return self._cover.get(ram_page)

    @staticmethod
    def link(tb: TranslationBlock, slot: int, dest: TranslationBlock) -> bool:
        """tb_add_jump: let `tb` jump straight to `dest` through exit `slot` (0 or 1) until
        either is invalidated (which unlinks it).  Returns whether the link was made (both
        must be valid)."""
        if slot not in (0, 1):
            raise TBCacheError(f"jump slot {slot!r}: expected 0 or 1")
        if not (tb.valid and dest.valid):
            return False
        old = tb.jmp_dest[slot]
        if old is not None:
            old.jmp_in.pop((tb, slot), None)
        tb.jmp_dest[slot] = dest
        dest.jmp_in[(tb, slot)] = None
        return True

    # -- invalidation --------------------------------------------------------------------
    def _invalidate(self, tb: TranslationBlock, count: bool = True) -> None:
        """tb_phys_invalidate: remove `tb` from every index; a TB holding a link to it sees
        `valid` False and looks its successor up again.  ``count``: False when a
        translation of the same block replaces an InterpretedBlock."""
        if not tb.valid:
            return
        tb.valid = False
        key = tb.key
        if self.tbs.get(key) is tb:
            del self.tbs[key]
        for page in tb.pages:
            on = self.page_tbs.get(page)
            if on is not None:
                on.pop(tb, None)
                if not on:
                    del self.page_tbs[page]
                    if self._cover.pop(page, None) is not None:
                        self.tlb.drop_code_writes(page)
        for vpn in tb.phys_pages:
            on = self._vpn_tbs.get(vpn)
            if on is not None:
                on.pop(tb, None)
                if not on:
                    del self._vpn_tbs[vpn]
                    self._vpn_ram.pop(vpn, None)
        # tb_jmp_unlink: no TB may chain into a dead one, nor keep it alive
        for src, slot in tb.jmp_in:
            if src.jmp_dest[slot] is tb:
                src.jmp_dest[slot] = None
        tb.jmp_in = {}
        for slot, dest in enumerate(tb.jmp_dest):
            if dest is not None:
                dest.jmp_in.pop((tb, slot), None)
        tb.jmp_dest = [None, None]
        if count:
            self.counters.tbs_invalidated += 1
        if tb is self.running:
            self.running_invalidated = True

    def invalidate_tb(self, tb: TranslationBlock) -> None:
        """Drop one TB (the CPU found it stale); its pages stay protected until written."""
        self._invalidate(tb)

    def invalidate_phys_range(self, ram_start: int, length: int) -> None:
        """RAMList.code_invalidate_hook (tb_invalidate_phys_range): a write of
        [ram_start, +length) by anyone but the CPU's store path is about to land.  The TBs it
        overlaps die; the CODE bit of every page of the range left without a TB is set again
        (tlb_unprotect_code), pages still holding code stay protected."""
        if length <= 0:
            return
        end = ram_start + length
        p0 = ram_start >> TARGET_PAGE_BITS
        p1 = (end + PAGE_MASK) >> TARGET_PAGE_BITS
        page_tbs = self.page_tbs
        if p1 - p0 <= len(page_tbs):
            pages = [p for p in range(p0, p1) if p in page_tbs]
        else:
            pages = sorted(p for p in page_tbs if p0 <= p < p1)
        killed = 0
        for p in pages:
            killed += self._kill_overlapping(p, ram_start, end)
        if killed:
            self.counters.smc_events += 1
        # Unprotect the runs of pages between those that still hold code: one call per run.
        run = p0
        for p in [p for p in pages if p in page_tbs] + [p1]:
            if run < p:
                self.dirty.set_dirty_range(run << TARGET_PAGE_BITS,
                                           (p - run) << TARGET_PAGE_BITS, _CODE)
            run = p + 1

    def _kill_overlapping(self, page: int, start: int, end: int) -> int:
        """Kill the TBs on `page` whose bytes overlap ram_addr [start, end) and tighten the
        page's coverage map to the TBs left; returns how many died."""
        on = self.page_tbs.get(page)
        if not on:
            return 0
        hit = [tb for tb in on if tb.overlaps(start, end)]
        for tb in hit:
            self._invalidate(tb)
        rest = self.page_tbs.get(page)
        if hit and rest:
            self.tlb.drop_code_writes(page)
            cov = self._cover[page] = bytearray(TARGET_PAGE_SIZE)
            for tb in rest:
                for a, b in tb.ram_ranges:
                    if a >> TARGET_PAGE_BITS == page:
                        cov[a & PAGE_MASK:(a & PAGE_MASK) + b - a] = b"\x01" * (b - a)
        return len(hit)

    def invalidate_phys_range_fast(self, ram_addr: int, size: int) -> None:
        """tb_invalidate_phys_range_fast, for the CPU's notdirty_write: a store of `size`
        bytes at ram_addr (within one page) kills the TBs it overlaps; once the page holds no
        TB it is unprotected, so later stores there are direct again."""
        page = ram_addr >> TARGET_PAGE_BITS
        on = self.page_tbs.get(page)
        if on:
            o = ram_addr & PAGE_MASK
            cov = self._cover.get(page)
            if cov is not None and cov.count(0, o, o + size) == size:
                return  # beside the code: nothing to kill, the page stays protected
            if self._kill_overlapping(page, ram_addr, ram_addr + size):
                self.counters.smc_events += 1
        if page not in self.page_tbs:
            self.tlb_unprotect_code(ram_addr)

    def map_changed(self) -> None:
        """The memory map changed (the TLB was just flushed): TBs whose guest pages now show
        different memory (another ram_addr, or MMIO) are stale and die."""
        for vpn, page in list(self._vpn_ram.items()):
            ra = self.tlb.code_ram_addr(vpn << TARGET_PAGE_BITS)
            if ra is None or ra >> TARGET_PAGE_BITS != page:
                for tb in list(self._vpn_tbs.get(vpn, ())):
                    self._invalidate(tb)

    def flush(self) -> None:
        """tb_flush: forget every TB.  Pages stay protected until their next write, which
        finds no TB and unprotects them."""
        for tb in self.tbs.values():
            tb.valid = False
            tb.jmp_dest = [None, None]
            tb.jmp_in = {}
        if self.running is not None and not self.running.valid:
            self.running_invalidated = True
        self.tbs.clear()
        self.page_tbs.clear()
        self._cover.clear()
        self.tlb.code_write_pages.clear()
        self._vpn_tbs.clear()
        self._vpn_ram.clear()
        self.generation += 1

    def __len__(self) -> int:
        return len(self.tbs)

    def __repr__(self) -> str:
        return f"TBCache({len(self.tbs)} TBs on {len(self.page_tbs)} pages)"
