"""Bochs VBE DISPI semantics as QEMU's -vga std implements them."""

import numpy as np
import pytest

from vgaemu.vga.regs import VGARegisters
from vgaemu.vga.state import VGAState
from vgaemu.vga.vbe import BochsVBE

MB = 1 << 20


def make(size=16 * MB):
    st = VGAState(vram=np.zeros(size, np.uint8))
    changes = []
    vbe = BochsVBE(st, memory_access_changed=lambda: changes.append(1))
    regs = VGARegisters(st, vbe=vbe)
    regs.reset()
    _, w = regs.vbe_ops()
    rd, _ = regs.vbe_ops()

    def out(idx, val):
        w(0, idx, 2)
        w(1, val, 2)

    def inp(idx):
        w(0, idx, 2)
        return rd(1, 2)

    return st, vbe, out, inp, changes


def enable(out, xres, yres, bpp):
    """XRES, YRES, BPP, then ENABLE with the LFB bit: the usual DISPI mode set."""
    out(1, xres)
    out(2, yres)
    out(3, bpp)
    out(4, 0x41)


def test_id_and_video_memory():
    st, vbe, out, inp, _ = make()
    assert inp(0) == 0xB0C5
    out(0, 0xB0C2)
    assert inp(0) == 0xB0C2
    out(0, 0x1234)  # not an id: ignored
    assert inp(0) == 0xB0C2
    assert inp(0xA) == 256  # 16 MiB in 64K units
    assert inp(0xB) == 0


def test_getcaps():
    st, vbe, out, inp, _ = make()
    out(4, 0x02)
    assert (inp(1), inp(2), inp(3)) == (16000, 12000, 32)
    out(4, 0x00)
    assert inp(1) == 0


def test_enable_640x480x32_programs_vga_and_clears():
    st, vbe, out, inp, changes = make()
    st.vram[:] = 0xAA
    enable(out, 640, 480, 32)
    assert st.vbe_enabled() and st.vbe_line_offset == 2560 and st.vbe_start_addr == 0
    assert inp(6) == 640 and inp(7) == (16 * MB) // 2560
    assert not st.vram[: 480 * 2560].any() and st.vram[480 * 2560] == 0xAA
    # VGA registers as vbe_update_vgaregs programs them
    assert st.gr[6] & 0x0D == 0x05 and (st.gr[5] >> 5) & 3 == 2
    assert st.cr[0x01] == 79 and st.cr[0x12] == (479 & 0xFF) and st.cr[0x13] == 2560 >> 3 & 0xFF
    assert st.cr[0x07] & 0x42 == 0x02 | 0x00 and st.cr[0x18] == 0xFF and st.cr[0x17] & 3 == 3
    assert st.cr[0x09] & 0x9F == 0 and st.cr[0x09] & 0x40
    assert st.sr_vbe[4] & 0x08 and st.sr_vbe[2] == 0x0F and st.sr[4] == 0
    assert st.sr_active() is st.sr_vbe and changes


def test_noclearmem_and_8bit_dac():
    st, vbe, out, inp, _ = make()
    st.vram[:16] = 7
    out(1, 320)
    out(2, 200)
    out(3, 8)
    out(4, 0x81 | 0x20)
    assert st.vram[0] == 7 and st.dac_8bit


def test_fixups():
    st, vbe, out, inp, _ = make()
    out(4, 0x01)  # enable with zero regs
    assert (inp(1), inp(2), inp(3)) == (8, 1, 8)
    out(3, 13)  # bad depth -> 8
    assert inp(3) == 8
    out(1, 645)  # multiple of 8
    assert inp(1) == 640
    out(1, 20000)
    assert inp(1) == 16000
    out(1, 640)
    out(6, 100)  # virtual width below xres -> xres
    assert inp(6) == 640
    out(3, 15)
    assert st.vbe_line_offset == 1280
    out(2, 60000)
    assert inp(2) == 12000 and inp(2) <= inp(7)


def test_virtual_width_and_offsets_give_start_address():
    st, vbe, out, inp, _ = make(size=8 * MB)
    enable(out, 640, 480, 8)
    out(6, 1024)
    out(8, 16)
    out(9, 10)
    assert st.vbe_line_offset == 1024 and st.vbe_start_addr == 10 * 1024 + 16
    assert st.cr[0x13] == 1024 >> 3 & 0xFF
    out(9, 20000)  # clamped, then too far -> y offset 0
    assert inp(9) == 0 and st.vbe_start_addr == 16
    out(8, 3)  # 3 bytes at 8 bpp: QEMU truncates the start to a 4-byte boundary
    assert st.vbe_start_addr == 0


