"""Runtime helpers the generated code calls for the rarer instructions (QEMU's
target/i386/tcg/*_helper.c): multiply/divide flags, division with #DE, CPUID."""

from __future__ import annotations

from .state import CF, OF, PARITY, SF, ZF

MASK = (0, 0xFF, 0xFFFF, 0, 0xFFFFFFFF)
SIGN = (0, 0x80, 0x8000, 0, 0x80000000)


def mul_flags(lo: int, size: int, overflow: bool) -> int:
    """MUL/IMUL: CF = OF = the result did not fit; SF/ZF/PF from the low part as QEMU's
    CC_OP_MUL* computes them (the SDM leaves them undefined); AF 0."""
    f = PARITY[lo & 0xFF]
    if lo == 0:
        f |= ZF
    if lo & SIGN[size]:
        f |= SF
    if overflow:
        f |= CF | OF
    return f


def div_u(size: int, dividend: int, divisor: int):
    """DIV: (quotient, remainder), or None for #DE (divide by zero or a quotient too big)."""
    if divisor == 0:
        return None
    q, r = divmod(dividend, divisor)
    if q > MASK[size]:
        return None
    return q, r


def div_s(size: int, dividend: int, divisor: int):
    """IDIV on sign-extended operands: truncating division; None for #DE."""
    if divisor == 0:
        return None
    q = abs(dividend) // abs(divisor)
    if (dividend < 0) != (divisor < 0):
        q = -q
    r = dividend - q * divisor
    s = SIGN[size]
    if not -s <= q < s:
        return None
    return q & MASK[size], r & MASK[size]


def bswap(v: int) -> int:
    return int.from_bytes(v.to_bytes(4, "little"), "big")


def cpuid(eax: int, ecx: int) -> tuple[int, int, int, int]:
    """A 386-class answer: vendor "GenuineIntel", family 3, no feature bits (a 386 has no
    CPUID; real-mode software probing with it sees the oldest CPU that could answer)."""
    if eax == 0:
        return 1, 0x756E6547, 0x6C65746E, 0x49656E69  # eax, ebx, ecx, edx
    if eax == 1:
        return 0x00000300, 0, 0, 0
    return 0, 0, 0, 0
