"""The PC platform around a :class:`vgaemu.Machine`'s CPU: the devices a program written
for a PC talks to, and the machine loop that runs the CPU in virtual time.

Time is QEMU's ``-icount``: every guest instruction advances the virtual clock by a fixed
``ns_per_insn`` (``--ips``), the CPU runs only up to the next timer deadline (PIT edge,
frame boundary, scripted key), and a ``HLT`` with interrupts enabled jumps the clock to
that deadline.  A ``HLT`` with interrupts disabled wakes only for an NMI (the host's
:meth:`PCPlatform.inject_nmi`); with none pending it ends the run.  The same program and
inputs give the same frames on every run and host.
"""

from __future__ import annotations

import time

from guestmem import memory_region_transaction

from vgaemu.clock import FRAME_NS, NANOSECONDS_PER_SECOND
from vgaemu.cpu.state import IF
from vgaemu.errors import ConfigError

from .debugcon import ByteSink, DebugCon, SerialTx
from .pci import pc_pci_bus
from .pic import PICPair
from .pit import PIT
from .timer import TimerList

#: Default guest speed: 10 million instructions per virtual second -- a fast 386 / slow
#: 486, the machines most boot-sector and DOS programs were written for.
DEFAULT_IPS = 10_000_000


class FrameInfo:
    """What a front end's ``frame(machine, info)`` gets (as the guest runner's)."""

    __slots__ = ("index", "stats", "update_seconds")

    def __init__(self, index, stats, update_seconds=0.0):
        self.index = index
        self.stats = stats
        self.update_seconds = update_seconds


