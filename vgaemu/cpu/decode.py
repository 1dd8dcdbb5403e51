"""The x86 instruction decoder: prefixes, opcode, ModR/M + SIB, displacement, immediates.

Decoding is separate from code generation (QEMU's disas_insn does both at once): one
:class:`Insn` record per instruction is what the translator and the error messages read.
Only real-address-mode semantics are decoded (the 386's ``0x66``/``0x67`` prefixes switch
between 16- and 32-bit operands and addressing).
"""

from __future__ import annotations

from vgaemu.errors import VGAEmuError

from .state import DS, SS

PREFIX_SEG = {0x26: 0, 0x2E: 1, 0x36: 2, 0x3E: 3, 0x64: 4, 0x65: 5}


class DecodeError(VGAEmuError):
    """Bytes that are no instruction this CPU decodes (the caller turns it into
    UnimplementedInstruction or #UD)."""

    def __init__(self, message: str, length: int = 1, mnemonic: str | None = None):
        super().__init__(message)
        self.length = length
        self.mnemonic = mnemonic


# imm kinds: b = imm8, w = imm16, v = imm16/32 by operand size, a = moffs by address size,
# p = far pointer (v then w), e = ENTER (w then b)
def _table():
    modrm = set()
    imm = {}
    for x in range(8):
        base = x * 8
        modrm.update((base, base + 1, base + 2, base + 3))
        imm[base + 4] = "b"
        imm[base + 5] = "v"
    modrm.update((0x62, 0x63, 0x69, 0x6B, 0x80, 0x81, 0x82, 0x83))
    modrm.update(range(0x84, 0x90))
    modrm.update((0xC0, 0xC1, 0xC4, 0xC5, 0xC6, 0xC7, 0xD0, 0xD1, 0xD2, 0xD3))
    modrm.update(range(0xD8, 0xE0))
    modrm.update((0xF6, 0xF7, 0xFE, 0xFF))
    imm.update({0x68: "v", 0x69: "v", 0x6A: "b", 0x6B: "b", 0x80: "b", 0x81: "v", 0x82: "b",
                0x83: "b", 0x9A: "p", 0xA0: "a", 0xA1: "a", 0xA2: "a", 0xA3: "a", 0xA8: "b",
                0xA9: "v", 0xC0: "b", 0xC1: "b", 0xC2: "w", 0xC6: "b", 0xC7: "v", 0xC8: "e",
                0xCA: "w", 0xCD: "b", 0xD4: "b", 0xD5: "b", 0xE0: "b", 0xE1: "b", 0xE2: "b",
                0xE3: "b", 0xE4: "b", 0xE5: "b", 0xE6: "b", 0xE7: "b", 0xE8: "v", 0xE9: "v",
                0xEA: "p", 0xEB: "b"})
    for r in range(0x70, 0x80):
        imm[r] = "b"
    for r in range(0xB0, 0xB8):
        imm[r] = "b"
    for r in range(0xB8, 0xC0):
        imm[r] = "v"
    # two-byte opcodes (0x100 | second byte)
    for b in (0x00, 0x01, 0x02, 0x03, 0x20, 0x21, 0x22, 0x23, 0xA3, 0xA4, 0xA5, 0xAB, 0xAC,
              0xAD, 0xAF, 0xB0, 0xB1, 0xB2, 0xB3, 0xB4, 0xB5, 0xB6, 0xB7, 0xBA, 0xBB, 0xBC,
              0xBD, 0xBE, 0xBF, 0xC0, 0xC1):
        modrm.add(0x100 | b)
    for b in range(0x90, 0xA0):
        modrm.add(0x100 | b)
    for b in range(0x80, 0x90):
        imm[0x100 | b] = "v"
    imm.update({0x1A4: "b", 0x1AC: "b", 0x1BA: "b", 0x1FF: "b"})
    return frozenset(modrm), imm


HAS_MODRM, IMM_KIND = _table()
# ModR/M opcodes whose r/m must be memory
MEM_ONLY = frozenset((0x62, 0x8D, 0xC4, 0xC5, 0x1B2, 0x1B4, 0x1B5))

# 16-bit addressing: (base regs, default segment) per r/m (rm 6 with mod 0 is disp16)
_EA16 = (((3, 6), DS), ((3, 7), DS), ((5, 6), SS), ((5, 7), SS),
         ((6,), DS), ((7,), DS), ((5,), SS), ((3,), DS))


class Insn:
    """One decoded instruction. ``ea`` is (regs, index, scale, disp, default segment):
    ``regs`` the base registers summed (16-bit: BX/BP + SI/DI), ``index``/``scale`` the
    SIB index (or -1), ``disp`` signed; the segment used is ``seg`` if a prefix gave one."""

    __slots__ = ("eip", "length", "raw", "op", "osz", "asz", "seg", "rep", "lock",
                 "mod", "reg", "rm", "ea", "imm", "imm2", "next_eip")

    def __init__(self):
        self.seg = -1
        self.rep = 0
        self.lock = False
        self.mod = self.reg = self.rm = 0
        self.ea = None
        self.imm = self.imm2 = 0

    @property
    def is_mem(self) -> bool:
        return self.ea is not None

    def __repr__(self) -> str:
        return f"Insn(eip=0x{self.eip:x}, op=0x{self.op:x}, bytes={self.raw.hex(' ')})"


