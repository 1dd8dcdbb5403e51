"""The BIOS's read-only data: fonts, standard-mode register tables, palettes, VBE mode list.

All of it is package data in ``vgaemu/roms/`` (see its README.md and vgabios/README.md); this module
loads it once and derives the in-memory records the services use.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache

from vgaemu.romfile import rom_path

from .registers import BIOSError

# Memory models (VBE mode-info numbering, as SeaVGABIOS's MM_* constants).
MM_TEXT, MM_CGA, MM_HERCULES, MM_PLANAR, MM_PACKED, MM_NONCHAIN, MM_DIRECT, MM_YUV = range(8)
_MM_NAMES = {"text": MM_TEXT, "cga": MM_CGA, "hercules": MM_HERCULES, "planar": MM_PLANAR,
             "packed": MM_PACKED, "nonchain": MM_NONCHAIN, "direct": MM_DIRECT, "yuv": MM_YUV}


# Mode-set flags (vgabios.h)
MF_LEGACY = 0x0001
MF_GRAYSUM = 0x0002
MF_NOPALETTE = 0x0008
MF_CUSTOMCRTC = 0x0800
MF_LINEARFB = 0x4000
MF_NOCLEARMEM = 0x8000
MF_VBEFLAGS = 0xFE00

BF_PM_MASK = 0x0F
BF_EXTRA_STACK = 0x40

VBE_RETURN_STATUS_FAILED = 0x01
VBE_RETURN_STATUS_INVALID = 0x03

# The ROM image: where SeaVGABIOS 1.16.2 (vgabios-stdvga.bin) keeps these objects, so far
# pointers handed to the guest (INT 43h, AX=1130h, the VBE info block) are QEMU's values.
ROM_SEG = 0xC000
ROM_SIZE = 0x9C00  # 39936 bytes, as vgabios-stdvga.bin
ROM_VBE_OEM_STRING = 0x5A30
ROM_VBE_VENDOR_STRING = 0x5A44
ROM_VBE_PRODUCT_STRING = 0x5A57
ROM_VBE_REVISION_STRING = 0x5A6B
ROM_VGAFONT16 = 0x73C0
ROM_VGAFONT14 = 0x83C0
ROM_VGAFONT8 = 0x91C0
ROM_STATIC_FUNCTIONALITY = 0x99C0  # checked: AX=1B00h returns C000:99C0 under QEMU
ROM_VGAFONT16ALT = 0x5C2A   # SeaBIOS's alternate-glyph tables are empty (a 0x00 byte);
ROM_VGAFONT14ALT = 0x5C2B   # AX=1130h BH=5/7 return these (checked by dumping them in QEMU)
ROM_VIDEO_PARAM_TABLE = 0x60E0   # 29 x 64 bytes, built at POST (zeros in the ROM file)
ROM_SAVE_POINTER_TABLE = 0x6820
ROM_ENTRY_104F05 = 0x56E3   # VBE window function (far pointer in the mode info block)
ROM_STD_MODES = 0x6840      # struct stdvga_mode_s vga_modes[], 44 bytes each
ROM_SVGA_MODES = 0x5C40     # bochsvga modes, 14 bytes each

VBE_OEM_STRING = b"SeaBIOS VBE(C) 2011"
VBE_VENDOR_STRING = b"SeaBIOS Developers"
VBE_PRODUCT_STRING = b"SeaBIOS VBE Adapter"
VBE_REVISION_STRING = b"Rev. 1"


@dataclass(frozen=True, slots=True)
class VgaMode:
    """One video mode: SeaVGABIOS's ``struct vgamode_s`` (+ the stdvga register set)."""

    mode: int
    memmodel: int
    width: int      # characters for text modes, pixels otherwise
    height: int
    depth: int
    cwidth: int
    cheight: int
    sstart: int     # segment of the CPU window (B800, B000, A000)
    # Standard VGA modes only (None for Bochs DISPI modes):
    pelmask: int | None = None
    palette: bytes | None = None
    sequ: bytes | None = None
    misc: int | None = None
    crtc: bytes | None = None
    actl: bytes | None = None
    grdc: bytes | None = None

    @property
    def is_std(self) -> bool:
        return self.crtc is not None


@dataclass(frozen=True, slots=True)
class BiosTables:
    fonts: dict[int, bytes]               # cell height -> 256*height bytes
    palettes: dict[str, bytes]
    std_modes: tuple[VgaMode, ...]
    vbe_modes: tuple[VgaMode, ...]
    edid: bytes                           # 256 bytes, QEMU -vga std's EDID (VBE AX=4F15h)

    def std_mode(self, mode: int) -> VgaMode | None:
        for m in self.std_modes:
            if m.mode == mode:
                return m
        return None


@lru_cache(maxsize=1)
def load_tables() -> BiosTables:
    fonts = {}
    for h in (8, 14, 16):
        data = rom_path(f"vgafont{h}.bin").read_bytes()
        if len(data) != 256 * h:
            raise BIOSError(f"vgafont{h}.bin: {len(data)} bytes, expected {256 * h}")
        fonts[h] = data
    table = rom_path("vgabios/vgabios.json")
    try:
        doc = json.loads(table.read_text())
        palettes = {k: bytes.fromhex(v) for k, v in doc["palettes"].items()}
        std = []
        for m in doc["modes"]:
            std.append(VgaMode(
                mode=m["mode"], memmodel=_MM_NAMES[m["memmodel"]], width=m["width"],
                height=m["height"], depth=m["depth"], cwidth=m["cwidth"], cheight=m["cheight"],
                sstart=m["sstart"], pelmask=m["pelmask"], palette=palettes[m["palette"]],
                sequ=bytes.fromhex(m["sequ"]), misc=m["misc"], crtc=bytes.fromhex(m["crtc"]),
                actl=bytes.fromhex(m["actl"]), grdc=bytes.fromhex(m["grdc"])))
        vbe = [VgaMode(mode=mo, memmodel=_MM_NAMES[mm], width=w, height=h, depth=d,
                       cwidth=cw, cheight=ch, sstart=0xA000)
               for mo, mm, w, h, d, cw, ch in doc["vbe_modes"]]
    except (ValueError, KeyError, TypeError, AttributeError) as e:  # JSONDecodeError too
        what = f"missing key {e}" if isinstance(e, KeyError) else f"{type(e).__name__}: {e}"
        raise BIOSError(f"{table}: not a VGA BIOS table ({what})") from None
    edid = rom_path("vgabios/edid-qemu-stdvga.bin").read_bytes()[:256].ljust(256, b"\0")
    return BiosTables(fonts=fonts, palettes=palettes, std_modes=tuple(std),
                      vbe_modes=tuple(vbe), edid=edid)


def vga_bpp(vmode: VgaMode) -> int:
    if vmode.memmodel == MM_TEXT:
        return 16
    if vmode.memmodel == MM_PLANAR:
        return 1
    if vmode.depth > 8:
        return -(-vmode.depth // 8) * 8
    return vmode.depth
