"""The legacy VGA memory window (0xA0000-0xBFFFF): planar access to VRAM.

VRAM keeps QEMU's layout: byte ``4*a + p`` is plane ``p`` at planar address ``a``, so one
little-endian dword holds the four planes of one address and the latches are one 32-bit
value (plane p in bits 8p..8p+7). Chain-4 and VBE modes then read VRAM linearly.

What the window does follows the graphics controller and sequencer (IBM VGA Technical
Reference, FreeVGA "Graphics Registers"/"Sequencer Registers"; QEMU hw/display/vga.c
vga_mem_readb/vga_mem_writeb):

- GR6 bits 2-3 choose the window (A0000/128K, A0000/64K + VBE bank, B0000/32K, B8000/32K);
- SR4 bit 3 (chain 4): CPU address bits 0-1 pick the plane;
- odd/even: address bit 0 picks plane 0/1 (2/3);
- otherwise planar: every read loads the four latches; read mode 0 returns the plane chosen
  by GR4, read mode 1 the colour-compare result (GR2 colour, GR7 don't care); write modes
  0-3 go through rotate (GR3), set/reset (GR0, GR1), the logical operation (GR3), the bit
  mask (GR8) and the map mask (SR2).

Where QEMU 7.2 differs from the hardware (see :data:`QEMU_DIFFERENCES`) the machine's
:class:`~vgaemu.compat.Compat` policy chooses, one field per difference. While Bochs VBE is
enabled there is no hardware to follow and QEMU's behaviour is the model whatever the policy.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import numpy as np

from vgaemu.compat import Compat
from vgaemu.errors import MemoryAccessError
from vgaemu.vga.state import (
    GR_BIT_MASK,
    GR_COMPARE_MASK,
    GR_COMPARE_VALUE,
    GR_DATA_ROTATE,
    GR_MISC,
    GR_MODE,
    GR_PLANE_READ,
    GR_SR_ENABLE,
    GR_SR_VALUE,
    SR_MEMORY_MODE,
    SR_PLANE_WRITE,
    VBE_DISPI_ENABLED,
    VBE_DISPI_INDEX_ENABLE,
    VGAState,
)

#: Byte value replicated into the planes whose bit is set in a 4-bit mask (QEMU's mask16).
MASK16 = tuple(sum(0xFF << (8 * p) for p in range(4) if n & (1 << p)) for n in range(16))
_ALL = 0xFFFFFFFF
_MASK16_U32 = np.array(MASK16, dtype=np.uint32)
_BYTE_VALUES = np.arange(256, dtype=np.uint32)
#: Blocks shorter than this go through the per-byte path: numpy's set-up costs more.
BLOCK_MIN = 16

#: Where each GR6 memory-map setting puts the window inside the 128 KiB legacy region:
#: (offset of the window in the region, its size).
MEMORY_MAPS = ((0x00000, 0x20000), (0x00000, 0x10000), (0x10000, 0x8000), (0x18000, 0x8000))

LEGACY_BASE = 0xA0000
LEGACY_SIZE = 0x20000

#: Hardware vs QEMU 7.2 differences in this module (README list; QEMU function that shows it).
QEMU_DIFFERENCES = (
    ("chain-4 and odd/even writes go through the graphics controller (set/reset, rotate, "
     "logical op, bit mask) and reads load the latches; QEMU writes/reads the raw byte",
     "vga_mem_writeb / vga_mem_readb"),
    ("odd/even write addressing is selected by SR4 bit 2 and enables planes 0+2 (even) or "
     "1+3 (odd) under the map mask; QEMU uses GR5 bit 4 and a single plane chosen with GR4 "
     "bit 1", "vga_mem_writeb"),
    ("without VBE each plane is 64 KiB: window addresses wrap at 64K (B0000-BFFFF mirror "
     "A0000-AFFFF in the 128K map); QEMU reaches planar offsets up to 128K",
     "vga_mem_readb / vga_mem_writeb"),
)


class Chain4Window(NamedTuple):
    """Where a direct VRAM alias may serve the window (QEMU's chain4_alias)."""

    base: int  # guest-physical address
    offset: int  # offset into VRAM
    size: int


class PlanarMemory:
    """Byte reads/writes at offsets 0..0x1FFFF of the legacy window.

    ``set_dirty(vram_offset, length)`` is called for every VRAM byte range written (the
    machine passes ``vga.vram``'s ``MemoryRegion.set_dirty``, so the display loop sees the
    write through DIRTY_MEMORY_VGA).
    """

    def __init__(
        self,
        state: VGAState,
        *,
        set_dirty: Callable[[int, int], None] | None = None,
        compat: Compat | None = None,
    ) -> None:
        self.state = state
        self.compat = compat = compat if compat is not None else Compat.hardware()
        # The policy is fixed for the machine's life: its rows as plain attributes for the
        # per-byte paths.
        self._gc_packed = compat.chain4_odd_even_through_gc
        self._odd_even_map_mask = compat.odd_even_map_mask
        self._wrap_64k = compat.planes_wrap_64k
        #: QEMU's planar path marks the dword dirty even with no plane enabled, which its
        #: display (redrawing only dirty lines) shows; the hardware display needs no such mark.
        self._mark_unwritten = not compat.live_graphics_registers
        self._all_hw = self._gc_packed and self._odd_even_map_mask and self._wrap_64k
        #: odd/even host writes (text modes, CGA modes) go through writeb's one-frame path:
        #: only where the policy sends them through the graphics controller to planes 0+2
        #: or 1+3 (QEMU's odd/even is another shape, left to _writeb_general)
        self._fast_odd_even = self._gc_packed and self._odd_even_map_mask
        self._all_qemu = not (self._gc_packed or self._odd_even_map_mask or self._wrap_64k)
        self.set_dirty = set_dirty if set_dirty is not None else (lambda addr, size: None)
        self._b = memoryview(state.vram).cast("B")
        size = len(self._b)
        if size % 4:
            raise ValueError(f"VRAM size {size} is not a multiple of 4")
        self._d = self._b.cast("I")
        self.vram_size = size
        self._dwords = size >> 2
        self._np = np.asarray(state.vram).reshape(-1)
        self._np_d = self._np.view("<u4")
        self._gc_key: tuple | None = None
        self._gc_tab: np.ndarray | None = None

    # ------------------------------------------------------------------ address decode
    def _window_offset(self, addr: int) -> int:
        """Window offset -> VGA memory offset, or -1 when GR6 does not map it."""
        s = self.state
        addr &= 0x1FFFF
        mm = (s.gr[GR_MISC] >> 2) & 3
        if mm == 0:
            return addr
        if mm == 1:
            return addr + s.bank_offset if addr < 0x10000 else -1
        start = 0x10000 if mm == 2 else 0x18000
        addr -= start
        return addr if 0 <= addr < 0x8000 else -1

    # ------------------------------------------------------------------ read
    def _compare(self, latch: int) -> int:
        gr = self.state.gr
        ret = (latch ^ MASK16[gr[GR_COMPARE_VALUE] & 15]) & MASK16[gr[GR_COMPARE_MASK] & 15]
        ret |= ret >> 16
        ret |= ret >> 8
        return ~ret & 0xFF

    def readb(self, addr: int) -> int:
        """A CPU byte read of window offset ``addr``.  The planar case (VBE off, neither
        chain 4 nor odd/even: a planar program's latch load, once per pixel) is decoded
        here in one frame; everything else is :meth:`_readb_general`."""
        s = self.state
        gr = s.gr
        if (not s.vbe_regs[VBE_DISPI_INDEX_ENABLE] & VBE_DISPI_ENABLED
                and not s.sr[SR_MEMORY_MODE] & 0x08 and not gr[GR_MODE] & 0x10):
            a = addr & 0x1FFFF
            mm = (gr[GR_MISC] >> 2) & 3
            if mm == 1:
                if a >= 0x10000:
                    return 0xFF
                a += s.bank_offset
            elif mm:
                a -= 0x10000 if mm == 2 else 0x18000
                if not 0 <= a < 0x8000:
                    return 0xFF
            if self._wrap_64k:
                a &= 0xFFFF
            if a >= self._dwords:
                return 0xFF
            latch = s.latch = self._d[a]
            if gr[GR_MODE] & 0x08:
                return self._compare(latch)
            return (latch >> ((gr[GR_PLANE_READ] & 3) << 3)) & 0xFF
        return self._readb_general(addr)

    def _readb_general(self, addr: int) -> int:
        s = self.state
        a = self._window_offset(addr)
        if a < 0:
            return 0xFF
        sr = s.sr_active()
        gr = s.gr
        # Bochs VBE has no hardware to follow: with VBE on, QEMU's behaviour is the model.
        vbe = s.vbe_enabled()
        if self._wrap_64k and not vbe:
            a &= 0xFFFF
        gc = self._gc_packed and not vbe
        if sr[SR_MEMORY_MODE] & 0x08:  # chain 4
            if a >= self.vram_size:
                return 0xFF
            if not gc:
                return self._b[a]
            s.latch = self._d[a >> 2]
            if gr[GR_MODE] & 0x08:
                return self._compare(s.latch)
            return self._b[a]
        if gr[GR_MODE] & 0x10:  # odd/even (host reads follow GR5 bit 4 on hardware too)
            plane = (gr[GR_PLANE_READ] & 2) | (a & 1)
            idx = ((a & ~1) << 1) | plane
            if idx >= self.vram_size:
                return 0xFF
            if not gc:
                return self._b[idx]
            s.latch = self._d[idx >> 2]
            if gr[GR_MODE] & 0x08:
                return self._compare(s.latch)
            return self._b[idx]
        if a * 4 >= self.vram_size:
            return 0xFF
        latch = s.latch = self._d[a]
        if gr[GR_MODE] & 0x08:
            return self._compare(latch)
        return (latch >> ((gr[GR_PLANE_READ] & 3) << 3)) & 0xFF

    # ------------------------------------------------------------------ write
    def _gc_value(self, val: int) -> int:
        """The 32-bit value the graphics controller drives to the four planes for a CPU
        byte ``val`` (write modes 0-3, rotate, set/reset, logical op, bit mask)."""
        s = self.state
        gr = s.gr
        latch = s.latch
        mode = gr[GR_MODE] & 3
        if mode == 1:
            return latch
        if mode == 0:
            b = gr[GR_DATA_ROTATE] & 7
            val = ((val >> b) | (val << (8 - b))) & 0xFF
            v = val * 0x01010101
            sre = MASK16[gr[GR_SR_ENABLE] & 15]
            v = (v & ~sre & _ALL) | (MASK16[gr[GR_SR_VALUE] & 15] & sre)
            bit_mask = gr[GR_BIT_MASK]
        elif mode == 2:
            v = MASK16[val & 15]
            bit_mask = gr[GR_BIT_MASK]
        else:
            b = gr[GR_DATA_ROTATE] & 7
            val = ((val >> b) | (val << (8 - b))) & 0xFF
            bit_mask = gr[GR_BIT_MASK] & val
            v = MASK16[gr[GR_SR_VALUE] & 15]
        func = (gr[GR_DATA_ROTATE] >> 3) & 3
        if func == 1:
            v &= latch
        elif func == 2:
            v |= latch
        elif func == 3:
            v ^= latch
        bm = bit_mask * 0x01010101
        return (v & bm) | (latch & ~bm & _ALL)

    def _write_planes(self, off: int, value: int, plane_mask: int, qemu: bool = False) -> None:
        """Write the enabled planes of planar address ``off``. ``qemu``: QEMU's planar path
        marks the dword dirty even when the map mask enables no plane (vga_mem_writeb), so
        the display redraws those lines."""
        s = self.state
        s.plane_updated |= plane_mask
        if off * 4 >= self.vram_size or not (plane_mask or qemu):
            return
        wm = MASK16[plane_mask]
        d = self._d
        d[off] = (d[off] & ~wm & _ALL) | (value & wm)
        self.set_dirty(off << 2, 4)

    def writeb(self, addr: int, val: int) -> None:
        """A CPU byte write to window offset ``addr``.  The planar case (VBE off, neither
        chain 4 nor odd/even addressing: set/reset fills, bit-mask pixels, the BIOS's
        glyphs) and, under the hardware policy, the odd/even case (every store of a text
        or CGA program) run here in one frame -- the window decode, :meth:`_gc_value` and
        :meth:`_write_planes` inline, the page marked through the cached dirty setter;
        everything else is :meth:`_writeb_general`."""
        s = self.state
        gr = s.gr
        sr = s.sr
        mem = sr[SR_MEMORY_MODE]
        if (not s.vbe_regs[VBE_DISPI_INDEX_ENABLE] & VBE_DISPI_ENABLED and not mem & 0x08
                and ((mem & 0x04 or self._fast_odd_even) if self._odd_even_map_mask
                     else not gr[GR_MODE] & 0x10)):
            a = addr & 0x1FFFF
            mm = (gr[GR_MISC] >> 2) & 3
            if mm == 1:
                if a >= 0x10000:
                    return
                a += s.bank_offset
            elif mm:
                a -= 0x10000 if mm == 2 else 0x18000
                if not 0 <= a < 0x8000:
                    return
            if self._wrap_64k:
                a &= 0xFFFF
            # the graphics controller (_gc_value)
            latch = s.latch
            mode = gr[GR_MODE] & 3
            if mode == 1:
                v = latch
            else:
                if mode == 2:
                    v = MASK16[val & 15]
                    bm = gr[GR_BIT_MASK]
                else:
                    b = gr[GR_DATA_ROTATE] & 7
                    val &= 0xFF
                    val = ((val >> b) | (val << (8 - b))) & 0xFF
                    if mode == 0:
                        sre = MASK16[gr[GR_SR_ENABLE] & 15]
                        v = (val * 0x01010101 & ~sre & _ALL) | (MASK16[gr[GR_SR_VALUE] & 15] & sre)
                        bm = gr[GR_BIT_MASK]
                    else:
                        v = MASK16[gr[GR_SR_VALUE] & 15]
                        bm = gr[GR_BIT_MASK] & val
                func = (gr[GR_DATA_ROTATE] >> 3) & 3
                if func == 1:
                    v &= latch
                elif func == 2:
                    v |= latch
                elif func == 3:
                    v ^= latch
                bm *= 0x01010101
                v = (v & bm) | (latch & ~bm & _ALL)
            # the map mask (_write_planes)
            pm = sr[SR_PLANE_WRITE] & 15
            mark_unwritten = self._mark_unwritten
            if not mem & 0x04 and self._odd_even_map_mask:
                # odd/even: even addresses to planes 0+2, odd to 1+3, of dword a >> 1
                pm &= 0xA if a & 1 else 0x5
                a >>= 1
                mark_unwritten = False
            s.plane_updated |= pm
            if a < self._dwords and (pm or mark_unwritten):
                d = self._d
                if pm == 15:
                    d[a] = v
                else:
                    wm = MASK16[pm]
                    d[a] = (d[a] & ~wm & _ALL) | (v & wm)
                self.set_dirty(a << 2, 4)
            return
        self._writeb_general(addr, val)

    def _writeb_general(self, addr: int, val: int) -> None:
        s = self.state
        a = self._window_offset(addr)
        if a < 0:
            return
        val &= 0xFF
        sr = s.sr_active()
        gr = s.gr
        vbe = s.vbe_enabled()
        if self._wrap_64k and not vbe:
            a &= 0xFFFF
        gc = self._gc_packed and not vbe
        if sr[SR_MEMORY_MODE] & 0x08:  # chain 4: address bits 0-1 select the plane
            if gc:
                self._write_planes(a >> 2, self._gc_value(val), sr[SR_PLANE_WRITE] & (1 << (a & 3)))
                return
            mask = 1 << (a & 3)
            if sr[SR_PLANE_WRITE] & mask and a < self.vram_size:
                self._b[a] = val
                s.plane_updated |= mask
                self.set_dirty(a, 1)
            return
        if self._odd_even_map_mask and not vbe:
            if not sr[SR_MEMORY_MODE] & 0x04:  # odd/even host write addressing: planes 0+2 or 1+3
                planes = 0x5 if not a & 1 else 0xA
                value = self._gc_value(val) if gc else val * 0x01010101
                self._write_planes((a & ~1) >> 1, value, sr[SR_PLANE_WRITE] & planes)
                return
        elif gr[GR_MODE] & 0x10:  # QEMU: odd/even by GR5 bit 4, one plane by GR4 bit 1 and A0
            plane = (gr[GR_PLANE_READ] & 2) | (a & 1)
            mask = 1 << plane
            if gc:
                self._write_planes((a & ~1) >> 1, self._gc_value(val), sr[SR_PLANE_WRITE] & mask)
                return
            if sr[SR_PLANE_WRITE] & mask:
                idx = ((a & ~1) << 1) | plane
                if idx < self.vram_size:
                    self._b[idx] = val
                    s.plane_updated |= mask
                    self.set_dirty(idx, 1)
            return
        self._write_planes(a, self._gc_value(val), sr[SR_PLANE_WRITE] & 15,
                           qemu=vbe or self._mark_unwritten)

    # ------------------------------------------------------------------ MemoryRegionOps
    def read(self, offset: int, size: int) -> int:
        """``io`` region read callback: little-endian, one VGA byte access per byte."""
        if size == 1:
            return self.readb(offset)
        if size == 2 and not offset & 1:
            v = self._read_text_cell(offset)
            if v is not None:
                return v
        v = 0
        for i in range(size):
            v |= self.readb(offset + i) << (8 * i)
        return v

    def write(self, offset: int, value: int, size: int) -> None:
        """``io`` region write callback: the bytes in address order."""
        if size == 1:
            self.writeb(offset, value)
            return
        if size == 2:
            if not offset & 1 and self._fast_odd_even and self._write_text_cell(offset, value):
                return
            self.writeb(offset, value & 0xFF)
            self.writeb(offset + 1, (value >> 8) & 0xFF)
            return
        self._write_bytes(offset, [(value >> (8 * i)) & 0xFF for i in range(size)])

    def _read_text_cell(self, offset: int) -> int | None:
        """A word load at an even address under odd/even reads (GR5 bit 4) in read mode 0
        with VBE off and no chain 4: both bytes come from one dword, planes p and p+1 (p =
        GR4 bit 1), and both loads leave the latches at that dword -- the two byte reads
        in one.  None (nothing done) in any other state."""
        s = self.state
        gr = s.gr
        if ((gr[GR_MODE] & 0x18) != 0x10 or s.sr[SR_MEMORY_MODE] & 0x08
                or s.vbe_regs[VBE_DISPI_INDEX_ENABLE] & VBE_DISPI_ENABLED):
            return None
        a = self._window_offset(offset)   # the cell's two bytes are in the same window
        if a < 0:
            return 0xFFFF
        if self._wrap_64k:
            a &= 0xFFFF
        idx = (a << 1) | (gr[GR_PLANE_READ] & 2)
        if idx >= self.vram_size:
            return 0xFFFF
        if self._gc_packed:
            s.latch = self._d[idx >> 2]
        b = self._b
        return b[idx] | b[idx + 1] << 8

    def _write_text_cell(self, offset: int, value: int) -> bool:
        """A word store at an even address under odd/even addressing with the graphics
        controller passing CPU data through (write mode 0, no rotate, logical operation or
        set/reset, bit mask FFh: every text mode as the BIOS sets it): the character byte
        goes to planes 0+2 and the attribute byte to planes 1+3 of one dword -- what the
        two byte writes do, in one update and one dirty mark.  False (nothing done) in any
        other state."""
        s = self.state
        sr = s.sr
        gr = s.gr
        if (sr[SR_MEMORY_MODE] & 0x0C or s.vbe_regs[VBE_DISPI_INDEX_ENABLE] & VBE_DISPI_ENABLED
                or gr[GR_MODE] & 3 or gr[GR_DATA_ROTATE] or gr[GR_SR_ENABLE] & 15
                or gr[GR_BIT_MASK] != 0xFF):
            return False
        a = self._window_offset(offset)   # the cell's two bytes are in the same window
        if a < 0:
            return True
        if self._wrap_64k:
            a &= 0xFFFF
        pm = sr[SR_PLANE_WRITE] & 15
        s.plane_updated |= pm
        a >>= 1
        if a < self._dwords and pm:
            v = (value & 0xFF) * 0x00010001 | ((value >> 8) & 0xFF) * 0x01000100
            wm = MASK16[pm]
            d = self._d
            d[a] = (d[a] & ~wm & _ALL) | (v & wm)
            self.set_dirty(a << 2, 4)
        return True

    # ------------------------------------------------------------------ block access
    # MemoryRegionOps.read_block / write_block: what a run of byte accesses in address order
    # does, computed with numpy. Within a block nothing the graphics controller depends on
    # changes between bytes: registers are only written through ports, and the latches
    # only load on reads -- so every byte of a block write goes through the same function
    # of its value (a 256-entry table), and a block read is elementwise with the latches
    # left as the last byte that loaded them.

    def _span(self, offset: int, n: int) -> tuple[int, int, int] | None:
        """The part of window offsets [offset, offset + n) that GR6 maps: (index of its
        first byte in the block, its length, the VGA memory offset of that byte), or None.
        The mapped part of a contiguous run is contiguous (one window per map setting)."""
        s = self.state
        mm = (s.gr[GR_MISC] >> 2) & 3
        if mm == 0:
            wlo, whi, delta = 0, 0x20000, 0
        elif mm == 1:
            wlo, whi, delta = 0, 0x10000, s.bank_offset
        else:
            wlo = 0x10000 if mm == 2 else 0x18000
            whi, delta = wlo + 0x8000, -wlo
        lo, hi = max(offset, wlo), min(offset + n, whi)
        if lo >= hi:
            return None
        return lo - offset, hi - lo, lo + delta

    def _check_block(self, what: str, offset: int, n: int) -> None:
        if not (0 <= offset and 0 <= n and offset + n <= LEGACY_SIZE):
            raise MemoryAccessError(f"VGA window {what} at offset {offset:#x}+{n:#x}: expected a "
                                    f"range inside 0..{LEGACY_SIZE:#x}")

    def _gc_table(self) -> np.ndarray:
        """:meth:`_gc_value` of all 256 CPU bytes (uint32), for the current graphics
        controller registers and latches (cached until they change)."""
        s = self.state
        gr = s.gr
        key = (gr[GR_SR_VALUE], gr[GR_SR_ENABLE], gr[GR_DATA_ROTATE], gr[GR_MODE] & 3, gr[GR_BIT_MASK], s.latch)
        if key == self._gc_key:
            return self._gc_tab
        latch = np.uint32(s.latch)
        mode = gr[GR_MODE] & 3
        if mode == 1:
            tab = np.full(256, latch, dtype=np.uint32)
        else:
            v = _BYTE_VALUES
            rot = None
            if mode != 2:
                b = gr[GR_DATA_ROTATE] & 7
                rot = ((v >> np.uint32(b)) | (v << np.uint32(8 - b))) & np.uint32(0xFF)
            if mode == 0:
                sre = np.uint32(MASK16[gr[GR_SR_ENABLE] & 15])
                v32 = (rot * np.uint32(0x01010101) & ~sre) | np.uint32(MASK16[gr[GR_SR_VALUE] & 15] & sre)
                bm = np.uint32(gr[GR_BIT_MASK])
            elif mode == 2:
                v32 = _MASK16_U32[v & np.uint32(15)]
                bm = np.uint32(gr[GR_BIT_MASK])
            else:
                v32 = np.full(256, MASK16[gr[GR_SR_VALUE] & 15], dtype=np.uint32)
                bm = np.uint32(gr[GR_BIT_MASK]) & rot
            func = (gr[GR_DATA_ROTATE] >> 3) & 3
            if func == 1:
                v32 = v32 & latch
            elif func == 2:
                v32 = v32 | latch
            elif func == 3:
                v32 = v32 ^ latch
            bm = bm * np.uint32(0x01010101)
            tab = (v32 & bm) | (latch & ~bm)
        tab = np.ascontiguousarray(tab, dtype="<u4")
        self._gc_key, self._gc_tab = key, tab
        return tab

    def _mark(self, lo: int, hi: int) -> None:
        """Mark VRAM bytes [lo, hi) dirty, clipped to VRAM (one call per block segment)."""
        hi = min(hi, self.vram_size)
        if hi > lo:
            self.set_dirty(lo, hi - lo)

    def write_block(self, offset: int, data) -> None:
        """``io`` region block write: the same VRAM, latches, plane_updated and dirty pages
        as ``len(data)`` byte writes in address order (see MemoryRegionOps.write_block)."""
        data = np.asarray(data, dtype=np.uint8).reshape(-1)
        n = data.shape[0]
        self._check_block("write", offset, n)
        if n < BLOCK_MIN:
            self._write_bytes(offset, data.tolist())
            return
        span = self._span(offset, n)
        if span is None:
            return
        i0, m, a0 = span
        vals = data[i0:i0 + m]
        s = self.state
        vbe = s.vbe_enabled()
        if vbe or self._all_qemu:
            self._write_qemu(a0, vals, mark_unwritten=vbe or self._mark_unwritten)
            return
        if not self._all_hw:
            # A policy mixing the planar rows: the per-byte path implements every mix.
            self._write_bytes(offset + i0, vals.tolist())
            return
        # Hardware: each plane is 64 KiB, so window addresses wrap at 64K; a wrapped part
        # rewrites what the earlier part wrote, so the pieces go in address order.
        j = 0
        while j < m:
            a = (a0 + j) & 0xFFFF
            k = min(m - j, 0x10000 - a)
            self._write_hw(a, vals[j:j + k])
            j += k

    def _write_bytes(self, offset: int, vals: list[int]) -> None:
        """Per-byte writes in address order (each marks its dword through the cached dirty
        setter, so a run on one page costs one real mark)."""
        writeb = self.writeb
        for i, v in enumerate(vals):
            writeb(offset + i, v)

    def _write_hw(self, a: int, vals: np.ndarray) -> None:
        """Hardware path for window addresses [a, a + k) inside one 64 KiB plane window."""
        s = self.state
        sr = s.sr_active()
        sr2 = sr[SR_PLANE_WRITE] & 15
        k = vals.shape[0]
        V = self._gc_table()[vals]
        if sr[SR_MEMORY_MODE] & 0x08:  # chain 4: byte a goes to plane a & 3 of dword a >> 2: VRAM byte a
            present = 15 if k >= 4 else _lanes_present(a, a + k)
            s.plane_updated |= sr2 & present
            end = min(a + k, self.vram_size)
            touched = _first_last(a, end, sr2)
            if touched is None:
                return
            lane = V.view(np.uint8).reshape(k, 4)
            rows = np.arange(end - a)
            new = lane[rows, (rows + a) & 3]
            dst = self._np[a:end]
            if sr2 == 15:
                dst[...] = new
            else:
                en = ((sr2 >> ((rows + a) & 3)) & 1).astype(bool)
                np.copyto(dst, new, where=en)
            self._mark(touched[0] & ~3, (touched[1] | 3) + 1)
        elif not sr[SR_MEMORY_MODE] & 0x04:  # odd/even: even bytes planes 0+2, odd bytes 1+3 of a >> 1
            pe, po = sr2 & 0x5, sr2 & 0xA
            e0 = a & 1  # index of the first even address in vals
            has_e, has_o = e0 < k, (1 - e0) < k
            s.plane_updated |= (pe if has_e else 0) | (po if has_o else 0)
            d0, d1 = a >> 1, ((a + k - 1) >> 1) + 1
            dend = min(d1, self.vram_size >> 2)
            if dend <= d0 or not (pe and has_e or po and has_o):
                return
            blk = self._np[4 * d0:4 * dend].reshape(-1, 4)
            nd = dend - d0
            Vb = V.view(np.uint8).reshape(k, 4)
            first = last = None
            for par, lanes_on, idx0 in ((0, pe, e0), (1, po, 1 - e0)):
                if not lanes_on or idx0 >= k:
                    continue
                src = Vb[idx0::2]
                r0 = ((a + idx0) >> 1) - d0  # the dword of the first such address
                cnt = min(src.shape[0], nd - r0)
                if cnt <= 0:
                    continue
                for lane in (par, par + 2):
                    if lanes_on & (1 << lane):
                        blk[r0:r0 + cnt, lane] = src[:cnt, lane]
                first = r0 if first is None else min(first, r0)
                last = r0 + cnt - 1 if last is None else max(last, r0 + cnt - 1)
            if first is not None:
                self._mark(4 * (d0 + first), 4 * (d0 + last + 1))
        else:
            self._write_planar(a, V, sr2, qemu=self._mark_unwritten)

    def _write_planar(self, a: int, V: np.ndarray, pm: int, qemu: bool = False) -> None:
        """Planar write of dwords [a, a + len(V)) under plane mask ``pm`` (``qemu``: marked
        dirty even with no plane enabled, as :meth:`_write_planes`)."""
        s = self.state
        s.plane_updated |= pm
        end = min(a + V.shape[0], self.vram_size >> 2)
        if end <= a:
            return
        if not pm:
            if qemu:
                self._mark(4 * a, 4 * end)
            return
        d = self._np_d[a:end]
        V = V[:end - a]
        if pm == 15:
            d[...] = V
        else:
            wm = np.uint32(MASK16[pm])
            d[...] = (d & ~wm) | (V & wm)
        self._mark(4 * a, 4 * end)

    def _write_qemu(self, a: int, vals: np.ndarray, mark_unwritten: bool = True) -> None:
        """QEMU 7.2's vga_mem_writeb (and the hardware-less VBE case) for [a, a + k)."""
        s = self.state
        sr = s.sr_active()
        gr = s.gr
        sr2 = sr[SR_PLANE_WRITE] & 15
        k = vals.shape[0]
        size = self.vram_size
        if sr[SR_MEMORY_MODE] & 0x08:
            end = min(a + k, size)
            touched = _first_last(a, end, sr2)
            if touched is None:
                return
            # plane_updated: the planes actually written (enabled and inside VRAM)
            s.plane_updated |= sr2 & (15 if end - a >= 4 else _lanes_present(a, end))
            dst = self._np[a:end]
            src = vals[:end - a]
            if sr2 == 15:
                dst[...] = src
            else:
                en = ((sr2 >> (np.arange(a, end) & 3)) & 1).astype(bool)
                np.copyto(dst, src, where=en)
            self._mark(touched[0], touched[1] + 1)
        elif gr[GR_MODE] & 0x10:
            first = last = None
            for par in (0, 1):
                i0 = (a + par) & 1  # index of the first address with parity ``par``
                if i0 >= k:
                    continue
                plane = (gr[GR_PLANE_READ] & 2) | par
                if not sr2 & (1 << plane):
                    continue
                x0 = a + i0
                src = vals[i0::2]
                idx0 = ((x0 & ~1) << 1) | plane  # consecutive same-parity bytes: +4 each
                cnt = min(src.shape[0], max(0, (size - 1 - idx0) // 4 + 1))
                if cnt <= 0:
                    continue
                self._np[idx0:idx0 + 4 * cnt:4] = src[:cnt]
                s.plane_updated |= 1 << plane
                lo, hi = idx0, idx0 + 4 * (cnt - 1)
                first = lo if first is None else min(first, lo)
                last = hi if last is None else max(last, hi)
            if first is not None:
                self._mark(first, last + 1)
        else:
            self._write_planar(a, self._gc_table()[vals], sr2, qemu=mark_unwritten)

    def read_block(self, offset: int, n: int) -> np.ndarray:
        """``io`` region block read: ``n`` bytes as ``n`` byte reads in address order would
        return them; the latches end as the last byte that loaded them left them."""
        self._check_block("read", offset, n)
        if n < BLOCK_MIN:
            return np.array([self.readb(offset + i) for i in range(n)], dtype=np.uint8)
        out = np.full(n, 0xFF, dtype=np.uint8)
        span = self._span(offset, n)
        if span is None:
            return out
        i0, m, a0 = span
        s = self.state
        sr = s.sr_active()
        gr = s.gr
        vbe = s.vbe_enabled()
        gc = self._gc_packed and not vbe
        A = np.arange(a0, a0 + m, dtype=np.int64)
        if self._wrap_64k and not vbe:
            A &= 0xFFFF
        size = self.vram_size
        if sr[SR_MEMORY_MODE] & 0x08:
            idx = A
        elif gr[GR_MODE] & 0x10:
            idx = ((A & ~1) << 1) | ((gr[GR_PLANE_READ] & 2) | (A & 1))
        else:
            idx = None  # planar: dword A
        if idx is not None:
            ok = idx < size
            if not gc:
                res = self._np[np.where(ok, idx, 0)]
            else:
                L = self._np_d[np.where(ok, idx >> 2, 0)]
                if gr[GR_MODE] & 0x08:
                    res = _compare_block(L, gr)
                else:
                    res = self._np[np.where(ok, idx, 0)]
                self._load_latch(L, ok)
        else:
            ok = A < (size >> 2)
            L = self._np_d[np.where(ok, A, 0)]
            if gr[GR_MODE] & 0x08:
                res = _compare_block(L, gr)
            else:
                res = ((L >> np.uint32((gr[GR_PLANE_READ] & 3) << 3)) & np.uint32(0xFF)).astype(np.uint8)
            self._load_latch(L, ok)
        out[i0:i0 + m] = np.where(ok, res, 0xFF)
        return out

    def _load_latch(self, L: np.ndarray, ok: np.ndarray) -> None:
        if ok[-1]:
            self.state.latch = int(L[-1])
            return
        hit = np.flatnonzero(ok)
        if hit.size:
            self.state.latch = int(L[hit[-1]])

    # ------------------------------------------------------------------ chain-4 alias
    def chain4_window(self) -> Chain4Window | None:
        """Where a plain alias of VRAM gives the same result as :meth:`readb`/:meth:`writeb`
        (QEMU's vga_update_memory_access), or None.

        QEMU maps the alias whenever chain 4 is on and all four planes are enabled. On
        the hardware path the graphics controller must also be transparent (write mode 0,
        read mode 0, no rotate/logical op/set-reset, bit mask 0xFF) and the 64 KiB wrap
        must not matter; reads through the alias do not load the latches (as in QEMU).
        """
        s = self.state
        sr = s.sr_active()
        if (sr[SR_PLANE_WRITE] & 15) != 15 or not sr[SR_MEMORY_MODE] & 0x08:
            return None
        mm = (s.gr[GR_MISC] >> 2) & 3
        vbe = s.vbe_enabled()
        if self._gc_packed and not vbe:
            gr = s.gr
            if gr[GR_MODE] & 0x0B or gr[GR_DATA_ROTATE] & 0x1F or gr[GR_SR_ENABLE] & 15 or gr[GR_BIT_MASK] != 0xFF:
                return None
        if self._wrap_64k and not vbe and (mm == 0 or s.bank_offset):
            return None
        start, size = MEMORY_MAPS[mm]
        offset = s.bank_offset if mm == 1 else 0
        if offset + size > self.vram_size:
            return None
        return Chain4Window(LEGACY_BASE + start, offset, size)


def _lanes_present(lo: int, hi: int) -> int:
    """Bit (x & 3) set for every x in [lo, hi)."""
    out = 0
    for x in range(lo, min(hi, lo + 4)):
        out |= 1 << (x & 3)
    return out


def _first_last(lo: int, hi: int, lanes: int) -> tuple[int, int] | None:
    """First and last x in [lo, hi) whose plane (x & 3) is in ``lanes``, or None."""
    first = next((x for x in range(lo, min(hi, lo + 4)) if lanes >> (x & 3) & 1), None)
    if first is None:
        return None
    last = next(x for x in range(hi - 1, max(lo, hi - 4) - 1, -1) if lanes >> (x & 3) & 1)
    return first, last


def _compare_block(L: np.ndarray, gr) -> np.ndarray:
    """Read mode 1 colour compare of many latch values (:meth:`PlanarMemory._compare`)."""
    x = (L ^ np.uint32(MASK16[gr[GR_COMPARE_VALUE] & 15])) & np.uint32(MASK16[gr[GR_COMPARE_MASK] & 15])
    x |= x >> np.uint32(16)
    x |= x >> np.uint32(8)
    return (~x & np.uint32(0xFF)).astype(np.uint8)
