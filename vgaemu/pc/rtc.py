"""The MC146818 real-time clock and its CMOS memory (facts from QEMU's hw/rtc/mc146818rtc.c,
hw/i386/pc.c pc_cmos_init and the Motorola data sheet): index port 0x70 (bit 7 masks the
NMI), data port 0x71, 128 bytes of which 0x00-0x0D are the clock.

The clock runs on the machine's virtual clock, so a run repeats bit for bit: its time is
``base`` plus the virtual time since the machine started (QEMU's ``-rtc base=...,clock=vm``
under ``-icount``).  The default base is :data:`DEFAULT_RTC_BASE`, a fixed date, for the same
reason; ``utc`` and ``localtime`` take the host's time once, at machine creation, as QEMU
does.

Modelled: BCD and binary (register B DM), 12- and 24-hour (2412), SET (the time stops and
takes what the guest wrote when SET clears), the divider chain in register A (only the
32.768 kHz setting runs the clock), UIP in the last 244 us before each update (as QEMU),
the periodic rate (register A RS), the update-ended, alarm (with "don't care" values C0h-FFh)
and periodic flags in register C, cleared by reading it, and IRQ 8 when one of them is
enabled in register B, while register D reports valid RAM.  Daylight saving (DSE) and the
square-wave pin are stored, not modelled.  The flags are computed from virtual time when
read, so a guest that polls them without interrupts sees them too.
"""

from __future__ import annotations

import re
import time as _host_time
from datetime import datetime, timedelta

from guestmem.region import AccessConstraints, MemoryRegion, MemoryRegionOps

from vgaemu.clock import NANOSECONDS_PER_SECOND
from vgaemu.errors import ConfigError

# Clock registers (the data sheet's names, as QEMU's RTC_* constants)
RTC_SECONDS = 0x00
RTC_SECONDS_ALARM = 0x01
RTC_MINUTES = 0x02
RTC_MINUTES_ALARM = 0x03
RTC_HOURS = 0x04
RTC_HOURS_ALARM = 0x05
RTC_DAY_OF_WEEK = 0x06
RTC_DAY_OF_MONTH = 0x07
RTC_MONTH = 0x08
RTC_YEAR = 0x09
RTC_REG_A = 0x0A
RTC_REG_B = 0x0B
RTC_REG_C = 0x0C
RTC_REG_D = 0x0D
#: The century byte SeaBIOS and QEMU use (the IBM PS/2 location).
RTC_CENTURY = 0x32

REG_A_UIP = 0x80
REG_A_DIVIDER = 0x70
REG_A_RATE = 0x0F
#: divider bits 010: the 32.768 kHz time base, the only setting in which the clock runs
DIVIDER_32KHZ = 0x20
REG_B_SET = 0x80
REG_B_PIE = 0x40
REG_B_AIE = 0x20
REG_B_UIE = 0x10
REG_B_SQWE = 0x08
REG_B_DM = 0x04
REG_B_24H = 0x02
REG_B_DSE = 0x01
REG_C_IRQF = 0x80
REG_C_PF = 0x40
REG_C_AF = 0x20
REG_C_UF = 0x10
REG_D_VRT = 0x80

CMOS_SIZE = 128
#: UIP is set this long before each update (QEMU's UIP_HOLD_LENGTH window)
UIP_NS = 244_000
#: The 32.768 kHz crystal the periodic rate divides
RTC_CLOCK_HZ = 32768

#: The date the clock shows at virtual time 0 unless told otherwise.  Fixed (not the host's
#: time, QEMU's default) so that the same program gives the same screens on every run; the
#: first day of 2000, so that a program that ignores the century byte shows it at once.
DEFAULT_RTC_BASE = "2000-01-01T00:00:00"
_EPOCH = datetime(1970, 1, 1)

