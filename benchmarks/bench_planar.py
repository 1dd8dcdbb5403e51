"""The legacy VGA window: per-unit callbacks vs the block hooks, in one run.

    .venv/bin/python benchmarks/bench_planar.py [--repeat N]

Two vgaemu.Machines: on one, ``vga-lowmem`` keeps its read_block/write_block hooks (an access
over several bytes is one vectorised call); on the other they are removed, so guestmem splits
every access into 4-byte units and the window runs its per-byte logic (the path every access
took before the hooks). Each case runs on both and prints the medians and the speed-up:

  mode 12h fill      38,400 bytes (640x480 planar, write mode 0, all planes) to A0000
  mode 12h read      38,400 bytes read back (read mode 0: latches + plane select)
  mode 13h fill      64,000 bytes through the planar window in chain-4 (GR6 set to the
                     128K map, so no chain-4 RAM alias answers instead)
  mode 13h fill (alias)  the same with the BIOS's GR6: the chain-4 alias serves it as RAM
                     (both columns should match: the window is not involved)
  text screen write  80x25 char/attr words (4,000 bytes, odd/even) to B8000
  BIOS mode 03h/12h/13h set  INT 10h AH=00h (clears the screen through the window)
  BIOS scroll 12h    INT 10h AH=06h, a full-screen scroll by one text row in mode 12h
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from vgaemu.machine import Machine  # noqa: E402

A000 = 0xA0000
B800 = 0xB8000


def machine(bulk: bool) -> Machine:
    m = Machine()
    if not bulk:
        ops = m.vga.lowmem.ops
        ops.read_block = ops.write_block = None
    m.bios.call(0x0003)
    return m


def _mode(m: Machine, mode: int) -> None:
    m.bios.call(mode)
    m.vga.update_display()


def cases(rng: np.random.Generator):
    fill12 = rng.integers(0, 256, 38400, dtype=np.uint8).tobytes()
    fill13 = rng.integers(0, 256, 64000, dtype=np.uint8).tobytes()
    text = rng.integers(0, 256, 4000, dtype=np.uint8).tobytes()

    def set12(m):
        _mode(m, 0x12)

    def set13_window(m):
        _mode(m, 0x13)
        m.address_space_io.stw_le(0x3CE, 0x0106)  # GR6: graphics, 128K map at A0000

    def set13(m):
        _mode(m, 0x13)

    def set3(m):
        _mode(m, 0x03)

    read_buf = bytearray(38400)
    return [
        ("mode 12h fill", set12, lambda m: m.address_space_memory.write(A000, fill12)),
        ("mode 12h read", set12, lambda m: m.address_space_memory.read(A000, read_buf)),
        ("mode 13h fill", set13_window, lambda m: m.address_space_memory.write(A000, fill13)),
        ("mode 13h fill (alias)", set13, lambda m: m.address_space_memory.write(A000, fill13)),
        ("text screen write", set3, lambda m: m.address_space_memory.write(B800, text)),
        ("BIOS mode 03h set", set3, lambda m: m.bios.call(0x0003)),
        ("BIOS mode 12h set", set3, lambda m: m.bios.call(0x0012)),
        ("BIOS mode 13h set", set3, lambda m: m.bios.call(0x0013)),
        ("BIOS scroll 12h", set12, lambda m: m.bios.call(0x0601, bx=0x0700, cx=0x0000,
                                                         dx=0x1D4F)),
    ]


def timed(m: Machine, setup, op, repeat: int) -> float:
    out = []
    for _ in range(repeat):
        setup(m)
        t = time.perf_counter()
        op(m)
        out.append(time.perf_counter() - t)
    return statistics.median(out)


def check_same(a: Machine, b: Machine, name: str) -> None:
    """Both paths must leave the same VRAM and latches (the property test proves it for
    random states; this guards the numbers printed here)."""
    if not (np.array_equal(a.vga.vram, b.vga.vram) and a.vga.state.latch == b.vga.state.latch):
        raise SystemExit(f"{name}: per-unit and block paths disagree -- not a benchmark")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args(argv)
    slow, fast = machine(False), machine(True)
    print(f"{'case':24} {'per-unit ms':>12} {'block ms':>10} {'speed-up':>9}")
    for name, setup, op in cases(np.random.default_rng(0)):
        t_slow = timed(slow, setup, op, args.repeat)
        t_fast = timed(fast, setup, op, args.repeat)
        check_same(slow, fast, name)
        print(f"{name:24} {t_slow * 1e3:12.3f} {t_fast * 1e3:10.3f} {t_slow / t_fast:8.1f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
