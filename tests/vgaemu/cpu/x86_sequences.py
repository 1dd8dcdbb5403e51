"""Hypothesis strategies that write random real-mode x86 code, one instruction family at a time.

Every generated instruction is an `Insn`: its bytes plus what the differential harness needs
to judge it -- which arithmetic flags it reads, which it writes, and which the SDM leaves
undefined (those are never compared).  Families are named (``"alu"``, ``"shift"``, ...) so a
test can run over exactly the families the CPU implements today (`FAMILIES`, and the list of
covered names in test_vs_unicorn.py that grows with the CPU).

The code runs in a fixed sandbox (`LAYOUT`): each segment register points at its own 64 KiB
window of low RAM, with unmapped gaps in the reference so an access outside its segment (an
0x67 offset past 64 KiB, a word at offset 0xFFFF) faults in unicorn and ends the comparison
there instead of comparing behaviour real mode leaves to the segment limit.

Control flow stays finite: branches jump forward only; loops and REP string operations are
macros that load a small count first; calls are `call L; jmp over; L: ...; ret`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from hypothesis import strategies as st

CF, PF, AF, ZF, SF, TF, IF, DF, OF = 0x1, 0x4, 0x10, 0x40, 0x80, 0x100, 0x200, 0x400, 0x800
ARITH = CF | PF | AF | ZF | SF | OF
#: The EFLAGS bits a real-mode 386 has (bits 16+ -- RF, VM and the 486's AC -- are left out,
#: and bit 1 always reads 1).
EFLAGS_COMPARED = ARITH | TF | IF | DF | 0x7000 | 0x2

#: Segment registers -> paragraph; each window is 64 KiB of RAM, CS at 0x10000.
LAYOUT = {"cs": 0x1000, "ds": 0x3000, "es": 0x5000, "ss": 0x7000, "gs": 0x8000, "fs": 0x9000}
CODE_IP = 0x0100
WINDOWS = tuple(sorted({seg << 4 for seg in LAYOUT.values()}))
WINDOW_SIZE = 0x10000

SEG_PREFIX = {"es": 0x26, "cs": 0x2E, "ss": 0x36, "ds": 0x3E, "fs": 0x64, "gs": 0x65}
SEG_INDEX = {"es": 0, "cs": 1, "ss": 2, "ds": 3, "fs": 4, "gs": 5}

#: condition code (low nibble of Jcc/SETcc) -> the flags it reads
COND_READS = [OF, OF, CF, CF, ZF, ZF, CF | ZF, CF | ZF, SF, SF, PF, PF,
              SF | OF, SF | OF, ZF | SF | OF, ZF | SF | OF]


@dataclass
class Insn:
    """One instruction (or a fixed macro of several) as bytes plus its flag behaviour."""

    code: bytes
    family: str
    reads: int = 0          # arithmetic flags the instruction reads
    writes: int = 0         # arithmetic flags it always writes (defined or not)
    undef: int = 0          # arithmetic flags the SDM leaves undefined after it
    #: forward branch: skip this many following items (resolved when the sequence is built)
    skip: int | None = None
    branch_fmt: str | None = None   # "rel8"/"rel16"/"rel32": the displacement at the end;
    #                                 "abs16": the target's IP at byte `target_at`
    target_at: int = 0
    #: (byte position, delta, size): this item's own IP + delta goes there (far pointers)
    self_at: tuple | None = None


def shift_undefined(kind: str, width: int, count: int) -> int:
    """The SDM's undefined flags of a shift/rotate by `count` (before the 5-bit mask)."""
    c = count & 0x1F
    if c == 0:
        return 0
    if kind in ("rol", "ror", "rcl", "rcr"):
        return OF if c != 1 else 0
    if kind in ("shld", "shrd"):
        if c > width:
            return ARITH
        return AF | (OF if c != 1 else 0)
    undef = AF | (OF if c != 1 else 0)
    if kind in ("shl", "shr") and c >= width:
        undef |= CF
    return undef


def _modrm_length(code: bytes, i: int, addr32: bool) -> int:
    """Bytes taken by the ModR/M byte at code[i] with its SIB and displacement."""
    modrm = code[i]
    mod, rm = modrm >> 6, modrm & 7
    if mod == 3:
        return 1
    if not addr32:
        return 1 + (2 if (mod == 0 and rm == 6) or mod == 2 else mod)
    n = 1
    if rm == 4:
        n += 1
        if mod == 0 and code[i + 1] & 7 == 5:
            n += 4
    elif mod == 0 and rm == 5:
        n += 4
    return n + (1 if mod == 1 else 4 if mod == 2 else 0)


def undefined_flags(code: bytes, ecx: int) -> int:
    """The arithmetic flags the SDM leaves undefined after the instruction at code[0]
    (`ecx`: ECX before it, for shifts by CL)."""
    i, op32, addr32 = 0, False, False
    while code[i] in (0x26, 0x2E, 0x36, 0x3E, 0x64, 0x65, 0x66, 0x67, 0xF0, 0xF2, 0xF3):
        op32 |= code[i] == 0x66
        addr32 |= code[i] == 0x67
        i += 1
    op = code[i]
    reg = (code[i + 1] >> 3) & 7 if i + 1 < len(code) else 0
    width = 8 if op & 1 == 0 else (32 if op32 else 16)
    if op in (0x08, 0x09, 0x0A, 0x0B, 0x0C, 0x0D, 0x20, 0x21, 0x22, 0x23, 0x24, 0x25,
              0x30, 0x31, 0x32, 0x33, 0x34, 0x35, 0x84, 0x85, 0xA8, 0xA9):
        return AF
    if op in (0x80, 0x81, 0x82, 0x83):
        return AF if reg in (1, 4, 6) else 0
    if op in (0xF6, 0xF7):
        return {0: AF, 1: AF, 4: SF | ZF | AF | PF, 5: SF | ZF | AF | PF}.get(
            reg, ARITH if reg >= 6 else 0)
    if op in (0x69, 0x6B):
        return SF | ZF | AF | PF
    if op in (0x27, 0x2F):
        return OF
    if op in (0x37, 0x3F):
        return OF | SF | ZF | PF
    if op in (0xD4, 0xD5):
        return OF | AF | CF
    if op in (0xC0, 0xC1, 0xD0, 0xD1, 0xD2, 0xD3):
        kind = SHIFT_KINDS[reg] or "shl"
        if op in (0xD0, 0xD1):
            count = 1
        elif op in (0xD2, 0xD3):
            count = ecx & 0xFF
        else:
            count = code[i + 1 + _modrm_length(code, i + 1, addr32)]
        return shift_undefined(kind, width, count)
    if op == 0x0F:
        op2 = code[i + 1]
        reg = (code[i + 2] >> 3) & 7 if i + 2 < len(code) else 0
        width = 32 if op32 else 16
        if op2 == 0xAF:
            return SF | ZF | AF | PF
        if op2 in (0xA3, 0xAB, 0xB3, 0xBB, 0xBA):     # ZF is unaffected (SDM)
            return OF | SF | AF | PF
        if op2 in (0xBC, 0xBD):
            return CF | OF | SF | AF | PF
        if op2 in (0xA4, 0xA5, 0xAC, 0xAD):
            kind = "shld" if op2 < 0xA8 else "shrd"
            if op2 & 1:
                count = ecx & 0xFF
            else:
                count = code[i + 2 + _modrm_length(code, i + 2, addr32)]
            return shift_undefined(kind, width, count)
    return 0


