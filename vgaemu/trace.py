"""Guest traces: read, validate, replay on a :class:`vgaemu.Machine`, and record.

The format is the QEMU oracle's (``../shared/oracle/README.md``), so one trace runs in real
QEMU (``oracle.py TRACE OUT.png``) and here (``vgaemu replay TRACE --screenshot OUT.png``) and
the two screenshots can be compared pixel for pixel:

* a JSON list of ops, a JSON object ``{"ops": [...]}``, or JSON lines (one op per line; lines
  starting with ``#`` or ``//`` are skipped);
* integers are JSON numbers or strings such as ``"0x3C8"``;
* ops: ``outb/outw/outl`` (port, val), ``inb/inw/inl`` (port), ``writeb/writew/writel``
  (addr or lfb, val), ``fill`` (addr or lfb, len, val, unit 1/2/4), ``write`` (addr or lfb,
  hex data), ``int10`` (ax + optional bx cx dx si di bp es), ``int`` (num + registers),
  ``screendump`` (optional name), ``halt``, ``comment`` (anything);
* ``addr`` must be at least 0xA0000 (the oracle's loader lives below), may not straddle
  1 MiB or 4 GiB; ``lfb`` is an offset into the linear framebuffer (QEMU's BAR0).

A trace is parsed and validated completely before the first op runs, so a bad trace changes
nothing and the error names the op's index and what is wrong (:class:`TraceError`), exactly
where the oracle would refuse it too.
"""

from __future__ import annotations

import contextlib

import json
import os
import reprlib
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

from vgaemu.errors import TraceError, VGAEmuError

#: Below this the oracle keeps its loader, stack and code, so traces may not store there.
MIN_GUEST_ADDR = 0xA0000
#: The registers an ``int``/``int10`` op may set (the oracle's REG_NAMES).
REG_NAMES = ("ax", "bx", "cx", "dx", "si", "di", "bp", "es")

_OUT_SIZES = {"outb": 1, "outw": 2, "outl": 4}
_IN_SIZES = {"inb": 1, "inw": 2, "inl": 4}
_STORE_SIZES = {"writeb": 1, "writew": 2, "writel": 4}
OP_KINDS = frozenset({*_OUT_SIZES, *_IN_SIZES, *_STORE_SIZES, "fill", "write", "int10", "int",
                      "screendump", "snapshot", "halt", "comment", "nop"})


# ---------------------------------------------------------------------------------------------
# Op records
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class TraceOp:
    """One validated op. ``index`` is its position in the trace as written (comments count),
    so error messages and reports point at the line a person reads."""

    index: int
    kind: str  # out, in, store, fill, write, int, screendump
    size: int = 0  # access size for out/in/store, unit for fill
    port: int = 0
    val: int = 0
    addr: int = 0  # guest-physical address, or the LFB offset when ``lfb``
    lfb: bool = False
    length: int = 0
    data: bytes = b""
    num: int = 0  # interrupt vector
    regs: tuple[tuple[str, int], ...] = ()
    name: str = ""
    op: str = ""  # the op as written (outw, writel, int10, ...)

    @property
    def where(self) -> str:
        return f"op #{self.index} ({self.op or self.kind})"


@dataclass(frozen=True, slots=True)
class Trace:
    """A parsed trace: the ops to run (comments dropped, nothing after ``halt``)."""

    ops: tuple[TraceOp, ...]
    source: str = "<trace>"
    ignored_after_halt: int = 0

    @property
    def screendump_names(self) -> list[str]:
        return [op.name for op in self.ops if op.kind == "screendump"]


#: A ``fill`` op is written in pieces of at most this many bytes (a multiple of 4).
FILL_CHUNK = 1 << 20
#: Longest screendump name: ``OUT-<name>.png`` must stay a legal file name (NAME_MAX 255).
MAX_DUMP_NAME = 200

_brief_repr = reprlib.Repr()
_brief_repr.maxlevel = 3
_brief_repr.maxstring = 40
_brief_repr.maxother = 40
_brief_repr.maxlong = 40


