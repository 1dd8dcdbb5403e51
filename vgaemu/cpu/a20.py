"""The A20 gate: System Control Port A (port 92h, bit 1) and the keyboard controller's
output port (i8042 command D1h, bit 1; the controller itself is :mod:`vgaemu.pc.i8042`), as a
PC has them.  On by default, as SeaBIOS leaves it.  The CPU masks every physical address
with ``cpu.a20_mask``.  As in QEMU (both devices drive one A20 line into the CPU,
handle_a20_line_change), the last write to either decides.

Port 92h bit 0 is the fast reset: a 0 -> 1 edge asks for a system reset (QEMU's
port92_write), through :attr:`A20Gate.reset_request` when a platform provides one.
"""

from __future__ import annotations

from guestmem.region import AccessConstraints, MemoryRegion, MemoryRegionOps

A20_ON = 0xFFFFFFFF
A20_OFF = 0xFFEFFFFF
#: The i8042 output port at power-on (QEMU's KBD_OUT_RESET | KBD_OUT_A20 | KBD_OUT_ONES):
#: bit 0 the reset line (1 = running), bit 1 A20, bits 2, 3, 6, 7 high.
KBC_OUTPUT_DEFAULT = 0xCF


class A20Gate:
    def __init__(self, machine, cpu):
        self.cpu = cpu
        self.port92 = 0x02
        #: the i8042's output port latch (written by command D1h, read by D0h)
        self.kbc_output = KBC_OUTPUT_DEFAULT
        #: called with a reason when the guest pulses a reset line (None: ignored)
        self.reset_request = None
        byte = AccessConstraints(min_access_size=1, max_access_size=1)
        self.port92_mr = MemoryRegion.io("port92", 1, MemoryRegionOps(
            read=self._read92, write=self._write92, valid=byte, impl=byte))
        machine.system_io.add_subregion(0x92, self.port92_mr)
        self._set(True)

    @property
    def enabled(self) -> bool:
        return self.cpu.a20_mask == A20_ON

    def _set(self, on: bool) -> None:
        self.cpu.a20_mask = A20_ON if on else A20_OFF

    def set_kbc_output(self, value: int) -> None:
        """The i8042's output port was written: bit 1 drives A20."""
        self.kbc_output = value & 0xFF
        self._set(bool(value & 2))

    def _read92(self, offset: int, size: int) -> int:
        return self.port92

    def _write92(self, offset: int, value: int, size: int) -> None:
        old = self.port92
        self.port92 = value & 0x03
        self._set(bool(value & 2))
        if value & 1 and not old & 1 and self.reset_request is not None:
            self.reset_request("port 92h fast reset")
