"""The legacy window's planar logic against the documented VGA rules (no guestmem needed)."""

import numpy as np
import pytest

from vgaemu.compat import Compat
from vgaemu.vga.state import VGAState
from vgaemu.vga.vram import MASK16, PlanarMemory

KB = 1024


def make(qemu_compat=False, size=256 * KB):
    st = VGAState(vram=np.zeros(size, np.uint8))
    dirty = []
    pm = PlanarMemory(st, set_dirty=lambda a, n: dirty.append((a, n)),
                      compat=Compat.qemu_7_2() if qemu_compat else Compat.hardware())
    return st, pm, dirty


def planar(st, *, gr5=0x00, gr6=0x05, sr2=0x0F, sr4=0x06):
    """Mode-12h-like planar setup: A0000/64K, sequential addressing, all planes."""
    st.gr[5], st.gr[6], st.sr[2], st.sr[4] = gr5, gr6, sr2, sr4
    st.gr[8] = 0xFF


def plane(st, p, off):
    return int(st.vram[off * 4 + p])


def test_mask16_table():
    assert MASK16[0] == 0 and MASK16[0xF] == 0xFFFFFFFF and MASK16[0x5] == 0x00FF00FF


@pytest.mark.parametrize("gr6,addr,expect", [
    (0x00, 0x1F000, True), (0x04, 0x0FFFF, True), (0x04, 0x10000, False),
    (0x08, 0x10000, True), (0x08, 0x0FFFF, False), (0x08, 0x18000, False),
    (0x0C, 0x18000, True), (0x0C, 0x17FFF, False),
])
def test_memory_map_select(gr6, addr, expect):
    st, pm, _ = make(qemu_compat=True, size=1024 * KB)
    planar(st, gr6=gr6)
    pm.writeb(addr, 0x5A)
    assert (st.vram != 0).any() == expect
    assert pm.readb(addr) == (0x5A if expect else 0xFF)


def test_map_mask_selects_planes_and_marks_dirty():
    st, pm, dirty = make()
    planar(st, sr2=0x05)
    pm.writeb(0x10, 0xAB)
    assert [plane(st, p, 0x10) for p in range(4)] == [0xAB, 0, 0xAB, 0]
    assert dirty == [(0x40, 4)]
    assert st.plane_updated == 0x05


def test_write_mode0_rotate_setreset_and_bitmask():
    st, pm, _ = make()
    planar(st)
    st.gr[3] = 0x02  # rotate right by 2
    pm.writeb(0, 0x81)  # 1000_0001 ror 2 -> 0110_0000
    assert [plane(st, p, 0) for p in range(4)] == [0x60] * 4
    st.gr[3] = 0
    st.gr[0], st.gr[1] = 0x0A, 0x0C  # set/reset enabled on planes 2,3: plane2=0, plane3=FF
    pm.writeb(1, 0x33)
    assert [plane(st, p, 1) for p in range(4)] == [0x33, 0x33, 0x00, 0xFF]
    st.gr[0] = st.gr[1] = 0
    # bit mask keeps latch bits: load latches from offset 1, then write 0xFF with mask 0x0F
    pm.readb(1)
    st.gr[8] = 0x0F
    pm.writeb(1, 0xFF)
    assert [plane(st, p, 1) for p in range(4)] == [0x3F, 0x3F, 0x0F, 0xFF]


