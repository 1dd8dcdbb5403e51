"""The Bochs VBE DISPI interface (ports 0x1CE index / 0x1CF data, 16-bit registers).

There is no hardware to follow here: the interface is Bochs's, and QEMU's ``-vga std``
(hw/display/vga.c: vbe_ioport_read_data, vbe_ioport_write_data, vbe_fixup_regs,
vbe_update_vgaregs) is the reference, reproduced exactly, quirks included:

- registers are clamped to valid values when written (no error channel to the guest);
- enabling programs the VGA registers for a linear graphics mode (GR6 map 1, CRTC width,
  height, offset, line compare 1023, no double scan) and, for bpp != 4, chain 4 with all
  planes in a separate sequencer copy (``sr_vbe``) that is only ever OR-ed into;
- enabling clears ``yres * line_offset`` bytes of VRAM unless NOCLEARMEM;
- an ENABLE write that does not turn VBE on resets the bank offset (not the BANK register);
- VIRT_HEIGHT is read-only (computed), VIDEO_MEMORY_64K reads the VRAM size in 64K units;
- the display start is truncated to a multiple of 4 bytes (QEMU's ``vbe_start_addr`` is
  ``offset / 4``; ``VGAState.vbe_start_addr`` holds it in bytes).
"""

from __future__ import annotations

from collections.abc import Callable

from vgaemu.vga.state import (
    VBE_DISPI_8BIT_DAC,
    VBE_DISPI_ENABLED,
    VBE_DISPI_GETCAPS,
    VBE_DISPI_ID0,
    VBE_DISPI_ID5,
    VBE_DISPI_INDEX_BANK,
    VBE_DISPI_INDEX_BPP,
    VBE_DISPI_INDEX_ENABLE,
    VBE_DISPI_INDEX_ID,
    VBE_DISPI_INDEX_VIDEO_MEMORY_64K,
    VBE_DISPI_INDEX_VIRT_HEIGHT,
    VBE_DISPI_INDEX_VIRT_WIDTH,
    VBE_DISPI_INDEX_X_OFFSET,
    VBE_DISPI_INDEX_XRES,
    VBE_DISPI_INDEX_Y_OFFSET,
    VBE_DISPI_INDEX_YRES,
    VBE_DISPI_MAX_XRES,
    VBE_DISPI_MAX_YRES,
    VBE_DISPI_NOCLEARMEM,
    VGAState,
)

VBE_DISPI_MAX_BPP = 32
#: Registers stored in vbe_regs (QEMU's VBE_DISPI_INDEX_NB is 0xA: VIDEO_MEMORY_64K is not).
VBE_DISPI_NREGS = 0xA

# VGA register indexes vbe_update_vgaregs touches.
_GR_MODE, _GR_MISC = 5, 6
_CR_H_DISP, _CR_OVERFLOW, _CR_MAX_SCAN, _CR_OFFSET = 0x01, 0x07, 0x09, 0x13
_CR_V_DISP_END, _CR_MODE, _CR_LINE_COMPARE = 0x12, 0x17, 0x18
_SR_CLOCK, _SR_PLANE_WRITE, _SR_MEMORY_MODE = 1, 2, 4


