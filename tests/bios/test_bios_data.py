"""vgaemu/roms/ data of the BIOS: shapes, and agreement with the SeaVGABIOS binary where installed."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from vgaemu.bios.data import MM_PLANAR, MM_TEXT, load_tables

ROMS = Path(__file__).resolve().parents[2] / "vgaemu" / "roms"
SEAVGABIOS = Path("/usr/share/seabios/vgabios-stdvga.bin")


def test_fonts_and_tables_shapes():
    t = load_tables()
    assert {h: len(f) for h, f in t.fonts.items()} == {8: 2048, 14: 3584, 16: 4096}
    # glyph 1 is the smiley in all three heights; 0xDB is a full block
    assert t.fonts[8][8:16] == bytes([0x7E, 0x81, 0xA5, 0x81, 0xBD, 0x99, 0x81, 0x7E])
    assert t.fonts[16][0xDB * 16:0xDC * 16] == b"\xff" * 16
    for m in t.std_modes:
        assert (len(m.sequ), len(m.crtc), len(m.actl), len(m.grdc)) == (4, 25, 20, 9)
        assert len(m.palette) in (192, 768)
    m3 = t.std_mode(3)
    assert (m3.memmodel, m3.width, m3.height, m3.sstart, m3.misc) == (MM_TEXT, 80, 25, 0xB800,
                                                                      0x67)
    assert t.std_mode(0x12).memmodel == MM_PLANAR
    assert len(t.vbe_modes) == 82 and len(t.edid) == 256
    assert sum(t.edid[:128]) % 256 == 0 and sum(t.edid[128:]) % 256 == 0


@pytest.mark.skipif(not SEAVGABIOS.exists(), reason="SeaVGABIOS binary not installed")
def test_json_matches_seavgabios_binary(tmp_path):
    script = ROMS / "vgabios" / "extract_seavgabios.py"
    copy = tmp_path / "extract_seavgabios.py"
    copy.write_text(script.read_text())
    subprocess.run([sys.executable, str(copy), str(SEAVGABIOS)], check=True,
                   capture_output=True)
    assert json.loads((tmp_path / "vgabios.json").read_text()) == \
        json.loads((ROMS / "vgabios" / "vgabios.json").read_text())


@pytest.mark.skipif(not SEAVGABIOS.exists(), reason="SeaVGABIOS binary not installed")
def test_fonts_match_seavgabios_binary():
    rom = SEAVGABIOS.read_bytes()
    t = load_tables()
    assert rom[0x73C0:0x73C0 + 4096] == t.fonts[16]
    assert rom[0x83C0:0x83C0 + 3584] == t.fonts[14]
    assert rom[0x91C0:0x91C0 + 2048] == t.fonts[8]