def _brief(v: Any) -> str:
    """A short repr for error messages: bounded in length and depth, whatever a trace holds."""
    return _brief_repr.repr(v)


def _hex(v: int) -> str:
    """A value as an error message shows it (0x.. or a small negative number), shortened when
    huge: a trace may hold a 5,000-digit number, and Python refuses to print those in decimal."""
    if -(1 << 64) < v < 0:
        return str(v)
    text = f"{abs(v):X}"
    if len(text) > 20:
        text = f"{text[:8]}...({len(text)} hex digits)"
    return ("-0x" if v < 0 else "0x") + text


def _to_int(v: Any, what: str) -> int:
    """The oracle's number rule: JSON integers or strings in Python's base-0 syntax."""
    if isinstance(v, bool):
        raise TraceError(f"{what}: expected an integer, got {_brief(v)}")
    if isinstance(v, int):
        return v
    if isinstance(v, str):
        try:
            return int(v.strip(), 0)
        except ValueError:
            raise TraceError(f"{what}: expected an integer such as 42 or \"0x3C8\", got {_brief(v)}") from None
    raise TraceError(f"{what}: expected an integer, got {_brief(v)}")


def _valid_name(name: str) -> bool:
    return 0 < len(name) <= MAX_DUMP_NAME and name.replace("-", "").replace("_", "").replace(".", "").isalnum()


def parse_op(raw: Any, index: int, snap_count: int = 0) -> TraceOp | None:
    """Validate one raw op (a dict). Returns None for ops that do nothing (comment, nop) and
    a ``TraceOp`` with kind ``halt`` for halt. ``snap_count`` numbers unnamed screendumps."""
    if not isinstance(raw, dict) or "op" not in raw:
        raise TraceError(f"op #{index}: expected an object with \"op\", got {_brief(raw)}")
    kind = raw["op"]
    if not isinstance(kind, str) or kind not in OP_KINDS:
        raise TraceError(f"op #{index} ({_brief(kind)}): unknown op; expected one of "
                         f"{', '.join(sorted(OP_KINDS - {'snapshot', 'nop'}))}")
    where = f"op #{index} ({kind})"

    def num(key: str, lo: int = 0, hi: int = 0xFFFFFFFF, default: int | None = None) -> int:
        if key not in raw:
            if default is not None:
                return default
            raise TraceError(f"{where}: missing \"{key}\"")
        v = _to_int(raw[key], f"{where}: {key}")
        if not lo <= v <= hi:
            raise TraceError(f"{where}: {key}={_hex(v)} out of range 0x{lo:X}..0x{hi:X}")
        return v

    def target(length: int) -> tuple[int, bool]:
        if "lfb" in raw:
            off = num("lfb")
            if off + length > 0x100000000:
                raise TraceError(f"{where}: lfb range 0x{off:X}+{length} crosses 4 GiB")
            return off, True
        a = num("addr")
        if a < MIN_GUEST_ADDR:
            raise TraceError(f"{where}: addr 0x{a:X} is below 0x{MIN_GUEST_ADDR:X} "
                             "(reserved for the oracle's loader; use the VGA window or the LFB)")
        if a < 0x100000 < a + length:
            raise TraceError(f"{where}: range 0x{a:X}..0x{a + length - 1:X} crosses 1 MiB; split it")
        if a + length > 0x100000000:
            raise TraceError(f"{where}: range 0x{a:X}+{length} crosses 4 GiB")
        return a, False

    if kind in ("comment", "nop"):
        return None
    if kind == "halt":
        return TraceOp(index, op=kind, kind="halt")
    if kind in _OUT_SIZES:
        size = _OUT_SIZES[kind]
        return TraceOp(index, op=kind, kind="out", size=size, port=num("port", 0, 0xFFFF),
                       val=num("val", 0, (1 << (8 * size)) - 1))
    if kind in _IN_SIZES:
        return TraceOp(index, op=kind, kind="in", size=_IN_SIZES[kind], port=num("port", 0, 0xFFFF))
    if kind in _STORE_SIZES:
        size = _STORE_SIZES[kind]
        a, lfb = target(size)
        return TraceOp(index, op=kind, kind="store", size=size, addr=a, lfb=lfb,
                       val=num("val", 0, (1 << (8 * size)) - 1))
    if kind == "fill":
        unit = num("unit", 1, 4, default=1)
        if unit not in (1, 2, 4):
            raise TraceError(f"{where}: unit must be 1, 2 or 4, got {unit}")
        length = num("len", 0, 0xFFFFFFFF)
        if length % unit:
            raise TraceError(f"{where}: len={length} is not a multiple of unit={unit}")
        val = num("val", 0, (1 << (8 * unit)) - 1)
        a, lfb = target(length)
        return TraceOp(index, op=kind, kind="fill", size=unit, addr=a, lfb=lfb, length=length, val=val)
    if kind == "write":
        data = raw.get("data")
        if not isinstance(data, str):
            raise TraceError(f"{where}: \"data\" must be a hex string, got {_brief(data)}")
        try:
            blob = bytes.fromhex(data)
        except ValueError:
            raise TraceError(f"{where}: \"data\" is not a hex string (even number of 0-9a-f digits)") from None
        a, lfb = target(len(blob))
        return TraceOp(index, op=kind, kind="write", addr=a, lfb=lfb, length=len(blob), data=blob)
    if kind in ("int10", "int"):
        n = 0x10 if kind == "int10" else num("num", 0, 0xFF)
        regs = tuple((r, num(r, 0, 0xFFFF)) for r in REG_NAMES if r in raw)
        if "ax" not in raw:
            raise TraceError(f"{where}: missing \"ax\"")
        return TraceOp(index, op=kind, kind="int", num=n, regs=regs)
    # screendump / snapshot
    name = raw.get("name", snap_count + 1)
    if isinstance(name, bool) or not isinstance(name, (str, int)) or \
            (isinstance(name, int) and not 0 <= name < 10 ** MAX_DUMP_NAME):
        raise TraceError(f"{where}: name must be a string or a number >= 0, got {_brief(name)}")
    name = str(name)
    if not _valid_name(name):
        raise TraceError(f"{where}: name {_brief(name)} must be alphanumeric (plus - _ .), "
                         f"1 to {MAX_DUMP_NAME} characters")
    return TraceOp(index, op=kind, kind="screendump", name=name)


