"""Finding ROM files (fonts, BIOS tables): ``$VGAEMU_ROM_PATH`` first, then the package's own
``vgaemu/roms/`` data, as QEMU looks in its ``-L`` data directories before the built-in one.

The built-in directory is reached through ``importlib.resources``, so an installed wheel finds
its data wherever site-packages is, and a checkout finds ``vgaemu/roms/`` next to the code.
"""

from __future__ import annotations

import os
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path

from vgaemu.errors import ROMNotFoundError

#: The package's own ROM directory (``vgaemu/roms/``, package data).
DEFAULT_ROM_DIR: Traversable = resources.files("vgaemu").joinpath("roms")


def rom_dirs() -> list[Traversable]:
    """The directories searched, in order: each entry of ``$VGAEMU_ROM_PATH``
    (``os.pathsep``-separated, empty entries skipped), then the package's ``roms/``."""
    dirs: list[Traversable] = [Path(p) for p in os.environ.get("VGAEMU_ROM_PATH", "").split(os.pathsep) if p]
    dirs.append(DEFAULT_ROM_DIR)
    return dirs


def rom_path(name: str) -> Traversable:
    """Return ROM file ``name`` (a plain file name or a relative path such as
    ``vgabios/vgabios.json``); read it with ``.read_bytes()`` / ``.read_text()``."""
    if not name or Path(name).is_absolute() or ".." in Path(name).parts:
        raise ROMNotFoundError(f"bad ROM name {name!r}: expected a relative file name such as 'vgafont16.bin'")
    searched = rom_dirs()
    for d in searched:
        candidate = d.joinpath(*Path(name).parts)
        if candidate.is_file():
            return candidate
    raise ROMNotFoundError(
        f"ROM file {name!r} not found in {', '.join(str(d) for d in searched)} "
        "(set VGAEMU_ROM_PATH to add a directory)"
    )
