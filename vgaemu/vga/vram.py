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

By default the hardware is followed; ``qemu_compat=True`` reproduces QEMU 7.2 where it
differs (see :data:`QEMU_DIFFERENCES`). While Bochs VBE is enabled there is no hardware to
follow and QEMU's behaviour is the model in both modes.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

from vgaemu.vga.state import VGAState

#: Byte value replicated into the planes whose bit is set in a 4-bit mask (QEMU's mask16).
MASK16 = tuple(sum(0xFF << (8 * p) for p in range(4) if n & (1 << p)) for n in range(16))
_ALL = 0xFFFFFFFF

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
        qemu_compat: bool = False,
    ) -> None:
        self.state = state
        self.qemu_compat = qemu_compat
        self.set_dirty = set_dirty if set_dirty is not None else (lambda addr, size: None)
        self._b = memoryview(state.vram).cast("B")
        size = len(self._b)
        if size % 4:
            raise ValueError(f"VRAM size {size} is not a multiple of 4")
        self._d = self._b.cast("I")
        self.vram_size = size

    # ------------------------------------------------------------------ address decode
    def _window_offset(self, addr: int) -> int:
        """Window offset -> VGA memory offset, or -1 when GR6 does not map it."""
        s = self.state
        addr &= 0x1FFFF
        mm = (s.gr[6] >> 2) & 3
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
        ret = (latch ^ MASK16[gr[2] & 15]) & MASK16[gr[7] & 15]
        ret |= ret >> 16
        ret |= ret >> 8
        return ~ret & 0xFF

    def readb(self, addr: int) -> int:
        s = self.state
        a = self._window_offset(addr)
        if a < 0:
            return 0xFF
        sr = s.sr_active()
        gr = s.gr
        # Bochs VBE has no hardware to follow: with VBE on, QEMU's behaviour is the model.
        hw = not (self.qemu_compat or s.vbe_enabled())
        if hw:
            a &= 0xFFFF
        if sr[4] & 0x08:  # chain 4
            if a >= self.vram_size:
                return 0xFF
            if not hw:
                return self._b[a]
            s.latch = self._d[a >> 2]
            if gr[5] & 0x08:
                return self._compare(s.latch)
            return self._b[a]
        if gr[5] & 0x10:  # odd/even (host reads follow GR5 bit 4 on hardware too)
            plane = (gr[4] & 2) | (a & 1)
            idx = ((a & ~1) << 1) | plane
            if idx >= self.vram_size:
                return 0xFF
            if not hw:
                return self._b[idx]
            s.latch = self._d[idx >> 2]
            if gr[5] & 0x08:
                return self._compare(s.latch)
            return self._b[idx]
        if a * 4 >= self.vram_size:
            return 0xFF
        latch = s.latch = self._d[a]
        if gr[5] & 0x08:
            return self._compare(latch)
        return (latch >> ((gr[4] & 3) << 3)) & 0xFF

    # ------------------------------------------------------------------ write
    def _gc_value(self, val: int) -> int:
        """The 32-bit value the graphics controller drives to the four planes for a CPU
        byte ``val`` (write modes 0-3, rotate, set/reset, logical op, bit mask)."""
        s = self.state
        gr = s.gr
        latch = s.latch
        mode = gr[5] & 3
        if mode == 1:
            return latch
        if mode == 0:
            b = gr[3] & 7
            val = ((val >> b) | (val << (8 - b))) & 0xFF
            v = val * 0x01010101
            sre = MASK16[gr[1] & 15]
            v = (v & ~sre & _ALL) | (MASK16[gr[0] & 15] & sre)
            bit_mask = gr[8]
        elif mode == 2:
            v = MASK16[val & 15]
            bit_mask = gr[8]
        else:
            b = gr[3] & 7
            val = ((val >> b) | (val << (8 - b))) & 0xFF
            bit_mask = gr[8] & val
            v = MASK16[gr[0] & 15]
        func = (gr[3] >> 3) & 3
        if func == 1:
            v &= latch
        elif func == 2:
            v |= latch
        elif func == 3:
            v ^= latch
        bm = bit_mask * 0x01010101
        return (v & bm) | (latch & ~bm & _ALL)

    def _write_planes(self, off: int, value: int, plane_mask: int) -> None:
        s = self.state
        s.plane_updated |= plane_mask
        if off * 4 >= self.vram_size or not plane_mask:
            return
        wm = MASK16[plane_mask]
        d = self._d
        d[off] = (d[off] & ~wm & _ALL) | (value & wm)
        self.set_dirty(off << 2, 4)

    def writeb(self, addr: int, val: int) -> None:
        s = self.state
        a = self._window_offset(addr)
        if a < 0:
            return
        val &= 0xFF
        sr = s.sr_active()
        gr = s.gr
        if self.qemu_compat or s.vbe_enabled():
            if sr[4] & 0x08:
                mask = 1 << (a & 3)
                if sr[2] & mask and a < self.vram_size:
                    self._b[a] = val
                    s.plane_updated |= mask
                    self.set_dirty(a, 1)
            elif gr[5] & 0x10:
                plane = (gr[4] & 2) | (a & 1)
                mask = 1 << plane
                if sr[2] & mask:
                    idx = ((a & ~1) << 1) | plane
                    if idx < self.vram_size:
                        self._b[idx] = val
                        s.plane_updated |= mask
                        self.set_dirty(idx, 1)
            else:
                self._write_planes(a, self._gc_value(val), sr[2] & 15)
            return
        a &= 0xFFFF
        if sr[4] & 0x08:  # chain 4: address bits 0-1 select the plane
            self._write_planes(a >> 2, self._gc_value(val), sr[2] & (1 << (a & 3)))
        elif not sr[4] & 0x04:  # odd/even host write addressing
            planes = 0x5 if not a & 1 else 0xA
            self._write_planes((a & ~1) >> 1, self._gc_value(val), sr[2] & planes)
        else:
            self._write_planes(a, self._gc_value(val), sr[2] & 15)

    # ------------------------------------------------------------------ MemoryRegionOps
    def read(self, offset: int, size: int) -> int:
        """``io`` region read callback: little-endian, one VGA byte access per byte."""
        if size == 1:
            return self.readb(offset)
        v = 0
        for i in range(size):
            v |= self.readb(offset + i) << (8 * i)
        return v

    def write(self, offset: int, value: int, size: int) -> None:
        """``io`` region write callback: the bytes in address order; the VRAM range they
        touched is marked dirty once (marking costs more than the byte write)."""
        if size == 1:
            self.writeb(offset, value)
            return
        touched: list[int] = []
        real = self.set_dirty
        self.set_dirty = lambda addr, n: touched.extend((addr, addr + n))
        try:
            for i in range(size):
                self.writeb(offset + i, value >> (8 * i))
        finally:
            self.set_dirty = real
        if touched:
            lo, hi = min(touched), max(touched)
            real(lo, hi - lo)

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
        if (sr[2] & 15) != 15 or not sr[4] & 0x08:
            return None
        mm = (s.gr[6] >> 2) & 3
        if not (self.qemu_compat or s.vbe_enabled()):
            gr = s.gr
            if gr[5] & 0x0B or gr[3] & 0x1F or gr[1] & 15 or gr[8] != 0xFF:
                return None
            if mm == 0 or s.bank_offset:
                return None
        start, size = MEMORY_MAPS[mm]
        offset = s.bank_offset if mm == 1 else 0
        if offset + size > self.vram_size:
            return None
        return Chain4Window(LEGACY_BASE + start, offset, size)
