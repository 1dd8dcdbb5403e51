"""Scripted guests: a Python ``main(guest)`` drives the machine as a guest program would.

A guest does nothing a real guest could not: port I/O on the I/O address space, loads and
stores through ``address_space_rw`` on the memory address space (so every RAM write marks
the dirty bitmaps exactly as a CPU store does in QEMU), INT 10h calls into the VGA BIOS (which
itself only writes ports and memory), and transfers by the DMA engine. ``frame()`` hands the
machine to the display loop for one 60 Hz frame, like the guest being preempted while the
display refresh timer runs.

Recording (``run_guest(..., recorder=TraceRecorder)``) writes what the guest did in the
oracle trace format (see ``/shared/oracle/README.md``) so the same run replays here and in
real QEMU:

* port I/O as ``outb/outw/outl/inb/inw/inl`` (port reads matter: ``inb 0x3DA`` resets the
  attribute flip-flop);
* memory stores that reach the picture as ``writeb/w/l``, ``write`` and ``fill`` ops, in the
  ``lfb`` form inside the linear framebuffer (QEMU's BAR0 is found at run time) and the
  ``addr`` form in the legacy window 0xA0000-0xBFFFF; stores to RAM elsewhere have no effect
  on the screen by themselves, and whatever reaches the screen from them does so by a DMA
  transfer that is recorded as the stores it caused;
* BIOS calls as ``int10`` ops with the registers passed (not the port writes the BIOS makes);
* frames as ``int`` ops ``{"op": "int", "num": "0x15", "ax": "0x8600", "cx": .., "dx": ..}``:
  INT 15h AH=86h waits CX:DX microseconds, one frame (``FRAME_US``). The trace format has no
  frame op; a ``screendump`` per frame would stop QEMU for a QMP round trip and write one PNG
  per frame. The wait is what a frame *is* to the picture: time passing, which moves the
  cursor and character blink. QEMU waits that long on its virtual clock, ``vgaemu replay``
  advances its clock by the same microseconds, and the live run advances by exactly
  ``FRAME_US`` per frame too, so blink phases agree in all three. The screendump at the end of
  the trace is the last frame. Only when the user asks for periodic screenshots
  (``--screenshot-every K``) are ``screendump`` ops recorded, at those frames, named
  ``frame-NNNNNN`` like the headless front end's files.
* memory reads as ``comment`` ops (``{"op": "comment", "readb": "0xA0000"}``): the format has
  no memory-read op. Reads of RAM and the LFB have no side effect. Reads of the legacy window
  load the VGA latches, which planar drawing depends on (write modes 1-3, the bit mask): in
  a planar BIOS mode the read is also recorded as an INT 10h AH=0Dh read-pixel of the same
  byte, which loads the same latches in QEMU and here, plus the port writes that undo the
  BIOS's register changes (``Guest._latch_load_ops``). In other modes (mode X, text) a
  guest whose picture depends on latches from reads replays with different latches.
"""

from __future__ import annotations

import contextlib

import inspect
import operator
import os
import threading
import time
import weakref
import traceback
import types
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Protocol

import numpy as np

from vgaemu.errors import GuestError
from vgaemu.vga.state import GR_MISC, GR_PLANE_READ, SR_PLANE_WRITE

#: One 60 Hz frame of virtual time, in whole microseconds: what INT 15h AH=86h can wait, so
#: a recorded run and its replay (here or in QEMU) see the same time at every op.
FRAME_US = 16667
#: Guest fills are written in pieces of this many bytes (a multiple of 4); longer reads and
#: fills are checked against the memory map before any buffer is made.
FILL_CHUNK = 1 << 20
LEGACY_WINDOW_START = 0xA0000
LEGACY_WINDOW_END = 0xC0000


class GuestExit(BaseException):
    """Raised inside the guest's ``frame()`` to end the run (frame limit, window closed).

    A BaseException, like ``SystemExit`` and ``GeneratorExit``, so that a guest's own
    ``except Exception`` does not swallow it.
    """