# ---------------------------------------------------------------------------- operands

def _imm(draw, size: int) -> bytes:
    special = [0, 1, (1 << (8 * size)) - 1, 1 << (8 * size - 1), (1 << (8 * size - 1)) - 1]
    v = draw(st.one_of(st.sampled_from(special), st.integers(0, (1 << (8 * size)) - 1)))
    return v.to_bytes(size, "little")


def _disp32(draw) -> int:
    """A 32-bit displacement that mostly keeps the offset inside the segment."""
    return draw(st.one_of(st.integers(0, 0xFFFF), st.integers(-0x100, -1),
                          st.integers(0, 0xFFFFFFFF))) & 0xFFFFFFFF


@dataclass
class Operand:
    modrm_tail: bytes        # the ModR/M byte with reg=0, then SIB and displacement
    is_mem: bool
    rm: int                  # register number when not memory
    desc: str = ""


@st.composite
def rm_operand(draw, addr32: bool, mem: bool | None = None):
    """A ModR/M r/m operand (register when `mem` is False, memory when True, either when None)."""
    is_mem = draw(st.booleans()) if mem is None else mem
    if not is_mem:
        rm = draw(st.integers(0, 7))
        return Operand(bytes([0xC0 | rm]), False, rm)
    mod = draw(st.integers(0, 2))
    rm = draw(st.integers(0, 7))
    tail = b""
    if not addr32:
        if mod == 0 and rm == 6:
            tail = draw(st.integers(0, 0xFFFF)).to_bytes(2, "little")
        elif mod == 1:
            tail = draw(st.integers(0, 0xFF)).to_bytes(1, "little")
        elif mod == 2:
            tail = draw(st.integers(0, 0xFFFF)).to_bytes(2, "little")
        return Operand(bytes([(mod << 6) | rm]) + tail, True, rm)
    if rm == 4:
        scale, index, base = (draw(st.integers(0, 3)), draw(st.integers(0, 7)),
                              draw(st.integers(0, 7)))
        tail = bytes([(scale << 6) | (index << 3) | base])
        if mod == 0 and base == 5:
            tail += _disp32(draw).to_bytes(4, "little")
    elif mod == 0 and rm == 5:
        tail = _disp32(draw).to_bytes(4, "little")
    if mod == 1:
        tail += draw(st.integers(0, 0xFF)).to_bytes(1, "little")
    elif mod == 2:
        tail += _disp32(draw).to_bytes(4, "little")
    return Operand(bytes([(mod << 6) | rm]) + tail, True, rm)


@st.composite
def prefixes(draw, *, opsize: bool, mem: bool, lock: bool = False, addr: bool | None = None):
    """(prefix bytes, op32, addr32).  `opsize`: the instruction has a 16/32-bit form;
    `mem`: it has a memory operand (segment override, 0x67); `lock`: LOCK is legal."""
    op32 = draw(st.booleans()) if opsize else False
    addr32 = draw(st.booleans()) if (mem if addr is None else addr) else False
    out = []
    if op32:
        out.append(0x66)
    if addr32:
        out.append(0x67)
    if mem and draw(st.integers(0, 2)) == 0:
        out.append(SEG_PREFIX[draw(st.sampled_from(sorted(SEG_PREFIX)))])
    if lock and mem and draw(st.integers(0, 3)) == 0:
        out.append(0xF0)
    out = draw(st.permutations(out))
    return bytes(out), op32, addr32


def _modrm(op: Operand, reg: int) -> bytes:
    return bytes([op.modrm_tail[0] | (reg << 3)]) + op.modrm_tail[1:]


# ---------------------------------------------------------------------------- families
# Each family is a strategy producing one Insn (or a macro Insn of several instructions).

ALU_NAMES = ["add", "or", "adc", "sbb", "and", "sub", "xor", "cmp"]
LOCKABLE_ALU = {0, 1, 2, 3, 4, 5, 6}   # every ALU op but CMP


def _alu_flags(op: int) -> dict:
    reads = CF if op in (2, 3) else 0
    undef = AF if op in (1, 4, 6) else 0
    return dict(reads=reads, writes=ARITH, undef=undef)


@st.composite
def fam_alu(draw):
    """00-3D: op r/m,r / r,r/m / AL,imm8 / eAX,imm (both widths, both directions)."""
    op = draw(st.integers(0, 7))
    form = draw(st.integers(0, 5))
    if form >= 4:
        pre, op32, _ = draw(prefixes(opsize=form == 5, mem=False))
        size = 1 if form == 4 else (4 if op32 else 2)
        return Insn(pre + bytes([op * 8 + form]) + _imm(draw, size), "alu", **_alu_flags(op))
    mem = draw(st.booleans())
    lock = form in (0, 1) and op in LOCKABLE_ALU
    pre, op32, addr32 = draw(prefixes(opsize=form & 1 == 1, mem=mem, lock=lock))
    opnd = draw(rm_operand(addr32, mem))
    return Insn(pre + bytes([op * 8 + form]) + _modrm(opnd, draw(st.integers(0, 7))), "alu",
                **_alu_flags(op))


@st.composite
def fam_alu_imm(draw):
    """80/81/83 /op: op r/m,imm (83: sign-extended imm8)."""
    opcode = draw(st.sampled_from([0x80, 0x81, 0x83]))
    op = draw(st.integers(0, 7))
    mem = draw(st.booleans())
    pre, op32, addr32 = draw(prefixes(opsize=opcode != 0x80, mem=mem, lock=op in LOCKABLE_ALU))
    opnd = draw(rm_operand(addr32, mem))
    isz = 1 if opcode in (0x80, 0x83) else (4 if op32 else 2)
    return Insn(pre + bytes([opcode]) + _modrm(opnd, op) + _imm(draw, isz), "alu_imm",
                **_alu_flags(op))


