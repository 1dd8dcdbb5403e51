"""Raw disk images and INT 13h (facts from SeaBIOS's disk.c and block.c, and the IBM
PC/AT BIOS interface): CHS read/write (02h/03h), reset (00h), status (01h), parameters
(08h), type (15h), the EDD extensions (41h, 42h, 43h, 48h).

A floppy's geometry comes from its image size (160K to 2.88M, as QEMU's fd type table); an
image smaller than a format (a 512-byte boot sector) is a floppy of the smallest format
that holds it, reading zeros past its end.  A hard disk has 16 heads of 63 sectors, with
SeaBIOS's LBA translation above 1024 cylinders.  Writes reach the image file as QEMU's do,
unless ``snapshot`` (QEMU's ``-snapshot``) keeps them in memory.
"""

from __future__ import annotations

import os
import struct
from pathlib import Path

from vgaemu.errors import ConfigError

from . import bregs as R

SECTOR = 512
#: (size in KiB, cylinders, heads, sectors per track, INT 13h 08h drive type)
FLOPPY_FORMATS = ((160, 40, 1, 8, 1), (180, 40, 1, 9, 1), (320, 40, 2, 8, 1),
                  (360, 40, 2, 9, 1), (720, 80, 2, 9, 3), (1200, 80, 2, 15, 2),
                  (1440, 80, 2, 18, 4), (2880, 80, 2, 36, 6))

# INT 13h status codes (SeaBIOS's DISK_RET_*)
E_PARAM = 0x01
E_WRITE_PROTECTED = 0x03
E_NOT_FOUND = 0x04


def _shipped_hint(path: Path, error: OSError) -> str:
    """For ``vgaemu boot -fda hello.img`` run outside a checkout: where the image of that
    name that ships with vgaemu (``vgaemu/roms/programs/``, package data) is."""
    if not isinstance(error, FileNotFoundError):
        return ""
    from vgaemu.romfile import DEFAULT_ROM_DIR

    shipped = DEFAULT_ROM_DIR.joinpath("programs", path.name)
    if not shipped.is_file():
        return ""
    return f" (vgaemu ships one of that name: {shipped})"


