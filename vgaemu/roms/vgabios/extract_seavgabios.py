#!/usr/bin/env python3
"""Regenerate vgabios.json from the SeaVGABIOS binary QEMU runs.

The register tables, palettes and the VBE mode list are facts about SeaVGABIOS 1.16.2
(SeaBIOS vgasrc/stdvgamodes.c and vgasrc/bochsvga.c); this script reads them out of the built
ROM (Debian package seabios 1.16.2-1, /usr/share/seabios/vgabios-stdvga.bin) so that the JSON
we ship agrees byte for byte with the BIOS QEMU 7.2 boots. It locates the tables by content,
decodes SeaVGABIOS's in-ROM structures (struct stdvga_mode_s: 44 bytes, 32-bit near pointers;
struct bochsvga_mode: 14 bytes) and writes our own format, documented in README.md.

    python3 vgaemu/roms/vgabios/extract_seavgabios.py [/path/to/vgabios-stdvga.bin]
"""
import json
import struct
import sys
from pathlib import Path

MEMMODELS = {0: "text", 1: "cga", 2: "hercules", 3: "planar", 4: "packed",
             5: "nonchain", 6: "direct", 7: "yuv"}


def find_stdvga_modes(rom: bytes) -> int:
    # Mode 0x13's vgamode_s: MM_PACKED, 320x200, 8 bpp, 8x8 cell, segment A000.
    key = struct.pack("<HBxHHBBBxH", 0x13, 4, 320, 200, 8, 8, 8, 0xA000)
    at = rom.find(key)
    if at < 0:
        raise SystemExit("mode 13h entry not found")
    start = at
    while struct.unpack_from("<H", rom, start - 44 + 12)[0] in (0xA000, 0xB000, 0xB800) \
            and struct.unpack_from("<H", rom, start - 44)[0] < 0x100:
        start -= 44
    return start


def find_vbe_modes(rom: bytes) -> int:
    key = struct.pack("<HBxHHBBBxH", 0x100, 4, 640, 400, 8, 8, 16, 0xA000)
    at = rom.find(key)
    if at < 0:
        raise SystemExit("VBE mode 0x100 entry not found")
    return at


def main(path: str) -> None:
    rom = Path(path).read_bytes()
    palettes = {}
    pal_names = {}
    modes = []
    at = find_stdvga_modes(rom)
    while True:
        (mode, mm, w, h, depth, cw, ch, sstart, pelmask, dac, dacsize,
         sequ, misc, crtc, actl, grdc) = struct.unpack_from("<HBxHHBBBxHBxIHxxIBxxxIII", rom, at)
        if sstart not in (0xA000, 0xB000, 0xB800):
            break
        if dac not in pal_names:
            name = f"pal_{len(pal_names)}"
            pal_names[dac] = name
            palettes[name] = rom[dac:dac + dacsize].hex()
        modes.append({
            "mode": mode, "memmodel": MEMMODELS[mm], "width": w, "height": h, "depth": depth,
            "cwidth": cw, "cheight": ch, "sstart": sstart, "pelmask": pelmask,
            "palette": pal_names[dac],
            "sequ": rom[sequ:sequ + 4].hex(), "misc": misc,
            "crtc": rom[crtc:crtc + 25].hex(), "actl": rom[actl:actl + 20].hex(),
            "grdc": rom[grdc:grdc + 9].hex()})
        at += 44
    # Name the palettes as stdvgamodes.c does (palette0 mono, 1 CGA, 2 EGA, 3 256-colour).
    rename = {}
    for dac, name in pal_names.items():
        data = bytes.fromhex(palettes[name])
        if len(data) == 768:
            rename[name] = "palette3"
        elif data[3:6] == b"\0\0\0":
            rename[name] = "palette0"
        elif data[18:21] == bytes([0x2a, 0x15, 0x00]):
            rename[name] = "palette1"
        else:
            rename[name] = "palette2"
    palettes = {rename[k]: v for k, v in palettes.items()}
    for m in modes:
        m["palette"] = rename[m["palette"]]
    vbe = []
    at = find_vbe_modes(rom)
    while True:
        mode, mm, w, h, depth, cw, ch, sstart = struct.unpack_from("<HBxHHBBBxH", rom, at)
        if sstart != 0xA000 or not 0x100 <= mode < 0x200:
            break
        vbe.append([mode, MEMMODELS[mm], w, h, depth, cw, ch])
        at += 14
    out = {
        "format": "vgaemu-vgabios-1",
        "source": "SeaVGABIOS 1.16.2 (Debian seabios 1.16.2-1, vgabios-stdvga.bin): "
                  "vgasrc/stdvgamodes.c vga_modes[] and palettes, vgasrc/bochsvga.c mode list",
        "palettes": palettes,
        "modes": modes,
        "vbe_modes_columns": ["mode", "memmodel", "width", "height", "depth", "cwidth", "cheight"],
        "vbe_modes": vbe,
    }
    dest = Path(__file__).with_name("vgabios.json")
    text = json.dumps(out, indent=1)
    dest.write_text(text + "\n")
    print(f"{dest}: {len(modes)} standard modes, {len(palettes)} palettes, {len(vbe)} VBE modes")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "/usr/share/seabios/vgabios-stdvga.bin")
