"""Register values the BIOS returns, as SeaVGABIOS 1.16.2 computes them (vgabios.c, vbe.c).

Screens can't show registers, so these are checked against the source's rules; the
reference VGA answers the port reads the BIOS makes.
"""

from __future__ import annotations

import struct

import pytest

from bios_refvga import RefMachine
from vgaemu.bios import Registers, VGABios


@pytest.fixture
def bios():
    b = VGABios(RefMachine())
    b.boot(banner=False)
    return b


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
    ram = bios.machine.address_space_memory.ram
    assert ram[0x20000:0x20008] == b"\x00\xff\xff\xff\xff\xff\xff\x00"
    assert call(bios, 0x4F15, bx=0x0001, dx=2, es=0x2000, di=0).ax == 0x014F


def test_functionality_info(bios):
    r = call(bios, 0x1B00, bx=0, es=0x2000, di=0x10)
    assert r.al == 0x1B
    ram = bios.machine.address_space_memory.ram
    assert struct.unpack_from("<HH", ram, 0x20010) == (0x99C0, 0xC000)
    assert ram[0x20014] == 0x03  # BDA video mode


def test_save_restore_roundtrip(bios):
    call(bios, 0x1010, bx=0x20, dx=0x1100, cx=0x2233)
    assert call(bios, 0x1C01, cx=0x0007, es=0x3000, bx=0).al == 0x1C
    call(bios, 0x0013)
    assert call(bios, 0x1C02, cx=0x0007, es=0x3000, bx=0).al == 0x1C
    r = call(bios, 0x1015, bx=0x20)
    assert (r.dh, r.ch, r.cl) == (0x11, 0x22, 0x33)
    assert call(bios, 0x0F00).al == 0x03
    assert bios.machine.address_space_io.misc & 1
