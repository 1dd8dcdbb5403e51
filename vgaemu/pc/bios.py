"""The system BIOS services of the PC platform (facts from SeaBIOS's post.c, clock.c,
system.c and memmap.c), entered through the IVT as real vectors: the stubs in ``pc.bios``
trap to these Python handlers and IRET as guest code, so a program can hook and chain them.

* POST state a boot sector sees: IVT, BDA (equipment, base memory, keyboard buffer, tick
  count at 0x46C, disk counts), the EBDA segment, the VGA BIOS POSTed in mode 3.
* INT 08h: the PIT tick -- BDA tick count with the midnight rollover, then (as guest code
  in the stub) INT 1Ch and the EOI to the master PIC.
* INT 11h equipment, INT 12h base memory, INT 15h 86h (wait), 88h, C0h, E801h, E820h,
  INT 1Ah 00h/01h (tick count), 02h-05h (the RTC) and B1h (the PCI BIOS, vgaemu.pc.pcibios).
  INT 18h/19h are the boot loader's (vgaemu.pc.boot).
"""

from __future__ import annotations

import struct

from vgaemu.cpu.pcbios import stub_code

from . import bregs as R
from .pcibios import handle_1ab1

BDA = 0x400
BDA_EQUIPMENT = 0x410
BDA_MEM_KB = 0x413
BDA_KBD_FLAGS = 0x417
BDA_KBD_HEAD = 0x41A
BDA_KBD_TAIL = 0x41C
BDA_KBD_BUF = 0x41E
BDA_TICKS = 0x46C
BDA_MIDNIGHT = 0x470
BDA_HD_COUNT = 0x475
BDA_KBD_START = 0x480
BDA_KBD_END = 0x482
#: SeaBIOS puts a 1 KiB EBDA right below 640 KiB
EBDA_SEG = 0x9FC0
BASE_MEM_KB = 639
#: 0x1800B0 ticks make a day (SeaBIOS's TICKS_PER_DAY)
TICKS_PER_DAY = 0x1800B0
#: A system configuration table (INT 15h C0h) in the ROM: AT, model FCh, sub-model 0.
CONFIG_TABLE_OFF = 0xE6F5
#: INT 15h function-not-supported status
UNSUPPORTED = 0x86

# The guest code around INT 08h's trap: chain INT 1Ch, then EOI the master PIC.
_INT08_AFTER = bytes((0xCD, 0x1C,            # int 1Ch
                      0x50,                  # push ax
                      0xB0, 0x20,            # mov al, 20h
                      0xE6, 0x20,            # out 20h, al
                      0x58))                 # pop ax
_STI = b"\xFB"


