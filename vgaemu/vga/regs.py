"""VGA I/O ports 0x3B0-0x3DF and the Bochs VBE ports 0x1CE/0x1CF.

Semantics per register group follow the IBM VGA / FreeVGA register descriptions and QEMU's
vga_ioport_read/vga_ioport_write (hw/display/vga.c), with QEMU's write masks (sr_mask,
gr_mask, attribute masks). Misc output bit 0 selects the colour (0x3Dx) or mono (0x3Bx)
CRTC and input status 1 ports; the other set reads 0xFF and ignores writes.

The machine registers the same port ranges QEMU does (region "vga" at 0x3B4-0x3B5, 0x3BA,
0x3C0-0x3CF, 0x3D4-0x3D5, 0x3DA; region "vbe" at 0x1CE-0x1D1); other ports in 0x3B0-0x3DF are
unassigned and read all-ones, like an empty ISA bus.

Where QEMU 7.2 differs from the hardware in something a guest can observe, the machine's
:class:`~vgaemu.compat.Compat` policy chooses (see :data:`QEMU_DIFFERENCES`).
"""

from __future__ import annotations

from collections.abc import Callable

from vgaemu.clock import FRAME_NS, VirtualClock
from vgaemu.compat import Compat
from vgaemu.vga.state import (
    CR_H_DISP,
    CR_H_TOTAL,
    CR_OVERFLOW,
    CR_V_DISP_END,
    CR_V_SYNC_END,
    CR_V_SYNC_START,
    CR_V_TOTAL,
    VBE_DISPI_ENABLED,
    VBE_DISPI_INDEX_ENABLE,
    VBE_DISPI_IOPORT_INDEX,
    VGAState,
)
from vgaemu.vga.vbe import BochsVBE

# Port numbers (QEMU vga_regs.h names).
VGA_CRT_IM, VGA_CRT_DM, VGA_IS1_RM = 0x3B4, 0x3B5, 0x3BA
VGA_ATT_W, VGA_ATT_R, VGA_MIS_W = 0x3C0, 0x3C1, 0x3C2
VGA_SEQ_I, VGA_SEQ_D, VGA_PEL_MSK = 0x3C4, 0x3C5, 0x3C6
VGA_PEL_IR, VGA_PEL_IW, VGA_PEL_D = 0x3C7, 0x3C8, 0x3C9
VGA_FTC_R, VGA_MIS_R, VGA_GFX_I, VGA_GFX_D = 0x3CA, 0x3CC, 0x3CE, 0x3CF
VGA_CRT_IC, VGA_CRT_DC, VGA_IS1_RC = 0x3D4, 0x3D5, 0x3DA

#: The port ranges QEMU's vga_portio_list registers: (first port, count).
VGA_PORT_RANGES = ((0x3B4, 2), (0x3BA, 1), (0x3C0, 16), (0x3D4, 2), (0x3DA, 1))
VBE_PORT_BASE, VBE_PORT_COUNT = VBE_DISPI_IOPORT_INDEX, 4

#: Bits QEMU keeps on sequencer / graphics controller data writes (sr_mask, gr_mask).
SR_MASK = (0x03, 0x3D, 0x0F, 0x3F, 0x0E, 0x00, 0x00, 0xFF)
GR_MASK = (0x0F, 0x0F, 0x0F, 0x1F, 0x03, 0x7B, 0x0F, 0x0F, 0xFF) + (0,) * 7

ST01_DISP_ENABLE = 0x01  # "display enable" bit: set while the beam is in a blanking period
ST01_V_RETRACE = 0x08

#: Virtual time one status-register poll costs the guest: ~ an ISA I/O read plus the
#: polling loop. Bounds a "wait for retrace" loop to about FRAME_NS / 4 us polls.
STATUS_POLL_NS = 4_000

