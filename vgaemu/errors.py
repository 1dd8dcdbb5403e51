"""vgaemu's exception types: one base class, raised at the boundary with a message that
names the bad value and what was expected (guestmem has its own hierarchy)."""

from __future__ import annotations


class VGAEmuError(Exception):
    """Base class of every error vgaemu raises on purpose."""


class ConfigError(VGAEmuError, ValueError):
    """A machine or device option that cannot be honoured (bad VRAM size string, ...)."""


class PortAccessError(VGAEmuError, ValueError):
    """An I/O port access the machine cannot express: port outside 0..0xFFFF, an access
    size other than 1, 2 or 4 bytes, or a value that does not fit the size."""


class MemoryAccessError(VGAEmuError):
    """A guest-physical access that no region answered (MemTxResult not OK)."""


class TraceError(VGAEmuError, ValueError):
    """A guest trace that cannot be replayed (unknown op, missing field, ...)."""


class GuestError(VGAEmuError):
    """The guest asked for something the machine does not provide (e.g. an INT service)."""


class ROMNotFoundError(VGAEmuError, FileNotFoundError):
    """A ROM file (font, BIOS data) found neither in $VGAEMU_ROM_PATH nor in the package's vgaemu/roms/."""
