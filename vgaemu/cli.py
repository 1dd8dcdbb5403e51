"""The ``vgaemu`` command line (also ``python -m vgaemu``)."""

from __future__ import annotations

import argparse

from vgaemu import __version__


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="vgaemu", description=__doc__)
    parser.add_argument("--version", action="version", version=f"vgaemu {__version__}")
    return parser


def main(argv: list[str] | None = None) -> int:
    build_parser().parse_args(argv)
    return 0
