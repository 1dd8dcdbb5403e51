"""The 8254: counter values and OUT as functions of virtual time, latch and read-back,
IRQ 0 edges at the programmed rate, channel 2 through port 0x61."""

from __future__ import annotations

import pytest

from vgaemu.clock import VirtualClock
from vgaemu.errors import GuestError
from vgaemu.machine import Machine
from vgaemu.pc.pit import PIT, PIT_FREQ, ticks_to_ns
from vgaemu.pc.timer import TimerList


class Rig:
    def __init__(self, machine=None):
        self.clock = machine.clock if machine else VirtualClock()
        self.timers = TimerList(self.clock)
        self.levels = []
        self.pit = PIT(self.clock, self.timers, self.levels.append, machine)

    def advance_to(self, t):
        """Fire timers in order up to virtual time t (what the machine loop does)."""
        while True:
            d = self.timers.deadline()
            if d is None or d > t:
                break
            self.clock.now_ns = d
            self.timers.run_due()
        self.clock.now_ns = t

    def rising_edges(self):
        return sum(1 for a, b in zip(self.levels, self.levels[1:]) if not a and b)

    def w(self, port, v):
        self.pit._write(port - 0x40, v, 1)

    def r(self, port):
        return self.pit._read(port - 0x40, 1)


def test_default_channel0_is_18_2_hz():
    rig = Rig()
    rig.advance_to(10 * 10**9)
    assert rig.rising_edges() == 10 * PIT_FREQ // 65536   # 182 ticks in 10 s


@pytest.mark.parametrize("mode", [2, 3])
def test_programmed_rate_gives_irq0_at_that_rate(mode):
    rig = Rig()
    divisor = PIT_FREQ // 1000
    rig.w(0x43, 0x30 | mode << 1)
    rig.w(0x40, divisor & 0xFF)
    rig.w(0x40, divisor >> 8)
    rig.levels.clear()
    rig.advance_to(ticks_to_ns(divisor * 250))
    assert rig.rising_edges() == 250


def test_mode0_counts_down_and_raises_out_once():
    rig = Rig()
    rig.w(0x43, 0x30)           # channel 0, lo/hi, mode 0
    rig.w(0x40, 100)
    rig.w(0x40, 0)
    assert rig.levels[-1] is False
    rig.advance_to(ticks_to_ns(40))
    rig.w(0x43, 0x00)           # latch channel 0
    assert rig.r(0x40) | rig.r(0x40) << 8 == 60
    rig.advance_to(ticks_to_ns(1000))
    assert rig.levels[-1] is True and rig.rising_edges() == 1
    assert rig.timers.deadline() is None


def test_latch_freezes_value_until_read():
    rig = Rig()
    rig.w(0x43, 0x34)
    rig.w(0x40, 0x00)
    rig.w(0x40, 0x10)           # 0x1000
    rig.advance_to(ticks_to_ns(0x100))
    rig.w(0x43, 0x00)
    rig.advance_to(ticks_to_ns(0x300))
    assert rig.r(0x40) | rig.r(0x40) << 8 == 0x0F00


def test_readback_status_and_count():
    rig = Rig()
    rig.w(0x43, 0xB6)           # channel 2, lo/hi, mode 3
    rig.w(0x42, 0x00)
    rig.w(0x42, 0x01)
    rig.w(0x43, 0xC8)           # read-back channel 2: count and status
    status = rig.r(0x42)
    assert status & 0x3F == 0x36 and not status & 0x40


def test_unmodelled_modes_are_refused():
    rig = Rig()
    with pytest.raises(GuestError, match="mode 1"):
        rig.w(0x43, 0x32)
    with pytest.raises(GuestError, match="BCD"):
        rig.w(0x43, 0x35)


def test_channel2_gate_and_out_through_port61():
    m = Machine()
    rig = Rig(m)
    m.outb(0x61, 0x00)          # gate low
    m.outb(0x43, 0xB0)          # channel 2, mode 0
    m.outb(0x42, 0xE8)
    m.outb(0x42, 0x03)          # 1000 ticks
    rig.advance_to(ticks_to_ns(5000))
    assert not m.inb(0x61) & 0x20          # gate low: not counting
    m.outb(0x61, 0x01)
    start = rig.clock.now_ns
    rig.advance_to(start + ticks_to_ns(999) - 1000)
    assert not m.inb(0x61) & 0x20
    rig.advance_to(start + ticks_to_ns(1001))
    assert m.inb(0x61) & 0x21 == 0x21


def test_port61_refresh_bit_toggles():
    m = Machine()
    rig = Rig(m)
    seen = set()
    for i in range(8):
        rig.advance_to(i * 7600)
        seen.add(m.inb(0x61) & 0x10)
    assert seen == {0, 0x10}
