"""INT 10h AH=09h with a count in mode 12h: the vectorised run vs the character loop, in one run.

    .venv/bin/python benchmarks/bench_bios_chars.py [--count N] [--repeat R]

Both paths run on fresh machines in this process: the loop is what SeaVGABIOS does (and what
vgaemu did before: one glyph at a time, plane by plane), forced by disabling
VgaFB.planar_write_char_run. Prints the medians and the speed-up for CX=N (default 2,000:
the loop takes several seconds per 1,000 characters), then the run's time for CX=0xFFFF.
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


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--count", type=int, default=2000)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    loop = statistics.median(one(args.count, False) for _ in range(args.repeat))
    run = statistics.median(one(args.count, True) for _ in range(args.repeat))
    print(f"AH=09h CX={args.count} mode 12h: loop {loop * 1e3:9.1f} ms   vectorised "
          f"{run * 1e3:7.1f} ms   speed-up {loop / run:6.1f}x")
    full = statistics.median(one(0xFFFF, True) for _ in range(args.repeat))
    print(f"AH=09h CX=0xFFFF mode 12h: vectorised {full * 1e3:.1f} ms "
          f"(the loop: about {loop / args.count * 0xFFFF:.0f} s at the rate above)")


if __name__ == "__main__":
    main()