class _ThreadFailure(BaseException):
    """A thread the guest started died of an exception: the run fails with it."""

    def __init__(self, error: BaseException, thread_name: str) -> None:
        super().__init__(error)
        self.error = error
        self.thread_name = thread_name


class _SinkFailure(BaseException):
    """Carries a front end's exception out through the guest's code untouched (a guest's
    ``except Exception`` must not swallow it, and it is not the guest's fault)."""

    def __init__(self, error: BaseException) -> None:
        super().__init__(error)
        self.error = error


#: How long run_guest waits, after main() returned, for the threads the guest started.
THREAD_GRACE_SECONDS = 1.0
#: Non-daemon guest threads that outlived their run (reported as a GuestError): the CLI
#: leaves without waiting for these, and only these.
_abandoned: "weakref.WeakSet[threading.Thread]" = weakref.WeakSet()


def abandoned_threads() -> list[threading.Thread]:
    """Guest threads still running after their run_guest() reported them."""
    return [t for t in _abandoned if t.is_alive()]


class GuestThreads:
    """The threads a guest starts during a run, watched as QEMU watches its vCPU threads:
    an exception that ends one is the guest's failure (reported at the guest's next frame()
    and when main returns), not a traceback on stderr and a run that "succeeded"; and a
    non-daemon thread still running after main() returned is an error, not a hung exit.

    Works through ``threading.excepthook``, restored when the run ends; threads that
    existed before the run keep the previous hook.
    """

    def __init__(self) -> None:
        self._before = set(threading.enumerate())
        self.failure: tuple[BaseException, str] | None = None
        self._lock = threading.Lock()
        self._previous = None

    def __enter__(self) -> "GuestThreads":
        self._previous = threading.excepthook
        threading.excepthook = self._hook
        return self

    def __exit__(self, *exc) -> None:
        if threading.excepthook == self._hook:
            threading.excepthook = self._previous

    def _hook(self, args) -> None:
        thread = args.thread
        if thread is None or thread in self._before or args.exc_type is SystemExit:
            self._previous(args)
            return
        with self._lock:
            if self.failure is None:
                self.failure = (args.exc_value, thread.name)

    def started(self) -> list[threading.Thread]:
        return [t for t in threading.enumerate() if t not in self._before and t.is_alive()]

    def lingering(self, grace: float) -> list[threading.Thread]:
        """Non-daemon threads of the guest still alive after waiting up to ``grace`` s."""
        deadline = time.monotonic() + grace
        alive = [t for t in self.started() if not t.daemon]
        for t in alive:
            t.join(max(0.0, deadline - time.monotonic()))
        return [t for t in alive if t.is_alive()]


@dataclass(frozen=True, slots=True)
class FrameInfo:
    index: int
    stats: Any  # vgaemu.vga.display.UpdateStats
    update_seconds: float


class FrameSink(Protocol):
    def frame(self, machine, info: FrameInfo) -> None: ...

    def keys(self) -> list[int]: ...


@dataclass(frozen=True, slots=True)
class RunResult:
    frames: int  # display updates run
    stopped: str  # "returned" (main ended), "max_frames", or "quit" (the front end ended it)
    wall_seconds: float
    update_seconds: float  # time spent in vga.update_display()


class NullSink:
    """A sink that watches nothing: for running a guest only for its effect on the machine."""

    def frame(self, machine, info: FrameInfo) -> None:
        pass

    def keys(self) -> list[int]:
        return []


def _hexnum(v: int) -> str:
    return f"0x{v:X}"


def _int(op: str, what: str, v) -> int:
    """``v`` as a Python int (numpy integers included, as guests compute with numpy), or a
    GuestError naming the call and the argument."""
    try:
        return operator.index(v)
    except TypeError:
        raise GuestError(f"{op}: {what} must be an integer, got {v!r}") from None


def _check_port(op: str, port, size: int) -> int:
    if isinstance(port, bool) or not isinstance(port, (int, np.integer)) \
            or not 0 <= port <= 0x10000 - size:
        raise GuestError(f"{op}: port {port!r} is outside the I/O space 0..0x{0x10000 - size:X}")
    return int(port)