def parse_ops(raw_ops: Iterable[Any], source: str = "<trace>") -> Trace:
    """Validate every op; raise TraceError (prefixed by ``source``) at the first bad one."""
    ops: list[TraceOp] = []
    snaps = 0
    raw_list = list(raw_ops)
    ignored = 0
    for i, raw in enumerate(raw_list):
        try:
            op = parse_op(raw, i, snaps)
            if op is not None and op.kind == "int":
                _check_supported_int(op)
        except TraceError as e:
            raise TraceError(f"{source}: {e}") from None
        if op is None:
            continue
        if op.kind == "halt":
            ignored = len(raw_list) - i - 1
            break
        if op.kind == "screendump":
            # A repeated name is allowed, as in the oracle: the later dump overwrites the file.
            snaps += 1
        ops.append(op)
    return Trace(tuple(ops), source, ignored)


def _check_supported_int(op: TraceOp) -> None:
    regs = dict(op.regs)
    if op.num == 0x10:
        return
    if op.num == 0x15 and (regs["ax"] >> 8) == 0x86:
        return
    raise TraceError(f"{op.where}: INT {op.num:02X}h AH={regs['ax'] >> 8:02X}h has no service in "
                     "vgaemu (supported: INT 10h, and INT 15h AH=86h wait CX:DX microseconds)")


