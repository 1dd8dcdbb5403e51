"""DOS .COM programs: the program image at PSP:0100 as DOS's loader puts it, and the
INT 20h/21h services a .COM intro or game uses, in Python behind real IVT vectors (so a
program may hook INT 21h itself).

Loaded as DOS 5 does: a Program Segment Prefix (INT 20h at offset 0, the memory top at 2,
the command tail at 80h), every segment register = the PSP, SP = FFFEh with a zero word on
the stack (a near RET reaches the INT 20h), IP = 0100h.

INT 21h: 01h, 02h, 06h, 07h, 08h, 09h, 0Ah, 0Bh, 0Ch, 19h, 25h, 2Ah-2Dh, 30h, 35h,
3Dh-40h and 42h (read-only files next to the program, vgaemu.pc.dos_files), 48h, 49h, 4Ah,
4Ch, 62h; INT 20h.  Memory blocks (48h/49h/4Ah) are kept by this module, first
fit between the program's block and the top of base memory; there is no MCB chain in guest
memory for a program to walk.
Console output goes through the VGA BIOS teletype (INT 10h AH=0Eh), input through the BIOS
keyboard buffer.  The date and time (2Ah-2Dh) are the RTC's (vgaemu.pc.rtc: a fixed base
date plus virtual time unless ``--rtc-base`` says otherwise).  Any other function stops the
run with an error naming it.
"""

from __future__ import annotations

import struct
from pathlib import Path

from vgaemu.cpu.pcbios import stub_code
from vgaemu.cpu.state import IF
from vgaemu.errors import ConfigError, GuestError

from . import bregs as R
from .bios import BDA_KBD_HEAD, EBDA_SEG
from .dos_files import DOSFiles
from .keyboard import reported_keycode

PSP_SEG = 0x0800
COM_MAX = 0x10000 - 0x100 - 2   # the program, its PSP and the initial stack word in 64 KiB

FUNCTION_NAMES = {
    0x00: "terminate program", 0x03: "auxiliary input", 0x04: "auxiliary output",
    0x05: "printer output", 0x0A: "buffered keyboard input", 0x0D: "disk reset",
    0x0E: "select disk", 0x0F: "open file (FCB)", 0x1A: "set DTA", 0x2B: "set date",
    0x2D: "set time", 0x31: "terminate and stay resident", 0x33: "Ctrl-Break check",
    0x36: "get free disk space", 0x39: "create directory", 0x3C: "create file",
    0x3D: "open file", 0x3E: "close file", 0x3F: "read file", 0x40: "write file",
    0x41: "delete file", 0x42: "seek", 0x43: "file attributes", 0x44: "IOCTL",
    0x47: "get current directory", 0x48: "allocate memory", 0x49: "free memory",
    0x4A: "resize memory block", 0x4B: "execute program", 0x4E: "find first file",
    0x4F: "find next file", 0x62: "get PSP address",
}