@st.composite
def fam_alu_82(draw):
    """82 /op ib: the 8086's alias of 80 (legal outside 64-bit mode)."""
    op = draw(st.integers(0, 7))
    mem = draw(st.booleans())
    pre, _, addr32 = draw(prefixes(opsize=False, mem=mem))
    opnd = draw(rm_operand(addr32, mem))
    return Insn(pre + bytes([0x82]) + _modrm(opnd, op) + _imm(draw, 1), "alu_82", **_alu_flags(op))


@st.composite
def fam_test(draw):
    """84/85 TEST r/m,r; A8/A9 TEST acc,imm; F6/F7 /0 TEST r/m,imm."""
    form = draw(st.sampled_from([0x84, 0x85, 0xA8, 0xA9, 0xF6, 0xF7]))
    flags = dict(writes=ARITH, undef=AF)
    if form in (0xA8, 0xA9):
        pre, op32, _ = draw(prefixes(opsize=form == 0xA9, mem=False))
        return Insn(pre + bytes([form]) + _imm(draw, 1 if form == 0xA8 else (4 if op32 else 2)),
                    "test", **flags)
    mem = draw(st.booleans())
    pre, op32, addr32 = draw(prefixes(opsize=form & 1 == 1, mem=mem))
    opnd = draw(rm_operand(addr32, mem))
    if form in (0x84, 0x85):
        return Insn(pre + bytes([form]) + _modrm(opnd, draw(st.integers(0, 7))), "test", **flags)
    isz = 1 if form == 0xF6 else (4 if op32 else 2)
    return Insn(pre + bytes([form]) + _modrm(opnd, 0) + _imm(draw, isz), "test", **flags)


@st.composite
def fam_inc_dec(draw):
    """40-4F INC/DEC r16/r32; FE/FF /0 /1 INC/DEC r/m."""
    flags = dict(writes=ARITH & ~CF)
    if draw(st.booleans()):
        pre, _, _ = draw(prefixes(opsize=True, mem=False))
        return Insn(pre + bytes([draw(st.integers(0x40, 0x4F))]), "inc_dec", **flags)
    opcode = draw(st.sampled_from([0xFE, 0xFF]))
    mem = draw(st.booleans())
    pre, _, addr32 = draw(prefixes(opsize=opcode == 0xFF, mem=mem, lock=True))
    opnd = draw(rm_operand(addr32, mem))
    return Insn(pre + bytes([opcode]) + _modrm(opnd, draw(st.integers(0, 1))), "inc_dec", **flags)


@st.composite
def fam_not_neg(draw):
    """F6/F7 /2 NOT, /3 NEG."""
    opcode = draw(st.sampled_from([0xF6, 0xF7]))
    reg = draw(st.sampled_from([2, 3]))
    mem = draw(st.booleans())
    # LOCK NEG is left out: unicorn 2.1 sets its flags from the old value (QEMU's locked
    # NEG bug), so it cannot be the reference there; test_vectors_cpu.py covers it
    pre, _, addr32 = draw(prefixes(opsize=opcode == 0xF7, mem=mem, lock=reg == 2))
    opnd = draw(rm_operand(addr32, mem))
    flags = dict(writes=ARITH) if reg == 3 else {}
    return Insn(pre + bytes([opcode]) + _modrm(opnd, reg), "not_neg", **flags)


@st.composite
def fam_mul_div(draw):
    """F6/F7 /4 MUL, /5 IMUL, /6 DIV, /7 IDIV (a #DE ends the comparison there)."""
    opcode = draw(st.sampled_from([0xF6, 0xF7]))
    reg = draw(st.integers(4, 7))
    mem = draw(st.booleans())
    pre, _, addr32 = draw(prefixes(opsize=opcode == 0xF7, mem=mem))
    opnd = draw(rm_operand(addr32, mem))
    undef = (SF | ZF | AF | PF) if reg < 6 else ARITH
    return Insn(pre + bytes([opcode]) + _modrm(opnd, reg), "mul_div", writes=ARITH, undef=undef)


@st.composite
def fam_imul(draw):
    """0F AF IMUL r,r/m; 69 IMUL r,r/m,imm; 6B IMUL r,r/m,imm8."""
    form = draw(st.sampled_from([b"\x0f\xaf", b"\x69", b"\x6b"]))
    mem = draw(st.booleans())
    pre, op32, addr32 = draw(prefixes(opsize=True, mem=mem))
    opnd = draw(rm_operand(addr32, mem))
    tail = b""
    if form == b"\x69":
        tail = _imm(draw, 4 if op32 else 2)
    elif form == b"\x6b":
        tail = _imm(draw, 1)
    return Insn(pre + form + _modrm(opnd, draw(st.integers(0, 7))) + tail, "imul",
                writes=ARITH, undef=SF | ZF | AF | PF)


SHIFT_KINDS = ["rol", "ror", "rcl", "rcr", "shl", "shr", None, "sar"]


@st.composite
def fam_shift(draw):
    """C0/C1 by imm8, D0/D1 by 1, D2/D3 by CL: ROL ROR RCL RCR SHL SHR SAR."""
    opcode = draw(st.sampled_from([0xC0, 0xC1, 0xD0, 0xD1, 0xD2, 0xD3]))
    reg = draw(st.sampled_from([0, 1, 2, 3, 4, 5, 7]))
    kind = SHIFT_KINDS[reg]
    mem = draw(st.booleans())
    pre, op32, addr32 = draw(prefixes(opsize=opcode & 1 == 1, mem=mem))
    width = 8 if opcode & 1 == 0 else (32 if op32 else 16)
    opnd = draw(rm_operand(addr32, mem))
    reads = CF if kind in ("rcl", "rcr") else 0
    code = pre + bytes([opcode]) + _modrm(opnd, reg)
    if opcode in (0xD2, 0xD3):
        # the count may be 0 (nothing written) or anything else: taint conservatively
        return Insn(code, "shift", reads=reads, writes=0,
                    undef=OF | (AF | CF if kind in ("shl", "shr", "sar") else 0))
    if opcode in (0xD0, 0xD1):
        count = 1
    else:
        count = draw(st.one_of(st.sampled_from([0, 1, 7, 8, 9, 15, 16, 17, 31, 32, 33]),
                               st.integers(0, 255)))
        code += bytes([count])
    c = count & 0x1F
    writes = 0 if c == 0 else ((CF | OF) if kind in ("rol", "ror", "rcl", "rcr") else ARITH)
    return Insn(code, "shift", reads=reads, writes=writes,
                undef=shift_undefined(kind, width, count))


