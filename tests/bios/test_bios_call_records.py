"""The records an INT 10h call works on: Registers' checks, the BDA fields as properties,
int10 (a copy) against handle_10 (in place), and the BIOS's port accesses following the
I/O map (they are cached per port, as the CPU's IN/OUT are)."""

from __future__ import annotations

import struct

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from guestmem import MemoryRegion, MemoryRegionOps
from guestmem.region import AccessConstraints
from vgaemu.bios import BIOSError, Registers
from vgaemu.bios import bda as B
from vgaemu.machine import Machine

WORDS = ("ax", "bx", "cx", "dx", "si", "di", "bp", "es", "ds", "flags")


@pytest.fixture
def bios():
    b = Machine(memory="32M").bios
    b.boot(banner=False)
    return b


@settings(max_examples=100, deadline=None)
@given(st.lists(st.integers(0, 0xFFFF), min_size=10, max_size=10))
def test_registers_keep_every_word(values):
    r = Registers(*values)
    assert [getattr(r, w) for w in WORDS] == values
    assert Registers(**dict(zip(WORDS, values))) == r
    assert r.copy() == r and r.copy() is not r


@pytest.mark.parametrize("word", WORDS)
@pytest.mark.parametrize("bad", [True, -1, 0x10000, "1", 1.0, None])
def test_registers_refuse_a_bad_word_and_name_it(word, bad):
    with pytest.raises(BIOSError, match=f"register {word}="):
        Registers(**{word: bad})


def test_registers_take_int_subclasses():
    import enum

    class Mode(enum.IntEnum):
        TEXT = 3

    assert Registers(ax=Mode.TEXT).ax == 3


def test_bda_fields_are_their_bytes_in_guest_memory(bios):
    m = bios.machine
    bda = bios.bda
    for name, off in B._U8.items():
        old = getattr(bda, name)
        assert old == m.read(B.BDA + off, 1)[0]
        setattr(bda, name, 0x1A5)   # stored as a byte
        assert m.read(B.BDA + off, 1)[0] == 0xA5 and getattr(bda, name) == 0xA5
        setattr(bda, name, old)
    for name, off in B._U16.items():
        old = getattr(bda, name)
        assert old == struct.unpack("<H", m.read(B.BDA + off, 2))[0]
        setattr(bda, name, 0x1BEEF)
        assert m.read(B.BDA + off, 2) == b"\xEF\xBE" and getattr(bda, name) == 0xBEEF
        setattr(bda, name, old)
    m.write(B.BDA + B.VIDEO_COLS, b"\x28\x00")   # a guest's store is what the BIOS reads
    assert bda.video_cols == 40


def test_bda_refuses_names_it_does_not_have(bios):
    with pytest.raises(AttributeError):
        bios.bda.no_such_field
    with pytest.raises(AttributeError):
        bios.bda.no_such_field = 1
    with pytest.raises(AttributeError):
        bios.bda._bus = None


def test_int10_leaves_its_argument_and_handle_10_works_in_place(bios):
    regs = Registers(ax=0x0F00)
    out = bios.int10(regs)
    assert regs == Registers(ax=0x0F00)
    assert (out.al, out.ah) == (0x03, 80)
    bios.handle_10(regs)
    assert regs == out


def test_bios_port_accesses_follow_a_map_change(bios):
    """A port the BIOS used (its dispatch entry cached) answers from the region that
    covers it after the I/O map changes, as QEMU's iotlb is flushed on a commit."""
    m = bios.machine
    assert bios.bus.inb(0x3CC) == m.vga.state.msr   # cached: the VGA's misc output
    byte = AccessConstraints(min_access_size=1, max_access_size=1)
    seen = []
    over = MemoryRegion.io("over-3cc", 1, MemoryRegionOps(
        read=lambda off, size: 0x5A, write=lambda off, v, size: seen.append(v),
        valid=byte, impl=byte))
    m.system_io.add_subregion(0x3CC, over, priority=10)
    assert bios.bus.inb(0x3CC) == 0x5A
    bios.bus.outb(0x77, 0x3CC)
    assert seen == [0x77]
    m.system_io.del_subregion(over)
    assert bios.bus.inb(0x3CC) == m.vga.state.msr
