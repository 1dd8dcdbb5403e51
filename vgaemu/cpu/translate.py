"""The translator: guest x86 code -> Python source -> ``compile()`` (TCG in Python).

One translation block becomes one Python function ``tb(cpu, budget) -> instructions run << 2
| exit slot`` (the slot says which direct exit was taken, for chaining) that keeps the registers it touches in locals, reads and writes guest memory through the
softmmu TLB's page dicts (``RP``/``WP``, see :mod:`vgaemu.cpu.tlb`), and stores the
registers, the lazy condition codes and ``cpu.eip`` back at every exit.

Speed comes from what the generated code does *not* do:

* registers live in locals (``r0``..``r7`` = EAX..EDI, ``s0``..``s5`` the segment bases);
* condition codes are lazy: a flag-setting instruction leaves its operands in ``fa``/``fb``/
  ``fr``/``fc`` and the translator knows statically which operation produced them, so
  ``cmp ax, bx; jb x`` compiles to ``if fa < fb:``; a setter whose flags are overwritten
  before anything reads them emits no flag code at all (a backward liveness pass);
* a block that branches to its own start (``loop``, ``dec cx; jnz``) becomes a ``while`` loop
  with a budget check, so a hot loop costs no Python call per iteration;
* a store to an already-dirty RAM page is a plain ``memoryview`` item store; anything else
  (first store to a clean page, MMIO, ROM, a page boundary) takes ``SoftTLB.store``, whose
  True return ("the running TB was just invalidated") ends the block right after that
  instruction, as on a 386 whose prefetch queue was flushed.
"""

from __future__ import annotations

import re

from vgaemu.errors import VGAEmuError

from . import helpers, state
from .decode import DecodeError, Insn, decode, mnemonic
from .state import (ARITH, CC_ADC, CC_ADD, CC_DEC, CC_EAGER, CC_INC, CC_LOGIC, CC_SAR,
                    CC_SBB, CC_SHL, CC_SHR, CC_SUB, DS, ES, HF_A20OFF, HF_CS32, HF_PE, HF_SS32, SS, cc_op)

#: The slot a TB function's return value (``instructions << 2 | slot``) names for an exit
#: the CPU loop must not chain (an indirect jump, an interrupt, port I/O, a mode change,
#: a store that invalidated the block, a fault).
EXIT_NOCHAIN = 3
#: The most instructions one TB holds (QEMU's TCG_MAX_INSNS is 512; Python compile time
#: grows with the source, and real-mode blocks are short).
TB_MAX_INSNS = 48

MASK = {1: "0xFF", 2: "0xFFFF", 4: "0xFFFFFFFF"}
SIGN = {1: "0x80", 2: "0x8000", 4: "0x80000000"}
NMASK = {1: 0xFF, 2: 0xFFFF, 4: 0xFFFFFFFF}


class UnimplementedInstruction(VGAEmuError):
    """The CPU met an instruction it does not implement (or bytes that are no instruction):
    it stops instead of skipping it.  ``Machine(..., ud_on_unimplemented=True)`` raises #UD
    (INT 6) in the guest instead."""

    def __init__(self, cs: int, ip: int, raw: bytes, name: str | None, why: str = ""):
        self.cs, self.ip, self.raw, self.mnemonic = cs, ip, raw, name
        text = f"unimplemented instruction at {cs:04X}:{ip:04X}: bytes {raw.hex(' ')}"
        if name:
            text += f" ({name})"
        if why:
            text += f": {why}"
        super().__init__(text)


class _Unimpl(Exception):
    def __init__(self, why: str = ""):
        self.why = why


#: The flags state "in the locals cc_op, fr, fa, fb, fc" (see _Gen.cc).
DYN = "dyn"


class _LazyCarry(tuple):
    """An INC/DEC flags state whose carry ``fc`` may still be a lazy cc tuple (the block's
    incoming flags): equal only to itself, so paths never merge it with a plain one."""

    def __eq__(self, other):
        return type(other) is _LazyCarry and tuple.__eq__(self, other)

    def __ne__(self, other):
        return not self.__eq__(other)

    __hash__ = tuple.__hash__
#: How far ahead (bytes) a conditional branch may skip and stay inside its block.
MAX_SKIP = 256


def _sx(expr: str, size: int) -> str:
    """Sign-extend a ``size``-byte value expression to a Python int."""
    s = SIGN[size]
    return f"((({expr}) ^ {s}) - {s})"


def _label_end(ins: Insn) -> bool:
    """Does ``ins`` end its translation block (branch, interrupt, string port I/O, mode
    change)?  IN and OUT do not: they leave the block only when the device did something the
    CPU loop acts on between blocks (see Translator's ``port_io``)."""
    op = ins.op
    if 0x70 <= op < 0x80 or 0x180 <= op < 0x190 or 0xE0 <= op <= 0xE3 or 0xE8 <= op <= 0xEB:
        return True
    if op in (0x9A, 0x9D, 0xC2, 0xC3, 0xCA, 0xCB, 0xCC, 0xCD, 0xCE, 0xCF, 0xF1, 0xF4,
              0xFB, 0x6C, 0x6D, 0x6E, 0x6F, 0x122, 0x106, 0x1FF, 0x10B, 0x131, 0x63, 0x100,
              0x102, 0x103, 0x105, 0x107, 0x130, 0x132, 0x121, 0x123):
        return True
    if op == 0xFF and 2 <= ins.reg <= 5:
        return True
    if op == 0x101 and ins.reg in (2, 3, 6):
        return True
    return False


_SEG_LOADS = frozenset((0x8E, 0x07, 0x17, 0x1F, 0x1A1, 0x1A9, 0xC4, 0xC5, 0x1B2, 0x1B4, 0x1B5))


class _Block:
    """``with g.block("if c:"):`` -- emit the head, indent the body."""

    __slots__ = ("gen", "head")

    def __init__(self, gen: "_Gen", head: str):
        self.gen, self.head = gen, head

    def __enter__(self) -> None:
        self.gen.e(self.head)
        self.gen.ind += 1

    def __exit__(self, *exc) -> None:
        self.gen.ind -= 1


