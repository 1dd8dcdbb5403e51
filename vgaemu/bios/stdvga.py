"""Standard VGA register access, as SeaVGABIOS's vgasrc/stdvgaio.c and stdvga.c do it.

Every effect goes through the machine's I/O address space (port reads and writes) and its
memory address space (the legacy window at 0xA0000-0xBFFFF), exactly as the real BIOS code
runs on the CPU, so the VGA model and its dirty tracking see the same accesses as in QEMU.
The port sequences follow SeaBIOS (e.g. an attribute write saves and restores the attribute
index, whose bit 5 is the palette-address-source / screen-enable bit).
"""

from __future__ import annotations

from .data import (MF_GRAYSUM, MF_NOCLEARMEM, MF_NOPALETTE, MM_CGA, MM_PLANAR, MM_TEXT,
                   VgaMode)

VGAREG_ACTL_ADDRESS = 0x3C0
VGAREG_ACTL_WRITE_DATA = 0x3C0
VGAREG_ACTL_READ_DATA = 0x3C1
VGAREG_INPUT_STATUS = 0x3C2
VGAREG_WRITE_MISC_OUTPUT = 0x3C2
VGAREG_VIDEO_ENABLE = 0x3C3
VGAREG_SEQU_ADDRESS = 0x3C4
VGAREG_SEQU_DATA = 0x3C5
VGAREG_PEL_MASK = 0x3C6
VGAREG_DAC_STATE = 0x3C7
VGAREG_DAC_READ_ADDRESS = 0x3C7
VGAREG_DAC_WRITE_ADDRESS = 0x3C8
VGAREG_DAC_DATA = 0x3C9
VGAREG_READ_FEATURE_CTL = 0x3CA
VGAREG_READ_MISC_OUTPUT = 0x3CC
VGAREG_GRDC_ADDRESS = 0x3CE
VGAREG_GRDC_DATA = 0x3CF
VGAREG_MDA_CRTC_ADDRESS = 0x3B4
VGAREG_VGA_CRTC_ADDRESS = 0x3D4
VGAREG_ACTL_RESET = 0x3DA  # SeaBIOS always uses the colour address, even in mono modes

SEG_GRAPH = 0xA000
SEG_CTEXT = 0xB800
SEG_MTEXT = 0xB000


class Bus:
    """CPU-side view of the machine: port I/O and physical memory, like x86 in/out and mov.

    Ports are reached as the CPU's IN/OUT reach them (vgaemu.cpu.portio): each port's
    ``address_space_io`` dispatch entry is remembered until the I/O map changes, so the
    BIOS alternating the VGA's ports (misc output at 3CCh, the CRTC at 3D4h, the attribute
    controller at 3C0h/3DAh: separate ranges) does not look its range up each time."""

    def __init__(self, machine) -> None:
        from vgaemu.cpu.portio import PortDispatch

        self.machine = machine
        self.io = machine.address_space_io
        self.mem = machine.address_space_memory
        ports = PortDispatch(self.io)
        self._in8, self._in16 = ports.inp[1], ports.inp[2]
        self._out8, self._out16 = ports.out[1], ports.out[2]
        # A byte or word of memory (a BDA field, a character cell) is one ld/st of the
        # address space: its own fast path, bound here (it masks the value to its size).
        self.readb, self.readw = self.mem.ldub, self.mem.lduw_le
        self.writeb, self.writew = self.mem.stb, self.mem.stw_le

    # ---- ports
    def outb(self, val: int, port: int) -> None:
        self._out8(port, val & 0xFF)

    def inb(self, port: int) -> int:
        return self._in8(port)

    def outw(self, val: int, port: int) -> None:
        # A 16-bit OUT to an index/data pair is the index byte then the data byte on the ISA
        # bus (QEMU splits it the same way for the VGA's byte-wide port region).
        self._out8(port, val & 0xFF)
        self._out8(port + 1, (val >> 8) & 0xFF)

    def outw16(self, val: int, port: int) -> None:
        """A true 16-bit port write (Bochs DISPI index/data registers are 16 bits wide)."""
        self._out16(port, val & 0xFFFF)

    def inw16(self, port: int) -> int:
        return self._in16(port)

    # ---- memory (linear physical addresses; readb/readw/writeb/writew: see __init__)
    def read(self, addr: int, n: int) -> bytes:
        if n <= 0:
            return b""
        return bytes(self.mem.read_bytes(addr, n))

    def write(self, addr: int, data: bytes) -> None:
        if data:
            self.mem.write(addr, bytes(data))


