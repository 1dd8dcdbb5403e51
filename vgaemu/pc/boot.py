"""Booting a disk image the way SeaBIOS hands over to a boot sector: POST (IVT, BDA, the
VGA BIOS in mode 3 with the banner), the first sector of the boot drive at 0000:7C00, DL =
the boot drive, interrupts enabled, CS:IP = 0000:7C00.

The boot order is QEMU's ``-boot order=``, by default ``cad`` as QEMU's pc machine: the first
hard disk, then the first floppy (CD-ROM and network boot are not modelled).  It is written to
the CMOS boot flags as QEMU's set_boot_dev does, and the devices it does not name follow, as
SeaBIOS boots them last.  INT 19h boots again from the first device, INT 18h tries the next
one, and with none left prints "No bootable device." and ends the run, as SeaBIOS's
handle_18/handle_19 and boot_fail.  A system reset (the i8042's pulse, port 92h,
Ctrl+Alt+Del) resets the devices and the CPU, POSTs again and boots (a DOS program's run
ends there instead: there is no DOS to come back to).
"""

from __future__ import annotations

from vgaemu.cpu.state import IF
from vgaemu.errors import ConfigError

from .bios import SystemBIOS
from .disk import DiskBIOS, DiskImage
from .keyboard import Keyboard
from .platform import DEFAULT_IPS, PCPlatform
from .rtc import BOOT_CDROM, BOOT_FLOPPY, BOOT_HARD_DISK, BOOT_NETWORK

BOOT_ADDR = 0x7C00
#: QEMU's default boot order for the pc machine: hard disk, floppy, CD-ROM
DEFAULT_BOOT_ORDER = "cad"
#: boot_device2nibble: the CMOS code of each drive letter QEMU's pc machine accepts
BOOT_NIBBLES = {"a": BOOT_FLOPPY, "b": BOOT_FLOPPY, "c": BOOT_HARD_DISK, "d": BOOT_CDROM,
                "n": BOOT_NETWORK}
#: PC_MAX_BOOT_DEVICES
MAX_BOOT_DEVICES = 3
#: SeaBIOS's banner, as the VGA BIOS prints it (vgaemu.bios.vgabios.SEABIOS_BOOT_TEXT)
BANNER = "SeaBIOS (version 1.16.2-debian-1.16.2-1)\r\n"