class _Gen:
    """Code generation for one block (one pass; the translator runs a few for liveness)."""

    def __init__(self, tr: "Translator", insns: list[Insn], hflags: int, live: list[bool],
                 loop: bool, bios_trap: bool, wide: frozenset, live_in: bool = True,
                 regions: dict | None = None, live_at: list | None = None):
        self.tr = tr
        self.insns = insns
        self.n = len(insns)
        self.hflags = hflags
        self.live_after = live
        self.loop = loop
        self.bios_trap = bios_trap
        self.lines: list[tuple[int, str]] = []
        #: a loop's exit after its last turn (emitted after the `for` loop)
        self.tail: list[tuple[int, str]] = []
        self.ind = 2 if loop else 1
        self.used: set[int] = set()
        self.wide = wide
        self.wide_seen: set[int] = set()
        #: are the flags read (or an exit taken) in the block before it overwrites them?
        self.flags_live_in = live_in
        #: flags live on entry to each instruction (from the previous pass)
        self.live_at = live_at if live_at is not None else [True] * (self.n + 1)
        self.written: set[int] = set()
        self.segs: set[int] = set()
        # the lazy flags now: None (still in cpu.cc), DYN (locals cc_op, fr, fa, fb, fc with a
        # runtime cc_op: the start of a loop, a merge of paths) or (kind, size) known here
        self.cc = DYN if loop else None
        self.cc_locals = loop
        #: structured forward branches: Jcc index -> index of its target in the block
        self.regions = regions
        self.open: list[tuple[int, object, int]] = []   # (end index, cc at the branch, skipped)
        self.has_skips = bool(regions)
        self.reads = [False] * self.n
        self.writes = [False] * self.n
        self.uses_x = False
        self.k = 0
        self.ins: Insn | None = None
        self.store_exit = False
        self.io_exit = False
        #: the integer literal the lazy operand ``fb`` holds now, folded into the flag
        #: expressions instead of stored in a local (None: ``fb`` is the local's value)
        self.fbk: str | None = None
        #: constant exit target (as emitted) -> its chaining slot (0 or 1)
        self.slots: dict[str, int] = {}
        #: no CLD/STD in the block: single string elements step by ``dd<size>``, locals
        #: read from DF once on entry (only POPF/IRET change it otherwise, and they end it)
        self.df_static = not any(i.op in (0xFC, 0xFD) for i in insns)
        self.dsizes: set[int] = set()

    # -- emission ------------------------------------------------------------------------
    def e(self, line: str) -> None:
        if line.startswith(("fb = ", "cc_op, fr, fa, fb, fc =")):
            self.fbk = None
        self.lines.append((self.ind, line))

    def set_fb(self, s: str) -> None:
        """``fb = s``; a constant is only remembered (and folded where flags are read)."""
        if s.isdigit():
            self.fbk = s
        else:
            self.e(f"fb = {s}")

    def fb_local(self) -> None:
        """Make the local ``fb`` hold the lazy operand (before paths merge or go DYN)."""
        if self.fbk is not None:
            self.e(f"fb = {self.fbk}")

    def fbs(self, expr: str) -> str:
        """``expr`` with the folded constant operand in place of ``fb``."""
        if self.fbk is None:
            return expr
        return re.sub(r"\bfb\b", self.fbk, expr)

    def block(self, head: str) -> "_Block":
        return _Block(self, head)

    # -- registers -------------------------------------------------------------------------
    # A register the block only touches as 8/16 bits lives in local x<i> (its low 16 bits,
    # the high half stays in cpu.regs); one it also uses as 32 bits lives in r<i>.  A first
    # pass with every register in r<i> form finds the 32-bit users (``wide_seen``).
    def rd(self, size: int, i: int) -> str:
        if size == 1 and i >= 4:
            i -= 4
            self.used.add(i)
            return f"(x{i} >> 8)" if i not in self.wide else f"(r{i} >> 8 & 0xFF)"
        self.used.add(i)
        if size == 4:
            self.wide_seen.add(i)
            return f"r{i}"
        if i not in self.wide:
            return f"x{i}" if size == 2 else f"(x{i} & 0xFF)"
        return f"(r{i} & {MASK[size]})"

    def raw(self, i: int) -> str:
        """The local whose low 16 bits are register i (for sums masked afterwards)."""
        self.used.add(i)
        return f"r{i}" if i in self.wide else f"x{i}"

    def wr(self, size: int, i: int, expr: str) -> None:
        """Write an already size-masked value."""
        if size == 1 and i >= 4:
            i -= 4
            self.used.add(i)
            self.written.add(i)
            if i not in self.wide:
                self.e(f"x{i} = x{i} & 0xFF | ({expr}) << 8")
            else:
                self.e(f"r{i} = r{i} & 0xFFFF00FF | ({expr}) << 8")
            return
        self.used.add(i)
        self.written.add(i)
        if size == 4:
            self.wide_seen.add(i)
            self.e(f"r{i} = {expr}")
        elif i not in self.wide:
            self.e(f"x{i} = {expr}" if size == 2 else f"x{i} = x{i} & 0xFF00 | ({expr})")
        elif size == 2:
            self.e(f"r{i} = r{i} & 0xFFFF0000 | ({expr})")
        else:
            self.e(f"r{i} = r{i} & 0xFFFFFF00 | ({expr})")

    def seg(self, i: int) -> str:
        self.segs.add(i)
        return f"s{i}"

    # -- addresses and memory --------------------------------------------------------------
    def offset(self, ins: Insn) -> str:
        regs, index, scale, disp, _ = ins.ea
        parts = []
        if ins.asz == 2:
            for r in regs:
                parts.append(self.raw(r))
            if len(parts) == 1 and not disp and parts[0][0] == "x":
                return parts[0]   # a 16-bit register local needs no wrap
            if disp or not parts:
                parts.append(str(disp))
            return f"({' + '.join(parts)}) & 0xFFFF"
        for r in regs:
            parts.append(self.rd(4, r))
        if index >= 0:
            parts.append(f"({self.rd(4, index)} << {scale})" if scale else self.rd(4, index))
        if disp or not parts:
            parts.append(str(disp))
        return f"({' + '.join(parts)}) & 0xFFFFFFFF"

    def seg_of(self, ins: Insn) -> int:
        return ins.seg if ins.seg >= 0 else ins.ea[4]

    def ea(self, ins: Insn, var: str = "a") -> str:
        s = self.seg(self.seg_of(ins))
        self.e(f"{var} = ({s} + ({self.offset(ins)})) & A20")
        return var

    def load(self, size: int, a: str, dst: str) -> str:
        if size == 1:
            with self.block("try:"):
                self.e(f"{dst} = RP[{a} >> 12][{a} & 4095]")
        else:
            self.e(f"o = {a} & 4095")
            with self.block("try:"):
                self.e(f"m = RP[{a} >> 12]")
                if size == 2:
                    self.e(f"{dst} = m[o] | m[o + 1] << 8")
                else:
                    self.e(f"{dst} = m[o] | m[o + 1] << 8 | m[o + 2] << 16 | m[o + 3] << 24")
        with self.block("except LookupError:"):
            self.e(f"{dst} = ld({a}, {size})")
        return dst

    def store(self, size: int, a: str, val: str, stack: bool = False) -> None:
        """Store ``val`` at ``a``: direct through ``WP`` when the page has a write entry,
        else ``st()``.  Data stores expect the entry (a ``try`` costs nothing when it is
        there); a stack store (``stack``) looks it up with ``get``, because a real-mode stack
        often shares its page with code (SS:SP = 0000:7C00 below a boot sector), which
        never has the entry, and raising KeyError costs more than the store."""
        if not val.isidentifier() and not val.isdigit():
            self.e(f"w = {val}")
            val = "w"
        self.uses_x = True
        self.store_exit = True
        if stack:
            self.e(f"m = WP.get({a} >> 12)")
            if size == 1:
                with self.block("if m is not None:"):
                    self.e(f"m[{a} & 4095] = {val}")
            else:
                self.e(f"o = {a} & 4095")
                with self.block(f"if m is not None and o <= {4096 - size}:"):
                    self._store_bytes(size, val)
            with self.block("elif st(" + f"{a}, {size}, {val}):"):
                self.e("x = 1")
            self.stores += 1
            self.store_tail = len(self.lines)
            return
        if size == 1:
            with self.block("try:"):
                self.e(f"WP[{a} >> 12][{a} & 4095] = {val}")
        else:
            self.e(f"o = {a} & 4095")
            with self.block("try:"):
                self.e(f"m = WP[{a} >> 12]")
                self._store_bytes(size, val)
        with self.block("except LookupError:"):
            with self.block(f"if st({a}, {size}, {val}):"):
                self.e("x = 1")
        self.stores += 1
        self.store_tail = len(self.lines)

    def _store_bytes(self, size: int, val: str) -> None:
        """The bytes of a word/dword store into page view ``m`` at ``o``; the highest first,
        so a store crossing the page raises IndexError before writing anything."""
        if size == 2:
            self.e(f"m[o + 1] = {val} >> 8")
            self.e(f"m[o] = {val} & 255")
        else:
            self.e(f"m[o + 3] = {val} >> 24")
            self.e(f"m[o] = {val} & 255")
            self.e(f"m[o + 1] = {val} >> 8 & 255")
            self.e(f"m[o + 2] = {val} >> 16 & 255")

    def rm_read(self, ins: Insn, size: int, dst: str = "v") -> str:
        if ins.mod == 3:
            return self.rd(size, ins.rm)
        self.ea(ins)
        return self.load(size, "a", dst)

    def rm_write(self, ins: Insn, size: int, val: str) -> None:
        """Write the r/m operand; for memory the address ``a`` of a prior rm_read (or ea)."""
        if ins.mod == 3:
            self.wr(size, ins.rm, val)
        else:
            self.store(size, "a", val)

    def rm_store(self, ins: Insn, size: int, val: str) -> None:
        """Write the r/m operand without a prior read."""
        if ins.mod == 3:
            self.wr(size, ins.rm, val)
        else:
            if not val.isidentifier() and not val.isdigit():
                self.e(f"w = {val}")
                val = "w"
            self.ea(ins)
            self.store(size, "a", val)

    # -- the stack -----------------------------------------------------------------------------
    def _ssz(self) -> int:
        return 4 if self.hflags & HF_SS32 else 2

    def push(self, size: int, val: str) -> None:
        if not val.isdigit() and (not val.isidentifier() or val[0] in "xr"):
            # a copy first: the value may be (E)SP itself, which the push changes
            self.e(f"w = {val}")
            val = "w"
        s = self.seg(SS)
        ssz = self._ssz()
        self.wr(ssz, 4, f"({self.rd(ssz, 4)} - {size}) & {MASK[ssz]}")
        self.e(f"a2 = ({s} + {self.rd(ssz, 4)}) & A20")
        self.store(size, "a2", val, stack=True)

    def pop(self, size: int, dst: str, adjust: bool = True) -> str:
        s = self.seg(SS)
        ssz = self._ssz()
        self.e(f"a2 = ({s} + {self.rd(ssz, 4)}) & A20")
        self.load(size, "a2", dst)
        if adjust:
            self.sp_add(size)
        return dst

    def sp_add(self, n: int) -> None:
        ssz = self._ssz()
        self.wr(ssz, 4, f"({self.rd(ssz, 4)} + {n}) & {MASK[ssz]}")

    # -- lazy condition codes ------------------------------------------------------------------
    def _fields(self) -> str:
        kind, size = self.cc
        op = cc_op(kind, size)
        if kind in (CC_ADD, CC_SUB, CC_SHL, CC_SHR, CC_SAR):
            return self.fbs(f"({op}, fr, fa, fb, 0)")
        if kind in (CC_ADC, CC_SBB):
            return self.fbs(f"({op}, fr, fa, fb, fc)")
        if kind in (CC_INC, CC_DEC):
            return f"({op}, fr, fa, 1, fc)"
        return f"({op}, fr, 0, 0, 0)"

    def arith(self) -> str:
        """An expression for the six arithmetic flags now."""
        self.reads[self.k] = True
        if self.cc is None:
            return "LAZY(*cpu.cc)"
        if self.cc is DYN:
            return "LAZY(cc_op, fr, fa, fb, fc)"
        if self.cc[0] == CC_EAGER:
            return "fr"
        return "LAZY" + self._fields()

    def cf(self) -> str:
        if self.cc is not None and self.cc is not DYN and self.cc[0] == CC_LOGIC:
            return "0"
        self.reads[self.k] = True
        if self.cc is DYN:   # after INC/DEC (a `dec cx; jnz` loop) the carry is in fc
            return (f"(fc if {cc_op(CC_INC, 1)} <= cc_op < {cc_op(CC_DEC, 4) + 2} and "
                    f"fc.__class__ is not tuple else LAZY(cc_op, fr, fa, fb, fc) & 1)")
        if self.cc is None:
            return f"({self.arith()} & 1)"
        if isinstance(self.cc, _LazyCarry):
            return "(fc if fc.__class__ is not tuple else LAZY(*fc) & 1)"
        kind = self.cc[0]
        if kind == CC_ADD:
            return "(fr < fa)"
        if kind == CC_ADC:
            return "(fr < fa or (fc and fr == fa))"
        if kind == CC_SUB:
            return self.fbs("(fa < fb)")
        if kind == CC_SBB:
            return self.fbs("(fa < fb + fc)")
        if kind == CC_LOGIC:
            return "0"
        if kind in (CC_INC, CC_DEC):
            return "fc"
        if kind == CC_SHL:
            bits = 8 * self.cc[1]
            if self.fbk is not None and 1 <= int(self.fbk) <= bits:
                k = bits - int(self.fbk)   # fa holds `size` bytes: no mask for the top bit
                return f"(fa >> {k})" if k == bits - 1 else f"(fa >> {k} & 1)"
            return self.fbs(f"((fa << fb) >> {bits} & 1)")
        if kind == CC_SHR:
            if self.fbk is not None and int(self.fbk) >= 1:
                return f"(fa >> {int(self.fbk) - 1} & 1)"
            return "(fa >> (fb - 1) & 1)"
        if kind == CC_SAR:
            S = SIGN[self.cc[1]]
            return f"(((fa ^ {S}) - {S}) >> (fb - 1) & 1)"
        return "(fr & 1)"

    def cond(self, c: int) -> str:
        """A Python boolean expression for x86 condition ``c`` (Jcc/SETcc/CMOVcc nibble)."""
        self.reads[self.k] = True
        neg = c & 1
        base = c >> 1
        expr = None
        if self.cc is not None and self.cc is not DYN and self.cc[0] != CC_EAGER:
            kind, size = self.cc
            S = SIGN[size]
            if base == 2:   # the result is an int: its truth is NZ
                return "(fr)" if neg else "(not fr)"
            elif base == 4:
                expr = f"fr & {S}"
            elif base == 5:
                expr = "PARITY[fr & 255]"
            elif kind == CC_SUB:
                expr = {1: "fa < fb", 3: "fa <= fb", 6: f"(fa ^ {S}) < (fb ^ {S})",
                        7: f"(fa ^ {S}) <= (fb ^ {S})"}.get(base)
            elif kind == CC_LOGIC:
                expr = {0: "0", 1: "0", 3: "fr == 0", 6: f"fr & {S}",
                        7: f"fr == 0 or fr & {S}"}.get(base)
            elif kind == CC_ADD and base == 1:
                expr = "fr < fa"
            elif kind in (CC_INC, CC_DEC) and base in (1, 3) and not isinstance(self.cc,
                                                                                _LazyCarry):
                expr = "fc" if base == 1 else "fc or fr == 0"
        if expr is not None:
            expr = self.fbs(expr)
        else:
            self.e(f"ef = {self.arith()}")
            expr = ("ef & 0x800", "ef & 1", "ef & 0x40", "ef & 0x41", "ef & 0x80", "ef & 4",
                    "(ef ^ ef >> 4) & 0x80", "(ef ^ ef >> 4) & 0x80 or ef & 0x40")[base]
        return f"not ({expr})" if neg else f"({expr})"

    def set_eager(self, expr: str) -> None:
        """The six flags are now ``expr`` (which may read the old state)."""
        self.e(f"fr = {expr}")
        self.cc = (CC_EAGER, 4)
        self.writes[self.k] = True

    def wb_marker(self) -> str:
        """Where the registers go back to ``cpu.regs``: those written so far (textual order
        over-approximates every path here: a skip only jumps forward), or in a loop every
        register the block writes (an earlier turn may have written any of them)."""
        return "@WB" + ",".join(map(str, sorted(self.written)))

    def flags_wb(self) -> list[str]:
        if self.cc is None:
            return []
        if self.cc is DYN:
            return ["cpu.cc = (cc_op, fr, fa, fb, fc)"]
        if self.cc[0] == CC_EAGER:
            return ["cpu.cc = (0, fr, 0, 0, 0)"]
        return ["cpu.cc = " + self._fields()]

    @property
    def live(self) -> bool:
        return self.live_after[self.k]

    # -- exits -------------------------------------------------------------------------------
    def count(self, done: bool = True) -> str:
        k = self.k + (1 if done else 0)
        sk = " - sk" if self.has_skips else ""
        if self.loop:
            return (f"(lim - it) * {self.n} + {k}" if k else f"(lim - it) * {self.n}") + sk
        return f"{k}{sk}"

    def exit(self, eip: str | None, done: bool = True, post: tuple = (),
             count: str | None = None, chain: bool = False) -> None:
        """Leave the block at ``eip``.  The function returns ``count << 2 | slot``: ``slot``
        0 or 1 names a direct exit (a constant target reached by a jump, a branch or the
        fall-through, with CS, the mode and IF unchanged) that the CPU loop may chain to its
        successor TB (QEMU's goto_tb); ``EXIT_NOCHAIN`` is every other exit."""
        self.reads[self.k] = True
        self.e(self.wb_marker())
        for line in self.flags_wb():
            self.e(line)
        if eip is not None:
            self.e(f"cpu.eip = {eip}")
        for line in post:
            self.e(line)
        slot = EXIT_NOCHAIN
        if chain and not post and eip is not None and eip.isdigit():
            slot = self.slots.setdefault(eip, len(self.slots))
            if slot >= 2:
                slot = EXIT_NOCHAIN
        n = count if count is not None else self.count(done)
        if n.isdigit():
            self.e(f"return {int(n) << 2 | slot}")
        else:
            self.e(f"return ({n}) << 2 | {slot}" if slot else f"return ({n}) << 2")

    def fault(self, vector: int) -> None:
        """A fault: the instruction did not happen; deliver ``vector`` with CS:IP of it."""
        self.exit(str(self.ins.eip), done=False, post=(f"cpu.exception({vector})",))

    def next_eip(self) -> int:
        ins = self.ins
        return ins.next_eip & (0xFFFFFFFF if self.hflags & HF_CS32 else 0xFFFF)

    def jump(self, target: int) -> None:
        """An unconditional near jump (or the taken side of a branch) to a constant."""
        if self.loop and self.k == self.n - 1 and target == self.insns[0].eip:
            self.backedge()
        else:
            self.exit(str(target), chain=True)

    def backedge(self) -> None:
        if self.cc is not DYN and self.flags_live_in:
            self.to_dyn()
        self.e("continue")
        # the budget ran out: the exit after the `for` loop sees the state of this point
        lines, ind = self.lines, self.ind
        self.lines, self.ind = self.tail, 1
        self.exit(str(self.insns[0].eip),
                  count=f"lim * {self.n}" + (" - sk" if self.has_skips else ""), chain=True)
        self.lines, self.ind = lines, ind

    def to_dyn(self) -> None:
        """Emit what makes the DYN locals describe the current flags."""
        cc = self.cc
        if cc is DYN:
            return
        if cc is None:
            self.e("cc_op, fr, fa, fb, fc = cpu.cc")
        else:
            self.e(f"cc_op = {cc_op(*cc)}")
            if cc[0] in (CC_INC, CC_DEC):
                self.e("fb = 1")
            else:
                self.fb_local()
        self.cc_locals = True

    def close_regions(self, k: int) -> None:
        """Instruction k is the target of open forward branches: merge the two paths."""
        while self.open and self.open[-1][0] == k:
            _, cc_branch, skipped = self.open.pop()
            cc_body = self.cc
            merge = cc_body != cc_branch and self.live_at[k]
            self.fb_local()   # the skipping path has it in the local (see g_jcc)
            if merge:
                self.to_dyn()
            self.e("pass")   # the skipped instructions may have emitted nothing
            self.ind -= 1
            self.e("else:")
            self.ind += 1
            self.e(f"sk += {skipped}")
            if merge:
                self.cc = cc_branch
                self.to_dyn()
            self.ind -= 1
            self.cc = DYN if merge else cc_body

    # -- the block ---------------------------------------------------------------------------
    def run(self) -> None:
        for k, ins in enumerate(self.insns):
            self.k = k
            self.ins = ins
            self.close_regions(k)
            self.store_exit = False
            self.io_exit = False
            self.stores = 0
            self.store_tail = -1
            self.gen_insn(ins)
            if k == self.n - 1:
                if not _label_end(ins):
                    if self.io_exit:
                        # port I/O that changed the mode (A20) must not chain to the block
                        # translated for the old one
                        with self.block("if x:"):
                            self.exit(str(self.next_eip()))
                    # a protected-mode SS load may change the stack size (the TB key)
                    pe_seg = self.hflags & HF_PE and ins.op in _SEG_LOADS
                    self.exit(str(self.next_eip()), chain=not pe_seg)
            elif self.store_exit and self.stores == 1 and self.store_tail == len(self.lines):
                # the store was the instruction's last act: exit from its slow path directly
                ind, line = self.lines.pop()
                assert line == "x = 1"
                saved, self.ind = self.ind, ind
                self.exit(str(self.next_eip()))
                self.ind = saved
            elif self.store_exit:
                with self.block("if x:"):
                    self.exit(str(self.next_eip()))

    def gen_insn(self, ins: Insn) -> None:
        op = ins.op
        fn = _DISPATCH.get(op)
        if fn is None:
            raise _Unimpl()
        if ins.lock and not _lockable(ins):
            self.fault(6)   # LOCK on anything but a read-modify-write of memory: #UD
            return
        fn(self, ins)

    def source(self, name: str) -> str:
        wb = {i: f"R[{i}] = r{i}" if i in self.wide else f"R[{i}] = R[{i}] & 0xFFFF0000 | x{i}"
              for i in sorted(self.written)}
        rl = [f"r{i} = R[{i}]" if i in self.wide else f"x{i} = R[{i}] & 0xFFFF"
              for i in sorted(self.used)]
        out = [f"def {name}(cpu, budget):"]
        pro = []
        if self.used:
            pro.append("R = cpu.regs")
            pro.extend(rl)
        if self.segs:
            pro.append("SB = cpu.seg_base")
            pro.extend(f"s{i} = SB[{i}]" for i in sorted(self.segs))
        a20_on = not self.hflags & HF_A20OFF
        if not a20_on:
            pro.append("A20 = 0xFFEFFFFF")
        if self.dsizes:
            pro.append("df = cpu.eflags_rest & 0x400")
            pro.extend(f"dd{n} = -{n} if df else {n}" for n in sorted(self.dsizes))
        if self.uses_x:
            pro.append("x = 0")
        if self.has_skips:
            pro.append("sk = 0")
        if self.cc_locals:
            pro.append("cc_op, fr, fa, fb, fc = cpu.cc")
        if self.loop:
            pro.append(f"lim = budget // {self.n} or 1")
        out.extend("    " + p for p in pro)
        if self.loop:
            # `it` counts the turns left, this one included (for the exits' counts)
            out.append("    for it in range(lim, 0, -1):")
        for ind, line in self.lines + self.tail:
            pad = "    " * ind
            if a20_on:
                line = line.replace(" & A20", "")
            if line.startswith("@WB"):
                if self.loop:
                    out.extend(pad + w for w in wb.values())
                else:
                    out.extend(pad + wb[int(i)] for i in line[3:].split(",") if i)
            elif line == "@RL":
                out.extend(pad + r for r in rl)
                if self.segs:
                    out.extend(pad + f"s{i} = SB[{i}]" for i in sorted(self.segs))
            else:
                out.append(pad + line)
        return "\n".join(_propagate_copies(_fuse_result_stores(out))) + "\n"

    # -- helpers that need the whole CPU state -----------------------------------------------
    def port_io(self, size: int, port: str, value: str | None = None) -> None:
        """IN (``value`` None: the result in ``v``) or OUT in the middle of a block, through
        the ``INX``/``OUTX`` helpers (see _block_port_io): the device sees the virtual time
        of this very instruction, and the block ends right after it only when the access did
        what the CPU loop acts on between blocks, so instruction counts and interrupt timing
        are those of a block that ended at every IN/OUT (QEMU's icount mode ends the TB
        after I/O for the same reason), while a run of register writes (planar drawing)
        stays one block."""
        k = self.count(done=False)
        self.uses_x = True
        self.store_exit = True
        self.io_exit = True
        if value is None:
            self.e(f"v = INX{size}({port}, {k})")
            with self.block(f"if v > {MASK[size]}:"):
                self.e("x = 1")
                self.e(f"v &= {MASK[size]}")
        else:
            with self.block(f"if OUTX{size}({port}, {value}, {k}):"):
                self.e("x = 1")
            # the OUT is the instruction's last act: run() exits from this branch directly,
            # as after a store's slow path
            self.stores = 1
            self.store_tail = len(self.lines)

    def sync_call(self, call: str) -> None:
        """Write every register and the flags back, run ``call`` (a CPU method that works on
        cpu state), then reload.  ``x`` gets its truth value (stop after this insn)."""
        self.reads[self.k] = True
        self.writes[self.k] = True
        self.e(self.wb_marker())
        for line in self.flags_wb():
            self.e(line)
        self.uses_x = True
        self.store_exit = True
        self.e(f"if {call}:")
        self.e("    x = 1")
        self.e("@RL")
        self.cc = None
        if self.loop or self.open:
            self.to_dyn()
            self.cc = DYN


