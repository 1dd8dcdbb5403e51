"""VESA BIOS Extensions, AX=4Fxxh, as SeaVGABIOS's vgasrc/vbe.c over Bochs DISPI."""

from __future__ import annotations

import struct

from .data import (
    BF_PM_MASK,
    MF_LINEARFB,
    MF_VBEFLAGS,
    MM_CGA,
    MM_DIRECT,
    MM_PLANAR,
    MM_TEXT,
    MM_YUV,
    ROM_ENTRY_104F05,
    ROM_SEG,
    ROM_VBE_OEM_STRING,
    ROM_VBE_PRODUCT_STRING,
    ROM_VBE_REVISION_STRING,
    ROM_VBE_VENDOR_STRING,
    VBE_RETURN_STATUS_INVALID,
    vga_bpp,
)
from .registers import Registers, linear
from .savestate import save_restore
from .stdvga import SEG_MTEXT

VESA_SIGNATURE = b"VESA"
VBE_MODE_ATTRIBUTE_SUPPORTED = 0x0001
VBE_MODE_ATTRIBUTE_EXTENDED_INFORMATION_AVAILABLE = 0x0002
VBE_MODE_ATTRIBUTE_TTY_BIOS_SUPPORT = 0x0004
VBE_MODE_ATTRIBUTE_COLOR_MODE = 0x0008
VBE_MODE_ATTRIBUTE_GRAPHICS_MODE = 0x0010
VBE_MODE_ATTRIBUTE_NOT_VGA_COMPATIBLE = 0x0020
VBE_MODE_ATTRIBUTE_LINEAR_FRAME_BUFFER_MODE = 0x0080
VBE_WINDOW_ATTRIBUTE_RELOCATABLE = 0x01
VBE_WINDOW_ATTRIBUTE_READABLE = 0x02
VBE_WINDOW_ATTRIBUTE_WRITEABLE = 0x04
VBE_DIRECTCOLOR_RESERVED_BITS_AVAILABLE = 0x02
VBE_INFO_SIZE = 512
VBE_MODE_INFO_SIZE = 256