class DOS:
    """The DOS services of one run of one .COM program on a :class:`vgaemu.pc.boot.PC`."""

    def __init__(self, pc) -> None:
        self.pc = pc
        self.machine = pc.machine
        self.platform = pc.platform
        self.exit_code: int | None = None
        #: allocated memory blocks: segment -> size in paragraphs (the program's own first)
        self.blocks: dict[int, int] = {PSP_SEG: EBDA_SEG - PSP_SEG}
        self._line: bytearray | None = None   # 0Ah input typed so far
        self._pending_scan: int | None = None   # an extended key's scan code, for the next read
        self.files = DOSFiles(self, Path.cwd())   # load() puts them next to the program
        pb = self.machine.pc_bios
        pb.register(0x20, self.int20)
        self.int21_stub = pb.register(0x21, self.int21, stub_code(0x21, before=b"\xFB"))

    # ------------------------------------------------------------------ loading
    def load(self, path, tail: str = "") -> None:
        path = Path(path)
        try:
            image = path.read_bytes()
        except OSError as e:
            raise ConfigError(f"program {str(path)!r}: {e.strerror or e}") from None
        if not image:
            raise ConfigError(f"program {str(path)!r} is empty")
        if len(image) > COM_MAX:
            raise ConfigError(f"program {str(path)!r} is {len(image)} bytes: a .COM program "
                              f"holds at most {COM_MAX}")
        if image[:2] in (b"MZ", b"ZM"):
            raise ConfigError(f"{str(path)!r} is an .EXE (MZ header): only .COM programs run")
        tail_bytes = tail.encode("ascii", "replace")
        if len(tail_bytes) > 126:
            raise ConfigError("command tail longer than 126 characters")
        self.files = DOSFiles(self, path.parent)
        m = self.machine
        base = PSP_SEG << 4
        psp = bytearray(0x100)
        psp[0:2] = b"\xCD\x20"
        struct.pack_into("<H", psp, 2, EBDA_SEG)
        for i, v in enumerate((0x22, 0x23, 0x24)):
            psp[0x0A + 4 * i:0x0E + 4 * i] = m.read(v * 4, 4)
        psp[0x50:0x53] = b"\xCD\x21\xCB"
        psp[0x5C:0x68] = b"\0" + b" " * 11
        psp[0x6C:0x78] = b"\0" + b" " * 11
        if tail_bytes:
            tail_bytes = b" " + tail_bytes.lstrip(b" ")
        psp[0x80] = len(tail_bytes)
        psp[0x81:0x81 + len(tail_bytes)] = tail_bytes
        psp[0x81 + len(tail_bytes)] = 0x0D
        m.write(base, bytes(psp) + image)
        m.write(base + 0xFFFE, b"\0\0")
        cpu = m.cpu
        for name in ("cs", "ds", "es", "ss"):
            setattr(cpu, name, PSP_SEG)
        cpu.sp = 0xFFFE
        cpu.ip = 0x100
        cpu.ax, cpu.bx, cpu.cx, cpu.dx = 0, 0, 0x00FF, PSP_SEG
        cpu.si, cpu.di, cpu.bp = 0x100, 0xFFFE, 0x091C
        cpu.eflags_rest |= IF

    # ------------------------------------------------------------------ services
    def _terminate(self, cpu, code: int) -> None:
        self.exit_code = code
        self.platform.stopped = f"program exited with code {code}"
        cpu.eflags_rest &= ~IF
        cpu.halted = True

    def int20(self, cpu) -> None:
        self._terminate(cpu, 0)

    def out(self, ch: int) -> None:
        page = self.machine.read(0x462, 1)[0]
        self.machine.bios.call(0x0E00 | ch, bx=page << 8 | 0x07)

    def _key(self, cpu, *, wait: bool) -> int | None:
        """The next character from the BIOS keyboard buffer (extended keys give 0 first,
        then the scan code, as DOS does), or None (and, with ``wait``, block)."""
        if self._pending_scan is not None:
            v, self._pending_scan = self._pending_scan, None
            return v
        m = self.machine
        head, tail = struct.unpack("<HH", m.read(BDA_KBD_HEAD, 4))
        if head == tail:
            if wait:
                R.wait(cpu, self.int21_stub)
            return None
        word = reported_keycode(struct.unpack("<H", m.read(0x400 + head, 2))[0], extended=False)
        start, end = struct.unpack("<HH", m.read(0x480, 4))
        m.write(BDA_KBD_HEAD, struct.pack("<H", head + 2 if head + 2 < end else start))
        if word & 0xFF == 0:
            self._pending_scan = word >> 8
        return word & 0xFF

    _pending_scan: int | None = None
    #: INT 21h file functions -> DOSFiles methods (vgaemu.pc.dos_files)
    _file_services = {0x3D: "open", 0x3E: "close", 0x3F: "read", 0x40: "write", 0x42: "seek"}

    def int21(self, cpu) -> None:
        regs = cpu.regs
        ah = regs[0] >> 8 & 0xFF
        al = regs[0] & 0xFF
        dl = regs[2] & 0xFF
        m = self.machine
        if ah == 0x4C:
            self._terminate(cpu, al)
        elif ah == 0x02:
            self.out(dl)
            R.set_al(cpu, dl)
        elif ah == 0x09:
            addr = cpu.seg_base[3] + (regs[2] & 0xFFFF)
            for _ in range(0x10000):
                ch = m.read(addr, 1)[0]
                if ch == 0x24:
                    break
                self.out(ch)
                addr += 1
            R.set_al(cpu, 0x24)
        elif ah in (0x01, 0x07, 0x08):
            ch = self._key(cpu, wait=True)
            if ch is not None:
                if ah == 0x01:
                    self.out(ch)
                R.set_al(cpu, ch)
        elif ah == 0x06:
            if dl == 0xFF:
                ch = self._key(cpu, wait=False)
                R.set_frame_flag(cpu, R.ZF, ch is None)
                R.set_al(cpu, ch or 0)
            else:
                self.out(dl)
                R.set_al(cpu, dl)
        elif ah == 0x0B:
            head, tail = struct.unpack("<HH", m.read(BDA_KBD_HEAD, 4))
            R.set_al(cpu, 0xFF if head != tail or self._pending_scan is not None else 0)
        elif ah == 0x0C:
            start = struct.unpack("<H", m.read(0x480, 2))[0]
            m.write(BDA_KBD_HEAD, struct.pack("<HH", start, start))
            self._pending_scan = None
            if al in (0x01, 0x06, 0x07, 0x08):
                regs[0] = regs[0] & 0xFFFF00FF | al << 8
                self.int21(cpu)
            else:
                R.set_al(cpu, 0)
        elif ah == 0x0A:
            self._read_line(cpu)
        elif ah in (0x48, 0x49, 0x4A):
            self._memory(cpu, ah)
        elif ah == 0x19:
            R.set_al(cpu, 2)   # C:
        elif ah == 0x25:
            m.write(al * 4, struct.pack("<HH", regs[2] & 0xFFFF, cpu.seg_sel[3]))
        elif ah == 0x35:
            off, seg = struct.unpack("<HH", m.read(al * 4, 4))
            R.set16(cpu, 3, off)
            cpu.load_seg(0, seg)
        elif ah == 0x2A:
            now = self.machine.rtc.datetime()
            R.set16(cpu, 1, now.year)
            R.set16(cpu, 2, now.month << 8 | now.day)
            R.set_al(cpu, (now.weekday() + 1) % 7)   # 0 = Sunday
        elif ah == 0x2C:
            now = self.machine.rtc.datetime()
            R.set16(cpu, 1, now.hour << 8 | now.minute)
            R.set16(cpu, 2, now.second << 8 | now.microsecond // 10000)
        elif ah in (0x2B, 0x2D):
            self._set_clock(cpu, ah)
        elif ah == 0x30:
            R.set16(cpu, 0, 0x0005)   # DOS 5.0
            R.set16(cpu, 3, 0)
            R.set16(cpu, 1, 0)
        elif ah == 0x62:
            R.set16(cpu, 3, PSP_SEG)
        elif ah in self._file_services:
            getattr(self.files, self._file_services[ah])(cpu)
        else:
            name = FUNCTION_NAMES.get(ah, "unknown function")
            frame = cpu.seg_base[2] + (regs[4] & 0xFFFF)
            ip, cs = struct.unpack("<HH", m.read(frame, 4))
            raise GuestError(f"INT 21h function {ah:02X}h ({name}) is not supported by "
                             f"vgaemu's DOS (called from {cs:04X}:{(ip - 2) & 0xFFFF:04X})")

    def _set_clock(self, cpu, ah: int) -> None:
        """2Bh set date / 2Dh set time: the RTC takes it (AL=0), an invalid one AL=FFh."""
        import datetime as _dt

        from vgaemu.pc.rtc import _EPOCH

        rtc = self.machine.rtc
        cur = rtc.datetime()
        cx, dx = cpu.regs[1] & 0xFFFF, cpu.regs[2] & 0xFFFF
        try:
            if ah == 0x2B:
                if not 1980 <= cx <= 2099:
                    raise ValueError
                new = cur.replace(year=cx, month=dx >> 8, day=dx & 0xFF)
            else:
                if (dx & 0xFF) > 99:
                    raise ValueError
                new = cur.replace(hour=cx >> 8, minute=cx & 0xFF, second=dx >> 8,
                                  microsecond=(dx & 0xFF) * 10000)
        except ValueError:
            R.set_al(cpu, 0xFF)
            return
        rtc.set_time((new - _EPOCH) // _dt.timedelta(microseconds=1) * 1000)
        R.set_al(cpu, 0)

    # ------------------------------------------------------------------ 0Ah
    def _read_line(self, cpu) -> None:
        """Buffered input at DS:DX (byte 0: room incl. the CR; byte 1: length typed)."""
        m = self.machine
        buf = cpu.seg_base[3] + (cpu.regs[2] & 0xFFFF)
        line = self.edit_line(cpu, m.read(buf, 1)[0])
        if line is not None:
            m.write(buf + 1, bytes((len(line),)) + line + b"\r")

    def edit_line(self, cpu, room: int) -> bytes | None:
        """DOS's console line editor: echoing, with backspace, until Enter; at most
        ``room`` - 1 characters.  The line, or None while it waits for a key (the stub
        then runs the call again, which continues the same line)."""
        if self._line is None:
            self._line = bytearray()
        while True:
            ch = self._key(cpu, wait=True)
            if ch is None:
                return None
            if ch == 0:
                self._pending_scan = None   # extended keys are ignored
            elif ch == 0x0D:
                line, self._line = bytes(self._line), None
                self.out(0x0D)
                return line
            elif ch == 0x08:
                if self._line:
                    self._line.pop()
                    for c in (0x08, 0x20, 0x08):
                        self.out(c)
            elif len(self._line) + 1 < room:
                self._line.append(ch)
                self.out(ch)

    # ------------------------------------------------------------------ 48h/49h/4Ah
    def _memory(self, cpu, ah: int) -> None:
        want = cpu.regs[3] & 0xFFFF
        if ah == 0x48:
            seg = self._fit(want)
            if seg is None:
                self._mem_fail(cpu, 0x08, self._largest())
                return
            self.blocks[seg] = want
            R.set16(cpu, 0, seg)
            R.set_frame_flag(cpu, R.CF, False)
            return
        seg = cpu.seg_sel[0]
        if seg not in self.blocks:
            self._mem_fail(cpu, 0x09)   # invalid memory block address
            return
        if ah == 0x49:
            if seg == PSP_SEG:
                self._mem_fail(cpu, 0x09)
                return
            del self.blocks[seg]
        else:
            limit = min([s for s in self.blocks if s > seg] + [EBDA_SEG]) - seg
            if want > limit:
                self._mem_fail(cpu, 0x08, limit)
                return
            self.blocks[seg] = want
        R.set_frame_flag(cpu, R.CF, False)

    def _mem_fail(self, cpu, code: int, largest: int | None = None) -> None:
        R.set16(cpu, 0, code)
        if largest is not None:
            R.set16(cpu, 3, largest)
        R.set_frame_flag(cpu, R.CF, True)

    def _gaps(self):
        ends = sorted((s, s + n) for s, n in self.blocks.items())
        for (_, end), (nxt, _) in zip(ends, ends[1:] + [(EBDA_SEG, EBDA_SEG)]):
            if nxt > end:
                yield end, nxt - end

    def _fit(self, paragraphs: int) -> int | None:
        return next((s for s, n in self._gaps() if n >= paragraphs), None)

    def _largest(self) -> int:
        return max((n for _, n in self._gaps()), default=0)

    # ------------------------------------------------------------------ migration
    def vmstate_section(self):
        """The ``dos`` section: the memory blocks, the open files (their bytes travel: the
        destination need not see them), the console's half-typed line, the exit code."""
        from vgaemu.migration.errors import MigrationError
        from vgaemu.migration.vmstate import schema_section

        from .dos_files import MAX_HANDLES, OpenFile

        schema = {"exit_code": "int?", "blocks": [(2, range(0, 0x10000))], "line": "bytes?",
                  "pending_scan": "int?", "con_pending": bytes,
                  "handles": [{"handle": range(0, MAX_HANDLES), "device": "str?",
                               "name": "str?", "data": "bytes?", "pos": int}]}
        files = lambda: self.files   # noqa: E731 - load() replaces the DOSFiles

        def save() -> dict:
            handles = []
            for h, f in sorted(files().handles.items()):
                if isinstance(f, str):
                    handles.append({"handle": h, "device": f, "name": None, "data": None, "pos": 0})
                else:
                    handles.append({"handle": h, "device": None, "name": f.name,
                                    "data": bytes(f.data), "pos": f.pos})
            return {"exit_code": self.exit_code, "blocks": [[s, n] for s, n in sorted(self.blocks.items())],
                    "line": None if self._line is None else bytes(self._line),
                    "pending_scan": self._pending_scan, "con_pending": files()._con_pending,
                    "handles": handles}

        def check(state: dict) -> None:
            if len({h["handle"] for h in state["handles"]}) != len(state["handles"]):
                raise MigrationError("device state 'dos': a file handle appears twice")
            for h in state["handles"]:
                if (h["device"] is None) == (h["data"] is None or h["name"] is None):
                    raise MigrationError(f"device state 'dos': handle {h['handle']} is neither "
                                         "a device nor a file")
            if PSP_SEG not in {s for s, _ in state["blocks"]}:
                raise MigrationError("device state 'dos': the program's own memory block is missing")

        def load(state: dict) -> None:
            self.exit_code = state["exit_code"]
            self.blocks = {s: n for s, n in state["blocks"]}
            self._line = None if state["line"] is None else bytearray(state["line"])
            self._pending_scan = state["pending_scan"]
            f = files()
            f._con_pending = state["con_pending"]
            f.handles = {}
            for h in state["handles"]:
                if h["device"] is not None:
                    f.handles[h["handle"]] = h["device"]
                else:
                    of = OpenFile(h["name"], h["data"])
                    of.pos = h["pos"]
                    f.handles[h["handle"]] = of

        return schema_section("dos", 1, schema, save, load, check)