_RESULT_STORE = re.compile(r"( *)([rx][0-7]) = fr$")


def _fuse_result_stores(out: list[str]) -> list[str]:
    """``fr = E`` then ``r3 = fr`` -> ``r3 = fr = E``: one statement less per
    flag-setting instruction whose result goes to a register."""
    res: list[str] = []
    for line in out:
        m = _RESULT_STORE.match(line)
        if m and res and res[-1].startswith(m.group(1) + "fr = "):
            prev = res.pop()
            line = f"{m.group(1)}{m.group(2)} = {prev.lstrip()}"
        res.append(line)
    return res


_COPY = re.compile(r"( *)([rx][0-7]) = ([rx][0-7])$")


def _propagate_copies(out: list[str]) -> list[str]:
    """``x0 = x3`` then ``x0 = (x0 + x5) & 0xFFFF`` -> ``x0 = (x3 + x5) & 0xFFFF``: a
    register copy (``mov ax, bx``) straight before the next write of the same register (at
    the same indentation, so it always runs next) folds into that write."""
    res: list[str] = []
    for line in out:
        if res:
            m = _COPY.match(res[-1])
            if m:
                ind, dst, src = m.groups()
                head = f"{ind}{dst} = "
                if line.startswith(head) and not line[len(head):].startswith(" "):
                    res[-1] = head + re.sub(rf"\b{dst}\b", src, line[len(head):])
                    continue
        res.append(line)
    return res


# ------------------------------------------------------------------------------------------
# instruction generators
# ------------------------------------------------------------------------------------------
_DISPATCH: dict = {}


def _op(*ops):
    def deco(fn):
        for o in ops:
            _DISPATCH[o] = fn
        return fn
    return deco


def _osz(g: _Gen, ins: Insn, op: int) -> int:
    return 1 if op & 1 == 0 else ins.osz


def alu(g: _Gen, k: int, size: int, d: str, s: str):
    """ADD OR ADC SBB AND SUB XOR CMP (k = 0..7): returns the result expression or None
    (CMP), with the lazy flags set up when they are live."""
    M = MASK[size]
    live = g.live
    if k in (1, 4, 6):
        sym = {1: "|", 4: "&", 6: "^"}[k]
        if live:
            g.e(f"fr = {d} {sym} {s}")
            g.cc = (CC_LOGIC, size)
            g.writes[g.k] = True
            return "fr"
        g.writes[g.k] = True
        g.cc = (CC_LOGIC, size)  # dead: nothing reads its fields (a static CF of 0 may be)
        return f"{d} {sym} {s}"
    if k in (2, 3):
        g.e(f"fc = {g.cf()}")
    if not live:
        g.writes[g.k] = True
        g.cc = ({0: CC_ADD, 2: CC_ADC, 3: CC_SBB, 5: CC_SUB, 7: CC_SUB}[k], size)
        if k == 7:
            return None
        return {0: f"({d} + {s}) & {M}", 2: f"({d} + {s} + fc) & {M}",
                3: f"({d} - {s} - fc) & {M}", 5: f"({d} - {s}) & {M}"}[k]
    g.e(f"fa = {d}")
    g.set_fb(s)
    if g.fbk == "0" and k in (2, 3):   # adc/sbb x, 0: the carry alone
        expr = f"(fa {'+' if k == 2 else '-'} fc) & {M}"
    else:
        expr = g.fbs({0: f"(fa + fb) & {M}", 2: f"(fa + fb + fc) & {M}",
                      3: f"(fa - fb - fc) & {M}", 5: f"(fa - fb) & {M}",
                      7: f"(fa - fb) & {M}"}[k])
    g.e(f"fr = {expr}")
    g.cc = ({0: CC_ADD, 2: CC_ADC, 3: CC_SBB, 5: CC_SUB, 7: CC_SUB}[k], size)
    g.writes[g.k] = True
    return None if k == 7 else "fr"


