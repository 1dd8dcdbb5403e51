"""The CPU registers an INT 10h call sees: SeaBIOS's ``struct bregs`` as a Python record."""

from __future__ import annotations

from dataclasses import dataclass

from vgaemu.errors import VGAEmuError


class BIOSError(VGAEmuError, ValueError):
    """A BIOS call was given something no real-mode caller could pass (e.g. AX > 0xFFFF)."""


_WORDS = ("ax", "bx", "cx", "dx", "si", "di", "bp", "es", "ds", "flags")

CF = 0x0001  # carry flag, bit 0 of FLAGS


def _byte_property(word: str, high: bool) -> property:
    shift = 8 if high else 0

    def get(self: "Registers") -> int:
        return (getattr(self, word) >> shift) & 0xFF

    def set_(self: "Registers", value: int) -> None:
        if not 0 <= value <= 0xFF:
            raise BIOSError(f"{word[0]}{'h' if high else 'l'}={value!r}: expected 0..0xFF")
        old = getattr(self, word)
        setattr(self, word, (old & ~(0xFF << shift) & 0xFFFF) | (value << shift))

    return property(get, set_)


def _word_ok(v) -> bool:
    return type(v) is int and 0 <= v <= 0xFFFF


@dataclass(slots=True, init=False)
class Registers:
    """16-bit general, index and segment registers plus FLAGS, as an INT handler sees them.

    The 8-bit halves (``al``, ``ah``, ``bl`` ...) are views onto the words, as on x86. Every
    value is checked to be a 16-bit unsigned integer so a bad caller value is reported at the
    boundary instead of being truncated somewhere inside a service.
    """

    ax: int = 0
    bx: int = 0
    cx: int = 0
    dx: int = 0
    si: int = 0
    di: int = 0
    bp: int = 0
    es: int = 0
    ds: int = 0
    flags: int = 0x0002  # bit 1 of FLAGS always reads as 1

    def __init__(self, ax: int = 0, bx: int = 0, cx: int = 0, dx: int = 0, si: int = 0,
                 di: int = 0, bp: int = 0, es: int = 0, ds: int = 0,
                 flags: int = 0x0002) -> None:
        # Every INT 10h a guest makes builds one: plain ints in range (the usual case) are
        # checked in one expression; anything else goes word by word through __setattr__,
        # which names the bad one.
        if not (_word_ok(ax) and _word_ok(bx) and _word_ok(cx) and _word_ok(dx)
                and _word_ok(si) and _word_ok(di) and _word_ok(bp) and _word_ok(es)
                and _word_ok(ds) and _word_ok(flags)):
            for name, value in zip(_WORDS, (ax, bx, cx, dx, si, di, bp, es, ds, flags)):
                setattr(self, name, value)
            return
        set_ = object.__setattr__
        set_(self, "ax", ax)
        set_(self, "bx", bx)
        set_(self, "cx", cx)
        set_(self, "dx", dx)
        set_(self, "si", si)
        set_(self, "di", di)
        set_(self, "bp", bp)
        set_(self, "es", es)
        set_(self, "ds", ds)
        set_(self, "flags", flags)

    al = _byte_property("ax", False)
    ah = _byte_property("ax", True)
    bl = _byte_property("bx", False)
    bh = _byte_property("bx", True)
    cl = _byte_property("cx", False)
    ch = _byte_property("cx", True)
    dl = _byte_property("dx", False)
    dh = _byte_property("dx", True)

    @property
    def carry(self) -> bool:
        return bool(self.flags & CF)

    @carry.setter
    def carry(self, on: bool) -> None:
        self.flags = (self.flags | CF) if on else (self.flags & ~CF & 0xFFFF)

    def copy(self) -> "Registers":
        """A copy without re-checking the words (they were checked when set): every
        INT 10h call makes one, so it must cost less than the service it wraps."""
        new = object.__new__(Registers)
        for name in _WORDS:
            object.__setattr__(new, name, getattr(self, name))
        return new

    def __setattr__(self, name: str, value: int) -> None:
        if name in _WORDS and (isinstance(value, bool) or not isinstance(value, int)
                               or not 0 <= value <= 0xFFFF):
            raise BIOSError(f"register {name}={value!r}: expected an integer 0..0xFFFF")
        object.__setattr__(self, name, value)

    def __repr__(self) -> str:
        body = " ".join(f"{n}={getattr(self, n):04X}" for n in _WORDS)
        return f"Registers({body})"


def linear(seg: int, off: int) -> int:
    """Real-mode address with A20 enabled, as QEMU runs SeaVGABIOS: FFFF:0020 is 0x100010."""
    return ((seg & 0xFFFF) << 4) + (off & 0xFFFF)
