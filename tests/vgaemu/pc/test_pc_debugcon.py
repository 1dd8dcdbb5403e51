"""Debug console and COM1 transmitter registers."""

from __future__ import annotations

import io

from vgaemu.machine import Machine
from vgaemu.pc.debugcon import ByteSink, DebugCon, SerialTx


def test_debugcon_and_serial_share_one_sink():
    m = Machine()
    out = io.BytesIO()
    sink = ByteSink(out)
    DebugCon(sink, m)
    SerialTx(sink, m)
    for b in b"hi\n":
        m.outb(0xE9, b)
    m.outb(0x3F8, ord("!"))
    assert out.getvalue() == b"hi\n!" and sink.data == b"hi\n!"
    assert m.inb(0xE9) == 0xE9


def test_serial_divisor_latch_does_not_transmit():
    m = Machine()
    out = io.BytesIO()
    s = SerialTx(ByteSink(out), m)
    m.outb(0x3FB, 0x83)      # DLAB, 8N1
    m.outb(0x3F8, 0x01)
    m.outb(0x3F9, 0x00)
    m.outb(0x3FB, 0x03)
    assert s.divisor == 1 and out.getvalue() == b""
    m.outb(0x3FF, 0x5A)
    assert m.inb(0x3FF) == 0x5A and m.inb(0x3FD) & 0x60 == 0x60 and m.inb(0x3FA) == 0x01
    m.outb(0x3F9, 0x0F)
    assert m.inb(0x3F9) == 0x0F


def test_text_stream_gets_bytes_through_its_buffer():
    raw = io.BytesIO()
    t = io.TextIOWrapper(raw)
    sink = ByteSink(t)
    sink.write(0x41)
    sink.flush()
    assert raw.getvalue() == b"A"
