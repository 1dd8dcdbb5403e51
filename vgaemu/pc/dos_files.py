"""DOS file handles for .COM programs (INT 21h 3Dh open, 3Fh read, 40h write, 3Eh close,
42h seek), after MS-DOS 5's behaviour as Ralf Brown's interrupt list describes it.

Files are read-only and live next to the program: ``C:DATA.BIN``, ``\\LEVELS\\ONE.LVL`` or
``data.bin`` name a file under the program's directory, matched without regard to case as
DOS's upper-case names must be; a path that climbs out of that directory is "path not
found".  A file's bytes are taken when it is opened.  Opening for writing gets "access
denied", as a read-only file does on DOS.

Handles 0-4 are the standard devices: reading 0 (or 1, 2: CON) reads a line from the
keyboard -- with echo and backspace, as DOS's cooked console does -- and hands it out with its
CR LF over as many reads as the program makes; writing 1 or 2 prints through the BIOS
teletype; AUX and PRN read nothing and swallow what is written.  Errors set CF and put the
DOS error code in AX.
"""

from __future__ import annotations

import struct
from pathlib import Path

from . import bregs as R

# DOS error codes
ERROR_INVALID_FUNCTION = 0x01
ERROR_FILE_NOT_FOUND = 0x02
ERROR_PATH_NOT_FOUND = 0x03
ERROR_TOO_MANY_OPEN_FILES = 0x04
ERROR_ACCESS_DENIED = 0x05
ERROR_INVALID_HANDLE = 0x06
ERROR_INVALID_ACCESS = 0x0C
ERROR_SEEK = 0x19
#: the job file table of a PSP has 20 entries (handles 0-19)
MAX_HANDLES = 20
STDIN, STDOUT, STDERR, STDAUX, STDPRN = range(5)
_CON = (STDIN, STDOUT, STDERR)


class OpenFile:
    __slots__ = ("name", "data", "pos")

    def __init__(self, name: str, data: bytes) -> None:
        self.name = name
        self.data = data
        self.pos = 0