class PCPlatform:
    """PIC pair, PIT with port 0x61, debug console, COM1 and PCI bus 0 (:attr:`pci`) on
    ``machine``'s I/O space, wired to its CPU.  ``output`` is where 0xE9/COM1 bytes go (a
    binary or text stream, default stderr)."""

    def __init__(self, machine, *, ips: int = DEFAULT_IPS, output=None) -> None:
        if isinstance(ips, bool) or not isinstance(ips, int) or not 1 <= ips <= NANOSECONDS_PER_SECOND:
            raise ConfigError(f"ips {ips!r}: expected instructions per second, 1..1e9")
        if getattr(machine, "pc", None) is not None:
            raise ConfigError("this machine already has a PC platform attached")
        self.machine = machine
        self.clock = machine.clock
        self.ips = ips
        self.ns_per_insn = NANOSECONDS_PER_SECOND // ips
        self.timers = TimerList(self.clock)
        self.timers.kick = self._kick
        # the devices' I/O regions in one transaction: the I/O FlatView is rendered once
        with memory_region_transaction():
            self.pic = PICPair(machine)
            self.pit = PIT(self.clock, self.timers, lambda level: self.pic.set_irq(0, level),
                           machine)
            self.pic.power_on_level(0, self.pit.channels[0].out(self.clock.now_ns))
            self.output = ByteSink(output)
            self.debugcon = DebugCon(self.output, machine)
            self.serial = SerialTx(self.output, machine)
            self.pci = pc_pci_bus(machine)   # bus 0 and config mechanism #1 (vgaemu.pc.pci)
        self.cpu = machine.cpu
        self.cpu.pic = self.pic
        self.pit.now_fn = self.now_ns
        machine.rtc.attach(self)   # IRQ 8 and the RTC's interrupt timer
        machine.i8042.attach(self)   # IRQ 1 and the keyboard's byte timer
        self.instructions = 0
        self._requests: list = []
        #: why the guest stopped for good (None while it can still run)
        self.stopped: str | None = None
        self.frame_index = 0
        self.next_frame_ns = self.clock.now_ns + FRAME_NS
        #: the whole-machine reset QMP ``system_reset`` calls (vgaemu.pc.boot.PC sets it:
        #: POST and boot again); None on a bare platform, where the devices alone reset
        self.system_reset = None
        machine.pc = self
        self._register_vmstate()

    # ------------------------------------------------------------------ migration
    def _register_vmstate(self) -> None:
        """The platform's device-state sections, and "pc" as the machine type a migration
        stream must carry (a script's machine refuses a PC's stream, and the other way)."""
        from vgaemu.migration.vmstate import schema_section

        from .pic import pic_section
        from .pit import pit_section

        reg = self.machine.vmstate
        reg.set_config("machine", "pc")
        reg.set_config("ips", self.ips)
        reg.register(pic_section(self.pic))
        reg.register(pit_section(self.pit))
        reg.register(self.machine.i8042.vmstate_section())
        reg.register(self.serial.vmstate_section())
        schema = {"instructions": int, "frame_index": int, "next_frame_ns": int,
                  "stopped": "str?", "timer_seq": int}

        def save() -> dict:
            if self._requests:   # between frames there are none; a save mid-slice is a bug
                from vgaemu.migration.errors import MigrationError

                raise MigrationError("the PC platform has slice-boundary work pending")
            return {"instructions": self.instructions, "frame_index": self.frame_index,
                    "next_frame_ns": self.next_frame_ns, "stopped": self.stopped,
                    "timer_seq": self.timers.next_seq}

        def load(state: dict) -> None:
            self.instructions = state["instructions"]
            self.frame_index = state["frame_index"]
            self.next_frame_ns = state["next_frame_ns"]
            self.stopped = state["stopped"]
            self.timers.next_seq = state["timer_seq"]

        reg.register(schema_section("pc-platform", 1, schema, save, load))

    # ------------------------------------------------------------------ running
    def run_until(self, until_ns: int) -> None:
        """Run the guest until virtual time ``until_ns`` (firing due timers on the way),
        or until it stops for good (:attr:`stopped` says why)."""
        clock = self.clock
        cpu = self.cpu
        timers = self.timers
        nspi = self.ns_per_insn
        requests = self._requests
        while self.stopped is None:
            timers.run_due()
            while requests:
                requests.pop(0)()
            now = clock.now_ns
            if now >= until_ns:
                return
            deadline = timers.deadline()
            if deadline is None or deadline > until_ns:
                deadline = until_ns
            if cpu.halted and not (cpu.eflags_rest & IF and self.pic.int_output) \
                    and not (cpu.nmi_pending and not cpu.nmi_blocked):
                if not cpu.eflags_rest & IF:
                    self.stopped = "halted with interrupts disabled"
                    return
                clock.now_ns = max(now, deadline)   # HLT: skip to the next event
                continue
            budget = max(1, -(-(deadline - now) // nspi))
            timers.slice_end = deadline
            try:
                n = cpu.run(max_instructions=budget)
            finally:
                timers.slice_end = None
                cpu.exit_request = False
            self.instructions += n
            clock.now_ns = now + n * nspi

    def now_ns(self) -> int:
        """Virtual time now, inside a slice too: the clock advances at the slice's end, and
        the instructions the CPU has run since its start (``cpu._done``, counted up to the
        instruction doing port I/O) are the time that has passed meanwhile."""
        return self.clock.now_ns + self.cpu._done * self.ns_per_insn

    def request(self, fn) -> None:
        """Run ``fn()`` at the next slice boundary: the CPU stands between two
        instructions there, as when QEMU's main loop serves a monitor command while the
        vCPU is out of its execution loop (a device callback mid-instruction cannot)."""
        self._requests.append(fn)

    def inject_nmi(self) -> None:
        """QMP ``inject-nmi``: the CPU takes NMI (vector 2) at the next slice, waking a HLT
        even with interrupts disabled."""
        self.cpu.nmi()

    def _kick(self) -> None:
        self.cpu.exit_request = True

    def wake(self) -> None:
        """Something the halted CPU waits for happened without an interrupt (a BIOS wait
        elapsed): let it run again."""
        self.cpu.halted = False

    def frame(self, *, force_full: bool = False):
        """Run one 60 Hz frame of guest time, then the display (machine.frame's role on a
        machine with a CPU: the clock is advanced by the guest's instructions).
        ``force_full`` redraws the whole screen (QEMU's full_update), for the profiler."""
        self.run_until(self.next_frame_ns)
        self.clock.now_ns = max(self.clock.now_ns, self.next_frame_ns)
        self.next_frame_ns += FRAME_NS
        self.frame_index += 1
        self.machine.cpu.counters.end_frame()
        vga = self.machine.vga
        t0 = time.perf_counter()
        if force_full:
            vga.invalidate()
        stats = vga.update_display()
        seconds = time.perf_counter() - t0
        self.machine.last_update = stats
        return FrameInfo(self.frame_index, stats, seconds)
