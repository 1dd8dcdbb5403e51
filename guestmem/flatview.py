"""FlatView: the memory tree compiled into sorted, non-overlapping ranges (system/memory.c).

generate_memory_topology() follows QEMU's render_memory_region(): walk the tree from the
root, clip each region to its parent's window, resolve aliases by shifting the base by
(target.addr + alias_offset), render subregions in list order (highest priority, then
newest, first) and let a terminating region fill only the gaps its subregions left.
flatview_simplify() then merges neighbours that continue each other.

The access path never walks the tree: it bisects the `starts` array of the current FlatView.
"""

from __future__ import annotations

import bisect

import numpy as np

from .dirty import TARGET_PAGE_BITS
from .region import RegionKind

class FlatRange:
    """[addr, addr+size) of the address space answered by `mr` at `offset_in_region`.

    The kind flags below are derived once here so the access path only reads attributes:
    direct_read / direct_write say the bytes can be copied to/from host RAM (QEMU's
    memory_access_is_direct); rom_write says a write is dropped (ROM).
    """

    __slots__ = ("addr", "size", "end", "mr", "offset_in_region", "readonly", "romd_mode",
                 "dirty_log_mask", "nonvolatile", "direct_read", "direct_write", "rom_write",
                 "host", "host_mv", "host_delta", "ram_addr_delta", "ram_list", "check_clients",
                 "fast_entry", "_row_views")

    #: strides whose row views a range keeps (the dict is emptied when full)
    ROW_VIEWS_MAX = 8

    def __init__(self, addr, size, mr, offset_in_region, readonly, romd_mode, dirty_log_mask,
                 nonvolatile=False):
        self.addr = addr
        self.size = size
        self.end = addr + size
        self.mr = mr
        self.offset_in_region = offset_in_region
        self.readonly = readonly
        self.romd_mode = romd_mode
        self.dirty_log_mask = dirty_log_mask
        self.nonvolatile = nonvolatile
        #: what an AddressSpace's RAM cache keeps for this range (built on first use)
        self.fast_entry = None
        self._row_views: dict = {}
        self._derive()

    def _derive(self) -> None:
        mr = self.mr
        block = mr.ram_block
        is_ram = mr.kind is RegionKind.RAM or mr.kind is RegionKind.ROM
        self.direct_read = block is not None and (
            is_ram or (mr.kind is RegionKind.ROM_DEVICE and self.romd_mode))
        self.direct_write = is_ram and not self.readonly
        self.rom_write = is_ram and self.readonly
        clients = [c for c in range(3) if self.dirty_log_mask & (1 << c)]
        self.check_clients = tuple((clients * 3)[:3]) if clients else None
        if block is not None:
            self.host = block.host
            self.host_mv = memoryview(block.host)
            # host offset of address a = a - host_delta; ram_addr of a = a - ram_addr_delta
            self.host_delta = self.addr - self.offset_in_region
            self.ram_addr_delta = self.addr - self.offset_in_region - block.offset
            self.ram_list = mr.ram_list
        else:
            self.host = None
            self.host_mv = None
            self.host_delta = 0
            self.ram_addr_delta = 0
            self.ram_list = None

    def host_rows(self, addr: int, height: int, width: int, stride: int):
        """The (height, width) uint8 view of host memory holding ``height`` rows of ``width``
        bytes, ``stride`` bytes apart, from guest address ``addr`` -- what a device's 2-D
        transfer copies to or from (the caller checked the rows lie in this range, which has
        host memory).

        For rows that do not overlap (|stride| >= width) the view is a slice of a per-stride
        2-D view of the whole RAMBlock, made once per FlatRange -- so once per FlatView
        generation, and dropped with the view, as ``host_mv`` is: slicing it costs a third
        of building an ndarray over the buffer. One row is a slice of the block; rows that
        overlap get an ndarray over the buffer."""
        off = addr - self.host_delta
        if height == 1:
            return self.host[off:off + width][None]
        if stride < 0:
            if -stride >= width > 0:
                lo = off + (height - 1) * stride  # the lowest row; the view runs backwards
                v = self._row_views.get(-stride)
                if v is None:
                    v = self._row_view(-stride)
                q = lo // -stride
                rem = lo + q * stride
                if q + height <= len(v):
                    return v[q:q + height, rem:rem + width][::-1]
        elif stride >= width > 0:
            v = self._row_views.get(stride)
            if v is None:
                v = self._row_view(stride)
            q = off // stride
            rem = off - q * stride
            if q + height <= len(v):
                return v[q:q + height, rem:rem + width]
        return np.ndarray((height, width), np.uint8, buffer=self.host_mv, offset=off,
                          strides=(stride, 1))

    def _row_view(self, stride: int):
        """Rows ``stride`` bytes apart over the whole host block, each 2*stride bytes long (so
        a row of up to ``stride`` bytes starting anywhere in a row's first half fits)."""
        views = self._row_views
        if len(views) >= self.ROW_VIEWS_MAX:
            views.clear()
        host = self.host
        n = max(0, len(host) // stride - 1)
        v = views[stride] = np.lib.stride_tricks.as_strided(
            host, (n, 2 * stride), (stride, 1), writeable=host.flags.writeable)
        return v

    @property
    def start(self) -> int:
        return self.addr

    def same_as(self, other: "FlatRange") -> bool:
        """flatrange_equal (the dirty log mask is compared separately by the listeners)."""
        return (self.mr is other.mr and self.addr == other.addr and self.size == other.size
                and self.offset_in_region == other.offset_in_region
                and self.romd_mode == other.romd_mode and self.readonly == other.readonly
                and self.nonvolatile == other.nonvolatile)

    def can_merge(self, nxt: "FlatRange") -> bool:
        """QEMU's can_merge: contiguous in the address space and in the same region."""
        return (self.end == nxt.addr and self.mr is nxt.mr
                and self.offset_in_region + self.size == nxt.offset_in_region
                and self.dirty_log_mask == nxt.dirty_log_mask and self.romd_mode == nxt.romd_mode
                and self.readonly == nxt.readonly and self.nonvolatile == nxt.nonvolatile)

    def ram_addr(self, addr: int) -> int:
        return addr - self.ram_addr_delta

    def __repr__(self) -> str:
        return (f"FlatRange({self.addr:#x}-{self.end - 1:#x} -> {self.mr.name!r}"
                f"@{self.offset_in_region:#x}{' ro' if self.readonly else ''})")


class FlatView:
    """Sorted, non-overlapping FlatRanges with a bisect lookup.  Immutable once built."""

    __slots__ = ("ranges", "starts", "root", "_pages", "__weakref__")

    #: bound on the page memo (entries); it is simply emptied when full
    PAGE_MEMO_MAX = 1 << 16

    def __init__(self, ranges: list[FlatRange], root=None):
        self.ranges = ranges
        self.starts = [r.addr for r in ranges]
        self.root = root
        # Memo of pages that one range covers entirely: page number -> FlatRange.  Filled
        # lazily by lookups (the view is immutable, so entries never go stale); pages that
        # hold a range boundary (sub-page MMIO, I/O ports) always take the bisect.
        self._pages: dict[int, FlatRange] = {}

    def lookup(self, addr: int) -> FlatRange | None:
        """The range containing addr, or None for unassigned addresses."""
        r = self._pages.get(addr >> TARGET_PAGE_BITS)
        if r is not None:
            return r
        i = bisect.bisect_right(self.starts, addr) - 1
        if i >= 0:
            r = self.ranges[i]
            if addr < r.end:
                page = addr >> TARGET_PAGE_BITS
                if r.addr <= page << TARGET_PAGE_BITS and (page + 1) << TARGET_PAGE_BITS <= r.end:
                    pages = self._pages
                    if len(pages) >= self.PAGE_MEMO_MAX:
                        pages.clear()
                    pages[page] = r
                return r
        return None

    def lookup_bisect(self, addr: int) -> FlatRange | None:
        """lookup without the page memo (what a cold lookup costs)."""
        i = bisect.bisect_right(self.starts, addr) - 1
        if i >= 0:
            r = self.ranges[i]
            if addr < r.end:
                return r
        return None

    def lookup_index(self, addr: int) -> int:
        """Index of the first range whose end is beyond addr (len(ranges) if none)."""
        i = bisect.bisect_right(self.starts, addr) - 1
        if i >= 0 and addr < self.ranges[i].end:
            return i
        return i + 1

    def next_start(self, addr: int) -> int | None:
        """Start of the first range beginning after addr (for skipping a hole)."""
        i = bisect.bisect_right(self.starts, addr)
        return self.starts[i] if i < len(self.starts) else None

    def __iter__(self):
        return iter(self.ranges)

    def __len__(self) -> int:
        return len(self.ranges)

    @property
    def nr(self) -> int:
        return len(self.ranges)

    def __repr__(self) -> str:
        name = self.root.name if self.root is not None else None
        return f"<FlatView root={name!r} {len(self.ranges)} ranges>"


class _Builder:
    __slots__ = ("ranges", "ends")

    def __init__(self):
        self.ranges: list[FlatRange] = []
        self.ends: list[int] = []

    def insert(self, i, fr):
        self.ranges.insert(i, fr)
        self.ends.insert(i, fr.end)

    def render(self, mr, base: int, clip_start: int, clip_end: int, readonly: bool,
               nonvolatile: bool) -> None:
        if not mr.enabled:
            return
        base += mr.addr
        readonly = readonly or mr.readonly
        nonvolatile = nonvolatile or mr.nonvolatile
        cs = max(base, clip_start)
        ce = min(base + mr.size, clip_end)
        if cs >= ce:
            return
        if mr.alias is not None:
            self.render(mr.alias, base - mr.alias.addr - mr.alias_offset, cs, ce, readonly,
                        nonvolatile)
            return
        for sub in mr.subregions:
            self.render(sub, base, cs, ce, readonly, nonvolatile)
        if not mr.terminates:
            return
        mask = mr.effective_dirty_log_mask()
        romd = mr.romd_mode
        ranges, ends = self.ranges, self.ends
        pos = cs
        i = bisect.bisect_right(ends, pos)  # first range ending after pos
        while pos < ce:
            if i < len(ranges) and ranges[i].addr < ce:
                r = ranges[i]
                if pos < r.addr:
                    self.insert(i, FlatRange(pos, r.addr - pos, mr, pos - base, readonly, romd,
                                             mask, nonvolatile))
                    i += 1
                pos = max(pos, r.end)
                i += 1
            else:
                self.insert(i, FlatRange(pos, ce - pos, mr, pos - base, readonly, romd, mask,
                                         nonvolatile))
                pos = ce


def flatview_root(mr):
    """memory_region_get_flatview_root: skip an alias that covers all of its target, or a
    container whose only enabled child covers it from 0, so equivalent roots share a view.
    None when nothing is rendered."""
    while mr is not None and mr.enabled:
        if mr.alias is not None:
            if mr.alias_offset == 0 and mr.size >= mr.alias.size:
                mr = mr.alias
                continue
        elif not mr.terminates:
            enabled = [c for c in mr.subregions if c.enabled]
            if not enabled:
                return None
            if len(enabled) == 1:
                c = enabled[0]
                if c.addr == 0 and mr.size >= c.size:
                    mr = c
                    continue
        return mr
    return None


def flatview_simplify(ranges: list[FlatRange]) -> list[FlatRange]:
    out: list[FlatRange] = []
    for r in ranges:
        if out and out[-1].can_merge(r):
            prev = out[-1]
            out[-1] = FlatRange(prev.addr, prev.size + r.size, prev.mr, prev.offset_in_region,
                                prev.readonly, prev.romd_mode, prev.dirty_log_mask,
                                prev.nonvolatile)
        else:
            out.append(r)
    return out


def generate_memory_topology(root) -> FlatView:
    """Render the tree under `root` (a flatview root; may be None) into a FlatView."""
    b = _Builder()
    if root is not None:
        # render_memory_region is called with base 0; the root's own addr is ignored by
        # QEMU only because roots sit at 0 -- do the same.
        b.render(root, -root.addr, 0, 1 << 64, False, False)
    return FlatView(flatview_simplify(b.ranges), root)

