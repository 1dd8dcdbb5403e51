"""Issue 9.3: a DMA address range that wraps 2**64 is DMA error BAD_LENGTH (not a numpy
OverflowError), reported at the start of the row that wraps, with nothing written."""

import pytest

from vgaemu import dma
from vgaemu.errors import GuestError
from vgaemu.guest import Guest
from vgaemu.machine import Machine

TOP = 1 << 64


@pytest.fixture
def guest():
    return Guest(Machine(memory="64M"))


def regs(guest):
    as_ = guest.machine.address_space_memory
    base = guest.dma.engine.base
    status = as_.ldl_le(base + dma.REG_STATUS)
    at = as_.ldl_le(base + dma.REG_ERR_ADDR_LO) | as_.ldl_le(base + dma.REG_ERR_ADDR_HI) << 32
    return status, at


def program(guest, control, **values):
    as_ = guest.machine.address_space_memory
    base = guest.dma.engine.base
    for name, v in values.items():
        assert as_.stl_le(base + getattr(dma, f"REG_{name.upper()}"), v & 0xFFFFFFFF) == 0
    as_.stl_le(base + dma.REG_CONTROL, control | dma.CTRL_START)
    return regs(guest)


def test_register_programmed_source_that_wraps_is_bad_length(guest):
    before = guest.read(0xA0000, 0x100)
    status, at = program(guest, 0, src_lo=0xFFFFFFF0, src_hi=0xFFFFFFFF, dst_lo=0xA0000, dst_hi=0,
                         length=0x100)
    assert status & dma.STATUS_ERROR and (status >> 8) & 0xFF == dma.DMAError.BAD_LENGTH
    assert at == 0xFFFFFFFFFFFFFFF0
    assert guest.read(0xA0000, 0x100) == before


def test_destination_that_wraps_is_bad_length(guest):
    status, at = program(guest, dma.CTRL_FILL, dst_lo=0xFFFFFF00, dst_hi=0xFFFFFFFF, length=0x101)
    assert (status >> 8) & 0xFF == dma.DMAError.BAD_LENGTH and at == TOP - 0x100


def test_range_ending_exactly_at_2_64_is_not_a_length_error(guest):
    """[2**64 - 0x100, 2**64) is a legal range: nothing answers there, so it is unassigned."""
    status, at = program(guest, dma.CTRL_FILL, dst_lo=0xFFFFFF00, dst_hi=0xFFFFFFFF, length=0x100)
    assert (status >> 8) & 0xFF == dma.DMAError.DST_UNASSIGNED and at == TOP - 0x100


def test_2d_rows_above_2_63_use_exact_integers(guest):
    """Rows wholly above 2**63 (past int64) are checked exactly: unassigned, not an overflow."""
    status, at = program(guest, dma.CTRL_2D, src_lo=0, src_hi=0x80000000, dst_lo=0xA0000, dst_hi=0,
                         width=16, height=4, src_stride=-32 & 0xFFFFFFFF, dst_stride=16)
    assert (status >> 8) & 0xFF == dma.DMAError.SRC_UNASSIGNED and at == 1 << 63


def test_2d_negative_stride_below_zero_is_bad_length(guest):
    status, at = program(guest, dma.CTRL_2D | dma.CTRL_FILL, dst_lo=0x100000, dst_hi=0, width=16,
                         height=4, dst_stride=-0x80000 & 0xFFFFFFFF)
    assert (status >> 8) & 0xFF == dma.DMAError.BAD_LENGTH


def test_driver_copy_from_wrapping_source_raises_guest_error(guest):
    with pytest.raises(GuestError, match=r"BAD_LENGTH at address 0xFFFFFFFFFFFFFFF0"):
        guest.dma.copy(0xFFFFFFFFFFFFFFF0, 0xA0000, 0x100)


@pytest.mark.parametrize("src", [-1, TOP, TOP + 0x1000, 1.5])
def test_driver_refuses_addresses_outside_64_bits(guest, src):
    with pytest.raises(GuestError, match="not a 64-bit guest-physical address"):
        guest.dma.copy(src, 0xA0000, 16)