def load_trace(source: Any) -> Trace:
    """A trace from a path (JSON list, ``{"ops": [...]}`` or JSON lines), from already
    decoded JSON (a list or a dict with ``ops``), or a :class:`Trace` (returned as is)."""
    if isinstance(source, Trace):
        return source
    if isinstance(source, (str, os.PathLike)):
        path = str(source)
        try:
            with open(path, encoding="utf-8") as f:
                text = f.read()
        except FileNotFoundError:
            raise TraceError(f"{path}: no such trace file") from None
        except (OSError, UnicodeDecodeError) as e:
            raise TraceError(f"{path}: cannot read the trace: {e}") from None
        return parse_ops(_decode(text, path), path)
    if isinstance(source, dict):
        if not isinstance(source.get("ops"), list):
            raise TraceError("<trace>: a trace object needs an \"ops\" list")
        return parse_ops(source["ops"])
    if isinstance(source, (list, tuple)):
        return parse_ops(source)
    raise TraceError(f"expected a trace path, a list of ops or {{\"ops\": [...]}}, got "
                     f"{type(source).__name__}")


def _json(text: str, where: str) -> Any:
    """``json.loads`` whose every failure is a TraceError naming ``where``: bad syntax, nesting
    deeper than the interpreter's recursion limit (``[[[[...``), or an integer with more digits
    than Python converts (``sys.get_int_max_str_digits``)."""
    try:
        return json.loads(text)
    except json.JSONDecodeError as e:
        raise TraceError(f"{where}: not JSON ({e.msg} at column {e.colno})") from None
    except RecursionError:
        raise TraceError(f"{where}: not a trace (JSON nested too deeply; ops are flat objects)") from None
    except ValueError as e:  # "Exceeds the limit (4300 digits) for integer string conversion"
        raise TraceError(f"{where}: not a trace ({str(e).split(';')[0]})") from None


def _decode(text: str, path: str) -> list:
    """The oracle's reading order: the whole text as JSON first, else JSON lines."""
    try:
        doc = _json(text, path)
    except TraceError:
        doc = None
    if doc is None:
        ops = []
        for n, line in enumerate(text.splitlines(), 1):
            s = line.strip()
            if not s or s.startswith("#") or s.startswith("//"):
                continue
            ops.append(_json(s, f"{path}:{n}"))
        return ops
    if isinstance(doc, dict):
        if "ops" not in doc and "op" in doc:
            # A JSON-lines trace of one line is a whole JSON document, which the oracle reads
            # as such too: say what to write instead of only what was expected.
            raise TraceError(f"{path}: one op on its own is read as a JSON document, not as JSON "
                             "lines; put it in a list: [{\"op\": ...}]")
        doc = doc.get("ops")
    if not isinstance(doc, list):
        raise TraceError(f"{path}: expected a JSON list of ops, an object with \"ops\", or JSON lines")
    return doc


# ---------------------------------------------------------------------------------------------
# Replay
# ---------------------------------------------------------------------------------------------
@dataclass(slots=True)
class Screendump:
    name: str
    image: Any  # (H, W, 3) uint8 read-only array of the picture, or None when not kept
    path: Path | None = None  # the PNG written for it, when replay() had a ``screenshot``


@dataclass(slots=True)
class ReplayResult:
    machine: Any
    ops_run: int
    screendumps: list[Screendump] = field(default_factory=list)
    image: Any = None  # the final picture, (H, W, 3) uint8
    screenshot: Path | None = None
    seconds: float = 0.0

    def dump(self, name: str) -> Screendump:
        """The last screendump called ``name`` (a later dump of a name replaces its file)."""
        for d in reversed(self.screendumps):
            if d.name == name:
                return d
        raise KeyError(name)


def screendump_path(screenshot: str | os.PathLike, name: str) -> Path:
    """``OUT.png`` + name -> ``OUT-<name>.png``, as the oracle names intermediate dumps."""
    p = Path(screenshot)
    return p.with_name(f"{p.stem}-{name}{p.suffix or '.png'}")


def _surface_view(vga) -> Any:
    """The picture as an (H, W, 3) uint8 view of the surface (no copy)."""
    import numpy as np

    a = np.asarray(vga.surface)
    if a.ndim == 2 and a.dtype == np.uint32:  # XRGB words
        a = a.view(np.uint8).reshape(a.shape[0], a.shape[1], 4)[:, :, 2::-1]
    return a


def _surface_copy(vga) -> Any:
    import numpy as np

    return np.array(_surface_view(vga), dtype=np.uint8, copy=True)