class DOSFiles:
    """The open handles of one program; ``dos`` gives the console (its line editor and
    teletype output) and the program's directory."""

    def __init__(self, dos, directory: Path) -> None:
        self.dos = dos
        self.directory = Path(directory).resolve()
        #: handle -> an OpenFile, or a device name for the standard handles
        self.handles: dict[int, OpenFile | str] = {STDIN: "CON", STDOUT: "CON", STDERR: "CON",
                                                   STDAUX: "AUX", STDPRN: "PRN"}
        self._con_pending = b""   # the rest of a console line after a short read

    # ------------------------------------------------------------------ helpers
    @staticmethod
    def fail(cpu, code: int) -> None:
        R.set16(cpu, 0, code)
        R.set_frame_flag(cpu, R.CF, True)

    @staticmethod
    def ok(cpu, ax: int | None = None) -> None:
        if ax is not None:
            R.set16(cpu, 0, ax)
        R.set_frame_flag(cpu, R.CF, False)

    def _read_asciiz(self, cpu, addr: int, limit: int = 128) -> bytes:
        m = self.dos.machine
        raw = m.read(addr, limit)
        end = raw.find(b"\0")
        return raw if end < 0 else raw[:end]

    def resolve(self, name: bytes) -> Path | int:
        """A DOS file name -> the host file, or a DOS error code."""
        text = name.decode("ascii", "replace").strip()
        if len(text) >= 2 and text[1] == ":":
            if text[0].upper() != "C":
                return ERROR_PATH_NOT_FOUND   # the program's directory is drive C:
            text = text[2:]
        parts = [p for p in text.replace("/", "\\").split("\\") if p not in ("", ".")]
        if not parts:
            return ERROR_FILE_NOT_FOUND
        here = self.directory
        for i, part in enumerate(parts):
            if part == ".." or any(c in part for c in '*?"<>|\0'):
                return ERROR_PATH_NOT_FOUND if i < len(parts) - 1 or part == ".." \
                    else ERROR_FILE_NOT_FOUND
            try:
                match = next((e for e in here.iterdir() if e.name.upper() == part.upper()), None)
            except OSError:
                match = None
            last = i == len(parts) - 1
            if match is None or (not last and not match.is_dir()):
                return ERROR_FILE_NOT_FOUND if last else ERROR_PATH_NOT_FOUND
            here = match
        if not here.is_file():
            return ERROR_ACCESS_DENIED   # a directory
        return here

    # ------------------------------------------------------------------ 3Dh / 3Eh
    def open(self, cpu) -> None:
        al = cpu.regs[0] & 0xFF
        name = self._read_asciiz(cpu, cpu.seg_base[3] + (cpu.regs[2] & 0xFFFF))
        access = al & 0x07
        if access > 2:
            self.fail(cpu, ERROR_INVALID_ACCESS)
            return
        found = self.resolve(name)
        if isinstance(found, int):
            self.fail(cpu, found)
            return
        if access != 0:
            self.fail(cpu, ERROR_ACCESS_DENIED)   # the files are read-only
            return
        handle = next((h for h in range(MAX_HANDLES) if h not in self.handles), None)
        if handle is None:
            self.fail(cpu, ERROR_TOO_MANY_OPEN_FILES)
            return
        try:
            data = found.read_bytes()
        except OSError:
            self.fail(cpu, ERROR_ACCESS_DENIED)
            return
        self.handles[handle] = OpenFile(name.decode("ascii", "replace"), data)
        self.ok(cpu, handle)

    def close(self, cpu) -> None:
        h = cpu.regs[3] & 0xFFFF
        if self.handles.pop(h, None) is None:
            self.fail(cpu, ERROR_INVALID_HANDLE)
            return
        self.ok(cpu)

    # ------------------------------------------------------------------ 3Fh / 40h
    def read(self, cpu) -> None:
        h = cpu.regs[3] & 0xFFFF
        count = cpu.regs[1] & 0xFFFF
        buf = cpu.seg_base[3] + (cpu.regs[2] & 0xFFFF)
        f = self.handles.get(h)
        if f is None:
            self.fail(cpu, ERROR_INVALID_HANDLE)
            return
        if isinstance(f, OpenFile):
            data = f.data[f.pos:f.pos + count] if f.pos < len(f.data) else b""
            f.pos += len(data)
        elif f == "CON":
            if not self._con_pending and count:
                line = self.dos.edit_line(cpu, 128)
                if line is None:
                    return   # waiting for the keyboard: the stub runs this call again
                self.dos.out(0x0A)   # the editor echoed the CR; a handle read ends the line
                self._con_pending = line + b"\r\n"
            data, self._con_pending = self._con_pending[:count], self._con_pending[count:]
        else:
            data = b""   # AUX, PRN: nothing to read
        if data:
            self.dos.machine.write(buf, data)
        self.ok(cpu, len(data))

    def write(self, cpu) -> None:
        h = cpu.regs[3] & 0xFFFF
        count = cpu.regs[1] & 0xFFFF
        f = self.handles.get(h)
        if f is None:
            self.fail(cpu, ERROR_INVALID_HANDLE)
            return
        if isinstance(f, OpenFile):
            self.fail(cpu, ERROR_ACCESS_DENIED)
            return
        if f == "CON":
            data = self.dos.machine.read(cpu.seg_base[3] + (cpu.regs[2] & 0xFFFF), count)
            for ch in data:
                self.dos.out(ch)
        self.ok(cpu, count)

    # ------------------------------------------------------------------ 42h
    def seek(self, cpu) -> None:
        al = cpu.regs[0] & 0xFF
        h = cpu.regs[3] & 0xFFFF
        f = self.handles.get(h)
        if f is None:
            self.fail(cpu, ERROR_INVALID_HANDLE)
            return
        if al > 2:
            self.fail(cpu, ERROR_INVALID_FUNCTION)
            return
        offset = (cpu.regs[1] & 0xFFFF) << 16 | cpu.regs[2] & 0xFFFF
        if not isinstance(f, OpenFile):
            R.set16(cpu, 2, 0)
            self.ok(cpu, 0)   # devices have no position
            return
        if al:
            offset = struct.unpack("<i", struct.pack("<I", offset))[0]   # signed from CUR/END
        pos = offset + (0 if al == 0 else f.pos if al == 1 else len(f.data))
        if pos < 0:
            self.fail(cpu, ERROR_SEEK)
            return
        f.pos = pos
        R.set16(cpu, 2, pos >> 16)
        self.ok(cpu, pos & 0xFFFF)
