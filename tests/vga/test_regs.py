"""VGA port semantics per register group (no guestmem needed)."""

import numpy as np
import pytest

from vgaemu.clock import FRAME_NS, VirtualClock
from vgaemu.compat import Compat
from vgaemu.vga.regs import VGARegisters
from vgaemu.vga.state import VGAState


def make(qemu_compat=False, colour=True):
    st = VGAState(vram=np.zeros(1 << 20, np.uint8))
    calls = []
    r = VGARegisters(st, clock=VirtualClock(),
                     compat=Compat.qemu_7_2() if qemu_compat else Compat.hardware(),
                     memory_access_changed=lambda: calls.append(1))
    r.reset()
    if colour:
        r.write(0x3C2, 0x67)
    return st, r, calls


def test_misc_output_selects_colour_or_mono_decode():
    st, r, _ = make(colour=False)
    assert r.read(0x3CC) == 0
    r.write(0x3D4, 0x0A)  # mono decode: colour CRTC ignored, reads 0xFF
    assert r.read(0x3D4) == 0xFF and st.cr_index == 0
    r.write(0x3B4, 0x0A)
    assert r.read(0x3B4) == 0x0A
    r.write(0x3C2, 0x77)  # bit 4 is reserved
    assert r.read(0x3CC) == 0x67
    assert r.read(0x3B4) == 0xFF and r.read(0x3D4) == 0x0A


def test_sequencer_index_data_and_masks():
    st, r, calls = make()
    r.write(0x3C4, 0x0A)
    assert r.read(0x3C4) == 0x02  # 3-bit index
    r.write(0x3C5, 0xFF)
    assert r.read(0x3C5) == 0x0F and st.sr[2] == 0x0F and calls
    r.write(0x3C4, 1)
    r.write(0x3C5, 0xFF)
    assert r.read(0x3C5) == 0x3D  # clocking mode: 8/9 dot, shift/load, dot clock /2, screen off
    r.write(0x3C4, 4)
    r.write(0x3C5, 0xFF)
    assert r.read(0x3C5) == 0x0E


def test_graphics_controller_index_data_and_masks():
    st, r, calls = make()
    r.write(0x3CE, 0x15)
    assert r.read(0x3CE) == 0x05
    r.write(0x3CF, 0xFF)
    assert r.read(0x3CF) == 0x7B
    for idx, mask in [(0, 0x0F), (3, 0x1F), (4, 0x03), (6, 0x0F), (8, 0xFF)]:
        r.write(0x3CE, idx)
        r.write(0x3CF, 0xFF)
        assert r.read(0x3CF) == mask


def test_crtc_write_protect_keeps_cr7_line_compare_bit():
    st, r, _ = make()
    for i in range(0x19):
        r.write(0x3D4, i)
        r.write(0x3D5, 0x20 + i)
    r.write(0x3D4, 0x11)
    r.write(0x3D5, 0x80)  # protect CR0-7
    r.write(0x3D4, 0x00)
    r.write(0x3D5, 0x99)
    assert r.read(0x3D5) == 0x20
    r.write(0x3D4, 0x07)
    r.write(0x3D5, 0xFF)
    assert r.read(0x3D5) == (0x27 | 0x10)
    r.write(0x3D4, 0x0C)  # start address is not protected
    r.write(0x3D5, 0x12)
    assert st.cr[0x0C] == 0x12


def test_attribute_controller_flip_flop_and_index_read():
    st, r, _ = make()
    r.read(0x3DA)
    r.write(0x3C0, 0x10)
    assert r.read(0x3C0) == 0x10  # hardware: the index register also in data state
    r.write(0x3C0, 0xFF)
    assert st.ar[0x10] == 0xEF and r.read(0x3C1) == 0xEF
    r.write(0x3C0, 0x21)  # index 1 with palette address source
    r.write(0x3C0, 0xFF)
    assert st.ar[1] == 0x3F and st.ar_index == 0x21
    r.write(0x3C0, 0x12)  # index 0x12: the flip-flop now expects data
    assert st.ar_flip_flop == 1
    r.read(0x3DA)  # resets the flip-flop
    assert st.ar_flip_flop == 0
    r.write(0x3C0, 0x12)
    r.write(0x3C0, 0xFF)
    assert st.ar[0x12] == 0x3F
    for idx, expect in [(0x11, 0xFF), (0x13, 0x0F), (0x14, 0x0F)]:
        r.write(0x3C0, idx)
        r.write(0x3C0, 0xFF)
        assert st.ar[idx] == expect
    r.write(0x3C0, 0x16)
    assert r.read(0x3C1) == 0


def test_attribute_index_read_in_data_state_qemu_compat():
    st, r, _ = make(qemu_compat=True)
    r.write(0x3C0, 0x30)
    assert r.read(0x3C0) == 0


