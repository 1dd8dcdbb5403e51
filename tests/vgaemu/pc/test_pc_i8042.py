"""The i8042 controller and its PS/2 keyboard, through ports 0x60/0x64: status bits, the
command byte, self/interface tests, disable/enable, the output port and A20, reset pulses,
and the keyboard's own commands (QEMU's pckbd.c/ps2.c behaviour)."""

from __future__ import annotations

import io

from vgaemu.machine import Machine
from vgaemu.pc.platform import PCPlatform


def drain(m):
    out = []
    while m.inb(0x64) & 1:
        out.append(m.inb(0x60))
    return out


def cmd(m, c, data=None):
    m.outb(0x64, c)
    if data is not None:
        m.outb(0x60, data)
    return drain(m)


def test_status_and_command_byte_after_post():
    m = Machine()
    st = m.inb(0x64)
    assert st == 0x14            # system flag, not inhibited; buffers empty
    assert cmd(m, 0x20) == [0x61]   # keyboard IRQ, translation, mouse port off
    assert m.inb(0x64) & 0x08       # last write went to the command port
    assert cmd(m, 0x60, 0x45) == [] and not m.inb(0x64) & 0x08
    assert cmd(m, 0x20) == [0x45] and m.i8042.mode == 0x45


def test_self_test_interface_tests_and_ports():
    m = Machine()
    m.i8042.status &= ~0x04
    assert cmd(m, 0xAA) == [0x55] and m.inb(0x64) & 0x04
    assert cmd(m, 0xAB) == [0x00] and cmd(m, 0xA9) == [0x00]
    assert cmd(m, 0xC0) == [0x80] and cmd(m, 0xE0) == [0x00]
    cmd(m, 0xA8)
    assert cmd(m, 0x20) == [0x41]
    cmd(m, 0xA7)
    assert cmd(m, 0x20) == [0x61]


def test_output_port_a20_and_reset_line():
    m = Machine()
    resets = []
    m.i8042.reset_request = resets.append
    assert cmd(m, 0xD0) == [0xCF]
    cmd(m, 0xD1, 0xCD)                           # A20 off, reset line high
    assert m.cpu.a20_mask == 0xFFEFFFFF and not resets
    assert cmd(m, 0xD0) == [0xCD]
    cmd(m, 0xDF)
    assert m.cpu.a20_mask == 0xFFFFFFFF and cmd(m, 0xD0) == [0xCF]
    cmd(m, 0xDD)
    assert m.cpu.a20_mask == 0xFFEFFFFF
    cmd(m, 0xD1, 0xCE)                           # reset line low
    cmd(m, 0xFE)                                 # pulse reset
    cmd(m, 0xFF)                                 # pulses nothing
    assert len(resets) == 2 and "FEh" in resets[1]
    m.a20.reset_request = resets.append
    m.outb(0x92, 0x03)                           # fast reset: 0 -> 1 edge
    m.outb(0x92, 0x03)                           # no edge
    assert len(resets) == 3 and m.cpu.a20_mask == 0xFFFFFFFF


def test_keyboard_commands():
    m = Machine()
    k = m.i8042
    m.outb(0x60, 0xFF)
    assert drain(m) == [0xFA, 0xAA]
    m.outb(0x60, 0xF2)
    assert drain(m) == [0xFA, 0xAB, 0x41]        # translated ID, as QEMU
    m.outb(0x60, 0xED)
    assert drain(m) == [0xFA]
    m.outb(0x60, 0x07)
    assert drain(m) == [0xFA] and k.leds == 7
    m.outb(0x60, 0xEE)
    assert drain(m) == [0xEE]
    m.outb(0x60, 0xF0), m.outb(0x60, 0x00)
    assert drain(m) == [0xFA, 0xFA, 0x41]        # set 2, translated
    m.outb(0x60, 0xF3), m.outb(0x60, 0x20)
    assert drain(m) == [0xFA, 0xFA]
    m.outb(0x60, 0xF5)
    assert drain(m) == [0xFA] and k.leds == 0
    k.key_event([0x1E, 0x9E])                    # scanning off: lost
    assert drain(m) == []
    m.outb(0x60, 0xF4)
    assert drain(m) == [0xFA]
    k.key_event([0x1E, 0x9E])
    assert drain(m) == [0x1E, 0x9E]
    m.outb(0x60, 0x42)
    assert drain(m) == [0xFE]                    # unknown command: resend


def test_disabled_keyboard_holds_keys_and_controller_replies_go_first():
    m = Machine()
    cmd(m, 0xAD)
    m.i8042.key_event([0x1E])
    assert not m.inb(0x64) & 1
    assert cmd(m, 0x20) == [0x71]                # the reply is not held back
    assert cmd(m, 0xAE) == [0x1E]
    m.i8042.key_event([0x30])                    # in the buffer, unread...
    assert cmd(m, 0xAB) == [0x00, 0x30]          # ...the reply overtakes it
    m.outb(0x64, 0xD2), m.outb(0x60, 0x99)       # write the buffer as the keyboard
    assert m.inb(0x64) & 0x21 == 0x01 and m.inb(0x60) == 0x99
    m.outb(0x64, 0xD3), m.outb(0x60, 0x77)       # ... as the mouse: no IRQ 1
    assert m.inb(0x64) & 0x21 == 0x21 and not m.i8042.irq_level and m.inb(0x60) == 0x77
    assert m.inb(0x60) == 0x77                   # an empty buffer reads the last byte again


def test_irq1_follows_the_buffer_and_the_command_byte():
    m = Machine()
    p = PCPlatform(m, output=io.BytesIO())
    k = m.i8042
    k.key_event([0x1E, 0x9E])
    assert k.irq_level and p.pic.master.irr & 0x02
    assert m.inb(0x60) == 0x1E and not k.irq_level
    assert not m.inb(0x64) & 1                   # the next byte takes a byte time
    p.clock.now_ns += 1_000_000
    p.timers.run_due()
    assert k.irq_level and m.inb(0x60) == 0x9E
    cmd(m, 0x60, 0x60)                           # keyboard interrupt off
    k.key_event([0x1F])
    assert m.inb(0x64) & 1 and not k.irq_level
