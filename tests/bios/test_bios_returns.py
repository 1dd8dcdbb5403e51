"""Register values the BIOS returns, as SeaVGABIOS 1.16.2 computes them (vgabios.c, vbe.c).

Screens can't show registers, BDA fields or memory the BIOS fills, so these are checked
against the source's rules, on ``vgaemu.Machine`` and its own BIOS (``machine.bios``).
"""

from __future__ import annotations

import struct

import pytest

from vgaemu.bios import BIOSError, Registers
from vgaemu.bios.data import load_tables
from vgaemu.machine import Machine


@pytest.fixture
def bios():
    b = Machine(memory="32M").bios
    b.boot(banner=False)
    return b


def ram(bios, addr, n=1):
    return bios.machine.read(addr, n)


def u16(bios, addr):
    return struct.unpack("<H", ram(bios, addr, 2))[0]


def call(bios, ax, **kw):
    return bios.int10(Registers(ax=ax, **kw))


def test_get_mode_and_cursor(bios):
    r = call(bios, 0x0F00)
    assert (r.al, r.ah, r.bh) == (0x03, 80, 0)
    call(bios, 0x0200, bx=0x0300, dx=0x0A05)
    r = call(bios, 0x0300, bx=0x0300)
    assert (r.dh, r.dl, r.cx) == (0x0A, 0x05, 0x0607)
    assert call(bios, 0x0300, bx=0x0900).dx == 0  # page > 7


def test_mode_set_al_values(bios):
    assert call(bios, 0x0006).al == 0x3F
    assert call(bios, 0x0004).al == 0x30
    assert call(bios, 0x0012).al == 0x20


def test_read_char_text_and_graphics(bios):
    call(bios, 0x0900 | ord("Q"), bx=0x001E, cx=1)
    r = call(bios, 0x0800)
    assert (r.al, r.ah) == (ord("Q"), 0x1E)
    call(bios, 0x0012)
    call(bios, 0x0900 | ord("R"), bx=0x000C, cx=1)
    r = call(bios, 0x0800)
    assert (r.al, r.ah) == (ord("R"), 0x0C)


def test_read_pixel(bios):
    call(bios, 0x0012)
    call(bios, 0x0C0B, cx=33, dx=7)
    assert call(bios, 0x0D00, cx=33, dx=7).al == 0x0B
    call(bios, 0x0013)
    call(bios, 0x0CC8, cx=300, dx=199)
    assert call(bios, 0x0D00, cx=300, dx=199).al == 0xC8
    call(bios, 0x0004)
    call(bios, 0x0C02, cx=5, dx=3)
    assert call(bios, 0x0D00, cx=5, dx=3).al == 2


def test_palette_reads(bios):
    r = call(bios, 0x1007, bx=0x0006)
    assert r.bh == 0x14
    call(bios, 0x1001, bx=0x2A00)
    assert call(bios, 0x1008).bh == 0x2A
    r = call(bios, 0x1015, bx=0x0001)
    assert (r.dh, r.ch, r.cl) == (0x00, 0x00, 0x2A)
    assert call(bios, 0x1019).bl == 0xFF
    r = call(bios, 0x101A)
    assert (r.bl, r.bh) == (0, 0)
    call(bios, 0x1013, bx=0x0100)   # paging mode 16 pages of 16
    call(bios, 0x1013, bx=0x0501)
    r = call(bios, 0x101A)
    assert (r.bl, r.bh) == (1, 5)


def test_font_info(bios):
    r = call(bios, 0x1130, bx=0x0000)
    assert (r.es, r.bp, r.cx, r.dl) == (0xC000, 0x91C0 + 0x400, 16, 24)
    r = call(bios, 0x1130, bx=0x0200)
    assert (r.es, r.bp) == (0xC000, 0x83C0)
    assert call(bios, 0x1130, bx=0x0500).bp == 0x5C2B
    assert call(bios, 0x1130, bx=0x0700).bp == 0x5C2A
    r = call(bios, 0x1130, bx=0x0800, cx=0x1234)
    assert r.cx == 0x1234  # unknown BH: registers untouched


def test_alternate_select_and_dcc(bios):
    r = call(bios, 0x1200, bx=0x0010)
    assert (r.bx, r.cx) == (0x0003, 0x0009)
    call(bios, 0x0007)
    assert call(bios, 0x1200, bx=0x0010).bx == 0x0103
    r = call(bios, 0x1A00)
    assert (r.al, r.bx) == (0x1A, 0x0008)
    assert call(bios, 0x1A01, bx=0x0004).al == 0x1A
    assert call(bios, 0x1A00).bx == 0x0004
    for bl in (0x30, 0x31, 0x32, 0x33, 0x34, 0x35, 0x36):
        assert call(bios, 0x1201, bx=bl).al == 0x12


