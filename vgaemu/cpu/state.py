"""Architectural state of the 386 in real-address mode, and the lazy condition codes.

The arithmetic flags (CF PF AF ZF SF OF) are kept as QEMU's TCG keeps them (CC_OP with
CC_DST/CC_SRC): the last flag-setting instruction leaves ``cpu.cc = (op, res, a, b, c)``
and :func:`lazy_arith` derives the six bits only when something reads them (a Jcc the
translator could not fuse, PUSHF, LAHF, an interrupt).  ``op`` 0 (CC_EAGER) means ``res``
already holds the six bits.  The other EFLAGS bits (DF, IF, TF, IOPL, NT, bit 1) live in
``cpu.eflags`` and are always exact there.
"""

from __future__ import annotations

# EFLAGS bits (Intel SDM vol. 1, 3.4.3)
CF, PF, AF, ZF, SF, TF, IF, DF, OF = 0x1, 0x4, 0x10, 0x40, 0x80, 0x100, 0x200, 0x400, 0x800
IOPL, NT = 0x3000, 0x4000
#: The bits the lazy condition codes stand for.
ARITH = CF | PF | AF | ZF | SF | OF
#: EFLAGS bits a real-mode POPF/IRET can change on a 386 (bit 1 reads 1, 3/5/15 read 0;
#: VM and RF are not writable by POPF).
EFLAGS_WRITABLE = 0x0007FD5 & ~0x00020000 | 0x00040000
FLAGS_FIXED = 0x2

# Segment register numbers: the order of the ModR/M reg field and of QEMU's R_ES..R_GS.
ES, CS, SS, DS, FS, GS = range(6)
SEG_NAMES = ("es", "cs", "ss", "ds", "fs", "gs")
REG32 = ("eax", "ecx", "edx", "ebx", "esp", "ebp", "esi", "edi")
REG16 = ("ax", "cx", "dx", "bx", "sp", "bp", "si", "di")
REG8 = ("al", "cl", "dl", "bl", "ah", "ch", "dh", "bh")

# hflags: the mode bits that change how code decodes; part of every TB key (QEMU's
# HF_CS32/HF_SS32/HF_PE bits of env->hflags).
HF_CS32 = 1
HF_SS32 = 2
HF_PE = 4
HF_A20OFF = 8   # the A20 gate is off: physical addresses are masked with 0xFFEFFFFF

# Lazy condition-code kinds; op = kind << 2 | size index (0: 8 bits, 1: 16, 2: 32).
CC_EAGER, CC_ADD, CC_ADC, CC_SUB, CC_SBB, CC_LOGIC, CC_INC, CC_DEC = range(8)
# shifts by a nonzero count: a is the operand before, b the count (1..31)
CC_SHL, CC_SHR, CC_SAR = 8, 9, 10
SIZE_INDEX = {1: 0, 2: 1, 4: 2}
SIGN_BIT = (0x80, 0x8000, 0x80000000)
MASKS = (0xFF, 0xFFFF, 0xFFFFFFFF)

PARITY = bytes(0 if bin(i).count("1") & 1 else PF for i in range(256))


def cc_op(kind: int, size: int) -> int:
    return kind << 2 | SIZE_INDEX[size]


def lazy_arith(op: int, res: int, a: int, b: int, c: int) -> int:
    """The six arithmetic flags described by one lazy ``cpu.cc`` tuple."""
    kind = op >> 2
    if kind == CC_EAGER:
        return res
    sign = SIGN_BIT[op & 3]
    f = PARITY[res & 0xFF]
    if res == 0:
        f |= ZF
    if res & sign:
        f |= SF
    if kind == CC_LOGIC:
        return f
    if kind >= CC_SHL:
        bits = 8 << (op & 3)
        if kind == CC_SHL:
            cf = (a << b) >> bits & 1
            of = (res >> (bits - 1) & 1) ^ cf
        elif kind == CC_SHR:
            cf = a >> (b - 1) & 1
            of = a >> (bits - 1) & 1
        else:
            cf = ((a ^ sign) - sign) >> (b - 1) & 1
            of = 0
        return f | cf | (OF if of else 0)
    if kind == CC_ADD or kind == CC_ADC:
        if res < a or (kind == CC_ADC and c and res == a):
            f |= CF
        if (a ^ res) & (b ^ res) & sign:
            f |= OF
    elif kind == CC_SUB or kind == CC_SBB:
        if a < b + (c if kind == CC_SBB else 0):
            f |= CF
        if (a ^ b) & (a ^ res) & sign:
            f |= OF
    else:  # INC / DEC: b is 1, c the carry they preserve (or the lazy flags it comes from)
        if c.__class__ is tuple:
            c = lazy_arith(*c) & CF
        if c:
            f |= CF
        if res == (sign if kind == CC_INC else sign - 1):
            f |= OF
    return f | ((a ^ b ^ res) & AF)


def arith_of_cc(cc: tuple) -> int:
    return lazy_arith(*cc)


def cond_from_flags(cond: int, f: int) -> bool:
    """The 16 x86 condition codes (Jcc/SETcc low nibble) on materialised flags."""
    c = cond >> 1
    if c == 0:
        r = f & OF
    elif c == 1:
        r = f & CF
    elif c == 2:
        r = f & ZF
    elif c == 3:
        r = f & (CF | ZF)
    elif c == 4:
        r = f & SF
    elif c == 5:
        r = f & PF
    elif c == 6:
        r = bool(f & SF) != bool(f & OF)
    else:
        r = (f & ZF) or bool(f & SF) != bool(f & OF)
    return (not r) if cond & 1 else bool(r)