class Guest:
    """The handle ``main(guest)`` receives. See the module docstring for what is recorded."""

    def __init__(self, machine, sink: FrameSink | None = None, *, recorder=None, max_frames: int | None = None,
                 force_full: bool = False, screendump_every: int | None = None) -> None:
        self.machine = machine
        self.sink = sink if sink is not None else NullSink()
        self.max_frames = max_frames
        self.force_full = force_full
        self.frame_index = 0
        self.update_seconds = 0.0
        self._mem = machine.address_space_memory
        self._io = machine.address_space_io
        self._recorder = recorder
        self._screendump_every = screendump_every
        self._dirty_since_frame = False
        self._bios = None
        self._dma = None
        self._threads: GuestThreads | None = None
        self.lfb_base = machine.vga.lfb_addr
        self.lfb_size = int(machine.vga.state.vram_size)

    # ---- recording ----------------------------------------------------------------------

    def _record(self, op: dict) -> None:
        if self._recorder is not None:
            self._recorder.record(op)

    def _target(self, addr: int, length: int) -> dict | None:
        """The trace address field for a store to [addr, addr+length), or None when the store
        cannot affect the picture (plain RAM, device registers)."""
        if self.lfb_base <= addr and addr + length <= self.lfb_base + self.lfb_size:
            return {"lfb": _hexnum(addr - self.lfb_base)}
        if LEGACY_WINDOW_START <= addr and addr + length <= LEGACY_WINDOW_END:
            return {"addr": _hexnum(addr)}
        return None

    def _record_store(self, op: str, addr: int, length: int, **fields) -> None:
        if self._recorder is None:
            return
        where = self._target(addr, length)
        if where is not None:
            self._record({"op": op, **where, **fields})

    def _record_dma_write(self, addr: int, data: bytes) -> None:
        self._record_store("write", addr, len(data), data=data.hex())

    def _record_dma_fill(self, addr: int, length: int, value: int, unit: int) -> None:
        self._record_store("fill", addr, length, len=_hexnum(length), val=_hexnum(value), unit=unit)

    # ---- port I/O -------------------------------------------------------------------------

    def _out(self, op: str, size: int, port: int, val: int) -> None:
        port = _check_port(op, port, size)
        val = _int(op, "value", val) & ((1 << (8 * size)) - 1)
        self._dirty_since_frame = True
        self._check(self._io.write(port, val.to_bytes(size, "little")), op, port, size, space="port")
        self._record({"op": op, "port": _hexnum(port), "val": _hexnum(val)})

    def _in(self, op: str, size: int, port: int) -> int:
        port = _check_port(op, port, size)
        buf = bytearray(size)
        self._check(self._io.read(port, buf), op, port, size, space="port")
        self._record({"op": op, "port": _hexnum(port)})
        return int.from_bytes(buf, "little")

    def outb(self, port: int, val: int) -> None:
        self._out("outb", 1, port, val)

    def outw(self, port: int, val: int) -> None:
        self._out("outw", 2, port, val)

    def outl(self, port: int, val: int) -> None:
        self._out("outl", 4, port, val)

    def inb(self, port: int) -> int:
        return self._in("inb", 1, port)

    def inw(self, port: int) -> int:
        return self._in("inw", 2, port)

    def inl(self, port: int) -> int:
        return self._in("inl", 4, port)

    # ---- memory ---------------------------------------------------------------------------

    def write(self, addr: int, data) -> None:
        """Store bytes (bytes-like or any numpy array, in C order) at guest-physical ``addr``."""
        addr = _int("write", "address", addr)
        if isinstance(data, np.ndarray):
            data = np.ascontiguousarray(data).view(np.uint8).reshape(-1)
        else:
            try:
                data = np.frombuffer(data, dtype=np.uint8)
            except (TypeError, ValueError) as e:
                raise GuestError(f"write at 0x{addr:X}: data must be bytes-like or a numpy "
                                 f"array, got {type(data).__name__} ({e})") from None
        self._dirty_since_frame = True
        self._check(self._mem.write(addr, data), "write", addr, len(data))
        if self._recorder is not None:
            self._record_store("write", addr, len(data), data=data.tobytes().hex())

    def _check_range(self, op: str, addr: int, n: int) -> None:
        """Before allocating anything for a long access: every byte must have a region, as the
        access itself would find out only after a buffer of ``n`` bytes existed."""
        from vgaemu.dma import first_unassigned

        if isinstance(n, bool) or not isinstance(n, int) or n < 0:
            raise GuestError(f"{op} at 0x{addr:X}: length must be an integer >= 0, got {n!r}")
        if n > FILL_CHUNK:
            bad = first_unassigned(self._mem, addr, n)
            if bad is not None:
                raise GuestError(f"{op} of {n} byte(s) at address 0x{addr:X} failed: "
                                 f"DECODE_ERROR at 0x{bad:X} (no RAM or device answers there)")

    def read(self, addr: int, n: int) -> bytes:
        addr, n = _int("read", "address", addr), _int("read", "length", n)
        self._check_range("read", addr, n)
        buf = bytearray(n)
        self._check(self._mem.read(addr, buf), "read", addr, n)
        self._record_read("read", addr, n)
        return bytes(buf)

    def fill(self, addr: int, n: int, value: int, unit: int = 1) -> None:
        """``rep stos``: ``n`` bytes of ``value`` repeated in ``unit``-byte (1, 2, 4) pieces."""
        addr, n = _int("fill", "address", addr), _int("fill", "length", n)
        value, unit = _int("fill", "value", value), _int("fill", "unit", unit)
        if unit not in (1, 2, 4) or n % unit:
            raise GuestError(f"fill at 0x{addr:X}: unit must be 1, 2 or 4 and divide len={n} (got unit={unit})")
        value &= (1 << (8 * unit)) - 1
        self._check_range("fill", addr, n)
        pattern = np.frombuffer(value.to_bytes(unit, "little"), dtype=np.uint8)
        chunk = min(n, FILL_CHUNK)
        data = np.tile(pattern, chunk // unit)
        self._dirty_since_frame = True
        for pos in range(0, n, chunk):  # in pieces: memory stays bounded whatever n is
            piece = data if n - pos >= chunk else data[:n - pos]
            self._check(self._mem.write(addr + pos, piece), "fill", addr + pos, len(piece))
        self._record_store("fill", addr, n, len=_hexnum(n), val=_hexnum(value), unit=unit)

    def _store(self, op: str, size: int, addr: int, val: int) -> None:
        addr = _int(op, "address", addr)
        val = _int(op, "value", val) & ((1 << (8 * size)) - 1)
        self._dirty_since_frame = True
        self._check(self._mem.write(addr, val.to_bytes(size, "little")), op, addr, size)
        self._record_store(op, addr, size, val=_hexnum(val))

    def writeb(self, addr: int, val: int) -> None:
        self._store("writeb", 1, addr, val)

    def writew(self, addr: int, val: int) -> None:
        self._store("writew", 2, addr, val)

    def writel(self, addr: int, val: int) -> None:
        self._store("writel", 4, addr, val)

    def _load(self, op: str, size: int, addr: int) -> int:
        addr = _int(op, "address", addr)
        buf = bytearray(size)
        self._check(self._mem.read(addr, buf), op, addr, size)
        self._record_read(op, addr, size)
        return int.from_bytes(buf, "little")

    def readb(self, addr: int) -> int:
        return self._load("readb", 1, addr)

    def readw(self, addr: int) -> int:
        return self._load("readw", 2, addr)

    def readl(self, addr: int) -> int:
        return self._load("readl", 4, addr)

    def _record_read(self, op: str, addr: int, n: int) -> None:
        if self._recorder is None or self._target(addr, n) is None:
            return
        latch_ops = self._latch_load_ops(addr + n - 1) if LEGACY_WINDOW_START <= addr < LEGACY_WINDOW_END else None
        self._record({"op": "comment", op: _hexnum(addr), "len": n,
                      **({"as": "int10 AH=0Dh"} if latch_ops else {})})
        for o in latch_ops or ():
            self._record(o)

    def _latch_load_ops(self, addr: int) -> list[dict] | None:
        """Trace ops that load the VGA latches from ``addr`` as a read of it does.

        The trace format has no memory read, but in a planar BIOS mode INT 10h AH=0Dh (read
        pixel) reads the byte at y * linelength + x / 8 of every plane (SeaVGABIOS
        ``gfx_planar`` GO_READ8), which leaves the latches holding that byte's four planes,
        exactly as the guest's read did. The BIOS leaves map mask 0x0F and read map 0 and the
        sequencer/graphics index registers at 2 and 4: the ops after it put the guest's values
        back. Elsewhere (text, packed, VBE) None: the read stays a comment.
        """
        from vgaemu.bios.data import MM_PLANAR

        st = self.machine.vga.state
        if st.vbe_enabled() or (st.gr[GR_MISC] >> 2) & 3 not in (0, 1):
            return None
        try:
            vmode = self.bios.current_mode()
        except Exception:
            return None
        if vmode is None or vmode.memmodel != MM_PLANAR:
            return None
        off = addr - LEGACY_WINDOW_START
        linelength = self.bios.hw_get_linelength(vmode)
        if linelength <= 0 or off >= 0x10000 or (off // linelength) > 0xFFFF:
            return None
        y, x = divmod(off, linelength)
        return [
            {"op": "int10", "ax": "0xD00", "bx": "0x0", "cx": _hexnum(x * 8), "dx": _hexnum(y)},
            {"op": "outw", "port": "0x3C4", "val": _hexnum(st.sr[SR_PLANE_WRITE] << 8 | 0x02)},
            {"op": "outw", "port": "0x3CE", "val": _hexnum(st.gr[GR_PLANE_READ] << 8 | 0x04)},
            {"op": "outb", "port": "0x3C4", "val": _hexnum(st.sr_index)},
            {"op": "outb", "port": "0x3CE", "val": _hexnum(st.gr_index)},
        ]

    @staticmethod
    def _check(res, op: str, addr: int, n: int, space: str = "address") -> None:
        if res:
            from guestmem.address_space import MemTxResult

            name = MemTxResult(int(res)).name or str(int(res))
            hint = " (no RAM or device answers there)" if "DECODE" in name else ""
            raise GuestError(f"{op} of {n} byte(s) at {space} 0x{addr:X} failed: {name}{hint}")

    # ---- BIOS -----------------------------------------------------------------------------

    @property
    def bios(self):
        if self._bios is None:
            from vgaemu.bios import VGABios

            bios = getattr(self.machine, "bios", None)   # the machine's own, where it has one
            self._bios = bios if isinstance(bios, VGABios) else VGABios(self.machine)
        return self._bios

    def int10(self, **regs: int):
        """INT 10h with the given registers (ax, bx, cx, dx, si, di, bp, es); returns them
        as the BIOS left them (``Registers``)."""
        from vgaemu.bios import Registers

        bad = set(regs) - {"ax", "bx", "cx", "dx", "si", "di", "bp", "es"}
        if bad or "ax" not in regs:
            raise GuestError(f"int10 needs ax and takes only ax bx cx dx si di bp es, got {sorted(regs)}")
        regs = {k: _int("int10", k, v) & 0xFFFF for k, v in regs.items()}
        self._dirty_since_frame = True
        self._record({"op": "int10", **{k: _hexnum(v) for k, v in regs.items()}})
        return self.bios.int10(Registers(**regs))

    def set_mode(self, mode: int) -> None:
        """INT 10h AH=00h: a standard mode (bit 7 set keeps video memory).

        The BIOS ignores a mode it does not have, and so would a typo here (``set_mode(0x31)``)
        or a VBE mode number (``set_mode(0x118)``, whose low byte AL would be taken): both are
        a GuestError instead, as ``vbe_set_mode`` reports a mode the BIOS refused."""
        mode = _int("set_mode", "mode", mode)
        if not 0 <= mode <= 0xFF:
            hint = f"; for a VBE mode use vbe_set_mode(0x{mode:X})" if 0x100 <= mode <= 0x1FF else ""
            raise GuestError(f"set_mode({mode!r}): INT 10h AH=00h takes a mode 0x00-0x7F "
                             f"(bit 7 keeps video memory){hint}")
        if self.bios.find_mode(mode & 0x7F) is None:
            raise GuestError(f"mode 0x{mode & 0x7F:02X} not set: the VGA BIOS has no such "
                             "standard mode (INT 10h AH=00h ignores it)")
        self.int10(ax=mode)

    def vbe_set_mode(self, mode: int, lfb: bool = True, clear: bool = True) -> None:
        """INT 10h AX=4F02h: a VBE mode (e.g. 0x118 = 1024x768x32 in SeaVGABIOS's list)."""
        mode = _int("vbe_set_mode", "mode", mode)
        bx = (mode & 0x1FF) | (0x4000 if lfb else 0) | (0 if clear else 0x8000)
        res = self.int10(ax=0x4F02, bx=bx)
        if res is not None and getattr(res, "ax", 0x004F) != 0x004F:
            raise GuestError(f"VBE mode 0x{mode:X} not set: BIOS returned AX=0x{res.ax:04X}")

    def set_cursor(self, row: int, col: int, page: int = 0) -> None:
        row, col, page = (_int("set_cursor", n, v) & 0xFF
                          for n, v in (("row", row), ("col", col), ("page", page)))
        self.int10(ax=0x0200, bx=page << 8, dx=(row << 8) | col)

    def set_cursor_shape(self, start: int, end: int, visible: bool = True) -> None:
        """INT 10h AH=01h: cursor scanlines ``start``..``end`` (CH bit 5 hides the cursor)."""
        start, end = _int("set_cursor_shape", "start", start), _int("set_cursor_shape", "end", end)
        self.int10(ax=0x0100, cx=((start & 0x1F) | (0 if visible else 0x20)) << 8 | (end & 0x1F))

    def hide_cursor(self) -> None:
        self.set_cursor_shape(0, 0, visible=False)

    def load_font(self, height: int = 16, block: int = 0) -> None:
        """INT 10h AX=1111h/1112h/1114h: the ROM 8x14/8x8/8x16 font, re-programming the text
        rows (80x28, 80x50, 80x25 in mode 3)."""
        al = {14: 0x11, 8: 0x12, 16: 0x14}.get(height)
        if al is None:
            raise GuestError(f"load_font: height must be 8, 14 or 16, not {height}")
        self.int10(ax=0x1100 | al, bx=_int("load_font", "block", block) & 0xFF)

    def set_palette(self, index: int, r: int, g: int, b: int) -> None:
        """INT 10h AX=1010h: one DAC entry, 6-bit components."""
        index, r, g, b = (_int("set_palette", n, v)
                          for n, v in (("index", index), ("r", r), ("g", g), ("b", b)))
        self.int10(ax=0x1010, bx=index & 0xFF, cx=((g & 0x3F) << 8) | (b & 0x3F), dx=(r & 0x3F) << 8)

    def set_dac(self, start: int, colours) -> None:
        """Program DAC entries ``start``.. directly through ports 0x3C8/0x3C9, as demos do
        every frame; ``colours`` is an (N, 3) array of 6-bit R, G, B."""
        start = _int("set_dac", "start", start)
        try:
            rgb = np.asarray(colours, dtype=np.int64).reshape(-1, 3) & 0x3F
        except (TypeError, ValueError, OverflowError) as e:
            raise GuestError(f"set_dac: colours must be (N, 3) integers, got {colours!r:.60} "
                             f"({e})") from None
        self.outb(0x3C8, start & 0xFF)
        for v in rgb.reshape(-1).tolist():
            self.outb(0x3C9, v)

    # ---- DMA -----------------------------------------------------------------------------

    @property
    def dma(self):
        """The DMA engine's driver: ``copy``, ``blit``, ``fill``, ``fill_rect`` (vgaemu.dma)."""
        if self._dma is None:
            from vgaemu import dma

            engine = dma.attach(self.machine)
            if self._recorder is not None:
                engine.write_hook = self._record_dma_write
                engine.fill_hook = self._record_dma_fill
            self._dma = dma.DMADriver(self._mem, engine.base, error_type=GuestError, engine=engine)
        self._dirty_since_frame = True
        return self._dma

    # ---- frames and input -----------------------------------------------------------------

    def frame(self) -> FrameInfo:
        """Let the display loop run one frame; raises GuestExit once the run should end."""
        machine = self.machine
        threads = self._threads
        if threads is not None and threads.failure is not None:
            raise _ThreadFailure(*threads.failure)
        if self.max_frames is not None and self.frame_index >= self.max_frames:
            raise GuestExit("frame limit")
        # Between guest steps: posted QMP/migration work runs, `stop` waits here.
        run_pending = getattr(machine, "run_pending", None)
        if run_pending is not None and not run_pending():
            raise GuestExit("quit")
        machine.clock.advance(FRAME_US * 1000)
        vga = machine.vga
        if self.force_full:
            vga.invalidate()
        t0 = time.perf_counter()
        stats = vga.update_display()
        dt = time.perf_counter() - t0
        machine.last_update = stats
        self.update_seconds += dt
        self.frame_index += 1
        self._dirty_since_frame = False
        info = FrameInfo(self.frame_index, stats, dt)
        if self._recorder is not None:
            self._record({"op": "int", "num": "0x15", "ax": "0x8600",
                          "cx": _hexnum(FRAME_US >> 16), "dx": _hexnum(FRAME_US & 0xFFFF)})
            if self._screendump_every and self.frame_index % self._screendump_every == 0:
                self._record({"op": "screendump", "name": f"frame-{self.frame_index:06d}"})
        try:
            self.sink.frame(machine, info)
        except (GuestExit, _SinkFailure):
            raise
        except Exception as exc:
            raise _SinkFailure(exc) from exc
        if self.max_frames is not None and self.frame_index >= self.max_frames:
            raise GuestExit("frame limit")
        return info

    def keys(self) -> list[int]:
        """Key codes (pygame) pressed since the last call; always [] headless."""
        return list(self.sink.keys())

    @property
    def vga(self):
        return self.machine.vga


# ---- scripts ----------------------------------------------------------------------------


def load_script(path) -> Callable:
    """Load a guest script and return its ``main``; errors name the file and line.

    ``path`` is a file, or the name of a shipped demo (``"plasma"``) as on the command line."""
    path = Path(path)
    if not path.is_file() and len(path.parts) == 1:
        from vgaemu.demos import demo_path

        path = demo_path(path.name) or path
    try:
        source = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        from vgaemu.demos import demo_names

        raise GuestError(f"guest script not found: {path} (not a file, nor a demo: "
                         f"{', '.join(demo_names())})") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise GuestError(f"cannot read guest script {path}: {exc}") from None
    try:
        code = compile(source, str(path), "exec")
    except SyntaxError as exc:
        raise GuestError(f"{path}:{exc.lineno}: syntax error: {exc.msg}") from None
    module = types.ModuleType(f"vgaemu_guest_{path.stem}")
    module.__file__ = str(path)
    try:
        exec(code, module.__dict__)
    except Exception as exc:
        raise GuestError(_describe(exc, path, "while loading")) from None
    main = module.__dict__.get("main")
    if not callable(main):
        raise GuestError(f"{path}: defines no main(guest) function")
    main.__vgaemu_script__ = str(path)
    options = module.__dict__.get("MACHINE", {})
    if not isinstance(options, dict) or set(options) - MACHINE_OPTION_NAMES:
        raise GuestError(f"{path}: MACHINE must be a dict with keys from {sorted(MACHINE_OPTION_NAMES)}, "
                         f"got {options!r}")
    main.__vgaemu_machine__ = dict(options)
    return main


#: What a script's ``MACHINE = {...}`` may ask for (the machine options of the CLI).
MACHINE_OPTION_NAMES = frozenset({"memory", "vram", "objects", "devices", "compat", "qemu_compat"})


def machine_options(main) -> dict:
    """The machine a script asks for (``MACHINE = {"memory": "64M,slots=2,maxmem=1G"}``); the
    CLI and the demo tests build the machine from it, command-line options override it."""
    return dict(getattr(main, "__vgaemu_machine__", {}))


def _describe(exc: BaseException, path, when: str) -> str:
    """``FILE:LINE: ExcType: message`` at the deepest frame inside the guest script."""
    where = str(path) if path else None
    line = None
    for fs in traceback.extract_tb(exc.__traceback__):
        if where is None or os.path.abspath(fs.filename) == os.path.abspath(where):
            line = fs.lineno
            where = fs.filename
    msg = f"{type(exc).__name__}: {exc}"
    if isinstance(exc, GuestError):
        msg = str(exc)
    if where is not None and line is not None:
        return f"{where}:{line}: {msg} ({when})" if when != "running" else f"{where}:{line}: {msg}"
    return f"{path}: {msg} ({when})" if path else msg


def idle_hook(machine, sink):
    """A context that makes ``sink.idle(machine)`` the main loop's idle hook while the
    machine is stopped (a front end with an event loop, such as the window); a no-op for
    sinks without one."""
    idle = getattr(sink, "idle", None)
    loop = getattr(machine, "loop", None)
    if idle is None or loop is None or not hasattr(loop, "idle_hook"):
        return contextlib.nullcontext()
    return loop.idle_hook(lambda: idle(machine))


def run_guest(machine, main: Callable, sink: FrameSink | None = None, *, max_frames: int | None = None,
              force_full: bool = False, recorder=None, screendump_every: int | None = None) -> RunResult:
    """Run ``main(guest)`` until it returns, ``max_frames`` frames ran, or the sink quits.

    A generator ``main`` runs one frame per ``yield``. When ``main`` returns having changed
    the machine since its last frame (or never having run one), one more frame is run so the
    front end shows its final picture, as QEMU's screendump redraws before it saves.
    """
    guest = Guest(machine, sink, recorder=recorder, max_frames=max_frames, force_full=force_full,
                  screendump_every=screendump_every)
    script = getattr(main, "__vgaemu_script__", None) or getattr(getattr(main, "__code__", None), "co_filename", None)
    t0 = time.perf_counter()
    stopped = "returned"
    driving = machine.driving() if hasattr(machine, "driving") else contextlib.nullcontext()
    idle = idle_hook(machine, sink)
    with GuestThreads() as threads, idle:
        guest._threads = threads
        try:
            try:
                with driving:
                    result = main(guest)
                    if inspect.isgenerator(result):
                        for _ in result:
                            guest.frame()
                    if guest._dirty_since_frame or guest.frame_index == 0:
                        guest.frame()
            except GuestExit:
                limit = guest.max_frames is not None and guest.frame_index >= guest.max_frames
                stopped = "max_frames" if limit else "quit"
            except SystemExit as exc:  # sys.exit() in a guest: exit(0) ends it as a return would
                if exc.code not in (None, 0):
                    raise
            lingering = threads.lingering(THREAD_GRACE_SECONDS)
            if threads.failure is not None:
                raise _ThreadFailure(*threads.failure)
        except _SinkFailure as failure:
            raise failure.error
        except _ThreadFailure as failure:
            raise GuestError(_describe(failure.error, script, "running")
                             + f" (in guest thread {failure.thread_name!r})") from None
        except GuestError as exc:
            raise GuestError(_describe(exc, script, "running")) from None
        except (KeyboardInterrupt, GuestExit):
            raise
        except BaseException as exc:  # a guest's own BaseException subclass, SystemExit(1), ...
            raise GuestError(_describe(exc, script, "running")) from exc
        finally:
            guest._threads = None
            # whatever failed, a non-daemon thread left running would hang the exit
            _abandoned.update(t for t in threads.started() if not t.daemon)
    if lingering:
        names = ", ".join(repr(t.name) for t in lingering)
        raise GuestError(f"{script or 'guest'}: guest thread(s) {names} still running "
                         f"{THREAD_GRACE_SECONDS:g} s after main() returned (join them, or "
                         "make them daemon threads)")
    return RunResult(guest.frame_index, stopped, time.perf_counter() - t0, guest.update_seconds)
