"""The 8259A programmable interrupt controller pair of the PC/AT (QEMU's hw/intc/i8259.c
facts): master at 0x20/0x21, slave at 0xA0/0xA1 cascaded on the master's IRQ 2.

Modelled: ICW1-ICW4 initialisation (edge triggering, cascade or single, 8086 mode, auto
EOI), OCW1 masks, OCW2 non-specific / specific EOI and the rotations, OCW3 IRR/ISR read
select, poll mode and special mask mode, and the interrupt acknowledge the CPU does
between translation blocks (:meth:`PICPair.acknowledge`).  Level-triggered mode (the ELCR
at 0x4D0/0x4D1) is not modelled: every input is edge triggered, as ISA devices are.
"""

from __future__ import annotations

from guestmem.region import AccessConstraints, MemoryRegion, MemoryRegionOps

from vgaemu.errors import ConfigError

_BYTE = AccessConstraints(min_access_size=1, max_access_size=1)


class PIC8259:
    """One 8259A.  ``irq_line(n, level)`` is the input pin; :attr:`output` its INT pin."""

    def __init__(self, name: str, *, master: bool, on_change) -> None:
        self.name = name
        self.master = master
        self.on_change = on_change   # called when the INT output may have changed
        self.power_on()

    def power_on(self) -> None:
        self.pins = 0         # current input levels
        self.irr = 0          # edges seen, not yet acknowledged
        self.imr = 0
        self.isr = 0
        self.priority_add = 0  # the lowest-priority line is priority_add - 1 (rotation)
        self.vector_base = 0x08 if self.master else 0x70
        self.read_isr = False
        self.poll = False
        self.special_mask = False
        self.init_state = 0    # 0: operational; 2/3/4: expecting ICW2/3/4
        self.needs_icw4 = False
        self.single = False
        self.auto_eoi = False
        self.rotate_on_auto_eoi = False
        self.special_fully_nested = False
        self.cascade = 0x04 if self.master else 0x02

    # -- priorities -------------------------------------------------------------------
    def _highest(self, bits: int) -> int | None:
        """The highest-priority line set in ``bits`` (rotation-aware), or None."""
        if not bits:
            return None
        for i in range(8):
            line = (i + self.priority_add) & 7
            if bits >> line & 1:
                return line
        return None

    def pending_irq(self) -> int | None:
        """The line the INT output asserts for, or None (an in-service line of equal or
        higher priority blocks it unless special mask mode is on)."""
        line = self._highest(self.irr & ~self.imr)
        if line is None:
            return None
        in_service = self.isr
        if self.special_mask:
            in_service &= ~self.imr
        if self.special_fully_nested and self.master:
            in_service &= ~(1 << 2)   # the slave's line may nest within itself
        cur = self._highest(in_service)
        if cur is not None and ((cur - self.priority_add) & 7) <= ((line - self.priority_add) & 7):
            return None
        return line

    @property
    def output(self) -> bool:
        return self.pending_irq() is not None

    # -- input pins -------------------------------------------------------------------
    def irq_line(self, n: int, level: bool) -> None:
        bit = 1 << n
        if level:
            if not self.pins & bit:
                self.irr |= bit   # rising edge
            self.pins |= bit
        else:
            self.pins &= ~bit
        self.on_change()

    # -- acknowledge ------------------------------------------------------------------
    def ack(self, line: int) -> None:
        bit = 1 << line
        if self.auto_eoi:
            if self.rotate_on_auto_eoi:
                self.priority_add = (line + 1) & 7
        else:
            self.isr |= bit
        self.irr &= ~bit

    def _eoi_line(self, line: int, rotate: bool) -> None:
        self.isr &= ~(1 << line)
        if rotate:
            self.priority_add = (line + 1) & 7

    # -- ports ------------------------------------------------------------------------
    def read(self, offset: int, size: int) -> int:
        if self.poll:
            self.poll = False
            line = self.pending_irq()
            if line is None:
                return 0
            self.ack(line)
            self.on_change()
            return 0x80 | line
        if offset == 0:
            return self.isr if self.read_isr else self.irr
        return self.imr

    def write(self, offset: int, value: int, size: int) -> None:
        value &= 0xFF
        if offset == 0:
            if value & 0x10:          # ICW1
                if value & 0x08:
                    raise ConfigError(f"{self.name}: ICW1 {value:#04x} asks for level-"
                                      "triggered mode, which this PIC does not model")
                self.power_on_keep_pins()
                self.needs_icw4 = bool(value & 1)
                self.single = bool(value & 2)
                self.init_state = 2
            elif value & 0x08:        # OCW3
                if value & 0x04:
                    self.poll = True
                if value & 0x02:
                    self.read_isr = bool(value & 1)
                if value & 0x40:
                    self.special_mask = bool(value & 0x20)
            else:                     # OCW2
                cmd = value >> 5
                if cmd in (1, 5):     # non-specific EOI (5: and rotate)
                    line = self._highest(self.isr)
                    if line is not None:
                        self._eoi_line(line, cmd == 5)
                elif cmd in (3, 7):   # specific EOI (7: and rotate)
                    self._eoi_line(value & 7, cmd == 7)
                elif cmd in (0, 4):   # rotate in auto-EOI mode clear/set
                    self.rotate_on_auto_eoi = cmd == 4
                elif cmd == 6:        # set priority: line value&7 becomes the lowest
                    self.priority_add = (value + 1) & 7
        else:
            if self.init_state == 2:
                self.vector_base = value & 0xF8
                if not self.single:
                    self.init_state = 3
                else:
                    self.init_state = 4 if self.needs_icw4 else 0
            elif self.init_state == 3:
                self.cascade = value
                self.init_state = 4 if self.needs_icw4 else 0
            elif self.init_state == 4:
                self.special_fully_nested = bool(value & 0x10)
                self.auto_eoi = bool(value & 0x02)
                self.init_state = 0
            else:
                self.imr = value      # OCW1
        self.on_change()

    def power_on_keep_pins(self) -> None:
        """ICW1 resets the chip's state but not what its input pins carry."""
        pins = self.pins
        self.power_on()
        self.pins = pins


