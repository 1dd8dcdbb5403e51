"""The A20 gate: System Control Port A (port 92h, bit 1) and the keyboard controller's
output port (i8042 command D1h, bit 1), as a PC has them.  On by default, as SeaBIOS
leaves it.  The CPU masks every physical address with ``cpu.a20_mask``.  As in QEMU (both
devices drive one A20 line into the CPU, handle_a20_line_change), the last write to either
decides.

Only the A20 part of the i8042 is modelled: the status port reads "input buffer empty", the
commands D0h (read output port), D1h (write output port), DDh/DFh (A20 off/on) work, and
data written after D1h sets the output port.  A keyboard is not attached.
"""

from __future__ import annotations

from guestmem.region import AccessConstraints, MemoryRegion, MemoryRegionOps

A20_ON = 0xFFFFFFFF
A20_OFF = 0xFFEFFFFF


class A20Gate:
    def __init__(self, machine, cpu):
        self.cpu = cpu
        self.port92 = 0x02
        self.kbc_output = 0x03  # bit 0: system reset line inactive, bit 1: A20
        self.kbc_pending = None
        self.kbc_data = None
        byte = AccessConstraints(min_access_size=1, max_access_size=1)
        self.port92_mr = MemoryRegion.io("port92", 1, MemoryRegionOps(
            read=self._read92, write=self._write92, valid=byte, impl=byte))
        self.kbc_data_mr = MemoryRegion.io("i8042-data", 1, MemoryRegionOps(
            read=self._read60, write=self._write60, valid=byte, impl=byte))
        self.kbc_cmd_mr = MemoryRegion.io("i8042-cmd", 1, MemoryRegionOps(
            read=self._read64, write=self._write64, valid=byte, impl=byte))
        machine.system_io.add_subregion(0x92, self.port92_mr)
        machine.system_io.add_subregion(0x60, self.kbc_data_mr)
        machine.system_io.add_subregion(0x64, self.kbc_cmd_mr)
        self._set(True)

    @property
    def enabled(self) -> bool:
        return self.cpu.a20_mask == A20_ON

    def _set(self, on: bool) -> None:
        self.cpu.a20_mask = A20_ON if on else A20_OFF

    def _read92(self, offset: int, size: int) -> int:
        return self.port92

    def _write92(self, offset: int, value: int, size: int) -> None:
        # bit 0 is the fast reset line; with no firmware to restart it is ignored
        self.port92 = value & 0x02
        self._set(bool(value & 2))

    def _read60(self, offset: int, size: int) -> int:
        v, self.kbc_data = self.kbc_data, None
        return 0x00 if v is None else v

    def _write60(self, offset: int, value: int, size: int) -> None:
        if self.kbc_pending == 0xD1:
            self.kbc_output = value | 0x01
            self._set(bool(value & 2))
        self.kbc_pending = None

    def _read64(self, offset: int, size: int) -> int:
        # bit 0: output buffer full; bit 1 (input buffer full) always clear; bit 2: self-test
        # passed (system flag)
        return 0x14 | (1 if self.kbc_data is not None else 0)

    def _write64(self, offset: int, value: int, size: int) -> None:
        if value == 0xD0:
            self.kbc_data = self.kbc_output
        elif value == 0xD1:
            self.kbc_pending = 0xD1
            return
        elif value == 0xDD:
            self.kbc_output &= ~0x02
            self._set(False)
        elif value == 0xDF:
            self.kbc_output |= 0x02
            self._set(True)
        self.kbc_pending = None