class PC:
    """A machine with the PC platform and the BIOS services: boot an image
    (:meth:`boot`) or run a DOS program (vgaemu.pc.dos)."""

    def __init__(self, machine, *, floppies=(), hard_disks=(), ips: int = DEFAULT_IPS,
                 output=None, keys=(), boot_order: str = DEFAULT_BOOT_ORDER,
                 boot_once: str | None = None) -> None:
        self.boot_order = check_boot_order(boot_order)
        self._boot_once = None if boot_once is None else check_boot_order(boot_once)
        self.machine = machine
        self.platform = PCPlatform(machine, ips=ips, output=output)
        self.floppies = list(floppies)
        self.hard_disks = list(hard_disks)
        self.system_bios = SystemBIOS(self.platform, floppies=len(self.floppies),
                                      hard_disks=len(self.hard_disks))
        self.disks = DiskBIOS(self.platform, self.floppies, self.hard_disks)
        self.keyboard = Keyboard(self.platform)
        self.keyboard.add_script(keys)
        #: (drive, DL, name) in boot order; the index of the one booted
        self.boot_devices: list = []
        self._set_boot_order(self._boot_once or self.boot_order)
        self.boot_index: int | None = None
        self.dos = None
        #: why the machine was last reset, and how many times
        self.resets: list[str] = []
        self._reset_reason: str | None = None
        self._reset_timer = self.platform.timers.new_timer(self._system_reset_due)
        for src in (machine.i8042, machine.a20, self.keyboard):
            src.reset_request = self.request_reset
        self.platform.system_reset = self.system_reset
        machine.pc_bios.register(0x18, self.int18)
        machine.pc_bios.register(0x19, self.int19)
        self.system_bios.post()
        self._register_vmstate()

    # ------------------------------------------------------------------ migration
    def _register_vmstate(self) -> None:
        """The BIOS's sections, and the drives as what a destination must have the same of
        (the images themselves do not travel: both sides see the same files)."""
        from vgaemu.migration.vmstate import schema_section

        reg = self.machine.vmstate
        reg.set_config("drives", [[dl, *d.identity()] for dl, d in sorted(self.disks.drives.items())])
        reg.set_config("boot", [self.boot_order, self._boot_once])
        reg.register(self.system_bios.vmstate_section())
        reg.register(self.keyboard.vmstate_section())
        reg.register(self.disks.vmstate_section())
        schema = {"boot_index": "int?", "resets": ["str?"], "reset_reason": "str?",
                  "reset_timer": "timer", "boot_once_pending": bool}

        def save() -> dict:
            return {"boot_index": self.boot_index, "resets": list(self.resets),
                    "reset_reason": self._reset_reason,
                    "reset_timer": self._reset_timer.vmstate_save(),
                    "boot_once_pending": self._boot_once is not None}

        def check(state: dict) -> None:
            from vgaemu.migration.errors import MigrationError

            i = state["boot_index"]
            if i is not None and not 0 <= i < len(self.boot_devices):
                raise MigrationError(f"device state 'pc.boot': boot device #{i}, but this "
                                     f"machine has {len(self.boot_devices)}")

        def load(state: dict) -> None:
            self.boot_index = state["boot_index"]
            self.resets = list(state["resets"])
            self._reset_reason = state["reset_reason"]
            self._reset_timer.vmstate_load(state["reset_timer"])
            if self._boot_once is not None and not state["boot_once_pending"]:
                self._boot_once = None   # the source has reset since: -boot once= is spent
                self._set_boot_order(self.boot_order)

        reg.register(schema_section("pc.boot", 1, schema, save, load, check))

    def _set_boot_order(self, order: str) -> None:
        """The CMOS boot flags (set_boot_dev) and the devices SeaBIOS tries, in that order:
        the ones ``order`` names, then the others present."""
        self.machine.rtc.init_drives(self.floppies, self.hard_disks,
                                     boot_order=[BOOT_NIBBLES[c] for c in order])
        present = {BOOT_FLOPPY: (self.floppies[:1], 0x00, "Floppy"),
                   BOOT_HARD_DISK: (self.hard_disks[:1], 0x80, "Hard Disk")}
        kinds = [BOOT_NIBBLES[c] for c in order] + [BOOT_FLOPPY, BOOT_HARD_DISK]
        devices = []
        for kind in dict.fromkeys(k for k in kinds if k in present):
            drives, dl, name = present[kind]
            devices += [(d, dl, name) for d in drives]
        self.boot_devices = devices

    def boot(self) -> int:
        """Load and enter the boot sector of the first device in the boot order that has
        one; returns the boot drive number."""
        if not self.boot_devices:
            raise ConfigError("nothing to boot: give a disk image (IMAGE, -fda, -hda or -drive)")
        drive, dl, name = self.boot_devices[0]
        if dl == 0x80 and drive.read(0, 1)[510:512] != b"\x55\xAA":
            raise ConfigError(f"{drive.path}: not a bootable disk (no 55 AA signature at the "
                              "end of its first sector)")
        bios = self.machine.bios
        for ch in BANNER:
            bios.call(0x0E00 | ord(ch), bx=0x0007)
        self._boot_from(0)
        return dl

    def _print(self, text: str) -> None:
        for ch in text:
            self.machine.bios.call(0x0E00 | ord(ch), bx=0x0007)

    def _boot_from(self, index: int) -> bool:
        """SeaBIOS's do_boot: the device at ``index`` of the boot order, or boot_fail."""
        while index < len(self.boot_devices):
            drive, dl, name = self.boot_devices[index]
            self._print(f"Booting from {name}...\r\n")
            sector = drive.read(0, 1)
            if dl == 0x80 and sector[510:512] != b"\x55\xAA":
                self._print(f"Boot failed: not a bootable disk\r\n\r\n")
                index += 1
                continue
            self.boot_index = index
            self.machine.write(BOOT_ADDR, sector)
            cpu = self.machine.cpu
            cpu.eip = BOOT_ADDR
            cpu.cs = 0
            cpu.ds = cpu.es = cpu.ss = 0
            cpu.sp = BOOT_ADDR
            cpu.dx = dl
            cpu.ax = 0xAA55
            cpu.eflags_rest |= IF
            cpu.halted = False
            return True
        self._print("No bootable device.\r\n")
        self.platform.stopped = "no bootable device (INT 18h)"
        cpu = self.machine.cpu
        cpu.eflags_rest &= ~IF
        cpu.halted = True
        return False

    def int18(self, cpu) -> None:
        """INT 18h: the boot code gave up: the next device in the boot order."""
        self._boot_from(0 if self.boot_index is None else self.boot_index + 1)

    def int19(self, cpu) -> None:
        """INT 19h: the bootstrap loader: boot again from the first device."""
        self._boot_from(0)

    # ------------------------------------------------------------------ reset
    def request_reset(self, reason: str) -> None:
        """QEMU's qemu_system_reset_request: the CPU stops at the next block boundary and
        the reset runs from the machine loop (a device's port write is still in progress)."""
        self._reset_reason = reason
        self.machine.cpu.exit_request = True
        self._reset_timer.mod(self.platform.clock.now_ns)

    def system_reset(self, reason: str = "host-qmp-system-reset") -> None:
        """QMP ``system_reset``: the whole PC resets now (the monitor runs between slices,
        so no instruction is half done), POSTs and boots again, as QEMU's
        qemu_system_reset does from its main loop; a stopped machine stays stopped."""
        self._reset_reason = reason
        self._reset_timer.delete()
        self._system_reset_due()

    def _system_reset_due(self) -> None:
        reason, self._reset_reason = self._reset_reason, None
        self.resets.append(reason)
        m = self.machine
        p = self.platform
        if self.dos is not None:
            p.stopped = f"the program reset the machine ({reason})"
            m.cpu.eflags_rest &= ~IF
            m.cpu.halted = True
            return
        m.reset()
        m.cpu.reset()
        m.a20.port92 = 0x02
        m.a20.set_kbc_output(0xCF)
        m.i8042.system_reset()
        m.rtc.system_reset()
        for chip in (p.pic.master, p.pic.slave):
            chip.power_on_keep_pins()
        p.pic._update()
        for port, v in ((0x43, 0x36), (0x40, 0), (0x40, 0), (0x61, 0)):   # SeaBIOS timer_setup
            m.outb(port, v)
        m.pc_bios.install_ivt()
        # SeaBIOS's POST runs the VGA option ROM's init again (vga_post): the BDA it fills
        # (colour equipment bits, modeset control) was just cleared, and without it the
        # mode 3 set programs a mono CRTC the display never shows.
        m.bios.posted = False
        if self._boot_once is not None:   # -boot once= held for the first boot only
            self._boot_once = None
            self._set_boot_order(self.boot_order)
        self.system_bios.post()
        self.boot()

    def run_com(self, path, tail: str = ""):
        """Load a DOS .COM program (vgaemu.pc.dos) to run from PSP:0100; returns the DOS."""
        from .dos import DOS

        import hashlib
        from pathlib import Path

        dos = DOS(self)
        dos.load(path, tail)
        self.dos = dos
        image = Path(path).read_bytes()
        self.machine.vmstate.set_config("program", [Path(path).name, len(image),
                                                    hashlib.sha256(image).hexdigest()])
        self.machine.vmstate.register(dos.vmstate_section())
        return dos

    @staticmethod
    def open_drive(path, interface: str, *, snapshot: bool = False) -> DiskImage:
        return DiskImage(path, "floppy" if interface == "floppy" else "hd", snapshot=snapshot)


