"""The 8259A pair: initialisation, priorities, EOI, masks, cascade, poll, rotation."""

from __future__ import annotations

from hypothesis import given, settings, strategies as st
import pytest

from vgaemu.errors import ConfigError
from vgaemu.machine import Machine
from vgaemu.pc.pic import PICPair


def bios_init(pic: PICPair) -> None:
    """What a PC BIOS programs: vectors 08h and 70h, cascade on IRQ 2, 8086 mode."""
    for chip, base, casc in ((pic.master, 0x08, 0x04), (pic.slave, 0x70, 0x02)):
        chip.write(0, 0x11, 1)
        chip.write(1, base, 1)
        chip.write(1, casc, 1)
        chip.write(1, 0x01, 1)


def eoi(pic, slave=False):
    if slave:
        pic.slave.write(0, 0x20, 1)
    pic.master.write(0, 0x20, 1)


def test_edge_request_ack_and_eoi():
    pic = PICPair()
    bios_init(pic)
    assert not pic.int_output
    pic.pulse_irq(0)
    assert pic.int_output
    assert pic.acknowledge() == 0x08
    assert pic.master.isr == 1 and not pic.int_output
    pic.pulse_irq(0)            # same line again: blocked while in service
    assert not pic.int_output
    eoi(pic)
    assert pic.int_output and pic.acknowledge() == 0x08


def test_priority_nesting_and_blocking():
    pic = PICPair()
    bios_init(pic)
    pic.pulse_irq(3)
    assert pic.acknowledge() == 0x0B
    pic.pulse_irq(5)            # lower priority than 3: waits
    assert not pic.int_output
    pic.pulse_irq(1)            # higher: nests
    assert pic.acknowledge() == 0x09
    eoi(pic)                    # non-specific EOI ends IRQ 1, the highest in service
    assert pic.master.isr == 1 << 3
    eoi(pic)
    assert pic.acknowledge() == 0x0D


def test_mask_holds_request_until_unmasked():
    pic = PICPair()
    bios_init(pic)
    pic.master.write(1, 0x01, 1)   # OCW1: mask IRQ 0
    pic.pulse_irq(0)
    assert not pic.int_output and pic.master.irr == 1
    pic.master.write(1, 0x00, 1)
    assert pic.int_output and pic.acknowledge() == 0x08


def test_cascade_slave_irq_vectors_through_master_irq2():
    pic = PICPair()
    bios_init(pic)
    pic.pulse_irq(12)
    assert pic.int_output
    assert pic.acknowledge() == 0x74
    assert pic.master.isr == 1 << 2 and pic.slave.isr == 1 << 4
    pic.pulse_irq(14)   # lower priority on the slave: the master sees no new edge yet
    assert not pic.int_output
    eoi(pic, slave=True)
    assert pic.acknowledge() == 0x76


def test_isa_irq2_is_the_slaves_irq9():
    pic = PICPair()
    bios_init(pic)
    pic.pulse_irq(2)
    assert pic.acknowledge() == 0x71


def test_ocw3_reads_irr_then_isr_and_poll():
    pic = PICPair()
    bios_init(pic)
    pic.pulse_irq(4)
    assert pic.master.read(0, 1) == 0x10    # IRR by default
    pic.master.write(0, 0x0B, 1)            # OCW3: read ISR
    assert pic.master.read(0, 1) == 0x00
    pic.master.write(0, 0x0C, 1)            # poll command
    assert pic.master.read(0, 1) == 0x84    # request on line 4, now in service
    assert pic.master.read(0, 1) == 0x10    # ISR (the read-select persists)


def test_specific_eoi_and_rotation():
    pic = PICPair()
    bios_init(pic)
    pic.pulse_irq(1)
    pic.acknowledge()
    pic.master.write(0, 0x60 | 1, 1)        # specific EOI for 1
    assert pic.master.isr == 0
    pic.master.write(0, 0xC0 | 4, 1)        # set priority: 4 lowest, 5 highest
    pic.pulse_irq(3)
    pic.pulse_irq(6)
    assert pic.acknowledge() == 0x0E


def test_auto_eoi_leaves_isr_clear():
    pic = PICPair()
    m = pic.master
    for v in (0x11, 0x20, 0x04, 0x03):
        m.write(0 if v == 0x11 else 1, v, 1)
    pic.pulse_irq(0)
    assert pic.acknowledge() == 0x20 and m.isr == 0


def test_spurious_when_request_vanishes():
    pic = PICPair()
    bios_init(pic)
    assert pic.acknowledge() == 0x0F


def test_level_triggered_icw1_is_refused():
    pic = PICPair()
    with pytest.raises(ConfigError, match="level-triggered"):
        pic.master.write(0, 0x19, 1)


def test_ports_on_the_machine():
    m = Machine()
    pic = PICPair(m)
    m.outb(0x21, 0xFB)
    m.outb(0xA1, 0x55)
    assert pic.master.imr == 0xFB and m.inb(0x21) == 0xFB and m.inb(0xA1) == 0x55


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["irq", "ack", "eoi", "mask"]), st.integers(0, 7)),
                max_size=40))
def test_master_against_naive_fixed_priority_model(ops):
    """Fixed priority, no cascade: a vector is given for the lowest-numbered unmasked
    request that is below every line in service."""
    pic = PICPair()
    bios_init(pic)
    irr = isr = imr = 0
    for op, n in ops:
        if n == 2:
            n = 3
        if op == "irq":
            pic.pulse_irq(n)
            irr |= 1 << n
        elif op == "mask":
            pic.master.write(1, 1 << n, 1)
            imr = 1 << n
        elif op == "eoi":
            eoi(pic)
            if isr:
                isr &= ~(isr & -isr)
        else:
            want = None
            for line in range(8):
                if isr >> line & 1:
                    break
                if (irr & ~imr) >> line & 1:
                    want = line
                    break
            assert pic.int_output == (want is not None)
            if want is not None:
                assert pic.acknowledge() == 8 + want
                irr &= ~(1 << want)
                isr |= 1 << want
        assert pic.master.irr == irr and pic.master.isr == isr