@pytest.mark.parametrize("func,expect", [(1, 0x0C & 0x0A), (2, 0x0C | 0x0A), (3, 0x0C ^ 0x0A)])
def test_logical_operations_with_latch(func, expect):
    st, pm, _ = make()
    planar(st)
    st.vram[0:4] = 0x0C
    pm.readb(0)
    st.gr[3] = func << 3
    pm.writeb(4 // 4, 0x0A)  # offset 1 uses the latch loaded from offset 0
    assert plane(st, 0, 1) == expect


def test_write_mode1_copies_latches():
    st, pm, _ = make()
    planar(st)
    st.vram[0:4] = [1, 2, 3, 4]
    assert pm.readb(0) == 1  # read mode 0, map 0
    st.gr[5] = 0x01
    st.gr[8] = 0x00  # bit mask ignored in write mode 1
    pm.writeb(7, 0xEE)
    assert [plane(st, p, 7) for p in range(4)] == [1, 2, 3, 4]


def test_write_mode2_colour_expansion():
    st, pm, _ = make()
    planar(st)
    st.gr[5] = 0x02
    st.gr[8] = 0xF0
    pm.writeb(3, 0x09)  # colour 9 = planes 0 and 3
    assert [plane(st, p, 3) for p in range(4)] == [0xF0, 0, 0, 0xF0]


def test_write_mode3_set_reset_through_rotated_data_and_mask():
    st, pm, _ = make()
    planar(st)
    st.gr[5] = 0x03
    st.gr[0] = 0x06  # colour 6 = planes 1,2
    st.gr[8] = 0x3C
    pm.writeb(2, 0xF0)  # effective mask 0x3C & 0xF0 = 0x30
    assert [plane(st, p, 2) for p in range(4)] == [0, 0x30, 0x30, 0]


def test_read_mode0_read_map_select_and_latches():
    st, pm, _ = make()
    planar(st)
    st.vram[8:12] = [0x11, 0x22, 0x33, 0x44]
    for p in range(4):
        st.gr[4] = p
        assert pm.readb(2) == 0x11 * (p + 1)
    assert st.latch == 0x44332211


def test_read_mode1_colour_compare_and_dont_care():
    st, pm, _ = make()
    planar(st)
    st.gr[5] = 0x08
    st.vram[0:4] = [0xF0, 0xCC, 0x00, 0xFF]
    st.gr[2], st.gr[7] = 0x09, 0x0F  # colour 9: plane0=1, plane1=0, plane2=0, plane3=1
    assert pm.readb(0) == (0xF0 & ~0xCC & ~0x00 & 0xFF) & 0xFF
    st.gr[7] = 0x00  # nothing compared: all match
    assert pm.readb(0) == 0xFF


def test_chain4_linear_bytes_and_plane_from_address():
    st, pm, dirty = make()
    st.sr[2], st.sr[4], st.gr[6], st.gr[8] = 0x0F, 0x0E, 0x05, 0xFF
    for a, v in [(0, 1), (1, 2), (2, 3), (3, 4), (0x1234, 9)]:
        pm.writeb(a, v)
    assert list(st.vram[0:4]) == [1, 2, 3, 4] and st.vram[0x1234] == 9
    assert pm.readb(0x1234) == 9
    st.sr[2] = 0x0E  # plane 0 masked
    pm.writeb(4, 7)
    assert st.vram[4] == 0


def test_chain4_latched_ops_hardware_vs_qemu():
    for compat, expect in ((False, 0xF0), (True, 0xFF)):
        st, pm, _ = make(qemu_compat=compat)
        st.sr[2], st.sr[4], st.gr[6], st.gr[8] = 0x0F, 0x0E, 0x05, 0xF0
        pm.writeb(5, 0xFF)
        assert st.vram[5] == expect


def test_odd_even_text_mapping():
    for compat in (False, True):
        st, pm, _ = make(qemu_compat=compat)
        st.sr[2], st.sr[4], st.gr[5], st.gr[6], st.gr[8] = 0x03, 0x02, 0x10, 0x0E, 0xFF
        pm.writeb(0x18000, ord("A"))  # char 0 -> plane 0
        pm.writeb(0x18001, 0x1F)  # attr 0 -> plane 1
        pm.writeb(0x18002, ord("B"))  # char 1
        assert st.vram[0] == ord("A") and st.vram[1] == 0x1F and st.vram[4] == ord("B")
        assert pm.readb(0x18001) == 0x1F and pm.readb(0x18002) == ord("B")
        # read map select bit 1 picks planes 2/3
        st.vram[2] = 0x77
        st.gr[4] = 2
        assert pm.readb(0x18000) == 0x77


def test_odd_even_hardware_write_enables_planes_0_and_2():
    st, pm, _ = make()
    st.sr[2], st.sr[4], st.gr[5], st.gr[6], st.gr[8] = 0x0F, 0x02, 0x10, 0x0E, 0xFF
    pm.writeb(0x18000, 0x41)
    assert list(st.vram[0:4]) == [0x41, 0, 0x41, 0]
    st2, pm2, _ = make(qemu_compat=True)
    st2.sr[2], st2.sr[4], st2.gr[5], st2.gr[6] = 0x0F, 0x02, 0x10, 0x0E
    pm2.writeb(0x18000, 0x41)
    assert list(st2.vram[0:4]) == [0x41, 0, 0, 0]


def test_hardware_planes_wrap_at_64k_without_vbe():
    st, pm, _ = make()
    planar(st, gr6=0x01)  # A0000/128K
    pm.writeb(0x10000 + 5, 0x3C)
    assert plane(st, 0, 5) == 0x3C
    st2, pm2, _ = make(qemu_compat=True, size=1024 * KB)
    planar(st2, gr6=0x01)
    pm2.writeb(0x10000 + 5, 0x3C)
    assert plane(st2, 0, 0x10005) == 0x3C and plane(st2, 0, 5) == 0


def test_bank_offset_applies_in_64k_map():
    st, pm, _ = make(size=1024 * KB)
    st.sr[2], st.sr[4], st.gr[6] = 0x0F, 0x0E, 0x05
    st.bank_offset = 0x20000
    st.vbe_regs[4] = 1  # VBE enabled: no 64K wrap; sr_vbe is the active sequencer
    st.sr_vbe[2], st.sr_vbe[4] = 0x0F, 0x08
    pm.writeb(0x10, 0x99)
    assert st.vram[0x20010] == 0x99


def test_wide_accesses_are_little_endian_byte_sequences():
    st, pm, _ = make()
    st.sr[2], st.sr[4], st.gr[6], st.gr[8] = 0x0F, 0x0E, 0x05, 0xFF
    pm.write(0x100, 0x04030201, 4)
    assert list(st.vram[0x100:0x104]) == [1, 2, 3, 4]
    assert pm.read(0x101, 2) == 0x0302


def test_chain4_window_conditions():
    st, pm, _ = make(qemu_compat=True)
    st.sr[2], st.sr[4], st.gr[6] = 0x0F, 0x0E, 0x05
    w = pm.chain4_window()
    assert (w.base, w.offset, w.size) == (0xA0000, 0, 0x10000)
    st.sr[2] = 0x07
    assert pm.chain4_window() is None
    st, pm, _ = make()
    st.sr[2], st.sr[4], st.gr[6], st.gr[8] = 0x0F, 0x0E, 0x05, 0xFF
    assert pm.chain4_window() is not None
    st.gr[8] = 0x7F  # a bit mask makes the write path non-trivial on hardware
    assert pm.chain4_window() is None