def _alu_ops():
    return [x * 8 + y for x in range(8) for y in range(6)]


@_op(*_alu_ops())
def g_alu(g: _Gen, ins: Insn) -> None:
    op = ins.op
    k = op >> 3
    form = op & 7
    size = 1 if form in (0, 2, 4) else ins.osz
    if form in (0, 1):
        d = g.rm_read(ins, size)
        s = g.rd(size, ins.reg)
        r = alu(g, k, size, d, s)
        if r is not None:
            g.rm_write(ins, size, r)
    elif form in (2, 3):
        s = g.rm_read(ins, size)
        r = alu(g, k, size, g.rd(size, ins.reg), s)
        if r is not None:
            g.wr(size, ins.reg, r)
    else:
        r = alu(g, k, size, g.rd(size, 0), str(ins.imm))
        if r is not None:
            g.wr(size, 0, r)


@_op(0x80, 0x81, 0x82, 0x83)
def g_grp1(g: _Gen, ins: Insn) -> None:
    size = 1 if ins.op in (0x80, 0x82) else ins.osz
    imm = ins.imm
    if ins.op == 0x83:
        imm = (imm - ((imm & 0x80) << 1)) & NMASK[size]
    d = g.rm_read(ins, size)
    r = alu(g, ins.reg, size, d, str(imm))
    if r is not None:
        g.rm_write(ins, size, r)


@_op(0x84, 0x85, 0xA8, 0xA9)
def g_test(g: _Gen, ins: Insn) -> None:
    size = 1 if ins.op in (0x84, 0xA8) else ins.osz
    if ins.op in (0x84, 0x85):
        d = g.rm_read(ins, size)
        s = g.rd(size, ins.reg)
    else:
        d, s = g.rd(size, 0), str(ins.imm)
    alu(g, 4, size, d, s)
    # TEST writes nothing back


def _incdec(g: _Gen, size: int, d: str, dec: bool) -> str:
    M = MASK[size]
    sym = "-" if dec else "+"
    if not g.live:
        g.writes[g.k] = True
        g.cc = (CC_DEC if dec else CC_INC, size)
        return f"({d} {sym} 1) & {M}"
    kind = CC_DEC if dec else CC_INC
    if g.cc is None:
        # the carry stays lazy: the flags the block started with (one level deep: an
        # INC/DEC tuple there gives its own carry)
        g.reads[g.k] = True
        g.e("fc = cpu.cc")
        g.e(f"fc = fc[4] if {cc_op(CC_INC, 1)} <= fc[0] < {cc_op(CC_DEC, 4) + 2} else fc")
        state = _LazyCarry((kind, size))
    else:
        g.e(f"fc = {g.cf()}")
        state = (kind, size)
    g.e(f"fa = {d}")
    g.e(f"fr = (fa {sym} 1) & {M}")
    g.cc = state
    g.writes[g.k] = True
    return "fr"


@_op(*range(0x40, 0x50))
def g_incdec_r(g: _Gen, ins: Insn) -> None:
    r = ins.op & 7
    g.wr(ins.osz, r, _incdec(g, ins.osz, g.rd(ins.osz, r), ins.op >= 0x48))


@_op(0xFE)
def g_grp4(g: _Gen, ins: Insn) -> None:
    if ins.reg > 1:
        raise _Unimpl("FE /2..7 is undefined")
    d = g.rm_read(ins, 1)
    g.rm_write(ins, 1, _incdec(g, 1, d, ins.reg == 1))


@_op(0xFF)
def g_grp5(g: _Gen, ins: Insn) -> None:
    size = ins.osz
    reg = ins.reg
    if reg in (0, 1):
        d = g.rm_read(ins, size)
        g.rm_write(ins, size, _incdec(g, size, d, reg == 1))
    elif reg == 2:  # call near indirect
        t = g.rm_read(ins, size)
        g.e(f"j = {t}")
        g.push(size, str(g.next_eip()))
        g.exit(f"j & {MASK[size]}")
    elif reg == 4:
        t = g.rm_read(ins, size)
        g.exit(f"{t} & {MASK[size]}")
    elif reg in (3, 5):  # far call / jmp through memory
        if ins.mod == 3:
            raise _Unimpl("far call/jmp needs a memory operand")
        g.ea(ins)
        g.load(size, "a", "j")
        g.e(f"a = (a + {size}) & A20")
        g.load(2, "a", "sel")
        if reg == 3:
            g.exit(None, post=(f"cpu.far_call(sel, j, {size}, {g.next_eip()})",))
        else:
            g.exit(None, post=("cpu.far_jump(sel, j)",))
    elif reg == 6:
        v = g.rm_read(ins, size)
        g.push(size, v)
    else:
        raise _Unimpl("FF /7 is undefined")


@_op(*range(0x50, 0x58))
def g_push_r(g: _Gen, ins: Insn) -> None:
    r = ins.op & 7
    if r == 4:  # PUSH SP pushes the value before the decrement (286+)
        g.e(f"u = {g.rd(ins.osz, 4)}")
        g.push(ins.osz, "u")
    else:
        g.push(ins.osz, g.rd(ins.osz, r))


@_op(*range(0x58, 0x60))
def g_pop_r(g: _Gen, ins: Insn) -> None:
    r = ins.op & 7
    g.pop(ins.osz, "u")
    g.wr(ins.osz, r, "u")


@_op(0x68, 0x6A)
def g_push_imm(g: _Gen, ins: Insn) -> None:
    imm = ins.imm
    if ins.op == 0x6A:
        imm = (imm - ((imm & 0x80) << 1)) & NMASK[ins.osz]
    g.push(ins.osz, str(imm))


@_op(0x8F)
def g_pop_rm(g: _Gen, ins: Insn) -> None:
    size = ins.osz
    g.pop(size, "u")
    if ins.mod == 3:
        g.wr(size, ins.rm, "u")
    else:  # the address uses ESP after the pop (SDM: POP [ESP] computes after increment)
        g.ea(ins)
        g.store(size, "a", "u")


@_op(0x06, 0x0E, 0x16, 0x1E, 0x1A0, 0x1A8)
def g_push_seg(g: _Gen, ins: Insn) -> None:
    i = {0x06: 0, 0x0E: 1, 0x16: 2, 0x1E: 3, 0x1A0: 4, 0x1A8: 5}[ins.op]
    g.e(f"u = cpu.seg_sel[{i}]")
    g.push(ins.osz, "u")


def load_seg(g: _Gen, i: int, sel: str) -> None:
    """A segment register load: in real mode the base is selector * 16 and the cached
    limit and attributes stay (so unreal mode survives, as QEMU's gen_op_movl_seg_T0_vm);
    in protected mode the descriptor comes from the GDT and the block ends."""
    if i == 1:
        raise _Unimpl("loading CS with MOV/POP")
    g.e(f"s{i} = cpu.load_seg({i}, {sel})")
    g.segs.add(i)


@_op(0x07, 0x17, 0x1F, 0x1A1, 0x1A9)
def g_pop_seg(g: _Gen, ins: Insn) -> None:
    i = {0x07: 0, 0x17: 2, 0x1F: 3, 0x1A1: 4, 0x1A9: 5}[ins.op]
    g.pop(ins.osz, "u")
    load_seg(g, i, "u & 0xFFFF")


@_op(0x8C)
def g_mov_from_seg(g: _Gen, ins: Insn) -> None:
    if ins.reg > 5:                   # no segment register 6/7: #UD
        g.fault(6)
        return
    g.e(f"u = cpu.seg_sel[{ins.reg}]")
    if ins.mod == 3:
        g.wr(ins.osz, ins.rm, "u")
    else:
        g.rm_store(ins, 2, "u")


@_op(0x8E)
def g_mov_to_seg(g: _Gen, ins: Insn) -> None:
    if ins.reg > 5 or ins.reg == 1:   # MOV to CS (legal only on the 8086), Sreg 6/7: #UD
        g.fault(6)
        return
    v = g.rm_read(ins, 2)
    load_seg(g, ins.reg, v)


@_op(0xC4, 0xC5, 0x1B2, 0x1B4, 0x1B5)
def g_lxs(g: _Gen, ins: Insn) -> None:
    i = {0xC4: 0, 0xC5: 3, 0x1B2: 2, 0x1B4: 4, 0x1B5: 5}[ins.op]
    size = ins.osz
    g.ea(ins)
    g.load(size, "a", "u")
    g.e(f"a = (a + {size}) & A20")
    g.load(2, "a", "sel")
    load_seg(g, i, "sel")
    g.wr(size, ins.reg, "u")


@_op(0x88, 0x89, 0x8A, 0x8B)
def g_mov(g: _Gen, ins: Insn) -> None:
    size = _osz(g, ins, ins.op)
    if ins.op in (0x88, 0x89):
        g.rm_store(ins, size, g.rd(size, ins.reg))
    else:
        v = g.rm_read(ins, size)
        g.wr(size, ins.reg, v)


@_op(0xC6, 0xC7)
def g_mov_imm_rm(g: _Gen, ins: Insn) -> None:
    size = _osz(g, ins, ins.op)
    g.rm_store(ins, size, str(ins.imm))


@_op(*range(0xB0, 0xC0))
def g_mov_imm_r(g: _Gen, ins: Insn) -> None:
    size = 1 if ins.op < 0xB8 else ins.osz
    g.wr(size, ins.op & 7, str(ins.imm))


@_op(0xA0, 0xA1, 0xA2, 0xA3)
def g_mov_moffs(g: _Gen, ins: Insn) -> None:
    size = _osz(g, ins, ins.op)
    seg = ins.seg if ins.seg >= 0 else DS
    g.e(f"a = ({g.seg(seg)} + {ins.imm}) & A20")
    if ins.op < 0xA2:
        g.load(size, "a", "v")
        g.wr(size, 0, "v")
    else:
        g.store(size, "a", g.rd(size, 0))


@_op(0x8D)
def g_lea(g: _Gen, ins: Insn) -> None:
    g.e(f"u = {g.offset(ins)}")
    g.wr(ins.osz, ins.reg, "u" if ins.osz >= ins.asz else "u & 0xFFFF")


@_op(0x86, 0x87)
def g_xchg(g: _Gen, ins: Insn) -> None:
    size = _osz(g, ins, ins.op)
    v = g.rm_read(ins, size, "v")
    g.e(f"u = {g.rd(size, ins.reg)}")
    if ins.mod == 3:
        g.e(f"v = {v}")
        v = "v"
    g.wr(size, ins.reg, v)
    g.rm_write(ins, size, "u")


@_op(*range(0x90, 0x98))
def g_xchg_ax(g: _Gen, ins: Insn) -> None:
    r = ins.op & 7
    if r == 0:
        return  # NOP (and PAUSE with F3)
    size = ins.osz
    g.e(f"u = {g.rd(size, 0)}")
    g.e(f"v = {g.rd(size, r)}")
    g.wr(size, 0, "v")
    g.wr(size, r, "u")