@st.composite
def fam_shld_shrd(draw):
    """0F A4/AC by imm8, 0F A5/AD by CL (16-bit by CL is preceded by AND CL,15: counts above
    the operand size leave the result undefined)."""
    opcode = draw(st.sampled_from([0xA4, 0xA5, 0xAC, 0xAD]))
    kind = "shld" if opcode < 0xA8 else "shrd"
    mem = draw(st.booleans())
    pre, op32, addr32 = draw(prefixes(opsize=True, mem=mem))
    width = 32 if op32 else 16
    opnd = draw(rm_operand(addr32, mem))
    code = pre + b"\x0f" + bytes([opcode]) + _modrm(opnd, draw(st.integers(0, 7)))
    if opcode & 1:
        if op32:
            return Insn(code, "shld_shrd", writes=0, undef=OF | AF)
        return Insn(b"\x80\xe1\x0f" + code, "shld_shrd", writes=ARITH, undef=OF | AF)
    count = draw(st.integers(0, 255))
    if not op32 and (count & 0x1F) > 16:
        count &= 0x0F
    code += bytes([count])
    return Insn(code, "shld_shrd", writes=ARITH if count & 0x1F else 0,
                undef=shift_undefined(kind, width, count))


@st.composite
def fam_bt(draw):
    """0F A3/AB/B3/BB BT/BTS/BTR/BTC r/m,r (bit strings in memory); 0F BA /4-7 imm8."""
    flags = dict(writes=CF, undef=OF | SF | AF | PF)
    mem = draw(st.booleans())
    if draw(st.booleans()):
        opcode = draw(st.sampled_from([0xA3, 0xAB, 0xB3, 0xBB]))
        pre, _, addr32 = draw(prefixes(opsize=True, mem=mem, lock=opcode != 0xA3))
        opnd = draw(rm_operand(addr32, mem))
        return Insn(pre + b"\x0f" + bytes([opcode]) + _modrm(opnd, draw(st.integers(0, 7))), "bt",
                    **flags)
    reg = draw(st.integers(4, 7))
    pre, _, addr32 = draw(prefixes(opsize=True, mem=mem, lock=reg != 4))
    opnd = draw(rm_operand(addr32, mem))
    return Insn(pre + b"\x0f\xba" + _modrm(opnd, reg) + _imm(draw, 1), "bt", **flags)


@st.composite
def fam_bsf_bsr(draw):
    """0F BC BSF, 0F BD BSR (a zero source leaves the destination unchanged, ZF=1)."""
    mem = draw(st.booleans())
    pre, _, addr32 = draw(prefixes(opsize=True, mem=mem))
    opnd = draw(rm_operand(addr32, mem))
    return Insn(pre + b"\x0f" + bytes([draw(st.sampled_from([0xBC, 0xBD]))])
                + _modrm(opnd, draw(st.integers(0, 7))), "bsf_bsr",
                writes=ARITH, undef=CF | OF | SF | AF | PF)


@st.composite
def fam_movzx_movsx(draw):
    """0F B6/B7 MOVZX, 0F BE/BF MOVSX."""
    mem = draw(st.booleans())
    pre, _, addr32 = draw(prefixes(opsize=True, mem=mem))
    opnd = draw(rm_operand(addr32, mem))
    return Insn(pre + b"\x0f" + bytes([draw(st.sampled_from([0xB6, 0xB7, 0xBE, 0xBF]))])
                + _modrm(opnd, draw(st.integers(0, 7))), "movzx_movsx")


@st.composite
def fam_setcc(draw):
    """0F 90-9F SETcc r/m8."""
    cc = draw(st.integers(0, 15))
    mem = draw(st.booleans())
    pre, _, addr32 = draw(prefixes(opsize=False, mem=mem))
    opnd = draw(rm_operand(addr32, mem))
    return Insn(pre + bytes([0x0F, 0x90 + cc]) + _modrm(opnd, 0), "setcc", reads=COND_READS[cc])


@st.composite
def fam_mov(draw):
    """88-8B MOV r/m<->r, B0-BF MOV r,imm, C6/C7 MOV r/m,imm, A0-A3 MOV acc<->moffs."""
    form = draw(st.sampled_from(["rm", "imm_r", "imm_rm", "moffs"]))
    if form == "rm":
        opcode = draw(st.integers(0x88, 0x8B))
        mem = draw(st.booleans())
        pre, _, addr32 = draw(prefixes(opsize=opcode & 1 == 1, mem=mem))
        opnd = draw(rm_operand(addr32, mem))
        return Insn(pre + bytes([opcode]) + _modrm(opnd, draw(st.integers(0, 7))), "mov")
    if form == "imm_r":
        opcode = draw(st.integers(0xB0, 0xBF))
        pre, op32, _ = draw(prefixes(opsize=opcode >= 0xB8, mem=False))
        return Insn(pre + bytes([opcode]) + _imm(draw, 1 if opcode < 0xB8 else (4 if op32 else 2)),
                    "mov")
    if form == "imm_rm":
        opcode = draw(st.sampled_from([0xC6, 0xC7]))
        mem = draw(st.booleans())
        pre, op32, addr32 = draw(prefixes(opsize=opcode == 0xC7, mem=mem))
        opnd = draw(rm_operand(addr32, mem))
        return Insn(pre + bytes([opcode]) + _modrm(opnd, 0)
                    + _imm(draw, 1 if opcode == 0xC6 else (4 if op32 else 2)), "mov")
    opcode = draw(st.integers(0xA0, 0xA3))
    pre, _, addr32 = draw(prefixes(opsize=opcode & 1 == 1, mem=True))
    off = (_disp32(draw).to_bytes(4, "little") if addr32
           else draw(st.integers(0, 0xFFFF)).to_bytes(2, "little"))
    return Insn(pre + bytes([opcode]) + off, "mov")


@st.composite
def fam_xchg(draw):
    """86/87 XCHG r/m,r (implicitly locked), 91-97 XCHG eAX,r, 90 NOP."""
    if draw(st.booleans()):
        pre, _, _ = draw(prefixes(opsize=True, mem=False))
        return Insn(pre + bytes([draw(st.integers(0x90, 0x97))]), "xchg")
    opcode = draw(st.sampled_from([0x86, 0x87]))
    mem = draw(st.booleans())
    pre, _, addr32 = draw(prefixes(opsize=opcode == 0x87, mem=mem, lock=True))
    opnd = draw(rm_operand(addr32, mem))
    return Insn(pre + bytes([opcode]) + _modrm(opnd, draw(st.integers(0, 7))), "xchg")