def _same_picture(a, b) -> bool:
    import numpy as np

    return a.shape == b.shape and bool(np.array_equal(a, b))


class _Runner:
    """Executes validated ops on one machine (the BIOS is created on the first int10)."""

    def __init__(self, machine) -> None:
        self.machine = machine
        self.mem = machine.address_space_memory
        self.io = machine.address_space_io
        self.lfb_base = machine.vga.lfb_addr
        self.vram_size = machine.vga.state.vram_size
        self._bios = None
        base = machine.vga.mmio_addr
        self.mmio = (base, base + machine.vga.mmio_mr.size) if base is not None else None

    @property
    def bios(self):
        if self._bios is None:
            from vgaemu.bios import VGABios

            bios = getattr(self.machine, "bios", None)
            self._bios = bios if isinstance(bios, VGABios) else VGABios(self.machine)
        return self._bios

    def _phys(self, op: TraceOp, length: int) -> int:
        if not op.lfb:
            return op.addr
        if op.addr + length > self.vram_size:
            raise TraceError(f"{op.where}: lfb range 0x{op.addr:X}..0x{op.addr + length - 1:X} is "
                             f"outside the {self.vram_size >> 20} MiB linear framebuffer")
        return self.lfb_base + op.addr

    def _check(self, op: TraceOp, res, addr: int, length: int) -> None:
        if res:
            try:
                from guestmem.address_space import MemTxResult

                what = MemTxResult(int(res)).name or str(int(res))
            except Exception:  # pragma: no cover - guestmem always present in practice
                what = str(res)
            raise TraceError(f"{op.where}: 0x{addr:X}..0x{addr + length - 1:X} is outside any "
                             f"memory region of the machine ({what})")

    def _fill(self, op: TraceOp, addr: int) -> None:
        """``rep stos`` over [addr, addr+len): the whole range is checked against the memory
        map first (a fill of 4 GiB into nothing fails at once, allocating nothing), then
        written in FILL_CHUNK pieces so memory stays bounded whatever the length."""
        from vgaemu.dma import first_unassigned

        bad = first_unassigned(self.mem, addr, op.length)
        if bad is not None:
            raise TraceError(f"{op.where}: 0x{addr:X}..0x{addr + op.length - 1:X} is outside any "
                             f"memory region of the machine (nothing answers at 0x{bad:X})")
        chunk = min(op.length, FILL_CHUNK)
        data = op.val.to_bytes(op.size, "little") * (chunk // op.size)
        for pos in range(0, op.length, chunk):
            n = min(chunk, op.length - pos)
            self._check(op, self.mem.write(addr + pos, data[:n] if n < chunk else data), addr + pos, n)

    def _mmio_stores(self, addr: int, data: bytes, unit: int) -> None:
        """Stores, ``rep stos`` and ``rep movsb`` into the VGA's MMIO BAR: one CPU store per
        unit, as TCG issues them (a merged address_space_write would hand the DISPI registers
        wider values than the guest wrote); an unaligned unit becomes byte stores, as TCG's
        store_helper does for I/O. The BAR is mapped whole, so a store its ops refuse (a size
        they do not accept: memory_region_access_valid) is dropped, as x86 ignores the
        decode error."""
        mem = self.mem
        st = mem.stb if unit == 1 else mem.stw_le if unit == 2 else mem.stl_le
        for i in range(0, len(data) - unit + 1, unit):
            a = addr + i
            if a % unit:
                for j in range(unit):
                    mem.stb(a + j, data[i + j])
            else:
                st(a, int.from_bytes(data[i:i + unit], "little"))

    def run(self, op: TraceOp) -> None:
        k = op.kind
        if k in ("store", "fill", "write") and self.mmio is not None and not op.lfb:
            n = op.size if k == "store" else op.length
            m0, m1 = self.mmio
            if n and m0 <= op.addr and op.addr + n <= m1:  # partly outside: as plain memory
                if k == "store":
                    data, unit = op.val.to_bytes(op.size, "little"), op.size
                elif k == "fill":
                    data = op.val.to_bytes(op.size, "little") * (op.length // op.size)
                    unit = op.size
                else:
                    data, unit = bytes(op.data), 1
                self._mmio_stores(op.addr, data, unit)
                return
        if k == "out":
            io = self.io
            (io.stb if op.size == 1 else io.stw_le if op.size == 2 else io.stl_le)(op.port, op.val)
        elif k == "in":
            io = self.io
            (io.ldub if op.size == 1 else io.lduw_le if op.size == 2 else io.ldl_le)(op.port)
        elif k == "store":
            a = self._phys(op, op.size)
            mem = self.mem
            res = (mem.stb if op.size == 1 else mem.stw_le if op.size == 2 else mem.stl_le)(a, op.val)
            self._check(op, res, a, op.size)
        elif k == "fill":
            if op.length:
                self._fill(op, self._phys(op, op.length))
        elif k == "write":
            if op.length:
                a = self._phys(op, op.length)
                self._check(op, self.mem.write(a, op.data), a, op.length)
        elif k == "int":
            self._interrupt(op)
        else:  # pragma: no cover - parse_ops produces no other kinds here
            raise TraceError(f"{op.where}: cannot run")

    def _interrupt(self, op: TraceOp) -> None:
        regs = dict(op.regs)
        if op.num == 0x10:
            from vgaemu.bios import Registers

            try:
                self.bios.int10(Registers(**regs))
            except TraceError:
                raise
            except VGAEmuError as e:
                raise TraceError(f"{op.where}: INT 10h AX=0x{regs['ax']:04X}: {e}") from e
        else:  # INT 15h AH=86h: wait CX:DX microseconds (checked at parse time)
            us = (regs.get("cx", 0) << 16) | regs.get("dx", 0)
            self.machine.clock.advance(us * 1000)


def make_machine(*, memory: str = "64M", vram: str = "16M", qemu_compat: bool = False):
    """A fresh machine as QEMU's oracle runs it (``-m 32`` is enough there; any size works)."""
    from vgaemu.machine import Machine

    return Machine(memory=memory, vram=vram, qemu_compat=qemu_compat)


def replay(trace: Any, *, screenshot: str | os.PathLike | None = None, machine=None,
           qemu_compat: bool = False, memory: str = "64M", vram: str = "16M",
           boot: bool | None = None, keep_images: bool | Iterable[str] = True,
           on_refresh=None) -> ReplayResult:
    """Run a trace on ``machine`` (a fresh :class:`vgaemu.Machine` by default).

    ``boot`` (default: when the machine's BIOS has never run) first does what QEMU does before
    the oracle's guest code starts: VGA BIOS POST and SeaBIOS's text screen, so a trace that
    sets no mode, or programs Bochs DISPI directly, sees the same registers, DAC and VRAM.

    Each ``screendump`` op redraws, writes ``OUT-<name>.png`` at once when ``screenshot`` is
    given, and keeps the picture in ``result.screendumps`` only as ``keep_images`` asks: True
    (every dump), False (none: the files are the result, so a trace of thousands of dumps runs
    in bounded memory), or a collection of dump names. A kept dump equal to the previous kept
    one shares its (read-only) array. The end of the trace redraws and writes ``screenshot``. Time: the machine's virtual clock moves only by INT 15h AH=86h waits, as
    QEMU's does (apart from the microseconds its guest code takes), so the cursor blink phase in
    a dump matches QEMU's: visible on the first text-mode draw, toggled every ~266 ms.

    ``on_refresh(machine, stats)``, when given, is called after every redraw; the display is
    then also redrawn after each INT 15h wait (as QEMU's display timer refreshes while the
    guest waits), which is what ``--gif`` records.
    """
    t0 = time.perf_counter()
    parsed = load_trace(trace)
    fresh = machine is None
    if fresh:
        machine = make_machine(memory=memory, vram=vram, qemu_compat=qemu_compat)
    runner = _Runner(machine)
    if boot is None:
        # a machine whose BIOS never ran (fresh, or built by the CLI from machine options) is
        # where QEMU's oracle guest starts from only after SeaBIOS booted it
        bios = getattr(machine, "bios", None)
        boot = fresh or (bios is not None and getattr(bios, "posted", True) is False)
    if boot:
        # The oracle's trace starts after SeaBIOS booted: VGA BIOS POST, then text mode 3
        # with SeaBIOS's banner (what a trace that sets no mode shows).
        runner.bios.boot()
    vga = machine.vga
    result = ReplayResult(machine, 0)
    import numpy as np

    keep = keep_images if isinstance(keep_images, bool) else frozenset(map(str, keep_images))
    last_kept = last_raw = None
    # Between two ops is "between guest steps": QMP commands and migrations posted to the
    # machine run there (vgaemu.mainloop), and `stop` holds the replay.
    driving = machine.driving() if hasattr(machine, "driving") else contextlib.nullcontext()
    run_pending = getattr(machine, "run_pending", None)
    with driving:
        for op in parsed.ops:
            if run_pending is not None and not run_pending():
                break
            if op.kind == "screendump":
                vga.update_display()
                path = None
                if screenshot is not None:
                    path = screendump_path(screenshot, op.name)
                    vga.screendump(str(path))
                image = None
                if keep is True or (keep is not False and op.name in keep):
                    # compared as the display's XRGB words (contiguous: cheap), copied only if new
                    fb = getattr(getattr(vga, "display", None), "framebuffer", None)
                    raw = np.asarray(fb if fb is not None else vga.surface)
                    if last_kept is not None and _same_picture(last_raw, raw):
                        image = last_kept
                    else:
                        image = _surface_copy(vga)
                        image.flags.writeable = False
                        last_kept, last_raw = image, raw.copy()
                result.screendumps.append(Screendump(op.name, image, path))
                if on_refresh is not None:
                    on_refresh(machine, None)
            else:
                runner.run(op)
                if on_refresh is not None and op.kind == "int" and op.num == 0x15:
                    on_refresh(machine, vga.update_display())
            result.ops_run += 1
        stats = vga.update_display()
        if on_refresh is not None:
            on_refresh(machine, stats)
    result.image = _surface_copy(vga)
    if screenshot is not None:
        vga.screendump(str(screenshot))
        result.screenshot = Path(screenshot)
    result.seconds = time.perf_counter() - t0
    return result


# ---------------------------------------------------------------------------------------------
# Recording
# ---------------------------------------------------------------------------------------------
class TraceRecorder:
    """Collects ops as a guest runs and writes them as a trace (a JSON list, one op per line).

    ``record(op)`` takes an op dict in the trace format (numbers as ints or ``"0x.."``
    strings); it is validated at once with the replay rules, so a recorder never writes a trace
    that ``replay`` or the oracle would refuse -- the error points at the guest action that
    produced it, not at a later replay. Comment ops carry any extra fields (frame numbers,
    memory reads) unchanged.
    """

    def __init__(self, *, validate: bool = True) -> None:
        self.ops: list[dict] = []
        self.validate = validate
        self._snaps = 0

    def __len__(self) -> int:
        return len(self.ops)

    def record(self, op: dict) -> None:
        if self.validate:
            parsed = parse_op(op, len(self.ops), self._snaps)
            if parsed is not None and parsed.kind == "int":
                _check_supported_int(parsed)
            if parsed is not None and parsed.kind == "screendump":
                self._snaps += 1
        self.ops.append(dict(op))

    def comment(self, text: str, **fields: Any) -> None:
        self.record({"op": "comment", "text": text, **fields})

    def to_json(self) -> str:
        return "[\n" + ",\n".join(json.dumps(o) for o in self.ops) + "\n]\n"

    def save(self, path: str | os.PathLike) -> Path:
        p = Path(path)
        try:
            p.write_text(self.to_json(), encoding="utf-8")
        except OSError as e:
            raise TraceError(f"{p}: cannot write the trace: {e}") from None
        return p


__all__ = ["Trace", "TraceOp", "TraceRecorder", "ReplayResult", "Screendump", "load_trace",
           "parse_op", "parse_ops", "replay", "screendump_path", "make_machine", "TraceError"]