@_op(0x98)
def g_cbw(g: _Gen, ins: Insn) -> None:
    if ins.osz == 2:
        g.wr(2, 0, f"({_sx(g.rd(1, 0), 1)}) & 0xFFFF")
    else:
        g.wr(4, 0, f"({_sx(g.rd(2, 0), 2)}) & 0xFFFFFFFF")


@_op(0x99)
def g_cwd(g: _Gen, ins: Insn) -> None:
    size = ins.osz
    g.wr(size, 2, f"{MASK[size]} if {g.rd(size, 0)} & {SIGN[size]} else 0")


@_op(0x1B6, 0x1B7, 0x1BE, 0x1BF)
def g_movx(g: _Gen, ins: Insn) -> None:
    src = 1 if ins.op in (0x1B6, 0x1BE) else 2
    v = g.rm_read(ins, src)
    if ins.op >= 0x1BE:
        v = f"({_sx(v, src)}) & {MASK[ins.osz]}"
    elif src > ins.osz:
        v = f"{v} & {MASK[ins.osz]}"
    g.wr(ins.osz, ins.reg, v)


@_op(*range(0x190, 0x1A0))
def g_setcc(g: _Gen, ins: Insn) -> None:
    g.e(f"u = 1 if {g.cond(ins.op & 15)} else 0")
    g.rm_store(ins, 1, "u")


@_op(*range(0x70, 0x80), *range(0x180, 0x190))
def g_jcc(g: _Gen, ins: Insn) -> None:
    rel = ins.imm
    if ins.op < 0x80:
        rel -= (rel & 0x80) << 1
    elif ins.osz == 2:
        rel -= (rel & 0x8000) << 1
    else:
        rel -= (rel & 0x80000000) << 1
    mask = 0xFFFFFFFF if ins.osz == 4 else 0xFFFF
    target = (ins.next_eip + rel) & mask
    if g.k < g.n - 1:
        end = g.regions.get(g.k)
        if end is not None:   # a forward branch inside the block: skip the instructions
            g.fb_local()      # both paths must agree on where fb is when they merge
            g.e(f"if {g.cond(ins.op & 15 ^ 1)}:")
            g.ind += 1
            g.open.append((end, g.cc, end - g.k - 1))
        else:                 # a side exit
            with g.block(f"if {g.cond(ins.op & 15)}:"):
                g.exit(str(target), chain=True)
        return
    with g.block(f"if {g.cond(ins.op & 15)}:"):
        g.jump(target)
    g.exit(str(g.next_eip()), chain=True)


@_op(0xEB, 0xE9)
def g_jmp(g: _Gen, ins: Insn) -> None:
    rel = ins.imm
    if ins.op == 0xEB:
        rel -= (rel & 0x80) << 1
        mask = 0xFFFFFFFF if ins.osz == 4 else 0xFFFF
    else:
        mask = 0xFFFFFFFF if ins.osz == 4 else 0xFFFF
    g.jump((ins.next_eip + rel) & mask)


@_op(0xE8)
def g_call(g: _Gen, ins: Insn) -> None:
    mask = 0xFFFFFFFF if ins.osz == 4 else 0xFFFF
    g.push(ins.osz, str(g.next_eip()))
    g.exit(str((ins.next_eip + ins.imm) & mask), chain=True)


@_op(0xC3, 0xC2)
def g_ret(g: _Gen, ins: Insn) -> None:
    g.pop(ins.osz, "j")
    if ins.op == 0xC2 and ins.imm:
        g.sp_add(ins.imm)
    g.exit(f"j & {MASK[ins.osz]}")


@_op(0xCB, 0xCA)
def g_retf(g: _Gen, ins: Insn) -> None:
    g.exit(None, post=(f"cpu.far_ret({ins.osz}, {ins.imm if ins.op == 0xCA else 0})",))


@_op(0xEA)
def g_jmpf(g: _Gen, ins: Insn) -> None:
    g.exit(None, post=(f"cpu.far_jump({ins.imm2}, {ins.imm})",))


@_op(0x9A)
def g_callf(g: _Gen, ins: Insn) -> None:
    g.exit(None, post=(f"cpu.far_call({ins.imm2}, {ins.imm}, {ins.osz}, {g.next_eip()})",))


@_op(0xE0, 0xE1, 0xE2, 0xE3)
def g_loop(g: _Gen, ins: Insn) -> None:
    rel = ins.imm - ((ins.imm & 0x80) << 1)
    mask = 0xFFFFFFFF if ins.osz == 4 else 0xFFFF
    target = (ins.next_eip + rel) & mask
    csz = ins.asz
    if ins.op == 0xE3:
        cond = f"not {g.rd(csz, 1)}"
    else:
        g.wr(csz, 1, f"({g.rd(csz, 1)} - 1) & {MASK[csz]}")
        cond = f"{g.rd(csz, 1)}"
        if ins.op == 0xE0:
            cond += f" and {g.cond(5)}"
        elif ins.op == 0xE1:
            cond += f" and {g.cond(4)}"
    with g.block(f"if {cond}:"):
        g.jump(target)
    g.exit(str(g.next_eip()), chain=True)


@_op(0xCD, 0xCC, 0xCE, 0xF1)
def g_int(g: _Gen, ins: Insn) -> None:
    if ins.op == 0xCE:
        with g.block(f"if {g.cond(0)}:"):
            g.exit(str(g.next_eip()), post=("cpu.interrupt(4)",))
        g.exit(str(g.next_eip()))
        return
    vec = {0xCD: ins.imm, 0xCC: 3, 0xF1: 1}[ins.op]
    g.exit(str(g.next_eip()), post=(f"cpu.interrupt({vec})",))


@_op(0xCF)
def g_iret(g: _Gen, ins: Insn) -> None:
    g.exit(None, post=(f"cpu.iret({ins.osz})",))


@_op(0x1FF)
def g_bios_trap(g: _Gen, ins: Insn) -> None:
    if not g.bios_trap:
        raise _Unimpl("0F FF (UD0) outside the BIOS trap stubs")
    g.exit(str(g.next_eip()), post=(f"cpu.bios_call({ins.imm})",))


@_op(0xF4)
def g_hlt(g: _Gen, ins: Insn) -> None:
    g.exit(str(g.next_eip()), post=("cpu.halted = True",))


@_op(0xE4, 0xE5, 0xEC, 0xED)
def g_in(g: _Gen, ins: Insn) -> None:
    size = 1 if ins.op in (0xE4, 0xEC) else ins.osz
    port = str(ins.imm) if ins.op < 0xEC else g.rd(2, 2)
    g.port_io(size, port)
    g.wr(size, 0, "v")


@_op(0xE6, 0xE7, 0xEE, 0xEF)
def g_out(g: _Gen, ins: Insn) -> None:
    size = 1 if ins.op in (0xE6, 0xEE) else ins.osz
    port = str(ins.imm) if ins.op < 0xEE else g.rd(2, 2)
    g.port_io(size, port, g.rd(size, 0))


@_op(0xF5, 0xF8, 0xF9)
def g_cf_ops(g: _Gen, ins: Insn) -> None:
    if ins.op == 0xF8:
        g.set_eager(f"{g.arith()} & ~1")
    elif ins.op == 0xF9:
        g.set_eager(f"{g.arith()} | 1")
    else:
        g.set_eager(f"{g.arith()} ^ 1")


@_op(0xFC, 0xFD, 0xFA, 0xFB)
def g_flag_bits(g: _Gen, ins: Insn) -> None:
    if ins.op == 0xFC:
        g.e("cpu.eflags_rest &= ~0x400")
    elif ins.op == 0xFD:
        g.e("cpu.eflags_rest |= 0x400")
    elif ins.op == 0xFA:
        g.e("cpu.eflags_rest &= ~0x200")
    else:
        g.e("cpu.eflags_rest |= 0x200")
        g.exit(str(g.next_eip()))


@_op(0x9B)
def g_wait(g: _Gen, ins: Insn) -> None:
    pass  # no FPU: nothing to wait for


@_op(0x9C)
def g_pushf(g: _Gen, ins: Insn) -> None:
    mask = "0xFFFF" if ins.osz == 2 else "0xFCFFFF"  # VM and RF read as 0 in the image
    g.e(f"u = (cpu.eflags_rest & ~{ARITH} | {g.arith()}) & {mask}")
    g.push(ins.osz, "u")


@_op(0x9D)
def g_popf(g: _Gen, ins: Insn) -> None:
    g.pop(ins.osz, "u")
    g.e(f"cpu.set_eflags(u, {ins.osz})")
    g.set_eager(f"u & {ARITH}")
    g.exit(str(g.next_eip()))


@_op(0x9E)
def g_sahf(g: _Gen, ins: Insn) -> None:
    g.set_eager(f"({g.arith()} & 0x800) | ({g.rd(1, 4)} & 0xD5)")


@_op(0x9F)
def g_lahf(g: _Gen, ins: Insn) -> None:
    g.wr(1, 4, f"({g.arith()} & 0xD5) | 2")


@_op(0xD6)
def g_salc(g: _Gen, ins: Insn) -> None:
    g.wr(1, 0, f"0xFF if {g.cf()} else 0")


@_op(0xD7)
def g_xlat(g: _Gen, ins: Insn) -> None:
    seg = ins.seg if ins.seg >= 0 else DS
    mask = MASK[ins.asz]
    g.e(f"a = ({g.seg(seg)} + (({g.rd(ins.asz, 3)} + {g.rd(1, 0)}) & {mask})) & A20")
    g.load(1, "a", "v")
    g.wr(1, 0, "v")


# -- multiply / divide ------------------------------------------------------------------------
@_op(0xF6, 0xF7)
def g_grp3(g: _Gen, ins: Insn) -> None:
    size = _osz(g, ins, ins.op)
    reg = ins.reg
    M = MASK[size]
    if reg in (0, 1):
        alu(g, 4, size, g.rm_read(ins, size), str(ins.imm))
        return
    d = g.rm_read(ins, size)
    if reg == 2:
        g.rm_write(ins, size, f"{d} ^ {M}")
        return
    if reg == 3:
        g.e(f"fb = {d}")
        g.e("fa = 0")
        g.e(f"fr = -fb & {M}")
        g.cc = (CC_SUB, size)
        g.writes[g.k] = True
        g.rm_write(ins, size, "fr")
        return
    g.e(f"v = {d}")
    if reg in (4, 5):
        signed = reg == 5
        if size == 1:
            a = _sx(g.rd(1, 0), 1) if signed else g.rd(1, 0)
            b = _sx("v", 1) if signed else "v"
            g.e(f"t = {a} * {b}")
            g.wr(2, 0, "t & 0xFFFF")
            ovf = "t != ((t & 0xFF) ^ 0x80) - 0x80" if signed else "t > 0xFF"
            g.set_eager(f"MULF(t & 0xFF, 1, {ovf})")
        else:
            a = _sx(g.rd(size, 0), size) if signed else g.rd(size, 0)
            b = _sx("v", size) if signed else "v"
            bits = size * 8
            g.e(f"t = {a} * {b}")
            g.wr(size, 0, f"t & {M}")
            g.wr(size, 2, f"(t >> {bits}) & {M}")
            S = SIGN[size]
            ovf = f"t != ((t & {M}) ^ {S}) - {S}" if signed else f"t > {M}"
            g.set_eager(f"MULF(t & {M}, {size}, {ovf})")
        return
    # DIV / IDIV
    signed = reg == 7
    if size == 1:
        dividend = _sx(g.rd(2, 0), 2) if signed else g.rd(2, 0)
    else:
        bits = size * 8
        dividend = f"({g.rd(size, 2)} << {bits} | {g.rd(size, 0)})"
        if signed:
            dividend = _sx(dividend, size * 2) if size == 2 else \
                f"({dividend} ^ 0x8000000000000000) - 0x8000000000000000"
    divisor = _sx("v", size) if signed else "v"
    g.e(f"q = {'DIVS' if signed else 'DIVU'}({size}, {dividend}, {divisor})")
    with g.block("if q is None:"):
        g.fault(0)
    if size == 1:
        g.wr(2, 0, "q[1] << 8 | q[0]")
    else:
        g.wr(size, 0, "q[0]")
        g.wr(size, 2, "q[1]")