@st.composite
def fam_lea(draw):
    """8D LEA r,m (every addressing form; a segment override is ignored)."""
    pre, _, addr32 = draw(prefixes(opsize=True, mem=True))
    opnd = draw(rm_operand(addr32, True))
    return Insn(pre + b"\x8d" + _modrm(opnd, draw(st.integers(0, 7))), "lea")


@st.composite
def fam_push_pop(draw):
    """50-5F PUSH/POP r, FF /6 PUSH r/m, 8F /0 POP r/m, 68/6A PUSH imm."""
    form = draw(st.sampled_from(["reg", "rm_push", "rm_pop", "imm"]))
    if form == "reg":
        pre, _, _ = draw(prefixes(opsize=True, mem=False))
        return Insn(pre + bytes([draw(st.integers(0x50, 0x5F))]), "push_pop")
    if form == "imm":
        opcode = draw(st.sampled_from([0x68, 0x6A]))
        pre, op32, _ = draw(prefixes(opsize=True, mem=False))
        return Insn(pre + bytes([opcode]) + _imm(draw, 1 if opcode == 0x6A else (4 if op32 else 2)),
                    "push_pop")
    mem = draw(st.booleans())
    pre, _, addr32 = draw(prefixes(opsize=True, mem=mem))
    opnd = draw(rm_operand(addr32, mem))
    if form == "rm_push":
        return Insn(pre + b"\xff" + _modrm(opnd, 6), "push_pop")
    return Insn(pre + b"\x8f" + _modrm(opnd, 0), "push_pop")


@st.composite
def fam_push_sreg(draw):
    """06/0E/16/1E, 0F A0/A8: PUSH ES/CS/SS/DS/FS/GS (and a POP back, 07/17/1F, 0F A1/A9,
    of the value just pushed, so the sandbox keeps its segments)."""
    which = draw(st.sampled_from(["es", "cs", "ss", "ds", "fs", "gs"]))
    push = {"es": b"\x06", "cs": b"\x0e", "ss": b"\x16", "ds": b"\x1e", "fs": b"\x0f\xa0",
            "gs": b"\x0f\xa8"}[which]
    pre, _, _ = draw(prefixes(opsize=True, mem=False))
    code = pre + push
    if which != "cs" and draw(st.booleans()):
        pop = {"es": b"\x07", "ss": b"\x17", "ds": b"\x1f", "fs": b"\x0f\xa1", "gs": b"\x0f\xa9"}
        return Insn(code + pre + pop[which], "push_sreg")
    return Insn(code, "push_sreg")


@st.composite
def fam_mov_sreg(draw):
    """8C MOV r/m,Sreg; 8E MOV Sreg,r/m (reloading the value a MOV r,Sreg just read)."""
    sreg = draw(st.sampled_from(["es", "cs", "ss", "ds", "fs", "gs"]))
    mem = draw(st.booleans())
    pre, _, addr32 = draw(prefixes(opsize=True, mem=mem))
    opnd = draw(rm_operand(addr32, mem))
    store = pre + b"\x8c" + _modrm(opnd, SEG_INDEX[sreg])
    if sreg == "cs" or mem or not draw(st.booleans()):
        return Insn(store, "mov_sreg")
    return Insn(store + pre + b"\x8e" + _modrm(opnd, SEG_INDEX[sreg]), "mov_sreg")


@st.composite
def fam_pusha_popa(draw):
    """60 PUSHA/PUSHAD, 61 POPA/POPAD."""
    pre, _, _ = draw(prefixes(opsize=True, mem=False))
    return Insn(pre + bytes([draw(st.sampled_from([0x60, 0x61]))]), "pusha_popa")


@st.composite
def fam_pushf_popf(draw):
    """9C PUSHF(D); 9D POPF(D) of a value pushed just before with TF clear (a random TF would
    single-step-trap)."""
    pre, op32, _ = draw(prefixes(opsize=True, mem=False))
    if draw(st.booleans()):
        return Insn(pre + b"\x9c", "pushf_popf", reads=ARITH)
    value = draw(st.integers(0, 0xFFFF)) & ~TF & 0xFFFF
    push = b"\x68" + value.to_bytes(2, "little")
    if op32:
        push = b"\x66\x68" + value.to_bytes(4, "little")
    return Insn(push + pre + b"\x9d", "pushf_popf", writes=ARITH)


@st.composite
def fam_lahf_sahf(draw):
    """9F LAHF, 9E SAHF."""
    if draw(st.booleans()):
        return Insn(b"\x9f", "lahf_sahf", reads=ARITH & ~OF)
    return Insn(b"\x9e", "lahf_sahf", writes=ARITH & ~OF)


@st.composite
def fam_flag_ops(draw):
    """F5 CMC, F8 CLC, F9 STC, FC CLD, FD STD, FA CLI, FB STI."""
    opcode = draw(st.sampled_from([0xF5, 0xF8, 0xF9, 0xFC, 0xFD, 0xFA, 0xFB]))
    if opcode == 0xF5:
        return Insn(b"\xf5", "flag_ops", reads=CF, writes=CF)
    return Insn(bytes([opcode]), "flag_ops", writes=CF if opcode in (0xF8, 0xF9) else 0)


@st.composite
def fam_cbw_cwd(draw):
    """98 CBW/CWDE, 99 CWD/CDQ."""
    pre, _, _ = draw(prefixes(opsize=True, mem=False))
    return Insn(pre + bytes([draw(st.sampled_from([0x98, 0x99]))]), "cbw_cwd")


@st.composite
def fam_bcd(draw):
    """27 DAA, 2F DAS, 37 AAA, 3F AAS, D4 AAM imm8, D5 AAD imm8."""
    opcode = draw(st.sampled_from([0x27, 0x2F, 0x37, 0x3F, 0xD4, 0xD5]))
    if opcode in (0x27, 0x2F):
        return Insn(bytes([opcode]), "bcd", reads=CF | AF, writes=ARITH, undef=OF)
    if opcode in (0x37, 0x3F):
        return Insn(bytes([opcode]), "bcd", reads=AF, writes=ARITH, undef=OF | SF | ZF | PF)
    base = draw(st.one_of(st.just(10), st.integers(0, 255)))
    return Insn(bytes([opcode, base]), "bcd", writes=ARITH, undef=OF | AF | CF)


@st.composite
def fam_xlat(draw):
    """D7 XLAT (DS:[eBX+AL], segment overridable)."""
    pre, _, _ = draw(prefixes(opsize=False, mem=True))
    return Insn(pre + b"\xd7", "xlat")


def _load_count(n: int, ecx: bool) -> bytes:
    """mov cx, n (mov ecx, n when the instruction counts in ECX)."""
    return (b"\x66\xb9" + n.to_bytes(4, "little")) if ecx else (b"\xb9" + n.to_bytes(2, "little"))


