"""A bus-master DMA engine: copies and fills guest memory the way a PCI device does in QEMU.

Why it exists: the VGA's dirty tracking must see device writes exactly as it sees CPU
stores. In QEMU a device moves data with ``address_space_map``/``unmap`` (or
``dma_memory_rw``, which is ``address_space_rw`` underneath): RAM is mapped directly and
``address_space_unmap`` marks the written pages dirty (``invalidate_and_set_dirty``); anything
else (MMIO such as the legacy VGA window at 0xA0000) is reached through a *bounce buffer* that
``address_space_map`` fills (reads) or ``unmap`` writes back (writes), at most one target page
at a time, so a transfer into MMIO proceeds in pieces: map, copy, unmap, repeat. This engine
does the same on guestmem's AddressSpace, so a blit into the LFB sets the VGA dirty bits of
exactly the pages it wrote, and a blit into the legacy window runs through the planar logic.

The transfer runs to completion inside the MMIO write that sets ``CONTROL.START`` (QEMU
devices often defer to a bottom half; completing synchronously keeps runs repeatable), so a
guest reads ``STATUS.DONE`` (or ``STATUS.ERROR``) right after starting it.

Register block (little-endian, 32-bit registers, 32-bit accesses only; offsets from
``DMA_MMIO_BASE``; RO = read-only, W1C = write one to clear):

=======  ============  ==================================================================
offset   name          meaning
=======  ============  ==================================================================
0x00     ID (RO)       ``DMA_ID`` = 0x31414D44 ("DMA1")
0x04     CONTROL       bit 0 START (write 1 to run; reads back 0), bit 1 FILL (0 = copy
                       source to destination, 1 = fill destination with FILL_VALUE),
                       bit 2 TWO_D (rows: WIDTH x HEIGHT with strides; else LENGTH bytes),
                       bits 4-5 FILL_UNIT (0 = 1 byte, 1 = 2 bytes, 2 = 4 bytes)
0x08     STATUS (W1C)  bit 0 BUSY, bit 1 DONE, bit 2 ERROR; bits 8-15 error code (RO,
                       cleared with ERROR)
0x0C     BYTES (RO)    bytes written by the last transfer
0x10     SRC_LO        source guest-physical address, bits 0-31
0x14     SRC_HI        source address, bits 32-63 (DIMMs live above 4 GiB)
0x18     DST_LO        destination address, bits 0-31
0x1C     DST_HI        destination address, bits 32-63
0x20     LENGTH        1-D transfer length in bytes
0x24     WIDTH         2-D: bytes per row
0x28     HEIGHT        2-D: rows
0x2C     SRC_STRIDE    2-D: bytes from one source row to the next (signed 32-bit)
0x30     DST_STRIDE    2-D: bytes from one destination row to the next (signed 32-bit)
0x34     FILL_VALUE    fill pattern (low FILL_UNIT bytes, little-endian)
0x38     ERR_ADDR_LO   first address at fault (bits 0-31) when STATUS.ERROR
0x3C     ERR_ADDR_HI   bits 32-63 of it
=======  ============  ==================================================================

Error codes (``DMAError``): 1 BAD_LENGTH (0 bytes, more than ``DMA_MAX_TRANSFER``, a length
that is not a multiple of FILL_UNIT, or a 2-D source row/destination row below address 0 or
above 2**64), 2 SRC_UNASSIGNED, 3 DST_UNASSIGNED (part of a range maps to no region), 4
OVERLAP (copy mode: some source byte is also a destination byte, compared as guest-physical
addresses, as a device sees them), 5 BAD_MODE (reserved FILL_UNIT value), 6 BUS_ERROR (the
memory core reported a MemTxResult error while moving data). The whole transfer is checked
before its first byte moves: on an error nothing in guest memory changes.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Callable

import numpy as np

from guestmem.address_space import MemTxResult
from guestmem.dirty import DIRTY_MEMORY_CODE, TARGET_PAGE_SIZE
from guestmem.rcu import rcu_read_side
from guestmem.region import AccessConstraints, MemoryRegion, MemoryRegionOps

DMA_MMIO_BASE = 0xFEB00000
DMA_MMIO_SIZE = 0x1000
DMA_ID = 0x31414D44  # "DMA1" in memory order
#: Largest transfer (bytes written): two 1600x1200x32 frames fit, a runaway length does not.
DMA_MAX_TRANSFER = 64 << 20

REG_ID = 0x00
REG_CONTROL = 0x04
REG_STATUS = 0x08
REG_BYTES = 0x0C
REG_SRC_LO = 0x10
REG_SRC_HI = 0x14
REG_DST_LO = 0x18
REG_DST_HI = 0x1C
REG_LENGTH = 0x20
REG_WIDTH = 0x24
REG_HEIGHT = 0x28
REG_SRC_STRIDE = 0x2C
REG_DST_STRIDE = 0x30
REG_FILL_VALUE = 0x34
REG_ERR_ADDR_LO = 0x38
REG_ERR_ADDR_HI = 0x3C

CTRL_START = 1 << 0
CTRL_FILL = 1 << 1
CTRL_2D = 1 << 2
CTRL_UNIT_SHIFT = 4
CTRL_UNIT_MASK = 3 << CTRL_UNIT_SHIFT

STATUS_BUSY = 1 << 0
STATUS_DONE = 1 << 1
STATUS_ERROR = 1 << 2
STATUS_CODE_SHIFT = 8


#: Register indexes (offset // 4) the transfer path reads and writes.
_I_STATUS = REG_STATUS // 4
_I_BYTES = REG_BYTES // 4
_I_ERR_ADDR_LO = REG_ERR_ADDR_LO // 4
_I_ERR_ADDR_HI = REG_ERR_ADDR_HI // 4
#: ID .. FILL_VALUE: the registers a transfer is programmed with, unpacked in one slice.
_N_TRANSFER_REGS = REG_FILL_VALUE // 4 + 1
_CODE_BIT = 1 << DIRTY_MEMORY_CODE

#: Registers that only hold what the driver wrote (no side effect on write).
_PLAIN_REGS = frozenset(range(REG_SRC_LO, REG_FILL_VALUE + 4, 4))


class DMAError(enum.IntEnum):
    NONE = 0
    BAD_LENGTH = 1
    SRC_UNASSIGNED = 2
    DST_UNASSIGNED = 3
    OVERLAP = 4
    BAD_MODE = 5
    BUS_ERROR = 6


@dataclass(frozen=True, slots=True)
class TransferStats:
    """What the last transfer did, for tests and the profiler (not guest visible)."""

    bytes: int
    pieces: int  # map/copy/unmap rounds on the destination side
    bounced_pieces: int  # of those, how many went through a bounce buffer (not RAM)
    error: DMAError


class _Fault(Exception):
    def __init__(self, code: DMAError, addr: int) -> None:
        super().__init__(code, addr)
        self.code = code
        self.addr = addr


def _s32(v: int) -> int:
    return v - (1 << 32) if v & 0x80000000 else v


class DMAEngine:
    """The device: its register file, the MMIO region that exposes it, and the mover.

    ``address_space`` is the bus the engine masters (the machine's ``address_space_memory``).
    ``write_hook(addr, data)`` / ``fill_hook(addr, length, value, unit)``, when set, are told
    every destination range the engine wrote, with the bytes; the trace recorder uses them to
    record a transfer as the memory writes it caused (a trace player has no DMA engine).
    """

    def __init__(self, address_space, *, name: str = "dma-engine") -> None:
        self.address_space = address_space
        self.regs = [0] * (DMA_MMIO_SIZE // 4)
        self.regs[REG_ID // 4] = DMA_ID
        exact4 = AccessConstraints(min_access_size=4, max_access_size=4)
        self.mmio = MemoryRegion.io(
            name, DMA_MMIO_SIZE,
            MemoryRegionOps(read=self._mmio_read, write=self._mmio_write, valid=exact4, impl=exact4),
        )
        self.base: int | None = None  # where map_into put the register block
        self._last: TransferStats | None = TransferStats(0, 0, 0, DMAError.NONE)
        self._last_bytes = 0  # what the RAM fast path moved, until `last` is built from it
        self.write_hook: Callable[[int, bytes], None] | None = None
        #: Map a transfer's whole source and destination spans once when each lies in one
        #: RAM region (one numpy strided copy); False forces the row-by-row path, which is
        #: what a transfer touching MMIO takes anyway (for tests and benchmarks).
        self.map_whole_spans = True
        self.fill_hook: Callable[[int, int, int, int], None] | None = None

    # ---- wiring -------------------------------------------------------------------------

    def map_into(self, system_memory, base: int = DMA_MMIO_BASE) -> None:
        system_memory.add_subregion(base, self.mmio)
        self.base = base

    # ---- the register block -------------------------------------------------------------

    def _mmio_read(self, offset: int, size: int) -> int:
        if offset % 4 or offset >= 0x40:
            return 0
        return self.regs[offset // 4]

    def _mmio_write(self, offset: int, value: int, size: int) -> None:
        if offset in _PLAIN_REGS:  # a driver's most frequent write: a transfer parameter
            self.regs[offset >> 2] = value & 0xFFFFFFFF
            return
        if offset % 4 or offset >= 0x40:
            return
        value &= 0xFFFFFFFF
        idx = offset // 4
        if offset in (REG_ID, REG_BYTES, REG_ERR_ADDR_LO, REG_ERR_ADDR_HI):
            return
        if offset == REG_STATUS:
            keep = self.regs[idx] & ~(value & (STATUS_DONE | STATUS_ERROR))
            if value & STATUS_ERROR:
                keep &= ~(0xFF << STATUS_CODE_SHIFT)
            self.regs[idx] = keep
            return
        if offset == REG_CONTROL:
            self.regs[idx] = value & ~CTRL_START
            if value & CTRL_START:
                self.start()
            return
        self.regs[idx] = value

    @property
    def last(self) -> TransferStats:
        """What the last transfer did. The RAM fast path only notes its byte count; the
        record is built when someone looks (a frozen dataclass costs more than the copy)."""
        if self._last is None:
            self._last = TransferStats(self._last_bytes, 1, 0, DMAError.NONE)
        return self._last

    @last.setter
    def last(self, stats: TransferStats) -> None:
        self._last = stats

    def reg(self, offset: int) -> int:
        return self.regs[offset // 4]

    def set_reg(self, offset: int, value: int) -> None:
        """Host-side register write with the same effect as a guest MMIO write."""
        self._mmio_write(offset, value, 4)

    @property
    def status(self) -> int:
        return self.regs[REG_STATUS // 4]

    @property
    def error(self) -> DMAError:
        return DMAError((self.status >> STATUS_CODE_SHIFT) & 0xFF) if self.status & STATUS_ERROR else DMAError.NONE

    # ---- the transfer ---------------------------------------------------------------------

    def _rows(self) -> tuple[int, int, int, int, int, int]:
        """(src, dst, width, height, src_stride, dst_stride): a 1-D transfer is one row."""
        r = self.regs
        src = r[REG_SRC_LO // 4] | r[REG_SRC_HI // 4] << 32
        dst = r[REG_DST_LO // 4] | r[REG_DST_HI // 4] << 32
        if r[REG_CONTROL // 4] & CTRL_2D:
            return (src, dst, r[REG_WIDTH // 4], r[REG_HEIGHT // 4],
                    _s32(r[REG_SRC_STRIDE // 4]), _s32(r[REG_DST_STRIDE // 4]))
        return src, dst, r[REG_LENGTH // 4], 1, 0, 0

    def start(self) -> DMAError:
        """Run the programmed transfer: validate all of it, then move it (RAM to RAM in one
        step when it can, see :meth:`_ram_transfer`; else by spans or row by row)."""
        r = self.regs
        r[_I_STATUS] = STATUS_BUSY
        if self.map_whole_spans:
            moved = self._ram_transfer()
            if moved:
                r[_I_ERR_ADDR_LO] = r[_I_ERR_ADDR_HI] = 0
                r[_I_STATUS] = STATUS_DONE
                r[_I_BYTES] = moved & 0xFFFFFFFF
                self._last = None
                self._last_bytes = moved
                return DMAError.NONE
        try:
            code = self._run()
            err_addr = 0
        except _Fault as fault:
            code, err_addr = fault.code, fault.addr
            self.last = TransferStats(0, 0, 0, code)
        r[_I_ERR_ADDR_LO] = err_addr & 0xFFFFFFFF
        r[_I_ERR_ADDR_HI] = (err_addr >> 32) & 0xFFFFFFFF
        if code:
            r[_I_STATUS] = STATUS_ERROR | int(code) << STATUS_CODE_SHIFT
        else:
            r[_I_STATUS] = STATUS_DONE
        r[_I_BYTES] = self.last.bytes & 0xFFFFFFFF
        return code

    # ---- the fast path: RAM to RAM in one step ------------------------------------------

    @rcu_read_side
    def _ram_transfer(self) -> int:
        """Move the programmed transfer when its source (copy) and destination each lie in
        one RAM-backed range of the current FlatView: one numpy copy between host views, one
        dirty-marking call for the destination span; returns the bytes moved. Returns 0
        having changed nothing when the transfer is anything else -- MMIO, holes, ranges that
        cross into another region, overlapping source and destination (even through an
        alias: the same ram_addr), destination rows that overlap each other, bad registers --
        so :meth:`_run` validates and moves it (and reports its error) exactly as before.

        Equivalent to mapping both spans (:meth:`_move_spans`): the same bytes end up in the
        same host memory, and the destination is marked as address_space_unmap would mark
        the rows (invalidate_and_set_dirty: CODE invalidation of the bytes written, then the
        other clients' bits).

        Its fixed Python steps are what a small blit costs beyond numpy's copy, so: the
        registers are unpacked in one slice; the host views come from the FlatRanges' cached
        per-stride row views (FlatRange.host_rows, kept per FlatView generation, so nothing
        here outlives an unplug); a span already dirty for every client is not marked."""
        (_, ctrl, _, _, src, src_hi, dst, dst_hi, length, width, height, sstride, dstride,
         fill_value) = self.regs[:_N_TRANSFER_REGS]
        if ctrl & CTRL_2D:
            if height == 1:
                sstride = dstride = 0
            else:
                if sstride & 0x80000000:
                    sstride -= 1 << 32
                if dstride & 0x80000000:
                    dstride -= 1 << 32
        else:
            width, height, sstride, dstride = length, 1, 0, 0
        total = width * height
        if not 0 < total <= DMA_MAX_TRANSFER:
            return 0
        gap = (dstride if dstride >= 0 else -dstride) - width  # bytes between two rows
        if height > 1 and gap < 0:
            return 0  # destination rows overlap: the last row wins, row by row
        dst |= dst_hi << 32
        if dstride >= 0:
            dlo, dhi = dst, dst + (height - 1) * dstride + width
        else:
            dlo, dhi = dst + (height - 1) * dstride, dst + width
        if dlo < 0 or dhi > 1 << 63:
            return 0
        # One FlatView look-up per side (its page memo makes that a dict hit); nothing is
        # kept across transfers, so an unplugged DIMM's memory is never held here.
        fv = self.address_space.flatview
        dfr = fv.lookup(dlo)
        if (dfr is None or dhi > dfr.end or not dfr.direct_write or dfr.host is None
                or dfr.host_mv.readonly):
            return 0
        if ctrl & CTRL_FILL:
            unit_sel = (ctrl & CTRL_UNIT_MASK) >> CTRL_UNIT_SHIFT
            unit = 1 << unit_sel
            if unit_sel == 3 or width % unit:
                return 0
            value = fill_value & ((1 << (8 * unit)) - 1)
            pattern = value.to_bytes(unit, "little")
            dview = dfr.host_rows(dst, height, width, dstride)
            dview[...] = np.frombuffer(pattern * (width // unit), dtype=np.uint8)
        else:
            src |= src_hi << 32
            if sstride >= 0:
                slo, shi = src, src + (height - 1) * sstride + width
            else:
                slo, shi = src + (height - 1) * sstride, src + width
            if slo < 0 or shi > 1 << 63 or not (shi <= dlo or dhi <= slo):
                return 0
            sfr = fv.lookup(slo)
            if sfr is None or shi > sfr.end or not sfr.direct_read or sfr.host is None:
                return 0
            if sfr.ram_list is dfr.ram_list:
                # The same RAM under two guest addresses (an alias): row by row, a later row
                # may read what an earlier one wrote.
                sra, dra = slo - sfr.ram_addr_delta, dlo - dfr.ram_addr_delta
                if sra < dra + (dhi - dlo) and dra < sra + (shi - slo):
                    return 0
            dview = dfr.host_rows(dst, height, width, dstride)
            dview[...] = sfr.host_rows(src, height, width, sstride)
        self._mark_rows(dfr, dst, dlo, dhi, height, width, dstride, gap)
        if ctrl & CTRL_FILL:
            if self.fill_hook is not None:
                for i in range(height):
                    self.fill_hook(dst + i * dstride, width, value, unit)
        elif self.write_hook is not None:
            for i in range(height):
                self.write_hook(dst + i * dstride, dview[i].tobytes())
        return total

    @staticmethod
    def _mark_rows(fr, dst: int, dlo: int, dhi: int, height: int, width: int, stride: int,
                   gap: int) -> None:
        """invalidate_and_set_dirty for rows written into RAM range ``fr``: nothing when every
        page of the span is already dirty for every client of the range (no bit to set, no
        CODE page for the hook); one call for the span when its pages are exactly the rows'
        pages (no page lies wholly between two rows) and the code hook would be told nothing
        (one row, or every page of the span already CODE-dirty); else one per row, as
        row-by-row unmaps tell it."""
        mask = fr.dirty_log_mask
        ram_list = fr.ram_list
        delta = fr.ram_addr_delta
        span = dhi - dlo
        dirty = ram_list.dirty
        clean = dirty.range_includes_clean(dlo - delta, span, mask)
        if not clean:
            return
        if height == 1:
            ram_list.invalidate_and_set_dirty(dlo - delta, span, mask)
            return
        if gap < TARGET_PAGE_SIZE and not (clean & _CODE_BIT
                                           and ram_list.code_invalidate_hook is not None):
            dirty.set_dirty_range(dlo - delta, span, clean)
            return
        for i in range(height):
            ram_list.invalidate_and_set_dirty(dst + i * stride - delta, width, mask)

    def _run(self) -> DMAError:
        ctrl = self.regs[REG_CONTROL // 4]
        fill = bool(ctrl & CTRL_FILL)
        unit_sel = (ctrl & CTRL_UNIT_MASK) >> CTRL_UNIT_SHIFT
        if unit_sel == 3:
            raise _Fault(DMAError.BAD_MODE, 0)
        unit = 1 << unit_sel
        src, dst, width, height, sstride, dstride = self._rows()
        total = width * height
        if width == 0 or height == 0 or total > DMA_MAX_TRANSFER or (fill and width % unit):
            raise _Fault(DMAError.BAD_LENGTH, dst)
        drows = _Rows.of(dst, height, dstride, width)
        self._check_rows(drows, DMAError.DST_UNASSIGNED)
        srows = None
        if not fill:
            srows = _Rows.of(src, height, sstride, width)
            self._check_rows(srows, DMAError.SRC_UNASSIGNED)
            if not (srows.hi <= drows.lo or drows.hi <= srows.lo):
                self._check_overlap(srows.starts, drows.starts, width)
        # Everything is valid: now move the bytes.
        self._pieces = self._bounced = 0
        if fill:
            pattern = (self.regs[REG_FILL_VALUE // 4] & ((1 << (8 * unit)) - 1)).to_bytes(unit, "little")
            row_data = np.frombuffer(pattern * (width // unit), dtype=np.uint8)
            value = int.from_bytes(pattern, "little")
            if not (self.map_whole_spans and self._move_spans(None, drows, row_data, value, unit)):
                self._fill_rows(drows.starts, width, row_data, value, unit)
        elif not (self.map_whole_spans and self._move_spans(srows, drows, None, 0, 0)):
            self._copy_rows(srows.starts, drows.starts, width)
        self.last = TransferStats(total, self._pieces, self._bounced, DMAError.NONE)
        return DMAError.NONE

    def _fill_rows(self, dst_starts: np.ndarray, width: int, row_data: np.ndarray, value: int,
                   unit: int) -> None:
        for d in dst_starts.tolist():
            self._write_row(d, row_data)
            if self.fill_hook is not None:
                self.fill_hook(d, width, value, unit)

    def _copy_rows(self, src_starts: np.ndarray, dst_starts: np.ndarray, width: int) -> None:
        for s, d in zip(src_starts.tolist(), dst_starts.tolist()):
            data = self._read_row(s, width)
            self._write_row(d, data)
            if self.write_hook is not None:
                self.write_hook(d, data.tobytes())

    # ---- the fast path: each side mapped once ---------------------------------------------

    def _map_span(self, rows: _Rows, is_write: bool):
        """(mapping, 2-D view of the rows) when the rows' whole span is one direct RAM mapping,
        else None. MMIO is never mapped here: a bounce mapping for reading would already have
        read the device (side effects), so the flat view is asked first."""
        if rows.hi > 1 << 63:
            return None
        as_ = self.address_space
        lo = rows.lo
        fr = as_.current_map().lookup(lo)
        if fr is None or not (fr.direct_write if is_write else fr.direct_read):
            return None
        span = rows.hi - lo
        m = as_.map(lo, span, is_write)
        if m is None:
            return None
        if m.bounce or len(m.buf) < span:
            as_.unmap(m, is_write, 0)
            return None
        view = np.ndarray((rows.height, rows.width), np.uint8, buffer=m.buf, offset=rows.base - lo,
                          strides=(rows.stride, 1))
        return m, view

    def _move_spans(self, srows: _Rows | None, drows: _Rows, row_data: np.ndarray | None,
                    value: int, unit: int) -> bool:
        """Move the whole transfer with one numpy strided copy when source and destination
        each lie in one RAM mapping; False (nothing moved) when the row-by-row path must run.

        That path would give other bytes when destination rows overlap each other (the last
        row wins there, row by row) or when source and destination are the same host bytes
        under different guest addresses (an alias: row by row, a later row reads what an
        earlier row wrote); both go row by row. Dirty bits are those of the rows: one range
        when no page lies wholly between two rows, else one range per row."""
        width = drows.width
        gap = abs(drows.stride) - width  # bytes between two destination rows
        if drows.height > 1 and gap < 0:
            return False
        as_ = self.address_space
        dst = self._map_span(drows, True)
        if dst is None:
            return False
        dm, dview = dst
        sm = None
        try:
            if srows is not None:
                src = self._map_span(srows, False)
                if src is None:
                    as_.unmap(dm, True, 0)
                    return False
                sm, sview = src
                if (sm.ram_addr - sm.addr != dm.ram_addr - dm.addr
                        and sm.ram_addr < dm.ram_addr + len(dm.buf)
                        and dm.ram_addr < sm.ram_addr + len(sm.buf)):
                    as_.unmap(sm, False, 0)
                    sm = None
                    as_.unmap(dm, True, 0)
                    return False
                dview[...] = sview
            else:
                dview[...] = row_data
        except BaseException:
            if sm is not None:
                as_.unmap(sm, False, 0)
            if dm.active:
                as_.unmap(dm, True, 0)
            raise
        if sm is not None:
            as_.unmap(sm, False, len(sm.buf))
        self._pieces += 1
        mr = dm.mr
        mask = mr.effective_dirty_log_mask()
        ram_list = mr.ram_list
        # invalidate_and_set_dirty tells the code-invalidate hook (the CPU's translated
        # blocks) of each row written on a page with its CODE bit clean; with every page of
        # the span CODE-dirty it tells nobody, row by row or all at once.
        code_hook = (mask & (1 << DIRTY_MEMORY_CODE) and ram_list.code_invalidate_hook is not None
                     and not ram_list.dirty.all_dirty(dm.ram_addr, len(dm.buf), DIRTY_MEMORY_CODE))
        if drows.height == 1 or (gap < TARGET_PAGE_SIZE and not code_hook):
            as_.unmap(dm, True, len(dm.buf))  # every page of the span holds a row's byte
        else:
            # Pages lie between rows, or translated code is invalidated by the byte ranges
            # written: mark row by row, as the row-by-row path's unmaps do.
            try:
                delta = dm.ram_addr - dm.addr
                for d in drows.starts.tolist():
                    ram_list.invalidate_and_set_dirty(d + delta, width, mask)
            finally:
                as_.unmap(dm, True, 0)
        if srows is not None:
            if self.write_hook is not None:
                for d, row in zip(drows.starts.tolist(), dview):
                    self.write_hook(d, row.tobytes())
        elif self.fill_hook is not None:
            for d in drows.starts.tolist():
                self.fill_hook(d, width, value, unit)
        return True

    # ---- validation (before any byte moves) ---------------------------------------------

    def _check_rows(self, rows: _Rows, code: DMAError) -> None:
        # One look-up covers the common case: the whole span lies in assigned memory.
        if self._first_unassigned(rows.lo, rows.hi - rows.lo) is None:
            return
        for s in rows.starts.tolist():
            bad = self._first_unassigned(s, rows.width)
            if bad is not None:
                raise _Fault(code, bad)

    def _first_unassigned(self, addr: int, length: int) -> int | None:
        """First address of [addr, addr+length) that no region answers, like QEMU's
        ``address_space_access_valid`` failing on ``unassigned_mem_ops``."""
        return first_unassigned(self.address_space, addr, length)

    @staticmethod
    def _check_overlap(src_starts: np.ndarray, dst_starts: np.ndarray, width: int) -> None:
        # Row intervals [d, d+width) and [s, s+width) meet when |d - s| < width.
        d_sorted = np.sort(dst_starts)
        lo = np.searchsorted(d_sorted, src_starts - width, side="right")
        hi = np.searchsorted(d_sorted, src_starts + width, side="left")
        hit = np.nonzero(hi > lo)[0]
        if hit.size:
            s = int(src_starts[hit[0]])
            d = int(d_sorted[lo[hit[0]]])
            raise _Fault(DMAError.OVERLAP, max(s, d))

    # ---- moving data: map, copy, unmap, repeat ------------------------------------------

    def _read_row(self, addr: int, length: int) -> np.ndarray:
        out = np.empty(length, dtype=np.uint8)
        as_ = self.address_space
        pos = 0
        while pos < length:
            m = as_.map(addr + pos, length - pos, False)
            if m is None:  # the bounce buffer is busy: fall back to dma_memory_rw
                self._bus_rw(addr + pos, out[pos:], is_write=False)
                return out
            buf = np.frombuffer(m.buf, dtype=np.uint8)
            n = min(len(buf), length - pos)
            if n <= 0:
                as_.unmap(m, False, 0)
                raise _Fault(DMAError.BUS_ERROR, addr + pos)
            out[pos:pos + n] = buf[:n]
            as_.unmap(m, False, n)
            pos += n
        return out

    def _write_row(self, addr: int, data: np.ndarray) -> None:
        as_ = self.address_space
        length = len(data)
        pos = 0
        while pos < length:
            m = as_.map(addr + pos, length - pos, True)
            if m is None:
                self._bus_rw(addr + pos, data[pos:], is_write=True)
                self._pieces += 1
                return
            buf = np.frombuffer(m.buf, dtype=np.uint8)
            n = min(len(buf), length - pos)
            if n <= 0:
                as_.unmap(m, True, 0)
                raise _Fault(DMAError.BUS_ERROR, addr + pos)
            buf[:n] = data[pos:pos + n]
            as_.unmap(m, True, n)
            self._pieces += 1
            if getattr(m, "bounce", False):
                self._bounced += 1
            pos += n

    def _bus_rw(self, addr: int, buf: np.ndarray, *, is_write: bool) -> None:
        from guestmem.address_space import DMADirection, dma_memory_rw

        direction = DMADirection.FROM_DEVICE if is_write else DMADirection.TO_DEVICE
        view = memoryview(buf) if is_write else memoryview(buf).cast("B")
        res = dma_memory_rw(self.address_space, addr, view, direction)
        if res != MemTxResult.OK:
            raise _Fault(DMAError.BUS_ERROR, addr)


class _Rows:
    """One side of a transfer: ``height`` rows of ``width`` bytes, ``stride`` bytes apart from
    ``base``, spanning [lo, hi). The row start array is built only when a slow path needs it:
    the common transfer is judged and moved from its span alone."""

    __slots__ = ("base", "stride", "height", "width", "lo", "hi", "_starts")

    def __init__(self, base: int, stride: int, height: int, width: int, lo: int, hi: int) -> None:
        self.base, self.stride, self.height, self.width = base, stride, height, width
        self.lo, self.hi = lo, hi
        self._starts = None

    @classmethod
    def of(cls, base: int, height: int, stride: int, width: int) -> "_Rows":
        """The rows, after checking in Python integers that every row lies in [0, 2**64): a
        range that wraps is BAD_LENGTH at the start of the row that wraps (or the lowest
        address, below 0), never a numpy overflow."""
        last = base + (height - 1) * stride
        lo, hi = min(base, last), max(base, last) + width
        if lo < 0:
            raise _Fault(DMAError.BAD_LENGTH, lo)
        if hi > 1 << 64:
            raise _Fault(DMAError.BAD_LENGTH, max(base, last))
        return cls(base, stride if height > 1 else 0, height, width, lo, hi)

    @property
    def starts(self) -> np.ndarray:
        """The start address of each row: int64 when every row fits (every address a machine
        maps), else exact Python ints in an object array."""
        if self._starts is None:
            rows = np.arange(self.height, dtype=np.int64)
            if self.hi <= 1 << 63:
                self._starts = self.base + rows * self.stride
            else:
                self._starts = rows.astype(object) * self.stride + self.base
        return self._starts


def first_unassigned(address_space, addr: int, length: int) -> int | None:
    """First address in [addr, addr+length) that maps to no region of the address space."""
    fv = address_space.current_map()
    end = addr + length
    pos = addr
    while pos < end:
        fr = fv.lookup(pos)
        if fr is None or _is_unassigned(fr):
            return pos
        pos = fr.addr + fr.size
    return None


def _is_unassigned(fr) -> bool:
    mr = getattr(fr, "mr", None)
    return mr is None


#: Where the register block may go, in order: QEMU's pc puts PCI BARs just below 4 GiB; the
#: second choice is for a VRAM so large (> 27 MiB) that the LFB at 0xFD000000 covers the first.
DMA_MMIO_CANDIDATES = (DMA_MMIO_BASE, 0xFC000000, 0xFB000000, 0xF0000000)


def attach(machine) -> DMAEngine:
    """The machine's DMA engine: the one it already has, or a new one mapped at the first
    free address of DMA_MMIO_CANDIDATES (``engine.base``)."""
    engine = getattr(machine, "dma", None)
    if isinstance(engine, DMAEngine):
        return engine
    engine = DMAEngine(machine.address_space_memory)
    as_ = machine.address_space_memory
    for base in DMA_MMIO_CANDIDATES:
        fv = as_.current_map()
        if fv.lookup(base) is None and fv.lookup(base + DMA_MMIO_SIZE - 1) is None \
                and first_assigned(as_, base, DMA_MMIO_SIZE) is None:
            break
    else:
        raise RuntimeError("no free guest-physical address for the DMA engine's registers")
    engine.map_into(machine.system_memory, base)
    try:
        machine.dma = engine
    except AttributeError:
        pass
    return engine


def first_assigned(address_space, addr: int, length: int) -> int | None:
    """First address in [addr, addr+length) that some region answers."""
    fv = address_space.current_map()
    fr = fv.lookup(addr)
    if fr is not None:
        return addr
    nxt = fv.next_start(addr)
    return nxt if nxt is not None and nxt < addr + length else None


class DMADriver:
    """The guest side: programs the engine through its MMIO registers, as a guest driver would.

    Every register write is a 32-bit store on the memory address space, so the engine sees
    exactly what a real guest's driver would make it see; a transfer that ends in
    ``STATUS.ERROR`` raises ``error_type`` naming the error code and the address at fault.
    """

    def __init__(self, address_space, base: int = DMA_MMIO_BASE, *, error_type: type[Exception] = RuntimeError,
                 engine: DMAEngine | None = None) -> None:
        self.address_space = address_space
        self.base = base
        self.engine = engine
        self._error_type = error_type

    def _w(self, reg: int, value: int) -> None:
        res = self.address_space.stl_le(self.base + reg, value & 0xFFFFFFFF)
        if res:
            raise self._error_type(f"DMA register write at 0x{self.base + reg:X} failed: {MemTxResult(res)!r}"
                                   f" (is the DMA engine mapped at 0x{self.base:X}?)")

    def _r(self, reg: int) -> int:
        return self.address_space.ldl_le(self.base + reg)

    def _go(self, control: int, what: str, *args) -> int:
        """Start the transfer; ``what.format(*args)`` names it in an error (formatted only
        then: a driver's blit should not pay for a message nobody reads)."""
        self._w(REG_CONTROL, control | CTRL_START)
        status = self._r(REG_STATUS)
        if status & STATUS_ERROR:
            code = DMAError((status >> STATUS_CODE_SHIFT) & 0xFF)
            at = self._r(REG_ERR_ADDR_LO) | self._r(REG_ERR_ADDR_HI) << 32
            self._w(REG_STATUS, STATUS_ERROR | STATUS_DONE)
            raise self._error_type(f"DMA {what.format(*args)} failed: {code.name} at address 0x{at:X}")
        self._w(REG_STATUS, STATUS_DONE)
        return self._r(REG_BYTES)

    def _addrs(self, src: int, dst: int) -> None:
        if not (type(src) is int and type(dst) is int and 0 <= src < 1 << 64 and 0 <= dst < 1 << 64):
            self._check_addrs(src, dst)
        self._w(REG_SRC_LO, src)
        self._w(REG_SRC_HI, src >> 32)
        self._w(REG_DST_LO, dst)
        self._w(REG_DST_HI, dst >> 32)

    def _regs(self, op: str, **values) -> None:
        """Lengths, sizes and strides are 32-bit registers: a value that does not fit (or is
        not an int) is refused, not cut to its low 32 bits -- copy(a, b, 2**32 + 16) moved
        16 bytes and reported success. Strides may be negative (two's complement)."""
        for name, v in values.items():
            low = -(1 << 31) if name.endswith("stride") else 0
            if isinstance(v, bool) or not isinstance(v, int) or not low <= v <= 0xFFFFFFFF:
                raise self._error_type(f"DMA {op}: {name} {v!r} does not fit the 32-bit "
                                       f"register ({low}..0xFFFFFFFF)")

    def _check_addrs(self, src, dst) -> None:
        for what, v in (("source", src), ("destination", dst)):
            if isinstance(v, bool) or not isinstance(v, int) or not 0 <= v < 1 << 64:
                raise self._error_type(f"DMA {what} address {v!r} is not a 64-bit guest-physical "
                                       "address (0..0xFFFFFFFFFFFFFFFF)")

    def copy(self, src: int, dst: int, length: int) -> int:
        """Copy ``length`` bytes from guest-physical ``src`` to ``dst``; returns bytes moved."""
        self._addrs(src, dst)
        if type(length) is not int or not 0 <= length <= 0xFFFFFFFF:
            self._regs("copy", length=length)
        self._w(REG_LENGTH, length)
        return self._go(0, "copy of {} bytes 0x{:X} -> 0x{:X}", length, src, dst)

    def blit(self, src: int, dst: int, width: int, height: int, src_stride: int, dst_stride: int) -> int:
        """2-D copy: ``height`` rows of ``width`` bytes, rows ``*_stride`` bytes apart."""
        self._addrs(src, dst)
        if not (type(width) is int and type(height) is int and 0 <= width <= 0xFFFFFFFF
                and 0 <= height <= 0xFFFFFFFF and type(src_stride) is int
                and type(dst_stride) is int and -(1 << 31) <= src_stride <= 0xFFFFFFFF
                and -(1 << 31) <= dst_stride <= 0xFFFFFFFF):
            self._regs("blit", width=width, height=height, src_stride=src_stride,
                       dst_stride=dst_stride)
        self._w(REG_WIDTH, width)
        self._w(REG_HEIGHT, height)
        self._w(REG_SRC_STRIDE, src_stride)
        self._w(REG_DST_STRIDE, dst_stride)
        return self._go(CTRL_2D, "blit {}x{} 0x{:X} -> 0x{:X}", width, height, src, dst)

    def fill(self, dst: int, length: int, value: int, unit: int = 1) -> int:
        """Fill ``length`` bytes at ``dst`` with ``value`` repeated in ``unit``-byte pieces."""
        self._addrs(0, dst)
        self._regs("fill", length=length)
        unit_bits = self._unit_bits(unit)
        self._w(REG_LENGTH, length)
        self._w(REG_FILL_VALUE, self._value(value))
        return self._go(CTRL_FILL | unit_bits, "fill of {} bytes at 0x{:X}", length, dst)

    def fill_rect(self, dst: int, width: int, height: int, dst_stride: int, value: int, unit: int = 1) -> int:
        """2-D fill: ``height`` rows of ``width`` bytes, ``dst_stride`` apart."""
        self._addrs(0, dst)
        self._regs("fill", width=width, height=height, dst_stride=dst_stride)
        unit_bits = self._unit_bits(unit)
        self._w(REG_WIDTH, width)
        self._w(REG_HEIGHT, height)
        self._w(REG_DST_STRIDE, dst_stride)
        self._w(REG_FILL_VALUE, self._value(value))
        return self._go(CTRL_FILL | CTRL_2D | unit_bits, "fill {}x{} at 0x{:X}", width, height, dst)


    def _unit_bits(self, unit: int) -> int:
        try:
            return {1: 0, 2: 1, 4: 2}[unit] << CTRL_UNIT_SHIFT
        except (KeyError, TypeError):
            raise self._error_type(f"DMA fill unit must be 1, 2 or 4 bytes, not {unit!r}") from None

    def _value(self, value: int) -> int:
        """The fill pattern: any int, its low 32 bits used (as the register holds them)."""
        if isinstance(value, bool) or not isinstance(value, int):
            raise self._error_type(f"DMA fill value {value!r} is not an integer")
        return value
