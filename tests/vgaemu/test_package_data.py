"""The ROM data and demos are package data: found through importlib.resources, declared in
pyproject.toml so a wheel carries them, and $VGAEMU_ROM_PATH is searched first (QEMU's -L).
(.ci/wheel-smoke builds and installs the real wheel; these are the fast checks.)"""

from __future__ import annotations

import fnmatch
import tomllib
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def test_every_file_under_roms_is_declared_package_data():
    conf = tomllib.loads((REPO / "pyproject.toml").read_text())
    patterns = conf["tool"]["setuptools"]["package-data"]["vgaemu"]
    roms = REPO / "vgaemu" / "roms"
    files = [p.relative_to(REPO / "vgaemu").as_posix() for p in roms.rglob("*")
             if p.is_file() and "__pycache__" not in p.parts]
    # .py files travel as modules of the namespace packages vgaemu.roms.*
    missing = [f for f in files if not f.endswith(".py") and not any(fnmatch.fnmatch(f, g) for g in patterns)]
    assert missing == [], f"add to [tool.setuptools.package-data]: {missing}"
    assert conf["tool"]["setuptools"]["packages"]["find"].get("namespaces", True)


def test_rom_files_come_from_the_package_and_the_rom_path_first(tmp_path, monkeypatch):
    from vgaemu.romfile import DEFAULT_ROM_DIR, rom_path

    assert Path(str(rom_path("vgafont16.bin"))) == REPO / "vgaemu" / "roms" / "vgafont16.bin"
    assert rom_path("vgabios/vgabios.json").read_text().startswith("{")
    (tmp_path / "vgafont16.bin").write_bytes(b"\1" * 4096)
    monkeypatch.setenv("VGAEMU_ROM_PATH", f"{tmp_path / 'nope'}:{tmp_path}")
    assert rom_path("vgafont16.bin").read_bytes() == b"\1" * 4096
    assert Path(str(rom_path("vgafont8.bin"))).parent == Path(str(DEFAULT_ROM_DIR))


@pytest.mark.parametrize("bad", ["", "/etc/passwd", "../pyproject.toml", "vgabios/../../x"])
def test_bad_rom_names_are_refused(bad):
    from vgaemu.errors import ROMNotFoundError
    from vgaemu.romfile import rom_path

    with pytest.raises(ROMNotFoundError, match="bad ROM name"):
        rom_path(bad)


def test_missing_rom_names_every_directory(monkeypatch, tmp_path):
    from vgaemu.errors import ROMNotFoundError
    from vgaemu.romfile import rom_path

    monkeypatch.setenv("VGAEMU_ROM_PATH", str(tmp_path))
    with pytest.raises(ROMNotFoundError, match=f"not found in {tmp_path}, .*roms.*VGAEMU_ROM_PATH"):
        rom_path("vgafont99.bin")


def test_demos_are_listed_from_the_package():
    from vgaemu.demos import demo_dir, demo_path, list_demos

    assert demo_dir() == REPO / "vgaemu" / "roms" / "demos"
    demos = {d.name: d for d in list_demos()}
    assert set(demos) == {"dimm", "modex", "palette_cycle", "planar", "plasma", "sprites", "text"}
    assert demos["plasma"].summary.startswith("Mode 13h plasma")
    assert all("\n" not in d.summary and d.summary for d in demos.values())
    assert demo_path("plasma.py") == demos["plasma"].path
    for bad in ("", "../cli", "_private", ".hidden", "nope"):
        assert demo_path(bad) is None


@pytest.mark.parametrize("text, match", [
    ("{not json", "JSONDecodeError"),
    ("", "JSONDecodeError"),
    ('{"palettes": {}}', "missing key 'modes'"),
    ('{"palettes": {"p": "zz"}, "modes": [], "vbe_modes": []}', "non-hexadecimal"),
    ('{"palettes": {}, "modes": [{"mode": 3}], "vbe_modes": []}', "missing key 'memmodel'"),
    ('{"palettes": {}, "modes": [], "vbe_modes": [[1, 2]]}', "ValueError"),
    ("[1, 2]", "TypeError"),
])
def test_broken_bios_table_on_the_rom_path_is_a_bios_error(monkeypatch, tmp_path, text, match):
    """A vgabios.json in $VGAEMU_ROM_PATH that is not the table: a BIOSError naming the file
    (the CLI prints it as one line), where JSONDecodeError, KeyError or a fromhex ValueError
    came out of load_tables as an internal error."""
    from vgaemu.bios.data import load_tables
    from vgaemu.bios.registers import BIOSError

    (tmp_path / "vgabios").mkdir()
    (tmp_path / "vgabios" / "vgabios.json").write_text(text)
    monkeypatch.setenv("VGAEMU_ROM_PATH", str(tmp_path))
    load_tables.cache_clear()
    try:
        with pytest.raises(BIOSError, match=f"vgabios.json: not a VGA BIOS table .*{match}"):
            load_tables()
    finally:
        monkeypatch.delenv("VGAEMU_ROM_PATH")
        load_tables.cache_clear()