SIGN[8] = "0x8000000000000000"


@_op(0x1AF, 0x69, 0x6B)
def g_imul2(g: _Gen, ins: Insn) -> None:
    size = ins.osz
    M = MASK[size]
    S = SIGN[size]
    v = g.rm_read(ins, size)
    if ins.op == 0x1AF:
        b = g.rd(size, ins.reg)
    else:
        imm = ins.imm
        if ins.op == 0x6B:
            imm = (imm - ((imm & 0x80) << 1)) & NMASK[size]
        b = str(imm)
    g.e(f"t = ({_sx(v, size)}) * ({_sx(b, size)})")
    g.e(f"u = t & {M}")
    g.set_eager(f"MULF(u, {size}, t != (u ^ {S}) - {S})")
    g.wr(size, ins.reg, "u")


# -- shifts and rotates -----------------------------------------------------------------------
@_op(0xC0, 0xC1, 0xD0, 0xD1, 0xD2, 0xD3)
def g_shift(g: _Gen, ins: Insn) -> None:
    size = _osz(g, ins, ins.op)
    if ins.reg >= 4 and ins.op in (0xC0, 0xC1, 0xD0, 0xD1):
        n = 1 if ins.op in (0xD0, 0xD1) else ins.imm & 31
        if n == 0:
            return   # a zero count changes neither the operand nor the flags
        d = g.rm_read(ins, size)
        M = MASK[size]
        S = SIGN[size]
        kind = (CC_SHL, CC_SHR, CC_SHL, CC_SAR)[ins.reg - 4]
        g.writes[g.k] = True
        g.cc = (kind, size)
        if g.live:
            g.e(f"fa = {d}")
            g.set_fb(str(n))
            d = "fa"
        expr = {CC_SHL: f"({d} << {n}) & {M}", CC_SHR: f"{d} >> {n}",
                CC_SAR: f"((({d}) ^ {S}) - {S}) >> {n} & {M}"}[kind]
        if g.live:
            g.e(f"fr = {expr}")
            expr = "fr"
        g.rm_write(ins, size, expr)
        return
    d = g.rm_read(ins, size)
    if ins.op in (0xC0, 0xC1):
        n = str(ins.imm & 31)
    elif ins.op in (0xD0, 0xD1):
        n = "1"
    else:
        n = f"{g.rd(1, 1)}"
    g.e(f"t, fr = SHIFT({ins.reg}, {size}, {d}, {n}, {g.arith()})")
    g.cc = (CC_EAGER, 4)
    g.writes[g.k] = True
    g.rm_write(ins, size, "t")


@_op(0x1A4, 0x1A5, 0x1AC, 0x1AD)
def g_shld(g: _Gen, ins: Insn) -> None:
    size = ins.osz
    d = g.rm_read(ins, size)
    n = str(ins.imm & 31) if ins.op in (0x1A4, 0x1AC) else g.rd(1, 1)
    right = ins.op >= 0x1AC
    g.e(f"t, fr = SHLD({size}, {d}, {g.rd(size, ins.reg)}, {n}, {g.arith()}, {right})")
    g.cc = (CC_EAGER, 4)
    g.writes[g.k] = True
    g.rm_write(ins, size, "t")


# -- bit operations -------------------------------------------------------------------------
@_op(0x1A3, 0x1AB, 0x1B3, 0x1BB, 0x1BA)
def g_bt(g: _Gen, ins: Insn) -> None:
    size = ins.osz
    bits = size * 8
    if ins.op == 0x1BA:
        if ins.reg < 4:
            raise _Unimpl("0F BA /0..3 is undefined")
        kind = ins.reg - 4
        g.e(f"n = {ins.imm & (bits - 1)}")
        if ins.mod == 3:
            d = g.rd(size, ins.rm)
        else:
            g.ea(ins)
            d = g.load(size, "a", "v")
    else:
        kind = {0x1A3: 0, 0x1AB: 1, 0x1B3: 2, 0x1BB: 3}[ins.op]
        src = g.rd(size, ins.reg)
        if ins.mod == 3:
            g.e(f"n = {src} & {bits - 1}")
            d = g.rd(size, ins.rm)
        else:  # the bit offset reaches beyond the operand: signed, in operand-size units
            g.e(f"n = {_sx(src, size)}")
            s = g.seg(g.seg_of(ins))
            g.e(f"a = ({s} + ((({g.offset(ins)}) + (n >> {4 if size == 2 else 5} << "
                f"{1 if size == 2 else 2})) & {MASK[ins.asz]})) & A20")
            g.e(f"n &= {bits - 1}")
            d = g.load(size, "a", "v")
    g.e(f"b = {d} >> n & 1")
    g.set_eager(f"({g.arith()} & ~1) | b")
    if kind:
        expr = {1: f"{d} | (1 << n)", 2: f"{d} & ~(1 << n) & {MASK[size]}",
                3: f"{d} ^ (1 << n)"}[kind]
        g.e(f"u = {expr}")
        if ins.mod == 3:
            g.wr(size, ins.rm, "u")
        else:
            g.store(size, "a", "u")


@_op(0x1BC, 0x1BD)
def g_bsf(g: _Gen, ins: Insn) -> None:
    size = ins.osz
    v = g.rm_read(ins, size)
    g.e(f"v = {v}")
    with g.block("if v:"):
        g.wr(size, ins.reg, "(v & -v).bit_length() - 1" if ins.op == 0x1BC
             else "v.bit_length() - 1")
    g.set_eager(f"({g.arith()} & ~0x40) | (0 if v else 0x40)")


@_op(*range(0x1C8, 0x1D0))
def g_bswap(g: _Gen, ins: Insn) -> None:
    r = ins.op & 7
    if ins.osz == 2:  # undefined on real CPUs; QEMU and hardware give 0
        g.wr(2, r, "0")
    else:
        g.wr(4, r, f"BSWAP({g.rd(4, r)})")


@_op(0x1C0, 0x1C1)
def g_xadd(g: _Gen, ins: Insn) -> None:
    size = 1 if ins.op == 0x1C0 else ins.osz
    d = g.rm_read(ins, size)
    g.e(f"u = {d}")
    s = g.rd(size, ins.reg)
    g.e(f"fa = u")
    g.e(f"fb = {s}")
    g.e(f"fr = (fa + fb) & {MASK[size]}")
    g.cc = (CC_ADD, size)
    g.writes[g.k] = True
    g.wr(size, ins.reg, "u")
    g.rm_write(ins, size, "fr")


@_op(0x1B0, 0x1B1)
def g_cmpxchg(g: _Gen, ins: Insn) -> None:
    size = 1 if ins.op == 0x1B0 else ins.osz
    d = g.rm_read(ins, size)
    g.e(f"u = {d}")
    g.e(f"fa = {g.rd(size, 0)}")
    g.e("fb = u")
    g.e(f"fr = (fa - fb) & {MASK[size]}")
    g.cc = (CC_SUB, size)
    g.writes[g.k] = True
    g.e(f"nv = {g.rd(size, ins.reg)} if fr == 0 else u")
    if ins.mod == 3:
        with g.block("if fr:"):
            g.wr(size, 0, "u")
        g.wr(size, ins.rm, "nv")
    else:
        g.store(size, "a", "nv")  # a locked RMW always writes its destination
        with g.block("if fr:"):
            g.wr(size, 0, "u")


# -- BCD -------------------------------------------------------------------------------------
@_op(0x27, 0x2F)
def g_daa(g: _Gen, ins: Insn) -> None:
    fn = "DAA" if ins.op == 0x27 else "DAS"
    g.e(f"t, fr = {fn}({g.rd(1, 0)}, {g.arith()})")
    g.cc = (CC_EAGER, 4)
    g.writes[g.k] = True
    g.wr(1, 0, "t")


@_op(0x37, 0x3F)
def g_aaa(g: _Gen, ins: Insn) -> None:
    g.e(f"t, fr = AAA({g.rd(2, 0)}, {g.arith()}, {ins.op == 0x3F})")
    g.cc = (CC_EAGER, 4)
    g.writes[g.k] = True
    g.wr(2, 0, "t")


@_op(0xD4)
def g_aam(g: _Gen, ins: Insn) -> None:
    if ins.imm == 0:
        g.fault(0)
        return
    g.e(f"v = {g.rd(1, 0)}")
    g.e(f"fr = v % {ins.imm}")
    g.wr(2, 0, f"(v // {ins.imm}) << 8 | fr")
    g.cc = (CC_LOGIC, 1)
    g.writes[g.k] = True


@_op(0xD5)
def g_aad(g: _Gen, ins: Insn) -> None:
    g.e(f"fr = ({g.rd(1, 0)} + {g.rd(1, 4)} * {ins.imm}) & 0xFF")
    g.wr(2, 0, "fr")
    g.cc = (CC_LOGIC, 1)
    g.writes[g.k] = True


# -- stack frames ------------------------------------------------------------------------------
@_op(0x60)
def g_pusha(g: _Gen, ins: Insn) -> None:
    size = ins.osz
    g.e(f"u = {g.rd(size, 4)}")
    for r in range(8):
        g.push(size, "u" if r == 4 else g.rd(size, r))


@_op(0x61)
def g_popa(g: _Gen, ins: Insn) -> None:
    size = ins.osz
    for r in range(7, -1, -1):
        g.pop(size, "u")
        if r != 4:
            g.wr(size, r, "u")


@_op(0xC9)
def g_leave(g: _Gen, ins: Insn) -> None:
    ssz = 4 if g.hflags & HF_SS32 else 2
    g.wr(ssz, 4, g.rd(ssz, 5))
    g.pop(ins.osz, "u")
    g.wr(ins.osz, 5, "u")


@_op(0xC8)
def g_enter(g: _Gen, ins: Insn) -> None:
    """ENTER as the SDM's pseudo-code, with QEMU's widths (gen_enter): FrameTemp is ESP
    minus the operand size in 32-bit arithmetic; BP and SP are written in the stack's
    width."""
    size = ins.osz
    level = ins.imm2 & 31
    ssz = 4 if g.hflags & HF_SS32 else 2
    am = MASK[ssz]
    s = g.seg(SS)
    g.e(f"fp = ({g.rd(4, 4)} - {size}) & 0xFFFFFFFF")
    g.e(f"a2 = {s} + (fp & {am}) & A20")
    g.store(size, "a2", g.rd(size, 5))
    if level:
        g.e(f"bp = {g.rd(4, 5)}")
        for i in range(1, level):
            g.e(f"a = {s} + ((bp - {size * i}) & {am}) & A20")
            g.load(size, "a", "v")
            g.e(f"a2 = {s} + ((fp - {size * i}) & {am}) & A20")
            g.store(size, "a2", "v")
        g.e(f"a2 = {s} + ((fp - {size * level}) & {am}) & A20")
        g.e(f"w2 = fp & {MASK[size]}")
        g.store(size, "a2", "w2")
    g.wr(ssz, 5, f"fp & {am}")
    g.wr(ssz, 4, f"(fp - {ins.imm + size * level}) & {am}")


@_op(0x62)
def g_bound(g: _Gen, ins: Insn) -> None:
    size = ins.osz
    g.ea(ins)
    g.load(size, "a", "lo")
    g.e(f"a = (a + {size}) & A20")
    g.load(size, "a", "hi")
    g.e(f"u = {_sx(g.rd(size, ins.reg), size)}")
    with g.block(f"if u < {_sx('lo', size)} or u > {_sx('hi', size)}:"):
        g.fault(5)


