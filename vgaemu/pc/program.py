"""A PC program as something to run again and again: a disk image to boot or a DOS .COM
file, with its scripted keys and guest speed.  The profiler (two kinds of run, repeated),
the pytest plugin and bench_boot.py each need a fresh PC with the same program on it; this
builds one, and runs it into any front end's FrameSink.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from vgaemu.errors import ConfigError

from .platform import DEFAULT_IPS

#: Suffixes taken for a disk image to boot (raw images as QEMU's ``format=raw`` reads them).
IMAGE_SUFFIXES = (".img", ".ima", ".flp", ".vfd", ".dsk", ".bin", ".raw")
COM_SUFFIXES = (".com",)
#: The largest floppy image (2.88M); a larger ``drive="auto"`` image boots as a hard disk.
MAX_FLOPPY_BYTES = 2_949_120


def is_program_path(path) -> bool:
    """True for a path that names a boot image or a .COM program (by its suffix)."""
    if not isinstance(path, (str, os.PathLike)):
        return False
    return Path(path).suffix.lower() in IMAGE_SUFFIXES + COM_SUFFIXES


@dataclass(slots=True)
class ProgramRun:
    """What a run of a PCProgram did: the PC (machine, CPU counters, devices), the frames
    shown and why the run ended (``"halted with interrupts disabled"``, ``"N frame(s) run"``,
    a DOS exit...)."""

    pc: object
    frames: int
    stopped: str


@dataclass(frozen=True)
class PCProgram:
    """``path``: a raw disk image (booted as SeaBIOS would) or a ``.com`` program (loaded by
    vgaemu.pc.dos).  ``drive``: ``"floppy"``, ``"hd"`` or ``"auto"`` (floppy when the
    image is at most 2.88 MB, as boot-sector programs are; else a hard disk).  ``keys``:
    ``--keys`` specs.  ``args``: a .COM program's command tail.  Disk writes never reach
    the image (``--snapshot``): every run starts from the same bytes."""

    path: Path
    keys: tuple[str, ...] = ()
    ips: int = DEFAULT_IPS
    args: str = ""
    drive: str = "auto"
    kind: str = field(init=False)

    def __post_init__(self) -> None:
        path = Path(self.path)
        object.__setattr__(self, "path", path)
        if isinstance(self.keys, str):
            raise ConfigError(f"keys must be a list of key specs, not one string ({self.keys!r})")
        object.__setattr__(self, "keys", tuple(self.keys))
        if self.drive not in ("auto", "floppy", "hd"):
            raise ConfigError(f"drive {self.drive!r}: expected 'auto', 'floppy' or 'hd'")
        if not path.is_file():
            raise ConfigError(f"{path}: no such program or disk image")
        com = path.suffix.lower() in COM_SUFFIXES
        object.__setattr__(self, "kind", "com" if com else "boot")
        if com and self.drive != "auto":
            raise ConfigError(f"{path.name}: drive= is for disk images, not .COM programs")
        if not com and self.args:
            raise ConfigError(f"{path.name}: args= is a .COM program's command tail")

    @property
    def name(self) -> str:
        return self.path.name

    def interface(self) -> str:
        if self.drive != "auto":
            return self.drive
        return "floppy" if self.path.stat().st_size <= MAX_FLOPPY_BYTES else "hd"

    def make(self, machine=None, *, output=None):
        """A PC on ``machine`` (default a fresh ``Machine()``) with the program booted or
        loaded, ready to run.  ``output`` takes debug-console/COM1 bytes (default: dropped,
        since a repeated run should not print its output again and again)."""
        import io

        from .boot import PC
        from .disk import DiskImage

        if machine is None:
            from vgaemu.machine import Machine

            machine = Machine()
        if output is None:
            output = io.BytesIO()
        if self.kind == "com":
            pc = PC(machine, ips=self.ips, output=output, keys=self.keys)
            pc.run_com(self.path, self.args)
            return pc
        drive = DiskImage(self.path, "floppy" if self.interface() == "floppy" else "hd", snapshot=True)
        if self.interface() == "floppy":
            pc = PC(machine, floppies=[drive], ips=self.ips, output=output, keys=self.keys)
        else:
            pc = PC(machine, hard_disks=[drive], ips=self.ips, output=output, keys=self.keys)
        pc.boot()
        return pc

    def run(self, sink, max_frames: int | None, *, machine=None, force_full: bool = False,
            output=None):
        """Run on a fresh PC (or ``machine``) into ``sink`` until ``max_frames`` or the
        program stops; returns a :class:`ProgramRun`."""
        from .boot import run_frames

        pc = self.make(machine, output=output)
        n, why = run_frames(pc, sink, max_frames, force_full=force_full)
        return ProgramRun(pc, n, why)


def as_program(what, **options) -> PCProgram:
    """``what`` as a PCProgram (a PCProgram as given, with no options)."""
    if isinstance(what, PCProgram):
        if options:
            raise ConfigError(f"options {sorted(options)} given with a ready PCProgram")
        return what
    return PCProgram(Path(what), **options)
