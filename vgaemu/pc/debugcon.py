"""Where boot code prints: QEMU's ISA debug console (``-debugcon``, port 0xE9) and the
transmit side of the first 16550A UART (COM1 at 0x3F8), both writing each byte the guest
sends to one output (stderr, or the file ``--serial FILE`` names).

The UART is a transmitter only: its registers hold what is written (divisor latch with
DLAB, IER, LCR, MCR, scratch), LSR always reports the transmitter empty and ready, and
nothing is ever received (RBR reads 0, no interrupts are raised).
"""

from __future__ import annotations

import sys

from guestmem.region import AccessConstraints, MemoryRegion, MemoryRegionOps

_BYTE = AccessConstraints(min_access_size=1, max_access_size=1)
#: QEMU's debugcon reads back this value so a guest can detect it.
DEBUGCON_READBACK = 0xE9
LSR_THR_EMPTY = 0x20
LSR_TX_EMPTY = 0x40


class ByteSink:
    """One output stream for guest bytes (binary file or a text stream's buffer);
    ``data`` keeps everything written, for tests and the CLI's summary."""

    def __init__(self, stream=None) -> None:
        if stream is None:
            stream = sys.stderr
        self.stream = getattr(stream, "buffer", stream)
        self.data = bytearray()

    def write(self, b: int) -> None:
        self.data.append(b)
        self.stream.write(bytes((b,)))
        if b == 0x0A:
            self.stream.flush()

    def flush(self) -> None:
        self.stream.flush()


class DebugCon:
    """QEMU's isa-debugcon: each byte written goes to ``sink``, then to every callable in
    :attr:`observers` (a host-side protocol spoken over the port, e.g.
    vgaemu.pc.dumphandshake)."""

    def __init__(self, sink: ByteSink, machine=None, port: int = 0xE9) -> None:
        self.sink = sink
        self.observers: list = []
        if machine is not None:
            machine.system_io.add_subregion(port, MemoryRegion.io("isa-debugcon", 1, MemoryRegionOps(
                read=lambda o, s: DEBUGCON_READBACK, write=lambda o, v, s: self.write(v & 0xFF),
                valid=_BYTE, impl=_BYTE)))

    def write(self, b: int) -> None:
        self.sink.write(b)
        for observer in self.observers:
            observer(b)


class SerialTx:
    """A 16550A at ``port`` (COM1: 0x3F8) whose transmitter writes to ``sink``."""

    def __init__(self, sink: ByteSink, machine=None, port: int = 0x3F8) -> None:
        self.sink = sink
        self.ier = self.lcr = self.mcr = self.scr = 0
        self.divisor = 12   # 9600 baud
        if machine is not None:
            machine.system_io.add_subregion(port, MemoryRegion.io("serial", 8, MemoryRegionOps(
                read=self.read, write=self.write, valid=_BYTE, impl=_BYTE)))

    @property
    def dlab(self) -> bool:
        return bool(self.lcr & 0x80)

    def read(self, offset: int, size: int) -> int:
        if offset == 0:
            return self.divisor & 0xFF if self.dlab else 0
        if offset == 1:
            return self.divisor >> 8 if self.dlab else self.ier
        if offset == 2:
            return 0x01   # IIR: no interrupt pending
        if offset == 3:
            return self.lcr
        if offset == 4:
            return self.mcr
        if offset == 5:
            return LSR_THR_EMPTY | LSR_TX_EMPTY
        if offset == 6:
            return 0xB0 if not self.mcr & 0x10 else 0   # MSR: DCD, DSR, CTS
        return self.scr

    def write(self, offset: int, value: int, size: int) -> None:
        value &= 0xFF
        if offset == 0:
            if self.dlab:
                self.divisor = self.divisor & 0xFF00 | value
            else:
                self.sink.write(value)
        elif offset == 1:
            if self.dlab:
                self.divisor = self.divisor & 0xFF | value << 8
            else:
                self.ier = value & 0x0F
        elif offset == 3:
            self.lcr = value
        elif offset == 4:
            self.mcr = value & 0x1F
        elif offset == 7:
            self.scr = value

    def vmstate_section(self):
        """The ``serial`` section (QEMU's vmstate_serial, the registers this UART has)."""
        from vgaemu.migration.vmstate import schema_section

        byte = range(0, 256)
        schema = {"ier": range(0, 16), "lcr": byte, "mcr": range(0, 32), "scr": byte,
                  "divisor": range(0, 0x10000)}

        def save() -> dict:
            return {k: getattr(self, k) for k in schema}

        def load(state: dict) -> None:
            for k, v in state.items():
                setattr(self, k, v)

        return schema_section("serial", 1, schema, save, load)