def decode(fetch, eip: int, code32: bool) -> Insn:
    """Decode one instruction at offset ``eip``; ``fetch(offset)`` returns the code byte at
    that CS offset (the caller handles the segment base and A20)."""
    ins = Insn()
    ins.eip = eip
    osz = asz = 4 if code32 else 2
    pos = eip
    op = None
    for _ in range(15):
        b = fetch(pos)
        pos += 1
        if b == 0x66:
            osz = 6 - osz
        elif b == 0x67:
            asz = 6 - asz
        elif b in PREFIX_SEG:
            ins.seg = PREFIX_SEG[b]
        elif b == 0xF3 or b == 0xF2:
            ins.rep = b
        elif b == 0xF0:
            ins.lock = True
        else:
            op = b
            break
    if op is None:
        raise DecodeError("more than 15 prefix bytes", pos - eip)
    if op == 0x0F:
        op = 0x100 | fetch(pos)
        pos += 1
    ins.op = op
    ins.osz = osz
    ins.asz = asz
    if op in HAS_MODRM:
        m = fetch(pos)
        pos += 1
        mod, reg, rm = m >> 6, (m >> 3) & 7, m & 7
        ins.mod, ins.reg, ins.rm = mod, reg, rm
        if mod != 3:
            if asz == 2:
                if mod == 0 and rm == 6:
                    regs, dseg = (), DS
                    disp = fetch(pos) | fetch(pos + 1) << 8
                    pos += 2
                else:
                    regs, dseg = _EA16[rm]
                    disp = 0
                    if mod == 1:
                        disp = fetch(pos)
                        disp -= (disp & 0x80) << 1
                        pos += 1
                    elif mod == 2:
                        disp = fetch(pos) | fetch(pos + 1) << 8
                        pos += 2
                ins.ea = (regs, -1, 0, disp, dseg)
            else:
                index, scale = -1, 0
                base = rm
                if rm == 4:
                    sib = fetch(pos)
                    pos += 1
                    scale, index, base = sib >> 6, (sib >> 3) & 7, sib & 7
                    if index == 4:
                        index = -1
                disp = 0
                if base == 5 and mod == 0:
                    regs = ()
                    dseg = DS
                    disp = _u32(fetch, pos)
                    pos += 4
                else:
                    regs = (base,)
                    dseg = SS if base in (4, 5) else DS
                if mod == 1:
                    disp = fetch(pos)
                    disp -= (disp & 0x80) << 1
                    pos += 1
                elif mod == 2:
                    disp = _u32(fetch, pos)
                    pos += 4
                ins.ea = (regs, index, scale, disp, dseg)
        elif op in MEM_ONLY:
            raise DecodeError("register operand where memory is required", pos - eip)
    kind = IMM_KIND.get(op)
    if kind is None and op in (0xF6, 0xF7) and ins.reg < 2:  # TEST Ev, imm
        kind = "b" if op == 0xF6 else "v"
    if kind is not None:
        if kind == "b":
            ins.imm = fetch(pos)
            pos += 1
        elif kind == "w":
            ins.imm = fetch(pos) | fetch(pos + 1) << 8
            pos += 2
        elif kind == "v" or kind == "a":
            n = osz if kind == "v" else asz
            ins.imm = fetch(pos) | fetch(pos + 1) << 8
            if n == 4:
                ins.imm |= fetch(pos + 2) << 16 | fetch(pos + 3) << 24
            pos += n
        elif kind == "p":
            ins.imm = fetch(pos) | fetch(pos + 1) << 8
            if osz == 4:
                ins.imm |= fetch(pos + 2) << 16 | fetch(pos + 3) << 24
            pos += osz
            ins.imm2 = fetch(pos) | fetch(pos + 1) << 8
            pos += 2
        else:  # ENTER
            ins.imm = fetch(pos) | fetch(pos + 1) << 8
            ins.imm2 = fetch(pos + 2)
            pos += 3
    ins.length = pos - eip
    if ins.length > 15:
        raise DecodeError("instruction longer than 15 bytes", ins.length)
    ins.next_eip = pos
    ins.raw = bytes(fetch(eip + i) for i in range(ins.length))
    return ins


def _u32(fetch, pos: int) -> int:
    return fetch(pos) | fetch(pos + 1) << 8 | fetch(pos + 2) << 16 | fetch(pos + 3) << 24