# -- string instructions -----------------------------------------------------------------------
_STRING = {0xA4: "movs", 0xA5: "movs", 0xA6: "cmps", 0xA7: "cmps", 0xAA: "stos",
           0xAB: "stos", 0xAC: "lods", 0xAD: "lods", 0xAE: "scas", 0xAF: "scas",
           0x6C: "ins", 0x6D: "ins", 0x6E: "outs", 0x6F: "outs"}


@_op(*_STRING)
def g_string(g: _Gen, ins: Insn) -> None:
    size = 1 if ins.op & 1 == 0 else ins.osz
    kind = _STRING[ins.op]
    seg = ins.seg if ins.seg >= 0 else DS
    if ins.rep or kind in ("ins", "outs"):
        for r in (0, 1, 2, 6, 7):
            g.used.add(r)
            g.written.add(r)
        g.segs.update((ES, seg))
        g.sync_call(f"cpu.string_op({kind!r}, {size}, {ins.asz}, {ins.rep}, {seg})")
        if kind in ("ins", "outs"):
            g.exit(str(g.next_eip()))
        return
    # one element, inline
    am = MASK[ins.asz]
    if g.df_static:   # no CLD/STD in the block: the step was read once on entry
        dd = f"dd{size}"
        g.dsizes.add(size)
    else:
        dd = "dd"
        g.e(f"dd = (-{size} if cpu.eflags_rest & 0x400 else {size})")
    if kind in ("movs", "cmps", "lods"):
        g.e(f"a = ({g.seg(seg)} + {g.rd(ins.asz, 6)}) & A20")
        g.load(size, "a", "v")
        g.wr(ins.asz, 6, f"({g.rd(ins.asz, 6)} + {dd}) & {am}")
    if kind in ("movs", "stos", "cmps", "scas"):
        g.e(f"a3 = ({g.seg(ES)} + {g.rd(ins.asz, 7)}) & A20")
        if kind in ("movs", "stos"):
            # the store is the instruction's last act, so a store that kills the running
            # TB can leave from the slow path directly (see _Gen.run)
            val = "v" if kind == "movs" else g.rd(size, 0)
            if not val.isidentifier():
                g.e(f"w = {val}")
                val = "w"
            g.wr(ins.asz, 7, f"({g.rd(ins.asz, 7)} + {dd}) & {am}")
            g.store(size, "a3", val)
            return
        g.load(size, "a3", "u")
        g.wr(ins.asz, 7, f"({g.rd(ins.asz, 7)} + {dd}) & {am}")
    if kind == "lods":
        g.wr(size, 0, "v")
    elif kind == "cmps":
        alu(g, 7, size, "v", "u")
    elif kind == "scas":
        alu(g, 7, size, g.rd(size, 0), "u")


# -- system instructions ---------------------------------------------------------------------
@_op(0x1A2)
def g_cpuid(g: _Gen, ins: Insn) -> None:
    g.e(f"t = CPUID({g.rd(4, 0)}, {g.rd(4, 1)})")
    g.wr(4, 0, "t[0]")
    g.wr(4, 3, "t[1]")
    g.wr(4, 1, "t[2]")
    g.wr(4, 2, "t[3]")


@_op(0x131)
def g_rdtsc(g: _Gen, ins: Insn) -> None:
    g.e(f"t = cpu.rdtsc({g.count(done=False)})")
    g.wr(4, 0, "t & 0xFFFFFFFF")
    g.wr(4, 2, "t >> 32 & 0xFFFFFFFF")
    g.exit(str(g.next_eip()))


@_op(0x120, 0x122)
def g_mov_cr(g: _Gen, ins: Insn) -> None:
    if ins.reg not in (0, 2, 3, 4):
        raise _Unimpl(f"no control register CR{ins.reg}")
    if ins.op == 0x120:
        g.wr(4, ins.rm, f"cpu.cr[{ins.reg}]")
    else:
        g.exit(str(g.next_eip()), post=(f"cpu.write_cr({ins.reg}, {g.rd(4, ins.rm)})",))


@_op(0x106)
def g_clts(g: _Gen, ins: Insn) -> None:
    g.exit(str(g.next_eip()), post=("cpu.write_cr(0, cpu.cr[0] & ~8)",))


@_op(0x101)
def g_grp7(g: _Gen, ins: Insn) -> None:
    reg = ins.reg
    if reg in (0, 1, 2, 3):
        if ins.mod == 3:
            raise _Unimpl("descriptor-table instructions need a memory operand")
        g.ea(ins)
        if reg in (2, 3):  # LGDT / LIDT: limit word, then a 24-bit (16-bit osz) or 32-bit base
            g.load(2, "a", "lo")
            g.e("a = (a + 2) & A20")
            g.load(4, "a", "hi")
            base = "hi" if ins.osz == 4 else "hi & 0xFFFFFF"
            g.exit(str(g.next_eip()),
                   post=(f"cpu.{'gdtr' if reg == 2 else 'idtr'} = ({base}, lo)",))
        else:  # SGDT / SIDT
            table = "gdtr" if reg == 0 else "idtr"
            g.e(f"u = cpu.{table}")
            g.store(2, "a", "u[1]")
            g.e("a = (a + 2) & A20")
            g.store(4, "a", "u[0]" if ins.osz == 4 else "u[0] & 0xFFFFFF")
    elif reg == 4:  # SMSW
        g.e("u = cpu.cr[0]")
        if ins.mod == 3:
            g.wr(ins.osz, ins.rm, f"u & {MASK[ins.osz]}")
        else:
            g.rm_store(ins, 2, "u & 0xFFFF")
    elif reg == 6:  # LMSW: can set PE but not clear it
        v = g.rm_read(ins, 2)
        g.exit(str(g.next_eip()),
               post=(f"cpu.write_cr(0, cpu.cr[0] & ~0xE | ({v}) & 0xF | cpu.cr[0] & 1)",))
    else:
        raise _Unimpl("0F 01 /5 /7")


@_op(0x108, 0x109)
def g_invd(g: _Gen, ins: Insn) -> None:
    pass  # no caches to write back


#: Opcodes LOCK may prefix (SDM vol. 2, LOCK), with the ModR/M reg values allowed for the
#: group opcodes; always with a memory destination.
_LOCKABLE = {**{op: None for op in (0x00, 0x01, 0x08, 0x09, 0x10, 0x11, 0x18, 0x19, 0x20, 0x21,
                                    0x28, 0x29, 0x30, 0x31, 0x86, 0x87, 0x1AB, 0x1B3, 0x1BB,
                                    0x1B0, 0x1B1, 0x1C0, 0x1C1)},
             0x80: (0, 1, 2, 3, 4, 5, 6), 0x81: (0, 1, 2, 3, 4, 5, 6),
             0x82: (0, 1, 2, 3, 4, 5, 6), 0x83: (0, 1, 2, 3, 4, 5, 6),
             0xF6: (2, 3), 0xF7: (2, 3), 0xFE: (0, 1), 0xFF: (0, 1), 0x1BA: (5, 6, 7)}


def _lockable(ins: Insn) -> bool:
    if ins.op not in _LOCKABLE or ins.mod == 3:
        return False
    regs = _LOCKABLE[ins.op]
    return regs is None or ins.reg in regs


@_op(0x10B, 0x63, 0x100, 0x102, 0x103, 0x105, 0x107, 0x130, 0x132, 0x121, 0x123)
def g_ud(g: _Gen, ins: Insn) -> None:
    """#UD: UD2, and what real-address mode rejects on a 386 (ARPL, the 0F 00 group,
    LAR/LSL) or a 386 does not have (SYSCALL/SYSRET, RDMSR/WRMSR); MOV to/from debug
    registers is not modelled and also faults."""
    g.fault(6)


# ------------------------------------------------------------------------------------------
#: an integer literal in generated source (identifiers like r0 or tb_7c00_1 do not match)
#: opcodes whose immediate changes the code's shape (shift/rotate counts: a zero count
#: leaves the flags alone), so it is part of a block's shape for the liveness seed
_IMM_SHAPES = frozenset((0xC0, 0xC1, 0x1A4, 0x1AC, 0xC8))
_LITERAL = re.compile(r"\b(0x[0-9A-Fa-f]+|[1-9][0-9]*|0)\b")
_FACTORIES_MAX = 4096
#: compiled code objects by source text, shared by every Translator in the process: a
#: machine running code another one already compiled (the BIOS's stubs, a program booted
#: again, the test suite's many machines) binds that code to its own globals instead of
#: compiling it again.  A code object holds no machine state, so sharing it is safe.
_CODE_OBJECTS: dict = {}
_CODE_OBJECTS_MAX = 8192


def clear_code_cache() -> None:
    """Forget the shared compiled code (a benchmark measuring a first run in a process)."""
    _CODE_OBJECTS.clear()


def _compiled(source: str, filename: str):
    code = _CODE_OBJECTS.get(source)
    if code is None:
        code = compile(source, filename, "exec")
        if len(_CODE_OBJECTS) >= _CODE_OBJECTS_MAX:
            _CODE_OBJECTS.clear()
        _CODE_OBJECTS[source] = code
    return code


def _block_port_io(cpu, tlb, ports) -> dict:
    """The port I/O helpers of generated code: ``INX<size>(port, k)`` and
    ``OUTX<size>(port, value, k)``, ``k`` the instructions the block ran before this one.

    Around the device's callback, ``cpu._done`` counts those ``k`` too, so the device reads
    the virtual time of the IN/OUT itself (as RDTSC's ``in_block``).  After it, the helper
    says whether the block must end right after the instruction: when the CPU loop would
    act before the next one -- a device kicked it (exit_request: a timer re-armed), an
    interrupt became deliverable, the CPU halted, the memory map changed (a TLB flush), the
    mode changed (hflags: A20 through port 92h), or the running TB was overwritten (a DMA
    the OUT started).  OUTX returns that as a bool; INX as bit ``8 * size`` of its result
    (one call and no tuple per access: this is planar drawing's hot path)."""
    IF = 0x200

    def must_end(flushes: int, hflags: int) -> bool:
        if (cpu.exit_request or tlb.flush_count != flushes or cpu.hflags != hflags
                or cpu.halted):
            return True
        tbc = tlb.tb_cache
        if tbc is not None and tbc.running_invalidated:
            return True
        if cpu.eflags_rest & IF:
            pic = cpu.pic
            return bool(cpu.pending_irqs or pic is not None and pic.int_output)
        return False

    def build_in(size: int, inp):
        stop = 1 << (8 * size)

        def inx(port: int, k: int) -> int:
            flushes, hflags = tlb.flush_count, cpu.hflags
            tbc = tlb.tb_cache
            if tbc is not None:
                tbc.running_invalidated = False
            cpu._done += k
            try:
                v = inp(port)
            finally:
                cpu._done -= k
            return v | stop if must_end(flushes, hflags) else v

        return inx

    def build_out(out):
        def outx(port: int, value: int, k: int) -> bool:
            flushes, hflags = tlb.flush_count, cpu.hflags
            tbc = tlb.tb_cache
            if tbc is not None:
                tbc.running_invalidated = False
            cpu._done += k
            try:
                out(port, value)
            finally:
                cpu._done -= k
            return must_end(flushes, hflags)

        return outx

    helpers_ = {}
    for size in (1, 2, 4):
        helpers_[f"INX{size}"] = build_in(size, ports.inp[size])
        helpers_[f"OUTX{size}"] = build_out(ports.out[size])
    return helpers_


