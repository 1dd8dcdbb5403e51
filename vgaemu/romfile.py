"""Finding ROM files (fonts, BIOS tables): ``$VGAEMU_ROM_PATH`` first, then the repository's
``roms/`` directory, as QEMU looks in its ``-L`` data directories before the built-in one."""

from __future__ import annotations

import os
from pathlib import Path

from vgaemu.errors import ROMNotFoundError

#: The repository's own ROM directory (``roms/`` next to the ``vgaemu`` package).
DEFAULT_ROM_DIR = Path(__file__).resolve().parent.parent / "roms"


def rom_dirs() -> list[Path]:
    """The directories searched, in order: each entry of ``$VGAEMU_ROM_PATH``
    (``os.pathsep``-separated, empty entries skipped), then the repository's ``roms/``."""
    dirs = [Path(p) for p in os.environ.get("VGAEMU_ROM_PATH", "").split(os.pathsep) if p]
    dirs.append(DEFAULT_ROM_DIR)
    return dirs


def rom_path(name: str) -> Path:
    """Return the path of ROM file ``name`` (a plain file name or a relative path)."""
    if not name or Path(name).is_absolute() or ".." in Path(name).parts:
        raise ROMNotFoundError(f"bad ROM name {name!r}: expected a relative file name such as 'vgafont16.bin'")
    searched = rom_dirs()
    for d in searched:
        candidate = d / name
        if candidate.is_file():
            return candidate
    raise ROMNotFoundError(
        f"ROM file {name!r} not found in {', '.join(str(d) for d in searched)} "
        "(set VGAEMU_ROM_PATH to add a directory)"
    )
