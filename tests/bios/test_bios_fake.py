"""BIOS unit tests against a register-level stand-in machine (no VGA model needed)."""

from __future__ import annotations

import struct

import pytest

from bios_fakemachine import FakeMachine
from vgaemu.bios import BIOSError, Registers, VGABios
from vgaemu.bios.data import load_tables


@pytest.fixture
def mb():
    m = FakeMachine()
    return m, VGABios(m)


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


def test_tables_loaded():
    t = load_tables()
    assert [m.mode for m in t.std_modes] == [0, 1, 2, 3, 4, 5, 6, 7, 0xD, 0xE, 0xF, 0x10, 0x11,
                                             0x12, 0x13, 0x6A]
    assert len(t.palettes["palette3"]) == 768
    assert t.fonts[16][ord("A") * 16 + 5] == 0xC6
    assert any(m.mode == 0x112 and m.width == 640 and m.depth == 24 for m in t.vbe_modes)


def test_mode3_programs_registers_and_bda(mb):
    m, bios = mb
    r = bios.int10(Registers(ax=0x0003))
    assert r.al == 0x30
    io, mem = m.address_space_io, m.address_space_memory
    assert io.misc == 0x67
    assert bytes(io.cr[:25]).hex() == "5f4f50825581bf1f004f0d0e000000009c8e8f281f96b9a3ff"
    assert bytes(io.ar[:20]).hex() == "000102030405140738393a3b3c3d3e3f0c000f08"
    assert io.ar_index & 0x20  # video enabled
    assert bytes(io.dac[:6]) == bytes([0, 0, 0, 0, 0, 0x2A])
    assert mem.ram[0x449] == 3 and mem.ram[0x44A] == 80 and mem.ram[0x484] == 24
    assert struct.unpack_from("<H", mem.ram, 0x44C)[0] == 4096
    assert struct.unpack_from("<H", mem.ram, 0x463)[0] == 0x3D4
    assert struct.unpack_from("<H", mem.ram, 0x460)[0] == 0x0607
    assert mem.ram[0xB8000:0xB8004] == b"\x20\x07\x20\x07"
    # INT 43h -> the 8x16 font in the ROM image at C000:73C0, which holds the glyphs
    assert struct.unpack_from("<HH", mem.ram, 0x43 * 4) == (0x73C0, 0xC000)
    assert mem.ram[0xC73C0:0xC73C0 + 4096] == load_tables().fonts[16]


def test_noclear_bit_keeps_memory(mb):
    m, bios = mb
    bios.int10(Registers(ax=0x0003))
    m.address_space_memory.ram[0xB8000] = ord("X")
    r = bios.int10(Registers(ax=0x0083))
    assert m.address_space_memory.ram[0xB8000] == ord("X")
    assert bios.int10(Registers(ax=0x0F00)).al == 0x83


def test_teletype_wraps_and_scrolls(mb):
    m, bios = mb
    bios.int10(Registers(ax=0x0003))
    bios.int10(Registers(ax=0x0200, dx=0x184F))  # row 24, col 79
    bios.int10(Registers(ax=0x0E41))
    r = bios.int10(Registers(ax=0x0300))
    assert (r.dh, r.dl) == (24, 0)
    ram = m.address_space_memory.ram
    assert ram[0xB8000 + 23 * 160 + 158] == ord("A")  # scrolled up one line


def test_write_string_with_attributes(mb):
    m, bios = mb
    bios.int10(Registers(ax=0x0003))
    m.address_space_memory.ram[0x7000:0x7004] = b"H\x1fi\x2e"
    bios.int10(Registers(ax=0x1303, cx=2, dx=0x0203, es=0x0700, bp=0))
    ram = m.address_space_memory.ram
    off = 0xB8000 + 2 * 160 + 6
    assert ram[off:off + 4] == b"H\x1fi\x2e"
    assert bios.int10(Registers(ax=0x0300)).dx == 0x0205