class Translator:
    """Builds TB functions for one CPU (its TLB dicts and I/O space bound as globals)."""

    def __init__(self, cpu):
        self.cpu = cpu
        tlb = cpu.tlb
        ports = cpu.ports
        load, store = tlb.load, tlb.store
        io_pages = tlb.io_pages

        def ld(a: int, size: int) -> int:
            """The slow load path; a segment base near 4 GiB wraps as 32 address lines do.
            On an MMIO page (SoftTLB.io_pages) an access the region takes whole is one call
            of its read callback, as TCG's io_readx; anything else is SoftTLB.load."""
            a &= 0xFFFFFFFF
            io = io_pages.get(a >> 12)
            if io is not None and io.unit_le & size and (a & 4095) <= 4096 - size:
                x = a - io.delta
                if not x & (size - 1):
                    return io.ops.read(x, size) & ((1 << (size << 3)) - 1)
            return load(a, size)

        code_writes = tlb.code_write_pages

        def st(a: int, size: int, v: int) -> bool:
            """The slow store path.  On an MMIO page an access the region takes whole is
            one call of its write callback (io_writex), True when it invalidated the running
            TB or changed the map, as SoftTLB.store says.  Data beside translated code (a
            boot sector's stack and variables share its page) is stored here at once when
            the TB cache's coverage map shows the bytes hold no code; anything else is
            SoftTLB.store."""
            a &= 0xFFFFFFFF
            io = io_pages.get(a >> 12)
            if io is not None and io.unit_le & size and (a & 4095) <= 4096 - size:
                x = a - io.delta
                if not x & (size - 1):
                    tbc = tlb.tb_cache
                    flushes = tlb.flush_count
                    if tbc is not None:
                        tbc.running_invalidated = False
                    io.ops.write(x, v & ((1 << (size << 3)) - 1), size)
                    return (tlb.flush_count != flushes
                            or tbc is not None and tbc.running_invalidated)
            e = code_writes.get(a >> 12)
            if e is not None:
                o = a & 4095
                if o + size <= 4096 and e[1].count(0, o, o + size) == size:
                    e[0][o:o + size] = v.to_bytes(size, "little")
                    return False
            return store(a, size, v)

        #: the slow store path of generated code (the CPU's own pushes use it too)
        self.st = st
        self.globals = {
            "RP": tlb.read_pages, "WP": tlb.write_pages, "ld": ld, "st": st,
            "LAZY": state.lazy_arith, "PARITY": state.PARITY, "SHIFT": state.shift_op,
            "SHLD": state.shld_op, "DAA": state.daa, "DAS": state.das, "AAA": state.aaa_aas,
            "MULF": helpers.mul_flags, "DIVU": helpers.div_u, "DIVS": helpers.div_s,
            "BSWAP": helpers.bswap, "CPUID": helpers.cpuid,
            **_block_port_io(cpu, tlb, ports),
        }
        #: code shape (literals abstracted) -> factory, for compile_shared
        self._factories: dict = {}
        #: block shape -> the flag liveness and wide registers its last translation found
        self._liveness: dict = {}

    def gather(self, cs_base: int, eip: int, hflags: int, max_insns: int) -> list[Insn]:
        """Decode a block: up to ``max_insns`` instructions, ending at a block-ending
        instruction or before the first one that starts on another page."""
        cpu = self.cpu
        a20 = cpu.a20_mask
        ipmask = 0xFFFFFFFF if hflags & HF_CS32 else 0xFFFF
        code_byte = cpu.code_byte

        def fetch(off: int) -> int:
            return code_byte((cs_base + (off & ipmask)) & a20)

        insns: list[Insn] = []
        start_page = ((cs_base + eip) & a20) >> 12
        pc = eip
        while len(insns) < max_insns:
            if insns and ((cs_base + pc) & a20) >> 12 != start_page:
                break
            try:
                ins = decode(fetch, pc, bool(hflags & HF_CS32))
            except DecodeError as e:
                if insns:
                    break
                raw = bytes(fetch(eip + i) for i in range(max(e.length, 1)))
                raise UnimplementedInstruction(cpu.seg_sel[1], eip, raw, e.mnemonic, str(e))
            insns.append(ins)
            if _is_jcc(ins) and _branch_target(ins) != eip:
                pass   # a conditional branch inside the block: a side exit or a skip
            elif _label_end(ins) or (hflags & HF_PE and ins.op in _SEG_LOADS):
                break
            pc = ins.next_eip & ipmask
        return insns

    def generate(self, insns: list[Insn], hflags: int, bios_trap: bool) -> tuple[str, int]:
        """Python source of the TB function for ``insns`` (maybe fewer: stops before the
        first instruction it cannot translate); returns (source, instructions used)."""
        while True:
            try:
                return self._generate(insns, hflags, bios_trap), len(insns)
            except _Unimpl as u:
                bad = self._bad_index
                if bad == 0:
                    ins = insns[0]
                    raise UnimplementedInstruction(self.cpu.seg_sel[1], ins.eip, ins.raw,
                                                   mnemonic(ins.op, ins.reg), u.why) from None
                insns = insns[:bad]

    def generate_one(self, ins: Insn, hflags: int, bios_trap: bool) -> str:
        """Python source of a one-instruction function (the interpreted tier and the
        decode-every-instruction path), in one pass: its flags are all live at its exit
        and every register is kept 32 bits wide, the safe answers the liveness passes of
        a block would only narrow -- one instruction gains nothing from narrowing them,
        and the first tier must be cheap."""
        insns = [ins]
        loop = _branch_target(ins) == ins.eip
        g = _Gen(self, insns, hflags, [True], loop, bios_trap, frozenset(range(8)), True, {},
                 [True, True])
        try:
            g.run()
        except _Unimpl as u:
            raise UnimplementedInstruction(self.cpu.seg_sel[1], ins.eip, ins.raw,
                                           mnemonic(ins.op, ins.reg), u.why) from None
        return g.source(f"tb_{ins.eip:x}")

    def _generate(self, insns: list[Insn], hflags: int, bios_trap: bool) -> str:
        n = len(insns)
        loop = _branch_target(insns[-1]) == insns[0].eip
        regions = _regions(insns)
        # Code rewritten in place (SMC) is translated again and again with the same shape:
        # start from the last analysis of a block of this shape.  One pass proves it right
        # (it is a fixpoint of the code generated with it); if not, start over from "all
        # live", as for new code.
        shape = (insns[0].eip, hflags, loop, tuple(regions.items()),
                 tuple((i.op, i.reg, i.mod, i.rm, i.osz, i.asz, i.rep, i.imm if i.op in
                        _IMM_SHAPES else 0) for i in insns))
        seed = self._liveness.get(shape)
        if seed is not None:
            live, wide, live_at = seed
            g = _Gen(self, insns, hflags, live, loop, bios_trap, wide, live_at[0], regions,
                     live_at)
            try:
                g.run()
            except _Unimpl:
                self._bad_index = g.k
                raise
            new_at, new = self._liveness_of(g, n, regions)
            if new == live and frozenset(g.wide_seen) == wide and new_at == live_at:
                return g.source(f"tb_{insns[0].eip:x}")
        live = [True] * n
        live_at = [True] * (n + 1)
        wide = frozenset(range(8))
        g = None
        for _ in range(4):
            g = _Gen(self, insns, hflags, live, loop, bios_trap, wide, live_at[0], regions,
                     live_at)
            try:
                g.run()
            except _Unimpl:
                self._bad_index = g.k
                raise
            new_at, new = self._liveness_of(g, n, regions)
            seen = frozenset(g.wide_seen)
            if new == live and seen == wide and new_at == live_at:
                if len(self._liveness) >= _FACTORIES_MAX:
                    self._liveness.clear()
                self._liveness[shape] = (live, wide, live_at)
                break
            live, wide, live_at = new, seen, new_at
        if not g.wide_seen <= g.wide:  # cannot happen: the passes agree; stay safe anyway
            g = _Gen(self, insns, hflags, live, loop, bios_trap, frozenset(range(8)), True,
                     regions, live_at)
            g.run()
        return g.source(f"tb_{insns[0].eip:x}")

    @staticmethod
    def _liveness_of(g: "_Gen", n: int, regions: dict) -> tuple[list[bool], list[bool]]:
        """Backward liveness of "any arithmetic flag" over the code ``g`` generated: (live on
        entry to each instruction and at the end, live after each).  A skip's branch also
        flows to its target, and the block's end (every exit) reads them all."""
        new_at = [True] * (n + 1)
        new = [True] * n
        reads, writes = g.reads, g.writes
        for k in range(n - 1, -1, -1):
            out = new_at[k + 1]
            if k in regions:
                out = out or new_at[regions[k]]
            new[k] = out
            new_at[k] = reads[k] or (out and not writes[k])
        return new_at, new

    def compile(self, source: str, name_hint: str = "tb"):
        code = _compiled(source, f"<{name_hint}>")
        ns: dict = {}
        exec(code, self.globals, ns)
        return next(iter(ns.values()))

    def compile_shared(self, source: str, name_hint: str = "tb"):
        """compile() for code that keeps being rewritten (a patched immediate, a new jump
        target): the integer literals become arguments of a factory compiled once per
        shape, so the next version of the code costs a call, not a compile().  The
        literals are then closure cells instead of folded constants, so a block
        translated once keeps the plain compile()."""
        head, sep, body = source.partition("\n")
        if not sep or "'" in body or '"' in body or not head.startswith("def "):
            return self.compile(source, name_hint)
        parts = _LITERAL.split(body)   # text, literal, text, literal, ..., text
        texts = tuple(parts[0::2])
        values = [int(v, 0) for v in parts[1::2]]
        make = self._factories.get(texts)
        if make is None:
            shape = "".join(t + f"_k{i}" for i, t in enumerate(texts[:-1])) + texts[-1]
            params = ", ".join(f"_k{i}" for i in range(len(values)))
            inner = "\n".join("    " + line if line else line for line in shape.split("\n"))
            src = (f"def _make({params}):\n    def tb(cpu, budget):\n{inner}\n"
                   f"    return tb\n")
            if len(self._factories) >= _FACTORIES_MAX:
                self._factories.clear()
            make = self._factories[texts] = self.compile(src, f"{name_hint} shape")
        return make(*values)


def _is_jcc(ins: Insn) -> bool:
    return 0x70 <= ins.op < 0x80 or 0x180 <= ins.op < 0x190


def _regions(insns: list[Insn]) -> dict[int, int]:
    """The conditional branches that skip forward to an instruction of the same block and
    nest properly: Jcc index -> target index (emitted as ``if not cond:`` over the skipped
    instructions).  Other conditional branches inside the block become side exits."""
    index = {ins.eip: i for i, ins in enumerate(insns)}
    regions: dict[int, int] = {}
    ends: list[int] = []
    for k, ins in enumerate(insns[:-1]):
        while ends and ends[-1] <= k:
            ends.pop()
        if not _is_jcc(ins):
            continue
        t = index.get(_branch_target(ins))
        if (t is not None and t > k + 1 and insns[t].eip - ins.next_eip <= MAX_SKIP
                and (not ends or t <= ends[-1])):
            regions[k] = t
            ends.append(t)
    return regions


def _branch_target(ins: Insn) -> int | None:
    """The constant near target of a jump/Jcc/LOOP ending a block, else None."""
    op = ins.op
    mask = 0xFFFFFFFF if ins.osz == 4 else 0xFFFF
    if 0x70 <= op < 0x80 or 0xE0 <= op <= 0xE3 or op == 0xEB:
        return (ins.next_eip + ins.imm - ((ins.imm & 0x80) << 1)) & mask
    if 0x180 <= op < 0x190 or op == 0xE9:
        imm = ins.imm
        imm -= (imm & (0x80000000 if ins.osz == 4 else 0x8000)) << 1
        return (ins.next_eip + imm) & mask
    return None