STRING_OPS = {0xA4: "movs", 0xA5: "movs", 0xA6: "cmps", 0xA7: "cmps", 0xAA: "stos", 0xAB: "stos",
              0xAC: "lods", 0xAD: "lods", 0xAE: "scas", 0xAF: "scas"}


@st.composite
def fam_string(draw):
    """A4-AF MOVS/CMPS/STOS/LODS/SCAS, bare or with REP/REPE/REPNE after loading a small
    count into (E)CX."""
    opcode = draw(st.sampled_from(sorted(STRING_OPS)))
    compares = STRING_OPS[opcode] in ("cmps", "scas")
    pre, op32, addr32 = draw(prefixes(opsize=opcode & 1 == 1, mem=True, addr=True))
    rep = draw(st.sampled_from([None, 0xF3, 0xF2]))
    flags = dict(writes=ARITH) if compares else {}
    if rep is None:
        return Insn(pre + bytes([opcode]), "string", **flags)
    n = draw(st.integers(0, 5))
    load = _load_count(n, addr32)
    if compares:      # with a zero count the flags are left as they were
        flags = dict(writes=0)
    return Insn(load + bytes([rep]) + pre + bytes([opcode]), "string", **flags)


@st.composite
def fam_enter_leave(draw):
    """C8 ENTER imm16,imm8 (levels 0-3), C9 LEAVE."""
    pre, _, _ = draw(prefixes(opsize=True, mem=False))
    if draw(st.booleans()):
        return Insn(pre + b"\xc9", "enter_leave")
    return Insn(pre + b"\xc8" + _imm(draw, 2) + bytes([draw(st.integers(0, 3))]), "enter_leave")


@st.composite
def fam_cmpxchg_xadd(draw):
    """0F B0/B1 CMPXCHG, 0F C0/C1 XADD (r/m, r)."""
    opcode = draw(st.sampled_from([0xB0, 0xB1, 0xC0, 0xC1]))
    mem = draw(st.booleans())
    pre, _, addr32 = draw(prefixes(opsize=opcode & 1 == 1, mem=mem, lock=True))
    opnd = draw(rm_operand(addr32, mem))
    return Insn(pre + b"\x0f" + bytes([opcode]) + _modrm(opnd, draw(st.integers(0, 7))),
                "cmpxchg_xadd", writes=ARITH)


@st.composite
def fam_bswap(draw):
    """0F C8+r BSWAP r32."""
    return Insn(b"\x66\x0f" + bytes([0xC8 + draw(st.integers(0, 7))]), "bswap")


@st.composite
def fam_misc(draw):
    """90 NOP, 9B WAIT."""
    return Insn(bytes([draw(st.sampled_from([0x90, 0x9B]))]), "misc")


# --- control flow: forward branches, resolved when the sequence is assembled

@st.composite
def fam_jcc(draw):
    """70-7F Jcc rel8 and 0F 80-8F Jcc rel16/rel32, forward over the next few items."""
    cc = draw(st.integers(0, 15))
    skip = draw(st.integers(0, 3))
    if draw(st.booleans()):
        return Insn(bytes([0x70 + cc, 0]), "jcc", reads=COND_READS[cc], skip=skip,
                    branch_fmt="rel8")
    if draw(st.booleans()):
        return Insn(bytes([0x66, 0x0F, 0x80 + cc, 0, 0, 0, 0]), "jcc", reads=COND_READS[cc],
                    skip=skip, branch_fmt="rel32")
    return Insn(bytes([0x0F, 0x80 + cc, 0, 0]), "jcc", reads=COND_READS[cc], skip=skip,
                branch_fmt="rel16")


@st.composite
def fam_jmp(draw):
    """EB JMP rel8, E9 JMP rel16, forward."""
    skip = draw(st.integers(0, 3))
    if draw(st.booleans()):
        return Insn(b"\xeb\x00", "jmp", skip=skip, branch_fmt="rel8")
    return Insn(b"\xe9\x00\x00", "jmp", skip=skip, branch_fmt="rel16")


@st.composite
def fam_jcxz(draw):
    """E3 JCXZ/JECXZ rel8, forward."""
    pre = b"\x67" if draw(st.booleans()) else b""
    return Insn(pre + b"\xe3\x00", "jcxz", skip=draw(st.integers(0, 3)), branch_fmt="rel8")


@st.composite
def fam_loop(draw):
    """E2 LOOP / E1 LOOPE / E0 LOOPNE (and 0x67 for ECX) around a short body that keeps
    (E)CX: mov cx,n; L: body; loop L."""
    opcode = draw(st.sampled_from([0xE2, 0xE1, 0xE0]))
    addr32 = draw(st.booleans())
    n = draw(st.integers(1, 4))
    load = _load_count(n, addr32)
    body = draw(st.lists(st.sampled_from(LOOP_BODY), min_size=1, max_size=3))
    body_code = b"".join(body)
    loop = (b"\x67" if addr32 else b"") + bytes([opcode])
    rel = -(len(body_code) + len(loop) + 1)
    reads = ZF if opcode != 0xE2 else 0
    # the body may be a lone NOT (no flags) or hold an XOR (AF undefined)
    return Insn(load + body_code + loop + bytes([rel & 0xFF]), "loop", reads=reads, undef=AF)


#: Loop bodies: instructions that touch neither (E)CX nor memory outside the sandbox.
LOOP_BODY = [b"\x40", b"\x01\xd8", b"\x31\xf2", b"\x66\xd1\xe3", b"\x29\xd0", b"\x43",
             b"\x83\xf8\x05", b"\xf7\xd6"]


@st.composite
def fam_call_ret(draw):
    """E8 CALL rel16 (0x66: rel32) to a RET/RET imm16 three bytes further:
    call L; jmp over; L: ret."""
    pre = b"\x66" if draw(st.booleans()) else b""
    ret_pre = b"\x66" if draw(st.booleans()) else b""
    ret = draw(st.sampled_from([b"\xc3", b"\xc2\x04\x00", b"\xc2\x00\x00"]))
    call = pre + b"\xe8" + (2).to_bytes(4 if pre else 2, "little")
    jmp = bytes([0xEB, len(ret_pre + ret)])
    return Insn(call + jmp + ret_pre + ret, "call_ret")


