"""The VGA register file: the state every part of the VGA model shares.

Laid out as QEMU's VGACommonState (hw/display/vga_int.h) so a reader of QEMU finds each
field: the port handlers in ``regs.py`` and the planar window in ``vram.py`` write it, the
display loop (``display.py``) only reads it and derives its mode geometry from it.
VRAM itself is not owned here: ``vram`` is the numpy view of the ``vga.vram`` RAMBlock.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

# CRTC / sequencer / graphics / attribute register indexes (QEMU's vga_regs.h names, without
# the VGA_CRTC_ / VGA_SEQ_ / VGA_GFX_ / VGA_ATC_ prefix).
CR_H_TOTAL = 0x00
CR_H_DISP = 0x01
CR_H_BLANK_START = 0x02
CR_H_BLANK_END = 0x03
CR_H_SYNC_START = 0x04
CR_H_SYNC_END = 0x05
CR_V_TOTAL = 0x06
CR_OVERFLOW = 0x07
CR_PRESET_ROW = 0x08
CR_MAX_SCAN = 0x09
CR_CURSOR_START = 0x0A
CR_CURSOR_END = 0x0B
CR_START_HI = 0x0C
CR_START_LO = 0x0D
CR_CURSOR_HI = 0x0E
CR_CURSOR_LO = 0x0F
CR_V_SYNC_START = 0x10
CR_V_SYNC_END = 0x11
CR_V_DISP_END = 0x12
CR_OFFSET = 0x13
CR_UNDERLINE = 0x14
CR_V_BLANK_START = 0x15
CR_V_BLANK_END = 0x16
CR_MODE = 0x17
CR_LINE_COMPARE = 0x18
SR_RESET = 0x00
SR_CLOCK_MODE = 0x01
SR_PLANE_WRITE = 0x02  # the map mask
SR_CHARACTER_MAP = 0x03
SR_MEMORY_MODE = 0x04
GR_SR_VALUE = 0x00  # set/reset
GR_SR_ENABLE = 0x01
GR_COMPARE_VALUE = 0x02
GR_DATA_ROTATE = 0x03
GR_PLANE_READ = 0x04  # read map select
GR_MODE = 0x05
GR_MISC = 0x06
GR_COMPARE_MASK = 0x07  # colour don't care
GR_BIT_MASK = 0x08
AR_MODE = 0x10
AR_OVERSCAN = 0x11
AR_PLANE_ENABLE = 0x12
AR_PEL = 0x13
AR_COLOR_PAGE = 0x14

# Bochs VBE DISPI register indexes (port 0x1CE selects, 0x1CF reads/writes).
VBE_DISPI_INDEX_ID = 0x0
VBE_DISPI_INDEX_XRES = 0x1
VBE_DISPI_INDEX_YRES = 0x2
VBE_DISPI_INDEX_BPP = 0x3
VBE_DISPI_INDEX_ENABLE = 0x4
VBE_DISPI_INDEX_BANK = 0x5
VBE_DISPI_INDEX_VIRT_WIDTH = 0x6
VBE_DISPI_INDEX_VIRT_HEIGHT = 0x7
VBE_DISPI_INDEX_X_OFFSET = 0x8
VBE_DISPI_INDEX_Y_OFFSET = 0x9
VBE_DISPI_INDEX_VIDEO_MEMORY_64K = 0xA
VBE_DISPI_INDEX_NB = 0xB

VBE_DISPI_ID0 = 0xB0C0
VBE_DISPI_ID5 = 0xB0C5
VBE_DISPI_MAX_XRES = 16000
VBE_DISPI_MAX_YRES = 12000
VBE_DISPI_DISABLED = 0x00
VBE_DISPI_ENABLED = 0x01
VBE_DISPI_GETCAPS = 0x02
VBE_DISPI_8BIT_DAC = 0x20
VBE_DISPI_LFB_ENABLED = 0x40
VBE_DISPI_NOCLEARMEM = 0x80

VBE_DISPI_IOPORT_INDEX = 0x1CE
VBE_DISPI_IOPORT_DATA = 0x1CF

#: Where the machine maps the linear framebuffer (QEMU's ``-vga std`` BAR0 under ``pc``).
VBE_DISPI_LFB_PHYSICAL_ADDRESS = 0xFD000000


@dataclass(eq=False)
class VGAState:
    """Registers and latches of one VGA, plus the Bochs VBE extension.

    Index registers and data arrays are kept at QEMU's sizes (``sr``/``gr``/``cr`` 256
    entries, ``ar`` 21) so that indexes a guest writes past the documented range are stored
    and masked exactly where QEMU masks them, not silently dropped.
    """

    vram: np.ndarray
    latch: int = 0  # the four 8-bit latches, plane p in bits 8p..8p+7
    sr_index: int = 0
    sr: bytearray = field(default_factory=lambda: bytearray(256))
    #: The sequencer as the hardware sees it while Bochs VBE is enabled (QEMU's ``sr_vbe``):
    #: vbe_update_vgaregs sets chain-4 / all planes here and never in ``sr``, so the guest's
    #: own SR values come back when VBE is turned off. Use :meth:`sr_active` to read SRs.
    sr_vbe: bytearray = field(default_factory=lambda: bytearray(256))
    gr_index: int = 0
    gr: bytearray = field(default_factory=lambda: bytearray(256))
    ar_index: int = 0
    ar: bytearray = field(default_factory=lambda: bytearray(21))
    ar_flip_flop: int = 0
    cr_index: int = 0
    cr: bytearray = field(default_factory=lambda: bytearray(256))
    msr: int = 0  # miscellaneous output
    fcr: int = 0  # feature control
    st00: int = 0  # input status 0
    st01: int = 0  # input status 1
    dac_state: int = 0
    dac_sub_index: int = 0
    dac_read_index: int = 0
    dac_write_index: int = 0
    dac_cache: bytearray = field(default_factory=lambda: bytearray(3))
    pel_mask: int = 0xFF
    palette: bytearray = field(default_factory=lambda: bytearray(768))  # 6-bit R,G,B x 256
    #: VBE_DISPI_8BIT_DAC was set in the last DISPI enable write: palette entries are 8-bit.
    dac_8bit: bool = False
    bank_offset: int = 0
    vbe_index: int = 0
    vbe_regs: list[int] = field(default_factory=lambda: [0] * VBE_DISPI_INDEX_NB)
    vbe_start_addr: int = 0  # bytes, derived from x/y offset and the virtual width
    vbe_line_offset: int = 0  # bytes per virtual line
    vbe_bank_mask: int = 0
    #: The framebuffer byte order set through the MMIO BAR's "qemu extended regs" (QEMU's
    #: ``big_endian_fb``): 15/16/24/32-bpp pixels are read big-endian.
    big_endian_fb: bool = False
    #: Bit p set when plane p was written since the display loop last looked: a write to
    #: plane 2 in text mode means the font may have changed (QEMU's ``plane_updated``).
    plane_updated: int = 0
    #: An alias of VRAM currently serves the chain-4 window directly, so writes there are not
    #: seen by the VGA code (QEMU's ``has_chain4_alias``: text mode must assume the font
    #: changed).
    has_chain4_alias: bool = False

    @property
    def vram_size(self) -> int:
        return int(self.vram.shape[0])

    def vbe_enabled(self) -> bool:
        return bool(self.vbe_regs[VBE_DISPI_INDEX_ENABLE] & VBE_DISPI_ENABLED)

    def sr_active(self) -> bytearray:
        """The sequencer registers in effect (QEMU's ``sr(s, idx)``): ``sr_vbe`` while VBE
        is enabled, else ``sr``. Port reads of 0x3C5 always return ``sr``."""
        return self.sr_vbe if self.vbe_regs[VBE_DISPI_INDEX_ENABLE] & VBE_DISPI_ENABLED else self.sr