def test_bank_and_enable_quirk():
    st, vbe, out, inp, changes = make()
    out(5, 3)
    assert st.bank_offset == 3 << 16
    out(5, 0x1FF)  # masked by vbe_bank_mask (VRAM 16M -> 255)
    assert inp(5) == 0xFF
    enable(out, 640, 480, 8)
    out(5, 2)
    out(4, 0x41)  # enable again: QEMU resets bank_offset, keeps the register
    assert st.bank_offset == 0 and inp(5) == 2


def test_disable_restores_guest_sequencer():
    st, vbe, out, inp, _ = make()
    st.sr[4] = 0x06
    enable(out, 640, 480, 8)
    assert st.sr_active()[4] & 0x08
    out(4, 0)
    assert st.sr_active()[4] == 0x06


def test_gr_and_cr_writes_reasserted_while_enabled():
    st, vbe, out, inp, _ = make()
    enable(out, 800, 600, 16)
    regs = VGARegisters(st, vbe=vbe)
    regs.write(0x3C2, 0x01)
    regs.write(0x3CE, 6)
    regs.write(0x3CF, 0x00)
    assert st.gr[6] & 0x0D == 0x05
    regs.write(0x3D4, 0x01)
    regs.write(0x3D5, 0x10)
    assert st.cr[1] == 99


def test_4bpp_planar_mode():
    st, vbe, out, inp, _ = make()
    st.sr_vbe[1] = 0x08
    enable(out, 800, 600, 4)
    assert st.vbe_line_offset == 400 and (st.gr[5] >> 5) & 3 == 0 and st.sr_vbe[1] & 8 == 0


def test_byte_access_to_vbe_ports_is_ignored():
    st = VGAState(vram=np.zeros(MB, np.uint8))
    regs = VGARegisters(st)
    regs.reset()
    rd, wr = regs.vbe_ops()
    wr(0, 3, 1)
    assert st.vbe_index == 0 and rd(0, 1) == 0xFF and rd(0, 4) == 0xFFFFFFFF


def test_mmio_bar_dispi_ports_and_byte_order():
    """BAR2 (vga-pci.c): DISPI at 0x500 (index = offset / 2, a byte store writes the whole
    register), VGA ports at 0x400, byte order at 0x604 (32-bit only); unaligned stores from
    a trace become byte stores, as TCG splits them."""
    from vgaemu.machine import Machine
    from vgaemu.trace import replay
    from vgaemu.vga.mmio import VGA_MMIO_ADDR

    m = Machine(qemu_compat=True)
    mem, s = m.address_space_memory, m.vga.state
    assert not mem.stw_le(VGA_MMIO_ADDR + 0x502, 320)
    assert not mem.stb(VGA_MMIO_ADDR + 0x504, 200)
    assert not mem.stw_le(VGA_MMIO_ADDR + 0x506, 32)
    assert not mem.stw_le(VGA_MMIO_ADDR + 0x508, 0x41)
    assert s.vbe_regs[1:5] == [320, 200, 32, 0x41]
    assert mem.ldl_le(VGA_MMIO_ADDR + 0x600) == 8
    assert mem.ldl_le(VGA_MMIO_ADDR + 0x604) == 0x1E1E1E1E
    mem.stb(VGA_MMIO_ADDR + 0x604, 0xBE)                 # refused: 32-bit accesses only
    assert not s.big_endian_fb
    mem.stl_le(VGA_MMIO_ADDR + 0x604, 0xBEBEBEBE)
    assert s.big_endian_fb and mem.ldl_le(VGA_MMIO_ADDR + 0x604) == 0xBEBEBEBE
    mem.stw_le(VGA_MMIO_ADDR + 0x408, 0x0305)            # DAC write index 5, then R = 3
    assert s.palette[15] == 0 and s.dac_sub_index == 1
    mem.stb(VGA_MMIO_ADDR + 0x400, 0x20)                 # AR index: palette source on
    m.vga.update_display()
    assert m.vga.display.geometry.drawer == "32be"

    r = replay([{"op": "int10", "ax": "0x4F02", "bx": "0x4142"},
                {"op": "writew", "addr": hex(VGA_MMIO_ADDR + 0x501), "val": "0xA000"}],
               qemu_compat=True)
    assert r.machine.vga.state.vbe_regs[1] == 160           # the high byte went to XRES
