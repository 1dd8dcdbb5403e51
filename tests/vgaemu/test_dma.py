"""The DMA engine: dirty bits as QEMU's DMA sets them, bounce buffer for MMIO, errors that touch nothing."""

import numpy as np
import pytest

from guestmem.dirty import DIRTY_MEMORY_VGA, TARGET_PAGE_SIZE
from vgaemu import dma
from vgaemu.errors import GuestError
from vgaemu.guest import Guest
from vgaemu.machine import Machine

SRC = 0x200000  # a back buffer in RAM


@pytest.fixture
def guest():
    return Guest(Machine(memory="64M"))


def dirty_page_set(machine):
    """VRAM pages dirty for the VGA client, read without clearing them."""
    mr = machine.vga.vram_mr
    return {p for p in range(mr.size // TARGET_PAGE_SIZE)
            if mr.get_dirty(p * TARGET_PAGE_SIZE, TARGET_PAGE_SIZE, DIRTY_MEMORY_VGA)}


def vga_dirty_pages(machine):
    mr = machine.vga.vram_mr
    snap = mr.snapshot_and_clear_dirty(0, mr.size, DIRTY_MEMORY_VGA)
    return set(np.flatnonzero(snap.pages_in(snap.start, snap.end - snap.start)).tolist())


def test_blit_to_lfb_marks_exactly_the_blitted_lines_dirty(guest):
    m = guest.machine
    guest.vbe_set_mode(0x144)  # 1024x768x32: one 4096-byte line per page
    guest.write(SRC, np.arange(64 * 32 * 4, dtype=np.uint32).astype(np.uint8))
    m.vga.update_display()
    vga_dirty_pages(m)
    pitch = 1024 * 4
    guest.dma.blit(SRC, guest.lfb_base + 300 * pitch + 80, 64 * 4, 32, 64 * 4, pitch)
    assert dirty_page_set(m) == set(range(300, 332))
    stats = m.vga.update_display()
    assert stats.lines_redrawn == 32
    vram = m.vga.state.vram
    row = np.frombuffer(guest.read(SRC + 5 * 256, 256), dtype=np.uint8)
    assert (vram[305 * pitch + 80: 305 * pitch + 80 + 256] == row).all()
    assert m.address_space_memory.ldl_le(dma.DMA_MMIO_BASE + dma.REG_BYTES) == 64 * 4 * 32


def test_blit_into_legacy_window_goes_through_the_bounce_buffer(guest):
    m = guest.machine
    guest.set_mode(0x12)  # planar: the window at 0xA0000 is MMIO, not RAM
    guest.fill(SRC, 80 * 8, 0xFF)
    guest.dma.blit(SRC, 0xA0000 + 80 * 100, 80, 8, 80, 80)
    last = guest.dma.engine.last
    assert last.bytes == 640 and last.bounced_pieces == last.pieces >= 8
    img = m.vga.update_display() and m.vga.surface
    assert (img[100:108].reshape(-1, 3) == 255).all()  # map mask 0xF: all planes -> white
    assert (img[99] == 0).all() and (img[108] == 0).all()


def test_one_page_bounce_buffer_splits_a_long_mmio_transfer(guest):
    guest.set_mode(0x12)
    guest.fill(SRC, 3 * TARGET_PAGE_SIZE, 0x0F)
    guest.dma.copy(SRC, 0xA0000, 3 * TARGET_PAGE_SIZE)
    assert guest.dma.engine.last.pieces == 3 and guest.dma.engine.last.bounced_pieces == 3


@pytest.mark.parametrize("src,dst,n,code", [
    (SRC, 0xF0000000, 4096, dma.DMAError.DST_UNASSIGNED),
    (0xF0000000, 0xFD000000, 4096, dma.DMAError.SRC_UNASSIGNED),
    (SRC, SRC + 100, 4096, dma.DMAError.OVERLAP),
    (SRC, 0xFD000000, 0, dma.DMAError.BAD_LENGTH),
    (SRC, 0xFD000000, dma.DMA_MAX_TRANSFER + 1, dma.DMAError.BAD_LENGTH),
    (SRC, 0xFDFFF000, 0x2000, dma.DMAError.DST_UNASSIGNED),  # runs past the 16M LFB
])
def test_errors_set_status_and_touch_nothing(guest, src, dst, n, code):
    m = guest.machine
    guest.vbe_set_mode(0x144)
    guest.fill(SRC, 0x3000, 0x5A)
    vram_before = m.vga.state.vram.copy()
    ram_before = guest.read(SRC, 0x3000)
    vga_dirty_pages(m)
    with pytest.raises(GuestError, match=code.name):
        guest.dma.copy(src, dst, n)
    assert guest.dma.engine.last.error == code
    assert (m.vga.state.vram == vram_before).all()
    assert guest.read(SRC, 0x3000) == ram_before
    assert vga_dirty_pages(m) == set()


def test_status_register_reports_error_code_and_address():
    m = Machine()
    engine = dma.attach(m)
    as_ = m.address_space_memory
    base = dma.DMA_MMIO_BASE
    assert as_.ldl_le(base + dma.REG_ID) == dma.DMA_ID
    as_.stl_le(base + dma.REG_SRC_LO, 0x1000)
    as_.stl_le(base + dma.REG_DST_LO, 0x0)
    as_.stl_le(base + dma.REG_DST_HI, 0x1)  # 4 GiB: nothing there with -m 64M
    as_.stl_le(base + dma.REG_LENGTH, 16)
    as_.stl_le(base + dma.REG_CONTROL, dma.CTRL_START)
    st = as_.ldl_le(base + dma.REG_STATUS)
    assert st & dma.STATUS_ERROR and not st & dma.STATUS_DONE
    assert st >> dma.STATUS_CODE_SHIFT == dma.DMAError.DST_UNASSIGNED
    assert as_.ldl_le(base + dma.REG_ERR_ADDR_HI) == 1
    as_.stl_le(base + dma.REG_STATUS, dma.STATUS_ERROR)  # write 1 to clear
    assert as_.ldl_le(base + dma.REG_STATUS) == 0
    assert engine.error == dma.DMAError.NONE


def test_fill_2d_and_interleaved_rows_do_not_overlap(guest):
    guest.vbe_set_mode(0x144)
    pitch = 4096
    lfb = guest.lfb_base
    guest.dma.fill_rect(lfb + 10 * pitch, 40, 4, pitch, 0x00112233, unit=4)
    px = np.frombuffer(guest.read(lfb + 12 * pitch, 44), dtype="<u4")
    assert (px[:10] == 0x00112233).all() and px[10] == 0
    # rows 0,2,4 -> rows 1,3,5 of the same buffer: spans overlap, rows do not
    guest.dma.blit(lfb + 10 * pitch, lfb + 11 * pitch, 40, 2, 2 * pitch, 2 * pitch)


def test_bad_fill_unit_is_bad_mode():
    m = Machine()
    engine = dma.attach(m)
    engine.set_reg(dma.REG_DST_LO, 0x200000)
    engine.set_reg(dma.REG_LENGTH, 16)
    engine.set_reg(dma.REG_CONTROL, dma.CTRL_FILL | 3 << dma.CTRL_UNIT_SHIFT | dma.CTRL_START)
    assert engine.error == dma.DMAError.BAD_MODE


def test_register_block_moves_out_of_the_way_of_a_large_lfb():
    m = Machine(vram="64M")   # LFB 0xFD000000..0x101000000 covers 0xFEB00000
    engine = dma.attach(m)
    assert engine.base != dma.DMA_MMIO_BASE
    assert m.address_space_memory.ldl_le(engine.base + dma.REG_ID) == dma.DMA_ID
    g = Guest(m)
    g.fill(SRC, 64, 0x77)
    g.dma.copy(SRC, SRC + 0x1000, 64)
    assert g.read(SRC + 0x1000, 64) == b"\x77" * 64


from hypothesis import given, settings, strategies as st  # noqa: E402


@settings(max_examples=300, deadline=None)
@given(src=st.integers(0, 300), dst=st.integers(0, 300), width=st.integers(1, 40),
       height=st.integers(1, 8), ss=st.integers(-60, 60), ds=st.integers(-60, 60))
def test_overlap_check_matches_byte_sets(src, dst, width, height, ss, ds):
    rows = np.arange(height)
    s_starts, d_starts = src + 1000 + rows * ss, dst + 1000 + rows * ds
    s_bytes = {a + i for a in s_starts.tolist() for i in range(width)}
    d_bytes = {a + i for a in d_starts.tolist() for i in range(width)}
    try:
        dma.DMAEngine._check_overlap(s_starts, d_starts, width)
        overlap = False
    except dma._Fault as f:
        overlap = True
        assert f.code == dma.DMAError.OVERLAP
    assert overlap == bool(s_bytes & d_bytes)


@pytest.mark.parametrize("call, match", [
    (lambda d: d.copy(SRC, SRC + 0x1000, (1 << 32) + 16), r"copy: length 4294967312 does not fit"),
    (lambda d: d.copy(SRC, SRC + 0x1000, -1), "copy: length -1"),
    (lambda d: d.copy(SRC, SRC + 0x1000, 16.0), "copy: length 16.0"),
    (lambda d: d.blit(SRC, SRC + 0x1000, 4, 1 << 32, 4, 4), "blit: height"),
    (lambda d: d.blit(SRC, SRC + 0x1000, 4, 2, -(1 << 31) - 1, 4), "blit: src_stride"),
    (lambda d: d.fill(SRC, 16, 1, unit=3), "unit must be 1, 2 or 4 bytes, not 3"),
    (lambda d: d.fill(SRC, 16, 1, unit=[1]), "unit must be 1, 2 or 4"),
    (lambda d: d.fill(SRC, 16, "x"), "fill value 'x' is not an integer"),
    (lambda d: d.fill_rect(SRC, 4, 4, None, 1), "fill: dst_stride None"),
])
def test_driver_arguments_that_do_not_fit_the_registers_are_refused(guest, call, match):
    """copy(a, b, 2**32 + 16) programmed LENGTH = 16, moved 16 bytes and reported success;
    a fill unit of 3 raised a plain ValueError, a float length a TypeError. Each is the
    driver's error (GuestError for guest.dma) and nothing moves."""
    guest.write(SRC, bytes(range(16)))
    before = guest.read(SRC + 0x1000, 16)
    with pytest.raises(GuestError, match=match):
        call(guest.dma)
    assert guest.read(SRC + 0x1000, 16) == before and guest.read(SRC, 16) == bytes(range(16))
    assert guest.dma.copy(SRC, SRC + 0x1000, 16) == 16  # the engine is still usable