class SystemBIOS:
    """POST and the INT 08h/11h/12h/15h/1Ah services of one PC platform."""

    def __init__(self, pc, *, floppies: int = 0, hard_disks: int = 0) -> None:
        self.pc = pc
        self.machine = pc.machine
        self.floppies = floppies
        self.hard_disks = hard_disks
        self._waits: dict[int, int] = {}   # INT 15h 86h: stub -> wake-up time
        pb = self.machine.pc_bios
        pb.register(0x08, self.int08, stub_code(0x08, after=_INT08_AFTER))
        pb.register(0x11, self.int11)
        pb.register(0x12, self.int12)
        self.int15_stub = pb.register(0x15, self.int15, stub_code(0x15, before=_STI))
        pb.register(0x1A, self.int1a)
        self._wake_timer = pc.timers.new_timer(pc.wake)

    # ------------------------------------------------------------------ POST
    def post(self) -> None:
        """The BDA a boot sector finds (SeaBIOS's bda_init, and its equipment bits)."""
        m = self.machine
        m.write(BDA, bytes(0x100))
        m.write(0x40E, struct.pack("<H", EBDA_SEG))
        m.write(EBDA_SEG << 4, bytes((1,)) + bytes(0x3FF))   # EBDA size in KiB
        equipment = 0x0002 | 0x0004   # math coprocessor, pointing device absent: QEMU's
        if self.floppies:
            equipment |= 0x0001 | (self.floppies - 1) << 6
        m.write(BDA_EQUIPMENT, struct.pack("<H", equipment))
        m.write(BDA_MEM_KB, struct.pack("<H", BASE_MEM_KB))
        m.write(BDA_KBD_HEAD, struct.pack("<HH", 0x1E, 0x1E))
        m.write(BDA_KBD_START, struct.pack("<HH", 0x1E, 0x3E))
        m.write(0x496, b"\x10")   # kbd_flag1: a 101-key keyboard (SeaBIOS's kbd_init)
        m.write(BDA_HD_COUNT, bytes((self.hard_disks,)))
        m.pc_bios.write_rom_bytes(CONFIG_TABLE_OFF, struct.pack("<HBBBBBBB", 8, 0xFC, 0x00,
                                                                0x01, 0x74, 0x40, 0, 0))
        m.bios.boot(banner=False)   # the VGA BIOS's POST and mode 3, as SeaBIOS does

    # ------------------------------------------------------------------ vectors
    def vmstate_section(self):
        """The ``pc.sysbios`` section: INT 15h 86h waits in progress (stub -> wake-up time)
        and the timer that wakes the CPU for them."""
        from vgaemu.migration.vmstate import schema_section

        schema = {"waits": [(2, int)], "wake_timer": "timer"}

        def save() -> dict:
            return {"waits": [[k, v] for k, v in sorted(self._waits.items())],
                    "wake_timer": self._wake_timer.vmstate_save()}

        def load(state: dict) -> None:
            self._waits = {k: v for k, v in state["waits"]}
            self._wake_timer.vmstate_load(state["wake_timer"])

        return schema_section("pc.sysbios", 1, schema, save, load)

    def int08(self, cpu) -> None:
        m = self.machine
        ticks = struct.unpack("<I", m.read(BDA_TICKS, 4))[0] + 1
        if ticks >= TICKS_PER_DAY:
            ticks = 0
            m.write(BDA_MIDNIGHT, b"\x01")
        m.write(BDA_TICKS, struct.pack("<I", ticks))

    def int11(self, cpu) -> None:
        R.set16(cpu, 0, struct.unpack("<H", self.machine.read(BDA_EQUIPMENT, 2))[0])

    def int12(self, cpu) -> None:
        R.set16(cpu, 0, struct.unpack("<H", self.machine.read(BDA_MEM_KB, 2))[0])

    def int1a(self, cpu) -> None:
        ah = cpu.regs[0] >> 8 & 0xFF
        if ah == 0xB1:
            handle_1ab1(self.pc.pci, cpu)   # the PCI BIOS (vgaemu.pc.pcibios)
            return
        m = self.machine
        if ah == 0x00:
            ticks = struct.unpack("<I", m.read(BDA_TICKS, 4))[0]
            set_al = m.read(BDA_MIDNIGHT, 1)[0]
            m.write(BDA_MIDNIGHT, b"\0")
            R.set16(cpu, 1, ticks >> 16)
            R.set16(cpu, 2, ticks)
            R.set_al(cpu, set_al)
            R.set_frame_flag(cpu, R.CF, False)
        elif ah == 0x01:
            ticks = (cpu.regs[1] & 0xFFFF) << 16 | cpu.regs[2] & 0xFFFF
            m.write(BDA_TICKS, struct.pack("<I", ticks))
            m.write(BDA_MIDNIGHT, b"\0")
            R.set_frame_flag(cpu, R.CF, False)
        elif ah in (0x02, 0x03, 0x04, 0x05):
            self._rtc_service(cpu, ah)
        else:
            R.fail(cpu, 0x86)

    def _rtc_service(self, cpu, ah: int) -> None:
        """INT 1Ah 02h-05h: the RTC's registers as they are (BCD unless the guest chose
        binary), through ports 70h/71h as SeaBIOS's clock.c does.  An update never blocks
        here: the model's update is instantaneous, so the values are always consistent."""
        from .rtc import (REG_B_AIE, REG_B_DSE, REG_B_PIE, REG_B_SET, REG_B_24H, RTC_CENTURY,
                          RTC_DAY_OF_MONTH, RTC_HOURS, RTC_MINUTES, RTC_MONTH, RTC_REG_B,
                          RTC_SECONDS, RTC_YEAR)
        m = self.machine

        def rd(i):
            m.outb(0x70, i)
            return m.inb(0x71)

        def wr(i, v):
            m.outb(0x70, i)
            m.outb(0x71, v & 0xFF)

        cx, dx = cpu.regs[1] & 0xFFFF, cpu.regs[2] & 0xFFFF
        if ah == 0x02:
            sec, mins, hour = rd(RTC_SECONDS), rd(RTC_MINUTES), rd(RTC_HOURS)
            R.set16(cpu, 2, sec << 8 | rd(RTC_REG_B) & REG_B_DSE)
            R.set16(cpu, 1, hour << 8 | mins)
            R.set16(cpu, 0, hour)
        elif ah == 0x03:
            wr(RTC_SECONDS, dx >> 8)
            wr(RTC_MINUTES, cx)
            wr(RTC_HOURS, cx >> 8)
            b = rd(RTC_REG_B) & (REG_B_PIE | REG_B_AIE) | REG_B_24H | dx & REG_B_DSE
            wr(RTC_REG_B, b)
            R.set16(cpu, 0, b)
        elif ah == 0x04:
            R.set16(cpu, 1, rd(RTC_CENTURY) << 8 | rd(RTC_YEAR))
            R.set16(cpu, 2, rd(RTC_MONTH) << 8 | rd(RTC_DAY_OF_MONTH))
            R.set16(cpu, 0, rd(RTC_CENTURY))
        else:
            wr(RTC_YEAR, cx)
            wr(RTC_MONTH, dx >> 8)
            wr(RTC_DAY_OF_MONTH, dx)
            wr(RTC_CENTURY, cx >> 8)
            b = rd(RTC_REG_B) & ~REG_B_SET
            wr(RTC_REG_B, b)
            R.set16(cpu, 0, b)
        R.set_frame_flag(cpu, R.CF, False)

    def int15(self, cpu) -> None:
        ax = R.ax(cpu)
        ah = ax >> 8
        mem = self._ram_layout()
        if ah == 0x86:
            self._wait(cpu, ((cpu.regs[1] & 0xFFFF) << 16 | cpu.regs[2] & 0xFFFF) * 1000)
        elif ah == 0x88:
            R.set16(cpu, 0, min(mem["ext_kb"], 0xFFFF))
            R.set_frame_flag(cpu, R.CF, False)
        elif ah == 0xC0:
            cpu.load_seg(0, 0xF000)
            R.set16(cpu, 3, CONFIG_TABLE_OFF)
            R.ok(cpu)
        elif ax == 0xE801:
            below16 = min(mem["ext_kb"], 15 * 1024)
            above16 = max(0, mem["low_end"] - 16 * 1024 * 1024) // 65536
            for i, v in ((0, below16), (1, below16), (3, above16), (2, above16)):
                R.set16(cpu, i, v)
            R.set_frame_flag(cpu, R.CF, False)
        elif ax == 0xE820 and cpu.regs[2] == 0x534D4150:
            self._e820(cpu, mem)
        else:
            R.fail(cpu, UNSUPPORTED)

    # ------------------------------------------------------------------ helpers
    def _ram_layout(self) -> dict:
        mm = self.machine.memory
        low_end = mm.below_4g_mem_size
        return {"low_end": low_end, "high": mm.above_4g_mem_size,
                "ext_kb": max(0, low_end - 0x100000) // 1024}

    def _e820(self, cpu, mem) -> None:
        table = [(0, BASE_MEM_KB * 1024, 1), (BASE_MEM_KB * 1024, 0xA0000 - BASE_MEM_KB * 1024, 2),
                 (0xF0000, 0x10000, 2), (0x100000, mem["low_end"] - 0x100000, 1),
                 (0xFFFC0000, 0x40000, 2)]
        if mem["high"]:
            table.append((1 << 32, mem["high"], 1))
        i = cpu.regs[3]
        if i >= len(table) or (cpu.regs[1] & 0xFFFF) < 20:
            R.fail(cpu, UNSUPPORTED)
            return
        base, length, kind = table[i]
        self.machine.write(cpu.seg_base[0] + (cpu.regs[7] & 0xFFFF),
                           struct.pack("<QQI", base, length, kind))
        cpu.regs[3] = 0 if i + 1 == len(table) else i + 1
        cpu.regs[0] = 0x534D4150
        cpu.regs[1] = 20
        R.set_frame_flag(cpu, R.CF, False)

    def _wait(self, cpu, ns: int) -> None:
        """INT 15h 86h: block for ``ns`` of virtual time (the stub re-runs until then)."""
        stub = self.int15_stub
        now = self.pc.clock.now_ns
        until = self._waits.get(stub)
        if until is None:
            until = now + ns
            self._waits[stub] = until
        if now >= until:
            del self._waits[stub]
            R.ok(cpu)
            return
        self._wake_timer.mod(until)
        R.wait(cpu, stub)