def test_dac_write_read_cycle_and_state():
    st, r, _ = make()
    r.write(0x3C8, 0x10)
    assert r.read(0x3C7) == 0 and r.read(0x3C8) == 0x10
    for v in (0x3F, 0x20, 0x01, 0x05, 0x06, 0x07):
        r.write(0x3C9, v)
    assert bytes(st.palette[0x30:0x36]) == bytes([0x3F, 0x20, 0x01, 5, 6, 7])
    assert r.read(0x3C8) == 0x12
    r.write(0x3C7, 0x10)
    assert r.read(0x3C7) == 3
    assert [r.read(0x3C9) for _ in range(6)] == [0x3F, 0x20, 0x01, 5, 6, 7]
    r.write(0x3C8, 0xFF)  # index wraps
    for _ in range(3):
        r.write(0x3C9, 1)
    assert r.read(0x3C8) == 0


def test_dac_reads_are_six_bit_on_hardware():
    for compat, expect in ((False, 0x3F), (True, 0xFF)):
        st, r, _ = make(qemu_compat=compat)
        r.write(0x3C8, 0)
        for _ in range(3):
            r.write(0x3C9, 0xFF)
        r.write(0x3C7, 0)
        assert r.read(0x3C9) == expect


def test_pel_mask_register():
    st, r, _ = make()
    assert r.read(0x3C6) == 0xFF
    r.write(0x3C6, 0x0F)
    assert r.read(0x3C6) == 0x0F and st.pel_mask == 0x0F
    st, r, _ = make(qemu_compat=True)
    r.write(0x3C6, 0x0F)
    assert r.read(0x3C6) == 0 and st.pel_mask == 0xFF


def test_feature_control_and_input_status0():
    st, r, _ = make()
    r.write(0x3DA, 0xFF)
    assert r.read(0x3CA) == 0x10
    assert r.read(0x3C2) == 0


def test_status1_retrace_follows_virtual_clock():
    st, r, _ = make()
    seen = set()
    for _ in range(FRAME_NS // 4000 + 10):
        seen.add(r.read(0x3DA) & 0x09)
    assert 0x09 in seen and 0x00 in seen and 0x01 in seen  # retrace, display, h-blank


def test_status1_deterministic_and_clock_driven():
    a = make()[1]
    b = make()[1]
    assert [a.read(0x3DA) for _ in range(100)] == [b.read(0x3DA) for _ in range(100)]
    st, r, _ = make()
    # programmed 480-line timing: in retrace at line 490
    for i, v in [(6, 0x0B), (7, 0x3E), (0x10, 0xEA), (0x11, 0x0C), (0x12, 0xDF), (0, 0x5F), (1, 0x4F)]:
        r.write(0x3D4, i)
        r.write(0x3D5, v)
    r.clock.advance(FRAME_NS * 491 // 525)
    assert r.read(0x3DA) & 0x08
    r.clock.advance(FRAME_NS * 20 // 525)
    assert not r.read(0x3DA) & 0x08


def test_status1_qemu_compat_toggles():
    st, r, _ = make(qemu_compat=True)
    assert [r.read(0x3DA) & 9 for _ in range(4)] == [9, 0, 9, 0]


def test_mono_status_port_resets_flip_flop():
    st, r, _ = make(colour=False)
    r.write(0x3C0, 0x10)
    assert st.ar_flip_flop == 1
    r.read(0x3BA)
    assert st.ar_flip_flop == 0


def test_port_ops_split_wide_accesses():
    st, r, _ = make()
    rd, wr = r.port_ops(0x3C0, 16)
    wr(4, 0x0F02, 2)  # outw 0x3C4: index 2, data 0x0F
    assert st.sr[2] == 0x0F
    wr(8, 0x332211, 4)  # outl 0x3C8: index 0x11, then R=0x22 G=0x33 B=0 ... (0x3CA, 0x3CB)
    assert st.dac_write_index == 0x11 and bytes(st.dac_cache[:1]) == b"\x22"
    st, r, _ = make(qemu_compat=True)
    rd, wr = r.port_ops(0x3C0, 16)
    wr(8, 0x332211, 4)
    assert st.dac_write_index == 0
    assert rd(4, 4) == 0xFFFFFFFF
    rd, wr = r.port_ops(0x3D4, 2)
    wr(1, 0xABCD, 2)  # high byte would be port 0x3D6: outside the range
    assert st.cr[0] == 0xCD


def test_reset_state():
    st, r, _ = make()
    st.sr[2] = 5
    r.reset()
    assert st.sr[2] == 0 and st.msr == 0 and st.vbe_regs[0] == 0xB0C5
