"""INT 10h, the video BIOS: SeaVGABIOS's services (vgasrc/vgabios.c) in Python.

``VGABios(machine)`` behaves like the VGA option ROM QEMU runs for ``-vga std``
(SeaVGABIOS 1.16.2, bochs/stdvga build): every service of its INT 10h handler, with its
state in the BIOS data area at 0x400 and its data (fonts, tables, VBE strings) in a ROM image
at C000:0000 (the machine maps it as the read-only ``vga.rom`` region, filled by the firmware
loader), and every effect on the display made through port and memory accesses on the
machine's address spaces, as the real BIOS makes them.
"""

from __future__ import annotations

import struct
from functools import lru_cache

from vgaemu.vga.state import (
    VBE_DISPI_IOPORT_DATA,
    VBE_DISPI_IOPORT_INDEX,
    VBE_DISPI_LFB_PHYSICAL_ADDRESS,
)

from . import bda as B
from .bda import BiosDataArea
from .data import (
    BF_EXTRA_STACK,
    MF_GRAYSUM,
    MF_LEGACY,
    MF_LINEARFB,
    MF_NOCLEARMEM,
    MF_NOPALETTE,
    MF_VBEFLAGS,
    MM_CGA,
    MM_PACKED,
    MM_PLANAR,
    MM_TEXT,
    ROM_SAVE_POINTER_TABLE,
    ROM_SEG,
    ROM_SIZE,
    ROM_STATIC_FUNCTIONALITY,
    ROM_STD_MODES,
    ROM_SVGA_MODES,
    ROM_VBE_OEM_STRING,
    ROM_VBE_PRODUCT_STRING,
    ROM_VBE_REVISION_STRING,
    ROM_VBE_VENDOR_STRING,
    ROM_VGAFONT14,
    ROM_VGAFONT14ALT,
    ROM_VGAFONT16,
    ROM_VGAFONT16ALT,
    ROM_VGAFONT8,
    ROM_VIDEO_PARAM_TABLE,
    VBE_OEM_STRING,
    VBE_PRODUCT_STRING,
    VBE_RETURN_STATUS_FAILED,
    VBE_REVISION_STRING,
    VBE_VENDOR_STRING,
    VgaMode,
    load_tables,
    vga_bpp,
)
from .registers import BIOSError, Registers, linear
from .savestate import save_restore
from .stdvga import VGAREG_MDA_CRTC_ADDRESS, Bus, StdVGA
from .vbe import handle_104f
from .vgafb import VgaFB

SEABIOS_BOOT_TEXT = ("SeaBIOS (version 1.16.2-debian-1.16.2-1)\r\n"
                     "Booting from Hard Disk...\r\n")

# AH=11h: the ROM font (cell height) each "load ROM font" subfunction loads
_ROM_FONT_LOADS = {0x01: 14, 0x11: 14, 0x02: 8, 0x12: 8, 0x04: 16, 0x14: 16}

# stdvga_build_video_param: which mode each of the 29 video parameter table entries holds
_PARAM_MODES = (0, 0, 0, 0, 0x04, 0x05, 0x06, 0x07, 0, 0, 0, 0, 0, 0x0D, 0x0E, 0,
                0, 0x0F, 0x10, 0, 0, 0, 0, 0x01, 0x03, 0x07, 0x11, 0x12, 0x13)


