"""BIOS characters in graphics modes: each vectorised path vs the loop it replaces, in one run.

    .venv/bin/python benchmarks/bench_bios_chars.py [--count N] [--repeat R] [--chars C]

Both paths of each pair run on fresh machines in this process, alternately:

* INT 10h AH=09h with a count in mode 12h: the loop is what SeaVGABIOS does (and what vgaemu
  did before: one glyph at a time, plane by plane), forced by disabling
  VgaFB.planar_write_char_run. Prints the medians and the speed-up for CX=N (default 2,000:
  the loop takes several seconds per 1,000 characters), then the run's time for CX=0xFFFF.
* INT 10h AH=0Eh (teletype), C characters (default 400) in the packed and CGA modes: the
  glyph writers (a table look-up per glyph byte) vs the per-scanline GO_WRITE8 loop, forced
  by disabling VgaFB._packed_write_glyph and _cga_write_glyph. Per character, with the
  teletype's cursor and register work that both share.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from vgaemu.bios import Registers, VGABios  # noqa: E402
from vgaemu.bios.vgafb import VgaFB  # noqa: E402
from vgaemu.machine import Machine  # noqa: E402


def one(count: int, vectorised: bool) -> float:
    m = Machine()
    bios = VGABios(m)
    bios.int10(Registers(ax=0x12))
    saved = VgaFB.planar_write_char_run
    if not vectorised:
        VgaFB.planar_write_char_run = lambda *a, **k: False
    try:
        t0 = time.perf_counter()
        bios.int10(Registers(ax=0x0941, bx=0x000E, cx=count))
        return time.perf_counter() - t0
    finally:
        VgaFB.planar_write_char_run = saved


def teletype(mode: int, chars: int, writers: bool) -> float:
    """Seconds per character of AH=0Eh in ``mode`` (no scrolling: the text fits the screen)."""
    m = Machine()
    bios = VGABios(m)
    if mode > 0xFF:
        bios.int10(Registers(ax=0x4F02, bx=mode))
    else:
        bios.int10(Registers(ax=mode))
    saved = VgaFB._packed_write_glyph, VgaFB._cga_write_glyph
    if not writers:
        VgaFB._packed_write_glyph = VgaFB._cga_write_glyph = lambda *a: False
    try:
        text = [Registers(ax=0x0E00 | c, bx=0x000E) for c in (b"Hello, VGA! " * chars)[:chars]]
        t0 = time.perf_counter()
        for regs in text:
            bios.int10(regs)
        return (time.perf_counter() - t0) / chars
    finally:
        VgaFB._packed_write_glyph, VgaFB._cga_write_glyph = saved


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--count", type=int, default=2000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--chars", type=int, default=400)
    args = ap.parse_args()
    for mode, name in ((0x13, "13h 320x200x8"), (0x04, "04h CGA 2 bpp"), (0x06, "06h CGA 1 bpp"),
                       (0x101, "VBE 101h 640x480x8")):
        loop, glyph = [], []
        for _ in range(max(args.repeat, 5)):
            loop.append(teletype(mode, args.chars, False))
            glyph.append(teletype(mode, args.chars, True))
        lm, gm = statistics.median(loop), statistics.median(glyph)
        print(f"AH=0Eh {name:19}: scanline loop {lm * 1e6:6.1f} us/char   glyph writer "
              f"{gm * 1e6:6.1f} us/char   speed-up {lm / gm:4.2f}x")
    loop = statistics.median(one(args.count, False) for _ in range(args.repeat))
    run = statistics.median(one(args.count, True) for _ in range(args.repeat))
    print(f"AH=09h CX={args.count} mode 12h: loop {loop * 1e3:9.1f} ms   vectorised "
          f"{run * 1e3:7.1f} ms   speed-up {loop / run:6.1f}x")
    full = statistics.median(one(0xFFFF, True) for _ in range(args.repeat))
    print(f"AH=09h CX=0xFFFF mode 12h: vectorised {full * 1e3:.1f} ms "
          f"(the loop: about {loop / args.count * 0xFFFF:.0f} s at the rate above)")


if __name__ == "__main__":
    main()
