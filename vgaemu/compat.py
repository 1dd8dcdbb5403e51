"""Where vgaemu follows VGA hardware and where it reproduces QEMU 7.2: one named policy.

Each field of :class:`Compat` is one row of README's "VGA hardware and QEMU 7.2" table, named
after the hardware behaviour: ``True`` follows the hardware, ``False`` does what QEMU 7.2
does. The VGA, its planar memory, the text renderer and the mode geometry read the fields they
implement, so a branch names the difference it is about and a user can mix::

    Machine(compat=Compat.qemu_7_2().replace(blink=True))

While Bochs VBE is enabled there is no hardware to follow, and QEMU's behaviour is the model
whatever the policy says (the planar memory and the geometry check ``vbe_enabled``).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from vgaemu.errors import ConfigError


@dataclass(frozen=True, slots=True)
class Compat:
    """The hardware-vs-QEMU policy of one machine (frozen: share it freely)."""

    #: AR10 bit 3 blinks characters with attribute bit 7 (16 frames on, 16 off) and leaves 8
    #: background colours; QEMU never blinks, bit 7 is always a bright background.
    blink: bool = True
    #: The 9th dot column repeats column 8 for glyphs C0h-DFh; QEMU for B0h-DFh.
    ninth_column_c0_df: bool = True
    #: A register change (e.g. AR10 bit 2) shows at once in every text cell; QEMU redraws a
    #: cell only when its char/attribute changes, for the cursor, or on its own triggers.
    live_text_registers: bool = True
    #: 40-column text doubles the 9-dot cells (720x400); QEMU draws 16-pixel cells (640x400).
    nine_dot_40_columns: bool = True
    #: Mode 7 underline on the CR14 scan line; QEMU draws none.
    underline: bool = True
    #: Horizontal pel panning (AR13), AR10 bit 5 keeping the split unpanned; QEMU ignores it.
    pel_panning: bool = True
    #: The PEL mask (3C6h) ANDs every DAC index and reads back; QEMU ignores it, reads 0.
    pel_mask: bool = True
    #: Screen off (SR1 bit 5) blanks the picture; QEMU ignores it.
    screen_off: bool = True
    #: Text double scan (CR9 bit 7) shows each character scanline twice; QEMU ignores it.
    text_double_scan: bool = True
    #: Text rows come from the vertical display end, a cut last row shown in part; QEMU shows
    #: whole rows only (and forces 100 rows when CR6 is 100, its CGA 160x100 hack).
    partial_text_rows: bool = True
    #: Preset row scan (CR8) scrolls text smoothly; QEMU ignores it.
    preset_row_scan: bool = True
    #: Cursor skew (CR0B bits 5-6) moves the cursor right; QEMU ignores it.
    cursor_skew: bool = True
    #: Text line compare splits at the exact scanline; QEMU at character-row boundaries.
    scanline_text_split: bool = True
    #: The cursor blinks every 8 frames of virtual time; QEMU toggles it every 266 ms,
    #: restarting on text/graphics switches.
    cursor_blink_frames: bool = True
    #: Chain-4 and odd/even accesses go through the graphics controller (set/reset, rotate,
    #: logical op, bit mask) and reads load the latches; QEMU moves the raw byte.
    chain4_odd_even_through_gc: bool = True
    #: Odd/even writes (SR4 bit 2 clear) go to planes 0/2 or 1/3 under the map mask; QEMU
    #: selects odd/even by GR5 bit 4 and writes one plane chosen with GR4 bit 1 and A0.
    odd_even_map_mask: bool = True
    #: Each plane is 64 KiB: the CRTC address and the CPU window wrap there; QEMU reads and
    #: writes on past the plane's end.
    planes_wrap_64k: bool = True
    #: Attribute palette address source off shows the overscan colour (AR11) at the mode's
    #: size; QEMU shows black at the last size, or its placeholder if nothing was drawn yet.
    overscan_when_blank: bool = True
    #: Every graphics frame shows the registers as they are; QEMU redraws lines only on its
    #: full-update triggers or dirty VRAM, so AR12, CR9 or CR17 changes leave it stale.
    live_graphics_registers: bool = True
    #: A 0x3C0 read returns the index in either flip-flop state and 0x3C9 reads 6 bits in the
    #: 6-bit DAC mode; QEMU returns 0 and 8 bits.
    register_readback: bool = True
    #: Input status 1 follows a raster position on the virtual clock; QEMU toggles its
    #: retrace bits on every read.
    raster_status: bool = True
    #: 16/32-bit IN/OUT to the byte-wide VGA ports are split into byte accesses; QEMU drops
    #: 32-bit ones and the high byte of a 16-bit one that leaves the port range.
    split_wide_port_access: bool = True

    @classmethod
    def hardware(cls) -> Compat:
        """Every row as the VGA hardware does it (the default)."""
        return cls()

    @classmethod
    def qemu_7_2(cls) -> Compat:
        """Every row as QEMU 7.2 does it (``--qemu-compat``)."""
        return cls(**{f.name: False for f in dataclasses.fields(cls)})

    @classmethod
    def field_names(cls) -> tuple[str, ...]:
        return tuple(f.name for f in dataclasses.fields(cls))

    def __post_init__(self) -> None:
        for name in self.field_names():
            value = getattr(self, name)
            if not isinstance(value, bool):
                raise ConfigError(f"Compat.{name}={value!r}: expected True (hardware) or "
                                  "False (QEMU 7.2)")

    def replace(self, **changes: bool) -> Compat:
        """A copy with some rows changed: ``Compat.qemu_7_2().replace(blink=True)``."""
        unknown = set(changes) - set(self.field_names())
        if unknown:
            raise ConfigError(f"Compat has no field {', '.join(sorted(unknown))}; expected "
                              f"one of {', '.join(self.field_names())}")
        return dataclasses.replace(self, **changes)

    def differences(self) -> tuple[str, ...]:
        """The rows where this policy does what QEMU 7.2 does."""
        return tuple(name for name in self.field_names() if not getattr(self, name))

    @classmethod
    def of(cls, compat: Compat | None = None, qemu_compat: bool = False) -> Compat:
        """The policy a machine's options ask for: ``compat`` (default: the hardware), or
        QEMU 7.2's for ``qemu_compat=True`` -- the bool of the CLI's ``--qemu-compat``."""
        if compat is not None and not isinstance(compat, Compat):
            raise ConfigError(f"compat={compat!r}: expected a vgaemu.Compat "
                              "(Compat.hardware(), Compat.qemu_7_2() or a .replace() of them)")
        if not isinstance(qemu_compat, bool):
            raise ConfigError(f"qemu_compat={qemu_compat!r}: expected True or False")
        if not qemu_compat:
            return compat if compat is not None else cls.hardware()
        if compat is not None and compat != cls.qemu_7_2():
            raise ConfigError(f"qemu_compat=True contradicts compat={compat!r}: pass one of them")
        return cls.qemu_7_2()
