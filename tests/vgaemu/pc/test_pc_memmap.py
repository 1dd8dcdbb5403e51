"""QEMU pc's firmware regions (vgaemu.pc.memmap): pc.bios at the top of 4 GiB and its
isa-bios window, the read-only option-ROM area pc.rom under vga.rom, and the RAMBlock
creation order."""

from __future__ import annotations

import pytest

from vgaemu.machine import Machine
from vgaemu.pc.memmap import ISA_BIOS_ADDR, PC_BIOS_ADDR, PC_BIOS_SIZE, PC_ROM_MIN_VGA, PC_ROM_SIZE


@pytest.fixture(scope="module")
def m():
    return Machine()


def test_pc_bios_at_the_top_of_4g_and_its_top_half_at_e0000(m):
    assert (PC_BIOS_ADDR, PC_BIOS_SIZE) == (0xFFFC0000, 0x40000)
    bios = m.firmware.bios
    assert bios.is_rom() and bios.addr == PC_BIOS_ADDR and bios.size == PC_BIOS_SIZE
    # the IVT's stubs at F000:xxxx are the same bytes as at 0xFFFFxxxx
    assert m.read(0xF0000, 0x10000) == m.read(0xFFFF0000, 0x10000)
    assert m.read(0xE0000, 0x10000) == m.read(0xFFFE0000, 0x10000)
    off, seg = int.from_bytes(m.read(4 * 0x10, 2), "little"), int.from_bytes(m.read(4 * 0x10 + 2, 2), "little")
    assert seg == 0xF000 and m.read(0xF0000 + off, 3) == b"\x0F\xFF\x10"
    mt = m.mtree()
    assert "00000000fffc0000-00000000ffffffff (prio 0, rom): pc.bios" in mt
    assert "00000000000e0000-00000000000fffff (prio 1, rom): alias isa-bios @pc.bios " \
           "0000000000020000-000000000003ffff" in mt
    assert "00000000000c0000-00000000000dffff (prio 1, rom): pc.rom" in mt


def test_rom_areas_drop_guest_stores(m):
    before = m.read(0xE0000, 16), m.read(0xD0000, 16), m.read(0xFFFF0000 + 0x1040, 4)
    m.write(0xE0000, b"\xAA" * 16)
    m.write(0xD0000, b"\xAA" * 16)
    m.write(0xFFFF0000 + 0x1040, b"\xAA" * 4)
    assert (m.read(0xE0000, 16), m.read(0xD0000, 16), m.read(0xFFFF0000 + 0x1040, 4)) == before
    assert m.read(0xD0000, 16) == bytes(16)                # pc.rom is empty (no option ROMs)
    assert m.read(PC_ROM_MIN_VGA, 2) == b"\x55\xAA"        # vga.rom over pc.rom
    m.write(0xBFFF0 - 0x20000, b"ram")                     # below the video window: RAM
    assert m.read(0xBFFF0 - 0x20000, 3) == b"ram"
    assert PC_ROM_SIZE == 0x20000 and ISA_BIOS_ADDR == 0xE0000


def test_ramblocks_in_qemus_order_with_and_without_backends(tmp_path):
    plain = Machine(memory="64M")
    assert [(b.idstr, b.offset) for b in plain.ram_list.blocks] == [
        ("pc.ram", 0), ("pc.bios", 0x4000000), ("pc.rom", 0x4040000),
        ("vga.vram", 0x4080000), ("vga.rom", 0x5080000)]
    m2 = Machine(memory="64M,slots=2,maxmem=1G",
                 objects=["memory-backend-ram,id=m1,size=128M",
                          "memory-backend-ram,id=m2,size=32M"],
                 devices=["pc-dimm,id=d2,memdev=m2"])
    # m1 has no DIMM and still owns its block, as in QEMU (which lists it without a name)
    assert [(b.idstr, b.offset) for b in m2.ram_list.blocks][:3] == [
        ("m1", 0), ("m2", 0x8000000), ("pc.ram", 0xA000000)]
    assert m2.ram_list.block_by_idstr("vga.vram").offset == 0xE080000
