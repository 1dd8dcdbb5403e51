"""The BIOS's read-only data: fonts, standard-mode register tables, palettes, VBE mode list.

All of it is package data in ``vgaemu/roms/`` (see its README.md and vgabios/README.md); this module
loads it once and derives the in-memory records the services use.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache

from vgaemu.romfile import rom_path

# Memory models (VBE mode-info numbering, as SeaVGABIOS's MM_* constants).
MM_TEXT, MM_CGA, MM_HERCULES, MM_PLANAR, MM_PACKED, MM_NONCHAIN, MM_DIRECT, MM_YUV = range(8)
_MM_NAMES = {"text": MM_TEXT, "cga": MM_CGA, "hercules": MM_HERCULES, "planar": MM_PLANAR,
             "packed": MM_PACKED, "nonchain": MM_NONCHAIN, "direct": MM_DIRECT, "yuv": MM_YUV}


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
            from .registers import BIOSError
            raise BIOSError(f"vgafont{h}.bin: {len(data)} bytes, expected {256 * h}")
        fonts[h] = data
    doc = json.loads(rom_path("vgabios/vgabios.json").read_text())
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
    edid = rom_path("vgabios/edid-qemu-stdvga.bin").read_bytes()[:256].ljust(256, b"\0")
    return BiosTables(fonts=fonts, palettes=palettes, std_modes=tuple(std),
                      vbe_modes=tuple(vbe), edid=edid)