def check_boot_order(order: str) -> str:
    """QEMU's validate_bootdevices and set_boot_dev for the pc machine: drive letters a, b
    (floppy), c (hard disk), d (CD-ROM), n (network), each once, at most three."""
    if not isinstance(order, str) or not order:
        raise ConfigError(f"boot order {order!r}: give drive letters, e.g. 'cad' or 'a'")
    for k, c in enumerate(order):
        if not "a" <= c <= "p":
            raise ConfigError(f"Invalid boot device '{c}'")
        if c in order[:k]:
            raise ConfigError(f"Boot device '{c}' was given twice")
        if c not in BOOT_NIBBLES:
            raise ConfigError(f"Invalid boot device for PC: '{c}'")
    if len(order) > MAX_BOOT_DEVICES:
        raise ConfigError("Too many boot devices for PC")
    return order


def run_frames(pc: PC, sink, max_frames: int | None, *, force_full: bool = False) -> tuple[int, str]:
    """Run ``pc`` one 60 Hz frame at a time into ``sink`` (a front end's FrameSink) until
    ``max_frames`` or the guest stops for good; keys the sink reports go to the keyboard.
    ``force_full`` redraws every frame whole (the profiler's comparison run).
    Returns (frames shown, why the run ended)."""
    from .keyboard import keys_from_window

    platform = pc.platform
    machine = pc.machine
    n = 0
    from vgaemu.guest import idle_hook

    # The BQL for the run; posted work runs between frames; the window keeps answering
    # while a QMP `stop` or a migration holds the guest.
    with machine.driving(), idle_hook(machine, sink):
        while max_frames is None or n < max_frames:
            if not machine.run_pending():
                return n, "quit requested"
            events = sink.key_events() if hasattr(sink, "key_events") else sink.keys()
            for codes in keys_from_window(events):
                pc.keyboard.send(codes)
            info = platform.frame(force_full=force_full)
            sink.frame(machine, info)
            n += 1
            if platform.stopped:
                return n, platform.stopped
    return n, f"{n} frame(s) run"