def test_ffff_segment_pointer_is_not_wrapped(mb):
    m, bios = mb
    bios.int10(Registers(ax=0x0003))
    m.address_space_memory.ram[0x100010:0x100012] = b"Z\x4e"
    bios.int10(Registers(ax=0x1302, cx=1, dx=0, es=0xFFFF, bp=0x0020))
    assert m.address_space_memory.ram[0xB8000:0xB8002] == b"Z\x4e"


def test_vbe_info_and_mode_set(mb):
    m, bios = mb
    r = bios.int10(Registers(ax=0x4F00, es=0x1000, di=0))
    assert r.ax == 0x004F
    ram = m.address_space_memory.ram
    assert ram[0x10000:0x10004] == b"VESA"
    assert struct.unpack_from("<H", ram, 0x10004)[0] == 0x0300
    assert struct.unpack_from("<H", ram, 0x10012)[0] == 256
    seg_off = struct.unpack_from("<HH", ram, 0x1000E)
    assert seg_off == (34, 0x1000)
    modes = []
    p = 0x10000 + 34
    while (v := struct.unpack_from("<H", ram, p)[0]) != 0xFFFF:
        modes.append(v)
        p += 2
    assert 0x112 in modes and 0x13 in modes
    r = bios.int10(Registers(ax=0x4F01, cx=0x4112, es=0x1000, di=0x200))
    assert r.ax == 0x004F
    attr, = struct.unpack_from("<H", ram, 0x10200)
    assert attr & 0x80  # linear framebuffer
    assert struct.unpack_from("<HHH", ram, 0x10210) == (1920, 640, 480)
    assert struct.unpack_from("<I", ram, 0x10228)[0] == 0xFD000000
    r = bios.int10(Registers(ax=0x4F02, bx=0x4112))
    assert r.ax == 0x004F
    io = m.address_space_io
    assert io.dispi[1:5] == [640, 480, 24, 0x41]
    assert bios.int10(Registers(ax=0x4F03)).bx == 0x4112
    assert bios.int10(Registers(ax=0x4F01, cx=0x1FF)).ax == 0x014F
    assert bios.int10(Registers(ax=0x4F02, bx=0x1FF)).ax == 0x014F


def test_unknown_functions_leave_registers(mb):
    m, bios = mb
    for ax in (0x1D00, 0x7700, 0x1099, 0x11FF, 0x12FF):
        r = Registers(ax=ax, bx=0x1299)
        assert bios.int10(r) == r
    assert bios.int10(Registers(ax=0x4F0B)).ax == 0x0100


def test_dac_services(mb):
    m, bios = mb
    bios.int10(Registers(ax=0x1010, bx=5, dx=0x0A00, cx=0x0B0C))
    r = bios.int10(Registers(ax=0x1015, bx=5))
    assert (r.dh, r.ch, r.cl) == (0x0A, 0x0B, 0x0C)
    bios.int10(Registers(ax=0x1018, bx=0x7F))
    assert bios.int10(Registers(ax=0x1019)).bl == 0x7F


def test_font_load_80x50(mb):
    m, bios = mb
    bios.int10(Registers(ax=0x0003))
    bios.int10(Registers(ax=0x1112, bx=0))
    ram = m.address_space_memory.ram
    assert ram[0x484] == 49 and ram[0x485] == 8
    assert m.address_space_io.cr[9] & 0x1F == 7
    assert struct.unpack_from("<H", ram, 0x460)[0] == 0x0607
    r = bios.int10(Registers(ax=0x1130, bx=0x0300))
    assert (r.es, r.bp, r.cx, r.dl) == (0xC000, 0x91C0, 8, 49)


def test_save_restore_sizes(mb):
    m, bios = mb
    r = bios.int10(Registers(ax=0x1C00, cx=7))
    assert r.al == 0x1C and r.bx == (70 + 44 + 772) // 64
    r = bios.int10(Registers(ax=0x4F04, dx=0, cx=0x0F))
    assert r.ax == 0x004F