# CMOS memory locations outside the clock (QEMU's pc_cmos_init / SeaBIOS's CMOS_*)
CMOS_SHUTDOWN_STATUS = 0x0F
CMOS_FLOPPY_DRIVE_TYPE = 0x10
CMOS_DISK_DATA = 0x12
CMOS_EQUIPMENT_INFO = 0x14
CMOS_MEM_BASE_LOW = 0x15
CMOS_MEM_EXTMEM_LOW = 0x17
CMOS_DISK_DRIVE1_TYPE = 0x19
CMOS_DISK_DRIVE2_TYPE = 0x1A
CMOS_DISK_DRIVE1_CYL = 0x1B
CMOS_DISK_DRIVE2_CYL = 0x24
CMOS_CHECKSUM = 0x2E
CMOS_MEM_EXTMEM2_LOW = 0x30
CMOS_BIOS_BOOTFLAG1 = 0x38
CMOS_BIOS_DISKTRANSFLAG = 0x39
CMOS_BIOS_BOOTFLAG2 = 0x3D
CMOS_MEM_EXTMEM2_64K = 0x34
CMOS_MEM_HIGHMEM_LOW = 0x5B
CMOS_BIOS_SMP_COUNT = 0x5F
#: boot device nibbles of 0x3D/0x38 (QEMU's boot_device2nibble)
BOOT_FLOPPY = 1
BOOT_HARD_DISK = 2
BOOT_CDROM = 3
BOOT_NETWORK = 4

_BYTE = AccessConstraints(min_access_size=1, max_access_size=1)
_TIME_REGS = (RTC_SECONDS, RTC_MINUTES, RTC_HOURS, RTC_DAY_OF_WEEK, RTC_DAY_OF_MONTH,
              RTC_MONTH, RTC_YEAR, RTC_CENTURY)


_ISO_SECONDS = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})T([0-9]{2}):([0-9]{2}):([0-9]{2})")


def _iso_seconds(text: str) -> datetime | None:
    """``YYYY-MM-DDTHH:MM:SS`` with every field at its full width (the default base, and
    what people type) without strptime, whose first use imports _strptime and calendar
    (~2 ms of every machine's creation); None for anything else (strptime decides)."""
    m = _ISO_SECONDS.fullmatch(text)
    if m is None:
        return None
    try:
        return datetime(*map(int, m.groups()))
    except ValueError:
        return None


def parse_rtc_base(value) -> tuple[datetime, str]:
    """QEMU's ``-rtc base=`` value: ``utc``, ``localtime``, ``YYYY-MM-DD`` or
    ``YYYY-MM-DDTHH:MM:SS`` (or a :class:`datetime`) -> (the date at virtual time 0, how
    it was given)."""
    if value is None:
        value = DEFAULT_RTC_BASE
    if isinstance(value, datetime):
        if value.tzinfo is not None:   # an aware datetime: its UTC time
            value = (value - value.utcoffset()).replace(tzinfo=None)
        dt, text = value.replace(microsecond=0), value.isoformat()
    elif isinstance(value, str):
        text = value.strip()
        if text == "utc":
            dt = datetime(*_host_time.gmtime()[:6])
        elif text == "localtime":
            dt = datetime(*_host_time.localtime()[:6])
        else:
            dt = _iso_seconds(text)
            for fmt in () if dt is not None else ("%Y-%m-%dT%H:%M:%S", "%Y-%m-%d"):
                try:
                    dt = datetime.strptime(text, fmt)
                    break
                except ValueError:
                    pass
            if dt is None:
                raise ConfigError(f"rtc base {value!r}: expected utc, localtime, YYYY-MM-DD or "
                                  "YYYY-MM-DDTHH:MM:SS (e.g. 2020-01-01T00:00:00)")
    else:
        raise ConfigError(f"rtc base {value!r}: expected a date string or a datetime")
    if not 1900 <= dt.year <= 9999:
        raise ConfigError(f"rtc base {value!r}: the year must be 1900..9999")
    return dt, text


def parse_rtc_option(text: str) -> str:
    """QEMU's ``-rtc base=X[,clock=vm][,driftfix=none|slew]`` -> the base.  ``clock=host``
    and ``clock=rt`` would tie the guest's time to the host's, which vgaemu never does."""
    base = DEFAULT_RTC_BASE
    for part in text.split(","):
        key, sep, value = part.partition("=")
        if not sep:
            raise ConfigError(f"-rtc {text!r}: {part!r} is not KEY=VALUE")
        if key == "base":
            parse_rtc_base(value)
            base = value
        elif key == "clock":
            if value != "vm":
                raise ConfigError(f"-rtc {text!r}: clock={value} is not supported: the RTC "
                                  "runs on the virtual clock (clock=vm), so runs repeat")
        elif key == "driftfix":
            if value not in ("none", "slew"):
                raise ConfigError(f"-rtc {text!r}: driftfix={value}: expected none or slew")
        else:
            raise ConfigError(f"-rtc {text!r}: unknown option {key!r} (base, clock, driftfix)")
    return base