_ALU = ("add", "or", "adc", "sbb", "and", "sub", "xor", "cmp")
_SHIFT = ("rol", "ror", "rcl", "rcr", "shl", "shr", "sal", "sar")
_MNEMONICS = {
    0x27: "daa", 0x2F: "das", 0x37: "aaa", 0x3F: "aas", 0x60: "pusha", 0x61: "popa",
    0x62: "bound", 0x63: "arpl", 0x68: "push", 0x69: "imul", 0x6A: "push", 0x6B: "imul",
    0x6C: "insb", 0x6D: "insw", 0x6E: "outsb", 0x6F: "outsw", 0x84: "test", 0x85: "test",
    0x86: "xchg", 0x87: "xchg", 0x88: "mov", 0x89: "mov", 0x8A: "mov", 0x8B: "mov",
    0x8C: "mov", 0x8D: "lea", 0x8E: "mov", 0x8F: "pop", 0x90: "nop", 0x98: "cbw",
    0x99: "cwd", 0x9A: "call far", 0x9B: "wait", 0x9C: "pushf", 0x9D: "popf", 0x9E: "sahf",
    0x9F: "lahf", 0xA4: "movsb", 0xA5: "movsw", 0xA6: "cmpsb", 0xA7: "cmpsw", 0xAA: "stosb",
    0xAB: "stosw", 0xAC: "lodsb", 0xAD: "lodsw", 0xAE: "scasb", 0xAF: "scasw",
    0xC2: "ret", 0xC3: "ret", 0xC4: "les", 0xC5: "lds", 0xC8: "enter", 0xC9: "leave",
    0xCA: "retf", 0xCB: "retf", 0xCC: "int3", 0xCD: "int", 0xCE: "into", 0xCF: "iret",
    0xD4: "aam", 0xD5: "aad", 0xD6: "salc", 0xD7: "xlat", 0xE0: "loopne", 0xE1: "loope",
    0xE2: "loop", 0xE3: "jcxz", 0xE4: "in", 0xE5: "in", 0xE6: "out", 0xE7: "out",
    0xE8: "call", 0xE9: "jmp", 0xEA: "jmp far", 0xEB: "jmp", 0xEC: "in", 0xED: "in",
    0xEE: "out", 0xEF: "out", 0xF1: "int1", 0xF4: "hlt", 0xF5: "cmc", 0xF8: "clc",
    0xF9: "stc", 0xFA: "cli", 0xFB: "sti", 0xFC: "cld", 0xFD: "std",
    0x100: "grp6 (sldt/str/lldt/ltr/verr/verw)", 0x101: "grp7 (sgdt/sidt/lgdt/lidt/smsw/lmsw)",
    0x102: "lar", 0x103: "lsl", 0x105: "syscall", 0x106: "clts", 0x107: "sysret",
    0x108: "invd", 0x109: "wbinvd", 0x10B: "ud2", 0x120: "mov r32, crN",
    0x121: "mov r32, drN", 0x122: "mov crN, r32", 0x123: "mov drN, r32", 0x130: "wrmsr",
    0x131: "rdtsc", 0x132: "rdmsr", 0x1A0: "push fs", 0x1A1: "pop fs", 0x1A2: "cpuid",
    0x1A3: "bt", 0x1A4: "shld", 0x1A5: "shld", 0x1A8: "push gs", 0x1A9: "pop gs",
    0x1AB: "bts", 0x1AC: "shrd", 0x1AD: "shrd", 0x1AF: "imul", 0x1B0: "cmpxchg",
    0x1B1: "cmpxchg", 0x1B2: "lss", 0x1B3: "btr", 0x1B4: "lfs", 0x1B5: "lgs",
    0x1B6: "movzx", 0x1B7: "movzx", 0x1BA: "bt/bts/btr/btc", 0x1BB: "btc", 0x1BC: "bsf",
    0x1BD: "bsr", 0x1BE: "movsx", 0x1BF: "movsx", 0x1C0: "xadd", 0x1C1: "xadd",
}


def mnemonic(op: int, reg: int = 0) -> str:
    """A name for an opcode, for error messages."""
    if op < 0x40 and (op & 7) < 6:
        return _ALU[op >> 3]
    if 0x70 <= op < 0x80 or 0x180 <= op < 0x190:
        return "jcc"
    if 0x190 <= op < 0x1A0:
        return "setcc"
    if 0xD8 <= op < 0xE0:
        return "x87 escape (fpu)"
    if op in (0x80, 0x81, 0x82, 0x83):
        return _ALU[reg]
    if op in (0xC0, 0xC1, 0xD0, 0xD1, 0xD2, 0xD3):
        return _SHIFT[reg]
    if op in (0xF6, 0xF7):
        return ("test", "test", "not", "neg", "mul", "imul", "div", "idiv")[reg]
    if op == 0xFE or op == 0xFF:
        return ("inc", "dec", "call", "call far", "jmp", "jmp far", "push", "?")[reg]
    if 0x40 <= op < 0x60:
        return ("inc", "dec", "push", "pop")[(op - 0x40) >> 3]
    if 0xB0 <= op < 0xC0 or 0xA0 <= op < 0xA4:
        return "mov"
    if 0x1C8 <= op < 0x1D0:
        return "bswap"
    return _MNEMONICS.get(op, f"opcode {'0f ' if op >> 8 else ''}{op & 0xFF:02x}")
