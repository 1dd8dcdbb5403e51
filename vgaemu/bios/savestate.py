"""Video state save/restore (INT 10h AH=1Ch, VBE 4F04h) as SeaVGABIOS lays the buffer out."""

from __future__ import annotations

import struct

from . import bda as B

SR_HARDWARE = 0x0001
SR_BDA = 0x0002
SR_DAC = 0x0004
SR_REGISTERS = 0x0008
SR_SAVE = 0x0100
SR_RESTORE = 0x0200

HW_SIZE = 70      # struct saveVideoHardware
BDA_SIZE = 44     # struct saveBDAstate
DAC_SIZE = 772    # struct saveDACcolors
DISPI_SIZE = 18   # XRES..Y_OFFSET, u16 each


def _save_hw(bios, addr: int) -> None:
    std, bus = bios.std, bios.bus
    crtc = std.get_crtc()
    buf = bytearray(HW_SIZE)
    buf[0] = bus.inb(0x3C4)
    buf[1] = bus.inb(crtc)
    buf[2] = bus.inb(0x3CE)
    buf[3] = std.attrindex_read()
    buf[4] = bus.inb(0x3CA)
    for i in range(4):
        buf[5 + i] = std.sequ_read(i + 1)
    buf[9] = std.sequ_read(0)
    for i in range(25):
        buf[10 + i] = std.crtc_read(crtc, i)
    for i in range(20):
        buf[35 + i] = std.attr_read(i)
    for i in range(9):
        buf[55 + i] = std.grdc_read(i)
    struct.pack_into("<H", buf, 64, crtc)
    bus.write(addr, bytes(buf))


def _restore_hw(bios, addr: int) -> None:
    std, bus = bios.std, bios.bus
    buf = bus.read(addr, HW_SIZE)
    for i in range(4):
        std.sequ_write(i + 1, buf[5 + i])
    std.sequ_write(0, buf[9])
    crtc = struct.unpack_from("<H", buf, 64)[0]
    std.crtc_write(crtc, 0x11, 0x00)
    for i in range(25):
        if i != 0x11:
            std.crtc_write(crtc, i, buf[10 + i])
    std.misc_mask(0x01, 0x01 if crtc == 0x3D4 else 0x00)
    std.crtc_write(crtc, 0x11, buf[10 + 0x11])
    for i in range(20):
        std.attr_write(i, buf[35 + i])
    std.attrindex_write(buf[3])
    for i in range(9):
        std.grdc_write(i, buf[55 + i])
    bus.outb(buf[0], 0x3C4)
    bus.outb(buf[1], crtc)
    bus.outb(buf[2], 0x3CE)
    bus.outb(buf[4], crtc - 0x4 + 0xA)


def _bda(bios, cmd: int, addr: int) -> int:
    if not cmd & SR_BDA:
        return 0
    bus = bios.bus
    if cmd & SR_SAVE:
        data = (bus.read(B.BDA + 0x49, 28) + bus.read(B.BDA + 0x84, 6)
                + struct.pack("<H", bios.bda.vbe_mode) + bus.read(0x1F * 4, 4)
                + bus.read(0x43 * 4, 4))
        bus.write(addr, data)
    if cmd & SR_RESTORE:
        data = bus.read(addr, BDA_SIZE)
        bus.write(B.BDA + 0x49, data[0:28])
        bus.write(B.BDA + 0x84, data[28:34])
        vbe_mode = struct.unpack_from("<H", data, 34)[0]
        bios.bda.vbe_mode = vbe_mode
        vmode = bios.find_mode(vbe_mode & ~0xFE00)
        bios.bda.vgamode_offset = bios._offset_of.get(id(vmode), 0) if vmode else 0
        bus.write(0x1F * 4, data[36:40])
        bus.write(0x43 * 4, data[40:44])
    return BDA_SIZE


def _save_dac(bios, addr: int) -> None:
    bus, std = bios.bus, bios.std
    buf = bytes((bus.inb(0x3C7), bus.inb(0x3C8), std.pelmask_read())) + std.dac_read(0, 256) \
        + b"\0"
    bus.write(addr, buf)


def _restore_dac(bios, addr: int) -> None:
    bus, std = bios.bus, bios.std
    buf = bus.read(addr, DAC_SIZE)
    std.pelmask_write(buf[2])
    std.dac_write(buf[3:3 + 768], 0, 256)
    bus.outb(buf[1], 0x3C8)


def save_restore(bios, cmd: int, addr: int) -> int:
    """vgahw_save_restore: returns the buffer size used (bytes), as SeaVGABIOS."""
    pos = addr
    if cmd & SR_HARDWARE:
        if cmd & SR_SAVE:
            _save_hw(bios, pos)
        if cmd & SR_RESTORE:
            _restore_hw(bios, pos)
        pos += HW_SIZE
    pos += _bda(bios, cmd, pos)
    if cmd & SR_DAC:
        if cmd & SR_SAVE:
            _save_dac(bios, pos)
        if cmd & SR_RESTORE:
            _restore_dac(bios, pos)
        pos += DAC_SIZE
    ret = pos - addr
    if not (cmd & SR_REGISTERS) or not bios.dispi_found:
        return ret
    if cmd & SR_SAVE:
        en = bios._dispi_read(4)
        vals = [en] + ([bios._dispi_read(i) for i in range(1, 10) if i != 4]
                       if en & 0x01 else [])
        bios.bus.write(pos, struct.pack(f"<{len(vals)}H", *vals))
    if cmd & SR_RESTORE:
        raw = bios.bus.read(pos, DISPI_SIZE)
        en = struct.unpack_from("<H", raw, 0)[0]
        if not en & 0x01:
            bios._dispi_write(4, en)
        else:
            k = 1
            for i in range(1, 10):
                if i == 4:
                    bios._dispi_write(4, en)
                else:
                    bios._dispi_write(i, struct.unpack_from("<H", raw, 2 * k)[0])
                    k += 1
    return ret + DISPI_SIZE