class DiskImage:
    """One drive: ``kind`` "floppy" or "hd", its bytes, its geometry."""

    def __init__(self, path, kind: str, *, snapshot: bool = False, readonly: bool = False):
        if kind not in ("floppy", "hd"):
            raise ConfigError(f"drive interface {kind!r}: expected 'floppy' or 'ide'")
        self.path = Path(path)
        try:
            data = self.path.read_bytes()
        except OSError as e:
            raise ConfigError(f"disk image {str(path)!r}: {e.strerror or e}"
                              f"{_shipped_hint(self.path, e)}") from None
        if not data:
            raise ConfigError(f"disk image {str(path)!r} is empty")
        self.kind = kind
        self.snapshot = snapshot
        self.readonly = readonly
        self.file_size = len(data)
        if kind == "floppy":
            fmt = next((f for f in FLOPPY_FORMATS if f[0] * 1024 >= len(data)), None)
            if fmt is None:
                raise ConfigError(f"floppy image {str(path)!r} is {len(data)} bytes: larger "
                                  "than a 2.88M floppy (use if=ide for a hard disk)")
            _, self.cylinders, self.heads, self.spt, self.drive_type = fmt
        else:
            if len(data) % SECTOR:
                raise ConfigError(f"hard disk image {str(path)!r} is {len(data)} bytes: "
                                  "not a whole number of 512-byte sectors")
            self.heads, self.spt, self.drive_type = 16, 63, 0
            self.cylinders = -(-len(data) // (SECTOR * 16 * 63))
            while self.cylinders > 1024 and self.heads < 255:   # LBA translation
                self.heads = min(255, self.heads * 2)
                self.cylinders = -(-len(data) // (SECTOR * self.heads * 63))
            self.cylinders = min(self.cylinders, 1024)
        self.sectors = (self.cylinders * self.heads * self.spt if kind == "floppy"
                        else len(data) // SECTOR)
        self.data = bytearray(data) + bytearray(max(0, self.sectors * SECTOR - len(data)))
        #: sectors written while ``snapshot`` keeps them in memory (they travel in a migration)
        self.overlay: set[int] = set()

    def identity(self) -> list:
        """What a migration's destination must have the same of (QEMU without block
        migration: both sides open the same image)."""
        return [self.kind, self.path.name, self.file_size, self.snapshot]

    def reload(self) -> None:
        """Read the image file again (the source may have written it since this side
        opened it, as QEMU's destination re-opens its images when migration completes);
        ``snapshot`` overlay sectors are kept."""
        try:
            data = self.path.read_bytes()
        except OSError as e:
            raise ConfigError(f"disk image {str(self.path)!r}: {e.strerror or e}") from None
        if len(data) != self.file_size:
            raise ConfigError(f"disk image {str(self.path)!r} is now {len(data)} bytes, "
                              f"was {self.file_size}")
        kept = {lba: self.read(lba, 1) for lba in self.overlay}
        self.data[:len(data)] = data
        for lba, sector in kept.items():
            self.data[lba * SECTOR:(lba + 1) * SECTOR] = sector

    def read(self, lba: int, count: int) -> bytes:
        return bytes(self.data[lba * SECTOR:(lba + count) * SECTOR])

    def write(self, lba: int, data: bytes) -> None:
        self.data[lba * SECTOR:lba * SECTOR + len(data)] = data
        if self.snapshot:
            self.overlay.update(range(lba, lba + -(-len(data) // SECTOR)))
        else:
            with open(self.path, "r+b") as f:
                f.seek(lba * SECTOR)
                f.write(data)
                f.flush()
                os.fsync(f.fileno())


class DiskBIOS:
    """INT 13h over the drives: floppies are 00h, 01h; hard disks 80h, 81h..."""

    def __init__(self, pc, floppies=(), hard_disks=()) -> None:
        self.pc = pc
        self.machine = pc.machine
        self.drives: dict[int, DiskImage] = {}
        for i, d in enumerate(floppies):
            self.drives[i] = d
        for i, d in enumerate(hard_disks):
            self.drives[0x80 + i] = d
        self.last_status = {0: 0, 0x80: 0}
        self.dpt_off = 0xEFC7   # SeaBIOS's diskette parameter table address (F000:EFC7)
        pc.machine.pc_bios.write_rom_bytes(self.dpt_off, bytes(
            (0xAF, 0x02, 0x25, 0x02, 18, 0x1B, 0xFF, 0x6C, 0xF6, 0x0F, 0x08)))
        pc.machine.pc_bios.register(0x13, self.int13)
        pc.machine.write(0x1E * 4, struct.pack("<HH", self.dpt_off, 0xF000))

    def vmstate_section(self):
        """The ``pc.disk`` section: INT 13h's last status per controller, and each
        ``--snapshot`` drive's written sectors.  The images themselves do not travel (QEMU
        without block migration): the destination re-reads its image files on load, so both
        sides must see the same files; the configuration check refuses other drives."""
        from vgaemu.migration.errors import MigrationError
        from vgaemu.migration.vmstate import schema_section

        schema = {"last_status": (2, range(0, 256)),
                  "overlays": [{"drive": range(0, 256), "lba": [int], "data": bytes}]}

        def save() -> dict:
            overlays = []
            for dl, d in sorted(self.drives.items()):
                if d.overlay:
                    lbas = sorted(d.overlay)
                    overlays.append({"drive": dl, "lba": lbas,
                                     "data": b"".join(d.read(lba, 1) for lba in lbas)})
            return {"last_status": [self.last_status[0], self.last_status[0x80]],
                    "overlays": overlays}

        def check(state: dict) -> None:
            for o in state["overlays"]:
                d = self.drives.get(o["drive"])
                if d is None or not d.snapshot:
                    raise MigrationError(f"device state 'pc.disk': written sectors for drive "
                                         f"{o['drive']:#04x}, which is not a --snapshot drive here")
                if len(o["data"]) != SECTOR * len(o["lba"]) or \
                        any(not 0 <= lba < d.sectors for lba in o["lba"]):
                    raise MigrationError(f"device state 'pc.disk': drive {o['drive']:#04x}'s "
                                         "written sectors do not fit the image")

        def load(state: dict) -> None:
            self.last_status = {0: state["last_status"][0], 0x80: state["last_status"][1]}
            for d in self.drives.values():
                d.overlay.clear()
                d.reload()
            for o in state["overlays"]:
                d = self.drives[o["drive"]]
                for k, lba in enumerate(o["lba"]):
                    d.data[lba * SECTOR:(lba + 1) * SECTOR] = o["data"][k * SECTOR:(k + 1) * SECTOR]
                d.overlay.update(o["lba"])

        return schema_section("pc.disk", 1, schema, save, load, check)

    def _status(self, cpu, dl: int, code: int) -> None:
        self.machine.write(0x441 if dl < 0x80 else 0x474, bytes((code,)))
        self.last_status[dl & 0x80] = code
        if code:
            R.fail(cpu, code)
        else:
            R.ok(cpu)

    def int13(self, cpu) -> None:
        regs = cpu.regs
        ah = regs[0] >> 8 & 0xFF
        dl = regs[2] & 0xFF
        drive = self.drives.get(dl)
        if ah == 0x01:
            R.set_al(cpu, 0)
            code = self.last_status[dl & 0x80]
            R.set_ah(cpu, code)
            R.set_frame_flag(cpu, R.CF, bool(code))
            return
        if drive is None:
            self._status(cpu, dl, E_PARAM)
            return
        if ah == 0x00:
            self._status(cpu, dl, 0)
        elif ah in (0x02, 0x03):
            self._chs(cpu, drive, dl, write=ah == 0x03)
        elif ah == 0x08:
            self._params(cpu, drive, dl)
        elif ah == 0x15:
            if drive.kind == "floppy":
                R.set_ah(cpu, 0x02)   # diskette, change line supported
            else:
                R.set_ah(cpu, 0x03)
                R.set16(cpu, 1, drive.sectors >> 16)
                R.set16(cpu, 2, drive.sectors)
            R.set_frame_flag(cpu, R.CF, False)
        elif ah == 0x41 and regs[3] & 0xFFFF == 0x55AA:
            R.set16(cpu, 3, 0xAA55)
            R.set16(cpu, 1, 0x0007)   # extended access, removable media, EDD
            R.ok(cpu, 0x30)
        elif ah in (0x42, 0x43):
            self._ext(cpu, drive, dl, write=ah == 0x43)
        elif ah == 0x48:
            self._ext_params(cpu, drive, dl)
        else:
            self._status(cpu, dl, E_PARAM)

    def _chs(self, cpu, drive: DiskImage, dl: int, *, write: bool) -> None:
        regs = cpu.regs
        count = regs[0] & 0xFF
        cx = regs[1] & 0xFFFF
        sector = cx & 0x3F
        cyl = cx >> 8 | (cx & 0xC0) << 2
        head = regs[2] >> 8 & 0xFF
        if not count or count > 128 or sector == 0 or sector > drive.spt \
                or head >= drive.heads or cyl >= drive.cylinders:
            R.set_al(cpu, 0)
            self._status(cpu, dl, E_PARAM if not count or count > 128 else E_NOT_FOUND)
            return
        lba = (cyl * drive.heads + head) * drive.spt + sector - 1
        addr = cpu.seg_base[0] + (regs[3] & 0xFFFF)
        self._transfer(cpu, drive, dl, lba, count, addr, write)

    def _transfer(self, cpu, drive, dl, lba, count, addr, write) -> bool:
        if lba + count > drive.sectors:
            R.set_al(cpu, 0)
            self._status(cpu, dl, E_NOT_FOUND)
            return False
        if write:
            if drive.readonly:
                self._status(cpu, dl, E_WRITE_PROTECTED)
                return False
            drive.write(lba, self.machine.read(addr, count * SECTOR))
        else:
            self.machine.write(addr, drive.read(lba, count))
        R.set_al(cpu, count)
        self._status(cpu, dl, 0)
        return True

    def _params(self, cpu, drive: DiskImage, dl: int) -> None:
        maxcyl = drive.cylinders - 1
        R.set16(cpu, 0, 0)
        R.set16(cpu, 1, (maxcyl & 0xFF) << 8 | (maxcyl >> 2 & 0xC0) | drive.spt)
        nfloppy = sum(1 for d in self.drives if d < 0x80)
        nhd = sum(1 for d in self.drives if d >= 0x80)
        R.set16(cpu, 2, (drive.heads - 1) << 8 | (nfloppy if dl < 0x80 else nhd))
        if drive.kind == "floppy":
            R.set16(cpu, 3, drive.drive_type)
            cpu.load_seg(0, 0xF000)
            R.set16(cpu, 7, self.dpt_off)
        self._status(cpu, dl, 0)

    def _ext(self, cpu, drive, dl, *, write: bool) -> None:
        dap = cpu.seg_base[3] + (cpu.regs[6] & 0xFFFF)
        size, _, count, off, seg, lba = struct.unpack("<BBHHHQ", self.machine.read(dap, 16))
        if size < 16:
            self._status(cpu, dl, E_PARAM)
            return
        if not self._transfer(cpu, drive, dl, lba, count, (seg << 4) + off, write):
            self.machine.write(dap + 2, b"\0\0")

    def _ext_params(self, cpu, drive, dl) -> None:
        buf = cpu.seg_base[3] + (cpu.regs[6] & 0xFFFF)
        size = struct.unpack("<H", self.machine.read(buf, 2))[0]
        if size < 26:
            self._status(cpu, dl, E_PARAM)
            return
        flags = 0x0004 if drive.kind == "floppy" else 0x0002   # removable / CHS valid
        self.machine.write(buf, struct.pack("<HHIIIQH", 26, flags, drive.cylinders,
                                            drive.heads, drive.spt, drive.sectors, SECTOR))
        self._status(cpu, dl, 0)