#: Hardware vs QEMU 7.2 differences in this module (README list; QEMU function that shows it).
QEMU_DIFFERENCES = (
    ("attribute controller index read (0x3C0) returns the index also while the flip-flop "
     "expects data; QEMU returns 0 then", "vga_ioport_read (VGA_ATT_W)"),
    ("PEL mask (0x3C6) is a read/write register; QEMU ignores writes and reads 0",
     "vga_ioport_read / vga_ioport_write (no VGA_PEL_MSK case)"),
    ("DAC data reads (0x3C9) return 6-bit values in 6-bit DAC mode; QEMU returns the "
     "8 bits written", "vga_ioport_read (VGA_PEL_D)"),
    ("input status 1 bits 0/3 follow a raster position on the virtual clock (vertical "
     "retrace, blanking); QEMU toggles both bits on every read", "vga_dumb_retrace"),
    ("16/32-bit OUT/IN to the byte-wide VGA ports is split into byte accesses to "
     "consecutive ports; QEMU drops 32-bit accesses (reads all-ones) and the high byte of "
     "a 16-bit access that leaves its port range", "portio_read / portio_write (ioport.c)"),
)


class VGARegisters:
    """Port-level register semantics over a :class:`VGAState` (no guestmem needed)."""

    def __init__(
        self,
        state: VGAState,
        *,
        vbe: BochsVBE | None = None,
        clock: VirtualClock | None = None,
        compat: Compat | None = None,
        memory_access_changed: Callable[[], None] | None = None,
    ) -> None:
        self.state = state
        self.vbe = vbe if vbe is not None else BochsVBE(state)
        self.clock = clock if clock is not None else VirtualClock()
        self.compat = compat if compat is not None else Compat.hardware()
        self.memory_access_changed = memory_access_changed or (lambda: None)
        #: Virtual time the guest spent polling status registers (added to the clock).
        self.poll_ns = 0

    def reset(self) -> None:
        """Power-on register state (QEMU vga_common_reset): everything zero, mono decode."""
        s = self.state
        s.sr_index = s.gr_index = s.ar_index = s.cr_index = 0
        for arr in (s.sr, s.sr_vbe, s.gr, s.ar, s.cr, s.dac_cache, s.palette):
            arr[:] = bytes(len(arr))
        s.ar_flip_flop = 0
        s.msr = s.fcr = s.st00 = s.st01 = 0
        s.dac_state = s.dac_sub_index = s.dac_read_index = s.dac_write_index = 0
        s.pel_mask = 0xFF
        s.latch = 0
        s.plane_updated = 0
        self.poll_ns = 0
        self.vbe.reset()

    # ------------------------------------------------------------------ decode
    def port_invalid(self, port: int) -> bool:
        """QEMU vga_ioport_invalid: the CRTC/status ports of the other (mono/colour) set."""
        if self.state.msr & 0x01:
            return 0x3B0 <= port <= 0x3BF
        return 0x3D0 <= port <= 0x3DF

    # ------------------------------------------------------------------ input status 1
    def _raster_status(self) -> int:
        """Bits 0 and 3 of input status 1 from the raster position at virtual time.

        The frame period is the machine's FRAME_NS; lines per frame, the display end and
        the vertical retrace come from the CRTC (CR6/CR7 vertical total, CR12 display end,
        CR10/CR11 retrace start/end), the horizontal blanking from CR0/CR1. A CRTC that is
        not programmed (e.g. at power-on) uses standard 640x480 timing so that polling
        guests still see retrace.
        """
        s = self.state
        cr = s.cr
        ov = cr[CR_OVERFLOW]
        vtotal = (cr[CR_V_TOTAL] | ((ov & 0x01) << 8) | ((ov & 0x20) << 4)) + 2
        vdisp = (cr[CR_V_DISP_END] | ((ov & 0x02) << 7) | ((ov & 0x40) << 3)) + 1
        vrs = cr[CR_V_SYNC_START] | ((ov & 0x04) << 6) | ((ov & 0x80) << 2)
        vrlen = ((cr[CR_V_SYNC_END] & 0x0F) - (vrs & 0x0F)) & 0x0F or 16
        htotal = cr[CR_H_TOTAL] + 5
        hdisp = cr[CR_H_DISP] + 1
        if vtotal < 16 or vdisp > vtotal or vrs >= vtotal or hdisp >= htotal:
            vtotal, vdisp, vrs, vrlen, htotal, hdisp = 525, 480, 490, 2, 100, 80
        t = (self.clock.now_ns + self.poll_ns) % FRAME_NS
        pos = t * vtotal * htotal // FRAME_NS
        line, char = divmod(pos, htotal)
        val = s.st01 & ~(ST01_V_RETRACE | ST01_DISP_ENABLE) & 0xFF
        if vrs <= line < vrs + vrlen:
            val |= ST01_V_RETRACE
        if line >= vdisp or char >= hdisp:
            val |= ST01_DISP_ENABLE
        return val

    def read_status1(self) -> int:
        s = self.state
        if not self.compat.raster_status:
            s.st01 ^= ST01_V_RETRACE | ST01_DISP_ENABLE
        else:
            s.st01 = self._raster_status()
            self.poll_ns += STATUS_POLL_NS
        s.ar_flip_flop = 0
        return s.st01

    # ------------------------------------------------------------------ byte ports
    def read(self, port: int) -> int:
        """Byte read of VGA port ``port`` (0x3B0-0x3DF); the graphics controller and
        sequencer pairs first, as in :meth:`write`."""
        s = self.state
        if port == VGA_GFX_D:
            return s.gr[s.gr_index]
        if port == VGA_SEQ_D:
            return s.sr[s.sr_index]
        if self.port_invalid(port):
            return 0xFF
        if port == VGA_ATT_W:
            if s.ar_flip_flop and not self.compat.register_readback:
                return 0
            return s.ar_index
        if port == VGA_ATT_R:
            idx = s.ar_index & 0x1F
            return s.ar[idx] if idx < 0x15 else 0
        if port == VGA_MIS_W:
            return s.st00
        if port == VGA_SEQ_I:
            return s.sr_index
        if port == VGA_SEQ_D:
            return s.sr[s.sr_index]
        if port == VGA_PEL_MSK:
            return s.pel_mask if self.compat.pel_mask else 0
        if port == VGA_PEL_IR:
            return s.dac_state
        if port == VGA_PEL_IW:
            return s.dac_write_index
        if port == VGA_PEL_D:
            val = s.palette[s.dac_read_index * 3 + s.dac_sub_index]
            s.dac_sub_index += 1
            if s.dac_sub_index == 3:
                s.dac_sub_index = 0
                s.dac_read_index = (s.dac_read_index + 1) & 0xFF
            if self.compat.register_readback and not s.dac_8bit:
                val &= 0x3F
            return val
        if port == VGA_FTC_R:
            return s.fcr
        if port == VGA_MIS_R:
            return s.msr
        if port == VGA_GFX_I:
            return s.gr_index
        if port == VGA_GFX_D:
            return s.gr[s.gr_index]
        if port in (VGA_CRT_IM, VGA_CRT_IC):
            return s.cr_index
        if port in (VGA_CRT_DM, VGA_CRT_DC):
            return s.cr[s.cr_index]
        if port in (VGA_IS1_RM, VGA_IS1_RC):
            return self.read_status1()
        return 0x00

    def write(self, port: int, val: int) -> None:
        """Byte write of VGA port ``port`` (0x3B0-0x3DF).  The graphics controller and
        sequencer pairs come first: planar programs write the bit mask or the map mask
        between pixels."""
        s = self.state
        val &= 0xFF
        if port == VGA_GFX_D:
            s.gr[s.gr_index] = val & GR_MASK[s.gr_index]
            if s.vbe_regs[VBE_DISPI_INDEX_ENABLE] & VBE_DISPI_ENABLED:
                self.vbe.update_vgaregs()
            self.memory_access_changed()
            return
        if port == VGA_GFX_I:
            s.gr_index = val & 0x0F
            return
        if port == VGA_SEQ_D:
            s.sr[s.sr_index] = val & SR_MASK[s.sr_index]
            self.memory_access_changed()
            return
        if port == VGA_SEQ_I:
            s.sr_index = val & 7
            return
        if self.port_invalid(port):
            return
        if port == VGA_ATT_W:
            if s.ar_flip_flop == 0:
                s.ar_index = val & 0x3F
            else:
                idx = s.ar_index & 0x1F
                if idx <= 0x0F:
                    s.ar[idx] = val & 0x3F
                elif idx == 0x10:
                    s.ar[idx] = val & ~0x10 & 0xFF
                elif idx == 0x11:
                    s.ar[idx] = val
                elif idx == 0x12:
                    s.ar[idx] = val & ~0xC0 & 0xFF
                elif idx in (0x13, 0x14):
                    s.ar[idx] = val & 0x0F
            s.ar_flip_flop ^= 1
        elif port == VGA_MIS_W:
            s.msr = val & ~0x10 & 0xFF
        elif port == VGA_PEL_MSK:
            if self.compat.pel_mask:
                s.pel_mask = val
        elif port == VGA_PEL_IR:
            s.dac_read_index = val
            s.dac_sub_index = 0
            s.dac_state = 3
        elif port == VGA_PEL_IW:
            s.dac_write_index = val
            s.dac_sub_index = 0
            s.dac_state = 0
        elif port == VGA_PEL_D:
            s.dac_cache[s.dac_sub_index] = val
            s.dac_sub_index += 1
            if s.dac_sub_index == 3:
                i = s.dac_write_index * 3
                s.palette[i:i + 3] = s.dac_cache
                s.dac_sub_index = 0
                s.dac_write_index = (s.dac_write_index + 1) & 0xFF
        elif port in (VGA_CRT_IM, VGA_CRT_IC):
            s.cr_index = val
        elif port in (VGA_CRT_DM, VGA_CRT_DC):
            # CR11 bit 7 write-protects CR0-CR7, except the line-compare bit 4 of CR7.
            if s.cr[CR_V_SYNC_END] & 0x80 and s.cr_index <= CR_OVERFLOW:
                if s.cr_index == CR_OVERFLOW:
                    s.cr[CR_OVERFLOW] = (s.cr[CR_OVERFLOW] & ~0x10 & 0xFF) | (val & 0x10)
                    self.vbe.update_vgaregs()
                return
            s.cr[s.cr_index] = val
            self.vbe.update_vgaregs()
        elif port in (VGA_IS1_RM, VGA_IS1_RC):
            s.fcr = val & 0x10

    # ------------------------------------------------------------------ MemoryRegionOps
    def port_ops(self, base: int, count: int) -> tuple[Callable[[int, int], int], Callable[[int, int, int], None]]:
        """read/write callbacks for an ``io`` region covering ports base..base+count-1.

        Wider accesses are split into byte accesses to consecutive ports (what the ISA bus
        does for an 8-bit device), or, without ``split_wide_port_access``, like QEMU's portio: a
        16-bit access is split only inside the range, a 32-bit one is dropped.
        """

        split = self.compat.split_wide_port_access

        def read(offset: int, size: int) -> int:
            if size == 1:
                return self.read(base + offset)
            if not split:
                if size != 2:
                    return (1 << (8 * size)) - 1
                lo = self.read(base + offset)
                hi = self.read(base + offset + 1) if offset + 1 < count else 0xFF
                return lo | hi << 8
            v = 0
            for i in range(size):
                v |= (self.read(base + offset + i) if offset + i < count else 0xFF) << (8 * i)
            return v

        def write(offset: int, value: int, size: int) -> None:
            if size == 1:
                self.write(base + offset, value)
                return
            if not split:
                if size != 2:
                    return
                self.write(base + offset, value & 0xFF)
                if offset + 1 < count:
                    self.write(base + offset + 1, (value >> 8) & 0xFF)
                return
            for i in range(size):
                if offset + i < count:
                    self.write(base + offset + i, (value >> (8 * i)) & 0xFF)

        return read, write

    def vbe_ops(self) -> tuple[Callable[[int, int], int], Callable[[int, int, int], None]]:
        """Callbacks for the "vbe" region at 0x1CE (4 ports): 16-bit accesses only, index at
        0x1CE, data at 0x1CF (and 0x1D0), as QEMU's vbe_portio_list; other sizes read
        all-ones and are ignored on write."""
        vbe = self.vbe

        def read(offset: int, size: int) -> int:
            if size != 2 or offset > 2:
                return (1 << (8 * size)) - 1
            return vbe.read_index() if offset == 0 else vbe.read_data()

        def write(offset: int, value: int, size: int) -> None:
            if size != 2 or offset > 2:
                return
            if offset == 0:
                vbe.write_index(value)
            else:
                vbe.write_data(value)

        return read, write