def _vbe_104f00(bios, r: Registers) -> None:
    addr = linear(r.es, r.di)
    info = bytearray(VBE_INFO_SIZE)
    info[0:4] = VESA_SIGNATURE
    struct.pack_into("<H", info, 4, 0x0300)
    struct.pack_into("<HH", info, 6, ROM_VBE_OEM_STRING, ROM_SEG)
    struct.pack_into("<I", info, 10, bios.vbe_capabilities)
    struct.pack_into("<HH", info, 14, (r.di + 34) & 0xFFFF, r.es)  # list in info->reserved
    struct.pack_into("<H", info, 18, (bios.vbe_total_memory // (64 * 1024)) & 0xFFFF)
    struct.pack_into("<HH", info, 22, ROM_VBE_VENDOR_STRING, ROM_SEG)
    struct.pack_into("<HH", info, 26, ROM_VBE_PRODUCT_STRING, ROM_SEG)
    struct.pack_into("<HH", info, 30, ROM_VBE_REVISION_STRING, ROM_SEG)
    modes = bios.list_modes()[:110]  # 222 reserved bytes, one slot kept for the 0xFFFF end
    for i, m in enumerate(modes + [0xFFFF]):
        struct.pack_into("<H", info, 34 + 2 * i, m)
    bios.bus.write(addr, bytes(info))
    r.ax = 0x004F


def _vbe_104f01(bios, r: Registers) -> None:
    mode = r.cx
    vmode = bios.find_mode(mode & ~MF_VBEFLAGS & 0xFFFF)
    if vmode is None:
        r.ax = 0x014F
        return
    info = bytearray(VBE_MODE_INFO_SIZE)
    gran = bios.vbe_win_granularity
    info[2] = ((VBE_WINDOW_ATTRIBUTE_RELOCATABLE if gran else 0)
               | VBE_WINDOW_ATTRIBUTE_READABLE | VBE_WINDOW_ATTRIBUTE_WRITEABLE)
    info[3] = 0
    struct.pack_into("<HHHH", info, 4, gran, 64, vmode.sstart, 0)
    struct.pack_into("<HH", info, 12, ROM_ENTRY_104F05, ROM_SEG)
    linesize = -(-(vmode.width * vga_bpp(vmode)) // 8)
    linesize = -(-linesize // 4) * 4  # Bochs/QEMU VGA pitch is 4-byte aligned
    struct.pack_into("<HHH", info, 16, linesize & 0xFFFF, vmode.width, vmode.height)
    info[22] = vmode.cwidth
    info[23] = vmode.cheight
    info[25] = vmode.depth
    info[27] = vmode.memmodel
    info[30] = 1
    mode_attr = (VBE_MODE_ATTRIBUTE_SUPPORTED | VBE_MODE_ATTRIBUTE_EXTENDED_INFORMATION_AVAILABLE
                 | VBE_MODE_ATTRIBUTE_COLOR_MODE | VBE_MODE_ATTRIBUTE_GRAPHICS_MODE
                 | VBE_MODE_ATTRIBUTE_NOT_VGA_COMPATIBLE)
    framebuffer = 0
    planes = banks = 1
    pages = bios.vbe_total_memory // (-(-(vmode.height * linesize) // 65536) * 65536)
    mm = vmode.memmodel
    if mm == MM_TEXT:
        mode_attr &= ~VBE_MODE_ATTRIBUTE_GRAPHICS_MODE
        mode_attr |= VBE_MODE_ATTRIBUTE_TTY_BIOS_SUPPORT
        if vmode.sstart == SEG_MTEXT:
            mode_attr &= ~VBE_MODE_ATTRIBUTE_COLOR_MODE
        pages = 1
    elif mm == MM_CGA:
        pages = 1
        banks = 2
        info[28] = 8
    elif mm == MM_PLANAR:
        planes = 4
        pages //= 4
    else:
        framebuffer = bios.vbe_framebuffer
        if framebuffer:
            mode_attr |= VBE_MODE_ATTRIBUTE_LINEAR_FRAME_BUFFER_MODE
    pages = min(pages, 128)
    if pages < 2:
        pages += 1
    struct.pack_into("<H", info, 0, mode_attr)
    info[24] = planes
    info[29] = (pages - 1) & 0xFF
    info[26] = banks
    depth = vmode.depth
    sizes = {15: (5, 10, 5, 5, 5, 0, 1, 15), 16: (5, 11, 6, 5, 5, 0, 0, 0),
             24: (8, 16, 8, 8, 8, 0, 0, 0), 32: (8, 16, 8, 8, 8, 0, 8, 24)}
    rgba = sizes.get(depth, (0,) * 8)
    if depth == 32:
        info[39] = VBE_DIRECTCOLOR_RESERVED_BITS_AVAILABLE
    info[31:39] = bytes(rgba)
    if framebuffer:
        struct.pack_into("<I", info, 40, framebuffer)
        struct.pack_into("<H", info, 50, linesize & 0xFFFF)
        info[53] = 0
        info[54:62] = bytes(rgba)
    bios.bus.write(linear(r.es, r.di), bytes(info))
    r.ax = 0x004F


def _vbe_104f02(bios, r: Registers) -> None:
    mode = r.bx & ~MF_VBEFLAGS & 0xFFFF
    flags = r.bx & MF_VBEFLAGS
    ret = bios.set_mode(mode, flags)
    r.ah = ret & 0xFF
    r.al = 0x4F


def _vbe_104f03(bios, r: Registers) -> None:
    r.bx = bios.bda.vbe_mode
    r.ax = 0x004F


def _vbe_104f04(bios, r: Registers) -> None:
    states = r.cx
    cmd = r.dl
    if states & ~0x0F or cmd > 2:
        r.ax = 0x014F
        return
    ret = save_restore(bios, states | (cmd << 8), linear(r.es, r.bx))
    if ret < 0:
        r.ax = 0x014F
        return
    if cmd == 0:
        r.bx = (ret // 64) & 0xFFFF
    r.ax = 0x004F


def _vbe_104f05(bios, r: Registers) -> None:
    if r.bh > 1 or r.bl > 1:
        r.ax = 0x014F
        return
    if bios.bda.vbe_mode & MF_LINEARFB:
        r.ah = VBE_RETURN_STATUS_INVALID
        return
    vmode = bios.current_mode()
    if vmode is None:
        r.ax = 0x014F
        return
    if r.bh:
        ret = bios.hw_get_window(vmode, r.bl)
        if ret < 0:
            r.ax = 0x014F
            return
        r.dx = ret & 0xFFFF
        r.ax = 0x004F
        return
    if bios.hw_set_window(vmode, r.bl, r.dx):
        r.ax = 0x014F
        return
    r.ax = 0x004F


def _vbe_104f06(bios, r: Registers) -> None:
    if r.bl > 0x02:
        r.ax = 0x014F
        return
    vmode = bios.current_mode()
    if vmode is None:
        r.ax = 0x014F
        return
    bpp = vga_bpp(vmode)
    if r.bl == 0x00:
        bios.hw_set_linelength(vmode, -(-(r.cx * bpp) // 8))
    elif r.bl == 0x02:
        bios.hw_set_linelength(vmode, r.cx)
    linelength = bios.hw_get_linelength(vmode)
    if linelength <= 0:
        r.ax = 0x014F
        return
    r.bx = linelength & 0xFFFF
    r.cx = ((linelength * 8) // bpp) & 0xFFFF
    r.dx = (bios.vbe_total_memory // linelength) & 0xFFFF
    r.ax = 0x004F


def _vbe_104f07(bios, r: Registers) -> None:
    vmode = bios.current_mode()
    if vmode is None:
        r.ax = 0x014F
        return
    bpp = vga_bpp(vmode)
    linelength = bios.hw_get_linelength(vmode)
    if linelength < 0:
        r.ax = 0x014F
        return
    if r.bl in (0x00, 0x80):
        bios.hw_set_displaystart(vmode, -(-(r.cx * bpp) // 8) + linelength * r.dx)
    elif r.bl == 0x01:
        ret = bios.hw_get_displaystart(vmode)
        if not linelength:
            r.ax = 0x014F
            return
        r.dx = (ret // linelength) & 0xFFFF
        r.cx = ((ret % linelength) * 8 // bpp) & 0xFFFF
    else:
        r.ax = 0x014F
        return
    r.ax = 0x004F


def _vbe_104f08(bios, r: Registers) -> None:
    vmode = bios.current_mode()
    if vmode is None:
        r.ax = 0x014F
        return
    if vmode.memmodel in (MM_DIRECT, MM_YUV):
        r.ax = 0x034F
        return
    if r.bl > 1:
        r.ax = 0x014F
        return
    if r.bl == 0 and bios.hw_set_dacformat(vmode, r.bh) < 0:
        r.ax = 0x014F
        return
    ret = bios.hw_get_dacformat(vmode)
    if ret < 0:
        r.ax = 0x014F
        return
    r.bh = ret
    r.ax = 0x004F


def _vbe_104f10(bios, r: Registers) -> None:
    if r.bl == 0x00:
        r.bx = 0x0F30
    elif r.bl == 0x01:
        bios.bda.vga_flags = (bios.bda.vga_flags & ~BF_PM_MASK) | (r.bh & BF_PM_MASK)
    elif r.bl == 0x02:
        r.bh = bios.bda.vga_flags & BF_PM_MASK
    else:
        r.ax = 0x014F
        return
    r.ax = 0x004F


def _vbe_104f15(bios, r: Registers) -> None:
    edid = bios.vbe_edid
    if r.bl == 0x00:
        if edid[0] != 0x00 or edid[1] != 0xFF:
            r.ax = 0x014F
            return
        r.bx = 0x0103
    elif r.bl == 0x01:
        offset = r.dx * 128
        if offset >= len(edid):
            r.ax = 0x014F
            return
        bios.bus.write(linear(r.es, r.di), edid[offset:offset + 128])
    else:
        r.ax = 0x014F
        return
    r.ax = 0x004F


def _vbe_unsupported(bios, r: Registers) -> None:
    r.ax = 0x0100


_VBE = {0x00: _vbe_104f00, 0x01: _vbe_104f01, 0x02: _vbe_104f02, 0x03: _vbe_104f03,
        0x04: _vbe_104f04, 0x05: _vbe_104f05, 0x06: _vbe_104f06, 0x07: _vbe_104f07,
        0x08: _vbe_104f08, 0x0A: _vbe_unsupported, 0x10: _vbe_104f10, 0x15: _vbe_104f15}


def handle_104f(bios, r: Registers) -> None:
    _VBE.get(r.al, _vbe_unsupported)(bios, r)