class PICPair:
    """Master and slave, the slave's INT on the master's IRQ 2; ``set_irq(0..15, level)``
    is the ISA interrupt lines, :attr:`int_output` the CPU's INTR pin and
    :meth:`acknowledge` the INTA cycle returning the vector."""

    def __init__(self, machine=None) -> None:
        self.master = PIC8259("pic-master", master=True, on_change=self._update)
        self.slave = PIC8259("pic-slave", master=False, on_change=self._update)
        self.int_output = False
        self._slave_out = False
        if machine is not None:
            for addr, chip in ((0x20, self.master), (0xA0, self.slave)):
                mr = MemoryRegion.io(chip.name, 2, MemoryRegionOps(
                    read=chip.read, write=chip.write, valid=_BYTE, impl=_BYTE))
                machine.system_io.add_subregion(addr, mr)

    def _update(self) -> None:
        slave_out = self.slave.output
        if slave_out != self._slave_out:
            self._slave_out = slave_out
            self.master.irq_line(2, slave_out)   # re-enters _update
            return
        self.int_output = self.master.output

    def set_irq(self, n: int, level: bool) -> None:
        if isinstance(n, bool) or not isinstance(n, int) or not 0 <= n <= 15:
            raise ConfigError(f"IRQ {n!r}: expected 0..15")
        if n == 2:
            n = 9   # on the AT, the ISA IRQ 2 pin is wired to the slave's IRQ 9
        (self.master if n < 8 else self.slave).irq_line(n & 7, bool(level))

    def power_on_level(self, n: int, level: bool) -> None:
        """The level line ``n`` has at power-on: no edge is latched for it."""
        chip = self.master if n < 8 else self.slave
        chip.pins = chip.pins | (1 << (n & 7)) if level else chip.pins & ~(1 << (n & 7))

    def pulse_irq(self, n: int) -> None:
        """An edge: raise and lower line ``n`` (what an ISA device's pulse looks like)."""
        self.set_irq(n, True)
        self.set_irq(n, False)

    def acknowledge(self) -> int:
        """INTA: the vector of the highest-priority pending request, ISR updated.  A
        request that vanished before INTA gives the spurious IRQ 7 (15) vector, as the
        8259A does."""
        m = self.master
        line = m.pending_irq()
        if line is None:
            return m.vector_base | 7
        m.ack(line)
        if line == 2 and not m.single:
            s = self.slave
            sline = s.pending_irq()
            if sline is None:
                vec = s.vector_base | 7
            else:
                s.ack(sline)
                vec = s.vector_base | sline
        else:
            vec = m.vector_base | line
        self._update()
        return vec


# ---------------------------------------------------------------------- migration
#: a chip's state, saved as [master, slave] pairs (QEMU's vmstate_pic_common)
_CHIP_FIELDS = ("pins", "irr", "imr", "isr", "priority_add", "vector_base", "read_isr",
                "poll", "special_mask", "init_state", "needs_icw4", "single", "auto_eoi",
                "rotate_on_auto_eoi", "special_fully_nested", "cascade")
_CHIP_BOOLS = {"read_isr", "poll", "special_mask", "needs_icw4", "single", "auto_eoi",
               "rotate_on_auto_eoi", "special_fully_nested"}


def pic_section(pair: PICPair):
    """The ``i8259`` section: both chips' registers and the INT lines between them."""
    from vgaemu.migration.vmstate import schema_section

    chips = (pair.master, pair.slave)
    schema = {f: (2, bool if f in _CHIP_BOOLS else range(0, 256)) for f in _CHIP_FIELDS}
    schema["init_state"] = (2, ("=", 0, 2, 3, 4))
    schema["priority_add"] = (2, range(0, 8))
    schema.update(int_output=bool, slave_out=bool)

    def save() -> dict:
        out = {f: [getattr(c, f) for c in chips] for f in _CHIP_FIELDS}
        out.update(int_output=pair.int_output, slave_out=pair._slave_out)
        return out

    def load(state: dict) -> None:
        for f in _CHIP_FIELDS:
            for c, v in zip(chips, state[f]):
                setattr(c, f, v)
        pair.int_output = state["int_output"]
        pair._slave_out = state["slave_out"]

    return schema_section("i8259", 1, schema, save, load)