def _days_from_civil(y: int, m: int, d: int) -> int:
    """Days since 1970-01-01 of any (year, month, day), out-of-range months and days
    carried over as mktime does (a guest may write 31 into February)."""
    y += (m - 1) // 12
    m = (m - 1) % 12 + 1
    yy = y - (m <= 2)
    era = yy // 400
    yoe = yy - era * 400
    doy = (153 * (m + (-3 if m > 2 else 9)) + 2) // 5
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * 146097 + doe - 719468 + d - 1


class MC146818RTC:
    """The RTC/CMOS chip of one machine.  ``base`` is :func:`parse_rtc_base`'s input.
    The platform :meth:`attach`-es the interrupt line (IRQ 8) and its timers."""

    def __init__(self, machine, base=None) -> None:
        self.machine = machine
        self.clock = machine.clock
        self.base, self.base_text = parse_rtc_base(base)
        self.cmos = bytearray(CMOS_SIZE)
        self.index = 0
        self.nmi_disabled = False
        self.irq = None        # set_irq(level) of IRQ 8, once attached
        self._timer = None
        self._now_fn = None
        self.irq_level = False
        #: RTC time (ns since 1970) at virtual time ``ref_ns`` while the clock runs
        self.rtc_ns = int((self.base - _EPOCH).total_seconds()) * NANOSECONDS_PER_SECOND
        self.ref_ns = self.clock.now_ns
        self.flags_ns = self.ref_ns   # flags are up to date until this virtual time
        self.cmos[RTC_REG_A] = DIVIDER_32KHZ | 0x06
        self.cmos[RTC_REG_B] = REG_B_24H
        self.cmos[RTC_REG_D] = REG_D_VRT
        self._store_time(self.rtc_ns)
        self.io = MemoryRegion.io("rtc", 2, MemoryRegionOps(
            read=self._read, write=self._write, valid=_BYTE, impl=_BYTE))
        machine.system_io.add_subregion(0x70, self.io)

    # ------------------------------------------------------------------ wiring
    def attach(self, platform) -> None:
        """Wire IRQ 8 through ``platform``'s PIC, its timers for the interrupts, and its
        instruction count for the time inside a slice (so a polling loop sees time pass)."""
        self.irq = lambda level: platform.pic.set_irq(8, level)
        self._timer = platform.timers.new_timer(self._timer_due)
        self._now_fn = platform.now_ns
        self._rearm()

    def now(self) -> int:
        return self._now_fn() if self._now_fn is not None else self.clock.now_ns

    # ------------------------------------------------------------------ time
    @property
    def running(self) -> bool:
        """QEMU's rtc_running: not SET, divider at 32.768 kHz."""
        return (not self.cmos[RTC_REG_B] & REG_B_SET
                and self.cmos[RTC_REG_A] & REG_A_DIVIDER == DIVIDER_32KHZ)

    def time_ns(self, now: int | None = None) -> int:
        """The clock's time (ns since 1970-01-01) at virtual time ``now``."""
        if now is None:
            now = self.now()
        if not self.running:
            return self.rtc_ns
        return self.rtc_ns + (now - self.ref_ns)

    def datetime(self) -> datetime:
        return _EPOCH + timedelta(microseconds=self.time_ns() // 1000)

    def _to_reg(self, v: int) -> int:
        if self.cmos[RTC_REG_B] & REG_B_DM:
            return v & 0xFF
        return (v // 10 % 10) << 4 | v % 10

    def _from_reg(self, b: int) -> int:
        if self.cmos[RTC_REG_B] & REG_B_DM:
            return b
        return (b >> 4) * 10 + (b & 0x0F)

    def _hour_to_reg(self, h: int) -> int:
        if self.cmos[RTC_REG_B] & REG_B_24H:
            return self._to_reg(h)
        return self._to_reg(h % 12 or 12) | (0x80 if h >= 12 else 0)

    def _hour_from_reg(self, b: int) -> int:
        if self.cmos[RTC_REG_B] & REG_B_24H:
            return self._from_reg(b)
        return self._from_reg(b & 0x7F) % 12 + (12 if b & 0x80 else 0)

    def _store_time(self, t_ns: int) -> None:
        """The time registers for RTC time ``t_ns`` (QEMU's rtc_set_cmos)."""
        dt = _EPOCH + timedelta(seconds=t_ns // NANOSECONDS_PER_SECOND)
        c = self.cmos
        c[RTC_SECONDS] = self._to_reg(dt.second)
        c[RTC_MINUTES] = self._to_reg(dt.minute)
        c[RTC_HOURS] = self._hour_to_reg(dt.hour)
        c[RTC_DAY_OF_WEEK] = self._to_reg((dt.weekday() + 1) % 7 + 1)   # Sunday = 1
        c[RTC_DAY_OF_MONTH] = self._to_reg(dt.day)
        c[RTC_MONTH] = self._to_reg(dt.month)
        c[RTC_YEAR] = self._to_reg(dt.year % 100)
        c[RTC_CENTURY] = self._to_reg(dt.year // 100)

    def _time_from_regs(self) -> int:
        """The registers' time in ns since 1970 (QEMU's rtc_get_time + mktimegm)."""
        c = self.cmos
        year = self._from_reg(c[RTC_YEAR]) + 100 * self._from_reg(c[RTC_CENTURY])
        days = _days_from_civil(year, self._from_reg(c[RTC_MONTH]),
                                self._from_reg(c[RTC_DAY_OF_MONTH]))
        secs = (days * 86400 + self._hour_from_reg(c[RTC_HOURS]) * 3600
                + self._from_reg(c[RTC_MINUTES]) * 60 + self._from_reg(c[RTC_SECONDS]))
        return secs * NANOSECONDS_PER_SECOND

    def set_time(self, t_ns: int) -> None:
        """Set the clock (RTC ns since 1970), as a guest writing the registers does."""
        now = self.now()
        self._update_flags(now)
        self.rtc_ns = t_ns
        self.ref_ns = now
        self._store_time(t_ns)
        self._rearm()

    # ------------------------------------------------------------------ flags and IRQ 8
    def _periodic_ticks(self) -> int:
        """The periodic interrupt's period in 32.768 kHz ticks, 0 when off (rates 1 and 2
        are 256 and 128 Hz, as the data sheet's table and QEMU's periodic_period_to_clock)."""
        rate = self.cmos[RTC_REG_A] & REG_A_RATE
        if rate == 0:
            return 0
        if rate <= 2:
            rate += 7
        return 1 << (rate - 1)

    def _update_flags(self, now: int) -> None:
        """Set PF/UF/AF for everything that happened between ``flags_ns`` and ``now``."""
        last = self.flags_ns
        if now <= last:
            return
        self.flags_ns = now
        c = self.cmos
        flags = 0
        period = self._periodic_ticks()
        if period and c[RTC_REG_A] & REG_A_DIVIDER == DIVIDER_32KHZ:
            hz = RTC_CLOCK_HZ
            if now * hz // NANOSECONDS_PER_SECOND // period > last * hz // NANOSECONDS_PER_SECOND // period:
                flags |= REG_C_PF
        if self.running:
            s_last = self.time_ns(last) // NANOSECONDS_PER_SECOND
            s_now = self.time_ns(now) // NANOSECONDS_PER_SECOND
            if s_now > s_last:
                flags |= REG_C_UF
                alarm = (c[RTC_SECONDS_ALARM], c[RTC_MINUTES_ALARM], c[RTC_HOURS_ALARM])
                # at most a day of seconds to look at: every alarm matches once a day
                for s in range(max(s_last + 1, s_now - 86399), s_now + 1):
                    if self._alarm_matches(s, alarm):
                        flags |= REG_C_AF
                        break
        if flags:
            self._raise(flags)

    def _alarm_matches(self, secs: int, alarm) -> bool:
        sec = secs % 60
        mins = secs // 60 % 60
        hour = secs // 3600 % 24
        for want, have, is_hour in ((alarm[0], sec, False), (alarm[1], mins, False),
                                    (alarm[2], hour, True)):
            if want & 0xC0 == 0xC0:
                continue   # "don't care"
            reg = self._hour_to_reg(have) if is_hour else self._to_reg(have)
            if want != reg:
                return False
        return True

    def _raise(self, flags: int) -> None:
        """Latch flags in register C; IRQF and IRQ 8 when one is enabled in register B
        (PF, AF, UF are the same bits as PIE, AIE, UIE)."""
        c = self.cmos
        c[RTC_REG_C] |= flags
        if c[RTC_REG_C] & c[RTC_REG_B] & (REG_C_PF | REG_C_AF | REG_C_UF):
            c[RTC_REG_C] |= REG_C_IRQF
            self._set_irq(True)

    def _set_irq(self, level: bool) -> None:
        if level != self.irq_level:
            self.irq_level = level
            if self.irq is not None:
                self.irq(level)

    def _next_event(self, now: int) -> int | None:
        """The next virtual time a flag that raises IRQ 8 can be set."""
        b = self.cmos[RTC_REG_B]
        times = []
        period = self._periodic_ticks()
        if b & REG_B_PIE and period and self.cmos[RTC_REG_A] & REG_A_DIVIDER == DIVIDER_32KHZ:
            tick = (now * RTC_CLOCK_HZ // NANOSECONDS_PER_SECOND // period + 1) * period
            times.append(-(-tick * NANOSECONDS_PER_SECOND // RTC_CLOCK_HZ))
        if b & (REG_B_UIE | REG_B_AIE) and self.running:
            t = self.time_ns(now)
            times.append(now + NANOSECONDS_PER_SECOND - t % NANOSECONDS_PER_SECOND)
        return min(times) if times else None

    def _rearm(self) -> None:
        if self._timer is None:
            return
        t = self._next_event(self.now())
        if t is None:
            self._timer.delete()
        else:
            self._timer.mod(t)

    def _timer_due(self) -> None:
        self._update_flags(self.clock.now_ns)
        self._rearm()

    # ------------------------------------------------------------------ ports
    def _read(self, offset: int, size: int) -> int:
        if offset == 0:
            return 0xFF   # the index register is write-only (QEMU reads 0xFF)
        i = self.index
        c = self.cmos
        now = self.now()
        if i in _TIME_REGS:
            if self.running:
                self._store_time(self.time_ns(now))
            return c[i]
        if i == RTC_REG_A:
            uip = self.running and (self.time_ns(now) % NANOSECONDS_PER_SECOND
                                    >= NANOSECONDS_PER_SECOND - UIP_NS)
            return c[i] & ~REG_A_UIP | (REG_A_UIP if uip else 0)
        if i == RTC_REG_C:
            self._update_flags(now)
            v = c[i]
            c[i] = 0
            self._set_irq(False)
            self._rearm()
            return v
        return c[i]

    def _write(self, offset: int, value: int, size: int) -> None:
        value &= 0xFF
        if offset == 0:
            self.index = value & 0x7F
            self.nmi_disabled = bool(value & 0x80)
            return
        i = self.index
        c = self.cmos
        now = self.now()
        if i in _TIME_REGS:
            if self.running:
                self._store_time(self.time_ns(now))
            c[i] = value
            if self.running:   # QEMU: a write while running sets the time at once
                self._update_flags(now)
                self.rtc_ns = self._time_from_regs() + self.rtc_ns % NANOSECONDS_PER_SECOND
                self.ref_ns = now
                self._rearm()
        elif i == RTC_REG_A:
            self._freeze_or_resume(now, lambda: c.__setitem__(RTC_REG_A, value & ~REG_A_UIP))
        elif i == RTC_REG_B:
            def apply():
                old = c[RTC_REG_B]
                # a change of DM or 12/24 h converts what the time registers show
                if (old ^ value) & (REG_B_DM | REG_B_24H) and not self.running:
                    t = self._time_from_regs()
                    c[RTC_REG_B] = value
                    self._store_time(t)
                else:
                    c[RTC_REG_B] = value
            self._freeze_or_resume(now, apply)
            if value & REG_B_SET:
                c[RTC_REG_B] &= ~REG_B_UIE   # the data sheet: SET clears UIE
            self._raise(0)
        elif i in (RTC_REG_C, RTC_REG_D):
            return   # read-only
        else:
            c[i] = value
        if i in (RTC_REG_A, RTC_REG_B):
            self._rearm()

    def _freeze_or_resume(self, now: int, change) -> None:
        """Apply a register A/B write; stopping the clock captures its time in the
        registers, restarting it takes the time the registers hold (QEMU's rtc_set_time)."""
        was = self.running
        self._update_flags(now)
        if was:
            self.rtc_ns = self.time_ns(now)
            self.ref_ns = now
            self._store_time(self.rtc_ns)
        change()
        if self.running and not was:
            self.rtc_ns = self._time_from_regs()
            self.ref_ns = now
            self.flags_ns = now
        elif self.running:
            self._store_time(self.time_ns(now))

    def system_reset(self) -> None:
        """QEMU's rtc_reset: interrupts off and the flags cleared; time and memory kept."""
        now = self.now()
        self._update_flags(now)
        self.cmos[RTC_REG_B] &= ~(REG_B_PIE | REG_B_AIE | REG_B_SQWE)
        self.cmos[RTC_REG_C] = 0
        self._set_irq(False)
        self._rearm()

    # ------------------------------------------------------------------ CMOS memory
    def __getitem__(self, i: int) -> int:
        return self.cmos[i]

    def set_memory(self, i: int, value: int) -> None:
        """rtc_set_memory: firmware data in the CMOS (not through the ports)."""
        if not 0 <= i < CMOS_SIZE or not 0 <= value <= 0xFF:
            raise ConfigError(f"CMOS byte {i:#x} = {value!r}: expected 0..0x7F and 0..0xFF")
        self.cmos[i] = value

    def init_memory_size(self, below_4g: int, above_4g: int) -> None:
        """The memory-size bytes as QEMU's pc_cmos_init writes them."""
        self.set_memory(CMOS_MEM_BASE_LOW, 640 & 0xFF)
        self.set_memory(CMOS_MEM_BASE_LOW + 1, 640 >> 8)
        ext = min(65535, max(0, below_4g - (1 << 20)) // 1024)
        for at in (CMOS_MEM_EXTMEM_LOW, CMOS_MEM_EXTMEM2_LOW):
            self.set_memory(at, ext & 0xFF)
            self.set_memory(at + 1, ext >> 8)
        above16 = min(65535, max(0, below_4g - (16 << 20)) // 65536)
        self.set_memory(CMOS_MEM_EXTMEM2_64K, above16 & 0xFF)
        self.set_memory(CMOS_MEM_EXTMEM2_64K + 1, above16 >> 8)
        high = above_4g // 65536
        for k in range(3):
            self.set_memory(CMOS_MEM_HIGHMEM_LOW + k, high >> (8 * k) & 0xFF)
        self.set_memory(CMOS_BIOS_SMP_COUNT, 0)   # one CPU
        self.set_memory(RTC_CENTURY, self.cmos[RTC_CENTURY])
        self.update_checksum()

    def init_drives(self, floppies=(), hard_disks=(), boot_order=(BOOT_HARD_DISK, BOOT_FLOPPY, BOOT_CDROM)) -> None:
        """Floppy types, the equipment byte, the IDE disks' types and geometry, and the boot
        order (pc_cmos_init, pc_cmos_init_late, set_boot_dev) for these DiskImages."""
        types = [_floppy_cmos_type(f) for f in list(floppies)[:2]] + [0, 0]
        self.set_memory(CMOS_FLOPPY_DRIVE_TYPE, types[0] << 4 | types[1])
        n = min(len(floppies), 2)
        equipment = (0x01 if n == 1 else 0x41 if n == 2 else 0) | 0x02 | 0x04   # FPU, PS/2 mouse
        self.set_memory(CMOS_EQUIPMENT_INFO, equipment)
        disk_data = 0
        trans = 0
        for k, d in enumerate(list(hard_disks)[:2]):
            type_at, info = (CMOS_DISK_DRIVE1_TYPE, CMOS_DISK_DRIVE1_CYL) if k == 0 else \
                (CMOS_DISK_DRIVE2_TYPE, CMOS_DISK_DRIVE2_CYL)
            disk_data |= 0xF0 if k == 0 else 0x0F
            cyl, heads, spt = _physical_chs(d)
            self.set_memory(type_at, 47)   # user-defined type: the geometry follows
            for j, v in enumerate((cyl & 0xFF, cyl >> 8, heads, 0xFF, 0xFF,
                                   0xC0 | (0x08 if heads > 8 else 0), cyl & 0xFF, cyl >> 8, spt)):
                self.set_memory(info + j, v)
        for k, d in enumerate(list(hard_disks)[:4]):
            cyl, _, _ = _physical_chs(d)
            trans |= (1 if cyl > 1024 else 0) << (2 * k)   # LBA translation above 1024
        self.set_memory(CMOS_DISK_DATA, disk_data)
        self.set_memory(CMOS_BIOS_DISKTRANSFLAG, trans)
        order = list(boot_order) + [0, 0, 0]
        self.set_memory(CMOS_BIOS_BOOTFLAG2, order[1] << 4 | order[0])
        self.set_memory(CMOS_BIOS_BOOTFLAG1, order[2] << 4)   # bit 0 clear: check boot signature
        self.update_checksum()

    def update_checksum(self) -> None:
        """The AT checksum: the sum of bytes 10h-2Dh, big-endian at 2Eh/2Fh."""
        s = sum(self.cmos[0x10:0x2E])
        self.cmos[CMOS_CHECKSUM] = s >> 8 & 0xFF
        self.cmos[CMOS_CHECKSUM + 1] = s & 0xFF

    # ------------------------------------------------------------------ migration
    VMSTATE_FIELDS = ["cmos", "index", "nmi_disabled", "rtc_ns", "ref_ns", "flags_ns",
                      "irq_level"]

    def vmstate_section(self):
        """The ``mc146818rtc`` device-state section of a migration (QEMU's vmstate_rtc).
        Version 2 carries the interrupt timer as armed (VMSTATE_TIMER_PTR), so ties with
        other timers fire in the source's order; a version 1 state re-arms it from the
        registers."""
        from dataclasses import replace

        from vgaemu.migration.vmstate import _fields_section, check_schema

        # index: what a write to port 0x70 leaves (value & 0x7F); 256 raised IndexError
        # at the next read of port 0x71
        base = _fields_section("mc146818rtc", 2, self, self.VMSTATE_FIELDS,
                               ranges={"index": range(CMOS_SIZE)})

        def save() -> dict:
            return {**base.save(), "timer": None if self._timer is None
                    else self._timer.vmstate_save()}

        def check(state: dict, version: int) -> None:
            fields = dict(state)
            if version >= 2:
                check_schema("mc146818rtc", fields.pop("timer", "missing"), "timer", "timer")
            base.check(fields, version)

        def load(state: dict, version: int) -> None:
            fields = dict(state)
            timer = fields.pop("timer", None)
            base.load(fields, version)
            if version >= 2 and self._timer is not None:
                self._timer.vmstate_load(timer)
            else:
                self._rearm()

        return replace(base, save=save, load=load, check=check)


def _floppy_cmos_type(d) -> int:
    """QEMU's cmos_get_fd_drive_type for the drive that takes this image: 2.88M drives
    (5), 5.25" 1.2M drives for 5.25" media (2), 1.44M drives for the rest (4)."""
    kib = d.cylinders * d.heads * d.spt // 2
    if kib == 2880:
        return 5
    if kib in (160, 180, 320, 360, 1200):
        return 2
    return 4


def _physical_chs(d) -> tuple[int, int, int]:
    """The IDE disk's physical geometry (ide_get_geometry: at most 16383/16/63)."""
    total = d.sectors
    cyl = max(1, min(16383, total // (16 * 63)))
    return cyl, 16, 63
