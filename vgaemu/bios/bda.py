"""The BIOS data area (segment 0040h) fields the video BIOS owns, at their real addresses.

The BIOS keeps no state of its own in Python: like SeaVGABIOS it reads and writes these bytes
in guest RAM on every call, so a guest (or a test) that inspects or patches the BDA sees and
changes exactly what the BIOS uses.
"""

from __future__ import annotations

BDA = 0x400
EQUIPMENT = 0x10         # u16 equipment list (bits 4-5: initial video mode)
VIDEO_MODE = 0x49        # u8
VIDEO_COLS = 0x4A        # u16
VIDEO_PAGESIZE = 0x4C    # u16
VIDEO_PAGESTART = 0x4E   # u16
CURSOR_POS = 0x50        # u16[8], (row << 8) | col
CURSOR_TYPE = 0x60       # u16, (start << 8) | end
VIDEO_PAGE = 0x62        # u8
CRTC_ADDRESS = 0x63      # u16
VIDEO_MSR = 0x65         # u8
VIDEO_PAL = 0x66         # u8
VIDEO_ROWS = 0x84        # u8, rows - 1
CHAR_HEIGHT = 0x85       # u16
VIDEO_CTL = 0x87         # u8
VIDEO_SWITCHES = 0x88    # u8
MODESET_CTL = 0x89       # u8
DCC_INDEX = 0x8A         # u8
VIDEO_SAVETABLE = 0xA8   # far pointer
# SeaVGABIOS's private BDA bytes (VGA_CUSTOM_BDA = 0xB9, struct vga_bda_s)
VGA_FLAGS = 0xB9         # u8: BF_PM_MASK 0x0F, BF_EXTRA_STACK 0x40
VBE_MODE = 0xBA          # u16: current mode incl. VBE flag bits (0x4000 LFB, 0x8000 no-clear)
VGAMODE_OFFSET = 0xBC    # u16: ROM offset of the current mode's vgamode_s (0 = none)

_U8 = {"video_mode": VIDEO_MODE, "video_page": VIDEO_PAGE, "video_msr": VIDEO_MSR,
       "video_pal": VIDEO_PAL, "video_rows": VIDEO_ROWS, "video_ctl": VIDEO_CTL,
       "video_switches": VIDEO_SWITCHES, "modeset_ctl": MODESET_CTL, "dcc_index": DCC_INDEX,
       "vga_flags": VGA_FLAGS}
_U16 = {"video_cols": VIDEO_COLS, "video_pagesize": VIDEO_PAGESIZE,
        "video_pagestart": VIDEO_PAGESTART, "cursor_type": CURSOR_TYPE,
        "crtc_address": CRTC_ADDRESS, "char_height": CHAR_HEIGHT, "vbe_mode": VBE_MODE,
        "vgamode_offset": VGAMODE_OFFSET, "equipment": EQUIPMENT}


def _field(off: int, size: int) -> property:
    """A BDA field as a property: one guest-memory load or store of its size (a property
    costs a third of a ``__getattr__`` that only runs after the slot lookup failed, and the
    teletype reads a dozen fields a character)."""
    addr = BDA + off
    if size == 1:
        def get(self) -> int:
            return self._bus.readb(addr)

        def set_(self, value: int) -> None:
            self._bus.writeb(addr, value & 0xFF)
    else:
        def get(self) -> int:
            return self._bus.readw(addr)

        def set_(self, value: int) -> None:
            self._bus.writew(addr, value & 0xFFFF)
    return property(get, set_)


class BiosDataArea:
    """Attribute access to the BDA in guest memory: ``bda.video_cols = 80`` stores 2 bytes."""

    __slots__ = ("_bus",)

    def __init__(self, bus) -> None:
        object.__setattr__(self, "_bus", bus)

    def __setattr__(self, name: str, value: int) -> None:
        if name not in _U8 and name not in _U16:
            raise AttributeError(name)
        object.__setattr__(self, name, value)   # the field's property stores it

    def get_cursor_pos(self, page: int) -> int:
        return self._bus.readw(BDA + CURSOR_POS + 2 * page)

    def set_cursor_pos(self, page: int, value: int) -> None:
        self._bus.writew(BDA + CURSOR_POS + 2 * page, value & 0xFFFF)

    def read(self, off: int, n: int) -> bytes:
        return self._bus.read(BDA + off, n)

    def write(self, off: int, data: bytes) -> None:
        self._bus.write(BDA + off, data)


for _name, _off in _U8.items():
    setattr(BiosDataArea, _name, _field(_off, 1))
for _name, _off in _U16.items():
    setattr(BiosDataArea, _name, _field(_off, 2))
del _name, _off