@st.composite
def fam_jmp_indirect(draw):
    """FF /4 JMP r16 (and 0x66: r32) forward, after loading the target's IP: mov r,L; jmp r."""
    r = draw(st.sampled_from([0, 1, 2, 3, 5, 6, 7]))
    op32 = draw(st.booleans())
    if op32:     # mov r32, imm32 (top half 0) ; jmp r32
        return Insn(bytes([0x66, 0xB8 + r]) + bytes(4) + bytes([0x66, 0xFF, 0xE0 + r]),
                    "jmp_indirect", skip=draw(st.integers(0, 3)), branch_fmt="abs16",
                    target_at=2)
    return Insn(bytes([0xB8 + r, 0, 0, 0xFF, 0xE0 + r]), "jmp_indirect",
                skip=draw(st.integers(0, 3)), branch_fmt="abs16", target_at=1)


@st.composite
def fam_call_indirect(draw):
    """FF /2 CALL r16 / CALL [mem]: mov r,L; call r; jmp over; L: ret -- or the target
    stored to DS:[disp16] first and called through memory."""
    r = draw(st.sampled_from([0, 1, 2, 3, 5, 6, 7]))
    if draw(st.booleans()):
        # mov r,L (3) ; call r (2) ; jmp short +1 (2) ; L: ret (1)
        return Insn(bytes([0xB8 + r, 0, 0, 0xFF, 0xD0 + r, 0xEB, 0x01, 0xC3]), "call_indirect",
                    self_at=(1, 7, 2))
    disp = draw(st.integers(0, 0xFFFE))
    # mov word [disp],L (6) ; call [disp] (4) ; jmp short +1 (2) ; L: ret (1)
    d = disp.to_bytes(2, "little")
    return Insn(b"\xc7\x06" + d + b"\0\0" + b"\xff\x16" + d + b"\xeb\x01\xc3", "call_indirect",
                self_at=(4, 12, 2))


@st.composite
def fam_far(draw):
    """9A CALL FAR ptr16:16 / ptr16:32 to a RETF (CB, CA imm16) in the same code segment,
    EA JMP FAR forward."""
    if draw(st.booleans()):
        return Insn(b"\xea\0\0" + (0x1000).to_bytes(2, "little"), "far",
                    skip=draw(st.integers(0, 3)), branch_fmt="abs16", target_at=1)
    o32 = draw(st.booleans())
    retf = draw(st.sampled_from([b"\xcb", b"\xca\x02\x00", b"\xca\x00\x00"]))
    if o32:
        retf = b"\x66" + retf
        # 66 9A off32 sel16 (8) ; jmp short (2) ; L: retf
        return Insn(b"\x66\x9a" + bytes(4) + (0x1000).to_bytes(2, "little")
                    + bytes([0xEB, len(retf)]) + retf, "far", self_at=(2, 10, 4))
    return Insn(b"\x9a\0\0" + (0x1000).to_bytes(2, "little") + bytes([0xEB, len(retf)]) + retf,
                "far", self_at=(1, 7, 2))


@st.composite
def fam_lxs(draw):
    """C4 LES, C5 LDS, 0F B4 LFS, 0F B5 LGS r,m16:16/m16:32, then the sandbox's segment back
    (push imm16; pop seg)."""
    seg = draw(st.sampled_from(["es", "ds", "fs", "gs"]))
    opcode = {"es": b"\xc4", "ds": b"\xc5", "fs": b"\x0f\xb4", "gs": b"\x0f\xb5"}[seg]
    pop = {"es": b"\x07", "ds": b"\x1f", "fs": b"\x0f\xa1", "gs": b"\x0f\xa9"}[seg]
    pre, _, addr32 = draw(prefixes(opsize=True, mem=True))
    opnd = draw(rm_operand(addr32, True))
    restore = b"\x68" + LAYOUT[seg].to_bytes(2, "little") + pop
    return Insn(pre + opcode + _modrm(opnd, draw(st.integers(0, 7))) + restore, "lxs")


@st.composite
def fam_iret(draw):
    """CF IRET / 66 CF IRETD to the next instruction: pushf; push cs; push L; iret; L:
    (FLAGS come back as they were)."""
    if draw(st.booleans()):
        # 66 9C (2) ; 66 0E (2) ; 66 68 imm32 (6) ; 66 CF (2)
        return Insn(b"\x66\x9c\x66\x0e\x66\x68" + bytes(4) + b"\x66\xcf", "iret",
                    reads=ARITH, self_at=(6, 12, 4))
    # 9C ; 0E ; 68 imm16 (3) ; CF
    return Insn(b"\x9c\x0e\x68\0\0\xcf", "iret", reads=ARITH, self_at=(3, 6, 2))