class BochsVBE:
    """DISPI register semantics over a :class:`VGAState`.

    ``memory_access_changed()`` is called whenever the bank or enable state changes (the
    VGA re-evaluates its chain-4 alias); ``clear_vram(length)`` zeroes VRAM from 0 and marks
    it dirty.
    """

    def __init__(
        self,
        state: VGAState,
        *,
        vbe_size: int | None = None,
        memory_access_changed: Callable[[], None] | None = None,
        clear_vram: Callable[[int], None] | None = None,
    ) -> None:
        self.state = state
        self.vbe_size = state.vram_size if vbe_size is None else vbe_size
        self.memory_access_changed = memory_access_changed or (lambda: None)
        self._clear_vram = clear_vram
        self.reset()

    def reset(self) -> None:
        """QEMU's vga_common_reset for the VBE part."""
        s = self.state
        s.vbe_index = 0
        s.vbe_regs[:] = [0] * len(s.vbe_regs)
        s.vbe_regs[VBE_DISPI_INDEX_ID] = VBE_DISPI_ID5
        s.vbe_start_addr = 0
        s.vbe_line_offset = 0
        s.vbe_bank_mask = (s.vram_size >> 16) - 1
        s.bank_offset = 0
        s.dac_8bit = False
        s.big_endian_fb = False  # default_endian_fb: little-endian on x86

    def clear_vram(self, length: int) -> None:
        if self._clear_vram is not None:
            self._clear_vram(length)
        else:
            self.state.vram[:length] = 0

    # ------------------------------------------------------------------ port side
    def read_index(self) -> int:
        return self.state.vbe_index

    def write_index(self, val: int) -> None:
        self.state.vbe_index = val & 0xFFFF

    def read_data(self) -> int:
        s = self.state
        idx = s.vbe_index
        if idx < VBE_DISPI_NREGS:
            if s.vbe_regs[VBE_DISPI_INDEX_ENABLE] & VBE_DISPI_GETCAPS:
                if idx == VBE_DISPI_INDEX_XRES:
                    return VBE_DISPI_MAX_XRES
                if idx == VBE_DISPI_INDEX_YRES:
                    return VBE_DISPI_MAX_YRES
                if idx == VBE_DISPI_INDEX_BPP:
                    return VBE_DISPI_MAX_BPP
            return s.vbe_regs[idx]
        if idx == VBE_DISPI_INDEX_VIDEO_MEMORY_64K:
            return (self.vbe_size >> 16) & 0xFFFF
        return 0

    def write_data(self, val: int) -> None:
        s = self.state
        r = s.vbe_regs
        idx = s.vbe_index
        val &= 0xFFFF
        if idx == VBE_DISPI_INDEX_ID:
            if VBE_DISPI_ID0 <= val <= VBE_DISPI_ID5:
                r[idx] = val
        elif idx in (VBE_DISPI_INDEX_XRES, VBE_DISPI_INDEX_YRES, VBE_DISPI_INDEX_BPP,
                     VBE_DISPI_INDEX_VIRT_WIDTH, VBE_DISPI_INDEX_X_OFFSET,
                     VBE_DISPI_INDEX_Y_OFFSET):
            r[idx] = val
            self.fixup_regs()
            self.update_vgaregs()
        elif idx == VBE_DISPI_INDEX_BANK:
            val &= s.vbe_bank_mask
            r[idx] = val
            s.bank_offset = val << 16
            self.memory_access_changed()
        elif idx == VBE_DISPI_INDEX_ENABLE:
            if val & VBE_DISPI_ENABLED and not r[idx] & VBE_DISPI_ENABLED:
                r[VBE_DISPI_INDEX_VIRT_WIDTH] = 0
                r[VBE_DISPI_INDEX_X_OFFSET] = 0
                r[VBE_DISPI_INDEX_Y_OFFSET] = 0
                r[idx] |= VBE_DISPI_ENABLED
                self.fixup_regs()
                self.update_vgaregs()
                if not val & VBE_DISPI_NOCLEARMEM:
                    self.clear_vram(r[VBE_DISPI_INDEX_YRES] * s.vbe_line_offset)
            else:
                s.bank_offset = 0
            s.dac_8bit = bool(val & VBE_DISPI_8BIT_DAC)
            r[idx] = val
            self.memory_access_changed()
        # VIRT_HEIGHT (computed) and indexes >= 0xA: writes ignored, as in QEMU.

    # ------------------------------------------------------------------ derived state
    def fixup_regs(self) -> None:
        """Clamp the mode registers and derive vbe_line_offset / vbe_start_addr
        (QEMU vbe_fixup_regs; registers are 16-bit, arithmetic 32-bit)."""
        s = self.state
        r = s.vbe_regs
        if not r[VBE_DISPI_INDEX_ENABLE] & VBE_DISPI_ENABLED:
            return
        bpp = r[VBE_DISPI_INDEX_BPP]
        if bpp in (4, 8, 16, 24, 32):
            bits = bpp
        elif bpp == 15:
            bits = 16
        else:
            bits = r[VBE_DISPI_INDEX_BPP] = 8

        r[VBE_DISPI_INDEX_XRES] &= ~7 & 0xFFFF
        if r[VBE_DISPI_INDEX_XRES] == 0:
            r[VBE_DISPI_INDEX_XRES] = 8
        if r[VBE_DISPI_INDEX_XRES] > VBE_DISPI_MAX_XRES:
            r[VBE_DISPI_INDEX_XRES] = VBE_DISPI_MAX_XRES
        r[VBE_DISPI_INDEX_VIRT_WIDTH] &= ~7 & 0xFFFF
        if r[VBE_DISPI_INDEX_VIRT_WIDTH] > VBE_DISPI_MAX_XRES:
            r[VBE_DISPI_INDEX_VIRT_WIDTH] = VBE_DISPI_MAX_XRES
        if r[VBE_DISPI_INDEX_VIRT_WIDTH] < r[VBE_DISPI_INDEX_XRES]:
            r[VBE_DISPI_INDEX_VIRT_WIDTH] = r[VBE_DISPI_INDEX_XRES]

        linelength = r[VBE_DISPI_INDEX_VIRT_WIDTH] * bits // 8
        maxy = self.vbe_size // linelength
        if r[VBE_DISPI_INDEX_YRES] == 0:
            r[VBE_DISPI_INDEX_YRES] = 1
        if r[VBE_DISPI_INDEX_YRES] > VBE_DISPI_MAX_YRES:
            r[VBE_DISPI_INDEX_YRES] = VBE_DISPI_MAX_YRES
        if r[VBE_DISPI_INDEX_YRES] > maxy:
            r[VBE_DISPI_INDEX_YRES] = maxy

        if r[VBE_DISPI_INDEX_X_OFFSET] > VBE_DISPI_MAX_XRES:
            r[VBE_DISPI_INDEX_X_OFFSET] = VBE_DISPI_MAX_XRES
        if r[VBE_DISPI_INDEX_Y_OFFSET] > VBE_DISPI_MAX_YRES:
            r[VBE_DISPI_INDEX_Y_OFFSET] = VBE_DISPI_MAX_YRES
        offset = r[VBE_DISPI_INDEX_X_OFFSET] * bits // 8 + r[VBE_DISPI_INDEX_Y_OFFSET] * linelength
        if offset + r[VBE_DISPI_INDEX_YRES] * linelength > self.vbe_size:
            r[VBE_DISPI_INDEX_Y_OFFSET] = 0
            offset = r[VBE_DISPI_INDEX_X_OFFSET] * bits // 8
            if offset + r[VBE_DISPI_INDEX_YRES] * linelength > self.vbe_size:
                r[VBE_DISPI_INDEX_X_OFFSET] = 0
                offset = 0

        r[VBE_DISPI_INDEX_VIRT_HEIGHT] = maxy & 0xFFFF
        s.vbe_line_offset = linelength
        # QEMU keeps start_addr in units of 4 bytes (offset / 4); VGAState documents bytes,
        # so store that same 4-byte-aligned address in bytes.
        s.vbe_start_addr = offset & ~3

    def update_vgaregs(self) -> None:
        """Program the VGA registers for the enabled VBE mode (QEMU vbe_update_vgaregs);
        also called after every GR and CRTC data write while VBE is on."""
        s = self.state
        r = s.vbe_regs
        if not r[VBE_DISPI_INDEX_ENABLE] & VBE_DISPI_ENABLED:
            return
        gr, cr, srv = s.gr, s.cr, s.sr_vbe
        gr[_GR_MISC] = (gr[_GR_MISC] & ~0x0C & 0xFF) | 0x04 | 0x01
        cr[_CR_MODE] |= 3
        cr[_CR_OFFSET] = (s.vbe_line_offset >> 3) & 0xFF
        cr[_CR_H_DISP] = ((r[VBE_DISPI_INDEX_XRES] >> 3) - 1) & 0xFF
        h = r[VBE_DISPI_INDEX_YRES] - 1
        cr[_CR_V_DISP_END] = h & 0xFF
        cr[_CR_OVERFLOW] = (cr[_CR_OVERFLOW] & ~0x42 & 0xFF) | ((h >> 7) & 0x02) | ((h >> 3) & 0x40)
        cr[_CR_LINE_COMPARE] = 0xFF
        cr[_CR_OVERFLOW] |= 0x10
        cr[_CR_MAX_SCAN] |= 0x40
        if r[VBE_DISPI_INDEX_BPP] == 4:
            shift_control = 0
            srv[_SR_CLOCK] &= ~8 & 0xFF
        else:
            shift_control = 2
            srv[_SR_MEMORY_MODE] |= 0x08
            srv[_SR_PLANE_WRITE] |= 0x0F
        gr[_GR_MODE] = (gr[_GR_MODE] & ~0x60 & 0xFF) | (shift_control << 5)
        cr[_CR_MAX_SCAN] &= ~0x9F & 0xFF