def test_vbe_window_scanline_start_dac_power(bios):
    assert call(bios, 0x4F02, bx=0x0101).ax == 0x004F
    assert call(bios, 0x4F05, bx=0x0000, dx=2).ax == 0x004F
    r = call(bios, 0x4F05, bx=0x0100)
    assert (r.ax, r.dx) == (0x004F, 2)
    assert call(bios, 0x4F05, bx=0x0001, dx=1).ax == 0x014F  # window B
    r = call(bios, 0x4F06, bx=0x0001)
    assert (r.ax, r.bx, r.cx, r.dx) == (0x004F, 640, 640, (16 << 20) // 640 & 0xFFFF)
    r = call(bios, 0x4F06, bx=0x0000, cx=1000)
    assert (r.bx, r.cx) == (1000, 1000)
    call(bios, 0x4F07, bx=0x0000, cx=8, dx=3)
    r = call(bios, 0x4F07, bx=0x0001)
    assert (r.ax, r.cx, r.dx) == (0x004F, 8, 3)
    r = call(bios, 0x4F08, bx=0x0001)
    assert (r.ax, r.bh) == (0x004F, 6)
    r = call(bios, 0x4F08, bx=0x0800)
    assert (r.ax, r.bh) == (0x004F, 8)
    assert call(bios, 0x4F10, bx=0x0000).bx == 0x0F30
    call(bios, 0x4F10, bx=0x0401)
    assert call(bios, 0x4F10, bx=0x0002).bh == 4
    assert call(bios, 0x4F02, bx=0x4112).ax == 0x004F
    assert call(bios, 0x4F08, bx=0x0001).ax == 0x034F  # direct colour: no DAC
    assert call(bios, 0x4F05, bx=0x0100).ah == 0x03   # LFB mode: windowing invalid


def test_vbe_edid(bios):
    r = call(bios, 0x4F15, bx=0x0000)
    assert (r.ax, r.bx) == (0x004F, 0x0103)
    call(bios, 0x4F15, bx=0x0001, dx=0, es=0x2000, di=0)
    assert ram(bios, 0x20000, 8) == b"\x00\xff\xff\xff\xff\xff\xff\x00"
    assert call(bios, 0x4F15, bx=0x0001, dx=2, es=0x2000, di=0).ax == 0x014F


def test_functionality_info(bios):
    r = call(bios, 0x1B00, bx=0, es=0x2000, di=0x10)
    assert r.al == 0x1B
    assert struct.unpack("<HH", ram(bios, 0x20010, 4)) == (0x99C0, 0xC000)
    assert ram(bios, 0x20014) == b"\x03"  # BDA video mode


def test_save_restore_roundtrip(bios):
    call(bios, 0x1010, bx=0x20, dx=0x1100, cx=0x2233)
    assert call(bios, 0x1C01, cx=0x0007, es=0x3000, bx=0).al == 0x1C
    call(bios, 0x0013)
    assert call(bios, 0x1C02, cx=0x0007, es=0x3000, bx=0).al == 0x1C
    r = call(bios, 0x1015, bx=0x20)
    assert (r.dh, r.ch, r.cl) == (0x11, 0x22, 0x33)
    assert call(bios, 0x0F00).al == 0x03
    assert bios.machine.inb(0x3CC) & 1


def test_registers_halves_and_validation():
    r = Registers(ax=0x1234)
    r.al = 0x56
    assert r.ax == 0x1256 and r.ah == 0x12
    r.carry = True
    assert r.flags & 1
    with pytest.raises(BIOSError):
        r.bh = 0x100
    with pytest.raises(BIOSError):
        Registers(ax=0x10000)


def test_mode3_programs_registers_and_bda(bios):
    m = bios.machine
    assert call(bios, 0x0003).al == 0x30
    st = m.vga.state
    assert m.inb(0x3CC) == 0x67
    assert bytes(st.cr[:25]).hex() == "5f4f50825581bf1f004f0d0e000000009c8e8f281f96b9a3ff"
    assert bytes(st.ar[:20]).hex() == "000102030405140738393a3b3c3d3e3f0c000f08"
    assert st.ar_index & 0x20  # video enabled
    assert bytes(st.palette[:6]) == bytes([0, 0, 0, 0, 0, 0x2A])
    assert ram(bios, 0x449, 2) == bytes([3, 80]) and ram(bios, 0x484) == bytes([24])
    assert u16(bios, 0x44C) == 4096 and u16(bios, 0x463) == 0x3D4 and u16(bios, 0x460) == 0x0607
    assert ram(bios, 0xB8000, 4) == b"\x20\x07\x20\x07"
    # INT 43h -> the 8x16 font in the ROM image at C000:73C0, which holds the glyphs
    assert struct.unpack("<HH", ram(bios, 0x43 * 4, 4)) == (0x73C0, 0xC000)
    assert ram(bios, 0xC73C0, 4096) == load_tables().fonts[16]


def test_noclear_bit_keeps_memory(bios):
    bios.machine.write(0xB8000, b"X")
    call(bios, 0x0083)
    assert ram(bios, 0xB8000) == b"X"
    assert call(bios, 0x0F00).al == 0x83


def test_teletype_wraps_and_scrolls(bios):
    call(bios, 0x0200, dx=0x184F)  # row 24, col 79
    call(bios, 0x0E41)
    r = call(bios, 0x0300)
    assert (r.dh, r.dl) == (24, 0)
    assert ram(bios, 0xB8000 + 23 * 160 + 158) == b"A"  # scrolled up one line


def test_write_string_with_attributes(bios):
    bios.machine.write(0x7000, b"H\x1fi\x2e")
    call(bios, 0x1303, cx=2, dx=0x0203, es=0x0700, bp=0)
    assert ram(bios, 0xB8000 + 2 * 160 + 6, 4) == b"H\x1fi\x2e"
    assert call(bios, 0x0300).dx == 0x0205


def test_ffff_segment_pointer_is_not_wrapped(bios):
    bios.machine.write(0x100010, b"Z\x4e")
    call(bios, 0x1302, cx=1, dx=0, es=0xFFFF, bp=0x0020)
    assert ram(bios, 0xB8000, 2) == b"Z\x4e"


def test_vbe_info_and_mode_set(bios):
    r = call(bios, 0x4F00, es=0x1000, di=0)
    assert r.ax == 0x004F
    info = ram(bios, 0x10000, 512)
    assert info[:4] == b"VESA" and struct.unpack_from("<H", info, 4)[0] == 0x0300
    assert struct.unpack_from("<H", info, 0x12)[0] == 256  # 16 MiB in 64K units
    assert struct.unpack_from("<HH", info, 0x0E) == (34, 0x1000)
    count = info[34:].index(b"\xff\xff") // 2
    modes = struct.unpack_from(f"<{count}H", info, 34)
    assert 0x112 in modes and 0x13 in modes
    assert call(bios, 0x4F01, cx=0x4112, es=0x1000, di=0x200).ax == 0x004F
    mi = ram(bios, 0x10200, 256)
    assert struct.unpack_from("<H", mi, 0)[0] & 0x80  # linear framebuffer
    assert struct.unpack_from("<HHH", mi, 0x10) == (1920, 640, 480)
    assert struct.unpack_from("<I", mi, 0x28)[0] == 0xFD000000
    assert call(bios, 0x4F02, bx=0x4112).ax == 0x004F
    assert list(bios.machine.vga.state.vbe_regs[1:5]) == [640, 480, 24, 0x41]
    assert call(bios, 0x4F03).bx == 0x4112
    assert call(bios, 0x4F01, cx=0x1FF).ax == 0x014F
    assert call(bios, 0x4F02, bx=0x1FF).ax == 0x014F


def test_unknown_functions_leave_registers(bios):
    for ax in (0x1D00, 0x7700, 0x1099, 0x11FF, 0x12FF):
        r = Registers(ax=ax, bx=0x1299)
        assert bios.int10(r) == r
    assert call(bios, 0x4F0B).ax == 0x0100


def test_dac_services(bios):
    call(bios, 0x1010, bx=5, dx=0x0A00, cx=0x0B0C)
    r = call(bios, 0x1015, bx=5)
    assert (r.dh, r.ch, r.cl) == (0x0A, 0x0B, 0x0C)
    call(bios, 0x1018, bx=0x7F)
    assert call(bios, 0x1019).bl == 0x7F


def test_font_load_80x50(bios):
    call(bios, 0x1112, bx=0)
    assert ram(bios, 0x484, 2) == bytes([49, 8])
    assert bios.machine.vga.state.cr[9] & 0x1F == 7
    assert u16(bios, 0x460) == 0x0607
    r = call(bios, 0x1130, bx=0x0300)
    assert (r.es, r.bp, r.cx, r.dl) == (0xC000, 0x91C0, 8, 49)


def test_save_restore_sizes(bios):
    r = call(bios, 0x1C00, cx=7)
    assert r.al == 0x1C and r.bx == (70 + 44 + 772) // 64
    assert call(bios, 0x4F04, dx=0, cx=0x0F).ax == 0x004F


def test_bios_writes_mark_vram_dirty_through_the_lfb(bios):
    from guestmem import DIRTY_MEMORY_VGA

    call(bios, 0x4F02, bx=0x4112)
    vram = bios.machine.vga.vram_mr
    vram.reset_dirty(0, vram.size, DIRTY_MEMORY_VGA)
    call(bios, 0x0E41, bx=0x000F)
    assert vram.get_dirty(0, 4096 * 16, DIRTY_MEMORY_VGA)
    assert not vram.get_dirty(8 << 20, 4096, DIRTY_MEMORY_VGA)