class StdVGA:
    """SeaVGABIOS's stdvga layer over a :class:`Bus`."""

    def __init__(self, bus: Bus) -> None:
        self.bus = bus

    # ---- stdvgaio.c
    def pelmask_read(self) -> int:
        return self.bus.inb(VGAREG_PEL_MASK)

    def pelmask_write(self, v: int) -> None:
        self.bus.outb(v, VGAREG_PEL_MASK)

    def misc_read(self) -> int:
        return self.bus.inb(VGAREG_READ_MISC_OUTPUT)

    def misc_write(self, v: int) -> None:
        self.bus.outb(v, VGAREG_WRITE_MISC_OUTPUT)

    def misc_mask(self, off: int, on: int) -> None:
        self.misc_write((self.misc_read() & ~off) | on)

    # An index/data pair (sequencer, graphics controller, CRTC): index at ``port``, data at
    # ``port + 1``; a write is one 16-bit OUT (index, data), as SeaVGABIOS's stdvga_*_write.
    def _ind_read(self, port: int, index: int) -> int:
        self.bus.outb(index, port)
        return self.bus.inb(port + 1)

    def _ind_write(self, port: int, index: int, value: int) -> None:
        self.bus.outw(((value & 0xFF) << 8) | index, port)

    def _ind_mask(self, port: int, index: int, off: int, on: int) -> None:
        self.bus.outb(index, port)
        v = self.bus.inb(port + 1)
        self.bus.outb((v & ~off) | on, port + 1)

    def sequ_read(self, index: int) -> int:
        return self._ind_read(VGAREG_SEQU_ADDRESS, index)

    def sequ_write(self, index: int, value: int) -> None:
        self._ind_write(VGAREG_SEQU_ADDRESS, index, value)

    def sequ_mask(self, index: int, off: int, on: int) -> None:
        self._ind_mask(VGAREG_SEQU_ADDRESS, index, off, on)

    def grdc_read(self, index: int) -> int:
        return self._ind_read(VGAREG_GRDC_ADDRESS, index)

    def grdc_write(self, index: int, value: int) -> None:
        self._ind_write(VGAREG_GRDC_ADDRESS, index, value)

    def grdc_mask(self, index: int, off: int, on: int) -> None:
        self._ind_mask(VGAREG_GRDC_ADDRESS, index, off, on)

    def crtc_read(self, crtc: int, index: int) -> int:
        return self._ind_read(crtc, index)

    def crtc_write(self, crtc: int, index: int, value: int) -> None:
        self._ind_write(crtc, index, value)

    def crtc_mask(self, crtc: int, index: int, off: int, on: int) -> None:
        self._ind_mask(crtc, index, off, on)

    def attr_read(self, index: int) -> int:
        b = self.bus
        b.inb(VGAREG_ACTL_RESET)
        orig = b.inb(VGAREG_ACTL_ADDRESS)
        b.outb(index, VGAREG_ACTL_ADDRESS)
        v = b.inb(VGAREG_ACTL_READ_DATA)
        b.inb(VGAREG_ACTL_RESET)
        b.outb(orig, VGAREG_ACTL_ADDRESS)
        return v

    def attr_write(self, index: int, value: int) -> None:
        b = self.bus
        b.inb(VGAREG_ACTL_RESET)
        orig = b.inb(VGAREG_ACTL_ADDRESS)
        b.outb(index, VGAREG_ACTL_ADDRESS)
        b.outb(value, VGAREG_ACTL_WRITE_DATA)
        b.outb(orig, VGAREG_ACTL_ADDRESS)

    def attr_mask(self, index: int, off: int, on: int) -> None:
        b = self.bus
        b.inb(VGAREG_ACTL_RESET)
        orig = b.inb(VGAREG_ACTL_ADDRESS)
        b.outb(index, VGAREG_ACTL_ADDRESS)
        v = b.inb(VGAREG_ACTL_READ_DATA)
        b.outb((v & ~off) | on, VGAREG_ACTL_WRITE_DATA)
        b.outb(orig, VGAREG_ACTL_ADDRESS)

    def attrindex_read(self) -> int:
        self.bus.inb(VGAREG_ACTL_RESET)
        return self.bus.inb(VGAREG_ACTL_ADDRESS)

    def attrindex_write(self, v: int) -> None:
        self.bus.inb(VGAREG_ACTL_RESET)
        self.bus.outb(v, VGAREG_ACTL_ADDRESS)

    def dac_read(self, start: int, count: int) -> bytes:
        b = self.bus
        b.outb(start, VGAREG_DAC_READ_ADDRESS)
        return bytes(b.inb(VGAREG_DAC_DATA) for _ in range(3 * count))

    def dac_write(self, data: bytes, start: int, count: int) -> None:
        b = self.bus
        b.outb(start, VGAREG_DAC_WRITE_ADDRESS)
        for v in data[:3 * count]:
            b.outb(v, VGAREG_DAC_DATA)

    # ---- stdvga.c: attribute control
    def set_border_color(self, color: int) -> None:
        v1 = color & 0x0F
        if v1 & 0x08:
            v1 += 0x08
        self.attr_write(0x00, v1)
        for i in range(1, 4):
            self.attr_mask(i, 0x10, color & 0x10)

    def set_overscan_border_color(self, color: int) -> None:
        self.attr_write(0x11, color)

    def get_overscan_border_color(self) -> int:
        return self.attr_read(0x11)

    def set_palette(self, palid: int) -> None:
        for i in range(1, 4):
            self.attr_mask(i, 0x01, palid & 0x01)

    def set_all_palette_reg(self, data: bytes) -> None:
        for i in range(16):
            self.attr_write(i, data[i])
        self.attr_write(0x11, data[16])

    def get_all_palette_reg(self) -> bytes:
        out = [self.attr_read(i) for i in range(16)]
        out.append(self.attr_read(0x11))
        return bytes(out)

    def toggle_intensity(self, flag: int) -> None:
        self.attr_mask(0x10, 0x08, (flag & 0x01) << 3)

    def select_video_dac_color_page(self, flag: int, data: int) -> None:
        if not (flag & 0x01):
            self.attr_mask(0x10, 0x80, (data << 7) & 0xFF)
            return
        val = self.attr_read(0x10)
        if not (val & 0x80):
            data <<= 2
        self.attr_write(0x14, data & 0x0F)

    def read_video_dac_state(self) -> tuple[int, int]:
        val1 = self.attr_read(0x10) >> 7
        val2 = self.attr_read(0x14) & 0x0F
        if not (val1 & 0x01):
            val2 >>= 2
        return val1, val2

    # ---- DAC
    def perform_gray_scale_summing(self, start: int, count: int) -> None:
        self.attrindex_write(0x00)
        for i in range(start, start + count):
            r, g, b = self.dac_read(i & 0xFF, 1)
            # intensity = 0.3 R + 0.59 G + 0.11 B, rounded, in 6-bit DAC units
            intensity = min(((77 * r + 151 * g + 28 * b) + 0x80) >> 8, 0x3F)
            self.dac_write(bytes((intensity,) * 3), i & 0xFF, 1)
        self.attrindex_write(0x20)

    # ---- memory control
    def set_text_block_specifier(self, spec: int) -> None:
        self.sequ_write(0x03, spec)

    def planar4_plane(self, plane: int) -> None:
        """Read and write one plane (map mask + read map select), or all again for -1."""
        if plane < 0:
            self.sequ_write(0x02, 0x0F)
            self.grdc_write(0x04, 0)
        else:
            self.sequ_write(0x02, 1 << plane)
            self.grdc_write(0x04, plane)

    # ---- fonts
    def _get_font_access(self) -> None:
        self.sequ_write(0x00, 0x01)
        self.sequ_write(0x02, 0x04)
        self.sequ_write(0x04, 0x07)
        self.sequ_write(0x00, 0x03)
        self.grdc_write(0x04, 0x02)
        self.grdc_write(0x05, 0x00)
        self.grdc_write(0x06, 0x04)

    def _release_font_access(self) -> None:
        self.sequ_write(0x00, 0x01)
        self.sequ_write(0x02, 0x03)
        self.sequ_write(0x04, 0x03)
        self.sequ_write(0x00, 0x03)
        v = 0x0E if (self.misc_read() & 0x01) else 0x0A
        self.grdc_write(0x06, v)
        self.grdc_write(0x04, 0x00)
        self.grdc_write(0x05, 0x10)

    def load_font(self, src: bytes | tuple[int, int], count: int, start: int, destflags: int,
                  fontsize: int) -> None:
        """Copy ``count`` glyphs of ``fontsize`` bytes into plane 2, 32 bytes per glyph.

        ``destflags`` selects the 8K character block (bits 0-1: 16K steps, bit 2: +8K) as
        stdvga_load_font does; plane 2 is reached at A000:0000 with map mask 4 and GR6=4.
        ``src`` is the glyph bytes, or the (segment, offset) of a guest's font: that is read
        glyph by glyph inside the font access, as SeaVGABIOS's memcpy_far does, so the offset
        wraps in its segment and a font in the VGA window is read through the font-access
        mapping (0xB0000-0xBFFFF reads 0xFF, 0xA0000 reads plane 2).
        """
        self._get_font_access()
        blockaddr = ((destflags & 0x03) << 14) + ((destflags & 0x04) << 11)
        for i in range(count):
            dst = blockaddr + (start + i) * 32
            if isinstance(src, tuple):
                self._memcpy_far(SEG_GRAPH, dst, src[0], src[1] + i * fontsize, fontsize)
            else:
                self.bus.write(SEG_GRAPH * 16 + (dst & 0xFFFF),
                               src[i * fontsize:(i + 1) * fontsize])
        self._release_font_access()

    def _memcpy_far(self, dseg: int, doff: int, sseg: int, soff: int, n: int) -> None:
        """``rep movsb`` with 16-bit SI/DI; byte by byte while the source is in the VGA window
        (where it may alias the destination plane)."""
        bus = self.bus
        dbase, sbase = dseg << 4, sseg << 4
        if sbase < 0xC0000 and sbase + 0xFFFF >= 0xA0000:
            for k in range(n):
                bus.writeb(dbase + ((doff + k) & 0xFFFF), bus.readb(sbase + ((soff + k) & 0xFFFF)))
            return
        k = 0
        while k < n:
            s, d = (soff + k) & 0xFFFF, (doff + k) & 0xFFFF
            run = min(n - k, 0x10000 - s, 0x10000 - d)
            bus.write(dbase + d, bus.read(sbase + s, run))
            k += run

    # ---- CRTC
    def get_crtc(self) -> int:
        return VGAREG_VGA_CRTC_ADDRESS if self.misc_read() & 1 else VGAREG_MDA_CRTC_ADDRESS

    @staticmethod
    def vram_ratio(vmode: VgaMode) -> int:
        """System-visible framebuffer bytes per VRAM byte, as stdvga_vram_ratio."""
        if vmode.memmodel == MM_TEXT:
            return 2
        if vmode.memmodel == MM_CGA:
            return 4 // vmode.depth
        if vmode.memmodel == MM_PLANAR:
            return 4
        return 1

    def set_cursor_shape(self, cursor_type: int) -> None:
        crtc = self.get_crtc()
        self.crtc_write(crtc, 0x0A, (cursor_type >> 8) & 0xFF)
        self.crtc_write(crtc, 0x0B, cursor_type & 0xFF)

    def set_cursor_pos(self, address: int) -> None:
        crtc = self.get_crtc()
        address //= 2  # text mode: one character cell per CRTC address
        self.crtc_write(crtc, 0x0E, (address >> 8) & 0xFF)
        self.crtc_write(crtc, 0x0F, address & 0xFF)

    def set_scan_lines(self, lines: int) -> None:
        self.crtc_mask(self.get_crtc(), 0x09, 0x1F, (lines - 1) & 0xFF)

    def get_vde(self) -> int:
        crtc = self.get_crtc()
        vde = self.crtc_read(crtc, 0x12)
        ovl = self.crtc_read(crtc, 0x07)
        return vde + (((ovl & 0x02) << 7) + ((ovl & 0x40) << 3) + 1)

    def get_linelength(self, vmode: VgaMode) -> int:
        val = self.crtc_read(self.get_crtc(), 0x13)
        return val * 8 // self.vram_ratio(vmode)

    def set_linelength(self, vmode: VgaMode, val: int) -> None:
        ratio = self.vram_ratio(vmode)
        self.crtc_write(self.get_crtc(), 0x13, -(-(val * ratio) // 8))

    def get_displaystart(self, vmode: VgaMode) -> int:
        crtc = self.get_crtc()
        addr = (self.crtc_read(crtc, 0x0C) << 8) | self.crtc_read(crtc, 0x0D)
        return addr * 4 // self.vram_ratio(vmode)

    def set_displaystart(self, vmode: VgaMode, val: int) -> None:
        crtc = self.get_crtc()
        val = val * self.vram_ratio(vmode) // 4
        self.crtc_write(crtc, 0x0C, (val >> 8) & 0xFF)
        self.crtc_write(crtc, 0x0D, val & 0xFF)

    # ---- misc
    def enable_video_addressing(self, disable: int) -> None:
        self.misc_mask(0x02, 0x00 if disable & 1 else 0x02)

    def setup(self) -> None:
        """vga_post's stdvga_setup: colour mode, CPU access on, >64K (SR4 bit 1)."""
        self.misc_write(0xC3)
        self.sequ_write(0x04, 0x02)

    # ---- mode set
    def _clear_screen(self, vmode: VgaMode) -> None:
        base = vmode.sstart * 16
        if vmode.memmodel == MM_TEXT:
            self.bus.write(base, b"\x20\x07" * (16 * 1024))
        elif vmode.memmodel == MM_CGA:
            self.bus.write(base, bytes(32 * 1024))
        else:
            self.bus.write(base, bytes(64 * 1024))

    def set_mode(self, vmode: VgaMode, flags: int, font16: bytes) -> None:
        """stdvga_set_mode: palette, attribute, sequencer, graphics, CRTC, misc, clear, font."""
        if not (flags & MF_NOPALETTE):
            self.pelmask_write(vmode.pelmask)
            pal = vmode.palette
            palsize = len(pal) // 3
            self.dac_write(pal, 0, palsize)
            for i in range(palsize, 0x100):
                self.dac_write(b"\0\0\0", i, 1)
            if flags & MF_GRAYSUM:
                self.perform_gray_scale_summing(0x00, 0x100)
        for i in range(0x14):
            self.attr_write(i, vmode.actl[i])
        self.attr_write(0x14, 0x00)
        self.sequ_write(0x00, 0x03)
        for i in range(1, 5):
            self.sequ_write(i, vmode.sequ[i - 1])
        for i in range(9):
            self.grdc_write(i, vmode.grdc[i])
        crtc = VGAREG_VGA_CRTC_ADDRESS if vmode.misc & 1 else VGAREG_MDA_CRTC_ADDRESS
        self.crtc_write(crtc, 0x11, 0x00)  # lift CRTC write protection
        for i in range(0x19):
            self.crtc_write(crtc, i, vmode.crtc[i])
        self.misc_write(vmode.misc)
        self.attrindex_write(0x20)  # enable video
        if not (flags & MF_NOCLEARMEM):
            self._clear_screen(vmode)
        if vmode.memmodel == MM_TEXT:
            self.load_font(font16, 0x100, 0, 0, 16)