@st.composite
def fam_io(draw):
    """E4/E5/E6/E7 IN/OUT with an imm8 port (E0h-EFh), EC/ED/EE/EF with DX (300h-33Fh, DX
    loaded first), 8/16/32 bits; the sandbox's test device answers both."""
    opcode = draw(st.sampled_from([0xE4, 0xE5, 0xE6, 0xE7, 0xEC, 0xED, 0xEE, 0xEF]))
    size = 1 if opcode & 1 == 0 else draw(st.sampled_from([2, 4]))
    pre = b"\x66" if size == 4 else b""
    # aligned ports: guestmem splits an unaligned I/O access into bytes (QEMU's
    # access_with_adjusted_size without impl.unaligned) where unicorn's hook sees one access
    if opcode < 0xE8:
        port = 0xE0 + size * draw(st.integers(0, 16 // size - 1))
        return Insn(pre + bytes([opcode, port]), "io")
    port = 0x300 + size * draw(st.integers(0, 64 // size - 1))
    return Insn(b"\xba" + port.to_bytes(2, "little") + pre + bytes([opcode]), "io")


@st.composite
def fam_string_io(draw):
    """6C-6F INS/OUTS (bytes, words, dwords) with DX at the test device, bare or REP after
    loading a small count: ES:DI <- port, port <- DS:SI (segment overridable)."""
    opcode = draw(st.sampled_from([0x6C, 0x6D, 0x6E, 0x6F]))
    size = 1 if opcode & 1 == 0 else draw(st.sampled_from([2, 4]))
    pre, _, addr32 = draw(prefixes(opsize=False, mem=opcode >= 0x6E, addr=True))
    if size == 4:
        pre = b"\x66" + pre
    port = 0x300 + size * draw(st.integers(0, 64 // size - 1))
    load = b"\xba" + port.to_bytes(2, "little")
    if draw(st.booleans()):
        n = draw(st.integers(0, 4))
        load += _load_count(n, addr32)
        return Insn(load + b"\xf3" + pre + bytes([opcode]), "string_io")
    return Insn(load + pre + bytes([opcode]), "string_io")


@st.composite
def fam_bound(draw):
    """62 BOUND r,m16&16 / m32&32 with bounds stored just before that hold every value
    (signed minimum and maximum), so no #BR: mov [disp],lo; mov [disp+n],hi; bound r,[disp]."""
    op32 = draw(st.booleans())
    disp = draw(st.integers(0, 0xFFF0))
    d = disp.to_bytes(2, "little")
    d2 = (disp + (4 if op32 else 2)).to_bytes(2, "little")
    reg = draw(st.integers(0, 7))
    if op32:
        code = (b"\x66\xc7\x06" + d + (0x80000000).to_bytes(4, "little")
                + b"\x66\xc7\x06" + d2 + (0x7FFFFFFF).to_bytes(4, "little")
                + b"\x66\x62" + bytes([0x06 | reg << 3]) + d)
    else:
        code = (b"\xc7\x06" + d + b"\x00\x80" + b"\xc7\x06" + d2 + b"\xff\x7f"
                + b"\x62" + bytes([0x06 | reg << 3]) + d)
    return Insn(code, "bound")


FAMILIES = {
    "alu": fam_alu(), "alu_imm": fam_alu_imm(), "alu_82": fam_alu_82(), "test": fam_test(),
    "inc_dec": fam_inc_dec(), "not_neg": fam_not_neg(), "mul_div": fam_mul_div(),
    "imul": fam_imul(), "shift": fam_shift(), "shld_shrd": fam_shld_shrd(), "bt": fam_bt(),
    "bsf_bsr": fam_bsf_bsr(), "movzx_movsx": fam_movzx_movsx(), "setcc": fam_setcc(),
    "mov": fam_mov(), "xchg": fam_xchg(), "lea": fam_lea(), "push_pop": fam_push_pop(),
    "push_sreg": fam_push_sreg(), "mov_sreg": fam_mov_sreg(), "pusha_popa": fam_pusha_popa(),
    "pushf_popf": fam_pushf_popf(), "lahf_sahf": fam_lahf_sahf(), "flag_ops": fam_flag_ops(),
    "cbw_cwd": fam_cbw_cwd(), "bcd": fam_bcd(), "xlat": fam_xlat(), "string": fam_string(),
    "enter_leave": fam_enter_leave(), "cmpxchg_xadd": fam_cmpxchg_xadd(), "bswap": fam_bswap(),
    "misc": fam_misc(), "jcc": fam_jcc(), "jmp": fam_jmp(), "jcxz": fam_jcxz(),
    "loop": fam_loop(), "call_ret": fam_call_ret(), "jmp_indirect": fam_jmp_indirect(),
    "call_indirect": fam_call_indirect(), "far": fam_far(), "lxs": fam_lxs(), "io": fam_io(),
    "iret": fam_iret(), "string_io": fam_string_io(), "bound": fam_bound(),
}

#: Instructions (one byte string each) that end a sequence: the harness stops there.
HLT = b"\xf4"
#: `add al, 0`: defines every arithmetic flag and changes nothing else -- put before an
#: instruction that reads a flag an earlier one left undefined (block mode compares only
#: at the end, so an undefined flag must not steer the code).
FLAG_NORMALIZER = b"\x04\x00"


@dataclass
class Sequence:
    items: list
    code: bytes = b""
    offsets: list = field(default_factory=list)
    final_undefined: int = 0      # arithmetic flags still undefined at the end (static taint)


def assemble(items: list[Insn]) -> Sequence:
    """Lay the items out from CODE_IP, put a FLAG_NORMALIZER before any reader of a flag an
    earlier item may have left undefined, resolve the forward branches and end with HLT."""
    out: list[Insn] = []
    first_of = []                      # original item index -> index in `out`
    pending = [0] * (len(items) + 1)   # taint arriving by branch at item j
    taint = 0
    for j, it in enumerate(items):
        taint |= pending[j]
        first_of.append(len(out))
        if it.reads & taint:
            out.append(Insn(FLAG_NORMALIZER, "normalizer", writes=ARITH))
            taint = 0
        taint = (taint & ~it.writes) | it.undef
        if it.skip is not None:
            pending[min(j + 1 + it.skip, len(items))] |= taint
        out.append(it)
    taint |= pending[len(items)]
    first_of.append(len(out))
    offsets, pos = [], CODE_IP
    for it in out:
        offsets.append(pos)
        pos += len(it.code)
    offsets.append(pos)                # the HLT
    code = bytearray()
    index_of = {id(it): j for j, it in enumerate(items)}
    for i, it in enumerate(out):
        c = bytearray(it.code)
        if it.skip is not None:
            j = index_of[id(it)]
            target = offsets[first_of[min(j + 1 + it.skip, len(items))]]
            rel = target - (offsets[i] + len(c))
            if it.branch_fmt == "rel8":
                c[-1] = (rel if rel <= 127 else 0) & 0xFF
            elif it.branch_fmt == "rel16":
                c[-2:] = (rel & 0xFFFF).to_bytes(2, "little")
            elif it.branch_fmt == "rel32":
                c[-4:] = (rel & 0xFFFFFFFF).to_bytes(4, "little")
            else:
                c[it.target_at:it.target_at + 2] = target.to_bytes(2, "little")
        if it.self_at is not None:
            pos, delta, size = it.self_at
            c[pos:pos + size] = (offsets[i] + delta).to_bytes(size, "little")
        code += c
    code += HLT
    return Sequence(out, bytes(code), offsets, taint)


@st.composite
def sequences(draw, families: list[str], min_size: int = 1, max_size: int = 12):
    names = sorted(families)
    n = draw(st.integers(min_size, max_size))
    items = [draw(FAMILIES[draw(st.sampled_from(names))]) for _ in range(n)]
    return assemble(items)


# ---------------------------------------------------------------------------- machine state

REGS32 = ["eax", "ecx", "edx", "ebx", "esp", "ebp", "esi", "edi"]


@st.composite
def initial_registers(draw):
    """General registers biased towards values that make 32-bit addressing stay in 64 KiB."""
    value = st.one_of(st.integers(0, 0xFF), st.integers(0, 0xFFFF),
                      st.integers(0, 0xFFFFFFFF), st.sampled_from([0, 1, 0x7FFF, 0x8000, 0xFFFF,
                                                                   0x80000000, 0xFFFFFFFF]))
    regs = {r: draw(value) for r in REGS32}
    regs["esp"] = draw(st.one_of(st.integers(0x100, 0xFFF0), st.integers(0, 0xFFFF)))
    regs["esp"] |= draw(st.sampled_from([0, 0, 0, 0x12340000]))
    flags = draw(st.integers(0, 0xFFFF)) & (ARITH | DF)
    regs["eflags"] = flags | 0x2
    return regs
