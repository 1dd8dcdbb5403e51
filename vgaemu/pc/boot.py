"""Booting a disk image the way SeaBIOS hands over to a boot sector: POST (IVT, BDA, the
VGA BIOS in mode 3 with the banner), the first sector of the boot drive at 0000:7C00, DL =
the boot drive, interrupts enabled, CS:IP = 0000:7C00."""

from __future__ import annotations

from vgaemu.cpu.state import IF
from vgaemu.errors import ConfigError

from .bios import SystemBIOS
from .disk import DiskBIOS, DiskImage
from .keyboard import Keyboard
from .platform import DEFAULT_IPS, PCPlatform

BOOT_ADDR = 0x7C00
#: SeaBIOS's banner, as the VGA BIOS prints it (vgaemu.bios.vgabios.SEABIOS_BOOT_TEXT)
BANNER = "SeaBIOS (version 1.16.2-debian-1.16.2-1)\r\n"


class PC:
    """A machine with the PC platform and the BIOS services: boot an image
    (:meth:`boot`) or run a DOS program (vgaemu.pc.dos)."""

    def __init__(self, machine, *, floppies=(), hard_disks=(), ips: int = DEFAULT_IPS,
                 output=None, keys=()) -> None:
        self.machine = machine
        self.platform = PCPlatform(machine, ips=ips, output=output)
        self.floppies = list(floppies)
        self.hard_disks = list(hard_disks)
        self.system_bios = SystemBIOS(self.platform, floppies=len(self.floppies),
                                      hard_disks=len(self.hard_disks))
        self.disks = DiskBIOS(self.platform, self.floppies, self.hard_disks)
        self.keyboard = Keyboard(self.platform)
        self.keyboard.add_script(keys)
        machine.rtc.init_drives(self.floppies, self.hard_disks)
        self.system_bios.post()

    def boot(self) -> int:
        """Load and enter the boot sector of the first floppy, else the first hard disk
        (SeaBIOS's default order); returns the boot drive number."""
        if self.floppies:
            drive, dl, name = self.floppies[0], 0x00, "Floppy"
        elif self.hard_disks:
            drive, dl, name = self.hard_disks[0], 0x80, "Hard Disk"
        else:
            raise ConfigError("nothing to boot: give a disk image (IMAGE, -fda, -hda or -drive)")
        sector = drive.read(0, 1)
        if dl == 0x80 and sector[510:512] != b"\x55\xAA":
            raise ConfigError(f"{drive.path}: not a bootable disk (no 55 AA signature at the "
                              "end of its first sector)")
        bios = self.machine.bios
        for ch in BANNER + f"Booting from {name}...\r\n":
            bios.call(0x0E00 | ord(ch), bx=0x0007)
        self.machine.write(BOOT_ADDR, sector)
        cpu = self.machine.cpu
        cpu.eip = BOOT_ADDR
        cpu.cs = 0
        cpu.ds = cpu.es = cpu.ss = 0
        cpu.sp = BOOT_ADDR
        cpu.dx = dl
        cpu.ax = 0xAA55
        cpu.eflags_rest |= IF
        return dl

    def run_com(self, path, tail: str = ""):
        """Load a DOS .COM program (vgaemu.pc.dos) to run from PSP:0100; returns the DOS."""
        from .dos import DOS

        dos = DOS(self)
        dos.load(path, tail)
        return dos

    @staticmethod
    def open_drive(path, interface: str, *, snapshot: bool = False) -> DiskImage:
        return DiskImage(path, "floppy" if interface == "floppy" else "hd", snapshot=snapshot)


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
            for codes in keys_from_window(sink.keys()):
                pc.keyboard.send(codes)
            info = platform.frame(force_full=force_full)
            sink.frame(machine, info)
            n += 1
            if platform.stopped:
                return n, platform.stopped
    return n, f"{n} frame(s) run"
