"""The 8254 programmable interval timer (ports 0x40-0x43) and System Control Port B
(0x61), facts from the Intel 8254 data sheet and QEMU's hw/timer/i8254.c.

A channel's counter and OUT pin are functions of virtual time since the count was loaded
(as QEMU computes them), so nothing ticks in Python between events: channel 0 arms one
timer for the next rising edge of OUT and raises IRQ 0 there.  Modes 0 (interrupt on
terminal count), 2 (rate generator) and 3 (square wave) are modelled, with the counter
latch command and read-back.  Modes 1, 4 and 5 and BCD counting are refused with a clear
error rather than counted wrongly.  Channel 2's gate and OUT are bits 0 and 5 of port 0x61
(bit 1 would drive the speaker: there is no sound).
"""

from __future__ import annotations

from guestmem.region import AccessConstraints, MemoryRegion, MemoryRegionOps

from vgaemu.errors import GuestError

PIT_FREQ = 1193182   # Hz: the PC's 14.31818 MHz crystal / 12
NS = 1_000_000_000
_BYTE = AccessConstraints(min_access_size=1, max_access_size=1)
#: Port 0x61 bit 4 toggles with every DRAM refresh request (15.085 us on the AT).
REFRESH_NS = 15085


def ticks_to_ns(ticks: int) -> int:
    """The first nanosecond at which ``ticks`` PIT clocks have elapsed."""
    return -(-ticks * NS // PIT_FREQ)


class PITChannel:
    def __init__(self, pit: "PIT", index: int) -> None:
        self.pit = pit
        self.index = index
        self.gate = index != 2        # channels 0 and 1 have their gate tied high
        self.mode = 3 if index == 0 else 0
        self.rw = 3
        self.count = 0x10000
        self.load_ns = 0
        self.loaded = index != 2       # channel 0: the BIOS programmed it at POST
        self.write_lsb_next = True
        self.read_lsb_next = True
        self.partial = 0
        self.latched: list[int] = []   # bytes of a latched count, to be read first
        self.status_latched: int | None = None
        self.null_count = False
        #: mode 0 with the gate low: counting is suspended at this many elapsed ticks
        self.frozen: int | None = None

    # -- time functions ---------------------------------------------------------------
    def elapsed(self, now: int) -> int:
        if self.frozen is not None:
            return self.frozen
        return (now - self.load_ns) * PIT_FREQ // NS

    def counter(self, now: int) -> int:
        """The counting element's value now (0x10000 reads as 0)."""
        if not self.loaded:
            return self.count & 0xFFFF
        d = self.elapsed(now)
        if self.mode == 0:
            v = (self.count - d) & 0xFFFF
        elif self.mode == 2:
            v = self.count - d % self.count
        else:   # mode 3 counts down by two, twice per period
            v = (self.count - (2 * d) % self.count) & 0xFFFE
            if v == 0:
                v = self.count & 0xFFFE
        return v & 0xFFFF

    def out(self, now: int) -> bool:
        if not self.loaded:
            return self.mode != 0
        d = self.elapsed(now)
        if self.mode == 0:
            return d >= self.count
        if self.mode == 2:
            return d % self.count != self.count - 1 or self.count == 1
        return d % self.count < (self.count + 1) // 2

    def next_rising_edge(self, now: int) -> int | None:
        """The virtual time (ns) OUT next goes from low to high after ``now``, or None."""
        if not self.loaded or not self.gate or self.frozen is not None:
            return None
        d = self.elapsed(now)
        if self.mode == 0:
            if d >= self.count:
                return None
            t = self.count
        else:
            t = (d // self.count + 1) * self.count
        return self.load_ns + ticks_to_ns(t)

    # -- programming ------------------------------------------------------------------
    def control(self, rw: int, mode: int, bcd: int) -> None:
        if rw == 0:   # counter latch command
            if not self.latched:
                v = self.counter(self.pit.now())
                self.latched = self._bytes_for_read(v)
            return
        if mode > 5:
            mode -= 4   # 6 and 7 are aliases of 2 and 3
        if mode not in (0, 2, 3) or bcd:
            raise GuestError(f"8254 channel {self.index}: mode {mode}{' BCD' if bcd else ''} "
                             "is not modelled (binary modes 0, 2 and 3 are)")
        self.rw = rw
        self.mode = mode
        self.write_lsb_next = True
        self.read_lsb_next = True
        self.loaded = False
        self.null_count = True
        self.pit.channel_changed(self)

    def _bytes_for_read(self, v: int) -> list[int]:
        if self.rw == 1:
            return [v & 0xFF]
        if self.rw == 2:
            return [v >> 8 & 0xFF]
        return [v & 0xFF, v >> 8 & 0xFF]

    def write_data(self, value: int) -> None:
        if self.rw == 1:
            self._load(value)
        elif self.rw == 2:
            self._load(value << 8)
        elif self.write_lsb_next:
            self.partial = value
            self.write_lsb_next = False
        else:
            self.write_lsb_next = True
            self._load(self.partial | value << 8)

    def _load(self, v: int) -> None:
        self.count = v or 0x10000
        self.load_ns = self.pit.now()
        self.loaded = True
        self.null_count = False
        self.frozen = 0 if self.mode == 0 and not self.gate else None
        self.pit.channel_changed(self)

    def read_data(self) -> int:
        if self.status_latched is not None:
            v, self.status_latched = self.status_latched, None
            return v
        if self.latched:
            return self.latched.pop(0)
        v = self.counter(self.pit.now())
        if self.rw == 1:
            return v & 0xFF
        if self.rw == 2:
            return v >> 8
        lsb = self.read_lsb_next
        self.read_lsb_next = not lsb
        return v & 0xFF if lsb else v >> 8

    def status(self) -> int:
        return (int(self.out(self.pit.now())) << 7 | int(self.null_count) << 6
                | self.rw << 4 | self.mode << 1)

    def set_gate(self, level: bool) -> None:
        rising = level and not self.gate
        falling = self.gate and not level
        now = self.pit.now()
        if self.mode == 0 and self.loaded:   # the gate suspends counting
            if falling:
                self.frozen = self.elapsed(now)
            elif rising and self.frozen is not None:
                self.load_ns = now - self.frozen * NS // PIT_FREQ
                self.frozen = None
        self.gate = level
        if rising and self.mode in (2, 3) and self.loaded:
            self.load_ns = now   # a rising gate restarts the count
        self.pit.channel_changed(self)


class PIT:
    """The three channels; channel 0 drives ``irq0(level)`` (the PIC's IRQ 0) through a
    timer on ``timers`` for each rising edge of its OUT."""

    def __init__(self, clock, timers, irq0, machine=None) -> None:
        self.clock = clock
        #: the platform's precise time (clock + instructions run in the slice), or None
        self.now_fn = None
        self.irq0 = irq0
        self.channels = [PITChannel(self, i) for i in range(3)]
        self.speaker_data = False
        self._timer = timers.new_timer(self._fire)
        # channel 0 runs from power-on: arm its first edge (the IRQ line starts low)
        self._timer.mod(self.channels[0].next_rising_edge(self.now()))
        if machine is not None:
            machine.system_io.add_subregion(0x40, MemoryRegion.io("pit", 4, MemoryRegionOps(
                read=self._read, write=self._write, valid=_BYTE, impl=_BYTE)))
            machine.system_io.add_subregion(0x61, MemoryRegion.io(
                "port61", 1, MemoryRegionOps(read=self._read61, write=self._write61,
                                             valid=_BYTE, impl=_BYTE)))

    def now(self) -> int:
        """The virtual time of the access: the clock plus the instructions the running
        slice has executed (QEMU's icount clock at the I/O instruction), so a guest reading
        the counter twice in one slice sees it move; the clock alone outside a platform."""
        fn = self.now_fn
        return fn() if fn is not None else self.clock.now_ns

    def channel_changed(self, ch: PITChannel) -> None:
        if ch.index != 0:
            return
        now = self.now()
        self.irq0(ch.out(now))
        t = ch.next_rising_edge(now)
        if t is None:
            self._timer.delete()
        else:
            self._timer.mod(t)

    def _fire(self) -> None:
        ch = self.channels[0]
        self.irq0(False)
        self.irq0(True)   # the rising edge the PIC latches
        now = self.now()
        if not ch.out(now):
            self.irq0(False)
        t = ch.next_rising_edge(now)
        if t is not None:
            self._timer.mod(t)

    # -- ports 0x40-0x43 --------------------------------------------------------------
    def _read(self, offset: int, size: int) -> int:
        if offset == 3:
            return 0xFF   # the control word register is write-only
        return self.channels[offset].read_data()

    def _write(self, offset: int, value: int, size: int) -> None:
        if offset < 3:
            self.channels[offset].write_data(value & 0xFF)
            return
        sc = value >> 6
        if sc == 3:   # read-back: bit 5 clear latches counts, bit 4 clear latches status
            for i in range(3):
                if value & (2 << i):
                    ch = self.channels[i]
                    if not value & 0x10 and ch.status_latched is None:
                        ch.status_latched = ch.status()
                    if not value & 0x20:
                        ch.control(0, 0, 0)
            return
        self.channels[sc].control(value >> 4 & 3, value >> 1 & 7, value & 1)

    # -- port 0x61 --------------------------------------------------------------------
    def _read61(self, offset: int, size: int) -> int:
        now = self.now()
        ch2 = self.channels[2]
        return (int(ch2.gate) | int(self.speaker_data) << 1
                | ((now // REFRESH_NS) & 1) << 4 | int(ch2.out(now)) << 5)

    def _write61(self, offset: int, value: int, size: int) -> None:
        self.speaker_data = bool(value & 2)
        self.channels[2].set_gate(bool(value & 1))


# ---------------------------------------------------------------------- migration
_CHANNEL_SCHEMA = {"gate": bool, "mode": ("=", 0, 2, 3), "rw": range(1, 4),
                   "count": range(1, 0x10001), "load_ns": int, "loaded": bool,
                   "write_lsb_next": bool, "read_lsb_next": bool, "partial": range(0, 256),
                   "latched": [range(0, 256)], "status_latched": "int?", "null_count": bool,
                   "frozen": "int?"}


def pit_section(pit: PIT):
    """The ``i8254`` section (QEMU's vmstate_pit_common): each channel's programming and
    the virtual time its count was loaded, port 61h, and channel 0's edge timer."""
    from vgaemu.migration.errors import MigrationError
    from vgaemu.migration.vmstate import schema_section

    schema = {"channels": (3, _CHANNEL_SCHEMA), "speaker_data": bool, "timer": "timer"}

    def save() -> dict:
        return {"channels": [{f: (list(getattr(ch, f)) if f == "latched" else getattr(ch, f))
                              for f in _CHANNEL_SCHEMA} for ch in pit.channels],
                "speaker_data": pit.speaker_data, "timer": pit._timer.vmstate_save()}

    def check(state: dict) -> None:
        for i, ch in enumerate(state["channels"]):
            if len(ch["latched"]) > 2:
                raise MigrationError(f"device state 'i8254': channel {i} has "
                                     f"{len(ch['latched'])} latched bytes (at most 2)")

    def load(state: dict) -> None:
        for ch, saved in zip(pit.channels, state["channels"]):
            for f, v in saved.items():
                setattr(ch, f, list(v) if f == "latched" else v)
        pit.speaker_data = state["speaker_data"]
        pit._timer.vmstate_load(state["timer"])

    return schema_section("i8254", 1, schema, save, load, check)