def calc_page_size(memmodel: int, width: int, height: int) -> int:
    if memmodel == MM_TEXT:
        size = -(-(width * height * 2) // 2048) * 2048
    elif memmodel == MM_CGA:
        size = 16 * 1024
    else:
        size = -(-(width * height // 8) // 8192) * 8192
    return size & 0xFFFF  # a u16 BDA field


@lru_cache(maxsize=1)
def _rom_image() -> bytes:
    """The C000 segment image (the same for every machine: built once)."""
    t = load_tables()
    img = bytearray(ROM_SIZE)
    img[0:3] = bytes((0x55, 0xAA, (ROM_SIZE // 512) & 0xFF))
    img[0x1E:0x21] = b"IBM"  # the signature VGA-aware software looks for
    for off, s in ((ROM_VBE_OEM_STRING, VBE_OEM_STRING),
                   (ROM_VBE_VENDOR_STRING, VBE_VENDOR_STRING),
                   (ROM_VBE_PRODUCT_STRING, VBE_PRODUCT_STRING),
                   (ROM_VBE_REVISION_STRING, VBE_REVISION_STRING)):
        img[off:off + len(s) + 1] = s + b"\0"
    img[ROM_VGAFONT16:ROM_VGAFONT16 + 4096] = t.fonts[16]
    img[ROM_VGAFONT14:ROM_VGAFONT14 + 3584] = t.fonts[14]
    img[ROM_VGAFONT8:ROM_VGAFONT8 + 2048] = t.fonts[8]
    # The 0x66 0x90 bytes are the ROM's alignment padding after the alternate-font bytes.
    img[ROM_VGAFONT16ALT:ROM_VGAFONT16ALT + 2] = b"\0\0"
    img[ROM_VGAFONT14ALT + 1:ROM_SVGA_MODES] = b"\x66\x90" * ((ROM_SVGA_MODES
                                                               - ROM_VGAFONT14ALT - 1) // 2)
    # Static functionality (AX=1B00h): QEMU's SeaVGABIOS reports modes 00h-0Dh (FF 3F 00
    # 00, read back through AH=13h), 200/350/400 lines, 2 of 8 character blocks.
    img[ROM_STATIC_FUNCTIONALITY:ROM_STATIC_FUNCTIONALITY + 16] = struct.pack(
        "<I3xBBBH2xBx", 0x00003FFF, 0x07, 0x02, 0x08, 0x0CE7, 0)
    img[ROM_SAVE_POINTER_TABLE:ROM_SAVE_POINTER_TABLE + 4] = struct.pack(
        "<HH", ROM_VIDEO_PARAM_TABLE, ROM_SEG)
    for i, mode in enumerate(_PARAM_MODES):
        if not mode:
            continue
        m = t.std_mode(mode)
        if m is None:
            continue
        if m.memmodel == MM_TEXT:
            tw, th = m.width, m.height - 1
        else:
            tw, th = m.width // m.cwidth, m.height // m.cheight - 1
        entry = (struct.pack("<BBBH", tw, th, m.cheight,
                             calc_page_size(m.memmodel, m.width, m.height))
                 + m.sequ + bytes((m.misc,)) + m.crtc + m.actl + m.grdc)
        off = ROM_VIDEO_PARAM_TABLE + 64 * i
        img[off:off + 64] = entry
    assert len(img) == ROM_SIZE
    return bytes(img)


class VGABios:
    """The video BIOS of one :class:`vgaemu.Machine` (or anything with the two address spaces).

    ``post()`` does what SeaVGABIOS's ``vga_post`` does: stdvga setup, Bochs DISPI detection,
    the BDA defaults. The constructor runs it unless ``post=False``; then the first ``int10``
    or ``boot`` does (``Machine`` builds its BIOS that way: SeaBIOS runs the VGA option ROM
    before any guest code, and a machine used only at register level never needs it).
    ``int10(regs)`` runs one INT 10h call and returns the registers as the call returns them.
    The ROM image itself is not written by POST: the machine loads it (``load_rom``) into its
    ``vga.rom`` region, which the guest cannot write.
    """

    def __init__(self, machine, *, post: bool = True, lfb_addr: int | None = None) -> None:
        self.machine = machine
        self.bus = Bus(machine)
        self.std = StdVGA(self.bus)
        self.bda = BiosDataArea(self.bus)
        self.fb = VgaFB(self)
        self.tables = load_tables()
        self._lfb_addr = lfb_addr
        self.dispi_found = False
        self.vbe_framebuffer = 0
        self.vbe_total_memory = 256 * 1024
        self.vbe_win_granularity = 0
        self.vbe_capabilities = 0
        self.vbe_edid = bytes(256)
        self._svga_valid = [True] * len(self.tables.vbe_modes)
        self._mode_by_offset: dict[int, VgaMode] = {}
        for i, m in enumerate(self.tables.std_modes):
            self._mode_by_offset[ROM_STD_MODES + 44 * i + 2] = m
        for i, m in enumerate(self.tables.vbe_modes):
            self._mode_by_offset[ROM_SVGA_MODES + 14 * i + 2] = m
        self._offset_of = {id(m): off for off, m in self._mode_by_offset.items()}
        self.posted = False
        if post:
            self.post()

    # ------------------------------------------------------------------ POST
    def _find_lfb(self) -> int:
        """Where the machine maps the framebuffer (QEMU's BAR0; SeaVGABIOS reads it from PCI)."""
        if self._lfb_addr is not None:
            return self._lfb_addr
        return getattr(self.machine.vga, "lfb_addr", None) or VBE_DISPI_LFB_PHYSICAL_ADDRESS

    @staticmethod
    def rom_image() -> bytes:
        """The C000 segment image: fonts, VBE strings, static tables (our layout of the facts)."""
        return _rom_image()

    def load_rom(self, addr: int = ROM_SEG << 4) -> None:
        """The firmware loader's copy of the image to ``addr``: straight into the host memory
        of the ROM region there (QEMU's rom loader / address_space_write_rom), which guest
        stores cannot change."""
        res = self.machine.address_space_memory.write_rom(addr, self.rom_image())
        if res:
            raise BIOSError(f"VGA BIOS image at 0x{addr:X}: no ROM or RAM there ({res!r})")

    def post(self) -> None:
        """vga_post: hardware setup, DISPI probe, BDA defaults and font vectors."""
        self.posted = True
        self.std.setup()
        self._bochsvga_setup()
        bda = self.bda
        # init_bios_area: 80x25 colour in the equipment word, modeset/DCC defaults
        bda.equipment = (bda.equipment & ~0x30) | 0x20
        bda.modeset_ctl = 0x51
        bda.dcc_index = 0x08
        self.bus.write(B.BDA + B.VIDEO_SAVETABLE, struct.pack("<HH", ROM_SAVE_POINTER_TABLE,
                                                              ROM_SEG))
        bda.video_msr = 0x00
        bda.video_pal = 0x00

    def boot(self, *, banner: bool = True) -> None:
        """What a PC shows when the boot sector starts under QEMU 7.2 + SeaBIOS 1.16.2.

        SeaBIOS switches to text mode 3 through INT 10h (``enable_vga_console``) and prints
        its banner and the boot message with INT 10h AH=0Eh (attribute 07h), so a guest trace
        that sets no mode starts from exactly this screen, cursor on row 2.
        """
        if not self.posted:
            self.post()
        self.call(0x0003)
        if banner:
            for ch in SEABIOS_BOOT_TEXT:
                self.call(0x0E00 | ord(ch), bx=0x0007)

    def _dispi_read(self, reg: int) -> int:
        self.bus.outw16(reg, VBE_DISPI_IOPORT_INDEX)
        return self.bus.inw16(VBE_DISPI_IOPORT_DATA)

    def _dispi_write(self, reg: int, val: int) -> None:
        self.bus.outw16(reg, VBE_DISPI_IOPORT_INDEX)
        self.bus.outw16(val, VBE_DISPI_IOPORT_DATA)

    def _bochsvga_setup(self) -> None:
        self._dispi_write(0, 0xB0C0)
        if self._dispi_read(0) != 0xB0C0:
            return  # no DISPI: plain VGA
        self._dispi_write(0, 0xB0C5)
        self.dispi_found = True
        self.vbe_framebuffer = self._find_lfb()
        self.vbe_total_memory = self._dispi_read(0x0A) * 64 * 1024
        self.vbe_win_granularity = 64
        self.vbe_capabilities = 0x01  # VBE_CAPABILITY_8BIT_DAC
        # SeaVGABIOS copies the adapter's EDID (QEMU -vga std exposes one in its MMIO BAR);
        # a machine may supply its own as ``machine.edid``, else QEMU 7.2's default is used.
        edid = getattr(self.machine, "edid", None)
        if not isinstance(edid, (bytes, bytearray)):
            edid = self.tables.edid
        self.vbe_edid = bytes(edid[:256]).ljust(256, b"\0")
        en = self._dispi_read(4)
        self._dispi_write(4, en | 0x02)  # GETCAPS: XRES/BPP read back their maxima
        max_xres = self._dispi_read(1)
        max_bpp = self._dispi_read(3)
        self._dispi_write(4, en)
        for i, m in enumerate(self.tables.vbe_modes):
            mem = m.height * (-(-(m.width * vga_bpp(m)) // 8)) * StdVGA.vram_ratio(m)
            self._svga_valid[i] = not (m.width > max_xres or m.depth > max_bpp
                                       or mem > self.vbe_total_memory)

    # ------------------------------------------------------------------ helpers
    def get_ivt(self, vector: int) -> tuple[int, int]:
        off, seg = struct.unpack("<HH", self.bus.read(vector * 4, 4))
        return seg, off

    def set_ivt(self, vector: int, seg: int, off: int) -> None:
        self.bus.write(vector * 4, struct.pack("<HH", off & 0xFFFF, seg & 0xFFFF))

    def find_mode(self, mode: int) -> VgaMode | None:
        """bochsvga_find_mode: DISPI modes (when DISPI exists and the mode fits), then stdvga."""
        if self.dispi_found:
            for ok, m in zip(self._svga_valid, self.tables.vbe_modes):
                if ok and m.mode == mode:
                    return m
        return self.tables.std_mode(mode)

    def list_modes(self) -> list[int]:
        out = []
        if self.dispi_found:
            out += [m.mode for ok, m in zip(self._svga_valid, self.tables.vbe_modes) if ok]
        out += [m.mode for m in self.tables.std_modes]
        return out

    def current_mode(self) -> VgaMode | None:
        return self._mode_by_offset.get(self.bda.vgamode_offset)

    def _dispi_enabled(self) -> bool:
        return self.dispi_found and bool(self._dispi_read(4) & 0x01)

    def hw_get_linelength(self, vmode: VgaMode) -> int:
        if not self._dispi_enabled():
            return self.std.get_linelength(vmode)
        return self._dispi_read(6) * vga_bpp(vmode) // 8

    def hw_set_linelength(self, vmode: VgaMode, val: int) -> int:
        self.std.set_linelength(vmode, val)
        if self._dispi_enabled():
            self._dispi_write(6, (val * 8) // vga_bpp(vmode))
        return 0

    def hw_get_displaystart(self, vmode: VgaMode) -> int:
        if not self._dispi_enabled():
            return self.std.get_displaystart(vmode)
        bpp = vga_bpp(vmode)
        linelength = self._dispi_read(6) * bpp // 8
        x = self._dispi_read(8)
        y = self._dispi_read(9)
        return x * bpp // 8 + linelength * y

    def hw_set_displaystart(self, vmode: VgaMode, val: int) -> int:
        self.std.set_displaystart(vmode, val)
        if self._dispi_enabled():
            bpp = vga_bpp(vmode)
            linelength = self._dispi_read(6) * bpp // 8
            if not linelength:
                return 0
            self._dispi_write(8, ((val % linelength) * 8 // bpp) & 0xFFFF)
            self._dispi_write(9, (val // linelength) & 0xFFFF)
        return 0

    def hw_get_window(self, vmode: VgaMode, window: int) -> int:
        if not self._dispi_enabled() or window != 0:
            return -1
        return self._dispi_read(5)

    def hw_set_window(self, vmode: VgaMode, window: int, val: int) -> int:
        if not self._dispi_enabled() or window != 0:
            return -1
        self._dispi_write(5, val)
        return 0 if self._dispi_read(5) == val else -1

    def hw_get_dacformat(self, vmode: VgaMode) -> int:
        if not self._dispi_enabled():
            return -1
        return 8 if self._dispi_read(4) & 0x20 else 6

    def hw_set_dacformat(self, vmode: VgaMode, val: int) -> int:
        if not self._dispi_enabled():
            return -1
        en = self._dispi_read(4)
        if val == 6:
            en &= ~0x20
        elif val == 8:
            en |= 0x20
        else:
            return -1
        self._dispi_write(4, en)
        return 0

    # ------------------------------------------------------------------ mode set
    def _bochsvga_set_mode(self, vmode: VgaMode, flags: int) -> int:
        std = self.std
        if self.dispi_found:
            self._dispi_write(4, 0x00)
        if vmode.is_std:
            std.set_mode(vmode, flags, self.tables.fonts[16])
            return 0
        if not self.dispi_found:
            return -1
        if vmode.memmodel == MM_PLANAR:
            std.set_mode(self.tables.std_mode(0x6A), 0, self.tables.fonts[16])
        if vmode.memmodel == MM_PACKED and not (flags & MF_NOPALETTE):
            pal = self.tables.palettes["palette3"]
            std.dac_write(pal, 0, len(pal) // 3)
        self._dispi_write(3, vmode.depth)
        self._dispi_write(1, vmode.width)
        self._dispi_write(2, vmode.height)
        self._dispi_write(5, 0)
        bf = (0x80 if flags & MF_NOCLEARMEM else 0) | (0x40 if flags & MF_LINEARFB else 0)
        self._dispi_write(4, 0x01 | bf)
        # VGA compatibility setup (so VGA-aware code sees a consistent CRTC)
        crtc = 0x3D4
        std.crtc_write(crtc, 0x11, 0x00)
        std.crtc_write(crtc, 0x01, vmode.width // 8 - 1)
        std.set_linelength(vmode, vmode.width)
        std.crtc_write(crtc, 0x12, (vmode.height - 1) & 0xFF)
        v = 0
        if (vmode.height - 1) & 0x0100:
            v |= 0x02
        if (vmode.height - 1) & 0x0200:
            v |= 0x40
        std.crtc_mask(crtc, 0x07, 0x42, v)
        std.crtc_write(crtc, 0x09, 0x00)
        std.crtc_mask(crtc, 0x17, 0x00, 0x03)
        std.attr_mask(0x10, 0x00, 0x01)
        std.grdc_write(0x06, 0x05)
        std.sequ_write(0x02, 0x0F)
        if vmode.memmodel != MM_PLANAR:
            std.crtc_mask(crtc, 0x14, 0x00, 0x40)
            std.attr_mask(0x10, 0x00, 0x40)
            std.sequ_mask(0x04, 0x00, 0x08)
            std.grdc_mask(0x05, 0x20, 0x40)
        std.attrindex_write(0x20)
        return 0

    def set_mode(self, mode: int, flags: int) -> int:
        """vga_set_mode: program the hardware, then the BDA and the font vectors."""
        vmode = self.find_mode(mode)
        if vmode is None:
            return VBE_RETURN_STATUS_FAILED
        ret = self._bochsvga_set_mode(vmode, flags)
        if ret:
            return ret & 0xFF
        bda = self.bda
        bda.video_mode = mode if mode < 0x100 else 0xFF
        bda.vbe_mode = mode | (flags & MF_VBEFLAGS)
        bda.vgamode_offset = self._offset_of[id(vmode)]
        bda.vga_flags = (bda.vga_flags & ~BF_EXTRA_STACK) | (
            BF_EXTRA_STACK if flags & MF_LEGACY else 0)
        if vmode.memmodel == MM_TEXT:
            bda.video_cols = vmode.width
            bda.video_rows = vmode.height - 1
            bda.cursor_type = 0x0607
        else:
            bda.video_cols = vmode.width // vmode.cwidth
            bda.video_rows = vmode.height // vmode.cheight - 1
            bda.cursor_type = 0x0000
        bda.video_pagesize = calc_page_size(vmode.memmodel, vmode.width, vmode.height)
        bda.crtc_address = self.std.get_crtc()
        bda.char_height = vmode.cheight
        bda.video_ctl = 0x60 | (0x80 if flags & MF_NOCLEARMEM else 0x00)
        bda.video_switches = 0xF9
        bda.modeset_ctl = bda.modeset_ctl & 0x7F
        self.bus.write(B.BDA + B.CURSOR_POS, bytes(16))
        bda.video_pagestart = 0
        bda.video_page = 0
        self.set_ivt(0x1F, ROM_SEG, ROM_VGAFONT8 + 128 * 8)
        font = {8: ROM_VGAFONT8, 14: ROM_VGAFONT14, 16: ROM_VGAFONT16}.get(vmode.cheight)
        if font is not None:
            self.set_ivt(0x43, ROM_SEG, font)
        return 0

    # ------------------------------------------------------------------ cursor & pages
    def get_cursor_shape(self) -> int:
        bda = self.bda
        cursor_type = bda.cursor_type
        if bda.video_ctl & 1:  # cursor emulation off
            return cursor_type
        start = (cursor_type >> 8) & 0x3F
        end = cursor_type & 0x1F
        cheight = bda.char_height
        if cheight <= 8 or end >= 8 or start >= 0x20:
            return cursor_type
        if end != start + 1:
            start = ((start + 1) * cheight // 8) - 1
        else:
            start = ((end + 1) * cheight // 8) - 2
        end = ((end + 1) * cheight // 8) - 1
        return ((start & 0xFF) << 8) | (end & 0xFF)

    def set_cursor_shape(self, cursor_type: int) -> None:
        self.bda.cursor_type = cursor_type
        self.std.set_cursor_shape(self.get_cursor_shape())

    def set_cursor_pos(self, cp) -> None:
        x, y, page = cp
        if page > 7:
            return
        if page == self.bda.video_page:
            self.std.set_cursor_pos(self.fb.text_address((x, y, page)))
        self.bda.set_cursor_pos(page, ((y & 0xFF) << 8) | (x & 0xFF))

    def get_cursor_pos(self, page: int):
        if page > 7:
            return (0, 0, 0)
        xy = self.bda.get_cursor_pos(page)
        return (xy & 0xFF, xy >> 8, page)

    def set_active_page(self, page: int) -> None:
        if page > 7:
            return
        vmode = self.current_mode()
        if vmode is None:
            return
        address = self.fb.text_address((0, 0, page))
        self.hw_set_displaystart(vmode, address)
        self.bda.video_pagestart = address
        self.bda.video_page = page
        self.set_cursor_pos(self.get_cursor_pos(page))

    def set_scan_lines(self, lines: int) -> None:
        self.std.set_scan_lines(lines)
        bda = self.bda
        bda.char_height = lines
        vde = self.std.get_vde()
        rows = (vde // lines) & 0xFF if lines else 0
        bda.video_rows = rows - 1
        bda.video_pagesize = calc_page_size(MM_TEXT, bda.video_cols, rows)
        if lines == 8:
            self.set_cursor_shape(0x0607)
        else:
            self.set_cursor_shape((((lines - 3) & 0xFF) << 8) | ((lines - 2) & 0xFF))

    # ------------------------------------------------------------------ characters
    def _write_char(self, cp, car: int, attr: int, use_attr: bool):
        self.fb.write_char(cp, car, attr, use_attr)
        x, y, page = cp
        x = (x + 1) & 0xFF
        if x == self.bda.video_cols:
            x = 0
            y = (y + 1) & 0xFF
        return (x, y, page)

    def _write_teletype(self, cp, car: int, attr: int, use_attr: bool):
        x, y, page = cp
        if car == 7:
            pass  # bell
        elif car == 8:
            if x > 0:
                x -= 1
        elif car == 0x0D:
            x = 0
        elif car == 0x0A:
            y += 1
        else:
            x, y, page = self._write_char((x, y, page), car, attr, use_attr)
        nbrows = self.bda.video_rows
        if y > nbrows:
            y -= 1
            self.fb.scroll((0, 0, page), (self.bda.video_cols, nbrows + 1), 1, ord(" "), 0,
                           False)
        return (x, y, page)

    # ------------------------------------------------------------------ INT 10h
    def int10(self, regs: Registers) -> Registers:
        """Run INT 10h with ``regs``; returns the registers as the interrupt returns them
        (a new record: ``regs`` is left as it was)."""
        if not isinstance(regs, Registers):
            raise BIOSError(f"int10 expects a Registers record, got {type(regs).__name__}")
        r = regs.copy()
        self.handle_10(r)
        return r

    def handle_10(self, r: Registers) -> None:
        """SeaVGABIOS's handle_10: INT 10h on ``r`` in place (the CPU's BIOS trap hands
        over a record it built for this call alone, so it needs no copy)."""
        if not self.posted:
            self.post()
        handler = _HANDLERS.get(r.ax >> 8)
        if handler is not None:
            handler(self, r)

    def call(self, ax: int, **kw: int) -> Registers:
        """Convenience: ``bios.call(0x0013)`` == ``bios.int10(Registers(ax=0x0013))``."""
        r = Registers(ax=ax, **kw)
        self.handle_10(r)
        return r

    # AH=00h
    def _h00(self, r: Registers) -> None:
        mode = r.al & 0x7F
        flags = MF_LEGACY | (self.bda.modeset_ctl & (MF_NOPALETTE | MF_GRAYSUM))
        if r.al & 0x80:
            flags |= MF_NOCLEARMEM
        r.al = 0x20 if mode > 7 else (0x3F if mode == 6 else 0x30)
        self.set_mode(mode, flags)

    def _h01(self, r: Registers) -> None:
        self.set_cursor_shape(r.cx)

    def _h02(self, r: Registers) -> None:
        self.set_cursor_pos((r.dl, r.dh, r.bh))

    def _h03(self, r: Registers) -> None:
        r.cx = self.bda.cursor_type
        x, y, _ = self.get_cursor_pos(r.bh)
        r.dl = x
        r.dh = y

    def _h04(self, r: Registers) -> None:  # light pen: not present
        r.ax = r.bx = r.cx = r.dx = 0

    def _h05(self, r: Registers) -> None:
        self.set_active_page(r.al)

    def _verify_scroll(self, r: Registers, direction: int) -> None:
        ulx, uly, lrx, lry = r.cl, r.ch, r.dl, r.dh
        nbrows = self.bda.video_rows + 1
        if lry >= nbrows:
            lry = nbrows - 1
        nbcols = self.bda.video_cols
        if lrx >= nbcols:
            lrx = nbcols - 1
        wincols = lrx - ulx + 1
        winrows = lry - uly + 1
        if wincols <= 0 or winrows <= 0:
            return
        lines = r.al
        if lines >= winrows:
            lines = 0
        self.fb.scroll((ulx, uly, self.bda.video_page), (wincols, winrows), lines * direction,
                       ord(" "), r.bh, True)

    def _h06(self, r: Registers) -> None:
        self._verify_scroll(r, 1)

    def _h07(self, r: Registers) -> None:
        self._verify_scroll(r, -1)

    def _h08(self, r: Registers) -> None:
        car, attr = self.fb.read_char(self.get_cursor_pos(r.bh))
        r.al = car
        r.ah = attr

    def _h09(self, r: Registers) -> None:
        cp = self.get_cursor_pos(r.bh)
        if self.fb.planar_write_char_run(cp, r.al, r.bl, r.cx):
            return
        for _ in range(r.cx):
            cp = self._write_char(cp, r.al, r.bl, True)

    def _h0a(self, r: Registers) -> None:
        # In graphics modes AH=0Ah writes with BL as AH=09h does (vgafb_write_char).
        cp = self.get_cursor_pos(r.bh)
        if self.fb.planar_write_char_run(cp, r.al, r.bl, r.cx):
            return
        for _ in range(r.cx):
            cp = self._write_char(cp, r.al, r.bl, False)

    def _h0b(self, r: Registers) -> None:
        if r.bh == 0x00:
            self.std.set_border_color(r.bl)
        elif r.bh == 0x01:
            self.std.set_palette(r.bl)

    def _h0c(self, r: Registers) -> None:
        self.fb.write_pixel(r.al, r.cx, r.dx)  # BH (page) is ignored, as in SeaVGABIOS

    def _h0d(self, r: Registers) -> None:
        r.al = self.fb.read_pixel(r.cx, r.dx)

    def _h0e(self, r: Registers) -> None:
        # Output goes to the active page whatever BH says (SeaVGABIOS, RBIL notwithstanding).
        cp = self.get_cursor_pos(self.bda.video_page)
        cp = self._write_teletype(cp, r.al, r.bl, False)
        self.set_cursor_pos(cp)

    def _h0f(self, r: Registers) -> None:
        r.bh = self.bda.video_page
        r.al = self.bda.video_mode | (self.bda.video_ctl & 0x80)
        r.ah = self.bda.video_cols & 0xFF

    # AH=10h palette
    def _h10(self, r: Registers) -> None:
        std = self.std
        al = r.al
        if al == 0x00:
            if r.bl <= 0x14:
                std.attr_write(r.bl, r.bh)
        elif al == 0x01:
            std.set_overscan_border_color(r.bh)
        elif al == 0x02:
            std.set_all_palette_reg(self.bus.read(linear(r.es, r.dx), 17))
        elif al == 0x03:
            std.toggle_intensity(r.bl)
        elif al == 0x07:
            if r.bl <= 0x14:
                r.bh = std.attr_read(r.bl)
        elif al == 0x08:
            r.bh = std.get_overscan_border_color()
        elif al == 0x09:
            self.bus.write(linear(r.es, r.dx), std.get_all_palette_reg())
        elif al == 0x10:
            std.dac_write(bytes((r.dh, r.ch, r.cl)), r.bx & 0xFF, 1)
        elif al == 0x12:
            std.dac_write(self.bus.read(linear(r.es, r.dx), 3 * r.cx), r.bx & 0xFF, r.cx)
        elif al == 0x13:
            std.select_video_dac_color_page(r.bl, r.bh)
        elif al == 0x15:
            rgb = std.dac_read(r.bx & 0xFF, 1)
            r.dh, r.ch, r.cl = rgb[0], rgb[1], rgb[2]
        elif al == 0x17:
            self.bus.write(linear(r.es, r.dx), std.dac_read(r.bx & 0xFF, r.cx))
        elif al == 0x18:
            std.pelmask_write(r.bl)
        elif al == 0x19:
            r.bl = std.pelmask_read()
        elif al == 0x1A:
            mode, page = std.read_video_dac_state()
            r.bl = mode & 0xFF
            r.bh = page & 0xFF
        elif al == 0x1B:
            std.perform_gray_scale_summing(r.bx, r.cx)

    # AH=11h character generator
    def _font(self, height: int) -> bytes:
        return self.tables.fonts[height]

    def _load_gfx_font(self, seg: int, off: int, height: int, bl: int, dl: int) -> None:
        self.set_ivt(0x43, seg, off)
        rows = {0: dl, 1: 14, 3: 43}.get(bl, 25)
        self.bda.video_rows = (rows - 1) & 0xFF
        self.bda.char_height = height & 0xFF

    def _h11(self, r: Registers) -> None:
        std = self.std
        al = r.al
        if al in (0x00, 0x10):
            std.load_font((r.es, r.bp), r.cx, r.dx, r.bl, r.bh)
            if al == 0x10:
                self.set_scan_lines(r.bh)
        elif al in _ROM_FONT_LOADS:  # 01h/02h/04h load a ROM font; 11h/12h/14h also set rows
            height = _ROM_FONT_LOADS[al]
            std.load_font(self._font(height), 0x100, 0, r.bl, height)
            if al & 0x10:
                self.set_scan_lines(height)
        elif al == 0x03:
            std.set_text_block_specifier(r.bl)
        elif al == 0x20:
            self.set_ivt(0x1F, r.es, r.bp)
        elif al == 0x21:
            self._load_gfx_font(r.es, r.bp, r.cx & 0xFF, r.bl, r.dl)
        elif al == 0x22:
            self._load_gfx_font(ROM_SEG, ROM_VGAFONT14, 14, r.bl, r.dl)
        elif al == 0x23:
            self._load_gfx_font(ROM_SEG, ROM_VGAFONT8, 8, r.bl, r.dl)
        elif al == 0x24:
            self._load_gfx_font(ROM_SEG, ROM_VGAFONT16, 16, r.bl, r.dl)
        elif al == 0x30:
            bh = r.bh
            if bh == 0x00:
                r.es, r.bp = self.get_ivt(0x1F)
            elif bh == 0x01:
                r.es, r.bp = self.get_ivt(0x43)
            elif bh in (2, 3, 4, 5, 6, 7):
                r.es = ROM_SEG
                r.bp = {2: ROM_VGAFONT14, 3: ROM_VGAFONT8, 4: ROM_VGAFONT8 + 128 * 8,
                        5: ROM_VGAFONT14ALT, 6: ROM_VGAFONT16, 7: ROM_VGAFONT16ALT}[bh]
            else:
                return
            r.cx = self.bda.char_height & 0xFF
            r.dl = self.bda.video_rows

    # AH=12h alternate select
    def _h12(self, r: Registers) -> None:
        bda = self.bda
        bl = r.bl
        if bl == 0x10:
            r.bx = 0x0103 if bda.crtc_address == VGAREG_MDA_CRTC_ADDRESS else 0x0003
            r.cx = bda.video_switches & 0x0F
        elif bl == 0x30:
            mctl, vswt = bda.modeset_ctl, bda.video_switches
            if r.al == 0x00:      # 200 lines
                mctl = (mctl & ~0x10) | 0x80
                vswt = (vswt & ~0x0F) | 0x08
            elif r.al == 0x01:    # 350 lines
                mctl &= ~0x90
                vswt = (vswt & ~0x0F) | 0x09
            elif r.al == 0x02:    # 400 lines
                mctl = (mctl & ~0x80) | 0x10
                vswt = (vswt & ~0x0F) | 0x09
            bda.modeset_ctl = mctl
            bda.video_switches = vswt
            r.al = 0x12
        elif bl == 0x31:
            bda.video_ctl = (bda.video_ctl & ~0x08) | ((r.al & 0x01) << 3)
            r.al = 0x12
        elif bl == 0x32:
            self.std.enable_video_addressing(r.al)
            r.al = 0x12
        elif bl == 0x33:
            v = ((r.al << 1) & 0x02) ^ 0x02
            bda.modeset_ctl = (bda.modeset_ctl & ~0x02) | v
            r.al = 0x12
        elif bl == 0x34:
            bda.video_ctl = (bda.video_ctl & ~0x01) | (r.al & 0x01)
            r.al = 0x12
        elif bl in (0x35, 0x36):
            r.al = 0x12  # display switch / video refresh control: accepted, no effect

    # AH=13h write string
    def _h13(self, r: Registers) -> None:
        """Each byte is read just before its character is written (a string in video memory
        that the output overtakes copies what was already written)."""
        cp = (r.dl, r.dh, r.bh)
        addr = linear(r.es, r.bp)
        attr = r.bl
        readb = self.bus.readb
        for _ in range(r.cx):
            car = readb(addr)
            addr += 1
            if r.al & 2:
                attr = readb(addr)
                addr += 1
            cp = self._write_teletype(cp, car, attr, True)
        if r.al & 1:
            self.set_cursor_pos(cp)

    # AH=1Ah display combination
    def _h1a(self, r: Registers) -> None:
        if r.al == 0x00:
            r.bx = self.bda.dcc_index
            r.al = 0x1A
        elif r.al == 0x01:
            self.bda.dcc_index = r.bl
            r.al = 0x1A

    # AH=1Bh functionality/state information
    def _h1b(self, r: Registers) -> None:
        addr = linear(r.es, r.di)
        info = bytearray(64)
        info[0:4] = struct.pack("<HH", ROM_STATIC_FUNCTIONALITY, ROM_SEG)
        info[4:34] = self.bda.read(0x49, 30)
        info[34:37] = self.bda.read(0x84, 3)
        info[37] = self.bda.dcc_index
        info[39:41] = struct.pack("<H", 16)
        info[41] = 8
        info[42] = 2
        info[49] = 3
        self.bus.write(addr, bytes(info))
        r.al = 0x1B

    # AH=1Ch save/restore video state
    def _h1c(self, r: Registers) -> None:
        states = r.cx
        cmd = r.al
        if states & ~0x07 or cmd > 2:
            return
        ret = save_restore(self, states | (cmd << 8), linear(r.es, r.bx))
        if ret < 0:
            return
        if cmd == 0:
            r.bx = (ret // 64) & 0xFFFF
        r.al = 0x1C

    def _h4f(self, r: Registers) -> None:
        handle_104f(self, r)


_HANDLERS = {
    0x00: VGABios._h00, 0x01: VGABios._h01, 0x02: VGABios._h02, 0x03: VGABios._h03,
    0x04: VGABios._h04, 0x05: VGABios._h05, 0x06: VGABios._h06, 0x07: VGABios._h07,
    0x08: VGABios._h08, 0x09: VGABios._h09, 0x0A: VGABios._h0a, 0x0B: VGABios._h0b,
    0x0C: VGABios._h0c, 0x0D: VGABios._h0d, 0x0E: VGABios._h0e, 0x0F: VGABios._h0f,
    0x10: VGABios._h10, 0x11: VGABios._h11, 0x12: VGABios._h12, 0x13: VGABios._h13,
    0x1A: VGABios._h1a, 0x1B: VGABios._h1b, 0x1C: VGABios._h1c, 0x4F: VGABios._h4f,
}