def _szp(res: int, sign: int) -> int:
    f = PARITY[res & 0xFF]
    if res == 0:
        f |= ZF
    if res & sign:
        f |= SF
    return f


def shift_op(kind: int, size: int, v: int, n: int, f: int) -> tuple[int, int]:
    """ROL ROR RCL RCR SHL SHR SAL SAR (ModR/M reg 0..7) of a ``size``-byte value by ``n``.

    ``f`` are the arithmetic flags before; returns (result, flags after).  The count is
    masked to 5 bits as on every x86 since the 286; a zero count changes nothing.
    """
    bits = size * 8
    mask = MASKS[SIZE_INDEX[size]]
    sign = 1 << (bits - 1)
    n &= 31
    if n == 0:
        return v, f
    if kind == 0 or kind == 1:  # ROL / ROR: only CF and OF
        r = n % bits
        res = ((v << r) | (v >> (bits - r))) & mask if kind == 0 else \
            ((v >> r) | (v << (bits - r))) & mask
        f &= ~(CF | OF)
        if kind == 0:
            cf = res & 1
            of = (res >> (bits - 1) & 1) ^ cf
        else:
            cf = res >> (bits - 1) & 1
            of = (res >> (bits - 1) ^ res >> (bits - 2)) & 1
        return res, f | (CF if cf else 0) | (OF if of else 0)
    if kind == 2 or kind == 3:  # RCL / RCR through CF
        r = n % (bits + 1)
        cin = f & CF
        if r == 0:
            return v, f
        wide = v | (cin << bits)  # bits+1 wide value, CF on top
        if kind == 2:
            wide = ((wide << r) | (wide >> (bits + 1 - r))) & ((mask << 1) | 1)
        else:
            wide = ((wide >> r) | (wide << (bits + 1 - r))) & ((mask << 1) | 1)
        res = wide & mask
        cf = wide >> bits & 1
        if kind == 2:
            of = (res >> (bits - 1) & 1) ^ cf
        else:
            of = (res >> (bits - 1) ^ res >> (bits - 2)) & 1
        f &= ~(CF | OF)
        return res, f | (CF if cf else 0) | (OF if of else 0)
    if kind == 4 or kind == 6:  # SHL / SAL
        res = (v << n) & mask
        cf = (v >> (bits - n)) & 1 if n <= bits else 0
        of = (res >> (bits - 1) & 1) ^ cf
    elif kind == 5:  # SHR
        res = v >> n
        cf = (v >> (n - 1)) & 1 if n <= bits else 0
        of = v >> (bits - 1) & 1
    else:  # SAR
        sv = v - (1 << bits) if v & sign else v
        res = (sv >> n) & mask
        cf = (sv >> (n - 1)) & 1 if n <= bits else (1 if sv < 0 else 0)
        of = 0
    return res, _szp(res, sign) | (CF if cf else 0) | (OF if of else 0)


def shld_op(size: int, dst: int, src: int, n: int, f: int, right: bool) -> tuple[int, int]:
    """SHLD / SHRD: ``dst`` shifted by ``n`` (masked to 5 bits) with bits from ``src``."""
    bits = size * 8
    mask = MASKS[SIZE_INDEX[size]]
    n &= 31
    if n == 0:
        return dst, f
    if not right:
        wide = (dst << bits | src) << n
        res = (wide >> bits) & mask
        cf = (wide >> (2 * bits)) & 1 if n <= bits else (src >> (bits - n % bits)) & 1
        of = ((res ^ dst) >> (bits - 1)) & 1
    else:
        wide = (src << bits | dst)
        res = (wide >> n) & mask
        cf = (wide >> (n - 1)) & 1
        of = ((res ^ dst) >> (bits - 1)) & 1
    return res, _szp(res, 1 << (bits - 1)) | (CF if cf else 0) | (OF if of else 0)


def signed(v: int, size: int) -> int:
    bits = size * 8
    return v - (1 << bits) if v >> (bits - 1) & 1 else v


def daa(al: int, f: int) -> tuple[int, int]:
    old_al, old_cf = al, f & CF
    cf = 0
    af = 0
    if (al & 0xF) > 9 or f & AF:
        al = (al + 6) & 0xFF
        cf = old_cf or (old_al + 6 > 0xFF)
        af = 1
    if old_al > 0x99 or old_cf:
        al = (al + 0x60) & 0xFF
        cf = 1
    return al, _szp(al, 0x80) | (CF if cf else 0) | (AF if af else 0)


def das(al: int, f: int) -> tuple[int, int]:
    old_al, old_cf = al, f & CF
    cf = 0
    af = 0
    if (al & 0xF) > 9 or f & AF:
        cf = old_cf or (al < 6)
        al = (al - 6) & 0xFF
        af = 1
    if old_al > 0x99 or old_cf:
        al = (al - 0x60) & 0xFF
        cf = 1
    return al, _szp(al, 0x80) | (CF if cf else 0) | (AF if af else 0)


def aaa_aas(ax: int, f: int, sub: bool) -> tuple[int, int]:
    """AAA / AAS on AX as the 386 does them (QEMU helper_aaa/helper_aas): the adjustment
    of AL by 6 carries into AH."""
    al, ah = ax & 0xFF, ax >> 8
    if (al & 0xF) > 9 or f & AF:
        if sub:
            ah = (ah - 1 - (al < 6)) & 0xFF
            al = (al - 6) & 0xF
        else:
            ah = (ah + 1 + (al > 0xF9)) & 0xFF
            al = (al + 6) & 0xF
        f |= CF | AF
    else:
        f &= ~(CF | AF)
        al &= 0xF
    return ah << 8 | al, f
