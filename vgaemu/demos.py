"""The demo guests that ship with vgaemu (package data in ``vgaemu/roms/demos/``).

``vgaemu run plasma``, ``vgaemu demos`` and ``load_script("plasma")`` all find a demo by its
name here, so an installed wheel runs the same demos as a checkout.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from importlib import resources
from pathlib import Path


@dataclass(frozen=True, slots=True)
class Demo:
    name: str
    path: Path
    summary: str    # the first paragraph of the script's docstring, on one line


def demo_dir() -> Path:
    """``vgaemu/roms/demos/`` of the installed package (a real directory: setuptools installs
    package data as files, and a guest script is compiled from its path)."""
    return Path(str(resources.files("vgaemu").joinpath("roms", "demos")))


def demo_names() -> list[str]:
    return sorted(p.stem for p in demo_dir().glob("*.py") if not p.name.startswith("_"))


def demo_path(name: str) -> Path | None:
    """The script of demo ``name`` (``plasma`` or ``plasma.py``), or None."""
    stem = name[:-3] if name.endswith(".py") else name
    if not stem or "/" in stem or "\\" in stem or stem.startswith((".", "_")):
        return None
    p = demo_dir() / f"{stem}.py"
    return p if p.is_file() else None


def _summary(path: Path) -> str:
    try:
        doc = ast.get_docstring(ast.parse(path.read_text(encoding="utf-8"))) or ""
    except (OSError, SyntaxError, UnicodeDecodeError):
        return ""
    return " ".join(doc.split("\n\n", 1)[0].split())


def list_demos() -> list[Demo]:
    """Every demo, by name, with its one-paragraph summary (read without running the script)."""
    return [Demo(n, demo_dir() / f"{n}.py", _summary(demo_dir() / f"{n}.py")) for n in demo_names()]
